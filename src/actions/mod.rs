//! What steps execute: a `run` argv or a built-in action, dispatched to the environment's backend.
//!
//! [`BuiltinAction`] is the one list of built-in actions, declared once in `builtin_actions!`
//! with its table ([`BuiltinAction::spec`]: arguments, what it verifies, where its RPO comes
//! from) and its typed call ([`Call`]). Playbook validation checks `with` against the table, the
//! playbook model produces the `Call`, and each backend ([`ActionBackend`]) answers whether it
//! runs a call and runs it by matching `Call` exhaustively: a new action does not compile until
//! every backend says what it does with it (docs/architecture.md, "Adding a built-in action").

#[cfg(feature = "aws")]
pub mod aws;
#[cfg(feature = "aws")]
pub mod ecs;
pub mod patroni;
pub mod postgres;
pub mod router;
pub mod run;
pub mod sim;
pub mod tree;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::env::NameKind;

/// What a step executes once confirmed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", rename_all = "kebab-case")]
pub enum Exec {
    /// A program and its arguments, variables already substituted; never run through a shell.
    Run {
        argv: Vec<String>,
        /// Variables added to the program's environment (`env = { ... }`), in name order.
        #[serde(default)]
        env: Vec<(String, String)>,
        timeout: Option<crate::duration::Dur>,
    },
    /// A built-in action with its typed arguments.
    Action(Call),
}

/// What an action argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A logical name of this kind in the environment.
    Name(NameKind),
    /// A whole number.
    Count,
    /// Free text (a message to people: marked in an exercise, editable in the dialog).
    Text,
    /// A restore point: `before-corruption`, `latest-verified-backup`, `newest-good-backup` or
    /// an RFC 3339 time.
    RestorePoint,
    /// `true` or `false`.
    Flag,
}

#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

/// One row of the built-in action table ([`BuiltinAction::spec`]).
#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub action: BuiltinAction,
    pub name: &'static str,
    /// One line for the confirmation dialog and `show`.
    pub summary: &'static str,
    /// What the action checks before it reports success (its own verification; a step's `wait`
    /// verifies the world afterwards).
    pub verifies: &'static str,
    /// Where the data-loss window (the RPO achieved) of a `capture_rpo` step running this action
    /// comes from; `None` for actions that lose no data.
    pub rpo: Option<&'static str>,
    pub args: &'static [ArgSpec],
    /// The argument whose logical name a destructive confirmation must type.
    pub target_arg: &'static str,
}

/// An argument value before it is typed: what the playbook model renders and what
/// [`ActionCall::typed`] parses from text.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Value {
    Text(String),
    Count(u64),
    Flag(bool),
}

/// Why a call could not be built from its name and arguments. Every message names the value.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ArgError {
    #[error("unknown action {name}; built-in actions: {known}", known = action_names())]
    UnknownAction {
        /// The name as given, quoted and bounded.
        name: String,
    },
    #[error("{action}: missing argument `{arg}`; add it to the step's `with` table")]
    Missing {
        action: &'static str,
        arg: &'static str,
    },
    #[error("{action}: unexpected argument {arg}; it takes: {known}")]
    Unexpected {
        action: &'static str,
        arg: String,
        known: String,
    },
    #[error("{action}: argument `{arg}` = {value} is not {expected}")]
    Bad {
        action: &'static str,
        arg: &'static str,
        /// The value as given, quoted and bounded.
        value: String,
        expected: &'static str,
    },
}

/// The Rust type of one argument field in a typed call: whether it is required, and how it is
/// taken from a [`Value`] and written back as text.
pub trait ArgType: Sized {
    const REQUIRED: bool;
    fn take(
        value: Option<Value>,
        action: &'static str,
        arg: &'static str,
    ) -> Result<Self, ArgError>;
    /// The value as the text form writes it (`None`: an optional argument not given).
    fn text(&self) -> Option<String>;
}

fn bad(action: &'static str, arg: &'static str, value: &Value, expected: &'static str) -> ArgError {
    let value = match value {
        Value::Text(t) => crate::text::echo(t),
        Value::Count(n) => n.to_string(),
        Value::Flag(b) => b.to_string(),
    };
    ArgError::Bad {
        action,
        arg,
        value,
        expected,
    }
}

