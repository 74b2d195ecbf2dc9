//! A validated playbook: what the engine runs and `show` prints.
//!
//! Built only by [`super::load`], so every logical name, action argument, variable reference and
//! duration in it has been checked against the environment it was loaded for. Values that may
//! contain `{{variables}}` stay [`Template`]s until they are rendered, so secrets are substituted
//! only where they must be ([`Reveal::Secrets`]: the argv handed to a child process) and masked
//! everywhere else ([`Reveal::Masked`]).

use std::collections::BTreeMap;
use std::fmt;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::actions::{ArgKind, Builtin, BuiltinAction, Call, Exec, Value};
use crate::duration::{Dur, compact};
use crate::env::{Environment, NameKind};
use crate::telemetry::{DbRole, DbState, Sample, Verdict};

/// What a secret value looks like wherever it is shown.
pub const MASK: &str = "••••••";

/// The scenario class of a playbook.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Scenario {
    AzLoss,
    RegionLoss,
    Corruption,
    Breach,
    Custom,
}

impl Scenario {
    /// Every scenario, in the order the docs list them.
    pub const ALL: [Scenario; 5] = [
        Scenario::AzLoss,
        Scenario::RegionLoss,
        Scenario::Corruption,
        Scenario::Breach,
        Scenario::Custom,
    ];

    /// The spelling used in files (`region-loss`).
    pub fn as_str(self) -> &'static str {
        match self {
            Scenario::AzLoss => "az-loss",
            Scenario::RegionLoss => "region-loss",
            Scenario::Corruption => "corruption",
            Scenario::Breach => "breach",
            Scenario::Custom => "custom",
        }
    }

    pub fn parse(s: &str) -> Option<Scenario> {
        Scenario::ALL.into_iter().find(|sc| sc.as_str() == s)
    }
}

impl fmt::Display for Scenario {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Whether rendering may show secret values.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reveal {
    /// Secrets appear as [`MASK`]: screen, runbook, journal, confirmation dialog.
    Masked,
    /// Secrets appear as their values: only for the [`Exec`] handed to the executor.
    Secrets,
}

/// One playbook variable.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Var {
    pub value: String,
    pub secret: bool,
}

/// The playbook's `[vars]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Vars(pub BTreeMap<String, Var>);

impl Vars {
    pub fn get(&self, name: &str) -> Option<&Var> {
        self.0.get(name)
    }

    /// The value of a variable as it may be shown.
    fn shown(&self, name: &str, reveal: Reveal) -> &str {
        match self.0.get(name) {
            Some(v) if v.secret && reveal == Reveal::Masked => MASK,
            Some(v) => &v.value,
            // Unreachable for a validated playbook: load rejects unknown references.
            None => "",
        }
    }

    /// `text` with every secret value replaced by [`MASK`]: for executor output, which may echo
    /// what it was given.
    /// Every form [`super::mask::Masker`] knows (case, URL and base64 encodings, split by
    /// escape sequences) is masked.
    pub fn mask_secrets(&self, text: &str) -> String {
        self.masker().mask(text)
    }

    /// The masker of this playbook's secret values (build it once for many lines).
    pub fn masker(&self) -> super::mask::Masker {
        super::mask::Masker::new(
            self.0
                .values()
                .filter(|v| v.secret)
                .map(|v| v.value.as_str()),
        )
    }

    pub fn has_secrets(&self) -> bool {
        self.0.values().any(|v| v.secret)
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Part {
    Text(String),
    Var(String),
}

/// A string that may contain `{{name}}` references.
///
/// Substitution is a single pass: a variable's value is inserted literally, so a value containing
/// `{{other}}` is not expanded again. Every `{{` opens a reference; for a literal `{{` declare a
/// variable holding it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Template {
    parts: Vec<Part>,
}

/// Why a template does not parse; `offset` is the byte offset of the offending `{{` in the text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TemplateError {
    pub offset: usize,
    pub message: String,
    pub help: String,
}

/// Variable names: a letter or `_`, then letters, digits, `_` or `-`.
pub fn is_var_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == '-')
}

impl Template {
    /// A template without references.
    pub fn literal(text: impl Into<String>) -> Template {
        Template {
            parts: vec![Part::Text(text.into())],
        }
    }

    /// Splits `text` into literal text and `{{name}}` references (spaces inside the braces are
    /// allowed). Whether the names exist is checked by the loader.
    pub fn parse(text: &str) -> Result<Template, TemplateError> {
        let mut parts = Vec::new();
        let mut rest = text;
        let mut consumed = 0;
        while let Some(open) = rest.find("{{") {
            if open > 0 {
                parts.push(Part::Text(rest[..open].to_string()));
            }
            let after = &rest[open + 2..];
            let Some(close) = after.find("}}") else {
                return Err(TemplateError {
                    offset: consumed + open,
                    message: "`{{` without a closing `}}`".into(),
                    help: "write a variable reference as {{name}}; for a literal `{{`, declare \
                           a variable holding it"
                        .into(),
                });
            };
            let name = after[..close].trim();
            if !is_var_name(name) {
                return Err(TemplateError {
                    offset: consumed + open,
                    message: format!("`{{{{{}}}}}` is not a variable reference", &after[..close]),
                    help: "a reference is {{name}} with a letter first, then letters, digits, \
                           `_` or `-`; for a literal `{{`, declare a variable holding it"
                        .into(),
                });
            }
            parts.push(Part::Var(name.to_string()));
            let advance = open + 2 + close + 2;
            consumed += advance;
            rest = &rest[advance..];
        }
        if !rest.is_empty() {
            parts.push(Part::Text(rest.to_string()));
        }
        Ok(Template { parts })
    }

