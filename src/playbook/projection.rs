//! The one projection of an incident's event stream into its measures: the outage milestones,
//! the figures (RTO achieved, MTTD, time to declare, time to recover, playbook time, RPO
//! achieved), every step against its target, the resumes, and the drill success criteria.
//!
//! The engine's scorecard, `warroom report` and `warroom history` all compute their figures here,
//! so they cannot disagree. Pure: it folds `(session time, wall time, event)` triples; it never
//! reads a clock. Session time is the engine's clock (simulated time in drills), wall time the
//! real UTC time the event was written (the same as session time for live incidents and v1
//! journals). Figures are measured in session time; the real date and duration use wall time.
//!
//! Definitions (`../shared/MEASURES.md`):
//!
//! | figure | from -> to |
//! |---|---|
//! | RTO achieved | disrupted -> service restored |
//! | MTTD | disrupted -> detected |
//! | time to declare | disrupted -> declared (negative: declared before the disruption) |
//! | time to recover | declared -> service restored (negative: restored before the declaration) |
//! | playbook time | declared -> resolved |
//! | RPO achieved | the committed writes the recovered database lacks: `(window_from, window_to]` |

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::engine::{Criterion, Event, Grade, Outcome, SpeedReason, Timing};
use super::model::Playbook;
use crate::duration::Dur;

/// One-line definitions, printed next to each figure (scorecard, report).
pub const DEF_RTO: &str = "disrupted -> service restored: how long the service was out";
pub const DEF_MTTD: &str = "disrupted -> detected: until the first alarm-level reading";
pub const DEF_DECLARE: &str = "disrupted -> declared";
pub const DEF_RECOVER: &str = "declared -> service restored";
pub const DEF_PLAYBOOK: &str = "declared -> resolved: the checklist walk";
pub const DEF_RPO: &str = "committed writes the recovered database does not have";

/// Durations are printed by [`crate::duration`] only (one style everywhere).
pub use crate::duration::{rpo_span, span};

/// A clock speed: `60x`, `1x`, `0.5x` (simulated seconds per wall second).
pub fn speed_label(speed: f64) -> String {
    if (speed - speed.round()).abs() < 1e-9 {
        format!("{}x", speed.round())
    } else {
        format!("{speed:.2}x")
    }
}

/// `10:00:00.0` style time with tenths, UTC, for data-loss windows.
pub fn window_time(t: DateTime<Utc>) -> String {
    format!(
        "{}.{}",
        t.format("%Y-%m-%d %H:%M:%S"),
        t.timestamp_subsec_millis() / 100
    )
}

/// `4.7 MiB of WAL` (binary units, one decimal), `812 B of WAL`.
pub fn bytes_text(b: u64) -> String {
    const UNITS: [&str; 4] = ["KiB", "MiB", "GiB", "TiB"];
    if b < 1024 {
        return format!("{b} B of WAL");
    }
    let mut v = b as f64 / 1024.0;
    let mut unit = 0;
    while v >= 1024.0 && unit + 1 < UNITS.len() {
        v /= 1024.0;
        unit += 1;
    }
    format!("{v:.1} {} of WAL", UNITS[unit])
}

/// Whole seconds from `from` to `to`, as the difference of the two instants' whole seconds
/// (each shown as `HH:MM:SS`): a figure always equals the difference of the times on screen,
/// never one second off it because both carried fractions.
fn secs_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from(to.timestamp() - from.timestamp()).unwrap_or(0)
}

/// What the projection needs from the plan: the objectives and the steps in order.
#[derive(Debug, Clone, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Plan {
    pub rto_secs: u64,
    pub rpo_secs: u64,
    pub steps: Vec<PlanStep>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PlanStep {
    pub id: String,
    pub title: String,
    pub target_secs: u64,
    /// It verifies something (a wait or `backup.verify`).
    pub verification: bool,
    pub captures_rpo: bool,
    /// Its completion restores service.
    #[serde(default)]
    pub restores_service: bool,
}

impl Plan {
    /// The plan of a playbook, measured against `rto` and `rpo`.
    pub fn of(playbook: &Playbook, rto: Dur, rpo: Dur) -> Plan {
        Plan {
            rto_secs: rto.secs(),
            rpo_secs: rpo.secs(),
            steps: playbook
                .steps
                .iter()
                .map(|s| PlanStep {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    target_secs: s.target.secs(),
                    verification: s.is_verification(),
                    captures_rpo: s.capture_rpo,
                    restores_service: s.restores_service,
                })
                .collect(),
        }
    }
}

/// The outage's start, as recorded (the latest `disrupted` counts).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Disruption {
    /// Session time.
    pub at: DateTime<Utc>,
    pub evidence: String,
    /// The commander's reason, when they set or corrected it.
    pub reason: Option<String>,
    pub by: Option<String>,
}

/// A milestone read from telemetry: when, and the reading.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detection {
    pub at: DateTime<Utc>,
    pub evidence: String,
}

/// Service restored: when the restoring step's condition held (session time), and the step.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Restoration {
    pub at: DateTime<Utc>,
    pub step: String,
}

/// Drills: the first fault injected.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct FaultRecord {
    pub fault: String,
    pub at: DateTime<Utc>,
}

/// The data lost, as captured.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoRecord {
    /// The step that captured it.
    pub step: String,
    /// `None` when it could not be measured (`measured_from` says why).
    pub seconds: Option<f64>,
    /// Bytes of WAL, where known.
    pub bytes: Option<u64>,
    /// The lost window `(from, to]` (session time).
    pub window_from: Option<DateTime<Utc>>,
    pub window_to: Option<DateTime<Utc>>,
    /// What it was measured from, or why not.
    pub measured_from: String,
    /// When it was captured.
    pub at: DateTime<Utc>,
}

/// The restore point chosen when a restore step was confirmed (`restore_point_chosen`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePointRecord {
    pub step: String,
    /// As written: `before-corruption`, `latest-verified-backup` or a time.
    pub choice: String,
    /// The restored database keeps the writes committed before it (session time).
    pub point: DateTime<Utc>,
    /// `backup` or `point-in-time (backup + WAL replay)`.
    pub basis: String,
    pub backup_at: DateTime<Utc>,
    pub onset: Option<DateTime<Utc>>,
    /// Onset minus point: the data this restore loses.
    pub loss_secs: Option<f64>,
    /// Who chose it (confirmed the step).
    pub by: String,
    /// Chosen in the console's restore-point picker (else the playbook's `to`).
    #[serde(default)]
    pub picked: bool,
    /// When (session time).
    pub at: DateTime<Utc>,
}

impl RestorePointRecord {
    /// Where the choice was made: the picker or the playbook.
    pub fn origin(&self) -> &'static str {
        if self.picked {
            "in the console's restore-point picker"
        } else {
            "the playbook's `to`"
        }
    }
}

/// How the console stopped before a resume, when it said so (`console_closed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StopRecord {
    /// Wall-clock time of the `console_closed` event.
    pub wall: DateTime<Utc>,
    /// The operator of the console that closed.
    pub by: String,
    /// The signal that ended it; `None`: its operator quit.
    pub signal: Option<String>,
}

