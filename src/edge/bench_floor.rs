//! `POST /v1/test/floor?page_rows=N` (test routes only): the benchmark's
//! floor, the least a backup of this database could cost in the worker.
//!
//! Every rowid table is read by rowid in pages of `page_rows` rows (default
//! [`DEFAULT_MAX_PAGE_ROWS`], the dump's largest page), with SQLite building
//! each row's `INSERT` text (`quote()` of every column, joined by `||`); the
//! text crosses into wasm through the same reader as the dump's, and is
//! discarded. No dump logic, no self-check, no encryption, no upload. The
//! benchmark times the request from outside (the Workers clock stands
//! still during CPU work) and compares the backup with it.

use super::d1::D1Reader;
use super::http::built;
use super::memory::wasm_memory_bytes;
use super::respond;
use crate::config::DB_BINDING;
use crate::dump::{balanced, quote_ident, quote_text, DEFAULT_MAX_PAGE_ROWS};
use crate::error::ApiError;
use crate::internal_names::is_internal_name;
use crate::jobs::store::SqlReader;
use crate::platform::InvocationCounter;
use serde_json::json;
use std::rc::Rc;
use worker::{Env, Request, Response};

/// Reads every rowid table as described in the module documentation and
/// reports tables, rows, SQL bytes and queries.
pub async fn floor(
    req: &Request,
    env: &Env,
    counter: &Rc<InvocationCounter>,
) -> Result<Response, ApiError> {
    let page_rows = page_rows(req)?;
    let db = env
        .d1(DB_BINDING)
        .map_err(|_| ApiError::internal("the D1 binding DB is missing"))?;
    let db = D1Reader::new(db, counter.clone());
    let query = |sql: String| {
        let db = &db;
        async move {
            db.query(&sql)
                .await
                .map_err(|e| ApiError::internal(format!("floor: {e}")))
        }
    };
    let tables = query(
        "SELECT name FROM pragma_table_list WHERE schema = 'main' AND type = 'table' AND wr = 0 \
         ORDER BY name"
            .into(),
    )
    .await?;
    let (mut rows, mut bytes, mut queries) = (0u64, 0u64, 1u64);
    let mut read_tables = 0u64;
    for table in tables
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
    {
        if is_internal_name(&table) {
            continue;
        }
        let columns: Vec<String> = query(format!(
            "SELECT name FROM pragma_table_info({}) ORDER BY cid",
            quote_text(&table)
        ))
        .await?
        .into_iter()
        .filter_map(|row| row.into_iter().next().flatten())
        .collect();
        queries += 1;
        let mut terms = vec![quote_text(&format!(
            "INSERT INTO {} VALUES(",
            quote_ident(&table)
        ))];
        for (i, column) in columns.iter().enumerate() {
            if i > 0 {
                terms.push("','".into());
            }
            terms.push(format!("quote({})", quote_ident(column)));
        }
        terms.push("');'".into());
        let text = balanced(&terms, "||");
        let mut after = i64::MIN;
        loop {
            let page = query(format!(
                "SELECT CAST(rowid AS TEXT), {text} FROM {} WHERE rowid > {after} ORDER BY rowid LIMIT {page_rows}",
                quote_ident(&table)
            ))
            .await?;
            queries += 1;
            let Some(last) = page.last() else { break };
            after = last
                .first()
                .cloned()
                .flatten()
                .and_then(|rowid| rowid.parse().ok())
                .ok_or_else(|| ApiError::internal("floor: a page without its rowids"))?;
            rows += page.len() as u64;
            bytes += page
                .iter()
                .map(|row| {
                    row.get(1)
                        .cloned()
                        .flatten()
                        .map_or(0, |t| t.len() as u64 + 1)
                })
                .sum::<u64>();
            if page.len() < page_rows {
                break;
            }
        }
        read_tables += 1;
    }
    built(respond::json(
        200,
        &json!({
            "tables": read_tables,
            "rows": rows,
            "sql_bytes": bytes,
            "queries": queries,
            "page_rows": page_rows,
            "wasm_memory_bytes": wasm_memory_bytes(),
        }),
    ))
}

fn page_rows(req: &Request) -> Result<usize, ApiError> {
    let url = req
        .url()
        .map_err(|_| ApiError::BadRequest("the request URL is malformed".into()))?;
    match url.query_pairs().find(|(name, _)| name == "page_rows") {
        None => Ok(DEFAULT_MAX_PAGE_ROWS),
        Some((_, value)) => value
            .parse()
            .ok()
            .filter(|n| (1..=100_000).contains(n))
            .ok_or_else(|| ApiError::BadRequest("page_rows must be 1 to 100000".into())),
    }
}
