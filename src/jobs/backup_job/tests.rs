//! Resumption: a backup run in slices of tiny budgets, saved as JSON and
//! loaded again between every two slices, with slices that die before their
//! checkpoint is saved, is byte for byte the backup taken in one go.

use super::*;
use crate::dump::Row;
use crate::format::keys::MasterKey;
use crate::format::{Decryptor, Keyring};
use crate::jobs::backup::take_backup;
use crate::jobs::slice::Budget;
use crate::jobs::testing::{block_on, noisy_connection, MemoryStore, SqliteReader};
use crate::retention::BackupKind;
use proptest::prelude::*;

const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
const OTHER_KEY: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";
const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);
const ID: &str = "20260101T020000Z-sliced";

/// Small statements and pages: many queries, an oversized row in pieces.
const SMALL: DumpOptions = DumpOptions {
    statement_target_bytes: 2_000,
    page_target_bytes: 8_000,
    max_page_rows: 40,
};

fn clock() -> Timestamp {
    T0
}

/// A database of every kind of table, `children` rows in the largest, and
/// a row too large for one statement.
fn database(children: u32) -> SqliteReader {
    let connection = noisy_connection();
    connection
        .execute_batch(&format!(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
             CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), body BLOB);
             CREATE TABLE tags(name TEXT PRIMARY KEY, weight REAL) WITHOUT ROWID;
             CREATE TABLE seq(id INTEGER PRIMARY KEY AUTOINCREMENT, note TEXT);
             CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIRTUAL TABLE search USING fts5(body);
             CREATE INDEX child_parent ON child(parent_id);
             CREATE VIEW named AS SELECT id, name FROM parent WHERE name LIKE 'parent%';
             CREATE TRIGGER seq_touch AFTER INSERT ON seq BEGIN UPDATE seq SET note = note WHERE id = new.id; END;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
             INSERT INTO parent SELECT i, 'parent ' || i || ' ''quoted''' FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < {children})
             INSERT INTO child SELECT i, 1 + i % 500, noise(i, i % 1000) FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 200)
             INSERT INTO tags SELECT 'tag ' || i, i / 7.0 FROM n;
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 100)
             INSERT INTO seq(note) SELECT 'note ' || i FROM n;
             DELETE FROM seq WHERE id > 90;
             INSERT INTO notes VALUES (1, 'short'), (2, replace(hex(zeroblob(75000)), '00', 'ab'));
             WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 50)
             INSERT INTO search(body) SELECT 'document ' || i || ' about backups' FROM n;"
        ))
        .unwrap();
    SqliteReader::new(connection)
}

fn request() -> BackupRequest {
    BackupRequest {
        id: ID.into(),
        kind: BackupKind::Manual,
        pinned: false,
        note: Some("sliced".into()),
        created_at: T0,
        salt: [7; 32],
    }
}

fn settings(key: &MasterKey) -> BackupSettings<'_> {
    BackupSettings {
        environment: "test",
        database: "app",
        key,
        engine: &crate::format::SoftwareEngine,
        worker_version: "0.0.0",
        fault: None,
    }
}

fn budget(d1_queries: u64, subrequests: u64) -> Budget {
    Budget {
        d1_queries,
        subrequests,
        ..Budget::UNLIMITED
    }
}

fn save(job: &BackupJob) -> String {
    serde_json::to_string(job).unwrap()
}

fn load(json: &str) -> BackupJob {
    serde_json::from_str(json).unwrap()
}

/// What a finished run left in the bucket.
#[derive(Debug, PartialEq)]
struct Stored {
    object: Vec<u8>,
    manifest_json: Vec<u8>,
    manifest: Manifest,
}

fn stored(store: &MemoryStore, manifest: Manifest) -> Stored {
    assert_eq!(store.keys(), vec![object_key(ID), manifest_key(ID)]);
    Stored {
        object: store.body(&object_key(ID)).unwrap(),
        manifest_json: store.body(&manifest_key(ID)).unwrap(),
        manifest,
    }
}

/// Before slice `n` (from 0), whose checkpoint is at step `s`, a slice
/// with the budget this returns runs from that checkpoint and dies: its
/// state is thrown away.
type Deaths = Box<dyn Fn(usize, &str) -> Option<Budget>>;

/// How a run in slices goes.
struct Plan {
    budget: Budget,
    dies: Deaths,
}

