//! Built-in actions on AWS: RDS promotion, failover and snapshots, Route 53 record changes, and
//! the notification webhook. Each action makes its API call, then waits until AWS shows the
//! result (or a time limit passes), reporting progress lines as it goes.
//!
//! Only [`ActionBackend::execute`] calls AWS; [`ActionBackend::describe`] (the confirmation
//! dialog, dry runs) and [`ActionBackend::unsupported`] (`warroom check`) never do.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_rds::types::DbInstance;
use aws_sdk_route53::types::{
    Change, ChangeAction, ChangeBatch, ChangeStatus, ResourceRecord, ResourceRecordSet, RrType,
};
use chrono::Utc;

use super::{ActionBackend, ActionError, BuiltinAction, Call, call};
use crate::env::{AwsDns, Environment};
use crate::telemetry::aws::rds::id_from_arn;
use crate::telemetry::aws::{CallError, Connector};
use crate::telemetry::source::BoxFuture;

/// How long actions wait for AWS to show their result, and how often they look.
#[derive(Debug, Clone, Copy)]
pub struct WaitPolicy {
    /// Pause between two looks.
    pub poll: Duration,
    /// `db.promote`: RDS promotions take minutes (a backup is taken first).
    pub promote: Duration,
    /// `db.failover`.
    pub failover: Duration,
    /// `backup.snapshot`: proportional to the data changed since the last snapshot.
    pub snapshot: Duration,
    /// `dns.point`: Route 53 changes are usually in sync within a minute.
    pub dns: Duration,
    /// `notify.webhook`: the whole HTTP request.
    pub webhook: Duration,
}

impl Default for WaitPolicy {
    fn default() -> Self {
        WaitPolicy {
            poll: Duration::from_secs(10),
            promote: Duration::from_secs(45 * 60),
            failover: Duration::from_secs(20 * 60),
            snapshot: Duration::from_secs(2 * 60 * 60),
            dns: Duration::from_secs(10 * 60),
            webhook: Duration::from_secs(15),
        }
    }
}

/// Consecutive failed status reads after which a wait gives up (transient errors are retried).
const WAIT_ERRORS_TOLERATED: u32 = 5;

/// Runs built-in actions against the AWS resources of one environment.
pub struct AwsBackend {
    env: Environment,
    connector: Arc<Connector>,
    wait: WaitPolicy,
    http: reqwest::Client,
    /// Reads an environment variable (the webhook URL); replaceable in tests.
    var: VarLookup,
}

/// Looks up an environment variable.
pub type VarLookup = Arc<dyn Fn(&str) -> Option<String> + Send + Sync>;

/// What a `db` argument names on AWS.
struct DbRef {
    kind: DbKind,
    id: String,
    /// AWS region id.
    region: String,
    profile: Option<String>,
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum DbKind {
    Instance,
    Cluster,
}

impl AwsBackend {
    pub fn new(env: &Environment, connector: Arc<Connector>) -> Self {
        AwsBackend {
            env: env.clone(),
            connector,
            wait: WaitPolicy::default(),
            // Building a client without TLS configuration errors cannot fail in practice; if it
            // did, webhooks would fail with a clear message at send time instead.
            http: reqwest::Client::builder()
                .timeout(WaitPolicy::default().webhook)
                .build()
                .unwrap_or_default(),
            var: Arc::new(|name| std::env::var(name).ok()),
        }
    }

    /// Reads environment variables through `lookup` instead of the process environment (tests:
    /// the process environment cannot be changed safely while threads run).
    pub fn with_var_lookup(mut self, lookup: VarLookup) -> Self {
        self.var = lookup;
        self
    }

    /// Shorter or longer waits (tests use milliseconds against the emulator).
    pub fn with_wait(mut self, wait: WaitPolicy) -> Self {
        self.wait = wait;
        self
    }

    /// A point-in-time restore's source instance, new instance (`restore_instance`) and point
    /// (the console resolves the step's `to` to a time when it is confirmed).
    fn restore_target(
        &self,
        c: &crate::actions::call::DbRestore,
    ) -> Result<(DbRef, String, chrono::DateTime<Utc>), String> {
        let db = self.db("db.restore", &c.db)?;
        if db.kind != DbKind::Instance {
            return Err(format!(
                "db.restore: {} is an Aurora cluster; point-in-time restore of clusters is not automated (use a `run` step with aws rds restore-db-cluster-to-point-in-time)",
                c.db
            ));
        }
        let target = self
            .env
            .database(&c.db)
            .and_then(|d| d.aws.as_ref())
            .and_then(|a| a.get_ref().restore_instance.clone())
            .ok_or_else(|| {
                format!(
                    "db.restore: database {:?} names no restore_instance in its aws binding",
                    c.db
                )
            })?;
        match c.to {
            Some(crate::recovery::RestoreTo::At(t)) => Ok((db, target, t)),
            other => Err(format!(
                "db.restore of {} needs a point in time: {} was not resolved to one (no corruption onset or backup reading when confirmed); set to = \"2026-11-26T10:20:59Z\"",
                c.db,
                other.map_or_else(|| "no `to`".to_string(), |t| format!("to = {t}"))
            )),
        }
    }

