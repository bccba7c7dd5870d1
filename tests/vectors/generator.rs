//! Builds the committed test vectors of the d1-vault object format.
//!
//! Shared by `scripts/gen_test_vectors.rs` (which writes them into
//! `tests/vectors/`) and `tests/format_vectors.rs` (which regenerates them and
//! checks the committed files are byte-identical). Everything is deterministic:
//! fixed keys, salts derived from each vector's name, generated SQL text.
//!
//! THE KEYS HERE ARE PUBLIC TEST KEYS. Never use them for real backups.

use std::fs;
use std::io;
use std::path::Path;

use d1_vault::format::keys::PayloadKey;
use d1_vault::format::{
    seal_header, BackupId, ChunkCipher, ChunkSize, Encryptor, FormatVersion, MasterKey, Nonce,
    BACKUP_ID_LEN_OFFSET, BACKUP_ID_OFFSET, CHUNK_SIZE_OFFSET, FRAME_SQL_BYTES, KEY_ID_OFFSET,
    METHOD_DEFLATE, SALT_OFFSET, SOFTWARE_DEFLATE_LEVEL, SUITE_OFFSET, TAG_SIZE, VERSION_OFFSET,
};
use serde::Serialize;
use sha2::{Digest, Sha256};

/// Test-only current key (bytes 0x00 to 0x1f).
const KEY_CURRENT: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
/// Test-only previous key (bytes 0x20 to 0x3f).
const KEY_PREVIOUS: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
/// Test-only key that no vector's keyring holds (bytes 0x40 to 0x5f).
const KEY_OTHER: &str = "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f";

/// The backup id of every vector.
const BACKUP_ID: &str = "20260101T020000Z-vectors";
/// The same length, another backup: swapped into a header, or expected instead.
const OTHER_BACKUP_ID: &str = "20260102T020000Z-vectors";
/// The chunk size of the small vectors.
const SMALL_CHUNK: u32 = 1024;

/// One entry of `vectors.json`.
#[derive(Serialize)]
struct Vector {
    /// Object file, relative to `tests/vectors/`.
    file: String,
    /// What the vector is and why it must (not) open.
    description: String,
    /// The keyring to open it with (test-only keys, hex).
    keys: Keys,
    /// The backup id the reader expects, if any.
    expected_backup_id: Option<String>,
    /// `ok` or `error`.
    outcome: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_bytes: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    plaintext_sha256: Option<String>,
    #[serde(skip_serializing_if = "Option::is_none")]
    code: Option<&'static str>,
    #[serde(skip_serializing_if = "Option::is_none")]
    stage: Option<&'static str>,
}

#[derive(Serialize, Clone)]
struct Keys {
    current: &'static str,
    previous: Vec<&'static str>,
}

#[derive(Serialize)]
struct Manifest {
    note: &'static str,
    vectors: Vec<Vector>,
}

/// An object, its plaintext and how it was cut into chunks.
struct Object {
    bytes: Vec<u8>,
    plaintext: Vec<u8>,
    header_len: usize,
    sealed_len: usize,
}

impl Object {
    fn header(&self) -> &[u8] {
        &self.bytes[..self.header_len]
    }

    fn chunks(&self) -> Vec<&[u8]> {
        self.bytes[self.header_len..]
            .chunks(self.sealed_len)
            .collect()
    }

    /// The header followed by the chunks at these positions.
    fn with_chunks(&self, order: &[usize]) -> Vec<u8> {
        let chunks = self.chunks();
        let mut bytes = self.header().to_vec();
        for &index in order {
            bytes.extend_from_slice(chunks[index]);
        }
        bytes
    }
}

fn key(hex: &str) -> MasterKey {
    MasterKey::from_hex(hex).expect("test keys are valid hex")
}

fn backup_id(text: &str) -> BackupId {
    text.parse().expect("test backup ids are valid")
}

/// `SHA-256("d1-vault test vector salt" || name)`: a fixed salt per vector.
fn salt(name: &str) -> [u8; 32] {
    Sha256::new()
        .chain_update(b"d1-vault test vector salt")
        .chain_update(name)
        .finalize()
        .into()
}

