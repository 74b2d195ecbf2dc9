//! The postmortem of an incident or drill, rebuilt from its journal alone (`warroom report`).
//!
//! [`build`] replays the journal's events into a [`Postmortem`]: the outage milestones, the
//! figures with their definitions (RTO achieved, MTTD, time to declare, time to recover,
//! playbook time, RPO achieved with its window), the drill success criteria, every step's target
//! against its actual time, every stop (quit or crash) and resume, the decisions with the
//! evidence the operator saw, the notes, output excerpts and the timeline. Nothing comes from the
//! playbook file: step titles and targets are in the journal (the header's plan,
//! `step_started`), so a report can be written years later, or on another machine. Milestones, figures, steps and criteria come from
//! [`crate::playbook::projection`], the same fold as the engine's scorecard.
//!
//! [`markdown`] renders it for people (with a mermaid gantt chart that GitHub draws); [`json`]
//! is the same content as a stable structure (`"format": "warroom-postmortem"`, `"version": 1`).
//! An unfinished journal is reported as what it is: in progress (no end recorded), or aborted.

mod markdown;

use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::Dur;
use crate::journal::{self, JournalError, Mode, PlaybookRef, Replay};
use crate::playbook::engine::event_kind;
use crate::playbook::projection::{
    Detection, Disruption, FastForwardRecord, FaultRecord, Figure, PauseRecord, Plan, PlanStep,
    Projection, ReminderRecord, Restoration, ResumeRecord, StepRecord, rpo_span, span, speed_label,
};
use crate::playbook::{Criterion, Event, Evidence, Outcome};

/// One step: target against actual (the projection's record).
pub type StepReport = StepRecord;

pub use markdown::markdown;

/// The `format` of the JSON report.
pub const REPORT_FORMAT: &str = "warroom-postmortem";
/// The version of the JSON report's structure; bumped on the same rule as the journal's.
pub const REPORT_VERSION: u32 = 2;

/// Output lines shown per step attempt (the newest); the journal has up to 200.
pub const OUTPUT_EXCERPT_LINES: usize = 10;

/// How the report is printed.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Format {
    #[default]
    Markdown,
    Json,
}

/// Where the incident stands at the journal's last event.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum State {
    /// Declared but not ended: still running, or the console stopped without ending it.
    InProgress,
    /// The journal has no `declared` event: the incident clock never started.
    NotDeclared,
    /// Ended with `aborted`.
    Aborted,
    /// Every step done or skipped (`resolved`).
    Resolved,
}

impl State {
    pub fn label(self) -> &'static str {
        match self {
            State::InProgress => "in progress",
            State::NotDeclared => "not declared",
            State::Aborted => "aborted",
            State::Resolved => "resolved",
        }
    }
}

/// The result line: `pass`, `fail`, `aborted`, `in progress`, `not declared`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Verdict {
    Pass,
    Fail,
    Aborted,
    InProgress,
    NotDeclared,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Pass => "pass",
            Verdict::Fail => "fail",
            Verdict::Aborted => "aborted",
            Verdict::InProgress => "in progress",
            Verdict::NotDeclared => "not declared",
        }
    }
}

/// RTO achieved: disrupted -> service restored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtoResult {
    /// The RTO measured against.
    pub objective_secs: u64,
    /// Disrupted -> service restored; `None` while either is unknown.
    pub achieved_secs: Option<u64>,
    /// `achieved < objective`; `None` when not measured.
    pub met: Option<bool>,
}

/// RPO achieved: the committed writes the recovered database does not have.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoResult {
    /// The RPO measured against.
    pub objective_secs: u64,
    /// Seconds of writes lost; `None` when nothing was captured or it could not be measured.
    pub achieved_secs: Option<f64>,
    /// The same in bytes of WAL, where known.
    pub bytes: Option<u64>,
    /// The lost window `(from, to]` (session time).
    pub window_from: Option<DateTime<Utc>>,
    pub window_to: Option<DateTime<Utc>>,
    /// The step that captured it.
    pub step: Option<String>,
    /// What it was measured from, or why it was not.
    pub measured_from: Option<String>,
    pub at: Option<DateTime<Utc>>,
    /// `achieved < objective`; `None` when not measured.
    pub met: Option<bool>,
}

