//! `warroom verify JOURNAL`: checks a journal's hash chain (see [`super::chain`]) and names the
//! first altered line. Reads only.
//!
//! Exit status: 0 intact (version 2: every line's hash and every link hold, and the file
//! decodes); 1 altered or otherwise invalid (the first bad line is named); 2 unreadable or not a
//! journal (or of a newer version); 3 a version-1 journal, which has no chain to check (it is
//! still decoded, and a damaged one gives 1).

use std::path::Path;
use std::process::ExitCode;

use super::chain::{self, Hex, Unsealed};
use super::error::{JournalError, Op};
use super::file::{Replay, decode, header_error};
use super::format::decode_header;
use crate::text::visible;

/// What [`verify`] found.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Verified {
    /// Version 2: every line's own hash and every event's `prev` hold, and the file decodes.
    Intact {
        /// Lines checked (header included; a torn last line excluded).
        lines: usize,
        /// The last line's hash: record it elsewhere (a ticket, the postmortem) to detect later
        /// that lines were cut off the end, or the whole chain rewritten.
        head: Hex,
        /// A torn last line (crash mid-write), not part of the record: its line number.
        torn_tail: Option<usize>,
    },
    /// Version 1: no hash chain to check. The file decodes (a damaged one is [`Verified::Bad`]).
    Unchained { version: u32, lines: usize },
    /// The first line that is not as written, and what differs.
    Bad { line: usize, why: String },
}

impl Verified {
    /// The exit status of `warroom verify` for this result.
    pub fn exit_code(&self) -> u8 {
        match self {
            Verified::Intact { .. } => 0,
            Verified::Bad { .. } => 1,
            Verified::Unchained { .. } => 3,
        }
    }
}

/// Checks the journal at `path`: every line's own hash and each event line's link to the line
/// before it, first to last, then the rest of the format (as [`read`](super::read) does).
/// `Err` when the file cannot be read or is not a warroom journal.
pub fn verify(path: &Path) -> Result<Verified, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        op: Op::Read,
        source,
    })?;
    let lines: Vec<&[u8]> = split_lines(&bytes);
    let Some(first) = lines.first() else {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
            line: 1,
            col: None,
            why: "the file is empty".into(),
        });
    };
    let ends_with_newline = bytes.last() == Some(&b'\n');
    if chain::check(first) == Err(Unsealed::Mismatch) {
        // Sealed like a version-2 header, and changed since (perhaps no longer JSON at all).
        return Ok(Verified::Bad {
            line: 1,
            why: "line 1's bytes do not match its own hash: the header was changed after it was \
                  written"
                .into(),
        });
    }
    let header = match decode_header(first) {
        Ok(h) => h,
        Err(e) => {
            return match header_error(path, e) {
                JournalError::BadLine { line, why, .. }
                | JournalError::Altered { line, why, .. } => Ok(Verified::Bad { line, why }),
                // A warroom header damaged past reading (its own hash field included): a
                // journal, altered, rather than some other file.
                JournalError::NotAJournal { line, why, .. }
                    if first.starts_with(b"{\"format\":\"warroom-journal\"") =>
                {
                    Ok(Verified::Bad { line, why })
                }
                other => Err(other),
            };
        }
    };
    let Some(mut previous) = header.hash else {
        return Ok(match decode(path, &bytes) {
            Ok(replay) => Verified::Unchained {
                version: replay.header.version,
                lines: count_lines(&replay),
            },
            Err(e) => bad(e),
        });
    };
    let mut torn_tail = None;
    for (i, line) in lines.iter().enumerate().skip(1) {
        let n = i + 1;
        let last_unterminated = i + 1 == lines.len() && !ends_with_newline;
        let own = match chain::check(line) {
            Ok(own) => own,
            Err(_) if last_unterminated && !chain::is_complete_json(line) => {
                torn_tail = Some(n);
                break;
            }
            Err(Unsealed::NoHash) => {
                return Ok(Verified::Bad {
                    line: n,
                    why: format!(
                        "line {n} does not end with its \"sha256\" field: it was changed or \
                         replaced after it was written"
                    ),
                });
            }
            Err(Unsealed::Mismatch) => {
                return Ok(Verified::Bad {
                    line: n,
                    why: format!(
                        "line {n}'s bytes do not match its own hash: it was changed after it \
                         was written"
                    ),
                });
            }
        };
        match prev_of(line) {
            Some(prev) if prev == previous => {}
            Some(_) => {
                return Ok(Verified::Bad {
                    line: n,
                    why: format!(
                        "line {n}'s hash of line {} (\"prev\") does not match line {}: line {} \
                         was replaced, or lines were removed or inserted between them",
                        n - 1,
                        n - 1,
                        n - 1
                    ),
                });
            }
            None => {
                return Ok(Verified::Bad {
                    line: n,
                    why: format!("line {n} has no \"prev\" (the hash of line {})", n - 1),
                });
            }
        }
        previous = own;
    }
    // The chain holds; the rest of the rules (seq, times, kinds) as any reader applies them.
    match decode(path, &bytes) {
        Ok(replay) => Ok(Verified::Intact {
            lines: count_lines(&replay),
            head: replay.chain_head.unwrap_or(previous),
            torn_tail,
        }),
        Err(e) => Ok(bad(e)),
    }
}

