//! The playbook file format (v1), exactly as written in TOML.
//!
//! These types are what serde reads; every value that validation checks afterwards is wrapped in
//! [`Spanned`] so its diagnostics point at the exact `file:line:col`. Durations, scenarios and
//! names are read as strings and checked by [`super::load`], which reports every problem of a file
//! at once and turns these types into the validated [`super::model::Playbook`].
//!
//! Every struct denies unknown fields: a misspelt key is an error, never silently ignored.
//! The reference for users is `docs/playbooks.md`; keep both in step.

use std::collections::BTreeMap;

use serde::de::{self, MapAccess, Visitor};
use serde::{Deserialize, Deserializer};
use toml::Spanned;

/// A playbook file: one scenario, run top to bottom as a timed checklist.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PlaybookFile {
    /// Stable identifier (`region-loss`): lowercase letters, digits and `-`. `warroom show ID`
    /// finds the playbook by it; the journal records it.
    pub id: Spanned<String>,
    /// One line for humans (`Complete regional failure`).
    pub title: Spanned<String>,
    /// The scenario class: `az-loss`, `region-loss`, `corruption`, `breach` or `custom`.
    pub scenario: Spanned<String>,
    /// What happened and what this playbook does about it, in a sentence or two.
    #[serde(default)]
    pub summary: Option<Spanned<String>>,
    /// Recovery time objective: the budget from declaration to the last step (`30m`). Required.
    #[serde(default)]
    pub rto: Option<Spanned<String>>,
    /// Recovery point objective: the acceptable data-loss window (`5m`). Required.
    #[serde(default)]
    pub rpo: Option<Spanned<String>>,
    /// Variables: `name = "value"` or `name = { value = "...", secret = true }`. Referenced as
    /// `{{name}}` in `run` arguments, `with` strings, `guide` and `checklist` texts.
    #[serde(default)]
    pub vars: BTreeMap<Spanned<String>, Spanned<VarFile>>,
    /// Comms cadence: `reminders = [{ every = "15m", text = "Post a status update" }]`. Each
    /// falls due every `every` of session time from the declaration; the console counts down to
    /// the next one and a key marks it done (journaled). Written at the top level, before the
    /// first `[[steps]]`.
    #[serde(default)]
    pub reminders: Vec<ReminderFile>,
    /// The steps, in order. At least one.
    #[serde(default)]
    pub steps: Vec<StepFile>,
}

/// One `reminders` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ReminderFile {
    /// How often it falls due, counted from the declaration (`15m`); at least one minute.
    pub every: Spanned<String>,
    /// What to do when it is due (`Post a status update`); unique within the playbook.
    pub text: Spanned<String>,
}

/// One variable: a plain string, or a table with `value` and `secret`.
#[derive(Debug)]
pub struct VarFile {
    /// The text substituted for `{{name}}`.
    pub value: String,
    /// A secret is shown as `••••••` everywhere (runbook, screen, journal); only the argv given to
    /// a child process carries the real value.
    pub secret: bool,
}

/// The table form of a variable, `{ value = "...", secret = true }`.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct VarTable {
    /// The text substituted for `{{name}}`.
    value: String,
    /// Mask the value everywhere but in the child's argv.
    #[serde(default)]
    secret: bool,
}

impl<'de> Deserialize<'de> for VarFile {
    // Hand-written rather than `#[serde(untagged)]`: untagged enums lose the inner error ("data
    // did not match any variant"), and an unknown key in the table form deserves its own message.
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct VarVisitor;
        impl<'de> Visitor<'de> for VarVisitor {
            type Value = VarFile;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str(r#"a string, or a table { value = "...", secret = true }"#)
            }
            fn visit_str<E: de::Error>(self, v: &str) -> Result<VarFile, E> {
                Ok(VarFile {
                    value: v.to_string(),
                    secret: false,
                })
            }
            fn visit_map<A: MapAccess<'de>>(self, map: A) -> Result<VarFile, A::Error> {
                let t = VarTable::deserialize(de::value::MapAccessDeserializer::new(map))?;
                Ok(VarFile {
                    value: t.value,
                    secret: t.secret,
                })
            }
        }
        deserializer.deserialize_any(VarVisitor)
    }
}

