//! The typed, exact comparison of an original database and its copy.
//!
//! [`compare`] returns every [`Difference`]: schema SQL of every object,
//! every row of every table in key order, each cell by storage class and
//! exact value (INTEGER as i64, REAL by its bits so -0.0 is not 0.0, TEXT
//! and BLOB by their bytes), `sqlite_sequence`, FTS5 content, MATCH results
//! and `integrity-check`, `PRAGMA foreign_key_check` and `PRAGMA
//! integrity_check`. It never stops at the first difference, and changes
//! neither database: FTS5 checks run in a savepoint that is rolled back,
//! and MATCH terms come from a temporary `fts5vocab` table.

use std::collections::BTreeMap;
use std::path::Path;

use rusqlite::Connection;

use super::cell::Cell;
use super::difference::{diff, Difference, Kind};
use super::ident;
use super::rows::{compare_rows, read_rows, read_table};

/// Opens `path` for comparison: read and write (FTS5 checks run inside a
/// savepoint that is rolled back), no D1 limits (the comparison reads the
/// largest values whole and result rows of up to 101 columns).
pub fn open(path: &Path) -> Result<Connection, String> {
    if !path.exists() {
        return Err(format!("{} does not exist", path.display()));
    }
    Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))
}

/// Compares two database files; see [`compare`].
pub fn compare_files(original: &Path, copy: &Path) -> Result<Vec<Difference>, String> {
    Ok(compare(&open(original)?, &open(copy)?))
}

struct Object {
    kind: String,
    table: String,
    sql: Option<String>,
}

fn is_internal(name: &str) -> bool {
    let lower = name.to_ascii_lowercase();
    lower.starts_with("sqlite_") || lower.starts_with("_cf_")
}

const FTS5_SHADOWS: [&str; 5] = ["_data", "_idx", "_content", "_docsize", "_config"];

/// The user schema objects, FTS5 tables and shadow tables of a database.
struct Schema {
    objects: BTreeMap<String, Object>,
    tables: Vec<String>,
    fts5: Vec<String>,
}