    fn db(&self, action: &str, name: &str) -> Result<DbRef, String> {
        let def = self.env.database(name).ok_or_else(|| {
            format!(
                "{}: unknown database {name:?} (known: {})",
                action,
                self.env.names(crate::env::NameKind::Database).join(", ")
            )
        })?;
        let aws = def.aws.as_ref().map(|a| a.get_ref()).ok_or_else(|| {
            format!(
                "{}: database {name:?} has no `aws` binding in the environment",
                action
            )
        })?;
        let region = self
            .env
            .region(def.region.get_ref())
            .ok_or_else(|| format!("{}: database {name:?} has an unknown region", action))?;
        let (kind, id) = match (&aws.instance, &aws.cluster) {
            (Some(id), _) => (DbKind::Instance, id.clone()),
            (None, Some(id)) => (DbKind::Cluster, id.clone()),
            (None, None) => {
                return Err(format!(
                    "{}: database {name:?}: `aws` names neither an instance nor a cluster",
                    action
                ));
            }
        };
        Ok(DbRef {
            kind,
            id,
            region: region.id.clone(),
            profile: region.profile.clone(),
        })
    }

    fn dns(&self, call: &call::DnsPoint) -> Result<(AwsDns, String, String, String), String> {
        let (name, region) = (call.dns.as_str(), call.region.as_str());
        let def = self
            .env
            .dns
            .iter()
            .find(|d| d.name.get_ref() == name)
            .ok_or_else(|| format!("dns.point: unknown DNS record {name:?}"))?;
        let aws = def
            .aws
            .as_ref()
            .map(|a| a.get_ref().clone())
            .ok_or_else(|| format!("dns.point: DNS record {name:?} has no `aws` binding"))?;
        let value = aws.targets.get_ref().get(region).cloned().ok_or_else(|| {
            format!(
                "dns.point: DNS record {name:?} has no target for region {region:?} (targets: {})",
                aws.targets
                    .get_ref()
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })?;
        let record = aws.record.clone().unwrap_or_else(|| def.record.clone());
        Ok((aws, record, value, region.to_string()))
    }

    fn snapshot_target(
        &self,
        call: &call::BackupSnapshot,
    ) -> Result<(String, String, Option<String>), String> {
        let name = call.backup.as_str();
        let def = self
            .env
            .backups
            .iter()
            .find(|b| b.name.get_ref() == name)
            .ok_or_else(|| format!("backup.snapshot: unknown backup {name:?}"))?;
        let snaps = def
            .aws_snapshots
            .as_ref()
            .map(|s| s.get_ref())
            .ok_or_else(|| {
                format!("backup.snapshot: backup {name:?} has no `aws_snapshots` binding")
            })?;
        let region = self
            .env
            .aws_snapshot_region(snaps)
            .and_then(|r| self.env.region(r))
            .ok_or_else(|| {
                format!(
                    "backup.snapshot: cannot tell the region of instance {:?}",
                    snaps.instance
                )
            })?;
        Ok((
            snaps.instance.clone(),
            region.id.clone(),
            region.profile.clone(),
        ))
    }

    /// The webhook URL, read at the moment of use (never stored, printed or journaled).
    fn webhook_url(&self) -> Result<(String, String), String> {
        let hook = self.env.webhook.as_ref().ok_or_else(|| {
            "notify.webhook: the environment has no [webhook]; add `[webhook] url_env = \
             \"WARROOM_WEBHOOK_URL\"` and export the URL in that variable"
                .to_string()
        })?;
        let var = hook.url_env.get_ref().clone();
        match (self.var)(&var) {
            Some(url) if !url.trim().is_empty() => Ok((var, url)),
            _ => Err(format!(
                "notify.webhook: ${var} is not set; export the webhook URL in it and retry"
            )),
        }
    }

    async fn promote(
        &self,
        call: &call::DbPromote,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let db = self.db("db.promote", &call.db)?;
        let rds = self.connector.rds(&db.region, db.profile.as_deref()).await;
        let started = Instant::now();
        match db.kind {
            DbKind::Instance => {
                rds.promote_read_replica()
                    .db_instance_identifier(&db.id)
                    .send()
                    .await
                    .map_err(|e| {
                        fail(CallError::from_sdk(
                            format!("rds:PromoteReadReplica {}", db.id),
                            &e,
                        ))
                    })?;
                progress(format!(
                    "rds:PromoteReadReplica DBInstanceIdentifier={} accepted; waiting until it is available and no longer a replica",
                    db.id
                ));
                let inst = self
                    .wait_instance(&rds, &db, self.wait.promote, progress, |i| {
                        i.db_instance_status() == Some("available")
                            && i.read_replica_source_db_instance_identifier().is_none()
                    })
                    .await?;
                Ok(vec![format!(
                    "{} promoted: available, standalone primary in {}{} (took {})",
                    db.id,
                    db.region,
                    inst.availability_zone()
                        .map(|az| format!(" ({az})"))
                        .unwrap_or_default(),
                    took(started)
                )])
            }
            DbKind::Cluster => {
                rds.promote_read_replica_db_cluster()
                    .db_cluster_identifier(&db.id)
                    .send()
                    .await
                    .map_err(|e| {
                        fail(CallError::from_sdk(
                            format!("rds:PromoteReadReplicaDBCluster {}", db.id),
                            &e,
                        ))
                    })?;
                progress(format!(
                    "rds:PromoteReadReplicaDBCluster DBClusterIdentifier={} accepted; waiting until it is available and standalone",
                    db.id
                ));
                self.wait_cluster(&rds, &db, self.wait.promote, progress, |c| {
                    c.status() == Some("available") && c.replication_source_identifier().is_none()
                })
                .await?;
                Ok(vec![format!(
                    "cluster {} promoted: available, standalone in {} (took {})",
                    db.id,
                    db.region,
                    took(started)
                )])
            }
        }
    }

    async fn failover(
        &self,
        call: &call::DbFailover,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let db = self.db("db.failover", &call.db)?;
        let rds = self.connector.rds(&db.region, db.profile.as_deref()).await;
        let started = Instant::now();
        match db.kind {
            DbKind::Cluster => {
                let out = rds
                    .failover_db_cluster()
                    .db_cluster_identifier(&db.id)
                    .send()
                    .await
                    .map_err(|e| {
                        fail(CallError::from_sdk(
                            format!("rds:FailoverDBCluster {}", db.id),
                            &e,
                        ))
                    })?;
                let before = out.db_cluster().and_then(writer).unwrap_or_default();
                progress(format!(
                    "rds:FailoverDBCluster DBClusterIdentifier={} accepted (writer was {before}); waiting until the cluster is available",
                    db.id
                ));
                let c = self
                    .wait_cluster(&rds, &db, self.wait.failover, progress, |c| {
                        c.status() == Some("available")
                    })
                    .await?;
                Ok(vec![format!(
                    "cluster {} failed over: writer {} (was {before}), available (took {})",
                    db.id,
                    writer(&c).unwrap_or_else(|| "unknown".into()),
                    took(started)
                )])
            }
            DbKind::Instance => {
                // A Multi-AZ instance fails over by a reboot with failover; the response already
                // shows it rebooting, so waiting for `available` waits for the failover.
                let out = rds
                    .reboot_db_instance()
                    .db_instance_identifier(&db.id)
                    .force_failover(true)
                    .send()
                    .await
                    .map_err(|e| {
                        fail(CallError::from_sdk(
                            format!("rds:RebootDBInstance {} ForceFailover=true", db.id),
                            &e,
                        ))
                    })?;
                let az_before = out
                    .db_instance()
                    .and_then(|i| i.availability_zone())
                    .unwrap_or("unknown")
                    .to_string();
                progress(format!(
                    "rds:RebootDBInstance DBInstanceIdentifier={} ForceFailover=true accepted (zone was {az_before}); waiting until it is available",
                    db.id
                ));
                let inst = self
                    .wait_instance(&rds, &db, self.wait.failover, progress, |i| {
                        i.db_instance_status() == Some("available")
                    })
                    .await?;
                Ok(vec![format!(
                    "{} failed over: available in {} (was {az_before}) (took {})",
                    db.id,
                    inst.availability_zone().unwrap_or("unknown"),
                    took(started)
                )])
            }
        }
    }

    async fn snapshot(
        &self,
        call: &call::BackupSnapshot,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let (instance, region, profile) = self.snapshot_target(call)?;
        let rds = self.connector.rds(&region, profile.as_deref()).await;
        let forensic = call.is_forensic();
        let id = if forensic {
            crate::actions::forensic_name(&instance, Utc::now())
        } else {
            snapshot_id(&instance, Utc::now())
        };
        let started = Instant::now();
        let mut create = rds
            .create_db_snapshot()
            .db_instance_identifier(&instance)
            .db_snapshot_identifier(&id);
        if forensic {
            create = create.tags(
                aws_sdk_rds::types::Tag::builder()
                    .key(FORENSIC_TAG.0)
                    .value(FORENSIC_TAG.1)
                    .build(),
            );
        }
        create.send().await.map_err(|e| {
            fail(CallError::from_sdk(
                format!("rds:CreateDBSnapshot {instance}"),
                &e,
            ))
        })?;
        progress(format!(
            "rds:CreateDBSnapshot {id} of {instance} accepted; waiting until it is available"
        ));
        let deadline = started + self.wait.snapshot;
        let mut waiting = Waiting::new(progress);
        loop {
            match rds
                .describe_db_snapshots()
                .db_snapshot_identifier(&id)
                .send()
                .await
            {
                Ok(out) => {
                    let snapshot = out.db_snapshots().first();
                    let status = snapshot
                        .and_then(|s| s.status())
                        .unwrap_or("unknown")
                        .to_string();
                    if status == "available" {
                        let mut lines = vec![format!(
                            "snapshot {id} of {instance} available (took {})",
                            took(started)
                        )];
                        if forensic {
                            lines.push(format!(
                                "kept as forensic evidence: {id} (tag {}={}), a manual snapshot: \
                                 RDS's automated retention never deletes it",
                                FORENSIC_TAG.0, FORENSIC_TAG.1
                            ));
                        }
                        return Ok(lines);
                    }
                    if status == "failed" || status == "error" {
                        return Err(format!(
                            "snapshot {id} of {instance} failed (status {status}); see RDS events of {instance}"
                        ));
                    }
                    let pct = snapshot
                        .and_then(|s| s.percent_progress())
                        .map(|p| format!(" ({p}%)"))
                        .unwrap_or_default();
                    waiting.observed(status, |status| format!("{id}: {status}{pct}"));
                }
                Err(e) => waiting.failed(
                    CallError::from_sdk(format!("rds:DescribeDBSnapshots {id}"), &e),
                    "the snapshot may still complete: check RDS > Snapshots",
                )?,
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "snapshot {id} of {instance} still {} after {}; it may still complete: watch the Backups pane",
                    waiting.last,
                    took(started)
                ));
            }
            tokio::time::sleep(self.wait.poll).await;
        }
    }

