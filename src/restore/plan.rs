//! The import planner: groups validated statements into D1 `batch()` calls
//! within the platform's limits, and rewrites INSERTs too large for one D1
//! statement.
//!
//! # Batches
//!
//! Every [`PlannedBatch`] is one D1 `batch()`, which D1 runs as one
//! transaction. It starts with [`BATCH_PRELUDE`]: [`DEFER_FOREIGN_KEYS_SQL`]
//! (a D1 pragma lasts one transaction, and D1 cannot turn foreign keys off,
//! so they are checked at each batch's commit) and
//! [`IGNORE_CHECK_CONSTRAINTS_SQL`] (a row too large for one statement is
//! inserted with placeholders, then completed by UPDATEs; CHECK constraints
//! must not see the placeholders). Then it holds up to
//! [`MAX_STATEMENTS_PER_BATCH`] statements carrying up to [`MAX_BATCH_BYTES`]
//! of SQL and bound values, in dump order. Statements the import skips
//! (BEGIN, COMMIT, the dump's own pragmas) are left out.
//!
//! # Triggers after the data
//!
//! A trigger created before rows are inserted fires on them during the
//! import: `sqlite3 .dump` and `wrangler d1 export` write each table's
//! triggers right after it. So from the first CREATE TRIGGER on, the planner
//! holds back every CREATE TRIGGER, CREATE INDEX, CREATE VIEW and FTS5
//! `rebuild` (indexes and views keep their places relative to the triggers,
//! which keeps the schema hash, and a `rebuild` may read a held view) and
//! emits them, in dump order, after the last statement of the dump. Tables,
//! rows and `sqlite_sequence` go on as they come. Our own dumps already
//! write triggers after the data, so their order does not change.
//!
//! A batch is never cut before an UPDATE: the UPDATEs that complete a row
//! too large for one statement follow that row's INSERT (the validator
//! checks this), and the row must not be committed half-built, where a
//! CHECK or FOREIGN KEY would see the placeholder. So a batch holding such
//! a row can exceed both limits by that row's statements: at most about 80
//! statements of under 100,000 bytes each, since D1 rows are at most
//! 2,000,000 bytes (4,000,000 as hex).
//!
//! # Oversized INSERTs
//!
//! D1 rejects a statement of [`MAX_STATEMENT_BYTES`] or more. Our dumps
//! never write one; `sqlite3 .dump` and `wrangler d1 export` write each row
//! as one statement however large. `fit_insert` turns such an INSERT into
//! statements D1 accepts:
//!
//! 1. A multi-row INSERT is cut into INSERTs of as many whole rows as fit in
//!    [`DEFAULT_STATEMENT_TARGET_BYTES`] (the size that imports fastest).
//! 2. A row that does not fit one statement on its own has its largest
//!    string and BLOB literals replaced by bound parameters `?1`, `?2`, ...
//!    (numbered in order of appearance) until the SQL is under the limit.
//!    Only string and BLOB literals move; numbers and NULL stay in the SQL
//!    as written, which keeps them exact (a bound JavaScript number cannot
//!    carry a 64-bit integer). A literal inside an expression moves too:
//!    `replace('..','\n',char(10))` becomes `replace(?1,'\n',char(10))`, and
//!    `CAST(X'..' AS TEXT)` becomes `CAST(?1 AS TEXT)`; SQLite treats a bound
//!    TEXT or BLOB exactly like the literal it replaces.
//!
//! The rewrite fails ([`FitError`]) when it would need more than
//! [`MAX_BOUND_PARAMETERS`] parameters, when a value is larger than
//! [`MAX_VALUE_BYTES`], or when the SQL is still too large with every
//! literal bound (thousands of numbers in one row). The validator calls
//! `fit_insert` and rejects the statement then, so the planner never sees
//! a statement it cannot place.
//!
//! # Executing a batch on D1
//!
//! For each [`PlannedStatement`]: `db.prepare(sql)`, then `.bind(...)` with
//! its [`Param`]s in order (TEXT as a JavaScript string, BLOB as an
//! `ArrayBuffer`/`Uint8Array`); statements without parameters are bound to
//! nothing. Then `db.batch([...])` with the prepared statements in order.

use std::ops::Range;

use serde::{Deserialize, Serialize};

use super::lex::{dequote, Lexer, Token, TokenKind};
use super::validate::{StatementKind, Validated};
use crate::dump::{DEFAULT_STATEMENT_TARGET_BYTES, MAX_STATEMENT_BYTES};

