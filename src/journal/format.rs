//! The journal file format: the header (version 2, the one written), the line codec for
//! version 2 ([`encode_event`], the decoders) and the dispatch to version 1 ([`super::v1`]).
//! The event kinds of version 2 are in [`super::schema_v2`]; the user's reference is
//! `docs/journal.md`.
//!
//! ```text
//! {"format":"warroom-journal","version":2,"playbook":{...},...,"sha256":"9c1f..."}          line 1
//! {"seq":1,"at":"2026-11-22T03:12:00Z","sim":"2026-11-22T03:12:00Z","prev":"9c1f...",
//!  "kind":"fault_injected","fault":"region-loss","sha256":"02ab..."}                        line 2
//! ```
//!
//! The codec is pure: it never reads a clock or a file.

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::chain::{self, Hex, Unsealed};
use super::schema_v2::{EnvelopeIn, EnvelopeOut, EventV2};
use super::v1::{EventV1, HeaderV1, StampV1};
use crate::playbook::{EngineSettings, Event, Playbook};

/// The slowest and fastest simulator speed a header may record (what `--speed` accepts).
pub const MIN_SPEED: f64 = 0.01;
pub const MAX_SPEED: f64 = 100_000.0;

/// The value of the header's `format` field: what makes a file a warroom journal.
pub const FORMAT: &str = "warroom-journal";

/// The format version this build writes, and the newest it reads.
///
/// The rule: a change that a reader of the previous version would misread or reject (a new event
/// kind, a new value of an enumeration, a field removed, renamed, retyped or given a new meaning)
/// bumps the version. Adding an optional field does not: readers ignore fields they do not know.
/// A reader refuses a file whose version is newer than its own.
pub const VERSION: u32 = 2;

/// How the session was run.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Mode {
    /// A rehearsal on the simulator: a scenario fault is injected and the operator responds.
    Drill,
    /// A real incident against a real environment: actions changed the world.
    Live,
    /// The simulator, free play.
    Demo,
}

impl Mode {
    /// The spelling used in the file and in file names (`drill`).
    pub fn as_str(self) -> &'static str {
        match self {
            Mode::Drill => "drill",
            Mode::Live => "live",
            Mode::Demo => "demo",
        }
    }
}

impl fmt::Display for Mode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for Mode {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "drill" => Ok(Mode::Drill),
            "live" => Ok(Mode::Live),
            "demo" => Ok(Mode::Demo),
            other => Err(format!(
                "unknown mode {}: use drill, live or demo",
                crate::text::echo(other)
            )),
        }
    }
}

/// The playbook the incident runs, as it was when the journal was created.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlaybookRef {
    /// The playbook's `id` (`region-loss`): how `--resume` and `report` find it again.
    pub id: String,
    /// The playbook's `title`.
    pub title: String,
    /// The playbook's scenario class (`az-loss`, `region-loss`, `corruption`, `breach`,
    /// `custom`); `history` groups journals by it.
    pub scenario: String,
    /// Content hash of the playbook file (16 hex digits, FNV-1a of its text). Resume refuses a
    /// playbook whose hash differs: the steps may have changed.
    pub hash: String,
    /// Where the playbook was loaded from (`playbooks/region-loss.toml`,
    /// `<shipped>/region-loss.toml`); informational.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub path: Option<String>,
}

/// One step of the plan, as the incident started: lets `report` show every step (even those that
/// never started) without the playbook file.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlannedStep {
    /// The step's `id`; events name steps by it.
    pub id: String,
    /// The step's `title`.
    pub title: String,
    /// The step's target time, in seconds.
    pub target_secs: u64,
    /// The step proves something about the world (it has a `wait`, or runs `backup.verify`):
    /// the drill criteria require it to pass.
    #[serde(default)]
    pub verification: bool,
    /// The step records the data-loss window (RPO) when its executor starts.
    #[serde(default)]
    pub captures_rpo: bool,
    /// Its completion restores service: the `service_restored` milestone (RTO achieved ends).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub restores_service: bool,
}

