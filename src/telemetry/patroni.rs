//! A Patroni member's REST API as a database reading: `GET /patroni` (the member's own role,
//! state, timeline, the cluster's pause flag, and on a replica its WAL positions and the last
//! replayed transaction's time) and `GET /cluster` (every member's lag in bytes).
//!
//! # Lag in time
//!
//! Patroni's `/cluster` gives a replica's lag in bytes only (`lag`, `replay_lag`: the leader's
//! WAL position minus the member's, from the DCS, refreshed every `loop_wait`). The time comes
//! from the replica's own `GET /patroni`, which Patroni answers with a live query: `xlog`'s
//! `received_location`, `replayed_location` and `replayed_timestamp`
//! (`pg_last_xact_replay_timestamp()`). The lag is the PostgreSQL source's standby view, over
//! the REST API: 0 while streaming with everything received replayed (on an idle leader the
//! last transaction gets old without the replica being behind), else the age of the last
//! replayed transaction (the reading's time minus `replayed_timestamp`); unknown when no
//! transaction was replayed yet. REST rather than SQL: the binding has only the API's URL (no
//! database credentials), and the answer is live, unlike `/cluster`'s. The age is taken on
//! warroom's clock: a clock skew between this host and the member's adds to it (NTP keeps it
//! to milliseconds; a `lag_under` bound is seconds).

use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::Deserialize;

use super::source::{BoxFuture, Feeds, Source, SourceError};
use super::{DatabaseReading, DbRole, DbState, Replication, ReplicationState, Sample};
use crate::env::{DatabaseDef, Environment};

/// How often a member is read.
pub const PATRONI_INTERVAL: Duration = Duration::from_secs(2);

/// `GET /patroni`: what the member says about itself.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct MemberStatus {
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub timeline: Option<u64>,
    #[serde(default)]
    pub replication_state: Option<String>,
    /// The cluster is in maintenance mode: automatic failover is off.
    #[serde(default)]
    pub pause: bool,
    #[serde(default)]
    pub patroni: Option<PatroniInfo>,
    /// WAL positions: on a replica, received and replayed, and the last replayed transaction.
    #[serde(default)]
    pub xlog: Option<Xlog>,
}

/// `GET /patroni`'s `xlog` on a replica (a leader has `location` only).
#[derive(Debug, Clone, Deserialize, PartialEq, Eq, Default)]
pub struct Xlog {
    #[serde(default)]
    pub received_location: Option<u64>,
    #[serde(default)]
    pub replayed_location: Option<u64>,
    /// `pg_last_xact_replay_timestamp()`, as Patroni writes it (`2026-11-26 19:10:00.123+00:00`).
    #[serde(default)]
    pub replayed_timestamp: Option<String>,
}

/// A timestamp as Patroni writes it: Python's `str(datetime)` (a space before the time) or
/// RFC 3339.
fn patroni_time(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .or_else(|_| DateTime::parse_from_str(text, "%Y-%m-%d %H:%M:%S%.f%:z"))
        .ok()
        .map(|t| t.with_timezone(&Utc))
}

/// A replica's replay lag in seconds at `now` (see the module's "Lag in time").
pub fn lag_secs(me: &MemberStatus, now: DateTime<Utc>) -> Option<f64> {
    let xlog = me.xlog.as_ref()?;
    let streaming = me.replication_state.as_deref() == Some("streaming");
    if streaming
        && xlog.received_location.is_some()
        && xlog.received_location == xlog.replayed_location
    {
        return Some(0.0);
    }
    let replayed = patroni_time(xlog.replayed_timestamp.as_deref()?)?;
    Some(((now - replayed).num_milliseconds() as f64 / 1000.0).max(0.0))
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct PatroniInfo {
    #[serde(default)]
    pub name: String,
    #[serde(default)]
    pub scope: String,
}

/// `GET /cluster`: every member, with its lag.
#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ClusterStatus {
    #[serde(default)]
    pub members: Vec<ClusterMember>,
    #[serde(default)]
    pub pause: bool,
}

#[derive(Debug, Clone, Deserialize, PartialEq, Eq)]
pub struct ClusterMember {
    pub name: String,
    #[serde(default)]
    pub role: String,
    #[serde(default)]
    pub state: String,
    #[serde(default)]
    pub timeline: Option<u64>,
    /// Bytes behind the leader; Patroni writes `"unknown"` when it cannot tell.
    #[serde(default)]
    pub lag: Option<serde_json::Value>,
}

impl ClusterMember {
    pub fn lag_bytes(&self) -> Option<u64> {
        self.lag.as_ref().and_then(serde_json::Value::as_u64)
    }
}

