//! Lexical helpers: quoting identifiers and strings, and a small tokenizer
//! that is just enough to read table options, FTS5 arguments and keywords
//! out of the `sql` column of `sqlite_schema` without being fooled by
//! strings, quoted identifiers or comments.

/// `name` as an SQL identifier: wrapped in `"` with every `"` doubled.
pub fn quote_ident(name: &str) -> String {
    let mut out = String::with_capacity(name.len() + 2);
    out.push('"');
    for ch in name.chars() {
        if ch == '"' {
            out.push('"');
        }
        out.push(ch);
    }
    out.push('"');
    out
}

/// `text` as an SQL string literal: wrapped in `'` with every `'` doubled.
pub fn quote_text(text: &str) -> String {
    let mut out = String::with_capacity(text.len() + 2);
    out.push('\'');
    for ch in text.chars() {
        if ch == '\'' {
            out.push('\'');
        }
        out.push(ch);
    }
    out.push('\'');
    out
}

/// `sql` (a statement from `sqlite_schema`) as the dump writes it: followed
/// by `;\n`, or by `\n;\n` when it ends inside a `--` comment, which would
/// otherwise swallow the `;`. A reader that trims the whitespace before a
/// statement's `;` finds `sql` itself either way (SQLite stores no
/// trailing whitespace after the last token).
pub(crate) fn terminated(sql: &str) -> String {
    if ends_in_line_comment(sql) {
        format!("{sql}\n;\n")
    } else {
        format!("{sql};\n")
    }
}

/// Whether SQL text ends inside a `--` comment (outside strings, quoted
/// identifiers and `/* */` comments).
pub(crate) fn ends_in_line_comment(sql: &str) -> bool {
    let bytes = sql.as_bytes();
    let mut i = 0;
    let mut in_line_comment = false;
    while i < bytes.len() {
        match bytes[i] {
            b'-' if bytes.get(i + 1) == Some(&b'-') => {
                in_line_comment = true;
                while i < bytes.len() && bytes[i] != b'\n' {
                    i += 1;
                }
                if i < bytes.len() {
                    in_line_comment = false;
                }
            }
            b'/' if bytes.get(i + 1) == Some(&b'*') => {
                i += 2;
                while i < bytes.len() && !(bytes[i] == b'*' && bytes.get(i + 1) == Some(&b'/')) {
                    i += 1;
                }
                i += 1;
            }
            quote @ (b'\'' | b'"' | b'`' | b'[') => {
                let close = if quote == b'[' { b']' } else { quote };
                i += 1;
                while i < bytes.len() && bytes[i] != close {
                    i += 1;
                }
            }
            _ => {}
        }
        i += 1;
    }
    in_line_comment
}

/// One token of SQL text. Whitespace and comments are dropped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Token {
    /// A bare word: keyword or unquoted identifier.
    Word(String),
    /// A quoted identifier (`"x"`, `` `x` `` or `[x]`), dequoted.
    Quoted(String),
    /// A string literal (`'x'`), dequoted.
    Str(String),
    /// Any other literal (numbers, `X'..'`), as written.
    Literal(String),
    /// A single punctuation character such as `(`, `)`, `,`, `=`, `.`.
    Punct(char),
}

impl Token {
    /// Whether this is the bare word `word` (ASCII case-insensitive).
    pub(crate) fn is_word(&self, word: &str) -> bool {
        matches!(self, Token::Word(w) if w.eq_ignore_ascii_case(word))
    }

    /// The token's text as an FTS5 option value or a name: quoted forms
    /// dequoted, bare words and literals as written.
    pub(crate) fn text(&self) -> String {
        match self {
            Token::Word(s) | Token::Quoted(s) | Token::Str(s) | Token::Literal(s) => s.clone(),
            Token::Punct(c) => c.to_string(),
        }
    }
}

/// Splits SQL text into tokens. Lenient: an unterminated quote or comment
/// runs to the end of the text, because this only reads text that SQLite
/// itself has already parsed and stored.
pub(crate) fn tokenize(sql: &str) -> Vec<Token> {
    let chars: Vec<char> = sql.chars().collect();
    let mut tokens = Vec::new();
    let mut i = 0;
    while i < chars.len() {
        let c = chars[i];
        if c.is_whitespace() {
            i += 1;
        } else if c == '-' && chars.get(i + 1) == Some(&'-') {
            while i < chars.len() && chars[i] != '\n' {
                i += 1;
            }
        } else if c == '/' && chars.get(i + 1) == Some(&'*') {
            i += 2;
            while i < chars.len() && !(chars[i] == '*' && chars.get(i + 1) == Some(&'/')) {
                i += 1;
            }
            i += 2;
        } else if c == '\'' || c == '"' || c == '`' {
            let (text, next) = read_quoted(&chars, i + 1, c);
            i = next;
            tokens.push(if c == '\'' {
                Token::Str(text)
            } else {
                Token::Quoted(text)
            });
        } else if c == '[' {
            let start = i + 1;
            i = start;
            while i < chars.len() && chars[i] != ']' {
                i += 1;
            }
            tokens.push(Token::Quoted(
                chars[start..i.min(chars.len())].iter().collect(),
            ));
            i += 1;
        } else if (c == 'x' || c == 'X') && chars.get(i + 1) == Some(&'\'') {
            let (text, next) = read_quoted(&chars, i + 2, '\'');
            i = next;
            tokens.push(Token::Literal(format!("X'{text}'")));
        } else if c.is_alphanumeric() || c == '_' || c == '$' || !c.is_ascii() {
            let start = i;
            while i < chars.len()
                && (chars[i].is_alphanumeric()
                    || chars[i] == '_'
                    || chars[i] == '$'
                    || !chars[i].is_ascii())
            {
                i += 1;
            }
            let word: String = chars[start..i].iter().collect();
            if c.is_ascii_digit() {
                tokens.push(Token::Literal(word));
            } else {
                tokens.push(Token::Word(word));
            }
        } else {
            tokens.push(Token::Punct(c));
            i += 1;
        }
    }
    tokens
}

