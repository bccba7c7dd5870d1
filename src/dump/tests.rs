//! Unit tests of the state machine's protocol, packing and row splitting.
//! The end-to-end behaviour against real databases is in
//! `tests/dump_fidelity.rs` and `tests/dump_proptest.rs`.

use super::big_row::*;
use super::cursor::TableCursor;
use super::output::{Output, Packer};
use super::query::PieceKind;
use super::schema::{DumpColumn, KeyShape, TableShape};
use super::*;

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

#[test]
fn options_are_validated() {
    let bad =
        |options: DumpOptions| matches!(Dump::new(options), Err(DumpError::InvalidOptions { .. }));
    assert!(bad(DumpOptions {
        statement_target_bytes: MAX_STATEMENT_BYTES,
        ..DumpOptions::default()
    }));
    assert!(bad(DumpOptions {
        statement_target_bytes: 100,
        ..DumpOptions::default()
    }));
    assert!(bad(DumpOptions {
        page_target_bytes: 1_000,
        ..DumpOptions::default()
    }));
    assert!(bad(DumpOptions {
        max_page_rows: 0,
        ..DumpOptions::default()
    }));
    assert!(bad(DumpOptions {
        max_page_rows: DEFAULT_MAX_PAGE_ROWS + 1,
        ..DumpOptions::default()
    }));
    assert!(Dump::new(DumpOptions::default()).is_ok());
}

#[test]
fn the_protocol_is_enforced() {
    let mut dump = Dump::new(DumpOptions::default()).expect("dump");
    let mut sql = Vec::new();
    assert_eq!(
        dump.accept(Vec::new()),
        Err(DumpError::Protocol(
            "accept() called with no query outstanding"
        ))
    );
    let query = expect_query(&mut dump, &mut sql);
    assert_eq!(query.sql, SCHEMA_QUERY);
    assert!(String::from_utf8(sql.clone())
        .expect("UTF-8")
        .starts_with(HEADER));
    assert!(
        matches!(dump.step(&mut sql), Err(DumpError::Protocol(_))),
        "step before accept"
    );
    dump.accept(Vec::new()).expect("accept");
    assert!(matches!(dump.step(&mut sql), Ok(Step::Done(_))));
    assert!(
        matches!(dump.step(&mut sql), Err(DumpError::Protocol(_))),
        "step after done"
    );
}

#[test]
fn a_failed_dump_stays_failed() {
    let mut dump = Dump::new(DumpOptions::default()).expect("dump");
    let mut sql = Vec::new();
    expect_query(&mut dump, &mut sql);
    dump.accept(vec![row(&[Some("table")])]).expect("accept");
    assert!(matches!(
        dump.step(&mut sql),
        Err(DumpError::BadResult { .. })
    ));
    assert_eq!(
        dump.step(&mut sql),
        Err(DumpError::Protocol("step() called after the dump failed"))
    );
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

#[test]
fn rows_are_packed_under_the_statement_target() {
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        ..DumpOptions::default()
    };
    let body = "x".repeat(300);
    let mut pages = 0;
    let (text, summary) = dump_one_table(options, |query| {
        pages += 1;
        assert!(query.sql.contains(&format!("LIMIT {INITIAL_PAGE_ROWS}")) || pages > 1);
        if pages == 1 {
            (1..=20)
                .map(|id| page_row(id, Some(&format!("({id},'{body}')")), 20))
                .collect()
        } else {
            panic!("a short page means the table is exhausted: no second page query")
        }
    });
    let inserts: Vec<&str> = text
        .lines()
        .filter(|l| l.starts_with("INSERT INTO \"t\""))
        .collect();
    assert!(inserts.len() > 3, "{} INSERTs", inserts.len());
    assert!(
        inserts.iter().all(|l| l.len() < 2_000),
        "each INSERT with its newline is at most 2,000 bytes"
    );
    assert_eq!(
        inserts
            .iter()
            .map(|l| l.matches("'),(").count() + 1)
            .sum::<usize>(),
        20
    );
    assert_eq!(summary.tables[0].rows, 20);
    // The opening PRAGMAs, the CREATE TABLE and the closing PRAGMA.
    assert_eq!(summary.statements as usize, inserts.len() + 4);
}

#[test]
fn paging_continues_after_the_last_key_until_a_short_page() {
    let options = DumpOptions {
        max_page_rows: 2,
        ..DumpOptions::default()
    };
    let mut queries = Vec::new();
    let (_, summary) = dump_one_table(options, |query| {
        queries.push(query.sql.clone());
        match queries.len() {
            1 => vec![
                page_row(4, Some("(4,'a')"), 2),
                page_row(9, Some("(9,'b')"), 2),
            ],
            2 => vec![
                page_row(12, Some("(12,'c')"), 2),
                page_row(13, Some("(13,'d')"), 2),
            ],
            3 => vec![page_row(20, Some("(20,'e')"), 1)],
            _ => panic!("no page after a short one"),
        }
    });
    assert!(!queries[0].contains(" WHERE \"id\" >"));
    assert!(queries[1].contains("WHERE \"id\" > 9 ORDER BY \"id\" LIMIT 2"));
    assert!(queries[2].contains("WHERE \"id\" > 13 ORDER BY \"id\" LIMIT 2"));
    assert_eq!(summary.tables[0].rows, 5);
}

#[test]
fn a_page_cut_by_the_byte_cap_is_not_the_last() {
    let mut queries = 0;
    let (_, summary) = dump_one_table(DumpOptions::default(), |_| {
        queries += 1;
        match queries {
            // 3 of the 500 rows asked for fit under the page target.
            1 => vec![
                page_row(1, Some("(1,'a')"), 500),
                page_row(2, Some("(2,'b')"), 500),
                page_row(3, Some("(3,'c')"), 500),
            ],
            2 => Vec::new(),
            _ => panic!("no page after an empty one"),
        }
    });
    assert_eq!(queries, 2);
    assert_eq!(summary.tables[0].rows, 3);
}

