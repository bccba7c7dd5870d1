//! Taking one backup: dump → encrypt → multipart upload → manifest.
//!
//! Everything streams: the dump writer emits SQL a page at a time, the
//! encryptor turns it into ciphertext as it comes, and ciphertext leaves in
//! parts of exactly [`PART_SIZE`] bytes (R2 requires equal non-final parts),
//! so memory is bounded by one part plus one page whatever the database's
//! size. The manifest is written last, after the object is complete; any
//! failure before that aborts the upload, and a failure writing the manifest
//! deletes the object, so a failed backup never leaves a listed half-backup.
//!
//! The backup proves itself as it is written: the same SQL bytes that are
//! encrypted go through the restore's reader and validator
//! ([`super::self_check`]), and the upload is completed only when what they
//! computed agrees with the manifest. `PRAGMA foreign_key_check` runs before
//! the first row and after the last; violations are recorded and warned
//! about, since a restore into D1 (which enforces foreign keys at every
//! batch's commit) cannot reproduce them.
//!
//! The work is done by [`BackupJob`](super::backup_job::BackupJob), a job
//! that advances in slices and saves a checkpoint between them;
//! [`take_backup`] runs it to its end in one go.

use super::backup_job::BackupJob;
use super::self_check::SelfCheckError;
use super::slice::{Meter, SliceEnd};
use super::store::{EdgeError, ObjectStore, SqlReader};
use crate::dump::{DumpError, DumpSummary};
use crate::format::keys::MasterKey;
use crate::format::{
    BackupIdError, EncryptSummary, EncryptorResumeError, Engine, EngineFailed, DEFAULT_CHUNK_SIZE,
};
use crate::layout::{manifest_key, object_key};
use crate::manifest::{
    Digests, Encryption, ForeignKeyCheck, Manifest, Snapshot, StatementStats, TableEntry, Warning,
    CIPHER, LISTING_METADATA_KEY, MANIFEST_VERSION, WARNING_FOREIGN_KEY_VIOLATIONS,
};
use crate::retention::BackupKind;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// Bytes per multipart part: R2 needs 5 MiB at least; 8 MiB × 10,000 parts
/// is 80 GB, far above D1's 10 GB.
pub const PART_SIZE: usize = 8 * 1024 * 1024;
/// R2's smallest non-final part.
pub const MIN_PART_SIZE: usize = 5 * 1024 * 1024;
const _: () = assert!(PART_SIZE >= MIN_PART_SIZE, "R2 refuses parts under 5 MiB");
/// R2's limit on parts per upload.
pub const MAX_PARTS: usize = 10_000;
/// The query that counts foreign-key violations per table at backup time.
/// Columns: the table's name, its violations.
pub const FOREIGN_KEY_CHECK_QUERY: &str = "SELECT \"table\", CAST(count(*) AS TEXT) \
     FROM pragma_foreign_key_check GROUP BY \"table\" ORDER BY \"table\"";

/// The view [`BackupFault::UnlistedView`] appends to the dump.
pub const INJECTED_VIEW_SQL: &str = "CREATE VIEW \"d1vault_injected_fault\" AS SELECT 1;\n";

/// A fault a test injects into a backup, to prove that the self-check
/// catches what it is for (only with `ENABLE_TEST_ROUTES`; see
/// [`crate::config::TEST_FAULT`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum BackupFault {
    /// The dump ends with a view its summary does not list
    /// ([`INJECTED_VIEW_SQL`]), as a bug in the dump writer would produce.
    UnlistedView,
}

/// What the backup is of, and with which key.
#[derive(Clone, Copy)]
pub struct BackupSettings<'a> {
    /// `ENVIRONMENT`.
    pub environment: &'a str,
    /// `DATABASE_NAME`.
    pub database: &'a str,
    /// The current master key.
    pub key: &'a MasterKey,
    /// What seals the object's chunks: WebCrypto in the worker, the
    /// `aes-gcm` crate ([`SoftwareEngine`](crate::format::SoftwareEngine)) elsewhere.
    pub engine: &'a dyn Engine,
    /// This worker's version.
    pub worker_version: &'a str,
    /// A fault to inject, in tests only.
    pub fault: Option<BackupFault>,
}

