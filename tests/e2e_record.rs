//! The record tells the truth, end to end in pseudo-terminals: a journal that cannot be created
//! stops a drill before the terminal is taken; one console writes a journal and a second is told
//! who holds it; `follow` creates and changes no file; a crash and resume is recorded and the RTO
//! clock never runs backwards; read-only stays with the incident; a journal dated in the future
//! is refused with its line, never spun on.

mod common;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant, SystemTime};

use common::{Scratch, Tui, journal_lines, journals_in, kill9, the_journal_in};

const T: Duration = Duration::from_secs(20);

/// A region-loss playbook (so `drill` injects the fault): a checklist step, a step that runs a
/// long program (so a crash can happen mid-step), a manual step.
const PLAYBOOK: &str = r#"
id = "region-loss"
title = "Record-test failover"
scenario = "region-loss"
summary = "A short failover used to test the record."
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
target = "20m"
run = ["sleep", "60"]

[[steps]]
id = "verify"
title = "Verify by hand"
target = "2m"
checklist = ["It works"]
"#;

fn playbooks() -> Scratch {
    playbooks_with(PLAYBOOK)
}

fn playbooks_with(src: &str) -> Scratch {
    let dir = Scratch::new("record-playbooks");
    std::fs::write(dir.path().join("region-loss.toml"), src).expect("write playbook");
    dir
}

fn utf8(p: &Path) -> &str {
    p.to_str().expect("utf-8 path")
}

fn wait_for_event(journal: &Path, kind: &str) {
    let deadline = Instant::now() + T;
    while !journal_lines(journal).iter().any(|l| l["kind"] == kind) {
        assert!(Instant::now() < deadline, "{kind} never journaled");
        std::thread::sleep(Duration::from_millis(20));
    }
}

/// `12m05s`, `1h02m`, `45s`, `2d03h` (`duration::compact`) in seconds.
fn parse_compact(text: &str) -> Option<u64> {
    let mut total = 0;
    let mut n = String::new();
    for c in text.chars() {
        if c.is_ascii_digit() {
            n.push(c);
            continue;
        }
        let unit = match c {
            's' => 1,
            'm' => 60,
            'h' => 3600,
            'd' => 86_400,
            _ => return None,
        };
        total += n.parse::<u64>().ok()? * unit;
        n.clear();
    }
    n.is_empty().then_some(total)
}

/// The RTO gauge's elapsed time on screen (`RTO ▕███░░▏ 12m05s of 30m`), in seconds.
fn rto_shown(screen: &str) -> Option<u64> {
    let line = screen
        .lines()
        .find(|l| l.contains("RTO ") && l.contains(" of "))?;
    let before_of = &line[..line.find(" of ")?];
    parse_compact(before_of.split_whitespace().last()?)
}

fn wait_rto(tui: &Tui) -> u64 {
    let screen = tui.wait_for("the RTO gauge", T, |s| rto_shown(s).is_some());
    rto_shown(&screen).expect("gauge")
}

fn drill_args<'a>(pb: &'a str, seed: &'a str, extra: &[&'a str]) -> Vec<&'a str> {
    let mut args = vec![
        "drill",
        "region-loss",
        "--speed",
        "60",
        "--seed",
        seed,
        "--at",
        "0s",
        "--playbooks",
        pb,
    ];
    args.extend_from_slice(extra);
    args
}

#[test]
fn drill_with_an_existing_journal_exits_2_before_taking_the_terminal() {
    let state = Scratch::new("record-exists");
    let taken = state.path().join("taken.jsonl");
    std::fs::write(&taken, "not yours\n").expect("write");
    let mut tui = Tui::spawn_in(
        &["drill", "region-loss", "--journal", utf8(&taken)],
        120,
        40,
        state.path(),
        &[],
    );
    let status = tui.wait_exit(T);
    assert_eq!(status.exit_code(), 2, "{}", tui.screen());
    let raw = tui.raw_output();
    assert!(
        !raw.windows(8).any(|w| w == b"\x1b[?1049h"),
        "the alternate screen was entered:\n{}",
        String::from_utf8_lossy(&raw)
    );
    let screen = tui.screen();
    assert!(
        screen.contains(utf8(&taken)) && screen.contains("already exists"),
        "the message names the path and the problem:\n{screen}"
    );
    assert!(screen.contains("--resume"), "and what to do:\n{screen}");
    assert_eq!(
        std::fs::read_to_string(&taken).expect("read"),
        "not yours\n",
        "untouched"
    );
    assert!(journals_in(state.path()).is_empty(), "no other journal");
}