/// A stop and resume of the console.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResumeRecord {
    /// How the console stopped, when the journal says (`console_closed` before the resume);
    /// `None`: a crash or a kill that left no word.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub stopped: Option<StopRecord>,
    /// Session time of the `resumed` event.
    pub at: DateTime<Utc>,
    /// Wall-clock time of the `resumed` event.
    pub wall: DateTime<Utc>,
    /// Wall-clock seconds the console was away.
    pub gap_secs: u64,
    pub host: String,
    pub operator: String,
    pub pid: u32,
}

/// A reminder of the comms cadence done or missed (`reminder_done`, `reminder_missed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ReminderRecord {
    pub text: String,
    /// The occurrence (the `n`-th time it fell due); for a miss, the last one missed.
    pub occurrence: u32,
    /// When that occurrence fell due (session time).
    pub due: DateTime<Utc>,
    /// Session time of the record: when it was done, or when the miss was noticed.
    pub at: DateTime<Utc>,
    pub outcome: ReminderOutcome,
}

/// What became of a reminder's occurrence.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum ReminderOutcome {
    /// Done, this many seconds after it fell due (0: on time or early).
    Done { late_secs: u64 },
    /// A whole period passed without it: this many occurrences missed.
    Missed { missed: u32 },
}

/// A pause of the simulated clock (`clock_paused` .. `clock_resumed`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct PauseRecord {
    /// Session time it stopped at (and resumed from).
    pub at: DateTime<Utc>,
    /// Wall-clock time it began.
    pub wall: DateTime<Utc>,
    /// Wall-clock seconds it lasted: `clock_resumed.paused_secs`; while it lasts, to the
    /// record's last event.
    pub wall_secs: u64,
    /// Still paused at the end of the record.
    pub open: bool,
}

/// A fast-forwarded wait (`speed_changed` with `fast_forward`, until the speed came back).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FastForwardRecord {
    /// The step whose wait it was.
    pub step: Option<String>,
    /// Session and wall-clock time it began.
    pub at: DateTime<Utc>,
    pub wall: DateTime<Utc>,
    /// The speed before, and during.
    pub from: f64,
    pub to: f64,
    /// Session and wall-clock time the speed came back, and why; `None` while it lasts.
    pub ended_at: Option<DateTime<Utc>>,
    pub ended_wall: Option<DateTime<Utc>>,
    pub ended: Option<SpeedReason>,
}

impl FastForwardRecord {
    /// Simulated seconds it covered (to the end of the record while it lasts: `end`).
    pub fn session_secs(&self, end: DateTime<Utc>) -> u64 {
        secs_between(self.at, self.ended_at.unwrap_or(end))
    }

    /// Wall-clock seconds it took.
    pub fn wall_secs(&self, end_wall: DateTime<Utc>) -> u64 {
        secs_between(self.wall, self.ended_wall.unwrap_or(end_wall))
    }
}

/// One step: target against actual.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct StepRecord {
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
    /// Start to finish; for an unfinished step, to the end of the record. `None` if never
    /// started.
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
    /// It ran past its target (`target_exceeded` recorded, or its actual time says so).
    pub over_target: bool,
    /// Checklist items marked not applicable (and not made applicable again), in item order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub not_applicable: Vec<NotApplicableItem>,
}

/// A checklist item the operator marked not applicable, with why.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct NotApplicableItem {
    /// The item's index, from 0.
    pub item: usize,
    pub text: String,
    pub reason: String,
}

impl StepRecord {
    fn new(id: &str, title: &str, target: u64) -> StepRecord {
        StepRecord {
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
            not_applicable: Vec::new(),
        }
    }
}

/// A figure with its one-line definition, as printed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Figure {
    /// `RTO achieved`.
    pub name: String,
    /// `19m30s`, `declared 2m00s before the fault`, `not measured: ...`.
    pub value: String,
    /// [`DEF_RTO`] and friends.
    pub definition: String,
}

/// Everything measured from an incident's events.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Measures {
    pub rto_objective_secs: u64,
    pub rpo_objective_secs: u64,
    /// Drills: the first fault injected.
    pub fault: Option<FaultRecord>,
    pub disrupted: Option<Disruption>,
    pub detected: Option<Detection>,
    pub declared_at: Option<DateTime<Utc>>,
    pub restored: Option<Restoration>,
    /// Resolved or aborted (session time).
    pub ended_at: Option<DateTime<Utc>>,
    pub resolved: bool,
    pub aborted: Option<String>,
    /// Wall clock: the declaration (or the first event) and the end (or the last event).
    pub wall_started_at: Option<DateTime<Utc>>,
    pub wall_ended_at: Option<DateTime<Utc>>,
    /// RTO achieved: disrupted -> service restored.
    pub rto_achieved_secs: Option<u64>,
    /// Disrupted -> detected.
    pub mttd_secs: Option<u64>,
    /// Disrupted -> declared; negative when declared before the disruption.
    pub time_to_declare_secs: Option<i64>,
    /// Declared -> service restored; negative when restored (by automation) before it.
    pub time_to_recover_secs: Option<i64>,
    /// Declared -> resolved; while unfinished, to the end of the record.
    pub playbook_secs: Option<u64>,
    pub rpo: Option<RpoRecord>,
    /// The restore point chosen, the last one when a restore was retried.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub restore_point: Option<RestorePointRecord>,
    pub steps: Vec<StepRecord>,
    /// Steps that ran past their target.
    pub steps_over_target: usize,
    pub resumes: Vec<ResumeRecord>,
    /// Completed, RTO achieved < objective, RPO achieved < objective, every verification
    /// passed, no step failed.
    pub criteria: Vec<Criterion>,
    /// No criterion failed.
    pub passed: bool,
    /// What `resolved` recorded as `passed`, to cross-check.
    pub recorded_passed: Option<bool>,
    /// The record predates the outage milestones (a v1 journal without them).
    #[serde(default)]
    pub legacy: bool,
    /// Every pause of the simulated clock, in order. Paused time is in no figure: session time
    /// stands still while paused.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub pauses: Vec<PauseRecord>,
    /// Every fast-forwarded wait, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub fast_forwards: Vec<FastForwardRecord>,
    /// Every reminder of the comms cadence done or missed, in order.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub reminders: Vec<ReminderRecord>,
}

impl Measures {
    /// Wall-clock seconds the simulated clock was paused, every pause together.
    pub fn paused_secs(&self) -> u64 {
        self.pauses.iter().map(|p| p.wall_secs).sum()
    }

    /// `paused 2 times, 4m10s; fast-forwarded 3 waits`; `None` when the clock was neither
    /// paused nor fast-forwarded.
    pub fn pace_summary(&self) -> Option<String> {
        let mut parts = Vec::new();
        match self.pauses.len() {
            0 => {}
            n => parts.push(format!(
                "paused {} {}, {}{}",
                n,
                if n == 1 { "time" } else { "times" },
                span(self.paused_secs()),
                if self.pauses.iter().any(|p| p.open) {
                    " (still paused)"
                } else {
                    ""
                }
            )),
        }
        match self.fast_forwards.len() {
            0 => {}
            n => parts.push(format!(
                "fast-forwarded {} {}",
                n,
                if n == 1 { "wait" } else { "waits" }
            )),
        }
        (!parts.is_empty()).then(|| parts.join("; "))
    }

