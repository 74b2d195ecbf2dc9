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
        let failed = lines
            .iter()
            .rposition(|l| l["kind"] == "step_finished")
            .unwrap_or_else(|| panic!("{name}: no step_finished in the journal"));
        let finished = &lines[failed];
        assert_eq!(finished["step"], "hang", "{finished}");
        assert_eq!(finished["outcome"], "failed");
        assert!(
            finished["detail"].as_str().is_some_and(|d| {
                d.starts_with(&format!(
                    "interrupted: {name} ended the console while this step ran"
                ))
            }),
            "{finished}"
        );
        // Recorded before the console exited, then the close: the journal's last two events.
        assert_eq!(failed, lines.len() - 2, "{name}: events after the failure");
        let closed = &lines[lines.len() - 1];
        assert_eq!(closed["kind"], "console_closed", "{closed}");
        assert_eq!(closed["signal"], name, "{closed}");

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
        // The journal says the console was closed on purpose, not crashed.
        let journal = common::the_journal_in(tui.state.as_ref().expect("state").path());
        let closed: Vec<serde_json::Value> = common::journal_lines(&journal)
            .into_iter()
            .filter(|l| l["kind"] == "console_closed")
            .collect();
        assert_eq!(closed.len(), 1, "{closed:?}");
        assert!(closed[0].get("signal").is_none(), "{:?}", closed[0]);
        let report = std::process::Command::new(common::BIN)
            .args(["report", &journal.to_string_lossy()])
            .output()
            .expect("report");
        let report = String::from_utf8_lossy(&report.stdout);
        assert!(report.contains("console closed by "), "{report}");
        // Quitting ends the step's tree as well.
        let left: Vec<i32> = [&["sleep", "310"][..], &["sleep", "311"]]
            .iter()
            .flat_map(|w| leftovers_of(console, w))
            .collect();
        kill_all(&left);
        assert!(left.is_empty(), "left running after quit: {left:?}");
    }
}

/// The secret of the masking test: mixed case, a `/` and a `+` (URL-encoded differently) and a
/// space (`+` in a query string).
const SECRET: &str = "Sup3r/S3cr3t+K3y z";

const LEAKY: &str = r#"
id = "leaky"
title = "A step that leaks its secret"
scenario = "custom"
summary = "Prints the secret in nine forms."
rto = "30m"
rpo = "5m"

[vars]
token = { value = "Sup3r/S3cr3t+K3y z", secret = true }

[[steps]]
id = "leak"
title = "Print the secret every way"
target = "5m"
env = { T = "{{token}}" }
run = ["python3", "-c", '''
import os, sys, time, base64, urllib.parse, re
s = os.environ["T"]
def out(x):
    sys.stdout.write(x); sys.stdout.flush()
out("v1 exact " + s + "\n")
out("v2 upper " + s.upper() + "\n")
out("v3 lower " + s.lower() + "\n")
u = urllib.parse.quote_plus(s)
out("v4 url " + u + "\n")
out("v4 urllower " + re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), u) + "\n")
for k in range(3):
    out("v5 b64 " + base64.b64encode(b"x" * k + s.encode() + b"\n").decode() + "\n")
    out("v6 b64url " + base64.urlsafe_b64encode(b"yy" * k + s.encode()).decode().rstrip("=") + "\n")
out("v7 chunks " + s[:7]); time.sleep(0.3); out(s[7:] + " end\n")
out("v8 esc " + s[:5] + "\x1b[31m" + s[5:] + "\x1b[0m\n")
out("v9 lines " + s[:6] + "\n" + s[6:] + " end\n")
out("done printing\n")
''']

[[steps]]
id = "argv"
title = "Pass the secret as an argument"
target = "5m"
run = ["echo", "arg {{token}}"]
"#;

/// Python-free copies of the encodings the step prints, to look for in what warroom wrote.
fn encoded_forms() -> Vec<String> {
    fn b64(bytes: &[u8], url: bool) -> String {
        const STD: &[u8] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
        let mut out = String::new();
        for g in bytes.chunks(3) {
            let b = [g[0], *g.get(1).unwrap_or(&0), *g.get(2).unwrap_or(&0)];
            let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
            for k in 0..=g.len() {
                let c = STD[((n >> (18 - 6 * k)) & 63) as usize] as char;
                out.push(match (url, c) {
                    (true, '+') => '-',
                    (true, '/') => '_',
                    _ => c,
                });
            }
        }
        out
    }
    let mut forms = Vec::new();
    for k in 0..3 {
        let mut std_in = b"x".repeat(k);
        std_in.extend_from_slice(SECRET.as_bytes());
        std_in.push(b'\n');
        forms.push(b64(&std_in, false));
        let mut url_in = b"yy".repeat(k);
        url_in.extend_from_slice(SECRET.as_bytes());
        forms.push(b64(&url_in, true));
    }
    forms
}

