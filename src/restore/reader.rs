//! The statement reader: splits a stream of SQL text into complete
//! statements, with bounded memory, however the stream is cut into pieces.
//!
//! A statement ends at a `;` that completes it, as `sqlite3_complete()`
//! decides (and so the sqlite3 shell, which imports our dumps): a `;` inside
//! a string literal (`'..'`, with `''` for a quote), a quoted identifier
//! (`".."`, `` `..` ``, `[..]`) or a comment (`-- ..` to the end of the
//! line, `/* .. */`) does not count, and neither does one inside the body of
//! a `CREATE [TEMP] TRIGGER`: the body's statements end in `;`, and the
//! trigger ends only at an `END` that follows a `;`, then its own `;`.
//!
//! That last rule is `sqlite3_complete()`'s, and it handles `CASE .. END`
//! without counting: a CASE expression can never follow a `;` directly (no
//! statement starts with CASE), so its END never ends the trigger. Counting
//! CASE and END instead would be fooled by a column named `end` (SQLite
//! lets END serve as a name), as in `UPDATE t SET end = 1;` in a body.
//!
//! # Invariants
//!
//! - Memory: the reader holds at most the statement being read (never more
//!   than [`MAX_STATEMENT_TEXT_BYTES`]) and three bytes of a character cut
//!   between pieces. Whitespace and comments between statements are never
//!   buffered, whatever their size.
//! - The statements found do not depend on where the input is cut.
//! - Line numbers are 1-based; `\n`, `\r\n` and a lone `\r` each end a line.
//!   A `--` comment ends only at `\n`, as in SQLite (a lone `\r` does not
//!   end it, whatever the line count says).
//! - Every byte of input is checked: invalid UTF-8 and NUL bytes (at which
//!   SQLite would silently stop reading a statement) fail the read.
//! - The input must end with a complete statement (or whitespace and
//!   comments): text after the last `;` fails the read, as does a string,
//!   quoted identifier, comment or trigger body left open. After an error
//!   every later call returns the same error.

use std::fmt;

use serde::{Deserialize, Serialize};

/// The largest statement the reader accepts, in bytes of input from its
/// first character to its `;`. Our dumps stay under 100,000 bytes per
/// statement; other tools write a row as one statement, and D1 allows rows
/// of 2,000,000 bytes: a BLOB that size is 4,000,003 bytes as a hex literal.
pub const MAX_STATEMENT_TEXT_BYTES: usize = 4 * 1024 * 1024;

/// One complete statement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Statement {
    /// The statement from its first character (comments and whitespace
    /// before it are left out) to its terminating `;`, without the `;` and
    /// without the whitespace before the `;`. Comments inside are kept.
    pub text: String,
    /// The line (1-based) of its first character.
    pub line: u64,
    /// Bytes of input it spans, from its first character through its `;`.
    pub bytes: usize,
}

/// A construct that can be left open at the end of the input.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub enum Construct {
    /// A string literal `'..'`.
    StringLiteral,
    /// A quoted identifier `".."`, `` `..` `` or `[..]`.
    QuotedIdentifier,
    /// A block comment `/* .. */`.
    BlockComment,
    /// The `BEGIN .. END` body of a CREATE TRIGGER.
    TriggerBody,
    /// A statement with no terminating `;`.
    Statement,
}

impl fmt::Display for Construct {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Construct::StringLiteral => "a string literal",
            Construct::QuotedIdentifier => "a quoted identifier",
            Construct::BlockComment => "a /* comment */",
            Construct::TriggerBody => "the BEGIN ... END body of a CREATE TRIGGER",
            Construct::Statement => "a statement with no terminating ';'",
        })
    }
}

/// Why the input cannot be read as SQL statements.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error, Serialize, Deserialize)]
pub enum ReadError {
    /// A byte sequence that is not UTF-8 (or a character cut off by the end
    /// of the input). SQL dumps are UTF-8 text.
    #[error("line {line}: the dump is not valid UTF-8 text; it is not a SQL dump, or it was written in another encoding (convert it to UTF-8)")]
    InvalidUtf8 {
        /// The line of the offending byte.
        line: u64,
    },