    /// Real duration: wall clock from the declaration (or the first event) to the end (or the
    /// last event).
    pub fn wall_secs(&self) -> Option<u64> {
        self.wall_started_at
            .zip(self.wall_ended_at)
            .map(|(a, b)| secs_between(a, b))
    }

    /// The figures, in order, each with its definition.
    pub fn figures(&self) -> Vec<Figure> {
        let fig = |name: &str, value: String, definition: &str| Figure {
            name: name.into(),
            value,
            definition: definition.into(),
        };
        let before = if self.fault.is_some() {
            "the fault"
        } else {
            "the disruption"
        };
        let rto = match (self.rto_achieved_secs, &self.restored, &self.disrupted) {
            (Some(a), _, _) if self.time_to_recover_secs.is_some_and(|r| r < 0) => {
                format!("{} (met by automation, before the declaration)", span(a))
            }
            (Some(a), _, _) => span(a),
            (None, Some(_), None) => "not measured: the disruption's start is unknown".into(),
            (None, None, _) if self.legacy => {
                "not recorded: the journal predates the service_restored milestone".into()
            }
            (None, _, _) => "service not restored".into(),
        };
        let mttd = match (self.mttd_secs, &self.disrupted) {
            (Some(m), _) => span(m),
            (None, None) => "not measured: the disruption's start is unknown".into(),
            (None, Some(_)) => "no alarm-level reading recorded".into(),
        };
        let declare = match self.time_to_declare_secs {
            Some(d) if d < 0 => format!("declared {} before {before}", span(d.unsigned_abs())),
            Some(d) => span(d.unsigned_abs()),
            None if self.declared_at.is_none() => "not declared".into(),
            None => "not measured: the disruption's start is unknown".into(),
        };
        let recover = match self.time_to_recover_secs {
            Some(r) if r < 0 => format!(
                "service restored {} before the declaration (by automation)",
                span(r.unsigned_abs())
            ),
            Some(r) => span(r.unsigned_abs()),
            None if self.declared_at.is_none() => "not declared".into(),
            None if self.legacy => "not recorded (the journal predates the milestone)".into(),
            None => "service not restored".into(),
        };
        let playbook = match (self.playbook_secs, self.ended_at) {
            (Some(p), Some(_)) => span(p),
            (Some(p), None) => format!("{} so far", span(p)),
            (None, _) => "not declared".into(),
        };
        vec![
            fig("RTO achieved", rto, DEF_RTO),
            fig("MTTD", mttd, DEF_MTTD),
            fig("Time to declare", declare, DEF_DECLARE),
            fig("Time to recover", recover, DEF_RECOVER),
            fig("Playbook time", playbook, DEF_PLAYBOOK),
            fig("RPO achieved", self.rpo_text(), DEF_RPO),
        ]
    }

    /// `3.4s, window 09:59:56.6 - 10:00:00.0 UTC, 5.1 MB (writes ... ; simulator)`.
    pub fn rpo_text(&self) -> String {
        let Some(r) = &self.rpo else {
            return "not captured".into();
        };
        let Some(secs) = r.seconds else {
            return format!("not measured: {}", r.measured_from);
        };
        let mut out = rpo_span(secs);
        if let (Some(from), Some(to)) = (r.window_from, r.window_to) {
            out.push_str(&format!(
                ", window {} - {} UTC",
                window_time(from),
                window_time(to)
            ));
        }
        if let Some(b) = r.bytes {
            out.push_str(&format!(", {}", bytes_text(b)));
        }
        out.push_str(&format!(" ({})", r.measured_from));
        out
    }
}

/// The fold. Feed it every event in order with [`Projection::apply`]; read it with
/// [`Projection::measures`].
#[derive(Debug, Clone, Default)]
pub struct Projection {
    plan: Plan,
    order: Vec<String>,
    steps: Vec<StepRecord>,
    fault: Option<FaultRecord>,
    disrupted: Option<Disruption>,
    detected: Option<Detection>,
    declared_at: Option<DateTime<Utc>>,
    declared_wall: Option<DateTime<Utc>>,
    restored: Option<Restoration>,
    ended_at: Option<DateTime<Utc>>,
    ended_wall: Option<DateTime<Utc>>,
    resolved: bool,
    aborted: Option<String>,
    rpo: Option<RpoRecord>,
    restore_point: Option<RestorePointRecord>,
    resumes: Vec<ResumeRecord>,
    /// The last `console_closed` not yet followed by a `resumed`.
    closed: Option<StopRecord>,
    recorded_passed: Option<bool>,
    first: Option<(DateTime<Utc>, DateTime<Utc>)>,
    last: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The record may predate the milestones (a v1 journal).
    legacy: bool,
    saw_milestone: bool,
    pauses: Vec<PauseRecord>,
    fast_forwards: Vec<FastForwardRecord>,
    reminders: Vec<ReminderRecord>,
}

impl Projection {
    pub fn new(plan: Plan) -> Projection {
        let steps: Vec<StepRecord> = plan
            .steps
            .iter()
            .map(|p| {
                let mut s = StepRecord::new(&p.id, &p.title, p.target_secs);
                s.verification = p.verification;
                s
            })
            .collect();
        Projection {
            order: steps.iter().map(|s| s.id.clone()).collect(),
            steps,
            plan,
            ..Projection::default()
        }
    }

    /// Folds every `(session, wall, event)` of a record.
    pub fn of<'a>(
        plan: Plan,
        events: impl IntoIterator<Item = (DateTime<Utc>, DateTime<Utc>, &'a Event)>,
    ) -> Projection {
        let mut p = Projection::new(plan);
        for (at, wall, event) in events {
            p.apply(at, wall, event);
        }
        p
    }

    /// The record may predate the outage milestones (a v1 journal): when it has none, a
    /// drill's disruption is its first fault (the definition), and RTO achieved is "not
    /// recorded" (not applicable) instead of "never restored" (a failure).
    pub fn legacy(mut self, legacy: bool) -> Projection {
        self.legacy = legacy;
        self
    }

    pub fn plan(&self) -> &Plan {
        &self.plan
    }

    /// The session time of the last event folded.
    pub fn last_at(&self) -> Option<DateTime<Utc>> {
        self.last.map(|(at, _)| at)
    }

    fn step(&mut self, id: &str, title: Option<&str>, target: Option<u64>) -> &mut StepRecord {
        let i = match self.order.iter().position(|s| s == id) {
            Some(i) => i,
            None => {
                // A step the plan lacks (a journal without one): added as events name it.
                self.order.push(id.to_string());
                self.steps.push(StepRecord::new(
                    id,
                    title.unwrap_or(id),
                    target.unwrap_or(0),
                ));
                self.steps.len() - 1
            }
        };
        &mut self.steps[i]
    }

