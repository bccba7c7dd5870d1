//! The job engine: one owner of every job, advancing them one slice at a time.
//!
//! The Durable Object at the edge is a thin driver: on a request it calls
//! [`submit`], [`cancel`] or reads the book; on an alarm it calls
//! [`begin_slice`], runs one slice of the job it names, and hands the result
//! to [`end_slice`]; then it sets the next alarm if [`owes_alarm`]. All of the
//! rules live here, pure and testable with a [`MemoryBook`](book::MemoryBook):
//!
//! - Exclusive jobs ([`JobKind::exclusive`]) never overlap. A manual request
//!   while one is unfinished is refused with the job that blocks it (409);
//!   a scheduled one is queued behind it, never skipped. Jobs run one at a
//!   time, oldest first.
//! - A slice's attempt is recorded before the slice does any work, so a slice
//!   that dies (the runtime killed, the isolate evicted) is seen at the next
//!   entry and run again from the last checkpoint. After [`MAX_ATTEMPTS`]
//!   attempts in a row without a good end, the job is given up: the driver
//!   asks the kind to clean up (or to roll back) and the job ends failed.
//! - A slice's result (record, events, checkpoint) is saved in one go.
//! - A cancellation of a queued job ends it at once; of a running job, it is
//!   seen by the next slice, which asks the kind to stop cleanly.

pub mod book;
pub mod record;

use crate::time::Timestamp;
use book::{BookError, JobBook};
use record::{EventKind, JobKind, JobProgress, JobRecord, JobState, NewEvent, Origin};
use serde_json::Value;

/// Attempts of one slice (dead or failed) before the job is given up.
pub const MAX_ATTEMPTS: u32 = 5;
/// How long final jobs' records and events are kept.
pub const RECORD_RETENTION_MS: i64 = 30 * 86_400_000;
/// Records served by `GET /v1/jobs` at most.
pub const MAX_LISTED_JOBS: usize = 100;
/// Events served per `GET /v1/jobs/{id}/events` at most.
pub const MAX_EVENTS_PER_READ: usize = 500;

/// A job to start.
#[derive(Debug, Clone)]
pub struct NewJob {
    /// Its id.
    pub id: String,
    /// What it does.
    pub kind: JobKind,
    /// Who asked.
    pub origin: Origin,
    /// The kind's parameters.
    pub params: Value,
}

/// What became of a submitted job.
#[derive(Debug, Clone, PartialEq)]
pub enum Submission {
    /// Stored as queued; it runs when the jobs before it have ended.
    Accepted(JobRecord),
    /// Refused: this exclusive job is unfinished.
    Conflict(JobRecord),
}

/// Stores `job` as queued, or refuses it (see the module's rules).
pub fn submit(book: &impl JobBook, job: NewJob, now: Timestamp) -> Result<Submission, BookError> {
    let unfinished = book.unfinished()?;
    let blocking = unfinished.iter().find(|r| r.kind.exclusive());
    if let (true, Origin::Manual, Some(blocking)) = (job.kind.exclusive(), job.origin, blocking) {
        return Ok(Submission::Conflict(blocking.clone()));
    }
    let record = JobRecord {
        id: job.id,
        kind: job.kind,
        origin: job.origin,
        state: JobState::Queued,
        step: None,
        progress: JobProgress::default(),
        slices: 0,
        attempts: 0,
        created_at: now,
        started_at: None,
        updated_at: now,
        finished_at: None,
        error: None,
        report: None,
        cancel_requested: false,
        params: job.params,
    };
    let message = match unfinished.last() {
        Some(before) => format!("queued behind {} job {}", before.kind.as_str(), before.id),
        None => "queued".to_owned(),
    };
    book.save(&record)?;
    book.append(
        &record.id,
        now,
        &[NewEvent::new(EventKind::State, message).status(JobState::Queued.as_str())],
    )?;
    Ok(Submission::Accepted(record))
}

/// What the next slice must do.
#[derive(Debug, Clone, PartialEq)]
pub enum Next {
    /// No job is unfinished.
    Idle,
    /// Run one slice of the job from its checkpoint.
    Run(Ticket),
    /// An operator cancelled the job: stop it cleanly.
    Cancel(Ticket),
    /// The job's slices kept dying or failing: end it (rolling back if it
    /// must).
    GiveUp(Ticket),
}

/// The job a slice is for, and where it stands.
#[derive(Debug, Clone, PartialEq)]
pub struct Ticket {
    /// The record, with this attempt counted.
    pub record: JobRecord,
    /// The last saved checkpoint; `None` before the first slice ended.
    pub checkpoint: Option<Vec<u8>>,
}

/// Picks the job the next slice is for (the running one, else the oldest
/// queued), records the attempt, and says what to do.
pub fn begin_slice(book: &impl JobBook, now: Timestamp) -> Result<Next, BookError> {
    let unfinished = book.unfinished()?;
    let Some(mut record) = unfinished
        .iter()
        .find(|r| r.state == JobState::Running)
        .or(unfinished.first())
        .cloned()
    else {
        return Ok(Next::Idle);
    };
    let mut events = Vec::new();
    if record.state == JobState::Queued {
        record.state = JobState::Running;
        record.started_at = Some(now);
        events.push(NewEvent::new(EventKind::State, "started").status(JobState::Running.as_str()));
    }
    record.attempts += 1;
    record.updated_at = now;
    book.save(&record)?;
    book.append(&record.id, now, &events)?;
    let ticket = Ticket {
        checkpoint: book.checkpoint(&record.id)?,
        record,
    };
    Ok(if ticket.record.cancel_requested {
        Next::Cancel(ticket)
    } else if ticket.record.attempts > MAX_ATTEMPTS {
        Next::GiveUp(ticket)
    } else {
        Next::Run(ticket)
    })
}

