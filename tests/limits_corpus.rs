//! The limits corpus (tests/corpus/) through the real dump and both import
//! paths: one test per class, named after it. Each class database is dumped
//! as the worker would (D1's limits on the reading connection), then the
//! dump is imported
//!
//! 1. by the sqlite3 shell, with D1's limits set by `.limit` (or, for a class
//!    whose [`corpus::Loader`] is `Bundled`, by the bundled SQLite: see
//!    [`load_outside_d1`]), and
//! 2. as the restore job does on D1: statement reader, validator and planner,
//!    each planned batch one transaction on SQLite with D1's limits,
//!    foreign keys on and deferred to the commit,
//!
//! and each copy is compared exactly with the original
//! ([`corpus::compare`]). A test reports every problem of its class (dump,
//! either import, every difference), not just the first; differences a
//! class documents ([`corpus::Class::allowances`]) are allowed by name,
//! never silently.

// The dump harness and the corpus each include tests/support/d1_sqlite.rs
// for the test crates that use one of them alone; this one uses both.
#![allow(clippy::duplicate_mod)]

#[path = "dump/harness.rs"]
mod harness;

#[path = "corpus/mod.rs"]
mod corpus;

use std::any::Any;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::path::Path;

use corpus::{Allowance, Difference, Loader};
use d1_vault::d1_limits;
use d1_vault::dump::{Dump, DumpOptions, Step, MAX_STATEMENT_BYTES};
use d1_vault::restore::plan::{MAX_BOUND_PARAMETERS, MAX_VALUE_BYTES};
use d1_vault::restore::{Param, PlannedBatch, Planner, StatementReader, Validator};
use harness::*;

/// Small statements and pages: rows are split, packed and paged many ways.
const SMALL: DumpOptions = DumpOptions {
    statement_target_bytes: 2_000,
    page_target_bytes: 4_000,
    max_page_rows: 7,
};

/// Piece size for feeding the reader: odd, so pieces cut statements and
/// characters anywhere.
const PIECE_BYTES: usize = 65_521;

fn panic_text(payload: Box<dyn Any + Send>) -> String {
    payload
        .downcast_ref::<String>()
        .cloned()
        .or_else(|| payload.downcast_ref::<&str>().map(|s| s.to_string()))
        .unwrap_or_else(|| "(panic without a message)".into())
}

fn short(text: &str) -> String {
    let mut s: String = text.chars().take(1_500).collect();
    if s.len() < text.len() {
        s.push_str("...");
    }
    s
}

/// What the sqlite3 shell runs before a dump: `.limit`s for D1's limits,
/// and `synchronous=OFF` (a test copy need not survive a power cut, and a
/// sync per autocommitted statement would dominate the run time).
fn cli_preamble() -> String {
    format!(
        ".limit length {}\n.limit sql_length {}\n.limit expr_depth {}\n.limit column {}\n.limit variable_number {}\nPRAGMA synchronous=OFF;\n",
        d1_limits::MAX_VALUE_BYTES,
        d1_limits::MAX_STATEMENT_BYTES - 1,
        d1_limits::MAX_EXPR_DEPTH,
        d1_limits::MAX_COLUMNS,
        d1_limits::MAX_BOUND_PARAMETERS
    )
}

/// Reads, validates and plans a dump as the restore job does.
fn plan(sql: &[u8]) -> Result<Vec<PlannedBatch>, String> {
    let mut reader = StatementReader::new();
    let mut validator = Validator::new();
    let mut planner = Planner::new();
    let mut batches = Vec::new();
    let mut statements = Vec::new();
    for chunk in sql.chunks(PIECE_BYTES) {
        reader
            .push(chunk, &mut statements)
            .map_err(|e| format!("read: {e}"))?;
        for statement in statements.drain(..) {
            let validated = validator
                .check(&statement)
                .map_err(|e| format!("validate: {e}"))?;
            planner.push(validated, &mut batches);
        }
    }
    reader.finish().map_err(|e| format!("read: {e}"))?;
    batches.extend(planner.finish());
    let _ = validator.finish();
    Ok(batches)
}

