//! The SQL text of the queries that read rows, oversized rows and pieces of
//! oversized values. Every value they return is TEXT or NULL, so nothing
//! loses precision on its way through JavaScript and JSON.
//!
//! D1's limits are kept by construction:
//!
//! - Result columns (100 per SELECT, at every level: CTEs and subqueries
//!   too). The queries that read one row ([`row_detail`], [`exact_real`],
//!   [`pieces`]) read it through `WITH s(c0,c1,..) AS (SELECT * FROM main."t"
//!   WHERE <key>)`: the key filter sits inside the CTE, so the CTE has
//!   exactly the table's `SELECT *` columns (at most 100, D1's limit per
//!   table), and each returns at most one column per `SELECT *` column. The
//!   page query ([`page`]) reads its rows through `WITH s(k0,c0,..) AS
//!   (SELECT rowid, * FROM main."t" WHERE <after> ORDER BY <key> LIMIT n)`, with
//!   `k0` only for a rowid table without an INTEGER PRIMARY KEY (with one,
//!   the rowid is read through its column); when that would be 101 columns
//!   (such a table with 100 columns) it names the stored columns instead, in
//!   CTEs of at most [`NAMED_CHUNK`] columns plus `k0`, joined on `k0`
//!   ([`page_source`]). Above that level, the values are grouped by
//!   [`GROUP_COLUMNS`]: the level that reads the CTE returns the key
//!   literals, the key values (`q0`, ..) and per group one fragment and one
//!   size (1 + 1 + 2 * ceil(101 / 25) = 12 columns for a rowid table, more
//!   by the primary key's columns; past 100 the key values are not passed
//!   up, see [`page`]), the level that numbers the rows at most 13, and the
//!   levels above it 4 to 6 columns.
//! - Size: the CTEs name columns by positional aliases, so a query's size
//!   does not grow with the length of the table's column names, except in
//!   the named form above and for the key columns' names in filters, which
//!   fail with [`super::DumpError::QueryTooLarge`] if they cannot fit.
//! - Expression depth: every chain of binary operators over the columns
//!   (`||`, `+`, `AND`) is a balanced tree, [`balanced`], so the depth grows
//!   with the logarithm of the number of columns.
//! - Bound parameters: none; every value is a literal.

use serde::{Deserialize, Serialize};

use super::schema::{KeyShape, TableShape};
use super::{REAL_DECIMAL_MAX, REAL_DECIMAL_MIN};
use crate::d1_limits::MAX_COLUMNS;

/// Dump columns per group in the page query: each group's literals are
/// joined into one fragment, so the level that reads the rows returns two
/// values per group, not per column.
pub(crate) const GROUP_COLUMNS: usize = 25;

/// Columns named per CTE when a page cannot be read as `SELECT rowid, *`.
pub(crate) const NAMED_CHUNK: usize = 50;

/// `terms` joined by the binary operator `op` as a balanced tree, for
/// example `((a || b) || (c || d))`: at most ceil(log2(n)) operators deep
/// where a chain would be n - 1 deep. NULL in any term makes the whole NULL
/// for `||` and `+`, as in a chain. `terms` must not be empty.
pub(crate) fn balanced(terms: &[String], op: &str) -> String {
    match terms {
        [] => String::new(),
        [one] => one.clone(),
        _ => {
            let (left, right) = terms.split_at(terms.len() / 2);
            format!("({} {op} {})", balanced(left, op), balanced(right, op))
        }
    }
}

/// The alias of the `i`th dump column in the queries' CTEs: `c<p>` for the
/// `p`th column of `SELECT *`, `k0` for an explicit rowid (only the page
/// query has it).
pub(crate) fn col(shape: &TableShape, i: usize) -> String {
    match shape.columns[i].star {
        Some(p) => format!("c{p}"),
        None => "k0".into(),
    }
}

/// Whether the page query selects the rowid next to the table's columns:
/// a rowid table without an INTEGER PRIMARY KEY.
fn selects_rowid(shape: &TableShape) -> bool {
    matches!(shape.key, KeyShape::Rowid { .. }) && shape.rowid_star.is_none()
}

/// Whether a page can be read as `SELECT rowid, *` (or `SELECT *`) within
/// D1's 100 result columns.
pub(crate) fn star_fits(shape: &TableShape) -> bool {
    shape.star_width + usize::from(selects_rowid(shape)) <= MAX_COLUMNS
}

/// The alias of the `j`th key column in the page query.
fn key_ref(shape: &TableShape, j: usize) -> String {
    match &shape.key {
        KeyShape::Rowid { .. } => match shape.rowid_star {
            Some(p) => format!("c{p}"),
            None => "k0".into(),
        },
        KeyShape::PrimaryKey { columns } => col(shape, columns[j]),
    }
}

