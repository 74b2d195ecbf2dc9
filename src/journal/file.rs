//! Reading and writing journal files: [`read`] (validate and replay), [`Journal::create`],
//! [`Journal::open_append`] (resume) and [`Journal::append`] (one line, one write, fsync).

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, Utc};
use nix::fcntl::Flock;

use super::chain::Hex;
use super::error::{JournalError, Op};
use super::format::{
    Continues, FORMAT, Header, HeaderError, Stamp, VERSION, decode_event_v1, decode_event_v2,
    decode_header, encode_event_into, encode_header_sealed,
};
use super::lock::{self, LockHolder};
use super::paths::new_path;
use crate::playbook::Event;

/// How far ahead of this machine's clock an event time may be before
/// [`Replay::check_times`] refuses it: clocks of two hosts writing one journal (a resume on
/// another machine) differ a little.
pub const FUTURE_TOLERANCE_SECS: i64 = 300;

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
    /// `(seq, stamp, event)`; `seq` runs 1, 2, 3, ...
    pub events: Vec<(u64, Stamp, Event)>,
    /// A torn last line, reported and ignored.
    pub torn_tail: Option<TornTail>,
    /// Bytes of the valid journal: header and events, up to the torn tail if any.
    pub valid_len: u64,
    /// The last line (an event, or the header of a journal without events) has no trailing
    /// newline, yet it decodes: the next writer adds it.
    pub(crate) unterminated: bool,
    /// Version 2: the hash of the last valid line (the chain's head: what the next event's
    /// `prev` is). `None` for version 1 (no chain).
    pub chain_head: Option<Hex>,
}

impl Replay {
    /// `seq` of the last event; 0 when there is none.
    pub fn last_seq(&self) -> u64 {
        self.events.last().map_or(0, |(seq, _, _)| *seq)
    }

    /// `(session time, event)` pairs for [`Engine::resume`](crate::playbook::Engine::resume)
    /// and [`Engine::replay`](crate::playbook::Engine): the engine's clock (simulated in drills).
    pub fn timeline(&self) -> Vec<(DateTime<Utc>, Event)> {
        self.events
            .iter()
            .map(|(_, stamp, ev)| (stamp.session(), ev.clone()))
            .collect()
    }

    /// The format version the file was written in.
    pub fn version(&self) -> u32 {
        self.header.version
    }

    /// The incident is read-only: the header says so (version 2), or a `declared` event does
    /// (any version). A resume stays read-only.
    pub fn read_only(&self) -> bool {
        self.header.read_only
            || self.events.iter().any(|(_, _, e)| {
                matches!(
                    e,
                    Event::Declared {
                        read_only: true,
                        ..
                    }
                )
            })
    }

    /// The last event's stamp, or the header's when there is none.
    pub fn last_stamp(&self) -> Stamp {
        self.events
            .last()
            .map_or_else(|| self.header.stamp(), |(_, stamp, _)| *stamp)
    }

