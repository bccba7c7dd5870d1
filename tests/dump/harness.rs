//! Shared by the dump tests: runs the dump state machine against a SQLite
//! file through rusqlite (standing in for the D1 edge), imports dumps with
//! the sqlite3 CLI or D1-style batches, and compares databases.

#![allow(dead_code)] // each test binary uses a different part

use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use d1_vault::d1_limits;
use d1_vault::dump::{
    Dump, DumpOptions, DumpSummary, Row, Step, HEADER, MAX_QUERY_BYTES, MAX_STATEMENT_BYTES,
};
use rusqlite::types::{Value, ValueRef};
use rusqlite::Connection;

/// The result of dumping one database.
pub struct DumpRun {
    pub sql: Vec<u8>,
    pub summary: DumpSummary,
    pub queries: Vec<String>,
    pub max_buffered: usize,
}

impl DumpRun {
    pub fn text(&self) -> &str {
        std::str::from_utf8(&self.sql).expect("the dump is UTF-8")
    }
}

/// Opens `path` as the D1 edge would see it: D1's limits, so a query or
/// statement D1 would refuse fails here too.
pub fn open_d1_like(path: &Path) -> Connection {
    let conn = Connection::open(path).expect("open database");
    apply_d1_limits(&conn);
    register_d1_functions(&conn);
    conn
}

/// The connection settings that make SQLite as strict as D1.
#[path = "../support/d1_sqlite.rs"]
mod d1_sqlite;
pub use d1_sqlite::{apply_d1_limits, register_d1_functions};

/// Runs one query as the edge would: every value must come back TEXT or NULL.
pub fn run_query(conn: &Connection, sql: &str) -> Vec<Row> {
    assert!(sql.len() < MAX_QUERY_BYTES, "query of {} bytes", sql.len());
    let mut statement = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("query failed to prepare: {e}\n{sql}"));
    let columns = statement.column_count();
    let mut rows = statement.query([]).expect("query runs");
    let mut out = Vec::new();
    while let Some(row) = rows
        .next()
        .unwrap_or_else(|e| panic!("query failed: {e}\n{sql}"))
    {
        let mut values = Vec::with_capacity(columns);
        for i in 0..columns {
            values.push(match row.get_ref(i).expect("column") {
                ValueRef::Null => None,
                // As the JS edge does: bytes that are not UTF-8 become U+FFFD.
                ValueRef::Text(bytes) => Some(String::from_utf8_lossy(bytes).into_owned()),
                other => panic!("query returned a non-TEXT value {other:?} in column {i}:\n{sql}"),
            });
        }
        out.push(values);
    }
    out
}

/// The most bytes the quoted table and column names of one table's INSERT
/// take (every `"` doubled, plus the quotes and commas).
fn max_insert_names(conn: &Connection) -> usize {
    conn.query_row(
        "SELECT coalesce(max(n), 0) FROM (SELECT 2 * length(s.name) + sum(2 * length(c.name) + 3) + 16 AS n \
         FROM sqlite_schema AS s, pragma_table_xinfo(s.name) AS c WHERE s.type = 'table' GROUP BY s.name)",
        [],
        |r| r.get::<_, i64>(0),
    )
    .expect("name length") as usize
}

/// The most columns of any table in the database.
fn max_columns(conn: &Connection) -> usize {
    conn.query_row(
        "SELECT coalesce(max(n), 0) FROM (SELECT count(*) AS n FROM sqlite_schema AS s, pragma_table_xinfo(s.name) \
         WHERE s.type = 'table' GROUP BY s.name)",
        [],
        |r| r.get::<_, i64>(0),
    )
    .expect("column count") as usize
}

