//! The remote commands (list, show, backup, delete, retention, status,
//! health, and the help of jobs, job and cancel) against a fake worker (`cli_support::worker`): a small HTTP
//! server on 127.0.0.1 that answers canned JSON per request line, runs
//! scripted jobs, and records what the CLI sent (request line, Authorization
//! header, body). Checks the requests, the text and `--json` output, and the
//! exit statuses of every failure kind.

mod cli_support;

use std::net::TcpListener;

use cli_support::worker::{error, run as cli, Answer, FakeWorker, Job, ADMIN_TOKEN, READ_TOKEN};
use serde_json::{json, Value};

/// A fake worker with only canned answers: `(request line, status, body)`.
fn canned(routes: Vec<(&str, u16, String)>) -> FakeWorker {
    FakeWorker::start(
        routes
            .into_iter()
            .map(|(line, status, body)| (line, Answer::Body(status, body)))
            .collect(),
    )
}

fn listing(id: &str, bytes: u64, pinned: bool) -> Value {
    json!({
        "id": id, "created_at": "2026-11-21T02:00:00.000Z", "kind": "scheduled",
        "bytes": bytes, "tables": 2, "rows": 3200, "key_id": "0123456789abcdef",
        "pinned": pinned, "environment": "staging",
    })
}

/// A manifest as the worker writes it; keys deliberately not in sorted order.
fn manifest(id: &str) -> String {
    format!(
        r#"{{"manifest_version":1,"id":"{id}","created_at":"2026-11-21T02:00:00.000Z","duration_ms":1234,
        "kind":"manual","environment":"staging","database":"app-db","pinned":true,"note":"before migration",
        "worker_version":"0.1.0","object_key":"backups/d1/{id}.sql.enc",
        "encryption":{{"key_id":"0123456789abcdef","cipher":"AES-256-GCM","chunk_size":65536}},
        "plaintext":{{"bytes":4718592,"sha256":"{a}"}},"ciphertext":{{"bytes":4720000,"sha256":"{b}"}},
        "snapshot":{{"consistent":false,"detail":"paged"}},
        "tables":[{{"name":"users","type":"table","rows":200}},{{"name":"tasks","type":"table","rows":3000}}],
        "indexes":["users_email_lower_uq"],"views":[],"triggers":[],
        "schema_hash":"{c}","foreign_key_violations":0,"statements":{{"count":40,"largest_bytes":60000}}}}"#,
        a = "aa".repeat(32),
        b = "bb".repeat(32),
        c = "cc".repeat(32),
    )
}

#[test]
fn list_follows_next_cursor_until_the_limit_and_prints_a_table() {
    let page1 = json!({"backups": [listing("b1", 1_258_291, true), listing("b2", 512, false)], "next_cursor": "b2"});
    let page2 = json!({"backups": [listing("b3", 4096, false)], "next_cursor": "b3"});
    let worker = canned(vec![
        ("GET /v1/backups?limit=3", 200, page1.to_string()),
        ("GET /v1/backups?limit=1&cursor=b2", 200, page2.to_string()),
    ]);
    let run = worker.run(&["list", "--limit", "3"]).expect(0);
    assert_eq!(
        worker.lines(),
        [
            "GET /v1/backups?limit=3",
            "GET /v1/backups?limit=1&cursor=b2"
        ]
    );
    for request in worker.requests() {
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {READ_TOKEN}"))
        );
    }
    let stdout = run.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    assert_eq!(
        lines,
        [
            "ID  CREATED                   KIND          SIZE  TABLES  ROWS  KEY               PINNED",
            "b1  2026-11-21T02:00:00.000Z  scheduled  1.2 MiB       2  3200  0123456789abcdef  yes",
            "b2  2026-11-21T02:00:00.000Z  scheduled    512 B       2  3200  0123456789abcdef",
            "b3  2026-11-21T02:00:00.000Z  scheduled  4.0 KiB       2  3200  0123456789abcdef",
            "(more: d1-vault list --limit 3 --cursor b3)",
        ]
    );
}