fn bad(e: JournalError) -> Verified {
    match e.line() {
        Some(line) => {
            let text = e.to_string();
            let why = text
                .split_once("\n  help:")
                .map_or(text.as_str(), |(w, _)| w)
                .split_once(": ")
                .map_or(text.as_str(), |(_, w)| w)
                .to_string();
            Verified::Bad { line, why }
        }
        None => Verified::Bad {
            line: 0,
            why: e.to_string(),
        },
    }
}

fn count_lines(replay: &Replay) -> usize {
    1 + replay.events.len()
}

/// Lines without their `\n` (a last line without one included).
fn split_lines(bytes: &[u8]) -> Vec<&[u8]> {
    let mut lines: Vec<&[u8]> = bytes.split(|&b| b == b'\n').collect();
    if bytes.last() == Some(&b'\n') || bytes.is_empty() {
        lines.pop();
    }
    lines
}

/// The `prev` field of an event line, wherever it is.
fn prev_of(line: &[u8]) -> Option<Hex> {
    #[derive(serde::Deserialize)]
    struct Prev {
        prev: String,
    }
    const KEY: &[u8] = b"\"prev\":\"";
    if let Some(at) = line.windows(KEY.len()).position(|w| w == KEY) {
        if let Some(hex) = line.get(at + KEY.len()..at + KEY.len() + 64) {
            if let Some(h) = Hex::parse(hex) {
                return Some(h);
            }
        }
    }
    let p: Prev = serde_json::from_slice(line).ok()?;
    Hex::parse(p.prev.as_bytes())
}

/// `warroom verify PATH`: prints one line and returns the exit status (see the module docs).
/// `println!` through the output gate that ends quietly when the reader went away (`| head`):
/// never a panic.
macro_rules! say {
    ($($arg:tt)*) => {{
        let _ = crate::text::print_out(&format!("{}\n", format_args!($($arg)*)), crate::text::Form::Text);
    }};
}

pub fn run(path: &Path) -> ExitCode {
    let shown = visible(&path.display().to_string()).into_owned();
    match verify(path) {
        Ok(v) => {
            match &v {
                Verified::Intact {
                    lines,
                    head,
                    torn_tail,
                } => {
                    let torn = torn_tail.map_or(String::new(), |t| {
                        format!(
                            "; line {t} is a torn last line (a crash mid-write), not part of the \
                             record"
                        )
                    });
                    say!(
                        "{shown}: intact: {lines} lines (header and {} events), every line's \
                         SHA-256 and link to the line before hold{torn}; chain head {head}",
                        lines - 1
                    );
                }
                Verified::Unchained { version, lines } => say!(
                    "{shown}: not verifiable: journal format version {version} has no hash \
                     chain (it decodes: {lines} lines); only version-2 journals can be checked \
                     for changes"
                ),
                Verified::Bad { line, why } => {
                    say!("{shown}:{line}: {}", visible(why));
                    say!(
                        "  help: the journal is not as warroom wrote it; keep the file as \
                         evidence (docs/journal.md describes the chain)"
                    );
                }
            }
            ExitCode::from(v.exit_code())
        }
        Err(e) => {
            crate::say_err!("{}", visible(&e.to_string()));
            ExitCode::from(2)
        }
    }
}
