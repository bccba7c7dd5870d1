//! The worker's jobs from the CLI, against a fake worker
//! (`cli_support::worker`) that speaks the job protocol: `jobs`, `job <id>
//! [--follow]` and `cancel <id>`, and what every command that starts a job
//! shares: `--no-wait`, `--json` event lines, the exit status of a job that
//! does not succeed, the `409 job_running` refusal, Ctrl-C. `import`, which
//! uploads before its job starts, is in `cli_import.rs`.

mod cli_support;

use std::io::{BufRead, BufReader};
use std::process::Command;

use cli_support::worker::{error, finish, Answer, FakeWorker, Job, ADMIN_TOKEN, READ_TOKEN};
use serde_json::Value;

/// A compact manifest, as a backup job's report.
fn manifest(id: &str) -> String {
    format!(
        r#"{{"manifest_version":1,"id":"{id}","duration_ms":2500,"pinned":false,
        "encryption":{{"key_id":"0123456789abcdef"}},"plaintext":{{"bytes":4096}},
        "ciphertext":{{"bytes":5120}},"tables":[{{"name":"users","rows":2}},{{"name":"tasks","rows":3}}]}}"#
    )
}

/// A backup job `id` that took `b1` in two steps.
fn backup(id: &str) -> Job {
    Job::new(id, "backup", "succeeded")
        .params(r#"{"pin":false}"#)
        .progress(r#"{"bytes_done":4096,"bytes_total":4096,"rows_done":5,"rows_total":5}"#)
        .step("dump", "passed", "2 tables, 5 rows", 900)
        .step("upload", "passed", "5.0 KiB in 1 part", 300)
        .report(manifest("b1"))
}

/// A restore job `id` that runs at step import (5 events shown: queued,
/// started, download started and finished, import started) until the gate
/// opens.
fn running_restore(id: &str) -> Job {
    Job::new(id, "restore", "succeeded")
        .params(r#"{"backup_id":"b1","confirm":"app-db"}"#)
        .progress(r#"{"bytes_done":2048,"bytes_total":4096,"rows_done":10,"rows_total":20}"#)
        .step("download", "passed", "4.0 KiB read", 100)
        .step("import", "passed", "20 rows", 900)
        .hold(5)
}

fn bearer(token: &str) -> Option<String> {
    Some(format!("Bearer {token}"))
}

#[test]
fn jobs_lists_the_recent_jobs_newest_first_with_the_read_token() {
    let worker = FakeWorker::with_jobs(vec![], vec![backup("j1"), running_restore("j2")]);
    let run = worker.run(&["jobs"]).expect(0);
    assert_eq!(
        run.stdout_text(),
        "\
ID  KIND     STATE      STEP    PROGRESS                               CREATED                   UPDATED
j2  restore  running    import  2.0 KiB / 4.0 KiB (50%), 10 / 20 rows  2026-11-21T02:00:00.000Z  2026-11-21T02:00:00.500Z
j1  backup   succeeded  upload  4.0 KiB / 4.0 KiB (100%), 5 / 5 rows   2026-11-21T02:00:00.000Z  2026-11-21T02:00:05.500Z
"
    );
    let run = worker.run(&["jobs", "-n", "1", "--json"]).expect(0);
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(printed["jobs"].as_array().unwrap().len(), 1);
    assert_eq!(printed["jobs"][0]["id"], "j2");
    assert_eq!(
        worker.lines(),
        ["GET /v1/jobs?limit=20", "GET /v1/jobs?limit=1"]
    );
    assert!(worker
        .requests()
        .iter()
        .all(|r| r.authorization == bearer(READ_TOKEN)));

    let worker = FakeWorker::start(vec![]);
    let run = worker.run(&["jobs"]).expect(0);
    assert!(
        run.stdout_text().starts_with("no jobs yet"),
        "{}",
        run.stdout_text()
    );
    worker.run(&["jobs", "--limit", "0"]).expect(2);
}

#[test]
fn job_shows_the_record_and_once_it_has_ended_the_summary_of_its_command() {
    let worker = FakeWorker::with_jobs(vec![], vec![backup("j1"), running_restore("j2")]);
    let run = worker.run(&["job", "j1"]).expect(0);
    assert_eq!(
        run.stdout_text(),
        "\
id:          j1
kind:        backup
state:       succeeded
step:        upload
progress:    4.0 KiB / 4.0 KiB (100%), 5 / 5 rows
slices:      5
attempts:    1
created_at:  2026-11-21T02:00:00.000Z
started_at:  2026-11-21T02:00:01.000Z
updated_at:  2026-11-21T02:00:05.500Z
finished_at: 2026-11-21T02:00:05.500Z
error:       -

Backup b1 taken in 2.5 s: 2 tables, 5 rows, 5.0 KiB encrypted (4.0 KiB of SQL) with key 0123456789abcdef.
Details: d1-vault show b1
"
    );
    let run = worker.run(&["job", "j2"]).expect(0);
    let stdout = run.stdout_text();
    assert!(stdout.contains("\nstate:       running\n"), "{stdout}");
    assert!(
        stdout.ends_with("\nFollow it: d1-vault job j2 --follow\nCancel it: d1-vault cancel j2\n"),
        "{stdout}"
    );
    let run = worker.run(&["job", "j1", "--json"]).expect(0);
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    let sent: Value = serde_json::from_str(&backup("j1").finished()).unwrap();
    assert_eq!(printed, sent);
    assert!(
        run.stdout_text()
            .starts_with("{\n  \"id\": \"j1\",\n  \"kind\": \"backup\","),
        "indented, in the worker's order: {}",
        run.stdout_text()
    );
    let run = worker.run(&["job", "j9"]).expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: no job j9; jobs are kept for 30 days after they end (GET /v1/jobs lists \
         them) (HTTP 404 not_found)\n"
    );
    assert_eq!(
        worker.lines(),
        [
            "GET /v1/jobs/j1",
            "GET /v1/jobs/j2",
            "GET /v1/jobs/j1",
            "GET /v1/jobs/j9"
        ],
        "no events without --follow"
    );
    let run = worker.run(&["job"]).expect(2);
    assert!(run.stderr.contains("the job id"), "{}", run.stderr);
}

#[test]
fn job_follow_shows_every_event_of_an_ended_job_and_exits_as_its_command_would() {
    let failed = Job::new("j3", "backup", "failed")
        .step("dump", "passed", "2 tables", 900)
        .step("upload", "failed", "R2 refused part 2", 300)
        .error("R2 refused part 2")
        .page(2);
    let events = failed.event_texts().len();
    assert_eq!(events, 7);
    let worker = FakeWorker::with_jobs(vec![], vec![failed.clone()]);
    let run = worker.run(&["job", "j3", "--follow"]).expect_followed(1);
    assert_eq!(
        worker.lines(),
        [
            "GET /v1/jobs/j3",
            "GET /v1/jobs/j3/events?after=0",
            "GET /v1/jobs/j3/events?after=2",
            "GET /v1/jobs/j3/events?after=4",
            "GET /v1/jobs/j3/events?after=6",
            "GET /v1/jobs/j3/events?after=7",
        ],
        "pages of events, asked for without a pause once the job has ended"
    );
    assert_eq!(
        run.stderr,
        "\
Following backup job j3 (failed). Ctrl-C stops following; the job goes on in the worker.
02:00:00Z job queued
02:00:00Z job started
02:00:00Z dump started
02:00:00Z dump finished in 900 ms: 2 tables
02:00:00Z upload started
02:00:00Z upload failed in 300 ms: R2 refused part 2
02:00:05Z job failed: R2 refused part 2

d1-vault: backup job j3 failed at step upload after 4.5 s: R2 refused part 2; no backup was \
stored, and the earlier ones are untouched; run 'd1-vault backup' again, and if it fails again \
see 'd1-vault status' and the worker's log ('wrangler tail')
"
    );
    assert_eq!(
        run.stdout_text(),
        "Backup job j3 failed at step upload after 4.5 s: R2 refused part 2.\n\
         No backup was stored, and the earlier ones are untouched; run 'd1-vault backup' again, \
         and if it fails again see 'd1-vault status' and the worker's log ('wrangler tail').\n"
    );

    let run = worker
        .run(&["job", "j3", "--follow", "--json"])
        .expect_followed(1);
    let mut expected = failed.event_texts();
    expected.push(failed.finished());
    assert_eq!(run.stdout_text(), expected.join("\n") + "\n");
}

#[test]
fn a_restore_followed_from_elsewhere_speaks_of_the_database_and_rolls_back_with_exit_1() {
    let report = r#"{"restore_id":"r1","backup_id":"b1","outcome":"rolled_back",
        "safety_backup_id":"pre1","safety_backup_skipped":false,"rows_imported":0,
        "statements_imported":0,"steps":[{"step":8,"name":"import","status":"failed",
        "detail":"batch 3: SQLITE_TOOBIG","ms":700}],"verification":[],"rollback":[
        {"step":7,"name":"drop objects","status":"passed","detail":"","ms":20}],"warnings":[]}"#;
    let job = Job::new("j4", "restore", "rolled_back")
        .step("import", "failed", "batch 3: SQLITE_TOOBIG", 700)
        .step("rollback: drop objects", "passed", "", 20)
        .error("step 8 (import) failed: batch 3: SQLITE_TOOBIG")
        .report(report);
    let worker = FakeWorker::with_jobs(vec![], vec![job]);
    let run = worker.run(&["job", "j4", "--follow"]).expect_followed(1);
    assert_eq!(
        run.error_line(),
        "d1-vault: restore job j4 failed after 4.5 s: step 8 import: batch 3: SQLITE_TOOBIG; it \
         was rolled back: the database was restored to its prior state from the safety backup \
         pre1"
    );
    assert!(
        run.stdout_text()
            .contains("Safety backup: pre1 (pinned), the data from before this restore; to bring it back:\n  d1-vault restore pre1 --confirm <database>\n"),
        "{}",
        run.stdout_text()
    );
}

#[test]
fn every_final_state_but_succeeded_is_exit_1_with_the_reason_and_what_to_do() {
    let cases = [
        (
            Job::new("j1", "backup", "cancelled")
                .step("dump", "passed", "", 10)
                .error("cancelled by an operator"),
            "d1-vault: backup job j1 was cancelled at step dump after 4.5 s: cancelled by an \
             operator; no backup was stored",
        ),
        (
            Job::new("j1", "backup", "failed").error("the runtime died during every attempt"),
            "d1-vault: backup job j1 failed after 4.5 s: the runtime died during every attempt; \
             no backup was stored",
        ),
    ];
    for (job, start) in cases {
        let worker = FakeWorker::start(vec![("POST /v1/backups", Answer::Start(job))]);
        let run = worker.run_admin(&["backup"]).expect_followed(1);
        assert!(run.error_line().starts_with(start), "{}", run.stderr);
        assert!(
            run.stdout_text().ends_with(
                "No backup was stored, and the earlier ones are untouched; run 'd1-vault \
                 backup' again, and if it fails again see 'd1-vault status' and the worker's \
                 log ('wrangler tail').\n"
            ),
            "{}",
            run.stdout_text()
        );
    }
}

#[test]
fn cancel_asks_the_worker_with_the_admin_token_and_says_what_happens_next() {
    let queued = Job::new("j5", "backup", "cancelled");
    let worker = FakeWorker::with_jobs(
        vec![(
            "POST /v1/jobs/j5/cancel",
            Answer::Body(202, format!(r#"{{"job":{}}}"#, queued.finished())),
        )],
        vec![backup("j1"), running_restore("j2")],
    );
    let run = worker.run_admin(&["cancel", "j2"]).expect(0);
    assert_eq!(
        run.stdout_text(),
        "Cancelling restore job j2 (now running): it stops at its next slice; a restore that is \
         writing rolls back first. Follow it to its end: d1-vault job j2 --follow\n"
    );
    let run = worker.run_admin(&["cancel", "j2", "--json"]).expect(0);
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(printed["cancel_requested"], true);
    assert_eq!(printed["state"], "running");

    let run = worker.run_admin(&["cancel", "j5"]).expect(0);
    assert_eq!(run.stdout_text(), "Backup job j5 cancelled.\n");

    let run = worker.run_admin(&["cancel", "j1"]).expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: job j1 already ended (succeeded); nothing to cancel (HTTP 409 conflict); job \
         j1 has already ended: 'd1-vault job j1' shows how\n"
    );
    let run = worker.run_admin(&["cancel", "j9"]).expect(1);
    assert!(run.stderr.contains("no job j9"), "{}", run.stderr);
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/jobs/j2/cancel",
            "POST /v1/jobs/j2/cancel",
            "POST /v1/jobs/j5/cancel",
            "POST /v1/jobs/j1/cancel",
            "POST /v1/jobs/j9/cancel"
        ]
    );
    for request in worker.requests() {
        assert_eq!(request.authorization, bearer(ADMIN_TOKEN));
        assert!(request.body.is_empty());
    }
    worker.run_admin(&["cancel"]).expect(2);
    assert_eq!(worker.lines().len(), 5, "nothing sent without an id");
}

#[test]
fn no_wait_prints_the_job_id_once_accepted_and_does_not_follow() {
    let worker = FakeWorker::start(vec![
        ("POST /v1/backups", Answer::Start(backup("j1"))),
        (
            "POST /v1/backups/b1/validate",
            Answer::Start(Job::new("j2", "validate", "succeeded")),
        ),
        (
            "POST /v1/backups/b1/restore",
            Answer::Start(Job::new("j3", "restore", "succeeded")),
        ),
    ]);
    let run = worker.run_admin(&["backup", "--no-wait"]).expect(0);
    assert_eq!(run.stdout_text(), "j1\n");
    assert_eq!(
        run.stderr,
        "backup job j1 accepted (queued): follow it with 'd1-vault job j1 --follow'\n"
    );
    let run = worker
        .run(&["validate", "b1", "--no-wait", "--json"])
        .expect(0);
    assert_eq!(
        run.stdout_text(),
        format!("{}\n", Job::new("j2", "validate", "succeeded").accepted())
    );
    assert_eq!(run.stderr, "");
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes", "--no-wait"])
        .expect(0);
    assert_eq!(run.stdout_text(), "j3\n");
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/backups",
            "POST /v1/backups/b1/validate",
            "POST /v1/backups/b1/restore"
        ],
        "no polls"
    );
}