    async fn point_dns(
        &self,
        call: &call::DnsPoint,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let (aws, record, value, region) = self.dns(call)?;
        let route53 = self
            .connector
            .route53(crate::telemetry::aws::route53_profile(&self.env).as_deref())
            .await;
        let started = Instant::now();
        let change = record_change(&aws, &record, &value, &call.dns, &region)?;
        let out = route53
            .change_resource_record_sets()
            .hosted_zone_id(&aws.zone)
            .change_batch(change)
            .send()
            .await
            .map_err(|e| {
                fail(CallError::from_sdk(
                    format!("route53:ChangeResourceRecordSets {record}"),
                    &e,
                ))
            })?;
        let change_id = out
            .change_info()
            .map(|c| c.id().to_string())
            .unwrap_or_default();
        progress(format!(
            "route53:ChangeResourceRecordSets UPSERT {record} {} -> {value} accepted ({change_id}); waiting for INSYNC",
            aws.record_type
        ));
        let deadline = started + self.wait.dns;
        let mut waiting = Waiting::new(progress);
        let mut status = out
            .change_info()
            .map(|c| c.status().clone())
            .unwrap_or(ChangeStatus::Pending);
        loop {
            if status == ChangeStatus::Insync {
                return Ok(vec![format!(
                    "{record} now points at {region} ({value}), in sync on Route 53's servers (took {})",
                    took(started)
                )]);
            }
            if Instant::now() >= deadline {
                return Err(format!(
                    "{record}: change {change_id} still {} after {}; Route 53 will apply it, clients may still resolve the old value",
                    status.as_str(),
                    took(started)
                ));
            }
            tokio::time::sleep(self.wait.poll.min(Duration::from_secs(5))).await;
            match route53.get_change().id(&change_id).send().await {
                Ok(c) => {
                    if let Some(info) = c.change_info() {
                        status = info.status().clone();
                    }
                    // The first answer was reported with the UPSERT; later ones only matter as
                    // "not failing": INSYNC ends the loop.
                    waiting.errors = 0;
                }
                Err(e) => waiting.failed(
                    CallError::from_sdk(format!("route53:GetChange {change_id}"), &e),
                    "the change was accepted and will still be applied",
                )?,
            }
        }
    }

