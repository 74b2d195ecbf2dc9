//! The environment file: logical names (what playbooks speak of) mapped to real resources, each
//! through its own binding (`sim`, `postgres`, `aws`, `ecs`, `http`: one environment may mix the
//! real ones), plus the recovery objectives. The `demo` environment is built in and simulated.

pub mod postgres;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::duration::Dur;

/// The built-in environment's source text.
pub const DEMO_TOML: &str = include_str!("demo.toml");

/// What the environment as a whole is: simulated, or real (PostgreSQL, AWS, or both mixed).
/// Actions and sources go by each resource's own [`Binding`]; this is for messages and for the
/// one decision that is the whole environment's: simulated or not.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sim,
    Postgres,
    Aws,
    /// Real resources of more than one kind (e.g. PostgreSQL with Route 53 DNS and ECS apps).
    Mixed,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Postgres => "postgres",
            Backend::Aws => "aws",
            Backend::Mixed => "mixed",
        }
    }
}

/// What one resource is bound to: who observes it and who acts on it.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
pub enum Binding {
    /// The simulator (a simulated environment: every resource is).
    Sim,
    /// A self-hosted PostgreSQL server (`postgres = {...}`) or a backup directory (`dir`).
    Postgres,
    /// AWS: RDS (`aws`), RDS snapshots (`aws_snapshots`), Route 53 (`aws`, health checks).
    Aws,
    /// An ECS service per region (`ecs = {...}` on an app).
    Ecs,
    /// HTTP health endpoints (`health = [...]` on a region).
    Http,
    /// A Patroni member's REST API (`patroni = {...}` on a database).
    Patroni,
}

impl Binding {
    pub fn label(self) -> &'static str {
        match self {
            Binding::Sim => "sim",
            Binding::Postgres => "postgres",
            Binding::Aws => "aws",
            Binding::Ecs => "ecs",
            Binding::Http => "http",
            Binding::Patroni => "patroni",
        }
    }
}

/// ECS binding of an application in one logical region: the service whose desired count
/// `app.scale` sets and whose running count the panes and `ready_at_least` read.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct EcsService {
    /// Cluster name or ARN.
    pub cluster: String,
    /// Service name or ARN.
    pub service: String,
}

/// Recovery objectives the incident is measured against.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Objectives {
    /// Recovery time objective.
    pub rto: Dur,
    /// Recovery point objective (acceptable data-loss window).
    pub rpo: Dur,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum RegionRole {
    Primary,
    Dr,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RegionDef {
    /// Logical name (`primary`, `dr`).
    pub name: Spanned<String>,
    /// The provider's region id (`us-west-2`).
    pub id: String,
    /// Its role in the DR plan.
    pub role: RegionRole,
    /// Availability zones.
    #[serde(default)]
    pub zones: Vec<String>,
    /// Health endpoint URLs of the service in this region (http or https).
    #[serde(default)]
    pub health: Vec<Spanned<String>>,
    /// AWS: named profile (from `~/.aws/config`) whose credentials this region's calls use.
    /// Unset: the standard chain (environment variables, `AWS_PROFILE`, SSO, instance role).
    pub profile: Option<String>,
    /// AWS: id of the Route 53 health check whose verdict is this region's API health, or a
    /// list of ids (e.g. one per endpoint). Each shows as an endpoint in the Regions pane.
    #[serde(default, deserialize_with = "one_or_many")]
    pub route53_health_check: Vec<String>,
    /// Simulator: how the region is when the simulation starts (see [`SimRegion`]).
    pub sim: Option<SimRegion>,
}

/// Simulator binding of a region: its condition when the simulation starts, so that an
/// environment file can describe a fleet with problems already in it (`benches/fleet.toml`).
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimRegion {
    /// Zones (of the region's `zones`) already down at the start; all of them: the region is
    /// down, its health checks already failing.
    #[serde(default)]
    pub zones_down: Vec<Spanned<String>>,
}

/// Accepts `"id"` or `["id", ...]`.
fn one_or_many<'de, D>(de: D) -> Result<Vec<String>, D::Error>
where
    D: serde::Deserializer<'de>,
{
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum OneOrMany {
        One(String),
        Many(Vec<String>),
    }
    Ok(match OneOrMany::deserialize(de)? {
        OneOrMany::One(id) => vec![id],
        OneOrMany::Many(ids) => ids,
    })
}

/// Simulator binding of a database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimDatabase {
    /// Resource name shown next to the logical name.
    pub resource: String,
    /// Replicas only: the replication link has been broken for this long when the simulation
    /// starts (the source still answers; the replica receives nothing and its lag grows).
    pub broken_for: Option<Spanned<Dur>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DatabaseDef {
    /// Logical name (`primary`, `dr-replica`).
    pub name: Spanned<String>,
    /// Logical region it lives in.
    pub region: Spanned<String>,
    /// Logical name of the database it replicates from, for replicas.
    pub replica_of: Option<Spanned<String>>,
    /// Synchronous standby in another zone of the same region.
    #[serde(default)]
    pub multi_az: bool,
    /// Replica lag alarm threshold (the seeds' CloudWatch alarm: 300 s).
    #[serde(default = "default_lag_alarm")]
    pub lag_alarm: Dur,
    /// Simulated database.
    pub sim: Option<SimDatabase>,
    /// Self-hosted PostgreSQL server (see `postgres::PostgresDatabase`).
    pub postgres: Option<postgres::PostgresDatabase>,
    /// AWS: the RDS DB instance or Aurora DB cluster behind this name.
    pub aws: Option<Spanned<AwsDatabase>>,
    /// A Patroni-managed PostgreSQL node: its REST API.
    pub patroni: Option<Spanned<PatroniDatabase>>,
}

/// Patroni binding of a database: the REST API of the Patroni member that runs it
/// (`patroni = { url = "http://10.0.0.2:8008" }`). Role, timeline, lag and the cluster's pause
/// state are read from it; `db.promote` and `db.failover` go through it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PatroniDatabase {
    /// Base URL of the member's REST API (http or https).
    pub url: String,
}

