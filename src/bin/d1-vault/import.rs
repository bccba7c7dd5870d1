//! `d1-vault import`: bring a dump made elsewhere into a deployed worker's
//! backups, so it can be validated and restored like any other.

use lexopt::Arg::{Long, Short, Value};
use std::ffi::OsString;
use std::path::PathBuf;

use d1_vault::format::{BackupId, Encryptor, MAGIC};

use crate::common::{keyring_from_env, missing, parse_backup_id, print_usage, CliError, Command};
use crate::json::Json;
use crate::remote::{escape, remote_exit_status, remote_options, Auth, RemoteArgs, RemoteOption};
use crate::render::{human_bytes, text, write_stdout};

pub const COMMAND: Command = Command {
    name: "import",
    summary: "upload a SQL dump (or an object made by 'encrypt') as a backup",
    usage: USAGE,
    run,
};

/// Request bodies above this are refused by Workers on the Free and Pro plans.
const PLATFORM_BODY_LIMIT: u64 = 100 * 1000 * 1000;

const USAGE: &str = concat!(
    "\
Usage: d1-vault import <file.sql | file.enc> [--id <backup-id>] [--note <text>] [--json]
                       [--url <url>] [--token <token>]

Uploads a dump made outside the worker so that it becomes a backup of kind
'imported', which 'validate' and 'restore' treat like any other. A plain SQL
file ('sqlite3 app.db .dump', 'wrangler d1 export') is encrypted here first,
with BACKUP_ENCRYPTION_KEY (it must be a key the worker has); an object made
by 'd1-vault encrypt' is sent as it is. The worker checks the object like
steps 2-5 of a restore (every chunk authenticated, every statement against
the allowlist) and keeps it only if it passes. Needs the admin token.

The upload is one request: Workers accept bodies up to 100 MB (Free, Pro),
200 MB (Business), 500 MB (Enterprise). Beyond that, load the dump with
'wrangler d1 execute <db> --remote --file dump.sql' and back it up.

Options:
      --id <backup-id>   the id for a plain SQL file (default: import-<UTC time>);
                         an encrypted object carries its own id
      --note <text>      store a note in the manifest
      --json             print the new manifest as the worker sent it
",
    remote_options!(),
    "  -h, --help             show this help

",
    remote_exit_status!(),
    "
Example, moving an SQLite database into D1:
  sqlite3 app.db .dump > app.sql
  d1-vault import app.sql --note \"from app.db\"
  d1-vault restore <id> --confirm <database>
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut file, mut id, mut note): (
        RemoteArgs,
        Option<PathBuf>,
        Option<BackupId>,
        Option<String>,
    ) = (RemoteArgs::default(), None, None, None);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("id") => id = Some(parse_backup_id(parser.value()?)?),
            Long("note") => note = Some(text_value(parser.value()?, "--note")?),
            Value(value) if file.is_none() => file = Some(PathBuf::from(value)),
            arg => match RemoteOption::of(&arg) {
                Some(option) => remote.set(option, parser)?,
                None => return Err(arg.unexpected().into()),
            },
        }
    }
    let file = file.ok_or_else(|| missing("the dump or object file to import"))?;
    let client = remote.client(Auth::Token, None)?;
    let bytes =
        std::fs::read(&file).map_err(|e| CliError::io(format!("reading {}", file.display()), e))?;
    let object = if bytes.starts_with(&MAGIC) {
        if id.is_some() {
            return Err(CliError::Usage(
                "--id is for plain SQL files; an encrypted object carries its own id".into(),
            ));
        }
        bytes
    } else {
        let keyring = keyring_from_env()?;
        let id = match id {
            Some(id) => id,
            None => default_id()?,
        };
        let mut encryptor = Encryptor::with_random_salt(keyring.current(), &id)
            .map_err(|e| CliError::Usage(format!("cannot draw a random salt: {e}")))?;
        let mut object = Vec::with_capacity(bytes.len() + bytes.len() / 1000 + 256);
        encryptor.update(&bytes, &mut object);
        encryptor.finish(&mut object);
        object
    };
    if object.len() as u64 > PLATFORM_BODY_LIMIT {
        eprintln!(
            "d1-vault: warning: {} is over the 100 MB request limit of the Free and Pro plans",
            human_bytes(object.len() as u64)
        );
    }
    let path = match &note {
        Some(note) => format!("/v1/backups/import?note={}", escape(note)),
        None => "/v1/backups/import".to_owned(),
    };
    let manifest = client.post_bytes(&path, &object)?.success()?;
    if remote.json {
        return write_stdout(&format!("{}\n", manifest.pretty()));
    }
    write_stdout(&summary(&manifest))
}

fn text_value(value: OsString, option: &str) -> Result<String, CliError> {
    value
        .into_string()
        .map_err(|_| CliError::Usage(format!("{option} must be text")))
}

/// `import-YYYYMMDDTHHMMSSZ` in UTC.
fn default_id() -> Result<BackupId, CliError> {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_err(|_| CliError::Usage("the system clock is before 1970".into()))?;
    let c = d1_vault::time::Timestamp::from_millis(now.as_millis() as i64).civil();
    let id = format!(
        "import-{:04}{:02}{:02}T{:02}{:02}{:02}Z",
        c.year, c.month, c.day, c.hour, c.minute, c.second
    );
    BackupId::parse(&id).map_err(|e| CliError::Usage(e.to_string()))
}

fn summary(manifest: &Json) -> String {
    let id = text(manifest.get("id"));
    let tables = manifest.get("tables").map(Json::items).unwrap_or_default();
    let rows: u64 = tables
        .iter()
        .filter_map(|t| t.get("rows").and_then(Json::as_u64))
        .sum();
    format!(
        "Imported {id}: {} tables, {rows} rows, validated by the worker.\nRestore it with: d1-vault restore {id} --confirm <database>\n",
        tables.len()
    )
}
