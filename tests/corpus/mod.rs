//! The limits corpus: one small, deterministic database per limit class of
//! D1 (wide tables, 2 MB values, long identifiers, FTS5 variants, ...), and
//! an exact, typed comparison of two databases.
//!
//! Shared by `tests/limits_corpus.rs` and the `corpus` example
//! (scripts/corpus.rs), which includes this directory with `#[path]`.
//!
//! Invariants:
//! - every class is created through a connection holding D1's limits
//!   (`d1_vault::d1_limits`), so nothing in the corpus is beyond what D1
//!   itself would accept;
//! - every class has a fixed seed, so the same class always gives the same
//!   database (byte-identical content; SQLite's file layout aside);
//! - every class names the loader its dump needs ([`Loader`]) and the
//!   differences a round trip documents ([`Class::allowances`]); nothing is
//!   ever skipped silently.
//!
//! Layout: this file is the class registry; [`rng`] and [`db`] are the
//! generators' toolbox; [`shapes`], [`identifiers`], [`values`],
//! [`schema_objects`], [`foreign_keys`] and [`fts5`] build the classes;
//! [`compare`] (with [`cell`], [`rows`], [`difference`]) is the comparison;
//! [`allowance`] the documented differences; [`load`] the bundled loader.

#![allow(dead_code)] // the test and the example use different parts

mod allowance;
mod cell;
mod compare;
mod db;
mod difference;
mod foreign_keys;
mod fts5;
mod identifiers;
mod load;
mod rng;
mod rows;
mod schema_objects;
mod shapes;
mod values;

use std::path::Path;

use d1_vault::d1_limits;
use rusqlite::Connection;

// The public API; each of the test and the example uses part of it.
#[allow(unused_imports)]
pub use self::{
    allowance::{partition, Allowance},
    compare::{compare, compare_files},
    difference::{Difference, Kind},
    identifiers::long_column_name,
    load::{load, load_file},
};

use allowance::contentless_fts5_restored_empty;
use db::Db;
use rng::Rng;

/// What loads a class's dump outside D1.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Loader {
    /// The system's `sqlite3` shell (3.40 on Debian 12 suffices).
    Sqlite3,
    /// rusqlite's bundled SQLite ([`load`]): the class uses a feature newer
    /// than the system's sqlite3.
    Bundled,
}

impl Loader {
    /// `sqlite3` or `bundled`, as `corpus list --with-loader` prints it.
    pub fn name(self) -> &'static str {
        match self {
            Loader::Sqlite3 => "sqlite3",
            Loader::Bundled => "bundled",
        }
    }
}

/// One limit class of the corpus.
pub struct Class {
    /// The class's name, as `list` prints it and `create` takes it.
    pub name: &'static str,
    /// What loads its dump outside D1.
    pub loader: Loader,
    /// Its contentless FTS5 tables, restored empty by design.
    pub contentless_fts5: &'static [&'static str],
    build: fn(&mut Db) -> Result<(), String>,
}

impl Class {
    /// The differences a round trip of this class documents: the rows and
    /// MATCH hits of its contentless FTS5 tables.
    pub fn allowances(&self) -> Vec<Allowance> {
        self.contentless_fts5
            .iter()
            .map(|t| contentless_fts5_restored_empty(t))
            .collect()
    }
}

const fn class(name: &'static str, build: fn(&mut Db) -> Result<(), String>) -> Class {
    Class {
        name,
        loader: Loader::Sqlite3,
        contentless_fts5: &[],
        build,
    }
}

/// Every class, in the order `list` prints them.
pub const CLASSES: &[Class] = &[
    class("wide_100_columns", shapes::wide_100_columns),
    class("without_rowid_100", shapes::without_rowid_100),
    class("huge_values", values::huge_values),
    class("long_identifiers", identifiers::long_identifiers),
    class("many_tables", shapes::many_tables),
    class("fk_graphs", foreign_keys::fk_graphs),
    class("autoincrement", schema_objects::autoincrement),
    class("generated_columns", schema_objects::generated_columns),
    class("check_constraints", schema_objects::check_constraints),
    class("collations", schema_objects::collations),
    class("indexes", schema_objects::indexes),
    class("triggers", schema_objects::triggers),
    class("views_on_views", schema_objects::views_on_views),
    Class {
        contentless_fts5: fts5::FTS5_CONTENTLESS,
        ..class("fts5", fts5::fts5)
    },
    Class {
        // contentless_delete=1 needs SQLite 3.43; Debian 12's sqlite3 is 3.40.
        loader: Loader::Bundled,
        contentless_fts5: fts5::FTS5_CONTENTLESS_DELETE,
        ..class("fts5_contentless_delete", fts5::fts5_contentless_delete)
    },
    class("reals", values::reals),
    class("text_edge", values::text_edge),
    class("fk_violations", foreign_keys::fk_violations),
];

/// The class named `name`, or an error listing every class.
pub fn find(name: &str) -> Result<&'static Class, String> {
    CLASSES.iter().find(|c| c.name == name).ok_or_else(|| {
        let names: Vec<&str> = CLASSES.iter().map(|c| c.name).collect();
        format!(
            "unknown class {name:?}; the classes are: {}",
            names.join(", ")
        )
    })
}

/// Creates the database of class `name` at `path` (which must not exist yet).
pub fn create(name: &str, path: &Path) -> Result<(), String> {
    let class = find(name)?;
    if path.exists() {
        return Err(format!("{} exists already", path.display()));
    }
    let conn = Connection::open(path).map_err(|e| format!("open {}: {e}", path.display()))?;
    apply_d1_limits(&conn);
    let mut db = Db {
        conn,
        rng: Rng::new(seed_of(name)),
    };
    (class.build)(&mut db).map_err(|e| format!("creating class {name}: {e}"))
}

/// The connection settings that make SQLite as strict as D1.
#[path = "../support/d1_sqlite.rs"]
mod d1_sqlite;
pub use d1_sqlite::apply_d1_limits;

/// `"name"` with inner quotes doubled.
pub fn ident(name: &str) -> String {
    format!("\"{}\"", name.replace('"', "\"\""))
}

fn seed_of(class: &str) -> u64 {
    // FNV-1a: a fixed seed per class, independent of the class order.
    class.bytes().fold(0xcbf2_9ce4_8422_2325, |h, b| {
        (h ^ b as u64).wrapping_mul(0x0100_0000_01b3)
    })
}