/// Runs planned batches into a new database as D1 would: each batch one
/// transaction, foreign keys on (deferred by the batch's pragma), D1's
/// statement and value limits.
fn execute(batches: &[PlannedBatch], path: &Path) -> Result<(), String> {
    let mut conn = open_d1_like(path);
    // synchronous=OFF: a test copy need not survive a power cut, and
    // syncing every batch's commit would dominate the run time.
    conn.execute_batch("PRAGMA foreign_keys=ON; PRAGMA synchronous=OFF")
        .map_err(|e| e.to_string())?;
    for (n, batch) in batches.iter().enumerate() {
        let tx = conn.transaction().map_err(|e| e.to_string())?;
        for statement in &batch.statements {
            let show = || short(&statement.sql.chars().take(200).collect::<String>());
            if statement.sql.len() >= MAX_STATEMENT_BYTES {
                return Err(format!(
                    "line {}: a statement of {} bytes",
                    statement.line,
                    statement.sql.len()
                ));
            }
            if statement.params.len() > MAX_BOUND_PARAMETERS {
                return Err(format!(
                    "line {}: {} parameters",
                    statement.line,
                    statement.params.len()
                ));
            }
            let mut prepared = tx
                .prepare(&statement.sql)
                .map_err(|e| format!("line {}: {e}: {}", statement.line, show()))?;
            for (i, param) in statement.params.iter().enumerate() {
                if param.bytes() > MAX_VALUE_BYTES {
                    return Err(format!(
                        "line {}: a parameter of {} bytes",
                        statement.line,
                        param.bytes()
                    ));
                }
                let bound = match param {
                    Param::Text(text) => prepared.raw_bind_parameter(i + 1, text.as_str()),
                    Param::Blob(blob) => prepared.raw_bind_parameter(i + 1, blob.as_slice()),
                };
                bound.map_err(|e| format!("line {}: bind: {e}", statement.line))?;
            }
            prepared
                .raw_execute()
                .map_err(|e| format!("line {}: {e}: {}", statement.line, show()))?;
        }
        tx.commit()
            .map_err(|e| format!("batch {n} of {}: commit failed: {e}", batches.len()))?;
    }
    Ok(())
}

/// Compares and formats what is left after the allowances.
fn differences(original: &Path, copy: &Path, allowances: &[Allowance]) -> Result<(), String> {
    let found = corpus::compare_files(original, copy)?;
    let (allowed, rest): (Vec<(Difference, &str)>, Vec<Difference>) =
        corpus::partition(found, allowances);
    for (d, reason) in &allowed {
        eprintln!("allowed ({reason}): {d}");
    }
    if rest.is_empty() {
        return Ok(());
    }
    let shown: Vec<String> = rest.iter().take(40).map(|d| format!("    {d}")).collect();
    Err(format!(
        "{} differences from the original{}:\n{}",
        rest.len(),
        if rest.len() > 40 { " (first 40)" } else { "" },
        shown.join("\n")
    ))
}

/// What the restore's D1-style path must do with a class's dump.
#[derive(Clone, Copy, PartialEq, Eq)]
enum OnD1 {
    /// Restore it exactly (but for the class's allowances).
    RoundTrip,
    /// Fail at a batch's commit with a FOREIGN KEY error.
    FailAtCommitOnForeignKeys,
}

/// Loads a dump into a new database outside D1, as the class's loader says.
fn load_outside_d1(loader: Loader, sql: &[u8], copy: &Path) -> Result<(), String> {
    match loader {
        Loader::Sqlite3 => {
            let input = [cli_preamble().into_bytes(), sql.to_vec()].concat();
            catch_unwind(AssertUnwindSafe(|| sqlite3_exec(copy, &input)))
                .map_err(|p| short(&panic_text(p)))
        }
        // The class needs a newer SQLite than the system's sqlite3 shell
        // (contentless_delete=1 needs 3.43; Debian 12 has 3.40.1), so this
        // path runs the dump with the bundled SQLite instead, as the corpus
        // tool's `load` does: a stock current SQLite, default limits.
        Loader::Bundled => corpus::load(copy, sql),
    }
}

