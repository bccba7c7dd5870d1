//! The statement reader finds exactly the statements a random script is made
//! of, with their start lines, however the script is cut into pieces; and
//! it agrees with SQLite's own `sqlite3_complete()`.

use d1_vault::restore::{Statement, StatementReader};
use proptest::prelude::*;

/// One random statement: its text as the reader must return it (no
/// trailing whitespace) and what follows the text before its `;`.
#[derive(Debug, Clone)]
struct Generated {
    text: String,
    before_semicolon: String,
}

/// Characters that make literals and comments hard: `;`, quotes of every
/// kind, line breaks of every kind, comment markers and multi-byte UTF-8.
fn tricky_char() -> impl Strategy<Value = char> {
    prop::sample::select(vec![
        'a', 'Z', ' ', ';', '\'', '"', '`', '[', ']', '\n', '\r', '-', '/', '*', 'é', '😀', 'E',
        'N', 'D',
    ])
}

fn tricky_text(max: usize) -> impl Strategy<Value = String> {
    prop::collection::vec(tricky_char(), 0..max).prop_map(|chars| chars.into_iter().collect())
}

/// A token that may sit anywhere after a statement's first word.
fn token() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "end", "END", "case", "CASE", "create", "TRIGGER", "temp", "x1", "naïve", "_a$", "("
        ])
        .prop_map(str::to_string),
        prop::sample::select(vec![
            ")", ",", "=", "||", "-", "/", "*", "42", "1.5e-3", "X'00ff'"
        ])
        .prop_map(str::to_string),
        tricky_text(12).prop_map(|s| format!("'{}'", s.replace('\'', "''"))),
        tricky_text(8).prop_map(|s| format!("\"{}\"", s.replace('"', "\"\""))),
        tricky_text(8).prop_map(|s| format!("`{}`", s.replace('`', "``"))),
        tricky_text(8).prop_map(|s| format!("[{}]", s.replace(']', ""))),
    ]
}

/// Whitespace or a comment between two tokens (at least one character).
fn separator() -> impl Strategy<Value = String> {
    // SQLite ends a `--` comment at LF only, never at a lone CR.
    let line_break = prop::sample::select(vec!["\n", "\r\n"]);
    prop_oneof![
        4 => prop::sample::select(vec![" ", "\t", "\n", "\r\n", "\r", "  \n "]).prop_map(str::to_string),
        1 => (tricky_text(10), line_break).prop_map(|(s, end)| format!("--{}{end}", s.replace(['\n', '\r'], ""))),
        1 => tricky_text(10).prop_map(|s| format!("/*{}*/", s.replace('/', ""))),
    ]
}

/// First word, tokens and separators joined: `first sep tok sep tok ...`.
fn tokens_after(first: impl Strategy<Value = String>, max: usize) -> impl Strategy<Value = String> {
    (first, prop::collection::vec((separator(), token()), 0..max)).prop_map(|(first, rest)| {
        rest.into_iter().fold(first, |mut text, (sep, tok)| {
            text.push_str(&sep);
            text.push_str(&tok);
            text
        })
    })
}

/// A statement that is not a trigger (it never starts with CREATE).
fn plain() -> impl Strategy<Value = String> {
    tokens_after(
        prop::sample::select(vec!["SELECT", "INSERT", "UPDATE", "DELETE", "PRAGMA", "x"])
            .prop_map(str::to_string),
        12,
    )
}

/// A CREATE [TEMP] TRIGGER whose body statements contain `;`-free noise,
/// CASE ... END expressions, and words END and end that do not end it.
fn trigger() -> impl Strategy<Value = String> {
    let case = prop::sample::select(vec![
        "CASE WHEN a THEN 'x;' END",
        "CASE x WHEN 1 THEN CASE y WHEN 2 THEN 3 END ELSE 4 END",
        "\"end\"",
        "end",
    ]);
    let body_statement = (
        tokens_after(
            prop::sample::select(vec![
                "SELECT",
                "UPDATE t SET x =",
                "INSERT INTO t VALUES(",
                "DELETE FROM t WHERE",
            ])
            .prop_map(str::to_string),
            4,
        ),
        case,
        separator(),
    )
        .prop_map(|(head, case, sep)| format!("{head} {case}{sep};"));
    (
        prop::bool::ANY,
        separator(),
        prop::collection::vec((separator(), body_statement), 1..4),
        separator(),
    )
        .prop_map(|(temp, sep, body, end_sep)| {
            let mut text = format!(
                "CREATE{sep}{}TRIGGER tr AFTER INSERT ON t BEGIN",
                if temp { "TEMP " } else { "" }
            );
            for (sep, statement) in body {
                text.push_str(&sep);
                text.push_str(&statement);
            }
            text.push_str(&end_sep);
            text.push_str("END");
            text
        })
}