/// The key columns by the table's own names (the rowid by its alias column
/// or a rowid name), in key order.
fn key_names(shape: &TableShape) -> Vec<String> {
    match &shape.key {
        KeyShape::Rowid { expr } => vec![expr.clone()],
        KeyShape::PrimaryKey { columns } => columns
            .iter()
            .map(|&i| shape.columns[i].sql_name.clone())
            .collect(),
    }
}

/// The `c0,c1,..` aliases of every column of `SELECT *`.
fn star_aliases(shape: &TableShape) -> Vec<String> {
    (0..shape.star_width).map(|p| format!("c{p}")).collect()
}

/// The quoted table name `table` as the queries' CTEs read it: qualified
/// with its schema, `main."t"`. Inside a CTE, an unqualified name equal to
/// the CTE's own (`s`, `s0`, ..) means the CTE itself, so a table named `s`
/// would be a circular reference; a qualified name is always the table.
fn stored(table: &str) -> String {
    format!("main.{table}")
}

/// `WITH s(c0,..) AS (SELECT * FROM main.<table> WHERE <key>) `: the one
/// row with key literals `key`, its columns by position.
fn row_source(shape: &TableShape, table: &str, key: &[String]) -> String {
    format!(
        "WITH s({}) AS (SELECT * FROM {} WHERE {}) ",
        star_aliases(shape).join(","),
        stored(table),
        key_where(shape, key)
    )
}

/// The CTEs (`WITH ... `) and the FROM clause that read one page: the rows
/// after `after` in key order, at most `limit`. `SELECT rowid, *` (without
/// `rowid` when it is not needed) when that is at most 100 columns; else
/// the stored columns by name, [`NAMED_CHUNK`] per CTE with the rowid as
/// `k0`, joined on `k0`. Every CTE holds the same rows: they are read with
/// the same filter, order and limit in one statement.
pub(crate) fn page_source(
    shape: &TableShape,
    table: &str,
    after: Option<&[String]>,
    limit: usize,
) -> (String, String) {
    let filter = after
        .map(|a| format!(" WHERE {}", after_filter(shape, a)))
        .unwrap_or_default();
    let rows = format!(
        "FROM {}{filter} ORDER BY {} LIMIT {limit}",
        stored(table),
        key_names(shape).join(", ")
    );
    let rowid = match &shape.key {
        KeyShape::Rowid { expr } if selects_rowid(shape) => Some(expr.as_str()),
        _ => None,
    };
    if star_fits(shape) {
        let mut names = Vec::with_capacity(shape.star_width + 1);
        let mut select = String::new();
        if let Some(rowid) = rowid {
            names.push("k0".to_string());
            select = format!("{rowid}, ");
        }
        names.extend(star_aliases(shape));
        return (
            format!("WITH s({}) AS (SELECT {select}* {rows}) ", names.join(",")),
            "s".into(),
        );
    }
    // Only a rowid table of 100 columns without an INTEGER PRIMARY KEY gets
    // here: `SELECT rowid, *` would return 101 columns.
    let rowid = rowid.unwrap_or("rowid");
    let named: Vec<(String, &str)> = shape
        .columns
        .iter()
        .filter_map(|c| c.star.map(|p| (format!("c{p}"), c.sql_name.as_str())))
        .collect();
    let mut ctes = Vec::new();
    for (j, chunk) in named.chunks(NAMED_CHUNK).enumerate() {
        let aliases: Vec<&str> = chunk.iter().map(|(a, _)| a.as_str()).collect();
        let names: Vec<&str> = chunk.iter().map(|(_, n)| *n).collect();
        ctes.push(format!(
            "s{j}(k0,{}) AS (SELECT {rowid}, {} {rows})",
            aliases.join(","),
            names.join(", ")
        ));
    }
    let from: Vec<String> = (0..ctes.len()).map(|j| format!("s{j}")).collect();
    let using = if ctes.len() > 1 { " USING (k0)" } else { "" };
    (
        format!("WITH {} ", ctes.join(", ")),
        from.join(" JOIN ") + using,
    )
}

/// SQL that is true when TEXT `c` must be written as `CAST(X'..' AS TEXT)`:
/// it holds a NUL (at which `quote()` stops), a carriage return (which the
/// sqlite3 shell drops at the end of an input line, even inside a literal)
/// or U+FFFD (so that a U+FFFD in a quoted literal reaching Rust can only
/// stand for bytes that are not UTF-8, replaced on the way through JSON).
fn needs_hex(c: &str) -> String {
    format!("instr({c},char(0))+instr({c},char(13))+instr({c},char(65533))>0")
}

