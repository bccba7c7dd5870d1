//! Steps 7-9 onto one backup, as units of a sliced job: the restore's own
//! backup, or the safety backup when rolling back.
//!
//! 7. One batch drops the user objects and (re)creates the progress table
//!    ([`progress_table`]): D1 runs it as one transaction, so if it fails
//!    nothing changed.
//! 8. Units of the import [`Pass`] (the object authenticated again, chunk by
//!    chunk), each either one ranged GET or one batch sent, numbered in the
//!    progress table so that D1 gets it exactly once. The pass's digests
//!    must equal the manifest's.
//! 9. The verification of the database against the manifest (reads only,
//!    so it can run again).
//!
//! Invariants: the state is a valid checkpoint between units; a batch
//! leaves the pass's queue, and its number is counted as sent, only once D1
//! committed it (now or before), or with step 8 failed; a unit that fails
//! on a read changes nothing and returns an error to retry. Steps 7-9 do
//! not report a failure of step 7 themselves ([`Replaced::NotDropped`]):
//! whether it changed anything is for the caller to find out.

use serde::{Deserialize, Serialize};

use super::super::engine::record::JobProgress;
use super::super::restore::{
    compare_digests, drop_statements, first_line, next_drop_batch, summary_warnings, verify, Check,
    StepStatus,
};
use super::super::slice::Meter;
use super::super::store::{ObjectStore, SqlReader, SqlWriter};
use super::journal::Journal;
use super::pass::{Pass, PassError};
use super::{progress_table, RestoreJobError};
use crate::format::keys::Keyring;
use crate::format::Engine;
use crate::manifest::Manifest;
use crate::restore::plan::{PlannedStatement, MAX_STATEMENTS_PER_BATCH};
use crate::restore::validate::RestoreSummary;
use crate::time::Timestamp;

/// Steps 7-9 under way.
#[derive(Debug, Serialize, Deserialize)]
pub(super) struct Replace {
    /// Whether this is the rollback onto the safety backup.
    pub rollback: bool,
    /// The backup put in place.
    manifest: Box<Manifest>,
    range_bytes: u64,
    phase: Phase,
}

#[derive(Debug, Serialize, Deserialize)]
#[serde(tag = "step", rename_all = "snake_case")]
enum Phase {
    /// Step 7; `pending`: its statements not sent yet, once read.
    Drop {
        #[serde(default)]
        pending: Option<Vec<PlannedStatement>>,
    },
    Import(Box<Import>),
    Verify {
        summary: Box<RestoreSummary>,
        statements: u64,
    },
}

/// Step 8 under way.
#[derive(Debug, Serialize, Deserialize)]
struct Import {
    pass: Pass,
    /// What the SQL created, once the pass is over (batches may remain).
    summary: Option<RestoreSummary>,
    /// The number of the next batch.
    next_seq: u64,
    /// Statements of the batches sent, preludes included.
    statements: u64,
}

/// How steps 7-9 ended.
#[derive(Debug, PartialEq)]
pub(super) enum Replaced {
    /// Steps 7-9 passed.
    Done {
        /// Rows imported.
        rows: u64,
        /// Statements imported.
        statements: u64,
        /// Step 9's checks.
        checks: Vec<Check>,
    },
    /// Step 8 or 9 failed (and is reported); step 9's checks if it was
    /// the one.
    Failed {
        /// Step 9's checks, or none.
        checks: Vec<Check>,
    },
    /// Step 7 failed or was stopped, and is not reported yet: its batch
    /// did not commit in this unit, but one of an earlier, dead slice may
    /// have.
    NotDropped {
        /// Why.
        detail: String,
    },
}

