//! What the commands that talk to a deployed worker share: its URL and token,
//! from options or the environment; one HTTP client with the CLI's timeouts;
//! and the worker's answers mapped to exit statuses. An API error
//! (`{"error":{"code","message"}}`, any 4xx or 5xx) is exit 1 with the
//! server's message; a worker that cannot be reached is exit 3, naming the URL.

use std::env;
use std::ffi::OsString;
use std::io::ErrorKind;
use std::time::Duration;

use lexopt::Arg::{self, Long, Short};
use percent_encoding::{utf8_percent_encode, AsciiSet, NON_ALPHANUMERIC};
use ureq::http::StatusCode;

use crate::common::{print_usage, CliError};
use crate::json::Json;

/// The environment variable with the worker's base URL.
pub const URL_VAR: &str = "D1_VAULT_URL";
/// The environment variable with the API token.
pub const TOKEN_VAR: &str = "D1_VAULT_TOKEN";

/// How long name resolution, and then the TCP and TLS handshakes, may take.
const CONNECT_TIMEOUT: Duration = Duration::from_secs(10);
/// How long a quick request (all but an import's upload) may take in all:
/// ample for any read route or for starting a job, and a connection that
/// hangs still ends.
pub const QUICK_TIMEOUT: Duration = Duration::from_secs(120);

/// What is escaped in a path segment or query value: everything but RFC 3986's
/// unreserved characters, so a backup id goes out as it is and nothing typed
/// can leave its segment.
const ESCAPED: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'-')
    .remove(b'.')
    .remove(b'_')
    .remove(b'~');

/// The Accept header of every request.
const JSON: &str = "application/json";

/// Longest piece of an unexpected (non-API) body quoted in an error.
const SNIPPET_CHARS: usize = 160;

/// Usage text for the options every remote command takes.
macro_rules! remote_options {
    () => {
        "      --url <url>        the worker, like https://d1-vault-production.<account>.workers.dev
                         (default: $D1_VAULT_URL)
      --token <token>    the worker's READ_TOKEN, or ADMIN_TOKEN to back up,
                         restore, import, cancel and delete
                         (default: $D1_VAULT_TOKEN, the safer way: options show in ps)
"
    };
}
pub(crate) use remote_options;

/// Usage text for the exit statuses of the remote commands.
macro_rules! remote_exit_status {
    () => {
        "Exit status: 0 ok; 1 the worker refused or failed the request (any HTTP 4xx
or 5xx; the message and code are the worker's); 2 usage error; 3 no URL or
token, or the worker cannot be reached.
"
    };
}
pub(crate) use remote_exit_status;

/// One of the options every remote command takes.
#[derive(Debug, Clone, Copy)]
pub enum RemoteOption {
    /// `--url <url>`.
    Url,
    /// `--token <token>`.
    Token,
    /// `--json`.
    Json,
}

impl RemoteOption {
    /// The common option `arg` is, if it is one. Commands match their own
    /// options first and hand the rest here.
    pub fn of(arg: &Arg<'_>) -> Option<RemoteOption> {
        match arg {
            Long("url") => Some(RemoteOption::Url),
            Long("token") => Some(RemoteOption::Token),
            Long("json") => Some(RemoteOption::Json),
            _ => None,
        }
    }
}

/// The common options, as given.
#[derive(Debug, Default)]
pub struct RemoteArgs {
    url: Option<OsString>,
    token: Option<OsString>,
    /// `--json`: print the worker's JSON answer, indented, instead of text.
    pub json: bool,
}

/// Whether a command sends the API token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Auth {
    /// Every `/v1` route: the token must be configured.
    Token,
    /// `/health`: public, so no token is needed or sent.
    Public,
}

impl RemoteArgs {
    /// Parses the whole command line of a command that takes only the common
    /// options and `-h`/`--help`. `None` means the help was asked for and
    /// `usage` printed: the command has nothing more to do.
    pub fn parse_plain(
        parser: &mut lexopt::Parser,
        usage: &str,
    ) -> Result<Option<RemoteArgs>, CliError> {
        let mut remote = RemoteArgs::default();
        while let Some(arg) = parser.next()? {
            match arg {
                Short('h') | Long("help") => {
                    print_usage(usage)?;
                    return Ok(None);
                }
                arg => match RemoteOption::of(&arg) {
                    Some(option) => remote.set(option, parser)?,
                    None => return Err(arg.unexpected().into()),
                },
            }
        }
        Ok(Some(remote))
    }

    /// Records `option`, reading its value from `parser` if it takes one.
    pub fn set(
        &mut self,
        option: RemoteOption,
        parser: &mut lexopt::Parser,
    ) -> Result<(), CliError> {
        match option {
            RemoteOption::Url => self.url = Some(parser.value()?),
            RemoteOption::Token => self.token = Some(parser.value()?),
            RemoteOption::Json => self.json = true,
        }
        Ok(())
    }

