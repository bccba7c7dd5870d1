//! The SQL dump writer: turns a D1 database into plain SQLite SQL, reading
//! it only through SQL queries, with bounded memory.
//!
//! The worker's D1 edge can only run a query and get rows back, as JSON
//! through JavaScript. So this module is a pure state machine (it never
//! calls `worker`) that says which query to run next and turns the rows into
//! SQL text:
//!
//! ```no_run
//! # use d1_vault::dump::{Dump, DumpOptions, Row, Step};
//! # fn run(sql: &str) -> Vec<Row> { unimplemented!() }
//! let mut dump = Dump::new(DumpOptions::default())?;
//! let mut sql = Vec::new();
//! let summary = loop {
//!     match dump.step(&mut sql)? {
//!         Step::Query(query) => dump.accept(run(&query.sql))?,
//!         Step::Done(summary) => break summary,
//!     }
//!     // stream `sql` onward (encrypt it) and clear it whenever convenient
//! };
//! # Ok::<(), d1_vault::dump::DumpError>(())
//! ```
//!
//! # The query contract
//!
//! Every value a query returns is TEXT or NULL, never a number or a BLOB:
//! integers above 2^53 and BLOBs do not survive JSON. The edge runs
//! [`Query::sql`] as it is (no bound parameters) and hands back every row as
//! a [`Row`], one `Option<String>` per result column in the query's column
//! order (D1's `raw()` results, with JSON strings as `Some` and `null` as
//! `None`). Every query is shorter than [`MAX_QUERY_BYTES`]. The queries use
//! only what D1 allows: `sqlite_schema`, the table-valued functions
//! `pragma_table_xinfo`, `pragma_foreign_key_list` and `pragma_index_list`,
//! `sqlite_sequence`, window functions and ordinary scalar functions. They
//! are, in order:
//!
//! 1. [`SCHEMA_QUERY`]: every schema object.
//! 2. Per dumped table, its columns, FOREIGN KEY parents and primary key
//!    index (for an external-content FTS5 table, its row count instead).
//! 3. Per table, pages of rows in key order: `WHERE rowid > <last>` (or
//!    `WHERE (pk1, pk2) > (<lit1>, <lit2>)` for WITHOUT ROWID tables)
//!    `ORDER BY` the key `LIMIT n`, never OFFSET. SQLite builds each row's
//!    `(v1,v2,...)` tuple and its size (from fragments of 25 values). The row limit adapts to the rows'
//!    size (aiming at [`DEFAULT_PAGE_TARGET_BYTES`] of tuples per page, 1 to
//!    [`DEFAULT_MAX_PAGE_ROWS`] rows), and a running byte sum in the query
//!    cuts the page after the row that reaches the target, so one page never
//!    holds more than the target plus one row whatever the data.
//! 4. For a row whose tuple is too large for one statement (or holds a REAL
//!    of extreme magnitude): the row again, value by value (type, size, and
//!    the literal of each value that is not itself oversized), each extreme
//!    REAL exactly, then the oversized values in pieces
//!    (`quote(substr(..))` for TEXT, `hex(substr(..))` for BLOBs), several
//!    pieces per query.
//! 5. `sqlite_sequence`, when a dumped table uses AUTOINCREMENT.
//!
//! # The dump
//!
//! UTF-8 text: comment lines starting with `--` (the first is
//! `-- d1-vault dump format 1`), then statements in this order:
//!
//! 1. [`OPENING_STATEMENTS`]: `PRAGMA defer_foreign_keys=ON;` and
//!    `PRAGMA ignore_check_constraints=ON;` (an oversized row is inserted
//!    with placeholders, which a CHECK constraint could reject; both are
//!    on D1's list of supported PRAGMAs).
//! 2. Every CREATE TABLE and CREATE VIRTUAL TABLE, verbatim from
//!    `sqlite_schema.sql`, in `sqlite_schema` rowid order (so the copy's
//!    `.dump` lists them in the same order).
//! 3. The rows of each table, tables ordered parents-first by their FOREIGN
//!    KEY references (D1 cannot turn foreign keys off, and the restore
//!    imports in several transactions); tables in a reference cycle or that
//!    reference themselves keep schema order and are named in
//!    [`DumpSummary::fk_order_fallback`]. Rows are written in key order as
//!    multi-row `INSERT INTO "t"("c1","c2") VALUES(...),(...);` of at most
//!    [`DEFAULT_STATEMENT_TARGET_BYTES`]. Columns are always named;
//!    generated columns are left out; a rowid table without an INTEGER
//!    PRIMARY KEY gets its rowid as an explicit first column (`rowid`,
//!    `_rowid_` or `oid`, whichever is not a column name), so rowids survive.
//! 4. Indexes (not autoindexes), views and triggers, verbatim, in
//!    `sqlite_schema` rowid order: after the data, so triggers do not fire
//!    during the import and indexes are built once.
//! 5. `INSERT INTO "fts"("fts") VALUES('rebuild');` for each external-content
//!    FTS5 table (its content table or view now exists and is filled).
//! 6. `DELETE FROM sqlite_sequence;` and `INSERT INTO sqlite_sequence(name,seq)
//!    VALUES(...);` when a table uses AUTOINCREMENT (seq may exceed max(id)).
//! 7. [`CLOSING_STATEMENT`]: `PRAGMA ignore_check_constraints=OFF;`.
//!
//! A contentless FTS5 table (`content=''`, also with `contentless_delete=1`)
//! keeps no text, so nothing can re-insert its documents: it is recreated
//! empty, its [`TableSummary::rows`] is 0 and [`DumpSummary::warnings`]
//! names it with the rows it had (`fts5_contentless_not_restorable`).
//!
//! Left out: internal tables ([`crate::internal_names`]: D1's `_cf_*`,
//! SQLite's `sqlite_*` such as `sqlite_stat1`, our own `_d1vault_*`) and FTS5 shadow tables (`<fts>_data`, `_idx`, `_content`,
//! `_docsize`, `_config`, recognised only when the FTS5 table `<fts>`
//! exists). An FTS5 table's documents are re-inserted as
//! `INSERT INTO "fts"(rowid, "c1", ...)` read from the virtual table itself
//! (hidden columns excluded), and FTS5 rebuilds its index from them.
//!
//! ## Framing
//!
//! Every statement ends with `;\n` (a schema statement whose SQL ends in a
//! `--` comment with `\n;\n`, so the comment cannot swallow the `;`) and is shorter than
//! [`MAX_STATEMENT_BYTES`] including that terminator (D1 rejects 100,000
//! bytes). Statements the dump composes (PRAGMA, INSERT, UPDATE, DELETE) are
//! one line except for newlines inside string literals. Schema statements are
//! verbatim and may span lines and contain `--` comments, and a trigger
//! contains `;` inside `BEGIN ... END`. So a reader splits where a `;\n`
//! ends a complete statement (what `sqlite3_complete()` and the sqlite3
//! shell decide), never at every `;\n`.
//!
//! ## Values
//!
//! Values are exact, and SQLite itself writes every literal in the queries:
//! INTEGERs keep all 64 bits (`quote()`), BLOBs are `X'..'`, TEXT is a
//! quoted string. REALs between 2^-100 and 2^100 are written with 17
//! significant digits (`printf('%!.17g')`), which every SQLite version reads
//! back exactly, whereas some of `quote()`'s 15-digit forms are mis-read by
//! older versions (3.40). REALs of larger or smaller magnitude are written as
//! such a value times or divided by 2^62 as often as needed, for example
//! `(1.2345678901234567e+20*4611686018427387904)`: scaling by a power of two is
//! exact, while SQLite's decimal conversions are not at those magnitudes (not
//! even `quote()` and its own reader agree there). Zero and the infinities
//! are written by `quote()` (`0.0`, `9.0e+999`). TEXT holding a NUL
//! (`quote()` would stop there), a carriage return (the sqlite3 shell drops
//! a CR that ends an input line, even inside a literal) or U+FFFD is written
//! as `CAST(X'..' AS TEXT)`, of constant expression depth whatever the text.
//! Rows reach the dump through JavaScript, which turns bytes that are not
//! UTF-8 into U+FFFD; since every real U+FFFD is written in hex, a literal
//! that arrives holding U+FFFD can only come from such bytes, and its row is
//! read again value by value, that value in hex pieces. Text primary keys are
//! always read in hex form.
//!
//! A REAL -0.0 is written as `-0.0`: `quote()`, `printf()` and `CAST` all
//! print `0.0` for it, so the queries tell it by `atan2(x,-1.0)` < 0 (D1 has
//! SQLite's math functions; the native tests register an `atan2`). SQLite
//! keeps a REAL -0.0 only in a column without REAL affinity: a REAL-affinity
//! column stores integral REALs as integers, so it reads -0.0 back as 0.0 in
//! the original already.
//!
//! A row too large for one statement (values up to D1's 2,000,000 bytes) is
//! written as an INSERT carrying its small values and, for each of its
//! largest TEXT and BLOB values until the INSERT fits, `''` or `X''`; then
//! UPDATEs that set the deferred values that fit in one statement, and
//! UPDATEs that append the pieces of the others:
//! `UPDATE "t" SET "c" = "c" || '<piece>' WHERE rowid = N;` for TEXT and
//! `UPDATE "t" SET "c" = CAST("c" || X'<hex>' AS BLOB) WHERE ...;` for BLOBs,
//! keyed by rowid or, for WITHOUT ROWID tables, by the primary key literals.
//! TEXT in a column with numeric affinity (of a non-STRICT table) is built
//! as a BLOB and cast to TEXT by its last piece, so that no partial value is
//! converted to a number on the way.
//!
//! # Checkpoints
//!
//! A [`Dump`] serializes whole (serde), so a job can save it between
//! invocations and carry on: save it after [`Dump::step`] returned a query
//! (and keep that query) rather than after [`Dump::accept`], and it holds
//! the schema, the table cursor, the open INSERT and at most the rest of
//! the page being written, never the rows of a query not yet consumed.
//!
//! # Invariants
//!
//! D1's limits ([`crate::d1_limits`]) are kept by construction:
//!
//! - Statement and query size (100,000 bytes): every statement is under
//!   [`MAX_STATEMENT_BYTES`] (rows are packed under the statement target,
//!   larger rows split, see above), every query under [`MAX_QUERY_BYTES`].
//!   The queries name columns by positional aliases of a common table
//!   expression (`WITH s(c0,..) AS (SELECT * FROM main.t ...)`; the table is
//!   qualified, so a table named `s` is not the CTE), so their size
//!   does not grow with column names, except the key columns' names in the
//!   filters and, for a rowid table of 100 columns without an INTEGER
//!   PRIMARY KEY, every column's name once (see below). What must name
//!   columns and cannot fit (those queries, the INSERT column list, UPDATE
//!   keys) fails with a [`DumpError`] naming the table and saying why,
//!   never with a bad dump. The UPDATEs of an oversized row keep at least
//!   256 bytes for each piece: when a long table name, column name or key
//!   leaves less under the statement target, they exceed the target by what
//!   those take (never D1's limit), as a long INSERT column list does. A
//!   value no longer than its placeholder (`''`, `X''`) is never deferred.
//! - Result columns (100 per SELECT, at every level, CTEs and subqueries
//!   included; a multi-row VALUES too): a query that reads one row filters
//!   inside its CTE, `WITH s(c0,..) AS (SELECT * FROM main.t WHERE <key>)`, so
//!   the CTE has the table's `SELECT *` columns (at most 100) and returns at
//!   most one column per value (description and literal in one). The page
//!   query selects `rowid, *` only for a rowid table without an INTEGER
//!   PRIMARY KEY (with one, the rowid is read through that column); if that
//!   would be 101 columns, it names the columns in CTEs of 50 plus the rowid,
//!   joined on the rowid. Above that it groups the values 25 at a time: the
//!   key literals, the key values and one literal fragment and one size per
//!   group (at most 1 + 1 + 2 * 5 = 12 columns for a rowid table; a primary
//!   key of more than about 87 columns is ordered by the CTE's columns
//!   instead of being passed up), then the row numbers (13 at most), the
//!   tuple, its size, the running sum (4 to 6 columns). A table with 101
//!   dump columns (an explicit rowid and 100 columns) gets one-row INSERTs:
//!   a single-row VALUES is not a SELECT and is not limited.
//! - Expression depth ([`crate::d1_limits::MAX_EXPR_DEPTH`], 100 on D1):
//!   every operator chain over the columns (a group's `||`, the tuple's
//!   `||`, the sizes' `+`, a key's `AND`s and `||`) is a balanced tree,
//!   about log2 of the number of terms deep; every literal the dump writes
//!   is at most 17 operators deep (an exact REAL), text in hex form 2 deep.
//! - Length (SQLITE_LIMIT_LENGTH, 2,000,000 bytes on D1, for every string,
//!   BLOB and record a query builds, sorter and window buffers included):
//!   no query builds or buffers anything larger than a value D1 stored,
//!   whatever the values. A literal, a group's fragment, the tuple and the
//!   key literals are each built only under a `CASE` that first checks the
//!   raw size of the values they cover against the tuple budget (under
//!   100,000 bytes), and a literal is at most about twice its value, so
//!   none exceeds about 200 KB and a tuple about 1 MB; a too-large row is
//!   read in pieces of one statement each. Window functions buffer the rows
//!   of the level below them as records: in the page query that level
//!   returns only those computed values and the key values, never a row's
//!   other values (a record of a 1,999,994-byte text next to anything else
//!   is over the limit). The queries that read one row return sizes,
//!   literals of values under the tuple budget, and `substr` pieces; whole
//!   values are only measured (`length(CAST(v AS BLOB))`) or searched
//!   (`instr`), which builds nothing larger than the value.
//! - Progress: every query either moves the dump on (a page's keys come
//!   after the last key read, a piece is appended, a piece's span is
//!   halved, a value switches to hex pieces once) or the dump fails with
//!   [`DumpError::NoProgress`] naming the table (a page beginning with the
//!   key the last one ended with, a one-character piece that does not
//!   fit), and a query that must find its row and does not fails with
//!   [`DumpError::RowChanged`]. No query is ever asked twice unchanged.
//! - Bound parameters (100 on D1): none, in any query or statement.
//! - Memory is bounded whatever the database size: besides the schema, the
//!   writer holds at most one page of rows (the page target plus one row),
//!   one oversized row's small literals, one query's pieces and one open
//!   INSERT ([`Dump::buffered_bytes`]).
//! - `sqlite3 new.db < dump.sql` rebuilds a database whose `.dump` equals the
//!   original's, with the FTS5 caveat below; so do `wrangler d1 execute
//!   --file` and the restore, which runs the statements in D1 `batch()`es.
//!
//! # Caveats
//!
//! - FTS5: the shadow tables are rebuilt by FTS5 from the re-inserted
//!   documents, not copied, so their raw content (which depends on the
//!   insertion history: segment layout, `_data` blocks) differs from the
//!   original's. The documents (`SELECT rowid, * FROM fts`) are equal and the
//!   copy passes `INSERT INTO fts(fts) VALUES('integrity-check')`, but
//!   `sqlite3 .dump` lines of the shadow tables differ.
//! - Virtual tables of modules other than FTS5 fail the dump with an error
//!   naming the table.
//! - A rowid table of 100 columns without an INTEGER PRIMARY KEY is read by
//!   naming its columns, so its column names must fit in one query (about
//!   400 bytes each on average); longer names fail the dump with
//!   [`DumpError::QueryTooLarge`] naming the table. A primary key REAL of
//!   extreme magnitude costs about 5 KB of query per key column.
//! - The page query orders its window functions by the key values, so it
//!   buffers them: a primary key value within a few bytes of D1's
//!   2,000,000-byte row limit may fail the page query with SQLITE_TOOBIG
//!   (such a key is too large to name its row anyway, and would fail with
//!   [`DumpError::OversizedKey`]), and so may a row near that limit in a
//!   WITHOUT ROWID table whose primary key has more than about 87 columns
//!   (the key values then cannot be passed up separately within 100 result
//!   columns, so the window level reads the whole row).
//! - An oversized row's statements should run in one transaction when one
//!   of its oversized values is a FOREIGN KEY.
//! - The dump reads the live database with many queries, not one snapshot:
//!   rows written meanwhile may or may not be included. A row that changes
//!   while being read in pieces fails the dump ([`DumpError::RowChanged`]).

