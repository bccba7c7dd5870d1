//! Resumption: validations and restores run in slices of tiny budgets,
//! saved as JSON and loaded again between every two slices, and with
//! slices that die after D1 committed their batches, end exactly as the
//! one-go runs do, with the same database, report and events. Stops
//! (failures, cancellations, give-ups) are in [`stops`].

use serde::de::DeserializeOwned;

use super::*;
use crate::dump::DumpOptions;
use crate::format::keys::MasterKey;
use crate::format::SoftwareEngine;
use crate::jobs::engine::record::EventKind;
use crate::jobs::restore::{restore, validate, Progress, RestoreParams};
use crate::jobs::slice::Budget;
use crate::jobs::testing::{block_on, MemoryStore, SqliteReader};
use crate::layout::object_key;
use crate::restore::plan::PlannedStatement;
use crate::retention::BackupKind;

mod stops;

const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c";
const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);
/// Object bytes per ranged GET: many ranges for a small object.
const RANGE: u64 = 512;
/// Three subrequests per slice: a few ranges or batches each.
const TINY: Budget = Budget {
    d1_queries: u64::MAX,
    subrequests: 3,
    bytes: u64::MAX,
    wall_ms: u64::MAX,
};

fn clock() -> Timestamp {
    T0
}

fn key() -> MasterKey {
    MasterKey::from_hex(KEY).unwrap()
}

fn keyring() -> Keyring {
    Keyring::new(key())
}

fn settings(key: &MasterKey) -> BackupSettings<'_> {
    BackupSettings {
        environment: "test",
        database: "app",
        key,
        engine: &SoftwareEngine,
        worker_version: "0",
        fault: None,
    }
}

/// A database with foreign keys, a view, an index, a trigger, an FTS5
/// table, AUTOINCREMENT and `log`, a table without a primary key: a batch
/// imported twice would leave duplicate rows there.
fn database() -> SqliteReader {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    connection
        .execute_batch(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
             CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT);
             CREATE TABLE log(at INTEGER, message TEXT);
             CREATE INDEX child_by_parent ON child(parent_id);
             CREATE VIEW parent_counts AS SELECT parent_id, count(*) AS n FROM child GROUP BY parent_id;
             CREATE VIRTUAL TABLE notes USING fts5(body);
             CREATE TRIGGER child_notes AFTER INSERT ON child BEGIN INSERT INTO notes(rowid, body) VALUES (new.id, new.note); END;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO parent(name) SELECT 'parent ' || i || ' it''s' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 1500)
             INSERT INTO child SELECT i, 1 + i % 200, 'note ' || i || char(10) || '✓' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000)
             INSERT INTO log SELECT i % 7, 'the same message, again and again' FROM n;",
        )
        .unwrap();
    SqliteReader::new(connection)
}

/// What happened to the database since its backup.
fn damage(db: &SqliteReader) {
    db.connection
        .execute_batch(
            "DROP VIEW parent_counts; DELETE FROM child WHERE id % 2 = 0;
             INSERT INTO log VALUES (9, 'after the backup');
             INSERT INTO parent(name) VALUES ('intruder');",
        )
        .unwrap();
}

/// The whole database as text: schema, then every table's rows (FTS5
/// shadow tables left out, the FTS5 table's documents in).
fn dump(db: &SqliteReader) -> String {
    use rusqlite::types::ValueRef;
    let text = |sql: &str| -> Vec<String> {
        let mut statement = db.connection.prepare(sql).unwrap();
        let columns = statement.column_count();
        statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        row.get_ref(i).map(|value| match value {
                            ValueRef::Null => "NULL".to_owned(),
                            ValueRef::Integer(n) => n.to_string(),
                            ValueRef::Real(x) => format!("{x:?}"),
                            ValueRef::Text(t) => format!("{:?}", String::from_utf8_lossy(t)),
                            ValueRef::Blob(b) => format!("blob {b:?}"),
                        })
                    })
                    .collect::<Result<Vec<_>, _>>()
                    .map(|values| values.join(", "))
            })
            .unwrap()
            .collect::<Result<_, _>>()
            .unwrap()
    };
    let shown = "name NOT LIKE 'notes_%' ORDER BY name";
    let mut out = text(&format!(
        "SELECT type, name, sql FROM sqlite_schema WHERE {shown}"
    ));
    for table in text(&format!(
        "SELECT name FROM sqlite_schema WHERE type = 'table' AND {shown}"
    )) {
        let table = table.trim_matches('"');
        for row in text(&format!("SELECT rowid, * FROM \"{table}\" ORDER BY rowid")) {
            out.push(format!("{table}: {row}"));
        }
    }
    out.join("\n")
}

