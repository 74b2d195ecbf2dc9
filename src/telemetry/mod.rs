//! What the panes show: readings from sources, merged into one DR picture.
//!
//! A [`Sample`] is what one source saw at one moment. Readings carry the policy they are judged
//! against (alarm threshold, backup interval) so that a sample is self-describing: `status --json`,
//! the panes and playbook `wait` conditions all judge it with the same functions below.

#[cfg(feature = "aws")]
pub mod aws;
pub mod backup_dir;
pub mod board;
pub mod http;
pub mod patroni;
pub mod postgres;
pub mod reason;
pub mod sim;
pub mod source;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::duration::Dur;

pub use board::Board;
pub use reason::{Failure, FailureReason};
pub use source::{Source, SourceError, SourceId};

/// Everything one source saw at one moment. Sections a source does not feed stay empty.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct Sample {
    /// The moment the readings describe (simulated time on the simulator).
    pub at: DateTime<Utc>,
    pub databases: Vec<DatabaseReading>,
    pub backups: Vec<BackupReading>,
    pub endpoints: Vec<EndpointReading>,
    pub zones: Vec<ZoneReading>,
    pub dns: Vec<DnsReading>,
    pub apps: Vec<AppReading>,
    pub security: Vec<SecurityReading>,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DbRole {
    Primary,
    Replica,
    Unknown,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum DbState {
    /// Accepting connections in its role.
    Available,
    /// Multi-AZ failover or promotion in progress.
    FailingOver,
    /// Being promoted from replica to primary.
    Promoting,
    /// Does not answer.
    Unreachable,
    /// Stopped on purpose.
    Stopped,
    /// Up and answering, but refusing writes on purpose (e.g. writers isolated).
    ReadOnly,
}

impl DbState {
    /// The one word for this state on every screen and in every record (pane, `status`,
    /// evidence, wait conditions, report): the same as its serialised name.
    pub fn label(self) -> &'static str {
        match self {
            DbState::Available => "available",
            DbState::FailingOver => "failing-over",
            DbState::Promoting => "promoting",
            DbState::Unreachable => "unreachable",
            DbState::Stopped => "stopped",
            DbState::ReadOnly => "read-only",
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReplicationState {
    Streaming,
    /// The replica receives nothing from its source (source down or link cut).
    Broken,
    /// Replay paused on purpose.
    Paused,
    /// The replica was promoted: it no longer replicates.
    Promoted,
}

/// One database, primary or replica.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DatabaseReading {
    /// Logical name from the environment (`primary`, `dr-replica`).
    pub name: String,
    /// The real resource (`pynomaly-prod`).
    pub resource: String,
    /// Logical region it lives in.
    pub region: String,
    pub role: DbRole,
    pub state: DbState,
    /// Availability zone currently serving, where known.
    pub az: Option<String>,
    pub multi_az: bool,
    /// Present for replicas (and promoted former replicas).
    pub replication: Option<Replication>,
    /// Data integrity checks: `Some(false)` once they fail (corruption).
    pub integrity_ok: Option<bool>,
    /// Since when the integrity checks fail, where known.
    pub corrupt_since: Option<DateTime<Utc>>,
    /// Why the source could not read this database itself (it did not answer, refused our
    /// credentials, ...); `None` when it answered or its state comes from elsewhere (AWS).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReason>,
    /// The HA manager's automatic failover is paused (Patroni's `pause` flag, read from its
    /// REST API); `None` where no HA manager is read (plain PostgreSQL, RDS, the simulator).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failover_paused: Option<bool>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Replication {
    /// Logical name of the database it replicates from.
    pub source: String,
    pub state: ReplicationState,
    /// Replay lag in seconds; `None` where unknown.
    pub lag_secs: Option<f64>,
    /// Bytes of WAL not yet replayed, where known.
    pub lag_bytes: Option<u64>,
    /// Alarm threshold from the environment (`lag_alarm`, the seeds' 300 s).
    pub lag_alarm: Dur,
    /// When the source stopped writing (it died): the writes the replica is missing, i.e. its lag
    /// at the moment replication broke. `lag_secs` keeps growing after that (it is "now minus the
    /// last replayed transaction", as monitoring shows it), but the data that would be lost by
    /// promoting is this window, and it is what an RPO capture records.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_window_secs: Option<f64>,
    /// When the source stopped (the end `S` of the lost window: its last commit, or the fault),
    /// once it is gone. The window is `(last_replayed_at, source_lost_at]`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub source_lost_at: Option<DateTime<Utc>>,
    /// The replica's last replayed commit `R`, where known.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_replayed_at: Option<DateTime<Utc>>,
    /// The lost window in bytes of WAL (source's last LSN minus the replica's replay LSN).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_window_bytes: Option<u64>,
    /// Where the window was measured from (`WAL archive`, `pg_controldata of the old primary`,
    /// `simulator`), for the record.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub loss_evidence: Option<String>,
}

impl Replication {
    /// The data-loss window if this replica were promoted now.
    pub fn data_loss_secs(&self) -> Option<f64> {
        self.loss_window_secs.or(self.lag_secs)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum AttemptOutcome {
    Succeeded,
    Failed,
}

/// One backup series (a policy: what, how often).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct BackupReading {
    /// Logical name (`snapshots`, `daily-dump`).
    pub name: String,
    /// What it is, for the operator (`RDS snapshot`, `pg_dump`, `WAL archive`).
    pub kind: String,
    /// Policy interval from the environment.
    pub every: Dur,
    pub last_success: Option<DateTime<Utc>>,
    /// The newest success that is known good (not taken after a corruption point).
    pub last_good: Option<DateTime<Utc>>,
    pub last_attempt: Option<DateTime<Utc>>,
    pub last_outcome: Option<AttemptOutcome>,
    pub attempts_24h: u32,
    pub successes_24h: u32,
    pub size_bytes: Option<u64>,
    /// The newest verification (`backup.verify`: a restore test) of any backup of the series,
    /// from the verification history (or the simulator's own); `None`: never verified.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub last_verified: Option<VerifiedReading>,
}

/// When a series was last verified (restore test), and the result.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifiedReading {
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// When the backup verified was taken (`None`: not known, e.g. its file is gone): what
    /// `latest-verified-backup` restores from when `ok`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub backup: Option<DateTime<Utc>>,
}

/// One health endpoint (the API's `/health` in a region).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct EndpointReading {
    /// Logical region.
    pub region: String,
    pub url: String,
    pub last_ok: bool,
    pub status: Option<u16>,
    pub latency_ms: Option<u64>,
    pub consecutive_failures: u32,
    pub error: Option<String>,
    /// Why the last check got no HTTP answer at all (refused, timeout, DNS, TLS); `None` when
    /// it answered (whatever the status) or the reading comes from elsewhere (Route 53).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<FailureReason>,
}

/// One availability zone.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct ZoneReading {
    /// Logical region.
    pub region: String,
    /// Zone id (`us-west-2a`).
    pub zone: String,
    pub up: bool,
}

