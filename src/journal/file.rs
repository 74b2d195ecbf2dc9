//! Reading and writing journal files: [`read`] (validate and replay), [`Journal::create`],
//! [`Journal::open_append`] (resume) and [`Journal::append`] (one line, one write, fsync).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::{JournalError, Op};
use super::format::{
    Header, HeaderError, decode_event, decode_header, encode_event_into, encode_header,
};
use super::paths::new_path;
use crate::playbook::Event;

/// A last line cut short by a crash mid-write: no trailing newline, and it does not decode. It is
/// reported and ignored (the event it held was never shown as done).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TornTail {
    /// Its 1-based line number.
    pub line: usize,
    /// Byte offset where it starts (the length of the valid journal before it).
    pub offset: u64,
    /// What it held, kept for the record: [`Journal::open_append`] cuts it off the file.
    pub bytes: Vec<u8>,
}

/// A validated journal: its header and every event, in order.
#[derive(Debug, Clone, PartialEq)]
pub struct Replay {
    /// Line 1.
    pub header: Header,
    /// `(seq, at, event)`; `seq` runs 1, 2, 3, ...
    pub events: Vec<(u64, DateTime<Utc>, Event)>,
    /// A torn last line, reported and ignored.
    pub torn_tail: Option<TornTail>,
    /// Bytes of the valid journal: header and events, up to the torn tail if any.
    pub valid_len: u64,
    /// The last line (an event, or the header of a journal without events) has no trailing
    /// newline, yet it decodes: the next writer adds it.
    pub(crate) unterminated: bool,
}

impl Replay {
    /// `seq` of the last event; 0 when there is none.
    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |(seq, _, _)| *seq)
    }

    /// `(at, event)` pairs for [`Engine::resume`](crate::playbook::Engine::resume).
    pub fn timeline(&self) -> Vec<(DateTime<Utc>, Event)> {
        self.events
            .iter()
            .map(|(_, at, ev)| (*at, ev.clone()))
            .collect()
    }

    /// A `resolved` or `aborted` event is recorded: the incident is over.
    pub fn is_finished(&self) -> bool {
        self.events
            .iter()
            .any(|(_, _, e)| matches!(e, Event::Resolved { .. } | Event::Aborted { .. }))
    }

    /// The torn tail, described for the operator (`path:12: torn last line (87 bytes) ignored`).
    pub fn torn_tail_notice(&self, path: &Path) -> Option<String> {
        self.torn_tail.as_ref().map(|t| {
            format!(
                "{}:{}: torn last line ({} bytes, no newline, not a complete event) ignored: a \
                 crash interrupted its write, so its event was never shown as done",
                path.display(),
                t.line,
                t.bytes.len()
            )
        })
    }
}

/// Reads and validates the journal at `path`. Nothing is written.
///
/// A torn last line is reported in [`Replay::torn_tail`] and ignored. Anything else wrong (a line
/// that does not decode, a `seq` gap or repeat, a file that is not a journal, a newer format
/// version) is an error with the file's path and line: the journal is never half replayed.
pub fn read(path: &Path) -> Result<Replay, JournalError> {
    let bytes = std::fs::read(path).map_err(|source| JournalError::Io {
        path: path.to_path_buf(),
        op: Op::Read,
        source,
    })?;
    decode(path, &bytes)
}

/// Validates journal bytes as [`read`] does; `path` is only used in messages.
pub fn decode(path: &Path, bytes: &[u8]) -> Result<Replay, JournalError> {
    let mut lines = Lines { bytes, pos: 0 };
    let Some((first, _, header_terminated)) = lines.next() else {
        return Err(JournalError::NotAJournal {
            path: path.to_path_buf(),
            line: 1,
            col: None,
            why: "the file is empty".into(),
        });
    };
    let header = decode_header(first).map_err(|e| header_error(path, e))?;
    let mut events = Vec::new();
    let mut torn_tail = None;
    let mut unterminated = !header_terminated;
    let mut valid_len = lines.pos as u64;
    let mut line_no = 1;
    let mut expected = 1;
    while let Some((line, start, terminated)) = lines.next() {
        line_no += 1;
        match decode_event(line) {
            Ok((seq, at, event)) => {
                if seq != expected {
                    return Err(JournalError::BadSeq {
                        path: path.to_path_buf(),
                        line: line_no,
                        expected,
                        found: seq,
                    });
                }
                expected += 1;
                events.push((seq, at, event));
                valid_len = lines.pos as u64;
                unterminated = !terminated;
            }
            Err(_) if !terminated => {
                torn_tail = Some(TornTail {
                    line: line_no,
                    offset: start as u64,
                    bytes: line.to_vec(),
                });
            }
            Err(e) => {
                return Err(JournalError::BadLine {
                    path: path.to_path_buf(),
                    line: line_no,
                    col: e.col,
                    why: e.why,
                });
            }
        }
    }
    Ok(Replay {
        header,
        events,
        torn_tail,
        valid_len,
        unterminated,
    })
}

