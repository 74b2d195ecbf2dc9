//! `db.promote` and `db.failover` on a Patroni-managed PostgreSQL cluster, through the REST API
//! of the member the database names: `POST /failover` (the candidate becomes the leader even when
//! the old leader is gone) and `POST /switchover` (a planned hand-over from a healthy leader).
//! Each then waits until the member says it is the leader. Every other action is not Patroni's,
//! by an exhaustive match.

use std::collections::BTreeMap;
use std::time::{Duration, Instant};

use super::{ActionBackend, ActionError, Call};
use crate::env::Environment;
use crate::telemetry::DbRole;
use crate::telemetry::patroni::{ClusterStatus, MemberStatus, get_json, role_of};
use crate::telemetry::source::BoxFuture;

/// How long a promotion may take before the action gives up waiting (Patroni may still finish).
pub const PROMOTE_LIMIT: Duration = Duration::from_secs(120);
/// How long Patroni may take to answer `POST /failover` or `/switchover` (it answers once the
/// candidate has taken over, or failed to).
pub const POST_LIMIT: Duration = Duration::from_secs(60);
/// How long a member may take to report the pause flag asked by `PATCH /config` (Patroni applies
/// it at its next HA loop, `loop_wait`: 10 s by default).
pub const PAUSE_LIMIT: Duration = Duration::from_secs(45);

/// Runs `db.promote` / `db.failover` against Patroni members.
pub struct PatroniBackend {
    /// Logical database -> the member's REST API base URL.
    urls: BTreeMap<String, String>,
    /// Reads (`/patroni`, `/cluster`): the health-check client's short timeouts.
    client: reqwest::Client,
    /// `POST /failover` and `/switchover` answer when Patroni has done it: seconds.
    post: reqwest::Client,
    limit: Duration,
}

impl PatroniBackend {
    pub fn new(env: &Environment) -> Result<Self, String> {
        let urls = env
            .databases
            .iter()
            .filter_map(|d| {
                let p = d.patroni.as_ref()?;
                Some((
                    d.name.get_ref().clone(),
                    p.get_ref().url.trim_end_matches('/').to_string(),
                ))
            })
            .collect();
        let post = reqwest::Client::builder()
            .no_proxy()
            .connect_timeout(crate::telemetry::http::CONNECT_TIMEOUT)
            .timeout(POST_LIMIT)
            .build()
            .map_err(|e| format!("cannot build an HTTP client: {e}"))?;
        Ok(PatroniBackend {
            urls,
            client: crate::telemetry::http::client()?,
            post,
            limit: PROMOTE_LIMIT,
        })
    }

    /// A database without a patroni binding: refused, nothing called.
    fn unbound(&self, action: &'static str, db: &str) -> ActionError {
        ActionError::Refused {
            action,
            why: format!("database {} has no patroni binding", crate::text::echo(db)),
        }
    }

    fn url(&self, action: &str, db: &str) -> Result<&str, String> {
        self.urls.get(db).map(String::as_str).ok_or_else(|| {
            format!(
                "{action}: database {} has no patroni binding",
                crate::text::echo(db)
            )
        })
    }

    /// `POST /failover` (promote) or `/switchover` (failover) making `db`'s member the leader,
    /// then waits until it says so.
    async fn make_leader(
        &self,
        action: &'static str,
        db: &str,
        planned: bool,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, ActionError> {
        let url = self.url(action, db).map_err(|_| self.unbound(action, db))?;
        let me: MemberStatus = get_json(&self.client, &format!("{url}/patroni")).await?;
        let member = me
            .patroni
            .as_ref()
            .map(|p| p.name.clone())
            .ok_or_else(|| format!("{action}: {url}/patroni names no member"))?;
        if role_of(&me.role) == DbRole::Primary {
            return Err(ActionError::Refused {
                action,
                why: format!(
                    "{member} ({db}) is already the leader (timeline {}); nothing to do",
                    me.timeline.unwrap_or_default()
                ),
            });
        }
        let cluster: ClusterStatus = get_json(&self.client, &format!("{url}/cluster")).await?;
        let leader = cluster
            .members
            .iter()
            .find(|m| role_of(&m.role) == DbRole::Primary)
            .map(|m| m.name.clone());
        let (endpoint, body) = match (planned, &leader) {
            (true, Some(l)) => (
                "switchover",
                serde_json::json!({ "leader": l, "candidate": member }),
            ),
            (true, None) => {
                return Err(ActionError::Refused {
                    action,
                    why: format!(
                        "the cluster has no leader to hand over from; promote {db} with \
                         db.promote (a failover) instead"
                    ),
                });
            }
            (false, _) => ("failover", serde_json::json!({ "candidate": member })),
        };
        let started = Instant::now();
        let text = self
            .send(action, reqwest::Method::POST, url, endpoint, &body)
            .await?;
        progress(format!(
            "POST {url}/{endpoint} {body} accepted: {}",
            crate::text::field(text.trim())
        ));
        loop {
            tokio::time::sleep(Duration::from_millis(500)).await;
            if let Ok(now) = get_json::<MemberStatus>(&self.client, &format!("{url}/patroni")).await
                && role_of(&now.role) == DbRole::Primary
                && now.state == "running"
            {
                return Ok(vec![format!(
                    "{member} ({db}) is the leader on timeline {} after {:.1}s{}",
                    now.timeline.unwrap_or_default(),
                    started.elapsed().as_secs_f64(),
                    leader
                        .as_ref()
                        .map(|l| format!("; {l} follows it or is fenced by Patroni"))
                        .unwrap_or_default()
                )]);
            }
            if started.elapsed() >= self.limit {
                return Err(format!(
                    "{action}: {member} is not the leader after {}s; Patroni may still finish: \
                     watch the panes",
                    self.limit.as_secs()
                )
                .into());
            }
        }
    }
}

impl PatroniBackend {
    /// Sends `body` as JSON to `<url>/<endpoint>` with `method`; the answer's text when Patroni
    /// accepts it, else the failure naming the call and what Patroni answered.
    async fn send(
        &self,
        action: &str,
        method: reqwest::Method,
        url: &str,
        endpoint: &str,
        body: &serde_json::Value,
    ) -> Result<String, ActionError> {
        let resp = self
            .post
            .request(method.clone(), format!("{url}/{endpoint}"))
            .header("content-type", "application/json")
            .body(body.to_string())
            .send()
            .await
            .map_err(|e| format!("{action}: {method} {url}/{endpoint}: {}", e.without_url()))?;
        let status = resp.status();
        let text = resp.text().await.unwrap_or_default();
        if !status.is_success() {
            return Err(format!(
                "{action}: {method} {url}/{endpoint} answered {status}: {}",
                crate::text::echo(text.trim())
            )
            .into());
        }
        Ok(text)
    }

