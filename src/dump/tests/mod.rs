//! Unit tests of the state machine's protocol, packing and row splitting.
//! The end-to-end behaviour against real databases is in
//! `tests/dump_fidelity.rs` and `tests/dump_proptest.rs`.
//!
//! This module holds the helpers the tests share; the tests are in its
//! submodules, by topic.

use super::big_row::*;
use super::cursor::TableCursor;
use super::output::{Output, Packer};
use super::query::PieceKind;
use super::schema::{DumpColumn, KeyShape, TableShape};
use super::*;

mod limits;
mod protocol;
mod round_trip;

fn row(values: &[Option<&str>]) -> Row {
    values.iter().map(|v| v.map(str::to_string)).collect()
}

fn schema_rows(entries: &[(&str, &str, &str)]) -> Vec<Row> {
    entries
        .iter()
        .map(|(kind, name, sql)| row(&[Some(kind), Some(name), Some(name), Some(sql)]))
        .collect()
}

fn expect_query(dump: &mut Dump, sql: &mut Vec<u8>) -> Query {
    match dump.step(sql) {
        Ok(Step::Query(query)) => query,
        other => panic!("expected a query, got {other:?}"),
    }
}

/// Drives a dump of one table `t(id INTEGER PRIMARY KEY, body TEXT)` whose
/// queries are answered by `answer` (given the query's context).
fn dump_one_table(
    options: DumpOptions,
    answer: impl FnMut(&Query) -> Vec<Row>,
) -> (String, DumpSummary) {
    try_dump_one_table(options, answer).expect("step")
}

/// [`dump_one_table`], returning the dump's error.
fn try_dump_one_table(
    options: DumpOptions,
    mut answer: impl FnMut(&Query) -> Vec<Row>,
) -> Result<(String, DumpSummary), DumpError> {
    let mut dump = Dump::new(options).expect("dump");
    let mut sql = Vec::new();
    let summary = loop {
        match dump.step(&mut sql)? {
            Step::Query(query) => {
                let rows = if query.sql == SCHEMA_QUERY {
                    schema_rows(&[(
                        "table",
                        "t",
                        "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT)",
                    )])
                } else if query.context.starts_with("columns of") {
                    vec![
                        row(&[
                            Some("column"),
                            Some("0"),
                            Some("id"),
                            Some("INTEGER"),
                            Some("1"),
                            Some("0"),
                        ]),
                        row(&[
                            Some("column"),
                            Some("1"),
                            Some("body"),
                            Some("TEXT"),
                            Some("0"),
                            Some("0"),
                        ]),
                    ]
                } else {
                    answer(&query)
                };
                dump.accept(rows).expect("accept");
            }
            Step::Done(summary) => break summary,
        }
    };
    Ok((String::from_utf8(sql).expect("UTF-8"), summary))
}

fn page_row(id: u32, tuple: Option<&str>, total: usize) -> Row {
    let size = tuple.map_or(1_000_000, str::len).to_string();
    vec![
        Some(id.to_string()),
        Some(size),
        Some(total.to_string()),
        tuple.map(str::to_string),
    ]
}

/// A D1-like database: D1's limits applied, foreign keys on.
fn d1_db(setup: &str) -> rusqlite::Connection {
    let conn = rusqlite::Connection::open_in_memory().expect("open");
    conn.execute_batch(setup).expect("setup");
    conn.execute_batch("PRAGMA foreign_keys=ON").expect("fk");
    crate::jobs::testing::apply_d1_limits(&conn);
    crate::jobs::testing::register_d1_functions(&conn);
    conn
}

/// Runs a query as the JS edge would: TEXT through `from_utf8_lossy`.
fn edge_query(conn: &rusqlite::Connection, sql: &str) -> Vec<Row> {
    assert!(sql.len() < MAX_QUERY_BYTES);
    let mut statement = conn
        .prepare(sql)
        .unwrap_or_else(|e| panic!("{e}: {}", &sql[..sql.len().min(300)]));
    let columns = statement.column_count();
    let mut rows = statement.query([]).expect("query");
    let mut out = Vec::new();
    while let Some(row) = rows.next().expect("row") {
        out.push(
            (0..columns)
                .map(|i| match row.get_ref(i).expect("value") {
                    rusqlite::types::ValueRef::Null => None,
                    rusqlite::types::ValueRef::Text(t) => {
                        Some(String::from_utf8_lossy(t).into_owned())
                    }
                    other => panic!("non-TEXT {other:?}"),
                })
                .collect(),
        );
    }
    out
}

fn dump_conn(conn: &rusqlite::Connection, options: DumpOptions) -> (String, DumpSummary) {
    let mut dump = Dump::new(options).expect("dump");
    let mut sql = Vec::new();
    let summary = loop {
        match dump.step(&mut sql).unwrap_or_else(|e| panic!("{e}")) {
            Step::Query(query) => dump.accept(edge_query(conn, &query.sql)).expect("accept"),
            Step::Done(summary) => break summary,
        }
    };
    (String::from_utf8(sql).expect("UTF-8"), summary)
}

/// Imports a dump statement by statement into a new D1-like database.
fn import(dump: &str) -> rusqlite::Connection {
    let conn = d1_db("");
    let mut open = String::new();
    for line in dump.split_inclusive('\n') {
        open.push_str(line);
        let c = std::ffi::CString::new(open.as_str()).expect("no NUL");
        // SAFETY: a NUL-terminated string that SQLite only reads.
        if unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) } != 0 {
            assert!(open.len() < MAX_STATEMENT_BYTES && open.ends_with(";\n"));
            conn.execute_batch(&open)
                .unwrap_or_else(|e| panic!("{e}: {}", &open[..open.len().min(300)]));
            open.clear();
        }
    }
    assert!(open.trim().is_empty(), "a complete statement at the end");
    conn
}

/// Every row of a query, values exact (REALs by their bits, TEXT by bytes).
fn exact_rows(conn: &rusqlite::Connection, sql: &str) -> Vec<Vec<String>> {
    let mut statement = conn.prepare(sql).expect("prepare");
    let columns = statement.column_count();
    let rows = statement
        .query_map([], |row| {
            (0..columns)
                .map(|i| {
                    Ok(match row.get_ref(i)? {
                        rusqlite::types::ValueRef::Real(r) => format!("real {:016x}", r.to_bits()),
                        rusqlite::types::ValueRef::Text(t) => format!("text {t:02x?}"),
                        other => format!("{other:?}"),
                    })
                })
                .collect()
        })
        .expect("query");
    rows.map(|r| r.expect("row")).collect()
}

fn assert_same(original: &rusqlite::Connection, copy: &rusqlite::Connection, sql: &str) {
    assert_eq!(exact_rows(original, sql), exact_rows(copy, sql), "{sql}");
}
