//! Following a job, as a state machine: fed the worker's answers (batches
//! of events, snapshots of the job) and the time, it says what to show and,
//! once the job is final and every event is in, how it ended. No I/O here:
//! `watch` makes the requests, waits and writes the [`Line`]s.

use d1_vault::time::Timestamp;

use crate::common::CliError;
use crate::job_record::{Event, Events, Job, Progress, State};
use crate::json::Json;
use crate::outcome::conclude;
use crate::progress::{status_line, Meter};
use crate::render::human_duration;

/// A snapshot of the job is asked for at least this often (seconds) while
/// it runs, for its progress counters.
const SNAPSHOT_EVERY: f64 = 2.0;
/// Without a terminal, a progress line is written at most this often
/// (seconds), so a log shows the work alive without filling up.
pub const PLAIN_PROGRESS_EVERY: f64 = 30.0;

/// Something to show.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Line {
    /// For stdout: a `--json` line, or the final summary (which ends with
    /// its own newline).
    Out(String),
    /// For stderr, to stay: an event, a warning, a progress line without a
    /// terminal.
    Note(String),
    /// The progress line, redrawn in place on a terminal (stderr).
    Status(String),
}

/// How the lines are shown.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// `--json`: each event as one line on stdout, then the final job.
    Json,
    /// Words. `tty`: stderr is a terminal, so progress is one line redrawn.
    Human {
        /// Whether stderr is a terminal.
        tty: bool,
    },
}

/// What is known of a job being followed.
pub struct Follower {
    /// How the lines are shown.
    mode: Mode,
    /// The name given to `restore --confirm`, for the summary.
    database: Option<String>,
    /// The last snapshot of the job.
    job: Job,
    /// The sequence number of the last event seen.
    after: u64,
    /// The newest state known, from events or a snapshot.
    state: State,
    /// The step the job is in, as far as known.
    step: Option<String>,
    /// The newest counters known.
    progress: Progress,
    /// The counters over time, for the rate and ETA.
    meter: Meter,
    /// The last batch of events brought nothing new.
    drained: bool,
    /// When the last snapshot came in.
    snapshot_at: f64,
    /// When the last plain progress line was written (no terminal).
    plain_at: Option<f64>,
    /// The last plain progress line, not to repeat it.
    plain_last: Option<String>,
    /// How the job ended, until taken.
    conclusion: Option<Result<(), CliError>>,
}

impl Follower {
    /// Starts following `job` (as the worker last described it) at `now`;
    /// the lines to show first. `database` is the name given to `restore
    /// --confirm`, for the summary.
    pub fn new(job: Job, mode: Mode, database: Option<String>, now: f64) -> (Follower, Vec<Line>) {
        let mut follower = Follower {
            mode,
            database,
            after: 0,
            state: job.state.clone(),
            step: job.step.clone(),
            progress: job.progress,
            meter: Meter::default(),
            drained: false,
            snapshot_at: now,
            plain_at: None,
            plain_last: None,
            conclusion: None,
            job,
        };
        follower
            .meter
            .record(now, follower.step.as_deref(), follower.progress);
        let mut lines = Vec::new();
        if mode != Mode::Json {
            lines.push(Line::Note(format!(
                "Following {} job {} ({}). Ctrl-C stops following; the job goes on in the worker.",
                follower.job.kind, follower.job.id, follower.state
            )));
        }
        lines.extend(follower.progress_lines(now));
        (follower, lines)
    }

    /// The job's id.
    pub fn id(&self) -> &str {
        &self.job.id
    }

    /// The sequence number of the last event seen: ask for events after it.
    pub fn after(&self) -> u64 {
        self.after
    }

    /// Takes in a batch of events (`GET /v1/jobs/{id}/events?after=N`).
    pub fn events(&mut self, batch: Events, now: f64) -> Vec<Line> {
        let mut lines = Vec::new();
        // A repeated event (a retried request) is shown once; a batch of
        // nothing new means every event is in.
        self.drained = true;
        for event in batch.events {
            if event.seq <= self.after {
                continue;
            }
            self.drained = false;
            self.after = event.seq;
            if event.kind == "step_started" || event.kind == "progress" {
                if let Some(step) = &event.step {
                    self.step = Some(step.clone());
                }
            }
            if event.kind == "progress" {
                let counters = Progress::from_json(event.raw.get("progress").unwrap_or(&event.raw));
                if counters != Progress::default() {
                    self.progress = counters;
                    self.meter.record(now, self.step.as_deref(), counters);
                }
            }
            match self.mode {
                Mode::Json => lines.push(Line::Out(event.raw.compact())),
                Mode::Human { .. } => lines.extend(event_line(&event).map(Line::Note)),
            }
        }
        if let Some(state) = batch.state {
            self.state = state;
        }
        lines.extend(self.progress_lines(now));
        lines
    }