mod big_row;
mod cursor;
mod error;
mod output;
mod query;
mod schema;
mod sql;
mod summary;

pub use error::DumpError;
pub(crate) use query::balanced;
pub use sql::{quote_ident, quote_text};
pub use summary::{DumpSummary, DumpWarning, DumpWarningKind, TableKind, TableSummary};

use crate::internal_names::is_internal_name;
use cursor::TableCursor;
use output::{Output, Packer};
use schema::{ObjectKind, Schema, TableClass, TableShape};
use serde::{Deserialize, Serialize};

pub use crate::d1_limits::MAX_STATEMENT_BYTES;

/// Every query the dump asks for is shorter than this (D1's statement limit).
pub const MAX_QUERY_BYTES: usize = MAX_STATEMENT_BYTES;

/// Default size the writer aims at for each statement: multi-row INSERTs of
/// 30-90 KB import fastest through `batch()`.
pub const DEFAULT_STATEMENT_TARGET_BYTES: usize = 60_000;

/// The smallest statement target [`DumpOptions`] accepts.
pub const MIN_STATEMENT_TARGET_BYTES: usize = 2_000;

/// Default bytes of row tuples per page: pages of thousands of small rows
/// are read fastest, and this bounds the memory a page takes.
pub const DEFAULT_PAGE_TARGET_BYTES: usize = 2 * 1024 * 1024;

