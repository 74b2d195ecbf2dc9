//! Command of a shared incident: one lease object, `<incident>/lease.json`, that only the
//! driver holds. It is taken with a create-only put (or, once expired or handed over, with a
//! compare-and-swap on its ETag, `If-Match`) and renewed every [`RENEW`] the same way; it
//! expires [`TTL`] after its last renewal (a driver whose laptop died). Two drivers at once
//! cannot both hold it: the second compare-and-swap fails. `warroom join ... --take-command`
//! takes it when it expired or was handed over (`H` in the driver's console), rebuilds the
//! incident from the shared log and continues it.
//!
//! Clock skew: whether a lease expired is judged by the store's clock, not the taker's: the
//! lease object's age is the response's `Date` minus its `Last-Modified` (both written by the
//! store), and it expired when that age passed [`TTL`] plus [`LAST_MODIFIED_GRAIN`]. Only when
//! the store does not say both does the taker fall back to its own clock against the lease's
//! `expires_at`, with [`SKEW_MARGIN`] on top: a taker whose clock runs ahead (by up to the
//! margin) still does not take a live lease.

use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::store::{Store, StoreError};
use super::{IncidentKeys, ShareUrl, incident_name};

/// How long a lease holds after its last renewal.
pub const TTL: Duration = Duration::from_secs(15);
/// How often the driver renews it.
pub const RENEW: Duration = Duration::from_secs(5);

pub const FORMAT: &str = "warroom-lease";

/// `Last-Modified` has whole seconds: a lease's age by the store's clock may read up to this
/// much more than it is.
pub const LAST_MODIFIED_GRAIN: Duration = Duration::from_secs(1);
/// The margin added to `expires_at` when the store's clock is not available (the taker's and
/// the holder's clocks may differ by up to this much without a live lease being taken).
pub const SKEW_MARGIN: Duration = Duration::from_secs(30);

/// Whether the lease read in `object` (whose content is `lease`) expired: by the store's clock
/// when it says both times, else by the taker's `now` with [`SKEW_MARGIN`].
pub fn expired(lease: &Lease, object: &super::store::TaggedObject, now: DateTime<Utc>) -> bool {
    let delta = |d: Duration| chrono::TimeDelta::from_std(d).unwrap_or(chrono::TimeDelta::MAX);
    match object.age() {
        Some(age) => age > delta(TTL) + delta(LAST_MODIFIED_GRAIN),
        None => lease.expires_at + delta(SKEW_MARGIN) <= now,
    }
}

/// The lease object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Lease {
    pub format: String,
    /// Who drives (the operator).
    pub holder: String,
    pub host: String,
    pub pid: u32,
    /// `SHA256:...` of the driver's key, if it gave one.
    #[serde(default)]
    pub key: Option<String>,
    pub renewed_at: DateTime<Utc>,
    pub expires_at: DateTime<Utc>,
    /// The driver handed command over: anyone allowed may take it now.
    #[serde(default)]
    pub handover: bool,
}

/// Who asks for the lease.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Claimant {
    pub holder: String,
    pub host: String,
    pub pid: u32,
    pub key: Option<String>,
}

impl Claimant {
    fn lease(&self, now: DateTime<Utc>) -> Lease {
        Lease {
            format: FORMAT.into(),
            holder: self.holder.clone(),
            host: self.host.clone(),
            pid: self.pid,
            key: self.key.clone(),
            renewed_at: now,
            expires_at: now + chrono::TimeDelta::from_std(TTL).unwrap_or_default(),
            handover: false,
        }
    }
    fn is(&self, lease: &Lease) -> bool {
        lease.holder == self.holder && lease.host == self.host && lease.pid == self.pid
    }
}

/// Why the lease could not be taken or kept.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum LeaseError {
    #[error(
        "command is held by {holder} on {host} (pid {pid}) until {until} UTC; ask them to hand \
         over (H in their console), or take it once the lease expires"
    )]
    Held {
        holder: String,
        host: String,
        pid: u32,
        until: String,
    },
    #[error("another console took command first")]
    Lost,
    #[error("the lease object is not readable: {0}")]
    Unreadable(String),
    #[error(transparent)]
    Store(#[from] StoreError),
}

fn held(lease: &Lease) -> LeaseError {
    LeaseError::Held {
        holder: lease.holder.clone(),
        host: lease.host.clone(),
        pid: lease.pid,
        until: lease.expires_at.format("%H:%M:%S").to_string(),
    }
}