/// Where a DNS record points.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct DnsReading {
    /// Logical name (`api`).
    pub name: String,
    pub record: String,
    /// Logical region it points at.
    pub target_region: String,
}

/// An application deployment in one region.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct AppReading {
    /// Logical name (`api`).
    pub name: String,
    pub region: String,
    pub desired: u32,
    pub ready: u32,
}

/// Security signals of a region (failed authentications, unusual access).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct SecurityReading {
    pub region: String,
    pub failed_auth_per_min: u32,
    pub unusual_access: bool,
    /// What the signal has shown since the console started watching (kept by
    /// [`Sample::merge_from`]; sources leave it empty).
    #[serde(default)]
    pub memory: SignalMemory,
}

impl SecurityReading {
    /// A failed-auth spike or unusual access right now.
    pub fn alarming(&self) -> bool {
        self.failed_auth_per_min >= FAILED_AUTH_SPIKE_PER_MIN || self.unusual_access
    }
}

/// A region's security signal as it was seen, kept after the signal ends: a breach's evidence
/// must survive the secret rotation that stops it (the checklist asks for it afterwards).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct SignalMemory {
    /// Highest failed-authentication rate seen (per minute), and when it was first that high.
    pub peak_failed_auth_per_min: u32,
    pub peak_at: Option<DateTime<Utc>>,
    /// First and last reading with an alarming signal (a spike or unusual access).
    pub first_alarm_at: Option<DateTime<Utc>>,
    pub last_alarm_at: Option<DateTime<Utc>>,
    /// Last reading that showed unusual access.
    pub unusual_access_last_seen: Option<DateTime<Utc>>,
}

