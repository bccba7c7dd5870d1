//! Restores run end to end natively: dumps (ours, `sqlite3 .dump`, a
//! `wrangler d1 export`) go through the statement reader, validator and
//! planner, and the planned batches run on SQLite under D1's conditions
//! (statements under 100,000 bytes, values up to 2,000,000 bytes, foreign
//! keys enforced and deferred to each batch's commit). The restored
//! database must equal the original.

#[path = "dump/harness.rs"]
mod harness;

use std::path::Path;

use d1_vault::dump::{DumpOptions, DumpSummary, DumpWarningKind, MAX_STATEMENT_BYTES};
use d1_vault::restore::plan::{BATCH_PRELUDE, MAX_BOUND_PARAMETERS, MAX_VALUE_BYTES};
use d1_vault::restore::{
    Param, PlannedBatch, Planner, RejectReason, Rejection, RestoreSummary, StatementKind,
    StatementReader, Validator,
};
use harness::*;
use rusqlite::Connection;

/// Piece size for feeding the reader: odd, so pieces cut statements and
/// characters anywhere.
const PIECE_BYTES: usize = 65_521;

/// What reading, validating and planning a dump gives.
struct Restore {
    batches: Vec<PlannedBatch>,
    summary: RestoreSummary,
    kinds: Vec<StatementKind>,
}

/// Reads, validates and plans `sql` fed in pieces of `piece` bytes, as the
/// restore job does; the first rejection ends it.
fn plan(sql: &[u8], piece: usize) -> Result<Restore, Rejection> {
    let mut reader = StatementReader::new();
    let mut validator = Validator::new();
    let mut planner = Planner::new();
    let mut batches = Vec::new();
    let mut kinds = Vec::new();
    let mut statements = Vec::new();
    for chunk in sql.chunks(piece) {
        reader
            .push(chunk, &mut statements)
            .unwrap_or_else(|e| panic!("read: {e}"));
        for statement in statements.drain(..) {
            let validated = validator.check(&statement)?;
            kinds.push(validated.kind);
            planner.push(validated, &mut batches);
        }
    }
    reader.finish().unwrap_or_else(|e| panic!("read: {e}"));
    batches.extend(planner.finish());
    Ok(Restore {
        batches,
        summary: validator.finish(),
        kinds,
    })
}

/// Runs the batches into a new database at `path` as D1 would: each batch
/// one transaction, foreign keys on, D1's statement and value limits.
fn execute(batches: &[PlannedBatch], path: &Path) -> Connection {
    let mut conn = open_d1_like(path);
    conn.execute_batch("PRAGMA foreign_keys=ON")
        .expect("foreign keys on");
    for batch in batches {
        let prelude: Vec<&str> = batch.statements[..2]
            .iter()
            .map(|s| s.sql.as_str())
            .collect();
        assert_eq!(prelude, BATCH_PRELUDE);
        assert_ne!(
            batch.statements.get(2).map(|s| s.sql.starts_with("UPDATE")),
            Some(true),
            "a batch starts with an UPDATE"
        );
        let tx = conn.transaction().expect("begin");
        for statement in &batch.statements {
            assert!(
                statement.sql.len() < MAX_STATEMENT_BYTES,
                "line {}: {} bytes",
                statement.line,
                statement.sql.len()
            );
            assert!(statement.params.len() <= MAX_BOUND_PARAMETERS);
            let show = || statement.sql.chars().take(200).collect::<String>();
            let mut prepared = tx
                .prepare(&statement.sql)
                .unwrap_or_else(|e| panic!("line {}: {e}: {}", statement.line, show()));
            for (i, param) in statement.params.iter().enumerate() {
                assert!(param.bytes() <= MAX_VALUE_BYTES);
                let bound = match param {
                    Param::Text(text) => prepared.raw_bind_parameter(i + 1, text.as_str()),
                    Param::Blob(blob) => prepared.raw_bind_parameter(i + 1, blob.as_slice()),
                };
                bound.expect("bind");
            }
            prepared
                .raw_execute()
                .unwrap_or_else(|e| panic!("line {}: {e}: {}", statement.line, show()));
        }
        tx.commit()
            .unwrap_or_else(|e| panic!("commit failed (foreign keys?): {e}"));
    }
    conn
}

