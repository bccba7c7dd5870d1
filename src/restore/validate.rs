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

use super::lex::{is_number, Lexer, Token, TokenKind};
use super::plan::{fit_insert, FitError, InsertShape, PlannedStatement};
use super::reader::Statement;
use crate::dump::{TableKind, TableSummary, MAX_STATEMENT_BYTES};
use crate::format::Sha256State;

mod create;
mod update;

use update::{row_key, KeyShape, Previous};

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
#[derive(Debug, Serialize, Deserialize)]
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
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
enum Fts5Content {
    /// Stored in the table itself (and every ordinary table).
    Own,
    /// `content='<table or view>'`.
    External(String),
    /// `content=''`: the text is not stored, so a dump cannot carry it.
    Contentless,
}

/// The validator; see the module documentation. It serializes whole, so a
/// job can save it between invocations.
#[derive(Debug, Serialize, Deserialize)]
pub struct Validator {
    tables: Vec<TableEntry>,
    /// Lowercase table name to index in `tables`.
    by_name: HashMap<String, usize>,
    indexes: Vec<String>,
    views: Vec<String>,
    triggers: Vec<String>,
    /// Hash of the CREATE TABLE statements so far.
    table_hash: Sha256State,
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
            table_hash: Sha256State::new(),
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

    /// Rows inserted by the statements checked so far (for progress).
    pub fn rows(&self) -> u64 {
        self.tables.iter().map(|table| table.rows).sum()
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
            schema_sha256: hash.finish().to_string(),
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
    main_schema_only(&name, kind_found)?;
    Ok(object.into_owned())
}

/// Refuses a schema qualifier other than `main`: only main's objects are
/// this database's (`temp` ones vanish with the connection; others are
/// attached databases).
fn main_schema_only(schema: &str, kind_found: &str) -> Result<(), Reject> {
    if schema.eq_ignore_ascii_case("temp") {
        return reject(kind_found, RejectReason::Temporary);
    }
    if !schema.eq_ignore_ascii_case("main") {
        return reject(
            kind_found,
            RejectReason::OtherSchema {
                schema: schema.to_owned(),
            },
        );
    }
    Ok(())
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
mod tests;
