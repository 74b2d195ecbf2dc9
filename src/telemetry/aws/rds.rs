//! RDS: databases (instances and Aurora clusters) with their CloudWatch replica lag, and backup
//! series made of RDS snapshots. The SDK calls live in the sources; the mapping from AWS's shapes
//! to readings is in pure functions, unit-tested with the SDK's own types.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_rds::types::{DbCluster, DbInstance, DbSnapshot, Filter};
use chrono::{DateTime, TimeDelta, Utc};

use super::{Backoff, CallError, Connector, cloudwatch, to_utc};
use crate::duration::Dur;
use crate::env::{Environment, SnapshotKind};
use crate::telemetry::source::{BoxFuture, Feeds, Source, SourceError};
use crate::telemetry::{
    AttemptOutcome, BackupReading, DatabaseReading, DbRole, DbState, Replication, ReplicationState,
    Sample,
};

/// Identifiers per `Filter` (AWS accepts long lists; this keeps requests small).
const FILTER_VALUES_PER_CALL: usize = 100;

/// What a logical database is bound to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Binding {
    Instance(String),
    Cluster(String),
}

impl Binding {
    pub fn id(&self) -> &str {
        match self {
            Binding::Instance(id) | Binding::Cluster(id) => id,
        }
    }
}

/// One logical database as the RDS source sees it.
#[derive(Debug, Clone)]
pub struct DbTarget {
    pub name: String,
    /// Logical region.
    pub region: String,
    pub binding: Binding,
    /// Logical name of its source, for replicas.
    pub replica_of: Option<String>,
    pub lag_alarm: Dur,
}

/// The AWS databases of `env`, with the logical name of every bound identifier (instances and
/// clusters of all regions: a replica's source may live elsewhere).
pub fn db_targets(env: &Environment) -> (Vec<DbTarget>, BTreeMap<String, String>) {
    let mut targets = Vec::new();
    let mut names = BTreeMap::new();
    for d in &env.databases {
        let Some(aws) = &d.aws else { continue };
        let a = aws.get_ref();
        let binding = match (&a.instance, &a.cluster) {
            (Some(id), _) => Binding::Instance(id.clone()),
            (None, Some(id)) => Binding::Cluster(id.clone()),
            (None, None) => continue,
        };
        names.insert(binding.id().to_string(), d.name.get_ref().clone());
        targets.push(DbTarget {
            name: d.name.get_ref().clone(),
            region: d.region.get_ref().clone(),
            binding,
            replica_of: d.replica_of.as_ref().map(|r| r.get_ref().clone()),
            lag_alarm: d.lag_alarm,
        });
    }
    (targets, names)
}

/// `DBInstanceStatus` to the console's states. Statuses in which the instance serves its role
/// (backing up, modifying, maintenance, ...) count as available.
pub fn instance_state(status: &str) -> DbState {
    match status {
        "available"
        | "backing-up"
        | "modifying"
        | "maintenance"
        | "storage-optimization"
        | "configuring-enhanced-monitoring"
        | "configuring-iam-database-auth"
        | "configuring-log-exports"
        | "converting-to-vpc"
        | "moving-to-vpc"
        | "renaming"
        | "resetting-master-credentials"
        | "storage-config-upgrade"
        | "upgrading" => DbState::Available,
        "failing-over" => DbState::FailingOver,
        "promoting" => DbState::Promoting,
        "stopped" | "stopping" => DbState::Stopped,
        // rebooting, starting, creating, failed, storage-full, inaccessible-encryption-
        // credentials, incompatible-*, restore-error, deleting, and anything new.
        _ => DbState::Unreachable,
    }
}

/// An identifier from `ReadReplicaSourceDBInstanceIdentifier`: a plain id in the same region,
/// an ARN (`arn:aws:rds:us-west-2:123456789012:db:prod`) across regions.
pub fn id_from_arn(id_or_arn: &str) -> &str {
    if id_or_arn.starts_with("arn:") {
        id_or_arn.rsplit(':').next().unwrap_or(id_or_arn)
    } else {
        id_or_arn
    }
}

