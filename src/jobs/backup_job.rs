//! The backup as a job that advances in slices, one Durable Object alarm
//! at a time, and whose whole state is one small serializable checkpoint.
//!
//! Steps, each safe to run again after a crash:
//!
//! 1. `PRAGMA foreign_key_check` before the first row (a read).
//! 2. Start the multipart upload (a slice that dies here leaves an upload
//!    nobody knows the id of; it is never listed and R2 aborts it after 7
//!    days).
//! 3. Units of work until the dump is complete: one dump query (its rows
//!    become SQL that goes through the self-check and the encryptor into the
//!    ciphertext tail), or one part of exactly the part size from the tail.
//!    A part uploaded again under the same number replaces the first one.
//! 4. The encryption's last chunk, then the last parts (the final one may
//!    be shorter).
//! 5. `PRAGMA foreign_key_check` after the last row; the manifest is built
//!    and the self-check must agree with it.
//! 6. Complete the upload. This step always starts a slice, so the
//!    checkpoint before it is saved: a slice that completed the upload and
//!    died is run again from here, finds the upload gone and the object whole
//!    (of the manifest's size), and goes on.
//! 7. Write the manifest (last; an idempotent put): the backup is listed.
//!
//! Invariants: a slice stops only between units, after at least one; the
//! job (`self`) is a valid checkpoint between units, also when a unit fails
//! on I/O (a query or an R2 call fails before the unit changes anything), so
//! it can be saved and run again, or abandoned. A checkpoint holds no key
//! material: the encryptor's keys are derived again in every slice from the
//! current master key, which must be the one the backup started with. It
//! holds the ciphertext not yet uploaded (less than one part, plus what the
//! last dump step wrote: about a page of rows), one partial chunk of
//! plaintext, the dump's cursor and the self-check's schema state. Every D1
//! query and R2 call of a slice is counted by [`Metered`] edges.

use serde::{Deserialize, Serialize};
use std::mem::take;

use super::backup::{
    build_manifest, foreign_key_violations, write_manifest, BackupError, BackupFault,
    BackupRequest, BackupSettings, ManifestParts, Violations, INJECTED_VIEW_SQL, MAX_PARTS,
    PART_SIZE,
};
use super::engine::record::JobProgress;
use super::self_check::SelfCheck;
use super::slice::{Meter, Metered, SliceEnd};
use super::store::{EdgeError, ObjectStore, PartUpload, SqlReader, UploadedPart};
use crate::dump::{Dump, DumpOptions, DumpSummary, Query, Step};
use crate::format::{BackupId, EncryptSummary, Encryptor, EncryptorCheckpoint, DEFAULT_CHUNK_SIZE};
use crate::layout::{manifest_key, object_key};
use crate::manifest::Manifest;
use crate::time::Timestamp;

/// One backup as a sliced job; serialize it to save its checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct BackupJob {
    request: BackupRequest,
    /// Bytes per non-final part: [`PART_SIZE`], smaller only in tests.
    part_size: usize,
    options: DumpOptions,
    /// When the first slice started.
    started_at: Option<Timestamp>,
    stage: Stage,
    /// The steps entered since [`BackupJob::take_entered_steps`] was last
    /// called, for the job's events; not part of the checkpoint.
    #[serde(skip)]
    entered: Vec<&'static str>,
}

/// A multipart upload as a checkpoint records it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
struct UploadRecord {
    id: String,
    parts: Vec<UploadedPart>,
}

/// Where the job is; each stage holds what the steps after it need.
#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Stage {
    CheckAtStart,
    StartUpload {
        at_start: Violations,
    },
    Dump(Box<Streaming>),
    /// The dump and the encryption are complete: the last parts are
    /// uploaded while `tail` is not empty, then the check at end runs.
    Finish(Box<Finishing>),
    Complete {
        upload: UploadRecord,
        manifest: Box<Manifest>,
    },
    WriteManifest {
        manifest: Box<Manifest>,
    },
    Done {
        manifest: Box<Manifest>,
    },
}