#[test]
fn list_stops_at_the_last_page_and_says_when_there_are_none() {
    let page = json!({"backups": [listing("b1", 10, false)], "next_cursor": null});
    let worker = canned(vec![("GET /v1/backups?limit=20", 200, page.to_string())]);
    let run = worker.run(&["list"]).expect(0);
    assert_eq!(worker.lines(), ["GET /v1/backups?limit=20"]);
    assert!(
        !run.stdout_text().contains("more:"),
        "{}",
        run.stdout_text()
    );

    let empty = json!({"backups": [], "next_cursor": null});
    let worker = canned(vec![("GET /v1/backups?limit=5", 200, empty.to_string())]);
    let run = worker.run(&["list", "-n", "5"]).expect(0);
    assert!(
        run.stdout_text().starts_with("no backups yet"),
        "{}",
        run.stdout_text()
    );
}

#[test]
fn list_asks_for_at_most_100_backups_a_page() {
    let page = |from: usize, count: usize| {
        let backups: Vec<Value> = (from..from + count)
            .map(|n| listing(&format!("b{n:03}"), 1, false))
            .collect();
        json!({"backups": backups, "next_cursor": format!("b{:03}", from + count - 1)}).to_string()
    };
    let worker = canned(vec![
        ("GET /v1/backups?limit=100", 200, page(0, 100)),
        ("GET /v1/backups?limit=50&cursor=b099", 200, page(100, 50)),
    ]);
    let run = worker.run(&["list", "--limit", "150", "--json"]).expect(0);
    let json: Value = serde_json::from_slice(&run.stdout).unwrap();
    assert_eq!(json["backups"].as_array().unwrap().len(), 150);
    assert_eq!(json["next_cursor"], "b149");
    assert_eq!(worker.lines().len(), 2);
}

#[test]
fn list_json_joins_the_pages_and_keeps_the_workers_key_order() {
    let page1 = r#"{"backups":[{"id":"b1","zeta":1,"created_at":"x"}],"next_cursor":"b1"}"#;
    let page2 = r#"{"backups":[{"id":"b2","zeta":2,"created_at":"y"}],"next_cursor":null}"#;
    let worker = canned(vec![
        ("GET /v1/backups?limit=5&cursor=b0", 200, page1.into()),
        ("GET /v1/backups?limit=4&cursor=b1", 200, page2.into()),
    ]);
    let run = worker
        .run(&["list", "--json", "--limit", "5", "--cursor", "b0"])
        .expect(0);
    let stdout = run.stdout_text();
    let json: Value = serde_json::from_str(&stdout).unwrap();
    assert_eq!(json["backups"].as_array().unwrap().len(), 2);
    assert_eq!(json["backups"][1]["id"], "b2");
    assert_eq!(json["next_cursor"], Value::Null);
    let (id, zeta, created) = (
        stdout.find("\"id\"").unwrap(),
        stdout.find("\"zeta\"").unwrap(),
        stdout.find("\"created_at\"").unwrap(),
    );
    assert!(id < zeta && zeta < created, "key order kept: {stdout}");
    assert!(stdout.contains("\n  \"backups\": ["), "indented: {stdout}");
}

#[test]
fn list_rejects_a_bad_limit_before_any_request() {
    let worker = canned(vec![]);
    for limit in ["0", "-1", "many"] {
        let run = worker.run(&["list", "--limit", limit]).expect(2);
        assert!(run.stderr.contains("--limit"), "{}", run.stderr);
    }
    assert!(worker.lines().is_empty());
}

#[test]
fn show_prints_fields_in_order_then_tables_and_schema_lists() {
    let worker = canned(vec![("GET /v1/backups/b1", 200, manifest("b1"))]);
    let stdout = worker.run(&["show", "b1"]).expect(0).stdout_text();
    let expected_start = "\
manifest_version:         1
id:                       b1
created_at:               2026-11-21T02:00:00.000Z
duration_ms:              1234 (1.2 s)
kind:                     manual
";
    assert!(stdout.starts_with(expected_start), "{stdout}");
    for line in [
        "pinned:                   yes\n",
        "note:                     before migration\n",
        "encryption.key_id:        0123456789abcdef\n",
        "plaintext.bytes:          4.5 MiB (4718592 bytes)\n",
        "snapshot.consistent:      no\n",
        "statements.largest_bytes: 58.6 KiB (60000 bytes)\n",
        "\ntables (2):\nNAME   TYPE   ROWS\nusers  table   200\ntasks  table  3000\n",
        "\nindexes (1):\n  users_email_lower_uq\n\nviews (0): none\n\ntriggers (0): none\n",
    ] {
        assert!(stdout.contains(line), "missing {line:?} in:\n{stdout}");
    }
    assert!(
        !stdout.contains("tables:"),
        "lists are not fields: {stdout}"
    );
}

