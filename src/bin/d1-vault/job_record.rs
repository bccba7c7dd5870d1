//! A job and its events as the worker serves them (`GET /v1/jobs/{id}`,
//! `GET /v1/jobs/{id}/events`), read into types the follower and the
//! commands can match on. The raw JSON is kept beside the typed fields, so
//! `--json` prints what the worker sent, in its key order.
//!
//! Only `id`, `kind` and `state` of a job, and `seq` and `kind` of an event,
//! are required; every other field may be missing or null (a queued job has
//! no step and no totals yet), and fields this CLI does not know are kept in
//! the raw JSON only.

use std::fmt;

use d1_vault::time::Timestamp;

use crate::common::CliError;
use crate::json::Json;

/// Where a job stands, as the worker spells it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum State {
    /// Waiting for the worker to start it (behind another job, or for an alarm).
    Queued,
    /// Running, slice by slice.
    Running,
    /// Ended well.
    Succeeded,
    /// Ended with an error; for a restore, before it changed the database.
    Failed,
    /// A restore failed while writing, and the safety backup was put back.
    RolledBack,
    /// A restore failed while writing, and putting the safety backup back failed too.
    RollbackFailed,
    /// Stopped by `POST /v1/jobs/{id}/cancel`.
    Cancelled,
    /// A state this CLI does not know (a newer worker): shown as it is,
    /// treated as not final.
    Other(String),
}

impl State {
    /// The state for the worker's word.
    pub fn parse(word: &str) -> State {
        match word {
            "queued" => State::Queued,
            "running" => State::Running,
            "succeeded" => State::Succeeded,
            "failed" => State::Failed,
            "rolled_back" => State::RolledBack,
            "rollback_failed" => State::RollbackFailed,
            "cancelled" => State::Cancelled,
            other => State::Other(other.to_owned()),
        }
    }

    /// The worker's word for this state.
    pub fn as_str(&self) -> &str {
        match self {
            State::Queued => "queued",
            State::Running => "running",
            State::Succeeded => "succeeded",
            State::Failed => "failed",
            State::RolledBack => "rolled_back",
            State::RollbackFailed => "rollback_failed",
            State::Cancelled => "cancelled",
            State::Other(word) => word,
        }
    }

    /// Whether the job has ended: nothing about it changes any more.
    pub fn is_final(&self) -> bool {
        matches!(
            self,
            State::Succeeded
                | State::Failed
                | State::RolledBack
                | State::RollbackFailed
                | State::Cancelled
        )
    }
}

impl fmt::Display for State {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// How far a job has got. Totals are unknown (`None`) until the worker knows
/// them, e.g. the rows of a backup before its first pass.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Progress {
    /// Bytes processed so far.
    pub bytes_done: Option<u64>,
    /// Bytes in all.
    pub bytes_total: Option<u64>,
    /// Rows processed so far.
    pub rows_done: Option<u64>,
    /// Rows in all.
    pub rows_total: Option<u64>,
}

impl Progress {
    /// The four counters of `value` (a job's `progress`, or a progress
    /// event); missing or null ones are `None`.
    pub fn from_json(value: &Json) -> Progress {
        let number = |name: &str| value.get(name).and_then(Json::as_u64);
        Progress {
            bytes_done: number("bytes_done"),
            bytes_total: number("bytes_total"),
            rows_done: number("rows_done"),
            rows_total: number("rows_total"),
        }
    }

    /// Whether any counter is known.
    pub fn is_known(&self) -> bool {
        self.bytes_done.is_some() || self.rows_done.is_some()
    }
}

/// One job record.
#[derive(Debug, Clone, PartialEq)]
pub struct Job {
    /// The job's id, for `d1-vault job <id>`.
    pub id: String,
    /// backup, validate, restore, import, rollback or prune.
    pub kind: String,
    /// Where it stands.
    pub state: State,
    /// The step it is in (or ended in).
    pub step: Option<String>,
    /// How far it has got.
    pub progress: Progress,
    /// When it was asked for.
    pub created_at: Option<String>,
    /// When its first slice ran.
    pub started_at: Option<String>,
    /// When its record last changed.
    pub updated_at: Option<String>,
    /// When it ended.
    pub finished_at: Option<String>,
    /// Why it failed, in words (the worker's text, or its error's message).
    pub error: Option<String>,
    /// What it produced, once final: a backup's manifest, a validation or
    /// restore report.
    pub report: Option<Json>,
    /// The job as the worker sent it.
    pub raw: Json,
}

