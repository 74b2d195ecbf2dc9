//! The playbook engine: a pure state machine that runs one incident (or drill) of one playbook.
//!
//! No I/O, no terminal, no async, and it never reads the clock: every call takes `now`, so timers
//! are tested with made-up instants. The runtime feeds it [`Input`]s (operator keys, executor
//! output and exit) and [`Engine::tick`]s (time passing, the latest telemetry picture), and
//! carries out the [`Effect`]s it returns: spawn or kill an executor, open the confirmation
//! dialog, show a refusal, append an [`Event`] to the journal.
//!
//! Every change of state is an [`Event`]: the engine emits it as `Effect::Record` *and* applies it
//! to itself through the same function [`Engine::resume`] uses to rebuild an engine from a
//! journal. What the journal says is therefore exactly what the engine did.
//!
//! ```text
//!  Pending ──StepStarted──▶ Active ──Request──▶ AwaitingConfirm ──Confirm──▶ Running
//!                            │  ▲                     │ Cancel                 │ exit ok / wait
//!                            │  └─────────────────────┘                       ▼
//!                            ├──Complete (manual)──────────────────────▶ Done ◀── Verifying
//!                            └──Complete (wait only)──────────────────────────────▲
//!  Running/Verifying ──error, executor or wait timeout──▶ Failed ──Retry──▶ Active
//!  any unfinished step ──Skip{reason}──▶ Skipped
//! ```
//!
//! Only [`Input::Confirm`] produces [`Effect::Execute`]; in a read-only session nothing does.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{
    MessageForm, Observation, OnFailure, Playbook, ResolvedName, Reveal, Scenario, StepKind,
    lag_whole_secs,
};
use super::projection::{Measures, Plan, Projection};
use crate::actions::Exec;
pub use crate::actions::tree::LeftProcess;
use crate::duration::{Dur, compact};
use crate::env::Environment;
use crate::env::RegionRole;
use crate::recovery::{Known, Listed, ResolveError, Resolved, RestoreTo};
use crate::telemetry::{BackupStatus, DbRole, DbState, FAILED_AUTH_SPIKE_PER_MIN, Sample, Verdict};

/// How `step_finished.detail` begins for a step whose executor a signal interrupted (followed by
/// the signal's name: `interrupted: SIGTERM ended the console ...`). A crash found on resume
/// says `interrupted: the console stopped ...`.
pub const INTERRUPTED_PREFIX: &str = "interrupted: ";

/// How the `output` line that names a step's processes that could not be killed begins.
pub const LEFT_RUNNING_PREFIX: &str = "warroom: left running, could not be killed: ";

/// Lines of executor output kept per step for the view (the newest).
pub const OUTPUT_KEEP_LINES: usize = 200;
/// Lines of output per attempt recorded in the journal; the rest is counted, not recorded.
pub const OUTPUT_JOURNAL_LINES: usize = 200;
/// Longest output line recorded or kept, in characters.
pub const OUTPUT_LINE_MAX_CHARS: usize = 500;

/// How the refusal to go on with unticked checklist items begins (the console drops the
/// message once they are ticked).
pub const UNTICKED_REFUSAL: &str = "tick every checklist item first";

/// What a refusal is waiting for, when the engine knows: the console clears the refusal's
/// message once it no longer holds.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Refusal {
    /// Step `step` has unticked checklist items.
    Unticked { step: usize },
    /// Anything else: the message stays until replaced or faded.
    Other,
}

/// How the engine is run.
#[derive(Debug, Clone)]
pub struct EngineSettings {
    /// Nothing executes: every executing step is refused (manual steps and waits still work).
    pub read_only: bool,
    /// The RTO the incident is measured against (the playbook's unless overridden).
    pub rto: Dur,
    /// The RPO the captured data-loss window is measured against.
    pub rpo: Dur,
    /// Resolves logical names to resources for the confirmation, and names the regions that
    /// evidence reports on.
    pub environment: Environment,
    /// Shown in the confirmation dialog next to the environment (`drill · simulator`).
    pub mode: String,
    /// A drill or demo marks its messages to people ([`super::model::EXERCISE_MARKER`]); only a
    /// LIVE incident sends them unmarked.
    pub occasion: super::model::Occasion,
    /// Who drives the console: recorded on every confirmation (`confirmed.by`).
    pub operator: String,
    /// The shared war room, when this console drives a shared incident: approvals can come.
    pub share: Option<EngineShare>,
}

/// What the engine knows of the shared war room it drives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EngineShare {
    /// The incident's name in the shared log (what requests are signed for).
    pub incident: String,
    /// `SHA256:...` of the driver's key, which signs each arming (`None`: no `--key`;
    /// approvals refused). The engine only names the key: the runtime signs
    /// ([`Effect::SignArming`], answered by [`Input::ArmingSigned`]), off the UI thread.
    pub key: Option<String>,
}

/// An arming whose signature the runtime is making: recorded as `approval_armed` when
/// [`Input::ArmingSigned`] brings the signature of exactly `signed` for `step`.
#[derive(Debug, Clone, PartialEq)]
struct PendingArming {
    step: usize,
    attempt: u32,
    /// The exact text the driver's key signs.
    signed: String,
    command: String,
    resource: String,
    evidence: Evidence,
    needed: u32,
    /// The driver's key fingerprint.
    key: String,
    /// What the confirmation typed (trimmed), for a step that needs typing.
    typed: Option<String>,
}

impl EngineSettings {
    /// Objectives from the playbook, not read-only, mode `drill`.
    pub fn new(playbook: &Playbook, environment: Environment) -> Self {
        EngineSettings {
            read_only: false,
            rto: playbook.rto,
            rpo: playbook.rpo,
            environment,
            mode: "drill".into(),
            occasion: super::model::Occasion::Exercise,
            operator: String::new(),
            share: None,
        }
    }

    /// Who drives the console (recorded on every confirmation).
    pub fn operator(mut self, operator: impl Into<String>) -> Self {
        self.operator = operator.into();
        self
    }

    /// Measure against other objectives (e.g. the environment file's).
    pub fn with_objectives(mut self, rto: Dur, rpo: Dur) -> Self {
        self.rto = rto;
        self.rpo = rpo;
        self
    }

    pub fn read_only(mut self, read_only: bool) -> Self {
        self.read_only = read_only;
        self
    }

    pub fn mode(mut self, mode: impl Into<String>) -> Self {
        self.mode = mode.into();
        self
    }

    pub fn occasion(mut self, occasion: super::model::Occasion) -> Self {
        self.occasion = occasion;
        self
    }
}

/// Where a step is in its life.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "status", content = "reason", rename_all = "kebab-case")]
pub enum StepStatus {
    /// Not reached yet.
    #[default]
    Pending,
    /// The current step: the operator reads the guide and ticks the checklist.
    Active,
    /// The confirmation dialog is open.
    AwaitingConfirm,
    /// The executor runs.
    Running,
    /// The wait condition is checked on every tick.
    Verifying,
    Done,
    Failed(String),
    Skipped(String),
}

impl StepStatus {
    /// Short lowercase label (`awaiting-confirm`).
    pub fn label(&self) -> &'static str {
        match self {
            StepStatus::Pending => "pending",
            StepStatus::Active => "active",
            StepStatus::AwaitingConfirm => "awaiting-confirm",
            StepStatus::Running => "running",
            StepStatus::Verifying => "verifying",
            StepStatus::Done => "done",
            StepStatus::Failed(_) => "failed",
            StepStatus::Skipped(_) => "skipped",
        }
    }

    /// Running or verifying, or the dialog is open: something is under way.
    pub fn in_flight(&self) -> bool {
        matches!(
            self,
            StepStatus::AwaitingConfirm | StepStatus::Running | StepStatus::Verifying
        )
    }
}

/// Timing colour class of a step: elapsed against target.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Timing {
    /// Elapsed at most 80 % of the target.
    OnTime,
    /// Between 80 % and 100 % of the target.
    AtRisk,
    /// Past the target.
    Over,
}

impl Timing {
    pub fn of(elapsed_secs: u64, target: Dur) -> Timing {
        let target = target.secs();
        if elapsed_secs.saturating_mul(5) <= target.saturating_mul(4) {
            Timing::OnTime
        } else if elapsed_secs <= target {
            Timing::AtRisk
        } else {
            Timing::Over
        }
    }

    /// A step's timing for its status: [`Timing::finished`] once it ended (done, failed,
    /// skipped), else [`Timing::of`].
    pub fn of_step(status: &StepStatus, elapsed_secs: u64, target: Dur) -> Timing {
        match status {
            StepStatus::Done | StepStatus::Failed(_) | StepStatus::Skipped(_) => {
                Timing::finished(elapsed_secs, target)
            }
            _ => Timing::of(elapsed_secs, target),
        }
    }

    /// A step that has ended: on time (within its target) or over. "At risk" warns about a step
    /// still under way; a step that finished under its target was on time, whatever the margin.
    pub fn finished(elapsed_secs: u64, target: Dur) -> Timing {
        if elapsed_secs <= target.secs() {
            Timing::OnTime
        } else {
            Timing::Over
        }
    }
}

/// Who signed a request, and the signature as made (SSHSIG over `signed`, namespace
/// `warroom`): enough to check it again by hand with `ssh-keygen -Y verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Signed {
    /// The request's id (its object's name in the shared log).
    pub request: String,
    pub principal: String,
    pub role: String,
    /// `SHA256:...` of the signing key.
    pub key: String,
    /// The journal sequence number the requester had seen.
    pub sequence: u64,
    /// The exact text signed.
    pub signed: String,
    /// The SSHSIG signature, PEM armoured.
    pub signature: String,
}

/// What a checked request asks.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SharedAsk {
    Note {
        text: String,
    },
    Milestone {
        text: String,
    },
    /// Approve the arming `armed` (its digest) of step `step`, typing its resource's name.
    Approve {
        step: String,
        armed: String,
        resource: String,
    },
}

/// A request whose signature, signer and role were checked.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SharedRequest {
    pub ask: SharedAsk,
    pub by: Signed,
}

/// What the operator does to the incident, and what executors report.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    /// Declare the incident: starts its clock and the first step. Before it nothing runs.
    Declare,
    /// Tick or untick a checklist item of the active step.
    ToggleItem { step: usize, item: usize },
    /// Mark a checklist item of the active step not applicable, with the reason (required):
    /// it counts as done. `reason: None` makes it applicable again (unticked).
    NotApplicable {
        step: usize,
        item: usize,
        reason: Option<String>,
    },
    /// The operator edited the message to people of the step whose confirmation is open: it is
    /// what the step sends once confirmed (in an exercise with [`super::model::EXERCISE_MARKER`]
    /// put back if it was removed).
    EditMessage { step: usize, text: String },
    /// Enter on a step with an executor: open the confirmation (refused in read-only mode).
    Request { step: usize },
    /// The operator chose a `db.restore` step's restore point in the console's picker (`t`):
    /// `to` replaces the playbook's `to` for this step once the resolver accepts it against
    /// what is known plus what the list measured (`listed`); refused with the reason otherwise.
    /// Recorded with the confirmation (`restore_point_chosen`, `picked`).
    ChooseRestorePoint {
        step: usize,
        to: RestoreTo,
        listed: Listed,
    },
    /// The operator confirmed the dialog; `typed` is what they typed for a destructive step.
    /// The only input that can produce [`Effect::Execute`].
    Confirm { step: usize, typed: Option<String> },
    /// The operator closed the dialog without confirming: back to the active step.
    Cancel { step: usize },
    /// The runtime's answer to [`Effect::SignArming`]: the driver's key signed `signed` (the
    /// armoured signature) or could not. Recorded as `approval_armed` only when it answers
    /// the arming pending for `step` (a stale or mismatched answer is ignored); a failure
    /// refuses the confirmation and records nothing.
    ArmingSigned {
        step: usize,
        signed: String,
        result: Result<String, crate::share::sig::SignError>,
    },
    /// A line the executor printed (stdout or stderr).
    ExecOutput {
        step: usize,
        attempt: u32,
        line: String,
    },
    /// The executor ended: `Ok` on success, `Err(why)` otherwise (`exit status 3`).
    /// Reports of an attempt that is no longer running are ignored.
    ExecFinished {
        step: usize,
        attempt: u32,
        result: Result<(), String>,
    },
    /// Processes of an attempt's executor that could not be killed when it ended: recorded
    /// (`left_running`) whenever it comes, even after the step or the incident ended.
    ExecLeftRunning {
        step: usize,
        attempt: u32,
        processes: Vec<LeftProcess>,
    },
    /// The console is ending on a signal (`SIGTERM`, `SIGHUP`): every step whose executor runs
    /// is recorded `interrupted`, its executor killed, and the step failed.
    Interrupt { signal: String },
    /// The operator quits the console while the incident is open: recorded `console_closed`.
    Close,
    /// Skip a step that is not finished; the reason is required and recorded.
    Skip { step: usize, reason: String },
    /// Make a failed step active again (its checklist ticks are kept).
    Retry { step: usize },
    /// Enter on a step without an executor: finish a manual step, or start a wait-only step's
    /// verification. Needs every checklist item ticked.
    Complete { step: usize },
    /// End the incident without completing it.
    Abort { reason: String },
    /// A free-text note for the journal.
    Note { text: String },
    /// A signed request from someone who joined the shared war room, whose signature, signer
    /// and role the console checked (`share::request::check`). The engine refuses a replay: a
    /// sequence older than one already taken from the same key.
    SharedRequest(SharedRequest),
    /// A request from someone who joined, refused before the engine (unsigned, unknown key,
    /// out of role, tampered): recorded with the reason.
    RefuseRequest {
        request: String,
        principal: Option<String>,
        reason: String,
    },
    /// The operator did what the reminder due next says (`Post a status update`): recorded as
    /// `reminder_done`, and the next one counts down. Refused before the declaration, after
    /// the end, and when the playbook has no reminders.
    ReminderDone,
    /// The commander sets or corrects when the outage began (engine clock), with a reason
    /// (required): recorded as `disrupted` with `reason` and `by`. Accepted before the
    /// declaration and after the end too: it corrects the record.
    SetDisruption {
        since: DateTime<Utc>,
        reason: String,
    },
}

/// What the runtime must do after an input or a tick.
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Start the executor. `exec` carries real secret values: hand it to the executor and nothing
    /// else (never log or journal it); `command` is the masked one-liner for display.
    Execute {
        step: usize,
        attempt: u32,
        exec: Exec,
        command: String,
    },
    /// Kill the executor of this attempt (it timed out, was skipped, or the incident aborted).
    Kill { step: usize, attempt: u32 },
    /// Show the confirmation dialog.
    OpenConfirm(Box<ConfirmRequest>),
    /// The input was refused; show `why` to the operator. Nothing changed. `cause` says what
    /// would lift the refusal, when the engine knows.
    Refused {
        step: Option<usize>,
        why: String,
        cause: Refusal,
    },
    /// Append to the journal (fsync) before showing its consequences.
    Record(Event),
    /// Sign `signed` with the driver's key (off the UI thread: an ssh-agent is socket I/O) and
    /// answer with [`Input::ArmingSigned`]; the arming is recorded when the signature comes.
    SignArming { step: usize, signed: String },
    /// The incident is over (resolved or aborted).
    Finished(Box<Scorecard>),
}

/// Everything the confirmation dialog must show. Secrets are masked.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmRequest {
    pub step: usize,
    pub step_id: String,
    pub title: String,
    /// Environment name (`demo`, `pynomaly-production`).
    pub environment: String,
    /// [`EngineSettings::mode`].
    pub mode: String,
    /// The exact command, masked, names resolved: `db.promote db=dr-replica (pynomaly-dr-replica)`.
    /// A message to people is written `message=(below, 6 lines)`: its lines are `message`.
    pub command: String,
    /// The message to people the step sends, as written (masked, marked in an exercise, the
    /// operator's edit if any).
    pub message: Option<String>,
    /// The message can be edited before sending (it uses no secret variable).
    pub message_editable: bool,
    /// The executor, masked.
    pub exec: Exec,
    /// The built-in action's one-line description.
    pub action_summary: Option<String>,
    /// A `run` step's environment variables, secrets masked (`TOKEN=••••••`).
    pub env: Vec<(String, String)>,
    /// The secret variables a `run` step passes as arguments, which other local users can read
    /// in `ps` while it runs (the dialog says so, and suggests `env`).
    pub secrets_in_argv: Vec<String>,
    /// Logical names the action touches and the resources behind them.
    pub names: Vec<ResolvedName>,
    pub destructive: bool,
    /// What the operator must type, for a destructive step.
    pub type_to_confirm: Option<String>,
    /// Executor timeout.
    pub timeout: Option<Dur>,
    /// The condition verified afterwards, with its timeout.
    pub wait: Option<String>,
    pub captures_rpo: bool,
    /// A restore: the point it would restore to, resolved now from what is known.
    pub restore: Option<Resolved>,
    /// The picture the operator decides on.
    pub evidence: Evidence,
}

/// A compact summary of the picture at a decision: recorded with `confirmed`.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Evidence {
    /// When the picture was taken; `None` when no telemetry had arrived.
    pub sample_at: Option<DateTime<Utc>>,
    pub databases: Vec<DbEvidence>,
    pub backups: Vec<BackupEvidence>,
    pub regions: Vec<RegionEvidence>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbEvidence {
    pub name: String,
    pub role: DbRole,
    pub state: DbState,
    /// Replica lag, whole seconds rounded up.
    pub lag_secs: Option<u64>,
    /// Once its source is lost: the frozen data-loss window (what promoting loses).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_window: Option<LossWindow>,
    /// Since when its integrity checks fail (corruption onset as monitoring saw it).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_since: Option<DateTime<Utc>>,
}

/// A replica's writes missed when its source was lost: `secs` behind at `source_lost_at`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWindow {
    /// The source it replicated from.
    pub source: String,
    pub secs: f64,
    pub source_lost_at: DateTime<Utc>,
}