/// Checks the summary against the dump's own.
fn assert_summary_matches(restore: &RestoreSummary, dump: &DumpSummary) {
    assert_eq!(restore.tables, dump.tables);
    assert_eq!(restore.indexes, dump.indexes);
    assert_eq!(restore.views, dump.views);
    assert_eq!(restore.triggers, dump.triggers);
    assert_eq!(restore.schema_sha256, dump.schema_sha256);
    assert_eq!(restore.statements, dump.statements);
    assert_eq!(
        restore.largest_statement_bytes,
        dump.largest_statement_bytes
    );
    assert!(restore.uncounted_tables.is_empty());
    let contentless: Vec<&str> = dump
        .warnings
        .iter()
        .filter(|w| w.kind == DumpWarningKind::Fts5ContentlessNotRestorable)
        .map(|w| w.table.as_str())
        .collect();
    assert_eq!(restore.contentless_tables, contentless);
}

/// `.dump`s equal (FTS5 shadow rows and D1-internal tables aside), contents
/// equal, FTS5 indexes intact.
fn assert_restored(original: &Path, copy: &Path) {
    let (orig, restored) = (
        Connection::open(original).expect("open"),
        Connection::open(copy).expect("open"),
    );
    let fts = fts5_tables(&orig);
    let expected = without_d1_internal(&without_fts_shadow_rows(&cli_dump(original), &fts));
    assert_dumps_equal(&expected, &without_fts_shadow_rows(&cli_dump(copy), &fts));
    assert_same_contents(&orig, &restored);
    for name in &fts {
        let ident = format!("\"{}\"", name.replace('"', "\"\""));
        restored
            .execute(
                &format!("INSERT INTO {ident}({ident}) VALUES('integrity-check')"),
                [],
            )
            .unwrap_or_else(|e| panic!("FTS5 integrity-check of {name} failed on the copy: {e}"));
    }
    let violations: i64 = restored
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk");
    assert_eq!(violations, 0);
}

/// The hard cases of the dump tests: every kind of schema object and value.
const HARD_CASES: &str = r#"
CREATE TABLE "_cf_KV"(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
INSERT INTO "_cf_KV" VALUES('cf-secret-key', X'00');
CREATE TABLE d1_migrations(id INTEGER PRIMARY KEY AUTOINCREMENT, name TEXT UNIQUE, applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL);
INSERT INTO d1_migrations(name, applied_at) VALUES('0001_init.sql', '2024-01-01 00:00:00'), ('0002_more.sql', '2024-02-01 00:00:00');
CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
    note TEXT CHECK (note IS NULL OR length(note) < 100));
CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) > 0));
CREATE TABLE tree(id INTEGER PRIMARY KEY, up INTEGER REFERENCES tree(id), label TEXT);
CREATE TABLE vals(id INTEGER PRIMARY KEY, v, kind TEXT);
CREATE TABLE "select"("from" TEXT, "we""ird" INTEGER, "naïve col" REAL, "order" BLOB);
CREATE TABLE "naïve table"("ÿ" TEXT PRIMARY KEY, "😀" BLOB, [bracket name] INT, `back tick` TEXT) WITHOUT ROWID;
CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT, b BLOB, n INTEGER);
CREATE TABLE wr(a TEXT COLLATE NOCASE, b INTEGER, payload, PRIMARY KEY (a, b)) WITHOUT ROWID;
CREATE TABLE auto(id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT);
CREATE TABLE gaps(x TEXT, y);
CREATE TABLE gen(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL, c TEXT GENERATED ALWAYS AS (a || 'x') STORED, d TEXT);
CREATE TABLE numeric_text(id INTEGER PRIMARY KEY, n NUMERIC, i INTEGER, r REAL);
CREATE TABLE strict_t(id INTEGER PRIMARY KEY, t TEXT, a ANY, b BLOB) STRICT;
CREATE TABLE nul_text(id INTEGER PRIMARY KEY, t TEXT);
CREATE TABLE log(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
CREATE TABLE articles(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
CREATE INDEX child_parent ON child(parent_id);
CREATE UNIQUE INDEX parent_name_lower ON parent(lower(name));
CREATE INDEX vals_partial ON vals(kind) WHERE v IS NOT NULL;
CREATE INDEX "select idx" ON "select"("we""ird" DESC, "from" COLLATE NOCASE);
CREATE VIEW v1 AS SELECT p.name, count(c.id) AS children FROM parent p LEFT JOIN child c ON c.parent_id = p.id GROUP BY p.id;
CREATE TRIGGER parent_log AFTER INSERT ON parent BEGIN
    INSERT INTO log(what) VALUES('parent ' || NEW.name); -- a comment; with a semicolon
END;
CREATE TRIGGER child_log AFTER INSERT ON child WHEN NEW.note = 'log me;
really' BEGIN INSERT INTO log(what) VALUES(CASE WHEN NEW.id > 1 THEN 'child;' ELSE 'first' END); END;
CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id');

INSERT INTO parent VALUES(1, 'Ada'), (2, 'Grace'), (7, 'Ünïcödé 🎉');
INSERT INTO child VALUES(1, 7, NULL), (2, 1, 'x'), (3, 2, 'log me;
really');
INSERT INTO tree VALUES(5, NULL, 'root'), (3, 5, 'child before parent id'), (9, 3, 'grandchild'), (1, 9, 'deep');
INSERT INTO vals(v, kind) VALUES
    (NULL, 'null'), ('', 'empty text'), (X'', 'empty blob'), (0, 'zero'), (0.1, 'tenth'), (1e308, 'huge'),
    (5e-324, 'smallest subnormal'), (9223372036854775807, 'max int'), (-9223372036854775808, 'min int'),
    (9007199254740993, '2^53+1'), (1.0, 'one real'), ('1', 'one text'), (X'31', 'one blob'), (1e300*1e10, 'inf'),
    (-1e300*1e10, '-inf'), (4.9406564584124654e-300, 'tiny'), (8.663725837306241e290, 'large'),
    ('it''s "quoted"', 'quotes'), ('line' || char(10) || 'feed' || char(13) || 'cr' || char(13,10) || 'crlf', 'controls'),
    ('👩‍👩‍👧‍👦 ZWJ, 🇯🇵 flag', 'emoji'), (''');DROP TABLE vals;--', 'injection'), ('-- not a comment', 'dashes'),
    ('/* c */', 'c comment'), (X'00FF00', 'nul blob');
INSERT INTO "select" VALUES('from', 1, 1.5, X'DEADBEEF'), (NULL, NULL, NULL, NULL);
INSERT INTO "naïve table" VALUES('ÿ', X'F09F9880', 1, 'a'), ('z', NULL, NULL, NULL);
INSERT INTO big(id, t, n) VALUES(1, replace(hex(zeroblob(136000)), '00', 'Ünï🎉 ''') || char(13) || char(10), 1);
INSERT INTO big(id, b, n) VALUES(2, randomblob(1500000), 2);
INSERT INTO big(id, t, b, n) VALUES(3, 'small', X'0001', 3);
INSERT INTO wr VALUES('key', 1, 'small'), ('Key2', 2, randomblob(300000)), ('a''b', -1, NULL);
INSERT INTO auto(x) VALUES('a'), ('b'), ('c');
DELETE FROM auto WHERE id = 3;
UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'auto';
INSERT INTO gaps(rowid, x, y) VALUES(3, 'three', 3), (10, 'ten', 10.5), (1000000, 'million', X'01');
INSERT INTO gen(a, d) VALUES(1, 'one'), (NULL, 'null');
INSERT INTO numeric_text(id, n, i, r) VALUES(1, '007', '12abc', '3.0x'), (2, 12, 3.0, 1);
INSERT INTO numeric_text(id, n) VALUES(3, replace(hex(zeroblob(60000)), '00', '12') || 'end');
INSERT INTO strict_t VALUES(1, 'text', 42, X'42'), (2, replace(hex(zeroblob(80000)), '00', '9'), X'3432', NULL);
INSERT INTO nul_text VALUES(1, 'a' || char(0) || 'b'), (2, replace(hex(zeroblob(90000)), '00', 'x' || char(0) || 'é'));
INSERT INTO docs(rowid, title, body) VALUES(1, 'Hello', 'World'), (5, 'Ünïcödé', 'text with ''quotes'' and
newlines'), (6, 'big', replace(hex(zeroblob(120000)), '00', 'word '));
INSERT INTO articles VALUES(1, 'first', 'alpha beta'), (2, 'second', 'gamma');
INSERT INTO articles_fts(articles_fts) VALUES('rebuild');
"#;

fn hard_cases_db(dir: &Path) -> std::path::PathBuf {
    let path = dir.join("hard.db");
    create_db(&path, HARD_CASES);
    // A row of 90 columns of 2 KB: too large for one statement, although no
    // single value is.
    let columns: Vec<String> = (1..=90).map(|i| format!("c{i} TEXT")).collect();
    let values: Vec<String> = (1..=90)
        .map(|i| format!("replace(hex(zeroblob(1000)), '00', '{i:02}')"))
        .collect();
    Connection::open(&path)
        .expect("open")
        .execute_batch(&format!(
            "CREATE TABLE wide({}); INSERT INTO wide VALUES({});",
            columns.join(", "),
            values.join(", ")
        ))
        .expect("wide row");
    path
}

#[test]
fn our_dump_of_the_hard_cases_restores_exactly() {
    let dir = temp_dir();
    let original = hard_cases_db(dir.path());
    let run = dump_db(&original, DumpOptions::default());
    let restore = plan(&run.sql, PIECE_BYTES).unwrap_or_else(|e| panic!("{e}"));
    assert_summary_matches(&restore.summary, &run.summary);
    assert!(
        restore.kinds.contains(&StatementKind::UpdateRow)
            && restore.kinds.contains(&StatementKind::Fts5Rebuild)
    );
    assert!(
        restore
            .batches
            .iter()
            .flat_map(|b| &b.statements)
            .all(|s| s.params.is_empty()),
        "our dumps need no rewriting"
    );

    let copy = dir.path().join("restored.db");
    execute(&restore.batches, &copy);
    assert_restored(&original, &copy);

    // Fed one byte at a time, or all at once, the plan is the same.
    for piece in [1, usize::MAX] {
        let other = plan(&run.sql, piece).unwrap_or_else(|e| panic!("{e}"));
        assert!(
            other.batches == restore.batches,
            "pieces of {piece} bytes plan differently"
        );
    }
}

#[test]
fn rows_split_into_many_updates_stay_in_one_batch() {
    let dir = temp_dir();
    let original = hard_cases_db(dir.path());
    // Small statements: the 300 KB value of wr is rebuilt by hundreds of UPDATEs.
    Connection::open(&original)
        .expect("open")
        .execute_batch("DELETE FROM big WHERE id IN (1, 2);")
        .expect("trim");
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        page_target_bytes: 4_000,
        max_page_rows: 3,
    };
    let run = dump_db(&original, options);
    let restore = plan(&run.sql, PIECE_BYTES).unwrap_or_else(|e| panic!("{e}"));
    assert_summary_matches(&restore.summary, &run.summary);
    let largest = restore
        .batches
        .iter()
        .map(|b| b.statements.len())
        .max()
        .unwrap_or(0);
    assert!(
        largest > 150,
        "the UPDATEs of one row share its batch ({largest} statements at most)"
    );
    let copy = dir.path().join("restored.db");
    execute(&restore.batches, &copy);
    assert_restored(&original, &copy);
}

#[test]
fn the_demo_app_database_restores_exactly() {
    let dir = temp_dir();
    let original = dir.path().join("demo.db");
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut paths: Vec<_> = std::fs::read_dir(root.join("migrations"))
        .expect("migrations/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    paths.sort();
    paths.push(root.join("scripts/lib/demo-seed.sql"));
    let sql: Vec<u8> = paths
        .iter()
        .flat_map(|p| [std::fs::read(p).expect("read SQL"), b"\n".to_vec()].concat())
        .collect();
    sqlite3_exec(&original, &sql);
    let run = dump_db(&original, DumpOptions::default());
    let restore = plan(&run.sql, PIECE_BYTES).unwrap_or_else(|e| panic!("{e}"));
    assert_summary_matches(&restore.summary, &run.summary);
    let copy = dir.path().join("restored.db");
    execute(&restore.batches, &copy);
    assert_restored(&original, &copy);
}

/// A database `sqlite3 .dump` writes without `writable_schema`: no FTS5.
const PLAIN_DB: &str = r#"
CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
CREATE TABLE child(id INTEGER PRIMARY KEY AUTOINCREMENT, parent_id INTEGER REFERENCES parent(id), note TEXT, data BLOB);
CREATE TABLE kv(k TEXT PRIMARY KEY, v) WITHOUT ROWID;
CREATE INDEX child_parent ON child(parent_id);
CREATE VIEW named AS SELECT c.id, p.name FROM child c JOIN parent p ON p.id = c.parent_id;
CREATE TRIGGER child_note AFTER UPDATE OF note ON child BEGIN
    UPDATE child SET data = CASE WHEN NEW.note IS NULL THEN NULL ELSE X'01' END WHERE id = NEW.id;
END;
INSERT INTO parent VALUES(1, 'Ada'), (2, 'it''s; "quoted"');
INSERT INTO child(parent_id, note, data) VALUES
    (1, 'line' || char(10) || 'feed' || char(13) || 'return', X'00FF'),
    (2, replace(hex(zeroblob(400000)), '00', 'é' || char(10)), NULL),
    (1, 'small', randomblob(1000000)),
    (2, replace(hex(zeroblob(400000)), '00', 'ab'), randomblob(600000)),
    (1, 'deleted: the sequence stays above the largest id', NULL);
-- REALs of ordinary magnitude: sqlite3 .dump writes extreme ones (like 2.5e-300) in
-- a form SQLite does not always read back exactly; our dump writes them exactly.
INSERT INTO kv VALUES('int', 9223372036854775807), ('real', 0.1), ('neg', -2.5e-30), ('text', '-- not a comment;');
DELETE FROM child WHERE id = 5;
"#;

#[test]
fn a_sqlite3_dump_without_fts5_restores_exactly() {
    let dir = temp_dir();
    let original = dir.path().join("plain.db");
    create_db(&original, PLAIN_DB);
    let dump = cli_dump(&original);
    assert!(
        dump.starts_with("PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n")
            && dump.ends_with("COMMIT;\n")
    );

    let restore = plan(dump.as_bytes(), PIECE_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let skipped: Vec<StatementKind> = restore
        .kinds
        .iter()
        .copied()
        .filter(|k| k.is_skipped())
        .collect();
    assert_eq!(
        skipped,
        [
            StatementKind::ForeignKeys,
            StatementKind::Begin,
            StatementKind::Commit
        ]
    );
    let bound: Vec<usize> = restore
        .batches
        .iter()
        .flat_map(|b| &b.statements)
        .filter(|s| !s.params.is_empty())
        .map(|s| s.params.len())
        .collect();
    assert_eq!(
        bound,
        [1, 1, 2],
        "the three rows over 100,000 bytes bind their large values"
    );
    let tables: Vec<(&str, u64)> = restore
        .summary
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.rows))
        .collect();
    assert_eq!(tables, [("parent", 2), ("child", 4), ("kv", 4)]);

    let copy = dir.path().join("restored.db");
    execute(&restore.batches, &copy);
    assert_dumps_equal(&dump, &cli_dump(&copy));
    assert_restored(&original, &copy);
}

#[test]
fn a_sqlite3_dump_with_fts5_is_refused_at_its_writable_schema_line() {
    let dir = temp_dir();
    let original = dir.path().join("fts.db");
    create_db(
        &original,
        "CREATE TABLE notes(id INTEGER PRIMARY KEY, body TEXT);
         INSERT INTO notes VALUES(1, 'multi' || char(10) || 'line'), (2, 'x');
         CREATE VIRTUAL TABLE notes_fts USING fts5(body);
         INSERT INTO notes_fts(rowid, body) VALUES(1, 'hello world');",
    );
    let dump = cli_dump(&original);
    let line = dump
        .lines()
        .position(|l| l == "PRAGMA writable_schema=ON;")
        .expect("the FTS5 table is written raw") as u64
        + 1;
    let rejection = plan(dump.as_bytes(), PIECE_BYTES).err().expect("refused");
    assert_eq!(rejection.line, line);
    assert_eq!(rejection.kind_found, "PRAGMA writable_schema");
    assert_eq!(rejection.reason, RejectReason::WritableSchema);
    assert!(rejection.to_string().starts_with(&format!(
        "line {line}: PRAGMA writable_schema is not allowed in a restore: this dump writes sqlite_schema directly, which D1 forbids"
    )));
}

#[test]
fn a_wrangler_export_restores_with_its_large_row_bound() {
    let bio: String = "Ünïcödé 'quoted' text;\nwith lines -- and dashes\r\n".repeat(1_500_000 / 50);
    assert!(bio.len() > 1_500_000);
    let avatar: Vec<u8> = (0..200_000u32).map(|i| (i % 251) as u8).collect();
    let hex: String = avatar.iter().map(|b| format!("{b:02X}")).collect();
    let posts: Vec<String> = (1..=2_000)
        .map(|i| format!("({i},{},'post {i} {}')", 1 + i % 2, "x".repeat(60)))
        .collect();
    let export = format!(
        "PRAGMA defer_foreign_keys=TRUE;\n\
         CREATE TABLE d1_migrations(\n\t\tid         INTEGER PRIMARY KEY AUTOINCREMENT,\n\t\tname       TEXT UNIQUE,\n\t\tapplied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL\n);\n\
         INSERT INTO \"d1_migrations\" (\"id\",\"name\",\"applied_at\") VALUES(1,'0001_init.sql','2024-05-01 10:00:00');\n\
         CREATE TABLE users (id INTEGER PRIMARY KEY, email TEXT NOT NULL, bio TEXT, avatar BLOB);\n\
         INSERT INTO \"users\" (\"id\",\"email\",\"bio\",\"avatar\") VALUES(1,'ada@example.com','short',NULL);\n\
         INSERT INTO \"users\" (\"id\",\"email\",\"bio\",\"avatar\") VALUES(2,'grace@example.com','{}',X'{hex}');\n\
         CREATE TABLE posts (id INTEGER PRIMARY KEY, user_id INTEGER NOT NULL REFERENCES users(id), title TEXT);\n\
         INSERT INTO \"posts\" (\"id\",\"user_id\",\"title\") VALUES{};\n\
         CREATE INDEX posts_user ON posts(user_id);\n\
         DELETE FROM sqlite_sequence;\n\
         INSERT INTO \"sqlite_sequence\" (\"name\",\"seq\") VALUES('d1_migrations',1);\n",
        bio.replace('\'', "''"),
        posts.join(",")
    );
    let line_of = |marker: &str| {
        let before = &export[..export.find(marker).expect("marker")];
        1 + before.matches('\n').count() as u64 + before.matches('\r').count() as u64
            - before.matches("\r\n").count() as u64
    };
    let restore = plan(export.as_bytes(), PIECE_BYTES).unwrap_or_else(|e| panic!("{e}"));
    let statements: Vec<_> = restore.batches.iter().flat_map(|b| &b.statements).collect();
    let big_line = line_of("INSERT INTO \"users\" (\"id\",\"email\",\"bio\",\"avatar\") VALUES(2");
    assert_eq!(big_line, 10);
    let big = statements
        .iter()
        .find(|s| s.line == big_line)
        .expect("the large row");
    assert_eq!(
        big.sql,
        "INSERT INTO \"users\" (\"id\",\"email\",\"bio\",\"avatar\") VALUES(2,'grace@example.com',?1,?2)"
    );
    assert_eq!(
        big.params,
        [Param::Text(bio.clone()), Param::Blob(avatar.clone())]
    );
    let posts_line = line_of("INSERT INTO \"posts\"");
    assert!(
        statements.iter().filter(|s| s.line == posts_line).count() > 1,
        "the 2,000-row INSERT is cut into several"
    );
    let tables: Vec<(&str, u64)> = restore
        .summary
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.rows))
        .collect();
    assert_eq!(
        tables,
        [("d1_migrations", 1), ("users", 2), ("posts", 2_000)]
    );

    let dir = temp_dir();
    let copy = execute(&restore.batches, &dir.path().join("restored.db"));
    let (found_bio, found_avatar): (String, Vec<u8>) = copy
        .query_row("SELECT bio, avatar FROM users WHERE id = 2", [], |r| {
            Ok((r.get(0)?, r.get(1)?))
        })
        .expect("row");
    assert!(
        found_bio == bio && found_avatar == avatar,
        "the large row is exact"
    );
    let posts: i64 = copy
        .query_row("SELECT count(*) FROM posts", [], |r| r.get(0))
        .expect("count");
    assert_eq!(posts, 2_000);
    let seq: i64 = copy
        .query_row(
            "SELECT seq FROM sqlite_sequence WHERE name = 'd1_migrations'",
            [],
            |r| r.get(0),
        )
        .expect("seq");
    assert_eq!(seq, 1);
}