/// Replication health from the instance's `StatusInfos` (`read replication` entries), else
/// from its own state.
fn replication_state(inst: &DbInstance, state: DbState) -> ReplicationState {
    let info = inst
        .status_infos()
        .iter()
        .find(|s| s.status_type() == Some("read replication"));
    match info.and_then(|i| i.status()) {
        Some("replicating") => ReplicationState::Streaming,
        Some("replication stop point set" | "replication stop point reached") => {
            ReplicationState::Paused
        }
        Some(_) => ReplicationState::Broken,
        None if state == DbState::Available => ReplicationState::Streaming,
        None => ReplicationState::Broken,
    }
}

/// One database's reading from its `DescribeDBInstances` entry (`None`: AWS does not know it)
/// and its CloudWatch lag. `names` maps identifiers to logical names.
pub fn instance_reading(
    target: &DbTarget,
    inst: Option<&DbInstance>,
    lag_secs: Option<f64>,
    names: &BTreeMap<String, String>,
) -> DatabaseReading {
    let Some(inst) = inst else {
        return DatabaseReading {
            name: target.name.clone(),
            resource: target.binding.id().to_string(),
            region: target.region.clone(),
            role: DbRole::Unknown,
            state: DbState::Unreachable,
            az: None,
            multi_az: false,
            replication: None,
            integrity_ok: None,
            corrupt_since: None,
            failure: None,
        };
    };
    let state = instance_state(inst.db_instance_status().unwrap_or("unknown"));
    let source = inst
        .read_replica_source_db_instance_identifier()
        .map(id_from_arn);
    let replication = match (source, &target.replica_of) {
        (Some(src), declared) => Some(Replication {
            source: names
                .get(src)
                .cloned()
                .or_else(|| declared.clone())
                .unwrap_or_else(|| src.to_string()),
            state: replication_state(inst, state),
            lag_secs,
            lag_bytes: None,
            lag_alarm: target.lag_alarm,
            loss_window_secs: None,
            source_lost_at: None,
            last_replayed_at: None,
            loss_window_bytes: None,
            loss_evidence: None,
        }),
        // The environment calls it a replica but AWS says it stands alone: it was promoted.
        (None, Some(declared)) => Some(Replication {
            source: declared.clone(),
            state: ReplicationState::Promoted,
            lag_secs: None,
            lag_bytes: None,
            lag_alarm: target.lag_alarm,
            loss_window_secs: None,
            source_lost_at: None,
            last_replayed_at: None,
            loss_window_bytes: None,
            loss_evidence: None,
        }),
        (None, None) => None,
    };
    DatabaseReading {
        name: target.name.clone(),
        resource: target.binding.id().to_string(),
        region: target.region.clone(),
        role: if source.is_some() {
            DbRole::Replica
        } else {
            DbRole::Primary
        },
        state,
        az: inst.availability_zone().map(str::to_string),
        multi_az: inst.multi_az().unwrap_or(false),
        replication,
        integrity_ok: None,
        corrupt_since: None,
        failure: None,
    }
}

/// One Aurora cluster's reading. Replica lag of clusters is not read yet (`lag_secs` unknown).
pub fn cluster_reading(
    target: &DbTarget,
    cluster: Option<&DbCluster>,
    names: &BTreeMap<String, String>,
) -> DatabaseReading {
    let Some(c) = cluster else {
        return instance_reading(target, None, None, names);
    };
    let state = instance_state(c.status().unwrap_or("unknown"));
    let source = c.replication_source_identifier().map(id_from_arn);
    let replication = match (source, &target.replica_of) {
        (Some(src), declared) => Some(Replication {
            source: names
                .get(src)
                .cloned()
                .or_else(|| declared.clone())
                .unwrap_or_else(|| src.to_string()),
            state: if state == DbState::Available {
                ReplicationState::Streaming
            } else {
                ReplicationState::Broken
            },
            lag_secs: None,
            lag_bytes: None,
            lag_alarm: target.lag_alarm,
            loss_window_secs: None,
            source_lost_at: None,
            last_replayed_at: None,
            loss_window_bytes: None,
            loss_evidence: None,
        }),
        (None, Some(declared)) => Some(Replication {
            source: declared.clone(),
            state: ReplicationState::Promoted,
            lag_secs: None,
            lag_bytes: None,
            lag_alarm: target.lag_alarm,
            loss_window_secs: None,
            source_lost_at: None,
            last_replayed_at: None,
            loss_window_bytes: None,
            loss_evidence: None,
        }),
        (None, None) => None,
    };
    DatabaseReading {
        name: target.name.clone(),
        resource: target.binding.id().to_string(),
        region: target.region.clone(),
        role: if source.is_some() {
            DbRole::Replica
        } else {
            DbRole::Primary
        },
        state,
        az: None,
        multi_az: c.multi_az().unwrap_or(false),
        replication,
        integrity_ok: None,
        corrupt_since: None,
        failure: None,
    }
}