#[test]
fn show_json_is_the_manifest_as_sent_and_ids_are_escaped() {
    let worker = canned(vec![("GET /v1/backups/b1", 200, manifest("b1"))]);
    let stdout = worker
        .run(&["show", "b1", "--json"])
        .expect(0)
        .stdout_text();
    let sent: Value = serde_json::from_str(&manifest("b1")).unwrap();
    assert_eq!(serde_json::from_str::<Value>(&stdout).unwrap(), sent);
    assert!(stdout.find("\"manifest_version\"").unwrap() < stdout.find("\"id\"").unwrap());

    let run = worker.run(&["show", "a/b c?d%"]).expect(1);
    assert_eq!(worker.lines()[1], "GET /v1/backups/a%2Fb%20c%3Fd%25");
    assert_eq!(
        run.stderr,
        "d1-vault: no route GET /v1/backups/a%2Fb%20c%3Fd%25 (HTTP 404 not_found)\n"
    );
    worker.run(&["show"]).expect(2);
}

/// A backup job that ends with the manifest of `b9` as its report.
fn backup_job() -> Job {
    Job::new("j1", "backup", "succeeded")
        .params(r#"{"pin":true,"note":"before migration"}"#)
        .step("dump", "passed", "2 tables, 3200 rows", 900)
        .step("upload", "passed", "4.5 MiB in 1 part", 300)
        .report(manifest("b9"))
}

#[test]
fn backup_posts_pin_and_note_with_the_admin_token_and_follows_the_job_to_its_summary() {
    let job = backup_job();
    let worker = FakeWorker::start(vec![("POST /v1/backups", Answer::Start(job.clone()))]);
    let run = worker
        .run_admin(&["backup", "--pin", "--note", "before migration"])
        .expect_followed(0);
    let events = job.event_texts().len();
    assert_eq!(
        worker.lines(),
        [
            "POST /v1/backups".to_owned(),
            "GET /v1/jobs/j1/events?after=0".to_owned(),
            format!("GET /v1/jobs/j1/events?after={events}"),
        ],
        "the job is followed from its first event to its last, and no further"
    );
    for request in worker.requests() {
        assert_eq!(
            request.authorization.as_deref(),
            Some(&*format!("Bearer {ADMIN_TOKEN}")),
            "{}",
            request.line
        );
    }
    assert_eq!(
        worker.requests()[0].json(),
        json!({"pin": true, "note": "before migration"})
    );
    assert_eq!(
        run.stdout_text(),
        "Backup b9 taken in 1.2 s: 2 tables, 3200 rows, 4.5 MiB encrypted (4.5 MiB of SQL) \
         with key 0123456789abcdef. Pinned: kept whatever the retention policy says. \
         Note: before migration\nDetails: d1-vault show b9\n"
    );
    assert_eq!(
        run.stderr,
        "\
Following backup job j1 (queued). Ctrl-C stops following; the job goes on in the worker.
backup: queued, waiting for the worker to start it  0 B  0 rows
02:00:00Z job queued
02:00:00Z job started
02:00:00Z dump started
02:00:00Z dump finished in 900 ms: 2 tables, 3200 rows
02:00:00Z upload started
02:00:00Z upload finished in 300 ms: 4.5 MiB in 1 part
02:00:05Z job succeeded

"
    );

    let worker = FakeWorker::start(vec![("POST /v1/backups", Answer::Start(job))]);
    worker.run_admin(&["backup"]).expect_followed(0);
    assert_eq!(
        worker.requests()[0].json(),
        json!({"pin": false}),
        "no note key without --note"
    );
}

#[test]
fn backup_json_prints_each_event_as_sent_then_the_final_job_with_the_manifest() {
    let job = backup_job();
    let worker = FakeWorker::start(vec![("POST /v1/backups", Answer::Start(job.clone()))]);
    let run = worker.run_admin(&["backup", "--json"]).expect_followed(0);
    assert_eq!(run.stderr, "", "nothing but JSON lines, on stdout");
    let stdout = run.stdout_text();
    let lines: Vec<&str> = stdout.lines().collect();
    let events = job.event_texts();
    assert_eq!(lines.len(), events.len() + 1, "{stdout}");
    assert_eq!(
        lines[..events.len()],
        events,
        "the events as the worker sent them"
    );
    let last = lines[events.len()];
    assert_eq!(last, job.finished(), "the final job as the worker sent it");
    let last: Value = serde_json::from_str(last).unwrap();
    assert_eq!(last["state"], "succeeded");
    assert_eq!(last["report"]["id"], "b9");
    let line = lines[events.len()];
    assert!(
        line.find("\"manifest_version\"").unwrap() < line.find("\"id\":\"b9\"").unwrap(),
        "the manifest keeps its key order: {line}"
    );
}

#[test]
fn refusals_are_exit_1_with_the_workers_message_status_and_code() {
    let cases = [
        (401, "unauthorized", "missing or wrong bearer token"),
        (403, "forbidden", "this route needs the admin token"),
        (
            409,
            "busy",
            "another job is running (backup since 02:00:01)",
        ),
        (422, "invalid", "backup fails validation"),
        (500, "internal", "internal error; see the worker log"),
        (503, "not_configured", "ADMIN_TOKEN is not set"),
    ];
    for (status, code, message) in cases {
        let worker = canned(vec![("POST /v1/backups", status, error(code, message))]);
        let run = worker.run(&["backup"]).expect(1);
        assert_eq!(
            run.stderr,
            format!("d1-vault: {message} (HTTP {status} {code})\n")
        );
        assert!(run.stdout.is_empty());
    }
}

#[test]
fn an_error_page_that_is_not_the_api_is_exit_1_and_quoted() {
    let page = format!(
        "<html>\n<body>Bad gateway{}</body></html>",
        " .".repeat(200)
    );
    let worker = canned(vec![("GET /v1/status", 502, page)]);
    let run = worker.run(&["status"]).expect(1);
    let prefix = format!(
        "d1-vault: GET {}/v1/status answered HTTP 502 Bad Gateway: <html> <body>Bad gateway . .",
        worker.url
    );
    assert!(run.stderr.starts_with(&prefix), "{}", run.stderr);
    assert!(run.stderr.ends_with("...\n"), "cut short: {}", run.stderr);
}

#[test]
fn a_success_that_is_not_json_means_a_wrong_url() {
    let worker = canned(vec![("GET /v1/status", 200, "<html>welcome</html>".into())]);
    let run = worker.run(&["status"]).expect(3);
    assert_eq!(
        run.stderr,
        format!(
            "d1-vault: GET {0}/v1/status answered HTTP 200 without JSON: is {0} a d1-vault \
             worker? (<html>welcome</html>)\n",
            worker.url
        )
    );
}

#[test]
fn delete_refuses_without_yes_when_there_is_no_terminal() {
    let worker = canned(vec![]);
    let env = [
        ("D1_VAULT_URL", worker.url.as_str()),
        ("D1_VAULT_TOKEN", ADMIN_TOKEN),
    ];
    let run = worker.run_env(&["delete", "b1"], &env).expect(2);
    assert!(run.stderr.contains("pass --yes"), "{}", run.stderr);
    assert!(worker.lines().is_empty(), "nothing sent");
}

#[test]
fn delete_sends_force_only_when_asked_and_reports_the_deleted_id() {
    let worker = canned(vec![
        (
            "DELETE /v1/backups/b1",
            200,
            json!({"deleted": "b1"}).to_string(),
        ),
        (
            "DELETE /v1/backups/b2",
            409,
            error("pinned", "backup b2 is pinned; delete it with ?force=true"),
        ),
        (
            "DELETE /v1/backups/b2?force=true",
            200,
            json!({"deleted": "b2"}).to_string(),
        ),
    ]);
    let env = [
        ("D1_VAULT_URL", worker.url.as_str()),
        ("D1_VAULT_TOKEN", ADMIN_TOKEN),
    ];
    let run = worker.run_env(&["delete", "b1", "--yes"], &env).expect(0);
    assert_eq!(run.stdout_text(), "deleted backup b1\n");
    let run = worker.run_env(&["delete", "-y", "b2"], &env).expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: backup b2 is pinned; delete it with ?force=true (HTTP 409 pinned)\n"
    );
    let run = worker
        .run_env(&["delete", "b2", "--force", "--yes", "--json"], &env)
        .expect(0);
    assert_eq!(run.stdout_text(), "{\n  \"deleted\": \"b2\"\n}\n");
    assert_eq!(
        worker.lines(),
        [
            "DELETE /v1/backups/b1",
            "DELETE /v1/backups/b2",
            "DELETE /v1/backups/b2?force=true"
        ]
    );
    assert!(worker
        .requests()
        .iter()
        .all(|r| r.authorization.as_deref() == Some(&*format!("Bearer {ADMIN_TOKEN}"))));
}