impl ArgType for String {
    const REQUIRED: bool = true;
    fn take(v: Option<Value>, action: &'static str, arg: &'static str) -> Result<Self, ArgError> {
        match v {
            Some(Value::Text(t)) => Ok(t),
            Some(other) => Err(bad(action, arg, &other, "text")),
            None => Err(ArgError::Missing { action, arg }),
        }
    }
    fn text(&self) -> Option<String> {
        Some(self.clone())
    }
}

impl ArgType for Option<String> {
    const REQUIRED: bool = false;
    fn take(v: Option<Value>, action: &'static str, arg: &'static str) -> Result<Self, ArgError> {
        v.map(|v| String::take(Some(v), action, arg)).transpose()
    }
    fn text(&self) -> Option<String> {
        self.clone()
    }
}

impl ArgType for Option<crate::recovery::RestoreTo> {
    const REQUIRED: bool = false;
    fn take(v: Option<Value>, action: &'static str, arg: &'static str) -> Result<Self, ArgError> {
        match v {
            Some(Value::Text(t)) => t.parse().map(Some).map_err(|_| {
                bad(
                    action,
                    arg,
                    &Value::Text(t),
                    "before-corruption, latest-verified-backup, newest-good-backup or an RFC 3339 time (2026-11-26T10:20:59Z)",
                )
            }),
            Some(other) => Err(bad(
                action,
                arg,
                &other,
                "before-corruption, latest-verified-backup, newest-good-backup or an RFC 3339 time",
            )),
            None => Ok(None),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|t| t.to_string())
    }
}

impl ArgType for u64 {
    const REQUIRED: bool = true;
    fn take(v: Option<Value>, action: &'static str, arg: &'static str) -> Result<Self, ArgError> {
        match v {
            Some(Value::Count(n)) => Ok(n),
            Some(other) => Err(bad(action, arg, &other, "a whole number (e.g. 3)")),
            None => Err(ArgError::Missing { action, arg }),
        }
    }
    fn text(&self) -> Option<String> {
        Some(self.to_string())
    }
}

impl ArgType for Option<bool> {
    const REQUIRED: bool = false;
    fn take(v: Option<Value>, action: &'static str, arg: &'static str) -> Result<Self, ArgError> {
        match v {
            Some(Value::Flag(b)) => Ok(Some(b)),
            Some(other) => Err(bad(action, arg, &other, "true or false")),
            None => Ok(None),
        }
    }
    fn text(&self) -> Option<String> {
        self.map(|b| b.to_string())
    }
}

