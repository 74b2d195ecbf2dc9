//! The environment file: logical names (what playbooks speak of) mapped to real resources in one
//! backend, plus the recovery objectives. The `demo` environment is built in and simulated.

pub mod postgres;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};

use serde::Deserialize;
use toml::Spanned;

use crate::diag::{Diagnostic, Diagnostics};
use crate::duration::Dur;

/// The built-in environment's source text.
pub const DEMO_TOML: &str = include_str!("demo.toml");

/// Which backend the environment's resources live in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sim,
    Postgres,
    Aws,
}

impl Backend {
    pub fn label(self) -> &'static str {
        match self {
            Backend::Sim => "sim",
            Backend::Postgres => "postgres",
            Backend::Aws => "aws",
        }
    }
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
    /// Health endpoint URLs of the service in this region.
    #[serde(default)]
    pub health: Vec<String>,
}

/// Simulator binding of a database.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct SimDatabase {
    /// Resource name shown next to the logical name.
    pub resource: String,
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
}

#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct AppDef {
    /// Logical name (`api`).
    pub name: Spanned<String>,
    /// Normal replica count per logical region.
    pub replicas: BTreeMap<String, u32>,
    pub sim: Option<toml::Table>,
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
        let src = std::fs::read_to_string(path).map_err(|e| {
            Diagnostics(vec![Diagnostic {
                path: shown.clone(),
                line: 1,
                col: 1,
                message: format!("cannot read environment file: {e}"),
                help: None,
            }])
        })?;
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
                            format!("duplicate {} name {:?}", kind.label(), name.get_ref()),
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
                        format!("unknown {what} {:?}", r.get_ref()),
                    )
                    .with_help(format!("known {what}s: {}", known.join(", "))),
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
        out.extend(self.validate_bindings(path, src, &db_names));
        for a in &self.apps {
            for region in a.replicas.keys() {
                if !region_names.contains(&region.as_str()) {
                    let span = a.name.span();
                    out.push(
                        Diagnostic::at(
                            path,
                            src,
                            span,
                            format!("app {:?}: unknown region {region:?}", a.name.get_ref()),
                        )
                        .with_help(format!("known regions: {}", region_names.join(", "))),
                    );
                }
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
        for db in &self.databases {
            let mut bound = Vec::new();
            if db.sim.is_some() {
                bound.push(Backend::Sim);
            }
            if let Some(pg) = &db.postgres {
                bound.push(Backend::Postgres);
                out.extend(pg.validate(path, src));
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
                        format!("database {:?} has more than one binding", db.name.get_ref()),
                    )
                    .with_help("keep exactly one of sim, postgres"),
                ),
            }
        }
        for b in &self.backups {
            match (&b.sim, &b.dir) {
                (Some(_), Some(_)) => out.push(
                    Diagnostic::at(
                        path,
                        src,
                        b.name.span(),
                        format!("backup {:?} has more than one binding", b.name.get_ref()),
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
        if let Some((first, first_name)) = bindings.first().copied() {
            for (backend, name) in bindings.iter().skip(1).filter(|(b, _)| *b != first) {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        name.span(),
                        format!(
                            "{:?} uses the {} backend, but {:?} uses {}",
                            name.get_ref(),
                            backend.label(),
                            first_name.get_ref(),
                            first.label()
                        ),
                    )
                    .with_help("one environment maps to one backend: a drill is honest only if every step hits the same world"),
                );
            }
        }
        out
    }

    /// The backend every resource uses. Mixed environments are not supported: a drill is honest
    /// only if every step hits the same world (validation rejects them).
    pub fn backend(&self) -> Backend {
        let postgres = self.databases.iter().any(|d| d.postgres.is_some())
            || self.backups.iter().any(|b| b.dir.is_some());
        if postgres {
            Backend::Postgres
        } else {
            Backend::Sim
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
                    d.sim
                        .as_ref()
                        .map_or_else(|| name.to_string(), |s| s.resource.clone())
                }),
            NameKind::Backup => self
                .backups
                .iter()
                .find(|b| b.name.get_ref() == name)
                .map(|b| match &b.dir {
                    Some(dir) => dir
                        .resolved_path(self.base_dir.as_deref())
                        .join(dir.glob.get_ref())
                        .display()
                        .to_string(),
                    None => b.kind.clone(),
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
}
