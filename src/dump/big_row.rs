//! An oversized row: a row too large for one statement, or holding a REAL of
//! extreme magnitude, read again value by value and written as an INSERT
//! with placeholders, UPDATEs that set the deferred values, and UPDATEs that
//! append the pieces of the values too large for one statement.

use serde::{Deserialize, Serialize};
use std::collections::VecDeque;

use super::output::Output;
use super::query::{self, PieceKind};
use super::schema::{self, TableShape};
use super::{bad_result, DumpError, Row, MAX_STATEMENT_BYTES, PIECES_PER_QUERY};

/// What the statements of one oversized row need to know about its table.
pub(crate) struct RowWriter<'a> {
    pub(crate) shape: &'a TableShape,
    pub(crate) ident: &'a str,
    pub(crate) prefix: &'a str,
    pub(crate) target: usize,
}

impl RowWriter<'_> {
    pub(crate) fn update(&self, assignments: &str, key_where: &str) -> String {
        format!(
            "UPDATE {} SET {assignments} WHERE {key_where};\n",
            self.ident
        )
    }

    /// The size a statement of this row may reach when `fixed` of its
    /// bytes are not a value: the statement target, or just enough more to
    /// leave [`MIN_PIECE_ROOM`] for values when long names or a long key
    /// take most of the target (it may then exceed the target, never D1's
    /// limit: see [`RowWriter::piece_room`]).
    pub(crate) fn limit_for(&self, fixed: usize) -> usize {
        self.target.max(fixed + MIN_PIECE_ROOM)
    }

    /// Bytes a piece's literal may take in the UPDATEs that append to the
    /// dump column `column` of the row named by `key_where`: what the
    /// longest such UPDATE (a numeric-affinity `CAST(..)` and an `X''`
    /// wrapper) leaves under the statement target, and at least
    /// [`MIN_PIECE_ROOM`] (a long table name, column name or key may take
    /// the statement past the target, as a long column list does the
    /// INSERTs), so a piece of one character (at most 6 bytes as a literal)
    /// always fits; an error when that would reach D1's limit.
    pub(crate) fn piece_room(&self, column: usize, key_where: &str) -> Result<usize, DumpError> {
        let name = &self.shape.columns[column].sql_name;
        let frame = self
            .update(&format!("{name} = CAST({name} ||  AS TEXT)"), key_where)
            .len()
            + "X''".len();
        let limit = self.limit_for(frame);
        if limit < MAX_STATEMENT_BYTES {
            Ok(limit - frame)
        } else {
            Err(DumpError::StatementTooLarge {
                what: format!(
                    "an UPDATE appending a piece to column {name} of {:?}",
                    self.shape.name
                ),
                bytes: frame + MIN_PIECE_ROOM,
            })
        }
    }
}

/// One value of an oversized row, as the row detail query reports it.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct Cell {
    pub(crate) kind: String,
    pub(crate) bytes: u64,
    pub(crate) chars: u64,
    pub(crate) hex: bool,
    pub(crate) literal: Option<String>,
}

impl Cell {
    pub(crate) fn is_deferrable(&self) -> bool {
        self.kind == "text" || self.kind == "blob"
    }

    /// Bytes of its literal (estimated from below when not read).
    pub(crate) fn size(&self) -> usize {
        match &self.literal {
            Some(literal) => literal.len(),
            None if self.kind == "blob" => 2 * self.bytes as usize + 3,
            None if self.hex => 2 * self.bytes as usize + query::HEX_TEXT_OVERHEAD,
            None => self.bytes as usize + 2,
        }
    }

    pub(crate) fn placeholder(&self) -> &'static str {
        if self.kind == "blob" {
            "X''"
        } else {
            "''"
        }
    }
}

/// An oversized value being appended piece by piece.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct PieceCell {
    pub(crate) column: usize,
    pub(crate) kind: PieceKind,
    /// The type and byte size the value must still have.
    pub(crate) expected: String,
    /// Units (characters or bytes) in the value, the next one to read
    /// (1-based), and how many to read per piece.
    pub(crate) units: u64,
    pub(crate) next: u64,
    pub(crate) span: u64,
    /// Bytes of the value in the value, already appended, and read per
    /// piece in hex, for text that turns out not to be UTF-8 midway.
    pub(crate) bytes: u64,
    pub(crate) bytes_done: u64,
    pub(crate) byte_span: u64,
}

impl PieceCell {
    /// Reads the rest of a [`PieceKind::Text`] value by bytes in hex: its
    /// next piece came back with a U+FFFD, so it holds bytes that are not
    /// UTF-8.
    pub(crate) fn switch_to_bytes(&mut self) {
        self.kind = PieceKind::TextBytes;
        self.units = self.bytes;
        self.next = self.bytes_done + 1;
        self.span = self.byte_span;
    }
}

