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
//! skipped, which the report records), 7 drop the user objects, 8 import in
//! planned batches (a second streamed pass, authenticated again chunk by
//! chunk), 9 verify (row counts and schema objects equal the manifest,
//! schema hash, `foreign_key_check` no worse than at backup time,
//! `quick_check` ok), 10 report. If 7-9 fail, the safety backup is restored
//! the same way and the report says both outcomes.
//!
//! Timings come from the caller's clock; on Workers the clock advances only
//! on I/O, so CPU-bound steps may show 0 ms there.

use super::backup::{take_backup, BackupRequest, BackupSettings};
use super::store::{ObjectStore, SqlReader, SqlWriter};
use crate::format::keys::Keyring;
use crate::format::{BackupId, Decryptor};
use crate::manifest::Manifest;
use crate::restore::plan::{PlannedStatement, Planner};
use crate::restore::reader::StatementReader;
use crate::restore::validate::{RestoreSummary, Validated, Validator};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

mod drop_objects;
mod verify;

use drop_objects::drop_user_objects;
pub(crate) use verify::compare_summary;
use verify::verify;

/// Bytes read from R2 per ranged GET.
pub const READ_RANGE_BYTES: u64 = 8 * 1024 * 1024;

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
    /// Refused before any write (validation failed): the database is as it was.
    Failed,
    /// Steps 7-9 failed and the safety backup was restored and verified.
    RolledBack,
    /// Steps 7-9 failed and the database could not be put back (or no safety
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

/// What the restore needs to know.
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

/// Why a streamed pass over an object stopped.
#[derive(Debug)]
struct PassFailure {
    step: u8,
    detail: String,
}

fn fail(step: u8, detail: impl Into<String>) -> PassFailure {
    PassFailure {
        step,
        detail: detail.into(),
    }
}

