//! Exactly once into D1: the restore's progress table.
//!
//! Step 7's batch creates [`PROGRESS_TABLE`] empty (after dropping any left
//! by an earlier run). Every import batch then carries, as its last
//! statement, the insertion of its sequence number (1, 2, 3, ... in the
//! order the planner made the batches), so D1 commits the batch and its
//! number together or neither. A slice of the import reads the highest
//! number committed once, when it first has a batch to send, and sends
//! only the batches numbered above it: a slice that died after D1 committed
//! some of its batches, and is run again from an older checkpoint, skips
//! them (the batches and their numbers do not depend on where slices end).
//! The table is dropped when the restore ends (step 10).
//!
//! The name starts with `_d1vault_` ([`crate::internal_names`]): the dump
//! never backs it up, step 7 and the verification ignore it, and so does
//! the schema hash.

use crate::jobs::store::{EdgeError, SqlReader};
use crate::restore::plan::PlannedStatement;

/// The progress table's name.
pub const PROGRESS_TABLE: &str = "_d1vault_restore_progress";

/// Creates the progress table (in step 7's batch).
pub(crate) fn create() -> PlannedStatement {
    PlannedStatement::plain(format!(
        "CREATE TABLE {PROGRESS_TABLE}(seq INTEGER PRIMARY KEY)"
    ))
}

/// Drops the progress table if it is there.
pub(crate) fn drop() -> PlannedStatement {
    PlannedStatement::plain(format!("DROP TABLE IF EXISTS {PROGRESS_TABLE}"))
}

/// Records that batch `seq` is committed: the last statement of that batch.
pub(crate) fn record(seq: u64) -> PlannedStatement {
    PlannedStatement::plain(format!("INSERT INTO {PROGRESS_TABLE}(seq) VALUES ({seq})"))
}

/// The highest batch number committed (0 before the first).
pub(crate) async fn committed(db: &impl SqlReader) -> Result<u64, EdgeError> {
    let rows = db
        .query(&format!(
            "SELECT CAST(coalesce(max(seq), 0) AS TEXT) FROM {PROGRESS_TABLE}"
        ))
        .await?;
    let value = rows.first().and_then(|row| row.first()).cloned().flatten();
    value
        .as_deref()
        .and_then(|text| text.parse().ok())
        .ok_or_else(|| {
            EdgeError::new(
                format!("reading {PROGRESS_TABLE}"),
                format!("max(seq) is {value:?}, not a number"),
            )
        })
}

/// Whether the progress table exists: whether a step 7 committed.
pub(crate) async fn exists(db: &impl SqlReader) -> Result<bool, EdgeError> {
    let rows = db
        .query(&format!(
            "SELECT name FROM sqlite_schema WHERE type = 'table' AND name = '{PROGRESS_TABLE}'"
        ))
        .await?;
    Ok(!rows.is_empty())
}