/// Line 1 was not a usable header.
pub(crate) fn header_error(path: &Path, e: HeaderError) -> JournalError {
    match e {
        HeaderError::NotAJournal(e) => JournalError::NotAJournal {
            path: path.to_path_buf(),
            line: 1,
            col: e.col,
            why: e.why,
        },
        HeaderError::Newer(version) => JournalError::UnsupportedVersion {
            path: path.to_path_buf(),
            version,
        },
        HeaderError::Bad(e) => JournalError::BadLine {
            path: path.to_path_buf(),
            line: 1,
            col: e.col,
            why: e.why,
        },
    }
}

/// Lines of a byte buffer: `(line without newline, start offset, ended by a newline)`.
struct Lines<'a> {
    bytes: &'a [u8],
    pos: usize,
}

impl<'a> Iterator for Lines<'a> {
    type Item = (&'a [u8], usize, bool);

    fn next(&mut self) -> Option<Self::Item> {
        let start = self.pos;
        let rest = self.bytes.get(start..).filter(|r| !r.is_empty())?;
        match rest.iter().position(|&b| b == b'\n') {
            Some(n) => {
                self.pos = start + n + 1;
                Some((&rest[..n], start, true))
            }
            None => {
                self.pos = self.bytes.len();
                Some((rest, start, false))
            }
        }
    }
}

/// An open journal: appends events, each line written with one write and fsynced before
/// [`Journal::append`] returns.
///
/// After a failed append the handle records nothing more ([`JournalError::Failed`]): the file is
/// valid up to the last successful append (a partial line left by the failure is cut off when
/// possible, and is otherwise a torn tail that readers ignore). Reopen with
/// [`Journal::open_append`] once the cause is fixed.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: File,
    next_seq: u64,
    /// Bytes known to be on disk: the file is valid up to here.
    len: u64,
    failed: Option<String>,
    buf: Vec<u8>,
}

impl Journal {
    /// Creates a new journal at `path` and writes its header; file and directory are fsynced.
    /// Refuses to overwrite anything ([`JournalError::Exists`]). The directory must exist.
    pub fn create(path: &Path, header: &Header) -> Result<Journal, JournalError> {
        let io = |op: Op| {
            move |source: std::io::Error| JournalError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        let line = encode_header(header).map_err(|source| JournalError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
        let mut file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .open(path)
            .map_err(|source| {
                if source.kind() == std::io::ErrorKind::AlreadyExists {
                    JournalError::Exists {
                        path: path.to_path_buf(),
                    }
                } else {
                    io(Op::Create)(source)
                }
            })?;
        file.write_all(&line).map_err(io(Op::Create))?;
        file.sync_all().map_err(io(Op::Sync))?;
        sync_dir(path).map_err(io(Op::Sync))?;
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            next_seq: 1,
            len: line.len() as u64,
            failed: None,
            buf: Vec::with_capacity(1024),
        })
    }

    /// Creates a new journal in `dir` (created if missing) under a fresh name from
    /// [`new_path`]; returns it with its path.
    pub fn create_in(dir: &Path, header: &Header) -> Result<Journal, JournalError> {
        std::fs::create_dir_all(dir).map_err(|source| JournalError::Io {
            path: dir.to_path_buf(),
            op: Op::CreateDir,
            source,
        })?;
        // `new_path` skips names in use; a racing creator is caught by `create_new`.
        for _ in 0..100 {
            let path = new_path(dir, &header.playbook.id, header.mode, header.started_at);
            match Journal::create(&path, header) {
                Err(JournalError::Exists { .. }) => continue,
                other => return other,
            }
        }
        Err(JournalError::Exists {
            path: new_path(dir, &header.playbook.id, header.mode, header.started_at),
        })
    }

