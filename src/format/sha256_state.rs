//! SHA-256 (FIPS 180-4) whose running state can be saved in a checkpoint
//! and carried on in another invocation: `sha2::Sha256` cannot be
//! serialized, WebCrypto digests cannot be resumed at all.
//!
//! The state is the eight 32-bit chaining words, the input bytes not yet
//! compressed (less than one 64-byte block) and the input length; blocks are
//! compressed by `sha2::compress256`, so the digest is `sha2`'s own.
//!
//! Invariants: `buffer` holds exactly `length % 64` bytes (a deserialized
//! state that breaks this is refused); the digest depends only on the bytes
//! fed in, never on how they were split or how often the state was saved.

use serde::{Deserialize, Serialize};
use sha2::digest::generic_array::GenericArray;

use super::Sha256Digest;

/// Bytes per SHA-256 block.
const BLOCK: usize = 64;

/// SHA-256's initial chaining words (FIPS 180-4, 5.3.3).
const INITIAL: [u32; 8] = [
    0x6a09_e667,
    0xbb67_ae85,
    0x3c6e_f372,
    0xa54f_f53a,
    0x510e_527f,
    0x9b05_688c,
    0x1f83_d9ab,
    0x5be0_cd19,
];

/// A running SHA-256 that can be serialized; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "RawState")]
pub struct Sha256State {
    state: [u32; 8],
    #[serde(with = "crate::serde_base64")]
    buffer: Vec<u8>,
    length: u64,
}

/// The serialized form, checked before it becomes a [`Sha256State`].
#[derive(Deserialize)]
struct RawState {
    state: [u32; 8],
    #[serde(with = "crate::serde_base64")]
    buffer: Vec<u8>,
    length: u64,
}

/// A saved SHA-256 state whose buffered bytes do not match its length.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("a saved SHA-256 state buffers {buffered} bytes after {length} bytes of input (must be {expected})")]
pub struct Sha256StateError {
    /// Bytes buffered.
    pub buffered: usize,
    /// Input length recorded.
    pub length: u64,
    /// What `buffered` must be: `length % 64`.
    pub expected: u64,
}

impl TryFrom<RawState> for Sha256State {
    type Error = Sha256StateError;

    fn try_from(raw: RawState) -> Result<Self, Self::Error> {
        let expected = raw.length % BLOCK as u64;
        if raw.buffer.len() as u64 != expected {
            return Err(Sha256StateError {
                buffered: raw.buffer.len(),
                length: raw.length,
                expected,
            });
        }
        Ok(Sha256State {
            state: raw.state,
            buffer: raw.buffer,
            length: raw.length,
        })
    }
}

impl Default for Sha256State {
    fn default() -> Self {
        Self::new()
    }
}

impl Sha256State {
    /// The state before any input.
    pub fn new() -> Self {
        Sha256State {
            state: INITIAL,
            buffer: Vec::with_capacity(BLOCK),
            length: 0,
        }
    }

    /// Bytes fed in so far.
    pub fn bytes_hashed(&self) -> u64 {
        self.length
    }

    /// Feeds `data` in.
    pub fn update(&mut self, mut data: &[u8]) {
        self.length = self.length.wrapping_add(data.len() as u64);
        if !self.buffer.is_empty() {
            let take = (BLOCK - self.buffer.len()).min(data.len());
            self.buffer.extend_from_slice(&data[..take]);
            data = &data[take..];
            if self.buffer.len() < BLOCK {
                return;
            }
            compress(&mut self.state, &self.buffer);
            self.buffer.clear();
        }
        let whole = data.len() - data.len() % BLOCK;
        compress(&mut self.state, &data[..whole]);
        self.buffer.extend_from_slice(&data[whole..]);
    }

    /// Pads the input and returns its digest.
    pub fn finish(mut self) -> Sha256Digest {
        let bits = self.length.wrapping_mul(8);
        let mut tail = std::mem::take(&mut self.buffer);
        tail.push(0x80);
        let padded = (tail.len() + 8).next_multiple_of(BLOCK);
        tail.resize(padded - 8, 0);
        tail.extend_from_slice(&bits.to_be_bytes());
        compress(&mut self.state, &tail);
        let mut digest = [0u8; 32];
        for (out, word) in digest.chunks_exact_mut(4).zip(self.state) {
            out.copy_from_slice(&word.to_be_bytes());
        }
        Sha256Digest(digest)
    }
}

/// Compresses whole blocks into `state`; `blocks.len()` is a multiple of 64.
fn compress(state: &mut [u32; 8], blocks: &[u8]) {
    for block in blocks.chunks_exact(BLOCK) {
        sha2::compress256(state, std::slice::from_ref(GenericArray::from_slice(block)));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;
    use sha2::{Digest, Sha256};

    fn reference(data: &[u8]) -> Sha256Digest {
        Sha256Digest(Sha256::digest(data).into())
    }

    #[test]
    fn known_digests() {
        let digest = |data: &[u8]| {
            let mut state = Sha256State::new();
            state.update(data);
            state.finish().to_string()
        };
        assert_eq!(
            digest(b""),
            "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
        );
        assert_eq!(
            digest(b"abc"),
            "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"
        );
        assert_eq!(
            digest(b"abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq"),
            "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"
        );
    }

    #[test]
    fn every_length_around_the_padding_boundaries_matches_sha2() {
        let data: Vec<u8> = (0..300u32).map(|i| (i * 7 + 3) as u8).collect();
        for len in 0..data.len() {
            let mut state = Sha256State::new();
            state.update(&data[..len]);
            assert_eq!(state.bytes_hashed(), len as u64);
            assert_eq!(state.finish(), reference(&data[..len]), "length {len}");
        }
    }

    #[test]
    fn a_state_whose_buffer_does_not_match_its_length_is_refused() {
        let mut state = Sha256State::new();
        state.update(b"hello");
        let mut json: serde_json::Value = serde_json::to_value(&state).unwrap();
        json["length"] = 6.into();
        let error = serde_json::from_value::<Sha256State>(json).unwrap_err();
        assert!(error.to_string().contains("must be 6"), "{error}");
    }

    proptest! {
        #[test]
        fn any_split_with_saves_in_between_gives_sha2s_digest(
            data in proptest::collection::vec(any::<u8>(), 0..600),
            cuts in proptest::collection::vec(0usize..600, 0..8),
        ) {
            let mut cuts: Vec<usize> = cuts.into_iter().map(|c| c.min(data.len())).collect();
            cuts.sort_unstable();
            let mut state = Sha256State::new();
            let mut from = 0;
            for cut in cuts.into_iter().chain([data.len()]) {
                state.update(&data[from..cut]);
                from = cut;
                let json = serde_json::to_string(&state).unwrap();
                state = serde_json::from_str(&json).unwrap();
            }
            prop_assert_eq!(state.finish(), reference(&data));
        }
    }
}