/// Default and largest number of rows per page.
pub const DEFAULT_MAX_PAGE_ROWS: usize = 10_000;

/// Rows asked for in a table's first page, before any row size is known.
pub const INITIAL_PAGE_ROWS: usize = 500;

/// Pieces of an oversized value read per query.
pub const PIECES_PER_QUERY: usize = 8;

/// REALs from this magnitude up to [`REAL_DECIMAL_MAX`] (2^-100 to 2^100)
/// are written as 17 significant digits; others as `quote()` writes them.
pub const REAL_DECIMAL_MIN: &str = "7.8886090522101181e-31";

/// See [`REAL_DECIMAL_MIN`].
pub const REAL_DECIMAL_MAX: &str = "1.2676506002282294e+30";

/// The first line of every dump; the number is the dump format version.
pub const HEADER: &str = "-- d1-vault dump format 1\n\
-- Plain SQLite SQL. Every statement ends with a semicolon and a newline and is under 100000 bytes.\n";

/// The query that lists the schema. Columns: type, name, tbl_name, sql.
pub const SCHEMA_QUERY: &str = "SELECT type, name, tbl_name, sql FROM sqlite_schema ORDER BY rowid";

/// The query that reads `sqlite_sequence`. Columns: the name, its literal
/// (in hex form if it holds a carriage return or U+FFFD) and seq's literal.
pub const SEQUENCE_QUERY: &str = "SELECT name, CASE WHEN instr(name,char(13))+instr(name,char(65533))>0 \
THEN 'CAST(X'''||hex(name)||''' AS TEXT)' ELSE quote(name) END, quote(seq) FROM sqlite_sequence ORDER BY rowid";

