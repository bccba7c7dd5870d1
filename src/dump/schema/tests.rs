use super::*;

fn row(kind: &str, name: &str, tbl: &str, sql: Option<&str>) -> Row {
    vec![
        Some(kind.into()),
        Some(name.into()),
        Some(tbl.into()),
        sql.map(str::to_string),
    ]
}

#[test]
fn table_options_are_read_after_the_column_list() {
    assert_eq!(
        table_options("CREATE TABLE t(a, b)"),
        TableOptions::default()
    );
    let o = table_options(
        "CREATE TABLE \"without rowid\"(a PRIMARY KEY, 'strict' TEXT) STRICT, WITHOUT ROWID",
    );
    assert!(o.without_rowid && o.strict && !o.autoincrement);
    let o = table_options("CREATE TABLE t(a TEXT DEFAULT 'WITHOUT ROWID', b CHECK (b IN ('x)', 'y')) -- WITHOUT ROWID\n)");
    assert_eq!(o, TableOptions::default());
    let o = table_options(
        "CREATE TABLE t(id INTEGER PRIMARY KEY AUTOINCREMENT, \"AUTOINCREMENT\" TEXT)",
    );
    assert!(o.autoincrement);
    let o =
        table_options("CREATE TABLE t(id INTEGER PRIMARY KEY, note TEXT DEFAULT 'AUTOINCREMENT')");
    assert!(!o.autoincrement);
}

#[test]
fn shadow_tables_need_their_fts5_table() {
    let fts = ["docs", "Notes"];
    assert!(is_fts5_shadow("docs_data", &fts));
    assert!(is_fts5_shadow("docs_config", &fts));
    assert!(is_fts5_shadow("notes_IDX", &fts));
    assert!(!is_fts5_shadow("docs_datax", &fts));
    assert!(!is_fts5_shadow("other_data", &fts));
    assert!(!is_fts5_shadow("docs_", &fts));
    assert!(!is_fts5_shadow("docs_content", &[]));
}

#[test]
fn classify_skips_internal_shadow_and_autoindex_entries() {
    let rows = vec![
        row(
            "table",
            "users",
            "users",
            Some("CREATE TABLE users(id INTEGER PRIMARY KEY AUTOINCREMENT, e)"),
        ),
        row("index", "sqlite_autoindex_users_1", "users", None),
        row(
            "table",
            "sqlite_sequence",
            "sqlite_sequence",
            Some("CREATE TABLE sqlite_sequence(name,seq)"),
        ),
        row(
            "table",
            "_cf_KV",
            "_cf_KV",
            Some("CREATE TABLE _cf_KV(key TEXT PRIMARY KEY, value BLOB) WITHOUT ROWID"),
        ),
        row(
            "index",
            "cf_idx",
            "_cf_KV",
            Some("CREATE INDEX cf_idx ON _cf_KV(value)"),
        ),
        row(
            "table",
            "docs",
            "docs",
            Some("CREATE VIRTUAL TABLE docs USING fts5(title, body)"),
        ),
        row(
            "table",
            "docs_data",
            "docs_data",
            Some("CREATE TABLE 'docs_data'(id INTEGER PRIMARY KEY, block BLOB)"),
        ),
        row(
            "table",
            "docs_config",
            "docs_config",
            Some("CREATE TABLE 'docs_config'(k PRIMARY KEY, v) WITHOUT ROWID"),
        ),
        row(
            "table",
            "ext",
            "ext",
            Some("CREATE VIRTUAL TABLE ext USING fts5(e, content='users', content_rowid='id')"),
        ),
        row(
            "table",
            "sqlite_stat1",
            "sqlite_stat1",
            Some("CREATE TABLE sqlite_stat1(tbl,idx,stat)"),
        ),
        row("view", "v", "v", Some("CREATE VIEW v AS SELECT 1")),
        row(
            "trigger",
            "tr",
            "users",
            Some("CREATE TRIGGER tr AFTER INSERT ON users BEGIN SELECT 1; END"),
        ),
        row(
            "table",
            "other_data",
            "other_data",
            Some("CREATE TABLE other_data(x)"),
        ),
    ];
    let schema = classify(rows).unwrap();
    let names: Vec<&str> = schema.tables.iter().map(|t| t.name.as_str()).collect();
    assert_eq!(names, ["users", "docs", "ext", "other_data"]);
    assert_eq!(schema.tables[1].class, TableClass::Fts5);
    assert_eq!(schema.tables[2].class, TableClass::Fts5External);
    let objects: Vec<&str> = schema.objects.iter().map(|o| o.name.as_str()).collect();
    assert_eq!(objects, ["v", "tr"]);
    assert!(schema.autoincrement);
    assert_eq!(schema.sha256().len(), 64);
}

