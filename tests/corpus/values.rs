//! Classes of values at their limits: `huge_values` (TEXT and BLOBs of
//! nearly 2,000,000 bytes, rows near the 2 MB row limit, long digit strings
//! in numeric columns), `reals` (REAL edge cases by their bits, in every
//! column affinity and in a WITHOUT ROWID key; -0.0 kept apart) and
//! `text_edge` (line ends, NULs, ZWJ and bidi text, invalid UTF-8).

use d1_vault::d1_limits;
use rusqlite::types::Value;

use super::db::Db;

pub(super) fn huge_values(db: &mut Db) -> Result<(), String> {
    let max = d1_limits::MAX_VALUE_BYTES;
    db.exec(
        "CREATE TABLE huge_text(id INTEGER PRIMARY KEY, t TEXT);
         CREATE TABLE huge_blob(id INTEGER PRIMARY KEY, b BLOB);
         CREATE TABLE huge_row(id INTEGER PRIMARY KEY, a TEXT, b BLOB, c TEXT, d BLOB, n INTEGER);
         CREATE TABLE huge_wr(k TEXT PRIMARY KEY, v BLOB, w TEXT) WITHOUT ROWID;
         CREATE TABLE huge_numeric(id INTEGER PRIMARY KEY, n NUMERIC, i INTEGER);",
    )?;
    // TEXT of (nearly) 2,000,000 bytes: ASCII with quotes and CRLFs, and
    // multi-byte characters (a piece boundary can fall inside one).
    let ascii = |n: usize| {
        let unit = "0123456789 it's \"x\";\r\n-- ";
        let mut s = unit.repeat(n / unit.len() + 1);
        s.truncate(n);
        Value::Text(s)
    };
    db.insert_largest(
        "INSERT INTO huge_text(id, t) VALUES(1, ?)",
        &[],
        max,
        &ascii,
    )?;
    let multibyte = |n: usize| {
        let unit = "é😀東Ü'";
        let mut s = unit.repeat(n / unit.len() + 1);
        while s.len() > n {
            s.pop();
        }
        Value::Text(s)
    };
    db.insert_largest(
        "INSERT INTO huge_text(id, t) VALUES(2, ?)",
        &[],
        max,
        &multibyte,
    )?;
    db.insert(
        "INSERT INTO huge_text(id, t) VALUES(3, ?)",
        &[ascii(1_000_001)],
    )?;
    db.insert("INSERT INTO huge_text(id, t) VALUES(4, 'small')", &[])?;
    // BLOBs of (nearly) 2,000,000 bytes: random, all zero, all quotes.
    let random = db.rng.bytes(max);
    db.insert_largest(
        "INSERT INTO huge_blob(id, b) VALUES(1, ?)",
        &[],
        max,
        &|n| Value::Blob(random[..n].to_vec()),
    )?;
    db.insert_largest(
        "INSERT INTO huge_blob(id, b) VALUES(2, ?)",
        &[],
        max,
        &|n| Value::Blob(vec![0; n]),
    )?;
    db.insert(
        "INSERT INTO huge_blob(id, b) VALUES(3, ?)",
        &[Value::Blob(vec![b'\''; 999_999])],
    )?;
    // Rows near the 2 MB row limit made of several values.
    for id in 1..=3i64 {
        let quarter = 499_000 - id as usize * 1000;
        let fixed = vec![
            Value::Integer(id),
            ascii(quarter),
            Value::Blob(random[..quarter].to_vec()),
            multibyte(quarter),
        ];
        db.insert_largest(
            "INSERT INTO huge_row(id, a, b, c, n, d) VALUES(?, ?, ?, ?, -1, ?)",
            &fixed,
            max - 3 * quarter,
            &|n| Value::Blob(vec![id as u8; n]),
        )?;
    }
    // WITHOUT ROWID: the UPDATEs that complete a row name it by its key.
    for (k, size) in [
        ("it's a \"key\"\r\n", 1_900_000usize),
        ("ключ 😀", 1_200_000),
    ] {
        db.insert(
            "INSERT INTO huge_wr(k, v, w) VALUES(?, ?, ?)",
            &[
                Value::Text(k.to_string()),
                Value::Blob(random[..size].to_vec()),
                Value::Text("w".repeat(50_000)),
            ],
        )?;
    }
    // Long TEXT of digits in numeric columns: a partial value must not turn
    // into a number on the way.
    let digits: String = "1234567890".repeat(90_000);
    db.insert(
        "INSERT INTO huge_numeric(id, n, i) VALUES(1, ?, ?)",
        &[
            Value::Text(format!("{digits}x")),
            Value::Text(format!("{digits}.5e")),
        ],
    )?;
    Ok(())
}

/// The REALs the `reals` class stores, also in a WITHOUT ROWID key.
const REALS: &[f64] = &[
    0.0,
    1.0,
    -1.0,
    0.1,
    0.30000000000000004,
    1.0 / 3.0,
    2.0 / 3.0,
    5e-324,
    -5e-324,
    2.2250738585072014e-308,
    2.225073858507201e-308,
    4.9406564584124654e-300,
    1e-310,
    f64::MAX,
    f64::MIN,
    f64::EPSILON,
    1e308,
    1.7976931348623157e308,
    9007199254740993.0,
    9007199254740992.0,
    9.223372036854776e18,
    -9.223372036854776e18,
    1e22,
    1e23,
    123456789012345680.0,
    0.1 + 0.7,
    8.663725837306241e290,
    2.5e-300,
    f64::INFINITY,
    f64::NEG_INFINITY,
];

