//! What can go wrong with a journal. Every message says what, where (`path:line[:col]`) and what
//! to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::format::VERSION;
use super::lock::LockHolder;

/// What was being done to the file when the operating system refused.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Op {
    /// Creating the journal's directory.
    CreateDir,
    /// Creating the file (and writing its header).
    Create,
    Open,
    Read,
    /// Writing an event line.
    Write,
    /// fsync of the file or its directory.
    Sync,
    /// Cutting a torn last line off, or a failed write's partial line.
    Truncate,
    /// Taking the journal's lock.
    Lock,
}

impl Op {
    fn verb(self) -> &'static str {
        match self {
            Op::CreateDir => "create the directory of",
            Op::Create => "create",
            Op::Open => "open",
            Op::Read => "read",
            Op::Write => "write to",
            Op::Sync => "fsync",
            Op::Truncate => "truncate",
            Op::Lock => "lock",
        }
    }
}

/// Why a journal could not be created, read, replayed or written.
///
/// Callers act on the variant: [`JournalError::is_write_failure`] means an event was *not*
/// recorded, and the runtime must stop executing world-changing steps.
#[derive(Debug)]
pub enum JournalError {
    /// The operating system refused `op`.
    Io {
        path: PathBuf,
        op: Op,
        source: io::Error,
    },
    /// `create` found a file there already: journals are never overwritten.
    Exists { path: PathBuf },
    /// Neither `$XDG_STATE_HOME` nor `$HOME` is set: no default journal directory.
    NoStateDir,
    /// The file is not a warroom journal (random bytes, another JSON file, an empty file).
    NotAJournal {
        path: PathBuf,
        line: usize,
        col: Option<usize>,
        why: String,
    },
    /// A journal of a newer format version than this build reads.
    UnsupportedVersion { path: PathBuf, version: u64 },
    /// A line that is not the torn last line does not decode (or the header has a bad field).
    BadLine {
        path: PathBuf,
        line: usize,
        col: Option<usize>,
        why: String,
    },
    /// An event's `seq` is not the previous one plus 1.
    BadSeq {
        path: PathBuf,
        line: usize,
        expected: u64,
        found: u64,
    },
    /// A line's bytes do not match its own hash, or its `prev` does not match the previous line
    /// (version 2): the file was changed after it was written.
    Altered {
        path: PathBuf,
        line: usize,
        why: String,
    },
    /// An event's time is earlier than the previous line's on the same clock.
    BackInTime {
        path: PathBuf,
        line: usize,
        /// `at` (wall clock) or `sim` (simulated).
        clock: &'static str,
        time: DateTime<Utc>,
        previous: DateTime<Utc>,
    },
    /// An event's time is later than now (see [`Replay::check_times`](super::Replay::check_times)).
    Future {
        path: PathBuf,
        line: usize,
        time: DateTime<Utc>,
        now: DateTime<Utc>,
    },
    /// Another process (or another handle in this one) holds the journal's lock: it is the
    /// journal's one writer. Nothing was written.
    Locked {
        path: PathBuf,
        /// Who, from the lock's sidecar file; `None` when it could not be read.
        holder: Option<LockHolder>,
    },
    /// A journal of an older format version cannot be appended to (writers write the current
    /// version only). It can still be read, followed and reported.
    OldVersion { path: PathBuf, version: u32 },
    /// An earlier append failed: this handle records nothing more.
    Failed { path: PathBuf, why: String },
    /// A followed journal became shorter than what was already read.
    Shrunk { path: PathBuf, len: u64, read: u64 },
    /// An event could not be encoded (not expected: events are plain data).
    Encode {
        path: PathBuf,
        source: serde_json::Error,
    },
}

impl JournalError {
    /// The event was not recorded (write, fsync, or an earlier failure): stop executing steps
    /// that change the world until the journal is writable again.
    pub fn is_write_failure(&self) -> bool {
        matches!(
            self,
            JournalError::Io {
                op: Op::Write | Op::Sync | Op::Truncate,
                ..
            } | JournalError::Failed { .. }
                | JournalError::Encode { .. }
        )
    }

    /// The file concerned, if any.
    pub fn path(&self) -> Option<&Path> {
        match self {
            JournalError::Io { path, .. }
            | JournalError::Exists { path }
            | JournalError::NotAJournal { path, .. }
            | JournalError::UnsupportedVersion { path, .. }
            | JournalError::BadLine { path, .. }
            | JournalError::BadSeq { path, .. }
            | JournalError::Altered { path, .. }
            | JournalError::BackInTime { path, .. }
            | JournalError::Future { path, .. }
            | JournalError::Locked { path, .. }
            | JournalError::OldVersion { path, .. }
            | JournalError::Failed { path, .. }
            | JournalError::Shrunk { path, .. }
            | JournalError::Encode { path, .. } => Some(path),
            JournalError::NoStateDir => None,
        }
    }

