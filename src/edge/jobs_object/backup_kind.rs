//! Backup jobs in the jobs' object: each slice resumes the
//! [`BackupJob`](crate::jobs::backup_job::BackupJob) from its checkpoint,
//! advances it within the slice budget, and saves it again. Once the backup is
//! listed, the same job removes orphans, prunes (scheduled backups only),
//! records the run for `/health` and writes the run report. The jobs'
//! object runs one job at a time, so nothing else writes meanwhile.

use super::kind;
use super::slices::Mode;
use crate::config::{Config, DB_BINDING};
use crate::edge::backup_run::{alert_failure, WORKER_VERSION};
use crate::edge::d1::D1Reader;
use crate::edge::memory::wasm_memory_bytes;
use crate::edge::r2::R2Store;
use crate::edge::web_engine::WebEngine;
use crate::edge::{env, log};
use crate::jobs::backup::{BackupRequest, BackupSettings};
use crate::jobs::backup_job::BackupJob;
use crate::jobs::engine::record::{EventKind, JobProgress, JobState, NewEvent};
use crate::jobs::engine::{SliceOutcome, SliceResult, Ticket};
use crate::jobs::runner::{self, RunReport, RunTimes};
use crate::jobs::slice::{Meter, SliceEnd};
use crate::manifest::Manifest;
use crate::platform::InvocationCounter;
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::rc::Rc;
use worker::Env;

/// What a backup job was asked for (the job record's `params`).
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct BackupParams {
    /// Scheduled or manual.
    pub kind: BackupKind,
    /// Whether to pin it.
    pub pinned: bool,
    /// An operator's note.
    pub note: Option<String>,
    /// The time the backup stands for.
    pub created_at: Timestamp,
    /// Whether to prune after it (the cron's backups do).
    pub prune: bool,
}

/// What a backup job saves between slices.
#[derive(Debug, Serialize, Deserialize)]
struct Checkpoint {
    job: BackupJob,
}

struct Failure {
    outcome: SliceOutcome,
    message: Option<String>,
}

