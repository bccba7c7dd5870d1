//! Native throughput of the object format: encrypts and decrypts generated
//! SQL-like text (256 MiB by default) in 1 MiB pieces, streaming, and reports
//! MB/s for each direction and the peak resident memory (VmHWM).
//!
//! `cargo run --release --example bench_format [-- --mib N]`
//!
//! Prints a few lines of text, then one JSON line for scripts. It asserts
//! nothing about time; it does check that the round trip is exact.

use std::time::{Duration, Instant};

use d1_vault::format::{BackupId, Decryptor, Encryptor, Keyring, MasterKey};
use sha2::{Digest, Sha256};

const MIB: usize = 1024 * 1024;
const DEFAULT_MIB: usize = 256;

fn main() -> Result<(), String> {
    let mib = parse_mib()?;
    let key = MasterKey::from_bytes([0x5a; 32]);
    let keyring = Keyring::new(key.clone());
    let id: BackupId = "bench".parse().map_err(|e| format!("{e}"))?;
    let mut encryptor = Encryptor::new(&key, &id, [0x17; 32]);
    let mut decryptor = Decryptor::new(&keyring, Some(&id));

    let mut piece = sql_like_mebibyte();
    let mut sealed = Vec::with_capacity(MIB + 64 * 1024);
    let mut opened = Vec::with_capacity(MIB + 64 * 1024);
    let mut input_hash = Sha256::new();
    let (mut encrypting, mut decrypting) = (Duration::ZERO, Duration::ZERO);
    for index in 0..mib {
        // Vary each piece a little so the stream is not periodic.
        piece[..20].copy_from_slice(format!("-- piece {index:>10}\n").as_bytes());
        input_hash.update(&piece);

        let start = Instant::now();
        encryptor.update(&piece, &mut sealed);
        encrypting += start.elapsed();

        let start = Instant::now();
        decryptor
            .update(&sealed, &mut opened)
            .map_err(|e| format!("decrypting: {e}"))?;
        decrypting += start.elapsed();
        sealed.clear();
        opened.clear();
    }
    let start = Instant::now();
    let written = encryptor.finish(&mut sealed);
    encrypting += start.elapsed();
    let start = Instant::now();
    decryptor
        .update(&sealed, &mut opened)
        .map_err(|e| format!("decrypting: {e}"))?;
    let read = decryptor
        .finish(&mut opened)
        .map_err(|e| format!("decrypting: {e}"))?;
    decrypting += start.elapsed();

    let expected: [u8; 32] = input_hash.finalize().into();
    if read.plaintext_sha256.0 != expected || written.plaintext_sha256.0 != expected {
        return Err("the round trip changed the data".into());
    }
    let megabytes = (mib * MIB) as f64 / 1e6;
    let encrypt_mbps = megabytes / encrypting.as_secs_f64();
    let decrypt_mbps = megabytes / decrypting.as_secs_f64();
    let peak_rss_kib = peak_rss_kib();
    println!("d1-vault format benchmark: {mib} MiB of SQL-like text in 1 MiB pieces");
    println!(
        "  encrypt  {encrypt_mbps:8.1} MB/s  ({:.3} s, includes SHA-256 of both sides)",
        encrypting.as_secs_f64()
    );
    println!(
        "  decrypt  {decrypt_mbps:8.1} MB/s  ({:.3} s, includes SHA-256 of both sides)",
        decrypting.as_secs_f64()
    );
    println!("  chunks   {} of {} bytes", read.chunks, read.chunk_size);
    match peak_rss_kib {
        Some(kib) => println!("  peak RSS {:.1} MiB (VmHWM)", kib as f64 / 1024.0),
        None => println!("  peak RSS unknown (no /proc/self/status)"),
    }
    println!(
        "{}",
        serde_json::json!({
            "bench": "format_native",
            "mib": mib,
            "encrypt_mb_per_s": (encrypt_mbps * 10.0).round() / 10.0,
            "decrypt_mb_per_s": (decrypt_mbps * 10.0).round() / 10.0,
            "encrypt_seconds": encrypting.as_secs_f64(),
            "decrypt_seconds": decrypting.as_secs_f64(),
            "chunks": read.chunks,
            "peak_rss_kib": peak_rss_kib,
        })
    );
    Ok(())
}

fn parse_mib() -> Result<usize, String> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    match args.as_slice() {
        [] => Ok(DEFAULT_MIB),
        [flag, value] if flag == "--mib" => value
            .parse()
            .ok()
            .filter(|&n| n > 0)
            .ok_or_else(|| format!("--mib needs a positive number, got {value:?}")),
        _ => Err("usage: bench_format [--mib N]".into()),
    }
}

/// 1 MiB of INSERT statements with varied numbers and quoted text.
fn sql_like_mebibyte() -> Vec<u8> {
    let mut text = Vec::with_capacity(MIB + 128);
    let mut row: u64 = 0;
    while text.len() < MIB {
        let line = format!(
            "INSERT INTO \"orders\" VALUES({row},{},'customer {}','it''s item #{}',{}.{:02},X'{:08x}');\n",
            row.wrapping_mul(2_654_435_761) % 1_000_000,
            row % 9973,
            row * 7 % 1000,
            row % 500,
            row % 100,
            row.wrapping_mul(0x9e37_79b9),
        );
        text.extend_from_slice(line.as_bytes());
        row += 1;
    }
    text.truncate(MIB);
    text
}

/// Peak resident set size in KiB, from `/proc/self/status` (Linux).
fn peak_rss_kib() -> Option<u64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    line.split_whitespace().nth(1)?.parse().ok()
}
