//! A directory of backup files (pg_dump archives, a WAL archive) as a telemetry source.
//!
//! Each poll lists the directory (on a blocking thread: a hung network mount must not stall the
//! runtime) and takes the newest file whose name matches the glob as the last attempt. A file
//! smaller than `min_size`, or (with `verify = true`) one that `pg_restore --list` rejects, is a
//! failed attempt; the newest earlier file that passes the size check is then the last success.
//! Verification runs once per new file (remembered by path, size and modification time).
//!
//! Files starting with `.` never match (`backup.snapshot` writes `.<name>.partial` and renames
//! it when complete, so a half-written dump is never taken for a backup).

use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime};

use chrono::{DateTime, Utc};

use super::source::{BoxFuture, Feeds, Source, SourceError};
use super::{AttemptOutcome, BackupReading, Sample};
use crate::duration::Dur;
use crate::env::postgres::{BackupDir, DEFAULT_DIR_POLL};
use crate::env::{BackupDef, Environment};

/// Longest a `pg_restore --list` of one file may take.
pub const LIST_TIMEOUT: Duration = Duration::from_secs(20);
/// Longest listing the directory may take.
pub const SCAN_TIMEOUT: Duration = Duration::from_secs(5);

/// One file of a backup series.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct BackupFile {
    pub path: PathBuf,
    pub size: u64,
    pub modified: SystemTime,
}

/// The options glob matching uses everywhere: `*` does not match a leading `.`.
pub fn match_options() -> glob::MatchOptions {
    glob::MatchOptions {
        case_sensitive: true,
        require_literal_separator: true,
        require_literal_leading_dot: true,
    }
}

/// Files in `dir` whose names match `pattern`, newest first.
pub fn scan(dir: &Path, pattern: &glob::Pattern) -> Result<Vec<BackupFile>, String> {
    let entries = std::fs::read_dir(dir)
        .map_err(|e| format!("cannot read backup directory {}: {e}", dir.display()))?;
    let options = match_options();
    let mut files = Vec::new();
    for entry in entries.flatten() {
        let name = entry.file_name();
        let Some(name) = name.to_str() else { continue };
        if !pattern.matches_with(name, options) {
            continue;
        }
        let Ok(meta) = entry.metadata() else { continue };
        if !meta.is_file() {
            continue;
        }
        files.push(BackupFile {
            path: entry.path(),
            size: meta.len(),
            modified: meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
        });
    }
    files.sort_by(|a, b| b.modified.cmp(&a.modified).then(b.path.cmp(&a.path)));
    Ok(files)
}

/// `pg_restore --list FILE`: Ok when it reads the archive's table of contents.
pub async fn list_archive(pg_restore: &Path, file: &Path) -> Result<usize, String> {
    let out = super::postgres::run_tool(
        pg_restore,
        &["--list".to_string(), file.display().to_string()],
        &[],
        LIST_TIMEOUT,
    )
    .await?;
    if out.success {
        Ok(out
            .stdout
            .lines()
            .filter(|l| !l.starts_with(';') && !l.trim().is_empty())
            .count())
    } else {
        Err(format!(
            "pg_restore --list {} failed ({}): {}",
            file.display(),
            out.status,
            out.stderr_tail(2)
        ))
    }
}

/// Watches one backup series' directory.
pub struct BackupDirSource {
    source_name: String,
    backup: String,
    kind: String,
    every: Dur,
    dir: PathBuf,
    pattern: glob::Pattern,
    verify: bool,
    min_size: u64,
    bin_dir: Option<PathBuf>,
    interval: Duration,
    /// Verification results by (path, size, mtime): each file is listed once.
    verified: HashMap<(PathBuf, u64, SystemTime), Result<(), String>>,
    /// The environment's name and the verification history (`backup.verify` restore tests,
    /// `verifications.jsonl`): the reading's "last verified".
    environment: String,
    history: Option<PathBuf>,
}

impl BackupDirSource {
    /// The source for `backup`, which must have a `dir` binding.
    pub fn new(backup: &BackupDef, env: &Environment) -> Result<Self, String> {
        let name = backup.name.get_ref().clone();
        let dir: &BackupDir = backup
            .dir
            .as_ref()
            .ok_or_else(|| format!("backup {name:?} has no dir binding"))?;
        let pattern = glob::Pattern::new(dir.glob.get_ref())
            .map_err(|e| format!("backup {name:?}: bad glob: {}", e.msg))?;
        // pg_restore matching the server the dumps come from, if the series names it.
        let bin_dir = dir
            .database
            .as_ref()
            .and_then(|d| env.database(d.get_ref()))
            .and_then(|d| d.postgres.as_ref())
            .and_then(|p| p.bin_dir.as_ref())
            .map(|b| crate::env::postgres::resolve(b, env.base_dir.as_deref()));
        Ok(BackupDirSource {
            source_name: format!("backups {name}"),
            backup: name,
            kind: backup.kind.clone(),
            every: backup.every,
            dir: dir.resolved_path(env.base_dir.as_deref()),
            pattern,
            verify: dir.verify,
            min_size: dir.min_size.unwrap_or(1),
            bin_dir,
            interval: dir
                .poll
                .unwrap_or(DEFAULT_DIR_POLL)
                .to_std()
                .max(Duration::from_millis(200)),
            verified: HashMap::new(),
            environment: env.name.clone(),
            history: crate::recovery::verified::default_path(),
        })
    }

