//! `d1-vault keygen`: a new random master key.

use lexopt::Arg::{Long, Short};

use d1_vault::format::keys::BACKUP_ENCRYPTION_KEY;
use d1_vault::format::MasterKey;

use crate::common::{print_usage, CliError, Command};

pub const COMMAND: Command = Command {
    name: "keygen",
    summary: "print a new random key (64 hex characters) for BACKUP_ENCRYPTION_KEY",
    usage: USAGE,
    run,
};

const USAGE: &str = "\
Usage: d1-vault keygen

Prints a new random 256-bit key as 64 hex characters on stdout, and its key id
(which names the key without revealing it) on stderr. Store the key as the
worker's secret and keep a copy offline: without it, backups made with it
cannot be read by anyone.

  d1-vault keygen | wrangler secret put BACKUP_ENCRYPTION_KEY --env production

To rotate, move the old key into BACKUP_ENCRYPTION_KEYS_PREVIOUS
(comma-separated) and set the new one as BACKUP_ENCRYPTION_KEY.

Options:
  -h, --help      show this help

Exit status: 0 ok; 2 usage error; 3 no random numbers available.
";

fn run(parser: &mut lexopt::Parser) -> Result<(), CliError> {
    if let Some(arg) = parser.next()? {
        return match arg {
            Short('h') | Long("help") => print_usage(USAGE),
            _ => Err(arg.unexpected().into()),
        };
    }
    let key = MasterKey::generate()
        .map_err(|err| CliError::Io(format!("drawing random bytes: {err}")))?;
    println!("{}", key.to_hex());
    eprintln!(
        "key id: {} (set the key above as {BACKUP_ENCRYPTION_KEY})",
        key.id()
    );
    Ok(())
}
