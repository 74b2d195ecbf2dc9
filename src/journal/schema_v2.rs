//! Journal format version 2 on disk: one serde type per event kind, and the explicit conversions
//! to and from the engine's in-memory [`Event`]. The engine's types are not the file format: a
//! change to [`Event`] stops the build here (the conversions match exhaustively) instead of
//! silently changing what is written. The user's reference is `docs/journal.md`.
//!
//! An event line is `{"seq":N,"at":"<wall UTC>","sim":"<simulated UTC>","prev":"<hex>",
//! "kind":"...",<fields>,"sha256":"<hex>"}` (`sim` only in drills); see [`super::chain`] for
//! `prev` and `hash`.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::playbook::engine::{
    BackupEvidence, DbEvidence, LossWindow, RegionEvidence, SecurityEvidence, ZoneEvidence,
};
use crate::playbook::{Event, Evidence, Outcome, SpeedReason};
use crate::telemetry::{BackupStatus, DbRole, DbState, Verdict};

/// The kinds of event a version-2 line can hold (the `kind` field), in the order of
/// `docs/journal.md`.
pub const KINDS: [&str; 40] = [
    "fault_injected",
    "disrupted",
    "detected",
    "declared",
    "step_started",
    "checklist_ticked",
    "item_not_applicable",
    "item_applicable",
    "message_edited",
    "confirm_requested",
    "confirm_cancelled",
    "confirmed",
    "restore_point_chosen",
    "rpo_captured",
    "output",
    "verifying",
    "step_finished",
    "service_restored",
    "skipped",
    "retried",
    "target_exceeded",
    "rto_risk",
    "note",
    "shared_note",
    "request_refused",
    "approval_armed",
    "approved",
    "console_closed",
    "resumed",
    "clock_paused",
    "clock_resumed",
    "speed_changed",
    "reminder_done",
    "reminder_missed",
    "failover_paused",
    "failover_resumed",
    "failover_left_paused",
    "abort_held",
    "aborted",
    "resolved",
];

/// The event part of a version-2 line (`kind` and its fields). Field meanings: docs/journal.md.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum EventV2 {
    FaultInjected(FaultInjected),
    Disrupted(Disrupted),
    Detected(Detected),
    Declared(Declared),
    StepStarted(StepStarted),
    ChecklistTicked(ChecklistTicked),
    ItemNotApplicable(ItemNotApplicable),
    ItemApplicable(ItemApplicable),
    MessageEdited(MessageEdited),
    ConfirmRequested(ConfirmRequested),
    ConfirmCancelled(StepOnly),
    Confirmed(Confirmed),
    RestorePointChosen(RestorePointChosen),
    RpoCaptured(RpoCaptured),
    Output(Output),
    Verifying(Verifying),
    StepFinished(StepFinished),
    ServiceRestored(ServiceRestored),
    Skipped(Skipped),
    Retried(StepOnly),
    TargetExceeded(TargetExceeded),
    RtoRisk(RtoRisk),
    Note(Note),
    SharedNote(SharedNote),
    RequestRefused(RequestRefused),
    ApprovalArmed(ApprovalArmed),
    Approved(Approved),
    ConsoleClosed(ConsoleClosed),
    Resumed(Resumed),
    ClockPaused(ClockPaused),
    ClockResumed(ClockResumed),
    SpeedChanged(SpeedChanged),
    ReminderDone(ReminderDone),
    ReminderMissed(ReminderMissed),
    FailoverPaused(FailoverChange),
    FailoverResumed(FailoverChange),
    FailoverLeftPaused(FailoverLeftPaused),
    AbortHeld(AbortHeld),
    Aborted(Aborted),
    Resolved(Resolved),
}

/// `restore_point_chosen`: the point a restore step restores to, chosen at its confirmation:
/// the choice as written, the point (engine clock), how it is reached, the backup it starts
/// from, the onset it was chosen against, the data lost (onset minus point) and who chose it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RestorePointChosen {
    pub step: String,
    /// `before-corruption`, `latest-verified-backup`, `newest-good-backup` or an RFC 3339
    /// time (a line with any other value does not decode).
    pub choice: crate::recovery::RestoreTo,
    pub point: DateTime<Utc>,
    pub basis: RestoreBasisV2,
    pub backup_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub onset: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_secs: Option<f64>,
    pub by: String,
    /// Chosen in the console's restore-point picker (absent: the playbook's `to`).
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub picked: bool,
}

/// How a restore point is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RestoreBasisV2 {
    Backup,
    PointInTime,
}

