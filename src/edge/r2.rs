//! The R2 edge: the backup bucket behind the `BACKUPS` binding.

use crate::jobs::store::{
    next_part_number, EdgeError, ListPage, ListedObject, ObjectStore, PartUpload, StoredObject,
    UploadedPart,
};
use crate::platform::InvocationCounter;
use std::collections::HashMap;
use std::rc::Rc;
use worker::{Bucket, Conditional, Include, MultipartUpload, Range};

/// The backup bucket; every call is counted against the invocation's
/// limits ([`crate::platform`]).
pub struct R2Store {
    bucket: Bucket,
    counter: Rc<InvocationCounter>,
}

/// Counts one R2 call of `operation` into `counter`.
fn count(counter: &InvocationCounter, operation: &str) -> Result<(), EdgeError> {
    counter
        .subrequest()
        .map_err(|e| EdgeError::new(format!("R2 {operation}"), e))
}

impl R2Store {
    /// A store over `bucket`, counting into `counter`.
    pub fn new(bucket: Bucket, counter: Rc<InvocationCounter>) -> Self {
        Self { bucket, counter }
    }

    async fn put_conditionally(
        &self,
        key: &str,
        body: Vec<u8>,
        only_if: Conditional,
    ) -> Result<bool, EdgeError> {
        let written = self
            .bucket
            .put(key, body)
            .only_if(only_if)
            .execute()
            .await
            .map_err(|e| EdgeError::new(format!("R2 conditional put {key}"), e))?;
        Ok(written.is_some())
    }
}

/// A multipart upload in R2; parts are numbered from 1 in upload order.
pub struct R2Upload {
    counter: Rc<InvocationCounter>,
    key: String,
    id: String,
    upload: MultipartUpload,
    parts: Vec<UploadedPart>,
}

impl PartUpload for R2Upload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    fn parts(&self) -> &[UploadedPart] {
        &self.parts
    }

    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), EdgeError> {
        count(&self.counter, "upload part")?;
        let operation = format!("R2 upload part {}", self.key);
        let number = next_part_number(&operation, &self.parts)?;
        let part =
            self.upload.upload_part(number, bytes).await.map_err(|e| {
                EdgeError::new(format!("R2 upload part {number} of {}", self.key), e)
            })?;
        self.parts.push(UploadedPart {
            part_number: part.part_number(),
            etag: part.etag(),
        });
        Ok(())
    }

    async fn complete(self) -> Result<(), EdgeError> {
        count(&self.counter, "complete upload")?;
        let key = self.key;
        let parts = self
            .parts
            .into_iter()
            .map(|part| worker::UploadedPart::new(part.part_number, part.etag));
        self.upload
            .complete(parts)
            .await
            .map(|_| ())
            .map_err(|e| EdgeError::new(format!("R2 complete upload {key}"), e))
    }

    async fn abort(self) -> Result<(), EdgeError> {
        count(&self.counter, "abort upload")?;
        self.upload
            .abort()
            .await
            .map_err(|e| EdgeError::new(format!("R2 abort upload {}", self.key), e))
    }
}

impl ObjectStore for R2Store {
    type Upload = R2Upload;

    async fn start_upload(&self, key: &str) -> Result<R2Upload, EdgeError> {
        count(&self.counter, "start upload")?;
        let upload = self
            .bucket
            .create_multipart_upload(key)
            .execute()
            .await
            .map_err(|e| EdgeError::new(format!("R2 start upload {key}"), e))?;
        Ok(R2Upload {
            counter: self.counter.clone(),
            key: key.to_owned(),
            id: upload.upload_id().await,
            upload,
            parts: Vec::new(),
        })
    }

    /// R2 checks nothing here: an upload that was completed or aborted
    /// fails at the next part, complete or abort.
    async fn resume_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<UploadedPart>,
    ) -> Result<R2Upload, EdgeError> {
        let operation = format!("R2 resume upload {key}");
        next_part_number(&operation, &parts)?;
        let upload = self
            .bucket
            .resume_multipart_upload(key, upload_id)
            .map_err(|e| EdgeError::new(operation, e))?;
        Ok(R2Upload {
            counter: self.counter.clone(),
            key: key.to_owned(),
            id: upload_id.to_owned(),
            upload,
            parts,
        })
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, String)],
    ) -> Result<(), EdgeError> {
        count(&self.counter, "put")?;
        let metadata: HashMap<String, String> = metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.bucket
            .put(key, body)
            .custom_metadata(metadata)
            .execute()
            .await
            .map(|_| ())
            .map_err(|e| EdgeError::new(format!("R2 put {key}"), e))
    }

    async fn create(&self, key: &str, body: Vec<u8>) -> Result<bool, EdgeError> {
        count(&self.counter, "create")?;
        let only_if = Conditional {
            etag_does_not_match: Some("*".into()),
            ..Conditional::default()
        };
        self.put_conditionally(key, body, only_if).await
    }

    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<bool, EdgeError> {
        count(&self.counter, "replace")?;
        let only_if = Conditional {
            etag_matches: Some(etag.to_owned()),
            ..Conditional::default()
        };
        self.put_conditionally(key, body, only_if).await
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, EdgeError> {
        count(&self.counter, "get")?;
        let fail = |e: worker::Error| EdgeError::new(format!("R2 get {key}"), e);
        let Some(object) = self.bucket.get(key).execute().await.map_err(fail)? else {
            return Ok(None);
        };
        let etag = object.etag();
        let body = match object.body() {
            Some(body) => body.bytes().await.map_err(fail)?,
            None => Vec::new(),
        };
        Ok(Some(StoredObject { body, etag }))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, EdgeError> {
        count(&self.counter, "head")?;
        let head = self
            .bucket
            .head(key)
            .await
            .map_err(|e| EdgeError::new(format!("R2 head {key}"), e))?;
        Ok(head.map(|object| object.size()))
    }

    async fn get_range(
        &self,
        key: &str,
        offset: u64,
        length: u64,
    ) -> Result<Option<Vec<u8>>, EdgeError> {
        count(&self.counter, "get range")?;
        let fail = |e: worker::Error| EdgeError::new(format!("R2 get {key} at {offset}"), e);
        let request = self
            .bucket
            .get(key)
            .range(Range::OffsetWithLength { offset, length });
        let Some(object) = request.execute().await.map_err(fail)? else {
            return Ok(None);
        };
        match object.body() {
            Some(body) => Ok(Some(body.bytes().await.map_err(fail)?)),
            None => Ok(Some(Vec::new())),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), EdgeError> {
        count(&self.counter, "delete")?;
        self.bucket
            .delete(key)
            .await
            .map_err(|e| EdgeError::new(format!("R2 delete {key}"), e))
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, EdgeError> {
        count(&self.counter, "list")?;
        let mut request = self
            .bucket
            .list()
            .prefix(prefix)
            .include(vec![Include::CustomMetadata]);
        if let Some(cursor) = cursor {
            request = request.cursor(cursor);
        }
        let listed = request
            .execute()
            .await
            .map_err(|e| EdgeError::new(format!("R2 list {prefix}"), e))?;
        let objects = listed
            .objects()
            .into_iter()
            .map(|object| ListedObject {
                key: object.key(),
                size: object.size(),
                metadata: object.custom_metadata().unwrap_or_default(),
            })
            .collect();
        Ok(ListPage {
            objects,
            cursor: if listed.truncated() {
                listed.cursor()
            } else {
                None
            },
        })
    }
}