#[test]
fn a_drill_left_before_anything_happened_leaves_no_journal() {
    let state = Scratch::new("record-nothing");
    let mut tui = Tui::spawn_in(
        &["drill", "region-loss", "--at", "10m"],
        200,
        60,
        state.path(),
        &[],
    );
    tui.wait_text("not declared", T);
    // The journal exists (and is locked) while the drill runs...
    assert_eq!(journals_in(state.path()).len(), 1);
    tui.send("q");
    assert!(tui.wait_exit(T).success());
    // ...and a header alone, with nothing recorded, is not left behind.
    assert!(
        journals_in(state.path()).is_empty(),
        "{:?}",
        journals_in(state.path())
    );
    assert!(!tui.screen().contains("postmortem:"), "{}", tui.screen());
}

#[test]
fn a_second_console_is_told_who_holds_the_journal_and_writes_nothing() {
    let pb = playbooks();
    let state = Scratch::new("record-two");
    let args = drill_args(utf8(pb.path()), "2", &["--operator", "alice"]);
    let mut first = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    first.wait_text("not declared", T);
    first.send("\r");
    first.wait_text("Step 1/3", T);
    let journal = the_journal_in(state.path());
    wait_for_event(&journal, "step_started");
    let before = std::fs::read(&journal).expect("read");

    // `--resume` of the running incident: refused before the terminal, naming the holder.
    let mut second = Tui::spawn_in(
        &[
            "--resume",
            utf8(&journal),
            "--playbooks",
            utf8(pb.path()),
            "--operator",
            "bob",
        ],
        200,
        60,
        state.path(),
        &[],
    );
    let status = second.wait_exit(T);
    let screen = second.screen();
    assert_eq!(status.exit_code(), 2, "{screen}");
    assert!(
        !second.raw_output().windows(8).any(|w| w == b"\x1b[?1049h"),
        "refused before the terminal"
    );
    let pid = first.pid().to_string();
    assert!(
        screen.contains("alice") && screen.contains(&pid),
        "the refusal names who holds it (operator, pid):\n{screen}"
    );
    assert_eq!(
        screen.matches("help:").count(),
        1,
        "what to do, said once:\n{screen}"
    );

    // The same drill started again: not offered the held journal; a new one is started.
    let mut third = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    third.wait_text("not declared", T);
    let raw = String::from_utf8_lossy(&third.raw_output()).to_string();
    assert!(
        !raw.contains("Resume it instead"),
        "a journal held by a live console is not offered:\n{raw}"
    );
    assert!(raw.contains("being run by"), "says who runs it:\n{raw}");
    third.send("q");
    third.wait_exit(T);

    // The first console's record: the others wrote nothing (the first console goes on writing
    // its own events after what was there), and it is still valid.
    let after = std::fs::read(&journal).expect("read");
    assert!(
        after.starts_with(&before),
        "what was on record before the second console changed"
    );
    assert!(
        !journal_lines(&journal)
            .iter()
            .any(|l| l["kind"] == "resumed"),
        "the refused console recorded its resume"
    );
    first.send(" ");
    first.send("\r");
    first.wait_text("Step 2/3", T);
    first.send("q");
    first.send("q");
    first.wait_exit(T);
    let replay = warroom::journal::read(&journal).expect("the journal stays valid");
    let verify = std::process::Command::new(common::BIN)
        .args(["verify", utf8(&journal)])
        .output()
        .expect("verify");
    assert!(
        verify.status.success(),
        "verify: {}{}",
        String::from_utf8_lossy(&verify.stdout),
        String::from_utf8_lossy(&verify.stderr)
    );
    assert!(replay.events.len() >= 4, "{} events", replay.events.len());
    let seqs: Vec<u64> = journal_lines(&journal)
        .iter()
        .skip(1)
        .map(|l| l["seq"].as_u64().expect("seq"))
        .collect();
    assert!(seqs.windows(2).all(|w| w[1] == w[0] + 1), "{seqs:?}");
}