#[test]
fn contentless_fts5_is_recognised_and_other_modules_are_refused() {
    for sql in [
        "CREATE VIRTUAL TABLE c USING fts5(x, content = '')",
        "CREATE VIRTUAL TABLE c USING fts5(x, CONTENT=\"\", contentless_delete=1)",
    ] {
        let schema = classify(vec![row("table", "c", "c", Some(sql))]).unwrap();
        assert_eq!(schema.tables[0].class, TableClass::Fts5Contentless, "{sql}");
    }
    let err = classify(vec![row(
        "table",
        "r",
        "r",
        Some("CREATE VIRTUAL TABLE r USING rtree(id, x0, x1)"),
    )]);
    assert_eq!(
        err,
        Err(DumpError::UnsupportedVirtualTable {
            table: "r".into(),
            module: "rtree".into()
        })
    );
    // A column named content is not the content option.
    let ok = classify(vec![row(
        "table",
        "d",
        "d",
        Some("CREATE VIRTUAL TABLE d USING fts5(content, tokenize='porter')"),
    )]);
    assert_eq!(ok.unwrap().tables[0].class, TableClass::Fts5);
}

#[test]
fn affinity_follows_sqlite_rules() {
    assert_eq!(affinity("INTEGER"), Affinity::Integer);
    assert_eq!(affinity("BIGINT"), Affinity::Integer);
    assert_eq!(affinity("VARCHAR(10)"), Affinity::Text);
    assert_eq!(affinity(""), Affinity::Blob);
    assert_eq!(affinity("DOUBLE PRECISION"), Affinity::Real);
    assert_eq!(affinity("DECIMAL(10,2)"), Affinity::Numeric);
    assert_eq!(affinity("ANY"), Affinity::Numeric);
    assert_eq!(affinity("POINT"), Affinity::Integer); // contains "INT"
}

fn column(cid: i64, name: &str, decl: &str, pk: i64, hidden: i64) -> XColumn {
    XColumn {
        cid,
        name: name.into(),
        decl_type: decl.into(),
        pk,
        hidden,
    }
}

fn regular(without_rowid: bool) -> TableDef {
    TableDef {
        name: "t".into(),
        sql: String::new(),
        class: TableClass::Regular {
            without_rowid,
            strict: false,
        },
    }
}

#[test]
fn rowid_alias_explicit_rowid_and_primary_key_shapes() {
    let alias = Inspection {
        columns: vec![column(0, "id", "integer", 1, 0), column(1, "g", "", 0, 2)],
        ..Default::default()
    };
    let shape = table_shape(&regular(false), &alias).unwrap();
    assert_eq!(
        shape.key,
        KeyShape::Rowid {
            expr: "\"id\"".into()
        }
    );
    assert_eq!(shape.columns.len(), 1);

    // INTEGER PRIMARY KEY DESC has its own index and is not an alias.
    let desc = Inspection {
        pk_index: true,
        ..alias.clone()
    };
    let shape = table_shape(&regular(false), &desc).unwrap();
    assert_eq!(
        shape.key,
        KeyShape::Rowid {
            expr: "rowid".into()
        }
    );
    assert_eq!(shape.columns[0].sql_name, "rowid");

    let taken = Inspection {
        columns: vec![
            column(0, "ROWID", "TEXT", 0, 0),
            column(1, "_rowid_", "INT", 0, 0),
        ],
        ..Default::default()
    };
    let shape = table_shape(&regular(false), &taken).unwrap();
    assert_eq!(shape.key, KeyShape::Rowid { expr: "oid".into() });
    assert!(shape.columns[2].numeric_affinity);

    let all = Inspection {
        columns: vec![
            column(0, "rowid", "", 0, 0),
            column(1, "_rowid_", "", 0, 0),
            column(2, "OID", "", 0, 0),
        ],
        ..Default::default()
    };
    assert_eq!(
        table_shape(&regular(false), &all),
        Err(DumpError::RowidUnreachable { table: "t".into() })
    );

    let composite = Inspection {
        columns: vec![
            column(0, "a", "TEXT", 2, 0),
            column(1, "b", "INT", 1, 0),
            column(2, "c", "", 0, 0),
        ],
        pk_index: true,
        ..Default::default()
    };
    let shape = table_shape(&regular(true), &composite).unwrap();
    assert_eq!(
        shape.key,
        KeyShape::PrimaryKey {
            columns: vec![1, 0]
        }
    );
}

#[test]
fn parents_come_first_and_cycles_fall_back_to_schema_order() {
    let names = ["child", "parent", "grand"];
    let parents = vec![
        vec!["PARENT".to_string()],
        vec!["grand".to_string()],
        vec![],
    ];
    assert_eq!(parents_first(&names, &parents), (vec![2, 1, 0], vec![]));

    let names = ["a", "b", "c", "selfref"];
    let parents = vec![
        vec!["b".into()],
        vec!["a".into()],
        vec![],
        vec!["selfref".into(), "missing".into()],
    ];
    let (order, fallback) = parents_first(&names, &parents);
    assert_eq!(order, vec![2, 3, 0, 1]);
    assert_eq!(fallback, vec![0, 3]);
}
