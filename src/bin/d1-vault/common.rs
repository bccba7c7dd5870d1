//! What the commands share: the error type and its exit codes, keys from the
//! environment, manifests, and reading an object through the decryptor.

use std::env;
use std::ffi::OsString;
use std::fmt;
use std::fs::{self, File};
use std::io::{self, Read, Write};
use std::path::{Path, PathBuf};

use d1_vault::format::keys::{BACKUP_ENCRYPTION_KEY, BACKUP_ENCRYPTION_KEYS_PREVIOUS};
use d1_vault::format::{
    BackupId, DecryptSummary, Decryptor, FormatError, KeyId, Keyring, Sha256Digest,
};
use serde::Deserialize;

/// Exit status: the object failed verification (authentication, format,
/// manifest), or the worker refused or failed a request.
pub const EXIT_FAILED: u8 = 1;
/// Exit status: the command line is wrong.
pub const EXIT_USAGE: u8 = 2;
/// Exit status: an I/O or configuration error (files, key variables, the
/// worker's URL and token, a worker that cannot be reached).
pub const EXIT_IO: u8 = 3;
/// Exit status: Ctrl-C stopped following a job (128 + SIGINT, as shells
/// report it); the job goes on in the worker.
pub const EXIT_INTERRUPTED: u8 = 130;

/// Bytes read from an object per step: memory stays bounded whatever its size.
pub const READ_SIZE: usize = 1024 * 1024;

/// One command, as `main` lists and dispatches it.
pub struct Command {
    /// The verb typed on the command line.
    pub name: &'static str,
    /// One line for the program's help.
    pub summary: &'static str,
    /// The command's `--help` text.
    pub usage: &'static str,
    /// Parses the command's arguments (after the verb) and runs it.
    pub run: fn(&mut lexopt::Parser) -> Result<(), CliError>,
}

/// Why a command failed; each kind has its own exit status.
#[derive(Debug)]
pub enum CliError {
    /// The object failed verification. `code` and `stage` are stable words
    /// for `--json` output.
    Failed {
        /// What failed, for the operator.
        message: String,
        /// A stable identifier (a format error code, or `manifest_*`).
        code: &'static str,
        /// For format errors, the stage.
        stage: Option<&'static str>,
    },
    /// The worker answered with an error status (or, for `health`, said it
    /// is not healthy), or the operator declined to go on.
    Refused(String),
    /// The command line is wrong.
    Usage(String),
    /// A file or key variable could not be used.
    Io(String),
    /// The operator pressed Ctrl-C while a job was followed: the job goes
    /// on; the message says how to follow or cancel it.
    Interrupted(String),
}

impl CliError {
    /// A manifest mismatch.
    pub fn manifest(code: &'static str, message: String) -> Self {
        CliError::Failed {
            message,
            code,
            stage: None,
        }
    }

    /// A format error while reading `path`.
    pub fn format(path: &Path, err: &FormatError) -> Self {
        CliError::Failed {
            message: format!("{}: {err}", path.display()),
            code: err.code(),
            stage: Some(err.stage().as_str()),
        }
    }

    /// An I/O error, with what was being done.
    pub fn io(doing: impl fmt::Display, err: io::Error) -> Self {
        CliError::Io(format!("{doing}: {err}"))
    }

    /// The process exit status for this error.
    pub fn exit_code(&self) -> u8 {
        match self {
            CliError::Failed { .. } | CliError::Refused(_) => EXIT_FAILED,
            CliError::Usage(_) => EXIT_USAGE,
            CliError::Io(_) => EXIT_IO,
            CliError::Interrupted(_) => EXIT_INTERRUPTED,
        }
    }
}

impl fmt::Display for CliError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            CliError::Failed { message, .. } => f.write_str(message),
            CliError::Refused(message)
            | CliError::Usage(message)
            | CliError::Io(message)
            | CliError::Interrupted(message) => f.write_str(message),
        }
    }
}

impl From<lexopt::Error> for CliError {
    fn from(err: lexopt::Error) -> Self {
        CliError::Usage(err.to_string())
    }
}

/// Prints a command's usage on stdout (for `--help`).
pub fn print_usage(usage: &str) -> Result<(), CliError> {
    io::stdout()
        .write_all(usage.as_bytes())
        .map_err(|err| CliError::io("writing help", err))
}

/// A required positional argument that was not given.
pub fn missing(what: &str) -> CliError {
    CliError::Usage(format!("missing {what}"))
}

/// An argument's value as text; `what` names it in the error.
pub fn text_value(value: OsString, what: &str) -> Result<String, CliError> {
    value
        .into_string()
        .map_err(|_| CliError::Usage(format!("{what} must be text")))
}

/// Parses a `--id` value.
pub fn parse_backup_id(value: OsString) -> Result<BackupId, CliError> {
    let text = text_value(value, "--id")?;
    text.parse()
        .map_err(|err| CliError::Usage(format!("--id {text:?}: {err}")))
}