    /// Names referenced, in order of appearance.
    pub fn var_names(&self) -> impl Iterator<Item = &str> {
        self.parts.iter().filter_map(|p| match p {
            Part::Var(n) => Some(n.as_str()),
            Part::Text(_) => None,
        })
    }

    /// The text with every reference replaced by its value (or [`MASK`] for secrets when
    /// `reveal` is [`Reveal::Masked`]).
    pub fn render(&self, vars: &Vars, reveal: Reveal) -> String {
        let mut out = String::new();
        for p in &self.parts {
            match p {
                Part::Text(t) => out.push_str(t),
                Part::Var(n) => out.push_str(vars.shown(n, reveal)),
            }
        }
        out
    }

    /// Whether rendering with [`Reveal::Masked`] hides anything.
    pub fn uses_secret(&self, vars: &Vars) -> bool {
        self.var_names()
            .any(|n| vars.get(n).is_some_and(|v| v.secret))
    }

    pub fn is_empty(&self) -> bool {
        self.parts
            .iter()
            .all(|p| matches!(p, Part::Text(t) if t.is_empty()))
    }
}

/// A validated `with` value.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ArgValue {
    /// A string: a logical name or free text, possibly with `{{vars}}`.
    Text(Template),
    Count(u64),
    Flag(bool),
}

impl ArgValue {
    pub fn render(&self, vars: &Vars, reveal: Reveal) -> String {
        match self {
            ArgValue::Text(t) => t.render(vars, reveal),
            ArgValue::Count(n) => n.to_string(),
            ArgValue::Flag(b) => b.to_string(),
        }
    }
}

/// Prefix of every message to people (`notify.webhook`'s message: the `ArgKind::Text`
/// arguments) sent from a drill or a demo, so that nobody who receives it mistakes an exercise
/// for an incident.
pub const EXERCISE_MARKER: &str = "[DRILL] ";

/// Whether an incident is real (LIVE) or an exercise (a drill or a demo).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Occasion {
    Real,
    Exercise,
}

impl Occasion {
    /// A message to people as sent on this occasion: marked in an exercise.
    pub fn mark(self, message: String) -> String {
        match self {
            Occasion::Real => message,
            Occasion::Exercise if message.starts_with(EXERCISE_MARKER) => message,
            Occasion::Exercise => format!("{EXERCISE_MARKER}{message}"),
        }
    }
}

/// What a step executes once confirmed.
#[derive(Debug, Clone)]
pub enum Executor {
    /// A program and its arguments; one template per argument, never split further; and the
    /// variables added to its environment (`env = { NAME = "..." }`), in name order.
    Run {
        argv: Vec<Template>,
        env: Vec<(String, Template)>,
    },
    /// A built-in action from [`crate::actions::BUILTINS`] with its arguments.
    Action {
        builtin: &'static Builtin,
        with: BTreeMap<String, ArgValue>,
    },
}

// Built-ins are compared by action: the table has one entry per action, and `Builtin` itself (in
// `actions`) does not implement `PartialEq`.
impl PartialEq for Executor {
    fn eq(&self, other: &Self) -> bool {
        match (self, other) {
            (Executor::Run { argv: a, env: ea }, Executor::Run { argv: b, env: eb }) => {
                a == b && ea == eb
            }
            (
                Executor::Action {
                    builtin: a,
                    with: wa,
                },
                Executor::Action {
                    builtin: b,
                    with: wb,
                },
            ) => a.action == b.action && wa == wb,
            _ => false,
        }
    }
}

impl Eq for Executor {}

/// A logical name used by a step, with the real resource behind it in the environment.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ResolvedName {
    /// The action argument (`db`).
    pub arg: String,
    /// `database`, `region`, ... ([`NameKind::label`]).
    pub kind: String,
    /// The logical name (`dr-replica`).
    pub logical: String,
    /// The real resource (`pynomaly-dr-replica`); `None` if the environment has no binding.
    pub resource: Option<String>,
}

impl fmt::Display for ResolvedName {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.resource {
            Some(r) if *r != self.logical => write!(f, "{} ({r})", self.logical),
            _ => f.write_str(&self.logical),
        }
    }
}

/// What happens to the incident when a step fails.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum OnFailure {
    /// The incident stays on the failed step until it is retried or skipped.
    #[default]
    Stop,
    /// The failure is recorded and the next step starts.
    Continue,
}

impl OnFailure {
    pub fn as_str(self) -> &'static str {
        match self {
            OnFailure::Stop => "stop",
            OnFailure::Continue => "continue",
        }
    }
}

/// A typed condition over live telemetry, judged with the same functions the panes use.
#[derive(Debug, Clone, PartialEq)]
pub enum Condition {
    /// `{ db, role }`: the database has this role and is available in it.
    DbRole { db: String, role: DbRole },
    /// `{ db, lag_under }`: the replica's replay lag is known and below the bound.
    DbLagUnder { db: String, under: Dur },
    /// `{ db, available }`: the database is (or is not) in state `available`.
    DbAvailable { db: String, available: bool },
    /// `{ db, intact }`: the database answers and its integrity checks pass (or fail).
    DbIntact { db: String, intact: bool },
    /// `{ region, healthy }`: the region's verdict is (or is not) HEALTHY.
    RegionHealthy { region: String, healthy: bool },
    /// `{ region, serving }`: every health endpoint of the region answers (or not).
    RegionServing { region: String, serving: bool },
    /// `{ backup, fresher_than }`: the newest known-good backup is younger than the bound.
    BackupFresherThan { backup: String, within: Dur },
    /// `{ backup, taken_since_step = true }`: a backup of the series succeeded after the step
    /// started (the one it took; a forensic snapshot must not be an older regular one).
    BackupTakenSinceStep { backup: String },
    /// `{ app, region, ready_at_least }`: at least this many replicas are ready there.
    AppReady {
        app: String,
        region: String,
        at_least: u32,
    },
    /// `{ dns, points_to }`: the record points at the region.
    DnsPointsTo { dns: String, region: String },
}

