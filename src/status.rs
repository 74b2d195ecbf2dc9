//! `warroom status`: the three panes' content once, as tables or JSON, for scripts and cron.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::duration::{Dur, compact};
use crate::env::{Environment, RegionRole};
use crate::telemetry::{
    BackupStatus, Board, DbRole, DbState, Failure, FailureReason, ReplicationState, Severity,
    Verdict, lag_severity,
};

#[derive(Debug, Serialize)]
pub struct StatusReport {
    pub environment: String,
    /// Session time of the picture.
    pub at: DateTime<Utc>,
    pub replica_lag: Vec<LagRow>,
    pub backups: Vec<BackupRow>,
    pub regions: Vec<RegionRow>,
    /// What could not be read, each with its reason: a source that failed or never answered
    /// (its sections may be incomplete), a database it could not reach, a health URL that gave
    /// no answer. Any of them makes `status` exit 1.
    pub problems: Vec<Failure>,
}

#[derive(Debug, Serialize)]
pub struct LagRow {
    pub name: String,
    pub resource: String,
    pub source: String,
    pub lag_secs: Option<f64>,
    pub lag_bytes: Option<u64>,
    pub state: ReplicationState,
    pub alarm: Dur,
    pub rpo: Dur,
    pub severity: Severity,
    /// Once the source is lost: the frozen window promoting this replica would lose (its lag
    /// keeps growing with the clock; this does not).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub lost_window: Option<LostWindow>,
}

/// The writes a replica missed when its source stopped: `(last_replayed_at, source_lost_at]`.
#[derive(Debug, Serialize)]
pub struct LostWindow {
    pub secs: Option<f64>,
    pub bytes: Option<u64>,
    pub last_replayed_at: Option<DateTime<Utc>>,
    pub source_lost_at: Option<DateTime<Utc>>,
    /// Where it was measured from (WAL of the old primary, the simulator, a lag fallback).
    pub evidence: Option<String>,
}

#[derive(Debug, Serialize)]
pub struct BackupRow {
    pub name: String,
    pub kind: String,
    pub last_success: Option<DateTime<Utc>>,
    pub last_good: Option<DateTime<Utc>>,
    pub age_secs: Option<u64>,
    pub every: Dur,
    pub status: BackupStatus,
    pub success_rate_24h: Option<f64>,
    pub severity: Severity,
    /// The newest `backup.verify` of the series (restore test) from the verification history,
    /// when there is one.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub last_verified: Option<crate::recovery::verified::Verification>,
}

#[derive(Debug, Serialize)]
pub struct RegionRow {
    pub name: String,
    pub id: String,
    pub role: &'static str,
    pub verdict: Verdict,
    pub zones_up: Vec<String>,
    pub zones_down: Vec<String>,
    pub endpoints: Vec<EndpointRow>,
    pub databases: Vec<DatabaseRow>,
    pub dns_pointing_here: Vec<String>,
}

#[derive(Debug, Serialize)]
pub struct EndpointRow {
    pub url: String,
    pub latency_ms: Option<u64>,
    pub consecutive_failures: u32,
    pub down: bool,
    /// Why the last check got no answer, when it got none.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReason>,
}

#[derive(Debug, Serialize)]
pub struct DatabaseRow {
    pub name: String,
    pub resource: String,
    pub role: DbRole,
    pub state: DbState,
    /// Why it could not be read, when it could not.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReason>,
    pub az: Option<String>,
    pub integrity_ok: Option<bool>,
}

impl StatusReport {
    /// Fills each backup's last verification from the history (`verifications.jsonl`).
    pub fn with_verifications(
        mut self,
        history: &[crate::recovery::verified::Verification],
    ) -> Self {
        for b in &mut self.backups {
            b.last_verified =
                crate::recovery::verified::last_of_series(history, &self.environment, &b.name)
                    .cloned();
        }
        self
    }