    /// A NUL byte: SQLite stops reading a statement at a NUL, so what
    /// follows it would be silently lost. No SQL dump contains one.
    #[error(
        "line {line}: the dump contains a NUL byte, at which SQLite would stop reading; it is not a plain SQL dump"
    )]
    NulByte {
        /// The line of the NUL byte.
        line: u64,
    },

    /// The input ends inside a construct that was never closed: it is
    /// truncated, or a quote or comment is unbalanced.
    #[error("line {line}: {construct} that starts here is never closed; the dump is truncated or malformed")]
    Unterminated {
        /// What was left open.
        construct: Construct,
        /// The line where it starts.
        line: u64,
    },

    /// A statement longer than [`MAX_STATEMENT_TEXT_BYTES`]: larger than
    /// any row D1 can hold, or a `;` is missing and statements ran together.
    #[error("line {line}: the statement that starts here is longer than {limit} bytes, more than any row D1 can store; a ';' may be missing")]
    StatementTooLarge {
        /// The line where the statement starts.
        line: u64,
        /// [`MAX_STATEMENT_TEXT_BYTES`].
        limit: usize,
    },
}

/// Where the lexer is, within or between tokens.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Lex {
    /// Between tokens (or, with no statement open, between statements).
    Code,
    /// In a word (keyword or bare identifier).
    Word,
    /// In a quoted run closed by `close`; `closing` once a `close` was seen
    /// that may be the first of a doubled pair.
    Quoted { close: u8, closing: bool },
    /// In `[..]`.
    Bracket,
    /// After a `-` that may start a `--` comment.
    Dash,
    /// After a `/` that may start a `/*` comment.
    Slash,
    /// In a `--` comment.
    LineComment,
    /// In a `/* */` comment; `star` after a `*`.
    BlockComment { star: bool },
}

/// How far the statement has come towards completion: the states of
/// `sqlite3_complete()`. `Start` means no statement is open.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
enum Phase {
    Start,
    Normal,
    Explain,
    Create,
    Trigger,
    /// In a trigger body, just after a `;`.
    Semi,
    /// In a trigger body, after `; END`.
    End,
}

/// The tokens that move [`Phase`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Tok {
    Semi,
    Other,
    Explain,
    Create,
    Temp,
    Trigger,
    End,
}

impl Phase {
    /// `sqlite3_complete()`'s transition table.
    fn next(self, tok: Tok) -> Phase {
        use Phase::*;
        match (self, tok) {
            (Start | Normal | Explain | Create | End, Tok::Semi) => Start,
            (Start, Tok::Explain) => Explain,
            (Start | Explain, Tok::Create) => Create,
            (Create, Tok::Temp) => Create,
            (Create, Tok::Trigger) => Trigger,
            (Start | Normal | Create, _) => Normal,
            (Explain, Tok::Other) => Explain,
            (Explain, _) => Normal,
            (Trigger | Semi, Tok::Semi) => Semi,
            (Semi, Tok::End) => End,
            (Trigger | Semi | End, _) => Trigger,
        }
    }
}

/// The longest keyword [`Tok`] is interested in: TEMPORARY.
const KEYWORD_MAX: usize = 9;

/// A streaming reader of statements; see the module documentation. It
/// serializes whole, so a job can save it between invocations.
#[derive(Debug, Serialize, Deserialize)]
pub struct StatementReader {
    lex: Lex,
    phase: Phase,
    /// Whether a statement is open (its first character has been read).
    open: bool,
    /// The open statement's bytes, from its first character.
    #[serde(with = "crate::serde_base64")]
    buffer: Vec<u8>,
    /// Line of the open statement's first character.
    statement_line: u64,
    /// The current line, and whether the last byte was a CR (so that an LF
    /// after it does not count again).
    line: u64,
    after_cr: bool,
    /// Line where the open string, identifier or comment started.
    construct_line: u64,
    /// Line of a `-` or `/` seen between statements, not yet buffered: it
    /// starts a statement unless it starts a comment.
    pending_line: u64,
    /// The current word's first bytes, enough to recognise the keywords.
    word: [u8; KEYWORD_MAX],
    word_len: usize,
    /// Bytes of a UTF-8 character cut off at the end of the last piece.
    #[serde(with = "crate::serde_base64")]
    carry: Vec<u8>,
    error: Option<ReadError>,
}

impl Default for StatementReader {
    fn default() -> Self {
        Self::new()
    }
}