/// The role Patroni gives a member, in warroom's words.
pub fn role_of(role: &str) -> DbRole {
    match role {
        "leader" | "master" | "primary" | "standby_leader" => DbRole::Primary,
        "replica" | "sync_standby" | "quorum_standby" => DbRole::Replica,
        _ => DbRole::Unknown,
    }
}

/// The member's state, in warroom's words.
pub fn state_of(state: &str) -> DbState {
    match state {
        "running" | "streaming" | "in archive recovery" => DbState::Available,
        "starting" | "restarting" | "promoting" => DbState::Promoting,
        "stopped" | "stopping" => DbState::Stopped,
        _ => DbState::Unreachable,
    }
}

/// GETs `url`'s JSON, bounded by the client's timeout.
pub async fn get_json<T: serde::de::DeserializeOwned>(
    client: &reqwest::Client,
    url: &str,
) -> Result<T, String> {
    let resp = client
        .get(url)
        .send()
        .await
        .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
    let status = resp.status();
    // Patroni answers /patroni with 503 on a replica or a stopped member, with the same body.
    let body = resp
        .text()
        .await
        .map_err(|e| format!("GET {url}: {}", e.without_url()))?;
    serde_json::from_str(&body).map_err(|e| {
        format!(
            "GET {url}: HTTP {status}, not Patroni's JSON ({e}): {}",
            crate::text::echo(&body)
        )
    })
}

/// One database bound to a Patroni member.
pub struct PatroniSource {
    db: String,
    label: String,
    region: String,
    url: String,
    replica_of: Option<String>,
    lag_alarm: crate::duration::Dur,
    client: reqwest::Client,
}

impl PatroniSource {
    pub fn new(db: &DatabaseDef, _env: &Environment) -> Result<Self, String> {
        let binding = db
            .patroni
            .as_ref()
            .ok_or_else(|| format!("database {:?} has no patroni binding", db.name.get_ref()))?;
        Ok(PatroniSource {
            db: db.name.get_ref().clone(),
            label: format!("patroni {}", db.name.get_ref()),
            region: db.region.get_ref().clone(),
            url: binding.get_ref().url.trim_end_matches('/').to_string(),
            replica_of: db.replica_of.as_ref().map(|r| r.get_ref().clone()),
            lag_alarm: db.lag_alarm,
            client: super::http::client()?,
        })
    }

    async fn read(&self) -> Result<Sample, String> {
        let me: MemberStatus = get_json(&self.client, &format!("{}/patroni", self.url)).await?;
        let cluster: ClusterStatus =
            get_json(&self.client, &format!("{}/cluster", self.url)).await?;
        let at = Utc::now();
        Ok(Sample {
            at,
            databases: vec![reading(
                &self.db,
                &self.region,
                self.replica_of.as_deref(),
                self.lag_alarm,
                &me,
                &cluster,
                at,
            )],
            ..Sample::default()
        })
    }
}

/// The database reading of one member: its role and state; the member name, timeline and the
/// cluster's pause state in `resource` (`node1 · timeline 2 · AUTO-FAILOVER PAUSED`) and in
/// `failover_paused`; a replica's lag in bytes from `/cluster` and in time from its own
/// `/patroni` at `now` ([`lag_secs`]).
pub fn reading(
    name: &str,
    region: &str,
    replica_of: Option<&str>,
    lag_alarm: crate::duration::Dur,
    me: &MemberStatus,
    cluster: &ClusterStatus,
    now: DateTime<Utc>,
) -> DatabaseReading {
    let member = me.patroni.as_ref().map_or("", |p| p.name.as_str());
    let role = role_of(&me.role);
    let mut resource = format!(
        "{member} · timeline {}",
        me.timeline.map_or("?".to_string(), |t| t.to_string())
    );
    if me.pause || cluster.pause {
        resource.push_str(" · AUTO-FAILOVER PAUSED");
    }
    let lag_bytes = cluster
        .members
        .iter()
        .find(|m| m.name == member)
        .and_then(ClusterMember::lag_bytes);
    let replication = replica_of.map(|source| Replication {
        source: source.to_string(),
        state: match (role, me.replication_state.as_deref()) {
            (DbRole::Primary, _) => ReplicationState::Promoted,
            (_, Some("streaming")) => ReplicationState::Streaming,
            _ => ReplicationState::Broken,
        },
        lag_secs: if role == DbRole::Replica {
            lag_secs(me, now)
        } else {
            None
        },
        lag_bytes: if role == DbRole::Replica {
            lag_bytes
        } else {
            None
        },
        lag_alarm,
        loss_window_secs: None,
        source_lost_at: None,
        last_replayed_at: None,
        loss_window_bytes: None,
        loss_evidence: None,
    });
    DatabaseReading {
        failover_paused: Some(me.pause || cluster.pause),
        name: name.to_string(),
        resource,
        region: region.to_string(),
        role,
        state: state_of(&me.state),
        az: None,
        multi_az: false,
        replication,
        integrity_ok: None,
        corrupt_since: None,
        failure: None,
    }
}

