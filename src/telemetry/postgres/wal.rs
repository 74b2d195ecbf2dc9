//! The data a promotion loses, measured from WAL positions.
//!
//! A standby whose primary is gone holds every write up to the end of the WAL it has (the WAL it
//! replayed, plus what it received but has not replayed yet: a promotion replays that first).
//! The primary committed up to its last WAL record. The lost window is what lies between:
//!
//! - `R` (`last_replayed_at`): the replica's last transaction (its `pg_last_xact_replay_timestamp()`,
//!   or the last COMMIT/ABORT record it received after that), at WAL position `LSN(R)`;
//! - `S` (`source_lost_at`): the old primary's last COMMIT record after `LSN(R)` (`R` itself when
//!   it has none: nothing committed is lost);
//! - bytes: the end of the old primary's last WAL record minus `LSN(R)`.
//!
//! Where the old primary's WAL is read (the evidence), best first:
//!
//! 1. its data directory, when it is reachable from this machine (`data_dir` in the environment):
//!    `pg_controldata` for its timeline and WAL geometry, then `pg_waldump` of `pg_wal` from
//!    `LSN(R)` to the end of valid WAL (where crash recovery would stop too). Exact.
//! 2. its WAL archive (`wal_archive`): `pg_waldump` of the archived segments. The segment the
//!    primary was writing is not archived, so `S` and the bytes are a lower bound: said so.
//!
//! Every program runs with a timeout and is killed with its process group when it runs out or
//! the measurement is dropped. `pg_waldump`'s output is read line by line, never held whole.

use std::fmt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, NaiveDateTime, Utc};
use tokio::io::{AsyncBufReadExt, AsyncReadExt, BufReader};
use tokio_postgres::Client;

use super::{GroupGuard, PgTarget, QUERY_TIMEOUT, find_tool, pg_error, run_tool};

/// Longest one measurement (all its programs together) may take.
pub const MEASURE_TIMEOUT: Duration = Duration::from_secs(30);
/// PostgreSQL's default WAL page size (`XLOG_BLCKSZ`), used for an archive (no control file).
const DEFAULT_WAL_BLOCK: u64 = 8192;
/// `SizeOfXLogShortPHD` and `SizeOfXLogLongPHD` (64-bit builds): a WAL page's header, and the
/// first page of a segment's.
const SHORT_PAGE_HEADER: u64 = 24;
const LONG_PAGE_HEADER: u64 = 40;
/// `MAXALIGN` on 64-bit builds: records start on 8-byte boundaries.
const MAXALIGN: u64 = 8;

/// A WAL position (`0/3014148`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub struct Lsn(pub u64);

impl Lsn {
    /// `X/Y` in hexadecimal, as PostgreSQL prints it.
    pub fn parse(s: &str) -> Option<Lsn> {
        let (hi, lo) = s.trim().split_once('/')?;
        let hi = u64::from_str_radix(hi, 16).ok()?;
        let lo = u64::from_str_radix(lo, 16).ok()?;
        (hi <= u64::from(u32::MAX) && lo <= u64::from(u32::MAX)).then_some(Lsn((hi << 32) | lo))
    }
}

impl fmt::Display for Lsn {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:X}/{:X}", self.0 >> 32, self.0 & 0xFFFF_FFFF)
    }
}

/// Where the standby stands, read from it.
#[derive(Debug, Clone, PartialEq)]
pub struct ReplicaPosition {
    /// `pg_last_wal_replay_lsn()`: the end of the last record it replayed.
    pub replay_lsn: Lsn,
    /// `pg_last_wal_receive_lsn()`: WAL received and flushed, replayed or not (a promotion
    /// replays it first). `None` once promoted, or if it never streamed.
    pub receive_lsn: Option<Lsn>,
    /// `pg_last_xact_replay_timestamp()`: commit (or abort) time of its last replayed transaction.
    pub replay_at: Option<DateTime<Utc>>,
    /// The timeline it follows (the old primary's).
    pub timeline: u32,
}

/// Reads a standby's position (`receive` false: ignore received WAL, e.g. after promotion, where
/// the replay position is final).
pub async fn read_position(client: &Client, receive: bool) -> Result<ReplicaPosition, WalError> {
    read_position_inner(client, receive)
        .await
        .map_err(|message| WalError::Server { message })
}

