//! Route 53: the health checks that give each region its verdict, and where the bound DNS
//! records point.

use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_sdk_route53::types::{HealthCheckObservation, ResourceRecordSet, RrType};
use chrono::Utc;

use super::{Backoff, CallError, Connector};
use crate::env::Environment;
use crate::telemetry::source::{BoxFuture, Feeds, Source, SourceError};
use crate::telemetry::{DnsReading, ENDPOINT_DOWN_AFTER, EndpointReading, Sample};

/// Route 53 calls an endpoint healthy while more than this share of its checkers see it healthy.
pub const HEALTHY_SHARE: f64 = 0.18;

/// How an endpoint is shown for a health check id.
pub fn health_check_label(id: &str) -> String {
    format!("route53 health check {id}")
}

/// A region's endpoint reading from one health check's observations, judged as Route 53 judges:
/// healthy while more than 18% of the checkers report success.
///
/// Route 53 declares a checker's status unhealthy only after its own failure threshold
/// (3 consecutive failed checks by default), so an unhealthy verdict counts as
/// [`ENDPOINT_DOWN_AFTER`] consecutive failures at once (down). A healthy verdict with some
/// failing checkers counts as one failure (the region shows degraded).
pub fn endpoint_reading(
    region: &str,
    health_check_id: &str,
    observations: &[HealthCheckObservation],
) -> EndpointReading {
    let statuses: Vec<&str> = observations
        .iter()
        .filter_map(|o| o.status_report().and_then(|r| r.status()))
        .collect();
    let ok = statuses.iter().filter(|s| s.starts_with("Success")).count();
    let failing: Vec<&&str> = statuses
        .iter()
        .filter(|s| !s.starts_with("Success"))
        .collect();
    let total = statuses.len();
    let status = statuses.iter().find_map(|s| http_status(s));
    let url = health_check_label(health_check_id);
    if total == 0 {
        return EndpointReading {
            region: region.to_string(),
            url,
            last_ok: false,
            status: None,
            latency_ms: None,
            consecutive_failures: 0,
            error: Some("no Route 53 checker has reported yet".to_string()),
            failure: None,
        };
    }
    let healthy = (ok as f64) / (total as f64) > HEALTHY_SHARE;
    let error = failing
        .first()
        .map(|first| format!("{} of {total} checkers failing: {first}", failing.len()));
    EndpointReading {
        region: region.to_string(),
        url,
        last_ok: healthy,
        status,
        latency_ms: None,
        consecutive_failures: match (healthy, failing.is_empty()) {
            (false, _) => ENDPOINT_DOWN_AFTER,
            (true, false) => 1,
            (true, true) => 0,
        },
        error,
        failure: None,
    }
}

/// `HTTP Status Code 200` / `HTTP Status Code: 503` in a checker's status text.
fn http_status(text: &str) -> Option<u16> {
    let rest = text.split("HTTP Status Code").nth(1)?;
    let digits: String = rest
        .trim_start_matches([':', ' '])
        .chars()
        .take_while(char::is_ascii_digit)
        .collect();
    digits.parse().ok()
}

/// A DNS name without its trailing dot, lower-case (Route 53 answers `api.example.com.`).
pub fn normalize_name(name: &str) -> String {
    name.trim_end_matches('.').to_ascii_lowercase()
}

/// One bound DNS record.
#[derive(Debug, Clone)]
pub struct DnsTarget {
    /// Logical name.
    pub name: String,
    pub zone: String,
    /// The record's name in the zone.
    pub record: String,
    pub record_type: String,
    /// (logical region, value) pairs.
    pub targets: Vec<(String, String)>,
}

impl DnsTarget {
    pub fn from_env(env: &Environment) -> Vec<DnsTarget> {
        env.dns
            .iter()
            .filter_map(|d| {
                let a = d.aws.as_ref()?.get_ref();
                Some(DnsTarget {
                    name: d.name.get_ref().clone(),
                    zone: a.zone.clone(),
                    record: a.record.clone().unwrap_or_else(|| d.record.clone()),
                    record_type: a.record_type.clone(),
                    targets: a
                        .targets
                        .get_ref()
                        .iter()
                        .map(|(r, v)| (r.clone(), v.clone()))
                        .collect(),
                })
            })
            .collect()
    }
}

