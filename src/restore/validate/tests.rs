use super::*;

fn statement(text: &str, line: u64) -> Statement {
    Statement {
        text: text.into(),
        line,
        bytes: text.len() + 1,
    }
}

/// Validates `texts` in order (statement i on line i + 1).
fn validate(texts: &[&str]) -> (Validator, Vec<Result<Validated, Rejection>>) {
    let mut validator = Validator::new();
    let results = texts
        .iter()
        .zip(1..)
        .map(|(text, line)| validator.check(&statement(text, line)))
        .collect();
    (validator, results)
}

fn kinds(texts: &[&str]) -> Vec<StatementKind> {
    let (_, results) = validate(texts);
    results
        .into_iter()
        .map(|r| r.unwrap_or_else(|e| panic!("{e}")).kind)
        .collect()
}

fn rejection(texts: &[&str]) -> Rejection {
    let (_, results) = validate(texts);
    let last = results.into_iter().last().expect("a statement");
    last.expect_err("the last statement is rejected")
}

#[test]
fn dump_statements_are_classified() {
    use StatementKind::*;
    assert_eq!(
        kinds(&[
            "PRAGMA defer_foreign_keys=ON",
            "PRAGMA foreign_keys = off",
            "BEGIN TRANSACTION",
            "CREATE TABLE \"t\"(id INTEGER PRIMARY KEY, v)",
            "CREATE TABLE IF NOT EXISTS w(a PRIMARY KEY) WITHOUT ROWID",
            "CREATE VIRTUAL TABLE docs USING fts5(body)",
            "INSERT INTO \"t\"(\"id\",\"v\") VALUES(1,'a'),(2,-2.5e3),(3,X'00ff'),(4,NULL)",
            "INSERT INTO \"t\"(\"id\",\"v\") VALUES(5,'')",
            "UPDATE \"t\" SET \"v\" = \"v\" || 'piece' || char(13) || '' WHERE \"id\" = 5",
            "UPDATE \"t\" SET \"v\" = CAST(\"v\" || X'00' AS BLOB) WHERE \"id\" = 5",
            "INSERT INTO \"docs\"(rowid,\"body\") VALUES(1,'x')",
            "INSERT INTO \"docs\"(\"docs\") VALUES('rebuild')",
            "CREATE UNIQUE INDEX i ON t(v)",
            "CREATE VIEW v AS SELECT * FROM t",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO w VALUES(1); END",
            "DELETE FROM sqlite_sequence",
            "INSERT INTO sqlite_sequence(name,seq) VALUES('t',1000)",
            "COMMIT",
            "END TRANSACTION",
        ]),
        [
            DeferForeignKeys,
            ForeignKeys,
            Begin,
            CreateTable,
            CreateTable,
            CreateFts5Table,
            Insert,
            Insert,
            UpdateRow,
            UpdateRow,
            Insert,
            Fts5Rebuild,
            CreateIndex,
            CreateView,
            CreateTrigger,
            DeleteSequence,
            InsertSequence,
            Commit,
            Commit,
        ]
    );
}

#[test]
fn skipped_kinds_run_nothing_and_others_run_as_written() {
    let (_, results) = validate(&[
        "BEGIN",
        "PRAGMA defer_foreign_keys = true",
        "CREATE TABLE t(a)",
    ]);
    let results: Vec<Validated> = results.into_iter().map(|r| r.expect("allowed")).collect();
    assert!(results[0].statements.is_empty() && results[1].statements.is_empty());
    assert_eq!(
        results[2].statements,
        [PlannedStatement {
            sql: "CREATE TABLE t(a)".into(),
            params: vec![],
            line: 3
        }]
    );
}