impl LossWindow {
    /// `3.4s behind when primary was lost at 10:18:27`.
    pub fn describe(&self) -> String {
        format!(
            "{} behind when {} was lost at {}",
            super::projection::rpo_span(self.secs),
            self.source,
            self.source_lost_at.format("%H:%M:%S")
        )
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupEvidence {
    pub name: String,
    /// Age of the newest known-good backup.
    pub good_age_secs: Option<u64>,
    pub status: BackupStatus,
    /// Backups newer than the newest good one exist and contain a corruption.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionEvidence {
    pub name: String,
    pub verdict: Verdict,
    /// The region's availability zones and whether each is up (az-loss decisions).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<ZoneEvidence>,
    /// The region's security signal, now and as seen before (breach decisions); absent when it
    /// never alarmed (a spike of failed authentications or unusual access).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecurityEvidence>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneEvidence {
    pub zone: String,
    pub up: bool,
}

/// Failed authentications per minute now and at their peak, unusual access now and when last
/// seen.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvidence {
    pub failed_auth_per_min: u32,
    pub unusual_access: bool,
    pub peak_failed_auth_per_min: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unusual_access_last_seen: Option<DateTime<Utc>>,
}

impl SecurityEvidence {
    /// `180 failed auth/min, unusual access` now; once it ended, `4 failed auth/min (peak
    /// 180/min at 10:21:05, unusual access until 10:24:10)`.
    pub fn describe(&self) -> String {
        let mut now = format!("{} failed auth/min", self.failed_auth_per_min);
        if self.unusual_access {
            now.push_str(", unusual access");
        }
        let mut before = Vec::new();
        if self.peak_failed_auth_per_min > self.failed_auth_per_min
            && let Some(at) = self.peak_at
        {
            before.push(format!(
                "peak {}/min at {}",
                self.peak_failed_auth_per_min,
                at.format("%H:%M:%S")
            ));
        }
        if !self.unusual_access
            && let Some(at) = self.unusual_access_last_seen
        {
            before.push(format!("unusual access until {}", at.format("%H:%M:%S")));
        }
        if before.is_empty() {
            now
        } else {
            format!("{now} ({})", before.join(", "))
        }
    }
}

impl Evidence {
    /// Summarises `sample` at `now`; regions are the environment's.
    pub fn from_sample(sample: Option<&Sample>, env: &Environment, now: DateTime<Utc>) -> Self {
        let Some(s) = sample else {
            return Evidence::default();
        };
        Evidence {
            sample_at: Some(s.at),
            databases: s
                .databases
                .iter()
                .map(|d| DbEvidence {
                    name: d.name.clone(),
                    role: d.role,
                    state: d.state,
                    // Once the source is lost the lag only grows with the clock: the record
                    // keeps the frozen window instead (`loss_window`), never "lag 39m" beside it.
                    lag_secs: d
                        .replication
                        .as_ref()
                        .filter(|r| r.source_lost_at.is_none())
                        .and_then(|r| r.lag_secs)
                        .map(lag_whole_secs),
                    loss_window: d.replication.as_ref().and_then(|r| {
                        Some(LossWindow {
                            source: r.source.clone(),
                            secs: r.loss_window_secs?,
                            source_lost_at: r.source_lost_at?,
                        })
                    }),
                    corrupt_since: d.corrupt_since.filter(|_| d.integrity_ok == Some(false)),
                })
                .collect(),
            backups: s
                .backups
                .iter()
                .map(|b| BackupEvidence {
                    name: b.name.clone(),
                    good_age_secs: b.good_age_secs(now),
                    status: b.status(now),
                    tainted: b.tainted(),
                })
                .collect(),
            regions: env
                .regions
                .iter()
                .map(|r| {
                    let name = r.name.get_ref().clone();
                    let zones = s
                        .zones
                        .iter()
                        .filter(|z| z.region == name)
                        .map(|z| ZoneEvidence {
                            zone: z.zone.clone(),
                            up: z.up,
                        })
                        .collect();
                    let security = s
                        .security
                        .iter()
                        .find(|x| x.region == name)
                        .filter(|x| x.alarming() || x.memory.alarmed())
                        .map(|x| SecurityEvidence {
                            failed_auth_per_min: x.failed_auth_per_min,
                            unusual_access: x.unusual_access,
                            peak_failed_auth_per_min: x
                                .memory
                                .peak_failed_auth_per_min
                                .max(x.failed_auth_per_min),
                            peak_at: x.memory.peak_at,
                            unusual_access_last_seen: x.memory.unusual_access_last_seen,
                        });
                    RegionEvidence {
                        verdict: s.region_verdict(&name),
                        name,
                        zones,
                        security,
                    }
                })
                .collect(),
        }
    }

    /// One line: `regions primary DOWN, dr HEALTHY · dr-replica replica/available lag 42s · snapshots 12m00s`.
    pub fn summary(&self) -> String {
        if self.sample_at.is_none() {
            return "no telemetry".into();
        }
        let mut parts = Vec::new();
        if !self.regions.is_empty() {
            let r: Vec<String> = self
                .regions
                .iter()
                .map(|r| {
                    // A lost zone is what an az-loss decision rests on: name it.
                    let down: Vec<&str> = r
                        .zones
                        .iter()
                        .filter(|z| !z.up)
                        .map(|z| z.zone.as_str())
                        .collect();
                    if down.is_empty() {
                        format!("{} {}", r.name, r.verdict.label())
                    } else if down.len() == r.zones.len() {
                        format!(
                            "{} {} (all {} zones down)",
                            r.name,
                            r.verdict.label(),
                            down.len()
                        )
                    } else {
                        format!(
                            "{} {} (zone {} down, {} of {} up)",
                            r.name,
                            r.verdict.label(),
                            down.join(", "),
                            r.zones.len() - down.len(),
                            r.zones.len()
                        )
                    }
                })
                .collect();
            parts.push(format!("regions {}", r.join(", ")));
            for r in &self.regions {
                if let Some(sec) = &r.security {
                    parts.push(format!("{} security {}", r.name, sec.describe()));
                }
            }
        }
        for d in &self.databases {
            let role = match d.role {
                DbRole::Primary => "primary",
                DbRole::Replica => "replica",
                DbRole::Unknown => "unknown",
            };
            let state = serde_json::to_value(d.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default();
            // A replica whose source is lost shows the frozen window, not the growing lag.
            let lag = match (&d.loss_window, d.lag_secs) {
                (Some(w), _) => format!(" {}", w.describe()),
                (None, Some(l)) => format!(" lag {}", compact(l)),
                (None, None) => String::new(),
            };
            let corrupt = d
                .corrupt_since
                .map(|c| format!(" CORRUPT since {}", c.format("%H:%M:%S")))
                .unwrap_or_default();
            parts.push(format!("{} {role}/{state}{lag}{corrupt}", d.name));
        }
        for b in &self.backups {
            let age = b.good_age_secs.map_or_else(|| "none".into(), compact);
            if b.tainted {
                // The newest backups contain the corruption: the age that matters is the last
                // good one's, and it is not the pane's Age column (the newest success).
                parts.push(format!(
                    "{} {}, newer ones TAINTED, last good {age} old",
                    b.name,
                    b.status.label()
                ));
            } else {
                parts.push(format!("{} {age} {}", b.name, b.status.label()));
            }
        }
        parts.join(" · ")
    }
}

/// Why the simulated clock's speed changed (`speed_changed`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedReason {
    /// `>`: the current step's machine wait runs fast until it ends.
    FastForward,
    /// The fast-forwarded wait ended (held, failed or timed out): back to the previous speed.
    WaitOver,
    /// The operator stopped the fast-forward (`>` again, or `P`).
    Cancelled,
    /// The console resumed a journal that ended fast-forwarding: back to the drill's speed.
    Resumed,
}

impl SpeedReason {
    /// How the timeline and the report say it.
    pub fn describe(self) -> &'static str {
        match self {
            SpeedReason::FastForward => "fast-forward",
            SpeedReason::WaitOver => "the wait ended",
            SpeedReason::Cancelled => "fast-forward stopped",
            SpeedReason::Resumed => "console resumed",
        }
    }
}

/// A change of the session clock the runtime made, for the record
/// ([`Engine::clock_changed`]).
#[derive(Debug, Clone, PartialEq)]
pub enum ClockChange {
    Paused,
    Resumed {
        paused_secs: u64,
    },
    Speed {
        from: f64,
        to: f64,
        reason: SpeedReason,
        step: Option<String>,
    },
}

/// How a finished step ended (for `step_finished`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Outcome {
    Done,
    Failed,
}

/// Everything that happened, for the journal. Payloads never contain secret values. The journal
/// adds `seq` and `at` (the `now` of the call that emitted the event); [`Engine::resume`] replays
/// `(at, event)` pairs. Steps are named by id.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// Drills: the simulator injected the scenario's fault (`region-loss`). Recorded by the
    /// runtime through [`Engine::fault_injected`], usually before `declared`; the time from it to
    /// `declared` is the drill's time to detect (MTTD).
    FaultInjected {
        fault: String,
    },
    /// Milestone: the outage began at `since` (engine clock: simulated time in drills). Drills:
    /// the fault's injection; live: the earliest reading the console holds of the scenario's
    /// signal failing. Recorded again with a `reason` when the commander sets or corrects it:
    /// the latest one counts.
    Disrupted {
        since: DateTime<Utc>,
        /// What it was read from (`fault region-loss injected`, `first failing health check of
        /// primary`).
        evidence: String,
        /// Set by the commander: why (`None` when the console derived it).
        #[serde(default)]
        reason: Option<String>,
        /// Who set it, when the commander did.
        #[serde(default)]
        by: Option<String>,
    },
    /// Milestone: the first alarm-level reading after the disruption (MTTD ends).
    Detected {
        since: DateTime<Utc>,
        /// The reading (`primary DOWN: 3 failed health checks`).
        evidence: String,
    },
    /// Milestone: the step marked `restores_service` is done (its wait holds): the outage is
    /// over (RTO achieved ends here).
    ServiceRestored {
        step: String,
        /// When service was back (engine clock): the moment the step's condition, and every
        /// earlier step's wait, first held; for a step without a wait, its completion. Earlier
        /// than the event itself when the platform healed before the operator got there.
        since: DateTime<Utc>,
    },
    /// The console writing this journal is closing while the incident is open: its operator
    /// quit (`signal` none), or a signal ended it (`SIGTERM`, `SIGHUP`). A stop with no such
    /// record before the next `resumed` was a crash or a kill that left no word.
    ConsoleClosed {
        /// The console's operator.
        by: String,
        #[serde(default, skip_serializing_if = "Option::is_none")]
        signal: Option<String>,
    },
    /// The console continued this journal after it had stopped (crash, kill, quit).
    Resumed {
        /// Wall-clock seconds since the last event before the stop.
        gap_secs: u64,
        host: String,
        operator: String,
        pid: u32,
    },
    /// Drills and demos: the simulated clock stopped (`P`). The simulated world, the step
    /// timers and the RTO clock stand still until `clock_resumed`: events recorded meanwhile
    /// carry the same session time (their wall time moves on).
    ClockPaused {},
    /// The paused clock runs again.
    ClockResumed {
        /// How long the pause lasted on the wall clock, in whole seconds.
        paused_secs: u64,
    },
    /// The simulated clock's speed changed (simulated seconds per wall second).
    SpeedChanged {
        from: f64,
        to: f64,
        reason: SpeedReason,
        /// The step whose wait is fast-forwarded (`fast_forward`, `wait_over`, `cancelled`).
        #[serde(default)]
        step: Option<String>,
    },
    /// A reminder of the comms cadence was marked done (see [`Engine::reminders`]).
    ReminderDone {
        /// The reminder's text (unique within the playbook).
        text: String,
        /// Which occurrence: the `n`-th time it fell due, counting from the declaration.
        occurrence: u32,
        /// When that occurrence fell due (engine clock): the declaration plus `n` periods.
        due: DateTime<Utc>,
        /// Seconds past `due` it was done (0 when done before it was due).
        late_secs: u64,
    },
    /// A reminder's occurrence went a whole period without being done: the next one fell due.
    ReminderMissed {
        text: String,
        /// The last occurrence this record misses (`missed` of them, ending with this one).
        occurrence: u32,
        /// When that occurrence fell due (engine clock).
        due: DateTime<Utc>,
        /// How many occurrences this record misses (more than one after a long stop).
        missed: u32,
    },
    /// The incident clock starts.
    Declared {
        playbook: String,
        title: String,
        /// [`Playbook::hash`]: resume refuses a journal of another version of the file.
        hash: String,
        rto_secs: u64,
        rpo_secs: u64,
        read_only: bool,
    },
    /// A step became the active one.
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
    /// A checklist item was marked not applicable, with why: it counts as done.
    ItemNotApplicable {
        step: String,
        item: usize,
        text: String,
        reason: String,
    },
    /// A not-applicable item applies again (unticked).
    ItemApplicable {
        step: String,
        item: usize,
        text: String,
    },
    /// The operator edited the step's message to people before confirming: `message` is what
    /// it sends (marked in an exercise; secrets never appear: a message using one cannot be
    /// edited).
    MessageEdited {
        step: String,
        message: String,
    },
    /// The confirmation dialog opened for this command.
    ConfirmRequested {
        step: String,
        command: String,
    },
    /// The operator closed the dialog without confirming.
    ConfirmCancelled {
        step: String,
    },
    /// The operator confirmed: the executor starts (attempt counts from 1).
    Confirmed {
        step: String,
        attempt: u32,
        command: String,
        destructive: bool,
        /// What the operator typed, for a destructive step.
        typed: Option<String>,
        /// The picture the operator saw when deciding.
        evidence: Evidence,
        /// Who confirmed (the operator of the console).
        #[serde(default)]
        by: String,
    },
    /// The point a `db.restore` step restores to, chosen when it was confirmed (before its
    /// `confirmed`): the choice as written (`before-corruption`, `latest-verified-backup`, a
    /// time), the point it resolved to from what was known, and who confirmed it.
    RestorePointChosen {
        step: String,
        /// `before-corruption`, `latest-verified-backup` or an RFC 3339 time.
        choice: RestoreTo,
        /// The restored database keeps the writes committed before this (engine clock).
        point: DateTime<Utc>,
        basis: crate::recovery::Basis,
        /// The backup the restore starts from.
        backup_at: DateTime<Utc>,
        /// The corruption onset it was chosen against, if recorded.
        onset: Option<DateTime<Utc>>,
        /// Onset minus point, in seconds (the data lost), when the onset is known.
        loss_secs: Option<f64>,
        /// Who confirmed it.
        by: String,
        /// Chosen in the console's restore-point picker (else the playbook's `to`).
        picked: bool,
    },
    /// The data-loss window at the moment the executor started.
    RpoCaptured {
        step: String,
        /// `None` when nothing could be measured (`measured_from` says why).
        seconds: Option<f64>,
        /// The same window in bytes of WAL, where the evidence gives it (PostgreSQL LSNs).
        #[serde(default)]
        bytes: Option<u64>,
        /// The lost window `(from, to]`: the last write the recovered database keeps, and the
        /// last good write before the source stopped (or the corruption onset). Engine clock.
        #[serde(default)]
        window_from: Option<DateTime<Utc>>,
        #[serde(default)]
        window_to: Option<DateTime<Utc>>,
        measured_from: String,
    },
    /// One line of executor output (masked, bounded).
    Output {
        step: String,
        attempt: u32,
        line: String,
    },
    /// The executor succeeded (or a wait-only step was entered): checking the condition.
    Verifying {
        step: String,
        condition: String,
        timeout_secs: u64,
    },
    StepFinished {
        step: String,
        outcome: Outcome,
        /// What proved it done, or why it failed.
        detail: String,
        /// Done by a passed wait or verify action.
        verified: bool,
        elapsed_secs: u64,
        target_secs: u64,
    },
    Skipped {
        step: String,
        reason: String,
    },
    /// A failed step became active again.
    Retried {
        step: String,
    },
    /// The step ran past its target.
    TargetExceeded {
        step: String,
        target_secs: u64,
    },
    /// The RTO projection crossed the objective (either way).
    RtoRisk {
        at_risk: bool,
        projected_secs: u64,
        rto_secs: u64,
    },
    Note {
        text: String,
    },
    /// A note or milestone from someone who joined, with their signature.
    SharedNote {
        text: String,
        milestone: bool,
        by: Signed,
    },
    /// A request from someone who joined was refused, and why.
    RequestRefused {
        request: String,
        principal: Option<String>,
        reason: String,
    },
    /// The two-person rule: the driver confirmed a step that needs approvals; it runs once
    /// `needed` others approved this arming (`armed`, its digest). Signed by the driver's key.
    ApprovalArmed {
        step: String,
        attempt: u32,
        command: String,
        /// What the confirmation typed, and what an approver must type: the resource's name.
        resource: String,
        evidence: Evidence,
        needed: u32,
        by: String,
        /// `SHA256:...` of the driver's key.
        key: String,
        /// SHA-256 (hex) of `signed`: what approvals name.
        armed: String,
        /// The exact text the driver signed.
        signed: String,
        signature: String,
    },
    /// Someone other than the driver approved the arming `armed` of a step.
    Approved {
        step: String,
        armed: String,
        by: Signed,
    },
    Aborted {
        reason: String,
    },
    /// The HA interlock (`playbook::interlock`): a step running `ha.pause` succeeded, so the HA
    /// manager (Patroni) of `db`'s cluster reports its automatic failover paused.
    FailoverPaused {
        step: String,
        db: String,
        /// Who confirmed it.
        by: String,
    },
    /// A step running `ha.resume` succeeded: automatic failover is on again. One of the two
    /// decisions that let a paused incident close.
    FailoverResumed {
        step: String,
        db: String,
        by: String,
    },
    /// The operator skipped the resume step while paused: automatic failover stays off, for the
    /// typed reason. The other decision that lets a paused incident close.
    FailoverLeftPaused {
        step: String,
        db: String,
        reason: String,
        by: String,
    },
    /// An abort asked while automatic failover is paused (or being paused): it waits for the
    /// decision (resume, or leave paused with a reason), and the resume step becomes the
    /// current one; `aborted` follows the decision with this reason.
    AbortHeld {
        reason: String,
        by: String,
    },
    /// Every step is done or skipped.
    Resolved {
        /// RTO achieved: disrupted -> service restored; `None` when either is unknown.
        rto_achieved_secs: Option<u64>,
        /// Declared -> resolved: the checklist walk.
        #[serde(default)]
        playbook_secs: u64,
        rpo_achieved_secs: Option<f64>,
        passed: bool,
    },
}

/// The RPO measured when a `capture_rpo` step's executor started.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoCapture {
    pub step: String,
    /// Whole seconds, rounded up (for comparisons against whole-second objectives).
    pub seconds: Option<u64>,
    /// The window as measured (3.4 s), for display.
    #[serde(default)]
    pub exact_secs: Option<f64>,
    pub measured_from: String,
    pub at: DateTime<Utc>,
}

/// The outage so far against the RTO: RTO is disruption to service restored, so the clock counts
/// from the recorded disruption (the declaration while none is known) and stops when service is
/// restored.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct RtoGauge {
    pub declared_at: Option<DateTime<Utc>>,
    /// What the clock counts from: the disruption, else the declaration; `None` before either.
    pub counts_from: Option<DateTime<Utc>>,
    /// `counts_from` is the recorded disruption (not the declaration).
    pub from_disruption: bool,
    /// Service is restored: `elapsed_secs` is the RTO achieved, frozen.
    pub restored: bool,
    /// The outage so far: `counts_from` to now, to service restored, or to the end of an
    /// incident that ended without restoring it; 0 before.
    pub elapsed_secs: u64,
    pub rto_secs: u64,
    /// Targets still ahead until service is restored: every unfinished step's target up to and
    /// including the restoring step (all of them when the playbook marks none), the current
    /// one's less its elapsed time (never below zero); 0 once restored.
    pub remaining_targets_secs: u64,
    /// `elapsed + remaining targets`: when service is back if every step keeps its target.
    pub projection_secs: u64,
    /// The projection is past the RTO, and the service does not already look restored.
    pub at_risk: bool,
    /// The number (1-based) of the restoring step, when it is not done yet but the latest
    /// picture already satisfies its wait and the wait of every step from the current one to
    /// it (automation restored the service, or the steps before it were slow): the rule the
    /// recorded RTO follows, so the projection of the remaining targets says nothing. Only
    /// once the restoring step's check has been seen failing since the outage began (or the
    /// declaration): a check that held all along says nothing was restored.
    pub looks_restored: Option<usize>,
}

