//! `d1-vault list`: the backups a deployed worker holds, newest first.

use lexopt::Arg::{Long, Short};

use crate::common::{print_usage, text_value, CliError, Command};
use crate::json::Json;
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT,
};
use crate::render::{human_bytes, text, write_stdout, Align, Table};

pub const COMMAND: Command = Command {
    name: "list",
    summary: "list the worker's backups, newest first",
    usage: USAGE,
    run,
};

/// Backups shown when `--limit` is not given.
const DEFAULT_LIMIT: u64 = 20;
/// Backups asked for per request: the contract sets no maximum, so stay well
/// under any a worker may enforce (this one allows 1,000).
const PAGE_SIZE: u64 = 100;

const USAGE: &str = concat!(
    "\
Usage: d1-vault list [--limit <n>] [--cursor <id>] [--json] [--url <url>] [--token <token>]

Lists the worker's complete backups, newest first: id, when it was taken,
kind (scheduled, manual, pre-restore, imported), size of the encrypted object,
tables, rows, the id of the key it was encrypted with, and whether it is pinned
(pinned backups are never pruned). Reads GET /v1/backups page by page, 100
at most at a time, until <n> backups are shown or there are no more. Needs the
read token.

Options:
  -n, --limit <n>        show at most n backups (default 20)
      --cursor <id>      start after this point: the next_cursor of an earlier
                         page, as --json prints it
      --json             print {\"backups\":[...],\"next_cursor\":...}: the pages
                         joined, each backup as the worker sent it; next_cursor
                         is null when there are no more
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example:
  export D1_VAULT_URL=https://d1-vault-production.<account>.workers.dev
  export D1_VAULT_TOKEN=...        # the worker's READ_TOKEN
  d1-vault list --limit 50
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut limit, mut cursor) = (RemoteArgs::default(), DEFAULT_LIMIT, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Short('n') | Long("limit") => limit = parse_limit(parser.value()?)?,
            Long("cursor") => {
                let value = parser.value()?;
                let value = text_value(value, "--cursor")?;
                cursor = Some(value);
            }
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let mut backups = Vec::new();
    loop {
        // Ask for no more than still wanted, so next_cursor never skips a
        // backup that was fetched but not shown.
        let wanted = (limit - backups.len() as u64).min(PAGE_SIZE);
        let mut path = format!("/v1/backups?limit={wanted}");
        if let Some(cursor) = &cursor {
            path.push_str(&format!("&cursor={}", escape(cursor)));
        }
        let page = client.get(&path)?.success()?;
        let Some(Json::Array(items)) = page.get("backups") else {
            return Err(CliError::Io(format!(
                "the answer to GET {path} has no \"backups\" list: is the worker \
                 the same version as this CLI ({})?",
                env!("CARGO_PKG_VERSION")
            )));
        };
        let next = page
            .get("next_cursor")
            .and_then(Json::as_str)
            .map(str::to_owned);
        backups.extend(items.iter().take(wanted as usize).cloned());
        // An empty page, or a cursor that does not move, would loop forever.
        let stuck = items.is_empty() || next == cursor;
        cursor = next;
        if cursor.is_none() || stuck || backups.len() as u64 >= limit {
            break;
        }
    }
    if remote.json {
        let joined = Json::Object(vec![
            ("backups".into(), Json::Array(backups)),
            (
                "next_cursor".into(),
                cursor.map_or(Json::Null, Json::String),
            ),
        ]);
        return write_stdout(&format!("{}\n", joined.pretty()));
    }
    write_stdout(&table(&backups, cursor.as_deref(), limit))
}

/// `--limit`: a whole number of at least 1.
pub fn parse_limit(value: std::ffi::OsString) -> Result<u64, CliError> {
    value
        .to_str()
        .and_then(|text| text.parse::<u64>().ok())
        .filter(|&limit| limit > 0)
        .ok_or_else(|| {
            CliError::Usage(format!("--limit {value:?}: give a whole number, 1 or more"))
        })
}

/// The human form: the table, then how to see more if there is more.
fn table(backups: &[Json], next_cursor: Option<&str>, limit: u64) -> String {
    if backups.is_empty() {
        return "no backups yet: take one with 'd1-vault backup', or wait for the cron\n".into();
    }
    let mut table = Table::new(&[
        ("ID", Align::Left),
        ("CREATED", Align::Left),
        ("KIND", Align::Left),
        ("SIZE", Align::Right),
        ("TABLES", Align::Right),
        ("ROWS", Align::Right),
        ("KEY", Align::Left),
        ("PINNED", Align::Left),
    ]);
    for backup in backups {
        let size = backup.get("bytes").and_then(Json::as_u64);
        let pinned = backup.get("pinned").and_then(Json::as_bool) == Some(true);
        table.row(vec![
            text(backup.get("id")),
            text(backup.get("created_at")),
            text(backup.get("kind")),
            size.map_or_else(|| text(backup.get("bytes")), human_bytes),
            text(backup.get("tables")),
            text(backup.get("rows")),
            text(backup.get("key_id")),
            if pinned { "yes".into() } else { String::new() },
        ]);
    }
    let mut out = table.render();
    if let Some(cursor) = next_cursor {
        out.push_str(&format!(
            "(more: d1-vault list --limit {limit} --cursor {cursor})\n"
        ));
    }
    out
}