#[test]
fn an_oversized_text_is_inserted_empty_and_appended_in_pieces() {
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        ..DumpOptions::default()
    };
    let text: String = "ab'".repeat(1_000); // 3,000 characters, quoted 4,002 bytes
    let mut served = 0usize;
    let (dump, summary) = dump_one_table(options, |query| {
        if query.context.starts_with("rows") {
            return vec![page_row(7, None, 1)];
        }
        if query.context.starts_with("an oversized row") {
            return vec![row(&[Some("integer 1 1 0:7"), Some("text 3000 3000 0")])];
        }
        assert!(query.context.starts_with("pieces"), "{}", query.context);
        // Answer like SQLite: pieces of the requested span, NULL if too long.
        let mut out = vec![Some("text 3000".to_string())];
        let spans: Vec<(usize, usize, usize)> = query
            .sql
            .match_indices("substr(c1, ")
            .step_by(2)
            .map(|(at, _)| {
                let args: Vec<usize> = query.sql[at + 11..]
                    .split(')')
                    .next()
                    .expect("args")
                    .split(", ")
                    .map(|n| n.parse().expect("number"))
                    .collect();
                let limit: usize = query.sql[at..]
                    .split(" <= ")
                    .nth(1)
                    .and_then(|s| s.split(' ').next())
                    .and_then(|s| s.parse().ok())
                    .expect("limit");
                (args[0], args[1], limit)
            })
            .collect();
        for (from, span, limit) in spans {
            let piece: String = text.chars().skip(from - 1).take(span).collect();
            let literal = quote_text(&piece);
            out.push((literal.len() <= limit).then_some(literal));
            served += 1;
        }
        vec![out]
    });
    assert!(dump.contains("INSERT INTO \"t\"(\"id\",\"body\") VALUES(7,'');\n"));
    let mut rebuilt = String::new();
    for line in dump.lines().filter(|l| l.starts_with("UPDATE")) {
        assert!(line.len() < 2_000, "{} bytes", line.len());
        let literal = line
            .strip_prefix("UPDATE \"t\" SET \"body\" = \"body\" || ")
            .and_then(|l| l.strip_suffix(" WHERE \"id\" = 7;"))
            .expect("append statement");
        rebuilt.push_str(&literal[1..literal.len() - 1].replace("''", "'"));
    }
    assert_eq!(rebuilt, text);
    assert!(served >= 3);
    assert_eq!(summary.tables[0].rows, 1);
}

fn shape(columns: &[(&str, bool)]) -> TableShape {
    TableShape {
        name: "t".into(),
        columns: columns
            .iter()
            .enumerate()
            .map(|(p, (n, numeric))| DumpColumn {
                sql_name: quote_ident(n),
                numeric_affinity: *numeric,
                star: Some(p),
            })
            .collect(),
        key: KeyShape::Rowid {
            expr: "rowid".into(),
        },
        star_width: columns.len(),
        rowid_star: None,
    }
}

fn cell(kind: &str, literal: Option<String>, bytes: u64) -> Cell {
    Cell {
        kind: kind.into(),
        bytes,
        chars: bytes,
        hex: false,
        literal,
    }
}

#[test]
fn the_largest_values_are_deferred_until_the_insert_fits() {
    let names: Vec<String> = (0..90).map(|i| format!("c{i}")).collect();
    let shape = shape(
        &names
            .iter()
            .map(|n| (n.as_str(), false))
            .collect::<Vec<_>>(),
    );
    let writer = RowWriter {
        shape: &shape,
        ident: "\"t\"",
        prefix: "INSERT INTO \"t\"(...) VALUES",
        target: 60_000,
    };
    let cells: Vec<Cell> = (0..90)
        .map(|i| cell("text", Some(format!("'{}'", "v".repeat(1_990 + i))), 2_000))
        .collect();
    let mut output = Output::default();
    let mut sql = Vec::new();
    let pieces =
        write_split_row(cells, &writer, "rowid = 1", &mut output, &mut sql).expect("split");
    assert!(pieces.is_empty(), "every value fits in an UPDATE");
    let text = String::from_utf8(sql).expect("UTF-8");
    let statements: Vec<&str> = text.split_inclusive(";\n").collect();
    assert!(statements.iter().all(|s| s.len() <= 60_000));
    assert!(statements[0].starts_with("INSERT INTO \"t\"(...) VALUES("));
    // The largest (last) columns were deferred; the first stay in the INSERT.
    assert!(statements[0].contains(&format!("'{}'", "v".repeat(1_990))));
    assert!(statements[0].ends_with(",'','','');\n") || statements[0].contains("''"));
    assert!(statements[1..]
        .iter()
        .all(|s| s.starts_with("UPDATE \"t\" SET ") && s.ends_with(" WHERE rowid = 1;\n")));
    assert!(text.contains(&format!("\"c89\" = '{}'", "v".repeat(2_079))));
    assert_eq!(output.statements as usize, statements.len());
}

#[test]
fn values_too_large_to_read_are_always_deferred() {
    let shape = shape(&[("small", false), ("blob", false), ("num", true)]);
    let writer = RowWriter {
        shape: &shape,
        ident: "\"t\"",
        prefix: "INSERT INTO \"t\"(\"small\",\"blob\",\"num\") VALUES",
        target: 60_000,
    };
    let cells = vec![
        cell("integer", Some("1".into()), 1),
        cell("blob", None, 1_500_000),
        cell("text", None, 70_000),
    ];
    let mut output = Output::default();
    let mut sql = Vec::new();
    let pieces =
        write_split_row(cells, &writer, "rowid = 1", &mut output, &mut sql).expect("split");
    assert_eq!(
        String::from_utf8(sql).expect("UTF-8"),
        "INSERT INTO \"t\"(\"small\",\"blob\",\"num\") VALUES(1,X'','');\n"
    );
    assert_eq!(pieces.len(), 2);
    assert_eq!(pieces[0].kind, PieceKind::Blob);
    assert_eq!(pieces[0].units, 1_500_000);
    assert!(
        pieces[0].span * 2 < 60_000 - 50 && pieces[0].span > 29_000,
        "span {}",
        pieces[0].span
    );
    assert_eq!(pieces[1].kind, PieceKind::Text);
    assert_eq!(pieces[1].expected, "text 70000");
}

#[test]
fn text_with_nul_is_read_by_bytes() {
    let shape = shape(&[("t", false)]);
    let writer = RowWriter {
        shape: &shape,
        ident: "\"t\"",
        prefix: "INSERT INTO \"t\"(\"t\") VALUES",
        target: 10_000,
    };
    let nul = Cell {
        kind: "text".into(),
        bytes: 50_000,
        chars: 3,
        hex: true,
        literal: None,
    };
    let piece = piece_cell(0, &nul, &writer, "rowid = 1").expect("room");
    assert_eq!(piece.kind, PieceKind::TextBytes);
    assert_eq!(piece.units, 50_000);
    let wide = Cell {
        kind: "text".into(),
        bytes: 40_000,
        chars: 10_000,
        hex: false,
        literal: None,
    };
    let piece = piece_cell(0, &wide, &writer, "rowid = 1").expect("room");
    assert_eq!(piece.kind, PieceKind::Text);
    assert!(
        piece.span * 4 < 10_000 && piece.span > 2_000,
        "span {}",
        piece.span
    );
}