/// Dumps the database at `path` with `options`, checking after every step
/// that the writer holds no more than a page plus one row: the page target,
/// one more tuple and an open INSERT (each under the statement target, but
/// for the INSERT's quoted table and column names, which may be long), and
/// an oversized row's literals (each under twice the statement target).
pub fn dump_db(path: &Path, options: DumpOptions) -> DumpRun {
    let conn = open_d1_like(path);
    let mut dump = Dump::new(options).expect("valid options");
    let mut sql = Vec::new();
    let mut queries = Vec::new();
    let mut max_buffered = 0;
    let target = options.statement_target_bytes;
    let bound = options.page_target_bytes
        + 2 * target
        + max_columns(&conn) * (2 * target + 3)
        + max_insert_names(&conn);
    let summary = loop {
        let step = dump
            .step(&mut sql)
            .unwrap_or_else(|e| panic!("dump failed: {e}"));
        max_buffered = max_buffered.max(dump.buffered_bytes());
        assert!(
            dump.buffered_bytes() <= bound,
            "{} bytes buffered, bound {bound}",
            dump.buffered_bytes()
        );
        match step {
            Step::Query(query) => {
                let rows = run_query(&conn, &query.sql);
                queries.push(query.sql);
                dump.accept(rows).expect("accept");
            }
            Step::Done(summary) => break summary,
        }
    };
    DumpRun {
        sql,
        summary,
        queries,
        max_buffered,
    }
}

/// The sqlite3 command-line shell; the tests need it and fail without it.
pub fn sqlite3() -> Command {
    let found = Command::new("sqlite3").arg("-version").output();
    assert!(
        matches!(found, Ok(ref o) if o.status.success()),
        "the sqlite3 command-line shell is required by the dump tests (apt-get install sqlite3; scripts/setup installs it)"
    );
    Command::new("sqlite3")
}

/// Runs `sql` through `sqlite3 -bail <db>`; panics on any error output.
pub fn sqlite3_exec(db: &Path, sql: &[u8]) {
    let mut child = sqlite3()
        .arg("-bail")
        .arg(db)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("start sqlite3");
    let mut stdin = child.stdin.take().expect("stdin");
    let input = sql.to_vec();
    let writer = std::thread::spawn(move || stdin.write_all(&input));
    let output = child.wait_with_output().expect("sqlite3 runs");
    // sqlite3 -bail stops reading at its first error, so a failed write
    // (a broken pipe) says less than its stderr: check that first.
    let written = writer.join().expect("writer thread");
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() && stderr.is_empty(),
        "sqlite3 failed on {}: {stderr}",
        db.display()
    );
    written.expect("write to sqlite3");
}