/// The objectives the incident is measured against (the playbook's, or the environment's when it
/// overrides them).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Objectives {
    /// Recovery time objective, in seconds: declaration to resolution.
    pub rto_secs: u64,
    /// Recovery point objective, in seconds: the data-loss window at the capturing step.
    pub rpo_secs: u64,
}

/// Line 1 of every journal.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Header {
    /// Always [`FORMAT`] (`"warroom-journal"`). Comes first in the line.
    pub format: String,
    /// The format version ([`VERSION`]). Comes second in the line.
    pub version: u32,
    /// The playbook the incident runs.
    pub playbook: PlaybookRef,
    /// The environment's `name` (`demo`, `pynomaly-production`).
    pub environment: String,
    /// `drill`, `live` or `demo`.
    pub mode: Mode,
    /// Who started the console: `--operator`, else `$USER`, else `$LOGNAME`, else the OS
    /// account name ([`identity::operator`](super::identity::operator)).
    pub operator: String,
    /// The host the console ran on (its host name). Version 1: empty (not recorded).
    pub host: String,
    /// The warroom that created the journal (`0.1.0`). Version 1: empty (not recorded).
    pub warroom_version: String,
    /// The incident is read-only: nothing may execute, and a resume stays read-only whatever its
    /// flags. Version 1: false (its `declared` event says it: see [`Replay::read_only`]).
    ///
    /// [`Replay::read_only`]: super::Replay::read_only
    pub read_only: bool,
    /// When the journal was created: wall-clock UTC, RFC 3339 (version 1: the session time). The
    /// incident clock starts later, at the `declared` event.
    pub started_at: DateTime<Utc>,
    /// Drills: the simulated time when the journal was created.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub sim_started_at: Option<DateTime<Utc>>,
    /// The RTO and RPO the incident is measured against.
    pub objectives: Objectives,
    /// Simulator sessions: the seed of the simulator's randomness (`--seed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub seed: Option<u64>,
    /// Simulator sessions: simulated seconds per wall-clock second (`--speed`).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub speed: Option<f64>,
    /// The plan: every step of the playbook, in order. Optional for readers (a journal without it
    /// reports only the steps its events name).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub steps: Vec<PlannedStep>,
    /// This journal continues a version-1 journal that was resumed by a version-2 warroom: its
    /// first events are that file's, copied. The older file is left as it was.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub continues: Option<Continues>,
}

/// The version-1 journal a journal continues (see [`Header::continues`]).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Continues {
    /// Its file name, in the same directory.
    pub file: String,
    /// SHA-256 of its bytes as they were copied (lowercase hex): ties this record to that file.
    pub sha256: String,
    /// How many of its events were copied (all of them, as events 1 to `events` here).
    pub events: u64,
}

impl Header {
    /// Why this journal's plan is not the steps `playbook` runs in `env` (the HA interlock's
    /// included), if it is not: a journal resumed with another environment, or by a warroom
    /// that adds other steps, would replay its events onto other steps. `None` when they agree
    /// or the journal has no plan.
    pub fn plan_differs(
        &self,
        playbook: &Playbook,
        env: &crate::env::Environment,
    ) -> Option<String> {
        if self.steps.is_empty() {
            return None;
        }
        let runs = crate::playbook::interlock::guard(playbook.clone(), env);
        let planned: Vec<&str> = self.steps.iter().map(|s| s.id.as_str()).collect();
        let now: Vec<&str> = runs.steps.iter().map(|s| s.id.as_str()).collect();
        (planned != now).then(|| {
            format!(
                "the journal's plan has the steps {}; playbook {} with environment {} has {}",
                crate::env::known_names(&planned),
                crate::text::echo(&playbook.id),
                crate::text::echo(&env.name),
                crate::env::known_names(&now)
            )
        })
    }