#[test]
fn the_summary_counts_rows_and_names_objects_in_order() {
    let (validator, results) = validate(&[
        "CREATE TABLE a(x)",
        "CREATE TABLE \"B\"\"q\"(y) WITHOUT ROWID",
        "CREATE TABLE content(id INTEGER PRIMARY KEY, body)",
        "CREATE VIRTUAL TABLE own USING fts5(body)",
        "CREATE VIRTUAL TABLE ext USING fts5(body, content='Content', content_rowid='id')",
        "CREATE VIRTUAL TABLE over_view USING fts5(body, content=\"v\")",
        "INSERT INTO a VALUES(1),(2),('(3),(4)')",
        "INSERT INTO [b\"q] VALUES(replace('a,b', ',', char(10)))",
        "INSERT INTO content VALUES(1, 'x'), (2, 'y')",
        "INSERT INTO own(rowid, body) VALUES(1, 'x'), (2, 'y'), (3, 'z')",
        "INSERT INTO ext(ext) VALUES('rebuild')",
        "CREATE INDEX i1 ON a(x)",
        "CREATE TRIGGER t1 AFTER INSERT ON a BEGIN SELECT 1; END",
        "CREATE VIEW v AS SELECT 1",
        "CREATE INDEX i2 ON content(body)",
    ]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let summary = validator.finish();
    let tables: Vec<(&str, TableKind, u64)> = summary
        .tables
        .iter()
        .map(|t| (t.name.as_str(), t.kind, t.rows))
        .collect();
    assert_eq!(
        tables,
        [
            ("a", TableKind::Table, 3),
            ("B\"q", TableKind::WithoutRowid, 1),
            ("content", TableKind::Table, 2),
            ("own", TableKind::Fts5, 3),
            ("ext", TableKind::Fts5, 2),
            ("over_view", TableKind::Fts5, 0),
        ]
    );
    assert_eq!(summary.uncounted_tables, ["over_view"]);
    assert_eq!(summary.indexes, ["i1", "i2"]);
    assert_eq!(summary.triggers, ["t1"]);
    assert_eq!(summary.views, ["v"]);
    assert_eq!(summary.statements, 15);
    assert_eq!(
        summary.largest_statement_bytes,
        "CREATE VIRTUAL TABLE ext USING fts5(body, content='Content', content_rowid='id')".len()
            + 2
    );
}

#[test]
fn the_schema_hash_is_the_dumps() {
    let schema = [
        (
            "table",
            "t",
            "t",
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v)",
        ),
        ("index", "t_v", "t", "CREATE INDEX t_v ON t(v)"),
        (
            "table",
            "u",
            "u",
            "CREATE TABLE u(a TEXT PRIMARY KEY) WITHOUT ROWID",
        ),
        ("view", "w", "w", "CREATE VIEW w AS SELECT * FROM t"),
        (
            "trigger",
            "tr",
            "t",
            "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
        ),
    ];
    let rows = schema
        .iter()
        .map(|(k, n, t, s)| {
            vec![
                Some(k.to_string()),
                Some(n.to_string()),
                Some(t.to_string()),
                Some(s.to_string()),
            ]
        })
        .collect();
    let expected = crate::dump::schema_sha256(rows).expect("hash");
    // In dump order: the tables first, then the other objects.
    let (validator, results) = validate(&[
        schema[0].3,
        schema[2].3,
        schema[1].3,
        schema[3].3,
        schema[4].3,
    ]);
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(validator.finish().schema_sha256, expected);
}

#[test]
fn updates_must_complete_the_row_just_inserted() {
    let create = "CREATE TABLE t(id INTEGER PRIMARY KEY, v)";
    let update = "UPDATE \"t\" SET \"v\" = \"v\" || 'x' WHERE \"id\" = 1";
    let out_of_place = RejectReason::UpdateOutOfPlace { table: "t".into() };
    assert_eq!(rejection(&[create, update]).reason, out_of_place);
    assert_eq!(
        rejection(&[create, "INSERT INTO t VALUES(1,''),(2,'')", update]).reason,
        out_of_place
    );
    assert_eq!(
        rejection(&[
            create,
            "CREATE TABLE u(a)",
            "INSERT INTO u VALUES(1)",
            update
        ])
        .reason,
        out_of_place,
        "after a row of another table"
    );
    let rejected = rejection(&[
        create,
        "INSERT INTO t VALUES(1,'')",
        "CREATE INDEX i ON t(v)",
        update,
    ]);
    assert_eq!((rejected.line, rejected.reason), (4, out_of_place));
    // The forms the dump writes, one after another.
    assert!(kinds(&[
        create,
        "INSERT INTO t VALUES(-7,'')",
        "UPDATE \"t\" SET \"v\" = 'whole', \"id\" = -7 WHERE rowid = -7",
        "UPDATE \"t\" SET \"v\" = CAST(X'00' AS TEXT) WHERE \"id\" = -7",
        "UPDATE \"t\" SET \"v\" = CAST(\"v\" || 'ab' AS BLOB) WHERE \"id\" = -7",
        "UPDATE \"t\" SET \"v\" = CAST(\"v\" || 'cd' AS TEXT) WHERE \"id\" = -7",
        "UPDATE \"t\" SET \"v\" = \"v\" || X'6566' WHERE \"id\" = -7",
        "UPDATE \"t\" SET \"v\" = \"v\" || CAST(X'0d' AS TEXT) WHERE oid = -7",
    ])
    .iter()
    .skip(1)
    .all(|k| matches!(k, StatementKind::Insert | StatementKind::UpdateRow)));
}

