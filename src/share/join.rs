//! Joining a shared incident from another machine: the shared log read back, in order, into a
//! local copy that the follower machinery (`journal::Tail`) reads like any journal: the hash
//! chain is checked on the way in, so a log altered in the store is refused like a local one.
//! The copy is a cache (`$XDG_STATE_HOME/warroom/joined/<incident>.jsonl`), never a journal of
//! record: nothing but the driver writes the incident's journal.

use std::io::Write;
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::store::{Store, StoreError};
use super::{IncidentKeys, ShareUrl};

/// How often a joiner asks the store for new events (the view lags the driver by at most this
/// plus the driver's mirror poll and the follower's 200 ms).
pub const POLL: Duration = Duration::from_millis(500);

/// One incident in the store, as `warroom join s3://...` lists it.
#[derive(Debug, Clone, PartialEq)]
pub struct Listed {
    pub incident: String,
    pub title: String,
    pub mode: String,
    pub operator: String,
    pub started_at: String,
    /// Events in the shared log.
    pub events: u64,
    /// The last event's kind (`resolved`, `aborted`: over).
    pub last_kind: Option<String>,
}

impl Listed {
    pub fn open(&self) -> bool {
        !matches!(self.last_kind.as_deref(), Some("resolved" | "aborted"))
    }
}

#[derive(Deserialize)]
struct HeaderPeek {
    playbook: PlaybookPeek,
    mode: String,
    operator: String,
    started_at: String,
}
#[derive(Deserialize)]
struct PlaybookPeek {
    title: String,
}
#[derive(Deserialize)]
struct KindPeek {
    kind: String,
}

/// Whether `url` names an incident (its header is there).
pub async fn is_incident(store: &dyn Store, url: &ShareUrl) -> Result<bool, StoreError> {
    let keys = IncidentKeys {
        base: url.prefix.clone(),
    };
    Ok(!url.prefix.is_empty() && store.get(keys.header()).await?.is_some())
}

/// Every incident under `url`, newest first.
pub async fn list(store: &dyn Store, url: &ShareUrl) -> Result<Vec<Listed>, StoreError> {
    let dir = if url.prefix.is_empty() {
        String::new()
    } else {
        format!("{}/", url.prefix)
    };
    let mut out = Vec::new();
    for incident in store.list_dirs(dir).await? {
        let keys = IncidentKeys::new(url, &incident);
        let Some(header) = store.get(keys.header()).await? else {
            continue;
        };
        let Ok(h) = serde_json::from_slice::<HeaderPeek>(&header) else {
            continue;
        };
        let events = store.list(keys.events_dir(), None).await?;
        let last_kind = match events.last() {
            Some(k) => store
                .get(k.clone())
                .await?
                .and_then(|b| serde_json::from_slice::<KindPeek>(&b).ok())
                .map(|k| k.kind),
            None => None,
        };
        out.push(Listed {
            incident,
            title: h.playbook.title,
            mode: h.mode,
            operator: h.operator,
            started_at: h.started_at,
            events: events.len() as u64,
            last_kind,
        });
    }
    out.sort_by(|a, b| b.started_at.cmp(&a.started_at));
    Ok(out)
}

/// Why the local copy could not be made or extended.
#[derive(Debug, thiserror::Error)]
pub enum SyncError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("{0}: no such incident in the shared log (no header.json)")]
    NoIncident(String),
    #[error("{path}: cannot write the local copy: {why}")]
    Local { path: PathBuf, why: String },
}

/// The local copy of an incident's shared log.
pub struct Copy {
    store: Arc<dyn Store>,
    keys: IncidentKeys,
    path: PathBuf,
    /// The last event in the copy.
    pub last_seq: u64,
}

