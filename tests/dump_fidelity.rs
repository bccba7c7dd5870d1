//! The dump of databases full of hard cases imports with the sqlite3 CLI
//! into a database whose `.dump` and contents equal the original's.

#[path = "dump/harness.rs"]
mod harness;

use d1_vault::dump::{DumpOptions, TableKind, MAX_STATEMENT_BYTES};
use harness::*;
use rusqlite::Connection;

/// Every kind of schema object and value the dump must carry over.
const HARD_CASES: &str = r#"
CREATE TABLE "_cf_KV"(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID;
INSERT INTO "_cf_KV" VALUES('cf-secret-key', X'00');
CREATE TABLE _cf_METADATA(key INTEGER PRIMARY KEY, value BLOB);
INSERT INTO _cf_METADATA VALUES(1, X'01');

CREATE TABLE d1_migrations(
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT UNIQUE,
    applied_at TIMESTAMP DEFAULT CURRENT_TIMESTAMP NOT NULL
);
INSERT INTO d1_migrations(name, applied_at) VALUES('0001_init.sql', '2024-01-01 00:00:00'), ('0002_more.sql', '2024-02-01 00:00:00');

-- The child is declared before its parent.
CREATE TABLE child(
    id INTEGER PRIMARY KEY,
    parent_id INTEGER NOT NULL REFERENCES parent(id) ON DELETE CASCADE,
    note TEXT CHECK (note IS NULL OR length(note) < 100)
);
CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL CHECK (length(name) > 0));
CREATE TABLE tree(id INTEGER PRIMARY KEY, up INTEGER REFERENCES tree(id), label TEXT);

CREATE TABLE vals(id INTEGER PRIMARY KEY, v, kind TEXT);
CREATE TABLE "select"("from" TEXT, "we""ird" INTEGER, "naïve col" REAL, "order" BLOB);
CREATE TABLE "naïve table"("ÿ" TEXT PRIMARY KEY, "😀" BLOB, [bracket name] INT, `back tick` TEXT) WITHOUT ROWID;
CREATE TABLE "we""ird"(a, b);
CREATE TABLE big(id INTEGER PRIMARY KEY, t TEXT, b BLOB, n INTEGER);
CREATE TABLE wr(
    a TEXT COLLATE NOCASE,
    b INTEGER,
    payload,
    PRIMARY KEY (a, b)
) WITHOUT ROWID;
CREATE TABLE auto(id INTEGER PRIMARY KEY AUTOINCREMENT, x TEXT);
CREATE TABLE gaps(x TEXT, y);
CREATE TABLE desc_pk(x INTEGER PRIMARY KEY DESC, y TEXT);
CREATE TABLE gen(
    a INTEGER,
    b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
    c TEXT GENERATED ALWAYS AS (a || 'x') STORED,
    d TEXT
);
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
CREATE VIEW v2 AS SELECT * FROM v1 WHERE children > 0;
CREATE TRIGGER parent_log AFTER INSERT ON parent BEGIN
    INSERT INTO log(what) VALUES('parent ' || NEW.name); -- a comment; with a semicolon
END;
CREATE TRIGGER child_log AFTER INSERT ON child WHEN NEW.note = 'log me;
really' BEGIN INSERT INTO log(what) VALUES('child'); END;

CREATE VIRTUAL TABLE docs USING fts5(title, body, tokenize = 'unicode61 remove_diacritics 2');
CREATE VIRTUAL TABLE articles_fts USING fts5(title, body, content='articles', content_rowid='id');
CREATE TABLE "docs_other"(x);
"#;