/// The dump under way.
#[derive(Debug, Serialize, Deserialize)]
struct Streaming {
    at_start: Violations,
    upload: UploadRecord,
    dump: Dump,
    /// The query the dump asked for, whose rows it has not had yet.
    query: Option<Query>,
    check: SelfCheck,
    encryptor: EncryptorCheckpoint,
    /// Ciphertext not yet uploaded: parts leave it as soon as it holds one.
    #[serde(with = "crate::serde_base64")]
    tail: Vec<u8>,
}

/// The dump is complete; the last parts and the check at end remain.
#[derive(Debug, Serialize, Deserialize)]
struct Finishing {
    at_start: Violations,
    upload: UploadRecord,
    check: SelfCheck,
    dump: DumpSummary,
    encrypted: EncryptSummary,
    #[serde(with = "crate::serde_base64")]
    tail: Vec<u8>,
}

/// The edges and facts of one slice, and the upload handle it opened.
struct Slice<'a, R, S: ObjectStore> {
    db: &'a R,
    store: &'a S,
    settings: &'a BackupSettings<'a>,
    meter: &'a Meter<'a>,
    backup_id: BackupId,
    key: String,
    upload: Option<S::Upload>,
}

impl BackupJob {
    /// A job that has not started; nothing runs until [`BackupJob::run_slice`].
    pub fn new(request: BackupRequest) -> Self {
        Self::with_parts(request, PART_SIZE, DumpOptions::default())
    }

    fn with_parts(request: BackupRequest, part_size: usize, options: DumpOptions) -> Self {
        Self {
            request,
            part_size,
            options,
            started_at: None,
            stage: Stage::CheckAtStart,
            entered: Vec::new(),
        }
    }

    /// A job with small parts (R2 would refuse them) and other dump
    /// options, so tests cross many boundaries with little data.
    #[cfg(test)]
    pub(crate) fn tuned(request: BackupRequest, part_size: usize, options: DumpOptions) -> Self {
        Self::with_parts(request, part_size, options)
    }

    /// The most the ciphertext tail is allocated: one part plus what one
    /// unit of the dump may add (a page of SQL and a chunk's worth of
    /// overhead), so it never doubles past a part; it is the largest buffer
    /// a backup holds. See [`grow_tail`].
    fn tail_capacity(&self) -> usize {
        self.part_size + self.options.page_target_bytes + 2 * DEFAULT_CHUNK_SIZE as usize
    }

    /// Runs units of work until `meter` is exhausted (checked between
    /// units, after at least one) or the backup is listed. Every D1 query
    /// and R2 call is counted into `meter`, and every byte of SQL. After an
    /// error, save nothing new: run the slice again from the last saved
    /// checkpoint if the error may pass, or [`BackupJob::abandon`] the job.
    pub async fn run_slice(
        &mut self,
        db: &impl SqlReader,
        store: &impl ObjectStore,
        settings: BackupSettings<'_>,
        meter: &Meter<'_>,
    ) -> Result<SliceEnd<Manifest>, BackupError> {
        let backup_id = BackupId::parse(&self.request.id)?;
        let started_at = *self.started_at.get_or_insert_with(|| meter.now());
        let db = Metered::new(db, meter);
        let store = Metered::new(store, meter);
        let mut slice = Slice {
            db: &db,
            store: &store,
            settings: &settings,
            meter,
            backup_id,
            key: object_key(&self.request.id),
            upload: None,
        };
        let mut units = 0u64;
        loop {
            if let Stage::Done { manifest } = &self.stage {
                return Ok(SliceEnd::Done(manifest.as_ref().clone()));
            }
            let completes = matches!(self.stage, Stage::Complete { .. });
            if units > 0 && (meter.exhausted() || completes) {
                return Ok(SliceEnd::Continue);
            }
            let before = self.step_name();
            self.unit(&mut slice, started_at).await?;
            units += 1;
            if self.step_name() != before {
                self.entered.push(self.step_name());
            }
        }
    }

