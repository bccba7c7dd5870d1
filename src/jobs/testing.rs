//! Test doubles for the job edges: an in-memory bucket with R2's conditional
//! and multipart semantics, a SQLite-backed reader, and an executor for the
//! (never actually suspending) futures.
//!
//! Multipart uploads live in the bucket, as in R2, so a handle can be
//! dropped and the upload resumed by id: a part number uploaded again
//! replaces the part and gets a new etag; completing takes exactly the parts
//! listed, whose etags must be the latest, whose non-final parts must be
//! equal and whose last part must be no larger; a completed or aborted
//! upload is gone. R2's 5 MiB minimum part size is left to the job (tests
//! use small parts).

use super::store::{
    next_part_number, EdgeError, ListPage, ListedObject, ObjectStore, PartUpload, SqlReader,
    SqlWriter, StoredObject, UploadedPart,
};
use crate::dump::Row;
use crate::restore::plan::{Param, PlannedStatement};
use std::cell::{Cell, RefCell};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::pin::pin;
use std::rc::Rc;
use std::task::{Context, Poll, Waker};

/// Runs a future that never waits on anything external.
pub fn block_on<F: Future>(future: F) -> F::Output {
    let mut future = pin!(future);
    let mut context = Context::from_waker(Waker::noop());
    loop {
        if let Poll::Ready(output) = future.as_mut().poll(&mut context) {
            return output;
        }
    }
}

#[derive(Debug, Clone)]
struct Entry {
    body: Vec<u8>,
    etag: u64,
    metadata: HashMap<String, String>,
}

/// A multipart upload the bucket holds: its key and parts by number, each
/// with its etag.
#[derive(Debug, Clone)]
struct OpenUpload {
    key: String,
    parts: BTreeMap<u16, (String, Vec<u8>)>,
}

/// An in-memory bucket. `fail_put_matching` makes puts and part uploads
/// to keys containing that text fail, to test failure paths.
#[derive(Debug, Default, Clone)]
pub struct MemoryStore {
    objects: Rc<RefCell<BTreeMap<String, Entry>>>,
    next_etag: Rc<Cell<u64>>,
    /// Uploads started and not yet completed or aborted, by id.
    uploads: Rc<RefCell<BTreeMap<String, OpenUpload>>>,
    /// Fail every write whose key contains this text.
    pub fail_put_matching: Rc<RefCell<Option<String>>>,
    /// Fail every upload of the part with this number (1-based).
    pub fail_part_number: Rc<Cell<Option<usize>>>,
    /// Page size of listings.
    pub list_page_size: usize,
}

impl MemoryStore {
    /// Keys present, in order.
    pub fn keys(&self) -> Vec<String> {
        self.objects.borrow().keys().cloned().collect()
    }

    /// Keys of the uploads started and not yet completed or aborted.
    pub fn open_uploads(&self) -> Vec<String> {
        self.uploads
            .borrow()
            .values()
            .map(|upload| upload.key.clone())
            .collect()
    }

    /// A copy that shares nothing with this store: the bucket as it is now,
    /// to try several futures from one moment.
    pub fn snapshot(&self) -> MemoryStore {
        MemoryStore {
            objects: Rc::new(RefCell::new(self.objects.borrow().clone())),
            next_etag: Rc::new(Cell::new(self.next_etag.get())),
            uploads: Rc::new(RefCell::new(self.uploads.borrow().clone())),
            fail_put_matching: Rc::new(RefCell::new(self.fail_put_matching.borrow().clone())),
            fail_part_number: Rc::new(Cell::new(self.fail_part_number.get())),
            list_page_size: self.list_page_size,
        }
    }

    /// An object's bytes.
    pub fn body(&self, key: &str) -> Option<Vec<u8>> {
        self.objects
            .borrow()
            .get(key)
            .map(|entry| entry.body.clone())
    }

    /// Replaces an object's bytes (to simulate tampering), keeping its metadata.
    pub fn tamper(&self, key: &str, edit: impl FnOnce(&mut Vec<u8>)) {
        if let Some(entry) = self.objects.borrow_mut().get_mut(key) {
            edit(&mut entry.body);
        }
    }

    /// A store whose listings return `size` objects per page.
    pub fn with_list_page_size(size: usize) -> Self {
        Self {
            list_page_size: size,
            ..Self::default()
        }
    }

