//! The `long_identifiers` class: names at the sizes D1 accepts, with quotes,
//! spaces, dots, keywords, comment markers and non-ASCII, for tables,
//! columns, keys, foreign keys, indexes, views and triggers; and 100-column
//! tables of 600-byte column names in the shapes the dump takes (a table
//! with an INTEGER PRIMARY KEY, a WITHOUT ROWID table, and a rowid table of
//! 99 columns). A rowid table of 100 such columns without an INTEGER PRIMARY
//! KEY is not here: the dump refuses it by design (tests/limits_corpus.rs
//! checks the refusal).

use rusqlite::types::Value;

use super::db::{marks, Db};
use super::ident;

/// `base` followed by a fill of quotes, dots, spaces and `ü`, up to `len`
/// bytes (short of it by less than the fill's 8 bytes).
fn pad(base: &str, len: usize) -> String {
    let mut s = base.to_string();
    let fill = "_ü.\"' x";
    while s.len() + fill.len() <= len {
        s.push_str(fill);
    }
    s
}

/// The `i`th 600-byte column name of the 100-column tables: all 100 of them,
/// quoted, make about 62,000 bytes, so a query that names them twice is
/// over D1's 100,000-byte statement limit.
pub fn long_column_name(i: usize) -> String {
    pad(&format!("c{i:03} \"é\" "), 600)
}

pub(super) fn long_identifiers(db: &mut Db) -> Result<(), String> {
    let table = pad(
        "we\"ird 'tab' [x] `back` a.b select from 名前 שלום 😀 ",
        3000,
    );
    let other = pad("order.by \"child\" ", 1500);
    let cols = [
        "col\" 1".to_string(),
        "select".to_string(),
        "a.b".to_string(),
        "order by".to_string(),
        "名前 😀".to_string(),
        "semi;colon -- /* c */".to_string(),
        "ROWID".to_string(),
        pad("long column ", 4000),
        pad("other long column ", 2500),
    ];
    let defs: Vec<String> = cols.iter().map(|c| format!("{} TEXT", ident(c))).collect();
    db.exec(&format!(
        "CREATE TABLE {}({}, PRIMARY KEY ({}, {})) WITHOUT ROWID",
        ident(&table),
        defs.join(", "),
        ident(&cols[0]),
        ident(&cols[7])
    ))?;
    db.exec(&format!(
        "CREATE TABLE {}(id INTEGER PRIMARY KEY, {} TEXT, {} TEXT, FOREIGN KEY ({}, {}) REFERENCES {}({}, {}))",
        ident(&other),
        ident(&pad("fk one ", 2000)),
        ident(&pad("fk two ", 2000)),
        ident(&pad("fk one ", 2000)),
        ident(&pad("fk two ", 2000)),
        ident(&table),
        ident(&cols[0]),
        ident(&cols[7])
    ))?;
    let list: Vec<String> = cols.iter().map(|c| ident(c)).collect();
    for i in 0..20 {
        let mut values: Vec<Value> = (0..cols.len()).map(|_| Value::Text(db.text(4))).collect();
        values[0] = Value::Text(format!("k{i}"));
        values[7] = Value::Text(format!("{i}"));
        db.insert(
            &format!(
                "INSERT INTO {}({}) VALUES({})",
                ident(&table),
                list.join(", "),
                marks(cols.len())
            ),
            &values,
        )?;
        db.insert(
            &format!("INSERT INTO {} VALUES(?, ?, ?)", ident(&other)),
            &[
                Value::Integer(i),
                Value::Text(format!("k{i}")),
                Value::Text(format!("{i}")),
            ],
        )?;
    }
    // A row too large for one statement: the UPDATEs name its long key.
    let mut values: Vec<Value> = (0..cols.len())
        .map(|i| Value::Text(format!("{i}").repeat(60_000)))
        .collect();
    values[0] = Value::Text("big".into());
    values[7] = Value::Text("big".into());
    db.insert(
        &format!(
            "INSERT INTO {}({}) VALUES({})",
            ident(&table),
            list.join(", "),
            marks(cols.len())
        ),
        &values,
    )?;
    db.exec(&format!(
        "CREATE INDEX {} ON {}({} COLLATE NOCASE, {})",
        ident(&pad("index \"name\"; -- ", 3000)),
        ident(&table),
        ident(&cols[1]),
        ident(&cols[8])
    ))?;
    db.exec(&format!(
        "CREATE VIEW {} AS SELECT {} AS {}, {} FROM {}",
        ident(&pad("view.name 'v' ", 3000)),
        ident(&cols[0]),
        ident(&pad("alias ", 2000)),
        ident(&cols[4]),
        ident(&table)
    ))?;
    db.exec(&format!(
        "CREATE TABLE log(id INTEGER PRIMARY KEY, what TEXT);
         CREATE TRIGGER {} AFTER UPDATE OF {} ON {} BEGIN INSERT INTO log(what) VALUES('x'); END",
        ident(&pad("trigger BEGIN END; ", 3000)),
        ident(&cols[2]),
        ident(&table)
    ))?;
    long_column_names(db)
}

/// Tables of 600-byte column names in every shape the dump can read: 100
/// columns with an INTEGER PRIMARY KEY (`SELECT rowid, *` would repeat it,
/// so `*` alone reads the rowid), 100 columns WITHOUT ROWID (only the key
/// is named), and 99 columns without an INTEGER PRIMARY KEY (`rowid, *` is
/// 100 result columns). Each CREATE is about 62 KB, and an INSERT naming
/// its columns would be too: rows of 50 KB of values are split.
fn long_column_names(db: &mut Db) -> Result<(), String> {
    let names: Vec<String> = (0..100).map(long_column_name).collect();
    let quoted: Vec<String> = names.iter().map(|n| ident(n)).collect();
    let shapes = [
        (
            "100 long names, integer key",
            format!(
                "{} INTEGER PRIMARY KEY, {}",
                quoted[0],
                quoted[1..].join(", ")
            ),
            "",
            100,
        ),
        (
            "100 long names, without rowid",
            format!(
                "{}, PRIMARY KEY ({}, {})",
                quoted.join(", "),
                quoted[1],
                quoted[0]
            ),
            " WITHOUT ROWID",
            100,
        ),
        ("99 long names", quoted[..99].join(", "), "", 99),
    ];
    for (table, columns, options, n) in shapes {
        db.exec(&format!(
            "CREATE TABLE {}({columns}){options}",
            ident(table)
        ))?;
        for row in 0..5usize {
            let values: Vec<Value> = (0..n)
                .map(|c| match (row, c) {
                    (_, 0) => Value::Integer((row * 1000 + 7) as i64),
                    (4, _) => Value::Text(format!("{c}'").repeat(250)),
                    _ => Value::Integer((row * 100 + c) as i64),
                })
                .collect();
            db.insert(
                &format!("INSERT INTO {} VALUES({})", ident(table), marks(n)),
                &values,
            )?;
        }
    }
    Ok(())
}
