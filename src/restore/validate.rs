//! The validator: checks every statement of a dump against an allowlist of
//! the statement kinds a dump is made of, before anything reaches D1, and
//! adds up what the import will create.
//!
//! # What is allowed
//!
//! Exactly what our dumps, `sqlite3 .dump` (without FTS5 tables) and
//! `wrangler d1 export` write ([`StatementKind`] lists them):
//!
//! - `PRAGMA defer_foreign_keys = on|true|yes|1`,
//!   `PRAGMA foreign_keys = on|off|...`,
//!   `PRAGMA ignore_check_constraints = on|off|...`, `BEGIN [TRANSACTION]`,
//!   `COMMIT`/`END [TRANSACTION]`: accepted and not run, because every batch
//!   of the import is its own transaction that starts by deferring foreign
//!   keys and ignoring CHECK constraints, and D1 ignores `foreign_keys`.
//! - `CREATE TABLE`, `CREATE [UNIQUE] INDEX`, `CREATE VIEW`, `CREATE TRIGGER`
//!   and `CREATE VIRTUAL TABLE ... USING fts5(...)`, `IF NOT EXISTS` allowed.
//! - `INSERT INTO t [(columns)] VALUES (...)[, (...)]` into a table created
//!   earlier in the dump, whose values are literals: strings, BLOBs,
//!   numbers, NULL, combined only with unary `-`/`+`, `*`, `/`, `||`,
//!   parentheses, `char()`, `replace()` and `CAST(.. AS type)`, the forms
//!   the three dump writers use. `INSERT INTO fts(fts) VALUES('rebuild')`.
//! - The UPDATEs our dump writes right after the one-row INSERT of a row
//!   too large for one statement, on the same table:
//!   `UPDATE t SET c = <literal>[, ...] WHERE k = <literal> [AND ...]`,
//!   `SET c = c || <piece>` and `SET c = CAST(c || <piece> AS BLOB|TEXT)`.
//!   The WHERE must name exactly the row the INSERT wrote, by its key, with
//!   the INSERT's own literals: `rowid` (`_rowid_`, `oid`) or the INTEGER
//!   PRIMARY KEY column for rowid and FTS5 tables, every PRIMARY KEY column
//!   for WITHOUT ROWID tables; no assignment may change that key.
//! - `DELETE FROM sqlite_sequence` and `INSERT INTO sqlite_sequence ...`.
//!
//! Everything else is rejected with its line and a reason: DROP, ALTER,
//! ATTACH, DETACH, queries, VACUUM, ANALYZE, REINDEX, SAVEPOINT, RELEASE,
//! ROLLBACK, other pragmas, TEMP objects, objects of other schemas, writes
//! to internal tables ([`crate::internal_names`]: SQLite's `sqlite_*`, D1's
//! `_cf_*`, d1-vault's `_d1vault_*`), also as `main.<name>` in a trigger, INSERT with
//! a conflict clause or from a SELECT, bound parameters, and any other
//! DELETE or UPDATE. Names are compared as SQLite does: dequoted, ASCII
//! case-insensitive.
//!
//! A statement of [`MAX_STATEMENT_BYTES`] or more must be an INSERT the
//! planner can rewrite (`plan::fit_insert`); the validator runs
//! that rewrite, so every [`Validated`] statement is ready for D1.
//!
//! # The summary
//!
//! [`RestoreSummary`] is what the import will create, in the terms of the
//! dump's own [`DumpSummary`](crate::dump::DumpSummary), so that a restore
//! can compare it with the backup's manifest: tables with their kinds and
//! row counts (the top-level tuples of their INSERTs; an external-content
//! FTS5 table has the rows of its content table), indexes, views and
//! triggers in order, and the schema hash, computed as the dump computes
//! it: SHA-256 over every table's CREATE statement followed by `;\n`, then
//! every index's, view's and trigger's, in dump order.

use std::borrow::Cow;
use std::collections::HashMap;
use std::fmt;

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::lex::{is_number, Lexer, Token, TokenKind};
use super::plan::{fit_insert, FitError, InsertShape, PlannedStatement};
use super::reader::Statement;
use crate::dump::{TableKind, TableSummary, MAX_STATEMENT_BYTES};

/// Name prefixes of D1's (`_cf_KV`) and SQLite's (`sqlite_stat1`) internal
/// tables; [`crate::internal_names`] decides which names are internal.
pub use crate::internal_names::{
    D1_PREFIX as D1_INTERNAL_PREFIX, SQLITE_PREFIX as SQLITE_INTERNAL_PREFIX,
};

/// The one SQLite-internal table a dump writes: AUTOINCREMENT counters.
pub const SEQUENCE_TABLE: &str = "sqlite_sequence";

/// Bytes a dump adds after each statement's text (`;\n`), as the dump
/// counts statement sizes.
const TERMINATOR_BYTES: usize = 2;

/// The names of the schema table, which D1 does not let anyone write.
const SCHEMA_TABLES: [&str; 4] = [
    "sqlite_schema",
    "sqlite_master",
    "sqlite_temp_schema",
    "sqlite_temp_master",
];

/// Bare words allowed in a value: NULL and what the dump writers' value
/// expressions use (functions and CAST's type names).
const VALUE_WORDS: [&str; 11] = [
    "NULL", "CAST", "AS", "CHAR", "REPLACE", "TEXT", "BLOB", "INTEGER", "INT", "REAL", "NUMERIC",
];

/// Keywords that name a kind of statement, as rejections show it.
const KIND_WORDS: [&str; 42] = [
    "ALTER",
    "ANALYZE",
    "ATTACH",
    "BEGIN",
    "COMMIT",
    "CREATE",
    "DATABASE",
    "DELETE",
    "DETACH",
    "DROP",
    "END",
    "EXISTS",
    "EXPLAIN",
    "FROM",
    "IF",
    "INDEX",
    "INSERT",
    "INTO",
    "NOT",
    "OR",
    "PRAGMA",
    "REINDEX",
    "RELEASE",
    "REPLACE",
    "ROLLBACK",
    "SAVEPOINT",
    "SELECT",
    "TABLE",
    "TEMP",
    "TEMPORARY",
    "TRANSACTION",
    "TRIGGER",
    "UNIQUE",
    "UPDATE",
    "VACUUM",
    "VALUES",
    "VIEW",
    "VIRTUAL",
    "WITH",
    "IGNORE",
    "ABORT",
    "FAIL",
];

/// At most this many of them name a statement (`DROP TABLE IF EXISTS`).
const KIND_WORDS_MAX: usize = 4;

/// Punctuation allowed in a value.
const VALUE_PUNCT: [char; 7] = ['(', ')', ',', '-', '+', '*', '/'];

/// The FTS5 command a dump writes: rebuild an external-content index.
const FTS5_REBUILD: &str = "rebuild";

/// What an allowed statement is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StatementKind {
    /// `PRAGMA defer_foreign_keys = on`: accepted, not run as it is, since
    /// the planner starts every batch with its own.
    DeferForeignKeys,
    /// `PRAGMA foreign_keys = ...`: accepted, not run (D1 ignores it and
    /// always enforces foreign keys; the import defers them instead).
    ForeignKeys,
    /// `PRAGMA ignore_check_constraints = on|off`: accepted, not run as it
    /// is, since the planner starts every batch with its own `= on` (a row
    /// too large for one statement is inserted with placeholders first).
    IgnoreCheckConstraints,
    /// `BEGIN [TRANSACTION]`: accepted, not run (each batch is a transaction).
    Begin,
    /// `COMMIT` or `END [TRANSACTION]`: accepted, not run.
    Commit,
    /// `CREATE TABLE`.
    CreateTable,
    /// `CREATE VIRTUAL TABLE ... USING fts5(...)`.
    CreateFts5Table,
    /// `CREATE [UNIQUE] INDEX`.
    CreateIndex,
    /// `CREATE VIEW`.
    CreateView,
    /// `CREATE TRIGGER`.
    CreateTrigger,
    /// `INSERT INTO t ... VALUES ...` into a table of the dump.
    Insert,
    /// `INSERT INTO fts(fts) VALUES('rebuild')`: rebuilds an FTS5 index.
    Fts5Rebuild,
    /// An UPDATE that completes a row too large for one statement.
    UpdateRow,
    /// `DELETE FROM sqlite_sequence`.
    DeleteSequence,
    /// `INSERT INTO sqlite_sequence ...`.
    InsertSequence,
}

impl StatementKind {
    /// Whether the import leaves this statement out (the planner drops it).
    pub fn is_skipped(self) -> bool {
        matches!(
            self,
            Self::DeferForeignKeys
                | Self::ForeignKeys
                | Self::IgnoreCheckConstraints
                | Self::Begin
                | Self::Commit
        )
    }
}

/// An allowed statement, ready for the [`super::plan::Planner`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Validated {
    /// What it is.
    pub kind: StatementKind,
    /// The dump line it starts on.
    pub line: u64,
    /// What the import runs for it: the statement as it is, or the
    /// rewriting of an INSERT too large for D1; empty for skipped kinds.
    pub statements: Vec<PlannedStatement>,
}

