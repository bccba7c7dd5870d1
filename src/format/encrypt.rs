//! The write path: plaintext (the SQL) in, object out, in pieces of any size.
//!
//! In version 2 the SQL is first cut into frames and compressed
//! ([`super::frames`]); the frames are the *payload* that the chunks carry.
//! In version 1 the payload is the SQL itself.
//!
//! Invariants: at most one frame of SQL and one chunk of payload are
//! buffered; a chunk is sealed as non-final only once at least one more
//! payload byte has arrived, so the final chunk is empty only when the whole
//! payload is; the header is the first thing emitted; the plaintext digest
//! is of the SQL and the ciphertext digest of the object, and their running
//! states count the bytes. Everything but the keys can be saved in an
//! [`EncryptorCheckpoint`] and carried on in another invocation, with the
//! same output byte for byte.

use serde::{Deserialize, Serialize};

use super::engine::{ChunkKey, Engine, EngineFailed};
use super::frames::{encode_frame, software_deflate, FrameCutter};
use super::header::seal_header;
use super::keys::{KeyId, MasterKey, PayloadKey};
use super::{
    BackupId, ChunkCipher, ChunkSize, FormatVersion, Nonce, Sha256Digest, Sha256State, SALT_SIZE,
};

mod checkpoint;

pub use checkpoint::{EncryptorCheckpoint, EncryptorResumeError};

/// Encrypts one object. Feed it with [`update`](Encryptor::update), end it with
/// [`finish`](Encryptor::finish); an object that is not finished is invalid
/// (it has no final chunk).
pub struct Encryptor {
    /// Header bytes not yet emitted (emptied on first output).
    pending_header: Vec<u8>,
    chunk_key: ChunkKey,
    cipher: ChunkCipher,
    chunk_size: ChunkSize,
    version: FormatVersion,
    /// Version 2: the SQL of the frame being filled.
    frames: FrameCutter,
    /// Payload of the chunk being filled; never more than one chunk.
    chunk: Vec<u8>,
    /// Counter of the chunk being filled.
    counter: u64,
    key_id: KeyId,
    plaintext_hash: Sha256State,
    ciphertext_hash: Sha256State,
}

/// What an encryptor wrote, for the manifest.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptSummary {
    /// Plaintext (SQL) bytes read.
    pub plaintext_bytes: u64,
    /// Object bytes written, header included.
    pub ciphertext_bytes: u64,
    /// Chunks written, the final one included.
    pub chunks: u64,
    /// Plaintext bytes per non-final chunk.
    pub chunk_size: u32,
    /// Id of the master key used.
    pub key_id: KeyId,
    /// SHA-256 of the plaintext (the SQL).
    pub plaintext_sha256: Sha256Digest,
    /// SHA-256 of the whole object, header included.
    pub ciphertext_sha256: Sha256Digest,
    /// The format version written.
    pub version: FormatVersion,
}

impl Encryptor {
    /// An encryptor with the writers' chunk size.
    ///
    /// `salt` **must** be fresh random bytes for every object: reusing a salt
    /// with the same key reuses AES-GCM nonces, which breaks confidentiality
    /// and authenticity. It is a parameter so tests and the WebCrypto path can
    /// reproduce an object byte for byte; production code uses
    /// [`with_random_salt`](Encryptor::with_random_salt).
    pub fn new(key: &MasterKey, backup_id: &BackupId, salt: [u8; SALT_SIZE]) -> Self {
        Encryptor::with_chunk_size(key, backup_id, salt, ChunkSize::DEFAULT)
    }

    /// An encryptor with a fresh random salt from the operating system.
    pub fn with_random_salt(
        key: &MasterKey,
        backup_id: &BackupId,
    ) -> Result<Self, getrandom::Error> {
        let mut salt = [0u8; SALT_SIZE];
        getrandom::getrandom(&mut salt)?;
        Ok(Encryptor::new(key, backup_id, salt))
    }

