//! `d1-vault validate`: would this backup restore? The worker runs the first
//! five steps of a restore (download, integrity, decrypt, checksum, SQL
//! validation) over the whole object, as a job, and reports each; nothing
//! is written to the database. Also the checklist lines that `restore`
//! prints.

use lexopt::Arg::{Long, Short, Value};

use crate::common::{missing, print_usage, text_value, CliError, Command};
use crate::job_record::{Job, State};
use crate::json::Json;
use crate::outcome::{failure as job_failure, Conclusion};
use crate::remote::{escape, remote_options, RemoteArgs, RemoteOption, QUICK_TIMEOUT};
use crate::render::{human_duration, text, Align, Table};
use crate::start::{following, job_exit_status, job_options, start, Start};

pub const COMMAND: Command = Command {
    name: "validate",
    summary: "check that a backup would restore, without restoring it",
    usage: USAGE,
    run,
};

/// Width of a step's name and the dots after it, so the columns after it
/// line up: the longest name, "sql validation", gets a few dots too.
const NAME_WIDTH: usize = 21;
/// Longest detail of a passed step or check in a checklist; a failed one's
/// is shown whole. (`--json` has every detail.)
const PASSED_DETAIL_CHARS: usize = 100;

const USAGE: &str = concat!(
    "\
Usage: d1-vault validate <backup-id> [--no-wait] [--json] [--url <url>] [--token <token>]

Has the worker check one backup end to end, as the first five steps of a
restore do, without touching the database:
  1 download        read the whole encrypted object from R2
  2 integrity       its header, key id and size
  3 decrypt         decrypt and authenticate every chunk
  4 checksum        the SQL's size and SHA-256 against the manifest
  5 sql validation  every statement is of an allowed kind (a failure names
                    its line)
Ends with each step as a checklist line with its time (✓ passed, ✗ failed,
– skipped: after a failure the later steps do not run), then what the
backup holds: its tables with their types and row counts, and the numbers of
indexes, views, triggers and statements. Needs the read token.

",
    following!(),
    "
Options:
",
    job_options!(),
    remote_options!(),
    "  -h, --help             show this help

",
    job_exit_status!(),
    "A backup that fails validation is exit 1 too, after its checklist.

Example, before restoring:
  d1-vault validate 20261121T020000.000Z-0a1b2c && \\
    d1-vault restore 20261121T020000.000Z-0a1b2c --confirm app-db
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut id, mut no_wait) = (RemoteArgs::default(), None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
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
    validate(&remote, &id, no_wait)
}

/// Starts a validation job for backup `id` and follows it (unless
/// `no_wait`). `Ok` only when every step passed.
pub fn validate(remote: &RemoteArgs, id: &str, no_wait: bool) -> Result<(), CliError> {
    let path = format!("/v1/backups/{}/validate", escape(id));
    let how = Start {
        remote,
        no_wait,
        database: None,
        timeout: Some(QUICK_TIMEOUT),
    };
    start(how, |client| client.post_empty(&path))
}

/// The end of a validation job: the checklist from its report, and what
/// the backup holds when every step passed. `Ok` only for a job that
/// succeeded with a report that says `"ok": true`.
pub fn conclude(job: &Job) -> Conclusion {
    let record = format!("see its record: d1-vault job {} --json", job.id);
    let Some(report) = &job.report else {
        return job_failure(job, &record);
    };
    let steps = report.get("steps").map(Json::items).unwrap_or_default();
    let mut out = checklist(steps);
    if job.state == State::Succeeded && report.get("ok").and_then(Json::as_bool) == Some(true) {
        out.push_str(&summary(steps, report.get("summary")));
        for warning in report.get("warnings").map(Json::items).unwrap_or_default() {
            out.push_str(&format!("Warning: {}\n", text(Some(warning))));
        }
        return Conclusion::ok(out);
    }
    let result = match first_failed(steps) {
        Some(step) if matches!(job.state, State::Succeeded | State::Failed) => {
            Err(CliError::Refused(format!(
                "backup {} failed validation: {}; it would not restore: pick another backup \
                 ('d1-vault list')",
                text(report.get("backup_id")),
                failure(step)
            )))
        }
        _ => {
            let ended = job_failure(job, &record);
            out.push_str(&ended.text);
            ended.result
        }
    };
    Conclusion { text: out, result }
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
fn dotted(step: &Json, width: usize) -> String {
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
fn detail(step: &Json) -> String {
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    /// A validation job in `state` whose report has steps 1-5, step
    /// `failed` failed and the later ones skipped.
    fn validation(state: &str, failed: Option<u64>) -> Job {
        let names = [
            "download",
            "integrity",
            "decrypt",
            "checksum",
            "sql validation",
        ];
        let steps: Vec<String> = (1..=5u64)
            .map(|n| {
                let status = match failed {
                    Some(f) if n == f => "failed",
                    Some(f) if n > f => "skipped",
                    _ => "passed",
                };
                format!(
                    r#"{{"step":{n},"name":"{}","status":"{status}","detail":"d{n}","ms":200}}"#,
                    names[n as usize - 1]
                )
            })
            .collect();
        let report = format!(
            r#","report":{{"backup_id":"b1","ok":{},"steps":[{}],"summary":{{"tables":[
            {{"name":"users","type":"table","rows":3}}],"indexes":["i"],"views":[],
            "triggers":[],"statements":9}},"warnings":["no FTS5 content"]}}"#,
            failed.is_none(),
            steps.join(",")
        );
        job("validate", state, &report)
    }

    #[test]
    fn a_valid_backup_ends_with_its_checklist_and_contents() {
        let done = conclude(&validation("succeeded", None));
        assert!(done.result.is_ok());
        assert!(
            done.text
                .starts_with("✓ 1 download ............ 200 ms  d1\n"),
            "{}",
            done.text
        );
        assert!(done.text.contains(
            "\nValid: every step passed in 1.0 s. 1 tables, 1 indexes, 0 views, 0 triggers, \
             9 statements.\n"
        ));
        assert!(done.text.contains("users  table     3\n"), "{}", done.text);
        assert!(
            done.text.ends_with("Warning: no FTS5 content\n"),
            "{}",
            done.text
        );
    }

    #[test]
    fn an_invalid_backup_names_the_step_that_failed() {
        let done = conclude(&validation("failed", Some(3)));
        assert!(done.text.contains("✗ 3 decrypt"), "{}", done.text);
        assert!(done.text.contains("– 4 checksum"), "{}", done.text);
        assert_eq!(
            done.result.unwrap_err().to_string(),
            "backup b1 failed validation: step 3 decrypt: d3; it would not restore: pick \
             another backup ('d1-vault list')"
        );
    }

    #[test]
    fn a_cancelled_or_reportless_validation_is_an_error_too() {
        let cancelled = conclude(&validation("cancelled", Some(2)));
        assert!(cancelled
            .result
            .unwrap_err()
            .to_string()
            .starts_with("validate job j1 was cancelled at step upload"));
        let bare = conclude(&job("validate", "failed", r#","error":"no such backup""#));
        assert_eq!(
            bare.result.unwrap_err().to_string(),
            "validate job j1 failed at step upload after 1 min 5 s: no such backup; see its \
             record: d1-vault job j1 --json"
        );
    }
}
