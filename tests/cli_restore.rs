//! `d1-vault validate` and `d1-vault restore` against a fake worker: a small
//! HTTP server on 127.0.0.1 that answers canned JSON, or streams NDJSON
//! lines with small delays (chunked, as a worker does), and records what the
//! CLI sent. Checks the requests, the checklist and live step output, the
//! summary, `--json` pass-through and the exit statuses.

mod cli_support;

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use cli_support::Run;
use serde_json::{json, Value};

const READ_TOKEN: &str = "read-token-0123456789";
const ADMIN_TOKEN: &str = "admin-token-0123456789";

/// Pause between streamed lines: enough to be seen as separate writes.
const LINE_DELAY: Duration = Duration::from_millis(15);
/// How long a held stream waits for the test before giving up (and failing it).
const GATE_TIMEOUT: Duration = Duration::from_secs(20);

/// What the fake worker answers to one request line.
enum Answer {
    /// A whole body with this status: JSON when it starts with `{`.
    Body(u16, String),
    /// HTTP 200, `application/x-ndjson`, chunked: each line after a short
    /// delay. After `hold` lines (if given), waits until the test opens the gate.
    Stream {
        lines: Vec<String>,
        hold: Option<usize>,
    },
}

/// One request as the fake worker received it.
#[derive(Debug, Clone)]
struct Request {
    /// `METHOD target`, e.g. `POST /v1/backups/b1/restore`.
    line: String,
    authorization: Option<String>,
    accept: Option<String>,
    body: String,
}

/// A fake worker: canned answers by `METHOD target`, 404 for anything else.
struct FakeWorker {
    url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    gate: Sender<()>,
    gate_timed_out: Arc<AtomicBool>,
}

impl FakeWorker {
    fn start(routes: Vec<(&str, Answer)>) -> FakeWorker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let gate_timed_out = Arc::new(AtomicBool::new(false));
        let (gate, gate_rx) = mpsc::channel();
        let routes: Vec<(String, Answer)> = routes
            .into_iter()
            .map(|(line, answer)| (line.to_owned(), answer))
            .collect();
        let (recorded, timed_out) = (Arc::clone(&requests), Arc::clone(&gate_timed_out));
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                serve(stream, &routes, &recorded, &gate_rx, &timed_out);
            }
        });
        FakeWorker {
            url,
            requests,
            gate,
            gate_timed_out,
        }
    }

    fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    fn lines(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.line).collect()
    }

    /// The CLI run against this worker with `token`.
    fn command(&self, args: &[&str], token: &str) -> Command {
        cli(
            args,
            &[("D1_VAULT_URL", &self.url), ("D1_VAULT_TOKEN", token)],
        )
    }

    /// Runs `d1-vault args...` to its end with the read token.
    fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args, READ_TOKEN).spawn().unwrap())
    }

    /// Runs `d1-vault args...` to its end with the admin token.
    fn run_admin(&self, args: &[&str]) -> Run {
        finish(self.command(args, ADMIN_TOKEN).spawn().unwrap())
    }
}