/// One backup to take.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct BackupRequest {
    /// Its id (see [`crate::layout::new_backup_id`]).
    pub id: String,
    /// Why it is taken.
    pub kind: BackupKind,
    /// Whether to pin it.
    pub pinned: bool,
    /// An operator's note.
    pub note: Option<String>,
    /// The time it stands for (a scheduled run's scheduled time).
    pub created_at: Timestamp,
    /// A fresh random salt.
    pub salt: [u8; 32],
}

/// Why a backup failed; nothing of it is listed afterwards.
#[derive(Debug, thiserror::Error)]
pub enum BackupError {
    /// The id is not a valid backup id.
    #[error("invalid backup id: {0}")]
    InvalidId(#[from] BackupIdError),
    /// A query against D1 failed.
    #[error("reading the database failed: {0}")]
    Database(EdgeError),
    /// The database holds something the dump cannot represent faithfully.
    #[error("the database cannot be dumped: {0}")]
    Dump(#[from] DumpError),
    /// Writing to R2 failed.
    #[error("writing the backup to R2 failed: {0}")]
    Store(EdgeError),
    /// The object would exceed R2's multipart limits.
    #[error("the backup would need more than {MAX_PARTS} parts of {PART_SIZE} bytes")]
    TooLarge,
    /// Our own restore would not accept the dump; nothing was stored.
    #[error(
        "the backup failed its self-check, so it was not stored: {0}. This is a bug in d1-vault's dump \
         writer: report it with this message; until it is fixed, keep older backups pinned"
    )]
    SelfCheck(#[from] SelfCheckError),
    /// The job's checkpoint cannot be carried on (the master key changed
    /// while it ran, or the checkpoint is damaged).
    #[error("the backup cannot carry on from its checkpoint: {0}")]
    Resume(#[from] EncryptorResumeError),
    /// The platform's AES-GCM failed.
    #[error("encrypting the backup failed: {0}")]
    Crypto(#[from] EngineFailed),
}

impl BackupError {
    /// Whether the same slice may pass when run again: a D1, R2 or
    /// WebCrypto failure. Anything else would fail again.
    pub fn is_transient(&self) -> bool {
        matches!(
            self,
            BackupError::Database(_) | BackupError::Store(_) | BackupError::Crypto(_)
        )
    }
}

/// Takes one backup of `db` into `store`; returns its manifest once listed.
/// `clock` measures the duration (the Workers clock advances on I/O).
///
/// Runs a [`BackupJob`] without a budget; on failure the job is abandoned
/// (its upload aborted, anything written deleted) before the error returns.
pub async fn take_backup(
    db: &impl SqlReader,
    store: &impl ObjectStore,
    settings: BackupSettings<'_>,
    request: &BackupRequest,
    clock: impl Fn() -> Timestamp,
) -> Result<Manifest, BackupError> {
    let meter = Meter::unlimited(&clock);
    let mut job = BackupJob::new(request.clone());
    loop {
        match job.run_slice(db, store, settings, &meter).await {
            Ok(SliceEnd::Continue) => {}
            Ok(SliceEnd::Done(manifest)) => return Ok(manifest),
            Err(error) => {
                let _ = job.abandon(store).await;
                return Err(error);
            }
        }
    }
}

/// Writes `manifest` with its listing entry as custom metadata.
pub async fn write_manifest(
    store: &impl ObjectStore,
    manifest: &Manifest,
) -> Result<(), EdgeError> {
    let body =
        serde_json::to_vec_pretty(manifest).map_err(|e| EdgeError::new("encode manifest", e))?;
    let listing = serde_json::to_string(&manifest.listing())
        .map_err(|e| EdgeError::new("encode listing", e))?;
    store
        .put(
            &manifest_key(&manifest.id),
            body,
            &[(LISTING_METADATA_KEY, listing)],
        )
        .await
}

/// Foreign-key violations per table, as [`FOREIGN_KEY_CHECK_QUERY`] counts them.
pub(super) type Violations = Vec<(String, u64)>;

/// Violations per table, from [`FOREIGN_KEY_CHECK_QUERY`].
pub(super) async fn foreign_key_violations(db: &impl SqlReader) -> Result<Violations, BackupError> {
    let rows = db
        .query(FOREIGN_KEY_CHECK_QUERY)
        .await
        .map_err(BackupError::Database)?;
    rows.into_iter()
        .map(|row| match row.as_slice() {
            [Some(table), Some(count)] => count.parse().ok().map(|n| (table.clone(), n)),
            _ => None,
        })
        .collect::<Option<_>>()
        .ok_or_else(|| {
            BackupError::Database(EdgeError::new(
                FOREIGN_KEY_CHECK_QUERY,
                "expected rows of a table name and a count",
            ))
        })
}

/// What a backup's manifest is made of besides the request and settings.
pub(super) struct ManifestParts<'a> {
    /// Milliseconds from the job's first slice to the end of the dump.
    pub(super) duration_ms: u64,
    /// The dump's summary.
    pub(super) dump: &'a DumpSummary,
    /// What the encryptor wrote.
    pub(super) encrypted: &'a EncryptSummary,
    /// Foreign-key violations before the first row.
    pub(super) at_start: &'a [(String, u64)],
    /// Foreign-key violations after the last row.
    pub(super) at_end: &'a [(String, u64)],
}

/// The manifest of a backup whose object is written, without the
/// self-check's record (the self-check compares against this manifest).
pub(super) fn build_manifest(
    request: &BackupRequest,
    settings: &BackupSettings<'_>,
    parts: ManifestParts<'_>,
) -> Manifest {
    let ManifestParts {
        duration_ms,
        dump,
        encrypted,
        at_start,
        at_end,
    } = parts;
    let foreign_key_check = ForeignKeyCheck {
        at_start: at_start.iter().map(|(_, n)| n).sum(),
        at_end: at_end.iter().map(|(_, n)| n).sum(),
        tables: union_of_tables(at_start, at_end),
    };
    Manifest {
        manifest_version: MANIFEST_VERSION,
        id: request.id.clone(),
        created_at: request.created_at,
        duration_ms,
        kind: request.kind,
        environment: settings.environment.to_owned(),
        database: settings.database.to_owned(),
        pinned: request.pinned,
        note: request.note.clone(),
        worker_version: settings.worker_version.to_owned(),
        object_key: object_key(&request.id),
        encryption: Encryption {
            key_id: encrypted.key_id.to_string(),
            cipher: CIPHER.to_owned(),
            chunk_size: DEFAULT_CHUNK_SIZE,
            format_version: encrypted.version.byte(),
        },
        plaintext: Digests {
            bytes: encrypted.plaintext_bytes,
            sha256: encrypted.plaintext_sha256.to_string(),
        },
        ciphertext: Digests {
            bytes: encrypted.ciphertext_bytes,
            sha256: encrypted.ciphertext_sha256.to_string(),
        },
        snapshot: Snapshot {
            consistent: false,
            detail: "read table by table in pages (ORDER BY rowid or primary key); each page is consistent, \
                     writes during the backup may be partly included"
                .into(),
        },
        tables: dump.tables.iter().map(TableEntry::from).collect(),
        indexes: dump.indexes.clone(),
        views: dump.views.clone(),
        triggers: dump.triggers.clone(),
        schema_hash: dump.schema_sha256.clone(),
        foreign_key_violations: foreign_key_check.at_start.max(foreign_key_check.at_end),
        statements: StatementStats {
            count: dump.statements,
            largest_bytes: dump.largest_statement_bytes as u64,
        },
        warnings: dump
            .warnings
            .iter()
            .map(Warning::from)
            .chain(foreign_key_warnings(&foreign_key_check))
            .collect(),
        foreign_key_check,
        self_check: None,
    }
}

fn union_of_tables(a: &[(String, u64)], b: &[(String, u64)]) -> Vec<String> {
    let mut tables: Vec<String> = a.iter().chain(b).map(|(table, _)| table.clone()).collect();
    tables.sort();
    tables.dedup();
    tables
}

/// One warning per table that held foreign-key violations.
fn foreign_key_warnings(check: &ForeignKeyCheck) -> Vec<Warning> {
    check
        .tables
        .iter()
        .map(|table| Warning {
            code: WARNING_FOREIGN_KEY_VIOLATIONS.into(),
            table: Some(table.clone()),
            message: format!(
                "table {table:?} has rows whose FOREIGN KEY parent does not exist (PRAGMA foreign_key_check); \
                 D1 checks foreign keys when a restore commits, so this backup cannot be restored into D1 \
                 as it is. Fix or delete those rows in the database; the next backup will be restorable. \
                 This backup still decrypts and loads into sqlite3 (d1-vault decrypt)"
            ),
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::format::keys::Keyring;
    use crate::format::{BackupId, Decryptor};
    use crate::jobs::testing::{block_on, noisy_connection, MemoryStore, SqliteReader};
    use crate::layout::MANIFEST_PREFIX;

    const KEY: &str = "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f";
    const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);

    fn database() -> SqliteReader {
        let connection = noisy_connection();
        connection
            .execute_batch(
                "CREATE TABLE parent(id INTEGER PRIMARY KEY, name TEXT NOT NULL);
                 CREATE TABLE child(id INTEGER PRIMARY KEY, parent_id INTEGER REFERENCES parent(id), body BLOB);
                 CREATE INDEX child_parent ON child(parent_id);
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 500)
                 INSERT INTO parent SELECT i, 'parent ' || i || ' ''quoted''' FROM n;
                 WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 3000)
                 INSERT INTO child SELECT i, 1 + i % 500, noise(i, 2 * i) FROM n;",
            )
            .unwrap();
        SqliteReader::new(connection)
    }

    fn request(id: &str) -> BackupRequest {
        BackupRequest {
            id: id.into(),
            kind: BackupKind::Manual,
            pinned: false,
            note: Some("test".into()),
            created_at: T0,
            salt: [7; 32],
        }
    }

    fn settings(key: &MasterKey) -> BackupSettings<'_> {
        BackupSettings {
            environment: "test",
            database: "app",
            key,
            engine: &crate::format::SoftwareEngine,
            worker_version: "0.0.0",
            fault: None,
        }
    }