#[test]
fn packer_never_exceeds_the_target() {
    let mut packer = Packer::new("INSERT INTO \"t\"(\"a\") VALUES".into());
    let mut output = Output::default();
    let mut sql = Vec::new();
    for i in 0..1_000 {
        packer
            .add(
                &format!("('{}')", "z".repeat(i % 97)),
                5_000,
                &mut output,
                &mut sql,
            )
            .expect("add");
    }
    packer.flush(&mut output, &mut sql).expect("flush");
    let text = String::from_utf8(sql).expect("UTF-8");
    assert!(text
        .split_inclusive(";\n")
        .all(|s| s.len() <= 5_000 && s.len() > 4_000
            || s == text.split_inclusive(";\n").last().unwrap_or_default()));
    assert_eq!(text.matches("('").count(), 1_000);
    assert!(output.largest <= 5_000);
}

#[test]
fn statements_at_the_limit_are_refused() {
    let mut output = Output::default();
    let mut sql = Vec::new();
    let statement = format!("{};\n", "x".repeat(MAX_STATEMENT_BYTES - 2));
    let error = output.statement(&mut sql, &statement, || "a test statement".into());
    assert_eq!(
        error,
        Err(DumpError::StatementTooLarge {
            what: "a test statement".into(),
            bytes: MAX_STATEMENT_BYTES
        })
    );
    assert!(sql.is_empty());
    output
        .statement(&mut sql, &statement[1..], || unreachable!())
        .expect("one byte less is allowed");
}

#[test]
fn queries_stay_under_the_limit_for_a_hundred_columns() {
    let names: Vec<String> = (0..100)
        .map(|i| format!("a column with a long name number {i}"))
        .collect();
    let long = shape(&names.iter().map(|n| (n.as_str(), true)).collect::<Vec<_>>());
    let page = query::page(
        &long,
        "\"t\"",
        Some(&["123".to_string()]),
        10_000,
        59_000,
        DEFAULT_PAGE_TARGET_BYTES,
    );
    assert!(page.len() < MAX_QUERY_BYTES, "{} bytes", page.len());
    let detail = query::row_detail(&long, "\"t\"", &["1".to_string()], 59_000);
    assert!(detail.len() < MAX_QUERY_BYTES, "{} bytes", detail.len());
    let exact = query::exact_real(&long, "\"t\"", &["1".to_string()], 99);
    assert!(exact.len() < MAX_QUERY_BYTES / 3, "{} bytes", exact.len());
    let composite = TableShape {
        key: KeyShape::PrimaryKey {
            columns: vec![0, 1, 2],
        },
        ..long.clone()
    };
    let page = query::page(
        &composite,
        "\"t\"",
        None,
        10_000,
        59_000,
        DEFAULT_PAGE_TARGET_BYTES,
    );
    assert!(page.len() < MAX_QUERY_BYTES, "{} bytes", page.len());

    let huge: Vec<String> = (0..100)
        .map(|i| format!("{i}{}", "n".repeat(1_000)))
        .collect();
    let huge = shape(&huge.iter().map(|n| (n.as_str(), true)).collect::<Vec<_>>());
    let error = TableCursor::new(0, huge, &DumpOptions::default()).map(|_| ());
    assert!(
        matches!(error, Err(DumpError::StatementTooLarge { .. })),
        "{error:?}"
    );

    // Long names do not make the queries longer: they use aliases (99
    // columns and the rowid, or 100 with an INTEGER PRIMARY KEY).
    let names: Vec<String> = (0..99).map(|i| format!("{i}{}", "n".repeat(400))).collect();
    let wide = shape(&names.iter().map(|n| (n.as_str(), true)).collect::<Vec<_>>());
    let mut cursor = TableCursor::new(0, wide, &DumpOptions::default()).expect("cursor");
    let (mut output, mut sql) = (Output::default(), Vec::new());
    let query = cursor.advance(None, &DumpOptions::default(), &mut output, &mut sql);
    let sql_of = |q: &Result<Option<Query>, DumpError>| match q {
        Ok(Some(q)) => q.sql.clone(),
        other => panic!("no query: {:?}", other.as_ref().map(|_| ())),
    };
    let page = sql_of(&query);
    assert!(
        page.len() < MAX_QUERY_BYTES && !page.contains("nnnn"),
        "{} bytes",
        page.len()
    );

    // 100 columns and a rowid that is no column: `SELECT rowid, *` would be
    // 101 columns, so the columns are named, which long names cannot afford.
    let names: Vec<String> = (0..100)
        .map(|i| format!("{i}{}", "n".repeat(900)))
        .collect();
    let wide = shape(&names.iter().map(|n| (n.as_str(), true)).collect::<Vec<_>>());
    let mut cursor = TableCursor::new(0, wide, &DumpOptions::default()).expect("cursor");
    let query = cursor.advance(None, &DumpOptions::default(), &mut output, &mut sql);
    assert!(
        matches!(&query, Err(DumpError::QueryTooLarge { table, .. }) if table == "t"),
        "{:?}",
        query.as_ref().map(|_| ())
    );
}

#[test]
fn the_schema_hash_covers_the_dumped_statements_only() {
    let with_internal = schema_rows(&[
        ("table", "a", "CREATE TABLE a(x)"),
        (
            "table",
            "_cf_KV",
            "CREATE TABLE _cf_KV(k PRIMARY KEY, v) WITHOUT ROWID",
        ),
        ("index", "a_x", "CREATE INDEX a_x ON a(x)"),
    ]);
    let without = schema_rows(&[
        ("table", "a", "CREATE TABLE a(x)"),
        ("index", "a_x", "CREATE INDEX a_x ON a(x)"),
    ]);
    let reordered = schema_rows(&[
        ("index", "a_x", "CREATE INDEX a_x ON a(x)"),
        ("table", "a", "CREATE TABLE a(x)"),
    ]);
    let hash = schema_sha256(with_internal).expect("hash");
    assert_eq!(hash, schema_sha256(without).expect("hash"));
    assert_eq!(
        hash,
        schema_sha256(reordered).expect("hash"),
        "tables come before indexes in dump order"
    );
    assert_ne!(
        hash,
        schema_sha256(schema_rows(&[("table", "a", "CREATE TABLE a(y)")])).expect("hash")
    );
}

