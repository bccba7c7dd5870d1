//! The words operators read: exact error messages, key and keyring parsing,
//! and the decryptor's behaviour around errors.

use d1_vault::format::keys::{BACKUP_ENCRYPTION_KEY, BACKUP_ENCRYPTION_KEYS_PREVIOUS};
use d1_vault::format::{
    parse_header, BackupId, ChunkSize, Decryptor, Encryptor, FormatError, FormatVersion, KeyError,
    Keyring, MasterKey, Stage,
};

const A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const B: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
const C: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

fn key(hex: &str) -> MasterKey {
    MasterKey::from_hex(hex).unwrap()
}

fn id(text: &str) -> BackupId {
    text.parse().unwrap()
}

/// A version 1 object of `len` bytes in 1 KiB chunks: its chunks carry the
/// plaintext itself, so the errors below fall at known offsets (version 2
/// shares the chunk layer; its frames are checked in `format_vectors`).
fn object(key_hex: &str, backup: &str, len: usize) -> Vec<u8> {
    let chunk = ChunkSize::new(1024).unwrap();
    let mut encryptor = Encryptor::with_version(
        FormatVersion::V1,
        &key(key_hex),
        &id(backup),
        [3; 32],
        chunk,
    );
    let mut out = Vec::new();
    encryptor.update(&vec![b'x'; len], &mut out);
    encryptor.finish(&mut out);
    out
}

fn open(object: &[u8], keyring: &Keyring, expected: Option<&str>) -> Result<Vec<u8>, FormatError> {
    let expected = expected.map(id);
    let mut decryptor = Decryptor::new(keyring, expected.as_ref());
    let mut out = Vec::new();
    decryptor.update(object, &mut out)?;
    decryptor.finish(&mut out)?;
    Ok(out)
}

#[test]
fn unknown_key_names_both_sides_and_the_variable_to_set() {
    let keyring = Keyring::from_values(A, Some(B)).unwrap();
    let err = open(&object(C, "b1", 10), &keyring, None).unwrap_err();
    let (a, b, c) = (key(A).id(), key(B).id(), key(C).id());
    assert_eq!(err.code(), "unknown_key");
    assert_eq!(err.stage(), Stage::Key);
    let message = err.to_string();
    assert!(
        message.starts_with(&format!(
            "encrypted with key {c}; available keys: {a}, {b} ("
        )),
        "{message}"
    );
    assert!(
        message.contains(BACKUP_ENCRYPTION_KEYS_PREVIOUS),
        "{message}"
    );
}

#[test]
fn key_lookup_comes_before_any_mac() {
    // Change the key id: the MAC no longer verifies either, but the reader
    // must report the key, since it looks the key up first.
    let mut bytes = object(A, "b1", 10);
    bytes[d1_vault::format::KEY_ID_OFFSET] ^= 1;
    let err = open(&bytes, &Keyring::new(key(A)), None).unwrap_err();
    assert_eq!(err.code(), "unknown_key");
}

#[test]
fn messages_say_what_happened_and_where() {
    let keyring = Keyring::new(key(A));
    let good = object(A, "b1", 3000);

    let err = open(&good, &keyring, Some("b2")).unwrap_err();
    assert!(err
        .to_string()
        .starts_with("this object belongs to backup b1, not b2"));

    let mut swapped = good.clone();
    let header = d1_vault::format::header_len(2);
    let sealed = 1024 + 16;
    let (first, second) = swapped[header..header + 2 * sealed].split_at_mut(sealed);
    first.swap_with_slice(second);
    let err = open(&swapped, &keyring, None).unwrap_err();
    assert_eq!(
        err,
        FormatError::ChunksReordered {
            position: 0,
            actual: 1,
            actual_is_final: false
        }
    );
    assert!(err
        .to_string()
        .starts_with("chunk at position 0 is chunk 1: chunks were reordered"));

    let mut flipped = good.clone();
    flipped[header + sealed + 3] ^= 0x10;
    let err = open(&flipped, &keyring, None).unwrap_err();
    assert!(err.to_string().starts_with("chunk 1 failed authentication"));

    let err = open(&good[..header + 2 * sealed], &keyring, None).unwrap_err();
    assert!(err.to_string().starts_with(
        "the object ends after chunk 1, which is not the final chunk: it was cut short"
    ));

    let err = open(&good[..good.len() - 1], &keyring, None).unwrap_err();
    assert!(err.to_string().starts_with(
        "chunk 2 (the last) failed authentication: the object was cut short inside it or modified; \
         compare its size with the manifest's ciphertext bytes"
    ));

    let err = open(&good[..header + 2 * sealed + 5], &keyring, None).unwrap_err();
    assert!(err.to_string().contains("ends 5 bytes inside chunk 2"));

    let mut versioned = good.clone();
    versioned[8] = 3;
    let err = open(&versioned, &keyring, None).unwrap_err();
    assert!(err.to_string().contains("version 3"));
    assert!(err.to_string().contains("a newer d1-vault may read it"));
}

