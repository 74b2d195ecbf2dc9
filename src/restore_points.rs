//! `warroom restore-points`: what a database can be restored to. Every backup of the series
//! that name it (time, kind, size, last verified and its result, tainted when taken after a
//! known corruption onset) and, for PostgreSQL, the point-in-time window its WAL archive covers
//! from its base backups, with the gaps where segments are missing.
//!
//! Definitions (shown with the list):
//! - a backup's **time** is when it was taken (the file's modification time, or the end of a
//!   base backup as `pg_basebackup` reported it);
//! - **tainted**: taken at or after the corruption onset (`--onset`): it holds the corruption;
//! - the **PITR window** is every time `P` for which a base backup ended before `P` and every WAL
//!   segment from that backup's end to `P` is archived (a segment's archive time bounds the
//!   commits inside it from above);
//! - a **gap** is a run of missing segments; no point after its start is reachable from a base
//!   backup taken before it.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::env::Environment;
use crate::recovery::postgres::{PgPitr, PitrError, first_needed};
use crate::recovery::verified::{self, Verification};
use crate::telemetry::postgres::wal::TIME_FORMAT;

/// Why the list could not be made.
#[derive(Debug, thiserror::Error)]
pub enum RestorePointsError {
    #[error("unknown database {name}; known: {known}")]
    UnknownDatabase { name: String, known: String },
    #[error("the environment has no database whose backups could be listed")]
    NoDatabase,
    #[error(
        "{db} has no backups warroom can list: restore points are listed for PostgreSQL (base backups, dumps, WAL archive), RDS instances (snapshots, the restorable window) and the simulator"
    )]
    NotPostgres { db: String },
    #[error("{db}: {problem}")]
    Aws { db: String, problem: String },
    #[error(transparent)]
    Pitr(#[from] PitrError),
    #[error("the simulator crashed earlier; restart warroom")]
    SimCrashed,
    #[error("the simulator: {0}")]
    Sim(String),
}

/// The list.
#[derive(Debug, Clone, Serialize)]
pub struct RestorePoints {
    pub environment: String,
    pub database: String,
    /// The corruption onset the `tainted` marks are against, if known.
    pub onset: Option<DateTime<Utc>>,
    /// Newest first.
    pub backups: Vec<BackupPoint>,
    /// `None` when the database has no base backup series and WAL archive.
    pub pitr: Option<PitrCoverage>,
    /// What could not be read (a series' directory, the archive), one line each.
    pub problems: Vec<String>,
}

#[derive(Debug, Clone, Serialize)]
pub struct BackupPoint {
    pub series: String,
    /// The series' kind (`pg_dump`, `base backup`).
    pub kind: String,
    /// The file name.
    pub name: String,
    pub time: DateTime<Utc>,
    pub bytes: Option<u64>,
    pub last_verified: Option<Verification>,
    /// Taken at or after the onset.
    pub tainted: bool,
    /// The attempt failed (the simulator and AWS list failed attempts; a file on disk is a
    /// backup that completed).
    #[serde(default)]
    pub failed: bool,
    /// For a base backup: how far a replay from it reaches (the first gap after it, or the
    /// archive's end), and the gap that stops it, if any.
    pub wal_reach: Option<DateTime<Utc>>,
    pub wal_complete: Option<bool>,
}

#[derive(Debug, Clone, Serialize)]
pub struct PitrCoverage {
    /// What the window comes from.
    pub source: CoverageSource,
    pub archive: String,
    pub segments: usize,
    pub newest_archived: Option<DateTime<Utc>>,
    /// Merged windows, oldest first.
    pub windows: Vec<Window>,
    pub gaps: Vec<Gap>,
}

/// Where a point-in-time window comes from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum CoverageSource {
    /// A PostgreSQL WAL archive scanned segment by segment.
    WalArchive,
    /// The simulator's WAL archive series.
    Simulated,
    /// RDS's restorable window (automated backups).
    Rds,
}

#[derive(Debug, Clone, Serialize)]
pub struct Window {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
    /// The base backup a restore to its start would use.
    pub base: String,
}

