//! The bundled loader: runs a dump's SQL with rusqlite's bundled SQLite, a
//! stock current SQLite with its default limits, for the classes whose
//! schema the system's sqlite3 shell is too old to read
//! ([`super::Loader::Bundled`]). Stops at the first failing statement, as
//! `sqlite3 -bail` does.

use std::path::Path;

use rusqlite::Connection;

/// Runs `sql` (a whole dump) into a new database at `db`.
pub fn load(db: &Path, sql: &[u8]) -> Result<(), String> {
    if db.exists() {
        return Err(format!("{} exists already", db.display()));
    }
    let sql = std::str::from_utf8(sql).map_err(|e| format!("the dump is not UTF-8: {e}"))?;
    let conn = Connection::open(db).map_err(|e| format!("open {}: {e}", db.display()))?;
    conn.execute_batch(sql)
        .map_err(|e| format!("loading the dump into {}: {e}", db.display()))
}

/// [`load`]s the dump in the file `dump` into a new database at `db`.
pub fn load_file(db: &Path, dump: &Path) -> Result<(), String> {
    let sql = std::fs::read(dump).map_err(|e| format!("read {}: {e}", dump.display()))?;
    load(db, &sql)
}
