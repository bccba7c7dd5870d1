//! How a job ended, in words and as an exit status: the summary printed
//! after following it, and `Ok` only for a job that did what was asked.
//! Each kind reads its own report (a backup's manifest, a validation or
//! restore report); a failed, rolled-back, not-rolled-back or cancelled job
//! is always an error (exit 1), whatever its report says.

use crate::common::CliError;
use crate::job_record::{Job, State};
use crate::render::{fields, flatten, human_duration};
use crate::{backup, import, restore_report, validate};

/// The end of a job, for the operator.
#[derive(Debug)]
pub struct Conclusion {
    /// The summary for stdout, ending with a newline.
    pub text: String,
    /// `Ok` when the job did what was asked; else the one-line reason
    /// (with what to do next) for stderr.
    pub result: Result<(), CliError>,
}

impl Conclusion {
    /// A job that did what was asked.
    pub fn ok(text: String) -> Conclusion {
        Conclusion {
            text,
            result: Ok(()),
        }
    }
}

/// The conclusion of a final job. `database` is the name the operator gave
/// with `--confirm`, when this CLI started the restore.
pub fn conclude(job: &Job, database: Option<&str>) -> Conclusion {
    match job.kind.as_str() {
        "restore" => restore_report::conclude(job, database),
        "validate" => validate::conclude(job),
        "backup" => backup::conclude(job),
        "import" => import::conclude(job),
        _ if job.state == State::Succeeded => {
            let mut text = format!("{} in {}.\n", capitalized(&what(job)), took(job));
            if let Some(report) = &job.report {
                text.push_str(&fields(&flatten(report)));
            }
            Conclusion::ok(text)
        }
        _ => failure(
            job,
            &format!("see its record: d1-vault job {} --json", job.id),
        ),
    }
}

/// `backup job <id> succeeded`, `restore job <id> failed at step import`:
/// the job and its state in words.
pub fn what(job: &Job) -> String {
    let verb = match &job.state {
        State::Succeeded => "succeeded".to_owned(),
        State::Failed => "failed".to_owned(),
        State::RolledBack => "failed and was rolled back".to_owned(),
        State::RollbackFailed => "failed and could not be rolled back".to_owned(),
        State::Cancelled => "was cancelled".to_owned(),
        State::Queued | State::Running => format!("is {}", job.state),
        State::Other(state) => format!("ended as {state}"),
    };
    let mut out = format!("{} job {} {verb}", job.kind, job.id);
    if let (false, Some(step)) = (job.state == State::Succeeded, &job.step) {
        out.push_str(&format!(" at step {step}"));
    }
    out
}

/// How long the job took, in words; `?` when its times are unknown.
pub fn took(job: &Job) -> String {
    job.seconds().map_or_else(|| "?".into(), human_duration)
}

/// A job that did not do what was asked: the summary says what happened
/// and why, then `next`; the error says the same on one line.
pub fn failure(job: &Job, next: &str) -> Conclusion {
    let mut reason = format!("{} after {}", what(job), took(job));
    if let Some(error) = &job.error {
        reason.push_str(&format!(": {error}"));
    }
    Conclusion {
        text: format!("{}.\n{}.\n", capitalized(&reason), capitalized(next)),
        result: Err(CliError::Refused(format!("{reason}; {next}"))),
    }
}

/// `text` with its first letter upper case.
pub fn capitalized(text: &str) -> String {
    let mut chars = text.chars();
    match chars.next() {
        Some(first) => first.to_uppercase().chain(chars).collect(),
        None => String::new(),
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use crate::json::Json;

    /// A job of `kind` in `state`, at step upload, 65 s long; `extra` adds
    /// members (`,"report":{...}`).
    pub fn job(kind: &str, state: &str, extra: &str) -> Job {
        let text = format!(
            r#"{{"id":"j1","kind":"{kind}","state":"{state}","step":"upload",
            "created_at":"2026-11-21T02:00:00.000Z","started_at":"2026-11-21T02:00:00.000Z",
            "finished_at":"2026-11-21T02:01:05.000Z"{extra}}}"#
        );
        Job::from_answer(&Json::parse(text.as_bytes()).unwrap(), "GET x").unwrap()
    }

    #[test]
    fn a_prune_that_succeeded_lists_its_report() {
        let done = conclude(
            &job("prune", "succeeded", r#","report":{"removed":2}"#),
            None,
        );
        assert!(done.result.is_ok());
        assert_eq!(
            done.text,
            "Prune job j1 succeeded in 1 min 5 s.\nremoved: 2\n"
        );
    }

    #[test]
    fn every_final_state_but_success_is_an_error_with_next_steps() {
        for (state, words) in [
            ("failed", "failed at step upload"),
            ("cancelled", "was cancelled at step upload"),
            ("rolled_back", "failed and was rolled back at step upload"),
            (
                "rollback_failed",
                "failed and could not be rolled back at step upload",
            ),
        ] {
            let done = conclude(&job("rollback", state, r#","error":"boom""#), None);
            let err = done.result.unwrap_err();
            assert_eq!(err.exit_code(), crate::common::EXIT_FAILED);
            assert_eq!(
                err.to_string(),
                format!(
                    "rollback job j1 {words} after 1 min 5 s: boom; see its record: \
                     d1-vault job j1 --json"
                )
            );
            assert!(done.text.starts_with("Rollback job j1 "), "{}", done.text);
            assert!(done
                .text
                .ends_with("See its record: d1-vault job j1 --json.\n"));
        }
    }

    #[test]
    fn unknown_times_read_as_a_question_mark() {
        let text = r#"{"id":"j","kind":"prune","state":"succeeded"}"#;
        let job = Job::from_answer(&Json::parse(text.as_bytes()).unwrap(), "GET x").unwrap();
        assert_eq!(conclude(&job, None).text, "Prune job j succeeded in ?.\n");
    }
}
