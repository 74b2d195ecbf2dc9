//! The postmortem: snapshots from the committed fixture journals (a complete drill, an aborted
//! one, one in progress), agreement with the engine's own scorecard at every point of a drill,
//! and the real binary.

mod journal_support;

use std::path::{Path, PathBuf};
use std::process::Command;

use chrono::TimeDelta;
use journal_support::{day, region_loss_aborted, region_loss_drill, settings, shipped};
use warroom::journal;
use warroom::playbook::Engine;
use warroom::report::{self, Format, State, Verdict};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn fixture(name: &str) -> PathBuf {
    Path::new("tests/fixtures/journals").join(name)
}

fn scratch(tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("warroom-report-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch");
    dir
}

fn render(name: &str, format: Format) -> String {
    report::render_path(&fixture(name), format).unwrap_or_else(|e| panic!("{e}"))
}

#[test]
fn complete_drill_markdown() {
    let md = render("region-loss-drill.jsonl", Format::Markdown);
    insta::assert_snapshot!("complete_drill_markdown", md);
}

#[test]
fn complete_drill_json() {
    let json = render("region-loss-drill.jsonl", Format::Json);
    insta::assert_snapshot!("complete_drill_json", json);
}

#[test]
fn aborted_drill_markdown() {
    let md = render("region-loss-aborted.jsonl", Format::Markdown);
    insta::assert_snapshot!("aborted_drill_markdown", md);
}

#[test]
fn aborted_drill_json() {
    let json = render("region-loss-aborted.jsonl", Format::Json);
    insta::assert_snapshot!("aborted_drill_json", json);
}

#[test]
fn the_complete_drill_passes_with_its_figures() {
    let replay = journal::read(&fixture("region-loss-drill.jsonl")).expect("fixture");
    let pm = report::build(&replay);
    assert_eq!(
        (pm.state, pm.verdict, pm.passed),
        (State::Resolved, Verdict::Pass, true)
    );
    assert_eq!(
        pm.recorded_passed,
        Some(true),
        "the engine agreed when it resolved"
    );
    // A v1 journal predates the service_restored milestone: RTO achieved is not recorded (not a
    // failure); its disruption is the drill's fault, 70 s before the declaration.
    assert_eq!(pm.rto.achieved_secs, None);
    assert_eq!(pm.rto.objective_secs, 1800);
    assert_eq!(pm.playbook_secs, Some(1060));
    assert_eq!(pm.rpo.achieved_secs, Some(95.0));
    assert_eq!(pm.time_to_declare_secs, Some(70));
    assert_eq!(pm.mttd_secs, None, "no alarm-level reading in a v1 journal");
    let rto = pm
        .criteria
        .iter()
        .find(|c| c.name.starts_with("RTO"))
        .expect("RTO criterion");
    assert_eq!(
        rto.verdict,
        warroom::playbook::Grade::NotApplicable,
        "{rto:?}"
    );
    assert_eq!(pm.steps.len(), 7);
    let notify = pm.steps.iter().find(|s| s.id == "notify").expect("notify");
    assert_eq!(notify.status, "skipped");
    assert_eq!(notify.actual_secs, None, "skipped before it started");
    let scale = pm.steps.iter().find(|s| s.id == "scale-dr").expect("scale");
    assert!(scale.over_target);
    assert_eq!(pm.decisions.len(), 3);
    assert_eq!(pm.notes.len(), 1);
}

