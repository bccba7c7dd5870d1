//! Structured log lines: one JSON object per event, readable in `wrangler tail`.

use serde_json::{json, Value};

/// Logs `event` with its fields as one JSON line.
pub fn event(level: &str, event: &str, fields: Value) {
    let mut line = json!({ "level": level, "event": event });
    if let (Some(line), Value::Object(fields)) = (line.as_object_mut(), fields) {
        line.extend(fields);
    }
    worker::console_log!("{line}");
}
