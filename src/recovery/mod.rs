//! Recovery points: what a database can be restored to (backups and the point-in-time window
//! of its WAL archive), and restoring it to a chosen point.
//!
//! This module's root is pure (no I/O, no clock): the choice a `db.restore` step makes
//! ([`RestoreTo`]) and how it resolves to a point from what is known ([`Known`]), used alike by
//! the engine (the confirmation and the record, from the telemetry picture) and the simulator
//! (from its own state). `postgres` does the real thing on PostgreSQL; `verified` keeps the
//! verification history.

#[cfg(feature = "aws")]
pub mod aws;
pub mod postgres;
pub mod verified;

use std::fmt;
use std::str::FromStr;

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};

/// Whether a backup series' `kind` is a WAL archive (what point-in-time recovery replays): the
/// environment's free-text kind, as the demo, the lab and the docs write it.
pub fn is_wal_archive(kind: &str) -> bool {
    kind.eq_ignore_ascii_case("WAL archive")
}

/// What a restore returns the database to (`with = { ..., to = "..." }`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
#[serde(into = "String", try_from = "String")]
pub enum RestoreTo {
    /// The last whole second before the recorded corruption onset (point-in-time recovery when
    /// the WAL archive reaches it; else the newest good backup before the onset). The default.
    #[default]
    BeforeCorruption,
    /// The newest backup whose restore test (`backup.verify`) passed, taken before the onset:
    /// a backup is verified only by a recorded successful verification. With none, refused.
    LatestVerifiedBackup,
    /// The newest good backup (not failed, not tainted, no failed restore test), taken before
    /// the onset when one is known, verified or not: what a restore for another reason than
    /// corruption takes by default. It claims no verification.
    NewestGoodBackup,
    /// An explicit time (RFC 3339): everything committed before it is kept.
    At(DateTime<Utc>),
}

impl RestoreTo {
    /// The choice when a step names none: before the corruption when its onset is recorded,
    /// else the newest good backup (a restore for another reason; verified or not).
    pub fn default_for(known: &Known) -> RestoreTo {
        if known.onset.is_some() {
            RestoreTo::BeforeCorruption
        } else {
            RestoreTo::NewestGoodBackup
        }
    }

    /// The words a playbook and the journal use.
    pub const BEFORE_CORRUPTION: &'static str = "before-corruption";
    pub const LATEST_VERIFIED_BACKUP: &'static str = "latest-verified-backup";
    pub const NEWEST_GOOD_BACKUP: &'static str = "newest-good-backup";
}

impl fmt::Display for RestoreTo {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            RestoreTo::BeforeCorruption => f.write_str(Self::BEFORE_CORRUPTION),
            RestoreTo::LatestVerifiedBackup => f.write_str(Self::LATEST_VERIFIED_BACKUP),
            RestoreTo::NewestGoodBackup => f.write_str(Self::NEWEST_GOOD_BACKUP),
            RestoreTo::At(t) => write!(
                f,
                "{}",
                t.to_rfc3339_opts(chrono::SecondsFormat::AutoSi, true)
            ),
        }
    }
}

impl From<RestoreTo> for String {
    fn from(r: RestoreTo) -> String {
        r.to_string()
    }
}

/// Why a `to` value is not one.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "to = {value}: write \"before-corruption\", \"latest-verified-backup\", \"newest-good-backup\" or an RFC 3339 time (2026-11-26T10:20:59Z)"
)]
pub struct BadRestoreTo {
    pub value: String,
}

impl FromStr for RestoreTo {
    type Err = BadRestoreTo;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s.trim() {
            Self::BEFORE_CORRUPTION => Ok(RestoreTo::BeforeCorruption),
            Self::LATEST_VERIFIED_BACKUP => Ok(RestoreTo::LatestVerifiedBackup),
            Self::NEWEST_GOOD_BACKUP => Ok(RestoreTo::NewestGoodBackup),
            t => DateTime::parse_from_rfc3339(t)
                .map(|d| RestoreTo::At(d.with_timezone(&Utc)))
                .map_err(|_| BadRestoreTo {
                    value: crate::text::echo(s),
                }),
        }
    }
}