/// `len` bytes of SQL-like text.
fn sql_text(len: usize) -> Vec<u8> {
    let mut text = Vec::with_capacity(len + 64);
    let mut row = 0u64;
    while text.len() < len {
        text.extend_from_slice(
            format!("INSERT INTO items VALUES({row},'item {row}: it''s fine');\n").as_bytes(),
        );
        row += 1;
    }
    text.truncate(len);
    text
}

/// A version 1 object of `len` bytes of SQL.
fn encrypt(key_hex: &str, name: &str, len: usize, chunk_size: u32) -> Object {
    encrypt_version(FormatVersion::V1, key_hex, name, len, chunk_size)
}

fn encrypt_version(
    version: FormatVersion,
    key_hex: &str,
    name: &str,
    len: usize,
    chunk_size: u32,
) -> Object {
    let chunk_size = ChunkSize::new(chunk_size).expect("vector chunk sizes are valid");
    let plaintext = sql_text(len);
    let mut encryptor = Encryptor::with_version(
        version,
        &key(key_hex),
        &backup_id(BACKUP_ID),
        salt(name),
        chunk_size,
    );
    let mut bytes = Vec::new();
    encryptor.update(&plaintext, &mut bytes);
    encryptor.finish(&mut bytes);
    Object {
        bytes,
        plaintext,
        header_len: d1_vault::format::header_len(BACKUP_ID.len()),
        sealed_len: chunk_size.plaintext_len() + TAG_SIZE,
    }
}

fn flip_bit(mut bytes: Vec<u8>, offset: usize, bit: u8) -> Vec<u8> {
    bytes[offset] ^= 1 << bit;
    bytes
}

fn replace(mut bytes: Vec<u8>, offset: usize, with: &[u8]) -> Vec<u8> {
    bytes[offset..offset + with.len()].copy_from_slice(with);
    bytes
}

fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// Collects files and entries; an entry may reuse an earlier file.
struct Builder {
    files: Vec<(String, Vec<u8>)>,
    vectors: Vec<Vector>,
    keys: Keys,
}

impl Builder {
    fn file(&mut self, name: &str, bytes: Vec<u8>) -> String {
        let file = format!("{name}.enc");
        self.files.push((file.clone(), bytes));
        file
    }

    fn ok(&mut self, name: &str, description: &str, object: &Object) {
        let file = self.file(name, object.bytes.clone());
        self.ok_file(file, description, Some(BACKUP_ID), object);
    }

    fn ok_file(
        &mut self,
        file: String,
        description: &str,
        expected: Option<&str>,
        object: &Object,
    ) {
        self.vectors.push(Vector {
            file,
            description: description.into(),
            keys: self.keys.clone(),
            expected_backup_id: expected.map(str::to_owned),
            outcome: "ok",
            plaintext_bytes: Some(object.plaintext.len() as u64),
            plaintext_sha256: Some(sha256_hex(&object.plaintext)),
            code: None,
            stage: None,
        });
    }

    fn error(
        &mut self,
        name: &str,
        description: &str,
        bytes: Vec<u8>,
        code: &'static str,
        stage: &'static str,
    ) {
        let file = self.file(name, bytes);
        self.error_file(file, description, Some(BACKUP_ID), code, stage);
    }

    fn error_file(
        &mut self,
        file: String,
        description: &str,
        expected: Option<&str>,
        code: &'static str,
        stage: &'static str,
    ) {
        self.vectors.push(Vector {
            file,
            description: description.into(),
            keys: self.keys.clone(),
            expected_backup_id: expected.map(str::to_owned),
            outcome: "error",
            plaintext_bytes: None,
            plaintext_sha256: None,
            code: Some(code),
            stage: Some(stage),
        });
    }
}