    /// The header of a new incident of `playbook`, run with `settings` (environment name and
    /// objectives come from them), by `operator`, created at `started_at` (wall clock), on this
    /// host ([`identity::host`](super::identity::host)), by this warroom, not read-only.
    pub fn new(
        playbook: &Playbook,
        settings: &EngineSettings,
        mode: Mode,
        operator: impl Into<String>,
        started_at: DateTime<Utc>,
    ) -> Header {
        // The steps the engine runs: the HA interlock's are added to a playbook that changes a
        // Patroni-bound database.
        let playbook = &crate::playbook::interlock::guard(playbook.clone(), &settings.environment);
        Header {
            format: FORMAT.to_string(),
            version: VERSION,
            playbook: PlaybookRef {
                id: playbook.id.clone(),
                title: playbook.title.clone(),
                scenario: playbook.scenario.as_str().to_string(),
                hash: playbook.hash.clone(),
                path: Some(playbook.source.clone()).filter(|s| !s.is_empty()),
            },
            environment: settings.environment.name.clone(),
            mode,
            operator: operator.into(),
            host: super::identity::host(),
            warroom_version: env!("CARGO_PKG_VERSION").to_string(),
            read_only: false,
            started_at,
            sim_started_at: None,
            objectives: Objectives {
                rto_secs: settings.rto.secs(),
                rpo_secs: settings.rpo.secs(),
            },
            seed: None,
            speed: None,
            steps: playbook
                .steps
                .iter()
                .map(|s| PlannedStep {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    target_secs: s.target.secs(),
                    verification: s.is_verification(),
                    captures_rpo: s.capture_rpo,
                    restores_service: s.restores_service,
                })
                .collect(),
            continues: None,
        }
    }

    /// Records the simulator's seed and speed.
    pub fn simulator(mut self, seed: u64, speed: f64) -> Header {
        self.seed = Some(seed);
        self.speed = Some(speed);
        self
    }

    /// Records the simulated time at creation (drills).
    pub fn sim_started_at(mut self, sim: DateTime<Utc>) -> Header {
        self.sim_started_at = Some(sim);
        self
    }

    /// Marks the incident read-only (it resumes read-only).
    pub fn read_only(mut self, read_only: bool) -> Header {
        self.read_only = read_only;
        self
    }

    /// The header's own times, as the stamp event 1 must not precede.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            at: self.started_at,
            sim: self.sim_started_at,
        }
    }
}

/// When an event happened, on both clocks.
///
/// `at` is the wall clock (UTC) when the event was recorded; `sim` the simulated time in drills
/// (`None` elsewhere). Version-1 lines read as `Stamp { at, sim: None }` (their `at` was the
/// session time).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Stamp {
    pub at: DateTime<Utc>,
    pub sim: Option<DateTime<Utc>>,
}

impl Stamp {
    /// A stamp without simulated time.
    pub fn wall(at: DateTime<Utc>) -> Stamp {
        Stamp { at, sim: None }
    }

    /// The engine's clock: simulated time in drills, else the wall clock.
    pub fn session(&self) -> DateTime<Utc> {
        self.sim.unwrap_or(self.at)
    }

    /// This stamp, never earlier than `floor` on either clock (writers clamp with it).
    pub fn not_before(self, floor: Stamp) -> Stamp {
        Stamp {
            at: self.at.max(floor.at),
            sim: match (self.sim, floor.sim) {
                (Some(s), Some(f)) => Some(s.max(f)),
                (s, _) => s,
            },
        }
    }
}

/// The header as one sealed line (version 2, newline included).
pub fn encode_header(header: &Header) -> Result<Vec<u8>, serde_json::Error> {
    Ok(encode_header_sealed(header)?.0)
}

/// [`encode_header`], with the line's hash (what event 1's `prev` is).
pub(crate) fn encode_header_sealed(header: &Header) -> Result<(Vec<u8>, Hex), serde_json::Error> {
    let mut line = if header.version == VERSION {
        serde_json::to_vec(header)?
    } else {
        // Writers write the current version only.
        let mut h = header.clone();
        h.version = VERSION;
        serde_json::to_vec(&h)?
    };
    let hash = chain::seal(&mut line, 0);
    line.push(b'\n');
    Ok((line, hash))
}

