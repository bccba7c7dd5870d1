//! The read path: object in, authenticated plaintext out, in pieces of any size.
//!
//! Invariants: the key is looked up right after the header is parsed, before
//! any MAC or decryption; no chunk's plaintext is released before its tag
//! verifies; the happy path opens each chunk once; at most one sealed chunk
//! plus one lookahead byte is buffered (the lookahead tells a full-size final
//! chunk from a full-size middle one). Diagnosing a failure (which chunk went
//! where) may try a failing chunk under other counters, within a budget.
//! Everything but the keys can be saved in a [`DecryptorCheckpoint`] and
//! carried on in another invocation, with the same output byte for byte.
//!
//! The chunks carry the payload: the SQL itself in version 1, the SQL
//! compressed in frames in version 2 ([`super::frames`]), which the
//! decryptor inflates; what it releases, counts and hashes as plaintext is
//! always the SQL. It holds at most one frame besides the chunk.
//!
//! Chunks are opened and frames inflated by the crates
//! ([`update`](Decryptor::update)) or, on the happy path, by any [`Engine`]
//! such as the worker's WebCrypto and `DecompressionStream`
//! ([`update_with`](Decryptor::update_with)); a chunk that does not open
//! there, or a frame that does not inflate, is tried again and diagnosed by
//! the crates, so both paths cut the object by the same rule
//! ([`Decryptor::next_openable`]) and fail with the same errors. The final
//! chunk is always opened by the crate.

use super::engine::{ChunkKey, Engine, EngineFailed};
use super::frames::{Frame, FrameSplitter};
use super::header::{parse_prefix, Parsed};
use super::keys::{HeaderKey, KeyId, PayloadKey};
use super::{
    BackupId, ChunkCipher, FormatError, FormatVersion, HeaderInfo, Keyring, Nonce, Sha256Digest,
    Sha256State, HEADER_MAC_SIZE, MAX_HEADER_LEN, TAG_SIZE,
};

mod checkpoint;

pub use checkpoint::{DecryptorCheckpoint, DecryptorResumeError};

/// How many counters on each side of a failing chunk are tried to tell
/// reordering from tampering.
pub const REORDER_SEARCH_RADIUS: u64 = 256;
/// The most ciphertext bytes that diagnosing one failure may authenticate:
/// the radius shrinks for large chunks (16 counters each side at 1 MiB).
pub const REORDER_SEARCH_BUDGET: usize = 64 * 1024 * 1024;

/// Decrypts and authenticates one object. Feed it with
/// [`update`](Decryptor::update); only [`finish`](Decryptor::finish) returning
/// `Ok` means the whole object is intact. After an error every call fails
/// with that error.
pub struct Decryptor {
    keyring: Keyring,
    expected_backup_id: Option<BackupId>,
    state: State,
    /// The header while it arrives; then at most one sealed chunk + 1 byte.
    buf: Vec<u8>,
    /// The header's bytes once it is complete (for checkpoints).
    header_bytes: Vec<u8>,
    ciphertext_hash: Sha256State,
    ciphertext_bytes: u64,
}

enum State {
    Header,
    Chunks(Box<Body>),
    Failed(FormatError),
}

/// The reader's state once the header has been authenticated.
struct Body {
    header: HeaderInfo,
    chunk_key: ChunkKey,
    cipher: ChunkCipher,
    /// Counter of the next chunk.
    counter: u64,
    /// Version 2: the frame being read.
    frames: FrameSplitter,
    /// Of the SQL released.
    plaintext_hash: Sha256State,
    plaintext_bytes: u64,
}

/// Why [`Decryptor::update_with`] stopped.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DecryptError {
    /// The object is not intact, or not this backup's: as from
    /// [`Decryptor::update`].
    #[error(transparent)]
    Format(#[from] FormatError),
    /// The platform's AES-GCM or DEFLATE failed: worth another try.
    #[error(transparent)]
    Crypto(#[from] EngineFailed),
}

/// What a decryptor read from an intact object.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DecryptSummary {
    /// Plaintext (SQL) bytes released.
    pub plaintext_bytes: u64,
    /// Object bytes read, header included.
    pub ciphertext_bytes: u64,
    /// Chunks read, the final one included.
    pub chunks: u64,
    /// Plaintext bytes per non-final chunk.
    pub chunk_size: u32,
    /// Id of the master key that opened the object.
    pub key_id: KeyId,
    /// SHA-256 of the plaintext (the SQL).
    pub plaintext_sha256: Sha256Digest,
    /// SHA-256 of the whole object, header included.
    pub ciphertext_sha256: Sha256Digest,
    /// The object's format version.
    pub version: FormatVersion,
    /// The backup id in the (authenticated) header.
    pub backup_id: BackupId,
}

