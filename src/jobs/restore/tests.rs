use super::drop_objects::children_first;
use super::*;
use crate::format::keys::MasterKey;
use crate::format::Encryptor;
use crate::format::SoftwareEngine;
use crate::jobs::prune::{get_manifest, list_backups};
use crate::jobs::testing::{block_on, MemoryStore, SqliteReader};
use crate::layout::object_key;
use crate::manifest::tests::sample;
use crate::manifest::Digests;

const KEY: &str = "2b7e151628aed2a6abf7158809cf4f3c2b7e151628aed2a6abf7158809cf4f3c";
const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);

fn clock() -> Timestamp {
    T0
}

fn app_db() -> SqliteReader {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    connection
        .execute_batch(
            "CREATE TABLE parent(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT NOT NULL UNIQUE);
                 CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id), note TEXT, data BLOB);
                 CREATE INDEX child_by_parent ON child(parent_id) WHERE note IS NOT NULL;
                 CREATE VIEW parent_counts AS SELECT parent_id, count(*) AS n FROM child GROUP BY parent_id;
                 CREATE VIRTUAL TABLE notes USING fts5(body);
                 CREATE TRIGGER child_notes AFTER INSERT ON child BEGIN INSERT INTO notes(rowid, body) VALUES (new.id, new.note); END;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 300)
                 INSERT INTO parent(name) SELECT 'parent ' || i || ' it''s' FROM n;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 2000)
                 INSERT INTO child SELECT i, 1 + i % 300, CASE WHEN i % 3 THEN 'note ' || i || char(10) || '✓' END, zeroblob(i % 50) FROM n;
                 DELETE FROM parent WHERE id = 300 AND NOT EXISTS (SELECT 1 FROM child WHERE parent_id = 300);",
        )
        .unwrap();
    SqliteReader::new(connection)
}

/// The whole database as text: schema and every table's rows.
fn snapshot(db: &SqliteReader) -> String {
    let mut out = String::new();
    let tables: Vec<String> = db
        .connection
        .prepare("SELECT name FROM sqlite_schema WHERE type = 'table' AND name NOT LIKE 'notes_%' ORDER BY name")
        .unwrap()
        .query_map([], |row| row.get(0))
        .unwrap()
        .collect::<Result<_, _>>()
        .unwrap();
    for row in block_on(db.query(
        "SELECT type, name, sql FROM sqlite_schema WHERE name NOT LIKE 'notes_%' ORDER BY name",
    ))
    .unwrap()
    {
        out.push_str(&format!("{row:?}\n"));
    }
    for table in tables {
        let sql = format!("SELECT quote(rowid), * FROM \"{table}\" ORDER BY rowid");
        let mut statement = db.connection.prepare(&sql).unwrap();
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| row.get_ref(i).map(|v| format!("{v:?}")))
                    .collect::<Result<Vec<_>, _>>()
            })
            .unwrap();
        for row in rows {
            out.push_str(&format!("{table}: {:?}\n", row.unwrap()));
        }
    }
    out
}

/// Steps 1-5 of `manifest`'s backup in `store`, with the test keyring.
fn validated(store: &MemoryStore, manifest: &Manifest) -> ValidationReport {
    block_on(validate(
        store,
        &keyring(),
        &SoftwareEngine,
        manifest,
        &clock,
        &mut Silent,
    ))
}

fn keyring() -> Keyring {
    Keyring::new(MasterKey::from_hex(KEY).unwrap())
}

fn back_up(db: &SqliteReader, store: &MemoryStore, key: &MasterKey) -> Manifest {
    let settings = BackupSettings {
        environment: "test",
        database: "app",
        key,
        engine: &crate::format::SoftwareEngine,
        worker_version: "0",
        fault: None,
    };
    let request = BackupRequest {
        id: "b1".into(),
        kind: BackupKind::Scheduled,
        pinned: false,
        note: None,
        created_at: T0,
        salt: [3; 32],
    };
    block_on(take_backup(db, store, settings, &request, clock)).unwrap()
}

fn run_restore(
    db: &SqliteReader,
    store: &MemoryStore,
    manifest: &Manifest,
    keyring: &Keyring,
    safety: bool,
) -> RestoreReport {
    let params = RestoreParams {
        restore_id: "r1".into(),
        manifest,
        keyring,
        settings: BackupSettings {
            environment: "test",
            database: "app",
            key: keyring.current(),
            engine: &crate::format::SoftwareEngine,
            worker_version: "0",
            fault: None,
        },
        safety_backup: safety.then(|| ("safety".to_string(), [4; 32])),
        clock: &clock,
    };
    block_on(restore(db, store, params, &mut Silent))
}

