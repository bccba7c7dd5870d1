//! A streamed pass over one encrypted object that can stop after any range
//! and carry on in another invocation: steps 1-5 (download, integrity,
//! decrypt, checksum, SQL validation) and, for an import, the planning of
//! D1 batches.
//!
//! A unit of work ([`Pass::advance`]) reads one range of the object with a
//! ranged GET, authenticates and decrypts it, splits the plaintext into
//! statements, validates them and, for an import, plans them into batches
//! that wait in [`Pass::pop_ready`] for the caller to send. After the last
//! range, a unit ends the decryption, the reader and the planner and
//! returns what the pass computed ([`Streamed`]); the caller compares the
//! digests with the manifest's.
//!
//! Invariants: the pass (`self`) is a valid checkpoint between units, also
//! after a unit that failed on I/O (the GET comes before any change); it
//! holds no key material (the decryptor's keys are derived again from the
//! keyring in every unit, and its header authenticated again); it holds at
//! most one sealed chunk of ciphertext, one statement being read, the
//! validator's schema state, the planner's open batch and the batches
//! planned from the last range not yet sent. The batches do not depend on
//! how the object is cut into ranges.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;
use std::mem::take;

use super::super::restore::{fail, PassFailure, Streamed};
use super::super::store::{EdgeError, ObjectStore};
use crate::format::keys::Keyring;
use crate::format::{BackupId, DecryptError, Decryptor, DecryptorCheckpoint, Engine};
use crate::restore::plan::{PlannedStatement, Planner};
use crate::restore::reader::StatementReader;
use crate::restore::validate::Validator;

/// Bytes read from R2 per ranged GET, one unit of a pass: small enough for
/// a slice to hold its batches, large enough to keep GETs few.
pub const PASS_RANGE_BYTES: u64 = 1024 * 1024;

/// Reading an object from R2 failed: worth retrying from the checkpoint.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("reading the object failed: {0}")]
pub struct ObjectReadError(pub EdgeError);

/// Why a unit of a pass did not go on.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum PassError {
    /// The object fails a step: the pass is over.
    Failed(PassFailure),
    /// The object could not be read (fetched or decrypted) this time.
    Read(ObjectReadError),
}

impl From<PassFailure> for PassError {
    fn from(failure: PassFailure) -> Self {
        PassError::Failed(failure)
    }
}

/// A batch planned and not yet sent.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ReadyBatch {
    /// The batch's statements, prelude included.
    pub statements: Vec<PlannedStatement>,
    /// Whether it comes from the end of the planning (held-back schema
    /// objects and the last rows), not from a range.
    pub closing: bool,
}

/// One pass over one object; see the module documentation.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Pass {
    key: String,
    backup_id: String,
    /// The size the manifest gives, if there is one.
    expected_bytes: Option<u64>,
    range_bytes: u64,
    /// The object's size, once read.
    size: Option<u64>,
    /// Object bytes read and decrypted.
    offset: u64,
    decryptor: Option<DecryptorCheckpoint>,
    reader: StatementReader,
    validator: Validator,
    /// The import's planner; `None` for a pass that only validates.
    planner: Option<Planner>,
    ready: VecDeque<ReadyBatch>,
}

impl Pass {
    /// A pass over the object at `key` of backup `id`, `expected_bytes`
    /// long if known, read `range_bytes` at a time; `import` plans batches.
    pub fn new(
        key: &str,
        id: &str,
        expected_bytes: Option<u64>,
        import: bool,
        range_bytes: u64,
    ) -> Self {
        Self {
            key: key.to_owned(),
            backup_id: id.to_owned(),
            expected_bytes,
            range_bytes,
            size: None,
            offset: 0,
            decryptor: None,
            reader: StatementReader::new(),
            validator: Validator::new(),
            planner: import.then(Planner::new),
            ready: VecDeque::new(),
        }
    }

    /// Caps the statements of the import's batches planned from now on
    /// (see [`Planner::set_max_statements`]); nothing for a pass that only
    /// validates.
    pub fn set_batch_limit(&mut self, max: usize) {
        if let Some(planner) = &mut self.planner {
            planner.set_max_statements(max);
        }
    }

    /// Object bytes read so far.
    pub fn bytes_read(&self) -> u64 {
        self.offset
    }

    /// Rows the statements validated so far insert.
    pub fn rows(&self) -> u64 {
        self.validator.rows()
    }

    /// Whether a planned batch waits to be sent.
    pub fn has_ready(&self) -> bool {
        !self.ready.is_empty()
    }

    /// The next planned batch, in order.
    pub fn pop_ready(&mut self) -> Option<ReadyBatch> {
        self.ready.pop_front()
    }

