//! The record, end to end in pseudo-terminals: crash (kill -9) at several points and resume,
//! the postmortem lists every completed step once with its original times; a follower keeps up
//! within a second; secrets never reach the journal, the report or the screen.

mod common;

use std::path::Path;
use std::process::Command;
use std::time::{Duration, Instant};

use common::{BIN, Scratch, Tui, journal_lines, kill9, the_journal_in};

const T: Duration = Duration::from_secs(20);

/// A region-loss playbook (so `drill` injects the fault) with a slow `run` step, a destructive
/// action and manual steps: every kind of kill point a real drill has.
const CRASH_PLAYBOOK: &str = r#"
id = "region-loss"
title = "Crash-test failover"
scenario = "region-loss"
summary = "A short failover used to test crash safety."
rto = "30m"
rpo = "5m"

[[steps]]
id = "assess"
title = "Assess scope"
target = "2m"
checklist = ["The primary region is DOWN"]

[[steps]]
id = "slow"
title = "Run a slow check"
target = "2m"
run = ["sleep", "4"]

[[steps]]
id = "promote"
title = "Promote the DR replica"
target = "5m"
action = "db.promote"
with = { db = "dr-replica" }
destructive = true
capture_rpo = true

[[steps]]
id = "verify"
title = "Verify by hand"
target = "2m"
checklist = ["It works"]
"#;

/// Resumes `journal` in a new console sharing `state` (the same XDG state dir).
fn resume(state: &Path, playbooks: &Path, journal: &Path) -> Tui {
    let args = [
        "--resume",
        journal.to_str().expect("utf-8 path"),
        "--playbooks",
        playbooks.to_str().expect("utf-8 path"),
    ];
    let tui = Tui::spawn_in(&args, 200, 60, state, &[]);
    tui.wait_text("resumed from", T);
    tui
}

