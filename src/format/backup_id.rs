//! Backup ids: the name a backup goes by in R2 keys, URLs, manifests and the
//! object header.
//!
//! Invariant: 1 to [`MAX_BACKUP_ID_LEN`] ASCII bytes from `[A-Za-z0-9._-]`,
//! starting with a letter or digit (so an id is never `.` or `..`, which URLs
//! collapse, and never looks like a command-line option).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::MAX_BACKUP_ID_LEN;

/// A validated backup id.
#[derive(Clone, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub struct BackupId(String);

/// Why a string is not a valid backup id. Every message says what is allowed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum BackupIdError {
    /// The id is empty.
    #[error("a backup id cannot be empty: use 1 to 64 characters from A-Z a-z 0-9 . _ -")]
    Empty,
    /// The id is longer than [`MAX_BACKUP_ID_LEN`] bytes.
    #[error("a backup id is at most 64 characters, got {len}")]
    TooLong {
        /// Length of the id, in bytes.
        len: usize,
    },
    /// The first character is not a letter or digit.
    #[error("a backup id must start with a letter or digit (A-Z a-z 0-9)")]
    BadStart,
    /// A character outside `[A-Za-z0-9._-]`.
    #[error(
        "a backup id may only contain A-Z a-z 0-9 . _ -; byte {byte:#04x} at position {position} is not allowed"
    )]
    BadCharacter {
        /// The offending byte (the first byte of a multi-byte character).
        byte: u8,
        /// 1-based byte position.
        position: usize,
    },
}

impl BackupId {
    /// Validates raw bytes (as read from a header) as a backup id.
    pub fn from_bytes(bytes: &[u8]) -> Result<Self, BackupIdError> {
        let first = *bytes.first().ok_or(BackupIdError::Empty)?;
        if bytes.len() > MAX_BACKUP_ID_LEN {
            return Err(BackupIdError::TooLong { len: bytes.len() });
        }
        if let Some(index) = bytes.iter().position(|&b| !is_allowed(b)) {
            return Err(BackupIdError::BadCharacter {
                byte: bytes[index],
                position: index + 1,
            });
        }
        if !first.is_ascii_alphanumeric() {
            return Err(BackupIdError::BadStart);
        }
        // Every byte is ASCII, checked above.
        Ok(BackupId(bytes.iter().map(|&b| char::from(b)).collect()))
    }

    /// Validates text as a backup id (the same as `text.parse()`).
    pub fn parse(text: &str) -> Result<Self, BackupIdError> {
        BackupId::from_bytes(text.as_bytes())
    }

    /// The id as text.
    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// The id's bytes, as written in a header.
    pub fn as_bytes(&self) -> &[u8] {
        self.0.as_bytes()
    }
}

fn is_allowed(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || matches!(byte, b'.' | b'_' | b'-')
}

impl FromStr for BackupId {
    type Err = BackupIdError;

    fn from_str(text: &str) -> Result<Self, Self::Err> {
        BackupId::parse(text)
    }
}

impl TryFrom<String> for BackupId {
    type Error = BackupIdError;

    fn try_from(text: String) -> Result<Self, Self::Error> {
        text.parse()
    }
}

impl From<BackupId> for String {
    fn from(id: BackupId) -> String {
        id.0
    }
}

impl AsRef<str> for BackupId {
    fn as_ref(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl fmt::Debug for BackupId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "BackupId({:?})", self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn accepts_the_allowed_alphabet() {
        let id: BackupId = "20260101T020000Z-a1_b.c".parse().unwrap();
        assert_eq!(id.as_str(), "20260101T020000Z-a1_b.c");
        assert!("a".repeat(64).parse::<BackupId>().is_ok());
    }

    #[test]
    fn rejects_with_a_message_that_says_what_is_allowed() {
        assert_eq!("".parse::<BackupId>(), Err(BackupIdError::Empty));
        assert_eq!(
            "a".repeat(65).parse::<BackupId>(),
            Err(BackupIdError::TooLong { len: 65 })
        );
        assert_eq!("..".parse::<BackupId>(), Err(BackupIdError::BadStart));
        assert_eq!("-rf".parse::<BackupId>(), Err(BackupIdError::BadStart));
        let err = "ab/c".parse::<BackupId>().unwrap_err();
        assert_eq!(
            err,
            BackupIdError::BadCharacter {
                byte: b'/',
                position: 3
            }
        );
        assert!(err.to_string().contains("A-Z a-z 0-9 . _ -"));
        assert!(matches!(
            "é".parse::<BackupId>(),
            Err(BackupIdError::BadCharacter { position: 1, .. })
        ));
    }
}
