//! Documented differences: an [`Allowance`] names the differences it
//! allows and why, and [`partition`] splits a comparison's differences into
//! the allowed ones (each kept with its reason, for the report) and the
//! rest. Nothing is ever dropped silently.

use super::difference::{Difference, Kind};

/// A documented difference a caller expects, with its reason.
pub struct Allowance {
    pub reason: &'static str,
    pub applies: Box<dyn Fn(&Difference) -> bool>,
}

/// Splits `differences` into the allowed ones (each with the reason that
/// allowed it) and the rest.
pub fn partition(
    differences: Vec<Difference>,
    allowances: &[Allowance],
) -> (Vec<(Difference, &'static str)>, Vec<Difference>) {
    let mut allowed = Vec::new();
    let mut rest = Vec::new();
    for d in differences {
        match allowances.iter().find(|a| (a.applies)(&d)) {
            Some(a) => allowed.push((d, a.reason)),
            None => rest.push(d),
        }
    }
    (allowed, rest)
}

/// The allowance for a contentless FTS5 table (`content=''`) restored with
/// an empty index: its rows (rowids with NULL columns) and its MATCH hits
/// are missing from the copy, and nothing else may differ.
pub fn contentless_fts5_restored_empty(table: &'static str) -> Allowance {
    Allowance {
        reason: "a contentless FTS5 table keeps no text, so it is restored empty (documented)",
        applies: Box::new(move |d| {
            d.object == table
                && (d.kind == Kind::MissingRow || (d.kind == Kind::FtsMatch && d.copy == "no rows"))
        }),
    }
}
