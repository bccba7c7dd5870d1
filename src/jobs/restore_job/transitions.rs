//! A restore's moves from stage to stage, and its end: what each stage's
//! outcome leads to, and the report.
//!
//! Invariants: nothing is changed before step 7, so every end before it is
//! `Failed` with the rest of the steps skipped; after a step 7 that
//! committed, every end goes through the cleanup (step 10), which drops
//! the progress table; the rollback runs only onto a safety backup that
//! was taken, carries no foreign key violation, and validated.

use super::super::backup_job::BackupJob;
use super::super::engine::record::JobState;
use super::super::restore::{RestoreOutcome, RestoreReport, StepStatus, ValidationReport};
use super::super::store::ObjectStore;
use super::stop::Cancel;
use super::{
    Replace, Replaced, RestoreJob, Stage, ValidateJob, CANCELLED_NOT_CHANGED, NOT_CHANGED,
};
use crate::manifest::Manifest;
use crate::time::Timestamp;

impl RestoreJob {
    /// Steps 1-5 ended: on to step 6, or the end.
    pub(super) fn validated(&mut self, report: ValidationReport, now: Timestamp) {
        self.journal.steps.extend(report.steps);
        self.warnings = report.warnings;
        if !report.ok {
            self.journal.skip_from(6, NOT_CHANGED);
            self.finish(RestoreOutcome::Failed, now);
            return;
        }
        self.journal.start(6, false, now);
        match &self.params.safety_backup {
            None => {
                let detail = "skipped at the operator's request (skip_safety_backup)";
                self.journal.end(6, StepStatus::Skipped, detail, false, now);
                self.begin_replace(false, self.params.manifest.clone(), now);
            }
            Some(request) => {
                self.stage = Stage::SafetyBackup(Box::new(BackupJob::new(request.clone())));
            }
        }
    }

    /// The safety backup is listed: refused if it carries foreign key
    /// violations, else validated.
    pub(super) fn safety_taken(&mut self, safety: Manifest, now: Timestamp) {
        self.safety_backup_id = Some(safety.id.clone());
        if safety.foreign_key_violations > 0 {
            let detail = format!(
                "the current database has {} foreign key violation(s), so its safety backup {} \
                 could not be restored into D1 if the import failed (D1 enforces foreign keys at \
                 every commit); nothing was changed. Fix the violations first, or restore with \
                 skip_safety_backup to go on without a rollback",
                safety.foreign_key_violations, safety.id
            );
            self.refuse(6, &detail, now);
            return;
        }
        self.stage =
            Stage::SafetyCheck(Box::new(ValidateJob::with_range(safety, self.range_bytes)));
    }

    /// The safety backup's validation ended: on to step 7, or the end.
    pub(super) fn safety_checked(
        &mut self,
        safety: Manifest,
        report: &ValidationReport,
        now: Timestamp,
    ) {
        if let Some(failed) = report
            .steps
            .iter()
            .find(|step| step.status == StepStatus::Failed)
        {
            let detail = format!(
                "the safety backup {} did not validate, so a rollback could not rely on it; \
                 nothing was changed: step {} ({}) failed: {}",
                safety.id, failed.step, failed.name, failed.detail
            );
            self.refuse(6, &detail, now);
            return;
        }
        let detail = format!("pre-restore backup {} (pinned)", safety.id);
        self.journal.end(6, StepStatus::Passed, detail, false, now);
        self.safety = Some(Box::new(safety));
        self.begin_replace(false, self.params.manifest.clone(), now);
    }

    /// Step 7 begins, onto `manifest`'s backup.
    pub(super) fn begin_replace(&mut self, rollback: bool, manifest: Manifest, now: Timestamp) {
        self.journal.start(7, rollback, now);
        self.stage = Stage::Replace(Box::new(Replace::new(rollback, manifest, self.range_bytes)));
    }