/// Declares the built-in actions once: the enum [`BuiltinAction`], its table row
/// ([`BuiltinAction::spec`]), one argument struct per action (module [`call`]) and the typed
/// call [`Call`]. Each argument is written once, `name: RustType = ArgKind`, so adding an
/// argument to an action is one line here (plus its use in the backends that act on it).
macro_rules! builtin_actions {
    ($(
        $(#[doc = $doc:literal])*
        $variant:ident = $name:literal {
            summary: $summary:literal,
            verifies: $verifies:literal,
            rpo: $rpo:expr,
            target: $target:ident,
            args: { $( $arg:ident : $ty:ty = $kind:expr ),* $(,)? } $(,)?
        }
    )*) => {
        /// Every built-in action. Backends match it (or [`Call`]) exhaustively: a new variant
        /// does not compile until every backend says what it does with it.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
        pub enum BuiltinAction { $( $(#[doc = $doc])* $variant, )* }

        /// The arguments of each built-in action, typed.
        pub mod call {
            $(
                #[doc = concat!("The arguments of `", $name, "`.")]
                #[derive(Debug, Clone, PartialEq, Eq)]
                pub struct $variant { $( pub $arg: $ty, )* }
            )*
        }

        /// A built-in action with its arguments, variables already substituted.
        #[derive(Debug, Clone, PartialEq, Eq)]
        pub enum Call { $( $(#[doc = $doc])* $variant(call::$variant), )* }

        impl BuiltinAction {
            /// Every action, in table order.
            pub const ALL: &'static [BuiltinAction] = &[$(BuiltinAction::$variant),*];

            /// The name playbooks, journals and messages use (`db.promote`).
            pub const fn name(self) -> &'static str {
                match self { $(BuiltinAction::$variant => $name,)* }
            }

            /// The action's row of the table.
            pub fn spec(self) -> &'static Builtin {
                match self { $(BuiltinAction::$variant => {
                    const SPEC: Builtin = Builtin {
                        action: BuiltinAction::$variant,
                        name: $name,
                        summary: $summary,
                        verifies: $verifies,
                        rpo: $rpo,
                        args: &[$(ArgSpec {
                            name: stringify!($arg),
                            kind: $kind,
                            required: <$ty as ArgType>::REQUIRED,
                        }),*],
                        target_arg: stringify!($target),
                    };
                    &SPEC
                })* }
            }
        }

        impl Call {
            /// Which action this is.
            pub fn action(&self) -> BuiltinAction {
                match self { $(Call::$variant(_) => BuiltinAction::$variant,)* }
            }

            /// Builds the typed call from argument values by name: a missing required
            /// argument, one of the wrong kind or one the action does not take is an error.
            pub fn from_values(
                action: BuiltinAction,
                mut values: BTreeMap<String, Value>,
            ) -> Result<Call, ArgError> {
                let call = match action { $(BuiltinAction::$variant => Call::$variant(call::$variant {
                    $($arg: <$ty as ArgType>::take(values.remove(stringify!($arg)), $name, stringify!($arg))?,)*
                }),)* };
                match values.into_keys().next() {
                    Some(arg) => Err(ArgError::Unexpected {
                        action: action.name(),
                        known: arg_names(action),
                        arg: crate::text::echo(&arg),
                    }),
                    None => Ok(call),
                }
            }

            /// The arguments given, in table order, as text (`enabled` -> `true`).
            #[allow(unused_mut, unused_variables)]
            pub fn args(&self) -> Vec<(&'static str, String)> {
                match self { $(Call::$variant(c) => {
                    let mut out = Vec::new();
                    $(if let Some(v) = ArgType::text(&c.$arg) { out.push((stringify!($arg), v)); })*
                    out
                })* }
            }
        }
    };
}

builtin_actions! {
    /// Promote a replica to a standalone primary.
    DbPromote = "db.promote" {
        summary: "promote a replica to a standalone primary (replication from its source stops)",
        verifies: "the database left recovery (answers as a primary) within the backend's limit",
        rpo: Some("the replica's frozen window when its source was lost: WAL positions on \
                   PostgreSQL, ReplicaLag on RDS, the simulator's replay lag"),
        target: db,
        args: { db: String = ArgKind::Name(NameKind::Database) },
    }
    /// Fail a Multi-AZ database or an Aurora cluster over within its region.
    DbFailover = "db.failover" {
        summary: "fail a Multi-AZ database or an Aurora cluster over to its standby in the same region",
        verifies: "the instance or cluster is available again (a new writer for a cluster)",
        rpo: Some("none for synchronous standbys (Multi-AZ, Aurora): the window is 0"),
        target: db,
        args: { db: String = ArgKind::Name(NameKind::Database) },
    }
    /// Switch a database's writes off or back on.
    DbReadOnly = "db.read_only" {
        summary: "switch a database's writes off (enabled = true) or back on (enabled = false)",
        verifies: "the server reports default_transaction_read_only as asked",
        rpo: None,
        target: db,
        args: {
            db: String = ArgKind::Name(NameKind::Database),
            enabled: Option<bool> = ArgKind::Flag,
        },
    }
    /// Restore a database from a backup series.
    DbRestore = "db.restore" {
        summary: "restore a database to a point: before the corruption onset (default), the latest verified backup, or a time",
        verifies: "the restore completed and the restored tables match the backup's manifest (PostgreSQL point in time: the restored server promoted, the point it reached reported)",
        rpo: Some("the corruption onset minus the restore point: the good writes between them are lost"),
        target: db,
        args: {
            db: String = ArgKind::Name(NameKind::Database),
            backup: String = ArgKind::Name(NameKind::Backup),
            to: Option<crate::recovery::RestoreTo> = ArgKind::RestorePoint,
        },
    }
    /// Point a DNS record at a region.
    DnsPoint = "dns.point" {
        summary: "point a DNS record at a region",
        verifies: "the provider reports the change applied (Route 53 INSYNC)",
        rpo: None,
        target: dns,
        args: {
            dns: String = ArgKind::Name(NameKind::Dns),
            region: String = ArgKind::Name(NameKind::Region),
        },
    }
    /// Set an application's replica count in a region.
    AppScale = "app.scale" {
        summary: "set the replica count of an application in a region",
        verifies: "the orchestrator accepted the desired count (readiness is the step's wait)",
        rpo: None,
        target: app,
        args: {
            app: String = ArgKind::Name(NameKind::App),
            region: String = ArgKind::Name(NameKind::Region),
            replicas: u64 = ArgKind::Count,
        },
    }
    /// Take a backup now; `forensic = true` also keeps it apart from retention, as evidence.
    BackupSnapshot = "backup.snapshot" {
        summary: "take a backup now (forensic = true: also kept apart from retention and tagged as evidence)",
        verifies: "the backup exists and reads back (pg_restore --list; RDS snapshot available); a forensic copy exists under its own name",
        rpo: None,
        target: backup,
        args: {
            backup: String = ArgKind::Name(NameKind::Backup),
            forensic: Option<bool> = ArgKind::Flag,
        },
    }
    /// Verify the newest backup of a series by restoring it.
    BackupVerify = "backup.verify" {
        summary: "verify the newest backup of a series (restore test: row counts and checksums)",
        verifies: "a scratch restore's row counts and checksums equal the backup's manifest",
        rpo: None,
        target: backup,
        args: { backup: String = ArgKind::Name(NameKind::Backup) },
    }
    /// Rotate the signing secret of a region.
    SecretRotate = "secret.rotate" {
        summary: "rotate the signing secret and revoke every session in a region",
        verifies: "the new secret is in place and the old sessions are revoked",
        rpo: None,
        target: region,
        args: { region: String = ArgKind::Name(NameKind::Region) },
    }
    /// Check a region's health endpoints once.
    HttpCheck = "http.check" {
        summary: "check every health endpoint of a region once (2xx within the timeout)",
        verifies: "every health endpoint of the region answered 2xx within the timeout",
        rpo: None,
        target: region,
        args: { region: String = ArgKind::Name(NameKind::Region) },
    }
    /// Pause the HA manager's automatic failover of a database's cluster (Patroni pause mode).
    HaPause = "ha.pause" {
        summary: "pause automatic failover of the database's cluster (Patroni: maintenance mode), so the HA manager cannot move the primary during the playbook",
        verifies: "the HA manager reports its automatic failover paused",
        rpo: None,
        target: db,
        args: { db: String = ArgKind::Name(NameKind::Database) },
    }
    /// Resume the HA manager's automatic failover of a database's cluster.
    HaResume = "ha.resume" {
        summary: "resume automatic failover of the database's cluster (Patroni: leave maintenance mode)",
        verifies: "the HA manager reports its automatic failover on again",
        rpo: None,
        target: db,
        args: { db: String = ArgKind::Name(NameKind::Database) },
    }
    /// Post a message to the notification webhook.
    NotifyWebhook = "notify.webhook" {
        summary: "post a message to the environment's notification webhook",
        verifies: "the webhook answered 2xx",
        rpo: None,
        target: message,
        args: { message: String = ArgKind::Text },
    }
}

impl BuiltinAction {
    /// The action of this name, if it is built in.
    pub fn parse(name: &str) -> Option<BuiltinAction> {
        BuiltinAction::ALL
            .iter()
            .copied()
            .find(|a| a.name() == name)
    }
}

impl std::fmt::Display for BuiltinAction {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name())
    }
}

/// Every row of the table, in order.
pub fn builtins() -> impl Iterator<Item = &'static Builtin> {
    BuiltinAction::ALL.iter().map(|a| a.spec())
}

/// The table row of the action of this name.
pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BuiltinAction::parse(name).map(BuiltinAction::spec)
}

/// `db.promote, db.failover, ...`
pub fn action_names() -> String {
    BuiltinAction::ALL
        .iter()
        .map(|a| a.name())
        .collect::<Vec<_>>()
        .join(", ")
}

fn arg_names(action: BuiltinAction) -> String {
    action
        .spec()
        .args
        .iter()
        .map(|a| a.name)
        .collect::<Vec<_>>()
        .join(", ")
}

impl Call {
    /// The call from its text form: an action name and `arg=value` pairs (numbers in decimal,
    /// flags `true`/`false`), as tests, the lab and the command line write it.
    pub fn parse(name: &str, args: &[(&str, &str)]) -> Result<Call, ArgError> {
        ActionCall {
            name: name.to_string(),
            args: args
                .iter()
                .map(|(k, v)| ((*k).to_string(), (*v).to_string()))
                .collect(),
        }
        .typed()
    }

    /// An example call of `action` in `env`: each logical name the first of its kind (the
    /// region the second, where there is one: a failover's target), `replicas = 2`, messages
    /// `warroom example`. The conformance tests run one per action against every backend.
    pub fn example(action: BuiltinAction, env: &crate::env::Environment) -> Result<Call, ArgError> {
        let values = action
            .spec()
            .args
            .iter()
            .filter(|a| a.required)
            .map(|a| {
                let value = match a.kind {
                    ArgKind::Name(kind) => {
                        let names = env.names(kind);
                        let pick = match kind {
                            NameKind::Region => names.get(1).or(names.first()),
                            _ => names.first(),
                        };
                        Value::Text(pick.cloned().unwrap_or_default())
                    }
                    ArgKind::Count => Value::Count(2),
                    ArgKind::Text => Value::Text("warroom example".to_string()),
                    ArgKind::RestorePoint => Value::Text("before-corruption".to_string()),
                    ArgKind::Flag => Value::Flag(true),
                };
                (a.name.to_string(), value)
            })
            .collect();
        Call::from_values(action, values)
    }

    /// The action's table row.
    pub fn spec(&self) -> &'static Builtin {
        self.action().spec()
    }

    /// The action's name.
    pub fn name(&self) -> &'static str {
        self.action().name()
    }

    /// The value of an argument as text, if given.
    pub fn arg(&self, name: &str) -> Option<String> {
        self.args()
            .into_iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v)
    }

    /// `db.promote db=dr-replica`: the name and the arguments given, in table order, on one
    /// line: a message to people of several lines or over 60 characters is counted, not quoted
    /// (`message=(6 lines, 412 characters)`; the confirmation shows its lines itself).
    pub fn text(&self) -> String {
        let spec = self.spec();
        let mut out = self.name().to_string();
        for (k, v) in self.args() {
            let text = spec
                .args
                .iter()
                .any(|a| a.name == k && a.kind == ArgKind::Text);
            let shown = if text && (v.contains('\n') || v.chars().count() > 60) {
                format!(
                    "({} lines, {} characters)",
                    v.lines().count(),
                    v.chars().count()
                )
            } else if text {
                crate::text::echo(&v)
            } else {
                crate::text::visible(&v).into_owned()
            };
            out.push_str(&format!(" {k}={shown}"));
        }
        out
    }

    /// The text form.
    pub fn to_text(&self) -> ActionCall {
        ActionCall {
            name: self.name().to_string(),
            args: self
                .args()
                .into_iter()
                .map(|(k, v)| (k.to_string(), v))
                .collect(),
        }
    }
}