/// Why a statement is not allowed in a restore.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum RejectReason {
    /// A kind of statement a dump never contains; the text says why it has
    /// no place in a restore.
    #[error("{0}")]
    Forbidden(&'static str),

    /// `PRAGMA writable_schema`: the dump creates objects by writing
    /// `sqlite_schema`, as `sqlite3 .dump` does for FTS5 tables.
    #[error("this dump writes sqlite_schema directly, which D1 forbids (sqlite3 .dump does this for FTS5 tables); make the dump with d1-vault, or drop the FTS5 table before dumping")]
    WritableSchema,

    /// A write to `sqlite_schema` (or `sqlite_master`).
    #[error("writing {table} directly creates objects behind SQLite's back, which D1 forbids (sqlite3 .dump does this for FTS5 tables); make the dump with d1-vault, or drop the FTS5 table before dumping")]
    SchemaTable {
        /// The table named.
        table: String,
    },

    /// A write to (or an object on) a table internal to SQLite, D1 or d1-vault.
    #[error("{table} is internal to SQLite, D1 or d1-vault, which manage it themselves; a dump leaves such tables out, so delete these statements from the file")]
    InternalTable {
        /// The table named.
        table: String,
    },

    /// CREATE TEMP: temporary objects vanish with the import's connection.
    #[error("temporary objects vanish when the import's connection closes; a dump creates only permanent ones")]
    Temporary,

    /// A name qualified with another database's schema.
    #[error("it names schema {schema:?}; a restore works on its one database only (main)")]
    OtherSchema {
        /// The schema named.
        schema: String,
    },

    /// A pragma other than `defer_foreign_keys`, `foreign_keys` and
    /// `ignore_check_constraints`.
    #[error("PRAGMA {name} changes settings that D1 manages; a dump may only defer foreign keys (PRAGMA defer_foreign_keys = on) and set ignore_check_constraints")]
    Pragma {
        /// The pragma's name.
        name: String,
    },

    /// An allowed pragma with a value the import cannot honour.
    #[error("PRAGMA {name} with value {value:?} is not supported; the import always defers foreign keys to each batch's commit")]
    PragmaValue {
        /// The pragma's name.
        name: String,
        /// The value given (empty for none).
        value: String,
    },

    /// `INSERT OR ...`, `REPLACE INTO`, `ON CONFLICT`, `RETURNING`.
    #[error("conflict handling (OR REPLACE, OR IGNORE, ON CONFLICT) and RETURNING would hide or change rows; a dump inserts each row exactly once")]
    ConflictClause,

    /// INSERT from a SELECT, or `DEFAULT VALUES`.
    #[error(
        "a dump's INSERTs carry their rows as VALUES; INSERT ... SELECT copies data from elsewhere"
    )]
    NotValues,

    /// A value that is not a literal (a column, a subquery, a function
    /// other than the few dumps use, a bound parameter).
    #[error("its values may only be literals (strings, numbers, X'..', NULL, with char(), replace() and CAST()); found `{found}`")]
    NotLiteral {
        /// The token found.
        found: String,
    },

    /// A write to a table no earlier statement of the dump creates.
    #[error("table {table:?} is not created earlier in the dump (the restore starts from an empty database); a CREATE TABLE is missing or comes later")]
    UnknownTable {
        /// The table named.
        table: String,
    },

    /// A virtual table of another module than FTS5.
    #[error("virtual tables of module {module:?} cannot be restored: D1 supports FTS5 only")]
    VirtualModule {
        /// The module named.
        module: String,
    },

    /// An FTS5 command other than `rebuild`.
    #[error("FTS5 command {command:?} is not part of a dump; only 'rebuild' is")]
    Fts5Command {
        /// The command.
        command: String,
    },

    /// An UPDATE that is not one of the forms our dump writes.
    #[error("the only UPDATEs allowed are those a d1-vault dump writes to complete a row too large for one statement (SET c = c || <piece> or SET c = <literal>, WHERE <key> = <literal>)")]
    UpdateForm,

    /// A dump-style UPDATE that does not follow the one-row INSERT (or the
    /// UPDATEs) of its table.
    #[error("an UPDATE of {table:?} must directly follow the one-row INSERT into {table:?} that it completes, or another such UPDATE")]
    UpdateOutOfPlace {
        /// The table updated.
        table: String,
    },

    /// A dump-style UPDATE whose WHERE does not name exactly the row the
    /// INSERT before it wrote, by that row's key.
    #[error("an UPDATE completing a row of {table:?} must name exactly the row the INSERT before it wrote, by its key (WHERE rowid = <that row's rowid>, or every PRIMARY KEY column of a WITHOUT ROWID table = the INSERT's value), and must not change that key; this one could change other rows")]
    UpdateOtherRow {
        /// The table updated.
        table: String,
    },

    /// A statement over D1's limit that the planner cannot split.
    #[error("it is {bytes} bytes; D1 accepts statements under {MAX_STATEMENT_BYTES} bytes, and only an INSERT's rows can be split")]
    TooLarge {
        /// The statement's size in bytes.
        bytes: usize,
    },

    /// An INSERT over D1's limit that the planner cannot rewrite.
    #[error(
        "it is {bytes} bytes, over D1's {MAX_STATEMENT_BYTES}-byte statement limit, and cannot be rewritten: {error}"
    )]
    CannotFit {
        /// The statement's size in bytes.
        bytes: usize,
        /// Why the rewrite fails.
        error: FitError,
    },

    /// A statement of an allowed kind that does not parse as expected.
    #[error("{0}")]
    Malformed(String),
}

/// A statement the validator refuses: where, what, and why.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("line {line}: {kind_found} is not allowed in a restore: {reason}")]
pub struct Rejection {
    /// The dump line the statement starts on.
    pub line: u64,
    /// The statement's kind as found, in a few words (`DROP TABLE`,
    /// `PRAGMA writable_schema`, `INSERT INTO sqlite_schema`).
    pub kind_found: String,
    /// Why it is refused, and what to do.
    pub reason: RejectReason,
}

/// What the validated statements will create.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RestoreSummary {
    /// Tables in creation order, with their kinds and the rows inserted.
    pub tables: Vec<TableSummary>,
    /// Indexes, in order.
    pub indexes: Vec<String>,
    /// Views, in order.
    pub views: Vec<String>,
    /// Triggers, in order.
    pub triggers: Vec<String>,
    /// SHA-256 (lowercase hex) of the schema, as
    /// [`DumpSummary::schema_sha256`](crate::dump::DumpSummary::schema_sha256) defines it.
    pub schema_sha256: String,
    /// Statements read, skipped ones included.
    pub statements: u64,
    /// The largest statement, in bytes of its text plus `;\n` (as the dump
    /// counts them).
    pub largest_statement_bytes: usize,
    /// External-content FTS5 tables whose content is not a table of the
    /// dump (a view): their row count cannot be known from the statements
    /// (it is 0 in `tables`), so it is not compared with the manifest's.
    pub uncounted_tables: Vec<String>,
    /// Contentless FTS5 tables (`content=''`): their text is not stored, so
    /// the dump recreates them empty and their index must be rebuilt from
    /// the application's own data after a restore.
    #[serde(default)]
    pub contentless_tables: Vec<String>,
}

/// A table the dump creates.
#[derive(Debug)]
struct TableEntry {
    name: String,
    kind: TableKind,
    rows: u64,
    /// For an FTS5 table, where its content is.
    content: Fts5Content,
    /// How a statement addresses one row of the table.
    key: KeyShape,
    /// Lowercase names of the columns an INSERT without a column list
    /// fills, in order (generated columns left out); empty for FTS5 tables.
    insert_columns: Vec<String>,
}

/// Where an FTS5 table's documents are (`Own` for ordinary tables).
#[derive(Debug, Clone, PartialEq, Eq)]
enum Fts5Content {
    /// Stored in the table itself (and every ordinary table).
    Own,
    /// `content='<table or view>'`.
    External(String),
    /// `content=''`: the text is not stored, so a dump cannot carry it.
    Contentless,
}

/// How a statement addresses one row of a table: what the WHERE of an
/// UPDATE completing a row must name.
#[derive(Debug, Clone, PartialEq, Eq)]
enum KeyShape {
    /// By rowid: any of `names` (lowercase: the INTEGER PRIMARY KEY column,
    /// and `rowid`, `_rowid_`, `oid` unless a column takes that name).
    Rowid { names: Vec<String> },
    /// By the PRIMARY KEY columns (WITHOUT ROWID), lowercase, in any order.
    PrimaryKey { columns: Vec<String> },
}

/// A literal value as compared between an INSERT and an UPDATE's WHERE:
/// its tokens, with keywords and hex digits uppercased.
type LiteralSig = Vec<(TokenKind, String)>;

fn literal_sig(tokens: &[Token]) -> LiteralSig {
    tokens
        .iter()
        .map(|t| match t.kind {
            TokenKind::Word | TokenKind::Blob => (t.kind, t.text.to_ascii_uppercase()),
            _ => (t.kind, t.text.to_string()),
        })
        .collect()
}

/// The key of the row a one-row INSERT just wrote: which column names
/// address it and with which literal.
#[derive(Debug, Clone, PartialEq, Eq)]
enum RowKey {
    /// Any one of `names` equal to `value`.
    Rowid {
        names: Vec<String>,
        value: LiteralSig,
    },
    /// Every one of these columns equal to its literal.
    PrimaryKey(Vec<(String, LiteralSig)>),
    /// The INSERT does not give the key (a rowid SQLite assigns itself):
    /// no UPDATE can name that row.
    Unknown,
}

impl RowKey {
    /// The literal a key column of this name has, if it is a key column.
    fn value_of(&self, column: &str) -> Option<&LiteralSig> {
        match self {
            RowKey::Rowid { names, value } => names.iter().any(|n| n == column).then_some(value),
            RowKey::PrimaryKey(columns) => {
                columns.iter().find(|(c, _)| c == column).map(|(_, v)| v)
            }
            RowKey::Unknown => None,
        }
    }

    /// Whether `conditions` (`column = literal`, lowercase names) name
    /// exactly this row by its key.
    fn matches(&self, conditions: &[(String, LiteralSig)]) -> bool {
        match self {
            RowKey::Rowid { names, value } => match conditions {
                [(column, literal)] => names.contains(column) && literal == value,
                _ => false,
            },
            RowKey::PrimaryKey(columns) => {
                conditions.len() == columns.len()
                    && columns.iter().all(|(column, value)| {
                        conditions.iter().filter(|(c, _)| c == column).count() == 1
                            && conditions.iter().any(|(c, v)| c == column && v == value)
                    })
            }
            RowKey::Unknown => false,
        }
    }
}

/// The statement before the current one, for the UPDATE rules.
#[derive(Debug, Clone, PartialEq, Eq)]
enum Previous {
    /// A one-row INSERT into, or an UPDATE of, the table (lowercase name),
    /// and that row's key.
    RowOf(String, RowKey),
    Other,
}

/// The validator; see the module documentation.
#[derive(Debug)]
pub struct Validator {
    tables: Vec<TableEntry>,
    /// Lowercase table name to index in `tables`.
    by_name: HashMap<String, usize>,
    indexes: Vec<String>,
    views: Vec<String>,
    triggers: Vec<String>,
    /// Hash of the CREATE TABLE statements so far.
    table_hash: Sha256,
    /// CREATE INDEX/VIEW/TRIGGER texts, hashed after the tables'.
    object_sql: Vec<String>,
    statements: u64,
    largest: usize,
    previous: Previous,
}

impl Default for Validator {
    fn default() -> Self {
        Self::new()
    }
}

/// A rejection before its line is known.
type Reject = (String, RejectReason);

fn reject<T>(kind_found: impl Into<String>, reason: RejectReason) -> Result<T, Reject> {
    Err((kind_found.into(), reason))
}

impl Validator {
    /// A validator at the start of a dump.
    pub fn new() -> Self {
        Self {
            tables: Vec::new(),
            by_name: HashMap::new(),
            indexes: Vec::new(),
            views: Vec::new(),
            triggers: Vec::new(),
            table_hash: Sha256::new(),
            object_sql: Vec::new(),
            statements: 0,
            largest: 0,
            previous: Previous::Other,
        }
    }