/// A checklist item for the view.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ChecklistItem {
    /// Secrets masked.
    pub text: String,
    pub ticked: bool,
    /// Marked not applicable, with this reason (counts as done).
    pub not_applicable: Option<String>,
}

/// One step as the view shows it. Secrets are masked everywhere.
#[derive(Debug, Clone, PartialEq)]
pub struct StepView {
    pub index: usize,
    pub id: String,
    pub title: String,
    pub kind: StepKind,
    pub status: StepStatus,
    pub target: Dur,
    /// Since the step became active (frozen when it finished); `None` before.
    pub elapsed_secs: Option<u64>,
    pub timing: Option<Timing>,
    /// Executor attempts so far.
    pub attempt: u32,
    pub destructive: bool,
    pub guide: String,
    pub checklist: Vec<ChecklistItem>,
    /// The command, masked, names resolved; a message to people as `message=(below, N lines)`
    /// (its lines are [`StepView::message`]).
    pub command: Option<String>,
    /// The message to people the step sends (masked, marked in an exercise, the operator's
    /// edit if any), as it is written: lines separated by `\n`.
    pub message: Option<String>,
    /// The wait condition and its timeout: `dr-replica is primary and available (timeout 10m)`.
    pub wait: Option<String>,
    /// The latest judgement of the wait while verifying.
    pub observed: Option<Observation>,
    /// Newest executor output lines of the latest attempt (masked).
    pub output: Vec<String>,
    /// An earlier step's output lines this step keeps on screen (`recall`): that step's
    /// number (1-based), its id, and the lines (at most `Recall::MAX_LINES`, the newest).
    pub recalled: Option<(usize, String, Vec<String>)>,
    pub on_failure: OnFailure,
    pub captures_rpo: bool,
    /// Armed by the driver and waiting for approvals: `(approved so far, needed)`.
    pub waiting_approval: Option<(u32, u32)>,
    /// The driver's confirmation is being signed (the arming is not recorded yet).
    pub signing_arming: bool,
}

/// Per-step score.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepScore {
    pub id: String,
    pub title: String,
    /// [`StepStatus::label`].
    pub status: String,
    /// Failure or skip reason.
    pub reason: Option<String>,
    pub target_secs: u64,
    pub actual_secs: Option<u64>,
    pub timing: Option<Timing>,
    /// The step verifies something (a wait or `backup.verify`).
    pub verification: bool,
    /// It did, successfully.
    pub verified: bool,
    pub attempts: u32,
}

/// Outcome of one drill criterion.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Grade {
    Pass,
    Fail,
    /// Nothing to judge (e.g. no step captures the RPO).
    NotApplicable,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Criterion {
    pub name: String,
    pub verdict: Grade,
    pub detail: String,
}

/// The result of an incident or drill against the objectives and the drill success criteria:
/// completed, RTO < objective, RPO < objective, every verification step passed, no step failed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Scorecard {
    pub playbook: String,
    pub title: String,
    pub declared_at: Option<DateTime<Utc>>,
    pub ended_at: Option<DateTime<Utc>>,
    pub aborted: Option<String>,
    pub rto_objective_secs: u64,
    /// RTO achieved: disrupted -> service restored; `None` while either is unknown.
    pub rto_achieved_secs: Option<u64>,
    pub rpo_objective_secs: u64,
    pub rpo: Option<RpoCapture>,
    pub steps: Vec<StepScore>,
    pub criteria: Vec<Criterion>,
    /// No criterion failed.
    pub passed: bool,
    /// Disrupted -> detected (the first alarm-level reading), when both are recorded.
    #[serde(default)]
    pub mttd_secs: Option<u64>,
    /// Every figure, milestone and criterion, from the one projection of the events.
    pub measures: Measures,
}

impl Scorecard {
    /// Skipped steps with their reasons.
    pub fn skipped(&self) -> Vec<(&str, &str)> {
        self.steps
            .iter()
            .filter(|s| s.status == "skipped")
            .map(|s| (s.id.as_str(), s.reason.as_deref().unwrap_or("")))
            .collect()
    }
}

/// Why a journal cannot be replayed into an engine.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResumeError {
    #[error(
        "the journal was written for playbook {} version {}, but the playbook given is {} version {}; resume with the playbook file the incident started with",
        crate::text::echo(journal_id),
        crate::text::field(journal_hash),
        crate::text::echo(file_id),
        crate::text::field(file_hash)
    )]
    PlaybookChanged {
        journal_id: String,
        journal_hash: String,
        file_id: String,
        file_hash: String,
    },
    #[error(
        "journal event {index} names step {}, which the playbook does not have",
        crate::text::echo(step)
    )]
    UnknownStep { index: usize, step: String },
    #[error(
        "journal event {index} ({}) comes before the incident was declared",
        crate::text::field(kind)
    )]
    NotDeclared { index: usize, kind: String },
}

#[derive(Debug, Clone, Default)]
struct StepRun {
    status: StepStatus,
    ticked: Vec<bool>,
    /// Per item: marked not applicable, with the reason.
    not_applicable: Vec<Option<String>>,
    /// The operator's edit of the message to people (marked), if any.
    message: Option<String>,
    started_at: Option<DateTime<Utc>>,
    finished_at: Option<DateTime<Utc>>,
    attempt: u32,
    exec_started_at: Option<DateTime<Utc>>,
    verify_started_at: Option<DateTime<Utc>>,
    verified: bool,
    output: VecDeque<String>,
    /// Output lines of the current attempt seen so far (recorded or not).
    output_seen: usize,
    /// The end of the attempt's previous output line, for a secret split across two lines.
    mask_carry: super::mask::Carry,
    over_target_noted: bool,
    observed: Option<Observation>,
}

/// One incident of one playbook. See the module documentation.
#[derive(Debug, Clone)]
pub struct Engine {
    playbook: Playbook,
    settings: EngineSettings,
    runs: Vec<StepRun>,
    declared_at: Option<DateTime<Utc>>,
    ended_at: Option<DateTime<Utc>>,
    resolved: bool,
    aborted: Option<String>,
    rpo: Option<RpoCapture>,
    picture: Option<Sample>,
    at_risk: bool,
    fault_injected_at: Option<DateTime<Utc>>,
    /// The measures of everything recorded so far (the same fold `report` uses).
    projection: Projection,
    /// The recorded disruption's start, and whether the console derived it from a reading (not
    /// a fault, not the commander).
    disrupted: Option<(DateTime<Utc>, bool)>,
    /// The live signal cleared after a derived disruption that never reached alarm level: the
    /// next failing reading starts a new one (a blip is not the outage).
    signal_cleared: bool,
    detected: bool,
    restored: bool,
    /// When service was back (`service_restored.since`).
    restored_since: Option<DateTime<Utc>>,
    /// The first alarm-level reading (`detected.since`).
    detected_since: Option<DateTime<Utc>>,
    /// Per step with a wait: since when its condition has held without a break (picture time).
    held_since: Vec<Option<DateTime<Utc>>>,
    /// Per step with a wait: the latest picture in which its condition did not hold. A
    /// condition that has held all along (the writers a corruption playbook scales back were
    /// never stopped) does not make the service "look restored".
    failed_at: Vec<Option<DateTime<Utc>>>,
    /// The first picture this engine was given (picture time): before it, `failed_at` knows
    /// nothing (a console resumed, or opened after the outage began).
    first_picture_at: Option<DateTime<Utc>>,
    /// `console_closed` was recorded and no `resumed` since: a second quit or signal of the
    /// same console records nothing more.
    closed: bool,
    /// Per step done by its wait: when its condition had held from, frozen at completion.
    held_when_done: Vec<Option<DateTime<Utc>>>,
    /// The playbook's secret values in every form a step may print them (built once).
    masker: super::mask::Masker,
    /// Per reminder: the last occurrence done or missed (0: none yet).
    reminders_handled: Vec<u32>,
    /// Shared war room: request ids taken or refused, and per signing key the newest sequence
    /// taken (a request signed at an older one is a replay).
    requests_seen: std::collections::BTreeSet<String>,
    request_sequence: std::collections::BTreeMap<String, u64>,
    /// The step armed and waiting for approvals, if any.
    armed: Option<Arming>,
    /// The arming whose signature the runtime is making, if any (never journaled: a resumed
    /// or followed incident has none).
    signing: Option<PendingArming>,
    /// A restore point the operator picked (`Input::ChooseRestorePoint`): step, choice, and
    /// what the list measured.
    picked: Option<(usize, RestoreTo, Listed)>,
    /// The HA interlock's state (`playbook::interlock`).
    ha: HaState,
}

/// The HA interlock as recorded: the clusters whose automatic failover is paused and still
/// waits for the decision at the end (resume, or leave paused with a reason), and an abort
/// waiting for it.
#[derive(Debug, Clone, Default, PartialEq)]
struct HaState {
    /// Per database whose `failover_paused` was recorded and no decision yet: when (engine
    /// clock), in the order paused. `failover_resumed` or `failover_left_paused` naming the
    /// database removes it.
    paused: Vec<(DateTime<Utc>, String)>,
    /// `abort_held`: the abort's reason.
    abort_held: Option<String>,
}

impl HaState {
    fn is_paused(&self, db: &str) -> bool {
        self.paused.iter().any(|(_, d)| d == db)
    }

    fn decide(&mut self, db: &str) {
        self.paused.retain(|(_, d)| d != db);
    }
}

/// What a `db.restore` step restores: [`Engine::restore_target`].
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RestoreTarget {
    pub db: String,
    /// The backup series.
    pub backup: String,
    /// The step's `to` as written, if any.
    pub to: Option<String>,
    /// The corruption onset known now.
    pub onset: Option<DateTime<Utc>>,
}

/// A step armed by the driver's confirmation, waiting for approvals.
#[derive(Debug, Clone, PartialEq)]
struct Arming {
    step: usize,
    typed: Option<String>,
    resource: String,
    needed: u32,
    /// The driver's key fingerprint.
    key: String,
    digest: String,
    /// Keys that approved it.
    approvals: Vec<String>,
}

/// A reminder of the comms cadence as the console shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ReminderView {
    /// Index in [`Playbook::reminders`].
    pub index: usize,
    pub text: String,
    pub every: Dur,
    /// The occurrence counting down (1 for the first period after the declaration).
    pub occurrence: u32,
    /// When it falls (or fell) due: the declaration plus `occurrence` periods (engine clock).
    pub due: DateTime<Utc>,
    /// Seconds until `due` (0 once due).
    pub in_secs: u64,
    /// Seconds past `due` (0 before it); a whole period past, it is recorded missed.
    pub overdue_secs: u64,
}

impl ReminderView {
    pub fn is_due(&self) -> bool {
        self.in_secs == 0
    }
}

/// Whole seconds from `from` to `to`, as the difference of the two instants' whole seconds
/// (each shown as `HH:MM:SS`): a figure always equals the difference of the times on screen,
/// never one second off it because both carried fractions.
fn secs_between(from: DateTime<Utc>, to: DateTime<Utc>) -> u64 {
    u64::try_from(to.timestamp() - from.timestamp()).unwrap_or(0)
}

/// When occurrence `n` of a reminder falls due: the declaration plus `n` periods.
fn reminder_due(declared: DateTime<Utc>, every: Dur, n: u32) -> DateTime<Utc> {
    let secs = every.secs().saturating_mul(u64::from(n));
    chrono::Duration::try_seconds(i64::try_from(secs).unwrap_or(i64::MAX))
        .and_then(|d| declared.checked_add_signed(d))
        .unwrap_or(DateTime::<Utc>::MAX_UTC)
}

fn truncate_chars(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((at, _)) => format!("{}…", &s[..at]),
        None => s.to_string(),
    }
}

impl Engine {
    pub fn new(playbook: Playbook, settings: EngineSettings) -> Engine {
        let playbook = super::interlock::guard(playbook, &settings.environment);
        let runs = playbook
            .steps
            .iter()
            .map(|s| StepRun {
                ticked: vec![false; s.checklist.len()],
                not_applicable: vec![None; s.checklist.len()],
                ..StepRun::default()
            })
            .collect();
        Engine {
            runs,
            declared_at: None,
            ended_at: None,
            resolved: false,
            aborted: None,
            rpo: None,
            picture: None,
            at_risk: false,
            fault_injected_at: None,
            projection: Projection::new(Plan::of(&playbook, settings.rto, settings.rpo)),
            disrupted: None,
            signal_cleared: false,
            detected: false,
            restored: false,
            restored_since: None,
            detected_since: None,
            held_since: vec![None; playbook.steps.len()],
            failed_at: vec![None; playbook.steps.len()],
            first_picture_at: None,
            closed: false,
            held_when_done: vec![None; playbook.steps.len()],
            masker: playbook.vars.masker(),
            reminders_handled: vec![0; playbook.reminders.len()],
            requests_seen: std::collections::BTreeSet::new(),
            request_sequence: std::collections::BTreeMap::new(),
            picked: None,
            armed: None,
            ha: HaState::default(),
            signing: None,
            playbook,
            settings,
        }
    }

    /// Rebuilds the state a journal describes, exactly as recorded (a running step stays
    /// running): what `warroom follow` shows. [`Engine::resume`] builds on it to continue.
    pub fn replay(
        playbook: Playbook,
        settings: EngineSettings,
        journal: impl IntoIterator<Item = (DateTime<Utc>, Event)>,
    ) -> Result<Engine, ResumeError> {
        let mut engine = Engine::new(playbook, settings);
        for (index, (at, event)) in journal.into_iter().enumerate() {
            engine.apply_recorded(index, at, &event)?;
        }
        Ok(engine)
    }

    /// Applies one journaled event (the `index`-th) to the state, checking it belongs to this
    /// playbook: replay and following a live journal.
    pub fn apply_recorded(
        &mut self,
        index: usize,
        at: DateTime<Utc>,
        event: &Event,
    ) -> Result<(), ResumeError> {
        if let Event::Declared { playbook, hash, .. } = event
            && (*playbook != self.playbook.id || *hash != self.playbook.hash)
        {
            return Err(ResumeError::PlaybookChanged {
                journal_id: playbook.clone(),
                journal_hash: hash.clone(),
                file_id: self.playbook.id.clone(),
                file_hash: self.playbook.hash.clone(),
            });
        }
        if self.declared_at.is_none()
            && !matches!(
                event,
                Event::Declared { .. }
                    | Event::Note { .. }
                    | Event::SharedNote { .. }
                    | Event::RequestRefused { .. }
                    | Event::FaultInjected { .. }
                    | Event::Disrupted { .. }
                    | Event::Detected { .. }
                    | Event::ServiceRestored { .. }
                    | Event::Resumed { .. }
                    | Event::ClockPaused {}
                    | Event::ClockResumed { .. }
                    | Event::SpeedChanged { .. }
            )
        {
            return Err(ResumeError::NotDeclared {
                index,
                kind: event_kind(event),
            });
        }
        self.apply(event, at)
            .map_err(|step| ResumeError::UnknownStep { index, step })
    }

    /// Rebuilds the engine from a journal's `(at, event)` pairs, then settles what the crash left
    /// open: a step that was `Running` lost its executor and fails ("interrupted"), an open
    /// confirmation is cancelled. The returned effects (records to append, the next step, the
    /// end) belong to the journal like any others. Output and picture are not restored: the next
    /// tick brings a fresh picture.
    pub fn resume(
        playbook: Playbook,
        settings: EngineSettings,
        journal: impl IntoIterator<Item = (DateTime<Utc>, Event)>,
        now: DateTime<Utc>,
    ) -> Result<(Engine, Vec<Effect>), ResumeError> {
        let mut engine = Engine::replay(playbook, settings, journal)?;
        let mut out = Vec::new();
        if engine.declared_at.is_some() && !engine.is_finished() {
            for i in 0..engine.runs.len() {
                match engine.runs[i].status {
                    StepStatus::Running => engine.fail(
                        i,
                        "interrupted: the console stopped while this step ran; check its effect \
                         in the panes, then retry or skip it"
                            .into(),
                        now,
                        &mut out,
                    ),
                    StepStatus::AwaitingConfirm => {
                        let step = engine.playbook.steps[i].id.clone();
                        engine.emit(Event::ConfirmCancelled { step }, now, &mut out);
                    }
                    _ => {}
                }
            }
            engine.advance(now, &mut out);
        }
        Ok((engine, out))
    }

    // ----- inputs -------------------------------------------------------------------------

    /// Applies an operator action or an executor report at `now`.
    pub fn handle(&mut self, input: Input, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        if let Input::Note { text } = &input {
            if text.trim().is_empty() {
                refuse(&mut out, None, "an empty note: write something");
            } else {
                self.emit(Event::Note { text: text.clone() }, now, &mut out);
            }
            return out;
        }
        if let Input::SharedRequest(request) = &input {
            self.shared_request(request, now, &mut out);
            return out;
        }
        if let Input::RefuseRequest {
            request,
            principal,
            reason,
        } = &input
        {
            self.emit(
                Event::RequestRefused {
                    request: request.clone(),
                    principal: principal.clone(),
                    reason: reason.clone(),
                },
                now,
                &mut out,
            );
            return out;
        }
        if let Input::SetDisruption { since, reason } = &input {
            self.set_disruption(*since, reason, now, &mut out);
            return out;
        }
        if let Input::ExecLeftRunning {
            step,
            attempt,
            processes,
        } = &input
        {
            self.left_running(*step, *attempt, processes, now, &mut out);
            return out;
        }
        if let Input::Interrupt { signal } = &input {
            self.interrupt(signal, now, &mut out);
            self.record_close(Some(signal.clone()), now, &mut out);
            return out;
        }
        if let Input::Close = &input {
            self.record_close(None, now, &mut out);
            return out;
        }
        if let Input::ArmingSigned {
            step,
            signed,
            result,
        } = input
        {
            self.arming_signed(step, &signed, result, now, &mut out);
            return out;
        }
        if self.is_finished() {
            // Late executor reports after an abort are expected: ignore them quietly.
            if !matches!(input, Input::ExecOutput { .. } | Input::ExecFinished { .. }) {
                refuse(
                    &mut out,
                    None,
                    "the incident is over: nothing more can change",
                );
            }
            return out;
        }
        if self.declared_at.is_none() && input != Input::Declare {
            if !matches!(input, Input::ExecOutput { .. } | Input::ExecFinished { .. }) {
                refuse(
                    &mut out,
                    None,
                    "declare the incident first: that starts the first step",
                );
            }
            return out;
        }
        match input {
            Input::Declare => self.declare(now, &mut out),
            Input::ToggleItem { step, item } => self.toggle(step, item, now, &mut out),
            Input::NotApplicable { step, item, reason } => {
                self.not_applicable(step, item, reason, now, &mut out)
            }
            Input::EditMessage { step, text } => self.edit_message(step, text, now, &mut out),
            Input::Request { step } => self.request(step, now, &mut out),
            Input::ChooseRestorePoint { step, to, listed } => {
                self.choose_restore_point(step, to, listed, now, &mut out)
            }
            Input::Confirm { step, typed } => self.confirm(step, typed, now, &mut out),
            Input::Cancel { step } => self.cancel(step, now, &mut out),
            Input::ExecOutput {
                step,
                attempt,
                line,
            } => self.output(step, attempt, &line, now, &mut out),
            Input::ExecFinished {
                step,
                attempt,
                result,
            } => self.exec_finished(step, attempt, result, now, &mut out),
            Input::Skip { step, reason } => self.skip(step, &reason, now, &mut out),
            Input::Retry { step } => self.retry(step, now, &mut out),
            Input::Complete { step } => self.complete(step, now, &mut out),
            Input::Abort { reason } => self.abort(&reason, now, &mut out),
            Input::ReminderDone => self.reminder_done(now, &mut out),
            Input::Note { .. }
            | Input::SharedRequest(_)
            | Input::RefuseRequest { .. }
            | Input::SetDisruption { .. }
            | Input::ExecLeftRunning { .. }
            | Input::Interrupt { .. }
            | Input::Close
            | Input::ArmingSigned { .. } => {}
        }
        out
    }