/// An event as one sealed version-2 line, newline included:
/// `{"seq":N,"at":"...","sim":"...","prev":"<prev>","kind":"...",...,"sha256":"..."}\n`.
pub fn encode_event(
    seq: u64,
    stamp: Stamp,
    prev: &Hex,
    event: &Event,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = Vec::with_capacity(256);
    encode_event_into(&mut line, seq, stamp, prev, event)?;
    Ok(line)
}

/// [`encode_event`] into a reused buffer (appends to it); returns the line's hash.
pub(crate) fn encode_event_into(
    buf: &mut Vec<u8>,
    seq: u64,
    stamp: Stamp,
    prev: &Hex,
    event: &Event,
) -> Result<Hex, serde_json::Error> {
    let start = buf.len();
    let event = EventV2::from(event);
    serde_json::to_writer(
        &mut *buf,
        &EnvelopeOut {
            seq,
            at: &stamp.at,
            sim: stamp.sim.as_ref(),
            prev: prev.as_str(),
            event: &event,
        },
    )?;
    let hash = chain::seal(buf, start);
    buf.push(b'\n');
    Ok(hash)
}

/// Why a line did not decode, and where in it (1-based byte column) when the JSON parser knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    pub col: Option<usize>,
    pub why: String,
    /// The line decodes but its bytes do not match its own `hash`: it was changed after it was
    /// written.
    pub altered: bool,
}

impl LineError {
    fn new(col: Option<usize>, why: impl Into<String>) -> LineError {
        LineError {
            col,
            why: why.into(),
            altered: false,
        }
    }
}

/// serde_json's message without its ` at line L column C` suffix (we say where ourselves).
fn json_message(e: &serde_json::Error) -> String {
    let text = e.to_string();
    match text.rsplit_once(" at line ") {
        Some((msg, _)) if e.line() > 0 => msg.to_string(),
        _ => text,
    }
}

fn line_error(e: &serde_json::Error, with_col: bool) -> LineError {
    LineError::new(
        (with_col && e.line() > 0).then_some(e.column()),
        json_message(e),
    )
}

fn empty_line() -> LineError {
    LineError::new(
        None,
        "empty line (every line after the header is one event)",
    )
}

/// Parses the event part of a line (any version's event type).
fn parse_event<T: serde::de::DeserializeOwned>(line: &[u8]) -> Result<T, LineError> {
    // serde buffers an internally tagged enum, so for a data error the parser's position would
    // point at the line's end: a column is only given for syntax errors.
    serde_json::from_slice(line).map_err(|e| {
        if e.is_data() {
            LineError::new(None, format!("not a valid event: {}", json_message(&e)))
        } else {
            let mut err = line_error(&e, true);
            err.why = format!("not JSON: {}", err.why);
            err
        }
    })
}

/// A decoded version-2 event line.
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct LineV2 {
    pub seq: u64,
    pub stamp: Stamp,
    /// The previous line's hash, as this line records it.
    pub prev: Hex,
    /// This line's own hash (checked).
    pub hash: Hex,
    pub event: Event,
}

/// Decodes a version-2 event line (without its newline), checking its own hash. The caller
/// checks `prev` against the previous line, and the times.
pub(crate) fn decode_event_v2(line: &[u8]) -> Result<LineV2, LineError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_line());
    }
    let hash = match chain::check(line) {
        Ok(hash) => hash,
        Err(unsealed) => {
            // Say what is wrong with the JSON first, when something is (a torn line).
            serde_json::from_slice::<serde::de::IgnoredAny>(line).map_err(|e| {
                let mut err = line_error(&e, true);
                err.why = format!("not JSON: {}", err.why);
                err
            })?;
            return Err(match unsealed {
                Unsealed::NoHash => LineError::new(
                    None,
                    "no \"sha256\" field at the end of the line (every line of a version-2 \
                     journal ends with its SHA-256)",
                ),
                Unsealed::Mismatch => LineError {
                    col: None,
                    why: "the line's bytes do not match its own \"sha256\": it was changed after \
                          it was written"
                        .into(),
                    altered: true,
                },
            });
        }
    };
    let (seq, stamp, prev) = match fast_envelope(line) {
        Some(envelope) => envelope,
        None => slow_envelope(line)?,
    };
    let event: EventV2 = parse_event(line)?;
    Ok(LineV2 {
        seq,
        stamp,
        prev,
        hash,
        event: event.into(),
    })
}

