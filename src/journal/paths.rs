//! Where journals live and what they are called.

use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};

use super::error::{JournalError, Op};
use super::format::Mode;

/// `$XDG_STATE_HOME/warroom/incidents`, else `~/.local/state/warroom/incidents`.
pub fn default_dir() -> Result<PathBuf, JournalError> {
    dir_from(
        std::env::var_os("XDG_STATE_HOME").map(PathBuf::from),
        std::env::var_os("HOME").map(PathBuf::from),
    )
}

fn dir_from(xdg_state: Option<PathBuf>, home: Option<PathBuf>) -> Result<PathBuf, JournalError> {
    let state = xdg_state
        .filter(|p| p.is_absolute())
        .or_else(|| {
            home.filter(|h| !h.as_os_str().is_empty())
                .map(|h| h.join(".local/state"))
        })
        .ok_or(JournalError::NoStateDir)?;
    Ok(state.join("warroom").join("incidents"))
}

/// A fresh journal path in `dir`: `2026-11-22T0312Z-region-loss-drill.jsonl`, with `-2`, `-3`,
/// ... before `.jsonl` when the name is taken. [`Journal::create`](super::Journal::create) still
/// refuses to overwrite, should another process take the name first.
pub fn new_path(dir: &Path, playbook_id: &str, mode: Mode, now: DateTime<Utc>) -> PathBuf {
    let id: String = playbook_id
        .chars()
        .map(|c| {
            if c.is_ascii_alphanumeric() || c == '-' || c == '_' {
                c
            } else {
                '_'
            }
        })
        .collect();
    let stem = format!("{}-{id}-{mode}", now.format("%Y-%m-%dT%H%MZ"));
    let mut path = dir.join(format!("{stem}.jsonl"));
    let mut n = 2;
    while path.exists() {
        path = dir.join(format!("{stem}-{n}.jsonl"));
        n += 1;
    }
    path
}

/// The journals (`*.jsonl`) in `dir`, sorted by name (names start with the creation time). Lock
/// sidecars (`*.jsonl.lock`) and other files are not journals.
pub fn list(dir: &Path) -> Result<Vec<PathBuf>, JournalError> {
    let entries = std::fs::read_dir(dir).map_err(|source| JournalError::Io {
        path: dir.to_path_buf(),
        op: Op::Read,
        source,
    })?;
    let mut paths: Vec<PathBuf> = entries
        .filter_map(Result::ok)
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "jsonl") && p.is_file())
        .collect();
    paths.sort();
    Ok(paths)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn default_dir_prefers_xdg_state_home() {
        let d = dir_from(Some("/state".into()), Some("/home/a".into())).expect("dir");
        assert_eq!(d, PathBuf::from("/state/warroom/incidents"));
        let d = dir_from(None, Some("/home/a".into())).expect("dir");
        assert_eq!(d, PathBuf::from("/home/a/.local/state/warroom/incidents"));
        // The XDG spec says a relative value is invalid and must be ignored.
        let d = dir_from(Some("rel".into()), Some("/home/a".into())).expect("dir");
        assert_eq!(d, PathBuf::from("/home/a/.local/state/warroom/incidents"));
        assert!(matches!(
            dir_from(None, None),
            Err(JournalError::NoStateDir)
        ));
    }

    #[test]
    fn new_paths_are_unique() {
        let dir = std::env::temp_dir().join(format!("warroom-paths-{}", std::process::id()));
        std::fs::create_dir_all(&dir).expect("dir");
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 3, 12, 59)
            .single()
            .expect("valid");
        let p = new_path(&dir, "region-loss", Mode::Drill, now);
        assert_eq!(
            p.file_name().and_then(|n| n.to_str()),
            Some("2026-11-22T0312Z-region-loss-drill.jsonl")
        );
        std::fs::write(&p, "x").expect("write");
        let q = new_path(&dir, "region-loss", Mode::Drill, now);
        assert_eq!(
            q.file_name().and_then(|n| n.to_str()),
            Some("2026-11-22T0312Z-region-loss-drill-2.jsonl")
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