    /// Whether a request id was taken or refused already (the console skips it).
    pub fn request_seen(&self, id: &str) -> bool {
        self.requests_seen.contains(id)
    }

    /// See [`Input::SharedRequest`].
    fn shared_request(
        &mut self,
        request: &SharedRequest,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let by = &request.by;
        let refusal = if self.requests_seen.contains(&by.request) {
            Some(format!(
                "replayed: request {} was taken already",
                by.request
            ))
        } else {
            match self.request_sequence.get(&by.key) {
                Some(newest) if by.sequence < *newest => Some(format!(
                    "replayed: signed at sequence {}, older than sequence {newest} of a request \
                     already taken from key {}",
                    by.sequence, by.key
                )),
                _ => None,
            }
        };
        let (text, milestone) = match &request.ask {
            SharedAsk::Note { text } => (text, false),
            SharedAsk::Milestone { text } => (text, true),
            SharedAsk::Approve {
                step,
                armed,
                resource,
            } => {
                match refusal {
                    Some(reason) => self.emit(
                        Event::RequestRefused {
                            request: by.request.clone(),
                            principal: Some(by.principal.clone()),
                            reason,
                        },
                        now,
                        out,
                    ),
                    None => self.approve(by, step, armed, resource, now, out),
                }
                return;
            }
        };
        let refusal = refusal.or_else(|| {
            text.trim()
                .is_empty()
                .then(|| "an empty note: write something".to_string())
        });
        let event = match refusal {
            Some(reason) => Event::RequestRefused {
                request: by.request.clone(),
                principal: Some(by.principal.clone()),
                reason,
            },
            None => Event::SharedNote {
                text: text.clone(),
                milestone,
                by: by.clone(),
            },
        };
        self.emit(event, now, out);
    }

    /// See [`Input::ExecLeftRunning`].
    fn left_running(
        &mut self,
        step: usize,
        attempt: u32,
        processes: &[LeftProcess],
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let Some(run) = self.runs.get(step) else {
            return;
        };
        if processes.is_empty() || attempt == 0 || attempt > run.attempt {
            return;
        }
        // An `output` line of the attempt, journaled whatever the output cap: a new event kind
        // would be a journal format change (docs/journal.md, versioning rule).
        let list: Vec<String> = processes
            .iter()
            .map(|p| format!("pid {} ({})", p.pid, self.masker.mask(&p.command)))
            .collect();
        let line = format!(
            "{LEFT_RUNNING_PREFIX}{}",
            truncate_chars(&list.join(", "), OUTPUT_LINE_MAX_CHARS)
        );
        let event = Event::Output {
            step: self.playbook.steps[step].id.clone(),
            attempt,
            line,
        };
        self.emit(event, now, out);
    }

    /// See [`Input::Interrupt`].
    fn interrupt(&mut self, signal: &str, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if self.is_finished() || self.declared_at.is_none() {
            return;
        }
        for step in 0..self.runs.len() {
            if self.runs[step].status != StepStatus::Running {
                continue;
            }
            let attempt = self.runs[step].attempt;
            out.push(Effect::Kill { step, attempt });
            self.fail(
                step,
                format!(
                    "{INTERRUPTED_PREFIX}{signal} ended the console while this step ran, and \
                     its processes with it; check its effect in the panes, then retry or skip it"
                ),
                now,
                out,
            );
        }
    }

    /// `console_closed`, while the incident is open.
    fn record_close(&mut self, signal: Option<String>, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if self.is_finished() || self.declared_at.is_none() || self.closed {
            return;
        }
        let event = Event::ConsoleClosed {
            by: self.settings.operator.clone(),
            signal,
        };
        self.emit(event, now, out);
    }

    /// The steps whose executor is running now: `(index, id, attempt)`.
    pub fn running_steps(&self) -> Vec<(usize, String, u32)> {
        self.runs
            .iter()
            .enumerate()
            .filter(|(_, r)| r.status == StepStatus::Running)
            .map(|(i, r)| (i, self.playbook.steps[i].id.clone(), r.attempt))
            .collect()
    }

    /// Time passes and the latest telemetry picture: executor timeouts, wait conditions, target
    /// and RTO-risk transitions. Call it on every tick and whenever a new picture arrives.
    pub fn tick(&mut self, now: DateTime<Utc>, picture: &Sample) -> Vec<Effect> {
        self.picture = Some(picture.clone());
        let mut out = Vec::new();
        if self.is_finished() {
            return out;
        }
        self.track_waits(picture, now);
        self.judge_milestones(picture, now, &mut out);
        if self.declared_at.is_none() {
            return out;
        }
        for i in 0..self.runs.len() {
            let step = &self.playbook.steps[i];
            let run = &self.runs[i];
            match run.status {
                StepStatus::Running => {
                    let expired = step
                        .timeout
                        .zip(run.exec_started_at)
                        .filter(|(timeout, started)| now >= *started + timeout.to_chrono());
                    if let Some((timeout, _)) = expired {
                        out.push(Effect::Kill {
                            step: i,
                            attempt: run.attempt,
                        });
                        self.fail(i, format!("timed out after {timeout}"), now, &mut out);
                    }
                }
                StepStatus::Verifying => {
                    let Some(wait) = &step.wait else {
                        continue;
                    };
                    let started = run.verify_started_at.unwrap_or(now);
                    // A picture taken before the executor finished describes the world before
                    // the action: it can neither prove nor refute what the action did (a
                    // restore's database still reads intact until the next reading).
                    if picture.at < started && now < started + wait.timeout.to_chrono() {
                        continue;
                    }
                    let seen = wait.condition.observe_in_step(picture, now, run.started_at);
                    if seen.met {
                        let detail = format!("{} ({})", wait.condition, seen.observed);
                        self.runs[i].observed = Some(seen);
                        self.finish_done(i, detail, true, now, &mut out);
                    } else if now >= started + wait.timeout.to_chrono() {
                        let why = format!(
                            "wait timed out: {} not met after {} (last seen: {})",
                            wait.condition, wait.timeout, seen.observed
                        );
                        self.runs[i].observed = Some(seen);
                        self.fail(i, why, now, &mut out);
                    } else {
                        self.runs[i].observed = Some(seen);
                    }
                }
                _ => {}
            }
        }
        if self.is_finished() {
            return out;
        }
        self.judge_reminders(now, &mut out);
        for i in 0..self.runs.len() {
            let run = &self.runs[i];
            let step = &self.playbook.steps[i];
            let open = matches!(
                run.status,
                StepStatus::Active
                    | StepStatus::AwaitingConfirm
                    | StepStatus::Running
                    | StepStatus::Verifying
            );
            if open
                && !run.over_target_noted
                && run
                    .started_at
                    .is_some_and(|s| secs_between(s, now) > step.target.secs())
            {
                let event = Event::TargetExceeded {
                    step: step.id.clone(),
                    target_secs: step.target.secs(),
                };
                self.emit(event, now, &mut out);
            }
        }
        let gauge = self.rto(now);
        if gauge.at_risk != self.at_risk {
            let event = Event::RtoRisk {
                at_risk: gauge.at_risk,
                projected_secs: gauge.projection_secs,
                rto_secs: gauge.rto_secs,
            };
            self.emit(event, now, &mut out);
        }
        out
    }

    /// Drills: the simulator injected `fault` at `now`. Returns the `fault_injected` record to
    /// journal; the first one starts the time-to-detect ([`Scorecard::mttd_secs`]).
    ///
    /// The first fault is also the disruption: `disrupted` at `now` (a drill's outage starts
    /// when its fault is injected, whatever the readings say).
    pub fn fault_injected(&mut self, fault: &str, now: DateTime<Utc>) -> Vec<Effect> {
        self.fault_injected_since(fault, now, now)
    }

    /// [`Engine::fault_injected`] recorded at `now` for a fault that took effect at `since`
    /// (earlier: the injection is reported from another task, after a tick may have moved the
    /// clock on). The record stays in order; the disruption keeps its true start, which is also
    /// where a replica's lost window ends.
    pub fn fault_injected_since(
        &mut self,
        fault: &str,
        since: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        let mut out = Vec::new();
        let first = self.fault_injected_at.is_none();
        let event = Event::FaultInjected {
            fault: fault.to_string(),
        };
        self.emit(event, now, &mut out);
        if first {
            let event = Event::Disrupted {
                since: since.min(now),
                evidence: format!("fault {fault} injected"),
                reason: None,
                by: None,
            };
            self.emit(event, now, &mut out);
        }
        out
    }

    /// The runtime paused, resumed or changed the speed of the session clock at `now` (session
    /// time, which a pause holds still): the record. Nothing is recorded once the incident is
    /// over (its record is closed).
    pub fn clock_changed(&mut self, change: ClockChange, now: DateTime<Utc>) -> Vec<Effect> {
        let mut out = Vec::new();
        if self.is_finished() {
            return out;
        }
        let event = match change {
            ClockChange::Paused => Event::ClockPaused {},
            ClockChange::Resumed { paused_secs } => Event::ClockResumed { paused_secs },
            ClockChange::Speed {
                from,
                to,
                reason,
                step,
            } => Event::SpeedChanged {
                from,
                to,
                reason,
                step,
            },
        };
        self.emit(event, now, &mut out);
        out
    }

    /// Every reminder's occurrence counting down at `now`, soonest due first; empty before the
    /// declaration and once the incident is over. Occurrence `n` falls due at the declaration
    /// plus `n` periods of session time (a paused clock holds the countdown); it stays the one
    /// shown, overdue, until it is done or a whole period passes (then it is recorded missed).
    pub fn reminders(&self, now: DateTime<Utc>) -> Vec<ReminderView> {
        let Some(declared) = self.declared_at else {
            return Vec::new();
        };
        if self.is_finished() {
            return Vec::new();
        }
        let mut views: Vec<ReminderView> = self
            .playbook
            .reminders
            .iter()
            .zip(&self.reminders_handled)
            .enumerate()
            .map(|(index, (r, handled))| {
                let occurrence = handled.saturating_add(1);
                let due = reminder_due(declared, r.every, occurrence);
                ReminderView {
                    index,
                    text: r.text.clone(),
                    every: r.every,
                    occurrence,
                    due,
                    in_secs: secs_between(now, due),
                    overdue_secs: secs_between(due, now),
                }
            })
            .collect();
        views.sort_by_key(|v| (v.due, v.index));
        views
    }

    /// Records the occurrences a whole period overdue as missed.
    fn judge_reminders(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let Some(declared) = self.declared_at else {
            return;
        };
        for i in 0..self.playbook.reminders.len() {
            let every = self.playbook.reminders[i].every;
            let handled = self.reminders_handled[i];
            // The newest occurrence already due; every one before it that nobody did is missed.
            let periods = if every.secs() == 0 {
                0
            } else {
                secs_between(declared, now) / every.secs()
            };
            let newest_due = u32::try_from(periods).unwrap_or(u32::MAX);
            if newest_due > handled.saturating_add(1) {
                let last_missed = newest_due - 1;
                let event = Event::ReminderMissed {
                    text: self.playbook.reminders[i].text.clone(),
                    occurrence: last_missed,
                    due: reminder_due(declared, every, last_missed),
                    missed: last_missed - handled,
                };
                self.emit(event, now, out);
            }
        }
    }

    /// See [`Input::ReminderDone`]: the reminder due soonest is done.
    fn reminder_done(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let Some(next) = self.reminders(now).into_iter().next() else {
            refuse(out, None, "this playbook has no reminders");
            return;
        };
        let event = Event::ReminderDone {
            text: next.text,
            occurrence: next.occurrence,
            due: next.due,
            late_secs: next.overdue_secs,
        };
        self.emit(event, now, out);
    }

    /// The measures of everything recorded so far, unfinished spans measured to `now`.
    pub fn measures(&self, now: DateTime<Utc>) -> Measures {
        self.projection.measures(Some(now))
    }

    // ----- queries ------------------------------------------------------------------------

    /// When the first `fault_injected` was recorded (drills).
    pub fn fault_injected_at(&self) -> Option<DateTime<Utc>> {
        self.fault_injected_at
    }

    pub fn playbook(&self) -> &Playbook {
        &self.playbook
    }

    pub fn settings(&self) -> &EngineSettings {
        &self.settings
    }

    pub fn declared_at(&self) -> Option<DateTime<Utc>> {
        self.declared_at
    }

    /// Resolved or aborted.
    pub fn is_finished(&self) -> bool {
        self.resolved || self.aborted.is_some()
    }

    pub fn is_resolved(&self) -> bool {
        self.resolved
    }

    pub fn aborted(&self) -> Option<&str> {
        self.aborted.as_deref()
    }

    /// HA interlock: when this incident recorded automatic failover paused (engine clock), and
    /// the database it named: the earliest pause still waiting for its decision (resume, or
    /// leave paused); `None` once every pause has one.
    pub fn failover_paused(&self) -> Option<(DateTime<Utc>, &str)> {
        self.ha
            .paused
            .iter()
            .min_by_key(|(at, _)| *at)
            .map(|(at, db)| (*at, db.as_str()))
    }

    /// HA interlock: the incident may not close (resolve or abort) before a decision is
    /// recorded: a database's automatic failover was paused and neither `failover_resumed` nor
    /// `failover_left_paused` followed; or its pause step failed (a timeout: Patroni may have
    /// applied it) and its resume step is neither done nor skipped; or a pause is running.
    pub fn failover_decision_needed(&self) -> bool {
        !self.ha.paused.is_empty() || self.pause_running().is_some() || self.resume_step().is_some()
    }

    /// An abort waiting for the HA decision (`abort_held`), with its reason.
    pub fn abort_held(&self) -> Option<&str> {
        self.ha.abort_held.as_deref()
    }

    /// The database a step's `db` argument names.
    fn db_of(&self, step: usize) -> Option<String> {
        self.playbook
            .steps
            .get(step)?
            .arg("db", &self.playbook.vars, Reveal::Masked)
    }

    /// A step running `ha.pause` that is running now.
    fn pause_running(&self) -> Option<usize> {
        (0..self.runs.len()).find(|&i| {
            self.runs[i].status == StepStatus::Running
                && self.action_of(i) == Some(crate::actions::BuiltinAction::HaPause)
        })
    }

    /// Whether `db` may be paused without a decision: its pause was recorded, or a pause step
    /// on it failed after it ran (a timeout or a kill: the PATCH may have been applied).
    fn maybe_paused(&self, db: &str) -> bool {
        self.ha.is_paused(db)
            || (0..self.runs.len()).any(|i| {
                self.action_of(i) == Some(crate::actions::BuiltinAction::HaPause)
                    && matches!(self.runs[i].status, StepStatus::Failed(_))
                    && self.db_of(i).as_deref() == Some(db)
            })
    }

    /// The step that decides next: the first step running `ha.resume`, not done or skipped,
    /// for a database that may be paused ([`Self::maybe_paused`]); `None` when none is.
    fn resume_step(&self) -> Option<usize> {
        (0..self.playbook.steps.len()).find(|&i| {
            self.action_of(i) == Some(crate::actions::BuiltinAction::HaResume)
                && !matches!(
                    self.runs[i].status,
                    StepStatus::Done | StepStatus::Skipped(_)
                )
                && self.db_of(i).is_some_and(|db| self.maybe_paused(&db))
        })
    }

    /// The action a step runs, if a built-in.
    fn action_of(&self, step: usize) -> Option<crate::actions::BuiltinAction> {
        self.playbook
            .steps
            .get(step)
            .and_then(|s| s.builtin())
            .map(|b| b.action)
    }

    /// The step the incident is on: the one active, awaiting confirmation, running, verifying, or
    /// failed with `on_failure = "stop"`. `None` before declaration and once finished.
    pub fn current(&self) -> Option<usize> {
        if self.declared_at.is_none() || self.is_finished() {
            return None;
        }
        // An abort held by the HA interlock: a pause still running first (its answer says
        // whether there is anything to resume), then the resume step that decides.
        if self.ha.abort_held.is_some()
            && let Some(r) = self.pause_running().or_else(|| self.resume_step())
        {
            return Some(r);
        }
        self.runs.iter().enumerate().position(|(i, r)| {
            matches!(r.status, StepStatus::Active)
                || r.status.in_flight()
                || (matches!(r.status, StepStatus::Failed(_))
                    && self.playbook.steps[i].on_failure == OnFailure::Stop)
        })
    }

    pub fn status(&self, step: usize) -> Option<&StepStatus> {
        self.runs.get(step).map(|r| &r.status)
    }

    /// Checklist ticks of a step.
    pub fn ticks(&self, step: usize) -> &[bool] {
        self.runs.get(step).map_or(&[], |r| r.ticked.as_slice())
    }

    /// The checklist items of a step not yet ticked (masked).
    pub fn missing_items(&self, step: usize) -> Vec<String> {
        let (Some(s), Some(r)) = (self.playbook.steps.get(step), self.runs.get(step)) else {
            return Vec::new();
        };
        s.checklist
            .iter()
            .zip(&r.ticked)
            .filter(|(_, t)| !**t)
            .map(|(item, _)| item.render(&self.playbook.vars, Reveal::Masked))
            .collect()
    }

