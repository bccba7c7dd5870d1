//! The state machine's protocol, paging, packing and row splitting, with
//! every query answered by hand.

use super::*;

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
