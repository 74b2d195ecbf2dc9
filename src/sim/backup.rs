//! Backup series: when attempts happen, whether they succeed, and what the Backups pane shows.

use std::collections::VecDeque;

use crate::duration::Dur;
use crate::telemetry::{AttemptOutcome, BackupReading};

use super::rng::Rng;
use super::{DAY, to_utc};

/// Probability that a scheduled attempt fails on its own (the seeds' backups fail now and then;
/// 2.5 % keeps the 24 h success rate of a 15-minute series around 97-98 %).
pub(crate) const BACKUP_FAIL_P: f64 = 0.025;

/// When a series' attempts happen.
#[derive(Debug, Clone)]
enum Cadence {
    /// Slots at `offset + k * period` seconds after the Unix epoch (so `period = 24h` and an
    /// offset of 02:00 is "daily at 02:00 UTC"); each attempt completes `delay` seconds after its
    /// slot. A failed slot is simply followed by the next one: that is the retry.
    Slots {
        period: i64,
        offset: i64,
        delay: (i64, i64),
    },
    /// Event-driven (a model registry written on each model update): gaps drawn uniformly.
    Irregular { gap: (i64, i64) },
}

/// One attempt, identified by the time it completed.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) struct Attempt {
    pub(crate) at: i64,
    pub(crate) ok: bool,
    /// Taken while the database behind it was corrupt: it restores the corruption.
    pub(crate) tainted: bool,
    pub(crate) size: u64,
}

/// A series whose job is broken (the environment's `failing_for` / `stopped_for`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Breakage {
    /// Every scheduled attempt fails.
    Failing,
    /// Scheduled attempts do not happen.
    Stopped,
}

#[derive(Debug, Clone)]
pub(crate) struct Series {
    pub(crate) name: String,
    pub(crate) kind: String,
    pub(crate) every: Dur,
    cadence: Cadence,
    /// Typical size in bytes and its relative spread.
    size: (f64, f64),
    /// Start of the slot whose attempt is `next_at` (slot cadences only).
    slot: i64,
    /// Completion time of the next scheduled attempt.
    pub(crate) next_at: i64,
    /// Attempts of the last 24 h, oldest first (older ones are dropped as new ones arrive).
    recent: VecDeque<Attempt>,
    pub(crate) last_attempt: Option<Attempt>,
    pub(crate) last_success: Option<Attempt>,
    pub(crate) last_good: Option<Attempt>,
    /// Broken from this time on (simulated seconds), if at all.
    pub(crate) broken: Option<(Breakage, i64)>,
    /// The newest `backup.verify` of the series: when (simulated seconds), the backup verified
    /// (its completion time) and whether it passed.
    pub(crate) last_verified: Option<(i64, bool)>,
    pub(crate) last_verified_backup: Option<i64>,
    /// Each backup's newest restore test: (its completion time, passed), the newest last.
    pub(crate) verifications: Vec<(i64, bool)>,
}

impl Series {
    /// A series from its environment definition. An unreadable `at` is reported in `warnings` and
    /// treated as unset, so that a typo degrades the schedule instead of refusing to start.
    pub(crate) fn new(
        name: &str,
        kind: &str,
        every: Dur,
        at: Option<&str>,
        warnings: &mut Vec<String>,
    ) -> Series {
        let period = i64::try_from(every.secs()).unwrap_or(DAY).max(60);
        let at_secs = at.and_then(|text| {
            let parsed = parse_hh_mm(text);
            if parsed.is_none() {
                warnings.push(format!(
                    "backup {name:?}: sim.at = {text:?} is not a UTC time HH:MM; \
                     ignoring it (write e.g. \"02:00\")"
                ));
            }
            parsed
        });
        let cadence = match at_secs {
            Some(secs) => {
                // Daily jobs start on time and run for a few minutes (a pg_dump, an RDS
                // snapshot in its window): done 3 to 25 minutes after the slot.
                let hi = 1500.min(period / 4).max(1);
                Cadence::Slots {
                    period,
                    offset: secs.rem_euclid(period),
                    delay: (180.min(hi), hi),
                }
            }
            None if period < DAY => {
                // Frequent jobs finish well within the pane's grace (a tenth of the interval), so
                // a healthy series never flickers to DUE.
                let hi = (period / 20).clamp(5, 120);
                Cadence::Slots {
                    period,
                    offset: 0,
                    delay: (5.min(hi), hi),
                }
            }
            None => Cadence::Irregular {
                gap: (period / 8, period / 2),
            },
        };
        Series {
            name: name.to_string(),
            kind: kind.to_string(),
            every,
            cadence,
            size: size_model(kind),
            slot: 0,
            next_at: 0,
            recent: VecDeque::new(),
            last_verified: None,
            last_verified_backup: None,
            verifications: Vec::new(),
            last_attempt: None,
            last_success: None,
            last_good: None,
            broken: None,
        }
    }

