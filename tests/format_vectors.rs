//! Runs every committed test vector in `tests/vectors/` and checks its exact
//! outcome: the plaintext digest for valid objects, the error code *and*
//! stage for broken ones, however the object is cut into pieces. Also checks
//! that the committed vectors are exactly what the generator writes today.

#[path = "vectors/generator.rs"]
mod generator;

use std::collections::BTreeSet;
use std::fs;
use std::path::{Path, PathBuf};

use d1_vault::format::{BackupId, Decryptor, Keyring};
use serde_json::Value;
use sha2::{Digest, Sha256};

fn vectors_dir() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/vectors")
}

fn load() -> Vec<Value> {
    let text = fs::read_to_string(vectors_dir().join("vectors.json")).expect("vectors.json");
    let json: Value = serde_json::from_str(&text).expect("vectors.json is JSON");
    json["vectors"].as_array().expect("a vectors array").clone()
}

fn field<'a>(vector: &'a Value, name: &str) -> &'a str {
    vector[name]
        .as_str()
        .unwrap_or_else(|| panic!("{name} missing in {vector}"))
}

/// What reading an object produced.
#[derive(Debug, PartialEq)]
enum Outcome {
    Ok {
        plaintext: Vec<u8>,
        ciphertext_sha256: String,
        ciphertext_bytes: u64,
        backup_id: String,
    },
    Error {
        code: &'static str,
        stage: &'static str,
        released: usize,
    },
}

fn read(bytes: &[u8], keyring: &Keyring, expected: Option<&BackupId>, piece: usize) -> Outcome {
    let mut decryptor = Decryptor::new(keyring, expected);
    let mut plaintext = Vec::new();
    let result = bytes
        .chunks(piece.max(1))
        .try_for_each(|piece| decryptor.update(piece, &mut plaintext))
        .and_then(|()| decryptor.finish(&mut plaintext));
    match result {
        Ok(summary) => Outcome::Ok {
            plaintext,
            ciphertext_sha256: summary.ciphertext_sha256.to_string(),
            ciphertext_bytes: summary.ciphertext_bytes,
            backup_id: summary.backup_id.to_string(),
        },
        Err(err) => Outcome::Error {
            code: err.code(),
            stage: err.stage().as_str(),
            released: plaintext.len(),
        },
    }
}

#[test]
fn every_vector_has_its_exact_outcome_however_it_is_fed() {
    let vectors = load();
    assert!(vectors.len() >= 40, "only {} vectors", vectors.len());
    for vector in &vectors {
        let file = field(vector, "file");
        let bytes = fs::read(vectors_dir().join(file)).expect(file);
        let keys = &vector["keys"];
        let previous: Vec<&str> = keys["previous"]
            .as_array()
            .expect("previous keys")
            .iter()
            .map(|k| k.as_str().expect("hex"))
            .collect();
        let keyring = Keyring::from_values(field(keys, "current"), Some(&previous.join(",")))
            .expect("vector keys");
        let expected: Option<BackupId> = vector["expected_backup_id"]
            .as_str()
            .map(|id| id.parse().expect("valid expected id"));

        let whole = read(&bytes, &keyring, expected.as_ref(), bytes.len());
        for piece in [1, 17, 1000, 1041] {
            let cut = read(&bytes, &keyring, expected.as_ref(), piece);
            assert_eq!(cut, whole, "{file}: fed in pieces of {piece}");
        }

        let context = format!("{file} ({})", field(vector, "description"));
        match (field(vector, "outcome"), whole) {
            (
                "ok",
                Outcome::Ok {
                    plaintext,
                    ciphertext_sha256,
                    ciphertext_bytes,
                    backup_id,
                },
            ) => {
                assert_eq!(
                    plaintext.len() as u64,
                    vector["plaintext_bytes"],
                    "{context}"
                );
                assert_eq!(
                    format!("{:x}", Sha256::digest(&plaintext)),
                    field(vector, "plaintext_sha256"),
                    "{context}"
                );
                assert_eq!(ciphertext_sha256, format!("{:x}", Sha256::digest(&bytes)));
                assert_eq!(ciphertext_bytes, bytes.len() as u64);
                if let Some(expected) = &expected {
                    assert_eq!(backup_id, expected.as_str());
                }
            }
            (
                "error",
                Outcome::Error {
                    code,
                    stage,
                    released,
                },
            ) => {
                assert_eq!(
                    (code, stage),
                    (field(vector, "code"), field(vector, "stage")),
                    "{context}"
                );
                if matches!(stage, "header" | "key") {
                    assert_eq!(
                        released, 0,
                        "{context}: plaintext before the header verified"
                    );
                }
            }
            (outcome, got) => panic!("{context}: expected {outcome}, got {got:?}"),
        }
    }
}

#[test]
fn vectors_cover_every_error_a_crafted_object_can_produce() {
    let codes: BTreeSet<String> = load()
        .iter()
        .filter_map(|v| v["code"].as_str().map(str::to_owned))
        .collect();
    // counter_overflow needs 2^64 chunks and cannot be written down.
    for code in [
        "not_an_object",
        "unsupported_version",
        "unsupported_suite",
        "bad_chunk_size",
        "malformed_header",
        "truncated_header",
        "unknown_key",
        "header_tampered",
        "backup_id_mismatch",
        "chunk_tampered",
        "chunks_reordered",
        "empty_final_chunk",
        "truncated_after_header",
        "truncated_inside_chunk",
        "final_chunk_missing",
        "last_chunk_failed",
        "trailing_data",
    ] {
        assert!(codes.contains(code), "no vector for {code}");
    }
}

#[test]
fn committed_vectors_match_the_generator() {
    let fresh = tempfile::tempdir().expect("temp dir");
    generator::write_all(fresh.path()).expect("generate");
    let listing = |dir: &Path| -> BTreeSet<String> {
        fs::read_dir(dir)
            .expect("read dir")
            .map(|entry| {
                entry
                    .expect("entry")
                    .file_name()
                    .to_string_lossy()
                    .into_owned()
            })
            .filter(|name| name.ends_with(".enc") || name.ends_with(".json"))
            .collect()
    };
    let generated = listing(fresh.path());
    assert_eq!(
        listing(&vectors_dir()),
        generated,
        "tests/vectors is out of date: run scripts/gen-test-vectors"
    );
    for name in &generated {
        let committed = fs::read(vectors_dir().join(name)).expect("committed vector");
        let regenerated = fs::read(fresh.path().join(name)).expect("generated vector");
        assert!(
            committed == regenerated,
            "tests/vectors/{name} is out of date: run scripts/gen-test-vectors"
        );
    }
}
