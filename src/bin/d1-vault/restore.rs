//! `d1-vault restore`: replace a database's data with a backup's, through a
//! deployed worker, following each of the ten steps as the worker runs them.

use std::io::{self, BufRead, IsTerminal, Write};
use std::time::Instant;

use lexopt::Arg::{Long, Short, Value};
use serde_json::json;

use crate::common::{missing, print_usage, CliError, Command};
use crate::json::Json;
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, Lines, RemoteArgs, RemoteOption, Streamed,
};
use crate::render::{fields, flatten, human_duration, text, write_stdout, Align, Table};
use crate::validate::{
    self, checklist, detail, dotted, failure, first_failed, status, time, NAME_WIDTH,
};

pub const COMMAND: Command = Command {
    name: "restore",
    summary: "restore a backup into the database, with a safety backup and rollback",
    usage: USAGE,
    run,
};

/// The steps of a restore, as the worker numbers them.
const STEPS: u64 = 10;
/// The first step that changes the database (drop objects).
const FIRST_WRITING_STEP: u64 = 7;
/// Longest piece of an unexpected line quoted in an error.
const SNIPPET_CHARS: usize = 160;

const USAGE: &str = concat!(
    "\
Usage: d1-vault restore <backup-id> --confirm <database-name> [--validate-only]
                        [--skip-safety-backup] [--allow-cross-environment]
                        [--yes] [--json] [--url <url>] [--token <token>]

Replaces all the data of the worker's database with the backup's, in ten
steps, and prints each as the worker runs it:
   1 download          5 sql validation   8 import
   2 integrity         6 safety backup    9 verify
   3 decrypt           7 drop objects    10 report
   4 checksum
Steps 1-5 check the whole backup before anything is written (as 'd1-vault
validate' does). Step 6 takes a pinned 'pre-restore' backup of the database
as it is now. Steps 7-9 replace the data and check it against the backup's
manifest (row counts, schema objects, foreign keys, quick_check); if one
fails, the worker restores the safety backup and says so. Then a summary:
the outcome, the time in all and per step, the rows imported, the
verification, and the safety backup's id with the command that brings the
data from before the restore back. Needs the admin token.

Asks 'Restore backup <id> into database <name>? ...' on a terminal and goes
on only if the database name is typed exactly; elsewhere (a script, a pipe)
it refuses unless --yes is given. Nothing starts when the worker refuses:
the name does not match its database (HTTP 409), the backup is from another
environment (409, see --allow-cross-environment), another backup, prune or
restore is running (409), the backup fails validation (422, its checklist
is printed).

A restore takes minutes for a large database: the CLI waits as long as the
worker works (only connecting is limited, to 10 s). If the connection breaks
before the report, the outcome is unknown to the CLI (exit 3): 'd1-vault
list' shows whether a pre-restore backup was taken.

Options:
      --confirm <name>   the name of the database to restore into (the
                         worker's DATABASE_NAME); required, and the worker
                         refuses a name that is not its database's
      --validate-only    only validate the backup: the same as 'd1-vault
                         validate <backup-id>' (the other options of this
                         command are ignored; the read token is enough)
      --skip-safety-backup
                         do not take the safety backup first: faster, but a
                         failed restore can then not be rolled back
      --allow-cross-environment
                         restore a backup taken in another environment (e.g.
                         production's into staging)
  -y, --yes              do not ask (needed without a terminal)
      --json             print each line of the worker's NDJSON stream as it
                         arrives, unchanged: step and rollback events, then
                         {\"event\":\"report\",\"report\":{...}}
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "A restore that does not end with outcome 'succeeded' (failed, rolled back,
or failed to roll back) is exit 1 too, and so is declining at the prompt.

Example, in an incident:
  d1-vault list
  d1-vault restore 20261121T020000.000Z-0a1b2c --confirm app-db
"
);

/// What the command line asked for.
struct Options {
    /// `--url`, `--token`, `--json`.
    remote: RemoteArgs,
    /// The backup to restore.
    id: String,
    /// `--confirm`: the database the operator means to overwrite.
    confirm: Option<String>,
    /// `--validate-only`: run `validate` instead.
    validate_only: bool,
    /// `--skip-safety-backup`.
    skip_safety_backup: bool,
    /// `--allow-cross-environment`.
    allow_cross_environment: bool,
    /// `--yes`: do not ask.
    yes: bool,
}

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(options) = parse(parser)? else {
        return Ok(());
    };
    if options.validate_only {
        let client = options.remote.client(Auth::Token, None)?;
        return validate::validate(&client, &options.id, options.remote.json);
    }
    let database = options.confirm.ok_or_else(|| {
        CliError::Usage(
            "missing --confirm <database-name>: the name of the database to restore into, \
             as the worker's DATABASE_NAME says"
                .into(),
        )
    })?;
    // Configuration first: no point asking about a request that cannot be sent.
    let client = options.remote.client(Auth::Token, None)?;
    if !options.yes {
        ask(&options.id, &database)?;
    }
    let body = json!({
        "confirm": database,
        "skip_safety_backup": options.skip_safety_backup,
        "allow_cross_environment": options.allow_cross_environment,
    });
    let started = Instant::now();
    let path = format!("/v1/backups/{}/restore", escape(&options.id));
    let lines = match client.post_streaming(&path, &body)? {
        Streamed::Lines(lines) => lines,
        Streamed::Reply(reply) => {
            // A restore refused for failing validation carries its checklist.
            if !options.remote.json {
                if let Ok(answer) = reply.json() {
                    write_stdout(&checklist(
                        answer.get("steps").map(Json::items).unwrap_or_default(),
                    ))?;
                }
            }
            return Err(reply.error());
        }
    };
    let mut follow = Follow {
        json: options.remote.json,
        transient: !options.remote.json && io::stdout().is_terminal(),
        pending: false,
    };
    if !follow.json {
        write_stdout(&format!(
            "Restoring backup {} into database {database}:\n",
            options.id
        ))?;
    }
    let report = follow.events(lines)?;
    let outcome = report.get("outcome").and_then(Json::as_str);
    if !follow.json {
        let elapsed = started.elapsed().as_secs_f64();
        write_stdout(&summary(&report, &database, elapsed))?;
    }
    match outcome {
        Some("succeeded") => Ok(()),
        _ => Err(CliError::Refused(verdict(&report, &database))),
    }
}

/// The command line; `None` when the help was printed.
fn parse(parser: &mut lexopt::Parser) -> Result<Option<Options>, CliError> {
    let mut remote = RemoteArgs::default();
    let (mut id, mut confirm) = (None, None);
    let (mut validate_only, mut skip_safety_backup, mut allow_cross_environment, mut yes) =
        (false, false, false, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => {
                print_usage(USAGE)?;
                return Ok(None);
            }
            Long("confirm") => {
                let value = parser.value()?;
                let value = value
                    .into_string()
                    .ok()
                    .filter(|name| !name.is_empty())
                    .ok_or_else(|| {
                        CliError::Usage("--confirm must be the database's name".into())
                    })?;
                confirm = Some(value);
            }
            Long("validate-only") => validate_only = true,
            Long("skip-safety-backup") => skip_safety_backup = true,
            Long("allow-cross-environment") => allow_cross_environment = true,
            Short('y') | Long("yes") => yes = true,
            Value(value) if id.is_none() => {
                let value = value
                    .into_string()
                    .map_err(|_| CliError::Usage("the backup id must be text".into()))?;
                id = Some(value);
            }
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let id = id.ok_or_else(|| missing("the backup id (see 'd1-vault list')"))?;
    Ok(Some(Options {
        remote,
        id,
        confirm,
        validate_only,
        skip_safety_backup,
        allow_cross_environment,
        yes,
    }))
}

/// Asks on the terminal for the database name; without a terminal, refuses,
/// as a script must say --yes.
fn ask(id: &str, database: &str) -> Result<(), CliError> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "not restoring backup {id} into {database} without confirmation: there is no \
             terminal to ask on; pass --yes"
        )));
    }
    let mut stderr = io::stderr();
    write!(
        stderr,
        "Restore backup {id} into database {database}? This replaces all its data. \
         Type the database name to continue: "
    )
    .and_then(|()| stderr.flush())
    .map_err(|err| CliError::io("asking for confirmation", err))?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|err| CliError::io("reading the answer", err))?;
    if answer.trim() == database {
        Ok(())
    } else {
        Err(CliError::Refused(format!(
            "not restored: {:?} is not the database name {database:?}",
            answer.trim()
        )))
    }
}

