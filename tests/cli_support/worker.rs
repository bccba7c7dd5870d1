//! A fake d1-vault worker for the remote CLI tests: a small HTTP server on
//! 127.0.0.1 that answers canned bodies by request line, runs scripted jobs
//! through the job protocol, and records what the CLI sent.
//!
//! A scripted [`Job`] is started by a request (`202 {"job": ...}`, queued);
//! then `GET /v1/jobs/{id}/events?after=N` answers its events after N with
//! its state and the job beside them (as the worker does), `GET
//! /v1/jobs/{id}` the job, `GET /v1/jobs?limit=N` every scripted job, newest
//! first, and `POST /v1/jobs/{id}/cancel` a cancellation (`409` once the
//! job has ended). A job is final from the first poll on, so the CLI never
//! waits between polls, unless it is [`Job::hold`]: then its first events
//! are shown with the job running and the rest only once the test opens
//! the gate. A canned route for the same line wins over all of this.

use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc::{self, Receiver, Sender};
use std::sync::{Arc, Mutex};
use std::thread;
use std::time::Duration;

use serde_json::{json, Value};

use super::Run;

pub const READ_TOKEN: &str = "read-token-0123456789";
pub const ADMIN_TOKEN: &str = "admin-token-0123456789";

/// How long a held job waits for the test before giving up (and failing it).
const GATE_TIMEOUT: Duration = Duration::from_secs(20);

/// When every scripted job was created, started and finished: it took 4.5 s.
pub const CREATED_AT: &str = "2026-11-21T02:00:00.000Z";
pub const STARTED_AT: &str = "2026-11-21T02:00:01.000Z";
pub const FINISHED_AT: &str = "2026-11-21T02:00:05.500Z";

/// What the fake worker answers to one request line.
pub enum Answer {
    /// A whole body with this status: JSON when it starts with `{`.
    Body(u16, String),
    /// These bodies with their statuses, one per request in turn; the last
    /// one answers every request after it (a request that fails, then
    /// succeeds when sent again).
    Bodies(Vec<(u16, String)>),
    /// Starts this job: `202 {"job": ...}` with it queued. Its record and
    /// events are served from then on (and from the start: the job is
    /// known to the worker whether or not this route was asked).
    Start(Job),
}

/// One request as the fake worker received it.
#[derive(Debug, Clone)]
pub struct Request {
    /// `METHOD target`, e.g. `POST /v1/backups/b1/restore`.
    pub line: String,
    pub authorization: Option<String>,
    pub accept: Option<String>,
    pub content_type: Option<String>,
    pub body: Vec<u8>,
}

impl Request {
    /// The body as text.
    pub fn text(&self) -> String {
        String::from_utf8_lossy(&self.body).into_owned()
    }

    /// The body as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_slice(&self.body).unwrap()
    }
}

/// One event of a scripted job, before it is numbered.
#[derive(Debug, Clone)]
struct EventSpec {
    kind: String,
    step: Option<String>,
    status: Option<String>,
    message: String,
    /// Raw JSON text.
    detail: Option<String>,
}

/// A job as the fake worker runs it: queued, then running with its events,
/// then final. Built with the methods below; the JSON it serves has the
/// worker's key order (records and events as the worker's structs are
/// serialized), and reports are sent as the raw text given.
#[derive(Debug, Clone)]
pub struct Job {
    pub id: String,
    pub kind: String,
    /// The final state.
    pub state: String,
    error: Option<String>,
    report: Option<String>,
    params: String,
    progress: String,
    events: Vec<EventSpec>,
    hold: Option<usize>,
    page: usize,
}

impl Job {
    /// A job `id` of `kind` that ends in `state`, with no steps yet.
    pub fn new(id: &str, kind: &str, state: &str) -> Job {
        Job {
            id: id.into(),
            kind: kind.into(),
            state: state.into(),
            error: None,
            report: None,
            params: "{}".into(),
            progress: r#"{"bytes_done":0,"bytes_total":null,"rows_done":0,"rows_total":null}"#
                .into(),
            events: Vec::new(),
            hold: None,
            page: 1000,
        }
    }

    /// Its final report: raw JSON text, sent in its key order.
    pub fn report(mut self, report: impl Into<String>) -> Job {
        self.report = Some(compact(&report.into()));
        self
    }

    /// Why it failed.
    pub fn error(mut self, error: &str) -> Job {
        self.error = Some(error.into());
        self
    }

