//! Point-in-time recovery of a self-hosted PostgreSQL database: base backups (`pg_basebackup`
//! tar archives in a `base_backup` series) and the database's WAL archive (`wal_archive`).
//!
//! - **Taking a base backup** (`backup.snapshot` of the series, `warroom lab base-backup`):
//!   `pg_basebackup -Ft -X fetch -c fast` into a dot-directory, its `base.tar` renamed into
//!   place as `<name>-<UTC>.tar` (so no half-written backup is ever listed), and a sidecar
//!   `.warroom/<file>.base.json` with its start and end WAL positions and times.
//! - **Restoring to a time `P`**: the newest base backup that ended before `P` is unpacked into
//!   a NEW data directory (`restore_dir/<db>-<UTC>`; the old one is kept as it was: evidence),
//!   `recovery.signal` with `restore_command` (copies from the archive),
//!   `recovery_target_time = P`, `recovery_target_inclusive = off` (stop before the first
//!   commit at or after `P`) and `recovery_target_action = 'promote'`; it starts on the
//!   configured port (the old server there stopped first, by its `data_dir`) and the point
//!   reached is read back: the commit time of the last transaction replayed
//!   (`pg_last_xact_replay_timestamp()`). RPO = onset minus that point.
//! - **Refused before anything changes**: no base backup before `P`, a gap in the archive
//!   between the backup and `P`, an archive that does not reach `P` yet (the current WAL
//!   segment is switched and archived first when the server still answers).
//!
//! Run as root, the server programs run as the OS user owning the base backup directory
//! (`runuser -u USER --`): PostgreSQL refuses to run as root.

use std::os::unix::fs::MetadataExt;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::env::Environment;
use crate::env::postgres::BackupDir;
use crate::telemetry::postgres::wal::{
    ArchiveScan, Lsn, TIME_FORMAT, WalError, parse_segment_name, scan_archive,
};
use crate::telemetry::postgres::{PgTarget, ToolOutput, find_tool, pg_error, run_tool};

/// Longest a base backup may take.
pub const BASE_BACKUP_TIMEOUT: Duration = Duration::from_secs(3600);
/// Longest the restored server may take to start, replay and promote.
pub const RECOVERY_TIMEOUT: Duration = Duration::from_secs(1800);
/// Longest the current WAL segment may take to reach the archive after a switch.
pub const ARCHIVE_WAIT: Duration = Duration::from_secs(30);
/// Where the sidecars live beside the backups (the dump manifests' directory).
const META_DIR: &str = ".warroom";

