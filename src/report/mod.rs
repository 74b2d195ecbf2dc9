//! The postmortem of an incident or drill, rebuilt from its journal alone (`warroom report`).
//!
//! [`build`] replays the journal's events into a [`Postmortem`]: the summary (RTO and RPO
//! achieved against the objectives, time to detect for drills, the drill success criteria), every
//! step's target against its actual time, the decisions with the evidence the operator saw, the
//! notes, output excerpts and the timeline. Nothing comes from the playbook file: step titles and
//! targets are in the journal (the header's plan, `step_started`), so a report can be written
//! years later, or on another machine. The criteria are the engine's, computed the same way (see
//! [`Scorecard`](crate::playbook::Scorecard)).
//!
//! [`markdown`] renders it for people (with a mermaid gantt chart that GitHub draws); [`json`]
//! is the same content as a stable structure (`"format": "warroom-postmortem"`, `"version": 1`).
//! An unfinished journal is reported as what it is: in progress (no end recorded), or aborted.

mod markdown;

use std::collections::BTreeMap;
use std::path::Path;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::{Dur, compact};
use crate::journal::{self, JournalError, Mode, PlaybookRef, Replay};
use crate::playbook::engine::event_kind;
use crate::playbook::{Criterion, Event, Evidence, Grade, Outcome, Timing};

pub use markdown::markdown;

/// The `format` of the JSON report.
pub const REPORT_FORMAT: &str = "warroom-postmortem";
/// The version of the JSON report's structure; bumped on the same rule as the journal's.
pub const REPORT_VERSION: u32 = 1;

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

/// RTO: declaration to resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtoResult {
    /// The RTO measured against.
    pub objective_secs: u64,
    /// Declared to resolved; `None` unless resolved.
    pub achieved_secs: Option<u64>,
    /// Declared to the end, or to the last event when not ended.
    pub elapsed_secs: Option<u64>,
    /// `achieved < objective`; `None` unless resolved.
    pub met: Option<bool>,
}

/// RPO: the data-loss window captured when the capturing step's executor started.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct RpoResult {
    /// The RPO measured against.
    pub objective_secs: u64,
    /// `None` when nothing was captured or it could not be measured.
    pub achieved_secs: Option<u64>,
    /// The step that captured it.
    pub step: Option<String>,
    /// What it was measured from (`replica lag of dr-replica`), or why it was not.
    pub measured_from: Option<String>,
    pub at: Option<DateTime<Utc>>,
    /// `achieved < objective`; `None` when not measured.
    pub met: Option<bool>,
}

/// Drills: time to detect, from the fault's injection to the declaration.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Mttd {
    /// The fault injected (`region-loss`).
    pub fault: String,
    /// The first `fault_injected`.
    pub fault_at: DateTime<Utc>,
    /// `declared`.
    pub declared_at: DateTime<Utc>,
    /// From one to the other.
    pub secs: u64,
}

/// One step: target against actual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepReport {
    /// Step id.
    pub id: String,
    /// Step title.
    pub title: String,
    /// Its target time.
    pub target_secs: u64,
    /// `pending`, `active`, `awaiting-confirm`, `running`, `verifying`, `done`, `failed`,
    /// `skipped` (the engine's labels).
    pub status: String,
    /// Why it failed or was skipped.
    pub reason: Option<String>,
    /// What proved it done.
    pub detail: Option<String>,
    /// When it (last) became active.
    pub started_at: Option<DateTime<Utc>>,
    /// When it ended (done, failed, or skipped after it started).
    pub finished_at: Option<DateTime<Utc>>,
    /// Start to finish; for an unfinished step, to the journal's end. `None` if never started.
    pub actual_secs: Option<u64>,
    /// Actual against target: on time (at most 80 %), at risk, over.
    pub timing: Option<Timing>,
    /// Executor attempts.
    pub attempts: u32,
    /// The last command confirmed (masked).
    pub command: Option<String>,
    /// The step verifies something (a wait or `backup.verify`).
    pub verification: bool,
    /// It did, successfully.
    pub verified: bool,
    /// It ran past its target (`target_exceeded` recorded).
    pub over_target: bool,
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
    /// When it happened.
    pub at: DateTime<Utc>,
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
    /// The journal's creation.
    pub started_at: DateTime<Utc>,
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
    /// RTO achieved against the objective.
    pub rto: RtoResult,
    /// RPO achieved against the objective.
    pub rpo: RpoResult,
    /// Drills: fault injected to declaration.
    pub mttd: Option<Mttd>,
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

