//! The `/health` verdict: is the database protected right now?
//!
//! Pure: it takes the last recorded runs, the staleness threshold and `now`.
//! The verdict is `ok` when the newest successful backup is younger than the
//! threshold and the latest run did not fail; `failing` when the latest run
//! failed (or the configuration is invalid); `stale` otherwise, including when
//! no backup has ever succeeded. Only `ok` is healthy (HTTP 200); the body
//! never carries anything sensitive.

use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The outcome of one backup run, as the jobs record it for `/health`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RunRecord {
    /// When the run finished.
    pub finished_at: Timestamp,
    /// Whether it produced a complete, listed backup.
    pub succeeded: bool,
    /// The backup id the run was taking.
    #[serde(default)]
    pub backup_id: Option<String>,
    /// Why it failed (already free of secrets).
    #[serde(default)]
    pub error: Option<String>,
}

/// What `/health` knows about past runs.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupHistory {
    /// The newest successful run.
    pub last_success: Option<RunRecord>,
    /// The newest run of any outcome.
    pub last_run: Option<RunRecord>,
}

/// The three states of the contract.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum HealthStatus {
    /// A recent backup succeeded and nothing failed since.
    Ok,
    /// No successful backup within the threshold (or none at all).
    Stale,
    /// The latest run failed, or the worker is misconfigured.
    Failing,
}

/// The `/health` response body.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HealthReport {
    /// The verdict.
    pub status: HealthStatus,
    /// When the newest successful backup finished.
    pub last_success_at: Option<Timestamp>,
    /// Seconds since then.
    pub age_seconds: Option<i64>,
    /// The threshold the verdict used.
    pub stale_after_seconds: i64,
    /// One sentence for a human reading the probe's output.
    pub message: String,
}

impl HealthReport {
    /// Judges `history` at `now` against a threshold of `stale_after_hours`.
    pub fn assess(history: &BackupHistory, stale_after_hours: u32, now: Timestamp) -> Self {
        let stale_after_seconds = i64::from(stale_after_hours) * 3_600;
        let last_success_at = history.last_success.as_ref().map(|run| run.finished_at);
        let age_seconds = last_success_at.map(|at| now.seconds_since(at).max(0));
        let latest_failed = history.last_run.as_ref().is_some_and(|run| !run.succeeded);
        let (status, message) = match (latest_failed, age_seconds) {
            (true, _) => (
                HealthStatus::Failing,
                "the latest backup run failed; see GET /v1/status and the worker log".to_owned(),
            ),
            (false, None) => (
                HealthStatus::Stale,
                "no backup has completed yet; take one with POST /v1/backups or wait for the cron"
                    .to_owned(),
            ),
            (false, Some(age)) if age > stale_after_seconds => (
                HealthStatus::Stale,
                format!(
                    "the newest backup is older than {stale_after_hours} h; check the cron trigger"
                ),
            ),
            (false, Some(_)) => (HealthStatus::Ok, "backups are current".to_owned()),
        };
        Self {
            status,
            last_success_at,
            age_seconds,
            stale_after_seconds,
            message,
        }
    }

    /// A failing report when the history cannot even be judged (invalid
    /// configuration, unreadable state). `reason` must hold nothing sensitive.
    pub fn failing(reason: String, stale_after_hours: u32) -> Self {
        Self {
            status: HealthStatus::Failing,
            last_success_at: None,
            age_seconds: None,
            stale_after_seconds: i64::from(stale_after_hours) * 3_600,
            message: reason,
        }
    }

    /// 200 when ok, 503 otherwise, so an uptime probe needs no JSON parsing.
    pub fn http_status(&self) -> u16 {
        match self.status {
            HealthStatus::Ok => 200,
            HealthStatus::Stale | HealthStatus::Failing => 503,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOUR_MS: i64 = 3_600_000;
    const NOW: Timestamp = Timestamp::from_millis(1_795_226_400_000);

    fn run(hours_ago: i64, succeeded: bool) -> RunRecord {
        RunRecord {
            finished_at: Timestamp::from_millis(NOW.as_millis() - hours_ago * HOUR_MS),
            succeeded,
            backup_id: None,
            error: None,
        }
    }

    #[test]
    fn no_backup_yet_is_stale_and_says_so() {
        let report = HealthReport::assess(&BackupHistory::default(), 26, NOW);
        assert_eq!(report.status, HealthStatus::Stale);
        assert_eq!((report.last_success_at, report.age_seconds), (None, None));
        assert!(report.message.contains("no backup has completed yet"));
        assert_eq!(report.http_status(), 503);
    }

    #[test]
    fn recent_success_is_ok() {
        let history = BackupHistory {
            last_success: Some(run(3, true)),
            last_run: Some(run(3, true)),
        };
        let report = HealthReport::assess(&history, 26, NOW);
        assert_eq!(report.status, HealthStatus::Ok);
        assert_eq!(report.age_seconds, Some(3 * 3_600));
        assert_eq!(report.http_status(), 200);
    }

    #[test]
    fn old_success_is_stale_at_the_threshold_boundary() {
        let at_threshold = BackupHistory {
            last_success: Some(run(26, true)),
            last_run: Some(run(26, true)),
        };
        assert_eq!(
            HealthReport::assess(&at_threshold, 26, NOW).status,
            HealthStatus::Ok
        );
        let past = BackupHistory {
            last_success: Some(run(27, true)),
            last_run: Some(run(27, true)),
        };
        assert_eq!(
            HealthReport::assess(&past, 26, NOW).status,
            HealthStatus::Stale
        );
    }

    #[test]
    fn latest_failure_is_failing_even_with_a_recent_success() {
        let history = BackupHistory {
            last_success: Some(run(5, true)),
            last_run: Some(run(1, false)),
        };
        let report = HealthReport::assess(&history, 26, NOW);
        assert_eq!(report.status, HealthStatus::Failing);
        assert_eq!(report.http_status(), 503);
    }

    #[test]
    fn serializes_the_contract_fields() {
        let json =
            serde_json::to_value(HealthReport::assess(&BackupHistory::default(), 26, NOW)).unwrap();
        assert_eq!(json["status"], "stale");
        assert!(json["last_success_at"].is_null());
        assert!(json["age_seconds"].is_null());
    }
}
