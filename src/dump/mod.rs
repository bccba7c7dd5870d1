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
//!    `(v1,v2,...)` tuple and its size. The row limit adapts to the rows'
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
//! 1. `PRAGMA defer_foreign_keys=ON;`
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
//!
//! Left out: D1's internal tables (`_cf_*`), SQLite's (`sqlite_*`, such as
//! `sqlite_stat1`) and FTS5 shadow tables (`<fts>_data`, `_idx`, `_content`,
//! `_docsize`, `_config`, recognised only when the FTS5 table `<fts>`
//! exists). An FTS5 table's documents are re-inserted as
//! `INSERT INTO "fts"(rowid, "c1", ...)` read from the virtual table itself
//! (hidden columns excluded), and FTS5 rebuilds its index from them.
//!
//! ## Framing
//!
//! Every statement ends with `;\n` and is shorter than
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
//! are written by `quote()` (`0.0`, `9.0e+999`). TEXT holding a NUL character
//! is written as `CAST(X'..' AS TEXT)` (`quote()` would stop at the NUL), and
//! a carriage return in TEXT as `' || char(13) || '`, because the sqlite3
//! shell drops a CR that ends an input line even inside a string literal.
//!
//! One value does not survive: a REAL -0.0 is written as `0.0`. No SQL
//! function tells -0.0 from 0.0 (`quote()`, `printf()` and `CAST` all print
//! `0.0`, division by zero gives NULL), so the dump cannot see the sign.
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
//! # Invariants
//!
//! - Every statement is under [`MAX_STATEMENT_BYTES`], every query under
//!   [`MAX_QUERY_BYTES`].
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
//! - Contentless FTS5 tables (`content=''`) cannot be dumped (their text is
//!   not stored) and other virtual table modules are refused: both fail the
//!   dump with an error naming the table.
//! - An oversized row is inserted with placeholders and completed by UPDATEs,
//!   so a CHECK constraint that rejects the placeholder (`''`, `X''` or a
//!   partial value) makes the import fail, loudly. Its statements should run
//!   in one transaction when one of its oversized values is a FOREIGN KEY.
//! - The dump reads the live database with many queries, not one snapshot:
//!   rows written meanwhile may or may not be included. A row that changes
//!   while being read in pieces fails the dump ([`DumpError::RowChanged`]).

mod error;
mod query;
mod schema;
mod sql;

use std::collections::VecDeque;

use serde::{Deserialize, Serialize};

pub use error::DumpError;
pub use sql::{quote_ident, quote_text};

use query::PieceKind;
use schema::{ObjectKind, Schema, TableClass, TableShape};

/// D1 rejects a statement of this many bytes or more, also inside `batch()`.
pub const MAX_STATEMENT_BYTES: usize = 100_000;

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

/// The query that reads `sqlite_sequence`. Columns: the name and seq literals.
pub const SEQUENCE_QUERY: &str = "SELECT quote(name), quote(seq) FROM sqlite_sequence \
WHERE lower(substr(name, 1, 4)) <> '_cf_' ORDER BY rowid";

/// One result row: one value per result column, in query column order;
/// every value is TEXT (`Some`) or NULL (`None`).
pub type Row = Vec<Option<String>>;

/// A query the caller must run and hand the rows of to [`Dump::accept`].
#[derive(Debug, Clone, PartialEq, Eq)]
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
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
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
    /// Rows written (for an external-content FTS5 table: rows it had).
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
}

/// The SHA-256 that [`DumpSummary::schema_sha256`] would record for a
/// database whose [`SCHEMA_QUERY`] returns `rows`: lets the restore verify
/// the schema it rebuilt.
pub fn schema_sha256(rows: Vec<Row>) -> Result<String, DumpError> {
    Ok(schema::classify(rows)?.sha256())
}

/// Counts what is written and enforces the statement limit.
#[derive(Debug, Default)]
struct Output {
    statements: u64,
    largest: usize,
    bytes: u64,
}

impl Output {
    fn raw(&mut self, sql: &mut Vec<u8>, text: &str) {
        sql.extend_from_slice(text.as_bytes());
        self.bytes += text.len() as u64;
    }