#[derive(Debug, Clone, Serialize)]
pub struct Gap {
    pub first_missing: String,
    pub last_missing: String,
    pub missing: u64,
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

/// The database listed by default: the first one a backup series names, else the first
/// database that is not a replica.
pub fn default_database(env: &Environment) -> Option<String> {
    env.backups
        .iter()
        .find_map(|b| {
            b.dir
                .as_ref()?
                .database
                .as_ref()
                .map(|d| d.get_ref().clone())
        })
        .or_else(|| {
            env.databases
                .iter()
                .find(|d| d.replica_of.is_none())
                .map(|d| d.name.get_ref().clone())
        })
}

/// Builds the list for `db` (default: [`default_database`]).
pub fn build(
    env: &Environment,
    db: Option<&str>,
    onset: Option<DateTime<Utc>>,
    history: &[Verification],
) -> Result<RestorePoints, RestorePointsError> {
    let db = match db {
        Some(d) => d.to_string(),
        None => default_database(env).ok_or(RestorePointsError::NoDatabase)?,
    };
    let def = env
        .database(&db)
        .ok_or_else(|| RestorePointsError::UnknownDatabase {
            name: crate::text::echo(&db),
            known: env
                .databases
                .iter()
                .map(|d| d.name.get_ref().clone())
                .collect::<Vec<_>>()
                .join(", "),
        })?;
    if def.postgres.is_none() {
        return Err(RestorePointsError::NotPostgres { db });
    }
    let mut out = RestorePoints {
        environment: env.name.clone(),
        database: db.clone(),
        onset,
        backups: Vec::new(),
        pitr: None,
        problems: Vec::new(),
    };
    let tainted = |t: DateTime<Utc>| onset.is_some_and(|o| t >= o);
    let pitr = PgPitr::of(env, &db)?;
    let scan = match &pitr {
        Some(p) => match p.archive() {
            Ok(s) => Some(s),
            Err(e) => {
                out.problems.push(e.to_string());
                None
            }
        },
        None => None,
    };
    for b in &env.backups {
        let Some(dir) = &b.dir else { continue };
        if dir.database.as_ref().map(|d| d.get_ref().as_str()) != Some(db.as_str()) {
            continue;
        }
        let series = b.name.get_ref().clone();
        if dir.base_backup {
            let Some(p) = &pitr else { continue };
            match p.base_backups() {
                Ok(list) => {
                    for base in list.iter().rev() {
                        let (reach, complete) = match &scan {
                            Some(s) => {
                                let tl = base.timeline.unwrap_or(1);
                                let from = first_needed(base, s);
                                let stopped = s.gaps.iter().any(|g| {
                                    g.timeline == tl
                                        && crate::recovery::postgres::segment_number(
                                            s,
                                            &g.last_missing,
                                        )
                                        .is_some_and(|last| last >= from)
                                });
                                (s.reach(tl, from), Some(!stopped))
                            }
                            None => (None, None),
                        };
                        out.backups.push(BackupPoint {
                            kind: b.kind.clone(),
                            name: base.name.clone(),
                            time: base.ended,
                            bytes: Some(base.bytes),
                            last_verified: verified::last(history, &env.name, &series, &base.name)
                                .cloned(),
                            tainted: tainted(base.ended),
                            failed: false,
                            wal_reach: reach,
                            wal_complete: complete,
                            series: series.clone(),
                        });
                    }
                }
                Err(e) => out.problems.push(e.to_string()),
            }
            continue;
        }
        let path = dir.resolved_path(env.base_dir.as_deref());
        let pattern = match glob::Pattern::new(dir.glob.get_ref()) {
            Ok(p) => p,
            Err(e) => {
                out.problems.push(format!("{series}: bad glob: {}", e.msg));
                continue;
            }
        };
        match crate::telemetry::backup_dir::scan(&path, &pattern) {
            Ok(files) => {
                for f in files {
                    let name = f
                        .path
                        .file_name()
                        .map(|n| n.to_string_lossy().into_owned())
                        .unwrap_or_default();
                    let time = DateTime::<Utc>::from(f.modified);
                    out.backups.push(BackupPoint {
                        series: series.clone(),
                        kind: b.kind.clone(),
                        last_verified: verified::last(history, &env.name, &series, &name).cloned(),
                        name,
                        time,
                        bytes: Some(f.size),
                        tainted: tainted(time),
                        failed: false,
                        wal_reach: None,
                        wal_complete: None,
                    });
                }
            }
            Err(e) => out.problems.push(format!("{series}: {e}")),
        }
    }
    out.backups.sort_by_key(|b| std::cmp::Reverse(b.time));
    if let (Some(p), Some(s)) = (&pitr, &scan) {
        let mut bases: Vec<_> = p.base_backups().unwrap_or_default();
        bases.sort_by_key(|b| b.ended);
        let mut windows: Vec<Window> = Vec::new();
        for base in &bases {
            let tl = base.timeline.unwrap_or(1);
            let Some(reach) = s.reach(tl, first_needed(base, s)) else {
                continue;
            };
            if reach <= base.ended {
                continue;
            }
            match windows.last_mut() {
                Some(w) if base.ended <= w.to => w.to = w.to.max(reach),
                _ => windows.push(Window {
                    from: base.ended,
                    to: reach,
                    base: base.name.clone(),
                }),
            }
        }
        out.pitr = Some(PitrCoverage {
            source: CoverageSource::WalArchive,
            archive: s.dir.display().to_string(),
            segments: s.segments.len(),
            newest_archived: s.segments.iter().map(|g| g.archived_at).max(),
            windows,
            gaps: s
                .gaps
                .iter()
                .map(|g| Gap {
                    first_missing: g.first_missing.clone(),
                    last_missing: g.last_missing.clone(),
                    missing: g.missing,
                    from: g.from,
                    to: g.to,
                })
                .collect(),
        });
    }
    Ok(out)
}

/// A simulated backup's name: its series and the time it completed
/// (`prod-snapshots-20261126T101500Z`), the name its verifications are recorded under.
pub fn sim_backup_name(series: &str, at: DateTime<Utc>) -> String {
    format!("{series}-{}", at.format("%Y%m%dT%H%M%SZ"))
}

/// The list of a simulated database from the simulator's state: the backups of `series` (each
/// series' last 24 h, failed attempts too; a WAL archive series is the window, not a list of
/// backups) and the window its WAL archive covers (from the oldest good backup listed to how
/// far the archive reaches).
pub fn from_sim(
    env: &Environment,
    db: &str,
    series: &[crate::sim::SimPoints],
    onset: Option<DateTime<Utc>>,
    history: &[Verification],
) -> RestorePoints {
    let tainted = |t: DateTime<Utc>| onset.is_some_and(|o| t >= o);
    let reach = series
        .iter()
        .filter_map(|p| p.window.map(|(_, to)| to))
        .max();
    let mut backups: Vec<BackupPoint> = series
        .iter()
        .filter(|p| !crate::recovery::is_wal_archive(&p.kind))
        .flat_map(|points| {
            points.backups.iter().map(move |b| {
                let name = sim_backup_name(&points.series, b.at);
                BackupPoint {
                    series: points.series.clone(),
                    kind: points.kind.clone(),
                    last_verified: verified::last(history, &env.name, &points.series, &name)
                        .cloned(),
                    name,
                    time: b.at,
                    bytes: Some(b.bytes),
                    tainted: b.tainted || tainted(b.at),
                    failed: !b.ok,
                    // A failed attempt is nothing to replay from.
                    wal_reach: reach.filter(|to| *to > b.at && b.ok),
                    wal_complete: reach.filter(|_| b.ok).map(|_| true),
                }
            })
        })
        .collect();
    backups.sort_by_key(|b| std::cmp::Reverse(b.time));
    let oldest_good = backups
        .iter()
        .filter(|b| !b.failed && !b.tainted)
        .min_by_key(|b| b.time);
    let pitr = match (oldest_good, reach) {
        (Some(from), Some(to)) if to > from.time => Some(PitrCoverage {
            source: CoverageSource::Simulated,
            archive: "simulated WAL archive".to_string(),
            segments: 0,
            newest_archived: Some(to),
            windows: vec![Window {
                from: from.time,
                to,
                base: from.name.clone(),
            }],
            gaps: Vec::new(),
        }),
        _ => None,
    };
    RestorePoints {
        environment: env.name.clone(),
        database: db.to_string(),
        onset,
        backups,
        pitr,
        problems: Vec::new(),
    }
}

/// `warroom restore-points` on a simulated environment: a fresh simulator (seeded like the
/// console's, `--seed`) lists every backup series and its WAL archive's window.
pub fn sim_list(
    env: &Environment,
    db: &str,
    seed: u64,
    now: DateTime<Utc>,
    onset: Option<DateTime<Utc>>,
    history: &[Verification],
) -> Result<RestorePoints, RestorePointsError> {
    if env.database(db).is_none() {
        return Err(RestorePointsError::UnknownDatabase {
            name: crate::text::echo(db),
            known: env.names(crate::env::NameKind::Database).join(", "),
        });
    }
    let sim = crate::sim::Sim::new(env, seed, now);
    let mut series = Vec::new();
    for b in &env.backups {
        series.push(
            sim.recovery_points(b.name.get_ref())
                .map_err(|e| RestorePointsError::Sim(e.to_string()))?,
        );
    }
    Ok(from_sim(env, db, &series, onset, history))
}

/// The list of an RDS instance: its snapshots (automated and manual; time, type, allocated
/// size, status) and the restorable window (`DescribeDBInstanceAutomatedBackups`'
/// `RestoreWindow`, else `LatestRestorableTime` back over the retention period).
#[cfg(feature = "aws")]
pub async fn aws_list(
    env: &Environment,
    db: &str,
    connector: &crate::telemetry::aws::Connector,
    onset: Option<DateTime<Utc>>,
    history: &[Verification],
) -> Result<RestorePoints, RestorePointsError> {
    let problem = |problem: String| RestorePointsError::Aws {
        db: db.to_string(),
        problem,
    };
    let def = env
        .database(db)
        .ok_or_else(|| RestorePointsError::UnknownDatabase {
            name: crate::text::echo(db),
            known: env.names(crate::env::NameKind::Database).join(", "),
        })?;
    let aws = def
        .aws
        .as_ref()
        .map(|a| a.get_ref())
        .ok_or_else(|| RestorePointsError::NotPostgres { db: db.to_string() })?;
    let instance = aws.instance.clone().ok_or_else(|| {
        problem(
            "an Aurora cluster: its restore points are not listed yet (only RDS instances)"
                .to_string(),
        )
    })?;
    let region = env
        .region(def.region.get_ref())
        .ok_or_else(|| problem("unknown region".to_string()))?;
    let rds = connector.rds(&region.id, region.profile.as_deref()).await;
    let mut out = RestorePoints {
        environment: env.name.clone(),
        database: db.to_string(),
        onset,
        backups: Vec::new(),
        pitr: None,
        problems: Vec::new(),
    };
    let window = match crate::recovery::aws::restorable_window(&rds, &instance).await {
        Ok(w) => Some(w),
        Err(e) => {
            out.problems.push(e.to_string());
            None
        }
    };
    // The series that counts a snapshot (its instance and type), when the environment names
    // one.
    let series_of = |snapshot_type: Option<&str>| {
        env.backups
            .iter()
            .find(|b| {
                b.aws_snapshots.as_ref().is_some_and(|a| {
                    let a = a.get_ref();
                    a.instance == instance
                        && a.kind.aws_type().is_none_or(|t| Some(t) == snapshot_type)
                })
            })
            .map_or_else(|| "rds".to_string(), |b| b.name.get_ref().clone())
    };
    let tainted = |t: DateTime<Utc>| onset.is_some_and(|o| t >= o);
    let snapshots = crate::telemetry::aws::rds::describe_snapshots(
        &rds,
        &region.id,
        std::slice::from_ref(&instance),
    )
    .await
    .map_err(|e| problem(e.to_string()))?;
    for snap in &snapshots {
        let Some(time) = snap
            .snapshot_create_time()
            .and_then(crate::telemetry::aws::to_utc)
        else {
            continue;
        };
        let name = snap
            .db_snapshot_identifier()
            .unwrap_or_default()
            .to_string();
        let status = snap.status().unwrap_or("unknown");
        let series = series_of(snap.snapshot_type());
        out.backups.push(BackupPoint {
            series: series.clone(),
            kind: format!("RDS {}", snap.snapshot_type().unwrap_or("snapshot")),
            last_verified: verified::last(history, &env.name, &series, &name).cloned(),
            name,
            time,
            bytes: snap
                .allocated_storage()
                .and_then(|gib| u64::try_from(gib).ok())
                .map(|gib| gib << 30),
            tainted: tainted(time),
            failed: matches!(status, "failed" | "error"),
            wal_reach: window.map(|w| w.latest).filter(|l| *l > time),
            wal_complete: None,
        });
    }
    out.backups.sort_by_key(|b| std::cmp::Reverse(b.time));
    out.pitr = window.map(|w| PitrCoverage {
        source: CoverageSource::Rds,
        archive: format!("RDS automated backups of {instance} ({})", w.source_of),
        segments: 0,
        newest_archived: Some(w.latest),
        windows: vec![Window {
            from: w.earliest,
            to: w.latest,
            base: "automated backups".to_string(),
        }],
        gaps: Vec::new(),
    });
    Ok(out)
}

impl RestorePoints {
    /// `--at`: whether a restore can reach `at`, by the one resolver against this list (the
    /// simulator and RDS; PostgreSQL plans against its archive, `check_point`).
    pub fn check(
        &self,
        at: DateTime<Utc>,
        now: DateTime<Utc>,
    ) -> Result<crate::recovery::Resolved, crate::recovery::ResolveError> {
        let known = crate::recovery::Known {
            onset: self.onset,
            ..crate::recovery::Known::default()
        }
        .with(&self.listed());
        crate::recovery::resolve(crate::recovery::RestoreTo::At(at), &known, now)
    }