/// A condition judged against one picture.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Observation {
    pub met: bool,
    /// What the picture shows, for the operator (`role replica, state available`).
    pub observed: String,
}

fn role_str(role: DbRole) -> &'static str {
    match role {
        DbRole::Primary => "primary",
        DbRole::Replica => "replica",
        DbRole::Unknown => "unknown",
    }
}

fn state_str(state: DbState) -> &'static str {
    state.label()
}

/// Replica lag in whole seconds, rounded up: a data-loss window is never understated.
pub fn lag_whole_secs(lag: f64) -> u64 {
    if lag.is_finite() && lag > 0.0 {
        // Lags are far below u64::MAX; the cast saturates anyway.
        lag.ceil() as u64
    } else {
        0
    }
}

impl Condition {
    /// Judges the condition against `sample`; ages are measured at `now`. A condition about the
    /// step itself (`taken_since_step`) never holds here: see [`Condition::observe_in_step`].
    pub fn observe(&self, sample: &Sample, now: DateTime<Utc>) -> Observation {
        self.observe_in_step(sample, now, None)
    }

    /// [`Condition::observe`] for a step that started at `step_started`.
    pub fn observe_in_step(
        &self,
        sample: &Sample,
        now: DateTime<Utc>,
        step_started: Option<DateTime<Utc>>,
    ) -> Observation {
        let no = |observed: String| Observation {
            met: false,
            observed,
        };
        match self {
            Condition::DbRole { db, role } => match sample.database(db) {
                None => no(format!("no reading of {db}")),
                Some(d) => Observation {
                    met: d.role == *role && d.state == DbState::Available,
                    observed: format!("role {}, {}", role_str(d.role), state_str(d.state)),
                },
            },
            Condition::DbLagUnder { db, under } => {
                match sample.database(db).map(|d| d.replication.as_ref()) {
                    None => no(format!("no reading of {db}")),
                    Some(None) => no(format!("{db} does not replicate")),
                    Some(Some(r)) => match r.lag_secs {
                        None => no("lag unknown".into()),
                        Some(lag) => Observation {
                            met: lag < under.secs() as f64,
                            observed: format!("lag {}", compact(lag_whole_secs(lag))),
                        },
                    },
                }
            }
            Condition::DbAvailable { db, available } => match sample.database(db) {
                None => no(format!("no reading of {db}")),
                Some(d) => Observation {
                    met: (d.state == DbState::Available) == *available,
                    observed: state_str(d.state).into(),
                },
            },
            Condition::DbIntact { db, intact } => match sample.database(db) {
                None => no(format!("no reading of {db}")),
                Some(d) => Observation {
                    met: d.integrity_ok == Some(*intact),
                    observed: match d.integrity_ok {
                        Some(true) => format!("{}, integrity checks pass", state_str(d.state)),
                        Some(false) => format!("{}, integrity checks fail", state_str(d.state)),
                        None => format!("{}, integrity unknown", state_str(d.state)),
                    },
                },
            },
            Condition::RegionHealthy { region, healthy } => {
                let v = sample.region_verdict(region);
                Observation {
                    met: (v == Verdict::Healthy) == *healthy,
                    observed: v.label().into(),
                }
            }
            Condition::RegionServing { region, serving } => {
                let eps: Vec<_> = sample
                    .endpoints
                    .iter()
                    .filter(|e| e.region == *region)
                    .collect();
                if eps.is_empty() {
                    return no(format!("no health endpoint reading of {region}"));
                }
                let failing = eps
                    .iter()
                    .filter(|e| !e.last_ok || e.consecutive_failures > 0)
                    .count();
                let all_ok = failing == 0;
                Observation {
                    met: all_ok == *serving,
                    observed: if all_ok {
                        format!("{} endpoint(s) answering", eps.len())
                    } else {
                        format!("{failing} of {} endpoint(s) failing", eps.len())
                    },
                }
            }
            Condition::BackupFresherThan { backup, within } => match sample.backup(backup) {
                None => no(format!("no reading of {backup}")),
                Some(b) => match b.good_age_secs(now) {
                    None => no("no known-good backup".into()),
                    Some(age) => Observation {
                        met: age < within.secs(),
                        observed: format!("newest good {} old", compact(age)),
                    },
                },
            },
            Condition::BackupTakenSinceStep { backup } => match sample.backup(backup) {
                None => no(format!("no reading of {backup}")),
                Some(b) => match (b.last_success, step_started) {
                    (_, None) => no("the step has not started".into()),
                    (None, Some(_)) => no("no backup yet".into()),
                    (Some(taken), Some(started)) => Observation {
                        met: taken >= started,
                        observed: if taken >= started {
                            format!("taken {}, during this step", taken.format("%H:%M:%S"))
                        } else {
                            format!(
                                "newest taken {}, before this step started at {}",
                                taken.format("%H:%M:%S"),
                                started.format("%H:%M:%S")
                            )
                        },
                    },
                },
            },
            Condition::AppReady {
                app,
                region,
                at_least,
            } => match sample
                .apps
                .iter()
                .find(|a| a.name == *app && a.region == *region)
            {
                None => no(format!("no reading of {app} in {region}")),
                Some(a) => Observation {
                    met: a.ready >= *at_least,
                    observed: format!("{}/{} ready", a.ready, a.desired),
                },
            },
            Condition::DnsPointsTo { dns, region } => {
                match sample.dns.iter().find(|d| d.name == *dns) {
                    None => no(format!("no reading of {dns}")),
                    Some(d) => Observation {
                        met: d.target_region == *region,
                        observed: format!("points to {}", d.target_region),
                    },
                }
            }
        }
    }