    /// Checks the next statement of the dump, in order: what it is and what
    /// the import runs for it, or why it is refused.
    pub fn check(&mut self, statement: &Statement) -> Result<Validated, Rejection> {
        self.statements += 1;
        self.largest = self.largest.max(statement.text.len() + TERMINATOR_BYTES);
        let line = statement.line;
        let result = self.classify(&statement.text, line);
        // After a rejection, no UPDATE may continue what came before it.
        self.previous = Previous::Other;
        let (kind, statements, previous) = result.map_err(|(kind_found, reason)| Rejection {
            line,
            kind_found,
            reason,
        })?;
        self.previous = previous;
        Ok(Validated {
            kind,
            line,
            statements,
        })
    }

    /// The summary of every statement checked.
    pub fn finish(self) -> RestoreSummary {
        let mut hash = self.table_hash;
        for sql in &self.object_sql {
            hash.update(sql.as_bytes());
            hash.update(b";\n");
        }
        let mut uncounted_tables = Vec::new();
        let mut contentless_tables = Vec::new();
        let tables = self
            .tables
            .iter()
            .map(|table| {
                let rows = match &table.content {
                    Fts5Content::Own => table.rows,
                    Fts5Content::Contentless => {
                        contentless_tables.push(table.name.clone());
                        table.rows
                    }
                    Fts5Content::External(content) => {
                        match self.by_name.get(&content.to_ascii_lowercase()) {
                            Some(&i) => self.tables[i].rows,
                            None => {
                                uncounted_tables.push(table.name.clone());
                                0
                            }
                        }
                    }
                };
                TableSummary {
                    name: table.name.clone(),
                    kind: table.kind,
                    rows,
                }
            })
            .collect();
        RestoreSummary {
            tables,
            indexes: self.indexes,
            views: self.views,
            triggers: self.triggers,
            schema_sha256: hash.finalize().iter().map(|b| format!("{b:02x}")).collect(),
            statements: self.statements,
            largest_statement_bytes: self.largest,
            uncounted_tables,
            contentless_tables,
        }
    }

    fn table(&self, name: &str) -> Option<&TableEntry> {
        self.by_name
            .get(&name.to_ascii_lowercase())
            .map(|&i| &self.tables[i])
    }

    /// The kind, the statements to run, and what the next statement may follow.
    fn classify(
        &mut self,
        sql: &str,
        line: u64,
    ) -> Result<(StatementKind, Vec<PlannedStatement>, Previous), Reject> {
        let mut tokens = Tokens::new(sql);
        let Some(first) = tokens.next() else {
            return reject(
                "an empty statement",
                RejectReason::Malformed("it holds only comments".into()),
            );
        };
        let keyword = first.text.to_ascii_uppercase();
        let as_is = || {
            vec![PlannedStatement {
                sql: sql.to_string(),
                params: Vec::new(),
                line,
            }]
        };
        if first.kind != TokenKind::Word {
            return reject(
                describe(sql),
                RejectReason::Forbidden("it is not a statement a SQL dump contains"),
            );
        }
        if sql.len() >= MAX_STATEMENT_BYTES && keyword != "INSERT" {
            return reject(describe(sql), RejectReason::TooLarge { bytes: sql.len() });
        }
        let simple = |kind: StatementKind| {
            let statements = if kind.is_skipped() {
                Vec::new()
            } else {
                as_is()
            };
            Ok((kind, statements, Previous::Other))
        };
        match keyword.as_str() {
            "PRAGMA" => simple(pragma(&mut tokens)?),
            "BEGIN" => {
                transaction_tail(
                    &mut tokens,
                    &["DEFERRED", "IMMEDIATE", "EXCLUSIVE"],
                    "BEGIN",
                )?;
                simple(StatementKind::Begin)
            }
            "COMMIT" | "END" => {
                transaction_tail(&mut tokens, &[], &keyword)?;
                simple(StatementKind::Commit)
            }
            "CREATE" => {
                let kind = self.create(sql, &mut tokens)?;
                simple(kind)
            }
            "INSERT" | "REPLACE" => self.insert(sql, &mut tokens, &keyword, line),
            "UPDATE" => {
                let previous = self.update(sql, &mut tokens)?;
                Ok((StatementKind::UpdateRow, as_is(), previous))
            }
            "DELETE" => {
                let kind = describe(sql);
                let sequence = tokens.next().is_some_and(|t| t.is_word("FROM"))
                    && qualified_name(&mut tokens, &kind)?.eq_ignore_ascii_case(SEQUENCE_TABLE)
                    && tokens.next().is_none();
                if !sequence {
                    return reject(
                        kind,
                        RejectReason::Forbidden(
                            "the only DELETE a dump contains is DELETE FROM sqlite_sequence; deleting rows would lose data",
                        ),
                    );
                }
                simple(StatementKind::DeleteSequence)
            }
            _ => reject(
                describe(sql),
                RejectReason::Forbidden(forbidden_reason(&keyword)),
            ),
        }
    }

    fn create(&mut self, sql: &str, tokens: &mut Tokens) -> Result<StatementKind, Reject> {
        let kind_found = describe(sql);
        let mut what = tokens.next_word();
        if matches!(what.as_str(), "TEMP" | "TEMPORARY") {
            return reject(kind_found, RejectReason::Temporary);
        }
        let unique = what == "UNIQUE";
        if unique {
            what = tokens.next_word();
        }
        let virtual_table = what == "VIRTUAL";
        if virtual_table {
            what = tokens.next_word();
            if what != "TABLE" {
                return reject(
                    kind_found,
                    malformed("CREATE VIRTUAL must be followed by TABLE"),
                );
            }
        }
        let kind = match what.as_str() {
            "TABLE" if virtual_table => StatementKind::CreateFts5Table,
            "TABLE" if !unique => StatementKind::CreateTable,
            "INDEX" => StatementKind::CreateIndex,
            "VIEW" if !unique => StatementKind::CreateView,
            "TRIGGER" if !unique => StatementKind::CreateTrigger,
            _ => {
                return reject(
                    kind_found,
                    RejectReason::Forbidden("it is not a statement a SQL dump contains"),
                )
            }
        };
        if tokens.peek().is_some_and(|t| t.is_word("IF")) {
            let words = [tokens.next_word(), tokens.next_word(), tokens.next_word()];
            if words != ["IF", "NOT", "EXISTS"] {
                return reject(kind_found, malformed("expected IF NOT EXISTS"));
            }
        }
        let name = qualified_name(tokens, &kind_found)?;
        if is_internal(&name) {
            return reject(kind_found, RejectReason::InternalTable { table: name });
        }
        match kind {
            StatementKind::CreateTable => {
                let definition = table_definition(tokens, &kind_found)?;
                self.add_table(name, definition, sql);
            }
            StatementKind::CreateFts5Table => {
                let content = fts5_content(tokens, &kind_found)?;
                let definition = TableDefinition {
                    kind: TableKind::Fts5,
                    content,
                    key: KeyShape::Rowid {
                        names: ROWID_NAMES.iter().map(|n| n.to_string()).collect(),
                    },
                    insert_columns: Vec::new(),
                };
                self.add_table(name, definition, sql);
            }
            StatementKind::CreateIndex => {
                if !tokens.next().is_some_and(|t| t.is_word("ON")) {
                    return reject(kind_found, malformed("expected ON after the index name"));
                }
                let table = qualified_name(tokens, &kind_found)?;
                if is_internal(&table) {
                    return reject(kind_found, RejectReason::InternalTable { table });
                }
                self.indexes.push(name);
                self.object_sql.push(sql.to_string());
            }
            StatementKind::CreateView => {
                self.views.push(name);
                self.object_sql.push(sql.to_string());
            }
            _ => {
                trigger_tables(tokens, &kind_found)?;
                self.triggers.push(name);
                self.object_sql.push(sql.to_string());
            }
        }
        Ok(kind)
    }

    fn add_table(&mut self, name: String, definition: TableDefinition, sql: &str) {
        self.table_hash.update(sql.as_bytes());
        self.table_hash.update(b";\n");
        self.by_name
            .insert(name.to_ascii_lowercase(), self.tables.len());
        self.tables.push(TableEntry {
            name,
            kind: definition.kind,
            rows: 0,
            content: definition.content,
            key: definition.key,
            insert_columns: definition.insert_columns,
        });
    }

    fn insert(
        &mut self,
        sql: &str,
        tokens: &mut Tokens,
        keyword: &str,
        line: u64,
    ) -> Result<(StatementKind, Vec<PlannedStatement>, Previous), Reject> {
        let kind_found = describe(sql);
        if keyword == "REPLACE" || tokens.peek().is_some_and(|t| t.is_word("OR")) {
            return reject(kind_found, RejectReason::ConflictClause);
        }
        if !tokens.next().is_some_and(|t| t.is_word("INTO")) {
            return reject(kind_found, malformed("expected INTO after INSERT"));
        }
        let table = qualified_name(tokens, &kind_found)?;
        let kind_found = format!("INSERT INTO {table}");
        let lower = table.to_ascii_lowercase();
        if SCHEMA_TABLES.contains(&lower.as_str()) {
            return reject(kind_found, RejectReason::SchemaTable { table });
        }
        let sequence = lower == SEQUENCE_TABLE;
        if is_internal(&table) && !sequence {
            return reject(kind_found, RejectReason::InternalTable { table });
        }
        let entry = self.table(&table);
        if entry.is_none() && !sequence {
            return reject(kind_found, RejectReason::UnknownTable { table });
        }
        let fts5 = entry.is_some_and(|e| e.kind == TableKind::Fts5);

        let mut columns = Vec::new();
        if tokens.peek().is_some_and(|t| t.is_punct('(')) {
            tokens.next();
            loop {
                match tokens.next().and_then(|t| t.name()) {
                    Some(name) => columns.push(name.into_owned()),
                    None => {
                        return reject(
                            kind_found,
                            malformed("expected a column name in the column list"),
                        )
                    }
                }
                match tokens.next() {
                    Some(t) if t.is_punct(',') => {}
                    Some(t) if t.is_punct(')') => break,
                    _ => {
                        return reject(
                            kind_found,
                            malformed("expected ',' or ')' in the column list"),
                        )
                    }
                }
            }
        }
        match tokens.next() {
            Some(t) if t.is_word("VALUES") => {}
            Some(t) if t.is_word("SELECT") || t.is_word("WITH") || t.is_word("DEFAULT") => {
                return reject(
                    format!("INSERT INTO {table} ... {}", t.text.to_ascii_uppercase()),
                    RejectReason::NotValues,
                )
            }
            _ => {
                return reject(
                    kind_found,
                    malformed("expected VALUES after the table name and column list"),
                )
            }
        }
        let shape = values(sql, tokens, &kind_found)?;
        let statements =
            fit_insert(sql, &shape, line).map_err(|error| too_large(&kind_found, sql, error))?;

        if fts5 && columns.iter().any(|c| c.eq_ignore_ascii_case(&table)) {
            // An FTS5 command, written as an INSERT into the table's own column.
            let command = Lexer::new(&sql[shape.tuples.first().map_or(0..0, Clone::clone)])
                .find_map(|t| t.string_value())
                .unwrap_or_default();
            if columns.len() != 1
                || shape.tuples.len() != 1
                || !command.eq_ignore_ascii_case(FTS5_REBUILD)
            {
                return reject(
                    kind_found,
                    RejectReason::Fts5Command {
                        command: command.into_owned(),
                    },
                );
            }
            return Ok((StatementKind::Fts5Rebuild, statements, Previous::Other));
        }
        if sequence {
            return Ok((StatementKind::InsertSequence, statements, Previous::Other));
        }
        let rows = shape.tuples.len() as u64;
        let mut previous = Previous::Other;
        if let Some(&i) = self.by_name.get(&lower) {
            let entry = &mut self.tables[i];
            entry.rows += rows;
            if let [tuple] = shape.tuples.as_slice() {
                let key = row_key(entry, &columns, &sql[tuple.clone()]);
                previous = Previous::RowOf(lower, key);
            }
        }
        Ok((StatementKind::Insert, statements, previous))
    }

