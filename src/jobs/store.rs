//! The edges the jobs need, as traits: read-only SQL against the database,
//! and the backup bucket.
//!
//! The futures are not `Send`: a Worker isolate is single-threaded, and the
//! `worker` crate's futures are not `Send` either.
//!
//! A multipart upload outlives the invocation that started it: its id and
//! the parts acknowledged so far ([`UploadedPart`]) go into a job's
//! checkpoint, and [`ObjectStore::resume_upload`] carries it on in another
//! invocation. Parts are numbered from 1 in upload order; uploading a part
//! number again replaces that part (so a slice that is run again after a
//! crash simply uploads its parts again), and completing the upload takes
//! exactly the parts listed, with their latest etags.

use crate::dump::Row;
use crate::restore::plan::PlannedStatement;
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// An edge operation that failed; `detail` is for the log, not for clients.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{operation}: {detail}")]
pub struct EdgeError {
    /// What was attempted, e.g. "R2 put backups/d1/...".
    pub operation: String,
    /// The platform's message.
    pub detail: String,
}

impl EdgeError {
    /// An error for `operation` with the platform's `detail`.
    pub fn new(operation: impl Into<String>, detail: impl ToString) -> Self {
        Self {
            operation: operation.into(),
            detail: detail.to_string(),
        }
    }
}

/// Runs read-only SQL against the database being backed up.
#[allow(async_fn_in_trait)]
pub trait SqlReader {
    /// Runs `sql` and returns every row, each value TEXT or NULL.
    async fn query(&self, sql: &str) -> Result<Vec<Row>, EdgeError>;
}

/// Runs write batches against the database being restored: each batch is
/// one transaction (D1 `batch()`), all or nothing.
#[allow(async_fn_in_trait)]
pub trait SqlWriter {
    /// Runs `statements` as one transaction.
    async fn batch(&self, statements: &[PlannedStatement]) -> Result<(), EdgeError>;
}

/// An object as read back from the bucket.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StoredObject {
    /// The object's bytes.
    pub body: Vec<u8>,
    /// Its etag, for conditional replacement.
    pub etag: String,
}

/// One object of a listing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ListedObject {
    /// The key.
    pub key: String,
    /// Size in bytes.
    pub size: u64,
    /// Custom metadata.
    pub metadata: HashMap<String, String>,
}

/// One page of a listing.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct ListPage {
    /// Objects in key order.
    pub objects: Vec<ListedObject>,
    /// Where the next page starts; `None` on the last page.
    pub cursor: Option<String>,
}

/// A part of a multipart upload as the bucket acknowledged it: what
/// completing the upload, or resuming it elsewhere, needs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct UploadedPart {
    /// The part's number, from 1.
    pub part_number: u16,
    /// The etag the bucket gave it.
    pub etag: String,
}

/// The number of the part that follows `parts`, which must be numbered 1,
/// 2, 3, ... in order; an error for `operation` otherwise, or past R2's
/// numbering.
pub fn next_part_number(operation: &str, parts: &[UploadedPart]) -> Result<u16, EdgeError> {
    if let Some((index, part)) = parts
        .iter()
        .enumerate()
        .find(|(index, part)| usize::from(part.part_number) != index + 1)
    {
        return Err(EdgeError::new(
            operation,
            format!(
                "part {} is listed in position {}; parts must be numbered 1, 2, 3, ... in order",
                part.part_number,
                index + 1
            ),
        ));
    }
    u16::try_from(parts.len() + 1).map_err(|_| EdgeError::new(operation, "too many parts"))
}

/// The backup bucket.
#[allow(async_fn_in_trait)]
pub trait ObjectStore {
    /// An upload in progress.
    type Upload: PartUpload;
    /// Starts a multipart upload to `key`.
    async fn start_upload(&self, key: &str) -> Result<Self::Upload, EdgeError>;
    /// Carries on the multipart upload `upload_id` to `key`, started in
    /// another invocation, whose parts so far are `parts` (numbered 1, 2,
    /// ... in order): the next part uploaded is number `parts.len() + 1`,
    /// replacing any part of that number uploaded since. An upload that was
    /// completed or aborted cannot be carried on (the bucket may say so only
    /// at the next call on it).
    async fn resume_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<UploadedPart>,
    ) -> Result<Self::Upload, EdgeError>;
    /// Writes `key` unconditionally.
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, String)],
    ) -> Result<(), EdgeError>;
    /// Writes `key` only if it does not exist; `false` if it did.
    async fn create(&self, key: &str, body: Vec<u8>) -> Result<bool, EdgeError>;
    /// Replaces `key` only if its etag is still `etag`; `false` if it changed.
    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<bool, EdgeError>;
    /// Reads `key`, or `None` if it does not exist.
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, EdgeError>;
    /// `key`'s size in bytes, or `None` if it does not exist.
    async fn size(&self, key: &str) -> Result<Option<u64>, EdgeError>;
    /// Up to `length` bytes of `key` from `offset`, or `None` if it does not exist.
    async fn get_range(
        &self,
        key: &str,
        offset: u64,
        length: u64,
    ) -> Result<Option<Vec<u8>>, EdgeError>;
    /// Deletes `key` (no error if it does not exist).
    async fn delete(&self, key: &str) -> Result<(), EdgeError>;
    /// Lists keys under `prefix`, one page at a time.
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, EdgeError>;
}

/// A multipart upload: equal-size parts (the last may be smaller), then
/// complete or abort.
#[allow(async_fn_in_trait)]
pub trait PartUpload {
    /// The upload's id, to resume it in another invocation.
    fn upload_id(&self) -> &str;
    /// The parts uploaded so far (by this handle or before it was resumed),
    /// in order.
    fn parts(&self) -> &[UploadedPart];
    /// Uploads the next part.
    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), EdgeError>;
    /// Completes the upload with [`PartUpload::parts`]; the object appears whole.
    async fn complete(self) -> Result<(), EdgeError>;
    /// Aborts the upload; nothing appears.
    async fn abort(self) -> Result<(), EdgeError>;
}

/// Every object under `prefix`, following the listing's cursor.
pub async fn list_all(
    store: &impl ObjectStore,
    prefix: &str,
) -> Result<Vec<ListedObject>, EdgeError> {
    let mut objects = Vec::new();
    let mut cursor: Option<String> = None;
    loop {
        let page = store.list(prefix, cursor.as_deref()).await?;
        objects.extend(page.objects);
        match page.cursor {
            Some(next) => cursor = Some(next),
            None => return Ok(objects),
        }
    }
}
