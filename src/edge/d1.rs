//! The D1 edge: runs the dump's read-only queries.

use crate::dump::Row;
use crate::jobs::store::{EdgeError, SqlReader};
use serde_json::Value;
use worker::D1Database;

/// Reads the database behind the `DB` binding.
pub struct D1Reader {
    db: D1Database,
}

impl D1Reader {
    /// A reader over `db`.
    pub fn new(db: D1Database) -> Self {
        Self { db }
    }
}

impl SqlReader for D1Reader {
    async fn query(&self, sql: &str) -> Result<Vec<Row>, EdgeError> {
        let fail = |detail: String| EdgeError::new("D1 query", detail);
        let rows: Vec<Vec<Value>> = self.db.prepare(sql).raw().await.map_err(|e| fail(e.to_string()))?;
        rows.into_iter()
            .map(|row| {
                row.into_iter()
                    .map(|value| match value {
                        Value::Null => Ok(None),
                        Value::String(text) => Ok(Some(text)),
                        // Only small counts and lengths arrive as numbers; exact below 2^53.
                        Value::Number(number) => Ok(Some(number.to_string())),
                        other => Err(fail(format!("unexpected {} value in a result", type_name(&other)))),
                    })
                    .collect()
            })
            .collect()
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
