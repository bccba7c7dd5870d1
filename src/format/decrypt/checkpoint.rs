//! Saving a [`Decryptor`] between invocations and carrying on.
//!
//! A [`DecryptorCheckpoint`] holds everything a decryptor knows except key
//! material: the object's header bytes (public: they are the object's first
//! bytes), the counter of the next chunk, the ciphertext buffered after the
//! header (at most one sealed chunk), in version 2 the frame being read (at
//! most one frame of payload) and both running SHA-256 states.
//! [`Decryptor::resume`] reads the header again with the keyring it is
//! given, so the header is authenticated again and the keys are derived
//! again; no key byte is ever serialized.
//!
//! Invariants: a decryptor resumed from its checkpoint releases exactly the
//! plaintext, and ends with exactly the summary or error, that the original
//! would have; a checkpoint is resumed only if its counts agree with each
//! other (every chunk opened is full, so the object bytes read are the
//! header, `counter` sealed chunks and the buffered bytes, and in version 1
//! the plaintext is `counter` chunks); a failed decryptor has no checkpoint.

use serde::{Deserialize, Serialize};

use super::super::frames::FrameSplitter;
use super::super::{BackupId, FormatError, FormatVersion, Keyring, Sha256State};
use super::{Decryptor, State};

/// A decryptor's state without its keys; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DecryptorCheckpoint {
    /// The header's bytes: complete once `authenticated`, else the part read.
    #[serde(with = "crate::serde_base64")]
    header: Vec<u8>,
    authenticated: bool,
    /// Counter of the next chunk.
    counter: u64,
    /// Ciphertext read after the header and not yet opened.
    #[serde(with = "crate::serde_base64")]
    pending: Vec<u8>,
    /// Version 2: the position of the frame being read, and its bytes so far.
    #[serde(default)]
    frame_index: u64,
    #[serde(default, with = "crate::serde_base64")]
    frame: Vec<u8>,
    plaintext_hash: Sha256State,
    ciphertext_hash: Sha256State,
}

/// Why a checkpoint cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptorResumeError {
    /// Reading the header again failed: its key is no longer in the keyring,
    /// or the header is not the object's.
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The checkpoint's fields contradict each other (it was altered or
    /// written by another version).
    #[error("the decryption checkpoint is inconsistent: {0}")]
    Inconsistent(String),
}

impl DecryptorCheckpoint {
    /// Object bytes read so far, header included.
    pub fn ciphertext_bytes(&self) -> u64 {
        self.ciphertext_hash.bytes_hashed()
    }
}

impl Decryptor {
    /// Everything needed to carry on later, keys excepted; after an error,
    /// that error.
    pub fn checkpoint(&self) -> Result<DecryptorCheckpoint, FormatError> {
        match &self.state {
            State::Failed(error) => Err(error.clone()),
            State::Header => Ok(DecryptorCheckpoint {
                header: self.buf.clone(),
                authenticated: false,
                counter: 0,
                pending: Vec::new(),
                frame_index: 0,
                frame: Vec::new(),
                plaintext_hash: Sha256State::new(),
                ciphertext_hash: self.ciphertext_hash.clone(),
            }),
            State::Chunks(body) => Ok(DecryptorCheckpoint {
                header: self.header_bytes.clone(),
                authenticated: true,
                counter: body.counter,
                pending: self.buf.clone(),
                frame_index: body.frames.partial().0,
                frame: body.frames.partial().1.to_vec(),
                plaintext_hash: body.plaintext_hash.clone(),
                ciphertext_hash: self.ciphertext_hash.clone(),
            }),
        }
    }