    /// What the list adds to what the engine knows (`recovery::Known::with`): the good
    /// backups (not failed, not tainted), those verified (newest restore test passed) and
    /// those whose newest restore test failed, the windows and the gaps.
    pub fn listed(&self) -> crate::recovery::Listed {
        use crate::recovery::Span;
        let mut listed = crate::recovery::Listed {
            // A window starts where a base backup ended (RDS: its earliest restorable time).
            backups: self
                .backups
                .iter()
                .filter(|b| !b.failed && !b.tainted)
                .map(|b| b.time)
                .chain(
                    self.pitr
                        .iter()
                        .flat_map(|p| p.windows.iter().map(|w| w.from)),
                )
                .collect(),
            // Verified: the newest restore test on record passed (`recovery::verified`).
            verified: self
                .backups
                .iter()
                .filter(|b| !b.failed && b.last_verified.as_ref().is_some_and(|v| v.ok))
                .map(|b| b.time)
                .collect(),
            failed_verification: self
                .backups
                .iter()
                .filter(|b| b.last_verified.as_ref().is_some_and(|v| !v.ok))
                .map(|b| b.time)
                .collect(),
            windows: self
                .pitr
                .iter()
                .flat_map(|p| p.windows.iter())
                .map(|w| Span {
                    from: w.from,
                    to: w.to,
                })
                .collect(),
            gaps: self
                .pitr
                .iter()
                .flat_map(|p| p.gaps.iter())
                .map(|g| Span {
                    from: g.from,
                    to: g.to,
                })
                .collect(),
        };
        listed.backups.sort();
        listed.backups.dedup();
        listed
    }
}

/// The list the console's restore-point picker shows for a `db.restore` of `db` from
/// `series`: from the simulator's state, or (PostgreSQL) the backup directories and the WAL
/// archive, read on a blocking thread; with the verification history. Run off the UI thread.
pub async fn for_console(
    env: Environment,
    sim: Option<std::sync::Arc<std::sync::Mutex<crate::sim::Sim>>>,
    aws_endpoint: Option<String>,
    db: String,
    series: String,
    onset: Option<DateTime<Utc>>,
) -> Result<RestorePoints, RestorePointsError> {
    let name = db.clone();
    let read = tokio::task::spawn_blocking(move || {
        let history = verified::default_path()
            .map(|p| verified::load(&p))
            .unwrap_or_default();
        match sim {
            Some(sim) if env.is_simulated() => {
                let sim = sim.lock().map_err(|_| RestorePointsError::SimCrashed)?;
                // The step's series, and the WAL archive that extends it.
                let mut points = vec![
                    sim.recovery_points(&series)
                        .map_err(|e| RestorePointsError::Sim(e.to_string()))?,
                ];
                for b in env
                    .backups
                    .iter()
                    .filter(|b| crate::recovery::is_wal_archive(&b.kind))
                {
                    if let Ok(p) = sim.recovery_points(b.name.get_ref()) {
                        points.push(p);
                    }
                }
                Ok(Listing::Done(from_sim(&env, &db, &points, onset, &history)))
            }
            _ if is_aws(&env, &db) => Ok(Listing::Aws(Box::new(env), history)),
            _ => build(&env, Some(&db), onset, &history).map(Listing::Done),
        }
    });
    match read
        .await
        .map_err(|e| RestorePointsError::Sim(e.to_string()))??
    {
        Listing::Done(list) => Ok(list),
        #[cfg(feature = "aws")]
        Listing::Aws(env, history) => {
            // The console's AWS endpoint (`--endpoint-url`), else the environment file's.
            let options = crate::backends::WireOptions {
                seed: 0,
                clock: crate::clock::SessionClock::new(std::time::Instant::now(), Utc::now(), 1.0),
                endpoint_url: aws_endpoint,
            };
            let connector = crate::backends::connector(&env, &options);
            aws_list(&env, &name, &connector, onset, &history).await
        }
        #[cfg(not(feature = "aws"))]
        Listing::Aws(..) => {
            let _ = aws_endpoint;
            Err(RestorePointsError::NotPostgres { db: name })
        }
    }
}

/// What the blocking part of [`for_console`] found.
enum Listing {
    Done(RestorePoints),
    /// An RDS instance: listed by async calls after.
    Aws(Box<Environment>, Vec<Verification>),
}

/// Whether `db` is bound to RDS (and not to a PostgreSQL server warroom reaches itself).
fn is_aws(env: &Environment, db: &str) -> bool {
    env.database(db)
        .is_some_and(|d| d.postgres.is_none() && d.aws.is_some())
}

fn time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

impl RestorePoints {
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|_| "{}".to_string())
    }

    pub fn to_text(&self) -> String {
        let mut out = format!(
            "Restore points of {} ({})\n",
            self.database, self.environment
        );
        match self.onset {
            Some(o) => {
                let _ = writeln!(
                    out,
                    "corruption onset: {} (a backup taken at or after it is TAINTED: it holds the corruption)",
                    time(o)
                );
            }
            None => {
                out.push_str("corruption onset: not known (--onset TIME marks tainted backups)\n")
            }
        }
        out.push_str("\nBackups (newest first; time: when taken)\n");
        if self.backups.is_empty() {
            out.push_str("  none\n");
        }
        let _ = writeln!(
            out,
            "  {:<23} {:<18} {:<13} {:>9}  {:<28} file  notes",
            "time", "series", "kind", "size", "last verified"
        );
        for b in &self.backups {
            let verified = b.last_verified.as_ref().map_or_else(
                || "never".to_string(),
                |v| format!("{} {}", time(v.at), if v.ok { "ok" } else { "FAILED" }),
            );
            let mut notes = Vec::new();
            if b.failed {
                notes.push("FAILED".to_string());
            }
            if b.tainted {
                notes.push("TAINTED".to_string());
            }
            match (b.wal_complete, b.wal_reach) {
                (Some(true), Some(r)) => notes.push(format!("WAL complete to {}", time(r))),
                (Some(false), Some(r)) => {
                    notes.push(format!("WAL GAP: replay stops at {}", time(r)));
                }
                _ => {}
            }
            let _ = writeln!(
                out,
                "  {:<23} {:<18} {:<13} {:>9}  {:<28} {}  {}",
                time(b.time),
                crate::text::field(&b.series),
                crate::text::field(&b.kind),
                b.bytes
                    .map_or_else(|| "-".to_string(), crate::text::binary_bytes),
                verified,
                crate::text::field(&b.name),
                notes.join("; ")
            );
        }
        // What `latest-verified-backup` restores from: the same rule as the resolver's.
        let listed = self.listed();
        let latest = self
            .backups
            .iter()
            .filter(|b| listed.verified.contains(&b.time))
            .filter(|b| !listed.failed_verification.contains(&b.time))
            .filter(|b| self.onset.is_none_or(|o| b.time < o))
            .max_by_key(|b| b.time);
        match latest {
            Some(b) => {
                let _ = writeln!(
                    out,
                    "latest verified backup (its restore test passed): {} {} {}",
                    time(b.time),
                    crate::text::field(&b.series),
                    crate::text::field(&b.name)
                );
            }
            None => out.push_str(
                "latest verified backup: none (no backup has passed a restore test, backup.verify, on record): to = \"latest-verified-backup\" is refused\n",
            ),
        }
        match &self.pitr {
            None => out.push_str(
                "\nPoint in time: not configured (a base_backup series naming this database and its wal_archive)\n",
            ),
            Some(p) => {
                let newest = p.newest_archived.map_or_else(|| "never".to_string(), time);
                let _ = match p.source {
                    CoverageSource::WalArchive => writeln!(
                        out,
                        "\nPoint in time (WAL archive {}: {} segments, newest archived {newest})",
                        p.archive, p.segments,
                    ),
                    CoverageSource::Simulated => writeln!(
                        out,
                        "\nPoint in time ({}, newest archived {newest})",
                        p.archive
                    ),
                    CoverageSource::Rds => writeln!(
                        out,
                        "\nPoint in time ({}; latest restorable {newest})",
                        p.archive
                    ),
                };
                if p.windows.is_empty() {
                    out.push_str("  no window: no base backup with archived WAL after it\n");
                }
                let exact = |t: DateTime<Utc>| t.format(TIME_FORMAT).to_string();
                for w in &p.windows {
                    let _ = writeln!(
                        out,
                        "  window {} .. {}  (from base backup {})",
                        exact(w.from),
                        exact(w.to),
                        w.base
                    );
                }
                for g in &p.gaps {
                    let segments = if g.missing == 1 {
                        format!("1 segment missing: {}", g.first_missing)
                    } else {
                        format!(
                            "{} segments missing: {}..{}",
                            g.missing, g.first_missing, g.last_missing
                        )
                    };
                    let _ = writeln!(
                        out,
                        "  GAP    {} .. {}  {segments}: no point after its start is reachable from an earlier base backup",
                        exact(g.from),
                        exact(g.to),
                    );
                }
                out.push_str(match p.source {
                    CoverageSource::Rds => "  (window: the times RDS can restore the instance to, from its automated backups)\n",
                    CoverageSource::WalArchive | CoverageSource::Simulated => "  (window: times a restore can reach: after a base backup ended, with every WAL segment archived up to it)\n",
                });
            }
        }
        for p in &self.problems {
            let _ = writeln!(out, "problem: {p}");
        }
        out
    }
}

/// `--at TIME`: which base backup a restore to `at` starts from, or why it is refused.
pub fn check_point(env: &Environment, db: &str, at: DateTime<Utc>) -> Result<String, PitrError> {
    let Some(pitr) = PgPitr::of(env, db)? else {
        return Err(PitrError::Setup {
            db: db.to_string(),
            problem: "no base_backup series names it: no point-in-time recovery".to_string(),
        });
    };
    let base = pitr.plan(at)?;
    Ok(format!(
        "a restore of {db} to {} starts from base backup {} (ended {}) and replays the WAL archive to it",
        at.format(TIME_FORMAT),
        base.name,
        base.ended.format(TIME_FORMAT)
    ))
}