    fn etag(&self) -> u64 {
        let etag = self.next_etag.get() + 1;
        self.next_etag.set(etag);
        etag
    }

    fn insert(&self, key: &str, body: Vec<u8>, metadata: HashMap<String, String>) {
        let etag = self.etag();
        self.objects.borrow_mut().insert(
            key.to_owned(),
            Entry {
                body,
                etag,
                metadata,
            },
        );
    }

    fn check_write(&self, key: &str) -> Result<(), EdgeError> {
        match self.fail_put_matching.borrow().as_deref() {
            Some(pattern) if key.contains(pattern) => {
                Err(EdgeError::new(format!("put {key}"), "injected failure"))
            }
            _ => Ok(()),
        }
    }
}

/// A multipart upload into a [`MemoryStore`].
pub struct MemoryUpload {
    store: MemoryStore,
    key: String,
    id: String,
    parts: Vec<UploadedPart>,
}

impl MemoryUpload {
    fn no_such_upload(&self, operation: &str) -> EdgeError {
        EdgeError::new(
            format!("{operation} {}", self.key),
            format!("no such upload {}: it was completed or aborted", self.id),
        )
    }
}

impl PartUpload for MemoryUpload {
    fn upload_id(&self) -> &str {
        &self.id
    }

    fn parts(&self) -> &[UploadedPart] {
        &self.parts
    }

    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), EdgeError> {
        let number = next_part_number("upload part", &self.parts)?;
        if self.store.fail_part_number.get() == Some(usize::from(number)) {
            return Err(EdgeError::new(
                format!("upload part {number}"),
                "injected failure",
            ));
        }
        let etag = format!("part-{}", self.store.etag());
        let mut uploads = self.store.uploads.borrow_mut();
        let Some(upload) = uploads.get_mut(&self.id) else {
            return Err(self.no_such_upload("upload part"));
        };
        upload.parts.insert(number, (etag.clone(), bytes));
        self.parts.push(UploadedPart {
            part_number: number,
            etag,
        });
        Ok(())
    }

    async fn complete(self) -> Result<(), EdgeError> {
        let body = {
            let uploads = self.store.uploads.borrow();
            let Some(upload) = uploads.get(&self.id) else {
                return Err(self.no_such_upload("complete"));
            };
            let mut listed = Vec::with_capacity(self.parts.len());
            for part in &self.parts {
                match upload.parts.get(&part.part_number) {
                    Some((etag, bytes)) if *etag == part.etag => listed.push(bytes.as_slice()),
                    _ => {
                        return Err(EdgeError::new(
                            "complete",
                            format!(
                                "part {} with etag {} was not uploaded",
                                part.part_number, part.etag
                            ),
                        ))
                    }
                }
            }
            let sizes: Vec<usize> = listed.iter().map(|part| part.len()).collect();
            match sizes.split_last() {
                None => return Err(EdgeError::new("complete", "no parts")),
                Some((last, non_final)) => {
                    if non_final.windows(2).any(|w| w[0] != w[1]) {
                        return Err(EdgeError::new("complete", "non-final parts differ in size"));
                    }
                    if non_final.first().is_some_and(|first| last > first) {
                        return Err(EdgeError::new(
                            "complete",
                            "the last part is larger than the others",
                        ));
                    }
                }
            }
            listed.concat()
        };
        self.store.check_write(&self.key)?;
        self.store.uploads.borrow_mut().remove(&self.id);
        self.store.insert(&self.key, body, HashMap::new());
        Ok(())
    }

    async fn abort(self) -> Result<(), EdgeError> {
        match self.store.uploads.borrow_mut().remove(&self.id) {
            Some(_) => Ok(()),
            None => Err(self.no_such_upload("abort")),
        }
    }
}

impl ObjectStore for MemoryStore {
    type Upload = MemoryUpload;

    async fn start_upload(&self, key: &str) -> Result<MemoryUpload, EdgeError> {
        let id = format!("upload-{}", self.etag());
        self.uploads.borrow_mut().insert(
            id.clone(),
            OpenUpload {
                key: key.to_owned(),
                parts: BTreeMap::new(),
            },
        );
        Ok(MemoryUpload {
            store: self.clone(),
            key: key.to_owned(),
            id,
            parts: Vec::new(),
        })
    }