/// The edges and facts one unit works with.
pub(super) struct Unit<'a, 'm, D, S> {
    /// The database, metered.
    pub db: &'a D,
    /// The bucket, metered.
    pub store: &'a S,
    /// The keys to open the object.
    pub keyring: &'a Keyring,
    /// What opens the object's chunks.
    pub engine: &'a dyn Engine,
    /// The slice's meter.
    pub meter: &'a Meter<'m>,
    /// The highest batch number D1 committed, once read in this slice.
    pub committed: &'a mut Option<u64>,
    /// Where the steps are reported.
    pub journal: &'a mut Journal,
}

impl Replace {
    /// Steps 7-9 from the start onto `manifest`'s backup; the caller
    /// reports step 7 started.
    pub fn new(rollback: bool, manifest: Manifest, range_bytes: u64) -> Self {
        Self {
            rollback,
            manifest: Box::new(manifest),
            range_bytes,
            phase: Phase::Drop { pending: None },
        }
    }

    /// The step under way: 7, 8 or 9.
    pub fn step(&self) -> u8 {
        match self.phase {
            Phase::Drop { .. } => 7,
            Phase::Import(_) => 8,
            Phase::Verify { .. } => 9,
        }
    }

    /// How far the import has come: bytes of the object and rows, of the
    /// manifest's.
    pub fn progress(&self) -> JobProgress {
        let total_bytes = self.manifest.ciphertext.bytes;
        let total_rows = self.manifest.total_rows();
        let (bytes_done, rows_done) = match &self.phase {
            Phase::Drop { .. } => (0, 0),
            Phase::Import(import) => (import.pass.bytes_read(), import.pass.rows()),
            Phase::Verify { .. } => (total_bytes, total_rows),
        };
        JobProgress {
            bytes_done,
            bytes_total: Some(total_bytes),
            rows_done,
            rows_total: Some(total_rows),
        }
    }

    /// Ends the step under way as failed with `detail` (a cancellation, or
    /// the engine giving up); step 7 is left to the caller to report.
    pub fn fail(&self, journal: &mut Journal, detail: &str, now: Timestamp) -> Replaced {
        if self.step() == 7 {
            return Replaced::NotDropped {
                detail: detail.to_owned(),
            };
        }
        journal.end(self.step(), StepStatus::Failed, detail, self.rollback, now);
        Replaced::Failed { checks: Vec::new() }
    }

