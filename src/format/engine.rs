//! The primitives of the format as a platform provides them: AES-256-GCM
//! over one STREAM chunk, and raw DEFLATE over one frame of SQL.
//!
//! [`Engine`] is what the asynchronous paths seal, open, compress and
//! inflate with ([`Encryptor::update_with`](super::Encryptor::update_with),
//! [`Decryptor::update_with`](super::Decryptor::update_with)):
//! [`SoftwareEngine`] (the `aes-gcm` and `miniz_oxide` crates, also behind
//! the synchronous paths that the CLI and native tests use) everywhere, and
//! WebCrypto with `CompressionStream` in the worker, where they run natively
//! instead of in wasm. Only the happy path goes through it: a chunk that
//! does not authenticate, or a frame that does not inflate, is diagnosed by
//! the crates, so every platform reports the same
//! [`FormatError`](super::FormatError).
//!
//! Invariants: for the same [`ChunkKey`], nonce and plaintext, every
//! implementation seals the same bytes, `ciphertext || tag` (AES-GCM is
//! deterministic; the end-to-end tests check the worker's WebCrypto objects
//! byte for byte against the committed test vectors). DEFLATE is not
//! deterministic across implementations: two engines may compress the same
//! SQL differently, and each inflates what any other compressed.

use std::future::Future;
use std::pin::Pin;

use super::frames::{software_deflate, software_inflate};
use super::keys::PayloadKey;
use super::{ChunkCipher, HeaderMac, Nonce};

/// The key and associated data of one object's chunks:
/// `AES-256-GCM[payload_key](nonce, aad = header_mac, chunk)`.
#[derive(Clone)]
pub struct ChunkKey {
    payload_key: [u8; 32],
    aad: HeaderMac,
}

impl ChunkKey {
    /// The chunk key of the object whose payload key and header MAC these are.
    pub fn new(payload_key: &PayloadKey, header_mac: &HeaderMac) -> Self {
        ChunkKey {
            payload_key: *payload_key.as_bytes(),
            aad: *header_mac,
        }
    }

    /// The AES-256 key bytes, for handing to a platform's AES-GCM only.
    pub fn key_bytes(&self) -> &[u8; 32] {
        &self.payload_key
    }

    /// The associated data every chunk is sealed with: the header MAC.
    pub fn aad(&self) -> &HeaderMac {
        &self.aad
    }
}

/// A platform's AES-GCM or DEFLATE failed (not an authentication failure:
/// sealing cannot fail that way; nor a frame that does not inflate, which
/// the crate diagnoses). Carries the platform's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct EngineFailed(pub String);

/// What [`Engine::seal`] returns: `ciphertext || tag`.
pub type SealFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, EngineFailed>> + 'a>>;

/// What [`Engine::open`] returns: the plaintext, or `None` when the
/// chunk does not authenticate under that nonce.
pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Vec<u8>>, EngineFailed>> + 'a>>;

/// What [`Engine::deflate`] and [`Engine::inflate`] return.
pub type BytesFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, EngineFailed>> + 'a>>;

/// AES-256-GCM over STREAM chunks and DEFLATE over frames; see the module
/// documentation.
pub trait Engine {
    /// `ciphertext || tag` of `plaintext` under `key` and `nonce`, with the
    /// key's associated data.
    fn seal<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, plaintext: &'a [u8]) -> SealFuture<'a>;

    /// The plaintext of `sealed` (`ciphertext || tag`) under `key` and
    /// `nonce`, only if it authenticates; no unauthenticated byte is ever
    /// returned.
    fn open<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, sealed: &'a [u8]) -> OpenFuture<'a>;

    /// The raw DEFLATE stream (RFC 1951) of `sql`.
    fn deflate<'a>(&'a self, sql: &'a [u8]) -> BytesFuture<'a>;

    /// What the raw DEFLATE stream `body` inflates to, which a frame
    /// says is `sql_len` bytes (an implementation may stop there); an error
    /// for a stream that is invalid or cut short. The decryptor checks the
    /// length, and lets the crate diagnose any frame that fails here.
    fn inflate<'a>(&'a self, body: &'a [u8], sql_len: usize) -> BytesFuture<'a>;
}

/// The primitives in software: the `aes-gcm` and `miniz_oxide` crates.
pub struct SoftwareEngine;

impl Engine for SoftwareEngine {
    fn seal<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, plaintext: &'a [u8]) -> SealFuture<'a> {
        let cipher = ChunkCipher::from_key(key);
        let mut sealed = Vec::with_capacity(plaintext.len() + super::TAG_SIZE);
        cipher.seal(nonce, plaintext, &mut sealed);
        Box::pin(std::future::ready(Ok(sealed)))
    }

    fn open<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, sealed: &'a [u8]) -> OpenFuture<'a> {
        let cipher = ChunkCipher::from_key(key);
        let mut plaintext = Vec::with_capacity(sealed.len());
        let opened = cipher.open(nonce, sealed, &mut plaintext).is_ok();
        Box::pin(std::future::ready(Ok(opened.then_some(plaintext))))
    }

    fn deflate<'a>(&'a self, sql: &'a [u8]) -> BytesFuture<'a> {
        Box::pin(std::future::ready(Ok(software_deflate(sql))))
    }

    fn inflate<'a>(&'a self, body: &'a [u8], sql_len: usize) -> BytesFuture<'a> {
        Box::pin(std::future::ready(
            software_inflate(body, sql_len, 0).map_err(|e| EngineFailed(e.to_string())),
        ))
    }
}
