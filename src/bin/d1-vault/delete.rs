//! `d1-vault delete`: remove one backup from a deployed worker.

use std::io::{self, BufRead, IsTerminal, Write};

use lexopt::Arg::{Long, Short, Value};

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT,
};
use crate::render::{text, write_stdout};

pub const COMMAND: Command = Command {
    name: "delete",
    summary: "delete one backup from the worker (object and manifest)",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault delete <backup-id> [--force] [--yes] [--json] [--url <url>] [--token <token>]

Deletes one backup: its encrypted object and its manifest. There is no undo.
Asks 'Delete backup <id>? [y/N]' first when run on a terminal; elsewhere (a
script, a pipe) it refuses unless --yes is given. Needs the admin token.

A pinned backup is refused (HTTP 409) unless --force is given. Old backups
are removed by the retention policy after each successful backup; this
command is for the exceptions (see 'd1-vault retention').

Options:
      --force            delete even a pinned backup
  -y, --yes              do not ask (needed without a terminal)
      --json             print the worker's answer, {\"deleted\":\"<id>\"}
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "Declining at the prompt is exit 1 too, with nothing deleted.

Example:
  d1-vault delete 20261121T020000.000Z-0a1b2c --force --yes
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let mut remote = RemoteArgs::default();
    let (mut id, mut force, mut yes) = (None, false, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("force") => force = true,
            Short('y') | Long("yes") => yes = true,
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
    // Configuration first: no point asking about a request that cannot be sent.
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    if !yes {
        confirm(&id)?;
    }
    let mut path = format!("/v1/backups/{}", escape(&id));
    if force {
        path.push_str("?force=true");
    }
    let answer = client.delete(&path)?.success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", answer.pretty()));
    }
    let deleted = answer
        .get("deleted")
        .map_or_else(|| id.clone(), |d| text(Some(d)));
    write_stdout(&format!("deleted backup {deleted}\n"))
}

/// Asks on the terminal; without one, refuses, as a script must say --yes.
fn confirm(id: &str) -> Result<(), CliError> {
    let stdin = io::stdin();
    if !stdin.is_terminal() {
        return Err(CliError::Usage(format!(
            "not deleting backup {id} without confirmation: there is no terminal to ask on; \
             pass --yes"
        )));
    }
    let mut stderr = io::stderr();
    write!(stderr, "Delete backup {id}? [y/N] ")
        .and_then(|()| stderr.flush())
        .map_err(|err| CliError::io("asking for confirmation", err))?;
    let mut answer = String::new();
    stdin
        .lock()
        .read_line(&mut answer)
        .map_err(|err| CliError::io("reading the answer", err))?;
    match answer.trim().to_ascii_lowercase().as_str() {
        "y" | "yes" => Ok(()),
        _ => Err(CliError::Refused(format!("backup {id} not deleted"))),
    }
}