    async fn notify(&self, call: &call::NotifyWebhook) -> Result<Vec<String>, String> {
        let message = &call.message;
        let (var, url) = self.webhook_url()?;
        let body = serde_json::json!({ "text": message, "environment": self.env.name });
        let resp = self
            .http
            .post(&url)
            .header("content-type", "application/json")
            .timeout(self.wait.webhook)
            .body(body.to_string())
            .send()
            .await
            // `without_url`: the URL carries the secret; the error must not.
            .map_err(|e| format!("notify.webhook: POST to ${var} failed: {}", e.without_url()))?;
        let status = resp.status();
        if status.is_success() {
            // Where it went, for the record: the host only (the path carries the secret).
            let host = reqwest::Url::parse(&url)
                .ok()
                .and_then(|u| u.host_str().map(str::to_string))
                .unwrap_or_else(|| "an unnamed host".into());
            Ok(vec![format!(
                "posted to {} via the webhook in ${var} ({status})",
                crate::text::visible(&host)
            )])
        } else {
            Err(format!(
                "notify.webhook: the webhook in ${var} answered {status}; check the URL in ${var}"
            ))
        }
    }

    async fn wait_instance(
        &self,
        rds: &aws_sdk_rds::Client,
        db: &DbRef,
        limit: Duration,
        progress: &(dyn Fn(String) + Send + Sync),
        done: impl Fn(&DbInstance) -> bool,
    ) -> Result<DbInstance, String> {
        let started = Instant::now();
        let mut waiting = Waiting::new(progress);
        loop {
            match rds
                .describe_db_instances()
                .db_instance_identifier(&db.id)
                .send()
                .await
            {
                Ok(out) => {
                    if let Some(inst) = out.db_instances().first() {
                        if done(inst) {
                            return Ok(inst.clone());
                        }
                        waiting.observed(describe_instance_state(inst), |now| {
                            format!("{}: {now}", db.id)
                        });
                    }
                }
                Err(e) => waiting.failed(
                    CallError::from_sdk(format!("rds:DescribeDBInstances {}", db.id), &e),
                    "the operation may still complete: watch the panes",
                )?,
            }
            if started.elapsed() >= limit {
                return Err(format!(
                    "{} still {} after {}; AWS may still finish: watch the Replica lag pane (RDS > Databases > {})",
                    db.id,
                    waiting.last,
                    took(started),
                    db.id
                ));
            }
            tokio::time::sleep(self.wait.poll).await;
        }
    }