#[test]
fn updates_must_name_the_inserted_row_by_its_key() {
    let other_row = |table: &str| RejectReason::UpdateOtherRow {
        table: table.into(),
    };
    // A rowid table with an INTEGER PRIMARY KEY alias.
    let alias = [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w)",
        "INSERT INTO \"t\"(\"id\",\"v\",\"w\") VALUES(5,'',1)",
    ];
    for update in [
        "UPDATE t SET v = v || 'x' WHERE id = 6",
        "UPDATE t SET v = v || 'x' WHERE rowid = 4",
        "UPDATE t SET v = v || 'x' WHERE w = 1",
        "UPDATE t SET v = v || 'x' WHERE id = 5 AND w = 1",
        "UPDATE t SET v = v || 'x' WHERE id = 5 AND id = 5",
        "UPDATE t SET v = 'x', id = 6 WHERE id = 5",
    ] {
        assert_eq!(
            rejection(&[alias[0], alias[1], update]).reason,
            other_row("t"),
            "{update}"
        );
    }
    for update in [
        "UPDATE t SET v = v || 'x' WHERE id = 5",
        "UPDATE t SET v = v || 'x' WHERE _rowid_ = 5",
        "UPDATE t SET v = 'x', \"ID\" = 5 WHERE \"RowId\" = 5",
    ] {
        assert_eq!(
            kinds(&[alias[0], alias[1], update])[2],
            StatementKind::UpdateRow,
            "{update}"
        );
    }
    // The dump's explicit rowid column of a table without an alias; a
    // column named oid takes that name from the rowid.
    let rowid = [
        "CREATE TABLE r(oid TEXT, v)",
        "INSERT INTO r(rowid, oid, v) VALUES(-3, 'x', '')",
    ];
    assert_eq!(
        kinds(&[
            rowid[0],
            rowid[1],
            "UPDATE r SET v = v || 'y' WHERE rowid = -3"
        ])[2],
        StatementKind::UpdateRow
    );
    assert_eq!(
        rejection(&[
            rowid[0],
            rowid[1],
            "UPDATE r SET v = v || 'y' WHERE oid = 'x'"
        ])
        .reason,
        other_row("r")
    );
    assert_eq!(
        rejection(&[
            rowid[0],
            rowid[1],
            "UPDATE r SET v = v || 'y' WHERE rowid = 3"
        ])
        .reason,
        other_row("r")
    );
    // A rowid SQLite assigns itself is not known: no UPDATE names it.
    assert_eq!(
        rejection(&[
            "CREATE TABLE n(v)",
            "INSERT INTO n(v) VALUES('')",
            "UPDATE n SET v = v || 'y' WHERE rowid = 1"
        ])
        .reason,
        other_row("n")
    );
    // INTEGER PRIMARY KEY DESC is no alias.
    assert_eq!(
        rejection(&[
            "CREATE TABLE d(id INTEGER PRIMARY KEY DESC, v)",
            "INSERT INTO d(id, v) VALUES(1, '')",
            "UPDATE d SET v = v || 'y' WHERE id = 1"
        ])
        .reason,
        other_row("d")
    );
    // WITHOUT ROWID: every primary key column, with the INSERT's values,
    // also for an INSERT without a column list (generated columns skipped).
    let pk = [
        "CREATE TABLE w(a TEXT, g INT GENERATED ALWAYS AS (1), b INT, v, PRIMARY KEY (b, a)) WITHOUT ROWID",
        "INSERT INTO w VALUES('k''s', -2, X'')",
    ];
    for update in [
        "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE \"a\" = 'k''s' AND \"b\" = -2",
        "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE b = -2 AND a = 'k''s'",
        // The dump's balanced AND tree, and its hex TEXT keys.
        "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE (\"a\" = 'k''s' AND \"b\" = -2)",
        "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE (a = 'k''s') AND ((b = -2))",
    ] {
        assert_eq!(
            kinds(&[pk[0], pk[1], update])[2],
            StatementKind::UpdateRow,
            "{update}"
        );
    }
    for update in [
        "UPDATE w SET v = X'00' WHERE a = 'k''s'",
        "UPDATE w SET v = X'00' WHERE a = 'k''s' AND b = 2",
        "UPDATE w SET v = X'00' WHERE a = 'k''s' AND b = -2 AND v = X''",
        "UPDATE w SET v = X'00' WHERE rowid = 1",
        "UPDATE w SET v = X'00' WHERE (a = 'k''s' AND (b = 2))",
    ] {
        assert_eq!(
            rejection(&[pk[0], pk[1], update]).reason,
            other_row("w"),
            "{update}"
        );
    }
    // A condition that is no conjunction of equalities is no dump's form.
    assert_eq!(
        rejection(&[
            pk[0],
            pk[1],
            "UPDATE w SET v = X'00' WHERE (a = 'k''s' AND b = -2) OR b = 1"
        ])
        .reason,
        RejectReason::UpdateForm
    );
    // FTS5 rows by rowid.
    assert_eq!(
        kinds(&[
            "CREATE VIRTUAL TABLE f USING fts5(body)",
            "INSERT INTO \"f\"(rowid,\"body\") VALUES(9,'')",
            "UPDATE \"f\" SET \"body\" = \"body\" || 'x' WHERE rowid = 9",
        ])[2],
        StatementKind::UpdateRow
    );
}