/// `sqlite3 <db> .dump`.
pub fn cli_dump(db: &Path) -> String {
    let output = sqlite3()
        .arg(db)
        .arg(".dump")
        .output()
        .expect("sqlite3 .dump");
    assert!(
        output.status.success(),
        "sqlite3 .dump failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    String::from_utf8(output.stdout).expect("UTF-8 .dump")
}

/// Splits a dump into its statements where a `;\n` ends a complete
/// statement (as the sqlite3 shell does), after checking the header.
pub fn statements(dump: &str) -> Vec<&str> {
    assert!(dump.starts_with(HEADER), "the dump starts with the header");
    let body = &dump[HEADER.len()..];
    let mut out = Vec::new();
    let mut start = 0;
    let mut search = 0;
    while let Some(found) = body[search..].find(";\n") {
        let end = search + found + 2;
        let candidate = &body[start..end];
        if is_complete(candidate) {
            out.push(candidate);
            start = end;
        }
        search = end;
    }
    assert_eq!(start, body.len(), "the dump ends with a complete statement");
    out
}

fn is_complete(sql: &str) -> bool {
    let c = std::ffi::CString::new(sql).expect("no NUL in the dump");
    // SAFETY: sqlite3_complete reads a NUL-terminated string and keeps no pointer.
    unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
}

/// Checks the framing and size of every statement; returns their number.
pub fn assert_framing(run: &DumpRun) -> usize {
    let statements = statements(run.text());
    for statement in &statements {
        assert!(
            statement.len() < MAX_STATEMENT_BYTES,
            "a statement of {} bytes",
            statement.len()
        );
        assert!(statement.ends_with(";\n"));
    }
    assert_eq!(
        statements.len() as u64,
        run.summary.statements,
        "the summary counts every statement"
    );
    let largest = statements.iter().map(|s| s.len()).max().unwrap_or(0);
    assert_eq!(largest, run.summary.largest_statement_bytes);
    assert_eq!(run.sql.len() as u64, run.summary.sql_bytes);
    statements.len()
}

/// The FTS5 tables of a database.
pub fn fts5_tables(conn: &Connection) -> Vec<String> {
    let mut statement = conn
        .prepare(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND sql LIKE 'CREATE VIRTUAL TABLE%' ORDER BY rowid",
        )
        .expect("list fts");
    let names = statement
        .query_map([], |r| r.get(0))
        .expect("list fts")
        .map(|r| r.expect("name"))
        .collect();
    names
}

/// A `.dump` without the INSERT lines of FTS5 shadow tables, whose raw
/// content depends on insertion history.
pub fn without_fts_shadow_rows(dump: &str, fts: &[String]) -> String {
    let shadow_prefixes: Vec<String> = fts
        .iter()
        .flat_map(|name| {
            ["_data", "_idx", "_content", "_docsize", "_config"]
                .iter()
                .flat_map(move |suffix| {
                    let table = format!("{name}{suffix}");
                    [
                        format!("INSERT INTO {table} VALUES"),
                        format!("INSERT INTO \"{}\" VALUES", table.replace('"', "\"\"")),
                    ]
                })
        })
        .collect();
    dump.lines()
        .filter(|line| !shadow_prefixes.iter().any(|p| line.starts_with(p.as_str())))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Every row of every ordinary table (rowids included), values compared
/// exactly (REALs by bits).
pub fn contents(conn: &Connection) -> Vec<(String, Vec<Vec<Value>>)> {
    let mut tables = conn
        .prepare(
            "SELECT name, wr FROM pragma_table_list WHERE schema = 'main' AND type = 'table' \
             AND name NOT LIKE 'sqlite%' ORDER BY name",
        )
        .expect("table list");
    let tables: Vec<(String, bool)> = tables
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?)))
        .expect("tables")
        .map(|r| r.expect("row"))
        .collect();
    let fts = fts5_tables(conn);
    let mut out = Vec::new();
    for (name, without_rowid) in tables {
        let is_fts_or_shadow = fts.iter().any(|f| {
            name == *f
                || ["_data", "_idx", "_content", "_docsize", "_config"]
                    .iter()
                    .any(|s| name == format!("{f}{s}"))
        });
        if is_fts_or_shadow {
            continue;
        }
        let ident = format!("\"{}\"", name.replace('"', "\"\""));
        let sql = if without_rowid {
            format!("SELECT * FROM {ident}")
        } else {
            format!("SELECT _rowid_, * FROM {ident} ORDER BY _rowid_")
        };
        out.push((name, select_all(conn, &sql)));
    }
    for name in fts {
        let ident = format!("\"{}\"", name.replace('"', "\"\""));
        out.push((
            name,
            select_all(
                conn,
                &format!("SELECT rowid, * FROM {ident} ORDER BY rowid"),
            ),
        ));
    }
    out
}

/// All rows of a query, REALs replaced by their bits so they compare
/// exactly; except that -0.0 counts as 0.0: no SQL function tells them
/// apart (`quote()`, `printf()` and division all lose the sign), so the dump
/// cannot keep it, as the module documentation says.
pub fn select_all(conn: &Connection, sql: &str) -> Vec<Vec<Value>> {
    let mut statement = conn.prepare(sql).unwrap_or_else(|e| panic!("{e}: {sql}"));
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get::<_, Value>(i)? {
                        Value::Real(0.0) => Value::Text("real zero".into()), // matches -0.0 too
                        Value::Real(r) => Value::Text(format!("real bits {:016x}", r.to_bits())),
                        other => other,
                    })
                })
                .collect::<rusqlite::Result<Vec<Value>>>()
        })
        .expect("select");
    rows.map(|r| r.expect("row")).collect()
}

/// Dumps `original`, imports the dump with the sqlite3 CLI into a new file
/// and checks: framing and sizes, `.dump` equality (FTS5 shadow rows aside),
/// exact contents, FTS5 documents and integrity. Returns the run and copy.
pub fn assert_round_trip(original: &Path, options: DumpOptions) -> (DumpRun, PathBuf) {
    let run = dump_db(original, options);
    assert_framing(&run);
    let copy = original.with_extension("copy.db");
    let _ = std::fs::remove_file(&copy);
    sqlite3_exec(&copy, &run.sql);

    let orig_conn = Connection::open(original).expect("open original");
    let copy_conn = Connection::open(&copy).expect("open copy");
    let fts = fts5_tables(&orig_conn);
    let expected = without_d1_internal(&without_fts_shadow_rows(&cli_dump(original), &fts));
    let actual = without_fts_shadow_rows(&cli_dump(&copy), &fts);
    assert_dumps_equal(&expected, &actual);
    assert_same_contents(&orig_conn, &copy_conn);
    for name in &fts {
        let ident = format!("\"{}\"", name.replace('"', "\"\""));
        copy_conn
            .execute(
                &format!("INSERT INTO {ident}({ident}) VALUES('integrity-check')"),
                [],
            )
            .unwrap_or_else(|e| panic!("FTS5 integrity-check of {name} failed on the copy: {e}"));
    }
    (run, copy)
}

