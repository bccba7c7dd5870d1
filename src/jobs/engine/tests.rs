use super::book::MemoryBook;
use super::*;
use serde_json::json;

const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);

fn at(seconds: i64) -> Timestamp {
    Timestamp::from_millis(T0.as_millis() + seconds * 1_000)
}

fn job(id: &str, kind: JobKind, origin: Origin) -> NewJob {
    NewJob {
        id: id.into(),
        kind,
        origin,
        params: json!({}),
    }
}

fn accepted(submission: Submission) -> JobRecord {
    match submission {
        Submission::Accepted(record) => record,
        Submission::Conflict(record) => panic!("refused, blocked by {}", record.id),
    }
}

fn run(next: Next) -> Ticket {
    match next {
        Next::Run(ticket) => ticket,
        other => panic!("expected a slice to run, got {other:?}"),
    }
}

fn result(outcome: SliceOutcome) -> SliceResult {
    SliceResult {
        outcome,
        step: Some("dump".into()),
        progress: JobProgress::default(),
        events: Vec::new(),
    }
}

fn finished() -> SliceResult {
    result(SliceOutcome::Finished {
        state: JobState::Succeeded,
        error: None,
        report: Some(json!({"ok": true})),
    })
}

#[test]
fn a_manual_exclusive_job_while_another_is_unfinished_is_refused_naming_it() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    match submit(&book, job("r1", JobKind::Restore, Origin::Manual), at(1)).unwrap() {
        Submission::Conflict(blocking) => assert_eq!(blocking.id, "b1"),
        other => panic!("{other:?}"),
    }
    assert!(book.get("r1").unwrap().is_none());
}

#[test]
fn a_scheduled_backup_is_queued_behind_a_running_restore_and_runs_after_it() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("r1", JobKind::Restore, Origin::Manual), at(0)).unwrap());
    let ticket = run(begin_slice(&book, at(1)).unwrap());
    assert_eq!(ticket.record.id, "r1");
    let queued =
        accepted(submit(&book, job("b1", JobKind::Backup, Origin::Scheduled), at(2)).unwrap());
    assert_eq!(queued.state, JobState::Queued);
    let events = book.events_after("b1", 0, 10).unwrap();
    assert!(
        events[0].message.contains("queued behind restore job r1"),
        "{events:?}"
    );

    let ticket = run(begin_slice(&book, at(3)).unwrap());
    assert_eq!(ticket.record.id, "r1", "the running job goes on first");
    end_slice(&book, ticket, finished(), at(4)).unwrap();
    let ticket = run(begin_slice(&book, at(5)).unwrap());
    assert_eq!(ticket.record.id, "b1");
    assert_eq!(ticket.record.state, JobState::Running);
}

#[test]
fn validation_is_not_exclusive_and_queues_behind_a_backup() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    let validate =
        accepted(submit(&book, job("v1", JobKind::Validate, Origin::Manual), at(1)).unwrap());
    assert_eq!(validate.state, JobState::Queued);
}

#[test]
fn a_slice_resumes_from_the_checkpoint_the_last_good_slice_saved() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    let ticket = run(begin_slice(&book, at(1)).unwrap());
    assert_eq!(ticket.checkpoint, None);
    let record = end_slice(
        &book,
        ticket,
        result(SliceOutcome::Continue {
            checkpoint: b"one".to_vec(),
        }),
        at(2),
    )
    .unwrap();
    assert_eq!((record.slices, record.attempts), (1, 0));
    // The next slice dies before it saves anything.
    let died = run(begin_slice(&book, at(3)).unwrap());
    assert_eq!(died.checkpoint.as_deref(), Some(&b"one"[..]));
    let again = run(begin_slice(&book, at(4)).unwrap());
    assert_eq!(again.checkpoint.as_deref(), Some(&b"one"[..]));
    assert_eq!(again.record.attempts, 2, "the dead attempt is counted");
    let done = end_slice(&book, again, finished(), at(5)).unwrap();
    assert_eq!(done.state, JobState::Succeeded);
    assert_eq!(done.finished_at, Some(at(5)));
    assert_eq!(
        book.checkpoint("b1").unwrap(),
        None,
        "a final job keeps no checkpoint"
    );
    assert!(!owes_alarm(&book).unwrap());
}