    /// The decryptor `checkpoint` was taken of, reading its header again
    /// with `keyring` and, if given, for `expected_backup_id` only (as
    /// [`Decryptor::new`] does).
    pub fn resume(
        keyring: &Keyring,
        expected_backup_id: Option<&BackupId>,
        checkpoint: DecryptorCheckpoint,
    ) -> Result<Self, DecryptorResumeError> {
        let inconsistent = |detail: String| Err(DecryptorResumeError::Inconsistent(detail));
        let mut decryptor = Decryptor::new(keyring, expected_backup_id);
        let mut released = Vec::new();
        decryptor.update(&checkpoint.header, &mut released)?;
        let header_len = checkpoint.header.len() as u64;
        match (&mut decryptor.state, checkpoint.authenticated) {
            (State::Header, false) => {
                let untouched = checkpoint.counter == 0
                    && checkpoint.pending.is_empty()
                    && checkpoint.frame_index == 0
                    && checkpoint.frame.is_empty()
                    && checkpoint.plaintext_hash.bytes_hashed() == 0
                    && checkpoint.ciphertext_hash == decryptor.ciphertext_hash;
                if !untouched {
                    return inconsistent(format!(
                        "{header_len} header bytes read, yet chunks or other bytes are counted"
                    ));
                }
                Ok(decryptor)
            }
            (State::Chunks(body), true) => {
                let sealed_len = body.header.chunk_size.sealed_len() as u64;
                let chunk_len = body.header.chunk_size.plaintext_len() as u64;
                let pending = checkpoint.pending.len() as u64;
                let expected_ciphertext = checkpoint
                    .counter
                    .checked_mul(sealed_len)
                    .and_then(|sealed| sealed.checked_add(header_len + pending));
                let payload = checkpoint.counter.checked_mul(chunk_len);
                let expected_plaintext = match body.header.version {
                    FormatVersion::V1 => payload,
                    FormatVersion::V2 => Some(checkpoint.plaintext_hash.bytes_hashed()),
                };
                let frame = checkpoint.frame.len() as u64;
                let frame_fits = match body.header.version {
                    FormatVersion::V1 => frame == 0 && checkpoint.frame_index == 0,
                    FormatVersion::V2 => payload.is_some_and(|payload| frame <= payload),
                };
                if pending > sealed_len
                    || !frame_fits
                    || header_len != body.header.len as u64
                    || expected_ciphertext != Some(checkpoint.ciphertext_hash.bytes_hashed())
                    || expected_plaintext != Some(checkpoint.plaintext_hash.bytes_hashed())
                {
                    return inconsistent(format!(
                        "{} chunks opened and {pending} bytes pending after a {header_len}-byte \
                         header, but {} plaintext and {} object bytes hashed",
                        checkpoint.counter,
                        checkpoint.plaintext_hash.bytes_hashed(),
                        checkpoint.ciphertext_hash.bytes_hashed()
                    ));
                }
                body.frames = FrameSplitter::resume(checkpoint.frame_index, checkpoint.frame)?;
                body.counter = checkpoint.counter;
                body.plaintext_bytes = checkpoint.plaintext_hash.bytes_hashed();
                body.plaintext_hash = checkpoint.plaintext_hash;
                decryptor.ciphertext_bytes = checkpoint.ciphertext_hash.bytes_hashed();
                decryptor.ciphertext_hash = checkpoint.ciphertext_hash;
                decryptor.buf.extend_from_slice(&checkpoint.pending);
                Ok(decryptor)
            }
            (_, authenticated) => inconsistent(format!(
                "the checkpoint says the header was {}authenticated, but its {header_len} bytes \
                 read otherwise",
                if authenticated { "" } else { "not " }
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::super::super::keys::MasterKey;
    use super::*;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const OTHER_KEY: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    /// Three chunks of 1 KiB under `KEY`, for backup `20260101T020000Z-vectors`.
    const THREE_CHUNKS: &[u8] = include_bytes!("../../../tests/vectors/ok_three_chunks.enc");

    fn keyring() -> Keyring {
        Keyring::new(MasterKey::from_hex(KEY).unwrap())
    }

    fn id() -> BackupId {
        "20260101T020000Z-vectors".parse().unwrap()
    }

    /// Decrypts the object in pieces cut at `cuts`, saving the decryptor as
    /// JSON and resuming it after every piece.
    fn decrypt_resumed(cuts: &[usize]) -> (Vec<u8>, super::super::DecryptSummary) {
        decrypt_resumed_of(THREE_CHUNKS, cuts)
    }

    fn decrypt_resumed_of(
        object: &[u8],
        cuts: &[usize],
    ) -> (Vec<u8>, super::super::DecryptSummary) {
        let mut decryptor = Decryptor::new(&keyring(), Some(&id()));
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            decryptor.update(&object[from..cut], &mut out).unwrap();
            from = cut;
            let json = serde_json::to_string(&decryptor.checkpoint().unwrap()).unwrap();
            let checkpoint = serde_json::from_str(&json).unwrap();
            decryptor = Decryptor::resume(&keyring(), Some(&id()), checkpoint).unwrap();
        }
        decryptor.update(&object[from..], &mut out).unwrap();
        let summary = decryptor.finish(&mut out).unwrap();
        (out, summary)
    }

    #[test]
    fn a_resumed_version_2_decryptor_releases_the_same_sql_and_summary() {
        let object = include_bytes!("../../../tests/vectors/ok_v2_two_frames.enc");
        let whole = decrypt_resumed_of(object, &[]);
        assert_eq!(whole.1.version, FormatVersion::V2);
        assert_eq!(whole.0.len(), crate::format::FRAME_SQL_BYTES + 1000);
        let len = object.len();
        let splits: Vec<Vec<usize>> = vec![
            vec![0, 200, 1200],
            vec![len / 2, len - 20],
            (0..=len).step_by(1777).collect(),
        ];
        for cuts in splits {
            assert_eq!(decrypt_resumed_of(object, &cuts), whole, "cut at {cuts:?}");
        }
    }

    #[test]
    fn a_resumed_decryptor_releases_the_same_plaintext_and_summary() {
        let whole = decrypt_resumed(&[]);
        let len = THREE_CHUNKS.len();
        let splits: Vec<Vec<usize>> = vec![
            vec![0],
            vec![1, 10, 50],
            vec![100, 1100, 1200, 2300],
            vec![len - 1],
            (0..=len).step_by(37).collect(),
        ];
        for cuts in splits {
            assert_eq!(decrypt_resumed(&cuts), whole, "cut at {cuts:?}");
        }
    }

    #[test]
    fn a_checkpoint_holds_no_key_material() {
        let mut decryptor = Decryptor::new(&keyring(), Some(&id()));
        decryptor
            .update(&THREE_CHUNKS[..1500], &mut Vec::new())
            .unwrap();
        let checkpoint = decryptor.checkpoint().unwrap();
        assert_eq!(checkpoint.ciphertext_bytes(), 1500);
        let json = serde_json::to_value(&checkpoint).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "authenticated",
                "ciphertext_hash",
                "counter",
                "frame",
                "frame_index",
                "header",
                "pending",
                "plaintext_hash"
            ]
        );
        assert_eq!(json["counter"], 1);
    }

    #[test]
    fn a_keyring_without_the_objects_key_cannot_carry_on() {
        let mut decryptor = Decryptor::new(&keyring(), Some(&id()));
        decryptor
            .update(&THREE_CHUNKS[..1500], &mut Vec::new())
            .unwrap();
        let other = Keyring::new(MasterKey::from_hex(OTHER_KEY).unwrap());
        let error = Decryptor::resume(&other, Some(&id()), decryptor.checkpoint().unwrap())
            .err()
            .unwrap();
        assert!(
            matches!(
                error,
                DecryptorResumeError::Format(FormatError::UnknownKey { .. })
            ),
            "{error}"
        );
    }

    #[test]
    fn a_checkpoint_whose_counts_disagree_is_refused() {
        let mut decryptor = Decryptor::new(&keyring(), Some(&id()));
        decryptor
            .update(&THREE_CHUNKS[..1500], &mut Vec::new())
            .unwrap();
        let good = decryptor.checkpoint().unwrap();
        let mut skipped = good.clone();
        skipped.counter += 1;
        let mut overfull = good.clone();
        overfull.pending.resize(5000, 0);
        let mut unauthenticated = good.clone();
        unauthenticated.authenticated = false;
        for checkpoint in [skipped, overfull, unauthenticated] {
            let error = Decryptor::resume(&keyring(), Some(&id()), checkpoint)
                .err()
                .unwrap();
            assert!(
                matches!(error, DecryptorResumeError::Inconsistent(_)),
                "{error}"
            );
        }
    }

    #[test]
    fn a_failed_decryptor_has_no_checkpoint() {
        let mut object = THREE_CHUNKS.to_vec();
        object[200] ^= 1;
        let mut decryptor = Decryptor::new(&keyring(), Some(&id()));
        let error = decryptor.update(&object, &mut Vec::new()).unwrap_err();
        assert_eq!(decryptor.checkpoint().unwrap_err(), error);
    }
}
