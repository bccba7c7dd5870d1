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

/// Name pieces that make long identifiers.
const UNITS: [&str; 7] = ["x", "é", "\"", "😀", "a.b ", " ", "'select"];

/// A column or table name: common and odd names, SQL keywords, quotes,
/// spaces, dots, non-ASCII, and sometimes long (up to ~2,000 bytes).
fn name() -> impl Strategy<Value = String> {
    prop_oneof![
        6 => proptest::sample::select(NAMES.to_vec()).prop_map(String::from),
        3 => "[a-zA-Z_][a-zA-Z0-9_ .\"'`\\[\\];-]{0,15}",
        2 => "[^\\x00-\\x1f]{1,12}",
        1 => (1usize..2_000, proptest::sample::select(UNITS.to_vec()))
            .prop_map(|(n, unit)| unit.repeat(n / unit.len() + 1)),
    ]
}

/// One value of close to 2,000,000 bytes, put into a row whose other values
/// are NULL: (row, column, bytes, TEXT or BLOB, filler).
type Big = (
    proptest::sample::Index,
    proptest::sample::Index,
    usize,
    bool,
    u8,
);

#[derive(Debug, Clone)]
struct Table {
    name: String,
    without_rowid: bool,
    columns: Vec<(String, &'static str)>,
    explicit_rowids: bool,
    rows: Vec<(i64, Vec<Value>)>,
    big: Option<Big>,
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
    let columns = prop_oneof![3 => 1usize..=10, 1 => 11usize..=100];
    (columns, any::<bool>(), any::<bool>()).prop_flat_map(
        |(columns, without_rowid, explicit_rowids)| {
            // Wide tables get fewer rows: the test's time goes with the cells.
            let most_rows = if columns <= 10 {
                40
            } else {
                2 + 1_000 / columns
            };
            let rows = proptest::collection::vec(
                (1i64..1_000_000, proptest::collection::vec(value(), columns)),
                0..most_rows,
            );
            let names = proptest::collection::vec(
                (name(), proptest::sample::select(DECLARED_TYPES.to_vec())),
                columns,
            );
            let big = proptest::option::weighted(
                0.02,
                (
                    any::<proptest::sample::Index>(),
                    any::<proptest::sample::Index>(),
                    1_900_000usize..=2_000_000,
                    any::<bool>(),
                    any::<u8>(),
                ),
            );
            (name(), names, rows, big).prop_map(move |(name, columns, rows, big)| Table {
                name,
                without_rowid,
                columns,
                explicit_rowids,
                rows,
                big,
            })
        },
    )
}

/// Names SQLite accepts and the dump must keep: no `sqlite_` or `_cf_`
/// prefix (reserved, and D1's), no duplicate (ASCII case-insensitive)
/// column, and long names shortened when all of them would make the CREATE
/// TABLE too long for D1.
fn fix_names(table: &Table) -> (String, Vec<String>) {
    let reserved = |n: &str| {
        let lower = n.to_ascii_lowercase();
        lower.starts_with("sqlite_") || lower.starts_with("_cf_")
    };
    let table_name = if reserved(&table.name) {
        format!("t {}", table.name)
    } else {
        table.name.clone()
    };
    let total: usize = table.columns.iter().map(|(n, _)| n.len()).sum();
    let mut seen = std::collections::HashSet::new();
    let mut names = Vec::new();
    for (i, (name, _)) in table.columns.iter().enumerate() {
        let mut name = name.clone();
        if total > 40_000 && name.len() > 200 {
            name = name.chars().take(50).collect();
        }
        if reserved(&name) || !seen.insert(name.to_ascii_lowercase()) {
            name = format!("{name} {i}");
            seen.insert(name.to_ascii_lowercase());
        }
        names.push(name);
    }
    (table_name, names)
}

fn quoted(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn create(path: &std::path::Path, table: &Table) {
    let conn = Connection::open(path).expect("create");
    apply_d1_limits(&conn);
    let (table_name, names) = fix_names(table);
    let ident = quoted(&table_name);
    let names: Vec<String> = names.iter().map(|n| quoted(n)).collect();
    let columns: Vec<String> = names
        .iter()
        .zip(&table.columns)
        .map(|(name, (_, declared))| format!("{name} {declared}"))
        .collect();
    let key = &names[0];
    let sql = if table.without_rowid {
        format!(
            "CREATE TABLE {ident}({}, PRIMARY KEY ({key})) WITHOUT ROWID",
            columns.join(", ")
        )
    } else {
        format!("CREATE TABLE {ident}({})", columns.join(", "))
    };
    conn.execute(&sql, []).expect("create table");
    let shadowed = |alias: &str| {
        names
            .iter()
            .any(|n| n[1..n.len() - 1].eq_ignore_ascii_case(alias))
    };
    let rowid_alias = ["rowid", "_rowid_", "oid"]
        .into_iter()
        .find(|a| !shadowed(a));
    let uses_rowid = table.explicit_rowids && !table.without_rowid && rowid_alias.is_some();
    let marks = vec!["?"; names.len()].join(", ");
    let mut rows = table.rows.clone();
    if let (Some((row, column, bytes, text, filler)), false) = (&table.big, rows.is_empty()) {
        let row = row.index(rows.len());
        let mut column = column.index(names.len());
        if table.without_rowid && column == 0 {
            column = if names.len() > 1 { 1 } else { usize::MAX };
        }
        if column != usize::MAX {
            for (c, value) in rows[row].1.iter_mut().enumerate() {
                *value = if c != column {
                    Value::Null
                } else if *text {
                    Value::Text(char::from(b'a' + filler % 26).to_string().repeat(*bytes))
                } else {
                    Value::Blob(vec![*filler; *bytes])
                };
            }
        }
    }
    for (rowid, values) in &mut rows {
        if table.without_rowid {
            // The key names the row in the UPDATEs of a split row, so it must
            // be small next to the 2,000-byte statements of this test.
            values[0] = match &values[0] {
                Value::Text(t) => Value::Text(t.chars().take(50).collect()),
                Value::Blob(b) => Value::Blob(b.iter().take(50).copied().collect()),
                other => other.clone(),
            };
        }
        // The rowid is a literal: with 100 columns it would be the 101st
        // parameter, one more than D1 binds.
        let insert = match (uses_rowid, rowid_alias) {
            (true, Some(alias)) => format!(
                "INSERT OR IGNORE INTO {ident}({alias}, {}) VALUES({rowid}, {marks})",
                names.join(", ")
            ),
            _ => format!(
                "INSERT OR IGNORE INTO {ident}({}) VALUES({marks})",
                names.join(", ")
            ),
        };
        // A value near 2,000,000 bytes makes a row over D1's row limit:
        // shrink it until the row fits.
        loop {
            match conn.execute(&insert, rusqlite::params_from_iter(values.iter())) {
                Ok(_) => break,
                Err(e) if e.to_string().contains("too big") => {
                    let largest = values
                        .iter_mut()
                        .max_by_key(|v| match v {
                            Value::Text(t) => t.len(),
                            Value::Blob(b) => b.len(),
                            _ => 0,
                        })
                        .expect("a value");
                    match largest {
                        Value::Text(t) => t.truncate(t.len() - 1_000),
                        Value::Blob(b) => b.truncate(b.len() - 1_000),
                        _ => panic!("row too big without a large value: {e}"),
                    }
                }
                Err(e) => panic!("insert: {e}"),
            }
        }
    }
}

proptest! {
    // 500 databases: wide tables, odd names, now and then a value near
    // 2 MB; under about 3 minutes on two cores in the dev profile.
    // PROPTEST_CASES overrides the count for a quick local run.
    #![proptest_config(ProptestConfig {
        cases: std::env::var("PROPTEST_CASES").ok().and_then(|v| v.parse().ok()).unwrap_or(500),
        ..ProptestConfig::default()
    })]

    #[test]
    fn random_tables_round_trip(
        table in table(),
        max_page_rows in 1usize..50,
        statement_target_bytes in prop_oneof![3 => Just(2_000usize), 1 => Just(20_000usize)],
    ) {
        let started = std::time::Instant::now();
        if std::env::var_os("DUMP_PROPTEST_TRACE").is_some() {
            eprintln!("case: {} columns, {} rows, big {:?}, target {statement_target_bytes}", table.columns.len(), table.rows.len(), table.big.as_ref().map(|b| b.2));
        }
        let dir = temp_dir();
        let original = dir.path().join("random.db");
        create(&original, &table);
        // A value near 2 MB in statements of 2 KB would be 2,000 UPDATEs, each
        // rewriting the whole row: use the default statement size for it.
        // Wide tables at 2 KB split nearly every row value by value, with one
        // slow query each (see the report of the limits corpus): 20 KB there.
        let statement_target_bytes = if table.big.is_some() {
            60_000
        } else if table.columns.len() > 10 {
            statement_target_bytes.max(20_000)
        } else {
            statement_target_bytes
        };
        let options = DumpOptions { statement_target_bytes, page_target_bytes: 3 * statement_target_bytes, max_page_rows };
        let (run, _) = assert_round_trip(&original, options);
        let d1 = dir.path().join("d1.db");
        import_d1_like(run.text(), &d1, 7);
        assert_same_contents(&Connection::open(&original).expect("open"), &Connection::open(&d1).expect("open"));
        if std::env::var_os("DUMP_PROPTEST_TRACE").is_some() {
            eprintln!("{} columns, {} rows, big {}: {:?}", table.columns.len(), table.rows.len(), table.big.is_some(), started.elapsed());
        }
    }
}
