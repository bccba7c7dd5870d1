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
use super::store::{EdgeError, ObjectStore, SqlReader, SqlWriter};
use crate::dump::{schema_sha256, SCHEMA_QUERY};
use crate::format::keys::Keyring;
use crate::format::{BackupId, Decryptor};
use crate::internal_names::is_internal_name;
use crate::manifest::Manifest;
use crate::restore::plan::{PlannedStatement, Planner};
use crate::restore::reader::StatementReader;
use crate::restore::validate::{RestoreSummary, Validated, Validator};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

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

/// Tables whose row count cannot be compared with the manifest's, and why
/// (see [`summary_warnings`]).
fn not_comparable(summary: &RestoreSummary) -> Vec<(&str, &'static str)> {
    let contentless = summary.contentless_tables.iter().map(|t| {
        (
            t.as_str(),
            "not comparable: a contentless FTS5 table is recreated empty; rebuild its index from your source data",
        )
    });
    let uncounted = summary.uncounted_tables.iter().map(|t| {
        (
            t.as_str(),
            "not comparable: an FTS5 table whose content is a view has the rows of that view",
        )
    });
    contentless.chain(uncounted).collect()
}

/// Step 5's last part: what the SQL creates must be what the manifest lists.
/// Tables whose rows cannot be counted are compared by name only.
pub(crate) fn compare_summary(manifest: &Manifest, summary: &RestoreSummary) -> Result<(), String> {
    let skipped = not_comparable(summary);
    let comparable = |name: &str| !skipped.iter().any(|(t, _)| *t == name);
    // Tables with the rows counted, then the others by name.
    let split = |tables: Vec<(String, u64)>| {
        let (counted, named): (Vec<_>, Vec<_>) =
            tables.into_iter().partition(|(name, _)| comparable(name));
        let named: Vec<String> = named.into_iter().map(|(name, _)| name).collect();
        (counted, named)
    };
    let (expected, expected_named) = split(
        manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect(),
    );
    let (found, found_named) = split(
        summary
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect(),
    );
    let mut problems = Vec::new();
    if sorted(expected.clone()) != sorted(found.clone())
        || sorted(expected_named.clone()) != sorted(found_named.clone())
    {
        problems.push(format!(
            "tables and rows {found:?} differ from the manifest's {expected:?}"
        ));
    }
    for (what, listed, created) in [
        ("indexes", &manifest.indexes, &summary.indexes),
        ("views", &manifest.views, &summary.views),
        ("triggers", &manifest.triggers, &summary.triggers),
    ] {
        if sorted(listed.clone()) != sorted(created.clone()) {
            problems.push(format!(
                "{what} {created:?} differ from the manifest's {listed:?}"
            ));
        }
    }
    if summary.schema_sha256 != manifest.schema_hash {
        problems.push("the schema hash differs from the manifest's".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the SQL does not match its manifest: {}",
            problems.join("; ")
        ))
    }
}

