//! Reading the CREATE statements of a dump: what each creates, and of a
//! table its kind, its key and the columns an INSERT fills, which the
//! summary and the UPDATE rules need; refuses CREATEs of internal
//! tables, TEMP objects and other schemas.

use super::update::KeyShape;
use super::{
    describe, is_internal, main_schema_only, malformed, qualified_name, reject, split_top_level,
    Fts5Content, Reject, RejectReason, StatementKind, TableEntry, Tokens, Validator,
};
use crate::dump::TableKind;
use crate::restore::lex::{Token, TokenKind};

impl Validator {
    pub(super) fn create(
        &mut self,
        sql: &str,
        tokens: &mut Tokens,
    ) -> Result<StatementKind, Reject> {
        let kind_found = describe(sql);
        let mut what = tokens.next_word();
        if matches!(what.as_str(), "TEMP" | "TEMPORARY") {
            return reject(kind_found, RejectReason::Temporary);
        }
        let unique = what == "UNIQUE";
        if unique {
            what = tokens.next_word();
        }
        let virtual_table = what == "VIRTUAL";
        if virtual_table {
            what = tokens.next_word();
            if what != "TABLE" {
                return reject(
                    kind_found,
                    malformed("CREATE VIRTUAL must be followed by TABLE"),
                );
            }
        }
        let kind = match what.as_str() {
            "TABLE" if virtual_table => StatementKind::CreateFts5Table,
            "TABLE" if !unique => StatementKind::CreateTable,
            "INDEX" => StatementKind::CreateIndex,
            "VIEW" if !unique => StatementKind::CreateView,
            "TRIGGER" if !unique => StatementKind::CreateTrigger,
            _ => {
                return reject(
                    kind_found,
                    RejectReason::Forbidden("it is not a statement a SQL dump contains"),
                )
            }
        };
        if tokens.peek().is_some_and(|t| t.is_word("IF")) {
            let words = [tokens.next_word(), tokens.next_word(), tokens.next_word()];
            if words != ["IF", "NOT", "EXISTS"] {
                return reject(kind_found, malformed("expected IF NOT EXISTS"));
            }
        }
        let name = qualified_name(tokens, &kind_found)?;
        if is_internal(&name) {
            return reject(kind_found, RejectReason::InternalTable { table: name });
        }
        match kind {
            StatementKind::CreateTable => {
                let definition = table_definition(tokens, &kind_found)?;
                self.add_table(name, definition, sql);
            }
            StatementKind::CreateFts5Table => {
                let content = fts5_content(tokens, &kind_found)?;
                let definition = TableDefinition {
                    kind: TableKind::Fts5,
                    content,
                    key: KeyShape::Rowid {
                        names: ROWID_NAMES.iter().map(|n| n.to_string()).collect(),
                    },
                    insert_columns: Vec::new(),
                };
                self.add_table(name, definition, sql);
            }
            StatementKind::CreateIndex => {
                if !tokens.next().is_some_and(|t| t.is_word("ON")) {
                    return reject(kind_found, malformed("expected ON after the index name"));
                }
                let table = qualified_name(tokens, &kind_found)?;
                if is_internal(&table) {
                    return reject(kind_found, RejectReason::InternalTable { table });
                }
                self.indexes.push(name);
                self.object_sql.push(sql.to_string());
            }
            StatementKind::CreateView => {
                self.views.push(name);
                self.object_sql.push(sql.to_string());
            }
            _ => {
                trigger_tables(tokens, &kind_found)?;
                self.triggers.push(name);
                self.object_sql.push(sql.to_string());
            }
        }
        Ok(kind)
    }

    fn add_table(&mut self, name: String, definition: TableDefinition, sql: &str) {
        self.table_hash.update(sql.as_bytes());
        self.table_hash.update(b";\n");
        self.by_name
            .insert(name.to_ascii_lowercase(), self.tables.len());
        self.tables.push(TableEntry {
            name,
            kind: definition.kind,
            rows: 0,
            content: definition.content,
            key: definition.key,
            insert_columns: definition.insert_columns,
        });
    }
}