#[test]
fn exact_reals_are_decoded_into_power_of_two_products() {
    assert_eq!(query::decode_exact_real("12.5".into()), Some("12.5".into()));
    assert_eq!(
        query::decode_exact_real("~*2 -1.5".into()),
        Some(format!("(-1.5*{s}*{s})", s = query::REAL_SCALE))
    );
    assert_eq!(
        query::decode_exact_real("~/1 3.0e-20".into()),
        Some(format!("(3.0e-20/{})", query::REAL_SCALE))
    );
    assert_eq!(query::decode_exact_real("~+1 1.0".into()), None);
    assert_eq!(query::decode_exact_real("~*x 1.0".into()), None);
    assert!(
        !query::exact_real_expr("c0").contains("inf"),
        "thresholds are finite literals"
    );
}

#[test]
fn the_summary_serializes_with_the_manifest_names() {
    let summary = TableSummary {
        name: "t".into(),
        kind: TableKind::WithoutRowid,
        rows: 3,
    };
    assert_eq!(
        serde_json::to_string(&summary).expect("json"),
        r#"{"name":"t","type":"without-rowid","rows":3}"#
    );
    assert_eq!(
        serde_json::to_string(&TableKind::Fts5).expect("json"),
        r#""fts5""#
    );
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

#[test]
fn long_quoted_column_names_stay_within_d1_depth_and_size() {
    // 45 columns: the page query's inner SELECT has 2 per column plus the
    // key, under D1's 100-column result limit (see the module doc).
    let names: Vec<String> = (0..45)
        .map(|i| format!("col \"{i}\" naïve.select {}", "x".repeat(1_500)))
        .collect();
    let columns: Vec<String> = names
        .iter()
        .map(|n| format!("{} TEXT", quote_ident(n)))
        .collect();
    let conn = d1_db(&format!(
        "CREATE TABLE \"wide table\"({}); CREATE TABLE k(a REAL, b TEXT, c BLOB, {}, PRIMARY KEY(a, b, c)) WITHOUT ROWID;",
        columns.join(", "),
        (0..42).map(|i| format!("v{i}")).collect::<Vec<_>>().join(", ")
    ));
    for row in 0..30 {
        let values: Vec<String> = (0..45).map(|i| format!("'r{row} v{i}'")).collect();
        conn.execute_batch(&format!(
            "INSERT INTO \"wide table\" VALUES({})",
            values.join(",")
        ))
        .expect("insert");
        let rest: Vec<String> = (0..42).map(|i| format!("{}", row * i)).collect();
        conn.execute_batch(&format!(
            "INSERT INTO k VALUES({row}.5e300, 'k{row}', X'0{}', {})",
            row % 10,
            rest.join(",")
        ))
        .expect("insert");
    }
    let (dump, summary) = dump_conn(&conn, DumpOptions::default());
    assert!(summary.largest_statement_bytes < MAX_STATEMENT_BYTES);
    let copy = import(&dump);
    assert_same(
        &conn,
        &copy,
        "SELECT rowid, * FROM \"wide table\" ORDER BY rowid",
    );
    assert_same(&conn, &copy, "SELECT * FROM k ORDER BY a, b, c");
}

#[test]
fn text_with_cr_nul_replacement_chars_or_invalid_utf8_is_exact() {
    let crlf = "line\r\n".repeat(500);
    let conn = d1_db(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, body TEXT, n NUMERIC);
         CREATE TABLE w(k TEXT PRIMARY KEY, v) WITHOUT ROWID;",
    );
    let mut insert = conn
        .prepare("INSERT INTO t(body, n) VALUES(?1, ?1)")
        .expect("prepare");
    for text in [
        crlf.clone(),
        "a\r".into(),
        "nul\0inside".into(),
        "real \u{FFFD} replacement".into(),
        "x\r\n".repeat(40_000),
        format!("{}\u{FFFD}", "é'".repeat(40_000)),
        String::new(),
    ] {
        insert.execute([text]).expect("insert");
    }
    conn.execute_batch(
        "INSERT INTO t(body) VALUES(CAST(X'61FF62C3' AS TEXT)), (NULL);
         INSERT INTO t(body) VALUES(CAST(X'41' || hex(zeroblob(1)) || X'FE' AS TEXT));
         INSERT INTO t(body) VALUES(CAST(randomblob(150000) AS TEXT));
         INSERT INTO t(body) VALUES(CAST(zeroblob(0) || X'20' || CAST(printf('%.*c', 90000, 'a') AS BLOB) || X'FF' AS TEXT));
         INSERT INTO w VALUES(CAST(X'6BFF' AS TEXT), 1), ('k\r', 2), ('plain', 3);",
    )
    .expect("insert bytes");
    let (dump, _) = dump_conn(
        &conn,
        DumpOptions {
            statement_target_bytes: 20_000,
            ..DumpOptions::default()
        },
    );
    assert!(!dump.contains("char(13)"));
    let copy = import(&dump);
    assert_same(
        &conn,
        &copy,
        "SELECT id, body, n, typeof(body) FROM t ORDER BY id",
    );
    assert_same(&conn, &copy, "SELECT * FROM w ORDER BY k");
}

#[test]
fn schema_sql_ending_in_a_line_comment_still_terminates() {
    let conn = d1_db(
        "CREATE TABLE t(a -- the a column
         );
         CREATE VIEW v AS SELECT a FROM t -- a view
         ;
         CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT CASE WHEN 'BEGIN;' = 'END' THEN 1 END; END;
         INSERT INTO t VALUES(1);",
    );
    let (dump, summary) = dump_conn(&conn, DumpOptions::default());
    let copy = import(&dump);
    assert_same(
        &conn,
        &copy,
        "SELECT type, name, sql FROM sqlite_schema ORDER BY name",
    );
    assert_same(&conn, &copy, "SELECT * FROM v");
    assert_eq!(summary.views, ["v"]);
    let rows = edge_query(&copy, SCHEMA_QUERY);
    assert_eq!(schema_sha256(rows).expect("hash"), summary.schema_sha256);
}

