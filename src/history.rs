//! `warroom history`: every journal in a directory, one row each in wall-clock order (a drill at
//! `--speed 60` ends hours "later" in simulated time, so simulated time cannot order drills),
//! then per scenario the number of runs, the pass rate and the trend of RTO achieved. A file that
//! cannot be read is listed with its error; it does not stop the others. Every figure comes from
//! the report's projection.

use std::fmt::Write as _;
use std::path::{Path, PathBuf};

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::duration::Dur;
use crate::journal::{self, JournalError, Mode, Replay};
use crate::playbook::projection::{rpo_span, span};
use crate::report::{self, Verdict};

/// RTOs shown per scenario (the most recent) and used for the trend.
pub const TREND_RUNS: usize = 5;

/// One journal's result.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Entry {
    /// The real (wall-clock) start: the declaration, or the journal's creation if never
    /// declared. History is ordered by it.
    pub date: DateTime<Utc>,
    /// The real (wall-clock) duration, declaration to end (or last event).
    pub real_duration_secs: Option<u64>,
    /// Who ran the console.
    pub operator: String,
    /// Disrupted -> detected.
    pub mttd_secs: Option<u64>,
    /// Steps that ran past their target.
    pub steps_over_target: usize,
    pub scenario: String,
    pub playbook: String,
    pub mode: Mode,
    pub rto_objective_secs: u64,
    /// RTO achieved: disrupted -> service restored.
    pub rto_achieved_secs: Option<u64>,
    pub rpo_objective_secs: u64,
    pub rpo_achieved_secs: Option<f64>,
    pub verdict: Verdict,
}

/// One file of the directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct Row {
    /// The path, as found in the directory.
    pub path: PathBuf,
    /// `None` when the file could not be read as a journal.
    pub entry: Option<Entry>,
    /// Why it could not (the first line of the error: what and where).
    pub error: Option<String>,
}

/// Which way the RTO goes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum Trend {
    /// The latest RTO is more than 5 % below the mean of the ones before it (up to four).
    Improving,
    /// More than 5 % above.
    Worsening,
    /// Within 5 %.
    Steady,
    /// Fewer than two resolved runs.
    NotEnoughRuns,
}

impl Trend {
    pub fn label(self) -> &'static str {
        match self {
            Trend::Improving => "improving",
            Trend::Worsening => "worsening",
            Trend::Steady => "steady",
            Trend::NotEnoughRuns => "—",
        }
    }
}

/// One scenario across the directory.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ScenarioStats {
    pub scenario: String,
    /// Journals of this scenario that could be read.
    pub runs: usize,
    /// Those that ended (resolved or aborted): the pass rate's denominator.
    pub ended: usize,
    pub passed: usize,
    /// The RTOs achieved by the last [`TREND_RUNS`] resolved runs, oldest first.
    pub recent_rtos: Vec<u64>,
    pub trend: Trend,
}

/// The directory's history.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct History {
    pub dir: PathBuf,
    /// Readable journals oldest first, then unreadable files by name.
    pub rows: Vec<Row>,
    /// Scenarios in order of their first run.
    pub scenarios: Vec<ScenarioStats>,
}

/// One journal's history entry.
pub fn entry(replay: &Replay) -> Entry {
    let pm = report::build(replay);
    Entry {
        date: pm.real.started_at.unwrap_or(pm.started_at),
        real_duration_secs: pm.real.duration_secs,
        operator: pm.operator.clone(),
        mttd_secs: pm.mttd_secs,
        steps_over_target: pm.steps_over_target,
        scenario: pm.playbook.scenario.clone(),
        playbook: pm.playbook.id.clone(),
        mode: pm.mode,
        rto_objective_secs: pm.rto.objective_secs,
        rto_achieved_secs: pm.rto.achieved_secs,
        rpo_objective_secs: pm.rpo.objective_secs,
        rpo_achieved_secs: pm.rpo.achieved_secs,
        verdict: pm.verdict,
    }
}

/// Readable rows in wall-clock order (then by path), for [`scan`] and tests.
pub fn order(rows: &mut [Row]) {
    rows.sort_by(|a, b| {
        let key = |r: &Row| r.entry.as_ref().map(|e| e.date);
        key(a).cmp(&key(b)).then_with(|| a.path.cmp(&b.path))
    });
}

