//! Point-in-time recovery on RDS: `RestoreDBInstanceToPointInTime` into a new instance (its
//! name from the environment: `aws = { instance = "...", restore_instance = "..." }`), after
//! checking the time lies in the instance's restorable window, then waiting until the new
//! instance is available. The existing rename/DNS steps then apply.
//!
//! The restorable window: `DescribeDBInstanceAutomatedBackups`' `RestoreWindow` when AWS gives
//! one; else the instance's `LatestRestorableTime` back to its backup retention period
//! (`BackupRetentionPeriod` days, never before `InstanceCreateTime`). A time outside it is
//! refused before any call that changes anything, with the window in the message.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};

use crate::telemetry::aws::CallError;

const TIME: &str = "%Y-%m-%d %H:%M:%S UTC";

/// Why a point-in-time restore on RDS was refused or failed.
#[derive(Debug, thiserror::Error)]
pub enum AwsPitrError {
    #[error("{point} is outside the restorable window of {instance}: {} .. {} ({source_of})", earliest.format(TIME), latest.format(TIME), point = point.format(TIME))]
    OutsideWindow {
        instance: String,
        point: DateTime<Utc>,
        earliest: DateTime<Utc>,
        latest: DateTime<Utc>,
        /// Where the window came from.
        source_of: &'static str,
    },
    #[error(
        "{instance} has no point-in-time recovery: automated backups are off (BackupRetentionPeriod 0)"
    )]
    NoBackups { instance: String },
    #[error("{instance}: RDS gives no restorable window (no LatestRestorableTime)")]
    NoWindow { instance: String },
    #[error("{0}")]
    Call(String),
    #[error(
        "{target} is still {state} after {secs}s; AWS may still finish: watch RDS > Databases > {target}"
    )]
    NotAvailable {
        target: String,
        state: String,
        secs: u64,
    },
}

impl From<CallError> for AwsPitrError {
    fn from(e: CallError) -> Self {
        AwsPitrError::Call(e.to_string())
    }
}

/// The times an instance can be restored to.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct RestorableWindow {
    pub earliest: DateTime<Utc>,
    pub latest: DateTime<Utc>,
    pub source_of: &'static str,
}

impl RestorableWindow {
    /// `Ok` when `point` lies in the window.
    pub fn check(&self, instance: &str, point: DateTime<Utc>) -> Result<(), AwsPitrError> {
        if point < self.earliest || point > self.latest {
            return Err(AwsPitrError::OutsideWindow {
                instance: instance.to_string(),
                point,
                earliest: self.earliest,
                latest: self.latest,
                source_of: self.source_of,
            });
        }
        Ok(())
    }
}

