//! Stopping a restore: an operator's cancellation and the engine giving
//! up after repeated failures, both recorded at once and acted on at the
//! start of the next slice.
//!
//! Invariants: before step 7 a stop ends the job with nothing changed (the
//! safety backup's unfinished upload aborted); a stop at step 7 is decided
//! by whether step 7 committed; during steps 8-9 the step under way fails
//! and the rollback begins; the rollback is never cancelled, and a give-up
//! during it ends it failed; the report is always written.

use serde::{Deserialize, Serialize};

use super::super::restore::{steps_failing_at, RestoreOutcome};
use super::super::store::ObjectStore;
use super::{progress_table, RestoreJob, Stage, CANCELLED, CANCELLED_NOT_CHANGED};
use crate::time::Timestamp;

/// An operator's cancellation.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub(super) enum Cancel {
    /// Asked for; the next slice acts on it.
    Requested,
    /// The restore stopped because of it.
    Stopped,
    /// Too late: the rollback or the report was under way.
    Ignored,
}

/// Why the job is being stopped.
enum Stop {
    /// An operator cancelled it.
    Cancel,
    /// The engine gave up on its slices, which failed with this.
    GiveUp(String),
}

impl Stop {
    /// What the step under way reports.
    fn detail(&self) -> &str {
        match self {
            Stop::Cancel => CANCELLED,
            Stop::GiveUp(reason) => reason,
        }
    }
}

impl RestoreJob {
    /// Acts on a give-up or a cancellation recorded since the last slice.
    pub(super) async fn apply_stop(&mut self, store: &impl ObjectStore, now: Timestamp) {
        let stop = match (self.give_up.take(), self.cancel) {
            (Some(reason), _) => Stop::GiveUp(reason),
            (None, Some(Cancel::Requested)) => Stop::Cancel,
            (None, _) => return,
        };
        let cancel = matches!(stop, Stop::Cancel);
        match &mut self.stage {
            Stage::Validate(job) => match stop {
                Stop::GiveUp(reason) => job.give_up(reason),
                Stop::Cancel => {
                    self.cancel = Some(Cancel::Stopped);
                    job.drain_events(&mut self.journal.events);
                    let detail = "cancelled by an operator before the validation ended";
                    for step in steps_failing_at(1, detail, 0) {
                        self.journal.record(step, false);
                    }
                    self.journal.skip_from(6, CANCELLED_NOT_CHANGED);
                    self.finish(RestoreOutcome::Failed, now);
                }
            },
            Stage::SafetyBackup(_) => {
                self.abandon_safety(store).await;
                let detail = match &stop {
                    Stop::Cancel => format!(
                        "{CANCELLED} while the safety backup was taken; nothing was changed"
                    ),
                    Stop::GiveUp(reason) => {
                        format!("the safety backup failed, nothing was changed: {reason}")
                    }
                };
                self.stop_before_changes(cancel, &detail, now);
            }
            Stage::SafetyCheck(job) => {
                let detail = format!(
                    "the safety backup {} could not be validated ({}); nothing was changed",
                    job.manifest().id,
                    stop.detail()
                );
                self.stop_before_changes(cancel, &detail, now);
            }
            Stage::Replace(replace) if !replace.rollback => {
                if cancel {
                    self.cancel = Some(Cancel::Stopped);
                }
                let end = replace.fail(&mut self.journal, stop.detail(), now);
                self.replaced(false, end, now);
            }
            Stage::Replace(replace) => match stop {
                Stop::Cancel => {
                    self.ignore_cancel("the rollback onto the safety backup must finish")
                }
                Stop::GiveUp(reason) => {
                    let end = replace.fail(&mut self.journal, &reason, now);
                    self.replaced(true, end, now);
                }
            },
            Stage::Undecided { .. } => match stop {
                Stop::Cancel => self.cancel = Some(Cancel::Stopped),
                Stop::GiveUp(reason) => self.decided(&reason, true, now),
            },
            Stage::Cleanup => match stop {
                Stop::Cancel => self.ignore_cancel("the restore has ended and writes its report"),
                Stop::GiveUp(reason) => {
                    self.journal.events.warning(format!(
                        "the progress table {} could not be dropped ({reason}); it is harmless, \
                         never backed up, and the next restore drops it",
                        progress_table::PROGRESS_TABLE
                    ));
                    self.touched = false;
                }
            },
            Stage::Done { .. } => {}
        }
    }

    /// Ends the job at step 6 with nothing changed.
    pub(super) fn stop_before_changes(&mut self, cancel: bool, detail: &str, now: Timestamp) {
        if cancel {
            self.cancel = Some(Cancel::Stopped);
        }
        self.refuse(6, detail, now);
    }

    /// Records that a cancellation came too late, and why.
    pub(super) fn ignore_cancel(&mut self, why: &str) {
        self.cancel = Some(Cancel::Ignored);
        self.journal
            .events
            .warning(format!("cancellation ignored: {why}"));
    }
}