impl call::DbReadOnly {
    /// Whether the call switches writes off (`enabled` defaults to true).
    pub fn writes_off(&self) -> bool {
        self.enabled.unwrap_or(true)
    }
}

impl call::BackupSnapshot {
    /// Whether the backup is also kept as forensic evidence: under its own name, tagged, apart
    /// from the series' retention (`forensic` defaults to false).
    pub fn is_forensic(&self) -> bool {
        self.forensic.unwrap_or(false)
    }
}

/// The name a forensic copy of a backup carries: `forensic-<what>-<yyyymmdd-hhmmss>` (UTC), so
/// that it sorts by time and no retention rule written for the series' own names matches it.
pub fn forensic_name(what: &str, at: chrono::DateTime<chrono::Utc>) -> String {
    let mut name = String::from("forensic-");
    for c in what.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && name.ends_with('-')) {
            name.push(c);
        }
    }
    let name = name.trim_end_matches('-').to_string();
    format!("{name}-{}", at.format("%Y%m%d-%H%M%S"))
}

/// A built-in action in text form: its name and its arguments as strings. [`ActionCall::typed`]
/// turns it into the [`Call`] that backends run. A [`Call`] serialises as this form.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCall {
    /// `db.promote`, `dns.point`, ...
    pub name: String,
    /// Argument name -> value, as strings (numbers rendered in decimal).
    pub args: BTreeMap<String, String>,
}

