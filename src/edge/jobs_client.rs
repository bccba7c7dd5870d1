//! The worker's side of the jobs' object: submits jobs and forwards the job
//! routes to the one object of this environment, counting each call as a
//! subrequest of the invocation.

use super::jobs_object::{NewJobBody, BINDING, OBJECT_NAME};
use crate::error::ApiError;
use crate::platform::InvocationCounter;
use worker::wasm_bindgen::JsValue;
use worker::{Env, Headers, Method, Request, RequestInit, Response};

/// Sends `method path` (with an optional JSON body) to the jobs' object and
/// returns its response as is.
pub async fn forward(
    env: &Env,
    counter: &InvocationCounter,
    method: Method,
    path_and_query: &str,
    body: Option<String>,
) -> Result<Response, ApiError> {
    counter
        .subrequest()
        .map_err(|e| ApiError::internal(format!("calling the jobs object: {e}")))?;
    let unavailable = |_| {
        ApiError::NotConfigured(format!(
            "the Durable Object binding {BINDING} is missing; add [[durable_objects.bindings]] \
             name = \"{BINDING}\", class_name = \"JobsObject\" and its [[migrations]] entry to \
             wrangler.toml (see README.md, Deploying)"
        ))
    };
    let stub = env
        .durable_object(BINDING)
        .and_then(|namespace| namespace.id_from_name(OBJECT_NAME)?.get_stub())
        .map_err(unavailable)?;
    let mut init = RequestInit::new();
    init.with_method(method);
    if let Some(body) = body {
        let headers = Headers::new();
        headers.set("content-type", "application/json").ok();
        init.with_headers(headers)
            .with_body(Some(JsValue::from_str(&body)));
    }
    let request = Request::new_with_init(&format!("https://jobs{path_and_query}"), &init)
        .map_err(|e| ApiError::internal(format!("building a request to the jobs object: {e}")))?;
    stub.fetch_with_request(request)
        .await
        .map_err(|e| ApiError::internal(format!("calling the jobs object: {e}")))
}

/// Submits a job: the object's `202` with the job, or its `409`.
pub async fn submit(
    env: &Env,
    counter: &InvocationCounter,
    job: &NewJobBody,
) -> Result<Response, ApiError> {
    let body = serde_json::to_string(job)
        .map_err(|e| ApiError::internal(format!("encoding a job: {e}")))?;
    forward(env, counter, Method::Post, "/submit", Some(body)).await
}

/// `Ok` when no exclusive job is unfinished, else the `409` naming it.
pub async fn ensure_idle(env: &Env, counter: &InvocationCounter) -> Result<(), ApiError> {
    let mut response = forward(env, counter, Method::Get, "/busy", None).await?;
    match response.status_code() {
        200 => Ok(()),
        409 => {
            let body: serde_json::Value = response.json().await.unwrap_or_default();
            Err(ApiError::JobRunning(
                body["error"]["message"]
                    .as_str()
                    .unwrap_or("another job runs")
                    .to_owned(),
            ))
        }
        status => Err(ApiError::internal(format!(
            "the jobs object answered {status}"
        ))),
    }
}