/// The statements that open every dump, after its comment lines.
pub const OPENING_STATEMENTS: [&str; 2] = [
    "PRAGMA defer_foreign_keys=ON;\n",
    "PRAGMA ignore_check_constraints=ON;\n",
];

/// The statement that closes every dump.
pub const CLOSING_STATEMENT: &str = "PRAGMA ignore_check_constraints=OFF;\n";

/// One result row: one value per result column, in query column order;
/// every value is TEXT (`Some`) or NULL (`None`).
pub type Row = Vec<Option<String>>;

/// A query the caller must run and hand the rows of to [`Dump::accept`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Query {
    /// The SQL, with every value embedded (no parameters to bind).
    pub sql: String,
    /// What the query is for, for logs and error messages (names, never data).
    pub context: String,
}

/// What [`Dump::step`] asks for next.
#[derive(Debug, Clone, PartialEq)]
pub enum Step {
    /// Run this query and pass its rows to [`Dump::accept`].
    Query(Query),
    /// The dump is complete; the summary feeds the backup manifest.
    Done(DumpSummary),
}

/// Tuning of the dump; the defaults suit D1.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct DumpOptions {
    /// Size the writer aims at per statement, from
    /// [`MIN_STATEMENT_TARGET_BYTES`] to [`MAX_STATEMENT_BYTES`] - 1.
    pub statement_target_bytes: usize,
    /// Bytes of row tuples per page, at least the statement target.
    pub page_target_bytes: usize,
    /// Most rows per page, 1 to [`DEFAULT_MAX_PAGE_ROWS`].
    pub max_page_rows: usize,
}