/// The keyring from `BACKUP_ENCRYPTION_KEY` and `BACKUP_ENCRYPTION_KEYS_PREVIOUS`.
pub fn keyring_from_env() -> Result<Keyring, CliError> {
    let current = env::var(BACKUP_ENCRYPTION_KEY).map_err(|err| match err {
        env::VarError::NotPresent => CliError::Io(format!(
            "{BACKUP_ENCRYPTION_KEY} is not set: export the backup key (64 hex characters; \
             'd1-vault keygen' makes a new one)"
        )),
        env::VarError::NotUnicode(_) => {
            CliError::Io(format!("{BACKUP_ENCRYPTION_KEY} is not valid text"))
        }
    })?;
    let previous = match env::var(BACKUP_ENCRYPTION_KEYS_PREVIOUS) {
        Ok(value) => Some(value),
        Err(env::VarError::NotPresent) => None,
        Err(env::VarError::NotUnicode(_)) => {
            return Err(CliError::Io(format!(
                "{BACKUP_ENCRYPTION_KEYS_PREVIOUS} is not valid text"
            )))
        }
    };
    Keyring::from_values(&current, previous.as_deref()).map_err(|err| CliError::Io(err.to_string()))
}

/// The fields of a backup manifest that the CLI checks; others are ignored.
#[derive(Debug, Deserialize)]
pub struct Manifest {
    /// The backup id.
    pub id: BackupId,
    /// How the object was encrypted.
    pub encryption: ManifestEncryption,
    /// The SQL dump.
    pub plaintext: ManifestBytes,
    /// The encrypted object.
    pub ciphertext: ManifestBytes,
}

/// `encryption` in a manifest.
#[derive(Debug, Deserialize)]
pub struct ManifestEncryption {
    /// Id of the key the object was made with.
    pub key_id: KeyId,
}

/// Size and digest of one representation of the backup.
#[derive(Debug, Deserialize)]
pub struct ManifestBytes {
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256, hex.
    pub sha256: Sha256Digest,
}

impl Manifest {
    /// Reads and parses a manifest file.
    pub fn load(path: &Path) -> Result<Self, CliError> {
        let text = fs::read(path)
            .map_err(|err| CliError::io(format!("reading manifest {}", path.display()), err))?;
        serde_json::from_slice(&text).map_err(|err| {
            CliError::Io(format!("{} is not a valid manifest: {err}", path.display()))
        })
    }
}

/// The backup id to expect: `--id`, the manifest's, or none. Both given and
/// different is a usage error.
pub fn expected_id(
    flag: Option<BackupId>,
    manifest: Option<&Manifest>,
) -> Result<Option<BackupId>, CliError> {
    match (flag, manifest) {
        (Some(flag), Some(manifest)) if flag != manifest.id => Err(CliError::Usage(format!(
            "--id {flag} does not match the manifest's backup {}",
            manifest.id
        ))),
        (flag, manifest) => Ok(flag.or_else(|| manifest.map(|m| m.id.clone()))),
    }
}

/// What to check an object against.
pub struct Expectations<'a> {
    /// Keys to open it with.
    pub keyring: &'a Keyring,
    /// The backup it must belong to.
    pub backup_id: Option<&'a BackupId>,
    /// The manifest it must match.
    pub manifest: Option<&'a Manifest>,
}

/// Streams the object at `path` through a decryptor, passing each piece of
/// authenticated plaintext to `sink`, and checks it against `expect`. The
/// manifest's ciphertext size is checked first, so a cut file is reported as
/// such before any cryptography; digests are compared at the end.
pub fn read_object(
    path: &Path,
    expect: &Expectations<'_>,
    sink: &mut dyn FnMut(&[u8]) -> io::Result<()>,
) -> Result<DecryptSummary, CliError> {
    let mut file =
        File::open(path).map_err(|err| CliError::io(format!("opening {}", path.display()), err))?;
    if let Some(manifest) = expect.manifest {
        let size = file
            .metadata()
            .map_err(|err| CliError::io(format!("reading {}", path.display()), err))?
            .len();
        check_size(size, manifest.ciphertext.bytes)?;
    }
    let mut decryptor = Decryptor::new(expect.keyring, expect.backup_id);
    let mut buf = vec![0u8; READ_SIZE];
    let mut plaintext = Vec::with_capacity(READ_SIZE + 128 * 1024);
    let mut key_checked = false;
    loop {
        let read = match file.read(&mut buf) {
            Ok(0) => break,
            Ok(read) => read,
            Err(err) if err.kind() == io::ErrorKind::Interrupted => continue,
            Err(err) => return Err(CliError::io(format!("reading {}", path.display()), err)),
        };
        decryptor
            .update(&buf[..read], &mut plaintext)
            .map_err(|err| CliError::format(path, &err))?;
        if let (false, Some(header), Some(manifest)) =
            (key_checked, decryptor.header(), expect.manifest)
        {
            if header.key_id != manifest.encryption.key_id {
                return Err(CliError::manifest(
                    "manifest_key_mismatch",
                    format!(
                        "{}: encrypted with key {}, but the manifest says key {}",
                        path.display(),
                        header.key_id,
                        manifest.encryption.key_id
                    ),
                ));
            }
            key_checked = true;
        }
        sink(&plaintext).map_err(|err| CliError::io("writing the output", err))?;
        plaintext.clear();
    }
    let summary = decryptor
        .finish(&mut plaintext)
        .map_err(|err| CliError::format(path, &err))?;
    sink(&plaintext).map_err(|err| CliError::io("writing the output", err))?;
    if let Some(manifest) = expect.manifest {
        check_summary(&summary, manifest)?;
    }
    Ok(summary)
}