    #[test]
    fn a_backup_is_an_object_that_decrypts_to_what_its_manifest_says() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let manifest = block_on(take_backup(
            &database(),
            &store,
            settings(&key),
            &request("b1"),
            || T0,
        ))
        .unwrap();
        assert_eq!(store.keys(), vec![object_key("b1"), manifest_key("b1")]);
        assert!(store.open_uploads().is_empty());
        let object = store.body(&object_key("b1")).unwrap();
        assert!(
            object.len() > PART_SIZE,
            "the test needs several parts: {}",
            object.len()
        );
        assert_eq!(manifest.ciphertext.bytes, object.len() as u64);

        let keyring = Keyring::new(MasterKey::from_hex(KEY).unwrap());
        let mut decryptor = Decryptor::new(&keyring, Some(&BackupId::parse("b1").unwrap()));
        let mut sql = Vec::new();
        decryptor.update(&object, &mut sql).unwrap();
        let summary = decryptor.finish(&mut sql).unwrap();
        assert_eq!(summary.plaintext_bytes, manifest.plaintext.bytes);
        assert_eq!(
            summary.plaintext_sha256.to_string(),
            manifest.plaintext.sha256
        );

        let copy = rusqlite::Connection::open_in_memory().unwrap();
        copy.execute_batch(std::str::from_utf8(&sql).unwrap())
            .unwrap();
        let rows: i64 = copy
            .query_row("SELECT count(*) FROM child", [], |r| r.get(0))
            .unwrap();
        assert_eq!(rows, 3000);
        let rows_by_table: Vec<(String, u64)> = manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect();
        assert_eq!(
            rows_by_table,
            vec![("parent".into(), 500), ("child".into(), 3000)]
        );
        assert_eq!(manifest.indexes, vec!["child_parent".to_string()]);
        assert_eq!(manifest.foreign_key_violations, 0);

