//! `warroom history`: the committed fixture directory (four region-loss drills, one az-loss
//! drill, and a JSONL file that is not a journal; v1 journals, which predate the outage
//! milestones), through the library and the binary; and drills recorded by the engine today,
//! whose RTO achieved (disrupted -> service restored) makes the trend.

mod journal_support;

use std::path::Path;
use std::process::Command;

use journal_support::{day, region_loss_drill, region_loss_drill_at};

use warroom::history::{self, Trend};
use warroom::report::Verdict;

const BIN: &str = env!("CARGO_BIN_EXE_warroom");
const DIR: &str = "tests/fixtures/journals/history";

#[test]
fn history_of_the_fixture_directory() {
    let h = history::scan(Path::new(DIR)).expect("scan");
    insta::assert_snapshot!("history", history::render(&h));
}

#[test]
fn rows_stats_and_trend() {
    let h = history::scan(Path::new(DIR)).expect("scan");
    assert_eq!(h.rows.len(), 6);
    let verdicts: Vec<Option<Verdict>> = h
        .rows
        .iter()
        .map(|r| r.entry.as_ref().map(|e| e.verdict))
        .collect();
    assert_eq!(
        verdicts,
        [
            Some(Verdict::Fail),
            Some(Verdict::Pass),
            Some(Verdict::Pass),
            Some(Verdict::Pass),
            Some(Verdict::Aborted),
            None
        ]
    );
    let broken = h.rows.last().expect("row");
    let error = broken.error.as_deref().expect("unreadable with its error");
    assert!(
        error.contains("notes.jsonl:1: not a warroom journal"),
        "{error}"
    );

    let region = &h.scenarios[0];
    assert_eq!(region.scenario, "region-loss");
    assert_eq!((region.runs, region.ended, region.passed), (4, 4, 2));
    // v1 journals recorded no service_restored: no RTO achieved, so no trend from them.
    assert!(region.recent_rtos.is_empty(), "{region:?}");
    assert_eq!(region.trend, Trend::NotEnoughRuns);
    let first = h.rows[0].entry.as_ref().expect("entry");
    assert_eq!(first.operator, "alice");
    assert_eq!(
        first.real_duration_secs, None,
        "a v1 drill recorded simulated times only"
    );
    assert_eq!(first.steps_over_target, 4);
    let az = &h.scenarios[1];
    assert_eq!(
        (az.scenario.as_str(), az.runs, az.passed),
        ("az-loss", 1, 1)
    );
    assert_eq!(az.trend, Trend::NotEnoughRuns);
}

#[test]
fn binary_lists_the_directory_and_survives_a_broken_file() {
    let out = Command::new(BIN)
        .args(["history", DIR])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.starts_with("6 journal(s) in tests/fixtures/journals/history\n"),
        "{text}"
    );
    assert!(text.contains("unreadable"), "{text}");
    assert!(text.contains("DATE (UTC, REAL)"), "{text}");
    assert!(
        text.contains("OPERATOR") && text.contains("alice"),
        "{text}"
    );
}

#[test]
fn rto_achieved_of_recorded_drills_makes_the_trend() {
    let dir = std::env::temp_dir().join(format!("warroom-history-trend-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    // Three drills, each walked faster than the one before (seconds per round).
    let runs = [
        ("a.jsonl", day(2026, 10, 4, 9, 0), 150),
        ("b.jsonl", day(2026, 10, 18, 9, 0), 90),
        ("c.jsonl", day(2026, 11, 1, 9, 0), 40),
    ];
    let mut expected = Vec::new();
    for (name, t0, pace) in runs {
        let s = region_loss_drill(&dir.join(name), t0, pace, 3.0);
        let m = s.engine.measures(s.at(s.now));
        let rto = m.rto_achieved_secs.expect("service restored");
        // RTO achieved runs from the fault (t0) to the DNS switch's wait holding.
        let restored = m.restored.as_ref().expect("restored");
        assert_eq!(restored.step, "dns");
        assert_eq!(rto, (restored.at - t0).num_seconds() as u64);
        expected.push(rto);
    }
    let h = history::scan(&dir).expect("scan");
    let region = &h.scenarios[0];
    assert_eq!(region.recent_rtos, expected);
    assert!(expected.windows(2).all(|w| w[0] > w[1]), "{expected:?}");
    assert_eq!(region.trend, Trend::Improving);
    let text = history::render(&h);
    assert!(text.contains("improving"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn binary_uses_the_default_directory_and_reports_a_missing_one() {
    let state = std::env::temp_dir().join(format!("warroom-history-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&state);
    let out = Command::new(BIN)
        .arg("history")
        .env("XDG_STATE_HOME", &state)
        .output()
        .expect("runs");
    assert_eq!(out.status.code(), Some(2), "{out:?}");
    let err = String::from_utf8(out.stderr).expect("utf8");
    assert!(
        err.contains("warroom/incidents: cannot read the journal"),
        "{err}"
    );

    std::fs::create_dir_all(state.join("warroom/incidents")).expect("dir");
    let out = Command::new(BIN)
        .arg("history")
        .env("XDG_STATE_HOME", &state)
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    assert!(String::from_utf8_lossy(&out.stdout).starts_with("0 journal(s) in "));
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn drills_are_listed_in_wall_clock_order_whatever_their_simulated_dates() {
    let dir = std::env::temp_dir().join(format!("warroom-history-wall-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    // Run first (wall clock 09:00) but simulated two months after the other; run second
    // (10:00) but simulated earlier. The names sort the other way too: neither the simulated
    // dates nor the names can give the wall-clock order.
    region_loss_drill_at(
        &dir.join("z-ran-first.jsonl"),
        day(2026, 12, 20, 3, 0),
        day(2026, 11, 20, 9, 0),
        60,
        3.0,
    );
    region_loss_drill_at(
        &dir.join("a-ran-second.jsonl"),
        day(2026, 10, 1, 3, 0),
        day(2026, 11, 20, 10, 0),
        30,
        3.0,
    );
    let h = history::scan(&dir).expect("scan");
    let order: Vec<String> = h
        .rows
        .iter()
        .map(|r| {
            r.path
                .file_name()
                .map(|n| n.to_string_lossy().into_owned())
                .unwrap_or_default()
        })
        .collect();
    assert_eq!(
        order,
        ["z-ran-first.jsonl", "a-ran-second.jsonl"],
        "wall-clock order"
    );
    // The real dates are shown, not the simulated ones.
    let text = history::render(&h);
    assert!(text.contains("2026-11-20"), "{text}");
    assert!(
        !text.contains("2026-12-20") && !text.contains("2026-10-01"),
        "{text}"
    );
    let _ = std::fs::remove_dir_all(&dir);
}