#[test]
fn kill_nine_at_every_point_then_resume_and_finish() {
    let playbooks = Scratch::new("crash-playbooks");
    std::fs::write(playbooks.path().join("region-loss.toml"), CRASH_PLAYBOOK).expect("write");
    let pb = playbooks.path().to_str().expect("utf-8").to_string();
    let state = Scratch::new("crash-state");

    // Declare and finish the first step.
    let mut tui = Tui::spawn_in(
        &[
            "drill",
            "region-loss",
            "--speed",
            "60",
            "--seed",
            "3",
            "--at",
            "0s",
            "--playbooks",
            &pb,
        ],
        200,
        60,
        state.path(),
        &[],
    );
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/4", T);
    tui.send(" ");
    tui.send("\r");
    tui.wait_text("Step 2/4", T);
    let journal = the_journal_in(state.path());
    let before: Vec<_> = journal_lines(&journal);
    let assess_done = before
        .iter()
        .find(|l| l["kind"] == "step_finished" && l["step"] == "assess")
        .expect("assess finished before the first crash")
        .clone();

    // Kill point 1: during a running step.
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    tui.wait_for("the slow step running", T, |s| s.contains("· running"));
    kill9(&mut tui);

    let mut tui = resume(state.path(), playbooks.path(), &journal);
    let screen = tui.wait_text("interrupted", T);
    assert!(screen.contains("Step 2/4"), "{screen}");
    tui.send("r");
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    tui.wait_text("Step 3/4", Duration::from_secs(30));

    // Kill point 2: in the confirmation dialog.
    tui.send("\r");
    tui.wait_text("Type dr-replica", T);
    kill9(&mut tui);

    let mut tui = resume(state.path(), playbooks.path(), &journal);
    tui.wait_text("Step 3/4", T);
    // Kill point 3: right after confirming.
    tui.send("\r");
    tui.wait_text("Type dr-replica", T);
    tui.send("dr-replica");
    tui.send("\r");
    let confirmed_deadline = Instant::now() + T;
    while !journal_lines(&journal)
        .iter()
        .any(|l| l["kind"] == "confirmed" && l["step"] == "promote")
    {
        assert!(
            Instant::now() < confirmed_deadline,
            "confirmation never journaled"
        );
        std::thread::sleep(Duration::from_millis(20));
    }
    kill9(&mut tui);

    let mut tui = resume(state.path(), playbooks.path(), &journal);
    let screen = tui.wait_for("promote step after the crash", T, |s| {
        s.contains("Step 3/4") || s.contains("Step 4/4")
    });
    if screen.contains("Step 3/4") {
        // The promotion may have started before the crash: the operator checks the panes and
        // skips it with a reason instead of promoting twice.
        tui.send("s");
        tui.send("promoted before the crash; checked in the panes");
        tui.send("\r");
    }
    tui.wait_text("Step 4/4", T);
    tui.send(" ");
    tui.send("\r");
    tui.wait_text("Scorecard", T);
    tui.send("\x1b");
    tui.send("q");
    tui.wait_exit(T);

    // The record: the journal is valid, and the postmortem has each step once with the
    // timestamps it had before any crash.
    let out = Command::new(BIN)
        .args([
            "report",
            journal.to_str().expect("utf-8"),
            "--format",
            "json",
        ])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report: serde_json::Value = serde_json::from_slice(&out.stdout).expect("report JSON");
    let steps = report["steps"].as_array().expect("steps");
    let ids: Vec<_> = steps
        .iter()
        .map(|s| s["id"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(
        ids,
        ["assess", "slow", "promote", "verify"],
        "every step exactly once"
    );
    // The report's step times are on the engine's clock: simulated time in a drill.
    let assess_time = match assess_done.get("sim") {
        Some(sim) => sim,
        None => &assess_done["at"],
    };
    assert_eq!(
        &steps[0]["finished_at"], assess_time,
        "original timestamp kept across crashes"
    );
    assert_eq!(steps[0]["status"], "done");
    assert_eq!(
        steps[1]["status"], "done",
        "the interrupted step was retried and finished"
    );
    assert_eq!(steps[3]["status"], "done");
    let journal_lines = journal_lines(&journal);
    let finished_assess = journal_lines
        .iter()
        .filter(|l| l["kind"] == "step_finished" && l["step"] == "assess")
        .count();
    assert_eq!(finished_assess, 1, "a resume must not finish a step twice");
    let seqs: Vec<u64> = journal_lines
        .iter()
        .skip(1)
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert!(
        seqs.windows(2).all(|w| w[1] == w[0] + 1),
        "seq contiguous across resumes: {seqs:?}"
    );
}

#[test]
fn a_follower_shows_each_new_step_within_a_second() {
    let state = Scratch::new("follow-state");
    let mut writer = Tui::spawn_in(
        &[
            "drill",
            "region-loss",
            "--speed",
            "60",
            "--seed",
            "5",
            "--at",
            "0s",
        ],
        200,
        60,
        state.path(),
        &[],
    );
    writer.wait_text("not declared", T);
    writer.send("\r");
    writer.wait_text("Step 1/7", T);
    let journal = the_journal_in(state.path());
    let follower = Tui::spawn_in(
        &["follow", journal.to_str().expect("utf-8")],
        160,
        48,
        state.path(),
        &[],
    );
    follower.wait_text("FOLLOW", T);
    follower.wait_text("Step 1/7", T);
    // Keys do nothing in a follower.
    let mut follower = follower;
    follower.send("\r");
    follower.wait_text("read-only mirror", T);
    for step in 2..=3 {
        // Tick everything on the writer's current step (four items each) and complete it.
        for _ in 0..4 {
            writer.send(" ");
            writer.send("j");
        }
        writer.send("\r");
        writer.wait_text(&format!("Step {step}/7"), T);
        let shown = Instant::now();
        follower.wait_text(&format!("Step {step}/7"), Duration::from_millis(1500));
        let lag = shown.elapsed();
        assert!(
            lag <= Duration::from_millis(1000),
            "follower lagged {lag:?} behind step {step}"
        );
    }
    follower.send("q");
    assert!(follower.wait_exit(T).success());
    writer.send("q");
    writer.send("q");
    writer.wait_exit(T);
}

#[test]
fn secrets_never_reach_the_journal_the_report_or_the_screen() {
    const SECRET: &str = "hunter2-XYZZY-9000";
    let playbooks = Scratch::new("secret-playbooks");
    let src = format!(
        r#"
id = "leaky"
title = "Secret handling"
scenario = "custom"
summary = "Uses a secret token."
rto = "10m"
rpo = "5m"

[vars]
token = {{ value = "{SECRET}", secret = true }}

[[steps]]
id = "use"
title = "Use the token"
target = "1m"
guide = "The token is {{{{token}}}}."
checklist = ["Token {{{{token}}}} is in place"]
run = ["python3", "-c", "import sys; print('got', len(sys.argv[1]), 'chars')", "{{{{token}}}}"]
"#
    );
    std::fs::write(playbooks.path().join("leaky.toml"), src).expect("write");
    let state = Scratch::new("secret-state");
    let pb = playbooks.path().to_str().expect("utf-8").to_string();
    let mut tui = Tui::spawn_in(&["--playbooks", &pb], 200, 60, state.path(), &[]);
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text("Secret handling", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    let mut screens = vec![tui.screen()];
    tui.send("\r");
    tui.wait_text("Step 1/1", T);
    screens.push(tui.screen());
    tui.send(" ");
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    screens.push(tui.screen());
    tui.send("y");
    tui.wait_text("Scorecard", T);
    tui.send("\x1b");
    let screen = tui.wait_text("got 18 chars", T);
    screens.push(screen);
    tui.send("q");
    tui.wait_exit(T);
    for (i, s) in screens.iter().enumerate() {
        assert!(!s.contains(SECRET), "screen {i} shows the secret:\n{s}");
        // The step's guide and checklist show the mask once the step is on screen.
        assert!(
            s.contains("••••••") || i == 0 || i == 3,
            "screen {i} should show the mask:\n{s}"
        );
    }
    let journal = the_journal_in(state.path());
    let bytes = std::fs::read_to_string(&journal).expect("read journal");
    assert!(!bytes.contains(SECRET), "journal leaks the secret");
    assert!(
        bytes.contains("\"kind\":\"resolved\""),
        "the incident should be journaled to the end"
    );
    for format in ["markdown", "json"] {
        let out = Command::new(BIN)
            .args([
                "report",
                journal.to_str().expect("utf-8"),
                "--format",
                format,
            ])
            .output()
            .expect("report");
        assert!(out.status.success());
        assert!(
            !String::from_utf8_lossy(&out.stdout).contains(SECRET),
            "{format} report leaks the secret"
        );
    }
}

#[test]
fn starting_the_same_drill_again_offers_to_resume_the_unfinished_one() {
    let state = Scratch::new("offer-state");
    let args = [
        "drill",
        "region-loss",
        "--speed",
        "60",
        "--seed",
        "2",
        "--at",
        "0s",
    ];
    let mut tui = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/7", T);
    tui.send(" ");
    let journal = the_journal_in(state.path());
    let deadline = Instant::now() + T;
    while !journal_lines(&journal)
        .iter()
        .any(|l| l["kind"] == "checklist_ticked")
    {
        assert!(Instant::now() < deadline, "tick never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
    kill9(&mut tui);

    let mut again = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    again.wait_text("Resume it instead of starting a new one? [Y/n]", T);
    again.send("\r");
    let screen = again.wait_text("resumed from", T);
    assert!(
        screen.contains("[x]"),
        "the tick made before the crash is back:\n{screen}"
    );
    again.send("q");
    again.send("q");
    again.wait_exit(T);
    assert_eq!(
        the_journal_in(state.path()),
        journal,
        "no second journal was started"
    );
}

#[test]
fn when_the_journal_cannot_be_written_nothing_changes_the_world() {
    let state = Scratch::new("nojournal-state");
    // The journal is created, then every write fails (as when the disk fills up mid-incident).
    let mut tui = Tui::spawn_in(
        &[
            "drill",
            "region-loss",
            "--speed",
            "60",
            "--seed",
            "4",
            "--at",
            "0s",
        ],
        200,
        60,
        state.path(),
        &[("WARROOM_TEST_JOURNAL_FAIL", "1")],
    );
    tui.wait_text("not declared", T);
    // Wait until the panes show the fault, so what follows is judged against a broken replica.
    tui.wait_for("the replication broken", T, |s| {
        s.lines()
            .any(|l| l.contains("dr-replica") && l.contains("broken"))
    });
    tui.send("\r");
    tui.wait_text("JOURNAL FAILED", T);
    for _ in 0..2 {
        for _ in 0..4 {
            tui.send(" ");
            tui.send("j");
        }
        tui.send("\r");
    }
    tui.wait_text("Step 3/7", T);
    tui.send("\r");
    tui.wait_text("Type dr-replica", T);
    tui.send("dr-replica");
    tui.send("\r");
    tui.wait_text("not run: the journal cannot be written", T);
    // Give the simulator a few polls to show a promotion, had one happened.
    std::thread::sleep(Duration::from_millis(1500));
    let screen = tui.screen();
    assert!(
        !screen.contains("promoted"),
        "the replica must not be promoted:\n{screen}"
    );
    assert!(
        screen.contains("Step 3/7"),
        "the promotion must not have happened:\n{screen}"
    );
    // The simulated replica was never promoted: its replication is still broken, not promoted.
    assert!(
        screen
            .lines()
            .any(|l| l.contains("dr-replica") && l.contains("broken")),
        "the replica must not be promoted:\n{screen}"
    );
    // The journal holds its header and nothing the failed writes claimed.
    let journal = the_journal_in(state.path());
    assert_eq!(
        journal_lines(&journal).len(),
        1,
        "only the header is on disk"
    );
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
}
