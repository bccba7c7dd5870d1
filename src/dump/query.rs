//! The SQL text of the queries that read rows, oversized rows and pieces of
//! oversized values. Every value they return is TEXT or NULL, so nothing
//! loses precision on its way through JavaScript and JSON.

use super::schema::{KeyShape, TableShape};
use super::{REAL_DECIMAL_MAX, REAL_DECIMAL_MIN};

/// An alias for the `i`th dump column inside the queries: short names keep
/// the queries small whatever the real column names are.
fn alias(i: usize) -> String {
    format!("c{i}")
}

/// SQL for the literal that re-creates the value of column `c` exactly:
/// REALs of ordinary magnitude as 17 significant digits (which every SQLite
/// reads back exactly), zero and infinities, INTEGERs, BLOBs and NULL as
/// `quote()` writes them, TEXT as a quoted string, or as `CAST(X'..' AS
/// TEXT)` when it holds a NUL character (which `quote()` would cut off).
/// NULL for a REAL of extreme magnitude, whose decimal form SQLite does not
/// read back exactly: such a value is read again with [`exact_real`].
pub(crate) fn literal_expr(c: &str) -> String {
    // Compact: this is repeated for every column of every page query.
    format!(
        "CASE typeof({c}) \
         WHEN 'real' THEN CASE WHEN abs({c}) BETWEEN {REAL_DECIMAL_MIN} AND {REAL_DECIMAL_MAX} \
         THEN printf('%!.17g',{c}) WHEN {c}=0 OR abs({c})=9e999 THEN quote({c}) END \
         WHEN 'text' THEN CASE WHEN instr({c},char(0))>0 THEN 'CAST(X'''||hex({c})||''' AS TEXT)' \
         WHEN instr({c},char(13))>0 THEN {} ELSE quote({c}) END \
         ELSE quote({c}) END",
        text_literal(c)
    )
}

/// SQL for a TEXT literal of `text` (an expression) with every carriage
/// return written as `' || char(13) || '`: the sqlite3 shell drops a CR that
/// ends an input line, even inside a string literal.
fn text_literal(text: &str) -> String {
    format!("replace(quote({text}),char(13),''' || char(13) || ''')")
}

/// SQL for the size in bytes of column `c`'s value (0 for NULL).
fn raw_bytes(c: &str) -> String {
    format!("coalesce(length(CAST({c} AS BLOB)),0)")
}

/// The innermost SELECT: key columns as `k0..`, dump columns as `c0..`.
fn aliased_source(shape: &TableShape, table: &str, filter: &str, tail: &str) -> String {
    let mut select: Vec<String> = match &shape.key {
        KeyShape::Rowid { expr } => vec![format!("{expr} AS k0")],
        KeyShape::PrimaryKey { columns } => columns
            .iter()
            .enumerate()
            .map(|(j, &i)| format!("{} AS k{j}", shape.columns[i].sql_name))
            .collect(),
    };
    select.extend(
        shape
            .columns
            .iter()
            .enumerate()
            .map(|(i, c)| format!("{} AS {}", c.sql_name, alias(i))),
    );
    let filter = if filter.is_empty() {
        String::new()
    } else {
        format!(" WHERE {filter}")
    };
    format!("SELECT {} FROM {table}{filter}{tail}", select.join(", "))
}

/// The key columns in key order, for ORDER BY.
fn key_order(shape: &TableShape) -> String {
    match &shape.key {
        KeyShape::Rowid { expr } => expr.clone(),
        KeyShape::PrimaryKey { columns } => columns
            .iter()
            .map(|&i| shape.columns[i].sql_name.as_str())
            .collect::<Vec<_>>()
            .join(", "),
    }
}

/// The number of key columns.
pub(crate) fn key_len(shape: &TableShape) -> usize {
    match &shape.key {
        KeyShape::Rowid { .. } => 1,
        KeyShape::PrimaryKey { columns } => columns.len(),
    }
}

/// `WHERE` condition for the rows after `after` (key literals) in key order.
fn after_filter(shape: &TableShape, after: &[String]) -> String {
    match &shape.key {
        KeyShape::Rowid { expr } => format!("{expr} > {}", after[0]),
        KeyShape::PrimaryKey { columns } if columns.len() == 1 => {
            format!("{} > {}", shape.columns[columns[0]].sql_name, after[0])
        }
        KeyShape::PrimaryKey { .. } => format!("({}) > ({})", key_order(shape), after.join(", ")),
    }
}

/// `WHERE` condition naming exactly the row with key literals `key`.
pub(crate) fn key_where(shape: &TableShape, key: &[String]) -> String {
    match &shape.key {
        KeyShape::Rowid { expr } => format!("{expr} = {}", key[0]),
        KeyShape::PrimaryKey { columns } => columns
            .iter()
            .zip(key)
            .map(|(&i, literal)| format!("{} = {literal}", shape.columns[i].sql_name))
            .collect::<Vec<_>>()
            .join(" AND "),
    }
}