    /// Folds one event recorded at session time `at` and wall-clock time `wall`.
    pub fn apply(&mut self, at: DateTime<Utc>, wall: DateTime<Utc>, event: &Event) {
        self.first.get_or_insert((at, wall));
        self.last = Some((at, wall));
        self.saw_milestone |= matches!(
            event,
            Event::Disrupted { .. } | Event::Detected { .. } | Event::ServiceRestored { .. }
        );
        match event {
            Event::FaultInjected { fault } => {
                if self.fault.is_none() {
                    self.fault = Some(FaultRecord {
                        fault: fault.clone(),
                        at,
                    });
                }
            }
            Event::Disrupted {
                since,
                evidence,
                reason,
                by,
            } => {
                self.disrupted = Some(Disruption {
                    at: *since,
                    evidence: evidence.clone(),
                    reason: reason.clone(),
                    by: by.clone(),
                });
            }
            Event::Detected { since, evidence } => {
                if self.detected.is_none() {
                    self.detected = Some(Detection {
                        at: *since,
                        evidence: evidence.clone(),
                    });
                }
            }
            Event::ServiceRestored { step, since } => {
                if self.restored.is_none() {
                    self.restored = Some(Restoration {
                        at: *since,
                        step: step.clone(),
                    });
                }
            }
            Event::ConsoleClosed { by, signal } => {
                self.closed = Some(StopRecord {
                    wall,
                    by: by.clone(),
                    signal: signal.clone(),
                });
            }
            Event::Resumed {
                gap_secs,
                host,
                operator,
                pid,
            } => self.resumes.push(ResumeRecord {
                stopped: self.closed.take(),
                at,
                wall,
                gap_secs: *gap_secs,
                host: host.clone(),
                operator: operator.clone(),
                pid: *pid,
            }),
            Event::Declared {
                rto_secs, rpo_secs, ..
            } => {
                self.declared_at = Some(at);
                self.declared_wall = Some(wall);
                self.plan.rto_secs = *rto_secs;
                self.plan.rpo_secs = *rpo_secs;
            }
            Event::StepStarted {
                step,
                title,
                target_secs,
            } => {
                let s = self.step(step, Some(title), Some(*target_secs));
                s.title.clone_from(title);
                s.target_secs = *target_secs;
                s.status = "active".into();
                s.started_at = Some(at);
                s.finished_at = None;
            }
            Event::MessageEdited { step, .. } => {
                self.step(step, None, None);
            }
            Event::ChecklistTicked { step, item, .. }
            | Event::ItemApplicable { step, item, .. } => {
                // Ticking or unticking an item replaces a not-applicable mark.
                self.step(step, None, None)
                    .not_applicable
                    .retain(|n| n.item != *item);
            }
            Event::ItemNotApplicable {
                step,
                item,
                text,
                reason,
            } => {
                let list = &mut self.step(step, None, None).not_applicable;
                list.retain(|n| n.item != *item);
                let at = list.partition_point(|n| n.item < *item);
                list.insert(
                    at,
                    NotApplicableItem {
                        item: *item,
                        text: text.clone(),
                        reason: reason.clone(),
                    },
                );
            }
            Event::ConfirmRequested { step, command } => {
                let s = self.step(step, None, None);
                s.status = "awaiting-confirm".into();
                s.command = Some(command.clone());
            }
            Event::ConfirmCancelled { step } => {
                self.step(step, None, None).status = "active".into();
            }
            Event::Confirmed {
                step,
                attempt,
                command,
                ..
            } => {
                let s = self.step(step, None, None);
                s.status = "running".into();
                s.attempts = *attempt;
                s.command = Some(command.clone());
            }
            Event::RestorePointChosen {
                step,
                choice,
                point,
                basis,
                backup_at,
                onset,
                loss_secs,
                by,
                picked,
            } => {
                self.step(step, None, None);
                self.restore_point = Some(RestorePointRecord {
                    picked: *picked,
                    step: step.clone(),
                    choice: choice.to_string(),
                    point: *point,
                    basis: basis.label().to_string(),
                    backup_at: *backup_at,
                    onset: *onset,
                    loss_secs: *loss_secs,
                    by: by.clone(),
                    at,
                });
            }
            Event::RpoCaptured {
                step,
                seconds,
                bytes,
                window_from,
                window_to,
                measured_from,
            } => {
                self.step(step, None, None);
                self.rpo = Some(RpoRecord {
                    step: step.clone(),
                    seconds: *seconds,
                    bytes: *bytes,
                    window_from: *window_from,
                    window_to: *window_to,
                    measured_from: measured_from.clone(),
                    at,
                });
            }
            Event::Output { step, .. } => {
                self.step(step, None, None);
            }
            Event::Verifying { step, .. } => {
                let s = self.step(step, None, None);
                s.status = "verifying".into();
                s.verification = true;
            }
            Event::StepFinished {
                step,
                outcome,
                detail,
                verified,
                elapsed_secs,
                target_secs,
            } => {
                let s = self.step(step, None, None);
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
            Event::Skipped { step, reason } => {
                let s = self.step(step, None, None);
                s.status = "skipped".into();
                s.reason = Some(reason.clone());
                s.verified = false;
                s.finished_at = s.started_at.map(|_| at);
                s.actual_secs = s.started_at.map(|st| secs_between(st, at));
            }
            Event::Retried { step } => {
                for s in &mut self.steps {
                    if s.id != *step && s.status == "active" {
                        s.status = "pending".into();
                    }
                }
                let s = self.step(step, None, None);
                s.status = "active".into();
                s.finished_at = None;
                s.actual_secs = None;
                s.verified = false;
                s.reason = None;
            }
            Event::TargetExceeded { step, .. } => {
                self.step(step, None, None).over_target = true;
            }
            Event::Aborted { reason } => {
                self.end_fast_forward(at, wall);
                self.aborted = Some(reason.clone());
                self.ended_at = Some(at);
                self.ended_wall = Some(wall);
            }
            Event::Resolved { passed, .. } => {
                self.end_fast_forward(at, wall);
                self.resolved = true;
                self.ended_at = Some(at);
                self.ended_wall = Some(wall);
                self.recorded_passed = Some(*passed);
            }
            Event::ClockPaused {} => {
                if !self.pauses.last().is_some_and(|p| p.open) {
                    self.pauses.push(PauseRecord {
                        at,
                        wall,
                        wall_secs: 0,
                        open: true,
                    });
                }
            }
            Event::ClockResumed { paused_secs } => {
                if let Some(p) = self.pauses.last_mut().filter(|p| p.open) {
                    p.open = false;
                    p.wall_secs = *paused_secs;
                }
            }
            Event::SpeedChanged {
                from,
                to,
                reason,
                step,
            } => match reason {
                SpeedReason::FastForward => self.fast_forwards.push(FastForwardRecord {
                    step: step.clone(),
                    at,
                    wall,
                    from: *from,
                    to: *to,
                    ended_at: None,
                    ended_wall: None,
                    ended: None,
                }),
                SpeedReason::WaitOver | SpeedReason::Cancelled | SpeedReason::Resumed => {
                    if let Some(f) = self.fast_forwards.last_mut().filter(|f| f.ended.is_none()) {
                        f.ended_at = Some(at);
                        f.ended_wall = Some(wall);
                        f.ended = Some(*reason);
                    }
                }
            },
            Event::ReminderDone {
                text,
                occurrence,
                due,
                late_secs,
            } => self.reminders.push(ReminderRecord {
                text: text.clone(),
                occurrence: *occurrence,
                due: *due,
                at,
                outcome: ReminderOutcome::Done {
                    late_secs: *late_secs,
                },
            }),
            Event::ReminderMissed {
                text,
                occurrence,
                due,
                missed,
            } => self.reminders.push(ReminderRecord {
                text: text.clone(),
                occurrence: *occurrence,
                due: *due,
                at,
                outcome: ReminderOutcome::Missed { missed: *missed },
            }),
            Event::RtoRisk { .. }
            | Event::FailoverPaused { .. }
            | Event::FailoverResumed { .. }
            | Event::FailoverLeftPaused { .. }
            | Event::AbortHeld { .. }
            | Event::Note { .. }
            | Event::SharedNote { .. }
            | Event::RequestRefused { .. }
            | Event::ApprovalArmed { .. }
            | Event::Approved { .. } => {}
        }
    }

    /// A fast-forwarded wait still open when the incident ends (its wait was the last step's)
    /// ends with it: nothing is recorded after the end.
    fn end_fast_forward(&mut self, at: DateTime<Utc>, wall: DateTime<Utc>) {
        if let Some(f) = self.fast_forwards.last_mut().filter(|f| f.ended.is_none()) {
            f.ended_at = Some(at);
            f.ended_wall = Some(wall);
            f.ended = Some(SpeedReason::WaitOver);
        }
    }

    /// The measures as of the record's end: an unfinished step or incident is measured to
    /// `now` (the engine's clock), or to the last event when `now` is `None` (a report).
    pub fn measures(&self, now: Option<DateTime<Utc>>) -> Measures {
        let end = self.ended_at.or(now).or(self.last_at());
        let mut steps = self.steps.clone();
        for r in &mut steps {
            if r.actual_secs.is_none()
                && r.status != "skipped"
                && let (Some(st), Some(end)) = (r.started_at, end)
            {
                r.actual_secs = Some(secs_between(st, end));
            }
            // A pre-skipped step never started: no actual time.
            if r.status == "skipped" && r.started_at.is_none() {
                r.actual_secs = None;
            }
            // An ended step is on time or over, as the console's scorecard says; "at risk" is
            // for a step still under way.
            let ended = r.finished_at.is_some();
            r.timing = r.actual_secs.map(|a| {
                let target = Dur::from_secs(r.target_secs);
                if ended {
                    Timing::finished(a, target)
                } else {
                    Timing::of(a, target)
                }
            });
            r.over_target |= r.timing == Some(Timing::Over);
        }
        let legacy = self.legacy && !self.saw_milestone;
        let disruption = self.disrupted.clone().or_else(|| {
            let f = self.fault.as_ref().filter(|_| legacy)?;
            Some(Disruption {
                at: f.at,
                evidence: format!(
                    "fault {} injected (the journal predates the disrupted milestone)",
                    f.fault
                ),
                reason: None,
                by: None,
            })
        });
        let disrupted = disruption.as_ref().map(|d| d.at);
        let signed = |from: DateTime<Utc>, to: DateTime<Utc>| to.timestamp() - from.timestamp();
        let restored = self.restored.as_ref().map(|r| r.at);
        // A disruption recorded after its own alarm or after the restore (a crafted or
        // inconsistent record) measures nothing: never 0, which would pass an objective.
        let rto_achieved = disrupted
            .zip(restored)
            .filter(|(d, r)| d <= r)
            .map(|(d, r)| secs_between(d, r));
        let mttd = disrupted
            .zip(self.detected.as_ref().map(|d| d.at))
            .filter(|(d, t)| d <= t)
            .map(|(d, t)| secs_between(d, t));
        let time_to_declare = disrupted
            .zip(self.declared_at)
            .map(|(d, decl)| signed(d, decl));
        let time_to_recover = self
            .declared_at
            .zip(restored)
            .map(|(decl, r)| signed(decl, r));
        let playbook = self.declared_at.zip(end).map(|(d, e)| secs_between(d, e));
        let wall_started = self.declared_wall.or(self.first.map(|(_, w)| w));
        let wall_ended = self.ended_wall.or(self.last.map(|(_, w)| w));
        let mut m = Measures {
            rto_objective_secs: self.plan.rto_secs,
            rpo_objective_secs: self.plan.rpo_secs,
            fault: self.fault.clone(),
            disrupted: disruption,
            detected: self.detected.clone(),
            declared_at: self.declared_at,
            restored: self.restored.clone(),
            ended_at: self.ended_at,
            resolved: self.resolved,
            aborted: self.aborted.clone(),
            wall_started_at: wall_started,
            wall_ended_at: wall_ended,
            rto_achieved_secs: rto_achieved,
            mttd_secs: mttd,
            time_to_declare_secs: time_to_declare,
            time_to_recover_secs: time_to_recover,
            playbook_secs: playbook,
            rpo: self.rpo.clone(),
            restore_point: self.restore_point.clone(),
            steps_over_target: steps.iter().filter(|s| s.over_target).count(),
            steps,
            resumes: self.resumes.clone(),
            criteria: Vec::new(),
            passed: false,
            recorded_passed: self.recorded_passed,
            legacy,
            pauses: self.pauses.clone(),
            fast_forwards: self.fast_forwards.clone(),
            reminders: self.reminders.clone(),
        };
        // A pause still open at the end of the record lasts to its last event (wall clock).
        if let Some((p, (_, last_wall))) = m.pauses.last_mut().filter(|p| p.open).zip(self.last) {
            p.wall_secs = secs_between(p.wall, last_wall);
        }
        m.criteria = criteria(&m, &self.plan);
        m.passed = m.criteria.iter().all(|c| c.verdict != Grade::Fail);
        m
    }
}

fn grade(ok: bool) -> Grade {
    if ok { Grade::Pass } else { Grade::Fail }
}

/// The drill success criteria: the one place they are written.
fn criteria(m: &Measures, plan: &Plan) -> Vec<Criterion> {
    let mut out = Vec::new();
    out.push(Criterion {
        name: "completed".into(),
        verdict: grade(m.resolved),
        detail: match (&m.aborted, m.resolved) {
            (Some(why), _) => format!("aborted: {why}"),
            (None, true) => "every step done or skipped".into(),
            (None, false) => "not finished".into(),
        },
    });
    let objective = Dur::from_secs(m.rto_objective_secs);
    out.push(match (m.rto_achieved_secs, &m.restored) {
        (Some(a), _) => Criterion {
            name: "RTO < objective".into(),
            verdict: grade(a < m.rto_objective_secs),
            detail: format!(
                "{} disrupted -> service restored{} / {objective} objective",
                span(a),
                if m.time_to_recover_secs.is_some_and(|r| r < 0) {
                    " (met by automation, before the declaration)"
                } else {
                    ""
                }
            ),
        },
        (None, Some(_)) => Criterion {
            name: "RTO < objective".into(),
            verdict: Grade::Fail,
            detail: "not measured: the disruption's start is unknown (the commander can set it)"
                .into(),
        },
        (None, None) if m.legacy => Criterion {
            name: "RTO < objective".into(),
            verdict: Grade::NotApplicable,
            detail: format!(
                "not recorded: the journal predates the service_restored milestone (playbook \
                 time {})",
                m.playbook_secs.map_or_else(|| "unknown".into(), span)
            ),
        },
        // Never restored: the outage has no end, so the objective cannot have been met.
        (None, None) => Criterion {
            name: "RTO < objective".into(),
            verdict: Grade::Fail,
            detail: "service never restored: the step that restores it was not done".into(),
        },
    });
    let name = "RPO < objective".to_string();
    let captures = plan.steps.iter().any(|s| s.captures_rpo);
    let rpo_objective = Dur::from_secs(m.rpo_objective_secs);
    out.push(match &m.rpo {
        Some(RpoRecord {
            seconds: Some(secs),
            measured_from,
            ..
        }) => Criterion {
            name,
            verdict: grade(*secs < m.rpo_objective_secs as f64),
            detail: format!(
                "{} ({measured_from}) / {rpo_objective} objective",
                rpo_span(*secs)
            ),
        },
        Some(RpoRecord { measured_from, .. }) => Criterion {
            name,
            verdict: Grade::Fail,
            detail: format!("not measured: {measured_from}"),
        },
        None if captures => Criterion {
            name,
            verdict: Grade::Fail,
            detail: "not measured: the capturing step never ran".into(),
        },
        None => Criterion {
            name,
            verdict: Grade::NotApplicable,
            detail: "no step captures the RPO".into(),
        },
    });
    let verifications = m.steps.iter().filter(|s| s.verification).count();
    let unverified: Vec<&str> = m
        .steps
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
    let failed: Vec<&str> = m
        .steps
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

#[cfg(test)]
mod tests {
    //! The worked cases of `MEASURES.md`, with their exact numbers.
    use super::*;
    use chrono::{TimeDelta, TimeZone};

    /// A figure equals the difference of the two times as shown (`HH:MM:SS`): the outage began
    /// at 10:00:26.9 and the first alarm came at 10:00:41.2; the timeline shows 10:00:26 and
    /// 10:00:41, so MTTD reads 15s (14.3 s truncated read 14s, one second off the screen).
    #[test]
    fn figures_agree_with_the_times_shown() {
        let base = Utc
            .with_ymd_and_hms(2026, 11, 26, 10, 0, 26)
            .single()
            .expect("date");
        let began = base + TimeDelta::milliseconds(900);
        let alarm = base + TimeDelta::milliseconds(15_200);
        let shown = |t: DateTime<Utc>| t.format("%H:%M:%S").to_string();
        assert_eq!(
            (shown(began), shown(alarm)),
            ("10:00:26".into(), "10:00:41".into())
        );
        assert_eq!(secs_between(began, alarm), 15);
        assert_eq!(secs_between(alarm, began), 0, "never negative");
    }

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, s)
            .single()
            .expect("valid time")
    }

