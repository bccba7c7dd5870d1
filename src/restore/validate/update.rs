//! The UPDATE rules for rows too large for one statement: the dump writes
//! such a row as a one-row INSERT followed by UPDATEs of the same table
//! (`SET c = c || <piece>`, ...), and each UPDATE must name exactly the
//! row the INSERT wrote, by its key, with the INSERT's own literals.

use super::{
    column_name, describe, is_internal, is_literal, qualified_name, reject, split_top_level,
    Reject, RejectReason, TableEntry, Tokens, Validator,
};
use crate::restore::lex::{Lexer, Token, TokenKind};
use serde::{Deserialize, Serialize};

/// How a statement addresses one row of a table: what the WHERE of an
/// UPDATE completing a row must name.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum KeyShape {
    /// By rowid: any of `names` (lowercase: the INTEGER PRIMARY KEY column,
    /// and `rowid`, `_rowid_`, `oid` unless a column takes that name).
    Rowid { names: Vec<String> },
    /// By the PRIMARY KEY columns (WITHOUT ROWID), lowercase, in any order.
    PrimaryKey { columns: Vec<String> },
}

/// A literal value as compared between an INSERT and an UPDATE's WHERE:
/// its tokens, with keywords and hex digits uppercased.
type LiteralSig = Vec<(TokenKind, String)>;

fn literal_sig(tokens: &[Token]) -> LiteralSig {
    tokens
        .iter()
        .map(|t| match t.kind {
            TokenKind::Word | TokenKind::Blob => (t.kind, t.text.to_ascii_uppercase()),
            _ => (t.kind, t.text.to_string()),
        })
        .collect()
}

/// The key of the row a one-row INSERT just wrote: which column names
/// address it and with which literal.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum RowKey {
    /// Any one of `names` equal to `value`.
    Rowid {
        names: Vec<String>,
        value: LiteralSig,
    },
    /// Every one of these columns equal to its literal.
    PrimaryKey(Vec<(String, LiteralSig)>),
    /// The INSERT does not give the key (a rowid SQLite assigns itself):
    /// no UPDATE can name that row.
    Unknown,
}

impl RowKey {
    /// The literal a key column of this name has, if it is a key column.
    fn value_of(&self, column: &str) -> Option<&LiteralSig> {
        match self {
            RowKey::Rowid { names, value } => names.iter().any(|n| n == column).then_some(value),
            RowKey::PrimaryKey(columns) => {
                columns.iter().find(|(c, _)| c == column).map(|(_, v)| v)
            }
            RowKey::Unknown => None,
        }
    }

    /// Whether `conditions` (`column = literal`, lowercase names) name
    /// exactly this row by its key.
    fn matches(&self, conditions: &[(String, LiteralSig)]) -> bool {
        match self {
            RowKey::Rowid { names, value } => match conditions {
                [(column, literal)] => names.contains(column) && literal == value,
                _ => false,
            },
            RowKey::PrimaryKey(columns) => {
                conditions.len() == columns.len()
                    && columns.iter().all(|(column, value)| {
                        conditions.iter().filter(|(c, _)| c == column).count() == 1
                            && conditions.iter().any(|(c, v)| c == column && v == value)
                    })
            }
            RowKey::Unknown => false,
        }
    }
}

/// The statement before the current one, for the UPDATE rules.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(super) enum Previous {
    /// A one-row INSERT into, or an UPDATE of, the table (lowercase name),
    /// and that row's key.
    RowOf(String, RowKey),
    Other,
}

