//! Lookups and error mappings the API handlers share: the bucket, the
//! keyring, a backup's manifest by id, and bucket failures as logged 500s.

use super::r2::R2Store;
use super::{env, log};
use crate::config::Config;
use crate::error::ApiError;
use crate::format::keys::Keyring;
use crate::format::BackupId;
use crate::jobs::prune;
use crate::jobs::store::EdgeError;
use crate::manifest::Manifest;
use crate::platform::InvocationCounter;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Request};

/// What to do when no encryption key is configured.
pub const MISSING_KEY: &str = "BACKUP_ENCRYPTION_KEY is not set: set it with 'wrangler secret put BACKUP_ENCRYPTION_KEY' (64 hex characters, from 'd1-vault keygen')";

/// The backup bucket, its calls counted into `counter`.
pub fn backup_store(env: &Env, counter: &Rc<InvocationCounter>) -> Result<R2Store, ApiError> {
    env::backups_bucket(env).map(|bucket| R2Store::new(bucket, counter.clone()))
}

/// The configured keys, or 503 saying how to set them.
pub fn keyring(config: &Config) -> Result<&Keyring, ApiError> {
    config
        .keyring
        .as_ref()
        .ok_or_else(|| ApiError::NotConfigured(MISSING_KEY.into()))
}

/// The manifest of backup `id`: 400 for a malformed id, 404 for none.
pub async fn find_manifest(store: &R2Store, id: &str) -> Result<Manifest, ApiError> {
    let id = BackupId::parse(id)
        .map_err(|error| ApiError::BadRequest(format!("{id:?} is not a backup id: {error}")))?;
    prune::get_manifest(store, id.as_str())
        .await
        .map_err(edge_failed)?
        .ok_or_else(|| {
            ApiError::NotFound(format!(
                "no backup {}; list the backups with GET /v1/backups",
                id.as_str()
            ))
        })
}

/// The request's query parameters.
pub fn query_pairs(req: &Request) -> Result<Vec<(String, String)>, ApiError> {
    let url = req
        .url()
        .map_err(|_| ApiError::BadRequest("the request URL is malformed".into()))?;
    Ok(url
        .query_pairs()
        .map(|(k, v)| (k.into_owned(), v.into_owned()))
        .collect())
}

/// A failed bucket operation: the detail to the log, a 500 to the client.
pub fn edge_failed(error: EdgeError) -> ApiError {
    log::event(
        "error",
        "edge_failed",
        json!({ "operation": error.operation, "detail": error.detail }),
    );
    ApiError::internal(error.operation)
}
