//! The pure core of the restore: from decrypted SQL text to the D1
//! `batch()` calls that rebuild the database (restore steps 5 and 8). It
//! never calls `worker`; the restore job feeds it bytes and runs its batches.
//!
//! ```no_run
//! # use d1_vault::restore::{Planner, StatementReader, Validator, PlannedBatch};
//! # fn pieces() -> Vec<Vec<u8>> { unimplemented!() }
//! # fn run(batch: PlannedBatch) { unimplemented!() }
//! let (mut reader, mut validator, mut planner) = (StatementReader::new(), Validator::new(), Planner::new());
//! let (mut statements, mut batches) = (Vec::new(), Vec::new());
//! for piece in pieces() {
//!     reader.push(&piece, &mut statements)?;
//!     for statement in statements.drain(..) {
//!         let validated = validator.check(&statement)?; // a Rejection names the line
//!         planner.push(validated, &mut batches);
//!     }
//!     batches.drain(..).for_each(run);
//! }
//! reader.finish()?;
//! planner.finish().into_iter().for_each(run);
//! let summary = validator.finish(); // compare with the manifest
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```
//!
//! The DESIGN's step 5 validates the whole object before step 7 touches
//! the database: run the reader and validator over it once (keeping only
//! the summary), then again with the planner for the import.
//!
//! - [`reader`]: splits the text into complete statements, as
//!   `sqlite3_complete()` does, whatever the pieces.
//! - [`validate`]: an allowlist of statement kinds, with the line and an
//!   actionable reason for anything else, and the [`RestoreSummary`] of what
//!   the import creates, comparable with the dump's summary in the manifest.
//! - [`plan`]: groups statements into batches within D1's limits and
//!   rewrites INSERTs over D1's statement limit (external dumps only) with
//!   bound parameters.
//!
//! # Accepted input
//!
//! Our own dumps (everything [`crate::dump`] writes), `sqlite3 .dump` output
//! of databases without FTS5 tables (its FTS5 tables are written through
//! `PRAGMA writable_schema`, which D1 forbids, and are refused at that line)
//! and `wrangler d1 export` output.
//!
//! # Invariants
//!
//! - Memory is bounded: the reader holds one statement (at most
//!   [`MAX_STATEMENT_TEXT_BYTES`]) and the current piece; the validator the
//!   schema statements and one entry per table; the planner one batch.
//! - Every statement the planner emits has passed the validator, is shorter
//!   than D1's 100,000-byte limit and has at most 100 bound parameters of
//!   at most 2,000,000 bytes each.
//! - Statement order is dump order, except that from the first CREATE
//!   TRIGGER on, triggers, indexes, views and FTS5 rebuilds wait until after
//!   the last statement, so that no trigger fires during the import; only
//!   skipped kinds (BEGIN, COMMIT, the dump's pragmas) are left out, and
//!   each batch adds its own `PRAGMA defer_foreign_keys = on` and
//!   `PRAGMA ignore_check_constraints = on`.
//!
//! # Limits
//!
//! - Foreign keys are checked at each batch's commit (D1 cannot turn them
//!   off, so a backup that recorded foreign key violations is refused at
//!   step 5). Our dumps write parents' rows first; an external dump written in
//!   another order, or a table that references itself with rows in
//!   reference order spread over batches, can fail the import with a
//!   foreign key error (and the restore rolls back to the safety backup).
//! - The rows of an external-content FTS5 table whose content is a view
//!   cannot be counted from the statements
//!   ([`RestoreSummary::uncounted_tables`]); a contentless FTS5 table is
//!   recreated empty ([`RestoreSummary::contentless_tables`]). Neither is
//!   compared by row count, and the restore warns about both.
//! - CHECK constraints are not checked during the import (a row too large
//!   for one statement is inserted with placeholders first).

mod lex;
pub mod plan;
pub mod reader;
pub mod validate;

pub use plan::{FitError, Param, PlannedBatch, PlannedStatement, Planner};
pub use reader::{Construct, ReadError, Statement, StatementReader, MAX_STATEMENT_TEXT_BYTES};
pub use validate::{RejectReason, Rejection, RestoreSummary, StatementKind, Validated, Validator};
