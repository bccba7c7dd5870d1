//! A tokenizer over the text of one statement, for the validator and the
//! planner. It borrows the text (tokens are spans, nothing is copied), so a
//! statement of megabytes costs no more memory to read than it already
//! takes. Whitespace and comments are dropped.
//!
//! It follows SQLite's tokenizer (`tokenize.c`) closely enough to never be
//! fooled by strings, quoted identifiers or comments. It is lenient about
//! the rest: a quote or comment left open runs to the end of the text (the
//! [`super::reader`] has already rejected such input), and characters SQLite
//! would not accept become [`TokenKind::Punct`] tokens, which the validator
//! rejects wherever it looks at them.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

/// What a token is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub(crate) enum TokenKind {
    /// A bare word: a keyword or an unquoted identifier.
    Word,
    /// A quoted identifier: `"x"`, `` `x` `` or `[x]`.
    Quoted,
    /// A string literal `'x'`.
    Str,
    /// A BLOB literal `X'..'`.
    Blob,
    /// A numeric literal (decimal, with fraction or exponent, or `0x` hex).
    Number,
    /// A bound parameter: `?`, `?N`, `:name`, `@name`, `$name`.
    Variable,
    /// The concatenation operator `||`.
    Concat,
    /// Any other single character: `(`, `)`, `,`, `.`, `=`, `-`, ...
    Punct,
}

/// One token: its kind and its text as written, quotes included.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Token<'a> {
    pub kind: TokenKind,
    pub text: &'a str,
    /// Byte offset of the token in the statement text.
    pub start: usize,
}

impl<'a> Token<'a> {
    /// Byte offset just after the token.
    pub fn end(&self) -> usize {
        self.start + self.text.len()
    }

    /// Whether this is the bare word `word` (ASCII case-insensitive).
    pub fn is_word(&self, word: &str) -> bool {
        self.kind == TokenKind::Word && self.text.eq_ignore_ascii_case(word)
    }

    /// Whether this is the punctuation character `c`.
    pub fn is_punct(&self, c: char) -> bool {
        self.kind == TokenKind::Punct && self.text.len() == c.len_utf8() && self.text.starts_with(c)
    }

    /// The identifier this token names, dequoted: bare words, quoted
    /// identifiers and (as SQLite also accepts) string literals.
    pub fn name(&self) -> Option<Cow<'a, str>> {
        match self.kind {
            TokenKind::Word => Some(Cow::Borrowed(self.text)),
            TokenKind::Quoted | TokenKind::Str => Some(dequote(self.text)),
            _ => None,
        }
    }

    /// The value of a string literal, with its doubled quotes undone.
    pub fn string_value(&self) -> Option<Cow<'a, str>> {
        (self.kind == TokenKind::Str).then(|| dequote(self.text))
    }

    /// Whether this is a BLOB literal with well-formed hex digits (an even
    /// number of them), checked without decoding.
    pub fn is_valid_blob(&self) -> bool {
        // `X'` and `'` around the digits; an unterminated literal has no closing quote.
        let hex = match self.text.get(2..) {
            Some(rest) if self.kind == TokenKind::Blob => rest.strip_suffix('\''),
            _ => None,
        };
        hex.is_some_and(|hex| hex.len() % 2 == 0 && hex.bytes().all(|b| b.is_ascii_hexdigit()))
    }

    /// The bytes of a BLOB literal, or None if its hex digits are malformed
    /// (an odd number of them, or a character that is not a hex digit).
    pub fn blob_value(&self) -> Option<Vec<u8>> {
        if !self.is_valid_blob() {
            return None;
        }
        let hex = &self.text.as_bytes()[2..self.text.len() - 1];
        hex.chunks_exact(2)
            .map(|pair| Some(hex_digit(pair[0])? << 4 | hex_digit(pair[1])?))
            .collect()
    }
}

fn hex_digit(byte: u8) -> Option<u8> {
    char::from(byte)
        .to_digit(16)
        .and_then(|d| u8::try_from(d).ok())
}

/// Removes the quotes around a quoted identifier or string literal and
/// undoes the doubling of the quote character inside (`[x]` has none).
pub(crate) fn dequote(text: &str) -> Cow<'_, str> {
    let Some(open) = text.chars().next() else {
        return Cow::Borrowed(text);
    };
    let close = match open {
        '"' | '\'' | '`' => open,
        '[' => ']',
        _ => return Cow::Borrowed(text),
    };
    let inner = text[1..].strip_suffix(close).unwrap_or(&text[1..]);
    if open == '[' {
        return Cow::Borrowed(inner);
    }
    let doubled: String = [close, close].iter().collect();
    if inner.contains(&doubled) {
        Cow::Owned(inner.replace(&doubled, &close.to_string()))
    } else {
        Cow::Borrowed(inner)
    }
}