async fn read_position_inner(client: &Client, receive: bool) -> Result<ReplicaPosition, String> {
    let row = tokio::time::timeout(
        QUERY_TIMEOUT,
        client.query_one(
            "SELECT pg_last_wal_replay_lsn()::text, pg_last_wal_receive_lsn()::text, \
             (EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()) * 1000000)::int8, \
             (SELECT timeline_id FROM pg_control_checkpoint())::int8",
            &[],
        ),
    )
    .await
    .map_err(|_| format!("no answer within {}s", QUERY_TIMEOUT.as_secs()))?
    .map_err(|e| pg_error(&e))?;
    let get_text = |i: usize| -> Result<Option<String>, String> {
        row.try_get::<_, Option<String>>(i)
            .map_err(|e| format!("unexpected answer: {e}"))
    };
    let replay_lsn = get_text(0)?.as_deref().and_then(Lsn::parse).ok_or(
        "pg_last_wal_replay_lsn() is NULL: the server never replayed WAL (not a standby?)",
    )?;
    let receive_lsn = if receive {
        get_text(1)?.as_deref().and_then(Lsn::parse)
    } else {
        None
    };
    let micros: Option<i64> = row
        .try_get(2)
        .map_err(|e| format!("unexpected answer: {e}"))?;
    let timeline: Option<i64> = row
        .try_get(3)
        .map_err(|e| format!("unexpected answer: {e}"))?;
    Ok(ReplicaPosition {
        replay_lsn,
        receive_lsn,
        replay_at: micros.and_then(DateTime::from_timestamp_micros),
        timeline: timeline
            .and_then(|t| u32::try_from(t).ok())
            .ok_or("no timeline in pg_control_checkpoint()")?,
    })
}

/// Which copy of the old primary's WAL was read.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum EvidenceKind {
    /// Its data directory's `pg_wal`: everything it wrote.
    DataDir,
    /// Its WAL archive: the segments it finished and archived.
    Archive,
}

/// The measured lost window.
#[derive(Debug, Clone, PartialEq)]
pub struct LossWindow {
    /// `R`: the replica's last transaction.
    pub last_replayed_at: Option<DateTime<Utc>>,
    /// `LSN(R)`: the end of the WAL the replica has (and a promotion keeps).
    pub replica_lsn: Lsn,
    /// `S`: the old primary's last commit after `LSN(R)`; `R` when there is none.
    pub source_lost_at: Option<DateTime<Utc>>,
    /// The end of the old primary's last WAL record.
    pub source_end_lsn: Lsn,
    /// COMMIT records after `LSN(R)`: the transactions lost.
    pub lost_commits: u64,
    pub kind: EvidenceKind,
    /// Where `S` and the end came from, for the record.
    pub evidence: String,
}

impl LossWindow {
    /// `LSN(S) - LSN(R)`: bytes of WAL the replica does not have.
    pub fn bytes(&self) -> u64 {
        self.source_end_lsn.0.saturating_sub(self.replica_lsn.0)
    }

    /// `S - R` in seconds (0 when nothing committed is lost); `None` when `R` is unknown.
    pub fn secs(&self) -> Option<f64> {
        match (self.last_replayed_at, self.source_lost_at) {
            (Some(r), Some(s)) => {
                Some(((s - r).num_microseconds().unwrap_or(0) as f64 / 1e6).max(0.0))
            }
            (None, Some(_)) if self.lost_commits == 0 => Some(0.0),
            _ => None,
        }
    }
}

/// Where the old primary's WAL may be read: its `data_dir` and `wal_archive` settings.
#[derive(Debug, Clone)]
pub struct SourceWal {
    pub name: String,
    pub data_dir: Option<PathBuf>,
    pub wal_archive: Option<PathBuf>,
    pub bin_dir: Option<PathBuf>,
}

impl SourceWal {
    pub fn of(target: &PgTarget) -> SourceWal {
        SourceWal {
            name: target.name.clone(),
            data_dir: target.data_dir.clone(),
            wal_archive: target.wal_archive.clone(),
            bin_dir: target.bin_dir.clone(),
        }
    }

    pub fn configured(&self) -> bool {
        self.data_dir.is_some() || self.wal_archive.is_some()
    }
}

/// Measures the window against the old primary's WAL: its data directory first, then its archive.
/// `Err` names why neither could be read. Bounded by [`MEASURE_TIMEOUT`].
pub async fn measure(source: &SourceWal, pos: &ReplicaPosition) -> Result<LossWindow, WalError> {
    if !source.configured() {
        return Err(WalError::NotConfigured {
            name: source.name.clone(),
        });
    }
    tokio::time::timeout(MEASURE_TIMEOUT, measure_unbounded(source, pos))
        .await
        .unwrap_or_else(|_| {
            Err(WalError::Timeout {
                name: source.name.clone(),
                secs: MEASURE_TIMEOUT.as_secs(),
            })
        })
}