    /// The 1-based line the problem is on, for a damaged or foreign file.
    pub fn line(&self) -> Option<usize> {
        match self {
            JournalError::NotAJournal { line, .. }
            | JournalError::BadLine { line, .. }
            | JournalError::BadSeq { line, .. }
            | JournalError::Altered { line, .. }
            | JournalError::BackInTime { line, .. }
            | JournalError::Future { line, .. } => Some(*line),
            JournalError::UnsupportedVersion { .. } | JournalError::OldVersion { .. } => Some(1),
            _ => None,
        }
    }

    /// What to do about it.
    pub fn help(&self) -> String {
        match self {
            JournalError::Io { op, source, .. } => match op {
                Op::Write | Op::Sync | Op::Truncate => format!(
                    "the event was not recorded{}: stop executing steps that change the world, \
                     make the journal writable again, then resume from it (warroom --resume)",
                    hint(source)
                ),
                Op::Create | Op::CreateDir => format!(
                    "check that the directory exists and is writable{}, or pass --journal PATH",
                    hint(source)
                ),
                _ => format!("check the path and its permissions{}", hint(source)),
            },
            JournalError::Exists { .. } => "journals are never overwritten: choose another \
                --journal path, or continue that incident with --resume"
                .into(),
            JournalError::NoStateDir => "set XDG_STATE_HOME or HOME, or pass --journal PATH".into(),
            JournalError::NotAJournal { .. } => "a warroom journal starts with a header line \
                {\"format\":\"warroom-journal\",\"version\":2,...}; check the path (journals \
                are the *.jsonl files in $XDG_STATE_HOME/warroom/incidents)"
                .into(),
            JournalError::UnsupportedVersion { .. } => format!(
                "it was written by a newer warroom; this one reads journal format version \
                 {VERSION} and older: upgrade warroom to read it"
            ),
            JournalError::BadLine { line: 1, .. } => "the header (line 1) of this journal \
                has a bad field: was it edited by hand? Nothing was replayed and the file was not \
                changed; docs/journal.md describes every header field"
                .into(),
            JournalError::BadLine { .. } | JournalError::BadSeq { .. } => {
                "the journal is damaged before its last line (only a torn last line, from a \
                 crash mid-write, is tolerated); nothing was replayed and the file was not \
                 changed: keep it as evidence, and start a new incident to continue (or repair \
                 the line by hand if you know what it recorded)"
                    .into()
            }
            JournalError::Altered { .. } => "the journal was changed after it was written \
                (edited, or damaged on disk); nothing was replayed and the file was not changed: \
                keep it as evidence (`warroom verify PATH` names the first altered line), and \
                start a new incident to continue"
                .into(),
            JournalError::BackInTime { .. } => "event times never go backwards in a journal \
                warroom wrote: the file was edited, or pieced together from several; nothing \
                was replayed and the file was not changed (`warroom verify PATH` checks it)"
                .into(),
            JournalError::Future { .. } => "the journal records a time later than this \
                machine's clock: check the clock (`date -u`), or the file was edited; it was \
                not resumed"
                .into(),
            JournalError::Locked { path, .. } => format!(
                "a journal has one writer at a time; this one was not touched. To watch the \
                 incident from here: warroom follow {}",
                path.display()
            ),
            JournalError::OldVersion { .. } => format!(
                "this warroom writes journal format version {VERSION} only (every line \
                 hash-chained) and does not append to an older file: `warroom report`, \
                 `follow` and `history` still read it. Finish the incident with the warroom \
                 that started it, or start a new incident and note this file's path in it"
            ),
            JournalError::Failed { .. } => "stop executing steps that change the world; \
                once the disk is fixed, reopen the journal (warroom --resume) to continue"
                .into(),
            JournalError::Shrunk { .. } => "the journal was truncated or replaced while being \
                followed; start following again"
                .into(),
            JournalError::Encode { .. } => "this is a bug in warroom: please report it with \
                the step that was running"
                .into(),
        }
    }
}