    /// Steps 7-9 (or the rollback's) ended.
    pub(super) fn replaced(&mut self, rollback: bool, end: Replaced, now: Timestamp) {
        match (rollback, end) {
            (
                false,
                Replaced::Done {
                    rows,
                    statements,
                    checks,
                },
            ) => {
                self.rows_imported = rows;
                self.statements_imported = statements;
                self.verification = checks;
                self.outcome = RestoreOutcome::Succeeded;
                self.stage = Stage::Cleanup;
            }
            (false, Replaced::NotDropped { detail }) => self.stage = Stage::Undecided { detail },
            (false, Replaced::Failed { checks }) => {
                self.verification = checks;
                self.roll_back(now);
            }
            (true, Replaced::Done { .. }) => {
                self.outcome = RestoreOutcome::RolledBack;
                self.stage = Stage::Cleanup;
            }
            (true, end) => {
                if let Replaced::NotDropped { detail } = end {
                    self.journal.end(7, StepStatus::Failed, detail, true, now);
                }
                self.outcome = RestoreOutcome::RollbackFailed;
                self.stage = Stage::Cleanup;
            }
        }
    }

    /// Step 7 failed (or was stopped) with `detail`; `dropped` says whether
    /// a step 7 committed all the same (in a slice that died).
    pub(super) fn decided(&mut self, detail: &str, dropped: bool, now: Timestamp) {
        if dropped {
            self.touched = true;
            self.journal.end(7, StepStatus::Failed, detail, false, now);
            self.roll_back(now);
        } else {
            self.refuse(7, detail, now);
        }
    }

    /// Steps 8-9 failed or were stopped: the rollback begins, if there is a
    /// safety backup to roll back onto.
    pub(super) fn roll_back(&mut self, now: Timestamp) {
        self.outcome = RestoreOutcome::RollbackFailed;
        match &self.safety {
            Some(safety) => {
                self.journal.rollback = Some(Vec::new());
                self.begin_replace(true, safety.as_ref().clone(), now);
            }
            None => {
                self.journal.events.warning(
                    "no safety backup was taken (skip_safety_backup), so nothing could be rolled \
                     back: the database is partly restored and needs an operator",
                );
                self.stage = Stage::Cleanup;
            }
        }
    }

    /// Step `step` (6 or 7) failed with `detail` before anything changed:
    /// the rest is not run.
    pub(super) fn refuse(&mut self, step: u8, detail: &str, now: Timestamp) {
        self.journal
            .end(step, StepStatus::Failed, detail, false, now);
        let skipped = if self.cancel == Some(Cancel::Stopped) {
            CANCELLED_NOT_CHANGED
        } else {
            NOT_CHANGED
        };
        self.journal.skip_from(step + 1, skipped);
        self.finish(RestoreOutcome::Failed, now);
    }

    /// Aborts what the safety backup's job wrote; a failure is a warning (R2
    /// aborts incomplete uploads after 7 days, nothing unlisted is used).
    pub(super) async fn abandon_safety(&mut self, store: &impl ObjectStore) {
        if let Stage::SafetyBackup(job) = &self.stage {
            if let Err(error) = job.abandon(store).await {
                self.journal.events.warning(format!(
                    "the unfinished safety backup could not be cleaned up ({error}); it is never \
                     listed, and R2 removes its upload after 7 days"
                ));
            }
        }
    }

    /// The job is over with `outcome`.
    pub(super) fn finish(&mut self, outcome: RestoreOutcome, now: Timestamp) {
        let journal = std::mem::take(&mut self.journal);
        self.journal.events = journal.events;
        let cancelled = self.cancel == Some(Cancel::Stopped);
        let state = match outcome {
            RestoreOutcome::Succeeded => JobState::Succeeded,
            RestoreOutcome::Failed if cancelled => JobState::Cancelled,
            RestoreOutcome::Failed => JobState::Failed,
            RestoreOutcome::RolledBack if cancelled => JobState::Cancelled,
            RestoreOutcome::RolledBack => JobState::RolledBack,
            RestoreOutcome::RollbackFailed => JobState::RollbackFailed,
        };
        let report = RestoreReport {
            restore_id: self.params.restore_id.clone(),
            backup_id: self.params.manifest.id.clone(),
            outcome,
            started_at: self.started_at.unwrap_or(now),
            finished_at: now,
            safety_backup_id: self.safety_backup_id.clone(),
            safety_backup_skipped: self.params.safety_backup.is_none(),
            rows_imported: self.rows_imported,
            statements_imported: self.statements_imported,
            steps: journal.steps,
            verification: std::mem::take(&mut self.verification),
            rollback: journal.rollback,
            warnings: self.warnings.clone(),
        };
        self.stage = Stage::Done {
            report: Box::new(report),
            state,
        };
    }
}
