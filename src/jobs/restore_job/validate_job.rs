//! Steps 1-5 over a stored backup as a sliced job: a [`Pass`] that only
//! validates, then the comparison with the manifest. Nothing is written.
//!
//! Invariants: the job (`self`) is a valid checkpoint between slices, and
//! also after a slice that failed on I/O; it holds no key material; a
//! backup that fails validation is a report with `ok: false`, never an
//! error (only a failed read is, to be retried); once done, every further
//! slice returns the same report without I/O.

use serde::{Deserialize, Serialize};

use super::super::engine::record::{JobProgress, NewEvent};
use super::super::restore::{fail, started, validation_report, StepReport, ValidationReport};
use super::super::slice::{Meter, Metered, SliceEnd};
use super::super::store::ObjectStore;
use super::journal::Events;
use super::pass::{ObjectReadError, Pass, PassError, PASS_RANGE_BYTES};
use crate::format::keys::Keyring;
use crate::format::Engine;
use crate::manifest::Manifest;
use crate::time::Timestamp;

/// Validation of one backup as a sliced job; serialize it to save its
/// checkpoint.
#[derive(Debug, Serialize, Deserialize)]
pub struct ValidateJob {
    manifest: Box<Manifest>,
    /// When the first slice began.
    began: Option<Timestamp>,
    pass: Pass,
    events: Events,
    report: Option<ValidationReport>,
}

impl ValidateJob {
    /// A job that has not started; nothing runs until
    /// [`ValidateJob::run_slice`].
    pub fn new(manifest: Manifest) -> Self {
        Self::with_range(manifest, PASS_RANGE_BYTES)
    }

    /// A job that reads the object `range_bytes` at a time.
    pub(crate) fn with_range(manifest: Manifest, range_bytes: u64) -> Self {
        let pass = Pass::new(
            &manifest.object_key,
            &manifest.id,
            Some(manifest.ciphertext.bytes),
            false,
            range_bytes,
        );
        Self {
            manifest: Box::new(manifest),
            began: None,
            pass,
            events: Events::default(),
            report: None,
        }
    }

    /// The backup validated.
    pub fn manifest(&self) -> &Manifest {
        &self.manifest
    }

    /// Reads ranges of the object until `meter` is exhausted (checked
    /// between ranges, after at least one) or the validation is over. Every
    /// R2 call is counted into `meter`, and every byte of the object. After
    /// an error, save nothing new: run the slice again from the last saved
    /// checkpoint, or [`ValidateJob::give_up`].
    pub async fn run_slice(
        &mut self,
        store: &impl ObjectStore,
        keyring: &Keyring,
        engine: &dyn Engine,
        meter: &Meter<'_>,
    ) -> Result<SliceEnd<ValidationReport>, ObjectReadError> {
        if let Some(report) = &self.report {
            return Ok(SliceEnd::Done(report.clone()));
        }
        let began = match self.began {
            Some(began) => began,
            None => {
                for step in 1..=5 {
                    self.events.step(started(step), false);
                }
                *self.began.insert(meter.now())
            }
        };
        let store = Metered::new(store, meter);
        let mut units = 0u64;
        loop {
            if units > 0 && meter.exhausted() {
                return Ok(SliceEnd::Continue);
            }
            units += 1;
            let before = self.pass.bytes_read();
            let advanced = self.pass.advance(&store, keyring, engine).await;
            meter.processed(self.pass.bytes_read() - before);
            let outcome = match advanced {
                Ok(None) => continue,
                Ok(Some(streamed)) => Ok(streamed),
                Err(PassError::Failed(failure)) => Err(failure),
                Err(PassError::Read(error)) => return Err(error),
            };
            let ms = meter.now().as_millis() - began.as_millis();
            let report = self.finish(validation_report(&self.manifest, outcome, ms));
            return Ok(SliceEnd::Done(report));
        }
    }

    /// Ends the job because its slices kept failing: step 1 fails with
    /// `reason` (the object could not be read). Does nothing once done.
    pub fn give_up(&mut self, reason: impl Into<String>) {
        if self.report.is_none() {
            let report = validation_report(&self.manifest, Err(fail(1, reason.into())), 0);
            self.finish(report);
        }
    }

    /// The step the job is at, in words, for its job record.
    pub fn step_name(&self) -> &'static str {
        if self.report.is_some() {
            "validated"
        } else {
            "download, decrypt and validate"
        }
    }

    /// How far the job has come: bytes of the object read and rows
    /// validated, of the manifest's.
    pub fn progress(&self) -> JobProgress {
        let total_bytes = self.manifest.ciphertext.bytes;
        let total_rows = self.manifest.total_rows();
        let (bytes_done, rows_done) = if self.report.is_some() {
            (total_bytes, total_rows)
        } else {
            (self.pass.bytes_read(), self.pass.rows())
        };
        JobProgress {
            bytes_done,
            bytes_total: Some(total_bytes),
            rows_done,
            rows_total: Some(total_rows),
        }
    }

    /// The events since the last call: steps 1-5 started, then finished
    /// (with their reports as detail), then the backup's warnings.
    pub fn take_events(&mut self) -> Vec<NewEvent> {
        self.events.take_events()
    }

    /// The step events since the last call, for a
    /// [`Progress`](crate::jobs::restore::Progress).
    pub(crate) fn take_step_reports(&mut self) -> Vec<(StepReport, bool)> {
        self.events.take_step_reports()
    }

    /// Moves the events since the last call into `events`.
    pub(super) fn drain_events(&mut self, events: &mut Events) {
        events.append(&mut self.events);
    }

    /// Records the report and its events.
    fn finish(&mut self, report: ValidationReport) -> ValidationReport {
        for step in &report.steps {
            self.events.step(step.clone(), false);
        }
        if report.ok {
            for warning in &report.warnings {
                self.events.warning(warning.clone());
            }
        }
        self.report.insert(report).clone()
    }
}
