//! `d1-vault validate` and `d1-vault restore` against a fake worker
//! (`cli_support::worker`) that speaks the job protocol: the request that
//! starts the job is answered `202` with it, then the CLI polls its events
//! until it is final. Checks the requests, the steps shown as they happen,
//! the checklist and summary read from the job's report, `--json` lines,
//! and the exit statuses.

mod cli_support;

use std::io::{BufRead, BufReader, Read};

use cli_support::worker::{error, finish, run, Answer, FakeWorker, Job, ADMIN_TOKEN, READ_TOKEN};
use cli_support::Run;
use serde_json::{json, Value};

/// The restore steps' names, by number from 1.
const NAMES: [&str; 10] = [
    "download",
    "integrity",
    "decrypt",
    "checksum",
    "sql validation",
    "safety backup",
    "drop objects",
    "import",
    "verify",
    "report",
];

/// A step as a validation or restore report carries it. (Objects built
/// with `json!` go out with their keys sorted, and are printed so.)
fn step(number: usize, status: &str, detail: &str, ms: u64) -> Value {
    json!({"step": number, "name": NAMES[number - 1], "status": status, "detail": detail, "ms": ms})
}

/// The events of a step as the worker's journal records them: started
/// (unless skipped), then finished, each with the step's report as detail;
/// a rollback's steps are named `rollback: <name>`.
fn with_step(job: Job, step: &Value, rollback: bool) -> Job {
    let number = &step["step"];
    let name = step["name"].as_str().unwrap();
    let status = step["status"].as_str().unwrap();
    let detail = step["detail"].as_str().unwrap();
    let (prefix, step_name) = if rollback {
        ("rollback ", format!("rollback: {name}"))
    } else {
        ("", name.to_owned())
    };
    let mut job = job;
    if status != "skipped" {
        let mut started = step.clone();
        started["status"] = "started".into();
        started["detail"] = "".into();
        started["ms"] = 0.into();
        job = job.event(
            "step_started",
            Some(&step_name),
            None,
            &format!("{prefix}step {number} ({name}) started"),
            Some(&started.to_string()),
        );
    }
    let mut message = format!("{prefix}step {number} ({name}) {status}");
    if !detail.is_empty() {
        message.push_str(&format!(": {detail}"));
    }
    job.event(
        "step_finished",
        Some(&step_name),
        Some(status),
        &message,
        Some(&step.to_string()),
    )
}

/// The five validation steps: all passed, or step 4 failed and 5 skipped.
fn validation_steps(valid: bool) -> Vec<Value> {
    let mut steps = vec![
        step(1, "passed", "4.5 MiB read from R2", 120),
        step(2, "passed", "format v1, key 0123456789abcdef", 1),
        step(3, "passed", "72 chunks authenticated", 850),
    ];
    if valid {
        steps.push(step(4, "passed", "sha256 matches the manifest", 30));
        steps.push(step(5, "passed", "40 statements\nall allowed", 410));
    } else {
        steps.push(step(
            4,
            "failed",
            "sha256 of the SQL is aa..., the manifest says bb...",
            30,
        ));
        steps.push(step(5, "skipped", "", 0));
    }
    steps
}

/// A `ValidationReport` of backup b1, as text with its keys in the
/// worker's order.
fn validation_report(valid: bool) -> String {
    let summary = if valid {
        json!({
            "tables": [{"name": "users", "type": "table", "rows": 200},
                       {"name": "tasks_fts", "type": "virtual", "rows": 3000}],
            "indexes": ["users_email_lower_uq", "teams_slug_live_uq"],
            "views": ["team_overview"], "triggers": [], "statements": 40,
        })
        .to_string()
    } else {
        "null".into()
    };
    let steps = Value::from(validation_steps(valid)).to_string();
    format!(
        r#"{{"backup_id":"b1","ok":{valid},"steps":{steps},"summary":{summary},"warnings":[]}}"#
    )
}

