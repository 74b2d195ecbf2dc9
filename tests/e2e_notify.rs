//! The notify step of a region-loss drill at 80x24 and 140x42, driven like an operator: its message shows
//! as the lines it is sent as (no literal `\n`), `e` edits it in a popup and the edit is what the
//! journal records as sent; `x` marks a checklist item not applicable with a reason, which the
//! screen, the journal and `warroom report` show.

mod common;

use std::path::Path;
use std::time::{Duration, Instant};

use common::{BIN, Scratch, Tui, journal_lines, the_journal_in};

/// The current step's heading (`Step 1/7 · Assess scope · target 2m · 1s · active`).
fn step_heading(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.contains("Step ") && l.contains('/') && l.contains("target"))?;
    Some(line.split('│').nth(1).unwrap_or(line).trim().to_string())
}

fn type_to_confirm(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("DESTRUCTIVE. Type "))?;
    let rest = line.split("DESTRUCTIVE. Type ").nth(1)?;
    Some(rest.split(" and press Enter").next()?.trim().to_string())
}

fn cursor_line(screen: &str) -> Option<&str> {
    screen
        .lines()
        .find(|l| l.contains("› [ ]") || l.contains("› [x]"))
}

/// Walks a region-loss drill on a large screen until its last step (notify) is active, then
/// quits: the journal is left for `--resume`.
fn walk_to_notify(state: &Path) {
    let mut tui = Tui::spawn_in(
        &[
            "drill",
            "region-loss",
            "--speed",
            "60",
            "--seed",
            "7",
            "--at",
            "0s",
        ],
        200,
        60,
        state,
        &[],
    );
    tui.wait_text("not declared", Duration::from_secs(15));
    // The fault arrives once the panes are complete; the journal says so (the timeline keeps
    // it until the declaration: it would give the drill away).
    let journal = common::the_journal_in(state);
    common::wait_journal_kind(&tui, &journal, "disrupted", Duration::from_secs(10));
    tui.send("\r");
    let start = Instant::now();
    loop {
        assert!(
            start.elapsed() < Duration::from_secs(120),
            "the notify step not reached in 120 s:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(120));
        let screen = tui.screen();
        let heading = step_heading(&screen).unwrap_or_default();
        if heading.starts_with("Step 7/7") && heading.ends_with("active") {
            break;
        }
        if let Some(name) = type_to_confirm(&screen) {
            tui.send(&name);
            tui.send("\r");
            continue;
        }
        if screen.contains("/ Enter run it") {
            tui.send("y");
            continue;
        }
        if heading.ends_with("failed") {
            panic!("a step failed:\n{screen}");
        }
        if heading.ends_with("active") {
            let unticked = screen.lines().any(|l| l.contains("[ ] "));
            match cursor_line(&screen) {
                Some(line) if line.contains("[ ]") => tui.send(" "),
                Some(_) if unticked => tui.send("j"),
                _ => tui.send("\r"),
            }
        }
    }
    tui.send("q");
    std::thread::sleep(Duration::from_millis(200));
    tui.send("q");
    assert!(tui.wait_exit(Duration::from_secs(10)).success());
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

const REASON: &str = "no status page in drills";
const ADDED: &str = "EDITED BY THE TEST";

#[test]
fn the_notify_message_shows_as_lines_is_edited_and_an_item_is_not_applicable_at_80x24() {
    notify_step_at(80, 24);
}

#[test]
fn the_notify_message_shows_as_lines_is_edited_and_an_item_is_not_applicable_at_140x42() {
    notify_step_at(140, 42);
}

/// The notify step resumed at `width`x`height`: an item marked not applicable with its reason,
/// the message as its lines with the drill marker, edited in the popup, sent as edited; the
/// journal and the report say so.
fn notify_step_at(width: u16, height: u16) {
    let state = Scratch::new("notify");
    walk_to_notify(state.path());
    let path = the_journal_in(state.path());
    let mut tui = Tui::spawn_in(
        &["--resume", &path.display().to_string()],
        width,
        height,
        state.path(),
        &[],
    );
    tui.wait_text("Step 7/7", Duration::from_secs(15));

    // The status page item does not apply: x asks why.
    tui.send("x");
    tui.wait_text("does not apply: why?", Duration::from_secs(5));
    tui.send(REASON);
    tui.send("\r");
    let screen = tui.wait_text("[n/a]", Duration::from_secs(5));
    let line = screen
        .lines()
        .find(|l| l.contains("[n/a]"))
        .unwrap_or_default();
    assert!(line.contains("The status page is updated"), "{screen}");
    assert!(line.contains(&format!("— {REASON}")), "{screen}");

    // The confirmation: the message as its lines, no escaped newline.
    tui.send("\r");
    let screen = tui.wait_text("Confirm · step 7", Duration::from_secs(5));
    assert!(
        screen.contains("notify.webhook message=(below, "),
        "{screen}"
    );
    assert!(
        !screen.contains("\\n"),
        "a literal \\n on screen:\n{screen}"
    );
    let row_of = |s: &str, what: &str| s.lines().position(|l| l.contains(what));
    let first = row_of(&screen, "[DRILL] INCIDENT:").unwrap_or_else(|| panic!("{screen}"));
    let impact = row_of(&screen, "IMPACT:").unwrap_or_else(|| panic!("{screen}"));
    assert!(impact > first, "{screen}");
    assert!(screen.contains("e edit the message"), "{screen}");
    assert!(
        screen.contains("/ Enter run it"),
        "the keys cut off:\n{screen}"
    );
    // Scrolling brings the last line into view.
    for _ in 0..12 {
        tui.send("\x1b[B");
    }
    tui.wait_text("NEXT UPDATE:", Duration::from_secs(5));

    // e: the editor, prefilled; the cursor at the end; Enter, a new line, Ctrl-S.
    tui.send("e");
    tui.wait_text("Edit the message", Duration::from_secs(5));
    tui.send("\r");
    tui.send(ADDED);
    tui.send("\x13");
    tui.wait_for(
        "the dialog back, with the edit",
        Duration::from_secs(5),
        |s| !s.contains("Edit the message") && s.contains("Confirm · step 7"),
    );
    for _ in 0..20 {
        tui.send("\x1b[B");
    }
    let screen = tui.wait_text(ADDED, Duration::from_secs(5));
    assert!(
        screen.contains("/ Enter run it"),
        "the keys cut off:\n{screen}"
    );
    assert!(screen.contains("message=(below, 5 lines)"), "{screen}");
    tui.send("y");
    tui.wait_text("Scorecard", Duration::from_secs(30));
    tui.send("\x1b");
    tui.send("q");
    std::thread::sleep(Duration::from_millis(200));
    tui.send("q");
    assert!(tui.wait_exit(Duration::from_secs(10)).success());

    let lines = journal_lines(&path);
    let of = |kind: &str| {
        lines
            .iter()
            .filter(|l| l["kind"] == kind)
            .cloned()
            .collect::<Vec<_>>()
    };
    let na = of("item_not_applicable");
    assert_eq!(na.len(), 1, "{na:?}");
    assert_eq!(na[0]["step"], "notify");
    assert_eq!(na[0]["text"], "The status page is updated");
    assert_eq!(na[0]["reason"], REASON);
    let edited = of("message_edited");
    assert_eq!(edited.len(), 1, "{edited:?}");
    let message = edited[0]["message"].as_str().unwrap_or_default();
    assert!(message.starts_with("[DRILL] INCIDENT:"), "{message}");
    assert!(message.ends_with(&format!("\n{ADDED}")), "{message:?}");
    let confirmed = of("confirmed");
    let last = confirmed.last().expect("confirmed");
    assert_eq!(last["step"], "notify");
    let command = last["command"].as_str().unwrap_or_default();
    assert_eq!(command, format!("notify.webhook message={message:?}"));

    let text = report(&path);
    assert!(
        text.contains(&format!("[n/a] The status page is updated — {REASON}")),
        "{text}"
    );
    assert!(text.contains(ADDED), "{text}");
}