impl Default for DumpOptions {
    fn default() -> Self {
        Self {
            statement_target_bytes: DEFAULT_STATEMENT_TARGET_BYTES,
            page_target_bytes: DEFAULT_PAGE_TARGET_BYTES,
            max_page_rows: DEFAULT_MAX_PAGE_ROWS,
        }
    }
}

/// The SHA-256 that [`DumpSummary::schema_sha256`] would record for a
/// database whose [`SCHEMA_QUERY`] returns `rows`: lets the restore verify
/// the schema it rebuilt.
pub fn schema_sha256(rows: Vec<Row>) -> Result<String, DumpError> {
    Ok(schema::classify(rows)?.sha256())
}

/// A writer of a dump: see the module documentation. It serializes
/// whole, so a job can save it between invocations and carry on.
#[derive(Debug, Serialize, Deserialize)]
pub struct Dump {
    options: DumpOptions,
    phase: Phase,
    /// The context of the query whose rows are owed, if any.
    outstanding: Option<String>,
    /// Rows accepted and not yet consumed by the phase that asked for them.
    rows: Option<Vec<Row>>,
    schema: Schema,
    /// Per schema table: how it is read, its parents, its row count.
    shapes: Vec<Option<TableShape>>,
    parents: Vec<Vec<String>>,
    row_counts: Vec<u64>,
    order: Vec<usize>,
    fk_fallback: Vec<usize>,
    output: Output,
}

