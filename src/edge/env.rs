//! Reads the typed configuration and the bindings from the Worker's `env`.

use crate::config::{Config, ConfigError, BACKUPS_BINDING};
use crate::error::ApiError;
use crate::time::Timestamp;
use worker::{Bucket, Date, Env};

/// The configuration, parsed from vars and secrets. wrangler passes a TOML
/// number in `[vars]` as a JSON number, so numbers are accepted as text too.
pub fn load_config(env: &Env) -> Result<Config, ConfigError> {
    Config::from_lookup(|name| {
        env.var(name)
            .map(|value| value.to_string())
            .ok()
            .or_else(|| {
                env.object_var::<serde_json::Value>(name)
                    .ok()
                    .filter(|value| value.is_number() || value.is_boolean())
                    .map(|value| value.to_string())
            })
    })
}

/// The R2 bucket that holds the backups.
pub fn backups_bucket(env: &Env) -> Result<Bucket, ApiError> {
    env.bucket(BACKUPS_BINDING).map_err(|_| {
        ApiError::NotConfigured(format!(
            "the R2 binding {BACKUPS_BINDING} is missing; add [[r2_buckets]] binding = \"{BACKUPS_BINDING}\" to wrangler.toml"
        ))
    })
}

/// The current time, read once per request or run.
pub fn now() -> Timestamp {
    Timestamp::from_millis(Date::now().as_millis() as i64)
}
