//! Validating and restoring a backup as jobs that advance in slices, one
//! Durable Object alarm at a time, and whose whole state is one
//! serializable checkpoint (see DESIGN.md, "Jobs" and "Restore pipeline").
//!
//! [`ValidateJob`] runs steps 1-5 over the whole object. [`RestoreJob`]
//! runs the ten steps as stages:
//!
//! - steps 1-5: a [`ValidateJob`] over the backup;
//! - step 6: the safety backup, a nested [`BackupJob`] advanced by the same
//!   slices, refused if it carries foreign key violations, then validated
//!   as steps 1-5 validate (a rollback never lands on an unchecked backup);
//! - steps 7-9: drop (one atomic batch), import (exactly once into D1, see
//!   [`progress_table`]), verify;
//! - step 10: the progress table is dropped, the report written.
//!
//! A failure in steps 8-9, a cancellation during 7-9 or the engine giving
//! up then (after repeated failures) switches the job into the rollback:
//! steps 7-9 again onto the safety backup, itself resumable, ending
//! rolled back or rollback failed. Before step 7, the job ends failed (or
//! cancelled) with nothing changed. When step 7 fails or is stopped, the
//! job first reads whether the progress table exists: only a step 7 that
//! committed (perhaps in a slice that died) creates it, and then the
//! database has changed and the job rolls back.
//!
//! Invariants: the job (`self`) is a valid checkpoint between units, also
//! when a unit fails on I/O; it holds no key material (keys, settings and
//! edges come with every slice); a slice stops only between units, after
//! at least one; step 7 (and the rollback's) always starts a slice, so the
//! checkpoint before the first change is saved and a cancellation asked
//! for during steps 1-6 is seen before anything changes; every D1
//! statement and R2 call is counted by [`Metered`] edges; what went wrong with the backup or the database is part of the
//! report, and only an edge failure worth retrying from the checkpoint is
//! an error. Cancellations and give-ups are recorded at once and acted on
//! at the start of the next slice. The report and the outcome are those of
//! the one-go [`restore`](super::restore::restore), which runs this job.

use serde::{Deserialize, Serialize};

use super::backup::{BackupError, BackupRequest, BackupSettings};
use super::backup_job::BackupJob;
use super::engine::record::{JobProgress, JobState, NewEvent};
use super::restore::{step_report, Check, RestoreOutcome, RestoreReport, StepReport, StepStatus};
use super::slice::{Meter, Metered, SliceEnd, BATCH_OVERHEAD};
use super::store::{EdgeError, ObjectStore, SqlReader, SqlWriter};
use crate::format::keys::Keyring;
use crate::manifest::Manifest;
use crate::restore::plan::MAX_STATEMENTS_PER_BATCH;
use crate::time::Timestamp;

mod journal;
mod pass;
pub mod progress_table;
mod replace;
mod stop;
mod transitions;
mod validate_job;

use journal::Journal;
pub use pass::{ObjectReadError, PASS_RANGE_BYTES};
pub(crate) use pass::{Pass, PassError};
use replace::{Replace, Replaced, Unit};
use stop::Cancel;
pub use validate_job::ValidateJob;

/// Steps not run after a failure before step 7.
const NOT_CHANGED: &str = "not run: an earlier step failed, the database was not changed";
/// Steps not run after a cancellation before step 7.
const CANCELLED_NOT_CHANGED: &str =
    "not run: the restore was cancelled, the database was not changed";
/// Why a step stopped when an operator cancelled the restore.
const CANCELLED: &str = "cancelled by an operator";

/// What a restore job is asked to do; settings-independent, so it can be
/// saved with the job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreJobParams {
    /// The restore's id.
    pub restore_id: String,
    /// The backup to restore.
    pub manifest: Manifest,
    /// The safety backup to take at step 6, or `None` to skip it
    /// (`skip_safety_backup`: a failure in steps 8-9 then cannot be rolled
    /// back).
    pub safety_backup: Option<BackupRequest>,
}