/// Why a point-in-time operation could not be done. Nothing was changed unless the variant
/// says so (`Recovery`: a new data directory exists and its log says why it stopped).
#[derive(Debug, thiserror::Error)]
pub enum PitrError {
    /// The environment does not say enough (no base backup series, no WAL archive, ...).
    #[error("{db}: {problem}")]
    Setup { db: String, problem: String },
    /// No base backup ended before the point.
    #[error("no base backup of {db} ended before {}{}", point.format(TIME_FORMAT), oldest.map_or_else(|| ": there is none; take one (backup.snapshot of its base backup series)".to_string(), |o| format!(" (the oldest ended at {})", o.format(TIME_FORMAT))))]
    NoBaseBackup {
        db: String,
        point: DateTime<Utc>,
        oldest: Option<DateTime<Utc>>,
    },
    /// The archive cannot serve the replay.
    #[error(transparent)]
    Wal(#[from] WalError),
    /// A file-system operation failed.
    #[error("{what} {}: {reason}", path.display())]
    Io {
        what: &'static str,
        path: PathBuf,
        reason: String,
    },
    /// A program failed or could not be started.
    #[error("{program}: {message}")]
    Tool { program: String, message: String },
    /// A server could not be reached or answered with an error.
    #[error("{db}: {message}")]
    Server { db: String, message: String },
    /// The restored server did not finish recovery; its data directory is left for a look.
    #[error("the recovery in {} did not finish: {message} (see {})", data_dir.display(), log.display())]
    Recovery {
        data_dir: PathBuf,
        log: PathBuf,
        message: String,
    },
}

fn io(what: &'static str, path: &Path) -> impl FnOnce(std::io::Error) -> PitrError {
    let path = path.to_path_buf();
    move |e| PitrError::Io {
        what,
        path,
        reason: e.to_string(),
    }
}

/// One base backup of the series.
#[derive(Debug, Clone, PartialEq)]
pub struct BaseBackup {
    pub path: PathBuf,
    /// The file name.
    pub name: String,
    /// When it began (from its sidecar), if known.
    pub started: Option<DateTime<Utc>>,
    /// When it ended: a recovery from it can reach points after this (its sidecar, else the
    /// file's modification time).
    pub ended: DateTime<Utc>,
    pub start_lsn: Option<Lsn>,
    /// The end of the WAL it holds itself (`-X fetch`); replay needs the archive from here.
    pub end_lsn: Option<Lsn>,
    pub timeline: Option<u32>,
    pub bytes: u64,
}

/// What `take_base_backup` records beside a base backup.
#[derive(Debug, Clone, Serialize, Deserialize)]
struct Meta {
    label: String,
    started: DateTime<Utc>,
    ended: DateTime<Utc>,
    start_lsn: String,
    end_lsn: String,
    timeline: u32,
}

fn meta_path(file: &Path) -> PathBuf {
    let name = file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    file.parent()
        .unwrap_or(Path::new("."))
        .join(META_DIR)
        .join(format!("{name}.base.json"))
}

/// A database's point-in-time recovery settings, from the environment.
#[derive(Debug, Clone)]
pub struct PgPitr {
    /// The database's logical name.
    pub db: String,
    pub target: PgTarget,
    /// The base backup series' logical name and directory.
    pub series: String,
    pub dir: PathBuf,
    pattern: glob::Pattern,
    binding: BackupDir,
    pub wal_archive: Option<PathBuf>,
    pub restore_dir: PathBuf,
    pub restore_port: Option<u16>,
}

/// What a restore did.
#[derive(Debug, Clone)]
pub struct Restored {
    pub db: String,
    pub base: BaseBackup,
    /// The point asked for.
    pub target: DateTime<Utc>,
    /// The commit time of the last transaction replayed: the point the database is at.
    pub reached: Option<DateTime<Utc>>,
    pub data_dir: PathBuf,
    pub port: u16,
    pub log: PathBuf,
    /// Whether the old server on that port was stopped (its data directory is kept).
    pub stopped_old: Option<PathBuf>,
    pub secs: f64,
}

impl Restored {
    /// The outcome lines of the step.
    pub fn lines(&self) -> Vec<String> {
        let reached = self.reached.map_or_else(
            || "no transaction replayed after the base backup".to_string(),
            |r| r.format(TIME_FORMAT).to_string(),
        );
        let mut out = vec![
            format!(
                "{} restored to {} (asked: before {}) from base backup {} + WAL replay, in {:.1}s",
                self.db,
                reached,
                self.target.format(TIME_FORMAT),
                self.base.name,
                self.secs
            ),
            format!("reached point: {reached} (the commit time of the last transaction replayed)"),
            format!(
                "new data directory {} on port {} (log {})",
                self.data_dir.display(),
                self.port,
                self.log.display()
            ),
        ];
        if let Some(old) = &self.stopped_old {
            out.push(format!(
                "the old server was stopped; its data directory {} is kept as it was",
                old.display()
            ));
        }
        out
    }
}

impl PgPitr {
    /// The settings for `db`: its `postgres` binding and the `base_backup` series naming it.
    /// `Ok(None)`: no base backup series names it (no point-in-time recovery configured).
    pub fn of(env: &Environment, db: &str) -> Result<Option<PgPitr>, PitrError> {
        let series = env.backups.iter().find(|b| {
            b.dir.as_ref().is_some_and(|d| {
                d.base_backup && d.database.as_ref().is_some_and(|n| n.get_ref() == db)
            })
        });
        match series {
            None => Ok(None),
            Some(b) => Self::for_series(env, b.name.get_ref()).map(Some),
        }
    }

