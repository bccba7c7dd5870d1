//! Writes the format's test vectors: `cargo run --example gen_test_vectors -- tests/vectors`
//! (or `scripts/gen-test-vectors`). The output is deterministic, and
//! `tests/format_vectors.rs` fails when the committed vectors differ from it.

#[path = "../tests/vectors/generator.rs"]
mod generator;

use std::path::PathBuf;
use std::process::ExitCode;

fn main() -> ExitCode {
    let dir = std::env::args_os()
        .nth(1)
        .map(PathBuf::from)
        .unwrap_or_else(|| PathBuf::from("tests/vectors"));
    match generator::write_all(&dir) {
        Ok(()) => {
            eprintln!("wrote test vectors to {}", dir.display());
            ExitCode::SUCCESS
        }
        Err(err) => {
            eprintln!("gen_test_vectors: writing {}: {err}", dir.display());
            ExitCode::FAILURE
        }
    }
}
