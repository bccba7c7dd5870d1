//! Saving an [`Encryptor`] between invocations and carrying on.
//!
//! An [`EncryptorCheckpoint`] holds everything an encryptor knows except key
//! material: the format version, the key id, the chunk size, whether the
//! header was emitted, the chunk counter, the partial chunk (less than one
//! chunk of payload), in version 2 the SQL of the frame being filled (less
//! than one frame), and both running SHA-256 states. [`Encryptor::resume`] derives the keys again
//! from the master key, the backup id and the salt, so no key byte is ever
//! serialized.
//!
//! Invariants: an encryptor resumed from its checkpoint writes exactly the
//! bytes the original would have written; a checkpoint is resumed only under
//! the key it was made with, and only if its counts agree with each other
//! (every non-final chunk is full, so the object length is the header and
//! `counter` sealed chunks; in version 1 the plaintext length is
//! `counter * chunk_size + partial chunk`). A checkpoint saved before
//! version 2 existed has no version: it carries on writing version 1.

use serde::{Deserialize, Serialize};

use super::super::engine::ChunkKey;
use super::super::frames::FrameCutter;
use super::super::header::seal_header;
use super::super::keys::{KeyId, MasterKey, PayloadKey};
use super::super::{
    BackupId, ChunkCipher, ChunkSize, FormatVersion, Sha256State, SALT_SIZE, TAG_SIZE,
};
use super::Encryptor;

/// An encryptor's state without its keys; see the module documentation.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct EncryptorCheckpoint {
    #[serde(default = "version_1")]
    version: FormatVersion,
    key_id: KeyId,
    chunk_size: u32,
    header_emitted: bool,
    counter: u64,
    #[serde(with = "crate::serde_base64")]
    chunk: Vec<u8>,
    #[serde(default, with = "crate::serde_base64")]
    frame: Vec<u8>,
    plaintext_hash: Sha256State,
    ciphertext_hash: Sha256State,
}

/// Why a checkpoint cannot be resumed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum EncryptorResumeError {
    /// The master key is not the one the object was started with (it was
    /// rotated while the backup ran): the rest would not decrypt.
    #[error(
        "the backup was started with key {started_with} and the current key is {current}; \
         an object cannot change keys midway, so this backup must be taken again"
    )]
    KeyChanged {
        /// The key id in the checkpoint.
        started_with: KeyId,
        /// The current key's id.
        current: KeyId,
    },
    /// The checkpoint's fields contradict each other (it was altered or
    /// written by another version).
    #[error("the encryption checkpoint is inconsistent: {0}")]
    Inconsistent(String),
}

/// The version of a checkpoint saved before versions were recorded.
fn version_1() -> FormatVersion {
    FormatVersion::V1
}

impl EncryptorCheckpoint {
    /// Plaintext bytes encrypted so far.
    pub fn plaintext_bytes(&self) -> u64 {
        self.plaintext_hash.bytes_hashed()
    }
}

impl Encryptor {
    /// Everything needed to carry on later, keys excepted.
    pub fn checkpoint(&self) -> EncryptorCheckpoint {
        EncryptorCheckpoint {
            version: self.version,
            key_id: self.key_id,
            chunk_size: self.chunk_size.get(),
            header_emitted: self.pending_header.is_empty(),
            counter: self.counter,
            chunk: self.chunk.clone(),
            frame: self.frames.pending().to_vec(),
            plaintext_hash: self.plaintext_hash.clone(),
            ciphertext_hash: self.ciphertext_hash.clone(),
        }
    }

