//! No terminal injection, from any command (issue 9, points 2, 3, 6 and 9): hostile control
//! sequences in a playbook, an environment and a journal (OSC 52 clipboard write, OSC 0 window
//! title, CSI 2J screen clear, a carriage return, the C1 control U+009B) come out of `report`,
//! `show`, `status`, `check`, `history`, `follow` and the console shown visibly (`\x1b]52;...`),
//! never as the raw bytes. The tests scan the bytes the real binary wrote. Also: a reader that
//! goes away after one byte (`| head -c1`) or a closed stderr never makes a command panic; a
//! 10 MB step title gives a bounded `check` and `show`; the confirmation shows each argument
//! exactly, control characters visible.

mod common;
mod journal_support;

use std::io::Read as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::Duration;

use common::{Scratch, Tui};
use journal_support::{Session, World, day, shipped};
use warroom::playbook::Input;

/// The hostile payload as it reaches the program.
const H: &str = "\u{1b}]52;c;SGVsbG8=\u{7} \u{1b}]0;pwned\u{7} \u{1b}[2J cr\r c1\u{9b} end";
/// The same payload written with TOML escapes.
const H_TOML: &str = r"\u001b]52;c;SGVsbG8=\u0007 \u001b]0;pwned\u0007 \u001b[2J cr\r c1\u009b end";
/// How the OSC 52 part of the payload reads once shown visibly.
const SHOWN: &str = r"\x1b]52;c;SGVsbG8=\x07";

const T: Duration = Duration::from_secs(30);

/// Every raw byte of `out` that only a hostile input could have put there: ESC, BEL, CR, or a
/// C1 control (U+0080..U+009F, UTF-8 `C2 80`..`C2 9F`), each with where it is and around it.
fn raw_controls(out: &[u8]) -> Vec<String> {
    let mut found = Vec::new();
    for (i, &b) in out.iter().enumerate() {
        let what = match b {
            0x1b => "ESC",
            0x07 => "BEL",
            b'\r' => "CR",
            0xc2 if matches!(out.get(i + 1), Some(0x80..=0x9f)) => "C1",
            _ => continue,
        };
        let from = i.saturating_sub(20);
        let to = (i + 20).min(out.len());
        found.push(format!(
            "{what} at byte {i}: {:?}",
            String::from_utf8_lossy(&out[from..to])
        ));
        if found.len() == 5 {
            break;
        }
    }
    found
}

fn contains(hay: &[u8], needle: &[u8]) -> bool {
    hay.windows(needle.len()).any(|w| w == needle)
}

/// The output of one command: no raw control byte, and the payload shown visibly (so the value
/// did reach the output: a check that would pass on an empty output proves nothing).
fn assert_safe(what: &str, out: &[u8]) {
    let raw = raw_controls(out);
    assert!(
        raw.is_empty(),
        "{what}: raw control bytes:\n{}",
        raw.join("\n")
    );
    assert!(
        contains(out, SHOWN.as_bytes()),
        "{what}: the payload is not shown visibly:\n{}",
        String::from_utf8_lossy(&out[..out.len().min(3000)])
    );
}