    async fn wait_cluster(
        &self,
        rds: &aws_sdk_rds::Client,
        db: &DbRef,
        limit: Duration,
        progress: &(dyn Fn(String) + Send + Sync),
        done: impl Fn(&aws_sdk_rds::types::DbCluster) -> bool,
    ) -> Result<aws_sdk_rds::types::DbCluster, String> {
        let started = Instant::now();
        let mut waiting = Waiting::new(progress);
        loop {
            match rds
                .describe_db_clusters()
                .db_cluster_identifier(&db.id)
                .send()
                .await
            {
                Ok(out) => {
                    if let Some(c) = out.db_clusters().first() {
                        if done(c) {
                            return Ok(c.clone());
                        }
                        let now = c.status().unwrap_or("unknown").to_string();
                        waiting.observed(now, |now| format!("cluster {}: {now}", db.id));
                    }
                }
                Err(e) => waiting.failed(
                    CallError::from_sdk(format!("rds:DescribeDBClusters {}", db.id), &e),
                    "the operation may still complete: watch the panes",
                )?,
            }
            if started.elapsed() >= limit {
                return Err(format!(
                    "cluster {} still {} after {}; AWS may still finish: watch the panes",
                    db.id,
                    waiting.last,
                    took(started)
                ));
            }
            tokio::time::sleep(self.wait.poll).await;
        }
    }
}

/// Why the AWS backend cannot run `action` in `env`, if it cannot (`warroom check` reports it).
/// Exhaustive: every action is answered here, and `execute` runs exactly the ones answered `None`.
pub fn unsupported_reason(env: &crate::env::Environment, action: BuiltinAction) -> Option<String> {
    match action {
        BuiltinAction::DbPromote
        | BuiltinAction::DbFailover
        | BuiltinAction::BackupSnapshot
        | BuiltinAction::DnsPoint => None,
        BuiltinAction::NotifyWebhook => env.webhook.is_none().then(|| {
            "notify.webhook needs a webhook: add `[webhook] url_env = \"WARROOM_WEBHOOK_URL\"` \
                 to the environment and export the URL in that variable"
                .to_string()
        }),
        BuiltinAction::HaPause | BuiltinAction::HaResume => Some(
            "RDS and Aurora run their own failover, which has no pause: ha.pause and ha.resume \
                 act on a Patroni-bound database"
                .to_string(),
        ),
        BuiltinAction::DbReadOnly => Some(
            "db.read_only has no AWS API: RDS cannot switch a database's writes off; use a \
                 `run` step (e.g. a parameter group change or SQL) instead"
                .to_string(),
        ),
        BuiltinAction::DbRestore => (!env.databases.iter().any(|d| {
            d.aws
                .as_ref()
                .is_some_and(|a| a.get_ref().restore_instance.is_some())
        }))
        .then(|| {
            "db.restore on AWS restores to a point in time into a new instance \
                 (RestoreDBInstanceToPointInTime) that the environment must name: add \
                 restore_instance = \"<new instance>\" to the database's aws binding"
                .to_string()
        }),
        BuiltinAction::BackupVerify => Some(
            "backup.verify is not automated on AWS (a restore test needs a scratch \
                 instance); use a `run` step"
                .to_string(),
        ),
        BuiltinAction::AppScale => Some(
            "app.scale: applications are not bound to AWS resources (no ECS, EKS or Auto \
                 Scaling binding); use a `run` step"
                .to_string(),
        ),
        BuiltinAction::SecretRotate => Some(
            "secret.rotate: secrets are not bound to AWS (no Secrets Manager binding); use a \
                 `run` step"
                .to_string(),
        ),
        BuiltinAction::HttpCheck => Some(
            "http.check is not run by the AWS backend (Route 53 health checks feed the panes); \
                 use a `run` step (e.g. curl) or bind the region's health URLs to `http`"
                .to_string(),
        ),
    }
}

