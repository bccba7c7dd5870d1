//! How a restore job ended, in words: the job's state says how, its report
//! (the worker's `RestoreReport`) why; then what state the database is in
//! now and what to do about it, the time per step, the verification, the
//! rollback and the warnings.

use crate::common::CliError;
use crate::job_record::{Job, State};
use crate::json::Json;
use crate::outcome::{capitalized, took, what, Conclusion};
use crate::render::{fields, flatten, text, Align, Table};
use crate::validate::{checklist, failure, first_failed, status, time};

/// The first step that changes the database (drop objects).
const FIRST_WRITING_STEP: u64 = 7;

/// The database in words: `database app-db`, or `the database` when this
/// CLI was not told its name (following a job it did not start).
pub fn database_words(database: Option<&str>) -> String {
    database.map_or_else(|| "the database".into(), |name| format!("database {name}"))
}

/// The command that restores backup `id` into `database`.
pub fn restore_command(id: &str, database: Option<&str>) -> String {
    format!(
        "d1-vault restore {id} --confirm {}",
        database.unwrap_or("<database>")
    )
}

/// The report's outcome: succeeded, failed, rolled_back or rollback_failed.
fn outcome(report: &Json) -> Option<&str> {
    report.get("outcome").and_then(Json::as_str)
}

/// The report's steps.
fn steps(report: &Json) -> &[Json] {
    report.get("steps").map(Json::items).unwrap_or_default()
}

/// Whether the restore got as far as changing the database.
fn wrote(report: &Json) -> bool {
    steps(report).iter().any(|step| {
        step.get("step")
            .and_then(Json::as_u64)
            .is_some_and(|number| number >= FIRST_WRITING_STEP)
            && matches!(status(step), "passed" | "failed" | "started")
    })
}

/// The safety backup's id, if one was taken.
fn safety_backup(report: &Json) -> Option<&str> {
    report.get("safety_backup_id").and_then(Json::as_str)
}

/// Whether the restore was asked not to take a safety backup (and took none).
fn skipped_safety_backup(report: &Json) -> bool {
    safety_backup(report).is_none()
        && report.get("safety_backup_skipped").and_then(Json::as_bool) == Some(true)
}

/// What state the database is in now, and what to do about it.
fn consequence(report: &Json, database: Option<&str>) -> String {
    let db = database_words(database);
    let way_back = match safety_backup(report) {
        Some(id) => format!(
            "restore the safety backup: {}",
            restore_command(id, database)
        ),
        None => "no safety backup was taken: restore another backup (see 'd1-vault list')".into(),
    };
    match outcome(report) {
        Some("succeeded") => format!("{db} now holds backup {}", text(report.get("backup_id"))),
        Some("rolled_back") => format!(
            "{db} was restored to its prior state from the safety backup {}",
            safety_backup(report).unwrap_or("taken at step 6")
        ),
        Some("rollback_failed") => {
            format!("{db} may be empty or partly restored and needs you now; {way_back}")
        }
        Some("failed") if !wrote(report) => format!("{db} was not changed"),
        _ => format!("{db} may have been changed; {way_back}"),
    }
}

/// Why the restore failed: its first failed step, or the job's error.
fn cause(job: &Job) -> String {
    let failed = job
        .report
        .as_ref()
        .and_then(|report| first_failed(steps(report)));
    match (failed, &job.error) {
        (Some(step), _) => failure(step),
        (None, Some(error)) => error.clone(),
        (None, None) => "no step says why".into(),
    }
}

