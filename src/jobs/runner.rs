//! A backup run from start to finish: take the lock, take the backup, clean
//! up orphans, prune (after a successful backup only), record the outcome
//! for `/health` and `/v1/status`, write the run report, give the lock back.
//!
//! A run that finds the lock held does nothing and reports
//! [`RunError::Locked`] (409 over HTTP; logged and skipped by the cron).
//! Every other failure is recorded in the history and the run report, and
//! returned, so the caller can alert.

use super::backup::{take_backup, BackupError, BackupRequest, BackupSettings};
use super::lock::{self, LockError, LockRecord};
use super::prune;
use super::store::{EdgeError, ObjectStore, SqlReader};
use crate::config::RetentionCounts;
use crate::health::{BackupHistory, RunRecord};
use crate::layout::{run_report_key, HISTORY_KEY};
use crate::manifest::{Manifest, Warning};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// How a run is observed: the clock for timings, and the memory probe.
pub struct Probes<'a> {
    /// The current time.
    pub clock: &'a dyn Fn() -> Timestamp,
    /// Bytes of memory in use (the wasm linear memory on workerd).
    pub memory: &'a dyn Fn() -> u64,
}

/// One step of a run and how long it took.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepTiming {
    /// The step's name.
    pub name: String,
    /// Milliseconds it took.
    pub ms: i64,
}

/// The report of one run, stored under `reports/runs/<id>.json`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RunReport {
    /// The backup id.
    pub id: String,
    /// The backup's kind.
    pub kind: BackupKind,
    /// `succeeded` or `failed`.
    pub outcome: String,
    /// Why it failed.
    pub error: Option<String>,
    /// When the run started and finished (wall clock).
    pub started_at: Timestamp,
    /// When it finished.
    pub finished_at: Timestamp,
    /// Each step with its duration.
    pub steps: Vec<StepTiming>,
    /// Plaintext (SQL) bytes.
    pub sql_bytes: u64,
    /// Encrypted bytes stored.
    pub stored_bytes: u64,
    /// Rows dumped.
    pub rows: u64,
    /// Backups pruned after this one.
    pub pruned: Vec<String>,
    /// Unlisted data objects removed.
    pub orphans_removed: Vec<String>,
    /// Peak memory seen (wasm linear memory).
    pub memory_bytes: u64,
    /// The backup's warnings, as its manifest records them.
    #[serde(default)]
    pub warnings: Vec<Warning>,
}

/// Why a run did not happen or failed.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    /// Another job holds the lock: nothing was done.
    #[error("{}", LockError::Held(.0.clone()))]
    Locked(LockRecord),
    /// The backup failed; the report and history say so.
    #[error("{error}")]
    Failed {
        /// The failure.
        error: BackupError,
        /// The stored report.
        report: Box<RunReport>,
    },
    /// The bucket failed around the backup (lock, history, report).
    #[error("{0}")]
    Store(#[from] EdgeError),
}

/// A finished, successful run.
#[derive(Debug)]
pub struct RunOutcome {
    /// The new backup's manifest.
    pub manifest: Manifest,
    /// The stored report.
    pub report: RunReport,
}

/// Runs one backup under the lock (honoured for `lock_ttl_ms`); prunes with
/// `prune` counts at `prune_now` afterwards when given (the cron does,
/// manual backups do not).
pub async fn run_backup(
    db: &impl SqlReader,
    store: &impl ObjectStore,
    settings: BackupSettings<'_>,
    request: &BackupRequest,
    prune: Option<(RetentionCounts, Timestamp)>,
    lock_ttl_ms: i64,
    probes: Probes<'_>,
) -> Result<RunOutcome, RunError> {
    let started_at = (probes.clock)();
    let held = match lock::acquire(store, "backup", &request.id, started_at, lock_ttl_ms).await {
        Ok(held) => held,
        Err(LockError::Held(record)) => return Err(RunError::Locked(record)),
        Err(LockError::Store(error)) => return Err(RunError::Store(error)),
    };
    let result = run_locked(db, store, settings, request, prune, &probes, started_at).await;
    let released = lock::release(store, &held).await;
    let outcome = result?;
    released?;
    Ok(outcome)
}

