//! Validating and restoring a backup: the operators' ten steps.
//!
//! 1 download, 2 integrity (size and SHA-256 of the object against the
//! manifest), 3 decrypt (every chunk authenticated), 4 checksum (SHA-256 of
//! the SQL against the manifest), 5 SQL validation (every statement against
//! the allowlist; what it would create compared with the manifest; a backup
//! whose source had foreign key violations is refused, since D1 enforces
//! foreign keys at every commit and cannot turn them off). Steps
//! 1-5 run over the whole object, streamed in ranges, before anything is
//! written: nothing unauthenticated ever reaches the database.
//!
//! Then 6 a pinned pre-restore backup of the current database (unless
//! skipped, which the report records), itself validated as steps 1-5
//! validate, 7 drop the user objects (one atomic batch: if it fails,
//! nothing changed and the restore ends failed), 8 import in planned
//! batches (a second streamed pass, authenticated again chunk by chunk;
//! each batch exactly once), 9 verify (row counts and schema objects equal
//! the manifest, schema hash, `foreign_key_check` no worse than at backup
//! time, `quick_check` ok), 10 clean up and report. If 8-9 fail, the safety
//! backup is restored the same way and the report says both outcomes.
//!
//! The steps run as sliced, resumable jobs ([`ValidateJob`] and
//! [`RestoreJob`], in [`super::restore_job`]); [`validate`] and [`restore`]
//! here run them to their end in one go (the tests).
//! Timings come from the caller's clock; on Workers the clock advances only
//! on I/O, so CPU-bound steps may show 0 ms there.

use super::backup::{BackupRequest, BackupSettings};
use super::restore_job::{RestoreJob, RestoreJobParams, ValidateJob};
use super::slice::{Meter, SliceEnd};
use super::store::{ObjectStore, SqlReader, SqlWriter};
use crate::format::keys::Keyring;
use crate::format::Engine;
use crate::manifest::Manifest;
use crate::restore::plan::PlannedStatement;
use crate::restore::validate::RestoreSummary;
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

mod drop_objects;
mod verify;

pub(super) use drop_objects::{drop_statements, next_drop_batch};
pub(crate) use verify::compare_summary;
pub(super) use verify::verify;
/// Names the tests of this module take from it through `use super::*`.
#[cfg(test)]
use {super::backup::take_backup, crate::format::BackupId};

/// The ten steps' names, in order.
pub const STEP_NAMES: [&str; 10] = [
    "download",
    "integrity",
    "decrypt",
    "checksum",
    "sql validation",
    "safety backup",
    "drop objects",
    "import",
    "verify",
    "report",
];

/// Where a step stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum StepStatus {
    /// Begun, not finished.
    Started,
    /// Finished successfully.
    Passed,
    /// Finished with a failure (see the detail).
    Failed,
    /// Not run.
    Skipped,
}

/// One step's outcome, as reported and streamed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// 1 to 10.
    pub step: u8,
    /// See [`STEP_NAMES`].
    pub name: String,
    /// Where it stands.
    pub status: StepStatus,
    /// What happened, for an operator.
    pub detail: String,
    /// How long it took.
    pub ms: i64,
}

/// Receives step events as they happen (the HTTP edge streams them).
pub trait Progress {
    /// Called when a step starts and when it ends; `rollback` marks events
    /// of the automatic rollback.
    fn event(&mut self, report: &StepReport, rollback: bool);
}

/// A [`Progress`] that ignores events.
pub struct Silent;

impl Progress for Silent {
    fn event(&mut self, _: &StepReport, _: bool) {}
}

/// The outcome of steps 1-5.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ValidationReport {
    /// The backup validated.
    pub backup_id: String,
    /// True when all five steps passed.
    pub ok: bool,
    /// Steps 1-5.
    pub steps: Vec<StepReport>,
    /// What the import would create (when step 5 ran to the end).
    pub summary: Option<RestoreSummary>,
    /// What the operator must know although validation passed (see
    /// [`summary_warnings`]); also in step 5's detail.
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// How a restore ended.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum RestoreOutcome {
    /// The database now equals the backup.
    Succeeded,
    /// Refused or stopped before any change (a step from 1 to 7 failed, or
    /// the restore was cancelled then): the database is as it was.
    Failed,
    /// Steps 8-9 failed (or were stopped) and the safety backup was
    /// restored and verified.
    RolledBack,
    /// Steps 8-9 failed and the database could not be put back (or no safety
    /// backup was taken): it needs an operator now.
    RollbackFailed,
}

