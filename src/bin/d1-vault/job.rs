//! `d1-vault job <id>`: one job's record, or, with `--follow`, the job
//! followed to its end as the command that started it would.

use lexopt::Arg::{Long, Short, Value};

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::job_record::Job;
use crate::outcome::conclude;
use crate::progress::counters;
use crate::remote::{escape, remote_options, Auth, RemoteArgs, RemoteOption};
use crate::render::{fields, text, write_stdout};
use crate::start::job_exit_status;
use crate::watch::{watch, POLL_TIMEOUT};

pub const COMMAND: Command = Command {
    name: "job",
    summary: "show one job, or follow it to its end (--follow)",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault job <job-id> [--follow] [--json] [--url <url>] [--token <token>]

Shows one job of the worker: kind, state, step, progress, slices run,
attempts, times and error; once it has ended, also the summary that the
command that started it prints (a backup's size and rows, a validation's
checklist, a restore's steps and verification). Needs the read token.

With --follow, follows the job until it ends, as 'd1-vault backup',
'validate', 'restore' and 'import' do, and exits as they do: to pick a job
up again after Ctrl-C, or one that the cron or a colleague started. A job
that has already ended is shown with its events and summary.

Options:
      --follow           follow the job to its end
      --json             print the job as the worker sent it; with --follow,
                         each event as one JSON line, then the final job
",
    remote_options!(),
    "  -h, --help             show this help

",
    job_exit_status!(),
    "Without --follow, the exit status says whether the job could be read,
not how it ended.

Example:
  d1-vault job 01JDXK2Q3V8H4M5N6P7Q8R9S0T --follow
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut id, mut follow) = (RemoteArgs::default(), None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("follow") => follow = true,
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
    let client = remote.client(Auth::Token, Some(POLL_TIMEOUT))?;
    let reply = client.get(&format!("/v1/jobs/{}", escape(&id)))?;
    let request = reply.request().to_owned();
    let job = Job::from_answer(&reply.success()?, &request)?;
    if follow {
        return watch(&client, job, remote.json, None);
    }
    if remote.json {
        return write_stdout(&format!("{}\n", job.raw.pretty()));
    }
    write_stdout(&record(&job))
}

/// The job's fields, then its summary if it has ended, or how to follow
/// or cancel it if not.
fn record(job: &Job) -> String {
    let progress = counters(&job.progress).join(", ");
    let field = |name: &str| text(job.raw.get(name));
    let pairs: Vec<(String, String)> = [
        ("id", job.id.clone()),
        ("kind", job.kind.clone()),
        ("state", job.state.to_string()),
        ("step", field("step")),
        (
            "progress",
            if progress.is_empty() {
                "-".into()
            } else {
                progress
            },
        ),
        ("slices", field("slices")),
        ("attempts", field("attempts")),
        ("created_at", field("created_at")),
        ("started_at", field("started_at")),
        ("updated_at", field("updated_at")),
        ("finished_at", field("finished_at")),
        ("error", job.error.clone().unwrap_or_else(|| "-".into())),
    ]
    .into_iter()
    .map(|(name, value)| (name.to_owned(), value))
    .collect();
    let mut out = fields(&pairs);
    if job.state.is_final() {
        out.push('\n');
        out.push_str(&conclude(job, None).text);
    } else {
        out.push_str(&format!(
            "\nFollow it: d1-vault job {id} --follow\nCancel it: d1-vault cancel {id}\n",
            id = job.id
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    #[test]
    fn a_running_job_says_how_to_follow_or_cancel_it() {
        let running = job(
            "restore",
            "running",
            r#","progress":{"rows_done":5,"rows_total":10},"slices":4,"attempts":1"#,
        );
        let text = record(&running);
        assert!(
            text.starts_with("id:          j1\nkind:        restore\n"),
            "{text}"
        );
        assert!(
            text.contains("\nprogress:    5 / 10 rows (50%)\nslices:      4\n"),
            "{text}"
        );
        assert!(text.contains("\nerror:       -\n"), "{text}");
        assert!(
            text.ends_with(
                "\nFollow it: d1-vault job j1 --follow\nCancel it: d1-vault cancel j1\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn an_ended_job_ends_with_its_summary() {
        let failed = job("backup", "failed", r#","error":"R2 is down""#);
        let text = record(&failed);
        assert!(text.contains("\nerror:       R2 is down\n"), "{text}");
        assert!(
            text.contains("\n\nBackup job j1 failed at step upload after 1 min 5 s: R2 is down.\n"),
            "{text}"
        );
    }
}
