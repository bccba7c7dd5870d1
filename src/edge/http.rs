//! The fetch entry point: resolve the route, load the configuration,
//! authorize, dispatch, and turn every [`ApiError`] into the contract's JSON.

use super::r2::R2Store;
use super::{api, env, log, respond, restore_api, test_routes};
use crate::auth;
use crate::config::{Config, ConfigError, DEFAULT_STALE_AFTER_HOURS};
use crate::error::ApiError;
use crate::health::HealthReport;
use crate::jobs::runner::load_history;
use crate::route::Route;
use serde_json::json;
use worker::{Env, Request, Response};

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
    match route {
        Route::Health => health(env, &config).await,
        Route::ListBackups => api::list_backups(req, env).await,
        Route::CreateBackup => api::create_backup(req, env, &config).await,
        Route::GetBackup(id) => api::get_backup(env, &id).await,
        Route::DeleteBackup(id) => api::delete_backup(req, env, &config, &id).await,
        Route::ImportBackup => restore_api::import(req, env, &config).await,
        Route::ValidateBackup(id) => restore_api::validate(env, &config, &id).await,
        Route::RestoreBackup(id) => restore_api::restore(req, env, &config, &id).await,
        Route::GetRestore(id) => restore_api::report(env, &id).await,
        Route::Retention => api::retention(env, &config).await,
        Route::Status => api::status(env, &config).await,
        Route::TestEncrypt => test_routes::encrypt(req, &config).await,
        Route::TestDecrypt => test_routes::decrypt(req, &config).await,
        Route::TestBench => test_routes::bench(req, &config),
    }
}

async fn health(env: &Env, config: &Config) -> Result<Response, ApiError> {
    let history = match env::backups_bucket(env) {
        Ok(bucket) => load_history(&R2Store::new(bucket)).await.map_err(|error| {
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
