//! One backup run on the platform, for the cron and for `POST /v1/backups`:
//! binds the jobs to D1 and R2, logs the outcome as one structured line,
//! and alerts on failure.

use super::d1::D1Reader;
use super::memory::wasm_memory_bytes;
use super::r2::R2Store;
use super::shared::MISSING_KEY;
use super::{alert, env, log};
use crate::config::{Config, DB_BINDING};
use crate::error::ApiError;
use crate::jobs::backup::{BackupError, BackupRequest, BackupSettings};
use crate::jobs::runner::{self, Probes, RunError, RunOutcome};
use crate::layout::new_backup_id;
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde_json::json;
use worker::Env;

/// The worker's version, recorded in every manifest.
pub const WORKER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// What to back up and why.
pub struct RunSpec {
    /// The backup's kind.
    pub kind: BackupKind,
    /// Whether to pin it.
    pub pinned: bool,
    /// An operator's note.
    pub note: Option<String>,
    /// The time the backup stands for.
    pub created_at: Timestamp,
    /// Whether to prune afterwards (at `created_at`).
    pub prune: bool,
}

/// Why a run did not produce a backup, as the API reports it.
pub enum RunFailure {
    /// Another job holds the lock (409).
    Locked(String),
    /// The run failed or could not start; recorded, logged and alerted.
    Failed(ApiError),
}

/// Runs one backup; records, logs and alerts as needed.
pub async fn run(env: &Env, config: &Config, spec: RunSpec) -> Result<RunOutcome, RunFailure> {
    let store = R2Store::new(env::backups_bucket(env).map_err(RunFailure::Failed)?);
    let mut random = [0u8; 3];
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut random)
        .and_then(|()| getrandom::getrandom(&mut salt))
        .map_err(|_| RunFailure::Failed(ApiError::internal("drawing random bytes")))?;
    let request = BackupRequest {
        id: new_backup_id(spec.created_at, random),
        kind: spec.kind,
        pinned: spec.pinned,
        note: spec.note,
        created_at: spec.created_at,
        salt,
    };
    let Some(keyring) = config.keyring.as_ref() else {
        let message = MISSING_KEY;
        fail(&store, config, &request, message).await;
        return Err(RunFailure::Failed(ApiError::NotConfigured(message.into())));
    };
    let db = match env.d1(DB_BINDING) {
        Ok(db) => D1Reader::new(db),
        Err(_) => {
            let message = "the D1 binding DB is missing; add [[d1_databases]] binding = \"DB\" to wrangler.toml";
            fail(&store, config, &request, message).await;
            return Err(RunFailure::Failed(ApiError::NotConfigured(message.into())));
        }
    };
    let settings = BackupSettings {
        environment: &config.environment,
        database: &config.database_name,
        key: keyring.current(),
        worker_version: WORKER_VERSION,
        fault: config.backup_fault,
    };
    let prune = spec.prune.then_some((config.retention, spec.created_at));
    let probes = Probes {
        clock: &env::now,
        memory: &wasm_memory_bytes,
    };
    let lock_ttl_ms = i64::from(config.lock_ttl_seconds) * 1_000;
    match runner::run_backup(&db, &store, settings, &request, prune, lock_ttl_ms, probes).await {
        Ok(outcome) => {
            log::event(
                "info",
                "backup_succeeded",
                json!({ "report": outcome.report }),
            );
            for warning in &outcome.report.warnings {
                log::event(
                    "warn",
                    "backup_warning",
                    json!({ "id": request.id, "warning": warning }),
                );
            }
            Ok(outcome)
        }
        Err(RunError::Locked(held)) => {
            let message = RunError::Locked(held).to_string();
            log::event(
                "warn",
                "backup_skipped",
                json!({ "id": request.id, "reason": message }),
            );
            Err(RunFailure::Locked(message))
        }
        Err(error) => {
            let message = error.to_string();
            log::event(
                "error",
                "backup_failed",
                json!({ "id": request.id, "error": message }),
            );
            alert_failure(config, &request, &message).await;
            Err(RunFailure::Failed(match error {
                // It names statements and tables, never data, and tells the operator what to do.
                RunError::Failed {
                    error: BackupError::SelfCheck(_),
                    ..
                } => ApiError::Unprocessable(format!("backup {}: {message}", request.id)),
                _ => ApiError::internal(format!("backup {} failed", request.id)),
            }))
        }
    }
}

async fn fail(store: &R2Store, config: &Config, request: &BackupRequest, message: &str) {
    log::event(
        "error",
        "backup_failed",
        json!({ "id": request.id, "error": message }),
    );
    if let Err(error) = runner::record_failed_start(store, request, message, env::now()).await {
        log::event(
            "error",
            "history_write_failed",
            json!({ "detail": error.to_string() }),
        );
    }
    alert_failure(config, request, message).await;
}

async fn alert_failure(config: &Config, request: &BackupRequest, message: &str) {
    if let Some(url) = &config.alert_webhook_url {
        let payload = json!({
            "event": "backup_failed",
            "environment": config.environment,
            "database": config.database_name,
            "backup_id": request.id,
            "kind": request.kind,
            "error": message,
            "at": env::now(),
        });
        alert::send(url, &payload).await;
    }
}
