//! `d1-vault verify`: authenticate a backup object completely, write nothing.

use std::path::PathBuf;

use d1_vault::format::{BackupId, DecryptSummary};
use lexopt::Arg::{Long, Short, Value};
use serde_json::json;

use crate::common::{
    expected_id, keyring_from_env, missing, parse_backup_id, print_usage, read_object, CliError,
    Command, Expectations, Manifest,
};

pub const COMMAND: Command = Command {
    name: "verify",
    summary: "authenticate a backup object and report its sizes and digests",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: d1-vault verify <file> [--manifest <file>] [--id <backup-id>] [--json]

Reads the whole object, authenticating the header and every chunk, and writes
nothing. Reports the backup id, key id, chunk count, and the byte counts and
SHA-256 digests of the SQL (plaintext) and of the object (ciphertext), the
figures a manifest records. Keys come from BACKUP_ENCRYPTION_KEY and
BACKUP_ENCRYPTION_KEYS_PREVIOUS.

Options:
      --manifest <file>    the backup's manifest JSON: checks the object's size
                           (first), key id, backup id, and both SHA-256 digests
      --id <backup-id>     fail unless the object belongs to this backup
      --json               print the report (or the failure) as one JSON object
                           on stdout: {\"ok\":true,...} or
                           {\"ok\":false,\"error\":{\"code\",\"stage\",\"message\"}}
  -h, --help               show this help

Exit status: 0 ok; 1 the object failed verification (authentication, format
or manifest mismatch); 2 usage error; 3 I/O or configuration error.

Example:
  d1-vault verify backup.sql.enc --manifest backup.manifest.json --json
";

struct Args {
    input: PathBuf,
    id: Option<BackupId>,
    manifest: Option<PathBuf>,
    json: bool,
}

fn parse(parser: &mut lexopt::Parser) -> Result<Option<Args>, CliError> {
    let (mut input, mut id, mut manifest, mut json) = (None, None, None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Long("id") => id = Some(parse_backup_id(parser.value()?)?),
            Long("manifest") => manifest = Some(PathBuf::from(parser.value()?)),
            Long("json") => json = true,
            Value(value) if input.is_none() => input = Some(PathBuf::from(value)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Some(Args {
        input: input.ok_or_else(|| missing("the object file to verify"))?,
        id,
        manifest,
        json,
    }))
}

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(args) = parse(parser)? else {
        return print_usage(USAGE);
    };
    let manifest = args.manifest.as_deref().map(Manifest::load).transpose()?;
    let backup_id = expected_id(args.id, manifest.as_ref())?;
    let keyring = keyring_from_env()?;
    let expect = Expectations {
        keyring: &keyring,
        backup_id: backup_id.as_ref(),
        manifest: manifest.as_ref(),
    };
    let result = read_object(&args.input, &expect, &mut |_| Ok(()));
    let file = args.input.display().to_string();
    match (&result, args.json) {
        (Ok(summary), true) => println!("{}", report_json(&file, summary, manifest.is_some())),
        (Ok(summary), false) => print!("{}", report_text(&file, summary, manifest.is_some())),
        (
            Err(CliError::Failed {
                message,
                code,
                stage,
            }),
            true,
        ) => println!(
            "{}",
            json!({
                "ok": false,
                "file": file,
                "error": { "code": code, "stage": stage, "message": message },
            })
        ),
        (Err(_), _) => {}
    }
    result.map(drop)
}

fn report_json(file: &str, summary: &DecryptSummary, manifest_checked: bool) -> serde_json::Value {
    json!({
        "ok": true,
        "file": file,
        "backup_id": summary.backup_id,
        "key_id": summary.key_id,
        "chunk_size": summary.chunk_size,
        "chunks": summary.chunks,
        "plaintext": { "bytes": summary.plaintext_bytes, "sha256": summary.plaintext_sha256 },
        "ciphertext": { "bytes": summary.ciphertext_bytes, "sha256": summary.ciphertext_sha256 },
        "manifest_checked": manifest_checked,
    })
}

fn report_text(file: &str, summary: &DecryptSummary, manifest_checked: bool) -> String {
    let manifest = if manifest_checked {
        "matches (size, key id, backup id, both SHA-256)"
    } else {
        "not checked (pass --manifest)"
    };
    format!(
        "ok: {file} is intact\n\
         backup id    {}\n\
         key id       {}\n\
         chunks       {} of up to {} bytes\n\
         plaintext    {} bytes, sha256 {}\n\
         ciphertext   {} bytes, sha256 {}\n\
         manifest     {manifest}\n",
        summary.backup_id,
        summary.key_id,
        summary.chunks,
        summary.chunk_size,
        summary.plaintext_bytes,
        summary.plaintext_sha256,
        summary.ciphertext_bytes,
        summary.ciphertext_sha256,
    )
}