/// Whether SQLite counts `byte` as part of an identifier: ASCII letters and
/// digits, `_`, `$`, and every byte of a non-ASCII character.
pub(crate) fn is_id_byte(byte: u8) -> bool {
    byte.is_ascii_alphanumeric() || byte == b'_' || byte == b'$' || byte >= 0x80
}

/// An iterator over the tokens of `sql`.
#[derive(Debug, Clone)]
pub(crate) struct Lexer<'a> {
    sql: &'a str,
    pos: usize,
}

impl<'a> Lexer<'a> {
    pub fn new(sql: &'a str) -> Self {
        Self { sql, pos: 0 }
    }

    /// The index of the first byte at or after `from` for which `stop` holds,
    /// or the end of the text.
    fn find_byte(&self, from: usize, stop: impl Fn(u8) -> bool) -> usize {
        self.sql.as_bytes()[from..]
            .iter()
            .position(|&b| stop(b))
            .map_or(self.sql.len(), |p| from + p)
    }

    /// The end of a quoted run that opens at `start` and closes with
    /// `close`, where a doubled `close` (if `doubles`) stands for one.
    fn quoted_end(&self, start: usize, close: u8, doubles: bool) -> usize {
        let bytes = self.sql.as_bytes();
        let mut i = start + 1;
        loop {
            i = self.find_byte(i, |b| b == close);
            if i >= bytes.len() {
                return bytes.len();
            }
            if doubles && bytes.get(i + 1) == Some(&close) {
                i += 2;
                continue;
            }
            return i + 1;
        }
    }

    fn number_end(&self, start: usize) -> usize {
        let bytes = self.sql.as_bytes();
        let digits = |i: usize| self.find_byte(i, |b| !b.is_ascii_digit());
        if bytes[start] == b'0' && matches!(bytes.get(start + 1), Some(b'x' | b'X')) {
            return self.find_byte(start + 2, |b| !is_id_byte(b));
        }
        let mut i = digits(start);
        if bytes.get(i) == Some(&b'.') {
            i = digits(i + 1);
        }
        if matches!(bytes.get(i), Some(b'e' | b'E')) {
            let sign = usize::from(matches!(bytes.get(i + 1), Some(b'+' | b'-')));
            if bytes.get(i + 1 + sign).is_some_and(u8::is_ascii_digit) {
                i = digits(i + 1 + sign);
            }
        }
        // SQLite refuses a number run into a word ("12abc"); keep them one
        // token, which then fails the number check of the validator.
        self.find_byte(i, |b| !is_id_byte(b))
    }
}

impl<'a> Iterator for Lexer<'a> {
    type Item = Token<'a>;

    fn next(&mut self) -> Option<Token<'a>> {
        let bytes = self.sql.as_bytes();
        loop {
            let start = self.find_byte(self.pos, |b| !b.is_ascii_whitespace());
            let &first = bytes.get(start)?;
            let second = bytes.get(start + 1).copied();
            let (kind, end) = match first {
                b'-' if second == Some(b'-') => {
                    self.pos = self.find_byte(start, |b| b == b'\n');
                    continue;
                }
                b'/' if second == Some(b'*') => {
                    self.pos = self.sql[start + 2..]
                        .find("*/")
                        .map_or(bytes.len(), |p| start + 2 + p + 2);
                    continue;
                }
                b'\'' => (TokenKind::Str, self.quoted_end(start, b'\'', true)),
                b'"' | b'`' => (TokenKind::Quoted, self.quoted_end(start, first, true)),
                b'[' => (TokenKind::Quoted, self.quoted_end(start, b']', false)),
                b'x' | b'X' if second == Some(b'\'') => {
                    (TokenKind::Blob, self.quoted_end(start + 1, b'\'', false))
                }
                b'0'..=b'9' => (TokenKind::Number, self.number_end(start)),
                b'.' if second.is_some_and(|b| b.is_ascii_digit()) => {
                    (TokenKind::Number, self.number_end(start))
                }
                b'?' => (
                    TokenKind::Variable,
                    self.find_byte(start + 1, |b| !b.is_ascii_digit()),
                ),
                b':' | b'@' | b'$' => (
                    TokenKind::Variable,
                    self.find_byte(start + 1, |b| !is_id_byte(b)),
                ),
                b'|' if second == Some(b'|') => (TokenKind::Concat, start + 2),
                b if is_id_byte(b) => (TokenKind::Word, self.find_byte(start, |b| !is_id_byte(b))),
                _ => {
                    // One character, whole (it may be a multi-byte one).
                    let len = self.sql[start..].chars().next().map_or(1, char::len_utf8);
                    (TokenKind::Punct, start + len)
                }
            };
            self.pos = end;
            return Some(Token {
                kind,
                text: &self.sql[start..end],
                start,
            });
        }
    }
}