async fn measure_unbounded(
    source: &SourceWal,
    pos: &ReplicaPosition,
) -> Result<LossWindow, WalError> {
    let waldump = find_tool("pg_waldump", source.bin_dir.as_deref())
        .map_err(|message| WalError::Tool { message })?;
    let mut tried = Vec::new();
    if let Some(dir) = &source.data_dir {
        match from_data_dir(source, dir, &waldump, pos).await {
            Ok(w) => return Ok(w),
            Err(reason) => tried.push(Unread {
                kind: EvidenceKind::DataDir,
                dir: dir.clone(),
                reason,
            }),
        }
    }
    if let Some(dir) = &source.wal_archive {
        match from_archive(source, dir, &waldump, pos).await {
            Ok(w) => return Ok(w),
            Err(reason) => tried.push(Unread {
                kind: EvidenceKind::Archive,
                dir: dir.clone(),
                reason,
            }),
        }
    }
    Err(WalError::Unread { tried })
}

/// A copy of the old primary's WAL that could not be read, and why.
#[derive(Debug, Clone, PartialEq)]
pub struct Unread {
    pub kind: EvidenceKind,
    pub dir: PathBuf,
    pub reason: String,
}

impl fmt::Display for Unread {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let what = match self.kind {
            EvidenceKind::DataDir => "data directory",
            EvidenceKind::Archive => "WAL archive",
        };
        write!(f, "{what} {}: {}", self.dir.display(), self.reason)
    }
}

/// WAL geometry and state from `pg_controldata`.
#[derive(Debug, Clone, PartialEq)]
struct Control {
    state: String,
    timeline: u32,
    segment: u64,
    block: u64,
}

fn parse_controldata(text: &str) -> Result<Control, String> {
    let field = |name: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(name)?.trim_start().strip_prefix(':'))
            .map(str::trim)
            .ok_or_else(|| format!("pg_controldata printed no {name:?}"))
    };
    let num = |name: &str| -> Result<u64, String> {
        field(name)?
            .parse()
            .map_err(|_| format!("pg_controldata: {name:?} is not a number"))
    };
    Ok(Control {
        state: field("Database cluster state")?.to_string(),
        timeline: u32::try_from(num("Latest checkpoint's TimeLineID")?)
            .map_err(|_| "pg_controldata: timeline out of range".to_string())?,
        segment: num("Bytes per WAL segment")?,
        block: num("WAL block size")?,
    })
}

async fn from_data_dir(
    source: &SourceWal,
    dir: &Path,
    waldump: &Path,
    pos: &ReplicaPosition,
) -> Result<LossWindow, String> {
    if !dir.join("global").join("pg_control").is_file() {
        return Err("not reachable from this machine (no global/pg_control)".to_string());
    }
    let controldata = find_tool("pg_controldata", source.bin_dir.as_deref())?;
    let out = run_tool(
        &controldata,
        &[dir.display().to_string()],
        &[("LC_ALL", "C".to_string())],
        Duration::from_secs(10),
    )
    .await?;
    if !out.success {
        return Err(format!(
            "pg_controldata {}: {}",
            out.status,
            out.stderr_tail(2)
        ));
    }
    let control = parse_controldata(&out.stdout)?;
    let running = postmaster_running(dir);
    let wal = dir.join("pg_wal");
    let scan = waldump_scan(waldump, &wal, control.timeline, pos, &control).await?;
    let mut evidence = format!(
        "WAL of the old primary {:?}, read from its data directory (pg_waldump of {}, timeline {}; pg_controldata: {}",
        source.name,
        wal.display(),
        control.timeline,
        control.state
    );
    if running {
        evidence.push_str("; its server still runs: writes after this reading are not counted");
    }
    evidence.push(')');
    Ok(scan.window(pos, EvidenceKind::DataDir, evidence))
}

/// Whether the data directory's `postmaster.pid` names a live process.
fn postmaster_running(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

async fn from_archive(
    source: &SourceWal,
    dir: &Path,
    waldump: &Path,
    pos: &ReplicaPosition,
) -> Result<LossWindow, String> {
    let entries = std::fs::read_dir(dir).map_err(|e| format!("cannot list it: {e}"))?;
    // Whole segments of the timeline: 24 hexadecimal digits, the first 8 the timeline.
    let prefix = format!("{:08X}", pos.timeline);
    let segment = entries
        .flatten()
        .filter(|e| {
            let n = e.file_name();
            let n = n.to_string_lossy();
            n.len() == 24 && n.starts_with(&prefix) && n.bytes().all(|b| b.is_ascii_hexdigit())
        })
        .find_map(|e| e.metadata().ok().map(|m| m.len()))
        .ok_or_else(|| format!("no WAL segment of timeline {} in it", pos.timeline))?;
    let control = Control {
        state: String::new(),
        timeline: pos.timeline,
        segment,
        block: DEFAULT_WAL_BLOCK,
    };
    let scan = waldump_scan(waldump, dir, pos.timeline, pos, &control).await?;
    let evidence = format!(
        "WAL archive of the old primary {:?} (pg_waldump of {}, timeline {}; archived segments only: anything the old primary wrote after {} was never archived and is not counted)",
        source.name,
        dir.display(),
        pos.timeline,
        scan.end.map_or(pos.replay_lsn, |(e, _)| e)
    );
    Ok(scan.window(pos, EvidenceKind::Archive, evidence))
}

/// One WAL record as `pg_waldump` prints it.
#[derive(Debug, Clone, PartialEq)]
struct Record<'a> {
    rmgr: &'a str,
    tot_len: u64,
    lsn: Lsn,
    desc: &'a str,
}

