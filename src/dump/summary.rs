//! What a finished dump contains: the summary the backup manifest records.

use serde::{Deserialize, Serialize};

/// How a dumped table is stored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum TableKind {
    /// An ordinary rowid table.
    Table,
    /// A WITHOUT ROWID table.
    WithoutRowid,
    /// An FTS5 virtual table (with its own or external content).
    Fts5,
}

/// One dumped table in the summary.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSummary {
    /// The table's name.
    pub name: String,
    /// How it is stored.
    #[serde(rename = "type")]
    pub kind: TableKind,
    /// Rows written (for an external-content FTS5 table: rows it had; for
    /// a contentless one: 0, see [`DumpWarning`]).
    pub rows: u64,
}

/// What a dump could not keep, said out loud in the manifest.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum DumpWarningKind {
    /// A contentless FTS5 table (`content=''`) keeps no text to re-insert:
    /// the dump recreates it empty.
    Fts5ContentlessNotRestorable,
}

/// One warning of a dump.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpWarning {
    /// The table concerned.
    pub table: String,
    /// What was not kept.
    pub kind: DumpWarningKind,
    /// Rows the table had at backup time (none of them restorable).
    pub rows: u64,
}

/// What a finished dump contains: the facts the backup manifest records and
/// the restore verifies.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpSummary {
    /// Dumped tables, in schema order.
    pub tables: Vec<TableSummary>,
    /// Indexes created (autoindexes excluded), in schema order.
    pub indexes: Vec<String>,
    /// Views, in schema order.
    pub views: Vec<String>,
    /// Triggers, in schema order.
    pub triggers: Vec<String>,
    /// SHA-256 (lowercase hex) over every schema statement of the dump
    /// followed by `;\n`, in dump order: tables, then indexes, views and
    /// triggers, each group in `sqlite_schema` rowid order.
    pub schema_sha256: String,
    /// Tables whose rows are written before those of some table they
    /// reference (reference cycles and self-references), in schema order.
    /// Empty when parents-first order was possible throughout.
    pub fk_order_fallback: Vec<String>,
    /// Statements written.
    pub statements: u64,
    /// Size of the largest statement in bytes, including its `;\n`.
    pub largest_statement_bytes: usize,
    /// Bytes of SQL written, header included.
    pub sql_bytes: u64,
    /// What the dump could not keep (absent from manifests written before
    /// warnings existed).
    #[serde(default)]
    pub warnings: Vec<DumpWarning>,
}