pub(super) fn reals(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE r(id INTEGER PRIMARY KEY, untyped, x REAL, n NUMERIC, i INTEGER, t TEXT);
         CREATE TABLE r_strict(id INTEGER PRIMARY KEY, x REAL, a ANY) STRICT;
         CREATE TABLE r_key(k REAL PRIMARY KEY, v) WITHOUT ROWID;
         CREATE TABLE ints(id INTEGER PRIMARY KEY, v INTEGER, u);
         CREATE TABLE neg_zero(id INTEGER PRIMARY KEY, x REAL, u);",
    )?;
    for (i, &f) in REALS.iter().enumerate() {
        let v = Value::Real(f);
        db.insert(
            "INSERT INTO r VALUES(?, ?, ?, ?, ?, ?)",
            &[
                Value::Integer(i as i64),
                v.clone(),
                v.clone(),
                v.clone(),
                v.clone(),
                v.clone(),
            ],
        )?;
        db.insert(
            "INSERT INTO r_strict VALUES(?, ?, ?)",
            &[Value::Integer(i as i64), v.clone(), v.clone()],
        )?;
        db.insert(
            "INSERT OR IGNORE INTO r_key VALUES(?, ?)",
            &[v.clone(), Value::Integer(i as i64)],
        )?;
    }
    for i in 0..200 {
        let f = db.real();
        db.insert(
            "INSERT INTO r(untyped, x) VALUES(?, ?)",
            &[Value::Real(f), Value::Real(-f)],
        )?;
        let _ = i;
    }
    for (i, v) in [
        i64::MIN,
        i64::MAX,
        (1 << 53) + 1,
        -(1 << 53) - 1,
        0,
        -1,
        1 << 62,
    ]
    .iter()
    .enumerate()
    {
        db.insert(
            "INSERT INTO ints VALUES(?, ?, ?)",
            &[
                Value::Integer(i as i64),
                Value::Integer(*v),
                Value::Integer(*v),
            ],
        )?;
    }
    db.exec("INSERT INTO ints VALUES(100, '9223372036854775807', '9007199254740993');")?;
    // -0.0, kept apart: the dump documents that it becomes 0.0.
    db.insert(
        "INSERT INTO neg_zero VALUES(1, ?, ?)",
        &[Value::Real(-0.0), Value::Real(-0.0)],
    )?;
    db.insert(
        "INSERT INTO neg_zero VALUES(2, ?, ?)",
        &[Value::Real(0.0), Value::Real(0.0)],
    )
}

pub(super) fn text_edge(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE t(id INTEGER PRIMARY KEY, t TEXT, u, n NUMERIC);
         CREATE TABLE t_key(k TEXT PRIMARY KEY, v) WITHOUT ROWID;",
    )?;
    let crlf: String = (0..400)
        .map(|i| format!("line {i}; it's \"quoted\"\r\n"))
        .collect();
    let texts: Vec<String> = vec![
        crlf.clone(),
        crlf.replace("\r\n", "\r"),
        "trailing CR\r".into(),
        "\r".into(),
        "\r\n".into(),
        "\n".into(),
        String::new(),
        "a\0b".into(),
        "\0".into(),
        "\0\0trailing".into(),
        "👩‍👩‍👧‍👦 ZWJ, 🇯🇵 flag, \u{1F600}".into(),
        "שלום עולם \u{202e}abc\u{202c} مرحبا".into(),
        "\u{feff}BOM first".into(),
        "\u{200b}zero width\u{200d}".into(),
        "NULL".into(),
        "'".into(),
        "''".into(),
        "\\".into(),
        "tab\there".into(),
        "-- comment?".into(),
        ";\n".into(),
        "  12  ".into(),
        "0x1F".into(),
        "1e5".into(),
        "\u{10ffff}\u{fffd}".into(),
        "x".to_string() + &"\r\n".repeat(60_000),
    ];
    for (i, s) in texts.iter().enumerate() {
        db.insert(
            "INSERT INTO t VALUES(?, ?, ?, ?)",
            &[
                Value::Integer(i as i64),
                Value::Text(s.clone()),
                Value::Text(s.clone()),
                Value::Text(s.clone()),
            ],
        )?;
        if s.len() < 1000 {
            db.insert(
                "INSERT OR IGNORE INTO t_key VALUES(?, ?)",
                &[Value::Text(s.clone()), Value::Integer(i as i64)],
            )?;
        }
    }
    db.exec(
        "INSERT INTO t VALUES(100, NULL, NULL, NULL);
         INSERT INTO t VALUES(101, '', X'', '');
         -- TEXT that is not valid UTF-8
         INSERT INTO t VALUES(102, CAST(X'C328FF' AS TEXT), CAST(X'EDA080' AS TEXT), CAST(X'C0AF' AS TEXT));
         INSERT INTO t VALUES(103, CAST(X'61006200FE' AS TEXT), CAST(X'F8888080' AS TEXT), NULL);
         INSERT INTO t_key VALUES(CAST(X'FF00FE' AS TEXT), 'invalid key');",
    )
}