    fn plan() -> Plan {
        let step = |id: &str, restores: bool, captures: bool| PlanStep {
            id: id.into(),
            title: id.into(),
            target_secs: 600,
            verification: false,
            captures_rpo: captures,
            restores_service: restores,
        };
        Plan {
            rto_secs: 1800,
            rpo_secs: 300,
            steps: vec![
                step("promote", false, true),
                step("dns", true, false),
                step("notify", false, false),
            ],
        }
    }

    /// A resume after a quit carries how the console stopped; one after a crash does not.
    #[test]
    fn a_resume_says_how_the_console_stopped_when_the_journal_does() {
        let mut p = Projection::new(plan());
        p.apply(at(10, 0, 0), at(10, 0, 0), &declared());
        let closed = Event::ConsoleClosed {
            by: "alice".into(),
            signal: None,
        };
        p.apply(at(10, 5, 0), at(10, 5, 0), &closed);
        let resumed = || Event::Resumed {
            gap_secs: 60,
            host: "h".into(),
            operator: "bob".into(),
            pid: 1,
        };
        p.apply(at(10, 6, 0), at(10, 6, 0), &resumed());
        // A second stop with no record: a crash.
        p.apply(at(10, 9, 0), at(10, 9, 0), &resumed());
        let m = p.measures(None);
        let stopped: Vec<Option<&str>> = m
            .resumes
            .iter()
            .map(|r| r.stopped.as_ref().map(|s| s.by.as_str()))
            .collect();
        assert_eq!(stopped, [Some("alice"), None]);
        assert_eq!(
            m.resumes[0].stopped.as_ref().map(|s| s.wall),
            Some(at(10, 5, 0))
        );
    }