    /// Schedules the first attempt after `from`.
    pub(crate) fn start(&mut self, from: i64, rng: &mut Rng) {
        match self.cadence {
            Cadence::Slots {
                period,
                offset,
                delay,
            } => {
                self.slot = offset + ((from - offset).div_euclid(period) + 1) * period;
                self.next_at = self.slot + rng.range_i64(delay.0, delay.1);
            }
            Cadence::Irregular { gap } => self.next_at = from + rng.range_i64(0, gap.1),
        }
    }

    /// Schedules the attempt after the one at `next_at`.
    pub(crate) fn schedule_next(&mut self, rng: &mut Rng) {
        match self.cadence {
            Cadence::Slots { period, delay, .. } => {
                self.slot += period;
                self.next_at = self.slot + rng.range_i64(delay.0, delay.1);
            }
            Cadence::Irregular { gap } => self.next_at += rng.range_i64(gap.0, gap.1).max(1),
        }
    }

    /// The scheduled attempt completing at `at`: as [`Series::attempt`], unless the job is
    /// broken by then (failing: it fails; stopped: there is no attempt).
    pub(crate) fn scheduled(&mut self, at: i64, reachable: bool, corrupt: bool, rng: &mut Rng) {
        match self.broken {
            Some((Breakage::Stopped, since)) if at >= since => {}
            Some((Breakage::Failing, since)) if at >= since => {
                self.attempt(at, false, corrupt, false, rng);
            }
            _ => {
                self.attempt(at, reachable, corrupt, false, rng);
            }
        }
    }

    /// Records an attempt completing at `at`. Scheduled attempts fail now and then on their own;
    /// a manual one fails only when the database is unreachable (a drill step should not fail by
    /// dice roll).
    pub(crate) fn attempt(
        &mut self,
        at: i64,
        reachable: bool,
        corrupt: bool,
        manual: bool,
        rng: &mut Rng,
    ) -> Attempt {
        let unlucky = !manual && rng.chance(BACKUP_FAIL_P);
        let ok = reachable && !unlucky;
        let (base, spread) = self.size;
        let size = (base * (1.0 + rng.range_f64(-spread, spread))).max(1.0) as u64;
        let attempt = Attempt {
            at,
            ok,
            tainted: ok && corrupt,
            size,
        };
        self.last_attempt = Some(attempt);
        if ok {
            self.last_success = Some(attempt);
            if !corrupt {
                self.last_good = Some(attempt);
            }
        }
        while self.recent.front().is_some_and(|a| a.at <= at - DAY) {
            self.recent.pop_front();
        }
        self.recent.push_back(attempt);
        attempt
    }

    /// The attempts of the last 24 h, oldest first.
    pub(crate) fn attempts(&self) -> impl Iterator<Item = &Attempt> {
        self.recent.iter()
    }

    /// Successes newer than the newest good one (they restore the corruption).
    pub(crate) fn tainted_since_good(&self) -> usize {
        let good = self.last_good.map_or(i64::MIN, |g| g.at);
        self.recent
            .iter()
            .filter(|a| a.tainted && a.at > good)
            .count()
    }

