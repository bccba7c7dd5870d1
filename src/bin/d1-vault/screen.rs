//! Writes a follower's [`Line`]s: notes on stderr, `--json` lines and the
//! summary on stdout, and on a terminal one progress line that is redrawn
//! in place (and moved out of the way of anything else written).

use std::env;
use std::io::{self, Write};

use crate::common::CliError;
use crate::follow::Line;
use crate::render::write_stdout;

/// Columns assumed when `COLUMNS` does not say: the progress line is cut to
/// fit, since a wrapped line cannot be redrawn in place.
const DEFAULT_COLUMNS: usize = 80;
/// Back to the start of the line, and clear it.
const ERASE: &str = "\r\x1b[2K";

/// The screen while a job is followed.
pub struct Screen {
    /// The progress line on display, if any.
    status: Option<String>,
    /// The widest progress line that fits.
    width: usize,
}

impl Screen {
    /// A screen with no progress line yet.
    pub fn new() -> Screen {
        let columns = env::var("COLUMNS")
            .ok()
            .and_then(|value| value.parse::<usize>().ok())
            .filter(|&columns| columns > 1)
            .unwrap_or(DEFAULT_COLUMNS);
        Screen {
            status: None,
            width: columns - 1,
        }
    }

    /// Writes `lines`, in order.
    pub fn show(&mut self, lines: Vec<Line>) -> Result<(), CliError> {
        for line in lines {
            match line {
                Line::Status(text) => {
                    let text: String = text.chars().take(self.width).collect();
                    if self.status.as_ref() != Some(&text) {
                        stderr(&format!("{ERASE}{text}"))?;
                        self.status = Some(text);
                    }
                }
                Line::Note(text) => match &self.status {
                    Some(status) => stderr(&format!("{ERASE}{text}\n{status}"))?,
                    None => stderr(&format!("{text}\n"))?,
                },
                Line::Out(text) => {
                    self.clear()?;
                    if text.ends_with('\n') {
                        write_stdout(&text)?;
                    } else {
                        write_stdout(&format!("{text}\n"))?;
                    }
                }
            }
        }
        Ok(())
    }

    /// Removes the progress line, if one is on display.
    pub fn clear(&mut self) -> Result<(), CliError> {
        match self.status.take() {
            Some(_) => stderr(ERASE),
            None => Ok(()),
        }
    }
}

/// Writes `text` to stderr at once.
fn stderr(text: &str) -> Result<(), CliError> {
    let mut stderr = io::stderr().lock();
    stderr
        .write_all(text.as_bytes())
        .and_then(|()| stderr.flush())
        .map_err(|err| CliError::io("writing to stderr", err))
}
