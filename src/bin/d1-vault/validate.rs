//! `d1-vault validate`: would this backup restore? The worker runs the first
//! five steps of a restore (download, integrity, decrypt, checksum, SQL
//! validation) over the whole object and reports each; nothing is written to
//! the database. Also the step lines that `restore` prints.

use lexopt::Arg::{Long, Short, Value};
use ureq::http::StatusCode;

use crate::common::{missing, print_usage, CliError, Command};
use crate::json::Json;
use crate::remote::{
    escape, remote_exit_status, remote_options, Auth, Client, RemoteArgs, RemoteOption,
};
use crate::render::{human_duration, text, write_stdout, Align, Table};

pub const COMMAND: Command = Command {
    name: "validate",
    summary: "check that a backup would restore, without restoring it",
    usage: USAGE,
    run,
};

/// Width of a step's name and the dots after it, so the columns after it
/// line up: the longest name, "sql validation", gets a few dots too.
pub const NAME_WIDTH: usize = 21;
/// Longest detail of a passed step or check in a checklist; a failed one's
/// is shown whole. (`--json` has every detail.)
const PASSED_DETAIL_CHARS: usize = 100;

const USAGE: &str = concat!(
    "\
Usage: d1-vault validate <backup-id> [--json] [--url <url>] [--token <token>]

Has the worker check one backup end to end, as the first five steps of a
restore do, without touching the database:
  1 download        read the whole encrypted object from R2
  2 integrity       its header, key id and size
  3 decrypt         decrypt and authenticate every chunk
  4 checksum        the SQL's size and SHA-256 against the manifest
  5 sql validation  every statement is of an allowed kind (a failure names
                    its line)
Prints each step as a checklist line with its time (✓ passed, ✗ failed,
– skipped: after a failure the later steps do not run), then what the
backup holds: its tables with their types and row counts, and the numbers of
indexes, views, triggers and statements. Needs the read token.

The worker reads the whole object, so a large backup takes a while: the CLI
waits as long as the worker works (only connecting is limited, to 10 s).

Options:
      --json             print the worker's report as it sent it (also when
                         the backup is not valid)
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "A backup that fails validation (HTTP 422) is exit 1 too, after its checklist.

Example, before restoring:
  d1-vault validate 20261121T020000.000Z-0a1b2c && \\
    d1-vault restore 20261121T020000.000Z-0a1b2c --confirm app-db
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut id) = (RemoteArgs::default(), None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
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
    // No overall time limit: validation reads the whole object.
    let client = remote.client(Auth::Token, None)?;
    validate(&client, &id, remote.json)
}

/// Has the worker validate backup `id` and prints its report: as the worker
/// sent it with `json`, else as a checklist and a summary. `Ok` only when
/// the worker says the backup is valid (HTTP 200 and `"ok": true`).
pub fn validate(client: &Client, id: &str, json: bool) -> Result<(), CliError> {
    let path = format!("/v1/backups/{}/validate", escape(id));
    let reply = client.post_empty(&path)?;
    let status = reply.status;
    if !status.is_success() && status != StatusCode::UNPROCESSABLE_ENTITY {
        return Err(reply.error());
    }
    let report = match reply.json() {
        Ok(report) if report.get("steps").is_some() => report,
        // A 422 without a report is an ordinary refusal.
        _ if !status.is_success() => return Err(reply.error()),
        Ok(_) => {
            return Err(CliError::Io(format!(
                "the answer to POST {path} has no \"steps\": is the worker the same \
                 version as this CLI ({})?",
                env!("CARGO_PKG_VERSION")
            )))
        }
        Err(err) => return Err(err),
    };
    let valid = status.is_success() && report.get("ok").and_then(Json::as_bool) == Some(true);
    let steps = report.get("steps").map(Json::items).unwrap_or_default();
    if json {
        write_stdout(&format!("{}\n", report.pretty()))?;
    } else {
        let mut out = checklist(steps);
        if valid {
            out.push_str(&summary(steps, report.get("summary")));
        }
        write_stdout(&out)?;
    }
    if valid {
        return Ok(());
    }
    Err(CliError::Refused(match first_failed(steps) {
        Some(step) => format!("backup {id} failed validation: {}", failure(step)),
        None => format!("backup {id} failed validation (HTTP {})", status.as_u16()),
    }))
}