#[test]
fn check_constraints_do_not_reject_the_placeholders_of_a_split_row() {
    let conn = d1_db(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, b TEXT CHECK (length(b) > 30000), c BLOB CHECK (length(c) > 30000))",
    );
    conn.execute_batch("INSERT INTO t VALUES(1, printf('%.*c', 70000, 'q'), randomblob(50000))")
        .expect("insert");
    let (dump, _) = dump_conn(
        &conn,
        DumpOptions {
            statement_target_bytes: 10_000,
            ..DumpOptions::default()
        },
    );
    let statements: Vec<&str> = dump.lines().filter(|l| !l.starts_with("--")).collect();
    assert_eq!(&statements[..2], OPENING_STATEMENTS.map(str::trim_end));
    assert_eq!(
        statements.last().copied(),
        Some(CLOSING_STATEMENT.trim_end())
    );
    let copy = import(&dump);
    assert_same(&conn, &copy, "SELECT * FROM t");
    let on: i64 = copy
        .query_row("PRAGMA ignore_check_constraints", [], |r| r.get(0))
        .expect("pragma");
    assert_eq!(on, 0, "the dump turns the checks back on");
}

#[test]
fn every_fts5_content_mode_dumps_and_contentless_ones_warn() {
    let conn = d1_db(
        "CREATE TABLE docs(id INTEGER PRIMARY KEY, body TEXT);
         CREATE VIEW docs_v AS SELECT id, body FROM docs;
         CREATE VIRTUAL TABLE reg USING fts5(body, tokenize='trigram', prefix='2 3');
         CREATE VIRTUAL TABLE ext USING fts5(body, content='docs', content_rowid='id', tokenize='porter');
         CREATE VIRTUAL TABLE onview USING fts5(body, content='docs_v', content_rowid='id');
         CREATE VIRTUAL TABLE cl USING fts5(body, content='');
         CREATE VIRTUAL TABLE cld USING fts5(body, content='', contentless_delete=1);
         CREATE TABLE _d1vault_progress(seq INTEGER);
         INSERT INTO _d1vault_progress VALUES(1);",
    );
    for (i, text) in ["running dogs", "a quick fox", "éclair au café"]
        .iter()
        .enumerate()
    {
        for table in ["docs", "reg", "cl", "cld"] {
            let columns = if table == "docs" {
                "id, body"
            } else {
                "rowid, body"
            };
            conn.execute(
                &format!("INSERT INTO {table}({columns}) VALUES(?1, ?2)"),
                rusqlite::params![i as i64 + 1, text],
            )
            .expect("insert");
        }
    }
    conn.execute_batch(
        "INSERT INTO ext(ext) VALUES('rebuild'); INSERT INTO onview(onview) VALUES('rebuild');",
    )
    .expect("rebuild");
    let (dump, summary) = dump_conn(&conn, DumpOptions::default());
    assert!(!dump.contains("_d1vault_"));
    let copy = import(&dump);
    for table in ["reg", "ext", "onview"] {
        assert_same(
            &conn,
            &copy,
            &format!("SELECT rowid, * FROM {table} ORDER BY rowid"),
        );
        assert_same(
            &conn,
            &copy,
            &format!("SELECT rowid FROM {table}('run*') ORDER BY rowid"),
        );
    }
    assert_same(&conn, &copy, "SELECT rowid FROM reg('fox') ORDER BY rowid");
    let warned: Vec<(&str, u64)> = summary
        .warnings
        .iter()
        .map(|w| (w.table.as_str(), w.rows))
        .collect();
    assert_eq!(warned, [("cl", 3), ("cld", 3)]);
    let rows = |name: &str| {
        summary
            .tables
            .iter()
            .find(|t| t.name == name)
            .map(|t| t.rows)
    };
    assert_eq!(
        (rows("cl"), rows("cld"), rows("reg")),
        (Some(0), Some(0), Some(3))
    );
    let empty: i64 = copy
        .query_row("SELECT count(*) FROM cld", [], |r| r.get(0))
        .expect("count");
    assert_eq!(empty, 0);
    assert_eq!(
        serde_json::to_string(&summary.warnings[0]).expect("json"),
        r#"{"table":"cl","kind":"fts5_contentless_not_restorable","rows":3}"#
    );
}

#[test]
fn manifests_without_warnings_still_parse() {
    let json = r#"{"tables":[],"indexes":[],"views":[],"triggers":[],"schema_sha256":"","fk_order_fallback":[],"statements":1,"largest_statement_bytes":1,"sql_bytes":1}"#;
    let summary: DumpSummary = serde_json::from_str(json).expect("old summary");
    assert!(summary.warnings.is_empty());
}

#[test]
fn balanced_operator_trees_are_logarithmically_deep() {
    let terms: Vec<String> = (0..201).map(|i| format!("q{i}")).collect();
    let tree = query::balanced(&terms, "||");
    let mut depth = 0usize;
    let mut deepest = 0usize;
    for c in tree.chars() {
        match c {
            '(' => depth += 1,
            ')' => depth -= 1,
            _ => {}
        }
        deepest = deepest.max(depth);
    }
    assert_eq!(deepest, 8);
    assert_eq!(tree.matches("q").count(), 201);
    assert_eq!(query::balanced(&terms[..1], "+"), "q0");
}

/// `CREATE TABLE` SQL of 100 columns of mixed types named `name(i)`, the
/// first `key` of them as given, and a row of literals for them, the
/// third value `big` bytes of text when `big > 0`.
fn hundred_columns(name: impl Fn(usize) -> String, first: &[&str]) -> Vec<String> {
    let types = ["INTEGER", "REAL", "TEXT", "BLOB", "", "NUMERIC", "ANY"];
    (0..100)
        .map(|i| match first.get(i) {
            Some(decl) => format!("{} {decl}", quote_ident(&name(i))),
            None => format!("{} {}", quote_ident(&name(i)), types[i % types.len()]),
        })
        .collect()
}

fn hundred_values(row: usize, big: usize) -> Vec<String> {
    (0..100)
        .map(|i| match i % 7 {
            _ if i == 2 && big > 0 => format!("printf('%.*c', {big}, 'w')"),
            0 => format!("{}", (row as i64 + 1) * 9_007_199_254_740_993 - i as i64),
            1 => format!("{row}.{i}e-7"),
            2 => format!("'r{row} it''s {i}' || char(13, 10)"),
            3 => format!("X'{row:02x}{i:02x}00'"),
            4 => "-0.0".into(),
            5 => format!("'{i}.50'"),
            _ if row.is_multiple_of(2) => "NULL".into(),
            _ => format!("{i}e300 * 1e10"),
        })
        .collect()
}

/// Dumps `conn` under D1's limits and checks that the copy equals it
/// exactly (REALs by bits, so -0.0 too).
fn assert_exact_round_trip(conn: &rusqlite::Connection, select: &str) -> String {
    let (dump, summary) = dump_conn(conn, DumpOptions::default());
    assert!(summary.largest_statement_bytes < MAX_STATEMENT_BYTES);
    let copy = import(&dump);
    assert_same(conn, &copy, select);
    dump
}