    /// What Enter means on the current step, if anything: `Declare` before the incident,
    /// `Request` on a step with an executor, `Complete` on a manual or wait-only step.
    pub fn enter_input(&self) -> Option<Input> {
        if self.declared_at.is_none() {
            return Some(Input::Declare);
        }
        let step = self.current()?;
        if self.runs[step].status != StepStatus::Active {
            return None;
        }
        Some(match self.playbook.steps[step].kind() {
            StepKind::Run | StepKind::Action => Input::Request { step },
            StepKind::Manual | StepKind::Wait => Input::Complete { step },
        })
    }

    /// Seconds since the step became active (frozen once finished).
    pub fn elapsed(&self, step: usize, now: DateTime<Utc>) -> Option<u64> {
        let r = self.runs.get(step)?;
        let start = r.started_at?;
        Some(secs_between(start, r.finished_at.unwrap_or(now)))
    }

    /// The view of every step.
    pub fn steps(&self, now: DateTime<Utc>) -> Vec<StepView> {
        (0..self.runs.len())
            .filter_map(|i| self.step_view(i, now))
            .collect()
    }

    /// What a step's `recall` shows: the earlier step's number, id and output lines (those
    /// containing the recall's text, else all), the newest `Recall::MAX_LINES` of them.
    fn recalled(&self, recall: &super::model::Recall) -> (usize, String, Vec<String>) {
        let id = self
            .playbook
            .steps
            .get(recall.step)
            .map(|s| s.id.clone())
            .unwrap_or_default();
        let output = self.runs.get(recall.step).map(|r| &r.output);
        let mut lines: Vec<String> = output
            .into_iter()
            .flatten()
            .filter(|l| {
                recall
                    .containing
                    .as_deref()
                    .is_none_or(|text| l.contains(text))
            })
            .cloned()
            .collect();
        let keep = lines.len().saturating_sub(super::model::Recall::MAX_LINES);
        lines.drain(..keep);
        (recall.step + 1, id, lines)
    }

    pub fn step_view(&self, index: usize, now: DateTime<Utc>) -> Option<StepView> {
        let step = self.playbook.steps.get(index)?;
        let run = self.runs.get(index)?;
        let vars = &self.playbook.vars;
        let elapsed = self.elapsed(index, now);
        Some(StepView {
            index,
            id: step.id.clone(),
            title: step.title.clone(),
            kind: step.kind(),
            status: run.status.clone(),
            target: step.target,
            elapsed_secs: elapsed,
            timing: elapsed.map(|e| Timing::of_step(&run.status, e, step.target)),
            attempt: run.attempt,
            destructive: step.destructive,
            guide: step.guide.render(vars, Reveal::Masked),
            checklist: step
                .checklist
                .iter()
                .zip(run.ticked.iter().zip(&run.not_applicable))
                .map(|(t, (ticked, na))| ChecklistItem {
                    text: t.render(vars, Reveal::Masked),
                    ticked: *ticked,
                    not_applicable: na.clone(),
                })
                .collect(),
            command: self.command_shown(index),
            message: self.message(index),
            wait: step
                .wait
                .as_ref()
                .map(|w| format!("{} (timeout {})", w.condition, w.timeout)),
            observed: run.observed.clone(),
            output: run.output.iter().cloned().collect(),
            recalled: step.recall.as_ref().map(|r| self.recalled(r)),
            on_failure: step.on_failure,
            captures_rpo: step.capture_rpo,
            waiting_approval: self.armed.as_ref().filter(|a| a.step == index).map(|a| {
                (
                    u32::try_from(a.approvals.len()).unwrap_or(u32::MAX),
                    a.needed,
                )
            }),
            signing_arming: self.signing.as_ref().is_some_and(|p| p.step == index),
        })
    }

    /// Approvals step `index` needs before it runs: the playbook's `approvals`, and in a LIVE
    /// incident the environment's `[policy] destructive_approvals` for a destructive step.
    pub fn approvals_needed(&self, index: usize) -> u32 {
        let Some(step) = self.playbook.steps.get(index) else {
            return 0;
        };
        let policy = match (&self.settings.environment.policy, self.settings.occasion) {
            (Some(p), super::model::Occasion::Real) if step.destructive => p.destructive_approvals,
            _ => 0,
        };
        step.approvals.max(policy)
    }

    /// Nothing executes from now on (the console lost or handed over command).
    pub fn set_read_only(&mut self, read_only: bool) {
        self.settings.read_only = read_only;
        if read_only {
            self.signing = None;
        }
    }

    /// The driver's console shares the incident from now on (`incident` names it in the store).
    pub fn set_share(&mut self, share: Option<EngineShare>) {
        if share != self.settings.share {
            // An arming signed for another incident or key would not be this one's.
            self.signing = None;
        }
        self.settings.share = share;
    }

    /// The exact command of a step for display: masked, names resolved in the environment.
    /// A message to people is quoted in the line (`message="[DRILL] ...\n..."`), the
    /// operator's edit if any: what `confirmed.command` records.
    pub fn command(&self, step: usize) -> Option<String> {
        self.command_in(step, MessageForm::Quoted)
    }

    /// [`Engine::command`] as the screen shows it: a message to people as
    /// `message=(below, N lines)`, its lines shown under it ([`Engine::message`]).
    pub fn command_shown(&self, step: usize) -> Option<String> {
        self.command_in(step, MessageForm::Below)
    }

    fn command_in(&self, step: usize, form: MessageForm) -> Option<String> {
        let s = self.playbook.steps.get(step)?;
        s.executor.as_ref()?;
        let line = s.command_line_with(
            &self.playbook.vars,
            Reveal::Masked,
            Some(&self.settings.environment),
            self.settings.occasion,
            self.runs.get(step)?.message.as_deref(),
            form,
        );
        // A restore point picked in the console replaces the playbook's `to` (written last).
        Some(match self.picked_restore_point(step) {
            None => line,
            Some(to) => {
                let written = s
                    .arg("to", &self.playbook.vars, Reveal::Masked)
                    .map(|w| format!(" to={}", crate::text::visible(&w)));
                match written.filter(|w| line.ends_with(w.as_str())) {
                    Some(w) => format!("{} to={to}", &line[..line.len() - w.len()]),
                    None => format!("{line} to={to}"),
                }
            }
        })
    }

    /// The message to people a step sends, as written (masked, marked in an exercise, the
    /// operator's edit if any); `None` when it sends none.
    pub fn message(&self, step: usize) -> Option<String> {
        let s = self.playbook.steps.get(step)?;
        let run = self.runs.get(step)?;
        match &run.message {
            Some(m) if s.message_arg().is_some() => Some(m.clone()),
            _ => s.message(&self.playbook.vars, Reveal::Masked, self.settings.occasion),
        }
    }

    /// The RTO gauge at `now`.
    pub fn rto(&self, now: DateTime<Utc>) -> RtoGauge {
        let disrupted = self.disrupted.map(|(since, _)| since);
        let counts_from = disrupted.or(self.declared_at);
        let end = self
            .restored_since
            .or(self.ended_at)
            .unwrap_or(now)
            .max(counts_from.unwrap_or(now));
        let elapsed = counts_from.map_or(0, |d| secs_between(d, end));
        let restored = self.restored;
        // Steps up to the one that restores service (all when none is marked).
        let until = self.playbook.restoring_step().unwrap_or(usize::MAX);
        let remaining: u64 = if self.is_finished() || restored {
            0
        } else {
            self.playbook
                .steps
                .iter()
                .zip(&self.runs)
                .enumerate()
                .filter(|(i, _)| *i <= until)
                .map(|(i, (step, run))| match &run.status {
                    StepStatus::Done | StepStatus::Skipped(_) => 0,
                    StepStatus::Failed(_) if step.on_failure == OnFailure::Continue => 0,
                    StepStatus::Pending => step.target.secs(),
                    _ => step
                        .target
                        .secs()
                        .saturating_sub(self.elapsed(i, now).unwrap_or(0)),
                })
                .sum()
        };
        let projection = elapsed + remaining;
        let rto = self.settings.rto.secs();
        let looks_restored = if restored || self.is_finished() {
            None
        } else {
            self.looks_restored(now)
        };
        RtoGauge {
            declared_at: self.declared_at,
            counts_from,
            from_disruption: disrupted.is_some(),
            restored,
            elapsed_secs: elapsed,
            rto_secs: rto,
            remaining_targets_secs: remaining,
            projection_secs: projection,
            at_risk: projection > rto && looks_restored.is_none(),
            looks_restored,
        }
    }

    /// [`RtoGauge::looks_restored`] on the latest picture.
    fn looks_restored(&self, now: DateTime<Utc>) -> Option<usize> {
        let picture = self.picture.as_ref()?;
        let steps = &self.playbook.steps;
        let index = self.playbook.restoring_step()?;
        let current = self.current()?;
        if current > index {
            return None;
        }
        steps[index].wait.as_ref()?;
        // Restored means it was down: its check failed at some point since the outage began
        // (or the declaration, when no disruption is known). Judged only when this engine has
        // watched since then; otherwise (resumed, or opened late) the check holding is all
        // there is to go on.
        let since = self.disrupted.map(|(at, _)| at).or(self.declared_at)?;
        let watched = self.first_picture_at.is_some_and(|first| first <= since);
        if watched && self.failed_at[index].is_none_or(|failed| failed < since) {
            return None;
        }
        let holds = steps[current..=index].iter().all(|s| {
            s.wait
                .as_ref()
                .is_none_or(|w| w.condition.observe(picture, now).met)
        });
        holds.then_some(index + 1)
    }

    /// The RPO captured so far (the latest capture).
    pub fn rpo_captured(&self) -> Option<&RpoCapture> {
        self.rpo.as_ref()
    }

    /// The latest picture passed to [`Engine::tick`].
    pub fn picture(&self) -> Option<&Sample> {
        self.picture.as_ref()
    }

    /// The scorecard at `now`: final once the incident is finished, provisional before.
    pub fn scorecard(&self, now: DateTime<Utc>) -> Scorecard {
        self.score(now, self.resolved, self.ended_at)
    }

    fn score(
        &self,
        now: DateTime<Utc>,
        resolved: bool,
        ended_at: Option<DateTime<Utc>>,
    ) -> Scorecard {
        let steps: Vec<StepScore> = self
            .playbook
            .steps
            .iter()
            .zip(&self.runs)
            .enumerate()
            .map(|(i, (s, r))| {
                let elapsed = self.elapsed(i, now);
                StepScore {
                    id: s.id.clone(),
                    title: s.title.clone(),
                    status: r.status.label().to_string(),
                    reason: match &r.status {
                        StepStatus::Failed(why) | StepStatus::Skipped(why) => Some(why.clone()),
                        _ => None,
                    },
                    target_secs: s.target.secs(),
                    actual_secs: elapsed,
                    timing: elapsed.map(|e| Timing::of_step(&r.status, e, s.target)),
                    verification: s.is_verification(),
                    verified: r.verified,
                    attempts: r.attempt,
                }
            })
            .collect();
        let measures = match (resolved, self.is_finished()) {
            // The resolution being computed (see `advance`): measure as if it were recorded.
            (true, false) => {
                let mut p = self.projection.clone();
                let end = Event::Resolved {
                    rto_achieved_secs: None,
                    playbook_secs: 0,
                    rpo_achieved_secs: None,
                    passed: false,
                };
                let at = ended_at.unwrap_or(now);
                p.apply(at, at, &end);
                p.measures(Some(now))
            }
            _ => self.projection.measures(Some(now)),
        };
        Scorecard {
            playbook: self.playbook.id.clone(),
            title: self.playbook.title.clone(),
            declared_at: self.declared_at,
            ended_at,
            aborted: self.aborted.clone(),
            rto_objective_secs: measures.rto_objective_secs,
            rto_achieved_secs: measures.rto_achieved_secs,
            rpo_objective_secs: measures.rpo_objective_secs,
            rpo: self.rpo.clone(),
            steps,
            criteria: measures.criteria.clone(),
            passed: measures.passed,
            mttd_secs: measures.mttd_secs,
            measures,
        }
    }

    // ----- transitions --------------------------------------------------------------------

    /// Records `event` and applies it: the one way state changes.
    fn emit(&mut self, event: Event, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        // Events emitted here name steps of this playbook, so `apply` cannot fail.
        let applied = self.apply(&event, now);
        debug_assert!(
            applied.is_ok(),
            "engine emitted an event for an unknown step"
        );
        out.push(Effect::Record(event));
    }

    /// An arming being signed is dropped (nothing is recorded for it) by whatever ends its
    /// confirmation: asked again, cancelled, confirmed, skipped, the incident over.
    fn drop_signing_ended_by(&mut self, event: &Event) {
        let Some(pending) = &self.signing else {
            return;
        };
        let id = self.playbook.steps[pending.step].id.as_str();
        let ends = match event {
            Event::ConfirmRequested { step, .. }
            | Event::ConfirmCancelled { step }
            | Event::Confirmed { step, .. }
            | Event::Skipped { step, .. }
            | Event::ApprovalArmed { step, .. } => step == id,
            Event::Aborted { .. } | Event::Resolved { .. } => true,
            _ => false,
        };
        if ends {
            self.signing = None;
        }
    }

    /// Applies an event to the state and the projection. `Err(step id)` for a step the playbook
    /// lacks (then nothing changed).
    fn apply(&mut self, event: &Event, at: DateTime<Utc>) -> Result<(), String> {
        self.apply_state(event, at)?;
        self.drop_signing_ended_by(event);
        self.projection.apply(at, at, event);
        Ok(())
    }

    fn apply_state(&mut self, event: &Event, at: DateTime<Utc>) -> Result<(), String> {
        let index = |id: &str| self.playbook.step_index(id).ok_or_else(|| id.to_string());
        match event {
            Event::FaultInjected { .. } => {
                self.fault_injected_at.get_or_insert(at);
                // A drill's outage starts with its fault. Journals of format 1 have no
                // `disrupted` event: without this a replayed one would derive a new disruption
                // from the next picture (as the projection, the fault stands for it).
                self.disrupted.get_or_insert((at, false));
            }
            Event::Declared { .. } => self.declared_at = Some(at),
            Event::StepStarted { step, .. } => {
                let i = index(step)?;
                let r = &mut self.runs[i];
                r.status = StepStatus::Active;
                r.started_at = Some(at);
                r.finished_at = None;
                r.over_target_noted = false;
            }
            Event::ChecklistTicked {
                step, item, ticked, ..
            } => {
                let i = index(step)?;
                if let Some(t) = self.runs[i].ticked.get_mut(*item) {
                    *t = *ticked;
                }
                if let Some(na) = self.runs[i].not_applicable.get_mut(*item) {
                    *na = None;
                }
            }
            Event::ItemNotApplicable {
                step, item, reason, ..
            } => {
                let i = index(step)?;
                let r = &mut self.runs[i];
                if let (Some(t), Some(na)) =
                    (r.ticked.get_mut(*item), r.not_applicable.get_mut(*item))
                {
                    *t = true;
                    *na = Some(reason.clone());
                }
            }
            Event::ItemApplicable { step, item, .. } => {
                let i = index(step)?;
                let r = &mut self.runs[i];
                if let (Some(t), Some(na)) =
                    (r.ticked.get_mut(*item), r.not_applicable.get_mut(*item))
                {
                    *t = false;
                    *na = None;
                }
            }
            Event::MessageEdited { step, message } => {
                let i = index(step)?;
                self.runs[i].message = Some(message.clone());
            }
            Event::ConfirmRequested { step, .. } => {
                let i = index(step)?;
                self.runs[i].status = StepStatus::AwaitingConfirm;
                // Asking again re-arms: approvals of the earlier arming no longer count.
                if self.armed.as_ref().is_some_and(|a| a.step == i) {
                    self.armed = None;
                }
            }
            Event::ConfirmCancelled { step } => {
                let i = index(step)?;
                self.runs[i].status = StepStatus::Active;
            }
            Event::Confirmed { step, attempt, .. } => {
                let i = index(step)?;
                let r = &mut self.runs[i];
                r.status = StepStatus::Running;
                r.attempt = *attempt;
                r.exec_started_at = Some(at);
                r.output.clear();
                r.output_seen = 0;
                r.mask_carry = super::mask::Carry::default();
                r.observed = None;
            }
            Event::RestorePointChosen {
                step,
                choice,
                picked,
                ..
            } => {
                let i = index(step)?;
                // A pick survives a resume: a retry restores to the point the operator chose
                // (re-resolved then; what the list measured is not recorded).
                if *picked {
                    self.picked = Some((i, *choice, Listed::default()));
                }
            }
            Event::RpoCaptured {
                step,
                seconds,
                measured_from,
                ..
            } => {
                index(step)?;
                self.rpo = Some(RpoCapture {
                    step: step.clone(),
                    seconds: seconds.map(|s| s.ceil() as u64),
                    exact_secs: *seconds,
                    measured_from: measured_from.clone(),
                    at,
                });
            }
            Event::Output { step, line, .. } => {
                let i = index(step)?;
                push_bounded(&mut self.runs[i].output, line.clone());
            }
            Event::Verifying { step, .. } => {
                let i = index(step)?;
                let r = &mut self.runs[i];
                r.status = StepStatus::Verifying;
                r.verify_started_at = Some(at);
                r.observed = None;
            }
            Event::StepFinished {
                step,
                outcome,
                detail,
                verified,
                ..
            } => {
                let i = index(step)?;
                if *outcome == Outcome::Done && *verified {
                    self.held_when_done[i] = self.held_since[i];
                }
                let r = &mut self.runs[i];
                r.status = match outcome {
                    Outcome::Done => StepStatus::Done,
                    Outcome::Failed => StepStatus::Failed(detail.clone()),
                };
                r.verified = *verified;
                r.finished_at = Some(at);
            }
            Event::Skipped { step, reason } => {
                let i = index(step)?;
                if self.armed.as_ref().is_some_and(|a| a.step == i) {
                    self.armed = None;
                }
                let r = &mut self.runs[i];
                r.status = StepStatus::Skipped(reason.clone());
                r.verified = false;
                // A pre-skipped step never started: its elapsed time stays unknown.
                r.finished_at = r.started_at.map(|_| at);
            }
            Event::Retried { step } => {
                let i = index(step)?;
                // A later step that became active meanwhile waits again.
                for (j, r) in self.runs.iter_mut().enumerate() {
                    if j != i && r.status == StepStatus::Active {
                        r.status = StepStatus::Pending;
                    }
                }
                let r = &mut self.runs[i];
                r.status = StepStatus::Active;
                r.finished_at = None;
                r.verified = false;
            }
            Event::TargetExceeded { step, .. } => {
                let i = index(step)?;
                self.runs[i].over_target_noted = true;
            }
            Event::RtoRisk { at_risk, .. } => self.at_risk = *at_risk,
            Event::Note { .. } => {}
            Event::SharedNote { by, .. } => {
                self.requests_seen.insert(by.request.clone());
                let newest = self.request_sequence.entry(by.key.clone()).or_insert(0);
                *newest = (*newest).max(by.sequence);
            }
            Event::RequestRefused { request, .. } => {
                self.requests_seen.insert(request.clone());
            }
            Event::ApprovalArmed {
                step,
                resource,
                needed,
                key,
                armed,
                ..
            } => {
                let i = index(step)?;
                self.runs[i].status = StepStatus::Active;
                self.armed = Some(Arming {
                    step: i,
                    typed: None,
                    resource: resource.clone(),
                    needed: *needed,
                    key: key.clone(),
                    digest: armed.clone(),
                    approvals: Vec::new(),
                });
            }
            Event::Approved { step, armed, by } => {
                let i = index(step)?;
                self.requests_seen.insert(by.request.clone());
                let newest = self.request_sequence.entry(by.key.clone()).or_insert(0);
                *newest = (*newest).max(by.sequence);
                if let Some(a) = &mut self.armed
                    && a.step == i
                    && a.digest == *armed
                {
                    a.approvals.push(by.key.clone());
                }
            }
            Event::Disrupted { since, reason, .. } => {
                let derived = reason.is_none() && self.fault_injected_at.is_none();
                self.disrupted = Some((*since, derived));
                self.signal_cleared = false;
            }
            Event::Detected { since, .. } => {
                self.detected = true;
                self.detected_since.get_or_insert(*since);
            }
            Event::ServiceRestored { step, since } => {
                index(step)?;
                self.restored = true;
                self.restored_since = Some(*since);
            }
            Event::ReminderDone {
                text, occurrence, ..
            }
            | Event::ReminderMissed {
                text, occurrence, ..
            } => {
                if let Some(i) = self.playbook.reminders.iter().position(|r| r.text == *text)
                    && let Some(handled) = self.reminders_handled.get_mut(i)
                {
                    *handled = (*handled).max(*occurrence);
                }
            }
            Event::ConsoleClosed { .. } => self.closed = true,
            Event::Resumed { .. } => self.closed = false,
            // Measured by the projection only.
            Event::ClockPaused {} | Event::ClockResumed { .. } | Event::SpeedChanged { .. } => {}
            Event::Aborted { reason } => {
                self.armed = None;
                self.aborted = Some(reason.clone());
                self.ended_at = Some(at);
            }
            Event::Resolved { .. } => {
                self.resolved = true;
                self.ended_at = Some(at);
            }
            Event::FailoverPaused { step, db, .. } => {
                index(step)?;
                self.ha.decide(db);
                self.ha.paused.push((at, db.clone()));
            }
            Event::FailoverResumed { step, db, .. }
            | Event::FailoverLeftPaused { step, db, .. } => {
                index(step)?;
                self.ha.decide(db);
            }
            Event::AbortHeld { reason, .. } => {
                self.armed = None;
                self.ha.abort_held = Some(reason.clone());
            }
        }
        Ok(())
    }

