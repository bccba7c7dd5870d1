//! `d1-vault status`: a deployed worker's last runs and configuration.

use crate::common::{CliError, Command};
use crate::remote::{remote_exit_status, remote_options, Auth, RemoteArgs, QUICK_TIMEOUT};
use crate::render::{fields, flatten, write_stdout};

pub const COMMAND: Command = Command {
    name: "status",
    summary: "show the worker's last runs, configuration and key ids",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault status [--json] [--url <url>] [--token <token>]

Shows what the worker reports about itself: its last backup and prune runs
and how they ended, its configuration (environment, database, retention,
staleness threshold; never a secret) and the ids of the keys it holds. One
'key: value' line per field, nested fields joined with dots, like
'history.last_success.finished_at'; sizes and durations also in human units.
Needs the read token.

Options:
      --json             print the status as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!()
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(remote) = RemoteArgs::parse_plain(parser, USAGE)? else {
        return Ok(());
    };
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let status = client.get("/v1/status")?.success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", status.pretty()));
    }
    write_stdout(&fields(&flatten(&status)))
}