/// The history of already-read journals (`(path, replay)`), as [`scan`] builds it.
pub fn of(dir: &Path, journals: Vec<(PathBuf, Replay)>) -> History {
    let mut rows: Vec<Row> = journals
        .into_iter()
        .map(|(path, replay)| Row {
            path,
            entry: Some(entry(&replay)),
            error: None,
        })
        .collect();
    order(&mut rows);
    let scenarios = stats(&rows);
    History {
        dir: dir.to_path_buf(),
        rows,
        scenarios,
    }
}

/// Reads every journal (`*.jsonl`) in `dir`. Only an unreadable directory is an error.
pub fn scan(dir: &Path) -> Result<History, JournalError> {
    let mut readable = Vec::new();
    let mut broken = Vec::new();
    // A version-1 journal continued in a version-2 one is that incident's first part: the
    // continuation carries all of it, so the older file is not counted twice.
    let mut continued = std::collections::BTreeSet::new();
    for path in journal::list(dir)? {
        match journal::read(&path) {
            Ok(replay) => {
                if let Some(c) = &replay.header.continues {
                    continued.insert(path.with_file_name(&c.file));
                }
                let entry = entry(&replay);
                readable.push(Row {
                    path,
                    entry: Some(entry),
                    error: None,
                });
            }
            Err(e) => {
                let text = e.to_string();
                let first = text.lines().next().unwrap_or_default().to_string();
                broken.push(Row {
                    path,
                    entry: None,
                    error: Some(first),
                });
            }
        }
    }
    readable.retain(|r| !continued.contains(&r.path));
    order(&mut readable);
    let scenarios = stats(&readable);
    readable.extend(broken);
    Ok(History {
        dir: dir.to_path_buf(),
        rows: readable,
        scenarios,
    })
}

fn stats(rows: &[Row]) -> Vec<ScenarioStats> {
    let mut out: Vec<ScenarioStats> = Vec::new();
    let mut rtos: Vec<Vec<u64>> = Vec::new();
    for e in rows.iter().filter_map(|r| r.entry.as_ref()) {
        let i = match out.iter().position(|s| s.scenario == e.scenario) {
            Some(i) => i,
            None => {
                out.push(ScenarioStats {
                    scenario: e.scenario.clone(),
                    runs: 0,
                    ended: 0,
                    passed: 0,
                    recent_rtos: Vec::new(),
                    trend: Trend::NotEnoughRuns,
                });
                rtos.push(Vec::new());
                out.len() - 1
            }
        };
        let s = &mut out[i];
        s.runs += 1;
        match e.verdict {
            Verdict::Pass => {
                s.ended += 1;
                s.passed += 1;
            }
            Verdict::Fail | Verdict::Aborted => s.ended += 1,
            Verdict::InProgress | Verdict::NotDeclared => {}
        }
        if let Some(rto) = e.rto_achieved_secs {
            rtos[i].push(rto);
        }
    }
    for (s, all) in out.iter_mut().zip(rtos) {
        let skip = all.len().saturating_sub(TREND_RUNS);
        s.recent_rtos = all.into_iter().skip(skip).collect();
        s.trend = trend(&s.recent_rtos);
    }
    out
}

/// The latest RTO against the mean of the ones before it.
fn trend(rtos: &[u64]) -> Trend {
    let Some((&latest, before)) = rtos.split_last() else {
        return Trend::NotEnoughRuns;
    };
    if before.is_empty() {
        return Trend::NotEnoughRuns;
    }
    let mean = before.iter().sum::<u64>() as f64 / before.len() as f64;
    let latest = latest as f64;
    if latest < mean * 0.95 {
        Trend::Improving
    } else if latest > mean * 1.05 {
        Trend::Worsening
    } else {
        Trend::Steady
    }
}

fn dur(secs: u64) -> String {
    span(secs)
}

fn achieved(achieved: Option<u64>, objective: u64) -> String {
    let a = achieved.map_or_else(|| "—".into(), dur);
    let flag = if achieved.is_some_and(|a| a >= objective) {
        " !"
    } else {
        ""
    };
    format!("{a} / {}{flag}", Dur::from_secs(objective))
}

fn achieved_rpo(achieved: Option<f64>, objective: u64) -> String {
    let a = achieved.map_or_else(|| "—".into(), rpo_span);
    let flag = if achieved.is_some_and(|a| a >= objective as f64) {
        " !"
    } else {
        ""
    };
    format!("{a} / {}{flag}", Dur::from_secs(objective))
}