    fn declared() -> Event {
        Event::Declared {
            playbook: "p".into(),
            title: "p".into(),
            hash: "h".into(),
            rto_secs: 1800,
            rpo_secs: 300,
            read_only: false,
        }
    }

    fn started(step: &str) -> Event {
        Event::StepStarted {
            step: step.into(),
            title: step.into(),
            target_secs: 600,
        }
    }

    fn done(step: &str, elapsed: u64) -> Event {
        Event::StepFinished {
            step: step.into(),
            outcome: Outcome::Done,
            detail: "ok".into(),
            verified: false,
            elapsed_secs: elapsed,
            target_secs: 600,
        }
    }

    fn resolved() -> Event {
        Event::Resolved {
            rto_achieved_secs: None,
            playbook_secs: 0,
            rpo_achieved_secs: None,
            passed: true,
        }
    }

    /// Paused time counts toward no figure: a drill paused twice (4 and 1m40s of wall time),
    /// its session times read off a [`crate::clock::SessionClock`] paused at the same moments.
    #[test]
    fn paused_time_counts_toward_neither_rto_nor_step_times() {
        use crate::clock::SessionClock;
        use std::time::{Duration, Instant};
        let w0 = Instant::now();
        let origin = at(10, 0, 0);
        let clock = SessionClock::new(w0, origin, 1.0);
        let wall = |s: u64| w0 + Duration::from_secs(s);
        let mut events: Vec<(DateTime<Utc>, DateTime<Utc>, Event)> = Vec::new();
        let mut push = |clock: &SessionClock, s: u64, e: Event| {
            events.push((clock.at(wall(s)), origin + TimeDelta::seconds(s as i64), e));
        };
        push(
            &clock,
            0,
            Event::FaultInjected {
                fault: "region-loss".into(),
            },
        );
        push(
            &clock,
            0,
            Event::Disrupted {
                since: origin,
                evidence: "fault".into(),
                reason: None,
                by: None,
            },
        );
        push(&clock, 60, declared());
        push(&clock, 60, started("promote"));
        clock.pause_at(wall(120));
        push(&clock, 120, Event::ClockPaused {});
        clock.resume_at(wall(360));
        push(&clock, 360, Event::ClockResumed { paused_secs: 240 });
        // The engine's elapsed time is session time: start to finish on the paused clock.
        let promote_elapsed = (clock.at(wall(420)) - clock.at(wall(60))).num_seconds() as u64;
        push(&clock, 420, done("promote", promote_elapsed));
        push(&clock, 420, started("dns"));
        let restored_since = clock.at(wall(480));
        push(
            &clock,
            480,
            Event::ServiceRestored {
                step: "dns".into(),
                since: restored_since,
            },
        );
        push(&clock, 480, done("dns", 60));
        push(&clock, 480, started("notify"));
        clock.pause_at(wall(500));
        push(&clock, 500, Event::ClockPaused {});
        clock.resume_at(wall(600));
        push(&clock, 600, Event::ClockResumed { paused_secs: 100 });
        push(
            &clock,
            650,
            Event::Note {
                text: "still notifying".into(),
            },
        );
        let p = Projection::of(plan(), events.iter().map(|(s, w, e)| (*s, *w, e)));
        // Measured to the last event: notify is still open.
        let m = p.measures(None);
        let step = |id: &str| m.steps.iter().find(|s| s.id == id).expect("step");
        assert_eq!(
            step("promote").actual_secs,
            Some(120),
            "6m on the wall, 4m paused"
        );
        // Notify: started at wall 480, paused 500-600, last event at 650: 70 s.
        assert_eq!(step("notify").actual_secs, Some(70));
        // RTO achieved: fault (wall 0) to restored (wall 480) less the 4 minutes paused.
        assert_eq!(m.rto_achieved_secs, Some(240));
        // Playbook time so far: 590 s on the wall less 340 s paused.
        assert_eq!(m.playbook_secs, Some(250));
        // The real duration is the wall clock's, pauses included, and says how much.
        assert_eq!(m.wall_secs(), Some(590));
        assert_eq!(m.paused_secs(), 340);
        assert_eq!(m.pace_summary().as_deref(), Some("paused 2 times, 5m40s"));
    }