impl ActionBackend for AwsBackend {
    fn name(&self) -> &str {
        "aws"
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        unsupported_reason(&self.env, call.action())
    }

    fn describe(&self, call: &Call) -> String {
        if let Some(why) = self.unsupported(call) {
            return format!("unsupported on AWS: {why}");
        }
        let described = match call {
            Call::DbPromote(c) => self.db("db.promote", &c.db).map(|db| match db.kind {
                DbKind::Instance => format!(
                    "rds:PromoteReadReplica DBInstanceIdentifier={} (region {}), then wait until it is available and no longer a replica",
                    db.id, db.region
                ),
                DbKind::Cluster => format!(
                    "rds:PromoteReadReplicaDBCluster DBClusterIdentifier={} (region {}), then wait until it is available and standalone",
                    db.id, db.region
                ),
            }),
            Call::DbFailover(c) => self.db("db.failover", &c.db).map(|db| match db.kind {
                DbKind::Cluster => format!(
                    "rds:FailoverDBCluster DBClusterIdentifier={} (region {}), then wait until the cluster is available",
                    db.id, db.region
                ),
                DbKind::Instance => format!(
                    "rds:RebootDBInstance DBInstanceIdentifier={} ForceFailover=true (region {}; Multi-AZ only), then wait until it is available",
                    db.id, db.region
                ),
            }),
            Call::BackupSnapshot(c) => self.snapshot_target(c).map(|(instance, region, _)| {
                // The id carries the UTC time of execution, not of this description.
                let id = if c.is_forensic() {
                    crate::actions::forensic_name(&instance, Utc::now())
                } else {
                    snapshot_id(&instance, Utc::now())
                };
                let prefix = id.get(..id.len().saturating_sub(15)).unwrap_or(&id);
                let tags = if c.is_forensic() {
                    format!(" Tags={}={}", FORENSIC_TAG.0, FORENSIC_TAG.1)
                } else {
                    String::new()
                };
                format!(
                    "rds:CreateDBSnapshot DBInstanceIdentifier={instance} DBSnapshotIdentifier={prefix}<yyyymmdd-hhmmss UTC>{tags} (region {region}), then wait until it is available"
                )
            }),
            Call::DnsPoint(c) => self.dns(c).map(|(aws, record, value, region)| {
                format!(
                    "route53:ChangeResourceRecordSets HostedZoneId={} UPSERT {record} {} TTL={} -> {value} (region {region}), then wait for INSYNC",
                    aws.zone, aws.record_type, aws.ttl
                )
            }),
            Call::NotifyWebhook(c) => Ok(match &self.env.webhook {
                Some(h) => format!(
                    "POST {{\"text\": {:?}}} to the webhook URL in ${} (not shown)",
                    c.message,
                    h.url_env.get_ref()
                ),
                None => "notify.webhook: no webhook configured".to_string(),
            }),
            Call::DbRestore(c) => self.restore_target(c).map(|(db, target, point)| {
                format!(
                    "{} (region {}), after checking it lies in the restorable window; then wait until {target} is available",
                    crate::recovery::aws::describe(&db.id, &target, point),
                    db.region
                )
            }),
            Call::DbReadOnly(_)
            | Call::BackupVerify(_)
            | Call::AppScale(_)
            | Call::SecretRotate(_)
            | Call::HaPause(_)
            | Call::HaResume(_)
            | Call::HttpCheck(_) => Ok(format!(
                "unsupported on AWS: {}",
                unsupported_reason(&self.env, call.action()).unwrap_or_default()
            )),
        };
        described.unwrap_or_else(|e| format!("cannot run: {e}"))
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        Box::pin(async move {
            if let Some(why) = self.unsupported(call) {
                return Err(ActionError::unsupported(call, why));
            }
            tracing::info!(action = %call.name(), "aws action");
            let result = match call {
                Call::DbPromote(c) => self.promote(c, progress).await,
                Call::DbFailover(c) => self.failover(c, progress).await,
                Call::BackupSnapshot(c) => self.snapshot(c, progress).await,
                Call::DnsPoint(c) => self.point_dns(c, progress).await,
                Call::NotifyWebhook(c) => self.notify(c).await,
                Call::DbRestore(c) => {
                    let (db, target, point) = self.restore_target(c)?;
                    let rds = self.connector.rds(&db.region, db.profile.as_deref()).await;
                    crate::recovery::aws::restore_to_point(
                        &rds,
                        &db.id,
                        &target,
                        point,
                        (self.wait.poll, self.wait.promote),
                        progress,
                    )
                    .await
                    .map_err(|e| e.to_string())
                }
                Call::DbReadOnly(_)
                | Call::BackupVerify(_)
                | Call::AppScale(_)
                | Call::SecretRotate(_)
                | Call::HaPause(_)
                | Call::HaResume(_)
                | Call::HttpCheck(_) => {
                    return Err(ActionError::unsupported(
                        call,
                        unsupported_reason(&self.env, call.action()).unwrap_or_default(),
                    ));
                }
            };
            result.map_err(ActionError::Failed)
        })
    }
}

