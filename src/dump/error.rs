//! Why a dump can fail. Every message names the object concerned and says
//! what an operator can do about it.

/// A failure of the dump writer.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DumpError {
    /// The caller broke the [`super::Dump`] protocol: `step` while a query's
    /// rows were still owed, `accept` with no query outstanding, or either
    /// after the dump finished or failed. A bug in the caller, not in the data.
    #[error("dump protocol misuse: {0}")]
    Protocol(&'static str),

    /// The rows handed to `accept` do not have the shape the query asked
    /// for (wrong number of columns, NULL or non-numeric text where a number
    /// was due). Usually the edge did not pass every value through as TEXT.
    #[error("unexpected result for the query {context}: {detail}; the D1 edge must return every value as TEXT or NULL, in query column order")]
    BadResult {
        /// What the query was for (see [`super::Query::context`]).
        context: String,
        /// What was wrong with the rows.
        detail: String,
    },

    /// [`super::DumpOptions`] holds a value outside its allowed range.
    #[error("invalid dump option {option}: {detail}")]
    InvalidOptions {
        /// The option's field name.
        option: &'static str,
        /// The allowed range.
        detail: String,
    },

    /// A schema statement, or an INSERT whose column list alone is that long,
    /// cannot be written under D1's statement limit.
    #[error("{what} would be a {bytes}-byte statement; D1 rejects statements of 100000 bytes or more, so this database cannot be dumped for D1 (shorten the definition)")]
    StatementTooLarge {
        /// The statement concerned (object kind and name).
        what: String,
        /// Its size in bytes, including the terminating `;\n`.
        bytes: usize,
    },

    /// A query the dump needs would exceed D1's statement limit, because it
    /// must name the table's columns and they are very long: the primary
    /// key columns (named in every page's filter), or all columns of a rowid
    /// table of 100 columns without an INTEGER PRIMARY KEY (`SELECT rowid,
    /// *` would be 101 result columns, over D1's 100).
    #[error("the query that reads table {table:?} would be {bytes} bytes, over D1's 100000-byte statement limit: it names the table's key columns, and all its columns when the table has 100 columns and no INTEGER PRIMARY KEY (D1 returns at most 100 columns, so rowid and * cannot be selected together); shorten the longest column names")]
    QueryTooLarge {
        /// The table.
        table: String,
        /// The query's size in bytes.
        bytes: usize,
    },

    /// A virtual table of a module other than FTS5.
    #[error("table {table:?} is a virtual table of module {module:?}; d1-vault only dumps FTS5 virtual tables")]
    UnsupportedVirtualTable {
        /// The virtual table.
        table: String,
        /// Its module, as written in `CREATE VIRTUAL TABLE ... USING`.
        module: String,
    },

    /// A schema entry's SQL could not be read (no `USING module` in a virtual
    /// table, a table with NULL sql, an unknown object type).
    #[error("cannot read the definition of {name:?}: {detail}")]
    UnreadableSchema {
        /// The object's name.
        name: String,
        /// What was missing.
        detail: String,
    },

    /// A rowid table has no INTEGER PRIMARY KEY and columns named `rowid`,
    /// `_rowid_` and `oid`, so its rowids cannot be read or written.
    #[error("table {table:?} has columns named rowid, _rowid_ and oid and no INTEGER PRIMARY KEY, so its rowids cannot be addressed; rename one of those columns")]
    RowidUnreachable {
        /// The table.
        table: String,
    },

    /// A WITHOUT ROWID table's primary key value is too large to name the row
    /// in the statements that rebuild an oversized row.
    #[error("a primary key value of table {table:?} is {bytes} bytes as SQL; rows with keys this large cannot be rebuilt within D1's statement limit")]
    OversizedKey {
        /// The table.
        table: String,
        /// The quoted size of the key.
        bytes: usize,
    },

    /// A query that had to return a row, or to move past one, did not: the
    /// next page began with the key the last one ended with, or a piece of
    /// one character did not fit. Rather than ask the same query forever,
    /// the dump stops; this is a bug in d1-vault, not in the data.
    #[error("the dump of table {table:?} stopped making progress ({detail}); this is a d1-vault bug, please report it")]
    NoProgress {
        /// The table.
        table: String,
        /// What did not advance.
        detail: String,
    },

    /// A row vanished or one of its values changed while the dump was reading
    /// it in pieces, so the pieces would not form one consistent value.
    #[error("a row of table {table:?} changed while it was being read in pieces ({detail}); run the backup again")]
    RowChanged {
        /// The table.
        table: String,
        /// What differed.
        detail: String,
    },
}
