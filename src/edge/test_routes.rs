//! Routes that exist only when `ENABLE_TEST_ROUTES=true` (local test runs):
//! the format's interop with the CLI and the test vectors, and its
//! throughput in the worker, with frames compressed and chunks sealed by
//! the runtime (WebCrypto, `CompressionStream`) or by the crates in wasm
//! (`engine=web|software`).
//!
//! The Workers clock does not advance during CPU work, so the benchmark
//! cannot time itself: the client times each request, and the `generate`
//! mode (the same work without cryptography) is the baseline it subtracts.

use super::http::built;
use super::memory::wasm_memory_bytes;
use super::respond;
use super::shared::keyring;
use super::web_engine::WebEngine;
use crate::config::Config;
use crate::error::ApiError;
use crate::format::{
    decode_exact, BackupId, ChunkSize, DecryptError, Decryptor, Encryptor, Engine, FormatVersion,
    MasterKey, SoftwareEngine, SALT_SIZE,
};
use serde_json::json;
use worker::{Request, Response};

/// The largest benchmark run, to keep a mistaken call from pinning the CPU.
const MAX_BENCH_MIB: usize = 1_024;
const MIB: usize = 1 << 20;

/// `POST /v1/test/encrypt?id=[&engine=][&salt=&key=&chunk_size=&version=]`:
/// the body, encrypted. By default with the current key, a random salt,
/// 64 KiB chunks, the current format version and the runtime's engine;
/// `salt` and `key` (64 hex digits each, both or neither), `chunk_size` and
/// `version` reproduce a test vector byte for byte.
pub async fn encrypt(req: &mut Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let backup_id = backup_id(req)?;
    let engine = EngineChoice::from_query(req)?;
    let (given_key, salt) = match (query(req, "key")?, query(req, "salt")?) {
        (Some(key), Some(salt)) => (
            Some(MasterKey::from_hex(&key).map_err(|e| ApiError::BadRequest(format!("key: {e}")))?),
            decode_exact::<SALT_SIZE>(&salt)
                .map_err(|_| ApiError::BadRequest("salt must be 64 hex digits".into()))?,
        ),
        (None, None) => {
            let mut salt = [0u8; SALT_SIZE];
            getrandom::getrandom(&mut salt)
                .map_err(|_| ApiError::internal("drawing a random salt"))?;
            (None, salt)
        }
        _ => {
            return Err(ApiError::BadRequest(
                "give both key and salt, or neither".into(),
            ))
        }
    };
    let chunk_size = match query(req, "chunk_size")? {
        Some(size) => size
            .parse()
            .ok()
            .and_then(|size| ChunkSize::new(size).ok())
            .ok_or_else(|| ApiError::BadRequest(format!("chunk_size {size} is not valid")))?,
        None => ChunkSize::DEFAULT,
    };
    let version = match query(req, "version")? {
        Some(version) => version
            .parse()
            .ok()
            .and_then(FormatVersion::from_byte)
            .ok_or_else(|| ApiError::BadRequest(format!("version {version} is not 1 or 2")))?,
        None => FormatVersion::CURRENT,
    };
    let plaintext = body(req).await?;
    let key = given_key.as_ref().unwrap_or(keyring.current());
    let mut encryptor = Encryptor::with_version(version, key, &backup_id, salt, chunk_size);
    let mut object = Vec::with_capacity(plaintext.len() + plaintext.len() / 1024 + 256);
    encryptor
        .update_with(&plaintext, &mut object, engine.get())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    encryptor
        .finish_with(&mut object, engine.get())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    built(respond::bytes(object))
}

/// `POST /v1/test/decrypt?id=[&engine=]`: the body authenticated and
/// decrypted, or the format error as 422 with its code and stage.
pub async fn decrypt(req: &mut Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let backup_id = backup_id(req)?;
    let engine = EngineChoice::from_query(req)?;
    let object = body(req).await?;
    let mut decryptor = Decryptor::new(keyring, Some(&backup_id));
    let mut plaintext = Vec::with_capacity(object.len());
    let outcome = match decryptor
        .update_with(&object, &mut plaintext, engine.get())
        .await
    {
        Ok(()) => decryptor.finish(&mut plaintext),
        Err(DecryptError::Format(error)) => Err(error),
        Err(DecryptError::Crypto(error)) => return Err(ApiError::internal(error.to_string())),
    };
    match outcome {
        Ok(_) => built(respond::bytes(plaintext)),
        Err(error) => built(respond::json(
            422,
            &json!({ "error": { "code": error.code(), "stage": error.stage().to_string(), "message": error.to_string() } }),
        )),
    }
}

/// `POST /v1/test/bench?op=generate|encrypt|roundtrip&mib=N[&engine=]`:
/// streams N MiB of generated SQL through nothing, the encryptor, or
/// encryptor and decryptor, one MiB at a time, and reports sizes and wasm
/// memory.
pub async fn bench(req: &Request, config: &Config) -> Result<Response, ApiError> {
    let keyring = keyring(config)?;
    let engine = EngineChoice::from_query(req)?;
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
            encryptor
                .update_with(&piece, &mut ciphertext, engine.get())
                .await
                .map_err(|e| ApiError::internal(e.to_string()))?;
            if decrypting {
                plaintext.clear();
                decryptor
                    .update_with(&ciphertext, &mut plaintext, engine.get())
                    .await
                    .map_err(|e| ApiError::internal(format!("bench decrypt: {e}")))?;
            }
        }
    }
    ciphertext.clear();
    let summary = encryptor
        .finish_with(&mut ciphertext, engine.get())
        .await
        .map_err(|e| ApiError::internal(e.to_string()))?;
    let decrypted_bytes = if decrypting {
        plaintext.clear();
        decryptor
            .update_with(&ciphertext, &mut plaintext, engine.get())
            .await
            .map_err(|e| ApiError::internal(format!("bench decrypt: {e}")))?;
        decryptor
            .finish(&mut plaintext)
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

/// Which engine compresses and seals: `engine=web` (the default, what the
/// worker's jobs use: WebCrypto and `CompressionStream`) or
/// `engine=software` (the `aes-gcm` and `miniz_oxide` crates in wasm).
enum EngineChoice {
    Web(WebEngine),
    Software,
}

impl EngineChoice {
    fn from_query(req: &Request) -> Result<Self, ApiError> {
        match query(req, "engine")?.as_deref() {
            None | Some("web") => Ok(EngineChoice::Web(WebEngine::default())),
            Some("software") => Ok(EngineChoice::Software),
            Some(other) => Err(ApiError::BadRequest(format!(
                "engine must be web or software, not {other}"
            ))),
        }
    }

    fn get(&self) -> &dyn Engine {
        match self {
            EngineChoice::Web(engine) => engine,
            EngineChoice::Software => &SoftwareEngine,
        }
    }
}

/// The query parameter `name`, if given.
fn query(req: &Request, name: &str) -> Result<Option<String>, ApiError> {
    let url = req
        .url()
        .map_err(|_| ApiError::BadRequest("the request URL is malformed".into()))?;
    Ok(url
        .query_pairs()
        .find(|(key, _)| key == name)
        .map(|(_, value)| value.into_owned()))
}

fn backup_id(req: &Request) -> Result<BackupId, ApiError> {
    let id = query(req, "id")?.ok_or_else(|| {
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
