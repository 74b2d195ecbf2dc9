//! What steps execute: a `run` argv or a built-in action, dispatched to the environment's backend.
//!
//! The table [`BUILTINS`] is the one list of built-in actions: playbook validation checks `with`
//! against it, the confirmation dialog and `show` describe actions from it, and each backend
//! implements the actions it supports.

#[cfg(feature = "aws")]
pub mod aws;
pub mod postgres;
pub mod run;
pub mod sim;
pub mod tree;

use std::collections::BTreeMap;

use serde::{Deserialize, Serialize};

use crate::duration::Dur;
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
        timeout: Option<Dur>,
    },
    /// A built-in action with its rendered arguments.
    Action(ActionCall),
}

/// A built-in action with its arguments, variables already substituted.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ActionCall {
    /// `db.promote`, `dns.point`, ...
    pub name: String,
    /// Argument name -> value, as strings (numbers rendered in decimal).
    pub args: BTreeMap<String, String>,
}

impl ActionCall {
    pub fn arg(&self, name: &str) -> Option<&str> {
        self.args.get(name).map(String::as_str)
    }
}

/// What an action argument must be.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ArgKind {
    /// A logical name of this kind in the environment.
    Name(NameKind),
    /// A whole number.
    Count,
    /// Free text.
    Text,
    /// `true` or `false`.
    Flag,
}

#[derive(Debug, Clone, Copy)]
pub struct ArgSpec {
    pub name: &'static str,
    pub kind: ArgKind,
    pub required: bool,
}

#[derive(Debug, Clone, Copy)]
pub struct Builtin {
    pub name: &'static str,
    /// One line for the confirmation dialog and `show`.
    pub summary: &'static str,
    pub args: &'static [ArgSpec],
    /// The argument whose logical name a destructive confirmation must type.
    pub target_arg: &'static str,
}

const fn req(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: true,
    }
}

const fn opt(name: &'static str, kind: ArgKind) -> ArgSpec {
    ArgSpec {
        name,
        kind,
        required: false,
    }
}

/// Every built-in action.
pub const BUILTINS: &[Builtin] = &[
    Builtin {
        name: "db.promote",
        summary: "promote a replica to a standalone primary (replication from its source stops)",
        args: &[req("db", ArgKind::Name(NameKind::Database))],
        target_arg: "db",
    },
    Builtin {
        name: "db.failover",
        summary: "fail a Multi-AZ database or an Aurora cluster over to its standby in the same region",
        args: &[req("db", ArgKind::Name(NameKind::Database))],
        target_arg: "db",
    },
    Builtin {
        name: "db.read_only",
        summary: "switch a database's writes off (enabled = true) or back on (enabled = false)",
        args: &[
            req("db", ArgKind::Name(NameKind::Database)),
            opt("enabled", ArgKind::Flag),
        ],
        target_arg: "db",
    },
    Builtin {
        name: "db.restore",
        summary: "restore a database to a point: before the corruption onset (default), the latest verified backup, or a time",
        args: &[
            req("db", ArgKind::Name(NameKind::Database)),
            req("backup", ArgKind::Name(NameKind::Backup)),
            opt("to", ArgKind::Text),
        ],
        target_arg: "db",
    },
    Builtin {
        name: "dns.point",
        summary: "point a DNS record at a region",
        args: &[
            req("dns", ArgKind::Name(NameKind::Dns)),
            req("region", ArgKind::Name(NameKind::Region)),
        ],
        target_arg: "dns",
    },
    Builtin {
        name: "app.scale",
        summary: "set the replica count of an application in a region",
        args: &[
            req("app", ArgKind::Name(NameKind::App)),
            req("region", ArgKind::Name(NameKind::Region)),
            req("replicas", ArgKind::Count),
        ],
        target_arg: "app",
    },
    Builtin {
        name: "backup.snapshot",
        summary: "take a backup now",
        args: &[req("backup", ArgKind::Name(NameKind::Backup))],
        target_arg: "backup",
    },
    Builtin {
        name: "backup.verify",
        summary: "verify the newest backup of a series (restore test: row counts and checksums)",
        args: &[req("backup", ArgKind::Name(NameKind::Backup))],
        target_arg: "backup",
    },
    Builtin {
        name: "secret.rotate",
        summary: "rotate the signing secret and revoke every session in a region",
        args: &[req("region", ArgKind::Name(NameKind::Region))],
        target_arg: "region",
    },
    Builtin {
        name: "http.check",
        summary: "check every health endpoint of a region once (2xx within the timeout)",
        args: &[req("region", ArgKind::Name(NameKind::Region))],
        target_arg: "region",
    },
    Builtin {
        name: "notify.webhook",
        summary: "post a message to the environment's notification webhook",
        args: &[req("message", ArgKind::Text)],
        target_arg: "message",
    },
];

pub fn builtin(name: &str) -> Option<&'static Builtin> {
    BUILTINS.iter().find(|b| b.name == name)
}

/// Runs built-in actions against one backend (the simulator, PostgreSQL, AWS). The runtime calls
/// it only for an `Effect::Execute` the playbook engine emitted after `Input::Confirm`.
pub trait ActionBackend: Send + Sync {
    /// Backend name for messages (`sim`, `postgres`, `aws`).
    fn name(&self) -> &str;

    /// Why this backend cannot run `action` at all, if it cannot (shown by `warroom check`, so
    /// a step that has no meaning on this backend is known before 3 a.m.).
    fn unsupported(&self, action: &str) -> Option<String>;

    /// The exact operation, for the confirmation dialog and dry runs: e.g.
    /// `rds:PromoteReadReplica DBInstanceIdentifier=pynomaly-dr-replica` or
    /// `SELECT pg_promote() on host=... port=5433 (dr-replica)`. Never includes a secret.
    fn describe(&self, call: &ActionCall) -> String;

    /// Runs the action. `progress` receives human-readable lines as they happen; the result is
    /// the final outcome lines or an error message that says what failed and what to do.
    fn execute<'a>(
        &'a self,
        call: &'a ActionCall,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> crate::telemetry::source::BoxFuture<'a, Result<Vec<String>, String>>;
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_target_arg_is_an_argument() {
        for b in BUILTINS {
            assert!(
                b.args.iter().any(|a| a.name == b.target_arg),
                "{}: target {} not among its args",
                b.name,
                b.target_arg
            );
        }
    }
}