    /// Its parameters: raw JSON text.
    pub fn params(mut self, params: &str) -> Job {
        self.params = compact(params);
        self
    }

    /// Its progress counters while running and at the end: raw JSON text.
    pub fn progress(mut self, progress: &str) -> Job {
        self.progress = compact(progress);
        self
    }

    /// Any event; `detail` is raw JSON text.
    pub fn event(
        mut self,
        kind: &str,
        step: Option<&str>,
        status: Option<&str>,
        message: &str,
        detail: Option<&str>,
    ) -> Job {
        self.events.push(EventSpec {
            kind: kind.into(),
            step: step.map(Into::into),
            status: status.map(Into::into),
            message: message.into(),
            detail: detail.map(compact),
        });
        self
    }

    /// A step that starts, then ends with `status` (passed, failed, skipped)
    /// after `ms`; a skipped step only ends.
    pub fn step(self, name: &str, status: &str, message: &str, ms: u64) -> Job {
        let started = if status == "skipped" {
            self
        } else {
            self.event("step_started", Some(name), None, "", None)
        };
        let detail = format!(r#"{{"ms":{ms}}}"#);
        started.event(
            "step_finished",
            Some(name),
            Some(status),
            message,
            Some(&detail),
        )
    }

    /// A warning about `step`.
    pub fn warning(self, step: Option<&str>, message: &str) -> Job {
        self.event("warning", step, None, message, None)
    }

    /// Shows the job running with only its first `events` events (counting
    /// the two state events, queued and started, that every job begins
    /// with) until the test opens the gate: a poll for later events waits
    /// for it.
    pub fn hold(mut self, events: usize) -> Job {
        self.hold = Some(events);
        self
    }

    /// Serves at most `events` events per poll.
    pub fn page(mut self, events: usize) -> Job {
        self.page = events;
        self
    }

    /// Every event as the worker sends it, one JSON text each (compact, in
    /// the worker's key order): queued, started, the scripted events, then
    /// the final state.
    pub fn event_texts(&self) -> Vec<String> {
        let final_message = match &self.error {
            Some(error) => format!("{}: {error}", self.state),
            None => self.state.clone(),
        };
        let mut all = vec![
            EventSpec {
                kind: "state".into(),
                step: None,
                status: Some("queued".into()),
                message: "queued".into(),
                detail: None,
            },
            EventSpec {
                kind: "state".into(),
                step: None,
                status: Some("running".into()),
                message: "started".into(),
                detail: None,
            },
        ];
        all.extend(self.events.iter().cloned());
        all.push(EventSpec {
            kind: "state".into(),
            step: None,
            status: Some(self.state.clone()),
            message: final_message,
            detail: None,
        });
        let count = all.len();
        all.iter()
            .enumerate()
            .map(|(index, event)| {
                let seq = index + 1;
                let at = if seq == count {
                    FINISHED_AT.to_owned()
                } else {
                    event_at(seq)
                };
                let detail = event
                    .detail
                    .as_ref()
                    .map_or_else(String::new, |detail| format!(r#","detail":{detail}"#));
                format!(
                    r#"{{"seq":{seq},"at":"{at}","kind":{},"step":{},"status":{},"message":{}{detail}}}"#,
                    quoted(&event.kind),
                    optional(event.step.as_deref()),
                    optional(event.status.as_deref()),
                    quoted(&event.message),
                )
            })
            .collect()
    }

    /// The step of the last step event among the first `shown` events.
    fn step_at(&self, shown: usize) -> Option<String> {
        // The first two events are state events without a step.
        let scripted = shown.saturating_sub(2).min(self.events.len());
        self.events[..scripted]
            .iter()
            .rev()
            .find_map(|event| event.step.clone())
    }

    /// The job as the worker describes it once `shown` of its events have
    /// happened: queued (1 or none), final (all of them) or running.
    pub fn record_at(&self, shown: usize, cancel_requested: bool) -> String {
        let total = self.event_texts().len();
        let shown = shown.min(total);
        let queued = shown <= 1;
        let done = shown >= total;
        let state = if done {
            self.state.as_str()
        } else if queued {
            "queued"
        } else {
            "running"
        };
        let step = if queued { None } else { self.step_at(shown) };
        let updated_at = if done {
            FINISHED_AT.to_owned()
        } else if queued {
            CREATED_AT.to_owned()
        } else {
            event_at(shown)
        };
        let progress = if queued {
            r#"{"bytes_done":0,"bytes_total":null,"rows_done":0,"rows_total":null}"#
        } else {
            self.progress.as_str()
        };
        format!(
            r#"{{"id":{},"kind":{},"origin":"manual","state":"{state}","step":{},"progress":{progress},"slices":{},"attempts":{},"created_at":"{CREATED_AT}","started_at":{},"updated_at":"{updated_at}","finished_at":{},"error":{},"report":{},"cancel_requested":{cancel_requested},"params":{}}}"#,
            quoted(&self.id),
            quoted(&self.kind),
            optional(step.as_deref()),
            if queued { 0 } else { shown.saturating_sub(2) },
            if queued { 0 } else { 1 },
            if queued {
                "null".to_owned()
            } else {
                quoted(STARTED_AT)
            },
            if done {
                quoted(FINISHED_AT)
            } else {
                "null".into()
            },
            if done {
                optional(self.error.as_deref())
            } else {
                "null".into()
            },
            match (&self.report, done) {
                (Some(report), true) => report.clone(),
                _ => "null".into(),
            },
            self.params,
        )
    }

    /// The job as it was accepted: queued.
    pub fn accepted(&self) -> String {
        self.record_at(1, false)
    }

    /// The job once ended.
    pub fn finished(&self) -> String {
        self.record_at(usize::MAX, false)
    }
}

/// The time of event `seq`: a tenth of a second apart from the job's
/// creation.
fn event_at(seq: usize) -> String {
    let ms = seq * 100;
    format!("2026-11-21T02:00:{:02}.{:03}Z", ms / 1000 % 60, ms % 1000)
}

/// JSON `text` on one line, keys in their order: the whitespace between
/// tokens removed.
fn compact(text: &str) -> String {
    serde_json::from_str::<Value>(text).expect("JSON text");
    let (mut out, mut in_string, mut escaped) = (String::new(), false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match (escaped, c) {
                (true, _) => escaped = false,
                (false, '\\') => escaped = true,
                (false, '"') => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

/// `text` as a JSON string.
fn quoted(text: &str) -> String {
    Value::from(text).to_string()
}

/// `text` as a JSON string, or null.
fn optional(text: Option<&str>) -> String {
    text.map_or_else(|| "null".into(), quoted)
}

/// A fake worker: canned answers and scripted jobs, 404 for anything else.
pub struct FakeWorker {
    pub url: String,
    requests: Arc<Mutex<Vec<Request>>>,
    gate: Sender<()>,
    gate_timed_out: Arc<AtomicBool>,
}

/// What the server thread keeps.
struct Served {
    routes: Vec<(String, Answer)>,
    /// Scripted jobs, oldest first; whether each one's gate was opened and
    /// whether it was asked to cancel.
    jobs: Vec<(Job, bool, bool)>,
    gate: Receiver<()>,
    gate_timed_out: Arc<AtomicBool>,
    recorded: Arc<Mutex<Vec<Request>>>,
}

impl FakeWorker {
    /// A worker with these routes; the jobs they start are known to it.
    pub fn start(routes: Vec<(&str, Answer)>) -> FakeWorker {
        FakeWorker::with_jobs(routes, Vec::new())
    }

    /// A worker with these routes and, besides the jobs they start, these
    /// (started earlier, by the cron or a colleague).
    pub fn with_jobs(routes: Vec<(&str, Answer)>, jobs: Vec<Job>) -> FakeWorker {
        let listener = TcpListener::bind("127.0.0.1:0").unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let gate_timed_out = Arc::new(AtomicBool::new(false));
        let (gate, gate_rx) = mpsc::channel();
        let mut known: Vec<(Job, bool, bool)> =
            jobs.into_iter().map(|job| (job, false, false)).collect();
        for (_, answer) in &routes {
            if let Answer::Start(job) = answer {
                if !known.iter().any(|(other, _, _)| other.id == job.id) {
                    known.push((job.clone(), false, false));
                }
            }
        }
        let mut served = Served {
            routes: routes
                .into_iter()
                .map(|(line, answer)| (line.to_owned(), answer))
                .collect(),
            jobs: known,
            gate: gate_rx,
            gate_timed_out: Arc::clone(&gate_timed_out),
            recorded: Arc::clone(&requests),
        };
        thread::spawn(move || {
            for stream in listener.incoming() {
                let Ok(stream) = stream else { continue };
                served.serve(stream);
            }
        });
        FakeWorker {
            url,
            requests,
            gate,
            gate_timed_out,
        }
    }

    pub fn requests(&self) -> Vec<Request> {
        self.requests.lock().unwrap().clone()
    }

    pub fn lines(&self) -> Vec<String> {
        self.requests().into_iter().map(|r| r.line).collect()
    }

    /// Lets a held job go on to its end.
    pub fn open_gate(&self) {
        self.gate.send(()).unwrap();
    }

    /// Whether a held job waited for the gate in vain.
    pub fn gate_timed_out(&self) -> bool {
        self.gate_timed_out.load(Ordering::SeqCst)
    }

    /// The CLI run against this worker with `token`.
    pub fn command(&self, args: &[&str], token: &str) -> Command {
        command(
            args,
            &[("D1_VAULT_URL", &self.url), ("D1_VAULT_TOKEN", token)],
        )
    }

    /// Runs `d1-vault args...` to its end with the read token.
    pub fn run(&self, args: &[&str]) -> Run {
        finish(self.command(args, READ_TOKEN).spawn().unwrap())
    }

    /// Runs `d1-vault args...` to its end with the admin token.
    pub fn run_admin(&self, args: &[&str]) -> Run {
        finish(self.command(args, ADMIN_TOKEN).spawn().unwrap())
    }

    /// Runs `d1-vault args...` to its end with only these variables set.
    pub fn run_env(&self, args: &[&str], env: &[(&str, &str)]) -> Run {
        run(args, env)
    }
}

impl Served {
    /// Serves one connection: one request, one answer, then close.
    fn serve(&mut self, stream: TcpStream) {
        let mut reader = BufReader::new(stream);
        let mut first = String::new();
        if reader.read_line(&mut first).is_err() {
            return;
        }
        let mut parts = first.split_whitespace();
        let line = format!(
            "{} {}",
            parts.next().unwrap_or(""),
            parts.next().unwrap_or("")
        );
        let mut request = Request {
            line: line.clone(),
            authorization: None,
            accept: None,
            content_type: None,
            body: Vec::new(),
        };
        let mut length = 0;
        loop {
            let mut header = String::new();
            if reader.read_line(&mut header).is_err() || header.trim().is_empty() {
                break;
            }
            let (name, value) = header.split_once(':').unwrap_or((&header, ""));
            let text = value.trim().to_owned();
            let value = Some(text.clone());
            match name.trim().to_ascii_lowercase().as_str() {
                "content-length" => length = text.parse().unwrap_or(0),
                "authorization" => request.authorization = value,
                "accept" => request.accept = value,
                "content-type" => request.content_type = value,
                _ => {}
            }
        }
        let mut body = vec![0; length];
        if reader.read_exact(&mut body).is_err() {
            return;
        }
        request.body = body;
        self.recorded.lock().unwrap().push(request);
        let (status, body) = self.answer(&line);
        let content_type = if body.starts_with('{') {
            "application/json"
        } else {
            "text/html"
        };
        let mut stream = reader.into_inner();
        let _ = write!(
            stream,
            "HTTP/1.1 {status} X\r\ncontent-type: {content_type}\r\ncontent-length: {}\r\n\
             connection: close\r\n\r\n{body}",
            body.len()
        );
    }

    /// The status and body for `line`.
    fn answer(&mut self, line: &str) -> (u16, String) {
        match self.routes.iter_mut().find(|(route, _)| route == line) {
            Some((_, Answer::Body(status, body))) => return (*status, body.clone()),
            Some((_, Answer::Bodies(bodies))) if bodies.len() > 1 => return bodies.remove(0),
            Some((_, Answer::Bodies(bodies))) => return bodies[0].clone(),
            Some((_, Answer::Start(job))) => {
                return (202, format!(r#"{{"job":{}}}"#, job.accepted()));
            }
            None => {}
        }
        let not_found = (404, error("not_found", &format!("no route {line}")));
        let (method, target) = line.split_once(' ').unwrap_or((line, ""));
        let (path, query) = target.split_once('?').unwrap_or((target, ""));
        let number = |name: &str| {
            query
                .split('&')
                .find_map(|pair| pair.strip_prefix(name)?.strip_prefix('='))
                .and_then(|value| value.parse::<usize>().ok())
        };
        let segments: Vec<&str> = path.trim_matches('/').split('/').collect();
        match (method, segments.as_slice()) {
            ("GET", ["v1", "jobs"]) => {
                let limit = number("limit").unwrap_or(20);
                let jobs: Vec<String> = (0..self.jobs.len())
                    .rev()
                    .take(limit)
                    .map(|index| self.record(index))
                    .collect();
                (200, format!(r#"{{"jobs":[{}]}}"#, jobs.join(",")))
            }
            ("GET", ["v1", "jobs", id]) => match self.find(id) {
                Some(index) => (200, format!(r#"{{"job":{}}}"#, self.record(index))),
                None => no_job(id),
            },
            ("GET", ["v1", "jobs", id, "events"]) => match self.find(id) {
                Some(index) => {
                    let after = number("after").unwrap_or(0);
                    self.wait_if_held(index, after);
                    let (job, _, _) = &self.jobs[index];
                    let shown = self.shown(index);
                    let events: Vec<String> = job
                        .event_texts()
                        .into_iter()
                        .take(shown)
                        .skip(after)
                        .take(job.page)
                        .collect();
                    let record = self.record(index);
                    let state = serde_json::from_str::<Value>(&record).unwrap()["state"].clone();
                    (
                        200,
                        format!(
                            r#"{{"events":[{}],"state":{state},"job":{record}}}"#,
                            events.join(",")
                        ),
                    )
                }
                None => no_job(id),
            },
            ("POST", ["v1", "jobs", id, "cancel"]) => match self.find(id) {
                Some(index) => {
                    let (job, _, _) = &self.jobs[index];
                    if self.shown(index) >= job.event_texts().len() {
                        let message =
                            format!("job {id} already ended ({}); nothing to cancel", job.state);
                        return (409, error("conflict", &message));
                    }
                    self.jobs[index].2 = true;
                    (202, format!(r#"{{"job":{}}}"#, self.record(index)))
                }
                None => no_job(id),
            },
            _ => not_found,
        }
    }

    fn find(&self, id: &str) -> Option<usize> {
        self.jobs.iter().position(|(job, _, _)| job.id == id)
    }

    /// How many of job `index`'s events have happened.
    fn shown(&self, index: usize) -> usize {
        let (job, opened, _) = &self.jobs[index];
        match job.hold {
            Some(held) if !opened => held,
            _ => usize::MAX,
        }
    }

    /// Job `index` as it stands.
    fn record(&self, index: usize) -> String {
        let (job, _, cancel_requested) = &self.jobs[index];
        job.record_at(self.shown(index), *cancel_requested)
    }

    /// A poll for the events of a held job after those it may show waits
    /// for the test to open the gate.
    fn wait_if_held(&mut self, index: usize, after: usize) {
        let (job, opened, _) = &self.jobs[index];
        let Some(held) = job.hold else { return };
        if *opened || after < held {
            return;
        }
        if self.gate.recv_timeout(GATE_TIMEOUT).is_err() {
            self.gate_timed_out.store(true, Ordering::SeqCst);
        }
        self.jobs[index].1 = true;
    }
}

fn no_job(id: &str) -> (u16, String) {
    (
        404,
        error(
            "not_found",
            &format!(
                "no job {id}; jobs are kept for 30 days after they end (GET /v1/jobs lists them)"
            ),
        ),
    )
}

/// An API error body.
pub fn error(code: &str, message: &str) -> String {
    json!({"error": {"code": code, "message": message}}).to_string()
}

/// The CLI with only the given remote settings and keys (none inherited),
/// no proxy, stdin that is not a terminal and piped output.
pub fn command(args: &[&str], env: &[(&str, &str)]) -> Command {
    let mut command = Command::new(env!("CARGO_BIN_EXE_d1-vault"));
    command.args(args);
    for var in [
        "D1_VAULT_URL",
        "D1_VAULT_TOKEN",
        "BACKUP_ENCRYPTION_KEY",
        "BACKUP_ENCRYPTION_KEYS_PREVIOUS",
        "HTTP_PROXY",
        "http_proxy",
        "HTTPS_PROXY",
        "https_proxy",
        "ALL_PROXY",
        "all_proxy",
        "COLUMNS",
    ] {
        command.env_remove(var);
    }
    command
        .envs(env.iter().copied())
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped());
    command
}

/// Waits for a CLI run and collects what it printed.
pub fn finish(child: Child) -> Run {
    let output = child.wait_with_output().unwrap();
    Run {
        code: output.status.code().unwrap(),
        stdout: output.stdout,
        stderr: String::from_utf8(output.stderr).unwrap(),
    }
}

/// Runs the CLI to its end with only these variables set.
pub fn run(args: &[&str], env: &[(&str, &str)]) -> Run {
    finish(command(args, env).spawn().unwrap())
}