impl RestoreOutcome {
    /// The outcome as the report spells it.
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Succeeded => "succeeded",
            Self::Failed => "failed",
            Self::RolledBack => "rolled_back",
            Self::RollbackFailed => "rollback_failed",
        }
    }
}

/// The report of a restore, stored under `reports/restores/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestoreReport {
    /// This restore's id.
    pub restore_id: String,
    /// The backup restored.
    pub backup_id: String,
    /// How it ended.
    pub outcome: RestoreOutcome,
    /// When it started.
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// The pre-restore backup taken at step 6, if any.
    pub safety_backup_id: Option<String>,
    /// Whether the operator skipped the safety backup.
    pub safety_backup_skipped: bool,
    /// Rows imported at step 8.
    pub rows_imported: u64,
    /// Statements executed at step 8.
    pub statements_imported: u64,
    /// The ten steps.
    pub steps: Vec<StepReport>,
    /// The verification at step 9 (or of the rollback).
    pub verification: Vec<Check>,
    /// The rollback's steps, when one ran.
    pub rollback: Option<Vec<StepReport>>,
    /// What the operator must know about the restored database (see
    /// [`summary_warnings`]).
    #[serde(default)]
    pub warnings: Vec<String>,
}

/// One verification check.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// What was compared.
    pub name: String,
    /// Whether it matched.
    pub ok: bool,
    /// Expected and found, in words.
    pub detail: String,
}

/// What the one-go restore needs to know.
pub struct RestoreParams<'a> {
    /// The restore's id.
    pub restore_id: String,
    /// The backup to restore.
    pub manifest: &'a Manifest,
    /// Keys to open it with.
    pub keyring: &'a Keyring,
    /// Settings for the safety backup.
    pub settings: BackupSettings<'a>,
    /// The safety backup's id and salt, or `None` to skip it.
    pub safety_backup: Option<(String, [u8; 32])>,
    /// The clock.
    pub clock: &'a dyn Fn() -> Timestamp,
}

/// Why a streamed pass over an object stopped for good: the failing step
/// (1 to 5) and what an operator reads.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct PassFailure {
    /// The step that failed.
    pub step: u8,
    /// What happened.
    pub detail: String,
}

/// Step `step` failed with `detail`.
pub(super) fn fail(step: u8, detail: impl Into<String>) -> PassFailure {
    PassFailure {
        step,
        detail: detail.into(),
    }
}

/// Steps 1-5 over the whole object; writes nothing. Runs a [`ValidateJob`]
/// to its end; an object that cannot be read fails step 1.
pub async fn validate(
    store: &impl ObjectStore,
    keyring: &Keyring,
    engine: &dyn Engine,
    manifest: &Manifest,
    clock: &dyn Fn() -> Timestamp,
    progress: &mut impl Progress,
) -> ValidationReport {
    let meter = Meter::unlimited(clock);
    let mut job = ValidateJob::new(manifest.clone());
    loop {
        let end = job.run_slice(store, keyring, engine, &meter).await;
        for (step, rollback) in job.take_step_reports() {
            progress.event(&step, rollback);
        }
        match end {
            Ok(SliceEnd::Done(report)) => return report,
            Ok(SliceEnd::Continue) => {}
            Err(error) => job.give_up(error.to_string()),
        }
    }
}

/// The report of steps 1-5, from what the pass over the object found
/// (`ms`: how long it took).
pub(super) fn validation_report(
    manifest: &Manifest,
    outcome: Result<Streamed, PassFailure>,
    ms: i64,
) -> ValidationReport {
    let outcome = outcome
        .and_then(|streamed| compare_digests(manifest, &streamed).map(|()| streamed.summary));
    let (steps, summary) = match outcome {
        Ok(summary) => match compare_summary(manifest, &summary)
            .and_then(|()| refuse_foreign_key_violations(manifest))
        {
            Ok(()) => (pass_all(manifest, &summary, ms), Some(summary)),
            Err(detail) => (steps_failing_at(5, &detail, ms), Some(summary)),
        },
        Err(failure) => (steps_failing_at(failure.step, &failure.detail, ms), None),
    };
    let warnings = backup_warnings(manifest, summary.as_ref());
    ValidationReport {
        backup_id: manifest.id.clone(),
        ok: steps.iter().all(|s| s.status == StepStatus::Passed),
        steps,
        summary,
        warnings,
    }
}

