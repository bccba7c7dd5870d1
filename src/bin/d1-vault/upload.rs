//! Uploading an object to the worker in parts, one request each, so that
//! no request comes near the platform's request-size limit: `POST
//! /v1/imports` starts the upload and says the part size, `PUT
//! /v1/imports/{id}/parts/{n}` sends each part, `POST
//! /v1/imports/{id}/complete` lists them and starts the import job.
//!
//! A part that gets no answer, or HTTP 408, 429 or 5xx, is sent again
//! after 1, 2, 4, 8 and 16 s (the worker replaces a part sent twice); any
//! other refusal, a part that fails 6 times, or Ctrl-C ends the upload,
//! and the upload is then discarded (`DELETE /v1/imports/{id}`), so
//! nothing is left behind. Progress goes to stderr.

use std::io::{self, IsTerminal};
use std::time::{Duration, Instant};

use serde_json::{json, Value};

use crate::common::CliError;
use crate::follow::Line;
use crate::interrupt;
use crate::parts::ObjectParts;
use crate::remote::{escape, Auth, Client, RemoteArgs, Reply};
use crate::render::human_duration;
use crate::screen::Screen;
use crate::upload_progress::UploadProgress;
use crate::watch::pause;

/// How long one part may take, sent and answered, before it counts as
/// failed and is sent again: 8 MiB at 14 KB/s.
const PART_TIMEOUT: Duration = Duration::from_secs(600);
/// How many times a part is sent before the upload is given up.
const TRIES: u32 = 6;
/// The largest part size accepted from a worker: the request-size limit
/// of the Free and Pro plans, and what this CLI holds in memory.
const MAX_PART_SIZE: u64 = 100 * 1000 * 1000;

/// An upload the worker has started.
struct Upload {
    /// The backup id, escaped for a path.
    id: String,
    /// The upload's id, escaped for a query.
    upload_id: String,
    /// Bytes per part, but the last.
    part_size: u64,
}

impl Upload {
    fn part_path(&self, number: u64) -> String {
        format!(
            "/v1/imports/{}/parts/{number}?upload_id={}",
            self.id, self.upload_id
        )
    }

    fn complete_path(&self) -> String {
        format!(
            "/v1/imports/{}/complete?upload_id={}",
            self.id, self.upload_id
        )
    }

    fn abort_path(&self) -> String {
        format!("/v1/imports/{}?upload_id={}", self.id, self.upload_id)
    }
}

/// Uploads `object` in parts, then asks the worker to complete the upload
/// (with `note` for the manifest) and returns its answer: `202` with the
/// import job, or its refusal. `client` makes the quick requests; parts go
/// through a client of their own, with [`PART_TIMEOUT`]. A failure after
/// the upload has started, Ctrl-C included, discards the upload.
pub fn upload(
    remote: &RemoteArgs,
    client: &Client,
    object: &mut ObjectParts,
    note: Option<&str>,
) -> Result<Reply, CliError> {
    let parts_client = remote.client(Auth::Token, Some(PART_TIMEOUT))?;
    let upload = begin(client, object)?;
    interrupt::install();
    let mut screen = Screen::new();
    let sent = send_parts(&parts_client, &upload, object, &mut screen);
    let sent = screen.clear().and(sent);
    match sent {
        Ok(parts) => complete(client, &upload, parts, note),
        Err(err) => Err(discard(client, &upload, err)),
    }
}

/// `POST /v1/imports`: the upload of `object`'s backup id.
fn begin(client: &Client, object: &ObjectParts) -> Result<Upload, CliError> {
    let id = object.id().as_str();
    let reply = client.post("/v1/imports", &json!({ "id": id }))?;
    let request = reply.request().to_owned();
    let answer = reply.success()?;
    let upload = answer.get("upload");
    let field = |name| upload.and_then(|upload| upload.get(name));
    let upload_id = field("upload_id").and_then(|id| id.as_str());
    let part_size = field("part_size").and_then(|size| size.as_u64());
    match (upload_id, part_size) {
        (Some(upload_id), Some(part_size))
            if !upload_id.is_empty() && (1..=MAX_PART_SIZE).contains(&part_size) =>
        {
            Ok(Upload {
                id: escape(id),
                upload_id: escape(upload_id),
                part_size,
            })
        }
        _ => Err(CliError::Io(format!(
            "{request} answered without an upload id and a part size of 1 B to 100 MB: is \
             the worker a d1-vault of another version? Deploy this version, or import with \
             the d1-vault that matches the worker"
        ))),
    }
}