impl SignalMemory {
    /// This memory after `reading`, taken at `at`.
    pub fn after(&self, reading: &SecurityReading, at: DateTime<Utc>) -> SignalMemory {
        let mut m = self.clone();
        if reading.failed_auth_per_min > m.peak_failed_auth_per_min {
            m.peak_failed_auth_per_min = reading.failed_auth_per_min;
            m.peak_at = Some(at);
        }
        if reading.alarming() {
            m.first_alarm_at.get_or_insert(at);
            m.last_alarm_at = Some(at);
        }
        if reading.unusual_access {
            m.unusual_access_last_seen = Some(at);
        }
        m
    }

    /// An alarming signal was seen at some point.
    pub fn alarmed(&self) -> bool {
        self.last_alarm_at.is_some()
    }
}

/// How bad a value is, for colour and for sorting.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Severity {
    Ok,
    Warn,
    Crit,
    /// No data, or data too old to trust.
    Unknown,
}

/// Failed-authentication rate from which a region's security signal counts as a spike.
pub const FAILED_AUTH_SPIKE_PER_MIN: u32 = 50;

/// Longest grace past a backup's interval before it counts as due.
pub const MAX_BACKUP_GRACE_SECS: u64 = 30 * 60;

/// Consecutive failed health checks after which an endpoint is down (the seeds' rule).
pub const ENDPOINT_DOWN_AFTER: u32 = 3;

/// Replica lag severity: critical at the alarm threshold or the RPO, whichever is lower; warning
/// from a fifth of it (60 s for the seeds' 300 s alarm and 5 min RPO).
pub fn lag_severity(lag_secs: Option<f64>, alarm: Dur, rpo: Dur) -> Severity {
    let Some(lag) = lag_secs else {
        return Severity::Unknown;
    };
    let limit = alarm.min(rpo).secs() as f64;
    if lag >= limit {
        Severity::Crit
    } else if lag >= limit / 5.0 {
        Severity::Warn
    } else {
        Severity::Ok
    }
}

/// The status column of the Backups pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum BackupStatus {
    /// Age within the policy interval plus a grace for the backup's own run time (10% of the
    /// interval, at most 30 min).
    Ok,
    /// Past the interval: the next one is due.
    Due,
    /// Past twice the interval.
    Overdue,
    /// The last attempt failed.
    Failed,
}

impl BackupStatus {
    pub fn label(self) -> &'static str {
        match self {
            BackupStatus::Ok => "OK",
            BackupStatus::Due => "DUE",
            BackupStatus::Overdue => "OVERDUE",
            BackupStatus::Failed => "FAILED",
        }
    }
}

impl BackupReading {
    /// Age of the newest success at `now`, in seconds.
    pub fn age_secs(&self, now: DateTime<Utc>) -> Option<u64> {
        self.last_success
            .map(|t| u64::try_from((now - t).num_seconds()).unwrap_or(0))
    }

    /// Age of the newest known-good success at `now`, in seconds.
    /// Newer backups than the newest good one exist: they were taken after a corruption point
    /// and contain it.
    pub fn tainted(&self) -> bool {
        self.last_good != self.last_success
    }

