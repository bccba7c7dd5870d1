//! Classes of schema objects whose SQL or effects a dump must keep exactly:
//! `autoincrement` (sqlite_sequence ahead of, behind and near the end of
//! the rowids), `generated_columns`, `check_constraints` (CHECKs that a
//! placeholder or partial value would violate), `collations`, `indexes`
//! (partial, expression, unique, DESC), `triggers` (BEGIN/END and `;` in
//! strings, comments and names) and `views_on_views` (a view created before
//! the view it reads).

use rusqlite::types::Value;

use super::db::{Db, WORDS};

pub(super) fn autoincrement(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE a1(id INTEGER PRIMARY KEY AUTOINCREMENT, v TEXT);
         WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10)
             INSERT INTO a1(v) SELECT 'v' || i FROM n;
         DELETE FROM a1 WHERE id > 5;
         UPDATE sqlite_sequence SET seq = 1000000 WHERE name = 'a1';
         CREATE TABLE a2(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
         INSERT INTO a2(v) VALUES(1), (2), (3);
         DELETE FROM a2;
         CREATE TABLE \"a 3 \"\"q\"\"\"(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
         INSERT INTO \"a 3 \"\"q\"\"\"(id, v) VALUES(9223372036854775806, 'near max');
         CREATE TABLE a4(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
         CREATE TABLE a5(id INTEGER PRIMARY KEY AUTOINCREMENT, v);
         INSERT INTO a5(id, v) VALUES(-5, 'negative'), (3, 'three');
         UPDATE sqlite_sequence SET seq = 2 WHERE name = 'a5';",
    )
}

pub(super) fn generated_columns(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE g1(a INTEGER, b INTEGER GENERATED ALWAYS AS (a * 2) VIRTUAL,
             c TEXT GENERATED ALWAYS AS (a || '-' || d) STORED, d TEXT, e AS (b + 1));
         CREATE INDEX g1_c ON g1(c);
         CREATE INDEX g1_b ON g1(b) WHERE b > 4;
         CREATE TABLE g2(k TEXT PRIMARY KEY, v REAL, w AS (round(v, 2)) STORED, x AS (length(k)) VIRTUAL) WITHOUT ROWID;
         CREATE TABLE g3(id INTEGER PRIMARY KEY, j TEXT, name TEXT AS (json_extract(j, '$.name')) STORED UNIQUE) STRICT;
         CREATE TABLE g4(id INTEGER PRIMARY KEY, t TEXT, len INTEGER AS (length(t)) STORED, head AS (substr(t, 1, 5)) VIRTUAL);",
    )?;
    for i in 0..30i64 {
        let (d, v) = (db.text(3), db.real());
        db.insert(
            "INSERT INTO g1(a, d) VALUES(?, ?)",
            &[
                if i % 7 == 0 {
                    Value::Null
                } else {
                    Value::Integer(i)
                },
                Value::Text(d),
            ],
        )?;
        db.insert(
            "INSERT INTO g2(k, v) VALUES(?, ?)",
            &[Value::Text(format!("k{i:02} é")), Value::Real(v)],
        )?;
        db.insert(
            "INSERT INTO g3(id, j) VALUES(?, ?)",
            &[
                Value::Integer(i),
                Value::Text(format!("{{\"name\":\"n{i}\",\"x\":[1,2]}}")),
            ],
        )?;
    }
    // A stored column over a value too large for one statement.
    db.insert(
        "INSERT INTO g4(id, t) VALUES(1, ?), (2, 'short')",
        &[Value::Text("abc'def\r\n".repeat(40_000))],
    )
}

pub(super) fn check_constraints(db: &mut Db) -> Result<(), String> {
    // Each CHECK rejects the placeholder ('' or X'') or any partial value of
    // a row too large for one statement (values over 100 KB).
    db.exec(
        "CREATE TABLE ck_len(id INTEGER PRIMARY KEY, t TEXT NOT NULL CHECK (length(t) > 100000));
         CREATE TABLE ck_blob(id INTEGER PRIMARY KEY, b BLOB CHECK (b <> X'' AND length(b) = 150000));
         CREATE TABLE ck_shape(id INTEGER PRIMARY KEY, t TEXT CHECK (t LIKE 'BEGIN%END'));
         CREATE TABLE ck_wr(k TEXT PRIMARY KEY, t TEXT CHECK (t IS NULL OR t <> ''), CHECK (length(t) % 7 = 0)) WITHOUT ROWID;
         CREATE TABLE ck_small(id INTEGER PRIMARY KEY, n INTEGER CHECK (typeof(n) = 'integer'), s TEXT CHECK (s IN ('a', 'b')));",
    )?;
    db.insert(
        "INSERT INTO ck_len VALUES(1, ?)",
        &[Value::Text("x'y\n".repeat(40_000))],
    )?;
    let blob = db.rng.bytes(150_000);
    db.insert("INSERT INTO ck_blob VALUES(1, ?)", &[Value::Blob(blob)])?;
    db.insert(
        "INSERT INTO ck_shape VALUES(1, ?)",
        &[Value::Text(format!(
            "BEGIN{}END",
            "middle; ".repeat(25_000)
        ))],
    )?;
    db.insert(
        "INSERT INTO ck_wr VALUES('k''1', ?)",
        &[Value::Text("1234567".repeat(20_000))],
    )?;
    db.exec("INSERT INTO ck_small VALUES(1, 1, 'a'), (2, 2, 'b');")
}

