//! `d1-vault backup`: have a deployed worker take a backup now, and follow
//! the job to its end.

use lexopt::Arg::{Long, Short};
use serde_json::json;

use crate::common::{print_usage, text_value, CliError, Command};
use crate::job_record::{Job, State};
use crate::json::Json;
use crate::outcome::{capitalized, failure, took, what, Conclusion};
use crate::remote::{remote_options, RemoteArgs, RemoteOption, QUICK_TIMEOUT};
use crate::render::{human_bytes, human_duration, text};
use crate::start::{following, job_exit_status, job_options, start, Start};

pub const COMMAND: Command = Command {
    name: "backup",
    summary: "have the worker take a backup now, and follow it",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault backup [--pin] [--note <text>] [--no-wait] [--json]
                       [--url <url>] [--token <token>]

Has the worker take a backup now, as the nightly cron does: it dumps the
database, encrypts the dump, stores it in R2 and writes its manifest. Ends
with a summary: id, size, tables, rows, how long it took, the key it was
encrypted with, and any warnings. Needs the admin token.

",
    following!(),
    "
Options:
      --pin              keep this backup whatever the retention policy says
                         (deleting it then needs 'd1-vault delete --force')
      --note <text>      store a note in the manifest, e.g. why it was taken
",
    job_options!(),
    remote_options!(),
    "  -h, --help             show this help

",
    job_exit_status!(),
    "
Example, before a risky migration:
  d1-vault backup --pin --note \"before migration 0007\"
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut pin, mut note, mut no_wait) = (RemoteArgs::default(), false, None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("pin") => pin = true,
            Long("note") => {
                let value = parser.value()?;
                let value = text_value(value, "--note")?;
                note = Some(value);
            }
            Long("no-wait") => no_wait = true,
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let mut body = json!({ "pin": pin });
    if let Some(note) = note {
        body["note"] = note.into();
    }
    let how = Start {
        remote: &remote,
        no_wait,
        database: None,
        timeout: Some(QUICK_TIMEOUT),
    };
    start(how, |client| client.post("/v1/backups", &body))
}

/// The end of a backup job: the summary of the new backup, read from the
/// job's report (its manifest), or why there is none.
pub fn conclude(job: &Job) -> Conclusion {
    match (&job.state, &job.report) {
        (State::Succeeded, Some(report)) => Conclusion::ok(summary(report)),
        (State::Succeeded, None) => Conclusion::ok(format!(
            "{} in {}: see 'd1-vault list'.\n",
            capitalized(&what(job)),
            took(job)
        )),
        _ => failure(
            job,
            "no backup was stored, and the earlier ones are untouched; run 'd1-vault backup' \
             again, and if it fails again see 'd1-vault status' and the worker's log \
             ('wrangler tail')",
        ),
    }
}

/// One paragraph about the new backup, its warnings, then how to see all
/// of it. Reads a manifest (`tables` a list, sizes under `ciphertext` and
/// `plaintext`, `encryption.key_id`) or a listing's summary of one
/// (`tables` and `rows` counts, `bytes`, `key_id`).
fn summary(report: &Json) -> String {
    let at = |path: &[&str]| path.iter().try_fold(report, |value, key| value.get(key));
    let id = text(report.get("id"));
    let (tables, rows) = match report.get("tables") {
        Some(Json::Array(tables)) => (
            tables.len().to_string(),
            tables
                .iter()
                .filter_map(|table| table.get("rows").and_then(Json::as_u64))
                .sum::<u64>()
                .to_string(),
        ),
        tables => (text(tables), text(report.get("rows"))),
    };
    let stored = at(&["ciphertext", "bytes"])
        .or(report.get("bytes"))
        .and_then(Json::as_u64);
    let size = stored.map_or_else(|| "?".to_owned(), human_bytes);
    let compressed = at(&["encryption", "format_version"]).and_then(Json::as_u64) >= Some(2);
    let sql = match (at(&["plaintext", "bytes"]).and_then(Json::as_u64), stored) {
        (Some(sql), Some(stored)) if compressed && sql > 0 => format!(
            " ({} of SQL, compressed to {:.0}%)",
            human_bytes(sql),
            stored as f64 * 100.0 / sql as f64
        ),
        (Some(sql), _) => format!(" ({} of SQL)", human_bytes(sql)),
        (None, _) => String::new(),
    };
    let took = report
        .get("duration_ms")
        .and_then(Json::as_u64)
        .map_or_else(|| "?".to_owned(), |ms| human_duration(ms as f64 / 1000.0));
    let key = text(at(&["encryption", "key_id"]).or(report.get("key_id")));
    let mut out = format!(
        "Backup {id} taken in {took}: {tables} tables, {rows} rows, {size} encrypted{sql} \
         with key {key}."
    );
    if report.get("pinned").and_then(Json::as_bool) == Some(true) {
        out.push_str(" Pinned: kept whatever the retention policy says.");
    }
    if let Some(note) = report.get("note").and_then(Json::as_str) {
        out.push_str(&format!(" Note: {note}"));
    }
    out.push('\n');
    for warning in report.get("warnings").map(Json::items).unwrap_or_default() {
        out.push_str(&format!("Warning: {}\n", warning_text(warning)));
    }
    out.push_str(&format!("Details: d1-vault show {id}\n"));
    out
}

/// A manifest warning (`{"code","table","message"}`) or a plain string.
fn warning_text(warning: &Json) -> String {
    let message = warning
        .get("message")
        .map_or_else(|| text(Some(warning)), |message| text(Some(message)));
    match warning.get("table").and_then(Json::as_str) {
        Some(table) => format!("{table}: {message}"),
        None => message,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    #[test]
    fn a_manifest_report_reads_as_before() {
        let report = r#","report":{"id":"b1","duration_ms":2500,"pinned":true,"note":"pre-0007",
            "encryption":{"key_id":"k1"},"plaintext":{"bytes":4096},"ciphertext":{"bytes":5120},
            "tables":[{"name":"a","rows":2},{"name":"b","rows":3}],
            "warnings":[{"code":"fk","table":"b","message":"1 foreign key violation"}]}"#;
        let done = conclude(&job("backup", "succeeded", report));
        assert!(done.result.is_ok());
        assert_eq!(
            done.text,
            "Backup b1 taken in 2.5 s: 2 tables, 5 rows, 5.0 KiB encrypted (4.0 KiB of SQL) \
             with key k1. Pinned: kept whatever the retention policy says. Note: pre-0007\n\
             Warning: b: 1 foreign key violation\n\
             Details: d1-vault show b1\n"
        );
    }

    #[test]
    fn a_summary_report_reads_too() {
        let report = r#","report":{"id":"b2","bytes":100,"tables":4,"rows":9,"key_id":"k2",
            "warnings":["slow"]}"#;
        let text = conclude(&job("backup", "succeeded", report)).text;
        assert_eq!(
            text,
            "Backup b2 taken in ?: 4 tables, 9 rows, 100 B encrypted with key k2.\n\
             Warning: slow\nDetails: d1-vault show b2\n"
        );
    }

    #[test]
    fn a_failed_backup_says_nothing_was_stored() {
        let done = conclude(&job("backup", "failed", r#","error":"R2 refused a part""#));
        let err = done.result.unwrap_err().to_string();
        assert!(
            err.starts_with(
                "backup job j1 failed at step upload after 1 min 5 s: R2 refused a part; no \
                 backup was stored"
            ),
            "{err}"
        );
    }
}