fn failed_step(report: &ValidationReport) -> Option<&StepReport> {
    report.steps.iter().find(|s| s.status == StepStatus::Failed)
}

#[test]
fn tables_are_dropped_children_first() {
    let tables = ["users", "teams", "memberships", "projects", "tasks", "solo"]
        .map(String::from)
        .to_vec();
    let edges: Vec<(String, String)> = [
        ("memberships", "users"),
        ("memberships", "teams"),
        ("projects", "teams"),
        ("tasks", "projects"),
        ("tasks", "USERS"),
        ("tasks", "tasks"),
    ]
    .iter()
    .map(|(c, p)| (c.to_string(), p.to_string()))
    .collect();
    let order = children_first(tables, &edges);
    let position = |name: &str| order.iter().position(|t| t == name).unwrap();
    for (child, parent) in &edges {
        if !child.eq_ignore_ascii_case(parent) {
            assert!(
                position(child) < position(&parent.to_lowercase()),
                "{child} before {parent}: {order:?}"
            );
        }
    }
    assert_eq!(order.len(), 6);
}

#[test]
fn restores_a_damaged_database_exactly_and_keeps_a_pinned_safety_backup() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let original = snapshot(&db);
    let manifest = back_up(&db, &store, &key);
    db.connection
        .execute_batch("DROP VIEW parent_counts; DELETE FROM child WHERE id % 2 = 0; INSERT INTO parent(name) VALUES ('intruder');")
        .unwrap();
    assert_ne!(snapshot(&db), original);

    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    assert_eq!(snapshot(&db), original);
    assert_eq!(report.steps.len(), 10);
    assert!(
        report.steps.iter().all(|s| s.status == StepStatus::Passed),
        "{:#?}",
        report.steps
    );
    assert!(report.verification.iter().all(|c| c.ok));
    assert_eq!(report.rows_imported, manifest.total_rows());
    let safety = block_on(get_manifest(&store, "safety")).unwrap().unwrap();
    assert_eq!((safety.kind, safety.pinned), (BackupKind::PreRestore, true));
    let fts: i64 = db
        .connection
        .query_row(
            "SELECT count(*) FROM notes WHERE notes MATCH 'note'",
            [],
            |r| r.get(0),
        )
        .unwrap();
    assert!(fts > 0);
}

#[test]
fn validation_passes_all_five_steps_and_summarizes() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let manifest = back_up(&app_db(), &store, &key);
    let report = validated(&store, &manifest);
    assert!(report.ok, "{report:#?}");
    assert_eq!(report.steps.len(), 5);
    let summary = report.summary.unwrap();
    assert_eq!(
        summary.tables.iter().map(|t| t.rows).sum::<u64>(),
        manifest.total_rows()
    );
}

#[test]
fn a_flipped_byte_fails_at_decrypt_naming_the_chunk_and_nothing_is_written() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let manifest = back_up(&db, &store, &key);
    store.tamper(&object_key("b1"), |body| body[200] ^= 0x01);
    db.connection
        .execute_batch("DELETE FROM child WHERE id > 1000")
        .unwrap();
    let damaged = snapshot(&db);
    let keys_before = store.keys();

    let validation = validated(&store, &manifest);
    let failed = failed_step(&validation).unwrap();
    assert_eq!(failed.step, 3, "{failed:?}");
    assert!(failed.detail.contains("chunk 0"), "{}", failed.detail);

    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::Failed);
    assert_eq!(
        snapshot(&db),
        damaged,
        "a refused restore must not touch the database"
    );
    assert_eq!(
        store.keys(),
        keys_before,
        "no safety backup for a refused restore"
    );
    assert!(report.steps[5..]
        .iter()
        .all(|s| s.status == StepStatus::Skipped));
}

fn db_from(sql: &str) -> SqliteReader {
    let connection = rusqlite::Connection::open_in_memory().unwrap();
    connection.execute_batch(sql).unwrap();
    SqliteReader::new(connection)
}

