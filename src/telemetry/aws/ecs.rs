//! ECS: each application's service per region, read as ready/desired replicas (the running and
//! desired task counts `DescribeServices` gives, which the `services_stable` waiter compares).

use std::collections::BTreeMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_ecs::types::Service;
use chrono::Utc;

use super::{Backoff, CallError, Connector};
use crate::env::Environment;
use crate::telemetry::source::{BoxFuture, Feeds, Source, SourceError};
use crate::telemetry::{AppReading, Sample};

/// One application's ECS service in one logical region.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct EcsTarget {
    /// Logical app name (`api`).
    pub app: String,
    /// Logical region (`dr`).
    pub region: String,
    /// AWS region id (`us-east-1`).
    pub region_id: String,
    pub profile: Option<String>,
    pub cluster: String,
    pub service: String,
}

impl EcsTarget {
    /// Every ECS service the environment binds, in file order.
    pub fn from_env(env: &Environment) -> Vec<EcsTarget> {
        let mut out = Vec::new();
        for app in &env.apps {
            let Some(ecs) = &app.ecs else { continue };
            for (region, svc) in ecs.get_ref() {
                let Some(r) = env.region(region) else {
                    continue;
                };
                out.push(EcsTarget {
                    app: app.name.get_ref().clone(),
                    region: region.clone(),
                    region_id: r.id.clone(),
                    profile: r.profile.clone(),
                    cluster: svc.cluster.clone(),
                    service: svc.service.clone(),
                });
            }
        }
        out
    }

    /// The target of `app` in `region`, if it is bound.
    pub fn find(env: &Environment, app: &str, region: &str) -> Option<EcsTarget> {
        Self::from_env(env)
            .into_iter()
            .find(|t| t.app == app && t.region == region)
    }
}

/// What a service's counts say, as `services_stable` judges: stable when it has one deployment
/// and as many running tasks as desired.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ServiceCounts {
    pub desired: u32,
    pub running: u32,
    pub pending: u32,
    pub deployments: usize,
}

impl ServiceCounts {
    pub fn of(s: &Service) -> Self {
        let count = |n: i32| u32::try_from(n).unwrap_or(0);
        ServiceCounts {
            desired: count(s.desired_count()),
            running: count(s.running_count()),
            pending: count(s.pending_count()),
            deployments: s.deployments().len(),
        }
    }

    /// The `services_stable` condition.
    pub fn stable(&self) -> bool {
        self.deployments == 1 && self.running == self.desired
    }
}

/// Reads every bound ECS service: one `DescribeServices` per (region, profile, cluster).
pub struct EcsSource {
    connector: Arc<Connector>,
    targets: Vec<EcsTarget>,
    interval: Duration,
    backoff: Backoff,
}

impl EcsSource {
    /// The source for `env`'s ECS services, if it binds any.
    pub fn for_env(env: &Environment, connector: Arc<Connector>) -> Option<Self> {
        let targets = EcsTarget::from_env(env);
        (!targets.is_empty()).then(|| Self::new(connector, targets, super::ECS_INTERVAL))
    }

    pub fn new(connector: Arc<Connector>, targets: Vec<EcsTarget>, interval: Duration) -> Self {
        EcsSource {
            connector,
            targets,
            interval,
            backoff: Backoff::new(interval),
        }
    }

    async fn read(&self) -> Result<Sample, CallError> {
        type Key = (String, Option<String>, String);
        let mut groups: BTreeMap<Key, Vec<&EcsTarget>> = BTreeMap::new();
        for t in &self.targets {
            groups
                .entry((t.region_id.clone(), t.profile.clone(), t.cluster.clone()))
                .or_default()
                .push(t);
        }
        let mut apps = Vec::new();
        for ((region_id, profile, cluster), targets) in groups {
            let client = self.connector.ecs(&region_id, profile.as_deref()).await;
            // DescribeServices takes at most 10 services per call.
            for chunk in targets.chunks(10) {
                let out = client
                    .describe_services()
                    .cluster(&cluster)
                    .set_services(Some(chunk.iter().map(|t| t.service.clone()).collect()))
                    .send()
                    .await
                    .map_err(|e| {
                        CallError::from_sdk(format!("ecs:DescribeServices in {region_id}"), &e)
                    })?;
                for t in chunk {
                    let service = out.services().iter().find(|s| {
                        s.service_name() == Some(t.service.as_str())
                            || s.service_arn() == Some(t.service.as_str())
                    });
                    // A service that is gone reads 0 of 0: the wait for it cannot hold.
                    let counts = service.map(ServiceCounts::of);
                    apps.push(AppReading {
                        name: t.app.clone(),
                        region: t.region.clone(),
                        desired: counts.map_or(0, |c| c.desired),
                        ready: counts.map_or(0, |c| c.running),
                    });
                }
            }
        }
        Ok(Sample {
            at: Utc::now(),
            apps,
            ..Sample::default()
        })
    }
}

impl Source for EcsSource {
    fn name(&self) -> &str {
        "aws ecs"
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: false,
            backups: false,
            regions: true,
        }
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn timeout(&self) -> Duration {
        super::POLL_TIMEOUT
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move {
            self.backoff.check(Instant::now())?;
            let result = self.read().await;
            self.backoff.record(result, Instant::now())
        })
    }
}
