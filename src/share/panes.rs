//! The driver's panes for those who joined without the environment's credentials: the merged
//! picture (every pane's readings) put at `<incident>/panes.json` at most every [`EVERY`],
//! overwriting the last. Not part of the log: the journal records decisions and their evidence,
//! not every reading.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::Store;
use super::{IncidentKeys, ShareUrl, incident_name};
use crate::telemetry::Sample;

/// Longest and shortest time between two snapshots.
pub const EVERY: Duration = Duration::from_secs(5);

pub const FORMAT: &str = "warroom-panes";

/// The name of a joiner's one source: the driver's snapshot.
pub const SOURCE: &str = "shared panes";

/// What `panes.json` holds.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Snapshot {
    pub format: String,
    /// The driver's session time of the picture.
    pub at: DateTime<Utc>,
    /// The merged picture the driver's panes show.
    pub picture: Sample,
}

impl Snapshot {
    pub fn new(at: DateTime<Utc>, picture: Sample) -> Self {
        Snapshot {
            format: FORMAT.into(),
            at,
            picture,
        }
    }
}

/// The driver's publisher: puts the newest snapshot, at most every [`EVERY`].
pub async fn publish(
    store: Arc<dyn Store>,
    url: ShareUrl,
    journal: tokio::sync::watch::Receiver<Option<PathBuf>>,
    mut snapshots: tokio::sync::watch::Receiver<Option<Snapshot>>,
) {
    loop {
        if snapshots.changed().await.is_err() {
            return;
        }
        let snapshot = snapshots.borrow_and_update().clone();
        let name = journal.borrow().as_deref().and_then(incident_name);
        if let (Some(snapshot), Some(name)) = (snapshot, name)
            && let Ok(body) = serde_json::to_vec(&snapshot)
            && let Err(e) = store
                .put(IncidentKeys::new(&url, &name).panes(), body)
                .await
        {
            tracing::warn!("share: panes snapshot not put: {e}");
        }
        tokio::time::sleep(EVERY).await;
    }
}

/// A joiner's read of the snapshot (`None`: none yet, or unreadable).
pub async fn fetch(store: &dyn Store, keys: &IncidentKeys) -> Option<Snapshot> {
    let bytes = store.get(keys.panes()).await.ok()??;
    serde_json::from_slice(&bytes).ok()
}