/// Where a record points, from the record sets listed from its name on. The value is mapped back
/// to the logical region whose target it is; a value that is no region's target shows as
/// `unknown (<value>)`, a missing record as `none (record missing)`.
pub fn dns_reading(target: &DnsTarget, sets: &[ResourceRecordSet]) -> DnsReading {
    let wanted = normalize_name(&target.record);
    let set = sets
        .iter()
        .find(|s| normalize_name(s.name()) == wanted && s.r#type().as_str() == target.record_type);
    let value = set.and_then(|s| {
        s.resource_records()
            .first()
            .map(|r| r.value().to_string())
            .or_else(|| s.alias_target().map(|a| a.dns_name().to_string()))
    });
    let target_region = match value {
        None => "none (record missing)".to_string(),
        Some(v) => {
            let v_norm = normalize_name(&v);
            target
                .targets
                .iter()
                .find(|(_, t)| normalize_name(t) == v_norm)
                .map_or_else(|| format!("unknown ({v})"), |(r, _)| r.clone())
        }
    };
    DnsReading {
        name: target.name.clone(),
        record: target.record.clone(),
        target_region,
    }
}

/// Feeds the Regions pane: health check verdicts and DNS records of the whole environment.
pub struct Route53Source {
    profile: Option<String>,
    connector: Arc<Connector>,
    /// (logical region, health check id).
    checks: Vec<(String, String)>,
    records: Vec<DnsTarget>,
    client: Option<aws_sdk_route53::Client>,
    interval: Duration,
    backoff: Backoff,
}

impl Route53Source {
    /// The source for `env`'s health checks and records, if it has any.
    pub fn for_env(env: &Environment, connector: Arc<Connector>) -> Option<Self> {
        let checks: Vec<(String, String)> = env
            .regions
            .iter()
            .flat_map(|r| {
                r.route53_health_check
                    .iter()
                    .map(|id| (r.name.get_ref().clone(), id.clone()))
            })
            .collect();
        let records = DnsTarget::from_env(env);
        if checks.is_empty() && records.is_empty() {
            return None;
        }
        Some(Self::new(
            super::route53_profile(env),
            connector,
            checks,
            records,
            super::ROUTE53_INTERVAL,
        ))
    }

    pub fn new(
        profile: Option<String>,
        connector: Arc<Connector>,
        checks: Vec<(String, String)>,
        records: Vec<DnsTarget>,
        interval: Duration,
    ) -> Self {
        Route53Source {
            profile,
            connector,
            checks,
            records,
            client: None,
            interval,
            backoff: Backoff::new(interval),
        }
    }

    async fn read(&mut self) -> Result<Sample, CallError> {
        let client = match &self.client {
            Some(c) => c.clone(),
            None => {
                let c = self.connector.route53(self.profile.as_deref()).await;
                self.client = Some(c.clone());
                c
            }
        };
        // Route 53 has no batch call for either: every check and record is asked at once.
        let mut checks = tokio::task::JoinSet::new();
        for (i, (_, id)) in self.checks.iter().enumerate() {
            let (client, id) = (client.clone(), id.clone());
            checks.spawn(async move {
                let out = client
                    .get_health_check_status()
                    .health_check_id(&id)
                    .send()
                    .await
                    .map_err(|e| {
                        CallError::from_sdk(format!("route53:GetHealthCheckStatus {id}"), &e)
                    })?;
                Ok::<_, CallError>((i, out.health_check_observations().to_vec()))
            });
        }
        let mut records = tokio::task::JoinSet::new();
        for (i, t) in self.records.iter().enumerate() {
            let (client, t) = (client.clone(), t.clone());
            records.spawn(async move {
                let rr_type = RrType::from(t.record_type.as_str());
                let out = client
                    .list_resource_record_sets()
                    .hosted_zone_id(&t.zone)
                    .start_record_name(&t.record)
                    .start_record_type(rr_type)
                    .max_items(1)
                    .send()
                    .await
                    .map_err(|e| {
                        CallError::from_sdk(
                            format!(
                                "route53:ListResourceRecordSets {} in zone {}",
                                t.record, t.zone
                            ),
                            &e,
                        )
                    })?;
                Ok::<_, CallError>((i, out.resource_record_sets().to_vec()))
            });
        }
        let mut endpoints = vec![None; self.checks.len()];
        while let Some(joined) = checks.join_next().await {
            let (i, observations) = joined.map_err(|e| CallError {
                call: "route53:GetHealthCheckStatus".into(),
                message: format!("the task stopped: {e}"),
                throttled: false,
                reason: crate::telemetry::FailureReason::other(format!("the task stopped: {e}")),
            })??;
            if let Some((region, id)) = self.checks.get(i) {
                endpoints[i] = Some(endpoint_reading(region, id, &observations));
            }
        }
        let mut dns = vec![None; self.records.len()];
        while let Some(joined) = records.join_next().await {
            let (i, sets) = joined.map_err(|e| CallError {
                call: "route53:ListResourceRecordSets".into(),
                message: format!("the task stopped: {e}"),
                throttled: false,
                reason: crate::telemetry::FailureReason::other(format!("the task stopped: {e}")),
            })??;
            if let Some(t) = self.records.get(i) {
                dns[i] = Some(dns_reading(t, &sets));
            }
        }
        Ok(Sample {
            at: Utc::now(),
            endpoints: endpoints.into_iter().flatten().collect(),
            dns: dns.into_iter().flatten().collect(),
            ..Sample::default()
        })
    }
}

impl Source for Route53Source {
    fn name(&self) -> &str {
        "aws route53"
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: false,
            backups: false,
            regions: true,
        }
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn timeout(&self) -> Duration {
        super::POLL_TIMEOUT
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move {
            self.backoff.check(Instant::now())?;
            let result = self.read().await;
            self.backoff.record(result, Instant::now())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_sdk_route53::types::{AliasTarget, ResourceRecord, StatusReport};

    fn obs(statuses: &[&str]) -> Vec<HealthCheckObservation> {
        statuses
            .iter()
            .map(|s| {
                HealthCheckObservation::builder()
                    .status_report(StatusReport::builder().status(*s).build())
                    .build()
            })
            .collect()
    }

    #[test]
    fn verdicts_follow_route53s_rule() {
        let ok = "Success: HTTP Status Code 200, OK";
        let bad = "Failure: HTTP Status Code 503, Service Unavailable";
        let e = endpoint_reading("primary", "hc-1", &obs(&[ok, ok, ok]));
        assert!(e.last_ok && e.consecutive_failures == 0 && e.error.is_none());
        assert_eq!(e.status, Some(200));
        assert_eq!(e.url, "route53 health check hc-1");

        // One of three failing: still healthy for Route 53, degraded for us.
        let e = endpoint_reading("primary", "hc-1", &obs(&[ok, ok, bad]));
        assert!(e.last_ok && !e.is_down());
        assert_eq!(e.consecutive_failures, 1);
        assert!(
            e.error
                .as_deref()
                .is_some_and(|m| m.starts_with("1 of 3 checkers failing: Failure"))
        );

        // 1 of 6 healthy is under 18%: down.
        let e = endpoint_reading("primary", "hc-1", &obs(&[ok, bad, bad, bad, bad, bad]));
        assert!(!e.last_ok && e.is_down());
        let e = endpoint_reading("primary", "hc-1", &obs(&["Failure: Connection timed out."]));
        assert!(e.is_down());
        assert_eq!(e.status, None);
    }

    #[test]
    fn no_observations_is_not_a_failure() {
        let e = endpoint_reading("dr", "hc-2", &[]);
        assert!(!e.last_ok && e.consecutive_failures == 0);
        assert!(e.error.is_some());
    }

    #[test]
    fn http_status_parsing() {
        assert_eq!(
            http_status("Success: HTTP Status Code: 200. Resolved IP: 1.2.3.4. OK"),
            Some(200)
        );
        assert_eq!(http_status("Failure: HTTP Status Code 503, x"), Some(503));
        assert_eq!(http_status("Failure: Connection timed out."), None);
    }

    fn target() -> DnsTarget {
        DnsTarget {
            name: "api".into(),
            zone: "Z1".into(),
            record: "api.example.com".into(),
            record_type: "CNAME".into(),
            targets: vec![
                ("primary".into(), "api-usw2.example.net".into()),
                ("dr".into(), "api-use1.example.net".into()),
            ],
        }
    }

    fn cname(name: &str, value: &str) -> ResourceRecordSet {
        ResourceRecordSet::builder()
            .name(name)
            .r#type(RrType::Cname)
            .ttl(60)
            .resource_records(
                ResourceRecord::builder()
                    .value(value)
                    .build()
                    .expect("record"),
            )
            .build()
            .expect("record set")
    }

    #[test]
    fn record_values_map_back_to_regions() {
        let r = dns_reading(
            &target(),
            &[cname("api.example.com.", "API-USE1.example.net.")],
        );
        assert_eq!(r.target_region, "dr");
        let r = dns_reading(
            &target(),
            &[cname("api.example.com.", "elsewhere.example.org")],
        );
        assert_eq!(r.target_region, "unknown (elsewhere.example.org)");
        // The listing starts at the name but may return the next record when it is missing.
        let r = dns_reading(
            &target(),
            &[cname("b.example.com.", "api-use1.example.net")],
        );
        assert_eq!(r.target_region, "none (record missing)");
        let alias = ResourceRecordSet::builder()
            .name("api.example.com")
            .r#type(RrType::Cname)
            .alias_target(
                AliasTarget::builder()
                    .hosted_zone_id("Z2")
                    .dns_name("api-usw2.example.net.")
                    .evaluate_target_health(true)
                    .build()
                    .expect("alias"),
            )
            .build()
            .expect("alias set");
        assert_eq!(dns_reading(&target(), &[alias]).target_region, "primary");
    }
}
