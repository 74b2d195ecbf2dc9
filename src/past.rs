//! Past drills on the step list (issue 13, item 9): each step's median and 90th percentile time
//! from earlier drills of the same playbook, read from the journals directory.
//!
//! [`of`] is pure (already-read journals in, figures out) and is what the tests drive; [`load`]
//! is the bounded I/O around it (at most [`MAX_JOURNALS`] most recent candidates), called by the
//! console before it takes the terminal, so the UI thread never reads a file.
//!
//! What counts: journals whose header says `drill` (not live incidents, not demos) of the same
//! playbook id; in each, the steps that finished done, with their time from start to done in the
//! engine's clock (session time: paused time is not in it), as the report's projection measures
//! it. A step never done in an earlier drill has no figures.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use crate::journal::{self, Mode, Replay};
use crate::report;

/// The most journals [`load`] reads: the most recent candidates by name (names start with their
/// creation time).
pub const MAX_JOURNALS: usize = 50;

/// One step's times in earlier drills.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StepStats {
    /// Drills in which the step was done.
    pub runs: usize,
    /// Median time from start to done, whole seconds (linear interpolation between the two
    /// middle values for an even count).
    pub p50_secs: u64,
    /// 90th percentile time from start to done, whole seconds (linear interpolation between
    /// closest ranks: numpy's default).
    pub p90_secs: u64,
}

/// Earlier drills of one playbook.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PastDrills {
    /// Journals that counted (drills of this playbook).
    pub drills: usize,
    /// Per step id.
    pub steps: BTreeMap<String, StepStats>,
}

impl PastDrills {
    pub fn step(&self, id: &str) -> Option<&StepStats> {
        self.steps.get(id)
    }
}

/// The `p`-th percentile (0..=100) of `sorted` (ascending), by linear interpolation between
/// closest ranks; `None` for no values. Rounded to the nearest whole second.
pub fn percentile(sorted: &[u64], p: f64) -> Option<u64> {
    let (&first, _) = sorted.split_first()?;
    if sorted.len() == 1 {
        return Some(first);
    }
    let rank = (p.clamp(0.0, 100.0) / 100.0) * (sorted.len() - 1) as f64;
    let below = rank.floor() as usize;
    let above = rank.ceil() as usize;
    let lo = *sorted.get(below)? as f64;
    let hi = *sorted.get(above)? as f64;
    Some((lo + (hi - lo) * (rank - below as f64)).round() as u64)
}

/// Whether a journal counts for `playbook`: a drill of that playbook id.
pub fn counts(replay: &Replay, playbook: &str) -> bool {
    replay.header.mode == Mode::Drill && replay.header.playbook.id == playbook
}

/// The figures of `journals` for `playbook` (the ones that do not count are passed over).
pub fn of<'a>(playbook: &str, journals: impl IntoIterator<Item = &'a Replay>) -> PastDrills {
    let mut times: BTreeMap<String, Vec<u64>> = BTreeMap::new();
    let mut drills = 0;
    for replay in journals {
        if !counts(replay, playbook) {
            continue;
        }
        drills += 1;
        let pm = report::build(replay);
        for step in &pm.steps {
            if step.status == "done"
                && let Some(secs) = step.actual_secs
            {
                times.entry(step.id.clone()).or_default().push(secs);
            }
        }
    }
    let steps = times
        .into_iter()
        .filter_map(|(id, mut all)| {
            all.sort_unstable();
            Some((
                id,
                StepStats {
                    runs: all.len(),
                    p50_secs: percentile(&all, 50.0)?,
                    p90_secs: percentile(&all, 90.0)?,
                },
            ))
        })
        .collect();
    PastDrills { drills, steps }
}

/// Reads the earlier drills of `playbook` in `dir`: the [`MAX_JOURNALS`] most recent journals
/// whose name says they are drills of it (`...-<id>-drill.jsonl`, `...-<id>-drill-2.jsonl`;
/// the header decides), leaving out `except` (the console's own journal). A file that cannot
/// be read is passed over; a missing directory gives nothing.
pub fn load(dir: &Path, playbook: &str, except: Option<&Path>) -> PastDrills {
    let Ok(all) = journal::list(dir) else {
        return PastDrills::default();
    };
    let candidates: Vec<PathBuf> = all
        .into_iter()
        .filter(|p| Some(p.as_path()) != except && named_as_drill_of(p, playbook))
        .collect();
    let skip = candidates.len().saturating_sub(MAX_JOURNALS);
    let replays: Vec<Replay> = candidates
        .iter()
        .skip(skip)
        .filter_map(|p| journal::read(p).ok())
        .collect();
    of(playbook, &replays)
}

/// `2026-11-22T0312Z-region-loss-drill.jsonl` or `...-drill-2.jsonl` for `region-loss`.
fn named_as_drill_of(path: &Path, playbook: &str) -> bool {
    let Some(stem) = path.file_stem().and_then(|s| s.to_str()) else {
        return false;
    };
    let tail = format!("-{playbook}-{}", Mode::Drill.as_str());
    match stem.rfind(&tail) {
        Some(at) => {
            let rest = &stem[at + tail.len()..];
            rest.is_empty()
                || rest
                    .strip_prefix('-')
                    .is_some_and(|n| !n.is_empty() && n.bytes().all(|b| b.is_ascii_digit()))
        }
        None => false,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn percentiles_of_small_sets() {
        assert_eq!(percentile(&[], 50.0), None);
        assert_eq!(percentile(&[42], 50.0), Some(42));
        assert_eq!(percentile(&[42], 90.0), Some(42));
        assert_eq!(percentile(&[10, 20], 50.0), Some(15));
        assert_eq!(percentile(&[10, 20], 90.0), Some(19));
        assert_eq!(percentile(&[10, 20, 30], 50.0), Some(20));
        assert_eq!(percentile(&[10, 20, 30], 90.0), Some(28));
        let ten: Vec<u64> = (1..=10).map(|i| i * 60).collect();
        assert_eq!(percentile(&ten, 50.0), Some(330));
        assert_eq!(percentile(&ten, 90.0), Some(546));
        assert_eq!(percentile(&ten, 100.0), Some(600));
        assert_eq!(percentile(&ten, 0.0), Some(60));
    }

    #[test]
    fn drill_names_of_a_playbook() {
        let yes = |n: &str| named_as_drill_of(Path::new(n), "region-loss");
        assert!(yes("2026-11-22T0312Z-region-loss-drill.jsonl"));
        assert!(yes("/x/2026-11-22T0312Z-region-loss-drill-12.jsonl"));
        assert!(!yes("2026-11-22T0312Z-region-loss-live.jsonl"));
        assert!(!yes("2026-11-22T0312Z-region-loss-demo.jsonl"));
        assert!(!yes("2026-11-22T0312Z-az-loss-drill.jsonl"));
        assert!(!yes("2026-11-22T0312Z-region-loss-drill-x.jsonl"));
    }
}