    /// Whether to ask for the job itself now: every few seconds while it
    /// runs, at once when its state changed, and once it is final only
    /// after every event is in.
    pub fn wants_snapshot(&self, now: f64) -> bool {
        if self.state.is_final() {
            self.drained
        } else {
            self.state != self.job.state || now - self.snapshot_at >= SNAPSHOT_EVERY
        }
    }

    /// Whether to ask for events again without waiting: the job is final
    /// but the last batch was not empty, so more may be waiting.
    pub fn hurry(&self) -> bool {
        self.state.is_final() && !self.drained
    }

    /// Takes in a snapshot of the job (`GET /v1/jobs/{id}`). A final job,
    /// with every event in, is concluded: see [`Follower::conclusion`].
    pub fn snapshot(&mut self, job: Job, now: f64) -> Vec<Line> {
        self.snapshot_at = now;
        self.state = job.state.clone();
        self.step = job.step.clone().or(self.step.take());
        if job.progress != Progress::default() {
            self.progress = job.progress;
            self.meter.record(now, self.step.as_deref(), job.progress);
        }
        self.job = job;
        if !(self.state.is_final() && self.drained) {
            return self.progress_lines(now);
        }
        let conclusion = conclude(&self.job, self.database.as_deref());
        self.conclusion = Some(conclusion.result);
        match self.mode {
            Mode::Json => vec![Line::Out(self.job.raw.compact())],
            Mode::Human { .. } => vec![Line::Note(String::new()), Line::Out(conclusion.text)],
        }
    }

    /// How the job ended, once: `Some` after the snapshot that concluded it.
    pub fn conclusion(&mut self) -> Option<Result<(), CliError>> {
        self.conclusion.take()
    }

    /// The progress as one line: redrawn on a terminal; without one, now
    /// and then when it changed; never with `--json`, nor once the job is
    /// final (the summary follows).
    fn progress_lines(&mut self, now: f64) -> Vec<Line> {
        if self.state.is_final() {
            return Vec::new();
        }
        let line = status_line(
            &self.job.kind,
            &self.state,
            self.step.as_deref(),
            &self.progress,
            self.meter.rate(),
        );
        match self.mode {
            Mode::Json => Vec::new(),
            Mode::Human { tty: true } => vec![Line::Status(line)],
            Mode::Human { tty: false } => {
                let due = self
                    .plain_at
                    .is_none_or(|at| now - at >= PLAIN_PROGRESS_EVERY);
                if !due || self.plain_last.as_ref() == Some(&line) {
                    return Vec::new();
                }
                self.plain_at = Some(now);
                self.plain_last = Some(line.clone());
                vec![Line::Note(line)]
            }
        }
    }
}

/// An event in words, after its time of day (UTC):
/// `02:00:04Z download finished in 2.5 s: 3 parts`. Progress events have
/// no line: they move the progress line. A finished step says how it ended
/// (`status`) and, when its `ms` (or its `detail`'s) says, how long it took
/// (not when it was skipped: it did not run); a state event says the job's
/// new state in its message (or `status`).
pub fn event_line(event: &Event) -> Option<String> {
    let step = event.step.as_deref().unwrap_or("job");
    // A message that only repeats the step's name adds nothing.
    let said = event
        .message
        .as_deref()
        .filter(|message| !message.is_empty() && Some(*message) != event.step.as_deref());
    let message = said.map_or_else(String::new, |message| format!(": {message}"));
    let body = match event.kind.as_str() {
        "progress" => return None,
        "step_started" => format!("{step} started{message}"),
        "step_finished" => {
            let verb = match event.text("status") {
                Some("failed") => "failed",
                Some("skipped") => "skipped",
                _ => "finished",
            };
            let ms = event
                .raw
                .get("ms")
                .or_else(|| event.raw.get("detail").and_then(|detail| detail.get("ms")));
            // A skipped step did not run: its `ms` (0) is no time it took.
            let took = ms
                .and_then(Json::as_u64)
                .filter(|_| verb != "skipped")
                .map_or_else(String::new, |ms| {
                    format!(" in {}", human_duration(ms as f64 / 1000.0))
                });
            format!("{step} {verb}{took}{message}")
        }
        "warning" => match &event.step {
            Some(step) => format!("warning ({step}){message}"),
            None => format!("warning{message}"),
        },
        "state" => match (said, event.text("status")) {
            (Some(said), _) => format!("job {said}"),
            (None, Some(state)) => format!("job {state}"),
            (None, None) => "job state changed".into(),
        },
        other => format!("{other}{message}"),
    };
    let time = event
        .at
        .as_deref()
        .and_then(|at| Timestamp::parse_rfc3339(at).ok())
        .map_or_else(String::new, |at| {
            let c = at.civil();
            format!("{:02}:{:02}:{:02}Z ", c.hour, c.minute, c.second)
        });
    Some(format!("{time}{body}"))
}

#[cfg(test)]
#[path = "follow_tests.rs"]
mod tests;
