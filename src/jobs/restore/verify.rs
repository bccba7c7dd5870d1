//! Comparing a restore with its manifest: step 5's last part (what the SQL
//! creates against what the manifest lists) and step 9 (the live database
//! against the manifest after the import).

use super::{first_text, quote_ident, sorted, Check};
use crate::d1_limits::{MAX_COLUMNS, MAX_STATEMENT_BYTES};
use crate::dump::{schema_sha256, SCHEMA_QUERY};
use crate::internal_names::is_internal_name;
use crate::jobs::store::{EdgeError, SqlReader};
use crate::manifest::{Manifest, TableEntry};
use crate::restore::validate::RestoreSummary;

/// Tables whose row count cannot be compared with the manifest's, and why
/// (see [`summary_warnings`](super::summary_warnings)).
fn not_comparable(summary: &RestoreSummary) -> Vec<(&str, &'static str)> {
    let contentless = summary.contentless_tables.iter().map(|t| {
        (
            t.as_str(),
            "not comparable: a contentless FTS5 table is recreated empty; rebuild its index from your source data",
        )
    });
    let uncounted = summary.uncounted_tables.iter().map(|t| {
        (
            t.as_str(),
            "not comparable: an FTS5 table whose content is a view has the rows of that view",
        )
    });
    contentless.chain(uncounted).collect()
}

/// Step 5's last part: what the SQL creates must be what the manifest lists.
/// Tables whose rows cannot be counted are compared by name only.
pub(crate) fn compare_summary(manifest: &Manifest, summary: &RestoreSummary) -> Result<(), String> {
    let skipped = not_comparable(summary);
    let comparable = |name: &str| !skipped.iter().any(|(t, _)| *t == name);
    // Tables with the rows counted, then the others by name.
    let split = |tables: Vec<(String, u64)>| {
        let (counted, named): (Vec<_>, Vec<_>) =
            tables.into_iter().partition(|(name, _)| comparable(name));
        let named: Vec<String> = named.into_iter().map(|(name, _)| name).collect();
        (counted, named)
    };
    let (expected, expected_named) = split(
        manifest
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect(),
    );
    let (found, found_named) = split(
        summary
            .tables
            .iter()
            .map(|t| (t.name.clone(), t.rows))
            .collect(),
    );
    let mut problems = Vec::new();
    if sorted(expected.clone()) != sorted(found.clone())
        || sorted(expected_named.clone()) != sorted(found_named.clone())
    {
        problems.push(format!(
            "tables and rows {found:?} differ from the manifest's {expected:?}"
        ));
    }
    for (what, listed, created) in [
        ("indexes", &manifest.indexes, &summary.indexes),
        ("views", &manifest.views, &summary.views),
        ("triggers", &manifest.triggers, &summary.triggers),
    ] {
        if sorted(listed.clone()) != sorted(created.clone()) {
            problems.push(format!(
                "{what} {created:?} differ from the manifest's {listed:?}"
            ));
        }
    }
    if summary.schema_sha256 != manifest.schema_hash {
        problems.push("the schema hash differs from the manifest's".into());
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(format!(
            "the SQL does not match its manifest: {}",
            problems.join("; ")
        ))
    }
}

/// Step 9: the live database against the manifest (`imported` is what the
/// import's statements created, for the tables whose rows cannot be compared).
/// Tables whose rows one query counts, one column each (D1 returns at most
/// [`MAX_COLUMNS`] columns, and allows no more than
/// [`crate::d1_limits::MAX_COMPOUND_SELECT_TERMS`] terms of a `UNION ALL`, so
/// columns it is): thousands of tables take a few dozen D1 queries, not
/// thousands.
const TABLES_PER_COUNT_QUERY: usize = MAX_COLUMNS - 10;
/// The longest count query, well under D1's statement limit even with long
/// table names.
const COUNT_QUERY_BYTES: usize = MAX_STATEMENT_BYTES / 2;