fn hint(e: &io::Error) -> &'static str {
    match e.kind() {
        io::ErrorKind::StorageFull => " (the disk is full)",
        io::ErrorKind::ReadOnlyFilesystem => " (the filesystem is read-only)",
        io::ErrorKind::PermissionDenied => " (permission denied)",
        io::ErrorKind::NotFound => " (it does not exist)",
        _ => "",
    }
}

fn located(
    f: &mut fmt::Formatter<'_>,
    path: &Path,
    line: usize,
    col: Option<usize>,
) -> fmt::Result {
    write!(f, "{}:{line}", path.display())?;
    if let Some(col) = col {
        write!(f, ":{col}")?;
    }
    Ok(())
}

impl fmt::Display for JournalError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            JournalError::Io { path, op, source } => write!(
                f,
                "{}: cannot {} the journal: {source}",
                path.display(),
                op.verb()
            )?,
            JournalError::Exists { path } => {
                write!(f, "{}: a file already exists there", path.display())?;
            }
            JournalError::NoStateDir => {
                f.write_str("no directory for journals: neither XDG_STATE_HOME nor HOME is set")?
            }
            JournalError::NotAJournal {
                path,
                line,
                col,
                why,
            } => {
                located(f, path, *line, *col)?;
                write!(f, ": not a warroom journal: {}", bounded(why))?;
            }
            JournalError::UnsupportedVersion { path, version } => write!(
                f,
                "{}:1: journal format version {version} is newer than this warroom reads \
                 (version {VERSION})",
                path.display()
            )?,
            JournalError::BadLine {
                path,
                line,
                col,
                why,
            } => {
                located(f, path, *line, *col)?;
                write!(f, ": {}", bounded(why))?;
            }
            JournalError::BadSeq {
                path,
                line,
                expected,
                found,
            } => {
                located(f, path, *line, None)?;
                let what = if *found < *expected {
                    "repeats an earlier one"
                } else {
                    "skips events"
                };
                write!(f, ": event seq {found} {what} (expected seq {expected})")?;
            }
            JournalError::Altered { path, line, why } => {
                located(f, path, *line, None)?;
                write!(f, ": altered: {}", bounded(why))?;
            }
            JournalError::BackInTime {
                path,
                line,
                clock,
                time,
                previous,
            } => {
                located(f, path, *line, None)?;
                write!(
                    f,
                    ": time goes backwards: `{clock}` {} is earlier than the previous line's {}",
                    time.to_rfc3339(),
                    previous.to_rfc3339()
                )?;
            }
            JournalError::Future {
                path,
                line,
                time,
                now,
            } => {
                located(f, path, *line, None)?;
                write!(
                    f,
                    ": event time {} is in the future (now is {})",
                    time.to_rfc3339(),
                    now.to_rfc3339()
                )?;
            }
            JournalError::Locked { path, holder } => {
                write!(f, "{}: the journal is being written by ", path.display())?;
                match holder {
                    Some(h) => write!(f, "{h}")?,
                    None => f.write_str("another console (its lock file names no one)")?,
                }
            }
            JournalError::OldVersion { path, version } => write!(
                f,
                "{}:1: journal format version {version} cannot be continued by this warroom",
                path.display()
            )?,
            JournalError::Failed { path, why } => write!(
                f,
                "{}: the journal stopped recording after an earlier failure ({why})",
                path.display()
            )?,
            JournalError::Shrunk { path, len, read } => write!(
                f,
                "{}: the journal shrank to {len} bytes after {read} bytes were read",
                path.display()
            )?,
            JournalError::Encode { path, source } => {
                write!(f, "{}: cannot encode an event: {source}", path.display())?
            }
        }
        write!(f, "\n  help: {}", self.help())
    }
}

/// Longest reason shown for a line that does not decode, in characters, and in bytes once made
/// visible (a control character shows as 4): room for the decoder's list of expected values,
/// not for a megabyte of the line it quotes.
const WHY_MAX_CHARS: usize = 1000;
const WHY_MAX_BYTES: usize = 1200;

/// Why a line does not decode, as shown: the decoder's message quotes the line (an unknown
/// variant, a bad value), so it is made visible and cut after [`WHY_MAX_CHARS`] characters or
/// [`WHY_MAX_BYTES`] bytes, with what was left out.
fn bounded(why: &str) -> String {
    match crate::text::visible_cut(why, WHY_MAX_CHARS, WHY_MAX_BYTES) {
        (shown, None) => shown,
        (shown, Some(left)) => format!("{shown}… ({} more)", crate::text::bytes(left)),
    }
}

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            JournalError::Encode { source, .. } => Some(source),
            _ => None,
        }
    }
}