#[test]
fn every_error_has_a_distinct_code() {
    let errors = [
        FormatError::NotAnObject,
        FormatError::UnsupportedVersion { version: 3 },
        FormatError::UnsupportedSuite { suite: 2 },
        FormatError::BadChunkSize { chunk_size: 3 },
        FormatError::MalformedHeader {
            detail: String::new(),
        },
        FormatError::TruncatedHeader { got: 0 },
        FormatError::UnknownKey {
            found: key(A).id(),
            available: vec![],
        },
        FormatError::HeaderTampered {
            key_id: key(A).id(),
        },
        FormatError::BackupIdMismatch {
            found: id("a"),
            expected: id("b"),
        },
        FormatError::ChunkTampered { index: 0 },
        FormatError::ChunksReordered {
            position: 0,
            actual: 1,
            actual_is_final: true,
        },
        FormatError::EmptyFinalChunk { index: 1 },
        FormatError::CounterOverflow,
        FormatError::TruncatedAfterHeader,
        FormatError::TruncatedInsideChunk { index: 0, got: 1 },
        FormatError::FinalChunkMissing { index: 0 },
        FormatError::LastChunkFailed { index: 0 },
        FormatError::TrailingData { index: 0 },
        FormatError::MalformedFrame {
            index: 0,
            detail: String::new(),
        },
    ];
    let codes: std::collections::BTreeSet<_> = errors.iter().map(FormatError::code).collect();
    assert_eq!(codes.len(), errors.len());
    for err in &errors {
        assert!(["header", "key", "chunk", "end"].contains(&err.stage().as_str()));
    }
}

#[test]
fn a_failed_decryptor_keeps_failing_and_releases_nothing_more() {
    let keyring = Keyring::new(key(A));
    let mut bytes = object(A, "b1", 3000);
    let header = d1_vault::format::header_len(2);
    bytes[header + 1040 + 1] ^= 1;
    let mut decryptor = Decryptor::new(&keyring, None);
    let mut out = Vec::new();
    let err = decryptor.update(&bytes, &mut out).unwrap_err();
    assert_eq!(err, FormatError::ChunkTampered { index: 1 });
    assert_eq!(out.len(), 1024, "only chunk 0 was released");
    assert_eq!(decryptor.update(b"more", &mut out), Err(err.clone()));
    assert_eq!(decryptor.finish(&mut out), Err(err));
    assert_eq!(out.len(), 1024);
}

#[test]
fn the_header_is_available_once_authenticated() {
    let keyring = Keyring::new(key(A));
    let bytes = object(A, "b1", 10);
    let mut decryptor = Decryptor::new(&keyring, None);
    let mut out = Vec::new();
    decryptor.update(&bytes[..50], &mut out).unwrap();
    assert!(decryptor.header().is_none());
    decryptor.update(&bytes[50..], &mut out).unwrap();
    let header = decryptor.header().unwrap();
    assert_eq!(
        (header.backup_id.as_str(), header.key_id),
        ("b1", key(A).id())
    );
    let summary = decryptor.finish(&mut out).unwrap();
    assert_eq!((summary.chunks, summary.plaintext_bytes), (1, 10));

    let info = parse_header(&bytes).unwrap();
    assert_eq!(
        (info.version, info.suite, info.chunk_size.get()),
        (FormatVersion::V1, 1, 1024)
    );
    assert_eq!(info.len, d1_vault::format::header_len(2));
}

#[test]
fn keyring_errors_name_the_variable_and_the_entry() {
    let err = Keyring::from_values("abc", None).unwrap_err();
    assert_eq!(err.variable(), BACKUP_ENCRYPTION_KEY);
    assert_eq!(
        err.to_string(),
        "BACKUP_ENCRYPTION_KEY: expected 64 hex characters, got 3"
    );

    let err = Keyring::from_values(A, Some(&format!(" {B} , ,zz"))).unwrap_err();
    assert_eq!(err.variable(), BACKUP_ENCRYPTION_KEYS_PREVIOUS);
    assert_eq!(err.entry(), Some(2));
    assert_eq!(
        err.to_string(),
        "BACKUP_ENCRYPTION_KEYS_PREVIOUS entry 2: expected 64 hex characters, got 2"
    );

    let bad = format!("{}x", &B[..63]);
    let err = Keyring::from_values(A, Some(&bad)).unwrap_err();
    assert_eq!(err.problem(), KeyError::NotHex { position: 64 });
    assert!(
        !err.to_string().contains(&B[..63]),
        "the value must never be quoted"
    );
}

#[test]
fn keyring_trims_and_finds_keys_by_id() {
    let keyring =
        Keyring::from_values(&format!("{A}\n"), Some(&format!(",{B}, {C},{A},"))).unwrap();
    assert_eq!(keyring.current().id(), key(A).id());
    assert_eq!(keyring.ids(), vec![key(A).id(), key(B).id(), key(C).id()]);
    assert_eq!(keyring.find(&key(C).id()), Some(&key(C)));
    assert!(Keyring::from_values(A, Some(""))
        .unwrap()
        .find(&key(B).id())
        .is_none());
}

#[test]
fn generated_keys_are_random_and_round_trip_through_hex() {
    let one = MasterKey::generate().unwrap();
    let two = MasterKey::generate().unwrap();
    assert_ne!(one, two);
    assert_eq!(MasterKey::from_hex(&one.to_hex()).unwrap(), one);
    assert_eq!(one.to_hex().len(), 64);
    assert!(format!("{one:?}").contains(&one.id().to_string()));
    assert!(!format!("{one:?}").contains(&one.to_hex()));
}

#[test]
fn the_same_salt_key_and_input_give_the_same_bytes() {
    // The WebCrypto path must match these bytes; so must two runs here.
    let a = object(A, "b1", 5000);
    assert_eq!(a, object(A, "b1", 5000));
    let random = Encryptor::with_random_salt(&key(A), &id("b1")).unwrap();
    let mut out = Vec::new();
    random.finish(&mut out);
    assert_ne!(out[22..54], a[22..54], "random salt");
}
