//! The FTS5 classes. `fts5` holds every kind of FTS5 table that SQLite 3.40
//! (Debian 12's sqlite3 shell) knows: regular, external content on a table,
//! content on a view, contentless (`content=''`), trigram and porter
//! tokenizers, prefix indexes, `detail=column`, a quoted name, with update
//! and delete history and a document too large for one statement.
//! `fts5_contentless_delete` holds a `contentless_delete=1` table, which
//! needs SQLite 3.43: its dump is loaded with the bundled SQLite
//! ([`super::Loader::Bundled`]).

use rusqlite::types::Value;

use super::db::{Db, WORDS};

/// Contentless FTS5 tables of the `fts5` class: their text is not stored,
/// so a dump cannot re-insert their documents.
pub(super) const FTS5_CONTENTLESS: &[&str] = &["fts_contentless"];

pub(super) fn fts5(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE VIRTUAL TABLE fts_plain USING fts5(title, body, note UNINDEXED, tokenize = 'unicode61 remove_diacritics 2');
         CREATE TABLE docs(id INTEGER PRIMARY KEY, title TEXT, body TEXT);
         CREATE VIRTUAL TABLE fts_external USING fts5(title, body, content = 'docs', content_rowid = 'id');
         CREATE VIEW docs_odd AS SELECT id, title, body FROM docs WHERE id % 2 = 1;
         CREATE VIRTUAL TABLE fts_on_view USING fts5(title, body, content = 'docs_odd', content_rowid = 'id');
         CREATE VIRTUAL TABLE fts_contentless USING fts5(body, content = '');
         CREATE VIRTUAL TABLE fts_trigram USING fts5(body, tokenize = 'trigram');
         CREATE VIRTUAL TABLE fts_porter USING fts5(body, tokenize = 'porter unicode61', prefix = '2 3');
         CREATE VIRTUAL TABLE \"fts \"\"odd\"\" name\" USING fts5(\"the body\", detail = column);",
    )?;
    for i in 1..=60i64 {
        let title = db.text(3);
        let body: String = (0..12)
            .map(|_| *db.rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ");
        let rowid = i * 3;
        let rowid_v = Value::Integer(rowid);
        let (t, b) = (Value::Text(title), Value::Text(body));
        db.insert(
            "INSERT INTO fts_plain(rowid, title, body, note) VALUES(?, ?, ?, 'n')",
            &[rowid_v.clone(), t.clone(), b.clone()],
        )?;
        db.insert(
            "INSERT INTO docs(id, title, body) VALUES(?, ?, ?)",
            &[rowid_v.clone(), t.clone(), b.clone()],
        )?;
        db.insert(
            "INSERT INTO fts_contentless(rowid, body) VALUES(?, ?)",
            &[rowid_v.clone(), b.clone()],
        )?;
        db.insert(
            "INSERT INTO fts_trigram(rowid, body) VALUES(?, ?)",
            &[rowid_v.clone(), b.clone()],
        )?;
        db.insert(
            "INSERT INTO fts_porter(rowid, body) VALUES(?, ?)",
            &[rowid_v.clone(), b.clone()],
        )?;
        db.insert(
            "INSERT INTO \"fts \"\"odd\"\" name\"(rowid, \"the body\") VALUES(?, ?)",
            &[rowid_v, b],
        )?;
    }
    // History: updates and deletes leave their traces in the index segments.
    db.exec(
        "UPDATE fts_plain SET body = body || ' updated' WHERE rowid % 9 = 0;
         DELETE FROM fts_plain WHERE rowid % 15 = 0;",
    )?;
    // A document too large for one statement.
    db.insert(
        "INSERT INTO fts_plain(rowid, title, body) VALUES(1000, 'big', ?)",
        &[Value::Text("searching words; ".repeat(10_000))],
    )?;
    db.exec(
        "INSERT INTO fts_external(fts_external) VALUES('rebuild');
         INSERT INTO fts_on_view(fts_on_view) VALUES('rebuild');",
    )
}

/// Contentless-delete FTS5 tables of the `fts5_contentless_delete` class:
/// like `content=''`, their text is not stored.
pub(super) const FTS5_CONTENTLESS_DELETE: &[&str] = &["fts_contentless_delete"];

pub(super) fn fts5_contentless_delete(db: &mut Db) -> Result<(), String> {
    db.exec(
        "CREATE VIRTUAL TABLE fts_contentless_delete USING fts5(body, content = '', contentless_delete = 1);",
    )?;
    for i in 1..=60i64 {
        let body: String = (0..12)
            .map(|_| *db.rng.pick(WORDS))
            .collect::<Vec<_>>()
            .join(" ");
        db.insert(
            "INSERT INTO fts_contentless_delete(rowid, body) VALUES(?, ?)",
            &[Value::Integer(i * 3), Value::Text(body)],
        )?;
    }
    // History: deletes and replacements, which only contentless_delete=1
    // allows on a contentless table, leave tombstones in the index.
    db.exec(
        "DELETE FROM fts_contentless_delete WHERE rowid % 15 = 0;
         UPDATE fts_contentless_delete SET body = 'replaced searching text' WHERE rowid % 21 = 0;",
    )
}