/// Rows in the progress table, or `None` without one.
fn progress_rows(db: &SqliteReader) -> Option<i64> {
    db.connection
        .query_row(
            &format!("SELECT count(*) FROM {}", progress_table::PROGRESS_TABLE),
            [],
            |row| row.get(0),
        )
        .ok()
}

/// Backup `b1` of `db`, in small statements: many import batches.
fn back_up(db: &SqliteReader, store: &MemoryStore) -> Manifest {
    let request = BackupRequest {
        id: "b1".into(),
        kind: BackupKind::Scheduled,
        pinned: false,
        note: None,
        created_at: T0,
        salt: [3; 32],
    };
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        page_target_bytes: 8_000,
        max_page_rows: 40,
    };
    let mut job = BackupJob::tuned(request, 64 * 1024, options);
    let key = key();
    let meter = Meter::unlimited(&clock);
    loop {
        if let SliceEnd::Done(manifest) =
            block_on(job.run_slice(db, store, settings(&key), &meter)).unwrap()
        {
            return manifest;
        }
    }
}

/// A database, damaged since its backup, and the bucket with the backup.
fn restorable() -> (SqliteReader, MemoryStore, Manifest) {
    let db = database();
    let store = MemoryStore::default();
    let manifest = back_up(&db, &store);
    damage(&db);
    (db, store, manifest)
}

/// The restore's parameters, as the one-go [`restore`] makes them.
fn params(manifest: &Manifest, safety: bool) -> RestoreJobParams {
    RestoreJobParams {
        restore_id: "r1".into(),
        manifest: manifest.clone(),
        safety_backup: safety.then(|| BackupRequest {
            id: "safety".into(),
            kind: BackupKind::PreRestore,
            pinned: true,
            note: Some(format!("taken before restoring {}", manifest.id)),
            created_at: T0,
            salt: [4; 32],
        }),
    }
}

/// Collects the one-go runs' step events.
#[derive(Default)]
struct Collect(Vec<(StepReport, bool)>);

impl Progress for Collect {
    fn event(&mut self, report: &StepReport, rollback: bool) {
        self.0.push((report.clone(), rollback));
    }
}

/// The one-go restore, with its step events.
fn one_go(
    db: &SqliteReader,
    store: &MemoryStore,
    manifest: &Manifest,
    safety: bool,
) -> (RestoreReport, Vec<(StepReport, bool)>) {
    let key = key();
    let params = RestoreParams {
        restore_id: "r1".into(),
        manifest,
        keyring: &keyring(),
        settings: settings(&key),
        safety_backup: safety.then(|| ("safety".to_string(), [4; 32])),
        clock: &clock,
    };
    let mut events = Collect::default();
    let report = block_on(restore(db, store, params, &mut events));
    (report, events.0)
}

fn round_trip<T: Serialize + DeserializeOwned>(value: &T) -> T {
    serde_json::from_str(&serde_json::to_string(value).unwrap()).unwrap()
}

/// How a sliced run ended.
struct Sliced {
    report: RestoreReport,
    state: JobState,
    slices: usize,
    events: Vec<NewEvent>,
}