    /// `PATCH /config {"pause": on}` on `db`'s member (the cluster's dynamic configuration, so
    /// every member follows), then waits until the member reports the pause flag as asked.
    async fn set_pause(
        &self,
        action: &'static str,
        db: &str,
        on: bool,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, ActionError> {
        let url = self.url(action, db).map_err(|_| self.unbound(action, db))?;
        let body = serde_json::json!({ "pause": on });
        let started = Instant::now();
        self.send(action, reqwest::Method::PATCH, url, "config", &body)
            .await?;
        progress(format!("PATCH {url}/config {body} accepted"));
        let word = if on { "paused" } else { "on again" };
        loop {
            if let Ok(now) = get_json::<MemberStatus>(&self.client, &format!("{url}/patroni")).await
                && now.pause == on
            {
                let member = now.patroni.as_ref().map_or("", |p| p.name.as_str());
                return Ok(vec![format!(
                    "automatic failover {word}: {member} ({db}) reports pause = {on} after {:.1}s",
                    started.elapsed().as_secs_f64()
                )]);
            }
            if started.elapsed() >= PAUSE_LIMIT {
                return Err(format!(
                    "{action}: {url}/patroni does not report pause = {on} after {}s (Patroni \
                     applies it at its next HA loop); check `patronictl list`",
                    PAUSE_LIMIT.as_secs()
                )
                .into());
            }
            tokio::time::sleep(Duration::from_millis(300)).await;
        }
    }
}

/// Why Patroni does not run `call`, if it does not.
fn unsupported_reason(call: &Call) -> Option<String> {
    match call {
        Call::DbPromote(_) | Call::DbFailover(_) | Call::HaPause(_) | Call::HaResume(_) => None,
        Call::DbReadOnly(_)
        | Call::DbRestore(_)
        | Call::DnsPoint(_)
        | Call::AppScale(_)
        | Call::BackupSnapshot(_)
        | Call::BackupVerify(_)
        | Call::SecretRotate(_)
        | Call::HttpCheck(_)
        | Call::NotifyWebhook(_) => Some(format!(
            "{} is not run through Patroni (it runs db.promote, db.failover, ha.pause and \
             ha.resume); use a `run` step (e.g. patronictl or psql)",
            call.name()
        )),
    }
}

impl ActionBackend for PatroniBackend {
    fn name(&self) -> &str {
        "patroni"
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        unsupported_reason(call)
    }

    fn describe(&self, call: &Call) -> String {
        let target = |action: &str, db: &str, endpoint: &str| match self.url(action, db) {
            Ok(url) => format!(
                "POST {url}/{endpoint} making {db}'s member the leader, then wait until it says so"
            ),
            Err(e) => format!("cannot run: {e}"),
        };
        let pause = |action: &str, db: &str, on: bool| match self.url(action, db) {
            Ok(url) => format!(
                "PATCH {url}/config {{\"pause\": {on}}} (the whole cluster of {db}), then wait \
                 until the member reports pause = {on}"
            ),
            Err(e) => format!("cannot run: {e}"),
        };
        match call {
            Call::DbPromote(c) => target("db.promote", &c.db, "failover"),
            Call::DbFailover(c) => target("db.failover", &c.db, "switchover"),
            Call::HaPause(c) => pause("ha.pause", &c.db, true),
            Call::HaResume(c) => pause("ha.resume", &c.db, false),
            Call::DbReadOnly(_)
            | Call::DbRestore(_)
            | Call::DnsPoint(_)
            | Call::AppScale(_)
            | Call::BackupSnapshot(_)
            | Call::BackupVerify(_)
            | Call::SecretRotate(_)
            | Call::HttpCheck(_)
            | Call::NotifyWebhook(_) => format!(
                "unsupported on Patroni: {}",
                unsupported_reason(call).unwrap_or_default()
            ),
        }
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        Box::pin(async move {
            match call {
                Call::DbPromote(c) => self.make_leader("db.promote", &c.db, false, progress).await,
                Call::DbFailover(c) => self.make_leader("db.failover", &c.db, true, progress).await,
                Call::HaPause(c) => self.set_pause("ha.pause", &c.db, true, progress).await,
                Call::HaResume(c) => self.set_pause("ha.resume", &c.db, false, progress).await,
                Call::DbReadOnly(_)
                | Call::DbRestore(_)
                | Call::DnsPoint(_)
                | Call::AppScale(_)
                | Call::BackupSnapshot(_)
                | Call::BackupVerify(_)
                | Call::SecretRotate(_)
                | Call::HttpCheck(_)
                | Call::NotifyWebhook(_) => Err(ActionError::unsupported(
                    call,
                    unsupported_reason(call).unwrap_or_default(),
                )),
            }
        })
    }
}
