//! Step 7: dropping the user objects of the database before the import,
//! in an order D1 accepts with foreign keys on, and (re)creating the
//! restore's progress table first. All in one batch (one transaction, so a
//! failure changes nothing) when it fits the slice's D1 query budget, as
//! it does for a few hundred objects by default; a schema larger than
//! that is dropped in several batches, the first of which creates the
//! progress table, so a failure after it is seen as a changed database
//! and rolled back.

use super::quote_ident;
use crate::internal_names::is_internal_name;
use crate::jobs::restore_job::progress_table;
use crate::jobs::store::{EdgeError, SqlReader};
use crate::restore::plan::PlannedStatement;

/// Step 7's statements: drops any progress table left by an earlier run
/// and creates it empty, then drops every user table, view and trigger
/// (indexes go with their tables; FTS5 shadow tables with their virtual
/// table). Reads the schema to know what to drop; sends nothing.
/// Tables go children first: with foreign keys on, dropping a child whose
/// parent is already gone fails on D1 ("no such table").
pub(in crate::jobs) async fn drop_statements(
    db: &impl SqlReader,
) -> Result<Vec<PlannedStatement>, EdgeError> {
    let schema = db
        .query("SELECT type, name, sql FROM sqlite_schema ORDER BY rowid")
        .await?;
    let references = db
        .query(
            "SELECT m.name, f.\"table\" FROM sqlite_schema AS m, pragma_foreign_key_list(m.name) AS f \
             WHERE m.type = 'table'",
        )
        .await?;
    let virtual_tables: Vec<String> = schema
        .iter()
        .filter(|row| {
            row.get(2)
                .cloned()
                .flatten()
                .is_some_and(|sql| sql.to_ascii_uppercase().starts_with("CREATE VIRTUAL TABLE"))
        })
        .filter_map(|row| row.get(1).cloned().flatten())
        .collect();
    let is_shadow = |name: &str| {
        virtual_tables.iter().any(|vt| {
            name.strip_prefix(vt.as_str()).is_some_and(|rest| {
                ["_data", "_idx", "_content", "_docsize", "_config"].contains(&rest)
            })
        })
    };
    let user_objects = |kind: &str| -> Vec<String> {
        schema
            .iter()
            .filter(|row| row.first().cloned().flatten().as_deref() == Some(kind))
            .filter_map(|row| row.get(1).cloned().flatten())
            .filter(|name| !is_internal_name(name) && !is_shadow(name))
            .collect()
    };
    let edges: Vec<(String, String)> = references
        .into_iter()
        .filter_map(|row| {
            Some((
                row.first().cloned().flatten()?,
                row.get(1).cloned().flatten()?,
            ))
        })
        .collect();
    let mut drops = Vec::new();
    for kind in ["trigger", "view"] {
        for name in user_objects(kind) {
            drops.push(format!(
                "DROP {} IF EXISTS {}",
                kind.to_ascii_uppercase(),
                quote_ident(&name)
            ));
        }
    }
    for name in children_first(user_objects("table"), &edges) {
        drops.push(format!("DROP TABLE IF EXISTS {}", quote_ident(&name)));
    }
    // DROP TABLE also removes the table's row from sqlite_sequence.
    let mut batch = vec![
        PlannedStatement::plain(DEFER_FOREIGN_KEYS.into()),
        progress_table::drop(),
        progress_table::create(),
    ];
    batch.extend(drops.into_iter().map(PlannedStatement::plain));
    Ok(batch)
}

const DEFER_FOREIGN_KEYS: &str = "PRAGMA defer_foreign_keys = on";

/// Splits step 7's statements (as [`drop_statements`] makes them, starting
/// with the pragma) into the batch to send now, at most `limit` statements,
/// and what remains, which starts with the pragma again (a D1 pragma lasts
/// one transaction), or is empty.
pub(in crate::jobs) fn next_drop_batch(
    mut statements: Vec<PlannedStatement>,
    limit: usize,
) -> (Vec<PlannedStatement>, Vec<PlannedStatement>) {
    // The first batch holds the pragma and (re)creates the progress table.
    let limit = limit.max(3);
    if statements.len() <= limit {
        return (statements, Vec::new());
    }
    let rest = statements.split_off(limit);
    let mut remaining = vec![PlannedStatement::plain(DEFER_FOREIGN_KEYS.into())];
    remaining.extend(rest);
    (statements, remaining)
}

/// Orders `tables` so that each comes before every table it references
/// (`edges`: child, parent). Self-references are ignored; within a cycle the
/// later table in schema order goes first.
pub(super) fn children_first(
    mut remaining: Vec<String>,
    edges: &[(String, String)],
) -> Vec<String> {
    let same = |a: &str, b: &str| a.eq_ignore_ascii_case(b);
    let mut ordered = Vec::with_capacity(remaining.len());
    while !remaining.is_empty() {
        let referenced = |table: &str| {
            edges.iter().any(|(child, parent)| {
                same(parent, table)
                    && !same(child, table)
                    && remaining.iter().any(|r| same(r, child))
            })
        };
        let next = remaining
            .iter()
            .rposition(|table| !referenced(table))
            .unwrap_or(remaining.len() - 1);
        ordered.push(remaining.remove(next));
    }
    ordered
}
