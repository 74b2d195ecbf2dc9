//! `app.scale` on ECS: `UpdateService` with the desired count, then a `DescribeServices` that
//! shows the count accepted. Readiness is the step's `ready_at_least` wait, read by the ECS
//! source (running tasks, as `services_stable` counts them). Every other action says it is not
//! ECS's, by an exhaustive match.

use std::sync::Arc;
use std::time::Instant;

use super::{ActionBackend, ActionError, Call, call};
use crate::env::Environment;
use crate::telemetry::aws::ecs::{EcsTarget, ServiceCounts};
use crate::telemetry::aws::{CallError, Connector};
use crate::telemetry::source::BoxFuture;

/// Runs `app.scale` against the ECS services of one environment.
pub struct EcsBackend {
    env: Environment,
    connector: Arc<Connector>,
}

impl EcsBackend {
    pub fn new(env: &Environment, connector: Arc<Connector>) -> Self {
        EcsBackend {
            env: env.clone(),
            connector,
        }
    }

    fn target(&self, c: &call::AppScale) -> Result<EcsTarget, String> {
        EcsTarget::find(&self.env, &c.app, &c.region).ok_or_else(|| {
            format!(
                "app.scale: app {} has no ECS service in region {} (add it to the app's `ecs` \
                 table: {} = {{ cluster = \"...\", service = \"...\" }})",
                crate::text::echo(&c.app),
                crate::text::echo(&c.region),
                crate::text::visible(&c.region)
            )
        })
    }

    async fn scale(
        &self,
        c: &call::AppScale,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let t = self.target(c)?;
        let desired = i32::try_from(c.replicas).map_err(|_| {
            format!(
                "app.scale: replicas = {} is more than ECS allows in a service",
                c.replicas
            )
        })?;
        let client = self.connector.ecs(&t.region_id, t.profile.as_deref()).await;
        let started = Instant::now();
        let out = client
            .update_service()
            .cluster(&t.cluster)
            .service(&t.service)
            .desired_count(desired)
            .send()
            .await
            .map_err(|e| {
                CallError::from_sdk(format!("ecs:UpdateService in {}", t.region_id), &e).to_string()
            })?;
        let before = out.service().map(ServiceCounts::of);
        progress(format!(
            "ecs:UpdateService cluster={} service={} desiredCount={desired} accepted ({} ms)",
            t.cluster,
            t.service,
            started.elapsed().as_millis()
        ));
        // Read it back: the service now wants `desired` tasks.
        let read = client
            .describe_services()
            .cluster(&t.cluster)
            .services(&t.service)
            .send()
            .await
            .map_err(|e| {
                CallError::from_sdk(format!("ecs:DescribeServices in {}", t.region_id), &e)
                    .to_string()
            })?;
        let counts = read
            .services()
            .first()
            .map(ServiceCounts::of)
            .or(before)
            .ok_or_else(|| {
                format!(
                    "app.scale: service {} is not in cluster {} ({})",
                    t.service, t.cluster, t.region_id
                )
            })?;
        if u64::from(counts.desired) != c.replicas {
            return Err(format!(
                "app.scale: service {} still wants {} tasks after UpdateService (asked {})",
                t.service, counts.desired, c.replicas
            ));
        }
        Ok(vec![format!(
            "{} in {}: desired {} (running {}, pending {}{}); the step's wait watches it get ready",
            c.app,
            c.region,
            counts.desired,
            counts.running,
            counts.pending,
            if counts.stable() { ", stable" } else { "" }
        )])
    }
}

/// Why ECS does not run `call`, if it does not: only `app.scale` is ECS's.
fn unsupported_reason(call: &Call) -> Option<String> {
    match call {
        Call::AppScale(_) => None,
        Call::DbPromote(_)
        | Call::DbFailover(_)
        | Call::DbReadOnly(_)
        | Call::DbRestore(_)
        | Call::DnsPoint(_)
        | Call::BackupSnapshot(_)
        | Call::BackupVerify(_)
        | Call::SecretRotate(_)
        | Call::HttpCheck(_)
        | Call::HaPause(_)
        | Call::HaResume(_)
        | Call::NotifyWebhook(_) => Some(format!(
            "{} is not an ECS action (ECS runs app.scale)",
            call.name()
        )),
    }
}

impl ActionBackend for EcsBackend {
    fn name(&self) -> &str {
        "ecs"
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        unsupported_reason(call)
    }

    fn describe(&self, call: &Call) -> String {
        match call {
            Call::AppScale(c) => match self.target(c) {
                Ok(t) => format!(
                    "ecs:UpdateService cluster={} service={} desiredCount={} (region {}), then read it back",
                    t.cluster, t.service, c.replicas, t.region_id
                ),
                Err(e) => format!("cannot run: {e}"),
            },
            Call::DbPromote(_)
            | Call::DbFailover(_)
            | Call::DbReadOnly(_)
            | Call::DbRestore(_)
            | Call::DnsPoint(_)
            | Call::BackupSnapshot(_)
            | Call::BackupVerify(_)
            | Call::SecretRotate(_)
            | Call::HttpCheck(_)
            | Call::HaPause(_)
            | Call::HaResume(_)
            | Call::NotifyWebhook(_) => format!(
                "unsupported on ECS: {}",
                unsupported_reason(call).unwrap_or_default()
            ),
        }
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        Box::pin(async move {
            let result = match call {
                Call::AppScale(c) => self.scale(c, progress).await,
                Call::DbPromote(_)
                | Call::DbFailover(_)
                | Call::DbReadOnly(_)
                | Call::DbRestore(_)
                | Call::DnsPoint(_)
                | Call::BackupSnapshot(_)
                | Call::BackupVerify(_)
                | Call::SecretRotate(_)
                | Call::HttpCheck(_)
                | Call::HaPause(_)
                | Call::HaResume(_)
                | Call::NotifyWebhook(_) => {
                    return Err(ActionError::unsupported(
                        call,
                        unsupported_reason(call).unwrap_or_default(),
                    ));
                }
            };
            result.map_err(ActionError::Failed)
        })
    }
}