/// SQL for the hex form of TEXT `c`: `CAST(X'..' AS TEXT)`, exact for any
/// bytes and 2 operators deep whatever the text.
fn hex_text(c: &str) -> String {
    format!("'CAST(X'''||hex({c})||''' AS TEXT)'")
}

/// Bytes of [`hex_text`] beyond twice the value's bytes.
pub(crate) const HEX_TEXT_OVERHEAD: usize = "CAST(X'' AS TEXT)".len();

/// The character every byte sequence that is not UTF-8 becomes on its way
/// from D1 through JavaScript: a literal holding it must be read again in
/// hex, because the dump writes every real U+FFFD in hex form.
pub(crate) const REPLACEMENT: char = '\u{FFFD}';

/// SQL for the literal that re-creates the value of column `c` exactly:
/// REALs of ordinary magnitude as 17 significant digits (which every SQLite
/// reads back exactly), a negative zero as `-0.0` (told from `0.0` by
/// `atan2(c,-1.0)`, which is -pi for it), other zeros as `0.0`, the
/// infinities, INTEGERs, BLOBs and NULL as `quote()` writes them, TEXT as a
/// quoted string, or as `CAST(X'..' AS TEXT)` when [`needs_hex`]. NULL for
/// a REAL of extreme magnitude, whose decimal form SQLite does not read
/// back exactly: such a value is read again with [`exact_real`].
pub(crate) fn literal_expr(c: &str) -> String {
    // Compact: this is repeated for every column of every page query.
    format!(
        "CASE typeof({c}) \
         WHEN 'real' THEN CASE WHEN abs({c}) BETWEEN {REAL_DECIMAL_MIN} AND {REAL_DECIMAL_MAX} \
         THEN printf('%!.17g',{c}) WHEN {c}=0 THEN CASE WHEN atan2({c},-1.0)<0 THEN '-0.0' ELSE '0.0' END \
         WHEN abs({c})=9e999 THEN quote({c}) END \
         WHEN 'text' THEN CASE WHEN {} THEN {} ELSE quote({c}) END \
         ELSE quote({c}) END",
        needs_hex(c),
        hex_text(c)
    )
}

/// SQL for the size in bytes of column `c`'s value (0 for NULL).
fn raw_bytes(c: &str) -> String {
    format!("coalesce(length(CAST({c} AS BLOB)),0)")
}

/// The number of key columns.
pub(crate) fn key_len(shape: &TableShape) -> usize {
    match &shape.key {
        KeyShape::Rowid { .. } => 1,
        KeyShape::PrimaryKey { columns } => columns.len(),
    }
}

/// `WHERE` condition, by the table's own names, for the rows after `after`
/// (key literals) in key order.
fn after_filter(shape: &TableShape, after: &[String]) -> String {
    let names = key_names(shape);
    if after.len() == 1 {
        format!("{} > {}", names[0], after[0])
    } else {
        format!("({}) > ({})", names.join(", "), after.join(", "))
    }
}

/// `WHERE` condition naming exactly the row with key literals `key`, with
/// the table's own column names (for the dump's UPDATE statements and the
/// queries that read one row): a balanced tree of `AND`s.
pub(crate) fn key_where(shape: &TableShape, key: &[String]) -> String {
    let terms: Vec<String> = key_names(shape)
        .iter()
        .zip(key)
        .map(|(name, literal)| format!("{name} = {literal}"))
        .collect();
    balanced(&terms, "AND")
}

/// The separator of the key literals in the page query's first column: no
/// key literal holds it (they are numbers, `X'..'`, `CAST(X'..' AS TEXT)`
/// or the marked literals of [`exact_real_expr`]).
pub(crate) const KEY_SEPARATOR: char = ',';