#[derive(Debug, Serialize, Deserialize)]
enum Phase {
    Header,
    Schema,
    Inspect(usize),
    Data {
        position: usize,
        cursor: Box<TableCursor>,
    },
    AfterData,
    Sequence,
    Finished,
    Failed,
}

impl Dump {
    /// A dump that has not started; the first [`Dump::step`] writes the header.
    pub fn new(options: DumpOptions) -> Result<Self, DumpError> {
        let invalid = |option, detail: String| Err(DumpError::InvalidOptions { option, detail });
        if !(MIN_STATEMENT_TARGET_BYTES..MAX_STATEMENT_BYTES)
            .contains(&options.statement_target_bytes)
        {
            return invalid(
                "statement_target_bytes",
                format!(
                    "{} is not in {MIN_STATEMENT_TARGET_BYTES}..{MAX_STATEMENT_BYTES}",
                    options.statement_target_bytes
                ),
            );
        }
        if options.page_target_bytes < options.statement_target_bytes {
            return invalid(
                "page_target_bytes",
                "must be at least statement_target_bytes".into(),
            );
        }
        if !(1..=DEFAULT_MAX_PAGE_ROWS).contains(&options.max_page_rows) {
            return invalid(
                "max_page_rows",
                format!("must be 1 to {DEFAULT_MAX_PAGE_ROWS}"),
            );
        }
        Ok(Self {
            options,
            phase: Phase::Header,
            outstanding: None,
            rows: None,
            schema: Schema::default(),
            shapes: Vec::new(),
            parents: Vec::new(),
            row_counts: Vec::new(),
            order: Vec::new(),
            fk_fallback: Vec::new(),
            output: Output::default(),
        })
    }

    /// Hands over the rows of the last [`Step::Query`].
    pub fn accept(&mut self, rows: Vec<Row>) -> Result<(), DumpError> {
        if self.outstanding.take().is_none() {
            return Err(DumpError::Protocol(
                "accept() called with no query outstanding",
            ));
        }
        self.rows = Some(rows);
        Ok(())
    }

    /// Advances the dump: appends any SQL it can write to `sql` and returns
    /// the next query to run, or the summary when the dump is complete. After
    /// an error the dump is over; every later call fails.
    pub fn step(&mut self, sql: &mut Vec<u8>) -> Result<Step, DumpError> {
        if self.outstanding.is_some() {
            return Err(DumpError::Protocol(
                "step() called before accept() delivered the rows of the last query",
            ));
        }
        match self.advance(sql) {
            Ok(Step::Query(query)) => {
                self.outstanding = Some(query.context.clone());
                Ok(Step::Query(query))
            }
            Ok(done) => Ok(done),
            Err(error) => {
                self.phase = Phase::Failed;
                Err(error)
            }
        }
    }

    /// Bytes of row data the writer holds between steps: the rest of the
    /// current page, an oversized row's literals, the open INSERT and
    /// accepted rows not yet consumed. Bounded by the page target plus one
    /// row, whatever the database size.
    pub fn buffered_bytes(&self) -> usize {
        let rows: usize = self
            .rows
            .iter()
            .flatten()
            .flatten()
            .flatten()
            .map(String::len)
            .sum();
        let cursor = match &self.phase {
            Phase::Data { cursor, .. } => cursor.buffered_bytes(),
            _ => 0,
        };
        rows + cursor
    }

    /// Rows written so far, for progress: those of the tables done and of
    /// the table being written (counted as their INSERTs are composed).
    pub fn rows_written(&self) -> u64 {
        let (tables_done, current) = match &self.phase {
            Phase::Header | Phase::Schema | Phase::Inspect(_) => (0, 0),
            Phase::Data { position, cursor } => (*position, cursor.rows_written),
            Phase::AfterData | Phase::Sequence | Phase::Finished | Phase::Failed => {
                (self.order.len(), 0)
            }
        };
        let done: u64 = self.order[..tables_done]
            .iter()
            .map(|&table| self.row_counts[table])
            .sum();
        done + current
    }