/// Most statements per batch, besides the leading pragma. D1 imports
/// fastest with 25 to 50 statements of 30 to 90 KB per `batch()`.
pub const MAX_STATEMENTS_PER_BATCH: usize = 50;

/// Most bytes of SQL text and bound values per batch: well within D1's 30 s
/// per `batch()` at the measured import speed.
pub const MAX_BATCH_BYTES: usize = 4 * 1024 * 1024;

pub use crate::d1_limits::{MAX_BOUND_PARAMETERS, MAX_VALUE_BYTES};

/// The first statement of every batch (D1 pragmas last one transaction).
pub const DEFER_FOREIGN_KEYS_SQL: &str = "PRAGMA defer_foreign_keys = on";

/// The second statement of every batch: a row completed by UPDATEs passes
/// its CHECK constraints with its placeholders (D1 supports this pragma,
/// for one transaction).
pub const IGNORE_CHECK_CONSTRAINTS_SQL: &str = "PRAGMA ignore_check_constraints = on";

/// The statements every batch starts with, in order.
pub const BATCH_PRELUDE: [&str; 2] = [DEFER_FOREIGN_KEYS_SQL, IGNORE_CHECK_CONSTRAINTS_SQL];

/// A value bound to a `?N` parameter of a [`PlannedStatement`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub enum Param {
    /// A TEXT value, from a string literal.
    Text(String),
    /// A BLOB value, from an `X'..'` literal.
    Blob(#[serde(with = "crate::serde_base64")] Vec<u8>),
}

impl Param {
    /// The value's size in bytes.
    pub fn bytes(&self) -> usize {
        match self {
            Param::Text(text) => text.len(),
            Param::Blob(blob) => blob.len(),
        }
    }
}

/// One statement for D1: SQL shorter than [`MAX_STATEMENT_BYTES`] and the
/// values of its `?1`, `?2`, ... parameters, in order.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStatement {
    /// The SQL, without a terminating `;`.
    pub sql: String,
    /// Values of the parameters `?1` to `?n`; empty for most statements.
    pub params: Vec<Param>,
    /// The dump line the statement comes from; 0 for statements the
    /// restore adds itself (the pragma that starts each batch).
    pub line: u64,
}

impl PlannedStatement {
    /// A statement the restore adds itself: no parameters, line 0.
    pub fn plain(sql: String) -> Self {
        Self {
            sql,
            params: Vec::new(),
            line: 0,
        }
    }

    /// Bytes of SQL and bound values, as counted against [`MAX_BATCH_BYTES`].
    pub fn bytes(&self) -> usize {
        self.sql.len() + self.params.iter().map(Param::bytes).sum::<usize>()
    }
}

/// One D1 `batch()`: one transaction.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedBatch {
    /// [`BATCH_PRELUDE`], then the dump's statements in order.
    pub statements: Vec<PlannedStatement>,
}

/// Groups validated statements into batches; see the module documentation.
/// It serializes whole, so a job can save it between invocations.
#[derive(Debug, Serialize, Deserialize)]
pub struct Planner {
    open: Vec<PlannedStatement>,
    open_bytes: usize,
    /// Whether a CREATE TRIGGER has been seen: from then on, schema objects
    /// other than tables wait for the end of the dump.
    holding: bool,
    /// What waits for the end of the dump, in dump order.
    held: Vec<PlannedStatement>,
    /// Statements per batch at most, besides the prelude: at most
    /// [`MAX_STATEMENTS_PER_BATCH`]; a job lowers it to fit its slice
    /// budget (every statement of a batch counts as a D1 query).
    #[serde(default = "default_max_statements")]
    max_statements: usize,
}

fn default_max_statements() -> usize {
    MAX_STATEMENTS_PER_BATCH
}

impl Default for Planner {
    fn default() -> Self {
        Self {
            open: Vec::new(),
            open_bytes: 0,
            holding: false,
            held: Vec::new(),
            max_statements: MAX_STATEMENTS_PER_BATCH,
        }
    }
}

impl Planner {
    /// A planner with no statements yet.
    pub fn new() -> Self {
        Self::default()
    }

    /// Caps the statements of the batches cut from now on at `max` (at
    /// most [`MAX_STATEMENTS_PER_BATCH`], at least one), besides the prelude.
    /// The statements of one row (an INSERT and the UPDATEs that complete
    /// it) still stay in one batch.
    pub fn set_max_statements(&mut self, max: usize) {
        self.max_statements = max.clamp(1, MAX_STATEMENTS_PER_BATCH);
    }