/// A validation job `id` of backup b1: it succeeds with a valid report, or
/// fails at step 4 with an invalid one (as the worker ends a backup that
/// does not validate).
fn validation_job(id: &str, valid: bool) -> Job {
    let state = if valid { "succeeded" } else { "failed" };
    let mut job = Job::new(id, "validate", state).params(r#"{"backup_id":"b1"}"#);
    for step in validation_steps(valid) {
        job = with_step(job, &step, false);
    }
    if !valid {
        job = job
            .error("step 4 (checksum) failed: sha256 of the SQL is aa..., the manifest says bb...");
    }
    job.report(validation_report(valid))
}

/// A restore job `j1` of backup b1 that ends with `outcome`, its events as
/// the worker records them and its `RestoreReport`:
///
/// - `succeeded`: all ten steps pass.
/// - `failed`: step 4 fails validation, 5-10 are skipped, nothing is written.
/// - `rolled_back`: the import (8) fails; 7-9 run again with the safety backup.
/// - `rollback_failed`: the same without a safety backup (skipped at 6),
///   so nothing could be rolled back.
fn restore_job(outcome: &str) -> Job {
    let mut done = Vec::new();
    for number in 1..=10 {
        let (status, detail, ms) = match (outcome, number) {
            ("failed", 4) => ("failed", "sha256 differs from the manifest", 30),
            ("failed", 5..) => ("skipped", "", 0),
            ("rollback_failed", 6) => ("skipped", "skipped at the operator's request", 0),
            (_, 6) => ("passed", "pre-restore backup pre1 (pinned)", 1200),
            ("rolled_back" | "rollback_failed", 8) => ("failed", "batch 3: SQLITE_TOOBIG", 700),
            ("rolled_back" | "rollback_failed", 9) => continue,
            (_, 8) => ("passed", "3200 rows in 40 statements", 2300),
            _ => ("passed", "", 40),
        };
        done.push(step(number, status, detail, ms));
    }
    let rollback: Option<Vec<Value>> = (outcome == "rolled_back").then(|| {
        vec![
            step(7, "passed", "user objects dropped", 20),
            step(8, "passed", "3100 rows", 2100),
            step(9, "passed", "15 checks passed", 90),
        ]
    });
    let mut job = Job::new("j1", "restore", outcome).params(
        r#"{"backup_id":"b1","confirm":"app-db","skip_safety_backup":false,
            "allow_cross_environment":false}"#,
    );
    for step in &done[..done.len() - 1] {
        job = with_step(job, step, false);
    }
    for step in rollback.iter().flatten() {
        job = with_step(job, step, true);
    }
    if outcome == "rollback_failed" {
        job = job.warning(
            Some("import"),
            "no safety backup was taken (skip_safety_backup), so nothing could be rolled back: \
             the database is partly restored and needs an operator",
        );
    }
    job = with_step(job, done.last().unwrap(), false);
    job = match outcome {
        "failed" => job.error(
            "step 4 (checksum) failed: sha256 differs from the manifest. The database was not \
             changed",
        ),
        "rolled_back" => job.error(
            "step 8 (import) failed: batch 3: SQLITE_TOOBIG. The database was restored to its \
             state before the restore from the safety backup pre1",
        ),
        "rollback_failed" => job.error(
            "step 8 (import) failed: batch 3: SQLITE_TOOBIG. The rollback failed too: the \
             database may be partly restored. Restore the safety backup (none was taken) by hand",
        ),
        _ => job,
    };
    let check = |name: &str, detail: &str| json!({"name": name, "ok": true, "detail": detail});
    let verification = match outcome {
        "failed" => vec![],
        _ => vec![
            check("rows of users", "expected 200, found 200"),
            check("schema hash", "expected cc, found cc"),
            check("rows of memberships_by_team", "expected 466, found 466"),
            check(
                "indexes",
                &format!(
                    "expected {0}, found {0}",
                    ["a_long_index_name"; 5].join(", ")
                ),
            ),
            check("foreign_key_check", "0 violations; 0 at backup time"),
        ],
    };
    let succeeded = outcome == "succeeded";
    let report = json!({
        "restore_id": "r1", "backup_id": "b1", "outcome": outcome,
        "started_at": "2026-11-21T02:00:01.000Z", "finished_at": "2026-11-21T02:00:05.500Z",
        "safety_backup_id": if outcome == "rollback_failed" || outcome == "failed" { None } else { Some("pre1") },
        "safety_backup_skipped": outcome == "rollback_failed",
        "rows_imported": if succeeded { 3200 } else { 0 },
        "statements_imported": if succeeded { 40 } else { 0 },
        "steps": done, "verification": verification, "rollback": rollback, "warnings": [],
    });
    job.report(report.to_string())
}

