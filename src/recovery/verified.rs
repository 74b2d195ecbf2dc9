//! Verification history: every `backup.verify` (a restore test: row counts and checksums
//! against the backup's manifest) is appended to a small state file beside the journals,
//! `$XDG_STATE_HOME/warroom/verifications.jsonl`, one JSON object a line, so "last verified"
//! can be shown for each backup (the restore-points list, `status`, the Backups pane).
//!
//! A line that does not decode is skipped (the file is a convenience, not the record: the
//! journal records each verification as the step's output).

use std::io::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

/// The file's name in the state directory.
pub const FILE: &str = "verifications.jsonl";
/// Lines read at most (the newest are at the end).
const MAX_LINES: usize = 10_000;

/// One verification of one backup.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Verification {
    /// The environment's name.
    pub environment: String,
    /// The backup series' logical name.
    pub series: String,
    /// The backup verified (its file name, or the simulator's / AWS's identifier).
    pub backup: String,
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// What was compared, or why it failed (one line).
    pub detail: String,
}

/// `$XDG_STATE_HOME/warroom/verifications.jsonl` (beside `incidents/`).
pub fn default_path() -> Option<PathBuf> {
    let dir = crate::journal::default_dir().ok()?;
    Some(dir.parent()?.join(FILE))
}

/// Appends one verification; errors say which file.
pub fn record(path: &Path, v: &Verification) -> Result<(), std::io::Error> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    let mut line = serde_json::to_string(v).map_err(std::io::Error::other)?;
    line.push('\n');
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .open(path)?;
    // One write per line: concurrent writers append whole lines.
    f.write_all(line.as_bytes())?;
    f.sync_data()
}

/// Every verification in the file, oldest first (an absent file: none).
pub fn load(path: &Path) -> Vec<Verification> {
    let Ok(text) = std::fs::read_to_string(path) else {
        return Vec::new();
    };
    let lines: Vec<&str> = text.lines().collect();
    lines[lines.len().saturating_sub(MAX_LINES)..]
        .iter()
        .filter_map(|l| serde_json::from_str(l).ok())
        .collect()
}

/// The newest verification of `backup` in `series` of `environment`.
pub fn last<'a>(
    all: &'a [Verification],
    environment: &str,
    series: &str,
    backup: &str,
) -> Option<&'a Verification> {
    all.iter()
        .rev()
        .find(|v| v.environment == environment && v.series == series && v.backup == backup)
}

/// The newest verification of any backup of `series`.
pub fn last_of_series<'a>(
    all: &'a [Verification],
    environment: &str,
    series: &str,
) -> Option<&'a Verification> {
    all.iter()
        .rev()
        .find(|v| v.environment == environment && v.series == series)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn records_and_finds_the_newest_of_each_backup() {
        let dir = std::env::temp_dir().join(format!("wr-verified-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        let path = dir.join(FILE);
        let at = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("t")
                .with_timezone(&Utc)
        };
        let v = |backup: &str, t: &str, ok: bool| Verification {
            environment: "lab".into(),
            series: "daily".into(),
            backup: backup.into(),
            at: at(t),
            ok,
            detail: String::new(),
        };
        assert!(load(&path).is_empty());
        record(&path, &v("a.dump", "2026-01-01T10:00:00Z", true)).expect("write");
        record(&path, &v("a.dump", "2026-01-01T11:00:00Z", false)).expect("write");
        record(&path, &v("b.dump", "2026-01-01T12:00:00Z", true)).expect("write");
        std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .and_then(|mut f| f.write_all(b"not json\n"))
            .expect("junk");
        let all = load(&path);
        assert_eq!(all.len(), 3);
        let a = last(&all, "lab", "daily", "a.dump").expect("a");
        assert!(!a.ok);
        assert_eq!(a.at, at("2026-01-01T11:00:00Z"));
        assert_eq!(
            last_of_series(&all, "lab", "daily").map(|v| v.backup.as_str()),
            Some("b.dump")
        );
        assert!(last(&all, "other", "daily", "a.dump").is_none());
        let _ = std::fs::remove_dir_all(&dir);
    }
}
