//! Every kind of statement a restore refuses is refused with its line, its
//! kind in the message, and a reason an operator can act on.

use d1_vault::restore::{RejectReason, Rejection, StatementReader, Validator};

/// Lines before the statement under test: a comment, a pragma, a CREATE
/// over two lines, a one-row INSERT with a CRLF inside a string, a blank.
const PREAMBLE: &str =
    "-- a dump\nPRAGMA defer_foreign_keys=ON;\nCREATE TABLE t(id INTEGER PRIMARY KEY,\n v);\n\
                        INSERT INTO t VALUES(1, 'a;\r\nb');\n\n";

/// The line the statement under test starts on.
const LINE: u64 = 8;

/// The first rejection of a dump made of the preamble, `statement` and one
/// more INSERT.
fn refused(statement: &str) -> Rejection {
    let sql = format!("{PREAMBLE}{statement};\nINSERT INTO t VALUES(2, 'after');\n");
    let mut reader = StatementReader::new();
    let mut statements = Vec::new();
    reader
        .push(sql.as_bytes(), &mut statements)
        .unwrap_or_else(|e| panic!("{e}"));
    reader.finish().unwrap_or_else(|e| panic!("{e}"));
    let mut validator = Validator::new();
    for statement in &statements {
        if let Err(rejection) = validator.check(statement) {
            return rejection;
        }
    }
    panic!("{statement:?} was allowed");
}

/// Checks the line, the kind named in the message, and a phrase of the reason.
fn assert_refused(statement: &str, kind: &str, reason: &str) -> RejectReason {
    let rejection = refused(statement);
    let message = rejection.to_string();
    assert_eq!(rejection.line, LINE, "{message}");
    assert_eq!(rejection.kind_found, kind, "{message}");
    assert!(
        message.starts_with(&format!(
            "line {LINE}: {kind} is not allowed in a restore: "
        )),
        "{message}"
    );
    assert!(message.contains(reason), "{statement}: {message}");
    rejection.reason
}

#[test]
fn attach_is_refused() {
    assert_refused(
        "ATTACH DATABASE 'other.db' AS other",
        "ATTACH DATABASE",
        "D1 does not attach others",
    );
    assert_refused(
        "attach 'other.db' as other",
        "ATTACH",
        "D1 does not attach others",
    );
}

#[test]
fn detach_is_refused() {
    assert_refused(
        "DETACH DATABASE other",
        "DETACH DATABASE",
        "D1 does not attach others",
    );
}

#[test]
fn drop_is_refused() {
    for (statement, kind) in [
        ("DROP TABLE t", "DROP TABLE"),
        ("DROP TABLE IF EXISTS t", "DROP TABLE IF EXISTS"),
        ("drop index i", "DROP INDEX"),
        ("DROP VIEW v", "DROP VIEW"),
        ("DROP TRIGGER tr", "DROP TRIGGER"),
    ] {
        assert_refused(
            statement,
            kind,
            "the restore itself drops the existing ones",
        );
    }
}

#[test]
fn other_pragmas_are_refused() {
    for (statement, kind) in [
        ("PRAGMA journal_mode=WAL", "PRAGMA journal_mode"),
        ("PRAGMA user_version = 3", "PRAGMA user_version"),
        ("pragma recursive_triggers=1", "PRAGMA recursive_triggers"),
    ] {
        let reason = assert_refused(statement, kind, "a dump may only defer foreign keys");
        assert!(matches!(reason, RejectReason::Pragma { .. }));
    }
    assert_refused(
        "PRAGMA defer_foreign_keys=OFF",
        "PRAGMA defer_foreign_keys",
        "the import always defers foreign keys",
    );
}

#[test]
fn writable_schema_is_refused_with_what_to_do() {
    let reason = assert_refused(
        "PRAGMA writable_schema=ON",
        "PRAGMA writable_schema",
        "this dump writes sqlite_schema directly, which D1 forbids (sqlite3 .dump does this for FTS5 tables); \
         make the dump with d1-vault, or drop the FTS5 table before dumping",
    );
    assert_eq!(reason, RejectReason::WritableSchema);
}

