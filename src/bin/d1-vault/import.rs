//! `d1-vault import`: bring a dump made elsewhere into a deployed worker's
//! backups, so it can be validated and restored like any other. The file
//! is read part by part ([`crate::parts`]) and uploaded in parts
//! ([`crate::upload`]); then the worker's import job is followed.

use lexopt::Arg::{Long, Short, Value};
use std::path::PathBuf;

use d1_vault::format::BackupId;

use crate::common::{
    keyring_from_env, missing, parse_backup_id, print_usage, text_value, CliError, Command,
};
use crate::job_record::{Job, State};
use crate::json::Json;
use crate::outcome::{failure, Conclusion};
use crate::parts::{ObjectParts, Opened};
use crate::remote::{remote_options, Auth, RemoteArgs, RemoteOption, QUICK_TIMEOUT};
use crate::render::text;
use crate::start::{following, job_exit_status, job_options, start, Start};
use crate::upload::upload;

pub const COMMAND: Command = Command {
    name: "import",
    summary: "upload a SQL dump (or an object made by 'encrypt') as a backup",
    usage: USAGE,
    run,
};

const USAGE: &str = concat!(
    "\
Usage: d1-vault import <file.sql | file.enc> [--id <backup-id>] [--note <text>]
                       [--no-wait] [--json] [--url <url>] [--token <token>]

Uploads a dump made outside the worker so that it becomes a backup of kind
'imported', which 'validate' and 'restore' treat like any other. A plain SQL
file ('sqlite3 app.db .dump', 'wrangler d1 export') is encrypted here first,
with BACKUP_ENCRYPTION_KEY (it must be a key the worker has); an object made
by 'd1-vault encrypt' is sent as it is. Once uploaded, the worker checks
the object in a job, like steps 2-5 of a restore (every chunk
authenticated, every statement against the allowlist), and lists it only if
it passes. Needs the admin token.

The object is uploaded in parts of the size the worker asks for (8 MiB),
one request each, so any size fits the platform's request limit; the file
is read (and encrypted) part by part, never whole. Progress (parts, bytes, rate) goes to stderr. A part
that gets no answer, or HTTP 408, 429 or 5xx, is sent again after 1, 2, 4,
8 and 16 s. If the upload fails for good, or on Ctrl-C, the upload is
discarded: nothing is imported and nothing is left in the bucket.

",
    following!(),
    "
Options:
      --id <backup-id>   the id for a plain SQL file (default: import-<UTC time>);
                         an encrypted object carries its own id
      --note <text>      store a note in the manifest
",
    job_options!(),
    remote_options!(),
    "  -h, --help             show this help

",
    job_exit_status!(),
    "
Example, moving an SQLite database into D1:
  sqlite3 app.db .dump > app.sql
  d1-vault import app.sql --note \"from app.db\"
  d1-vault restore <id> --confirm <database>
"
);

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut remote, mut file, mut id, mut note, mut no_wait): (
        RemoteArgs,
        Option<PathBuf>,
        Option<BackupId>,
        Option<String>,
        bool,
    ) = (RemoteArgs::default(), None, None, None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("no-wait") => no_wait = true,
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
    // Configuration first: no point reading the file for requests that cannot be sent.
    remote.client(Auth::Token, None)?;
    let mut object = match ObjectParts::open(&file)? {
        Opened::Object(_) if id.is_some() => {
            return Err(CliError::Usage(
                "--id is for plain SQL files; an encrypted object carries its own id".into(),
            ))
        }
        Opened::Object(object) => object,
        Opened::Sql(sql) => {
            let keyring = keyring_from_env()?;
            let id = match id {
                Some(id) => id,
                None => default_id()?,
            };
            sql.encrypt(keyring.current(), id)?
        }
    };
    let how = Start {
        remote: &remote,
        no_wait,
        database: None,
        timeout: Some(QUICK_TIMEOUT),
    };
    start(how, |client| {
        upload(&remote, client, &mut object, note.as_deref())
    })
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

/// The end of an import job: the new backup from the job's report (its
/// manifest, or a summary of it), or why there is none.
pub fn conclude(job: &Job) -> Conclusion {
    match (&job.state, &job.report) {
        (State::Succeeded, Some(report)) => Conclusion::ok(summary(report)),
        _ => failure(
            job,
            "nothing was imported and nothing is listed; check the file with 'd1-vault \
             verify' (an encrypted object) or sqlite3 (a dump), then import it again",
        ),
    }
}

/// The imported backup, and how to restore it.
fn summary(report: &Json) -> String {
    let id = text(report.get("id"));
    let (tables, rows) = match report.get("tables") {
        Some(Json::Array(tables)) => (
            tables.len().to_string(),
            tables
                .iter()
                .filter_map(|t| t.get("rows").and_then(Json::as_u64))
                .sum::<u64>()
                .to_string(),
        ),
        tables => (text(tables), text(report.get("rows"))),
    };
    format!(
        "Imported {id}: {tables} tables, {rows} rows, validated by the worker.\n\
         Restore it with: d1-vault restore {id} --confirm <database>\n"
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::outcome::tests::job;

    #[test]
    fn an_import_ends_with_the_new_backup_or_why_there_is_none() {
        let report = r#","report":{"id":"import-1","tables":[{"rows":4},{"rows":6}]}"#;
        let done = conclude(&job("import", "succeeded", report));
        assert!(done.result.is_ok());
        assert_eq!(
            done.text,
            "Imported import-1: 2 tables, 10 rows, validated by the worker.\n\
             Restore it with: d1-vault restore import-1 --confirm <database>\n"
        );
        let failed = conclude(&job("import", "failed", r#","error":"line 3: ATTACH""#));
        let err = failed.result.unwrap_err().to_string();
        assert!(
            err.contains("line 3: ATTACH; nothing was imported"),
            "{err}"
        );
    }
}
