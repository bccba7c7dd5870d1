//! The backup manifest: one JSON object per backup, written after its data
//! object is complete. A data object without a manifest is an incomplete
//! backup: never listed, and removed by the next successful run.
//!
//! The manifest is what validation and restore check the object against
//! (sizes and SHA-256 of ciphertext and plaintext, key id), and what a
//! restore's verification compares the database with (tables and row
//! counts, indexes, views, triggers, schema hash, foreign-key violations).
//! A short [`ListingEntry`] of it also rides on the manifest object's R2
//! custom metadata, so listing needs one R2 `list` call, not one `get` per
//! backup.

use crate::retention::{BackupKind, BackupRef};
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The manifest format version this worker writes and reads.
pub const MANIFEST_VERSION: u32 = 1;
/// The cipher suite's name as the manifest records it.
pub const CIPHER: &str = "AES-256-GCM, STREAM, HKDF-SHA256 (d1-vault format 1)";
/// The custom-metadata key that carries the [`ListingEntry`].
pub const LISTING_METADATA_KEY: &str = "listing";

/// Everything known about one complete backup.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Manifest {
    /// [`MANIFEST_VERSION`].
    pub manifest_version: u32,
    /// The backup id: sortable by time, URL-safe.
    pub id: String,
    /// When the backup started (for a scheduled run: its scheduled time).
    pub created_at: Timestamp,
    /// How long the backup took, in milliseconds.
    pub duration_ms: u64,
    /// Why it exists.
    pub kind: BackupKind,
    /// The environment that took it (`ENVIRONMENT`).
    pub environment: String,
    /// The D1 database it is a copy of (`DATABASE_NAME`).
    pub database: String,
    /// Pinned backups are never pruned and need `?force=true` to delete.
    pub pinned: bool,
    /// The operator's note, if any.
    pub note: Option<String>,
    /// The worker's crate version.
    pub worker_version: String,
    /// The data object's R2 key.
    pub object_key: String,
    /// How the data object is encrypted.
    pub encryption: Encryption,
    /// The SQL dump: size and SHA-256.
    pub plaintext: Digests,
    /// The encrypted object as stored: size and SHA-256.
    pub ciphertext: Digests,
    /// Whether the dump is one consistent snapshot.
    pub snapshot: Snapshot,
    /// Every table with data in the dump, in dump order.
    pub tables: Vec<TableEntry>,
    /// Index names (autoindexes excluded).
    pub indexes: Vec<String>,
    /// View names.
    pub views: Vec<String>,
    /// Trigger names.
    pub triggers: Vec<String>,
    /// SHA-256 over the schema statements in dump order.
    pub schema_hash: String,
    /// Rows reported by `PRAGMA foreign_key_check` at backup time.
    pub foreign_key_violations: u64,
    /// Statement statistics of the dump.
    pub statements: StatementStats,
}

/// The encryption parameters of the data object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Encryption {
    /// The id of the master key (never the key).
    pub key_id: String,
    /// [`CIPHER`].
    pub cipher: String,
    /// Plaintext bytes per chunk.
    pub chunk_size: u32,
}

/// A byte count and a SHA-256.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Digests {
    /// Length in bytes.
    pub bytes: u64,
    /// SHA-256, lowercase hex.
    pub sha256: String,
}

/// Whether all tables were read at one point in time.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Snapshot {
    /// True when the whole database was read in one transaction.
    pub consistent: bool,
    /// How it was read, in words.
    pub detail: String,
}

/// One table of the dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableEntry {
    /// The table's name.
    pub name: String,
    /// `table`, `without-rowid` or `fts5`.
    #[serde(rename = "type")]
    pub kind: String,
    /// Rows written to the dump.
    pub rows: u64,
}

impl From<&crate::dump::TableSummary> for TableEntry {
    fn from(table: &crate::dump::TableSummary) -> Self {
        let kind = match table.kind {
            crate::dump::TableKind::Table => "table",
            crate::dump::TableKind::WithoutRowid => "without-rowid",
            crate::dump::TableKind::Fts5 => "fts5",
        };
        Self {
            name: table.name.clone(),
            kind: kind.to_owned(),
            rows: table.rows,
        }
    }
}

