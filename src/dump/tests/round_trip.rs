//! Dumps of D1-like SQLite databases imported back into new ones and
//! compared exactly.

use super::*;

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