/// Runs `warroom ARGS`: (exit code, stdout, stderr).
fn run(args: &[&str]) -> (Option<i32>, Vec<u8>, Vec<u8>) {
    let out = Command::new(common::BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .output()
        .expect("run warroom");
    (out.status.code(), out.stdout, out.stderr)
}

/// A playbook whose title, summary, guide, checklist item, step title and variable (used as a
/// run argument, so the step's output carries it too, for 5 s) hold the payload; `arg` is a variable
/// holding `a` LF `b` ESC `[31m`.
fn hostile_playbook(title: &str) -> String {
    format!(
        r#"id = "hostile"
title = "Hostile {H_TOML}"
scenario = "custom"
summary = "Summary {H_TOML}"
rto = "30m"
rpo = "5m"

[vars]
payload = "var {H_TOML}"
arg = "a\nb\u001b[31m"

[[steps]]
id = "first"
title = "{title}"
target = "5m"
guide = "Guide {H_TOML}"
checklist = ["Item {H_TOML}"]
run = ["sh", "-c", "echo \"$0\" \"$1\"; sleep 5", "{{{{arg}}}}", "{{{{payload}}}}"]
"#
    )
}

fn playbook_dir(tag: &str) -> Scratch {
    let dir = Scratch::new(tag);
    std::fs::write(
        dir.path().join("hostile.toml"),
        hostile_playbook(&format!("Step {H_TOML}")),
    )
    .expect("write the playbook");
    dir
}

/// The demo environment with the payload in its name, a backup's kind and a resource name.
fn hostile_env(dir: &Path) -> PathBuf {
    let demo = include_str!("../src/env/demo.toml");
    let env = demo
        .replacen("name = \"demo\"", &format!("name = \"demo {H_TOML}\""), 1)
        .replacen(
            "kind = \"RDS snapshot\"",
            &format!("kind = \"RDS snapshot {H_TOML}\""),
            1,
        )
        .replacen(
            "name = \"dr-replica\"",
            &format!("name = \"dr-replica {H_TOML}\""),
            1,
        );
    assert_ne!(env, demo);
    let path = dir.join("env.toml");
    std::fs::write(&path, env).expect("write the environment");
    path
}

/// A complete region-loss drill whose playbook and step titles, note, skip reason and step
/// output carry the payload (`title` replaces the first step's title), through the real
/// journal writer. Returns the journal's path.
fn hostile_journal(dir: &Path, title: &str, notes: &[String]) -> PathBuf {
    let path = dir.join("2026-11-22T0312Z-hostile-drill.jsonl");
    let t0 = day(2026, 11, 22, 3, 12);
    let mut pb = shipped("region-loss");
    pb.title = format!("Region loss {H}");
    pb.steps[0].title = title.to_string();
    let mut s = Session::start(&path, pb, World::region_lost(t0, 42.0), t0);
    s.output = vec![(
        "db.promote",
        vec![format!("promoting {H}"), "plain line".into()],
    )];
    s.item_secs = 20;
    s.fault("region-loss");
    s.wait(30);
    s.input(Input::Declare);
    s.work(0);
    s.input(Input::Note {
        text: format!("Note {H}\nsecond line {H}"),
    });
    for n in notes {
        s.input(Input::Note { text: n.clone() });
    }
    let notify = s
        .engine
        .playbook()
        .step_index("notify")
        .expect("notify step");
    s.input(Input::Skip {
        step: notify,
        reason: format!("Reason {H}"),
    });
    s.run_to_end(60, 20);
    path
}

#[test]
fn report_shows_hostile_journal_values_visibly() {
    let dir = Scratch::new("safe-report");
    let journal = hostile_journal(dir.path(), &format!("Assess {H}"), &[]);
    let j = journal.to_str().expect("utf-8 path");
    let (code, out, err) = run(&["report", j]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&err));
    assert_safe("report", &out);
    assert_safe("report stderr", &[&err[..], SHOWN.as_bytes()].concat());
    let md = String::from_utf8(out).expect("utf-8");
    for shown in [
        r"Note \x1b]52;c;SGVsbG8=\x07",
        r"Reason \x1b]52;c;SGVsbG8=\x07",
        r"promoting \x1b]52;c;SGVsbG8=\x07",
        r"Assess \x1b]52;c;SGVsbG8=\x07",
        r"# Postmortem: Region loss \x1b]52;c;SGVsbG8=\x07",
    ] {
        assert!(md.contains(shown), "{shown:?} not in the report:\n{md}");
    }
    // Still valid markdown: every table row has its columns, the note's second line stays in
    // its list item.
    assert!(md.contains("\n  second line"), "{md}");

    // JSON: no raw control byte either (serde_json leaves C1 raw; the gate escapes it), and the
    // strings decode to exactly what the journal holds.
    let (code, out, _) = run(&["report", j, "--format", "json"]);
    assert_eq!(code, Some(0));
    let raw = raw_controls(&out);
    assert!(raw.is_empty(), "report json: {}", raw.join("\n"));
    let v: serde_json::Value = serde_json::from_slice(&out).expect("valid JSON");
    let text = v.to_string();
    assert!(
        text.contains(&serde_json::to_string(&format!("Reason {H}")).expect("json")[1..]),
        "the JSON report changed the reason: {text}"
    );
}

#[test]
fn history_shows_hostile_journal_values_visibly() {
    let dir = Scratch::new("safe-history");
    hostile_journal(dir.path(), &format!("Assess {H}"), &[]);
    let d = dir.path().to_str().expect("utf-8 path");
    // The history table shows the scenario and operator: put the payload in a broken journal's
    // name too, whose error the table repeats.
    std::fs::write(dir.path().join(format!("broken {H}.jsonl")), b"not json\n").expect("write");
    let (code, out, err) = run(&["history", d]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&err));
    assert_safe("history", &out);
    assert!(raw_controls(&err).is_empty(), "history stderr");
}