/// Sends every part of `object`; the parts as the worker acknowledged
/// them, for completing the upload.
fn send_parts(
    client: &Client,
    upload: &Upload,
    object: &mut ObjectParts,
    screen: &mut Screen,
) -> Result<Vec<Value>, CliError> {
    let clock = Instant::now();
    let now = || clock.elapsed().as_secs_f64();
    let count = object.len().map(|len| len.div_ceil(upload.part_size));
    let tty = io::stderr().is_terminal();
    let (mut progress, lines) = UploadProgress::new(
        object.id().as_str(),
        object.file_len(),
        count,
        upload.part_size,
        tty,
        now(),
    );
    screen.show(lines)?;
    let mut sent = Vec::new();
    // The part size is at most MAX_PART_SIZE: it fits any usize.
    let size = upload.part_size as usize;
    loop {
        let number = sent.len() as u64 + 1;
        if interrupt::requested() {
            return Err(stopped(number - 1, count));
        }
        let Some(bytes) = object.next_part(size)? else {
            break;
        };
        let etag = send_part(client, upload, number, &bytes, count, screen)?;
        sent.push(json!({ "part_number": number, "etag": etag }));
        screen.show(progress.part_done(bytes.len() as u64, object.file_read(), now()))?;
    }
    screen.show(vec![progress.finished(now())])?;
    Ok(sent)
}

/// Sends part `number` (of `count`, if known) until the worker takes it, as often as
/// [`TRIES`] allows; its etag.
fn send_part(
    client: &Client,
    upload: &Upload,
    number: u64,
    bytes: &[u8],
    count: Option<u64>,
    screen: &mut Screen,
) -> Result<String, CliError> {
    let path = upload.part_path(number);
    let mut tries = 1;
    loop {
        let failure = match client.put_bytes(&path, bytes) {
            Ok(reply) if reply.status.is_success() => return etag(&reply),
            Ok(reply) if reply.worth_retrying() => reply.error(),
            Ok(reply) => return Err(reply.error()),
            // No answer at all: the network, DNS, a timeout.
            Err(err @ CliError::Io(_)) => err,
            Err(err) => return Err(err),
        };
        if tries == TRIES {
            return Err(gave_up(number, failure));
        }
        let wait = backoff(tries);
        tries += 1;
        screen.show(vec![Line::Note(format!(
            "part {number}{} failed ({failure}); sending it again in {} (try {tries} \
             of {TRIES})",
            of_count(count),
            human_duration(wait.as_secs_f64())
        ))])?;
        pause(wait);
        if interrupt::requested() {
            return Err(stopped(number - 1, count));
        }
    }
}

/// The wait after failed try `tries` of a part: 1, 2, 4, 8, 16 s.
fn backoff(tries: u32) -> Duration {
    Duration::from_secs(1 << (tries - 1).min(4))
}

/// The etag of an acknowledged part.
fn etag(reply: &Reply) -> Result<String, CliError> {
    let answer = reply.json()?;
    match answer.get("etag").and_then(|etag| etag.as_str()) {
        Some(etag) if !etag.is_empty() => Ok(etag.to_owned()),
        _ => Err(CliError::Io(format!(
            "{} answered without an etag: is the worker a d1-vault of another version?",
            reply.request()
        ))),
    }
}