/// Step 9: the live database against the manifest (`imported` is what the
/// import's statements created, for the tables whose rows cannot be compared).
async fn verify(
    db: &impl SqlReader,
    manifest: &Manifest,
    imported: &RestoreSummary,
) -> Result<Vec<Check>, EdgeError> {
    let skipped = not_comparable(imported);
    let mut checks = Vec::new();
    for table in &manifest.tables {
        if let Some((_, why)) = skipped.iter().find(|(t, _)| *t == table.name) {
            checks.push(Check {
                name: format!("rows of {}", table.name),
                ok: true,
                detail: format!("{why} ({} at backup time)", table.rows),
            });
            continue;
        }
        let rows = db
            .query(&format!(
                "SELECT CAST(count(*) AS TEXT) FROM {}",
                quote_ident(&table.name)
            ))
            .await?;
        let count = first_text(&rows).unwrap_or_default();
        checks.push(Check {
            name: format!("rows of {}", table.name),
            ok: count == table.rows.to_string(),
            detail: format!("expected {}, found {count}", table.rows),
        });
    }
    let schema = db.query(SCHEMA_QUERY).await?;
    let hash = schema_sha256(schema.clone()).map_err(|e| EdgeError::new("schema hash", e))?;
    checks.push(Check {
        name: "schema hash".into(),
        ok: hash == manifest.schema_hash,
        detail: format!("expected {}, found {hash}", manifest.schema_hash),
    });
    for (kind, plural, listed) in [
        ("index", "indexes", &manifest.indexes),
        ("view", "views", &manifest.views),
        ("trigger", "triggers", &manifest.triggers),
    ] {
        let found: Vec<String> = schema
            .iter()
            .filter(|row| row.first().and_then(|v| v.as_deref()) == Some(kind))
            .filter(|row| row.get(3).is_some_and(Option::is_some))
            .filter_map(|row| row.get(1).cloned().flatten())
            .filter(|name| !is_internal_name(name))
            .collect();
        checks.push(Check {
            name: plural.to_owned(),
            ok: sorted(found.clone()) == sorted(listed.clone()),
            detail: format!("expected {listed:?}, found {found:?}"),
        });
    }
    let violations = db
        .query("SELECT CAST(count(*) AS TEXT) FROM pragma_foreign_key_check")
        .await?;
    let violations: u64 = first_text(&violations)
        .and_then(|t| t.parse().ok())
        .unwrap_or(u64::MAX);
    checks.push(Check {
        name: "foreign_key_check".into(),
        ok: violations <= manifest.foreign_key_violations,
        detail: format!(
            "{violations} violations; {} at backup time",
            manifest.foreign_key_violations
        ),
    });
    let quick = db.query("PRAGMA quick_check").await?;
    let quick = first_text(&quick).unwrap_or_default();
    checks.push(Check {
        name: "quick_check".into(),
        ok: quick == "ok",
        detail: quick,
    });
    Ok(checks)
}

/// Step 7: drops every user table, view and trigger (indexes go with their
/// tables; FTS5 shadow tables with their virtual table), in one transaction.
/// Tables go children first: with foreign keys on, dropping a child whose
/// parent is already gone fails on D1 ("no such table").
async fn drop_user_objects<D: SqlReader + SqlWriter>(db: &D) -> Result<(), EdgeError> {
    let schema = db
        .query("SELECT type, name, sql FROM sqlite_schema ORDER BY rowid")
        .await?;
    let references = db
        .query(
            "SELECT m.name, f.\"table\" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
             WHERE m.type = 'table'",
        )
        .await?;
    let virtual_tables: Vec<String> = schema
        .iter()
        .filter(|row| {
            row.get(2)
                .cloned()
                .flatten()
                .is_some_and(|sql| sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE"))
        })
        .filter_map(|row| row.get(1).cloned().flatten())
        .collect();
    let is_shadow = |name: &str| {
        virtual_tables.iter().any(|vt| {
            name.strip_prefix(vt.as_str()).is_some_and(|rest| {
                ["_data", "_idx", "_content", "_docsize", "_config"].contains(&rest)
            })
        })
    };
    let user_objects = |kind: &str| -> Vec<String> {
        schema
            .iter()
            .filter(|row| row.first().cloned().flatten().as_deref() == Some(kind))
            .filter_map(|row| row.get(1).cloned().flatten())
            .filter(|name| !is_internal_name(name) && !is_shadow(name))
            .collect()
    };
    let edges: Vec<(String, String)> = references
        .into_iter()
        .filter_map(|row| {
            Some((
                row.first().cloned().flatten()?,
                row.get(1).cloned().flatten()?,
            ))
        })
        .collect();
    let mut drops = Vec::new();
    for kind in ["trigger", "view"] {
        for name in user_objects(kind) {
            drops.push(format!(
                "DROP {} IF EXISTS {}",
                kind.to_ascii_uppercase(),
                quote_ident(&name)
            ));
        }
    }
    for name in children_first(user_objects("table"), &edges) {
        drops.push(format!("DROP TABLE IF EXISTS {}", quote_ident(&name)));
    }
    if drops.is_empty() {
        return Ok(());
    }
    // DROP TABLE also removes the table's row from sqlite_sequence.
    let mut batch = vec![PlannedStatement::plain(
        "PRAGMA defer_foreign_keys = on".into(),
    )];
    batch.extend(drops.into_iter().map(PlannedStatement::plain));
    db.batch(&batch).await
}

/// Orders `tables` so that each comes before every table it references
/// (`edges`: child, parent). Self-references are ignored; within a cycle the
/// later table in schema order goes first.
fn children_first(mut remaining: Vec<String>, edges: &[(String, String)]) -> Vec<String> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let mut ordered = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let referenced = |table: &str| {
            edges.iter().any(|(child, parent)| {
                same(parent, table)
                    && !same(child, table)
                    && remaining.iter().any(|r| same(r, child))
            })
        };
        let next = remaining
            .iter()
            .rposition(|table| !referenced(table))
            .unwrap_or(remaining.len() - 1);
        ordered.push(remaining.remove(next));
    }
    ordered
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
mod tests {
    use super::*;
    use crate::format::keys::MasterKey;
    use crate::format::Encryptor;
    use crate::jobs::prune::{get_manifest, list_backups};
    use crate::jobs::testing::{block_on, MemoryStore, SqliteReader};
    use crate::layout::object_key;
    use crate::manifest::tests::sample;
    use crate::manifest::Digests;

