//! One alarm: one slice of the active job, its result saved, the delay to
//! the next alarm returned.

use super::book::SqlBook;
use super::{backup_kind, import_kind, restore_kind, validate_kind};
use crate::edge::memory::wasm_memory_bytes;
use crate::edge::{env, log};
use crate::jobs::engine::record::{JobKind, JobState};
use crate::jobs::engine::{self, Next, SliceOutcome, SliceResult, Ticket};
use crate::platform::InvocationCounter;
use serde_json::json;
use std::rc::Rc;
use worker::Env;

/// What the driver asks of a kind in this slice.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// Advance from the checkpoint.
    Run,
    /// An operator cancelled the job: stop cleanly.
    Cancel,
    /// The slices kept failing: end the job as failed, cleaning up.
    GiveUp,
}

/// Runs one slice of the active job, if any; returns the delay before the
/// next alarm in milliseconds.
pub async fn run_one(book: &SqlBook, env: &Env, counter: &Rc<InvocationCounter>) -> i64 {
    let next = match engine::begin_slice(book, env::now()) {
        Ok(next) => next,
        Err(error) => {
            log::event(
                "error",
                "job_storage_failed",
                json!({ "detail": error.to_string() }),
            );
            return engine::retry_delay_ms(1);
        }
    };
    let (ticket, mode) = match next {
        Next::Idle => return 0,
        Next::Run(ticket) => (ticket, Mode::Run),
        Next::Cancel(ticket) => (ticket, Mode::Cancel),
        Next::GiveUp(ticket) => (ticket, Mode::GiveUp),
    };
    let result = run_kind(&ticket, mode, env, counter).await;
    let pause_ms = env::load_config(env).map_or(0, |config| i64::from(config.slice_pause_ms));
    let delay_ms = match &result.outcome {
        SliceOutcome::Retry { .. } => engine::retry_delay_ms(ticket.record.attempts),
        SliceOutcome::Continue { .. } | SliceOutcome::Finished { .. } => pause_ms,
    };
    let (d1_queries, subrequests) = counter.used();
    match engine::end_slice(book, ticket, result, env::now()) {
        Ok(record) => {
            log::event(
                if record.state == JobState::Failed {
                    "error"
                } else {
                    "info"
                },
                "job_slice",
                json!({
                    "job": record.id, "kind": record.kind.as_str(), "state": record.state.as_str(),
                    "step": record.step, "slices": record.slices, "attempts": record.attempts,
                    "d1_queries": d1_queries, "subrequests": subrequests, "error": record.error,
                    "wasm_memory_bytes": wasm_memory_bytes(),
                }),
            );
            delay_ms
        }
        Err(error) => {
            log::event(
                "error",
                "job_storage_failed",
                json!({ "detail": error.to_string() }),
            );
            engine::retry_delay_ms(1)
        }
    }
}

async fn run_kind(
    ticket: &Ticket,
    mode: Mode,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> SliceResult {
    match ticket.record.kind {
        JobKind::Backup => backup_kind::slice(ticket, mode, env, counter).await,
        JobKind::Validate => validate_kind::slice(ticket, mode, env, counter).await,
        JobKind::Restore => restore_kind::slice(ticket, mode, env, counter).await,
        JobKind::Import => import_kind::slice(ticket, mode, env, counter).await,
    }
}
