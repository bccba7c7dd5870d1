//! An upload in parts in words: what is sent, parts done and bytes of the
//! file read, the rate over the last half minute and the time left, redrawn
//! in place on a terminal or written every 30 s otherwise; then what was
//! sent and how long it took. No I/O and no clock here: the caller passes
//! the time and shows the [`Line`]s.
//!
//! Progress counts the bytes of the file read, whose total is known. A
//! plain SQL file is compressed and encrypted on the way, so how many
//! parts it makes is known only at its end.

use crate::follow::{Line, PLAIN_PROGRESS_EVERY};
use crate::job_record::Progress;
use crate::progress::{counters, eta, rate_text, Meter};
use crate::render::{human_bytes, human_duration};

/// The progress of one upload.
pub struct UploadProgress {
    /// Whether stderr is a terminal: one line redrawn in place.
    tty: bool,
    /// Parts in all, when known (an object sent as it is).
    parts: Option<u64>,
    /// Parts uploaded.
    parts_done: u64,
    /// Bytes uploaded.
    sent: u64,
    /// The counters: bytes of the file read, of its size.
    progress: Progress,
    /// When the upload started.
    started_at: f64,
    /// The counters over time, for the rate and time left.
    meter: Meter,
    /// When the last plain progress line was written (no terminal).
    plain_at: f64,
}

impl UploadProgress {
    /// An upload of backup `id` from a file of `bytes`, in `parts` parts
    /// (`None` for SQL compressed on the way) of `part_size`, starting at
    /// `now`; the lines to show first.
    pub fn new(
        id: &str,
        bytes: u64,
        parts: Option<u64>,
        part_size: u64,
        tty: bool,
        now: f64,
    ) -> (UploadProgress, Vec<Line>) {
        let progress = Progress {
            bytes_done: Some(0),
            bytes_total: Some(bytes),
            ..Progress::default()
        };
        let mut meter = Meter::default();
        meter.record(now, None, progress);
        let upload = UploadProgress {
            tty,
            parts,
            parts_done: 0,
            sent: 0,
            progress,
            started_at: now,
            meter,
            plain_at: now,
        };
        let what = match parts {
            Some(parts) => format!(
                "{} in {parts} part{}",
                human_bytes(bytes),
                if parts == 1 { "" } else { "s" }
            ),
            None => format!(
                "{} of SQL, compressed and encrypted on the way, in parts",
                human_bytes(bytes)
            ),
        };
        let intro = Line::Note(format!(
            "Uploading backup {id}: {what} of up to {}. Ctrl-C stops and discards the upload.",
            human_bytes(part_size)
        ));
        let mut lines = vec![intro];
        lines.extend(upload.status_line());
        (upload, lines)
    }

    /// A part of `bytes` was uploaded at `now`, with `file_read` bytes of
    /// the file read so far: the lines to show.
    pub fn part_done(&mut self, bytes: u64, file_read: u64, now: f64) -> Vec<Line> {
        self.parts_done += 1;
        self.sent += bytes;
        self.progress.bytes_done = Some(file_read);
        self.meter.record(now, None, self.progress);
        if self.tty {
            return self.status_line().into_iter().collect();
        }
        let last = match self.parts {
            Some(parts) => self.parts_done == parts,
            None => Some(file_read) >= self.progress.bytes_total,
        };
        if now - self.plain_at < PLAIN_PROGRESS_EVERY || last {
            return Vec::new();
        }
        self.plain_at = now;
        vec![Line::Note(self.status())]
    }

    /// The upload ended at `now`: how long it took.
    pub fn finished(&self, now: f64) -> Line {
        let seconds = now - self.started_at;
        let bytes = self.sent;
        let rate = if seconds > 0.0 {
            format!(" ({}/s)", human_bytes((bytes as f64 / seconds) as u64))
        } else {
            String::new()
        };
        Line::Note(format!(
            "Uploaded {} in {} part{} in {}{rate}.",
            human_bytes(bytes),
            self.parts_done,
            if self.parts_done == 1 { "" } else { "s" },
            human_duration(seconds)
        ))
    }