fn read_schema(conn: &Connection) -> Result<Schema, String> {
    let mut statement = conn
        .prepare("SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid")
        .map_err(|e| e.to_string())?;
    let rows: Vec<(String, String, String, Option<String>)> = statement
        .query_map([], |r| Ok((r.get(0)?, r.get(1)?, r.get(2)?, r.get(3)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    let fts5: Vec<String> = rows
        .iter()
        .filter(|(kind, name, _, sql)| {
            kind == "table"
                && !is_internal(name)
                && sql.as_deref().is_some_and(|s| {
                    let s = s.to_ascii_lowercase();
                    s.starts_with("create virtual table") && s.contains("fts5")
                })
        })
        .map(|r| r.1.clone())
        .collect();
    let shadow = |name: &str| {
        fts5.iter()
            .any(|f| FTS5_SHADOWS.iter().any(|s| name == format!("{f}{s}")))
    };
    let mut objects = BTreeMap::new();
    let mut tables = Vec::new();
    for (kind, name, table, sql) in rows {
        if is_internal(&name) || is_internal(&table) || shadow(&name) || shadow(&table) {
            continue;
        }
        if kind == "table" && !fts5.contains(&name) {
            tables.push(name.clone());
        }
        objects.insert(name, Object { kind, table, sql });
    }
    Ok(Schema {
        objects,
        tables,
        fts5,
    })
}

/// Every difference between `original` and `copy`; empty when they are
/// equal. See the module documentation for what is compared.
pub fn compare(original: &Connection, copy: &Connection) -> Vec<Difference> {
    let mut out = Vec::new();
    let error = |object: &str, side: &str, e: String| Difference {
        kind: Kind::Error,
        object: object.to_string(),
        key: None,
        column: None,
        original: if side == "original" {
            e.clone()
        } else {
            String::new()
        },
        copy: if side == "copy" { e } else { String::new() },
    };
    let (a, b) = match (read_schema(original), read_schema(copy)) {
        (Ok(a), Ok(b)) => (a, b),
        (a, b) => {
            if let Err(e) = a {
                out.push(error("sqlite_schema", "original", e));
            }
            if let Err(e) = b {
                out.push(error("sqlite_schema", "copy", e));
            }
            return out;
        }
    };

    // Schema objects, by name.
    let describe = |o: &Object| {
        format!(
            "{} on {:?}: {}",
            o.kind,
            o.table,
            o.sql.as_deref().unwrap_or("(no SQL)")
        )
    };
    for (name, o) in &a.objects {
        match b.objects.get(name) {
            None => out.push(diff(
                Kind::Schema,
                name,
                None,
                None,
                describe(o),
                "missing".into(),
            )),
            Some(c) if c.kind != o.kind || c.table != o.table || c.sql != o.sql => out.push(diff(
                Kind::Schema,
                name,
                None,
                None,
                describe(o),
                describe(c),
            )),
            Some(_) => {}
        }
    }
    for (name, c) in &b.objects {
        if !a.objects.contains_key(name) {
            out.push(diff(
                Kind::Schema,
                name,
                None,
                None,
                "missing".into(),
                describe(c),
            ));
        }
    }

    // Rows of every ordinary table.
    for table in &a.tables {
        if !b.tables.contains(table) {
            out.push(diff(
                Kind::Table,
                table,
                None,
                None,
                "present".into(),
                "missing".into(),
            ));
            continue;
        }
        match (read_table(original, table), read_table(copy, table)) {
            (Ok(x), Ok(y)) => compare_rows(table, &x, &y, &mut out),
            (x, y) => {
                if let Err(e) = x {
                    out.push(error(table, "original", e));
                }
                if let Err(e) = y {
                    out.push(error(table, "copy", e));
                }
            }
        }
    }
    for table in &b.tables {
        if !a.tables.contains(table) {
            out.push(diff(
                Kind::Table,
                table,
                None,
                None,
                "missing".into(),
                "present".into(),
            ));
        }
    }

    // sqlite_sequence.
    match (sequence(original), sequence(copy)) {
        (Ok(x), Ok(y)) => {
            for (name, seq) in &x {
                let other = y.get(name);
                if other != Some(seq) {
                    out.push(diff(
                        Kind::Sequence,
                        name,
                        None,
                        None,
                        format!("seq {seq}"),
                        other.map_or("no entry".into(), |s| format!("seq {s}")),
                    ));
                }
            }
            for (name, seq) in &y {
                if !x.contains_key(name) {
                    out.push(diff(
                        Kind::Sequence,
                        name,
                        None,
                        None,
                        "no entry".into(),
                        format!("seq {seq}"),
                    ));
                }
            }
        }
        (x, y) => {
            if let Err(e) = x {
                out.push(error("sqlite_sequence", "original", e));
            }
            if let Err(e) = y {
                out.push(error("sqlite_sequence", "copy", e));
            }
        }
    }

    // FTS5: documents, MATCH results, integrity-check on the copy.
    for fts in &a.fts5 {
        if !b.fts5.contains(fts) {
            out.push(diff(
                Kind::Table,
                fts,
                None,
                None,
                "present".into(),
                "missing".into(),
            ));
            continue;
        }
        let sql = format!("SELECT rowid, * FROM {} ORDER BY rowid", ident(fts));
        match (read_rows(original, &sql, &[0]), read_rows(copy, &sql, &[0])) {
            (Ok(x), Ok(y)) => compare_rows(fts, &x, &y, &mut out),
            (x, y) => {
                if let Err(e) = x {
                    out.push(error(fts, "original", e));
                }
                if let Err(e) = y {
                    out.push(error(fts, "copy", e));
                }
            }
        }
        for query in match_queries(original, fts) {
            let (x, y) = (
                match_rowids(original, fts, &query),
                match_rowids(copy, fts, &query),
            );
            if x != y {
                let show = |r: &Result<Vec<i64>, String>| match r {
                    Ok(v) if v.is_empty() => "no rows".to_string(),
                    Ok(v) => format!("{} rowids {:?}", v.len(), &v[..v.len().min(12)]),
                    Err(e) => format!("error {e}"),
                };
                out.push(diff(
                    Kind::FtsMatch,
                    fts,
                    Some(format!("MATCH {query:?}")),
                    None,
                    show(&x),
                    show(&y),
                ));
            }
        }
        let (x, y) = (fts_integrity(original, fts), fts_integrity(copy, fts));
        if y.is_err() || x.is_err() {
            let show = |r: &Result<(), String>| match r {
                Ok(()) => "ok".to_string(),
                Err(e) => e.clone(),
            };
            out.push(diff(
                Kind::FtsIntegrity,
                fts,
                None,
                None,
                show(&x),
                show(&y),
            ));
        }
    }

    // PRAGMA foreign_key_check, equal on both sides.
    match (fk_check(original), fk_check(copy)) {
        (Ok(x), Ok(y)) if x != y => {
            let show = |v: &[String]| {
                if v.is_empty() {
                    "no violations".into()
                } else {
                    v.join("; ")
                }
            };
            out.push(diff(
                Kind::ForeignKeyCheck,
                "PRAGMA foreign_key_check",
                None,
                None,
                show(&x),
                show(&y),
            ));
        }
        (Ok(_), Ok(_)) => {}
        (x, y) => {
            if let Err(e) = x {
                out.push(error("PRAGMA foreign_key_check", "original", e));
            }
            if let Err(e) = y {
                out.push(error("PRAGMA foreign_key_check", "copy", e));
            }
        }
    }

    // PRAGMA integrity_check, ok on the copy.
    match integrity(copy) {
        Ok(result) if result == "ok" => {}
        Ok(result) => out.push(diff(
            Kind::IntegrityCheck,
            "PRAGMA integrity_check",
            None,
            None,
            integrity(original).unwrap_or_else(|e| e),
            result,
        )),
        Err(e) => out.push(error("PRAGMA integrity_check", "copy", e)),
    }
    out
}

fn sequence(conn: &Connection) -> Result<BTreeMap<String, String>, String> {
    let exists: bool = conn
        .query_row(
            "SELECT count(*) > 0 FROM sqlite_schema WHERE name = 'sqlite_sequence'",
            [],
            |r| r.get(0),
        )
        .map_err(|e| e.to_string())?;
    if !exists {
        return Ok(BTreeMap::new());
    }
    let mut statement = conn
        .prepare("SELECT name, seq FROM sqlite_sequence")
        .map_err(|e| e.to_string())?;
    let rows = statement
        .query_map([], |r| {
            Ok((
                r.get::<_, String>(0)?,
                Cell::from_ref(r.get_ref(1)?).to_string(),
            ))
        })
        .and_then(|rows| rows.collect::<Result<Vec<_>, _>>())
        .map_err(|e| e.to_string())?;
    Ok(rows.into_iter().filter(|(n, _)| !is_internal(n)).collect())
}

/// MATCH queries for an FTS5 table, from the original's own terms (through
/// a temporary `fts5vocab` table): the five commonest terms as phrases, a
/// prefix query, an AND and an OR.
fn match_queries(conn: &Connection, fts: &str) -> Vec<String> {
    let vocab = "temp.corpus_vocab";
    let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {vocab}"));
    let created = conn.execute_batch(&format!(
        "CREATE VIRTUAL TABLE {vocab} USING fts5vocab(main, '{}', 'row')",
        fts.replace('\'', "''")
    ));
    let mut terms: Vec<String> = Vec::new();
    if created.is_ok() {
        if let Ok(mut statement) = conn.prepare(&format!(
            "SELECT term FROM {vocab} ORDER BY doc DESC, term LIMIT 5"
        )) {
            if let Ok(rows) = statement.query_map([], |r| r.get::<_, String>(0)) {
                terms = rows.filter_map(Result::ok).collect();
            }
        }
        let _ = conn.execute_batch(&format!("DROP TABLE IF EXISTS {vocab}"));
    }
    let phrase = |t: &str| format!("\"{}\"", t.replace('"', "\"\""));
    let mut queries: Vec<String> = terms.iter().map(|t| phrase(t)).collect();
    if let Some(t) = terms.first() {
        let prefix: String = t.chars().take(2).collect();
        queries.push(format!("{}*", phrase(&prefix)));
    }
    if terms.len() >= 2 {
        queries.push(format!("{} AND {}", phrase(&terms[0]), phrase(&terms[1])));
        queries.push(format!(
            "{} OR {}",
            phrase(&terms[0]),
            phrase(&terms[terms.len() - 1])
        ));
    }
    queries.push("\"searching\"".into());
    queries
}

fn match_rowids(conn: &Connection, fts: &str, query: &str) -> Result<Vec<i64>, String> {
    let mut statement = conn
        .prepare(&format!(
            "SELECT rowid FROM {0} WHERE {0} MATCH ?1 ORDER BY rowid",
            ident(fts)
        ))
        .map_err(|e| e.to_string())?;
    let rows = statement
        .query_map([query], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string());
    rows
}

fn fts_integrity(conn: &Connection, fts: &str) -> Result<(), String> {
    conn.execute_batch("SAVEPOINT corpus_check")
        .map_err(|e| e.to_string())?;
    let result = conn
        .execute(
            &format!("INSERT INTO {0}({0}) VALUES('integrity-check')", ident(fts)),
            [],
        )
        .map(|_| ())
        .map_err(|e| e.to_string());
    let _ = conn.execute_batch("ROLLBACK TO corpus_check; RELEASE corpus_check");
    result
}

fn fk_check(conn: &Connection) -> Result<Vec<String>, String> {
    let mut statement = conn
        .prepare("SELECT \"table\", rowid, parent, fkid FROM pragma_foreign_key_check")
        .map_err(|e| e.to_string())?;
    let mut rows: Vec<String> = statement
        .query_map([], |r| {
            Ok(format!(
                "{} rowid {} -> {} (fk {})",
                r.get::<_, String>(0)?,
                Cell::from_ref(r.get_ref(1)?),
                r.get::<_, String>(2)?,
                r.get::<_, i64>(3)?
            ))
        })
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    rows.sort();
    Ok(rows)
}

fn integrity(conn: &Connection) -> Result<String, String> {
    let mut statement = conn
        .prepare("PRAGMA integrity_check")
        .map_err(|e| e.to_string())?;
    let rows: Vec<String> = statement
        .query_map([], |r| r.get(0))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    Ok(rows.join("; "))
}
