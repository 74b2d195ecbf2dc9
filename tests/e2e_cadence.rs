//! Comms cadence and past drills (issue 13, items 8 and 9), driven in a pseudo-terminal at 80x24:
//!
//! - the region-loss playbook's status-update reminder counts down on the playbook view, turns
//!   `OVERDUE` a minute past due, and `u` records `reminder_done` (with how late) in the journal;
//! - with two earlier drill journals of the same playbook in the journals directory, the step list
//!   shows a step's median and 90th percentile from them.

mod common;
mod journal_support;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{Scratch, Tui, journal_lines, the_journal_in};

/// The reminder line of the playbook view (`next in 14m58s: Post a status update ...`).
fn reminder_line(screen: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains("Post a status update"))
        .map(|l| l.split('│').nth(1).unwrap_or(l).trim().to_string())
}

/// `next in 14m58s` -> 898.
fn countdown_secs(line: &str) -> Option<u64> {
    let rest = line.strip_prefix("next in ")?;
    let text = rest.split(':').next()?;
    let (m, s) = match text.split_once('m') {
        Some((m, s)) => (m.parse::<u64>().ok()?, s.trim_end_matches('s')),
        None => (0, text.trim_end_matches('s')),
    };
    Some(m * 60 + s.parse::<u64>().ok()?)
}

fn wait_journal_kind(path: &Path, kind: &str, timeout: Duration) -> serde_json::Value {
    let start = Instant::now();
    loop {
        if let Some(l) = journal_lines(path).into_iter().find(|l| l["kind"] == kind) {
            return l;
        }
        assert!(
            start.elapsed() < timeout,
            "no {kind} in the journal after {timeout:?}"
        );
        std::thread::sleep(Duration::from_millis(100));
    }
}

fn quit(tui: &mut Tui) {
    tui.send("q");
    std::thread::sleep(Duration::from_millis(200));
    tui.send("q");
    assert!(tui.wait_exit(Duration::from_secs(10)).success());
}

#[test]
fn the_reminder_counts_down_turns_overdue_and_u_journals_it_at_80x24() {
    let state = Scratch::new("cadence-reminder");
    // At 60x the 15-minute reminder falls due after 15 s of wall time.
    let mut tui = Tui::spawn_in(
        &[
            "drill",
            "region-loss",
            "--seed",
            "7",
            "--at",
            "0s",
            "--speed",
            "60",
        ],
        80,
        24,
        state.path(),
        &[],
    );
    tui.wait_text("not declared", Duration::from_secs(15));
    // Before the declaration there is nothing to count down.
    assert!(reminder_line(&tui.screen()).is_none(), "{}", tui.screen());
    tui.send("\r");
    let screen = tui.wait_for("the reminder line", Duration::from_secs(10), |s| {
        reminder_line(s).is_some_and(|l| l.starts_with("next in "))
    });
    let line = reminder_line(&screen).unwrap_or_default();
    assert!(
        line.ends_with("· u done"),
        "the key is on the line: {line:?}"
    );
    let first = countdown_secs(&line).unwrap_or_else(|| panic!("a countdown: {line:?}"));
    assert!(first <= 900 && first > 600, "{line:?}");
    // It counts down with the clock.
    let screen = tui.wait_for("the countdown to move", Duration::from_secs(10), |s| {
        reminder_line(s)
            .and_then(|l| countdown_secs(&l))
            .is_some_and(|n| n + 60 <= first)
    });
    assert!(reminder_line(&screen).is_some());
    // Due, then a minute past due: OVERDUE.
    let screen = tui.wait_for("OVERDUE", Duration::from_secs(40), |s| {
        reminder_line(s).is_some_and(|l| l.starts_with("OVERDUE "))
    });
    let line = reminder_line(&screen).unwrap_or_default();
    assert!(line.contains("Post a status update"), "{line:?}");
    tui.send("u");
    let path = the_journal_in(state.path());
    let done = wait_journal_kind(&path, "reminder_done", Duration::from_secs(10));
    assert_eq!(done["text"], "Post a status update (channel, status page)");
    assert_eq!(done["occurrence"], 1);
    let late = done["late_secs"].as_u64().unwrap_or(0);
    assert!(late >= 60, "done after OVERDUE showed: {done}");
    // The next occurrence counts down again.
    tui.wait_for("the next occurrence", Duration::from_secs(5), |s| {
        reminder_line(s).is_some_and(|l| l.starts_with("next in "))
    });
    quit(&mut tui);
}

/// The step list's row of a step (`▶  1 Assess scope   2m   1m59s  1m00s/1m00s`).
/// The step list's row of `title` (not the heading, not the RPO line naming its step).
fn step_row(screen: &str, title: &str) -> Option<String> {
    screen
        .lines()
        .find(|l| l.contains(title) && !l.contains("Step ") && !l.contains("step "))
        .map(|l| l.split('│').nth(1).unwrap_or(l).trim_end().to_string())
}

#[test]
fn the_step_list_shows_earlier_drills_median_and_p90_at_80x24() {
    use journal_support::{day, region_loss_drill_at};
    use warroom::duration::span;

    let state = Scratch::new("cadence-past");
    let dir = state.path().join("warroom/incidents");
    std::fs::create_dir_all(&dir).expect("journals dir");
    let t0 = day(2026, 11, 22, 3, 12);
    region_loss_drill_at(
        &dir.join("2026-11-20T0900Z-region-loss-drill.jsonl"),
        t0,
        day(2026, 11, 20, 9, 0),
        60,
        40.0,
    );
    region_loss_drill_at(
        &dir.join("2026-11-21T0900Z-region-loss-drill.jsonl"),
        t0,
        day(2026, 11, 21, 9, 0),
        300,
        40.0,
    );
    let past = warroom::past::load(&dir, "region-loss", None);
    assert_eq!(past.drills, 2);
    let mut tui = Tui::spawn_in(
        &["drill", "region-loss", "--seed", "7", "--at", "0s"],
        80,
        24,
        state.path(),
        &[],
    );
    tui.wait_text("not declared", Duration::from_secs(15));
    // Every step with figures shows them, before and after the declaration.
    let screen = tui.screen();
    let mut shown = 0;
    for (title, id) in [
        ("Assess scope", "assess"),
        ("Activate the DR site", "activate-dr"),
        ("Promote the DR", "promote"),
    ] {
        let Some(stats) = past.step(id) else {
            continue;
        };
        let want = format!("{}/{}", span(stats.p50_secs), span(stats.p90_secs));
        let row = step_row(&screen, title).unwrap_or_else(|| panic!("no row {title}:\n{screen}"));
        assert!(row.contains(&want), "{title}: {want} in {row:?}\n{screen}");
        shown += 1;
    }
    assert!(shown >= 2, "figures for the first steps: {past:?}");
    // The notification was skipped in both: nothing shown on its row.
    let row = step_row(&screen, "Notify stakeholders").unwrap_or_default();
    assert!(!row.contains('/'), "{row:?}");
    tui.send("\r");
    tui.wait_text("RTO ▕", Duration::from_secs(10));
    quit(&mut tui);
}