#[test]
fn json_prints_every_kind_of_event_as_sent_and_words_show_each_on_stderr() {
    let job = Job::new("j1", "backup", "succeeded")
        .step("dump", "passed", "2 tables", 900)
        .warning(Some("dump"), "table logs has 1 foreign key violation")
        .event(
            "retry",
            Some("upload"),
            None,
            "attempt 1 of 5 failed, retrying from the last checkpoint: R2 timed out",
            None,
        )
        .step("upload", "passed", "1 part", 300)
        .report(manifest("b1"));
    let worker = FakeWorker::start(vec![("POST /v1/backups", Answer::Start(job.clone()))]);
    let run = worker.run_admin(&["backup", "--json"]).expect_followed(0);
    assert_eq!(run.stderr, "");
    let stdout = run.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(lines[..lines.len() - 1], job.event_texts());
    for line in &lines {
        serde_json::from_str::<Value>(line).unwrap();
    }
    let kinds: Vec<String> = lines[..lines.len() - 1]
        .iter()
        .map(|line| serde_json::from_str::<Value>(line).unwrap()["kind"].to_string())
        .collect();
    assert_eq!(
        kinds.join(" "),
        r#""state" "state" "step_started" "step_finished" "warning" "retry" "step_started" "step_finished" "state""#
    );
    assert_eq!(lines[lines.len() - 1], job.finished());

    let run = worker.run_admin(&["backup"]).expect_followed(0);
    for line in [
        "\n02:00:00Z warning (dump): table logs has 1 foreign key violation\n",
        "\n02:00:00Z retry: attempt 1 of 5 failed, retrying from the last checkpoint: R2 timed out\n",
    ] {
        assert!(run.stderr.contains(line), "{line:?} in {}", run.stderr);
    }
}