    /// Refuses a journal that records a time later than `now` (this machine's wall clock, read
    /// by the caller), with the first such line: [`JournalError::Future`]. Version 2 compares
    /// every wall-clock `at` (and the header's `started_at`); version 1, whose `at` was the
    /// session time, compares it with the session time now (`started_at` plus the wall time
    /// since, times the simulator's `speed`). [`FUTURE_TOLERANCE_SECS`] of clock difference is
    /// allowed. Out-of-order times are refused by [`decode`] already.
    pub fn check_times(&self, path: &Path, now: DateTime<Utc>) -> Result<(), JournalError> {
        let tolerance = TimeDelta::seconds(FUTURE_TOLERANCE_SECS);
        let started = self.header.started_at;
        let bound = if self.version() >= 2 {
            now + tolerance
        } else {
            let speed = self.header.speed.unwrap_or(1.0).max(1.0);
            let wall = (now - started).num_milliseconds().max(0) as f64;
            let session = TimeDelta::milliseconds((wall * speed).min(i64::MAX as f64 / 2.0) as i64);
            started
                .checked_add_signed(session)
                .unwrap_or(DateTime::<Utc>::MAX_UTC)
                + tolerance
        };
        let future = |line: usize, time: DateTime<Utc>| JournalError::Future {
            path: path.to_path_buf(),
            line,
            time,
            now,
        };
        if started > now + tolerance {
            return Err(future(1, started));
        }
        for (i, (_, stamp, _)) in self.events.iter().enumerate() {
            if stamp.at > bound {
                return Err(future(i + 2, stamp.at));
            }
        }
        Ok(())
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

/// Validates journal bytes as [`read`] does; `path` is only used in messages. Reads versions 1
/// and 2; for version 2 it also checks every line's hash and `prev` (the chain) and that neither
/// clock goes backwards from one line to the next (the header's `started_at` and
/// `sim_started_at` count as line 1's). The torn-line rule applies to the last line either way.
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
    let decoded = decode_header(first).map_err(|e| header_error(path, e))?;
    let header = decoded.header;
    let mut chain = decoded.hash;
    let mut floor = header.stamp();
    let mut events = Vec::new();
    let mut torn_tail = None;
    let mut unterminated = !header_terminated;
    let mut valid_len = lines.pos as u64;
    let mut line_no = 1;
    let mut expected = 1;
    while let Some((line, start, terminated)) = lines.next() {
        line_no += 1;
        let decoded = match chain {
            Some(_) => {
                decode_event_v2(line).map(|l| (l.seq, l.stamp, Some((l.prev, l.hash)), l.event))
            }
            None => decode_event_v1(line).map(|(seq, at, e)| (seq, Stamp::wall(at), None, e)),
        };
        match decoded {
            Ok((seq, stamp, links, event)) => {
                if seq != expected {
                    return Err(JournalError::BadSeq {
                        path: path.to_path_buf(),
                        line: line_no,
                        expected,
                        found: seq,
                    });
                }
                if let (Some(head), Some((prev, hash))) = (chain, links) {
                    if prev != head {
                        return Err(broken_link(path, line_no));
                    }
                    check_order(path, line_no, floor, stamp)?;
                    floor = advance(floor, stamp);
                    chain = Some(hash);
                }
                expected += 1;
                events.push((seq, stamp, event));
                valid_len = lines.pos as u64;
                unterminated = !terminated;
            }
            // A crash cuts a line short: a torn tail is a strict prefix of a line, never a whole
            // JSON object. A complete object that fails (its hash, say) was changed, not torn.
            Err(_) if is_torn(terminated, chain.is_some(), line) => {
                torn_tail = Some(TornTail {
                    line: line_no,
                    offset: start as u64,
                    bytes: line.to_vec(),
                });
            }
            Err(e) if e.altered => {
                return Err(JournalError::Altered {
                    path: path.to_path_buf(),
                    line: line_no,
                    why: e.why,
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
        chain_head: chain,
    })
}

/// Line `line`'s `prev` is not the previous line's hash.
pub(crate) fn broken_link(path: &Path, line: usize) -> JournalError {
    JournalError::Altered {
        path: path.to_path_buf(),
        line,
        why: format!(
            "line {line}'s hash of line {} (\"prev\") does not match it: a line was removed, \
             inserted or moved before line {line}, or line {} was replaced",
            line - 1,
            line - 1
        ),
    }
}

/// Refuses a stamp earlier than the previous line's, per clock.
pub(crate) fn check_order(
    path: &Path,
    line: usize,
    floor: Stamp,
    stamp: Stamp,
) -> Result<(), JournalError> {
    let back = |clock, time, previous| JournalError::BackInTime {
        path: path.to_path_buf(),
        line,
        clock,
        time,
        previous,
    };
    if stamp.at < floor.at {
        return Err(back("at", stamp.at, floor.at));
    }
    if let (Some(sim), Some(previous)) = (stamp.sim, floor.sim) {
        if sim < previous {
            return Err(back("sim", sim, previous));
        }
    }
    Ok(())
}

/// The floor after a line stamped `stamp` (a line without `sim` keeps the last one).
pub(crate) fn advance(floor: Stamp, stamp: Stamp) -> Stamp {
    Stamp {
        at: stamp.at,
        sim: stamp.sim.or(floor.sim),
    }
}

/// A line that failed to decode is a torn tail (a crash cut it short) when it is unterminated
/// and, in a chained journal, does not hold a whole JSON object (see
/// [`is_complete_json`](super::chain::is_complete_json)): a whole one was changed, not torn.
fn is_torn(terminated: bool, chained: bool, line: &[u8]) -> bool {
    if terminated {
        return false;
    }
    !chained || !super::chain::is_complete_json(line)
}

/// Where a version-1 journal is continued: `<name>.v2.jsonl` beside `<name>.jsonl`.
pub fn continuation_path(v1: &Path) -> PathBuf {
    let stem = v1
        .file_stem()
        .map(|s| s.to_string_lossy().into_owned())
        .unwrap_or_default();
    v1.with_file_name(format!("{stem}.v2.jsonl"))
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
        HeaderError::Bad(e) if e.altered => JournalError::Altered {
            path: path.to_path_buf(),
            line: 1,
            why: e.why,
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
/// [`Journal::append`] returns. It holds the journal's exclusive lock (one writer per journal)
/// until dropped; the `.lock` sidecar naming the holder is removed then.
///
/// After a failed append the handle records nothing more ([`JournalError::Failed`]): the file is
/// valid up to the last successful append (a partial line left by the failure is cut off when
/// possible, and is otherwise a torn tail that readers ignore). Reopen with
/// [`Journal::open_append`] once the cause is fixed.
#[derive(Debug)]
pub struct Journal {
    path: PathBuf,
    file: Flock<File>,
    next_seq: u64,
    /// Bytes known to be on disk: the file is valid up to here.
    len: u64,
    failed: Option<String>,
    buf: Vec<u8>,
    /// The last line's hash: the next event's `prev`.
    head: Hex,
    /// The last line's times: no event is written earlier.
    floor: Stamp,
    /// The `.lock` sidecar to remove on drop.
    sidecar: bool,
}

impl Journal {
    /// Creates a new journal at `path` (mode 0600), takes its lock and writes its header (in the
    /// current version); file and directory are fsynced. Refuses to overwrite anything
    /// ([`JournalError::Exists`]). The directory must exist. The lock's holder is this process,
    /// with the header's host and operator.
    pub fn create(path: &Path, header: &Header) -> Result<Journal, JournalError> {
        let io = |op: Op| {
            move |source: std::io::Error| JournalError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        let (line, head) = encode_header_sealed(header).map_err(|source| JournalError::Encode {
            path: path.to_path_buf(),
            source,
        })?;
        let file = OpenOptions::new()
            .append(true)
            .create_new(true)
            .mode(0o600)
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
        let mut file = lock::acquire(path, file)?;
        file.write_all(&line).map_err(io(Op::Create))?;
        file.sync_all().map_err(io(Op::Sync))?;
        sync_dir(path).map_err(io(Op::Sync))?;
        let holder = LockHolder {
            host: header.host.clone(),
            pid: std::process::id(),
            operator: header.operator.clone(),
        };
        lock::write_sidecar(path, &holder);
        Ok(Journal {
            path: path.to_path_buf(),
            file,
            next_seq: 1,
            len: line.len() as u64,
            failed: None,
            buf: Vec::with_capacity(1024),
            head,
            floor: header.stamp(),
            sidecar: true,
        })
    }

    /// Creates a new journal in `dir` (created if missing, mode 0700) under a fresh name from
    /// [`new_path`]; returns it with its path.
    pub fn create_in(dir: &Path, header: &Header) -> Result<Journal, JournalError> {
        create_private_dir(dir)?;
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

    /// Opens an existing journal to continue it (`--resume`) as `holder`: takes its lock first
    /// ([`JournalError::Locked`], naming the holder, when another console writes it: nothing is
    /// written then), validates the whole file (refusing a broken one without touching it, and
    /// an older format version: [`JournalError::OldVersion`]), then cuts off a torn last line
    /// (logged, and returned in [`Replay::torn_tail`] so the console can show it), and appends
    /// after the last event.
    pub fn open_append(
        path: &Path,
        holder: &LockHolder,
    ) -> Result<(Journal, Replay), JournalError> {
        let io = |op: Op| {
            move |source: std::io::Error| JournalError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        let file = OpenOptions::new()
            .read(true)
            .append(true)
            .open(path)
            .map_err(io(Op::Open))?;
        let mut file = lock::acquire(path, file)?;
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(Op::Read))?;
        let replay = decode(path, &bytes)?;
        let Some(head) = replay.chain_head else {
            return Err(JournalError::OldVersion {
                path: path.to_path_buf(),
                version: replay.header.version,
            });
        };
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
        lock::write_sidecar(path, holder);
        let journal = Journal {
            path: path.to_path_buf(),
            file,
            next_seq: replay.last_seq() + 1,
            len,
            failed: None,
            buf: Vec::with_capacity(1024),
            head,
            floor: replay.last_stamp(),
            sidecar: true,
        };
        Ok((journal, replay))
    }

    /// Continues a version-1 journal (`--resume` of an incident started by a warroom that wrote
    /// format 1): lines cannot be hash-chained onto a file that has no chain, so its events are
    /// copied, in order, into a new version-2 journal beside it
    /// ([`continuation_path`]), whose header names the older file and its SHA-256; the older file
    /// is not touched. When that continuation exists already (resumed before), it is opened
    /// instead. Returns the continuation, locked, with its replay.
    ///
    /// Version 1 recorded one time per event, the session time. A live incident's is the wall
    /// clock. A drill's is simulated: its wall-clock times are estimated from the header's start
    /// and speed (`started_at + (sim - started_at) / speed`, never after `now`) and the
    /// simulated time kept as `sim`.
    pub fn continue_version_1(
        path: &Path,
        holder: &LockHolder,
        now: DateTime<Utc>,
    ) -> Result<(Journal, Replay), JournalError> {
        let io = |op: Op| {
            move |source: std::io::Error| JournalError::Io {
                path: path.to_path_buf(),
                op,
                source,
            }
        };
        let cont = continuation_path(path);
        // The older file's lock keeps a second console from copying it at the same time.
        let file = OpenOptions::new()
            .read(true)
            .open(path)
            .map_err(io(Op::Open))?;
        let mut file = lock::acquire(path, file)?;
        if cont.exists() {
            drop(file);
            return Journal::open_append(&cont, holder);
        }
        let mut bytes = Vec::new();
        file.read_to_end(&mut bytes).map_err(io(Op::Read))?;
        let old = decode(path, &bytes)?;
        if old.chain_head.is_some() {
            drop(file);
            return Journal::open_append(path, holder);
        }
        let valid = bytes.get(..old.valid_len as usize).unwrap_or(&bytes);
        let mut header = old.header.clone();
        header.format = FORMAT.to_string();
        header.version = VERSION;
        header.read_only = old.read_only();
        header.host.clone_from(&holder.host);
        header.warroom_version = env!("CARGO_PKG_VERSION").to_string();
        header.continues = Some(Continues {
            file: path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default(),
            sha256: super::chain::sha256_hex(valid),
            events: old.events.len() as u64,
        });
        let speed = old.header.speed.filter(|s| *s > 0.0);
        if speed.is_some() {
            header.sim_started_at = Some(old.header.started_at);
        }
        let start = old.header.started_at;
        let wall_of = |session: DateTime<Utc>| match speed {
            Some(speed) => {
                let ms = (session - start).num_milliseconds().max(0) as f64 / speed;
                (start + TimeDelta::milliseconds(ms as i64)).min(now)
            }
            None => session,
        };
        let mut journal = Journal::create(&cont, &header)?;
        let copied: Vec<(Stamp, &Event)> = old
            .events
            .iter()
            .map(|(_, stamp, event)| {
                let session = stamp.session();
                let stamp = Stamp {
                    at: wall_of(session),
                    sim: speed.map(|_| session),
                };
                (stamp, event)
            })
            .collect();
        journal.append_all(copied)?;
        drop(file);
        let replay = read(&cont)?;
        Ok((journal, replay))
    }

    /// Appends one event stamped `stamp`: encodes it as one line, writes it with one write,
    /// fsyncs (`sync_data`) and only then returns its `seq`. On failure nothing should be shown
    /// as done: see [`JournalError::is_write_failure`].
    pub fn append(&mut self, stamp: Stamp, event: &Event) -> Result<u64, JournalError> {
        let seq = self.next_seq;
        self.append_all(std::iter::once((stamp, event)))?;
        Ok(seq)
    }

    /// Appends several events with one write and one fsync (the engine emits a few at a time:
    /// a step finishes, the next one starts). Returns the `seq` of the last; a torn write loses
    /// at most the last lines, never leaves a gap.
    ///
    /// No time is written earlier than the previous line's: a stamp behind it (a clock set
    /// back) is clamped up to it, per clock.
    pub fn append_all<'a>(
        &mut self,
        events: impl IntoIterator<Item = (Stamp, &'a Event)>,
    ) -> Result<u64, JournalError> {
        if let Some(why) = &self.failed {
            return Err(JournalError::Failed {
                path: self.path.clone(),
                why: why.clone(),
            });
        }
        self.buf.clear();
        let mut seq = self.next_seq;
        let mut head = self.head;
        let mut floor = self.floor;
        for (stamp, event) in events {
            let stamp = stamp.not_before(floor);
            head =
                encode_event_into(&mut self.buf, seq, stamp, &head, event).map_err(|source| {
                    JournalError::Encode {
                        path: self.path.clone(),
                        source,
                    }
                })?;
            floor = advance(floor, stamp);
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
        self.head = head;
        self.floor = floor;
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

    /// The hash of the last line written (the chain's head).
    pub fn chain_head(&self) -> Hex {
        self.head
    }

    /// The times of the last line written (the next event is never stamped earlier).
    pub fn last_stamp(&self) -> Stamp {
        self.floor
    }
}

impl Drop for Journal {
    fn drop(&mut self) {
        // Before the lock goes (with the file, right after): whoever takes it next writes their
        // own sidecar.
        if self.sidecar {
            lock::remove_sidecar(&self.path);
        }
    }
}

/// Creates `dir` and its missing parents with mode 0700 (owner only); an existing directory is
/// left as it is.
pub fn create_private_dir(dir: &Path) -> Result<(), JournalError> {
    std::fs::DirBuilder::new()
        .recursive(true)
        .mode(0o700)
        .create(dir)
        .map_err(|source| JournalError::Io {
            path: dir.to_path_buf(),
            op: Op::CreateDir,
            source,
        })
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
        let Ok(file) = Flock::lock(file, nix::fcntl::FlockArg::LockExclusiveNonblock) else {
            return;
        };
        let at = Stamp::wall(
            Utc.with_ymd_and_hms(2026, 11, 22, 3, 12, 0)
                .single()
                .expect("valid"),
        );
        let mut j = Journal {
            path: PathBuf::from("/dev/full"),
            file,
            next_seq: 5,
            len: 0,
            failed: None,
            buf: Vec::new(),
            head: Hex([b'0'; 64]),
            floor: at,
            sidecar: false,
        };
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
