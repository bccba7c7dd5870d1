//! Slices: how much work one invocation of a job may do.
//!
//! A job advances by slices. Each slice gets a [`Budget`] (D1 queries,
//! subrequests, bytes processed, wall time) that fits the platform's
//! per-invocation limits with room to spare, and a [`Meter`] that counts what
//! the slice has used. The job checks [`Meter::exhausted`] between units of
//! work (a dump page, a part upload, an import batch) and, once it is,
//! ends the slice with a checkpoint. A unit started under budget may finish
//! a little over it: budgets leave room for the largest unit.
//!
//! The counting happens in [`Metered`], a wrapper around the edges, so a
//! job cannot forget to count a query: every D1 statement (each statement
//! of a `batch()` counts, as the platform may count it) and every R2 call
//! goes through it.

use super::store::{
    EdgeError, ListPage, ObjectStore, PartUpload, SqlReader, SqlWriter, StoredObject, UploadedPart,
};
use crate::dump::Row;
use crate::restore::plan::PlannedStatement;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};
use std::cell::Cell;

/// How a slice ended.
#[derive(Debug, Clone, PartialEq)]
pub enum SliceEnd<T> {
    /// The budget ran out (or the job paused at a unit boundary): save the
    /// checkpoint and run another slice.
    Continue,
    /// The job is done, with this result.
    Done(T),
}

/// Statements a unit may add to a batch of the planned size (the batch's
/// prelude, its progress record) plus the reads around it.
pub const BATCH_OVERHEAD: u64 = 6;

/// What one slice may use.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Budget {
    /// D1 statements (each statement of a batch counts).
    pub d1_queries: u64,
    /// Subrequests: D1 calls and R2 calls.
    pub subrequests: u64,
    /// Bytes processed (SQL and ciphertext), the proxy for CPU time: the
    /// Workers clock does not advance while the CPU works.
    pub bytes: u64,
    /// Wall time in milliseconds.
    pub wall_ms: u64,
}

impl Budget {
    /// No limit at all: a job run to its end in one go (the CLI, tests,
    /// and jobs nested inside another job's slice).
    pub const UNLIMITED: Budget = Budget {
        d1_queries: u64::MAX,
        subrequests: u64::MAX,
        bytes: u64::MAX,
        wall_ms: u64::MAX,
    };
}

/// What a slice has used so far.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Usage {
    /// D1 statements run.
    pub d1_queries: u64,
    /// Subrequests made.
    pub subrequests: u64,
    /// Bytes processed.
    pub bytes: u64,
}

/// Counts a slice's use against its budget.
pub struct Meter<'a> {
    budget: Budget,
    used: Cell<Usage>,
    started: Timestamp,
    clock: &'a dyn Fn() -> Timestamp,
}

impl<'a> Meter<'a> {
    /// A meter for one slice starting now.
    pub fn new(budget: Budget, clock: &'a dyn Fn() -> Timestamp) -> Self {
        Self {
            budget,
            used: Cell::new(Usage::default()),
            started: clock(),
            clock,
        }
    }

    /// A meter that never runs out.
    pub fn unlimited(clock: &'a dyn Fn() -> Timestamp) -> Self {
        Self::new(Budget::UNLIMITED, clock)
    }

    /// Counts `statements` D1 statements sent in one call.
    pub fn d1_call(&self, statements: u64) {
        let mut used = self.used.get();
        used.d1_queries = used.d1_queries.saturating_add(statements);
        used.subrequests = used.subrequests.saturating_add(1);
        self.used.set(used);
    }

    /// Counts one R2 call.
    pub fn r2_call(&self) {
        let mut used = self.used.get();
        used.subrequests = used.subrequests.saturating_add(1);
        self.used.set(used);
    }

    /// Counts `bytes` processed.
    pub fn processed(&self, bytes: u64) {
        let mut used = self.used.get();
        used.bytes = used.bytes.saturating_add(bytes);
        self.used.set(used);
    }

    /// The slice's budget.
    pub fn budget(&self) -> Budget {
        self.budget
    }

    /// The most statements one D1 batch of a job may carry under this
    /// budget, with room for the few statements a unit adds around it (a
    /// batch's prelude and progress record, a read): at most `cap`, at
    /// least one.
    pub fn batch_statements(&self, cap: usize) -> usize {
        let room = self.budget.d1_queries.saturating_sub(BATCH_OVERHEAD);
        usize::try_from(room)
            .unwrap_or(usize::MAX)
            .clamp(1, cap.max(1))
    }

    /// Whether the slice should end before a unit that may run `queries`
    /// D1 statements: it would go over the budget's D1 queries, or the
    /// budget is exhausted anyway.
    pub fn no_room_for(&self, queries: u64) -> bool {
        self.exhausted()
            || self.used.get().d1_queries.saturating_add(queries) > self.budget.d1_queries
    }

    /// What the slice has used.
    pub fn usage(&self) -> Usage {
        self.used.get()
    }