/// Serves one connection: one request, one answer, then close.
fn serve(
    stream: TcpStream,
    routes: &[(String, Answer)],
    recorded: &Mutex<Vec<Request>>,
    gate: &Receiver<()>,
    gate_timed_out: &AtomicBool,
) {
    let mut reader = BufReader::new(stream);
    let mut first = String::new();
    if reader.read_line(&mut first).is_err() {
        return;
    }
    let mut parts = first.split_whitespace();
    let line = format!(
        "{} {}",
        parts.next().unwrap_or(""),
        parts.next().unwrap_or("")
    );
    let (mut length, mut authorization, mut accept) = (0, None, None);
    loop {
        let mut header = String::new();
        if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
            break;
        }
        let (name, value) = header.split_once(':').unwrap_or((&header, ""));
        match name.trim().to_ascii_lowercase().as_str() {
            "content-length" => length = value.trim().parse().unwrap_or(0),
            "authorization" => authorization = Some(value.trim().to_owned()),
            "accept" => accept = Some(value.trim().to_owned()),
            _ => {}
        }
    }
    let mut body = vec![0; length];
    if reader.read_exact(&mut body).is_err() {
        return;
    }
    recorded.lock().unwrap().push(Request {
        line: line.clone(),
        authorization,
        accept,
        body: String::from_utf8_lossy(&body).into_owned(),
    });
    let mut stream = reader.into_inner();
    match routes.iter().find(|(route, _)| *route == line) {
        Some((_, Answer::Stream { lines, hold })) => {
            let _ = write!(
                stream,
                "HTTP/1.1 200 OK\r\ncontent-type: application/x-ndjson\r\n\
                 transfer-encoding: chunked\r\nconnection: close\r\n\r\n"
            );
            for (index, text) in lines.iter().enumerate() {
                if *hold == Some(index) && gate.recv_timeout(GATE_TIMEOUT).is_err() {
                    gate_timed_out.store(true, Ordering::SeqCst);
                }
                thread::sleep(LINE_DELAY);
                let chunk = format!("{text}\n");
                let _ = write!(stream, "{:x}\r\n{chunk}\r\n", chunk.len());
                let _ = stream.flush();
            }
            let _ = write!(stream, "0\r\n\r\n");
        }
        found => {
            let not_found = error("not_found", &format!("no route {line}"));
            let (status, body) = match found {
                Some((_, Answer::Body(status, body))) => (*status, body.as_str()),
                _ => (404, not_found.as_str()),
            };
            let content_type = if body.starts_with('{') {
                "application/json"
            } else {
                "text/plain"
            };
            let _ = write!(
                stream,
                "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
                 connection: close\r\n\r\n{body}",
                body.len()
            );
        }
    }
}

/// The CLI with only the given remote settings (none inherited), no proxy,
/// stdin that is not a terminal and piped output.
fn cli(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_d1-vault"));
    command.args(args);
    for var in [
        "D1_VAULT_URL",
        "D1_VAULT_TOKEN",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
    ] {
        command.env_remove(var);
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for a CLI run and collects what it printed.
fn finish(child: Child) -> Run {
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

fn error(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

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

/// A step as a validation report or the restore stream carries it. (Objects
/// built with `json!` go out with their keys sorted, and are printed so.)
fn step(number: usize, status: &str, detail: &str, ms: u64) -> Value {
    json!({"step": number, "name": NAMES[number - 1], "status": status, "detail": detail, "ms": ms})
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

fn validation_report(valid: bool) -> String {
    let summary = valid.then(|| {
        json!({
            "tables": [{"name": "users", "type": "table", "rows": 200},
                       {"name": "tasks_fts", "type": "virtual", "rows": 3000}],
            "indexes": ["users_email_lower_uq", "teams_slug_live_uq"],
            "views": ["team_overview"], "triggers": [], "statements": 40,
        })
    });
    json!({"backup_id": "b1", "ok": valid, "steps": validation_steps(valid), "summary": summary})
        .to_string()
}

/// The NDJSON lines of a restore that ends with `outcome`, as the worker
/// sends them: each step started then done (a skipped one only as skipped),
/// the rollback's steps when there is one, then the report.
///
/// - `succeeded`: all ten steps pass.
/// - `failed`: step 4 fails validation, 5-10 are skipped, nothing is written.
/// - `rolled_back`: the import (8) fails; 7-9 run again with the safety backup.
/// - `rollback_failed`: the same without a safety backup (skipped at 6).
fn restore_stream(outcome: &str) -> Vec<String> {
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
    let mut lines = Vec::new();
    let mut send = |kind: &str, step: &Value| {
        if step["status"] != "skipped" {
            let mut started = step.clone();
            started["status"] = "started".into();
            started["detail"] = "".into();
            started["ms"] = 0.into();
            lines.push(event(kind, started));
        }
        lines.push(event(kind, step.clone()));
    };
    for step in &done[..done.len() - 1] {
        send("step", step);
    }
    for step in rollback.iter().flatten() {
        send("rollback", step);
    }
    send("step", done.last().unwrap());
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
        "started_at": "2026-11-21T03:00:00.000Z", "finished_at": "2026-11-21T03:00:04.000Z",
        "safety_backup_id": if outcome == "rollback_failed" || outcome == "failed" { None } else { Some("pre1") },
        "safety_backup_skipped": outcome == "rollback_failed",
        "rows_imported": if succeeded { 3200 } else { 0 },
        "statements_imported": if succeeded { 40 } else { 0 },
        "steps": done, "verification": verification, "rollback": rollback,
    });
    lines.push(
        json!({"event": "report", "report": report, "wasm_memory_bytes": 9_000_000}).to_string(),
    );
    lines
}

fn event(kind: &str, step: Value) -> String {
    let mut event = json!({"event": kind});
    event
        .as_object_mut()
        .unwrap()
        .extend(step.as_object().unwrap().clone());
    event.to_string()
}

#[test]
fn validate_prints_a_checklist_and_the_tables_and_exits_0_when_valid() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/validate",
        Answer::Body(200, validation_report(true)),
    )]);
    let run = worker.run(&["validate", "b1"]).expect(0);
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
    assert_eq!(requests[0].line, "POST /v1/backups/b1/validate");
    assert_eq!(requests[0].body, "", "an empty body");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(&*format!("Bearer {READ_TOKEN}"))
    );
}