/// One page of rows after `after`, at most `limit` rows and, counting each
/// row's tuple at no more than `tuple_budget + 1` bytes, stopping after the
/// row that reaches `page_target` bytes.
///
/// Columns: the key (the rowid as TEXT, or the primary key columns as
/// exact literals), the size of the row's VALUES tuple in bytes (a lower bound if
/// over `tuple_budget`), the number of rows the page would have had without
/// the byte cap, and the tuple `(v1,v2,...)` itself, or NULL when it is
/// larger than `tuple_budget` (such rows are read again one by one).
pub(crate) fn page(
    shape: &TableShape,
    table: &str,
    after: Option<&[String]>,
    limit: usize,
    tuple_budget: usize,
    page_target: usize,
) -> String {
    let n = shape.columns.len();
    let keys = key_len(shape);
    let key_aliases: Vec<String> = (0..keys).map(|j| format!("k{j}")).collect();
    let key_list = key_aliases.join(", ");
    let filter = after.map(|a| after_filter(shape, a)).unwrap_or_default();
    let source = aliased_source(
        shape,
        table,
        &filter,
        &format!(" ORDER BY {} LIMIT {limit}", key_order(shape)),
    );

    let mut quoted = Vec::with_capacity(n);
    for i in 0..n {
        let c = alias(i);
        quoted.push(format!(
            "CASE WHEN {raw} <= {tuple_budget} THEN {literal} END AS q{i}, {raw} AS r{i}",
            raw = raw_bytes(&c),
            literal = literal_expr(&c)
        ));
    }
    let q_list: Vec<String> = (0..n).map(|i| format!("q{i}")).collect();
    let size = std::iter::once((n + 1).to_string())
        .chain((0..n).map(|i| format!("coalesce(length(CAST(q{i} AS BLOB)), r{i} + 2)")))
        .collect::<Vec<_>>()
        .join(" + ");
    let cap = tuple_budget + 1;
    // A primary key REAL of extreme magnitude has no q literal: it gets its
    // exact literal here, as the key must name the row exactly.
    let key_out: Vec<String> = match &shape.key {
        KeyShape::Rowid { .. } => vec!["CAST(k0 AS TEXT)".into()],
        KeyShape::PrimaryKey { columns } => columns
            .iter()
            .enumerate()
            .map(|(j, &i)| {
                format!(
                    "coalesce(q{i},CASE WHEN typeof(k{j})='real' THEN {} END)",
                    exact_real_expr(&format!("k{j}"))
                )
            })
            .collect(),
    };
    let tuple = format!("'(' || {} || ')'", q_list.join(" || ',' || "));
    format!(
        "SELECT {key_out}, CAST(n AS TEXT), CAST(total AS TEXT), CASE WHEN n <= {tuple_budget} THEN {tuple} END \
         FROM (SELECT {key_list}, {q_list}, {size} AS n, \
         sum(min({size}, {cap})) OVER (ORDER BY {key_list} ROWS UNBOUNDED PRECEDING) AS upto, \
         count(*) OVER () AS total \
         FROM (SELECT {key_list}, {quoted} FROM ({source}))) \
         WHERE upto - min(n, {cap}) < {page_target} ORDER BY {key_list}",
        key_out = key_out.join(", "),
        q_list = q_list.join(", "),
        quoted = quoted.join(", "),
    )
}

/// One row, column by column: for each dump column a description
/// `"<typeof> <bytes> <characters> <has NUL: 0|1>"` and its literal, or NULL
/// when the value is larger than `literal_limit` bytes or its literal larger
/// than twice that (or it is a REAL of extreme magnitude).
pub(crate) fn row_detail(
    shape: &TableShape,
    table: &str,
    key: &[String],
    literal_limit: usize,
) -> String {
    let n = shape.columns.len();
    let mut inner = Vec::with_capacity(n * 2);
    let mut outer = Vec::with_capacity(n * 2);
    for i in 0..n {
        let c = alias(i);
        let raw = raw_bytes(&c);
        inner.push(format!(
            "typeof({c})||' '||{raw}||' '||coalesce(length({c}),0)||' '||coalesce(instr({c},char(0))>0,0) AS m{i}, \
             CASE WHEN {raw}<={literal_limit} THEN {} END AS l{i}",
            literal_expr(&c)
        ));
        // A literal can be longer than twice its value only by carriage
        // returns written as char(13); such text is read in pieces instead.
        outer.push(format!(
            "m{i}, CASE WHEN length(CAST(l{i} AS BLOB))<={} THEN l{i} END",
            2 * literal_limit + 3
        ));
    }
    format!(
        "SELECT {} FROM (SELECT {} FROM ({}))",
        outer.join(", "),
        inner.join(", "),
        aliased_source(shape, table, &key_where(shape, key), "")
    )
}

/// 2^62 as an INTEGER literal: multiplying or dividing a REAL by it is exact.
pub(crate) const REAL_SCALE: &str = "4611686018427387904";

/// Scalings by 2^62 that bring a REAL above 2^100 (up to 2^1024) and one
/// below 2^-100 (down to 2^-1074) into the range written as decimal.
const REAL_SCALE_STEPS_DOWN: i32 = 15;
const REAL_SCALE_STEPS_UP: i32 = 16;

