//! The journal file format, version 1: the header line and the event lines, as serde types, with
//! their encoding and decoding. Every field is documented here, where it is defined; the user's
//! reference is `docs/journal.md`.
//!
//! ```text
//! {"format":"warroom-journal","version":1,"playbook":{...},"environment":"demo",...}   line 1
//! {"seq":1,"at":"2026-11-22T03:12:00Z","kind":"fault_injected","fault":"region-loss"}  line 2
//! {"seq":2,"at":"2026-11-22T03:13:10Z","kind":"declared","playbook":"region-loss",...}
//! ```

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::playbook::{EngineSettings, Event, Playbook};

/// The value of the header's `format` field: what makes a file a warroom journal.
pub const FORMAT: &str = "warroom-journal";

/// The format version this build writes, and the newest it reads.
///
/// The rule: a change that a reader of the previous version would misread or reject (a new event
/// kind, a new value of an enumeration, a field removed, renamed, retyped or given a new meaning)
/// bumps the version. Adding an optional field does not: readers ignore fields they do not know.
/// A reader refuses a file whose version is newer than its own.
pub const VERSION: u32 = 1;

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
            other => Err(format!("unknown mode {other:?}: use drill, live or demo")),
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
    /// Who ran the console: `--operator`, else `$USER`.
    pub operator: String,
    /// When the journal was created (UTC, RFC 3339). The incident clock starts later, at the
    /// `declared` event.
    pub started_at: DateTime<Utc>,
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
}

impl Header {
    /// The header of a new incident of `playbook`, run with `settings` (environment name and
    /// objectives come from them), by `operator`, created at `started_at`.
    pub fn new(
        playbook: &Playbook,
        settings: &EngineSettings,
        mode: Mode,
        operator: impl Into<String>,
        started_at: DateTime<Utc>,
    ) -> Header {
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
            started_at,
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
                })
                .collect(),
        }
    }

    /// Records the simulator's seed and speed.
    pub fn simulator(mut self, seed: u64, speed: f64) -> Header {
        self.seed = Some(seed);
        self.speed = Some(speed);
        self
    }
}

/// One event line: `seq` and `at`, then the [`Event`]'s `kind` and fields, flattened.
///
/// Event fields never use the names `seq` and `at`: they are the line's.
#[derive(Serialize)]
struct EventLineOut<'a> {
    seq: u64,
    at: &'a DateTime<Utc>,
    #[serde(flatten)]
    event: &'a Event,
}

/// The `seq` and `at` of an event line (the rest of the line is the [`Event`]).
#[derive(Deserialize)]
struct Stamp {
    /// 1 for the first event, then +1 per line: a gap or a repeat means a damaged file.
    seq: u64,
    /// When the event happened (UTC, RFC 3339): the `now` the engine was given.
    at: DateTime<Utc>,
}

/// The header as one line, newline included.
pub fn encode_header(header: &Header) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = serde_json::to_vec(header)?;
    line.push(b'\n');
    Ok(line)
}

/// An event as one line, newline included: `{"seq":N,"at":"...","kind":"...",...}\n`.
pub fn encode_event(
    seq: u64,
    at: DateTime<Utc>,
    event: &Event,
) -> Result<Vec<u8>, serde_json::Error> {
    let mut line = Vec::with_capacity(160);
    encode_event_into(&mut line, seq, at, event)?;
    Ok(line)
}

/// [`encode_event`] into a reused buffer (appends to it).
pub(crate) fn encode_event_into(
    buf: &mut Vec<u8>,
    seq: u64,
    at: DateTime<Utc>,
    event: &Event,
) -> Result<(), serde_json::Error> {
    serde_json::to_writer(
        &mut *buf,
        &EventLineOut {
            seq,
            at: &at,
            event,
        },
    )?;
    buf.push(b'\n');
    Ok(())
}

/// Why a line did not decode, and where in it (1-based byte column) when the JSON parser knows.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct LineError {
    pub col: Option<usize>,
    pub why: String,
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
    LineError {
        col: (with_col && e.line() > 0).then_some(e.column()),
        why: json_message(e),
    }
}

/// Decodes an event line (without its newline).
pub(crate) fn decode_event(line: &[u8]) -> Result<(u64, DateTime<Utc>, Event), LineError> {
    if line.iter().all(u8::is_ascii_whitespace) {
        return Err(LineError {
            col: None,
            why: "empty line (every line after the header is one event)".into(),
        });
    }
    let stamp = match fast_stamp(line) {
        Some(stamp) => stamp,
        None => slow_stamp(line)?,
    };
    // The event is read from the same line: `seq` and `at` are fields it ignores. serde buffers
    // an internally tagged enum, so for a data error the parser's position would point at the
    // line's end: a column is only given for syntax errors.
    let event: Event = serde_json::from_slice(line).map_err(|e| {
        if e.is_data() {
            LineError {
                col: None,
                why: format!("not a valid event: {}", json_message(&e)),
            }
        } else {
            let mut err = line_error(&e, true);
            err.why = format!("not JSON: {}", err.why);
            err
        }
    })?;
    Ok((stamp.seq, stamp.at, event))
}

