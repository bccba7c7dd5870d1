//! The catalog of complete backups, and pruning it under the retention policy.
//!
//! A backup is listed if and only if its manifest exists. Deleting removes
//! the manifest first, then the data object, so an interrupted delete leaves
//! an unlisted orphan (cleaned up later), never a listed backup without data.

use super::store::{list_all, EdgeError, ObjectStore};
use crate::config::RetentionCounts;
use crate::layout::{
    id_from_manifest_key, id_from_object_key, manifest_key, object_key, MANIFEST_PREFIX, PREFIX,
};
use crate::listing::newest_first;
use crate::manifest::{ListingEntry, Manifest, LISTING_METADATA_KEY};
use crate::retention::{RetentionPlan, RetentionPolicy};
use crate::time::Timestamp;
use std::collections::HashSet;

/// Every complete backup, newest first.
pub async fn list_backups(store: &impl ObjectStore) -> Result<Vec<ListingEntry>, EdgeError> {
    let mut entries = Vec::new();
    for object in list_all(store, MANIFEST_PREFIX).await? {
        let Some(id) = id_from_manifest_key(&object.key) else {
            continue;
        };
        let listed = object
            .metadata
            .get(LISTING_METADATA_KEY)
            .and_then(|text| serde_json::from_str::<ListingEntry>(text).ok());
        match listed {
            Some(entry) => entries.push(entry),
            // No listing metadata (written by hand, or by an older worker): read the manifest.
            None => {
                if let Some(manifest) = get_manifest(store, id).await? {
                    entries.push(manifest.listing());
                }
            }
        }
    }
    entries.sort_by(newest_first);
    Ok(entries)
}

/// A backup's manifest, or `None` if there is no such backup.
pub async fn get_manifest(
    store: &impl ObjectStore,
    id: &str,
) -> Result<Option<Manifest>, EdgeError> {
    let key = manifest_key(id);
    let Some(object) = store.get(&key).await? else {
        return Ok(None);
    };
    serde_json::from_slice(&object.body)
        .map(Some)
        .map_err(|e| EdgeError::new(format!("read manifest {key}"), e))
}

/// Deletes a backup: manifest first, then data object.
pub async fn delete_backup(store: &impl ObjectStore, id: &str) -> Result<(), EdgeError> {
    store.delete(&manifest_key(id)).await?;
    store.delete(&object_key(id)).await
}

/// The retention plan for the bucket's backups at `now`.
pub async fn plan(
    store: &impl ObjectStore,
    counts: RetentionCounts,
    now: Timestamp,
) -> Result<RetentionPlan, EdgeError> {
    let backups: Vec<_> = list_backups(store)
        .await?
        .iter()
        .map(ListingEntry::retention_ref)
        .collect();
    Ok(RetentionPolicy::new(counts).apply(&backups, now))
}

/// Backups one run deletes at most (two R2 calls each), so that a policy
/// made much stricter, or a bucket that grew for months, stays within one
/// invocation's subrequests; the next runs delete the rest.
pub const MAX_PRUNED_PER_RUN: usize = 200;

/// Deletes the backups the plan removes, at most [`MAX_PRUNED_PER_RUN`];
/// returns their ids.
pub async fn prune(
    store: &impl ObjectStore,
    plan: &RetentionPlan,
) -> Result<Vec<String>, EdgeError> {
    let mut removed = Vec::new();
    for id in plan.remove_ids().into_iter().take(MAX_PRUNED_PER_RUN) {
        delete_backup(store, id).await?;
        removed.push(id.to_owned());
    }
    Ok(removed)
}

