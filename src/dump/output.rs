//! Counting what is written, and packing rows into multi-row INSERTs.

use serde::{Deserialize, Serialize};

use super::{DumpError, MAX_STATEMENT_BYTES};

/// Counts what is written and enforces the statement limit.
#[derive(Debug, Default, Serialize, Deserialize)]
pub(crate) struct Output {
    pub(crate) statements: u64,
    pub(crate) largest: usize,
    pub(crate) bytes: u64,
}

impl Output {
    pub(crate) fn raw(&mut self, sql: &mut Vec<u8>, text: &str) {
        sql.extend_from_slice(text.as_bytes());
        self.bytes += text.len() as u64;
    }

    /// Writes one statement; `text` ends with `;\n`.
    pub(crate) fn statement(
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

/// Packs tuples into multi-row INSERT statements under a byte target.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Packer {
    pub(crate) prefix: String,
    pub(crate) open: String,
    /// One row per statement: a multi-row VALUES is a SELECT, and D1
    /// refuses one of more than 100 columns (a single-row VALUES is not
    /// checked), so the rows of a table of 100 columns and an explicit
    /// rowid are inserted one by one.
    pub(crate) one_row: bool,
}

impl Packer {
    pub(crate) fn new(prefix: String) -> Self {
        Self {
            prefix,
            open: String::new(),
            one_row: false,
        }
    }

    /// Adds a tuple, closing the open statement first if the tuple would
    /// take it past `target` bytes (with its `;\n`).
    pub(crate) fn add(
        &mut self,
        tuple: &str,
        target: usize,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<(), DumpError> {
        if !self.open.is_empty() && (self.one_row || self.open.len() + 1 + tuple.len() + 2 > target)
        {
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

    pub(crate) fn flush(
        &mut self,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<(), DumpError> {
        if self.open.is_empty() {
            return Ok(());
        }
        self.open.push_str(";\n");
        let result = output.statement(sql, &self.open, || format!("an INSERT ({})", self.prefix));
        self.open.clear();
        result
    }
}
