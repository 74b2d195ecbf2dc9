//! The merged DR picture the console shows: the newest readings of every source, each source's
//! health, and a short lag history per replica for the sparklines.

use std::collections::{BTreeMap, VecDeque};

use chrono::{DateTime, TimeDelta, Utc};

use super::Sample;
use super::reason::{Failure, FailureReason, clean, failures_in};
use super::source::{Feeds, SourceError, SourceId};

/// How many lag points a sparkline keeps.
pub const LAG_HISTORY_POINTS: usize = 120;

#[derive(Debug, Clone)]
pub struct SourceState {
    pub name: String,
    pub feeds: Feeds,
    /// Session time of the newest successful sample.
    pub last_ok: Option<DateTime<Utc>>,
    /// The newest error, with the session time it arrived; cleared by the next success.
    pub last_error: Option<(DateTime<Utc>, SourceError)>,
    /// What the newest successful sample could not read (a database that refused us, a health
    /// URL that gave no answer), with why.
    pub failures: Vec<Failure>,
}

/// Whether a pane's data can be trusted right now.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Freshness {
    Fresh,
    /// No sample yet from a source feeding the pane.
    Waiting,
    /// The newest data is `age_secs` old, or a feeding source reported `error`.
    Stale {
        age_secs: Option<u64>,
        error: Option<String>,
    },
}

#[derive(Debug, Clone)]
pub struct Board {
    pub sources: Vec<SourceState>,
    pub picture: Sample,
    /// Replica lag in whole seconds, oldest first, per logical database name.
    pub lag_history: BTreeMap<String, VecDeque<u64>>,
    /// The reading time of each database's newest history point.
    lag_seen_at: BTreeMap<String, DateTime<Utc>>,
    /// A source is stale when its newest success is older than this (session time).
    pub stale_after: TimeDelta,
}

impl Board {
    /// Every source has reported at least once (a sample or an error): no pane waits for data.
    pub fn complete(&self) -> bool {
        self.sources
            .iter()
            .all(|s| s.last_ok.is_some() || s.last_error.is_some())
    }

    pub fn new(sources: impl IntoIterator<Item = (String, Feeds)>, stale_after: TimeDelta) -> Self {
        Board {
            sources: sources
                .into_iter()
                .map(|(name, feeds)| SourceState {
                    name,
                    feeds,
                    last_ok: None,
                    last_error: None,
                    failures: Vec::new(),
                })
                .collect(),
            picture: Sample::default(),
            lag_history: BTreeMap::new(),
            lag_seen_at: BTreeMap::new(),
            stale_after,
        }
    }

    /// Folds one poll result in. `received` is the session time it arrived.
    pub fn apply(
        &mut self,
        id: SourceId,
        result: Result<Sample, SourceError>,
        received: DateTime<Utc>,
    ) {
        let Some(state) = self.sources.get_mut(id.0) else {
            return;
        };
        match result {
            Ok(sample) => {
                state.last_ok = Some(received);
                state.last_error = None;
                state.failures = failures_in(&state.name, &sample);
                for db in &sample.databases {
                    // A reading no newer than the last point of its database (a paused clock
                    // polls the same moment again) adds none: the history moves with session
                    // time, not with polls.
                    let last = self.lag_seen_at.get(&db.name);
                    if last.is_some_and(|at| sample.at <= *at) {
                        continue;
                    }
                    if let Some(lag) = db.replication.as_ref().and_then(|r| r.lag_secs) {
                        self.lag_seen_at.insert(db.name.clone(), sample.at);
                        let points = self.lag_history.entry(db.name.clone()).or_default();
                        if points.len() == LAG_HISTORY_POINTS {
                            points.pop_front();
                        }
                        // Whole seconds: sub-second lag is noise at this scale.
                        points.push_back(lag.max(0.0).round() as u64);
                    }
                }
                self.picture.merge_from(&sample);
            }
            Err(e) => state.last_error = Some((received, e)),
        }
    }

    /// Everything that cannot be read now, source by source: a source whose poll failed (or
    /// that never answered) as a whole, else the targets its newest sample could not read.
    pub fn failures(&self) -> Vec<Failure> {
        let mut out = Vec::new();
        for s in &self.sources {
            match (&s.last_error, s.last_ok) {
                (Some((_, e)), _) => out.push(Failure {
                    source: s.name.clone(),
                    target: None,
                    reason: e.reason(),
                    message: clean(&e.to_string()),
                }),
                (None, None) => out.push(Failure {
                    source: s.name.clone(),
                    target: None,
                    reason: FailureReason::other("no answer yet"),
                    message: "no answer yet".to_string(),
                }),
                (None, Some(_)) => out.extend(s.failures.iter().cloned()),
            }
        }
        out
    }