/// Deletes data objects that have no manifest: leftovers of runs that died
/// between completing the upload and writing the manifest, or of an
/// interrupted delete. Call only from the jobs' object, which runs one
/// job at a time, so that no backup is between those two steps.
pub async fn remove_orphans(store: &impl ObjectStore) -> Result<Vec<String>, EdgeError> {
    let listed: HashSet<String> = list_all(store, MANIFEST_PREFIX)
        .await?
        .iter()
        .filter_map(|object| id_from_manifest_key(&object.key).map(str::to_owned))
        .collect();
    let mut removed = Vec::new();
    for object in list_all(store, PREFIX).await? {
        if let Some(id) = id_from_object_key(&object.key) {
            if !listed.contains(id) {
                store.delete(&object.key).await?;
                removed.push(id.to_owned());
            }
        }
    }
    Ok(removed)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::backup::write_manifest;
    use crate::jobs::testing::{block_on, MemoryStore};
    use crate::manifest::tests::sample;
    use crate::retention::BackupKind;

    const DAY_MS: i64 = 86_400_000;
    const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);

    fn backup(store: &MemoryStore, id: &str, days_ago: i64, pinned: bool) {
        let mut manifest = sample();
        manifest.id = id.into();
        manifest.created_at = Timestamp::from_millis(T0.as_millis() - days_ago * DAY_MS);
        manifest.pinned = pinned;
        manifest.kind = BackupKind::Scheduled;
        block_on(store.put(&object_key(id), vec![1, 2, 3], &[])).unwrap();
        block_on(write_manifest(store, &manifest)).unwrap();
    }

    #[test]
    fn lists_newest_first_across_listing_pages() {
        let store = MemoryStore::with_list_page_size(2);
        for (i, id) in ["a", "b", "c", "d", "e"].iter().enumerate() {
            backup(&store, id, i as i64, false);
        }
        let ids: Vec<String> = block_on(list_backups(&store))
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(ids, ["a", "b", "c", "d", "e"]);
    }

    #[test]
    fn prunes_what_the_plan_removes_and_nothing_else() {
        let store = MemoryStore::default();
        for day in 0..10 {
            backup(&store, &format!("day{day}"), day, day == 9);
        }
        let counts = RetentionCounts {
            daily: 3,
            weekly: 0,
            monthly: 0,
            yearly: 0,
        };
        let plan = block_on(plan(&store, counts, T0)).unwrap();
        let removed = block_on(prune(&store, &plan)).unwrap();
        assert_eq!(removed.len(), 6, "{removed:?}");
        let left: Vec<String> = block_on(list_backups(&store))
            .unwrap()
            .into_iter()
            .map(|e| e.id)
            .collect();
        assert_eq!(left, ["day0", "day1", "day2", "day9"]);
        for id in &removed {
            assert!(
                store.body(&object_key(id)).is_none(),
                "data of {id} left behind"
            );
        }
    }

    #[test]
    fn thousands_of_backups_are_listed_planned_and_pruned_within_one_invocations_calls() {
        use crate::jobs::slice::{Meter, Metered};
        let store = MemoryStore::default();
        for i in 0..3_000 {
            backup(&store, &format!("b{i:05}"), i / 4, false);
        }
        let clock = || T0;
        let meter = Meter::unlimited(&clock);
        let metered = Metered::new(&store, &meter);
        assert_eq!(block_on(list_backups(&metered)).unwrap().len(), 3_000);
        assert_eq!(meter.usage().subrequests, 3, "pages of 1,000");
        let counts = RetentionCounts {
            daily: 2,
            weekly: 0,
            monthly: 0,
            yearly: 0,
        };
        let plan = block_on(plan(&metered, counts, T0)).unwrap();
        let removed = block_on(prune(&metered, &plan)).unwrap();
        assert_eq!(
            removed.len(),
            MAX_PRUNED_PER_RUN,
            "the rest waits for the next runs"
        );
        let calls = meter.usage().subrequests;
        assert!(
            calls < 1_000,
            "{calls} R2 calls: within the Free plan's subrequests"
        );
        assert_eq!(
            block_on(list_backups(&store)).unwrap().len(),
            3_000 - MAX_PRUNED_PER_RUN
        );
    }

    #[test]
    fn orphans_are_removed_and_listed_backups_kept() {
        let store = MemoryStore::default();
        backup(&store, "kept", 0, false);
        block_on(store.put(&object_key("orphan"), vec![0], &[])).unwrap();
        block_on(store.put("backups/d1/reports/runs/x.json", vec![0], &[])).unwrap();
        assert_eq!(
            block_on(remove_orphans(&store)).unwrap(),
            vec!["orphan".to_string()]
        );
        assert!(store.body(&object_key("kept")).is_some());
        assert!(store.body("backups/d1/reports/runs/x.json").is_some());
    }

    #[test]
    fn a_manifest_without_listing_metadata_is_still_listed() {
        let store = MemoryStore::default();
        let mut manifest = sample();
        manifest.id = "bare".into();
        block_on(store.put(
            &manifest_key("bare"),
            serde_json::to_vec(&manifest).unwrap(),
            &[],
        ))
        .unwrap();
        let listed = block_on(list_backups(&store)).unwrap();
        assert_eq!(listed.len(), 1);
        assert_eq!(listed[0].rows, manifest.total_rows());
    }
}