/// `seq`, `at`, `sim` and `prev` as this crate writes them:
/// `{"seq":N,"at":"<RFC 3339>",["sim":"<RFC 3339>",]"prev":"<hex>",...`. About three times
/// faster than the general parse (replay speed); anything else takes [`slow_envelope`]. The
/// whole line is still parsed strictly by the event pass.
fn fast_envelope(line: &[u8]) -> Option<(u64, Stamp, Hex)> {
    let (seq, rest) = fast_seq(line)?;
    let (at, rest) = fast_time(rest, b",\"at\":\"")?;
    let (sim, rest) = match fast_time(rest, b",\"sim\":\"") {
        Some((sim, rest)) => (Some(sim), rest),
        None => (None, rest),
    };
    let rest = rest.strip_prefix(b",\"prev\":\"")?;
    let prev = Hex::parse(rest.get(..64)?)?;
    if rest.get(64) != Some(&b'"') {
        return None;
    }
    Some((seq, Stamp { at, sim }, prev))
}

fn fast_seq(line: &[u8]) -> Option<(u64, &[u8])> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    let seq: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    Some((seq, &rest[digits..]))
}

fn fast_time<'a>(rest: &'a [u8], key: &[u8]) -> Option<(DateTime<Utc>, &'a [u8])> {
    let rest = rest.strip_prefix(key)?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let text = std::str::from_utf8(&rest[..end]).ok()?;
    let at = DateTime::parse_from_rfc3339(text).ok()?.with_timezone(&Utc);
    Some((at, &rest[end + 1..]))
}

fn slow_envelope(line: &[u8]) -> Result<(u64, Stamp, Hex), LineError> {
    let e: EnvelopeIn = serde_json::from_slice(line).map_err(|e| {
        let mut err = line_error(&e, true);
        if e.is_data() {
            err.why = format!("not an event line: {}", err.why);
        } else {
            err.why = format!("not JSON: {}", err.why);
        }
        err
    })?;
    let prev = Hex::parse(e.prev.as_bytes()).ok_or_else(|| {
        LineError::new(
            None,
            "not an event line: \"prev\" is not 64 lowercase hex digits",
        )
    })?;
    Ok((
        e.seq,
        Stamp {
            at: e.at,
            sim: e.sim,
        },
        prev,
    ))
}

/// Decodes a version-1 event line (without its newline): `(seq, at, event)`, `at` being the
/// session time.
pub(crate) fn decode_event_v1(line: &[u8]) -> Result<(u64, DateTime<Utc>, Event), LineError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(empty_line());
    }
    let stamp = match fast_seq(line)
        .and_then(|(seq, rest)| fast_time(rest, b",\"at\":\"").map(|(at, _)| StampV1 { seq, at }))
    {
        Some(stamp) => stamp,
        None => serde_json::from_slice::<StampV1>(line).map_err(|e| {
            let mut err = line_error(&e, true);
            if e.is_data() {
                err.why = format!("not an event line: {}", err.why);
            } else {
                err.why = format!("not JSON: {}", err.why);
            }
            err
        })?,
    };
    let event: EventV1 = parse_event(line)?;
    Ok((stamp.seq, stamp.at, event.into()))
}

/// How line 1 failed to be a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Not a warroom journal at all.
    NotAJournal(LineError),
    /// A warroom journal of a newer format.
    Newer(u64),
    /// A warroom journal header with a bad field (or, `altered`, a changed one).
    Bad(LineError),
}

