//! The CLI's happy paths: encrypt → verify → decrypt, inspect, keygen,
//! manifests, previous keys, help.

mod cli_support;

use std::fs;

use cli_support::{key_id, noisy_sql, sql, Cli, KEY_A, KEY_B};

/// Chunks and payload bytes of an intact object of `size` bytes whose
/// backup id is `id_len` bytes, at the default chunk size.
fn layout(size: u64, id_len: usize) -> (u64, u64) {
    let body = size - d1_vault::format::header_len(id_len) as u64;
    let chunks = body.div_ceil(65_536 + 16);
    (chunks, body - 16 * chunks)
}

#[test]
fn encrypt_verify_decrypt_round_trip() {
    let cli = Cli::new();
    let input = noisy_sql(600_000);
    let object = cli.encrypt(&input, "20260101T020000Z-cli", "backup.sql.enc");
    let size = fs::metadata(&object).unwrap().len();
    let (chunks, _) = layout(size, "20260101T020000Z-cli".len());
    assert!(chunks > 2, "{chunks} chunks");

    let report = cli
        .run(&["verify", "backup.sql.enc"])
        .expect(0)
        .stdout_text();
    assert!(
        report.starts_with("ok: backup.sql.enc is intact"),
        "{report}"
    );
    assert!(report.contains("20260101T020000Z-cli"));
    assert!(report.contains(&key_id(KEY_A)));

    let json = cli.run(&["verify", "backup.sql.enc", "--json"]).expect(0);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["ok"], true);
    assert_eq!(json["plaintext"]["bytes"], 600_000);
    assert_eq!(json["chunks"], chunks);
    assert_eq!(
        json["ciphertext"]["bytes"],
        fs::metadata(&object).unwrap().len()
    );

    cli.run(&[
        "decrypt",
        "backup.sql.enc",
        "-o",
        "restored.sql",
        "--id",
        "20260101T020000Z-cli",
    ])
    .expect(0);
    assert!(fs::read(cli.path("restored.sql")).unwrap() == input);
    assert_eq!(cli.files(), ["backup.sql.enc", "restored.sql"]);

    let stdout = cli.run(&["decrypt", "backup.sql.enc", "-o", "-"]).expect(0);
    assert!(stdout.stdout == input);
}

#[test]
fn encrypt_reads_stdin_and_writes_stdout_with_a_fresh_salt() {
    let cli = Cli::new();
    let input = sql(70_000);
    let first = cli
        .run_with_stdin(&["encrypt", "-", "--id", "b1", "-o", "-"], &input)
        .expect(0);
    let second = cli
        .run_with_stdin(&["encrypt", "-", "--id", "b1", "-o", "-"], &input)
        .expect(0);
    assert_ne!(first.stdout, second.stdout, "every object has its own salt");
    cli.write("a.enc", &first.stdout);
    let out = cli.run(&["decrypt", "a.enc", "-o", "-"]).expect(0);
    assert!(out.stdout == input);
}

#[test]
fn manifest_checks_pass_and_unknown_fields_are_ignored() {
    let cli = Cli::new();
    let object = cli.encrypt(&sql(150_000), "b-manifest", "b.enc");
    let (manifest, _) = cli.manifest(&object, "b.manifest.json");
    let manifest = manifest.to_str().unwrap();
    let report = cli
        .run(&["verify", "b.enc", "--manifest", manifest])
        .expect(0)
        .stdout_text();
    assert!(report.contains("manifest     matches"), "{report}");
    cli.run(&["decrypt", "b.enc", "--manifest", manifest, "-o", "b.sql"])
        .expect(0);
    assert_eq!(fs::read(cli.path("b.sql")).unwrap(), sql(150_000));
}

#[test]
fn previous_keys_open_older_backups() {
    let mut cli = Cli::new();
    cli.encrypt(b"SELECT 1;\n", "old", "old.enc");
    cli.key = Some(KEY_B.into());
    cli.previous = Some(format!(" {KEY_A} ,"));
    let out = cli.run(&["decrypt", "old.enc", "-o", "-"]).expect(0);
    assert_eq!(out.stdout, b"SELECT 1;\n");
}

#[test]
fn empty_input_round_trips() {
    let cli = Cli::new();
    cli.encrypt(b"", "empty", "empty.enc");
    let out = cli
        .run(&["decrypt", "empty.enc", "-o", "empty.sql"])
        .expect(0);
    assert!(out.stdout.is_empty());
    assert_eq!(fs::read(cli.path("empty.sql")).unwrap(), b"");
}

#[test]
fn inspect_needs_no_key() {
    let mut cli = Cli::new();
    let object = cli.encrypt(&noisy_sql(300_000), "b-inspect", "i.enc");
    let (chunks, payload) = layout(fs::metadata(&object).unwrap().len(), "b-inspect".len());
    cli.key = None;
    let text = cli.run(&["inspect", "i.enc"]).expect(0).stdout_text();
    assert!(text.contains("backup id    b-inspect"), "{text}");
    assert!(text.contains(&format!("key id       {}", key_id(KEY_A))));
    assert!(text.contains(", DEFLATE frames\n"), "{text}");
    assert!(
        text.contains(&format!(
            "{chunks} chunks, {payload} bytes of compressed SQL"
        )),
        "{text}"
    );
    let json = cli.run(&["inspect", "i.enc", "--json"]).expect(0);
    let json: serde_json::Value = serde_json::from_slice(&json.stdout).unwrap();
    assert_eq!(json["backup_id"], "b-inspect");
    assert_eq!(json["chunk_size"], 65536);
    assert_eq!(json["payload_bytes_if_intact"], payload);
    assert_eq!(json["compressed"], true);
    assert_eq!(json["authenticated"], false);
}

#[test]
fn keygen_prints_a_key_and_its_id() {
    let mut cli = Cli::new();
    cli.key = None;
    let run = cli.run(&["keygen"]).expect(0);
    let key = run.stdout_text();
    let key = key.strip_suffix('\n').unwrap();
    assert_eq!(key.len(), 64);
    assert!(run.stderr.contains(&key_id(key)));
    assert!(!run.stderr.contains(key), "the key goes to stdout only");
    let other = cli.run(&["keygen"]).expect(0).stdout_text();
    assert_ne!(other.trim(), key);
}

#[test]
fn help_documents_every_command_and_the_exit_codes() {
    let cli = Cli::new();
    let help = cli.run(&["--help"]).expect(0).stdout_text();
    for verb in ["decrypt", "verify", "encrypt", "inspect", "keygen"] {
        assert!(
            help.contains(&format!("  {verb}")),
            "{verb} missing from help"
        );
        let usage = cli.run(&[verb, "--help"]).expect(0).stdout_text();
        assert!(
            usage.starts_with(&format!("Usage: d1-vault {verb}")),
            "{usage}"
        );
        assert!(
            usage.contains("Exit status"),
            "{verb} help lacks exit codes"
        );
        assert_eq!(cli.run(&["help", verb]).expect(0).stdout_text(), usage);
    }
    assert!(help.contains("3  I/O or configuration error"));
    for verb in [
        "backup", "validate", "restore", "import", "jobs", "job", "cancel",
    ] {
        assert!(
            help.contains(&format!("\n  {verb} ")),
            "{verb} missing from help"
        );
    }
    assert!(
        help.contains("130  Ctrl-C stopped following a job; the job goes on in the worker"),
        "{help}"
    );
}