impl StatementReader {
    /// A reader at the start of the input.
    pub fn new() -> Self {
        Self {
            lex: Lex::Code,
            phase: Phase::Start,
            open: false,
            buffer: Vec::new(),
            statement_line: 1,
            line: 1,
            after_cr: false,
            construct_line: 1,
            pending_line: 1,
            word: [0; KEYWORD_MAX],
            word_len: 0,
            carry: Vec::new(),
            error: None,
        }
    }

    /// Reads the next piece of input, of any size, cut anywhere (even inside
    /// a character), and appends every statement it completes to `out`.
    pub fn push(&mut self, bytes: &[u8], out: &mut Vec<Statement>) -> Result<(), ReadError> {
        if let Some(error) = &self.error {
            return Err(error.clone());
        }
        let result = self.push_checked(bytes, out);
        if let Err(error) = &result {
            self.error = Some(error.clone());
        }
        result
    }

    /// Ends the input: fails if it ends inside a statement, string, quoted
    /// identifier, block comment or trigger body.
    pub fn finish(self) -> Result<(), ReadError> {
        if let Some(error) = self.error {
            return Err(error);
        }
        if !self.carry.is_empty() {
            return Err(ReadError::InvalidUtf8 { line: self.line });
        }
        let open = |construct| {
            Err(ReadError::Unterminated {
                construct,
                line: self.construct_line,
            })
        };
        match self.lex {
            Lex::Quoted {
                close: b'\'',
                closing: false,
            } => return open(Construct::StringLiteral),
            Lex::Quoted { closing: false, .. } | Lex::Bracket => {
                return open(Construct::QuotedIdentifier)
            }
            Lex::BlockComment { .. } => return open(Construct::BlockComment),
            _ => {}
        }
        if !self.open {
            // A `-` or `/` pending between statements starts a statement.
            return match self.lex {
                Lex::Dash | Lex::Slash => Err(ReadError::Unterminated {
                    construct: Construct::Statement,
                    line: self.pending_line,
                }),
                _ => Ok(()),
            };
        }
        let construct = match self.phase {
            Phase::Trigger | Phase::Semi | Phase::End => Construct::TriggerBody,
            _ => Construct::Statement,
        };
        Err(ReadError::Unterminated {
            construct,
            line: self.statement_line,
        })
    }

    fn push_checked(
        &mut self,
        mut bytes: &[u8],
        out: &mut Vec<Statement>,
    ) -> Result<(), ReadError> {
        // First complete a character cut off by the last piece.
        while !self.carry.is_empty() {
            let Some((&first, rest)) = bytes.split_first() else {
                return Ok(());
            };
            self.carry.push(first);
            bytes = rest;
            match std::str::from_utf8(&self.carry) {
                Ok(_) => {
                    let character = std::mem::take(&mut self.carry);
                    self.lex_bytes(&character, out)?;
                }
                Err(error) if error.error_len().is_some() => {
                    return Err(ReadError::InvalidUtf8 { line: self.line })
                }
                Err(_) => {}
            }
        }
        match std::str::from_utf8(bytes) {
            Ok(_) => self.lex_bytes(bytes, out),
            Err(error) => {
                let (valid, rest) = bytes.split_at(error.valid_up_to());
                self.lex_bytes(valid, out)?;
                match error.error_len() {
                    Some(_) => Err(ReadError::InvalidUtf8 { line: self.line }),
                    None => {
                        self.carry.extend_from_slice(rest);
                        Ok(())
                    }
                }
            }
        }
    }

    /// Counts a line break.
    fn count_line(&mut self, byte: u8) {
        match byte {
            b'\n' if self.after_cr => self.after_cr = false,
            b'\n' => self.line += 1,
            b'\r' => {
                self.line += 1;
                self.after_cr = true;
            }
            _ => self.after_cr = false,
        }
    }

    /// Appends bytes to the open statement, within the size limit.
    fn keep(&mut self, bytes: &[u8]) -> Result<(), ReadError> {
        if self.buffer.len() + bytes.len() > MAX_STATEMENT_TEXT_BYTES {
            return Err(ReadError::StatementTooLarge {
                line: self.statement_line,
                limit: MAX_STATEMENT_TEXT_BYTES,
            });
        }
        self.buffer.extend_from_slice(bytes);
        Ok(())
    }

