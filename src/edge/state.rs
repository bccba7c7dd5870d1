//! Run history kept in R2 for `/health` and `/v1/status`.

use crate::error::ApiError;
use crate::health::BackupHistory;
use crate::layout::HISTORY_KEY;
use worker::Bucket;

/// The recorded history, or an empty one before the first run.
pub async fn load_history(bucket: &Bucket) -> Result<BackupHistory, ApiError> {
    let read_failed = |detail: String| {
        super::log::event("error", "state_read_failed", serde_json::json!({ "key": HISTORY_KEY, "detail": detail }));
        ApiError::internal("reading the run history from R2")
    };
    let Some(object) = bucket.get(HISTORY_KEY).execute().await.map_err(|e| read_failed(e.to_string()))? else {
        return Ok(BackupHistory::default());
    };
    let text = match object.body() {
        Some(body) => body.text().await.map_err(|e| read_failed(e.to_string()))?,
        None => return Ok(BackupHistory::default()),
    };
    serde_json::from_str(&text).map_err(|e| read_failed(format!("{HISTORY_KEY} is not valid: {e}")))
}