pub(super) fn collations(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE c1(id INTEGER PRIMARY KEY, a TEXT COLLATE NOCASE, b TEXT COLLATE RTRIM, c TEXT COLLATE BINARY);
         CREATE INDEX c1_a ON c1(a);
         CREATE INDEX c1_b_nocase ON c1(b COLLATE NOCASE);
         CREATE UNIQUE INDEX c1_c_rtrim ON c1(c COLLATE RTRIM);
         CREATE TABLE c2(k TEXT COLLATE NOCASE PRIMARY KEY, v) WITHOUT ROWID;
         CREATE TABLE c3(k TEXT COLLATE RTRIM, j TEXT COLLATE NOCASE, v, PRIMARY KEY (k, j)) WITHOUT ROWID;
         CREATE TABLE c4(k TEXT PRIMARY KEY COLLATE BINARY, v) WITHOUT ROWID;",
    )?;
    let letters = ["a", "B", "c", "D", "é", "É", "z", "Z ", "_", "[", "a b"];
    for i in 0..60usize {
        let base = format!("{}{}", letters[i % letters.len()], i / letters.len());
        db.insert(
            "INSERT INTO c1(id, a, b, c) VALUES(?, ?, ?, ?)",
            &[
                Value::Integer(i as i64),
                Value::Text(if i % 2 == 0 {
                    base.to_uppercase()
                } else {
                    base.clone()
                }),
                Value::Text(format!("{base}{}", " ".repeat(i % 3))),
                Value::Text(format!("{base}#{i}")),
            ],
        )?;
        // Keys that differ only in case (ASCII) are one key under NOCASE.
        db.insert(
            "INSERT OR IGNORE INTO c2 VALUES(?, ?)",
            &[
                Value::Text(if i % 2 == 0 {
                    base.to_uppercase()
                } else {
                    base.clone()
                }),
                Value::Integer(i as i64),
            ],
        )?;
        db.insert(
            "INSERT OR IGNORE INTO c3 VALUES(?, ?, ?)",
            &[
                Value::Text(format!("{base}{}", " ".repeat(i % 2))),
                Value::Text(letters[(i * 7) % letters.len()].to_string()),
                Value::Integer(i as i64),
            ],
        )?;
        db.insert(
            "INSERT OR IGNORE INTO c4 VALUES(?, ?)",
            &[Value::Text(base.clone()), Value::Text(base.to_lowercase())],
        )?;
    }
    Ok(())
}

pub(super) fn indexes(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE ix(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, c REAL, d BLOB, e TEXT);
         CREATE TABLE ixu(x TEXT UNIQUE, y INTEGER, UNIQUE (y, x));
         CREATE TABLE ixw(k INTEGER, j TEXT, v, PRIMARY KEY (k, j)) WITHOUT ROWID;",
    )?;
    for i in 0..300i64 {
        let word = *db.rng.pick(WORDS);
        db.insert(
            "INSERT INTO ix VALUES(?, ?, ?, ?, ?, ?)",
            &[
                Value::Integer(i),
                Value::Integer(i * 37 % 101),
                Value::Text(format!("Name{i} {word}")),
                Value::Real(i as f64 / 3.0),
                if i % 3 == 0 {
                    Value::Null
                } else {
                    Value::Blob(vec![(i % 256) as u8, (i / 256) as u8])
                },
                Value::Text(format!("{{\"k\":{}}}", i % 17)),
            ],
        )?;
        db.insert(
            "INSERT INTO ixu VALUES(?, ?)",
            &[Value::Text(format!("x{i}")), Value::Integer(i % 10)],
        )?;
        db.insert(
            "INSERT INTO ixw VALUES(?, ?, ?)",
            &[
                Value::Integer(i % 13),
                Value::Text(format!("j{i}")),
                Value::Integer(i),
            ],
        )?;
    }
    db.exec(
        "CREATE INDEX ix_partial ON ix(a) WHERE a > 10 AND b IS NOT NULL;
         CREATE INDEX ix_expr ON ix(lower(b), a + c);
         CREATE UNIQUE INDEX ix_unique ON ix(b, a);
         CREATE UNIQUE INDEX ix_unique_partial ON ix(d) WHERE d IS NOT NULL;
         CREATE INDEX ix_desc ON ix(a DESC, c ASC);
         CREATE INDEX ix_json ON ix(json_extract(e, '$.k'));
         CREATE INDEX \"ix odd \"\"name\"\"\" ON ix(substr(b, 1, 3) COLLATE NOCASE);
         CREATE INDEX ixw_v ON ixw(v DESC) WHERE v % 2 = 0;",
    )
}