/// Runs `job` to its end in slices, from its JSON checkpoint every time.
/// Returns what was stored, the slices run and the steps seen at their ends.
fn run_in_slices(
    job: BackupJob,
    db: &SqliteReader,
    store: &MemoryStore,
    key: &MasterKey,
    plan: &Plan,
) -> (Stored, usize, Vec<&'static str>) {
    let mut step = job.step_name();
    let mut checkpoint = save(&job);
    let mut steps = Vec::new();
    for slice in 0.. {
        assert!(slice < 100_000, "the job does not end");
        if let Some(budget) = (plan.dies)(slice, step) {
            let meter = Meter::new(budget, &clock);
            let mut ghost = load(&checkpoint);
            let _ = block_on(ghost.run_slice(db, store, settings(key), &meter));
        }
        let meter = Meter::new(plan.budget, &clock);
        let mut job = load(&checkpoint);
        let end = block_on(job.run_slice(db, store, settings(key), &meter)).unwrap();
        assert!(
            meter.usage().d1_queries <= plan.budget.d1_queries.max(1),
            "slice {slice} ran {} queries",
            meter.usage().d1_queries
        );
        step = job.step_name();
        steps.push(step);
        match end {
            SliceEnd::Continue => checkpoint = save(&job),
            SliceEnd::Done(manifest) => return (stored(store, manifest), slice + 1, steps),
        }
    }
    unreachable!("the loop only ends by returning")
}

fn never_dies() -> Plan {
    Plan {
        budget: budget(1, 2),
        dies: Box::new(|_, _| None),
    }
}

/// The job run in one slice without a budget.
fn in_one_go(job: BackupJob, db: &SqliteReader, key: &MasterKey) -> Stored {
    let store = MemoryStore::default();
    let (stored, _, _) = run_in_slices(
        job,
        db,
        &store,
        key,
        &Plan {
            budget: Budget::UNLIMITED,
            dies: Box::new(|_, _| None),
        },
    );
    stored
}

/// The SQL a dump with `options` writes of `db`, driven directly.
fn dumped_sql(db: &SqliteReader, options: DumpOptions) -> Vec<u8> {
    let mut dump = Dump::new(options).unwrap();
    let mut sql = Vec::new();
    loop {
        match dump.step(&mut sql).unwrap() {
            Step::Query(query) => {
                let rows: Vec<Row> = block_on(db.query(&query.sql)).unwrap();
                dump.accept(rows).unwrap();
            }
            Step::Done(_) => return sql,
        }
    }
}

fn decrypted(object: &[u8], key: &MasterKey) -> Vec<u8> {
    let keyring = Keyring::new(key.clone());
    let mut decryptor = Decryptor::new(&keyring, Some(&BackupId::parse(ID).unwrap()));
    let mut sql = Vec::new();
    decryptor.update(object, &mut sql).unwrap();
    decryptor.finish(&mut sql).unwrap();
    sql
}

#[test]
fn sliced_with_default_options_is_take_backup_byte_for_byte() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(3000);
    let store = MemoryStore::default();
    let manifest = block_on(take_backup(&db, &store, settings(&key), &request(), clock)).unwrap();
    let whole = stored(&store, manifest);

    let part_size = 256 * 1024;
    let job = BackupJob::tuned(request(), part_size, DumpOptions::default());
    let store = MemoryStore::default();
    let (sliced, slices, _) = run_in_slices(job, &db, &store, &key, &never_dies());
    assert!(
        whole.object.len() > 4 * part_size,
        "the test needs several parts: {}",
        whole.object.len()
    );
    assert!(slices > 20, "only {slices} slices");
    assert_eq!(sliced, whole);
    assert!(store.open_uploads().is_empty());
}

#[test]
fn tiny_budgets_and_a_checkpoint_between_every_slice_change_nothing() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(1500);
    let part_size = 32 * 1024;
    let job = || BackupJob::tuned(request(), part_size, SMALL);
    let reference = in_one_go(job(), &db, &key);
    let sql = decrypted(&reference.object, &key);
    assert_eq!(sql, dumped_sql(&db, SMALL));
    assert_eq!(reference.manifest.plaintext.bytes, sql.len() as u64);
    assert!(reference.object.len() > 10 * part_size);
    let copy = rusqlite::Connection::open_in_memory().unwrap();
    copy.execute_batch(std::str::from_utf8(&sql).unwrap())
        .unwrap();
    let notes: i64 = copy
        .query_row("SELECT length(body) FROM notes WHERE id = 2", [], |r| {
            r.get(0)
        })
        .unwrap();
    assert_eq!(notes, 150_000);

    let mut all_steps = Vec::new();
    for (d1_queries, subrequests) in [(1, 1), (1, 3), (2, 2), (3, 1)] {
        let store = MemoryStore::default();
        let plan = Plan {
            budget: budget(d1_queries, subrequests),
            dies: Box::new(|_, _| None),
        };
        let (sliced, slices, steps) = run_in_slices(job(), &db, &store, &key, &plan);
        assert_eq!(sliced, reference, "budget {d1_queries} queries");
        assert!(slices > 50, "only {slices} slices");
        assert!(store.open_uploads().is_empty());
        all_steps.extend(steps);
    }
    for step in [
        "starting the upload",
        "dump, encrypt and upload",
        "uploading the last parts",
        "foreign key check at end and self-check",
        "completing the upload",
    ] {
        assert!(all_steps.contains(&step), "no slice ended at {step:?}");
    }
}