fn secs_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from((to - from).num_seconds()).unwrap_or(0)
}

/// Rebuilds the postmortem from a validated journal.
pub fn build(replay: &Replay) -> Postmortem {
    let header = &replay.header;
    let mut order: Vec<String> = Vec::new();
    let mut steps: BTreeMap<String, StepReport> = BTreeMap::new();
    let new_step = |id: &str, title: &str, target: u64| StepReport {
        id: id.to_string(),
        title: title.to_string(),
        target_secs: target,
        status: "pending".into(),
        reason: None,
        detail: None,
        started_at: None,
        finished_at: None,
        actual_secs: None,
        timing: None,
        attempts: 0,
        command: None,
        verification: false,
        verified: false,
        over_target: false,
    };
    for p in &header.steps {
        let mut s = new_step(&p.id, &p.title, p.target_secs);
        s.verification = p.verification;
        order.push(p.id.clone());
        steps.insert(p.id.clone(), s);
    }
    let plan_captures = header.steps.iter().any(|p| p.captures_rpo);

    let mut declared_at = None;
    let mut rto_objective = header.objectives.rto_secs;
    let mut rpo_objective = header.objectives.rpo_secs;
    let mut read_only = false;
    let mut ended_at = None;
    let mut resolved = false;
    let mut aborted_reason = None;
    let mut recorded_passed = None;
    let mut fault: Option<(String, DateTime<Utc>)> = None;
    let mut rpo: Option<(String, Option<u64>, String, DateTime<Utc>)> = None;
    let mut decisions = Vec::new();
    let mut notes = Vec::new();
    let mut output: Vec<(OutputExcerpt, Vec<String>)> = Vec::new();
    let mut timeline: Vec<TimelineRow> = Vec::new();

    for (seq, stamp, event) in &replay.events {
        let at = stamp.session();
        // Steps not in the plan (a journal without one) are added as events name them.
        let mut touch = |id: &str, title: Option<&str>, target: Option<u64>| {
            if !steps.contains_key(id) {
                order.push(id.to_string());
                steps.insert(
                    id.to_string(),
                    new_step(id, title.unwrap_or(id), target.unwrap_or(0)),
                );
            }
        };
        match event {
            Event::StepStarted {
                step,
                title,
                target_secs,
            } => touch(step, Some(title), Some(*target_secs)),
            Event::ChecklistTicked { step, .. }
            | Event::ConfirmRequested { step, .. }
            | Event::ConfirmCancelled { step }
            | Event::Confirmed { step, .. }
            | Event::RpoCaptured { step, .. }
            | Event::Output { step, .. }
            | Event::Verifying { step, .. }
            | Event::StepFinished { step, .. }
            | Event::Skipped { step, .. }
            | Event::Retried { step }
            | Event::TargetExceeded { step, .. } => touch(step, None, None),
            _ => {}
        }
        match event {
            Event::FaultInjected { fault: f } => {
                if fault.is_none() {
                    fault = Some((f.clone(), at));
                }
            }
            Event::Declared {
                rto_secs,
                rpo_secs,
                read_only: ro,
                ..
            } => {
                declared_at = Some(at);
                rto_objective = *rto_secs;
                rpo_objective = *rpo_secs;
                read_only = *ro;
            }
            Event::StepStarted {
                step,
                title,
                target_secs,
            } => {
                if let Some(s) = steps.get_mut(step) {
                    s.title.clone_from(title);
                    s.target_secs = *target_secs;
                    s.status = "active".into();
                    s.started_at = Some(at);
                    s.finished_at = None;
                }
            }
            Event::ConfirmRequested { step, command } => {
                if let Some(s) = steps.get_mut(step) {
                    s.status = "awaiting-confirm".into();
                    s.command = Some(command.clone());
                }
            }
            Event::ConfirmCancelled { step } => {
                if let Some(s) = steps.get_mut(step) {
                    s.status = "active".into();
                }
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
                if let Some(s) = steps.get_mut(step) {
                    s.status = "running".into();
                    s.attempts = *attempt;
                    s.command = Some(command.clone());
                }
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
            Event::RpoCaptured {
                step,
                seconds,
                measured_from,
                ..
            } => {
                rpo = Some((
                    step.clone(),
                    seconds.map(|s| s.ceil() as u64),
                    measured_from.clone(),
                    at,
                ))
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
            Event::Verifying { step, .. } => {
                if let Some(s) = steps.get_mut(step) {
                    s.status = "verifying".into();
                    s.verification = true;
                }
            }
            Event::StepFinished {
                step,
                outcome,
                detail,
                verified,
                elapsed_secs,
                target_secs,
            } => {
                if let Some(s) = steps.get_mut(step) {
                    match outcome {
                        Outcome::Done => {
                            s.status = "done".into();
                            s.detail = Some(detail.clone());
                            s.reason = None;
                        }
                        Outcome::Failed => {
                            s.status = "failed".into();
                            s.reason = Some(detail.clone());
                        }
                    }
                    s.verified = *verified;
                    s.verification |= *verified;
                    s.finished_at = Some(at);
                    s.actual_secs = Some(*elapsed_secs);
                    s.target_secs = *target_secs;
                }
            }
            Event::Skipped { step, reason } => {
                if let Some(s) = steps.get_mut(step) {
                    s.status = "skipped".into();
                    s.reason = Some(reason.clone());
                    s.verified = false;
                    s.finished_at = s.started_at.map(|_| at);
                    s.actual_secs = s.started_at.map(|st| secs_between(st, at));
                }
            }
            Event::Retried { step } => {
                for s in steps.values_mut() {
                    if s.id != *step && s.status == "active" {
                        s.status = "pending".into();
                    }
                }
                if let Some(s) = steps.get_mut(step) {
                    s.status = "active".into();
                    s.finished_at = None;
                    s.actual_secs = None;
                    s.verified = false;
                    s.reason = None;
                }
            }
            Event::TargetExceeded { step, .. } => {
                if let Some(s) = steps.get_mut(step) {
                    s.over_target = true;
                }
            }
            Event::Note { text } => notes.push(Note {
                at,
                text: text.clone(),
            }),
            Event::Aborted { reason } => {
                aborted_reason = Some(reason.clone());
                ended_at = Some(at);
            }
            Event::Resolved { passed, .. } => {
                resolved = true;
                ended_at = Some(at);
                recorded_passed = Some(*passed);
            }
            Event::ChecklistTicked { .. }
            | Event::RtoRisk { .. }
            | Event::Disrupted { .. }
            | Event::Detected { .. }
            | Event::ServiceRestored { .. }
            | Event::Resumed { .. } => {}
        }
        push_timeline(&mut timeline, *seq, at, declared_at, event);
    }

    let last_event_at = replay.events.last().map(|(_, stamp, _)| stamp.session());
    let end = ended_at.or(last_event_at);
    let mut step_reports: Vec<StepReport> = order
        .iter()
        .filter_map(|id| steps.remove(id))
        .map(|mut r| {
            if r.actual_secs.is_none() {
                if let (Some(st), Some(end)) = (r.started_at, end) {
                    if r.status != "skipped" {
                        r.actual_secs = Some(secs_between(st, end));
                    }
                }
            }
            r.timing = r
                .actual_secs
                .map(|a| Timing::of(a, Dur::from_secs(r.target_secs)));
            r
        })
        .collect();
    // A pre-skipped step never started: no actual time (as in the engine's scorecard).
    for r in &mut step_reports {
        if r.status == "skipped" && r.started_at.is_none() {
            r.actual_secs = None;
            r.timing = None;
        }
    }

    let state = match (declared_at, resolved, &aborted_reason) {
        (_, true, _) => State::Resolved,
        (_, false, Some(_)) => State::Aborted,
        (None, false, None) => State::NotDeclared,
        (Some(_), false, None) => State::InProgress,
    };
    let rto_achieved = match (resolved, declared_at, ended_at) {
        (true, Some(d), Some(e)) => Some(secs_between(d, e)),
        _ => None,
    };
    let rto = RtoResult {
        objective_secs: rto_objective,
        achieved_secs: rto_achieved,
        elapsed_secs: declared_at.zip(end).map(|(d, e)| secs_between(d, e)),
        met: rto_achieved.map(|a| a < rto_objective),
    };
    let rpo_result = RpoResult {
        objective_secs: rpo_objective,
        achieved_secs: rpo.as_ref().and_then(|r| r.1),
        step: rpo.as_ref().map(|r| r.0.clone()),
        measured_from: rpo.as_ref().map(|r| r.2.clone()),
        at: rpo.as_ref().map(|r| r.3),
        met: rpo.as_ref().and_then(|r| r.1).map(|s| s < rpo_objective),
    };
    let mttd = fault
        .zip(declared_at)
        .map(|((fault, fault_at), declared_at)| Mttd {
            secs: secs_between(fault_at, declared_at),
            fault,
            fault_at,
            declared_at,
        });
    let criteria = criteria(
        resolved,
        aborted_reason.as_deref(),
        &rto,
        &rpo_result,
        plan_captures,
        &step_reports,
    );
    let passed = criteria.iter().all(|c| c.verdict != Grade::Fail);
    let verdict = match state {
        State::Resolved if passed => Verdict::Pass,
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
        seed: header.seed,
        speed: header.speed,
        state,
        verdict,
        aborted_reason,
        declared_at,
        ended_at,
        last_event_at,
        read_only,
        rto,
        rpo: rpo_result,
        mttd,
        criteria,
        passed,
        recorded_passed,
        steps: step_reports,
        decisions,
        notes,
        output,
        timeline,
        torn_tail: replay.torn_tail.as_ref().map(|t| TornInfo {
            line: t.line,
            bytes: t.bytes.len(),
        }),
        events: replay.events.len(),
    }
}

/// The drill success criteria, worded as the engine's scorecard words them.
fn criteria(
    resolved: bool,
    aborted: Option<&str>,
    rto: &RtoResult,
    rpo: &RpoResult,
    captures: bool,
    steps: &[StepReport],
) -> Vec<Criterion> {
    let mut out = Vec::new();
    out.push(Criterion {
        name: "completed".into(),
        verdict: if resolved { Grade::Pass } else { Grade::Fail },
        detail: match (aborted, resolved) {
            (Some(why), _) => format!("aborted: {why}"),
            (None, true) => "every step done or skipped".into(),
            (None, false) => "not finished".into(),
        },
    });
    out.push(match rto.achieved_secs {
        Some(a) => Criterion {
            name: "RTO < objective".into(),
            verdict: grade(a < rto.objective_secs),
            detail: format!(
                "{} achieved / {} objective",
                compact(a),
                Dur::from_secs(rto.objective_secs)
            ),
        },
        None => Criterion {
            name: "RTO < objective".into(),
            verdict: Grade::Fail,
            detail: "not recovered".into(),
        },
    });
    let name = "RPO < objective".to_string();
    out.push(match (rpo.achieved_secs, &rpo.measured_from, captures) {
        (Some(secs), from, _) => Criterion {
            name,
            verdict: grade(secs < rpo.objective_secs),
            detail: format!(
                "{} ({}) / {} objective",
                compact(secs),
                from.as_deref().unwrap_or(""),
                Dur::from_secs(rpo.objective_secs)
            ),
        },
        (None, Some(from), _) => Criterion {
            name,
            verdict: Grade::Fail,
            detail: format!("not measured: {from}"),
        },
        (None, None, true) => Criterion {
            name,
            verdict: Grade::Fail,
            detail: "not measured: the capturing step never ran".into(),
        },
        (None, None, false) => Criterion {
            name,
            verdict: Grade::NotApplicable,
            detail: "no step captures the RPO".into(),
        },
    });
    let verifications = steps.iter().filter(|s| s.verification).count();
    let unverified: Vec<&str> = steps
        .iter()
        .filter(|s| s.verification && !(s.verified && s.status == "done"))
        .map(|s| s.id.as_str())
        .collect();
    out.push(Criterion {
        name: "every verification step passed".into(),
        verdict: if verifications == 0 {
            Grade::NotApplicable
        } else {
            grade(unverified.is_empty())
        },
        detail: if unverified.is_empty() {
            format!("{verifications} verification step(s) passed")
        } else {
            format!("not passed: {}", unverified.join(", "))
        },
    });
    let failed: Vec<&str> = steps
        .iter()
        .filter(|s| s.status == "failed")
        .map(|s| s.id.as_str())
        .collect();
    out.push(Criterion {
        name: "no step failed".into(),
        verdict: grade(failed.is_empty()),
        detail: if failed.is_empty() {
            "none failed".into()
        } else {
            format!("failed: {}", failed.join(", "))
        },
    });
    out
}

fn grade(ok: bool) -> Grade {
    if ok { Grade::Pass } else { Grade::Fail }
}

/// Appends the event's timeline row; consecutive output lines of one attempt share a row.
fn push_timeline(
    rows: &mut Vec<TimelineRow>,
    seq: u64,
    at: DateTime<Utc>,
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
        offset_secs: declared_at.map(|d| (at - d).num_seconds()),
        kind: event_kind(event),
        step,
        detail,
        events: 1,
    });
}