    /// Opens an existing journal to continue it (`--resume`): validates the whole file first
    /// (refusing a broken one without touching it), then cuts off a torn last line (logged, and
    /// returned in [`Replay::torn_tail`] so the console can show it), and appends after the
    /// last event.
    pub fn open_append(path: &Path) -> Result<(Journal, Replay), JournalError> {
        let io = |op: Op| {
            move |source: std::io::Error| JournalError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        let mut file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io(Op::Open))?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(Op::Read))?;
        let replay = decode(path, &bytes)?;
        let mut len = replay.valid_len;
        if let Some(notice) = replay.torn_tail_notice(path) {
            tracing::warn!("{notice}; cutting it off before appending");
            file.set_len(len).map_err(io(Op::Truncate))?;
            file.sync_all().map_err(io(Op::Sync))?;
        }
        if replay.unterminated {
            // The last event decoded but lost its newline: end its line before appending.
            file.write_all(b"\n").map_err(io(Op::Write))?;
            file.sync_data().map_err(io(Op::Sync))?;
            len += 1;
        }
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            next_seq: replay.last_seq() + 1,
            len,
            failed: None,
            buf: Vec::with_capacity(1024),
        };
        Ok((journal, replay))
    }

    /// Appends one event at `at`: encodes it as one line, writes it with one write, fsyncs
    /// (`sync_data`) and only then returns its `seq`. On failure nothing should be shown as
    /// done: see [`JournalError::is_write_failure`].
    pub fn append(&mut self, at: DateTime<Utc>, event: &Event) -> Result<u64, JournalError> {
        let seq = self.next_seq;
        self.append_all(std::iter::once((at, event)))?;
        Ok(seq)
    }

    /// Appends several events with one write and one fsync (the engine emits a few at a time:
    /// a step finishes, the next one starts). Returns the `seq` of the last; a torn write loses
    /// at most the last lines, never leaves a gap.
    pub fn append_all<'a>(
        &mut self,
        events: impl IntoIterator<Item = (DateTime<Utc>, &'a Event)>,
    ) -> Result<u64, JournalError> {
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed {
                path: self.path.clone(),
                why: why.clone(),
            });
        }
        self.buf.clear();
        let mut seq = self.next_seq;
        for (at, event) in events {
            encode_event_into(&mut self.buf, seq, at, event).map_err(|source| {
                JournalError::Encode {
                    path: self.path.clone(),
                    source,
                }
            })?;
            seq += 1;
        }
        if seq == self.next_seq {
            return Ok(self.next_seq - 1);
        }
        if let Err(source) = self.file.write_all(&self.buf) {
            self.failed = Some(format!("write failed: {source}"));
            // Best effort: cut the partial line off so the file ends on a complete event.
            let _ = self.file.set_len(self.len);
            return Err(JournalError::Io {
                path: self.path.clone(),
                op: Op::Write,
                source,
            });
        }
        if let Err(source) = self.file.sync_data() {
            // After a failed fsync the kernel may have dropped the dirty pages: nothing written
            // since the last good fsync can be trusted, and retrying could report success.
            self.failed = Some(format!("fsync failed: {source}"));
            return Err(JournalError::Io {
                path: self.path.clone(),
                op: Op::Sync,
                source,
            });
        }
        self.len += self.buf.len() as u64;
        self.next_seq = seq;
        Ok(seq - 1)
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The `seq` the next event gets.
    pub fn next_seq(&self) -> u64 {
        self.next_seq
    }

    /// Bytes of the file known to be on disk.
    pub fn len(&self) -> u64 {
        self.len
    }

    /// Never true: a journal has at least its header. (For clippy's `len_without_is_empty`.)
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// An earlier append failed: nothing more is recorded through this handle.
    pub fn has_failed(&self) -> bool {
        self.failed.is_some()
    }
}

/// fsync of the directory holding `path`, so a new file's name survives a crash.
fn sync_dir(path: &Path) -> std::io::Result<()> {
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    File::open(dir)?.sync_all()
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn a_failed_write_is_reported_and_stops_the_journal() {
        // /dev/full accepts the open and fails every write with ENOSPC: a full disk.
        let Ok(file) = OpenOptions::new().append(true).open("/dev/full") else {
            return;
        };
        let mut j = Journal {
            path: PathBuf::from("/dev/full"),
            file,
            next_seq: 5,
            len: 0,
            failed: None,
            buf: Vec::new(),
        };
        let at = Utc
            .with_ymd_and_hms(2026, 11, 22, 3, 12, 0)
            .single()
            .expect("valid");
        let note = Event::Note { text: "x".into() };
        let err = j.append(at, &note).expect_err("disk full");
        assert!(err.is_write_failure(), "{err}");
        let text = err.to_string();
        assert!(
            text.starts_with("/dev/full: cannot write to the journal:"),
            "{text}"
        );
        assert!(text.contains("the event was not recorded"), "{text}");
        assert!(j.has_failed());
        assert_eq!(j.next_seq(), 5, "no seq was used up");
        let again = j.append(at, &note).expect_err("stays failed");
        assert!(matches!(again, JournalError::Failed { .. }), "{again}");
        assert!(again.is_write_failure());
        assert!(again.to_string().contains("--resume"), "{again}");
    }
}