#[test]
fn retention_prints_the_policy_and_one_decision_per_backup() {
    let plan = json!({
        "policy": {"daily": 7, "weekly": 4, "monthly": 12, "yearly": 7, "pre_restore_keep_days": 30,
                   "description": "keep the newest backup of each of the last 7 days"},
        "now": "2026-11-21T03:00:00.000Z",
        "decisions": [
            {"id": "b2", "created_at": "2026-11-21T02:00:00.000Z", "kind": "scheduled", "pinned": false,
             "keep": true, "reasons": ["daily 2026-11-21", "newest successful backup"]},
            {"id": "b1", "created_at": "2026-11-20T02:00:00.000Z", "kind": "manual", "pinned": false,
             "keep": false, "reasons": []},
        ],
    });
    let worker = canned(vec![("GET /v1/retention", 200, plan.to_string())]);
    let stdout = worker.run(&["retention"]).expect(0).stdout_text();
    assert_eq!(
        stdout,
        "\
Policy: keep the newest backup of each of the last 7 days
As of 2026-11-21T03:00:00.000Z: 2 backups, 1 kept, 1 to remove (a dry run: nothing was deleted).

ID  CREATED                   KIND       DECISION  REASONS
b2  2026-11-21T02:00:00.000Z  scheduled  keep      daily 2026-11-21; newest successful backup
b1  2026-11-20T02:00:00.000Z  manual     remove
"
    );
    let json = worker.run(&["retention", "--json"]).expect(0);
    assert_eq!(serde_json::from_slice::<Value>(&json.stdout).unwrap(), plan);
}

