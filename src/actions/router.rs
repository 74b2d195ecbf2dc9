//! The action backend of a real environment: each call goes to the backend of the resource it
//! names, by that resource's binding (`postgres`, `aws`, `ecs`, `http`), so one environment may
//! mix them: a PostgreSQL pair with Route 53 DNS, ECS applications and HTTP health checks.

use std::sync::Arc;

use super::{ActionBackend, ActionError, Call};
use crate::env::{Binding, Environment, NameKind};
use crate::telemetry::source::BoxFuture;

/// Dispatches each call by the binding of the resource it names.
pub struct Router {
    env: Environment,
    label: String,
    /// Databases and backup directories bound to `postgres`, and `http` health endpoints.
    pub postgres: Option<Arc<dyn ActionBackend>>,
    /// RDS, RDS snapshots, Route 53; and the notification webhook.
    pub aws: Option<Arc<dyn ActionBackend>>,
    /// ECS services.
    pub ecs: Option<Arc<dyn ActionBackend>>,
    /// Patroni members.
    pub patroni: Option<Arc<dyn ActionBackend>>,
}

impl Router {
    pub fn new(env: &Environment) -> Self {
        Router {
            env: env.clone(),
            label: env.backend().label().to_string(),
            postgres: None,
            aws: None,
            ecs: None,
            patroni: None,
        }
    }

    /// The resource `call` acts on: its kind and logical name; `None` for the notification
    /// webhook, which belongs to the environment. Exhaustive: a new action names its resource.
    pub fn target(call: &Call) -> Option<(NameKind, &str)> {
        Some(match call {
            Call::DbPromote(c) => (NameKind::Database, c.db.as_str()),
            Call::DbFailover(c) => (NameKind::Database, c.db.as_str()),
            Call::DbReadOnly(c) => (NameKind::Database, c.db.as_str()),
            Call::DbRestore(c) => (NameKind::Database, c.db.as_str()),
            Call::HaPause(c) => (NameKind::Database, c.db.as_str()),
            Call::HaResume(c) => (NameKind::Database, c.db.as_str()),
            Call::DnsPoint(c) => (NameKind::Dns, c.dns.as_str()),
            Call::AppScale(c) => (NameKind::App, c.app.as_str()),
            Call::BackupSnapshot(c) => (NameKind::Backup, c.backup.as_str()),
            Call::BackupVerify(c) => (NameKind::Backup, c.backup.as_str()),
            Call::SecretRotate(c) => (NameKind::Region, c.region.as_str()),
            Call::HttpCheck(c) => (NameKind::Region, c.region.as_str()),
            Call::NotifyWebhook(_) => return None,
        })
    }

    /// The backend that runs `call`, or why none can.
    fn route(&self, call: &Call) -> Result<&dyn ActionBackend, String> {
        let Some((kind, name)) = Self::target(call) else {
            return match (&self.env.webhook, &self.aws) {
                (Some(_), Some(b)) => Ok(b.as_ref()),
                _ => Err(
                    "the environment has no notification webhook: add `[webhook] url_env = \
                     \"WARROOM_WEBHOOK_URL\"` and export the URL in that variable, or post the \
                     message with a `run` step (e.g. curl)"
                        .to_string(),
                ),
            };
        };
        let shown = crate::text::echo(name);
        if !self.env.has(kind, name) {
            return Err(format!(
                "unknown {} {shown}; known: {}",
                kind.label(),
                crate::env::known_names(&self.env.names(kind))
            ));
        }
        let Some(binding) = self.env.binding(kind, name) else {
            return Err(unbound(kind, &shown));
        };
        let backend = match binding {
            Binding::Postgres | Binding::Http => &self.postgres,
            Binding::Aws => &self.aws,
            Binding::Ecs => &self.ecs,
            Binding::Patroni => &self.patroni,
            Binding::Sim => &None,
        };
        backend.as_deref().ok_or_else(|| {
            format!(
                "{} {shown} is bound to {}, which this warroom cannot reach (built without it)",
                kind.label(),
                binding.label()
            )
        })
    }
}

/// Why a resource without a binding cannot be acted on, and what to do instead.
fn unbound(kind: NameKind, shown: &str) -> String {
    match kind {
        NameKind::Dns => format!(
            "DNS record {shown} has no binding warroom can act on (Route 53: add `aws = {{ zone = \
             \"Z...\", targets = {{ ... }} }}`); repoint it with your DNS provider's tool in a `run` \
             step, or as a checklist item"
        ),
        NameKind::App => format!(
            "app {shown} has no binding warroom can act on (ECS: add `ecs = {{ <region> = {{ \
             cluster = \"...\", service = \"...\" }} }}`); scale it with your orchestrator in a \
             `run` step (e.g. kubectl scale), or as a checklist item"
        ),
        NameKind::Database => {
            format!("database {shown} has no binding (postgres or aws); act on it in a `run` step")
        }
        NameKind::Backup => format!(
            "backup {shown} has no binding (dir or aws_snapshots); act on it in a `run` step"
        ),
        NameKind::Region => format!(
            "region {shown} has no health source (health URLs or a Route 53 health check); \
             act on it in a `run` step"
        ),
    }
}

impl ActionBackend for Router {
    fn name(&self) -> &str {
        &self.label
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        match self.route(call) {
            Ok(b) => b.unsupported(call),
            Err(why) => Some(why),
        }
    }

    fn describe(&self, call: &Call) -> String {
        match self.route(call) {
            Ok(b) => b.describe(call),
            Err(why) => format!("unsupported: {why}"),
        }
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        match self.route(call) {
            Ok(b) => b.execute(call, progress),
            // An unknown or unbound resource: what `unsupported` says, nothing attempted.
            Err(why) => Box::pin(async move { Err(ActionError::unsupported(call, why)) }),
        }
    }
}
