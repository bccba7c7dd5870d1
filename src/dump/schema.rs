//! Reading `sqlite_schema` and `pragma_table_xinfo`: which objects are
//! dumped, how each table is read and written, and in which order.

use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};

use super::error::DumpError;
use super::sql::{matching_paren, quote_ident, split_top_level_commas, tokenize, Token};
use super::Row;
use crate::internal_names::is_internal_name;

/// Suffixes of the shadow tables an FTS5 table `x` keeps as `x_data` etc.
pub const FTS5_SHADOW_SUFFIXES: [&str; 5] = ["_data", "_idx", "_content", "_docsize", "_config"];

/// How a table's data is stored and re-inserted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TableClass {
    /// An ordinary table.
    Regular {
        /// `WITHOUT ROWID`: paged and addressed by primary key.
        without_rowid: bool,
        /// `STRICT`: values keep their type, no affinity conversion.
        strict: bool,
    },
    /// An FTS5 virtual table that stores its own content.
    Fts5,
    /// An FTS5 table whose content lives in another table or view: it is
    /// rebuilt from there, not re-inserted.
    Fts5External,
    /// A contentless FTS5 table (`content=''`, with or without
    /// `contentless_delete=1`): it keeps no text, so it is recreated empty.
    Fts5Contentless,
}

/// A table that is dumped: its CREATE statement and class.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TableDef {
    pub name: String,
    pub sql: String,
    pub class: TableClass,
}

/// The kinds of objects created after the data.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum ObjectKind {
    Index,
    View,
    Trigger,
}

/// An index, view or trigger, created after the data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct ObjectDef {
    pub kind: ObjectKind,
    pub name: String,
    pub sql: String,
}

/// What the dump writes of a database's schema.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct Schema {
    /// Dumped tables in `sqlite_schema` rowid order.
    pub tables: Vec<TableDef>,
    /// Indexes, views and triggers in `sqlite_schema` rowid order.
    pub objects: Vec<ObjectDef>,
    /// Whether some dumped table uses AUTOINCREMENT (so the copy has a
    /// `sqlite_sequence` to restore).
    pub autoincrement: bool,
}

impl Schema {
    /// The schema statements exactly as the dump writes them, in dump order.
    pub fn statements(&self) -> impl Iterator<Item = &str> {
        self.tables
            .iter()
            .map(|t| t.sql.as_str())
            .chain(self.objects.iter().map(|o| o.sql.as_str()))
    }

    /// SHA-256 (lowercase hex) over every schema statement, without
    /// trailing whitespace, followed by `;\n`, in dump order: the statement
    /// text a reader finds before each terminating `;`.
    pub fn sha256(&self) -> String {
        let mut hasher = Sha256::new();
        for statement in self.statements() {
            hasher.update(
                statement
                    .trim_end_matches(|c: char| c.is_ascii_whitespace())
                    .as_bytes(),
            );
            hasher.update(b";\n");
        }
        hasher
            .finalize()
            .iter()
            .map(|b| format!("{b:02x}"))
            .collect()
    }
}

fn has_prefix_ignore_case(name: &str, prefix: &str) -> bool {
    name.len() >= prefix.len()
        && name.is_char_boundary(prefix.len())
        && name[..prefix.len()].eq_ignore_ascii_case(prefix)
}

/// Whether `name` is a shadow table of one of the FTS5 tables `fts_names`.
pub(crate) fn is_fts5_shadow(name: &str, fts_names: &[&str]) -> bool {
    fts_names.iter().any(|fts| {
        FTS5_SHADOW_SUFFIXES.iter().any(|suffix| {
            name.len() == fts.len() + suffix.len()
                && has_prefix_ignore_case(name, fts)
                && name[fts.len()..].eq_ignore_ascii_case(suffix)
        })
    })
}

/// A schema row of [`super::SCHEMA_QUERY`]: type, name, tbl_name, sql.
struct SchemaRow {
    kind: String,
    name: String,
    tbl_name: String,
    sql: Option<String>,
}