#[test]
fn other_updates_are_refused() {
    let prefix = [
        "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w)",
        "INSERT INTO t VALUES(1,'',2)",
    ];
    for update in [
        "UPDATE t SET v = w WHERE id = 1",
        "UPDATE t SET v = v || w WHERE id = 1",
        "UPDATE t SET v = w || 'x' WHERE id = 1",
        "UPDATE t SET v = 'x'",
        "UPDATE t SET v = 'x' WHERE id > 1",
        "UPDATE t SET v = 'x' WHERE id = 1 OR 1 = 1",
        "UPDATE t SET v = CAST(w || 'x' AS BLOB) WHERE id = 1",
        "UPDATE t SET v = CAST(v || 'x' AS INTEGER) WHERE id = 1",
        "UPDATE t SET v = (SELECT 1) WHERE id = 1",
        "UPDATE t SET v = 'x' WHERE id = 1 RETURNING *",
    ] {
        let rejected = rejection(&[prefix[0], prefix[1], update]);
        assert_eq!(rejected.reason, RejectReason::UpdateForm, "{update}");
        assert_eq!(rejected.kind_found, "UPDATE t", "{update}");
    }
    assert_eq!(
        rejection(&[prefix[0], prefix[1], "UPDATE OR REPLACE t SET v = 1"]).reason,
        RejectReason::ConflictClause
    );
}

#[test]
fn values_must_be_literals() {
    let create = "CREATE TABLE t(a, b)";
    for (values, found) in [
        ("VALUES((SELECT 1), 2)", "SELECT"),
        ("VALUES(a, 2)", "a"),
        ("VALUES(?1, 2)", "?1"),
        ("VALUES(:x, 2)", ":x"),
        ("VALUES(randomblob(9), 2)", "randomblob"),
        ("VALUES(\"quoted\", 2)", "\"quoted\""),
        ("VALUES(X'0', 2)", "X'0'"),
        ("VALUES(12abc, 2)", "12abc"),
        ("VALUES(1 < 2, 2)", "<"),
    ] {
        let rejected = rejection(&[create, &format!("INSERT INTO t {values}")]);
        assert_eq!(
            rejected.reason,
            RejectReason::NotLiteral {
                found: found.into()
            },
            "{values}"
        );
    }
    assert_eq!(
        kinds(&[
            create,
            "INSERT INTO t VALUES(-1, +2.5), (CAST(X'41' AS TEXT), 9.0e+999), ('a' || char(13,10), 0x1F)"
        ])[1],
        StatementKind::Insert
    );
}