        let listing = block_on(store.list(MANIFEST_PREFIX, None)).unwrap();
        let entry = &listing.objects[0].metadata[LISTING_METADATA_KEY];
        assert!(entry.contains("\"rows\":3500"), "{entry}");
    }

    #[test]
    fn a_failed_part_upload_aborts_and_leaves_nothing() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        store.fail_part_number.set(Some(2));
        let error = block_on(take_backup(
            &database(),
            &store,
            settings(&key),
            &request("b2"),
            || T0,
        ))
        .unwrap_err();
        assert!(matches!(error, BackupError::Store(_)), "{error}");
        assert!(store.keys().is_empty(), "{:?}", store.keys());
        assert!(
            store.open_uploads().is_empty(),
            "the upload was not aborted"
        );
    }

    #[test]
    fn a_failed_query_midway_aborts_and_leaves_nothing() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = database();
        db.fail_query_number.set(Some(6));
        let error = block_on(take_backup(
            &db,
            &store,
            settings(&key),
            &request("b3"),
            || T0,
        ))
        .unwrap_err();
        assert!(matches!(error, BackupError::Database(_)), "{error}");
        assert!(store.keys().is_empty());
        assert!(store.open_uploads().is_empty());
    }

    #[test]
    fn a_failed_manifest_write_removes_the_object() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        *store.fail_put_matching.borrow_mut() = Some("manifests/".into());
        let error = block_on(take_backup(
            &database(),
            &store,
            settings(&key),
            &request("b4"),
            || T0,
        ))
        .unwrap_err();
        assert!(matches!(error, BackupError::Store(_)), "{error}");
        assert!(store.keys().is_empty(), "{:?}", store.keys());
    }

    #[test]
    fn a_dump_its_own_restore_would_refuse_is_never_stored() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let mut settings = settings(&key);
        settings.fault = Some(BackupFault::UnlistedView);
        let error = block_on(take_backup(
            &database(),
            &store,
            settings,
            &request("b6"),
            || T0,
        ))
        .unwrap_err();
        assert!(matches!(error, BackupError::SelfCheck(_)), "{error}");
        let message = error.to_string();
        assert!(
            message.contains("views [\"d1vault_injected_fault\"]")
                && message.contains("not stored"),
            "{message}"
        );
        assert!(store.keys().is_empty(), "{:?}", store.keys());
        assert!(
            store.open_uploads().is_empty(),
            "the upload was not aborted"
        );
    }

    #[test]
    fn foreign_key_violations_at_either_end_are_recorded_and_warned_about() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        let db = database();
        db.connection
            .execute_batch(
                "PRAGMA foreign_keys = OFF;
                 INSERT INTO child VALUES (9001, 777, NULL), (9002, 778, NULL);
                 PRAGMA foreign_keys = ON;",
            )
            .unwrap();
        let manifest = block_on(take_backup(
            &db,
            &store,
            settings(&key),
            &request("b7"),
            || T0,
        ))
        .unwrap();
        let check = &manifest.foreign_key_check;
        assert_eq!((check.at_start, check.at_end), (2, 2));
        assert_eq!(check.tables, vec!["child".to_string()]);
        assert_eq!(manifest.foreign_key_violations, 2);
        assert_eq!(manifest.warnings.len(), 1);
        assert_eq!(manifest.warnings[0].code, WARNING_FOREIGN_KEY_VIOLATIONS);
        assert_eq!(manifest.warnings[0].table.as_deref(), Some("child"));
        let record = manifest.self_check.as_ref().expect("the self-check ran");
        assert_eq!(record.rows, manifest.total_rows());
    }

    #[test]
    fn every_non_final_part_has_the_same_size() {
        let key = MasterKey::from_hex(KEY).unwrap();
        let store = MemoryStore::default();
        block_on(take_backup(
            &database(),
            &store,
            settings(&key),
            &request("b5"),
            || T0,
        ))
        .unwrap();
        // MemoryUpload::complete refuses unequal non-final parts and a larger
        // last part; reaching here proves it.
        assert!(store.body(&object_key("b5")).is_some());
    }
}
