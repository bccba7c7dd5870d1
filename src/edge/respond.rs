//! JSON responses, including the contract's error envelope.

use crate::error::ApiError;
use serde::Serialize;
use worker::{Headers, Response};

/// A JSON response with `status`; never cached.
pub fn json(status: u16, body: &impl Serialize) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/json; charset=utf-8")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_json(body)?
        .with_status(status)
        .with_headers(headers))
}

/// A binary response (test routes only).
pub fn bytes(body: Vec<u8>) -> worker::Result<Response> {
    let headers = Headers::new();
    headers.set("content-type", "application/octet-stream")?;
    headers.set("cache-control", "no-store")?;
    Ok(Response::from_bytes(body)?.with_headers(headers))
}

/// The contract's `{"error": {"code", "message"}}` with the error's status.
pub fn error(error: &ApiError) -> worker::Result<Response> {
    json(error.status(), &error.body())
}
