//! A table's rows, read exactly and in key order, and compared row by row
//! by key: a missing, extra or reordered row and every differing cell is
//! one [`Difference`].

use std::collections::HashMap;

use rusqlite::Connection;

use super::cell::{first_difference, Cell};
use super::difference::{diff, Difference, Kind};
use super::ident;

/// A table's rows in key order: column names, key column positions, rows.
pub(super) struct Rows {
    columns: Vec<String>,
    key: Vec<usize>,
    rows: Vec<Vec<Cell>>,
}

/// `table`'s rows in key order (rowid, or the WITHOUT ROWID primary key),
/// generated and hidden columns included.
pub(super) fn read_table(conn: &Connection, table: &str) -> Result<Rows, String> {
    let without_rowid: bool = conn
        .query_row(
            "SELECT wr FROM pragma_table_list(?1) WHERE schema = 'main'",
            [table],
            |r| r.get(0),
        )
        .map_err(|e| format!("pragma_table_list: {e}"))?;
    let mut statement = conn
        .prepare(
            "SELECT name, pk FROM pragma_table_xinfo(?1) WHERE hidden IN (0, 2, 3) ORDER BY cid",
        )
        .map_err(|e| e.to_string())?;
    let columns: Vec<(String, i64)> = statement
        .query_map([table], |r| Ok((r.get(0)?, r.get(1)?)))
        .and_then(|rows| rows.collect())
        .map_err(|e| e.to_string())?;
    let list: Vec<String> = columns.iter().map(|(n, _)| ident(n)).collect();
    if without_rowid {
        let mut pk: Vec<(i64, usize)> = columns
            .iter()
            .enumerate()
            .filter(|(_, (_, pk))| *pk > 0)
            .map(|(i, (_, pk))| (*pk, i))
            .collect();
        pk.sort();
        let key: Vec<usize> = pk.iter().map(|(_, i)| *i).collect();
        let order: Vec<String> = key.iter().map(|&i| list[i].clone()).collect();
        let sql = format!(
            "SELECT {} FROM {} ORDER BY {}",
            list.join(", "),
            ident(table),
            order.join(", ")
        );
        let mut rows = read_rows(conn, &sql, &key)?;
        rows.columns = columns.into_iter().map(|(n, _)| n).collect();
        Ok(rows)
    } else {
        let taken = |alias: &str| columns.iter().any(|(n, _)| n.eq_ignore_ascii_case(alias));
        let alias = ["rowid", "_rowid_", "oid"]
            .into_iter()
            .find(|a| !taken(a))
            .ok_or_else(|| format!("{table}: every rowid alias is a column name"))?;
        let sql = format!(
            "SELECT {alias}, {} FROM {} ORDER BY {alias}",
            list.join(", "),
            ident(table)
        );
        let mut rows = read_rows(conn, &sql, &[0])?;
        rows.columns = std::iter::once(alias.to_string())
            .chain(columns.into_iter().map(|(n, _)| n))
            .collect();
        Ok(rows)
    }
}

/// The rows of `sql`; `key` are the positions of its key columns.
pub(super) fn read_rows(conn: &Connection, sql: &str, key: &[usize]) -> Result<Rows, String> {
    let mut statement = conn
        .prepare(sql)
        .map_err(|e| format!("{e}: {}", sql.chars().take(200).collect::<String>()))?;
    let n = statement.column_count();
    let columns: Vec<String> = statement
        .column_names()
        .iter()
        .map(|s| s.to_string())
        .collect();
    let mut rows = statement.query([]).map_err(|e| e.to_string())?;
    let mut out = Vec::new();
    while let Some(row) = rows.next().map_err(|e| e.to_string())? {
        let mut cells = Vec::with_capacity(n);
        for i in 0..n {
            cells.push(Cell::from_ref(row.get_ref(i).map_err(|e| e.to_string())?));
        }
        out.push(cells);
    }
    Ok(Rows {
        columns,
        key: key.to_vec(),
        rows: out,
    })
}

fn show_key(rows: &Rows, row: &[Cell]) -> String {
    rows.key
        .iter()
        .map(|&i| format!("{}={}", rows.columns[i], row[i]))
        .collect::<Vec<_>>()
        .join(", ")
}

/// Every difference between two tables' rows: missing and extra rows by
/// key, differing cells, and rows in another order.
pub(super) fn compare_rows(table: &str, a: &Rows, b: &Rows, out: &mut Vec<Difference>) {
    if a.columns != b.columns {
        out.push(diff(
            Kind::Table,
            table,
            None,
            None,
            format!("columns {:?}", a.columns),
            format!("columns {:?}", b.columns),
        ));
        return;
    }
    let key_of = |rows: &Rows, row: &Vec<Cell>| -> Vec<Cell> {
        rows.key.iter().map(|&i| row[i].clone()).collect()
    };
    let index: HashMap<Vec<Cell>, usize> = b
        .rows
        .iter()
        .enumerate()
        .map(|(i, r)| (key_of(b, r), i))
        .collect();
    let mut seen = vec![false; b.rows.len()];
    let mut positions = Vec::new();
    for row in &a.rows {
        let key = key_of(a, row);
        match index.get(&key) {
            None => out.push(diff(
                Kind::MissingRow,
                table,
                Some(show_key(a, row)),
                None,
                format!("row of {} values", row.len()),
                "missing".into(),
            )),
            Some(&j) => {
                seen[j] = true;
                positions.push(j);
                for (c, (x, y)) in row.iter().zip(&b.rows[j]).enumerate() {
                    if x != y {
                        let mut copy = y.to_string();
                        copy.push_str(&first_difference(x, y));
                        out.push(diff(
                            Kind::Cell,
                            table,
                            Some(show_key(a, row)),
                            Some(a.columns[c].clone()),
                            x.to_string(),
                            copy,
                        ));
                    }
                }
            }
        }
    }
    for (j, row) in b.rows.iter().enumerate() {
        if !seen[j] {
            out.push(diff(
                Kind::ExtraRow,
                table,
                Some(show_key(b, row)),
                None,
                "missing".into(),
                format!("row of {} values", row.len()),
            ));
        }
    }
    if positions.windows(2).any(|w| w[0] > w[1]) {
        out.push(diff(
            Kind::Order,
            table,
            None,
            None,
            "key order".into(),
            "rows in another order".into(),
        ));
    }
}
