//! Dumps that must finish, and stay under D1's limits, on hard inputs:
//! extreme REAL keys, pieces or pages that do not come back, values at
//! D1's length limit.

use super::*;

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