    fn advance(&mut self, sql: &mut Vec<u8>) -> Result<Step, DumpError> {
        loop {
            match &mut self.phase {
                Phase::Header => {
                    self.output.raw(sql, HEADER);
                    for statement in OPENING_STATEMENTS {
                        self.output.statement(sql, statement, || "PRAGMA".into())?;
                    }
                    self.phase = Phase::Schema;
                }
                Phase::Schema => {
                    let Some(rows) = self.rows.take() else {
                        return Ok(query(SCHEMA_QUERY.into(), "sqlite_schema"));
                    };
                    self.schema = schema::classify(rows)?;
                    for table in &self.schema.tables {
                        self.output
                            .statement(sql, &sql::terminated(&table.sql), || {
                                format!("CREATE TABLE {:?}", table.name)
                            })?;
                    }
                    let n = self.schema.tables.len();
                    self.shapes = vec![None; n];
                    self.parents = vec![Vec::new(); n];
                    self.row_counts = vec![0; n];
                    self.phase = Phase::Inspect(0);
                }
                Phase::Inspect(index) => {
                    let index = *index;
                    if index == self.schema.tables.len() {
                        self.plan_order();
                        self.phase = self.data_phase(0)?;
                        continue;
                    }
                    let table = &self.schema.tables[index];
                    let counted = matches!(
                        table.class,
                        TableClass::Fts5External | TableClass::Fts5Contentless
                    );
                    let context = if counted {
                        format!("row count of {:?}", table.name)
                    } else {
                        format!("columns of {:?}", table.name)
                    };
                    let Some(rows) = self.rows.take() else {
                        let sql = match table.class {
                            TableClass::Fts5External | TableClass::Fts5Contentless => {
                                format!(
                                    "SELECT CAST(count(*) AS TEXT) FROM {}",
                                    quote_ident(&table.name)
                                )
                            }
                            TableClass::Fts5 => schema::inspection_query(&table.name, false),
                            TableClass::Regular { .. } => {
                                schema::inspection_query(&table.name, true)
                            }
                        };
                        return Ok(query(sql, &context));
                    };
                    if counted {
                        self.row_counts[index] = count_result(&context, rows)?;
                    } else {
                        let inspection = schema::parse_inspection(&context, rows)?;
                        self.shapes[index] = Some(schema::table_shape(table, &inspection)?);
                        self.parents[index] = inspection.parents;
                    }
                    self.phase = Phase::Inspect(index + 1);
                }
                Phase::Data { position, cursor } => {
                    match cursor.advance(self.rows.take(), &self.options, &mut self.output, sql)? {
                        Some(query) => return Ok(Step::Query(query)),
                        None => {
                            let next = *position + 1;
                            self.row_counts[cursor.table] = cursor.rows_written;
                            self.phase = self.data_phase(next)?;
                        }
                    }
                }
                Phase::AfterData => {
                    for object in &self.schema.objects {
                        self.output
                            .statement(sql, &sql::terminated(&object.sql), || {
                                format!("CREATE statement of {:?}", object.name)
                            })?;
                    }
                    for table in self
                        .schema
                        .tables
                        .iter()
                        .filter(|t| t.class == TableClass::Fts5External)
                    {
                        let name = quote_ident(&table.name);
                        self.output.statement(
                            sql,
                            &format!("INSERT INTO {name}({name}) VALUES('rebuild');\n"),
                            || format!("rebuild of {:?}", table.name),
                        )?;
                    }
                    self.phase = Phase::Sequence;
                }
                Phase::Sequence => {
                    if self.schema.autoincrement {
                        let Some(rows) = self.rows.take() else {
                            return Ok(query(SEQUENCE_QUERY.into(), "sqlite_sequence"));
                        };
                        self.write_sequence(rows, sql)?;
                    }
                    self.output
                        .statement(sql, CLOSING_STATEMENT, || "PRAGMA".into())?;
                    self.phase = Phase::Finished;
                    return Ok(Step::Done(self.summary()));
                }
                Phase::Finished => {
                    return Err(DumpError::Protocol("step() called after the dump finished"))
                }
                Phase::Failed => {
                    return Err(DumpError::Protocol("step() called after the dump failed"))
                }
            }
        }
    }

    /// Puts the tables with rows to write in parents-first order.
    fn plan_order(&mut self) {
        let data: Vec<usize> = (0..self.schema.tables.len())
            .filter(|&i| self.shapes[i].is_some())
            .collect();
        let names: Vec<&str> = data
            .iter()
            .map(|&i| self.schema.tables[i].name.as_str())
            .collect();
        let parents: Vec<Vec<String>> = data.iter().map(|&i| self.parents[i].clone()).collect();
        let (order, fallback) = schema::parents_first(&names, &parents);
        self.order = order.into_iter().map(|k| data[k]).collect();
        self.fk_fallback = fallback.into_iter().map(|k| data[k]).collect();
    }