/// One slice of `job` under `budget`.
fn slice(
    job: &mut RestoreJob,
    db: &SqliteReader,
    store: &MemoryStore,
    budget: Budget,
) -> SliceEnd<RestoreReport> {
    let key = key();
    let meter = Meter::new(budget, &clock);
    block_on(job.run_slice(db, store, &keyring(), settings(&key), &meter)).unwrap()
}

/// Runs `job` to its end in [`TINY`] slices, saved and loaded as JSON
/// before each, calling `before` with the job and the slice's number
/// first.
fn run_sliced(
    mut job: RestoreJob,
    db: &SqliteReader,
    store: &MemoryStore,
    mut before: impl FnMut(&mut RestoreJob, usize),
) -> Sliced {
    let mut events = Vec::new();
    for slices in 1.. {
        job = round_trip(&job);
        before(&mut job, slices);
        let end = slice(&mut job, db, store, TINY);
        events.extend(job.take_events());
        if let SliceEnd::Done(report) = end {
            return Sliced {
                report,
                state: job.outcome().unwrap(),
                slices,
                events,
            };
        }
        assert_eq!(job.outcome(), None);
    }
    unreachable!()
}

/// The step events among `events`, as the one-go runs report them.
fn step_reports(events: &[NewEvent]) -> Vec<(StepReport, bool)> {
    events
        .iter()
        .filter(|e| matches!(e.kind, EventKind::StepStarted | EventKind::StepFinished))
        .map(|e| {
            let report = serde_json::from_value(e.detail.clone().unwrap()).unwrap();
            let rollback = e.step.as_deref().unwrap().starts_with("rollback: ");
            (report, rollback)
        })
        .collect()
}

#[test]
fn a_sliced_restore_saved_after_every_slice_equals_the_one_go_restore() {
    let (db, store, manifest) = restorable();
    let original = {
        let fresh = database();
        dump(&fresh)
    };
    let other_db = database();
    damage(&other_db);
    let other_store = store.snapshot();

    let (expected, expected_events) = one_go(&other_db, &other_store, &manifest, true);
    assert_eq!(expected.outcome, RestoreOutcome::Succeeded, "{expected:#?}");
    let mut steps_seen = Vec::new();
    let sliced = run_sliced(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        |job, _| {
            let progress = job.progress();
            assert!(progress.bytes_done <= progress.bytes_total.unwrap_or(u64::MAX));
            steps_seen.push(job.step_name());
        },
    );
    assert_eq!(sliced.report, expected);
    assert_eq!(sliced.state, JobState::Succeeded);
    assert!(sliced.slices > 100, "{} slices", sliced.slices);
    for step in [
        "download, decrypt and validate",
        "safety backup",
        "safety backup: validating it",
        "drop objects",
        "import",
    ] {
        assert!(steps_seen.contains(&step), "{step}: {steps_seen:?}");
    }
    assert_eq!(step_reports(&sliced.events), expected_events);
    assert!(sliced.events.iter().all(|e| e.step.is_some()));
    assert_eq!(dump(&db), original);
    assert_eq!(dump(&db), dump(&other_db));
    assert_eq!(progress_rows(&db), None, "the progress table is dropped");
    assert_eq!(store.keys(), other_store.keys());
    assert_eq!(
        store.body(&object_key("safety")),
        other_store.body(&object_key("safety"))
    );
}

#[test]
fn a_slice_that_dies_after_its_batches_committed_is_run_again_without_importing_twice() {
    let (db, store, manifest) = restorable();
    let original = dump(&database());
    let other_db = database();
    damage(&other_db);
    let (expected, _) = one_go(&other_db, &store.snapshot(), &manifest, true);

    let mut saved =
        serde_json::to_string(&RestoreJob::tuned(params(&manifest, true), RANGE)).unwrap();
    let mut dead_commits = 0;
    let report = loop {
        let mut job: RestoreJob = serde_json::from_str(&saved).unwrap();
        if job.step_name() == "import" {
            // This slice dies after D1 committed its batches: its
            // checkpoint is never saved.
            let before = progress_rows(&db).unwrap();
            slice(&mut job, &db, &store, TINY);
            dead_commits += progress_rows(&db).unwrap_or(before) - before;
            job = serde_json::from_str(&saved).unwrap();
        }
        let end = slice(&mut job, &db, &store, TINY);
        saved = serde_json::to_string(&job).unwrap();
        if let SliceEnd::Done(report) = end {
            break report;
        }
    };
    assert!(
        dead_commits >= 3,
        "{dead_commits} batches committed by dead slices"
    );
    assert_eq!(report, expected);
    assert_eq!(dump(&db), original, "no row imported twice");
    let log_rows: i64 = db
        .connection
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .unwrap();
    assert_eq!(log_rows, 10_000);
}