pub(super) fn triggers(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE items(id INTEGER PRIMARY KEY, name TEXT, qty INTEGER, status TEXT);
         CREATE TABLE audit(id INTEGER PRIMARY KEY AUTOINCREMENT, what TEXT);
         CREATE VIEW items_v AS SELECT id, name, qty FROM items;
         CREATE TRIGGER \"items ai; BEGIN\" AFTER INSERT ON items BEGIN
             INSERT INTO audit(what) VALUES(CASE WHEN NEW.qty > 10 THEN 'big; END' WHEN NEW.qty IS NULL THEN 'BEGIN null' ELSE 'small' END); -- END; here
             /* BEGIN ... END; */
             UPDATE items SET status = CASE NEW.qty WHEN 0 THEN 'empty' ELSE 'ok;' END WHERE id = NEW.id;
         END;
         CREATE TRIGGER items_bu BEFORE UPDATE OF qty ON items WHEN NEW.qty < 0 BEGIN SELECT RAISE(ABORT, 'negative; END'); END;
         CREATE TRIGGER items_v_ins INSTEAD OF INSERT ON items_v BEGIN
             INSERT INTO items(id, name, qty) VALUES(NEW.id, NEW.name || ' END', NEW.qty);
         END;
         CREATE TRIGGER items_ad AFTER DELETE ON items FOR EACH ROW BEGIN
             INSERT INTO audit(what) VALUES('deleted ' || OLD.id || ' -- END;
END;');
         END;
         CREATE TRIGGER nested_case AFTER UPDATE ON items BEGIN
             INSERT INTO audit(what) SELECT CASE WHEN (CASE WHEN NEW.qty > 1 THEN 1 END) THEN 'END' ELSE 'BEGIN' END;
         END;",
    )?;
    for i in 1..=20i64 {
        let name = db.text(3);
        db.insert(
            "INSERT INTO items(id, name, qty) VALUES(?, ?, ?)",
            &[
                Value::Integer(i),
                Value::Text(name),
                if i % 5 == 0 {
                    Value::Null
                } else {
                    Value::Integer(i % 13)
                },
            ],
        )?;
    }
    db.exec(
        "INSERT INTO items_v(id, name, qty) VALUES(100, 'via view', 3);
         UPDATE items SET qty = qty + 1 WHERE id <= 3;
         DELETE FROM items WHERE id = 4;",
    )
}

pub(super) fn views_on_views(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE TABLE base(id INTEGER PRIMARY KEY, grp TEXT, n INTEGER, j TEXT);
         -- created before the view it reads
         CREATE VIEW v_top AS SELECT * FROM v8 WHERE total > 0;
         CREATE VIEW v1 AS SELECT id, grp, n FROM base WHERE n IS NOT NULL;
         CREATE VIEW v2(g, total, cnt) AS SELECT grp, sum(n), count(*) FROM v1 GROUP BY grp;
         CREATE VIEW v3 AS SELECT v1.*, v2.total FROM v1 JOIN v2 ON v2.g = v1.grp;
         CREATE VIEW v4 AS WITH r AS (SELECT id, n * 2 AS dbl FROM v3) SELECT * FROM r WHERE dbl % 3 <> 1;
         CREATE VIEW v5 AS SELECT id, dbl, row_number() OVER (ORDER BY dbl DESC, id) AS rk,
             sum(dbl) OVER (PARTITION BY dbl % 2 ORDER BY id ROWS BETWEEN 1 PRECEDING AND CURRENT ROW) AS win FROM v4;
         CREATE VIEW v6 AS SELECT id, 'a' AS src FROM v5 UNION ALL SELECT id, 'b;END' FROM v1 WHERE id % 2 = 0;
         CREATE VIEW v7 AS SELECT json_object('id', id, 'src', src) AS doc FROM v6;
         CREATE VIEW \"v 8 \"\"odd\"\"\" AS SELECT count(*) AS c FROM v7;
         CREATE VIEW v8 AS SELECT grp, sum(n) AS total FROM v3 GROUP BY grp HAVING count(*) > 1;",
    )?;
    for i in 0..100i64 {
        db.insert(
            "INSERT INTO base VALUES(?, ?, ?, ?)",
            &[
                Value::Integer(i),
                Value::Text(format!("g{}", i % 7)),
                if i % 11 == 0 {
                    Value::Null
                } else {
                    Value::Integer(i * 3 - 50)
                },
                Value::Text(format!("{{\"i\":{i}}}")),
            ],
        )?;
    }
    Ok(())
}
