//! `warroom history`: the committed fixture directory (four region-loss drills, one az-loss
//! drill, and a JSONL file that is not a journal), through the library and the binary.

use std::path::Path;
use std::process::Command;

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
    assert_eq!(region.recent_rtos.len(), 3);
    assert!(
        region.recent_rtos.windows(2).all(|w| w[0] > w[1]),
        "{region:?}"
    );
    assert_eq!(region.trend, Trend::Improving);
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
    assert!(text.contains("improving"), "{text}");
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
