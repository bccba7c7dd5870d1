//! Stops, each in a sliced run saved as JSON between slices: a batch D1
//! rejects, a cancellation, the engine giving up, a failed step 7, a safety
//! backup that does not validate. Before step 7 nothing changes; from step
//! 7 on, the database ends exactly as it was before the restore.

use super::*;
use crate::jobs::prune::list_backups;

/// Runs `job` in [`TINY`] slices until `until` holds before a slice.
fn run_until(
    mut job: RestoreJob,
    db: &SqliteReader,
    store: &MemoryStore,
    until: impl Fn(&RestoreJob, &SqliteReader, &MemoryStore) -> bool,
) -> RestoreJob {
    loop {
        job = round_trip(&job);
        if until(&job, db, store) {
            return job;
        }
        if let SliceEnd::Done(report) = slice(&mut job, db, store, TINY) {
            panic!("the restore ended first: {report:#?}");
        }
    }
}

/// The import is under way and D1 has committed some of its batches.
fn importing(job: &RestoreJob, db: &SqliteReader, _: &MemoryStore) -> bool {
    job.step_name() == "import" && progress_rows(db).unwrap_or(0) > 0
}

fn step(report: &RestoreReport, step: u8) -> &StepReport {
    report.steps.iter().find(|s| s.step == step).unwrap()
}

/// The rollback ran steps 7-9 and all passed.
fn rolled_back(report: &RestoreReport) -> bool {
    let rollback = report.rollback.as_ref().unwrap();
    rollback.iter().map(|s| s.step).collect::<Vec<_>>() == [7, 8, 9]
        && rollback.iter().all(|s| s.status == StepStatus::Passed)
}

/// Steps `first` to 10 were not run, for `why`.
fn skipped_from(report: &RestoreReport, first: u8, why: &str) -> bool {
    report
        .steps
        .iter()
        .filter(|s| s.step >= first)
        .map(|s| (s.step, s.status, s.detail.as_str()))
        .eq((first..=10).map(|step| (step, StepStatus::Skipped, why)))
}

#[test]
fn a_batch_rejected_during_the_import_rolls_back_to_exactly_the_state_before() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    let other_db = database();
    damage(&other_db);
    for db in [&db, &other_db] {
        *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"log\"".into());
    }
    let (expected, expected_events) = one_go(&other_db, &store.snapshot(), &manifest, true);

    let sliced = run_sliced(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        |_, _| {},
    );
    assert_eq!(sliced.report, expected);
    assert_eq!(step_reports(&sliced.events), expected_events);
    assert_eq!(sliced.report.outcome, RestoreOutcome::RolledBack);
    assert_eq!(sliced.state, JobState::RolledBack);
    let import = step(&sliced.report, 8);
    assert_eq!(import.status, StepStatus::Failed);
    assert!(
        import
            .detail
            .contains("D1 rejected a batch starting at line"),
        "{}",
        import.detail
    );
    assert!(rolled_back(&sliced.report), "{:#?}", sliced.report);
    assert_eq!(dump(&db), before);
    assert_eq!(progress_rows(&db), None);
}

#[test]
fn cancelling_during_the_import_rolls_back_and_ends_cancelled() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    let mut job = run_until(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        importing,
    );
    job.cancel();
    // The engine asks again before every slice until the job ends.
    let sliced = run_sliced(job, &db, &store, |job, _| job.cancel());
    assert_eq!(sliced.state, JobState::Cancelled);
    assert_eq!(sliced.report.outcome, RestoreOutcome::RolledBack);
    let import = step(&sliced.report, 8);
    assert_eq!(
        (import.status, import.detail.as_str()),
        (StepStatus::Failed, CANCELLED)
    );
    assert!(rolled_back(&sliced.report), "{:#?}", sliced.report);
    assert!(sliced.events.iter().all(|e| e.kind != EventKind::Warning));
    assert_eq!(dump(&db), before);
    assert_eq!(progress_rows(&db), None);
}