    /// The logical names the condition refers to, with their kinds.
    pub fn names(&self) -> Vec<(NameKind, &str)> {
        match self {
            Condition::DbRole { db, .. }
            | Condition::DbLagUnder { db, .. }
            | Condition::DbAvailable { db, .. }
            | Condition::DbIntact { db, .. } => vec![(NameKind::Database, db)],
            Condition::RegionHealthy { region, .. } | Condition::RegionServing { region, .. } => {
                vec![(NameKind::Region, region)]
            }
            Condition::BackupFresherThan { backup, .. }
            | Condition::BackupTakenSinceStep { backup } => vec![(NameKind::Backup, backup)],
            Condition::AppReady { app, region, .. } => {
                vec![(NameKind::App, app), (NameKind::Region, region)]
            }
            Condition::DnsPointsTo { dns, region } => {
                vec![(NameKind::Dns, dns), (NameKind::Region, region)]
            }
        }
    }
}

impl fmt::Display for Condition {
    /// A sentence stating what must hold: `dr-replica is primary and available`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let not = |b: bool| if b { "" } else { "not " };
        match self {
            Condition::DbRole { db, role } => {
                write!(f, "{db} is {} and available", role_str(*role))
            }
            Condition::DbLagUnder { db, under } => write!(f, "{db} replica lag under {under}"),
            Condition::DbAvailable { db, available } => {
                write!(f, "{db} is {}available", not(*available))
            }
            Condition::DbIntact { db, intact } => write!(
                f,
                "{db} answers and its integrity checks {}",
                if *intact { "pass" } else { "fail" }
            ),
            Condition::RegionHealthy { region, healthy } => {
                write!(f, "region {region} is {}HEALTHY", not(*healthy))
            }
            Condition::RegionServing { region, serving } => {
                write!(
                    f,
                    "region {region} health endpoints {}answering",
                    not(*serving)
                )
            }
            Condition::BackupFresherThan { backup, within } => {
                write!(f, "newest good {backup} backup younger than {within}")
            }
            Condition::BackupTakenSinceStep { backup } => {
                write!(f, "a {backup} backup taken during this step")
            }
            Condition::AppReady {
                app,
                region,
                at_least,
            } => write!(f, "at least {at_least} {app} replica(s) ready in {region}"),
            Condition::DnsPointsTo { dns, region } => write!(f, "DNS {dns} points to {region}"),
        }
    }
}

/// A step's `wait`.
#[derive(Debug, Clone, PartialEq)]
pub struct Wait {
    pub condition: Condition,
    /// The step fails when the condition still does not hold after this long.
    pub timeout: Dur,
}

/// How a step is carried out, for the view and for what Enter means.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum StepKind {
    /// Checklist only: Enter completes it once every item is ticked.
    Manual,
    /// A `wait` without an executor: Enter starts verifying.
    Wait,
    /// A `run` argv: Enter asks for confirmation.
    Run,
    /// A built-in action: Enter asks for confirmation.
    Action,
}

/// A validated step.
#[derive(Debug, Clone, PartialEq)]
pub struct Step {
    pub id: String,
    pub title: String,
    pub target: Dur,
    pub guide: Template,
    pub checklist: Vec<Template>,
    pub executor: Option<Executor>,
    pub wait: Option<Wait>,
    /// Executor timeout.
    pub timeout: Option<Dur>,
    pub on_failure: OnFailure,
    pub destructive: bool,
    pub capture_rpo: bool,
    /// Its completion restores service (the outage's end, for RTO achieved).
    pub restores_service: bool,
    /// Approvals by other people it needs before it runs (the two-person rule; 0: none).
    pub approvals: u32,
    /// An earlier step's output shown beside the checklist.
    pub recall: Option<Recall>,
}

/// Output of an earlier step kept on screen in a later one (`recall = { step, lines }`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Recall {
    /// The earlier step's index.
    pub step: usize,
    /// Only output lines containing this text; `None`: the last [`Recall::MAX_LINES`].
    pub containing: Option<String>,
}

impl Recall {
    /// At most this many recalled lines are shown (the newest).
    pub const MAX_LINES: usize = 3;
}

impl Step {
    pub fn kind(&self) -> StepKind {
        match (&self.executor, &self.wait) {
            (Some(Executor::Run { .. }), _) => StepKind::Run,
            (Some(Executor::Action { .. }), _) => StepKind::Action,
            (None, Some(_)) => StepKind::Wait,
            (None, None) => StepKind::Manual,
        }
    }

    /// A step whose success proves something about the world: it has a `wait`, or it runs
    /// `backup.verify`. The drill criteria require every such step to pass.
    pub fn is_verification(&self) -> bool {
        self.wait.is_some()
            || matches!(&self.executor, Some(Executor::Action { builtin, .. }) if builtin.action == BuiltinAction::BackupVerify)
    }