#[test]
fn validate_shows_the_failed_and_skipped_steps_and_exits_1_when_not_valid() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/validate",
        Answer::Body(422, validation_report(false)),
    )]);
    let run = worker.run(&["validate", "b1"]).expect(1);
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
        run.stderr,
        "d1-vault: backup b1 failed validation: step 4 checksum: sha256 of the SQL is aa..., \
         the manifest says bb...\n"
    );
}

#[test]
fn validate_json_prints_the_report_as_sent_with_the_same_exit_status() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/validate",
            Answer::Body(200, validation_report(true)),
        ),
        (
            "POST /v1/backups/b2/validate",
            Answer::Body(422, validation_report(false)),
        ),
    ]);
    let run = worker.run(&["validate", "b1", "--json"]).expect(0);
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(
        printed,
        serde_json::from_str::<Value>(&validation_report(true)).unwrap()
    );
    let stdout = run.stdout_text();
    assert!(stdout.find("\"backup_id\"").unwrap() < stdout.find("\"ok\"").unwrap());

    let run = worker.run(&["validate", "b2", "--json"]).expect(1);
    let printed: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(printed["ok"], false);
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
fn restore_refused_by_the_worker_is_exit_1_with_its_message() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Body(
                409,
                error(
                    "confirm_mismatch",
                    "confirm \"app\" is not this worker's database \"app-db\"",
                ),
            ),
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Body(
                422,
                json!({"error": {"code": "invalid_backup", "message": "backup b2 fails validation"},
                       "steps": validation_steps(false)})
                .to_string(),
            ),
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app", "--yes"])
        .expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: confirm \"app\" is not this worker's database \"app-db\" \
         (HTTP 409 confirm_mismatch)\n"
    );
    assert!(run.stdout.is_empty());
    let request = &worker.requests()[0];
    assert_eq!(
        request.authorization.as_deref(),
        Some(&*format!("Bearer {ADMIN_TOKEN}"))
    );
    let body: Value = serde_json::from_str(&request.body).unwrap();
    assert_eq!(
        body,
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
    assert_eq!(
        run.stderr,
        "d1-vault: backup b2 fails validation (HTTP 422 invalid_backup)\n"
    );
    assert!(
        run.stdout_text().contains("✗ 4 checksum ..........."),
        "the checklist: {}",
        run.stdout_text()
    );
    let body: Value = serde_json::from_str(&worker.requests()[1].body).unwrap();
    assert_eq!(
        body,
        json!({"confirm": "app-db", "skip_safety_backup": true, "allow_cross_environment": true})
    );
}