/// The outage's milestones (session time: simulated in drills).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Milestones {
    /// Drills: the first fault injected.
    pub fault: Option<FaultRecord>,
    pub disrupted: Option<Disruption>,
    pub detected: Option<Detection>,
    pub declared: Option<DateTime<Utc>>,
    pub service_restored: Option<Restoration>,
    /// Resolved or aborted.
    pub ended: Option<DateTime<Utc>>,
}

/// The real (wall-clock) date and duration of the incident, whatever the simulator's speed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RealTime {
    /// The declaration's wall-clock time (or the first event's).
    pub started_at: Option<DateTime<Utc>>,
    /// The end's wall-clock time (or the last event's).
    pub ended_at: Option<DateTime<Utc>>,
    pub duration_secs: Option<u64>,
}

/// A confirmation: what ran, and the picture the operator decided on.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Decision {
    /// When the operator confirmed.
    pub at: DateTime<Utc>,
    /// Step id.
    pub step: String,
    /// Executor attempt, from 1.
    pub attempt: u32,
    /// The command, masked.
    pub command: String,
    /// Confirmed by typing a name.
    pub destructive: bool,
    /// What the operator typed to confirm a destructive step.
    pub typed: Option<String>,
    /// One line (`regions primary DOWN, dr HEALTHY · dr-replica replica/available lag 42s`).
    pub summary: String,
    /// The picture in full, as journaled.
    pub evidence: Evidence,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Note {
    /// When it was written.
    pub at: DateTime<Utc>,
    /// What the operator wrote.
    pub text: String,
    /// A note or milestone from someone who joined the shared war room: who signed it, and
    /// the signature as made (check it with `ssh-keygen -Y verify`, see README).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signed: Option<SignedNote>,
}

/// One arming of a step that needed approvals.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalRecord {
    pub step: String,
    pub attempt: u32,
    pub command: String,
    pub resource: String,
    /// When the driver armed it (session time).
    pub armed_at: DateTime<Utc>,
    pub armed_by: String,
    /// `SHA256:...` of the driver's key.
    pub armed_key: String,
    /// SHA-256 of the arming's signed text (what approvals name).
    pub armed: String,
    /// The exact text the driver signed, and the signature (SSHSIG, namespace `warroom`).
    pub signed: String,
    pub signature: String,
    /// The evidence it was armed on, in one line.
    pub evidence: String,
    pub needed: u32,
    pub approvals: Vec<ApprovalBy>,
}

/// One approval of an arming.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ApprovalBy {
    pub at: DateTime<Utc>,
    pub principal: String,
    pub role: String,
    pub key: String,
    pub request: String,
    pub signed: String,
    pub signature: String,
}

/// Who signed a shared note, and the signature.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignedNote {
    pub milestone: bool,
    pub request: String,
    pub principal: String,
    pub role: String,
    /// `SHA256:...` of the signing key.
    pub key: String,
    pub sequence: u64,
    /// The exact text signed.
    pub signed: String,
    /// SSHSIG, PEM armoured.
    pub signature: String,
}

/// The newest output lines of one executor attempt.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct OutputExcerpt {
    /// Step id.
    pub step: String,
    /// Executor attempt.
    pub attempt: u32,
    /// Lines recorded in the journal for this attempt.
    pub recorded: usize,
    /// The newest [`OUTPUT_EXCERPT_LINES`] of them.
    pub lines: Vec<String>,
}