/// The step an event concerns, and one line saying what happened.
fn describe(event: &Event) -> (Option<String>, String) {
    let dur = |s: u64| Dur::from_secs(s).to_string();
    match event {
        Event::FaultInjected { fault } => (None, format!("fault {fault} injected")),
        Event::Disrupted {
            since,
            evidence,
            reason,
            ..
        } => (
            None,
            match reason {
                Some(why) => format!("disrupted since {since} (set: {why}): {evidence}"),
                None => format!("disrupted since {since}: {evidence}"),
            },
        ),
        Event::Detected { since, evidence } => (None, format!("detected at {since}: {evidence}")),
        Event::ServiceRestored { step } => (Some(step.clone()), "service restored".into()),
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
                dur(*rto_secs),
                dur(*rpo_secs),
                if *read_only { ", read-only" } else { "" }
            ),
        ),
        Event::StepStarted {
            step,
            title,
            target_secs,
        } => (
            Some(step.clone()),
            format!("{title} (target {})", dur(*target_secs)),
        ),
        Event::ChecklistTicked {
            step, text, ticked, ..
        } => (
            Some(step.clone()),
            format!("{} \"{text}\"", if *ticked { "ticked" } else { "unticked" }),
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
        Event::RpoCaptured {
            step,
            seconds,
            measured_from,
            ..
        } => (
            Some(step.clone()),
            match seconds {
                Some(s) => format!("RPO {} ({measured_from})", compact(s.ceil() as u64)),
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
            format!("waiting for {condition} (timeout {})", dur(*timeout_secs)),
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
                dur(*target_secs)
            ),
        ),
        Event::Skipped { step, reason } => (Some(step.clone()), format!("skipped: {reason}")),
        Event::Retried { step } => (Some(step.clone()), "retried".into()),
        Event::TargetExceeded { step, target_secs } => (
            Some(step.clone()),
            format!("past its target of {}", dur(*target_secs)),
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
                    dur(*rto_secs)
                )
            } else {
                format!(
                    "back within the RTO: projected {} <= objective {}",
                    dur(*projected_secs),
                    dur(*rto_secs)
                )
            },
        ),
        Event::Note { text } => (None, text.clone()),
        Event::Aborted { reason } => (None, format!("aborted: {reason}")),
        Event::Resolved {
            rto_achieved_secs,
            rpo_achieved_secs,
            passed,
            ..
        } => (
            None,
            format!(
                "resolved: RTO {}, RPO {}, {}",
                rto_achieved_secs.map_or_else(|| "not measured".into(), dur),
                rpo_achieved_secs.map_or_else(|| "not measured".into(), |s| dur(s.ceil() as u64)),
                if *passed { "passed" } else { "failed" }
            ),
        ),
    }
}