    /// One unit of work; `Some` once steps 7-9 ended.
    pub async fn unit<D, S>(
        &mut self,
        unit: Unit<'_, '_, D, S>,
    ) -> Result<Option<Replaced>, RestoreJobError>
    where
        D: SqlReader + SqlWriter,
        S: ObjectStore,
    {
        let rollback = self.rollback;
        let now = || unit.meter.now();
        match &mut self.phase {
            Phase::Drop { pending } => {
                let statements = match pending.take() {
                    Some(statements) => statements,
                    None => drop_statements(unit.db)
                        .await
                        .map_err(RestoreJobError::Database)?,
                };
                let limit = unit.meter.batch_statements(usize::MAX);
                let (batch, rest) = next_drop_batch(statements, limit);
                if let Err(error) = unit.db.batch(&batch).await {
                    return Ok(Some(Replaced::NotDropped {
                        detail: error.to_string(),
                    }));
                }
                if !rest.is_empty() {
                    *pending = Some(rest);
                    return Ok(None);
                }
                *unit.committed = Some(0);
                unit.journal.end(
                    7,
                    StepStatus::Passed,
                    "user tables, views, triggers and indexes dropped",
                    rollback,
                    now(),
                );
                unit.journal.start(8, rollback, now());
                let pass = Pass::new(
                    &self.manifest.object_key,
                    &self.manifest.id,
                    Some(self.manifest.ciphertext.bytes),
                    true,
                    self.range_bytes,
                );
                self.phase = Phase::Import(Box::new(Import {
                    pass,
                    summary: None,
                    next_seq: 1,
                    statements: 0,
                }));
                Ok(None)
            }
            Phase::Import(import) => {
                let failed = |journal: &mut Journal, detail: String| {
                    journal.end(8, StepStatus::Failed, detail, rollback, unit.meter.now());
                    Some(Replaced::Failed { checks: Vec::new() })
                };
                import
                    .pass
                    .set_batch_limit(unit.meter.batch_statements(MAX_STATEMENTS_PER_BATCH));
                if import.pass.has_ready() {
                    return match send_next(import, unit.db, unit.committed).await? {
                        Ok(()) => Ok(None),
                        Err(detail) => Ok(failed(unit.journal, detail)),
                    };
                }
                if let Some(summary) = import.summary.take() {
                    let rows: u64 = summary.tables.iter().map(|t| t.rows).sum();
                    unit.journal.end(
                        8,
                        StepStatus::Passed,
                        format!("{rows} rows in {} statements", import.statements),
                        rollback,
                        now(),
                    );
                    unit.journal.start(9, rollback, now());
                    self.phase = Phase::Verify {
                        summary: Box::new(summary),
                        statements: import.statements,
                    };
                    return Ok(None);
                }
                let before = import.pass.bytes_read();
                let advanced = import
                    .pass
                    .advance(unit.store, unit.keyring, unit.engine)
                    .await;
                unit.meter.processed(import.pass.bytes_read() - before);
                match advanced {
                    Ok(None) => Ok(None),
                    Ok(Some(streamed)) => match compare_digests(&self.manifest, &streamed) {
                        Ok(()) => {
                            import.summary = Some(streamed.summary);
                            Ok(None)
                        }
                        Err(failure) => Ok(failed(unit.journal, failure.detail)),
                    },
                    Err(PassError::Failed(failure)) => Ok(failed(unit.journal, failure.detail)),
                    Err(PassError::Read(error)) => Err(error.into()),
                }
            }
            Phase::Verify {
                summary,
                statements,
            } => {
                let checks = verify(unit.db, &self.manifest, summary)
                    .await
                    .map_err(RestoreJobError::Database)?;
                let failed: Vec<&Check> = checks.iter().filter(|c| !c.ok).collect();
                if !failed.is_empty() {
                    let detail = failed
                        .iter()
                        .map(|c| format!("{}: {}", c.name, c.detail))
                        .collect::<Vec<_>>()
                        .join("; ");
                    unit.journal
                        .end(9, StepStatus::Failed, detail, rollback, now());
                    return Ok(Some(Replaced::Failed { checks }));
                }
                let mut detail = format!("{} checks passed", checks.len());
                for warning in summary_warnings(summary) {
                    detail.push_str(&format!("; warning: {warning}"));
                }
                unit.journal
                    .end(9, StepStatus::Passed, detail, rollback, now());
                Ok(Some(Replaced::Done {
                    rows: summary.tables.iter().map(|t| t.rows).sum(),
                    statements: *statements,
                    checks,
                }))
            }
        }
    }
}

/// Sends the import's next batch with its number, unless D1 committed it
/// already. `Ok(Err(detail))` when D1 rejected it: step 8 fails.
async fn send_next<D: SqlReader + SqlWriter>(
    import: &mut Import,
    db: &D,
    committed: &mut Option<u64>,
) -> Result<Result<(), String>, RestoreJobError> {
    let committed = match *committed {
        Some(seq) => seq,
        None => *committed.insert(
            progress_table::committed(db)
                .await
                .map_err(RestoreJobError::Database)?,
        ),
    };
    let Some(mut batch) = import.pass.pop_ready() else {
        return Ok(Ok(()));
    };
    let statements = batch.statements.len() as u64;
    if import.next_seq > committed {
        batch
            .statements
            .push(progress_table::record(import.next_seq));
        if let Err(error) = db.batch(&batch.statements).await {
            return Ok(Err(if batch.closing {
                format!("D1 rejected the last batch: {}", error.detail)
            } else {
                format!(
                    "D1 rejected a batch starting at line {}: {}",
                    first_line(&batch.statements),
                    error.detail
                )
            }));
        }
    }
    import.statements += statements;
    import.next_seq += 1;
    Ok(Ok(()))
}
