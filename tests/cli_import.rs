//! `d1-vault import` against a fake worker (`cli_support::worker`): the
//! object (a plain dump encrypted on the way, or a file made by `encrypt`)
//! goes up in parts (`POST /v1/imports`, `PUT .../parts/{n}`, `POST
//! .../complete`), then the import job is followed. A part that fails is
//! sent again; a refusal or Ctrl-C discards the upload (`DELETE`).
//!
//! The fake worker announces parts of 40,000 bytes; a dump of noisy SQL
//! compresses to a few of them ([`three_part_dump`]).

mod cli_support;

use std::io::{BufRead, BufReader};
use std::process::Command;

use cli_support::worker::{error, finish, Answer, FakeWorker, Job, ADMIN_TOKEN};
use cli_support::{noisy_sql, sql, Cli, KEY_A};
use serde_json::{json, Value};

/// The part size the fake worker announces.
const PART_SIZE: usize = 40_000;

/// The answer to `PUT` part `number`, with `etag`.
fn part(number: usize, etag: &str) -> Answer {
    Answer::Body(
        200,
        json!({ "part_number": number, "etag": etag }).to_string(),
    )
}

/// The routes of the upload of backup `id` (upload id `u1`) in `parts`
/// parts with etags `e1`, `e2`, ...; `complete` answers its completion.
fn upload_routes(id: &str, parts: usize, complete: Answer) -> Vec<(String, Answer)> {
    let started = json!({ "upload": { "id": id, "upload_id": "u1", "part_size": PART_SIZE } });
    let mut routes = vec![(
        "POST /v1/imports".to_owned(),
        Answer::Body(201, started.to_string()),
    )];
    for number in 1..=parts {
        routes.push((
            format!("PUT /v1/imports/{id}/parts/{number}?upload_id=u1"),
            part(number, &format!("e{number}")),
        ));
    }
    let aborted = json!({ "upload": { "id": id, "upload_id": "u1", "aborted": true } });
    routes.push((
        format!("POST /v1/imports/{id}/complete?upload_id=u1"),
        complete,
    ));
    routes.push((
        format!("DELETE /v1/imports/{id}?upload_id=u1"),
        Answer::Body(200, aborted.to_string()),
    ));
    routes
}

/// A dump that `import` compresses and encrypts into three parts (checked
/// by encrypting it the same way), and the size of its object.
fn three_part_dump(local: &Cli) -> (Vec<u8>, usize) {
    let dump = noisy_sql(300_000);
    let object = local.encrypt(&dump, "import-1", "probe.enc");
    let len = std::fs::read(&object).unwrap().len();
    std::fs::remove_file(object).unwrap();
    assert_eq!(len.div_ceil(PART_SIZE), 3, "an object of {len} bytes");
    (dump, len)
}

fn worker(routes: Vec<(String, Answer)>) -> FakeWorker {
    let (lines, answers): (Vec<String>, Vec<Answer>) = routes.into_iter().unzip();
    FakeWorker::start(lines.iter().map(String::as_str).zip(answers).collect())
}

/// Runs `d1-vault args...` against `worker` with the admin token and the
/// test key.
fn import(worker: &FakeWorker, args: &[&str]) -> cli_support::Run {
    worker.run_env(
        args,
        &[
            ("D1_VAULT_URL", &worker.url),
            ("D1_VAULT_TOKEN", ADMIN_TOKEN),
            ("BACKUP_ENCRYPTION_KEY", KEY_A),
        ],
    )
}

/// The request lines the worker got, but the job polls.
fn upload_lines(worker: &FakeWorker) -> Vec<String> {
    worker
        .lines()
        .into_iter()
        .filter(|line| !line.starts_with("GET /v1/jobs"))
        .collect()
}

/// The bytes of every part sent, in order.
fn parts_sent(worker: &FakeWorker) -> Vec<Vec<u8>> {
    worker
        .requests()
        .into_iter()
        .filter(|request| request.line.starts_with("PUT "))
        .map(|request| request.body)
        .collect()
}