    /// Adds the statements of one validated statement, in dump order, and
    /// appends to `out` every batch that is complete (usually none or one;
    /// more only for a huge external INSERT cut into many statements).
    pub fn push(&mut self, validated: Validated, out: &mut Vec<PlannedBatch>) {
        self.holding |= validated.kind == StatementKind::CreateTrigger;
        let held = matches!(
            validated.kind,
            StatementKind::CreateTrigger
                | StatementKind::CreateIndex
                | StatementKind::CreateView
                | StatementKind::Fts5Rebuild
        );
        if self.holding && held {
            self.held.extend(validated.statements);
            return;
        }
        self.place(validated, out);
    }

    /// Adds a statement's statements to the open batch, cutting it first
    /// when full (never before an UPDATE that completes a row).
    fn place(&mut self, validated: Validated, out: &mut Vec<PlannedBatch>) {
        let continues_row = validated.kind == StatementKind::UpdateRow;
        for statement in validated.statements {
            let bytes = statement.bytes();
            let full = self.open.len() + 1 > self.max_statements
                || self.open_bytes + bytes > MAX_BATCH_BYTES;
            if full && !continues_row && !self.open.is_empty() {
                out.extend(self.take_batch());
            }
            self.open_bytes += bytes;
            self.open.push(statement);
        }
    }

    /// The last batches: what is left, then the statements held back
    /// until after the data (see the module documentation).
    pub fn finish(mut self) -> Vec<PlannedBatch> {
        let mut out = Vec::new();
        for statement in std::mem::take(&mut self.held) {
            let validated = Validated {
                kind: StatementKind::CreateTrigger,
                line: statement.line,
                statements: vec![statement],
            };
            self.place(validated, &mut out);
        }
        out.extend(self.take_batch());
        out
    }

    fn take_batch(&mut self) -> Option<PlannedBatch> {
        if self.open.is_empty() {
            return None;
        }
        self.open_bytes = 0;
        let mut statements = Vec::with_capacity(self.open.len() + BATCH_PRELUDE.len());
        statements.extend(BATCH_PRELUDE.map(|sql| PlannedStatement::plain(sql.into())));
        statements.append(&mut self.open);
        Some(PlannedBatch { statements })
    }
}

/// Why an INSERT too large for one D1 statement cannot be rewritten.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum FitError {
    /// A row needs more bound values than D1 allows per statement to come
    /// under the statement limit: more than 100 columns of large values.
    #[error("a row needs more than {MAX_BOUND_PARAMETERS} bound values (D1's limit per statement) to fit in one statement: more than 100 columns of large values")]
    TooManyParameters,

    /// A string or BLOB larger than D1 stores.
    #[error("it holds a value of {bytes} bytes; D1 stores strings and BLOBs of at most {MAX_VALUE_BYTES} bytes")]
    ValueTooLarge {
        /// The value's size in bytes.
        bytes: usize,
    },

    /// A BLOB literal whose hex digits are malformed (the validator rejects
    /// such a literal before the rewrite is tried).
    #[error("it holds a BLOB literal with malformed hex digits")]
    MalformedBlob,

    /// Even with its string and BLOB literals bound, a row's SQL is over
    /// D1's statement limit (thousands of numbers, or huge expressions).
    #[error("a row is still {bytes} bytes of SQL with its strings and BLOBs bound as parameters; D1 accepts statements under {MAX_STATEMENT_BYTES} bytes")]
    StillTooLarge {
        /// The smallest SQL the row could be written as, in bytes.
        bytes: usize,
    },
}

/// Where the parts of an `INSERT ... VALUES (..), (..)` are in its text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct InsertShape {
    /// `INSERT INTO t(cols) VALUES`: bytes `0..prefix_end` of the text.
    pub prefix_end: usize,
    /// Each row's tuple, parentheses included.
    pub tuples: Vec<Range<usize>>,
}