/// Left-aligned columns separated by two spaces; the last column is not padded.
fn table(rows: &[Vec<String>]) -> String {
    // Every cell is one bounded line with its control characters visible ([`crate::text::field`]):
    // the one place history's values (scenarios, operators, errors, file names) become text.
    let rows: Vec<Vec<String>> = rows
        .iter()
        .map(|r| {
            r.iter()
                .map(|c| crate::text::field(c).into_owned())
                .collect()
        })
        .collect();
    let rows = &rows;
    let cols = rows.iter().map(Vec::len).max().unwrap_or(0);
    let widths: Vec<usize> = (0..cols)
        .map(|c| {
            rows.iter()
                .filter_map(|r| r.get(c))
                .map(|s| s.chars().count())
                .max()
                .unwrap_or(0)
        })
        .collect();
    let mut out = String::new();
    for r in rows {
        let mut line = String::new();
        for (c, text) in r.iter().enumerate() {
            if c + 1 == r.len() {
                line.push_str(text);
            } else {
                let _ = write!(line, "{text:<w$}  ", w = widths[c]);
            }
        }
        out.push_str(line.trim_end());
        out.push('\n');
    }
    out
}

/// The history as text tables. `!` marks an RTO or RPO at or over its objective.
pub fn render(h: &History) -> String {
    let mut out = String::new();
    let count = h.rows.len();
    let _ = writeln!(out, "{} journal(s) in {}", count, h.dir.display());
    if count == 0 {
        return out;
    }
    out.push('\n');
    let mut rows = vec![vec![
        "DATE (UTC, REAL)".to_string(),
        "DURATION".into(),
        "SCENARIO".into(),
        "MODE".into(),
        "OPERATOR".into(),
        "RTO / OBJECTIVE".into(),
        "RPO / OBJECTIVE".into(),
        "MTTD".into(),
        "OVER TARGET".into(),
        "RESULT".into(),
        "FILE".into(),
    ]];
    let name = |p: &Path| {
        p.file_name().map_or_else(
            || p.display().to_string(),
            |n| n.to_string_lossy().into_owned(),
        )
    };
    for r in &h.rows {
        match (&r.entry, &r.error) {
            (Some(e), _) => rows.push(vec![
                e.date.format("%Y-%m-%d %H:%M").to_string(),
                e.real_duration_secs.map_or_else(|| "—".into(), dur),
                e.scenario.clone(),
                e.mode.to_string(),
                crate::ui::playbook::sanitize(&e.operator),
                achieved(e.rto_achieved_secs, e.rto_objective_secs),
                achieved_rpo(e.rpo_achieved_secs, e.rpo_objective_secs),
                e.mttd_secs.map_or_else(|| "—".into(), dur),
                e.steps_over_target.to_string(),
                e.verdict.label().to_string(),
                name(&r.path),
            ]),
            (None, error) => rows.push(vec![
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "—".into(),
                "unreadable".into(),
                // The error starts with the path.
                error.clone().unwrap_or_else(|| name(&r.path)),
            ]),
        }
    }
    out.push_str(&table(&rows));
    if h.scenarios.is_empty() {
        return out;
    }
    out.push('\n');
    let mut rows = vec![vec![
        "SCENARIO".to_string(),
        "RUNS".into(),
        "PASS RATE".into(),
        format!("LAST RTOs ACHIEVED (oldest first, up to {TREND_RUNS})"),
        "TREND".into(),
    ]];
    for s in &h.scenarios {
        let rate = if s.ended == 0 {
            "— (none ended)".to_string()
        } else {
            format!(
                "{}/{} ({}%)",
                s.passed,
                s.ended,
                (s.passed * 100 + s.ended / 2) / s.ended
            )
        };
        let rtos = if s.recent_rtos.is_empty() {
            "—".to_string()
        } else {
            s.recent_rtos
                .iter()
                .map(|r| dur(*r))
                .collect::<Vec<_>>()
                .join(" → ")
        };
        rows.push(vec![
            s.scenario.clone(),
            s.runs.to_string(),
            rate,
            rtos,
            s.trend.label().to_string(),
        ]);
    }
    out.push_str(&table(&rows));
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn trend_compares_the_latest_with_the_mean_before_it() {
        assert_eq!(trend(&[]), Trend::NotEnoughRuns);
        assert_eq!(trend(&[600]), Trend::NotEnoughRuns);
        assert_eq!(trend(&[1800, 1500, 1200]), Trend::Improving);
        assert_eq!(trend(&[1200, 1500]), Trend::Worsening);
        assert_eq!(trend(&[1200, 1230]), Trend::Steady);
    }
}