    /// Freshness of the data behind a pane: the worst of the sources that feed it.
    pub fn freshness(&self, pane: impl Fn(&Feeds) -> bool, now: DateTime<Utc>) -> Freshness {
        let mut worst = Freshness::Fresh;
        for s in self.sources.iter().filter(|s| pane(&s.feeds)) {
            let age = s
                .last_ok
                .map(|t| u64::try_from((now - t).num_seconds()).unwrap_or(0));
            let this = match (&s.last_error, s.last_ok) {
                (Some((_, e)), _) => Freshness::Stale {
                    age_secs: age,
                    error: Some(format!("{}: {e}", s.name)),
                },
                (None, None) => Freshness::Waiting,
                (None, Some(t)) if now - t > self.stale_after => Freshness::Stale {
                    age_secs: age,
                    error: None,
                },
                (None, Some(_)) => Freshness::Fresh,
            };
            worst = match (&worst, &this) {
                (Freshness::Stale { .. }, _) => worst,
                (_, Freshness::Stale { .. }) => this,
                (Freshness::Waiting, _) => worst,
                _ => this,
            };
        }
        worst
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::duration::Dur;
    use crate::telemetry::{DatabaseReading, DbRole, DbState, Replication, ReplicationState};
    use chrono::TimeZone;

    fn t(secs: i64) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid date")
            + TimeDelta::seconds(secs)
    }

    fn lag_sample(lag: f64) -> Sample {
        Sample {
            at: t(0),
            databases: vec![DatabaseReading {
                failover_paused: None,
                name: "dr-replica".into(),
                resource: "r".into(),
                region: "dr".into(),
                role: DbRole::Replica,
                state: DbState::Available,
                az: None,
                multi_az: false,
                replication: Some(Replication {
                    source: "primary".into(),
                    state: ReplicationState::Streaming,
                    lag_secs: Some(lag),
                    lag_bytes: None,
                    lag_alarm: Dur::from_secs(300),
                    loss_window_secs: None,
                    source_lost_at: None,
                    last_replayed_at: None,
                    loss_window_bytes: None,
                    loss_evidence: None,
                }),
                integrity_ok: None,
                corrupt_since: None,
                failure: None,
            }],
            ..Sample::default()
        }
    }

    #[test]
    fn history_is_bounded_and_ordered() {
        let mut b = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        for i in 0..(LAG_HISTORY_POINTS + 10) {
            let sample = Sample {
                at: t(i as i64),
                ..lag_sample(i as f64)
            };
            b.apply(SourceId(0), Ok(sample), t(i as i64));
        }
        let h = &b.lag_history["dr-replica"];
        assert_eq!(h.len(), LAG_HISTORY_POINTS);
        assert_eq!(h.front(), Some(&10));
        assert_eq!(h.back(), Some(&(LAG_HISTORY_POINTS as u64 + 9)));
    }

    /// A paused clock polls the same moment again: the history does not move.
    #[test]
    fn a_sample_of_the_same_moment_adds_no_history_point() {
        let mut b = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        for (secs, lag) in [(0, 1.0), (1, 2.0), (1, 2.0), (1, 2.0), (2, 3.0)] {
            let sample = Sample {
                at: t(secs),
                ..lag_sample(lag)
            };
            b.apply(SourceId(0), Ok(sample), t(secs));
        }
        let h: Vec<u64> = b.lag_history["dr-replica"].iter().copied().collect();
        assert_eq!(h, [1, 2, 3]);
    }

    #[test]
    fn freshness_goes_waiting_fresh_stale_and_back() {
        let mut b = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        let lag = |f: &Feeds| f.lag;
        assert_eq!(b.freshness(lag, t(0)), Freshness::Waiting);
        b.apply(SourceId(0), Ok(lag_sample(1.0)), t(0));
        assert_eq!(b.freshness(lag, t(3)), Freshness::Fresh);
        assert_eq!(
            b.freshness(lag, t(9)),
            Freshness::Stale {
                age_secs: Some(9),
                error: None
            }
        );
        b.apply(SourceId(0), Err(SourceError::Timeout { secs: 5 }), t(10));
        match b.freshness(lag, t(10)) {
            Freshness::Stale { age_secs, error } => {
                assert_eq!(age_secs, Some(10));
                assert_eq!(error.as_deref(), Some("sim: timeout after 5s"));
            }
            other => panic!("expected stale, got {other:?}"),
        }
        b.apply(SourceId(0), Ok(lag_sample(1.0)), t(11));
        assert_eq!(b.freshness(lag, t(11)), Freshness::Fresh);
    }
}