    /// The step index if it is the current one, else a refusal.
    fn current_is(&self, step: usize, out: &mut Vec<Effect>) -> bool {
        if step >= self.runs.len() {
            refuse(out, Some(step), format!("there is no step {}", step + 1));
            return false;
        }
        if self.current() != Some(step) {
            let why = match self.current() {
                Some(c) => format!(
                    "step {} ({}) is not the current step; the incident is on step {} ({})",
                    step + 1,
                    self.playbook.steps[step].id,
                    c + 1,
                    self.playbook.steps[c].id
                ),
                None => format!("step {} is not the current step", step + 1),
            };
            refuse(out, Some(step), why);
            return false;
        }
        true
    }

    fn declare(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if self.declared_at.is_some() {
            refuse(out, None, "the incident is already declared");
            return;
        }
        let event = Event::Declared {
            playbook: self.playbook.id.clone(),
            title: self.playbook.title.clone(),
            hash: self.playbook.hash.clone(),
            rto_secs: self.settings.rto.secs(),
            rpo_secs: self.settings.rpo.secs(),
            read_only: self.settings.read_only,
        };
        self.emit(event, now, out);
        self.advance(now, out);
    }

    /// The text of checklist item `item` of `step` when the operator may change it (the step is
    /// the current one and active); otherwise refused, `None`.
    fn open_item(&self, step: usize, item: usize, out: &mut Vec<Effect>) -> Option<String> {
        if !self.current_is(step, out) {
            return None;
        }
        if self.runs[step].status != StepStatus::Active {
            refuse(
                out,
                Some(step),
                format!(
                    "the checklist is locked while the step is {}",
                    self.runs[step].status.label()
                ),
            );
            return None;
        }
        let Some(text) = self.playbook.steps[step].checklist.get(item) else {
            refuse(
                out,
                Some(step),
                format!("step {} has no checklist item {}", step + 1, item + 1),
            );
            return None;
        };
        Some(text.render(&self.playbook.vars, Reveal::Masked))
    }

    fn toggle(&mut self, step: usize, item: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let Some(text) = self.open_item(step, item, out) else {
            return;
        };
        let event = Event::ChecklistTicked {
            step: self.playbook.steps[step].id.clone(),
            item,
            text,
            ticked: !self.runs[step].ticked[item],
        };
        self.emit(event, now, out);
    }

    /// See [`Input::NotApplicable`].
    fn not_applicable(
        &mut self,
        step: usize,
        item: usize,
        reason: Option<String>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let Some(text) = self.open_item(step, item, out) else {
            return;
        };
        let s = &self.playbook.steps[step];
        let event = match reason.map(|r| r.trim().to_string()) {
            Some(reason) if reason.is_empty() => {
                refuse(
                    out,
                    Some(step),
                    "say why the item does not apply: the reason is recorded",
                );
                return;
            }
            Some(reason) => Event::ItemNotApplicable {
                step: s.id.clone(),
                item,
                text,
                reason,
            },
            None if self.runs[step].not_applicable[item].is_none() => {
                refuse(out, Some(step), "the item is not marked not applicable");
                return;
            }
            None => Event::ItemApplicable {
                step: s.id.clone(),
                item,
                text,
            },
        };
        self.emit(event, now, out);
    }

    /// See [`Input::EditMessage`].
    fn edit_message(
        &mut self,
        step: usize,
        text: String,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        if !self.current_is(step, out) {
            return;
        }
        if self.runs[step].status != StepStatus::AwaitingConfirm {
            refuse(
                out,
                Some(step),
                "the message is edited in the confirmation: request the step first (Enter)",
            );
            return;
        }
        let s = &self.playbook.steps[step];
        if s.message_arg().is_none() {
            refuse(out, Some(step), "this step sends no message to edit");
            return;
        }
        if s.message_uses_secret(&self.playbook.vars) {
            refuse(
                out,
                Some(step),
                "the message uses a secret variable, which the screen only shows masked: \
                 edit it in the playbook",
            );
            return;
        }
        if text.trim().is_empty() {
            refuse(out, Some(step), "an empty message: write something to send");
            return;
        }
        let message = self.settings.occasion.mark(text);
        if self.message(step).as_deref() == Some(message.as_str()) {
            // Unchanged: nothing to record.
            return;
        }
        let event = Event::MessageEdited {
            step: s.id.clone(),
            message,
        };
        self.emit(event, now, out);
    }

    /// Refuses when a checklist item is unticked; true when all are ticked.
    fn checklist_done(&self, step: usize, out: &mut Vec<Effect>) -> bool {
        let missing = self.missing_items(step);
        if missing.is_empty() {
            return true;
        }
        let total = self.playbook.steps[step].checklist.len();
        let list: Vec<String> = missing.iter().map(|m| format!("\"{m}\"")).collect();
        out.push(Effect::Refused {
            step: Some(step),
            why: format!(
                "{UNTICKED_REFUSAL}: {} of {total} not ticked: {}",
                missing.len(),
                list.join(", ")
            ),
            cause: Refusal::Unticked { step },
        });
        false
    }

    fn request(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if !self.current_is(step, out) {
            return;
        }
        let s = &self.playbook.steps[step];
        match &self.runs[step].status {
            StepStatus::Active => {}
            StepStatus::Failed(_) => {
                refuse(
                    out,
                    Some(step),
                    "the step failed: retry it first, or skip it",
                );
                return;
            }
            other => {
                refuse(
                    out,
                    Some(step),
                    format!("the step is already {}", other.label()),
                );
                return;
            }
        }
        if s.executor.is_none() {
            refuse(
                out,
                Some(step),
                "this step runs nothing: complete it once its checklist is ticked",
            );
            return;
        }
        let command = self.command(step).unwrap_or_default();
        if self.settings.read_only {
            refuse(
                out,
                Some(step),
                format!(
                    "read-only session: `{command}` would change {}; run it from a console \
                     started without --read-only, or skip the step with a reason",
                    self.settings.environment.name
                ),
            );
            return;
        }
        if !self.checklist_done(step, out) {
            return;
        }
        let restore = match self.restore_choice(step, now) {
            Some(Err(e)) => {
                refuse(
                    out,
                    Some(step),
                    format!("no restore point can be chosen: {e}"),
                );
                return;
            }
            Some(Ok(r)) => Some(r),
            None => None,
        };
        let s = &self.playbook.steps[step];
        let vars = &self.playbook.vars;
        let mut request = ConfirmRequest {
            step,
            step_id: s.id.clone(),
            title: s.title.clone(),
            environment: self.settings.environment.name.clone(),
            mode: self.settings.mode.clone(),
            command: self.command_shown(step).unwrap_or_default(),
            message: self.message(step),
            message_editable: s.message_arg().is_some() && !s.message_uses_secret(vars),
            exec: s
                .render_exec_with(
                    vars,
                    Reveal::Masked,
                    self.settings.occasion,
                    self.runs[step].message.as_deref(),
                )
                .unwrap_or(Exec::Run {
                    argv: Vec::new(),
                    env: Vec::new(),
                    timeout: None,
                }),
            action_summary: s.builtin().map(|b| b.summary.to_string()),
            env: match s.render_exec(vars, Reveal::Masked) {
                Some(Exec::Run { env, .. }) => env,
                _ => Vec::new(),
            },
            secrets_in_argv: s.secrets_in_argv(vars),
            names: s.resolved_names(vars, &self.settings.environment),
            destructive: s.destructive,
            type_to_confirm: s.confirm_text(vars),
            timeout: s.timeout,
            wait: s
                .wait
                .as_ref()
                .map(|w| format!("{} (timeout {})", w.condition, w.timeout)),
            captures_rpo: s.capture_rpo,
            restore,
            evidence: Evidence::from_sample(self.picture.as_ref(), &self.settings.environment, now),
        };
        // The backend describes the call with the picked point, as it will be asked.
        if let (Some(to), Exec::Action(crate::actions::Call::DbRestore(call))) =
            (self.picked_restore_point(step), &mut request.exec)
        {
            call.to = Some(to);
        }
        let event = Event::ConfirmRequested {
            step: s.id.clone(),
            command,
        };
        self.emit(event, now, out);
        out.push(Effect::OpenConfirm(Box::new(request)));
    }

    fn confirm(
        &mut self,
        step: usize,
        typed: Option<String>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        if !self.current_is(step, out) {
            return;
        }
        if self.runs[step].status != StepStatus::AwaitingConfirm {
            refuse(
                out,
                Some(step),
                "nothing to confirm: request the step first (Enter)",
            );
            return;
        }
        if self.settings.read_only {
            refuse(out, Some(step), "read-only session: nothing is executed");
            return;
        }
        if self.signing.as_ref().is_some_and(|p| p.step == step) {
            refuse(
                out,
                Some(step),
                "signing the arming with the driver's key: wait for it (Esc cancels)",
            );
            return;
        }
        let s = &self.playbook.steps[step];
        let vars = &self.playbook.vars;
        let expected = s.confirm_text(vars);
        if let Some(expected) = &expected {
            let got = typed.as_deref().map(str::trim).unwrap_or("");
            if got != expected {
                let why = if got.is_empty() {
                    format!("destructive step: type {expected:?} to confirm")
                } else {
                    format!("typed {got:?}, but confirming this step needs {expected:?}")
                };
                refuse(out, Some(step), why);
                return;
            }
        }
        if s.executor.is_none() {
            refuse(out, Some(step), "this step runs nothing");
            return;
        }
        let needed = self.approvals_needed(step);
        if needed > 0 {
            self.arm(step, needed, expected, typed, now, out);
            return;
        }
        self.execute_confirmed(step, typed, now, out);
    }

    /// The two-person rule: the confirmation arms the step (recorded, signed by the driver's
    /// key); it runs when [`Self::approve`] has counted `needed` approvals from other keys.
    fn arm(
        &mut self,
        step: usize,
        needed: u32,
        expected: Option<String>,
        typed: Option<String>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let Some(share) = self.settings.share.clone() else {
            refuse(
                out,
                Some(step),
                format!(
                    "this step needs {needed} approval(s) from another person (two-person \
                     rule): run the incident in a shared war room (--share) so an approver can \
                     approve it"
                ),
            );
            return;
        };
        let Some(key) = share.key else {
            refuse(
                out,
                Some(step),
                "this step needs approval, and the driver signs its arming: start the console \
                 with --key (your SSH key in the roster)",
            );
            return;
        };
        let s = &self.playbook.steps[step];
        let command = self.command(step).unwrap_or_default();
        let attempt = self.runs[step].attempt + 1;
        let resource = expected.clone().unwrap_or_else(|| s.id.clone());
        let evidence =
            Evidence::from_sample(self.picture.as_ref(), &self.settings.environment, now);
        let evidence_json = serde_json::to_string(&evidence).unwrap_or_default();
        let signed = serde_json::json!({
            "incident": share.incident,
            "step": s.id,
            "attempt": attempt,
            "command": command,
            "resource": resource,
            "evidence_sha256": sha256_hex(evidence_json.as_bytes()),
            "principal": self.settings.operator,
            "at": now.to_rfc3339_opts(chrono::SecondsFormat::Millis, true),
        })
        .to_string();
        // Nothing is recorded until the signature comes back (Input::ArmingSigned).
        self.signing = Some(PendingArming {
            step,
            attempt,
            signed: signed.clone(),
            command,
            resource,
            evidence,
            needed,
            key,
            typed: expected.and(typed.map(|t| t.trim().to_string())),
        });
        out.push(Effect::SignArming { step, signed });
    }

    /// The driver's key signed the arming pending for `step` (or could not): record
    /// `approval_armed`, or refuse the confirmation. An answer for another arming (stale: the
    /// confirmation was cancelled, the step skipped, the incident aborted, a newer arming
    /// asked) is ignored.
    fn arming_signed(
        &mut self,
        step: usize,
        signed: &str,
        result: Result<String, crate::share::sig::SignError>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let Some(pending) = self
            .signing
            .take_if(|p| p.step == step && p.signed == signed)
        else {
            return;
        };
        // Whatever changed meanwhile must still allow it (the pending arming is dropped on
        // every event that ends the confirmation; these hold it again).
        if self.is_finished() || self.runs[step].status != StepStatus::AwaitingConfirm {
            return;
        }
        if self.settings.read_only {
            refuse(out, Some(step), "read-only session: nothing is executed");
            return;
        }
        let signature = match result {
            Ok(signature) => signature,
            Err(e) => {
                refuse(
                    out,
                    Some(step),
                    format!("the driver's key could not sign the arming: {e}"),
                );
                return;
            }
        };
        let event = Event::ApprovalArmed {
            step: self.playbook.steps[step].id.clone(),
            attempt: pending.attempt,
            command: pending.command,
            resource: pending.resource,
            evidence: pending.evidence,
            needed: pending.needed,
            by: self.settings.operator.clone(),
            key: pending.key,
            armed: sha256_hex(pending.signed.as_bytes()),
            signed: pending.signed,
            signature,
        };
        self.emit(event, now, out);
        if let Some(a) = &mut self.armed {
            a.typed = pending.typed;
        }
    }

    /// The step whose arming the driver's key is signing, if any (the screen says so).
    pub fn signing_arming(&self) -> Option<usize> {
        self.signing.as_ref().map(|p| p.step)
    }

    /// An approval (checked: signature, signer, role) of the step armed.
    fn approve(
        &mut self,
        by: &Signed,
        step_id: &str,
        armed: &str,
        resource: &str,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let refusal = match &self.armed {
            None => Some(format!("nothing waits for approval (step {step_id})")),
            Some(a) if self.playbook.steps.get(a.step).map(|s| s.id.as_str()) != Some(step_id) => {
                Some(format!(
                    "step {step_id} is not the one waiting for approval"
                ))
            }
            Some(a) if a.digest != armed => Some(format!(
                "replayed or stale: it approves another arming of step {step_id} ({}), not the \
                 one waiting ({})",
                short(armed),
                short(&a.digest)
            )),
            Some(a) if a.resource != resource.trim() => Some(format!(
                "typed {:?}, but approving this step needs {:?}",
                resource.trim(),
                a.resource
            )),
            Some(a) if a.key == by.key => Some(format!(
                "signed by the driver's own key ({}): the two-person rule needs another \
                 person's key",
                by.key
            )),
            Some(a) if a.approvals.contains(&by.key) => {
                Some(format!("key {} approved this arming already", by.key))
            }
            Some(_) => None,
        };
        if let Some(reason) = refusal {
            self.emit(
                Event::RequestRefused {
                    request: by.request.clone(),
                    principal: Some(by.principal.clone()),
                    reason,
                },
                now,
                out,
            );
            return;
        }
        self.emit(
            Event::Approved {
                step: step_id.to_string(),
                armed: armed.to_string(),
                by: by.clone(),
            },
            now,
            out,
        );
        let ready = self
            .armed
            .as_ref()
            .filter(|a| a.approvals.len() as u64 >= u64::from(a.needed))
            .map(|a| (a.step, a.typed.clone()));
        if let Some((step, typed)) = ready {
            self.armed = None;
            self.execute_confirmed(step, typed, now, out);
        }
    }