/// The statements that run the validated INSERT `sql` (of shape `shape`)
/// on D1: `sql` itself when it is under [`MAX_STATEMENT_BYTES`], otherwise
/// its rows regrouped and, where one row is too large, rewritten with
/// bound values. See the module documentation.
pub(crate) fn fit_insert(
    sql: &str,
    shape: &InsertShape,
    line: u64,
) -> Result<Vec<PlannedStatement>, FitError> {
    if sql.len() < MAX_STATEMENT_BYTES {
        return Ok(vec![PlannedStatement {
            sql: sql.to_string(),
            params: Vec::new(),
            line,
        }]);
    }
    let prefix = &sql[..shape.prefix_end];
    let mut out = Vec::new();
    let mut group: Vec<&str> = Vec::new();
    let mut group_bytes = prefix.len();
    let flush = |group: &mut Vec<&str>, out: &mut Vec<PlannedStatement>| {
        if !group.is_empty() {
            out.push(PlannedStatement {
                sql: format!("{prefix}{}", group.join(",")),
                params: Vec::new(),
                line,
            });
            group.clear();
        }
    };
    for range in &shape.tuples {
        let tuple = &sql[range.clone()];
        if prefix.len() + tuple.len() >= MAX_STATEMENT_BYTES {
            flush(&mut group, &mut out);
            group_bytes = prefix.len();
            out.push(bind_row(prefix, tuple, line)?);
            continue;
        }
        if !group.is_empty() && group_bytes + 1 + tuple.len() > DEFAULT_STATEMENT_TARGET_BYTES {
            flush(&mut group, &mut out);
            group_bytes = prefix.len();
        }
        group_bytes += tuple.len() + usize::from(!group.is_empty());
        group.push(tuple);
    }
    flush(&mut group, &mut out);
    Ok(out)
}

