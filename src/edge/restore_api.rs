//! The validate and restore routes.
//!
//! A restore is refused before anything runs when the confirmation does not
//! name this worker's database, the backup comes from another environment
//! without `allow_cross_environment`, or another job holds the lock. Once
//! accepted, the response streams one JSON line per step event as the
//! restore runs (`application/x-ndjson`), ending with the report, which is
//! also stored for `GET /v1/restores/{id}`. Imports bring in objects made
//! by `d1-vault encrypt` from any SQL dump.

use super::backup_run::WORKER_VERSION;
use super::d1::D1Reader;
use super::http::built;
use super::memory::wasm_memory_bytes;
use super::r2::R2Store;
use super::shared::{backup_store, edge_failed, find_manifest, keyring};
use super::{env, log, respond};
use crate::config::{Config, DB_BINDING};
use crate::error::ApiError;
use crate::format::keys::Keyring;
use crate::format::{parse_header, FormatError, HeaderInfo};
use crate::jobs::backup::{write_manifest, BackupSettings, PART_SIZE};
use crate::jobs::restore::{self, Progress, RestoreParams, RestoreReport, Silent, StepReport};
use crate::jobs::store::{EdgeError, ObjectStore, PartUpload};
use crate::jobs::{lock, prune};
use crate::layout::{new_backup_id, object_key, restore_report_key};
use crate::manifest::{
    Digests, Encryption, ForeignKeyCheck, Manifest, Snapshot, StatementStats, TableEntry, CIPHER,
    MANIFEST_VERSION,
};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use futures_channel::mpsc::{unbounded, UnboundedSender};
use serde::Deserialize;
use serde_json::json;
use worker::{Env, Headers, Request, Response};

/// The body of `POST /v1/backups/{id}/restore`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RestoreBody {
    confirm: String,
    #[serde(default)]
    skip_safety_backup: bool,
    #[serde(default)]
    allow_cross_environment: bool,
}

/// `POST /v1/backups/{id}/validate`: 200 when valid, 422 when not.
pub async fn validate(env: &Env, config: &Config, id: &str) -> Result<Response, ApiError> {
    let store = backup_store(env)?;
    let manifest = find_manifest(&store, id).await?;
    let keyring = keyring(config)?;
    let report = restore::validate(&store, keyring, &manifest, &env::now, &mut Silent).await;
    log::event(
        "info",
        "backup_validated",
        json!({ "id": manifest.id, "ok": report.ok }),
    );
    built(respond::json(if report.ok { 200 } else { 422 }, &report))
}

/// `POST /v1/backups/{id}/restore`: checks, then streams the ten steps.
pub async fn restore(
    req: &mut Request,
    env: &Env,
    config: &Config,
    id: &str,
) -> Result<Response, ApiError> {
    let text = req
        .text()
        .await
        .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
    let body: RestoreBody = serde_json::from_str(&text).map_err(|e| {
        ApiError::BadRequest(format!(
            "the body must be JSON like {{\"confirm\": \"{}\"}} (optional: skip_safety_backup, allow_cross_environment): {e}",
            config.database_name
        ))
    })?;
    if body.confirm != config.database_name {
        return Err(ApiError::Conflict(format!(
            "confirm must name the database this worker restores into, {:?}; got {:?}. Nothing was done",
            config.database_name, body.confirm
        )));
    }
    let store = backup_store(env)?;
    let manifest = find_manifest(&store, id).await?;
    if manifest.environment != config.environment && !body.allow_cross_environment {
        return Err(ApiError::Conflict(format!(
            "backup {} was taken in environment {:?}, this worker is {:?}; pass allow_cross_environment: true if you mean it. Nothing was done",
            manifest.id, manifest.environment, config.environment
        )));
    }
    let keyring = keyring(config)?.clone();
    let db = env
        .d1(DB_BINDING)
        .map(D1Reader::new)
        .map_err(|_| ApiError::NotConfigured("the D1 binding DB is missing".into()))?;
    let now = env::now();
    let mut random = [0u8; 3];
    let mut salt = [0u8; 32];
    getrandom::getrandom(&mut random)
        .and_then(|()| getrandom::getrandom(&mut salt))
        .map_err(|_| ApiError::internal("drawing random bytes"))?;
    let restore_id = format!("restore-{}", new_backup_id(now, random));
    let lock_ttl_ms = i64::from(config.lock_ttl_seconds) * 1_000;
    let held = lock::acquire(&store, "restore", &restore_id, now, lock_ttl_ms)
        .await
        .map_err(|error| match error {
            lock::LockError::Held(_) => ApiError::Conflict(format!("{error}. Nothing was done")),
            lock::LockError::Store(error) => edge_failed(error),
        })?;

    let (sender, receiver) = unbounded::<Result<Vec<u8>, worker::Error>>();
    let config = config.clone();
    let safety_backup = (!body.skip_safety_backup)
        .then(|| (new_backup_id(now, [random[2], random[1], random[0]]), salt));
    worker::wasm_bindgen_futures::spawn_local(async move {
        let mut progress = Stream {
            sender: sender.clone(),
            restore_id: restore_id.clone(),
        };
        let params = RestoreParams {
            restore_id: restore_id.clone(),
            manifest: &manifest,
            keyring: &keyring,
            settings: BackupSettings {
                environment: &config.environment,
                database: &config.database_name,
                key: keyring.current(),
                worker_version: WORKER_VERSION,
                fault: None,
            },
            safety_backup,
            clock: &env::now,
        };
        let report = restore::restore(&db, &store, params, &mut progress).await;
        finish(&store, &held, &report).await;
        progress.line(&json!({ "event": "report", "report": report, "wasm_memory_bytes": wasm_memory_bytes() }));
    });

    let headers = Headers::new();
    headers
        .set("content-type", "application/x-ndjson; charset=utf-8")
        .ok();
    headers.set("cache-control", "no-store").ok();
    built(Response::from_stream(receiver).map(|response| response.with_headers(headers)))
}