/// A decoded line 1: the header and, for version 2, its hash (event 1's `prev`).
#[derive(Debug, Clone, PartialEq)]
pub(crate) struct DecodedHeader {
    pub header: Header,
    pub hash: Option<Hex>,
}

/// Decodes line 1 (without its newline), of version 1 or 2.
pub(crate) fn decode_header(line: &[u8]) -> Result<DecodedHeader, HeaderError> {
    let value: serde_json::Value = serde_json::from_slice(line).map_err(|e| {
        let mut err = line_error(&e, true);
        err.why = if line.starts_with(b"{\"format\":\"warroom-journal\"") {
            format!(
                "the header line is incomplete ({}): the journal was never fully created",
                err.why
            )
        } else {
            format!("line 1 is not JSON ({})", err.why)
        };
        HeaderError::NotAJournal(err)
    })?;
    let not = |why: String| HeaderError::NotAJournal(LineError::new(None, why));
    let Some(object) = value.as_object() else {
        return Err(not(format!(
            "line 1 is a JSON {}, not a journal header object",
            json_type(&value)
        )));
    };
    match object.get("format") {
        Some(serde_json::Value::String(f)) if f == FORMAT => {}
        Some(other) => {
            return Err(not(format!(
                "line 1 has \"format\": {other}, not \"{FORMAT}\""
            )));
        }
        None => {
            return Err(not(format!(
                "line 1 is a JSON object without \"format\": \"{FORMAT}\""
            )));
        }
    }
    let version = match object.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v > u64::from(VERSION) => return Err(HeaderError::Newer(v)),
        Some(v) if v >= 1 => v,
        _ => {
            return Err(HeaderError::Bad(LineError::new(
                None,
                format!("bad header: \"version\" must be a whole number from 1 to {VERSION}"),
            )));
        }
    };
    let bad = |e: serde_json::Error| {
        let mut err = line_error(&e, true);
        err.why = format!("bad header: {}", err.why);
        HeaderError::Bad(err)
    };
    // The simulator's speed scales clock arithmetic on resume and follow: outside what `--speed`
    // accepts it could overflow a date or make a resume catch up for ever.
    if let Some(speed) = object.get("speed").filter(|v| !v.is_null()) {
        let ok = speed
            .as_f64()
            .is_some_and(|s| s.is_finite() && (MIN_SPEED..=MAX_SPEED).contains(&s));
        if !ok {
            return Err(HeaderError::Bad(LineError::new(
                None,
                format!(
                    "bad header: \"speed\" must be a number from {MIN_SPEED} to {MAX_SPEED} (got \
                     {speed})"
                ),
            )));
        }
    }
    if version == 1 {
        // A version-1 header has no hash; one that ends with a "sha256" which its bytes do not
        // match was sealed and changed since (`verify` says so too: the two agree).
        if chain::check(line) == Err(Unsealed::Mismatch) {
            return Err(HeaderError::Bad(LineError {
                col: None,
                why: "the header's bytes do not match its own \"sha256\": it was changed after \
                      it was written"
                    .into(),
                altered: true,
            }));
        }
        // Parsed again from the bytes so that a bad field gets its column.
        let h: HeaderV1 = serde_json::from_slice(line).map_err(bad)?;
        return Ok(DecodedHeader {
            header: h.into(),
            hash: None,
        });
    }
    let hash = chain::check(line).map_err(|u| {
        HeaderError::Bad(match u {
            Unsealed::NoHash => LineError::new(
                None,
                "bad header: no \"sha256\" field at the end of the line (every line of a \
                 version-2 journal ends with its SHA-256)",
            ),
            Unsealed::Mismatch => LineError {
                col: None,
                why: "the header's bytes do not match its own \"sha256\": it was changed after it \
                      was written"
                    .into(),
                altered: true,
            },
        })
    })?;
    let header: Header = serde_json::from_slice(line).map_err(bad)?;
    Ok(DecodedHeader {
        header,
        hash: Some(hash),
    })
}