/// Every vector: the object files and the text of `vectors.json`.
fn generate() -> (Vec<(String, Vec<u8>)>, String) {
    let mut b = Builder {
        files: Vec::new(),
        vectors: Vec::new(),
        keys: Keys {
            current: KEY_CURRENT,
            previous: vec![KEY_PREVIOUS],
        },
    };
    let c = SMALL_CHUNK as usize;

    // Valid objects.
    let empty = encrypt(KEY_CURRENT, "ok_empty", 0, SMALL_CHUNK);
    b.ok(
        "ok_empty",
        "empty plaintext: header and one empty final chunk",
        &empty,
    );
    let one = encrypt(KEY_CURRENT, "ok_one_byte", 1, SMALL_CHUNK);
    b.ok("ok_one_byte", "1 byte", &one);
    let short = encrypt(KEY_CURRENT, "ok_chunk_minus_one", c - 1, SMALL_CHUNK);
    b.ok(
        "ok_chunk_minus_one",
        "chunk_size - 1 bytes: one short final chunk",
        &short,
    );
    let exact = encrypt(KEY_CURRENT, "ok_exact_chunk", c, SMALL_CHUNK);
    b.ok(
        "ok_exact_chunk",
        "exactly chunk_size bytes: one full-size final chunk",
        &exact,
    );
    let plus = encrypt(KEY_CURRENT, "ok_chunk_plus_one", c + 1, SMALL_CHUNK);
    b.ok(
        "ok_chunk_plus_one",
        "chunk_size + 1 bytes: a full chunk and a 1-byte final one",
        &plus,
    );
    let three = encrypt(KEY_CURRENT, "ok_three_chunks", 3 * c + 100, SMALL_CHUNK);
    b.ok(
        "ok_three_chunks",
        "3 full chunks and a 100-byte final chunk",
        &three,
    );
    let previous = encrypt(KEY_PREVIOUS, "ok_previous_key", 2 * c + 10, SMALL_CHUNK);
    b.ok(
        "ok_previous_key",
        "made with the previous key, opened through the keyring",
        &previous,
    );
    let default = encrypt(KEY_CURRENT, "ok_default_chunk_size", 70_000, 65_536);
    b.ok(
        "ok_default_chunk_size",
        "the writers' 65536-byte chunks: one full chunk and a short one",
        &default,
    );
    b.ok_file(
        "ok_three_chunks.enc".into(),
        "no expected backup id: any id is accepted",
        None,
        &three,
    );

    // Header.
    let h = three.header_len;
    b.error(
        "bad_magic",
        "first byte changed: not a d1-vault object",
        flip_bit(three.bytes.clone(), 0, 0),
        "not_an_object",
        "header",
    );
    b.error(
        "plain_sql",
        "a plain SQL file",
        sql_text(200),
        "not_an_object",
        "header",
    );
    b.error(
        "version_3",
        "version byte 3",
        replace(three.bytes.clone(), VERSION_OFFSET, &[3]),
        "unsupported_version",
        "header",
    );
    b.error(
        "version_1_relabelled_2",
        "a version 1 object whose version byte says 2: the MAC covers it",
        replace(three.bytes.clone(), VERSION_OFFSET, &[2]),
        "header_tampered",
        "header",
    );
    b.error(
        "suite_2",
        "suite byte 2",
        replace(three.bytes.clone(), SUITE_OFFSET, &[2]),
        "unsupported_suite",
        "header",
    );
    b.error(
        "bad_chunk_size",
        "chunk size 1000: not a power of two",
        replace(
            three.bytes.clone(),
            CHUNK_SIZE_OFFSET,
            &1000u32.to_be_bytes(),
        ),
        "bad_chunk_size",
        "header",
    );
    b.error(
        "chunk_size_too_large",
        "chunk size 2 MiB: above the limit",
        replace(
            three.bytes.clone(),
            CHUNK_SIZE_OFFSET,
            &(2u32 << 20).to_be_bytes(),
        ),
        "bad_chunk_size",
        "header",
    );
    b.error(
        "chunk_size_changed",
        "chunk size changed to another valid size: the MAC catches it",
        replace(
            three.bytes.clone(),
            CHUNK_SIZE_OFFSET,
            &2048u32.to_be_bytes(),
        ),
        "header_tampered",
        "header",
    );
    b.error(
        "backup_id_len_zero",
        "backup id length 0",
        replace(three.bytes.clone(), BACKUP_ID_LEN_OFFSET, &[0]),
        "malformed_header",
        "header",
    );
    b.error(
        "backup_id_bad_byte",
        "a '/' in the backup id",
        replace(three.bytes.clone(), BACKUP_ID_OFFSET + 3, b"/"),
        "malformed_header",
        "header",
    );
    b.error(
        "header_cut",
        "the object ends 40 bytes in, inside the header",
        three.bytes[..40].to_vec(),
        "truncated_header",
        "header",
    );
    b.error(
        "empty_file",
        "zero bytes",
        Vec::new(),
        "truncated_header",
        "header",
    );
    b.error(
        "header_bit_flip",
        "one bit of the salt flipped",
        flip_bit(three.bytes.clone(), SALT_OFFSET + 5, 3),
        "header_tampered",
        "header",
    );
    b.error(
        "header_mac_bit_flip",
        "one bit of the header MAC flipped",
        flip_bit(three.bytes.clone(), h - 1, 7),
        "header_tampered",
        "header",
    );
    b.error(
        "backup_id_swapped",
        "another backup's id written over the header's",
        replace(
            three.bytes.clone(),
            BACKUP_ID_OFFSET,
            OTHER_BACKUP_ID.as_bytes(),
        ),
        "header_tampered",
        "header",
    );
    b.error_file(
        "ok_three_chunks.enc".into(),
        "a valid object read as another backup",
        Some(OTHER_BACKUP_ID),
        "backup_id_mismatch",
        "header",
    );

    // Key.
    b.error(
        "unknown_key_id",
        "the key id of a key the keyring lacks",
        replace(three.bytes.clone(), KEY_ID_OFFSET, &key(KEY_OTHER).id().0),
        "unknown_key",
        "key",
    );
    let other = encrypt(KEY_OTHER, "wrong_key", 2 * c, SMALL_CHUNK);
    b.error(
        "wrong_key",
        "made with a key the keyring lacks (a wrong key looks like an unknown one)",
        other.bytes.clone(),
        "unknown_key",
        "key",
    );

    // Chunks.
    let first_chunk = h;
    b.error(
        "chunk_bit_flip",
        "one bit of chunk 1's ciphertext flipped",
        flip_bit(three.bytes.clone(), first_chunk + three.sealed_len + 10, 0),
        "chunk_tampered",
        "chunk",
    );
    b.error(
        "tag_bit_flip",
        "one bit of chunk 0's tag flipped",
        flip_bit(three.bytes.clone(), first_chunk + three.sealed_len - 1, 4),
        "chunk_tampered",
        "chunk",
    );
    b.error(
        "chunks_swapped",
        "chunks 0 and 1 swapped",
        three.with_chunks(&[1, 0, 2, 3]),
        "chunks_reordered",
        "chunk",
    );
    b.error(
        "chunk_duplicated",
        "chunk 1 twice",
        three.with_chunks(&[0, 1, 1, 2, 3]),
        "chunks_reordered",
        "chunk",
    );
    b.error(
        "chunk_dropped",
        "chunk 1 removed",
        three.with_chunks(&[0, 2, 3]),
        "chunks_reordered",
        "chunk",
    );
    let mut mixed = three.header().to_vec();
    let foreign = encrypt(
        KEY_CURRENT,
        "header_from_other_object",
        3 * c + 100,
        SMALL_CHUNK,
    );
    mixed.extend_from_slice(&foreign.bytes[foreign.header_len..]);
    b.error(
        "header_from_other_object",
        "one object's header on another's chunks (same key and id)",
        mixed,
        "chunk_tampered",
        "chunk",
    );
    b.error(
        "empty_final_chunk",
        "a full chunk, then an empty final chunk (no conforming writer makes this)",
        empty_final_chunk(),
        "empty_final_chunk",
        "chunk",
    );

    // End.
    b.error(
        "header_only",
        "the header and nothing after it",
        three.header().to_vec(),
        "truncated_after_header",
        "end",
    );
    b.error(
        "final_chunk_dropped",
        "the final chunk removed, at a chunk boundary",
        three.with_chunks(&[0, 1, 2]),
        "final_chunk_missing",
        "end",
    );
    b.error(
        "final_chunk_dropped_exact",
        "chunk 0 of a two-chunk object alone: its final chunk is missing",
        plus.with_chunks(&[0]),
        "final_chunk_missing",
        "end",
    );
    b.error(
        "cut_mid_chunk",
        "cut in the middle of chunk 2",
        three.bytes[..first_chunk + 2 * three.sealed_len + 500].to_vec(),
        "last_chunk_failed",
        "end",
    );
    b.error(
        "cut_inside_final_tag",
        "the last 3 bytes of the final tag cut",
        three.bytes[..three.bytes.len() - 3].to_vec(),
        "last_chunk_failed",
        "end",
    );
    b.error(
        "cut_inside_tag",
        "an empty object cut inside its only tag",
        empty.bytes[..empty.bytes.len() - 8].to_vec(),
        "truncated_inside_chunk",
        "end",
    );
    b.error(
        "cut_just_after_chunk",
        "5 bytes of chunk 3 left: shorter than a tag",
        three.bytes[..first_chunk + 3 * three.sealed_len + 5].to_vec(),
        "truncated_inside_chunk",
        "end",
    );
    b.error(
        "last_chunk_bit_flip",
        "one bit of the final chunk flipped",
        flip_bit(three.bytes.clone(), three.bytes.len() - 30, 2),
        "last_chunk_failed",
        "end",
    );
    let mut trailing = exact.bytes.clone();
    trailing.extend_from_slice(b"garbage");
    b.error(
        "trailing_bytes",
        "7 bytes after a full-size final chunk",
        trailing,
        "trailing_data",
        "end",
    );
    let mut trailing_short = three.bytes.clone();
    trailing_short.extend_from_slice(b"garbage");
    b.error(
        "trailing_bytes_after_short_final",
        "7 bytes after a short final chunk: seen as a bad last chunk",
        trailing_short,
        "last_chunk_failed",
        "end",
    );
    v1_backup(&mut b);
    version_2(&mut b);

    let manifest = Manifest {
        note:
            "d1-vault format test vectors (versions 1 and 2), written by scripts/gen-test-vectors. \
               The keys are PUBLIC TEST KEYS: never use them for real backups.",
        vectors: b.vectors,
    };
    let mut json = serde_json::to_string_pretty(&manifest).expect("vectors serialize");
    json.push('\n');
    (b.files, json)
}