    pub fn build(env: &Environment, board: &Board, now: DateTime<Utc>) -> Self {
        let p = &board.picture;
        let rpo = env.objectives.rpo;
        let replica_lag =
            p.databases
                .iter()
                .filter_map(|db| {
                    let r = db.replication.as_ref()?;
                    Some(LagRow {
                        name: db.name.clone(),
                        resource: db.resource.clone(),
                        source: r.source.clone(),
                        lag_secs: r.lag_secs,
                        lag_bytes: r.lag_bytes,
                        state: r.state,
                        alarm: r.lag_alarm,
                        rpo,
                        severity: lag_severity(r.lag_secs, r.lag_alarm, rpo),
                        lost_window: (r.loss_window_secs.is_some() || r.source_lost_at.is_some())
                            .then(|| LostWindow {
                                secs: r.loss_window_secs,
                                bytes: r.loss_window_bytes,
                                last_replayed_at: r.last_replayed_at,
                                source_lost_at: r.source_lost_at,
                                evidence: r.loss_evidence.clone(),
                            }),
                    })
                })
                .collect();
        let backups = p
            .backups
            .iter()
            .map(|b| BackupRow {
                name: b.name.clone(),
                kind: b.kind.clone(),
                last_success: b.last_success,
                last_good: b.last_good,
                age_secs: b.age_secs(now),
                every: b.every,
                status: b.status(now),
                success_rate_24h: b.success_rate_24h(),
                severity: b.severity(now),
                last_verified: None,
            })
            .collect();
        let regions = env
            .regions
            .iter()
            .map(|r| {
                let name = r.name.get_ref();
                let zones = p.zones.iter().filter(|z| &z.region == name);
                RegionRow {
                    name: name.clone(),
                    id: r.id.clone(),
                    role: match r.role {
                        RegionRole::Primary => "primary",
                        RegionRole::Dr => "dr",
                    },
                    verdict: p.region_verdict(name),
                    zones_up: zones
                        .clone()
                        .filter(|z| z.up)
                        .map(|z| z.zone.clone())
                        .collect(),
                    zones_down: zones.filter(|z| !z.up).map(|z| z.zone.clone()).collect(),
                    endpoints: p
                        .endpoints
                        .iter()
                        .filter(|e| &e.region == name)
                        .map(|e| EndpointRow {
                            url: e.url.clone(),
                            latency_ms: e.latency_ms,
                            consecutive_failures: e.consecutive_failures,
                            down: e.is_down(),
                            failure: e.failure.clone(),
                        })
                        .collect(),
                    databases: p
                        .databases
                        .iter()
                        .filter(|d| &d.region == name)
                        .map(|d| DatabaseRow {
                            name: d.name.clone(),
                            resource: d.resource.clone(),
                            role: d.role,
                            state: d.state,
                            failure: d.failure.clone(),
                            az: d.az.clone(),
                            integrity_ok: d.integrity_ok,
                        })
                        .collect(),
                    dns_pointing_here: p
                        .dns
                        .iter()
                        .filter(|d| &d.target_region == name)
                        .map(|d| d.name.clone())
                        .collect(),
                }
            })
            .collect();
        let problems = board.failures();
        StatusReport {
            environment: env.name.clone(),
            at: now,
            replica_lag,
            backups,
            regions,
            problems,
        }
    }

    pub fn to_json(&self) -> String {
        // Serialising plain data with string keys cannot fail.
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }

    pub fn to_text(&self) -> String {
        let mut out = String::new();
        let _ = writeln!(
            out,
            "warroom status · env {} · {}",
            self.environment,
            self.at.format("%Y-%m-%d %H:%M:%S UTC")
        );
        let _ = writeln!(out, "\nREPLICA LAG");
        let _ = writeln!(
            out,
            "  {:<18} {:<24} {:>8} {:>7} {:>5} {:<10} LEVEL",
            "NAME", "RESOURCE", "LAG", "ALARM", "RPO", "STATE"
        );
        for r in &self.replica_lag {
            let lag = r
                .lag_secs
                .map_or_else(|| "—".to_string(), |l| compact(l.max(0.0).round() as u64));
            let _ = writeln!(
                out,
                "  {:<18} {:<24} {:>8} {:>7} {:>5} {:<10} {}",
                r.name,
                r.resource,
                lag,
                r.alarm.to_string(),
                r.rpo.to_string(),
                kebab(&r.state),
                severity_label(r.severity)
            );
            if let Some(w) = &r.lost_window {
                let secs = w
                    .secs
                    .map_or_else(|| "an unknown span".to_string(), |s| format!("{s:.1}s"));
                let when = w.source_lost_at.map_or_else(
                    || "at an unknown time".to_string(),
                    |t| format!("at {}", t.format("%H:%M:%S%.3f UTC")),
                );
                let bytes = w
                    .bytes
                    .map(|b| format!(", {b} bytes of WAL"))
                    .unwrap_or_default();
                let evidence = w
                    .evidence
                    .as_deref()
                    .map(|e| format!(" ({})", crate::text::visible(e)))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    {secs} behind when {} was lost {when}{bytes}: promoting it loses that window{evidence}",
                    r.source
                );
            }
        }
        let _ = writeln!(out, "\nBACKUPS");
        let _ = writeln!(
            out,
            "  {:<20} {:<16} {:<17} {:>7} {:>6} {:<8} {:>5}",
            "NAME", "KIND", "LAST SUCCESS (UTC)", "AGE", "EVERY", "STATUS", "24H"
        );
        for b in &self.backups {
            let last = b.last_success.map_or_else(
                || "never".to_string(),
                |t| t.format("%Y-%m-%d %H:%M").to_string(),
            );
            let age = b.age_secs.map_or_else(|| "—".to_string(), compact);
            let rate = b
                .success_rate_24h
                .map_or_else(|| "—".to_string(), |r| format!("{r:.0}%"));
            let tainted = if b.last_good != b.last_success {
                "  TAINTED since last good"
            } else {
                ""
            };
            let _ = writeln!(
                out,
                "  {:<20} {:<16} {:<17} {:>7} {:>6} {:<8} {:>5}{tainted}",
                b.name,
                b.kind,
                last,
                age,
                b.every.to_string(),
                b.status.label(),
                rate
            );
            if let Some(v) = &b.last_verified {
                let _ = writeln!(
                    out,
                    "  {:<20} last verified {} UTC: {} ({})",
                    "",
                    v.at.format("%Y-%m-%d %H:%M"),
                    if v.ok { "ok" } else { "FAILED" },
                    crate::text::field(&v.backup)
                );
            }
        }
        let _ = writeln!(out, "\nREGIONS");
        for r in &self.regions {
            let _ = writeln!(
                out,
                "  {} ({}, {})  {}",
                r.name,
                r.id,
                r.role,
                r.verdict.label()
            );
            let zones: Vec<String> = r
                .zones_up
                .iter()
                .map(|z| format!("{z} up"))
                .chain(r.zones_down.iter().map(|z| format!("{z} DOWN")))
                .collect();
            if !zones.is_empty() {
                let _ = writeln!(out, "    zones: {}", zones.join(", "));
            }
            for e in &r.endpoints {
                let latency = e
                    .latency_ms
                    .map_or_else(|| "—".to_string(), |l| format!("{l} ms"));
                let why = e
                    .failure
                    .as_ref()
                    .map(|r| format!(": {}", r.short()))
                    .unwrap_or_default();
                let _ = writeln!(
                    out,
                    "    api: {} {latency}, {} consecutive failures{}{why}",
                    e.url,
                    e.consecutive_failures,
                    if e.down { " DOWN" } else { "" }
                );
            }
            for d in &r.databases {
                let _ = writeln!(
                    out,
                    "    db: {} ({}) {} {}{}{}{}",
                    d.name,
                    d.resource,
                    kebab(&d.role),
                    kebab(&d.state),
                    d.failure
                        .as_ref()
                        .map(|r| format!(": {}", r.short()))
                        .unwrap_or_default(),
                    d.az.as_deref()
                        .map(|a| format!(" in {a}"))
                        .unwrap_or_default(),
                    if d.integrity_ok == Some(false) {
                        " CORRUPT"
                    } else {
                        ""
                    }
                );
            }
            if !r.dns_pointing_here.is_empty() {
                let _ = writeln!(out, "    dns: {} → here", r.dns_pointing_here.join(", "));
            }
        }
        if !self.problems.is_empty() {
            let _ = writeln!(
                out,
                "\n{} could not be read (exit status 1):",
                match self.problems.len() {
                    1 => "1 source".to_string(),
                    n => format!("{n} sources"),
                }
            );
        }
        for p in &self.problems {
            let _ = writeln!(out, "problem: {}", crate::text::visible(&p.to_string()));
        }
        out
    }
}

fn kebab<T: Serialize>(v: &T) -> String {
    serde_json::to_value(v)
        .ok()
        .and_then(|v| v.as_str().map(str::to_string))
        .unwrap_or_default()
}

fn severity_label(s: Severity) -> &'static str {
    match s {
        Severity::Ok => "ok",
        Severity::Warn => "WARN",
        Severity::Crit => "CRIT",
        Severity::Unknown => "unknown",
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::sim::{Fault, Sim};
    use crate::telemetry::source::{Feeds, SourceId};
    use chrono::{TimeDelta, TimeZone};

    #[test]
    fn a_replica_whose_source_is_lost_shows_its_frozen_window() {
        let env = Environment::demo();
        let t0 = Utc
            .with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
            .single()
            .expect("valid");
        let mut sim = Sim::new(&env, 1, t0);
        sim.advance(t0 + TimeDelta::minutes(10));
        sim.inject(Fault::RegionLoss, t0 + TimeDelta::minutes(10))
            .expect("region-loss");
        let mut report_at = |mins: i64| {
            let now = t0 + TimeDelta::minutes(mins);
            sim.advance(now);
            let feeds = Feeds {
                lag: true,
                backups: true,
                regions: true,
            };
            let mut board = Board::new([("sim".to_string(), feeds)], TimeDelta::minutes(5));
            board.apply(SourceId(0), Ok(sim.sample()), now);
            StatusReport::build(&env, &board, now)
        };
        let early = report_at(11);
        let late = report_at(40);
        let window = |r: &StatusReport| {
            let row = r
                .replica_lag
                .iter()
                .find(|l| l.name == "dr-replica")
                .expect("dr-replica row");
            let w = row.lost_window.as_ref().expect("a lost window");
            (w.secs, w.source_lost_at)
        };
        // The window is the one at the fault, whatever the time of the report.
        assert_eq!(window(&early), window(&late));
        assert_eq!(window(&late).1, Some(t0 + TimeDelta::minutes(10)));
        let text = late.to_text();
        assert!(
            text.contains("behind when primary was lost at 10:10:00.000 UTC"),
            "{text}"
        );
        assert!(late.to_json().contains("\"lost_window\""));
    }
}