/// What an operator must know about a backup that validates: the
/// manifest's warnings (recorded by the dump), then those of the SQL's own
/// summary about tables the manifest's warnings do not name.
pub fn backup_warnings(manifest: &Manifest, summary: Option<&RestoreSummary>) -> Vec<String> {
    let mut warnings: Vec<String> = manifest
        .warnings
        .iter()
        .map(|w| match &w.table {
            Some(table) => format!("{table}: {}", w.message),
            None => w.message.clone(),
        })
        .collect();
    if let Some(summary) = summary {
        let named = |table: &str| {
            manifest
                .warnings
                .iter()
                .any(|w| w.table.as_deref() == Some(table))
        };
        let mut own = summary.clone();
        own.contentless_tables.retain(|t| !named(t));
        own.uncounted_tables.retain(|t| !named(t));
        warnings.extend(summary_warnings(&own));
    }
    warnings
}

/// What an operator must know about what the SQL creates: tables whose
/// rows the restore cannot bring back or cannot count.
pub fn summary_warnings(summary: &RestoreSummary) -> Vec<String> {
    let contentless = summary.contentless_tables.iter().map(|table| {
        format!(
            "FTS5 table {table:?} is contentless (content=''): its text is not stored, so it is \
             recreated empty: rebuild its index from your source data"
        )
    });
    let uncounted = summary.uncounted_tables.iter().map(|table| {
        format!(
            "FTS5 table {table:?} takes its content from a view: its row count is not \
             comparable with the manifest's and is not checked"
        )
    });
    contentless.chain(uncounted).collect()
}

/// Step 5's refusal of a backup whose source database broke its own
/// foreign keys: D1 checks them at every commit and cannot turn them off
/// (`PRAGMA foreign_keys` is a no-op inside a transaction, and every D1
/// query and `batch()` is one), so the import would fail midway.
fn refuse_foreign_key_violations(manifest: &Manifest) -> Result<(), String> {
    let check = &manifest.foreign_key_check;
    let count = manifest
        .foreign_key_violations
        .max(check.at_start)
        .max(check.at_end);
    if count == 0 {
        return Ok(());
    }
    let tables = if check.tables.is_empty() {
        String::new()
    } else {
        format!(" in table(s) {}", check.tables.join(", "))
    };
    Err(format!(
        "the backup recorded {count} foreign key violation(s) (PRAGMA foreign_key_check){tables} \
         in the source database; D1 enforces foreign keys at every commit and cannot turn them off, so \
         this backup cannot be imported into D1 without failing. Fix the violations in the \
         source database and take a new backup, or restore this backup offline with sqlite3 \
         (d1-vault decrypt, then sqlite3 new.db < dump.sql)"
    ))
}

/// All ten steps, run as a [`RestoreJob`] to its end in one go (the CLI's
/// offline paths and the tests; the worker runs the job in slices). An edge failure the job would retry in another slice ends the
/// step it happened in instead (as the job engine's give-up does).
pub async fn restore<D: SqlReader + SqlWriter>(
    db: &D,
    store: &impl ObjectStore,
    params: RestoreParams<'_>,
    progress: &mut impl Progress,
) -> RestoreReport {
    let clock = params.clock;
    let safety_backup = params.safety_backup.map(|(id, salt)| BackupRequest {
        id,
        kind: BackupKind::PreRestore,
        pinned: true,
        note: Some(format!("taken before restoring {}", params.manifest.id)),
        created_at: clock(),
        salt,
    });
    let mut job = RestoreJob::new(RestoreJobParams {
        restore_id: params.restore_id,
        manifest: params.manifest.clone(),
        safety_backup,
    });
    let meter = Meter::unlimited(clock);
    loop {
        let end = job
            .run_slice(db, store, params.keyring, params.settings, &meter)
            .await;
        for (step, rollback) in job.take_step_reports() {
            progress.event(&step, rollback);
        }
        match end {
            Ok(SliceEnd::Done(report)) => return report,
            Ok(SliceEnd::Continue) => {}
            Err(error) => job.give_up(error.to_string()),
        }
    }
}