    /// A client for the worker. `timeout` bounds each request as a whole;
    /// `None` waits as long as the worker takes (connecting is bounded anyway).
    pub fn client(&self, auth: Auth, timeout: Option<Duration>) -> Result<Client, CliError> {
        let url = setting(self.url.as_ref(), "--url", URL_VAR)?.ok_or_else(|| {
            CliError::Io(format!(
                "no worker URL: pass --url or set {URL_VAR} \
                 (like https://d1-vault-production.<account>.workers.dev)"
            ))
        })?;
        let base = url.value.trim_end_matches('/');
        let host = base
            .strip_prefix("https://")
            .or_else(|| base.strip_prefix("http://"));
        if host.is_none_or(str::is_empty) {
            return Err(url.source.error(format!(
                "{} {:?} is not an http(s) URL: give the worker's address, \
                 like https://d1-vault-production.<account>.workers.dev",
                url.source.name(),
                url.value
            )));
        }
        let token = match auth {
            Auth::Public => None,
            Auth::Token => {
                let token =
                    setting(self.token.as_ref(), "--token", TOKEN_VAR)?.ok_or_else(|| {
                        CliError::Io(format!(
                            "no API token: pass --token or set {TOKEN_VAR} (the worker's \
                         READ_TOKEN, or ADMIN_TOKEN to back up, restore and delete)"
                        ))
                    })?;
                if !token.value.bytes().all(|b| b.is_ascii_graphic()) {
                    return Err(token.source.error(format!(
                        "{} contains spaces or control characters; it must be the token alone",
                        token.source.name()
                    )));
                }
                Some(token.value)
            }
        };
        let config = ureq::Agent::config_builder()
            .http_status_as_error(false)
            .timeout_resolve(Some(CONNECT_TIMEOUT))
            .timeout_connect(Some(CONNECT_TIMEOUT))
            .timeout_global(timeout)
            .user_agent(concat!("d1-vault/", env!("CARGO_PKG_VERSION")))
            .build();
        Ok(Client {
            base: base.to_owned(),
            token,
            timeout,
            agent: config.into(),
        })
    }
}

/// Where a setting came from, for its error messages and exit status.
#[derive(Debug, Clone, Copy)]
enum Source {
    /// The command line option of that name.
    Option(&'static str),
    /// The environment variable of that name.
    Env(&'static str),
}

impl Source {
    fn name(self) -> &'static str {
        match self {
            Source::Option(name) | Source::Env(name) => name,
        }
    }

    /// A bad value: a usage error on the command line, a configuration
    /// error in the environment.
    fn error(self, message: String) -> CliError {
        match self {
            Source::Option(_) => CliError::Usage(message),
            Source::Env(_) => CliError::Io(message),
        }
    }
}

/// A setting's value and where it came from.
struct Setting {
    value: String,
    source: Source,
}

/// The option's value if given, else the environment variable's; an empty
/// variable counts as unset.
fn setting(
    option: Option<&OsString>,
    name: &'static str,
    var: &'static str,
) -> Result<Option<Setting>, CliError> {
    if let Some(value) = option {
        let value = value
            .to_str()
            .ok_or_else(|| CliError::Usage(format!("{name} must be text")))?;
        return Ok(Some(Setting {
            value: value.to_owned(),
            source: Source::Option(name),
        }));
    }
    match env::var(var) {
        Ok(value) if value.is_empty() => Ok(None),
        Ok(value) => Ok(Some(Setting {
            value,
            source: Source::Env(var),
        })),
        Err(env::VarError::NotPresent) => Ok(None),
        Err(env::VarError::NotUnicode(_)) => Err(CliError::Io(format!("{var} is not valid text"))),
    }
}

/// `text` escaped for use as one path segment or one query value.
pub fn escape(text: &str) -> String {
    utf8_percent_encode(text, ESCAPED).to_string()
}

/// An HTTP client for one worker.
pub struct Client {
    base: String,
    token: Option<String>,
    timeout: Option<Duration>,
    agent: ureq::Agent,
}

impl Client {
    /// `GET <base><path>`; `path` starts with `/` and is already escaped.
    pub fn get(&self, path: &str) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.base);
        let result = self.authorize(self.agent.get(&url)).call();
        self.reply("GET", url, result)
    }

    /// `POST <base><path>` with a JSON body.
    pub fn post(&self, path: &str, body: &serde_json::Value) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.base);
        let result = self
            .authorize(self.agent.post(&url))
            .content_type("application/json")
            .send(body.to_string());
        self.reply("POST", url, result)
    }

    /// `PUT <base><path>` with a binary body.
    pub fn put_bytes(&self, path: &str, body: &[u8]) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.base);
        let result = self
            .authorize(self.agent.put(&url))
            .content_type("application/octet-stream")
            .send(body);
        self.reply("PUT", url, result)
    }

    /// `POST <base><path>` with no body.
    pub fn post_empty(&self, path: &str) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.base);
        let result = self.authorize(self.agent.post(&url)).send_empty();
        self.reply("POST", url, result)
    }

    /// `DELETE <base><path>`.
    pub fn delete(&self, path: &str) -> Result<Reply, CliError> {
        let url = format!("{}{path}", self.base);
        let result = self.authorize(self.agent.delete(&url)).call();
        self.reply("DELETE", url, result)
    }

    /// Reads the answer to `method url` whatever its status; no answer at
    /// all is a configuration error (exit 3) naming the request.
    fn reply(
        &self,
        method: &str,
        url: String,
        result: Result<ureq::http::Response<ureq::Body>, ureq::Error>,
    ) -> Result<Reply, CliError> {
        let failed = |err: ureq::Error| {
            CliError::Io(format!(
                "no answer from {method} {url}: {}",
                self.transport_reason(err)
            ))
        };
        let mut response = result.map_err(failed)?;
        let status = response.status();
        let body = response.body_mut().read_to_vec().map_err(failed)?;
        Ok(Reply {
            status,
            request: format!("{method} {url}"),
            base: self.base.clone(),
            body,
        })
    }

    /// `request` asking for JSON, with the token if any.
    fn authorize<B>(&self, request: ureq::RequestBuilder<B>) -> ureq::RequestBuilder<B> {
        let request = request.header("Accept", JSON);
        match &self.token {
            Some(token) => request.header("Authorization", format!("Bearer {token}")),
            None => request,
        }
    }

    /// Why a request got no answer, in an operator's words.
    fn transport_reason(&self, err: ureq::Error) -> String {
        match err {
            ureq::Error::HostNotFound => "host not found (DNS)".into(),
            ureq::Error::Io(err) if err.kind() == ErrorKind::ConnectionRefused => {
                "connection refused".into()
            }
            ureq::Error::Io(err) => err.to_string(),
            ureq::Error::Timeout(ureq::Timeout::Resolve | ureq::Timeout::Connect) => {
                format!("could not connect within {} s", CONNECT_TIMEOUT.as_secs())
            }
            ureq::Error::Timeout(_) => match self.timeout {
                Some(limit) => format!("no complete answer within {} s", limit.as_secs()),
                None => "timed out".into(),
            },
            err => err.to_string(),
        }
    }
}