/// One row of the timeline. Consecutive output lines of one attempt make one row.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TimelineRow {
    /// `seq` of the (first) event.
    pub seq: u64,
    /// When it happened (session time: simulated in drills).
    pub at: DateTime<Utc>,
    /// When it was written (wall clock).
    pub wall: DateTime<Utc>,
    /// Seconds since the declaration (negative before it); `None` if never declared.
    pub offset_secs: Option<i64>,
    /// The event's `kind`.
    pub kind: String,
    /// The step it concerns.
    pub step: Option<String>,
    /// What happened, in one line.
    pub detail: String,
    /// Events this row stands for: 1, or the number of output lines of a run.
    pub events: usize,
}

/// A torn last line, reported and ignored.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TornInfo {
    /// Its line number.
    pub line: usize,
    /// Its size.
    pub bytes: usize,
}

/// The postmortem: everything [`markdown`] prints, as data; [`json`] serialises it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Postmortem {
    /// [`REPORT_FORMAT`].
    pub format: String,
    /// [`REPORT_VERSION`].
    pub version: u32,
    /// The playbook, as the journal's header records it.
    pub playbook: PlaybookRef,
    /// The environment's name.
    pub environment: String,
    /// `drill`, `live` or `demo`.
    pub mode: Mode,
    /// Who ran the console.
    pub operator: String,
    /// The journal's creation (wall clock).
    pub started_at: DateTime<Utc>,
    /// Event times are simulated (a simulator drill): labelled as such.
    pub simulated: bool,
    /// The real date and duration.
    pub real: RealTime,
    /// Simulator sessions: the seed.
    pub seed: Option<u64>,
    /// Simulator sessions: simulated seconds per second.
    pub speed: Option<f64>,
    /// Where the incident stands at the journal's last event.
    pub state: State,
    /// The one-word result: `pass`, `fail`, `aborted`, `in-progress`, `not-declared`.
    pub verdict: Verdict,
    /// Why it was aborted.
    pub aborted_reason: Option<String>,
    /// The incident clock's start.
    pub declared_at: Option<DateTime<Utc>>,
    /// Resolved or aborted.
    pub ended_at: Option<DateTime<Utc>>,
    /// The journal's last event (the end of an unfinished journal).
    pub last_event_at: Option<DateTime<Utc>>,
    /// The session was read-only (nothing could execute).
    pub read_only: bool,
    /// The outage's milestones.
    pub milestones: Milestones,
    /// Every figure with its one-line definition, as printed.
    pub figures: Vec<Figure>,
    /// RTO achieved against the objective.
    pub rto: RtoResult,
    /// RPO achieved against the objective.
    pub rpo: RpoResult,
    /// The restore point chosen (a restore step), with the choice and who made it.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_point: Option<crate::playbook::projection::RestorePointRecord>,
    /// Disrupted -> detected.
    pub mttd_secs: Option<u64>,
    /// Disrupted -> declared (negative: declared before the disruption).
    pub time_to_declare_secs: Option<i64>,
    /// Declared -> service restored (negative: restored by automation before it).
    pub time_to_recover_secs: Option<i64>,
    /// Declared -> resolved (to the last event while unfinished).
    pub playbook_secs: Option<u64>,
    /// Steps that ran past their target.
    pub steps_over_target: usize,
    /// Every stop (a quit or a crash: the journal does not tell them apart) and resume of the
    /// console.
    pub resumes: Vec<ResumeRecord>,
    /// Every pause of the simulated clock (paused time is in no figure).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<PauseRecord>,
    /// Every fast-forwarded wait.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fast_forwards: Vec<FastForwardRecord>,
    /// Every reminder of the comms cadence done or missed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<ReminderRecord>,
    /// `paused 2 times, 4m10s; fast-forwarded 3 waits`, when either happened.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub pace: Option<String>,
    /// The drill success criteria: completed, RTO < objective, RPO < objective, every
    /// verification step passed, no step failed.
    pub criteria: Vec<Criterion>,
    /// No criterion failed (false while in progress).
    pub passed: bool,
    /// What the engine recorded in `resolved` (`passed`), to cross-check.
    pub recorded_passed: Option<bool>,
    /// Every step: the plan's order, then steps only events name.
    pub steps: Vec<StepReport>,
    /// Every confirmation, in order.
    pub decisions: Vec<Decision>,
    /// The operator's notes, in order.
    pub notes: Vec<Note>,
    /// The two-person rule: every arming of a step that needed approvals, who armed it and
    /// who approved it, with both signatures.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub approvals: Vec<ApprovalRecord>,
    /// The newest output lines of each executor attempt.
    pub output: Vec<OutputExcerpt>,
    /// Every event, consecutive output lines merged.
    pub timeline: Vec<TimelineRow>,
    /// A torn last line, ignored.
    pub torn_tail: Option<TornInfo>,
    /// Events in the journal.
    pub events: usize,
}