/// `reminder_done`: a reminder of the comms cadence was done; which occurrence, when it fell
/// due (session time) and how late.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderDone {
    pub text: String,
    pub occurrence: u32,
    pub due: DateTime<Utc>,
    pub late_secs: u64,
}

/// `reminder_missed`: `missed` occurrences, the last one `occurrence` due at `due`, went a
/// whole period without being done.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ReminderMissed {
    pub text: String,
    pub occurrence: u32,
    pub due: DateTime<Utc>,
    pub missed: u32,
}

/// `clock_paused`: no fields (the line's `at` and `sim` say when).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockPaused {}

/// `clock_resumed`: the pause's length on the wall clock.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ClockResumed {
    pub paused_secs: u64,
}

/// `speed_changed`: simulated seconds per wall second, before and after, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SpeedChanged {
    pub from: f64,
    pub to: f64,
    pub reason: SpeedReasonV2,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub step: Option<String>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum SpeedReasonV2 {
    FastForward,
    WaitOver,
    Cancelled,
    Resumed,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FaultInjected {
    pub fault: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Disrupted {
    /// Session (engine) time: simulated in drills.
    pub since: DateTime<Utc>,
    pub evidence: String,
    #[serde(default)]
    pub reason: Option<String>,
    #[serde(default)]
    pub by: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Detected {
    pub since: DateTime<Utc>,
    pub evidence: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Declared {
    pub playbook: String,
    pub title: String,
    pub hash: String,
    pub rto_secs: u64,
    pub rpo_secs: u64,
    pub read_only: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepStarted {
    pub step: String,
    pub title: String,
    pub target_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ChecklistTicked {
    pub step: String,
    pub item: usize,
    pub text: String,
    pub ticked: bool,
}

/// `item_not_applicable`: a checklist item marked not applicable, with why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemNotApplicable {
    pub step: String,
    pub item: usize,
    pub text: String,
    pub reason: String,
}

/// `item_applicable`: a not-applicable item applies again.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ItemApplicable {
    pub step: String,
    pub item: usize,
    pub text: String,
}

/// `message_edited`: the message to people the step sends, as the operator edited it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct MessageEdited {
    pub step: String,
    pub message: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConfirmRequested {
    pub step: String,
    pub command: String,
}

/// `service_restored`: the restoring step, and since when the service was back (engine clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ServiceRestored {
    pub step: String,
    pub since: DateTime<Utc>,
}

/// `confirm_cancelled`, `retried`: the step alone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepOnly {
    pub step: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Confirmed {
    pub step: String,
    pub attempt: u32,
    pub command: String,
    pub destructive: bool,
    pub typed: Option<String>,
    pub evidence: EvidenceV2,
    /// Who confirmed.
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RpoCaptured {
    pub step: String,
    pub seconds: Option<f64>,
    pub bytes: Option<u64>,
    pub window_from: Option<DateTime<Utc>>,
    pub window_to: Option<DateTime<Utc>>,
    pub measured_from: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Output {
    pub step: String,
    pub attempt: u32,
    pub line: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Verifying {
    pub step: String,
    pub condition: String,
    pub timeout_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct StepFinished {
    pub step: String,
    pub outcome: OutcomeV2,
    pub detail: String,
    pub verified: bool,
    pub elapsed_secs: u64,
    pub target_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Skipped {
    pub step: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct TargetExceeded {
    pub step: String,
    pub target_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RtoRisk {
    pub at_risk: bool,
    pub projected_secs: u64,
    pub rto_secs: u64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Note {
    pub text: String,
}

/// `shared_note`: a note or milestone from someone who joined the shared war room, signed.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SharedNote {
    pub text: String,
    pub milestone: bool,
    pub by: SignedV2,
}

/// Who signed a request and the signature as made (SSHSIG over `signed`, namespace `warroom`).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SignedV2 {
    pub request: String,
    pub principal: String,
    pub role: String,
    pub key: String,
    pub sequence: u64,
    pub signed: String,
    pub signature: String,
}

/// `approval_armed`: the driver confirmed a step that needs approvals (the two-person rule);
/// it runs once `needed` others approved this arming. Signed by the driver's key.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ApprovalArmed {
    pub step: String,
    pub attempt: u32,
    pub command: String,
    pub resource: String,
    pub evidence: EvidenceV2,
    pub needed: u32,
    pub by: String,
    pub key: String,
    pub armed: String,
    pub signed: String,
    pub signature: String,
}

/// `approved`: someone other than the driver approved the arming `armed` of a step.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Approved {
    pub step: String,
    pub armed: String,
    pub by: SignedV2,
}

/// `request_refused`: a request from someone who joined was refused, and why.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RequestRefused {
    pub request: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub principal: Option<String>,
    pub reason: String,
}

impl From<&crate::playbook::engine::Signed> for SignedV2 {
    fn from(s: &crate::playbook::engine::Signed) -> Self {
        SignedV2 {
            request: s.request.clone(),
            principal: s.principal.clone(),
            role: s.role.clone(),
            key: s.key.clone(),
            sequence: s.sequence,
            signed: s.signed.clone(),
            signature: s.signature.clone(),
        }
    }
}

impl From<SignedV2> for crate::playbook::engine::Signed {
    fn from(s: SignedV2) -> Self {
        crate::playbook::engine::Signed {
            request: s.request,
            principal: s.principal,
            role: s.role,
            key: s.key,
            sequence: s.sequence,
            signed: s.signed,
            signature: s.signature,
        }
    }
}

/// `console_closed`: the console writing the journal closed while the incident was open.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ConsoleClosed {
    pub by: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub signal: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resumed {
    pub gap_secs: u64,
    pub host: String,
    pub operator: String,
    pub pid: u32,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Aborted {
    pub reason: String,
}

/// `failover_paused` / `failover_resumed`: the HA interlock's step succeeded; the database
/// whose cluster it acted on, and who confirmed it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverChange {
    pub step: String,
    pub db: String,
    pub by: String,
}

/// `failover_left_paused`: the resume step skipped while paused, with the typed reason and who.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct FailoverLeftPaused {
    pub step: String,
    pub db: String,
    pub reason: String,
    pub by: String,
}

/// `abort_held`: an abort asked while automatic failover is paused; `aborted` follows the
/// decision.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AbortHeld {
    pub reason: String,
    pub by: String,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    /// Disrupted -> service restored (version 1's field of this name meant declared ->
    /// resolved, which is `playbook_secs` here).
    pub rto_achieved_secs: Option<u64>,
    /// Declared -> resolved.
    pub playbook_secs: u64,
    pub rpo_achieved_secs: Option<f64>,
    pub passed: bool,
}

/// `done` or `failed`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum OutcomeV2 {
    Done,
    Failed,
}

/// The picture at a decision (`confirmed.evidence`); the same shape in versions 1 and 2.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EvidenceV2 {
    pub sample_at: Option<DateTime<Utc>>,
    pub databases: Vec<DbEvidenceV2>,
    pub backups: Vec<BackupEvidenceV2>,
    pub regions: Vec<RegionEvidenceV2>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DbEvidenceV2 {
    pub name: String,
    pub role: RoleV2,
    pub state: StateV2,
    pub lag_secs: Option<u64>,
    /// Once its source is lost: the frozen window promoting it would lose.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_window: Option<LossWindowV2>,
    /// Since when its integrity checks fail.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub corrupt_since: Option<DateTime<Utc>>,
}

/// A replica `secs` behind when its `source` was lost at `source_lost_at` (engine clock).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct LossWindowV2 {
    pub source: String,
    pub secs: f64,
    pub source_lost_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupEvidenceV2 {
    pub name: String,
    pub good_age_secs: Option<u64>,
    pub status: BackupStatusV2,
    /// Newer backups than the newest good one contain a corruption.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub tainted: bool,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct RegionEvidenceV2 {
    pub name: String,
    pub verdict: VerdictV2,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub zones: Vec<ZoneEvidenceV2>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub security: Option<SecurityEvidenceV2>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ZoneEvidenceV2 {
    pub zone: String,
    pub up: bool,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct SecurityEvidenceV2 {
    pub failed_auth_per_min: u32,
    pub unusual_access: bool,
    pub peak_failed_auth_per_min: u32,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub peak_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub unusual_access_last_seen: Option<DateTime<Utc>>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RoleV2 {
    Primary,
    Replica,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StateV2 {
    Available,
    FailingOver,
    Promoting,
    Unreachable,
    Stopped,
    ReadOnly,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackupStatusV2 {
    Ok,
    Due,
    Overdue,
    Failed,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum VerdictV2 {
    Healthy,
    Degraded,
    Down,
    Unknown,
}

// ----- conversions: every match is exhaustive, so a new engine variant stops the build ------

impl From<&Evidence> for EvidenceV2 {
    fn from(e: &Evidence) -> Self {
        EvidenceV2 {
            sample_at: e.sample_at,
            databases: e
                .databases
                .iter()
                .map(|d| DbEvidenceV2 {
                    name: d.name.clone(),
                    role: match d.role {
                        DbRole::Primary => RoleV2::Primary,
                        DbRole::Replica => RoleV2::Replica,
                        DbRole::Unknown => RoleV2::Unknown,
                    },
                    state: match d.state {
                        DbState::Available => StateV2::Available,
                        DbState::FailingOver => StateV2::FailingOver,
                        DbState::Promoting => StateV2::Promoting,
                        DbState::Unreachable => StateV2::Unreachable,
                        DbState::Stopped => StateV2::Stopped,
                        DbState::ReadOnly => StateV2::ReadOnly,
                    },
                    lag_secs: d.lag_secs,
                    loss_window: d.loss_window.as_ref().map(|w| LossWindowV2 {
                        source: w.source.clone(),
                        secs: w.secs,
                        source_lost_at: w.source_lost_at,
                    }),
                    corrupt_since: d.corrupt_since,
                })
                .collect(),
            backups: e
                .backups
                .iter()
                .map(|b| BackupEvidenceV2 {
                    name: b.name.clone(),
                    good_age_secs: b.good_age_secs,
                    status: match b.status {
                        BackupStatus::Ok => BackupStatusV2::Ok,
                        BackupStatus::Due => BackupStatusV2::Due,
                        BackupStatus::Overdue => BackupStatusV2::Overdue,
                        BackupStatus::Failed => BackupStatusV2::Failed,
                    },
                    tainted: b.tainted,
                })
                .collect(),
            regions: e
                .regions
                .iter()
                .map(|r| RegionEvidenceV2 {
                    name: r.name.clone(),
                    verdict: match r.verdict {
                        Verdict::Healthy => VerdictV2::Healthy,
                        Verdict::Degraded => VerdictV2::Degraded,
                        Verdict::Down => VerdictV2::Down,
                        Verdict::Unknown => VerdictV2::Unknown,
                    },
                    zones: r
                        .zones
                        .iter()
                        .map(|z| ZoneEvidenceV2 {
                            zone: z.zone.clone(),
                            up: z.up,
                        })
                        .collect(),
                    security: r.security.as_ref().map(|x| SecurityEvidenceV2 {
                        failed_auth_per_min: x.failed_auth_per_min,
                        unusual_access: x.unusual_access,
                        peak_failed_auth_per_min: x.peak_failed_auth_per_min,
                        peak_at: x.peak_at,
                        unusual_access_last_seen: x.unusual_access_last_seen,
                    }),
                })
                .collect(),
        }
    }
}

impl From<EvidenceV2> for Evidence {
    fn from(e: EvidenceV2) -> Self {
        Evidence {
            sample_at: e.sample_at,
            databases: e
                .databases
                .into_iter()
                .map(|d| DbEvidence {
                    name: d.name,
                    role: match d.role {
                        RoleV2::Primary => DbRole::Primary,
                        RoleV2::Replica => DbRole::Replica,
                        RoleV2::Unknown => DbRole::Unknown,
                    },
                    state: match d.state {
                        StateV2::Available => DbState::Available,
                        StateV2::FailingOver => DbState::FailingOver,
                        StateV2::Promoting => DbState::Promoting,
                        StateV2::Unreachable => DbState::Unreachable,
                        StateV2::Stopped => DbState::Stopped,
                        StateV2::ReadOnly => DbState::ReadOnly,
                    },
                    lag_secs: d.lag_secs,
                    loss_window: d.loss_window.map(|w| LossWindow {
                        source: w.source,
                        secs: w.secs,
                        source_lost_at: w.source_lost_at,
                    }),
                    corrupt_since: d.corrupt_since,
                })
                .collect(),
            backups: e
                .backups
                .into_iter()
                .map(|b| BackupEvidence {
                    name: b.name,
                    good_age_secs: b.good_age_secs,
                    status: match b.status {
                        BackupStatusV2::Ok => BackupStatus::Ok,
                        BackupStatusV2::Due => BackupStatus::Due,
                        BackupStatusV2::Overdue => BackupStatus::Overdue,
                        BackupStatusV2::Failed => BackupStatus::Failed,
                    },
                    tainted: b.tainted,
                })
                .collect(),
            regions: e
                .regions
                .into_iter()
                .map(|r| RegionEvidence {
                    name: r.name,
                    verdict: match r.verdict {
                        VerdictV2::Healthy => Verdict::Healthy,
                        VerdictV2::Degraded => Verdict::Degraded,
                        VerdictV2::Down => Verdict::Down,
                        VerdictV2::Unknown => Verdict::Unknown,
                    },
                    zones: r
                        .zones
                        .into_iter()
                        .map(|z| ZoneEvidence {
                            zone: z.zone,
                            up: z.up,
                        })
                        .collect(),
                    security: r.security.map(|x| SecurityEvidence {
                        failed_auth_per_min: x.failed_auth_per_min,
                        unusual_access: x.unusual_access,
                        peak_failed_auth_per_min: x.peak_failed_auth_per_min,
                        peak_at: x.peak_at,
                        unusual_access_last_seen: x.unusual_access_last_seen,
                    }),
                })
                .collect(),
        }
    }
}

fn outcome_v2(o: Outcome) -> OutcomeV2 {
    match o {
        Outcome::Done => OutcomeV2::Done,
        Outcome::Failed => OutcomeV2::Failed,
    }
}

impl From<&Event> for EventV2 {
    fn from(e: &Event) -> Self {
        let step = |s: &String| StepOnly { step: s.clone() };
        match e {
            Event::FaultInjected { fault } => EventV2::FaultInjected(FaultInjected {
                fault: fault.clone(),
            }),
            Event::Disrupted {
                since,
                evidence,
                reason,
                by,
            } => EventV2::Disrupted(Disrupted {
                since: *since,
                evidence: evidence.clone(),
                reason: reason.clone(),
                by: by.clone(),
            }),
            Event::Detected { since, evidence } => EventV2::Detected(Detected {
                since: *since,
                evidence: evidence.clone(),
            }),
            Event::ServiceRestored { step, since } => EventV2::ServiceRestored(ServiceRestored {
                step: step.clone(),
                since: *since,
            }),
            Event::ConsoleClosed { by, signal } => EventV2::ConsoleClosed(ConsoleClosed {
                by: by.clone(),
                signal: signal.clone(),
            }),
            Event::Resumed {
                gap_secs,
                host,
                operator,
                pid,
            } => EventV2::Resumed(Resumed {
                gap_secs: *gap_secs,
                host: host.clone(),
                operator: operator.clone(),
                pid: *pid,
            }),
            Event::Declared {
                playbook,
                title,
                hash,
                rto_secs,
                rpo_secs,
                read_only,
            } => EventV2::Declared(Declared {
                playbook: playbook.clone(),
                title: title.clone(),
                hash: hash.clone(),
                rto_secs: *rto_secs,
                rpo_secs: *rpo_secs,
                read_only: *read_only,
            }),
            Event::StepStarted {
                step,
                title,
                target_secs,
            } => EventV2::StepStarted(StepStarted {
                step: step.clone(),
                title: title.clone(),
                target_secs: *target_secs,
            }),
            Event::ChecklistTicked {
                step,
                item,
                text,
                ticked,
            } => EventV2::ChecklistTicked(ChecklistTicked {
                step: step.clone(),
                item: *item,
                text: text.clone(),
                ticked: *ticked,
            }),
            Event::ItemNotApplicable {
                step,
                item,
                text,
                reason,
            } => EventV2::ItemNotApplicable(ItemNotApplicable {
                step: step.clone(),
                item: *item,
                text: text.clone(),
                reason: reason.clone(),
            }),
            Event::ItemApplicable { step, item, text } => EventV2::ItemApplicable(ItemApplicable {
                step: step.clone(),
                item: *item,
                text: text.clone(),
            }),
            Event::MessageEdited { step, message } => EventV2::MessageEdited(MessageEdited {
                step: step.clone(),
                message: message.clone(),
            }),
            Event::ConfirmRequested { step, command } => {
                EventV2::ConfirmRequested(ConfirmRequested {
                    step: step.clone(),
                    command: command.clone(),
                })
            }
            Event::ConfirmCancelled { step: s } => EventV2::ConfirmCancelled(step(s)),
            Event::Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence,
                by,
            } => EventV2::Confirmed(Confirmed {
                step: step.clone(),
                attempt: *attempt,
                command: command.clone(),
                destructive: *destructive,
                typed: typed.clone(),
                evidence: evidence.into(),
                by: by.clone(),
            }),
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
            } => EventV2::RestorePointChosen(RestorePointChosen {
                step: step.clone(),
                choice: *choice,
                point: *point,
                basis: match basis {
                    crate::recovery::Basis::Backup => RestoreBasisV2::Backup,
                    crate::recovery::Basis::PointInTime => RestoreBasisV2::PointInTime,
                },
                backup_at: *backup_at,
                onset: *onset,
                loss_secs: *loss_secs,
                by: by.clone(),
                picked: *picked,
            }),
            Event::RpoCaptured {
                step,
                seconds,
                bytes,
                window_from,
                window_to,
                measured_from,
            } => EventV2::RpoCaptured(RpoCaptured {
                step: step.clone(),
                seconds: *seconds,
                bytes: *bytes,
                window_from: *window_from,
                window_to: *window_to,
                measured_from: measured_from.clone(),
            }),
            Event::Output {
                step,
                attempt,
                line,
            } => EventV2::Output(Output {
                step: step.clone(),
                attempt: *attempt,
                line: line.clone(),
            }),
            Event::Verifying {
                step,
                condition,
                timeout_secs,
            } => EventV2::Verifying(Verifying {
                step: step.clone(),
                condition: condition.clone(),
                timeout_secs: *timeout_secs,
            }),
            Event::StepFinished {
                step,
                outcome,
                detail,
                verified,
                elapsed_secs,
                target_secs,
            } => EventV2::StepFinished(StepFinished {
                step: step.clone(),
                outcome: outcome_v2(*outcome),
                detail: detail.clone(),
                verified: *verified,
                elapsed_secs: *elapsed_secs,
                target_secs: *target_secs,
            }),
            Event::Skipped { step, reason } => EventV2::Skipped(Skipped {
                step: step.clone(),
                reason: reason.clone(),
            }),
            Event::Retried { step: s } => EventV2::Retried(step(s)),
            Event::TargetExceeded { step, target_secs } => {
                EventV2::TargetExceeded(TargetExceeded {
                    step: step.clone(),
                    target_secs: *target_secs,
                })
            }
            Event::RtoRisk {
                at_risk,
                projected_secs,
                rto_secs,
            } => EventV2::RtoRisk(RtoRisk {
                at_risk: *at_risk,
                projected_secs: *projected_secs,
                rto_secs: *rto_secs,
            }),
            Event::Note { text } => EventV2::Note(Note { text: text.clone() }),
            Event::SharedNote {
                text,
                milestone,
                by,
            } => EventV2::SharedNote(SharedNote {
                text: text.clone(),
                milestone: *milestone,
                by: by.into(),
            }),
            Event::RequestRefused {
                request,
                principal,
                reason,
            } => EventV2::RequestRefused(RequestRefused {
                request: request.clone(),
                principal: principal.clone(),
                reason: reason.clone(),
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
            } => EventV2::ApprovalArmed(ApprovalArmed {
                step: step.clone(),
                attempt: *attempt,
                command: command.clone(),
                resource: resource.clone(),
                evidence: evidence.into(),
                needed: *needed,
                by: by.clone(),
                key: key.clone(),
                armed: armed.clone(),
                signed: signed.clone(),
                signature: signature.clone(),
            }),
            Event::Approved { step, armed, by } => EventV2::Approved(Approved {
                step: step.clone(),
                armed: armed.clone(),
                by: by.into(),
            }),
            Event::ClockPaused {} => EventV2::ClockPaused(ClockPaused {}),
            Event::ReminderDone {
                text,
                occurrence,
                due,
                late_secs,
            } => EventV2::ReminderDone(ReminderDone {
                text: text.clone(),
                occurrence: *occurrence,
                due: *due,
                late_secs: *late_secs,
            }),
            Event::ReminderMissed {
                text,
                occurrence,
                due,
                missed,
            } => EventV2::ReminderMissed(ReminderMissed {
                text: text.clone(),
                occurrence: *occurrence,
                due: *due,
                missed: *missed,
            }),
            Event::ClockResumed { paused_secs } => EventV2::ClockResumed(ClockResumed {
                paused_secs: *paused_secs,
            }),
            Event::SpeedChanged {
                from,
                to,
                reason,
                step,
            } => EventV2::SpeedChanged(SpeedChanged {
                from: *from,
                to: *to,
                reason: match reason {
                    SpeedReason::FastForward => SpeedReasonV2::FastForward,
                    SpeedReason::WaitOver => SpeedReasonV2::WaitOver,
                    SpeedReason::Cancelled => SpeedReasonV2::Cancelled,
                    SpeedReason::Resumed => SpeedReasonV2::Resumed,
                },
                step: step.clone(),
            }),
            Event::Aborted { reason } => EventV2::Aborted(Aborted {
                reason: reason.clone(),
            }),
            Event::FailoverPaused { step, db, by } => EventV2::FailoverPaused(FailoverChange {
                step: step.clone(),
                db: db.clone(),
                by: by.clone(),
            }),
            Event::FailoverResumed { step, db, by } => EventV2::FailoverResumed(FailoverChange {
                step: step.clone(),
                db: db.clone(),
                by: by.clone(),
            }),
            Event::FailoverLeftPaused {
                step,
                db,
                reason,
                by,
            } => EventV2::FailoverLeftPaused(FailoverLeftPaused {
                step: step.clone(),
                db: db.clone(),
                reason: reason.clone(),
                by: by.clone(),
            }),
            Event::AbortHeld { reason, by } => EventV2::AbortHeld(AbortHeld {
                reason: reason.clone(),
                by: by.clone(),
            }),
            Event::Resolved {
                rto_achieved_secs,
                playbook_secs,
                rpo_achieved_secs,
                passed,
            } => EventV2::Resolved(Resolved {
                rto_achieved_secs: *rto_achieved_secs,
                playbook_secs: *playbook_secs,
                rpo_achieved_secs: *rpo_achieved_secs,
                passed: *passed,
            }),
        }
    }
}

impl From<EventV2> for Event {
    fn from(e: EventV2) -> Self {
        match e {
            EventV2::FaultInjected(FaultInjected { fault }) => Event::FaultInjected { fault },
            EventV2::Disrupted(Disrupted {
                since,
                evidence,
                reason,
                by,
            }) => Event::Disrupted {
                since,
                evidence,
                reason,
                by,
            },
            EventV2::Detected(Detected { since, evidence }) => Event::Detected { since, evidence },
            EventV2::Declared(Declared {
                playbook,
                title,
                hash,
                rto_secs,
                rpo_secs,
                read_only,
            }) => Event::Declared {
                playbook,
                title,
                hash,
                rto_secs,
                rpo_secs,
                read_only,
            },
            EventV2::StepStarted(StepStarted {
                step,
                title,
                target_secs,
            }) => Event::StepStarted {
                step,
                title,
                target_secs,
            },
            EventV2::ChecklistTicked(ChecklistTicked {
                step,
                item,
                text,
                ticked,
            }) => Event::ChecklistTicked {
                step,
                item,
                text,
                ticked,
            },
            EventV2::ItemNotApplicable(ItemNotApplicable {
                step,
                item,
                text,
                reason,
            }) => Event::ItemNotApplicable {
                step,
                item,
                text,
                reason,
            },
            EventV2::ItemApplicable(ItemApplicable { step, item, text }) => {
                Event::ItemApplicable { step, item, text }
            }
            EventV2::MessageEdited(MessageEdited { step, message }) => {
                Event::MessageEdited { step, message }
            }
            EventV2::ConfirmRequested(ConfirmRequested { step, command }) => {
                Event::ConfirmRequested { step, command }
            }
            EventV2::ConfirmCancelled(StepOnly { step }) => Event::ConfirmCancelled { step },
            EventV2::Confirmed(Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence,
                by,
            }) => Event::Confirmed {
                step,
                attempt,
                command,
                destructive,
                typed,
                evidence: evidence.into(),
                by,
            },
            EventV2::RestorePointChosen(RestorePointChosen {
                step,
                choice,
                point,
                basis,
                backup_at,
                onset,
                loss_secs,
                by,
                picked,
            }) => Event::RestorePointChosen {
                step,
                choice,
                point,
                basis: match basis {
                    RestoreBasisV2::Backup => crate::recovery::Basis::Backup,
                    RestoreBasisV2::PointInTime => crate::recovery::Basis::PointInTime,
                },
                backup_at,
                onset,
                loss_secs,
                by,
                picked,
            },
            EventV2::RpoCaptured(RpoCaptured {
                step,
                seconds,
                bytes,
                window_from,
                window_to,
                measured_from,
            }) => Event::RpoCaptured {
                step,
                seconds,
                bytes,
                window_from,
                window_to,
                measured_from,
            },
            EventV2::Output(Output {
                step,
                attempt,
                line,
            }) => Event::Output {
                step,
                attempt,
                line,
            },
            EventV2::Verifying(Verifying {
                step,
                condition,
                timeout_secs,
            }) => Event::Verifying {
                step,
                condition,
                timeout_secs,
            },
            EventV2::StepFinished(StepFinished {
                step,
                outcome,
                detail,
                verified,
                elapsed_secs,
                target_secs,
            }) => Event::StepFinished {
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
            EventV2::ServiceRestored(ServiceRestored { step, since }) => {
                Event::ServiceRestored { step, since }
            }
            EventV2::Skipped(Skipped { step, reason }) => Event::Skipped { step, reason },
            EventV2::Retried(StepOnly { step }) => Event::Retried { step },
            EventV2::TargetExceeded(TargetExceeded { step, target_secs }) => {
                Event::TargetExceeded { step, target_secs }
            }
            EventV2::RtoRisk(RtoRisk {
                at_risk,
                projected_secs,
                rto_secs,
            }) => Event::RtoRisk {
                at_risk,
                projected_secs,
                rto_secs,
            },
            EventV2::Note(Note { text }) => Event::Note { text },
            EventV2::SharedNote(SharedNote {
                text,
                milestone,
                by,
            }) => Event::SharedNote {
                text,
                milestone,
                by: by.into(),
            },
            EventV2::RequestRefused(RequestRefused {
                request,
                principal,
                reason,
            }) => Event::RequestRefused {
                request,
                principal,
                reason,
            },
            EventV2::ApprovalArmed(ApprovalArmed {
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
            }) => Event::ApprovalArmed {
                step,
                attempt,
                command,
                resource,
                evidence: evidence.into(),
                needed,
                by,
                key,
                armed,
                signed,
                signature,
            },
            EventV2::Approved(Approved { step, armed, by }) => Event::Approved {
                step,
                armed,
                by: by.into(),
            },
            EventV2::ClockPaused(ClockPaused {}) => Event::ClockPaused {},
            EventV2::ReminderDone(ReminderDone {
                text,
                occurrence,
                due,
                late_secs,
            }) => Event::ReminderDone {
                text,
                occurrence,
                due,
                late_secs,
            },
            EventV2::ReminderMissed(ReminderMissed {
                text,
                occurrence,
                due,
                missed,
            }) => Event::ReminderMissed {
                text,
                occurrence,
                due,
                missed,
            },
            EventV2::ClockResumed(ClockResumed { paused_secs }) => {
                Event::ClockResumed { paused_secs }
            }
            EventV2::SpeedChanged(SpeedChanged {
                from,
                to,
                reason,
                step,
            }) => Event::SpeedChanged {
                from,
                to,
                reason: match reason {
                    SpeedReasonV2::FastForward => SpeedReason::FastForward,
                    SpeedReasonV2::WaitOver => SpeedReason::WaitOver,
                    SpeedReasonV2::Cancelled => SpeedReason::Cancelled,
                    SpeedReasonV2::Resumed => SpeedReason::Resumed,
                },
                step,
            },
            EventV2::ConsoleClosed(ConsoleClosed { by, signal }) => {
                Event::ConsoleClosed { by, signal }
            }
            EventV2::Resumed(Resumed {
                gap_secs,
                host,
                operator,
                pid,
            }) => Event::Resumed {
                gap_secs,
                host,
                operator,
                pid,
            },
            EventV2::Aborted(Aborted { reason }) => Event::Aborted { reason },
            EventV2::FailoverPaused(FailoverChange { step, db, by }) => {
                Event::FailoverPaused { step, db, by }
            }
            EventV2::FailoverResumed(FailoverChange { step, db, by }) => {
                Event::FailoverResumed { step, db, by }
            }
            EventV2::FailoverLeftPaused(FailoverLeftPaused {
                step,
                db,
                reason,
                by,
            }) => Event::FailoverLeftPaused {
                step,
                db,
                reason,
                by,
            },
            EventV2::AbortHeld(AbortHeld { reason, by }) => Event::AbortHeld { reason, by },
            EventV2::Resolved(Resolved {
                rto_achieved_secs,
                playbook_secs,
                rpo_achieved_secs,
                passed,
            }) => Event::Resolved {
                rto_achieved_secs,
                playbook_secs,
                rpo_achieved_secs,
                passed,
            },
        }
    }
}

/// The line's own fields before the event's: `seq`, `at`, `sim`, `prev` (in this order).
#[derive(Serialize)]
pub(crate) struct EnvelopeOut<'a> {
    pub seq: u64,
    pub at: &'a DateTime<Utc>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sim: Option<&'a DateTime<Utc>>,
    pub prev: &'a str,
    #[serde(flatten)]
    pub event: &'a EventV2,
}

/// The same fields, read back (the general path; see `fast_envelope` in `format.rs`).
#[derive(Deserialize)]
pub(crate) struct EnvelopeIn {
    pub seq: u64,
    pub at: DateTime<Utc>,
    #[serde(default)]
    pub sim: Option<DateTime<Utc>>,
    pub prev: String,
}