fn fill(conn: &Connection) {
    conn.execute_batch(
        r#"
INSERT INTO parent VALUES(1, 'Ada'), (2, 'Grace'), (7, 'Ünïcödé 🎉');
INSERT INTO child VALUES(1, 7, NULL), (2, 1, 'x'), (3, 2, 'log me;
really');
INSERT INTO tree VALUES(5, NULL, 'root'), (3, 5, 'child before parent id'), (9, 3, 'grandchild'), (1, 9, 'deep');
INSERT INTO log(what) VALUES('extra');
INSERT INTO vals(v, kind) VALUES
    (NULL, 'null'), ('', 'empty text'), (X'', 'empty blob'), (0, 'zero'), (-0.0, 'negative zero'),
    (0.1, 'tenth'), (1e308, 'huge'), (-1e308, 'minus huge'), (5e-324, 'smallest subnormal'),
    (2.2250738585072014e-308, 'smallest normal'), (1.7976931348623157e308, 'max'),
    (9223372036854775807, 'max int'), (-9223372036854775808, 'min int'), (9007199254740993, '2^53+1'),
    (1.0, 'one real'), (1, 'one int'), ('1', 'one text'), (X'31', 'one blob'), (1e300*1e10, 'inf'),
    (-1e300*1e10, '-inf'), (0.30000000000000004, 'point three'), (123456789.123456789, 'digits'),
    (4.9406564584124654e-300, 'tiny'), (8.663725837306241e290, 'large'), (4367384.08774766, 'old parser'),
    ('it''s "quoted"', 'quotes'), ('line' || char(10) || 'feed' || char(13) || 'cr' || char(13,10) || 'crlf' || char(9) || 'tab', 'controls'),
    ('👩‍👩‍👧‍👦 ZWJ, 👍🏽 skin, 🇯🇵 flag, 1️⃣ keycap', 'emoji'),
    ('e' || char(769) || ' combining, Zoe' || char(776), 'combining'),
    ('مرحبا ' || char(8207) || 'שָׁלוֹם' || char(8238) || 'override' || char(8236), 'rtl'),
    ('NULL', 'the word null'), ('X''00''', 'looks like a blob'), (''');DROP TABLE vals;--', 'injection'),
    (X'00FF00', 'nul blob'), (zeroblob(100), 'zeroblob'), ('-- not a comment', 'dashes'), ('/* c */', 'c comment'),
    (' 12 ', 'spaces'), ('007', 'leading zeros');
INSERT INTO "select" VALUES('from', 1, 1.5, X'DEADBEEF'), (NULL, NULL, NULL, NULL), ('x', -2, -0.5, X'');
INSERT INTO "naïve table" VALUES('ÿ', X'F09F9880', 1, 'a'), ('z', NULL, NULL, NULL), ('Z', X'', -1, 'b');
INSERT INTO "we""ird" VALUES(1, 2), ('a', 'b');
INSERT INTO big(id, t, n) VALUES(1, replace(hex(zeroblob(136000)), '00', 'Ünï🎉 ''') || char(13) || char(10), 1);
INSERT INTO big(id, b, n) VALUES(2, randomblob(1500000), 2);
INSERT INTO big(id, b, n) VALUES(3, zeroblob(1900000), 3);
INSERT INTO big(id, t, b, n) VALUES(4, 'small', X'0001', 4);
INSERT INTO big(id, t, n) VALUES(5, replace(hex(zeroblob(750000)), '00', 'ab'), 5);
INSERT INTO wr VALUES('key', 1, 'small'), ('Key2', 2, randomblob(300000)), ('key', 3, replace(hex(zeroblob(100000)), '00', 'It''s ')), ('a''b', -1, NULL);
INSERT INTO auto(x) VALUES('a'), ('b'), ('c');
DELETE FROM auto WHERE id = 3;
UPDATE sqlite_sequence SET seq = 1000 WHERE name = 'auto';
INSERT INTO gaps(rowid, x, y) VALUES(3, 'three', 3), (10, 'ten', 10.5), (11, 'eleven', NULL), (1000000, 'million', X'01');
INSERT INTO desc_pk VALUES(30, 'a'), (10, 'b'), (20, 'c');
UPDATE desc_pk SET rowid = rowid + 100 WHERE x = 10;
INSERT INTO gen(a, d) VALUES(1, 'one'), (NULL, 'null'), (3, NULL);
INSERT INTO numeric_text(id, n, i, r) VALUES(1, '007', '12abc', '3.0x'), (2, 12, 3.0, 1);
INSERT INTO numeric_text(id, n) VALUES(3, replace(hex(zeroblob(60000)), '00', '12') || 'end');
INSERT INTO numeric_text(id, i) VALUES(4, '1.50' || replace(hex(zeroblob(70000)), '00', '0') || ' x');
INSERT INTO strict_t VALUES(1, 'text', 42, X'42'), (2, '42', 42.0, NULL), (3, NULL, '42', X''), (4, replace(hex(zeroblob(80000)), '00', '9'), X'3432', NULL);
INSERT INTO nul_text VALUES(1, 'a' || char(0) || 'b'), (2, CAST(X'00' AS TEXT)), (3, replace(hex(zeroblob(90000)), '00', 'x' || char(0) || 'é'));
INSERT INTO docs(rowid, title, body) VALUES(1, 'Hello', 'World'), (5, 'Ünïcödé', 'text with ''quotes'' and
newlines'), (6, 'big', replace(hex(zeroblob(120000)), '00', 'word '));
DELETE FROM docs WHERE rowid = 1;
INSERT INTO docs(rowid, title, body) VALUES(1, 'Hello again', 'World');
INSERT INTO articles VALUES(1, 'first', 'alpha beta'), (2, 'second', 'gamma');
INSERT INTO articles_fts(articles_fts) VALUES('rebuild');
INSERT INTO docs_other VALUES(1);
"#,
    )
    .expect("fill hard cases");
    // A row of 90 columns of 2 KB each: too large as one statement, although
    // no single value is.
    let columns: Vec<String> = (1..=90).map(|i| format!("c{i} TEXT")).collect();
    conn.execute_batch(&format!("CREATE TABLE wide({});", columns.join(", ")))
        .expect("wide");
    let values: Vec<String> = (1..=90)
        .map(|i| format!("replace(hex(zeroblob(1000)), '00', '{:02}')", i % 100))
        .collect();
    conn.execute_batch(&format!(
        "INSERT INTO wide VALUES({}); INSERT INTO wide(c1) VALUES('small');",
        values.join(", ")
    ))
    .expect("wide row");
    // 100 columns of mixed types and no INTEGER PRIMARY KEY: `SELECT rowid,
    // *` would be 101 result columns, over D1's limit. One row holds a
    // 1.5 MB value, others a negative zero in an untyped column.
    let types = ["INTEGER", "REAL", "TEXT", "BLOB", ""];
    let columns: Vec<String> = (0..100)
        .map(|i| format!("\"col {i}\" {}", types[i % 5]))
        .collect();
    conn.execute_batch(&format!("CREATE TABLE wide100({});", columns.join(", ")))
        .expect("wide100");
    let row = |big: bool| -> Vec<String> {
        (0..100)
            .map(|i| match i % 5 {
                0 => format!("{}", i as i64 * 1_000_000_007),
                1 => format!("{i}.25e-3"),
                2 if big && i == 2 => "replace(hex(zeroblob(750000)), '00', 'ab')".into(),
                2 => format!("'text {i} ''q'''"),
                3 => format!("X'{i:02x}00'"),
                _ => "-0.0".into(),
            })
            .collect()
    };
    conn.execute_batch(&format!(
        "INSERT INTO wide100 VALUES({}); INSERT INTO wide100 VALUES({}); \
         INSERT INTO wide100(rowid, \"col 0\") VALUES(77, 1);",
        row(false).join(", "),
        row(true).join(", ")
    ))
    .expect("wide100 rows");
}

fn hard_cases_db(dir: &std::path::Path) -> std::path::PathBuf {
    let path = dir.join("hard.db");
    create_db(&path, HARD_CASES);
    fill(&Connection::open(&path).expect("open"));
    path
}

#[test]
fn hard_cases_round_trip_through_sqlite3() {
    let dir = temp_dir();
    let original = hard_cases_db(dir.path());
    let (run, _copy) = assert_round_trip(&original, DumpOptions::default());
    let text = run.text();

    assert!(
        !text.contains("_cf_"),
        "D1-internal tables must not be dumped"
    );
    assert!(
        !text.contains("docs_data") && !text.contains("docs_config"),
        "FTS5 shadow tables are skipped"
    );
    assert!(
        text.contains("CREATE TABLE \"docs_other\""),
        "a table that merely looks like a shadow table is kept"
    );
    assert!(text.contains("INSERT INTO \"articles_fts\"(\"articles_fts\") VALUES('rebuild');\n"));
    let sequence = text
        .find("DELETE FROM sqlite_sequence;\n")
        .expect("sqlite_sequence is restored");
    assert!(text[sequence..].starts_with(
        "DELETE FROM sqlite_sequence;\nINSERT INTO sqlite_sequence(name,seq) VALUES("
    ));
    assert!(
        text[sequence..].contains("('auto',1000)"),
        "seq above max(id) is kept"
    );
    assert!(
        text[sequence..].ends_with(");\nPRAGMA ignore_check_constraints=OFF;\n"),
        "sqlite_sequence comes last, before the closing PRAGMA"
    );
    assert!(text
        .contains("INSERT INTO \"gaps\"(rowid,\"x\",\"y\") VALUES(3,'three',3),(10,'ten',10.5),"));
    assert!(
        text.contains("INSERT INTO \"desc_pk\"(rowid,\"x\",\"y\")"),
        "INTEGER PRIMARY KEY DESC is no rowid alias"
    );
    assert!(
        text.contains("INSERT INTO \"gen\"(rowid,\"a\",\"d\")"),
        "generated columns are not inserted"
    );
    assert!(
        text.contains("UPDATE \"big\" SET \"b\" = CAST(\"b\" || X'"),
        "large BLOBs are appended in pieces"
    );
    assert!(
        text.contains("UPDATE \"numeric_text\" SET \"n\" = CAST(\"n\" || '1212"),
        "numeric-affinity text is built as a BLOB"
    );

    // Parents before children; the self-referencing table is reported.
    let parent = text.find("INSERT INTO \"parent\"").expect("parent rows");
    let child = text.find("INSERT INTO \"child\"").expect("child rows");
    assert!(parent < child);
    assert_eq!(run.summary.fk_order_fallback, vec!["tree".to_string()]);
    // Triggers come after all the data (they would add rows to log).
    assert!(
        text.find("CREATE TRIGGER parent_log").expect("trigger")
            > text.rfind("INSERT INTO \"log\"").expect("log rows")
    );

    let summary = &run.summary;
    let table = |name: &str| {
        summary
            .tables
            .iter()
            .find(|t| t.name == name)
            .unwrap_or_else(|| panic!("{name} in summary"))
    };
    assert_eq!(table("vals").rows, 39);
    assert_eq!(table("big").rows, 5);
    assert_eq!(table("wide").rows, 2);
    assert_eq!(table("wide100").rows, 3);
    assert_eq!(table("docs").rows, 3);
    assert_eq!(table("docs").kind, TableKind::Fts5);
    assert_eq!(table("articles_fts").rows, 2);
    assert_eq!(table("wr").kind, TableKind::WithoutRowid);
    assert_eq!(table("gaps").kind, TableKind::Table);
    assert!(summary.tables.iter().all(|t| !t.name.starts_with("_cf_")
        && !t.name.starts_with("docs_")
        || t.name == "docs_other"));
    assert_eq!(
        summary.indexes,
        [
            "child_parent",
            "parent_name_lower",
            "vals_partial",
            "select idx"
        ]
    );
    assert_eq!(summary.views, ["v1", "v2"]);
    assert_eq!(summary.triggers, ["parent_log", "child_log"]);
    assert!(summary.largest_statement_bytes < MAX_STATEMENT_BYTES);
    assert_eq!(summary.schema_sha256.len(), 64);
}

#[test]
fn hard_cases_import_under_d1_conditions() {
    let dir = temp_dir();
    let original = hard_cases_db(dir.path());
    let run = dump_db(&original, DumpOptions::default());
    let copy = dir.path().join("d1.db");
    import_d1_like(run.text(), &copy, 50);
    let (orig, copy) = (
        Connection::open(&original).expect("open"),
        Connection::open(&copy).expect("open"),
    );
    assert_same_contents(&orig, &copy);
}

#[test]
fn small_statement_targets_split_rows_further() {
    let dir = temp_dir();
    let original = hard_cases_db(dir.path());
    // Megabyte values in 2 KB pieces would take minutes; keep values of up
    // to a few hundred KB.
    Connection::open(&original)
        .expect("open")
        .execute_batch("DELETE FROM big WHERE id IN (1, 2, 3, 5); DELETE FROM wr WHERE b = 2;")
        .expect("drop huge rows");
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        page_target_bytes: 4_000,
        max_page_rows: 3,
    };
    let (run, _) = assert_round_trip(&original, options);
    assert!(
        run.summary.largest_statement_bytes <= 2_000,
        "{}",
        run.summary.largest_statement_bytes
    );
}

