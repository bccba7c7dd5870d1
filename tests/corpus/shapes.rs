//! Classes of table shapes at D1's column limit and at scale:
//! `wide_100_columns` (rowid, INTEGER PRIMARY KEY and STRICT tables of 100
//! columns, columns named rowid and oid), `without_rowid_100` (100 columns,
//! a three-part REAL/TEXT/BLOB key, rows too large for one statement, a DESC
//! key) and `many_tables` (2,000 tables of four kinds, created and filled
//! one statement at a time).

use rusqlite::types::Value;

use super::db::{marks, Db};
use super::ident;

pub(super) fn wide_100_columns(db: &mut Db) -> Result<(), String> {
    const TYPES: [&str; 8] = [
        "INTEGER",
        "REAL",
        "TEXT",
        "BLOB",
        "NUMERIC",
        "",
        "VARCHAR(20)",
        "INT",
    ];
    // A rowid table without INTEGER PRIMARY KEY whose columns take the names
    // "rowid" and "oid": only _rowid_ still reaches the rowid.
    let names: Vec<String> = (0..100)
        .map(|i| match i {
            0 => "rowid".to_string(),
            1 => "oid".to_string(),
            _ => format!("c{i:03}"),
        })
        .collect();
    let types: Vec<&str> = (0..100).map(|i| TYPES[i % TYPES.len()]).collect();
    let columns: Vec<String> = names
        .iter()
        .zip(&types)
        .map(|(n, t)| format!("{} {t}", ident(n)))
        .collect();
    db.exec(&format!("CREATE TABLE wide_rowid({})", columns.join(", ")))?;
    let list: Vec<String> = names.iter().map(|n| ident(n)).collect();
    let rowids = [
        1i64,
        2,
        3,
        10,
        1000,
        -5,
        i64::MAX - 1,
        77,
        78,
        79,
        500,
        501,
        9_000_000_000,
    ];
    for (i, rowid) in rowids.iter().enumerate() {
        let values: Vec<Value> = types.iter().map(|t| db.value(t, false)).collect();
        // 101 columns with the rowid: the rowid goes in as a literal (D1 binds
        // at most 100 parameters).
        db.insert(
            &format!(
                "INSERT INTO wide_rowid(_rowid_, {}) VALUES({rowid}, {})",
                list.join(", "),
                marks(100)
            ),
            &values,
        )?;
        if i == 3 {
            // A wide row of 100 values of 3 KB: 300 KB, no single value large.
            let values: Vec<Value> = (0..100)
                .map(|c| {
                    if c % 2 == 0 {
                        Value::Text(format!("{c:03}'\n").repeat(600))
                    } else {
                        Value::Blob(vec![c as u8; 3000])
                    }
                })
                .collect();
            db.insert(
                &format!(
                    "INSERT INTO wide_rowid(_rowid_, {}) VALUES(424242, {})",
                    list.join(", "),
                    marks(100)
                ),
                &values,
            )?;
        }
    }

    // 100 columns with an INTEGER PRIMARY KEY.
    let columns: Vec<String> = std::iter::once("id INTEGER PRIMARY KEY".to_string())
        .chain((1..100).map(|i| format!("c{i:03} {}", TYPES[i % TYPES.len()])))
        .collect();
    db.exec(&format!("CREATE TABLE wide_ipk({})", columns.join(", ")))?;
    for id in 1..=30i64 {
        let mut values = vec![Value::Integer(id * 3)];
        values.extend((1..100).map(|i| db.value(TYPES[i % TYPES.len()], false)));
        db.insert(
            &format!("INSERT INTO wide_ipk VALUES({})", marks(100)),
            &values,
        )?;
    }

    // 100 columns, STRICT.
    const STRICT: [&str; 5] = ["INTEGER", "REAL", "TEXT", "BLOB", "ANY"];
    let columns: Vec<String> = (0..100)
        .map(|i| format!("s{i:03} {}", STRICT[i % STRICT.len()]))
        .collect();
    db.exec(&format!(
        "CREATE TABLE wide_strict({}) STRICT",
        columns.join(", ")
    ))?;
    for _ in 0..20 {
        let values: Vec<Value> = (0..100)
            .map(|i| db.value(STRICT[i % STRICT.len()], true))
            .collect();
        db.insert(
            &format!("INSERT INTO wide_strict VALUES({})", marks(100)),
            &values,
        )?;
    }
    Ok(())
}