#[test]
fn restore_prints_each_step_as_it_arrives_then_the_summary() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        // Held after the first step's two lines until the test has seen it.
        Answer::Stream {
            lines: restore_stream("succeeded"),
            hold: Some(2),
        },
    )]);
    let mut child = worker
        .command(
            &["restore", "b1", "--confirm", "app-db", "--yes"],
            ADMIN_TOKEN,
        )
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut seen = Vec::new();
    while !seen
        .iter()
        .any(|line: &String| line.contains("] download") && line.contains("passed"))
    {
        let mut line = String::new();
        assert_ne!(
            stdout.read_line(&mut line).unwrap(),
            0,
            "ended early: {seen:?}"
        );
        seen.push(line);
    }
    worker.gate.send(()).unwrap();
    let mut rest = String::new();
    stdout.read_to_string(&mut rest).unwrap();
    let run = finish(child);
    assert!(
        !worker.gate_timed_out.load(Ordering::SeqCst),
        "the first step was printed only after the whole answer"
    );
    assert_eq!(run.code, 0, "{}", run.stderr);
    assert_eq!(run.stderr, "");
    assert_eq!(
        worker.requests()[0].accept.as_deref(),
        Some("application/x-ndjson, application/json")
    );

    let output = seen.concat() + &rest;
    let (live, summary) = output.split_once("\n\n").unwrap();
    let live: Vec<&str> = live.lines().collect();
    assert_eq!(live.len(), 1 + 20, "{output}");
    assert_eq!(
        &live[..7],
        [
            "Restoring backup b1 into database app-db:",
            "[ 1/10] download ............ started",
            "[ 1/10] download ............ passed   40 ms",
            "[ 2/10] integrity ........... started",
            "[ 2/10] integrity ........... passed   40 ms",
            "[ 3/10] decrypt ............. started",
            "[ 3/10] decrypt ............. passed   40 ms",
        ]
    );
    assert_eq!(
        live[12],
        "[ 6/10] safety backup ....... passed   1.2 s  pre-restore backup pre1 (pinned)"
    );
    assert_eq!(live[20], "[10/10] report .............. passed   40 ms");
    let (headline, rest) = summary.split_once('\n').unwrap();
    assert!(
        headline.starts_with("Restore r1 succeeded in ")
            && headline.ends_with(": database app-db now holds backup b1."),
        "{headline}"
    );
    let expected_rest = "\
Rows imported: 3200 in 40 statements
Report:        GET /v1/restores/r1
Safety backup: pre1 (pinned), the data from before this restore; to bring it back:
  d1-vault restore pre1 --confirm app-db

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
";
    assert!(rest.starts_with(expected_rest), "{rest}");
    assert!(
        rest.ends_with(
            "
Verification:
  ✓ rows of users ................  expected 200, found 200
  ✓ schema hash ..................  expected cc, found cc
  ✓ rows of memberships_by_team ..  expected 466, found 466
  ✓ indexes ......................  expected a_long_index_name, a_long_index_name, a_long_index_name, a_long_index_name, a_long_index_na...
  ✓ foreign_key_check ............  0 violations; 0 at backup time
"
        ),
        "{rest}"
    );
}

#[test]
fn a_restore_that_rolled_back_is_exit_1_and_says_the_data_is_back() {
    let worker = FakeWorker::start(vec![(
        "POST /v1/backups/b1/restore",
        Answer::Stream {
            lines: restore_stream("rolled_back"),
            hold: None,
        },
    )]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(1);
    let stdout = run.stdout_text();
    for line in [
        "[ 8/10] import .............. failed  700 ms  batch 3: SQLITE_TOOBIG\n\
         [rollback 7/10] drop objects ........ started\n\
         [rollback 7/10] drop objects ........ passed   20 ms  user objects dropped\n",
        "[rollback 9/10] verify .............. passed   90 ms  15 checks passed\n\
         [10/10] report .............. started\n",
        "\nRollback:\n\
         \x20 ✓ 7 drop objects ........  20 ms  user objects dropped\n\
         \x20 ✓ 8 import ..............  2.1 s  3100 rows\n\
         \x20 ✓ 9 verify ..............  90 ms  15 checks passed\n",
        "   8  import          failed  700 ms\n  10  report          passed   40 ms\n",
        ": step 8 import: batch 3: SQLITE_TOOBIG; database app-db holds its data from before \
         the restore again.\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        stdout.contains("\nRestore r1 failed and was rolled back after "),
        "{stdout}"
    );
    assert_eq!(
        run.stderr,
        "d1-vault: restore r1 failed and was rolled back: step 8 import: batch 3: \
         SQLITE_TOOBIG; database app-db holds its data from before the restore again\n"
    );
}

#[test]
fn a_failed_restore_says_whether_the_database_was_changed_and_what_to_do() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Stream {
                lines: restore_stream("failed"),
                hold: None,
            },
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Stream {
                lines: restore_stream("rollback_failed"),
                hold: None,
            },
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(1);
    let stdout = run.stdout_text();
    assert!(
        stdout.contains(
            "[ 4/10] checksum ............ failed   30 ms  sha256 differs from the manifest\n\
             [ 5/10] sql validation ...... skipped\n"
        ),
        "{stdout}"
    );
    assert!(stdout.contains("Safety backup: none taken\n"), "{stdout}");
    assert!(
        !stdout.contains("Verification"),
        "no checks, no section: {stdout}"
    );
    assert_eq!(
        run.stderr,
        "d1-vault: restore r1 failed: step 4 checksum: sha256 differs from the manifest; \
         database app-db was not changed\n"
    );

    let run = worker
        .run_admin(&[
            "restore",
            "b2",
            "--confirm",
            "app-db",
            "--yes",
            "--skip-safety-backup",
        ])
        .expect(1);
    let stdout = run.stdout_text();
    assert!(
        stdout.contains(
            "[ 6/10] safety backup ....... skipped         skipped at the operator's request\n"
        ),
        "{stdout}"
    );
    assert!(
        stdout.contains("Safety backup: none (--skip-safety-backup)\n"),
        "{stdout}"
    );
    assert_eq!(
        run.stderr,
        "d1-vault: restore r1 failed and could not be rolled back: step 8 import: batch 3: \
         SQLITE_TOOBIG; database app-db may be empty or partly restored and needs you now; \
         no safety backup was taken: restore another backup (see 'd1-vault list')\n"
    );
}