#[test]
fn status_flattens_nested_fields_with_dots() {
    let status = r#"{"environment":"staging","history":{"last_success":{"finished_at":"2026-11-21T02:00:05Z",
        "backup_id":"b2"},"last_run":null},"keys":["0123456789abcdef"],"stale_after_seconds":93600}"#;
    let worker = canned(vec![("GET /v1/status", 200, status.into())]);
    let stdout = worker.run(&["status"]).expect(0).stdout_text();
    assert_eq!(
        stdout,
        "\
environment:                      staging
history.last_success.finished_at: 2026-11-21T02:00:05Z
history.last_success.backup_id:   b2
history.last_run:                 -
keys:                             0123456789abcdef
stale_after_seconds:              93600 (1 d 2 h)
"
    );
    let json = worker.run(&["status", "--json"]).expect(0);
    assert_eq!(
        serde_json::from_slice::<Value>(&json.stdout).unwrap(),
        serde_json::from_str::<Value>(status).unwrap()
    );
}

#[test]
fn health_exits_0_only_for_http_200_and_sends_no_token() {
    let ok = json!({"status": "ok", "last_success_at": "2026-11-21T02:00:05Z", "age_seconds": 60,
                    "message": "the last backup succeeded 1 minute ago"});
    let worker = canned(vec![("GET /health", 200, ok.to_string())]);
    let run = worker.run(&["health"]).expect(0);
    assert_eq!(
        run.stdout_text(),
        "ok: the last backup succeeded 1 minute ago\n"
    );
    assert_eq!(worker.requests()[0].authorization, None);

    let stale = json!({"status": "stale", "last_success_at": null, "age_seconds": null,
                       "message": "no backup has completed yet"});
    let worker = canned(vec![("GET /health", 503, stale.to_string())]);
    let run = worker
        .run_env(&["health"], &[("D1_VAULT_URL", &worker.url)])
        .expect(1);
    assert_eq!(run.stdout_text(), "stale: no backup has completed yet\n");
    assert_eq!(
        run.stderr,
        "d1-vault: the worker is not healthy: stale (HTTP 503)\n"
    );
    let run = worker
        .run_env(&["health", "--json"], &[("D1_VAULT_URL", &worker.url)])
        .expect(1);
    assert_eq!(serde_json::from_slice::<Value>(&run.stdout).unwrap(), stale);

    let worker = canned(vec![]);
    let run = worker.run(&["health"]).expect(1);
    assert!(
        run.stderr.ends_with("(HTTP 404 not_found)\n"),
        "{}",
        run.stderr
    );
}