/// `restore b1 --confirm app-db --yes` and `extra` against `worker`.
fn restore(worker: &FakeWorker, extra: &[&str]) -> Run {
    let mut args = vec!["restore", "b1", "--confirm", "app-db", "--yes"];
    args.extend(extra);
    worker.run_admin(&args)
}

#[test]
fn validate_prints_a_checklist_and_the_tables_and_exits_0_when_valid() {
    let job = validation_job("j1", true);
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/validate",
        Answer::Start(job.clone()),
    )]);
    let run = worker.run(&["validate", "b1"]).expect_followed(0);
    assert_eq!(
        run.stdout_text(),
        "\
✓ 1 download ............ 120 ms  4.5 MiB read from R2
✓ 2 integrity ...........   1 ms  format v1, key 0123456789abcdef
✓ 3 decrypt ............. 850 ms  72 chunks authenticated
✓ 4 checksum ............  30 ms  sha256 matches the manifest
✓ 5 sql validation ...... 410 ms  40 statements all allowed

Valid: every step passed in 1.4 s. 2 tables, 2 indexes, 1 views, 0 triggers, 40 statements.

NAME       TYPE     ROWS
users      table     200
tasks_fts  virtual  3000
"
    );
    let requests = worker.requests();
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/backups/b1/validate".to_owned(),
            "GET /v1/jobs/j1/events?after=0".to_owned(),
            format!("GET /v1/jobs/j1/events?after={}", job.event_texts().len()),
        ]
    );
    assert_eq!(requests[0].text(), "", "an empty body");
    for request in &requests {
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {READ_TOKEN}")),
            "{}",
            request.line
        );
        assert_eq!(request.accept.as_deref(), Some("application/json"));
    }
    assert!(
        run.stderr.contains(
            "\n02:00:00Z download finished in 120 ms: step 1 (download) passed: 4.5 MiB read \
             from R2\n"
        ),
        "each step as it ended: {}",
        run.stderr
    );
}