/// `GET /v1/restores/{id}`: a stored restore report.
pub async fn report(env: &Env, id: &str) -> Result<Response, ApiError> {
    let key = restore_report_key(id);
    let object = backup_store(env)?
        .get(&key)
        .await
        .map_err(edge_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no restore {id}")))?;
    let report: RestoreReport =
        serde_json::from_slice(&object.body).map_err(|e| edge_failed(EdgeError::new(key, e)))?;
    built(respond::json(200, &report))
}

async fn finish(store: &R2Store, held: &lock::Lock, report: &RestoreReport) {
    let level = if report.outcome == restore::RestoreOutcome::Succeeded {
        "info"
    } else {
        "error"
    };
    log::event(
        level,
        "restore_finished",
        json!({ "restore_id": report.restore_id, "backup_id": report.backup_id, "outcome": report.outcome }),
    );
    match serde_json::to_vec_pretty(report) {
        Ok(body) => {
            if let Err(error) = store
                .put(&restore_report_key(&report.restore_id), body, &[])
                .await
            {
                log::event(
                    "error",
                    "restore_report_failed",
                    json!({ "detail": error.to_string() }),
                );
            }
        }
        Err(error) => log::event(
            "error",
            "restore_report_failed",
            json!({ "detail": error.to_string() }),
        ),
    }
    if let Err(error) = lock::release(store, held).await {
        log::event(
            "error",
            "lock_release_failed",
            json!({ "detail": error.to_string() }),
        );
    }
}

/// Sends each step event as one JSON line.
struct Stream {
    sender: UnboundedSender<Result<Vec<u8>, worker::Error>>,
    /// On every line, so a client that loses the connection knows where
    /// to find the report (`GET /v1/restores/{id}`).
    restore_id: String,
}

impl Stream {
    fn line(&mut self, value: &serde_json::Value) {
        let mut line = value.to_string().into_bytes();
        line.push(b'\n');
        // A client that went away stops reading; the restore goes on regardless.
        let _ = self.sender.unbounded_send(Ok(line));
    }
}

impl Progress for Stream {
    fn event(&mut self, report: &StepReport, rollback: bool) {
        let event = if rollback { "rollback" } else { "step" };
        let restore_id = self.restore_id.clone();
        self.line(&json!({
            "event": event,
            "restore_id": restore_id,
            "step": report.step,
            "name": report.name,
            "status": report.status,
            "detail": report.detail,
            "ms": report.ms,
        }));
    }
}

/// The largest request body the Workers platform accepts on most plans.
const REQUEST_LIMIT_NOTE: &str = "Workers accept request bodies up to 100 MB (Free and Pro plans), 200 MB (Business), 500 MB (Enterprise)";

/// `POST /v1/backups/import[?note=]`: the body is an object made by
/// `d1-vault encrypt --id <id>`. It is streamed into R2 under the id in its
/// header, checked like steps 2-5 of a restore, and listed as an `imported`
/// backup with a manifest built from what its SQL creates; an object that
/// fails is deleted again.
pub async fn import(req: &mut Request, env: &Env, config: &Config) -> Result<Response, ApiError> {
    use futures_util::StreamExt;
    let keyring = keyring(config)?;
    let store = backup_store(env)?;
    let note = req.url().ok().and_then(|url| {
        url.query_pairs()
            .find(|(k, _)| k == "note")
            .map(|(_, v)| v.into_owned())
    });
    let mut body = req.stream().map_err(|_| {
        ApiError::BadRequest("the request has no body: send the encrypted object".into())
    })?;
    let mut pending = Vec::new();
    let header = loop {
        match parse_header(&pending) {
            Ok(header) => break header,
            Err(FormatError::TruncatedHeader { .. }) => match body.next().await {
                Some(Ok(bytes)) => pending.extend_from_slice(&bytes),
                Some(Err(_)) => return Err(ApiError::BadRequest("the request body could not be read".into())),
                None => {
                    return Err(ApiError::Unprocessable(
                        "the body ends inside the header: it is not an object made by 'd1-vault encrypt'".into(),
                    ))
                }
            },
            Err(error) => return Err(ApiError::Unprocessable(format!("not an importable object: {error}"))),
        }
    };
    let id = header.backup_id.as_str().to_owned();
    if prune::get_manifest(&store, &id)
        .await
        .map_err(edge_failed)?
        .is_some()
    {
        return Err(ApiError::Conflict(format!(
            "a backup with id {id} exists already; encrypt the dump again with another --id"
        )));
    }
    let now = env::now();
    let lock_ttl_ms = i64::from(config.lock_ttl_seconds) * 1_000;
    let held = lock::acquire(&store, "import", &id, now, lock_ttl_ms)
        .await
        .map_err(|error| match error {
            lock::LockError::Held(_) => ApiError::Conflict(error.to_string()),
            lock::LockError::Store(error) => edge_failed(error),
        })?;
    let outcome = import_locked(
        &store, keyring, config, &id, &header, pending, &mut body, note, now,
    )
    .await;
    if let Err(error) = lock::release(&store, &held).await {
        log::event(
            "error",
            "lock_release_failed",
            json!({ "detail": error.to_string() }),
        );
    }
    let manifest = outcome?;
    log::event(
        "info",
        "backup_imported",
        json!({ "id": manifest.id, "rows": manifest.total_rows() }),
    );
    built(respond::json(201, &manifest))
}

#[allow(clippy::too_many_arguments)]
async fn import_locked(
    store: &R2Store,
    keyring: &Keyring,
    config: &Config,
    id: &str,
    header: &HeaderInfo,
    mut pending: Vec<u8>,
    body: &mut worker::ByteStream,
    note: Option<String>,
    now: Timestamp,
) -> Result<Manifest, ApiError> {
    use futures_util::StreamExt;
    let key = object_key(id);
    let mut upload = store.start_upload(&key).await.map_err(edge_failed)?;
    let uploaded = async {
        loop {
            while pending.len() >= PART_SIZE {
                let rest = pending.split_off(PART_SIZE);
                upload
                    .upload_part(std::mem::replace(&mut pending, rest))
                    .await
                    .map_err(edge_failed)?;
            }
            match body.next().await {
                Some(Ok(bytes)) => pending.extend_from_slice(&bytes),
                Some(Err(_)) => {
                    return Err(ApiError::BadRequest(format!(
                        "the request body could not be read. {REQUEST_LIMIT_NOTE}"
                    )))
                }
                None => break,
            }
        }
        if !pending.is_empty() {
            upload
                .upload_part(std::mem::take(&mut pending))
                .await
                .map_err(edge_failed)?;
        }
        Ok(())
    }
    .await;
    if let Err(error) = uploaded {
        let _ = upload.abort().await;
        return Err(error);
    }
    upload.complete().await.map_err(edge_failed)?;

    let streamed = match restore::examine(store, keyring, &key, id).await {
        Ok(streamed) => streamed,
        Err((step, detail)) => {
            let _ = store.delete(&key).await;
            return Err(ApiError::Unprocessable(format!(
                "the object fails validation at step {step} ({}): {detail}. Nothing was kept",
                restore::STEP_NAMES[usize::from(step - 1)]
            )));
        }
    };
    let summary = &streamed.summary;
    let manifest = Manifest {
        manifest_version: MANIFEST_VERSION,
        id: id.to_owned(),
        created_at: now,
        duration_ms: 0,
        kind: BackupKind::Imported,
        environment: config.environment.clone(),
        database: config.database_name.clone(),
        pinned: false,
        note,
        worker_version: WORKER_VERSION.to_owned(),
        object_key: key.clone(),
        encryption: Encryption {
            key_id: streamed.key_id.clone(),
            cipher: CIPHER.to_owned(),
            chunk_size: header.chunk_size.get(),
        },
        plaintext: Digests {
            bytes: streamed.sql_bytes,
            sha256: streamed.sql_sha256.clone(),
        },
        ciphertext: Digests {
            bytes: streamed.object_bytes,
            sha256: streamed.object_sha256.clone(),
        },
        snapshot: Snapshot {
            consistent: false,
            detail: "imported: a dump made outside this worker".into(),
        },
        tables: summary.tables.iter().map(TableEntry::from).collect(),
        indexes: summary.indexes.clone(),
        views: summary.views.clone(),
        triggers: summary.triggers.clone(),
        schema_hash: summary.schema_sha256.clone(),
        foreign_key_violations: 0,
        statements: StatementStats {
            count: summary.statements,
            largest_bytes: summary.largest_statement_bytes as u64,
        },
        foreign_key_check: ForeignKeyCheck::default(),
        warnings: Vec::new(),
        self_check: None,
    };
    if let Err(error) = write_manifest(store, &manifest).await {
        let _ = store.delete(&key).await;
        return Err(edge_failed(error));
    }
    Ok(manifest)
}