#[test]
fn the_demo_app_database_round_trips() {
    let dir = temp_dir();
    let original = dir.path().join("demo.db");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR"));
    let mut sql = Vec::new();
    let mut migrations: Vec<_> = std::fs::read_dir(root.join("migrations"))
        .expect("migrations/")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|e| e == "sql"))
        .collect();
    migrations.sort();
    for path in migrations
        .iter()
        .chain([&root.join("scripts/lib/demo-seed.sql")])
    {
        sql.extend(std::fs::read(path).expect("read SQL"));
        sql.push(b'\n');
    }
    sqlite3_exec(&original, &sql);
    let (run, _) = assert_round_trip(&original, DumpOptions::default());
    let summary = &run.summary;
    let rows = |name: &str| {
        summary
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.rows)
    };
    assert_eq!(rows("tasks"), Some(3000));
    assert_eq!(rows("tasks_fts"), Some(3000));
    assert_eq!(rows("audit_log"), Some(1524));
    import_d1_like(run.text(), &dir.path().join("d1.db"), 25);
}

#[test]
fn twenty_thousand_rows_are_read_in_several_bounded_pages() {
    let dir = temp_dir();
    let original = dir.path().join("many.db");
    create_db(
        &original,
        "CREATE TABLE many(id INTEGER PRIMARY KEY, name TEXT, score REAL, data BLOB);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000)
         INSERT INTO many SELECT i * 3, 'name ' || i, i / 7.0, randomblob(i % 50) FROM n;
         CREATE TABLE pk(a TEXT, b INTEGER, v, PRIMARY KEY (b, a)) WITHOUT ROWID;
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 5000)
         INSERT INTO pk SELECT 'k' || (i % 13), i / 13, i FROM n;",
    );
    let options = DumpOptions {
        page_target_bytes: 100_000,
        ..DumpOptions::default()
    };
    let (run, _) = assert_round_trip(&original, options);
    let pages = run.queries.iter().filter(|q| q.contains(" LIMIT ")).count();
    assert!(pages >= 10, "only {pages} pages");
    assert!(run.queries.iter().all(|q| !q.contains("OFFSET")));
    assert!(
        run.max_buffered <= 100_000 + 60_000,
        "{} bytes buffered",
        run.max_buffered
    );
    assert_eq!(run.summary.tables[0].rows, 20_000);
    assert_eq!(run.summary.tables[1].rows, 5_000);

    // With the defaults the pages are large: few queries.
    let run = dump_db(&original, DumpOptions::default());
    let pages = run.queries.iter().filter(|q| q.contains(" LIMIT ")).count();
    assert!(pages <= 8, "{pages} pages with the default target");
}