/// Reads the journal at `path` and renders its report.
pub fn render_path(path: &Path, format: Format) -> Result<String, JournalError> {
    let replay = journal::read(path)?;
    let pm = build(&replay);
    Ok(match format {
        Format::Markdown => markdown(&pm),
        Format::Json => json(&pm),
    })
}

/// The report as pretty JSON (with a final newline).
pub fn json(pm: &Postmortem) -> String {
    // Serialising plain data cannot fail; an empty object is the fallback should it ever.
    let mut s = serde_json::to_string_pretty(pm).unwrap_or_else(|_| "{}".into());
    s.push('\n');
    s
}

/// Every event with its session time (the engine's clock; simulated in drills) and its wall
/// time (when it was written). The one place that reads the journal's stamps.
fn clocks(replay: &Replay) -> impl Iterator<Item = (u64, DateTime<Utc>, DateTime<Utc>, &Event)> {
    // `(seq, session time, wall-clock time, event)`. Version 1 journals recorded one time per
    // event, the session time: it stands for both clocks there.
    replay
        .events
        .iter()
        .map(|(seq, stamp, event)| (*seq, stamp.session(), stamp.at, event))
}

/// The plan recorded in the journal's header.
fn plan(replay: &Replay) -> Plan {
    let h = &replay.header;
    Plan {
        rto_secs: h.objectives.rto_secs,
        rpo_secs: h.objectives.rpo_secs,
        steps: h
            .steps
            .iter()
            .map(|p| PlanStep {
                id: p.id.clone(),
                title: p.title.clone(),
                target_secs: p.target_secs,
                verification: p.verification,
                captures_rpo: p.captures_rpo,
                restores_service: p.restores_service,
            })
            .collect(),
    }
}