#[test]
fn show_prints_hostile_playbook_values_visibly_and_the_exact_command() {
    let dir = playbook_dir("safe-show");
    let pb = dir.path().join("hostile.toml");
    let p = pb.to_str().expect("utf-8 path");
    for args in [vec!["show", p], vec!["show", p, "--markdown"]] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {}", String::from_utf8_lossy(&err));
        assert_safe(&format!("{args:?}"), &out);
        let text = String::from_utf8(out).expect("utf-8");
        for shown in ["Hostile ", "Summary ", "Guide ", "Item ", "Step "] {
            assert!(
                text.contains(&format!(r"{shown}\x1b]52;c;SGVsbG8=\x07")),
                "{args:?}: {shown:?} not shown visibly:\n{text}"
            );
        }
        // Point 9: the exact command, each argument exact with its controls visible.
        assert!(
            text.contains(r"sleep 5' $'a\nb\x1b[31m' $'var \x1b]52;c;SGVsbG8=\x07 "),
            "{args:?}: the command is not exact:\n{text}"
        );
    }
}

#[test]
fn status_and_check_show_hostile_environment_values_visibly() {
    let dir = playbook_dir("safe-status");
    let env = hostile_env(dir.path());
    let e = env.to_str().expect("utf-8 path");
    let (code, out, err) = run(&["--env", e, "status"]);
    assert!(
        matches!(code, Some(0 | 1)),
        "{code:?}: {}",
        String::from_utf8_lossy(&err)
    );
    assert_safe("status", &out);
    assert!(raw_controls(&err).is_empty(), "status stderr");
    // status --json: valid JSON, no raw control byte.
    let (_, out, _) = run(&["--env", e, "status", "--json"]);
    assert!(raw_controls(&out).is_empty(), "status --json");
    serde_json::from_slice::<serde_json::Value>(&out).expect("valid JSON");

    // check: a valid hostile playbook against the hostile environment, then a broken one whose
    // unknown key and bad value carry the payload (echoed in the error).
    let pb = dir.path().join("hostile.toml");
    let (code, out, err) = run(&["--env", e, "check", pb.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{}", String::from_utf8_lossy(&err));
    assert!(raw_controls(&out).is_empty(), "check stdout");
    assert!(raw_controls(&err).is_empty(), "check stderr");
    let broken = dir.path().join("broken.toml");
    std::fs::write(
        &broken,
        hostile_playbook("Step")
            .replacen("rto = \"30m\"", &format!("rto = \"{H_TOML}\""), 1)
            .replacen("[vars]", &format!("\"key {H_TOML}\" = 1\n\n[vars]"), 1),
    )
    .expect("write");
    let (code, out, err) = run(&["--env", e, "check", broken.to_str().expect("utf-8")]);
    assert_eq!(code, Some(1), "{}", String::from_utf8_lossy(&err));
    assert!(raw_controls(&out).is_empty(), "check stdout");
    assert_safe("check stderr", &err);
    // A hostile environment that is invalid (a replica of an unknown database, named with the
    // payload): `check` says so, visibly.
    let bad_env = dir.path().join("bad-env.toml");
    let text = std::fs::read_to_string(&env).expect("env");
    std::fs::write(
        &bad_env,
        text.replacen(
            "replica_of = \"primary\"",
            &format!("replica_of = \"primary {H_TOML}\""),
            1,
        ),
    )
    .expect("write");
    let (code, out, err) = run(&["--env", bad_env.to_str().expect("utf-8"), "check"]);
    assert_eq!(code, Some(1), "{}", String::from_utf8_lossy(&err));
    assert!(raw_controls(&out).is_empty(), "check --env stdout");
    assert_safe("check --env stderr", &err);
}

/// The console: the terminal's own control sequences are legitimate; the payload's sequences
/// never reach the terminal raw, and their visible form does.
fn assert_console_safe(what: &str, raw: &[u8]) {
    for hostile in [
        &b"\x1b]52;"[..],
        b"\x1b]0;pwned",
        b"pwned\x07",
        b"cr\r",
        b"\xc2\x9b",
    ] {
        assert!(
            !contains(raw, hostile),
            "{what}: {:?} reached the terminal raw",
            String::from_utf8_lossy(hostile)
        );
    }
    assert!(
        contains(raw, SHOWN.as_bytes()),
        "{what}: the payload is not shown visibly"
    );
}

#[test]
fn the_console_shows_hostile_values_and_the_exact_command_visibly() {
    let dir = playbook_dir("safe-console");
    let playbooks = dir.path().to_str().expect("utf-8 path");
    let mut tui = Tui::spawn(&["--playbooks", playbooks], 80, 24);
    tui.wait_text("Replica lag", T);
    tui.send("p");
    tui.wait_text("Hostile", T);
    tui.send("\r"); // pick it
    tui.wait_text("Enter declare", T);
    tui.send("\r"); // declare
    tui.wait_text("since declared", T);
    tui.send(" "); // tick the checklist item
    std::thread::sleep(Duration::from_millis(300));
    tui.send("\r"); // request the step
    let screen = tui.wait_text("Confirm", T);
    // Point 9: the confirmation's exact command shows `a` LF `b` ESC `[31m` visibly, as bash
    // would read it back, nothing dropped.
    assert!(
        screen.contains(r"sleep 5' $'a\nb\x1b[31m'"),
        "the confirmation does not show the argument exactly:\n{screen}"
    );
    tui.send("y");
    // The step's output (echo of the payload; its second line is `b` ESC `[31m var ...`) is
    // shown visibly.
    let output = r"b\x1b[31m var \x1b]52;c;SGVsbG8=\x07";
    tui.wait_text(output, T);
    std::thread::sleep(Duration::from_millis(300));
    let raw = tui.raw_output();
    assert_console_safe("console", &raw);
    assert!(
        contains(&raw, output.as_bytes()),
        "the output line is not shown visibly"
    );
    tui.send("q");
}

#[test]
fn follow_shows_hostile_journal_values_visibly() {
    let dir = Scratch::new("safe-follow");
    let journal = hostile_journal(dir.path(), &format!("Assess {H}"), &[]);
    let j = journal.to_str().expect("utf-8 path");
    let mut tui = Tui::spawn(&["follow", j], 120, 40);
    tui.wait_text(r"\x1b]52;c;SGVsbG8=", T);
    std::thread::sleep(Duration::from_millis(300));
    assert_console_safe("follow", &tui.raw_output());
    tui.send("q");
}

#[test]
fn a_ten_megabyte_step_title_gives_bounded_output() {
    let dir = Scratch::new("safe-big");
    let huge = "x".repeat(10_000_000);
    let pb = dir.path().join("big.toml");
    std::fs::write(&pb, hostile_playbook(&huge)).expect("write");
    let p = pb.to_str().expect("utf-8");
    for args in [
        vec!["check", p],
        vec!["show", p],
        vec!["show", p, "--markdown"],
    ] {
        let (code, out, err) = run(&args);
        assert_eq!(code, Some(0), "{args:?}: {}", text_head(&err));
        assert!(
            out.len() + err.len() < 64 * 1024,
            "{args:?}: {} bytes out, {} bytes err",
            out.len(),
            err.len()
        );
        if args[0] == "show" {
            assert!(
                String::from_utf8_lossy(&out).contains("… (10.0 MB more)"),
                "{args:?}: the cut is not counted"
            );
        }
    }
    // The same title, broken (an unknown key in its step): the error echoes it bounded.
    std::fs::write(
        &pb,
        hostile_playbook(&huge).replacen("target = \"5m\"", "target = \"5m\"\nbogus = 1", 1),
    )
    .expect("write");
    let (code, out, err) = run(&["check", p]);
    assert_eq!(code, Some(1));
    assert!(out.len() + err.len() < 64 * 1024, "{} bytes", err.len());
    // A journal whose step title is 10 MB: the report repeats it bounded.
    let journal = hostile_journal(dir.path(), &huge, &[]);
    let (code, out, err) = run(&["report", journal.to_str().expect("utf-8")]);
    assert_eq!(code, Some(0), "{}", text_head(&err));
    assert!(out.len() < 256 * 1024, "report: {} bytes", out.len());
    assert!(String::from_utf8_lossy(&out).contains("… (10.0 MB more)"));
}

fn text_head(b: &[u8]) -> String {
    String::from_utf8_lossy(&b[..b.len().min(2000)]).into_owned()
}

/// Runs `warroom ARGS`, reads one byte of its stdout and closes it (`| head -c1`): (exit code,
/// stderr).
fn head_c1(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(common::BIN)
        .args(args)
        .env("NO_COLOR", "1")
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn warroom");
    let mut stdout = child.stdout.take().expect("stdout");
    let mut one = [0u8; 1];
    stdout.read_exact(&mut one).expect("one byte");
    drop(stdout);
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_reader_gone_after_one_byte_ends_every_command_quietly() {
    let dir = Scratch::new("safe-head");
    // Big outputs, well past a pipe's buffer: a report of 20 long notes, a history of 1,000
    // journals.
    let notes: Vec<String> = (0..20)
        .map(|i| format!("{i} {}", "n".repeat(19_000)))
        .collect();
    let journal = hostile_journal(dir.path(), "Assess", &notes);
    let many = dir.path().join("many");
    std::fs::create_dir_all(&many).expect("dir");
    let fixture = "tests/fixtures/journals/history/2026-11-22T0312Z-region-loss-drill.jsonl";
    for i in 0..1000 {
        std::fs::copy(
            fixture,
            many.join(format!("2026-11-22T0312Z-copy-{i:03}.jsonl")),
        )
        .expect("copy");
    }
    let j = journal.to_str().expect("utf-8");
    let m = many.to_str().expect("utf-8");
    let (_, big, _) = run(&["report", j]);
    assert!(big.len() > 256 * 1024, "report {} bytes", big.len());
    let (_, big, _) = run(&["history", m]);
    assert!(big.len() > 64 * 1024, "history {} bytes", big.len());
    let cases: [&[&str]; 9] = [
        &["status"],
        &["status", "--json"],
        &["show", "region-loss"],
        &["show", "region-loss", "--markdown"],
        &["check", "playbooks"],
        &["report", j],
        &["report", j, "--format", "json"],
        &["history", m],
        &["verify", j],
    ];
    for args in cases {
        let (code, err) = head_c1(args);
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert!(
            matches!(code, Some(0 | 1 | 141)),
            "{args:?}: {code:?}: {err}"
        );
    }
}

#[test]
fn a_closed_stderr_ends_a_failing_command_quietly() {
    // Errors go to stderr; with its reader gone, each must still exit with its status, not
    // panic (101) or abort.
    let cases: [(&[&str], i32); 4] = [
        (&["report", "/nonexistent/journal.jsonl"], 2),
        (&["show", "no-such-playbook"], 2),
        (&["check", "/nonexistent/playbook.toml"], 1),
        (&["--env", "/nonexistent/env.toml", "status"], 2),
    ];
    for (args, want) in cases {
        let mut child = Command::new(common::BIN)
            .args(args)
            .env("NO_COLOR", "1")
            .stdin(Stdio::null())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .expect("spawn warroom");
        drop(child.stderr.take());
        let out = child.wait_with_output().expect("wait");
        assert_eq!(out.status.code(), Some(want), "{args:?}");
    }
}

#[test]
fn resume_errors_name_the_journal_line() {
    let dir = Scratch::new("safe-resume");
    // An unfinished drill of the shipped region-loss playbook.
    let path = dir.path().join("2026-11-22T0312Z-unfinished-drill.jsonl");
    let t0 = day(2026, 11, 22, 3, 12);
    let mut s = Session::start(
        &path,
        shipped("region-loss"),
        World::region_lost(t0, 42.0),
        t0,
    );
    s.fault("region-loss");
    s.wait(30);
    s.input(Input::Declare);
    drop(s);
    let j = path.to_str().expect("utf-8");
    let stderr = |args: &[&str]| {
        let (code, _, err) = run(args);
        assert_eq!(code, Some(2), "{args:?}: {}", String::from_utf8_lossy(&err));
        String::from_utf8(err).expect("utf-8")
    };
    // Another environment (named with the payload): the header, line 1, says which.
    let env = hostile_env(dir.path());
    let err = stderr(&["--env", env.to_str().expect("utf-8"), "--resume", j]);
    assert!(err.contains(&format!("{j}:1: ")), "{err}");
    assert_safe("resume stderr", err.as_bytes());
    // The playbook changed since: line 1 again.
    let playbooks = dir.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).expect("dir");
    let changed = std::fs::read_to_string("playbooks/region-loss.toml")
        .expect("playbook")
        .replacen(
            "title = \"Assess scope\"",
            "title = \"Assess the scope\"",
            1,
        );
    std::fs::write(playbooks.join("region-loss.toml"), changed).expect("write");
    let err = stderr(&[
        "--playbooks",
        playbooks.to_str().expect("utf-8"),
        "--resume",
        j,
    ]);
    assert!(err.contains(&format!("{j}:1: ")), "{err}");
    // A finished incident: its last line, the end.
    let done = hostile_journal(dir.path(), "Assess", &[]);
    let d = done.to_str().expect("utf-8");
    let lines = std::fs::read_to_string(&done)
        .expect("journal")
        .lines()
        .count();
    let err = stderr(&["--resume", d]);
    assert!(err.contains(&format!("{d}:{lines}: ")), "{err}");
}