    /// The settings of the base backup series `series`.
    pub fn for_series(env: &Environment, series: &str) -> Result<PgPitr, PitrError> {
        let setup = |db: &str, problem: String| PitrError::Setup {
            db: db.to_string(),
            problem,
        };
        let b = env
            .backups
            .iter()
            .find(|b| b.name.get_ref() == series)
            .ok_or_else(|| setup(series, "no such backup series".to_string()))?;
        let binding = b
            .dir
            .clone()
            .filter(|d| d.base_backup)
            .ok_or_else(|| setup(series, "not a base_backup series".to_string()))?;
        let db = binding
            .database
            .as_ref()
            .map(|d| d.get_ref().clone())
            .ok_or_else(|| setup(series, "its dir binding names no database".to_string()))?;
        let def = env
            .database(&db)
            .ok_or_else(|| setup(&db, "not in the environment".to_string()))?;
        let pg = def.postgres.as_ref().ok_or_else(|| {
            setup(
                &db,
                "no postgres binding: point-in-time recovery needs one".to_string(),
            )
        })?;
        let target = PgTarget::of(def, env)
            .map_err(|e| setup(&db, e))?
            .ok_or_else(|| setup(&db, "no postgres binding".to_string()))?;
        let base = env.base_dir.as_deref();
        let dir = binding.resolved_path(base);
        let pattern = glob::Pattern::new(binding.glob.get_ref())
            .map_err(|e| setup(series, format!("bad glob: {}", e.msg)))?;
        let restore_dir = pg.restore_dir.as_ref().map_or_else(
            || dir.parent().unwrap_or(Path::new(".")).join("restored"),
            |d| crate::env::postgres::resolve(d.get_ref(), base),
        );
        Ok(PgPitr {
            db,
            wal_archive: target.wal_archive.clone(),
            target,
            series: series.to_string(),
            dir,
            pattern,
            binding,
            restore_dir,
            restore_port: pg.restore_port,
        })
    }

    fn setup(&self, problem: impl Into<String>) -> PitrError {
        PitrError::Setup {
            db: self.db.clone(),
            problem: problem.into(),
        }
    }

    /// The WAL archive's directory, or why there is none.
    pub fn archive_dir(&self) -> Result<&Path, PitrError> {
        self.wal_archive.as_deref().ok_or_else(|| {
            self.setup("no wal_archive in its postgres binding: point-in-time recovery replays WAL from the archive")
        })
    }

    /// Reads the archive: its segments and gaps.
    pub fn archive(&self) -> Result<ArchiveScan, PitrError> {
        Ok(scan_archive(self.archive_dir()?)?)
    }

    /// The base backups of the series, oldest first.
    pub fn base_backups(&self) -> Result<Vec<BaseBackup>, PitrError> {
        let entries = std::fs::read_dir(&self.dir).map_err(io("cannot list", &self.dir))?;
        let mut out = Vec::new();
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            if name.starts_with('.') || !self.pattern.matches(&name) {
                continue;
            }
            let Ok(m) = entry.metadata() else { continue };
            if !m.is_file() {
                continue;
            }
            let path = entry.path();
            let meta: Option<Meta> = std::fs::read_to_string(meta_path(&path))
                .ok()
                .and_then(|t| serde_json::from_str(&t).ok());
            let mtime = m
                .modified()
                .map(DateTime::<Utc>::from)
                .unwrap_or(DateTime::UNIX_EPOCH);
            out.push(BaseBackup {
                name,
                started: meta.as_ref().map(|m| m.started),
                ended: meta.as_ref().map_or(mtime, |m| m.ended),
                start_lsn: meta.as_ref().and_then(|m| Lsn::parse(&m.start_lsn)),
                end_lsn: meta.as_ref().and_then(|m| Lsn::parse(&m.end_lsn)),
                timeline: meta.as_ref().map(|m| m.timeline),
                bytes: m.len(),
                path,
            });
        }
        out.sort_by_key(|b| b.ended);
        Ok(out)
    }

