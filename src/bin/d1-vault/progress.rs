//! A job's progress in words: bytes and rows done of their totals, the rate
//! measured over the last half minute and the time left at that rate. Time
//! is passed in (seconds on any monotonic clock), never read here, so the
//! numbers are the same in tests.

use std::collections::VecDeque;

use crate::job_record::{Progress, State};
use crate::render::{human_bytes, human_duration};

/// The rate is measured over about this many seconds of samples.
const RATE_WINDOW: f64 = 30.0;
/// Samples closer together than this give no rate yet: too noisy.
const MIN_SPAN: f64 = 1.0;

/// How fast a job goes.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Rate {
    /// Bytes per second (when the job counts bytes).
    Bytes(f64),
    /// Rows per second (when it counts rows only).
    Rows(f64),
}

/// Samples of a job's counters, for its rate and time left. A new step, or
/// a counter that goes back (a slice run again), starts the samples over.
#[derive(Debug, Default)]
pub struct Meter {
    samples: VecDeque<(f64, Progress)>,
    step: Option<String>,
}

impl Meter {
    /// Records the counters seen at `now` while the job is in `step`; a
    /// job that counts nothing yet gives no sample.
    pub fn record(&mut self, now: f64, step: Option<&str>, progress: Progress) {
        if !progress.is_known() {
            return;
        }
        let went_back = self.samples.back().is_some_and(|(_, last)| {
            progress.bytes_done < last.bytes_done || progress.rows_done < last.rows_done
        });
        if step != self.step.as_deref() || went_back {
            self.samples.clear();
            self.step = step.map(str::to_owned);
        }
        self.samples.push_back((now, progress));
        // Keep one sample at or just before the window's start.
        while self.samples.len() > 2 && self.samples[1].0 <= now - RATE_WINDOW {
            self.samples.pop_front();
        }
    }

    /// The rate over the samples: bytes if the job counts bytes, else rows;
    /// `None` before the samples span [`MIN_SPAN`].
    pub fn rate(&self) -> Option<Rate> {
        let ((t0, first), (t1, last)) = (self.samples.front()?, self.samples.back()?);
        let span = t1 - t0;
        if span < MIN_SPAN {
            return None;
        }
        let per_second = |a: Option<u64>, b: Option<u64>| Some(b?.saturating_sub(a?) as f64 / span);
        match per_second(first.bytes_done, last.bytes_done) {
            Some(bytes) => Some(Rate::Bytes(bytes)),
            None => per_second(first.rows_done, last.rows_done).map(Rate::Rows),
        }
    }
}

/// Seconds left at `rate`, when the total it counts is known and the job
/// moves at all.
pub fn eta(progress: &Progress, rate: Option<Rate>) -> Option<f64> {
    let (done, total, per_second) = match rate? {
        Rate::Bytes(rate) => (progress.bytes_done?, progress.bytes_total?, rate),
        Rate::Rows(rate) => (progress.rows_done?, progress.rows_total?, rate),
    };
    (per_second > 0.0).then(|| total.saturating_sub(done) as f64 / per_second)
}

/// The counters in words: `1.2 GiB / 3.4 GiB (35%)`, `1200 / 3400 rows`;
/// a counter without its total has no `/`; an unknown counter is left out.
pub fn counters(progress: &Progress) -> Vec<String> {
    let mut out = Vec::new();
    if let Some(done) = progress.bytes_done {
        out.push(match progress.bytes_total {
            Some(total) => format!(
                "{} / {}{}",
                human_bytes(done),
                human_bytes(total),
                percent(done, total)
            ),
            None => human_bytes(done),
        });
    }
    if let Some(done) = progress.rows_done {
        out.push(match progress.rows_total {
            // The percentage is on the bytes when they have one.
            Some(total) if progress.bytes_total.is_some() => format!("{done} / {total} rows"),
            Some(total) => format!("{done} / {total} rows{}", percent(done, total)),
            None => format!("{done} rows"),
        });
    }
    out
}

/// ` (35%)`, rounded down so 100% means done; nothing for a zero total.
fn percent(done: u64, total: u64) -> String {
    if total == 0 {
        return String::new();
    }
    let percent = (u128::from(done.min(total)) * 100 / u128::from(total)) as u64;
    format!(" ({percent}%)")
}

/// A rate in words: `12.3 MiB/s`, `1520 rows/s`.
pub fn rate_text(rate: Rate) -> String {
    match rate {
        Rate::Bytes(bytes) => format!("{}/s", human_bytes(bytes as u64)),
        Rate::Rows(rows) => format!("{} rows/s", rows.round() as u64),
    }
}