/// `rmgr: Transaction len (rec/tot):     34/    34, tx:        747, lsn: 0/00F23F18, prev 0/00F23ED8, desc: COMMIT 2026-11-26 11:41:33.962847 UTC`
fn parse_record(line: &str) -> Option<Record<'_>> {
    let rest = line.strip_prefix("rmgr: ")?;
    let rmgr = rest.split_whitespace().next()?;
    let len = rest.split_once("len (rec/tot):")?.1;
    let tot_len = len
        .split(',')
        .next()?
        .split_once('/')?
        .1
        .trim()
        .parse()
        .ok()?;
    let lsn = rest.split_once(", lsn: ")?.1.split(',').next()?;
    let desc = rest.split_once(", desc: ").map_or("", |(_, d)| d);
    Some(Record {
        rmgr,
        tot_len,
        lsn: Lsn::parse(lsn)?,
        desc,
    })
}

/// What a transaction record says: a commit or an abort, and when (`pg_waldump` run with `TZ=UTC`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Xact {
    Commit,
    Abort,
}

fn parse_xact(r: &Record<'_>) -> Option<(Xact, DateTime<Utc>)> {
    if r.rmgr != "Transaction" {
        return None;
    }
    let (kind, rest) = if let Some(t) = r.desc.strip_prefix("COMMIT ") {
        (Xact::Commit, t)
    } else if let Some(t) = r.desc.strip_prefix("ABORT ") {
        (Xact::Abort, t)
    } else if let Some(t) = r.desc.strip_prefix("COMMIT_PREPARED ") {
        (Xact::Commit, t.split_once(": ")?.1)
    } else if let Some(t) = r.desc.strip_prefix("ABORT_PREPARED ") {
        (Xact::Abort, t.split_once(": ")?.1)
    } else {
        return None;
    };
    let stamp = rest.split(';').next()?.trim().strip_suffix(" UTC")?;
    let at = NaiveDateTime::parse_from_str(stamp, "%Y-%m-%d %H:%M:%S%.f").ok()?;
    Some((kind, at.and_utc()))
}

/// The end of a record (where the next one starts): its bytes laid over WAL pages, each page
/// after the first starting with a header, then aligned; after a WAL switch, the next segment.
fn record_end(r: &Record<'_>, block: u64, segment: u64) -> u64 {
    if r.rmgr == "XLOG" && r.desc.starts_with("SWITCH") {
        return (r.lsn.0 / segment + 1) * segment;
    }
    let mut pos = r.lsn.0;
    let mut remaining = r.tot_len;
    loop {
        let room = block - pos % block;
        if remaining <= room {
            pos += remaining;
            break;
        }
        remaining -= room;
        pos += room;
        pos += if pos % segment == 0 {
            LONG_PAGE_HEADER
        } else {
            SHORT_PAGE_HEADER
        };
    }
    pos.div_ceil(MAXALIGN) * MAXALIGN
}

/// What a scan of the old primary's WAL from the replica's position found.
#[derive(Debug, Clone, Default, PartialEq)]
struct Scan {
    /// End of the last valid record, and its start.
    end: Option<(Lsn, Lsn)>,
    /// End of the WAL the replica has: the last record ending within what it received.
    replica_end: Option<Lsn>,
    /// The replica's last transaction among the records it received but had not replayed.
    replica_xact_at: Option<DateTime<Utc>>,
    /// The last COMMIT beyond what the replica received, and how many there are.
    last_lost_commit: Option<(DateTime<Utc>, Lsn)>,
    lost_commits: u64,
}

impl Scan {
    /// Feeds one record; `received` is where the replica's WAL ends (received or replayed).
    fn record(&mut self, r: &Record<'_>, received: Lsn, control: &Control) {
        let end = Lsn(record_end(r, control.block, control.segment));
        self.end = Some((end, r.lsn));
        let xact = parse_xact(r);
        if end <= received {
            self.replica_end = Some(end);
            if let Some((_, at)) = xact {
                self.replica_xact_at = Some(at);
            }
        } else if let Some((Xact::Commit, at)) = xact {
            self.last_lost_commit = Some((at, r.lsn));
            self.lost_commits += 1;
        }
    }

