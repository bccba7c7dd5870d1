//! The D1 edge: runs the dump's read-only queries and the restore's batches.

use crate::dump::Row;
use crate::jobs::store::{EdgeError, SqlReader, SqlWriter};
use crate::platform::InvocationCounter;
use crate::restore::plan::{Param, PlannedStatement};
use serde_json::Value;
use std::rc::Rc;
use worker::js_sys::Uint8Array;
use worker::wasm_bindgen::JsValue;
use worker::D1Database;

/// Reads and writes the database behind the `DB` binding; every call is
/// counted against the invocation's limits ([`crate::platform`]).
pub struct D1Reader {
    db: D1Database,
    counter: Rc<InvocationCounter>,
}

impl D1Reader {
    /// A reader over `db`, counting into `counter`.
    pub fn new(db: D1Database, counter: Rc<InvocationCounter>) -> Self {
        Self { db, counter }
    }
}

impl SqlReader for D1Reader {
    async fn query(&self, sql: &str) -> Result<Vec<Row>, EdgeError> {
        let fail = |detail: String| EdgeError::new("D1 query", detail);
        self.counter.d1_call(1).map_err(|e| fail(e.to_string()))?;
        let rows: Vec<Vec<Value>> = self
            .db
            .prepare(sql)
            .raw()
            .await
            .map_err(|e| fail(e.to_string()))?;
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|value| match value {
                        Value::Null => Ok(None),
                        Value::String(text) => Ok(Some(text)),
                        // Only small counts and lengths arrive as numbers; exact below 2^53.
                        Value::Number(number) => Ok(Some(number.to_string())),
                        other => Err(fail(format!(
                            "unexpected {} value in a result",
                            type_name(&other)
                        ))),
                    })
                    .collect()
            })
            .collect()
    }
}

impl SqlWriter for D1Reader {
    async fn batch(&self, statements: &[PlannedStatement]) -> Result<(), EdgeError> {
        let fail = |detail: String| EdgeError::new("D1 batch", detail);
        self.counter
            .d1_call(statements.len() as u64)
            .map_err(|e| fail(e.to_string()))?;
        let prepared = statements
            .iter()
            .map(|statement| {
                let values: Vec<JsValue> = statement
                    .params
                    .iter()
                    .map(|param| match param {
                        Param::Text(text) => JsValue::from_str(text),
                        Param::Blob(bytes) => Uint8Array::from(bytes.as_slice()).into(),
                    })
                    .collect();
                self.db.prepare(&statement.sql).bind(&values)
            })
            .collect::<worker::Result<Vec<_>>>()
            .map_err(|e| fail(e.to_string()))?;
        self.db
            .batch(prepared)
            .await
            .map(|_| ())
            .map_err(|e| fail(e.to_string()))
    }
}

fn type_name(value: &Value) -> &'static str {
    match value {
        Value::Bool(_) => "boolean",
        Value::Array(_) => "array (BLOB)",
        Value::Object(_) => "object",
        _ => "scalar",
    }
}