/// Builds the [`Schema`] from the rows of [`super::SCHEMA_QUERY`].
pub(crate) fn classify(rows: Vec<Row>) -> Result<Schema, DumpError> {
    let mut entries = Vec::with_capacity(rows.len());
    for row in rows {
        let bad = |detail: &str| DumpError::BadResult {
            context: "sqlite_schema".into(),
            detail: detail.into(),
        };
        let [kind, name, tbl_name, sql]: [Option<String>; 4] = row
            .try_into()
            .map_err(|_| bad("expected 4 columns: type, name, tbl_name, sql"))?;
        entries.push(SchemaRow {
            kind: kind.ok_or_else(|| bad("NULL type"))?,
            name: name.ok_or_else(|| bad("NULL name"))?,
            tbl_name: tbl_name.ok_or_else(|| bad("NULL tbl_name"))?,
            sql,
        });
    }

    // First pass: the virtual tables, so shadow tables can be recognised
    // whatever their position.
    let mut virtuals = Vec::new();
    for entry in &entries {
        if entry.kind == "table" && !is_internal_name(&entry.name) {
            if let Some(sql) = &entry.sql {
                if let Some((module, args)) = virtual_module(sql) {
                    virtuals.push((entry.name.clone(), module, args));
                }
            }
        }
    }
    let fts_names: Vec<&str> = virtuals
        .iter()
        .filter(|(_, module, _)| module.eq_ignore_ascii_case("fts5"))
        .map(|(name, _, _)| name.as_str())
        .collect();

    let mut schema = Schema::default();
    let mut skipped_tables: Vec<String> = Vec::new();
    for entry in &entries {
        let skip_table = is_internal_name(&entry.tbl_name)
            || skipped_tables
                .iter()
                .any(|t| t.eq_ignore_ascii_case(&entry.tbl_name));
        match entry.kind.as_str() {
            "table" => {
                if is_internal_name(&entry.name) || is_fts5_shadow(&entry.name, &fts_names) {
                    skipped_tables.push(entry.name.clone());
                    continue;
                }
                let sql = entry
                    .sql
                    .clone()
                    .ok_or_else(|| DumpError::UnreadableSchema {
                        name: entry.name.clone(),
                        detail: "the table has no CREATE statement in sqlite_schema".into(),
                    })?;
                let class = match virtuals.iter().find(|(name, _, _)| *name == entry.name) {
                    Some((_, module, args)) => fts5_class(&entry.name, module, args)?,
                    None => {
                        let options = table_options(&sql);
                        if options.autoincrement {
                            schema.autoincrement = true;
                        }
                        TableClass::Regular {
                            without_rowid: options.without_rowid,
                            strict: options.strict,
                        }
                    }
                };
                schema.tables.push(TableDef {
                    name: entry.name.clone(),
                    sql,
                    class,
                });
            }
            "index" | "view" | "trigger" => {
                let Some(sql) = &entry.sql else { continue }; // autoindexes
                if skip_table || is_internal_name(&entry.name) {
                    continue;
                }
                let kind = match entry.kind.as_str() {
                    "index" => ObjectKind::Index,
                    "view" => ObjectKind::View,
                    _ => ObjectKind::Trigger,
                };
                schema.objects.push(ObjectDef {
                    kind,
                    name: entry.name.clone(),
                    sql: sql.clone(),
                });
            }
            other => {
                return Err(DumpError::UnreadableSchema {
                    name: entry.name.clone(),
                    detail: format!("unknown sqlite_schema type {other:?}"),
                })
            }
        }
    }
    Ok(schema)
}

/// For `CREATE VIRTUAL TABLE ... USING module(args)`: the module name and
/// the argument tokens (without the parentheses).
fn virtual_module(sql: &str) -> Option<(String, Vec<Token>)> {
    let tokens = tokenize(sql);
    if !(tokens.len() > 2 && tokens[0].is_word("CREATE") && tokens[1].is_word("VIRTUAL")) {
        return None;
    }
    let using = tokens.iter().position(|t| t.is_word("USING"))?;
    let module = tokens.get(using + 1)?.text();
    let args = match tokens.get(using + 2) {
        Some(Token::Punct('(')) => {
            let close = matching_paren(&tokens, using + 2).unwrap_or(tokens.len());
            tokens[using + 3..close].to_vec()
        }
        _ => Vec::new(),
    };
    Some((module, args))
}

