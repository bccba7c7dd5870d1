//! Random tables (random declared types, values of every storage class,
//! random row and column counts) round-trip through dump -> sqlite3 import
//! -> equal `.dump` and exact contents, with small statement and page
//! targets so rows are packed, split and paged in many ways.

#[path = "dump/harness.rs"]
mod harness;

use d1_vault::dump::DumpOptions;
use harness::*;
use proptest::prelude::*;
use rusqlite::types::Value;
use rusqlite::Connection;

const DECLARED_TYPES: [&str; 8] = [
    "INTEGER",
    "TEXT",
    "REAL",
    "BLOB",
    "NUMERIC",
    "",
    "ANY",
    "VARCHAR(5)",
];
const NAMES: [&str; 10] = [
    "a",
    "select",
    "we\"ird",
    "naïve col",
    "b c",
    "rowid",
    "😀",
    "order",
    "x",
    "Ünï",
];

#[derive(Debug, Clone)]
struct Table {
    without_rowid: bool,
    columns: Vec<&'static str>,
    explicit_rowids: bool,
    rows: Vec<(i64, Vec<Value>)>,
}

fn value() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<i64>().prop_map(Value::Integer),
        prop_oneof![Just(i64::MAX), Just(i64::MIN), Just(0), Just((1 << 53) + 1)]
            .prop_map(Value::Integer),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::Real),
        (-1e6..1e6f64).prop_map(Value::Real),
        prop_oneof![
            Just(0.1),
            Just(1e308),
            Just(5e-324),
            Just(-1e-310),
            Just(1.0),
            Just(f64::INFINITY)
        ]
        .prop_map(Value::Real),
        ".{0,40}".prop_map(Value::Text),
        "[a-z'\"\\r\\n\\t ;-]{0,30}".prop_map(Value::Text),
        "[0-9. e+-]{0,8}".prop_map(Value::Text),
        proptest::collection::vec(any::<u8>(), 0..40).prop_map(Value::Blob),
        (0usize..3_000, any::<char>()).prop_map(|(n, c)| Value::Text(c.to_string().repeat(n))),
        (0usize..4_000, any::<u8>()).prop_map(|(n, b)| Value::Blob(vec![b; n])),
    ]
}

fn table() -> impl Strategy<Value = Table> {
    (1usize..=10, any::<bool>(), any::<bool>(), 0usize..40).prop_flat_map(
        |(columns, without_rowid, explicit_rowids, rows)| {
            let names = proptest::sample::subsequence(NAMES.to_vec(), columns);
            let rows = proptest::collection::vec(
                (1i64..1_000_000, proptest::collection::vec(value(), columns)),
                rows,
            );
            (names, rows).prop_map(move |(columns, rows)| Table {
                without_rowid,
                columns,
                explicit_rowids,
                rows,
            })
        },
    )
}

fn create(path: &std::path::Path, table: &Table, types: &[&str]) {
    let conn = Connection::open(path).expect("create");
    let columns: Vec<String> = table
        .columns
        .iter()
        .zip(types)
        .map(|(name, declared)| format!("\"{}\" {declared}", name.replace('"', "\"\"")))
        .collect();
    let key = format!("\"{}\"", table.columns[0].replace('"', "\"\""));
    let sql = if table.without_rowid {
        format!(
            "CREATE TABLE \"t\"({}, PRIMARY KEY ({key})) WITHOUT ROWID",
            columns.join(", ")
        )
    } else {
        format!("CREATE TABLE \"t\"({})", columns.join(", "))
    };
    conn.execute(&sql, []).expect("create table");
    let uses_rowid =
        table.explicit_rowids && !table.without_rowid && !table.columns.contains(&"rowid");
    let names: Vec<String> = table
        .columns
        .iter()
        .map(|n| format!("\"{}\"", n.replace('"', "\"\"")))
        .collect();
    let (list, marks) = if uses_rowid {
        (
            format!("rowid, {}", names.join(", ")),
            vec!["?"; names.len() + 1].join(", "),
        )
    } else {
        (names.join(", "), vec!["?"; names.len()].join(", "))
    };
    let insert = format!("INSERT OR IGNORE INTO \"t\"({list}) VALUES({marks})");
    for (rowid, values) in &table.rows {
        let mut values = values.clone();
        if table.without_rowid {
            // The key names the row in the UPDATEs of a split row, so it must
            // be small next to the 2,000-byte statements of this test.
            values[0] = match &values[0] {
                Value::Text(t) => Value::Text(t.chars().take(50).collect()),
                Value::Blob(b) => Value::Blob(b.iter().take(50).copied().collect()),
                other => other.clone(),
            };
        }
        let mut params: Vec<&dyn rusqlite::ToSql> = Vec::new();
        if uses_rowid {
            params.push(rowid);
        }
        params.extend(values.iter().map(|v| v as &dyn rusqlite::ToSql));
        conn.execute(&insert, params.as_slice()).expect("insert");
    }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 64, ..ProptestConfig::default() })]

    #[test]
    fn random_tables_round_trip(
        table in table(),
        types in proptest::collection::vec(proptest::sample::select(DECLARED_TYPES.to_vec()), 10),
        max_page_rows in 1usize..50,
    ) {
        let dir = temp_dir();
        let original = dir.path().join("random.db");
        create(&original, &table, &types);
        let options = DumpOptions { statement_target_bytes: 2_000, page_target_bytes: 6_000, max_page_rows };
        let (run, _) = assert_round_trip(&original, options);
        let d1 = dir.path().join("d1.db");
        import_d1_like(run.text(), &d1, 7);
        assert_same_contents(&Connection::open(&original).expect("open"), &Connection::open(&d1).expect("open"));
    }
}