    /// An encryptor with another chunk size (test vectors use small chunks).
    /// The same rule on `salt` applies as for [`new`](Encryptor::new).
    pub fn with_chunk_size(
        key: &MasterKey,
        backup_id: &BackupId,
        salt: [u8; SALT_SIZE],
        chunk_size: ChunkSize,
    ) -> Self {
        Encryptor::with_version(FormatVersion::CURRENT, key, backup_id, salt, chunk_size)
    }

    /// An encryptor that writes format `version` (the test vectors of
    /// version 1 are written so). The same rule on `salt` applies as for
    /// [`new`](Encryptor::new).
    pub fn with_version(
        version: FormatVersion,
        key: &MasterKey,
        backup_id: &BackupId,
        salt: [u8; SALT_SIZE],
        chunk_size: ChunkSize,
    ) -> Self {
        let header = seal_header(version, key, chunk_size, &salt, backup_id);
        let chunk_key = ChunkKey::new(&PayloadKey::derive(key, &salt), &header.mac);
        Encryptor {
            cipher: ChunkCipher::from_key(&chunk_key),
            chunk_key,
            pending_header: header.bytes,
            chunk_size,
            version,
            frames: FrameCutter::default(),
            chunk: Vec::with_capacity(chunk_size.plaintext_len()),
            counter: 0,
            key_id: key.id(),
            plaintext_hash: Sha256State::new(),
            ciphertext_hash: Sha256State::new(),
        }
    }

    /// Encrypts `input` and appends whatever object bytes are ready to `out`
    /// (the header on the first call, then every chunk that is complete and
    /// known not to be the last).
    ///
    /// # Panics
    ///
    /// After 2^64 chunks (2^80 bytes at the default chunk size), which no
    /// stream reaches.
    pub fn update(&mut self, mut input: &[u8], out: &mut Vec<u8>) {
        let start = out.len();
        self.emit_header(out);
        self.plaintext_hash.update(input);
        match self.version {
            FormatVersion::V1 => self.seal_payload(input, out),
            FormatVersion::V2 => {
                while let Some(sql) = self.frames.next_full(&mut input) {
                    let frame = encode_frame(sql.bytes(), &software_deflate(sql.bytes()));
                    self.seal_payload(&frame, out);
                }
            }
        }
        self.account(&out[start..]);
    }

    /// [`update`](Encryptor::update), with the frames compressed and the
    /// chunks sealed by `engine`.
    ///
    /// After an error the encryptor and `out` are in no useful state: drop
    /// both and carry on from the last [`checkpoint`](Encryptor::checkpoint).
    pub async fn update_with(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        engine: &dyn Engine,
    ) -> Result<(), EngineFailed> {
        let start = out.len();
        self.emit_header(out);
        self.plaintext_hash.update(input);
        match self.version {
            FormatVersion::V1 => self.seal_payload_with(input, out, engine).await?,
            FormatVersion::V2 => {
                while let Some(sql) = self.frames.next_full(&mut input) {
                    let frame = encode_frame(sql.bytes(), &engine.deflate(sql.bytes()).await?);
                    self.seal_payload_with(&frame, out, engine).await?;
                }
            }
        }
        self.account(&out[start..]);
        Ok(())
    }

    /// Seals the last frame and the final chunk, appends them (and the
    /// header, if nothing was emitted yet) to `out`, and returns what was
    /// written.
    pub fn finish(mut self, out: &mut Vec<u8>) -> EncryptSummary {
        let start = out.len();
        self.emit_header(out);
        if let Some(sql) = self.frames.take_last() {
            let frame = encode_frame(&sql, &software_deflate(&sql));
            self.seal_payload(&frame, out);
        }
        let nonce = self.next_nonce(true);
        self.cipher.seal(nonce, &self.chunk, out);
        self.account(&out[start..]);
        self.summary()
    }

