//! The driver's side of requests: every [`POLL`] the incident's `requests/` are listed; each new
//! object is read once, checked ([`super::request::check`]) and handed to the console, which
//! records it (the engine refuses replays) or records its refusal. Off the UI thread; every call
//! bounded like the mirror's.

use std::collections::{BTreeMap, BTreeSet};
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use super::request::{Checked, Refusal, Role, check, claimed_principal};
use super::sig::Roster;
use super::store::Store;
use super::{IncidentKeys, ShareUrl, incident_name};

/// How often the driver looks for requests.
pub const POLL: Duration = Duration::from_millis(500);
/// Most requests read per look (a flood waits its turn; the console stays responsive).
pub const PER_POLL: usize = 20;
/// Largest request object read; a larger one is refused unread.
pub const MAX_BYTES: usize = 64 * 1024;

/// A request found in the store, checked.
#[derive(Debug, Clone)]
pub struct Found {
    pub name: String,
    pub result: Result<Checked, Refusal>,
    pub principal: Option<String>,
}

/// The roster and roles requests are checked against (`None`: no roster configured, every
/// request is refused saying so).
#[derive(Debug, Clone, Default)]
pub struct Trust {
    pub roster: Option<Arc<Roster>>,
    pub roles: BTreeMap<String, Vec<Role>>,
}

pub async fn run(
    store: Arc<dyn Store>,
    url: ShareUrl,
    trust: Trust,
    mut journal: tokio::sync::watch::Receiver<Option<PathBuf>>,
    report: impl Fn(Found) -> bool + Send,
) {
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut incident: Option<String> = None;
    loop {
        let now = journal
            .borrow_and_update()
            .as_deref()
            .and_then(incident_name);
        if now != incident {
            incident = now;
            seen.clear();
        }
        if let Some(name) = &incident {
            let keys = IncidentKeys::new(&url, name);
            match store.list(keys.requests_dir(), None).await {
                Ok(found) => {
                    let fresh: Vec<String> = found
                        .into_iter()
                        .filter(|k| !seen.contains(k))
                        .take(PER_POLL)
                        .collect();
                    for key in fresh {
                        let Some(id) = key
                            .strip_prefix(&keys.requests_dir())
                            .and_then(|k| k.strip_suffix(".json"))
                            .map(str::to_string)
                        else {
                            seen.insert(key);
                            continue;
                        };
                        let bytes = match store.get(key.clone()).await {
                            Ok(Some(b)) => b,
                            Ok(None) => continue,
                            Err(e) => {
                                tracing::warn!("share: cannot read request {id}: {e}");
                                break;
                            }
                        };
                        seen.insert(key);
                        let result = match &trust.roster {
                            _ if bytes.len() > MAX_BYTES => Err(Refusal::Malformed(format!(
                                "{} bytes, more than a request may have ({MAX_BYTES})",
                                bytes.len()
                            ))),
                            Some(roster) => check(&id, &bytes, name, roster, &trust.roles),
                            None => Err(Refusal::Signature(super::sig::VerifyError::UnknownKey(
                                "(no roster: the environment's [share] names none)".into(),
                            ))),
                        };
                        let found = Found {
                            name: id,
                            principal: claimed_principal(&bytes),
                            result,
                        };
                        if !report(found) {
                            return;
                        }
                    }
                }
                Err(e) => tracing::warn!("share: cannot list requests: {e}"),
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(POLL) => {}
            changed = journal.changed() => if changed.is_err() { return },
        }
    }
}