#[test]
fn a_hundred_column_rowid_table_without_integer_primary_key_round_trips() {
    // SELECT rowid, * would be 101 result columns: the page query names the
    // columns in two CTEs joined on the rowid.
    let columns = hundred_columns(|i| format!("column number {i}"), &[]);
    let conn = d1_db(&format!("CREATE TABLE t({});", columns.join(", ")));
    for row in 0..6 {
        let big = if row == 3 { 1_500_000 } else { 0 };
        conn.execute_batch(&format!(
            "INSERT INTO t(rowid, {}) VALUES({}, {})",
            (0..100)
                .map(|i| quote_ident(&format!("column number {i}")))
                .collect::<Vec<_>>()
                .join(", "),
            row as i64 * 1000 - 2,
            hundred_values(row, big).join(", ")
        ))
        .expect("insert");
    }
    let dump = assert_exact_round_trip(&conn, "SELECT * FROM t ORDER BY rowid");
    let rowids = exact_rows(&conn, "SELECT rowid FROM t ORDER BY rowid");
    assert_eq!(
        rowids,
        exact_rows(&import(&dump), "SELECT rowid FROM t ORDER BY rowid")
    );
    assert!(dump.contains("UPDATE \"t\" SET \"column number 2\" = \"column number 2\" || 'www"));
}

#[test]
fn a_hundred_column_rowid_table_with_integer_primary_key_and_long_names_round_trips() {
    // The rowid is read through its column: SELECT * is 100 columns, and
    // the names (300 bytes each) never appear in the queries.
    let name = |i: usize| format!("{i} {}", "long name ".repeat(30));
    let columns = hundred_columns(name, &["INTEGER PRIMARY KEY"]);
    let conn = d1_db(&format!("CREATE TABLE t({});", columns.join(", ")));
    for row in 0..6 {
        let mut values = hundred_values(row, if row == 1 { 1_500_000 } else { 0 });
        values[0] = format!("{}", row as i64 * 7 - 20);
        conn.execute_batch(&format!("INSERT INTO t VALUES({})", values.join(", ")))
            .expect("insert");
    }
    let mut dump = Dump::new(DumpOptions::default()).expect("dump");
    let mut sql = Vec::new();
    while let Step::Query(query) = dump.step(&mut sql).expect("step") {
        // Only the key column is named (in the page filter and row keys).
        assert!(
            (1..100).all(|i| !query.sql.contains(&name(i))),
            "{}",
            query.context
        );
        dump.accept(edge_query(&conn, &query.sql)).expect("accept");
    }
    assert_exact_round_trip(&conn, "SELECT * FROM t ORDER BY rowid");
}

#[test]
fn a_hundred_column_without_rowid_table_with_a_real_text_blob_key_round_trips() {
    let name = |i: usize| format!("c{i} {}", "n".repeat(200));
    let mut columns = hundred_columns(name, &["REAL", "TEXT", "BLOB"]);
    columns.push(format!(
        "PRIMARY KEY({}, {}, {})",
        quote_ident(&name(1)),
        quote_ident(&name(0)),
        quote_ident(&name(2))
    ));
    let conn = d1_db(&format!(
        "CREATE TABLE w({}) WITHOUT ROWID;",
        columns.join(", ")
    ));
    let keys = [
        ("1.5e300", "'k'", "X'00'"),
        ("-0.5", "CAST(X'6BFF' AS TEXT)", "X''"),
        ("0.1", "'k' || char(13)", "X'FF'"),
        ("1e-310", "'a,b'", "X'0102'"),
        ("-1e308 * 10", "'z'", "X'01'"),
    ];
    for (row, (real, text, blob)) in keys.iter().enumerate() {
        let mut values = hundred_values(row, 0);
        values[0] = real.to_string();
        values[1] = text.to_string();
        values[2] = blob.to_string();
        if row == 2 {
            values[9] = "printf('%.*c', 1500000, 'v')".into();
        }
        conn.execute_batch(&format!("INSERT INTO w VALUES({})", values.join(", ")))
            .expect("insert");
    }
    let order = format!(
        "SELECT * FROM w ORDER BY {}, {}, {}",
        quote_ident(&name(1)),
        quote_ident(&name(0)),
        quote_ident(&name(2))
    );
    assert_exact_round_trip(&conn, &order);
}

#[test]
fn negative_zero_survives_where_sqlite_stores_it() {
    // An untyped (or BLOB, TEXT, NUMERIC-less) column keeps a REAL -0.0 as
    // a REAL; a REAL-affinity column stores integral REALs as integers, so
    // SQLite itself reads a -0.0 stored there back as 0.0.
    let conn = d1_db(
        "CREATE TABLE z(id INTEGER PRIMARY KEY, u, b BLOB, r REAL);
         INSERT INTO z VALUES(1, -0.0, -0.0, -0.0), (2, 0.0, 0.0, 0.0), (3, -0.0 * 1, -1e-320 * 0, NULL);",
    );
    let sign = |conn: &rusqlite::Connection, column: &str| -> Vec<f64> {
        let mut statement = conn
            .prepare(&format!(
                "SELECT atan2({column}, -1.0) FROM z WHERE {column} IS NOT NULL ORDER BY id"
            ))
            .expect("prepare");
        let values = statement
            .query_map([], |r| r.get::<_, f64>(0))
            .expect("query");
        values.map(|v| v.expect("row").signum()).collect()
    };
    assert_eq!(sign(&conn, "u"), [-1.0, 1.0, -1.0]);
    assert_eq!(
        sign(&conn, "r"),
        [1.0, 1.0],
        "SQLite stores -0.0 in a REAL column as 0"
    );
    let dump = assert_exact_round_trip(&conn, "SELECT * FROM z ORDER BY id");
    assert!(dump.contains("(1,-0.0,-0.0,0.0)"), "{dump}");
    let copy = import(&dump);
    assert_eq!(sign(&copy, "u"), [-1.0, 1.0, -1.0]);
    assert_eq!(sign(&copy, "b"), sign(&conn, "b"));
}

