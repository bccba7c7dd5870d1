//! The Cron Trigger's entry point: a backup, then pruning.
//!
//! A Rust scheduled handler returns `()`: the platform never sees it fail,
//! so the run records its own outcome (history, report, log, alert).

use super::backup_run::{self, RunSpec};
use super::{env, log};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde_json::json;
use worker::{Env, ScheduledEvent};

/// Runs the scheduled work for `event`. The backup stands for the event's
/// scheduled time, and pruning judges the backups at that time.
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
    let spec = RunSpec {
        kind: BackupKind::Scheduled,
        pinned: false,
        note: None,
        created_at: scheduled_time,
        prune: true,
    };
    // The run logs, records and alerts its own outcome.
    let _ = backup_run::run(&env, &config, spec).await;
}
