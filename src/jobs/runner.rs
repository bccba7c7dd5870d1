//! The end of a backup run: once a backup job has listed its backup, clean
//! up orphans, prune (scheduled backups only), record the outcome for
//! `/health` and `/v1/status`, and write the run report; a failed run is
//! recorded too, so `/health` says failing instead of merely stale.

use super::backup::BackupRequest;
use super::prune;
use super::store::{EdgeError, ObjectStore};
use crate::config::RetentionCounts;
use crate::health::{BackupHistory, RunRecord};
use crate::layout::{run_report_key, HISTORY_KEY};
use crate::manifest::{Manifest, Warning};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

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

/// When a run started and ended, and the peak memory it saw.
#[derive(Debug, Clone, Copy)]
pub struct RunTimes {
    /// When its first slice began.
    pub started_at: Timestamp,
    /// Now.
    pub finished_at: Timestamp,
    /// Memory in use at the end (the wasm linear memory on workerd, which
    /// only grows).
    pub memory_bytes: u64,
}

/// What a durable backup job does once its backup is listed: removes
/// unlisted data objects, prunes with `prune` counts at `prune_now` when
/// given (the cron's backups), and records the run for `/health` and its
/// report. Safe to run again (every step is idempotent).
pub async fn finish_run(
    store: &impl ObjectStore,
    manifest: &Manifest,
    prune: Option<(RetentionCounts, Timestamp)>,
    times: RunTimes,
) -> Result<RunReport, EdgeError> {
    let orphans_removed = prune::remove_orphans(store).await?;
    let pruned = match prune {
        Some((counts, now)) => {
            let plan = prune::plan(store, counts, now).await?;
            prune::prune(store, &plan).await?
        }
        None => Vec::new(),
    };
    let report = RunReport {
        id: manifest.id.clone(),
        kind: manifest.kind,
        outcome: "succeeded".into(),
        error: None,
        started_at: times.started_at,
        finished_at: times.finished_at,
        steps: Vec::new(),
        sql_bytes: manifest.plaintext.bytes,
        stored_bytes: manifest.ciphertext.bytes,
        rows: manifest.total_rows(),
        pruned,
        orphans_removed,
        memory_bytes: times.memory_bytes,
        warnings: manifest.warnings.clone(),
    };
    record(store, &report).await?;
    Ok(report)
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
    use crate::jobs::backup::{take_backup, BackupError, BackupSettings};
    use crate::jobs::testing::{block_on, MemoryStore, SqliteReader};
    use crate::layout::object_key;

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

    /// A backup and the run's end, as a backup job does them.
    fn run(
        store: &MemoryStore,
        db: &SqliteReader,
        id: &str,
        day: i64,
        prune: bool,
    ) -> Result<RunReport, BackupError> {
        let key = MasterKey::from_hex(&"11".repeat(32)).unwrap();
        let settings = BackupSettings {
            environment: "test",
            database: "app",
            key: &key,
            engine: &crate::format::SoftwareEngine,
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
        let request = request(id, day);
        match block_on(take_backup(db, store, settings, &request, || now)) {
            Ok(manifest) => Ok(block_on(finish_run(
                store,
                &manifest,
                prune.then_some((counts, now)),
                RunTimes {
                    started_at: now,
                    finished_at: now,
                    memory_bytes: 42,
                },
            ))
            .unwrap()),
            Err(error) => {
                block_on(record_failed_start(
                    store,
                    &request,
                    &error.to_string(),
                    now,
                ))
                .unwrap();
                Err(error)
            }
        }
    }

    #[test]
    fn a_finished_run_records_history_and_report() {
        let store = MemoryStore::default();
        let report = run(&store, &db(), "r1", 0, false).unwrap();
        assert_eq!(report.outcome, "succeeded");
        assert_eq!(report.rows, 2);
        assert_eq!(report.memory_bytes, 42);
        let history = block_on(load_history(&store)).unwrap();
        assert_eq!(
            history.last_success.unwrap().backup_id.as_deref(),
            Some("r1")
        );
        assert_eq!(
            block_on(load_report(&store, "r1")).unwrap().unwrap(),
            report
        );
    }

    #[test]
    fn a_failed_run_is_recorded_as_failing_and_leaves_the_last_success() {
        let store = MemoryStore::default();
        run(&store, &db(), "ok", 0, false).unwrap();
        let failing = db();
        failing.fail_query_number.set(Some(2));
        run(&store, &failing, "bad", 1, false).unwrap_err();
        let report = block_on(load_report(&store, "bad")).unwrap().unwrap();
        assert_eq!(report.outcome, "failed");
        let history = block_on(load_history(&store)).unwrap();
        assert!(!history.last_run.as_ref().unwrap().succeeded);
        assert_eq!(
            history.last_success.unwrap().backup_id.as_deref(),
            Some("ok")
        );
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