/// Classifies a virtual table: FTS5 with its own, external or no content,
/// or an error for other modules.
fn fts5_class(name: &str, module: &str, args: &[Token]) -> Result<TableClass, DumpError> {
    if !module.eq_ignore_ascii_case("fts5") {
        return Err(DumpError::UnsupportedVirtualTable {
            table: name.into(),
            module: module.into(),
        });
    }
    for arg in split_top_level_commas(args) {
        if let [key, Token::Punct('='), value @ ..] = arg {
            if key.is_word("content") {
                let value: String = value.iter().map(Token::text).collect();
                return Ok(if value.is_empty() {
                    TableClass::Fts5Contentless
                } else {
                    TableClass::Fts5External
                });
            }
        }
    }
    Ok(TableClass::Fts5)
}

/// What the tail of a CREATE TABLE says.
#[derive(Debug, Default, PartialEq, Eq)]
pub(crate) struct TableOptions {
    pub without_rowid: bool,
    pub strict: bool,
    pub autoincrement: bool,
}

/// Reads `WITHOUT ROWID` and `STRICT` after the column list, and whether the
/// keyword AUTOINCREMENT appears anywhere outside strings and names.
pub(crate) fn table_options(sql: &str) -> TableOptions {
    let tokens = tokenize(sql);
    let mut options = TableOptions {
        autoincrement: tokens.iter().any(|t| t.is_word("AUTOINCREMENT")),
        ..TableOptions::default()
    };
    let Some(open) = tokens.iter().position(|t| *t == Token::Punct('(')) else {
        return options;
    };
    let Some(close) = matching_paren(&tokens, open) else {
        return options;
    };
    for option in split_top_level_commas(&tokens[close + 1..]) {
        match option {
            [a, b] if a.is_word("WITHOUT") && b.is_word("ROWID") => options.without_rowid = true,
            [a] if a.is_word("STRICT") => options.strict = true,
            _ => {}
        }
    }
    options
}

/// One column as `pragma_table_xinfo` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct XColumn {
    pub cid: i64,
    pub name: String,
    pub decl_type: String,
    pub pk: i64,
    pub hidden: i64,
}

/// What the inspection query of one table returned.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub(crate) struct Inspection {
    pub columns: Vec<XColumn>,
    /// Parent tables named by the table's FOREIGN KEY clauses.
    pub parents: Vec<String>,
    /// Whether the primary key has its own index (origin 'pk'); a rowid
    /// table's single INTEGER primary key is a rowid alias only if not.
    pub pk_index: bool,
}

/// The inspection query for a table: its columns (tag `column`), its FOREIGN
/// KEY parents (tag `parent`) and its primary key index (tag `pk-index`).
/// Columns: tag, cid, name, type, pk, hidden (all TEXT or NULL).
pub(crate) fn inspection_query(table: &str, with_constraints: bool) -> String {
    let arg = super::sql::quote_text(table);
    let mut sql = format!(
        "SELECT 'column', CAST(cid AS TEXT), name, type, CAST(pk AS TEXT), CAST(hidden AS TEXT) FROM pragma_table_xinfo({arg})"
    );
    if with_constraints {
        sql.push_str(&format!(
            " UNION ALL SELECT 'parent', NULL, \"table\", NULL, NULL, NULL FROM pragma_foreign_key_list({arg})\
             UNION ALL SELECT 'pk-index', NULL, name, NULL, NULL, NULL FROM pragma_index_list({arg}) WHERE origin = 'pk'"
        ));
    }
    sql
}