/// Every file under `dir` with its length and modification time.
fn snapshot(dir: &Path) -> BTreeMap<PathBuf, (u64, SystemTime)> {
    let mut out = BTreeMap::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(rd) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in rd.filter_map(Result::ok) {
            let path = entry.path();
            let Ok(meta) = entry.metadata() else { continue };
            if meta.is_dir() {
                stack.push(path.clone());
            }
            out.insert(
                path,
                (
                    meta.len(),
                    meta.modified().unwrap_or(SystemTime::UNIX_EPOCH),
                ),
            );
        }
    }
    out
}

#[test]
fn follow_for_twenty_seconds_creates_and_changes_no_file() {
    // An RTO the projection crosses a few seconds into the drill (at 60x): the writer records
    // `rto_risk`, and a follower that judged the risk itself would have something to write.
    let pb = playbooks_with(
        &PLAYBOOK
            .replace("rto = \"30m\"", "rto = \"6m\"")
            .replace("target = \"20m\"", "target = \"2m\""),
    );
    let writer_state = Scratch::new("record-follow-writer");
    let journals = Scratch::new("record-follow-journals");
    let journal = journals.path().join("incident.jsonl");
    let args = drill_args(utf8(pb.path()), "5", &["--journal", utf8(&journal)]);
    let mut writer = Tui::spawn_in(&args, 200, 60, writer_state.path(), &[]);
    writer.wait_text("not declared", T);
    writer.send("\r");
    writer.wait_text("Step 1/3", T);

    // The follower's state directory and home are empty: anything it created would show.
    let follower_home = Scratch::new("record-follow-home");
    let home = utf8(follower_home.path()).to_string();
    let before_home = snapshot(follower_home.path());
    let before_dir: Vec<_> = snapshot(journals.path())
        .into_keys()
        .filter(|p| *p != journal)
        .collect();
    let mut follower = Tui::spawn_in(
        &["follow", utf8(&journal), "--playbooks", utf8(pb.path())],
        160,
        48,
        follower_home.path(),
        &[("HOME", &home)],
    );
    follower.wait_text("FOLLOW", T);
    let started = Instant::now();
    // The incident goes on while it is followed (20 s at 60x: past every target, into RTO risk).
    writer.wait_text("RTO AT RISK", T);
    writer.send(" ");
    writer.send("\r");
    writer.wait_text("Step 2/3", T);
    follower.wait_text("Step 2/3", T);
    while started.elapsed() < Duration::from_secs(20) {
        std::thread::sleep(Duration::from_millis(200));
    }
    follower.send("q");
    assert!(follower.wait_exit(T).success());
    assert_eq!(
        snapshot(follower_home.path()),
        before_home,
        "follow created or changed a file in its state directory or home"
    );
    let after_dir: Vec<_> = snapshot(journals.path())
        .into_keys()
        .filter(|p| *p != journal)
        .collect();
    assert_eq!(
        after_dir, before_dir,
        "follow created a file next to the journal"
    );
    assert!(before_home.is_empty(), "{before_home:?}");
    writer.send("q");
    writer.send("q");
    writer.wait_exit(T);
    // Only the writer's events are in the journal (one writer).
    let replay = warroom::journal::read(&journal).expect("valid journal");
    assert!(
        journal_lines(&journal)
            .iter()
            .any(|l| l["kind"] == "rto_risk"),
        "the writer recorded the risk"
    );
    assert!(!replay.events.is_empty());
}