/// The names by which SQLite lets a statement address a rowid.
const ROWID_NAMES: [&str; 3] = ["rowid", "_rowid_", "oid"];

/// Words that end a column's type name and start its constraints.
const COLUMN_CONSTRAINT_WORDS: [&str; 11] = [
    "CONSTRAINT",
    "PRIMARY",
    "NOT",
    "NULL",
    "UNIQUE",
    "CHECK",
    "DEFAULT",
    "COLLATE",
    "REFERENCES",
    "GENERATED",
    "AS",
];

/// What the validator needs to know of a table from its CREATE statement.
#[derive(Debug)]
struct TableDefinition {
    kind: TableKind,
    content: Fts5Content,
    key: KeyShape,
    insert_columns: Vec<String>,
}

/// After `CREATE TABLE name`: the column list and table options, read for
/// the table's kind and key.
fn table_definition(tokens: &mut Tokens, kind_found: &str) -> Result<TableDefinition, Reject> {
    match tokens.next() {
        Some(t) if t.is_punct('(') => {}
        Some(t) if t.is_word("AS") => return reject(
            "CREATE TABLE ... AS SELECT",
            RejectReason::Forbidden(
                "CREATE TABLE ... AS SELECT copies from other tables; a dump declares every column",
            ),
        ),
        _ => return reject(kind_found, malformed("expected the column list")),
    }
    let mut body = Vec::new();
    let mut depth = 1usize;
    for token in tokens.by_ref() {
        if token.is_punct('(') {
            depth += 1;
        } else if token.is_punct(')') {
            depth -= 1;
            if depth == 0 {
                break;
            }
        }
        body.push(token);
    }
    let options: Vec<Token> = tokens.collect();
    let without_rowid = split_top_level(&options, |t| t.is_punct(','))
        .iter()
        .any(|o| matches!(o, [a, b] if a.is_word("WITHOUT") && b.is_word("ROWID")));

    // Columns: (lowercase name, declared type, generated), and the key.
    let mut columns: Vec<(String, String, bool)> = Vec::new();
    let mut primary_key: Vec<String> = Vec::new();
    // An INTEGER PRIMARY KEY column declared DESC is not a rowid alias.
    let mut descending_column_key = false;
    for definition in split_top_level(&body, |t| t.is_punct(',')) {
        let Some(first) = definition.first() else {
            continue;
        };
        let is_constraint = ["CONSTRAINT", "PRIMARY", "UNIQUE", "CHECK", "FOREIGN"]
            .iter()
            .any(|w| first.is_word(w));
        let key_at = definition
            .windows(2)
            .position(|w| w[0].is_word("PRIMARY") && w[1].is_word("KEY"));
        if is_constraint {
            if let Some(at) = key_at {
                let list = match &definition[at + 2..] {
                    [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
                    [open, rest @ ..] if open.is_punct('(') => rest,
                    _ => &[],
                };
                primary_key = split_top_level(list, |t| t.is_punct(','))
                    .iter()
                    .filter_map(|item| item.first().and_then(|t| t.name()))
                    .map(|n| n.to_ascii_lowercase())
                    .collect();
            }
            continue;
        }
        let Some(name) = first.name() else {
            continue;
        };
        let name = name.to_ascii_lowercase();
        let type_name: Vec<String> = definition[1..]
            .iter()
            .take_while(|t| {
                matches!(t.kind, TokenKind::Word | TokenKind::Quoted)
                    && !COLUMN_CONSTRAINT_WORDS.iter().any(|w| t.is_word(w))
            })
            .map(|t| t.text.to_ascii_uppercase())
            .collect();
        let generated = definition[1..].iter().any(|t| t.is_word("GENERATED"))
            || definition[1..]
                .windows(2)
                .any(|w| w[0].is_word("AS") && w[1].is_punct('('));
        if let Some(at) = key_at {
            primary_key = vec![name.clone()];
            descending_column_key = definition.get(at + 2).is_some_and(|t| t.is_word("DESC"));
        }
        columns.push((name, type_name.join(" "), generated));
    }
    let insert_columns = columns
        .iter()
        .filter(|(_, _, generated)| !generated)
        .map(|(name, _, _)| name.clone())
        .collect();
    if without_rowid {
        return Ok(TableDefinition {
            kind: TableKind::WithoutRowid,
            content: Fts5Content::Own,
            key: KeyShape::PrimaryKey {
                columns: primary_key,
            },
            insert_columns,
        });
    }
    let mut names: Vec<String> = Vec::new();
    if let [key] = primary_key.as_slice() {
        let alias = columns
            .iter()
            .any(|(name, type_name, _)| name == key && type_name == "INTEGER");
        if alias && !descending_column_key {
            names.push(key.clone());
        }
    }
    names.extend(
        ROWID_NAMES
            .iter()
            .filter(|rowid| !columns.iter().any(|(name, _, _)| name == *rowid))
            .map(|rowid| rowid.to_string()),
    );
    Ok(TableDefinition {
        kind: TableKind::Table,
        content: Fts5Content::Own,
        key: KeyShape::Rowid { names },
        insert_columns,
    })
}

/// After `CREATE VIRTUAL TABLE name`: `USING fts5(...)`; returns where the
/// table's content is (its `content=` option).
fn fts5_content(tokens: &mut Tokens, kind_found: &str) -> Result<Fts5Content, Reject> {
    if !tokens.next().is_some_and(|t| t.is_word("USING")) {
        return reject(kind_found, malformed("expected USING after the table name"));
    }
    let module = tokens
        .next()
        .and_then(|t| t.name())
        .unwrap_or_default()
        .into_owned();
    if !module.eq_ignore_ascii_case("fts5") {
        return reject(kind_found, RejectReason::VirtualModule { module });
    }
    let args: Vec<Token> = tokens.collect();
    let inner = match args.as_slice() {
        [open, inner @ .., close] if open.is_punct('(') && close.is_punct(')') => inner,
        _ => &[],
    };
    for arg in split_top_level(inner, |t| t.is_punct(',')) {
        if let [key, equals, value @ ..] = arg {
            if key.is_word("content") && equals.is_punct('=') {
                let content: String = value.iter().filter_map(|t| t.name()).collect();
                return Ok(if content.is_empty() {
                    Fts5Content::Contentless
                } else {
                    Fts5Content::External(content)
                });
            }
        }
    }
    Ok(Fts5Content::Own)
}

/// After `CREATE TRIGGER name`: refuses a trigger on, or writing to, an
/// internal table, or naming a table of another schema than `main`.
fn trigger_tables(tokens: &mut Tokens, kind_found: &str) -> Result<(), Reject> {
    let all: Vec<Token> = tokens.collect();
    let mut targets = Vec::new();
    let mut in_body = false;
    for (i, token) in all.iter().enumerate() {
        if token.is_word("BEGIN") {
            in_body = true;
        } else if (token.is_word("ON") && !in_body)
            || (in_body
                && (token.is_word("INTO")
                    || (token.is_word("FROM") && i > 0 && all[i - 1].is_word("DELETE"))))
        {
            targets.push(i + 1);
        } else if in_body && token.is_word("UPDATE") {
            let skip = if all.get(i + 1).is_some_and(|t| t.is_word("OR")) {
                2
            } else {
                0
            };
            targets.push(i + 1 + skip);
        }
    }
    for at in targets {
        let Some(name) = all.get(at).and_then(|t| t.name()) else {
            continue;
        };
        // `schema.table`: only main's tables are this database's.
        let qualified = all.get(at + 1).is_some_and(|t| t.is_punct('.'));
        let table = match all.get(at + 2).and_then(|t| t.name()) {
            Some(table) if qualified => {
                main_schema_only(&name, kind_found)?;
                table
            }
            _ => name,
        };
        if is_internal(&table) {
            return reject(
                kind_found,
                RejectReason::InternalTable {
                    table: table.into_owned(),
                },
            );
        }
    }
    Ok(())
}