async fn run_locked(
    db: &impl SqlReader,
    store: &impl ObjectStore,
    settings: BackupSettings<'_>,
    request: &BackupRequest,
    prune: Option<(RetentionCounts, Timestamp)>,
    probes: &Probes<'_>,
    started_at: Timestamp,
) -> Result<RunOutcome, RunError> {
    let mut steps = Vec::new();
    let mut timed = |name: &str, since: Timestamp| {
        let now = (probes.clock)();
        steps.push(StepTiming {
            name: name.to_owned(),
            ms: now.as_millis() - since.as_millis(),
        });
        now
    };
    let mut report = RunReport {
        id: request.id.clone(),
        kind: request.kind,
        outcome: "failed".into(),
        error: None,
        started_at,
        finished_at: started_at,
        steps: Vec::new(),
        sql_bytes: 0,
        stored_bytes: 0,
        rows: 0,
        pruned: Vec::new(),
        orphans_removed: Vec::new(),
        memory_bytes: 0,
        warnings: Vec::new(),
    };
    let backup = take_backup(db, store, settings, request, probes.clock).await;
    let mut since = timed("dump, encrypt and upload", started_at);
    let manifest = match backup {
        Ok(manifest) => manifest,
        Err(error) => {
            report.error = Some(error.to_string());
            report.finished_at = since;
            report.steps = steps;
            report.memory_bytes = (probes.memory)();
            record(store, &report).await?;
            return Err(RunError::Failed {
                error,
                report: Box::new(report),
            });
        }
    };
    report.orphans_removed = prune::remove_orphans(store).await?;
    since = timed("remove orphans", since);
    if let Some((counts, now)) = prune {
        let plan = prune::plan(store, counts, now).await?;
        report.pruned = prune::prune(store, &plan).await?;
        since = timed("prune", since);
    }
    report.outcome = "succeeded".into();
    report.finished_at = since;
    report.steps = steps;
    report.sql_bytes = manifest.plaintext.bytes;
    report.stored_bytes = manifest.ciphertext.bytes;
    report.rows = manifest.total_rows();
    report.warnings = manifest.warnings.clone();
    report.memory_bytes = (probes.memory)();
    record(store, &report).await?;
    Ok(RunOutcome { manifest, report })
}

/// Records a run that could not even start (no key configured, say), so
/// `/health` says failing instead of merely stale.
pub async fn record_failed_start(
    store: &impl ObjectStore,
    request: &BackupRequest,
    error: &str,
    now: Timestamp,
) -> Result<(), EdgeError> {
    let report = RunReport {
        id: request.id.clone(),
        kind: request.kind,
        outcome: "failed".into(),
        error: Some(error.to_owned()),
        started_at: now,
        finished_at: now,
        steps: Vec::new(),
        sql_bytes: 0,
        stored_bytes: 0,
        rows: 0,
        pruned: Vec::new(),
        orphans_removed: Vec::new(),
        memory_bytes: 0,
        warnings: Vec::new(),
    };
    record(store, &report).await
}

/// Stores the report and updates the history.
async fn record(store: &impl ObjectStore, report: &RunReport) -> Result<(), EdgeError> {
    let body =
        serde_json::to_vec_pretty(report).map_err(|e| EdgeError::new("encode run report", e))?;
    store.put(&run_report_key(&report.id), body, &[]).await?;
    let mut history = load_history(store).await?;
    let run = RunRecord {
        finished_at: report.finished_at,
        succeeded: report.error.is_none(),
        backup_id: Some(report.id.clone()),
        error: report.error.clone(),
    };
    if run.succeeded {
        history.last_success = Some(run.clone());
    }
    history.last_run = Some(run);
    let body =
        serde_json::to_vec_pretty(&history).map_err(|e| EdgeError::new("encode history", e))?;
    store.put(HISTORY_KEY, body, &[]).await
}

/// The recorded history, or an empty one before the first run.
pub async fn load_history(store: &impl ObjectStore) -> Result<BackupHistory, EdgeError> {
    match store.get(HISTORY_KEY).await? {
        None => Ok(BackupHistory::default()),
        Some(object) => serde_json::from_slice(&object.body)
            .map_err(|e| EdgeError::new(format!("read {HISTORY_KEY}"), e)),
    }
}