/// One page of rows after `after`, at most `limit` rows and, counting each
/// row's tuple at no more than `tuple_budget + 1` bytes, stopping after the
/// row that reaches `page_target` bytes.
///
/// Columns (4): the key literals joined by [`KEY_SEPARATOR`] (the rowid as
/// TEXT, or the primary key columns as exact literals, TEXT always in hex
/// form; NULL if the key values take more than `tuple_budget` bytes), the
/// size of the row's VALUES tuple in bytes (an estimate from the values'
/// sizes if the tuple is NULL), the number of rows the page would have had
/// without the byte cap, and the tuple `(v1,v2,...)` itself, or NULL when
/// it is larger than `tuple_budget` or holds a REAL of extreme magnitude
/// (such rows are read again one by one).
///
/// Levels, innermost first: the CTEs of [`page_source`]; one that returns
/// the key literals, the key values to order by and, per group of
/// [`GROUP_COLUMNS`] columns, the group's literals joined by `,` (NULL if
/// one is NULL, an extreme REAL, or if the group's values or the key take
/// more than `tuple_budget` bytes) and the sum of its values' sizes; one
/// that numbers the rows in key order and counts them (window functions);
/// one that joins the fragments into the tuple (NULL if the values take
/// more than `tuple_budget` bytes); one that measures it; one that sums the
/// sizes; the last cuts the page.
///
/// No level builds or holds a string near D1's 2,000,000-byte length limit
/// (SQLITE_TOOBIG), whatever the values: the window functions buffer their
/// rows as records of the level below them, so that level returns only
/// computed small values (at most `tuple_budget` bytes of values as
/// literals per fragment, each about twice its value's size at most) and
/// the key values, never a row's other values, which may be close to
/// 2,000,000 bytes (a record holding them next to anything else would be
/// over the limit). Every literal and fragment is built only under a
/// `CASE` that checks the sizes first.
pub(crate) fn page(
    shape: &TableShape,
    table: &str,
    after: Option<&[String]>,
    limit: usize,
    tuple_budget: usize,
    page_target: usize,
) -> String {
    let n = shape.columns.len();
    let (with, from) = page_source(shape, table, after, limit);
    let cap = tuple_budget + 1;
    let indexes: Vec<usize> = (0..n).collect();
    // The key's size, when it is a primary key: a key too large to name its
    // row fails the dump (a NULL key), and its row's fragments are not built.
    let key_size = match &shape.key {
        KeyShape::PrimaryKey { columns } => {
            let sizes: Vec<String> = columns.iter().map(|&i| raw_bytes(&col(shape, i))).collect();
            Some(balanced(&sizes, "+"))
        }
        KeyShape::Rowid { .. } => None,
    };
    let small_key = key_size
        .as_ref()
        .map(|size| format!(" AND {size} <= {tuple_budget}"))
        .unwrap_or_default();
    let mut groups = Vec::new();
    let mut group_names = Vec::new();
    for (g, members) in indexes.chunks(GROUP_COLUMNS).enumerate() {
        let mut parts = Vec::with_capacity(2 * members.len());
        let mut sizes = Vec::with_capacity(members.len());
        for &i in members {
            if !parts.is_empty() {
                parts.push("','".to_string());
            }
            let c = col(shape, i);
            parts.push(literal_expr(&c));
            sizes.push(raw_bytes(&c));
        }
        let size = balanced(&sizes, "+");
        groups.push(format!(
            "CASE WHEN {size} <= {tuple_budget}{small_key} THEN {} END AS g{g}, {size} AS z{g}",
            balanced(&parts, "||"),
        ));
        group_names.push(format!("g{g}, z{g}"));
    }
    let mut tuple_terms = vec!["'('".to_string()];
    let mut size_terms = vec![(n + 1).to_string()];
    for g in 0..groups.len() {
        if g > 0 {
            tuple_terms.push("','".into());
        }
        tuple_terms.push(format!("g{g}"));
        size_terms.push(format!("z{g}"));
    }
    tuple_terms.push("')'".into());
    let size = balanced(&size_terms, "+");
    // A text key is always written in hex form: the key names the row in
    // later queries and statements, so it must be exact whatever its bytes.
    // A primary key REAL of extreme magnitude gets its exact literal here.
    let key = match &shape.key {
        KeyShape::Rowid { .. } => format!("CAST({} AS TEXT)", key_ref(shape, 0)),
        KeyShape::PrimaryKey { columns } => {
            let mut terms = Vec::with_capacity(2 * columns.len());
            for &i in columns {
                if !terms.is_empty() {
                    terms.push(format!("'{KEY_SEPARATOR}'"));
                }
                let c = col(shape, i);
                terms.push(format!(
                    "CASE WHEN typeof({c})='text' THEN {} ELSE coalesce({}, {}) END",
                    hex_text(&c),
                    literal_expr(&c),
                    exact_real_expr(&c)
                ));
            }
            format!(
                "CASE WHEN {} <= {tuple_budget} THEN {} END",
                key_size.as_deref().unwrap_or("0"),
                balanced(&terms, "||")
            )
        }
    };
    let order: Vec<String> = (0..key_len(shape)).map(|j| key_ref(shape, j)).collect();
    // The window level reads the key values by the aliases q0, q1, ..
    // (which keep their columns' collations), unless that would take the
    // level below past D1's 100 result columns (a primary key of more than
    // about 87 columns): then it computes them itself from the CTE's
    // columns, whose records then hold the row's values too.
    let numbered = if 1 + order.len() + 2 * groups.len() <= MAX_COLUMNS {
        let keys: Vec<String> = order
            .iter()
            .enumerate()
            .map(|(j, o)| format!("{o} AS q{j}"))
            .collect();
        let aliases: Vec<String> = (0..order.len()).map(|j| format!("q{j}")).collect();
        format!(
            "SELECT k, row_number() OVER (ORDER BY {}) AS o, count(*) OVER () AS total, {} \
             FROM (SELECT {key} AS k, {}, {} FROM {from})",
            aliases.join(", "),
            group_names.join(", "),
            keys.join(", "),
            groups.join(", ")
        )
    } else {
        format!(
            "SELECT {key} AS k, row_number() OVER (ORDER BY {}) AS o, \
             count(*) OVER () AS total, {} FROM {from}",
            order.join(", "),
            groups.join(", ")
        )
    };
    format!(
        "{with}SELECT k, CAST(n AS TEXT), CAST(total AS TEXT), CASE WHEN n <= {tuple_budget} THEN t END \
         FROM (SELECT k, o, total, t, n, \
         sum(min(n, {cap})) OVER (ORDER BY o ROWS UNBOUNDED PRECEDING) AS upto \
         FROM (SELECT k, o, total, t, coalesce(length(CAST(t AS BLOB)), z) AS n \
         FROM (SELECT k, o, total, CASE WHEN {size} <= {tuple_budget} THEN {tuple} END AS t, {size} AS z \
         FROM ({numbered})))) \
         WHERE upto - min(n, {cap}) < {page_target} ORDER BY o",
        tuple = balanced(&tuple_terms, "||"),
    )
}

