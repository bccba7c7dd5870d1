//! Runs the built `d1-vault` binary for the CLI tests, with a controlled
//! environment and a scratch directory.

// Each CLI test crate uses a different subset of these helpers.
#![allow(dead_code)]

use std::fs;
use std::io::Write;
use std::path::{Path, PathBuf};
use std::process::{Command, Output, Stdio};

use d1_vault::format::MasterKey;

pub mod worker;

/// Test-only keys.
pub const KEY_A: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
pub const KEY_B: &str = "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f";

pub fn key_id(hex: &str) -> String {
    MasterKey::from_hex(hex).unwrap().id().to_string()
}

/// A scratch directory and the key variables to run with.
pub struct Cli {
    pub dir: tempfile::TempDir,
    pub key: Option<String>,
    pub previous: Option<String>,
}

/// What a run produced.
pub struct Run {
    pub code: i32,
    pub stdout: Vec<u8>,
    pub stderr: String,
}

impl Run {
    /// Asserts the exit code of a run that followed a job: the job's
    /// progress is on stderr, and a failure is its last line, the only one
    /// that starts with `d1-vault: `.
    pub fn expect_followed(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code; stderr: {}", self.stderr);
        let errors = self
            .stderr
            .lines()
            .filter(|line| line.starts_with("d1-vault: "))
            .count();
        if code == 0 {
            assert_eq!(errors, 0, "no error: {}", self.stderr);
        } else {
            assert_eq!(errors, 1, "one error: {}", self.stderr);
            assert!(
                self.error_line().starts_with("d1-vault: "),
                "the error comes last: {}",
                self.stderr
            );
        }
        self
    }

    /// The last line on stderr: the error of a failed run.
    pub fn error_line(&self) -> &str {
        self.stderr.lines().last().unwrap_or("")
    }

    pub fn stdout_text(&self) -> String {
        String::from_utf8(self.stdout.clone()).unwrap()
    }

    /// Asserts the exit code and, for failures, a single `d1-vault: ` stderr line.
    pub fn expect(self, code: i32) -> Self {
        assert_eq!(self.code, code, "exit code; stderr: {}", self.stderr);
        if code != 0 {
            assert!(
                self.stderr.starts_with("d1-vault: "),
                "stderr: {}",
                self.stderr
            );
            assert_eq!(self.stderr.lines().count(), 1, "one line: {}", self.stderr);
        }
        self
    }
}

impl Cli {
    pub fn new() -> Self {
        Cli {
            dir: tempfile::tempdir().unwrap(),
            key: Some(KEY_A.into()),
            previous: None,
        }
    }

    pub fn path(&self, name: &str) -> PathBuf {
        self.dir.path().join(name)
    }

    pub fn write(&self, name: &str, bytes: &[u8]) -> PathBuf {
        let path = self.path(name);
        fs::write(&path, bytes).unwrap();
        path
    }

    /// Runs `d1-vault args...` in the scratch directory, with `stdin` piped in.
    pub fn run_with_stdin(&self, args: &[&str], stdin: &[u8]) -> Run {
        let mut command = Command::new(env!("CARGO_BIN_EXE_d1-vault"));
        command
            .args(args)
            .current_dir(self.dir.path())
            .env_remove("BACKUP_ENCRYPTION_KEY")
            .env_remove("BACKUP_ENCRYPTION_KEYS_PREVIOUS")
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped());
        if let Some(key) = &self.key {
            command.env("BACKUP_ENCRYPTION_KEY", key);
        }
        if let Some(previous) = &self.previous {
            command.env("BACKUP_ENCRYPTION_KEYS_PREVIOUS", previous);
        }
        let mut child = command.spawn().unwrap();
        child.stdin.take().unwrap().write_all(stdin).unwrap();
        let Output {
            status,
            stdout,
            stderr,
        } = child.wait_with_output().unwrap();
        Run {
            code: status.code().unwrap(),
            stdout,
            stderr: String::from_utf8(stderr).unwrap(),
        }
    }

    pub fn run(&self, args: &[&str]) -> Run {
        self.run_with_stdin(args, b"")
    }

    /// Files in the scratch directory, sorted.
    pub fn files(&self) -> Vec<String> {
        let mut names: Vec<String> = fs::read_dir(self.dir.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        names.sort();
        names
    }

    /// Encrypts `sql` under the current key as `name`, returns its path.
    pub fn encrypt(&self, sql: &[u8], id: &str, name: &str) -> PathBuf {
        self.write("input.sql", sql);
        self.run(&["encrypt", "input.sql", "--id", id, "-o", name])
            .expect(0);
        fs::remove_file(self.path("input.sql")).unwrap();
        self.path(name)
    }

    /// A manifest for the object at `object`, as the worker would write it
    /// (from `verify --json`), plus fields the CLI must ignore.
    pub fn manifest(&self, object: &Path, name: &str) -> (PathBuf, serde_json::Value) {
        let report = self
            .run(&["verify", object.to_str().unwrap(), "--json"])
            .expect(0);
        let report: serde_json::Value = serde_json::from_slice(&report.stdout).unwrap();
        let manifest = serde_json::json!({
            "format_version": 1,
            "id": report["backup_id"],
            "created_at": "2026-01-01T02:00:00Z",
            "encryption": { "key_id": report["key_id"], "cipher": "aes-256-gcm-stream" },
            "plaintext": report["plaintext"],
            "ciphertext": report["ciphertext"],
            "tables": [{ "name": "t", "rows": 3 }],
        });
        let path = self.write(name, manifest.to_string().as_bytes());
        (path, manifest)
    }
}

/// SQL text of about `len` bytes, spanning several 64 KiB chunks when large.
/// `len` bytes of SQL whose values are pseudo-random hex: it compresses to
/// about a third, so the objects made of it (format version 2 compresses)
/// still span several chunks and parts.
pub fn noisy_sql(len: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut state: u64 = 0x9e37_79b9_7f4a_7c15;
    let mut row = 0;
    while text.len() < len {
        let mut value = String::new();
        for _ in 0..2 {
            state ^= state << 13;
            state ^= state >> 7;
            state ^= state << 17;
            value.push_str(&format!("{state:016x}"));
        }
        text.extend_from_slice(format!("INSERT INTO t VALUES({row},'{value}');\n").as_bytes());
        row += 1;
    }
    text.truncate(len);
    text
}

pub fn sql(len: usize) -> Vec<u8> {
    let mut text = Vec::new();
    let mut row = 0;
    while text.len() < len {
        text.extend_from_slice(format!("INSERT INTO t VALUES({row},'row {row}');\n").as_bytes());
        row += 1;
    }
    text.truncate(len);
    text
}