    /// Undoes what the job wrote, for a cancelled or failed backup: aborts
    /// its multipart upload and deletes its manifest and object if it may
    /// have written them, so nothing of it is listed. Does nothing once the
    /// backup is listed. Every step is tried; the first failure is returned.
    pub async fn abandon(&self, store: &impl ObjectStore) -> Result<(), EdgeError> {
        let (upload, written) = match &self.stage {
            Stage::CheckAtStart | Stage::StartUpload { .. } => (None, false),
            Stage::Dump(streaming) => (Some(&streaming.upload), false),
            Stage::Finish(finishing) => (Some(&finishing.upload), false),
            Stage::Complete { upload, .. } => (Some(upload), true),
            Stage::WriteManifest { .. } => (None, true),
            Stage::Done { .. } => return Ok(()),
        };
        let key = object_key(&self.request.id);
        let mut first_error = None;
        if let Some(record) = upload {
            let aborted = match store
                .resume_upload(&key, &record.id, record.parts.clone())
                .await
            {
                Ok(upload) => upload.abort().await,
                Err(error) => Err(error),
            };
            // Once completing may have begun, the upload may well be gone.
            if let (Err(error), false) = (aborted, written) {
                first_error = Some(error);
            }
        }
        if written {
            // The manifest first: a listed manifest never lacks its object.
            for key in [manifest_key(&self.request.id), key] {
                if let Err(error) = store.delete(&key).await {
                    first_error.get_or_insert(error);
                }
            }
        }
        first_error.map_or(Ok(()), Err)
    }

