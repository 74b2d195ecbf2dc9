//! A Patroni member's REST API as a database reading: `GET /patroni` (the member's own role,
//! state, timeline and the cluster's pause flag) and `GET /cluster` (every member's lag in bytes).

use std::time::Duration;

use chrono::Utc;
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
        Ok(Sample {
            at: Utc::now(),
            databases: vec![reading(
                &self.db,
                &self.region,
                self.replica_of.as_deref(),
                self.lag_alarm,
                &me,
                &cluster,
            )],
            ..Sample::default()
        })
    }
}

/// The database reading of one member: its role and state; the member name, timeline and the
/// cluster's pause state in `resource` (`node1 · timeline 2 · AUTO-FAILOVER PAUSED`); a
/// replica's lag in bytes from `/cluster`.
pub fn reading(
    name: &str,
    region: &str,
    replica_of: Option<&str>,
    lag_alarm: crate::duration::Dur,
    me: &MemberStatus,
    cluster: &ClusterStatus,
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
        lag_secs: None,
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
        );
        assert_eq!((r.role, r.state), (DbRole::Replica, DbState::Available));
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
}
