//! The real binary in a pseudo-terminal, read like a user reads the screen.

mod common;

use std::process::Command;
use std::time::Duration;

use common::{BIN, Tui};

const T: Duration = Duration::from_secs(15);

#[test]
fn draws_panes_help_fault_and_quits_restoring_the_terminal() {
    let mut tui = Tui::spawn(&["--speed", "60", "--seed", "7"], 120, 40);
    let screen = tui.wait_for("three pane titles", T, |s| {
        s.contains("Replica lag") && s.contains("Backups") && s.contains("Regions")
    });
    assert!(screen.contains("DEMO"), "mode badge missing:\n{screen}");
    assert!(
        tui.alternate_screen(),
        "the console should own the alternate screen"
    );

    tui.send("?");
    tui.wait_text("Help · keys", T);
    tui.send("\x1b");
    tui.wait_for("help closed", T, |s| !s.contains("Help · keys"));

    // The fault menu: entry 2 is region-loss.
    tui.send("f");
    tui.wait_text("Inject a fault", T);
    tui.send("2");
    tui.wait_text("fault injected: region-loss", T);
    // At 60x, three failed health checks take well under a few wall seconds.
    let screen = tui.wait_for("the primary region DOWN", T, |s| {
        s.lines()
            .any(|l| l.contains("primary") && l.contains("DOWN"))
            || s.contains("DOWN")
    });
    assert!(
        screen.contains("region-loss"),
        "status bar should name the fault:\n{screen}"
    );

    tui.send("q");
    let status = tui.wait_exit(T);
    assert!(status.success(), "q should exit 0, got {status:?}");
    assert!(!tui.alternate_screen(), "terminal not restored after q");
}

