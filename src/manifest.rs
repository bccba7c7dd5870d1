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
pub const CIPHER: &str = "AES-256-GCM, STREAM, HKDF-SHA256 (d1-vault suite 1)";
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
    /// Rows reported by `PRAGMA foreign_key_check` at backup time: the
    /// larger of the counts at the dump's start and end (see
    /// [`Manifest::foreign_key_check`]), which a restore may not exceed.
    pub foreign_key_violations: u64,
    /// Statement statistics of the dump.
    pub statements: StatementStats,
    /// `PRAGMA foreign_key_check` at the start and the end of the dump.
    /// Absent from manifests written before it existed (all zero).
    #[serde(default)]
    pub foreign_key_check: ForeignKeyCheck,
    /// What an operator must know before relying on this backup: what it
    /// could not keep exactly, or what a restore will refuse or warn about.
    #[serde(default)]
    pub warnings: Vec<Warning>,
    /// The self-check the backup passed before it was stored; `None` for
    /// imported objects and for manifests written before it existed.
    #[serde(default)]
    pub self_check: Option<SelfCheckRecord>,
}

/// `PRAGMA foreign_key_check` around the dump.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct ForeignKeyCheck {
    /// Violations before the first row was read.
    pub at_start: u64,
    /// Violations after the last row was read.
    pub at_end: u64,
    /// Tables holding a violating row at either point, sorted.
    pub tables: Vec<String>,
}

/// One thing an operator must know about a backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Warning {
    /// A stable code for scripts, such as [`WARNING_FOREIGN_KEY_VIOLATIONS`].
    pub code: String,
    /// The table it concerns, if one.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub table: Option<String>,
    /// What it means and what to do, in words.
    pub message: String,
}

/// The code of the warning that the database held foreign-key violations.
pub const WARNING_FOREIGN_KEY_VIOLATIONS: &str = "foreign_key_violations";

impl From<&crate::dump::DumpWarning> for Warning {
    fn from(warning: &crate::dump::DumpWarning) -> Self {
        use crate::dump::DumpWarningKind;
        let (code, message) = match warning.kind {
            DumpWarningKind::Fts5ContentlessNotRestorable => (
                "fts5_contentless_not_restorable",
                format!(
                    "contentless FTS5 table (content=''): it stores no text, so its {} row(s) cannot \
                     be dumped, and a restore leaves it recreated empty: rebuild its index from your \
                     source data",
                    warning.rows
                ),
            ),
        };
        Self {
            code: code.into(),
            table: Some(warning.table.clone()),
            message,
        }
    }
}

/// What the backup's self-check computed: the restore's own statement
/// reader and validator read the whole dump as it was written and agreed
/// with the dump on tables, rows, schema objects and schema hash.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SelfCheckRecord {
    /// Statements the validator accepted.
    pub statements: u64,
    /// Tables it found.
    pub tables: u64,
    /// Rows it counted.
    pub rows: u64,
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
    /// The object's format version: 2 compresses the SQL (DEFLATE frames)
    /// before encrypting it. Manifests from before version 2 have none: 1.
    #[serde(default = "format_version_1")]
    pub format_version: u8,
}

fn format_version_1() -> u8 {
    1
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
                format_version: 2,
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
            foreign_key_check: ForeignKeyCheck::default(),
            warnings: vec![],
            self_check: Some(SelfCheckRecord {
                statements: 40,
                tables: 2,
                rows: 3200,
            }),
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
    fn manifests_written_before_the_checks_existed_still_parse() {
        let mut value = serde_json::to_value(sample()).unwrap();
        let object = value.as_object_mut().unwrap();
        for field in ["foreign_key_check", "warnings", "self_check"] {
            object.remove(field);
        }
        let manifest: Manifest = serde_json::from_value(value).unwrap();
        assert_eq!(manifest.foreign_key_check, ForeignKeyCheck::default());
        assert!(manifest.warnings.is_empty());
        assert_eq!(manifest.self_check, None);
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