    pub fn good_age_secs(&self, now: DateTime<Utc>) -> Option<u64> {
        self.last_good
            .map(|t| u64::try_from((now - t).num_seconds()).unwrap_or(0))
    }

    pub fn status(&self, now: DateTime<Utc>) -> BackupStatus {
        if self.last_outcome == Some(AttemptOutcome::Failed) {
            return BackupStatus::Failed;
        }
        let every = self.every.secs().max(1);
        match self.age_secs(now) {
            None => BackupStatus::Overdue,
            Some(age) if age <= every + (every / 10).min(MAX_BACKUP_GRACE_SECS) => BackupStatus::Ok,
            Some(age) if age <= 2 * every => BackupStatus::Due,
            Some(_) => BackupStatus::Overdue,
        }
    }

    /// Success rate over the last 24 h, in percent; `None` without attempts.
    pub fn success_rate_24h(&self) -> Option<f64> {
        (self.attempts_24h > 0)
            .then(|| 100.0 * f64::from(self.successes_24h) / f64::from(self.attempts_24h))
    }

    /// Severity for colour: the seeds' rule makes anything older than 24 h critical.
    pub fn severity(&self, now: DateTime<Utc>) -> Severity {
        let age = self.age_secs(now);
        if age.is_none_or(|a| a > 24 * 3600) {
            return Severity::Crit;
        }
        match self.status(now) {
            BackupStatus::Ok => {
                if self.success_rate_24h().is_some_and(|r| r < 95.0) {
                    Severity::Warn
                } else {
                    Severity::Ok
                }
            }
            BackupStatus::Due => Severity::Warn,
            BackupStatus::Overdue | BackupStatus::Failed => Severity::Crit,
        }
    }
}

impl EndpointReading {
    /// Down after [`ENDPOINT_DOWN_AFTER`] consecutive failures (the seeds' rule).
    pub fn is_down(&self) -> bool {
        self.consecutive_failures >= ENDPOINT_DOWN_AFTER
    }

    pub fn severity(&self) -> Severity {
        if self.is_down() {
            Severity::Crit
        } else if self.consecutive_failures > 0 {
            Severity::Warn
        } else {
            Severity::Ok
        }
    }
}

/// A region's verdict in the Regions pane.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Verdict {
    Healthy,
    Degraded,
    Down,
    Unknown,
}

impl Verdict {
    pub fn label(self) -> &'static str {
        match self {
            Verdict::Healthy => "HEALTHY",
            Verdict::Degraded => "DEGRADED",
            Verdict::Down => "DOWN",
            Verdict::Unknown => "UNKNOWN",
        }
    }

    pub fn severity(self) -> Severity {
        match self {
            Verdict::Healthy => Severity::Ok,
            Verdict::Degraded => Severity::Warn,
            Verdict::Down => Severity::Crit,
            Verdict::Unknown => Severity::Unknown,
        }
    }
}

impl Sample {
    /// A region's verdict from everything known about it:
    /// DOWN when every zone is down, or its API endpoint is down (3 consecutive failures) and no
    /// database in it is available; DEGRADED when anything in it is impaired (a zone, a failing
    /// check, a database failing over or unreachable, failed integrity checks, a security spike);
    /// UNKNOWN when nothing is known; HEALTHY otherwise.
    pub fn region_verdict(&self, region: &str) -> Verdict {
        let zones: Vec<_> = self.zones.iter().filter(|z| z.region == region).collect();
        let endpoints: Vec<_> = self
            .endpoints
            .iter()
            .filter(|e| e.region == region)
            .collect();
        let dbs: Vec<_> = self
            .databases
            .iter()
            .filter(|d| d.region == region)
            .collect();
        let security: Vec<_> = self
            .security
            .iter()
            .filter(|s| s.region == region)
            .collect();
        if zones.is_empty() && endpoints.is_empty() && dbs.is_empty() {
            return Verdict::Unknown;
        }
        let all_zones_down = !zones.is_empty() && zones.iter().all(|z| !z.up);
        let api_down = !endpoints.is_empty() && endpoints.iter().all(|e| e.is_down());
        let db_available = dbs.iter().any(|d| d.state == DbState::Available);
        if all_zones_down || (api_down && !db_available) {
            return Verdict::Down;
        }
        let impaired = zones.iter().any(|z| !z.up)
            || endpoints.iter().any(|e| e.consecutive_failures > 0)
            || dbs.iter().any(|d| {
                !matches!(
                    d.state,
                    DbState::Available | DbState::Stopped | DbState::ReadOnly
                ) || d.integrity_ok == Some(false)
            })
            || security
                .iter()
                .any(|s| s.unusual_access || s.failed_auth_per_min >= FAILED_AUTH_SPIKE_PER_MIN);
        if impaired {
            Verdict::Degraded
        } else {
            Verdict::Healthy
        }
    }