impl ActionCall {
    /// The typed call: the name must be a built-in, each argument one it takes, of its kind.
    pub fn typed(&self) -> Result<Call, ArgError> {
        let action = BuiltinAction::parse(&self.name).ok_or_else(|| ArgError::UnknownAction {
            name: crate::text::echo(&self.name),
        })?;
        let spec = action.spec();
        let mut values = BTreeMap::new();
        for (k, v) in &self.args {
            let Some(a) = spec.args.iter().find(|a| a.name == k) else {
                return Err(ArgError::Unexpected {
                    action: spec.name,
                    arg: crate::text::echo(k),
                    known: arg_names(action),
                });
            };
            let value = match a.kind {
                ArgKind::Name(_) | ArgKind::Text | ArgKind::RestorePoint => Value::Text(v.clone()),
                ArgKind::Count => Value::Count(v.parse::<u64>().map_err(|_| {
                    bad(
                        spec.name,
                        a.name,
                        &Value::Text(v.clone()),
                        "a whole number (e.g. 3)",
                    )
                })?),
                ArgKind::Flag => Value::Flag(match v.as_str() {
                    "true" => true,
                    "false" => false,
                    _ => {
                        return Err(bad(
                            spec.name,
                            a.name,
                            &Value::Text(v.clone()),
                            "true or false",
                        ));
                    }
                }),
            };
            values.insert(k.clone(), value);
        }
        Call::from_values(action, values)
    }
}