    /// The encryptor `checkpoint` was taken of, with its keys derived again
    /// from `key`, `backup_id` and `salt` (the ones it was created with).
    pub fn resume(
        key: &MasterKey,
        backup_id: &BackupId,
        salt: [u8; SALT_SIZE],
        checkpoint: EncryptorCheckpoint,
    ) -> Result<Self, EncryptorResumeError> {
        if key.id() != checkpoint.key_id {
            return Err(EncryptorResumeError::KeyChanged {
                started_with: checkpoint.key_id,
                current: key.id(),
            });
        }
        let inconsistent = |detail: String| Err(EncryptorResumeError::Inconsistent(detail));
        let Ok(chunk_size) = ChunkSize::new(checkpoint.chunk_size) else {
            return inconsistent(format!("chunk size {}", checkpoint.chunk_size));
        };
        let chunk_len = chunk_size.plaintext_len() as u64;
        let partial = checkpoint.chunk.len() as u64;
        if partial > chunk_len {
            return inconsistent(format!("a partial chunk of {partial} bytes"));
        }
        let Some(frames) = FrameCutter::resume(checkpoint.frame) else {
            return inconsistent("a whole frame of SQL pending".into());
        };
        if checkpoint.version == FormatVersion::V1 && !frames.pending().is_empty() {
            return inconsistent("version 1 with a frame of SQL pending".into());
        }
        let header = seal_header(checkpoint.version, key, chunk_size, &salt, backup_id);
        let expected_plaintext = match checkpoint.version {
            FormatVersion::V1 => checkpoint
                .counter
                .checked_mul(chunk_len)
                .and_then(|full| full.checked_add(partial)),
            FormatVersion::V2 => Some(checkpoint.plaintext_hash.bytes_hashed()),
        };
        let header_bytes = if checkpoint.header_emitted {
            header.bytes.len() as u64
        } else {
            0
        };
        let expected_ciphertext = checkpoint
            .counter
            .checked_mul(chunk_len + TAG_SIZE as u64)
            .and_then(|sealed| sealed.checked_add(header_bytes));
        if expected_plaintext != Some(checkpoint.plaintext_hash.bytes_hashed())
            || expected_ciphertext != Some(checkpoint.ciphertext_hash.bytes_hashed())
        {
            return inconsistent(format!(
                "{} chunks sealed, {partial} bytes pending, but {} plaintext and {} object bytes hashed",
                checkpoint.counter,
                checkpoint.plaintext_hash.bytes_hashed(),
                checkpoint.ciphertext_hash.bytes_hashed()
            ));
        }
        let mut chunk = checkpoint.chunk;
        chunk.reserve_exact(chunk_size.plaintext_len() - chunk.len());
        let chunk_key = ChunkKey::new(&PayloadKey::derive(key, &salt), &header.mac);
        Ok(Encryptor {
            cipher: ChunkCipher::from_key(&chunk_key),
            chunk_key,
            pending_header: if checkpoint.header_emitted {
                Vec::new()
            } else {
                header.bytes
            },
            chunk_size,
            version: checkpoint.version,
            frames,
            chunk,
            counter: checkpoint.counter,
            key_id: checkpoint.key_id,
            plaintext_hash: checkpoint.plaintext_hash,
            ciphertext_hash: checkpoint.ciphertext_hash,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use sha2::{Digest, Sha256};

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const OTHER_KEY: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
    /// The committed version 1 vector that [`vector_plaintext`] encrypts to.
    const THREE_CHUNKS: &[u8] = include_bytes!("../../../tests/vectors/ok_three_chunks.enc");
    /// The committed version 2 vector: two frames over 1 KiB chunks.
    const TWO_FRAMES: &[u8] = include_bytes!("../../../tests/vectors/ok_v2_two_frames.enc");

    fn id() -> BackupId {
        "20260101T020000Z-vectors".parse().unwrap()
    }

    /// The salt tests/vectors/generator.rs uses for the vector `name`.
    fn salt_of(name: &str) -> [u8; SALT_SIZE] {
        Sha256::new()
            .chain_update(b"d1-vault test vector salt")
            .chain_update(name)
            .finalize()
            .into()
    }

    fn vector_salt() -> [u8; SALT_SIZE] {
        salt_of("ok_three_chunks")
    }

    /// The plaintext of `ok_three_chunks`.
    fn vector_plaintext() -> Vec<u8> {
        sql_text(3 * 1024 + 100)
    }

    /// The generator's `len` bytes of SQL-like text.
    fn sql_text(len: usize) -> Vec<u8> {
        let mut text = Vec::new();
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

    fn small_chunks() -> ChunkSize {
        ChunkSize::new(1024).unwrap()
    }

    /// A version 1 encryptor of `ok_three_chunks`.
    fn v1_encryptor(key: &MasterKey) -> Encryptor {
        Encryptor::with_version(FormatVersion::V1, key, &id(), vector_salt(), small_chunks())
    }

    /// Encrypts `plaintext` in pieces cut at `cuts`, saving the encryptor
    /// as JSON and resuming it after every piece.
    fn encrypt_resumed(key: &MasterKey, plaintext: &[u8], cuts: &[usize]) -> Vec<u8> {
        encrypt_resumed_as(FormatVersion::V1, vector_salt(), key, plaintext, cuts)
    }

    fn encrypt_resumed_as(
        version: FormatVersion,
        salt: [u8; SALT_SIZE],
        key: &MasterKey,
        plaintext: &[u8],
        cuts: &[usize],
    ) -> Vec<u8> {
        let mut encryptor = Encryptor::with_version(version, key, &id(), salt, small_chunks());
        let mut out = Vec::new();
        let mut from = 0;
        for &cut in cuts {
            encryptor.update(&plaintext[from..cut], &mut out);
            from = cut;
            let json = serde_json::to_string(&encryptor.checkpoint()).unwrap();
            let checkpoint = serde_json::from_str(&json).unwrap();
            encryptor = Encryptor::resume(key, &id(), salt, checkpoint).unwrap();
        }
        encryptor.update(&plaintext[from..], &mut out);
        encryptor.finish(&mut out);
        out
    }

    #[test]
    fn a_resumed_encryptor_writes_the_committed_vector_byte_for_byte() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let plaintext = vector_plaintext();
        let splits: [&[usize]; 5] = [
            &[],
            &[0],
            &[0, 0, 1, 1023, 1024, 1025, 2048],
            &[500, 1500, 2500, 3172],
            &[3172],
        ];
        for cuts in splits {
            assert_eq!(
                encrypt_resumed(&key, &plaintext, cuts),
                THREE_CHUNKS,
                "cut at {cuts:?}"
            );
        }
        let every_byte: Vec<usize> = (0..=plaintext.len()).step_by(97).collect();
        assert_eq!(encrypt_resumed(&key, &plaintext, &every_byte), THREE_CHUNKS);
    }

    #[test]
    fn a_resumed_version_2_encryptor_writes_the_committed_vector_byte_for_byte() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let frame = crate::format::FRAME_SQL_BYTES;
        let plaintext = sql_text(frame + 1000);
        let salt = salt_of("ok_v2_two_frames");
        let splits: [&[usize]; 4] = [
            &[],
            &[1, frame - 1, frame, frame + 1],
            &[1000, 200_000, frame + 999],
            &[frame + 1000],
        ];
        for cuts in splits {
            assert_eq!(
                encrypt_resumed_as(FormatVersion::V2, salt, &key, &plaintext, cuts),
                TWO_FRAMES,
                "cut at {cuts:?}"
            );
        }
    }

    #[test]
    fn a_checkpoint_saved_before_versions_carries_on_as_version_1() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let plaintext = vector_plaintext();
        let mut encryptor = v1_encryptor(&key);
        let mut out = Vec::new();
        encryptor.update(&plaintext[..1500], &mut out);
        let mut json = serde_json::to_value(encryptor.checkpoint()).unwrap();
        let fields = json.as_object_mut().unwrap();
        fields.remove("version");
        fields.remove("frame");
        let checkpoint = serde_json::from_value(json).unwrap();
        let mut resumed = Encryptor::resume(&key, &id(), vector_salt(), checkpoint).unwrap();
        resumed.update(&plaintext[1500..], &mut out);
        resumed.finish(&mut out);
        assert_eq!(out, THREE_CHUNKS);
    }

    #[test]
    fn a_checkpoint_holds_no_key_material() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let mut encryptor = v1_encryptor(&key);
        encryptor.update(&vector_plaintext()[..1500], &mut Vec::new());
        let json = serde_json::to_value(encryptor.checkpoint()).unwrap();
        let fields: Vec<&str> = json
            .as_object()
            .unwrap()
            .keys()
            .map(String::as_str)
            .collect();
        assert_eq!(
            fields,
            [
                "chunk",
                "chunk_size",
                "ciphertext_hash",
                "counter",
                "frame",
                "header_emitted",
                "key_id",
                "plaintext_hash",
                "version"
            ]
        );
        assert_eq!(json["key_id"], key.id().to_string());
        assert_eq!(json["counter"], 1);
        assert_eq!(encryptor.checkpoint().plaintext_bytes(), 1500);
    }