/// `POST /v1/imports/{id}/complete` with the parts sent. The worker's
/// answer is returned whatever it is; unless it is a success, the upload
/// is also discarded (best effort: a refusal may have done so already).
fn complete(
    client: &Client,
    upload: &Upload,
    parts: Vec<Value>,
    note: Option<&str>,
) -> Result<Reply, CliError> {
    let mut body = json!({ "parts": parts });
    if let Some(note) = note {
        body["note"] = json!(note);
    }
    let completed = client.post(&upload.complete_path(), &body);
    if !matches!(&completed, Ok(reply) if reply.status.is_success()) {
        let _ = client.delete(&upload.abort_path());
    }
    completed.map_err(|err| match err {
        CliError::Io(reason) => CliError::Io(format!(
            "{reason}; the worker may have started the import job all the same: 'd1-vault \
             jobs' lists it; if it is not there, run 'd1-vault import' again"
        )),
        err => err,
    })
}

/// `DELETE /v1/imports/{id}` after `err`: `err`, saying whether the upload
/// is gone.
fn discard(client: &Client, upload: &Upload, err: CliError) -> CliError {
    let outcome = match client.delete(&upload.abort_path()) {
        Ok(reply) if reply.status.is_success() => "the upload was discarded",
        _ => "discarding the upload failed too (R2 drops it after 7 days)",
    };
    amend(err, &format!("; {outcome} and nothing was imported"))
}

/// Part `number` failed [`TRIES`] times, the last with `failure`.
fn gave_up(number: u64, failure: CliError) -> CliError {
    let message = format!(
        "part {number} failed {TRIES} times, the last time: {failure}; run 'd1-vault import' \
         again once the worker answers"
    );
    match failure {
        CliError::Io(_) => CliError::Io(message),
        _ => CliError::Refused(message),
    }
}

/// Ctrl-C after `done` of `count` parts (if known).
fn stopped(done: u64, count: Option<u64>) -> CliError {
    let parts = match count {
        Some(count) => format!("{done} of {count} parts were"),
        None if done == 1 => "1 part was".to_owned(),
        None => format!("{done} parts were"),
    };
    CliError::Interrupted(format!("stopped the import after {parts} uploaded"))
}

/// ` of 12` when the parts are known in advance, else nothing.
fn of_count(count: Option<u64>) -> String {
    count.map_or_else(String::new, |count| format!(" of {count}"))
}

/// `err` with `suffix` added to its message.
fn amend(err: CliError, suffix: &str) -> CliError {
    match err {
        CliError::Failed {
            message,
            code,
            stage,
        } => CliError::Failed {
            message: message + suffix,
            code,
            stage,
        },
        CliError::Refused(message) => CliError::Refused(message + suffix),
        CliError::Usage(message) => CliError::Usage(message + suffix),
        CliError::Io(message) => CliError::Io(message + suffix),
        CliError::Interrupted(message) => CliError::Interrupted(message + suffix),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_part_is_sent_again_after_1_2_4_8_and_16_seconds() {
        let waits: Vec<u64> = (1..TRIES).map(|tries| backoff(tries).as_secs()).collect();
        assert_eq!(waits, [1, 2, 4, 8, 16]);
    }

    #[test]
    fn a_part_given_up_keeps_the_exit_status_of_its_last_failure() {
        let unreachable = gave_up(3, CliError::Io("connection refused".into()));
        assert_eq!(unreachable.exit_code(), crate::common::EXIT_IO);
        assert_eq!(
            unreachable.to_string(),
            "part 3 failed 6 times, the last time: connection refused; run 'd1-vault import' \
             again once the worker answers"
        );
        let failing = gave_up(3, CliError::Refused("R2 failed (HTTP 500 internal)".into()));
        assert_eq!(failing.exit_code(), crate::common::EXIT_FAILED);
        let stopped = amend(stopped(2, Some(5)), "; the upload was discarded");
        assert_eq!(stopped.exit_code(), crate::common::EXIT_INTERRUPTED);
        assert_eq!(
            stopped.to_string(),
            "stopped the import after 2 of 5 parts were uploaded; the upload was discarded"
        );
    }
}
