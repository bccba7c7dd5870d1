//! Where the jobs' records, events and checkpoints are kept: the Durable
//! Object's SQLite storage at the edge, [`MemoryBook`] in tests.
//!
//! The calls are synchronous: the object's storage is local, and writes
//! made without an `await` between them are committed together, which is
//! what makes a slice's record, events and checkpoint one atomic save.

use super::record::{JobEvent, JobRecord, NewEvent};
use crate::time::Timestamp;

/// A storage failure inside the job object.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("job storage: {0}")]
pub struct BookError(pub String);

/// The jobs' storage.
pub trait JobBook {
    /// Stores a new record, or replaces the record with the same id.
    fn save(&self, record: &JobRecord) -> Result<(), BookError>;
    /// The record of `id`.
    fn get(&self, id: &str) -> Result<Option<JobRecord>, BookError>;
    /// Jobs not yet final, oldest first.
    fn unfinished(&self) -> Result<Vec<JobRecord>, BookError>;
    /// The newest `limit` jobs, newest first.
    fn recent(&self, limit: usize) -> Result<Vec<JobRecord>, BookError>;
    /// Appends `events` to `id`'s list, numbered after its last event.
    fn append(&self, id: &str, at: Timestamp, events: &[NewEvent]) -> Result<(), BookError>;
    /// `id`'s events after sequence number `after`, at most `limit`.
    fn events_after(&self, id: &str, after: u64, limit: usize) -> Result<Vec<JobEvent>, BookError>;
    /// `id`'s saved checkpoint.
    fn checkpoint(&self, id: &str) -> Result<Option<Vec<u8>>, BookError>;
    /// Replaces `id`'s checkpoint; `None` removes it.
    fn set_checkpoint(&self, id: &str, checkpoint: Option<&[u8]>) -> Result<(), BookError>;
    /// Forgets final jobs that finished before `before`, with their events.
    fn forget_finished_before(&self, before: Timestamp) -> Result<u64, BookError>;
}

#[cfg(test)]
pub use memory::MemoryBook;

#[cfg(test)]
mod memory {
    use super::*;
    use std::cell::RefCell;
    use std::collections::BTreeMap;

    /// An in-memory book for tests.
    #[derive(Default)]
    pub struct MemoryBook {
        records: RefCell<BTreeMap<String, JobRecord>>,
        events: RefCell<BTreeMap<String, Vec<JobEvent>>>,
        checkpoints: RefCell<BTreeMap<String, Vec<u8>>>,
    }

    impl JobBook for MemoryBook {
        fn save(&self, record: &JobRecord) -> Result<(), BookError> {
            self.records
                .borrow_mut()
                .insert(record.id.clone(), record.clone());
            Ok(())
        }
        fn get(&self, id: &str) -> Result<Option<JobRecord>, BookError> {
            Ok(self.records.borrow().get(id).cloned())
        }
        fn unfinished(&self) -> Result<Vec<JobRecord>, BookError> {
            let mut jobs: Vec<JobRecord> = self
                .records
                .borrow()
                .values()
                .filter(|r| !r.state.is_final())
                .cloned()
                .collect();
            jobs.sort_by(|a, b| (a.created_at, &a.id).cmp(&(b.created_at, &b.id)));
            Ok(jobs)
        }
        fn recent(&self, limit: usize) -> Result<Vec<JobRecord>, BookError> {
            let mut jobs: Vec<JobRecord> = self.records.borrow().values().cloned().collect();
            jobs.sort_by(|a, b| (b.created_at, &b.id).cmp(&(a.created_at, &a.id)));
            jobs.truncate(limit);
            Ok(jobs)
        }
        fn append(&self, id: &str, at: Timestamp, events: &[NewEvent]) -> Result<(), BookError> {
            let mut all = self.events.borrow_mut();
            let list = all.entry(id.to_owned()).or_default();
            for event in events {
                list.push(JobEvent {
                    seq: list.len() as u64 + 1,
                    at,
                    kind: event.kind,
                    step: event.step.clone(),
                    status: event.status.clone(),
                    message: event.message.clone(),
                    detail: event.detail.clone(),
                });
            }
            Ok(())
        }
        fn events_after(
            &self,
            id: &str,
            after: u64,
            limit: usize,
        ) -> Result<Vec<JobEvent>, BookError> {
            Ok(self
                .events
                .borrow()
                .get(id)
                .map(|list| {
                    list.iter()
                        .filter(|e| e.seq > after)
                        .take(limit)
                        .cloned()
                        .collect()
                })
                .unwrap_or_default())
        }
        fn checkpoint(&self, id: &str) -> Result<Option<Vec<u8>>, BookError> {
            Ok(self.checkpoints.borrow().get(id).cloned())
        }
        fn set_checkpoint(&self, id: &str, checkpoint: Option<&[u8]>) -> Result<(), BookError> {
            let mut all = self.checkpoints.borrow_mut();
            match checkpoint {
                Some(bytes) => all.insert(id.to_owned(), bytes.to_vec()),
                None => all.remove(id),
            };
            Ok(())
        }
        fn forget_finished_before(&self, before: Timestamp) -> Result<u64, BookError> {
            let mut records = self.records.borrow_mut();
            let old: Vec<String> = records
                .values()
                .filter(|r| r.finished_at.is_some_and(|at| at < before))
                .map(|r| r.id.clone())
                .collect();
            for id in &old {
                records.remove(id);
                self.events.borrow_mut().remove(id);
            }
            Ok(old.len() as u64)
        }
    }
}