/// Reads a quoted run starting after the opening `quote`, where a doubled
/// quote stands for one; returns the dequoted text and the index after it.
fn read_quoted(chars: &[char], mut i: usize, quote: char) -> (String, usize) {
    let mut text = String::new();
    while i < chars.len() {
        if chars[i] == quote {
            if chars.get(i + 1) == Some(&quote) {
                text.push(quote);
                i += 2;
                continue;
            }
            return (text, i + 1);
        }
        text.push(chars[i]);
        i += 1;
    }
    (text, i)
}

/// Splits `tokens` at the top-level (depth 0) commas.
pub(crate) fn split_top_level_commas(tokens: &[Token]) -> Vec<&[Token]> {
    let mut parts = Vec::new();
    let mut depth = 0usize;
    let mut start = 0;
    for (i, token) in tokens.iter().enumerate() {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => depth = depth.saturating_sub(1),
            Token::Punct(',') if depth == 0 => {
                parts.push(&tokens[start..i]);
                start = i + 1;
            }
            _ => {}
        }
    }
    parts.push(&tokens[start..]);
    parts
}

/// The index of the `)` that closes the `(` at `open`, if any.
pub(crate) fn matching_paren(tokens: &[Token], open: usize) -> Option<usize> {
    let mut depth = 0usize;
    for (i, token) in tokens.iter().enumerate().skip(open) {
        match token {
            Token::Punct('(') => depth += 1,
            Token::Punct(')') => {
                depth -= 1;
                if depth == 0 {
                    return Some(i);
                }
            }
            _ => {}
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn identifiers_are_quoted_with_doubled_quotes() {
        assert_eq!(quote_ident("plain"), r#""plain""#);
        assert_eq!(quote_ident(r#"we"ird"#), r#""we""ird""#);
        assert_eq!(quote_ident("select"), r#""select""#);
        assert_eq!(quote_ident("naïve table"), r#""naïve table""#);
        assert_eq!(quote_ident(""), r#""""#);
    }

    #[test]
    fn strings_are_quoted_with_doubled_quotes() {
        assert_eq!(quote_text("it's"), "'it''s'");
        assert_eq!(quote_text("''"), "''''''");
        assert_eq!(quote_text("a\nb"), "'a\nb'");
    }

    #[test]
    fn tokenizer_skips_comments_and_dequotes() {
        let tokens = tokenize(
            "CREATE TABLE \"a\"\"b\" ( -- note ) , 'x'\n x [weird ] name], `b``c` /* ( */ 'it''s', X'00ff', 12.5e3)",
        );
        assert_eq!(
            tokens,
            vec![
                Token::Word("CREATE".into()),
                Token::Word("TABLE".into()),
                Token::Quoted("a\"b".into()),
                Token::Punct('('),
                Token::Word("x".into()),
                Token::Quoted("weird ".into()),
                Token::Word("name".into()),
                Token::Punct(']'),
                Token::Punct(','),
                Token::Quoted("b`c".into()),
                Token::Str("it's".into()),
                Token::Punct(','),
                Token::Literal("X'00ff'".into()),
                Token::Punct(','),
                Token::Literal("12".into()),
                Token::Punct('.'),
                Token::Literal("5e3".into()),
                Token::Punct(')'),
            ]
        );
    }

    #[test]
    fn statements_ending_in_a_line_comment_end_on_the_next_line() {
        assert_eq!(
            terminated("CREATE VIEW v AS SELECT 1"),
            "CREATE VIEW v AS SELECT 1;\n"
        );
        assert_eq!(
            terminated("CREATE VIEW v AS SELECT 1 -- note"),
            "CREATE VIEW v AS SELECT 1 -- note\n;\n"
        );
        assert!(ends_in_line_comment("SELECT 1 /* a */ -- b 'c"));
        assert!(!ends_in_line_comment("SELECT '--x'"));
        assert!(!ends_in_line_comment("SELECT \"a--\" /* -- */"));
        assert!(!ends_in_line_comment("SELECT 1 -- a\n + 2"));
        assert!(!ends_in_line_comment("SELECT [--]"));
    }

    #[test]
    fn commas_split_only_at_depth_zero() {
        let tokens = tokenize("a, f(b, c), 'd,e'");
        let parts = split_top_level_commas(&tokens);
        assert_eq!(parts.len(), 3);
        assert_eq!(parts[1].len(), 6);
        assert_eq!(matching_paren(&tokens, 3), Some(7));
    }
}