/// The backup id of [`V1_BACKUP`]: an id the worker's import accepts.
const V1_BACKUP_ID: &str = "20251101T020000Z-v1backup";

/// A version 1 backup of a small database, as workers wrote them before
/// format version 2: the end-to-end tests import and restore it. (With
/// AUTOINCREMENT, as D1 keeps `sqlite_sequence` once a database had one.)
fn v1_backup(b: &mut Builder) {
    let mut sql = String::from(
        "CREATE TABLE shelves(id INTEGER PRIMARY KEY AUTOINCREMENT, label TEXT NOT NULL UNIQUE);\n\
         CREATE TABLE items(id INTEGER PRIMARY KEY, shelf INTEGER REFERENCES shelves(id), \
         name TEXT NOT NULL, price REAL, photo BLOB);\n\
         INSERT INTO shelves VALUES(1,'top'),(2,'it''s the middle'),(3,'bottom ✓');\n",
    );
    for id in 1..=300u32 {
        sql.push_str(&format!(
            "INSERT INTO items VALUES({id},{},'item {id}: ''quoted'' — ✓',{}.25,X'{:08x}');\n",
            1 + id % 3,
            id * 3,
            id.wrapping_mul(2_654_435_761)
        ));
    }
    sql.push_str("CREATE INDEX items_by_shelf ON items(shelf);\n");
    let plaintext = sql.into_bytes();
    let mut encryptor = Encryptor::with_version(
        FormatVersion::V1,
        &key(KEY_CURRENT),
        &backup_id(V1_BACKUP_ID),
        salt("v1_backup"),
        ChunkSize::DEFAULT,
    );
    let mut bytes = Vec::new();
    encryptor.update(&plaintext, &mut bytes);
    encryptor.finish(&mut bytes);
    let object = Object {
        bytes,
        plaintext,
        header_len: d1_vault::format::header_len(V1_BACKUP_ID.len()),
        sealed_len: ChunkSize::DEFAULT.plaintext_len() + TAG_SIZE,
    };
    let file = b.file("v1_backup", object.bytes.clone());
    b.ok_file(
        file,
        "version 1, default chunks: a backup of a small database made before version 2",
        Some(V1_BACKUP_ID),
        &object,
    );
}

