//! Tests of [`Follower`]: the lines it shows for each kind of event, the
//! progress line with its rate and ETA, `--json` lines, and the end of a
//! job in each final state. No network: answers are JSON texts.

use super::*;
use crate::outcome::tests::job;

const MIB: u64 = 1024 * 1024;

fn events(text: &str) -> Events {
    Events::from_answer(&Json::parse(text.as_bytes()).unwrap(), "GET e").unwrap()
}

fn snapshot(state: &str, extra: &str) -> Job {
    job("backup", state, extra)
}

fn progress_event(seq: u64, done: u64) -> String {
    format!(
        r#"{{"seq":{seq},"at":"2026-11-21T02:00:{seq:02}.000Z","kind":"progress","step":"upload",
        "progress":{{"bytes_done":{done},"bytes_total":{},"rows_done":null,"rows_total":null}}}}"#,
        100 * MIB
    )
}

#[test]
fn a_terminal_gets_event_notes_and_a_redrawn_progress_line() {
    let (mut follower, first) =
        Follower::new(snapshot("queued", ""), Mode::Human { tty: true }, None, 0.0);
    assert_eq!(
        first,
        [
            Line::Note(
                "Following backup job j1 (queued). Ctrl-C stops following; the job goes on in \
                 the worker."
                    .into()
            ),
            Line::Status("backup: queued, waiting for the worker to start it".into()),
        ]
    );
    let batch = events(&format!(
        r#"{{"events":[{{"seq":1,"at":"2026-11-21T02:00:01.000Z","kind":"step_started",
        "step":"upload","message":"3 parts"}},{}],"state":"running"}}"#,
        progress_event(2, 10 * MIB)
    ));
    let lines = follower.events(batch, 1.0);
    assert_eq!(
        lines,
        [
            Line::Note("02:00:01Z upload started: 3 parts".into()),
            Line::Status("backup: upload  10.0 MiB / 100.0 MiB (10%)".into()),
        ]
    );
    assert_eq!(follower.after(), 2);
    let lines = follower.events(
        events(&format!(
            r#"{{"events":[{}]}}"#,
            progress_event(3, 30 * MIB)
        )),
        11.0,
    );
    assert_eq!(
        lines,
        [Line::Status(
            "backup: upload  30.0 MiB / 100.0 MiB (30%)  2.0 MiB/s  ETA 35.0 s".into()
        )]
    );
}