#[test]
fn writing_sqlite_schema_is_refused() {
    for table in [
        "sqlite_schema",
        "sqlite_master",
        "SQLITE_MASTER",
        "\"sqlite_schema\"",
    ] {
        let insert = format!(
            "INSERT INTO {table}(type,name,tbl_name,rootpage,sql)VALUES('table','f','f',0,'CREATE VIRTUAL TABLE f USING fts5(x)')"
        );
        let kind = format!("INSERT INTO {}", table.trim_matches('"'));
        assert_refused(&insert, &kind, "which D1 forbids");
    }
}

#[test]
fn writing_d1_internal_tables_is_refused() {
    assert_refused(
        "INSERT INTO _cf_KV VALUES('k', 'v')",
        "INSERT INTO _cf_KV",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "INSERT INTO \"_CF_METADATA\" VALUES(1, X'00')",
        "INSERT INTO _CF_METADATA",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "CREATE TABLE _cf_KV(key TEXT PRIMARY KEY, value BLOB)",
        "CREATE TABLE",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "UPDATE _cf_KV SET value = 1 WHERE key = 'k'",
        "UPDATE _cf_KV",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "CREATE INDEX i ON _cf_KV(value)",
        "CREATE INDEX",
        "internal to SQLite, D1 or d1-vault",
    );
}

#[test]
fn writing_sqlite_internal_tables_is_refused() {
    assert_refused(
        "INSERT INTO sqlite_stat1 VALUES('t', NULL, '2')",
        "INSERT INTO sqlite_stat1",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "UPDATE sqlite_sequence SET seq = 5 WHERE name = 't'",
        "UPDATE sqlite_sequence",
        "internal to SQLite, D1 or d1-vault",
    );
    assert_refused(
        "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO sqlite_stat1 VALUES('t', NULL, '1'); END",
        "CREATE TRIGGER",
        "internal to SQLite, D1 or d1-vault",
    );
}

#[test]
fn temporary_objects_are_refused() {
    for (statement, kind) in [
        ("CREATE TEMP TABLE x(a)", "CREATE TEMP TABLE"),
        (
            "CREATE TEMPORARY VIEW x AS SELECT 1",
            "CREATE TEMPORARY VIEW",
        ),
        (
            "CREATE TEMP TRIGGER x AFTER INSERT ON t BEGIN SELECT 1; END",
            "CREATE TEMP TRIGGER",
        ),
        ("CREATE TABLE temp.x(a)", "CREATE TABLE"),
    ] {
        assert_eq!(
            assert_refused(statement, kind, "temporary objects vanish"),
            RejectReason::Temporary
        );
    }
}

#[test]
fn queries_are_refused() {
    for (statement, kind) in [
        ("SELECT * FROM t", "SELECT"),
        ("WITH x AS (SELECT 1) SELECT * FROM x", "WITH"),
        ("VALUES(1, 2)", "VALUES"),
        ("EXPLAIN SELECT 1", "EXPLAIN SELECT"),
    ] {
        assert_refused(statement, kind, "a dump holds no queries");
    }
}

#[test]
fn deletes_other_than_of_sqlite_sequence_are_refused() {
    for statement in [
        "DELETE FROM t WHERE id = 1",
        "DELETE FROM t",
        "DELETE FROM sqlite_sequence WHERE name = 't'",
    ] {
        assert_refused(
            statement,
            "DELETE FROM",
            "the only DELETE a dump contains is DELETE FROM sqlite_sequence",
        );
    }
}

#[test]
fn updates_other_than_the_dumps_are_refused() {
    for statement in [
        "UPDATE t SET v = upper(v) WHERE id = 1",
        "UPDATE t SET v = 'x'",
        "UPDATE t SET v = v || id WHERE id = 1",
        "UPDATE t SET v = 'x' WHERE id >= 1",
    ] {
        let reason = assert_refused(
            statement,
            "UPDATE t",
            "the only UPDATEs allowed are those a d1-vault dump writes",
        );
        assert_eq!(reason, RejectReason::UpdateForm);
    }
    // The dump's own form, but not right after the row it completes.
    let rejection = refused("CREATE INDEX i ON t(v);\nUPDATE t SET v = v || 'x' WHERE id = 1");
    assert_eq!(
        (rejection.line, rejection.reason),
        (
            LINE + 1,
            RejectReason::UpdateOutOfPlace { table: "t".into() }
        )
    );
}