#[test]
fn a_sliced_validation_equals_the_one_go_validation_sound_or_tampered() {
    let (_, store, manifest) = restorable();
    let bodies: [fn(&mut Vec<u8>); 3] = [
        |_| {},
        |body| body[5000] ^= 1,
        |body| body.truncate(body.len() - 1),
    ];
    for tamper in bodies {
        let store = store.snapshot();
        store.tamper(&object_key("b1"), tamper);
        let mut expected_events = Collect::default();
        let expected = block_on(validate(
            &store,
            &keyring(),
            &SoftwareEngine,
            &manifest,
            &clock,
            &mut expected_events,
        ));
        let mut job = ValidateJob::with_range(manifest.clone(), RANGE);
        let mut events = Vec::new();
        let mut slices = 0;
        let report = loop {
            job = round_trip(&job);
            slices += 1;
            let meter = Meter::new(TINY, &clock);
            let end = block_on(job.run_slice(&store, &keyring(), &SoftwareEngine, &meter)).unwrap();
            events.extend(job.take_events());
            if let SliceEnd::Done(report) = end {
                break report;
            }
            let progress = job.progress();
            assert!(progress.bytes_done <= manifest.ciphertext.bytes);
            assert!(progress.rows_done <= manifest.total_rows());
        };
        assert_eq!(report, expected);
        assert_eq!(step_reports(&events), expected_events.0);
        assert_eq!(job.progress().bytes_done, manifest.ciphertext.bytes);
        if report.ok {
            assert!(slices > 10, "{slices} slices");
        }
    }
}

#[test]
fn the_progress_table_is_never_backed_up_and_does_not_disturb_the_verification() {
    let db = database();
    db.connection
        .execute_batch(&format!(
            "CREATE TABLE {0}(seq INTEGER PRIMARY KEY); INSERT INTO {0} VALUES (1), (2);",
            progress_table::PROGRESS_TABLE
        ))
        .unwrap();
    let store = MemoryStore::default();
    let manifest = back_up(&db, &store);
    assert!(manifest
        .tables
        .iter()
        .all(|t| !t.name.starts_with("_d1vault_")));
    let validation = block_on(validate(
        &store,
        &keyring(),
        &SoftwareEngine,
        &manifest,
        &clock,
        &mut Collect::default(),
    ));
    let summary = validation.summary.unwrap();
    assert!(summary
        .tables
        .iter()
        .all(|t| !t.name.starts_with("_d1vault_")));
    // Step 9 runs with the progress table in place; it is dropped after.
    let (report, _) = one_go(&db, &store, &manifest, false);
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    assert!(report.verification.iter().all(|c| c.ok));
    assert_eq!(progress_rows(&db), None);
}

#[test]
fn a_checkpoint_holds_no_key_material() {
    let (db, store, manifest) = restorable();
    let mut job = RestoreJob::tuned(params(&manifest, true), RANGE);
    let mut checkpoints = String::new();
    while !matches!(slice(&mut job, &db, &store, TINY), SliceEnd::Done(_)) {
        checkpoints.push_str(&serde_json::to_string(&job).unwrap());
    }
    assert!(checkpoints.contains("\"decryptor\""));
    assert!(!checkpoints.to_lowercase().contains(KEY));
    assert!(!checkpoints.contains(&base64::Engine::encode(
        &base64::engine::general_purpose::STANDARD,
        hex::decode(KEY)
    )));
}