    /// Checks a dump-style UPDATE; returns what the next statement follows.
    fn update(&self, sql: &str, tokens: &mut Tokens) -> Result<Previous, Reject> {
        let kind_found = describe(sql);
        if tokens.peek().is_some_and(|t| t.is_word("OR")) {
            return reject(kind_found, RejectReason::ConflictClause);
        }
        let table = qualified_name(tokens, &kind_found)?;
        let kind_found = format!("UPDATE {table}");
        let lower = table.to_ascii_lowercase();
        if is_internal(&table) {
            return reject(kind_found, RejectReason::InternalTable { table });
        }
        if self.table(&table).is_none() {
            return reject(kind_found, RejectReason::UnknownTable { table });
        }
        if !tokens.next().is_some_and(|t| t.is_word("SET")) {
            return reject(kind_found, RejectReason::UpdateForm);
        }
        let rest: Vec<Token> = tokens.collect();
        let Some(where_at) = rest.iter().position(|t| t.is_word("WHERE")) else {
            return reject(kind_found, RejectReason::UpdateForm);
        };
        let mut assigned = Vec::new();
        for assignment in split_top_level(&rest[..where_at], |t| t.is_punct(',')) {
            let [column, equals, value @ ..] = assignment else {
                return reject(kind_found, RejectReason::UpdateForm);
            };
            let Some(column) = column_name(column).filter(|_| equals.is_punct('=')) else {
                return reject(kind_found, RejectReason::UpdateForm);
            };
            assigned.push((column.to_ascii_lowercase(), literal_sig(value)));
            let same = |t: &Token| column_name(t).is_some_and(|c| c.eq_ignore_ascii_case(&column));
            let literal = match value {
                // c = c || <piece>
                [c, concat, piece @ ..] if same(c) && concat.kind == TokenKind::Concat => piece,
                // c = CAST(c || <piece> AS BLOB|TEXT)
                [cast, open, c, concat, piece @ .., r#as, type_name, close]
                    if cast.is_word("CAST")
                        && open.is_punct('(')
                        && same(c)
                        && concat.kind == TokenKind::Concat
                        && r#as.is_word("AS")
                        && (type_name.is_word("BLOB") || type_name.is_word("TEXT"))
                        && close.is_punct(')') =>
                {
                    piece
                }
                _ => value,
            };
            if literal.is_empty() || !is_literal(literal) {
                return reject(kind_found, RejectReason::UpdateForm);
            }
        }
        let mut conditions = Vec::new();
        let mut terms = Vec::new();
        conjunction_terms(&rest[where_at + 1..], &mut terms);
        for condition in terms {
            match condition {
                [column, equals, value @ ..]
                    if equals.is_punct('=') && !value.is_empty() && is_literal(value) =>
                {
                    let Some(column) = column_name(column) else {
                        return reject(kind_found, RejectReason::UpdateForm);
                    };
                    conditions.push((column.to_ascii_lowercase(), literal_sig(value)));
                }
                _ => return reject(kind_found, RejectReason::UpdateForm),
            }
        }
        let key = match &self.previous {
            Previous::RowOf(previous, key) if *previous == lower => key,
            _ => return reject(kind_found, RejectReason::UpdateOutOfPlace { table }),
        };
        // The WHERE names exactly the row just inserted, by its key, and no
        // assignment moves that row to another key.
        let moves_row = assigned
            .iter()
            .any(|(column, value)| key.value_of(column).is_some_and(|key| key != value));
        if !key.matches(&conditions) || moves_row {
            return reject(kind_found, RejectReason::UpdateOtherRow { table });
        }
        Ok(Previous::RowOf(lower, key.clone()))
    }
}

/// A peekable stream of the tokens of one statement.
struct Tokens<'a> {
    lexer: std::iter::Peekable<Lexer<'a>>,
}

impl<'a> Tokens<'a> {
    fn new(sql: &'a str) -> Self {
        Self {
            lexer: Lexer::new(sql).peekable(),
        }
    }

    fn peek(&mut self) -> Option<&Token<'a>> {
        self.lexer.peek()
    }

    /// The next token as an uppercase word (empty if it is not a word).
    fn next_word(&mut self) -> String {
        match self.lexer.next() {
            Some(t) if t.kind == TokenKind::Word => t.text.to_ascii_uppercase(),
            _ => String::new(),
        }
    }
}

impl<'a> Iterator for Tokens<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        self.lexer.next()
    }
}

fn malformed(detail: &str) -> RejectReason {
    RejectReason::Malformed(format!("it does not parse as a dump writes it: {detail}"))
}

fn too_large(kind_found: &str, sql: &str, error: FitError) -> Reject {
    (
        kind_found.to_string(),
        RejectReason::CannotFit {
            bytes: sql.len(),
            error,
        },
    )
}

/// The statement's leading keywords, uppercase (`DROP TABLE`, `INSERT OR
/// REPLACE INTO`): how rejections name it.
fn describe(sql: &str) -> String {
    let tokens: Vec<Token> = Lexer::new(sql).take(KIND_WORDS_MAX + 1).collect();
    let mut words = Vec::new();
    for (i, token) in tokens.iter().take(KIND_WORDS_MAX).enumerate() {
        // A keyword followed by `.` is a schema name (`temp.t`).
        let schema = tokens.get(i + 1).is_some_and(|t| t.is_punct('.'));
        if schema || !KIND_WORDS.iter().any(|w| token.is_word(w)) {
            break;
        }
        words.push(token.text.to_ascii_uppercase());
    }
    if words.is_empty() {
        "this statement".into()
    } else {
        words.join(" ")
    }
}

/// Why a statement kind that is never allowed has no place in a restore.
fn forbidden_reason(keyword: &str) -> &'static str {
    match keyword {
        "DROP" => "a dump only creates objects; the restore itself drops the existing ones before the import",
        "ALTER" => "a dump creates every table in its final form; ALTER changes the schema behind the dump's back",
        "ATTACH" | "DETACH" => "a restore works on its one database; D1 does not attach others",
        "SELECT" | "VALUES" | "WITH" | "EXPLAIN" => "a dump holds no queries; this file is not a plain SQL dump",
        "VACUUM" | "REINDEX" => "maintenance commands are not part of a dump; delete them from the file",
        "ANALYZE" => {
            "statistics are not restored (sqlite3 .dump writes this when sqlite_stat1 exists); delete the ANALYZE and sqlite_stat lines and run ANALYZE after the restore if needed"
        }
        "SAVEPOINT" | "RELEASE" | "ROLLBACK" => {
            "the import makes its own transactions (one per batch) and a dump never rolls back; delete these statements"
        }
        _ => "it is not a statement a SQL dump contains",
    }
}

/// Whether a table of this name is internal to SQLite, D1 or d1-vault
/// (the one rule: [`crate::internal_names::is_internal_name`]).
fn is_internal(name: &str) -> bool {
    crate::internal_names::is_internal_name(name)
}

/// A column name in an UPDATE: a quoted identifier, or a bare word that is
/// not one of the words of a value.
fn column_name<'a>(token: &Token<'a>) -> Option<Cow<'a, str>> {
    match token.kind {
        TokenKind::Quoted => token.name(),
        TokenKind::Word if !VALUE_WORDS.iter().any(|w| token.is_word(w)) => token.name(),
        _ => None,
    }
}

/// Reads `[schema.]name`; only the schema `main` is allowed.
fn qualified_name(tokens: &mut Tokens, kind_found: &str) -> Result<String, Reject> {
    let Some(name) = tokens.next().and_then(|t| t.name()) else {
        return reject(kind_found, malformed("expected a name"));
    };
    if !tokens.peek().is_some_and(|t| t.is_punct('.')) {
        return Ok(name.into_owned());
    }
    tokens.next();
    let Some(object) = tokens.next().and_then(|t| t.name()) else {
        return reject(
            kind_found,
            malformed("expected a name after the schema name"),
        );
    };
    if name.eq_ignore_ascii_case("temp") {
        return reject(kind_found, RejectReason::Temporary);
    }
    if !name.eq_ignore_ascii_case("main") {
        return reject(
            kind_found,
            RejectReason::OtherSchema {
                schema: name.into_owned(),
            },
        );
    }
    Ok(object.into_owned())
}

/// The values SQLite reads as a boolean.
const BOOLEAN_VALUES: [&str; 8] = ["on", "off", "true", "false", "yes", "no", "1", "0"];

/// `PRAGMA name [= value | (value)]`: only the foreign key and CHECK
/// constraint pragmas a dump writes.
fn pragma(tokens: &mut Tokens) -> Result<StatementKind, Reject> {
    let name_token = tokens.next();
    let name = name_token
        .and_then(|t| t.name())
        .map(|n| n.to_ascii_lowercase())
        .unwrap_or_default();
    let kind_found = format!("PRAGMA {name}");
    if tokens.peek().is_some_and(|t| t.is_punct('.')) {
        let schema = name.clone();
        tokens.next();
        let qualified = tokens.next().and_then(|t| t.name()).unwrap_or_default();
        return reject(
            format!("PRAGMA {schema}.{qualified}"),
            RejectReason::Pragma {
                name: format!("{schema}.{qualified}"),
            },
        );
    }
    let (kind, allowed): (StatementKind, &[&str]) = match name.as_str() {
        "defer_foreign_keys" => (StatementKind::DeferForeignKeys, &["on", "true", "yes", "1"]),
        "foreign_keys" => (StatementKind::ForeignKeys, &BOOLEAN_VALUES),
        "ignore_check_constraints" => (StatementKind::IgnoreCheckConstraints, &BOOLEAN_VALUES),
        "writable_schema" => return reject(kind_found, RejectReason::WritableSchema),
        _ => return reject(kind_found, RejectReason::Pragma { name }),
    };
    let rest: Vec<Token> = tokens.collect();
    let value = match rest.as_slice() {
        [equals, value] if equals.is_punct('=') => Some(value),
        [open, value, close] if open.is_punct('(') && close.is_punct(')') => Some(value),
        _ => None,
    };
    let text = value
        .filter(|v| {
            matches!(
                v.kind,
                TokenKind::Word | TokenKind::Number | TokenKind::Str | TokenKind::Quoted
            )
        })
        .and_then(|v| v.name().or(Some(Cow::Borrowed(v.text))))
        .map(|v| v.to_ascii_lowercase());
    match text {
        Some(text) if allowed.contains(&text.as_str()) => Ok(kind),
        _ => {
            let value = rest.iter().map(|t| t.text).collect::<Vec<_>>().join(" ");
            reject(kind_found, RejectReason::PragmaValue { name, value })
        }
    }
}