/// Whether `text` is a numeric literal SQLite reads: digits with an
/// optional fraction and exponent, or `0x` and hex digits.
pub(crate) fn is_number(text: &str) -> bool {
    if let Some(hex) = text.strip_prefix("0x").or_else(|| text.strip_prefix("0X")) {
        return !hex.is_empty() && hex.bytes().all(|b| b.is_ascii_hexdigit());
    }
    let (mantissa, exponent) = match text.find(['e', 'E']) {
        Some(at) => (&text[..at], Some(&text[at + 1..])),
        None => (text, None),
    };
    let (whole, fraction) = mantissa.split_once('.').unwrap_or((mantissa, ""));
    let digits = |s: &str| s.bytes().all(|b| b.is_ascii_digit());
    let mantissa_ok =
        digits(whole) && digits(fraction) && !(whole.is_empty() && fraction.is_empty());
    let exponent_ok = exponent.is_none_or(|e| {
        let e = e.strip_prefix(['+', '-']).unwrap_or(e);
        !e.is_empty() && digits(e)
    });
    mantissa_ok && exponent_ok
}

#[cfg(test)]
mod tests {
    use super::*;

    fn kinds(sql: &str) -> Vec<(TokenKind, &str)> {
        Lexer::new(sql).map(|t| (t.kind, t.text)).collect()
    }

    #[test]
    fn tokens_skip_comments_and_keep_quotes() {
        use TokenKind::*;
        assert_eq!(
            kinds(
                "INSERT INTO \"a\"\"b\"(x) -- c;\nVALUES(-1.5e3,'it''s',X'00ff',NULL) /* ; */ || ?1 [w x] `y` .5 0x1F"
            ),
            vec![
                (Word, "INSERT"),
                (Word, "INTO"),
                (Quoted, "\"a\"\"b\""),
                (Punct, "("),
                (Word, "x"),
                (Punct, ")"),
                (Word, "VALUES"),
                (Punct, "("),
                (Punct, "-"),
                (Number, "1.5e3"),
                (Punct, ","),
                (Str, "'it''s'"),
                (Punct, ","),
                (Blob, "X'00ff'"),
                (Punct, ","),
                (Word, "NULL"),
                (Punct, ")"),
                (Concat, "||"),
                (Variable, "?1"),
                (Quoted, "[w x]"),
                (Quoted, "`y`"),
                (Number, ".5"),
                (Number, "0x1F"),
            ]
        );
    }

    #[test]
    fn names_and_values_are_dequoted() {
        let tokens: Vec<Token> =
            Lexer::new("\"a\"\"b\" `c``d` [e\"f] 'g''h' plain X'00fF' x'0' X'zz'").collect();
        let names: Vec<String> = tokens[..5]
            .iter()
            .map(|t| t.name().unwrap_or_default().into_owned())
            .collect();
        assert_eq!(names, ["a\"b", "c`d", "e\"f", "g'h", "plain"]);
        assert_eq!(tokens[3].string_value().as_deref(), Some("g'h"));
        assert_eq!(tokens[5].blob_value(), Some(vec![0x00, 0xff]));
        assert_eq!(tokens[6].blob_value(), None, "odd number of digits");
        assert_eq!(tokens[7].blob_value(), None, "not hex");
        assert_eq!(tokens[0].blob_value(), None);
    }

    #[test]
    fn unterminated_runs_to_the_end() {
        assert_eq!(kinds("'abc"), vec![(TokenKind::Str, "'abc")]);
        assert_eq!(kinds("a /* b"), vec![(TokenKind::Word, "a")]);
        assert_eq!(
            kinds("é;"),
            vec![(TokenKind::Word, "é"), (TokenKind::Punct, ";")]
        );
        assert_eq!(
            kinds("a ¬ b"),
            vec![
                (TokenKind::Word, "a"),
                (TokenKind::Word, "¬"),
                (TokenKind::Word, "b")
            ]
        );
    }

    #[test]
    fn numbers_are_checked() {
        for ok in [
            "0", "12", "1.5", ".5", "5.", "1e10", "1E+10", "2.5e-3", "0x1f", "9.0e+999",
        ] {
            assert!(is_number(ok), "{ok}");
        }
        for bad in ["", ".", "1e", "1e+", "12abc", "0x", "0xg", "1.2.3", "e5"] {
            assert!(!is_number(bad), "{bad}");
        }
    }
}
