//! Polls that fail while a job is followed: the worker may be redeploying,
//! the network may drop for a minute. Each failure waits longer (1 s, 2 s,
//! 4 s ... up to 30 s) and the follower gives up only after ten minutes
//! without an answer, saying how to follow the job again: it goes on in the
//! worker either way. Pure: time is passed in.

use crate::common::CliError;
use crate::render::human_duration;

/// The longest wait between two tries, in seconds.
const LONGEST_WAIT: f64 = 30.0;
/// Following ends after this many seconds without an answer.
pub const GIVE_UP_AFTER: f64 = 600.0;

/// What to do after a failed poll.
#[derive(Debug)]
pub enum Next {
    /// Wait `seconds`, then try again; tell the operator `note`.
    Wait {
        /// How long to wait.
        seconds: f64,
        /// What to tell the operator.
        note: String,
    },
    /// Stop following, with this error (exit 3 when the worker stayed
    /// out of reach).
    Stop(CliError),
}

/// The failures since the last answer.
#[derive(Debug, Default)]
pub struct Retry {
    failures: u32,
    since: Option<f64>,
}

impl Retry {
    /// A poll of job `id` failed at `now` for `reason`.
    pub fn failed(&mut self, now: f64, reason: &str, id: &str) -> Next {
        let since = *self.since.get_or_insert(now);
        self.failures += 1;
        let out_for = now - since;
        if out_for >= GIVE_UP_AFTER {
            return Next::Stop(CliError::Io(format!(
                "polling the worker failed for {} ({reason}); job {id} goes on in the worker: \
                 follow it again with 'd1-vault job {id} --follow', or cancel it with \
                 'd1-vault cancel {id}'",
                human_duration(out_for)
            )));
        }
        let seconds = 2f64.powi(self.failures.min(6) as i32 - 1).min(LONGEST_WAIT);
        let note = if self.failures == 1 {
            format!(
                "polling the worker failed ({reason}); trying again in {}, for up to {}: the \
                 job goes on in the worker",
                human_duration(seconds),
                human_duration(GIVE_UP_AFTER)
            )
        } else {
            format!(
                "failed again ({reason}); try {} in {}",
                self.failures + 1,
                human_duration(seconds)
            )
        };
        Next::Wait { seconds, note }
    }

    /// A poll was answered at `now`: after failures, the note that says so.
    pub fn answered(&mut self, now: f64) -> Option<String> {
        let since = self.since.take()?;
        self.failures = 0;
        Some(format!(
            "the worker answers again, after {} without",
            human_duration(now - since)
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn wait(next: Next) -> (f64, String) {
        match next {
            Next::Wait { seconds, note } => (seconds, note),
            Next::Stop(err) => panic!("gave up: {err}"),
        }
    }

    #[test]
    fn waits_grow_to_half_a_minute_then_it_gives_up_after_ten() {
        let mut retry = Retry::default();
        let (first, note) = wait(retry.failed(100.0, "connection refused", "j1"));
        assert_eq!(first, 1.0);
        assert_eq!(
            note,
            "polling the worker failed (connection refused); trying again in 1.0 s, for up \
             to 10 min 0 s: the job goes on in the worker"
        );
        let waits: Vec<f64> = (1..8)
            .map(|i| wait(retry.failed(100.0 + f64::from(i), "x", "j1")).0)
            .collect();
        assert_eq!(waits, [2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]);
        let (_, note) = wait(retry.failed(120.0, "HTTP 503", "j1"));
        assert_eq!(note, "failed again (HTTP 503); try 10 in 30.0 s");
        let Next::Stop(err) = retry.failed(700.0, "timed out", "j1") else {
            panic!("did not give up")
        };
        assert_eq!(err.exit_code(), crate::common::EXIT_IO);
        assert_eq!(
            err.to_string(),
            "polling the worker failed for 10 min 0 s (timed out); job j1 goes on in the \
             worker: follow it again with 'd1-vault job j1 --follow', or cancel it with \
             'd1-vault cancel j1'"
        );
    }

    #[test]
    fn an_answer_starts_the_count_over() {
        let mut retry = Retry::default();
        assert_eq!(retry.answered(5.0), None, "nothing failed");
        wait(retry.failed(10.0, "x", "j"));
        wait(retry.failed(11.0, "x", "j"));
        assert_eq!(
            retry.answered(52.0).as_deref(),
            Some("the worker answers again, after 42.0 s without")
        );
        assert_eq!(wait(retry.failed(900.0, "x", "j")).0, 1.0);
    }
}
