//! The cursor that writes the rows of one table: pages of rows in key
//! order, packed into multi-row INSERTs, and each oversized row handed to
//! [`BigRow`].

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::big_row::{BigRow, BigStep, RowWriter, MIN_PIECE_ROOM};
use super::output::{Output, Packer};
use super::schema::TableShape;
use super::{
    bad_result, query, quote_ident, DumpError, DumpOptions, Query, Row, INITIAL_PAGE_ROWS,
    MAX_QUERY_BYTES, MAX_STATEMENT_BYTES, MIN_STATEMENT_TARGET_BYTES,
};

/// A row of a page: its key literals and its tuple, unless the row must be
/// read again value by value (too large for one statement, or holding a
/// REAL of extreme magnitude).
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PageRow {
    pub(crate) key: Vec<String>,
    pub(crate) tuple: Option<String>,
}

/// Writes the rows of one table.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct TableCursor {
    pub(crate) table: usize,
    pub(crate) shape: TableShape,
    pub(crate) ident: String,
    pub(crate) insert: Packer,
    /// Largest tuple written in a multi-row INSERT; larger rows are split.
    pub(crate) tuple_budget: usize,
    pub(crate) after: Option<Vec<String>>,
    pub(crate) limit: usize,
    pub(crate) exhausted: bool,
    pub(crate) page: VecDeque<PageRow>,
    pub(crate) big: Option<BigRow>,
    pub(crate) rows_written: u64,
}

impl TableCursor {
    pub(crate) fn new(
        table: usize,
        shape: TableShape,
        options: &DumpOptions,
    ) -> Result<Self, DumpError> {
        let ident = quote_ident(&shape.name);
        let one_row = shape.columns.len() > crate::d1_limits::MAX_COLUMNS;
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
            insert: Packer {
                one_row,
                ..Packer::new(prefix)
            },
            tuple_budget,
            after: None,
            limit: INITIAL_PAGE_ROWS.min(options.max_page_rows),
            exhausted: false,
            page: VecDeque::new(),
            big: None,
            rows_written: 0,
        })
    }

    pub(crate) fn buffered_bytes(&self) -> usize {
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
    pub(crate) fn advance(
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
                        // Values are read whole up to the statement target
                        // (the tuple budget exceeds it only for a long
                        // column list), larger ones in pieces: the literals
                        // held meanwhile stay under twice the target each.
                        self.big = Some(BigRow::new(row.key, self.tuple_budget.min(target)));
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
            if row.len() != 4 {
                return Err(bad_result(
                    &context,
                    format!("expected 4 columns, got {}", row.len()),
                ));
            }
            let mut values = row.into_iter();
            // The key literals, joined by query::KEY_SEPARATOR; NULL when a
            // key value is too large to name the row.
            let Some(joined) = values.next().flatten() else {
                return Err(DumpError::OversizedKey {
                    table: self.shape.name.clone(),
                    bytes: self.tuple_budget + 1,
                });
            };
            let key = joined
                .split(query::KEY_SEPARATOR)
                .map(|literal| {
                    query::decode_exact_real(literal.to_string())
                        .ok_or_else(|| bad_result(&context, "a malformed exact REAL key"))
                })
                .collect::<Result<Vec<String>, DumpError>>()?;
            if key.len() != keys {
                return Err(bad_result(
                    &context,
                    format!("expected {keys} key literals, got {}", key.len()),
                ));
            }
            let number = |value: Option<Option<String>>, what: &str| -> Result<usize, DumpError> {
                value
                    .flatten()
                    .and_then(|v| v.parse().ok())
                    .ok_or_else(|| bad_result(&context, format!("{what} is not a number")))
            };
            let size = number(values.next(), "the tuple size")?;
            inner_total = number(values.next(), "the page row count")?;
            // A U+FFFD stands for bytes that are not UTF-8 (see the module
            // doc): such a row is read again value by value, in hex.
            let tuple = values
                .next()
                .flatten()
                .filter(|t| !t.contains(query::REPLACEMENT));
            bytes += size.min(self.tuple_budget + 1);
            // Keys strictly increase: the page is read after the last key,
            // in key order. A key equal to the one before means its literal
            // does not name its value exactly, and the next page would
            // start there again, forever.
            if self.after.as_ref() == Some(&key) {
                return Err(DumpError::NoProgress {
                    table: self.shape.name.clone(),
                    detail: format!(
                        "the rows after key {} began with that key again",
                        key.join(", ").chars().take(200).collect::<String>()
                    ),
                });
            }
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