    async fn resume_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<UploadedPart>,
    ) -> Result<MemoryUpload, EdgeError> {
        next_part_number("resume upload", &parts)?;
        let open = self
            .uploads
            .borrow()
            .get(upload_id)
            .is_some_and(|upload| upload.key == key);
        if !open {
            return Err(EdgeError::new(
                format!("resume upload {key}"),
                format!("no such upload {upload_id}: it was completed or aborted"),
            ));
        }
        Ok(MemoryUpload {
            store: self.clone(),
            key: key.to_owned(),
            id: upload_id.to_owned(),
            parts,
        })
    }

    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, String)],
    ) -> Result<(), EdgeError> {
        self.check_write(key)?;
        let metadata = metadata
            .iter()
            .map(|(k, v)| ((*k).to_owned(), v.clone()))
            .collect();
        self.insert(key, body, metadata);
        Ok(())
    }

    async fn create(&self, key: &str, body: Vec<u8>) -> Result<bool, EdgeError> {
        if self.objects.borrow().contains_key(key) {
            return Ok(false);
        }
        self.put(key, body, &[]).await?;
        Ok(true)
    }

    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<bool, EdgeError> {
        let current = self
            .objects
            .borrow()
            .get(key)
            .map(|entry| entry.etag.to_string());
        if current.as_deref() != Some(etag) {
            return Ok(false);
        }
        self.put(key, body, &[]).await?;
        Ok(true)
    }

    async fn get(&self, key: &str) -> Result<Option<StoredObject>, EdgeError> {
        Ok(self.objects.borrow().get(key).map(|entry| StoredObject {
            body: entry.body.clone(),
            etag: entry.etag.to_string(),
        }))
    }

    async fn size(&self, key: &str) -> Result<Option<u64>, EdgeError> {
        Ok(self
            .objects
            .borrow()
            .get(key)
            .map(|entry| entry.body.len() as u64))
    }

    async fn get_range(
        &self,
        key: &str,
        offset: u64,
        length: u64,
    ) -> Result<Option<Vec<u8>>, EdgeError> {
        Ok(self.objects.borrow().get(key).map(|entry| {
            let start = (offset as usize).min(entry.body.len());
            let end = start.saturating_add(length as usize).min(entry.body.len());
            entry.body[start..end].to_vec()
        }))
    }

    async fn delete(&self, key: &str) -> Result<(), EdgeError> {
        self.objects.borrow_mut().remove(key);
        Ok(())
    }

    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, EdgeError> {
        let page_size = if self.list_page_size == 0 {
            1000
        } else {
            self.list_page_size
        };
        let objects = self.objects.borrow();
        let matching: Vec<ListedObject> = objects
            .iter()
            .filter(|(key, _)| {
                key.starts_with(prefix) && cursor.is_none_or(|after| key.as_str() > after)
            })
            .take(page_size + 1)
            .map(|(key, entry)| ListedObject {
                key: key.clone(),
                size: entry.body.len() as u64,
                metadata: entry.metadata.clone(),
            })
            .collect();
        let truncated = matching.len() > page_size;
        let objects: Vec<ListedObject> = matching.into_iter().take(page_size).collect();
        let cursor = truncated
            .then(|| objects.last().map(|o| o.key.clone()))
            .flatten();
        Ok(ListPage { objects, cursor })
    }
}

use crate::d1_limits;

/// The connection settings that make SQLite as strict as D1, shared with
/// the integration tests.
#[path = "../../tests/support/d1_sqlite.rs"]
mod d1_sqlite;
pub use d1_sqlite::{apply_d1_limits, register_d1_functions};

/// A [`SqlReader`] and [`SqlWriter`] over an in-process SQLite database,
/// with foreign keys enforced and D1's limits applied, as on D1.
pub struct SqliteReader {
    /// The connection.
    pub connection: rusqlite::Connection,
    /// Fail the Nth query (1-based), to test failure paths.
    pub fail_query_number: Cell<Option<usize>>,
    /// Fail the next batch with a statement containing this text (once), as
    /// D1 would reject a statement midway.
    pub fail_batch_containing: RefCell<Option<String>>,
    queries: Cell<usize>,
}