fn to_chrono(t: &aws_sdk_rds::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// The restorable window of `instance`.
pub async fn restorable_window(
    rds: &aws_sdk_rds::Client,
    instance: &str,
) -> Result<RestorableWindow, AwsPitrError> {
    let backups = rds
        .describe_db_instance_automated_backups()
        .db_instance_identifier(instance)
        .send()
        .await
        .map_err(|e| {
            CallError::from_sdk(
                format!("rds:DescribeDBInstanceAutomatedBackups {instance}"),
                &e,
            )
        })?;
    if let Some(w) = backups
        .db_instance_automated_backups()
        .iter()
        .find_map(|b| b.restore_window())
        && let (Some(e), Some(l)) = (
            w.earliest_time().and_then(to_chrono),
            w.latest_time().and_then(to_chrono),
        )
    {
        return Ok(RestorableWindow {
            earliest: e,
            latest: l,
            source_of: "DescribeDBInstanceAutomatedBackups RestoreWindow",
        });
    }
    let out = rds
        .describe_db_instances()
        .db_instance_identifier(instance)
        .send()
        .await
        .map_err(|e| CallError::from_sdk(format!("rds:DescribeDBInstances {instance}"), &e))?;
    let inst = out.db_instances().first().ok_or_else(|| {
        AwsPitrError::Call(format!(
            "rds:DescribeDBInstances {instance}: no such instance"
        ))
    })?;
    let retention = inst.backup_retention_period().unwrap_or(0);
    if retention <= 0 {
        return Err(AwsPitrError::NoBackups {
            instance: instance.to_string(),
        });
    }
    let latest = inst
        .latest_restorable_time()
        .and_then(to_chrono)
        .ok_or_else(|| AwsPitrError::NoWindow {
            instance: instance.to_string(),
        })?;
    let mut earliest = latest - TimeDelta::days(i64::from(retention));
    if let Some(created) = inst.instance_create_time().and_then(to_chrono) {
        earliest = earliest.max(created);
    }
    Ok(RestorableWindow {
        earliest,
        latest,
        source_of: "LatestRestorableTime and BackupRetentionPeriod of DescribeDBInstances",
    })
}

/// The exact call, for the confirmation dialog.
pub fn describe(source: &str, target: &str, point: DateTime<Utc>) -> String {
    format!(
        "rds:RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier={source} TargetDBInstanceIdentifier={target} RestoreTime={}",
        point.to_rfc3339_opts(chrono::SecondsFormat::Secs, true)
    )
}

/// Restores `source` to `point` into a new instance `target` and waits until it is available
/// (`limit`, looking every `poll`). Refused, without any call that changes anything, when
/// `point` is outside the restorable window or `target` exists already.
pub async fn restore_to_point(
    rds: &aws_sdk_rds::Client,
    source: &str,
    target: &str,
    point: DateTime<Utc>,
    (poll, limit): (Duration, Duration),
    progress: &(dyn Fn(String) + Send + Sync),
) -> Result<Vec<String>, AwsPitrError> {
    let window = restorable_window(rds, source).await?;
    window.check(source, point)?;
    progress(format!(
        "{} lies in the restorable window of {source}: {} .. {}",
        point.format(TIME),
        window.earliest.format(TIME),
        window.latest.format(TIME)
    ));
    if let Ok(out) = rds
        .describe_db_instances()
        .db_instance_identifier(target)
        .send()
        .await
        && !out.db_instances().is_empty()
    {
        return Err(AwsPitrError::Call(format!(
            "{target} exists already: a point-in-time restore creates a new instance; rename or delete the old one, or set another restore_instance"
        )));
    }
    let started = Instant::now();
    rds.restore_db_instance_to_point_in_time()
        .source_db_instance_identifier(source)
        .target_db_instance_identifier(target)
        .restore_time(aws_sdk_rds::primitives::DateTime::from_millis(
            point.timestamp_millis(),
        ))
        .send()
        .await
        .map_err(|e| {
            CallError::from_sdk(
                format!("rds:RestoreDBInstanceToPointInTime {source} -> {target}"),
                &e,
            )
        })?;
    progress(describe(source, target, point));
    let mut last = String::new();
    loop {
        match rds
            .describe_db_instances()
            .db_instance_identifier(target)
            .send()
            .await
        {
            Ok(out) => {
                if let Some(i) = out.db_instances().first() {
                    let state = i.db_instance_status().unwrap_or("unknown").to_string();
                    if state == "available" {
                        return Ok(vec![
                            format!(
                                "{target} restored from {source} to {} and available in {:.0}s",
                                point.format(TIME),
                                started.elapsed().as_secs_f64()
                            ),
                            format!(
                                "restore point {} (RDS replays to exactly this time); rename it or point DNS at it next",
                                point.format(TIME)
                            ),
                        ]);
                    }
                    if state != last {
                        progress(format!("{target}: {state}"));
                        last = state;
                    }
                }
            }
            Err(e) => {
                progress(
                    CallError::from_sdk(format!("rds:DescribeDBInstances {target}"), &e)
                        .to_string(),
                );
            }
        }
        if started.elapsed() >= limit {
            return Err(AwsPitrError::NotAvailable {
                target: target.to_string(),
                state: last,
                secs: limit.as_secs(),
            });
        }
        tokio::time::sleep(poll).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_time_outside_the_window_is_refused_with_it() {
        let t = |s: &str| {
            DateTime::parse_from_rfc3339(s)
                .expect("t")
                .with_timezone(&Utc)
        };
        let w = RestorableWindow {
            earliest: t("2026-01-01T00:00:00Z"),
            latest: t("2026-01-08T00:00:00Z"),
            source_of: "test",
        };
        assert!(w.check("db", t("2026-01-05T00:00:00Z")).is_ok());
        let e = w
            .check("db", t("2026-01-09T00:00:00Z"))
            .expect_err("outside");
        assert!(
            e.to_string()
                .contains("2026-01-01 00:00:00 UTC .. 2026-01-08 00:00:00 UTC"),
            "{e}"
        );
    }
}