#[test]
fn validate_shows_the_failed_and_skipped_steps_and_exits_1_when_not_valid() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/validate",
        Answer::Start(validation_job("j1", false)),
    )]);
    let run = worker.run(&["validate", "b1"]).expect_followed(1);
    let stdout = run.stdout_text();
    assert!(
        stdout.ends_with(
            "\
✗ 4 checksum ............  30 ms  failed: sha256 of the SQL is aa..., the manifest says bb...
– 5 sql validation ......         skipped
"
        ),
        "{stdout}"
    );
    assert!(!stdout.contains("Valid"), "{stdout}");
    assert_eq!(
        run.error_line(),
        "d1-vault: backup b1 failed validation: step 4 checksum: sha256 of the SQL is aa..., \
         the manifest says bb...; it would not restore: pick another backup ('d1-vault list')"
    );
    assert!(
        run.stderr
            .contains(" checksum failed in 30 ms: step 4 (checksum) failed: sha256 of the SQL"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_json_prints_the_events_then_the_job_with_its_report_as_sent() {
    let valid = validation_job("j1", true);
    let invalid = validation_job("j2", false);
    let worker = FakeWorker::start(vec![
        ("POST /v1/backups/b1/validate", Answer::Start(valid.clone())),
        ("POST /v1/backups/b2/validate", Answer::Start(invalid)),
    ]);
    let run = worker.run(&["validate", "b1", "--json"]).expect_followed(0);
    assert_eq!(run.stderr, "");
    let mut expected = valid.event_texts();
    expected.push(valid.finished());
    assert_eq!(run.stdout_text(), expected.join("\n") + "\n");
    let last = run.stdout_text().lines().last().unwrap().to_owned();
    let printed: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(
        printed["report"],
        serde_json::from_str::<Value>(&validation_report(true)).unwrap()
    );
    assert!(last.find("\"backup_id\"").unwrap() < last.find("\"ok\"").unwrap());

    let run = worker.run(&["validate", "b2", "--json"]).expect_followed(1);
    let last = run.stdout_text().lines().last().unwrap().to_owned();
    let printed: Value = serde_json::from_str(&last).unwrap();
    assert_eq!(printed["state"], "failed");
    assert_eq!(printed["report"]["ok"], false);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "only the error: {}",
        run.stderr
    );
}

#[test]
fn validate_refusals_are_exit_1_and_a_missing_id_is_exit_2() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b3/validate",
        Answer::Body(422, error("invalid", "manifest of b3 is unreadable")),
    )]);
    let run = worker.run(&["validate", "b9"]).expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: no route POST /v1/backups/b9/validate (HTTP 404 not_found)\n"
    );
    let run = worker.run(&["validate", "b3"]).expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: manifest of b3 is unreadable (HTTP 422 invalid)\n"
    );
    assert!(run.stdout.is_empty());
    worker.run(&["validate"]).expect(2);
    assert_eq!(worker.lines().len(), 2);
}

#[test]
fn restore_needs_confirm_and_yes_without_a_terminal_before_any_request() {
    let worker = FakeWorker::start(vec![]);
    let run = worker.run_admin(&["restore", "b1"]).expect(2);
    assert!(
        run.stderr.contains("missing --confirm <database-name>"),
        "{}",
        run.stderr
    );
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db"])
        .expect(2);
    assert_eq!(
        run.stderr,
        "d1-vault: not restoring backup b1 into app-db without confirmation: there is no \
         terminal to ask on; pass --yes (see 'd1-vault restore --help')\n"
    );
    worker
        .run_admin(&["restore", "b1", "--confirm", "", "--yes"])
        .expect(2);
    worker
        .run_admin(&["restore", "--confirm", "app-db", "--yes"])
        .expect(2);
    assert!(worker.lines().is_empty(), "nothing sent");
}

#[test]
fn restore_refused_by_the_worker_is_exit_1_with_its_message_and_starts_nothing() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Body(
                409,
                error(
                    "conflict",
                    "confirm \"app\" is not this worker's database \"app-db\"",
                ),
            ),
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Body(
                409,
                error(
                    "conflict",
                    "backup b2 was taken in environment \"production\", this worker is \
                     \"staging\"; pass allow_cross_environment: true if you mean it. Nothing \
                     was done",
                ),
            ),
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app", "--yes"])
        .expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: confirm \"app\" is not this worker's database \"app-db\" \
         (HTTP 409 conflict)\n"
    );
    assert!(run.stdout.is_empty());
    let request = &worker.requests()[0];
    assert_eq!(
        request.authorization.as_deref(),
        Some(&*format!("Bearer {ADMIN_TOKEN}"))
    );
    assert_eq!(
        request.json(),
        json!({"confirm": "app", "skip_safety_backup": false, "allow_cross_environment": false})
    );

    let run = worker
        .run_admin(&[
            "restore",
            "b2",
            "--confirm",
            "app-db",
            "-y",
            "--skip-safety-backup",
            "--allow-cross-environment",
        ])
        .expect(1);
    assert!(
        run.stderr
            .ends_with("Nothing was done (HTTP 409 conflict)\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        worker.requests()[1].json(),
        json!({"confirm": "app-db", "skip_safety_backup": true, "allow_cross_environment": true})
    );
    assert_eq!(worker.lines().len(), 2, "no job to follow");
}

