//! Signals while a step runs, a step's whole process tree, and secret masking, driven through
//! the real console in a pseudo-terminal (issue 9, points 7 and 8).

mod common;

use std::path::Path;
use std::time::Duration;

use common::{Scratch, Tui};

const T: Duration = Duration::from_secs(20);

/// Live (not zombie) processes with exactly this command line whose environment carries a step
/// marker of the console `console` (`WARROOM_STEP=<console pid>-N`).
fn leftovers_of(console: u32, words: &[&str]) -> Vec<i32> {
    let want: Vec<u8> = words
        .iter()
        .flat_map(|w| [w.as_bytes(), b"\0"].concat())
        .collect();
    let marker = format!("{}={console}-", warroom::actions::run::MARKER_ENV);
    let mut found = Vec::new();
    for entry in std::fs::read_dir("/proc").expect("/proc").flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        let cmdline = std::fs::read(format!("/proc/{pid}/cmdline")).unwrap_or_default();
        if cmdline != want {
            continue;
        }
        let environ = std::fs::read(format!("/proc/{pid}/environ")).unwrap_or_default();
        let marked = environ
            .split(|&b| b == 0)
            .any(|v| v.starts_with(marker.as_bytes()));
        let stat = std::fs::read_to_string(format!("/proc/{pid}/stat")).unwrap_or_default();
        let zombie = stat
            .rsplit_once(')')
            .is_some_and(|(_, rest)| rest.trim_start().starts_with('Z'));
        if marked && !zombie {
            found.push(pid);
        }
    }
    found
}

/// Waits up to 5 s for a marked process with this command line to be running.
fn appears(console: u32, words: &[&str]) -> bool {
    for _ in 0..100 {
        if !leftovers_of(console, words).is_empty() {
            return true;
        }
        std::thread::sleep(Duration::from_millis(50));
    }
    false
}

fn kill_all(pids: &[i32]) {
    for &pid in pids {
        let _ = nix::sys::signal::kill(
            nix::unistd::Pid::from_raw(pid),
            nix::sys::signal::Signal::SIGKILL,
        );
    }
}

fn signal(pid: u32, sig: nix::sys::signal::Signal) {
    let pid = i32::try_from(pid).expect("pid");
    nix::sys::signal::kill(nix::unistd::Pid::from_raw(pid), sig).expect("signal the console");
}

fn write_playbook(dir: &Path, body: &str) -> String {
    std::fs::write(dir.join("p.toml"), body).expect("playbook");
    dir.display().to_string()
}

/// Opens the playbook titled `title`, declares, requests the first step and confirms it.
fn start_first_step(tui: &mut Tui, title: &str, step_title: &str) {
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text(title, T);
    tui.send("\r");
    tui.wait_text(step_title, T);
    tui.send("\r"); // declare
    tui.wait_text("since declared", T);
    tui.send("\r"); // request the step
    tui.wait_text("Confirm", T);
    tui.send("y");
}

const HANGING: &str = r#"
id = "hang"
title = "A step that hangs"
scenario = "custom"
summary = "Starts a setsid child and waits."
rto = "30m"
rpo = "5m"

[[steps]]
id = "hang"
title = "Start and wait"
target = "5m"
run = ["sh", "-c", "setsid sleep 310 & echo started; exec sleep 311"]

[[steps]]
id = "after"
title = "Afterwards"
target = "5m"
"#;

