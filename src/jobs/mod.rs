//! The jobs (backup, prune, validate, restore), written against two
//! small traits for the edges ([`store::SqlReader`], [`store::ObjectStore`])
//! so their logic runs natively in tests against SQLite and an in-memory
//! bucket, and on workerd against D1 and R2.

pub mod backup;
pub mod backup_job;
pub mod engine;
pub mod import_job;
pub mod import_upload;
pub mod prune;
pub mod restore;
pub mod restore_job;
pub mod runner;
pub mod self_check;
pub mod slice;
pub mod store;

#[cfg(test)]
pub(crate) mod testing;