/// Takes the lease: when there is none, when it expired or was handed over, or when it is
/// the claimant's own. Returns its new ETag.
pub async fn acquire(
    store: &dyn Store,
    keys: &IncidentKeys,
    me: &Claimant,
    now: DateTime<Utc>,
) -> Result<String, LeaseError> {
    let key = keys.lease();
    let current = store.get_tagged(key.clone()).await?;
    let etag = match &current {
        None => None,
        Some(object) => {
            let lease: Lease = serde_json::from_slice(&object.bytes)
                .map_err(|e| LeaseError::Unreadable(crate::text::echo(&e.to_string())))?;
            if !(lease.handover || expired(&lease, object, now) || me.is(&lease)) {
                return Err(held(&lease));
            }
            Some(object.etag.clone())
        }
    };
    let body =
        serde_json::to_vec(&me.lease(now)).map_err(|e| LeaseError::Unreadable(e.to_string()))?;
    store.put_if(key, body, etag).await?.ok_or(LeaseError::Lost)
}

/// Renews (or, with `handover`, hands over) the lease held with `etag`; the new ETag.
pub async fn renew(
    store: &dyn Store,
    keys: &IncidentKeys,
    me: &Claimant,
    etag: &str,
    now: DateTime<Utc>,
    handover: bool,
) -> Result<String, LeaseError> {
    let mut lease = me.lease(now);
    lease.handover = handover;
    let body = serde_json::to_vec(&lease).map_err(|e| LeaseError::Unreadable(e.to_string()))?;
    store
        .put_if(keys.lease(), body, Some(etag.to_string()))
        .await?
        .ok_or(LeaseError::Lost)
}

/// What the console shows of its command.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Command {
    /// This console holds the lease.
    Holding,
    /// Another console holds it (this one waits for it, changing nothing in the store).
    HeldElsewhere(String),
    /// It was taken from this console: it must not act any more.
    Lost,
    /// This console handed command over.
    HandedOver,
    /// The store cannot be reached: the lease may expire.
    Unconfirmed(String),
}

/// What the console asks of the lease task.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Ask {
    HandOver,
}