impl Validator {
    /// Checks a dump-style UPDATE; returns what the next statement follows.
    pub(super) fn update(&self, sql: &str, tokens: &mut Tokens) -> Result<Previous, Reject> {
        let kind_found = describe(sql);
        if tokens.peek().is_some_and(|t| t.is_word("OR")) {
            return reject(kind_found, RejectReason::ConflictClause);
        }
        let table = qualified_name(tokens, &kind_found)?;
        let kind_found = format!("UPDATE {table}");
        let lower = table.to_ascii_lowercase();
        if is_internal(&table) {
            return reject(kind_found, RejectReason::InternalTable { table });
        }
        if self.table(&table).is_none() {
            return reject(kind_found, RejectReason::UnknownTable { table });
        }
        if !tokens.next().is_some_and(|t| t.is_word("SET")) {
            return reject(kind_found, RejectReason::UpdateForm);
        }
        let rest: Vec<Token> = tokens.collect();
        let Some(where_at) = rest.iter().position(|t| t.is_word("WHERE")) else {
            return reject(kind_found, RejectReason::UpdateForm);
        };
        let mut assigned = Vec::new();
        for assignment in split_top_level(&rest[..where_at], |t| t.is_punct(',')) {
            let [column, equals, value @ ..] = assignment else {
                return reject(kind_found, RejectReason::UpdateForm);
            };
            let Some(column) = column_name(column).filter(|_| equals.is_punct('=')) else {
                return reject(kind_found, RejectReason::UpdateForm);
            };
            assigned.push((column.to_ascii_lowercase(), literal_sig(value)));
            let same = |t: &Token| column_name(t).is_some_and(|c| c.eq_ignore_ascii_case(&column));
            let literal = match value {
                // c = c || <piece>
                [c, concat, piece @ ..] if same(c) && concat.kind == TokenKind::Concat => piece,
                // c = CAST(c || <piece> AS BLOB|TEXT)
                [cast, open, c, concat, piece @ .., r#as, type_name, close]
                    if cast.is_word("CAST")
                        && open.is_punct('(')
                        && same(c)
                        && concat.kind == TokenKind::Concat
                        && r#as.is_word("AS")
                        && (type_name.is_word("BLOB") || type_name.is_word("TEXT"))
                        && close.is_punct(')') =>
                {
                    piece
                }
                _ => value,
            };
            if literal.is_empty() || !is_literal(literal) {
                return reject(kind_found, RejectReason::UpdateForm);
            }
        }
        let mut conditions = Vec::new();
        let mut terms = Vec::new();
        conjunction_terms(&rest[where_at + 1..], &mut terms);
        for condition in terms {
            match condition {
                [column, equals, value @ ..]
                    if equals.is_punct('=') && !value.is_empty() && is_literal(value) =>
                {
                    let Some(column) = column_name(column) else {
                        return reject(kind_found, RejectReason::UpdateForm);
                    };
                    conditions.push((column.to_ascii_lowercase(), literal_sig(value)));
                }
                _ => return reject(kind_found, RejectReason::UpdateForm),
            }
        }
        let key = match &self.previous {
            Previous::RowOf(previous, key) if *previous == lower => key,
            _ => return reject(kind_found, RejectReason::UpdateOutOfPlace { table }),
        };
        // The WHERE names exactly the row just inserted, by its key, and no
        // assignment moves that row to another key.
        let moves_row = assigned
            .iter()
            .any(|(column, value)| key.value_of(column).is_some_and(|key| key != value));
        if !key.matches(&conditions) || moves_row {
            return reject(kind_found, RejectReason::UpdateOtherRow { table });
        }
        Ok(Previous::RowOf(lower, key.clone()))
    }
}

/// The key of the one row an INSERT into `table` writes: `columns` is the
/// INSERT's column list (empty for none), `tuple` its `(v1, v2, ...)`.
pub(super) fn row_key(table: &TableEntry, columns: &[String], tuple: &str) -> RowKey {
    let tokens: Vec<Token> = Lexer::new(tuple).collect();
    let inner = match tokens.as_slice() {
        [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
        _ => return RowKey::Unknown,
    };
    let values = split_top_level(inner, |t| t.is_punct(','));
    let lowered: Vec<String>;
    let names: &[String] = if columns.is_empty() {
        &table.insert_columns
    } else {
        lowered = columns.iter().map(|c| c.to_ascii_lowercase()).collect();
        &lowered
    };
    if names.len() != values.len() {
        return RowKey::Unknown;
    }
    let value_of = |column: &str| {
        names
            .iter()
            .position(|n| n == column)
            .map(|i| literal_sig(values[i]))
    };
    match &table.key {
        KeyShape::Rowid { names } => match names.iter().find_map(|n| value_of(n)) {
            Some(value) => RowKey::Rowid {
                names: names.clone(),
                value,
            },
            None => RowKey::Unknown,
        },
        KeyShape::PrimaryKey { columns } if !columns.is_empty() => columns
            .iter()
            .map(|c| value_of(c).map(|v| (c.clone(), v)))
            .collect::<Option<Vec<_>>>()
            .map_or(RowKey::Unknown, RowKey::PrimaryKey),
        KeyShape::PrimaryKey { .. } => RowKey::Unknown,
    }
}

/// The terms of a conjunction, in order: `a = 1 AND (b = 2 AND c = 3)`
/// gives the three equalities. The dump writes a key's conditions as a
/// balanced tree of ANDs, so that a key of 100 columns stays under D1's
/// expression depth of 100.
fn conjunction_terms<'t, 'a>(tokens: &'t [Token<'a>], terms: &mut Vec<&'t [Token<'a>]>) {
    let inner = without_enclosing_parentheses(tokens);
    let parts = split_top_level(inner, |t| t.is_word("AND"));
    if parts.len() == 1 && inner.len() == tokens.len() {
        terms.push(tokens);
        return;
    }
    for part in parts {
        conjunction_terms(part, terms);
    }
}

/// `tokens` without one pair of parentheses that encloses all of them.
fn without_enclosing_parentheses<'t, 'a>(tokens: &'t [Token<'a>]) -> &'t [Token<'a>] {
    let [open, inner @ .., close] = tokens else {
        return tokens;
    };
    if !open.is_punct('(') || !close.is_punct(')') {
        return tokens;
    }
    let mut depth = 0usize;
    for token in inner {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            // `(a) AND (b)`: the first ')' closes the first '(' early.
            let Some(d) = depth.checked_sub(1) else {
                return tokens;
            };
            depth = d;
        }
    }
    inner
}