/// Version 2 objects: the SQL compressed in frames.
fn version_2(b: &mut Builder) {
    let c = SMALL_CHUNK as usize;
    let v2 = |name, len, chunk_size| {
        encrypt_version(FormatVersion::V2, KEY_CURRENT, name, len, chunk_size)
    };
    let empty = v2("ok_v2_empty", 0, SMALL_CHUNK);
    b.ok(
        "ok_v2_empty",
        "version 2, empty SQL: no frame, one empty final chunk",
        &empty,
    );
    let two = v2("ok_v2_two_frames", FRAME_SQL_BYTES + 1000, SMALL_CHUNK);
    b.ok(
        "ok_v2_two_frames",
        "version 2: a full frame and a 1000-byte one, over several 1024-byte chunks",
        &two,
    );
    let default = v2("ok_v2_default_chunk_size", 3 * FRAME_SQL_BYTES, 65_536);
    b.ok(
        "ok_v2_default_chunk_size",
        "version 2 with the writers' 65536-byte chunks: three full frames",
        &default,
    );
    let chunks = two.chunks();
    let offset = two.header_len + chunks[0].len() + 7;
    b.error(
        "v2_chunk_bit_flip",
        "version 2, a bit flipped in chunk 1",
        flip_bit(two.bytes.clone(), offset, 2),
        "chunk_tampered",
        "chunk",
    );
    b.error(
        "v2_not_frames",
        "version 2 whose payload is plain SQL, not frames (a non-conforming writer)",
        sealed_payload("v2_not_frames", &sql_text(c / 2)),
        "malformed_frame",
        "chunk",
    );
    let sql = sql_text(5000);
    let frame = deflate_frame(&sql);
    b.error(
        "v2_frame_cut",
        "version 2 whose payload ends inside its frame (a non-conforming writer)",
        sealed_payload("v2_frame_cut", &frame[..frame.len() - 3]),
        "malformed_frame",
        "chunk",
    );
}