impl Job {
    /// The job in an answer: `{"job": {...}}` or the job itself. `request`
    /// (`METHOD url`) names the answer in the error for anything else.
    pub fn from_answer(answer: &Json, request: &str) -> Result<Job, CliError> {
        let raw = match answer.get("job") {
            Some(job @ Json::Object(_)) => job,
            _ => answer,
        };
        let field = |name: &str| raw.get(name).and_then(Json::as_str).map(str::to_owned);
        let required = |name: &str| field(name).ok_or_else(|| not_a(request, "job", name));
        Ok(Job {
            id: required("id")?,
            kind: required("kind")?,
            state: State::parse(&required("state")?),
            step: field("step"),
            progress: raw
                .get("progress")
                .map(Progress::from_json)
                .unwrap_or_default(),
            created_at: field("created_at"),
            started_at: field("started_at"),
            updated_at: field("updated_at"),
            finished_at: field("finished_at"),
            error: raw.get("error").and_then(error_text),
            report: raw.get("report").filter(|r| **r != Json::Null).cloned(),
            raw: raw.clone(),
        })
    }

    /// The jobs in an answer to `GET /v1/jobs`: `{"jobs":[...]}`, newest first.
    pub fn list_from_answer(answer: &Json, request: &str) -> Result<Vec<Job>, CliError> {
        let Some(Json::Array(items)) = answer.get("jobs") else {
            return Err(not_a(request, "list of jobs", "jobs"));
        };
        items
            .iter()
            .map(|item| Job::from_answer(item, request))
            .collect()
    }

    /// Seconds from its start (or, never started, its creation) to its end,
    /// or to `updated_at` while it runs; `None` when the times are missing
    /// or not RFC 3339.
    pub fn seconds(&self) -> Option<f64> {
        let from = self.started_at.as_deref().or(self.created_at.as_deref())?;
        let to = self.finished_at.as_deref().or(self.updated_at.as_deref())?;
        let millis = |at: &str| Timestamp::parse_rfc3339(at).ok().map(Timestamp::as_millis);
        Some((millis(to)? - millis(from)?).max(0) as f64 / 1000.0)
    }
}

/// A job's `error` in words: a string as it is; an object by its `message`
/// (and `code`); null as none.
fn error_text(value: &Json) -> Option<String> {
    match value {
        Json::Null => None,
        Json::String(text) => Some(text.clone()),
        Json::Object(_) => {
            let field = |name| value.get(name).and_then(Json::as_str);
            match (field("message"), field("code")) {
                (Some(message), Some(code)) => Some(format!("{message} ({code})")),
                (Some(message), None) => Some(message.to_owned()),
                (None, Some(code)) => Some(code.to_owned()),
                (None, None) => Some(crate::render::text(Some(value))),
            }
        }
        other => Some(crate::render::text(Some(other))),
    }
}

/// One event of a job.
#[derive(Debug, Clone, PartialEq)]
pub struct Event {
    /// Its sequence number: the next poll asks for events after it.
    pub seq: u64,
    /// When it happened, RFC 3339.
    pub at: Option<String>,
    /// step_started, step_finished, warning, progress or state (others are
    /// shown as they are).
    pub kind: String,
    /// The step it is about.
    pub step: Option<String>,
    /// What happened, in words.
    pub message: Option<String>,
    /// The event as the worker sent it.
    pub raw: Json,
}

impl Event {
    /// A field of the raw event as text, if it is a string.
    pub fn text(&self, name: &str) -> Option<&str> {
        self.raw.get(name).and_then(Json::as_str)
    }
}

/// An answer to `GET /v1/jobs/{id}/events?after=N`.
#[derive(Debug, Clone, PartialEq)]
pub struct Events {
    /// The events after N, oldest first.
    pub events: Vec<Event>,
    /// The job's state when the worker answered, if it said.
    pub state: Option<State>,
}

impl Events {
    /// Reads `{"events":[...],"state":"..."}`; `request` names the answer
    /// in errors.
    pub fn from_answer(answer: &Json, request: &str) -> Result<Events, CliError> {
        let Some(Json::Array(items)) = answer.get("events") else {
            return Err(not_a(request, "list of events", "events"));
        };
        let events = items
            .iter()
            .map(|raw| {
                let field = |name: &str| raw.get(name).and_then(Json::as_str).map(str::to_owned);
                Ok(Event {
                    seq: raw
                        .get("seq")
                        .and_then(Json::as_u64)
                        .ok_or_else(|| not_a(request, "event", "seq"))?,
                    at: field("at"),
                    kind: field("kind").ok_or_else(|| not_a(request, "event", "kind"))?,
                    step: field("step"),
                    message: field("message"),
                    raw: raw.clone(),
                })
            })
            .collect::<Result<Vec<_>, CliError>>()?;
        let state = answer.get("state").and_then(Json::as_str).map(State::parse);
        Ok(Events { events, state })
    }
}