/// Groups `tables` for [`count_rows`]: at most [`TABLES_PER_COUNT_QUERY`]
/// and about [`COUNT_QUERY_BYTES`] of names each.
fn count_groups<'t>(tables: &[&'t TableEntry]) -> Vec<Vec<&'t TableEntry>> {
    let mut groups: Vec<Vec<&TableEntry>> = Vec::new();
    let mut bytes = 0;
    for table in tables {
        let size = 2 * table.name.len() + 48;
        match groups.last_mut() {
            Some(group)
                if group.len() < TABLES_PER_COUNT_QUERY && bytes + size <= COUNT_QUERY_BYTES =>
            {
                group.push(table);
                bytes += size;
            }
            _ => {
                groups.push(vec![table]);
                bytes = size;
            }
        }
    }
    groups
}

/// The row counts of `tables`, in order, with one query of one row.
async fn count_rows(db: &impl SqlReader, tables: &[&TableEntry]) -> Result<Vec<String>, EdgeError> {
    let columns = tables
        .iter()
        .map(|table| {
            format!(
                "(SELECT CAST(count(*) AS TEXT) FROM {})",
                quote_ident(&table.name)
            )
        })
        .collect::<Vec<_>>()
        .join(", ");
    let rows = db.query(&format!("SELECT {columns}")).await?;
    let row = rows.into_iter().next().unwrap_or_default();
    Ok((0..tables.len())
        .map(|i| row.get(i).cloned().flatten().unwrap_or_default())
        .collect())
}

pub(in crate::jobs) async fn verify(
    db: &impl SqlReader,
    manifest: &Manifest,
    imported: &RestoreSummary,
) -> Result<Vec<Check>, EdgeError> {
    let skipped = not_comparable(imported);
    let mut checks = Vec::new();
    let counted: Vec<&TableEntry> = manifest
        .tables
        .iter()
        .filter(|table| !skipped.iter().any(|(t, _)| *t == table.name))
        .collect();
    let mut counts = Vec::with_capacity(counted.len());
    for group in count_groups(&counted) {
        counts.extend(count_rows(db, &group).await?);
    }
    let mut counts = counts.into_iter();
    for table in &manifest.tables {
        if let Some((_, why)) = skipped.iter().find(|(t, _)| *t == table.name) {
            checks.push(Check {
                name: format!("rows of {}", table.name),
                ok: true,
                detail: format!("{why} ({} at backup time)", table.rows),
            });
            continue;
        }
        let count = counts.next().unwrap_or_default();
        checks.push(Check {
            name: format!("rows of {}", table.name),
            ok: count == table.rows.to_string(),
            detail: format!("expected {}, found {count}", table.rows),
        });
    }
    let schema = db.query(SCHEMA_QUERY).await?;
    let hash = schema_sha256(schema.clone()).map_err(|e| EdgeError::new("schema hash", e))?;
    checks.push(Check {
        name: "schema hash".into(),
        ok: hash == manifest.schema_hash,
        detail: format!("expected {}, found {hash}", manifest.schema_hash),
    });
    for (kind, plural, listed) in [
        ("index", "indexes", &manifest.indexes),
        ("view", "views", &manifest.views),
        ("trigger", "triggers", &manifest.triggers),
    ] {
        let found: Vec<String> = schema
            .iter()
            .filter(|row| row.first().and_then(|v| v.as_deref()) == Some(kind))
            .filter(|row| row.get(3).is_some_and(Option::is_some))
            .filter_map(|row| row.get(1).cloned().flatten())
            .filter(|name| !is_internal_name(name))
            .collect();
        checks.push(Check {
            name: plural.to_owned(),
            ok: sorted(found.clone()) == sorted(listed.clone()),
            detail: format!("expected {listed:?}, found {found:?}"),
        });
    }
    let violations = db
        .query("SELECT CAST(count(*) AS TEXT) FROM pragma_foreign_key_check")
        .await?;
    let violations: u64 = first_text(&violations)
        .and_then(|t| t.parse().ok())
        .unwrap_or(u64::MAX);
    checks.push(Check {
        name: "foreign_key_check".into(),
        ok: violations <= manifest.foreign_key_violations,
        detail: format!(
            "{violations} violations; {} at backup time",
            manifest.foreign_key_violations
        ),
    });
    let quick = db.query("PRAGMA quick_check").await?;
    let quick = first_text(&quick).unwrap_or_default();
    checks.push(Check {
        name: "quick_check".into(),
        ok: quick == "ok",
        detail: quick,
    });
    Ok(checks)
}