/// Statement statistics, proof that every statement fits D1's limit.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StatementStats {
    /// Number of statements in the dump.
    pub count: u64,
    /// The largest statement, in bytes (always under 100,000).
    pub largest_bytes: u64,
}

impl Manifest {
    /// Total rows over all tables.
    pub fn total_rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
    }

    /// The short form shown in listings.
    pub fn listing(&self) -> ListingEntry {
        ListingEntry {
            id: self.id.clone(),
            created_at: self.created_at,
            kind: self.kind,
            bytes: self.ciphertext.bytes,
            tables: self.tables.len() as u64,
            rows: self.total_rows(),
            key_id: self.encryption.key_id.clone(),
            pinned: self.pinned,
            environment: self.environment.clone(),
        }
    }
}

/// One line of `GET /v1/backups`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ListingEntry {
    /// The backup id.
    pub id: String,
    /// When it was taken.
    pub created_at: Timestamp,
    /// scheduled, manual, pre-restore or imported.
    pub kind: BackupKind,
    /// Size of the encrypted object in bytes.
    pub bytes: u64,
    /// Number of tables.
    pub tables: u64,
    /// Total rows.
    pub rows: u64,
    /// The encryption key's id.
    pub key_id: String,
    /// Whether it is pinned.
    pub pinned: bool,
    /// The environment that took it.
    pub environment: String,
}

impl ListingEntry {
    /// What the retention policy needs to know about this backup.
    pub fn retention_ref(&self) -> BackupRef {
        BackupRef {
            id: self.id.clone(),
            created_at: self.created_at,
            kind: self.kind,
            pinned: self.pinned,
        }
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;

    pub(crate) fn sample() -> Manifest {
        Manifest {
            manifest_version: MANIFEST_VERSION,
            id: "20261121T020000.000Z-0a1b2c".into(),
            created_at: Timestamp::from_millis(1_795_226_400_000),
            duration_ms: 1234,
            kind: BackupKind::Scheduled,
            environment: "staging".into(),
            database: "app-db".into(),
            pinned: false,
            note: None,
            worker_version: "0.1.0".into(),
            object_key: "backups/d1/20261121T020000.000Z-0a1b2c.sql.enc".into(),
            encryption: Encryption {
                key_id: "0123456789abcdef".into(),
                cipher: CIPHER.into(),
                chunk_size: 65_536,
            },
            plaintext: Digests {
                bytes: 10,
                sha256: "aa".repeat(32),
            },
            ciphertext: Digests {
                bytes: 200,
                sha256: "bb".repeat(32),
            },
            snapshot: Snapshot {
                consistent: false,
                detail: "paged".into(),
            },
            tables: vec![
                TableEntry {
                    name: "users".into(),
                    kind: "table".into(),
                    rows: 200,
                },
                TableEntry {
                    name: "tasks".into(),
                    kind: "table".into(),
                    rows: 3000,
                },
            ],
            indexes: vec!["users_email_lower_uq".into()],
            views: vec![],
            triggers: vec![],
            schema_hash: "cc".repeat(32),
            foreign_key_violations: 0,
            statements: StatementStats {
                count: 40,
                largest_bytes: 60_000,
            },
        }
    }

    #[test]
    fn round_trips_through_json() {
        let manifest = sample();
        let text = serde_json::to_string(&manifest).unwrap();
        assert_eq!(serde_json::from_str::<Manifest>(&text).unwrap(), manifest);
        let value: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(value["tables"][0]["type"], "table");
        assert_eq!(value["kind"], "scheduled");
        assert_eq!(value["created_at"], "2026-11-21T02:00:00.000Z");
    }

    #[test]
    fn listing_summarizes_and_fits_custom_metadata() {
        let listing = sample().listing();
        assert_eq!(
            (listing.tables, listing.rows, listing.bytes),
            (2, 3200, 200)
        );
        let text = serde_json::to_string(&listing).unwrap();
        assert!(
            text.len() < 1024,
            "R2 custom metadata is limited to 8 KiB in all"
        );
        assert_eq!(listing.retention_ref().id, listing.id);
    }
}