    /// A token that moves the phase; a `;` that completes a statement emits it.
    fn token(&mut self, tok: Tok, out: &mut Vec<Statement>) {
        self.phase = self.phase.next(tok);
        if tok == Tok::Semi && self.phase == Phase::Start {
            self.open = false;
            let bytes = self.buffer.len();
            // The `;` is the last byte kept; the text stops before it.
            let text_end = self.buffer[..bytes - 1]
                .iter()
                .rposition(|b| !b.is_ascii_whitespace())
                .map_or(0, |p| p + 1);
            self.buffer.truncate(text_end);
            let text = String::from_utf8(std::mem::take(&mut self.buffer))
                .unwrap_or_else(|e| String::from_utf8_lossy(e.as_bytes()).into_owned());
            out.push(Statement {
                text,
                line: self.statement_line,
                bytes,
            });
        }
    }

    /// Opens a statement whose first character is on `line`.
    fn open_statement(&mut self, line: u64) {
        self.open = true;
        self.statement_line = line;
        self.buffer.clear();
    }

    fn end_word(&mut self, out: &mut Vec<Statement>) {
        let word = &self.word[..self.word_len.min(KEYWORD_MAX)];
        let is = |keyword: &str| {
            self.word_len == keyword.len() && word.eq_ignore_ascii_case(keyword.as_bytes())
        };
        let tok = if is("CREATE") {
            Tok::Create
        } else if is("TRIGGER") {
            Tok::Trigger
        } else if is("TEMP") || is("TEMPORARY") {
            Tok::Temp
        } else if is("END") {
            Tok::End
        } else if is("EXPLAIN") {
            Tok::Explain
        } else {
            Tok::Other
        };
        self.token(tok, out);
    }

    /// Lexes bytes known to be valid UTF-8 (possibly ending or starting in
    /// the middle of a character: only ASCII bytes matter to the lexer).
    fn lex_bytes(&mut self, bytes: &[u8], out: &mut Vec<Statement>) -> Result<(), ReadError> {
        let mut i = 0;
        while i < bytes.len() {
            // Fast path: the body of a string or quoted identifier, where
            // most bytes of a dump are.
            if let Lex::Quoted {
                close,
                closing: false,
            } = self.lex
            {
                let run = bytes[i..]
                    .iter()
                    .position(|&b| b == close || b == b'\n' || b == b'\r' || b == 0)
                    .unwrap_or(bytes.len() - i);
                if run > 0 {
                    self.keep(&bytes[i..i + run])?;
                    self.after_cr = false;
                    i += run;
                    continue;
                }
            }
            let byte = bytes[i];
            if byte == 0 {
                return Err(ReadError::NulByte { line: self.line });
            }
            self.lex_byte(byte, out)?;
            self.count_line(byte);
            i += 1;
        }
        Ok(())
    }

    fn lex_byte(&mut self, byte: u8, out: &mut Vec<Statement>) -> Result<(), ReadError> {
        match self.lex {
            Lex::Code => self.code_byte(byte, out),
            Lex::Word => {
                if super::lex::is_id_byte(byte) {
                    if self.word_len < KEYWORD_MAX {
                        self.word[self.word_len] = byte;
                    }
                    self.word_len = self.word_len.saturating_add(1);
                    return self.keep(&[byte]);
                }
                self.lex = Lex::Code;
                self.end_word(out);
                self.code_byte(byte, out)
            }
            Lex::Quoted { close, closing } => {
                if closing {
                    if byte == close {
                        // A doubled quote: still inside.
                        self.lex = Lex::Quoted {
                            close,
                            closing: false,
                        };
                        return self.keep(&[byte]);
                    }
                    self.lex = Lex::Code;
                    self.token(Tok::Other, out);
                    return self.code_byte(byte, out);
                }
                if byte == close {
                    self.lex = Lex::Quoted {
                        close,
                        closing: true,
                    };
                }
                self.keep(&[byte])
            }
            Lex::Bracket => {
                if byte == b']' {
                    self.lex = Lex::Code;
                    self.keep(&[byte])?;
                    self.token(Tok::Other, out);
                    return Ok(());
                }
                self.keep(&[byte])
            }
            Lex::Dash | Lex::Slash => {
                let (first, comment_byte) = if self.lex == Lex::Dash {
                    (b'-', b'-')
                } else {
                    (b'/', b'*')
                };
                if byte == comment_byte {
                    self.construct_line = if self.open {
                        self.line
                    } else {
                        self.pending_line
                    };
                    self.lex = if first == b'-' {
                        Lex::LineComment
                    } else {
                        Lex::BlockComment { star: false }
                    };
                    if self.open {
                        self.keep(&[byte])?;
                    }
                    return Ok(());
                }
                // Not a comment: the pending character is an operator.
                if !self.open {
                    self.open_statement(self.pending_line);
                    self.keep(&[first])?;
                }
                self.lex = Lex::Code;
                self.token(Tok::Other, out);
                self.code_byte(byte, out)
            }
            Lex::LineComment => {
                // Only LF ends it, as in SQLite: a lone CR does not.
                if byte == b'\n' {
                    self.lex = Lex::Code;
                }
                if self.open {
                    self.keep(&[byte])?;
                }
                Ok(())
            }
            Lex::BlockComment { star } => {
                self.lex = match byte {
                    b'/' if star => Lex::Code,
                    b'*' => Lex::BlockComment { star: true },
                    _ => Lex::BlockComment { star: false },
                };
                if self.open {
                    self.keep(&[byte])?;
                }
                Ok(())
            }
        }
    }