/// Rebuilds the postmortem from a validated journal.
pub fn build(replay: &Replay) -> Postmortem {
    let header = &replay.header;
    let mut projection = Projection::new(plan(replay)).legacy(header.version < 2);
    let mut declared_at = None;
    let mut read_only = false;
    let mut decisions = Vec::new();
    let mut notes = Vec::new();
    let mut approvals: Vec<ApprovalRecord> = Vec::new();
    let mut output: Vec<(OutputExcerpt, Vec<String>)> = Vec::new();
    let mut timeline: Vec<TimelineRow> = Vec::new();
    let mut simulated = header.seed.is_some();

    for (seq, at, wall, event) in clocks(replay) {
        projection.apply(at, wall, event);
        simulated |= at != wall;
        match event {
            Event::Declared { read_only: ro, .. } => {
                declared_at = Some(at);
                read_only = *ro;
            }
            Event::Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence,
                ..
            } => {
                decisions.push(Decision {
                    at,
                    step: step.clone(),
                    attempt: *attempt,
                    command: command.clone(),
                    destructive: *destructive,
                    typed: typed.clone(),
                    summary: evidence.summary(),
                    evidence: evidence.clone(),
                });
            }
            Event::Output {
                step,
                attempt,
                line,
            } => {
                let idx = match output
                    .iter()
                    .position(|(o, _)| o.step == *step && o.attempt == *attempt)
                {
                    Some(i) => i,
                    None => {
                        output.push((
                            OutputExcerpt {
                                step: step.clone(),
                                attempt: *attempt,
                                recorded: 0,
                                lines: Vec::new(),
                            },
                            Vec::new(),
                        ));
                        output.len() - 1
                    }
                };
                let (o, all) = &mut output[idx];
                o.recorded += 1;
                all.push(line.clone());
            }
            Event::Note { text } => notes.push(Note {
                at,
                text: text.clone(),
                signed: None,
            }),
            Event::ApprovalArmed {
                step,
                attempt,
                command,
                resource,
                evidence,
                needed,
                by,
                key,
                armed,
                signed,
                signature,
            } => approvals.push(ApprovalRecord {
                step: step.clone(),
                attempt: *attempt,
                command: command.clone(),
                resource: resource.clone(),
                armed_at: at,
                armed_by: by.clone(),
                armed_key: key.clone(),
                armed: armed.clone(),
                signed: signed.clone(),
                signature: signature.clone(),
                evidence: evidence.summary(),
                needed: *needed,
                approvals: Vec::new(),
            }),
            Event::Approved { armed, by, .. } => {
                if let Some(record) = approvals.iter_mut().rev().find(|r| r.armed == *armed) {
                    record.approvals.push(ApprovalBy {
                        at,
                        principal: by.principal.clone(),
                        role: by.role.clone(),
                        key: by.key.clone(),
                        request: by.request.clone(),
                        signed: by.signed.clone(),
                        signature: by.signature.clone(),
                    });
                }
            }
            Event::SharedNote {
                text,
                milestone,
                by,
            } => notes.push(Note {
                at,
                text: text.clone(),
                signed: Some(SignedNote {
                    milestone: *milestone,
                    request: by.request.clone(),
                    principal: by.principal.clone(),
                    role: by.role.clone(),
                    key: by.key.clone(),
                    sequence: by.sequence,
                    signed: by.signed.clone(),
                    signature: by.signature.clone(),
                }),
            }),
            _ => {}
        }
        push_timeline(&mut timeline, seq, at, wall, declared_at, event);
    }

    let m = projection.measures(None);
    let last_event_at = projection.last_at();
    let state = match (m.declared_at, m.resolved, &m.aborted) {
        (_, true, _) => State::Resolved,
        (_, false, Some(_)) => State::Aborted,
        (None, false, None) => State::NotDeclared,
        (Some(_), false, None) => State::InProgress,
    };
    let rto = RtoResult {
        objective_secs: m.rto_objective_secs,
        achieved_secs: m.rto_achieved_secs,
        met: m.rto_achieved_secs.map(|a| a < m.rto_objective_secs),
    };
    let captured = m.rpo.as_ref();
    let achieved = captured.and_then(|r| r.seconds);
    let rpo = RpoResult {
        objective_secs: m.rpo_objective_secs,
        achieved_secs: achieved,
        bytes: captured.and_then(|r| r.bytes),
        window_from: captured.and_then(|r| r.window_from),
        window_to: captured.and_then(|r| r.window_to),
        step: captured.map(|r| r.step.clone()),
        measured_from: captured.map(|r| r.measured_from.clone()),
        at: captured.map(|r| r.at),
        met: achieved.map(|s| s < m.rpo_objective_secs as f64),
    };
    let verdict = match state {
        State::Resolved if m.passed => Verdict::Pass,
        State::Resolved => Verdict::Fail,
        State::Aborted => Verdict::Aborted,
        State::InProgress => Verdict::InProgress,
        State::NotDeclared => Verdict::NotDeclared,
    };
    let output = output
        .into_iter()
        .map(|(mut o, all)| {
            let skip = all.len().saturating_sub(OUTPUT_EXCERPT_LINES);
            o.lines = all.into_iter().skip(skip).collect();
            o
        })
        .collect();
    Postmortem {
        format: REPORT_FORMAT.into(),
        version: REPORT_VERSION,
        playbook: header.playbook.clone(),
        environment: header.environment.clone(),
        mode: header.mode,
        operator: header.operator.clone(),
        started_at: header.started_at,
        simulated,
        // A v1 journal of a simulated drill recorded simulated times only: its real date and
        // duration are unknown.
        real: if header.version < 2 && header.seed.is_some() {
            RealTime {
                started_at: None,
                ended_at: None,
                duration_secs: None,
            }
        } else {
            RealTime {
                started_at: m.wall_started_at,
                ended_at: m.wall_ended_at,
                duration_secs: m.wall_secs(),
            }
        },
        seed: header.seed,
        speed: header.speed,
        state,
        verdict,
        aborted_reason: m.aborted.clone(),
        declared_at: m.declared_at,
        ended_at: m.ended_at,
        last_event_at,
        read_only,
        milestones: Milestones {
            fault: m.fault.clone(),
            disrupted: m.disrupted.clone(),
            detected: m.detected.clone(),
            declared: m.declared_at,
            service_restored: m.restored.clone(),
            ended: m.ended_at,
        },
        figures: m.figures(),
        rto,
        rpo,
        restore_point: m.restore_point.clone(),
        mttd_secs: m.mttd_secs,
        time_to_declare_secs: m.time_to_declare_secs,
        time_to_recover_secs: m.time_to_recover_secs,
        playbook_secs: m.playbook_secs,
        steps_over_target: m.steps_over_target,
        resumes: m.resumes.clone(),
        pauses: m.pauses.clone(),
        fast_forwards: m.fast_forwards.clone(),
        reminders: m.reminders.clone(),
        pace: m.pace_summary(),
        criteria: m.criteria.clone(),
        passed: m.passed,
        recorded_passed: m.recorded_passed,
        steps: m.steps,
        decisions,
        notes,
        approvals,
        output,
        timeline,
        torn_tail: replay.torn_tail.as_ref().map(|t| TornInfo {
            line: t.line,
            bytes: t.bytes.len(),
        }),
        events: replay.events.len(),
    }
}