fn fail(e: CallError) -> String {
    e.to_string()
}

/// What every wait loop shares: tolerate a few consecutive failed status calls (reporting each),
/// and report the observed state only when it changes.
struct Waiting<'a> {
    progress: &'a (dyn Fn(String) + Send + Sync),
    errors: u32,
    last: String,
}

impl<'a> Waiting<'a> {
    fn new(progress: &'a (dyn Fn(String) + Send + Sync)) -> Self {
        Waiting {
            progress,
            errors: 0,
            last: String::new(),
        }
    }

    /// A status call answered with `state`: report it if it changed.
    fn observed(&mut self, state: String, report: impl FnOnce(&str) -> String) {
        self.errors = 0;
        if state != self.last {
            (self.progress)(report(&state));
            self.last = state;
        }
    }

    /// A status call failed: report it; after [`WAIT_ERRORS_TOLERATED`] in a row, give up with
    /// `still` (what may still happen on AWS's side) appended.
    fn failed(&mut self, e: CallError, still: &str) -> Result<(), String> {
        self.errors += 1;
        (self.progress)(format!("{e} (retrying)"));
        if self.errors >= WAIT_ERRORS_TOLERATED {
            return Err(format!("{e}; {still}"));
        }
        Ok(())
    }
}

fn took(started: Instant) -> String {
    crate::duration::compact(started.elapsed().as_secs())
}

/// Status, role and zone of an instance in a few words, for progress lines.
fn describe_instance_state(i: &DbInstance) -> String {
    let mut s = i.db_instance_status().unwrap_or("unknown").to_string();
    if let Some(src) = i.read_replica_source_db_instance_identifier() {
        s.push_str(&format!(", replica of {}", id_from_arn(src)));
    }
    s
}

fn writer(c: &aws_sdk_rds::types::DbCluster) -> Option<String> {
    c.db_cluster_members()
        .iter()
        .find(|m| m.is_cluster_writer() == Some(true))
        .and_then(|m| m.db_instance_identifier())
        .map(str::to_string)
}

/// A manual snapshot id: `warroom-<instance>-<UTC yyyymmdd-hhmmss>`, within RDS's rules (letters,
/// digits and single hyphens, starting with a letter, at most 255 characters).
/// The tag a forensic snapshot carries (`backup.snapshot` with `forensic = true`).
pub const FORENSIC_TAG: (&str, &str) = ("warroom:purpose", "forensic");

pub fn snapshot_id(instance: &str, now: chrono::DateTime<Utc>) -> String {
    let mut id = String::from("warroom-");
    for c in instance.chars() {
        let c = if c.is_ascii_alphanumeric() {
            c.to_ascii_lowercase()
        } else {
            '-'
        };
        if !(c == '-' && id.ends_with('-')) {
            id.push(c);
        }
    }
    if !id.ends_with('-') {
        id.push('-');
    }
    id.truncate(255 - 16);
    id.push_str(&now.format("%Y%m%d-%H%M%S").to_string());
    id
}