/// Hex digits to bytes.
mod hex {
    pub fn decode(text: &str) -> Vec<u8> {
        (0..text.len())
            .step_by(2)
            .map(|i| u8::from_str_radix(&text[i..i + 2], 16).unwrap())
            .collect()
    }
}

#[test]
fn a_batch_of_the_test_database_is_one_transaction() {
    let db = database();
    let before = dump(&db);
    let batch = [
        "DELETE FROM log",
        "INSERT INTO parent(id, name) VALUES (9999, 'new')",
        "INSERT INTO parent(id, name) VALUES (9999, 'twice')",
    ]
    .map(|sql| PlannedStatement::plain(sql.into()));
    assert!(block_on(db.batch(&batch)).is_err());
    assert_eq!(dump(&db), before, "a failed batch changes nothing");
}

/// Runs `job` to its end with `budget` per slice (a JSON round trip
/// between slices); returns its report and the most D1 queries one slice
/// made.
fn run_within(
    mut job: RestoreJob,
    db: &SqliteReader,
    store: &MemoryStore,
    budget: Budget,
) -> (RestoreReport, u64) {
    let mut most = 0;
    loop {
        job = round_trip(&job);
        let key = key();
        let meter = Meter::new(budget, &clock);
        let end = block_on(job.run_slice(db, store, &keyring(), settings(&key), &meter)).unwrap();
        most = most.max(meter.usage().d1_queries);
        if let SliceEnd::Done(report) = end {
            return (report, most);
        }
    }
}

/// The Free plan's slice budget: production fails an invocation's 51st
/// D1 query (each statement of a batch counts).
const FREE: Budget = Budget {
    d1_queries: 40,
    subrequests: 500,
    bytes: u64::MAX,
    wall_ms: u64::MAX,
};

#[test]
fn under_a_free_plan_budget_no_slice_makes_more_than_fifty_d1_queries() {
    let (db, store, manifest) = restorable();
    let original = dump(&database());
    let (report, most) = run_within(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        FREE,
    );
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    assert!(most <= 50, "a slice made {most} D1 queries");
    assert_eq!(dump(&db), original);
}

#[test]
fn a_schema_too_large_for_one_batch_is_dropped_in_several_and_verified_in_few_queries() {
    let db = SqliteReader::new(rusqlite::Connection::open_in_memory().unwrap());
    let tables: String = (0..300)
        .map(|i| format!("CREATE TABLE t{i}(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t{i} VALUES ({i}, 'x');"))
        .collect();
    db.connection.execute_batch(&tables).unwrap();
    let store = MemoryStore::default();
    let manifest = back_up(&db, &store);
    let original = dump(&db);
    db.connection
        .execute_batch("DROP TABLE t7; CREATE TABLE later(x); DELETE FROM t9;")
        .unwrap();
    let (report, most) = run_within(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        FREE,
    );
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    assert!(most <= 50, "a slice made {most} D1 queries");
    assert_eq!(dump(&db), original);
    assert_eq!(progress_rows(&db), None, "the progress table is dropped");
}

#[test]
fn drop_batches_hold_at_most_the_limit_and_each_starts_with_the_pragma() {
    let statements: Vec<PlannedStatement> =
        std::iter::once("PRAGMA defer_foreign_keys = on".to_string())
            .chain((0..10).map(|i| format!("DROP TABLE IF EXISTS t{i}")))
            .map(PlannedStatement::plain)
            .collect();
    let (first, rest) = crate::jobs::restore::next_drop_batch(statements.clone(), 4);
    assert_eq!(first, statements[..4].to_vec());
    assert_eq!(rest[0].sql, "PRAGMA defer_foreign_keys = on");
    assert_eq!(rest.len(), 1 + 7);
    let (all, none) = crate::jobs::restore::next_drop_batch(statements.clone(), 100);
    assert_eq!((all, none.len()), (statements, 0));
}
