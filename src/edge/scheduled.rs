//! The Cron Trigger's entry point: hands a scheduled backup to the jobs'
//! object, which queues it behind any running job (never skips it), runs
//! it slice by slice and prunes after it.
//!
//! A Rust scheduled handler returns `()`: the platform never sees it fail,
//! so a failure to hand the job over is logged, recorded and alerted here.

use super::api::new_job_id;
use super::backup_run::alert_failure;
use super::jobs_object::{BackupParams, NewJobBody};
use super::{env, jobs_client, log};
use crate::jobs::backup::BackupRequest;
use crate::jobs::engine::record::{JobKind, Origin};
use crate::platform::InvocationCounter;
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde_json::json;
use worker::{Env, ScheduledEvent};

/// Submits the scheduled backup for `event`. The backup stands for the
/// event's scheduled time, and pruning judges the backups at that time.
pub async fn run(event: ScheduledEvent, env: Env) {
    let scheduled_time = Timestamp::from_millis(event.schedule() as i64);
    log::event(
        "info",
        "scheduled",
        json!({ "cron": event.cron(), "scheduled_time": scheduled_time }),
    );
    let config = match env::load_config(&env) {
        Ok(config) => config,
        Err(error) => {
            log::event(
                "error",
                "backup_failed",
                json!({ "error": format!("invalid configuration: {error}") }),
            );
            return;
        }
    };
    let counter = InvocationCounter::new(config.platform_limits);
    let params = BackupParams {
        kind: BackupKind::Scheduled,
        pinned: false,
        note: None,
        created_at: scheduled_time,
        prune: true,
    };
    let submitted = match (new_job_id(scheduled_time), serde_json::to_value(&params)) {
        (Ok(id), Ok(params)) => {
            let job = NewJobBody {
                id,
                kind: JobKind::Backup,
                origin: Origin::Scheduled,
                params,
            };
            match jobs_client::submit(&env, &counter, &job).await {
                Ok(response) if response.status_code() == 202 => Ok(job.id),
                Ok(response) => Err(format!(
                    "the jobs object answered {}",
                    response.status_code()
                )),
                Err(error) => Err(error.to_string()),
            }
        }
        (Err(error), _) => Err(error.to_string()),
        (_, Err(error)) => Err(error.to_string()),
    };
    match submitted {
        Ok(id) => log::event("info", "backup_queued", json!({ "job": id })),
        Err(error) => {
            let message =
                format!("the scheduled backup could not be handed to the jobs object: {error}");
            log::event("error", "backup_failed", json!({ "error": message }));
            let request = BackupRequest {
                id: format!("scheduled-{}", scheduled_time.as_millis()),
                kind: BackupKind::Scheduled,
                pinned: false,
                note: None,
                created_at: scheduled_time,
                salt: [0; 32],
            };
            alert_failure(&config, &request, &message).await;
        }
    }
}