#[test]
fn import_encrypts_a_plain_dump_uploads_it_in_parts_and_follows_the_workers_check() {
    let local = Cli::new();
    let (dump, object_len) = three_part_dump(&local);
    let file = local.write("app.sql", &dump);
    let file = file.to_str().unwrap();
    let imported = Job::new("j1", "import", "succeeded")
        .step("check", "passed", "2 chunks, 1630 statements", 200)
        .report(r#"{"id":"import-1","kind":"imported","tables":[{"name":"t","rows":4},{"name":"u","rows":6}]}"#);
    let refused = Job::new("j2", "import", "failed")
        .step("check", "failed", "line 3: ATTACH is not allowed", 10)
        .error("line 3: ATTACH is not allowed");
    let mut routes = upload_routes("import-1", 3, Answer::Start(imported));
    routes.extend(upload_routes("import-2", 3, Answer::Start(refused)));
    let worker = worker(routes);
    let run = import(
        &worker,
        &["import", file, "--id", "import-1", "--note", "from app.db"],
    )
    .expect_followed(0);
    assert_eq!(
        run.stdout_text(),
        "Imported import-1: 2 tables, 10 rows, validated by the worker.\n\
         Restore it with: d1-vault restore import-1 --confirm <database>\n"
    );
    assert!(
        run.stderr.starts_with(&format!(
            "Uploading backup import-1: 293.0 KiB of SQL, compressed and encrypted on the \
                 way, in parts of up to 39.1 KiB. Ctrl-C stops and discards the upload.\n\
                 Uploaded {:.1} KiB in 3 parts in ",
            object_len as f64 / 1024.0
        )),
        "{}",
        run.stderr
    );
    assert!(
        run.stderr.contains("\nFollowing import job j1"),
        "{}",
        run.stderr
    );
    assert_eq!(
        upload_lines(&worker),
        [
            "POST /v1/imports",
            "PUT /v1/imports/import-1/parts/1?upload_id=u1",
            "PUT /v1/imports/import-1/parts/2?upload_id=u1",
            "PUT /v1/imports/import-1/parts/3?upload_id=u1",
            "POST /v1/imports/import-1/complete?upload_id=u1",
        ]
    );
    let requests = worker.requests();
    assert!(
        requests
            .iter()
            .all(|request| request.authorization.as_deref()
                == Some(&*format!("Bearer {ADMIN_TOKEN}")))
    );
    assert_eq!(requests[0].json(), json!({ "id": "import-1" }));
    assert_eq!(
        requests[1].content_type.as_deref(),
        Some("application/octet-stream")
    );
    let complete: Value = requests[4].json();
    assert_eq!(
        complete,
        json!({
            "parts": [
                { "part_number": 1, "etag": "e1" },
                { "part_number": 2, "etag": "e2" },
                { "part_number": 3, "etag": "e3" },
            ],
            "note": "from app.db",
        })
    );
    let parts = parts_sent(&worker);
    let sizes: Vec<usize> = parts.iter().map(Vec::len).collect();
    assert_eq!(sizes, [PART_SIZE, PART_SIZE, object_len - 2 * PART_SIZE]);
    assert!(parts[0].starts_with(b"D1VAULT\n"), "encrypted here");
    local.write("uploaded.enc", &parts.concat());
    let decrypted = local
        .run(&["decrypt", "uploaded.enc", "--id", "import-1", "-o", "-"])
        .expect(0);
    assert!(decrypted.stdout == dump, "the dump, under the current key");

    let run = import(&worker, &["import", file, "--id", "import-2"]).expect_followed(1);
    assert_eq!(
        run.error_line(),
        "d1-vault: import job j2 failed at step check after 4.5 s: line 3: ATTACH is not \
         allowed; nothing was imported and nothing is listed; check the file with 'd1-vault \
         verify' (an encrypted object) or sqlite3 (a dump), then import it again"
    );
    let complete = worker
        .requests()
        .into_iter()
        .find(|request| request.line == "POST /v1/imports/import-2/complete?upload_id=u1")
        .unwrap();
    assert!(complete.json().get("note").is_none(), "{}", complete.text());
}

#[test]
fn an_object_made_by_encrypt_is_sent_as_it_is_under_the_id_in_its_header() {
    let local = Cli::new();
    let object = local.encrypt(&sql(50_000), "enc-1", "app.enc");
    let job = Job::new("j1", "import", "succeeded").report(r#"{"id":"enc-1","tables":[]}"#);
    let worker = worker(upload_routes("enc-1", 2, Answer::Start(job)));
    let path = object.to_str().unwrap();
    import(&worker, &["import", path]).expect_followed(0);
    assert!(parts_sent(&worker).concat() == std::fs::read(&object).unwrap());
    assert_eq!(worker.requests()[0].json(), json!({ "id": "enc-1" }));

    let run = import(&worker, &["import", path, "--id", "other"]).expect(2);
    assert!(
        run.stderr
            .contains("--id is for plain SQL files; an encrypted object carries its own id"),
        "{}",
        run.stderr
    );
}

#[test]
fn a_part_that_fails_is_sent_again_and_the_upload_completes() {
    let local = Cli::new();
    let file = local.write("app.sql", &three_part_dump(&local).0);
    let job = Job::new("j1", "import", "succeeded").report(r#"{"id":"import-1","tables":[]}"#);
    let mut routes = upload_routes("import-1", 3, Answer::Start(job));
    let failing = error("internal", "internal error (R2 upload part 2)");
    routes[2].1 = Answer::Bodies(vec![
        (503, failing),
        (
            200,
            json!({ "part_number": 2, "etag": "e2-again" }).to_string(),
        ),
    ]);
    let worker = worker(routes);
    let run = import(
        &worker,
        &["import", file.to_str().unwrap(), "--id", "import-1"],
    )
    .expect_followed(0);
    assert!(
        run.stderr.contains(
            "\npart 2 failed (internal error (R2 upload part 2) (HTTP 503 internal)); \
             sending it again in 1.0 s (try 2 of 6)\n"
        ),
        "{}",
        run.stderr
    );
    let lines = upload_lines(&worker);
    assert_eq!(
        lines[1..5],
        [
            "PUT /v1/imports/import-1/parts/1?upload_id=u1",
            "PUT /v1/imports/import-1/parts/2?upload_id=u1",
            "PUT /v1/imports/import-1/parts/2?upload_id=u1",
            "PUT /v1/imports/import-1/parts/3?upload_id=u1",
        ]
    );
    let parts = parts_sent(&worker);
    assert!(parts[1] == parts[2], "the same bytes again");
    let complete = worker.requests()[5].json();
    assert_eq!(
        complete["parts"][1],
        json!({ "part_number": 2, "etag": "e2-again" })
    );
}

#[test]
fn a_refused_part_or_completion_discards_the_upload() {
    let local = Cli::new();
    let file = local.write("app.sql", &three_part_dump(&local).0);
    let file = file.to_str().unwrap();
    let mut routes = upload_routes("import-1", 3, Answer::Body(500, String::new()));
    let wrong = error(
        "validation_failed",
        "the object belongs to backup x, not import-1. The upload was discarded",
    );
    routes[1].1 = Answer::Body(422, wrong);
    let busy = error(
        "job_running",
        "restore job j0 is running; run 'd1-vault cancel j0' to stop it",
    );
    routes.extend(upload_routes("import-2", 3, Answer::Body(409, busy)));
    let worker = worker(routes);
    let run = import(&worker, &["import", file, "--id", "import-1"]).expect_followed(1);
    assert_eq!(
        run.error_line(),
        "d1-vault: the object belongs to backup x, not import-1. The upload was discarded \
         (HTTP 422 validation_failed); the upload was discarded and nothing was imported"
    );
    assert_eq!(
        upload_lines(&worker),
        [
            "POST /v1/imports",
            "PUT /v1/imports/import-1/parts/1?upload_id=u1",
            "DELETE /v1/imports/import-1?upload_id=u1",
        ]
    );

    let run = import(&worker, &["import", file, "--id", "import-2"]).expect_followed(1);
    assert_eq!(
        run.error_line(),
        "d1-vault: restore job j0 is running; run 'd1-vault cancel j0' to stop it (HTTP 409 \
         job_running)"
    );
    assert_eq!(
        upload_lines(&worker)[3..],
        [
            "POST /v1/imports",
            "PUT /v1/imports/import-2/parts/1?upload_id=u1",
            "PUT /v1/imports/import-2/parts/2?upload_id=u1",
            "PUT /v1/imports/import-2/parts/3?upload_id=u1",
            "POST /v1/imports/import-2/complete?upload_id=u1",
            "DELETE /v1/imports/import-2?upload_id=u1",
        ]
    );
}

#[test]
fn an_id_that_is_taken_is_refused_before_any_part_is_sent() {
    let local = Cli::new();
    let file = local.write("app.sql", &sql(1_000));
    let taken = error(
        "conflict",
        "a backup with id import-1 exists already; encrypt the dump again with another --id",
    );
    let worker = worker(vec![(
        "POST /v1/imports".to_owned(),
        Answer::Body(409, taken),
    )]);
    let run = import(
        &worker,
        &["import", file.to_str().unwrap(), "--id", "import-1"],
    )
    .expect(1);
    assert_eq!(
        run.stderr,
        "d1-vault: a backup with id import-1 exists already; encrypt the dump again with \
         another --id (HTTP 409 conflict)\n"
    );
    assert_eq!(worker.lines(), ["POST /v1/imports"]);
}

#[test]
fn ctrl_c_while_uploading_discards_the_upload() {
    let local = Cli::new();
    let file = local.write("app.sql", &three_part_dump(&local).0);
    let mut routes = upload_routes("import-1", 3, Answer::Body(500, String::new()));
    routes[2].1 = Answer::Body(503, error("internal", "R2 is down"));
    let worker = worker(routes);
    let mut child = worker
        .command(
            &["import", file.to_str().unwrap(), "--id", "import-1"],
            ADMIN_TOKEN,
        )
        .env("BACKUP_ENCRYPTION_KEY", KEY_A)
        .spawn()
        .unwrap();
    let mut stderr = BufReader::new(child.stderr.take().unwrap());
    let mut seen = String::new();
    while !seen.contains("part 2 failed") {
        let mut line = String::new();
        assert!(stderr.read_line(&mut line).unwrap() > 0, "ended: {seen}");
        seen.push_str(&line);
    }
    let status = Command::new("kill")
        .args(["-INT", &child.id().to_string()])
        .status()
        .unwrap();
    assert!(status.success());
    let mut rest = String::new();
    std::io::Read::read_to_string(&mut stderr, &mut rest).unwrap();
    let run = finish(child);
    assert_eq!(run.code, 130, "{seen}{rest}");
    assert_eq!(
        rest.lines().last().unwrap(),
        "d1-vault: stopped the import after 1 part was uploaded; the upload was discarded \
         and nothing was imported"
    );
    assert_eq!(
        upload_lines(&worker).last().unwrap(),
        "DELETE /v1/imports/import-1?upload_id=u1"
    );
}
