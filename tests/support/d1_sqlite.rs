//! A rusqlite connection made as strict as D1, for every native stand-in
//! for D1: the lib's job tests (`src/jobs/testing.rs`), the dump and restore
//! test harness (`tests/dump/harness.rs`) and the limits corpus
//! (`tests/corpus`). One file, included by `#[path]` into each, so that a
//! query or statement D1 would refuse fails natively too, the same way
//! everywhere. The includer has `d1_limits` (the crate's
//! `d1_vault::d1_limits`) in scope.

use super::d1_limits;
use rusqlite::functions::FunctionFlags;
use rusqlite::limits::Limit;
use rusqlite::Connection;

/// Sets D1's limits on `conn`: values and rows of at most 2,000,000 bytes,
/// statements under 100,000 bytes, expression depth 100, 100 columns (also
/// per result set) and 100 bound parameters.
pub fn apply_d1_limits(conn: &Connection) {
    let limits = [
        (Limit::SQLITE_LIMIT_LENGTH, d1_limits::MAX_VALUE_BYTES),
        (
            Limit::SQLITE_LIMIT_SQL_LENGTH,
            d1_limits::MAX_STATEMENT_BYTES - 1,
        ),
        (Limit::SQLITE_LIMIT_EXPR_DEPTH, d1_limits::MAX_EXPR_DEPTH),
        (Limit::SQLITE_LIMIT_COLUMN, d1_limits::MAX_COLUMNS),
        (
            Limit::SQLITE_LIMIT_COMPOUND_SELECT,
            d1_limits::MAX_COMPOUND_SELECT_TERMS,
        ),
        (
            Limit::SQLITE_LIMIT_VARIABLE_NUMBER,
            d1_limits::MAX_BOUND_PARAMETERS,
        ),
    ];
    for (limit, value) in limits {
        conn.set_limit(limit, value as i32).expect("set a D1 limit");
    }
}

/// Registers the SQL functions D1 has and the bundled SQLite lacks (it is
/// built without SQLITE_ENABLE_MATH_FUNCTIONS): `atan2`, by which the dump
/// tells a REAL -0.0 from 0.0. Like SQLite's, it is NULL if an argument is.
pub fn register_d1_functions(conn: &Connection) {
    conn.create_scalar_function(
        "atan2",
        2,
        FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
        |context| {
            let y: Option<f64> = context.get(0)?;
            let x: Option<f64> = context.get(1)?;
            Ok(y.zip(x).map(|(y, x)| y.atan2(x)))
        },
    )
    .expect("register atan2");
}