/// Follows the worker's NDJSON stream, printing as the events arrive.
struct Follow {
    /// `--json`: pass every line through unchanged, print nothing else.
    json: bool,
    /// Stdout is a terminal: a step's "started" line is replaced by its
    /// outcome instead of staying above it.
    transient: bool,
    /// A transient line is on the screen, without its newline.
    pending: bool,
}

impl Follow {
    /// Reads the stream to its end; the report it ended with.
    fn events(&mut self, mut lines: Lines) -> Result<Json, CliError> {
        let mut report = None;
        while let Some(line) = lines.next_line()? {
            if line.trim().is_empty() {
                continue;
            }
            if self.json {
                write_stdout(&format!("{line}\n"))?;
            }
            let event = Json::parse(line.as_bytes()).map_err(|_| {
                CliError::Io(format!(
                    "the answer to {} has a line that is not JSON: {}",
                    lines.request(),
                    snippet(&line)
                ))
            })?;
            match event.get("event").and_then(Json::as_str) {
                Some("report") => report = event.get("report").cloned(),
                Some("step") if !self.json => self.step(&event, false)?,
                Some("rollback") if !self.json => self.step(&event, true)?,
                // Events this CLI does not know (a newer worker) are skipped.
                _ => {}
            }
        }
        self.settle()?;
        report.ok_or_else(|| {
            CliError::Io(format!(
                "the answer to {} ended before the restore's report: its outcome is \
                 unknown; 'd1-vault list' shows whether a pre-restore backup was taken",
                lines.request()
            ))
        })
    }