#[derive(Debug, Serialize, Deserialize)]
pub(crate) enum BigStage {
    /// The row's values are to be read.
    Detail,
    /// REALs of extreme magnitude are being read exactly, one by one.
    ExactReals(Vec<Cell>),
    /// The row is inserted; oversized values are being appended.
    Pieces(VecDeque<PieceCell>),
}

/// An oversized row being written.
#[derive(Debug, Serialize, Deserialize)]
pub(crate) struct BigRow {
    pub(crate) key: Vec<String>,
    pub(crate) literal_limit: usize,
    pub(crate) stage: BigStage,
}

pub(crate) enum BigStep {
    Query(String, &'static str),
    Inserted,
    Done,
}

impl BigRow {
    pub(crate) fn new(key: Vec<String>, literal_limit: usize) -> Self {
        Self {
            key,
            literal_limit,
            stage: BigStage::Detail,
        }
    }

    pub(crate) fn buffered_bytes(&self) -> usize {
        let cells = match &self.stage {
            BigStage::ExactReals(cells) => cells
                .iter()
                .map(|c| c.literal.as_ref().map_or(0, String::len))
                .sum(),
            _ => 0,
        };
        self.key.iter().map(String::len).sum::<usize>() + cells
    }

    pub(crate) fn advance(
        &mut self,
        rows: Option<Vec<Row>>,
        writer: &RowWriter,
        output: &mut Output,
        sql: &mut Vec<u8>,
    ) -> Result<BigStep, DumpError> {
        let key_where = query::key_where(writer.shape, &self.key);
        let table = writer.shape.name.as_str();
        // Room for a piece's literal in the statements that carry pieces,
        // under D1's limit (see RowWriter::piece_room).
        if key_where.len() + writer.ident.len() + 2 * MIN_PIECE_ROOM > MAX_STATEMENT_BYTES - 1 {
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
                let mut cells = parse_detail(writer.shape, &self.key, rows)?;
                // The key names the row in every statement: write it exactly
                // as the page read it, never deferred.
                for (&i, literal) in key_columns(writer.shape).iter().zip(&self.key) {
                    cells[i].literal = Some(literal.clone());
                }
                self.stage = BigStage::ExactReals(cells);
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
                // Each UPDATE is at most the longest frame plus the literal.
                let literal_room = writer.piece_room(cell.column, &key_where)?;
                let remaining_pieces = (cell.units + 1)
                    .saturating_sub(cell.next)
                    .div_ceil(cell.span.max(1)) as usize;
                let count = remaining_pieces.min(PIECES_PER_QUERY);
                if count == 0 {
                    return Err(DumpError::NoProgress {
                        table: table.into(),
                        detail: format!(
                            "no piece of column {c} left to read, yet it is unfinished"
                        ),
                    });
                }
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
                        // One character always fits (piece_room), so a
                        // NULL then means the query cannot make progress.
                        if cell.span <= 1 {
                            return Err(DumpError::NoProgress {
                                table: table.into(),
                                detail: format!(
                                    "a one-character piece of column {c} came back NULL, over {literal_room} bytes"
                                ),
                            });
                        }
                        cell.span /= 2;
                        break;
                    };
                    if cell.kind == PieceKind::Text && piece.contains(query::REPLACEMENT) {
                        cell.switch_to_bytes();
                        break;
                    }
                    let literal = match cell.kind {
                        PieceKind::Text => {
                            let inner = piece
                                .get(1..piece.len().saturating_sub(1))
                                .unwrap_or_default();
                            cell.bytes_done += (inner.len() - inner.matches("''").count()) as u64;
                            piece
                        }
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

/// The dump columns of a WITHOUT ROWID table's primary key, in key order.
pub(crate) fn key_columns(shape: &TableShape) -> &[usize] {
    match &shape.key {
        schema::KeyShape::PrimaryKey { columns } => columns,
        schema::KeyShape::Rowid { .. } => &[],
    }
}

/// The least room a piece's literal must have in its statement.
pub(crate) const MIN_PIECE_ROOM: usize = 256;

/// Reads the row detail query's result ([`query::row_detail`]): one value
/// per dump column that is a column of `SELECT *`; an explicit rowid is the
/// row's key, `key[0]`.
pub(crate) fn parse_detail(
    shape: &TableShape,
    key: &[String],
    rows: Vec<Row>,
) -> Result<Vec<Cell>, DumpError> {
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
    let read = shape.columns.iter().filter(|c| c.star.is_some()).count();
    if row.len() != read {
        return Err(bad_result(
            table,
            format!("expected {read} columns, got {}", row.len()),
        ));
    }
    let mut cells = Vec::with_capacity(shape.columns.len());
    let mut values = row.into_iter();
    for column in &shape.columns {
        if column.star.is_none() {
            let rowid = key.first().cloned().unwrap_or_default();
            cells.push(Cell {
                kind: "integer".into(),
                bytes: rowid.len() as u64,
                chars: rowid.len() as u64,
                hex: false,
                literal: Some(rowid),
            });
            continue;
        }
        let value = values.next().flatten().unwrap_or_default();
        let (meta, literal) = match value.split_once(query::DETAIL_SEPARATOR) {
            Some((meta, literal)) => (meta, Some(literal.to_string())),
            None => (value.as_str(), None),
        };
        let parts: Vec<&str> = meta.split(' ').collect();
        let parsed = match parts.as_slice() {
            [kind, bytes, chars, nul] => bytes
                .parse()
                .ok()
                .zip(chars.parse().ok())
                .map(|(b, c)| (*kind, b, c, *nul == "1")),
            _ => None,
        };
        let Some((kind, bytes, chars, hex)) = parsed else {
            return Err(bad_result(
                table,
                format!("unreadable value description {meta:?}"),
            ));
        };
        if literal.is_none() && !matches!(kind, "text" | "blob" | "real") {
            return Err(bad_result(table, format!("no literal for a {kind} value")));
        }
        // Bytes that are not UTF-8 came as U+FFFD: read them in hex pieces.
        let damaged = literal
            .as_ref()
            .is_some_and(|l| l.contains(query::REPLACEMENT));
        let (literal, hex) = if damaged {
            (None, true)
        } else {
            (literal, hex)
        };
        cells.push(Cell {
            kind: kind.into(),
            bytes,
            chars,
            hex,
            literal,
        });
    }
    Ok(cells)
}

/// Writes the INSERT of an oversized row with its largest values deferred,
/// and UPDATEs for the deferred values that fit in one statement; returns the
/// values still to be written in pieces.
pub(crate) fn write_split_row(
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
    // largest others until the INSERT fits the target (or all of them, when
    // a long column list leaves too little of it). A value no longer
    // than its placeholder (an empty TEXT or BLOB) is never deferred: that
    // would gain nothing, and it has no piece to append.
    for (i, cell) in cells.iter().enumerate() {
        deferred[i] = cell.literal.is_none();
    }
    let keys = key_columns(writer.shape);
    let mut candidates: Vec<usize> = (0..cells.len())
        .filter(|&i| {
            cells[i].is_deferrable()
                && !deferred[i]
                && !keys.contains(&i)
                && cells[i].size() > cells[i].placeholder().len()
        })
        .collect();
    candidates.sort_by_key(|&i| std::cmp::Reverse(cells[i].size()));
    let limit = {
        let mut all = deferred.clone();
        for &i in &candidates {
            all[i] = true;
        }
        writer.target.max(insert_len(&all))
    };
    for &i in &candidates {
        if insert_len(&deferred) <= limit {
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

    // Deferred values that fit whole: as few UPDATEs as the target allows
    // (with MIN_PIECE_ROOM for a value when names and key take most of it).
    let frame = writer.update("", key_where).len();
    let mut assignments: Vec<String> = Vec::new();
    let mut length = frame;
    let mut pieces = VecDeque::new();
    for (i, cell) in cells.iter().enumerate().filter(|(i, _)| deferred[*i]) {
        let name = &writer.shape.columns[i].sql_name;
        let limit = writer.limit_for(frame + name.len() + 3);
        match &cell.literal {
            Some(literal) if frame + name.len() + 3 + literal.len() <= limit => {
                let assignment = format!("{name} = {literal}");
                if !assignments.is_empty() && length + 2 + assignment.len() > limit {
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
            _ => pieces.push_back(piece_cell(i, cell, writer, key_where)?),
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
/// from its average bytes per character; by bytes for BLOBs and for text
/// written in hex form (NUL, CR, U+FFFD or bytes that are not UTF-8).
pub(crate) fn piece_cell(
    column: usize,
    cell: &Cell,
    writer: &RowWriter,
    key_where: &str,
) -> Result<PieceCell, DumpError> {
    let room = writer.piece_room(column, key_where)? as u64;
    let expected = format!("{} {}", cell.kind, cell.bytes);
    if cell.kind == "blob" || cell.hex {
        let kind = if cell.kind == "blob" {
            PieceKind::Blob
        } else {
            PieceKind::TextBytes
        };
        return Ok(PieceCell {
            column,
            kind,
            expected,
            units: cell.bytes,
            next: 1,
            span: room / 2,
            bytes: cell.bytes,
            bytes_done: 0,
            byte_span: room / 2,
        });
    }
    // Aim a little under the room: quotes are doubled in the literal.
    let chars = cell.chars.max(1);
    let span = (room * 9 / 10 * chars / cell.bytes.max(1)).max(1);
    Ok(PieceCell {
        column,
        kind: PieceKind::Text,
        expected,
        units: chars,
        next: 1,
        span,
        bytes: cell.bytes,
        bytes_done: 0,
        byte_span: room / 2,
    })
}
