//! The limits corpus tool: creates the databases of the limits corpus (one
//! small deterministic database per D1 limit class), loads a dump with the
//! bundled SQLite, and compares two databases exactly and by type.
//!
//! ```text
//! cargo run --release --example corpus -- list [--with-loader]
//! cargo run --release --example corpus -- create <class> <out.db>
//! cargo run --release --example corpus -- load <out.db> <dump.sql>
//! cargo run --release --example corpus -- compare <a.db> <b.db> [--class <class>]
//! ```
//!
//! `list` prints one class a line; with `--with-loader`, `<class>\t<loader>`,
//! where the loader is `sqlite3` (the system's sqlite3 shell can load the
//! class's dump) or `bundled` (it cannot: the class uses a newer SQLite
//! feature, so load its dump with `load`). `load` runs a dump into a new
//! database with rusqlite's bundled SQLite (a current SQLite, default
//! limits). `compare` exits 0 when the databases are equal, else prints
//! every difference and exits 1; with `--class`, the differences the class
//! documents (contentless FTS5 tables restored empty) are allowed and
//! printed as allowed. Every subcommand exits 2 on a usage or I/O error.

#[path = "../tests/corpus/mod.rs"]
mod corpus;

use std::path::Path;
use std::process::ExitCode;

const USAGE: &str = "usage: corpus list [--with-loader]
       corpus create <class> <out.db>
       corpus load <out.db> <dump.sql>
       corpus compare <a.db> <b.db> [--class <class>]
list --with-loader prints <class>\\t<loader> per line; the loader is
sqlite3 (the sqlite3 shell loads the class's dump) or bundled (use load).";

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let words: Vec<&str> = args.iter().map(String::as_str).collect();
    let result = match words.as_slice() {
        ["list"] => list(false),
        ["list", "--with-loader"] => list(true),
        ["create", class, out] => corpus::create(class, Path::new(out))
            .map(|()| eprintln!("created {class} at {out}"))
            .map(|()| ExitCode::SUCCESS),
        ["load", out, dump] => corpus::load_file(Path::new(out), Path::new(dump))
            .map(|()| eprintln!("loaded {dump} into {out}"))
            .map(|()| ExitCode::SUCCESS),
        ["compare", a, b] => compare(a, b, None),
        ["compare", a, b, "--class", class] => compare(a, b, Some(class)),
        _ => Err(USAGE.to_string()),
    };
    result.unwrap_or_else(|e| {
        eprintln!("corpus: {e}");
        ExitCode::from(2)
    })
}

fn list(with_loader: bool) -> Result<ExitCode, String> {
    for class in corpus::CLASSES {
        if with_loader {
            println!("{}\t{}", class.name, class.loader.name());
        } else {
            println!("{}", class.name);
        }
    }
    Ok(ExitCode::SUCCESS)
}

/// Compares `a` with `b`, allowing what `class` documents: exit 0 when no
/// other difference is left, else 1.
fn compare(a: &str, b: &str, class: Option<&str>) -> Result<ExitCode, String> {
    let allowances = match class {
        Some(name) => corpus::find(name)?.allowances(),
        None => Vec::new(),
    };
    let differences = corpus::compare_files(Path::new(a), Path::new(b))?;
    let (allowed, rest) = corpus::partition(differences, &allowances);
    for (d, reason) in &allowed {
        println!("allowed ({reason}): {d}");
    }
    for d in &rest {
        println!("{d}");
    }
    if !rest.is_empty() {
        eprintln!("{} differences", rest.len());
        return Ok(ExitCode::from(1));
    }
    if allowed.is_empty() {
        eprintln!("equal");
    } else {
        eprintln!("equal ({} allowed differences)", allowed.len());
    }
    Ok(ExitCode::SUCCESS)
}
