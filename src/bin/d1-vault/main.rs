//! `d1-vault`, the operator CLI: decrypt, verify, encrypt and inspect backup
//! objects, and make keys, on the operator's machine; and list, show, take,
//! validate, restore, delete and check backups through a deployed worker's
//! HTTP API, following the worker's jobs to their end.
//!
//! One file per command; each exports a [`common::Command`] with its name,
//! help and entry point, and `COMMANDS` below lists them. Adding a command is
//! one file, one `mod` line and one entry in `COMMANDS`.
//!
//! The CLI is native only. The wasm32 build (which may build bins) gets an
//! empty `main`.

#[cfg(not(target_arch = "wasm32"))]
mod backup;
#[cfg(not(target_arch = "wasm32"))]
mod cancel;
#[cfg(not(target_arch = "wasm32"))]
mod common;
#[cfg(not(target_arch = "wasm32"))]
mod decrypt;
#[cfg(not(target_arch = "wasm32"))]
mod delete;
#[cfg(not(target_arch = "wasm32"))]
mod encrypt;
#[cfg(not(target_arch = "wasm32"))]
mod follow;
#[cfg(not(target_arch = "wasm32"))]
mod health;
#[cfg(not(target_arch = "wasm32"))]
mod import;
#[cfg(not(target_arch = "wasm32"))]
mod inspect;
#[cfg(not(target_arch = "wasm32"))]
mod interrupt;
#[cfg(not(target_arch = "wasm32"))]
mod job;
#[cfg(not(target_arch = "wasm32"))]
mod job_record;
#[cfg(not(target_arch = "wasm32"))]
mod jobs;
#[cfg(not(target_arch = "wasm32"))]
mod json;
#[cfg(not(target_arch = "wasm32"))]
mod keygen;
#[cfg(not(target_arch = "wasm32"))]
mod list;
#[cfg(not(target_arch = "wasm32"))]
mod outcome;
#[cfg(not(target_arch = "wasm32"))]
mod parts;
#[cfg(not(target_arch = "wasm32"))]
mod progress;
#[cfg(not(target_arch = "wasm32"))]
mod remote;
#[cfg(not(target_arch = "wasm32"))]
mod render;
#[cfg(not(target_arch = "wasm32"))]
mod restore;
#[cfg(not(target_arch = "wasm32"))]
mod restore_report;
#[cfg(not(target_arch = "wasm32"))]
mod retention;
#[cfg(not(target_arch = "wasm32"))]
mod retry;
#[cfg(not(target_arch = "wasm32"))]
mod screen;
#[cfg(not(target_arch = "wasm32"))]
mod show;
#[cfg(not(target_arch = "wasm32"))]
mod start;
#[cfg(not(target_arch = "wasm32"))]
mod status;
#[cfg(not(target_arch = "wasm32"))]
mod upload;
#[cfg(not(target_arch = "wasm32"))]
mod upload_progress;
#[cfg(not(target_arch = "wasm32"))]
mod validate;
#[cfg(not(target_arch = "wasm32"))]
mod verify;
#[cfg(not(target_arch = "wasm32"))]
mod watch;

#[cfg(target_arch = "wasm32")]
fn main() {}

/// Every command, in the order the help lists them.
#[cfg(not(target_arch = "wasm32"))]
const COMMANDS: &[common::Command] = &[
    decrypt::COMMAND,
    verify::COMMAND,
    encrypt::COMMAND,
    inspect::COMMAND,
    keygen::COMMAND,
    list::COMMAND,
    show::COMMAND,
    backup::COMMAND,
    validate::COMMAND,
    restore::COMMAND,
    import::COMMAND,
    jobs::COMMAND,
    job::COMMAND,
    cancel::COMMAND,
    delete::COMMAND,
    retention::COMMAND,
    status::COMMAND,
    health::COMMAND,
];

#[cfg(not(target_arch = "wasm32"))]
const HEADER: &str = "\
d1-vault: encrypted, verifiable backups of a Cloudflare D1 database (operator CLI)

Usage: d1-vault <command> [options]
       d1-vault <command> --help

