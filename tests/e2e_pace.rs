//! Human pace, machine fast-forward (issue 13 item 1), driven like a facilitator would: the real
//! binary in a pseudo-terminal, read back from the screen and the journal.
//!
//! - `P` pauses the simulated clock: the status bar's clock, the RTO gauge and the step timer
//!   stand still for 5 s of wall time, and move again after `P`;
//! - `>` during the promotion's wait reaches its outcome in seconds at speed 1, then the clock
//!   returns to speed 1 by itself;
//! - the journal records `clock_paused`, `clock_resumed`, `speed_changed`; the report lists them;
//! - a journal left paused resumes paused, with the figures as they were;
//! - the drill's fault arrives after a healthy, complete screen, 2-10 simulated minutes in.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{BIN, Scratch, Tui, journal_lines, the_journal_in};

/// The status bar's clock (`13:54:30 UTC`).
fn bar_clock(screen: &str) -> String {
    let bar = screen.lines().next().unwrap_or_default();
    let end = bar
        .find(" UTC")
        .unwrap_or_else(|| panic!("no clock in {bar:?}"));
    bar[end.saturating_sub(8)..end].to_string()
}

/// The RTO gauge's line in the playbook pane (`RTO ▕░░▏ 3s of 30m00s outage · ...`).
fn rto_gauge(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains("RTO ▕"))
        .unwrap_or_else(|| panic!("no RTO gauge on screen:\n{screen}"));
    line.split('│').nth(1).unwrap_or(line).trim().to_string()
}

/// The current step's heading (`Step 1/7 · Assess scope · target 2m · 1s · active`).
fn step_heading(screen: &str) -> String {
    let line = screen
        .lines()
        .find(|l| l.contains("Step ") && l.contains('/') && l.contains("target"))
        .unwrap_or_else(|| panic!("no step heading on screen:\n{screen}"));
    line.split('│').nth(1).unwrap_or(line).trim().to_string()
}

/// The status word at the end of the current step's heading.
fn step_status(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.contains("Step ") && l.contains('/') && l.contains("target"))?;
    let inner = line.split('│').nth(1).unwrap_or(line);
    inner.split('·').next_back().map(|s| s.trim().to_string())
}

/// The `PAUSED 5s` badge's seconds.
fn paused_badge_secs(screen: &str) -> Option<u64> {
    let bar = screen.lines().next()?;
    let rest = bar.split("PAUSED ").nth(1)?;
    let text = rest.split_whitespace().next()?;
    // `compact`: `5s`, `1m05s`.
    let (m, s) = match text.split_once('m') {
        Some((m, s)) => (m.parse::<u64>().ok()?, s.trim_end_matches('s')),
        None => (0, text.trim_end_matches('s')),
    };
    Some(m * 60 + s.parse::<u64>().ok()?)
}

fn kinds(lines: &[serde_json::Value]) -> Vec<String> {
    lines
        .iter()
        .skip(1)
        .map(|l| l["kind"].as_str().unwrap_or_default().to_string())
        .collect()
}

