//! `d1-vault show`: one backup's manifest, from a deployed worker.

use lexopt::Arg::{Long, Short, Value};

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::json::Json;
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT,
};
use crate::render::{fields, flatten, text, write_stdout, Align, Table};

pub const COMMAND: Command = Command {
    name: "show",
    summary: "show one backup's manifest: sizes, digests, key, tables, rows",
    usage: USAGE,
    run,
};

/// The manifest's lists, shown after its fields rather than among them.
const SCHEMA_LISTS: [&str; 3] = ["indexes", "views", "triggers"];

const USAGE: &str = concat!(
    "\
Usage: d1-vault show <backup-id> [--json] [--url <url>] [--token <token>]

Shows the manifest of one backup, the record a restore is checked against:
when and how it was taken, its environment and database, the key id and
cipher, the size and SHA-256 of the SQL (plaintext) and of the encrypted object
(ciphertext), whether the dump is one consistent snapshot, every table with its
type and row count, the indexes, views and triggers, the schema hash and the
foreign-key violations found at backup time. Needs the read token.

Options:
      --json             print the manifest as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example:
  d1-vault show 20261121T020000.000Z-0a1b2c
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut id) = (RemoteArgs::default(), None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
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
    let client = remote.client(Auth::Token, Some(QUICK_TIMEOUT))?;
    let manifest = client
        .get(&format!("/v1/backups/{}", escape(&id)))?
        .success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", manifest.pretty()));
    }
    write_stdout(&human(&manifest))
}

/// Fields as `key: value` lines, then the tables, then the schema lists.
fn human(manifest: &Json) -> String {
    let Json::Object(members) = manifest else {
        return format!("{}\n", text(Some(manifest)));
    };
    let scalars: Vec<(String, Json)> = members
        .iter()
        .filter(|(key, _)| key != "tables" && !SCHEMA_LISTS.contains(&key.as_str()))
        .cloned()
        .collect();
    let mut out = fields(&flatten(&Json::Object(scalars)));

    let tables = manifest.get("tables").map(Json::items).unwrap_or_default();
    out.push_str(&format!("\ntables ({}):", tables.len()));
    if tables.is_empty() {
        out.push_str(" none\n");
    } else {
        out.push('\n');
        let mut table = Table::new(&[
            ("NAME", Align::Left),
            ("TYPE", Align::Left),
            ("ROWS", Align::Right),
        ]);
        for entry in tables {
            table.row(vec![
                text(entry.get("name")),
                text(entry.get("type")),
                text(entry.get("rows")),
            ]);
        }
        out.push_str(&table.render());
    }
    for list in SCHEMA_LISTS {
        let names = manifest.get(list).map(Json::items).unwrap_or_default();
        out.push_str(&format!("\n{list} ({}):", names.len()));
        if names.is_empty() {
            out.push_str(" none\n");
        } else {
            out.push('\n');
            for name in names {
                out.push_str(&format!("  {}\n", text(Some(name))));
            }
        }
    }
    out
}