    /// The progress line, on a terminal only.
    fn status_line(&self) -> Option<Line> {
        self.tty.then(|| Line::Status(self.status()))
    }

    /// `upload: part 3/12  24.0 MiB / 90.2 MiB (26%)  12.3 MiB/s  ETA 5.5 s`
    /// (`part 3` when the parts are not known in advance).
    fn status(&self) -> String {
        let mut parts = vec![match self.parts {
            Some(total) => format!("upload: part {}/{total}", self.parts_done),
            None => format!("upload: part {}", self.parts_done),
        }];
        parts.extend(counters(&self.progress));
        let rate = self.meter.rate();
        parts.extend(rate.map(rate_text));
        if let Some(seconds) = eta(&self.progress, rate) {
            parts.push(format!("ETA {}", human_duration(seconds)));
        }
        parts.join("  ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const MIB: u64 = 1024 * 1024;

    #[test]
    fn a_terminal_sees_parts_bytes_rate_and_time_left_redrawn() {
        let (mut upload, lines) =
            UploadProgress::new("imp-1", 20 * MIB, Some(3), 8 * MIB, true, 0.0);
        assert_eq!(
            lines,
            [
                Line::Note(
                    "Uploading backup imp-1: 20.0 MiB in 3 parts of up to 8.0 MiB. Ctrl-C stops \
                     and discards the upload."
                        .into()
                ),
                Line::Status("upload: part 0/3  0 B / 20.0 MiB (0%)".into()),
            ]
        );
        assert_eq!(
            upload.part_done(8 * MIB, 8 * MIB, 2.0),
            [Line::Status(
                "upload: part 1/3  8.0 MiB / 20.0 MiB (40%)  4.0 MiB/s  ETA 3.0 s".into()
            )]
        );
        upload.part_done(8 * MIB, 16 * MIB, 4.0);
        upload.part_done(4 * MIB, 20 * MIB, 5.0);
        assert_eq!(
            upload.finished(5.0),
            Line::Note("Uploaded 20.0 MiB in 3 parts in 5.0 s (4.0 MiB/s).".into())
        );
    }

    #[test]
    fn a_log_gets_a_line_every_half_minute_and_none_for_the_last_part() {
        let (mut upload, lines) = UploadProgress::new("imp-1", 3 * MIB, Some(3), MIB, false, 0.0);
        assert_eq!(lines.len(), 1, "the intro only: {lines:?}");
        assert!(upload.part_done(MIB, MIB, 10.0).is_empty());
        assert_eq!(
            upload.part_done(MIB, 2 * MIB, 40.0),
            [Line::Note(
                "upload: part 2/3  2.0 MiB / 3.0 MiB (66%)  34.1 KiB/s  ETA 30.0 s".into()
            )]
        );
        assert!(
            upload.part_done(MIB, 3 * MIB, 80.0).is_empty(),
            "the summary follows"
        );
        assert_eq!(
            upload.finished(80.0),
            Line::Note("Uploaded 3.0 MiB in 3 parts in 1 min 20 s (38.4 KiB/s).".into())
        );
    }

    #[test]
    fn sql_compressed_on_the_way_counts_the_file_read_and_reports_what_was_sent() {
        let (mut upload, lines) = UploadProgress::new("imp-2", 40 * MIB, None, 8 * MIB, true, 0.0);
        assert_eq!(
            lines[0],
            Line::Note(
                "Uploading backup imp-2: 40.0 MiB of SQL, compressed and encrypted on the way, \
                 in parts of up to 8.0 MiB. Ctrl-C stops and discards the upload."
                    .into()
            )
        );
        assert_eq!(
            upload.part_done(8 * MIB, 30 * MIB, 2.0),
            [Line::Status(
                "upload: part 1  30.0 MiB / 40.0 MiB (75%)  15.0 MiB/s  ETA 667 ms".into()
            )]
        );
        upload.part_done(2 * MIB, 40 * MIB, 3.0);
        assert_eq!(
            upload.finished(4.0),
            Line::Note("Uploaded 10.0 MiB in 2 parts in 4.0 s (2.5 MiB/s).".into())
        );
    }
}