/// Runs one slice of the backup job `ticket` names.
pub async fn slice(
    ticket: &Ticket,
    mode: Mode,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> SliceResult {
    let record = &ticket.record;
    let mut events = Vec::new();
    let mut position = None;
    let outcome = match run(ticket, mode, env, counter, &mut events, &mut position).await {
        Ok(outcome) => outcome,
        Err(failure) => {
            if let Some(message) = failure.message {
                log::event(
                    "error",
                    "backup_failed",
                    json!({ "id": record.id, "error": message }),
                );
            }
            failure.outcome
        }
    };
    let (step, progress) = match position {
        Some((step, progress)) => (Some(step), progress),
        None => (None, record.progress),
    };
    SliceResult {
        outcome,
        step,
        progress,
        events,
    }
}

async fn run(
    ticket: &Ticket,
    mode: Mode,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    events: &mut Vec<NewEvent>,
    position: &mut Option<(String, JobProgress)>,
) -> Result<SliceOutcome, Failure> {
    let record = &ticket.record;
    let permanent = |message: String| Failure {
        outcome: SliceOutcome::Finished {
            state: JobState::Failed,
            error: Some(message.clone()),
            report: None,
        },
        message: Some(message),
    };
    let config =
        env::load_config(env).map_err(|e| permanent(format!("invalid configuration: {e}")))?;
    let params: BackupParams = kind::params(ticket).map_err(permanent)?;
    let bucket = env::backups_bucket(env).map_err(|e| permanent(e.to_string()))?;
    let store = R2Store::new(bucket, counter.clone());
    let request = BackupRequest {
        id: record.id.clone(),
        kind: params.kind,
        pinned: params.pinned,
        note: params.note.clone(),
        created_at: params.created_at,
        salt: [0; 32],
    };
    let mut job = match kind::saved_job::<Checkpoint>(ticket).map_err(permanent)? {
        Some(checkpoint) => checkpoint.job,
        None => {
            let mut salt = [0u8; 32];
            getrandom::getrandom(&mut salt).map_err(|_| retry("drawing random bytes"))?;
            BackupJob::new(BackupRequest {
                salt,
                ..request.clone()
            })
        }
    };
    if mode != Mode::Run {
        let (state, message) = match mode {
            Mode::Cancel => (JobState::Cancelled, "cancelled by an operator; nothing was listed".to_owned()),
            _ => (
                JobState::Failed,
                format!(
                    "gave up after its slices failed {} times in a row; nothing was listed. Last error: {}",
                    record.attempts - 1,
                    record.error.as_deref().unwrap_or("the runtime died during the slice")
                ),
            ),
        };
        abandon(&job, &store, &record.id).await;
        if state == JobState::Failed {
            fail_run(&store, &config, &request, &message).await;
        }
        return Ok(SliceOutcome::Finished {
            state,
            error: Some(message),
            report: None,
        });
    }
    let Some(keyring) = config.keyring.as_ref() else {
        let message = crate::edge::shared::MISSING_KEY.to_owned();
        abandon(&job, &store, &record.id).await;
        fail_run(&store, &config, &request, &message).await;
        return Err(permanent(message));
    };
    let db = env
        .d1(DB_BINDING)
        .map(|db| D1Reader::new(db, counter.clone()))
        .map_err(|_| permanent("the D1 binding DB is missing; add [[d1_databases]] binding = \"DB\" to wrangler.toml".into()))?;
    let engine = WebEngine::default();
    let settings = BackupSettings {
        environment: &config.environment,
        database: &config.database_name,
        key: keyring.current(),
        engine: &engine,
        worker_version: WORKER_VERSION,
        fault: config.backup_fault,
    };
    let clock = env::now;
    let meter = Meter::new(config.job_budget, &clock);
    if ticket.checkpoint.is_none() {
        events.push(NewEvent::new(EventKind::StepStarted, job.step_name()).step(job.step_name()));
    }
    let advanced = job.run_slice(&db, &store, settings, &meter).await;
    for step in job.take_entered_steps() {
        events.push(NewEvent::new(EventKind::StepStarted, step).step(step));
    }
    *position = Some((job.step_name().to_owned(), job.progress()));
    match advanced {
        Ok(SliceEnd::Continue) => Ok(SliceOutcome::Continue {
            checkpoint: kind::encode(&Checkpoint { job })
                .map_err(|e| permanent(format!("encoding the checkpoint: {e}")))?,
        }),
        Ok(SliceEnd::Done(manifest)) => {
            let report = after_backup(&store, &config, &params, &manifest, record.started_at).await;
            let report = report.map_err(|e| retry(&e))?;
            for warning in &manifest.warnings {
                events.push(NewEvent::new(EventKind::Warning, warning.message.clone()));
            }
            log::event("info", "backup_succeeded", json!({ "report": report }));
            Ok(SliceOutcome::Finished {
                state: JobState::Succeeded,
                error: None,
                report: Some(json!(manifest)),
            })
        }
        Err(error) if error.is_transient() => Err(retry(&error.to_string())),
        Err(error) => {
            let message = error.to_string();
            abandon(&job, &store, &record.id).await;
            fail_run(&store, &config, &request, &message).await;
            Err(permanent(message))
        }
    }
}

fn retry(error: &str) -> Failure {
    Failure {
        outcome: SliceOutcome::Retry {
            error: error.to_owned(),
        },
        message: None,
    }
}

/// Undoes what the job wrote. A failure is logged: what it leaves is an
/// unlisted multipart upload, which R2 aborts after 7 days, or an unlisted
/// object, which the next successful backup removes as an orphan.
async fn abandon(job: &BackupJob, store: &R2Store, id: &str) {
    if let Err(error) = job.abandon(store).await {
        log::event(
            "warn",
            "backup_cleanup_failed",
            json!({ "id": id, "detail": error.to_string() }),
        );
    }
}

async fn after_backup(
    store: &R2Store,
    config: &Config,
    params: &BackupParams,
    manifest: &Manifest,
    started_at: Option<Timestamp>,
) -> Result<RunReport, String> {
    let prune = params
        .prune
        .then_some((config.retention, params.created_at));
    let times = RunTimes {
        started_at: started_at.unwrap_or(params.created_at),
        finished_at: env::now(),
        memory_bytes: wasm_memory_bytes(),
    };
    runner::finish_run(store, manifest, prune, times)
        .await
        .map_err(|e| e.to_string())
}

async fn fail_run(store: &R2Store, config: &Config, request: &BackupRequest, message: &str) {
    if let Err(error) = runner::record_failed_start(store, request, message, env::now()).await {
        log::event(
            "error",
            "history_write_failed",
            json!({ "detail": error.to_string() }),
        );
    }
    alert_failure(config, request, message).await;
}