/// Separates a value's description from its literal in [`row_detail`]'s
/// columns; a description never holds it.
pub(crate) const DETAIL_SEPARATOR: char = ':';

/// One row, column by column: one result column per dump column that is a
/// column of `SELECT *` (an explicit rowid is the key, already known):
/// `"<typeof> <bytes> <characters> <hex: 0|1>"` (hex: TEXT that is written
/// in hex form), followed by [`DETAIL_SEPARATOR`] and the value's literal
/// unless the value is larger than `literal_limit` bytes (or is a REAL of
/// extreme magnitude). A literal is then at most twice `literal_limit` plus
/// [`HEX_TEXT_OVERHEAD`] bytes.
pub(crate) fn row_detail(
    shape: &TableShape,
    table: &str,
    key: &[String],
    literal_limit: usize,
) -> String {
    let mut outputs = Vec::with_capacity(shape.columns.len());
    for i in (0..shape.columns.len()).filter(|&i| shape.columns[i].star.is_some()) {
        let c = col(shape, i);
        let raw = raw_bytes(&c);
        outputs.push(format!(
            "typeof({c})||' '||{raw}||' '||coalesce(length({c}),0)||' '||coalesce({},0)\
             ||coalesce('{DETAIL_SEPARATOR}'||CASE WHEN {raw}<={literal_limit} THEN {} END,'')",
            needs_hex(&c),
            literal_expr(&c)
        ));
    }
    format!(
        "{}SELECT {} FROM s",
        row_source(shape, table, key),
        outputs.join(", ")
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
    format!(
        "{}SELECT {} FROM s",
        row_source(shape, table, key),
        exact_real_expr(&col(shape, column))
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
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum PieceKind {
    /// TEXT read by characters as `quote(substr(..))`: pieces end on
    /// character boundaries and stay readable. Only for text that needs no
    /// hex form (no NUL, CR or U+FFFD in the whole value).
    Text,
    /// TEXT read by bytes as hex: text that [`needs_hex`], and text whose
    /// pieces turn out not to be UTF-8.
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
    let c = col(shape, column);
    let mut columns = vec![format!("typeof({c}) || ' ' || {}", raw_bytes(&c))];
    for j in 0..count as u64 {
        let from = start + j * span;
        columns.push(match kind {
            PieceKind::Text => {
                let literal = format!("quote(substr({c}, {from}, {span}))");
                format!("CASE WHEN length(CAST({literal} AS BLOB)) <= {literal_limit} THEN {literal} END")
            }
            PieceKind::TextBytes => format!("hex(substr(CAST({c} AS BLOB), {from}, {span}))"),
            PieceKind::Blob => format!("hex(substr({c}, {from}, {span}))"),
        });
    }
    format!(
        "{}SELECT {} FROM s",
        row_source(shape, table, key),
        columns.join(", ")
    )
}