/// Marks a REAL literal the query could not write directly: `~*<n> <w>` or
/// `~/<n> <w>` stand for `w` times or divided by 2^62, `n` times; see
/// [`decode_exact_real`].
pub(crate) const EXACT_REAL_MARK: char = '~';

/// The exact literal of REAL column `column` of one row whose magnitude is
/// outside 2^-100..2^100, in the form [`decode_exact_real`] reads.
/// One column: the marked literal, TEXT.
pub(crate) fn exact_real(shape: &TableShape, table: &str, key: &[String], column: usize) -> String {
    let c = alias(column);
    format!(
        "SELECT {} FROM (SELECT {} AS {c} FROM {table} WHERE {})",
        exact_real_expr(&c),
        shape.columns[column].sql_name,
        key_where(shape, key)
    )
}

/// The SQL expression behind [`exact_real`] for the REAL `c`: the value
/// scaled by a power of two (exact) into the range where 17 digits are read
/// back exactly, and the scaling applied.
pub(crate) fn exact_real_expr(c: &str) -> String {
    let branch = |op: char, steps: i32| {
        let scaled = format!(
            "{c}{}",
            format!("{}{REAL_SCALE}", if op == '*' { '/' } else { '*' }).repeat(steps as usize)
        );
        format!("'{EXACT_REAL_MARK}{op}{steps} '||printf('%!.17g',{scaled})")
    };
    let mut down = Vec::new();
    for steps in 1..REAL_SCALE_STEPS_DOWN {
        let threshold = 2f64.powi(100 + 62 * steps);
        down.push(format!(
            "WHEN abs({c})<={threshold:e} THEN {}",
            branch('*', steps)
        ));
    }
    let mut up = Vec::new();
    for steps in 1..REAL_SCALE_STEPS_UP {
        let threshold = 2f64.powi(-100 - 62 * steps);
        up.push(format!(
            "WHEN abs({c})>={threshold:e} THEN {}",
            branch('/', steps)
        ));
    }
    format!(
        "CASE WHEN abs({c})>=1 THEN CASE {} ELSE {} END ELSE CASE {} ELSE {} END END",
        down.join(" "),
        branch('*', REAL_SCALE_STEPS_DOWN),
        up.join(" "),
        branch('/', REAL_SCALE_STEPS_UP)
    )
}

/// Turns a marked literal from [`exact_real_expr`] into SQL, for example
/// `~*2 1.5` into `(1.5*4611686018427387904*4611686018427387904)`; other
/// literals are returned as they are. None if the mark is malformed.
pub(crate) fn decode_exact_real(literal: String) -> Option<String> {
    let Some(rest) = literal.strip_prefix(EXACT_REAL_MARK) else {
        return Some(literal);
    };
    let op = rest.chars().next().filter(|op| *op == '*' || *op == '/')?;
    let (steps, value) = rest[1..].split_once(' ')?;
    let steps: usize = steps.parse().ok()?;
    Some(format!(
        "({value}{})",
        format!("{op}{REAL_SCALE}").repeat(steps)
    ))
}

/// How the pieces of an oversized value are read and appended.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum PieceKind {
    /// TEXT read by characters as `quote(substr(..))` (carriage returns
    /// as `char(13)`): pieces end on character boundaries and stay readable.
    Text,
    /// TEXT holding NUL characters, read by bytes as hex (`substr` and
    /// `quote` stop at a NUL in TEXT).
    TextBytes,
    /// A BLOB, read by bytes as hex.
    Blob,
}

/// Pieces of column `column` of one row: first `"<typeof> <bytes>"` (to
/// check that the value did not change), then `count` pieces of `span`
/// units (characters for [`PieceKind::Text`], bytes otherwise) starting at
/// unit `start` (1-based). A TEXT piece is NULL when its literal would be
/// longer than `literal_limit` bytes.
#[allow(clippy::too_many_arguments)]
pub(crate) fn pieces(
    shape: &TableShape,
    table: &str,
    key: &[String],
    column: usize,
    kind: PieceKind,
    start: u64,
    span: u64,
    count: usize,
    literal_limit: usize,
) -> String {
    let c = alias(column);
    let mut columns = vec![format!("typeof({c}) || ' ' || {}", raw_bytes(&c))];
    for j in 0..count as u64 {
        let from = start + j * span;
        columns.push(match kind {
            PieceKind::Text => {
                let literal = text_literal(&format!("substr({c}, {from}, {span})"));
                format!("CASE WHEN length(CAST({literal} AS BLOB)) <= {literal_limit} THEN {literal} END")
            }
            PieceKind::TextBytes => format!("hex(substr(CAST({c} AS BLOB), {from}, {span}))"),
            PieceKind::Blob => format!("hex(substr({c}, {from}, {span}))"),
        });
    }
    let source = format!(
        "SELECT {} AS {c} FROM {table} WHERE {}",
        shape.columns[column].sql_name,
        key_where(shape, key)
    );
    format!("SELECT {} FROM ({source})", columns.join(", "))
}