#[test]
fn a_job_running_refusal_names_the_job_and_how_to_cancel_it() {
    // The worker's own message names the job in the way and the commands.
    let busy = "restore job j0 is running (step: import); only one backup, restore or import \
                runs at a time. Follow it with `d1-vault job j0 --follow` (GET /v1/jobs/j0), \
                wait for it to end, or cancel it with `d1-vault cancel j0`. Nothing was started";
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups",
        Answer::Body(409, error("job_running", busy)),
    )]);
    let run = worker.run_admin(&["backup"]).expect(1);
    assert_eq!(
        run.stderr,
        format!("d1-vault: {busy} (HTTP 409 job_running)\n")
    );
    assert!(run.stdout.is_empty());
    assert_eq!(worker.lines(), ["POST /v1/backups"], "nothing more to ask");

    // A shorter message: the CLI finds the job in the way itself.
    let short = "another backup, restore or import is running";
    let routes = || {
        vec![(
            "POST /v1/backups/b1/restore",
            Answer::Body(409, error("job_running", short)),
        )]
    };
    let worker = FakeWorker::with_jobs(routes(), vec![backup("j1"), running_restore("j0")]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(1);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: {short} (HTTP 409 job_running); restore job j0 is running: wait for it \
             to end ('d1-vault job j0 --follow'), or cancel it ('d1-vault cancel j0'), then run \
             this again\n"
        )
    );
    assert_eq!(
        worker.lines(),
        ["POST /v1/backups/b1/restore", "GET /v1/jobs?limit=20"]
    );

    // No job to name: how to find it.
    let worker = FakeWorker::start(routes());
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(1);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: {short} (HTTP 409 job_running); wait for the running job to end \
             ('d1-vault jobs' lists it, 'd1-vault job <id> --follow' follows it), or cancel it \
             ('d1-vault cancel <id>'), then run this again\n"
        )
    );
}

#[cfg(unix)]
#[test]
fn ctrl_c_stops_following_but_not_the_job_with_exit_130() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups",
        Answer::Start(backup("j1").hold(3)),
    )]);
    let mut child = worker.command(&["backup"], ADMIN_TOKEN).spawn().unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut first = String::new();
    stderr.read_line(&mut first).unwrap();
    assert!(first.starts_with("Following backup job j1"), "{first}");
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let run = finish(child);
    assert_eq!(run.code, 130, "{first}{rest}");
    assert_eq!(
        rest.lines().last().unwrap(),
        "d1-vault: stopped following job j1; it goes on in the worker: follow it again with \
         'd1-vault job j1 --follow', or cancel it with 'd1-vault cancel j1'"
    );
    assert!(run.stdout.is_empty());
    assert!(
        !worker.lines().iter().any(|line| line.contains("cancel")),
        "the job is not cancelled: {:?}",
        worker.lines()
    );
}
