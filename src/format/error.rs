//! Why an object failed to read. Every variant has a stable [`code`] for
//! scripts and APIs, the [`Stage`] it belongs to, and a message that tells an
//! operator what happened and what to do next.
//!
//! [`code`]: FormatError::code

use std::fmt;

use super::keys::BACKUP_ENCRYPTION_KEYS_PREVIOUS;
use super::{BackupId, KeyId};

/// Where in an object a failure was found.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Stage {
    /// Parsing or authenticating the header, or checking its backup id.
    Header,
    /// Finding the key the header names.
    Key,
    /// Authenticating a chunk in the middle of the object.
    Chunk,
    /// The end of the object: truncation, the last chunk, trailing bytes.
    End,
}

impl Stage {
    /// The stage as a stable lowercase word: `header`, `key`, `chunk` or `end`.
    pub fn as_str(self) -> &'static str {
        match self {
            Stage::Header => "header",
            Stage::Key => "key",
            Stage::Chunk => "chunk",
            Stage::End => "end",
        }
    }
}

impl fmt::Display for Stage {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reason an object cannot be read. No variant ever carries plaintext or key material.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FormatError {
    /// The object does not start with the magic bytes `D1VAULT\n`.
    #[error(
        "not a d1-vault object: it does not start with the d1-vault magic bytes \
         (is it a plain SQL file, or a different file than you meant?)"
    )]
    NotAnObject,

    /// The header's version byte is not one this build reads.
    #[error(
        "this object uses format version {version}, but this d1-vault reads only versions 1 and 2: \
         a newer d1-vault may read it"
    )]
    UnsupportedVersion {
        /// The version byte found.
        version: u8,
    },

    /// The header's suite byte is not one this build knows.
    #[error(
        "this object uses cipher suite {suite}, but this d1-vault knows only suite 1 \
         (HKDF-SHA256, AES-256-GCM, HMAC-SHA256): a newer d1-vault may read it"
    )]
    UnsupportedSuite {
        /// The suite byte found.
        suite: u8,
    },

    /// The header's chunk size is not a power of two from 1024 to 1048576.
    #[error(
        "the header's chunk size {chunk_size} is not a power of two from 1024 to 1048576: \
         the object is corrupt or was not written by d1-vault"
    )]
    BadChunkSize {
        /// The chunk size found.
        chunk_size: u32,
    },

    /// A header field other than those above is invalid (today: the backup id).
    #[error("malformed header: {detail}; the object is corrupt or was not written by d1-vault")]
    MalformedHeader {
        /// What is wrong, without any secret.
        detail: String,
    },

    /// The input ended before the header did.
    #[error(
        "the object ends after {got} bytes, inside its header: it was cut short \
         (compare its size with the manifest's ciphertext bytes and download it again)"
    )]
    TruncatedHeader {
        /// Bytes received in total.
        got: usize,
    },

    /// The header names a key that is not in the keyring. A wrong key looks
    /// exactly like this, since key ids are derived from the keys.
    #[error(
        "encrypted with key {found}; available keys: {}{}",
        join(.available),
        unknown_key_hint()
    )]
    UnknownKey {
        /// The key id in the header.
        found: KeyId,
        /// The ids of the keys that were available, current first.
        available: Vec<KeyId>,
    },

    /// The header MAC does not verify under the key its id names: some header
    /// byte (salt, chunk size, backup id, MAC...) was changed.
    #[error(
        "the header failed authentication under key {key_id}: the object was modified \
         (or assembled from parts of other objects); do not use it, fetch an intact copy"
    )]
    HeaderTampered {
        /// The key the header names (and that was tried).
        key_id: KeyId,
    },

    /// The (authenticated) header belongs to a different backup than expected.
    #[error(
        "this object belongs to backup {found}, not {expected}: it was stored under the \
         wrong name; fetch the object of backup {expected}"
    )]
    BackupIdMismatch {
        /// The backup id in the header.
        found: BackupId,
        /// The backup id the caller expected.
        expected: BackupId,
    },

    /// A chunk in the middle of the object failed authentication, and it is
    /// not a chunk from another position of this object either.
    #[error(
        "chunk {index} failed authentication: the object was modified; \
         no byte of that chunk was used; fetch an intact copy"
    )]
    ChunkTampered {
        /// 0-based position of the chunk.
        index: u64,
    },

    /// The chunk at `position` authenticates as chunk `actual`.
    #[error(
        "chunk at position {position} is chunk {actual}{}: chunks were reordered, \
         duplicated or removed; fetch an intact copy",
        if *.actual_is_final { " (the final chunk)" } else { "" }
    )]
    ChunksReordered {
        /// 0-based position in the object.
        position: u64,
        /// The counter under which the chunk authenticates.
        actual: u64,
        /// Whether it authenticates as the final chunk.
        actual_is_final: bool,
    },

    /// A final chunk that is empty though it is not chunk 0. d1-vault never
    /// writes one; a writer that did is not conforming.
    #[error(
        "chunk {index} is an empty final chunk, which only an empty object may have: \
         the object was not written by a conforming d1-vault"
    )]
    EmptyFinalChunk {
        /// 0-based position of the chunk.
        index: u64,
    },

    /// The chunk counter would pass its maximum.
    #[error("the object has more chunks than the counter allows (2^64): it is not a valid object")]
    CounterOverflow,

    /// Nothing follows the header: not even the final chunk of an empty backup.
    #[error(
        "the object ends right after its header, with no chunks: it was cut short \
         (compare its size with the manifest's ciphertext bytes and download it again)"
    )]
    TruncatedAfterHeader,

    /// Fewer bytes than one tag remain after the last complete chunk.
    #[error(
        "the object ends {got} bytes inside chunk {index}, too short to hold even its tag: \
         it was cut short (compare its size with the manifest's ciphertext bytes)"
    )]
    TruncatedInsideChunk {
        /// 0-based position of the incomplete chunk.
        index: u64,
        /// Bytes of it that are present.
        got: usize,
    },

    /// The last chunk authenticates, but only as a non-final chunk.
    #[error(
        "the object ends after chunk {index}, which is not the final chunk: it was cut short \
         (compare its size with the manifest's ciphertext bytes and download it again)"
    )]
    FinalChunkMissing {
        /// 0-based position of the last chunk present.
        index: u64,
    },

    /// The last piece authenticates neither as final nor as non-final.
    #[error(
        "chunk {index} (the last) failed authentication: the object was cut short inside it \
         or modified; compare its size with the manifest's ciphertext bytes"
    )]
    LastChunkFailed {
        /// 0-based position of the last chunk.
        index: u64,
    },

    /// A full-size chunk authenticates as the final chunk, but bytes follow it.
    #[error(
        "chunk {index} is the final chunk, but more bytes follow it: data was appended \
         to the object; compare its size with the manifest's ciphertext bytes"
    )]
    TrailingData {
        /// 0-based position of the final chunk.
        index: u64,
    },

    /// A frame of a version 2 payload is malformed. The chunks holding it
    /// authenticated, so a faulty or non-conforming writer made it.
    #[error(
        "frame {index} of the compressed payload is malformed: {detail}; the object \
         authenticates, so it was written this way by a faulty d1-vault: report it, \
         and restore an older backup"
    )]
    MalformedFrame {
        /// 0-based position of the frame.
        index: u64,
        /// What is wrong with it.
        detail: String,
    },
}

