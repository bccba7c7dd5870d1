//! `d1-vault backup`: have a deployed worker take a backup now.

use lexopt::Arg::{Long, Short};
use serde_json::json;

use crate::common::{print_usage, CliError, Command};
use crate::json::Json;
use crate::remote::{remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption};
use crate::render::{human_bytes, human_duration, text, write_stdout};

pub const COMMAND: Command = Command {
    name: "backup",
    summary: "have the worker take a backup now, and wait for it",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault backup [--pin] [--note <text>] [--json] [--url <url>] [--token <token>]

Has the worker take a backup now, as the nightly cron does, and waits for it:
the worker dumps the database, encrypts the dump, stores it in R2 and answers
with the new backup's manifest. Prints a summary: id, size, tables, rows, how
long it took and the key it was encrypted with. Needs the admin token.

A large database takes minutes: the CLI waits as long as the worker works
(only connecting is limited, to 10 s). If a backup, prune or restore is
already running, the worker answers 409 and takes nothing: wait, then run it
again.

Options:
      --pin              keep this backup whatever the retention policy says
                         (deleting it then needs 'd1-vault delete --force')
      --note <text>      store a note in the manifest, e.g. why it was taken
      --json             print the manifest as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example, before a risky migration:
  d1-vault backup --pin --note \"before migration 0007\"
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut pin, mut note) = (RemoteArgs::default(), false, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("pin") => pin = true,
            Long("note") => {
                let value = parser.value()?;
                let value = value
                    .into_string()
                    .map_err(|_| CliError::Usage("--note must be text".into()))?;
                note = Some(value);
            }
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    // No overall time limit: the request lasts as long as the backup.
    let client = remote.client(Auth::Token, None)?;
    let mut body = json!({ "pin": pin });
    if let Some(note) = note {
        body["note"] = note.into();
    }
    let manifest = client.post("/v1/backups", &body)?.success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", manifest.pretty()));
    }
    write_stdout(&summary(&manifest))
}

/// One paragraph about the new backup, then how to see all of it.
fn summary(manifest: &Json) -> String {
    let id = text(manifest.get("id"));
    let size = |part: &str| {
        manifest
            .get(part)
            .and_then(|p| p.get("bytes"))
            .and_then(Json::as_u64)
            .map_or_else(|| "?".to_owned(), human_bytes)
    };
    let tables = manifest.get("tables").map(Json::items).unwrap_or_default();
    let rows: u64 = tables
        .iter()
        .filter_map(|table| table.get("rows").and_then(Json::as_u64))
        .sum();
    let took = manifest
        .get("duration_ms")
        .and_then(Json::as_u64)
        .map_or_else(|| "?".to_owned(), |ms| human_duration(ms as f64 / 1000.0));
    let key = text(manifest.get("encryption").and_then(|e| e.get("key_id")));
    let mut out = format!(
        "Backup {id} taken in {took}: {} tables, {rows} rows, {} encrypted ({} of SQL) with key {key}.",
        tables.len(),
        size("ciphertext"),
        size("plaintext"),
    );
    if manifest.get("pinned").and_then(Json::as_bool) == Some(true) {
        out.push_str(" Pinned: kept whatever the retention policy says.");
    }
    if let Some(note) = manifest.get("note").and_then(Json::as_str) {
        out.push_str(&format!(" Note: {note}"));
    }
    out.push_str(&format!("\nDetails: d1-vault show {id}\n"));
    out
}
