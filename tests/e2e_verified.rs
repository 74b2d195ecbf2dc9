//! Issue 10, item 4 on the simulator: a `backup.verify` confirmed in the console records into
//! the verification history (`verifications.jsonl` beside the journals), and "last verified"
//! shows in the Backups pane (its `Verified` column where it fits, the selected row's text
//! otherwise) and in `warroom status`.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{BIN, Scratch, Tui};

const T: Duration = Duration::from_secs(20);

const PLAYBOOK: &str = r#"
id = "verify"
title = "Verify the snapshots"
scenario = "custom"
summary = "Runs a restore test of the newest snapshot."
rto = "10m"
rpo = "5m"

[[steps]]
id = "verify"
title = "Restore-test the newest snapshot"
target = "5m"
action = "backup.verify"
with = { backup = "snapshots" }
"#;

/// The Backups pane's row of `series` on `screen`.
fn pane_row<'s>(screen: &'s str, series: &str) -> Option<&'s str> {
    screen
        .lines()
        .find(|l| l.contains(&format!("│{series} ")) || l.contains(&format!("│ {series} ")))
}

fn verify_in_console(cols: u16, rows: u16) {
    let state = Scratch::new("verified");
    let dir = Scratch::new("verified-playbooks");
    std::fs::write(dir.path().join("verify.toml"), PLAYBOOK).expect("write playbook");
    let dir_arg = dir.path().display().to_string();
    let mut tui = Tui::spawn_in(
        &["--playbooks", &dir_arg, "--seed", "3"],
        cols,
        rows,
        state.path(),
        &[],
    );
    tui.wait_text("Backups", T);
    let wide = cols >= 140;
    if wide {
        // Before: never verified.
        let before = tui.wait_for("the snapshots row", T, |s| {
            pane_row(s, "snapshots").is_some()
        });
        let row = pane_row(&before, "snapshots")
            .unwrap_or_default()
            .to_string();
        assert!(before.contains("Verified"), "{before}");
        assert!(row.contains("never"), "{row}");
    }
    tui.send("p");
    tui.wait_text("Verify the snapshots", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Restore-test the newest snapshot", T);
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    tui.wait_text("Scorecard", T);
    tui.send("\x1b");
    std::thread::sleep(Duration::from_millis(300));

    // The history holds the simulated verification, by environment, series and backup.
    let history = state.path().join("warroom").join("verifications.jsonl");
    let text = std::fs::read_to_string(&history).expect("verifications.jsonl written");
    let line: serde_json::Value =
        serde_json::from_str(text.lines().last().expect("a line")).expect("json");
    assert_eq!(line["environment"], "demo");
    assert_eq!(line["series"], "snapshots");
    assert_eq!(line["ok"], true);
    assert!(
        line["backup"]
            .as_str()
            .is_some_and(|b| b.starts_with("snapshots-")),
        "{line}"
    );
    let at = chrono::DateTime::parse_from_rfc3339(line["at"].as_str().expect("at"))
        .expect("time")
        .with_timezone(&chrono::Utc);
    let hm = at.format("%H:%M").to_string();

    if wide {
        // The pane's Verified column: when and the result.
        let screen = tui.wait_for("the snapshots row verified", T, |s| {
            pane_row(s, "snapshots").is_some_and(|r| r.contains(&format!("{hm} ok")))
        });
        println!("{screen}");
    } else {
        // 80 columns: the panes view, the Backups pane focused, the selected row's whole text.
        tui.send("v");
        std::thread::sleep(Duration::from_millis(200));
        let mut found = None;
        for _ in 0..4 {
            tui.send("\t");
            std::thread::sleep(Duration::from_millis(300));
            let s = tui.screen();
            // The Backups pane's selected row says when it was verified, or never.
            if s.contains("last verified") || s.contains("never verified") {
                found = Some(s);
                break;
            }
        }
        let screen = found.unwrap_or_else(|| panic!("Backups never focused:\n{}", tui.screen()));
        println!("{screen}");
        // The snapshots series sorts first only when it has a problem: select it by filter.
        tui.send("/");
        tui.send("snapshots");
        tui.send("\r");
        // Filtered to one short name, the Verified column fits too.
        let screen = tui.wait_for("the snapshots row's text", T, |s| {
            s.contains("snapshots (")
                && s.contains(&format!("last verified {}", at.format("%Y-%m-%d %H:%M")))
                && pane_row(s, "snapshots").is_some_and(|r| r.contains(&format!("{hm} ok")))
        });
        println!("{screen}");
    }
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);

    // `status` reads the same history.
    let out = Command::new(BIN)
        .arg("status")
        .env("XDG_STATE_HOME", state.path())
        .output()
        .expect("status");
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(
        text.lines()
            .any(|l| l.contains("snapshots") && l.contains("last verified")),
        "{text}"
    );
}

#[test]
fn a_simulated_verify_shows_as_last_verified_at_80x24() {
    verify_in_console(80, 24);
}

#[test]
fn a_simulated_verify_shows_as_last_verified_at_300x50() {
    verify_in_console(300, 50);
}
