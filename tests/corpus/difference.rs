//! [`Difference`]: one way a copy differs from its original, by [`Kind`],
//! object, row key and column, with both sides shown; the unit that
//! [`super::compare`] reports and an [`super::Allowance`] allows.

use std::fmt;

/// What kind of difference.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Kind {
    /// The comparison itself failed (a query on one side).
    Error,
    /// A schema object missing, extra, or with other SQL.
    Schema,
    /// A table (or FTS5 table) missing or extra.
    Table,
    /// A row of the original missing from the copy.
    MissingRow,
    /// A row in the copy that the original does not have.
    ExtraRow,
    /// A cell differs.
    Cell,
    /// A table's rows are in a different order.
    Order,
    /// `sqlite_sequence` differs.
    Sequence,
    /// An FTS5 table's `SELECT rowid, *` differs (see `MissingRow` etc.).
    FtsMatch,
    /// `INSERT INTO fts(fts) VALUES('integrity-check')` fails.
    FtsIntegrity,
    /// `PRAGMA foreign_key_check` differs.
    ForeignKeyCheck,
    /// `PRAGMA integrity_check` is not ok.
    IntegrityCheck,
}

/// One difference between an original and its copy.
#[derive(Debug, Clone)]
pub struct Difference {
    pub kind: Kind,
    /// The table or schema object.
    pub object: String,
    /// The row's key: `rowid=5`, or the primary key's values.
    pub key: Option<String>,
    /// The column.
    pub column: Option<String>,
    /// The original's side.
    pub original: String,
    /// The copy's side.
    pub copy: String,
}

impl fmt::Display for Difference {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let object: String = self.object.chars().take(80).collect();
        let ellipsis = if self.object.chars().count() > 80 {
            "..."
        } else {
            ""
        };
        write!(f, "[{:?}] {object:?}{ellipsis}", self.kind)?;
        if let Some(key) = &self.key {
            write!(f, " key {key}")?;
        }
        if let Some(column) = &self.column {
            let c: String = column.chars().take(60).collect();
            write!(f, " column {c:?}")?;
        }
        write!(f, ": original {} | copy {}", self.original, self.copy)
    }
}

/// A [`Difference`] from its parts.
pub(super) fn diff(
    kind: Kind,
    object: &str,
    key: Option<String>,
    column: Option<String>,
    original: String,
    copy: String,
) -> Difference {
    Difference {
        kind,
        object: object.to_string(),
        key,
        column,
        original,
        copy,
    }
}
