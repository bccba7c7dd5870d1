//! The jobs' book in the Durable Object's SQLite storage.
//!
//! Tables (prefixed `jobs_`, created on first use): one row per job with its
//! record as JSON, one row per event, and each job's checkpoint split into
//! rows of at most [`CHECKPOINT_ROW_BYTES`] (a stored value is limited to
//! 2 MB, and a checkpoint may hold a part's worth of ciphertext).

use crate::jobs::engine::book::{BookError, JobBook};
use crate::jobs::engine::record::{JobEvent, JobRecord, NewEvent};
use crate::time::Timestamp;
use serde::Deserialize;
use worker::{SqlStorage, SqlStorageValue};

/// Bytes of checkpoint per row.
pub const CHECKPOINT_ROW_BYTES: usize = 1 << 20;

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS jobs_records (
  id TEXT PRIMARY KEY,
  created_at INTEGER NOT NULL,
  final INTEGER NOT NULL,
  finished_at INTEGER,
  record TEXT NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_records_unfinished ON jobs_records (final, created_at, id);
CREATE INDEX IF NOT EXISTS jobs_records_created ON jobs_records (created_at, id);
CREATE TABLE IF NOT EXISTS jobs_events (
  job_id TEXT NOT NULL,
  seq INTEGER NOT NULL,
  event TEXT NOT NULL,
  PRIMARY KEY (job_id, seq)
);
CREATE TABLE IF NOT EXISTS jobs_checkpoints (
  job_id TEXT NOT NULL,
  part INTEGER NOT NULL,
  bytes BLOB NOT NULL,
  PRIMARY KEY (job_id, part)
);";

/// The book over the object's SQL storage.
pub struct SqlBook {
    sql: SqlStorage,
}

#[derive(Deserialize)]
struct RecordRow {
    record: String,
}

#[derive(Deserialize)]
struct EventRow {
    event: String,
}

#[derive(Deserialize)]
struct SeqRow {
    seq: Option<i64>,
}

fn failed(what: &str) -> impl Fn(worker::Error) -> BookError + '_ {
    move |error| BookError(format!("{what}: {error}"))
}

fn text(value: impl Into<String>) -> SqlStorageValue {
    SqlStorageValue::String(value.into())
}

fn int(value: i64) -> SqlStorageValue {
    SqlStorageValue::Integer(value)
}

impl SqlBook {
    /// Opens the book, creating its tables if needed.
    pub fn open(sql: SqlStorage) -> Result<Self, BookError> {
        sql.exec(SCHEMA, None)
            .map_err(failed("create the job tables"))?;
        Ok(Self { sql })
    }

    fn records(
        &self,
        query: &str,
        bindings: Vec<SqlStorageValue>,
    ) -> Result<Vec<JobRecord>, BookError> {
        let rows: Vec<RecordRow> = self
            .sql
            .exec(query, bindings)
            .and_then(|cursor| cursor.to_array())
            .map_err(failed("read job records"))?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(&row.record)
                    .map_err(|e| BookError(format!("a job record: {e}")))
            })
            .collect()
    }
}

impl JobBook for SqlBook {
    fn save(&self, record: &JobRecord) -> Result<(), BookError> {
        let json = serde_json::to_string(record).map_err(|e| BookError(e.to_string()))?;
        let finished = record
            .finished_at
            .map_or(SqlStorageValue::Null, |at| int(at.as_millis()));
        self.sql
            .exec(
                "INSERT INTO jobs_records (id, created_at, final, finished_at, record) VALUES (?, ?, ?, ?, ?)
                 ON CONFLICT (id) DO UPDATE SET final = excluded.final,
                   finished_at = excluded.finished_at, record = excluded.record",
                vec![
                    text(&record.id),
                    int(record.created_at.as_millis()),
                    int(i64::from(record.state.is_final())),
                    finished,
                    text(json),
                ],
            )
            .map_err(failed("save a job record"))?;
        Ok(())
    }

    fn get(&self, id: &str) -> Result<Option<JobRecord>, BookError> {
        Ok(self
            .records(
                "SELECT record FROM jobs_records WHERE id = ?",
                vec![text(id)],
            )?
            .pop())
    }

    fn unfinished(&self) -> Result<Vec<JobRecord>, BookError> {
        self.records(
            "SELECT record FROM jobs_records WHERE final = 0 ORDER BY created_at, id",
            vec![],
        )
    }

    fn recent(&self, limit: usize) -> Result<Vec<JobRecord>, BookError> {
        self.records(
            "SELECT record FROM jobs_records ORDER BY created_at DESC, id DESC LIMIT ?",
            vec![int(limit as i64)],
        )
    }

