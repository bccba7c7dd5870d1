//! The fetch entry point: resolve the route, load the configuration,
//! authorize, dispatch, and turn every [`ApiError`] into the contract's JSON.

use super::r2::R2Store;
use super::{
    api, bench_floor, env, import_parts, jobs_client, log, respond, restore_api, test_routes,
};
use crate::auth;
use crate::config::{Config, ConfigError, DEFAULT_STALE_AFTER_HOURS};
use crate::error::ApiError;
use crate::health::HealthReport;
use crate::jobs::runner::load_history;
use crate::platform::InvocationCounter;
use crate::route::Route;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Method, Request, Response};

/// Answers one HTTP request.
pub async fn handle(mut req: Request, env: Env) -> worker::Result<Response> {
    let method = req.method().to_string();
    let path = req.path();
    match dispatch(&mut req, &env, &method, &path).await {
        Ok(response) => Ok(response),
        Err(error) => {
            if error.status() >= 500 {
                log::event(
                    "error",
                    "request_failed",
                    json!({ "method": method, "path": path, "error": error.to_string() }),
                );
            }
            respond::error(&error)
        }
    }
}

async fn dispatch(
    req: &mut Request,
    env: &Env,
    method: &str,
    path: &str,
) -> Result<Response, ApiError> {
    let route = Route::resolve(method, path)?;
    let config = match env::load_config(env) {
        Ok(config) => config,
        Err(error) => {
            log::event(
                "error",
                "invalid_configuration",
                json!({ "variable": error.variable, "problem": error.problem }),
            );
            return match route {
                Route::Health => health_misconfigured(&error),
                _ => Err(ApiError::NotConfigured(error.to_string())),
            };
        }
    };
    if route.is_test_only() && !config.test_routes {
        return Err(ApiError::NotFound(format!("no route {path}")));
    }
    let authorization = req.headers().get("Authorization").ok().flatten();
    auth::authorize(route.access(), authorization.as_deref(), &config.tokens)?;
    let counter = Rc::new(InvocationCounter::new(config.platform_limits));
    let counter = &counter;
    match route {
        Route::Health => health(env, counter, &config).await,
        Route::ListBackups => api::list_backups(req, env, counter).await,
        Route::CreateBackup => api::create_backup(req, env, counter).await,
        Route::GetBackup(id) => api::get_backup(env, counter, &id).await,
        Route::DeleteBackup(id) => api::delete_backup(req, env, counter, &id).await,
        Route::ImportBackup => restore_api::import(req, env, counter, &config).await,
        Route::StartImport => import_parts::start(req, env, counter, &config).await,
        Route::ImportPart(id, part) => {
            import_parts::put_part(req, env, counter, &config, &id, &part).await
        }
        Route::CompleteImport(id) => import_parts::complete(req, env, counter, &config, &id).await,
        Route::AbortImport(id) => import_parts::abort(req, env, counter, &id).await,
        Route::ValidateBackup(id) => restore_api::validate(env, counter, &id).await,
        Route::RestoreBackup(id) => restore_api::restore(req, env, counter, &config, &id).await,
        Route::GetRestore(id) => restore_api::report(env, counter, &id).await,
        Route::ListJobs | Route::GetJob(_) | Route::JobEvents(_) | Route::CancelJob(_) => {
            let method = if matches!(route, Route::CancelJob(_)) {
                Method::Post
            } else {
                Method::Get
            };
            let query = req
                .url()
                .ok()
                .and_then(|url| url.query().map(|q| format!("?{q}")))
                .unwrap_or_default();
            jobs_client::forward(env, counter, method, &format!("{path}{query}"), None).await
        }
        Route::Retention => api::retention(env, counter, &config).await,
        Route::Status => api::status(env, counter, &config).await,
        Route::TestEncrypt => test_routes::encrypt(req, &config).await,
        Route::TestDecrypt => test_routes::decrypt(req, &config).await,
        Route::TestBench => test_routes::bench(req, &config).await,
        Route::TestFloor => bench_floor::floor(req, env, counter).await,
    }
}

async fn health(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
) -> Result<Response, ApiError> {
    let history = match env::backups_bucket(env) {
        Ok(bucket) => load_history(&R2Store::new(bucket, counter.clone()))
            .await
            .map_err(|error| {
                log::event(
                    "error",
                    "history_read_failed",
                    json!({ "detail": error.to_string() }),
                );
                ApiError::internal("reading the run history")
            }),
        Err(error) => Err(error),
    };
    let report = match history {
        Ok(history) => HealthReport::assess(&history, config.stale_after_hours, env::now()),
        Err(error) => HealthReport::failing(
            format!("the run history cannot be read ({})", error.code()),
            config.stale_after_hours,
        ),
    };
    built(respond::json(report.http_status(), &report))
}

fn health_misconfigured(error: &ConfigError) -> Result<Response, ApiError> {
    let report = HealthReport::failing(
        format!(
            "the worker's configuration is invalid ({}); see the worker log",
            error.variable
        ),
        DEFAULT_STALE_AFTER_HOURS,
    );
    built(respond::json(report.http_status(), &report))
}

/// Maps a failure to build a response (a JS-side error) to a logged 500.
pub(super) fn built(response: worker::Result<Response>) -> Result<Response, ApiError> {
    response.map_err(|error| {
        log::event(
            "error",
            "response_failed",
            json!({ "detail": error.to_string() }),
        );
        ApiError::internal("building the response")
    })
}
