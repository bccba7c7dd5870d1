//! D1's documented limits that shape every query and statement we send it,
//! in one place. The dump, the restore planner and the native SQLite
//! stand-ins for D1 (which must be as strict as D1 itself, or a test could
//! pass natively and fail in production) all read them from here.

/// D1 rejects a statement of this many bytes or more, also inside `batch()`.
pub const MAX_STATEMENT_BYTES: usize = 100_000;

/// The deepest expression tree D1's SQLite accepts (`SQLITE_MAX_EXPR_DEPTH`
/// is 100 there, against 1,000 in a stock build): a chain of N binary
/// operators such as `a || b || c` is N deep.
pub const MAX_EXPR_DEPTH: usize = 100;

/// Columns per table, and per result set.
pub const MAX_COLUMNS: usize = 100;

/// Terms of one compound SELECT (`UNION ALL` and the like): D1 refuses a
/// sixth with "too many terms in compound SELECT" (measured on local D1;
/// 500 in a stock build).
pub const MAX_COMPOUND_SELECT_TERMS: usize = 5;

/// Bound parameters in one query.
pub const MAX_BOUND_PARAMETERS: usize = 100;

/// Bytes in one string, BLOB or row.
pub const MAX_VALUE_BYTES: usize = 2_000_000;
