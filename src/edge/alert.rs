//! Failure alerts: a JSON POST to `ALERT_WEBHOOK_URL` when it is set.

use super::log;
use serde_json::{json, Value};
use worker::{Fetch, Headers, Method, Request, RequestInit};

/// Posts `payload` to `url`; a failure to alert is logged, never raised.
pub async fn send(url: &str, payload: &Value) {
    let sent = async {
        let headers = Headers::new();
        headers.set("content-type", "application/json")?;
        let mut init = RequestInit::new();
        init.with_method(Method::Post)
            .with_headers(headers)
            .with_body(Some(payload.to_string().into()));
        let response = Fetch::Request(Request::new_with_init(url, &init)?)
            .send()
            .await?;
        Ok::<u16, worker::Error>(response.status_code())
    };
    match sent.await {
        Ok(status) if (200..300).contains(&status) => {
            log::event("info", "alert_sent", json!({ "status": status }))
        }
        Ok(status) => log::event("error", "alert_failed", json!({ "status": status })),
        Err(error) => log::event(
            "error",
            "alert_failed",
            json!({ "detail": error.to_string() }),
        ),
    }
}