#[test]
fn sigterm_restores_the_terminal() {
    let mut tui = Tui::spawn(&[], 100, 30);
    tui.wait_text("Replica lag", T);
    let pid = tui.pid();
    let ok = Command::new("kill")
        .args(["-TERM", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    tui.wait_exit(T);
    assert!(
        !tui.alternate_screen(),
        "terminal not restored after SIGTERM"
    );
}

#[test]
fn sighup_restores_the_terminal() {
    let mut tui = Tui::spawn(&[], 100, 30);
    tui.wait_text("Replica lag", T);
    let pid = tui.pid();
    let ok = Command::new("kill")
        .args(["-HUP", &pid.to_string()])
        .status()
        .expect("kill");
    assert!(ok.success());
    tui.wait_exit(T);
    assert!(
        !tui.alternate_screen(),
        "terminal not restored after SIGHUP"
    );
}

#[test]
fn ctrl_c_quits() {
    let mut tui = Tui::spawn(&[], 100, 30);
    tui.wait_text("Replica lag", T);
    tui.send("\x03");
    let status = tui.wait_exit(T);
    assert!(status.success(), "Ctrl-C should exit 0, got {status:?}");
    assert!(!tui.alternate_screen());
}

#[test]
fn too_small_terminal_says_how_big_instead_of_panicking() {
    let mut tui = Tui::spawn(&[], 40, 10);
    let screen = tui.wait_text("Enlarge to at least", T);
    assert!(screen.contains("40x10"), "{screen}");
    tui.send("q");
    assert!(tui.wait_exit(T).success());
}

#[test]
fn status_json_has_all_three_sections() {
    let out = Command::new(BIN)
        .args(["status", "--json"])
        .output()
        .expect("run status");
    assert!(
        out.status.success(),
        "stderr: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json is JSON");
    for section in ["replica_lag", "backups", "regions"] {
        let items = v[section]
            .as_array()
            .unwrap_or_else(|| panic!("{section} missing: {v}"));
        assert!(!items.is_empty(), "{section} is empty");
    }
    assert_eq!(v["environment"], "demo");
    assert_eq!(v["replica_lag"][0]["name"], "dr-replica");
    assert_eq!(v["regions"][0]["verdict"], "HEALTHY");
}

#[test]
fn status_text_lists_every_section() {
    let out = Command::new(BIN)
        .arg("status")
        .output()
        .expect("run status");
    assert!(out.status.success());
    let text = String::from_utf8_lossy(&out.stdout);
    for heading in [
        "REPLICA LAG",
        "BACKUPS",
        "REGIONS",
        "dr-replica",
        "daily-dump",
        "us-west-2",
    ] {
        assert!(text.contains(heading), "missing {heading}:\n{text}");
    }
}

#[test]
fn bad_fault_spec_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["--fault", "meteor@5s"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("meteor"), "{err}");
}

#[test]
fn bad_theme_name_is_a_clear_error() {
    let out = Command::new(BIN)
        .args(["--theme", "neon"])
        .output()
        .expect("run");
    assert_eq!(out.status.code(), Some(2));
    let err = String::from_utf8_lossy(&out.stderr);
    assert!(err.contains("neon"), "{err}");
}

#[test]
fn ui_panic_restores_the_terminal_and_reports() {
    let mut tui = Tui::spawn_with_env(&[], 100, 30, &[("WARROOM_TEST_PANIC", "ui")]);
    let status = tui.wait_exit(T);
    assert!(!status.success(), "a panic must not exit 0");
    assert!(
        !tui.alternate_screen(),
        "terminal not restored after a UI panic"
    );
    let screen = tui.screen();
    assert!(
        screen.contains("deliberate UI panic"),
        "the panic report should print after restoring:\n{screen}"
    );
}

#[test]
fn poller_panic_marks_its_pane_stale_and_keys_still_work() {
    let mut tui = Tui::spawn_with_env(&[], 120, 40, &[("WARROOM_TEST_PANIC", "poller")]);
    let screen = tui.wait_text("poller stopped", T);
    assert!(screen.contains("STALE"), "{screen}");
    assert!(tui.alternate_screen(), "the console must keep running");
    tui.send("?");
    tui.wait_text("Help · keys", T);
    tui.send("q");
    assert!(tui.wait_exit(T).success());
    assert!(!tui.alternate_screen());
}

/// A `run` step with hostile variable values, confirmed in the console: the child receives each
/// value as one literal argument (no shell ever sees them).
#[test]
fn hostile_variables_reach_the_child_as_literal_arguments() {
    let dir = common::Scratch::new("hostile");
    let playbook = r#"
id = "hostile"
title = "Hostile arguments"
scenario = "custom"
summary = "Prints its arguments as JSON."
rto = "10m"
rpo = "5m"

[vars]
evil = "; rm -rf / $(reboot) `id` \"dq\" 'sq' *"

[[steps]]
id = "echo"
title = "Print the arguments"
target = "1m"
run = ["python3", "-c", "import sys, json; print('ARGV=' + json.dumps(sys.argv[1:]))", "{{evil}}", "x {{evil}} y", "plain"]
"#;
    std::fs::write(dir.path().join("hostile.toml"), playbook).expect("write playbook");
    let dir_arg = dir.path().display().to_string();
    let mut tui = Tui::spawn(&["--playbooks", &dir_arg], 300, 50);
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text("Hostile arguments", T);
    tui.send("\r"); // load (the directory's playbooks come first)
    tui.wait_text("not declared", T);
    tui.send("\r"); // declare
    tui.wait_text("Print the arguments · target", T);
    tui.send("\r"); // ask to run: the confirmation opens
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    tui.wait_text("Scorecard", T);
    tui.send("\x1b"); // close the scorecard: the timeline shows the step's output
    // The command line shows `'ARGV='`; only the child's output has `ARGV=[` (read once the
    // scorecard popup, which covers part of the timeline, is closed).
    let screen = tui.wait_for("the output, scorecard closed", T, |s| {
        s.contains("ARGV=[") && !s.contains("╭ Scorecard")
    });
    let line = screen
        .lines()
        .find(|l| l.contains("ARGV=["))
        .unwrap_or_default();
    let json = line.split("ARGV=").nth(1).unwrap_or_default();
    let json = &json[..json.rfind(']').map_or(0, |i| i + 1)];
    let argv: Vec<String> = serde_json::from_str(json).unwrap_or_else(|e| panic!("{e}: {line}"));
    let evil = "; rm -rf / $(reboot) `id` \"dq\" 'sq' *";
    assert_eq!(
        argv,
        vec![evil.to_string(), format!("x {evil} y"), "plain".to_string()]
    );
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
}