#[test]
fn kill_nine_mid_step_then_resume_records_the_crash_and_the_rto_never_goes_back() {
    let pb = playbooks();
    let state = Scratch::new("record-crash");
    let args = drill_args(utf8(pb.path()), "3", &["--operator", "alice"]);
    let mut tui = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/3", T);
    tui.send(" ");
    tui.send("\r");
    tui.wait_text("Step 2/3", T);
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    tui.wait_for("the slow step running", T, |s| s.contains("· running"));
    let journal = the_journal_in(state.path());
    wait_for_event(&journal, "confirmed");
    // Let the simulated clock run a few minutes past the last event, then crash.
    std::thread::sleep(Duration::from_secs(3));
    let shown_before = wait_rto(&tui);
    kill9(&mut tui);
    let events_before = journal_lines(&journal).len() - 1;
    let gap = Duration::from_secs(3);
    std::thread::sleep(gap);

    let mut tui = Tui::spawn_in(
        &[
            "--resume",
            utf8(&journal),
            "--playbooks",
            utf8(pb.path()),
            "--operator",
            "carol",
        ],
        200,
        60,
        state.path(),
        &[],
    );
    tui.wait_text("resumed from", T);
    let shown_after = wait_rto(&tui);
    eprintln!("RTO shown: {shown_before}s before the crash, {shown_after}s after a {gap:?} gap");
    assert!(
        shown_after >= shown_before,
        "the RTO clock went back: {shown_before}s before the crash, {shown_after}s after"
    );
    // The simulated world kept running while the console was down (at 60x).
    assert!(
        shown_after >= shown_before + 60 * gap.as_secs() - 60,
        "the gap was not counted: {shown_before}s before, {shown_after}s after a {gap:?} gap"
    );
    let screen = tui.wait_text("interrupted", T);
    assert!(screen.contains("Step 2/3"), "{screen}");
    let pid = u64::from(tui.pid());
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
    // Left unfinished: the console says how to go on with it.
    let after = tui.wait_text("continue: warroom --resume", T);
    assert!(after.contains("postmortem: warroom report"), "{after}");

    let all = journal_lines(&journal);
    let resumed = &all[events_before + 1];
    assert_eq!(
        resumed["kind"], "resumed",
        "the first event after the crash"
    );
    assert!(
        resumed["gap_secs"].as_u64().expect("gap_secs") >= gap.as_secs(),
        "{resumed}"
    );
    assert_eq!(resumed["operator"], "carol");
    assert_eq!(resumed["pid"].as_u64(), Some(pid));
    assert!(!resumed["host"].as_str().unwrap_or_default().is_empty());
    // Whoever confirmed is on record.
    let confirmed = all
        .iter()
        .find(|l| l["kind"] == "confirmed")
        .expect("confirmed");
    assert_eq!(confirmed["by"], "alice");
    // The postmortem names the crash: when, the gap, who resumed it.
    let out = std::process::Command::new(common::BIN)
        .args(["report", utf8(&journal)])
        .output()
        .expect("report");
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let report = String::from_utf8_lossy(&out.stdout);
    let section = report
        .split("## Stops and resumes")
        .nth(1)
        .unwrap_or_else(|| panic!("the report lists no crash:\n{report}"));
    assert!(
        section.contains("carol") && section.contains(&pid.to_string()),
        "{section}"
    );
    // A kill -9 leaves no word: the report does not pretend to know more.
    assert!(
        section.contains("no record: a crash or a kill"),
        "{section}"
    );
    // The record across the crash is as written (hash chain intact).
    let verify = std::process::Command::new(common::BIN)
        .args(["verify", utf8(&journal)])
        .output()
        .expect("verify");
    assert!(verify.status.success(), "{verify:?}");
    // Times never go backwards across the crash.
    let times: Vec<String> = all
        .iter()
        .skip(1)
        .map(|l| l["at"].as_str().expect("at").to_string())
        .collect();
    let parsed: Vec<chrono::DateTime<chrono::Utc>> =
        times.iter().map(|t| t.parse().expect("RFC 3339")).collect();
    assert!(
        parsed.windows(2).all(|w| w[0] <= w[1]),
        "times went backwards: {times:?}"
    );
}