    pub fn database(&self, name: &str) -> Option<&DatabaseReading> {
        self.databases.iter().find(|d| d.name == name)
    }

    pub fn backup(&self, name: &str) -> Option<&BackupReading> {
        self.backups.iter().find(|b| b.name == name)
    }

    /// Folds another source's sample into this one: its non-empty sections replace the readings
    /// of the same names; `at` becomes the newer of the two.
    pub fn merge_from(&mut self, other: &Sample) {
        fn upsert<T: Clone>(into: &mut Vec<T>, from: &[T], same: impl Fn(&T, &T) -> bool) {
            for item in from {
                match into.iter_mut().find(|x| same(x, item)) {
                    Some(slot) => *slot = item.clone(),
                    None => into.push(item.clone()),
                }
            }
        }
        self.at = self.at.max(other.at);
        upsert(&mut self.databases, &other.databases, |a, b| {
            a.name == b.name
        });
        upsert(&mut self.backups, &other.backups, |a, b| a.name == b.name);
        upsert(&mut self.endpoints, &other.endpoints, |a, b| a.url == b.url);
        upsert(&mut self.zones, &other.zones, |a, b| a.zone == b.zone);
        upsert(&mut self.dns, &other.dns, |a, b| a.name == b.name);
        upsert(&mut self.apps, &other.apps, |a, b| {
            a.name == b.name && a.region == b.region
        });
        // Security readings keep what earlier readings of the region showed (peak, last alarm).
        for reading in &other.security {
            match self
                .security
                .iter_mut()
                .find(|x| x.region == reading.region)
            {
                Some(slot) => {
                    let memory = slot.memory.after(reading, other.at);
                    *slot = SecurityReading {
                        memory,
                        ..reading.clone()
                    };
                }
                None => {
                    let memory = reading.memory.after(reading, other.at);
                    self.security.push(SecurityReading {
                        memory,
                        ..reading.clone()
                    });
                }
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn t0() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid date")
    }

    fn backup(every: Dur, age_secs: i64, outcome: AttemptOutcome) -> BackupReading {
        let last = t0() - chrono::TimeDelta::seconds(age_secs);
        BackupReading {
            name: "b".into(),
            kind: "pg_dump".into(),
            every,
            last_success: Some(last),
            last_good: Some(last),
            last_attempt: Some(last),
            last_outcome: Some(outcome),
            attempts_24h: 20,
            successes_24h: 20,
            size_bytes: None,
            last_verified: None,
        }
    }

    #[test]
    fn lag_thresholds() {
        let alarm = Dur::from_secs(300);
        let rpo = Dur::from_mins(5);
        assert_eq!(lag_severity(Some(3.0), alarm, rpo), Severity::Ok);
        assert_eq!(lag_severity(Some(60.0), alarm, rpo), Severity::Warn);
        assert_eq!(lag_severity(Some(300.0), alarm, rpo), Severity::Crit);
        assert_eq!(lag_severity(None, alarm, rpo), Severity::Unknown);
        // A tighter RPO than the alarm wins.
        assert_eq!(
            lag_severity(Some(120.0), alarm, Dur::from_mins(2)),
            Severity::Crit
        );
    }

    #[test]
    fn backup_status_by_age_and_outcome() {
        let every = Dur::from_mins(15);
        assert_eq!(
            backup(every, 60, AttemptOutcome::Succeeded).status(t0()),
            BackupStatus::Ok
        );
        assert_eq!(
            backup(every, 20 * 60, AttemptOutcome::Succeeded).status(t0()),
            BackupStatus::Due
        );
        assert_eq!(
            backup(every, 31 * 60, AttemptOutcome::Succeeded).status(t0()),
            BackupStatus::Overdue
        );
        assert_eq!(
            backup(every, 60, AttemptOutcome::Failed).status(t0()),
            BackupStatus::Failed
        );
    }

    #[test]
    fn backup_older_than_a_day_is_critical_and_low_success_rate_warns() {
        let daily = Dur::from_hours(24);
        let b = backup(daily, 25 * 3600, AttemptOutcome::Succeeded);
        assert_eq!(b.status(t0()), BackupStatus::Due);
        assert_eq!(b.severity(t0()), Severity::Crit);
        let mut b = backup(daily, 3600, AttemptOutcome::Succeeded);
        assert_eq!(b.severity(t0()), Severity::Ok);
        b.successes_24h = 18; // 90 %
        assert_eq!(b.severity(t0()), Severity::Warn);
    }

    fn region_sample(zones_up: [bool; 3], api_failures: u32, db_state: DbState) -> Sample {
        Sample {
            at: t0(),
            zones: zones_up
                .iter()
                .enumerate()
                .map(|(i, up)| ZoneReading {
                    region: "primary".into(),
                    zone: format!("us-west-2{}", ['a', 'b', 'c'][i]),
                    up: *up,
                })
                .collect(),
            endpoints: vec![EndpointReading {
                region: "primary".into(),
                url: "https://api/health".into(),
                last_ok: api_failures == 0,
                status: Some(200),
                latency_ms: Some(40),
                consecutive_failures: api_failures,
                error: None,
                failure: None,
            }],
            databases: vec![DatabaseReading {
                failover_paused: None,
                name: "primary".into(),
                resource: "pynomaly-prod".into(),
                region: "primary".into(),
                role: DbRole::Primary,
                state: db_state,
                az: Some("us-west-2a".into()),
                multi_az: true,
                replication: None,
                integrity_ok: Some(true),
                corrupt_since: None,
                failure: None,
            }],
            ..Sample::default()
        }
    }

    #[test]
    fn region_verdicts() {
        let s = region_sample([true; 3], 0, DbState::Available);
        assert_eq!(s.region_verdict("primary"), Verdict::Healthy);
        assert_eq!(s.region_verdict("nowhere"), Verdict::Unknown);
        let s = region_sample([true, false, true], 0, DbState::FailingOver);
        assert_eq!(s.region_verdict("primary"), Verdict::Degraded);
        // Two failures are not yet down (the seeds' rule is three).
        let s = region_sample([true; 3], 2, DbState::Unreachable);
        assert_eq!(s.region_verdict("primary"), Verdict::Degraded);
        let s = region_sample([true; 3], 3, DbState::Unreachable);
        assert_eq!(s.region_verdict("primary"), Verdict::Down);
        let s = region_sample([false; 3], 0, DbState::Available);
        assert_eq!(s.region_verdict("primary"), Verdict::Down);
    }

    #[test]
    fn merge_replaces_by_name_and_keeps_newest_time() {
        let mut a = region_sample([true; 3], 0, DbState::Available);
        let mut b = region_sample([true; 3], 5, DbState::Unreachable);
        b.at = t0() + chrono::TimeDelta::seconds(10);
        b.zones.clear();
        a.merge_from(&b);
        assert_eq!(a.at, b.at);
        assert_eq!(a.zones.len(), 3);
        assert_eq!(a.endpoints.len(), 1);
        assert_eq!(a.endpoints[0].consecutive_failures, 5);
        assert_eq!(a.databases[0].state, DbState::Unreachable);
    }
}
