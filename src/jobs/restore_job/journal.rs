//! What a validate or restore job has said: its step reports (for the
//! final report) and the events not yet handed to the job engine.
//!
//! Events wait in the job's checkpoint until [`Events::take_events`]
//! (the engine, which saves them with the checkpoint after every slice) or
//! [`Events::take_step_reports`] (the one-go runs, which hand them to a
//! [`Progress`](crate::jobs::restore::Progress)) takes them, so an event
//! is reported exactly once per saved slice.
//!
//! Invariants: a step's events come in order (started, then finished);
//! the report lists a step once, when it finishes; a step's time is
//! measured from its start, on the slices' clock.

use serde::{Deserialize, Serialize};

use super::super::engine::record::{EventKind, NewEvent};
use super::super::restore::{started, step_report, StepReport, StepStatus};
use crate::time::Timestamp;

/// One event not yet taken.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Pending {
    /// A step began or ended; `rollback` marks the rollback's steps.
    Step { report: StepReport, rollback: bool },
    /// Something an operator should know.
    Warning(String),
}

/// Events not yet taken, in order.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Events(Vec<Pending>);

impl Events {
    /// Adds a step event.
    pub fn step(&mut self, report: StepReport, rollback: bool) {
        self.0.push(Pending::Step { report, rollback });
    }

    /// Adds a warning.
    pub fn warning(&mut self, message: impl Into<String>) {
        self.0.push(Pending::Warning(message.into()));
    }

    /// Moves every event of `other` after these.
    pub fn append(&mut self, other: &mut Events) {
        self.0.append(&mut other.0);
    }

    /// Takes the events, as the job engine records them.
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        std::mem::take(&mut self.0)
            .into_iter()
            .map(|pending| match pending {
                Pending::Step { report, rollback } => step_event(&report, rollback),
                Pending::Warning(message) => NewEvent::new(EventKind::Warning, message),
            })
            .collect()
    }

    /// Takes the events, keeping the step reports and whether each is the
    /// rollback's (the one-go runs' progress has no warnings).
    pub fn take_step_reports(&mut self) -> Vec<(StepReport, bool)> {
        std::mem::take(&mut self.0)
            .into_iter()
            .filter_map(|pending| match pending {
                Pending::Step { report, rollback } => Some((report, rollback)),
                Pending::Warning(_) => None,
            })
            .collect()
    }
}

/// A step event as the engine records it, the report as its detail.
fn step_event(report: &StepReport, rollback: bool) -> NewEvent {
    let (kind, status) = match report.status {
        StepStatus::Started => (EventKind::StepStarted, None),
        StepStatus::Passed => (EventKind::StepFinished, Some("passed")),
        StepStatus::Failed => (EventKind::StepFinished, Some("failed")),
        StepStatus::Skipped => (EventKind::StepFinished, Some("skipped")),
    };
    let prefix = if rollback { "rollback " } else { "" };
    let mut message = format!(
        "{prefix}step {} ({}) {}",
        report.step,
        report.name,
        status.unwrap_or("started")
    );
    if !report.detail.is_empty() {
        message.push_str(": ");
        message.push_str(&report.detail);
    }
    let step = if rollback {
        format!("rollback: {}", report.name)
    } else {
        report.name.clone()
    };
    let mut event = NewEvent::new(kind, message).step(step);
    if let Some(status) = status {
        event = event.status(status);
    }
    match serde_json::to_value(report) {
        Ok(detail) => event.detail(detail),
        Err(_) => event,
    }
}

/// A restore's steps so far and its pending events.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Journal {
    /// The restore's steps that ended, in order.
    pub steps: Vec<StepReport>,
    /// The rollback's steps that ended, once a rollback began.
    pub rollback: Option<Vec<StepReport>>,
    /// When the step under way began.
    since: Option<Timestamp>,
    /// Events not yet taken.
    pub events: Events,
}

impl Journal {
    /// Step `step` begins now.
    pub fn start(&mut self, step: u8, rollback: bool, now: Timestamp) {
        self.since = Some(now);
        self.events.step(started(step), rollback);
    }

    /// Step `step` ends now with `status`: reported with the time since it
    /// began.
    pub fn end(
        &mut self,
        step: u8,
        status: StepStatus,
        detail: impl Into<String>,
        rollback: bool,
        now: Timestamp,
    ) {
        let ms = self
            .since
            .take()
            .map_or(0, |since| now.as_millis() - since.as_millis());
        self.record(step_report(step, status, detail, ms), rollback);
    }

    /// Reports a finished step as it is.
    pub fn record(&mut self, report: StepReport, rollback: bool) {
        self.events.step(report.clone(), rollback);
        if rollback {
            self.rollback.get_or_insert_with(Vec::new).push(report);
        } else {
            self.steps.push(report);
        }
    }

    /// Reports steps `first` to 10 as not run, with `detail`.
    pub fn skip_from(&mut self, first: u8, detail: &str) {
        for step in first..=10 {
            self.record(step_report(step, StepStatus::Skipped, detail, 0), false);
        }
    }
}