/// AWS binding of a database: exactly one of `instance` or `cluster`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsDatabase {
    /// RDS DB instance identifier (`pynomaly-dr-replica`), in the database's region.
    pub instance: Option<String>,
    /// Aurora DB cluster identifier, in the database's region.
    pub cluster: Option<String>,
    /// The new instance a point-in-time restore (`db.restore` with `to`) creates
    /// (`RestoreDBInstanceToPointInTime`); instances only.
    pub restore_instance: Option<String>,
}

impl AwsDatabase {
    /// The identifier AWS knows the database by.
    pub fn identifier(&self) -> &str {
        self.instance
            .as_deref()
            .or(self.cluster.as_deref())
            .unwrap_or_default()
    }
}

impl DatabaseDef {
    /// Which backend bindings this database has (`sim`, `aws`); validation allows at most one.
    pub fn bindings(&self) -> Vec<&'static str> {
        let mut out = Vec::new();
        if self.sim.is_some() {
            out.push("sim");
        }
        if self.aws.is_some() {
            out.push("aws");
        }
        out
    }
}

fn default_lag_alarm() -> Dur {
    Dur::from_secs(300)
}

/// Simulator binding of a backup series.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimBackup {
    /// Daily start time (UTC, `HH:MM`) for daily backups; unset means "every `every`".
    pub at: Option<String>,
    /// Every scheduled attempt has failed for this long when the simulation starts (and keeps
    /// failing): the series shows `FAILED`.
    pub failing_for: Option<Spanned<Dur>>,
    /// The job has not run for this long when the simulation starts (and does not run): the
    /// series goes `DUE`, then `OVERDUE`.
    pub stopped_for: Option<Spanned<Dur>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDef {
    /// Logical name (`snapshots`, `daily-dump`).
    pub name: Spanned<String>,
    /// What it is, shown to the operator.
    pub kind: String,
    /// Policy interval: a backup older than this is due.
    pub every: Dur,
    pub sim: Option<SimBackup>,
    /// A directory of backup files: dumps or a WAL archive (see `postgres::BackupDir`).
    pub dir: Option<postgres::BackupDir>,
    /// AWS: the RDS snapshots of one DB instance.
    pub aws_snapshots: Option<Spanned<AwsSnapshots>>,
}

/// Which RDS snapshots count for a backup series.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum SnapshotKind {
    /// Automated and manual snapshots alike.
    #[default]
    Any,
    /// The daily automated snapshots RDS takes in the backup window.
    Automated,
    /// Snapshots taken on request (`backup.snapshot`, the console, scripts).
    Manual,
}

impl SnapshotKind {
    /// The `SnapshotType` value AWS uses, where the kind names one.
    pub fn aws_type(self) -> Option<&'static str> {
        match self {
            SnapshotKind::Any => None,
            SnapshotKind::Automated => Some("automated"),
            SnapshotKind::Manual => Some("manual"),
        }
    }
}

/// AWS binding of a backup series: the snapshots of one RDS DB instance.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSnapshots {
    /// RDS DB instance identifier whose snapshots count (`pynomaly-prod`).
    pub instance: String,
    /// Logical region the instance lives in. Default: the region of the database bound to the
    /// same instance.
    pub region: Option<Spanned<String>>,
    /// `automated`, `manual` or `any` (default): which snapshots count. `backup.snapshot` always
    /// takes a manual one.
    #[serde(default, rename = "type")]
    pub kind: SnapshotKind,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct DnsDef {
    /// Logical name (`api`).
    pub name: Spanned<String>,
    /// The record's real name.
    pub record: String,
    /// Logical region it points at normally.
    pub points_to: Spanned<String>,
    pub sim: Option<toml::Table>,
    /// AWS: the Route 53 record and what it contains for each region.
    pub aws: Option<Spanned<AwsDns>>,
}

/// AWS binding of a DNS record: a simple-routing record in a Route 53 hosted zone.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsDns {
    /// Hosted zone id (`Z0123456789ABCDEFGHIJ`).
    pub zone: String,
    /// Record name in the zone. Default: the DNS entry's `record`.
    pub record: Option<String>,
    /// Record type: `CNAME` (default), `A` or `AAAA`.
    #[serde(default = "default_record_type", rename = "type")]
    pub record_type: String,
    /// TTL in seconds written by `dns.point` (default 60).
    #[serde(default = "default_ttl")]
    pub ttl: u32,
    /// The record's value when it points at each logical region (`{ primary =
    /// "api-usw2.example.net", dr = "api-use1.example.net" }`). `dns.point` writes these; the
    /// Regions pane maps the current value back to a region.
    pub targets: Spanned<BTreeMap<String, String>>,
}

fn default_record_type() -> String {
    "CNAME".to_string()
}

fn default_ttl() -> u32 {
    60
}

/// The record types `dns.point` can write.
pub const AWS_RECORD_TYPES: &[&str] = &["CNAME", "A", "AAAA"];

/// Settings of the AWS backend as a whole.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AwsSettings {
    /// Send every AWS call to this URL instead of the public endpoints (an emulator such as
    /// moto, or a VPC endpoint). `--endpoint-url` and `AWS_ENDPOINT_URL` take precedence.
    pub endpoint_url: Option<Spanned<String>>,
}

/// Where `notify.webhook` posts. The URL usually carries a secret, so the file names the
/// environment variable that holds it, and warroom never prints, journals or logs it.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct WebhookDef {
    /// Name of the environment variable holding the webhook URL (`WARROOM_WEBHOOK_URL`).
    pub url_env: Spanned<String>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDef {
    /// Logical name (`api`).
    pub name: Spanned<String>,
    /// Normal replica count per logical region.
    pub replicas: BTreeMap<String, u32>,
    pub sim: Option<toml::Table>,
    /// ECS: the service per logical region (`ecs = { dr = { cluster = "c", service = "api" } }`),
    /// in that region's AWS region (`id`), with its `profile`.
    pub ecs: Option<Spanned<BTreeMap<String, EcsService>>>,
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Environment {
    /// Shown in the status bar and recorded in the journal.
    pub name: String,
    pub objectives: Objectives,
    pub regions: Vec<RegionDef>,
    #[serde(default)]
    pub databases: Vec<DatabaseDef>,
    #[serde(default)]
    pub backups: Vec<BackupDef>,
    #[serde(default)]
    pub dns: Vec<DnsDef>,
    #[serde(default)]
    pub apps: Vec<AppDef>,
    /// Directory of the file it was loaded from: relative paths in it are resolved against it.
    /// Not part of the format.
    #[serde(skip)]
    pub base_dir: Option<PathBuf>,
    /// AWS backend settings (`[aws] endpoint_url = ...`).
    pub aws: Option<AwsSettings>,
    /// The notification webhook of `notify.webhook`.
    pub webhook: Option<WebhookDef>,
    /// The shared war room (`[share] url = "s3://bucket/prefix"`, roster, roles).
    pub share: Option<crate::share::ShareSettings>,
    /// `[policy] destructive_approvals = 1`: the two-person rule for LIVE incidents.
    pub policy: Option<crate::share::Policy>,
}

/// Kinds of logical names a playbook can refer to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NameKind {
    Region,
    Database,
    Backup,
    Dns,
    App,
}

