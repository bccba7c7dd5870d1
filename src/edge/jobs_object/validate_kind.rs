//! Validation jobs: steps 1-5 over a stored backup, nothing written. Each
//! slice resumes the [`ValidateJob`] from its checkpoint and reads the
//! object a range at a time within the slice budget.

use super::kind::{self, Context};
use super::slices::Mode;
use crate::edge::env;
use crate::edge::web_engine::WebEngine;
use crate::jobs::engine::record::JobState;
use crate::jobs::engine::{SliceResult, Ticket};
use crate::jobs::restore::StepStatus;
use crate::jobs::restore_job::ValidateJob;
use crate::jobs::slice::{Meter, SliceEnd};
use crate::platform::InvocationCounter;
use serde::{Deserialize, Serialize};
use serde_json::json;
use std::rc::Rc;
use worker::Env;

/// What a validation job was asked for.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ValidateParams {
    /// The backup to validate.
    pub backup_id: String,
}

/// Runs one slice of the validation job `ticket` names.
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
    let keyring = match context.keyring() {
        Ok(keyring) => keyring,
        Err(error) => return kind::failed(error, progress),
    };
    let mut job = match kind::saved_job::<ValidateJob>(ticket) {
        Ok(Some(job)) => job,
        Ok(None) => match first(ticket, &context).await {
            Ok(job) => job,
            Err(result) => return result,
        },
        Err(error) => return kind::failed(error, progress),
    };
    match mode {
        Mode::Cancel => {
            return kind::finished(
                JobState::Cancelled,
                Some("cancelled by an operator".into()),
                None,
                job.progress(),
                job.take_events(),
            )
        }
        Mode::GiveUp => {
            job.give_up(
                ticket.record.error.clone().unwrap_or_else(|| {
                    "the runtime died during every attempt at this slice".into()
                }),
            )
        }
        Mode::Run => {}
    }
    let clock = env::now;
    let meter = Meter::new(context.config.job_budget, &clock);
    let engine = WebEngine::default();
    let advanced = job
        .run_slice(&context.store, keyring, &engine, &meter)
        .await;
    let events = job.take_events();
    match advanced {
        Ok(SliceEnd::Continue) => {
            kind::go_on(kind::encode(&job), job.step_name(), job.progress(), events)
        }
        Ok(SliceEnd::Done(report)) => {
            let (state, error) = match report.steps.iter().find(|s| s.status == StepStatus::Failed)
            {
                None if report.ok => (JobState::Succeeded, None),
                failed => (
                    JobState::Failed,
                    Some(match failed {
                        Some(step) => {
                            format!("step {} ({}) failed: {}", step.step, step.name, step.detail)
                        }
                        None => "the backup did not validate".to_owned(),
                    }),
                ),
            };
            kind::finished(state, error, Some(json!(report)), job.progress(), events)
        }
        Err(error) => kind::retry(error.to_string(), job.progress(), events),
    }
}

/// The job at its first slice, over the backup's manifest.
async fn first(ticket: &Ticket, context: &Context) -> Result<ValidateJob, SliceResult> {
    let params: ValidateParams =
        kind::params(ticket).map_err(|e| kind::failed(e, ticket.record.progress))?;
    let manifest = kind::manifest(context, &params.backup_id, ticket.record.progress).await?;
    Ok(ValidateJob::new(manifest))
}