impl Decryptor {
    /// A decryptor that opens objects made with any key in `keyring`, and, if
    /// `expected_backup_id` is given, only objects of that backup.
    pub fn new(keyring: &Keyring, expected_backup_id: Option<&BackupId>) -> Self {
        Decryptor {
            keyring: keyring.clone(),
            expected_backup_id: expected_backup_id.cloned(),
            state: State::Header,
            buf: Vec::with_capacity(MAX_HEADER_LEN),
            header_bytes: Vec::new(),
            ciphertext_hash: Sha256State::new(),
            ciphertext_bytes: 0,
        }
    }

    /// The header, once it has been read and authenticated.
    pub fn header(&self) -> Option<&HeaderInfo> {
        match &self.state {
            State::Chunks(body) => Some(&body.header),
            State::Header | State::Failed(_) => None,
        }
    }

    /// Reads `input` and appends to `out` the plaintext of every chunk that is
    /// complete and authenticated. On error nothing of the failing chunk is
    /// appended; plaintext appended by earlier calls stays provisional until
    /// [`finish`](Decryptor::finish) succeeds.
    pub fn update(&mut self, input: &[u8], out: &mut Vec<u8>) -> Result<(), FormatError> {
        if let State::Failed(err) = &self.state {
            return Err(err.clone());
        }
        self.ciphertext_hash.update(input);
        self.ciphertext_bytes += input.len() as u64;
        let result = self.consume(input, out);
        if let Err(err) = &result {
            self.state = State::Failed(err.clone());
        }
        result
    }

    /// [`update`](Decryptor::update), with each chunk opened and each
    /// frame inflated by `engine` first. After a [`DecryptError::Crypto`] this decryptor and `out` are in
    /// no useful state: carry on from the last
    /// [`checkpoint`](Decryptor::checkpoint).
    pub async fn update_with(
        &mut self,
        mut input: &[u8],
        out: &mut Vec<u8>,
        engine: &dyn Engine,
    ) -> Result<(), DecryptError> {
        if let State::Failed(err) = &self.state {
            return Err(DecryptError::Format(err.clone()));
        }
        self.ciphertext_hash.update(input);
        self.ciphertext_bytes += input.len() as u64;
        let result = async {
            if let State::Header = self.state {
                input = self.read_header(input)?;
            }
            while let Some(piece) = self.next_openable(&mut input) {
                let State::Chunks(body) = &mut self.state else {
                    unreachable!("chunks are read only after the header");
                };
                let nonce = Nonce::new(body.counter, false);
                let payload = match engine.open(&body.chunk_key, nonce, piece.bytes()).await? {
                    Some(payload) => {
                        body.next_chunk()?;
                        payload
                    }
                    // The crate opens it again and says why it failed.
                    None => {
                        let mut payload = Vec::new();
                        body.open_middle(piece.bytes(), &mut payload)?;
                        payload
                    }
                };
                body.release_with(&payload, out, engine).await?;
            }
            Ok(())
        }
        .await;
        if let Err(DecryptError::Format(err)) = &result {
            self.state = State::Failed(err.clone());
        }
        result
    }

    /// Reads the end of the object: authenticates the last chunk as the final
    /// one, appends its plaintext to `out` and returns what was read.
    pub fn finish(self, out: &mut Vec<u8>) -> Result<DecryptSummary, FormatError> {
        let mut body = match self.state {
            State::Failed(err) => return Err(err),
            State::Header => {
                return Err(FormatError::TruncatedHeader {
                    got: self.buf.len(),
                })
            }
            State::Chunks(body) => body,
        };
        let mut payload = Vec::new();
        body.open_last(&self.buf, &mut payload)?;
        body.release(&payload, out)?;
        body.frames.finish()?;
        Ok(DecryptSummary {
            plaintext_bytes: body.plaintext_bytes,
            ciphertext_bytes: self.ciphertext_bytes,
            chunks: body.counter,
            chunk_size: body.header.chunk_size.get(),
            key_id: body.header.key_id,
            plaintext_sha256: body.plaintext_hash.finish(),
            ciphertext_sha256: self.ciphertext_hash.finish(),
            version: body.header.version,
            backup_id: body.header.backup_id,
        })
    }

    fn consume(&mut self, mut input: &[u8], out: &mut Vec<u8>) -> Result<(), FormatError> {
        if let State::Header = self.state {
            input = self.read_header(input)?;
        }
        while let Some(piece) = self.next_openable(&mut input) {
            let State::Chunks(body) = &mut self.state else {
                unreachable!("chunks are read only after the header");
            };
            let mut payload = Vec::new();
            body.open_middle(piece.bytes(), &mut payload)?;
            body.release(&payload, out)?;
        }
        Ok(())
    }