/// SIGTERM and SIGHUP while a step runs: `interrupted` journaled (acknowledged before exit), the
/// step failed, its whole tree (the setsid child too) killed, a message on stderr naming the step
/// and the exact resume command, exit status 128 + the signal; the resume command works.
#[test]
fn sigterm_and_sighup_while_a_step_runs_interrupt_it_on_record() {
    use nix::sys::signal::Signal;
    for (sig, name, status) in [
        (Signal::SIGTERM, "SIGTERM", 143),
        (Signal::SIGHUP, "SIGHUP", 129),
    ] {
        let dir = Scratch::new("sigterm");
        let playbooks = write_playbook(dir.path(), HANGING);
        let mut tui = Tui::spawn(&["--playbooks", &playbooks], 100, 30);
        start_first_step(&mut tui, "A step that hangs", "Start and wait");
        tui.wait_text("started", T);
        let console = tui.pid();
        // The setsid child is running.
        assert!(
            appears(console, &["sleep", "310"]),
            "the setsid child did not start"
        );

        signal(console, sig);
        let exit = tui.wait_exit(T);
        assert_eq!(exit.exit_code(), status, "{name}: exit status");

        let state = tui.state.as_ref().expect("state dir").path().to_path_buf();
        let journal = common::the_journal_in(&state);
        let lines = common::journal_lines(&journal);
        let kinds: Vec<&str> = lines
            .iter()
            .map(|l| l["kind"].as_str().unwrap_or("(header)"))
            .collect();
        let at = kinds
            .iter()
            .position(|k| *k == "interrupted")
            .unwrap_or_else(|| panic!("{name}: no interrupted event in {kinds:?}"));
        let event = &lines[at];
        assert_eq!(event["step"], "hang");
        assert_eq!(event["attempt"], 1);
        assert_eq!(event["signal"], name, "{event}");
        let finished = &lines[at + 1];
        assert_eq!(finished["kind"], "step_finished", "{kinds:?}");
        assert_eq!(finished["outcome"], "failed");
        assert!(
            finished["detail"]
                .as_str()
                .is_some_and(|d| d.starts_with(&format!("interrupted: {name}"))),
            "{finished}"
        );

        // Nothing of the step survives the console.
        let left: Vec<i32> = [&["sleep", "310"][..], &["sleep", "311"]]
            .iter()
            .flat_map(|w| leftovers_of(console, w))
            .collect();
        kill_all(&left);
        assert!(left.is_empty(), "{name}: left running: {left:?}");

        // stderr says which step and how to resume, exactly.
        let said = String::from_utf8_lossy(&tui.raw_output()).into_owned();
        assert!(
            said.contains(&format!("warroom: ended by {name}")),
            "{said}"
        );
        assert!(
            said.contains("interrupted step hang (Start and wait), attempt 1"),
            "{said}"
        );
        let resume = format!(
            "warroom --playbooks {playbooks} --resume {}",
            journal.display()
        );
        assert!(said.contains(&format!("resume with: {resume}")), "{said}");

        if sig == Signal::SIGTERM {
            // The command it printed continues the incident: the step shows failed.
            let mut again = Tui::spawn_in(
                &[
                    "--playbooks",
                    &playbooks,
                    "--resume",
                    &journal.display().to_string(),
                ],
                100,
                30,
                &state,
                &[],
            );
            again.wait_text("Start and wait", T);
            again.wait_text("failed", T);
            again.send("q");
            again.send("q");
            again.wait_exit(T);
        }
    }
}

/// Ctrl-C (a key in raw mode) and SIGINT ask like `q` during an incident: the first one says so
/// and the step keeps running; the second quits.
#[test]
fn ctrl_c_and_sigint_ask_before_quitting_an_incident() {
    for via_signal in [false, true] {
        let dir = Scratch::new("ctrlc");
        let playbooks = write_playbook(dir.path(), HANGING);
        let mut tui = Tui::spawn(&["--playbooks", &playbooks], 100, 30);
        start_first_step(&mut tui, "A step that hangs", "Start and wait");
        tui.wait_text("started", T);
        let console = tui.pid();
        let press = |tui: &mut Tui| {
            if via_signal {
                signal(tui.pid(), nix::sys::signal::Signal::SIGINT);
            } else {
                tui.send("\x03");
            }
        };
        press(&mut tui);
        tui.wait_text("press q (or Ctrl-C) again to quit", T);
        std::thread::sleep(Duration::from_millis(300));
        assert!(
            appears(console, &["sleep", "311"]) && appears(console, &["sleep", "310"]),
            "the step still runs after one Ctrl-C"
        );
        press(&mut tui);
        let exit = tui.wait_exit(T);
        assert!(exit.success(), "a confirmed quit exits 0");
        // Quitting ends the step's tree as well.
        let left: Vec<i32> = [&["sleep", "310"][..], &["sleep", "311"]]
            .iter()
            .flat_map(|w| leftovers_of(console, w))
            .collect();
        kill_all(&left);
        assert!(left.is_empty(), "left running after quit: {left:?}");
    }
}