/// The one-line status of a job being followed, the most telling first (a
/// narrow terminal cuts the end):
/// `restore: import  1.2 GiB / 3.4 GiB (35%)  12.3 MiB/s  ETA 3 min 5 s  1200 / 3400 rows`.
pub fn status_line(
    kind: &str,
    state: &State,
    step: Option<&str>,
    progress: &Progress,
    rate: Option<Rate>,
) -> String {
    let mut parts = vec![match (state, step) {
        (State::Queued, _) => format!("{kind}: queued, waiting for the worker to start it"),
        (State::Running, Some(step)) => format!("{kind}: {step}"),
        (state, Some(step)) => format!("{kind}: {state} at {step}"),
        (state, None) => format!("{kind}: {state}"),
    }];
    let mut counters = counters(progress).into_iter();
    parts.extend(counters.next());
    if let Some(rate) = rate {
        parts.push(rate_text(rate));
    }
    if let Some(seconds) = eta(progress, rate) {
        parts.push(format!("ETA {}", human_duration(seconds)));
    }
    parts.extend(counters);
    parts.join("  ")
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    fn bytes(done: u64, total: u64) -> Progress {
        Progress {
            bytes_done: Some(done),
            bytes_total: Some(total),
            ..Progress::default()
        }
    }

    #[test]
    fn rate_and_eta_come_from_the_samples_in_the_window() {
        let mut meter = Meter::default();
        meter.record(0.0, Some("import"), bytes(0, 100 * MIB));
        assert_eq!(meter.rate(), None, "one sample gives no rate");
        meter.record(0.5, Some("import"), bytes(MIB, 100 * MIB));
        assert_eq!(meter.rate(), None, "half a second is too short");
        meter.record(10.0, Some("import"), bytes(20 * MIB, 100 * MIB));
        assert_eq!(meter.rate(), Some(Rate::Bytes(2.0 * MIB as f64)));
        let progress = bytes(20 * MIB, 100 * MIB);
        assert_eq!(eta(&progress, meter.rate()), Some(40.0));
        // Old samples leave the window: the rate follows the recent speed.
        meter.record(40.0, Some("import"), bytes(50 * MIB, 100 * MIB));
        meter.record(70.0, Some("import"), bytes(80 * MIB, 100 * MIB));
        assert_eq!(meter.rate(), Some(Rate::Bytes(MIB as f64)));
    }

    #[test]
    fn a_new_step_or_a_counter_going_back_starts_over() {
        let mut meter = Meter::default();
        meter.record(-5.0, Some("download"), Progress::default());
        meter.record(0.0, Some("download"), bytes(0, 10));
        meter.record(5.0, Some("download"), bytes(10, 10));
        assert!(meter.rate().is_some());
        meter.record(6.0, Some("import"), bytes(0, 10));
        assert_eq!(meter.rate(), None);
        meter.record(9.0, Some("import"), bytes(6, 10));
        meter.record(10.0, Some("import"), bytes(3, 10));
        assert_eq!(meter.rate(), None);
    }

    #[test]
    fn rows_give_the_rate_when_bytes_are_not_counted() {
        let mut meter = Meter::default();
        let rows = |done| Progress {
            rows_done: Some(done),
            rows_total: Some(1000),
            ..Progress::default()
        };
        meter.record(0.0, None, rows(0));
        meter.record(4.0, None, rows(200));
        assert_eq!(meter.rate(), Some(Rate::Rows(50.0)));
        assert_eq!(eta(&rows(200), meter.rate()), Some(16.0));
        assert_eq!(rate_text(Rate::Rows(49.6)), "50 rows/s");
    }

    #[test]
    fn no_eta_without_a_total_or_while_stalled() {
        let open = Progress {
            bytes_done: Some(5),
            ..Progress::default()
        };
        assert_eq!(eta(&open, Some(Rate::Bytes(1.0))), None);
        assert_eq!(eta(&bytes(5, 10), Some(Rate::Bytes(0.0))), None);
        assert_eq!(eta(&bytes(5, 10), None), None);
    }

    #[test]
    fn counters_show_totals_and_one_percentage() {
        let all = Progress {
            bytes_done: Some(3 * MIB / 2),
            bytes_total: Some(6 * MIB),
            rows_done: Some(1200),
            rows_total: Some(3400),
        };
        assert_eq!(
            counters(&all),
            ["1.5 MiB / 6.0 MiB (25%)", "1200 / 3400 rows"]
        );
        let rows = Progress {
            rows_done: Some(1),
            rows_total: Some(3),
            ..Progress::default()
        };
        assert_eq!(counters(&rows), ["1 / 3 rows (33%)"]);
        let open = Progress {
            rows_done: Some(7),
            ..Progress::default()
        };
        assert_eq!(counters(&open), ["7 rows"]);
        assert!(counters(&Progress::default()).is_empty());
        assert_eq!(counters(&bytes(0, 0)), ["0 B / 0 B"]);
    }

    #[test]
    fn status_line_has_step_counters_rate_and_eta() {
        let line = status_line(
            "restore",
            &State::Running,
            Some("import"),
            &bytes(20 * MIB, 100 * MIB),
            Some(Rate::Bytes(2.0 * MIB as f64)),
        );
        assert_eq!(
            line,
            "restore: import  20.0 MiB / 100.0 MiB (20%)  2.0 MiB/s  ETA 40.0 s"
        );
        let queued = status_line("backup", &State::Queued, None, &Progress::default(), None);
        assert_eq!(queued, "backup: queued, waiting for the worker to start it");
        let ended = status_line(
            "backup",
            &State::Failed,
            Some("dump"),
            &Progress::default(),
            None,
        );
        assert_eq!(ended, "backup: failed at dump");
        let both = Progress {
            bytes_done: Some(MIB),
            bytes_total: Some(4 * MIB),
            rows_done: Some(10),
            rows_total: Some(40),
        };
        let line = status_line(
            "import",
            &State::Running,
            None,
            &both,
            Some(Rate::Bytes(MIB as f64)),
        );
        assert_eq!(
            line,
            "import: running  1.0 MiB / 4.0 MiB (25%)  1.0 MiB/s  ETA 3.0 s  10 / 40 rows"
        );
    }
}