    /// The built-in action, if the step runs one.
    pub fn builtin(&self) -> Option<&'static Builtin> {
        match &self.executor {
            Some(Executor::Action { builtin, .. }) => Some(builtin),
            _ => None,
        }
    }

    /// The value of an action argument, rendered.
    pub fn arg(&self, name: &str, vars: &Vars, reveal: Reveal) -> Option<String> {
        match &self.executor {
            Some(Executor::Action { with, .. }) => with.get(name).map(|v| v.render(vars, reveal)),
            _ => None,
        }
    }

    /// The text a destructive confirmation must match: the logical name in the action's
    /// `target_arg`, or the step id for a `run` step. `None` if the step is not destructive.
    pub fn confirm_text(&self, vars: &Vars) -> Option<String> {
        if !self.destructive {
            return None;
        }
        match &self.executor {
            Some(Executor::Action { builtin, .. }) => {
                self.arg(builtin.target_arg, vars, Reveal::Masked)
            }
            Some(Executor::Run { .. }) => Some(self.id.clone()),
            None => None,
        }
    }

    /// The secret variables a `run` step passes in its arguments (visible to every local user
    /// in `ps` while it runs), in order of appearance, each once.
    pub fn secrets_in_argv(&self, vars: &Vars) -> Vec<String> {
        let Some(Executor::Run { argv, .. }) = &self.executor else {
            return Vec::new();
        };
        let mut names: Vec<String> = Vec::new();
        for name in argv.iter().flat_map(Template::var_names) {
            if vars.get(name).is_some_and(|v| v.secret) && !names.iter().any(|n| n == name) {
                names.push(name.to_string());
            }
        }
        names
    }

    /// The executor with variables substituted; `None` for steps without one.
    pub fn render_exec(&self, vars: &Vars, reveal: Reveal) -> Option<Exec> {
        self.render_exec_for(vars, reveal, Occasion::Real)
    }

    /// [`Step::render_exec`] for an occasion: in an exercise every message to people (the
    /// `ArgKind::Text` arguments) starts with [`EXERCISE_MARKER`].
    pub fn render_exec_for(&self, vars: &Vars, reveal: Reveal, occasion: Occasion) -> Option<Exec> {
        self.render_exec_with(vars, reveal, occasion, None)
    }

    /// The name of the argument that is a message to people (`notify.webhook`'s `message`: the
    /// first `ArgKind::Text` argument the step sets), if the step sends one.
    pub fn message_arg(&self) -> Option<&'static str> {
        let Some(Executor::Action { builtin, with }) = &self.executor else {
            return None;
        };
        builtin
            .args
            .iter()
            .find(|a| a.kind == ArgKind::Text && with.contains_key(a.name))
            .map(|a| a.name)
    }

    /// The message to people as it will be sent on this occasion (marked in an exercise),
    /// `None` when the step sends none.
    pub fn message(&self, vars: &Vars, reveal: Reveal, occasion: Occasion) -> Option<String> {
        let name = self.message_arg()?;
        self.arg(name, vars, reveal).map(|m| occasion.mark(m))
    }

    /// Whether the message to people uses a secret variable (then it cannot be edited on
    /// screen: the screen only ever holds it masked).
    pub fn message_uses_secret(&self, vars: &Vars) -> bool {
        let (Some(name), Some(Executor::Action { with, .. })) =
            (self.message_arg(), &self.executor)
        else {
            return false;
        };
        matches!(with.get(name), Some(ArgValue::Text(t)) if t.uses_secret(vars))
    }

    /// [`Step::render_exec_for`] with the message to people replaced by `message` (the
    /// operator's edit, already marked for the occasion) when given.
    pub fn render_exec_with(
        &self,
        vars: &Vars,
        reveal: Reveal,
        occasion: Occasion,
        message: Option<&str>,
    ) -> Option<Exec> {
        match self.executor.as_ref()? {
            Executor::Run { argv, env } => Some(Exec::Run {
                argv: argv.iter().map(|a| a.render(vars, reveal)).collect(),
                env: env
                    .iter()
                    .map(|(k, v)| (k.clone(), v.render(vars, reveal)))
                    .collect(),
                timeout: self.timeout,
            }),
            Executor::Action { builtin, with } => {
                let values = with
                    .iter()
                    .map(|(k, v)| {
                        let text = builtin
                            .args
                            .iter()
                            .any(|a| a.name == k.as_str() && a.kind == ArgKind::Text);
                        let value = match (v, message) {
                            (ArgValue::Text(_), Some(m)) if text => Value::Text(m.to_string()),
                            (ArgValue::Text(t), _) if text => {
                                Value::Text(occasion.mark(t.render(vars, reveal)))
                            }
                            (ArgValue::Text(t), _) => Value::Text(t.render(vars, reveal)),
                            (ArgValue::Count(n), _) => Value::Count(*n),
                            (ArgValue::Flag(b), _) => Value::Flag(*b),
                        };
                        (k.clone(), value)
                    })
                    .collect();
                // The loader checked every argument against the table, so this cannot fail for
                // a loaded playbook; a hand-built step that does not fit has nothing to run.
                Call::from_values(builtin.action, values)
                    .ok()
                    .map(Exec::Action)
            }
        }
    }

    /// The logical names among the action's arguments, resolved in `env`, in argument-table order.
    pub fn resolved_names(&self, vars: &Vars, env: &Environment) -> Vec<ResolvedName> {
        let Some(Executor::Action { builtin, with }) = &self.executor else {
            return Vec::new();
        };
        builtin
            .args
            .iter()
            .filter_map(|spec| {
                let ArgKind::Name(kind) = spec.kind else {
                    return None;
                };
                let logical = with.get(spec.name)?.render(vars, Reveal::Masked);
                Some(ResolvedName {
                    arg: spec.name.to_string(),
                    kind: kind.label().to_string(),
                    resource: env.resource(kind, &logical),
                    logical,
                })
            })
            .collect()
    }

    /// One line naming exactly what runs, secrets masked (or not), logical names resolved when
    /// `env` is given: `db.promote db=dr-replica (pynomaly-dr-replica)` or
    /// `run ./scripts/notify.sh 'a b'`.
    pub fn command_line(&self, vars: &Vars, reveal: Reveal, env: Option<&Environment>) -> String {
        self.command_line_for(vars, reveal, env, Occasion::Real)
    }

    /// [`Step::command_line`] for an occasion (the exercise marker on messages to people).
    pub fn command_line_for(
        &self,
        vars: &Vars,
        reveal: Reveal,
        env: Option<&Environment>,
        occasion: Occasion,
    ) -> String {
        self.command_line_with(vars, reveal, env, occasion, None, MessageForm::Quoted)
    }

    /// [`Step::command_line_for`] with the message to people replaced by `message` (the
    /// operator's edit, marked) when given, and written in `form`: quoted in the line (the
    /// journal's record), or as `message=(below, 6 lines)` for a screen that shows the message's
    /// lines under the command ([`message_lines`]).
    pub fn command_line_with(
        &self,
        vars: &Vars,
        reveal: Reveal,
        env: Option<&Environment>,
        occasion: Occasion,
        message: Option<&str>,
        form: MessageForm,
    ) -> String {
        match &self.executor {
            None => String::new(),
            Some(Executor::Run { argv, env }) => {
                // `NAME=value` before the program, as `env(1)` would take them.
                let words: Vec<String> = env
                    .iter()
                    .map(|(k, v)| format!("{k}={}", shell_quote(&v.render(vars, reveal))))
                    .chain(argv.iter().map(|a| shell_quote(&a.render(vars, reveal))))
                    .collect();
                format!("run {}", words.join(" "))
            }
            Some(Executor::Action { builtin, with }) => {
                let mut out = builtin.name.to_string();
                for spec in builtin.args {
                    let Some(value) = with.get(spec.name) else {
                        continue;
                    };
                    let rendered = value.render(vars, reveal);
                    out.push(' ');
                    out.push_str(spec.name);
                    out.push('=');
                    match spec.kind {
                        ArgKind::Name(kind) => {
                            out.push_str(&crate::text::visible(&rendered));
                            let resource = env.and_then(|e| e.resource(kind, &rendered));
                            if let Some(res) = resource.filter(|r| *r != rendered) {
                                out.push_str(&format!(" ({})", crate::text::visible(&res)));
                            }
                        }
                        ArgKind::Text => {
                            let sent =
                                message.map_or_else(|| occasion.mark(rendered), str::to_string);
                            match form {
                                MessageForm::Quoted => out.push_str(&format!("{sent:?}")),
                                MessageForm::Below => {
                                    let n = message_lines(&sent).len();
                                    let unit = if n == 1 { "line" } else { "lines" };
                                    out.push_str(&format!("(below, {n} {unit})"));
                                }
                            }
                        }
                        ArgKind::Count | ArgKind::Flag | ArgKind::RestorePoint => {
                            out.push_str(&crate::text::visible(&rendered));
                        }
                    }
                }
                out
            }
        }
    }
}