#[test]
fn restore_json_passes_every_line_through_unchanged() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Stream {
                lines: restore_stream("succeeded"),
                hold: None,
            },
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Stream {
                lines: restore_stream("rolled_back"),
                hold: None,
            },
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes", "--json"])
        .expect(0);
    let expected: String = restore_stream("succeeded")
        .iter()
        .map(|line| format!("{line}\n"))
        .collect();
    assert_eq!(run.stdout_text(), expected);

    let run = worker
        .run_admin(&["restore", "b2", "--confirm", "app-db", "--yes", "--json"])
        .expect(1);
    let last = run.stdout_text().lines().last().unwrap().to_owned();
    assert_eq!(last, *restore_stream("rolled_back").last().unwrap());
    assert!(run
        .stderr
        .starts_with("d1-vault: restore r1 failed and was rolled back: "));
}

#[test]
fn restore_validate_only_calls_the_validate_route_with_the_read_token() {
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/validate",
            Answer::Body(200, validation_report(true)),
        ),
        (
            "POST /v1/backups/b2/validate",
            Answer::Body(422, validation_report(false)),
        ),
    ]);
    let run = worker.run(&["restore", "b1", "--validate-only"]).expect(0);
    assert!(
        run.stdout_text().starts_with("✓ 1 download"),
        "{}",
        run.stdout_text()
    );
    worker
        .run(&["restore", "b2", "--validate-only", "--confirm", "app-db"])
        .expect(1);
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/backups/b1/validate",
            "POST /v1/backups/b2/validate"
        ]
    );
}

#[test]
fn a_stream_that_ends_without_a_report_or_is_not_json_is_exit_3() {
    let mut cut = restore_stream("succeeded");
    cut.truncate(9);
    let worker = FakeWorker::start(vec![
        (
            "POST /v1/backups/b1/restore",
            Answer::Stream {
                lines: cut,
                hold: None,
            },
        ),
        (
            "POST /v1/backups/b2/restore",
            Answer::Stream {
                lines: vec!["<html>oops</html>".into()],
                hold: None,
            },
        ),
    ]);
    let run = worker
        .run_admin(&["restore", "b1", "--confirm", "app-db", "--yes"])
        .expect(3);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: the answer to POST {}/v1/backups/b1/restore ended before the restore's \
             report: its outcome is unknown; 'd1-vault list' shows whether a pre-restore \
             backup was taken\n",
            worker.url
        )
    );
    assert!(run.stdout_text().contains("[ 4/10] checksum"));
    let run = worker
        .run_admin(&["restore", "b2", "--confirm", "app-db", "--yes"])
        .expect(3);
    assert!(
        run.stderr
            .ends_with("has a line that is not JSON: <html>oops</html>\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn validate_and_restore_document_their_options_and_exit_status() {
    for (command, needles) in [
        ("validate", &["--json", "422"][..]),
        (
            "restore",
            &[
                "--confirm <name>",
                "--validate-only",
                "--skip-safety-backup",
                "--allow-cross-environment",
                "--yes",
                "--json",
                "rolled back",
            ][..],
        ),
    ] {
        let usage = finish(cli(&[command, "--help"], &[]).spawn().unwrap())
            .expect(0)
            .stdout_text();
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
        let help = finish(cli(&["help", command], &[]).spawn().unwrap()).expect(0);
        assert_eq!(help.stdout_text(), usage);
        finish(cli(&[command, "b1", "--bogus"], &[]).spawn().unwrap()).expect(2);
    }
}