/// The error for an answer that lacks a field the contract requires.
fn not_a(request: &str, what: &str, field: &str) -> CliError {
    CliError::Io(format!(
        "the answer to {request} is not a {what} (no \"{field}\"): is the worker the same \
         version as this CLI ({})?",
        env!("CARGO_PKG_VERSION")
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn parse(text: &str) -> Json {
        Json::parse(text.as_bytes()).unwrap()
    }

    #[test]
    fn reads_a_job_wrapped_or_bare() {
        let bare = r#"{"id":"j1","kind":"backup","state":"running","step":"dump",
            "progress":{"bytes_done":10,"bytes_total":null,"rows_done":2,"rows_total":5},
            "slices":3,"attempts":1,"created_at":"2026-11-21T02:00:00.000Z",
            "started_at":"2026-11-21T02:00:01.000Z","updated_at":"2026-11-21T02:00:31.500Z",
            "finished_at":null,"error":null,"report":null}"#;
        let job = Job::from_answer(&parse(bare), "GET x").unwrap();
        let wrapped = Job::from_answer(&parse(&format!(r#"{{"job":{bare}}}"#)), "GET x").unwrap();
        assert_eq!(job, wrapped);
        assert_eq!(job.id, "j1");
        assert_eq!(job.state, State::Running);
        assert_eq!(job.step.as_deref(), Some("dump"));
        assert_eq!(
            job.progress,
            Progress {
                bytes_done: Some(10),
                bytes_total: None,
                rows_done: Some(2),
                rows_total: Some(5)
            }
        );
        assert_eq!(job.report, None);
        assert_eq!(job.error, None);
        assert_eq!(job.seconds(), Some(30.5));
    }

    #[test]
    fn reads_a_list_of_jobs() {
        let answer = parse(
            r#"{"jobs":[{"id":"j2","kind":"restore","state":"running"},
                {"id":"j1","kind":"backup","state":"succeeded"}]}"#,
        );
        let jobs = Job::list_from_answer(&answer, "GET l").unwrap();
        let ids: Vec<&str> = jobs.iter().map(|job| job.id.as_str()).collect();
        assert_eq!(ids, ["j2", "j1"]);
        assert!(Job::list_from_answer(&parse(r#"{"job":{}}"#), "GET l").is_err());
    }

    #[test]
    fn error_may_be_text_or_an_api_error() {
        let job = |error: &str| {
            Job::from_answer(
                &parse(&format!(
                    r#"{{"id":"j","kind":"restore","state":"failed","error":{error}}}"#
                )),
                "GET x",
            )
            .unwrap()
            .error
        };
        assert_eq!(job(r#""disk full""#).as_deref(), Some("disk full"));
        assert_eq!(
            job(r#"{"code":"import_failed","message":"batch 3 failed"}"#).as_deref(),
            Some("batch 3 failed (import_failed)")
        );
        assert_eq!(job("null"), None);
    }

    #[test]
    fn a_job_without_its_required_fields_is_refused_with_the_request() {
        let err = Job::from_answer(&parse(r#"{"id":"j","state":"queued"}"#), "GET /v1/jobs/j")
            .unwrap_err();
        assert!(matches!(err, CliError::Io(_)));
        assert!(err.to_string().contains("GET /v1/jobs/j"), "{err}");
        assert!(err.to_string().contains("\"kind\""), "{err}");
    }

    #[test]
    fn states_know_which_are_final() {
        let finals = [
            "succeeded",
            "failed",
            "rolled_back",
            "rollback_failed",
            "cancelled",
        ];
        for word in finals {
            assert!(State::parse(word).is_final(), "{word}");
            assert_eq!(State::parse(word).as_str(), word);
        }
        for word in ["queued", "running", "paused"] {
            assert!(!State::parse(word).is_final(), "{word}");
        }
        assert_eq!(State::parse("paused"), State::Other("paused".into()));
    }

    #[test]
    fn reads_events_and_the_state_beside_them() {
        let answer = parse(
            r#"{"events":[{"seq":4,"at":"2026-11-21T02:00:02.000Z","kind":"step_started",
                "step":"download","message":"reading 3 parts","status":"started"},
                {"seq":5,"kind":"warning","message":"slow"}],"state":"running"}"#,
        );
        let events = Events::from_answer(&answer, "GET e").unwrap();
        assert_eq!(events.state, Some(State::Running));
        assert_eq!(events.events.len(), 2);
        assert_eq!(events.events[0].seq, 4);
        assert_eq!(events.events[0].step.as_deref(), Some("download"));
        assert_eq!(events.events[0].text("status"), Some("started"));
        assert_eq!(events.events[1].at, None);
        assert!(Events::from_answer(&parse(r#"{"events":[{"kind":"x"}]}"#), "GET e").is_err());
        assert!(Events::from_answer(&parse(r#"{"jobs":[]}"#), "GET e").is_err());
    }
}