/// The UPSERT that points `record` at `value`.
fn record_change(
    aws: &AwsDns,
    record: &str,
    value: &str,
    logical: &str,
    region: &str,
) -> Result<ChangeBatch, String> {
    let built = || -> Result<ChangeBatch, aws_sdk_route53::error::BuildError> {
        let set = ResourceRecordSet::builder()
            .name(record)
            .r#type(RrType::from(aws.record_type.as_str()))
            .ttl(i64::from(aws.ttl))
            .resource_records(ResourceRecord::builder().value(value).build()?)
            .build()?;
        ChangeBatch::builder()
            .comment(format!("warroom dns.point {logical} -> {region}"))
            .changes(
                Change::builder()
                    .action(ChangeAction::Upsert)
                    .resource_record_set(set)
                    .build()?,
            )
            .build()
    };
    built().map_err(|e| format!("dns.point: cannot build the change for {record}: {e}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::aws::AwsOptions;
    use chrono::TimeZone;

    const ENV: &str = r#"
name = "aws-unit"
objectives = { rto = "30m", rpo = "5m" }
[[regions]]
name = "primary"
id = "us-west-2"
role = "primary"
[[regions]]
name = "dr"
id = "us-east-1"
role = "dr"
profile = "dr-admin"
[[databases]]
name = "primary"
region = "primary"
aws = { instance = "pynomaly-prod" }
[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
aws = { instance = "pynomaly-dr" }
[[databases]]
name = "aurora"
region = "primary"
aws = { cluster = "pynomaly-aurora" }
[[backups]]
name = "snapshots"
kind = "RDS snapshot"
every = "15m"
aws_snapshots = { instance = "pynomaly-prod", type = "manual" }
[[dns]]
name = "api"
record = "api.example.com"
points_to = "primary"
aws = { zone = "Z123", targets = { primary = "api-usw2.example.net", dr = "api-use1.example.net" } }
[webhook]
url_env = "WARROOM_TEST_WEBHOOK_URL"
"#;

    fn backend() -> AwsBackend {
        let env = Environment::parse("aws.toml", ENV).expect("valid env");
        AwsBackend::new(&env, Arc::new(Connector::new(AwsOptions::default())))
    }

    fn call(name: &str, args: &[(&str, &str)]) -> Call {
        Call::parse(name, args).expect("a valid call")
    }

    #[test]
    fn describe_names_the_exact_call() {
        let b = backend();
        assert_eq!(
            b.describe(&call("db.promote", &[("db", "dr-replica")])),
            "rds:PromoteReadReplica DBInstanceIdentifier=pynomaly-dr (region us-east-1), then wait until it is available and no longer a replica"
        );
        assert!(
            b.describe(&call("db.failover", &[("db", "aurora")]))
                .starts_with(
                    "rds:FailoverDBCluster DBClusterIdentifier=pynomaly-aurora (region us-west-2)"
                )
        );
        assert!(
            b.describe(&call("db.failover", &[("db", "primary")]))
                .starts_with(
                    "rds:RebootDBInstance DBInstanceIdentifier=pynomaly-prod ForceFailover=true"
                )
        );
        assert_eq!(
            b.describe(&call("dns.point", &[("dns", "api"), ("region", "dr")])),
            "route53:ChangeResourceRecordSets HostedZoneId=Z123 UPSERT api.example.com CNAME TTL=60 -> api-use1.example.net (region dr), then wait for INSYNC"
        );
        assert!(b
            .describe(&call("backup.snapshot", &[("backup", "snapshots")]))
            .starts_with("rds:CreateDBSnapshot DBInstanceIdentifier=pynomaly-prod DBSnapshotIdentifier=warroom-pynomaly-prod-<yyyymmdd-hhmmss UTC> (region us-west-2)"));
        assert!(
            b.describe(&call("db.promote", &[("db", "nope")]))
                .starts_with("cannot run: db.promote: unknown database \"nope\"")
        );
    }

    #[test]
    fn the_webhook_url_is_never_shown() {
        let b = backend();
        let d = b.describe(&call("notify.webhook", &[("message", "failing over")]));
        assert_eq!(
            d,
            "POST {\"text\": \"failing over\"} to the webhook URL in $WARROOM_TEST_WEBHOOK_URL (not shown)"
        );
    }

    #[test]
    fn unsupported_actions_say_why() {
        use BuiltinAction as A;
        let b = backend();
        for supported in [
            A::DbPromote,
            A::DbFailover,
            A::BackupSnapshot,
            A::DnsPoint,
            A::NotifyWebhook,
        ] {
            assert_eq!(unsupported_reason(&b.env, supported), None, "{supported}");
        }
        for action in [
            A::DbReadOnly,
            A::DbRestore,
            A::BackupVerify,
            A::AppScale,
            A::SecretRotate,
            A::HttpCheck,
        ] {
            let why = unsupported_reason(&b.env, action).unwrap_or_default();
            assert!(why.starts_with(action.name()), "{action}: {why}");
        }
        let env = Environment::parse(
            "aws.toml",
            &ENV.replace("[webhook]\nurl_env = \"WARROOM_TEST_WEBHOOK_URL\"\n", ""),
        )
        .expect("valid env");
        let no_hook = AwsBackend::new(&env, Arc::new(Connector::new(AwsOptions::default())));
        assert!(
            no_hook
                .unsupported(&call("notify.webhook", &[("message", "hi")]))
                .is_some_and(|w| w.contains("[webhook]"))
        );
    }

    #[tokio::test]
    async fn unsupported_actions_fail_without_calling_aws() {
        let b = backend();
        let err = b
            .execute(&call("db.read_only", &[("db", "primary")]), &|_| {})
            .await
            .expect_err("unsupported");
        assert!(
            matches!(&err, ActionError::Unsupported { action: "db.read_only", why } if why.starts_with("db.read_only has no AWS API")),
            "{err}"
        );
    }

    #[test]
    fn snapshot_ids_follow_rds_rules() {
        let t = Utc
            .with_ymd_and_hms(2026, 11, 22, 3, 4, 5)
            .single()
            .expect("date");
        assert_eq!(
            snapshot_id("pynomaly-prod", t),
            "warroom-pynomaly-prod-20261122-030405"
        );
        assert_eq!(
            snapshot_id("My_DB--x", t),
            "warroom-my-db-x-20261122-030405"
        );
        let long = snapshot_id(&"a".repeat(300), t);
        assert!(long.len() <= 255, "{}", long.len());
        assert!(!long.contains("--"));
    }
}