#[test]
fn a_slice_that_dies_before_its_checkpoint_is_saved_is_simply_run_again() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(300);
    let job = || BackupJob::tuned(request(), 16 * 1024, SMALL);
    let reference = in_one_go(job(), &db, &key);
    let plans = [
        Plan {
            budget: budget(2, 2),
            dies: Box::new(|_, _| Some(budget(2, 2))),
        },
        Plan {
            budget: budget(1, 1),
            dies: Box::new(|slice, _| (slice % 3 == 1).then_some(budget(3, 5))),
        },
        // The dead slice runs as far as a slice may: up to completing the
        // upload, or through completing it and writing the manifest.
        Plan {
            budget: budget(1, 2),
            dies: Box::new(|slice, step| {
                (slice % 10 == 0
                    || step == "completing the upload"
                    || step == "writing the manifest")
                    .then_some(Budget::UNLIMITED)
            }),
        },
    ];
    for (index, plan) in plans.iter().enumerate() {
        let store = MemoryStore::default();
        let (sliced, _, _) = run_in_slices(job(), &db, &store, &key, plan);
        assert_eq!(sliced, reference, "plan {index}");
        // Only a slice that died after starting the upload, before a
        // checkpoint recorded it, leaves one open (nobody knows its id; R2
        // aborts it after 7 days): the dead slices of the first two
        // checkpoints at most.
        assert!(store.open_uploads().len() <= 2, "plan {index}");
    }
}

/// Runs `slices` slices of one query or R2 call each, from JSON every
/// time; `None` if the job was done before.
fn after_slices(
    slices: usize,
    db: &SqliteReader,
    store: &MemoryStore,
    key: &MasterKey,
) -> Option<String> {
    let mut checkpoint = save(&BackupJob::tuned(request(), 16 * 1024, SMALL));
    for _ in 0..slices {
        let meter = Meter::new(budget(1, 1), &clock);
        let mut job = load(&checkpoint);
        match block_on(job.run_slice(db, store, settings(key), &meter)).unwrap() {
            SliceEnd::Continue => checkpoint = save(&job),
            SliceEnd::Done(_) => return None,
        }
    }
    Some(checkpoint)
}

#[test]
fn abandoning_at_any_step_leaves_nothing_behind() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(100);
    let store = MemoryStore::default();
    let mut job = BackupJob::tuned(request(), 16 * 1024, SMALL);
    let mut steps = Vec::new();
    for slice in 0.. {
        let checkpoint = save(&job);
        steps.push(job.step_name());
        let abandoned = store.snapshot();
        block_on(load(&checkpoint).abandon(&abandoned)).unwrap();
        assert!(abandoned.keys().is_empty(), "after {slice} slices");
        assert!(abandoned.open_uploads().is_empty(), "after {slice} slices");

        // A slice that got further and died before its checkpoint was
        // saved: abandoning from that checkpoint still undoes it all.
        let abandoned = store.snapshot();
        let meter = Meter::new(budget(2, 4), &clock);
        let _ = block_on(load(&checkpoint).run_slice(&db, &abandoned, settings(&key), &meter));
        block_on(load(&checkpoint).abandon(&abandoned)).unwrap();
        assert!(
            abandoned.keys().is_empty(),
            "after {slice} slices and a dead one"
        );

        let meter = Meter::new(budget(1, 1), &clock);
        job = load(&checkpoint);
        if let SliceEnd::Done(_) =
            block_on(job.run_slice(&db, &store, settings(&key), &meter)).unwrap()
        {
            break;
        }
    }
    for step in [
        "dump, encrypt and upload",
        "completing the upload",
        "writing the manifest",
    ] {
        assert!(steps.contains(&step), "never abandoned at {step:?}");
    }
}