    fn window(&self, pos: &ReplicaPosition, kind: EvidenceKind, evidence: String) -> LossWindow {
        let replica_lsn = self
            .replica_end
            .map_or(pos.replay_lsn, |e| e.max(pos.replay_lsn));
        let last_replayed_at = self.replica_xact_at.or(pos.replay_at);
        LossWindow {
            last_replayed_at,
            replica_lsn,
            source_lost_at: self.last_lost_commit.map(|(at, _)| at).or(last_replayed_at),
            source_end_lsn: self.end.map_or(replica_lsn, |(e, _)| e.max(replica_lsn)),
            lost_commits: self.lost_commits,
            kind,
            evidence,
        }
    }
}

/// The file name of the WAL segment holding `lsn`.
fn segment_name(timeline: u32, lsn: Lsn, segment: u64) -> String {
    let per_id = 0x1_0000_0000 / segment.max(1);
    let segno = lsn.0 / segment.max(1);
    format!("{timeline:08X}{:08X}{:08X}", segno / per_id, segno % per_id)
}

/// Runs `pg_waldump -p DIR -t TL -s LSN(replay)` to the end of valid WAL, reading its output line
/// by line.
async fn waldump_scan(
    waldump: &Path,
    dir: &Path,
    timeline: u32,
    pos: &ReplicaPosition,
    control: &Control,
) -> Result<Scan, String> {
    use std::process::Stdio;
    if control.block == 0 || control.segment == 0 || control.segment % control.block != 0 {
        return Err(format!(
            "odd WAL geometry: block {} bytes, segment {} bytes",
            control.block, control.segment
        ));
    }
    let received = pos
        .receive_lsn
        .map_or(pos.replay_lsn, |r| r.max(pos.replay_lsn));
    let mut child = tokio::process::Command::new(waldump)
        .arg("-p")
        .arg(dir)
        .arg("-t")
        .arg(timeline.to_string())
        .arg("-s")
        .arg(pos.replay_lsn.to_string())
        .env("TZ", "UTC")
        .env("LC_ALL", "C")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true)
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", waldump.display()))?;
    let guard = GroupGuard(
        child
            .id()
            .and_then(|p| i32::try_from(p).ok())
            .map(nix::unistd::Pid::from_raw),
    );
    let stdout = child.stdout.take().ok_or("pg_waldump: no stdout")?;
    let stderr = child.stderr.take().ok_or("pg_waldump: no stderr")?;
    let err_reader = tokio::spawn(async move {
        let mut text = String::new();
        let _ = stderr.take(64 * 1024).read_to_string(&mut text).await;
        text
    });
    let mut lines = BufReader::new(stdout).lines();
    let mut scan = Scan::default();
    let mut records: u64 = 0;
    while let Some(line) = lines
        .next_line()
        .await
        .map_err(|e| format!("reading pg_waldump's output: {e}"))?
    {
        if let Some(r) = parse_record(&line) {
            scan.record(&r, received, control);
            records += 1;
        }
    }
    if child.wait().await.is_ok() {
        // Ended and reaped: its group id may be reused, never signal it.
        std::mem::forget(guard);
    }
    let stderr = err_reader.await.unwrap_or_default();
    let stderr = stderr.trim();
    if records > 0 {
        // pg_waldump stops at the first invalid record: the end of valid WAL, as crash recovery
        // finds it.
        return Ok(scan);
    }
    // No record after the replica's position: the window is empty if the WAL there is present.
    let seg = dir.join(segment_name(timeline, pos.replay_lsn, control.segment));
    if stderr.contains("could not find a valid record") && seg.is_file() {
        return Ok(scan);
    }
    Err(format!(
        "pg_waldump found no record from {}: {}",
        pos.replay_lsn,
        stderr.lines().last().unwrap_or("no output")
    ))
}

/// Why the WAL archive cannot serve a recovery: it cannot be read, segments are missing, or it
/// does not reach the point yet.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum WalError {
    /// Neither a data directory nor an archive is set for the old primary.
    #[error("no data_dir or wal_archive is set for {name} in the environment")]
    NotConfigured { name: String },
    /// The measurement ran out of time.
    #[error("reading the WAL of {name} took longer than {secs}s")]
    Timeout { name: String, secs: u64 },
    /// A program (`pg_waldump`) is missing.
    #[error("{message}")]
    Tool { message: String },
    /// The server's position could not be read.
    #[error("{message}")]
    Server { message: String },
    /// Every copy of the WAL that was tried could not be read (each with its reason).
    #[error("{}", tried.iter().map(ToString::to_string).collect::<Vec<_>>().join("; "))]
    Unread { tried: Vec<Unread> },
    /// The directory cannot be listed (absent, permissions).
    #[error("the WAL archive {} cannot be read: {reason}", dir.display())]
    Unreadable { dir: PathBuf, reason: String },
    /// Segments are missing between two archived ones and the point lies after the gap.
    #[error("{gap}: the point {} lies after it, and replay cannot cross a gap", point.format(TIME_FORMAT))]
    Gap { gap: WalGap, point: DateTime<Utc> },
    /// The archive ends before the point (its last segment was archived earlier).
    #[error("the WAL archive {} ends at {} (its newest segment {newest}); the point {} is later: wait for the next segment to be archived (archive_timeout), or run SELECT pg_switch_wal() on the server", dir.display(), archived_at.format(TIME_FORMAT), point.format(TIME_FORMAT))]
    NotArchivedYet {
        dir: PathBuf,
        newest: String,
        archived_at: DateTime<Utc>,
        point: DateTime<Utc>,
    },
    /// No segment of the timeline is archived at all.
    #[error("the WAL archive {} holds no segment of timeline {timeline}", dir.display())]
    Empty { dir: PathBuf, timeline: u32 },
}

