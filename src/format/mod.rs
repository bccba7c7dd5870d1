//! The d1-vault encrypted object format, versions 1 and 2.
//!
//! Every backup is stored as one object: the SQL dump (compressed, in
//! version 2), encrypted and authenticated in fixed-size chunks so that it
//! can be written and read as a stream with bounded memory. Writers write
//! version 2; readers read both. This module is pure (it never calls `worker`)
//! and this comment is the format's specification: a compatible reader can be
//! written from it alone. Test vectors live in `tests/vectors/`.
//!
//! # Notation
//!
//! `||` is concatenation. `u8` is one byte, `u32be` four bytes big-endian.
//! `HKDF[salt, info](ikm, L)` is HKDF-SHA256 (RFC 5869) extracting with `salt`
//! and expanding `ikm` to `L` bytes with `info`. `HMAC[key](msg)` is
//! HMAC-SHA256 (RFC 2104). `SHA-256` is FIPS 180-4. Labels are ASCII, without
//! a terminating NUL.
//!
//! # Keys
//!
//! A master key is 32 bytes, configured as 64 hex characters
//! (`BACKUP_ENCRYPTION_KEY`; older keys in `BACKUP_ENCRYPTION_KEYS_PREVIOUS`).
//!
//! ```text
//! key_id      = SHA-256("d1-vault key id v1" || master_key)[0..8]
//! header_key  = HKDF[salt, "d1-vault v1 header"](master_key, 32)
//! payload_key = HKDF[salt, "d1-vault v1 payload"](master_key, 32)
//! ```
//!
//! The key id is shown as 16 lowercase hex characters. It identifies a key
//! without revealing it, so a reader can pick the right key (and say which
//! one is missing) before it tries any MAC or decryption. Because the id is
//! derived from the key, a *wrong* key is indistinguishable from an *unknown*
//! one: both are reported as an unknown key id.
//!
//! `salt` is 32 fresh random bytes per object, so every object has its own
//! header and payload keys even though the master key is long-lived, and the
//! STREAM nonces below (which restart at 0 in every object) never repeat under
//! one payload key. A writer must never reuse a salt with the same master key.
//!
//! # Object
//!
//! ```text
//! object = header || chunk_0 || chunk_1 || ... || chunk_n        (n >= 0)
//! ```
//!
//! # Header
//!
//! | offset   | size   | field           | value                                                  |
//! |----------|--------|-----------------|--------------------------------------------------------|
//! | 0        | 8      | magic           | `b"D1VAULT\n"` (`44 31 56 41 55 4c 54 0a`)             |
//! | 8        | 1      | version         | `1` or `2` (see "Payload")                             |
//! | 9        | 1      | suite           | `1`: HKDF-SHA256, AES-256-GCM STREAM, HMAC-SHA256 MAC  |
//! | 10       | 4      | chunk_size      | `u32be`, plaintext bytes per non-final chunk           |
//! | 14       | 8      | key_id          | id of the master key (above)                           |
//! | 22       | 32     | salt            | fresh random bytes                                     |
//! | 54       | 1      | backup_id_len   | `L`, 1 to 64                                           |
//! | 55       | L      | backup_id       | ASCII: first `[A-Za-z0-9]`, then `[A-Za-z0-9._-]`      |
//! | 55 + L   | 32     | header_mac      | `HMAC[header_key](bytes 0 .. 55 + L)`                  |
//!
//! The header is `87 + L` bytes (88 to 151). Writers use a chunk size of
//! 65536. Readers accept any power of two from 1024 to 1048576 and reject
//! every other value. A reader checks the fields in the order of the table,
//! then looks the key id up in its keys (an unknown id fails here, before any
//! cryptography), derives `header_key` and verifies `header_mac` in constant
//! time. Only after the MAC verifies are `chunk_size` and `backup_id` trusted;
//! a reader that expects a particular backup compares the id then.
//!
//! The version byte is covered by `header_mac`, so a version 1 object cannot
//! be passed off as version 2 or the other way round. The key derivation
//! labels are the same in both versions.
//!
//! # Payload
//!
//! What the chunks below carry is the *payload*. In version 1 it is the SQL
//! itself. In version 2 it is the SQL cut into frames, each compressed on
//! its own with raw DEFLATE (RFC 1951, no zlib or gzip wrapper):
//!
//! ```text
//! payload = frame_0 || frame_1 || ... || frame_m     (no frame for an empty SQL)
//! frame   = method || sql_len || body_len || body
//!           method   u8     1: raw DEFLATE (no other value is defined)
//!           sql_len  u32be  SQL bytes the frame holds, 1 to 1048576
//!           body_len u32be  bytes of body, 1 to sql_len + sql_len / 256 + 64
//!           body            one complete DEFLATE stream (its last block marked
//!                           final) that inflates to exactly sql_len bytes
//! ```
//!
//! The SQL is the frames' SQL in order. Writers cut it into frames of
//! 262144 bytes, the last holding the rest. Frames share no DEFLATE window,
//! so each can be compressed and inflated alone (in one call of a
//! platform's native DEFLATE), and a writer that stops between invocations
//! saves only the SQL of the frame it is filling. A reader checks each
//! frame header as soon as its 9 bytes are there and rejects a payload that
//! ends inside a frame. DEFLATE output is not canonical: two writers may
//! compress the same SQL to different bytes, and both are valid.
//!
//! The plaintext digests of a summary or manifest are always of the SQL,
//! not of the payload.
//!
//! # Chunks: STREAM over AES-256-GCM
//!
//! The payload is cut into chunks of exactly `chunk_size` bytes, except the
//! last, which holds 1 to `chunk_size` bytes; an empty payload is one empty
//! chunk. Chunk `i` (counting from 0) is
//!
//! ```text
//! chunk_i = AES-256-GCM[payload_key](nonce_i, aad = header_mac, plaintext_i)
//!         = ciphertext_i || tag_i              (len(ciphertext_i) = len(plaintext_i), tag 16 bytes)
//! nonce_i = u88be(i) || flag                   (12 bytes: an 11-byte big-endian counter,
//!                                               flag 0x01 on the last chunk, 0x00 on all others)
//! ```
//!
//! This is the STREAM construction of Hoang, Reyhanitabar, Rogaway and Vizár,
//! "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance"
//! (CRYPTO 2015, <https://eprint.iacr.org/2015/189>), with the nonce layout
//! age uses. The counter makes every chunk's position part of its
//! authentication (reordering, duplication and removal fail); the flag makes
//! the end of the stream authenticated (truncation at a chunk boundary fails);
//! the aad makes every chunk depend on the whole header, including the backup
//! id and the salt (a chunk cannot be moved to another object, and an object
//! cannot be relabelled as another backup).
//!
//! Every non-final chunk is `chunk_size + 16` bytes on the wire and the final
//! one 16 to `chunk_size + 16`, so a reader finds the boundaries from
//! `chunk_size` alone. A piece of exactly `chunk_size + 16` bytes may be
//! either; a reader needs to see one more byte (or the end) to know which.
//! Readers reject a final chunk that is empty unless it is chunk 0, and any
//! byte after the final chunk. The counter is at most `2^64 - 1` in this
//! implementation (far below the field's `2^88`); running past it is an error.
//!
//! A reader releases a chunk's plaintext only after that chunk's tag
//! verifies, and the object is valid only once the final chunk has verified
//! with nothing after it. Until then, plaintext already released must be
//! treated as provisional (the CLI writes to a `.partial` file and renames it
//! only on success).
//!
//! Key commitment: AES-GCM alone does not commit to its key, but
//! `header_mac` does (HMAC-SHA256 is collision resistant), and `payload_key`
//! comes from the same master key and salt, so once the header verifies the
//! chunks can only be opened under that one payload key.
//!
//! # Errors
//!
//! Every failure is a [`FormatError`] with a stable [`code`](FormatError::code)
//! and the [`stage`](FormatError::stage) it happened in: `header`, `key`,
//! `chunk` or `end`. A reader distinguishes a bad magic, an unsupported version
//! or suite, a bad chunk size, a malformed or cut header, an unknown key, a
//! tampered header, a backup id that differs from the expected one, a tampered
//! chunk, chunks out of place (found by trying the failing chunk under nearby
//! counters, on the failure path only), an object cut inside or between
//! chunks, a missing final chunk, trailing data and, in version 2, a
//! malformed frame (which only a faulty writer holding the key can make).