impl Serialize for Call {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        self.to_text().serialize(s)
    }
}

impl<'de> Deserialize<'de> for Call {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        ActionCall::deserialize(d)?
            .typed()
            .map_err(serde::de::Error::custom)
    }
}

/// A backend's own description of an exact call, for the confirmation dialog: cheap to clone,
/// no I/O ([`ActionBackend::describe`] never calls out).
#[derive(Clone)]
pub struct Describer(pub std::sync::Arc<dyn ActionBackend>);

impl std::fmt::Debug for Describer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Describer({})", self.0.name())
    }
}

impl Describer {
    /// What the backend will do for `exec`, if it is a built-in action.
    pub fn describe(&self, exec: &Exec) -> Option<String> {
        match exec {
            Exec::Action(call) => Some(self.0.describe(call)),
            Exec::Run { .. } => None,
        }
    }
}

/// Runs built-in actions against one backend (the simulator, PostgreSQL, AWS). The runtime calls
/// it only for an `Effect::Execute` the playbook engine emitted after `Input::Confirm`.
///
/// Each implementation answers [`ActionBackend::unsupported`] and [`ActionBackend::execute`] by
/// matching [`Call`] exhaustively (no catch-all arm): a new action does not compile until every
/// backend says what it does with it, and an action it runs is one it says it supports.
pub trait ActionBackend: Send + Sync {
    /// Backend name for messages (`sim`, `postgres`, `aws`).
    fn name(&self) -> &str;

    /// Why this backend cannot run `call`, if it cannot (shown by `warroom check`, so a step
    /// that has no meaning on this backend is known before 3 a.m.). `execute` of a call this
    /// answers `Some` for fails with that reason.
    fn unsupported(&self, call: &Call) -> Option<String>;

    /// The exact operation, for the confirmation dialog, `check --env` and dry runs: e.g.
    /// `rds:PromoteReadReplica DBInstanceIdentifier=pynomaly-dr-replica` or
    /// `SELECT pg_promote() on host=... port=5433 (dr-replica)`. Never includes a secret.
    fn describe(&self, call: &Call) -> String;

    /// Runs the action. `progress` receives human-readable lines as they happen; the result is
    /// the final outcome lines or why not ([`ActionError`]: unsupported here, refused before
    /// anything changed, or failed), saying what failed and what to do.
    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> crate::telemetry::source::BoxFuture<'a, Result<Vec<String>, ActionError>>;
}