#[test]
fn restore_prints_each_step_as_it_happens_then_the_summary() {
    // Held after the first step (events 3 and 4, after queued and started)
    // until the test has seen it: the CLI shows steps while the job runs.
    let job = restore_job("succeeded").hold(4);
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(job.clone()),
    )]);
    let mut child = worker
        .command(
            &["restore", "b1", "--confirm", "app-db", "--yes"],
            ADMIN_TOKEN,
        )
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|line: &String| line.contains("download finished"))
    {
        let mut line = String::new();
        assert_ne!(
            stderr.read_line(&mut line).unwrap(),
            0,
            "ended early: {seen:?}"
        );
        seen.push(line);
    }
    worker.open_gate();
    let mut rest = String::new();
    stderr.read_to_string(&mut rest).unwrap();
    let run = finish(child);
    assert!(
        !worker.gate_timed_out(),
        "the first step was shown only after the job had ended"
    );
    assert_eq!(run.code, 0, "{}{rest}", seen.concat());
    let total = job.event_texts().len();
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/backups/b1/restore".to_owned(),
            "GET /v1/jobs/j1/events?after=0".to_owned(),
            "GET /v1/jobs/j1/events?after=4".to_owned(),
            format!("GET /v1/jobs/j1/events?after={total}"),
        ],
        "each poll asks for the events after the last one seen"
    );

    let stderr = seen.concat() + &rest;
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(
        lines[..7],
        [
            "Following restore job j1 (queued). Ctrl-C stops following; the job goes on in the \
             worker.",
            "restore: queued, waiting for the worker to start it  0 B  0 rows",
            "02:00:00Z job queued",
            "02:00:00Z job started",
            "02:00:00Z download started: step 1 (download) started",
            "02:00:00Z download finished in 40 ms: step 1 (download) passed",
            "02:00:00Z integrity started: step 2 (integrity) started",
        ],
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "\n02:00:01Z safety backup finished in 1.2 s: step 6 (safety backup) passed: \
             pre-restore backup pre1 (pinned)\n"
        ),
        "{stderr}"
    );
    assert!(
        stderr.ends_with("\n02:00:05Z job succeeded\n\n"),
        "{stderr}"
    );

    let stdout = run.stdout_text();
    let (headline, rest) = stdout.split_once('\n').unwrap();
    assert_eq!(
        headline,
        "Restore job j1 succeeded in 4.5 s: database app-db now holds backup b1."
    );
    let expected_rest = "\
Backup:        b1
Rows imported: 3200 in 40 statements
Safety backup: pre1 (pinned), the data from before this restore; to bring it back:
  d1-vault restore pre1 --confirm app-db
Report:        d1-vault job j1 --json

Time per step:
STEP  NAME            STATUS   TIME
   1  download        passed  40 ms
   2  integrity       passed  40 ms
   3  decrypt         passed  40 ms
   4  checksum        passed  40 ms
   5  sql validation  passed  40 ms
   6  safety backup   passed  1.2 s
   7  drop objects    passed  40 ms
   8  import          passed  2.3 s
   9  verify          passed  40 ms
  10  report          passed  40 ms

Verification:
  ✓ rows of users ................  expected 200, found 200
  ✓ schema hash ..................  expected cc, found cc
  ✓ rows of memberships_by_team ..  expected 466, found 466
  ✓ indexes ......................  expected a_long_index_name, a_long_index_name, a_long_index_name, a_long_index_name, a_long_index_na...
  ✓ foreign_key_check ............  0 violations; 0 at backup time
";
    assert_eq!(rest, expected_rest);
}