#[test]
fn validation_refuses_a_backup_with_foreign_key_violations_naming_the_tables() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let mut manifest = back_up(&db, &store, &key);
    manifest.foreign_key_check = crate::manifest::ForeignKeyCheck {
        at_start: 0,
        at_end: 2,
        tables: vec!["child".into()],
    };
    let validation = validated(&store, &manifest);
    let failed = failed_step(&validation).unwrap();
    assert_eq!(failed.step, 5);
    for words in [
        "2 foreign key violation(s)",
        "child",
        "cannot turn them off",
        "take a new backup",
        "sqlite3",
    ] {
        assert!(failed.detail.contains(words), "{words}: {}", failed.detail);
    }
    let before = snapshot(&db);
    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::Failed);
    assert_eq!(snapshot(&db), before, "nothing is written");
}

#[test]
fn a_restore_stops_before_any_change_when_its_safety_backup_could_not_be_restored() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let manifest = back_up(&db, &store, &key);
    // The live database has come to hold an orphan since that backup: its
    // safety backup would carry a violation, which D1 could not import if
    // the restore had to roll back.
    db.connection
        .execute_batch(
            "PRAGMA foreign_keys = OFF;
             INSERT INTO child(id, parent_id) VALUES (99999, 424242);
             PRAGMA foreign_keys = ON;",
        )
        .unwrap();
    let before = snapshot(&db);
    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::Failed, "{report:#?}");
    let step = report.steps.iter().find(|s| s.step == 6).unwrap();
    assert_eq!(step.status, StepStatus::Failed);
    for words in [
        "1 foreign key violation(s)",
        "nothing was changed",
        "skip_safety_backup",
    ] {
        assert!(step.detail.contains(words), "{words}: {}", step.detail);
    }
    assert!(report
        .steps
        .iter()
        .filter(|s| s.step > 6)
        .all(|s| s.status == StepStatus::Skipped));
    assert_eq!(snapshot(&db), before, "nothing is written");
}

#[test]
fn an_fts5_table_over_a_view_is_not_compared_and_restores() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = db_from(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIEW docs_v AS SELECT id, body FROM docs WHERE body IS NOT NULL;
             CREATE VIRTUAL TABLE docs_fts USING fts5(body, content='docs_v', content_rowid='id');
             INSERT INTO docs(body) VALUES ('alpha beta'), ('gamma'), (NULL);
             INSERT INTO docs_fts(docs_fts) VALUES('rebuild');",
    );
    let manifest = back_up(&db, &store, &key);
    let validation = validated(&store, &manifest);
    assert!(validation.ok, "{validation:#?}");
    let summary = validation.summary.as_ref().unwrap();
    assert_eq!(summary.uncounted_tables, ["docs_fts"]);
    assert!(
        validation
            .warnings
            .iter()
            .any(|w| w.contains("docs_fts") && w.contains("not")),
        "{:?}",
        validation.warnings
    );

    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    let check = report
        .verification
        .iter()
        .find(|c| c.name == "rows of docs_fts")
        .unwrap();
    assert!(
        check.ok && check.detail.contains("not comparable"),
        "{check:?}"
    );
}

#[test]
fn a_contentless_fts5_table_is_reported_recreated_empty_and_not_a_mismatch() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = db_from(
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
             CREATE VIRTUAL TABLE notes_idx USING fts5(body, content='');
             INSERT INTO notes(body) VALUES ('alpha'), ('beta');
             INSERT INTO notes_idx(rowid, body) SELECT id, body FROM notes;",
    );
    let manifest = back_up(&db, &store, &key);
    let mut events = Vec::new();
    struct Collect<'a>(&'a mut Vec<StepReport>);
    impl Progress for Collect<'_> {
        fn event(&mut self, report: &StepReport, _: bool) {
            self.0.push(report.clone());
        }
    }
    let params = RestoreParams {
        restore_id: "r1".into(),
        manifest: &manifest,
        keyring: &keyring(),
        settings: BackupSettings {
            environment: "test",
            database: "app",
            key: &key,
            engine: &crate::format::SoftwareEngine,
            worker_version: "0",
            fault: None,
        },
        safety_backup: None,
        clock: &clock,
    };
    let report = block_on(restore(&db, &store, params, &mut Collect(&mut events)));
    assert_eq!(report.outcome, RestoreOutcome::Succeeded, "{report:#?}");
    let said = |text: &str| {
        text.contains("notes_idx")
            && text.contains("recreated empty: rebuild its index from your source data")
    };
    assert!(
        report.warnings.iter().any(|w| said(w)),
        "{:?}",
        report.warnings
    );
    assert!(
        events.iter().any(|e| e.step == 5 && said(&e.detail)),
        "{events:#?}"
    );
    assert!(
        events
            .iter()
            .any(|e| e.step == 9 && e.status == StepStatus::Passed && said(&e.detail)),
        "{events:#?}"
    );
    let check = report
        .verification
        .iter()
        .find(|c| c.name == "rows of notes_idx")
        .unwrap();
    assert!(check.ok, "{check:?}");
}