impl Copy {
    /// Creates the copy at `path` (replacing an older copy) with the header and every event.
    pub async fn create(
        store: Arc<dyn Store>,
        url: &ShareUrl,
        path: &Path,
    ) -> Result<Self, SyncError> {
        let keys = IncidentKeys {
            base: url.prefix.clone(),
        };
        let header = store
            .get(keys.header())
            .await?
            .ok_or_else(|| SyncError::NoIncident(url.to_string()))?;
        let local = |e: std::io::Error| SyncError::Local {
            path: path.to_path_buf(),
            why: e.to_string(),
        };
        let mut file = {
            use std::os::unix::fs::OpenOptionsExt;
            std::fs::OpenOptions::new()
                .write(true)
                .create(true)
                .truncate(true)
                .mode(0o600)
                .open(path)
                .map_err(local)?
        };
        file.write_all(&header).map_err(local)?;
        file.write_all(b"\n").map_err(local)?;
        let mut copy = Copy {
            store,
            keys,
            path: path.to_path_buf(),
            last_seq: 0,
        };
        copy.pull().await?;
        Ok(copy)
    }

    /// The same copy, read through another store handle (another runtime's).
    pub fn rebind(self, store: Arc<dyn Store>) -> Self {
        Copy { store, ..self }
    }

    pub fn path(&self) -> &Path {
        &self.path
    }

    /// Appends the events the store gained, in order; stops at a gap. Returns how many.
    pub async fn pull(&mut self) -> Result<usize, SyncError> {
        let after = (self.last_seq > 0).then(|| self.keys.event(self.last_seq));
        let found = self.store.list(self.keys.events_dir(), after).await?;
        let mut lines = Vec::new();
        let mut next = self.last_seq + 1;
        for key in found {
            if self.keys.seq_of(&key) != Some(next) {
                break;
            }
            let Some(bytes) = self.store.get(key).await? else {
                break;
            };
            lines.extend_from_slice(&bytes);
            lines.push(b'\n');
            next += 1;
        }
        let added = usize::try_from(next - 1 - self.last_seq).unwrap_or(usize::MAX);
        if !lines.is_empty() {
            let mut file = std::fs::OpenOptions::new()
                .append(true)
                .open(&self.path)
                .map_err(|e| SyncError::Local {
                    path: self.path.clone(),
                    why: e.to_string(),
                })?;
            // One write: the follower never sees half an event... unless it is cut short,
            // which the follower keeps as a partial line until the rest arrives.
            file.write_all(&lines).map_err(|e| SyncError::Local {
                path: self.path.clone(),
                why: e.to_string(),
            })?;
            self.last_seq = next - 1;
        }
        Ok(added)
    }
}

/// How a joiner's view stands, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ViewStatus {
    /// Wall clock of the last successful pull.
    pub synced_at: chrono::DateTime<chrono::Utc>,
    /// Whole seconds since then, when reported.
    pub age_secs: u64,
    pub error: Option<String>,
}

/// Keeps the copy up to date every [`POLL`]; reports each pull's outcome (`report` returning
/// false ends the task).
pub async fn run(
    mut copy: Copy,
    report: impl Fn(ViewStatus) -> bool + Send,
    panes: impl Fn(super::panes::Snapshot) -> bool + Send,
) {
    let mut synced_at = chrono::Utc::now();
    let mut last: Option<(u64, Option<String>)> = None;
    let mut panes_at: Option<std::time::Instant> = None;
    let mut last_panes: Option<super::panes::Snapshot> = None;
    loop {
        // The driver's panes snapshot, as often as the driver puts it.
        if panes_at.is_none_or(|t| t.elapsed() >= super::panes::EVERY) {
            panes_at = Some(std::time::Instant::now());
            if let Some(snapshot) = super::panes::fetch(copy.store.as_ref(), &copy.keys).await
                && last_panes.as_ref() != Some(&snapshot)
            {
                last_panes = Some(snapshot.clone());
                if !panes(snapshot) {
                    return;
                }
            }
        }
        let error = match copy.pull().await {
            Ok(_) => {
                synced_at = chrono::Utc::now();
                None
            }
            Err(e) => Some(e.to_string()),
        };
        let age_secs = u64::try_from((chrono::Utc::now() - synced_at).num_seconds()).unwrap_or(0);
        let now = (age_secs, error.clone());
        if last.as_ref() != Some(&now) {
            last = Some(now);
            if !report(ViewStatus {
                synced_at,
                age_secs,
                error,
            }) {
                return;
            }
        }
        tokio::time::sleep(POLL).await;
    }
}