fn json_type(v: &serde_json::Value) -> &'static str {
    match v {
        serde_json::Value::Null => "null",
        serde_json::Value::Bool(_) => "boolean",
        serde_json::Value::Number(_) => "number",
        serde_json::Value::String(_) => "string",
        serde_json::Value::Array(_) => "array",
        serde_json::Value::Object(_) => "object",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 3, 12, 0)
            .single()
            .expect("valid")
    }

    fn zero() -> Hex {
        Hex([b'0'; 64])
    }

    #[test]
    fn event_lines_put_seq_at_sim_prev_first_end_with_their_hash_and_round_trip() {
        let ev = Event::Note {
            text: "hello".into(),
        };
        let stamp = Stamp {
            at: at(),
            sim: Some(at() + chrono::TimeDelta::hours(1)),
        };
        let line = encode_event(7, stamp, &zero(), &ev).expect("encodes");
        let text = String::from_utf8_lossy(&line);
        let prefix = format!(
            "{{\"seq\":7,\"at\":\"2026-11-22T03:12:00Z\",\"sim\":\"2026-11-22T04:12:00Z\",\
             \"prev\":\"{}\",\"kind\":\"note\",\"text\":\"hello\",\"sha256\":\"",
            zero()
        );
        assert!(text.starts_with(&prefix), "{text}");
        assert!(text.ends_with("\"}\n"), "{text}");
        let back = decode_event_v2(&line[..line.len() - 1]).expect("decodes");
        assert_eq!(
            (back.seq, back.stamp, back.prev, back.event),
            (7, stamp, zero(), ev)
        );
        // Without simulated time there is no `sim` field.
        let line = encode_event(
            1,
            Stamp::wall(at()),
            &zero(),
            &Event::Note { text: "x".into() },
        )
        .expect("encodes");
        assert!(!String::from_utf8_lossy(&line).contains("\"sim\""));
    }

    #[test]
    fn syntax_errors_have_a_column_and_data_errors_say_what() {
        let err = decode_event_v2(b"{\"seq\":1,\"at\":").expect_err("torn");
        assert!(err.why.starts_with("not JSON"), "{err:?}");
        assert_eq!(err.col, Some(14));
        let err = decode_event_v1(b"{\"seq\":1,\"at\":\"2026-11-22T03:12:00Z\",\"kind\":\"nope\"}")
            .expect_err("unknown kind");
        assert!(err.why.contains("unknown variant `nope`"), "{err:?}");
        let err = decode_event_v1(b"{\"kind\":\"note\",\"text\":\"x\"}").expect_err("no seq");
        assert!(err.why.contains("missing field `seq`"), "{err:?}");
        let err = decode_event_v2(b"{\"kind\":\"note\",\"text\":\"x\"}").expect_err("no hash");
        assert!(err.why.contains("no \"sha256\""), "{err:?}");
        // A v2 line with a sealed but unknown kind.
        let mut line = format!(
            "{{\"seq\":1,\"at\":\"2026-11-22T03:12:00Z\",\"prev\":\"{}\",\"kind\":\"nope\"}}",
            zero()
        )
        .into_bytes();
        chain::seal(&mut line, 0);
        let err = decode_event_v2(&line).expect_err("unknown kind");
        assert!(err.why.contains("unknown variant `nope`"), "{err:?}");
        assert!(!err.altered);
    }

    #[test]
    fn the_fast_envelope_path_agrees_with_the_general_one() {
        let z = zero();
        let raw = [
            format!(
                r#"{{"seq":12,"at":"2026-11-22T03:12:00Z","prev":"{z}","kind":"note","text":"a"}}"#
            ),
            format!(
                r#"{{"seq":12,"at":"2026-11-22T03:12:00.123456789Z","sim":"2026-11-22T05:00:00Z","prev":"{z}","kind":"note","text":"a"}}"#
            ),
            format!(
                r#"{{"seq":12,"at":"2026-11-22T04:12:00+01:00","prev":"{z}","kind":"note","text":"a"}}"#
            ),
            // Other writers may order or space fields differently: the general path reads them.
            format!(
                r#"{{"kind":"note","text":"a","prev":"{z}","at":"2026-11-22T03:12:00Z","seq":12}}"#
            ),
            format!(
                r#"{{ "seq": 12, "at": "2026-11-22T03:12:00Z", "prev": "{z}", "kind": "note", "text": "a" }}"#
            ),
        ];
        for raw in &raw {
            let line = raw.as_bytes();
            let slow = slow_envelope(line).expect("general path");
            if let Some(fast) = fast_envelope(line) {
                assert_eq!(fast, slow);
            }
            assert_eq!(slow.0, 12);
            let mut sealed = raw.trim_end_matches(' ').as_bytes().to_vec();
            chain::seal(&mut sealed, 0);
            let d = decode_event_v2(&sealed).expect("decodes");
            assert_eq!((d.seq, d.stamp, d.prev), slow);
        }
        assert!(
            fast_envelope(raw[0].as_bytes()).is_some()
                && fast_envelope(raw[1].as_bytes()).is_some(),
            "our own lines take the fast path"
        );
        // Leading zeros are not JSON: the general path rejects them.
        assert!(fast_seq(br#"{"seq":012,"at":"2026-11-22T03:12:00Z"}"#).is_none());
        assert!(
            decode_event_v1(br#"{"seq":012,"at":"2026-11-22T03:12:00Z","kind":"note","text":"a"}"#)
                .is_err()
        );
    }

    #[test]
    fn stamps_clamp_per_clock() {
        let later = at() + chrono::TimeDelta::seconds(5);
        let floor = Stamp {
            at: later,
            sim: Some(later),
        };
        let s = Stamp {
            at: at(),
            sim: Some(later + chrono::TimeDelta::seconds(1)),
        };
        assert_eq!(
            s.not_before(floor),
            Stamp {
                at: later,
                sim: Some(later + chrono::TimeDelta::seconds(1))
            }
        );
        assert_eq!(Stamp::wall(at()).not_before(floor), Stamp::wall(later));
        assert_eq!(s.session(), later + chrono::TimeDelta::seconds(1));
        assert_eq!(Stamp::wall(at()).session(), at());
    }

    /// Found by the parser fuzz target: a version-1 header ending with a "sha256" its bytes do
    /// not match decoded (for `report` and `--resume`) while `verify` called it altered.
    #[test]
    fn a_version_1_header_with_a_wrong_hash_is_refused_as_altered() {
        let plain = br#"{"format":"warroom-journal","version":1,"playbook":{"id":"p","title":"P","scenario":"custom","hash":"0","path":"p.toml"},"environment":"demo","mode":"drill","operator":"alice","started_at":"2026-11-22T03:12:00Z","objectives":{"rto_secs":1800,"rpo_secs":300},"seed":7,"speed":60.0,"steps":[]}"#;
        assert!(
            decode_header(plain).is_ok(),
            "an unsealed v1 header decodes"
        );
        let mut sealed = plain[..plain.len() - 1].to_vec();
        sealed.extend_from_slice(
            br#","sha256":"b3aa8e6620223623260a4a0fd21323811690f0b2e292202f0392c19b60fdd82c"}"#,
        );
        match decode_header(&sealed) {
            Err(HeaderError::Bad(e)) => assert!(e.altered, "{}", e.why),
            other => panic!("decoded: {:?}", other.map(|_| ())),
        }
    }

    #[test]
    fn mode_spellings() {
        for m in [Mode::Drill, Mode::Live, Mode::Demo] {
            assert_eq!(m.as_str().parse::<Mode>(), Ok(m));
            assert_eq!(serde_json::to_string(&m).expect("json"), format!("\"{m}\""));
        }
        assert!("chaos".parse::<Mode>().is_err());
    }
}
