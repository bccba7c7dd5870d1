//! What every kind of job needs at the start of a slice: the
//! configuration, the bucket and the keys, with the invocation's counter;
//! the job resumed from its checkpoint or its parameters; and the shapes of
//! a slice's result.

use crate::config::Config;
use crate::edge::env;
use crate::edge::r2::R2Store;
use crate::edge::shared::MISSING_KEY;
use crate::format::keys::Keyring;
use crate::jobs::engine::record::{JobProgress, JobState, NewEvent};
use crate::jobs::engine::{SliceOutcome, SliceResult, Ticket};
use crate::jobs::prune;
use crate::manifest::Manifest;
use crate::platform::InvocationCounter;
use serde::de::DeserializeOwned;
use serde::Serialize;
use std::rc::Rc;
use worker::Env;

/// The edges and settings of one slice.
pub struct Context {
    /// The configuration.
    pub config: Config,
    /// The backup bucket, counted.
    pub store: R2Store,
}

impl Context {
    /// Loads the configuration and binds the bucket; a failure ends the job.
    pub fn load(env: &Env, counter: &Rc<InvocationCounter>) -> Result<Self, String> {
        let config = env::load_config(env).map_err(|e| format!("invalid configuration: {e}"))?;
        let bucket = env::backups_bucket(env).map_err(|e| e.to_string())?;
        Ok(Self {
            config,
            store: R2Store::new(bucket, counter.clone()),
        })
    }

    /// The keyring, or why there is none.
    pub fn keyring(&self) -> Result<&Keyring, String> {
        self.config
            .keyring
            .as_ref()
            .ok_or_else(|| MISSING_KEY.to_owned())
    }
}

/// The job `ticket` saved at the end of its last slice, or `None` before
/// its first; `Err` says why the checkpoint is unreadable (the job ends).
pub fn saved_job<J: DeserializeOwned>(ticket: &Ticket) -> Result<Option<J>, String> {
    ticket
        .checkpoint
        .as_deref()
        .map(serde_json::from_slice)
        .transpose()
        .map_err(|error| format!("the job's checkpoint is unreadable: {error}"))
}

/// The parameters `ticket`'s job was started with; `Err` says why they are
/// unreadable (the job ends).
pub fn params<P: DeserializeOwned>(ticket: &Ticket) -> Result<P, String> {
    serde_json::from_value(ticket.record.params.clone())
        .map_err(|error| format!("the job's parameters: {error}"))
}

/// The manifest of the backup a job works on: a missing backup ends the
/// job, a failed read is retried.
pub async fn manifest(
    context: &Context,
    backup_id: &str,
    progress: JobProgress,
) -> Result<Manifest, SliceResult> {
    match prune::get_manifest(&context.store, backup_id).await {
        Ok(Some(manifest)) => Ok(manifest),
        Ok(None) => Err(failed(format!("no backup {backup_id}"), progress)),
        Err(error) => Err(retry(error.to_string(), progress, Vec::new())),
    }
}

/// A slice that ends the job as failed with `error`.
pub fn failed(error: impl Into<String>, progress: JobProgress) -> SliceResult {
    finished(
        JobState::Failed,
        Some(error.into()),
        None,
        progress,
        Vec::new(),
    )
}

/// A slice that ends the job in `state`.
pub fn finished(
    state: JobState,
    error: Option<String>,
    report: Option<serde_json::Value>,
    progress: JobProgress,
    events: Vec<NewEvent>,
) -> SliceResult {
    SliceResult {
        outcome: SliceOutcome::Finished {
            state,
            error,
            report,
        },
        step: Some("done".into()),
        progress,
        events,
    }
}

/// A slice that failed in a way worth retrying from the last checkpoint.
pub fn retry(
    error: impl Into<String>,
    progress: JobProgress,
    events: Vec<NewEvent>,
) -> SliceResult {
    SliceResult {
        outcome: SliceOutcome::Retry {
            error: error.into(),
        },
        step: None,
        progress,
        events,
    }
}

/// `job` as its checkpoint: JSON, in a buffer of exactly its size. A
/// growing buffer would double, and with a few MiB of ciphertext in a
/// checkpoint that doubling would be the largest allocation of a slice.
pub fn encode(job: &impl Serialize) -> Result<Vec<u8>, serde_json::Error> {
    let mut size = ByteCount(0);
    serde_json::to_writer(&mut size, job)?;
    let mut checkpoint = Vec::with_capacity(size.0);
    serde_json::to_writer(&mut checkpoint, job)?;
    Ok(checkpoint)
}

/// A writer that keeps only the number of bytes written.
struct ByteCount(usize);

impl std::io::Write for ByteCount {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        self.0 += buf.len();
        Ok(buf.len())
    }

    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// A slice after which work remains, from `checkpoint`.
pub fn go_on(
    checkpoint: Result<Vec<u8>, serde_json::Error>,
    step: &str,
    progress: JobProgress,
    events: Vec<NewEvent>,
) -> SliceResult {
    match checkpoint {
        Ok(checkpoint) => SliceResult {
            outcome: SliceOutcome::Continue { checkpoint },
            step: Some(step.to_owned()),
            progress,
            events,
        },
        Err(error) => retry(
            format!("encoding the checkpoint: {error}"),
            progress,
            events,
        ),
    }
}