impl TryFrom<String> for RestoreTo {
    type Error = BadRestoreTo;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

/// What is known when a restore point is chosen.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Known {
    /// The corruption onset, if recorded.
    pub onset: Option<DateTime<Utc>>,
    /// The newest good backup of the series restored from (not failed, not tainted), and
    /// whether it is also before the onset is checked here.
    pub newest_good_backup: Option<DateTime<Utc>>,
    /// Point-in-time recovery: how far the WAL archive reaches (its newest archived segment),
    /// `None` when the database has no WAL archive to replay.
    pub wal_reach: Option<DateTime<Utc>>,
    /// Other good backups of the series (not failed, not tainted), from a restore-point list:
    /// each can be restored to as it is, or replayed from. Empty: only the newest is known.
    pub backups: Vec<DateTime<Utc>>,
    /// Backups whose newest restore test (`backup.verify`) passed: the only ones
    /// `latest-verified-backup` chooses from.
    pub verified: Vec<DateTime<Utc>>,
    /// Backups whose newest restore test failed: never a restore source (neither restored as
    /// they are nor replayed from).
    pub failed_verification: Vec<DateTime<Utc>>,
    /// The point-in-time windows a restore-point list measured (a base backup's end to how far
    /// the archive reaches from it without a gap). Empty: not measured (`wal_reach` bounds a
    /// point alone).
    pub windows: Vec<Span>,
    /// The archive's gaps the list found (for the reason a point is refused).
    pub gaps: Vec<Span>,
}

/// What a restore-point list adds to what the engine knows from its telemetry: the series'
/// other good backups and the measured windows and gaps. The console's picker hands it to the
/// engine as a value with the operator's choice.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Listed {
    pub backups: Vec<DateTime<Utc>>,
    /// The listed backups whose newest restore test passed, and those whose newest failed.
    pub verified: Vec<DateTime<Utc>>,
    pub failed_verification: Vec<DateTime<Utc>>,
    pub windows: Vec<Span>,
    pub gaps: Vec<Span>,
}

impl Known {
    /// What is known plus what a list measured.
    pub fn with(mut self, listed: &Listed) -> Known {
        self.backups.extend(listed.backups.iter().copied());
        self.verified.extend(listed.verified.iter().copied());
        self.failed_verification
            .extend(listed.failed_verification.iter().copied());
        self.windows.extend(listed.windows.iter().copied());
        self.gaps.extend(listed.gaps.iter().copied());
        self
    }
}

/// A span of time, `from` to `to` inclusive.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
pub struct Span {
    pub from: DateTime<Utc>,
    pub to: DateTime<Utc>,
}

impl Span {
    pub fn contains(&self, t: DateTime<Utc>) -> bool {
        self.from <= t && t <= self.to
    }
}

impl fmt::Display for Span {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let to = if self.to.date_naive() == self.from.date_naive() {
            self.to.format("%H:%M:%S UTC")
        } else {
            self.to.format("%Y-%m-%d %H:%M:%S UTC")
        };
        write!(f, "{} .. {to}", self.from.format("%Y-%m-%d %H:%M:%S"))
    }
}

/// The windows and gaps of `known` in words, for a refusal: `windows 10:00:00 .. 10:40:00 UTC;
/// gap 10:20:00 .. 10:25:00 UTC`.
fn coverage_words(known: &Known) -> String {
    let list = |spans: &[Span]| {
        spans
            .iter()
            .map(Span::to_string)
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut words = match known.windows.len() {
        0 => "no point-in-time window".to_string(),
        1 => format!("the point-in-time window is {}", list(&known.windows)),
        _ => format!("the point-in-time windows are {}", list(&known.windows)),
    };
    if !known.gaps.is_empty() {
        words.push_str(&format!(
            "; the WAL archive has a gap {}",
            list(&known.gaps)
        ));
    }
    words
}

/// How the point is reached.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Basis {
    /// A backup restored as it is: the point is the backup's time.
    Backup,
    /// A backup plus WAL replayed up to the point.
    PointInTime,
}