pub(super) fn without_rowid_100(db: &mut Db) -> Result<(), String> {
    let mut columns = vec![
        "k_real REAL".to_string(),
        "k_text TEXT".to_string(),
        "k_blob BLOB".to_string(),
    ];
    columns.extend(
        (3..100).map(|i| format!("c{i:03} {}", ["TEXT", "INTEGER", "REAL", "BLOB", ""][i % 5])),
    );
    db.exec(&format!(
        "CREATE TABLE wr100({}, PRIMARY KEY (k_real, k_text, k_blob)) WITHOUT ROWID",
        columns.join(", ")
    ))?;
    let key_reals = [
        0.1,
        -1e300,
        5e-324,
        1.0,
        9007199254740993.0,
        -2.5,
        1e-300,
        0.30000000000000004,
    ];
    let key_texts = [
        "a",
        "it's",
        "naïve \"k\"",
        "line\nbreak",
        "cr\r\nlf",
        "",
        "😀",
        "Z",
    ];
    let mut n = 0;
    for r in key_reals {
        for t in key_texts.iter().take(5) {
            n += 1;
            let mut values = vec![
                Value::Real(r),
                Value::Text(t.to_string()),
                Value::Blob(vec![0, n as u8, 0xff, b'\'']),
            ];
            values.extend(
                (3..100).map(|i| db.value(["TEXT", "INTEGER", "REAL", "BLOB", ""][i % 5], false)),
            );
            db.insert(
                &format!("INSERT INTO wr100 VALUES({})", marks(100)),
                &values,
            )?;
        }
    }
    // Rows too large for one statement, keyed by all three key parts.
    for (i, big) in [150_000usize, 1_500_000].iter().enumerate() {
        let mut values = vec![
            Value::Real(0.5 + i as f64),
            Value::Text(format!("big 'row' {i}\r\n")),
            Value::Blob(vec![0, 0, i as u8]),
        ];
        values.extend((3..100).map(|c| match c {
            3 => Value::Text("Ünï'\r\n".repeat(big / 8)),
            6 => Value::Blob(vec![0xab; big / 4]),
            _ => Value::Text(format!("{c}").repeat(200)),
        }));
        db.insert(
            &format!("INSERT INTO wr100 VALUES({})", marks(100)),
            &values,
        )?;
    }
    // A DESC key: key order and index order differ.
    db.exec("CREATE TABLE wr_desc(a INTEGER, b TEXT, v, PRIMARY KEY (a DESC, b)) WITHOUT ROWID")?;
    for i in 0..40i64 {
        db.insert(
            "INSERT INTO wr_desc VALUES(?, ?, ?)",
            &[
                Value::Integer(i % 7 - 3),
                Value::Text(format!("b{}", i * 7919 % 41)),
                Value::Text("x".repeat(i as usize * 100)),
            ],
        )?;
    }
    Ok(())
}

pub(super) fn many_tables(db: &mut Db) -> Result<(), String> {
    let mut sql = String::from("BEGIN;\n");
    for i in 0..2000 {
        match i % 4 {
            0 => sql.push_str(&format!("CREATE TABLE t{i:04}(a, b TEXT);\n")),
            1 => sql.push_str(&format!(
                "CREATE TABLE t{i:04}(id INTEGER PRIMARY KEY, v);\n"
            )),
            2 => sql.push_str(&format!(
                "CREATE TABLE t{i:04}(k TEXT PRIMARY KEY, v) WITHOUT ROWID;\n"
            )),
            _ => sql.push_str(&format!(
                "CREATE TABLE \"t {i:04}.odd\"(x INTEGER UNIQUE, y REAL);\n"
            )),
        }
        let rows = db.rng.below(4);
        for r in 0..rows {
            match i % 4 {
                0 => sql.push_str(&format!("INSERT INTO t{i:04} VALUES({r}, 'r{r}');\n")),
                1 => sql.push_str(&format!(
                    "INSERT INTO t{i:04} VALUES({}, X'{r:02x}');\n",
                    r * 10
                )),
                2 => sql.push_str(&format!("INSERT INTO t{i:04} VALUES('k{r}', {r}.5);\n")),
                _ => sql.push_str(&format!(
                    "INSERT INTO \"t {i:04}.odd\" VALUES({r}, {r}.25);\n"
                )),
            }
        }
        if i % 20 == 0 {
            sql.push_str(&format!("CREATE INDEX i{i:04} ON t{i:04}(b);\n"));
        }
    }
    sql.push_str("COMMIT;\n");
    // One statement at a time: D1's statement limit applies to the text
    // handed to SQLite, which for a batch is all of it.
    for statement in sql.split_inclusive(";\n") {
        db.exec(statement)?;
    }
    Ok(())
}