#[test]
fn a_truncated_object_fails_at_download() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let manifest = back_up(&app_db(), &store, &key);
    store.tamper(&object_key("b1"), |body| body.truncate(body.len() - 10));
    let report = validated(&store, &manifest);
    let failed = failed_step(&report).unwrap();
    assert_eq!(failed.step, 1);
    assert!(failed.detail.contains("truncated"), "{}", failed.detail);
}

#[test]
fn the_wrong_key_fails_at_decrypt_naming_both_key_ids() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let manifest = back_up(&app_db(), &store, &key);
    let other = Keyring::new(MasterKey::from_hex(&"77".repeat(32)).unwrap());
    let report = block_on(validate(
        &store,
        &other,
        &SoftwareEngine,
        &manifest,
        &clock,
        &mut Silent,
    ));
    let failed = failed_step(&report).unwrap();
    assert_eq!(failed.step, 3);
    assert!(
        failed
            .detail
            .contains(&format!("encrypted with key {}", key.id())),
        "{}",
        failed.detail
    );
}

/// A backup object whose SQL is `sql`, with a manifest that matches its bytes.
fn crafted(store: &MemoryStore, key: &MasterKey, sql: &str) -> Manifest {
    let id = BackupId::parse("crafted").unwrap();
    let mut encryptor = Encryptor::new(key, &id, [9; 32]);
    let mut object = Vec::new();
    encryptor.update(sql.as_bytes(), &mut object);
    let summary = encryptor.finish(&mut object);
    block_on(store.put(&object_key("crafted"), object, &[])).unwrap();
    let mut manifest = sample();
    manifest.id = "crafted".into();
    manifest.object_key = object_key("crafted");
    manifest.plaintext = Digests {
        bytes: summary.plaintext_bytes,
        sha256: summary.plaintext_sha256.to_string(),
    };
    manifest.ciphertext = Digests {
        bytes: summary.ciphertext_bytes,
        sha256: summary.ciphertext_sha256.to_string(),
    };
    manifest
}

#[test]
fn a_forbidden_statement_is_rejected_with_its_line_before_any_write() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let sql = "PRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(a);\nINSERT INTO t VALUES(1);\nDROP TABLE users;\n";
    let manifest = crafted(&store, &key, sql);
    let report = validated(&store, &manifest);
    let failed = failed_step(&report).unwrap();
    assert_eq!(failed.step, 5);
    assert!(failed.detail.contains("line 4"), "{}", failed.detail);
}

#[test]
fn an_import_that_fails_midway_rolls_back_to_the_safety_backup() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let manifest = back_up(&db, &store, &key);
    db.connection
        .execute_batch("INSERT INTO parent(name) VALUES ('added after the backup');")
        .unwrap();
    let before = snapshot(&db);
    *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"child\"".into());

    let report = run_restore(&db, &store, &manifest, &keyring(), true);
    assert_eq!(report.outcome, RestoreOutcome::RolledBack, "{report:#?}");
    assert_eq!(
        report.steps.iter().find(|s| s.step == 8).unwrap().status,
        StepStatus::Failed
    );
    let rollback = report.rollback.as_ref().unwrap();
    assert!(
        rollback.iter().all(|s| s.status == StepStatus::Passed),
        "{rollback:#?}"
    );
    assert_eq!(
        snapshot(&db),
        before,
        "the rollback must put the database back as it was"
    );
    assert_eq!(block_on(list_backups(&store)).unwrap().len(), 2);
}

#[test]
fn a_failed_import_without_a_safety_backup_says_rollback_failed() {
    let key = MasterKey::from_hex(KEY).unwrap();
    let store = MemoryStore::default();
    let db = app_db();
    let manifest = back_up(&db, &store, &key);
    *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"child\"".into());
    let report = run_restore(&db, &store, &manifest, &keyring(), false);
    assert_eq!(report.outcome, RestoreOutcome::RollbackFailed);
    assert!(report.safety_backup_skipped);
    assert_eq!(report.steps[5].status, StepStatus::Skipped);
}