/// An edge failure worth retrying from the last checkpoint; everything
/// else that goes wrong is part of the report.
#[derive(Debug, thiserror::Error)]
pub enum RestoreJobError {
    /// Reading a backup's object from R2 failed.
    #[error(transparent)]
    Read(#[from] ObjectReadError),
    /// A query against D1 failed (a read, or dropping the progress table
    /// at the end).
    #[error("{0}")]
    Database(EdgeError),
    /// The safety backup's slice failed on D1 or R2.
    #[error("{0}")]
    SafetyBackup(BackupError),
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
enum Stage {
    /// Steps 1-5 over the backup.
    Validate(Box<ValidateJob>),
    /// Step 6: the safety backup being taken.
    SafetyBackup(Box<BackupJob>),
    /// Step 6: the safety backup taken, being validated.
    SafetyCheck(Box<ValidateJob>),
    /// Steps 7-9, or the rollback's.
    Replace(Box<Replace>),
    /// Step 7 failed or was stopped with `detail`: did an earlier, dead
    /// slice commit it?
    Undecided { detail: String },
    /// Step 10: dropping the progress table, then the report.
    Cleanup,
    /// Over.
    Done {
        report: Box<RestoreReport>,
        state: JobState,
    },
}

/// What a unit asks of the slice.
enum After {
    /// Run the next unit if the budget allows.
    GoOn,
    /// End the slice (a nested job asked for a new one).
    Pause,
}

/// One restore as a sliced job; serialize it to save its checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct RestoreJob {
    params: RestoreJobParams,
    /// Bytes per ranged GET: [`PASS_RANGE_BYTES`], smaller only in tests.
    range_bytes: u64,
    /// When the first slice began.
    started_at: Option<Timestamp>,
    journal: Journal,
    warnings: Vec<String>,
    /// The safety backup, once verified.
    safety: Option<Box<Manifest>>,
    safety_backup_id: Option<String>,
    rows_imported: u64,
    statements_imported: u64,
    verification: Vec<Check>,
    /// The outcome so far (once steps 7-9 or the rollback ended).
    outcome: RestoreOutcome,
    /// Whether a step 7 committed: the progress table may exist.
    touched: bool,
    cancel: Option<Cancel>,
    give_up: Option<String>,
    stage: Stage,
}

impl RestoreJob {
    /// A job that has not started; nothing runs until
    /// [`RestoreJob::run_slice`].
    pub fn new(params: RestoreJobParams) -> Self {
        Self::with_range(params, PASS_RANGE_BYTES)
    }

    /// A job that reads objects `range_bytes` at a time, so tests cross
    /// many boundaries with little data.
    #[cfg(test)]
    pub(crate) fn tuned(params: RestoreJobParams, range_bytes: u64) -> Self {
        Self::with_range(params, range_bytes)
    }

    fn with_range(params: RestoreJobParams, range_bytes: u64) -> Self {
        let validation = ValidateJob::with_range(params.manifest.clone(), range_bytes);
        Self {
            params,
            range_bytes,
            started_at: None,
            journal: Journal::default(),
            warnings: Vec::new(),
            safety: None,
            safety_backup_id: None,
            rows_imported: 0,
            statements_imported: 0,
            verification: Vec::new(),
            outcome: RestoreOutcome::Failed,
            touched: false,
            cancel: None,
            give_up: None,
            stage: Stage::Validate(Box::new(validation)),
        }
    }

    /// Runs units of work until `meter` is exhausted (checked between
    /// units, after at least one) or the restore is over, with its report.
    /// Every D1 statement and R2 call is counted into `meter`, and every
    /// byte of an object read. After an error, save nothing new: run the
    /// slice again from the last saved checkpoint, or
    /// [`RestoreJob::give_up`] and run it again.
    pub async fn run_slice(
        &mut self,
        db: &(impl SqlReader + SqlWriter),
        store: &impl ObjectStore,
        keyring: &Keyring,
        settings: BackupSettings<'_>,
        meter: &Meter<'_>,
    ) -> Result<SliceEnd<RestoreReport>, RestoreJobError> {
        self.started_at.get_or_insert_with(|| meter.now());
        let metered_db = Metered::new(db, meter);
        let metered_store = Metered::new(store, meter);
        self.apply_stop(&metered_store, meter.now()).await;
        let mut committed = None;
        let mut units = 0u64;
        loop {
            if let Stage::Done { report, .. } = &self.stage {
                return Ok(SliceEnd::Done(report.as_ref().clone()));
            }
            // Each batch of step 7 and the verification start a slice of
            // their own, with the whole budget; any unit waits for a slice
            // with room for the largest batch.
            let fresh =
                matches!(&self.stage, Stage::Replace(replace) if matches!(replace.step(), 7 | 9));
            let largest = meter.batch_statements(MAX_STATEMENTS_PER_BATCH) as u64 + BATCH_OVERHEAD;
            if units > 0 && (meter.no_room_for(largest) || fresh) {
                return Ok(SliceEnd::Continue);
            }
            units += 1;
            let now = meter.now();
            let after = match &mut self.stage {
                Stage::Validate(job) => {
                    let end = job.run_slice(store, keyring, settings.engine, meter).await;
                    job.drain_events(&mut self.journal.events);
                    match end? {
                        SliceEnd::Continue => After::Pause,
                        SliceEnd::Done(report) => {
                            self.validated(report, meter.now());
                            After::GoOn
                        }
                    }
                }
                Stage::SafetyBackup(job) => match job.run_slice(db, store, settings, meter).await {
                    Ok(SliceEnd::Continue) => After::Pause,
                    Ok(SliceEnd::Done(safety)) => {
                        self.safety_taken(safety, meter.now());
                        After::GoOn
                    }
                    Err(error) if error.is_transient() => {
                        return Err(RestoreJobError::SafetyBackup(error));
                    }
                    Err(error) => {
                        self.abandon_safety(&metered_store).await;
                        let detail =
                            format!("the safety backup failed, nothing was changed: {error}");
                        self.refuse(6, &detail, meter.now());
                        After::GoOn
                    }
                },
                Stage::SafetyCheck(job) => {
                    let end = job.run_slice(store, keyring, settings.engine, meter).await;
                    // Steps 1-5 of the safety backup are part of step 6.
                    job.take_events();
                    match end? {
                        SliceEnd::Continue => After::Pause,
                        SliceEnd::Done(report) => {
                            let manifest = job.manifest().clone();
                            self.safety_checked(manifest, &report, meter.now());
                            After::GoOn
                        }
                    }
                }
                Stage::Replace(replace) => {
                    let unit = Unit {
                        db: &metered_db,
                        store: &metered_store,
                        keyring,
                        engine: settings.engine,
                        meter,
                        committed: &mut committed,
                        journal: &mut self.journal,
                    };
                    let end = replace.unit(unit).await?;
                    self.touched |= replace.step() > 7;
                    let rollback = replace.rollback;
                    if let Some(end) = end {
                        self.replaced(rollback, end, meter.now());
                    }
                    After::GoOn
                }
                Stage::Undecided { detail } => {
                    let detail = detail.clone();
                    let dropped = progress_table::exists(&metered_db)
                        .await
                        .map_err(RestoreJobError::Database)?;
                    self.decided(&detail, dropped, now);
                    After::GoOn
                }
                Stage::Cleanup => {
                    if self.touched {
                        metered_db
                            .batch(&[progress_table::drop()])
                            .await
                            .map_err(RestoreJobError::Database)?;
                        self.touched = false;
                    }
                    let detail = format!("outcome: {}", self.outcome.as_str());
                    self.journal
                        .record(step_report(10, StepStatus::Passed, detail, 0), false);
                    self.finish(self.outcome, now);
                    After::GoOn
                }
                Stage::Done { .. } => After::GoOn,
            };
            if let After::Pause = after {
                return Ok(SliceEnd::Continue);
            }
        }
    }

