//! `d1-vault health`: is the database protected right now? For monitors.

use crate::common::{CliError, Command};
use crate::json::Json;
use crate::remote::{remote_options, Auth, RemoteArgs, QUICK_TIMEOUT};
use crate::render::{text, write_stdout};

pub const COMMAND: Command = Command {
    name: "health",
    summary: "is the database protected? exit 0 only if so (for monitors)",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault health [--json] [--url <url>]

Asks the worker whether the database is protected: 'ok' when a backup
succeeded recently (within the staleness threshold) and no run failed since,
'stale' when the newest successful backup is too old or there is none,
'failing' when the latest run failed. Prints the verdict and the worker's
one-line explanation, and exits 0 only for 'ok' (HTTP 200), so a cron job or
a monitor can run it as is. /health is public: no token is needed, and
--token is ignored.

Options:
      --json             print the worker's answer as it sent it
",
    remote_options!(),
    "  -h, --help             show this help

Exit status: 0 healthy (HTTP 200); 1 not healthy, or any other HTTP error;
2 usage error; 3 no URL, or the worker cannot be reached.

Example, in a crontab:
  */30 * * * * D1_VAULT_URL=https://... d1-vault health >/dev/null || alert
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(remote) = RemoteArgs::parse_plain(parser, USAGE)? else {
        return Ok(());
    };
    let client = remote.client(Auth::Public, Some(QUICK_TIMEOUT))?;
    let reply = client.get("/health")?;
    // A proxy's error page is the worker failing, not a wrong URL.
    let report = reply.json().map_err(|err| {
        if reply.status.is_success() {
            err
        } else {
            reply.error()
        }
    })?;
    // A body without a verdict is an API error (or no d1-vault at all).
    let Some(status) = report.get("status").and_then(Json::as_str) else {
        return Err(reply.error());
    };
    let shown = if remote.json {
        format!("{}\n", report.pretty())
    } else {
        format!("{status}: {}\n", text(report.get("message")))
    };
    write_stdout(&shown)?;
    if reply.status.is_success() {
        Ok(())
    } else {
        Err(CliError::Refused(format!(
            "the worker is not healthy: {status} (HTTP {})",
            reply.status.as_u16()
        )))
    }
}