#[test]
fn a_restore_that_rolled_back_is_exit_1_and_says_the_data_is_back() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(restore_job("rolled_back")),
    )]);
    let run = restore(&worker, &[]).expect_followed(1);
    let stdout = run.stdout_text();
    for part in [
        "Restore job j1 failed after 4.5 s: step 8 import: batch 3: SQLITE_TOOBIG; it was \
         rolled back: database app-db was restored to its prior state from the safety backup \
         pre1.\n",
        "   8  import          failed  700 ms\n  10  report          passed   40 ms\n",
        "\nRollback:\n\
         \x20 ✓ 7 drop objects ........  20 ms  user objects dropped\n\
         \x20 ✓ 8 import ..............  2.1 s  3100 rows\n\
         \x20 ✓ 9 verify ..............  90 ms  15 checks passed\n",
    ] {
        assert!(stdout.contains(part), "missing {part:?} in:\n{stdout}");
    }
    assert!(
        run.stderr.contains(
            "02:00:01Z import failed in 700 ms: step 8 (import) failed: batch 3: \
             SQLITE_TOOBIG\n\
             02:00:01Z rollback: drop objects started: rollback step 7 (drop objects) started\n"
        ),
        "the rollback's steps as they happen: {}",
        run.stderr
    );
    assert_eq!(
        run.error_line(),
        "d1-vault: restore job j1 failed after 4.5 s: step 8 import: batch 3: SQLITE_TOOBIG; \
         it was rolled back: database app-db was restored to its prior state from the safety \
         backup pre1"
    );
}

#[test]
fn a_failed_restore_says_whether_the_database_was_changed_and_what_to_do() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(restore_job("failed")),
    )]);
    let run = restore(&worker, &[]).expect_followed(1);
    let stdout = run.stdout_text();
    assert!(
        stdout.starts_with(
            "Restore job j1 failed after 4.5 s: step 4 checksum: sha256 differs from the \
             manifest; database app-db was not changed.\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Safety backup: none taken\n"), "{stdout}");
    assert!(
        stdout.contains("   5  sql validation  skipped\n"),
        "{stdout}"
    );
    assert!(
        !stdout.contains("Verification"),
        "no checks, no section: {stdout}"
    );
    assert!(
        run.stderr
            .contains("Z sql validation skipped: step 5 (sql validation) skipped\n"),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.error_line(),
        "d1-vault: restore job j1 failed after 4.5 s: step 4 checksum: sha256 differs from the \
         manifest; database app-db was not changed"
    );

    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(restore_job("rollback_failed")),
    )]);
    let run = restore(&worker, &["--skip-safety-backup"]).expect_followed(1);
    let stdout = run.stdout_text();
    assert!(
        stdout.contains("   6  safety backup   skipped\n"),
        "{stdout}"
    );
    assert!(
        stdout.contains("Safety backup: none (--skip-safety-backup)\n"),
        "{stdout}"
    );
    assert!(
        run.stderr.contains(
            " warning (import): no safety backup was taken (skip_safety_backup), so nothing \
             could be rolled back"
        ),
        "{}",
        run.stderr
    );
    assert_eq!(
        run.error_line(),
        "d1-vault: restore job j1 failed after 4.5 s: step 8 import: batch 3: SQLITE_TOOBIG; \
         no safety backup was taken (--skip-safety-backup), so nothing could be rolled back: \
         database app-db may be empty or partly restored and needs you now; restore another \
         backup (see 'd1-vault list')"
    );
}

#[test]
fn restore_json_prints_every_event_as_sent_then_the_final_job() {
    let succeeded = restore_job("succeeded");
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(succeeded.clone()),
    )]);
    let run = restore(&worker, &["--json"]).expect_followed(0);
    let mut expected = succeeded.event_texts();
    expected.push(succeeded.finished());
    assert_eq!(run.stdout_text(), expected.join("\n") + "\n");
    assert_eq!(run.stderr, "");

    let rolled_back = restore_job("rolled_back");
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Start(rolled_back.clone()),
    )]);
    let run = restore(&worker, &["--json"]).expect_followed(1);
    let stdout = run.stdout_text();
    assert_eq!(stdout.lines().last().unwrap(), rolled_back.finished());
    assert_eq!(stdout.lines().count(), rolled_back.event_texts().len() + 1);
    assert_eq!(
        run.stderr.lines().count(),
        1,
        "only the error: {}",
        run.stderr
    );
    assert!(run
        .stderr
        .starts_with("d1-vault: restore job j1 failed after 4.5 s: step 8 import: "));
}