/// Creates `class`, dumps it and imports the dump both ways; panics with
/// every problem found, each prefixed with the class and the stage.
fn run_class(name: &str, options: DumpOptions, on_d1: OnD1) {
    let class = corpus::find(name).unwrap_or_else(|e| panic!("{e}"));
    let allowances = class.allowances();
    let dir = temp_dir();
    let original = dir.path().join(format!("{name}.db"));
    corpus::create(name, &original).unwrap_or_else(|e| panic!("{e}"));

    let run = catch_unwind(AssertUnwindSafe(|| dump_db(&original, options)))
        .unwrap_or_else(|p| panic!("class {name}: [dump] {}", short(&panic_text(p))));
    let mut problems = Vec::new();
    if let Err(p) = catch_unwind(AssertUnwindSafe(|| assert_framing(&run))) {
        problems.push(format!("[dump framing] {}", short(&panic_text(p))));
    }

    // 1. Outside D1: the sqlite3 shell under D1's limits, or the bundled SQLite.
    let stage = format!("[{} import]", class.loader.name());
    let local_copy = dir.path().join("local.db");
    match load_outside_d1(class.loader, &run.sql, &local_copy) {
        Err(e) => problems.push(format!("{stage} {e}")),
        Ok(()) => {
            if let Err(e) = differences(&original, &local_copy, &allowances) {
                problems.push(format!("{stage} {e}"));
            }
        }
    }

    // 2. The restore's reader, validator and planner; batches as on D1.
    let d1_copy = dir.path().join("d1.db");
    let restored = plan(&run.sql).and_then(|batches| execute(&batches, &d1_copy));
    match (on_d1, restored) {
        (OnD1::RoundTrip, Err(e)) => problems.push(format!("[restore import] {}", short(&e))),
        (OnD1::RoundTrip, Ok(())) => {
            if let Err(e) = differences(&original, &d1_copy, &allowances) {
                problems.push(format!("[restore import] {e}"));
            }
        }
        (OnD1::FailAtCommitOnForeignKeys, Err(e))
            if e.contains("commit failed") && e.contains("FOREIGN KEY constraint failed") => {}
        (OnD1::FailAtCommitOnForeignKeys, other) => problems.push(format!(
            "[restore import] expected a commit failing on a FOREIGN KEY constraint, got {:?}",
            other.map_err(|e| short(&e))
        )),
    }

    assert!(
        problems.is_empty(),
        "class {name}: {} problem(s):\n  {}",
        problems.len(),
        problems.join("\n  ")
    );
}

