//! The jobs (backup, prune; validate and restore later), written against two
//! small traits for the edges ([`store::SqlReader`], [`store::ObjectStore`])
//! so their logic runs natively in tests against SQLite and an in-memory
//! bucket, and on workerd against D1 and R2.

pub mod backup;
pub mod lock;
pub mod prune;
pub mod restore;
pub mod runner;
pub mod self_check;
pub mod store;

#[cfg(test)]
pub(crate) mod testing;
