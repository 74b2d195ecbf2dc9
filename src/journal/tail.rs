//! Following a journal while another process writes it (`warroom follow`).

use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};

use super::chain::Hex;
use super::error::{JournalError, Op};
use super::file::{Replay, advance, broken_link, check_order, header_error};
use super::format::{Header, Stamp, decode_event_v1, decode_event_v2, decode_header};
use crate::playbook::Event;

/// An incremental reader: each [`Tail::poll`] returns the events of the complete lines written
/// since the last one, validated like [`read`](super::read) validates (decoding, `seq` order,
/// and in version 2 the hash chain and the order of times). It only ever reads: following
/// creates and writes no file.
///
/// A line still being written (no newline yet) is left for the next poll, and re-read from its
/// start then: a writer that resumes after a crash cuts its torn line off and writes a new one
/// in its place. Polling every 200 ms keeps a follower within a second of the writer.
///
/// ```no_run
/// # fn main() -> Result<(), warroom::journal::JournalError> {
/// let path = std::path::Path::new("incident.jsonl");
/// let replay = warroom::journal::read(path)?;
/// let mut tail = warroom::journal::Tail::after(path, &replay);
/// loop {
///     for (seq, at, event) in tail.poll()? {
///         // show it
///     }
///     std::thread::sleep(std::time::Duration::from_millis(200));
/// }
/// # }
/// ```
#[derive(Debug)]
pub struct Tail {
    path: PathBuf,
    file: Option<File>,
    /// End of the last complete line consumed.
    offset: u64,
    /// Line number of the last line consumed; `None` until counted (a tail started mid-file).
    line: Option<usize>,
    /// `seq` of the last event consumed; `None` when unknown (started mid-file).
    last_seq: Option<u64>,
    header: Option<Header>,
    /// The replay's last event had no newline: the writer adds one before its next line.
    skip_empty: bool,
    /// Bytes after `offset` at the last poll (a line being written).
    pending: u64,
    /// Version 2: the last line's hash (`None` for version 1, or not known yet).
    head: Option<Hex>,
    /// Version 2: the last line's times.
    floor: Option<Stamp>,
    /// The file's format version, once known.
    version: Option<u32>,
}

impl Tail {
    /// Follows `path` from byte `offset`: 0 reads the header, then every event. Another offset
    /// must be the start of a line; line numbers in messages are counted on the first poll.
    pub fn new(path: impl Into<PathBuf>, offset: u64) -> Tail {
        Tail {
            path: path.into(),
            file: None,
            offset,
            line: (offset == 0).then_some(0),
            last_seq: (offset == 0).then_some(0),
            header: None,
            skip_empty: false,
            pending: 0,
            head: None,
            floor: None,
            version: None,
        }
    }

    /// Follows `path` after what [`read`](super::read) returned: the next poll yields the events
    /// written since (including, once complete, a line that was torn or still being written).
    pub fn after(path: impl Into<PathBuf>, replay: &Replay) -> Tail {
        let lines = 1 + replay.events.len();
        Tail {
            path: path.into(),
            file: None,
            offset: replay.valid_len,
            line: Some(lines),
            last_seq: Some(replay.last_seq()),
            header: Some(replay.header.clone()),
            skip_empty: replay.unterminated,
            pending: 0,
            head: replay.chain_head,
            floor: Some(replay.last_stamp()),
            version: Some(replay.header.version),
        }
    }

    /// The header, once read (from the replay, or line 1 when following from offset 0).
    pub fn header(&self) -> Option<&Header> {
        self.header.as_ref()
    }

    /// Byte offset after the last complete line returned.
    pub fn offset(&self) -> u64 {
        self.offset
    }

