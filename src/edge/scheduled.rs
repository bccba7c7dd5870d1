//! The Cron Trigger's entry point.
//!
//! A Rust scheduled handler returns `()`: the platform never sees it fail, so
//! the job logs and records its own outcome.

use super::log;
use crate::time::Timestamp;
use serde_json::json;
use worker::{Env, ScheduledEvent};

/// Runs the scheduled work for `event`.
pub async fn run(event: ScheduledEvent, _env: Env) {
    let scheduled_time = Timestamp::from_millis(event.schedule() as i64);
    log::event(
        "info",
        "scheduled",
        json!({ "cron": event.cron(), "scheduled_time": scheduled_time.to_string() }),
    );
}