#[test]
fn restore_validate_only_starts_a_validation_with_the_read_token() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/validate",
            Answer::Start(validation_job("j1", true)),
        ),
        (
            "POST /v1/backups/b2/validate",
            Answer::Start(validation_job("j2", false)),
        ),
    ]);
    let run = worker
        .run(&["restore", "b1", "--validate-only"])
        .expect_followed(0);
    assert!(
        run.stdout_text().starts_with("✓ 1 download"),
        "{}",
        run.stdout_text()
    );
    worker
        .run(&["restore", "b2", "--validate-only", "--confirm", "app-db"])
        .expect_followed(1);
    let starts: Vec<String> = worker
        .lines()
        .into_iter()
        .filter(|line| line.starts_with("POST"))
        .collect();
    assert_eq!(
        starts,
        [
            "POST /v1/backups/b1/validate",
            "POST /v1/backups/b2/validate"
        ]
    );
    assert!(worker
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&*format!("Bearer {READ_TOKEN}"))));
}

#[test]
fn answers_that_are_not_the_job_protocol_are_exit_3_naming_the_request() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Body(202, "{}".into()),
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Body(202, "<html>oops</html>".into()),
        ),
        (
            "POST /v1/backups/b3/restore",
            Answer::Start(restore_job("succeeded")),
        ),
        (
            "GET /v1/jobs/j1/events?after=0",
            Answer::Body(200, r#"{"jobs":[]}"#.into()),
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(3);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: the answer to POST {}/v1/backups/b1/restore is not a job (no \"id\"): \
             is the worker the same version as this CLI ({})?\n",
            worker.url,
            env!("CARGO_PKG_VERSION")
        )
    );
    let run = worker
        .run_admin(&["restore", "b2", "--confirm", "app-db", "--yes"])
        .expect(3);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: POST {0}/v1/backups/b2/restore answered HTTP 202 without JSON: is {0} a \
             d1-vault worker? (<html>oops</html>)\n",
            worker.url
        )
    );
    let run = worker
        .run_admin(&["restore", "b3", "--confirm", "app-db", "--yes"])
        .expect_followed(3);
    assert_eq!(
        run.error_line(),
        format!(
            "d1-vault: the answer to GET {}/v1/jobs/j1/events?after=0 is not a list of events \
             (no \"events\"): is the worker the same version as this CLI ({})?",
            worker.url,
            env!("CARGO_PKG_VERSION")
        )
    );
    assert!(run.stdout.is_empty());
}

#[test]
fn validate_and_restore_document_their_options_and_exit_status() {
    for (command, needles) in [
        ("validate", &["--json", "--no-wait", "fails validation"][..]),
        (
            "restore",
            &[
                "--confirm <name>",
                "--validate-only",
                "--skip-safety-backup",
                "--allow-cross-environment",
                "--yes",
                "--json",
                "--no-wait",
                "rolled back",
            ][..],
        ),
    ] {
        let usage = run(&[command, "--help"], &[]).expect(0).stdout_text();
        assert!(
            usage.starts_with(&format!("Usage: d1-vault {command} <backup-id>")),
            "{usage}"
        );
        for needle in ["--url <url>", "D1_VAULT_TOKEN", "Exit status: 0"]
            .iter()
            .chain(needles)
        {
            assert!(usage.contains(needle), "{command} --help lacks {needle}");
        }
        let help = run(&["help", command], &[]).expect(0);
        assert_eq!(help.stdout_text(), usage);
        run(&[command, "b1", "--bogus"], &[]).expect(2);
    }
}
