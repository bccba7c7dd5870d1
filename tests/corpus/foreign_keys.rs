//! Classes of foreign keys: `fk_graphs` (a 50-table chain declared children
//! first, self references, a deferred cycle, a composite key with cascades;
//! no violations) and `fk_violations` (orphans in rowid, composite and
//! WITHOUT ROWID children, which D1 itself would never let in: a dump of it
//! loads into sqlite3 but not into D1).

use super::db::Db;

pub(super) fn fk_graphs(db: &mut Db) -> Result<(), String> {
    db.exec("PRAGMA foreign_keys=ON")?;
    // A chain of 50 tables, declared children first: chain49 -> ... -> chain00.
    let mut sql = String::new();
    for i in (0..50).rev() {
        if i == 0 {
            sql.push_str("CREATE TABLE chain00(id INTEGER PRIMARY KEY, v TEXT);\n");
        } else {
            sql.push_str(&format!(
                "CREATE TABLE chain{i:02}(id INTEGER PRIMARY KEY, up INTEGER NOT NULL REFERENCES chain{:02}(id), v TEXT);\n",
                i - 1
            ));
        }
    }
    db.exec(&sql)?;
    let mut sql = String::from("BEGIN;\n");
    for i in 0..50 {
        for r in 1..=3 {
            if i == 0 {
                sql.push_str(&format!("INSERT INTO chain00 VALUES({r}, 'root {r}');\n"));
            } else {
                sql.push_str(&format!(
                    "INSERT INTO chain{i:02} VALUES({r}, {}, 'level {i}');\n",
                    4 - r
                ));
            }
        }
    }
    sql.push_str("COMMIT;");
    db.exec(&sql)?;
    // Self-referencing: children with smaller ids than their parents.
    db.exec(
        "CREATE TABLE tree(id INTEGER PRIMARY KEY, up INTEGER REFERENCES tree(id), label TEXT);
         INSERT INTO tree VALUES(100, NULL, 'root');
         INSERT INTO tree VALUES(50, 100, 'child'), (10, 50, 'grandchild'), (1, 10, 'deep');
         CREATE TABLE tree_wr(k TEXT PRIMARY KEY, up TEXT REFERENCES tree_wr(k)) WITHOUT ROWID;
         INSERT INTO tree_wr VALUES('z', NULL), ('m', 'z'), ('a', 'm');",
    )?;
    // A cycle a -> b -> c -> a, filled in one transaction with deferred keys.
    db.exec(
        "CREATE TABLE cyc_a(id INTEGER PRIMARY KEY, b_id INTEGER REFERENCES cyc_b(id) DEFERRABLE INITIALLY DEFERRED, v TEXT);
         CREATE TABLE cyc_b(id INTEGER PRIMARY KEY, c_id INTEGER REFERENCES cyc_c(id) DEFERRABLE INITIALLY DEFERRED, v TEXT);
         CREATE TABLE cyc_c(id INTEGER PRIMARY KEY, a_id INTEGER REFERENCES cyc_a(id) DEFERRABLE INITIALLY DEFERRED, v TEXT);
         BEGIN;
         INSERT INTO cyc_a VALUES(1, 1, 'a1'), (2, 2, 'a2');
         INSERT INTO cyc_b VALUES(1, 1, 'b1'), (2, 2, 'b2');
         INSERT INTO cyc_c VALUES(1, 2, 'c1'), (2, 1, 'c2');
         COMMIT;
         CREATE TABLE composite_parent(a INTEGER, b TEXT, PRIMARY KEY (a, b));
         CREATE TABLE composite_child(id INTEGER PRIMARY KEY, a INTEGER, b TEXT,
             FOREIGN KEY (a, b) REFERENCES composite_parent(a, b) ON DELETE CASCADE ON UPDATE CASCADE);
         INSERT INTO composite_parent VALUES(1, 'x'), (2, 'y''s');
         INSERT INTO composite_child VALUES(1, 1, 'x'), (2, 2, 'y''s'), (3, NULL, 'dangling but NULL');",
    )?;
    let violations: i64 = db
        .conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if violations != 0 {
        return Err(format!("{violations} foreign key violations in fk_graphs"));
    }
    Ok(())
}

pub(super) fn fk_violations(db: &mut Db) -> Result<(), String> {
    db.exec(
        "PRAGMA foreign_keys=OFF;
         CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT);
         CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), note TEXT);
         CREATE TABLE self_ref(id INTEGER PRIMARY KEY, up INTEGER REFERENCES self_ref(id));
         CREATE TABLE cparent(a INTEGER, b TEXT, PRIMARY KEY (a, b));
         CREATE TABLE cchild(id INTEGER PRIMARY KEY, a INTEGER, b TEXT, FOREIGN KEY (a, b) REFERENCES cparent(a, b));
         CREATE TABLE wr_child(k TEXT PRIMARY KEY, parent_id INTEGER REFERENCES parent(id)) WITHOUT ROWID;
         INSERT INTO parent VALUES(1, 'one'), (2, 'two');
         INSERT INTO child VALUES(1, 1, 'ok'), (2, 99, 'orphan'), (3, NULL, 'null parent'), (4, 2, 'ok'), (5, 100, 'orphan 2');
         INSERT INTO self_ref VALUES(1, NULL), (2, 1), (3, 42);
         INSERT INTO cparent VALUES(1, 'x');
         INSERT INTO cchild VALUES(1, 1, 'x'), (2, 1, 'y'), (3, 2, 'x');
         INSERT INTO wr_child VALUES('a', 1), ('b', 7);",
    )?;
    let violations: i64 = db
        .conn
        .query_row("SELECT count(*) FROM pragma_foreign_key_check", [], |r| {
            r.get(0)
        })
        .map_err(|e| e.to_string())?;
    if violations == 0 {
        return Err("fk_violations has no violations".into());
    }
    Ok(())
}
