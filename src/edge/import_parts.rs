//! The import uploaded in parts, one request each, so an object of any size
//! fits the platform's request limit: `POST /v1/imports` starts the upload,
//! `PUT /v1/imports/{id}/parts/{n}` sends part n, `POST
//! /v1/imports/{id}/complete` completes it and starts the import job (as
//! `POST /v1/backups/import` does), `DELETE /v1/imports/{id}` aborts it.
//! Thin: the checks are in [`crate::jobs::import_upload`]; here are the
//! request bodies, the responses and the status of each refusal.

use super::http::built;
use super::respond;
use super::restore_api::submit_import;
use super::shared::{backup_store, edge_failed, keyring, query_pairs};
use crate::config::Config;
use crate::error::ApiError;
use crate::jobs::backup::PART_SIZE;
use crate::jobs::import_upload::{self, UploadError};
use crate::jobs::store::UploadedPart;
use crate::platform::InvocationCounter;
use serde::Deserialize;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Request, Response};

/// The body of `POST /v1/imports`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct StartBody {
    id: String,
}

/// The body of `POST /v1/imports/{id}/complete`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct CompleteBody {
    parts: Vec<UploadedPart>,
    #[serde(default)]
    note: Option<String>,
}

/// `POST /v1/imports` with `{"id": "<backup id>"}` (the id in the object's
/// header): `201 {"upload": {id, upload_id, part_size}}`; `409` if a backup
/// with that id exists.
pub async fn start(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
) -> Result<Response, ApiError> {
    keyring(config)?;
    let body: StartBody =
        json_body(req, "{\"id\": \"<the backup id in the object's header>\"}").await?;
    let store = backup_store(env, counter)?;
    let upload_id = import_upload::start(&store, &body.id)
        .await
        .map_err(refused)?;
    let upload = json!({ "id": body.id, "upload_id": upload_id, "part_size": PART_SIZE });
    built(respond::json(201, &json!({ "upload": upload })))
}

/// `PUT /v1/imports/{id}/parts/{n}?upload_id=` with part n's bytes:
/// `200 {"part_number", "etag"}`. Sending a part again replaces it.
pub async fn put_part(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
    id: &str,
    part: &str,
) -> Result<Response, ApiError> {
    let keys = keyring(config)?;
    let upload_id = upload_id(req)?;
    let number = import_upload::part_number(part).map_err(refused)?;
    let announced = req.headers().get("content-length").ok().flatten();
    if let Some(length) = announced.and_then(|length| length.parse::<u64>().ok()) {
        import_upload::check_part_size(number, length).map_err(refused)?;
    }
    let bytes = req.bytes().await.map_err(|_| {
        ApiError::BadRequest(format!(
            "the body of part {number} could not be read; send it again"
        ))
    })?;
    let store = backup_store(env, counter)?;
    let uploaded = import_upload::put_part(&store, keys, id, &upload_id, number, bytes)
        .await
        .map_err(refused)?;
    built(respond::json(200, &uploaded))
}

/// `POST /v1/imports/{id}/complete?upload_id=` with `{"parts": [{part_number,
/// etag}, ...], "note": "..."}`: completes the upload and starts the import
/// job, `202` with it (the job's `409` if another exclusive job runs; the
/// object is deleted then).
pub async fn complete(
    req: &mut Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    config: &Config,
    id: &str,
) -> Result<Response, ApiError> {
    let keys = keyring(config)?;
    let upload_id = upload_id(req)?;
    let example = "{\"parts\": [{\"part_number\": 1, \"etag\": \"...\"}], \"note\": \"optional\"}";
    let body: CompleteBody = json_body(req, example).await?;
    let store = backup_store(env, counter)?;
    let header = import_upload::complete(&store, keys, id, &upload_id, body.parts)
        .await
        .map_err(refused)?;
    submit_import(env, counter, config, &store, &header, body.note).await
}

/// `DELETE /v1/imports/{id}?upload_id=`: aborts the upload, `200
/// {"upload": {id, upload_id, "aborted": true}}`.
pub async fn abort(
    req: &Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
    id: &str,
) -> Result<Response, ApiError> {
    let upload_id = upload_id(req)?;
    let store = backup_store(env, counter)?;
    import_upload::abort(&store, id, &upload_id)
        .await
        .map_err(refused)?;
    let upload = json!({ "id": id, "upload_id": upload_id, "aborted": true });
    built(respond::json(200, &json!({ "upload": upload })))
}

/// The `upload_id` query parameter.
fn upload_id(req: &Request) -> Result<String, ApiError> {
    query_pairs(req)?
        .into_iter()
        .find(|(name, value)| name == "upload_id" && !value.is_empty())
        .map(|(_, value)| value)
        .ok_or_else(|| {
            ApiError::BadRequest(
                "upload_id is missing: pass ?upload_id=<the upload_id that POST /v1/imports answered>"
                    .into(),
            )
        })
}

/// The request's JSON body; a 400 showing `example` if it is not.
async fn json_body<T: serde::de::DeserializeOwned>(
    req: &mut Request,
    example: &str,
) -> Result<T, ApiError> {
    let text = req
        .text()
        .await
        .map_err(|_| ApiError::BadRequest("the request body could not be read".into()))?;
    serde_json::from_str(&text)
        .map_err(|e| ApiError::BadRequest(format!("the body must be JSON like {example}: {e}")))
}

/// The status of each refusal; a bucket failure is logged, a 500.
fn refused(error: UploadError) -> ApiError {
    let message = error.to_string();
    match error {
        UploadError::InvalidId { .. }
        | UploadError::PartNumber(_)
        | UploadError::EmptyPart(_)
        | UploadError::PartList(_) => ApiError::BadRequest(message),
        UploadError::Exists(_) | UploadError::Pending(_) => ApiError::Conflict(message),
        UploadError::PartTooLarge { .. } => ApiError::PayloadTooLarge(message),
        UploadError::NotAnObject(_) | UploadError::WrongId { .. } => {
            ApiError::Unprocessable(message)
        }
        UploadError::Edge(error) => edge_failed(error),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::FormatError;

    #[test]
    fn each_refusal_has_its_status() {
        let cases = [
            (UploadError::PartNumber("0".into()), 400),
            (UploadError::EmptyPart(2), 400),
            (UploadError::PartList("no parts are listed".into()), 400),
            (UploadError::Exists("b".into()), 409),
            (UploadError::Pending("b".into()), 409),
            (
                UploadError::PartTooLarge {
                    number: 1,
                    bytes: 9 << 20,
                },
                413,
            ),
            (UploadError::NotAnObject(FormatError::NotAnObject), 422),
            (
                UploadError::WrongId {
                    id: "a".into(),
                    found: "b".into(),
                },
                422,
            ),
        ];
        for (error, status) in cases {
            let message = error.to_string();
            let mapped = refused(error);
            assert_eq!(mapped.status(), status, "{message}");
            assert_eq!(mapped.to_string(), message);
        }
    }
}