    /// Prints a step or rollback event as one line:
    /// `[ 6/10] safety backup ....... passed   1.2 s  <detail>`, or for the
    /// rollback's steps (7-9 again, with the safety backup)
    /// `[rollback 8/10] import ...... passed   2.1 s  <detail>`.
    fn step(&mut self, event: &Json, rollback: bool) -> Result<(), CliError> {
        let number = text(event.get("step"));
        let label = if rollback {
            format!("[rollback {number}/{STEPS}]")
        } else {
            format!("[{number:>2}/{STEPS}]")
        };
        let line = format!(
            "{label} {} {:<7} {:>6}  {}",
            dotted(event, NAME_WIDTH),
            status(event),
            time(event),
            detail(event)
        );
        let line = line.trim_end();
        let mut out = String::new();
        if self.pending {
            // Back to the start of the transient line, and clear it.
            out.push_str("\r\x1b[2K");
            self.pending = false;
        }
        out.push_str(line);
        if self.transient && status(event) == "started" {
            self.pending = true;
        } else {
            out.push('\n');
        }
        write_stdout(&out)
    }

    /// Ends a transient line left on the screen.
    fn settle(&mut self) -> Result<(), CliError> {
        if self.pending {
            self.pending = false;
            write_stdout("\n")?;
        }
        Ok(())
    }
}

/// The start of `line`, for errors about it.
fn snippet(line: &str) -> String {
    match line.char_indices().nth(SNIPPET_CHARS) {
        None => line.to_owned(),
        Some((cut, _)) => format!("{}...", &line[..cut]),
    }
}

/// The report's steps.
fn steps(report: &Json) -> &[Json] {
    report.get("steps").map(Json::items).unwrap_or_default()
}

/// Whether the restore got as far as changing the database.
fn wrote(report: &Json) -> bool {
    steps(report).iter().any(|step| {
        step.get("step")
            .and_then(Json::as_u64)
            .is_some_and(|number| number >= FIRST_WRITING_STEP)
            && matches!(status(step), "passed" | "failed" | "started")
    })
}

/// The safety backup's id, if one was taken.
fn safety_backup(report: &Json) -> Option<&str> {
    report.get("safety_backup_id").and_then(Json::as_str)
}