/// The object's size against the manifest's: the first check, so that a cut
/// download says so plainly.
fn check_size(size: u64, expected: u64) -> Result<(), CliError> {
    if size < expected {
        return Err(CliError::manifest(
            "manifest_size_mismatch",
            format!("truncated: {size} bytes, manifest says {expected}; download the object again"),
        ));
    }
    if size > expected {
        return Err(CliError::manifest(
            "manifest_size_mismatch",
            format!("{size} bytes, manifest says {expected}: the file is longer than the backup (data appended, or another object?)"),
        ));
    }
    Ok(())
}

fn check_summary(summary: &DecryptSummary, manifest: &Manifest) -> Result<(), CliError> {
    let checks = [
        (
            "ciphertext SHA-256",
            summary.ciphertext_sha256.to_string(),
            manifest.ciphertext.sha256.to_string(),
        ),
        (
            "plaintext bytes",
            summary.plaintext_bytes.to_string(),
            manifest.plaintext.bytes.to_string(),
        ),
        (
            "plaintext SHA-256",
            summary.plaintext_sha256.to_string(),
            manifest.plaintext.sha256.to_string(),
        ),
    ];
    for (what, got, expected) in checks {
        if got != expected {
            return Err(CliError::manifest(
                "manifest_digest_mismatch",
                format!(
                    "{what} is {got}, manifest says {expected}: the object is authentic but is \
                     not the one this manifest describes"
                ),
            ));
        }
    }
    Ok(())
}

/// A file being written as `<path>.partial`, renamed to `<path>` only by
/// [`commit`](PartialFile::commit). Dropped uncommitted, it deletes itself, so
/// a failed command leaves nothing behind.
pub struct PartialFile {
    partial: PathBuf,
    target: PathBuf,
    file: Option<io::BufWriter<File>>,
}

impl PartialFile {
    /// Creates `<target>.partial`. Refuses an existing `target` unless `force`.
    pub fn create(target: &Path, force: bool) -> Result<Self, CliError> {
        if !force && target.exists() {
            return Err(CliError::Io(format!(
                "{} already exists: remove it or pass --force",
                target.display()
            )));
        }
        let mut partial = target.as_os_str().to_owned();
        partial.push(".partial");
        let partial = PathBuf::from(partial);
        let file = File::create(&partial)
            .map_err(|err| CliError::io(format!("creating {}", partial.display()), err))?;
        Ok(PartialFile {
            partial,
            target: target.to_owned(),
            file: Some(io::BufWriter::with_capacity(READ_SIZE, file)),
        })
    }

    /// Appends bytes.
    pub fn write(&mut self, bytes: &[u8]) -> io::Result<()> {
        match &mut self.file {
            Some(file) => file.write_all(bytes),
            None => Err(io::Error::other("the output is already closed")),
        }
    }

    /// Flushes and syncs the file, then renames it into place.
    pub fn commit(mut self) -> Result<(), CliError> {
        let writer = self
            .file
            .take()
            .ok_or_else(|| CliError::Io("the output is already closed".into()))?;
        let file = writer.into_inner().map_err(|err| {
            CliError::io(
                format!("writing {}", self.partial.display()),
                err.into_error(),
            )
        })?;
        file.sync_all()
            .map_err(|err| CliError::io(format!("writing {}", self.partial.display()), err))?;
        drop(file);
        fs::rename(&self.partial, &self.target).map_err(|err| {
            CliError::io(
                format!(
                    "renaming {} to {}",
                    self.partial.display(),
                    self.target.display()
                ),
                err,
            )
        })?;
        self.partial = PathBuf::new();
        Ok(())
    }
}

impl Drop for PartialFile {
    fn drop(&mut self) {
        drop(self.file.take());
        if !self.partial.as_os_str().is_empty() {
            // Best effort: the command is already failing with a better message.
            let _ = fs::remove_file(&self.partial);
        }
    }
}

/// Where a command's main output goes: `-` is stdout.
pub enum Output {
    /// Standard output.
    Stdout,
    /// A file, written as `.partial` and renamed on success.
    File(PathBuf),
}

impl Output {
    /// Parses an `-o` value.
    pub fn parse(value: OsString) -> Output {
        if value == "-" {
            Output::Stdout
        } else {
            Output::File(PathBuf::from(value))
        }
    }
}