/// The driver's lease task: takes the lease when the journal exists (or starts from `etag`,
/// taken before the console started), renews it every [`RENEW`], hands it over when asked.
pub async fn run(
    store: Arc<dyn Store>,
    url: ShareUrl,
    me: Claimant,
    mut etag: Option<String>,
    mut journal: tokio::sync::watch::Receiver<Option<PathBuf>>,
    mut asks: tokio::sync::mpsc::UnboundedReceiver<Ask>,
    report: impl Fn(Command) -> bool + Send,
) {
    let mut last: Option<Command> = None;
    let mut incident: Option<String> = None;
    loop {
        let name = journal
            .borrow_and_update()
            .as_deref()
            .and_then(incident_name);
        if name != incident {
            if incident.is_some() {
                etag = None;
            }
            incident = name;
        }
        if let Some(name) = &incident {
            let keys = IncidentKeys::new(&url, name);
            let now = Utc::now();
            let status = match &etag {
                Some(tag) => match renew(store.as_ref(), &keys, &me, tag, now, false).await {
                    Ok(new) => {
                        etag = Some(new);
                        Command::Holding
                    }
                    Err(LeaseError::Lost) => {
                        etag = None;
                        Command::Lost
                    }
                    Err(e) => Command::Unconfirmed(e.to_string()),
                },
                None if matches!(last, Some(Command::Lost | Command::HandedOver)) => {
                    last.clone().unwrap_or(Command::Lost)
                }
                None => match acquire(store.as_ref(), &keys, &me, now).await {
                    Ok(new) => {
                        etag = Some(new);
                        Command::Holding
                    }
                    Err(e @ LeaseError::Held { .. }) => Command::HeldElsewhere(e.to_string()),
                    Err(e) => Command::Unconfirmed(e.to_string()),
                },
            };
            if last.as_ref() != Some(&status) {
                last = Some(status.clone());
                if !report(status.clone()) {
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(RENEW) => {}
            changed = journal.changed() => if changed.is_err() { return },
            ask = asks.recv() => if let Some(Ask::HandOver) = ask {
                let status = handover_now(&etag, &store, &url, &incident, &me).await;
                let done = matches!(status, Command::HandedOver | Command::Lost);
                last = Some(status.clone());
                if !report(status) || done {
                    return;
                }
            },
        }
    }
}

async fn handover_now(
    etag: &Option<String>,
    store: &Arc<dyn Store>,
    url: &ShareUrl,
    incident: &Option<String>,
    me: &Claimant,
) -> Command {
    let (Some(tag), Some(name)) = (etag.as_ref(), incident) else {
        return Command::Unconfirmed(
            "this console does not hold command: nothing to hand over".into(),
        );
    };
    let keys = IncidentKeys::new(url, name);
    match renew(store.as_ref(), &keys, me, tag, Utc::now(), true).await {
        Ok(_) => Command::HandedOver,
        Err(LeaseError::Lost) => Command::Lost,
        Err(e) => Command::Unconfirmed(e.to_string()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::store::MemStore;

    fn me(pid: u32) -> Claimant {
        Claimant {
            holder: format!("op{pid}"),
            host: "h".into(),
            pid,
            key: None,
        }
    }

    #[test]
    fn one_holder_at_a_time_until_it_expires_or_is_handed_over() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt");
        let store = MemStore::new();
        let keys = IncidentKeys {
            base: "p/inc".into(),
        };
        let t0 = Utc::now();
        rt.block_on(async {
            let a = acquire(&store, &keys, &me(1), t0).await.expect("free");
            // Held: another claimant is refused, naming the holder.
            let refused = acquire(&store, &keys, &me(2), t0).await;
            assert!(matches!(refused, Err(LeaseError::Held { pid: 1, .. })));
            // Renewed by its holder; a renewal with a stale ETag is a lost lease.
            let a2 = renew(&store, &keys, &me(1), &a, t0, false)
                .await
                .expect("renew");
            assert_eq!(
                renew(&store, &keys, &me(1), &a, t0, false).await,
                Err(LeaseError::Lost)
            );
            // Expired (17 s without renewal by the store's clock): taken; its old holder's
            // renewal fails.
            store.advance(chrono::TimeDelta::seconds(17));
            let later = t0 + chrono::TimeDelta::seconds(17);
            let b = acquire(&store, &keys, &me(2), later)
                .await
                .expect("expired");
            assert_eq!(
                renew(&store, &keys, &me(1), &a2, later, false).await,
                Err(LeaseError::Lost)
            );
            // Handed over: taken at once.
            renew(&store, &keys, &me(2), &b, later, true)
                .await
                .expect("hand over");
            acquire(&store, &keys, &me(3), later)
                .await
                .expect("handed over");
            assert!(matches!(
                acquire(&store, &keys, &me(4), later).await,
                Err(LeaseError::Held { pid: 3, .. })
            ));
        });
    }

    #[test]
    fn a_taker_whose_clock_runs_ahead_does_not_take_a_live_lease() {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .expect("rt");
        let store = MemStore::new();
        let keys = IncidentKeys {
            base: "p/inc".into(),
        };
        let t0 = Utc::now();
        rt.block_on(async {
            let a = acquire(&store, &keys, &me(1), t0).await.expect("free");
            // The taker's clock is 10 minutes ahead: by its clock the lease expired long ago,
            // by the store's it was written just now.
            let ahead = t0 + chrono::TimeDelta::minutes(10);
            assert!(matches!(
                acquire(&store, &keys, &me(2), ahead).await,
                Err(LeaseError::Held { pid: 1, .. })
            ));
            // Renewed 14 s later by the store's clock: still live for a taker far ahead.
            store.advance(chrono::TimeDelta::seconds(14));
            let a = renew(&store, &keys, &me(1), &a, t0, false)
                .await
                .expect("renewed");
            store.advance(chrono::TimeDelta::seconds(15));
            assert!(matches!(
                acquire(&store, &keys, &me(2), ahead).await,
                Err(LeaseError::Held { pid: 1, .. })
            ));
            // A taker whose clock is behind takes it once the store says it expired.
            store.advance(chrono::TimeDelta::seconds(2));
            let behind = t0 - chrono::TimeDelta::minutes(10);
            acquire(&store, &keys, &me(2), behind)
                .await
                .expect("expired by the store's clock");
            assert_eq!(
                renew(&store, &keys, &me(1), &a, t0, false).await,
                Err(LeaseError::Lost)
            );
        });
    }

    #[test]
    fn without_the_stores_clock_the_takers_clock_has_a_stated_margin() {
        let t0 = Utc::now();
        let lease = me(1).lease(t0);
        let object = crate::share::store::TaggedObject {
            bytes: Vec::new(),
            etag: "\"1\"".into(),
            last_modified: None,
            served_at: None,
        };
        let ttl = chrono::TimeDelta::from_std(TTL).expect("ttl");
        let margin = chrono::TimeDelta::from_std(SKEW_MARGIN).expect("margin");
        // Ahead by less than the margin: live; past expiry plus the margin: expired.
        assert!(!expired(
            &lease,
            &object,
            t0 + ttl + margin - chrono::TimeDelta::seconds(1)
        ));
        assert!(expired(&lease, &object, t0 + ttl + margin));
        // With the store's clock, the taker's clock does not matter.
        let dated = crate::share::store::TaggedObject {
            last_modified: Some(t0),
            served_at: Some(t0 + chrono::TimeDelta::seconds(3)),
            ..object
        };
        assert!(!expired(&lease, &dated, t0 + chrono::TimeDelta::days(1)));
        let old = crate::share::store::TaggedObject {
            served_at: Some(t0 + ttl + chrono::TimeDelta::seconds(2)),
            ..dated
        };
        assert!(expired(&lease, &old, t0 - chrono::TimeDelta::days(1)));
    }
}