/// How a command line writes a message to people.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MessageForm {
    /// In the line, quoted with escapes (`message="[DRILL] INCIDENT: ...\nNEXT UPDATE: 1h"`):
    /// one unambiguous line, for the journal and `show`.
    Quoted,
    /// `message=(below, 6 lines)`: the screen shows the lines under the command.
    Below,
}

/// A message to people as the lines it is sent as, each made visible for a screen
/// ([`crate::text::visible`]: control characters other than the newline are shown, not
/// obeyed). A trailing newline ends the last line instead of opening an empty one; an empty
/// message is one empty line.
pub fn message_lines(message: &str) -> Vec<String> {
    let body = message.strip_suffix('\n').unwrap_or(message);
    body.split('\n')
        .map(|l| crate::text::visible(l).into_owned())
        .collect()
}

/// An argument quoted for display the way a POSIX shell would need it, so a displayed command is
/// exact and unambiguous: `a b` -> `'a b'`, `it's` -> `'it'\''s'`. An argument holding control
/// characters is written in bash's ANSI-C quoting, each control visible and none dropped:
/// `line1` LF `line2` -> `$'line1\nline2'`, ESC -> `\x1b`, U+009B -> `\u009b`. Display only:
/// nothing is ever run through a shell.
pub fn shell_quote(arg: &str) -> String {
    let plain = !arg.is_empty()
        && arg
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || "-_./:=@%+,".contains(c));
    if plain {
        arg.to_string()
    } else if arg.chars().any(char::is_control) {
        let mut out = String::with_capacity(arg.len() + 8);
        out.push_str("$'");
        for c in arg.chars() {
            match c {
                '\\' => out.push_str("\\\\"),
                '\'' => out.push_str("\\'"),
                '\n' => out.push_str("\\n"),
                '\r' => out.push_str("\\r"),
                '\t' => out.push_str("\\t"),
                c if c.is_control() && u32::from(c) < 0x80 => {
                    out.push_str(&format!("\\x{:02x}", u32::from(c)));
                }
                c if c.is_control() => out.push_str(&format!("\\u{:04x}", u32::from(c))),
                c => out.push(c),
            }
        }
        out.push('\'');
        out
    } else {
        format!("'{}'", arg.replace('\'', r"'\''"))
    }
}

