//! The jobs' Durable Object: one per environment (named [`OBJECT_NAME`]),
//! the single owner of every job. A thin driver of [`crate::jobs::engine`]:
//!
//! - `fetch` serves the job routes the worker forwards ([`requests`]):
//!   submitting, listing, reading, following and cancelling jobs;
//! - `alarm` runs one slice of the active job ([`slices`]) and sets the
//!   next alarm;
//! - every entry re-arms the alarm when a job is owed one, because alarms are
//!   lost when workerd restarts, and production stops retrying a failing
//!   alarm after a few attempts.

mod backup_kind;
mod book;
mod import_kind;
mod kind;
mod requests;
mod restore_kind;
mod slices;
mod validate_kind;

use super::{env, log, respond};
use crate::error::ApiError;
use crate::jobs::engine;
use crate::platform::InvocationCounter;
pub use backup_kind::BackupParams;
use book::SqlBook;
pub use requests::NewJobBody;
pub use restore_kind::RestoreParams;
use serde_json::json;
use std::rc::Rc;
pub use validate_kind::ValidateParams;
use worker::{durable_object, DurableObject, Env, Request, Response, State};

/// The binding of the jobs' object namespace.
pub const BINDING: &str = "JOBS";
/// The name of the one object per environment.
pub const OBJECT_NAME: &str = "jobs";

/// The jobs' Durable Object.
#[durable_object]
pub struct JobsObject {
    state: State,
    env: Env,
}

impl DurableObject for JobsObject {
    fn new(state: State, env: Env) -> Self {
        Self { state, env }
    }

    async fn fetch(&self, mut req: Request) -> worker::Result<Response> {
        let book = match SqlBook::open(self.state.storage().sql()) {
            Ok(book) => book,
            Err(error) => return respond::error(&ApiError::internal(error.to_string())),
        };
        let response = requests::handle(&book, &mut req).await;
        self.rearm(&book, 0).await;
        response
    }

    async fn alarm(&self) -> worker::Result<Response> {
        let book = match SqlBook::open(self.state.storage().sql()) {
            Ok(book) => book,
            Err(error) => {
                log::event(
                    "error",
                    "job_storage_failed",
                    json!({ "detail": error.to_string() }),
                );
                return Response::ok("");
            }
        };
        let counter = Rc::new(match env::load_config(&self.env) {
            Ok(config) => InvocationCounter::new(config.platform_limits),
            Err(_) => InvocationCounter::new(None),
        });
        let delay_ms = slices::run_one(&book, &self.env, &counter).await;
        self.rearm(&book, delay_ms).await;
        Response::ok("")
    }
}

impl JobsObject {
    /// Sets the alarm `delay_ms` from now when a job is owed one and none is
    /// set.
    async fn rearm(&self, book: &SqlBook, delay_ms: i64) {
        let owed = match engine::owes_alarm(book) {
            Ok(owed) => owed,
            Err(error) => {
                log::event(
                    "error",
                    "job_storage_failed",
                    json!({ "detail": error.to_string() }),
                );
                return;
            }
        };
        if !owed {
            return;
        }
        let storage = self.state.storage();
        let set = match storage.get_alarm().await {
            Ok(Some(_)) => Ok(()),
            Ok(None) => storage.set_alarm(delay_ms.max(0)).await,
            Err(error) => Err(error),
        };
        if let Err(error) = set {
            log::event(
                "error",
                "job_alarm_failed",
                json!({ "detail": error.to_string() }),
            );
        }
    }
}