/// Appends the event's timeline row; consecutive output lines of one attempt share a row.
fn push_timeline(
    rows: &mut Vec<TimelineRow>,
    seq: u64,
    at: DateTime<Utc>,
    wall: DateTime<Utc>,
    declared_at: Option<DateTime<Utc>>,
    event: &Event,
) {
    if let Event::Output { step, attempt, .. } = event {
        if let Some(last) = rows.last_mut() {
            let detail = |n: usize| format!("{n} output line(s), attempt {attempt}");
            if last.kind == "output"
                && last.step.as_deref() == Some(step.as_str())
                && last.detail == detail(last.events)
            {
                last.events += 1;
                last.detail = detail(last.events);
                return;
            }
        }
    }
    let (step, detail) = describe(event);
    rows.push(TimelineRow {
        seq,
        at,
        wall,
        offset_secs: declared_at.map(|d| (at - d).num_seconds()),
        kind: event_kind(event),
        step,
        detail,
        events: 1,
    });
}

/// `10:00:03` (with the date: `2026-11-22 10:00:03`), UTC.
fn time_of(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

/// The step an event concerns, and one line saying what happened.
fn describe(event: &Event) -> (Option<String>, String) {
    let dur = span;
    let objective = |s: u64| Dur::from_secs(s).to_string();
    match event {
        Event::FaultInjected { fault } => (None, format!("fault {fault} injected")),
        Event::Disrupted {
            since,
            evidence,
            reason,
            by,
        } => (
            None,
            match (reason, by) {
                (Some(why), Some(by)) => format!(
                    "disrupted since {} (set by {by}: {why}): {evidence}",
                    time_of(*since)
                ),
                (Some(why), None) => {
                    format!(
                        "disrupted since {} (set: {why}): {evidence}",
                        time_of(*since)
                    )
                }
                _ => format!("disrupted since {}: {evidence}", time_of(*since)),
            },
        ),
        Event::Detected { since, evidence } => {
            (None, format!("detected at {}: {evidence}", time_of(*since)))
        }
        Event::ServiceRestored { step, since } => (
            Some(step.clone()),
            format!("service restored since {}", time_of(*since)),
        ),
        Event::ConsoleClosed { by, signal } => (
            None,
            match signal {
                Some(signal) => format!("console ended by {signal} (operator {by})"),
                None => format!("console closed by {by}"),
            },
        ),
        Event::Resumed {
            gap_secs,
            host,
            operator,
            pid,
        } => (
            None,
            format!(
                "resumed by {operator} on {host} (pid {pid}) after {}",
                dur(*gap_secs)
            ),
        ),
        Event::Declared {
            title,
            rto_secs,
            rpo_secs,
            read_only,
            ..
        } => (
            None,
            format!(
                "incident declared: {title} (RTO {}, RPO {}){}",
                objective(*rto_secs),
                objective(*rpo_secs),
                if *read_only { ", read-only" } else { "" }
            ),
        ),
        Event::StepStarted {
            step,
            title,
            target_secs,
        } => (
            Some(step.clone()),
            format!("{title} (target {})", objective(*target_secs)),
        ),
        Event::ChecklistTicked {
            step, text, ticked, ..
        } => (
            Some(step.clone()),
            format!("{} \"{text}\"", if *ticked { "ticked" } else { "unticked" }),
        ),
        Event::ItemNotApplicable {
            step, text, reason, ..
        } => (
            Some(step.clone()),
            format!("not applicable \"{text}\": {reason}"),
        ),
        Event::ItemApplicable { step, text, .. } => {
            (Some(step.clone()), format!("applicable again \"{text}\""))
        }
        Event::MessageEdited { step, message } => (
            Some(step.clone()),
            format!("message edited before sending: {message:?}"),
        ),
        Event::ConfirmRequested { step, command } => {
            (Some(step.clone()), format!("confirmation asked: {command}"))
        }
        Event::ConfirmCancelled { step } => (Some(step.clone()), "confirmation cancelled".into()),
        Event::Confirmed {
            step,
            attempt,
            command,
            typed,
            ..
        } => (
            Some(step.clone()),
            format!(
                "confirmed{}: {command}{}",
                if *attempt > 1 {
                    format!(" (attempt {attempt})")
                } else {
                    String::new()
                },
                typed
                    .as_ref()
                    .map(|t| format!(" (typed \"{t}\")"))
                    .unwrap_or_default()
            ),
        ),
        Event::RestorePointChosen {
            step,
            choice,
            point,
            basis,
            loss_secs,
            by,
            picked,
            ..
        } => (
            Some(step.clone()),
            format!(
                "restore point {} chosen by {by}{} ({choice}; {}){}",
                time_of(*point),
                if *picked { " in the picker" } else { "" },
                basis.label(),
                loss_secs
                    .map(|s| format!("; data lost {}", rpo_span(s)))
                    .unwrap_or_default()
            ),
        ),
        Event::RpoCaptured {
            step,
            seconds,
            measured_from,
            ..
        } => (
            Some(step.clone()),
            match seconds {
                Some(s) => format!("RPO {} ({measured_from})", rpo_span(*s)),
                None => format!("RPO not measured: {measured_from}"),
            },
        ),
        Event::Output { step, attempt, .. } => (
            Some(step.clone()),
            format!("1 output line(s), attempt {attempt}"),
        ),
        Event::Verifying {
            step,
            condition,
            timeout_secs,
        } => (
            Some(step.clone()),
            format!(
                "waiting for {condition} (timeout {})",
                objective(*timeout_secs)
            ),
        ),
        Event::StepFinished {
            step,
            outcome,
            detail,
            elapsed_secs,
            target_secs,
            ..
        } => (
            Some(step.clone()),
            format!(
                "{} in {} (target {}): {detail}",
                match outcome {
                    Outcome::Done => "done",
                    Outcome::Failed => "FAILED",
                },
                dur(*elapsed_secs),
                objective(*target_secs)
            ),
        ),
        Event::Skipped { step, reason } => (Some(step.clone()), format!("skipped: {reason}")),
        Event::Retried { step } => (Some(step.clone()), "retried".into()),
        Event::TargetExceeded { step, target_secs } => (
            Some(step.clone()),
            format!("past its target of {}", objective(*target_secs)),
        ),
        Event::RtoRisk {
            at_risk,
            projected_secs,
            rto_secs,
        } => (
            None,
            if *at_risk {
                format!(
                    "RTO at risk: projected {} > objective {}",
                    dur(*projected_secs),
                    objective(*rto_secs)
                )
            } else {
                format!(
                    "back within the RTO: projected {} <= objective {}",
                    dur(*projected_secs),
                    objective(*rto_secs)
                )
            },
        ),
        Event::Note { text } => (None, text.clone()),
        Event::FailoverPaused { step, db, by } => (
            Some(step.clone()),
            format!("automatic failover of {db}'s cluster paused (confirmed by {by})"),
        ),
        Event::FailoverResumed { step, db, by } => (
            Some(step.clone()),
            format!("automatic failover of {db}'s cluster resumed (confirmed by {by})"),
        ),
        Event::FailoverLeftPaused {
            step,
            db,
            reason,
            by,
        } => (
            Some(step.clone()),
            format!("automatic failover of {db}'s cluster LEFT PAUSED by {by}: {reason}"),
        ),
        Event::AbortHeld { reason, by } => (
            None,
            format!(
                "abort asked by {by} ({reason}): held until automatic failover is resumed or \
                 left paused"
            ),
        ),
        Event::SharedNote {
            text,
            milestone,
            by,
        } => (
            None,
            format!(
                "{} by {} ({}, key {}): {text}",
                if *milestone { "milestone" } else { "note" },
                by.principal,
                by.role,
                by.key
            ),
        ),
        Event::ApprovalArmed {
            step,
            resource,
            needed,
            by,
            key,
            armed,
            ..
        } => (
            Some(step.clone()),
            format!(
                "armed by {by} (key {key}): {resource} runs after {needed} approval(s) by \
                 others (arming {})",
                armed.get(..12).unwrap_or(armed)
            ),
        ),
        Event::Approved { step, by, .. } => (
            Some(step.clone()),
            format!(
                "approved by {} as {} (key {}, request {})",
                by.principal, by.role, by.key, by.request
            ),
        ),
        Event::RequestRefused {
            request,
            principal,
            reason,
        } => (
            None,
            format!(
                "request {request} from {} refused: {reason}",
                principal.as_deref().unwrap_or("(unknown)")
            ),
        ),
        Event::ClockPaused {} => (
            None,
            "clock paused: the simulated world, the step timers and the RTO clock stand still"
                .into(),
        ),
        Event::ClockResumed { paused_secs } => (
            None,
            format!(
                "clock resumed after a pause of {} (wall clock)",
                dur(*paused_secs)
            ),
        ),
        Event::SpeedChanged {
            from,
            to,
            reason,
            step,
        } => (
            step.clone(),
            format!(
                "speed {} -> {}: {}",
                speed_label(*from),
                speed_label(*to),
                reason.describe()
            ),
        ),
        Event::ReminderDone {
            text, late_secs, ..
        } => (
            None,
            if *late_secs == 0 {
                format!("reminder done on time: {text}")
            } else {
                format!("reminder done {} late: {text}", dur(*late_secs))
            },
        ),
        Event::ReminderMissed { text, missed, .. } => (
            None,
            format!(
                "reminder missed{}: {text}",
                if *missed > 1 {
                    format!(" {missed} times")
                } else {
                    String::new()
                }
            ),
        ),
        Event::Aborted { reason } => (None, format!("aborted: {reason}")),
        Event::Resolved {
            rto_achieved_secs,
            playbook_secs,
            rpo_achieved_secs,
            passed,
        } => (
            None,
            format!(
                "resolved: RTO {}, playbook time {}, RPO {}, {}",
                rto_achieved_secs.map_or_else(|| "not recorded".into(), dur),
                dur(*playbook_secs),
                rpo_achieved_secs.map_or_else(|| "not measured".into(), rpo_span),
                if *passed { "passed" } else { "failed" }
            ),
        ),
    }
}