/// What a streamed pass over an object computed.
#[derive(Debug, Clone, PartialEq)]
pub struct Streamed {
    /// What the SQL creates.
    pub summary: RestoreSummary,
    /// The object's size.
    pub object_bytes: u64,
    /// The object's SHA-256.
    pub object_sha256: String,
    /// The SQL's size.
    pub sql_bytes: u64,
    /// The SQL's SHA-256.
    pub sql_sha256: String,
    /// The key the object is encrypted with.
    pub key_id: String,
    /// The object's format version.
    pub format_version: u8,
}

/// Steps 2 and 4: the digests a pass computed against the manifest's.
pub(super) fn compare_digests(manifest: &Manifest, streamed: &Streamed) -> Result<(), PassFailure> {
    if streamed.object_sha256 != manifest.ciphertext.sha256 {
        return Err(fail(
            2,
            format!(
                "the object's SHA-256 is {}, the manifest says {}",
                streamed.object_sha256, manifest.ciphertext.sha256
            ),
        ));
    }
    if streamed.sql_sha256 != manifest.plaintext.sha256 {
        return Err(fail(
            4,
            format!(
                "the SQL's SHA-256 is {}, the manifest says {}",
                streamed.sql_sha256, manifest.plaintext.sha256
            ),
        ));
    }
    Ok(())
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn first_text(rows: &[crate::dump::Row]) -> Option<String> {
    rows.first().and_then(|row| row.first()).cloned().flatten()
}

/// The dump line of the first of `statements` that comes from the dump.
pub(super) fn first_line(statements: &[PlannedStatement]) -> u64 {
    statements
        .iter()
        .map(|s| s.line)
        .find(|line| *line > 0)
        .unwrap_or(0)
}

fn sorted<T: Ord>(mut items: Vec<T>) -> Vec<T> {
    items.sort();
    items
}

/// A step's report.
pub(super) fn step_report(
    step: u8,
    status: StepStatus,
    detail: impl Into<String>,
    ms: i64,
) -> StepReport {
    StepReport {
        step,
        name: STEP_NAMES[usize::from(step - 1)].to_owned(),
        status,
        detail: detail.into(),
        ms,
    }
}

/// The event of a step that begins.
pub(super) fn started(step: u8) -> StepReport {
    step_report(step, StepStatus::Started, "", 0)
}

/// Steps 1-5 when step `failed` failed: those before passed, those after
/// skipped.
pub(super) fn steps_failing_at(failed: u8, detail: &str, ms: i64) -> Vec<StepReport> {
    (1..=5)
        .map(|step| match step.cmp(&failed) {
            std::cmp::Ordering::Less => step_report(step, StepStatus::Passed, "", 0),
            std::cmp::Ordering::Equal => step_report(step, StepStatus::Failed, detail, ms),
            std::cmp::Ordering::Greater => {
                step_report(step, StepStatus::Skipped, "an earlier step failed", 0)
            }
        })
        .collect()
}

fn pass_all(manifest: &Manifest, summary: &RestoreSummary, ms: i64) -> Vec<StepReport> {
    let rows: u64 = summary.tables.iter().map(|t| t.rows).sum();
    vec![
        step_report(
            1,
            StepStatus::Passed,
            format!("{} bytes read", manifest.ciphertext.bytes),
            ms,
        ),
        step_report(
            2,
            StepStatus::Passed,
            format!(
                "size and SHA-256 match the manifest ({})",
                manifest.ciphertext.sha256
            ),
            0,
        ),
        step_report(
            3,
            StepStatus::Passed,
            format!(
                "every chunk authenticated with key {}",
                manifest.encryption.key_id
            ),
            0,
        ),
        step_report(
            4,
            StepStatus::Passed,
            format!(
                "{} bytes of SQL, SHA-256 matches the manifest",
                manifest.plaintext.bytes
            ),
            0,
        ),
        step_report(
            5,
            StepStatus::Passed,
            format!(
                "{} statements allowed; {} tables, {rows} rows, as the manifest lists{}",
                summary.statements,
                summary.tables.len(),
                backup_warnings(manifest, Some(summary))
                    .iter()
                    .map(|w| format!("; warning: {w}"))
                    .collect::<String>()
            ),
            0,
        ),
    ]
}

#[cfg(test)]
mod tests;