    fn append(&self, id: &str, at: Timestamp, events: &[NewEvent]) -> Result<(), BookError> {
        if events.is_empty() {
            return Ok(());
        }
        let last: SeqRow = self
            .sql
            .exec(
                "SELECT max(seq) AS seq FROM jobs_events WHERE job_id = ?",
                vec![text(id)],
            )
            .and_then(|cursor| cursor.one())
            .map_err(failed("number a job event"))?;
        let mut seq = last.seq.unwrap_or(0) as u64;
        for event in events {
            seq += 1;
            let event = JobEvent {
                seq,
                at,
                kind: event.kind,
                step: event.step.clone(),
                status: event.status.clone(),
                message: event.message.clone(),
                detail: event.detail.clone(),
            };
            let json = serde_json::to_string(&event).map_err(|e| BookError(e.to_string()))?;
            self.sql
                .exec(
                    "INSERT INTO jobs_events (job_id, seq, event) VALUES (?, ?, ?)",
                    vec![text(id), int(seq as i64), text(json)],
                )
                .map_err(failed("save a job event"))?;
        }
        Ok(())
    }

    fn events_after(&self, id: &str, after: u64, limit: usize) -> Result<Vec<JobEvent>, BookError> {
        let rows: Vec<EventRow> = self
            .sql
            .exec(
                "SELECT event FROM jobs_events WHERE job_id = ? AND seq > ? ORDER BY seq LIMIT ?",
                vec![text(id), int(after as i64), int(limit as i64)],
            )
            .and_then(|cursor| cursor.to_array())
            .map_err(failed("read job events"))?;
        rows.iter()
            .map(|row| {
                serde_json::from_str(&row.event).map_err(|e| BookError(format!("a job event: {e}")))
            })
            .collect()
    }

    fn checkpoint(&self, id: &str) -> Result<Option<Vec<u8>>, BookError> {
        // Its size first, so the rows are copied one at a time into a
        // buffer of exactly that size: a checkpoint may be several MiB.
        let sizes: Vec<Vec<SqlStorageValue>> = self
            .sql
            .exec(
                "SELECT count(*), coalesce(sum(length(bytes)), 0) FROM jobs_checkpoints WHERE job_id = ?",
                vec![text(id)],
            )
            .map_err(failed("read a checkpoint"))?
            .raw()
            .collect::<Result<_, _>>()
            .map_err(failed("read a checkpoint"))?;
        let (rows, total) = match sizes.first().map(Vec::as_slice) {
            Some([SqlStorageValue::Integer(rows), SqlStorageValue::Integer(total)]) => {
                (*rows, *total)
            }
            other => return Err(BookError(format!("a checkpoint's size reads {other:?}"))),
        };
        if rows == 0 {
            return Ok(None);
        }
        let mut bytes = Vec::with_capacity(usize::try_from(total).unwrap_or(0));
        let cursor = self
            .sql
            .exec(
                "SELECT bytes FROM jobs_checkpoints WHERE job_id = ? ORDER BY part",
                vec![text(id)],
            )
            .map_err(failed("read a checkpoint"))?;
        for row in cursor.raw() {
            match row.map_err(failed("read a checkpoint"))?.into_iter().next() {
                Some(SqlStorageValue::Blob(part)) => bytes.extend_from_slice(&part),
                other => return Err(BookError(format!("a checkpoint row holds {other:?}"))),
            }
        }
        Ok(Some(bytes))
    }

    fn set_checkpoint(&self, id: &str, checkpoint: Option<&[u8]>) -> Result<(), BookError> {
        self.sql
            .exec(
                "DELETE FROM jobs_checkpoints WHERE job_id = ?",
                vec![text(id)],
            )
            .map_err(failed("replace a checkpoint"))?;
        for (part, bytes) in checkpoint
            .unwrap_or_default()
            .chunks(CHECKPOINT_ROW_BYTES)
            .enumerate()
        {
            self.sql
                .exec(
                    "INSERT INTO jobs_checkpoints (job_id, part, bytes) VALUES (?, ?, ?)",
                    vec![
                        text(id),
                        int(part as i64),
                        SqlStorageValue::Blob(bytes.to_vec()),
                    ],
                )
                .map_err(failed("save a checkpoint"))?;
        }
        Ok(())
    }

    fn forget_finished_before(&self, before: Timestamp) -> Result<u64, BookError> {
        let cutoff = int(before.as_millis());
        self.sql
            .exec(
                "DELETE FROM jobs_events WHERE job_id IN
                   (SELECT id FROM jobs_records WHERE final = 1 AND finished_at < ?)",
                vec![cutoff.clone()],
            )
            .map_err(failed("forget old job events"))?;
        let cursor = self
            .sql
            .exec(
                "DELETE FROM jobs_records WHERE final = 1 AND finished_at < ?",
                vec![cutoff],
            )
            .map_err(failed("forget old jobs"))?;
        Ok(cursor.rows_written() as u64)
    }
}