#[test]
fn an_unfinished_journal_reports_as_in_progress() {
    let dir = scratch("in-progress");
    let path = dir.join("j.jsonl");
    let text = std::fs::read_to_string(fixture("region-loss-drill.jsonl")).expect("fixture");
    let lines: Vec<&str> = text.lines().collect();
    // Up to the promotion's verification, plus a torn line.
    let mut cut: String = lines[..25].iter().map(|l| format!("{l}\n")).collect();
    cut.push_str(&lines[25][..30]);
    std::fs::write(&path, cut).expect("write");
    let md = report::render_path(&path, Format::Markdown).expect("report");
    let pm = report::build(&journal::read(&path).expect("read"));
    assert_eq!(
        (pm.state, pm.verdict),
        (State::InProgress, Verdict::InProgress)
    );
    assert!(!pm.passed);
    assert_eq!(pm.rto.achieved_secs, None);
    assert_eq!(pm.torn_tail.as_ref().map(|t| t.line), Some(26));
    let promote = pm
        .steps
        .iter()
        .find(|s| s.id == "promote")
        .expect("promote");
    assert_eq!(promote.status, "verifying");
    assert!(md.contains("**IN PROGRESS**"), "{md}");
    assert!(md.contains("no end recorded"), "{md}");
    assert!(md.contains("| Torn last line | line 26"), "{md}");
    assert!(
        md.contains(":active, s3,"),
        "the running step is an active bar:\n{md}"
    );
    assert!(md.contains("so far"), "{md}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn a_journal_without_the_plan_still_reports_every_step_it_names() {
    // Another writer (or an older build) may leave the optional plan out of the header.
    let dir = scratch("no-plan");
    let path = dir.join("j.jsonl");
    let text = std::fs::read_to_string(fixture("region-loss-drill.jsonl")).expect("fixture");
    let (header, rest) = text.split_once('\n').expect("lines");
    let mut value: serde_json::Value = serde_json::from_str(header).expect("json");
    value.as_object_mut().expect("object").remove("steps");
    std::fs::write(&path, format!("{value}\n{rest}")).expect("write");
    let pm = report::build(&journal::read(&path).expect("read"));
    let ids: Vec<&str> = pm.steps.iter().map(|s| s.id.as_str()).collect();
    // `notify` was skipped ahead of time, so it appears where the skip was recorded.
    assert_eq!(
        ids,
        [
            "assess",
            "activate-dr",
            "promote",
            "notify",
            "scale-dr",
            "dns",
            "verify"
        ]
    );
    assert_eq!(pm.verdict, Verdict::Pass);
    let _ = std::fs::remove_dir_all(&dir);
}

/// At every event of a drill where nothing is in flight, the report rebuilt from the journal
/// prefix agrees with the engine's scorecard of the same prefix: the criteria and every step.
fn agrees_with_the_engine_at_every_point(path: &Path) {
    let replay = journal::read(path).expect("read");
    let mut compared = 0;
    for n in 1..=replay.events.len() {
        let mut prefix = replay.clone();
        prefix.events.truncate(n);
        let now = prefix.events[n - 1].1.session();
        let pb = shipped(&prefix.header.playbook.id);
        let s = settings(&pb);
        let Ok((engine, fx)) = Engine::resume(pb, s, prefix.timeline(), now) else {
            continue;
        };
        if !fx.is_empty() || engine.declared_at().is_none() {
            // Resuming here would settle something (a running step fails): not comparable.
            continue;
        }
        let card = engine.scorecard(now);
        let pm = report::build(&prefix);
        assert_eq!(pm.criteria, card.criteria, "after event {n}");
        assert_eq!(pm.passed, card.passed, "after event {n}");
        assert_eq!(
            pm.rto.achieved_secs, card.rto_achieved_secs,
            "after event {n}"
        );
        assert_eq!(pm.mttd_secs, card.mttd_secs, "after event {n}");
        assert_eq!(pm.figures, card.measures.figures(), "after event {n}");
        let ours: Vec<_> = pm
            .steps
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    s.status.clone(),
                    s.reason.clone(),
                    s.target_secs,
                    s.actual_secs,
                    s.timing,
                    s.verification,
                    s.verified,
                    s.attempts,
                )
            })
            .collect();
        let theirs: Vec<_> = card
            .steps
            .iter()
            .map(|s| {
                (
                    s.id.clone(),
                    s.status.clone(),
                    s.reason.clone(),
                    s.target_secs,
                    s.actual_secs,
                    s.timing,
                    s.verification,
                    s.verified,
                    s.attempts,
                )
            })
            .collect();
        assert_eq!(ours, theirs, "after event {n}");
        compared += 1;
    }
    assert!(compared > 10, "only {compared} points compared");
}