    pub(crate) fn reading(&self, now: i64) -> BackupReading {
        let window = self
            .recent
            .iter()
            .filter(|a| a.at > now - DAY && a.at <= now);
        let (attempts, successes) =
            window.fold((0u32, 0u32), |(n, ok), a| (n + 1, ok + u32::from(a.ok)));
        BackupReading {
            name: self.name.clone(),
            kind: self.kind.clone(),
            every: self.every,
            last_success: self.last_success.map(|a| to_utc(a.at)),
            last_good: self.last_good.map(|a| to_utc(a.at)),
            last_attempt: self.last_attempt.map(|a| to_utc(a.at)),
            last_outcome: self.last_attempt.map(|a| {
                if a.ok {
                    AttemptOutcome::Succeeded
                } else {
                    AttemptOutcome::Failed
                }
            }),
            attempts_24h: attempts,
            successes_24h: successes,
            size_bytes: self.last_success.map(|a| a.size),
            last_verified: self
                .last_verified
                .map(|(at, ok)| crate::telemetry::VerifiedReading {
                    at: to_utc(at),
                    ok,
                    backup: self.last_verified_backup.map(to_utc),
                }),
        }
    }
}

/// `"HH:MM"` -> seconds after midnight.
fn parse_hh_mm(text: &str) -> Option<i64> {
    let (h, m) = text.trim().split_once(':')?;
    let h: i64 = h.parse().ok()?;
    let m: i64 = m.parse().ok()?;
    ((0..24).contains(&h) && (0..60).contains(&m)).then_some(h * 3600 + m * 60)
}

const KIB: f64 = 1024.0;
const MIB: f64 = 1024.0 * KIB;
const GIB: f64 = 1024.0 * MIB;

/// Plausible sizes by the kind of backup. Only cosmetic (the size column), so a loose keyword
/// match is enough; unknown kinds get 1 GiB.
fn size_model(kind: &str) -> (f64, f64) {
    let k = kind.to_ascii_lowercase();
    if k.contains("wal") {
        (96.0 * MIB, 0.6)
    } else if k.contains("dump") {
        (8.4 * GIB, 0.02)
    } else if k.contains("snapshot") || k.contains("automated") {
        (42.0 * GIB, 0.01)
    } else if k.contains("model") {
        (350.0 * MIB, 0.25)
    } else if k.contains("config") {
        (48.0 * KIB, 0.1)
    } else {
        (GIB, 0.05)
    }
}

/// `41.3 GiB`, `96.0 MiB`, `48.2 KiB`, `512 B`.
pub(crate) fn human_bytes(bytes: u64) -> String {
    let b = bytes as f64;
    if b >= GIB {
        format!("{:.1} GiB", b / GIB)
    } else if b >= MIB {
        format!("{:.1} MiB", b / MIB)
    } else if b >= KIB {
        format!("{:.1} KiB", b / KIB)
    } else {
        format!("{bytes} B")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hh_mm_parses_and_rejects() {
        assert_eq!(parse_hh_mm("02:00"), Some(7200));
        assert_eq!(parse_hh_mm("23:59"), Some(86_340));
        for bad in ["24:00", "2", "ab:cd", "01:60", ""] {
            assert_eq!(parse_hh_mm(bad), None, "{bad}");
        }
        let mut w = Vec::new();
        Series::new("x", "pg_dump", Dur::from_hours(24), Some("2am"), &mut w);
        assert!(w[0].contains("\"2am\""), "{w:?}");
    }

    #[test]
    fn daily_slots_land_after_their_time() {
        let mut w = Vec::new();
        let mut s = Series::new("d", "pg_dump", Dur::from_hours(24), Some("02:00"), &mut w);
        let mut rng = Rng::new(3);
        s.start(0, &mut rng);
        for day in 0..5 {
            let in_day = s.next_at - day * DAY;
            assert!((7200 + 180..=7200 + 1500).contains(&in_day), "{in_day}");
            s.schedule_next(&mut rng);
        }
    }

    #[test]
    fn human_sizes() {
        assert_eq!(human_bytes(512), "512 B");
        assert_eq!(human_bytes(3 * 1024 * 1024), "3.0 MiB");
    }
}