    /// The next sealed chunk known not to be the last (bytes follow it),
    /// taken from the buffer or straight from `input` (which it advances),
    /// or `None` once `input` is used up. At most one sealed chunk and one
    /// lookahead byte stay buffered.
    fn next_openable<'i>(&mut self, input: &mut &'i [u8]) -> Option<Openable<'i>> {
        let State::Chunks(body) = &self.state else {
            return None;
        };
        let sealed_len = body.header.chunk_size.sealed_len();
        while !input.is_empty() {
            if self.buf.is_empty() && input.len() > sealed_len {
                // A whole chunk with more bytes after it: open it straight from the input.
                let (piece, rest) = input.split_at(sealed_len);
                *input = rest;
                return Some(Openable::Input(piece));
            }
            let take = (sealed_len + 1 - self.buf.len()).min(input.len());
            self.buf.extend_from_slice(&input[..take]);
            *input = &input[take..];
            if self.buf.len() == sealed_len + 1 {
                return Some(Openable::Buffered(self.buf.drain(..sealed_len).collect()));
            }
        }
        None
    }

    /// Buffers header bytes until the header is complete, then authenticates
    /// it. Returns the input left over.
    fn read_header<'a>(&mut self, mut input: &'a [u8]) -> Result<&'a [u8], FormatError> {
        loop {
            match parse_prefix(&self.buf)? {
                Parsed::Incomplete { needed } => {
                    if input.is_empty() {
                        return Ok(input);
                    }
                    let take = (needed - self.buf.len()).min(input.len());
                    self.buf.extend_from_slice(&input[..take]);
                    input = &input[take..];
                }
                Parsed::Complete(header) => {
                    let body = self.open_header(header)?;
                    let chunk_buf = Vec::with_capacity(body.header.chunk_size.sealed_len() + 1);
                    self.header_bytes = std::mem::replace(&mut self.buf, chunk_buf);
                    self.state = State::Chunks(Box::new(body));
                    return Ok(input);
                }
            }
        }
    }

    /// Finds the key, verifies the header MAC, then checks the backup id.
    fn open_header(&self, header: HeaderInfo) -> Result<Body, FormatError> {
        let key = self
            .keyring
            .find(&header.key_id)
            .ok_or_else(|| FormatError::UnknownKey {
                found: header.key_id,
                available: self.keyring.ids(),
            })?;
        let authenticated = &self.buf[..header.len - HEADER_MAC_SIZE];
        if !HeaderKey::derive(key, &header.salt).verify(authenticated, &header.mac) {
            return Err(FormatError::HeaderTampered {
                key_id: header.key_id,
            });
        }
        if let Some(expected) = &self.expected_backup_id {
            if *expected != header.backup_id {
                return Err(FormatError::BackupIdMismatch {
                    found: header.backup_id,
                    expected: expected.clone(),
                });
            }
        }
        let chunk_key = ChunkKey::new(&PayloadKey::derive(key, &header.salt), &header.mac);
        Ok(Body {
            cipher: ChunkCipher::from_key(&chunk_key),
            chunk_key,
            header,
            counter: 0,
            frames: FrameSplitter::default(),
            plaintext_hash: Sha256State::new(),
            plaintext_bytes: 0,
        })
    }

    /// Bytes of ciphertext buffer allocated (for memory-bound tests).
    #[cfg(test)]
    pub(crate) fn buffer_capacity(&self) -> usize {
        self.buf.capacity()
    }
}

/// A sealed chunk ready to be opened: from the buffer, or straight from the input.
enum Openable<'i> {
    Buffered(Vec<u8>),
    Input(&'i [u8]),
}

impl Openable<'_> {
    fn bytes(&self) -> &[u8] {
        match self {
            Openable::Buffered(piece) => piece,
            Openable::Input(piece) => piece,
        }
    }
}

impl Body {
    /// Opens a full-size chunk that has bytes after it, so must be
    /// non-final, and appends its payload to `payload`.
    fn open_middle(&mut self, piece: &[u8], payload: &mut Vec<u8>) -> Result<(), FormatError> {
        let index = self.counter;
        if self
            .cipher
            .open(Nonce::new(index, false), piece, payload)
            .is_ok()
        {
            return self.next_chunk();
        }
        let mut scratch = Vec::new();
        if self
            .cipher
            .open(Nonce::new(index, true), piece, &mut scratch)
            .is_ok()
        {
            return Err(FormatError::TrailingData { index });
        }
        Err(self
            .find_elsewhere(piece)
            .unwrap_or(FormatError::ChunkTampered { index }))
    }