#[test]
fn vacuum_is_refused() {
    assert_refused(
        "VACUUM",
        "VACUUM",
        "maintenance commands are not part of a dump",
    );
}

#[test]
fn reindex_is_refused() {
    assert_refused(
        "REINDEX t",
        "REINDEX",
        "maintenance commands are not part of a dump",
    );
}

#[test]
fn analyze_is_refused() {
    assert_refused(
        "ANALYZE sqlite_schema",
        "ANALYZE",
        "statistics are not restored",
    );
}

#[test]
fn savepoint_is_refused() {
    assert_refused(
        "SAVEPOINT s",
        "SAVEPOINT",
        "the import makes its own transactions",
    );
}

#[test]
fn release_is_refused() {
    assert_refused(
        "RELEASE SAVEPOINT s",
        "RELEASE SAVEPOINT",
        "the import makes its own transactions",
    );
}

#[test]
fn rollback_is_refused() {
    assert_refused(
        "ROLLBACK",
        "ROLLBACK",
        "the import makes its own transactions",
    );
    assert_refused(
        "ROLLBACK TRANSACTION",
        "ROLLBACK TRANSACTION",
        "the import makes its own transactions",
    );
}

#[test]
fn alter_is_refused() {
    assert_refused(
        "ALTER TABLE t ADD COLUMN w TEXT",
        "ALTER TABLE",
        "a dump creates every table in its final form",
    );
    assert_refused(
        "ALTER TABLE t RENAME TO u",
        "ALTER TABLE",
        "a dump creates every table in its final form",
    );
}

#[test]
fn insert_from_a_select_is_refused() {
    assert_eq!(
        assert_refused(
            "INSERT INTO t SELECT * FROM t",
            "INSERT INTO t ... SELECT",
            "INSERT ... SELECT"
        ),
        RejectReason::NotValues
    );
    assert_refused(
        "INSERT INTO t(id, v) WITH x AS (SELECT 1) SELECT 2, 3",
        "INSERT INTO t ... WITH",
        "INSERT ... SELECT",
    );
    assert_refused(
        "INSERT INTO t DEFAULT VALUES",
        "INSERT INTO t ... DEFAULT",
        "carry their rows as VALUES",
    );
    let reason = assert_refused(
        "INSERT INTO t VALUES(3, (SELECT v FROM t))",
        "INSERT INTO t",
        "may only be literals",
    );
    assert_eq!(
        reason,
        RejectReason::NotLiteral {
            found: "SELECT".into()
        }
    );
}

#[test]
fn conflict_clauses_are_refused() {
    for (statement, kind) in [
        (
            "INSERT OR REPLACE INTO t VALUES(1, 'b')",
            "INSERT OR REPLACE INTO",
        ),
        (
            "INSERT OR IGNORE INTO t VALUES(1, 'b')",
            "INSERT OR IGNORE INTO",
        ),
        ("REPLACE INTO t VALUES(1, 'b')", "REPLACE INTO"),
        (
            "INSERT INTO t VALUES(3, 'c') ON CONFLICT DO NOTHING",
            "INSERT INTO t",
        ),
    ] {
        assert_eq!(
            assert_refused(statement, kind, "a dump inserts each row exactly once"),
            RejectReason::ConflictClause
        );
    }
}

#[test]
fn other_virtual_tables_are_refused() {
    assert_refused(
        "CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)",
        "CREATE VIRTUAL TABLE",
        "D1 supports FTS5 only",
    );
}

#[test]
fn inserts_into_tables_the_dump_does_not_create_are_refused() {
    assert_refused(
        "INSERT INTO missing VALUES(1)",
        "INSERT INTO missing",
        "is not created earlier in the dump",
    );
}