mod backup_id;
mod decrypt;
mod digest;
mod encrypt;
mod engine;
mod error;
mod frames;
mod header;
mod hex;
pub mod keys;
mod sha256_state;
mod stream;

pub use backup_id::{BackupId, BackupIdError};
pub use decrypt::{
    DecryptError, DecryptSummary, Decryptor, DecryptorCheckpoint, DecryptorResumeError,
    REORDER_SEARCH_BUDGET, REORDER_SEARCH_RADIUS,
};
pub use digest::{DigestParseError, Sha256Digest};
pub use encrypt::{EncryptSummary, Encryptor, EncryptorCheckpoint, EncryptorResumeError};
pub use engine::{
    BytesFuture, ChunkKey, Engine, EngineFailed, OpenFuture, SealFuture, SoftwareEngine,
};
pub use error::{FormatError, Stage};
pub use frames::{
    max_body_len, FRAME_HEADER_LEN, FRAME_SQL_BYTES, MAX_FRAME_SQL_BYTES, METHOD_DEFLATE,
    SOFTWARE_DEFLATE_LEVEL,
};
pub use header::{parse_header, seal_header, HeaderInfo, HeaderMac, SealedHeader};
pub(crate) use hex::decode_exact;
pub use keys::{KeyError, KeyId, KeyIdParseError, Keyring, KeyringError, MasterKey};
pub use sha256_state::{Sha256State, Sha256StateError};
pub use stream::{AuthFailed, ChunkCipher, ChunkSize, Nonce};