    /// Opens what is left at the end of the object as the final chunk, and
    /// appends its payload to `payload`.
    fn open_last(&mut self, piece: &[u8], payload: &mut Vec<u8>) -> Result<(), FormatError> {
        let index = self.counter;
        if piece.is_empty() {
            return Err(match index.checked_sub(1) {
                None => FormatError::TruncatedAfterHeader,
                Some(last) => FormatError::FinalChunkMissing { index: last },
            });
        }
        if piece.len() < TAG_SIZE {
            return Err(FormatError::TruncatedInsideChunk {
                index,
                got: piece.len(),
            });
        }
        if self
            .cipher
            .open(Nonce::new(index, true), piece, payload)
            .is_ok()
        {
            if piece.len() == TAG_SIZE && index > 0 {
                return Err(FormatError::EmptyFinalChunk { index });
            }
            return self.next_chunk();
        }
        let mut scratch = Vec::new();
        let full_size = piece.len() == self.header.chunk_size.sealed_len();
        if full_size
            && self
                .cipher
                .open(Nonce::new(index, false), piece, &mut scratch)
                .is_ok()
        {
            return Err(FormatError::FinalChunkMissing { index });
        }
        Err(self
            .find_elsewhere(piece)
            .unwrap_or(FormatError::LastChunkFailed { index }))
    }

    /// Moves to the next chunk once one has authenticated.
    fn next_chunk(&mut self) -> Result<(), FormatError> {
        self.counter = self
            .counter
            .checked_add(1)
            .ok_or(FormatError::CounterOverflow)?;
        Ok(())
    }

    /// Releases the SQL of an authenticated chunk's `payload` to `out`: the
    /// payload itself in version 1; in version 2 the frames it completes,
    /// inflated by the crate.
    fn release(&mut self, mut payload: &[u8], out: &mut Vec<u8>) -> Result<(), FormatError> {
        match self.header.version {
            FormatVersion::V1 => self.take_sql(payload, out),
            FormatVersion::V2 => {
                while let Some(frame) = self.frames.next_frame(&mut payload)? {
                    self.take_sql(&frame.inflate()?, out);
                }
            }
        }
        Ok(())
    }

    /// [`release`](Body::release), with each frame inflated by `engine`
    /// first; a frame it does not inflate is inflated again, and diagnosed,
    /// by the crate.
    async fn release_with(
        &mut self,
        mut payload: &[u8],
        out: &mut Vec<u8>,
        engine: &dyn Engine,
    ) -> Result<(), FormatError> {
        match self.header.version {
            FormatVersion::V1 => self.take_sql(payload, out),
            FormatVersion::V2 => {
                while let Some(frame) = self.frames.next_frame(&mut payload)? {
                    let sql = inflate_with(&frame, engine).await?;
                    self.take_sql(&sql, out);
                }
            }
        }
        Ok(())
    }

    /// Counts and hashes `sql`, and appends it to `out`.
    fn take_sql(&mut self, sql: &[u8], out: &mut Vec<u8>) {
        self.plaintext_hash.update(sql);
        self.plaintext_bytes += sql.len() as u64;
        out.extend_from_slice(sql);
    }

    /// The failure path only: whether `piece`, which failed at the current
    /// counter, authenticates under a nearby one (nearest first). Only full-size
    /// pieces are tried as non-final, since only the final chunk may be shorter.
    fn find_elsewhere(&self, piece: &[u8]) -> Option<FormatError> {
        let position = self.counter;
        let sealed_len = self.header.chunk_size.sealed_len();
        let radius = REORDER_SEARCH_RADIUS.min((REORDER_SEARCH_BUDGET / (4 * sealed_len)) as u64);
        let full_size = piece.len() == sealed_len;
        let mut scratch = Vec::with_capacity(piece.len());
        for distance in 1..=radius {
            let candidates = [
                position.checked_sub(distance),
                position.checked_add(distance),
            ];
            for actual in candidates.into_iter().flatten() {
                for last in [false, true] {
                    if !last && !full_size {
                        continue;
                    }
                    if self
                        .cipher
                        .open(Nonce::new(actual, last), piece, &mut scratch)
                        .is_ok()
                    {
                        return Some(FormatError::ChunksReordered {
                            position,
                            actual,
                            actual_is_final: last,
                        });
                    }
                }
            }
        }
        None
    }
}

/// The SQL of `frame`, inflated by `engine`, or by the crate (which says
/// why a malformed frame is so) if `engine` fails or returns another
/// length than the frame gives: the one length check of every engine.
async fn inflate_with(frame: &Frame, engine: &dyn Engine) -> Result<Vec<u8>, FormatError> {
    match engine.inflate(&frame.body, frame.sql_len).await {
        Ok(sql) if sql.len() == frame.sql_len => Ok(sql),
        _ => frame.inflate(),
    }
}
