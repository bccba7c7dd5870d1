//! [`Cell`]: one stored value, exactly (its storage class, INTEGER as i64,
//! REAL by its bits, TEXT and BLOB by their bytes, valid UTF-8 or not), and
//! how a difference between two cells is shown: the start of each value,
//! its size, and where two values of equal type first differ.

use std::fmt;

use rusqlite::types::ValueRef;

/// One stored value, exactly: REALs by their bits, TEXT by its bytes.
#[derive(Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Cell {
    Null,
    Integer(i64),
    Real(u64),
    Text(Vec<u8>),
    Blob(Vec<u8>),
}

impl Cell {
    /// The exact cell of a value read from SQLite.
    pub(super) fn from_ref(value: ValueRef<'_>) -> Cell {
        match value {
            ValueRef::Null => Cell::Null,
            ValueRef::Integer(i) => Cell::Integer(i),
            ValueRef::Real(f) => Cell::Real(f.to_bits()),
            // rusqlite hands TEXT over as the stored bytes
            // (sqlite3_column_text + sqlite3_column_bytes): no UTF-8
            // check, NULs kept, so invalid UTF-8 compares exactly.
            ValueRef::Text(bytes) => Cell::Text(bytes.to_vec()),
            ValueRef::Blob(bytes) => Cell::Blob(bytes.to_vec()),
        }
    }

    fn type_name(&self) -> &'static str {
        match self {
            Cell::Null => "NULL",
            Cell::Integer(_) => "INTEGER",
            Cell::Real(_) => "REAL",
            Cell::Text(_) => "TEXT",
            Cell::Blob(_) => "BLOB",
        }
    }
}

const SHOWN_BYTES: usize = 60;

fn show_bytes(bytes: &[u8], text: bool) -> String {
    let mut head = &bytes[..bytes.len().min(SHOWN_BYTES)];
    if let Err(e) = std::str::from_utf8(head) {
        if e.error_len().is_none() && bytes.len() > SHOWN_BYTES {
            head = &head[..e.valid_up_to()]; // cut inside a character
        }
    }
    let shown = if text {
        match std::str::from_utf8(head) {
            Ok(s) => format!("'{}'", s.escape_debug()),
            Err(_) => format!(
                "'{}' (not UTF-8: X'{}')",
                String::from_utf8_lossy(head).escape_debug(),
                hex(head)
            ),
        }
    } else {
        format!("X'{}'", hex(head))
    };
    if bytes.len() > SHOWN_BYTES {
        format!("{shown}... ({} bytes)", bytes.len())
    } else {
        shown
    }
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02X}")).collect()
}

impl fmt::Display for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Cell::Null => write!(f, "NULL"),
            Cell::Integer(i) => write!(f, "INTEGER {i}"),
            Cell::Real(bits) => write!(f, "REAL {:e} (bits {bits:016x})", f64::from_bits(*bits)),
            Cell::Text(b) => write!(f, "TEXT {}", show_bytes(b, true)),
            Cell::Blob(b) => write!(f, "BLOB {}", show_bytes(b, false)),
        }
    }
}

impl fmt::Debug for Cell {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Display::fmt(self, f)
    }
}

/// Two cells of equal type and length that differ: where they first do.
pub(super) fn first_difference(a: &Cell, b: &Cell) -> String {
    match (a, b) {
        (Cell::Text(x), Cell::Text(y)) | (Cell::Blob(x), Cell::Blob(y)) => {
            let at = x
                .iter()
                .zip(y)
                .position(|(p, q)| p != q)
                .unwrap_or(x.len().min(y.len()));
            let window = |v: &[u8]| hex(&v[at.min(v.len())..(at + 16).min(v.len())]);
            format!(
                "; first difference at byte {at} of {} vs {} (X'{}' vs X'{}')",
                x.len(),
                y.len(),
                window(x),
                window(y)
            )
        }
        _ => String::new(),
    }
}