/// How the restore ended, as a verb: `succeeded`, `failed and was rolled back`.
fn ended(report: &Json) -> String {
    match report.get("outcome").and_then(Json::as_str) {
        Some("succeeded") => "succeeded".into(),
        Some("rolled_back") => "failed and was rolled back".into(),
        Some("rollback_failed") => "failed and could not be rolled back".into(),
        Some("failed") => "failed".into(),
        Some(other) => format!("ended with outcome {other:?}"),
        None => "ended without an outcome".into(),
    }
}

/// What state the database is in now, and what to do about it.
fn consequence(report: &Json, database: &str) -> String {
    let way_back = match safety_backup(report) {
        Some(id) => {
            format!("restore the safety backup: d1-vault restore {id} --confirm {database}")
        }
        None => "no safety backup was taken: restore another backup (see 'd1-vault list')".into(),
    };
    match report.get("outcome").and_then(Json::as_str) {
        Some("succeeded") => format!(
            "database {database} now holds backup {}",
            text(report.get("backup_id"))
        ),
        Some("rolled_back") => {
            format!("database {database} holds its data from before the restore again")
        }
        Some("rollback_failed") => format!(
            "database {database} may be empty or partly restored and needs you now; {way_back}"
        ),
        Some("failed") if !wrote(report) => format!("database {database} was not changed"),
        _ => format!("database {database} may have been changed; {way_back}"),
    }
}

/// The first failed step in words, or that none says why.
fn cause(report: &Json) -> String {
    first_failed(steps(report)).map_or_else(|| "no step says why".into(), failure)
}

/// The summary after the live lines: the outcome in words, then the facts,
/// the time per step, the verification and the rollback.
fn summary(report: &Json, database: &str, elapsed: f64) -> String {
    let restore = text(report.get("restore_id"));
    let took = human_duration(elapsed);
    let headline = match report.get("outcome").and_then(Json::as_str) {
        Some("succeeded") => format!(
            "Restore {restore} succeeded in {took}: {}.",
            consequence(report, database)
        ),
        _ => format!(
            "Restore {restore} {} after {took}: {}; {}.",
            ended(report),
            cause(report),
            consequence(report, database)
        ),
    };
    let mut rows = text(report.get("rows_imported"));
    if let Some(statements) = report.get("statements_imported") {
        rows.push_str(&format!(" in {} statements", text(Some(statements))));
    }
    let safety = match safety_backup(report) {
        Some(id) => format!(
            "{id} (pinned), the data from before this restore; to bring it back:\n  \
             d1-vault restore {id} --confirm {database}"
        ),
        None if report.get("safety_backup_skipped").and_then(Json::as_bool) == Some(true) => {
            "none (--skip-safety-backup)".into()
        }
        None => "none taken".into(),
    };
    let facts = [
        ("Rows imported".to_owned(), rows),
        ("Report".to_owned(), format!("GET /v1/restores/{restore}")),
        ("Safety backup".to_owned(), safety),
    ];
    let mut out = format!("\n{headline}\n{}", fields(&facts));

    let mut table = Table::new(&[
        ("STEP", Align::Right),
        ("NAME", Align::Left),
        ("STATUS", Align::Left),
        ("TIME", Align::Right),
    ]);
    for step in steps(report) {
        table.row(vec![
            text(step.get("step")),
            text(step.get("name")),
            status(step).to_owned(),
            time(step),
        ]);
    }
    out.push_str(&format!("\nTime per step:\n{}", table.render()));
    out.push_str(&section("Verification", report.get("verification")));
    out.push_str(&section("Rollback", report.get("rollback")));
    out
}

/// A titled part of the summary, indented: a list of steps or checks as a
/// checklist, an object as fields; nothing for null or an empty list.
fn section(title: &str, value: Option<&Json>) -> String {
    let body = match value {
        None | Some(Json::Null) => return String::new(),
        Some(Json::Array(items)) if items.is_empty() => return String::new(),
        Some(Json::Array(items)) => checklist(items),
        Some(other) => fields(&flatten(other)),
    };
    let mut out = format!("\n{title}:\n");
    for line in body.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

/// Why the restore counts as failed, on one line for stderr.
fn verdict(report: &Json, database: &str) -> String {
    format!(
        "restore {} {}: {}; {}",
        text(report.get("restore_id")),
        ended(report),
        cause(report),
        consequence(report, database)
    )
}