    #[test]
    fn fast_forwards_and_an_open_pause_are_listed() {
        let t0 = at(10, 0, 0);
        let ff = |reason: SpeedReason, from: f64, to: f64| Event::SpeedChanged {
            from,
            to,
            reason,
            step: Some("promote".into()),
        };
        let events = [
            (t0, t0, declared()),
            (t0, t0, ff(SpeedReason::FastForward, 1.0, 60.0)),
            (
                t0 + TimeDelta::seconds(120),
                t0 + TimeDelta::seconds(2),
                ff(SpeedReason::WaitOver, 60.0, 1.0),
            ),
            (
                t0 + TimeDelta::seconds(130),
                t0 + TimeDelta::seconds(12),
                ff(SpeedReason::FastForward, 1.0, 60.0),
            ),
            (
                t0 + TimeDelta::seconds(190),
                t0 + TimeDelta::seconds(13),
                ff(SpeedReason::Cancelled, 60.0, 1.0),
            ),
            (
                t0 + TimeDelta::seconds(200),
                t0 + TimeDelta::seconds(23),
                Event::ClockPaused {},
            ),
            (
                t0 + TimeDelta::seconds(200),
                t0 + TimeDelta::seconds(83),
                Event::Note { text: "n".into() },
            ),
        ];
        let m = Projection::of(plan(), events.iter().map(|(s, w, e)| (*s, *w, e))).measures(None);
        assert_eq!(m.fast_forwards.len(), 2);
        assert_eq!(m.fast_forwards[0].ended, Some(SpeedReason::WaitOver));
        assert_eq!(m.fast_forwards[0].session_secs(t0), 120);
        assert_eq!(m.fast_forwards[0].wall_secs(t0), 2);
        assert_eq!(m.fast_forwards[1].ended, Some(SpeedReason::Cancelled));
        // Still paused at the last event: a minute so far.
        assert_eq!(m.pauses.len(), 1);
        assert!(m.pauses[0].open);
        assert_eq!(m.paused_secs(), 60);
        assert_eq!(
            m.pace_summary().as_deref(),
            Some("paused 1 time, 1m00s (still paused); fast-forwarded 2 waits")
        );
        assert_eq!(speed_label(60.0), "60x");
        // A fast-forward of the last step's wait ends with the incident (nothing is recorded
        // after `resolved`).
        let events = [
            (t0, t0, declared()),
            (t0, t0, ff(SpeedReason::FastForward, 1.0, 60.0)),
            (
                t0 + TimeDelta::seconds(60),
                t0 + TimeDelta::seconds(1),
                resolved(),
            ),
        ];
        let m = Projection::of(plan(), events.iter().map(|(s, w, e)| (*s, *w, e))).measures(None);
        assert_eq!(m.fast_forwards[0].ended, Some(SpeedReason::WaitOver));
        assert_eq!(m.fast_forwards[0].session_secs(t0), 60);
        assert_eq!(speed_label(0.5), "0.50x");
    }

    fn fold(events: Vec<(DateTime<Utc>, Event)>) -> Measures {
        let p = Projection::of(plan(), events.iter().map(|(t, e)| (*t, *t, e)));
        p.measures(None)
    }

    /// The region-loss fault at `fault`, the disruption it starts, and the first alarm 3 s later
    /// (the worked cases' opening).
    fn region_lost(fault: DateTime<Utc>) -> Vec<(DateTime<Utc>, Event)> {
        let alarm = fault + TimeDelta::seconds(3);
        vec![
            (
                fault,
                Event::FaultInjected {
                    fault: "region-loss".into(),
                },
            ),
            (
                fault,
                Event::Disrupted {
                    since: fault,
                    evidence: "fault region-loss injected".into(),
                    reason: None,
                    by: None,
                },
            ),
            (
                alarm,
                Event::Detected {
                    since: alarm,
                    evidence: "region primary DOWN".into(),
                },
            ),
        ]
    }

    fn figure(m: &Measures, name: &str) -> String {
        m.figures()
            .into_iter()
            .find(|f| f.name == name)
            .map(|f| f.value)
            .expect("figure")
    }

    #[test]
    fn worked_case_1_region_loss() {
        let fault = at(10, 0, 0);
        let replayed = fault - TimeDelta::milliseconds(3400);
        let mut events = region_lost(fault);
        events.extend([
            (at(10, 2, 0), declared()),
            (at(10, 2, 0), started("promote")),
            (
                at(10, 7, 0),
                Event::RpoCaptured {
                    step: "promote".into(),
                    seconds: Some(3.4),
                    bytes: Some(5_100_000),
                    window_from: Some(replayed),
                    window_to: Some(fault),
                    measured_from: "writes dr-replica had not replayed when primary was lost"
                        .into(),
                },
            ),
            (at(10, 8, 0), done("promote", 360)),
            (at(10, 8, 0), started("dns")),
            (at(10, 19, 30), done("dns", 690)),
            (
                at(10, 19, 30),
                Event::ServiceRestored {
                    step: "dns".into(),
                    since: at(10, 19, 30),
                },
            ),
            (at(10, 19, 30), started("notify")),
            (at(10, 23, 0), done("notify", 210)),
            (at(10, 23, 0), resolved()),
        ]);
        let m = fold(events);
        assert_eq!(m.rto_achieved_secs, Some(19 * 60 + 30));
        assert_eq!(m.mttd_secs, Some(3));
        assert_eq!(m.time_to_declare_secs, Some(120));
        assert_eq!(m.time_to_recover_secs, Some(17 * 60 + 30));
        assert_eq!(m.playbook_secs, Some(21 * 60));
        let rpo = m.rpo.as_ref().expect("rpo");
        assert_eq!(rpo.seconds, Some(3.4));
        assert_eq!(
            (rpo.window_from, rpo.window_to),
            (Some(replayed), Some(fault))
        );
        assert_eq!(figure(&m, "RTO achieved"), "19m30s");
        assert_eq!(figure(&m, "MTTD"), "3s");
        assert_eq!(figure(&m, "Time to declare"), "2m00s");
        assert_eq!(figure(&m, "Time to recover"), "17m30s");
        assert_eq!(figure(&m, "Playbook time"), "21m00s");
        let rpo_text = figure(&m, "RPO achieved");
        assert!(
            rpo_text.starts_with("3.4s, window 2026-11-22 09:59:56.6 - 2026-11-22 10:00:00.0 UTC"),
            "{rpo_text}"
        );
        // RTO 19m30s < 30m, RPO 3.4 s < 5m: both criteria pass on the outage, not the walk.
        let grade = |name: &str| {
            m.criteria
                .iter()
                .find(|c| c.name == name)
                .map(|c| c.verdict)
                .expect("criterion")
        };
        assert_eq!(grade("RTO < objective"), Grade::Pass);
        assert_eq!(grade("RPO < objective"), Grade::Pass);
        assert!(m.passed, "{:?}", m.criteria);
    }