/// How times are shown in WAL messages.
pub const TIME_FORMAT: &str = "%Y-%m-%d %H:%M:%S%.3f UTC";

/// One archived WAL segment: `TTTTTTTTXXXXXXXXYYYYYYYY`, 24 hexadecimal digits.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ArchivedSegment {
    pub name: String,
    pub timeline: u32,
    /// The segment number (`XXXXXXXX * segments per id + YYYYYYYY`).
    pub number: u64,
    /// When it was archived (the file's modification time): every record in it was written
    /// at or before this time, so it bounds the commit times inside from above.
    pub archived_at: DateTime<Utc>,
}

/// Segments missing between two archived ones of a timeline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WalGap {
    pub timeline: u32,
    /// The first and last missing segment names.
    pub first_missing: String,
    pub last_missing: String,
    /// How many segments are missing.
    pub missing: u64,
    /// When the segment before the gap was archived: WAL after this time may be in the gap.
    pub from: DateTime<Utc>,
    /// When the segment after the gap was archived.
    pub to: DateTime<Utc>,
}

impl fmt::Display for WalGap {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let segments = if self.missing == 1 {
            format!("WAL segment {} is", self.first_missing)
        } else {
            format!(
                "{} WAL segments {}..{} are",
                self.missing, self.first_missing, self.last_missing
            )
        };
        write!(
            f,
            "{segments} missing from the archive: a gap from {} to {}",
            self.from.format(TIME_FORMAT),
            self.to.format(TIME_FORMAT)
        )
    }
}

/// What a WAL archive holds: its segments in order and the gaps between them.
#[derive(Debug, Clone, PartialEq)]
pub struct ArchiveScan {
    pub dir: PathBuf,
    /// Bytes per segment (from the segment files; 16 MB by default).
    pub segment_bytes: u64,
    /// Sorted by timeline, then number.
    pub segments: Vec<ArchivedSegment>,
    pub gaps: Vec<WalGap>,
}

/// The timeline and segment number of a segment file name, `segment_bytes` per segment.
pub fn parse_segment_name(name: &str, segment_bytes: u64) -> Option<(u32, u64)> {
    if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let timeline = u32::from_str_radix(name.get(0..8)?, 16).ok()?;
    let id = u64::from_str_radix(name.get(8..16)?, 16).ok()?;
    let seg = u64::from_str_radix(name.get(16..24)?, 16).ok()?;
    let per_id = 0x1_0000_0000 / segment_bytes.max(1);
    (seg < per_id).then_some((timeline, id * per_id + seg))
}

/// Lists a WAL archive: whole segments only (not `.partial`, `.history`, `.backup` files nor
/// the dot-files an `archive_command` copies through).
pub fn scan_archive(dir: &Path) -> Result<ArchiveScan, WalError> {
    let unreadable = |e: std::io::Error| WalError::Unreadable {
        dir: dir.to_path_buf(),
        reason: e.to_string(),
    };
    let mut files = Vec::new();
    for entry in std::fs::read_dir(dir).map_err(unreadable)? {
        let entry = entry.map_err(unreadable)?;
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.len() != 24 || !name.bytes().all(|b| b.is_ascii_hexdigit()) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        let archived_at = meta
            .modified()
            .map(DateTime::<Utc>::from)
            .unwrap_or(DateTime::UNIX_EPOCH);
        files.push((name, meta.len(), archived_at));
    }
    // Every whole segment has the cluster's segment size: the most common size is it.
    let mut sizes: std::collections::BTreeMap<u64, usize> = std::collections::BTreeMap::new();
    for (_, len, _) in &files {
        *sizes.entry(*len).or_default() += 1;
    }
    let segment_bytes = sizes
        .iter()
        .max_by_key(|(_, n)| **n)
        .map_or(16 << 20, |(len, _)| *len)
        .max(1);
    let mut segments: Vec<ArchivedSegment> = files
        .into_iter()
        .filter_map(|(name, _, archived_at)| {
            let (timeline, number) = parse_segment_name(&name, segment_bytes)?;
            Some(ArchivedSegment {
                name,
                timeline,
                number,
                archived_at,
            })
        })
        .collect();
    segments.sort_by_key(|s| (s.timeline, s.number));
    let gaps = find_gaps(&segments, segment_bytes);
    Ok(ArchiveScan {
        dir: dir.to_path_buf(),
        segment_bytes,
        segments,
        gaps,
    })
}