/// `seq` and `at` as this crate writes them: `{"seq":N,"at":"<RFC 3339>",...`. About three times
/// faster than the general parse (replay speed); anything else takes [`slow_stamp`]. The whole
/// line is still parsed strictly by the event pass.
fn fast_stamp(line: &[u8]) -> Option<Stamp> {
    let rest = line.strip_prefix(b"{\"seq\":")?;
    let digits = rest.iter().take_while(|b| b.is_ascii_digit()).count();
    if digits == 0 || (digits > 1 && rest[0] == b'0') {
        return None;
    }
    let seq: u64 = std::str::from_utf8(&rest[..digits]).ok()?.parse().ok()?;
    let rest = rest[digits..].strip_prefix(b",\"at\":\"")?;
    let end = rest.iter().position(|&b| b == b'"')?;
    let at = std::str::from_utf8(&rest[..end]).ok()?;
    let at = DateTime::parse_from_rfc3339(at).ok()?.with_timezone(&Utc);
    Some(Stamp { seq, at })
}

fn slow_stamp(line: &[u8]) -> Result<Stamp, LineError> {
    serde_json::from_slice(line).map_err(|e| {
        let mut err = line_error(&e, true);
        if e.is_data() {
            err.why = format!("not an event line: {}", err.why);
        } else {
            err.why = format!("not JSON: {}", err.why);
        }
        err
    })
}

/// How line 1 failed to be a header.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum HeaderError {
    /// Not a warroom journal at all.
    NotAJournal(LineError),
    /// A warroom journal of a newer format.
    Newer(u64),
    /// A warroom journal header with a bad field.
    Bad(LineError),
}

/// Decodes line 1 (without its newline).
pub(crate) fn decode_header(line: &[u8]) -> Result<Header, HeaderError> {
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
    let not = |why: String| HeaderError::NotAJournal(LineError { col: None, why });
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
    match object.get("version").and_then(serde_json::Value::as_u64) {
        Some(v) if v > u64::from(VERSION) => return Err(HeaderError::Newer(v)),
        Some(v) if v >= 1 => {}
        _ => {
            return Err(HeaderError::Bad(LineError {
                col: None,
                why: format!("bad header: \"version\" must be a whole number from 1 to {VERSION}"),
            }));
        }
    }
    // Parsed again from the bytes so that a bad field gets its column.
    serde_json::from_slice(line).map_err(|e| {
        let mut err = line_error(&e, true);
        err.why = format!("bad header: {}", err.why);
        HeaderError::Bad(err)
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

    #[test]
    fn event_lines_put_seq_and_at_first_and_round_trip() {
        let ev = Event::Note {
            text: "hello".into(),
        };
        let line = encode_event(7, at(), &ev).expect("encodes");
        assert_eq!(
            String::from_utf8_lossy(&line),
            "{\"seq\":7,\"at\":\"2026-11-22T03:12:00Z\",\"kind\":\"note\",\"text\":\"hello\"}\n"
        );
        let back = decode_event(&line[..line.len() - 1]).expect("decodes");
        assert_eq!(back, (7, at(), ev));
    }

    #[test]
    fn syntax_errors_have_a_column_and_data_errors_say_what() {
        let err = decode_event(b"{\"seq\":1,\"at\":").expect_err("torn");
        assert!(err.why.starts_with("not JSON"), "{err:?}");
        assert_eq!(err.col, Some(14));
        let err = decode_event(b"{\"seq\":1,\"at\":\"2026-11-22T03:12:00Z\",\"kind\":\"nope\"}")
            .expect_err("unknown kind");
        assert!(err.why.contains("unknown variant `nope`"), "{err:?}");
        let err = decode_event(b"{\"kind\":\"note\",\"text\":\"x\"}").expect_err("no seq");
        assert!(err.why.contains("missing field `seq`"), "{err:?}");
    }

    #[test]
    fn the_fast_stamp_path_agrees_with_the_general_one() {
        let lines: [&[u8]; 5] = [
            br#"{"seq":12,"at":"2026-11-22T03:12:00Z","kind":"note","text":"a"}"#,
            br#"{"seq":12,"at":"2026-11-22T03:12:00.123456789Z","kind":"note","text":"a"}"#,
            br#"{"seq":12,"at":"2026-11-22T04:12:00+01:00","kind":"note","text":"a"}"#,
            // Other writers may order or space fields differently: the general path reads them.
            br#"{"kind":"note","text":"a","at":"2026-11-22T03:12:00Z","seq":12}"#,
            br#"{ "seq": 12, "at": "2026-11-22T03:12:00Z", "kind": "note", "text": "a" }"#,
        ];
        for line in lines {
            let slow = slow_stamp(line).expect("general path");
            if let Some(fast) = fast_stamp(line) {
                assert_eq!((fast.seq, fast.at), (slow.seq, slow.at));
            }
            assert_eq!(slow.seq, 12);
            let (seq, at, _) = decode_event(line).expect("decodes");
            assert_eq!((seq, at), (slow.seq, slow.at));
        }
        assert!(
            fast_stamp(lines[0]).is_some(),
            "our own lines take the fast path"
        );
        // Leading zeros are not JSON: the general path rejects them.
        assert!(fast_stamp(br#"{"seq":012,"at":"2026-11-22T03:12:00Z"}"#).is_none());
        assert!(
            decode_event(br#"{"seq":012,"at":"2026-11-22T03:12:00Z","kind":"note","text":"a"}"#)
                .is_err()
        );
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