#[test]
fn without_a_terminal_progress_is_a_plain_line_now_and_then() {
    let progress = format!(
        r#","progress":{{"bytes_done":0,"bytes_total":{}}}"#,
        100 * MIB
    );
    let (mut follower, first) = Follower::new(
        snapshot("running", &progress),
        Mode::Human { tty: false },
        None,
        0.0,
    );
    assert_eq!(first.len(), 2);
    assert_eq!(
        first[1],
        Line::Note("backup: upload  0 B / 100.0 MiB (0%)".into())
    );
    let batch = |seq, done| events(&format!(r#"{{"events":[{}]}}"#, progress_event(seq, done)));
    assert_eq!(
        follower.events(batch(1, 50 * MIB), 10.0),
        [],
        "within 30 s of the last one"
    );
    let lines = follower.events(batch(2, 62 * MIB), 31.0);
    assert_eq!(
        lines,
        [Line::Note(
            "backup: upload  62.0 MiB / 100.0 MiB (62%)  2.0 MiB/s  ETA 19.0 s".into()
        )]
    );
    let repeated = follower.events(events(r#"{"events":[]}"#), 70.0);
    assert_eq!(repeated, [], "the same line is not written twice");
}

#[test]
fn json_mode_writes_each_event_once_then_the_final_job() {
    let (mut follower, first) = Follower::new(snapshot("running", ""), Mode::Json, None, 0.0);
    assert_eq!(first, []);
    let text = r#"{"events":[{"seq":1,"kind":"step_started","step":"dump","zeta":1,"alpha":2}],
        "state":"succeeded"}"#;
    let lines = follower.events(events(text), 1.0);
    assert_eq!(
        lines,
        [Line::Out(
            r#"{"seq":1,"kind":"step_started","step":"dump","zeta":1,"alpha":2}"#.into()
        )]
    );
    assert!(follower.hurry(), "final, but the batch was not empty");
    assert!(!follower.wants_snapshot(1.0));
    assert_eq!(
        follower.events(events(text), 1.1),
        [],
        "a repeated event is skipped"
    );
    assert!(follower.wants_snapshot(1.1));
    let done = snapshot("succeeded", r#","report":{"id":"b1"}"#);
    let raw = done.raw.compact();
    assert_eq!(follower.snapshot(done, 1.2), [Line::Out(raw)]);
    assert!(matches!(follower.conclusion(), Some(Ok(()))));
    assert!(follower.conclusion().is_none(), "taken once");
}

#[test]
fn a_final_snapshot_waits_for_the_last_events() {
    let (mut follower, _) = Follower::new(snapshot("running", ""), Mode::Json, None, 0.0);
    follower.events(events(r#"{"events":[{"seq":1,"kind":"state"}]}"#), 3.0);
    assert!(
        follower.wants_snapshot(3.0),
        "two seconds since the last snapshot"
    );
    assert_eq!(follower.snapshot(snapshot("failed", ""), 3.0), []);
    assert!(
        follower.conclusion().is_none(),
        "the last batch was not empty"
    );
    assert!(follower.hurry());
    follower.events(events(r#"{"events":[],"state":"failed"}"#), 3.1);
    assert!(follower.wants_snapshot(3.1));
    let lines = follower.snapshot(snapshot("failed", r#","error":"R2 is down""#), 3.2);
    assert_eq!(lines.len(), 1);
    let err = follower.conclusion().unwrap().unwrap_err();
    assert!(
        err.to_string()
            .starts_with("backup job j1 failed at step upload"),
        "{err}"
    );
}

#[test]
fn a_running_job_is_asked_for_every_few_seconds_and_on_a_new_state() {
    let (mut follower, _) = Follower::new(snapshot("queued", ""), Mode::Json, None, 0.0);
    assert!(!follower.wants_snapshot(1.0));
    assert!(follower.wants_snapshot(2.0));
    follower.events(events(r#"{"events":[],"state":"running"}"#), 1.0);
    assert!(follower.wants_snapshot(1.0), "queued -> running");
    assert!(!follower.hurry());
}

#[test]
fn the_end_is_a_blank_note_then_the_summary_for_each_final_state() {
    let cases = [
        ("succeeded", true, "Backup b1 taken in"),
        (
            "failed",
            false,
            "Backup job j1 failed at step upload after 1 min 5 s: disk full.",
        ),
        (
            "cancelled",
            false,
            "Backup job j1 was cancelled at step upload after 1 min 5 s: disk full.",
        ),
        (
            "rolled_back",
            false,
            "Backup job j1 failed and was rolled back",
        ),
        (
            "rollback_failed",
            false,
            "Backup job j1 failed and could not be rolled back",
        ),
    ];
    for (state, ok, start) in cases {
        let (mut follower, _) = Follower::new(
            snapshot("running", ""),
            Mode::Human { tty: true },
            None,
            0.0,
        );
        follower.events(
            events(&format!(r#"{{"events":[],"state":"{state}"}}"#)),
            1.0,
        );
        let report = r#","error":"disk full","report":{"id":"b1","tables":[],"duration_ms":10}"#;
        let lines = follower.snapshot(snapshot(state, report), 1.0);
        assert_eq!(lines[0], Line::Note(String::new()), "{state}");
        let Line::Out(text) = &lines[1] else {
            panic!("{lines:?}")
        };
        assert!(text.starts_with(start), "{state}: {text}");
        assert_eq!(follower.conclusion().unwrap().is_ok(), ok, "{state}");
    }
}

#[test]
fn each_kind_of_event_reads_as_one_line() {
    let line = |text: &str| {
        let batch = events(&format!(r#"{{"events":[{text}]}}"#));
        event_line(&batch.events[0])
    };
    assert_eq!(
        line(
            r#"{"seq":1,"at":"2026-11-21T02:03:04.500Z","kind":"step_finished","step":"decrypt","ms":2500}"#
        ),
        Some("02:03:04Z decrypt finished in 2.5 s".into())
    );
    assert_eq!(
        line(
            r#"{"seq":1,"kind":"step_finished","step":"verify","status":"failed","message":"rows differ"}"#
        ),
        Some("verify failed: rows differ".into())
    );
    assert_eq!(
        line(r#"{"seq":1,"kind":"warning","step":"dump","message":"FTS5 shadow table skipped"}"#),
        Some("warning (dump): FTS5 shadow table skipped".into())
    );
    assert_eq!(
        line(r#"{"seq":1,"kind":"state","status":"failed","message":"failed: R2 is down"}"#),
        Some("job failed: R2 is down".into())
    );
    assert_eq!(
        line(r#"{"seq":1,"kind":"state","status":"running","message":""}"#),
        Some("job running".into())
    );
    assert_eq!(
        line(r#"{"seq":1,"kind":"state"}"#),
        Some("job state changed".into())
    );
    assert_eq!(
        line(r#"{"seq":1,"kind":"step_started","step":"dump","message":"dump"}"#),
        Some("dump started".into())
    );
    assert_eq!(
        line(
            r#"{"seq":1,"kind":"step_finished","step":"import","status":"passed","message":"12 rows","detail":{"ms":61000}}"#
        ),
        Some("import finished in 1 min 1 s: 12 rows".into())
    );
    assert_eq!(
        line(
            r#"{"seq":1,"kind":"step_finished","step":"import","status":"skipped","message":"not run","detail":{"ms":0}}"#
        ),
        Some("import skipped: not run".into()),
        "a skipped step took no time"
    );
    assert_eq!(line(r#"{"seq":1,"kind":"progress","bytes_done":5}"#), None);
    assert_eq!(
        line(r#"{"seq":1,"kind":"retry","message":"attempt 2 of 5 failed"}"#),
        Some("retry: attempt 2 of 5 failed".into())
    );
}
