//! The edges: everything that calls the `worker` crate. Each module is thin;
//! decisions live in the pure core (`crate::route`, `crate::auth`,
//! `crate::config`, `crate::health`, `crate::format`, `crate::jobs`), which
//! is tested natively.

mod alert;
mod api;
mod backup_run;
mod bench_floor;
mod d1;
mod env;
pub mod http;
mod import_parts;
mod jobs_client;
pub mod jobs_object;
pub mod log;
mod memory;
mod r2;
mod respond;
mod restore_api;
pub mod scheduled;
mod shared;
mod test_routes;
mod web_compression;
mod web_engine;
