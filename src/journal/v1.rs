//! Reading journal format version 1 (written by warroom before the two clocks and the hash
//! chain). Frozen: these types are what version-1 files hold, converted explicitly to today's
//! [`Header`] and [`Event`]. Nothing writes version 1.
//!
//! What a version-1 file reads as (docs/journal.md, "Reading version 1"):
//! - an event's `at` was the session time (simulated in drills): it becomes
//!   [`Stamp { at, sim: None }`](super::Stamp);
//! - the header has no `host`, `warroom_version` (read as empty: not recorded), `read_only`
//!   (false; the `declared` event says it) or `sim_started_at`;
//! - `confirmed` has no `by` (read as empty: not recorded);
//! - `rpo_captured.seconds` was whole seconds; `bytes` and the window are absent;
//! - `resolved.rto_achieved_secs` was declared -> resolved: it is read as `playbook_secs`, and the
//!   RTO achieved (disrupted -> service restored) as not measured.

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::format::{Header, Mode, Objectives, PlannedStep, PlaybookRef};
use super::schema_v2::{EvidenceV2, OutcomeV2};
use crate::playbook::{Event, Outcome};

/// Line 1 of a version-1 journal.
#[derive(Debug, Deserialize)]
pub(crate) struct HeaderV1 {
    format: String,
    version: u32,
    playbook: PlaybookRef,
    environment: String,
    mode: Mode,
    operator: String,
    started_at: DateTime<Utc>,
    objectives: Objectives,
    #[serde(default)]
    seed: Option<u64>,
    #[serde(default)]
    speed: Option<f64>,
    #[serde(default)]
    steps: Vec<PlannedStep>,
}

impl From<HeaderV1> for Header {
    fn from(h: HeaderV1) -> Self {
        Header {
            format: h.format,
            version: h.version,
            playbook: h.playbook,
            environment: h.environment,
            mode: h.mode,
            operator: h.operator,
            host: String::new(),
            warroom_version: String::new(),
            read_only: false,
            started_at: h.started_at,
            sim_started_at: None,
            objectives: h.objectives,
            seed: h.seed,
            speed: h.speed,
            steps: h.steps,
            continues: None,
        }
    }
}

/// The event part of a version-1 line: the 18 kinds of version 1, with their version-1 fields.
#[derive(Debug, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub(crate) enum EventV1 {
    FaultInjected {
        fault: String,
    },
    Declared {
        playbook: String,
        title: String,
        hash: String,
        rto_secs: u64,
        rpo_secs: u64,
        read_only: bool,
    },
    StepStarted {
        step: String,
        title: String,
        target_secs: u64,
    },
    ChecklistTicked {
        step: String,
        item: usize,
        text: String,
        ticked: bool,
    },
    ConfirmRequested {
        step: String,
        command: String,
    },
    ConfirmCancelled {
        step: String,
    },
    Confirmed {
        step: String,
        attempt: u32,
        command: String,
        destructive: bool,
        typed: Option<String>,
        evidence: EvidenceV2,
    },
    RpoCaptured {
        step: String,
        seconds: Option<u64>,
        measured_from: String,
    },
    Output {
        step: String,
        attempt: u32,
        line: String,
    },
    Verifying {
        step: String,
        condition: String,
        timeout_secs: u64,
    },
    StepFinished {
        step: String,
        outcome: OutcomeV2,
        detail: String,
        verified: bool,
        elapsed_secs: u64,
        target_secs: u64,
    },
    Skipped {
        step: String,
        reason: String,
    },
    Retried {
        step: String,
    },
    TargetExceeded {
        step: String,
        target_secs: u64,
    },
    RtoRisk {
        at_risk: bool,
        projected_secs: u64,
        rto_secs: u64,
    },
    Note {
        text: String,
    },
    Aborted {
        reason: String,
    },
    Resolved {
        /// Version 1: declared -> resolved.
        rto_achieved_secs: u64,
        rpo_achieved_secs: Option<u64>,
        passed: bool,
    },
}

impl From<EventV1> for Event {
    fn from(e: EventV1) -> Self {
        match e {
            EventV1::FaultInjected { fault } => Event::FaultInjected { fault },
            EventV1::Declared {
                playbook,
                title,
                hash,
                rto_secs,
                rpo_secs,
                read_only,
            } => Event::Declared {
                playbook,
                title,
                hash,
                rto_secs,
                rpo_secs,
                read_only,
            },
            EventV1::StepStarted {
                step,
                title,
                target_secs,
            } => Event::StepStarted {
                step,
                title,
                target_secs,
            },
            EventV1::ChecklistTicked {
                step,
                item,
                text,
                ticked,
            } => Event::ChecklistTicked {
                step,
                item,
                text,
                ticked,
            },
            EventV1::ConfirmRequested { step, command } => {
                Event::ConfirmRequested { step, command }
            }
            EventV1::ConfirmCancelled { step } => Event::ConfirmCancelled { step },
            EventV1::Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence,
            } => Event::Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence: evidence.into(),
                // Not recorded in version 1.
                by: String::new(),
            },
            EventV1::RpoCaptured {
                step,
                seconds,
                measured_from,
            } => Event::RpoCaptured {
                step,
                seconds: seconds.map(|s| s as f64),
                bytes: None,
                window_from: None,
                window_to: None,
                measured_from,
            },
            EventV1::Output {
                step,
                attempt,
                line,
            } => Event::Output {
                step,
                attempt,
                line,
            },
            EventV1::Verifying {
                step,
                condition,
                timeout_secs,
            } => Event::Verifying {
                step,
                condition,
                timeout_secs,
            },
            EventV1::StepFinished {
                step,
                outcome,
                detail,
                verified,
                elapsed_secs,
                target_secs,
            } => Event::StepFinished {
                step,
                outcome: match outcome {
                    OutcomeV2::Done => Outcome::Done,
                    OutcomeV2::Failed => Outcome::Failed,
                },
                detail,
                verified,
                elapsed_secs,
                target_secs,
            },
            EventV1::Skipped { step, reason } => Event::Skipped { step, reason },
            EventV1::Retried { step } => Event::Retried { step },
            EventV1::TargetExceeded { step, target_secs } => {
                Event::TargetExceeded { step, target_secs }
            }
            EventV1::RtoRisk {
                at_risk,
                projected_secs,
                rto_secs,
            } => Event::RtoRisk {
                at_risk,
                projected_secs,
                rto_secs,
            },
            EventV1::Note { text } => Event::Note { text },
            EventV1::Aborted { reason } => Event::Aborted { reason },
            EventV1::Resolved {
                rto_achieved_secs,
                rpo_achieved_secs,
                passed,
            } => Event::Resolved {
                // Version 1 measured declared -> resolved under this name; the outage itself
                // (disrupted -> service restored) was not recorded.
                rto_achieved_secs: None,
                playbook_secs: rto_achieved_secs,
                rpo_achieved_secs: rpo_achieved_secs.map(|s| s as f64),
                passed,
            },
        }
    }
}

/// The `seq` and `at` of a version-1 event line (the rest of the line is the event).
#[derive(Deserialize)]
pub(crate) struct StampV1 {
    pub seq: u64,
    /// The session time: simulated in drills.
    pub at: DateTime<Utc>,
}