#[test]
fn the_report_agrees_with_the_engine_scorecard_throughout_a_drill() {
    let dir = scratch("agree");
    let done = dir.join("done.jsonl");
    region_loss_drill(&done, day(2026, 11, 22, 3, 12), 90, 400.0);
    agrees_with_the_engine_at_every_point(&done);
    let aborted = dir.join("aborted.jsonl");
    let s = region_loss_aborted(&aborted, day(2026, 11, 23, 14, 0));
    agrees_with_the_engine_at_every_point(&aborted);
    // And the final report of the aborted drill matches its final scorecard.
    let pm = report::build(&journal::read(&aborted).expect("read"));
    let card = s.engine.scorecard(s.at(s.now) + TimeDelta::seconds(1));
    assert_eq!(pm.criteria, card.criteria);
    assert_eq!(pm.verdict, Verdict::Aborted);
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn mermaid_task_names_and_ids_are_safe() {
    let md = render("region-loss-drill.jsonl", Format::Markdown);
    let chart = md
        .split("```mermaid\n")
        .nth(1)
        .and_then(|rest| rest.split("```").next())
        .expect("a mermaid block");
    let mut bars = 0;
    for line in chart
        .lines()
        .skip_while(|l| !l.contains("section Steps"))
        .skip(1)
    {
        let (name, meta) = line.trim().split_once(" :").expect("name :meta");
        assert!(!name.contains([':', ';', '#']), "{line}");
        let parts: Vec<&str> = meta.split(", ").collect();
        assert_eq!(parts.len(), 4, "tag, id, start, end: {line}");
        assert!(["done", "crit", "active"].contains(&parts[0]), "{line}");
        assert!(
            parts[1].starts_with('s') && parts[1][1..].chars().all(|c| c.is_ascii_digit()),
            "{line}"
        );
        for t in &parts[2..] {
            assert!(
                chrono::NaiveDateTime::parse_from_str(t, "%Y-%m-%d %H:%M:%S").is_ok(),
                "{line}"
            );
        }
        bars += 1;
    }
    assert_eq!(bars, 6, "every started step has a bar:\n{chart}");
    assert!(chart.contains("dateFormat YYYY-MM-DD HH:mm:ss"));
}

// ----- the binary --------------------------------------------------------------------------

#[test]
fn binary_prints_the_report_and_exits_zero() {
    let out = Command::new(BIN)
        .args(["report", "tests/fixtures/journals/region-loss-drill.jsonl"])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    let text = String::from_utf8(out.stdout).expect("utf8");
    assert!(
        text.starts_with("# Postmortem: Complete regional failure\n"),
        "{text}"
    );
    assert!(text.contains("## Summary"), "{text}");
    assert!(
        text.contains("| Playbook time | 17m40s | — | — | declared -> resolved"),
        "{text}"
    );

    let out = Command::new(BIN)
        .args([
            "report",
            "--format",
            "json",
            "tests/fixtures/journals/region-loss-aborted.jsonl",
        ])
        .output()
        .expect("runs");
    assert!(out.status.success(), "{out:?}");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    assert_eq!(v["format"], "warroom-postmortem");
    assert_eq!(v["verdict"], "aborted");
}

#[test]
fn binary_refuses_a_file_that_is_not_a_journal_with_its_line() {
    for (file, place) in [
        ("random.bin", "random.bin:1:1: not a warroom journal"),
        ("corrupt-middle.jsonl", "corrupt-middle.jsonl:6:"),
    ] {
        let out = Command::new(BIN)
            .args(["report", &format!("tests/fixtures/journals/broken/{file}")])
            .output()
            .expect("runs");
        assert_eq!(out.status.code(), Some(2), "{out:?}");
        assert!(out.stdout.is_empty());
        let err = String::from_utf8(out.stderr).expect("utf8");
        assert!(err.contains(place), "{err}");
        assert!(err.contains("help: "), "{err}");
    }
}