#[test]
fn a_listed_backup_is_done_for_good() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(50);
    let store = MemoryStore::default();
    let mut job = BackupJob::tuned(request(), 16 * 1024, SMALL);
    let meter = Meter::unlimited(&clock);
    let manifest = loop {
        if let SliceEnd::Done(manifest) =
            block_on(job.run_slice(&db, &store, settings(&key), &meter)).unwrap()
        {
            break manifest;
        }
    };
    let mut job = load(&save(&job));
    let meter = Meter::new(budget(1, 1), &clock);
    let again = block_on(job.run_slice(&db, &store, settings(&key), &meter)).unwrap();
    assert_eq!(again, SliceEnd::Done(manifest));
    assert_eq!(
        meter.usage(),
        Default::default(),
        "a done job calls nothing"
    );
    block_on(job.abandon(&store)).unwrap();
    assert_eq!(
        store.keys().len(),
        2,
        "abandoning a listed backup removed it"
    );
}

#[test]
fn progress_and_steps_only_move_forward() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let db = database(300);
    let store = MemoryStore::default();
    let order = [
        "foreign key check at start",
        "starting the upload",
        "dump, encrypt and upload",
        "uploading the last parts",
        "foreign key check at end and self-check",
        "completing the upload",
        "writing the manifest",
        "listed",
    ];
    let mut job = BackupJob::tuned(request(), 16 * 1024, SMALL);
    assert_eq!(job.progress(), JobProgress::default());
    let (mut step, mut last) = (0, JobProgress::default());
    let manifest = loop {
        let meter = Meter::new(budget(1, 1), &clock);
        let end = block_on(job.run_slice(&db, &store, settings(&key), &meter)).unwrap();
        let at = order.iter().position(|s| *s == job.step_name()).unwrap();
        assert!(at >= step, "{} after {}", order[at], order[step]);
        step = at;
        let progress = job.progress();
        assert!(progress.bytes_done >= last.bytes_done && progress.rows_done >= last.rows_done);
        assert_eq!(progress.rows_total.is_some(), at > 2, "at {}", order[at]);
        last = progress;
        if let SliceEnd::Done(manifest) = end {
            break manifest;
        }
    };
    assert_eq!(
        job.progress(),
        JobProgress {
            bytes_done: manifest.plaintext.bytes,
            bytes_total: Some(manifest.plaintext.bytes),
            rows_done: manifest.total_rows(),
            rows_total: Some(manifest.total_rows()),
        }
    );
}

#[test]
fn a_key_rotated_midway_fails_the_backup_and_abandoning_cleans_up() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let other = MasterKey::from_hex(OTHER_KEY).unwrap();
    let db = database(300);
    let store = MemoryStore::default();
    let checkpoint = after_slices(8, &db, &store, &key).unwrap();
    let mut job = load(&checkpoint);
    assert_eq!(job.step_name(), "dump, encrypt and upload");
    let meter = Meter::new(budget(1, 1), &clock);
    let error = block_on(job.run_slice(&db, &store, settings(&other), &meter)).unwrap_err();
    assert!(matches!(error, BackupError::Resume(_)), "{error}");
    assert!(error.to_string().contains("taken again"), "{error}");
    block_on(job.abandon(&store)).unwrap();
    assert!(store.keys().is_empty() && store.open_uploads().is_empty());
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(12))]

    #[test]
    fn any_budgets_and_deaths_give_the_same_backup(
        d1_queries in 1u64..4,
        subrequests in 1u64..5,
        deaths in proptest::collection::vec(proptest::option::of((1u64..6, 1u64..6)), 1..12),
    ) {
        let key = MasterKey::from_hex(KEY).unwrap();
        let db = database(80);
        let job = || BackupJob::tuned(request(), 16 * 1024, SMALL);
        let reference = in_one_go(job(), &db, &key);
        let plan = Plan {
            budget: budget(d1_queries, subrequests),
            dies: Box::new(move |slice, _| deaths[slice % deaths.len()].map(|(d, s)| budget(d, s))),
        };
        let store = MemoryStore::default();
        let (sliced, _, _) = run_in_slices(job(), &db, &store, &key, &plan);
        prop_assert_eq!(sliced, reference);
    }
}

#[test]
fn the_ciphertext_tail_doubles_from_small_and_never_past_a_part_and_a_page() {
    let unit = 2 << 20;
    let cap = (8 << 20) + unit + 2 * DEFAULT_CHUNK_SIZE as usize;
    let mut tail = Vec::new();
    grow_tail(&mut tail, 1000, cap);
    assert!(
        tail.capacity() < 1 << 20,
        "a small backup's tail took {} bytes",
        tail.capacity()
    );
    while tail.len() < 8 << 20 {
        grow_tail(&mut tail, unit, cap);
        let before = tail.capacity();
        tail.resize(tail.len() + unit, 0);
        assert_eq!(tail.capacity(), before, "the unit's ciphertext did not fit");
        assert!(tail.capacity() <= cap, "{} > {cap}", tail.capacity());
    }
}
