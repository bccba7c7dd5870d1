//! Routes that exist only when `ENABLE_TEST_ROUTES=true` (local test runs):
//! the format's interop with the CLI, and its throughput in wasm.
//!
//! The Workers clock does not advance during CPU work, so the benchmark
//! cannot time itself: the client times each request, and the `generate`
//! mode (the same work without cryptography) is the baseline it subtracts.

use super::http::built;
use super::memory::wasm_memory_bytes;
use super::respond;
use super::shared::keyring;
use crate::config::Config;
use crate::error::ApiError;
use crate::format::{BackupId, Decryptor, Encryptor};
use serde_json::json;
use worker::{Request, Response};

/// The largest benchmark run, to keep a mistaken call from pinning the CPU.
const MAX_BENCH_MIB: usize = 1_024;
const MIB: usize = 1 << 20;

/// `POST /v1/test/encrypt?id=`: the body, encrypted with the current key.
pub async fn encrypt(req: &mut Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let backup_id = backup_id(req)?;
    let plaintext = body(req).await?;
    let mut encryptor = Encryptor::with_random_salt(keyring.current(), &backup_id)
        .map_err(|_| ApiError::internal("drawing a random salt"))?;
    let mut object = Vec::with_capacity(plaintext.len() + plaintext.len() / 1024 + 256);
    encryptor.update(&plaintext, &mut object);
    encryptor.finish(&mut object);
    built(respond::bytes(object))
}

/// `POST /v1/test/decrypt?id=`: the body authenticated and decrypted, or the
/// format error as 422 with its code and stage.
pub async fn decrypt(req: &mut Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let backup_id = backup_id(req)?;
    let object = body(req).await?;
    let mut decryptor = Decryptor::new(keyring, Some(&backup_id));
    let mut plaintext = Vec::with_capacity(object.len());
    let outcome = decryptor
        .update(&object, &mut plaintext)
        .and_then(|()| decryptor.finish(&mut plaintext));
    match outcome {
        Ok(_) => built(respond::bytes(plaintext)),
        Err(error) => built(respond::json(
            422,
            &json!({ "error": { "code": error.code(), "stage": error.stage().to_string(), "message": error.to_string() } }),
        )),
    }
}

/// `POST /v1/test/bench?op=generate|encrypt|roundtrip&mib=N`: streams N MiB
/// of generated SQL through nothing, the encryptor, or encryptor and
/// decryptor, one MiB at a time, and reports sizes and wasm memory.
pub fn bench(req: &Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let url = req
        .url()
        .map_err(|_| ApiError::BadRequest("the request URL is malformed".into()))?;
    let mut op = String::from("roundtrip");
    let mut mib = 16usize;
    for (name, value) in url.query_pairs() {
        match name.as_ref() {
            "op" => op = value.into_owned(),
            "mib" => {
                mib = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_BENCH_MIB).contains(n))
                    .ok_or_else(|| {
                        ApiError::BadRequest(format!("mib must be 1 to {MAX_BENCH_MIB}"))
                    })?
            }
            _ => {}
        }
    }
    let (encrypting, decrypting) = match op.as_str() {
        "generate" => (false, false),
        "encrypt" => (true, false),
        "roundtrip" => (true, true),
        _ => {
            return Err(ApiError::BadRequest(
                "op must be generate, encrypt or roundtrip".into(),
            ))
        }
    };
    let backup_id =
        BackupId::parse("bench").map_err(|_| ApiError::internal("building the bench id"))?;
    let mut encryptor = Encryptor::with_random_salt(keyring.current(), &backup_id)
        .map_err(|_| ApiError::internal("drawing a random salt"))?;
    let mut decryptor = Decryptor::new(keyring, Some(&backup_id));
    let mut piece = sql_like_mebibyte();
    let (mut ciphertext, mut plaintext) = (
        Vec::with_capacity(MIB + 4096),
        Vec::with_capacity(MIB + 4096),
    );
    let mut checksum = 0u64;
    for index in 0..mib {
        piece[..8].copy_from_slice(&(index as u64).to_be_bytes());
        checksum = checksum.wrapping_add(u64::from(piece[index % MIB]));
        if encrypting {
            ciphertext.clear();
            encryptor.update(&piece, &mut ciphertext);
            if decrypting {
                plaintext.clear();
                decryptor
                    .update(&ciphertext, &mut plaintext)
                    .map_err(|e| ApiError::internal(format!("bench decrypt: {}", e.code())))?;
            }
        }
    }
    ciphertext.clear();
    let summary = encryptor.finish(&mut ciphertext);
    let decrypted_bytes = if decrypting {
        plaintext.clear();
        decryptor
            .update(&ciphertext, &mut plaintext)
            .and_then(|()| decryptor.finish(&mut plaintext))
            .map_err(|e| ApiError::internal(format!("bench decrypt: {}", e.code())))?
            .plaintext_bytes
    } else {
        0
    };
    built(respond::json(
        200,
        &json!({
            "op": op,
            "mib": mib,
            "plaintext_bytes": if encrypting { summary.plaintext_bytes } else { (mib * MIB) as u64 },
            "ciphertext_bytes": if encrypting { summary.ciphertext_bytes } else { 0 },
            "decrypted_bytes": decrypted_bytes,
            "checksum": checksum,
            "wasm_memory_bytes": wasm_memory_bytes(),
        }),
    ))
}

fn backup_id(req: &Request) -> Result<BackupId, ApiError> {
    let url = req
        .url()
        .map_err(|_| ApiError::BadRequest("the request URL is malformed".into()))?;
    let id = url
        .query_pairs()
        .find(|(name, _)| name == "id")
        .map(|(_, value)| value.into_owned())
        .ok_or_else(|| {
            ApiError::BadRequest("the query parameter id (a backup id) is required".into())
        })?;
    BackupId::parse(&id).map_err(|error| ApiError::BadRequest(error.to_string()))
}

async fn body(req: &mut Request) -> Result<Vec<u8>, ApiError> {
    req.bytes()
        .await
        .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))
}

/// One MiB of text shaped like our dumps: multi-row INSERTs of quoted values.
fn sql_like_mebibyte() -> Vec<u8> {
    let mut out = Vec::with_capacity(MIB + 256);
    let mut row = 0u64;
    while out.len() < MIB {
        let line = format!(
            "INSERT INTO \"tasks\" VALUES({row},'task {row}: it''s done — ✓',X'{:016x}',{}.25,NULL);\n",
            row.wrapping_mul(0x9e37_79b9_7f4a_7c15),
            row % 977
        );
        out.extend_from_slice(line.as_bytes());
        row += 1;
    }
    out.truncate(MIB);
    out
}
