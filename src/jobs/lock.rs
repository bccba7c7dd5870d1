//! One job at a time: a lock object in R2.
//!
//! Acquiring creates [`LOCK_KEY`] only if it does not exist (a conditional
//! put). A lock past its expiry (a run that crashed, or a killed runtime) is
//! taken over by replacing it only if its etag is unchanged, so two runs
//! racing for an expired lock cannot both win. Releasing deletes it, after
//! checking it is still ours.

use super::store::{EdgeError, ObjectStore};
use crate::layout::LOCK_KEY;
use crate::time::Timestamp;
use serde::{Deserialize, Serialize};

/// The lock object's content.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockRecord {
    /// What holds it: `backup`, `prune` or `restore`.
    pub operation: String,
    /// The run that holds it (a backup or restore id).
    pub holder: String,
    /// When it was taken.
    pub acquired_at: Timestamp,
    /// When it stops counting.
    pub expires_at: Timestamp,
}

/// Why the lock could not be taken.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LockError {
    /// Another run holds the lock.
    #[error("a {} ({}) is running since {}; try again after it finishes (the lock expires at {} at the latest)", .0.operation, .0.holder, .0.acquired_at, .0.expires_at)]
    Held(LockRecord),
    /// The bucket failed.
    #[error("lock: {0}")]
    Store(#[from] EdgeError),
}

/// A held lock; give it back with [`release`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Lock {
    /// What was written.
    pub record: LockRecord,
}

/// Takes the lock for `operation` by `holder` at `now`, honoured for `ttl_ms`
/// unless released earlier (`LOCK_TTL_SECONDS`: longer than a run takes).
pub async fn acquire(
    store: &impl ObjectStore,
    operation: &str,
    holder: &str,
    now: Timestamp,
    ttl_ms: i64,
) -> Result<Lock, LockError> {
    let record = LockRecord {
        operation: operation.to_owned(),
        holder: holder.to_owned(),
        acquired_at: now,
        expires_at: Timestamp::from_millis(now.as_millis() + ttl_ms),
    };
    let body = serde_json::to_vec(&record).map_err(|e| EdgeError::new("lock: encode", e))?;
    if store.create(LOCK_KEY, body.clone()).await? {
        return Ok(Lock { record });
    }
    let Some(existing) = store.get(LOCK_KEY).await? else {
        // Released between our two calls: try once more.
        return if store.create(LOCK_KEY, body).await? {
            Ok(Lock { record })
        } else {
            Err(LockError::Held(unknown_holder(now, ttl_ms)))
        };
    };
    match serde_json::from_slice::<LockRecord>(&existing.body) {
        Ok(held) if held.expires_at > now => Err(LockError::Held(held)),
        // Expired, or unreadable (treated as expired): take it over atomically.
        _ => {
            if store.replace(LOCK_KEY, body, &existing.etag).await? {
                Ok(Lock { record })
            } else {
                Err(LockError::Held(unknown_holder(now, ttl_ms)))
            }
        }
    }
}

/// Gives the lock back, unless another run has taken it over since.
pub async fn release(store: &impl ObjectStore, lock: &Lock) -> Result<(), EdgeError> {
    if let Some(current) = store.get(LOCK_KEY).await? {
        if serde_json::from_slice::<LockRecord>(&current.body)
            .ok()
            .as_ref()
            == Some(&lock.record)
        {
            store.delete(LOCK_KEY).await?;
        }
    }
    Ok(())
}

/// The current holder, if any (for `/v1/status`).
pub async fn current(store: &impl ObjectStore) -> Result<Option<LockRecord>, EdgeError> {
    Ok(store
        .get(LOCK_KEY)
        .await?
        .and_then(|object| serde_json::from_slice(&object.body).ok()))
}

fn unknown_holder(now: Timestamp, ttl_ms: i64) -> LockRecord {
    LockRecord {
        operation: "job".into(),
        holder: "another run".into(),
        acquired_at: now,
        expires_at: Timestamp::from_millis(now.as_millis() + ttl_ms),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::jobs::testing::{block_on, MemoryStore};

    const T0: Timestamp = Timestamp::from_millis(1_795_226_400_000);
    const LOCK_TTL_MS: i64 = 900_000;

    #[test]
    fn a_second_run_is_refused_while_the_first_holds_the_lock() {
        let store = MemoryStore::default();
        let first = block_on(acquire(&store, "backup", "run-1", T0, LOCK_TTL_MS)).unwrap();
        let refused = block_on(acquire(&store, "backup", "run-2", T0, LOCK_TTL_MS)).unwrap_err();
        let LockError::Held(held) = &refused else {
            panic!("{refused:?}")
        };
        assert_eq!(held.holder, "run-1");
        assert!(refused.to_string().contains("backup (run-1) is running"));
        block_on(release(&store, &first)).unwrap();
        assert!(block_on(acquire(&store, "backup", "run-2", T0, LOCK_TTL_MS)).is_ok());
    }

    #[test]
    fn an_expired_lock_is_taken_over() {
        let store = MemoryStore::default();
        block_on(acquire(&store, "backup", "crashed", T0, LOCK_TTL_MS)).unwrap();
        let later = Timestamp::from_millis(T0.as_millis() + LOCK_TTL_MS + 1);
        let lock = block_on(acquire(&store, "backup", "next", later, LOCK_TTL_MS)).unwrap();
        assert_eq!(block_on(current(&store)).unwrap().unwrap().holder, "next");
        block_on(release(&store, &lock)).unwrap();
        assert_eq!(block_on(current(&store)).unwrap(), None);
    }

    #[test]
    fn release_leaves_a_lock_taken_over_by_another_run() {
        let store = MemoryStore::default();
        let stale = block_on(acquire(&store, "backup", "slow", T0, LOCK_TTL_MS)).unwrap();
        let later = Timestamp::from_millis(T0.as_millis() + LOCK_TTL_MS + 1);
        block_on(acquire(&store, "restore", "fast", later, LOCK_TTL_MS)).unwrap();
        block_on(release(&store, &stale)).unwrap();
        assert_eq!(block_on(current(&store)).unwrap().unwrap().holder, "fast");
    }

    #[test]
    fn a_racing_takeover_loses_when_the_etag_changed() {
        let store = MemoryStore::default();
        block_on(acquire(&store, "backup", "crashed", T0, LOCK_TTL_MS)).unwrap();
        let stale = block_on(store.get(LOCK_KEY)).unwrap().unwrap();
        let later = Timestamp::from_millis(T0.as_millis() + LOCK_TTL_MS + 1);
        block_on(acquire(&store, "backup", "winner", later, LOCK_TTL_MS)).unwrap();
        assert!(!block_on(store.replace(LOCK_KEY, b"loser".to_vec(), &stale.etag)).unwrap());
    }
}
