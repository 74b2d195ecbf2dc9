//! A step that floods its output: the console's memory stays bounded and it keeps answering keys
//! (issue: "1 GiB of step output takes 2 GB of memory"; `?` took seconds to open).
//!
//! The step prints 2 GiB, as the issue's acceptance asks; the release-build figures are in
//! BENCHMARKS.md.

mod common;

use std::time::{Duration, Instant};

use common::{Scratch, Tui};

const T: Duration = Duration::from_secs(20);

/// Peak resident memory of `pid`, from `/proc` (`VmHWM`), in KiB.
fn peak_rss_kib(pid: u32) -> Option<u64> {
    let status = std::fs::read_to_string(format!("/proc/{pid}/status")).ok()?;
    status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.split_whitespace().next())
        .and_then(|n| n.parse().ok())
}

/// Sends `key` and returns how long until the screen satisfies `shown`, polled every 2 ms (the
/// shared 50 ms poll would be most of what is measured).
fn time_to_screen(tui: &mut Tui, key: &str, shown: impl Fn(&str) -> bool) -> Duration {
    let asked = Instant::now();
    tui.send(key);
    loop {
        if shown(&tui.screen()) {
            return asked.elapsed();
        }
        assert!(
            asked.elapsed() < T,
            "no answer to {key:?}:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(2));
    }
}

#[test]
fn a_flooding_step_keeps_memory_bounded_and_keys_answered() {
    let dir = Scratch::new("flood");
    let line = "0123456789".repeat(14);
    let playbook = format!(
        r#"
id = "flood"
title = "A step that floods its output"
scenario = "custom"
summary = "Prints 2 GiB."
rto = "30m"
rpo = "5m"

[[steps]]
id = "flood"
title = "Print 2 GiB"
target = "5m"
run = ["sh", "-c", "yes {line} | head -c 2G"]
"#
    );
    std::fs::write(dir.path().join("flood.toml"), playbook).expect("playbook");
    let playbooks = dir.path().display().to_string();
    let mut tui = Tui::spawn(&["--playbooks", &playbooks], 120, 40);
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text("A step that floods its output", T);
    tui.send("\r");
    tui.wait_text("Print 2 GiB", T);
    tui.send("\r"); // declare
    tui.wait_text("since declared", T);
    tui.send("\r"); // request the step
    tui.wait_text("Confirm", T);
    tui.send("y");
    tui.wait_text("0123456789", T);
    // During the flood: help opens promptly, and closes, five times; the median counts (one
    // scheduler hiccup on a loaded machine is not the console being slow).
    std::thread::sleep(Duration::from_millis(500));
    let mut answers = Vec::new();
    for _ in 0..5 {
        answers.push(time_to_screen(&mut tui, "?", |s| s.contains("Help · keys")));
        time_to_screen(&mut tui, "\x1b", |s| !s.contains("Help · keys"));
        std::thread::sleep(Duration::from_millis(200));
    }
    let still_flooding = tui.screen().contains("running");
    answers.sort();
    let answered = answers[answers.len() / 2];
    let pid = tui.pid();
    tui.wait_for("the step to finish", Duration::from_secs(600), |s| {
        s.contains("done") && !s.contains("running")
    });
    let peak = peak_rss_kib(pid).expect("VmHWM of the console");
    eprintln!(
        "peak RSS {} MiB; help answered in {answered:?}",
        peak / 1024
    );
    assert!(peak < 64 * 1024, "peak RSS {} KiB", peak);
    assert!(still_flooding, "the help was timed after the flood ended");
    assert!(
        answered < Duration::from_millis(100),
        "help took {answered:?} (median of {answers:?})"
    );
    // The journal holds a bounded part of the output.
    let state = tui.state.as_ref().expect("the console's state directory");
    let journal = common::the_journal_in(state.path());
    let size = std::fs::metadata(&journal).expect("journal").len();
    assert!(size < 1024 * 1024, "journal {size} bytes");
    tui.send("q");
}