#[test]
fn sqlite_internal_tables_are_left_out() {
    let dir = temp_dir();
    let original = dir.path().join("stat.db");
    create_db(&original, "CREATE TABLE t(a INTEGER, b TEXT); CREATE INDEX t_a ON t(a); INSERT INTO t VALUES(1, 'x'), (2, 'y'); ANALYZE;");
    let run = dump_db(&original, DumpOptions::default());
    assert_framing(&run);
    assert!(!run.text().contains("sqlite_stat"));
    assert_loads_into_the_same(&original, &run.sql);
}

#[test]
fn an_empty_database_dumps_to_the_header_and_pragma() {
    let dir = temp_dir();
    let original = dir.path().join("empty.db");
    create_db(&original, "");
    let run = dump_db(&original, DumpOptions::default());
    assert_eq!(
        run.text(),
        format!(
            "{}PRAGMA defer_foreign_keys=ON;\nPRAGMA ignore_check_constraints=ON;\nPRAGMA ignore_check_constraints=OFF;\n",
            d1_vault::dump::HEADER
        )
    );
    assert!(run.summary.tables.is_empty());
}

#[test]
fn tables_named_like_the_dump_queries_ctes_round_trip() {
    // The dump reads through CTEs named s, s0, s1, ..: a table of the same
    // name once made its own CTE a circular reference. Covered: the page
    // query, the named form of a 100-column rowid table (s0, s1 JOIN), and
    // the big-row queries (a value over the statement limit).
    let columns: Vec<String> = (1..=100).map(|i| format!("c{i} INTEGER")).collect();
    let values: Vec<String> = (1..=100).map(|i| i.to_string()).collect();
    let dir = temp_dir();
    let original = dir.path().join("ctes.db");
    create_db(
        &original,
        &format!(
            "CREATE TABLE s(a INTEGER, b TEXT);
             INSERT INTO s VALUES(1, 'x'), (2, printf('%.300000c', 'y'));
             CREATE TABLE \"S0\"({});
             INSERT INTO \"S0\" VALUES({});
             CREATE TABLE s1(k TEXT PRIMARY KEY, v BLOB) WITHOUT ROWID;
             INSERT INTO s1 VALUES('k', zeroblob(250000));",
            columns.join(", "),
            values.join(", ")
        ),
    );
    let run = dump_db(&original, DumpOptions::default());
    assert_framing(&run);
    assert_loads_into_the_same(&original, &run.sql);
}

/// Loads `sql` into a new database with the sqlite3 shell and checks that it
/// holds what `original` holds.
fn assert_loads_into_the_same(original: &std::path::Path, sql: &[u8]) {
    let dir = temp_dir();
    let copy = dir.path().join("copy.db");
    sqlite3_exec(&copy, sql);
    let (orig, copy) = (
        Connection::open(original).expect("open"),
        Connection::open(&copy).expect("open"),
    );
    assert_same_contents(&orig, &copy);
}