    /// The steps the job entered since the last call, in order.
    pub fn take_entered_steps(&mut self) -> Vec<&'static str> {
        take(&mut self.entered)
    }

    /// The step the job is at, in words, for its job record.
    pub fn step_name(&self) -> &'static str {
        match &self.stage {
            Stage::CheckAtStart => "foreign key check at start",
            Stage::StartUpload { .. } => "starting the upload",
            Stage::Dump(_) => "dump, encrypt and upload",
            Stage::Finish(finishing) if !finishing.tail.is_empty() => "uploading the last parts",
            Stage::Finish(_) => "foreign key check at end and self-check",
            Stage::Complete { .. } => "completing the upload",
            Stage::WriteManifest { .. } => "writing the manifest",
            Stage::Done { .. } => "listed",
        }
    }

    /// How far the job has come: bytes of SQL and rows dumped so far; the
    /// totals are known once the dump is complete.
    pub fn progress(&self) -> JobProgress {
        let complete = |bytes, rows| JobProgress {
            bytes_done: bytes,
            bytes_total: Some(bytes),
            rows_done: rows,
            rows_total: Some(rows),
        };
        match &self.stage {
            Stage::CheckAtStart | Stage::StartUpload { .. } => JobProgress::default(),
            Stage::Dump(streaming) => JobProgress {
                bytes_done: streaming.encryptor.plaintext_bytes(),
                rows_done: streaming.dump.rows_written(),
                ..JobProgress::default()
            },
            Stage::Finish(finishing) => complete(
                finishing.encrypted.plaintext_bytes,
                finishing.dump.tables.iter().map(|table| table.rows).sum(),
            ),
            Stage::Complete { manifest, .. }
            | Stage::WriteManifest { manifest }
            | Stage::Done { manifest } => complete(manifest.plaintext.bytes, manifest.total_rows()),
        }
    }

    /// One unit of work; see the module documentation.
    async fn unit<R: SqlReader, S: ObjectStore>(
        &mut self,
        slice: &mut Slice<'_, R, S>,
        started_at: Timestamp,
    ) -> Result<(), BackupError> {
        let tail_capacity = self.tail_capacity();
        match &mut self.stage {
            Stage::CheckAtStart => {
                let at_start = foreign_key_violations(slice.db).await?;
                self.stage = Stage::StartUpload { at_start };
            }
            Stage::StartUpload { at_start } => {
                let dump = Dump::new(self.options)?;
                let encryptor =
                    Encryptor::new(slice.settings.key, &slice.backup_id, self.request.salt);
                let upload = slice
                    .store
                    .start_upload(&slice.key)
                    .await
                    .map_err(BackupError::Store)?;
                let record = UploadRecord {
                    id: upload.upload_id().to_owned(),
                    parts: Vec::new(),
                };
                slice.upload = Some(upload);
                self.stage = Stage::Dump(Box::new(Streaming {
                    at_start: take(at_start),
                    upload: record,
                    dump,
                    query: None,
                    check: SelfCheck::new(),
                    encryptor: encryptor.checkpoint(),
                    tail: Vec::new(),
                }));
            }
            Stage::Dump(streaming) => {
                if streaming.tail.len() >= self.part_size {
                    let len = self.part_size;
                    slice
                        .send_part(&mut streaming.upload, &mut streaming.tail, len)
                        .await?;
                } else if let Some(finishing) =
                    dump_unit(streaming, slice, self.request.salt, tail_capacity).await?
                {
                    self.stage = Stage::Finish(Box::new(finishing));
                }
            }
            Stage::Finish(finishing) => {
                if finishing.tail.is_empty() {
                    let at_end = foreign_key_violations(slice.db).await?;
                    let duration = slice.meter.now().as_millis() - started_at.as_millis();
                    let parts = ManifestParts {
                        duration_ms: u64::try_from(duration).unwrap_or(0),
                        dump: &finishing.dump,
                        encrypted: &finishing.encrypted,
                        at_start: &finishing.at_start,
                        at_end: &at_end,
                    };
                    let mut manifest = build_manifest(&self.request, slice.settings, parts);
                    manifest.self_check = Some(take(&mut finishing.check).finish(&manifest)?);
                    self.stage = Stage::Complete {
                        upload: take(&mut finishing.upload),
                        manifest: Box::new(manifest),
                    };
                } else {
                    let len = finishing.tail.len().min(self.part_size);
                    slice
                        .send_part(&mut finishing.upload, &mut finishing.tail, len)
                        .await?;
                }
            }
            Stage::Complete { upload, manifest } => {
                slice.complete(upload, manifest.ciphertext.bytes).await?;
                self.stage = Stage::WriteManifest {
                    manifest: manifest.clone(),
                };
            }
            Stage::WriteManifest { manifest } => {
                write_manifest(slice.store, manifest)
                    .await
                    .map_err(BackupError::Store)?;
                self.stage = Stage::Done {
                    manifest: manifest.clone(),
                };
            }
            Stage::Done { .. } => {}
        }
        Ok(())
    }
}

/// Runs the dump's outstanding query, if any, and its next step: the SQL
/// goes through the self-check and into the encryptor. When the dump is
/// complete, finishes the encryption and returns what remains to do.
async fn dump_unit<R: SqlReader, S: ObjectStore>(
    streaming: &mut Streaming,
    slice: &Slice<'_, R, S>,
    salt: [u8; 32],
    tail_capacity: usize,
) -> Result<Option<Finishing>, BackupError> {
    let mut encryptor = Encryptor::resume(
        slice.settings.key,
        &slice.backup_id,
        salt,
        streaming.encryptor.clone(),
    )?;
    if let Some(query) = &streaming.query {
        let rows = slice.db.query(&query.sql).await.map_err(|error| {
            BackupError::Database(EdgeError::new(
                format!("{} ({})", error.operation, query.context),
                error.detail,
            ))
        })?;
        streaming.dump.accept(rows)?;
        streaming.query = None;
    }
    let mut sql = Vec::new();
    let step = streaming.dump.step(&mut sql)?;
    if matches!(step, Step::Done(_)) && slice.settings.fault == Some(BackupFault::UnlistedView) {
        sql.extend_from_slice(INJECTED_VIEW_SQL.as_bytes());
    }
    streaming.check.push(&sql)?;
    grow_tail(&mut streaming.tail, sql.len(), tail_capacity);
    encryptor
        .update_with(&sql, &mut streaming.tail, slice.settings.engine)
        .await?;
    slice.meter.processed(sql.len() as u64);
    match step {
        Step::Query(query) => {
            streaming.encryptor = encryptor.checkpoint();
            streaming.query = Some(query);
            Ok(None)
        }
        Step::Done(dump) => {
            let encrypted = encryptor
                .finish_with(&mut streaming.tail, slice.settings.engine)
                .await?;
            Ok(Some(Finishing {
                at_start: take(&mut streaming.at_start),
                upload: take(&mut streaming.upload),
                check: take(&mut streaming.check),
                dump,
                encrypted,
                tail: take(&mut streaming.tail),
            }))
        }
    }
}