/// One line per step or check: a mark (✓ passed, ✗ failed, – skipped), the
/// step's number if it has one, the name, the time if it has one, and the
/// detail, cut short when it passed. A check (`{"name","ok","detail"}`) is
/// marked by its `ok`.
pub fn checklist(items: &[Json]) -> String {
    let width = items
        .iter()
        .map(|item| text(item.get("name")).chars().count() + 3)
        .fold(NAME_WIDTH, usize::max);
    items
        .iter()
        .map(|item| {
            let status = match item.get("ok").and_then(Json::as_bool) {
                Some(true) => "passed",
                Some(false) => "failed",
                None => status(item),
            };
            let mark = match status {
                "passed" => "✓",
                "failed" => "✗",
                "skipped" => "–",
                _ => "?",
            };
            let mut line = format!("{mark} ");
            if let Some(number) = item.get("step") {
                line.push_str(&format!("{} ", text(Some(number))));
            }
            line.push_str(&dotted(item, width));
            if item.get("ms").is_some() {
                line.push_str(&format!(" {:>6}", time(item)));
            }
            let detail = detail(item);
            match status {
                "passed" => line.push_str(&format!("  {}", shorten(&detail))),
                _ if detail.is_empty() => line.push_str(&format!("  {status}")),
                _ => line.push_str(&format!("  {status}: {detail}")),
            }
            format!("{}\n", line.trim_end())
        })
        .collect()
}

/// After a valid checklist: the totals, then the tables.
fn summary(steps: &[Json], summary: Option<&Json>) -> String {
    let total_ms: f64 = steps
        .iter()
        .filter_map(|step| step.get("ms").and_then(Json::as_u64))
        .sum::<u64>() as f64;
    let count = |list: &str| {
        summary
            .and_then(|s| s.get(list))
            .map_or(0, |items| items.items().len())
    };
    let tables = summary
        .and_then(|s| s.get("tables"))
        .map(Json::items)
        .unwrap_or_default();
    let mut out = format!(
        "\nValid: every step passed in {}. {} tables, {} indexes, {} views, {} triggers, {} statements.\n",
        human_duration(total_ms / 1000.0),
        tables.len(),
        count("indexes"),
        count("views"),
        count("triggers"),
        text(summary.and_then(|s| s.get("statements"))),
    );
    if !tables.is_empty() {
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
        out.push('\n');
        out.push_str(&table.render());
    }
    out
}

/// A step's `status`, or `?` when it has none.
pub fn status(step: &Json) -> &str {
    step.get("status").and_then(Json::as_str).unwrap_or("?")
}

/// A step's name followed by dots to `width`: `download ............`.
pub fn dotted(step: &Json, width: usize) -> String {
    let name = text(step.get("name"));
    let dots = width.saturating_sub(name.chars().count() + 1).max(2);
    format!("{name} {}", ".".repeat(dots))
}

/// `detail` cut to [`PASSED_DETAIL_CHARS`], with `...` when cut.
fn shorten(detail: &str) -> String {
    match detail.char_indices().nth(PASSED_DETAIL_CHARS) {
        None => detail.to_owned(),
        Some((cut, _)) => format!("{}...", &detail[..cut]),
    }
}

/// A step's time in words, from its `ms`; empty when it has none or did
/// not run.
pub fn time(step: &Json) -> String {
    match (status(step), step.get("ms").and_then(Json::as_u64)) {
        ("started" | "skipped", _) | (_, None) => String::new(),
        (_, Some(ms)) => human_duration(ms as f64 / 1000.0),
    }
}

/// A step's detail on one line (the worker's may span several).
pub fn detail(step: &Json) -> String {
    match step.get("detail") {
        None | Some(Json::Null) => String::new(),
        detail => text(detail)
            .split_whitespace()
            .collect::<Vec<_>>()
            .join(" "),
    }
}

/// The first step that failed.
pub fn first_failed(steps: &[Json]) -> Option<&Json> {
    steps.iter().find(|step| status(step) == "failed")
}

/// A failed step in words: `step 4 checksum: <detail>`.
pub fn failure(step: &Json) -> String {
    let detail = detail(step);
    let mut out = format!("step {} {}", text(step.get("step")), text(step.get("name")));
    if !detail.is_empty() {
        out.push_str(&format!(": {detail}"));
    }
    out
}