    fn restore_case(restore_at: DateTime<Utc>, point: DateTime<Utc>) -> Measures {
        let onset = at(10, 21, 0);
        fold(vec![
            (
                onset,
                Event::Disrupted {
                    since: onset,
                    evidence: "integrity checks of primary fail".into(),
                    reason: None,
                    by: None,
                },
            ),
            (at(10, 25, 0), declared()),
            (at(10, 25, 0), started("promote")),
            (
                restore_at,
                Event::RpoCaptured {
                    step: "promote".into(),
                    seconds: Some((onset - point).num_milliseconds() as f64 / 1000.0),
                    bytes: None,
                    window_from: Some(point),
                    window_to: Some(onset),
                    measured_from: "good writes between the restore point and the onset".into(),
                },
            ),
        ])
    }

    #[test]
    fn worked_case_2_corruption_is_independent_of_when_the_restore_runs() {
        let snapshot = at(10, 15, 0);
        let early = restore_case(at(10, 40, 0), snapshot);
        let late = restore_case(at(11, 40, 0), snapshot);
        for m in [&early, &late] {
            let r = m.rpo.as_ref().expect("rpo");
            assert_eq!(r.seconds, Some(360.0));
            assert_eq!(
                (r.window_from, r.window_to),
                (Some(snapshot), Some(at(10, 21, 0)))
            );
            assert!(
                figure(m, "RPO achieved").starts_with("6m00s, window"),
                "{m:?}"
            );
        }
        assert_eq!(
            early.rpo.as_ref().map(|r| r.seconds),
            late.rpo.as_ref().map(|r| r.seconds)
        );
        // Point-in-time recovery to 10:20:59: one second.
        let pitr = restore_case(at(10, 40, 0), at(10, 20, 59));
        assert_eq!(pitr.rpo.as_ref().and_then(|r| r.seconds), Some(1.0));
        assert!(figure(&pitr, "RPO achieved").starts_with("1s,"));
    }

    #[test]
    fn worked_case_3_az_loss_healed_before_the_declaration() {
        let fault = at(10, 0, 0);
        let m = fold(vec![
            (
                fault,
                Event::Disrupted {
                    since: fault,
                    evidence: "fault az-loss injected".into(),
                    reason: None,
                    by: None,
                },
            ),
            (at(10, 5, 0), declared()),
            (at(10, 5, 0), started("promote")),
            (at(10, 5, 10), done("promote", 10)),
            (at(10, 5, 10), started("dns")),
            (at(10, 5, 20), done("dns", 10)),
            // The restoring step's wait already held when reached: since 10:01:40.
            (
                at(10, 5, 20),
                Event::ServiceRestored {
                    step: "dns".into(),
                    since: at(10, 1, 40),
                },
            ),
        ]);
        assert_eq!(m.rto_achieved_secs, Some(100));
        assert_eq!(m.time_to_declare_secs, Some(300));
        assert_eq!(m.time_to_recover_secs, Some(-200));
        assert_eq!(
            figure(&m, "RTO achieved"),
            "1m40s (met by automation, before the declaration)"
        );
        assert_eq!(figure(&m, "Time to declare"), "5m00s");
        assert_eq!(
            figure(&m, "Time to recover"),
            "service restored 3m20s before the declaration (by automation)"
        );
        let rto = m
            .criteria
            .iter()
            .find(|c| c.name == "RTO < objective")
            .expect("rto");
        assert_eq!(rto.verdict, Grade::Pass, "{rto:?}");
    }

    #[test]
    fn worked_case_4_declared_before_the_fault() {
        let fault = at(10, 0, 0);
        let m = fold(
            vec![
                (at(9, 58, 0), declared()),
                (at(9, 58, 0), started("promote")),
            ]
            .into_iter()
            .chain(region_lost(fault))
            .collect(),
        );
        assert_eq!(m.time_to_declare_secs, Some(-120));
        assert_eq!(
            figure(&m, "Time to declare"),
            "declared 2m00s before the fault"
        );
        // MTTD from the first alarm-level reading, never 0 because of the early declaration.
        assert_eq!(m.mttd_secs, Some(3));
        assert_eq!(figure(&m, "MTTD"), "3s");
    }

    #[test]
    fn the_commander_corrects_the_disruption_and_the_latest_counts() {
        let m = fold(vec![
            (
                at(10, 0, 5),
                Event::Disrupted {
                    since: at(10, 0, 5),
                    evidence: "failing health check of primary".into(),
                    reason: None,
                    by: None,
                },
            ),
            (at(10, 2, 0), declared()),
            (
                at(10, 3, 0),
                Event::Disrupted {
                    since: at(9, 59, 0),
                    evidence: "set by the incident commander".into(),
                    reason: Some("customers reported errors from 09:59".into()),
                    by: Some("alice".into()),
                },
            ),
        ]);
        let d = m.disrupted.as_ref().expect("disrupted");
        assert_eq!(d.at, at(9, 59, 0));
        assert_eq!(d.by.as_deref(), Some("alice"));
        assert_eq!(m.time_to_declare_secs, Some(180));
    }

    #[test]
    fn never_restored_fails_the_rto_criterion_and_says_so() {
        let m = fold(vec![
            (
                at(10, 0, 0),
                Event::Disrupted {
                    since: at(10, 0, 0),
                    evidence: "fault".into(),
                    reason: None,
                    by: None,
                },
            ),
            (at(10, 1, 0), declared()),
            (at(10, 1, 0), started("promote")),
            (
                at(10, 9, 0),
                Event::Aborted {
                    reason: "gave up".into(),
                },
            ),
        ]);
        let rto = m
            .criteria
            .iter()
            .find(|c| c.name == "RTO < objective")
            .expect("rto");
        assert_eq!(rto.verdict, Grade::Fail);
        assert_eq!(
            rto.detail,
            "service never restored: the step that restores it was not done"
        );
        assert_eq!(figure(&m, "RTO achieved"), "service not restored");
    }

    #[test]
    fn spans_print_one_way() {
        assert_eq!(span(3), "3s");
        assert_eq!(span(120), "2m00s");
        assert_eq!(span(51 * 60 + 1), "51m01s");
        assert_eq!(span(3723), "1h02m03s");
        assert_eq!(rpo_span(3.4), "3.4s");
        assert_eq!(rpo_span(1.0), "1s");
        assert_eq!(rpo_span(0.0), "0s");
        assert_eq!(rpo_span(360.0), "6m00s");
    }
}