#[test]
fn an_external_dump_with_triggers_before_its_data_does_not_fire_them() {
    // As sqlite3 .dump writes it: each table's trigger right after it.
    let sql = "PRAGMA foreign_keys=OFF;\nBEGIN TRANSACTION;\n\
        CREATE TABLE a(x);\n\
        CREATE TABLE log(n);\n\
        CREATE TRIGGER a_log AFTER INSERT ON a BEGIN INSERT INTO log VALUES(new.x); END;\n\
        CREATE INDEX a_x ON a(x);\n\
        INSERT INTO a VALUES(1);\nINSERT INTO a VALUES(2);\n\
        INSERT INTO log VALUES(7);\n\
        COMMIT;\n";
    let restore = plan(sql.as_bytes(), 7).expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = execute(&restore.batches, &dir.path().join("copy.db"));
    let log: Vec<i64> = conn
        .prepare("SELECT n FROM log ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("log");
    assert_eq!(log, [7], "the trigger fired during the import");
    let objects: Vec<String> = conn
        .prepare("SELECT name FROM sqlite_schema WHERE type IN ('trigger', 'index') ORDER BY rowid")
        .and_then(|mut s| s.query_map([], |r| r.get(0))?.collect())
        .expect("schema");
    assert_eq!(objects, ["a_log", "a_x"], "the objects keep their order");
    conn.execute("INSERT INTO a VALUES(3)", []).expect("insert");
    let fired: i64 = conn
        .query_row("SELECT count(*) FROM log", [], |r| r.get(0))
        .expect("count");
    assert_eq!(fired, 2, "the trigger works after the import");
}

#[test]
fn a_row_completed_by_updates_passes_its_check_constraint() {
    let long = "y".repeat(30);
    let sql = format!(
        "PRAGMA defer_foreign_keys=ON;\nPRAGMA ignore_check_constraints=ON;\n\
         CREATE TABLE c(id INTEGER PRIMARY KEY, t TEXT NOT NULL CHECK (length(t) > 20));\n\
         INSERT INTO \"c\"(\"id\",\"t\") VALUES(1,'');\n\
         UPDATE \"c\" SET \"t\" = \"t\" || '{long}' WHERE \"id\" = 1;\n\
         PRAGMA ignore_check_constraints=OFF;\n"
    );
    let restore = plan(sql.as_bytes(), PIECE_BYTES).expect("valid");
    let dir = tempfile::tempdir().expect("tempdir");
    let conn = execute(&restore.batches, &dir.path().join("copy.db"));
    let t: String = conn
        .query_row("SELECT t FROM c WHERE id = 1", [], |r| r.get(0))
        .expect("row");
    assert_eq!(t, long);
}