    /// Asks the job to stop: before step 7 it ends cancelled with nothing
    /// changed; during steps 7-9 it rolls back onto the safety backup; the
    /// rollback itself is not stopped. Acted on by the next slice; asking
    /// again does nothing.
    pub fn cancel(&mut self) {
        if self.cancel.is_none() && self.outcome().is_none() {
            self.cancel = Some(Cancel::Requested);
        }
    }

    /// Tells the job that the engine stopped retrying its slices, which
    /// kept failing with `reason`: the step under way fails with it (and
    /// steps 7-9 roll back; a rollback ends failed). Acted on by the next
    /// slice, which the engine must run.
    pub fn give_up(&mut self, reason: impl Into<String>) {
        if self.outcome().is_none() {
            self.give_up = Some(reason.into());
        }
    }

    /// The step the job is at, in words, for its job record.
    pub fn step_name(&self) -> &'static str {
        match &self.stage {
            Stage::Validate(_) => "download, decrypt and validate",
            Stage::SafetyBackup(_) => "safety backup",
            Stage::SafetyCheck(_) => "safety backup: validating it",
            Stage::Replace(replace) => match (replace.rollback, replace.step()) {
                (false, 7) => "drop objects",
                (false, 8) => "import",
                (false, _) => "verify",
                (true, 7) => "rollback: drop objects",
                (true, 8) => "rollback: import",
                (true, _) => "rollback: verify",
            },
            Stage::Undecided { .. } => "drop objects: did it commit?",
            Stage::Cleanup => "report",
            Stage::Done { .. } => "done",
        }
    }

    /// How far the stage under way has come: bytes of the object read and
    /// rows (steps 1-5, the import and the rollback's import, of their
    /// manifest's); the safety backup's own progress at step 6.
    pub fn progress(&self) -> JobProgress {
        match &self.stage {
            Stage::Validate(job) | Stage::SafetyCheck(job) => job.progress(),
            Stage::SafetyBackup(job) => job.progress(),
            Stage::Replace(replace) => replace.progress(),
            Stage::Undecided { .. } | Stage::Cleanup | Stage::Done { .. } => JobProgress {
                bytes_done: self.params.manifest.ciphertext.bytes,
                bytes_total: Some(self.params.manifest.ciphertext.bytes),
                rows_done: self.params.manifest.total_rows(),
                rows_total: Some(self.params.manifest.total_rows()),
            },
        }
    }

    /// The events since the last call: steps started and finished (the
    /// rollback's named `rollback: <step>`), with their reports as detail,
    /// and warnings.
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        self.journal.events.take_events()
    }

    /// The step events since the last call, and whether each is the
    /// rollback's, for a [`Progress`](super::restore::Progress).
    pub(crate) fn take_step_reports(&mut self) -> Vec<(StepReport, bool)> {
        self.journal.events.take_step_reports()
    }

    /// The job's final state once it is over: succeeded; failed with
    /// nothing changed; rolled back; rollback failed; or cancelled (before
    /// step 7 with nothing changed, or during 7-9 and rolled back).
    pub fn outcome(&self) -> Option<JobState> {
        match &self.stage {
            Stage::Done { state, .. } => Some(*state),
            _ => None,
        }
    }
}

#[cfg(test)]
mod tests;