/// The rest of `BEGIN [DEFERRED|...] [TRANSACTION]` or `COMMIT|END [TRANSACTION]`.
fn transaction_tail(tokens: &mut Tokens, modes: &[&str], keyword: &str) -> Result<(), Reject> {
    if tokens
        .peek()
        .is_some_and(|t| modes.iter().any(|m| t.is_word(m)))
    {
        tokens.next();
    }
    if tokens.peek().is_some_and(|t| t.is_word("TRANSACTION")) {
        tokens.next();
    }
    match tokens.next() {
        None => Ok(()),
        Some(_) => reject(
            keyword,
            malformed("named transactions are not part of a dump"),
        ),
    }
}

/// The names by which SQLite lets a statement address a rowid.
const ROWID_NAMES: [&str; 3] = ["rowid", "_rowid_", "oid"];

/// Words that end a column's type name and start its constraints.
const COLUMN_CONSTRAINT_WORDS: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// What the validator needs to know of a table from its CREATE statement.
#[derive(Debug)]
struct TableDefinition {
    kind: TableKind,
    content: Fts5Content,
    key: KeyShape,
    insert_columns: Vec<String>,
}

/// After `CREATE TABLE name`: the column list and table options, read for
/// the table's kind and key.
fn table_definition(tokens: &mut Tokens, kind_found: &str) -> Result<TableDefinition, Reject> {
    match tokens.next() {
        Some(t) if t.is_punct('(') => {}
        Some(t) if t.is_word("AS") => return reject(
            "CREATE TABLE ... AS SELECT",
            RejectReason::Forbidden(
                "CREATE TABLE ... AS SELECT copies from other tables; a dump declares every column",
            ),
        ),
        _ => return reject(kind_found, malformed("expected the column list")),
    }
    let mut body = Vec::new();
    let mut depth = 1usize;
    for token in tokens.by_ref() {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
        body.push(token);
    }
    let options: Vec<Token> = tokens.collect();
    let without_rowid = split_top_level(&options, |t| t.is_punct(','))
        .iter()
        .any(|o| matches!(o, [a, b] if a.is_word("WITHOUT") && b.is_word("ROWID")));

    // Columns: (lowercase name, declared type, generated), and the key.
    let mut columns: Vec<(String, String, bool)> = Vec::new();
    let mut primary_key: Vec<String> = Vec::new();
    // An INTEGER PRIMARY KEY column declared DESC is not a rowid alias.
    let mut descending_column_key = false;
    for definition in split_top_level(&body, |t| t.is_punct(',')) {
        let Some(first) = definition.first() else {
            continue;
        };
        let is_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|w| first.is_word(w));
        let key_at = definition
            .windows(2)
            .position(|w| w[0].is_word("PRIMARY") && w[1].is_word("KEY"));
        if is_constraint {
            if let Some(at) = key_at {
                let list = match &definition[at + 2..] {
                    [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
                    [open, rest @ ..] if open.is_punct('(') => rest,
                    _ => &[],
                };
                primary_key = split_top_level(list, |t| t.is_punct(','))
                    .iter()
                    .filter_map(|item| item.first().and_then(|t| t.name()))
                    .map(|n| n.to_ascii_lowercase())
                    .collect();
            }
            continue;
        }
        let Some(name) = first.name() else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let type_name: Vec<String> = definition[1..]
            .iter()
            .take_while(|t| {
                matches!(t.kind, TokenKind::Word | TokenKind::Quoted)
                    && !COLUMN_CONSTRAINT_WORDS.iter().any(|w| t.is_word(w))
            })
            .map(|t| t.text.to_ascii_uppercase())
            .collect();
        let generated = definition[1..].iter().any(|t| t.is_word("GENERATED"))
            || definition[1..]
                .windows(2)
                .any(|w| w[0].is_word("AS") && w[1].is_punct('('));
        if let Some(at) = key_at {
            primary_key = vec![name.clone()];
            descending_column_key = definition.get(at + 2).is_some_and(|t| t.is_word("DESC"));
        }
        columns.push((name, type_name.join(" "), generated));
    }
    let insert_columns = columns
        .iter()
        .filter(|(_, _, generated)| !generated)
        .map(|(name, _, _)| name.clone())
        .collect();
    if without_rowid {
        return Ok(TableDefinition {
            kind: TableKind::WithoutRowid,
            content: Fts5Content::Own,
            key: KeyShape::PrimaryKey {
                columns: primary_key,
            },
            insert_columns,
        });
    }
    let mut names: Vec<String> = Vec::new();
    if let [key] = primary_key.as_slice() {
        let alias = columns
            .iter()
            .any(|(name, type_name, _)| name == key && type_name == "INTEGER");
        if alias && !descending_column_key {
            names.push(key.clone());
        }
    }
    names.extend(
        ROWID_NAMES
            .iter()
            .filter(|rowid| !columns.iter().any(|(name, _, _)| name == *rowid))
            .map(|rowid| rowid.to_string()),
    );
    Ok(TableDefinition {
        kind: TableKind::Table,
        content: Fts5Content::Own,
        key: KeyShape::Rowid { names },
        insert_columns,
    })
}

/// The key of the one row an INSERT into `table` writes: `columns` is the
/// INSERT's column list (empty for none), `tuple` its `(v1, v2, ...)`.
fn row_key(table: &TableEntry, columns: &[String], tuple: &str) -> RowKey {
    let tokens: Vec<Token> = Lexer::new(tuple).collect();
    let inner = match tokens.as_slice() {
        [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
        _ => return RowKey::Unknown,
    };
    let values = split_top_level(inner, |t| t.is_punct(','));
    let lowered: Vec<String>;
    let names: &[String] = if columns.is_empty() {
        &table.insert_columns
    } else {
        lowered = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        &lowered
    };
    if names.len() != values.len() {
        return RowKey::Unknown;
    }
    let value_of = |column: &str| {
        names
            .iter()
            .position(|n| n == column)
            .map(|i| literal_sig(values[i]))
    };
    match &table.key {
        KeyShape::Rowid { names } => match names.iter().find_map(|n| value_of(n)) {
            Some(value) => RowKey::Rowid {
                names: names.clone(),
                value,
            },
            None => RowKey::Unknown,
        },
        KeyShape::PrimaryKey { columns } if !columns.is_empty() => columns
            .iter()
            .map(|c| value_of(c).map(|v| (c.clone(), v)))
            .collect::<Option<Vec<_>>>()
            .map_or(RowKey::Unknown, RowKey::PrimaryKey),
        KeyShape::PrimaryKey { .. } => RowKey::Unknown,
    }
}

/// After `CREATE VIRTUAL TABLE name`: `USING fts5(...)`; returns where the
/// table's content is (its `content=` option).
fn fts5_content(tokens: &mut Tokens, kind_found: &str) -> Result<Fts5Content, Reject> {
    if !tokens.next().is_some_and(|t| t.is_word("USING")) {
        return reject(kind_found, malformed("expected USING after the table name"));
    }
    let module = tokens
        .next()
        .and_then(|t| t.name())
        .unwrap_or_default()
        .into_owned();
    if !module.eq_ignore_ascii_case("fts5") {
        return reject(kind_found, RejectReason::VirtualModule { module });
    }
    let args: Vec<Token> = tokens.collect();
    let inner = match args.as_slice() {
        [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
        _ => &[],
    };
    for arg in split_top_level(inner, |t| t.is_punct(',')) {
        if let [key, equals, value @ ..] = arg {
            if key.is_word("content") && equals.is_punct('=') {
                let content: String = value.iter().filter_map(|t| t.name()).collect();
                return Ok(if content.is_empty() {
                    Fts5Content::Contentless
                } else {
                    Fts5Content::External(content)
                });
            }
        }
    }
    Ok(Fts5Content::Own)
}

/// After `CREATE TRIGGER name`: refuses a trigger on, or writing to, an
/// internal table, or naming a table of another schema than `main`.
fn trigger_tables(tokens: &mut Tokens, kind_found: &str) -> Result<(), Reject> {
    let all: Vec<Token> = tokens.collect();
    let mut targets = Vec::new();
    let mut in_body = false;
    for (i, token) in all.iter().enumerate() {
        if token.is_word("BEGIN") {
            in_body = true;
        } else if (token.is_word("ON") && !in_body)
            || (in_body
                && (token.is_word("INTO")
                    || (token.is_word("FROM") && i > 0 && all[i - 1].is_word("DELETE"))))
        {
            targets.push(i + 1);
        } else if in_body && token.is_word("UPDATE") {
            let skip = if all.get(i + 1).is_some_and(|t| t.is_word("OR")) {
                2
            } else {
                0
            };
            targets.push(i + 1 + skip);
        }
    }
    for at in targets {
        let Some(name) = all.get(at).and_then(|t| t.name()) else {
            continue;
        };
        // `schema.table`: only main's tables are this database's.
        let qualified = all.get(at + 1).is_some_and(|t| t.is_punct('.'));
        let table = match all.get(at + 2).and_then(|t| t.name()) {
            Some(table) if qualified => {
                if name.eq_ignore_ascii_case("temp") {
                    return reject(kind_found, RejectReason::Temporary);
                }
                if !name.eq_ignore_ascii_case("main") {
                    return reject(
                        kind_found,
                        RejectReason::OtherSchema {
                            schema: name.into_owned(),
                        },
                    );
                }
                table
            }
            _ => name,
        };
        if is_internal(&table) {
            return reject(
                kind_found,
                RejectReason::InternalTable {
                    table: table.into_owned(),
                },
            );
        }
    }
    Ok(())
}

/// Splits tokens at the separators that are outside parentheses.
fn split_top_level<'t, 'a>(
    tokens: &'t [Token<'a>],
    separator: impl Fn(&Token) -> bool,
) -> Vec<&'t [Token<'a>]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth = depth.saturating_sub(1);
        } else if depth == 0 && separator(token) {
            parts.push(&tokens[start..i]);
            start = i + 1;
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The terms of a conjunction, in order: `a = 1 AND (b = 2 AND c = 3)`
/// gives the three equalities. The dump writes a key's conditions as a
/// balanced tree of ANDs, so that a key of 100 columns stays under D1's
/// expression depth of 100.
fn conjunction_terms<'t, 'a>(tokens: &'t [Token<'a>], terms: &mut Vec<&'t [Token<'a>]>) {
    let inner = without_enclosing_parentheses(tokens);
    let parts = split_top_level(inner, |t| t.is_word("AND"));
    if parts.len() == 1 && inner.len() == tokens.len() {
        terms.push(tokens);
        return;
    }
    for part in parts {
        conjunction_terms(part, terms);
    }
}