    /// Writes one statement; `text` ends with `;\n`.
    fn statement(
        &mut self,
        sql: &mut Vec<u8>,
        text: &str,
        what: impl FnOnce() -> String,
    ) -> Result<(), DumpError> {
        if text.len() >= MAX_STATEMENT_BYTES {
            return Err(DumpError::StatementTooLarge {
                what: what(),
                bytes: text.len(),
            });
        }
        self.statements += 1;
        self.largest = self.largest.max(text.len());
        self.raw(sql, text);
        Ok(())
    }
}

/// A writer of a dump: see the module documentation.
#[derive(Debug)]
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

#[derive(Debug)]
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

    fn advance(&mut self, sql: &mut Vec<u8>) -> Result<Step, DumpError> {
        loop {
            match &mut self.phase {
                Phase::Header => {
                    self.output.raw(sql, HEADER);
                    self.output
                        .statement(sql, "PRAGMA defer_foreign_keys=ON;\n", || "PRAGMA".into())?;
                    self.phase = Phase::Schema;
                }
                Phase::Schema => {
                    let Some(rows) = self.rows.take() else {
                        return Ok(query(SCHEMA_QUERY.into(), "sqlite_schema"));
                    };
                    self.schema = schema::classify(rows)?;
                    for table in &self.schema.tables {
                        self.output
                            .statement(sql, &format!("{};\n", table.sql), || {
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
                    let context = match table.class {
                        TableClass::Fts5External => format!("row count of {:?}", table.name),
                        _ => format!("columns of {:?}", table.name),
                    };
                    let Some(rows) = self.rows.take() else {
                        let sql = match table.class {
                            TableClass::Fts5External => {
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
                    if table.class == TableClass::Fts5External {
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
                            .statement(sql, &format!("{};\n", object.sql), || {
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
            let (name, seq) = match row.as_slice() {
                [Some(name), Some(seq)] => (name, seq),
                _ => {
                    return Err(DumpError::BadResult {
                        context: "sqlite_sequence".into(),
                        detail: "expected 2 non-NULL columns: quote(name), quote(seq)".into(),
                    })
                }
            };
            insert.add(
                &format!("({name},{seq})"),
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
                        TableClass::Fts5 | TableClass::Fts5External => TableKind::Fts5,
                    },
                    rows,
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
        }
    }
}

fn query(sql: String, context: &str) -> Step {
    Step::Query(Query {
        sql,
        context: context.to_string(),
    })
}

fn bad_result(context: &str, detail: impl Into<String>) -> DumpError {
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

/// Packs tuples into multi-row INSERT statements under a byte target.
#[derive(Debug)]
struct Packer {
    prefix: String,
    open: String,
}

impl Packer {
    fn new(prefix: String) -> Self {
        Self {
            prefix,
            open: String::new(),
        }
    }

    /// Adds a tuple, closing the open statement first if the tuple would
    /// take it past `target` bytes (with its `;\n`).
    fn add(
        &mut self,
        tuple: &str,
        target: usize,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<(), DumpError> {
        if !self.open.is_empty() && self.open.len() + 1 + tuple.len() + 2 > target {
            self.flush(output, sql)?;
        }
        if self.open.is_empty() {
            self.open.push_str(&self.prefix);
        } else {
            self.open.push(',');
        }
        self.open.push_str(tuple);
        Ok(())
    }

    fn flush(&mut self, output: &mut Output, sql: &mut Vec<u8>) -> Result<(), DumpError> {
        if self.open.is_empty() {
            return Ok(());
        }
        self.open.push_str(";\n");
        let result = output.statement(sql, &self.open, || format!("an INSERT ({})", self.prefix));
        self.open.clear();
        result
    }
}

/// A row of a page: its key literals and its tuple, unless the row must be
/// read again value by value (too large for one statement, or holding a
/// REAL of extreme magnitude).
#[derive(Debug)]
struct PageRow {
    key: Vec<String>,
    tuple: Option<String>,
}

/// Writes the rows of one table.
#[derive(Debug)]
struct TableCursor {
    table: usize,
    shape: TableShape,
    ident: String,
    insert: Packer,
    /// Largest tuple written in a multi-row INSERT; larger rows are split.
    tuple_budget: usize,
    after: Option<Vec<String>>,
    limit: usize,
    exhausted: bool,
    page: VecDeque<PageRow>,
    big: Option<BigRow>,
    rows_written: u64,
}

impl TableCursor {
    fn new(table: usize, shape: TableShape, options: &DumpOptions) -> Result<Self, DumpError> {
        let ident = quote_ident(&shape.name);
        let columns: Vec<&str> = shape.columns.iter().map(|c| c.sql_name.as_str()).collect();
        let prefix = format!("INSERT INTO {ident}({}) VALUES", columns.join(","));
        // Tuples up to the target less the prefix; a very long column list
        // may use the room up to the hard limit.
        let target_room = options
            .statement_target_bytes
            .saturating_sub(prefix.len() + 2);
        let hard_room = (MAX_STATEMENT_BYTES - 1).saturating_sub(prefix.len() + 2);
        let tuple_budget = if target_room >= MIN_STATEMENT_TARGET_BYTES / 2 {
            target_room
        } else {
            hard_room
        };
        if tuple_budget < MIN_PIECE_ROOM {
            return Err(DumpError::StatementTooLarge {
                what: format!("the column list of the INSERTs into {:?}", shape.name),
                bytes: prefix.len(),
            });
        }
        Ok(Self {
            table,
            shape,
            ident,
            insert: Packer::new(prefix),
            tuple_budget,
            after: None,
            limit: INITIAL_PAGE_ROWS.min(options.max_page_rows),
            exhausted: false,
            page: VecDeque::new(),
            big: None,
            rows_written: 0,
        })
    }

    fn buffered_bytes(&self) -> usize {
        let page: usize = self
            .page
            .iter()
            .map(|r| {
                r.tuple.as_ref().map_or(0, String::len)
                    + r.key.iter().map(String::len).sum::<usize>()
            })
            .sum();
        page + self.insert.open.len() + self.big.as_ref().map_or(0, BigRow::buffered_bytes)
    }

    fn context(&self, what: &str) -> String {
        format!("{what} of {:?}", self.shape.name)
    }

    /// Checks a query's size before it is handed out.
    fn query(&self, sql: String, what: &str) -> Result<Option<Query>, DumpError> {
        if sql.len() >= MAX_QUERY_BYTES {
            return Err(DumpError::QueryTooLarge {
                table: self.shape.name.clone(),
                bytes: sql.len(),
            });
        }
        Ok(Some(Query {
            sql,
            context: self.context(what),
        }))
    }

    /// Writes what it can; returns the next query, or None when the table is done.
    fn advance(
        &mut self,
        mut rows: Option<Vec<Row>>,
        options: &DumpOptions,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<Option<Query>, DumpError> {
        let target = options.statement_target_bytes;
        loop {
            if let Some(big) = &mut self.big {
                let writer = RowWriter {
                    shape: &self.shape,
                    ident: &self.ident,
                    prefix: &self.insert.prefix,
                    target,
                };
                match big.advance(rows.take(), &writer, output, sql)? {
                    BigStep::Query(sql, what) => return self.query(sql, what),
                    BigStep::Inserted => self.rows_written += 1,
                    BigStep::Done => self.big = None,
                }
                continue;
            }
            if let Some(row) = self.page.pop_front() {
                match row.tuple {
                    Some(tuple) => {
                        self.insert.add(&tuple, target, output, sql)?;
                        self.rows_written += 1;
                    }
                    None => {
                        // Keep statements in key order around the split row.
                        self.insert.flush(output, sql)?;
                        self.big = Some(BigRow::new(row.key, self.tuple_budget));
                    }
                }
                continue;
            }
            if self.exhausted {
                self.insert.flush(output, sql)?;
                return Ok(None);
            }
            match rows.take() {
                Some(page) => self.accept_page(page, options)?,
                None => {
                    let sql = query::page(
                        &self.shape,
                        &self.ident,
                        self.after.as_deref(),
                        self.limit,
                        self.tuple_budget,
                        options.page_target_bytes,
                    );
                    return self.query(sql, "rows");
                }
            }
        }
    }

    /// Takes a page: queues its rows, remembers the last key, adapts the
    /// row limit to the rows' size and notes whether the table is exhausted.
    fn accept_page(&mut self, rows: Vec<Row>, options: &DumpOptions) -> Result<(), DumpError> {
        let context = self.context("rows");
        let keys = query::key_len(&self.shape);
        let returned = rows.len();
        let mut inner_total = 0usize;
        let mut bytes = 0usize;
        for row in rows {
            if row.len() != keys + 3 {
                return Err(bad_result(
                    &context,
                    format!("expected {} columns, got {}", keys + 3, row.len()),
                ));
            }
            let mut values = row.into_iter();
            let mut key = Vec::with_capacity(keys);
            for _ in 0..keys {
                match values.next().flatten() {
                    Some(literal) => key.push(
                        query::decode_exact_real(literal)
                            .ok_or_else(|| bad_result(&context, "a malformed exact REAL key"))?,
                    ),
                    None => {
                        return Err(DumpError::OversizedKey {
                            table: self.shape.name.clone(),
                            bytes: self.tuple_budget + 1,
                        })
                    }
                }
            }
            let number = |value: Option<Option<String>>, what: &str| -> Result<usize, DumpError> {
                value
                    .flatten()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad_result(&context, format!("{what} is not a number")))
            };
            let size = number(values.next(), "the tuple size")?;
            inner_total = number(values.next(), "the page row count")?;
            let tuple = values.next().flatten();
            bytes += size.min(self.tuple_budget + 1);
            self.after = Some(key.clone());
            self.page.push_back(PageRow { key, tuple });
        }
        if returned == 0 || (inner_total < self.limit && returned == inner_total) {
            self.exhausted = true;
        }
        if let Some(average) = bytes.checked_div(returned) {
            self.limit =
                (options.page_target_bytes / average.max(1)).clamp(1, options.max_page_rows);
        }
        Ok(())
    }
}

/// What the statements of one oversized row need to know about its table.
struct RowWriter<'a> {
    shape: &'a TableShape,
    ident: &'a str,
    prefix: &'a str,
    target: usize,
}

impl RowWriter<'_> {
    fn update(&self, assignments: &str, key_where: &str) -> String {
        format!(
            "UPDATE {} SET {assignments} WHERE {key_where};\n",
            self.ident
        )
    }
}

/// One value of an oversized row, as the row detail query reports it.
#[derive(Debug)]
struct Cell {
    kind: String,
    bytes: u64,
    chars: u64,
    has_nul: bool,
    literal: Option<String>,
}

impl Cell {
    fn is_deferrable(&self) -> bool {
        self.kind == "text" || self.kind == "blob"
    }

    /// Bytes of its literal (estimated from below when not read).
    fn size(&self) -> usize {
        match &self.literal {
            Some(literal) => literal.len(),
            None if self.kind == "blob" => 2 * self.bytes as usize + 3,
            None => self.bytes as usize + 2,
        }
    }

    fn placeholder(&self) -> &'static str {
        if self.kind == "blob" {
            "X''"
        } else {
            "''"
        }
    }
}

/// An oversized value being appended piece by piece.
#[derive(Debug)]
struct PieceCell {
    column: usize,
    kind: PieceKind,
    /// The type and byte size the value must still have.
    expected: String,
    /// Units (characters or bytes) in the value, the next one to read
    /// (1-based), and how many to read per piece.
    units: u64,
    next: u64,
    span: u64,
}

#[derive(Debug)]
enum BigStage {
    /// The row's values are to be read.
    Detail,
    /// REALs of extreme magnitude are being read exactly, one by one.
    ExactReals(Vec<Cell>),
    /// The row is inserted; oversized values are being appended.
    Pieces(VecDeque<PieceCell>),
}

/// An oversized row being written.
#[derive(Debug)]
struct BigRow {
    key: Vec<String>,
    literal_limit: usize,
    stage: BigStage,
}

enum BigStep {
    Query(String, &'static str),
    Inserted,
    Done,
}

impl BigRow {
    fn new(key: Vec<String>, literal_limit: usize) -> Self {
        Self {
            key,
            literal_limit,
            stage: BigStage::Detail,
        }
    }

    fn buffered_bytes(&self) -> usize {
        let cells = match &self.stage {
            BigStage::ExactReals(cells) => cells
                .iter()
                .map(|c| c.literal.as_ref().map_or(0, String::len))
                .sum(),
            _ => 0,
        };
        self.key.iter().map(String::len).sum::<usize>() + cells
    }

    fn advance(
        &mut self,
        rows: Option<Vec<Row>>,
        writer: &RowWriter,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<BigStep, DumpError> {
        let key_where = query::key_where(writer.shape, &self.key);
        let table = writer.shape.name.as_str();
        // Room for a piece's literal in the statements that carry pieces.
        if key_where.len() + writer.ident.len() + 2 * MIN_PIECE_ROOM > writer.target {
            return Err(DumpError::OversizedKey {
                table: table.into(),
                bytes: key_where.len(),
            });
        }
        match &mut self.stage {
            BigStage::Detail => {
                let Some(rows) = rows else {
                    let sql = query::row_detail(
                        writer.shape,
                        writer.ident,
                        &self.key,
                        self.literal_limit,
                    );
                    return Ok(BigStep::Query(sql, "an oversized row"));
                };
                self.stage = BigStage::ExactReals(parse_detail(writer.shape, rows)?);
                self.advance(None, writer, output, sql)
            }
            BigStage::ExactReals(cells) => {
                if let Some(column) = cells
                    .iter()
                    .position(|c| c.kind == "real" && c.literal.is_none())
                {
                    let Some(rows) = rows else {
                        let sql = query::exact_real(writer.shape, writer.ident, &self.key, column);
                        return Ok(BigStep::Query(sql, "a REAL of extreme magnitude"));
                    };
                    let literal = match rows.as_slice() {
                        [row] => match row.as_slice() {
                            [Some(literal)] => query::decode_exact_real(literal.clone())
                                .ok_or_else(|| {
                                    bad_result(table, "a malformed exact REAL literal")
                                })?,
                            _ => return Err(bad_result(table, "no exact literal for a REAL")),
                        },
                        _ => {
                            return Err(DumpError::RowChanged {
                                table: table.into(),
                                detail: format!("{} rows found where one was expected", rows.len()),
                            })
                        }
                    };
                    cells[column].literal = Some(literal);
                    return self.advance(None, writer, output, sql);
                }
                let cells = std::mem::take(cells);
                self.stage =
                    BigStage::Pieces(write_split_row(cells, writer, &key_where, output, sql)?);
                Ok(BigStep::Inserted)
            }
            BigStage::Pieces(cells) => {
                let Some(cell) = cells.front_mut() else {
                    return Ok(BigStep::Done);
                };
                let column = &writer.shape.columns[cell.column];
                let c = column.sql_name.as_str();
                let (open, close_more, close_last) = match (cell.kind, column.numeric_affinity) {
                    (PieceKind::Blob, _) => ("CAST(", " AS BLOB)", " AS BLOB)"),
                    (_, true) => ("CAST(", " AS BLOB)", " AS TEXT)"),
                    (_, false) => ("", "", ""),
                };
                let frame = writer.update(&format!("{c} = {open}{c} || {close_more}"), &key_where);
                let literal_room = writer.target.saturating_sub(frame.len());
                let remaining_pieces = (cell.units + 1 - cell.next).div_ceil(cell.span) as usize;
                let count = remaining_pieces.min(PIECES_PER_QUERY);
                let Some(rows) = rows else {
                    let sql = query::pieces(
                        writer.shape,
                        writer.ident,
                        &self.key,
                        cell.column,
                        cell.kind,
                        cell.next,
                        cell.span,
                        count,
                        literal_room,
                    );
                    return Ok(BigStep::Query(sql, "pieces of an oversized value"));
                };
                let changed = |detail: String| DumpError::RowChanged {
                    table: table.into(),
                    detail,
                };
                let row = match <[Row; 1]>::try_from(rows) {
                    Ok([row]) => row,
                    Err(rows) => {
                        return Err(changed(format!(
                            "{} rows where one was expected",
                            rows.len()
                        )))
                    }
                };
                if row.len() != count + 1 {
                    return Err(bad_result(
                        table,
                        format!("expected {} piece columns, got {}", count + 1, row.len()),
                    ));
                }
                let mut values = row.into_iter();
                let found = values.next().flatten().unwrap_or_default();
                if found != cell.expected {
                    return Err(changed(format!(
                        "column {c} was {:?}, now {found:?}",
                        cell.expected
                    )));
                }
                let mut finished = false;
                for piece in values {
                    let Some(piece) = piece else {
                        // This piece's literal is too long (quotes, wide
                        // characters): read smaller pieces from here on.
                        cell.span = (cell.span / 2).max(1);
                        break;
                    };
                    let literal = match cell.kind {
                        PieceKind::Text => piece,
                        PieceKind::TextBytes | PieceKind::Blob => format!("X'{piece}'"),
                    };
                    let last = cell.next + cell.span > cell.units;
                    let close = if last { close_last } else { close_more };
                    let statement =
                        writer.update(&format!("{c} = {open}{c} || {literal}{close}"), &key_where);
                    output.statement(sql, &statement, || {
                        format!("a piece of a value of {table:?}")
                    })?;
                    cell.next += cell.span;
                    if last {
                        finished = true;
                        break;
                    }
                }
                if finished {
                    cells.pop_front();
                }
                self.advance(None, writer, output, sql)
            }
        }
    }
}

/// The least room a piece's literal must have in its statement.
const MIN_PIECE_ROOM: usize = 256;

/// Reads the row detail query's result.
fn parse_detail(shape: &TableShape, rows: Vec<Row>) -> Result<Vec<Cell>, DumpError> {
    let table = shape.name.as_str();
    let row = match <[Row; 1]>::try_from(rows) {
        Ok([row]) => row,
        Err(rows) => {
            return Err(DumpError::RowChanged {
                table: table.into(),
                detail: format!("{} rows found where one was expected", rows.len()),
            })
        }
    };
    if row.len() != 2 * shape.columns.len() {
        return Err(bad_result(
            table,
            format!(
                "expected {} columns, got {}",
                2 * shape.columns.len(),
                row.len()
            ),
        ));
    }
    let mut cells = Vec::with_capacity(shape.columns.len());
    let mut values = row.into_iter();
    while let (Some(meta), Some(literal)) = (values.next(), values.next()) {
        let meta = meta.unwrap_or_default();
        let parts: Vec<&str> = meta.split(' ').collect();
        let parsed = match parts.as_slice() {
            [kind, bytes, chars, nul] => bytes
                .parse()
                .ok()
                .zip(chars.parse().ok())
                .map(|(b, c)| (*kind, b, c, *nul == "1")),
            _ => None,
        };
        let Some((kind, bytes, chars, has_nul)) = parsed else {
            return Err(bad_result(
                table,
                format!("unreadable value description {meta:?}"),
            ));
        };
        if literal.is_none() && !matches!(kind, "text" | "blob" | "real") {
            return Err(bad_result(table, format!("no literal for a {kind} value")));
        }
        cells.push(Cell {
            kind: kind.into(),
            bytes,
            chars,
            has_nul,
            literal,
        });
    }
    Ok(cells)
}

/// Writes the INSERT of an oversized row with its largest values deferred,
/// and UPDATEs for the deferred values that fit in one statement; returns the
/// values still to be written in pieces.
fn write_split_row(
    cells: Vec<Cell>,
    writer: &RowWriter,
    key_where: &str,
    output: &mut Output,
    sql: &mut Vec<u8>,
) -> Result<VecDeque<PieceCell>, DumpError> {
    let table = writer.shape.name.as_str();
    let mut deferred = vec![false; cells.len()];
    let insert_len = |deferred: &[bool]| -> usize {
        let values: usize = cells
            .iter()
            .zip(deferred)
            .map(|(c, &d)| if d { c.placeholder().len() } else { c.size() })
            .sum();
        writer.prefix.len() + 2 + cells.len().saturating_sub(1) + values + 2
    };
    // Values too large to have been read are always deferred; then the
    // largest others until the INSERT fits the target.
    for (i, cell) in cells.iter().enumerate() {
        deferred[i] = cell.literal.is_none();
    }
    let mut candidates: Vec<usize> = (0..cells.len())
        .filter(|&i| cells[i].is_deferrable() && !deferred[i])
        .collect();
    candidates.sort_by_key(|&i| std::cmp::Reverse(cells[i].size()));
    for &i in &candidates {
        if insert_len(&deferred) <= writer.target {
            break;
        }
        deferred[i] = true;
    }
    let values: Vec<&str> = cells
        .iter()
        .zip(&deferred)
        .map(|(c, &d)| {
            if d {
                c.placeholder()
            } else {
                c.literal.as_deref().unwrap_or_default()
            }
        })
        .collect();
    let insert = format!("{}({});\n", writer.prefix, values.join(","));
    output.statement(sql, &insert, || {
        format!("the INSERT of an oversized row of {table:?}")
    })?;

    // Deferred values that fit whole: as few UPDATEs as the target allows.
    let frame = writer.update("", key_where).len();
    let mut assignments: Vec<String> = Vec::new();
    let mut length = frame;
    let mut pieces = VecDeque::new();
    for (i, cell) in cells.iter().enumerate().filter(|(i, _)| deferred[*i]) {
        let name = &writer.shape.columns[i].sql_name;
        match &cell.literal {
            Some(literal) if frame + name.len() + 3 + literal.len() <= writer.target => {
                let assignment = format!("{name} = {literal}");
                if !assignments.is_empty() && length + 2 + assignment.len() > writer.target {
                    let statement = writer.update(&assignments.join(", "), key_where);
                    output.statement(sql, &statement, || {
                        format!("an UPDATE of an oversized row of {table:?}")
                    })?;
                    assignments.clear();
                    length = frame;
                }
                length += assignment.len() + if assignments.is_empty() { 0 } else { 2 };
                assignments.push(assignment);
            }
            _ => pieces.push_back(piece_cell(i, cell, writer, key_where)),
        }
    }
    if !assignments.is_empty() {
        let statement = writer.update(&assignments.join(", "), key_where);
        output.statement(sql, &statement, || {
            format!("an UPDATE of an oversized row of {table:?}")
        })?;
    }
    Ok(pieces)
}

/// How an oversized value is read in pieces: by characters for TEXT, sized
/// from its average bytes per character; by bytes for BLOBs and NUL text.
fn piece_cell(column: usize, cell: &Cell, writer: &RowWriter, key_where: &str) -> PieceCell {
    let name = &writer.shape.columns[column].sql_name;
    // The longest frame (a numeric-affinity CAST) and an X'' wrapper.
    let frame = writer
        .update(&format!("{name} = CAST({name} ||  AS TEXT)"), key_where)
        .len()
        + 3;
    let room = writer.target.saturating_sub(frame).max(MIN_PIECE_ROOM) as u64;
    let expected = format!("{} {}", cell.kind, cell.bytes);
    if cell.kind == "blob" || cell.has_nul {
        let kind = if cell.kind == "blob" {
            PieceKind::Blob
        } else {
            PieceKind::TextBytes
        };
        return PieceCell {
            column,
            kind,
            expected,
            units: cell.bytes,
            next: 1,
            span: room / 2,
        };
    }
    // Aim a little under the room: quotes are doubled in the literal.
    let chars = cell.chars.max(1);
    let span = (room * 9 / 10 * chars / cell.bytes.max(1)).max(1);
    PieceCell {
        column,
        kind: PieceKind::Text,
        expected,
        units: chars,
        next: 1,
        span,
    }
}

#[cfg(test)]
mod tests;