impl Basis {
    pub fn label(self) -> &'static str {
        match self {
            Basis::Backup => "backup",
            Basis::PointInTime => "point-in-time (backup + WAL replay)",
        }
    }
}

/// A resolved restore point.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Resolved {
    pub to: RestoreTo,
    /// The database keeps every write committed before this time.
    pub point: DateTime<Utc>,
    pub basis: Basis,
    /// The base backup the restore starts from.
    pub backup_at: DateTime<Utc>,
    /// The data lost: onset minus point, in seconds (`None` when the onset is unknown).
    pub loss_secs: Option<f64>,
    pub onset: Option<DateTime<Utc>>,
}

/// The definition shown next to the data lost.
pub const LOSS_DEFINITION: &str = "data lost = corruption onset minus restore point: the good writes between them (writes after the onset are suspect, not lost good data)";

impl Resolved {
    /// One line: the point, how, and what is lost.
    pub fn describe(&self) -> String {
        let loss = match (self.loss_secs, self.onset) {
            (Some(s), Some(o)) => format!(
                "data lost {} ({} to onset {})",
                crate::duration::rpo_span(s),
                self.point.format("%H:%M:%S"),
                o.format("%H:%M:%S")
            ),
            _ => "data lost unknown: no corruption onset recorded".to_string(),
        };
        let how = match self.basis {
            Basis::Backup => format!("backup taken {}", self.backup_at.format("%H:%M:%S")),
            Basis::PointInTime => format!(
                "backup taken {} + WAL replay",
                self.backup_at.format("%H:%M:%S")
            ),
        };
        format!(
            "restore point {} UTC ({}; {how}); {loss}",
            self.point.format("%Y-%m-%d %H:%M:%S"),
            self.to
        )
    }
}

/// Why no point can be chosen.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ResolveError {
    #[error(transparent)]
    Bad(BadRestoreTo),
    #[error(
        "no corruption onset is recorded: record it (assess step, `d`), or choose to = \"newest-good-backup\", \"latest-verified-backup\" or a time"
    )]
    NoOnset,
    #[error("no good backup{}", before.map_or_else(String::new, |b| format!(" taken before {}", b.format("%Y-%m-%d %H:%M:%S UTC"))))]
    NoBackup { before: Option<DateTime<Utc>> },
    #[error("no verified backup{}: none has passed a restore test (backup.verify) on record; verify one, or choose before-corruption or a time", before.map_or_else(String::new, |b| format!(" taken before {}", b.format("%Y-%m-%d %H:%M:%S UTC"))))]
    NoVerifiedBackup { before: Option<DateTime<Utc>> },
    #[error("{} is at or after the corruption onset {}: the corruption would come back; choose an earlier time", point.format("%Y-%m-%d %H:%M:%S UTC"), onset.format("%Y-%m-%d %H:%M:%S UTC"))]
    AfterOnset {
        point: DateTime<Utc>,
        onset: DateTime<Utc>,
    },
    #[error("{} is in the future", point.format("%Y-%m-%d %H:%M:%S UTC"))]
    Future { point: DateTime<Utc> },
    #[error("{} cannot be reached: {why}", point.format("%Y-%m-%d %H:%M:%S UTC"))]
    Unreachable { point: DateTime<Utc>, why: String },
}

