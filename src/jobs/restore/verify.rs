//! Comparing a restore with its manifest: step 5's last part (what the SQL
//! creates against what the manifest lists) and step 9 (the live database
//! against the manifest after the import).

use super::{first_text, quote_ident, sorted, Check};
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
/// Tables whose rows one query counts (a compound SELECT of this many
/// parts): thousands of tables take a few dozen D1 queries, not thousands.
const TABLES_PER_COUNT_QUERY: usize = 50;

/// The row counts of `tables`, in order, with one query.
async fn count_rows(db: &impl SqlReader, tables: &[&TableEntry]) -> Result<Vec<String>, EdgeError> {
    let sql = tables
        .iter()
        .enumerate()
        .map(|(i, table)| {
            format!(
                "SELECT {i}, CAST(count(*) AS TEXT) FROM {}",
                quote_ident(&table.name)
            )
        })
        .collect::<Vec<_>>()
        .join(" UNION ALL ");
    let rows = db.query(&sql).await?;
    let mut counts = vec![String::new(); tables.len()];
    for row in rows {
        if let (Some(Some(index)), Some(Some(count))) = (row.first(), row.get(1)) {
            if let Some(slot) = index.parse::<usize>().ok().and_then(|i| counts.get_mut(i)) {
                *slot = count.clone();
            }
        }
    }
    Ok(counts)
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
    for group in counted.chunks(TABLES_PER_COUNT_QUERY) {
        counts.extend(count_rows(db, group).await?);
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