/// A loaded, validated playbook.
#[derive(Debug, Clone, PartialEq)]
pub struct Playbook {
    pub id: String,
    pub title: String,
    pub scenario: Scenario,
    pub summary: String,
    pub rto: Dur,
    pub rpo: Dur,
    pub vars: Vars,
    /// Comms cadence: what to do every so often while the incident is open.
    pub reminders: Vec<Reminder>,
    pub steps: Vec<Step>,
    /// Where it was loaded from, as shown in messages.
    pub source: String,
    /// Content hash of the source text ([`super::content_hash`]), recorded in the journal header.
    pub hash: String,
}

/// A reminder of the comms cadence (`reminders = [{ every = "15m", text = "..." }]`): due at
/// the declaration plus every whole multiple of `every` (session time: a paused clock holds it).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reminder {
    pub every: Dur,
    /// Unique within the playbook: the journal names the reminder by it.
    pub text: String,
}

impl Playbook {
    /// The step whose completion restores service (`restores_service = true`), if any.
    pub fn restoring_step(&self) -> Option<usize> {
        self.steps.iter().position(|s| s.restores_service)
    }

    /// Index of the step with this id.
    pub fn step_index(&self, id: &str) -> Option<usize> {
        self.steps.iter().position(|s| s.id == id)
    }

    /// Sum of every step's target.
    pub fn total_target(&self) -> Dur {
        Dur::from_secs(self.steps.iter().map(|s| s.target.secs()).sum())
    }

    /// The executor of step `index` with secrets substituted: what the runtime runs.
    pub fn exec(&self, index: usize) -> Option<Exec> {
        self.steps
            .get(index)?
            .render_exec(&self.vars, Reveal::Secrets)
    }

    /// The executor of step `index` with secrets masked: what the screen and journal show.
    pub fn exec_masked(&self, index: usize) -> Option<Exec> {
        self.steps
            .get(index)?
            .render_exec(&self.vars, Reveal::Masked)
    }

