//! Where things live in the backup bucket, and how backups are named.
//!
//! Every key is under [`PREFIX`]; one bucket per environment, or one prefix
//! per environment in a shared bucket (DESIGN.md, "R2 layout"):
//!
//! ```text
//! backups/d1/<id>.sql.enc                  the encrypted dump
//! backups/d1/manifests/<id>.manifest.json  its manifest, written last
//! backups/d1/reports/runs/<id>.json        the backup run's report
//! backups/d1/reports/restores/<id>.json    a restore's report
//! backups/d1/state/history.json            last runs, for /health and /v1/status
//! ```
//!
//! Backup ids sort by time: `YYYYMMDDTHHMMSS.mmmZ-xxxxxx` (UTC, then six
//! random hex digits), so R2's lexicographic listing is chronological.

use crate::time::Timestamp;

/// The root of everything d1-vault writes.
pub const PREFIX: &str = "backups/d1/";
/// Where manifests live; listing this prefix lists the complete backups.
pub const MANIFEST_PREFIX: &str = "backups/d1/manifests/";
/// Run history that `/health` and `/v1/status` read.
pub const HISTORY_KEY: &str = "backups/d1/state/history.json";

const OBJECT_SUFFIX: &str = ".sql.enc";
const MANIFEST_SUFFIX: &str = ".manifest.json";

/// The data object's key.
pub fn object_key(id: &str) -> String {
    format!("{PREFIX}{id}{OBJECT_SUFFIX}")
}

/// The manifest's key.
pub fn manifest_key(id: &str) -> String {
    format!("{MANIFEST_PREFIX}{id}{MANIFEST_SUFFIX}")
}

/// A backup run's report.
pub fn run_report_key(id: &str) -> String {
    format!("{PREFIX}reports/runs/{id}.json")
}

/// A restore's report.
pub fn restore_report_key(id: &str) -> String {
    format!("{PREFIX}reports/restores/{id}.json")
}

/// The backup id a manifest key belongs to, if it is one.
pub fn id_from_manifest_key(key: &str) -> Option<&str> {
    key.strip_prefix(MANIFEST_PREFIX)?
        .strip_suffix(MANIFEST_SUFFIX)
}

/// The backup id a data object key belongs to, if it is one (not nested).
pub fn id_from_object_key(key: &str) -> Option<&str> {
    let id = key.strip_prefix(PREFIX)?.strip_suffix(OBJECT_SUFFIX)?;
    (!id.contains('/')).then_some(id)
}

/// A new backup id for a backup started at `at`, made unique by `random`.
pub fn new_backup_id(at: Timestamp, random: [u8; 3]) -> String {
    let c = at.civil();
    format!(
        "{:04}{:02}{:02}T{:02}{:02}{:02}.{:03}Z-{:02x}{:02x}{:02x}",
        c.year,
        c.month,
        c.day,
        c.hour,
        c.minute,
        c.second,
        c.millisecond,
        random[0],
        random[1],
        random[2]
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keys_follow_the_documented_layout() {
        let id = "20261121T020000.000Z-0a1b2c";
        assert_eq!(
            object_key(id),
            "backups/d1/20261121T020000.000Z-0a1b2c.sql.enc"
        );
        assert_eq!(
            manifest_key(id),
            "backups/d1/manifests/20261121T020000.000Z-0a1b2c.manifest.json"
        );
        assert_eq!(
            run_report_key(id),
            "backups/d1/reports/runs/20261121T020000.000Z-0a1b2c.json"
        );
        assert_eq!(id_from_manifest_key(&manifest_key(id)), Some(id));
        assert_eq!(id_from_object_key(&object_key(id)), Some(id));
        assert_eq!(
            id_from_object_key("backups/d1/reports/runs/x.sql.enc"),
            None
        );
        assert_eq!(id_from_manifest_key(HISTORY_KEY), None);
    }

    #[test]
    fn ids_sort_by_time_and_are_valid_backup_ids() {
        let earlier = new_backup_id(
            Timestamp::from_millis(1_795_226_400_000),
            [0xff, 0xff, 0xff],
        );
        let later = new_backup_id(Timestamp::from_millis(1_795_226_400_001), [0, 0, 0]);
        assert_eq!(earlier, "20261121T020000.000Z-ffffff");
        assert!(earlier < later);
        assert!(crate::format::BackupId::parse(&earlier).is_ok());
    }
}
