//! `d1-vault cancel <id>`: ask the worker to stop a job.

use lexopt::Arg::{Long, Short, Value};
use ureq::http::StatusCode;

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::job_record::{Job, State};
use crate::outcome::capitalized;
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT,
};
use crate::render::write_stdout;

pub const COMMAND: Command = Command {
    name: "cancel",
    summary: "stop a running or queued job (a restore that is writing rolls back)",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault cancel <job-id> [--json] [--url <url>] [--token <token>]

Asks the worker to stop a job. It stops at its next slice: a backup,
validation or import leaves nothing behind; a restore stopped before step 7
leaves the database as it was, and one stopped in steps 7-9 is rolled back
from its safety backup (the job then ends 'rolled_back'). The job's final
state follows a moment later: 'd1-vault job <id> --follow' shows it. A job
that has already ended cannot be cancelled (HTTP 409). Needs the admin token.

Options:
      --json             print the job as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example:
  d1-vault jobs
  d1-vault cancel 01JDXK2Q3V8H4M5N6P7Q8R9S0T
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut id) = (RemoteArgs::default(), None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Value(value) if id.is_none() => {
                let value = text_value(value, "the job id")?;
                id = Some(value);
            }
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let id = id.ok_or_else(|| missing("the job id (see 'd1-vault jobs')"))?;
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let reply = client.post_empty(&format!("/v1/jobs/{}/cancel", escape(&id)))?;
    if reply.status == StatusCode::CONFLICT {
        return Err(CliError::Refused(format!(
            "{}; job {id} has already ended: 'd1-vault job {id}' shows how",
            reply.error()
        )));
    }
    let request = reply.request().to_owned();
    let answer = reply.success()?;
    let job = Job::from_answer(&answer, &request)?;
    if remote.json {
        return write_stdout(&format!("{}\n", job.raw.pretty()));
    }
    write_stdout(&said(&job))
}

/// What the worker's answer means for the operator.
fn said(job: &Job) -> String {
    let what = format!("{} job {}", job.kind, job.id);
    match &job.state {
        State::Cancelled => format!("{} cancelled.\n", capitalized(&what)),
        state if state.is_final() => format!(
            "{} ended {state} before it could be cancelled: 'd1-vault job {}' shows how.\n",
            capitalized(&what),
            job.id
        ),
        state => format!(
            "Cancelling {what} (now {state}): it stops at its next slice; a restore that is \
             writing rolls back first. Follow it to its end: d1-vault job {} --follow\n",
            job.id
        ),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    #[test]
    fn the_answer_says_whether_the_job_has_stopped_yet() {
        assert_eq!(
            said(&job("backup", "cancelled", "")),
            "Backup job j1 cancelled.\n"
        );
        assert!(said(&job("restore", "running", ""))
            .starts_with("Cancelling restore job j1 (now running): it stops at its next slice"));
        assert!(said(&job("backup", "succeeded", ""))
            .starts_with("Backup job j1 ended succeeded before it could be cancelled"));
    }
}