#[test]
fn inserts_need_a_table_of_the_dump_and_plain_values() {
    assert_eq!(
        rejection(&["INSERT INTO t VALUES(1)"]).reason,
        RejectReason::UnknownTable { table: "t".into() }
    );
    assert_eq!(
        rejection(&["CREATE VIEW t AS SELECT 1", "INSERT INTO t VALUES(1)"]).reason,
        RejectReason::UnknownTable { table: "t".into() }
    );
    let create = "CREATE TABLE t(a)";
    assert_eq!(
        rejection(&[create, "INSERT INTO t SELECT 1"]).reason,
        RejectReason::NotValues
    );
    assert_eq!(
        rejection(&[create, "INSERT INTO t DEFAULT VALUES"]).reason,
        RejectReason::NotValues
    );
    assert_eq!(
        rejection(&[create, "INSERT INTO t VALUES(1) ON CONFLICT DO NOTHING"]).reason,
        RejectReason::ConflictClause
    );
    assert_eq!(
        rejection(&[create, "INSERT INTO t VALUES(1) RETURNING a"]).reason,
        RejectReason::ConflictClause
    );
    assert_eq!(
        rejection(&[create, "INSERT OR IGNORE INTO t VALUES(1)"]).kind_found,
        "INSERT OR IGNORE INTO"
    );
    assert_eq!(
        rejection(&[create, "REPLACE INTO t VALUES(1)"]).reason,
        RejectReason::ConflictClause
    );
    assert!(matches!(
        rejection(&[create, "INSERT INTO t VALUES(1) x"]).reason,
        RejectReason::Malformed(_)
    ));
    assert!(matches!(
        rejection(&[create, "INSERT INTO t VALUES(1"]).reason,
        RejectReason::Malformed(_)
    ));
    assert_eq!(
        rejection(&[create, "INSERT INTO aux.t VALUES(1)"]).reason,
        RejectReason::OtherSchema {
            schema: "aux".into()
        }
    );
    assert_eq!(
        kinds(&[create, "INSERT INTO main.T VALUES(1)"])[1],
        StatementKind::Insert
    );
}

#[test]
fn fts5_commands_other_than_rebuild_are_refused() {
    let create = "CREATE VIRTUAL TABLE f USING fts5(x)";
    for insert in [
        "INSERT INTO f(f) VALUES('optimize')",
        "INSERT INTO f(f, rank) VALUES('rank', 'bm25(10.0)')",
        "INSERT INTO f(f) VALUES('rebuild'), ('rebuild')",
    ] {
        assert!(
            matches!(
                rejection(&[create, insert]).reason,
                RejectReason::Fts5Command { .. }
            ),
            "{insert}"
        );
    }
    assert_eq!(
        rejection(&["CREATE VIRTUAL TABLE r USING rtree(id, a, b)"]).reason,
        RejectReason::VirtualModule {
            module: "rtree".into()
        }
    );
}

#[test]
fn pragma_values_are_checked() {
    assert_eq!(
        rejection(&["PRAGMA defer_foreign_keys = off"]).reason,
        RejectReason::PragmaValue {
            name: "defer_foreign_keys".into(),
            value: "= off".into()
        }
    );
    assert!(matches!(
        rejection(&["PRAGMA foreign_keys"]).reason,
        RejectReason::PragmaValue { .. }
    ));
    assert_eq!(
        kinds(&[
            "PRAGMA foreign_keys('0')",
            "PRAGMA \"defer_foreign_keys\" = 1"
        ])
        .len(),
        2
    );
    assert_eq!(
        rejection(&["PRAGMA main.foreign_keys = 0"]).reason,
        RejectReason::Pragma {
            name: "main.foreign_keys".into()
        }
    );
}

#[test]
fn triggers_on_or_writing_internal_tables_are_refused() {
    let create = "CREATE TABLE t(a)";
    for trigger in [
        "CREATE TRIGGER x AFTER INSERT ON _cf_KV BEGIN SELECT 1; END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO sqlite_stat1 VALUES(1,2,3); END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE OR IGNORE \"_cf_METADATA\" SET a = 1; END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM sqlite_sequence; END",
    ] {
        assert!(
            matches!(
                rejection(&[create, trigger]).reason,
                RejectReason::InternalTable { .. }
            ),
            "{trigger}"
        );
    }
    assert!(matches!(
        rejection(&["CREATE INDEX i ON sqlite_stat1(tbl)"]).reason,
        RejectReason::InternalTable { .. }
    ));
}

