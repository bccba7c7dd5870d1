//! Starting a job (backup, validate, restore, import): the request that the
//! worker answers `202` with the job, a `409` that names the job in the way
//! and what to do about it, `--no-wait`, and then following the job to its
//! end.

use std::time::Duration;

use ureq::http::StatusCode;

use crate::common::CliError;
use crate::job_record::{Job, State};
use crate::remote::{Auth, Client, RemoteArgs, Reply};
use crate::render::write_stdout;
use crate::watch::{watch, POLL_TIMEOUT};

/// Usage text on following, for the commands that start a job.
macro_rules! following {
    () => {
        "The worker runs the job in the background, slice by slice, and the CLI
follows it: each step on stderr as it starts and finishes, and a progress
line (step, bytes and rows done, rate, time left) redrawn in place on a
terminal, or written every 30 s otherwise; then the summary on stdout. If
the worker cannot be reached for a while, the CLI tries again for up to 10
minutes. Ctrl-C stops following, not the job: follow it again with
'd1-vault job <id> --follow', stop it with 'd1-vault cancel <id>'. If
another backup, restore or import is running, the worker answers 409 and
starts nothing: the message names that job.
"
    };
}
pub(crate) use following;

/// Usage text for the options of the commands that start a job.
macro_rules! job_options {
    () => {
        "      --no-wait          do not follow: print the job's id (with --json, the
                         job) once the worker has accepted it, and exit 0
      --json             print each of the job's events as one JSON line, as
                         the worker sent it, then the final job as the last
                         line (its \"report\" holds the result)
"
    };
}
pub(crate) use job_options;

/// Usage text for the exit statuses of the commands that start a job.
macro_rules! job_exit_status {
    () => {
        "Exit status: 0 the job succeeded (or, with --no-wait, was accepted); 1 the
worker refused the request (any HTTP 4xx or 5xx, e.g. 409 while another job
runs), or the job ended failed, rolled_back, rollback_failed or cancelled;
2 usage error; 3 no URL or token, or the worker could not be reached (while
following: for 10 minutes; the job goes on); 130 Ctrl-C stopped following
(the job goes on).
"
    };
}
pub(crate) use job_exit_status;

/// How to start a job and what to do once it is accepted.
pub struct Start<'a> {
    /// `--url`, `--token`, `--json`.
    pub remote: &'a RemoteArgs,
    /// `--no-wait`: print the job and exit.
    pub no_wait: bool,
    /// The database named with `restore --confirm`, for the summary.
    pub database: Option<String>,
    /// The limit on the starting request as a whole (`None`: as long as the
    /// worker takes).
    pub timeout: Option<Duration>,
}

/// Sends the request that starts a job with `send`, then follows the job
/// to its end (or, with `--no-wait`, prints it). `Ok` when the job
/// succeeded; the worker's refusal, or how the job failed, otherwise.
pub fn start(
    start: Start<'_>,
    send: impl FnOnce(&Client) -> Result<Reply, CliError>,
) -> Result<(), CliError> {
    let client = start.remote.client(Auth::Token, start.timeout)?;
    let poll = start.remote.client(Auth::Token, Some(POLL_TIMEOUT))?;
    let reply = send(&client)?;
    if reply.status == StatusCode::CONFLICT && reply.error_code().as_deref() == Some("job_running")
    {
        return Err(busy(&reply, &poll));
    }
    let request = reply.request().to_owned();
    let job = Job::from_answer(&reply.success()?, &request)?;
    if !start.no_wait {
        return watch(&poll, job, start.remote.json, start.database);
    }
    if start.remote.json {
        return write_stdout(&format!("{}\n", job.raw.compact()));
    }
    eprintln!(
        "{} job {} accepted ({}): follow it with 'd1-vault job {} --follow'",
        job.kind, job.id, job.state, job.id
    );
    write_stdout(&format!("{}\n", job.id))
}

/// The refusal of a job because another one runs, with what to do. The
/// worker's message names the running job; unless it already says how to
/// cancel it, the job list (asked for here, best effort) gives its id for
/// the commands to type.
fn busy(reply: &Reply, client: &Client) -> CliError {
    let refusal = reply.error();
    if refusal.to_string().contains("d1-vault cancel") {
        return refusal;
    }
    let running = client
        .get("/v1/jobs?limit=20")
        .ok()
        .filter(|answer| answer.status.is_success())
        .and_then(|answer| {
            let request = answer.request().to_owned();
            Job::list_from_answer(&answer.json().ok()?, &request).ok()
        })
        .and_then(|jobs| in_the_way(&jobs).cloned());
    CliError::Refused(format!("{refusal}; {}", advice(running.as_ref())))
}

/// The job a new one must wait for: the running one, else the oldest
/// still queued.
fn in_the_way(jobs: &[Job]) -> Option<&Job> {
    jobs.iter()
        .find(|job| job.state == State::Running)
        .or_else(|| jobs.iter().rev().find(|job| !job.state.is_final()))
}

/// What to do while `running` holds the worker.
fn advice(running: Option<&Job>) -> String {
    match running {
        Some(job) => format!(
            "{} job {} is {}: wait for it to end ('d1-vault job {} --follow'), or cancel it \
             ('d1-vault cancel {}'), then run this again",
            job.kind, job.id, job.state, job.id, job.id
        ),
        None => "wait for the running job to end ('d1-vault jobs' lists it, 'd1-vault job <id> \
                 --follow' follows it), or cancel it ('d1-vault cancel <id>'), then run this \
                 again"
            .into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;

    fn jobs(text: &str) -> Vec<Job> {
        Job::list_from_answer(&Json::parse(text.as_bytes()).unwrap(), "GET l").unwrap()
    }

    #[test]
    fn the_job_in_the_way_is_the_running_one_else_the_oldest_queued() {
        let list = jobs(
            r#"{"jobs":[{"id":"j4","kind":"backup","state":"queued"},
            {"id":"j3","kind":"restore","state":"running"},
            {"id":"j2","kind":"backup","state":"succeeded"}]}"#,
        );
        assert_eq!(in_the_way(&list).map(|job| job.id.as_str()), Some("j3"));
        let queued = jobs(
            r#"{"jobs":[{"id":"j5","kind":"backup","state":"queued"},
            {"id":"j4","kind":"import","state":"queued"},
            {"id":"j2","kind":"backup","state":"failed"}]}"#,
        );
        assert_eq!(in_the_way(&queued).map(|job| job.id.as_str()), Some("j4"));
        assert!(in_the_way(&jobs(r#"{"jobs":[]}"#)).is_none());
    }

    #[test]
    fn the_advice_names_the_job_and_both_ways_out() {
        let list = jobs(r#"{"jobs":[{"id":"j3","kind":"restore","state":"running"}]}"#);
        assert_eq!(
            advice(list.first()),
            "restore job j3 is running: wait for it to end ('d1-vault job j3 --follow'), or \
             cancel it ('d1-vault cancel j3'), then run this again"
        );
        assert!(advice(None).contains("'d1-vault jobs' lists it"));
    }
}