#[test]
fn cancelling_before_step_7_ends_cancelled_with_nothing_changed() {
    type Until = fn(&RestoreJob, &SqliteReader, &MemoryStore) -> bool;
    let cases: [(Until, u8, usize); 3] = [
        (|job, _, _| job.progress().bytes_done > 0, 1, 1),
        (
            |job, _, store| job.step_name() == "safety backup" && !store.open_uploads().is_empty(),
            6,
            1,
        ),
        (
            |job, _, _| job.step_name() == "safety backup: validating it",
            6,
            2,
        ),
    ];
    for (until, failed, listed) in cases {
        let (db, store, manifest) = restorable();
        let before = dump(&db);
        let mut job = run_until(
            RestoreJob::tuned(params(&manifest, true), RANGE),
            &db,
            &store,
            until,
        );
        job.cancel();
        let sliced = run_sliced(job, &db, &store, |_, _| {});
        assert_eq!(sliced.slices, 1);
        assert_eq!(sliced.state, JobState::Cancelled);
        assert_eq!(sliced.report.outcome, RestoreOutcome::Failed);
        let stopped = step(&sliced.report, failed);
        assert_eq!(stopped.status, StepStatus::Failed);
        assert!(stopped.detail.contains(CANCELLED), "{}", stopped.detail);
        assert!(
            skipped_from(&sliced.report, 7, CANCELLED_NOT_CHANGED),
            "{:#?}",
            sliced.report.steps
        );
        assert_eq!(dump(&db), before);
        assert_eq!(progress_rows(&db), None);
        assert!(
            store.open_uploads().is_empty(),
            "the safety upload is aborted"
        );
        assert_eq!(block_on(list_backups(&store)).unwrap().len(), listed);
    }
}

#[test]
fn giving_up_during_the_import_rolls_back_and_during_the_rollback_fails_it() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    let mut job = run_until(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        importing,
    );
    job.give_up("D1 kept failing");
    let sliced = run_sliced(job, &db, &store, |_, _| {});
    assert_eq!(sliced.state, JobState::RolledBack);
    assert_eq!(step(&sliced.report, 8).detail, "D1 kept failing");
    assert!(rolled_back(&sliced.report), "{:#?}", sliced.report);
    assert_eq!(dump(&db), before);

    let (db, store, manifest) = restorable();
    *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"log\"".into());
    let mut job = run_until(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        |job, _, _| job.step_name() == "rollback: import",
    );
    job.give_up("D1 kept failing");
    let sliced = run_sliced(job, &db, &store, |_, _| {});
    assert_eq!(sliced.state, JobState::RollbackFailed);
    assert_eq!(sliced.report.outcome, RestoreOutcome::RollbackFailed);
    let rollback = sliced.report.rollback.unwrap();
    assert_eq!(
        rollback
            .last()
            .map(|s| (s.step, s.status, s.detail.as_str())),
        Some((8, StepStatus::Failed, "D1 kept failing"))
    );
    assert_eq!(progress_rows(&db), None, "the progress table is dropped");
}

#[test]
fn giving_up_before_step_7_fails_the_step_under_way_with_nothing_changed() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    let mut job = RestoreJob::tuned(params(&manifest, true), RANGE);
    job.give_up("reading the object failed: R2 kept failing");
    let sliced = run_sliced(job, &db, &store, |_, _| {});
    assert_eq!(sliced.state, JobState::Failed);
    let download = step(&sliced.report, 1);
    assert_eq!(
        (download.status, download.detail.as_str()),
        (
            StepStatus::Failed,
            "reading the object failed: R2 kept failing"
        )
    );
    assert!(skipped_from(&sliced.report, 6, NOT_CHANGED));
    assert_eq!(dump(&db), before);
}

