//! What every backup run shares at the edge: the worker's version, recorded
//! in every manifest, and the failure alert.

use super::{alert, env};
use crate::config::Config;
use crate::jobs::backup::BackupRequest;
use serde_json::json;

/// The worker's version, recorded in every manifest.
pub const WORKER_VERSION: &str = env!("CARGO_PKG_VERSION");

/// Posts a backup failure to the webhook, if one is configured.
pub async fn alert_failure(config: &Config, request: &BackupRequest, message: &str) {
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