impl Source for PatroniSource {
    fn name(&self) -> &str {
        &self.label
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: true,
            backups: false,
            regions: true,
        }
    }

    fn interval(&self) -> Duration {
        PATRONI_INTERVAL
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move { self.read().await.map_err(SourceError::failed) })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_role_timeline_lag_and_pause() {
        let me: MemberStatus = serde_json::from_str(
            r#"{"state": "streaming", "role": "replica", "timeline": 2, "replication_state": "streaming", "pause": true, "patroni": {"name": "node1", "scope": "wr"}}"#,
        )
        .expect("json");
        let cluster: ClusterStatus = serde_json::from_str(
            r#"{"members": [{"name": "node1", "role": "replica", "state": "streaming", "timeline": 2, "lag": 4096}, {"name": "node2", "role": "leader", "state": "running", "timeline": 2}], "pause": true}"#,
        )
        .expect("json");
        let r = reading(
            "dr-replica",
            "dr",
            Some("primary"),
            crate::duration::Dur::from_secs(300),
            &me,
            &cluster,
            Utc::now(),
        );
        assert_eq!((r.role, r.state), (DbRole::Replica, DbState::Available));
        assert_eq!(r.failover_paused, Some(true));
        assert_eq!(r.resource, "node1 · timeline 2 · AUTO-FAILOVER PAUSED");
        let repl = r.replication.expect("replica");
        assert_eq!(
            (repl.state, repl.lag_bytes),
            (ReplicationState::Streaming, Some(4096))
        );
        let unknown: ClusterMember =
            serde_json::from_str(r#"{"name": "x", "lag": "unknown"}"#).expect("json");
        assert_eq!(unknown.lag_bytes(), None);
        assert_eq!(role_of("leader"), DbRole::Primary);
        assert_eq!(role_of("master"), DbRole::Primary);
        assert_eq!(role_of("weird"), DbRole::Unknown);
        assert_eq!(state_of("crashed"), DbState::Unreachable);
    }

    #[test]
    fn lag_in_time_is_zero_when_caught_up_else_the_last_replayed_transactions_age() {
        let now = DateTime::parse_from_rfc3339("2026-11-26T19:10:30Z")
            .expect("time")
            .with_timezone(&Utc);
        let member = |state: &str, received: u64, replayed: u64, ts: Option<&str>| MemberStatus {
            state: "streaming".into(),
            role: "replica".into(),
            timeline: Some(1),
            replication_state: Some(state.into()),
            pause: false,
            patroni: None,
            xlog: Some(Xlog {
                received_location: Some(received),
                replayed_location: Some(replayed),
                replayed_timestamp: ts.map(str::to_string),
            }),
        };
        // Caught up: an old last transaction is an idle leader, not lag.
        let idle = member(
            "streaming",
            100,
            100,
            Some("2026-11-26 19:00:00.000000+00:00"),
        );
        assert_eq!(lag_secs(&idle, now), Some(0.0));
        // Behind: the age of the last replayed transaction (Python's and RFC 3339 forms).
        let behind = member(
            "streaming",
            200,
            100,
            Some("2026-11-26 19:10:00.500000+00:00"),
        );
        assert_eq!(lag_secs(&behind, now), Some(29.5));
        let rfc = member("streaming", 200, 100, Some("2026-11-26T19:10:20Z"));
        assert_eq!(lag_secs(&rfc, now), Some(10.0));
        // Not streaming: everything received replayed is not "caught up".
        let broken = member("stopped", 100, 100, Some("2026-11-26 19:09:30+00:00"));
        assert_eq!(lag_secs(&broken, now), Some(60.0));
        // Nothing replayed yet, or no xlog (a leader): unknown.
        assert_eq!(lag_secs(&member("streaming", 200, 100, None), now), None);
        let leader = MemberStatus { xlog: None, ..idle };
        assert_eq!(lag_secs(&leader, now), None);
        // Patroni's JSON as it comes.
        let me: MemberStatus = serde_json::from_str(
            r#"{"state": "running", "role": "replica", "replication_state": "streaming", "xlog": {"received_location": 50331648, "replayed_location": 50331600, "replayed_timestamp": "2026-11-26 19:10:27.250000+00:00", "paused": false}}"#,
        )
        .expect("json");
        assert_eq!(lag_secs(&me, now), Some(2.75));
    }
}