#[test]
fn a_failed_step_7_changes_nothing_and_ends_failed() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    *db.fail_batch_containing.borrow_mut() =
        Some(format!("CREATE TABLE {}", progress_table::PROGRESS_TABLE));
    let sliced = run_sliced(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        |_, _| {},
    );
    assert_eq!(sliced.state, JobState::Failed);
    assert_eq!(sliced.report.outcome, RestoreOutcome::Failed);
    let drop = step(&sliced.report, 7);
    assert_eq!(drop.status, StepStatus::Failed);
    assert!(drop.detail.contains("injected failure"), "{}", drop.detail);
    assert!(skipped_from(&sliced.report, 8, NOT_CHANGED));
    assert_eq!(sliced.report.rollback, None);
    assert_eq!(dump(&db), before);
    assert_eq!(progress_rows(&db), None);
}

#[test]
fn a_stop_at_step_7_rolls_back_only_when_a_dead_slice_committed_it() {
    for dead_slice in [false, true] {
        let (db, store, manifest) = restorable();
        let before = dump(&db);
        let job = run_until(
            RestoreJob::tuned(params(&manifest, true), RANGE),
            &db,
            &store,
            |job, _, _| job.step_name() == "drop objects",
        );
        if dead_slice {
            let mut dying = round_trip(&job);
            slice(&mut dying, &db, &store, TINY);
            assert_eq!(progress_rows(&db), Some(0), "step 7 committed");
        }
        let mut job = round_trip(&job);
        job.cancel();
        let sliced = run_sliced(job, &db, &store, |_, _| {});
        assert_eq!(sliced.state, JobState::Cancelled);
        let drop = step(&sliced.report, 7);
        assert_eq!(
            (drop.status, drop.detail.as_str()),
            (StepStatus::Failed, CANCELLED)
        );
        if dead_slice {
            assert_eq!(sliced.report.outcome, RestoreOutcome::RolledBack);
            assert!(rolled_back(&sliced.report), "{:#?}", sliced.report);
        } else {
            assert_eq!(sliced.report.outcome, RestoreOutcome::Failed);
            assert!(skipped_from(&sliced.report, 8, CANCELLED_NOT_CHANGED));
        }
        assert_eq!(dump(&db), before);
        assert_eq!(progress_rows(&db), None);
    }
}

#[test]
fn a_safety_backup_that_does_not_validate_stops_the_restore_before_step_7() {
    let (db, store, manifest) = restorable();
    let before = dump(&db);
    let job = run_until(
        RestoreJob::tuned(params(&manifest, true), RANGE),
        &db,
        &store,
        |job, _, _| job.step_name() == "safety backup: validating it",
    );
    store.tamper(&object_key("safety"), |body| body[300] ^= 1);
    let sliced = run_sliced(job, &db, &store, |_, _| {});
    assert_eq!(sliced.state, JobState::Failed);
    assert_eq!(sliced.report.safety_backup_id.as_deref(), Some("safety"));
    let safety = step(&sliced.report, 6);
    assert_eq!(safety.status, StepStatus::Failed);
    for words in [
        "did not validate",
        "step 3 (decrypt)",
        "nothing was changed",
    ] {
        assert!(safety.detail.contains(words), "{words}: {}", safety.detail);
    }
    assert!(skipped_from(&sliced.report, 7, NOT_CHANGED));
    assert_eq!(dump(&db), before);
}

#[test]
fn without_a_safety_backup_a_failed_import_ends_rollback_failed_with_a_warning() {
    let (db, store, manifest) = restorable();
    let other_db = database();
    damage(&other_db);
    for db in [&db, &other_db] {
        *db.fail_batch_containing.borrow_mut() = Some("INSERT INTO \"log\"".into());
    }
    let (expected, _) = one_go(&other_db, &store.snapshot(), &manifest, false);
    let sliced = run_sliced(
        RestoreJob::tuned(params(&manifest, false), RANGE),
        &db,
        &store,
        |_, _| {},
    );
    assert_eq!(sliced.report, expected);
    assert_eq!(sliced.state, JobState::RollbackFailed);
    assert!(sliced.report.safety_backup_skipped);
    assert_eq!(sliced.report.rollback, None);
    assert!(
        sliced
            .events
            .iter()
            .any(|e| e.kind == EventKind::Warning && e.message.contains("no safety backup")),
        "{:#?}",
        sliced.events
    );
    assert_eq!(progress_rows(&db), None);
}