/// Makes room in `tail` for the ciphertext of `sql_len` more bytes of SQL:
/// doubling as a `Vec` would, so a small backup stays small, but never
/// past `cap` unless the unit itself needs more.
fn grow_tail(tail: &mut Vec<u8>, sql_len: usize, cap: usize) {
    // The sealed bytes of `sql_len` bytes and of the chunk the encryptor holds.
    let needed = tail.len() + sql_len + 2 * DEFAULT_CHUNK_SIZE as usize;
    if needed > tail.capacity() {
        let target = (2 * tail.capacity()).max(needed).min(cap.max(needed));
        tail.reserve_exact(target - tail.len());
    }
}

impl<R, S: ObjectStore> Slice<'_, R, S> {
    /// The upload handle of this slice, resuming the upload on first use.
    async fn upload(&mut self, record: &UploadRecord) -> Result<&mut S::Upload, BackupError> {
        let upload = match self.upload.take() {
            Some(upload) => upload,
            None => self
                .store
                .resume_upload(&self.key, &record.id, record.parts.clone())
                .await
                .map_err(BackupError::Store)?,
        };
        Ok(self.upload.insert(upload))
    }

    /// Uploads the first `len` bytes of `tail` as the next part, then
    /// records it; `tail` keeps the rest. The part leaves in `tail`'s own
    /// allocation: no copy of it is made in wasm memory. After an error,
    /// `tail` is lost with the rest of the slice's state (the slice runs
    /// again from the last checkpoint).
    async fn send_part(
        &mut self,
        record: &mut UploadRecord,
        tail: &mut Vec<u8>,
        len: usize,
    ) -> Result<(), BackupError> {
        if record.parts.len() >= MAX_PARTS {
            return Err(BackupError::TooLarge);
        }
        let upload = self.upload(record).await?;
        let rest = tail[len..].to_vec();
        let mut part = std::mem::replace(tail, rest);
        part.truncate(len);
        upload.upload_part(part).await.map_err(BackupError::Store)?;
        record.parts.extend(upload.parts().last().cloned());
        Ok(())
    }

    /// Completes the upload; an upload already completed by a slice that
    /// died before its checkpoint was saved counts as completed when the
    /// object is there with `bytes` bytes.
    async fn complete(&mut self, record: &UploadRecord, bytes: u64) -> Result<(), BackupError> {
        let upload = match self.upload.take() {
            Some(upload) => Ok(upload),
            None => {
                self.store
                    .resume_upload(&self.key, &record.id, record.parts.clone())
                    .await
            }
        };
        let Err(error) = (match upload {
            Ok(upload) => upload.complete().await,
            Err(error) => Err(error),
        }) else {
            return Ok(());
        };
        match self.store.size(&self.key).await {
            Ok(Some(size)) if size == bytes => Ok(()),
            _ => Err(BackupError::Store(error)),
        }
    }
}

#[cfg(test)]
mod tests;