impl NameKind {
    pub fn label(self) -> &'static str {
        match self {
            NameKind::Region => "region",
            NameKind::Database => "database",
            NameKind::Backup => "backup",
            NameKind::Dns => "DNS record",
            NameKind::App => "app",
        }
    }
}

/// A name as a message shows it without quotes: visible, cut after 40 characters.
pub fn short_name(name: &str) -> String {
    const MAX_CHARS: usize = 40;
    match name.char_indices().nth(MAX_CHARS) {
        None => crate::text::visible(name).into_owned(),
        Some((cut, _)) => format!("{}…", crate::text::visible(&name[..cut])),
    }
}

/// Names listed in a help line (`known regions: a, b`): each visible and cut after 40
/// characters, at most 20 of them, so a file with huge or many names cannot make the help huge.
pub fn known_names<S: AsRef<str>>(names: &[S]) -> String {
    const MAX_NAMES: usize = 20;
    let mut shown: Vec<String> = names
        .iter()
        .take(MAX_NAMES)
        .map(|n| short_name(n.as_ref()))
        .collect();
    if names.len() > MAX_NAMES {
        shown.push(format!("… ({} more)", names.len() - MAX_NAMES));
    }
    shown.join(", ")
}

impl Environment {
    /// The built-in simulated environment.
    pub fn demo() -> Self {
        // The embedded file is covered by `demo_environment_is_valid`; failing here would mean
        // the binary itself was built broken.
        #[expect(
            clippy::expect_used,
            reason = "embedded file, validated by a unit test"
        )]
        Self::parse("<built-in demo>", DEMO_TOML).expect("the built-in demo environment is valid")
    }

    pub fn load(path: &Path) -> Result<Self, Diagnostics> {
        let shown = path.display().to_string();
        let src = crate::diag::read_input(path, "environment").map_err(|d| Diagnostics(vec![d]))?;
        let mut env = Self::parse(&shown, &src)?;
        env.base_dir = path
            .parent()
            .map(|d| {
                if d.as_os_str().is_empty() {
                    Path::new(".")
                } else {
                    d
                }
            })
            .map(Path::to_path_buf);
        Ok(env)
    }

    pub fn parse(path: &str, src: &str) -> Result<Self, Diagnostics> {
        let env: Environment = toml::from_str(src)
            .map_err(|e| Diagnostics(vec![Diagnostic::from_toml(path, src, &e)]))?;
        let problems = env.validate(path, src);
        if problems.is_empty() {
            Ok(env)
        } else {
            Err(Diagnostics(problems))
        }
    }

    fn validate(&self, path: &str, src: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let groups: [(NameKind, Vec<&Spanned<String>>); 5] = [
            (
                NameKind::Region,
                self.regions.iter().map(|r| &r.name).collect(),
            ),
            (
                NameKind::Database,
                self.databases.iter().map(|d| &d.name).collect(),
            ),
            (
                NameKind::Backup,
                self.backups.iter().map(|b| &b.name).collect(),
            ),
            (NameKind::Dns, self.dns.iter().map(|d| &d.name).collect()),
            (NameKind::App, self.apps.iter().map(|a| &a.name).collect()),
        ];
        for (kind, names) in groups {
            let mut seen = BTreeSet::new();
            for name in names {
                if !seen.insert(name.get_ref()) {
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            name.span(),
                            format!(
                                "duplicate {} name {}",
                                kind.label(),
                                crate::text::echo(name.get_ref())
                            ),
                        )
                        .with_help("every logical name must be unique within its kind"),
                    );
                }
            }
        }
        let region_names: Vec<&str> = self
            .regions
            .iter()
            .map(|r| r.name.get_ref().as_str())
            .collect();
        let db_names: Vec<&str> = self
            .databases
            .iter()
            .map(|d| d.name.get_ref().as_str())
            .collect();
        let mut check = |r: &Spanned<String>, known: &[&str], what: &str| {
            if !known.contains(&r.get_ref().as_str()) {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        r.span(),
                        format!("unknown {what} {}", crate::text::echo(r.get_ref())),
                    )
                    .with_help(format!("known {what}s: {}", known_names(known))),
                );
            }
        };
        for db in &self.databases {
            check(&db.region, &region_names, "region");
            if let Some(src_db) = &db.replica_of {
                check(src_db, &db_names, "database");
            }
        }
        for d in &self.dns {
            check(&d.points_to, &region_names, "region");
        }
        out.extend(self.validate_replication(path, src));
        for r in &self.regions {
            for url in &r.health {
                if let Some(why) = crate::telemetry::http::health_url_problem(url.get_ref()) {
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            url.span(),
                            format!("region {}: {why}", crate::text::echo(r.name.get_ref())),
                        )
                        .with_help(
                            "a health URL is an http:// or https:// address, e.g. \
                             `health = [\"https://api.example.com/health\"]`",
                        ),
                    );
                }
            }
        }
        out.extend(self.validate_sim_conditions(path, src));
        for a in &self.apps {
            for region in a.replicas.keys() {
                if !region_names.contains(&region.as_str()) {
                    let span = a.name.span();
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            span,
                            format!(
                                "app {}: unknown region {region}",
                                crate::text::echo(a.name.get_ref()),
                                region = crate::text::echo(region)
                            ),
                        )
                        .with_help(format!("known regions: {}", known_names(&region_names))),
                    );
                }
            }
        }
        out.extend(self.validate_bindings(path, src, &db_names));
        out.extend(self.validate_aws_bindings(path, src, &region_names));
        out
    }

    /// Replication: a database cannot replicate from itself, and following `replica_of` from any
    /// database must reach a database that replicates from nothing (no cycle). Either would make
    /// a replica that has no primary, which the Replica lag pane cannot show.
    fn validate_replication(&self, path: &str, src: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let source_of = |name: &str| {
            self.databases
                .iter()
                .find(|d| d.name.get_ref() == name)
                .and_then(|d| d.replica_of.as_ref())
                .map(|s| s.get_ref().as_str())
        };
        for db in &self.databases {
            let Some(first) = &db.replica_of else {
                continue;
            };
            let name = db.name.get_ref().as_str();
            if first.get_ref() == name {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        first.span(),
                        format!(
                            "database {name} replicates from itself",
                            name = crate::text::echo(name)
                        ),
                    )
                    .with_help("replica_of names the database it copies, another one"),
                );
                continue;
            }
            // Walk the chain; a chain longer than the number of databases has a cycle.
            let mut chain = vec![name, first.get_ref().as_str()];
            let mut at = first.get_ref().as_str();
            while let Some(next) = source_of(at) {
                if chain.contains(&next) {
                    chain.push(next);
                    if next == name {
                        out.push(
                            Diagnostic::at(
                                path,
                                src,
                                first.span(),
                                format!("replication cycle: {}", chain.join(" -> ")),
                            )
                            .with_help(
                                "one database in a replication chain must be the primary \
                                 (no replica_of)",
                            ),
                        );
                    }
                    break;
                }
                chain.push(next);
                at = next;
            }
        }
        out
    }

    /// Simulated starting conditions: zones that exist in their region, a broken link only on a
    /// replica, a backup series either failing or stopped.
    fn validate_sim_conditions(&self, path: &str, src: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        for r in &self.regions {
            for zone in r.sim.iter().flat_map(|s| &s.zones_down) {
                if !r.zones.contains(zone.get_ref()) {
                    let listed = if r.zones.is_empty() {
                        "the region lists no zones: add them to `zones`".to_string()
                    } else {
                        format!("the region's zones: {}", r.zones.join(", "))
                    };
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            zone.span(),
                            format!(
                                "region {}: zones_down names {}, not one of its zones",
                                crate::text::echo(r.name.get_ref()),
                                crate::text::echo(zone.get_ref())
                            ),
                        )
                        .with_help(listed),
                    );
                }
            }
        }
        for db in &self.databases {
            if let Some(broken) = db.sim.as_ref().and_then(|s| s.broken_for.as_ref())
                && db.replica_of.is_none()
            {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        broken.span(),
                        format!(
                            "database {}: broken_for needs a replica (replica_of)",
                            crate::text::echo(db.name.get_ref())
                        ),
                    )
                    .with_help(
                        "a broken replication link belongs to a replica; a primary has none",
                    ),
                );
            }
        }
        for b in &self.backups {
            if let Some(sim) = &b.sim
                && let (Some(_), Some(stopped)) = (&sim.failing_for, &sim.stopped_for)
            {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        stopped.span(),
                        format!(
                            "backup {}: failing_for and stopped_for together",
                            crate::text::echo(b.name.get_ref())
                        ),
                    )
                    .with_help(
                        "a job either runs and fails (failing_for) or does not run (stopped_for)",
                    ),
                );
            }
        }
        out
    }

    /// Bindings: a database or backup has at most one (none means simulated), all of one backend,
    /// and each is valid for its backend.
    fn validate_bindings(&self, path: &str, src: &str, db_names: &[&str]) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        // (backend, the name bound to it), checked for one backend at the end.
        let mut bindings: Vec<(Backend, &Spanned<String>)> = Vec::new();
        // A region's simulated condition belongs to the simulator like any other binding.
        for r in self.regions.iter().filter(|r| r.sim.is_some()) {
            bindings.push((Backend::Sim, &r.name));
        }
        for db in &self.databases {
            let mut bound = Vec::new();
            if db.sim.is_some() {
                bound.push(Backend::Sim);
            }
            if let Some(pg) = &db.postgres {
                bound.push(Backend::Postgres);
                out.extend(pg.validate(path, src));
            }
            if db.aws.is_some() {
                bound.push(Backend::Aws);
            }
            if let Some(p) = &db.patroni {
                bound.push(Backend::Postgres);
                let url = &p.get_ref().url;
                if !(url.starts_with("http://") || url.starts_with("https://")) {
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            p.span(),
                            format!(
                                "database {}: patroni url {} is not an http(s) URL",
                                crate::text::echo(db.name.get_ref()),
                                crate::text::echo(url)
                            ),
                        )
                        .with_help("the member's REST API, e.g. patroni = { url = \"http://10.0.0.2:8008\" }"),
                    );
                }
            }
            match bound.as_slice() {
                [b] => bindings.push((*b, &db.name)),
                // No binding: simulated (older environment files and the simulator's own
                // tests rely on it); a postgres environment then reports it as mixed.
                [] => bindings.push((Backend::Sim, &db.name)),
                _ => out.push(
                    Diagnostic::at(
                        path,
                        src,
                        db.name.span(),
                        format!(
                            "database {} has more than one binding",
                            crate::text::echo(db.name.get_ref())
                        ),
                    )
                    .with_help("keep exactly one of sim, postgres, patroni, aws"),
                ),
            }
        }
        for b in &self.backups {
            if b.aws_snapshots.is_some() {
                if b.sim.is_some() || b.dir.is_some() {
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            b.name.span(),
                            format!(
                                "backup {} has more than one binding",
                                crate::text::echo(b.name.get_ref())
                            ),
                        )
                        .with_help("keep exactly one of sim, dir, aws_snapshots"),
                    );
                } else {
                    bindings.push((Backend::Aws, &b.name));
                }
                continue;
            }
            match (&b.sim, &b.dir) {
                (Some(_), Some(_)) => out.push(
                    Diagnostic::at(
                        path,
                        src,
                        b.name.span(),
                        format!(
                            "backup {} has more than one binding",
                            crate::text::echo(b.name.get_ref())
                        ),
                    )
                    .with_help("keep exactly one of sim, dir"),
                ),
                (Some(_), None) => bindings.push((Backend::Sim, &b.name)),
                (None, Some(dir)) => {
                    bindings.push((Backend::Postgres, &b.name));
                    out.extend(dir.validate(b.name.get_ref(), db_names, path, src));
                }
                (None, None) => {}
            }
        }
        // Real bindings mix (a PostgreSQL pair with Route 53 DNS and ECS apps); the simulator
        // does not mix with them: it simulates a whole deployment, and a drill on it must not
        // touch anything real.
        let real = bindings
            .iter()
            .find(|(b, _)| *b != Backend::Sim)
            .copied()
            .or_else(|| {
                self.apps
                    .iter()
                    .find(|a| a.ecs.is_some())
                    .map(|a| (Backend::Aws, &a.name))
            });
        if let Some((backend, real_name)) = real {
            let apps = self
                .apps
                .iter()
                .filter(|a| a.sim.is_some())
                .map(|a| &a.name);
            let dns = self.dns.iter().filter(|d| d.sim.is_some()).map(|d| &d.name);
            let simulated = bindings
                .iter()
                .filter(|(b, _)| *b == Backend::Sim)
                .map(|(_, n)| *n)
                .chain(apps)
                .chain(dns);
            for name in simulated {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        name.span(),
                        format!(
                            "{} is simulated (a `sim` binding, or none for a database), but {} is real ({})",
                            crate::text::echo(name.get_ref()),
                            crate::text::echo(real_name.get_ref()),
                            backend.label()
                        ),
                    )
                    .with_help("bind it to a real resource (postgres, aws, ecs), or keep the whole environment simulated: the simulator does not mix with real resources"),
                );
            }
        }
        out
    }

    /// Backend bindings: at most one per database; in an environment that uses AWS, every
    /// database, backup and DNS record has an AWS binding and nothing a simulator one; the AWS
    /// bindings themselves are complete and their references resolve.
    fn validate_aws_bindings(
        &self,
        path: &str,
        src: &str,
        region_names: &[&str],
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let mut err = |span: std::ops::Range<usize>, message: String, help: String| {
            out.push(Diagnostic::at(path, src, span, message).with_help(help));
        };
        for db in &self.databases {
            let name = db.name.get_ref();
            let bindings = db.bindings();
            if bindings.len() > 1 {
                err(
                    db.name.span(),
                    format!(
                        "database {name} has {} backend bindings ({}); it needs exactly one",
                        bindings.len(),
                        bindings.join(", "),
                        name = crate::text::echo(name)
                    ),
                    "keep the binding of the backend this environment uses".into(),
                );
            }
            if let Some(aws) = &db.aws {
                let a = aws.get_ref();
                let ok = match (&a.instance, &a.cluster) {
                    (Some(id), None) | (None, Some(id)) => !id.trim().is_empty(),
                    _ => false,
                };
                if !ok {
                    err(
                        aws.span(),
                        format!("database {name}: `aws` needs exactly one non-empty `instance` or `cluster`", name = crate::text::echo(name)),
                        "`aws = { instance = \"my-db\" }` for RDS, `aws = { cluster = \"my-cluster\" }` for Aurora".into(),
                    );
                }
            }
        }
        for b in &self.backups {
            let name = b.name.get_ref();
            if let Some(snaps) = &b.aws_snapshots {
                let sn = snaps.get_ref();
                if let Some(region) = &sn.region {
                    if !region_names.contains(&region.get_ref().as_str()) {
                        err(
                            region.span(),
                            format!("unknown region {}", crate::text::echo(region.get_ref())),
                            format!("known regions: {}", known_names(region_names)),
                        );
                    }
                } else if self.aws_snapshot_region(sn).is_none() {
                    err(
                        snaps.span(),
                        format!(
                            "backup {name}: cannot tell which region RDS instance {} is in",
                            crate::text::echo(&sn.instance), name = crate::text::echo(name)),
                        "add `region = \"<logical region>\"`, or bind a database to the same instance".into(),
                    );
                }
            }
        }
        for d in &self.dns {
            let name = d.name.get_ref();
            if let Some(aws) = &d.aws {
                let a = aws.get_ref();
                if !AWS_RECORD_TYPES.contains(&a.record_type.as_str()) {
                    err(
                        aws.span(),
                        format!(
                            "DNS record {name}: record type {} is not supported",
                            crate::text::echo(&a.record_type),
                            name = crate::text::echo(name)
                        ),
                        format!("use one of {}", AWS_RECORD_TYPES.join(", ")),
                    );
                }
                if a.zone.trim().is_empty() {
                    err(
                        aws.span(),
                        format!(
                            "DNS record {name}: empty hosted zone id",
                            name = crate::text::echo(name)
                        ),
                        "the id is on the hosted zone's page in the Route 53 console (Z...)".into(),
                    );
                }
                for region in a.targets.get_ref().keys() {
                    if !region_names.contains(&region.as_str()) {
                        err(
                            a.targets.span(),
                            format!(
                                "DNS record {name}: target for unknown region {region}",
                                name = crate::text::echo(name),
                                region = crate::text::echo(region)
                            ),
                            format!("known regions: {}", known_names(region_names)),
                        );
                    }
                }
                if !a.targets.get_ref().contains_key(d.points_to.get_ref()) {
                    err(
                        a.targets.span(),
                        format!(
                            "DNS record {name}: no target for region {}, where it points normally",
                            crate::text::echo(d.points_to.get_ref()),
                            name = crate::text::echo(name)
                        ),
                        "give every region the record may point at its value in `targets`".into(),
                    );
                }
            }
        }
        for a in &self.apps {
            let Some(ecs) = &a.ecs else { continue };
            for (region, service) in ecs.get_ref() {
                if !region_names.contains(&region.as_str()) {
                    err(
                        ecs.span(),
                        format!(
                            "app {}: ECS service for unknown region {}",
                            crate::text::echo(a.name.get_ref()),
                            crate::text::echo(region)
                        ),
                        format!("known regions: {}", known_names(region_names)),
                    );
                }
                if service.cluster.trim().is_empty() || service.service.trim().is_empty() {
                    err(
                        ecs.span(),
                        format!(
                            "app {}: the ECS service for region {} needs a non-empty cluster and service",
                            crate::text::echo(a.name.get_ref()),
                            crate::text::echo(region)
                        ),
                        "e.g. ecs = { dr = { cluster = \"prod-dr\", service = \"api\" } }".into(),
                    );
                }
            }
        }
        if let Some(url) = self.aws.as_ref().and_then(|a| a.endpoint_url.as_ref()) {
            let u = url.get_ref();
            if !(u.starts_with("http://") || u.starts_with("https://")) {
                err(
                    url.span(),
                    format!(
                        "endpoint_url {u} is not an http(s) URL",
                        u = crate::text::echo(u)
                    ),
                    "e.g. `endpoint_url = \"http://127.0.0.1:5000\"` for an emulator".into(),
                );
            }
        }
        if let Some(hook) = &self.webhook {
            let var = hook.url_env.get_ref();
            let valid = var
                .chars()
                .next()
                .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
                && var.chars().all(|c| c.is_ascii_alphanumeric() || c == '_');
            if !valid {
                err(
                    hook.url_env.span(),
                    // The value is not echoed: it may be the secret URL itself.
                    "url_env is not an environment variable name (letters, digits and _)".to_string(),
                    "name the variable that holds the URL, e.g. `url_env = \"WARROOM_WEBHOOK_URL\"` \
                     (the URL itself never goes in the file)"
                        .into(),
                );
            }
        }
        out
    }

    /// Whether anything in the environment is bound to AWS (ECS included).
    pub fn uses_aws(&self) -> bool {
        self.aws.is_some()
            || self.apps.iter().any(|a| a.ecs.is_some())
            || self.databases.iter().any(|d| d.aws.is_some())
            || self.backups.iter().any(|b| b.aws_snapshots.is_some())
            || self.dns.iter().any(|d| d.aws.is_some())
            || self
                .regions
                .iter()
                .any(|r| !r.route53_health_check.is_empty())
    }

    /// The logical region of an `aws_snapshots` binding: its own `region`, else the region of
    /// the database bound to the same RDS instance.
    pub fn aws_snapshot_region<'a>(&'a self, snaps: &'a AwsSnapshots) -> Option<&'a str> {
        if let Some(r) = &snaps.region {
            return Some(r.get_ref().as_str());
        }
        self.databases
            .iter()
            .find(|d| {
                d.aws.as_ref().and_then(|a| a.get_ref().instance.as_deref())
                    == Some(snaps.instance.as_str())
            })
            .map(|d| d.region.get_ref().as_str())
    }

    /// What the environment is as a whole: simulated when nothing in it is bound to a real
    /// resource; else PostgreSQL, AWS, or both ([`Backend::Mixed`]).
    pub fn backend(&self) -> Backend {
        let postgres = self
            .databases
            .iter()
            .any(|d| d.postgres.is_some() || d.patroni.is_some())
            || self.backups.iter().any(|b| b.dir.is_some());
        match (postgres, self.uses_aws()) {
            (true, true) => Backend::Mixed,
            (false, true) => Backend::Aws,
            (true, false) => Backend::Postgres,
            (false, false) => Backend::Sim,
        }
    }

    /// Whether every resource is simulated (nothing real is bound).
    pub fn is_simulated(&self) -> bool {
        self.backend() == Backend::Sim
    }

    /// The binding of the resource a logical name names, `None` when the name is unknown or the
    /// resource is bound to nothing that can observe or act on it (a DNS record without `aws`
    /// in a real environment). In a simulated environment every resource is [`Binding::Sim`].
    /// A region's binding is that of its health source: `http` (health URLs) before `aws`
    /// (Route 53 health checks).
    pub fn binding(&self, kind: NameKind, name: &str) -> Option<Binding> {
        if !self.has(kind, name) {
            return None;
        }
        if self.is_simulated() {
            return Some(Binding::Sim);
        }
        match kind {
            NameKind::Database => {
                let d = self.database(name)?;
                if d.postgres.is_some() {
                    Some(Binding::Postgres)
                } else if d.patroni.is_some() {
                    Some(Binding::Patroni)
                } else if d.aws.is_some() {
                    Some(Binding::Aws)
                } else {
                    None
                }
            }
            NameKind::Backup => {
                let b = self.backups.iter().find(|b| b.name.get_ref() == name)?;
                if b.dir.is_some() {
                    Some(Binding::Postgres)
                } else if b.aws_snapshots.is_some() {
                    Some(Binding::Aws)
                } else {
                    None
                }
            }
            NameKind::Dns => {
                let d = self.dns.iter().find(|d| d.name.get_ref() == name)?;
                d.aws.is_some().then_some(Binding::Aws)
            }
            NameKind::App => {
                let a = self.apps.iter().find(|a| a.name.get_ref() == name)?;
                a.ecs.is_some().then_some(Binding::Ecs)
            }
            NameKind::Region => {
                let r = self.region(name)?;
                if !r.health.is_empty() {
                    Some(Binding::Http)
                } else if !r.route53_health_check.is_empty() {
                    Some(Binding::Aws)
                } else {
                    None
                }
            }
        }
    }

    /// Whether `name` is a known logical name of `kind`.
    pub fn has(&self, kind: NameKind, name: &str) -> bool {
        self.names(kind).iter().any(|n| n == name)
    }

    /// All logical names of `kind`, in file order.
    pub fn names(&self, kind: NameKind) -> Vec<String> {
        match kind {
            NameKind::Region => self
                .regions
                .iter()
                .map(|r| r.name.get_ref().clone())
                .collect(),
            NameKind::Database => self
                .databases
                .iter()
                .map(|d| d.name.get_ref().clone())
                .collect(),
            NameKind::Backup => self
                .backups
                .iter()
                .map(|b| b.name.get_ref().clone())
                .collect(),
            NameKind::Dns => self.dns.iter().map(|d| d.name.get_ref().clone()).collect(),
            NameKind::App => self.apps.iter().map(|a| a.name.get_ref().clone()).collect(),
        }
    }

    /// The real resource behind a logical name, for the confirmation dialog (`dr-replica` ->
    /// `pynomaly-dr-replica`).
    pub fn resource(&self, kind: NameKind, name: &str) -> Option<String> {
        match kind {
            NameKind::Region => self
                .regions
                .iter()
                .find(|r| r.name.get_ref() == name)
                .map(|r| r.id.clone()),
            NameKind::Database => self
                .databases
                .iter()
                .find(|d| d.name.get_ref() == name)
                .map(|d| {
                    if let Some(pg) = &d.postgres {
                        return pg.resource_name();
                    }
                    if let Some(aws) = &d.aws {
                        return aws.get_ref().identifier().to_string();
                    }
                    d.sim
                        .as_ref()
                        .map_or_else(|| name.to_string(), |s| s.resource.clone())
                }),
            NameKind::Backup => self
                .backups
                .iter()
                .find(|b| b.name.get_ref() == name)
                .map(|b| match (&b.dir, &b.aws_snapshots) {
                    (Some(dir), _) => dir
                        .resolved_path(self.base_dir.as_deref())
                        .join(dir.glob.get_ref())
                        .display()
                        .to_string(),
                    (None, Some(s)) => format!("{} of {}", b.kind, s.get_ref().instance),
                    (None, None) => b.kind.clone(),
                }),
            NameKind::Dns => self
                .dns
                .iter()
                .find(|d| d.name.get_ref() == name)
                .map(|d| d.record.clone()),
            NameKind::App => self.has(kind, name).then(|| name.to_string()),
        }
    }

    pub fn region(&self, name: &str) -> Option<&RegionDef> {
        self.regions.iter().find(|r| r.name.get_ref() == name)
    }

    pub fn database(&self, name: &str) -> Option<&DatabaseDef> {
        self.databases.iter().find(|d| d.name.get_ref() == name)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn demo_environment_is_valid() {
        let env = Environment::parse("demo.toml", DEMO_TOML).expect("valid demo");
        assert_eq!(env.name, "demo");
        assert_eq!(env.objectives.rto, Dur::from_mins(30));
        assert_eq!(env.objectives.rpo, Dur::from_mins(5));
        assert!(env.has(NameKind::Database, "dr-replica"));
        assert_eq!(
            env.resource(NameKind::Database, "dr-replica").as_deref(),
            Some("pynomaly-dr-replica")
        );
        assert_eq!(
            env.resource(NameKind::Region, "dr").as_deref(),
            Some("us-east-1")
        );
    }

    #[test]
    fn unknown_reference_is_located() {
        let src = DEMO_TOML.replacen("replica_of = \"primary\"", "replica_of = \"primray\"", 1);
        let err = Environment::parse("e.toml", &src).expect_err("bad reference");
        let text = err.to_string();
        assert!(text.contains("unknown database \"primray\""), "{text}");
        let line = src
            .lines()
            .position(|l| l.contains("primray"))
            .expect("line")
            + 1;
        assert!(text.starts_with(&format!("e.toml:{line}:")), "{text}");
    }

    #[test]
    fn unknown_field_is_located() {
        let src = DEMO_TOML.replacen("multi_az = true", "multi_az = true\nmultiaz = true", 1);
        let err = Environment::parse("e.toml", &src).expect_err("unknown field");
        assert!(err.to_string().contains("unknown field `multiaz`"), "{err}");
    }

    #[test]
    fn simulated_starting_conditions_are_checked_and_located() {
        let with = |from: &str, to: &str| {
            assert!(DEMO_TOML.contains(from), "{from}");
            DEMO_TOML.replacen(from, to, 1)
        };
        let dr_zones = "zones = [\"us-east-1a\", \"us-east-1b\"]";
        let src = with(
            dr_zones,
            &format!("{dr_zones}\nsim = {{ zones_down = [\"us-east-1z\"] }}"),
        );
        let err = Environment::parse("e.toml", &src)
            .expect_err("unknown zone")
            .to_string();
        assert!(
            err.contains(&format!("e.toml:{}:", line_of(&src, "us-east-1z"))),
            "{err}"
        );
        assert!(err.contains("zones_down names \"us-east-1z\""), "{err}");
        assert!(err.contains("us-east-1a, us-east-1b"), "{err}");
        // A 10,000-character zone is cut in the message, not repeated whole.
        let long = "z".repeat(10_000);
        let src = with(
            dr_zones,
            &format!("{dr_zones}\nsim = {{ zones_down = [\"{long}\"] }}"),
        );
        let err = Environment::parse("e.toml", &src)
            .expect_err("unknown zone")
            .to_string();
        assert!(err.len() < 1_000, "{} bytes", err.len());
        assert!(err.contains("kB more"), "{err}");

        let primary = "sim = { resource = \"pynomaly-prod\" }";
        let src = with(
            primary,
            "sim = { resource = \"pynomaly-prod\", broken_for = \"5m\" }",
        );
        let err = Environment::parse("e.toml", &src)
            .expect_err("a primary has no link")
            .to_string();
        assert!(err.contains("broken_for needs a replica"), "{err}");

        let src = with(
            "every = \"15m\"\nsim = {}",
            "every = \"15m\"\nsim = { failing_for = \"1h\", stopped_for = \"1h\" }",
        );
        let err = Environment::parse("e.toml", &src)
            .expect_err("both")
            .to_string();
        assert!(
            err.contains("failing_for and stopped_for together"),
            "{err}"
        );

        // The fleet file in benches/ uses all of them.
        let fleet = include_str!("../../benches/fleet.toml");
        let env = Environment::parse("fleet.toml", fleet).expect("valid fleet");
        assert_eq!(env.backend(), Backend::Sim);
    }

    const AWS_ENV: &str = r#"name = "aws"
objectives = { rto = "30m", rpo = "5m" }
[[regions]]
name = "primary"
id = "us-west-2"
role = "primary"
route53_health_check = "hc-1"
[[regions]]
name = "dr"
id = "us-east-1"
role = "dr"
profile = "dr-admin"
route53_health_check = ["hc-2", "hc-3"]
[[databases]]
name = "primary"
region = "primary"
aws = { instance = "pynomaly-prod" }
[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
aws = { instance = "pynomaly-dr" }
[[backups]]
name = "snapshots"
kind = "RDS snapshot"
every = "15m"
aws_snapshots = { instance = "pynomaly-prod", type = "manual" }
[[dns]]
name = "api"
record = "api.example.com"
points_to = "primary"
aws = { zone = "Z1", targets = { primary = "a.example.net", dr = "b.example.net" } }
[aws]
endpoint_url = "http://127.0.0.1:5000"
[webhook]
url_env = "WARROOM_WEBHOOK_URL"
"#;

    fn aws_error(src: &str) -> String {
        Environment::parse("aws.toml", src)
            .expect_err("invalid")
            .to_string()
    }

    /// 1-based line of the first line containing `needle`.
    fn line_of(src: &str, needle: &str) -> usize {
        src.lines()
            .position(|l| l.contains(needle))
            .expect("needle")
            + 1
    }

    #[test]
    fn aws_environment_is_valid_and_uses_aws() {
        let env = Environment::parse("aws.toml", AWS_ENV).expect("valid");
        assert_eq!(env.backend(), Backend::Aws);
        assert_eq!(
            env.resource(NameKind::Database, "dr-replica").as_deref(),
            Some("pynomaly-dr")
        );
        assert_eq!(
            env.resource(NameKind::Backup, "snapshots").as_deref(),
            Some("RDS snapshot of pynomaly-prod")
        );
        assert_eq!(env.regions[0].route53_health_check, ["hc-1"]);
        assert_eq!(env.regions[1].route53_health_check, ["hc-2", "hc-3"]);
        assert_eq!(env.regions[1].profile.as_deref(), Some("dr-admin"));
        let snaps = env.backups[0].aws_snapshots.as_ref().expect("binding");
        assert_eq!(snaps.get_ref().kind, SnapshotKind::Manual);
        assert_eq!(env.aws_snapshot_region(snaps.get_ref()), Some("primary"));
        let dns = env.dns[0].aws.as_ref().expect("binding").get_ref();
        assert_eq!((dns.record_type.as_str(), dns.ttl), ("CNAME", 60));
        assert_eq!(Environment::demo().backend(), Backend::Sim);
    }

    #[test]
    fn a_database_has_exactly_one_binding() {
        let src = AWS_ENV.replacen(
            "aws = { instance = \"pynomaly-prod\" }",
            "aws = { instance = \"pynomaly-prod\" }\nsim = { resource = \"x\" }",
            1,
        );
        let err = aws_error(&src);
        assert!(
            err.contains("database \"primary\" has 2 backend bindings (sim, aws)"),
            "{err}"
        );
        let src = AWS_ENV.replacen("aws = { instance = \"pynomaly-dr\" }\n", "", 1);
        let err = aws_error(&src);
        assert!(
            err.starts_with(&format!(
                "aws.toml:{}:",
                line_of(&src, "name = \"dr-replica\"")
            )),
            "{err}"
        );
        assert!(
            err.contains(
                "\"dr-replica\" is simulated (a `sim` binding, or none for a database), but"
            ),
            "{err}"
        );
        for bad in ["aws = {}", "aws = { instance = \"a\", cluster = \"b\" }"] {
            let src = AWS_ENV.replacen("aws = { instance = \"pynomaly-dr\" }", bad, 1);
            let err = aws_error(&src);
            assert!(
                err.contains("needs exactly one non-empty `instance` or `cluster`"),
                "{err}"
            );
            assert!(
                err.starts_with(&format!("aws.toml:{}:", line_of(&src, bad))),
                "{err}"
            );
        }
    }

    #[test]
    fn aws_backups_and_records_are_checked() {
        let src = AWS_ENV.replacen(
            "aws_snapshots = { instance = \"pynomaly-prod\", type = \"manual\" }",
            "sim = {}",
            1,
        );
        let err = aws_error(&src);
        assert!(
            err.contains("\"snapshots\" is simulated") && err.contains("is real (aws)"),
            "{err}"
        );
        let src = AWS_ENV.replacen(
            "instance = \"pynomaly-prod\", type",
            "instance = \"other\", type",
            1,
        );
        assert!(aws_error(&src).contains("cannot tell which region RDS instance \"other\" is in"));
        let src = AWS_ENV.replacen(
            "type = \"manual\"",
            "type = \"manual\", region = \"moon\"",
            1,
        );
        assert!(aws_error(&src).contains("unknown region \"moon\""));
        let src = AWS_ENV.replacen("type = \"manual\"", "type = \"hourly\"", 1);
        assert!(aws_error(&src).contains("unknown variant `hourly`"));

        let src = AWS_ENV.replacen("dr = \"b.example.net\"", "mars = \"b.example.net\"", 1);
        let err = aws_error(&src);
        assert!(err.contains("target for unknown region \"mars\""), "{err}");
        assert!(
            err.starts_with(&format!("aws.toml:{}:", line_of(&src, "mars"))),
            "{err}"
        );
        let src = AWS_ENV.replacen("primary = \"a.example.net\", ", "", 1);
        assert!(
            aws_error(&src).contains("no target for region \"primary\", where it points normally")
        );
        let src = AWS_ENV.replacen("zone = \"Z1\"", "zone = \"Z1\", type = \"MX\"", 1);
        assert!(aws_error(&src).contains("record type \"MX\" is not supported"));
    }

    #[test]
    fn endpoint_and_webhook_settings_are_checked() {
        let src = AWS_ENV.replacen("\"http://127.0.0.1:5000\"", "\"127.0.0.1:5000\"", 1);
        let err = aws_error(&src);
        assert!(
            err.contains("endpoint_url \"127.0.0.1:5000\" is not an http(s) URL"),
            "{err}"
        );
        assert!(
            err.starts_with(&format!("aws.toml:{}:", line_of(&src, "endpoint_url"))),
            "{err}"
        );
        let src = AWS_ENV.replacen(
            "url_env = \"WARROOM_WEBHOOK_URL\"",
            "url_env = \"https://hooks.example.com/T0/SECRET\"",
            1,
        );
        let err = aws_error(&src);
        assert!(
            err.contains("url_env is not an environment variable name"),
            "{err}"
        );
        assert!(!err.contains("SECRET"), "the URL must not be echoed: {err}");
        let src = AWS_ENV.replacen("url_env", "url", 1);
        assert!(aws_error(&src).contains("unknown field `url`"));
    }
}