/// A one-row INSERT with its largest string and BLOB literals bound, just
/// enough of them to bring it under the statement limit.
fn bind_row(prefix: &str, tuple: &str, line: u64) -> Result<PlannedStatement, FitError> {
    let literals: Vec<Token> = Lexer::new(tuple)
        .filter(|t| matches!(t.kind, TokenKind::Str | TokenKind::Blob))
        .collect();
    let mut by_size: Vec<usize> = (0..literals.len()).collect();
    by_size.sort_by_key(|&i| std::cmp::Reverse(literals[i].text.len()));

    // The longest a `?N` placeholder can be, so that the estimate is safe.
    let placeholder = 1 + MAX_BOUND_PARAMETERS.to_string().len();
    let mut size = prefix.len() + tuple.len();
    let mut bound = vec![false; literals.len()];
    let mut count = 0;
    for &i in &by_size {
        if size < MAX_STATEMENT_BYTES {
            break;
        }
        if count == MAX_BOUND_PARAMETERS {
            return Err(FitError::TooManyParameters);
        }
        bound[i] = true;
        count += 1;
        size = size - literals[i].text.len() + placeholder;
    }
    if size >= MAX_STATEMENT_BYTES {
        return Err(FitError::StillTooLarge { bytes: size });
    }

    let mut sql = String::with_capacity(size);
    sql.push_str(prefix);
    let mut params = Vec::with_capacity(count);
    let mut copied = 0;
    for (token, _) in literals.iter().zip(&bound).filter(|(_, &b)| b) {
        let param = match token.kind {
            TokenKind::Blob => Param::Blob(token.blob_value().ok_or(FitError::MalformedBlob)?),
            _ => Param::Text(dequote(token.text).into_owned()),
        };
        if param.bytes() > MAX_VALUE_BYTES {
            return Err(FitError::ValueTooLarge {
                bytes: param.bytes(),
            });
        }
        params.push(param);
        sql.push_str(&tuple[copied..token.start]);
        sql.push_str(&format!("?{}", params.len()));
        copied = token.end();
    }
    sql.push_str(&tuple[copied..]);
    Ok(PlannedStatement { sql, params, line })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn validated(kind: StatementKind, statements: Vec<PlannedStatement>) -> Validated {
        Validated {
            kind,
            line: statements.first().map_or(0, |s| s.line),
            statements,
        }
    }

    fn sql(text: &str, line: u64) -> PlannedStatement {
        PlannedStatement {
            sql: text.into(),
            params: Vec::new(),
            line,
        }
    }

    fn plan(input: Vec<Validated>) -> Vec<PlannedBatch> {
        let mut planner = Planner::new();
        let mut out = Vec::new();
        for v in input {
            planner.push(v, &mut out);
        }
        out.extend(planner.finish());
        out
    }

    fn lines(batch: &PlannedBatch) -> Vec<u64> {
        batch.statements.iter().map(|s| s.line).collect()
    }

    #[test]
    fn batches_start_with_the_pragma_and_hold_at_most_the_limit() {
        let input = (1..=120)
            .map(|line| {
                validated(
                    StatementKind::Insert,
                    vec![sql("INSERT INTO t VALUES(1)", line)],
                )
            })
            .collect();
        let batches = plan(input);
        assert_eq!(
            batches
                .iter()
                .map(|b| b.statements.len())
                .collect::<Vec<_>>(),
            [52, 52, 22]
        );
        for batch in &batches {
            assert_eq!(
                batch.statements[..2],
                [
                    PlannedStatement::plain(DEFER_FOREIGN_KEYS_SQL.into()),
                    PlannedStatement::plain(IGNORE_CHECK_CONSTRAINTS_SQL.into())
                ]
            );
        }
        assert_eq!(
            lines(&batches[1])[2..],
            (51..=100).collect::<Vec<u64>>()[..]
        );
    }

    #[test]
    fn skipped_statements_are_left_out_and_no_batch_is_empty() {
        assert!(plan(vec![
            validated(StatementKind::Begin, vec![]),
            validated(StatementKind::Commit, vec![])
        ])
        .is_empty());
        assert!(Planner::new().finish().is_empty());
    }

    #[test]
    fn batches_hold_at_most_the_byte_limit() {
        let value = "v".repeat(MAX_BATCH_BYTES / 3);
        let input = (1..=5)
            .map(|line| {
                let statement = PlannedStatement {
                    sql: "INSERT INTO t VALUES(?1)".into(),
                    params: vec![Param::Text(value.clone())],
                    line,
                };
                validated(StatementKind::Insert, vec![statement])
            })
            .collect();
        let batches = plan(input);
        assert_eq!(
            batches
                .iter()
                .map(|b| b.statements.len() - BATCH_PRELUDE.len())
                .collect::<Vec<_>>(),
            [2, 2, 1]
        );
        assert!(batches.iter().all(|b| b
            .statements
            .iter()
            .map(PlannedStatement::bytes)
            .sum::<usize>()
            <= MAX_BATCH_BYTES));
    }

    #[test]
    fn a_batch_is_never_cut_before_an_update() {
        let mut input: Vec<Validated> = (1..=49)
            .map(|line| {
                validated(
                    StatementKind::Insert,
                    vec![sql("INSERT INTO t VALUES(1)", line)],
                )
            })
            .collect();
        input.push(validated(
            StatementKind::Insert,
            vec![sql("INSERT INTO t VALUES(2, '')", 50)],
        ));
        input.extend((51..=60).map(|line| {
            validated(
                StatementKind::UpdateRow,
                vec![sql("UPDATE t SET ...", line)],
            )
        }));
        input.push(validated(
            StatementKind::Insert,
            vec![sql("INSERT INTO t VALUES(3)", 61)],
        ));
        let batches = plan(input);
        assert_eq!(batches.len(), 2);
        assert_eq!(
            lines(&batches[0]).last(),
            Some(&60),
            "the row's UPDATEs stay with its INSERT"
        );
        assert_eq!(lines(&batches[1]), [0, 0, 61]);
    }

    #[test]
    fn triggers_are_held_until_after_the_data_keeping_the_objects_order() {
        use StatementKind::*;
        let statement = |kind, line| validated(kind, vec![sql(&format!("{kind:?} {line}"), line)]);
        let input = vec![
            statement(CreateTable, 1),
            statement(CreateIndex, 2),
            statement(CreateTrigger, 3),
            statement(Insert, 4),
            statement(CreateView, 5),
            statement(CreateTable, 6),
            statement(Insert, 7),
            statement(Fts5Rebuild, 8),
            statement(CreateTrigger, 9),
            statement(Insert, 10),
            statement(InsertSequence, 11),
        ];
        let batches = plan(input);
        let order: Vec<u64> = batches.iter().flat_map(lines).filter(|&l| l > 0).collect();
        assert_eq!(order, [1, 2, 4, 6, 7, 10, 11, 3, 5, 8, 9]);
    }

    #[test]
    fn a_dump_without_early_triggers_keeps_its_order() {
        use StatementKind::*;
        let statement = |kind, line| validated(kind, vec![sql(&format!("{kind:?} {line}"), line)]);
        let kinds = [
            CreateTable,
            Insert,
            CreateIndex,
            CreateTrigger,
            CreateView,
            Fts5Rebuild,
            DeleteSequence,
            InsertSequence,
        ];
        let input = kinds
            .iter()
            .zip(1..)
            .map(|(&k, l)| statement(k, l))
            .collect();
        let order: Vec<u64> = plan(input)
            .iter()
            .flat_map(lines)
            .filter(|&l| l > 0)
            .collect();
        // The sequence statements come before the held objects: no trigger
        // can be on sqlite_sequence, so nothing changes for the database.
        assert_eq!(order, [1, 2, 3, 7, 8, 4, 5, 6]);
    }

    fn shape_of(text: &str) -> InsertShape {
        let open = text.find("VALUES").expect("VALUES") + "VALUES".len();
        let mut tuples = Vec::new();
        let mut depth = 0;
        let mut start = 0;
        for token in Lexer::new(&text[open..]) {
            if token.is_punct('(') {
                if depth == 0 {
                    start = open + token.start;
                }
                depth += 1;
            } else if token.is_punct(')') {
                depth -= 1;
                if depth == 0 {
                    tuples.push(start..open + token.end());
                }
            }
        }
        InsertShape {
            prefix_end: tuples[0].start,
            tuples,
        }
    }

    fn fit(text: &str) -> Result<Vec<PlannedStatement>, FitError> {
        fit_insert(text, &shape_of(text), 7)
    }

    #[test]
    fn small_inserts_stay_as_they_are() {
        let text = "INSERT INTO t VALUES(1),(2)";
        assert_eq!(fit(text), Ok(vec![sql(text, 7)]));
    }

    #[test]
    fn large_multi_row_inserts_are_regrouped() {
        let rows: Vec<String> = (0..400)
            .map(|i| format!("({i}, '{}')", "r".repeat(900)))
            .collect();
        let text = format!("INSERT INTO \"t\" (\"a\",\"b\") VALUES {}", rows.join(", "));
        let statements = fit(&text).expect("fits");
        assert!(statements.len() > 1);
        let mut seen = Vec::new();
        for statement in &statements {
            assert!(
                statement.sql.len() <= DEFAULT_STATEMENT_TARGET_BYTES,
                "{}",
                statement.sql.len()
            );
            assert!(statement.params.is_empty() && statement.line == 7);
            let body = statement
                .sql
                .strip_prefix("INSERT INTO \"t\" (\"a\",\"b\") VALUES ")
                .expect("prefix");
            seen.extend(
                body.split(',')
                    .filter(|part| part.starts_with('('))
                    .map(str::to_string),
            );
        }
        assert_eq!(
            seen,
            rows.iter()
                .map(|r| r.split(',').next().unwrap_or_default().to_string())
                .collect::<Vec<_>>()
        );
    }

    #[test]
    fn an_oversized_row_binds_its_largest_literals() {
        let text_value = format!("it''s {}", "t".repeat(150_000));
        let blob_hex = "00ff".repeat(60_000);
        let text = format!(
            "INSERT INTO t(a,b,c,d,e) VALUES(-9223372036854775808, replace('{text_value}','\\n',char(10)), X'{blob_hex}', 'small', CAST(X'{blob_hex}' AS TEXT))"
        );
        let statements = fit(&text).expect("fits");
        assert_eq!(statements.len(), 1);
        let statement = &statements[0];
        assert_eq!(
            statement.sql,
            "INSERT INTO t(a,b,c,d,e) VALUES(-9223372036854775808, replace(?1,'\\n',char(10)), ?2, 'small', ?3)"
                .replace("?3)", "CAST(?3 AS TEXT))")
        );
        let blob: Vec<u8> = [0x00, 0xff].repeat(60_000);
        assert_eq!(
            statement.params,
            [
                Param::Text(text_value.replace("''", "'")),
                Param::Blob(blob.clone()),
                Param::Blob(blob)
            ]
        );
    }

    #[test]
    fn rows_that_cannot_be_rewritten_are_refused() {
        let huge = "h".repeat(MAX_VALUE_BYTES + 1);
        assert_eq!(
            fit(&format!("INSERT INTO t VALUES('{huge}')")),
            Err(FitError::ValueTooLarge { bytes: huge.len() })
        );
        // Binding 100 of these 1,000-byte literals still leaves 101,000 bytes.
        let many: Vec<String> = (0..201)
            .map(|_| format!("'{}'", "m".repeat(1_000)))
            .collect();
        assert!(
            fit(&format!("INSERT INTO t VALUES({})", many.join(",")))
                == Err(FitError::TooManyParameters)
        );
        let numbers = vec!["12345"; 20_000].join(",");
        assert!(matches!(
            fit(&format!(
                "INSERT INTO t VALUES({numbers}, '{}')",
                "s".repeat(10)
            )),
            Err(FitError::StillTooLarge { .. })
        ));
    }
}