/// Where the secret must not be: plain forms whole, encoded forms by any 8 characters.
fn assert_no_secret(what: &str, text: &str) {
    let url = "Sup3r%2FS3cr3t%2BK3y+z";
    for form in [
        SECRET.to_string(),
        SECRET.to_uppercase(),
        SECRET.to_lowercase(),
        url.to_string(),
        url.to_lowercase(),
        "Sup3r%2fS3cr3t%2bK3y+z".to_string(),
    ] {
        assert!(!text.contains(&form), "{what} shows {form:?}");
    }
    // Case-insensitively too, after removing escape sequences (split by an escape).
    let plain = text
        .replace("\u{1b}[31m", "")
        .replace("\u{1b}[0m", "")
        .replace("\\u{1b}[31m", "")
        .replace("\\x1b[31m", "");
    assert!(
        !plain.to_lowercase().contains(&SECRET.to_lowercase()),
        "{what} shows the secret split by an escape sequence"
    );
    for form in encoded_forms() {
        let chars: Vec<char> = form.chars().collect();
        for window in chars.windows(8) {
            let window: String = window.iter().collect();
            assert!(!text.contains(&window), "{what} shows {window:?} of {form}");
        }
    }
}

/// The nine forms a step may print a secret in (exact, upper, lower, URL-encoded, base64,
/// base64url, split across two writes, split by an escape sequence, split across two lines)
/// never reach the journal, the screen or the report; the secret reaches the step by `env`
/// (shown masked in the confirmation); a secret in an argument is flagged with `ps`.
#[test]
fn a_secret_printed_in_nine_forms_reaches_neither_journal_nor_screen_nor_report() {
    let dir = Scratch::new("mask");
    let playbooks = write_playbook(dir.path(), LEAKY);
    let mut tui = Tui::spawn(&["--playbooks", &playbooks], 120, 40);
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text("A step that leaks its secret", T);
    tui.send("\r");
    tui.wait_text("Print the secret every way", T);
    tui.send("\r"); // declare
    tui.wait_text("since declared", T);
    tui.send("\r"); // request
    let confirm = tui.wait_text("Confirm", T);
    assert!(confirm.contains("T=••••••"), "env shown masked:\n{confirm}");
    assert!(
        !confirm.contains("local users"),
        "no ps warning for env:\n{confirm}"
    );
    tui.send("y");
    tui.wait_text("done printing", T);
    tui.wait_text("Step 2/2", T);
    tui.send("\r");
    let confirm = tui.wait_for("the confirmation of the argv step", T, |s| {
        s.contains("Confirm") && s.contains("arg ••••••")
    });
    assert!(
        confirm.contains("other local users can read it in `ps`"),
        "the ps warning:\n{confirm}"
    );
    tui.send("y");
    tui.wait_text("arg ••••••", T);
    std::thread::sleep(Duration::from_millis(500));
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);

    let state = tui.state.as_ref().expect("state dir").path().to_path_buf();
    let journal = common::the_journal_in(&state);
    let text = std::fs::read_to_string(&journal).expect("journal");
    // The lines were printed and journaled, masked.
    let lines = common::journal_lines(&journal);
    let output: Vec<String> = lines
        .iter()
        .filter(|l| l["kind"] == "output")
        .filter_map(|l| l["line"].as_str().map(str::to_string))
        .collect();
    for label in [
        "v1 exact",
        "v2 upper",
        "v3 lower",
        "v4 url",
        "v4 urllower",
        "v7 chunks",
        "v8 esc",
    ] {
        assert!(
            output
                .iter()
                .any(|l| l.starts_with(label) && l.contains("••••••")),
            "{label} not journaled masked: {output:#?}"
        );
    }
    assert_eq!(
        output
            .iter()
            .filter(|l| l.starts_with("v5 b64 ") && l.contains("••••••"))
            .count(),
        3,
        "{output:#?}"
    );
    assert_eq!(
        output
            .iter()
            .filter(|l| l.starts_with("v6 b64url ") && l.contains("••••••"))
            .count(),
        3,
        "{output:#?}"
    );
    assert_no_secret("the journal", &text);
    // Across the line break: the lines joined do not hold it either.
    assert_no_secret("the journal's output joined", &output.concat());

    let screen = String::from_utf8_lossy(&tui.raw_output()).into_owned();
    assert!(screen.contains("v9 lines"), "the output was on screen");
    assert_no_secret("the screen", &screen);

    let report = std::process::Command::new(common::BIN)
        .args(["report", &journal.display().to_string()])
        .output()
        .expect("warroom report");
    assert!(report.status.success());
    let report = String::from_utf8_lossy(&report.stdout).into_owned();
    assert!(
        report.contains("v9 lines") || report.contains("done printing"),
        "{report}"
    );
    assert_no_secret("the report", &report);
}