/// A worker's answer: its status and body.
pub struct Reply {
    /// The HTTP status.
    pub status: StatusCode,
    /// `METHOD url`, for messages.
    request: String,
    base: String,
    body: Vec<u8>,
}

impl Reply {
    /// The JSON body of a 2xx answer; for any other status, the worker's
    /// error (exit 1).
    pub fn success(self) -> Result<Json, CliError> {
        if self.status.is_success() {
            self.json()
        } else {
            Err(self.error())
        }
    }

    /// The body as JSON, whatever the status. A body that is not JSON means
    /// the URL is not a d1-vault worker: a configuration error (exit 3).
    pub fn json(&self) -> Result<Json, CliError> {
        Json::parse(&self.body).map_err(|_| {
            CliError::Io(format!(
                "{} answered HTTP {} without JSON: is {} a d1-vault worker? ({})",
                self.request,
                self.status.as_u16(),
                self.base,
                self.snippet()
            ))
        })
    }

    /// Whether the same request may succeed if sent again: the worker (or
    /// the platform in front of it) failed (5xx), was too busy (429) or
    /// timed out waiting for the request (408).
    pub fn worth_retrying(&self) -> bool {
        self.status.is_server_error()
            || self.status == StatusCode::TOO_MANY_REQUESTS
            || self.status == StatusCode::REQUEST_TIMEOUT
    }

    /// `METHOD url` of the request this answers, for messages.
    pub fn request(&self) -> &str {
        &self.request
    }

    /// The `code` of an API error body (`{"error":{"code":...}}`), if it is one.
    pub fn error_code(&self) -> Option<String> {
        let json = Json::parse(&self.body).ok()?;
        let code = json.get("error")?.get("code")?.as_str()?;
        Some(code.to_owned())
    }

    /// The worker's refusal: `<message> (HTTP <status> <code>)`, or, for a
    /// body that is not an API error (a proxy's page), the status and a
    /// piece of the body.
    pub fn error(&self) -> CliError {
        let json = Json::parse(&self.body).ok();
        let error = json.as_ref().and_then(|json| json.get("error"));
        let field = |name| error.and_then(|e| e.get(name)).and_then(Json::as_str);
        match (field("message"), field("code")) {
            (Some(message), code) => CliError::Refused(format!(
                "{message} (HTTP {} {})",
                self.status.as_u16(),
                code.unwrap_or("?")
            )),
            (None, _) => CliError::Refused(format!(
                "{} answered HTTP {} {}: {}",
                self.request,
                self.status.as_u16(),
                self.status.canonical_reason().unwrap_or(""),
                self.snippet()
            )),
        }
    }

    /// The start of the body on one line, for errors about unexpected bodies.
    fn snippet(&self) -> String {
        let text = String::from_utf8_lossy(&self.body);
        let words: Vec<&str> = text.split_whitespace().collect();
        let line = words.join(" ");
        match line.char_indices().nth(SNIPPET_CHARS) {
            None if line.is_empty() => "empty body".into(),
            None => line,
            Some((cut, _)) => format!("{}...", &line[..cut]),
        }
    }
}