/// The gaps between consecutive segments of each timeline (`segments` sorted).
pub fn find_gaps(segments: &[ArchivedSegment], segment_bytes: u64) -> Vec<WalGap> {
    let per_id = 0x1_0000_0000 / segment_bytes.max(1);
    let name = |tl: u32, n: u64| format!("{tl:08X}{:08X}{:08X}", n / per_id, n % per_id);
    segments
        .windows(2)
        .filter(|w| w[0].timeline == w[1].timeline && w[1].number > w[0].number + 1)
        .map(|w| WalGap {
            timeline: w[0].timeline,
            first_missing: name(w[0].timeline, w[0].number + 1),
            last_missing: name(w[0].timeline, w[1].number - 1),
            missing: w[1].number - w[0].number - 1,
            from: w[0].archived_at,
            to: w[1].archived_at,
        })
        .collect()
}

impl ArchiveScan {
    /// The segment number holding `lsn`.
    pub fn number_of(&self, lsn: Lsn) -> u64 {
        lsn.0 / self.segment_bytes
    }

    /// The segments of one timeline.
    pub fn of_timeline(&self, timeline: u32) -> impl Iterator<Item = &ArchivedSegment> {
        self.segments.iter().filter(move |s| s.timeline == timeline)
    }

    /// The archived time of the newest segment of `timeline`.
    pub fn newest(&self, timeline: u32) -> Option<&ArchivedSegment> {
        self.of_timeline(timeline).last()
    }

    /// Whether replay from segment `from` (the first segment a base backup needs from the
    /// archive) can reach `point` on `timeline`: every segment from `from` up to the one
    /// holding `point` is archived (no gap after `from` begins before the point, and the
    /// archive's newest segment was archived at or after it).
    pub fn covers(&self, timeline: u32, from: u64, point: DateTime<Utc>) -> Result<(), WalError> {
        let newest = self.newest(timeline).ok_or_else(|| WalError::Empty {
            dir: self.dir.clone(),
            timeline,
        })?;
        // A gap whose missing segments come after `from` and that begins before the point:
        // the point's records may lie in it (or after it), and replay stops at a gap.
        if let Some(gap) = self.gaps.iter().find(|g| {
            g.timeline == timeline
                && parse_segment_name(&g.last_missing, self.segment_bytes)
                    .is_some_and(|(_, last)| last >= from)
                && g.from < point
        }) {
            return Err(WalError::Gap {
                gap: gap.clone(),
                point,
            });
        }
        if newest.archived_at < point {
            return Err(WalError::NotArchivedYet {
                dir: self.dir.clone(),
                newest: newest.name.clone(),
                archived_at: newest.archived_at,
                point,
            });
        }
        Ok(())
    }