/// The first 8 bytes of every object.
pub const MAGIC: [u8; 8] = *b"D1VAULT\n";
/// A version of the format: the header's version byte.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum FormatVersion {
    /// The chunks carry the SQL itself.
    V1,
    /// The chunks carry the SQL compressed in frames ([`FRAME_SQL_BYTES`]).
    V2,
}

impl FormatVersion {
    /// The version writers use.
    pub const CURRENT: FormatVersion = FormatVersion::V2;

    /// The header's version byte.
    pub fn byte(self) -> u8 {
        match self {
            FormatVersion::V1 => 1,
            FormatVersion::V2 => 2,
        }
    }

    /// The version of a header's version byte, if this build reads it.
    pub fn from_byte(byte: u8) -> Option<Self> {
        match byte {
            1 => Some(FormatVersion::V1),
            2 => Some(FormatVersion::V2),
            _ => None,
        }
    }
}
/// Suite 1: HKDF-SHA256 key derivation, AES-256-GCM in STREAM, HMAC-SHA256 header MAC.
pub const SUITE_V1: u8 = 1;

/// Plaintext bytes per non-final chunk that writers use.
pub const DEFAULT_CHUNK_SIZE: u32 = 64 * 1024;
/// The smallest chunk size a reader accepts.
pub const MIN_CHUNK_SIZE: u32 = 1024;
/// The largest chunk size a reader accepts.
pub const MAX_CHUNK_SIZE: u32 = 1024 * 1024;

/// Size of a master key, in bytes.
pub const MASTER_KEY_SIZE: usize = 32;
/// Size of a key id, in bytes.
pub const KEY_ID_SIZE: usize = 8;
/// Size of the per-object salt, in bytes.
pub const SALT_SIZE: usize = 32;
/// The longest backup id, in bytes.
pub const MAX_BACKUP_ID_LEN: usize = 64;
/// Size of the header MAC (HMAC-SHA256), in bytes.
pub const HEADER_MAC_SIZE: usize = 32;
/// Size of an AES-GCM tag, in bytes.
pub const TAG_SIZE: usize = 16;
/// Size of an AES-GCM nonce, in bytes.
pub const NONCE_SIZE: usize = 12;
/// Size of the STREAM counter inside the nonce, in bytes.
pub const COUNTER_SIZE: usize = 11;

/// Nonce flag byte of every chunk but the last.
pub const FLAG_NON_FINAL: u8 = 0x00;
/// Nonce flag byte of the last chunk.
pub const FLAG_FINAL: u8 = 0x01;

/// Prefix hashed with a master key to make its id.
pub const KEY_ID_LABEL: &[u8] = b"d1-vault key id v1";
/// HKDF info for the header MAC key.
pub const HEADER_KEY_INFO: &[u8] = b"d1-vault v1 header";
/// HKDF info for the payload (AES-256-GCM) key.
pub const PAYLOAD_KEY_INFO: &[u8] = b"d1-vault v1 payload";

/// Offset of the version byte.
pub const VERSION_OFFSET: usize = MAGIC.len();
/// Offset of the suite byte.
pub const SUITE_OFFSET: usize = VERSION_OFFSET + 1;
/// Offset of the big-endian `u32` chunk size.
pub const CHUNK_SIZE_OFFSET: usize = SUITE_OFFSET + 1;
/// Offset of the key id.
pub const KEY_ID_OFFSET: usize = CHUNK_SIZE_OFFSET + 4;
/// Offset of the salt.
pub const SALT_OFFSET: usize = KEY_ID_OFFSET + KEY_ID_SIZE;
/// Offset of the backup id length byte.
pub const BACKUP_ID_LEN_OFFSET: usize = SALT_OFFSET + SALT_SIZE;
/// Offset of the backup id.
pub const BACKUP_ID_OFFSET: usize = BACKUP_ID_LEN_OFFSET + 1;
/// Header size for a backup id of `len` bytes: the fixed fields, the id and the MAC.
pub const fn header_len(backup_id_len: usize) -> usize {
    BACKUP_ID_OFFSET + backup_id_len + HEADER_MAC_SIZE
}
/// The largest header, with a 64-byte backup id.
pub const MAX_HEADER_LEN: usize = header_len(MAX_BACKUP_ID_LEN);

use serde::{Deserialize, Serialize};

#[cfg(test)]
mod tests;
