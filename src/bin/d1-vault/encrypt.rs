//! `d1-vault encrypt`: a SQL file into a backup object, as the worker writes it.

use std::fs::File;
use std::io::{self, Read, Write};
use std::path::PathBuf;

use d1_vault::format::{BackupId, EncryptSummary, Encryptor};
use lexopt::Arg::{Long, Short, Value};
use serde_json::json;

use crate::common::{
    keyring_from_env, missing, parse_backup_id, print_usage, CliError, Command, Output,
    PartialFile, READ_SIZE,
};

pub const COMMAND: Command = Command {
    name: "encrypt",
    summary: "encrypt a SQL file into a backup object (for import into the worker)",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: d1-vault encrypt <in.sql | -> --id <backup-id> -o <out.enc | -> [--force] [--json]

Encrypts a SQL dump into exactly the object format the worker writes: a fresh
random salt, the current key from BACKUP_ENCRYPTION_KEY, 64 KiB chunks. The
result can be uploaded with POST /v1/backups/import, or decrypted with
'd1-vault decrypt'. Reads stdin when <in.sql> is -.

The object is written to <out.enc>.partial and renamed to <out.enc> when done;
on failure nothing is left behind. A summary (sizes, digests, key id) goes to
stderr, or as JSON to stdout with --json.

Options:
      --id <backup-id>     the backup id bound into the object (required):
                           1 to 64 characters from A-Z a-z 0-9 . _ -,
                           starting with a letter or digit
  -o, --output <path>      where to write the object (required; - for stdout)
      --force              overwrite <out.enc> if it exists
      --json               print the summary as JSON on stdout (not with -o -)
  -h, --help               show this help

Exit status: 0 ok; 2 usage error; 3 I/O or configuration error.

Example:
  sqlite3 app.db .dump | d1-vault encrypt - --id 20260101T020000Z-import -o import.sql.enc
";

struct Args {
    input: PathBuf,
    id: BackupId,
    output: Output,
    force: bool,
    json: bool,
}

fn parse(parser: &mut lexopt::Parser) -> Result<Option<Args>, CliError> {
    let (mut input, mut id, mut output, mut force, mut json) = (None, None, None, false, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return Ok(None),
            Short('o') | Long("output") => output = Some(Output::parse(parser.value()?)),
            Long("id") => id = Some(parse_backup_id(parser.value()?)?),
            Long("force") => force = true,
            Long("json") => json = true,
            Value(value) if input.is_none() => input = Some(PathBuf::from(value)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let output = output
        .ok_or_else(|| CliError::Usage("missing -o <out.enc> (or -o - for stdout)".into()))?;
    if json && matches!(output, Output::Stdout) {
        return Err(CliError::Usage(
            "--json prints to stdout, so it needs -o <file>".into(),
        ));
    }
    Ok(Some(Args {
        input: input.ok_or_else(|| missing("the SQL file to encrypt (or - for stdin)"))?,
        id: id.ok_or_else(|| missing("--id <backup-id>"))?,
        output,
        force,
        json,
    }))
}

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let Some(args) = parse(parser)? else {
        return print_usage(USAGE);
    };
    let keyring = keyring_from_env()?;
    let mut input: Box<dyn Read> = if args.input.as_os_str() == "-" {
        Box::new(io::stdin().lock())
    } else {
        Box::new(
            File::open(&args.input)
                .map_err(|err| CliError::io(format!("opening {}", args.input.display()), err))?,
        )
    };
    let encryptor = Encryptor::with_random_salt(keyring.current(), &args.id)
        .map_err(|err| CliError::Io(format!("drawing a random salt: {err}")))?;
    let summary = match &args.output {
        Output::File(path) => {
            let mut out = PartialFile::create(path, args.force)?;
            let summary = encrypt(&mut input, encryptor, &mut |bytes| out.write(bytes))?;
            out.commit()?;
            summary
        }
        Output::Stdout => {
            let stdout = io::stdout();
            let mut out = io::BufWriter::new(stdout.lock());
            let summary = encrypt(&mut input, encryptor, &mut |bytes| out.write_all(bytes))?;
            out.flush()
                .map_err(|err| CliError::io("writing the output", err))?;
            summary
        }
    };
    if args.json {
        println!(
            "{}",
            json!({
                "backup_id": args.id,
                "key_id": summary.key_id,
                "chunk_size": summary.chunk_size,
                "chunks": summary.chunks,
                "plaintext": { "bytes": summary.plaintext_bytes, "sha256": summary.plaintext_sha256 },
                "ciphertext": { "bytes": summary.ciphertext_bytes, "sha256": summary.ciphertext_sha256 },
            })
        );
    } else {
        eprintln!(
            "encrypted {} bytes of SQL into {} bytes ({} chunks) for backup {} with key {}\n\
             plaintext sha256 {}\nciphertext sha256 {}",
            summary.plaintext_bytes,
            summary.ciphertext_bytes,
            summary.chunks,
            args.id,
            summary.key_id,
            summary.plaintext_sha256,
            summary.ciphertext_sha256
        );
    }
    Ok(())
}

/// Streams `input` through the encryptor into `sink`, one read at a time.
fn encrypt(
    input: &mut dyn Read,
    mut encryptor: Encryptor,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<EncryptSummary, CliError> {
    let mut buf = vec![0u8; READ_SIZE];
    let mut sealed = Vec::with_capacity(READ_SIZE + 64 * 1024);
    loop {
        let read = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(CliError::io("reading the input", err)),
        };
        encryptor.update(&buf[..read], &mut sealed);
        sink(&sealed).map_err(|err| CliError::io("writing the output", err))?;
        sealed.clear();
    }
    let summary = encryptor.finish(&mut sealed);
    sink(&sealed).map_err(|err| CliError::io("writing the output", err))?;
    Ok(summary)
}