#[test]
fn wide_100_columns() {
    run_class("wide_100_columns", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn without_rowid_100() {
    run_class("without_rowid_100", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn huge_values() {
    run_class("huge_values", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn long_identifiers() {
    run_class("long_identifiers", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn many_tables() {
    run_class("many_tables", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn fk_graphs() {
    run_class("fk_graphs", SMALL, OnD1::RoundTrip);
}

#[test]
fn autoincrement() {
    run_class("autoincrement", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn generated_columns() {
    run_class("generated_columns", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn check_constraints() {
    run_class("check_constraints", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn collations() {
    run_class("collations", SMALL, OnD1::RoundTrip);
}

#[test]
fn indexes() {
    run_class("indexes", SMALL, OnD1::RoundTrip);
}

#[test]
fn triggers() {
    run_class("triggers", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn views_on_views() {
    run_class("views_on_views", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn fts5() {
    // Documented (the class's allowances): a contentless FTS5 table keeps
    // no text, so the dump cannot re-insert its documents and the copy's
    // index is empty.
    run_class("fts5", DumpOptions::default(), OnD1::RoundTrip);
}

#[test]
fn fts5_contentless_delete() {
    // Restored empty like any contentless table; loaded outside D1 by the
    // bundled SQLite (see `load_outside_d1`).
    run_class(
        "fts5_contentless_delete",
        DumpOptions::default(),
        OnD1::RoundTrip,
    );
}

#[test]
fn reals() {
    run_class("reals", SMALL, OnD1::RoundTrip);
}

#[test]
fn text_edge() {
    run_class("text_edge", SMALL, OnD1::RoundTrip);
}

#[test]
fn fk_violations() {
    // A database with foreign-key violations dumps and loads into sqlite3
    // exactly. D1 cannot turn foreign keys off inside a transaction, so on
    // D1 each batch's commit checks them and fails: that is why the restore
    // job refuses such a backup at validation, before writing anything.
    run_class(
        "fk_violations",
        DumpOptions::default(),
        OnD1::FailAtCommitOnForeignKeys,
    );
}

/// By design, the dump refuses a rowid table without INTEGER PRIMARY KEY of
/// 100 columns whose names are so long that naming them all in one query
/// exceeds D1's 100,000-byte statement limit: it must name them, as `rowid,
/// *` would be 101 result columns, over D1's 100. The refusal names the
/// table and the limit. (`long_identifiers` holds the shapes it takes.)
#[test]
fn a_hundred_long_named_columns_without_integer_primary_key_are_refused_with_a_clear_reason() {
    let dir = temp_dir();
    let path = dir.path().join("refused.db");
    let columns: Vec<String> = (0..100)
        .map(|i| corpus::ident(&corpus::long_column_name(i)))
        .collect();
    create_db(
        &path,
        &format!(
            "CREATE TABLE \"many long names\"({});
             INSERT INTO \"many long names\"({}) VALUES(1);",
            columns.join(", "),
            columns[0]
        ),
    );
    let conn = open_d1_like(&path);
    let mut dump = Dump::new(DumpOptions::default()).expect("valid options");
    let mut sql = Vec::new();
    let error = loop {
        match dump.step(&mut sql) {
            Err(e) => break e.to_string(),
            Ok(Step::Query(query)) => dump.accept(run_query(&conn, &query.sql)).expect("accept"),
            Ok(Step::Done(_)) => panic!("the dump took a table it must refuse"),
        }
    };
    assert!(
        error.contains("\"many long names\"")
            && error.contains("over D1's 100000-byte statement limit"),
        "the refusal must name the table and D1's statement limit: {error}"
    );
}

/// The comparison itself: a class equals itself, and a mutated copy shows
/// exactly the mutation (table, key, column, both values).
#[test]
fn the_comparison_reports_exact_differences() {
    let dir = temp_dir();
    let original = dir.path().join("reals.db");
    corpus::create("reals", &original).expect("create");
    assert!(corpus::compare_files(&original, &original)
        .expect("compare")
        .is_empty());
    let copy = dir.path().join("copy.db");
    std::fs::copy(&original, &copy).expect("copy");
    rusqlite::Connection::open(&copy)
        .expect("open")
        .execute_batch(
            "UPDATE neg_zero SET u = 0.0 WHERE id = 1;
             UPDATE ints SET v = v - 1 WHERE id = 1;
             DELETE FROM r_key WHERE v = 3;
             UPDATE r SET t = t || 'x' WHERE id = 7;",
        )
        .expect("mutate");
    let found: Vec<String> = corpus::compare_files(&original, &copy)
        .expect("compare")
        .iter()
        .map(|d| d.to_string())
        .collect();
    assert_eq!(
        found,
        [
            "[Cell] \"r\" key rowid=INTEGER 7 column \"t\": original TEXT '4.94065645841247e-324' | copy TEXT '4.94065645841247e-324x'; first difference at byte 21 of 21 vs 22 (X'' vs X'78')",
            "[MissingRow] \"r_key\" key k=REAL 1e-1 (bits 3fb999999999999a): original row of 2 values | copy missing",
            "[Cell] \"ints\" key rowid=INTEGER 1 column \"v\": original INTEGER 9223372036854775807 | copy INTEGER 9223372036854775806",
            "[Cell] \"neg_zero\" key rowid=INTEGER 1 column \"u\": original REAL -0e0 (bits 8000000000000000) | copy REAL 0e0 (bits 0000000000000000)",
        ]
    );
    // An allowance takes out exactly what it names, and says why.
    let allow = [Allowance {
        reason: "test",
        applies: Box::new(|d: &Difference| {
            d.kind == corpus::Kind::MissingRow && d.object == "r_key"
        }),
    }];
    let (allowed, rest) = corpus::partition(
        corpus::compare_files(&original, &copy).expect("compare"),
        &allow,
    );
    assert_eq!((allowed.len(), rest.len()), (1, 3));
}