/// One frame of `sql`: method, lengths, the crate's raw DEFLATE stream.
fn deflate_frame(sql: &[u8]) -> Vec<u8> {
    let body = miniz_oxide::deflate::compress_to_vec(sql, SOFTWARE_DEFLATE_LEVEL);
    let mut frame = vec![METHOD_DEFLATE];
    frame.extend_from_slice(&(sql.len() as u32).to_be_bytes());
    frame.extend_from_slice(&(body.len() as u32).to_be_bytes());
    frame.extend_from_slice(&body);
    frame
}

/// A version 2 header and `payload` (less than a chunk) sealed by hand as
/// the final chunk.
fn sealed_payload(name: &str, payload: &[u8]) -> Vec<u8> {
    let (mut bytes, cipher) = by_hand(FormatVersion::V2, name);
    cipher.seal(Nonce::new(0, true), payload, &mut bytes);
    bytes
}

/// The header of vector `name` in `version` (1 KiB chunks, the current
/// key) and the cipher of its chunks, to seal chunks by hand.
fn by_hand(version: FormatVersion, name: &str) -> (Vec<u8>, ChunkCipher) {
    let master = key(KEY_CURRENT);
    let chunk_size = ChunkSize::new(SMALL_CHUNK).expect("valid");
    let header = seal_header(
        version,
        &master,
        chunk_size,
        &salt(name),
        &backup_id(BACKUP_ID),
    );
    let cipher = ChunkCipher::new(&PayloadKey::derive(&master, &salt(name)), &header.mac);
    (header.bytes, cipher)
}

/// A full non-final chunk 0 and an empty final chunk 1, sealed by hand.
fn empty_final_chunk() -> Vec<u8> {
    let (mut bytes, cipher) = by_hand(FormatVersion::V1, "empty_final_chunk");
    cipher.seal(
        Nonce::new(0, false),
        &sql_text(SMALL_CHUNK as usize),
        &mut bytes,
    );
    cipher.seal(Nonce::new(1, true), &[], &mut bytes);
    bytes
}

/// Writes every vector file and `vectors.json` into `dir`, replacing them.
pub fn write_all(dir: &Path) -> io::Result<()> {
    fs::create_dir_all(dir)?;
    let (files, json) = generate();
    for (name, bytes) in files {
        fs::write(dir.join(name), bytes)?;
    }
    fs::write(dir.join("vectors.json"), json)
}
