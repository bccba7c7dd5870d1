//! The edges the jobs need, as traits: read-only SQL against the database,
//! and the backup bucket.
//!
//! The futures are not `Send`: a Worker isolate is single-threaded, and the
//! `worker` crate's futures are not `Send` either.

use crate::dump::Row;
use crate::restore::plan::PlannedStatement;
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

/// The backup bucket.
#[allow(async_fn_in_trait)]
pub trait ObjectStore {
    /// An upload in progress.
    type Upload: PartUpload;
    /// Starts a multipart upload to `key`.
    async fn start_upload(&self, key: &str) -> Result<Self::Upload, EdgeError>;
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

/// A multipart upload: equal-size parts, then complete or abort.
#[allow(async_fn_in_trait)]
pub trait PartUpload {
    /// Uploads the next part.
    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), EdgeError>;
    /// Completes the upload; the object appears whole.
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
