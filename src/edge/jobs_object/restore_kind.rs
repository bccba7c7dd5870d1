//! Restore jobs: the ten steps, sliced. Each slice resumes the
//! [`RestoreJob`] from its checkpoint; a cancellation or the engine giving
//! up is handed to the job, which rolls back if the database has changed
//! (steps 7-9) and otherwise ends with nothing changed. The report is also
//! stored in R2 for `GET /v1/restores/{id}`.

use super::kind::{self, Context};
use super::slices::Mode;
use crate::config::DB_BINDING;
use crate::edge::backup_run::WORKER_VERSION;
use crate::edge::d1::D1Reader;
use crate::edge::web_engine::WebEngine;
use crate::edge::{env, log};
use crate::jobs::backup::{BackupRequest, BackupSettings};
use crate::jobs::engine::record::JobState;
use crate::jobs::engine::{SliceResult, Ticket, MAX_ATTEMPTS};
use crate::jobs::restore::{RestoreOutcome, RestoreReport, StepStatus};
use crate::jobs::restore_job::{RestoreJob, RestoreJobParams};
use crate::jobs::slice::{Meter, SliceEnd};
use crate::jobs::store::ObjectStore;
use crate::layout::{new_backup_id, restore_report_key};
use crate::platform::InvocationCounter;
use crate::retention::BackupKind;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::rc::Rc;
use worker::Env;

/// What a restore job was asked for (the guards already passed).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct RestoreParams {
    /// The backup to restore.
    pub backup_id: String,
    /// Whether to go on without a safety backup (no rollback possible).
    pub skip_safety_backup: bool,
}

/// Runs one slice of the restore job `ticket` names.
pub async fn slice(
    ticket: &Ticket,
    mode: Mode,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> SliceResult {
    let record = &ticket.record;
    let progress = record.progress;
    let context = match Context::load(env, counter) {
        Ok(context) => context,
        Err(error) => return kind::failed(error, progress),
    };
    let keyring = match context.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return kind::failed(error, progress),
    };
    let mut job = match kind::saved_job::<RestoreJob>(ticket) {
        Ok(Some(job)) => job,
        Ok(None) => match first(ticket, &context).await {
            Ok(job) => job,
            Err(result) => return result,
        },
        Err(error) => return kind::failed(error, progress),
    };
    match mode {
        Mode::Run => {}
        Mode::Cancel => job.cancel(),
        Mode::GiveUp if record.attempts > 2 * MAX_ATTEMPTS => {
            let message = format!(
                "the restore could not go on and its slices kept failing ({}); the database may be \
                 partly restored. A person must act: restore the safety backup by hand (d1-vault \
                 restore <safety backup id>) or the backup again once the cause is fixed",
                record.error.as_deref().unwrap_or("the runtime died during every attempt")
            );
            return kind::finished(
                JobState::RollbackFailed,
                Some(message),
                None,
                job.progress(),
                job.take_events(),
            );
        }
        Mode::GiveUp => job.give_up(
            record
                .error
                .clone()
                .unwrap_or_else(|| "the runtime died during every attempt at this slice".into()),
        ),
    }
    let db = match env.d1(DB_BINDING) {
        Ok(db) => D1Reader::new(db, counter.clone()),
        Err(_) => return kind::failed("the D1 binding DB is missing", job.progress()),
    };
    let engine = WebEngine::default();
    let settings = BackupSettings {
        environment: &context.config.environment,
        database: &context.config.database_name,
        key: keyring.current(),
        engine: &engine,
        worker_version: WORKER_VERSION,
        fault: None,
    };
    let clock = env::now;
    let meter = Meter::new(context.config.job_budget, &clock);
    let advanced = job
        .run_slice(&db, &context.store, keyring, settings, &meter)
        .await;
    let events = job.take_events();
    match advanced {
        Ok(SliceEnd::Continue) => {
            kind::go_on(kind::encode(&job), job.step_name(), job.progress(), events)
        }
        Ok(SliceEnd::Done(report)) => {
            store_report(&context.store, &report).await;
            let state = job.outcome().unwrap_or(JobState::Failed);
            let error = (state != JobState::Succeeded).then(|| summary(&report));
            kind::finished(state, error, Some(json!(report)), job.progress(), events)
        }
        Err(error) => kind::retry(error.to_string(), job.progress(), events),
    }
}

/// The job at its first slice: the backup's manifest, and a fresh id and
/// salt for the safety backup.
async fn first(ticket: &Ticket, context: &Context) -> Result<RestoreJob, SliceResult> {
    let progress = ticket.record.progress;
    let params: RestoreParams = kind::params(ticket).map_err(|e| kind::failed(e, progress))?;
    let manifest = kind::manifest(context, &params.backup_id, progress).await?;
    let now = env::now();
    let mut random = [0u8; 3];
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut random)
        .and_then(|()| getrandom::getrandom(&mut salt))
        .map_err(|_| kind::retry("drawing random bytes", progress, Vec::new()))?;
    let safety_backup = (!params.skip_safety_backup).then(|| BackupRequest {
        id: new_backup_id(now, random),
        kind: BackupKind::PreRestore,
        pinned: true,
        note: Some(format!("taken before restoring {}", manifest.id)),
        created_at: now,
        salt,
    });
    Ok(RestoreJob::new(RestoreJobParams {
        restore_id: ticket.record.id.clone(),
        manifest,
        safety_backup,
    }))
}

/// The report in words, for the job's `error` when it did not succeed.
fn summary(report: &RestoreReport) -> String {
    let failed = report
        .steps
        .iter()
        .find(|s| s.status == StepStatus::Failed)
        .map(|s| format!("step {} ({}) failed: {}", s.step, s.name, s.detail))
        .unwrap_or_else(|| "the restore did not complete".into());
    match report.outcome {
        RestoreOutcome::RolledBack => format!(
            "{failed}. The database was restored to its state before the restore from the safety backup {}",
            report.safety_backup_id.as_deref().unwrap_or("?")
        ),
        RestoreOutcome::RollbackFailed => format!(
            "{failed}. The rollback failed too: the database may be partly restored. Restore the safety \
             backup {} by hand",
            report.safety_backup_id.as_deref().unwrap_or("(none was taken)")
        ),
        _ => format!("{failed}. The database was not changed"),
    }
}

async fn store_report(store: &impl ObjectStore, report: &RestoreReport) {
    let written = match serde_json::to_vec_pretty(report) {
        Ok(body) => store
            .put(&restore_report_key(&report.restore_id), body, &[])
            .await
            .map_err(|e| e.to_string()),
        Err(error) => Err(error.to_string()),
    };
    let level = if report.outcome == RestoreOutcome::Succeeded {
        "info"
    } else {
        "error"
    };
    log::event(
        level,
        "restore_finished",
        json!({ "restore_id": report.restore_id, "backup_id": report.backup_id, "outcome": report.outcome }),
    );
    if let Err(detail) = written {
        log::event(
            "error",
            "restore_report_failed",
            json!({ "detail": detail }),
        );
    }
}
