//! d1-vault: encrypted, verifiable, restorable backups of a Cloudflare D1
//! database into R2.
//!
//! This file holds only the Worker's entry points. The pure core (`auth`,
//! `config`, `error`, `format`, `health`, `layout`, `route`, `time`) never
//! calls the `worker` crate and is tested natively with `cargo test`; the
//! `edge` modules are the thin layer that talks to D1, R2 and HTTP.

pub mod auth;
pub mod config;
pub mod d1_limits;
pub mod dump;
pub mod error;
pub mod format;
pub mod health;
pub mod internal_names;
pub mod jobs;
pub mod layout;
pub mod listing;
pub mod manifest;
pub mod platform;
pub mod restore;
pub mod retention;
pub mod route;
mod serde_base64;
pub mod time;

mod edge;

use worker::{event, Context, Env, Request, Response, ScheduleContext, ScheduledEvent};

#[event(start)]
fn start() {
    console_error_panic_hook::set_once();
}

#[event(fetch)]
async fn fetch(req: Request, env: Env, _ctx: Context) -> worker::Result<Response> {
    edge::http::handle(req, env).await
}

#[event(scheduled)]
async fn scheduled(event: ScheduledEvent, env: Env, _ctx: ScheduleContext) {
    edge::scheduled::run(event, env).await;
}
