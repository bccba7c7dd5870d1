//! The human output of the remote commands: aligned tables, `key: value`
//! lines with nested objects flattened (`history.last_success.finished_at`),
//! sizes in binary units and durations in words. Field names say how to show
//! a number: `bytes` and `*_bytes` as sizes, `*_ms` and `*_seconds` as
//! durations, so output stays readable as the worker adds fields.

use std::io::{self, Write};

use crate::common::CliError;
use crate::json::Json;

/// Writes `text` to stdout; a closed pipe is an I/O error, not a panic.
pub fn write_stdout(text: &str) -> Result<(), CliError> {
    let mut stdout = io::stdout().lock();
    stdout
        .write_all(text.as_bytes())
        .and_then(|()| stdout.flush())
        .map_err(|err| CliError::io("writing the output", err))
}

/// A size in binary units: `512 B`, `1.5 KiB`, `1.2 MiB`.
pub fn human_bytes(bytes: u64) -> String {
    const UNITS: [&str; 6] = ["KiB", "MiB", "GiB", "TiB", "PiB", "EiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    // 1023.95 and up would print as "1024.0": move to the next unit instead.
    while value >= 1023.95 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
}

/// A duration in words: `250 ms`, `1.2 s`, `3 min 5 s`, `2 h 10 min`, `3 d 4 h`.
pub fn human_duration(seconds: f64) -> String {
    if seconds < 1.0 {
        return format!("{} ms", (seconds * 1000.0).round());
    }
    if seconds < 60.0 {
        return format!("{seconds:.1} s");
    }
    let whole = seconds.round() as u64;
    let (days, hours, minutes, secs) = (
        whole / 86_400,
        whole / 3_600 % 24,
        whole / 60 % 60,
        whole % 60,
    );
    match (days, hours) {
        (0, 0) => format!("{minutes} min {secs} s"),
        (0, _) => format!("{hours} h {minutes} min"),
        _ => format!("{days} d {hours} h"),
    }
}

/// A value as one table cell or field: `-` for null or missing, `yes`/`no`
/// for booleans, a list of scalars joined with commas (`none` when empty),
/// anything else as compact JSON.
pub fn text(value: Option<&Json>) -> String {
    match value {
        None | Some(Json::Null) => "-".into(),
        Some(Json::Bool(true)) => "yes".into(),
        Some(Json::Bool(false)) => "no".into(),
        Some(Json::Number(number)) => number.to_string(),
        Some(Json::String(text)) => text.clone(),
        Some(Json::Array(items)) if items.is_empty() => "none".into(),
        Some(Json::Array(items)) if items.iter().all(is_scalar) => items
            .iter()
            .map(|item| text(Some(item)))
            .collect::<Vec<_>>()
            .join(", "),
        Some(other) => serde_json::to_string(other).expect("a Json value always serializes"),
    }
}

fn is_scalar(value: &Json) -> bool {
    !matches!(value, Json::Array(_) | Json::Object(_))
}

/// A field's value, with sizes and durations also in human units when its
/// name says it is one.
fn field_text(name: &str, value: &Json) -> String {
    let plain = text(Some(value));
    let Json::Number(number) = value else {
        return plain;
    };
    if name == "bytes" || name.ends_with("_bytes") {
        if let Some(bytes) = number.as_u64().filter(|&bytes| bytes >= 1024) {
            return format!("{} ({bytes} bytes)", human_bytes(bytes));
        }
    }
    // Only where words say more than the number: from 1 s, and from 1 min.
    let seconds = if name.ends_with("_ms") {
        number.as_f64().map(|ms| ms / 1000.0).filter(|&s| s >= 1.0)
    } else if name.ends_with("_seconds") {
        number.as_f64().filter(|&s| s >= 60.0)
    } else {
        None
    };
    match seconds {
        Some(seconds) => format!("{plain} ({})", human_duration(seconds)),
        None => plain,
    }
}

/// Every scalar in `value` as `(path, text)`, depth first in the server's
/// order: members joined with dots, array items as `[i]`. Lists of scalars
/// stay on one line; empty objects and lists are `none`.
pub fn flatten(value: &Json) -> Vec<(String, String)> {
    let mut out = Vec::new();
    flatten_into("", "", value, &mut out);
    out
}

fn flatten_into(path: &str, name: &str, value: &Json, out: &mut Vec<(String, String)>) {
    match value {
        Json::Object(members) if !members.is_empty() => {
            for (key, member) in members {
                let child = if path.is_empty() {
                    key.clone()
                } else {
                    format!("{path}.{key}")
                };
                flatten_into(&child, key, member, out);
            }
        }
        Json::Array(items) if !items.iter().all(is_scalar) => {
            for (index, item) in items.iter().enumerate() {
                flatten_into(&format!("{path}[{index}]"), name, item, out);
            }
        }
        Json::Object(_) => out.push((path.to_owned(), "none".into())),
        _ => out.push((path.to_owned(), field_text(name, value))),
    }
}

/// `key: value` lines, the values aligned.
pub fn fields(pairs: &[(String, String)]) -> String {
    let width = pairs
        .iter()
        .map(|(key, _)| key.chars().count())
        .max()
        .unwrap_or(0);
    pairs
        .iter()
        .map(|(key, value)| {
            let pad = width - key.chars().count();
            format!("{key}:{:pad$} {value}\n", "")
        })
        .collect()
}

/// Where a column's cells sit.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Align {
    /// Text.
    Left,
    /// Numbers and sizes.
    Right,
}