/// How a slice ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceOutcome {
    /// Work remains: save this checkpoint and run the next slice.
    Continue {
        /// The state to resume from.
        checkpoint: Vec<u8>,
    },
    /// The job ended.
    Finished {
        /// Its final state.
        state: JobState,
        /// Why, when it did not succeed.
        error: Option<String>,
        /// The kind's report.
        report: Option<Value>,
    },
    /// The slice failed in a way worth retrying (a transient R2 or D1
    /// error): the checkpoint stays as it was.
    Retry {
        /// What failed.
        error: String,
    },
}

/// A slice's result, as the kind reports it.
#[derive(Debug, Clone, PartialEq)]
pub struct SliceResult {
    /// How it ended.
    pub outcome: SliceOutcome,
    /// The step it is in now.
    pub step: Option<String>,
    /// Work done and to do.
    pub progress: JobProgress,
    /// What happened during the slice.
    pub events: Vec<NewEvent>,
}

/// Saves a slice's result: record, events and checkpoint together. Returns
/// the updated record.
pub fn end_slice(
    book: &impl JobBook,
    ticket: Ticket,
    result: SliceResult,
    now: Timestamp,
) -> Result<JobRecord, BookError> {
    let mut record = ticket.record;
    // A cancellation may have arrived while the slice ran.
    if let Some(current) = book.get(&record.id)? {
        record.cancel_requested |= current.cancel_requested;
    }
    let mut events = result.events;
    record.updated_at = now;
    record.step = result.step.or(record.step);
    record.progress = result.progress;
    match result.outcome {
        SliceOutcome::Continue { checkpoint } => {
            record.slices += 1;
            record.attempts = 0;
            record.error = None;
            book.set_checkpoint(&record.id, Some(&checkpoint))?;
        }
        SliceOutcome::Finished {
            state,
            error,
            report,
        } => {
            record.slices += 1;
            record.attempts = 0;
            record.state = state;
            record.finished_at = Some(now);
            record.error = error;
            record.report = report;
            let message = match &record.error {
                Some(error) => format!("{}: {error}", state.as_str()),
                None => state.as_str().to_owned(),
            };
            events.push(NewEvent::new(EventKind::State, message).status(state.as_str()));
            book.set_checkpoint(&record.id, None)?;
        }
        SliceOutcome::Retry { error } => {
            events.push(NewEvent::new(
                EventKind::Retry,
                format!(
                    "attempt {} of {MAX_ATTEMPTS} failed, retrying from the last checkpoint: {error}",
                    record.attempts
                ),
            ));
            record.error = Some(error);
        }
    }
    book.append(&record.id, now, &events)?;
    book.save(&record)?;
    Ok(record)
}

/// What a cancellation did.
#[derive(Debug, Clone, PartialEq)]
pub enum Cancellation {
    /// No such job.
    NotFound,
    /// The job had already ended; nothing changed.
    AlreadyFinal(JobRecord),
    /// The job was queued and is now cancelled.
    Cancelled(JobRecord),
    /// The job runs; its next slice stops it.
    Requested(JobRecord),
}

/// Cancels `id` (see the module's rules).
pub fn cancel(book: &impl JobBook, id: &str, now: Timestamp) -> Result<Cancellation, BookError> {
    let Some(mut record) = book.get(id)? else {
        return Ok(Cancellation::NotFound);
    };
    if record.state.is_final() {
        return Ok(Cancellation::AlreadyFinal(record));
    }
    record.updated_at = now;
    let queued = record.state == JobState::Queued;
    let event = if queued {
        record.state = JobState::Cancelled;
        record.finished_at = Some(now);
        NewEvent::new(EventKind::State, "cancelled before it started")
            .status(JobState::Cancelled.as_str())
    } else {
        record.cancel_requested = true;
        NewEvent::new(
            EventKind::State,
            "cancellation requested; the next slice stops the job",
        )
    };
    book.save(&record)?;
    book.append(id, now, &[event])?;
    Ok(if queued {
        Cancellation::Cancelled(record)
    } else {
        Cancellation::Requested(record)
    })
}

/// Whether a job is unfinished, so an alarm must be set.
pub fn owes_alarm(book: &impl JobBook) -> Result<bool, BookError> {
    Ok(!book.unfinished()?.is_empty())
}

/// How long to wait before the next slice of a job whose last `attempts`
/// slices failed: at once after a good slice, then 1, 2, 4 … s, at most 30 s.
pub fn retry_delay_ms(attempts: u32) -> i64 {
    match attempts {
        0 => 0,
        n => (1_000i64 << (n - 1).min(5)).min(30_000),
    }
}

#[cfg(test)]
mod tests;
