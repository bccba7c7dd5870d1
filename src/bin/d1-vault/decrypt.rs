//! `d1-vault decrypt`: an encrypted backup object back to its SQL dump.

use std::io::{self, Write};
use std::path::PathBuf;

use lexopt::Arg::{Long, Short, Value};

use crate::common::{
    expected_id, keyring_from_env, missing, parse_backup_id, print_usage, read_object, CliError,
    Command, Expectations, Manifest, Output, PartialFile,
};

pub const COMMAND: Command = Command {
    name: "decrypt",
    summary: "decrypt a backup object to its SQL dump, authenticating every byte",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: d1-vault decrypt <file> -o <out.sql | -> [--id <backup-id>] [--manifest <file>] [--force]

Decrypts a backup object (backups/d1/<id>.sql.enc) into the SQL dump it holds,
authenticating every chunk before using it, with memory bounded whatever the
size. Keys come from BACKUP_ENCRYPTION_KEY and BACKUP_ENCRYPTION_KEYS_PREVIOUS.

The output is written to <out.sql>.partial and renamed to <out.sql> only once
the whole object has verified (and matched the manifest, if given). On any
failure the partial file is deleted: a file at <out.sql> is always complete.

With -o -, the dump goes to stdout. The object is then read twice: first
verified completely, then decrypted, so that nothing reaches a pipe from an
object that fails (unless the file changes between the two passes, which the
second pass also catches, but too late for the pipe).

Options:
  -o, --output <path>      where to write the SQL (required; - for stdout)
      --id <backup-id>     fail unless the object belongs to this backup
      --manifest <file>    the backup's manifest JSON: checks the object's size
                           (first), key id, backup id, and both SHA-256 digests
      --force              overwrite <out.sql> if it exists
  -h, --help               show this help

Exit status: 0 ok; 1 the object failed verification (authentication, format
or manifest mismatch); 2 usage error; 3 I/O or configuration error.

Examples:
  d1-vault decrypt backup.sql.enc -o backup.sql --manifest backup.manifest.json
  d1-vault decrypt backup.sql.enc -o - | sqlite3 restored.db
";

struct Args {
    input: PathBuf,
    output: Output,
    id: Option<d1_vault::format::BackupId>,
    manifest: Option<PathBuf>,
    force: bool,
}

fn parse(parser: &mut lexopt::Parser) -> Result<Option<Args>, CliError> {
    let (mut input, mut output, mut id, mut manifest, mut force) = (None, None, None, None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Short('o') | Long("output") => output = Some(Output::parse(parser.value()?)),
            Long("id") => id = Some(parse_backup_id(parser.value()?)?),
            Long("manifest") => manifest = Some(PathBuf::from(parser.value()?)),
            Long("force") => force = true,
            Value(value) if input.is_none() => input = Some(PathBuf::from(value)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    Ok(Some(Args {
        input: input.ok_or_else(|| missing("the object file to decrypt"))?,
        output: output
            .ok_or_else(|| CliError::Usage("missing -o <out.sql> (or -o - for stdout)".into()))?,
        id,
        manifest,
        force,
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
    let summary = match &args.output {
        Output::File(path) => {
            let mut out = PartialFile::create(path, args.force)?;
            let summary = read_object(&args.input, &expect, &mut |bytes| out.write(bytes))?;
            out.commit()?;
            summary
        }
        Output::Stdout => {
            read_object(&args.input, &expect, &mut |_| Ok(()))?;
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let summary = read_object(&args.input, &expect, &mut |bytes| out.write_all(bytes))?;
            out.flush()
                .map_err(|err| CliError::io("writing the output", err))?;
            summary
        }
    };
    eprintln!(
        "decrypted backup {} ({} bytes of SQL, sha256 {}) with key {}",
        summary.backup_id, summary.plaintext_bytes, summary.plaintext_sha256, summary.key_id
    );
    Ok(())
}
