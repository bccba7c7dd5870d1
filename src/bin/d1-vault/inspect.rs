//! `d1-vault inspect`: the header of a backup object, without a key.

use std::fs::File;
use std::io::Read;
use std::path::PathBuf;

use d1_vault::format::{parse_header, FormatVersion, HeaderInfo, MAX_HEADER_LEN, TAG_SIZE};
use lexopt::Arg::{Long, Short, Value};
use serde_json::json;

use crate::common::{missing, print_usage, CliError, Command};

pub const COMMAND: Command = Command {
    name: "inspect",
    summary: "show a backup object's header (backup id, key id, sizes) without a key",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: d1-vault inspect <file> [--json]

Shows the header of a backup object: format version and suite, backup id, key
id, chunk size and salt, and what the file's size implies (chunks and SQL
bytes, if the object is intact). Needs no key, so it answers \"which key do I
need?\" before you have it.

Nothing shown is authenticated: anyone can write a header. Run
'd1-vault verify' to check the object with its key.

Options:
      --json      print the fields as one JSON object on stdout
  -h, --help      show this help

Exit status: 0 ok; 1 not a readable d1-vault header; 2 usage error;
3 I/O error.
";

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    let (mut input, mut json) = (None, false);
    while let Some(arg) = parser.next()? {
        match arg {
            Short('h') | Long("help") => return print_usage(USAGE),
            Long("json") => json = true,
            Value(value) if input.is_none() => input = Some(PathBuf::from(value)),
            _ => return Err(arg.unexpected().into()),
        }
    }
    let path = input.ok_or_else(|| missing("the object file to inspect"))?;
    let file = File::open(&path)
        .map_err(|err| CliError::io(format!("opening {}", path.display()), err))?;
    let size = file
        .metadata()
        .map_err(|err| CliError::io(format!("reading {}", path.display()), err))?
        .len();
    let mut head = Vec::with_capacity(MAX_HEADER_LEN);
    file.take(MAX_HEADER_LEN as u64)
        .read_to_end(&mut head)
        .map_err(|err| CliError::io(format!("reading {}", path.display()), err))?;
    let header = parse_header(&head).map_err(|err| CliError::format(&path, &err))?;
    let layout = Layout::of(&header, size);
    if json {
        println!(
            "{}",
            json!({
                "file": path.display().to_string(),
                "bytes": size,
                "version": header.version.byte(),
                "suite": header.suite,
                "backup_id": header.backup_id,
                "key_id": header.key_id,
                "chunk_size": header.chunk_size.get(),
                "salt": hex(&header.salt),
                "header_bytes": header.len,
                "chunks_if_intact": layout.map(|l| l.chunks),
                "payload_bytes_if_intact": layout.map(|l| l.payload_bytes),
                "compressed": header.version == FormatVersion::V2,
                "authenticated": false,
            })
        );
        return Ok(());
    }
    let intact = match layout {
        Some(l) => format!(
            "{} chunks, {} bytes of {}",
            l.chunks,
            l.payload_bytes,
            match header.version {
                FormatVersion::V1 => "SQL",
                FormatVersion::V2 => "compressed SQL",
            }
        ),
        None => "the size fits no complete object: it is cut or has extra bytes".into(),
    };
    print!(
        "file         {} ({size} bytes)\n\
         format       d1-vault v{}, suite {} (HKDF-SHA256, AES-256-GCM STREAM, HMAC-SHA256){}\n\
         backup id    {}\n\
         key id       {}\n\
         chunk size   {} bytes\n\
         salt         {}\n\
         header       {} bytes\n\
         if intact    {intact}\n\
         (unauthenticated: 'd1-vault verify' checks these with the key)\n",
        path.display(),
        header.version.byte(),
        header.suite,
        match header.version {
            FormatVersion::V1 => "",
            FormatVersion::V2 => ", DEFLATE frames",
        },
        header.backup_id,
        header.key_id,
        header.chunk_size.get(),
        hex(&header.salt),
        header.len,
    );
    Ok(())
}

/// What an intact object of this size holds.
#[derive(Clone, Copy)]
struct Layout {
    chunks: u64,
    /// What the chunks carry: the SQL (version 1) or its frames (version 2).
    payload_bytes: u64,
}

impl Layout {
    /// `None` when no valid object has this size.
    fn of(header: &HeaderInfo, size: u64) -> Option<Layout> {
        let body = size.checked_sub(header.len as u64)?;
        let sealed = header.chunk_size.sealed_len() as u64;
        let tag = TAG_SIZE as u64;
        let chunks = body.div_ceil(sealed);
        let last = body - (chunks.checked_sub(1)?) * sealed;
        if last < tag || (last == tag && chunks > 1) {
            return None;
        }
        Some(Layout {
            chunks,
            payload_bytes: body - chunks * tag,
        })
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
