//! The backup routes of the API: thin handlers over the jobs.

use super::backup_run::WORKER_VERSION;
use super::http::built;
use super::jobs_client;
use super::jobs_object::{BackupParams, NewJobBody};
use super::shared::{backup_store, edge_failed, find_manifest, query_pairs};
use super::{env, log, respond};
use crate::config::Config;
use crate::error::ApiError;
use crate::health::HealthReport;
use crate::jobs::engine::record::{JobKind, Origin};
use crate::jobs::{prune, runner};
use crate::layout::new_backup_id;
use crate::listing;
use crate::platform::InvocationCounter;
use crate::retention::{BackupKind, RetentionPolicy};
use crate::time::Timestamp;
use serde::Deserialize;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Request, Response};

const DEFAULT_PAGE: usize = 50;
const MAX_PAGE: usize = 1_000;
const MAX_NOTE_CHARS: usize = 500;

/// The optional body of `POST /v1/backups`.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct CreateBackupBody {
    #[serde(default)]
    pin: bool,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/backups`: `202` with the backup job, which the jobs' object
/// runs slice by slice; `409` naming the job or run that blocks it.
pub async fn create_backup(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> Result<Response, ApiError> {
    let text = req
        .text()
        .await
        .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
    let body: CreateBackupBody = if text.trim().is_empty() {
        CreateBackupBody::default()
    } else {
        serde_json::from_str(&text).map_err(|e| {
            ApiError::BadRequest(format!(
                "the body must be JSON like {{\"pin\": true, \"note\": \"before migration 12\"}}: {e}"
            ))
        })?
    };
    if body
        .note
        .as_ref()
        .is_some_and(|note| note.chars().count() > MAX_NOTE_CHARS)
    {
        return Err(ApiError::BadRequest(format!(
            "note is longer than {MAX_NOTE_CHARS} characters"
        )));
    }
    let now = env::now();
    let params = BackupParams {
        kind: BackupKind::Manual,
        pinned: body.pin,
        note: body.note,
        created_at: now,
        prune: false,
    };
    let job = NewJobBody {
        id: new_job_id(now)?,
        kind: JobKind::Backup,
        origin: Origin::Manual,
        params: serde_json::to_value(params)
            .map_err(|e| ApiError::internal(format!("encoding a job: {e}")))?,
    };
    jobs_client::submit(env, counter, &job).await
}

/// A new job's id: a backup id (sortable by time), which a backup job's
/// backup also takes.
pub fn new_job_id(now: Timestamp) -> Result<String, ApiError> {
    let mut random = [0u8; 3];
    getrandom::getrandom(&mut random).map_err(|_| ApiError::internal("drawing random bytes"))?;
    Ok(new_backup_id(now, random))
}

/// `GET /v1/backups?limit=&cursor=`: newest first; `next_cursor` continues.
pub async fn list_backups(
    req: &Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> Result<Response, ApiError> {
    let mut limit = DEFAULT_PAGE;
    let mut cursor = None;
    for (name, value) in query_pairs(req)? {
        match name.as_str() {
            "limit" => {
                limit = value
                    .parse()
                    .ok()
                    .filter(|n| (1..=MAX_PAGE).contains(n))
                    .ok_or_else(|| ApiError::BadRequest(format!("limit must be 1 to {MAX_PAGE}")))?
            }
            "cursor" => cursor = Some(value),
            _ => {}
        }
    }
    let store = backup_store(env, counter)?;
    let all = prune::list_backups(&store).await.map_err(edge_failed)?;
    let page = listing::page(all, cursor.as_deref(), limit)
        .map_err(|e| ApiError::BadRequest(e.to_string()))?;
    built(respond::json(
        200,
        &json!({ "backups": page.backups, "next_cursor": page.next_cursor }),
    ))
}

/// `GET /v1/backups/{id}`: the manifest.
pub async fn get_backup(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    id: &str,
) -> Result<Response, ApiError> {
    let manifest = find_manifest(&backup_store(env, counter)?, id).await?;
    built(respond::json(200, &manifest))
}

/// `DELETE /v1/backups/{id}[?force=true]`: pinned backups need `force`.
pub async fn delete_backup(
    req: &Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    id: &str,
) -> Result<Response, ApiError> {
    let force = query_pairs(req)?
        .iter()
        .any(|(name, value)| name == "force" && value == "true");
    let store = backup_store(env, counter)?;
    let manifest = find_manifest(&store, id).await?;
    let id = manifest.id.as_str();
    if manifest.pinned && !force {
        return Err(ApiError::Conflict(format!(
            "backup {id} is pinned; delete it with ?force=true if you are sure"
        )));
    }
    // Never under a running restore, backup or import.
    jobs_client::ensure_idle(env, counter).await?;
    prune::delete_backup(&store, id)
        .await
        .map_err(edge_failed)?;
    log::event(
        "info",
        "backup_deleted",
        json!({ "id": id, "forced": force }),
    );
    built(respond::json(200, &json!({ "deleted": id })))
}

/// `GET /v1/retention`: what pruning would keep and remove now, and why.
pub async fn retention(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
) -> Result<Response, ApiError> {
    let plan = prune::plan(&backup_store(env, counter)?, config.retention, env::now())
        .await
        .map_err(edge_failed)?;
    built(respond::json(200, &plan))
}

/// `GET /v1/status`: last runs, configuration summary (no secrets), key ids.
pub async fn status(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
) -> Result<Response, ApiError> {
    let store = backup_store(env, counter)?;
    let history = runner::load_history(&store).await.map_err(edge_failed)?;
    let backups = prune::list_backups(&store).await.map_err(edge_failed)?;
    let mut jobs =
        jobs_client::forward(env, counter, worker::Method::Get, "/v1/jobs?limit=10", None).await?;
    let jobs: serde_json::Value = jobs
        .json()
        .await
        .map_err(|e| ApiError::internal(format!("reading the jobs object's answer: {e}")))?;
    let now = env::now();
    let keys = config.keyring.as_ref().map(|keyring| {
        let ids: Vec<String> = keyring.ids().iter().map(ToString::to_string).collect();
        json!({ "current": ids.first(), "previous": ids.get(1..) })
    });
    let body = json!({
        "environment": config.environment,
        "database": config.database_name,
        "worker_version": WORKER_VERSION,
        "now": now,
        "health": HealthReport::assess(&history, config.stale_after_hours, now),
        "history": history,
        "jobs": {
            "running": jobs["jobs"].as_array().map(|all| all.iter().filter(|j| j["state"] == "running" || j["state"] == "queued").cloned().collect::<Vec<_>>()),
            "recent": jobs["jobs"],
        },
        "backups": {
            "count": backups.len(),
            "pinned": backups.iter().filter(|b| b.pinned).count(),
            "total_bytes": backups.iter().map(|b| b.bytes).sum::<u64>(),
            "newest": backups.first().map(|b| &b.id),
            "oldest": backups.last().map(|b| &b.id),
        },
        "configuration": {
            "retention": RetentionPolicy::new(config.retention),
            "stale_after_hours": config.stale_after_hours,
            "encryption_keys": keys,
            "read_token_set": config.tokens.read.is_some(),
            "admin_token_set": config.tokens.admin.is_some(),
            "alert_webhook_set": config.alert_webhook_url.is_some(),
        },
    });
    built(respond::json(200, &body))
}
