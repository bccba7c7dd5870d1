//! The validate, restore and import routes: each checks what it can at
//! once and hands a job to the jobs' object (`202` with the job).
//!
//! A restore is refused before anything runs when the confirmation does not
//! name this worker's database or the backup comes from another environment
//! without `allow_cross_environment` (`409`), and by the jobs' object when
//! another exclusive job is unfinished (`409` naming it). An import streams
//! the uploaded object into R2 within its request (or, uploaded in parts,
//! see `import_parts`, completes it); its checks run as a job.

use super::api::new_job_id;
use super::backup_run::WORKER_VERSION;
use super::http::built;
use super::jobs_client;
use super::jobs_object::{NewJobBody, RestoreParams, ValidateParams};
use super::r2::R2Store;
use super::shared::{backup_store, edge_failed, find_manifest, keyring};
use super::{env, respond};
use crate::config::Config;
use crate::error::ApiError;
use crate::format::{parse_header, FormatError, HeaderInfo};
use crate::jobs::backup::PART_SIZE;
use crate::jobs::engine::record::{JobKind, Origin};
use crate::jobs::import_job::ImportRequest;
use crate::jobs::prune;
use crate::jobs::restore::RestoreReport;
use crate::jobs::store::{EdgeError, ObjectStore, PartUpload};
use crate::layout::{object_key, restore_report_key};
use crate::platform::InvocationCounter;
use serde::Deserialize;
use std::rc::Rc;
use worker::{Env, Request, Response};

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

/// `POST /v1/backups/{id}/validate`: `202` with the validation job
/// (steps 1-5, nothing written); `404` for no such backup.
pub async fn validate(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    id: &str,
) -> Result<Response, ApiError> {
    let manifest = find_manifest(&backup_store(env, counter)?, id).await?;
    let params = ValidateParams {
        backup_id: manifest.id,
    };
    submit(env, counter, JobKind::Validate, &params).await
}

/// `POST /v1/backups/{id}/restore`: the guards, then `202` with the restore
/// job (the ten steps).
pub async fn restore(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
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
    keyring(config)?;
    let manifest = find_manifest(&backup_store(env, counter)?, id).await?;
    if manifest.environment != config.environment && !body.allow_cross_environment {
        return Err(ApiError::Conflict(format!(
            "backup {} was taken in environment {:?}, this worker is {:?}; pass allow_cross_environment: true if you mean it. Nothing was done",
            manifest.id, manifest.environment, config.environment
        )));
    }
    let params = RestoreParams {
        backup_id: manifest.id,
        skip_safety_backup: body.skip_safety_backup,
    };
    submit(env, counter, JobKind::Restore, &params).await
}

/// Hands a manual job of `kind` with `params` to the jobs' object.
async fn submit(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    kind: JobKind,
    params: &impl serde::Serialize,
) -> Result<Response, ApiError> {
    let job = NewJobBody {
        id: new_job_id(env::now())?,
        kind,
        origin: Origin::Manual,
        params: serde_json::to_value(params)
            .map_err(|e| ApiError::internal(format!("encoding a job: {e}")))?,
    };
    jobs_client::submit(env, counter, &job).await
}

/// `GET /v1/restores/{id}`: a stored restore report.
pub async fn report(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    id: &str,
) -> Result<Response, ApiError> {
    let key = restore_report_key(id);
    let object = backup_store(env, counter)?
        .get(&key)
        .await
        .map_err(edge_failed)?
        .ok_or_else(|| ApiError::NotFound(format!("no restore {id}")))?;
    let report: RestoreReport =
        serde_json::from_slice(&object.body).map_err(|e| edge_failed(EdgeError::new(key, e)))?;
    built(respond::json(200, &report))
}

/// The largest request body the Workers platform accepts on most plans.
const REQUEST_LIMIT_NOTE: &str = "Workers accept request bodies up to 100 MB (Free and Pro plans), 200 MB (Business), 500 MB (Enterprise)";

/// `POST /v1/backups/import[?note=]`: the body is an object made by
/// `d1-vault encrypt --id <id>`. It is streamed into R2 under the id in its
/// header within this request; then an import job checks it like steps
/// 2-5 of a restore and lists it as an `imported` backup with a manifest
/// built from what its SQL creates (`202` with the job). An object that
/// fails is deleted again.
pub async fn import(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
) -> Result<Response, ApiError> {
    use futures_util::StreamExt;
    keyring(config)?;
    let store = backup_store(env, counter)?;
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
    upload(&store, &id, pending, &mut body).await?;
    submit_import(env, counter, config, &store, &header, note).await
}

/// Hands the checks of the object now stored for `header`'s backup to an
/// import job: `202` with the job. Refused (another exclusive job runs:
/// `409`) or not handed over, the object is deleted: nothing may stay.
pub(super) async fn submit_import(
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
    store: &R2Store,
    header: &HeaderInfo,
    note: Option<String>,
) -> Result<Response, ApiError> {
    let id = header.backup_id.as_str();
    let request = ImportRequest {
        id: id.to_owned(),
        chunk_size: header.chunk_size.get(),
        note,
        created_at: env::now(),
        environment: config.environment.clone(),
        database: config.database_name.clone(),
        worker_version: WORKER_VERSION.to_owned(),
    };
    let submitted = submit(env, counter, JobKind::Import, &request).await;
    if !matches!(&submitted, Ok(response) if response.status_code() == 202) {
        let _ = store.delete(&object_key(id)).await;
    }
    submitted
}

/// Streams the rest of the body into a multipart upload of `id`'s object.
async fn upload(
    store: &R2Store,
    id: &str,
    mut pending: Vec<u8>,
    body: &mut worker::ByteStream,
) -> Result<(), ApiError> {
    use futures_util::StreamExt;
    let mut upload = store
        .start_upload(&object_key(id))
        .await
        .map_err(edge_failed)?;
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
    upload.complete().await.map_err(edge_failed)
}
