//! `d1-vault restore`: replace a database's data with a backup's, through a
//! deployed worker: the worker runs the ten steps as a job, and the CLI
//! follows it to its end.

use std::io::{self, BufRead, IsTerminal, Write};

use lexopt::Arg::{Long, Short, Value};
use serde_json::json;

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::remote::{escape, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT};
use crate::start::{following, job_exit_status, job_options, start, Start};
use crate::validate;

pub const COMMAND: Command = Command {
    name: "restore",
    summary: "restore a backup into the database, with a safety backup and rollback",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault restore <backup-id> --confirm <database-name> [--validate-only]
                        [--skip-safety-backup] [--allow-cross-environment]
                        [--yes] [--no-wait] [--json] [--url <url>] [--token <token>]

Replaces all the data of the worker's database with the backup's, in ten
steps that the worker runs as a job:
   1 download          5 sql validation   8 import
   2 integrity         6 safety backup    9 verify
   3 decrypt           7 drop objects    10 report
   4 checksum
Steps 1-5 check the whole backup before anything is written (as 'd1-vault
validate' does). Step 6 takes a pinned 'pre-restore' backup of the database
as it is now. Steps 7-9 replace the data and check it against the backup's
manifest (row counts, schema objects, foreign keys, quick_check); if one
fails, or the job is cancelled during them, the worker restores the safety
backup and the job ends 'rolled_back'. Ends with a summary: the outcome and
the state the database is in, the time in all and per step, the rows
imported, the verification, and the safety backup's id with the command
that brings the data from before the restore back. Needs the admin token.

Asks 'Restore backup <id> into database <name>? ...' on a terminal and goes
on only if the database name is typed exactly; elsewhere (a script, a pipe)
it refuses unless --yes is given. Nothing starts when the worker refuses:
the name does not match its database (HTTP 409), the backup is from another
environment (409, see --allow-cross-environment), another job is running
(409, naming it).

",
    following!(),
    "
Options:
      --confirm <name>   the name of the database to restore into (the
                         worker's DATABASE_NAME); required, and the worker
                         refuses a name that is not its database's
      --validate-only    only validate the backup: the same as 'd1-vault
                         validate <backup-id>' (the other options of this
                         command but --no-wait and --json are ignored; the
                         read token is enough)
      --skip-safety-backup
                         do not take the safety backup first: faster, but a
                         failed restore can then not be rolled back
      --allow-cross-environment
                         restore a backup taken in another environment (e.g.
                         production's into staging)
  -y, --yes              do not ask (needed without a terminal)
",
    job_options!(),
    remote_options!(),
    "  -h, --help             show this help

",
    job_exit_status!(),
    "A restore that does not succeed (failed, rolled back, not rolled back,
cancelled) is exit 1, and so is declining at the prompt.

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
    /// `--no-wait`: print the job and exit.
    no_wait: bool,
}

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(options) = parse(parser)? else {
        return Ok(());
    };
    if options.validate_only {
        return validate::validate(&options.remote, &options.id, options.no_wait);
    }
    let database = options.confirm.ok_or_else(|| {
        CliError::Usage(
            "missing --confirm <database-name>: the name of the database to restore into, \
             as the worker's DATABASE_NAME says"
                .into(),
        )
    })?;
    // Configuration first: no point asking about a request that cannot be sent.
    options.remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    if !options.yes {
        ask(&options.id, &database)?;
    }
    let body = json!({
        "confirm": database,
        "skip_safety_backup": options.skip_safety_backup,
        "allow_cross_environment": options.allow_cross_environment,
    });
    let path = format!("/v1/backups/{}/restore", escape(&options.id));
    let how = Start {
        remote: &options.remote,
        no_wait: options.no_wait,
        database: Some(database),
        timeout: Some(QUICK_TIMEOUT),
    };
    start(how, |client| client.post(&path, &body))
}

/// The command line; `None` when the help was printed.
fn parse(parser: &mut lexopt::Parser) -> Result<Option<Options>, CliError> {
    let mut remote = RemoteArgs::default();
    let (mut id, mut confirm) = (None, None);
    let (mut validate_only, mut skip_safety_backup, mut allow_cross_environment) =
        (false, false, false);
    let (mut yes, mut no_wait) = (false, false);
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
            Long("no-wait") => no_wait = true,
            Value(value) if id.is_none() => {
                let value = text_value(value, "the backup id")?;
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
        no_wait,
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