/// `tokens` without one pair of parentheses that encloses all of them.
fn without_enclosing_parentheses<'t, 'a>(tokens: &'t [Token<'a>]) -> &'t [Token<'a>] {
    let [open, inner @ .., close] = tokens else {
        return tokens;
    };
    if !open.is_punct('(') || !close.is_punct(')') {
        return tokens;
    }
    let mut depth = 0usize;
    for token in inner {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            // `(a) AND (b)`: the first ')' closes the first '(' early.
            let Some(d) = depth.checked_sub(1) else {
                return tokens;
            };
            depth = d;
        }
    }
    inner
}

/// Whether every token may appear in a literal value.
fn is_literal(tokens: &[Token]) -> bool {
    tokens.iter().all(is_value_token)
}

/// Whether a token may appear in a literal value: see the module documentation.
fn is_value_token(token: &Token) -> bool {
    match token.kind {
        TokenKind::Str | TokenKind::Concat => true,
        TokenKind::Blob => token.is_valid_blob(),
        TokenKind::Number => is_number(token.text),
        TokenKind::Word => VALUE_WORDS.iter().any(|w| token.is_word(w)),
        TokenKind::Punct => VALUE_PUNCT.iter().any(|&c| token.is_punct(c)),
        TokenKind::Quoted | TokenKind::Variable => false,
    }
}

fn check_value_token(token: &Token, kind_found: &str) -> Result<(), Reject> {
    if is_value_token(token) {
        return Ok(());
    }
    let found: String = token.text.chars().take(40).collect();
    reject(kind_found, RejectReason::NotLiteral { found })
}

/// After `VALUES`: the tuples, each checked to hold literals only, and
/// nothing after them.
fn values(sql: &str, tokens: &mut Tokens, kind_found: &str) -> Result<InsertShape, Reject> {
    let mut tuples = Vec::new();
    let mut prefix_end = sql.len();
    loop {
        let open = match tokens.next() {
            Some(t) if t.is_punct('(') => t,
            _ => {
                return reject(
                    kind_found,
                    malformed("expected '(' to open a row of VALUES"),
                )
            }
        };
        if tuples.is_empty() {
            prefix_end = open.start;
        }
        let mut depth = 1usize;
        let mut close = None;
        for token in tokens.by_ref() {
            if token.is_punct('(') {
                depth += 1;
            } else if token.is_punct(')') {
                depth -= 1;
                if depth == 0 {
                    close = Some(token.end());
                    break;
                }
            }
            check_value_token(&token, kind_found)?;
        }
        let Some(end) = close else {
            return reject(kind_found, malformed("a row of VALUES is not closed"));
        };
        tuples.push(open.start..end);
        match tokens.next() {
            None => return Ok(InsertShape { prefix_end, tuples }),
            Some(t) if t.is_punct(',') => {}
            Some(t) if t.is_word("ON") || t.is_word("RETURNING") => {
                return reject(kind_found, RejectReason::ConflictClause)
            }
            Some(t) => {
                let found: String = t.text.chars().take(40).collect();
                return reject(
                    kind_found,
                    malformed(&format!("unexpected `{found}` after a row of VALUES")),
                );
            }
        }
    }
}