/// The conclusion of a final restore job. The job's state says how it
/// ended; its report (when it has one) says why, and what the database
/// holds now.
pub fn conclude(job: &Job, database: Option<&str>) -> Conclusion {
    let db = database_words(database);
    let report = job.report.as_ref();
    let took = took(job);
    let aftermath = || {
        report.map_or_else(
            || format!("{db} was not changed"),
            |r| consequence(r, database),
        )
    };
    let core = match &job.state {
        State::Succeeded => match report.and_then(outcome) {
            Some("succeeded") | None => {
                let backup =
                    report.map_or_else(|| "the backup".into(), |r| text(r.get("backup_id")));
                let core = format!(
                    "restore job {} succeeded in {took}: {db} now holds backup {backup}",
                    job.id
                );
                return Conclusion::ok(with_body(&core, job, database));
            }
            Some(other) => format!(
                "restore job {} ended with outcome {other:?} after {took}: {}; {}",
                job.id,
                cause(job),
                aftermath()
            ),
        },
        State::Failed => format!(
            "restore job {} failed after {took}: {}; {}",
            job.id,
            cause(job),
            aftermath()
        ),
        State::RolledBack => format!(
            "restore job {} failed after {took}: {}; it was rolled back: {db} was restored to \
             its prior state from the safety backup {}",
            job.id,
            cause(job),
            report.and_then(safety_backup).unwrap_or("taken at step 6")
        ),
        State::RollbackFailed if report.is_some_and(skipped_safety_backup) => format!(
            "restore job {} failed after {took}: {}; no safety backup was taken \
             (--skip-safety-backup), so nothing could be rolled back: {db} may be empty or partly \
             restored and needs you now; restore another backup (see 'd1-vault list')",
            job.id,
            cause(job)
        ),
        State::RollbackFailed => {
            let way_back = match report.and_then(safety_backup) {
                Some(id) => restore_command(id, database),
                None => format!(
                    "find its pre-restore backup with 'd1-vault list', then {}",
                    restore_command("<id>", database)
                ),
            };
            format!(
                "restore job {} failed after {took}: {}, and the rollback failed too: {db} may \
                 be empty or partly restored and needs you now; restore the safety backup: \
                 {way_back}",
                job.id,
                cause(job)
            )
        }
        State::Cancelled => format!("{} after {took}: {}", what(job), aftermath()),
        State::Queued | State::Running | State::Other(_) => format!(
            "{} after {took}; see its record: d1-vault job {} --json",
            what(job),
            job.id
        ),
    };
    Conclusion {
        text: with_body(&core, job, database),
        result: Err(CliError::Refused(core)),
    }
}

/// The headline, then the report's details when there is a report.
fn with_body(core: &str, job: &Job, database: Option<&str>) -> String {
    let mut out = format!("{}.\n", capitalized(core));
    if let Some(report) = &job.report {
        out.push_str(&body(report, database, &job.id));
    }
    out
}

/// The report's details: the facts, the time per step, the verification,
/// the rollback and the warnings.
fn body(report: &Json, database: Option<&str>, job_id: &str) -> String {
    let mut rows = text(report.get("rows_imported"));
    if let Some(statements) = report.get("statements_imported") {
        rows.push_str(&format!(" in {} statements", text(Some(statements))));
    }
    let safety = match safety_backup(report) {
        Some(id) => format!(
            "{id} (pinned), the data from before this restore; to bring it back:\n  {}",
            restore_command(id, database)
        ),
        None if report.get("safety_backup_skipped").and_then(Json::as_bool) == Some(true) => {
            "none (--skip-safety-backup)".into()
        }
        None => "none taken".into(),
    };
    let facts = [
        ("Backup".to_owned(), text(report.get("backup_id"))),
        ("Rows imported".to_owned(), rows),
        ("Safety backup".to_owned(), safety),
        ("Report".to_owned(), format!("d1-vault job {job_id} --json")),
    ];
    let mut out = fields(&facts);
    let mut table = Table::new(&[
        ("STEP", Align::Right),
        ("NAME", Align::Left),
        ("STATUS", Align::Left),
        ("TIME", Align::Right),
    ]);
    for step in steps(report) {
        table.row(vec![
            text(step.get("step")),
            text(step.get("name")),
            status(step).to_owned(),
            time(step),
        ]);
    }
    out.push_str(&format!("\nTime per step:\n{}", table.render()));
    out.push_str(&section("Verification", report.get("verification")));
    out.push_str(&section("Rollback", report.get("rollback")));
    out.push_str(&section("Warnings", report.get("warnings")));
    out
}

