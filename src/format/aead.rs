//! AES-256-GCM as a platform provides it, one STREAM chunk at a time.
//!
//! [`ChunkAead`] is what the asynchronous paths seal and open chunks with
//! ([`Encryptor::update_with`](super::Encryptor::update_with),
//! [`Decryptor::update_with`](super::Decryptor::update_with)):
//! [`SoftwareAes`] (the `aes-gcm` crate, also behind the synchronous paths
//! that the CLI and native tests use) everywhere, and WebCrypto
//! (`crypto.subtle`) in the worker, where it runs natively instead of in
//! wasm. Only the happy path goes through it: a chunk that does not
//! authenticate is diagnosed by the crate, so every platform reports the
//! same [`FormatError`](super::FormatError).
//!
//! Invariant: for the same [`ChunkKey`], nonce and plaintext, every
//! implementation returns the same bytes, `ciphertext || tag`. AES-GCM is
//! deterministic, so this holds by construction for a correct
//! implementation; the end-to-end tests check the worker's WebCrypto
//! objects byte for byte against the committed test vectors.

use std::future::Future;
use std::pin::Pin;

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

/// A platform's AES-GCM failed (not an authentication failure: sealing
/// cannot fail that way). Carries the platform's message.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("AES-GCM failed: {0}")]
pub struct CryptoFailed(pub String);

/// What [`ChunkAead::seal`] returns: `ciphertext || tag`.
pub type SealFuture<'a> = Pin<Box<dyn Future<Output = Result<Vec<u8>, CryptoFailed>> + 'a>>;

/// What [`ChunkAead::open`] returns: the plaintext, or `None` when the
/// chunk does not authenticate under that nonce.
pub type OpenFuture<'a> = Pin<Box<dyn Future<Output = Result<Option<Vec<u8>>, CryptoFailed>> + 'a>>;

/// AES-256-GCM over STREAM chunks; see the module documentation.
pub trait ChunkAead {
    /// `ciphertext || tag` of `plaintext` under `key` and `nonce`, with the
    /// key's associated data.
    fn seal<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, plaintext: &'a [u8]) -> SealFuture<'a>;

    /// The plaintext of `sealed` (`ciphertext || tag`) under `key` and
    /// `nonce`, only if it authenticates; no unauthenticated byte is ever
    /// returned.
    fn open<'a>(&'a self, key: &'a ChunkKey, nonce: Nonce, sealed: &'a [u8]) -> OpenFuture<'a>;
}

/// AES-256-GCM in software, by the `aes-gcm` crate.
pub struct SoftwareAes;

impl ChunkAead for SoftwareAes {
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
}
