//! The order of the backup listing and its pages.
//!
//! Backups are listed newest first by `created_at`, ties broken by id,
//! descending. A page's `next_cursor` names the position of its last backup
//! in that order, `<created_at in milliseconds>~<id>` (`~` never occurs in a
//! backup id), so the next page starts right after it whatever the ids look
//! like: an imported backup's id need not sort with its date.
//!
//! Invariants: walking the pages from no cursor until `next_cursor` is
//! `None` yields every backup exactly once, in order, whatever the page
//! size; a cursor stays valid after its backup is deleted.

use crate::manifest::ListingEntry;
use crate::time::Timestamp;
use std::cmp::Ordering;

/// What separates the time from the id in a cursor.
const CURSOR_SEPARATOR: char = '~';

/// The listing order: newest first, then by id descending.
pub fn newest_first(a: &ListingEntry, b: &ListingEntry) -> Ordering {
    b.created_at
        .cmp(&a.created_at)
        .then_with(|| b.id.cmp(&a.id))
}

/// A cursor the listing did not give.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "cursor {0:?} is not one the listing gave: pass back the next_cursor of an earlier page, or \
     start again without a cursor"
)]
pub struct CursorError(pub String);

/// One page of the listing.
#[derive(Debug, Clone, PartialEq)]
pub struct Page {
    /// Up to `limit` backups, in listing order.
    pub backups: Vec<ListingEntry>,
    /// Where the next page starts; `None` on the last page.
    pub next_cursor: Option<String>,
}

/// The page of at most `limit` backups of `entries` (in any order) that
/// follows `cursor`, or the first page without one.
pub fn page(
    mut entries: Vec<ListingEntry>,
    cursor: Option<&str>,
    limit: usize,
) -> Result<Page, CursorError> {
    entries.sort_by(newest_first);
    let after = match cursor {
        None => 0,
        Some(cursor) => {
            let (at, id) = parse_cursor(cursor)?;
            entries.partition_point(|entry| (entry.created_at, entry.id.as_str()) >= (at, id))
        }
    };
    let rest = entries.len() - after;
    let backups: Vec<ListingEntry> = entries.into_iter().skip(after).take(limit).collect();
    let next_cursor = if rest > backups.len() {
        backups.last().map(cursor_of)
    } else {
        None
    };
    Ok(Page {
        backups,
        next_cursor,
    })
}

/// The cursor that points just after `entry`.
fn cursor_of(entry: &ListingEntry) -> String {
    format!(
        "{}{CURSOR_SEPARATOR}{}",
        entry.created_at.as_millis(),
        entry.id
    )
}

fn parse_cursor(cursor: &str) -> Result<(Timestamp, &str), CursorError> {
    let invalid = || CursorError(cursor.to_owned());
    let (millis, id) = cursor.split_once(CURSOR_SEPARATOR).ok_or_else(invalid)?;
    let millis: i64 = millis.parse().map_err(|_| invalid())?;
    Ok((Timestamp::from_millis(millis), id))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::retention::BackupKind;

    fn entry(id: &str, millis: i64, kind: BackupKind) -> ListingEntry {
        ListingEntry {
            id: id.into(),
            created_at: Timestamp::from_millis(millis),
            kind,
            bytes: 1,
            tables: 1,
            rows: 1,
            key_id: "k".into(),
            pinned: false,
            environment: "test".into(),
        }
    }

    /// 1,000 backups of every kind, whose ids sort unlike their dates
    /// (imports keep the id of their source), some at the same instant.
    fn mixed() -> Vec<ListingEntry> {
        let kinds = [
            BackupKind::Scheduled,
            BackupKind::Manual,
            BackupKind::PreRestore,
            BackupKind::Imported,
        ];
        (0..1000)
            .map(|i: i64| {
                let kind = kinds[(i % 4) as usize];
                let id = match kind {
                    BackupKind::Imported => format!("ext-{:04}", (i * 7919) % 1000),
                    _ => format!("20261120T{:06}Z-{i:04}", i * 37 % 1000),
                };
                entry(&id, 1_795_000_000_000 + (i / 3) * 60_000, kind)
            })
            .collect()
    }

    fn walk(entries: &[ListingEntry], limit: usize) -> Vec<String> {
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = page(entries.to_vec(), cursor.as_deref(), limit).unwrap();
            assert!(page.backups.len() <= limit);
            seen.extend(page.backups.iter().map(|entry| entry.id.clone()));
            match page.next_cursor {
                Some(next) => cursor = Some(next),
                None => return seen,
            }
        }
    }

    #[test]
    fn small_pages_over_mixed_kinds_see_every_backup_once_in_order() {
        let entries = mixed();
        let mut expected = entries.clone();
        expected.sort_by(newest_first);
        let expected: Vec<String> = expected.into_iter().map(|entry| entry.id).collect();
        for limit in [1, 2, 7, 50, 999, 1000, 5000] {
            assert_eq!(walk(&entries, limit), expected, "pages of {limit}");
        }
    }

    #[test]
    fn a_cursor_stays_valid_when_its_backup_is_deleted() {
        let mut entries = mixed();
        let first = page(entries.clone(), None, 10).unwrap();
        let cursor = first.next_cursor.unwrap();
        let last = first.backups.last().unwrap().id.clone();
        entries.retain(|entry| entry.id != last);
        let second = page(entries.clone(), Some(&cursor), 10).unwrap();
        let whole = page(entries, None, 19).unwrap();
        assert_eq!(second.backups, whole.backups[9..]);
    }

    #[test]
    fn a_cursor_the_listing_did_not_give_is_refused() {
        for cursor in ["20261120T020000Z-ab12cd", "abc~id", "~"] {
            let error = page(mixed(), Some(cursor), 10).unwrap_err();
            assert!(error.to_string().contains("without a cursor"), "{error}");
        }
    }

    #[test]
    fn the_last_page_has_no_cursor() {
        let entries = mixed();
        assert_eq!(page(entries.clone(), None, 1000).unwrap().next_cursor, None);
        assert!(page(entries, None, 999).unwrap().next_cursor.is_some());
        assert_eq!(
            page(Vec::new(), None, 10).unwrap(),
            Page {
                backups: Vec::new(),
                next_cursor: None
            }
        );
    }
}