#[test]
fn an_unreachable_worker_is_exit_3_naming_the_url() {
    let port = {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        listener.local_addr().unwrap().port()
    };
    let url = format!("http://127.0.0.1:{port}");
    for (args, path) in [
        (&["status"][..], "GET {url}/v1/status"),
        (&["health"][..], "GET {url}/health"),
        (&["backup"][..], "POST {url}/v1/backups"),
    ] {
        let run = cli(
            args,
            &[("D1_VAULT_URL", &url), ("D1_VAULT_TOKEN", READ_TOKEN)],
        )
        .expect(3);
        let request = path.replace("{url}", &url);
        assert_eq!(
            run.stderr,
            format!("d1-vault: no answer from {request}: connection refused\n")
        );
    }
}

#[test]
fn missing_url_or_token_is_exit_3_naming_the_option_and_variable() {
    let run = cli(&["list"], &[("D1_VAULT_TOKEN", READ_TOKEN)]).expect(3);
    assert!(run
        .stderr
        .starts_with("d1-vault: no worker URL: pass --url or set D1_VAULT_URL"));
    let run = cli(
        &["list"],
        &[
            ("D1_VAULT_URL", "http://127.0.0.1:9"),
            ("D1_VAULT_TOKEN", ""),
        ],
    )
    .expect(3);
    assert!(
        run.stderr
            .starts_with("d1-vault: no API token: pass --token or set D1_VAULT_TOKEN"),
        "{}",
        run.stderr
    );
    let run = cli(&["health"], &[("D1_VAULT_TOKEN", READ_TOKEN)]).expect(3);
    assert!(run.stderr.contains("D1_VAULT_URL"), "{}", run.stderr);
}

#[test]
fn bad_url_is_a_usage_error_as_an_option_and_a_configuration_error_from_the_environment() {
    let run = cli(&["status", "--url", "example.com", "--token", "t"], &[]).expect(2);
    assert!(run
        .stderr
        .starts_with("d1-vault: --url \"example.com\" is not an http(s) URL"));
    let run = cli(&["status", "--token", "t"], &[("D1_VAULT_URL", "ftp://x")]).expect(3);
    assert!(run
        .stderr
        .starts_with("d1-vault: D1_VAULT_URL \"ftp://x\" is not an http(s) URL"));
    let run = cli(&["status", "--url", "http://x", "--token", "a b"], &[]).expect(2);
    assert!(
        run.stderr.contains("--token contains spaces"),
        "{}",
        run.stderr
    );
}

#[test]
fn options_win_over_the_environment_and_a_trailing_slash_is_dropped() {
    let worker = canned(vec![("GET /v1/status", 200, "{}".into())]);
    let base = format!("{}/", worker.url);
    cli(
        &["status", "--url", &base, "--token", ADMIN_TOKEN],
        &[
            ("D1_VAULT_URL", "http://127.0.0.1:9"),
            ("D1_VAULT_TOKEN", READ_TOKEN),
        ],
    )
    .expect(0);
    let requests = worker.requests();
    assert_eq!(requests[0].line, "GET /v1/status");
    assert_eq!(
        requests[0].authorization.as_deref(),
        Some(&*format!("Bearer {ADMIN_TOKEN}"))
    );
}

#[test]
fn every_remote_command_documents_its_options_and_exit_status() {
    for command in [
        "list",
        "show",
        "backup",
        "jobs",
        "job",
        "cancel",
        "delete",
        "retention",
        "status",
        "health",
    ] {
        let run = cli(&[command, "--help"], &[]).expect(0);
        let usage = run.stdout_text();
        assert!(
            usage.starts_with(&format!("Usage: d1-vault {command}")),
            "{usage}"
        );
        for needle in ["--url <url>", "D1_VAULT_URL", "--json", "Exit status: 0"] {
            assert!(
                usage.contains(needle),
                "{command} --help lacks {needle}:\n{usage}"
            );
        }
        let run = cli(&["help", command], &[]).expect(0);
        assert_eq!(run.stdout_text(), usage);
        cli(&[command, "--bogus"], &[]).expect(2);
    }
}