fn statement() -> impl Strategy<Value = Generated> {
    let trailing = prop_oneof![3 => Just(String::new()), 1 => separator()];
    (prop_oneof![3 => plain(), 1 => trigger()], trailing).prop_map(|(text, before_semicolon)| {
        Generated {
            text,
            before_semicolon,
        }
    })
}

/// Lines ended before byte `at`: `\r\n`, `\r` and `\n` each end one.
fn line_at(input: &str, at: usize) -> u64 {
    let bytes = &input.as_bytes()[..at];
    let crlf = bytes.windows(2).filter(|w| w == b"\r\n").count();
    let breaks = bytes.iter().filter(|&&b| b == b'\n' || b == b'\r').count();
    1 + (breaks - crlf) as u64
}

/// A script of statements, what the reader must find in it, and the byte
/// offset where each statement starts.
fn script() -> impl Strategy<Value = (String, Vec<Statement>, Vec<usize>)> {
    let between =
        prop_oneof![4 => separator(), 1 => Just(String::new()), 1 => Just(" ; ".to_string())];
    (
        prop::collection::vec((between, statement()), 0..8),
        prop_oneof![Just(String::new()), separator()],
    )
        .prop_map(|(parts, tail)| {
            let mut input = String::new();
            let mut expected = Vec::new();
            let mut starts = Vec::new();
            for (between, generated) in parts {
                input.push_str(&between);
                let start = input.len();
                input.push_str(&generated.text);
                input.push_str(&generated.before_semicolon);
                input.push(';');
                let text = format!("{}{}", generated.text, generated.before_semicolon);
                let text = text
                    .trim_end_matches(|c: char| c.is_ascii_whitespace())
                    .to_string();
                expected.push(Statement {
                    text,
                    line: line_at(&input, start),
                    bytes: input.len() - start,
                });
                starts.push(start);
            }
            input.push_str(&tail);
            (input, expected, starts)
        })
}

fn read_in_pieces(input: &[u8], cuts: &[usize]) -> Vec<Statement> {
    let mut points: Vec<usize> = cuts.iter().map(|c| c % (input.len() + 1)).collect();
    points.push(0);
    points.push(input.len());
    points.sort_unstable();
    let mut reader = StatementReader::new();
    let mut out = Vec::new();
    for window in points.windows(2) {
        reader
            .push(&input[window[0]..window[1]], &mut out)
            .unwrap_or_else(|e| panic!("{e}"));
    }
    reader.finish().unwrap_or_else(|e| panic!("{e}"));
    out
}

fn sqlite3_complete(sql: &str) -> bool {
    let c = std::ffi::CString::new(sql).expect("no NUL");
    // SAFETY: sqlite3_complete reads a NUL-terminated string and keeps no pointer.
    unsafe { rusqlite::ffi::sqlite3_complete(c.as_ptr()) != 0 }
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 400, ..ProptestConfig::default() })]

    #[test]
    fn statements_and_lines_survive_any_cutting((input, expected, _) in script(), cuts in prop::collection::vec(any::<usize>(), 0..40)) {
        let found = read_in_pieces(input.as_bytes(), &cuts);
        prop_assert_eq!(&found, &expected, "input: {:?}", input);
        // One byte at a time too.
        let bytes: Vec<usize> = (0..input.len()).collect();
        prop_assert_eq!(read_in_pieces(input.as_bytes(), &bytes), expected);
    }

    #[test]
    fn every_statement_is_what_sqlite3_complete_calls_complete((input, expected, starts) in script()) {
        for (statement, from) in expected.iter().zip(starts) {
            // The statement ends at the first `;` after which SQLite calls the
            // text complete, and not at any `;` before it.
            let end = from + statement.bytes;
            prop_assert!(sqlite3_complete(&input[from..end]), "not complete: {:?}", &input[from..end]);
            for (i, _) in input[from..end - 1].match_indices(';') {
                prop_assert!(!sqlite3_complete(&input[from..from + i + 1]), "complete early: {:?}", &input[from..from + i + 1]);
            }
        }
    }
}
