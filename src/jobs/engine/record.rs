//! A job's record and events: what `GET /v1/jobs/{id}` and
//! `GET /v1/jobs/{id}/events` serve, and what the job object stores.
//!
//! Invariants: a record in a final state never changes again; `finished_at`
//! is set exactly when the state is final; event sequence numbers of a job
//! start at 1 and grow by one.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use serde_json::Value;

/// What a job does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum JobKind {
    /// Take a backup (scheduled or manual).
    Backup,
    /// Steps 1-5 of a restore over a stored backup; writes nothing.
    Validate,
    /// The ten steps; a restore that fails in steps 8-9 rolls back within
    /// its own job.
    Restore,
    /// The checks of an uploaded object, then its listing.
    Import,
}

impl JobKind {
    /// The name used in JSON and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobKind::Backup => "backup",
            JobKind::Validate => "validate",
            JobKind::Restore => "restore",
            JobKind::Import => "import",
        }
    }

    /// Whether the job writes to the database or the bucket's listing, so
    /// that no two such jobs may overlap.
    pub const fn exclusive(self) -> bool {
        !matches!(self, JobKind::Validate)
    }
}

/// Where a job stands.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum JobState {
    /// Waiting for the job before it to end.
    Queued,
    /// Advancing slice by slice.
    Running,
    /// Done, with the exact result.
    Succeeded,
    /// Ended with an error; nothing it was meant to change was changed
    /// (a restore that failed before step 7, say).
    Failed,
    /// A restore that failed in steps 8-9 and whose safety backup was
    /// restored: the database is as it was before.
    RolledBack,
    /// A restore whose rollback failed too: a person must act.
    RollbackFailed,
    /// Stopped at an operator's request.
    Cancelled,
}

impl JobState {
    /// Whether the job has ended.
    pub const fn is_final(self) -> bool {
        !matches!(self, JobState::Queued | JobState::Running)
    }

    /// The name used in JSON and messages.
    pub const fn as_str(self) -> &'static str {
        match self {
            JobState::Queued => "queued",
            JobState::Running => "running",
            JobState::Succeeded => "succeeded",
            JobState::Failed => "failed",
            JobState::RolledBack => "rolled_back",
            JobState::RollbackFailed => "rollback_failed",
            JobState::Cancelled => "cancelled",
        }
    }
}

/// Who asked for a job.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Origin {
    /// An operator, through the API.
    Manual,
    /// The cron trigger.
    Scheduled,
}

/// Work done and to do; totals are `None` until known.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct JobProgress {
    /// Bytes of SQL (or of the object) processed.
    pub bytes_done: u64,
    /// Bytes in all, when known.
    pub bytes_total: Option<u64>,
    /// Rows processed.
    pub rows_done: u64,
    /// Rows in all, when known.
    pub rows_total: Option<u64>,
}

/// One job.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobRecord {
    /// The job's id (sortable by time, like a backup id).
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Who asked for it.
    pub origin: Origin,
    /// Where it stands.
    pub state: JobState,
    /// The step it is in, in words.
    pub step: Option<String>,
    /// Work done and to do.
    pub progress: JobProgress,
    /// Slices run to their end.
    pub slices: u64,
    /// Slice attempts since the last one that ended well: more than one
    /// means slices died or failed and were retried.
    pub attempts: u32,
    /// When it was asked for.
    pub created_at: Timestamp,
    /// When its first slice began.
    pub started_at: Option<Timestamp>,
    /// When the record last changed.
    pub updated_at: Timestamp,
    /// When it ended.
    pub finished_at: Option<Timestamp>,
    /// Why it failed (or the last retried slice's error while running).
    pub error: Option<String>,
    /// The kind's report once it ended (a manifest summary, a restore report).
    pub report: Option<Value>,
    /// Whether an operator asked to cancel it.
    pub cancel_requested: bool,
    /// What was asked: the kind's parameters.
    pub params: Value,
}

/// What an event says.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum EventKind {
    /// The job changed state.
    State,
    /// A step began.
    StepStarted,
    /// A step ended; `status` says how.
    StepFinished,
    /// Something an operator should know.
    Warning,
    /// A slice failed and will be retried.
    Retry,
}

/// One entry in a job's ordered event list.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct JobEvent {
    /// Position in the job's list, from 1.
    pub seq: u64,
    /// When it happened.
    pub at: Timestamp,
    /// What it says.
    pub kind: EventKind,
    /// The step it is about.
    pub step: Option<String>,
    /// `passed`, `failed`, `skipped` for a finished step; the new state for
    /// a state event.
    pub status: Option<String>,
    /// In words.
    pub message: String,
    /// Extra detail (a step report, say).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub detail: Option<Value>,
}

/// An event not yet numbered: what a slice reports.
#[derive(Debug, Clone, PartialEq)]
pub struct NewEvent {
    /// What it says.
    pub kind: EventKind,
    /// The step it is about.
    pub step: Option<String>,
    /// See [`JobEvent::status`].
    pub status: Option<String>,
    /// In words.
    pub message: String,
    /// Extra detail.
    pub detail: Option<Value>,
}

impl NewEvent {
    /// An event with only a message.
    pub fn new(kind: EventKind, message: impl Into<String>) -> Self {
        Self {
            kind,
            step: None,
            status: None,
            message: message.into(),
            detail: None,
        }
    }

    /// The same event about `step`.
    pub fn step(mut self, step: impl Into<String>) -> Self {
        self.step = Some(step.into());
        self
    }

    /// The same event with `status`.
    pub fn status(mut self, status: impl Into<String>) -> Self {
        self.status = Some(status.into());
        self
    }

    /// The same event with `detail`.
    pub fn detail(mut self, detail: Value) -> Self {
        self.detail = Some(detail);
        self
    }
}