/// A run report, or `None` if there is none for `id`.
pub async fn load_report(
    store: &impl ObjectStore,
    id: &str,
) -> Result<Option<RunReport>, EdgeError> {
    match store.get(&run_report_key(id)).await? {
        None => Ok(None),
        Some(object) => serde_json::from_slice(&object.body)
            .map(Some)
            .map_err(|e| EdgeError::new(format!("read run report {id}"), e)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::keys::MasterKey;
    use crate::jobs::testing::{block_on, MemoryStore, SqliteReader};
    use crate::layout::{object_key, LOCK_KEY};

    const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);
    const DAY_MS: i64 = 86_400_000;

    fn db() -> SqliteReader {
        let connection = rusqlite::Connection::open_in_memory().unwrap();
        connection
            .execute_batch("CREATE TABLE t(id INTEGER PRIMARY KEY, v TEXT); INSERT INTO t VALUES (1, 'a'), (2, 'b');")
            .unwrap();
        SqliteReader::new(connection)
    }

    fn request(id: &str, day: i64) -> BackupRequest {
        BackupRequest {
            id: id.into(),
            kind: BackupKind::Scheduled,
            pinned: false,
            note: None,
            created_at: Timestamp::from_millis(T0.as_millis() + day * DAY_MS),
            salt: [1; 32],
        }
    }

    fn run(
        store: &MemoryStore,
        db: &SqliteReader,
        id: &str,
        day: i64,
        prune: bool,
    ) -> Result<RunOutcome, RunError> {
        let key = MasterKey::from_hex(&"11".repeat(32)).unwrap();
        let settings = BackupSettings {
            environment: "test",
            database: "app",
            key: &key,
            worker_version: "0",
            fault: None,
        };
        let now = Timestamp::from_millis(T0.as_millis() + day * DAY_MS);
        let counts = RetentionCounts {
            daily: 2,
            weekly: 0,
            monthly: 0,
            yearly: 0,
        };
        block_on(run_backup(
            db,
            store,
            settings,
            &request(id, day),
            prune.then_some((counts, now)),
            900_000,
            Probes {
                clock: &|| now,
                memory: &|| 42,
            },
        ))
    }

    #[test]
    fn a_run_records_history_and_report_and_releases_the_lock() {
        let store = MemoryStore::default();
        let outcome = run(&store, &db(), "r1", 0, false).unwrap();
        assert_eq!(outcome.report.outcome, "succeeded");
        assert_eq!(outcome.report.rows, 2);
        assert_eq!(outcome.report.memory_bytes, 42);
        let history = block_on(load_history(&store)).unwrap();
        assert_eq!(
            history.last_success.unwrap().backup_id.as_deref(),
            Some("r1")
        );
        assert_eq!(
            block_on(load_report(&store, "r1")).unwrap().unwrap(),
            outcome.report
        );
        assert!(store.body(LOCK_KEY).is_none());
    }

    #[test]
    fn a_held_lock_skips_the_run_without_recording_anything() {
        let store = MemoryStore::default();
        block_on(lock::acquire(&store, "restore", "someone", T0, 900_000)).unwrap();
        let error = run(&store, &db(), "r2", 0, false).unwrap_err();
        assert!(
            matches!(error, RunError::Locked(ref held) if held.operation == "restore"),
            "{error}"
        );
        assert_eq!(
            block_on(load_history(&store)).unwrap(),
            BackupHistory::default()
        );
        assert!(store.body(&object_key("r2")).is_none());
    }

    #[test]
    fn a_failed_run_is_recorded_as_failing_and_releases_the_lock() {
        let store = MemoryStore::default();
        run(&store, &db(), "ok", 0, false).unwrap();
        let failing = db();
        failing.fail_query_number.set(Some(2));
        let error = run(&store, &failing, "bad", 1, false).unwrap_err();
        let RunError::Failed { report, .. } = error else {
            panic!("{error}")
        };
        assert_eq!(report.outcome, "failed");
        let history = block_on(load_history(&store)).unwrap();
        assert!(!history.last_run.as_ref().unwrap().succeeded);
        assert_eq!(
            history.last_success.unwrap().backup_id.as_deref(),
            Some("ok")
        );
        assert!(store.body(LOCK_KEY).is_none());
        assert!(store.body(&object_key("bad")).is_none());
    }

    #[test]
    fn scheduled_runs_prune_to_the_policy() {
        let store = MemoryStore::default();
        let db = db();
        for day in 0..5 {
            run(&store, &db, &format!("day{day}"), day, true).unwrap();
        }
        let ids: Vec<String> = block_on(prune::list_backups(&store))
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["day4", "day3"]);
        assert_eq!(
            block_on(load_report(&store, "day4"))
                .unwrap()
                .unwrap()
                .pruned,
            vec!["day2".to_string()]
        );
    }
}