    async fn verify_file(&mut self, f: &BackupFile) -> Result<(), String> {
        let key = (f.path.clone(), f.size, f.modified);
        if let Some(r) = self.verified.get(&key) {
            return r.clone();
        }
        let result = match super::postgres::find_tool("pg_restore", self.bin_dir.as_deref()) {
            Ok(tool) => list_archive(&tool, &f.path).await.map(|_| ()),
            Err(e) => Err(e),
        };
        if let Err(e) = &result {
            tracing::warn!(backup = %self.backup, error = %e, "backup file failed verification");
        }
        // Only the newest few files are ever verified; keep the memo small.
        if self.verified.len() > 16 {
            self.verified.clear();
        }
        self.verified.insert(key, result.clone());
        result
    }

    async fn read(&mut self) -> Result<BackupReading, SourceError> {
        let dir = self.dir.clone();
        let pattern = self.pattern.clone();
        let scanned = tokio::time::timeout(
            SCAN_TIMEOUT,
            tokio::task::spawn_blocking(move || scan(&dir, &pattern)),
        )
        .await
        .map_err(|_| SourceError::Failed {
            reason: super::FailureReason::timeout(SCAN_TIMEOUT),
            message: format!(
                "listing {} took more than {}s (a hung mount?)",
                self.dir.display(),
                SCAN_TIMEOUT.as_secs()
            ),
        })?
        .map_err(|e| SourceError::Crashed {
            message: e.to_string(),
        })?;
        let files = scanned.map_err(SourceError::failed)?;
        let now = SystemTime::now();
        let day = Duration::from_secs(24 * 3600);
        let recent = |f: &BackupFile| now.duration_since(f.modified).is_ok_and(|age| age <= day);
        let min_size = self.min_size;
        let big_enough = |f: &BackupFile| f.size >= min_size;

        let newest = files.first().cloned();
        let newest_ok = match &newest {
            None => None,
            Some(f) if !big_enough(f) => Some(false),
            Some(f) if self.verify => Some(self.verify_file(f).await.is_ok()),
            Some(_) => Some(true),
        };
        // The last success: the newest file if it passed, else the newest earlier one that is
        // big enough (older files are not re-verified).
        let success = match newest_ok {
            Some(true) => newest.clone(),
            _ => files.iter().skip(1).find(|f| big_enough(f)).cloned(),
        };
        let attempts_24h = files.iter().filter(|f| recent(f)).count();
        let failures_24h = files
            .iter()
            .enumerate()
            .filter(|(i, f)| recent(f) && (!big_enough(f) || (*i == 0 && newest_ok == Some(false))))
            .count();
        let time = |f: &BackupFile| DateTime::<Utc>::from(f.modified);
        Ok(BackupReading {
            name: self.backup.clone(),
            kind: self.kind.clone(),
            every: self.every,
            last_success: success.as_ref().map(time),
            last_good: success.as_ref().map(time),
            last_attempt: newest.as_ref().map(time),
            last_outcome: newest_ok.map(|ok| {
                if ok {
                    AttemptOutcome::Succeeded
                } else {
                    AttemptOutcome::Failed
                }
            }),
            attempts_24h: u32::try_from(attempts_24h).unwrap_or(u32::MAX),
            successes_24h: u32::try_from(attempts_24h - failures_24h).unwrap_or(u32::MAX),
            size_bytes: success.as_ref().map(|f| f.size),
            last_verified: self.history.as_deref().and_then(|path| {
                let all = crate::recovery::verified::load(path);
                crate::recovery::verified::last_of_series(&all, &self.environment, &self.backup)
                    .map(|v| crate::telemetry::VerifiedReading {
                        at: v.at,
                        ok: v.ok,
                        // The file verified, by its name: when it was taken.
                        backup: files
                            .iter()
                            .find(|f| f.path.file_name().is_some_and(|n| *n == *v.backup))
                            .map(time),
                    })
            }),
        })
    }
}

impl Source for BackupDirSource {
    fn name(&self) -> &str {
        &self.source_name
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
        SCAN_TIMEOUT + LIST_TIMEOUT + Duration::from_secs(1)
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move {
            let reading = self.read().await?;
            Ok(Sample {
                at: Utc::now(),
                backups: vec![reading],
                ..Sample::default()
            })
        })
    }
}