/// Parses the rows of [`inspection_query`].
pub(crate) fn parse_inspection(context: &str, rows: Vec<Row>) -> Result<Inspection, DumpError> {
    let bad = |detail: String| DumpError::BadResult {
        context: context.into(),
        detail,
    };
    let number = |value: &Option<String>, what: &str| -> Result<i64, DumpError> {
        value
            .as_deref()
            .and_then(|v| v.parse().ok())
            .ok_or_else(|| bad(format!("{what} is {value:?}, expected an integer as TEXT")))
    };
    let mut inspection = Inspection::default();
    for row in rows {
        if row.len() != 6 {
            return Err(bad(format!("expected 6 columns, got {}", row.len())));
        }
        let name = row[2].clone().ok_or_else(|| bad("NULL name".into()))?;
        match row[0].as_deref() {
            Some("column") => inspection.columns.push(XColumn {
                cid: number(&row[1], "cid")?,
                name,
                decl_type: row[3].clone().unwrap_or_default(),
                pk: number(&row[4], "pk")?,
                hidden: number(&row[5], "hidden")?,
            }),
            Some("parent") => inspection.parents.push(name),
            Some("pk-index") => inspection.pk_index = true,
            other => return Err(bad(format!("unknown row tag {other:?}"))),
        }
    }
    inspection.columns.sort_by_key(|c| c.cid);
    Ok(inspection)
}

/// The type affinity SQLite derives from a declared column type
/// (<https://sqlite.org/datatype3.html#determination_of_column_affinity>).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Affinity {
    Integer,
    Text,
    Blob,
    Real,
    Numeric,
}

pub(crate) fn affinity(decl_type: &str) -> Affinity {
    let t = decl_type.to_ascii_uppercase();
    if t.contains("INT") {
        Affinity::Integer
    } else if t.contains("CHAR") || t.contains("CLOB") || t.contains("TEXT") {
        Affinity::Text
    } else if t.contains("BLOB") || t.is_empty() {
        Affinity::Blob
    } else if t.contains("REAL") || t.contains("FLOA") || t.contains("DOUB") {
        Affinity::Real
    } else {
        Affinity::Numeric
    }
}

/// A column as the dump reads and writes it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct DumpColumn {
    /// How the column is named in INSERT and UPDATE column lists: a quoted
    /// identifier, or a bare rowid name for the explicit rowid.
    pub sql_name: String,
    /// Whether a TEXT value stored here could be converted to a number by
    /// the column's affinity while it is rebuilt piece by piece.
    pub numeric_affinity: bool,
    /// Its position among the columns of `SELECT *` (which include generated
    /// columns and leave out hidden ones); None for the explicit rowid.
    pub star: Option<usize>,
}

/// How rows of a table are ordered, paged and addressed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum KeyShape {
    /// By rowid, through `expr` (a rowid alias column or a rowid name).
    Rowid { expr: String },
    /// By primary key (WITHOUT ROWID): indexes into the dump columns, in
    /// primary key order.
    PrimaryKey { columns: Vec<usize> },
}

/// Everything needed to read and write one table's rows.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) struct TableShape {
    pub name: String,
    pub columns: Vec<DumpColumn>,
    pub key: KeyShape,
    /// Columns of `SELECT * FROM` the table.
    pub star_width: usize,
    /// The position among the columns of `SELECT *` of the INTEGER PRIMARY
    /// KEY column that is the rowid, if any: the queries then read the
    /// rowid through it instead of selecting it next to `*`.
    pub rowid_star: Option<usize>,
}

/// The names by which SQLite lets a statement address a rowid.
const ROWID_NAMES: [&str; 3] = ["rowid", "_rowid_", "oid"];