/// Steps 1-5 over the whole object; writes nothing.
pub async fn validate(
    store: &impl ObjectStore,
    keyring: &Keyring,
    manifest: &Manifest,
    clock: &dyn Fn() -> Timestamp,
    progress: &mut impl Progress,
) -> ValidationReport {
    let began = clock();
    for step in 1..=5 {
        progress.event(&started(step), false);
    }
    let outcome = stream_statements(
        store,
        keyring,
        &manifest.object_key,
        &manifest.id,
        Some(manifest.ciphertext.bytes),
        |_| async { Ok(()) },
    )
    .await
    .and_then(|streamed| compare_digests(manifest, &streamed).map(|()| streamed.summary));
    let ms = clock().as_millis() - began.as_millis();
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
    for step in &steps {
        progress.event(step, false);
    }
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

/// All ten steps. The caller holds the lock.
pub async fn restore<D: SqlReader + SqlWriter>(
    db: &D,
    store: &impl ObjectStore,
    params: RestoreParams<'_>,
    progress: &mut impl Progress,
) -> RestoreReport {
    let clock = params.clock;
    let started_at = clock();
    let mut report = RestoreReport {
        restore_id: params.restore_id.clone(),
        backup_id: params.manifest.id.clone(),
        outcome: RestoreOutcome::Failed,
        started_at,
        finished_at: started_at,
        safety_backup_id: None,
        safety_backup_skipped: params.safety_backup.is_none(),
        rows_imported: 0,
        statements_imported: 0,
        steps: Vec::new(),
        verification: Vec::new(),
        rollback: None,
        warnings: Vec::new(),
    };

    let validation = validate(store, params.keyring, params.manifest, clock, progress).await;
    report.steps = validation.steps;
    report.warnings = validation.warnings;
    if !validation.ok {
        skip_from(&mut report.steps, 6, progress);
        report.finished_at = clock();
        return report;
    }

    // 6: safety backup.
    let mut timer = Timer::start(clock);
    progress.event(&started(6), false);
    let safety = match &params.safety_backup {
        None => {
            let step = step_report(
                6,
                StepStatus::Skipped,
                "skipped at the operator's request (skip_safety_backup)",
                0,
            );
            progress.event(&step, false);
            report.steps.push(step);
            None
        }
        Some((id, salt)) => {
            let request = BackupRequest {
                id: id.clone(),
                kind: BackupKind::PreRestore,
                pinned: true,
                note: Some(format!("taken before restoring {}", params.manifest.id)),
                created_at: clock(),
                salt: *salt,
            };
            match take_backup(db, store, params.settings, &request, clock).await {
                Ok(safety) if safety.foreign_key_violations > 0 => {
                    let step = step_report(
                        6,
                        StepStatus::Failed,
                        format!(
                            "the current database has {} foreign key violation(s), so its safety \
                             backup {} could not be restored into D1 if the import failed (D1 \
                             enforces foreign keys at every commit); nothing was changed. Fix the \
                             violations first, or restore with skip_safety_backup to go on without \
                             a rollback",
                            safety.foreign_key_violations, safety.id
                        ),
                        timer.lap(),
                    );
                    progress.event(&step, false);
                    report.steps.push(step);
                    report.safety_backup_id = Some(safety.id.clone());
                    skip_from(&mut report.steps, 7, progress);
                    report.finished_at = clock();
                    return report;
                }
                Ok(safety) => {
                    let step = step_report(
                        6,
                        StepStatus::Passed,
                        format!("pre-restore backup {} (pinned)", safety.id),
                        timer.lap(),
                    );
                    progress.event(&step, false);
                    report.steps.push(step);
                    report.safety_backup_id = Some(safety.id.clone());
                    Some(safety)
                }
                Err(error) => {
                    let step = step_report(
                        6,
                        StepStatus::Failed,
                        format!("the safety backup failed, nothing was changed: {error}"),
                        timer.lap(),
                    );
                    progress.event(&step, false);
                    report.steps.push(step);
                    skip_from(&mut report.steps, 7, progress);
                    report.finished_at = clock();
                    return report;
                }
            }
        }
    };

    // 7-9, with rollback on failure.
    timer = Timer::start(clock);
    match replace_database(
        db,
        store,
        params.keyring,
        params.manifest,
        &mut timer,
        progress,
        false,
    )
    .await
    {
        Ok((steps, imported, checks)) => {
            report.steps.extend(steps);
            report.rows_imported = imported.rows;
            report.statements_imported = imported.statements;
            report.verification = checks;
            report.outcome = RestoreOutcome::Succeeded;
        }
        Err((steps, checks)) => {
            report.steps.extend(steps);
            report.verification = checks;
            report.outcome = RestoreOutcome::RollbackFailed;
            if let Some(safety) = &safety {
                let mut timer = Timer::start(clock);
                let rollback = replace_database(
                    db,
                    store,
                    params.keyring,
                    safety,
                    &mut timer,
                    progress,
                    true,
                )
                .await;
                report.outcome = match &rollback {
                    Ok(_) => RestoreOutcome::RolledBack,
                    Err(_) => RestoreOutcome::RollbackFailed,
                };
                report.rollback = Some(match rollback {
                    Ok((steps, _, _)) | Err((steps, _)) => steps,
                });
            }
        }
    }
    let step = step_report(
        10,
        StepStatus::Passed,
        format!("outcome: {}", report.outcome.as_str()),
        0,
    );
    progress.event(&step, false);
    report.steps.push(step);
    report.finished_at = clock();
    report
}

/// Rows and statements imported.
struct Imported {
    rows: u64,
    statements: u64,
}

type Replaced = (Vec<StepReport>, Imported, Vec<Check>);
type NotReplaced = (Vec<StepReport>, Vec<Check>);

/// Steps 7-9 for `manifest`'s object.
async fn replace_database<D: SqlReader + SqlWriter>(
    db: &D,
    store: &impl ObjectStore,
    keyring: &Keyring,
    manifest: &Manifest,
    timer: &mut Timer<'_>,
    progress: &mut impl Progress,
    rollback: bool,
) -> Result<Replaced, NotReplaced> {
    let mut steps = Vec::new();
    let mut emit = |steps: &mut Vec<StepReport>, step: StepReport| {
        progress.event(&step, rollback);
        steps.push(step);
    };

    emit(&mut Vec::new(), started(7));
    if let Err(error) = drop_user_objects(db).await {
        emit(
            &mut steps,
            step_report(7, StepStatus::Failed, error.to_string(), timer.lap()),
        );
        return Err((steps, Vec::new()));
    }
    emit(
        &mut steps,
        step_report(
            7,
            StepStatus::Passed,
            "user tables, views, triggers and indexes dropped",
            timer.lap(),
        ),
    );

    emit(&mut Vec::new(), started(8));
    let mut planner = Planner::new();
    let mut statements = 0u64;
    let imported = stream_statements(
        store,
        keyring,
        &manifest.object_key,
        &manifest.id,
        Some(manifest.ciphertext.bytes),
        |validated: Vec<Validated>| {
            let mut batches = Vec::new();
            for statement in validated {
                planner.push(statement, &mut batches);
            }
            statements += batches
                .iter()
                .map(|b| b.statements.len() as u64)
                .sum::<u64>();
            async move {
                for batch in batches {
                    db.batch(&batch.statements).await.map_err(|error| {
                        fail(
                            8,
                            format!(
                                "D1 rejected a batch starting at line {}: {}",
                                first_line(&batch.statements),
                                error.detail
                            ),
                        )
                    })?;
                }
                Ok(())
            }
        },
    )
    .await
    .and_then(|streamed| compare_digests(manifest, &streamed).map(|()| streamed.summary));
    let imported = match imported {
        Ok(summary) => {
            for batch in planner.finish() {
                statements += batch.statements.len() as u64;
                if let Err(error) = db.batch(&batch.statements).await {
                    emit(
                        &mut steps,
                        step_report(
                            8,
                            StepStatus::Failed,
                            format!("D1 rejected the last batch: {}", error.detail),
                            timer.lap(),
                        ),
                    );
                    return Err((steps, Vec::new()));
                }
            }
            summary
        }
        Err(failure) => {
            emit(
                &mut steps,
                step_report(8, StepStatus::Failed, failure.detail, timer.lap()),
            );
            return Err((steps, Vec::new()));
        }
    };
    let rows: u64 = imported.tables.iter().map(|t| t.rows).sum();
    emit(
        &mut steps,
        step_report(
            8,
            StepStatus::Passed,
            format!("{rows} rows in {statements} statements"),
            timer.lap(),
        ),
    );

    emit(&mut Vec::new(), started(9));
    let checks = match verify(db, manifest, &imported).await {
        Ok(checks) => checks,
        Err(error) => {
            emit(
                &mut steps,
                step_report(9, StepStatus::Failed, error.to_string(), timer.lap()),
            );
            return Err((steps, Vec::new()));
        }
    };
    let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
    if failed.is_empty() {
        let mut detail = format!("{} checks passed", checks.len());
        for warning in summary_warnings(&imported) {
            detail.push_str(&format!("; warning: {warning}"));
        }
        emit(
            &mut steps,
            step_report(9, StepStatus::Passed, detail, timer.lap()),
        );
        Ok((steps, Imported { rows, statements }, checks))
    } else {
        let detail = failed
            .iter()
            .map(|c| format!("{}: {}", c.name, c.detail))
            .collect::<Vec<_>>()
            .join("; ");
        emit(
            &mut steps,
            step_report(9, StepStatus::Failed, detail, timer.lap()),
        );
        Err((steps, checks))
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
}

/// Streams the object at `key` (backup `id`, `expected_size` bytes if
/// known) through decryption and the statement reader and validator,
/// handing each piece's validated statements to `sink`.
async fn stream_statements<F, Fut>(
    store: &impl ObjectStore,
    keyring: &Keyring,
    key: &str,
    id: &str,
    expected_size: Option<u64>,
    mut sink: F,
) -> Result<Streamed, PassFailure>
where
    F: FnMut(Vec<Validated>) -> Fut,
    Fut: std::future::Future<Output = Result<(), PassFailure>>,
{
    let size = store
        .size(key)
        .await
        .map_err(|e| fail(1, format!("reading the object failed: {e}")))?
        .ok_or_else(|| fail(1, format!("the data object {key} is missing")))?;
    if let Some(expected) = expected_size.filter(|expected| *expected != size) {
        return Err(fail(
            1,
            format!("the object is {size} bytes but the manifest says {expected}: it was truncated or replaced"),
        ));
    }
    let backup_id = BackupId::parse(id).map_err(|e| fail(3, e.to_string()))?;
    let mut decryptor = Decryptor::new(keyring, Some(&backup_id));
    let mut reader = StatementReader::new();
    let mut validator = Validator::new();
    let mut object_hash = Sha256::new();
    let mut sql_hash = Sha256::new();
    let mut sql_bytes = 0u64;
    let mut plaintext = Vec::new();
    let mut offset = 0u64;
    while offset < size {
        let bytes = store
            .get_range(key, offset, READ_RANGE_BYTES)
            .await
            .map_err(|e| fail(1, format!("reading the object failed: {e}")))?
            .ok_or_else(|| {
                fail(
                    1,
                    format!("the data object {key} disappeared while reading"),
                )
            })?;
        if bytes.is_empty() {
            return Err(fail(
                1,
                format!("the object ended at byte {offset} of {size}"),
            ));
        }
        offset += bytes.len() as u64;
        object_hash.update(&bytes);
        plaintext.clear();
        decryptor
            .update(&bytes, &mut plaintext)
            .map_err(|e| fail(3, e.to_string()))?;
        sql_hash.update(&plaintext);
        sql_bytes += plaintext.len() as u64;
        let statements = read_and_check(&mut reader, &mut validator, &plaintext)?;
        sink(statements).await?;
    }
    plaintext.clear();
    let decrypted = decryptor
        .finish(&mut plaintext)
        .map_err(|e| fail(3, e.to_string()))?;
    sql_hash.update(&plaintext);
    sql_bytes += plaintext.len() as u64;
    let statements = read_and_check(&mut reader, &mut validator, &plaintext)?;
    reader.finish().map_err(|e| fail(5, e.to_string()))?;
    sink(statements).await?;
    Ok(Streamed {
        summary: validator.finish(),
        object_bytes: size,
        object_sha256: hex(&object_hash.finalize()),
        sql_bytes,
        sql_sha256: hex(&sql_hash.finalize()),
        key_id: decrypted.key_id.to_string(),
    })
}

/// Steps 2 and 4: the digests a pass computed against the manifest's.
fn compare_digests(manifest: &Manifest, streamed: &Streamed) -> Result<(), PassFailure> {
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

/// Steps 1-5 over an object that has no manifest yet (an import): what it
/// holds, or why it is not a valid backup (with the failing step's number).
pub async fn examine(
    store: &impl ObjectStore,
    keyring: &Keyring,
    key: &str,
    id: &str,
) -> Result<Streamed, (u8, String)> {
    stream_statements(store, keyring, key, id, None, |_| async { Ok(()) })
        .await
        .map_err(|failure| (failure.step, failure.detail))
}

fn read_and_check(
    reader: &mut StatementReader,
    validator: &mut Validator,
    sql: &[u8],
) -> Result<Vec<Validated>, PassFailure> {
    let mut statements = Vec::new();
    reader
        .push(sql, &mut statements)
        .map_err(|e| fail(5, e.to_string()))?;
    statements
        .iter()
        .map(|statement| {
            validator
                .check(statement)
                .map_err(|rejection| fail(5, rejection.to_string()))
        })
        .collect()
}

fn quote_ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn first_text(rows: &[crate::dump::Row]) -> Option<String> {
    rows.first().and_then(|row| row.first()).cloned().flatten()
}

fn first_line(statements: &[PlannedStatement]) -> u64 {
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

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn step_report(step: u8, status: StepStatus, detail: impl Into<String>, ms: i64) -> StepReport {
    StepReport {
        step,
        name: STEP_NAMES[usize::from(step - 1)].to_owned(),
        status,
        detail: detail.into(),
        ms,
    }
}

fn started(step: u8) -> StepReport {
    step_report(step, StepStatus::Started, "", 0)
}

fn steps_failing_at(failed: u8, detail: &str, ms: i64) -> Vec<StepReport> {
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

fn skip_from(steps: &mut Vec<StepReport>, first: u8, progress: &mut impl Progress) {
    for step in first..=10 {
        let skipped = step_report(
            step,
            StepStatus::Skipped,
            "not run: an earlier step failed, the database was not changed",
            0,
        );
        progress.event(&skipped, false);
        steps.push(skipped);
    }
}

/// Measures consecutive steps.
struct Timer<'a> {
    clock: &'a dyn Fn() -> Timestamp,
    since: Timestamp,
}

impl<'a> Timer<'a> {
    fn start(clock: &'a dyn Fn() -> Timestamp) -> Self {
        Self {
            clock,
            since: clock(),
        }
    }

    fn lap(&mut self) -> i64 {
        let now = (self.clock)();
        let ms = now.as_millis() - self.since.as_millis();
        self.since = now;
        ms
    }
}

#[cfg(test)]
mod tests;