/// A titled part of the summary, indented: a list of steps or checks as a
/// checklist, an object as fields, a list of words one a line; nothing for
/// null or an empty list.
fn section(title: &str, value: Option<&Json>) -> String {
    let body = match value {
        None | Some(Json::Null) => return String::new(),
        Some(Json::Array(items)) if items.is_empty() => return String::new(),
        Some(Json::Array(items)) if items.iter().all(|item| item.as_str().is_some()) => items
            .iter()
            .map(|item| format!("{}\n", text(Some(item))))
            .collect(),
        Some(Json::Array(items)) => checklist(items),
        Some(other) => fields(&flatten(other)),
    };
    let mut out = format!("\n{title}:\n");
    for line in body.lines() {
        out.push_str(&format!("  {line}\n"));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    /// A restore job in `state` whose report has `outcome`, step
    /// `failed_step` failed and the later ones skipped.
    fn restore(state: &str, outcome: &str, failed_step: Option<u64>) -> Job {
        let steps: Vec<String> = (1..=10)
            .map(|n| {
                let status = match failed_step {
                    Some(f) if n == f => "failed",
                    Some(f) if n > f => "skipped",
                    _ => "passed",
                };
                format!(
                    r#"{{"step":{n},"name":"s{n}","status":"{status}","detail":"d{n}","ms":1500}}"#
                )
            })
            .collect();
        let report = format!(
            r#","report":{{"restore_id":"r1","backup_id":"b1","outcome":"{outcome}",
            "safety_backup_id":"pre-1","safety_backup_skipped":false,
            "rows_imported":12,"statements_imported":3,"steps":[{}],
            "verification":[{{"name":"rows","ok":true,"detail":"12 = 12"}}],
            "rollback":null,"warnings":["fts5 table skipped"]}}"#,
            steps.join(",")
        );
        job("restore", state, &report)
    }

    #[test]
    fn a_success_names_the_backup_now_in_the_database() {
        let done = conclude(&restore("succeeded", "succeeded", None), Some("app-db"));
        assert!(done.result.is_ok());
        let text = done.text;
        assert!(
            text.starts_with(
                "Restore job j1 succeeded in 1 min 5 s: database app-db now holds backup b1.\n"
            ),
            "{text}"
        );
        assert!(
            text.contains("Report:        d1-vault job j1 --json"),
            "{text}"
        );
        assert!(
            text.contains("d1-vault restore pre-1 --confirm app-db"),
            "{text}"
        );
        assert!(text.contains(" 8  s8    passed  1.5 s\n"), "{text}");
        assert!(text.contains("\nVerification:\n  ✓ rows"), "{text}");
        assert!(
            text.contains("\nWarnings:\n  fts5 table skipped\n"),
            "{text}"
        );
    }

    #[test]
    fn a_rollback_says_the_database_is_back_from_the_safety_backup() {
        let done = conclude(&restore("rolled_back", "rolled_back", Some(8)), None);
        assert_eq!(
            done.result.unwrap_err().to_string(),
            "restore job j1 failed after 1 min 5 s: step 8 s8: d8; it was rolled back: the \
             database was restored to its prior state from the safety backup pre-1"
        );
        assert!(
            done.text.starts_with("Restore job j1 failed after"),
            "{}",
            done.text
        );
    }

    #[test]
    fn a_failed_rollback_says_how_to_bring_the_data_back() {
        let done = conclude(
            &restore("rollback_failed", "rollback_failed", Some(9)),
            Some("db"),
        );
        let err = done.result.unwrap_err().to_string();
        assert!(
            err.contains("the rollback failed too: database db may be empty"),
            "{err}"
        );
        assert!(err.ends_with("restore the safety backup: d1-vault restore pre-1 --confirm db"));
        let bare = conclude(&job("restore", "rollback_failed", ""), None);
        let err = bare.result.unwrap_err().to_string();
        assert!(
            err.ends_with("'d1-vault list', then d1-vault restore <id> --confirm <database>"),
            "{err}"
        );
    }

    #[test]
    fn without_a_safety_backup_nothing_was_rolled_back() {
        let report = r#","report":{"restore_id":"r1","backup_id":"b1","outcome":"rollback_failed",
            "safety_backup_id":null,"safety_backup_skipped":true,"rows_imported":0,
            "steps":[{"step":8,"name":"import","status":"failed","detail":"batch 3"}],
            "verification":[],"rollback":null}"#;
        let done = conclude(&job("restore", "rollback_failed", report), Some("db"));
        assert_eq!(
            done.result.unwrap_err().to_string(),
            "restore job j1 failed after 1 min 5 s: step 8 import: batch 3; no safety backup was \
             taken (--skip-safety-backup), so nothing could be rolled back: database db may be \
             empty or partly restored and needs you now; restore another backup (see 'd1-vault \
             list')"
        );
        assert!(
            done.text
                .contains("Safety backup: none (--skip-safety-backup)\n"),
            "{}",
            done.text
        );
    }

    #[test]
    fn a_failure_before_writing_left_the_database_unchanged() {
        let done = conclude(&restore("failed", "failed", Some(4)), Some("db"));
        assert_eq!(
            done.result.unwrap_err().to_string(),
            "restore job j1 failed after 1 min 5 s: step 4 s4: d4; database db was not changed"
        );
        let cancelled = conclude(&job("restore", "cancelled", ""), None);
        assert_eq!(
            cancelled.text,
            "Restore job j1 was cancelled at step upload after 1 min 5 s: the database was not \
             changed.\n"
        );
        assert!(cancelled.result.is_err());
    }

    #[test]
    fn a_succeeded_job_whose_report_says_otherwise_is_an_error() {
        let done = conclude(&restore("succeeded", "failed", Some(9)), None);
        assert!(done.result.is_err());
    }
}