    /// The phase that writes the rows of the `position`th table in order.
    fn data_phase(&self, position: usize) -> Result<Phase, DumpError> {
        Ok(
            match self
                .order
                .get(position)
                .and_then(|&table| Some((table, self.shapes[table].clone()?)))
            {
                Some((table, shape)) => Phase::Data {
                    position,
                    cursor: Box::new(TableCursor::new(table, shape, &self.options)?),
                },
                None => Phase::AfterData,
            },
        )
    }

    fn write_sequence(&mut self, rows: Vec<Row>, sql: &mut Vec<u8>) -> Result<(), DumpError> {
        self.output
            .statement(sql, "DELETE FROM sqlite_sequence;\n", || {
                "DELETE FROM sqlite_sequence".into()
            })?;
        let mut insert = Packer::new("INSERT INTO sqlite_sequence(name,seq) VALUES".into());
        for row in rows {
            let (name, literal, seq) = match row.as_slice() {
                [Some(name), Some(literal), Some(seq)] => (name, literal, seq),
                _ => {
                    return Err(DumpError::BadResult {
                        context: "sqlite_sequence".into(),
                        detail: "expected 3 non-NULL columns: name, its literal, quote(seq)".into(),
                    })
                }
            };
            // Not D1's, SQLite's or ours.
            if is_internal_name(name) {
                continue;
            }
            insert.add(
                &format!("({literal},{seq})"),
                self.options.statement_target_bytes,
                &mut self.output,
                sql,
            )?;
        }
        insert.flush(&mut self.output, sql)
    }

    fn summary(&self) -> DumpSummary {
        let names = |kind| {
            self.schema
                .objects
                .iter()
                .filter(|o| o.kind == kind)
                .map(|o| o.name.clone())
                .collect()
        };
        DumpSummary {
            tables: self
                .schema
                .tables
                .iter()
                .zip(&self.row_counts)
                .map(|(table, &rows)| TableSummary {
                    name: table.name.clone(),
                    kind: match table.class {
                        TableClass::Regular {
                            without_rowid: false,
                            ..
                        } => TableKind::Table,
                        TableClass::Regular {
                            without_rowid: true,
                            ..
                        } => TableKind::WithoutRowid,
                        TableClass::Fts5
                        | TableClass::Fts5External
                        | TableClass::Fts5Contentless => TableKind::Fts5,
                    },
                    rows: if table.class == TableClass::Fts5Contentless {
                        0
                    } else {
                        rows
                    },
                })
                .collect(),
            indexes: names(ObjectKind::Index),
            views: names(ObjectKind::View),
            triggers: names(ObjectKind::Trigger),
            schema_sha256: self.schema.sha256(),
            fk_order_fallback: self
                .fk_fallback
                .iter()
                .map(|&i| self.schema.tables[i].name.clone())
                .collect(),
            statements: self.output.statements,
            largest_statement_bytes: self.output.largest,
            sql_bytes: self.output.bytes,
            warnings: self
                .schema
                .tables
                .iter()
                .zip(&self.row_counts)
                .filter(|(table, _)| table.class == TableClass::Fts5Contentless)
                .map(|(table, &rows)| DumpWarning {
                    table: table.name.clone(),
                    kind: DumpWarningKind::Fts5ContentlessNotRestorable,
                    rows,
                })
                .collect(),
        }
    }
}

fn query(sql: String, context: &str) -> Step {
    Step::Query(Query {
        sql,
        context: context.to_string(),
    })
}

pub(crate) fn bad_result(context: &str, detail: impl Into<String>) -> DumpError {
    DumpError::BadResult {
        context: context.into(),
        detail: detail.into(),
    }
}

/// Reads a single `count(*)` result.
fn count_result(context: &str, rows: Vec<Row>) -> Result<u64, DumpError> {
    match rows.as_slice() {
        [row] => match row.as_slice() {
            [Some(count)] => count
                .parse()
                .map_err(|_| bad_result(context, format!("count {count:?} is not a number"))),
            _ => Err(bad_result(context, "expected one non-NULL column")),
        },
        _ => Err(bad_result(
            context,
            format!("expected one row, got {}", rows.len()),
        )),
    }
}

#[cfg(test)]
mod tests;