    /// Records the confirmation (and the data-loss window) and starts the executor.
    fn execute_confirmed(
        &mut self,
        step: usize,
        typed: Option<String>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let s = &self.playbook.steps[step];
        let vars = &self.playbook.vars;
        let expected = s.confirm_text(vars);
        let Some(mut exec) = s.render_exec_with(
            vars,
            Reveal::Secrets,
            self.settings.occasion,
            self.runs[step].message.as_deref(),
        ) else {
            refuse(out, Some(step), "this step runs nothing");
            return;
        };
        // A restore: the point is chosen now, from what is known now, and the backend is told
        // that exact point (the choice it resolved from is recorded).
        let chosen = match self.restore_choice(step, now) {
            Some(Err(e)) => {
                refuse(
                    out,
                    Some(step),
                    format!("no restore point can be chosen: {e}"),
                );
                return;
            }
            Some(Ok(r)) => Some(r),
            None => None,
        };
        let picked = self.picked.as_ref().is_some_and(|(p, ..)| *p == step);
        if let (Some(r), Exec::Action(crate::actions::Call::DbRestore(call))) = (&chosen, &mut exec)
        {
            call.to = Some(RestoreTo::At(r.point));
        }
        let s = &self.playbook.steps[step];
        let command = self.command(step).unwrap_or_default();
        let attempt = self.runs[step].attempt + 1;
        let event = Event::Confirmed {
            step: s.id.clone(),
            attempt,
            command: command.clone(),
            destructive: s.destructive,
            typed: expected.and(typed.map(|t| t.trim().to_string())),
            evidence: Evidence::from_sample(self.picture.as_ref(), &self.settings.environment, now),
            by: self.settings.operator.clone(),
        };
        // A retry keeps the window measured before the first attempt: that attempt may have
        // changed the world (a promotion that began drops the frozen window; a restore clears
        // the corruption it measured from), and the data lost does not depend on the attempt.
        let measured_before = self
            .rpo
            .as_ref()
            .is_some_and(|r| r.step == s.id && r.seconds.is_some());
        let capture = (s.capture_rpo && !measured_before).then(|| self.measure_rpo(step, now));
        let step_id = s.id.clone();
        if let Some(r) = chosen {
            let chosen = Event::RestorePointChosen {
                step: step_id.clone(),
                choice: r.to,
                point: r.point,
                basis: r.basis,
                backup_at: r.backup_at,
                onset: r.onset,
                loss_secs: r.loss_secs,
                by: self.settings.operator.clone(),
                picked,
            };
            self.emit(chosen, now, out);
        }
        self.emit(event, now, out);
        if let Some(m) = capture {
            let event = Event::RpoCaptured {
                step: step_id,
                seconds: m.seconds,
                bytes: m.bytes,
                window_from: m.window_from,
                window_to: m.window_to,
                measured_from: m.measured_from,
            };
            self.emit(event, now, out);
        }
        out.push(Effect::Execute {
            step,
            attempt,
            exec,
            command,
        });
    }

    /// The data actually lost by this step's recovery action, independent of when it runs:
    /// - a replica whose source is lost: its frozen window (last replayed commit, source lost];
    /// - a replica whose source still writes: its lag now (the window ends now);
    /// - a restore: (restore point, corruption onset] of the action's `db`, the restore point
    ///   being the newest known-good backup of its `backup`; without a corruption, (restore
    ///   point, now].
    fn measure_rpo(&self, step: usize, now: DateTime<Utc>) -> RpoMeasure {
        let s = &self.playbook.steps[step];
        let vars = &self.playbook.vars;
        let Some(picture) = &self.picture else {
            return RpoMeasure::not("no telemetry had arrived".into());
        };
        let db = s.arg("db", vars, Reveal::Secrets);
        let mut why = Vec::new();
        if let Some(backup) = s.arg("backup", vars, Reveal::Secrets) {
            let db = db.as_deref().unwrap_or("the database");
            let corrupt = picture
                .database(db)
                .is_some_and(|d| d.integrity_ok == Some(false));
            if picture.backup(&backup).is_none() {
                return RpoMeasure::not(format!("no reading of {backup}"));
            }
            return match self.restore_choice(step, now) {
                Some(Ok(r)) => match r.onset {
                    Some(c) => RpoMeasure::window(
                        r.point,
                        c,
                        None,
                        format!(
                            "good writes to {db} between the restore point ({}: {}) and the \
                             corruption onset",
                            r.to,
                            r.basis.label()
                        ),
                    ),
                    None if corrupt => {
                        RpoMeasure::not(format!("the corruption onset of {db} is unknown"))
                    }
                    None => RpoMeasure::window(
                        r.point,
                        now.max(r.point),
                        None,
                        format!(
                            "writes to {db} after the restore point (newest good {backup} \
                             backup); no corruption recorded"
                        ),
                    ),
                },
                Some(Err(e)) => RpoMeasure::not(e.to_string()),
                None => RpoMeasure::not(format!("no restore point for {db}")),
            };
        }
        if let Some(db) = db {
            match picture.database(&db).map(|d| d.replication.as_ref()) {
                None => why.push(format!("no reading of {db}")),
                Some(None) => why.push(format!("{db} does not replicate")),
                Some(Some(r)) => {
                    let lost = r.last_replayed_at.zip(r.source_lost_at);
                    match (lost, r.loss_window_secs, r.lag_secs) {
                        (Some((from, to)), Some(secs), _) => {
                            let mut m = RpoMeasure::window(
                                from,
                                to,
                                r.loss_window_bytes,
                                format!(
                                    "writes {db} had not replayed when {} was lost; evidence: {}",
                                    r.source,
                                    r.loss_evidence.as_deref().unwrap_or("replica reading")
                                ),
                            );
                            m.seconds = Some(secs);
                            return m;
                        }
                        (_, Some(secs), _) => {
                            return RpoMeasure {
                                seconds: Some(secs),
                                bytes: r.loss_window_bytes,
                                window_from: None,
                                window_to: None,
                                measured_from: format!(
                                    "writes {db} had not replayed when {} stopped",
                                    r.source
                                ),
                            };
                        }
                        (_, None, Some(lag)) => {
                            let from = now - chrono::TimeDelta::milliseconds((lag * 1000.0) as i64);
                            let mut m = RpoMeasure::window(
                                from,
                                now,
                                r.lag_bytes,
                                format!(
                                    "replica lag of {db}: {} still writes, so the window ends now",
                                    r.source
                                ),
                            );
                            m.seconds = Some(lag);
                            return m;
                        }
                        (_, None, None) => why.push(format!("replica lag of {db} unknown")),
                    }
                }
            }
        }
        if why.is_empty() {
            why.push("the step names no db or backup".into());
        }
        RpoMeasure::not(why.join("; "))
    }

    /// What is known for choosing a `db.restore` step's point: the corruption onset (the
    /// database's own reading, else the incident's recorded disruption in a corruption
    /// playbook: the fault, the first failing integrity reading, or the commander's
    /// correction), the newest good backup of its series, and how far the WAL archive reaches.
    fn restore_known(&self, picture: &Sample, db: &str, backup: &str) -> Known {
        let onset = picture
            .database(db)
            .and_then(|d| d.corrupt_since)
            .or_else(|| {
                (self.playbook.scenario == super::model::Scenario::Corruption)
                    .then(|| self.disrupted.map(|(d, _)| d))
                    .flatten()
            });
        // RDS keeps its own point-in-time window (the backend checks the exact window before
        // any call): a time up to now is offered, and refused there when outside it.
        let rds = self
            .settings
            .environment
            .database(db)
            .is_some_and(|d| d.aws.is_some());
        // The series' newest restore test: the backup it verified, passed or failed.
        let tested = picture
            .backup(backup)
            .and_then(|b| b.last_verified)
            .and_then(|v| v.backup.map(|at| (at, v.ok)));
        Known {
            onset,
            newest_good_backup: picture.backup(backup).and_then(|b| b.last_good),
            backups: Vec::new(),
            verified: tested
                .filter(|(_, ok)| *ok)
                .map(|(at, _)| at)
                .into_iter()
                .collect(),
            failed_verification: tested
                .filter(|(_, ok)| !*ok)
                .map(|(at, _)| at)
                .into_iter()
                .collect(),
            windows: Vec::new(),
            gaps: Vec::new(),
            wal_reach: picture
                .backups
                .iter()
                .filter(|b| crate::recovery::is_wal_archive(&b.kind))
                .filter_map(|b| b.last_success)
                .chain(rds.then_some(picture.at))
                .max(),
        }
    }

    /// The point a `db.restore` step restores to if confirmed now (`None`: not a restore, or no
    /// telemetry yet to choose from): the operator's pick, else the playbook's `to`.
    pub fn restore_choice(
        &self,
        step: usize,
        now: DateTime<Utc>,
    ) -> Option<Result<Resolved, ResolveError>> {
        match self.picked.as_ref().filter(|(p, ..)| *p == step) {
            Some((_, to, listed)) => self.preview_restore(step, Some(*to), listed, now),
            None => self.preview_restore(step, None, &Listed::default(), now),
        }
    }

    /// What a `db.restore` step would restore to with the choice `to` (`None`: the playbook's
    /// `to`, or its default) and what a restore-point list measured: the same resolver the
    /// confirmation uses, changing nothing (the picker shows it for the row under the cursor).
    pub fn preview_restore(
        &self,
        step: usize,
        to: Option<RestoreTo>,
        listed: &Listed,
        now: DateTime<Utc>,
    ) -> Option<Result<Resolved, ResolveError>> {
        let target = self.restore_target(step)?;
        let picture = self.picture.as_ref()?;
        let known = self
            .restore_known(picture, &target.db, &target.backup)
            .with(listed);
        let to = match to {
            Some(t) => t,
            None => match &target.to {
                None => RestoreTo::default_for(&known),
                Some(v) => match v.parse::<RestoreTo>() {
                    Ok(t) => t,
                    Err(e) => return Some(Err(ResolveError::Bad(e))),
                },
            },
        };
        Some(crate::recovery::resolve(to, &known, now))
    }

    /// A `db.restore` step's database, backup series and `to` as written (`None`: not a
    /// restore); with the corruption onset known now, for the picker's list.
    pub fn restore_target(&self, step: usize) -> Option<RestoreTarget> {
        let s = self.playbook.steps.get(step)?;
        if s.builtin().map(|b| b.action) != Some(crate::actions::BuiltinAction::DbRestore) {
            return None;
        }
        let vars = &self.playbook.vars;
        let db = s.arg("db", vars, Reveal::Secrets)?;
        let backup = s.arg("backup", vars, Reveal::Secrets)?;
        let onset = self
            .picture
            .as_ref()
            .and_then(|p| self.restore_known(p, &db, &backup).onset);
        Some(RestoreTarget {
            to: s.arg("to", vars, Reveal::Secrets),
            db,
            backup,
            onset,
        })
    }

    /// See [`Input::ChooseRestorePoint`]: only for the current step, a `db.restore` not yet
    /// running, and only a choice the resolver accepts.
    fn choose_restore_point(
        &mut self,
        step: usize,
        to: RestoreTo,
        listed: Listed,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        if !self.current_is(step, out) {
            return;
        }
        if !matches!(
            self.runs[step].status,
            StepStatus::Active | StepStatus::Failed(_)
        ) {
            refuse(
                out,
                Some(step),
                format!(
                    "the step is {}: its restore point cannot change now",
                    self.runs[step].status.label()
                ),
            );
            return;
        }
        let previous = self.picked.replace((step, to, listed));
        match self.restore_choice(step, now) {
            Some(Ok(_)) => {}
            Some(Err(e)) => {
                self.picked = previous;
                refuse(out, Some(step), format!("restore point {to} refused: {e}"));
            }
            None => {
                self.picked = previous;
                refuse(
                    out,
                    Some(step),
                    "this step restores nothing (or no telemetry has arrived to choose from)",
                );
            }
        }
    }

    /// The restore point the operator picked for `step`, if any.
    pub fn picked_restore_point(&self, step: usize) -> Option<RestoreTo> {
        self.picked
            .as_ref()
            .filter(|(p, ..)| *p == step)
            .map(|(_, to, _)| *to)
    }

    fn cancel(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if !self.current_is(step, out) {
            return;
        }
        if self.runs[step].status != StepStatus::AwaitingConfirm {
            refuse(out, Some(step), "no confirmation is open for this step");
            return;
        }
        let event = Event::ConfirmCancelled {
            step: self.playbook.steps[step].id.clone(),
        };
        self.emit(event, now, out);
    }

    fn is_live_attempt(&self, step: usize, attempt: u32) -> bool {
        self.runs
            .get(step)
            .is_some_and(|r| r.status == StepStatus::Running && r.attempt == attempt)
    }

    fn output(
        &mut self,
        step: usize,
        attempt: u32,
        line: &str,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        if !self.is_live_attempt(step, attempt) {
            return;
        }
        // Masked on the whole line (the executor assembles lines from the pipe's chunks), then
        // cut: a cut must not split a secret before it is masked.
        let masked = self
            .masker
            .mask_line(line.trim_end(), &mut self.runs[step].mask_carry);
        let line = truncate_chars(&masked, OUTPUT_LINE_MAX_CHARS);
        let id = self.playbook.steps[step].id.clone();
        self.runs[step].output_seen += 1;
        let seen = self.runs[step].output_seen;
        if seen <= OUTPUT_JOURNAL_LINES {
            self.emit(
                Event::Output {
                    step: id,
                    attempt,
                    line,
                },
                now,
                out,
            );
            return;
        }
        if seen == OUTPUT_JOURNAL_LINES + 1 {
            let notice =
                format!("… further output not journaled (over {OUTPUT_JOURNAL_LINES} lines)");
            self.emit(
                Event::Output {
                    step: id,
                    attempt,
                    line: notice,
                },
                now,
                out,
            );
        }
        push_bounded(&mut self.runs[step].output, line);
    }

    fn exec_finished(
        &mut self,
        step: usize,
        attempt: u32,
        result: Result<(), String>,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        if !self.is_live_attempt(step, attempt) {
            // A report from an attempt that was killed, skipped or superseded.
            return;
        }
        match result {
            Err(why) => {
                let why = self.masker.mask(why.trim());
                let why = if why.is_empty() {
                    "the executor failed".to_string()
                } else {
                    why
                };
                self.fail(step, why, now, out);
            }
            Ok(()) => {
                self.record_failover(step, now, out);
                let s = &self.playbook.steps[step];
                if let Some(wait) = &s.wait {
                    let event = Event::Verifying {
                        step: s.id.clone(),
                        condition: wait.condition.to_string(),
                        timeout_secs: wait.timeout.secs(),
                    };
                    self.emit(event, now, out);
                } else {
                    let verified = s.is_verification();
                    let detail = match s.kind() {
                        StepKind::Action => {
                            format!("{} succeeded", s.builtin().map_or("", |b| b.name))
                        }
                        _ => "exited successfully".into(),
                    };
                    self.finish_done(step, detail, verified, now, out);
                }
            }
        }
    }

    /// HA interlock: a step running `ha.pause` or `ha.resume` succeeded: recorded as
    /// `failover_paused` / `failover_resumed`, with the database and who confirmed it.
    fn record_failover(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        use crate::actions::BuiltinAction;
        let Some(action) = self.action_of(step) else {
            return;
        };
        let s = &self.playbook.steps[step];
        let id = s.id.clone();
        let db = s
            .arg("db", &self.playbook.vars, Reveal::Masked)
            .unwrap_or_default();
        let by = self.settings.operator.clone();
        let event = match action {
            BuiltinAction::HaPause => Event::FailoverPaused { step: id, db, by },
            BuiltinAction::HaResume => Event::FailoverResumed { step: id, db, by },
            BuiltinAction::DbPromote
            | BuiltinAction::DbFailover
            | BuiltinAction::DbReadOnly
            | BuiltinAction::DbRestore
            | BuiltinAction::DnsPoint
            | BuiltinAction::AppScale
            | BuiltinAction::BackupSnapshot
            | BuiltinAction::BackupVerify
            | BuiltinAction::SecretRotate
            | BuiltinAction::HttpCheck
            | BuiltinAction::NotifyWebhook => return,
        };
        self.emit(event, now, out);
    }

    fn skip(&mut self, step: usize, reason: &str, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let reason = reason.trim();
        if reason.is_empty() {
            refuse(
                out,
                Some(step),
                "a skip needs a reason: it goes into the journal and the postmortem",
            );
            return;
        }
        let Some(run) = self.runs.get(step) else {
            refuse(out, Some(step), format!("there is no step {}", step + 1));
            return;
        };
        let is_current = self.current() == Some(step);
        match &run.status {
            StepStatus::Pending => {}
            StepStatus::Done | StepStatus::Skipped(_) => {
                refuse(out, Some(step), "the step is already finished");
                return;
            }
            StepStatus::Failed(_) if !is_current => {
                refuse(
                    out,
                    Some(step),
                    "the failure is recorded and the incident moved on (on_failure = \
                     \"continue\"); retry it if it still matters",
                );
                return;
            }
            StepStatus::Running => out.push(Effect::Kill {
                step,
                attempt: run.attempt,
            }),
            _ => {}
        }
        // HA interlock: the resume step is the decision at the end; skipping it while paused
        // leaves automatic failover off, for the reason typed, recorded with who.
        if self.action_of(step) == Some(crate::actions::BuiltinAction::HaResume) {
            if !is_current {
                refuse(
                    out,
                    Some(step),
                    "resuming automatic failover is decided at the end (it is offered when the \
                     incident resolves or is aborted): skip it then, with a reason, to leave \
                     it paused",
                );
                return;
            }
            let s = &self.playbook.steps[step];
            let db = s
                .arg("db", &self.playbook.vars, Reveal::Masked)
                .unwrap_or_default();
            if self.maybe_paused(&db) {
                let event = Event::FailoverLeftPaused {
                    step: s.id.clone(),
                    db,
                    reason: reason.to_string(),
                    by: self.settings.operator.clone(),
                };
                self.emit(event, now, out);
            }
        }
        // Skipping the restoring step does not restore anything by itself; but when its
        // condition already holds (the load balancer serves again), service is back, since
        // then: the operator skips work the world has done.
        let restored_by_world = (self.playbook.steps[step].restores_service && !self.restored)
            .then(|| self.held_since.get(step).copied().flatten())
            .flatten();
        let event = Event::Skipped {
            step: self.playbook.steps[step].id.clone(),
            reason: reason.to_string(),
        };
        self.emit(event, now, out);
        if let Some(held) = restored_by_world {
            self.held_when_done[step] = Some(held);
            self.service_restored(step, now, out);
        }
        self.advance(now, out);
    }

    fn retry(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let Some(run) = self.runs.get(step) else {
            refuse(out, Some(step), format!("there is no step {}", step + 1));
            return;
        };
        if !matches!(run.status, StepStatus::Failed(_)) {
            refuse(
                out,
                Some(step),
                format!(
                    "only a failed step can be retried; this one is {}",
                    run.status.label()
                ),
            );
            return;
        }
        if let Some(busy) = self.runs.iter().position(|r| r.status.in_flight()) {
            refuse(
                out,
                Some(step),
                format!(
                    "step {} ({}) is {}: wait for it, or skip it, before retrying another step",
                    busy + 1,
                    self.playbook.steps[busy].id,
                    self.runs[busy].status.label()
                ),
            );
            return;
        }
        let event = Event::Retried {
            step: self.playbook.steps[step].id.clone(),
        };
        self.emit(event, now, out);
    }

    fn complete(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if !self.current_is(step, out) {
            return;
        }
        let s = &self.playbook.steps[step];
        match &self.runs[step].status {
            StepStatus::Active => {}
            StepStatus::Verifying => {
                refuse(
                    out,
                    Some(step),
                    "waiting for the condition to hold; skip the step (with a reason) to stop waiting",
                );
                return;
            }
            StepStatus::Failed(_) => {
                refuse(
                    out,
                    Some(step),
                    "the step failed: retry it first, or skip it",
                );
                return;
            }
            other => {
                refuse(out, Some(step), format!("the step is {}", other.label()));
                return;
            }
        }
        if s.executor.is_some() {
            refuse(
                out,
                Some(step),
                "this step runs something: request it (Enter) and confirm, or skip it with a reason",
            );
            return;
        }
        if !self.checklist_done(step, out) {
            return;
        }
        let s = &self.playbook.steps[step];
        match &s.wait {
            Some(wait) => {
                let event = Event::Verifying {
                    step: s.id.clone(),
                    condition: wait.condition.to_string(),
                    timeout_secs: wait.timeout.secs(),
                };
                self.emit(event, now, out);
            }
            None => {
                let detail = if s.checklist.is_empty() {
                    "completed by the operator".to_string()
                } else {
                    format!("checklist complete ({} items)", s.checklist.len())
                };
                self.finish_done(step, detail, false, now, out);
            }
        }
    }

