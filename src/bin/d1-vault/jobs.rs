//! `d1-vault jobs`: the worker's recent jobs, newest first.

use lexopt::Arg::{Long, Short};

use crate::common::{print_usage, CliError, Command};
use crate::job_record::Job;
use crate::list::parse_limit;
use crate::progress::counters;
use crate::remote::{
    remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT,
};
use crate::render::{write_stdout, Align, Table};

pub const COMMAND: Command = Command {
    name: "jobs",
    summary: "list the worker's recent jobs: backups, restores, validations...",
    usage: USAGE,
    run,
};

/// Jobs shown when `--limit` is not given.
const DEFAULT_LIMIT: u64 = 20;

const USAGE: &str = concat!(
    "\
Usage: d1-vault jobs [--limit <n>] [--json] [--url <url>] [--token <token>]

Lists the worker's recent jobs, newest first: id, kind (backup, validate,
restore, import, rollback, prune), state (queued, running, succeeded,
failed, rolled_back, rollback_failed, cancelled), the step it is in or
ended in, its progress, and when it was created and last updated. The
worker keeps job records for a bounded time. Needs the read token.

Options:
  -n, --limit <n>        show at most n jobs (default 20)
      --json             print {\"jobs\":[...]} as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example, to see what holds the worker:
  d1-vault jobs --limit 5
  d1-vault job <id> --follow
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut limit) = (RemoteArgs::default(), DEFAULT_LIMIT);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Short('n') | Long("limit") => limit = parse_limit(parser.value()?)?,
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let reply = client.get(&format!("/v1/jobs?limit={limit}"))?;
    let request = reply.request().to_owned();
    let answer = reply.success()?;
    let jobs = Job::list_from_answer(&answer, &request)?;
    if remote.json {
        return write_stdout(&format!("{}\n", answer.pretty()));
    }
    write_stdout(&table(&jobs))
}

/// The human form: one row per job.
fn table(jobs: &[Job]) -> String {
    if jobs.is_empty() {
        return "no jobs yet: 'd1-vault backup' starts one, and so does the nightly cron\n".into();
    }
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("KIND", Align::Left),
        ("STATE", Align::Left),
        ("STEP", Align::Left),
        ("PROGRESS", Align::Left),
        ("CREATED", Align::Left),
        ("UPDATED", Align::Left),
    ]);
    let or_dash = |value: Option<&String>| value.map_or_else(|| "-".to_owned(), String::clone);
    for job in jobs {
        let progress = counters(&job.progress).join(", ");
        table.row(vec![
            job.id.clone(),
            job.kind.clone(),
            job.state.to_string(),
            or_dash(job.step.as_ref()),
            if progress.is_empty() {
                "-".into()
            } else {
                progress
            },
            or_dash(job.created_at.as_ref()),
            or_dash(job.updated_at.as_ref()),
        ]);
    }
    table.render()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::json::Json;

    #[test]
    fn a_row_per_job_with_its_progress() {
        let answer = Json::parse(
            br#"{"jobs":[{"id":"j2","kind":"restore","state":"running","step":"import",
            "progress":{"bytes_done":2048,"bytes_total":4096,"rows_done":10,"rows_total":20},
            "created_at":"2026-11-21T02:00:00.000Z","updated_at":"2026-11-21T02:01:00.000Z"},
            {"id":"j1","kind":"backup","state":"succeeded","step":null,"progress":{}}]}"#,
        )
        .unwrap();
        let jobs = Job::list_from_answer(&answer, "GET l").unwrap();
        assert_eq!(
            table(&jobs),
            "ID  KIND     STATE      STEP    PROGRESS                               CREATED                   UPDATED\n\
             j2  restore  running    import  2.0 KiB / 4.0 KiB (50%), 10 / 20 rows  2026-11-21T02:00:00.000Z  2026-11-21T02:01:00.000Z\n\
             j1  backup   succeeded  -       -                                      -                         -\n"
        );
        assert!(table(&[]).starts_with("no jobs yet"));
    }
}