impl fmt::Display for StatementKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::DeferForeignKeys => {
                "PRAGMA defer_foreign_keys (skipped: every batch starts with its own)"
            }
            Self::ForeignKeys => {
                "PRAGMA foreign_keys (skipped: D1 ignores it; the import defers foreign keys)"
            }
            Self::IgnoreCheckConstraints => {
                "PRAGMA ignore_check_constraints (skipped: every batch starts with its own)"
            }
            Self::Begin => "BEGIN (skipped: every batch is a transaction)",
            Self::Commit => "COMMIT (skipped: every batch is a transaction)",
            Self::CreateTable => "CREATE TABLE",
            Self::CreateFts5Table => "CREATE VIRTUAL TABLE ... USING fts5",
            Self::CreateIndex => "CREATE INDEX",
            Self::CreateView => "CREATE VIEW",
            Self::CreateTrigger => "CREATE TRIGGER",
            Self::Insert => "INSERT",
            Self::Fts5Rebuild => "FTS5 rebuild",
            Self::UpdateRow => "UPDATE completing a large row",
            Self::DeleteSequence => "DELETE FROM sqlite_sequence",
            Self::InsertSequence => "INSERT INTO sqlite_sequence",
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn statement(text: &str, line: u64) -> Statement {
        Statement {
            text: text.into(),
            line,
            bytes: text.len() + 1,
        }
    }

    /// Validates `texts` in order (statement i on line i + 1).
    fn validate(texts: &[&str]) -> (Validator, Vec<Result<Validated, Rejection>>) {
        let mut validator = Validator::new();
        let results = texts
            .iter()
            .zip(1..)
            .map(|(text, line)| validator.check(&statement(text, line)))
            .collect();
        (validator, results)
    }

    fn kinds(texts: &[&str]) -> Vec<StatementKind> {
        let (_, results) = validate(texts);
        results
            .into_iter()
            .map(|r| r.unwrap_or_else(|e| panic!("{e}")).kind)
            .collect()
    }

    fn rejection(texts: &[&str]) -> Rejection {
        let (_, results) = validate(texts);
        let last = results.into_iter().last().expect("a statement");
        last.expect_err("the last statement is rejected")
    }

    #[test]
    fn dump_statements_are_classified() {
        use StatementKind::*;
        assert_eq!(
            kinds(&[
                "PRAGMA defer_foreign_keys=ON",
                "PRAGMA foreign_keys = off",
                "BEGIN TRANSACTION",
                "CREATE TABLE \"t\"(id INTEGER PRIMARY KEY, v)",
                "CREATE TABLE IF NOT EXISTS w(a PRIMARY KEY) WITHOUT ROWID",
                "CREATE VIRTUAL TABLE docs USING fts5(body)",
                "INSERT INTO \"t\"(\"id\",\"v\") VALUES(1,'a'),(2,-2.5e3),(3,X'00ff'),(4,NULL)",
                "INSERT INTO \"t\"(\"id\",\"v\") VALUES(5,'')",
                "UPDATE \"t\" SET \"v\" = \"v\" || 'piece' || char(13) || '' WHERE \"id\" = 5",
                "UPDATE \"t\" SET \"v\" = CAST(\"v\" || X'00' AS BLOB) WHERE \"id\" = 5",
                "INSERT INTO \"docs\"(rowid,\"body\") VALUES(1,'x')",
                "INSERT INTO \"docs\"(\"docs\") VALUES('rebuild')",
                "CREATE UNIQUE INDEX i ON t(v)",
                "CREATE VIEW v AS SELECT * FROM t",
                "CREATE TRIGGER tr AFTER INSERT ON t BEGIN INSERT INTO w VALUES(1); END",
                "DELETE FROM sqlite_sequence",
                "INSERT INTO sqlite_sequence(name,seq) VALUES('t',1000)",
                "COMMIT",
                "END TRANSACTION",
            ]),
            [
                DeferForeignKeys,
                ForeignKeys,
                Begin,
                CreateTable,
                CreateTable,
                CreateFts5Table,
                Insert,
                Insert,
                UpdateRow,
                UpdateRow,
                Insert,
                Fts5Rebuild,
                CreateIndex,
                CreateView,
                CreateTrigger,
                DeleteSequence,
                InsertSequence,
                Commit,
                Commit,
            ]
        );
    }

    #[test]
    fn skipped_kinds_run_nothing_and_others_run_as_written() {
        let (_, results) = validate(&[
            "BEGIN",
            "PRAGMA defer_foreign_keys = true",
            "CREATE TABLE t(a)",
        ]);
        let results: Vec<Validated> = results.into_iter().map(|r| r.expect("allowed")).collect();
        assert!(results[0].statements.is_empty() && results[1].statements.is_empty());
        assert_eq!(
            results[2].statements,
            [PlannedStatement {
                sql: "CREATE TABLE t(a)".into(),
                params: vec![],
                line: 3
            }]
        );
    }

    #[test]
    fn the_summary_counts_rows_and_names_objects_in_order() {
        let (validator, results) = validate(&[
            "CREATE TABLE a(x)",
            "CREATE TABLE \"B\"\"q\"(y) WITHOUT ROWID",
            "CREATE TABLE content(id INTEGER PRIMARY KEY, body)",
            "CREATE VIRTUAL TABLE own USING fts5(body)",
            "CREATE VIRTUAL TABLE ext USING fts5(body, content='Content', content_rowid='id')",
            "CREATE VIRTUAL TABLE over_view USING fts5(body, content=\"v\")",
            "INSERT INTO a VALUES(1),(2),('(3),(4)')",
            "INSERT INTO [b\"q] VALUES(replace('a,b', ',', char(10)))",
            "INSERT INTO content VALUES(1, 'x'), (2, 'y')",
            "INSERT INTO own(rowid, body) VALUES(1, 'x'), (2, 'y'), (3, 'z')",
            "INSERT INTO ext(ext) VALUES('rebuild')",
            "CREATE INDEX i1 ON a(x)",
            "CREATE TRIGGER t1 AFTER INSERT ON a BEGIN SELECT 1; END",
            "CREATE VIEW v AS SELECT 1",
            "CREATE INDEX i2 ON content(body)",
        ]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let summary = validator.finish();
        let tables: Vec<(&str, TableKind, u64)> = summary
            .tables
            .iter()
            .map(|t| (t.name.as_str(), t.kind, t.rows))
            .collect();
        assert_eq!(
            tables,
            [
                ("a", TableKind::Table, 3),
                ("B\"q", TableKind::WithoutRowid, 1),
                ("content", TableKind::Table, 2),
                ("own", TableKind::Fts5, 3),
                ("ext", TableKind::Fts5, 2),
                ("over_view", TableKind::Fts5, 0),
            ]
        );
        assert_eq!(summary.uncounted_tables, ["over_view"]);
        assert_eq!(summary.indexes, ["i1", "i2"]);
        assert_eq!(summary.triggers, ["t1"]);
        assert_eq!(summary.views, ["v"]);
        assert_eq!(summary.statements, 15);
        assert_eq!(
            summary.largest_statement_bytes,
            "CREATE VIRTUAL TABLE ext USING fts5(body, content='Content', content_rowid='id')"
                .len()
                + 2
        );
    }

    #[test]
    fn the_schema_hash_is_the_dumps() {
        let schema = [
            (
                "table",
                "t",
                "t",
                "CREATE TABLE t(id INTEGER PRIMARY KEY, v)",
            ),
            ("index", "t_v", "t", "CREATE INDEX t_v ON t(v)"),
            (
                "table",
                "u",
                "u",
                "CREATE TABLE u(a TEXT PRIMARY KEY) WITHOUT ROWID",
            ),
            ("view", "w", "w", "CREATE VIEW w AS SELECT * FROM t"),
            (
                "trigger",
                "tr",
                "t",
                "CREATE TRIGGER tr AFTER INSERT ON t BEGIN SELECT 1; END",
            ),
        ];
        let rows = schema
            .iter()
            .map(|(k, n, t, s)| {
                vec![
                    Some(k.to_string()),
                    Some(n.to_string()),
                    Some(t.to_string()),
                    Some(s.to_string()),
                ]
            })
            .collect();
        let expected = crate::dump::schema_sha256(rows).expect("hash");
        // In dump order: the tables first, then the other objects.
        let (validator, results) = validate(&[
            schema[0].3,
            schema[2].3,
            schema[1].3,
            schema[3].3,
            schema[4].3,
        ]);
        assert!(results.iter().all(Result::is_ok));
        assert_eq!(validator.finish().schema_sha256, expected);
    }

    #[test]
    fn updates_must_complete_the_row_just_inserted() {
        let create = "CREATE TABLE t(id INTEGER PRIMARY KEY, v)";
        let update = "UPDATE \"t\" SET \"v\" = \"v\" || 'x' WHERE \"id\" = 1";
        let out_of_place = RejectReason::UpdateOutOfPlace { table: "t".into() };
        assert_eq!(rejection(&[create, update]).reason, out_of_place);
        assert_eq!(
            rejection(&[create, "INSERT INTO t VALUES(1,''),(2,'')", update]).reason,
            out_of_place
        );
        assert_eq!(
            rejection(&[
                create,
                "CREATE TABLE u(a)",
                "INSERT INTO u VALUES(1)",
                update
            ])
            .reason,
            out_of_place,
            "after a row of another table"
        );
        let rejected = rejection(&[
            create,
            "INSERT INTO t VALUES(1,'')",
            "CREATE INDEX i ON t(v)",
            update,
        ]);
        assert_eq!((rejected.line, rejected.reason), (4, out_of_place));
        // The forms the dump writes, one after another.
        assert!(kinds(&[
            create,
            "INSERT INTO t VALUES(-7,'')",
            "UPDATE \"t\" SET \"v\" = 'whole', \"id\" = -7 WHERE rowid = -7",
            "UPDATE \"t\" SET \"v\" = CAST(X'00' AS TEXT) WHERE \"id\" = -7",
            "UPDATE \"t\" SET \"v\" = CAST(\"v\" || 'ab' AS BLOB) WHERE \"id\" = -7",
            "UPDATE \"t\" SET \"v\" = CAST(\"v\" || 'cd' AS TEXT) WHERE \"id\" = -7",
            "UPDATE \"t\" SET \"v\" = \"v\" || X'6566' WHERE \"id\" = -7",
            "UPDATE \"t\" SET \"v\" = \"v\" || CAST(X'0d' AS TEXT) WHERE oid = -7",
        ])
        .iter()
        .skip(1)
        .all(|k| matches!(k, StatementKind::Insert | StatementKind::UpdateRow)));
    }

    #[test]
    fn updates_must_name_the_inserted_row_by_its_key() {
        let other_row = |table: &str| RejectReason::UpdateOtherRow {
            table: table.into(),
        };
        // A rowid table with an INTEGER PRIMARY KEY alias.
        let alias = [
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w)",
            "INSERT INTO \"t\"(\"id\",\"v\",\"w\") VALUES(5,'',1)",
        ];
        for update in [
            "UPDATE t SET v = v || 'x' WHERE id = 6",
            "UPDATE t SET v = v || 'x' WHERE rowid = 4",
            "UPDATE t SET v = v || 'x' WHERE w = 1",
            "UPDATE t SET v = v || 'x' WHERE id = 5 AND w = 1",
            "UPDATE t SET v = v || 'x' WHERE id = 5 AND id = 5",
            "UPDATE t SET v = 'x', id = 6 WHERE id = 5",
        ] {
            assert_eq!(
                rejection(&[alias[0], alias[1], update]).reason,
                other_row("t"),
                "{update}"
            );
        }
        for update in [
            "UPDATE t SET v = v || 'x' WHERE id = 5",
            "UPDATE t SET v = v || 'x' WHERE _rowid_ = 5",
            "UPDATE t SET v = 'x', \"ID\" = 5 WHERE \"RowId\" = 5",
        ] {
            assert_eq!(
                kinds(&[alias[0], alias[1], update])[2],
                StatementKind::UpdateRow,
                "{update}"
            );
        }
        // The dump's explicit rowid column of a table without an alias; a
        // column named oid takes that name from the rowid.
        let rowid = [
            "CREATE TABLE r(oid TEXT, v)",
            "INSERT INTO r(rowid, oid, v) VALUES(-3, 'x', '')",
        ];
        assert_eq!(
            kinds(&[
                rowid[0],
                rowid[1],
                "UPDATE r SET v = v || 'y' WHERE rowid = -3"
            ])[2],
            StatementKind::UpdateRow
        );
        assert_eq!(
            rejection(&[
                rowid[0],
                rowid[1],
                "UPDATE r SET v = v || 'y' WHERE oid = 'x'"
            ])
            .reason,
            other_row("r")
        );
        assert_eq!(
            rejection(&[
                rowid[0],
                rowid[1],
                "UPDATE r SET v = v || 'y' WHERE rowid = 3"
            ])
            .reason,
            other_row("r")
        );
        // A rowid SQLite assigns itself is not known: no UPDATE names it.
        assert_eq!(
            rejection(&[
                "CREATE TABLE n(v)",
                "INSERT INTO n(v) VALUES('')",
                "UPDATE n SET v = v || 'y' WHERE rowid = 1"
            ])
            .reason,
            other_row("n")
        );
        // INTEGER PRIMARY KEY DESC is no alias.
        assert_eq!(
            rejection(&[
                "CREATE TABLE d(id INTEGER PRIMARY KEY DESC, v)",
                "INSERT INTO d(id, v) VALUES(1, '')",
                "UPDATE d SET v = v || 'y' WHERE id = 1"
            ])
            .reason,
            other_row("d")
        );
        // WITHOUT ROWID: every primary key column, with the INSERT's values,
        // also for an INSERT without a column list (generated columns skipped).
        let pk = [
            "CREATE TABLE w(a TEXT, g INT GENERATED ALWAYS AS (1), b INT, v, PRIMARY KEY (b, a)) WITHOUT ROWID",
            "INSERT INTO w VALUES('k''s', -2, X'')",
        ];
        for update in [
            "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE \"a\" = 'k''s' AND \"b\" = -2",
            "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE b = -2 AND a = 'k''s'",
            // The dump's balanced AND tree, and its hex TEXT keys.
            "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE (\"a\" = 'k''s' AND \"b\" = -2)",
            "UPDATE w SET v = CAST(v || X'00' AS BLOB) WHERE (a = 'k''s') AND ((b = -2))",
        ] {
            assert_eq!(
                kinds(&[pk[0], pk[1], update])[2],
                StatementKind::UpdateRow,
                "{update}"
            );
        }
        for update in [
            "UPDATE w SET v = X'00' WHERE a = 'k''s'",
            "UPDATE w SET v = X'00' WHERE a = 'k''s' AND b = 2",
            "UPDATE w SET v = X'00' WHERE a = 'k''s' AND b = -2 AND v = X''",
            "UPDATE w SET v = X'00' WHERE rowid = 1",
            "UPDATE w SET v = X'00' WHERE (a = 'k''s' AND (b = 2))",
        ] {
            assert_eq!(
                rejection(&[pk[0], pk[1], update]).reason,
                other_row("w"),
                "{update}"
            );
        }
        // A condition that is no conjunction of equalities is no dump's form.
        assert_eq!(
            rejection(&[
                pk[0],
                pk[1],
                "UPDATE w SET v = X'00' WHERE (a = 'k''s' AND b = -2) OR b = 1"
            ])
            .reason,
            RejectReason::UpdateForm
        );
        // FTS5 rows by rowid.
        assert_eq!(
            kinds(&[
                "CREATE VIRTUAL TABLE f USING fts5(body)",
                "INSERT INTO \"f\"(rowid,\"body\") VALUES(9,'')",
                "UPDATE \"f\" SET \"body\" = \"body\" || 'x' WHERE rowid = 9",
            ])[2],
            StatementKind::UpdateRow
        );
    }

    #[test]
    fn other_updates_are_refused() {
        let prefix = [
            "CREATE TABLE t(id INTEGER PRIMARY KEY, v, w)",
            "INSERT INTO t VALUES(1,'',2)",
        ];
        for update in [
            "UPDATE t SET v = w WHERE id = 1",
            "UPDATE t SET v = v || w WHERE id = 1",
            "UPDATE t SET v = w || 'x' WHERE id = 1",
            "UPDATE t SET v = 'x'",
            "UPDATE t SET v = 'x' WHERE id > 1",
            "UPDATE t SET v = 'x' WHERE id = 1 OR 1 = 1",
            "UPDATE t SET v = CAST(w || 'x' AS BLOB) WHERE id = 1",
            "UPDATE t SET v = CAST(v || 'x' AS INTEGER) WHERE id = 1",
            "UPDATE t SET v = (SELECT 1) WHERE id = 1",
            "UPDATE t SET v = 'x' WHERE id = 1 RETURNING *",
        ] {
            let rejected = rejection(&[prefix[0], prefix[1], update]);
            assert_eq!(rejected.reason, RejectReason::UpdateForm, "{update}");
            assert_eq!(rejected.kind_found, "UPDATE t", "{update}");
        }
        assert_eq!(
            rejection(&[prefix[0], prefix[1], "UPDATE OR REPLACE t SET v = 1"]).reason,
            RejectReason::ConflictClause
        );
    }

    #[test]
    fn values_must_be_literals() {
        let create = "CREATE TABLE t(a, b)";
        for (values, found) in [
            ("VALUES((SELECT 1), 2)", "SELECT"),
            ("VALUES(a, 2)", "a"),
            ("VALUES(?1, 2)", "?1"),
            ("VALUES(:x, 2)", ":x"),
            ("VALUES(randomblob(9), 2)", "randomblob"),
            ("VALUES(\"quoted\", 2)", "\"quoted\""),
            ("VALUES(X'0', 2)", "X'0'"),
            ("VALUES(12abc, 2)", "12abc"),
            ("VALUES(1 < 2, 2)", "<"),
        ] {
            let rejected = rejection(&[create, &format!("INSERT INTO t {values}")]);
            assert_eq!(
                rejected.reason,
                RejectReason::NotLiteral {
                    found: found.into()
                },
                "{values}"
            );
        }
        assert_eq!(
            kinds(&[
                create,
                "INSERT INTO t VALUES(-1, +2.5), (CAST(X'41' AS TEXT), 9.0e+999), ('a' || char(13,10), 0x1F)"
            ])[1],
            StatementKind::Insert
        );
    }

    #[test]
    fn inserts_need_a_table_of_the_dump_and_plain_values() {
        assert_eq!(
            rejection(&["INSERT INTO t VALUES(1)"]).reason,
            RejectReason::UnknownTable { table: "t".into() }
        );
        assert_eq!(
            rejection(&["CREATE VIEW t AS SELECT 1", "INSERT INTO t VALUES(1)"]).reason,
            RejectReason::UnknownTable { table: "t".into() }
        );
        let create = "CREATE TABLE t(a)";
        assert_eq!(
            rejection(&[create, "INSERT INTO t SELECT 1"]).reason,
            RejectReason::NotValues
        );
        assert_eq!(
            rejection(&[create, "INSERT INTO t DEFAULT VALUES"]).reason,
            RejectReason::NotValues
        );
        assert_eq!(
            rejection(&[create, "INSERT INTO t VALUES(1) ON CONFLICT DO NOTHING"]).reason,
            RejectReason::ConflictClause
        );
        assert_eq!(
            rejection(&[create, "INSERT INTO t VALUES(1) RETURNING a"]).reason,
            RejectReason::ConflictClause
        );
        assert_eq!(
            rejection(&[create, "INSERT OR IGNORE INTO t VALUES(1)"]).kind_found,
            "INSERT OR IGNORE INTO"
        );
        assert_eq!(
            rejection(&[create, "REPLACE INTO t VALUES(1)"]).reason,
            RejectReason::ConflictClause
        );
        assert!(matches!(
            rejection(&[create, "INSERT INTO t VALUES(1) x"]).reason,
            RejectReason::Malformed(_)
        ));
        assert!(matches!(
            rejection(&[create, "INSERT INTO t VALUES(1"]).reason,
            RejectReason::Malformed(_)
        ));
        assert_eq!(
            rejection(&[create, "INSERT INTO aux.t VALUES(1)"]).reason,
            RejectReason::OtherSchema {
                schema: "aux".into()
            }
        );
        assert_eq!(
            kinds(&[create, "INSERT INTO main.T VALUES(1)"])[1],
            StatementKind::Insert
        );
    }

    #[test]
    fn fts5_commands_other_than_rebuild_are_refused() {
        let create = "CREATE VIRTUAL TABLE f USING fts5(x)";
        for insert in [
            "INSERT INTO f(f) VALUES('optimize')",
            "INSERT INTO f(f, rank) VALUES('rank', 'bm25(10.0)')",
            "INSERT INTO f(f) VALUES('rebuild'), ('rebuild')",
        ] {
            assert!(
                matches!(
                    rejection(&[create, insert]).reason,
                    RejectReason::Fts5Command { .. }
                ),
                "{insert}"
            );
        }
        assert_eq!(
            rejection(&["CREATE VIRTUAL TABLE r USING rtree(id, a, b)"]).reason,
            RejectReason::VirtualModule {
                module: "rtree".into()
            }
        );
    }

    #[test]
    fn pragma_values_are_checked() {
        assert_eq!(
            rejection(&["PRAGMA defer_foreign_keys = off"]).reason,
            RejectReason::PragmaValue {
                name: "defer_foreign_keys".into(),
                value: "= off".into()
            }
        );
        assert!(matches!(
            rejection(&["PRAGMA foreign_keys"]).reason,
            RejectReason::PragmaValue { .. }
        ));
        assert_eq!(
            kinds(&[
                "PRAGMA foreign_keys('0')",
                "PRAGMA \"defer_foreign_keys\" = 1"
            ])
            .len(),
            2
        );
        assert_eq!(
            rejection(&["PRAGMA main.foreign_keys = 0"]).reason,
            RejectReason::Pragma {
                name: "main.foreign_keys".into()
            }
        );
    }

    #[test]
    fn triggers_on_or_writing_internal_tables_are_refused() {
        let create = "CREATE TABLE t(a)";
        for trigger in [
            "CREATE TRIGGER x AFTER INSERT ON _cf_KV BEGIN SELECT 1; END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO sqlite_stat1 VALUES(1,2,3); END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE OR IGNORE \"_cf_METADATA\" SET a = 1; END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM sqlite_sequence; END",
        ] {
            assert!(matches!(rejection(&[create, trigger]).reason, RejectReason::InternalTable { .. }), "{trigger}");
        }
        assert!(matches!(
            rejection(&["CREATE INDEX i ON sqlite_stat1(tbl)"]).reason,
            RejectReason::InternalTable { .. }
        ));
    }

    #[test]
    fn schema_qualified_names_are_resolved_and_other_schemas_refused() {
        let create = "CREATE TABLE t(a)";
        for trigger in [
            "CREATE TRIGGER x AFTER INSERT ON main._cf_KV BEGIN SELECT 1; END",
            "CREATE TRIGGER x AFTER INSERT ON \"main\".\"_CF_kv\" BEGIN SELECT 1; END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO main.sqlite_stat1 VALUES(1,2,3); END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN UPDATE OR IGNORE [main].\"_cf_METADATA\" SET a = 1; END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN DELETE FROM main . sqlite_sequence; END",
            "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO main._d1vault_progress VALUES(1); END",
        ] {
            assert!(matches!(rejection(&[create, trigger]).reason, RejectReason::InternalTable { .. }), "{trigger}");
        }
        assert_eq!(
            rejection(&[
                create,
                "CREATE TRIGGER x AFTER INSERT ON t BEGIN INSERT INTO aux.u VALUES(1); END"
            ])
            .reason,
            RejectReason::OtherSchema {
                schema: "aux".into()
            }
        );
        assert_eq!(
            rejection(&[
                create,
                "CREATE TRIGGER x AFTER INSERT ON temp.t BEGIN SELECT 1; END"
            ])
            .reason,
            RejectReason::Temporary
        );
        assert!(matches!(
            rejection(&["CREATE INDEX i ON \"main\".sqlite_stat1(tbl)"]).reason,
            RejectReason::InternalTable { .. }
        ));
        assert!(matches!(
            rejection(&["CREATE TABLE main._d1vault_progress(n)"]).reason,
            RejectReason::InternalTable { .. }
        ));
        assert_eq!(
            kinds(&[
                create,
                "CREATE TRIGGER main.x AFTER INSERT ON main.t BEGIN INSERT INTO \"main\".t VALUES(1); END",
                "DELETE FROM main.sqlite_sequence",
            ])[1..],
            [StatementKind::CreateTrigger, StatementKind::DeleteSequence]
        );
    }

    #[test]
    fn the_check_constraint_pragmas_of_a_dump_are_accepted_and_skipped() {
        let (_, results) = validate(&[
            "PRAGMA defer_foreign_keys=ON",
            "PRAGMA ignore_check_constraints=ON",
            "PRAGMA ignore_check_constraints = OFF",
        ]);
        for result in results {
            let validated = result.expect("allowed");
            assert!(validated.statements.is_empty());
        }
        assert_eq!(
            kinds(&["PRAGMA ignore_check_constraints=ON"]),
            [StatementKind::IgnoreCheckConstraints]
        );
        assert!(matches!(
            rejection(&["PRAGMA ignore_check_constraints = maybe"]).reason,
            RejectReason::PragmaValue { .. }
        ));
    }

    #[test]
    fn contentless_and_view_content_fts5_tables_are_named_in_the_summary() {
        let (validator, results) = validate(&[
            "CREATE VIRTUAL TABLE idx USING fts5(body, content='')",
            "CREATE VIEW v AS SELECT 1 AS body",
            "CREATE VIRTUAL TABLE over_view USING fts5(body, content='v')",
            "INSERT INTO over_view(over_view) VALUES('rebuild')",
        ]);
        assert!(results.iter().all(Result::is_ok), "{results:?}");
        let summary = validator.finish();
        assert_eq!(summary.contentless_tables, ["idx"]);
        assert_eq!(summary.uncounted_tables, ["over_view"]);
        assert_eq!(
            summary.tables.iter().map(|t| t.rows).collect::<Vec<_>>(),
            [0, 0]
        );
    }

    #[test]
    fn oversized_inserts_are_rewritten_or_refused() {
        let big = "x".repeat(MAX_STATEMENT_BYTES);
        let (_, results) = validate(&[
            "CREATE TABLE t(a, b)",
            &format!("INSERT INTO t VALUES(1, '{big}')"),
        ]);
        let validated = results.into_iter().last().expect("two").expect("rewritten");
        assert_eq!(validated.statements.len(), 1);
        assert_eq!(validated.statements[0].sql, "INSERT INTO t VALUES(1, ?1)");

        let view = format!("CREATE VIEW v AS SELECT '{big}'");
        let rejected = rejection(&["CREATE TABLE t(a)", &view]);
        assert_eq!(
            rejected.reason,
            RejectReason::TooLarge { bytes: view.len() }
        );
        let numbers = vec!["1"; MAX_STATEMENT_BYTES / 2].join(",");
        let rejected = rejection(&[
            "CREATE TABLE t(a)",
            &format!("INSERT INTO t VALUES({numbers})"),
        ]);
        assert!(
            matches!(
                rejected.reason,
                RejectReason::CannotFit {
                    error: FitError::StillTooLarge { .. },
                    ..
                }
            ),
            "{rejected}"
        );
    }

    #[test]
    fn rejections_read_as_the_operator_needs_them() {
        let rejected = rejection(&["SELECT 1;", "DROP TABLE IF EXISTS t"]);
        assert_eq!(
            rejected.to_string(),
            "line 2: DROP TABLE IF EXISTS is not allowed in a restore: a dump only creates objects; \
             the restore itself drops the existing ones before the import"
        );
    }
}