/// Works out how a table is dumped from its class and inspection.
pub(crate) fn table_shape(
    table: &TableDef,
    inspection: &Inspection,
) -> Result<TableShape, DumpError> {
    let (without_rowid, strict, fts) = match table.class {
        TableClass::Regular {
            without_rowid,
            strict,
        } => (without_rowid, strict, false),
        TableClass::Fts5 | TableClass::Fts5External | TableClass::Fts5Contentless => {
            (false, false, true)
        }
    };
    // Generated columns (hidden 2 and 3) are computed, and hidden virtual
    // table columns (hidden 1) are not data. `SELECT *` has all but the
    // hidden ones.
    let star: Vec<&XColumn> = inspection
        .columns
        .iter()
        .filter(|c| c.hidden != 1)
        .collect();
    let stored: Vec<(usize, &XColumn)> = star
        .iter()
        .enumerate()
        .filter(|(_, c)| c.hidden == 0)
        .map(|(p, c)| (p, *c))
        .collect();
    let mut columns: Vec<DumpColumn> = stored
        .iter()
        .map(|&(p, c)| DumpColumn {
            star: Some(p),
            sql_name: quote_ident(&c.name),
            numeric_affinity: !strict
                && !fts
                && matches!(
                    affinity(&c.decl_type),
                    Affinity::Integer | Affinity::Real | Affinity::Numeric
                ),
        })
        .collect();

    if without_rowid {
        let mut pk: Vec<(i64, usize)> = stored
            .iter()
            .map(|(_, c)| c)
            .enumerate()
            .filter(|(_, c)| c.pk > 0)
            .map(|(i, c)| (c.pk, i))
            .collect();
        pk.sort();
        if pk.is_empty() {
            return Err(DumpError::UnreadableSchema {
                name: table.name.clone(),
                detail: "a WITHOUT ROWID table with no PRIMARY KEY column in pragma_table_xinfo"
                    .into(),
            });
        }
        return Ok(TableShape {
            name: table.name.clone(),
            columns,
            key: KeyShape::PrimaryKey {
                columns: pk.into_iter().map(|(_, i)| i).collect(),
            },
            star_width: star.len(),
            rowid_star: None,
        });
    }

    let taken = |n: &str| {
        inspection
            .columns
            .iter()
            .any(|c| c.name.eq_ignore_ascii_case(n))
    };
    let free_rowid = ROWID_NAMES
        .iter()
        .find(|n| !taken(n))
        .map(|n| n.to_string());
    let pk_columns: Vec<(usize, &XColumn)> = stored
        .iter()
        .filter(|(_, c)| c.pk > 0)
        .map(|&(p, c)| (p, c))
        .collect();
    let alias = match pk_columns.as_slice() {
        [(p, only)]
            if !fts && !inspection.pk_index && only.decl_type.eq_ignore_ascii_case("INTEGER") =>
        {
            Some((*p, quote_ident(&only.name)))
        }
        _ => None,
    };
    let rowid_star = alias.as_ref().map(|(p, _)| *p);
    let expr = match alias {
        Some((_, alias)) => alias,
        None => {
            let name = free_rowid.ok_or_else(|| DumpError::RowidUnreachable {
                table: table.name.clone(),
            })?;
            columns.insert(
                0,
                DumpColumn {
                    sql_name: name.clone(),
                    numeric_affinity: false,
                    star: None,
                },
            );
            name
        }
    };
    Ok(TableShape {
        name: table.name.clone(),
        columns,
        rowid_star,
        key: KeyShape::Rowid { expr },
        star_width: star.len(),
    })
}

/// Orders tables parents-first by their FOREIGN KEY references, keeping
/// schema order wherever the references allow it. Returns the order (indexes
/// into `parents`) and the tables placed before some parent of theirs: those
/// in a cycle, and those that reference themselves.
pub(crate) fn parents_first(names: &[&str], parents: &[Vec<String>]) -> (Vec<usize>, Vec<usize>) {
    let n = names.len();
    let deps: Vec<Vec<usize>> = (0..n)
        .map(|i| {
            let mut d: Vec<usize> = parents[i]
                .iter()
                .filter_map(|p| names.iter().position(|name| name.eq_ignore_ascii_case(p)))
                .collect();
            d.sort();
            d.dedup();
            d
        })
        .collect();
    let mut placed = vec![false; n];
    let mut order = Vec::with_capacity(n);
    let mut fallback = Vec::new();
    while order.len() < n {
        let ready = (0..n).find(|&i| !placed[i] && deps[i].iter().all(|&d| d == i || placed[d]));
        let next = match ready {
            Some(i) => i,
            None => {
                let i = (0..n).find(|&i| !placed[i]).unwrap_or(0);
                fallback.push(i);
                i
            }
        };
        if deps[next].contains(&next) && !fallback.contains(&next) {
            fallback.push(next);
        }
        placed[next] = true;
        order.push(next);
    }
    fallback.sort();
    (order, fallback)
}

#[cfg(test)]
mod tests;
