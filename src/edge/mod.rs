//! The edges: everything that calls the `worker` crate. Each module is thin;
//! decisions live in the pure core (`crate::route`, `crate::auth`,
//! `crate::config`, `crate::health`, `crate::format`), which is tested natively.

pub mod http;
pub mod log;
pub mod scheduled;
mod env;
mod respond;
mod state;
mod test_routes;
