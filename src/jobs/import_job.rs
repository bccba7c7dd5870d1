//! The checks of an imported object as a sliced job: steps 2-5 of a
//! restore over an object that an operator uploaded (made by
//! `d1-vault encrypt` from any SQL dump), and, when they pass, its manifest,
//! built from what the SQL creates. The backup is listed once the manifest
//! is written; an object that fails is deleted, so it is never listed.
//!
//! Invariants: the job (`self`) is a valid checkpoint between units (one
//! ranged read of the object); it holds no key material; a slice stops only
//! between units, after at least one.

use super::backup::write_manifest;
use super::engine::record::JobProgress;
use super::restore::{Streamed, STEP_NAMES};
use super::restore_job::{ObjectReadError, Pass, PassError, PASS_RANGE_BYTES};
use super::slice::{Meter, Metered, SliceEnd};
use super::store::{EdgeError, ObjectStore};
use crate::format::keys::Keyring;
use crate::format::Engine;
use crate::layout::object_key;
use crate::manifest::{
    Digests, Encryption, ForeignKeyCheck, Manifest, Snapshot, StatementStats, TableEntry, CIPHER,
    MANIFEST_VERSION,
};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// What the imported backup's manifest records besides what the checks find.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ImportRequest {
    /// The backup id in the object's header.
    pub id: String,
    /// The chunk size in the object's header.
    pub chunk_size: u32,
    /// An operator's note.
    pub note: Option<String>,
    /// When the object was uploaded.
    pub created_at: Timestamp,
    /// `ENVIRONMENT`.
    pub environment: String,
    /// `DATABASE_NAME`.
    pub database: String,
    /// This worker's version.
    pub worker_version: String,
}

/// Why an import failed; the object is deleted.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ImportError {
    /// The object is not a valid backup.
    #[error(
        "the object fails validation at step {step} ({name}): {detail}. Nothing was kept",
        name = STEP_NAMES[usize::from(.step - 1)]
    )]
    Invalid {
        /// The failing step.
        step: u8,
        /// What failed.
        detail: String,
    },
}

/// One import's checks as a sliced job; serialize it to save its checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct ImportJob {
    request: ImportRequest,
    pass: Pass,
    /// The manifest, once the checks passed; written in the next unit.
    manifest: Option<Box<Manifest>>,
}

impl ImportJob {
    /// A job over the uploaded object of `request.id`; nothing runs until
    /// [`ImportJob::run_slice`].
    pub fn new(request: ImportRequest) -> Self {
        let pass = Pass::new(
            &object_key(&request.id),
            &request.id,
            None,
            false,
            PASS_RANGE_BYTES,
        );
        Self {
            request,
            pass,
            manifest: None,
        }
    }

    /// Reads ranges of the object until `meter` is exhausted (checked
    /// between units, after at least one) or the checks are over: `Done`
    /// with the listed manifest, or with why the object was refused (and
    /// deleted). An `Err` is an R2 failure worth retrying from the last
    /// checkpoint.
    pub async fn run_slice(
        &mut self,
        store: &impl ObjectStore,
        keyring: &Keyring,
        engine: &dyn Engine,
        meter: &Meter<'_>,
    ) -> Result<SliceEnd<Result<Manifest, ImportError>>, EdgeError> {
        let store = Metered::new(store, meter);
        let mut units = 0u64;
        loop {
            if let Some(manifest) = &self.manifest {
                write_manifest(&store, manifest).await?;
                return Ok(SliceEnd::Done(Ok(manifest.as_ref().clone())));
            }
            if units > 0 && meter.exhausted() {
                return Ok(SliceEnd::Continue);
            }
            units += 1;
            let before = self.pass.bytes_read();
            let advanced = self.pass.advance(&store, keyring, engine).await;
            meter.processed(self.pass.bytes_read() - before);
            match advanced {
                Ok(None) => {}
                Ok(Some(streamed)) => self.manifest = Some(Box::new(self.manifest_of(&streamed))),
                Err(PassError::Read(ObjectReadError(error))) => return Err(error),
                Err(PassError::Failed(failure)) => {
                    store.delete(&object_key(&self.request.id)).await?;
                    return Ok(SliceEnd::Done(Err(ImportError::Invalid {
                        step: failure.step,
                        detail: failure.detail,
                    })));
                }
            }
        }
    }

    /// Deletes the uploaded object (a cancelled or failed import).
    pub async fn abandon(&self, store: &impl ObjectStore) -> Result<(), EdgeError> {
        store.delete(&object_key(&self.request.id)).await
    }

    /// The step the job is at, in words.
    pub fn step_name(&self) -> &'static str {
        match self.manifest {
            None => "decrypt and validate the uploaded object",
            Some(_) => "writing the manifest",
        }
    }

    /// Bytes of the object read and rows validated.
    pub fn progress(&self) -> JobProgress {
        JobProgress {
            bytes_done: self.pass.bytes_read(),
            bytes_total: None,
            rows_done: self.pass.rows(),
            rows_total: None,
        }
    }

    fn manifest_of(&self, streamed: &Streamed) -> Manifest {
        let request = &self.request;
        let summary = &streamed.summary;
        Manifest {
            manifest_version: MANIFEST_VERSION,
            id: request.id.clone(),
            created_at: request.created_at,
            duration_ms: 0,
            kind: BackupKind::Imported,
            environment: request.environment.clone(),
            database: request.database.clone(),
            pinned: false,
            note: request.note.clone(),
            worker_version: request.worker_version.clone(),
            object_key: object_key(&request.id),
            encryption: Encryption {
                key_id: streamed.key_id.clone(),
                cipher: CIPHER.to_owned(),
                chunk_size: request.chunk_size,
                format_version: streamed.format_version,
            },
            plaintext: Digests {
                bytes: streamed.sql_bytes,
                sha256: streamed.sql_sha256.clone(),
            },
            ciphertext: Digests {
                bytes: streamed.object_bytes,
                sha256: streamed.object_sha256.clone(),
            },
            snapshot: Snapshot {
                consistent: false,
                detail: "imported: a dump made outside this worker".into(),
            },
            tables: summary.tables.iter().map(TableEntry::from).collect(),
            indexes: summary.indexes.clone(),
            views: summary.views.clone(),
            triggers: summary.triggers.clone(),
            schema_hash: summary.schema_sha256.clone(),
            foreign_key_violations: 0,
            statements: StatementStats {
                count: summary.statements,
                largest_bytes: summary.largest_statement_bytes as u64,
            },
            foreign_key_check: ForeignKeyCheck::default(),
            warnings: Vec::new(),
            self_check: None,
        }
    }
}