fn join(ids: &[KeyId]) -> String {
    ids.iter()
        .map(KeyId::to_string)
        .collect::<Vec<_>>()
        .join(", ")
}

fn unknown_key_hint() -> String {
    format!(
        " (if it was made with an older key, add that key to {BACKUP_ENCRYPTION_KEYS_PREVIOUS}; \
         a wrong key also shows up this way, since key ids are derived from the keys)"
    )
}

impl FormatError {
    /// A stable identifier for scripts, APIs and test vectors, e.g. `unknown_key`.
    pub fn code(&self) -> &'static str {
        match self {
            FormatError::NotAnObject => "not_an_object",
            FormatError::UnsupportedVersion { .. } => "unsupported_version",
            FormatError::UnsupportedSuite { .. } => "unsupported_suite",
            FormatError::BadChunkSize { .. } => "bad_chunk_size",
            FormatError::MalformedHeader { .. } => "malformed_header",
            FormatError::TruncatedHeader { .. } => "truncated_header",
            FormatError::UnknownKey { .. } => "unknown_key",
            FormatError::HeaderTampered { .. } => "header_tampered",
            FormatError::BackupIdMismatch { .. } => "backup_id_mismatch",
            FormatError::ChunkTampered { .. } => "chunk_tampered",
            FormatError::ChunksReordered { .. } => "chunks_reordered",
            FormatError::EmptyFinalChunk { .. } => "empty_final_chunk",
            FormatError::CounterOverflow => "counter_overflow",
            FormatError::TruncatedAfterHeader => "truncated_after_header",
            FormatError::TruncatedInsideChunk { .. } => "truncated_inside_chunk",
            FormatError::FinalChunkMissing { .. } => "final_chunk_missing",
            FormatError::LastChunkFailed { .. } => "last_chunk_failed",
            FormatError::TrailingData { .. } => "trailing_data",
            FormatError::MalformedFrame { .. } => "malformed_frame",
        }
    }

    /// The stage the failure belongs to.
    pub fn stage(&self) -> Stage {
        match self {
            FormatError::NotAnObject
            | FormatError::UnsupportedVersion { .. }
            | FormatError::UnsupportedSuite { .. }
            | FormatError::BadChunkSize { .. }
            | FormatError::MalformedHeader { .. }
            | FormatError::TruncatedHeader { .. }
            | FormatError::HeaderTampered { .. }
            | FormatError::BackupIdMismatch { .. } => Stage::Header,
            FormatError::UnknownKey { .. } => Stage::Key,
            FormatError::ChunkTampered { .. }
            | FormatError::ChunksReordered { .. }
            | FormatError::EmptyFinalChunk { .. }
            | FormatError::CounterOverflow
            | FormatError::MalformedFrame { .. } => Stage::Chunk,
            FormatError::TruncatedAfterHeader
            | FormatError::TruncatedInsideChunk { .. }
            | FormatError::FinalChunkMissing { .. }
            | FormatError::LastChunkFailed { .. }
            | FormatError::TrailingData { .. } => Stage::End,
        }
    }
}