#[test]
fn a_read_only_incident_resumes_read_only() {
    let pb = playbooks();
    let state = Scratch::new("record-readonly");
    let args = drill_args(utf8(pb.path()), "4", &["--read-only"]);
    let mut tui = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/3", T);
    tui.send(" ");
    tui.send("\r");
    tui.wait_text("Step 2/3", T);
    let journal = the_journal_in(state.path());
    wait_for_event(&journal, "step_started");
    kill9(&mut tui);

    // Resumed without --read-only: still read-only, and it says so.
    let mut tui = Tui::spawn_in(
        &["--resume", utf8(&journal), "--playbooks", utf8(pb.path())],
        200,
        60,
        state.path(),
        &[],
    );
    let screen = tui.wait_text("resumed from", T);
    assert!(screen.contains("READ-ONLY"), "{screen}");
    tui.send("\r");
    tui.wait_text("read-only", T);
    tui.send("y");
    std::thread::sleep(Duration::from_millis(500));
    let screen = tui.screen();
    assert!(!screen.contains("· running"), "a step ran:\n{screen}");
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
    assert!(
        !journal_lines(&journal)
            .iter()
            .any(|l| l["kind"] == "confirmed"),
        "nothing was confirmed in a read-only incident"
    );
}

/// A drill journal whose last event (sealed, the chain intact) is dated in the year 9999 on
/// the given clock: what a machine with a wrong clock, or an editor who re-sealed the line,
/// would leave.
fn journal_dated_9999(clock: &str) -> (Scratch, Scratch, PathBuf, usize) {
    let pb = playbooks();
    let state = Scratch::new("record-future");
    let args = drill_args(utf8(pb.path()), "6", &[]);
    let mut tui = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/3", T);
    let journal = the_journal_in(state.path());
    wait_for_event(&journal, "step_started");
    kill9(&mut tui);
    let holder = warroom::journal::LockHolder::this_process("editor");
    let (mut j, replay) =
        warroom::journal::Journal::open_append(&journal, &holder).expect("open the journal");
    let year_9999: chrono::DateTime<chrono::Utc> = "9999-01-01T00:00:00Z".parse().expect("date");
    let last = replay.last_stamp();
    let stamp = match clock {
        "sim" => warroom::journal::Stamp {
            at: last.at,
            sim: Some(year_9999),
        },
        _ => warroom::journal::Stamp {
            at: year_9999,
            sim: last.sim,
        },
    };
    let note = warroom::playbook::Event::Note {
        text: "from the future".into(),
    };
    j.append(stamp, &note).expect("append");
    drop(j);
    let line = journal_lines(&journal).len();
    (pb, state, journal, line)
}

fn refused_with_line_quickly(pb: &Path, state: &Path, journal: &Path, line: usize) {
    let started = Instant::now();
    let mut tui = Tui::spawn_in(
        &["--resume", utf8(journal), "--playbooks", utf8(pb)],
        220,
        60,
        state,
        &[],
    );
    let status = tui.wait_exit(Duration::from_secs(10));
    let screen = tui.screen();
    assert_eq!(status.exit_code(), 2, "{screen}");
    assert!(
        started.elapsed() < Duration::from_secs(5),
        "refusing took {:?}",
        started.elapsed()
    );
    assert!(
        screen.contains(&format!("{}:{line}", utf8(journal))),
        "the refusal names line {line}:\n{screen}"
    );
    assert!(
        !tui.raw_output().windows(8).any(|w| w == b"\x1b[?1049h"),
        "refused before the terminal"
    );
}

#[test]
fn a_journal_dated_in_the_future_is_refused_with_its_line_not_spun_on() {
    // In simulated time: the console would rebuild the simulated world second by second up to
    // the year 9999 (it used to spin at 100% CPU without drawing).
    let (pb, state, journal, line) = journal_dated_9999("sim");
    refused_with_line_quickly(pb.path(), state.path(), &journal, line);
    // On the wall clock.
    let (pb, state, journal, line) = journal_dated_9999("wall");
    refused_with_line_quickly(pb.path(), state.path(), &journal, line);
}