    /// Takes a base backup now: `pg_basebackup -Ft -X fetch -c fast` of the database.
    pub async fn take_base_backup(
        &self,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<BaseBackup, PitrError> {
        let started = Utc::now();
        let name = self.binding.snapshot_file_name(&self.series, started);
        if !self.pattern.matches(&name) {
            return Err(self.setup(format!(
                "base backup file name {name:?} does not match the series' glob; set snapshot_name"
            )));
        }
        let file = self.dir.join(&name);
        if file.exists() {
            return Err(PitrError::Io {
                what: "already exists:",
                path: file,
                reason: "one base backup a second at most".to_string(),
            });
        }
        let work = self.dir.join(format!(".{name}.partial"));
        if work.exists() {
            std::fs::remove_dir_all(&work).map_err(io("cannot remove", &work))?;
        }
        let user = run_as(&self.dir);
        let program = find_tool("pg_basebackup", self.target.bin_dir.as_deref())
            .map_err(|e| tool_error("pg_basebackup", e))?;
        progress(format!(
            "pg_basebackup of {} ({}) into {}",
            self.db,
            self.target.shown(),
            file.display()
        ));
        let envs = password_env(&self.target).map_err(|e| self.setup(e))?;
        let out = run_as_user(
            user.as_ref(),
            &program,
            &[
                format!("--dbname={}", self.target.conninfo()),
                "-D".to_string(),
                work.display().to_string(),
                "-Ft".to_string(),
                "-X".to_string(),
                "fetch".to_string(),
                "-c".to_string(),
                "fast".to_string(),
                "-v".to_string(),
                "-l".to_string(),
                format!(
                    "warroom {} {}",
                    self.series,
                    started.format("%Y%m%dT%H%M%SZ")
                ),
            ],
            &envs,
            BASE_BACKUP_TIMEOUT,
        )
        .await?;
        let ended = Utc::now();
        if !out.success {
            let _ = std::fs::remove_dir_all(&work);
            return Err(tool_error(
                "pg_basebackup",
                format!("{}: {}", out.status, out.stderr_tail(3)),
            ));
        }
        let (start_lsn, timeline, end_lsn) =
            parse_basebackup_log(&out.stderr).ok_or_else(|| {
                tool_error(
                    "pg_basebackup",
                    "printed no WAL start and end points (-v)".to_string(),
                )
            })?;
        let tar = work.join("base.tar");
        std::fs::rename(&tar, &file).map_err(io("cannot move the base backup to", &file))?;
        let _ = std::fs::remove_dir_all(&work);
        let meta = Meta {
            label: format!("warroom {}", self.series),
            started,
            ended,
            start_lsn: start_lsn.to_string(),
            end_lsn: end_lsn.to_string(),
            timeline,
        };
        let mpath = meta_path(&file);
        if let Some(parent) = mpath.parent() {
            std::fs::create_dir_all(parent).map_err(io("cannot create", parent))?;
        }
        let text = serde_json::to_string_pretty(&meta).unwrap_or_default();
        std::fs::write(&mpath, text).map_err(io("cannot write", &mpath))?;
        let bytes = std::fs::metadata(&file).map(|m| m.len()).unwrap_or(0);
        progress(format!(
            "base backup {name}: {} in {:.1}s, WAL {start_lsn}..{end_lsn} on timeline {timeline}",
            crate::actions::postgres::human_bytes(bytes),
            (ended - started).num_milliseconds() as f64 / 1000.0
        ));
        Ok(BaseBackup {
            path: file,
            name,
            started: Some(started),
            ended,
            start_lsn: Some(start_lsn),
            end_lsn: Some(end_lsn),
            timeline: Some(timeline),
            bytes,
        })
    }

    /// Closes the current WAL segment on the server (`pg_switch_wal()`) and waits until the
    /// archive has it, so the archive reaches now. Best effort: a server that does not answer
    /// (or is a standby) is reported and skipped.
    pub async fn archive_current_wal(&self, progress: &(dyn Fn(String) + Send + Sync)) {
        let client = match self.target.connect().await {
            Ok(c) => c,
            Err(e) => {
                progress(format!(
                    "{} does not answer ({e}): the archive is used as it is",
                    self.db
                ));
                return;
            }
        };
        let row = client
            .query_one(
                "SELECT pg_walfile_name(pg_switch_wal()) WHERE NOT pg_is_in_recovery()",
                &[],
            )
            .await;
        let segment: String = match row {
            Ok(r) => r.try_get(0).unwrap_or_default(),
            Err(e) => {
                progress(format!(
                    "cannot switch WAL on {} ({}): the archive is used as it is",
                    self.db,
                    pg_error(&e)
                ));
                return;
            }
        };
        let Some(dir) = self.wal_archive.as_deref() else {
            return;
        };
        let deadline = Instant::now() + ARCHIVE_WAIT;
        while Instant::now() < deadline {
            if dir.join(&segment).is_file() {
                progress(format!(
                    "WAL switched on {}: segment {segment} archived",
                    self.db
                ));
                return;
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        progress(format!(
            "WAL segment {segment} of {} did not reach the archive within {}s",
            self.db,
            ARCHIVE_WAIT.as_secs()
        ));
    }

    /// The base backup a restore to `point` starts from, after checking the archive covers
    /// the replay: nothing is changed.
    pub fn plan(&self, point: DateTime<Utc>) -> Result<BaseBackup, PitrError> {
        let backups = self.base_backups()?;
        let scan = self.archive()?;
        choose_base(&self.db, point, &backups, &scan).cloned()
    }

    /// Restores the database to `point` (stops before the first commit at or after it).
    pub async fn restore(
        &self,
        point: DateTime<Utc>,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Restored, PitrError> {
        let started = Instant::now();
        let archive = self.archive_dir()?.to_path_buf();
        let old_port = self.target.port();
        let port = self.restore_port.unwrap_or(old_port);
        for (what, p) in [
            ("wal_archive", &archive),
            ("restore_dir", &self.restore_dir),
        ] {
            if p.display().to_string().contains(['\'', '\n', '\\']) {
                return Err(self.setup(format!(
                    "its {what} {} holds a quote, backslash or newline: it cannot be written into postgresql.conf",
                    p.display()
                )));
            }
        }
        if port == old_port {
            self.archive_current_wal(progress).await;
        }
        let base = self.plan(point)?;
        progress(format!(
            "base backup {} (ended {}), WAL from {} to {}",
            base.name,
            base.ended.format(TIME_FORMAT),
            archive.display(),
            point.format(TIME_FORMAT)
        ));
        let user = run_as(&self.dir);
        let owner = std::fs::metadata(&self.dir)
            .map(|m| (m.uid(), m.gid()))
            .map_err(io("cannot read", &self.dir))?;
        if !self.restore_dir.is_dir() {
            std::fs::create_dir_all(&self.restore_dir)
                .map_err(io("cannot create", &self.restore_dir))?;
            give(&self.restore_dir, owner, user.is_some())?;
        }
        let stamp = Utc::now().format("%Y%m%dT%H%M%SZ");
        let data = self.restore_dir.join(format!("{}-{stamp}", self.db));
        let log = self.restore_dir.join(format!("{}-{stamp}.log", self.db));
        std::fs::create_dir(&data).map_err(io("cannot create", &data))?;
        {
            use std::os::unix::fs::PermissionsExt;
            std::fs::set_permissions(&data, std::fs::Permissions::from_mode(0o700))
                .map_err(io("cannot set permissions on", &data))?;
        }
        give(&data, owner, user.is_some())?;
        progress(format!("unpacking {} into {}", base.name, data.display()));
        let out = run_as_user(
            user.as_ref(),
            Path::new("tar"),
            &[
                "-xf".to_string(),
                base.path.display().to_string(),
                "-C".to_string(),
                data.display().to_string(),
            ],
            &[],
            BASE_BACKUP_TIMEOUT,
        )
        .await?;
        if !out.success {
            return Err(tool_error(
                "tar",
                format!("{}: {}", out.status, out.stderr_tail(3)),
            ));
        }
        let signal = data.join("recovery.signal");
        std::fs::write(&signal, "").map_err(io("cannot write", &signal))?;
        give(&signal, owner, user.is_some())?;
        let conf = data.join("postgresql.conf");
        let settings = recovery_settings(&archive, point, port);
        append(&conf, &settings)?;
        let stopped_old = if port == old_port {
            self.stop_old(progress).await?
        } else {
            None
        };
        let pg_ctl = find_tool("pg_ctl", self.target.bin_dir.as_deref())
            .map_err(|e| tool_error("pg_ctl", e))?;
        progress(format!(
            "starting the restored server on port {port}: replaying WAL to {}",
            point.format(TIME_FORMAT)
        ));
        let out = run_as_user(
            user.as_ref(),
            &pg_ctl,
            &[
                "-D".to_string(),
                data.display().to_string(),
                "-l".to_string(),
                log.display().to_string(),
                "-w".to_string(),
                "-t".to_string(),
                RECOVERY_TIMEOUT.as_secs().to_string(),
                "start".to_string(),
            ],
            &[],
            RECOVERY_TIMEOUT + Duration::from_secs(10),
        )
        .await?;
        if !out.success {
            return Err(PitrError::Recovery {
                message: log_tail(&log).unwrap_or_else(|| out.stderr_tail(2)),
                data_dir: data,
                log,
            });
        }
        let restored = self.target.with_port(port);
        let reached = wait_promoted(&restored, &data, &log, started).await?;
        let reached = reached.or_else(|| last_completed_in_log(&log));
        Ok(Restored {
            db: self.db.clone(),
            base,
            target: point,
            reached,
            data_dir: data,
            port,
            log,
            stopped_old,
            secs: started.elapsed().as_secs_f64(),
        })
    }

    /// Stops the server on the database's port before the restored one takes it: by its
    /// `data_dir`; one still answering without a `data_dir` to stop it by is refused.
    async fn stop_old(
        &self,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Option<PathBuf>, PitrError> {
        match &self.target.data_dir {
            Some(dir) if postmaster_running(dir) => {
                progress(format!(
                    "stopping the old server of {} ({})",
                    self.db,
                    dir.display()
                ));
                let pg_ctl = find_tool("pg_ctl", self.target.bin_dir.as_deref())
                    .map_err(|e| tool_error("pg_ctl", e))?;
                let out = run_as_user(
                    run_as(dir).as_ref(),
                    &pg_ctl,
                    &[
                        "-D".to_string(),
                        dir.display().to_string(),
                        "-m".to_string(),
                        "fast".to_string(),
                        "-w".to_string(),
                        "-t".to_string(),
                        "60".to_string(),
                        "stop".to_string(),
                    ],
                    &[],
                    Duration::from_secs(70),
                )
                .await?;
                if out.success {
                    Ok(Some(dir.clone()))
                } else {
                    Err(tool_error(
                        "pg_ctl stop",
                        format!("{}: {}", out.status, out.stderr_tail(2)),
                    ))
                }
            }
            _ => {
                if self.target.connect().await.is_ok() {
                    Err(self.setup(format!(
                        "a server still answers on {} and there is no running data_dir to stop it by: stop it first, or set restore_port to start the restored server elsewhere",
                        self.target.shown()
                    )))
                } else {
                    Ok(None)
                }
            }
        }
    }
}

/// The newest base backup that ended before `point`, if the archive covers the replay from it.
pub fn choose_base<'a>(
    db: &str,
    point: DateTime<Utc>,
    backups: &'a [BaseBackup],
    scan: &ArchiveScan,
) -> Result<&'a BaseBackup, PitrError> {
    let base = backups
        .iter()
        .filter(|b| b.ended < point)
        .max_by_key(|b| b.ended)
        .ok_or_else(|| PitrError::NoBaseBackup {
            db: db.to_string(),
            point,
            oldest: backups.iter().map(|b| b.ended).min(),
        })?;
    let timeline = base.timeline.unwrap_or(1);
    scan.covers(timeline, first_needed(base, scan), point)?;
    Ok(base)
}

/// The first segment a replay from `base` reads from the archive: the one holding the end of
/// the WAL the backup holds itself; without a sidecar, the newest one archived before it ended.
pub fn first_needed(base: &BaseBackup, scan: &ArchiveScan) -> u64 {
    let timeline = base.timeline.unwrap_or(1);
    match base.end_lsn {
        Some(l) => scan.number_of(l),
        None => scan
            .of_timeline(timeline)
            .filter(|s| s.archived_at <= base.ended)
            .last()
            .map_or(0, |s| s.number),
    }
}

/// The settings appended to the restored server's `postgresql.conf`.
pub fn recovery_settings(archive: &Path, point: DateTime<Utc>, port: u16) -> String {
    format!(
        "\n# warroom: point-in-time recovery (db.restore)\n\
         restore_command = 'cp \"{archive}/%f\" \"%p\"'\n\
         recovery_target_time = '{time}'\n\
         recovery_target_inclusive = off\n\
         recovery_target_action = 'promote'\n\
         recovery_target_timeline = 'latest'\n\
         port = {port}\n",
        archive = archive.display(),
        time = point.format("%Y-%m-%d %H:%M:%S%.6f+00"),
    )
}

/// `write-ahead log start point: 0/2000028 on timeline 1` and `... end point: 0/2000100`.
pub fn parse_basebackup_log(text: &str) -> Option<(Lsn, u32, Lsn)> {
    let mut start = None;
    let mut end = None;
    for line in text.lines() {
        if let Some(rest) = line
            .split_once("write-ahead log start point: ")
            .map(|p| p.1)
        {
            let (lsn, tl) = rest.split_once(" on timeline ")?;
            start = Some((Lsn::parse(lsn)?, tl.trim().parse().ok()?));
        } else if let Some(rest) = line.split_once("write-ahead log end point: ").map(|p| p.1) {
            end = Lsn::parse(rest);
        }
    }
    let (s, tl) = start?;
    Some((s, tl, end?))
}

/// `LOG:  last completed transaction was at log time 2026-11-26 16:30:00.123456+00`.
fn last_completed_in_log(log: &Path) -> Option<DateTime<Utc>> {
    let text = std::fs::read_to_string(log).ok()?;
    text.lines().rev().find_map(|l| {
        let t = l
            .split_once("last completed transaction was at log time ")?
            .1;
        DateTime::parse_from_str(t.trim(), "%Y-%m-%d %H:%M:%S%.f%#z")
            .ok()
            .map(|d| d.with_timezone(&Utc))
    })
}

/// The last FATAL/PANIC/ERROR lines of a server log, for a message.
fn log_tail(log: &Path) -> Option<String> {
    let text = std::fs::read_to_string(log).ok()?;
    let bad: Vec<&str> = text
        .lines()
        .filter(|l| l.contains("FATAL:") || l.contains("PANIC:") || l.contains("ERROR:"))
        .collect();
    let tail = &bad[bad.len().saturating_sub(2)..];
    (!tail.is_empty()).then(|| crate::text::echo(&tail.join(" | ")))
}

/// Waits until the restored server has promoted; the commit time of its last replayed
/// transaction.
async fn wait_promoted(
    target: &PgTarget,
    data: &Path,
    log: &Path,
    started: Instant,
) -> Result<Option<DateTime<Utc>>, PitrError> {
    let failed = |message: String| PitrError::Recovery {
        data_dir: data.to_path_buf(),
        log: log.to_path_buf(),
        message,
    };
    let mut last = String::new();
    while started.elapsed() < RECOVERY_TIMEOUT {
        if !postmaster_running(data) {
            return Err(failed(
                log_tail(log).unwrap_or_else(|| "the server stopped".to_string()),
            ));
        }
        match target.connect().await {
            Ok(c) => match c
                .query_one(
                    "SELECT pg_is_in_recovery(), \
                     (EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()) * 1000000)::int8",
                    &[],
                )
                .await
            {
                Ok(row) => {
                    let recovering: bool = row.try_get(0).unwrap_or(true);
                    if !recovering {
                        let micros: Option<i64> = row.try_get(1).unwrap_or(None);
                        return Ok(micros.and_then(DateTime::from_timestamp_micros));
                    }
                    last = "still replaying".to_string();
                }
                Err(e) => last = pg_error(&e),
            },
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    Err(failed(format!(
        "not promoted within {}s ({last})",
        RECOVERY_TIMEOUT.as_secs()
    )))
}

/// Whether a data directory's `postmaster.pid` names a live process.
pub fn postmaster_running(dir: &Path) -> bool {
    std::fs::read_to_string(dir.join("postmaster.pid"))
        .ok()
        .and_then(|t| t.lines().next()?.trim().parse::<u32>().ok())
        .is_some_and(|pid| Path::new(&format!("/proc/{pid}")).exists())
}

fn tool_error(program: &str, message: String) -> PitrError {
    PitrError::Tool {
        program: program.to_string(),
        message,
    }
}

fn password_env(target: &PgTarget) -> Result<Vec<(&'static str, String)>, String> {
    Ok(target
        .password()?
        .map(|p| vec![("PGPASSWORD", p)])
        .unwrap_or_default())
}

/// The OS user owning `dir`, when this process runs as root and the owner is another user:
/// the server programs run as that user (PostgreSQL refuses root).
pub fn run_as(dir: &Path) -> Option<String> {
    if !nix::unistd::geteuid().is_root() {
        return None;
    }
    let uid = std::fs::metadata(dir).ok()?.uid();
    if uid == 0 {
        return None;
    }
    nix::unistd::User::from_uid(nix::unistd::Uid::from_raw(uid))
        .ok()
        .flatten()
        .map(|u| u.name)
}

/// Runs a program (as `user` through `runuser` when given), bounded by `timeout`.
async fn run_as_user(
    user: Option<&String>,
    program: &Path,
    args: &[String],
    envs: &[(&str, String)],
    timeout: Duration,
) -> Result<ToolOutput, PitrError> {
    let name = program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let result = match user {
        Some(u) => {
            let mut all = vec![
                "-u".to_string(),
                u.clone(),
                "--".to_string(),
                program.display().to_string(),
            ];
            all.extend(args.iter().cloned());
            run_tool(Path::new("runuser"), &all, envs, timeout).await
        }
        None => run_tool(program, args, envs, timeout).await,
    };
    result.map_err(|e| tool_error(&name, e))
}

/// Gives a path created by root to the backups' owner.
fn give(path: &Path, (uid, gid): (u32, u32), as_other: bool) -> Result<(), PitrError> {
    if as_other {
        std::os::unix::fs::chown(path, Some(uid), Some(gid)).map_err(io("cannot chown", path))?;
    }
    Ok(())
}

fn append(path: &Path, text: &str) -> Result<(), PitrError> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(io("cannot append to", path))
}

/// The segment number of a segment file name in `scan`'s geometry.
pub fn segment_number(scan: &ArchiveScan, name: &str) -> Option<u64> {
    parse_segment_name(name, scan.segment_bytes).map(|(_, n)| n)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::postgres::wal::{ArchivedSegment, find_gaps};

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("time")
            .with_timezone(&Utc)
    }

    fn scan(numbers: &[(u64, &str)]) -> ArchiveScan {
        let seg = 1u64 << 20;
        let segments: Vec<ArchivedSegment> = numbers
            .iter()
            .map(|(n, at)| ArchivedSegment {
                name: format!("{:08X}{:08X}{:08X}", 1, n / 4096, n % 4096),
                timeline: 1,
                number: *n,
                archived_at: t(at),
            })
            .collect();
        let gaps = find_gaps(&segments, seg);
        ArchiveScan {
            dir: PathBuf::from("/a"),
            segment_bytes: seg,
            segments,
            gaps,
        }
    }

    fn base(ended: &str, end_segment: u64) -> BaseBackup {
        BaseBackup {
            path: PathBuf::from(format!("/b/{ended}")),
            name: ended.to_string(),
            started: None,
            ended: t(ended),
            start_lsn: Some(Lsn(end_segment << 20)),
            end_lsn: Some(Lsn((end_segment << 20) + 100)),
            timeline: Some(1),
            bytes: 1,
        }
    }

    #[test]
    fn parses_pg_basebackup_verbose_output() {
        let text = "pg_basebackup: initiating base backup, waiting for checkpoint to complete\n\
                    pg_basebackup: checkpoint completed\n\
                    pg_basebackup: write-ahead log start point: 0/5000028 on timeline 1\n\
                    pg_basebackup: write-ahead log end point: 0/5000100\n\
                    pg_basebackup: base backup completed\n";
        assert_eq!(
            parse_basebackup_log(text),
            Some((Lsn(0x500_0028), 1, Lsn(0x500_0100)))
        );
        assert_eq!(parse_basebackup_log("nothing"), None);
    }

    #[test]
    fn chooses_the_newest_backup_before_the_point_and_refuses_a_gap() {
        let s = scan(&[
            (2, "2026-01-01T10:00:00Z"),
            (3, "2026-01-01T10:05:00Z"),
            // 4 and 5 missing: a gap from 10:05 to 10:20
            (6, "2026-01-01T10:20:00Z"),
            (7, "2026-01-01T10:25:00Z"),
        ]);
        assert_eq!(s.gaps.len(), 1);
        assert_eq!(s.gaps[0].missing, 2);
        assert_eq!(s.gaps[0].first_missing, "000000010000000000000004");
        let backups = vec![base("2026-01-01T09:59:00Z", 2)];
        // Before the gap: covered.
        let b = choose_base("db", t("2026-01-01T10:04:00Z"), &backups, &s).expect("covered");
        assert_eq!(b.name, "2026-01-01T09:59:00Z");
        // Inside the gap: refused, with the gap.
        let e = choose_base("db", t("2026-01-01T10:10:00Z"), &backups, &s).expect_err("gap");
        let text = e.to_string();
        assert!(
            text.contains("2 WAL segments 000000010000000000000004..000000010000000000000005"),
            "{text}"
        );
        assert!(
            text.contains("10:05:00.000") && text.contains("10:20:00.000"),
            "{text}"
        );
        // After the gap: a backup taken after it makes it reachable again.
        let mut later = backups.clone();
        later.push(base("2026-01-01T10:21:00Z", 7));
        let b = choose_base("db", t("2026-01-01T10:24:00Z"), &later, &s).expect("covered");
        assert_eq!(b.name, "2026-01-01T10:21:00Z");
        // Beyond the archive: refused with its end.
        let e = choose_base("db", t("2026-01-01T10:30:00Z"), &later, &s).expect_err("beyond");
        assert!(
            matches!(e, PitrError::Wal(WalError::NotArchivedYet { .. })),
            "{e}"
        );
        // Before every backup: refused with the oldest.
        let e = choose_base("db", t("2026-01-01T09:00:00Z"), &later, &s).expect_err("none");
        assert!(
            e.to_string()
                .contains("the oldest ended at 2026-01-01 09:59:00.000"),
            "{e}"
        );
    }

    #[test]
    fn recovery_settings_stop_before_the_point_and_promote() {
        let s = recovery_settings(Path::new("/lab/wal"), t("2026-01-01T10:20:59.5Z"), 5433);
        assert!(
            s.contains("restore_command = 'cp \"/lab/wal/%f\" \"%p\"'"),
            "{s}"
        );
        assert!(s.contains("recovery_target_time = '2026-01-01 10:20:59.500000+00'"));
        assert!(s.contains("recovery_target_inclusive = off"));
        assert!(s.contains("recovery_target_action = 'promote'"));
        assert!(s.contains("port = 5433"));
    }
}