    /// One unit: reads and processes the next range, or, after the last
    /// one, ends the pass and returns what it computed. Do not call it
    /// again once it returned `Some` or a [`PassError::Failed`].
    pub async fn advance(
        &mut self,
        store: &impl ObjectStore,
        keyring: &Keyring,
        engine: &dyn Engine,
    ) -> Result<Option<Streamed>, PassError> {
        let size = match self.size {
            Some(size) => size,
            None => self.read_size(store).await?,
        };
        let backup_id = BackupId::parse(&self.backup_id).map_err(|e| fail(3, e.to_string()))?;
        if self.offset < size {
            let bytes = self.read_range(store, size).await?;
            let mut decryptor = self.decryptor(keyring, &backup_id)?;
            let mut plaintext = Vec::new();
            decryptor
                .update_with(&bytes, &mut plaintext, engine)
                .await
                .map_err(|error| match error {
                    DecryptError::Format(e) => fail(3, e.to_string()).into(),
                    DecryptError::Crypto(e) => PassError::Read(ObjectReadError(EdgeError::new(
                        "decrypting the object",
                        e.to_string(),
                    ))),
                })?;
            self.offset += bytes.len() as u64;
            self.decryptor = Some(decryptor.checkpoint().map_err(|e| fail(3, e.to_string()))?);
            self.take_statements(&plaintext)?;
            return Ok(None);
        }
        let decryptor = self.decryptor(keyring, &backup_id)?;
        let mut plaintext = Vec::new();
        let decrypted = decryptor
            .finish(&mut plaintext)
            .map_err(|e| fail(3, e.to_string()))?;
        self.take_statements(&plaintext)?;
        take(&mut self.reader)
            .finish()
            .map_err(|e| fail(5, e.to_string()))?;
        if let Some(planner) = self.planner.take() {
            self.ready
                .extend(planner.finish().into_iter().map(|batch| ReadyBatch {
                    statements: batch.statements,
                    closing: true,
                }));
        }
        Ok(Some(Streamed {
            summary: take(&mut self.validator).finish(),
            object_bytes: size,
            object_sha256: decrypted.ciphertext_sha256.to_string(),
            sql_bytes: decrypted.plaintext_bytes,
            sql_sha256: decrypted.plaintext_sha256.to_string(),
            key_id: decrypted.key_id.to_string(),
            format_version: decrypted.version.byte(),
        }))
    }

    /// Step 1: the object is there, of the manifest's size.
    async fn read_size(&mut self, store: &impl ObjectStore) -> Result<u64, PassError> {
        let size = store
            .size(&self.key)
            .await
            .map_err(|e| PassError::Read(ObjectReadError(e)))?
            .ok_or_else(|| fail(1, format!("the data object {} is missing", self.key)))?;
        if let Some(expected) = self.expected_bytes.filter(|expected| *expected != size) {
            return Err(fail(
                1,
                format!(
                    "the object is {size} bytes but the manifest says {expected}: it was \
                     truncated or replaced"
                ),
            )
            .into());
        }
        self.size = Some(size);
        Ok(size)
    }

    /// The next range of the object (`size` bytes long).
    async fn read_range(&self, store: &impl ObjectStore, size: u64) -> Result<Vec<u8>, PassError> {
        let bytes = store
            .get_range(&self.key, self.offset, self.range_bytes)
            .await
            .map_err(|e| PassError::Read(ObjectReadError(e)))?
            .ok_or_else(|| {
                fail(
                    1,
                    format!("the data object {} disappeared while reading", self.key),
                )
            })?;
        if bytes.is_empty() {
            return Err(fail(
                1,
                format!("the object ended at byte {} of {size}", self.offset),
            )
            .into());
        }
        Ok(bytes)
    }

    /// The decryptor where the pass left it, its keys derived again.
    fn decryptor(&self, keyring: &Keyring, backup_id: &BackupId) -> Result<Decryptor, PassError> {
        match &self.decryptor {
            None => Ok(Decryptor::new(keyring, Some(backup_id))),
            Some(checkpoint) => Decryptor::resume(keyring, Some(backup_id), checkpoint.clone())
                .map_err(|e| fail(3, e.to_string()).into()),
        }
    }

    /// Reads, validates and (for an import) plans the statements `sql`
    /// completes.
    fn take_statements(&mut self, sql: &[u8]) -> Result<(), PassFailure> {
        let mut statements = Vec::new();
        self.reader
            .push(sql, &mut statements)
            .map_err(|e| fail(5, e.to_string()))?;
        let mut batches = Vec::new();
        for statement in &statements {
            let validated = self
                .validator
                .check(statement)
                .map_err(|rejection| fail(5, rejection.to_string()))?;
            if let Some(planner) = &mut self.planner {
                planner.push(validated, &mut batches);
            }
        }
        self.ready
            .extend(batches.into_iter().map(|batch| ReadyBatch {
                statements: batch.statements,
                closing: false,
            }));
        Ok(())
    }
}