/// One `[[steps]]` entry.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StepFile {
    /// Unique within the playbook: lowercase letters, digits and `-` (`promote`). For a
    /// destructive `run` step it is the text the operator types to confirm.
    pub id: Spanned<String>,
    /// What the step does, in a few words (`Promote the DR replica`).
    pub title: Spanned<String>,
    /// Target time for this step (`5m`). Targets add up to the projection shown against the RTO.
    pub target: Spanned<String>,
    /// Shown to the operator: what to look at, why, what the risk is. `{{vars}}` allowed.
    #[serde(default)]
    pub guide: Option<Spanned<String>>,
    /// Items the operator ticks before the step can run or complete. `{{vars}}` allowed.
    #[serde(default)]
    pub checklist: Vec<Spanned<String>>,
    /// Executor: a program and its arguments, never a shell string. `{{var}}` is substituted
    /// inside single arguments; a value never splits into several arguments.
    #[serde(default)]
    pub run: Option<Spanned<Vec<Spanned<String>>>>,
    /// Environment variables added to a `run` step's program (`{ TOKEN = "{{token}}" }`): the
    /// way to hand it a secret without putting it in its arguments, which every local user can
    /// read in `ps`. Values are templates like the arguments; names are `[A-Za-z_][A-Za-z0-9_]*`.
    #[serde(default)]
    pub env: Option<Spanned<BTreeMap<Spanned<String>, Spanned<String>>>>,
    /// Executor: a built-in action (`db.promote`), dispatched by the environment's backend.
    #[serde(default)]
    pub action: Option<Spanned<String>>,
    /// The action's arguments: strings (logical names or text, `{{vars}}` allowed), whole numbers
    /// and booleans, as the action's table in `docs/playbooks.md` says.
    #[serde(default)]
    pub with: Option<Spanned<BTreeMap<Spanned<String>, Spanned<toml::Value>>>>,
    /// A condition over live telemetry that must hold before the step is done.
    #[serde(default)]
    pub wait: Option<Spanned<WaitFile>>,
    /// Longest time the executor may run before it is killed and the step fails (`1m`).
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
    /// `stop` (default): a failure holds the incident on this step until it is retried or
    /// skipped. `continue`: a failure is recorded and the next step starts.
    #[serde(default)]
    pub on_failure: Option<Spanned<String>>,
    /// The confirmation requires typing the logical name of the action's target (`dr-replica`),
    /// or the step id for a `run` step.
    #[serde(default)]
    pub destructive: Option<Spanned<bool>>,
    /// Record the data-loss window when the executor starts: the replica lag of the action's `db`,
    /// or else the age of the newest known-good backup of its `backup`.
    #[serde(default)]
    pub capture_rpo: Option<Spanned<bool>>,
    /// This step's completion restores service: the outage ends (RTO achieved = disrupted ->
    /// this step done). At most one per playbook; the four standard scenarios need exactly one.
    #[serde(default)]
    pub restores_service: Option<Spanned<bool>>,
    /// Lines of an earlier step's output kept on screen beside this step's checklist
    /// (`{ step = "restore", lines = "manifest" }`): what the checklist compares with.
    #[serde(default)]
    pub recall: Option<Spanned<RecallFile>>,
}

/// A `recall = { step = "...", lines = "..." }` table.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RecallFile {
    /// The id of an earlier step.
    pub step: Spanned<String>,
    /// Only that step's output lines containing this text; without it, its last lines.
    #[serde(default)]
    pub lines: Option<Spanned<String>>,
}

/// A `wait = { ... }` table: one subject, one predicate, a timeout.
///
/// One struct with optional fields rather than an untagged enum, so that a wrong combination gets
/// a message saying which fields go together instead of "did not match any variant".
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WaitFile {
    /// Subject: a database's logical name. Predicates: `role`, `lag_under`, `available`,
    /// `intact`.
    #[serde(default)]
    pub db: Option<Spanned<String>>,
    /// The database's role: `primary` or `replica` (and available in it).
    #[serde(default)]
    pub role: Option<Spanned<String>>,
    /// The replica's replay lag is below this duration (`60s`).
    #[serde(default)]
    pub lag_under: Option<Spanned<String>>,
    /// The database accepts connections (`true`) or does not (`false`).
    #[serde(default)]
    pub available: Option<Spanned<bool>>,
    /// The database answers and its integrity checks pass (`true`), or they fail (`false`).
    /// Holds for a read-only database too, unlike `available`: the check after a restore.
    #[serde(default)]
    pub intact: Option<Spanned<bool>>,
    /// Subject: a region's logical name (predicates `healthy`, `serving`); or, with `app`, the
    /// region of the deployment.
    #[serde(default)]
    pub region: Option<Spanned<String>>,
    /// The Regions pane's verdict for the region is HEALTHY (`true`) or anything else (`false`).
    #[serde(default)]
    pub healthy: Option<Spanned<bool>>,
    /// Every health endpoint of the region answers, without a failed check in a row (`true`).
    /// Unlike `healthy` it holds while a single zone is down.
    #[serde(default)]
    pub serving: Option<Spanned<bool>>,
    /// Subject: a backup series' logical name. Predicate: `fresher_than` or `taken_since_step`.
    #[serde(default)]
    pub backup: Option<Spanned<String>>,
    /// The newest known-good backup is younger than this duration (`20m`).
    #[serde(default)]
    pub fresher_than: Option<Spanned<String>>,
    /// A backup of the series was taken after this step started (`true`): the one the step
    /// took, never an older one of the regular schedule.
    #[serde(default)]
    pub taken_since_step: Option<Spanned<bool>>,
    /// Subject: an application's logical name; needs `region` and `ready_at_least`.
    #[serde(default)]
    pub app: Option<Spanned<String>>,
    /// At least this many replicas of the app are ready in the region.
    #[serde(default)]
    pub ready_at_least: Option<Spanned<i64>>,
    /// Subject: a DNS record's logical name. Predicate: `points_to`.
    #[serde(default)]
    pub dns: Option<Spanned<String>>,
    /// The record points at this region (logical name).
    #[serde(default)]
    pub points_to: Option<Spanned<String>>,
    /// How long to wait for the condition before the step fails (`10m`). Required.
    #[serde(default)]
    pub timeout: Option<Spanned<String>>,
}
