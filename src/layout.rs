//! Where things live in the backup bucket.
//!
//! Every key is under [`PREFIX`]; one bucket per environment, or one prefix
//! per environment in a shared bucket (DESIGN.md, "R2 layout"). A data object
//! without its manifest is an incomplete backup: never listed.

/// The root of everything d1-vault writes.
pub const PREFIX: &str = "backups/d1/";
/// Run history that `/health` and `/v1/status` read.
pub const HISTORY_KEY: &str = "backups/d1/state/history.json";