/// Why a backend's [`ActionBackend::execute`] did not succeed. The message says what failed and
/// what to do; the variant says how far it got.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ActionError {
    /// This backend does not run the action (the reason [`ActionBackend::unsupported`] gives,
    /// and what to do instead). Nothing was attempted.
    #[error("{action}: {why}")]
    Unsupported { action: &'static str, why: String },
    /// The backend refused the call before changing anything: a target it cannot resolve, or a
    /// precondition that does not hold (the member is already the leader).
    #[error("{action}: {why}")]
    Refused { action: &'static str, why: String },
    /// The call was made and failed, or its result could not be verified.
    #[error("{0}")]
    Failed(String),
}

impl ActionError {
    /// `call` is not run by this backend, for `why` (without the action's name).
    pub fn unsupported(call: &Call, why: impl Into<String>) -> ActionError {
        ActionError::Unsupported {
            action: call.name(),
            why: why.into(),
        }
    }

    /// `call` was refused before anything changed, for `why` (without the action's name).
    pub fn refused(call: &Call, why: impl Into<String>) -> ActionError {
        ActionError::Refused {
            action: call.name(),
            why: why.into(),
        }
    }
}

impl From<String> for ActionError {
    /// A backend's failure message (it names the action itself).
    fn from(message: String) -> ActionError {
        ActionError::Failed(message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_arg_is_an_argument() {
        for b in builtins() {
            assert!(
                b.args.iter().any(|a| a.name == b.target_arg),
                "{}: target {} not among its args",
                b.name,
                b.target_arg
            );
        }
    }

    #[test]
    fn the_table_has_one_row_per_action_by_name() {
        let mut names: Vec<&str> = BuiltinAction::ALL.iter().map(|a| a.name()).collect();
        names.sort_unstable();
        names.dedup();
        assert_eq!(names.len(), BuiltinAction::ALL.len());
        for &a in BuiltinAction::ALL {
            assert_eq!(BuiltinAction::parse(a.name()), Some(a));
            assert_eq!(a.spec().action, a);
            assert_eq!(a.spec().name, a.name());
            assert!(!a.spec().verifies.is_empty(), "{a}: says what it verifies");
        }
        assert_eq!(BuiltinAction::parse("db.explode"), None);
        // Where the RPO of a capture_rpo step comes from, for the actions that lose data.
        assert!(BuiltinAction::DbPromote.spec().rpo.is_some());
        assert!(BuiltinAction::DbRestore.spec().rpo.is_some());
        assert!(BuiltinAction::DnsPoint.spec().rpo.is_none());
    }

    #[test]
    fn text_form_round_trips_and_kinds_match_the_fields() {
        let env = crate::env::Environment::demo();
        for &a in BuiltinAction::ALL {
            let call = Call::example(a, &env).expect("example");
            assert_eq!(call.action(), a);
            let back = call.to_text().typed().expect("typed");
            assert_eq!(back, call, "{a}");
            let json = serde_json::to_string(&Exec::Action(call.clone())).expect("json");
            let exec: Exec = serde_json::from_str(&json).expect("from json");
            assert_eq!(exec, Exec::Action(call), "{json}");
        }
        let full =
            Call::parse("db.read_only", &[("db", "primary"), ("enabled", "false")]).expect("call");
        assert_eq!(full.text(), "db.read_only db=primary enabled=false");
        let Call::DbReadOnly(c) = &full else {
            panic!("{full:?}")
        };
        assert!(!c.writes_off());
        let default = Call::parse("db.read_only", &[("db", "primary")]).expect("call");
        assert_eq!(default.arg("enabled"), None);
        let Call::DbReadOnly(c) = default else {
            panic!("read only")
        };
        assert!(c.writes_off(), "enabled defaults to true");
    }

    #[test]
    fn malformed_calls_name_the_value() {
        let e = |name: &str, args: &[(&str, &str)]| {
            Call::parse(name, args).expect_err("malformed").to_string()
        };
        assert!(e("db.explode", &[]).starts_with("unknown action \"db.explode\"; built-in"));
        assert_eq!(
            e("db.promote", &[]),
            "db.promote: missing argument `db`; add it to the step's `with` table"
        );
        assert_eq!(
            e("db.promote", &[("db", "x"), ("force", "yes")]),
            "db.promote: unexpected argument \"force\"; it takes: db"
        );
        assert_eq!(
            e(
                "app.scale",
                &[("app", "a"), ("region", "r"), ("replicas", "3.5")]
            ),
            "app.scale: argument `replicas` = \"3.5\" is not a whole number (e.g. 3)"
        );
        assert_eq!(
            e("db.read_only", &[("db", "p"), ("enabled", "yes")]),
            "db.read_only: argument `enabled` = \"yes\" is not true or false"
        );
        let long = "x".repeat(10_000);
        assert!(e(&long, &[]).len() < 600, "bounded");
    }

    #[test]
    fn long_messages_are_counted_not_quoted() {
        let short = Call::parse("notify.webhook", &[("message", "failing over")]).expect("c");
        assert_eq!(short.text(), "notify.webhook message=\"failing over\"");
        let long = Call::parse("notify.webhook", &[("message", "a\nb\nc")]).expect("c");
        assert_eq!(
            long.text(),
            "notify.webhook message=(3 lines, 5 characters)"
        );
    }
}