    /// A byte between tokens.
    fn code_byte(&mut self, byte: u8, out: &mut Vec<Statement>) -> Result<(), ReadError> {
        let line = self.line;
        if byte.is_ascii_whitespace() {
            if self.open {
                self.keep(&[byte])?;
            }
            return Ok(());
        }
        if byte == b'-' || byte == b'/' {
            self.lex = if byte == b'-' { Lex::Dash } else { Lex::Slash };
            if self.open {
                self.keep(&[byte])?;
            } else {
                self.pending_line = line;
            }
            return Ok(());
        }
        if !self.open {
            if byte == b';' {
                return Ok(()); // an empty statement
            }
            self.open_statement(line);
        }
        self.keep(&[byte])?;
        match byte {
            b';' => self.token(Tok::Semi, out),
            b'\'' | b'"' | b'`' => {
                self.construct_line = line;
                self.lex = Lex::Quoted {
                    close: byte,
                    closing: false,
                };
            }
            b'[' => {
                self.construct_line = line;
                self.lex = Lex::Bracket;
            }
            b if super::lex::is_id_byte(b) => {
                self.lex = Lex::Word;
                self.word[0] = b;
                self.word_len = 1;
            }
            _ => self.token(Tok::Other, out),
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Reads `input` in pieces of `piece` bytes.
    fn read(input: &[u8], piece: usize) -> Result<Vec<Statement>, ReadError> {
        let mut reader = StatementReader::new();
        let mut out = Vec::new();
        for chunk in input.chunks(piece.max(1)) {
            reader.push(chunk, &mut out)?;
        }
        reader.finish()?;
        Ok(out)
    }

    fn texts_and_lines(input: &str) -> Vec<(String, u64)> {
        let whole = read(input.as_bytes(), usize::MAX).expect("reads");
        for piece in [1, 2, 3, 7] {
            assert_eq!(
                read(input.as_bytes(), piece).expect("reads in pieces"),
                whole,
                "pieces of {piece}"
            );
        }
        whole.into_iter().map(|s| (s.text, s.line)).collect()
    }

    fn error(input: &[u8]) -> ReadError {
        let whole = read(input, usize::MAX).expect_err("fails");
        assert_eq!(read(input, 1).expect_err("fails in pieces"), whole);
        whole
    }

    #[test]
    fn statements_split_at_semicolons_outside_quotes_and_comments() {
        let input = "-- d1-vault dump format 1\n-- header; with a semicolon\nPRAGMA defer_foreign_keys=ON;\n\
                     INSERT INTO \"a;b\"([c;d], `e;f`) VALUES('x;y', 'it''s; ok', \"q\"\"; r\") /* ; */ ;\n\
                     \n  SELECT 1 -- trailing; comment\n;;\n;CREATE TABLE t(a);";
        assert_eq!(
            texts_and_lines(input),
            vec![
                ("PRAGMA defer_foreign_keys=ON".into(), 3),
                ("INSERT INTO \"a;b\"([c;d], `e;f`) VALUES('x;y', 'it''s; ok', \"q\"\"; r\") /* ; */".into(), 4),
                ("SELECT 1 -- trailing; comment".into(), 6),
                ("CREATE TABLE t(a)".into(), 8),
            ]
        );
    }

    #[test]
    fn statement_bytes_span_the_text_through_its_semicolon() {
        let out = read(b"  SELECT 1  ;\n/* c */x;", usize::MAX).expect("reads");
        assert_eq!(out[0].bytes, "SELECT 1  ;".len());
        assert_eq!(out[1].bytes, 2);
    }

    #[test]
    fn crlf_and_lone_cr_each_end_one_line() {
        let input =
            "SELECT 1;\r\nSELECT 2;\rSELECT 3;\nSELECT 'a\r\nb\rc\nd'; SELECT 4;\r\n\r\nSELECT 5;";
        let lines: Vec<u64> = texts_and_lines(input)
            .into_iter()
            .map(|(_, line)| line)
            .collect();
        assert_eq!(lines, [1, 2, 3, 4, 7, 9]);
    }

    #[test]
    fn triggers_end_at_end_after_a_semicolon() {
        let trigger = "CREATE TRIGGER tr AFTER INSERT ON t WHEN new.a = 'x;' BEGIN\n\
                       UPDATE t SET end = CASE WHEN new.b THEN 'END;' ELSE CASE 1 WHEN 2 THEN 3 END END; -- END;\n\
                       SELECT CASE new.a WHEN 1 THEN 2 END;\n\
                       END";
        let input =
            format!("{trigger};\nCREATE TEMP TRIGGER \"x\" BEFORE DELETE ON t BEGIN DELETE FROM u; end ;SELECT 2;");
        assert_eq!(
            texts_and_lines(&input),
            vec![
                (trigger.to_string(), 1),
                (
                    "CREATE TEMP TRIGGER \"x\" BEFORE DELETE ON t BEGIN DELETE FROM u; end".into(),
                    5
                ),
                ("SELECT 2".into(), 5),
            ]
        );
    }

    #[test]
    fn create_without_trigger_ends_at_its_semicolon() {
        let input =
            "CREATE TABLE end(a); CREATE TEMP TABLE trigger(b); EXPLAIN CREATE TRIGGER x BEGIN SELECT 1; END; x;";
        let texts: Vec<String> = texts_and_lines(input)
            .into_iter()
            .map(|(text, _)| text)
            .collect();
        assert_eq!(
            texts,
            [
                "CREATE TABLE end(a)",
                "CREATE TEMP TABLE trigger(b)",
                "EXPLAIN CREATE TRIGGER x BEGIN SELECT 1; END",
                "x"
            ]
        );
    }

    #[test]
    fn dashes_and_slashes_that_are_not_comments_start_statements() {
        let texts: Vec<(String, u64)> = texts_and_lines("-1;\n/2; -- c\n/* d */ 3 - -4 / 5;");
        assert_eq!(
            texts,
            vec![("-1".into(), 1), ("/2".into(), 2), ("3 - -4 / 5".into(), 3)]
        );
    }

    #[test]
    fn characters_cut_between_pieces_are_rejoined() {
        let input = "INSERT INTO t VALUES('naïve 😀 ü');".as_bytes();
        for piece in 1..input.len() {
            let out = read(input, piece).expect("reads");
            assert_eq!(out[0].text, "INSERT INTO t VALUES('naïve 😀 ü')");
        }
    }

    #[test]
    fn invalid_utf8_names_its_line() {
        assert_eq!(
            error(b"SELECT 1;\nSELECT '\xff';"),
            ReadError::InvalidUtf8 { line: 2 }
        );
        assert_eq!(
            error(b"SELECT 1;\n\n-- \xc3\x28\n"),
            ReadError::InvalidUtf8 { line: 3 }
        );
        // A character cut off by the end of the input.
        assert_eq!(
            error(b"SELECT 1;\n\xf0\x9f\x98"),
            ReadError::InvalidUtf8 { line: 2 }
        );
    }

    #[test]
    fn nul_bytes_are_refused() {
        assert_eq!(
            error(b"SELECT 1;\nSELECT 'a\0b';"),
            ReadError::NulByte { line: 2 }
        );
    }

    #[test]
    fn constructs_left_open_name_where_they_start() {
        let open = |construct, line| ReadError::Unterminated { construct, line };
        assert_eq!(
            error(b"SELECT 1;\nSELECT 'abc;\n\n"),
            open(Construct::StringLiteral, 2)
        );
        assert_eq!(
            error(b"SELECT \"abc;"),
            open(Construct::QuotedIdentifier, 1)
        );
        assert_eq!(error(b"SELECT `abc;"), open(Construct::QuotedIdentifier, 1));
        assert_eq!(
            error(b"SELECT\n[abc;"),
            open(Construct::QuotedIdentifier, 2)
        );
        assert_eq!(
            error(b"SELECT 1;\n/* comment;\n"),
            open(Construct::BlockComment, 2)
        );
        assert_eq!(
            error(b"SELECT 1 /* comment;\n"),
            open(Construct::BlockComment, 1)
        );
        assert_eq!(
            error(b"SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON x BEGIN\nSELECT 1;\n"),
            open(Construct::TriggerBody, 2)
        );
        assert_eq!(
            error(b"SELECT 1;\nCREATE TRIGGER t AFTER INSERT ON x BEGIN SELECT 1; END"),
            open(Construct::TriggerBody, 2)
        );
        assert_eq!(
            error(b"SELECT 1;\n\nSELECT 2"),
            open(Construct::Statement, 3)
        );
        assert_eq!(
            error(b"SELECT 1;\nSELECT 'x'"),
            open(Construct::Statement, 2)
        );
        assert_eq!(error(b"SELECT 1;\n  -"), open(Construct::Statement, 2));
        // Only LF ends a line comment, as in SQLite: not a lone CR.
        assert_eq!(
            texts_and_lines("SELECT 1 -- c\rSELECT 2;\nSELECT 3;\rSELECT 4;"),
            vec![
                ("SELECT 1 -- c\rSELECT 2;\nSELECT 3".into(), 1),
                ("SELECT 4".into(), 4)
            ]
        );
        // A line comment may end the input without a newline.
        assert_eq!(
            texts_and_lines("SELECT 1; -- the end, no newline"),
            vec![("SELECT 1".into(), 1)]
        );
    }

    #[test]
    fn statements_over_the_limit_are_refused() {
        let mut input = b"SELECT 1;\n\nSELECT '".to_vec();
        input.resize(input.len() + MAX_STATEMENT_TEXT_BYTES, b'x');
        input.extend_from_slice(b"';");
        let expected = ReadError::StatementTooLarge {
            line: 3,
            limit: MAX_STATEMENT_TEXT_BYTES,
        };
        assert_eq!(read(&input, usize::MAX), Err(expected.clone()));
        assert_eq!(read(&input, 65_536), Err(expected));

        // Exactly at the limit, `;` included, is fine; huge comments between
        // statements are not held, so they do not count.
        let mut input = b"/*".to_vec();
        input.resize(2 * MAX_STATEMENT_TEXT_BYTES, b'c');
        input.extend_from_slice(b"*/SELECT '");
        let start = input.len() - "SELECT '".len();
        input.resize(start + MAX_STATEMENT_TEXT_BYTES - 2, b'y');
        input.extend_from_slice(b"';");
        let out = read(&input, 100_000).expect("reads");
        assert_eq!(out[0].bytes, MAX_STATEMENT_TEXT_BYTES);
    }

    #[test]
    fn the_reader_stays_failed_after_an_error() {
        let mut reader = StatementReader::new();
        let mut out = Vec::new();
        assert_eq!(
            reader.push(b"SELECT '\xff';", &mut out),
            Err(ReadError::InvalidUtf8 { line: 1 })
        );
        assert_eq!(
            reader.push(b"SELECT 1;", &mut out),
            Err(ReadError::InvalidUtf8 { line: 1 })
        );
        assert!(out.is_empty());
        assert_eq!(reader.finish(), Err(ReadError::InvalidUtf8 { line: 1 }));
    }

    #[test]
    fn errors_read_as_instructions() {
        let message = ReadError::Unterminated {
            construct: Construct::TriggerBody,
            line: 12,
        }
        .to_string();
        assert_eq!(
            message,
            "line 12: the BEGIN ... END body of a CREATE TRIGGER that starts here is never closed; the dump is truncated or malformed"
        );
    }
}