/// A table with a title row, columns two spaces apart.
pub struct Table {
    columns: Vec<(&'static str, Align)>,
    rows: Vec<Vec<String>>,
}

impl Table {
    /// An empty table with these column titles.
    pub fn new(columns: &[(&'static str, Align)]) -> Table {
        Table {
            columns: columns.to_vec(),
            rows: Vec::new(),
        }
    }

    /// Adds a row, one cell per column.
    pub fn row(&mut self, cells: Vec<String>) {
        debug_assert_eq!(cells.len(), self.columns.len());
        self.rows.push(cells);
    }

    /// The table as text, with no trailing spaces.
    pub fn render(&self) -> String {
        let titles: Vec<String> = self.columns.iter().map(|(t, _)| t.to_string()).collect();
        let lines: Vec<&Vec<String>> = std::iter::once(&titles).chain(&self.rows).collect();
        let widths: Vec<usize> = (0..self.columns.len())
            .map(|column| {
                lines
                    .iter()
                    .map(|cells| cells[column].chars().count())
                    .max()
                    .unwrap_or(0)
            })
            .collect();
        let mut out = String::new();
        for cells in lines {
            let mut line = String::new();
            for (column, cell) in cells.iter().enumerate() {
                let pad = widths[column] - cell.chars().count();
                if column > 0 {
                    line.push_str("  ");
                }
                match self.columns[column].1 {
                    Align::Left => line.push_str(&format!("{cell}{:pad$}", "")),
                    Align::Right => line.push_str(&format!("{:pad$}{cell}", "")),
                }
            }
            out.push_str(line.trim_end());
            out.push('\n');
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes_use_binary_units_with_one_decimal() {
        assert_eq!(human_bytes(0), "0 B");
        assert_eq!(human_bytes(1023), "1023 B");
        assert_eq!(human_bytes(1024), "1.0 KiB");
        assert_eq!(human_bytes(1_258_291), "1.2 MiB");
        assert_eq!(human_bytes(1024 * 1024 - 1), "1.0 MiB");
        assert_eq!(human_bytes(5 << 30), "5.0 GiB");
        assert_eq!(human_bytes(u64::MAX), "16.0 EiB");
    }

    #[test]
    fn durations_read_as_words() {
        assert_eq!(human_duration(0.25), "250 ms");
        assert_eq!(human_duration(1.234), "1.2 s");
        assert_eq!(human_duration(185.0), "3 min 5 s");
        assert_eq!(human_duration(7_800.0), "2 h 10 min");
        assert_eq!(human_duration(93_600.0 + 86_400.0), "2 d 2 h");
    }

    #[test]
    fn flatten_joins_paths_with_dots_and_names_units() {
        let json = Json::parse(
            br#"{"ok":true,"history":{"last_success":{"finished_at":"2026-01-01T02:00:00Z","duration_ms":1500}},
                "keys":["a","b"],"runs":[{"bytes":2048}],"empty":{},"none":[],"age_seconds":null,
                "wait_ms":999,"idle_seconds":59,
                "plaintext":{"bytes":10}}"#,
        )
        .unwrap();
        let pairs = flatten(&json);
        let expected = [
            ("ok", "yes"),
            ("history.last_success.finished_at", "2026-01-01T02:00:00Z"),
            ("history.last_success.duration_ms", "1500 (1.5 s)"),
            ("keys", "a, b"),
            ("runs[0].bytes", "2.0 KiB (2048 bytes)"),
            ("empty", "none"),
            ("none", "none"),
            ("age_seconds", "-"),
            ("wait_ms", "999"),
            ("idle_seconds", "59"),
            ("plaintext.bytes", "10"),
        ];
        let pairs: Vec<(&str, &str)> = pairs
            .iter()
            .map(|(k, v)| (k.as_str(), v.as_str()))
            .collect();
        assert_eq!(pairs, expected);
    }

    #[test]
    fn fields_and_tables_align_without_trailing_spaces() {
        let pairs = [
            ("id".to_owned(), "b1".to_owned()),
            ("kind".to_owned(), "manual".to_owned()),
        ];
        assert_eq!(fields(&pairs), "id:   b1\nkind: manual\n");
        let mut table = Table::new(&[
            ("NAME", Align::Left),
            ("ROWS", Align::Right),
            ("NOTE", Align::Left),
        ]);
        table.row(vec!["users".into(), "200".into(), String::new()]);
        table.row(vec!["t".into(), "3000".into(), "x".into()]);
        assert_eq!(
            table.render(),
            "NAME   ROWS  NOTE\nusers   200\nt      3000  x\n"
        );
    }
}