#[test]
fn a_job_whose_slices_keep_failing_is_given_up_after_max_attempts() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    for attempt in 1..=MAX_ATTEMPTS {
        let ticket = run(begin_slice(&book, at(attempt as i64)).unwrap());
        let record = end_slice(
            &book,
            ticket,
            result(SliceOutcome::Retry {
                error: "R2 said 500".into(),
            }),
            at(attempt as i64),
        )
        .unwrap();
        assert_eq!(record.attempts, attempt);
        assert_eq!(record.state, JobState::Running);
        assert_eq!(record.error.as_deref(), Some("R2 said 500"));
    }
    match begin_slice(&book, at(10)).unwrap() {
        Next::GiveUp(ticket) => assert_eq!(ticket.record.attempts, MAX_ATTEMPTS + 1),
        other => panic!("{other:?}"),
    }
    let retries = book
        .events_after("b1", 0, 100)
        .unwrap()
        .into_iter()
        .filter(|e| e.kind == EventKind::Retry)
        .count();
    assert_eq!(retries, MAX_ATTEMPTS as usize);
}

#[test]
fn cancelling_a_queued_job_ends_it_and_a_running_one_is_stopped_by_its_next_slice() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    accepted(submit(&book, job("v1", JobKind::Validate, Origin::Manual), at(1)).unwrap());
    run(begin_slice(&book, at(2)).unwrap());
    match cancel(&book, "v1", at(3)).unwrap() {
        Cancellation::Cancelled(record) => assert_eq!(record.state, JobState::Cancelled),
        other => panic!("{other:?}"),
    }
    match cancel(&book, "b1", at(4)).unwrap() {
        Cancellation::Requested(record) => assert!(record.cancel_requested),
        other => panic!("{other:?}"),
    }
    match begin_slice(&book, at(5)).unwrap() {
        Next::Cancel(ticket) => assert_eq!(ticket.record.id, "b1"),
        other => panic!("{other:?}"),
    }
    assert_eq!(
        cancel(&book, "nope", at(6)).unwrap(),
        Cancellation::NotFound
    );
    let v1 = book.get("v1").unwrap().unwrap();
    assert!(matches!(
        cancel(&book, "v1", at(7)).unwrap(),
        Cancellation::AlreadyFinal(_)
    ));
    assert_eq!(
        book.get("v1").unwrap().unwrap(),
        v1,
        "a final record never changes"
    );
}

#[test]
fn events_are_numbered_from_one_and_read_after_a_sequence_number() {
    let book = MemoryBook::default();
    accepted(submit(&book, job("b1", JobKind::Backup, Origin::Manual), at(0)).unwrap());
    let ticket = run(begin_slice(&book, at(1)).unwrap());
    end_slice(&book, ticket, finished(), at(2)).unwrap();
    let all = book.events_after("b1", 0, 100).unwrap();
    let seqs: Vec<u64> = all.iter().map(|e| e.seq).collect();
    assert_eq!(seqs, vec![1, 2, 3]);
    assert_eq!(all[2].status.as_deref(), Some("succeeded"));
    assert_eq!(book.events_after("b1", 2, 100).unwrap().len(), 1);
}

#[test]
fn retries_back_off_up_to_thirty_seconds() {
    assert_eq!(retry_delay_ms(0), 0);
    assert_eq!(retry_delay_ms(1), 1_000);
    assert_eq!(retry_delay_ms(3), 4_000);
    assert_eq!(retry_delay_ms(20), 30_000);
}
