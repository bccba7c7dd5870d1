//! The requests the worker forwards to the jobs' object, after it has
//! authorized them. Paths mirror the public API:
//!
//! - `POST /submit` with a [`NewJobBody`]: `202 {"job"}`, or `409` naming the
//!   job that blocks it;
//! - `GET /v1/jobs?limit=N`: `{"jobs": [...]}`, newest first;
//! - `GET /v1/jobs/{id}`: `{"job"}`;
//! - `GET /v1/jobs/{id}/events?after=N`: `{"events": [...], "state"}`;
//! - `POST /v1/jobs/{id}/cancel`: `202 {"job"}` (`409` if it had ended);
//! - `GET /busy`: `200` when no exclusive job is unfinished, else `409`
//!   naming it.

use super::book::SqlBook;
use crate::edge::{env, respond};
use crate::error::ApiError;
use crate::jobs::engine::book::{BookError, JobBook};
use crate::jobs::engine::record::{JobKind, JobRecord, Origin};
use crate::jobs::engine::{
    self, Cancellation, NewJob, Submission, MAX_EVENTS_PER_READ, MAX_LISTED_JOBS,
    RECORD_RETENTION_MS,
};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};
use worker::{Request, Response};

/// Jobs served by `GET /v1/jobs` when no limit is given.
const DEFAULT_LISTED_JOBS: usize = 20;

/// What the worker submits.
#[derive(Debug, Serialize, Deserialize)]
pub struct NewJobBody {
    /// The job's id.
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Who asked.
    pub origin: Origin,
    /// The kind's parameters.
    pub params: Value,
}

/// Answers one forwarded request.
pub async fn handle(book: &SqlBook, req: &mut Request) -> worker::Result<Response> {
    match dispatch(book, req).await {
        Ok(response) => Ok(response),
        Err(error) => respond::error(&error),
    }
}

fn stored(error: BookError) -> ApiError {
    ApiError::internal(error.to_string())
}

async fn dispatch(book: &SqlBook, req: &mut Request) -> Result<Response, ApiError> {
    let method = req.method().to_string();
    let path = req.path();
    let query = |name: &str| {
        req.url().ok().and_then(|url| {
            url.query_pairs()
                .find(|(key, _)| key == name)
                .map(|(_, value)| value.into_owned())
        })
    };
    let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
    let ok = |status: u16, body: Value| {
        respond::json(status, &body).map_err(|_| ApiError::internal("respond"))
    };
    match (method.as_str(), segments.as_slice()) {
        ("POST", ["submit"]) => {
            let body: NewJobBody = req
                .json()
                .await
                .map_err(|e| ApiError::BadRequest(format!("a job submission: {e}")))?;
            let job = NewJob {
                id: body.id,
                kind: body.kind,
                origin: body.origin,
                params: body.params,
            };
            let now = env::now();
            book.forget_finished_before(Timestamp::from_millis(
                now.as_millis() - RECORD_RETENTION_MS,
            ))
            .map_err(stored)?;
            match engine::submit(book, job, now).map_err(stored)? {
                Submission::Accepted(record) => ok(202, json!({ "job": record })),
                Submission::Conflict(blocking) => {
                    Err(ApiError::JobRunning(busy_message(&blocking)))
                }
            }
        }
        ("GET", ["busy"]) => {
            let blocking = book
                .unfinished()
                .map_err(stored)?
                .into_iter()
                .find(|r| r.kind.exclusive());
            match blocking {
                Some(blocking) => Err(ApiError::JobRunning(busy_message(&blocking))),
                None => ok(200, json!({ "busy": false })),
            }
        }
        ("GET", ["v1", "jobs"]) => {
            let limit = match query("limit") {
                None => DEFAULT_LISTED_JOBS,
                Some(text) => match text.parse::<usize>() {
                    Ok(n) if (1..=MAX_LISTED_JOBS).contains(&n) => n,
                    _ => {
                        return Err(ApiError::BadRequest(format!(
                            "limit must be a whole number from 1 to {MAX_LISTED_JOBS}, got {text:?}"
                        )))
                    }
                },
            };
            ok(200, json!({ "jobs": book.recent(limit).map_err(stored)? }))
        }
        ("GET", ["v1", "jobs", id]) => ok(200, json!({ "job": find(book, id)? })),
        ("GET", ["v1", "jobs", id, "events"]) => {
            let record = find(book, id)?;
            let after = match query("after") {
                None => 0,
                Some(text) => text.parse::<u64>().map_err(|_| {
                    ApiError::BadRequest(format!(
                        "after must be an event sequence number, got {text:?}"
                    ))
                })?,
            };
            let events = book
                .events_after(id, after, MAX_EVENTS_PER_READ)
                .map_err(stored)?;
            ok(
                200,
                json!({ "events": events, "state": record.state, "job": record }),
            )
        }
        ("POST", ["v1", "jobs", id, "cancel"]) => {
            match engine::cancel(book, id, env::now()).map_err(stored)? {
                Cancellation::NotFound => Err(not_found(id)),
                Cancellation::AlreadyFinal(record) => Err(ApiError::Conflict(format!(
                    "job {id} already ended ({}); nothing to cancel",
                    record.state.as_str()
                ))),
                Cancellation::Cancelled(record) | Cancellation::Requested(record) => {
                    ok(202, json!({ "job": record }))
                }
            }
        }
        _ => Err(ApiError::NotFound(format!(
            "the jobs object has no route {method} {path}"
        ))),
    }
}

fn find(book: &SqlBook, id: &str) -> Result<JobRecord, ApiError> {
    book.get(id).map_err(stored)?.ok_or_else(|| not_found(id))
}

fn not_found(id: &str) -> ApiError {
    ApiError::NotFound(format!(
        "no job {id}; jobs are kept for 30 days after they end (GET /v1/jobs lists them)"
    ))
}

/// The 409 message: which job blocks, and what the operator can do.
pub fn busy_message(blocking: &JobRecord) -> String {
    format!(
        "{} job {} is {} (step: {}); only one backup, restore or import runs at a time. \
         Follow it with `d1-vault job {} --follow` (GET /v1/jobs/{}), wait for it to end, \
         or cancel it with `d1-vault cancel {}`. Nothing was started",
        blocking.kind.as_str(),
        blocking.id,
        blocking.state.as_str(),
        blocking.step.as_deref().unwrap_or("not started"),
        blocking.id,
        blocking.id,
        blocking.id
    )
}