    /// [`finish`](Encryptor::finish), with the last frame compressed and
    /// the chunks sealed by `engine`.
    pub async fn finish_with(
        mut self,
        out: &mut Vec<u8>,
        engine: &dyn Engine,
    ) -> Result<EncryptSummary, EngineFailed> {
        let start = out.len();
        self.emit_header(out);
        if let Some(sql) = self.frames.take_last() {
            let frame = encode_frame(&sql, &engine.deflate(&sql).await?);
            self.seal_payload_with(&frame, out, engine).await?;
        }
        let nonce = self.next_nonce(true);
        out.extend(engine.seal(&self.chunk_key, nonce, &self.chunk).await?);
        self.account(&out[start..]);
        Ok(self.summary())
    }

    /// Seals every chunk of `payload` that is complete and known not to be
    /// the last.
    fn seal_payload(&mut self, mut payload: &[u8], out: &mut Vec<u8>) {
        while let Some(chunk) = self.next_sealable(&mut payload) {
            let nonce = self.next_nonce(false);
            self.cipher.seal(nonce, chunk.bytes(), out);
        }
    }

    /// [`seal_payload`](Encryptor::seal_payload) by `engine`.
    async fn seal_payload_with(
        &mut self,
        mut payload: &[u8],
        out: &mut Vec<u8>,
        engine: &dyn Engine,
    ) -> Result<(), EngineFailed> {
        while let Some(chunk) = self.next_sealable(&mut payload) {
            let nonce = self.next_nonce(false);
            out.extend(engine.seal(&self.chunk_key, nonce, chunk.bytes()).await?);
        }
        Ok(())
    }

    /// The next chunk to seal as non-final, taken from the buffered chunk or
    /// straight from `input` (which it advances), or `None` once `input` is
    /// used up. A full chunk stays buffered until more input shows it is not
    /// the last.
    fn next_sealable<'i>(&mut self, input: &mut &'i [u8]) -> Option<Sealable<'i>> {
        let chunk_len = self.chunk_size.plaintext_len();
        while !input.is_empty() {
            if self.chunk.len() == chunk_len {
                let full = std::mem::replace(&mut self.chunk, Vec::with_capacity(chunk_len));
                return Some(Sealable::Buffered(full));
            }
            if self.chunk.is_empty() && input.len() > chunk_len {
                // A whole chunk with more input after it: seal it straight from the input.
                let (whole, rest) = input.split_at(chunk_len);
                *input = rest;
                return Some(Sealable::Input(whole));
            }
            let take = (chunk_len - self.chunk.len()).min(input.len());
            self.chunk.extend_from_slice(&input[..take]);
            *input = &input[take..];
        }
        None
    }

    /// The nonce of the next chunk; moves the counter on.
    ///
    /// # Panics
    ///
    /// After 2^64 chunks, which no stream reaches.
    fn next_nonce(&mut self, last: bool) -> Nonce {
        let nonce = Nonce::new(self.counter, last);
        self.counter = self
            .counter
            .checked_add(1)
            .expect("2^64 chunks is more than any stream can hold");
        nonce
    }

    fn summary(self) -> EncryptSummary {
        EncryptSummary {
            plaintext_bytes: self.plaintext_hash.bytes_hashed(),
            ciphertext_bytes: self.ciphertext_hash.bytes_hashed(),
            chunks: self.counter,
            chunk_size: self.chunk_size.get(),
            key_id: self.key_id,
            plaintext_sha256: self.plaintext_hash.finish(),
            ciphertext_sha256: self.ciphertext_hash.finish(),
            version: self.version,
        }
    }

    fn emit_header(&mut self, out: &mut Vec<u8>) {
        out.append(&mut self.pending_header);
    }

    fn account(&mut self, emitted: &[u8]) {
        self.ciphertext_hash.update(emitted);
    }

    /// Bytes of plaintext buffer allocated (for memory-bound tests).
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.chunk.capacity()
    }
}

/// A chunk ready to be sealed: the buffered one, or one straight from the input.
enum Sealable<'i> {
    Buffered(Vec<u8>),
    Input(&'i [u8]),
}

impl Sealable<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Sealable::Buffered(chunk) => chunk,
            Sealable::Input(chunk) => chunk,
        }
    }
}