#[test]
fn schema_qualified_names_are_resolved_and_other_schemas_refused() {
    let create = "CREATE TABLE t(a)";
    for trigger in [
        "CREATE TRIGGER x AFTER INSERT ON main._cf_KV BEGIN SELECT 1; END",
        "CREATE TRIGGER x AFTER INSERT ON \"main\".\"_CF_kv\" BEGIN SELECT 1; END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO main.sqlite_stat1 VALUES(1,2,3); END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE OR IGNORE [main].\"_cf_METADATA\" SET a = 1; END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM main . sqlite_sequence; END",
        "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO main._d1vault_progress VALUES(1); END",
    ] {
        assert!(matches!(rejection(&[create, trigger]).reason, RejectReason::InternalTable { .. }), "{trigger}");
    }
    assert_eq!(
        rejection(&[
            create,
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO aux.u VALUES(1); END"
        ])
        .reason,
        RejectReason::OtherSchema {
            schema: "aux".into()
        }
    );
    assert_eq!(
        rejection(&[
            create,
            "CREATE TRIGGER x AFTER INSERT ON temp.t BEGIN SELECT 1; END"
        ])
        .reason,
        RejectReason::Temporary
    );
    assert!(matches!(
        rejection(&["CREATE INDEX i ON \"main\".sqlite_stat1(tbl)"]).reason,
        RejectReason::InternalTable { .. }
    ));
    assert!(matches!(
        rejection(&["CREATE TABLE main._d1vault_progress(n)"]).reason,
        RejectReason::InternalTable { .. }
    ));
    assert_eq!(
        kinds(&[
            create,
            "CREATE TRIGGER main.x AFTER INSERT ON main.t BEGIN INSERT INTO \"main\".t VALUES(1); END",
            "DELETE FROM main.sqlite_sequence",
        ])[1..],
        [StatementKind::CreateTrigger, StatementKind::DeleteSequence]
    );
}

#[test]
fn the_check_constraint_pragmas_of_a_dump_are_accepted_and_skipped() {
    let (_, results) = validate(&[
        "PRAGMA defer_foreign_keys=ON",
        "PRAGMA ignore_check_constraints=ON",
        "PRAGMA ignore_check_constraints = OFF",
    ]);
    for result in results {
        let validated = result.expect("allowed");
        assert!(validated.statements.is_empty());
    }
    assert_eq!(
        kinds(&["PRAGMA ignore_check_constraints=ON"]),
        [StatementKind::IgnoreCheckConstraints]
    );
    assert!(matches!(
        rejection(&["PRAGMA ignore_check_constraints = maybe"]).reason,
        RejectReason::PragmaValue { .. }
    ));
}

#[test]
fn contentless_and_view_content_fts5_tables_are_named_in_the_summary() {
    let (validator, results) = validate(&[
        "CREATE VIRTUAL TABLE idx USING fts5(body, content='')",
        "CREATE VIEW v AS SELECT 1 AS body",
        "CREATE VIRTUAL TABLE over_view USING fts5(body, content='v')",
        "INSERT INTO over_view(over_view) VALUES('rebuild')",
    ]);
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let summary = validator.finish();
    assert_eq!(summary.contentless_tables, ["idx"]);
    assert_eq!(summary.uncounted_tables, ["over_view"]);
    assert_eq!(
        summary.tables.iter().map(|t| t.rows).collect::<Vec<_>>(),
        [0, 0]
    );
}

#[test]
fn oversized_inserts_are_rewritten_or_refused() {
    let big = "x".repeat(MAX_STATEMENT_BYTES);
    let (_, results) = validate(&[
        "CREATE TABLE t(a, b)",
        &format!("INSERT INTO t VALUES(1, '{big}')"),
    ]);
    let validated = results.into_iter().last().expect("two").expect("rewritten");
    assert_eq!(validated.statements.len(), 1);
    assert_eq!(validated.statements[0].sql, "INSERT INTO t VALUES(1, ?1)");

    let view = format!("CREATE VIEW v AS SELECT '{big}'");
    let rejected = rejection(&["CREATE TABLE t(a)", &view]);
    assert_eq!(
        rejected.reason,
        RejectReason::TooLarge { bytes: view.len() }
    );
    let numbers = vec!["1"; MAX_STATEMENT_BYTES / 2].join(",");
    let rejected = rejection(&[
        "CREATE TABLE t(a)",
        &format!("INSERT INTO t VALUES({numbers})"),
    ]);
    assert!(
        matches!(
            rejected.reason,
            RejectReason::CannotFit {
                error: FitError::StillTooLarge { .. },
                ..
            }
        ),
        "{rejected}"
    );
}

#[test]
fn rejections_read_as_the_operator_needs_them() {
    let rejected = rejection(&["SELECT 1;", "DROP TABLE IF EXISTS t"]);
    assert_eq!(
        rejected.to_string(),
        "line 2: DROP TABLE IF EXISTS is not allowed in a restore: a dump only creates objects; \
             the restore itself drops the existing ones before the import"
    );
}
