//! What can go wrong with a journal. Every message says what, where (`path:line[:col]`) and what
//! to do.

use std::fmt;
use std::io;
use std::path::{Path, PathBuf};

use super::format::VERSION;

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
            | JournalError::BadSeq { line, .. } => Some(*line),
            JournalError::UnsupportedVersion { .. } => Some(1),
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
                {\"format\":\"warroom-journal\",\"version\":1,...}; check the path (journals \
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
                write!(f, ": not a warroom journal: {why}")?;
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
                write!(f, ": {why}")?;
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

impl std::error::Error for JournalError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        match self {
            JournalError::Io { source, .. } => Some(source),
            JournalError::Encode { source, .. } => Some(source),
            _ => None,
        }
    }
}