Commands:
";

#[cfg(not(target_arch = "wasm32"))]
const FOOTER: &str = "
Keys (decrypt, verify, encrypt, import of plain SQL) come from the environment, as in the worker:
  BACKUP_ENCRYPTION_KEY            the current key, 64 hex characters
  BACKUP_ENCRYPTION_KEYS_PREVIOUS  older keys, comma-separated, to read older backups

The worker (list ... health) is found through the environment or --url/--token:
  D1_VAULT_URL     its address, like https://d1-vault-production.<account>.workers.dev
  D1_VAULT_TOKEN   its READ_TOKEN, or ADMIN_TOKEN to back up, import, restore, cancel
                   and delete

Exit status, for scripts:
    0  success
    1  the object failed verification (authentication, format, or manifest
       mismatch), the worker refused or failed the request (HTTP 4xx or 5xx),
       or a job ended failed, rolled_back, rollback_failed or cancelled
    2  usage error (wrong command line)
    3  I/O or configuration error (unreadable file, missing or invalid key
       variable, no worker URL or token, a worker that cannot be reached)
  130  Ctrl-C stopped following a job; the job goes on in the worker

Backing up, validating, restoring and importing run as jobs in the worker:
the CLI follows each to its end (not with --no-wait). 'd1-vault jobs' lists
them, 'd1-vault job <id> --follow' follows one again, 'd1-vault cancel <id>'
stops one.

Errors are one line on stderr: 'd1-vault: <reason>'.
";

#[cfg(not(target_arch = "wasm32"))]
fn main() -> std::process::ExitCode {
    use std::process::ExitCode;

    match run() {
        Ok(()) => ExitCode::SUCCESS,
        Err((command, err)) => {
            let hint = match (&err, command) {
                (common::CliError::Usage(_), Some(name)) => {
                    format!(" (see 'd1-vault {name} --help')")
                }
                (common::CliError::Usage(_), None) => " (see 'd1-vault --help')".into(),
                _ => String::new(),
            };
            eprintln!("d1-vault: {err}{hint}");
            ExitCode::from(err.exit_code())
        }
    }
}

/// Dispatches to a command; an error comes with the command it happened in.
#[cfg(not(target_arch = "wasm32"))]
fn run() -> Result<(), (Option<&'static str>, common::CliError)> {
    use common::CliError;
    use lexopt::Arg::{Long, Short, Value};

    let mut parser = lexopt::Parser::from_env();
    let first = parser.next().map_err(|err| (None, err.into()))?;
    let name = match first {
        Some(Value(value)) => value
            .into_string()
            .map_err(|value| (None, CliError::Usage(format!("unknown command {value:?}"))))?,
        Some(Short('h') | Long("help")) => return print_help().map_err(|err| (None, err)),
        Some(Long("version")) => {
            println!("d1-vault {}", env!("CARGO_PKG_VERSION"));
            return Ok(());
        }
        Some(arg) => return Err((None, arg.unexpected().into())),
        None => {
            return Err((None, CliError::Usage("missing command".into())));
        }
    };
    if name == "help" {
        return match parser.next().map_err(|err| (None, err.into()))? {
            Some(Value(verb)) => match COMMANDS.iter().find(|c| verb == c.name) {
                Some(command) => common::print_usage(command.usage).map_err(|err| (None, err)),
                None => Err((None, CliError::Usage(format!("unknown command {verb:?}")))),
            },
            _ => print_help().map_err(|err| (None, err)),
        };
    }
    let command = COMMANDS
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| (None, CliError::Usage(format!("unknown command '{name}'"))))?;
    (command.run)(&mut parser).map_err(|err| (Some(command.name), err))
}

#[cfg(not(target_arch = "wasm32"))]
fn print_help() -> Result<(), common::CliError> {
    let width = COMMANDS.iter().map(|c| c.name.len()).max().unwrap_or(0);
    let mut help = String::from(HEADER);
    for command in COMMANDS {
        help.push_str(&format!("  {:width$}  {}\n", command.name, command.summary));
    }
    help.push_str(FOOTER);
    common::print_usage(&help)
}
