//! Import jobs: the checks of an object an operator uploaded (the request
//! streamed it into R2), sliced; the backup is listed as `imported` once
//! they pass, and the object is deleted when they fail or the job is
//! cancelled.

use super::kind::{self, Context};
use super::slices::Mode;
use crate::edge::web_engine::WebEngine;
use crate::edge::{env, log};
use crate::jobs::engine::record::JobState;
use crate::jobs::engine::{SliceResult, Ticket};
use crate::jobs::import_job::{ImportJob, ImportRequest};
use crate::jobs::slice::{Meter, SliceEnd};
use crate::platform::InvocationCounter;
use serde_json::json;
use std::rc::Rc;
use worker::Env;

/// Runs one slice of the import job `ticket` names.
pub async fn slice(
    ticket: &Ticket,
    mode: Mode,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> SliceResult {
    let progress = ticket.record.progress;
    let context = match Context::load(env, counter) {
        Ok(context) => context,
        Err(error) => return kind::failed(error, progress),
    };
    let mut job = match kind::saved_job::<ImportJob>(ticket) {
        Ok(Some(job)) => job,
        Ok(None) => match kind::params::<ImportRequest>(ticket) {
            Ok(request) => ImportJob::new(request),
            Err(error) => return kind::failed(error, progress),
        },
        Err(error) => return kind::failed(error, progress),
    };
    let keyring = match context.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return abandon(&job, &context, JobState::Failed, error).await,
    };
    match mode {
        Mode::Run => {}
        Mode::Cancel => {
            return abandon(
                &job,
                &context,
                JobState::Cancelled,
                "cancelled by an operator; nothing was listed".into(),
            )
            .await
        }
        Mode::GiveUp => {
            let message = format!(
                "gave up after its slices failed {} times in a row; nothing was listed. Last error: {}",
                ticket.record.attempts - 1,
                ticket.record.error.as_deref().unwrap_or("the runtime died during the slice")
            );
            return abandon(&job, &context, JobState::Failed, message).await;
        }
    }
    let clock = env::now;
    let meter = Meter::new(context.config.job_budget, &clock);
    let engine = WebEngine::default();
    match job
        .run_slice(&context.store, keyring, &engine, &meter)
        .await
    {
        Ok(SliceEnd::Continue) => kind::go_on(
            kind::encode(&job),
            job.step_name(),
            job.progress(),
            Vec::new(),
        ),
        Ok(SliceEnd::Done(Ok(manifest))) => {
            log::event(
                "info",
                "backup_imported",
                json!({ "id": manifest.id, "rows": manifest.total_rows() }),
            );
            kind::finished(
                JobState::Succeeded,
                None,
                Some(json!(manifest)),
                job.progress(),
                Vec::new(),
            )
        }
        Ok(SliceEnd::Done(Err(error))) => kind::failed(error.to_string(), job.progress()),
        Err(error) => kind::retry(error.to_string(), job.progress(), Vec::new()),
    }
}

async fn abandon(
    job: &ImportJob,
    context: &Context,
    state: JobState,
    message: String,
) -> SliceResult {
    if let Err(error) = job.abandon(&context.store).await {
        log::event(
            "warn",
            "import_cleanup_failed",
            json!({ "detail": error.to_string() }),
        );
    }
    kind::finished(state, Some(message), None, job.progress(), Vec::new())
}