/// `DescribeDBInstances` for `ids` (filtered, paginated).
pub async fn describe_instances(
    client: &aws_sdk_rds::Client,
    region: &str,
    ids: &[String],
) -> Result<Vec<DbInstance>, CallError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(FILTER_VALUES_PER_CALL) {
        let filter = Filter::builder()
            .name("db-instance-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut marker = None;
        loop {
            let page = client
                .describe_db_instances()
                .filters(filter.clone())
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| {
                    CallError::from_sdk(format!("rds:DescribeDBInstances in {region}"), &e)
                })?;
            out.extend(page.db_instances().iter().cloned());
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// `DescribeDBClusters` for `ids` (filtered, paginated).
pub async fn describe_clusters(
    client: &aws_sdk_rds::Client,
    region: &str,
    ids: &[String],
) -> Result<Vec<DbCluster>, CallError> {
    let mut out = Vec::new();
    for chunk in ids.chunks(FILTER_VALUES_PER_CALL) {
        let filter = Filter::builder()
            .name("db-cluster-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut marker = None;
        loop {
            let page = client
                .describe_db_clusters()
                .filters(filter.clone())
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| {
                    CallError::from_sdk(format!("rds:DescribeDBClusters in {region}"), &e)
                })?;
            out.extend(page.db_clusters().iter().cloned());
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// `DescribeDBSnapshots` (automated and manual) of `instances` (filtered, paginated).
pub async fn describe_snapshots(
    client: &aws_sdk_rds::Client,
    region: &str,
    instances: &[String],
) -> Result<Vec<DbSnapshot>, CallError> {
    let mut out = Vec::new();
    for chunk in instances.chunks(FILTER_VALUES_PER_CALL) {
        let filter = Filter::builder()
            .name("db-instance-id")
            .set_values(Some(chunk.to_vec()))
            .build();
        let mut marker = None;
        loop {
            let page = client
                .describe_db_snapshots()
                .filters(filter.clone())
                .max_records(100)
                .set_marker(marker.take())
                .send()
                .await
                .map_err(|e| {
                    CallError::from_sdk(format!("rds:DescribeDBSnapshots in {region}"), &e)
                })?;
            out.extend(page.db_snapshots().iter().cloned());
            match page.marker() {
                Some(m) if !m.is_empty() => marker = Some(m.to_string()),
                _ => break,
            }
        }
    }
    Ok(out)
}

/// Feeds the Replica lag and Regions panes with the databases of one region.
pub struct RdsSource {
    label: String,
    region_id: String,
    profile: Option<String>,
    connector: Arc<Connector>,
    targets: Vec<DbTarget>,
    names: BTreeMap<String, String>,
    clients: Option<(aws_sdk_rds::Client, aws_sdk_cloudwatch::Client)>,
    interval: Duration,
    backoff: Backoff,
}

impl RdsSource {
    /// The source for the AWS databases of logical region `region`, if it has any.
    pub fn for_region(
        env: &Environment,
        region: &str,
        profile: Option<String>,
        connector: Arc<Connector>,
    ) -> Option<Self> {
        let region_id = env.region(region)?.id.clone();
        let (all, names) = db_targets(env);
        let targets: Vec<DbTarget> = all.into_iter().filter(|t| t.region == region).collect();
        if targets.is_empty() {
            return None;
        }
        Some(Self::new(
            region_id,
            profile,
            connector,
            targets,
            names,
            super::RDS_INTERVAL,
        ))
    }

    pub fn new(
        region_id: String,
        profile: Option<String>,
        connector: Arc<Connector>,
        targets: Vec<DbTarget>,
        names: BTreeMap<String, String>,
        interval: Duration,
    ) -> Self {
        RdsSource {
            label: format!("aws rds {region_id}"),
            region_id,
            profile,
            connector,
            targets,
            names,
            clients: None,
            interval,
            backoff: Backoff::new(interval),
        }
    }

    async fn clients(&mut self) -> (aws_sdk_rds::Client, aws_sdk_cloudwatch::Client) {
        if let Some(c) = &self.clients {
            return c.clone();
        }
        let profile = self.profile.as_deref();
        let c = (
            self.connector.rds(&self.region_id, profile).await,
            self.connector.cloudwatch(&self.region_id, profile).await,
        );
        self.clients = Some(c.clone());
        c
    }

    async fn read(&mut self) -> Result<Sample, CallError> {
        let (rds, cw) = self.clients().await;
        let region = self.region_id.as_str();
        let mut instances = Vec::new();
        let mut clusters = Vec::new();
        let mut replicas = Vec::new();
        for t in &self.targets {
            match &t.binding {
                Binding::Instance(id) => {
                    instances.push(id.clone());
                    if t.replica_of.is_some() {
                        replicas.push(id.clone());
                    }
                }
                Binding::Cluster(id) => clusters.push(id.clone()),
            }
        }
        let now = Utc::now();
        // The three reads go out together: one round trip per refresh.
        let (found, found_clusters, lag) = tokio::try_join!(
            describe_instances(&rds, region, &instances),
            describe_clusters(&rds, region, &clusters),
            cloudwatch::replica_lag(&cw, region, &replicas, now),
        )?;
        let databases = self
            .targets
            .iter()
            .map(|t| match &t.binding {
                Binding::Instance(id) => instance_reading(
                    t,
                    found
                        .iter()
                        .find(|i| i.db_instance_identifier() == Some(id.as_str())),
                    lag.get(id).copied(),
                    &self.names,
                ),
                Binding::Cluster(id) => cluster_reading(
                    t,
                    found_clusters
                        .iter()
                        .find(|c| c.db_cluster_identifier() == Some(id.as_str())),
                    &self.names,
                ),
            })
            .collect();
        Ok(Sample {
            at: Utc::now(),
            databases,
            ..Sample::default()
        })
    }
}

impl Source for RdsSource {
    fn name(&self) -> &str {
        &self.label
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: true,
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

/// One backup series made of RDS snapshots.
#[derive(Debug, Clone)]
pub struct SnapshotTarget {
    pub name: String,
    /// What it is, for the operator (the backup's `kind`).
    pub kind_label: String,
    pub every: Dur,
    pub instance: String,
    pub kind: SnapshotKind,
}

/// A backup series' reading from the snapshots of its instance (any instance's snapshots may be
/// passed: others are ignored).
pub fn backup_reading(
    target: &SnapshotTarget,
    snapshots: &[DbSnapshot],
    now: DateTime<Utc>,
) -> BackupReading {
    let mut taken: Vec<(DateTime<Utc>, &str)> = snapshots
        .iter()
        .filter(|s| s.db_instance_identifier() == Some(target.instance.as_str()))
        .filter(|s| match target.kind.aws_type() {
            None => true,
            Some(t) => s.snapshot_type() == Some(t),
        })
        .filter_map(|s| {
            let at = s.snapshot_create_time().and_then(to_utc)?;
            Some((at, s.status().unwrap_or("unknown")))
        })
        .collect();
    taken.sort_by_key(|(at, _)| *at);
    let is_failure = |status: &str| status == "failed" || status == "error";
    let last_success = taken
        .iter()
        .rev()
        .find(|(_, s)| *s == "available")
        .map(|(at, _)| *at);
    let last_attempt = taken.last().map(|(at, _)| *at);
    // The newest finished attempt decides the outcome; one still being taken does not.
    let last_outcome = taken
        .iter()
        .rev()
        .find(|(_, s)| *s == "available" || is_failure(s))
        .map(|(_, s)| {
            if is_failure(s) {
                AttemptOutcome::Failed
            } else {
                AttemptOutcome::Succeeded
            }
        });
    let day_ago = now - TimeDelta::hours(24);
    let recent = taken.iter().filter(|(at, _)| *at >= day_ago);
    let attempts_24h = recent
        .clone()
        .filter(|(_, s)| *s == "available" || is_failure(s))
        .count();
    let successes_24h = recent.filter(|(_, s)| *s == "available").count();
    BackupReading {
        name: target.name.clone(),
        kind: target.kind_label.clone(),
        every: target.every,
        last_success,
        // RDS cannot tell a snapshot taken after silent corruption from a good one.
        last_good: last_success,
        last_attempt,
        last_outcome,
        attempts_24h: u32::try_from(attempts_24h).unwrap_or(u32::MAX),
        successes_24h: u32::try_from(successes_24h).unwrap_or(u32::MAX),
        size_bytes: None,
        last_verified: None,
    }
}

/// Feeds the Backups pane with the snapshot series of one region's instances.
pub struct SnapshotSource {
    label: String,
    region_id: String,
    profile: Option<String>,
    connector: Arc<Connector>,
    targets: Vec<SnapshotTarget>,
    client: Option<aws_sdk_rds::Client>,
    interval: Duration,
    backoff: Backoff,
}

impl SnapshotSource {
    /// The source for the snapshot backups whose instance lives in logical region `region`.
    pub fn for_region(
        env: &Environment,
        region: &str,
        profile: Option<String>,
        connector: Arc<Connector>,
    ) -> Option<Self> {
        let region_id = env.region(region)?.id.clone();
        let targets: Vec<SnapshotTarget> = env
            .backups
            .iter()
            .filter_map(|b| {
                let snaps = b.aws_snapshots.as_ref()?.get_ref();
                (env.aws_snapshot_region(snaps) == Some(region)).then(|| SnapshotTarget {
                    name: b.name.get_ref().clone(),
                    kind_label: b.kind.clone(),
                    every: b.every,
                    instance: snaps.instance.clone(),
                    kind: snaps.kind,
                })
            })
            .collect();
        if targets.is_empty() {
            return None;
        }
        Some(Self::new(
            region_id,
            profile,
            connector,
            targets,
            super::SNAPSHOT_INTERVAL,
        ))
    }

    pub fn new(
        region_id: String,
        profile: Option<String>,
        connector: Arc<Connector>,
        targets: Vec<SnapshotTarget>,
        interval: Duration,
    ) -> Self {
        SnapshotSource {
            label: format!("aws snapshots {region_id}"),
            region_id,
            profile,
            connector,
            targets,
            client: None,
            interval,
            backoff: Backoff::new(interval),
        }
    }

    async fn read(&mut self) -> Result<Sample, CallError> {
        let client = match &self.client {
            Some(c) => c.clone(),
            None => {
                let c = self
                    .connector
                    .rds(&self.region_id, self.profile.as_deref())
                    .await;
                self.client = Some(c.clone());
                c
            }
        };
        let instances: Vec<String> = self
            .targets
            .iter()
            .map(|t| t.instance.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let snapshots = describe_snapshots(&client, &self.region_id, &instances).await?;
        let now = Utc::now();
        Ok(Sample {
            at: now,
            backups: self
                .targets
                .iter()
                .map(|t| backup_reading(t, &snapshots, now))
                .collect(),
            ..Sample::default()
        })
    }
}

impl Source for SnapshotSource {
    fn name(&self) -> &str {
        &self.label
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: false,
            backups: true,
            regions: false,
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

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_rds::primitives::DateTime as AwsDateTime;
    use aws_sdk_rds::types::DbInstanceStatusInfo;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn replica_target() -> DbTarget {
        DbTarget {
            name: "dr-replica".into(),
            region: "dr".into(),
            binding: Binding::Instance("pynomaly-dr".into()),
            replica_of: Some("primary".into()),
            lag_alarm: Dur::from_secs(300),
        }
    }

    fn names() -> BTreeMap<String, String> {
        BTreeMap::from([
            ("pynomaly-prod".to_string(), "primary".to_string()),
            ("pynomaly-dr".to_string(), "dr-replica".to_string()),
        ])
    }

    fn replica(status: &str) -> aws_sdk_rds::types::builders::DbInstanceBuilder {
        DbInstance::builder()
            .db_instance_identifier("pynomaly-dr")
            .db_instance_status(status)
            .availability_zone("us-east-1b")
            .multi_az(false)
            .read_replica_source_db_instance_identifier(
                "arn:aws:rds:us-west-2:123456789012:db:pynomaly-prod",
            )
    }

    #[test]
    fn statuses_map_to_states() {
        assert_eq!(instance_state("available"), DbState::Available);
        assert_eq!(instance_state("backing-up"), DbState::Available);
        assert_eq!(instance_state("stopped"), DbState::Stopped);
        assert_eq!(instance_state("failing-over"), DbState::FailingOver);
        assert_eq!(instance_state("rebooting"), DbState::Unreachable);
        assert_eq!(instance_state("storage-full"), DbState::Unreachable);
        assert_eq!(instance_state("something-new"), DbState::Unreachable);
    }

    #[test]
    fn cross_region_replica_with_lag() {
        let inst = replica("available").build();
        let r = instance_reading(&replica_target(), Some(&inst), Some(4.0), &names());
        assert_eq!((r.role, r.state), (DbRole::Replica, DbState::Available));
        assert_eq!(r.az.as_deref(), Some("us-east-1b"));
        let rep = r.replication.expect("replication");
        assert_eq!(rep.source, "primary");
        assert_eq!(rep.state, ReplicationState::Streaming);
        assert_eq!(rep.lag_secs, Some(4.0));
        assert_eq!(rep.lag_alarm, Dur::from_secs(300));
    }

    #[test]
    fn replication_errors_from_status_infos() {
        let info = |status: &str| {
            DbInstanceStatusInfo::builder()
                .status_type("read replication")
                .status(status)
                .normal(status == "replicating")
                .build()
        };
        for (status, expected) in [
            ("replicating", ReplicationState::Streaming),
            ("error", ReplicationState::Broken),
            ("terminated", ReplicationState::Broken),
            ("replication stop point reached", ReplicationState::Paused),
        ] {
            let inst = replica("available").status_infos(info(status)).build();
            let r = instance_reading(&replica_target(), Some(&inst), None, &names());
            assert_eq!(
                r.replication.expect("replication").state,
                expected,
                "{status}"
            );
        }
        // A replica that is itself down replays nothing.
        let inst = replica("rebooting").build();
        let r = instance_reading(&replica_target(), Some(&inst), None, &names());
        assert_eq!(r.state, DbState::Unreachable);
        assert_eq!(
            r.replication.expect("replication").state,
            ReplicationState::Broken
        );
    }

    #[test]
    fn a_declared_replica_standing_alone_was_promoted() {
        let inst = DbInstance::builder()
            .db_instance_identifier("pynomaly-dr")
            .db_instance_status("available")
            .build();
        let r = instance_reading(&replica_target(), Some(&inst), Some(1.0), &names());
        assert_eq!(r.role, DbRole::Primary);
        let rep = r.replication.expect("promoted former replica");
        assert_eq!(
            (rep.state, rep.source.as_str()),
            (ReplicationState::Promoted, "primary")
        );
        assert_eq!(rep.lag_secs, None);
    }

    #[test]
    fn primary_stopped_and_missing() {
        let target = DbTarget {
            name: "primary".into(),
            region: "primary".into(),
            binding: Binding::Instance("pynomaly-prod".into()),
            replica_of: None,
            lag_alarm: Dur::from_secs(300),
        };
        let inst = DbInstance::builder()
            .db_instance_identifier("pynomaly-prod")
            .db_instance_status("stopped")
            .multi_az(true)
            .build();
        let r = instance_reading(&target, Some(&inst), None, &names());
        assert_eq!(
            (r.role, r.state, r.multi_az),
            (DbRole::Primary, DbState::Stopped, true)
        );
        assert!(r.replication.is_none());
        let gone = instance_reading(&target, None, None, &names());
        assert_eq!(
            (gone.role, gone.state),
            (DbRole::Unknown, DbState::Unreachable)
        );
        assert_eq!(gone.resource, "pynomaly-prod");
    }

    #[test]
    fn cluster_states() {
        let target = DbTarget {
            name: "aurora".into(),
            region: "primary".into(),
            binding: Binding::Cluster("pynomaly-aurora".into()),
            replica_of: None,
            lag_alarm: Dur::from_secs(300),
        };
        let c = DbCluster::builder()
            .db_cluster_identifier("pynomaly-aurora")
            .status("failing-over")
            .multi_az(true)
            .build();
        let r = cluster_reading(&target, Some(&c), &names());
        assert_eq!(
            (r.role, r.state, r.multi_az),
            (DbRole::Primary, DbState::FailingOver, true)
        );
    }

    #[test]
    fn arns_and_plain_ids() {
        assert_eq!(id_from_arn("arn:aws:rds:us-west-2:1:db:prod"), "prod");
        assert_eq!(id_from_arn("prod"), "prod");
    }

    fn snap(id: &str, kind: &str, status: &str, age_mins: i64) -> DbSnapshot {
        DbSnapshot::builder()
            .db_snapshot_identifier(id)
            .db_instance_identifier("pynomaly-prod")
            .snapshot_type(kind)
            .status(status)
            .snapshot_create_time(AwsDateTime::from_secs(
                (t0() - TimeDelta::minutes(age_mins)).timestamp(),
            ))
            .build()
    }

    fn series(kind: SnapshotKind, every: Dur) -> SnapshotTarget {
        SnapshotTarget {
            name: "snapshots".into(),
            kind_label: "RDS snapshot".into(),
            every,
            instance: "pynomaly-prod".into(),
            kind,
        }
    }

    #[test]
    fn newest_snapshot_of_the_right_type_against_the_policy() {
        let snaps = vec![
            snap("rds:auto-1", "automated", "available", 20 * 60),
            snap("manual-old", "manual", "available", 50),
            snap("manual-new", "manual", "available", 10),
            snap("manual-creating", "manual", "creating", 1),
            DbSnapshot::builder()
                .db_instance_identifier("someone-else")
                .snapshot_type("manual")
                .status("available")
                .snapshot_create_time(AwsDateTime::from_secs(t0().timestamp()))
                .build(),
        ];
        let manual = backup_reading(
            &series(SnapshotKind::Manual, Dur::from_mins(15)),
            &snaps,
            t0(),
        );
        assert_eq!(manual.last_success, Some(t0() - TimeDelta::minutes(10)));
        assert_eq!(manual.last_attempt, Some(t0() - TimeDelta::minutes(1)));
        assert_eq!(manual.last_outcome, Some(AttemptOutcome::Succeeded));
        assert_eq!((manual.attempts_24h, manual.successes_24h), (2, 2));
        assert_eq!(manual.status(t0()), crate::telemetry::BackupStatus::Ok);

        let auto = backup_reading(
            &series(SnapshotKind::Automated, Dur::from_hours(24)),
            &snaps,
            t0(),
        );
        assert_eq!(auto.last_success, Some(t0() - TimeDelta::hours(20)));
        assert_eq!(auto.status(t0()), crate::telemetry::BackupStatus::Ok);

        let any = backup_reading(&series(SnapshotKind::Any, Dur::from_mins(4)), &snaps, t0());
        assert_eq!(any.last_success, Some(t0() - TimeDelta::minutes(10)));
        assert_eq!(any.status(t0()), crate::telemetry::BackupStatus::Overdue);
    }

    #[test]
    fn failed_and_missing_snapshots() {
        let snaps = vec![
            snap("ok", "manual", "available", 30),
            snap("bad", "manual", "failed", 5),
        ];
        let r = backup_reading(
            &series(SnapshotKind::Manual, Dur::from_hours(1)),
            &snaps,
            t0(),
        );
        assert_eq!(r.last_outcome, Some(AttemptOutcome::Failed));
        assert_eq!(r.status(t0()), crate::telemetry::BackupStatus::Failed);
        assert_eq!((r.attempts_24h, r.successes_24h), (2, 1));
        let none = backup_reading(&series(SnapshotKind::Manual, Dur::from_hours(1)), &[], t0());
        assert_eq!(none.last_success, None);
        assert_eq!(none.status(t0()), crate::telemetry::BackupStatus::Overdue);
    }
}