/// An in-memory database with `noise(seed, len)`: `len` deterministic
/// pseudo-random bytes (a BLOB) from `seed`. Fixtures fill columns with it
/// where they need SQL that does not compress away (format version 2
/// compresses the dump), so their objects still span several parts, ranges
/// and slices.
pub fn noisy_connection() -> rusqlite::Connection {
    use rusqlite::functions::FunctionFlags;
    let connection = rusqlite::Connection::open_in_memory().expect("an in-memory database");
    connection
        .create_scalar_function(
            "noise",
            2,
            FunctionFlags::SQLITE_UTF8 | FunctionFlags::SQLITE_DETERMINISTIC,
            |ctx| {
                let seed: i64 = ctx.get(0)?;
                let len: i64 = ctx.get(1)?;
                Ok(noise(seed as u64, len.max(0) as usize))
            },
        )
        .expect("noise() registers");
    connection
}

/// `len` pseudo-random bytes from `seed` (xorshift64).
pub fn noise(seed: u64, len: usize) -> Vec<u8> {
    let mut state = seed.wrapping_mul(0x9e37_79b9_7f4a_7c15) | 1;
    (0..len)
        .map(|_| {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            (state >> 24) as u8
        })
        .collect()
}

impl SqliteReader {
    /// A reader and writer over `connection`.
    pub fn new(connection: rusqlite::Connection) -> Self {
        connection
            .execute_batch("PRAGMA foreign_keys = ON")
            .expect("foreign keys on");
        apply_d1_limits(&connection);
        register_d1_functions(&connection);
        Self {
            connection,
            fail_query_number: Cell::new(None),
            fail_batch_containing: RefCell::new(None),
            queries: Cell::new(0),
        }
    }
}

impl SqlWriter for SqliteReader {
    async fn batch(&self, statements: &[PlannedStatement]) -> Result<(), EdgeError> {
        let fail = |e: rusqlite::Error| EdgeError::new("batch", e);
        let armed = self.fail_batch_containing.borrow().clone();
        if let Some(pattern) = armed {
            if statements.iter().any(|s| s.sql.contains(&pattern)) {
                self.fail_batch_containing.replace(None);
                return Err(EdgeError::new("batch", "injected failure"));
            }
        }
        let run = || {
            let transaction = self.connection.unchecked_transaction()?;
            for statement in statements {
                let mut prepared = transaction.prepare(&statement.sql)?;
                for (index, param) in statement.params.iter().enumerate() {
                    match param {
                        Param::Text(text) => prepared.raw_bind_parameter(index + 1, text.as_str()),
                        Param::Blob(bytes) => {
                            prepared.raw_bind_parameter(index + 1, bytes.as_slice())
                        }
                    }?;
                }
                let mut rows = prepared.raw_query();
                while rows.next()?.is_some() {}
            }
            transaction.commit()
        };
        let outcome = run();
        // D1's pragmas last one transaction (defer_foreign_keys ends with
        // it in SQLite too; ignore_check_constraints would not).
        self.connection
            .execute_batch("PRAGMA ignore_check_constraints = OFF")
            .map_err(fail)?;
        outcome.map_err(fail)
    }
}

impl SqlReader for SqliteReader {
    async fn query(&self, sql: &str) -> Result<Vec<Row>, EdgeError> {
        self.queries.set(self.queries.get() + 1);
        if self.fail_query_number.get() == Some(self.queries.get()) {
            return Err(EdgeError::new("D1 query", "injected failure"));
        }
        let fail = |e: rusqlite::Error| EdgeError::new(format!("query {sql}"), e);
        let mut statement = self.connection.prepare(sql).map_err(fail)?;
        let columns = statement.column_count();
        let rows = statement
            .query_map([], |row| {
                (0..columns)
                    .map(|i| {
                        Ok(match row.get_ref(i)? {
                            rusqlite::types::ValueRef::Null => None,
                            rusqlite::types::ValueRef::Integer(n) => Some(n.to_string()),
                            rusqlite::types::ValueRef::Real(x) => Some(x.to_string()),
                            rusqlite::types::ValueRef::Text(t) => {
                                Some(String::from_utf8_lossy(t).into_owned())
                            }
                            rusqlite::types::ValueRef::Blob(_) => {
                                return Err(rusqlite::Error::InvalidColumnType(
                                    i,
                                    "blob".into(),
                                    rusqlite::types::Type::Blob,
                                ))
                            }
                        })
                    })
                    .collect::<Result<Row, _>>()
            })
            .map_err(fail)?
            .collect::<Result<Vec<Row>, _>>()
            .map_err(fail)?;
        Ok(rows)
    }
}