/// Dumps `conn` like [`dump_conn`], but fails instead of looping: a dump of
/// a small table that asks for more than `most_queries` queries is stuck.
fn dump_conn_bounded(
    conn: &rusqlite::Connection,
    options: DumpOptions,
    most_queries: usize,
) -> Result<(String, DumpSummary), String> {
    let mut dump = Dump::new(options).expect("dump");
    let mut sql = Vec::new();
    let mut queries = 0;
    let summary = loop {
        match dump.step(&mut sql).map_err(|e| e.to_string())? {
            Step::Query(query) => {
                queries += 1;
                if queries > most_queries {
                    return Err(format!(
                        "more than {most_queries} queries, the last {}: {}",
                        query.context,
                        &query.sql[..query.sql.len().min(400)]
                    ));
                }
                dump.accept(edge_query(conn, &query.sql)).expect("accept");
            }
            Step::Done(summary) => break summary,
        }
    };
    Ok((String::from_utf8(sql).expect("UTF-8"), summary))
}

/// REALs of extreme magnitude (outside 2^-100..2^100) as primary keys:
/// the largest and smallest, subnormals, and the shape the random-schema
/// test hung on, `-7.84e18 * 2^62 * 2^62`.
const EXTREME_REAL_KEYS: [&str; 8] = [
    "-7.84e18*4611686018427387904*4611686018427387904",
    "1e300",
    "1e-310",
    "-1e-310",
    "5e-324",
    "-1.7976931348623157e308",
    "2.2250738585072014e-308",
    "1.2676506002282294e30*2.0000000000000004",
];

#[test]
fn extreme_real_key_literals_select_exactly_their_row() {
    // The page query writes such a key as `(w*2^62*..)` or `(w/2^62/..)`:
    // SQLite must compare that product with the stored key as equal, in
    // every column affinity a REAL keeps its type in, or the page after it
    // would start at it again (or skip rows).
    let mut keys: Vec<String> = EXTREME_REAL_KEYS.iter().map(|k| k.to_string()).collect();
    // And a spread of pseudo-random bit patterns of every extreme exponent.
    let mut state = 0x9e37_79b9_7f4a_7c15u64;
    for _ in 0..400 {
        state ^= state << 13;
        state ^= state >> 7;
        state ^= state << 17;
        let value = f64::from_bits(state);
        if value.is_finite() && !(2f64.powi(-100)..=2f64.powi(100)).contains(&value.abs()) {
            keys.push(format!("{value:e}"));
        }
    }
    assert!(keys.len() > 300, "{} keys", keys.len());
    for declared in ["", "REAL", "NUMERIC", "INTEGER", "ANY"] {
        let conn = d1_db(&format!(
            "CREATE TABLE w(k {declared} PRIMARY KEY, v) WITHOUT ROWID;"
        ));
        for key in &keys {
            conn.execute_batch(&format!("INSERT OR IGNORE INTO w VALUES({key}, 1)"))
                .expect("insert");
        }
        let stored = edge_query(&conn, "SELECT quote(k) FROM w ORDER BY k");
        let literals = edge_query(
            &conn,
            &format!("SELECT {} FROM w ORDER BY k", query::exact_real_expr("k")),
        );
        assert_eq!(stored.len(), literals.len());
        for (stored, literal) in stored.iter().zip(literals) {
            let literal = query::decode_exact_real(literal[0].clone().expect("literal"))
                .expect("well formed");
            let equal = edge_query(
                &conn,
                &format!("SELECT quote(k) FROM w WHERE k = {literal}"),
            );
            assert_eq!(
                equal,
                std::slice::from_ref(stored),
                "{declared:?}: {literal} must name {stored:?}"
            );
        }
    }
}

#[test]
fn split_rows_keyed_by_extreme_reals_under_long_names_finish_and_round_trip() {
    // The hang of the random-schema test: a WITHOUT ROWID table keyed by
    // extreme REALs, rows too large for a 2,000-byte statement, and table
    // and column names so long that the UPDATEs appending pieces left no
    // room for a piece under the target: the pieces query came back NULL
    // and was asked again, forever. Now the pieces use the room under D1's
    // limit, and the dump ends after a bounded number of queries.
    for (table_quotes, column_len, declared) in [
        (499, 500, "REAL"),
        (300, 700, ""),
        (10, 10, "NUMERIC"),
        (950, 1, "ANY"),
    ] {
        let table = format!("t{}", "\"".repeat(table_quotes));
        let column = format!("v{}", "x".repeat(column_len));
        let ident = quote_ident(&table);
        let conn = d1_db(&format!(
            "CREATE TABLE {ident}(\"b c\" {declared}, x, y REAL, {} TEXT, PRIMARY KEY(\"b c\")) WITHOUT ROWID;",
            quote_ident(&column)
        ));
        for (i, key) in EXTREME_REAL_KEYS.iter().enumerate() {
            conn.execute_batch(&format!(
                "INSERT INTO {ident} VALUES({key}, {i}e300 * 10, 2.5, \
                 printf('%.*c', {}, substr('vé''😀', {}, 1)))",
                3_000 + i * 500,
                i % 4 + 1
            ))
            .expect("insert");
        }
        let options = DumpOptions {
            statement_target_bytes: MIN_STATEMENT_TARGET_BYTES,
            page_target_bytes: 3 * MIN_STATEMENT_TARGET_BYTES,
            max_page_rows: 3,
        };
        let (dump, summary) = dump_conn_bounded(&conn, options, 400)
            .unwrap_or_else(|e| panic!("{table_quotes} {column_len}: {e}"));
        assert_eq!(summary.tables[0].rows, EXTREME_REAL_KEYS.len() as u64);
        let copy = import(&dump);
        assert_same(&conn, &copy, &format!("SELECT * FROM {ident} ORDER BY 1"));
    }
}

#[test]
fn a_piece_that_never_comes_back_fails_instead_of_looping() {
    let options = DumpOptions {
        statement_target_bytes: 2_000,
        ..DumpOptions::default()
    };
    let mut pieces_asked = 0;
    let error = try_dump_one_table(options, |query| {
        if query.context.starts_with("rows") {
            return vec![page_row(7, None, 1)];
        }
        if query.context.starts_with("an oversized row") {
            return vec![row(&[Some("integer 1 1 0:7"), Some("text 3000 3000 0")])];
        }
        // Every piece too long for its literal limit, whatever its span.
        pieces_asked += 1;
        assert!(pieces_asked < 100, "the pieces query is asked forever");
        let columns = query.sql.matches("quote(substr(").count() / 2;
        let mut out = vec![Some("text 3000".to_string())];
        out.extend(std::iter::repeat_n(None, columns));
        vec![out]
    })
    .map(|_| ());
    assert!(
        matches!(&error, Err(DumpError::NoProgress { table, .. }) if table == "t"),
        "{error:?}"
    );
}