    const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c";
    const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);

    fn clock() -> Timestamp {
        T0
    }

    fn app_db() -> SqliteReader {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch(
                "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
                 CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT, data BLOB);
                 CREATE INDEX child_by_parent ON child(parent_id) WHERE note IS NOT NULL;
                 CREATE VIEW parent_counts AS SELECT parent_id, count(*) AS n FROM child GROUP BY parent_id;
                 CREATE VIRTUAL TABLE notes USING fts5(body);
                 CREATE TRIGGER child_notes AFTER INSERT ON child BEGIN INSERT INTO notes(rowid, body) VALUES (new.id, new.note); END;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                 INSERT INTO parent(name) SELECT 'parent ' || i || ' it''s' FROM n;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO child SELECT i, 1 + i % 300, CASE WHEN i % 3 THEN 'note ' || i || char(10) || '✓' END, zeroblob(i % 50) FROM n;
                 DELETE FROM parent WHERE id = 300 AND NOT EXISTS (SELECT 1 FROM child WHERE parent_id = 300);",
            )
            .unwrap();
        SqliteReader::new(connection)
    }

    /// The whole database as text: schema and every table's rows.
    fn snapshot(db: &SqliteReader) -> String {
        let mut out = String::new();
        let tables: Vec<String> = db
            .connection
            .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'notes_%' ORDER BY name")
            .unwrap()
            .query_map([], |row| row.get(0))
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap();
        for row in block_on(db.query(
            "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'notes_%' ORDER BY name",
        ))
        .unwrap()
        {
            out.push_str(&format!("{row:?}\n"));
        }
        for table in tables {
            let sql = format!("SELECT quote(rowid), * FROM \"{table}\" ORDER BY rowid");
            let mut statement = db.connection.prepare(&sql).unwrap();
            let columns = statement.column_count();
            let rows = statement
                .query_map([], |row| {
                    (0..columns)
                        .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                        .collect::<Result<Vec<_>, _>>()
                })
                .unwrap();
            for row in rows {
                out.push_str(&format!("{table}: {:?}\n", row.unwrap()));
            }
        }
        out
    }

    fn keyring() -> Keyring {
        Keyring::new(MasterKey::from_hex(KEY).unwrap())
    }

    fn back_up(db: &SqliteReader, store: &MemoryStore, key: &MasterKey) -> Manifest {
        let settings = BackupSettings {
            environment: "test",
            database: "app",
            key,
            worker_version: "0",
            fault: None,
        };
        let request = BackupRequest {
            id: "b1".into(),
            kind: BackupKind::Scheduled,
            pinned: false,
            note: None,
            created_at: T0,
            salt: [3; 32],
        };
        block_on(take_backup(db, store, settings, &request, clock)).unwrap()
    }

    fn run_restore(
        db: &SqliteReader,
        store: &MemoryStore,
        manifest: &Manifest,
        keyring: &Keyring,
        safety: bool,
    ) -> RestoreReport {
        let params = RestoreParams {
            restore_id: "r1".into(),
            manifest,
            keyring,
            settings: BackupSettings {
                environment: "test",
                database: "app",
                key: keyring.current(),
                worker_version: "0",
                fault: None,
            },
            safety_backup: safety.then(|| ("safety".to_string(), [4; 32])),
            clock: &clock,
        };
        block_on(restore(db, store, params, &mut Silent))
    }

    fn failed_step(report: &ValidationReport) -> Option<&StepReport> {
        report.steps.iter().find(|s| s.status == StepStatus::Failed)
    }

    #[test]
    fn tables_are_dropped_children_first() {
        let tables = ["users", "teams", "memberships", "projects", "tasks", "solo"]
            .map(String::from)
            .to_vec();
        let edges: Vec<(String, String)> = [
            ("memberships", "users"),
            ("memberships", "teams"),
            ("projects", "teams"),
            ("tasks", "projects"),
            ("tasks", "USERS"),
            ("tasks", "tasks"),
        ]
        .iter()
        .map(|(c, p)| (c.to_string(), p.to_string()))
        .collect();
        let order = children_first(tables, &edges);
        let position = |name: &str| order.iter().position(|t| t == name).unwrap();
        for (child, parent) in &edges {
            if !child.eq_ignore_ascii_case(parent) {
                assert!(
                    position(child) < position(&parent.to_lowercase()),
                    "{child} before {parent}: {order:?}"
                );
            }
        }
        assert_eq!(order.len(), 6);
    }

    #[test]
    fn restores_a_damaged_database_exactly_and_keeps_a_pinned_safety_backup() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = app_db();
        let original = snapshot(&db);
        let manifest = back_up(&db, &store, &key);
        db.connection
            .execute_batch("DROP VIEW parent_counts; DELETE FROM child WHERE id % 2 = 0; INSERT INTO parent(name) VALUES ('intruder');")
            .unwrap();
        assert_ne!(snapshot(&db), original);

        let report = run_restore(&db, &store, &manifest, &keyring(), true);
        assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
        assert_eq!(snapshot(&db), original);
        assert_eq!(report.steps.len(), 10);
        assert!(
            report.steps.iter().all(|s| s.status == StepStatus::Passed),
            "{:#?}",
            report.steps
        );
        assert!(report.verification.iter().all(|c| c.ok));
        assert_eq!(report.rows_imported, manifest.total_rows());
        let safety = block_on(get_manifest(&store, "safety")).unwrap().unwrap();
        assert_eq!((safety.kind, safety.pinned), (BackupKind::PreRestore, true));
        let fts: i64 = db
            .connection
            .query_row(
                "SELECT count(*) FROM notes WHERE notes MATCH 'note'",
                [],
                |r| r.get(0),
            )
            .unwrap();
        assert!(fts > 0);
    }

    #[test]
    fn validation_passes_all_five_steps_and_summarizes() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let manifest = back_up(&app_db(), &store, &key);
        let report = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        assert!(report.ok, "{report:#?}");
        assert_eq!(report.steps.len(), 5);
        let summary = report.summary.unwrap();
        assert_eq!(
            summary.tables.iter().map(|t| t.rows).sum::<u64>(),
            manifest.total_rows()
        );
    }

    #[test]
    fn a_flipped_byte_fails_at_decrypt_naming_the_chunk_and_nothing_is_written() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = app_db();
        let manifest = back_up(&db, &store, &key);
        store.tamper(&object_key("b1"), |body| body[200] ^= 0x01);
        db.connection
            .execute_batch("DELETE FROM child WHERE id > 1000")
            .unwrap();
        let damaged = snapshot(&db);
        let keys_before = store.keys();

        let validation = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        let failed = failed_step(&validation).unwrap();
        assert_eq!(failed.step, 3, "{failed:?}");
        assert!(failed.detail.contains("chunk 0"), "{}", failed.detail);

        let report = run_restore(&db, &store, &manifest, &keyring(), true);
        assert_eq!(report.outcome, RestoreOutcome::Failed);
        assert_eq!(
            snapshot(&db),
            damaged,
            "a refused restore must not touch the database"
        );
        assert_eq!(
            store.keys(),
            keys_before,
            "no safety backup for a refused restore"
        );
        assert!(report.steps[5..]
            .iter()
            .all(|s| s.status == StepStatus::Skipped));
    }

    fn db_from(sql: &str) -> SqliteReader {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection.execute_batch(sql).unwrap();
        SqliteReader::new(connection)
    }

    #[test]
    fn validation_refuses_a_backup_with_foreign_key_violations_naming_the_tables() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = app_db();
        let mut manifest = back_up(&db, &store, &key);
        manifest.foreign_key_check = crate::manifest::ForeignKeyCheck {
            at_start: 0,
            at_end: 2,
            tables: vec!["child".into()],
        };
        let validation = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        let failed = failed_step(&validation).unwrap();
        assert_eq!(failed.step, 5);
        for words in [
            "2 foreign key violation(s)",
            "child",
            "cannot turn them off",
            "take a new backup",
            "sqlite3",
        ] {
            assert!(failed.detail.contains(words), "{words}: {}", failed.detail);
        }
        let before = snapshot(&db);
        let report = run_restore(&db, &store, &manifest, &keyring(), true);
        assert_eq!(report.outcome, RestoreOutcome::Failed);
        assert_eq!(snapshot(&db), before, "nothing is written");
    }

    #[test]
    fn an_fts5_table_over_a_view_is_not_compared_and_restores() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = db_from(
            "CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIEW docs_v AS SELECT id, body FROM docs WHERE body IS NOT NULL;
             CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs_v', content_rowid='id');
             INSERT INTO docs(body) VALUES ('alpha beta'), ('gamma'), (NULL);
             INSERT INTO docs_fts(docs_fts) VALUES('rebuild');",
        );
        let manifest = back_up(&db, &store, &key);
        let validation = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        assert!(validation.ok, "{validation:#?}");
        let summary = validation.summary.as_ref().unwrap();
        assert_eq!(summary.uncounted_tables, ["docs_fts"]);
        assert!(
            validation
                .warnings
                .iter()
                .any(|w| w.contains("docs_fts") && w.contains("not")),
            "{:?}",
            validation.warnings
        );

        let report = run_restore(&db, &store, &manifest, &keyring(), true);
        assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
        let check = report
            .verification
            .iter()
            .find(|c| c.name == "rows of docs_fts")
            .unwrap();
        assert!(
            check.ok && check.detail.contains("not comparable"),
            "{check:?}"
        );
    }

    #[test]
    fn a_contentless_fts5_table_is_reported_recreated_empty_and_not_a_mismatch() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = db_from(
            "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIRTUAL TABLE notes_idx USING fts5(body, content='');
             INSERT INTO notes(body) VALUES ('alpha'), ('beta');
             INSERT INTO notes_idx(rowid, body) SELECT id, body FROM notes;",
        );
        let manifest = back_up(&db, &store, &key);
        let mut events = Vec::new();
        struct Collect<'a>(&'a mut Vec<StepReport>);
        impl Progress for Collect<'_> {
            fn event(&mut self, report: &StepReport, _: bool) {
                self.0.push(report.clone());
            }
        }
        let params = RestoreParams {
            restore_id: "r1".into(),
            manifest: &manifest,
            keyring: &keyring(),
            settings: BackupSettings {
                environment: "test",
                database: "app",
                key: &key,
                worker_version: "0",
                fault: None,
            },
            safety_backup: None,
            clock: &clock,
        };
        let report = block_on(restore(&db, &store, params, &mut Collect(&mut events)));
        assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
        let said = |text: &str| {
            text.contains("notes_idx")
                && text.contains("recreated empty: rebuild its index from your source data")
        };
        assert!(
            report.warnings.iter().any(|w| said(w)),
            "{:?}",
            report.warnings
        );
        assert!(
            events.iter().any(|e| e.step == 5 && said(&e.detail)),
            "{events:#?}"
        );
        assert!(
            events
                .iter()
                .any(|e| e.step == 9 && e.status == StepStatus::Passed && said(&e.detail)),
            "{events:#?}"
        );
        let check = report
            .verification
            .iter()
            .find(|c| c.name == "rows of notes_idx")
            .unwrap();
        assert!(check.ok, "{check:?}");
    }

    #[test]
    fn a_truncated_object_fails_at_download() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let manifest = back_up(&app_db(), &store, &key);
        store.tamper(&object_key("b1"), |body| body.truncate(body.len() - 10));
        let report = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        let failed = failed_step(&report).unwrap();
        assert_eq!(failed.step, 1);
        assert!(failed.detail.contains("truncated"), "{}", failed.detail);
    }

    #[test]
    fn the_wrong_key_fails_at_decrypt_naming_both_key_ids() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let manifest = back_up(&app_db(), &store, &key);
        let other = Keyring::new(MasterKey::from_hex(&"77".repeat(32)).unwrap());
        let report = block_on(validate(&store, &other, &manifest, &clock, &mut Silent));
        let failed = failed_step(&report).unwrap();
        assert_eq!(failed.step, 3);
        assert!(
            failed
                .detail
                .contains(&format!("encrypted with key {}", key.id())),
            "{}",
            failed.detail
        );
    }

    /// A backup object whose SQL is `sql`, with a manifest that matches its bytes.
    fn crafted(store: &MemoryStore, key: &MasterKey, sql: &str) -> Manifest {
        let id = BackupId::parse("crafted").unwrap();
        let mut encryptor = Encryptor::new(key, &id, [9; 32]);
        let mut object = Vec::new();
        encryptor.update(sql.as_bytes(), &mut object);
        let summary = encryptor.finish(&mut object);
        block_on(store.put(&object_key("crafted"), object, &[])).unwrap();
        let mut manifest = sample();
        manifest.id = "crafted".into();
        manifest.object_key = object_key("crafted");
        manifest.plaintext = Digests {
            bytes: summary.plaintext_bytes,
            sha256: summary.plaintext_sha256.to_string(),
        };
        manifest.ciphertext = Digests {
            bytes: summary.ciphertext_bytes,
            sha256: summary.ciphertext_sha256.to_string(),
        };
        manifest
    }

    #[test]
    fn a_forbidden_statement_is_rejected_with_its_line_before_any_write() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let sql = "PRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(a);\nINSERT INTO t VALUES(1);\nDROP TABLE users;\n";
        let manifest = crafted(&store, &key, sql);
        let report = block_on(validate(&store, &keyring(), &manifest, &clock, &mut Silent));
        let failed = failed_step(&report).unwrap();
        assert_eq!(failed.step, 5);
        assert!(failed.detail.contains("line 4"), "{}", failed.detail);
    }

    #[test]
    fn an_import_that_fails_midway_rolls_back_to_the_safety_backup() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = app_db();
        let manifest = back_up(&db, &store, &key);
        db.connection
            .execute_batch("INSERT INTO parent(name) VALUES ('added after the backup');")
            .unwrap();
        let before = snapshot(&db);
        *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"child\"".into());

        let report = run_restore(&db, &store, &manifest, &keyring(), true);
        assert_eq!(report.outcome, RestoreOutcome::RolledBack, "{report:#?}");
        assert_eq!(
            report.steps.iter().find(|s| s.step == 8).unwrap().status,
            StepStatus::Failed
        );
        let rollback = report.rollback.as_ref().unwrap();
        assert!(
            rollback.iter().all(|s| s.status == StepStatus::Passed),
            "{rollback:#?}"
        );
        assert_eq!(
            snapshot(&db),
            before,
            "the rollback must put the database back as it was"
        );
        assert_eq!(block_on(list_backups(&store)).unwrap().len(), 2);
    }

    #[test]
    fn a_failed_import_without_a_safety_backup_says_rollback_failed() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = app_db();
        let manifest = back_up(&db, &store, &key);
        *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"child\"".into());
        let report = run_restore(&db, &store, &manifest, &keyring(), false);
        assert_eq!(report.outcome, RestoreOutcome::RollbackFailed);
        assert!(report.safety_backup_skipped);
        assert_eq!(report.steps[5].status, StepStatus::Skipped);
    }
}