    /// Bytes written after the last complete line, as of the last poll: a line in progress, or
    /// a torn one if the writer crashed.
    pub fn pending(&self) -> u64 {
        self.pending
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// The events of the complete lines written since the last poll. An error (a damaged line, a
    /// `seq` gap) is returned once the events before it have been returned, and again on every
    /// poll after: the tail does not skip what it cannot read.
    pub fn poll(&mut self) -> Result<Vec<(u64, Stamp, Event)>, JournalError> {
        let path = self.path.clone();
        let io = |op: Op| {
            let path = path.clone();
            move |source: std::io::Error| JournalError::Io { path, op, source }
        };
        if self.file.is_none() {
            self.file = Some(File::open(&self.path).map_err(io(Op::Open))?);
        }
        let Some(file) = self.file.as_mut() else {
            return Ok(Vec::new());
        };
        if self.line.is_none() {
            let mut head = Vec::new();
            file.seek(SeekFrom::Start(0)).map_err(io(Op::Read))?;
            file.by_ref()
                .take(self.offset)
                .read_to_end(&mut head)
                .map_err(io(Op::Read))?;
            self.line = Some(head.iter().filter(|&&b| b == b'\n').count());
            let known = Known::from_head(&head);
            self.version = known.version;
            self.head = known.head;
            self.floor = known.floor;
            if known.header.is_some() {
                self.header = known.header;
            }
            if known.last_seq.is_some() {
                self.last_seq = known.last_seq;
            }
        }
        let len = file.metadata().map_err(io(Op::Read))?.len();
        if len < self.offset {
            return Err(JournalError::Shrunk {
                path,
                len,
                read: self.offset,
            });
        }
        if len == self.offset {
            self.pending = 0;
            return Ok(Vec::new());
        }
        let mut fresh = Vec::new();
        file.seek(SeekFrom::Start(self.offset))
            .map_err(io(Op::Read))?;
        file.by_ref()
            .take(len - self.offset)
            .read_to_end(&mut fresh)
            .map_err(io(Op::Read))?;
        let mut events = Vec::new();
        let mut consumed = 0;
        while let Some(n) = fresh[consumed..].iter().position(|&b| b == b'\n') {
            let line = &fresh[consumed..consumed + n];
            if self.skip_empty && line.is_empty() {
                self.skip_empty = false;
                consumed += 1;
                self.offset += 1;
                continue;
            }
            self.skip_empty = false;
            match self.take_line(line) {
                Ok(Some(event)) => events.push(event),
                Ok(None) => {}
                Err(e) if events.is_empty() => return Err(e),
                // Return what was good; the next poll starts at the bad line and reports it.
                Err(_) => break,
            }
            consumed += n + 1;
            self.offset += n as u64 + 1;
        }
        self.pending = (fresh.len() - consumed) as u64;
        Ok(events)
    }

    /// Validates one complete line; consumes it (line count, seq, chain) only when it is good.
    fn take_line(&mut self, line: &[u8]) -> Result<Option<(u64, Stamp, Event)>, JournalError> {
        let line_no = self.line.unwrap_or(0) + 1;
        if line_no == 1 {
            let decoded = decode_header(line).map_err(|e| header_error(&self.path, e))?;
            self.version = Some(decoded.header.version);
            self.head = decoded.hash;
            self.floor = Some(decoded.header.stamp());
            self.header = Some(decoded.header);
            self.line = Some(1);
            return Ok(None);
        }
        let bad = |e: super::format::LineError| {
            if e.altered {
                JournalError::Altered {
                    path: self.path.clone(),
                    line: line_no,
                    why: e.why,
                }
            } else {
                JournalError::BadLine {
                    path: self.path.clone(),
                    line: line_no,
                    col: e.col,
                    why: e.why,
                }
            }
        };
        let (seq, stamp, links, event) = if self.version.unwrap_or(2) >= 2 {
            let l = decode_event_v2(line).map_err(bad)?;
            (l.seq, l.stamp, Some((l.prev, l.hash)), l.event)
        } else {
            let (seq, at, event) = decode_event_v1(line).map_err(bad)?;
            (seq, Stamp::wall(at), None, event)
        };
        if let Some(last) = self.last_seq {
            if seq != last + 1 {
                return Err(JournalError::BadSeq {
                    path: self.path.clone(),
                    line: line_no,
                    expected: last + 1,
                    found: seq,
                });
            }
        }
        if let Some((prev, hash)) = links {
            if let Some(head) = self.head {
                if prev != head {
                    return Err(broken_link(&self.path, line_no));
                }
            }
            if let Some(floor) = self.floor {
                check_order(&self.path, line_no, floor, stamp)?;
            }
            self.head = Some(hash);
            self.floor = Some(self.floor.map_or(stamp, |f| advance(f, stamp)));
        }
        self.last_seq = Some(seq);
        self.line = Some(line_no);
        Ok(Some((seq, stamp, event)))
    }
}

/// What the lines before a mid-file starting offset say: the version (line 1), the chain's head
/// and the times of the last line, so that the next lines are checked against them.
#[derive(Default)]
struct Known {
    version: Option<u32>,
    header: Option<Header>,
    head: Option<Hex>,
    floor: Option<Stamp>,
    last_seq: Option<u64>,
}

impl Known {
    fn from_head(head: &[u8]) -> Known {
        let mut lines = head.split(|&b| b == b'\n').filter(|l| !l.is_empty());
        let Some(Ok(decoded)) = lines.next().map(decode_header) else {
            return Known::default();
        };
        let mut known = Known {
            version: Some(decoded.header.version),
            head: decoded.hash,
            floor: Some(decoded.header.stamp()),
            header: Some(decoded.header),
            last_seq: Some(0),
        };
        if let Some(last) = lines.next_back() {
            match decode_event_v2(last) {
                Ok(l) if known.head.is_some() => {
                    known.head = Some(l.hash);
                    known.floor = Some(l.stamp);
                    known.last_seq = Some(l.seq);
                }
                _ => {
                    known.head = None;
                    known.floor = None;
                    known.last_seq = None;
                }
            }
        }
        known
    }
}