    /// The current time, from the slice's clock.
    pub fn now(&self) -> Timestamp {
        (self.clock)()
    }

    /// Whether the slice should end at the next unit boundary.
    pub fn exhausted(&self) -> bool {
        let used = self.used.get();
        let elapsed = self
            .now()
            .as_millis()
            .saturating_sub(self.started.as_millis());
        used.d1_queries >= self.budget.d1_queries
            || used.subrequests >= self.budget.subrequests
            || used.bytes >= self.budget.bytes
            || u64::try_from(elapsed).unwrap_or(0) >= self.budget.wall_ms
    }
}

/// An edge whose every call is counted by a [`Meter`].
pub struct Metered<'m, 'c, E> {
    inner: &'m E,
    meter: &'m Meter<'c>,
}

impl<'m, 'c, E> Metered<'m, 'c, E> {
    /// Wraps `inner`, counting into `meter`.
    pub fn new(inner: &'m E, meter: &'m Meter<'c>) -> Self {
        Self { inner, meter }
    }
}

impl<E: SqlReader> SqlReader for Metered<'_, '_, E> {
    async fn query(&self, sql: &str) -> Result<Vec<Row>, EdgeError> {
        self.meter.d1_call(1);
        self.inner.query(sql).await
    }
}

impl<E: SqlWriter> SqlWriter for Metered<'_, '_, E> {
    async fn batch(&self, statements: &[PlannedStatement]) -> Result<(), EdgeError> {
        self.meter.d1_call(statements.len() as u64);
        self.inner.batch(statements).await
    }
}

/// A multipart upload whose part uploads are counted.
pub struct MeteredUpload<'m, 'c, U> {
    inner: U,
    meter: &'m Meter<'c>,
}

impl<'m, 'c, U> MeteredUpload<'m, 'c, U> {
    /// The wrapped upload.
    pub fn inner(&self) -> &U {
        &self.inner
    }
}

impl<U: PartUpload> PartUpload for MeteredUpload<'_, '_, U> {
    fn upload_id(&self) -> &str {
        self.inner.upload_id()
    }
    fn parts(&self) -> &[UploadedPart] {
        self.inner.parts()
    }
    async fn upload_part(&mut self, bytes: Vec<u8>) -> Result<(), EdgeError> {
        self.meter.r2_call();
        self.inner.upload_part(bytes).await
    }
    async fn complete(self) -> Result<(), EdgeError> {
        self.meter.r2_call();
        self.inner.complete().await
    }
    async fn abort(self) -> Result<(), EdgeError> {
        self.meter.r2_call();
        self.inner.abort().await
    }
}

impl<'m, 'c, S: ObjectStore> ObjectStore for Metered<'m, 'c, S> {
    type Upload = MeteredUpload<'m, 'c, S::Upload>;

    async fn start_upload(&self, key: &str) -> Result<Self::Upload, EdgeError> {
        self.meter.r2_call();
        let inner = self.inner.start_upload(key).await?;
        Ok(MeteredUpload {
            inner,
            meter: self.meter,
        })
    }
    async fn resume_upload(
        &self,
        key: &str,
        upload_id: &str,
        parts: Vec<UploadedPart>,
    ) -> Result<Self::Upload, EdgeError> {
        self.meter.r2_call();
        let inner = self.inner.resume_upload(key, upload_id, parts).await?;
        Ok(MeteredUpload {
            inner,
            meter: self.meter,
        })
    }
    async fn put(
        &self,
        key: &str,
        body: Vec<u8>,
        metadata: &[(&str, String)],
    ) -> Result<(), EdgeError> {
        self.meter.r2_call();
        self.inner.put(key, body, metadata).await
    }
    async fn create(&self, key: &str, body: Vec<u8>) -> Result<bool, EdgeError> {
        self.meter.r2_call();
        self.inner.create(key, body).await
    }
    async fn replace(&self, key: &str, body: Vec<u8>, etag: &str) -> Result<bool, EdgeError> {
        self.meter.r2_call();
        self.inner.replace(key, body, etag).await
    }
    async fn get(&self, key: &str) -> Result<Option<StoredObject>, EdgeError> {
        self.meter.r2_call();
        self.inner.get(key).await
    }
    async fn size(&self, key: &str) -> Result<Option<u64>, EdgeError> {
        self.meter.r2_call();
        self.inner.size(key).await
    }
    async fn get_range(
        &self,
        key: &str,
        offset: u64,
        length: u64,
    ) -> Result<Option<Vec<u8>>, EdgeError> {
        self.meter.r2_call();
        self.inner.get_range(key, offset, length).await
    }
    async fn delete(&self, key: &str) -> Result<(), EdgeError> {
        self.meter.r2_call();
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str, cursor: Option<&str>) -> Result<ListPage, EdgeError> {
        self.meter.r2_call();
        self.inner.list(prefix, cursor).await
    }
}
