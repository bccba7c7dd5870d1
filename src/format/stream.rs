//! STREAM over AES-256-GCM: the chunk size, the nonce, and sealing and
//! opening one chunk. The encryptor and decryptor drive these; the framing
//! rules (which chunk is final) live there.
//!
//! STREAM: Hoang, Reyhanitabar, Rogaway, Vizár, "Online Authenticated-Encryption
//! and its Nonce-Reuse Misuse-Resistance", CRYPTO 2015,
//! <https://eprint.iacr.org/2015/189>.

use aes_gcm::aead::AeadInPlace;
use aes_gcm::{Aes256Gcm, KeyInit, Tag};

use super::engine::ChunkKey;
use super::keys::PayloadKey;
use super::{
    FormatError, HeaderMac, COUNTER_SIZE, DEFAULT_CHUNK_SIZE, FLAG_FINAL, FLAG_NON_FINAL,
    MAX_CHUNK_SIZE, MIN_CHUNK_SIZE, NONCE_SIZE, TAG_SIZE,
};

/// Plaintext bytes per non-final chunk: a power of two from
/// [`MIN_CHUNK_SIZE`] to [`MAX_CHUNK_SIZE`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ChunkSize(u32);

impl ChunkSize {
    /// The size writers use, [`DEFAULT_CHUNK_SIZE`].
    pub const DEFAULT: ChunkSize = ChunkSize(DEFAULT_CHUNK_SIZE);

    /// Validates a chunk size read from a header or chosen by a test.
    pub fn new(chunk_size: u32) -> Result<Self, FormatError> {
        if chunk_size.is_power_of_two() && (MIN_CHUNK_SIZE..=MAX_CHUNK_SIZE).contains(&chunk_size) {
            Ok(ChunkSize(chunk_size))
        } else {
            Err(FormatError::BadChunkSize { chunk_size })
        }
    }

    /// The size as written in the header.
    pub fn get(self) -> u32 {
        self.0
    }

    /// Plaintext bytes per non-final chunk.
    pub fn plaintext_len(self) -> usize {
        // At most 2^20: fits any usize this code runs on.
        self.0 as usize
    }

    /// Bytes per non-final chunk on the wire: plaintext plus tag.
    pub fn sealed_len(self) -> usize {
        self.plaintext_len() + TAG_SIZE
    }
}

impl Default for ChunkSize {
    fn default() -> Self {
        ChunkSize::DEFAULT
    }
}

/// The nonce of one STREAM chunk, 12 bytes:
///
/// ```text
/// byte  0 ..= 10   chunk counter, 88-bit big-endian (here at most 2^64 - 1,
///                  so bytes 0..=2 are always zero)
/// byte  11         flag: 0x01 for the final chunk, 0x00 for every other
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Nonce([u8; NONCE_SIZE]);

impl Nonce {
    /// The nonce of chunk `counter`, final or not.
    pub fn new(counter: u64, last: bool) -> Self {
        let mut bytes = [0u8; NONCE_SIZE];
        bytes[COUNTER_SIZE - 8..COUNTER_SIZE].copy_from_slice(&counter.to_be_bytes());
        bytes[COUNTER_SIZE] = if last { FLAG_FINAL } else { FLAG_NON_FINAL };
        Nonce(bytes)
    }

    /// The 12 nonce bytes, for AES-GCM.
    pub fn to_bytes(self) -> [u8; NONCE_SIZE] {
        self.0
    }
}

/// Seals and opens the chunks of one object:
/// `AES-256-GCM[payload_key](nonce, aad = header_mac, chunk)`.
pub struct ChunkCipher {
    aead: Aes256Gcm,
    aad: HeaderMac,
}

/// A chunk failed authentication under the nonce tried.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct AuthFailed;

impl ChunkCipher {
    /// The cipher for the object whose payload key and header MAC these are.
    pub fn new(payload_key: &PayloadKey, header_mac: &HeaderMac) -> Self {
        ChunkCipher {
            aead: Aes256Gcm::new(payload_key.as_bytes().into()),
            aad: *header_mac,
        }
    }

    /// The cipher for the object whose chunk key this is.
    pub fn from_key(key: &ChunkKey) -> Self {
        ChunkCipher {
            aead: Aes256Gcm::new(key.key_bytes().into()),
            aad: *key.aad(),
        }
    }

    /// Appends `ciphertext || tag` of `plaintext` to `out`.
    ///
    /// # Panics
    ///
    /// If `plaintext` is longer than [`MAX_CHUNK_SIZE`] (a caller bug).
    pub fn seal(&self, nonce: Nonce, plaintext: &[u8], out: &mut Vec<u8>) {
        assert!(
            plaintext.len() <= MAX_CHUNK_SIZE as usize,
            "chunk too large"
        );
        let start = out.len();
        out.extend_from_slice(plaintext);
        let tag = self
            .aead
            .encrypt_in_place_detached(&nonce.to_bytes().into(), &self.aad, &mut out[start..])
            .expect("a chunk of at most 1 MiB is within AES-GCM's message limit");
        out.extend_from_slice(&tag);
    }

    /// Authenticates `sealed` (`ciphertext || tag`) and, only if it is
    /// authentic, appends its plaintext to `out`. On failure `out` is unchanged.
    pub fn open(&self, nonce: Nonce, sealed: &[u8], out: &mut Vec<u8>) -> Result<(), AuthFailed> {
        let body_len = sealed.len().checked_sub(TAG_SIZE).ok_or(AuthFailed)?;
        let (body, tag) = sealed.split_at(body_len);
        let start = out.len();
        out.extend_from_slice(body);
        // aes-gcm checks the tag before it decrypts, so no unauthenticated
        // plaintext is ever computed; the truncate below drops the ciphertext.
        let opened = self.aead.decrypt_in_place_detached(
            &nonce.to_bytes().into(),
            &self.aad,
            &mut out[start..],
            Tag::from_slice(tag),
        );
        if opened.is_err() {
            out.truncate(start);
            return Err(AuthFailed);
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nonce_layout_is_counter_then_flag() {
        assert_eq!(Nonce::new(0, false).to_bytes(), [0; 12]);
        assert_eq!(
            Nonce::new(0x0102_0304_0506_0708, true).to_bytes(),
            [0, 0, 0, 1, 2, 3, 4, 5, 6, 7, 8, 1]
        );
        assert_eq!(Nonce::new(u64::MAX, false).to_bytes()[..3], [0, 0, 0]);
    }

    #[test]
    fn chunk_sizes_are_powers_of_two_in_range() {
        for ok in [1024, 2048, 65536, 1 << 20] {
            assert_eq!(ChunkSize::new(ok).map(ChunkSize::get), Ok(ok));
        }
        for bad in [0, 512, 1000, 3000, 65535, 1 << 21] {
            assert_eq!(
                ChunkSize::new(bad),
                Err(FormatError::BadChunkSize { chunk_size: bad })
            );
        }
    }
}