#[test]
fn a_page_that_starts_at_its_own_key_again_fails_instead_of_looping() {
    // If a key literal did not name its value exactly, the page after it
    // would begin with it again, and so would every later page.
    let options = DumpOptions {
        max_page_rows: 1,
        ..DumpOptions::default()
    };
    let mut pages = 0;
    let error = try_dump_one_table(options, |_| {
        pages += 1;
        assert!(pages < 10, "the same page is asked forever");
        vec![page_row(5, Some("(5,'a')"), 1)]
    })
    .map(|_| ());
    assert!(
        matches!(&error, Err(DumpError::NoProgress { table, .. }) if table == "t"),
        "{error:?}"
    );
    assert_eq!(pages, 2);
}

#[test]
fn values_at_d1_length_limit_stay_under_it_in_every_query() {
    // SQLITE_TOOBIG: no query may build a string or a record over D1's
    // 2,000,000 bytes. The page query's window functions buffer the rows
    // of the level below them: with a row's values there, a text of
    // 1,999,994 bytes (the most a one-value row holds) next to the key
    // was over the limit. Literals of many values each under the tuple
    // budget (BLOBs double in hex) were joined past it too.
    let conn = d1_db(
        "CREATE TABLE huge_text(id INTEGER PRIMARY KEY, t TEXT);
         CREATE TABLE huge_blob(b BLOB);
         CREATE TABLE many(id INTEGER PRIMARY KEY, a BLOB, b BLOB, c BLOB, d BLOB, e BLOB, f BLOB, g BLOB,
           h BLOB, i BLOB, j BLOB, k BLOB, l BLOB, m BLOB, n BLOB, o BLOB, p BLOB, q BLOB, r BLOB, s BLOB,
           t BLOB, u BLOB, v BLOB, w BLOB, x BLOB, y BLOB, z TEXT, z2 TEXT, z3 TEXT, z4 TEXT);
         CREATE TABLE keyed(k TEXT COLLATE NOCASE, n INTEGER, v TEXT, PRIMARY KEY(k, n)) WITHOUT ROWID;",
    );
    let max = crate::d1_limits::MAX_VALUE_BYTES;
    let unit = "0123456789 it's \"x\";\r\n-- ";
    let ascii = |n: usize| {
        let mut s = unit.repeat(n / unit.len() + 1);
        s.truncate(n);
        s
    };
    let largest = |sql: &str, value: &dyn Fn(usize) -> rusqlite::types::Value| {
        let mut n = max;
        while conn.execute(sql, [value(n)]).is_err() {
            n -= 1;
        }
        n
    };
    let text_bytes = largest("INSERT INTO huge_text(id, t) VALUES(1, ?1)", &|n| {
        rusqlite::types::Value::Text(ascii(n))
    });
    assert_eq!(text_bytes, 1_999_994);
    largest("INSERT INTO huge_text(id, t) VALUES(2, ?1)", &|n| {
        let mut s = "é😀東Ü'".repeat(n / 13 + 1);
        while s.len() > n {
            s.pop();
        }
        rusqlite::types::Value::Text(s)
    });
    largest("INSERT INTO huge_blob(rowid, b) VALUES(-3, ?1)", &|n| {
        rusqlite::types::Value::Blob(vec![b'\''; n])
    });
    // 25 BLOBs of 55,000 bytes and 4 texts with CRs: each under the tuple
    // budget, together 3.3 MB as hex literals.
    let blobs = ["zeroblob(55000) || X'01'"; 25].join(", ");
    let texts = ["printf('%.*c', 40000, '''') || char(13)"; 4].join(", ");
    for id in 1..=3 {
        conn.execute_batch(&format!("INSERT INTO many VALUES({id}, {blobs}, {texts})"))
            .expect("insert");
    }
    let mut insert = conn
        .prepare("INSERT INTO keyed VALUES(?1, ?2, ?3)")
        .expect("prepare");
    for (k, n, v) in [
        ("B", 1, ascii(1_900_000)),
        ("a", 2, ascii(10)),
        ("C", 3, ascii(999_999)),
        ("b", 0, "x".repeat(1_999_000)),
    ] {
        insert.execute(rusqlite::params![k, n, v]).expect("insert");
    }
    let (dump, summary) = dump_conn(&conn, DumpOptions::default());
    assert!(summary.largest_statement_bytes < MAX_STATEMENT_BYTES);
    let copy = import(&dump);
    assert_same(&conn, &copy, "SELECT id, t FROM huge_text ORDER BY id");
    assert_same(&conn, &copy, "SELECT rowid, b FROM huge_blob");
    assert_same(&conn, &copy, "SELECT * FROM many ORDER BY id");
    assert_same(&conn, &copy, "SELECT * FROM keyed ORDER BY k, n");
}

#[test]
fn empty_values_of_a_split_row_under_a_long_column_list_are_never_appended_in_pieces() {
    // The hang of the random-schema test: with a column list longer than
    // the 2,000-byte target, no INSERT of a split row (one with an extreme
    // REAL) fits the target, so every TEXT and BLOB was deferred, even the
    // empty ones; no UPDATE fit the target either, so each went to pieces,
    // and an empty value's pieces query asked for no piece, forever.
    let long = "x".repeat(1_000);
    let conn = d1_db(&format!(
        "CREATE TABLE a({} REAL, \"select\" INTEGER, e TEXT, b BLOB, t TEXT);",
        quote_ident(&long)
    ));
    conn.execute_batch(
        "INSERT INTO a VALUES(-2.6569181331333243e-282, 1, '', X'', 'small');
         INSERT INTO a VALUES(NULL, NULL, '', zeroblob(3000), printf('%.*c', 3000, 'é'));
         INSERT INTO a VALUES(1e300, 2, '', X'', printf('%.*c', 2500, ''''));
         INSERT INTO a VALUES(NULL, NULL, NULL, NULL, NULL);",
    )
    .expect("insert");
    let target = MIN_STATEMENT_TARGET_BYTES;
    let options = DumpOptions {
        statement_target_bytes: target,
        page_target_bytes: 3 * target,
        max_page_rows: 2,
    };
    let (dump, summary) = dump_conn_bounded(&conn, options, 100).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(summary.tables[0].rows, 4);
    assert!(
        !dump.contains("\"e\" = \"e\" ||") && !dump.contains("\"b\" = CAST(\"b\" || X'')"),
        "nothing is appended to an empty value"
    );
    let copy = import(&dump);
    assert_same(&conn, &copy, "SELECT rowid, * FROM a ORDER BY rowid");
}