/// Resolves a choice against what is known at `now`.
pub fn resolve(to: RestoreTo, known: &Known, now: DateTime<Utc>) -> Result<Resolved, ResolveError> {
    let loss = |point: DateTime<Utc>| {
        known
            .onset
            .map(|o| ((o - point).num_milliseconds() as f64 / 1000.0).max(0.0))
    };
    // A backup whose newest restore test failed is never a source.
    let usable = |b: &DateTime<Utc>| !known.failed_verification.contains(b);
    // The newest good backup taken at or before `t`.
    let backup_before = |t: DateTime<Utc>| {
        known
            .newest_good_backup
            .into_iter()
            .chain(known.backups.iter().copied())
            .filter(usable)
            .filter(|b| *b <= t)
            .max()
    };
    // How far a replay reaches from `backup` towards `t`: the measured window holding the
    // backup's end, else the archive's reach.
    let reach_from = |backup: DateTime<Utc>| {
        if known.windows.is_empty() {
            known.wal_reach
        } else {
            known
                .windows
                .iter()
                .filter(|w| w.contains(backup))
                .map(|w| w.to)
                .max()
        }
    };
    match to {
        RestoreTo::LatestVerifiedBackup => {
            // Verified: a recorded restore test passed (and none failed since), taken before
            // the onset (a restore test does not see the corruption a backup holds).
            let b = known
                .verified
                .iter()
                .copied()
                .filter(usable)
                .filter(|b| known.onset.is_none_or(|o| *b < o))
                .max()
                .ok_or(ResolveError::NoVerifiedBackup {
                    before: known.onset,
                })?;
            Ok(Resolved {
                to,
                point: b,
                basis: Basis::Backup,
                backup_at: b,
                loss_secs: loss(b),
                onset: known.onset,
            })
        }
        RestoreTo::NewestGoodBackup => {
            let b = match known.onset {
                Some(o) => backup_before(o - TimeDelta::seconds(1)),
                None => backup_before(now),
            }
            .ok_or(ResolveError::NoBackup {
                before: known.onset,
            })?;
            Ok(Resolved {
                to,
                point: b,
                basis: Basis::Backup,
                backup_at: b,
                loss_secs: loss(b),
                onset: known.onset,
            })
        }
        RestoreTo::BeforeCorruption => {
            let onset = known.onset.ok_or(ResolveError::NoOnset)?;
            let target = onset - TimeDelta::seconds(1);
            let backup = backup_before(target).ok_or(ResolveError::NoBackup {
                before: Some(onset),
            })?;
            // Point in time: as close to the onset as the archive reaches.
            match reach_from(backup).filter(|r| *r > backup) {
                Some(reach) => {
                    let point = target.min(reach);
                    Ok(Resolved {
                        to,
                        point,
                        basis: Basis::PointInTime,
                        backup_at: backup,
                        loss_secs: loss(point),
                        onset: Some(onset),
                    })
                }
                None => Ok(Resolved {
                    to,
                    point: backup,
                    basis: Basis::Backup,
                    backup_at: backup,
                    loss_secs: loss(backup),
                    onset: Some(onset),
                }),
            }
        }
        RestoreTo::At(point) => {
            if point > now {
                return Err(ResolveError::Future { point });
            }
            if let Some(onset) = known.onset
                && point >= onset
            {
                return Err(ResolveError::AfterOnset { point, onset });
            }
            let Some(backup) = backup_before(point) else {
                if known.windows.is_empty() {
                    return Err(ResolveError::NoBackup {
                        before: Some(point),
                    });
                }
                return Err(ResolveError::Unreachable {
                    point,
                    why: format!(
                        "no good backup was taken before it: {}",
                        coverage_words(known)
                    ),
                });
            };
            if backup == point {
                return Ok(Resolved {
                    to,
                    point,
                    basis: Basis::Backup,
                    backup_at: backup,
                    loss_secs: loss(point),
                    onset: known.onset,
                });
            }
            if !known.windows.is_empty() {
                return match reach_from(backup) {
                    Some(reach) if reach >= point => Ok(Resolved {
                        to,
                        point,
                        basis: Basis::PointInTime,
                        backup_at: backup,
                        loss_secs: loss(point),
                        onset: known.onset,
                    }),
                    _ => Err(ResolveError::Unreachable {
                        point,
                        why: format!(
                            "no replay from a backup reaches it: {}",
                            coverage_words(known)
                        ),
                    }),
                };
            }
            match known.wal_reach {
                Some(reach) if reach >= point => Ok(Resolved {
                    to,
                    point,
                    basis: Basis::PointInTime,
                    backup_at: backup,
                    loss_secs: loss(point),
                    onset: known.onset,
                }),
                Some(reach) => Err(ResolveError::Unreachable {
                    point,
                    why: format!(
                        "the WAL archive reaches only {}",
                        reach.format("%Y-%m-%d %H:%M:%S UTC")
                    ),
                }),
                None => Err(ResolveError::Unreachable {
                    point,
                    why: "no WAL archive to replay: only backup times can be restored to"
                        .to_string(),
                }),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> DateTime<Utc> {
        DateTime::parse_from_rfc3339(s)
            .expect("t")
            .with_timezone(&Utc)
    }

    /// MEASURES.md, worked case 2: onset 10:21:00, snapshots 10:15 (good) and 10:30 (tainted).
    fn case2(wal: Option<&str>) -> Known {
        Known {
            onset: Some(t("2026-01-01T10:21:00Z")),
            newest_good_backup: Some(t("2026-01-01T10:15:00Z")),
            wal_reach: wal.map(t),
            ..Known::default()
        }
    }

    #[test]
    fn older_backups_and_measured_windows() {
        let now = t("2026-01-01T10:40:00Z");
        let at = |s: &str| RestoreTo::At(t(s));
        // Backups at 10:00 and 10:15; the archive replays from 10:00 to 10:08, then a gap
        // to 10:12, then from the 10:15 backup to 10:30.
        let k = Known {
            backups: vec![t("2026-01-01T10:00:00Z")],
            windows: vec![
                Span {
                    from: t("2026-01-01T10:00:00Z"),
                    to: t("2026-01-01T10:08:00Z"),
                },
                Span {
                    from: t("2026-01-01T10:15:00Z"),
                    to: t("2026-01-01T10:30:00Z"),
                },
            ],
            gaps: vec![Span {
                from: t("2026-01-01T10:08:00Z"),
                to: t("2026-01-01T10:12:00Z"),
            }],
            ..case2(Some("2026-01-01T10:30:00Z"))
        };
        // The older backup, as it is.
        let r = resolve(at("2026-01-01T10:00:00Z"), &k, now).expect("older backup");
        assert_eq!((r.basis, r.loss_secs), (Basis::Backup, Some(1260.0)));
        // Inside the first window: replayed from the older backup.
        let r = resolve(at("2026-01-01T10:05:00Z"), &k, now).expect("first window");
        assert_eq!(r.backup_at, t("2026-01-01T10:00:00Z"));
        assert_eq!(r.basis, Basis::PointInTime);
        // In the gap: refused, naming the windows and the gap.
        let e = resolve(at("2026-01-01T10:10:00Z"), &k, now).expect_err("gap");
        let words = e.to_string();
        assert!(words.contains("10:00:00 .. 10:08:00 UTC"), "{words}");
        assert!(
            words.contains("gap 2026-01-01 10:08:00 .. 10:12:00 UTC"),
            "{words}"
        );
        // Before-corruption still reaches 10:20:59 from the 10:15 backup.
        let r = resolve(RestoreTo::BeforeCorruption, &k, now).expect("pitr");
        assert_eq!(r.point, t("2026-01-01T10:20:59Z"));
    }

    #[test]
    fn the_worked_corruption_case() {
        let now = t("2026-01-01T10:40:00Z");
        // No restore test on record: nothing is verified, whatever the backups' health.
        let e = resolve(RestoreTo::LatestVerifiedBackup, &case2(None), now).expect_err("none");
        assert!(matches!(e, ResolveError::NoVerifiedBackup { .. }), "{e}");
        assert!(e.to_string().contains("backup.verify"), "{e}");
        // The newest good backup says what it is: unverified, 6 minutes lost.
        let r = resolve(RestoreTo::NewestGoodBackup, &case2(None), now).expect("good");
        assert_eq!(
            (r.point, r.loss_secs),
            (t("2026-01-01T10:15:00Z"), Some(360.0))
        );
        // The 10:15 snapshot passed its restore test: 6 minutes lost.
        let verified = Known {
            verified: vec![t("2026-01-01T10:15:00Z")],
            ..case2(None)
        };
        let r = resolve(RestoreTo::LatestVerifiedBackup, &verified, now).expect("backup");
        assert_eq!(
            (r.point, r.basis),
            (t("2026-01-01T10:15:00Z"), Basis::Backup)
        );
        assert_eq!(r.loss_secs, Some(360.0));
        // Point in time to 10:20:59: 1 second.
        let r = resolve(
            RestoreTo::BeforeCorruption,
            &case2(Some("2026-01-01T10:25:00Z")),
            now,
        )
        .expect("pitr");
        assert_eq!(r.point, t("2026-01-01T10:20:59Z"));
        assert_eq!(r.basis, Basis::PointInTime);
        assert_eq!(r.loss_secs, Some(1.0));
        assert!(r.describe().contains("data lost 1s"), "{}", r.describe());
        // Without a WAL archive, before-corruption falls back to the backup.
        let r = resolve(RestoreTo::BeforeCorruption, &case2(None), now).expect("backup");
        assert_eq!(r.loss_secs, Some(360.0));
        // An archive that stopped at 10:19: as far as it goes.
        let r = resolve(
            RestoreTo::BeforeCorruption,
            &case2(Some("2026-01-01T10:19:00Z")),
            now,
        )
        .expect("pitr");
        assert_eq!(r.loss_secs, Some(120.0));
    }

    /// A backup whose newest restore test failed is no source: not the latest verified (even
    /// when an older verification passed), not restored as it is, not replayed from.
    #[test]
    fn a_failed_verification_refuses_the_backup() {
        let now = t("2026-01-01T10:40:00Z");
        let older = t("2026-01-01T10:00:00Z");
        let failed = t("2026-01-01T10:15:00Z");
        let k = Known {
            backups: vec![older],
            verified: vec![older, failed],
            failed_verification: vec![failed],
            ..case2(Some("2026-01-01T10:25:00Z"))
        };
        let r = resolve(RestoreTo::LatestVerifiedBackup, &k, now).expect("older");
        assert_eq!(r.backup_at, older);
        let r = resolve(RestoreTo::BeforeCorruption, &k, now).expect("pitr");
        assert_eq!((r.backup_at, r.basis), (older, Basis::PointInTime));
        let r = resolve(RestoreTo::At(failed), &k, now).expect("replayed from the older");
        assert_eq!((r.backup_at, r.basis), (older, Basis::PointInTime));
        // With only the failed one, nothing.
        let only = Known {
            newest_good_backup: Some(failed),
            failed_verification: vec![failed],
            ..case2(None)
        };
        assert!(matches!(
            resolve(RestoreTo::BeforeCorruption, &only, now),
            Err(ResolveError::NoBackup { .. })
        ));
    }

    #[test]
    fn explicit_times_are_checked() {
        let now = t("2026-01-01T10:40:00Z");
        let k = case2(Some("2026-01-01T10:25:00Z"));
        let at = |s: &str| RestoreTo::At(t(s));
        let r = resolve(at("2026-01-01T10:20:00Z"), &k, now).expect("ok");
        assert_eq!(r.loss_secs, Some(60.0));
        assert!(matches!(
            resolve(at("2026-01-01T10:22:00Z"), &k, now),
            Err(ResolveError::AfterOnset { .. })
        ));
        assert!(matches!(
            resolve(at("2026-01-01T10:10:00Z"), &k, now),
            Err(ResolveError::NoBackup { .. })
        ));
        let short = case2(Some("2026-01-01T10:18:00Z"));
        let e = resolve(at("2026-01-01T10:20:00Z"), &short, now).expect_err("beyond");
        assert!(e.to_string().contains("reaches only"), "{e}");
        assert!(matches!(
            resolve(RestoreTo::BeforeCorruption, &Known::default(), now),
            Err(ResolveError::NoOnset)
        ));
    }

    #[test]
    fn parses_what_it_prints() {
        for s in [
            "before-corruption",
            "latest-verified-backup",
            "newest-good-backup",
            "2026-01-01T10:20:59Z",
        ] {
            let r: RestoreTo = s.parse().expect(s);
            assert_eq!(r.to_string(), s);
        }
        assert!("yesterday".parse::<RestoreTo>().is_err());
    }
}
