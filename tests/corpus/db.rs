//! The class generators' toolbox: [`Db`] (a connection under D1's limits
//! and a seeded [`Rng`]) with helpers that insert and make values, and the
//! word lists the values are drawn from. Every value a helper makes is one
//! D1 accepts; a helper never swallows an error.

use rusqlite::types::Value;
use rusqlite::{params_from_iter, Connection};

use super::rng::Rng;

/// Words for FTS5 documents and short texts: stems, accents, scripts,
/// emoji, quotes and SQL keywords.
pub(super) const WORDS: &[&str] = &[
    "alpha",
    "beta",
    "gamma",
    "delta",
    "running",
    "runs",
    "ran",
    "naïve",
    "café",
    "Ünïcödé",
    "東京",
    "данные",
    "🎉",
    "quote'd",
    "semi;colon",
    "END",
    "BEGIN",
    "select",
    "zeta",
    "omega",
    "searching",
    "searched",
    "backup",
    "restore",
    "cloud",
    "flare",
    "worker",
];

/// Pieces of TEXT values that trip up quoting and splitting: quotes, line
/// ends, comment markers, bidi and BOM characters, things that look like
/// numbers or NULL.
const TEXT_PIECES: &[&str] = &[
    "plain",
    "it's",
    "\"dq\"",
    "semi;colon",
    ";\n",
    "line\nfeed",
    "cr\rreturn",
    "crlf\r\n",
    "tab\t",
    "-- not a comment",
    "/* nor this */",
    "ünï",
    "😀",
    "👩‍👩‍👧‍👦",
    "שלום",
    "\u{202e}rtl",
    "\u{feff}bom",
    "NULL",
    "''",
    "\\",
    "X'00'",
    "0x10",
    " 12 ",
    "1e5",
];

/// A class database under construction: its connection (with D1's
/// limits) and the class's seeded generator.
pub(super) struct Db {
    pub(super) conn: Connection,
    pub(super) rng: Rng,
}

impl Db {
    /// Runs `sql` (one or more statements); the error shows its start.
    pub(super) fn exec(&self, sql: &str) -> Result<(), String> {
        self.conn
            .execute_batch(sql)
            .map_err(|e| format!("{e}\n  in: {}", sql.chars().take(300).collect::<String>()))
    }

    /// Runs one statement with `values` bound to its `?`s.
    pub(super) fn insert(&self, sql: &str, values: &[Value]) -> Result<(), String> {
        self.conn
            .execute(sql, params_from_iter(values.iter()))
            .map(|_| ())
            .map_err(|e| format!("{e}\n  in: {}", sql.chars().take(300).collect::<String>()))
    }

    /// A TEXT of up to `max_pieces` words and awkward pieces.
    pub(super) fn text(&mut self, max_pieces: usize) -> String {
        let n = self.rng.below(max_pieces + 1);
        (0..n)
            .map(|_| {
                if self.rng.chance(50) {
                    (*self.rng.pick(WORDS)).to_string()
                } else {
                    (*self.rng.pick(TEXT_PIECES)).to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(" ")
    }

    /// An INTEGER, often an edge (0, ±1, i64 bounds, 2^53 + 1).
    pub(super) fn integer(&mut self) -> i64 {
        match self.rng.below(6) {
            0 => *self.rng.pick(&[
                0,
                1,
                -1,
                i64::MAX,
                i64::MIN,
                (1 << 53) + 1,
                -(1 << 53) - 1,
                i32::MAX as i64 + 1,
            ]),
            1 => self.rng.below(100) as i64,
            _ => self.rng.next() as i64,
        }
    }

    /// A finite REAL, often an edge (subnormals, f64::MAX, 0.1).
    pub(super) fn real(&mut self) -> f64 {
        match self.rng.below(5) {
            0 => *self.rng.pick(&[
                0.1,
                0.30000000000000004,
                1.0 / 3.0,
                1e308,
                -1e-310,
                5e-324,
                2.2250738585072014e-308,
                f64::MAX,
                1.5,
                -2.5e-30,
                123456789.12345679,
            ]),
            1 => (self.rng.next() % 2_000_000) as f64 / 7.0 - 100_000.0,
            _ => loop {
                let f = f64::from_bits(self.rng.next());
                if f.is_finite() {
                    break f;
                }
            },
        }
    }

    /// A random value for a column of declared type `declared`; STRICT
    /// columns get values of their type.
    pub(super) fn value(&mut self, declared: &str, strict: bool) -> Value {
        if self.rng.chance(12) {
            return Value::Null;
        }
        let kind = if strict && declared != "ANY" {
            declared.to_string()
        } else {
            (*self.rng.pick(&["INTEGER", "REAL", "TEXT", "BLOB"])).to_string()
        };
        match kind.as_str() {
            "INTEGER" | "INT" => Value::Integer(self.integer()),
            "REAL" => Value::Real(self.real()),
            "TEXT" => Value::Text(self.text(6)),
            _ => {
                let n = self.rng.below(40);
                Value::Blob(self.rng.bytes(n))
            }
        }
    }

    /// Inserts with `make(n)` as the value of the last `?`, for the largest
    /// `n` from `start` down that D1's row limit accepts; returns `n`.
    pub(super) fn insert_largest(
        &self,
        sql: &str,
        fixed: &[Value],
        start: usize,
        make: &dyn Fn(usize) -> Value,
    ) -> Result<usize, String> {
        let mut n = start;
        loop {
            let mut values = fixed.to_vec();
            values.push(make(n));
            match self.conn.execute(sql, params_from_iter(values.iter())) {
                Ok(_) => return Ok(n),
                Err(e) if e.to_string().contains("too big") && n > start - 4096 => n -= 1,
                Err(e) => return Err(format!("{e} (value of {n} bytes)\n  in: {sql}")),
            }
        }
    }
}

/// `n` comma-separated `?`s.
pub(super) fn marks(n: usize) -> String {
    vec!["?"; n].join(", ")
}