fn report(path: &Path) -> String {
    let out = std::process::Command::new(BIN)
        .args(["report", &path.display().to_string()])
        .output()
        .expect("run report");
    assert!(
        out.status.success(),
        "report failed: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// A region-loss drill at speed 1 whose fault arrives at once, declared.
fn declared_drill(state: &Path, cols: u16, rows: u16) -> Tui {
    let tui = Tui::spawn_in(
        &["drill", "region-loss", "--seed", "7", "--at", "0s"],
        cols,
        rows,
        state,
        &[],
    );
    tui.wait_text("not declared", Duration::from_secs(15));
    // The fault arrives once the panes are complete (the first poll): the journal says so at
    // every size (at 80x24 the timeline is not on screen before the declaration).
    let journal = common::the_journal_in(state);
    common::wait_journal_kind(&tui, &journal, "disrupted", Duration::from_secs(10));
    let mut tui = tui;
    tui.send("\r");
    tui.wait_text("RTO ▕", Duration::from_secs(10));
    tui
}

fn quit(tui: &mut Tui) {
    tui.send("q");
    std::thread::sleep(Duration::from_millis(200));
    tui.send("q");
    assert!(tui.wait_exit(Duration::from_secs(10)).success());
}

fn pause_holds_everything_still(cols: u16, rows: u16) {
    let state = Scratch::new("pace-pause");
    let mut tui = declared_drill(state.path(), cols, rows);
    // Let the clocks run a little first.
    std::thread::sleep(Duration::from_millis(1500));
    tui.send("P");
    tui.wait_for("the PAUSED badge", Duration::from_secs(5), |s| {
        s.lines().next().unwrap_or_default().contains("PAUSED")
    });
    // The tick already queued may land: read once it has.
    std::thread::sleep(Duration::from_millis(600));
    let before = tui.screen();
    std::thread::sleep(Duration::from_secs(5));
    let after = tui.screen();
    assert_eq!(
        bar_clock(&before),
        bar_clock(&after),
        "the status bar's clock moved while paused:\n{after}"
    );
    assert_eq!(
        rto_gauge(&before),
        rto_gauge(&after),
        "the RTO gauge moved while paused"
    );
    assert_eq!(
        step_heading(&before),
        step_heading(&after),
        "the step timer moved while paused"
    );
    // The badge counts the pause on the wall clock.
    let shown = paused_badge_secs(&after).unwrap_or_else(|| panic!("no PAUSED badge:\n{after}"));
    assert!(
        shown >= 5,
        "PAUSED badge says {shown}s after 5.6 s:\n{after}"
    );

    tui.send("P");
    tui.wait_for("the badge to go", Duration::from_secs(5), |s| {
        !s.lines().next().unwrap_or_default().contains("PAUSED")
    });
    std::thread::sleep(Duration::from_millis(2500));
    let resumed = tui.screen();
    assert_ne!(
        bar_clock(&after),
        bar_clock(&resumed),
        "the clock did not move after resuming"
    );
    assert_ne!(
        rto_gauge(&after),
        rto_gauge(&resumed),
        "the RTO gauge did not move after resuming"
    );
    quit(&mut tui);

    // The record: paused, then resumed at the same simulated time, after >= 5 s of wall time.
    let path = the_journal_in(state.path());
    let lines = journal_lines(&path);
    let paused = lines
        .iter()
        .find(|l| l["kind"] == "clock_paused")
        .unwrap_or_else(|| panic!("no clock_paused in {:?}", kinds(&lines)));
    let resumed = lines
        .iter()
        .find(|l| l["kind"] == "clock_resumed")
        .unwrap_or_else(|| panic!("no clock_resumed in {:?}", kinds(&lines)));
    assert_eq!(
        paused["sim"], resumed["sim"],
        "simulated time moved while paused"
    );
    assert_ne!(paused["at"], resumed["at"], "the wall clock did not move");
    let secs = resumed["paused_secs"].as_u64().expect("paused_secs");
    assert!((5..=30).contains(&secs), "paused_secs {secs}");
    // The postmortem lists the pause (timeline and summary).
    let text = report(&path);
    assert!(text.contains("paused 1 time,"), "{text}");
    assert!(text.contains("clock paused"), "{text}");
    assert!(text.contains("clock resumed after a pause of"), "{text}");
    // `history` reads the drill like any other (the pause is in the real duration only).
    let out = std::process::Command::new(BIN)
        .arg("history")
        .env("XDG_STATE_HOME", state.path())
        .output()
        .expect("run history");
    let listing = String::from_utf8_lossy(&out.stdout);
    assert!(
        out.status.success() && listing.contains("region-loss"),
        "history: {listing}{}",
        String::from_utf8_lossy(&out.stderr)
    );
}

#[test]
fn pause_holds_the_clock_the_rto_gauge_and_the_step_timer_still_at_80x24() {
    pause_holds_everything_still(80, 24);
}

#[test]
fn pause_holds_the_clock_the_rto_gauge_and_the_step_timer_still_at_140x42() {
    pause_holds_everything_still(140, 42);
}

/// Works steps 1 and 2 and confirms the promotion; returns once step 3 waits on the machine.
fn to_the_promotion_wait(tui: &mut Tui) {
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(60),
            "did not reach the promotion's wait; screen:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(150));
        let screen = tui.screen();
        if let Some(line) = screen.lines().find(|l| l.contains("DESTRUCTIVE. Type ")) {
            let name = line
                .split("DESTRUCTIVE. Type ")
                .nth(1)
                .and_then(|r| r.split(" and press Enter").next())
                .unwrap_or_default()
                .trim()
                .to_string();
            tui.send(&name);
            tui.send("\r");
            continue;
        }
        let heading = step_heading(&screen);
        if heading.starts_with("Step 3/7")
            && matches!(
                step_status(&screen).as_deref(),
                Some("verifying" | "running")
            )
        {
            return;
        }
        if step_status(&screen).as_deref() == Some("active") {
            let cursor = screen
                .lines()
                .find(|l| l.contains("› [ ]") || l.contains("› [x]"));
            let unticked = screen.lines().any(|l| l.contains("[ ] "));
            match cursor {
                Some(line) if line.contains("[ ]") => tui.send(" "),
                Some(_) if unticked => tui.send("j"),
                _ => tui.send("\r"),
            }
        }
    }
}

#[test]
fn fast_forward_reaches_the_promotions_outcome_in_seconds_then_returns_to_speed_1() {
    let state = Scratch::new("pace-ff");
    let mut tui = declared_drill(state.path(), 140, 42);
    to_the_promotion_wait(&mut tui);
    let before = tui.screen();
    assert!(before.contains("speed 1×"), "{before}");
    let t0 = Instant::now();
    tui.send(">");
    tui.wait_text("FAST-FORWARD 60x", Duration::from_secs(5));
    // The wait holds (the replica is primary): step 4 becomes the current one.
    let done = tui.wait_for("the promotion's outcome", Duration::from_secs(10), |s| {
        s.contains("Step 4/7")
    });
    let took = t0.elapsed();
    assert!(
        took < Duration::from_secs(10),
        "fast-forward took {took:?}:\n{done}"
    );
    eprintln!("fast-forward: the promotion's wait held after {took:?} of wall time");
    // Back to speed 1 by itself.
    tui.wait_for("speed 1x again", Duration::from_secs(5), |s| {
        let bar = s.lines().next().unwrap_or_default();
        !bar.contains("FAST-FORWARD") && bar.contains("speed 1×")
    });
    // The message about the fast-forward does not outlive it.
    let after = tui.wait_text("the wait is over: fast-forward off", Duration::from_secs(5));
    assert!(!after.contains("runs fast until this wait ends"), "{after}");
    // `>` now (step 4 waits for the operator) says why not.
    tui.send(">");
    tui.wait_text("nothing to fast-forward", Duration::from_secs(5));
    quit(&mut tui);

    let path = the_journal_in(state.path());
    let lines = journal_lines(&path);
    let changes: Vec<&serde_json::Value> = lines
        .iter()
        .filter(|l| l["kind"] == "speed_changed")
        .collect();
    assert_eq!(changes.len(), 2, "{:?}", kinds(&lines));
    assert_eq!(changes[0]["reason"], "fast_forward");
    assert_eq!(changes[0]["step"], "promote");
    assert_eq!(
        (changes[0]["from"].as_f64(), changes[0]["to"].as_f64()),
        (Some(1.0), Some(60.0))
    );
    eprintln!(
        "fast-forward covered {} simulated seconds in {} wall seconds (journal)",
        secs_between(&changes[0]["sim"], &changes[1]["sim"]),
        secs_between(&changes[0]["at"], &changes[1]["at"])
    );
    assert_eq!(changes[1]["reason"], "wait_over");
    assert_eq!(
        (changes[1]["from"].as_f64(), changes[1]["to"].as_f64()),
        (Some(60.0), Some(1.0))
    );
    // The promotion finished while fast-forwarding, before the speed came back.
    let ks = kinds(&lines);
    let ff = ks.iter().position(|k| k == "speed_changed").unwrap_or(0);
    let finished = ks
        .iter()
        .enumerate()
        .position(|(i, k)| i > ff && k == "step_finished")
        .unwrap_or(usize::MAX);
    let back = ks.iter().rposition(|k| k == "speed_changed").unwrap_or(0);
    assert!(ff < finished && finished < back, "{ks:?}");

    let text = report(&path);
    assert!(text.contains("fast-forwarded 1 wait"), "{text}");
    assert!(text.contains("speed 1x -> 60x: fast-forward"), "{text}");
    assert!(text.contains("speed 60x -> 1x: the wait ended"), "{text}");

    // A journal that ran at 60x for a while resumes (its simulated times are reachable).
    let mut resumed = Tui::spawn_in(
        &["--resume", &path.display().to_string()],
        140,
        42,
        state.path(),
        &[],
    );
    let screen = resumed.wait_text("Step 4/7", Duration::from_secs(15));
    assert!(screen.contains("speed 1×"), "{screen}");
    quit(&mut resumed);
}

#[test]
fn a_journal_left_paused_resumes_paused_with_the_same_figures() {
    let state = Scratch::new("pace-resume");
    let mut tui = declared_drill(state.path(), 140, 42);
    std::thread::sleep(Duration::from_millis(1500));
    tui.send("P");
    tui.wait_for("the PAUSED badge", Duration::from_secs(5), |s| {
        s.lines().next().unwrap_or_default().contains("PAUSED")
    });
    std::thread::sleep(Duration::from_millis(600));
    let before = tui.screen();
    quit(&mut tui);
    let path = the_journal_in(state.path());
    let lines = journal_lines(&path);
    // Paused, then closed on purpose: the journal's last two events.
    let last_two: Vec<String> = lines
        .iter()
        .rev()
        .take(2)
        .rev()
        .map(|l| l["kind"].as_str().unwrap_or_default().to_string())
        .collect();
    assert_eq!(
        last_two,
        ["clock_paused", "console_closed"],
        "{:?}",
        kinds(&lines)
    );
    // A follower of the journal shows it paused, its clock standing still with the writer's.
    let mut follower = Tui::spawn_in(
        &["follow", &path.display().to_string()],
        140,
        42,
        state.path(),
        &[],
    );
    let followed = follower.wait_for("the follower, paused", Duration::from_secs(15), |s| {
        s.lines().next().unwrap_or_default().contains("PAUSED")
    });
    std::thread::sleep(Duration::from_millis(1500));
    assert_eq!(bar_clock(&followed), bar_clock(&follower.screen()));
    follower.send("q");
    assert!(follower.wait_exit(Duration::from_secs(10)).success());
    // The console is away for a while; the paused world does not run meanwhile.
    std::thread::sleep(Duration::from_secs(2));
    let mut tui = Tui::spawn_in(
        &["--resume", &path.display().to_string()],
        140,
        42,
        state.path(),
        &[],
    );
    let screen = tui.wait_for("the resumed drill, paused", Duration::from_secs(15), |s| {
        s.lines().next().unwrap_or_default().contains("PAUSED") && s.contains("RTO ▕")
    });
    std::thread::sleep(Duration::from_millis(1500));
    let screen_later = tui.screen();
    assert_eq!(rto_gauge(&before), rto_gauge(&screen), "figures changed");
    assert_eq!(step_heading(&before), step_heading(&screen));
    assert_eq!(bar_clock(&before), bar_clock(&screen_later), "clock ran");
    // The pause goes on from where it was: it has lasted the console's absence too.
    let shown = paused_badge_secs(&screen_later).unwrap_or(0);
    assert!(shown >= 3, "{screen_later}");
    tui.send("P");
    tui.wait_for("the badge to go", Duration::from_secs(5), |s| {
        !s.lines().next().unwrap_or_default().contains("PAUSED")
    });
    std::thread::sleep(Duration::from_millis(2500));
    assert_ne!(bar_clock(&screen_later), bar_clock(&tui.screen()));
    quit(&mut tui);
    let lines = journal_lines(&path);
    let resumed = lines
        .iter()
        .find(|l| l["kind"] == "clock_resumed")
        .unwrap_or_else(|| panic!("{:?}", kinds(&lines)));
    assert!(resumed["paused_secs"].as_u64().unwrap_or(0) >= 4);
    let paused = lines
        .iter()
        .find(|l| l["kind"] == "clock_paused")
        .expect("paused");
    let console_resumed = lines
        .iter()
        .find(|l| l["kind"] == "resumed")
        .expect("resumed");
    // Simulated time stood still across the pause and the console's absence.
    assert_eq!(paused["sim"], console_resumed["sim"]);
    assert_eq!(paused["sim"], resumed["sim"]);
    let text = report(&path);
    assert!(text.contains("paused 1 time,"), "{text}");
}

/// Seconds between two RFC 3339 times in journal lines.
fn secs_between(from: &serde_json::Value, to: &serde_json::Value) -> i64 {
    let parse = |v: &serde_json::Value| {
        chrono::DateTime::parse_from_rfc3339(v.as_str().unwrap_or_default())
            .unwrap_or_else(|e| panic!("{v}: {e}"))
    };
    (parse(to) - parse(from)).num_seconds()
}

#[test]
fn the_fault_arrives_after_two_to_ten_minutes_of_a_healthy_complete_screen() {
    for seed in ["3", "7", "11"] {
        let state = Scratch::new("pace-baseline");
        let mut tui = Tui::spawn_in(
            &["drill", "region-loss", "--speed", "60", "--seed", seed],
            140,
            42,
            state.path(),
            &[],
        );
        tui.wait_text("not declared", Duration::from_secs(15));
        // The first second of wall time (one simulated minute): the screen becomes complete
        // and healthy, and stays healthy.
        let start = Instant::now();
        let mut complete = false;
        while start.elapsed() < Duration::from_millis(1000) {
            let screen = tui.screen();
            assert!(
                !screen.contains("DOWN"),
                "seed {seed}: the fault arrived within a simulated minute:\n{screen}"
            );
            complete |= !screen.contains("waiting for data") && screen.contains("HEALTHY");
            std::thread::sleep(Duration::from_millis(50));
        }
        assert!(
            complete,
            "seed {seed}: the screen never became complete:\n{}",
            tui.screen()
        );
        // The fault arrives 2-10 simulated minutes in: 2-10 s at 60x.
        let path = the_journal_in(state.path());
        let deadline = Instant::now() + Duration::from_secs(15);
        let fault = loop {
            let lines = journal_lines(&path);
            if let Some(f) = lines.iter().find(|l| l["kind"] == "fault_injected") {
                break (lines[0].clone(), f.clone());
            }
            assert!(
                Instant::now() < deadline,
                "seed {seed}: no fault after 15 s"
            );
            std::thread::sleep(Duration::from_millis(200));
        };
        let (header, injected) = fault;
        let offset = secs_between(&header["sim_started_at"], &injected["sim"]);
        assert!(
            (120..=605).contains(&offset),
            "seed {seed}: the fault arrived {offset} simulated seconds in"
        );
        eprintln!("seed {seed}: fault {offset} simulated seconds after the start");
        // Not declared: one q quits.
        tui.send("q");
        assert!(tui.wait_exit(Duration::from_secs(10)).success());
    }
}

/// A drill does not give its fault away: the timeline shows when the outage began only once the
/// incident is declared (the trainee notices it on the panes), then in its place before the
/// declaration.
#[test]
fn the_timeline_keeps_the_outage_to_itself_until_the_declaration() {
    let state = common::Scratch::new("pace-spoiler");
    let mut tui = Tui::spawn_in(
        &["drill", "region-loss", "--seed", "7", "--at", "0s"],
        160,
        48,
        state.path(),
        &[],
    );
    tui.wait_text("not declared", Duration::from_secs(15));
    let journal = common::the_journal_in(state.path());
    common::wait_journal_kind(&tui, &journal, "disrupted", Duration::from_secs(10));
    std::thread::sleep(Duration::from_millis(700));
    let before = tui.screen();
    assert!(
        !before.contains("outage began") && !before.contains("first alarm"),
        "the timeline names the fault before the declaration:\n{before}"
    );
    tui.send("\r");
    let after = tui.wait_text("outage began", Duration::from_secs(10));
    let began = after.find("outage began").expect("shown");
    let declared = after.find("incident declared").expect("declaration shown");
    assert!(
        began < declared,
        "the outage goes before the declaration:\n{after}"
    );
    quit(&mut tui);
}
