//! Follows a job to its end over HTTP: asks for its new events every
//! second (`GET /v1/jobs/{id}/events?after=N`) and for the job itself every
//! few (`GET /v1/jobs/{id}`; not at all when the events come with the job
//! beside them, as `"job"`), feeds the answers to the [`Follower`] and
//! shows what it says. A poll that fails for want of an answer (or with
//! HTTP 408, 429 or 5xx) is tried again with backoff for up to ten minutes
//! ([`Retry`]); any other refusal ends following at once. Ctrl-C ends
//! following too, never the job.

use std::io::{self, IsTerminal};
use std::thread;
use std::time::{Duration, Instant};

use crate::common::CliError;
use crate::follow::{Follower, Line, Mode};
use crate::interrupt;
use crate::job_record::{Events, Job};
use crate::json::Json;
use crate::remote::{escape, Client};
use crate::retry::{Next, Retry};
use crate::screen::Screen;

/// How long one poll may take in all before it counts as failed.
pub const POLL_TIMEOUT: Duration = Duration::from_secs(20);
/// The pause between two polls of a running job.
const POLL_EVERY: Duration = Duration::from_secs(1);
/// How often a pause looks at the Ctrl-C flag.
const TICK: Duration = Duration::from_millis(100);

/// Why a poll failed.
enum Failed {
    /// No answer, or one worth trying again (408, 429, 5xx): the reason.
    Transient(String),
    /// A refusal or an answer this CLI cannot read: following ends.
    Fatal(CliError),
}

/// Follows `job` until it is final and returns how it ended: `Ok` for a job
/// that did what was asked. `client` should have [`POLL_TIMEOUT`];
/// `database` is the name given to `restore --confirm`.
pub fn watch(
    client: &Client,
    job: Job,
    json: bool,
    database: Option<String>,
) -> Result<(), CliError> {
    let mode = if json {
        Mode::Json
    } else {
        Mode::Human {
            tty: io::stderr().is_terminal(),
        }
    };
    let clock = Instant::now();
    let now = || clock.elapsed().as_secs_f64();
    interrupt::install();
    let mut screen = Screen::new();
    let (mut follower, lines) = Follower::new(job, mode, database, now());
    screen.show(lines)?;
    let mut retry = Retry::default();
    loop {
        if interrupt::requested() {
            screen.clear()?;
            return Err(stopped(follower.id()));
        }
        let failed = match poll(client, &mut follower, &mut screen, &mut retry, &now) {
            Ok(()) => None,
            Err(Failed::Fatal(err)) => Some(Next::Stop(err)),
            Err(Failed::Transient(reason)) => Some(retry.failed(now(), &reason, follower.id())),
        };
        match failed {
            None => {}
            Some(Next::Wait { seconds, note }) => {
                screen.show(vec![Line::Note(note)])?;
                pause(Duration::from_secs_f64(seconds));
                continue;
            }
            Some(Next::Stop(err)) => {
                screen.clear()?;
                return Err(err);
            }
        }
        if let Some(result) = follower.conclusion() {
            screen.clear()?;
            return result;
        }
        if !follower.hurry() {
            pause(POLL_EVERY);
        }
    }
}

/// One round: the new events, then the job if the follower wants it.
fn poll(
    client: &Client,
    follower: &mut Follower,
    screen: &mut Screen,
    retry: &mut Retry,
    now: &dyn Fn() -> f64,
) -> Result<(), Failed> {
    let id = escape(follower.id());
    let path = format!("/v1/jobs/{id}/events?after={}", follower.after());
    let (answer, request) = get(client, &path)?;
    if let Some(note) = retry.answered(now()) {
        screen.show(vec![Line::Note(note)]).map_err(Failed::Fatal)?;
    }
    let batch = Events::from_answer(&answer, &request).map_err(Failed::Fatal)?;
    // A worker may send the job beside its events: one request fewer.
    let beside = match answer.get("job") {
        Some(Json::Object(_)) => Some(Job::from_answer(&answer, &request).map_err(Failed::Fatal)?),
        _ => None,
    };
    let lines = follower.events(batch, now());
    screen.show(lines).map_err(Failed::Fatal)?;
    if let Some(job) = beside {
        let lines = follower.snapshot(job, now());
        screen.show(lines).map_err(Failed::Fatal)?;
    } else if follower.wants_snapshot(now()) {
        let (answer, request) = get(client, &format!("/v1/jobs/{id}"))?;
        let job = Job::from_answer(&answer, &request).map_err(Failed::Fatal)?;
        let lines = follower.snapshot(job, now());
        screen.show(lines).map_err(Failed::Fatal)?;
    }
    Ok(())
}

/// `GET path` as JSON, with the request's name; failures sorted into worth
/// trying again or not.
fn get(client: &Client, path: &str) -> Result<(Json, String), Failed> {
    let reply = match client.get(path) {
        Ok(reply) => reply,
        // No answer at all: the network, DNS, a timeout.
        Err(CliError::Io(reason)) => return Err(Failed::Transient(reason)),
        Err(err) => return Err(Failed::Fatal(err)),
    };
    if reply.worth_retrying() {
        return Err(Failed::Transient(reply.error().to_string()));
    }
    if !reply.status.is_success() {
        return Err(Failed::Fatal(reply.error()));
    }
    // A 2xx that is not JSON, from the worker that just answered with JSON,
    // is a proxy's page or a cut body: try again.
    let answer = reply
        .json()
        .map_err(|err| Failed::Transient(err.to_string()))?;
    Ok((answer, reply.request().to_owned()))
}

/// Waits `duration`, or less if Ctrl-C is pressed.
pub fn pause(duration: Duration) {
    let end = Instant::now() + duration;
    while !interrupt::requested() {
        let left = end.saturating_duration_since(Instant::now());
        if left.is_zero() {
            return;
        }
        thread::sleep(left.min(TICK));
    }
}

/// The error for Ctrl-C: following stopped, the job did not.
fn stopped(id: &str) -> CliError {
    CliError::Interrupted(format!(
        "stopped following job {id}; it goes on in the worker: follow it again with \
         'd1-vault job {id} --follow', or cancel it with 'd1-vault cancel {id}'"
    ))
}