    fn abort(&mut self, reason: &str, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let reason = reason.trim();
        if reason.is_empty() {
            refuse(
                out,
                None,
                "aborting needs a reason: it goes into the postmortem",
            );
            return;
        }
        // HA interlock: never closed while paused without a decision. The abort waits for it;
        // the resume step becomes the current one.
        if self.ha.abort_held.is_some() {
            refuse(
                out,
                None,
                "the abort is already asked: it is recorded once automatic failover is resumed \
                 (Enter on the resume step) or left paused (skip that step with a reason)",
            );
            return;
        }
        if self.failover_decision_needed() {
            // The interlock's own steps are not killed: a pause still running finishes (once
            // Patroni answers, its cluster is paused and needs the decision, or not), and a
            // resume running is the decision.
            for (i, run) in self.runs.iter().enumerate() {
                let interlock = matches!(
                    self.action_of(i),
                    Some(
                        crate::actions::BuiltinAction::HaPause
                            | crate::actions::BuiltinAction::HaResume
                    )
                );
                if run.status == StepStatus::Running && !interlock {
                    out.push(Effect::Kill {
                        step: i,
                        attempt: run.attempt,
                    });
                }
            }
            let event = Event::AbortHeld {
                reason: reason.to_string(),
                by: self.settings.operator.clone(),
            };
            self.emit(event, now, out);
            // The resume step is offered now, unless a pause is still running: then once it
            // has answered (`advance`).
            if self.pause_running().is_none()
                && let Some(r) = self.resume_step()
            {
                self.start_if_pending(r, now, out);
            }
            return;
        }
        self.finish_abort(reason, now, out);
    }

    /// Starts step `r` (`step_started`) if it is pending.
    fn start_if_pending(&mut self, r: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if self.runs[r].status != StepStatus::Pending {
            return;
        }
        let s = &self.playbook.steps[r];
        let event = Event::StepStarted {
            step: s.id.clone(),
            title: s.title.clone(),
            target_secs: s.target.secs(),
        };
        self.emit(event, now, out);
    }

    /// Records the abort and ends the incident (running executors killed).
    fn finish_abort(&mut self, reason: &str, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        for (i, r) in self.runs.iter().enumerate() {
            if r.status == StepStatus::Running {
                out.push(Effect::Kill {
                    step: i,
                    attempt: r.attempt,
                });
            }
        }
        self.emit(
            Event::Aborted {
                reason: reason.to_string(),
            },
            now,
            out,
        );
        out.push(Effect::Finished(Box::new(self.scorecard(now))));
    }

    fn finish_done(
        &mut self,
        step: usize,
        detail: String,
        verified: bool,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let s = &self.playbook.steps[step];
        let event = Event::StepFinished {
            step: s.id.clone(),
            outcome: Outcome::Done,
            detail,
            verified,
            elapsed_secs: self.elapsed(step, now).unwrap_or(0),
            target_secs: s.target.secs(),
        };
        let restores = s.restores_service;
        self.emit(event, now, out);
        if restores && !self.restored {
            self.service_restored(step, now, out);
        }
        self.advance(now, out);
    }

    fn fail(&mut self, step: usize, why: String, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let s = &self.playbook.steps[step];
        let event = Event::StepFinished {
            step: s.id.clone(),
            outcome: Outcome::Failed,
            detail: why,
            verified: false,
            elapsed_secs: self.elapsed(step, now).unwrap_or(0),
            target_secs: s.target.secs(),
        };
        self.emit(event, now, out);
        self.advance(now, out);
    }

    /// Starts the next pending step when nothing holds the incident, or resolves it when every
    /// step is finished.
    fn advance(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        if self.is_finished() {
            return;
        }
        // An abort held by the HA interlock completes once the decision is recorded.
        if let Some(reason) = self.ha.abort_held.clone()
            && !self.failover_decision_needed()
        {
            self.finish_abort(&reason, now, out);
            return;
        }
        // Still held: the next cluster's resume step (several clusters were paused) decides.
        if self.ha.abort_held.is_some()
            && let Some(r) = self.resume_step()
            && self.runs[r].status == StepStatus::Pending
        {
            self.start_if_pending(r, now, out);
            return;
        }
        if self.current().is_some() {
            return;
        }
        if let Some(next) = self
            .runs
            .iter()
            .position(|r| r.status == StepStatus::Pending)
        {
            self.start_if_pending(next, now, out);
            return;
        }
        // Every step is done, skipped or failed-and-continued. Never resolved while a paused
        // cluster waits for its decision (every paused database has a resume step, which
        // would still be pending: this holds the incident should one not).
        if self.failover_decision_needed() {
            return;
        }
        self.settle_measures(now, out);
        // The resolution time is `now`: compute the scorecard as it will be once resolved.
        let card = self.score(now, true, Some(now));
        let event = Event::Resolved {
            rto_achieved_secs: card.rto_achieved_secs,
            playbook_secs: self.declared_at.map_or(0, |d| secs_between(d, now)),
            rpo_achieved_secs: card.measures.rpo.as_ref().and_then(|r| r.seconds),
            passed: card.passed,
        };
        self.emit(event, now, out);
        out.push(Effect::Finished(Box::new(self.scorecard(now))));
    }
}

impl Engine {
    // ----- milestones ---------------------------------------------------------------------

    fn set_disruption(
        &mut self,
        since: DateTime<Utc>,
        reason: &str,
        now: DateTime<Utc>,
        out: &mut Vec<Effect>,
    ) {
        let reason = reason.trim();
        if reason.is_empty() {
            refuse(
                out,
                None,
                "setting when the outage began needs a reason: it goes into the journal and the \
                 postmortem",
            );
            return;
        }
        if since > now {
            refuse(
                out,
                None,
                format!(
                    "{} is in the future: the outage cannot have begun after now",
                    since.format("%Y-%m-%d %H:%M:%S UTC")
                ),
            );
            return;
        }
        // The outage cannot begin after its own alarm or after service came back: such a
        // correction would make MTTD and RTO read 0 (an auditor's figure that passes by mistake).
        let later_than = [
            (
                self.detected_since,
                "the first alarm-level reading (detected)",
            ),
            (self.restored_since, "service was restored"),
        ];
        for (bound, what) in later_than {
            if let Some(at) = bound.filter(|at| since > *at) {
                refuse(
                    out,
                    None,
                    format!(
                        "{} is after {what} at {}: the outage began before that; give an earlier \
                         time",
                        since.format("%Y-%m-%d %H:%M:%S UTC"),
                        at.format("%H:%M:%S UTC")
                    ),
                );
                return;
            }
        }
        let event = Event::Disrupted {
            since,
            evidence: "set by the incident commander".into(),
            reason: Some(reason.to_string()),
            by: Some(self.settings.operator.clone()),
        };
        self.emit(event, now, out);
    }

    /// Keeps, for every unfinished step with a wait, since when its condition has held.
    fn track_waits(&mut self, picture: &Sample, now: DateTime<Utc>) {
        self.first_picture_at.get_or_insert(picture.at);
        for (i, step) in self.playbook.steps.iter().enumerate() {
            let Some(wait) = &step.wait else {
                continue;
            };
            if matches!(
                self.runs[i].status,
                StepStatus::Done | StepStatus::Skipped(_)
            ) {
                continue;
            }
            if wait
                .condition
                .observe_in_step(picture, now, self.runs[i].started_at)
                .met
            {
                self.held_since[i].get_or_insert(picture.at);
            } else {
                self.held_since[i] = None;
                self.failed_at[i] = Some(picture.at);
            }
        }
    }

    /// The logical name of the region the scenarios' signals are read in: the primary.
    fn primary_region(&self) -> Option<&str> {
        let regions = &self.settings.environment.regions;
        regions
            .iter()
            .find(|r| r.role == RegionRole::Primary)
            .or(regions.first())
            .map(|r| r.name.get_ref().as_str())
    }

    /// Live milestones from the picture: `disrupted` at the earliest failing reading of the
    /// scenario's signal (unless a fault or the commander set it), `detected` at the first
    /// alarm-level reading after it.
    fn judge_milestones(&mut self, picture: &Sample, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let scenario = self.playbook.scenario;
        let region = self.primary_region().unwrap_or_default().to_string();
        let failing = signal(scenario, picture, &region);
        match (self.disrupted, failing) {
            (None, Some(r)) => self.disrupted_by_reading(r, now, out),
            (Some((_, true)), Some(r)) if self.signal_cleared && !self.detected => {
                self.disrupted_by_reading(r, now, out);
            }
            (Some((_, true)), None) if !self.detected => self.signal_cleared = true,
            _ => {}
        }
        let Some((since, _)) = self.disrupted else {
            return;
        };
        if self.detected {
            return;
        }
        if let Some(a) = alarm(scenario, picture, &region).filter(|a| a.at >= since) {
            let event = Event::Detected {
                since: a.at.min(now),
                evidence: a.evidence,
            };
            self.emit(event, now, out);
        }
    }

    fn disrupted_by_reading(&mut self, r: Reading, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let event = Event::Disrupted {
            since: r.at.min(now),
            evidence: r.evidence,
            reason: None,
            by: None,
        };
        self.emit(event, now, out);
    }

    /// When service came back with the restoring `step` done at `now`: when its own wait
    /// (or, without one, its completion) and every earlier step's wait all held; never before
    /// the disruption, never after `now`.
    /// Records that `step`, the restoring one, brought service back (since [`Self::restored_since`]).
    fn service_restored(&mut self, step: usize, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        let event = Event::ServiceRestored {
            step: self.playbook.steps[step].id.clone(),
            since: self.restored_since(step, now),
        };
        self.emit(event, now, out);
    }

    fn restored_since(&self, step: usize, now: DateTime<Utc>) -> DateTime<Utc> {
        let own = if self.playbook.steps[step].wait.is_some() {
            self.held_when_done[step].unwrap_or(now)
        } else {
            now
        };
        let mut since = self.held_when_done[..step]
            .iter()
            .flatten()
            .copied()
            .fold(own, DateTime::max);
        if let Some((d, _)) = self.disrupted {
            since = since.max(d);
        }
        since.min(now)
    }

    /// At the resolution: a playbook without a restoring step counts its resolution as service
    /// restored; a scenario that recovers no data (AZ loss on synchronous Multi-AZ, a breach
    /// without a restore) records RPO 0 by construction, with the reason.
    fn settle_measures(&mut self, now: DateTime<Utc>, out: &mut Vec<Effect>) {
        // The last step of the work: the HA interlock's resume step restores no service.
        let last = self
            .playbook
            .steps
            .iter()
            .rposition(|s| {
                s.builtin()
                    .is_none_or(|b| b.action != crate::actions::BuiltinAction::HaResume)
            })
            .or(self.playbook.steps.len().checked_sub(1));
        if !self.restored
            && self.playbook.restoring_step().is_none()
            && let Some(last) = last
        {
            let event = Event::ServiceRestored {
                step: self.playbook.steps[last].id.clone(),
                since: self.disrupted.map_or(now, |(d, _)| d.max(now)).min(now),
            };
            self.emit(event, now, out);
        }
        if self.rpo.is_some() || self.playbook.steps.iter().any(|s| s.capture_rpo) {
            return;
        }
        let region = self.primary_region().unwrap_or_default().to_string();
        let env = &self.settings.environment;
        let reason = match self.playbook.scenario {
            Scenario::AzLoss => {
                let dbs: Vec<_> = env
                    .databases
                    .iter()
                    .filter(|d| *d.region.get_ref() == region && d.replica_of.is_none())
                    .collect();
                (!dbs.is_empty() && dbs.iter().all(|d| d.multi_az)).then(|| {
                    "0 by construction: the Multi-AZ standby is synchronous, so every committed \
                     write survived the failover"
                        .to_string()
                })
            }
            Scenario::Breach => Some(
                "0 by construction: recovered without a restore, so no committed write was \
                 rolled back"
                    .to_string(),
            ),
            Scenario::RegionLoss | Scenario::Corruption | Scenario::Custom => None,
        };
        let step = self
            .playbook
            .restoring_step()
            .or(last)
            .map(|i| self.playbook.steps[i].id.clone());
        if let (Some(measured_from), Some(step)) = (reason, step) {
            let event = Event::RpoCaptured {
                step,
                seconds: Some(0.0),
                bytes: None,
                window_from: None,
                window_to: None,
                measured_from,
            };
            self.emit(event, now, out);
        }
    }
}

/// What [`Engine::measure_rpo`] found.
struct RpoMeasure {
    seconds: Option<f64>,
    bytes: Option<u64>,
    window_from: Option<DateTime<Utc>>,
    window_to: Option<DateTime<Utc>>,
    measured_from: String,
}

impl RpoMeasure {
    fn not(why: String) -> RpoMeasure {
        RpoMeasure {
            seconds: None,
            bytes: None,
            window_from: None,
            window_to: None,
            measured_from: why,
        }
    }

    /// The window `(from, to]`, its length in seconds.
    fn window(
        from: DateTime<Utc>,
        to: DateTime<Utc>,
        bytes: Option<u64>,
        measured_from: String,
    ) -> RpoMeasure {
        RpoMeasure {
            seconds: Some((to - from).num_milliseconds().max(0) as f64 / 1000.0),
            bytes,
            window_from: Some(from),
            window_to: Some(to),
            measured_from,
        }
    }
}

/// A reading of a scenario's signal: when, and what it said.
struct Reading {
    at: DateTime<Utc>,
    evidence: String,
}

/// The scenario's signal failing in `p` (the disruption), read in the primary `region`.
fn signal(scenario: Scenario, p: &Sample, region: &str) -> Option<Reading> {
    match scenario {
        Scenario::RegionLoss => failing_check(p, region).or_else(|| zones_down(p, region)),
        Scenario::AzLoss => zones_down(p, region)
            .or_else(|| failing_check(p, region))
            .or_else(|| db_impaired(p, region)),
        Scenario::Corruption => integrity_failure(p, true),
        Scenario::Breach => security_spike(p, region),
        Scenario::Custom => {
            let v = p.region_verdict(region);
            matches!(v, Verdict::Degraded | Verdict::Down).then(|| Reading {
                at: p.at,
                evidence: format!("region {region} {}", v.label()),
            })
        }
    }
}

/// The first alarm-level reading in `p` (the detection).
fn alarm(scenario: Scenario, p: &Sample, region: &str) -> Option<Reading> {
    match scenario {
        Scenario::RegionLoss | Scenario::Custom => region_down(p, region),
        Scenario::AzLoss => zones_down(p, region)
            .or_else(|| endpoint_down(p, region))
            .or_else(|| region_down(p, region)),
        Scenario::Corruption => integrity_failure(p, false),
        Scenario::Breach => security_spike(p, region),
    }
}

fn failing_check(p: &Sample, region: &str) -> Option<Reading> {
    let e = p
        .endpoints
        .iter()
        .find(|e| e.region == region && e.consecutive_failures > 0)?;
    Some(Reading {
        at: p.at,
        evidence: format!(
            "failing health check of {region} ({}: {} failed in a row)",
            e.url, e.consecutive_failures
        ),
    })
}

fn endpoint_down(p: &Sample, region: &str) -> Option<Reading> {
    let e = p
        .endpoints
        .iter()
        .find(|e| e.region == region && e.is_down())?;
    Some(Reading {
        at: p.at,
        evidence: format!(
            "{} failed health checks of {region} ({})",
            e.consecutive_failures, e.url
        ),
    })
}

fn region_down(p: &Sample, region: &str) -> Option<Reading> {
    (p.region_verdict(region) == Verdict::Down).then(|| Reading {
        at: p.at,
        evidence: format!("region {region} DOWN"),
    })
}

fn zones_down(p: &Sample, region: &str) -> Option<Reading> {
    let down: Vec<&str> = p
        .zones
        .iter()
        .filter(|z| z.region == region && !z.up)
        .map(|z| z.zone.as_str())
        .collect();
    (!down.is_empty()).then(|| Reading {
        at: p.at,
        evidence: format!("zone(s) of {region} down: {}", down.join(", ")),
    })
}

fn db_impaired(p: &Sample, region: &str) -> Option<Reading> {
    let d = p.databases.iter().find(|d| {
        d.region == region && matches!(d.state, DbState::FailingOver | DbState::Unreachable)
    })?;
    Some(Reading {
        at: p.at,
        evidence: format!(
            "{} {}",
            d.name,
            serde_json::to_value(d.state)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default()
        ),
    })
}

/// Failing integrity checks: at the corruption's onset when `onset` (the signal) and known,
/// else at the reading (the alarm).
fn integrity_failure(p: &Sample, onset: bool) -> Option<Reading> {
    let d = p.databases.iter().find(|d| d.integrity_ok == Some(false))?;
    let at = match (onset, d.corrupt_since) {
        (true, Some(c)) => c.min(p.at),
        _ => p.at,
    };
    Some(Reading {
        at,
        evidence: format!("integrity checks of {} fail", d.name),
    })
}

fn security_spike(p: &Sample, region: &str) -> Option<Reading> {
    let s = p.security.iter().find(|s| {
        s.region == region
            && (s.unusual_access || s.failed_auth_per_min >= FAILED_AUTH_SPIKE_PER_MIN)
    })?;
    Some(Reading {
        at: p.at,
        evidence: format!(
            "security signal of {region}: {} failed logins/min{}",
            s.failed_auth_per_min,
            if s.unusual_access {
                ", unusual access"
            } else {
                ""
            }
        ),
    })
}

fn refuse(out: &mut Vec<Effect>, step: Option<usize>, why: impl Into<String>) {
    out.push(Effect::Refused {
        step,
        why: why.into(),
        cause: Refusal::Other,
    });
}

fn push_bounded(buf: &mut VecDeque<String>, line: String) {
    if buf.len() == OUTPUT_KEEP_LINES {
        buf.pop_front();
    }
    buf.push_back(line);
}

/// The `kind` tag of an event (`step_started`).
pub fn event_kind(event: &Event) -> String {
    serde_json::to_value(event)
        .ok()
        .and_then(|v| v.get("kind").and_then(|k| k.as_str()).map(str::to_string))
        .unwrap_or_default()
}

/// SHA-256 of `bytes`, lowercase hex.
pub fn sha256_hex(bytes: &[u8]) -> String {
    use sha2::Digest;
    sha2::Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// The first 12 hex digits of a digest, for messages.
fn short(digest: &str) -> &str {
    digest.get(..12).unwrap_or(digest)
}