/// Equal contents, or a panic naming the first differing table and row.
pub fn assert_same_contents(original: &Connection, copy: &Connection) {
    let (expected, actual) = (contents(original), contents(copy));
    let names =
        |c: &[(String, Vec<Vec<Value>>)]| c.iter().map(|(n, _)| n.clone()).collect::<Vec<_>>();
    let expected_names: Vec<String> = names(&expected)
        .into_iter()
        .filter(|n| !n.starts_with("_cf_"))
        .collect();
    assert_eq!(expected_names, names(&actual), "the copy has other tables");
    for (name, rows) in expected.iter().filter(|(n, _)| !n.starts_with("_cf_")) {
        let copy_rows = &actual
            .iter()
            .find(|(n, _)| n == name)
            .expect("table in copy")
            .1;
        assert_eq!(rows.len(), copy_rows.len(), "row count of {name}");
        if let Some((e, a)) = rows.iter().zip(copy_rows).find(|(e, a)| e != a) {
            let show = |r: &Vec<Value>| format!("{r:?}").chars().take(400).collect::<String>();
            panic!(
                "table {name} differs:\n  original: {}\n  copy:     {}",
                show(e),
                show(a)
            );
        }
    }
}

/// The lines of a `.dump` that do not mention D1's internal tables.
pub fn without_d1_internal(dump: &str) -> String {
    dump.lines()
        .filter(|line| !line.contains("_cf_"))
        .map(|line| format!("{line}\n"))
        .collect()
}

/// Equal `.dump`s, or a panic that shows the first differing line.
pub fn assert_dumps_equal(expected: &str, actual: &str) {
    if expected == actual {
        return;
    }
    let (e, a): (Vec<&str>, Vec<&str>) = (expected.lines().collect(), actual.lines().collect());
    let at = e
        .iter()
        .zip(&a)
        .position(|(x, y)| x != y)
        .unwrap_or(e.len().min(a.len()));
    let show = |lines: &[&str]| {
        lines
            .get(at)
            .map(|l| l.chars().take(300).collect::<String>())
            .unwrap_or_default()
    };
    panic!(
        ".dump differs at line {at} (of {} vs {}):\n  original: {}\n  copy:     {}",
        e.len(),
        a.len(),
        show(&e),
        show(&a)
    );
}

/// Imports a dump as the restore will on D1: statement by statement, in
/// transactions of `per_transaction` statements, foreign keys enforced and
/// deferred to each commit, under D1's statement and value limits.
pub fn import_d1_like(dump: &str, db: &Path, per_transaction: usize) {
    let conn = open_d1_like(db);
    conn.execute_batch("PRAGMA foreign_keys=ON")
        .expect("foreign keys on");
    for batch in statements(dump).chunks(per_transaction) {
        conn.execute_batch("BEGIN; PRAGMA defer_foreign_keys=ON;")
            .expect("begin");
        for statement in batch {
            conn.execute_batch(statement).unwrap_or_else(|e| {
                panic!(
                    "statement failed on D1-like import: {e}\n{}",
                    statement.chars().take(300).collect::<String>()
                )
            });
        }
        conn.execute_batch("COMMIT")
            .unwrap_or_else(|e| panic!("commit failed (foreign keys?): {e}"));
    }
    let violations: i64 = conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .expect("fk check");
    assert_eq!(
        violations, 0,
        "foreign key violations after the D1-like import"
    );
}

/// A fresh temporary directory.
pub fn temp_dir() -> tempfile::TempDir {
    tempfile::tempdir().expect("temp dir")
}

/// Creates a database file from SQL run by rusqlite (bundled SQLite).
pub fn create_db(path: &Path, sql: &str) {
    let conn = Connection::open(path).expect("create database");
    conn.execute_batch(sql)
        .unwrap_or_else(|e| panic!("creating the test database failed: {e}"));
}