    /// The latest time replay from segment `from` of `timeline` can reach: the start of the
    /// first gap after it, else the newest segment's archive time.
    pub fn reach(&self, timeline: u32, from: u64) -> Option<DateTime<Utc>> {
        let newest = self.newest(timeline)?;
        let gap = self.gaps.iter().find(|g| {
            g.timeline == timeline
                && parse_segment_name(&g.last_missing, self.segment_bytes)
                    .is_some_and(|(_, last)| last >= from)
        });
        Some(gap.map_or(newest.archived_at, |g| g.from))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const COMMIT: &str = "rmgr: Transaction len (rec/tot):     34/    34, tx:        747, lsn: 0/00F23F18, prev 0/00F23ED8, desc: COMMIT 2026-11-26 11:41:33.962847 UTC";

    fn control() -> Control {
        Control {
            state: "in production".into(),
            timeline: 1,
            segment: 1 << 20,
            block: 8192,
        }
    }

    #[test]
    fn lsns_round_trip() {
        let l = Lsn::parse("0/F23F40").expect("lsn");
        assert_eq!(l.0, 0xF2_3F40);
        assert_eq!(l.to_string(), "0/F23F40");
        assert_eq!(
            Lsn::parse("1/00F23F18").map(|l| l.0),
            Some((1 << 32) | 0xF2_3F18)
        );
        assert_eq!(Lsn::parse("x/1"), None);
        assert_eq!(Lsn::parse("1"), None);
    }

    #[test]
    fn parses_records_and_commit_times() {
        let r = parse_record(COMMIT).expect("record");
        assert_eq!(
            (r.rmgr, r.tot_len, r.lsn),
            ("Transaction", 34, Lsn(0xF2_3F18))
        );
        let (kind, at) = parse_xact(&r).expect("commit");
        assert_eq!(kind, Xact::Commit);
        assert_eq!(at.to_rfc3339(), "2026-11-26T11:41:33.962847+00:00");
        // Measured on PostgreSQL 15: this commit ends where the next record would start.
        assert_eq!(
            Lsn(record_end(&r, 8192, 1 << 20)),
            Lsn::parse("0/F23F40").expect("lsn")
        );
        let heap = "rmgr: Heap        len (rec/tot):     71/    71, tx:        746, lsn: 0/00F23DE0, prev 0/00F23DB8, desc: INSERT off 29 flags 0x00, blkref #0: rel 1663/16384/16408 blk 0";
        let r = parse_record(heap).expect("record");
        assert_eq!(parse_xact(&r), None);
        assert_eq!(record_end(&r, 8192, 1 << 20), 0xF2_3DE0 + 72);
        assert_eq!(parse_record("pg_waldump: error: error in WAL record"), None);
    }

    #[test]
    fn record_ends_across_pages_and_segments() {
        let r = |lsn: u64, len: u64| Record {
            rmgr: "Heap",
            tot_len: len,
            lsn: Lsn(lsn),
            desc: "",
        };
        // Fits exactly to the page's end.
        assert_eq!(record_end(&r(8192 - 64, 64), 8192, 1 << 20), 8192);
        // Crosses into the next page: its header comes in between.
        assert_eq!(record_end(&r(8192 - 16, 20), 8192, 1 << 20), 8192 + 24 + 8);
        // Crosses into the next segment: a long header.
        let seg = 1u64 << 20;
        assert_eq!(record_end(&r(seg - 16, 20), 8192, seg), seg + 40 + 8);
        let switch = Record {
            rmgr: "XLOG",
            tot_len: 24,
            lsn: Lsn(seg + 100),
            desc: "SWITCH ",
        };
        assert_eq!(record_end(&switch, 8192, seg), 2 * seg);
    }

    #[test]
    fn the_window_splits_at_what_the_replica_received() {
        let c = control();
        let at = |s: &str| {
            NaiveDateTime::parse_from_str(s, "%Y-%m-%d %H:%M:%S%.f")
                .expect("time")
                .and_utc()
        };
        let line = |lsn: u64, desc: &str| {
            format!(
                "rmgr: Transaction len (rec/tot):     34/    34, tx: 1, lsn: 0/{lsn:08X}, prev 0/0, desc: {desc}"
            )
        };
        let pos = ReplicaPosition {
            replay_lsn: Lsn(0x1000),
            receive_lsn: Some(Lsn(0x1060)),
            replay_at: Some(at("2026-01-01 10:00:00.0")),
            timeline: 1,
        };
        let mut scan = Scan::default();
        for (lsn, desc) in [
            (0x1000, "COMMIT 2026-01-01 10:00:01.5 UTC"),
            (0x1028, "COMMIT 2026-01-01 10:00:02.0 UTC"),
            (0x1050, "COMMIT 2026-01-01 10:00:03.0 UTC"),
            (0x1078, "COMMIT 2026-01-01 10:00:04.25 UTC"),
        ] {
            let l = line(lsn, desc);
            scan.record(&parse_record(&l).expect("record"), Lsn(0x1060), &c);
        }
        let w = scan.window(&pos, EvidenceKind::DataDir, "test".into());
        // Received (not yet replayed) WAL is replayed by a promotion: not lost; a record received
        // in part is.
        assert_eq!(w.replica_lsn, Lsn(0x1050));
        assert_eq!(w.last_replayed_at, Some(at("2026-01-01 10:00:02.0")));
        assert_eq!(w.source_lost_at, Some(at("2026-01-01 10:00:04.25")));
        assert_eq!(w.source_end_lsn, Lsn(0x10A0));
        assert_eq!(w.bytes(), 0x50);
        assert_eq!(w.secs(), Some(2.25));
        assert_eq!(w.lost_commits, 2);
    }

    #[test]
    fn reads_controldata() {
        let text = "pg_control version number:            1300\nDatabase cluster state:               in production\nLatest checkpoint's TimeLineID:       3\nLatest checkpoint's PrevTimeLineID:   2\nWAL block size:                       8192\nBytes per WAL segment:                1048576\n";
        assert_eq!(
            parse_controldata(text),
            Ok(Control {
                state: "in production".into(),
                timeline: 3,
                segment: 1 << 20,
                block: 8192
            })
        );
        assert!(parse_controldata("nothing").is_err());
    }

    #[test]
    fn segment_names() {
        assert_eq!(
            segment_name(1, Lsn(0xF2_3F40), 1 << 20),
            "00000001000000000000000F"
        );
        assert_eq!(
            segment_name(2, Lsn((1 << 32) | 0x0300_0000), 16 << 20),
            "000000020000000100000003"
        );
    }
}