    #[test]
    fn another_key_cannot_carry_on_an_object() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let other = MasterKey::from_hex(OTHER_KEY).unwrap();
        let encryptor = Encryptor::with_chunk_size(&key, &id(), vector_salt(), small_chunks());
        let error = Encryptor::resume(&other, &id(), vector_salt(), encryptor.checkpoint())
            .err()
            .unwrap();
        assert_eq!(
            error,
            EncryptorResumeError::KeyChanged {
                started_with: key.id(),
                current: other.id()
            }
        );
        assert!(error.to_string().contains("taken again"), "{error}");
    }

    #[test]
    fn a_checkpoint_whose_counts_disagree_is_refused() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let mut encryptor = v1_encryptor(&key);
        encryptor.update(&vector_plaintext()[..2100], &mut Vec::new());
        let mut skipped = encryptor.checkpoint();
        skipped.counter += 1;
        let mut overfull = encryptor.checkpoint();
        overfull.chunk.resize(1025, 0);
        let mut unsent_header = encryptor.checkpoint();
        unsent_header.header_emitted = false;
        let mut framed_v1 = encryptor.checkpoint();
        framed_v1.frame = b"SELECT 1;".to_vec();
        let mut v2 = Encryptor::with_chunk_size(&key, &id(), vector_salt(), small_chunks());
        v2.update(&vector_plaintext(), &mut Vec::new());
        let mut whole_frame = v2.checkpoint();
        whole_frame.frame = vec![b' '; crate::format::FRAME_SQL_BYTES];
        for checkpoint in [skipped, overfull, unsent_header, framed_v1, whole_frame] {
            let error = Encryptor::resume(&key, &id(), vector_salt(), checkpoint)
                .err()
                .unwrap();
            assert!(
                matches!(error, EncryptorResumeError::Inconsistent(_)),
                "{error}"
            );
        }
    }
}