    /// The rendered argv of a `run` step, secrets substituted: exactly the arguments the child
    /// process receives (`argv[0]` is the program). `None` for other steps.
    pub fn argv(&self, index: usize) -> Option<Vec<String>> {
        match self.exec(index)? {
            Exec::Run { argv, .. } => Some(argv),
            Exec::Action(_) => None,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn vars() -> Vars {
        let mut v = Vars::default();
        v.0.insert(
            "name".into(),
            Var {
                value: "api".into(),
                secret: false,
            },
        );
        v.0.insert(
            "token".into(),
            Var {
                value: "hunter2".into(),
                secret: true,
            },
        );
        v
    }

    #[test]
    fn templates_split_text_and_references() {
        let t = Template::parse("a {{name}} b {{ token }}").expect("parses");
        assert_eq!(t.var_names().collect::<Vec<_>>(), ["name", "token"]);
        assert_eq!(t.render(&vars(), Reveal::Secrets), "a api b hunter2");
        assert_eq!(t.render(&vars(), Reveal::Masked), format!("a api b {MASK}"));
        assert!(t.uses_secret(&vars()));
        assert!(Template::parse("").expect("empty").is_empty());
        assert_eq!(
            Template::parse("}} alone")
                .expect("fine")
                .render(&vars(), Reveal::Masked),
            "}} alone"
        );
    }

    #[test]
    fn template_errors_point_at_the_braces() {
        let e = Template::parse("ab {{name").expect_err("unclosed");
        assert_eq!(e.offset, 3);
        let e = Template::parse("x {{a}} {{.Names}}").expect_err("not a name");
        assert_eq!(e.offset, 8);
        assert!(
            e.message.contains("not a variable reference"),
            "{}",
            e.message
        );
        assert!(Template::parse("{{}}").is_err());
    }

    #[test]
    fn secrets_are_masked_in_free_text() {
        assert_eq!(
            vars().mask_secrets("login hunter2 ok hunter2"),
            format!("login {MASK} ok {MASK}")
        );
    }

    #[test]
    fn shell_quote_for_display() {
        assert_eq!(shell_quote("./x.sh"), "./x.sh");
        assert_eq!(shell_quote("--a=b"), "--a=b");
        assert_eq!(shell_quote("a b"), "'a b'");
        assert_eq!(shell_quote(""), "''");
        assert_eq!(shell_quote("it's"), r"'it'\''s'");
        assert_eq!(shell_quote("$(reboot)"), "'$(reboot)'");
        // Control characters are shown, never dropped: bash's $'...' reads back the same bytes.
        assert_eq!(shell_quote("line1\nline2"), r"$'line1\nline2'");
        assert_eq!(
            shell_quote("a\u{1b}[31m\u{7}it's \\ \u{9b}"),
            r"$'a\x1b[31m\x07it\'s \\ \u009b'"
        );
    }

    #[test]
    fn conditions_judge_an_empty_picture_as_unmet() {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("date");
        let empty = Sample::default();
        let conditions = [
            Condition::DbRole {
                db: "dr-replica".into(),
                role: DbRole::Primary,
            },
            Condition::DbLagUnder {
                db: "dr-replica".into(),
                under: Dur::from_secs(60),
            },
            Condition::DbAvailable {
                db: "primary".into(),
                available: true,
            },
            Condition::DbIntact {
                db: "primary".into(),
                intact: true,
            },
            Condition::RegionHealthy {
                region: "dr".into(),
                healthy: true,
            },
            Condition::RegionServing {
                region: "dr".into(),
                serving: true,
            },
            Condition::BackupFresherThan {
                backup: "snapshots".into(),
                within: Dur::from_mins(20),
            },
            Condition::BackupTakenSinceStep {
                backup: "snapshots".into(),
            },
            Condition::AppReady {
                app: "api".into(),
                region: "dr".into(),
                at_least: 3,
            },
            Condition::DnsPointsTo {
                dns: "api".into(),
                region: "dr".into(),
            },
        ];
        for c in conditions {
            let seen = c.observe(&empty, now);
            assert!(!seen.met, "{c}: {seen:?}");
            assert!(!seen.observed.is_empty());
        }
    }

    #[test]
    fn lag_rounds_up() {
        assert_eq!(lag_whole_secs(0.0), 0);
        assert_eq!(lag_whole_secs(41.2), 42);
        assert_eq!(lag_whole_secs(-3.0), 0);
        assert_eq!(lag_whole_secs(f64::NAN), 0);
    }

    /// A forensic snapshot's wait holds only for a backup taken after the step started: an
    /// older one of the regular schedule (`newest good 8m42s old`) does not count.
    #[test]
    fn taken_since_step_needs_a_backup_from_this_step() {
        use crate::telemetry::{AttemptOutcome, BackupReading};
        let start = chrono::Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 22, 0)
            .single()
            .expect("date");
        let sample_with = |taken: chrono::DateTime<chrono::Utc>| Sample {
            at: start + chrono::TimeDelta::minutes(1),
            backups: vec![BackupReading {
                name: "snapshots".into(),
                kind: "RDS snapshot".into(),
                every: Dur::from_mins(15),
                last_success: Some(taken),
                last_good: Some(taken),
                last_attempt: Some(taken),
                last_outcome: Some(AttemptOutcome::Succeeded),
                attempts_24h: 96,
                successes_24h: 96,
                size_bytes: None,
                last_verified: None,
            }],
            ..Sample::default()
        };
        let c = Condition::BackupTakenSinceStep {
            backup: "snapshots".into(),
        };
        let older = sample_with(start - chrono::TimeDelta::seconds(522));
        let seen = c.observe_in_step(&older, older.at, Some(start));
        assert!(!seen.met, "{seen:?}");
        assert_eq!(
            seen.observed,
            "newest taken 10:13:18, before this step started at 10:22:00"
        );
        // The fresher_than form would have passed on it.
        let fresher = Condition::BackupFresherThan {
            backup: "snapshots".into(),
            within: Dur::from_mins(10),
        };
        assert!(fresher.observe(&older, older.at).met);
        let ours = sample_with(start + chrono::TimeDelta::seconds(50));
        assert!(c.observe_in_step(&ours, ours.at, Some(start)).met);
        // Outside a step it never holds.
        assert!(!c.observe(&ours, ours.at).met);
    }

    fn notify_step(message: &str) -> Step {
        let builtin = crate::actions::builtin("notify.webhook").expect("notify.webhook");
        let mut with = BTreeMap::new();
        with.insert(
            "message".to_string(),
            ArgValue::Text(Template::parse(message).expect("template")),
        );
        Step {
            id: "tell".into(),
            title: "Tell".into(),
            target: Dur::from_secs(60),
            guide: Template::literal(""),
            checklist: Vec::new(),
            executor: Some(Executor::Action { builtin, with }),
            wait: None,
            timeout: None,
            on_failure: OnFailure::Stop,
            destructive: false,
            capture_rpo: false,
            restores_service: false,
            approvals: 0,
            recall: None,
        }
    }

    #[test]
    fn a_message_is_its_lines_with_other_controls_visible() {
        assert_eq!(message_lines("a\nb\n"), ["a", "b"]);
        assert_eq!(message_lines("a\n\nb"), ["a", "", "b"]);
        assert_eq!(message_lines(""), [""]);
        assert_eq!(message_lines("x\x1b[2Jy\r\tz"), ["x\\x1b[2Jy\\r\\tz"]);
    }

    #[test]
    fn a_message_is_quoted_for_the_record_and_below_for_the_screen() {
        let step = notify_step("for {{name}}\nsecond line");
        let v = vars();
        let quoted = step.command_line_for(&v, Reveal::Masked, None, Occasion::Exercise);
        assert_eq!(
            quoted,
            "notify.webhook message=\"[DRILL] for api\\nsecond line\""
        );
        let below = step.command_line_with(
            &v,
            Reveal::Masked,
            None,
            Occasion::Exercise,
            None,
            MessageForm::Below,
        );
        assert_eq!(below, "notify.webhook message=(below, 2 lines)");
        let edited = step.command_line_with(
            &v,
            Reveal::Masked,
            None,
            Occasion::Exercise,
            Some("[DRILL] one line"),
            MessageForm::Below,
        );
        assert_eq!(edited, "notify.webhook message=(below, 1 line)");
        assert_eq!(
            step.message(&v, Reveal::Masked, Occasion::Exercise)
                .as_deref(),
            Some("[DRILL] for api\nsecond line")
        );
        match step.render_exec_with(&v, Reveal::Secrets, Occasion::Real, Some("edited")) {
            Some(Exec::Action(call)) => assert_eq!(call.arg("message").as_deref(), Some("edited")),
            other => panic!("{other:?}"),
        }
        assert!(!step.message_uses_secret(&v));
        assert!(notify_step("t {{token}}").message_uses_secret(&v));
    }
}
