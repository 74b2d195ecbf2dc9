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

use crate::actions::postgres::human_bytes;
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
        "{db} is not a PostgreSQL database in this environment: restore points are listed for PostgreSQL (base backups, dumps, WAL archive); the simulator's are in the console's restore step"
    )]
    NotPostgres { db: String },
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
    pub archive: String,
    pub segments: usize,
    pub newest_archived: Option<DateTime<Utc>>,
    /// Merged windows, oldest first.
    pub windows: Vec<Window>,
    pub gaps: Vec<Gap>,
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

/// The list of a simulated database's series `series` from the simulator's state: its backups
/// of the last 24 h (failed attempts too) and the window its WAL archive covers.
pub fn from_sim(
    env: &Environment,
    db: &str,
    points: &crate::sim::SimPoints,
    onset: Option<DateTime<Utc>>,
    history: &[Verification],
) -> RestorePoints {
    let tainted = |t: DateTime<Utc>| onset.is_some_and(|o| t >= o);
    let backups: Vec<BackupPoint> = points
        .backups
        .iter()
        .map(|b| {
            let name = sim_backup_name(&points.series, b.at);
            BackupPoint {
                series: points.series.clone(),
                kind: points.kind.clone(),
                last_verified: verified::last(history, &env.name, &points.series, &name).cloned(),
                name,
                time: b.at,
                bytes: Some(b.bytes),
                tainted: b.tainted || tainted(b.at),
                failed: !b.ok,
                wal_reach: points.window.map(|(_, to)| to).filter(|to| *to > b.at),
                wal_complete: points.window.map(|_| true),
            }
        })
        .collect();
    let pitr = points.window.map(|(from, to)| PitrCoverage {
        archive: "simulated WAL archive".to_string(),
        segments: 0,
        newest_archived: Some(to),
        windows: vec![Window {
            from,
            to,
            base: sim_backup_name(&points.series, from),
        }],
        gaps: Vec::new(),
    });
    RestorePoints {
        environment: env.name.clone(),
        database: db.to_string(),
        onset,
        backups,
        pitr,
        problems: Vec::new(),
    }
}

impl RestorePoints {
    /// What the list adds to what the engine knows (`recovery::Known::with`): the good
    /// backups (not failed, not tainted), the windows and the gaps.
    pub fn listed(&self) -> crate::recovery::Listed {
        use crate::recovery::Span;
        crate::recovery::Listed {
            backups: self
                .backups
                .iter()
                .filter(|b| !b.failed && !b.tainted)
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
        }
    }
}

/// The list the console's restore-point picker shows for a `db.restore` of `db` from
/// `series`: from the simulator's state, or (PostgreSQL) the backup directories and the WAL
/// archive, read on a blocking thread; with the verification history. Run off the UI thread.
pub async fn for_console(
    env: Environment,
    sim: Option<std::sync::Arc<std::sync::Mutex<crate::sim::Sim>>>,
    db: String,
    series: String,
    onset: Option<DateTime<Utc>>,
) -> Result<RestorePoints, RestorePointsError> {
    let read = tokio::task::spawn_blocking(move || {
        let history = verified::default_path()
            .map(|p| verified::load(&p))
            .unwrap_or_default();
        match sim {
            Some(sim) if env.is_simulated() => {
                let sim = sim.lock().map_err(|_| RestorePointsError::SimCrashed)?;
                let points = sim
                    .recovery_points(&series)
                    .map_err(|e| RestorePointsError::Sim(e.to_string()))?;
                Ok(from_sim(&env, &db, &points, onset, &history))
            }
            _ => build(&env, Some(&db), onset, &history),
        }
    });
    read.await
        .map_err(|e| RestorePointsError::Sim(e.to_string()))?
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
            "  {:<23} {:<12} {:<11} {:>9}  {:<28} file  notes",
            "time", "series", "kind", "size", "last verified"
        );
        for b in &self.backups {
            let verified = b.last_verified.as_ref().map_or_else(
                || "never".to_string(),
                |v| format!("{} {}", time(v.at), if v.ok { "ok" } else { "FAILED" }),
            );
            let mut notes = Vec::new();
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
                "  {:<23} {:<12} {:<11} {:>9}  {:<28} {}  {}",
                time(b.time),
                crate::text::field(&b.series),
                crate::text::field(&b.kind),
                b.bytes.map_or_else(|| "-".to_string(), human_bytes),
                verified,
                crate::text::field(&b.name),
                notes.join("; ")
            );
        }
        match &self.pitr {
            None => out.push_str(
                "\nPoint in time: not configured (a base_backup series naming this database and its wal_archive)\n",
            ),
            Some(p) => {
                let _ = writeln!(
                    out,
                    "\nPoint in time (WAL archive {}: {} segments, newest archived {})",
                    p.archive,
                    p.segments,
                    p.newest_archived.map_or_else(|| "never".to_string(), time)
                );
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
                out.push_str("  (window: times a restore can reach: after a base backup ended, with every WAL segment archived up to it)\n");
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
