//! Comms cadence (issue 13, item 8): `reminders` in a playbook, parsed and validated with
//! `file:line:col`; the engine's due times (from the declaration, in session time, across a
//! pause); done and missed occurrences recorded, read back through the journal codec and listed
//! by the report.

use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use warroom::clock::SessionClock;
use warroom::env::Environment;
use warroom::journal::schema_v2::EventV2;
use warroom::playbook::projection::{Plan, Projection, ReminderOutcome};
use warroom::playbook::{Effect, Engine, EngineSettings, Event, Input, Playbook};
use warroom::telemetry::Sample;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn t(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

const HEAD: &str = r#"id = "cadence"
title = "Cadence"
scenario = "custom"
rto = "1h"
rpo = "5m"
"#;

const STEPS: &str = r#"
[[steps]]
id = "look"
title = "Look around"
target = "1h"
checklist = ["one"]
"#;

fn parse(reminders: &str) -> Result<Playbook, warroom::diag::Diagnostics> {
    let src = format!("{HEAD}{reminders}{STEPS}");
    warroom::playbook::parse("p.toml", &src, &Environment::demo())
}

fn engine(reminders: &str) -> Engine {
    let pb = parse(reminders).unwrap_or_else(|e| panic!("valid:\n{e}"));
    let s = EngineSettings::new(&pb, Environment::demo()).mode("drill · simulator");
    Engine::new(pb, s)
}

fn records(effects: &[Effect]) -> Vec<Event> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(ev) => Some(ev.clone()),
            _ => None,
        })
        .collect()
}

fn reminder_records(effects: &[Effect]) -> Vec<Event> {
    records(effects)
        .into_iter()
        .filter(|e| matches!(e, Event::ReminderDone { .. } | Event::ReminderMissed { .. }))
        .collect()
}

// ----- parsing and validation --------------------------------------------------------------

#[test]
fn reminders_parse_into_the_playbook() {
    let pb = parse(
        r#"reminders = [
  { every = "15m", text = "Post a status update" },
  { every = "1h", text = "  Brief leadership  " },
]
"#,
    )
    .unwrap_or_else(|e| panic!("valid:\n{e}"));
    let got: Vec<(u64, &str)> = pb
        .reminders
        .iter()
        .map(|r| (r.every.secs(), r.text.as_str()))
        .collect();
    assert_eq!(
        got,
        vec![(900, "Post a status update"), (3600, "Brief leadership")]
    );
    assert!(parse("").expect("valid").reminders.is_empty());
}

/// `(line, col, message)` of every diagnostic.
fn located(reminders: &str) -> Vec<(usize, usize, String)> {
    match parse(reminders) {
        Ok(_) => panic!("must be rejected: {reminders}"),
        Err(e) => {
            e.0.iter()
                .map(|d| {
                    assert_eq!(d.path, "p.toml");
                    assert!(d.help.is_some(), "every diagnostic says what to do: {d}");
                    (d.line, d.col, d.message.clone())
                })
                .collect()
        }
    }
}

#[test]
fn a_bad_duration_is_located() {
    // HEAD has 5 lines: the reminders start on line 6.
    let got = located(
        r#"reminders = [
  { every = "15 minutes", text = "Post a status update" },
]
"#,
    );
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0, got[0].1), (7, 13), "{got:?}");
    assert!(got[0].2.contains("bad duration"), "{got:?}");
}

#[test]
fn a_period_under_a_minute_is_located() {
    let got = located(r#"reminders = [{ every = "30s", text = "Post" }]"#);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!((got[0].0, got[0].1), (6, 24), "{got:?}");
    assert!(got[0].2.contains("under a minute"), "{got:?}");
}

#[test]
fn an_empty_and_a_duplicate_text_are_located() {
    let got = located(
        r#"reminders = [
  { every = "15m", text = "   " },
  { every = "15m", text = "Post a status update" },
  { every = "30m", text = "Post a status update" },
]
"#,
    );
    assert_eq!(got.len(), 2, "{got:?}");
    assert_eq!((got[0].0, got[0].1), (7, 27), "{got:?}");
    assert!(got[0].2.contains("empty reminder text"), "{got:?}");
    assert_eq!((got[1].0, got[1].1), (9, 27), "{got:?}");
    assert!(got[1].2.contains("duplicate reminder text"), "{got:?}");
}

#[test]
fn an_unknown_key_and_a_missing_key_are_located() {
    let got = located(r#"reminders = [{ every = "15m", text = "Post", channel = "ops" }]"#);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 6, "{got:?}");
    assert!(got[0].2.contains("unknown field `channel`"), "{got:?}");

    let got = located(r#"reminders = [{ text = "Post" }]"#);
    assert_eq!(got.len(), 1, "{got:?}");
    assert_eq!(got[0].0, 6, "{got:?}");
    assert!(got[0].2.contains("missing field `every`"), "{got:?}");
}

// ----- the engine's due times ----------------------------------------------------------------

const TWO: &str = r#"reminders = [
  { every = "15m", text = "Post a status update" },
  { every = "10m", text = "Check the pager" },
]
"#;

#[test]
fn nothing_is_due_before_the_declaration_nor_after_the_end() {
    let mut e = engine(TWO);
    assert!(e.reminders(t(5000)).is_empty());
    let out = e.handle(Input::ReminderDone, t(10));
    assert!(reminder_records(&out).is_empty());
    e.handle(Input::Declare, t(0));
    assert_eq!(e.reminders(t(0)).len(), 2);
    e.handle(
        Input::Abort {
            reason: "test".into(),
        },
        t(60),
    );
    assert!(e.reminders(t(60)).is_empty());
}

#[test]
fn due_times_count_from_the_declaration_and_done_moves_to_the_next() {
    let mut e = engine(TWO);
    e.handle(Input::Declare, t(100));
    let next = e.reminders(t(100));
    // Soonest first: the 10-minute one, due 600 s after the declaration.
    assert_eq!(next[0].text, "Check the pager");
    assert_eq!((next[0].occurrence, next[0].due), (1, t(700)));
    assert_eq!((next[0].in_secs, next[0].overdue_secs), (600, 0));
    assert_eq!(next[1].due, t(1000));
    let later = e.reminders(t(760));
    assert!(later[0].is_due());
    assert_eq!(later[0].overdue_secs, 60);

    // Done 60 s late: recorded with its due time, and the next occurrence counts down.
    let out = e.handle(Input::ReminderDone, t(760));
    assert_eq!(
        reminder_records(&out),
        vec![Event::ReminderDone {
            text: "Check the pager".into(),
            occurrence: 1,
            due: t(700),
            late_secs: 60,
        }]
    );
    let next = e.reminders(t(760));
    assert_eq!(next[0].text, "Post a status update");
    assert_eq!(next[0].in_secs, 240);
    assert_eq!((next[1].occurrence, next[1].due), (2, t(1300)));

    // Done early: no lateness, and the grid stays anchored at the declaration.
    let out = e.handle(Input::ReminderDone, t(900));
    assert_eq!(
        reminder_records(&out),
        vec![Event::ReminderDone {
            text: "Post a status update".into(),
            occurrence: 1,
            due: t(1000),
            late_secs: 0,
        }]
    );
    assert_eq!(e.reminders(t(900))[1].due, t(1900));
}

#[test]
fn an_occurrence_a_whole_period_overdue_is_missed_once() {
    let mut e = engine(r#"reminders = [{ every = "10m", text = "Check the pager" }]"#);
    e.handle(Input::Declare, t(0));
    let picture = Sample::default();
    // Due at 600 and overdue, not yet missed.
    assert!(reminder_records(&e.tick(t(1199), &picture)).is_empty());
    assert_eq!(e.reminders(t(1199))[0].overdue_secs, 599);
    // At 1200 the second falls due: the first is missed, once.
    let out = e.tick(t(1200), &picture);
    assert_eq!(
        reminder_records(&out),
        vec![Event::ReminderMissed {
            text: "Check the pager".into(),
            occurrence: 1,
            due: t(600),
            missed: 1,
        }]
    );
    assert!(reminder_records(&e.tick(t(1201), &picture)).is_empty());
    assert_eq!(e.reminders(t(1201))[0].occurrence, 2);
    // A long stop: three more missed in one record.
    let out = e.tick(t(3000), &picture);
    assert_eq!(
        reminder_records(&out),
        vec![Event::ReminderMissed {
            text: "Check the pager".into(),
            occurrence: 4,
            due: t(2400),
            missed: 3,
        }]
    );
    assert_eq!(e.reminders(t(3000))[0].occurrence, 5);
}

#[test]
fn a_paused_clock_holds_the_countdown() {
    let w0 = Instant::now();
    let clock = SessionClock::new(w0, t0(), 1.0);
    let mut e = engine(r#"reminders = [{ every = "15m", text = "Post a status update" }]"#);
    e.handle(Input::Declare, clock.at(w0));
    // Five minutes in, the facilitator pauses for an hour.
    clock.pause_at(w0 + Duration::from_secs(300));
    clock.resume_at(w0 + Duration::from_secs(3900));
    // Seventy minutes of wall time, ten of session time: five minutes to go, nothing missed.
    let now = clock.at(w0 + Duration::from_secs(4200));
    assert_eq!(now, t(600));
    assert!(reminder_records(&e.tick(now, &Sample::default())).is_empty());
    let next = &e.reminders(now)[0];
    assert_eq!((next.occurrence, next.in_secs), (1, 300));
}

#[test]
fn a_playbook_without_reminders_refuses_the_key() {
    let mut e = engine("");
    e.handle(Input::Declare, t(0));
    let out = e.handle(Input::ReminderDone, t(10));
    assert!(reminder_records(&out).is_empty());
    assert!(
        out.iter()
            .any(|x| matches!(x, Effect::Refused { why, .. } if why.contains("no reminders")))
    );
}

// ----- the record ----------------------------------------------------------------------------

#[test]
fn the_records_round_trip_through_the_journal_codec_and_resume() {
    let mut e = engine(TWO);
    let mut journal: Vec<(DateTime<Utc>, Event)> = Vec::new();
    let mut keep = |out: Vec<Effect>, at: DateTime<Utc>| {
        for ev in records(&out) {
            journal.push((at, ev));
        }
    };
    keep(e.handle(Input::Declare, t(0)), t(0));
    keep(e.handle(Input::ReminderDone, t(650)), t(650));
    keep(e.tick(t(1900), &Sample::default()), t(1900));
    let kinds: Vec<String> = journal
        .iter()
        .map(|(_, ev)| warroom::playbook::engine::event_kind(ev))
        .collect();
    assert!(kinds.contains(&"reminder_done".to_string()), "{kinds:?}");
    assert!(kinds.contains(&"reminder_missed".to_string()), "{kinds:?}");
    for (_, ev) in &journal {
        let v2 = EventV2::from(ev);
        let json = serde_json::to_string(&v2).expect("serialises");
        let back: EventV2 = serde_json::from_str(&json).expect("parses");
        assert_eq!(Event::from(back), *ev, "{json}");
    }
    // A resumed engine counts down where the record left off.
    let pb = parse(TWO).expect("valid");
    let s = EngineSettings::new(&pb, Environment::demo()).mode("drill · simulator");
    let replayed = Engine::replay(pb, s, journal.clone()).expect("replays");
    assert_eq!(replayed.reminders(t(1900)), e.reminders(t(1900)));

    // The projection (what the report reads) lists them, done and missed.
    let pb = parse(TWO).expect("valid");
    let mut p = Projection::new(Plan::of(&pb, pb.rto, pb.rpo));
    for (at, ev) in &journal {
        p.apply(*at, *at, ev);
    }
    let m = p.measures(None);
    let outcomes: Vec<(&str, ReminderOutcome)> = m
        .reminders
        .iter()
        .map(|r| (r.text.as_str(), r.outcome))
        .collect();
    assert_eq!(
        outcomes,
        vec![
            ("Check the pager", ReminderOutcome::Done { late_secs: 50 }),
            (
                "Post a status update",
                ReminderOutcome::Missed { missed: 1 }
            ),
            ("Check the pager", ReminderOutcome::Missed { missed: 1 }),
        ]
    );
}

// ----- past drills (item 9) ------------------------------------------------------------------

mod journal_support;

use journal_support::{az_loss_drill, day, region_loss_drill_at};
use warroom::journal::Mode;
use warroom::past;

/// Two region-loss drills at different paces, an az-loss drill, and a region-loss journal
/// relabelled live, in a fresh directory; returns the directory.
fn journals_dir(tag: &str) -> std::path::PathBuf {
    let dir = std::env::temp_dir().join(format!("warroom-past-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let t0 = day(2026, 11, 22, 3, 12);
    region_loss_drill_at(
        &dir.join("2026-11-20T0900Z-region-loss-drill.jsonl"),
        t0,
        day(2026, 11, 20, 9, 0),
        60,
        40.0,
    );
    region_loss_drill_at(
        &dir.join("2026-11-21T0900Z-region-loss-drill.jsonl"),
        t0,
        day(2026, 11, 21, 9, 0),
        300,
        40.0,
    );
    az_loss_drill(&dir.join("2026-11-21T1000Z-az-loss-drill.jsonl"), t0, 60);
    dir
}

/// Each step's times in the journal at `path`, as the report measures them (done steps).
fn step_times(path: &std::path::Path) -> Vec<(String, u64)> {
    let replay = warroom::journal::read(path).expect("readable");
    warroom::report::build(&replay)
        .steps
        .iter()
        .filter(|s| s.status == "done")
        .filter_map(|s| Some((s.id.clone(), s.actual_secs?)))
        .collect()
}

#[test]
fn past_drills_give_each_step_its_median_and_90th_percentile() {
    let dir = journals_dir("of");
    let a = step_times(&dir.join("2026-11-20T0900Z-region-loss-drill.jsonl"));
    let b = step_times(&dir.join("2026-11-21T0900Z-region-loss-drill.jsonl"));
    let got = past::load(&dir, "region-loss", None);
    assert_eq!(got.drills, 2, "the az-loss drill does not count");
    let mut differing = 0;
    for (id, x) in &a {
        let Some((_, y)) = b.iter().find(|(j, _)| j == id) else {
            continue;
        };
        let (lo, hi) = ((*x).min(*y) as f64, (*x).max(*y) as f64);
        let s = got.step(id).unwrap_or_else(|| panic!("figures for {id}"));
        assert_eq!(s.runs, 2, "{id}");
        assert_eq!(
            s.p50_secs,
            ((lo + hi) / 2.0).round() as u64,
            "{id}: {x} {y}"
        );
        assert_eq!(s.p90_secs, (lo + (hi - lo) * 0.9).round() as u64, "{id}");
        if x != y {
            differing += 1;
        }
    }
    assert!(
        differing > 0,
        "the two drills differ somewhere: {a:?} {b:?}"
    );
    // The skipped notification was never done: no figures.
    assert!(got.step("notify").is_none(), "{got:?}");
    // Another playbook, and the journal the console writes itself, are left out.
    assert_eq!(past::load(&dir, "az-loss", None).drills, 1);
    let own = dir.join("2026-11-21T0900Z-region-loss-drill.jsonl");
    assert_eq!(past::load(&dir, "region-loss", Some(&own)).drills, 1);
    assert_eq!(
        past::load(&dir.join("absent"), "region-loss", None).drills,
        0
    );
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn only_drills_count() {
    let dir = journals_dir("modes");
    let mut replays: Vec<warroom::journal::Replay> = warroom::journal::list(&dir)
        .expect("list")
        .iter()
        .map(|p| warroom::journal::read(p).expect("readable"))
        .collect();
    assert_eq!(past::of("region-loss", &replays).drills, 2);
    // The same records as a live incident and as a demo: not drills.
    replays[0].header.mode = Mode::Live;
    replays[1].header.mode = Mode::Demo;
    let got = past::of("region-loss", &replays);
    assert_eq!(got.drills, 0);
    assert!(got.steps.is_empty());
    let _ = std::fs::remove_dir_all(&dir);
}

// ----- the console: the reminder line and the past column, as drawn --------------------------

mod view {
    use super::*;
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use ratatui::{Terminal, backend::TestBackend};
    use warroom::app::{Action, App, Mode};
    use warroom::past::{PastDrills, StepStats};
    use warroom::telemetry::Board;
    use warroom::telemetry::source::Feeds;
    use warroom::theme::Theme;

    fn app(past: PastDrills) -> App {
        let env = Environment::demo();
        let board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(30));
        let playbook =
            warroom::playbook::find("region-loss", std::path::Path::new("playbooks"), &env)
                .expect("shipped playbook");
        let mut app = App::new(env, Mode::Drill, Theme::fallback(), board, t0(), 1.0);
        app.start_incident(playbook);
        app.past_drills.insert("region-loss".into(), past);
        app.update(Action::Key(KeyEvent::from(KeyCode::Enter)));
        app
    }

    /// The cells of the row holding `needle`: (text, the style of the needle's first cell).
    fn find(app: &App, needle: &str) -> Option<(String, ratatui::style::Style)> {
        let mut terminal = Terminal::new(TestBackend::new(80, 24)).expect("terminal");
        terminal.draw(|f| warroom::ui::draw(f, app)).expect("draw");
        let buf = terminal.backend().buffer();
        (0..buf.area.height).find_map(|y| {
            let row: Vec<&str> = (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect();
            let line: String = row.concat();
            let col = line.find(needle)?;
            let x = line[..col].chars().count();
            let cell = &buf[(u16::try_from(x).ok()?, y)];
            Some((line, cell.style()))
        })
    }

    fn past(p50: u64, p90: u64) -> PastDrills {
        let mut p = PastDrills {
            drills: 2,
            ..PastDrills::default()
        };
        p.steps.insert(
            "assess".into(),
            StepStats {
                runs: 2,
                p50_secs: p50,
                p90_secs: p90,
            },
        );
        p
    }

    #[test]
    fn a_step_past_its_90th_percentile_turns_amber() {
        let mut a = app(past(20, 40));
        a.update(Action::Tick(t(30)));
        let (row, style) = find(&a, "20s/40s").expect("the figures on the step's row");
        assert!(row.contains("Assess scope"), "{row}");
        assert_ne!(style.fg, a.theme.warn.fg, "under the p90: not amber");
        a.update(Action::Tick(t(41)));
        let (_, style) = find(&a, "20s/40s").expect("the figures");
        assert_eq!(style.fg, a.theme.warn.fg, "past the p90: amber");
    }

    /// The list's `20s/40s` column is explained where the current step is read: the heading
    /// says what the two figures are.
    #[test]
    fn the_step_heading_says_what_the_past_figures_are() {
        let a = app(past(20, 40));
        let (line, _) = find(&a, "earlier drills:").expect("the heading explains the column");
        assert!(line.contains("Step 1/7"), "on the heading: {line}");
        assert!(
            find(&a, "median").is_some() && find(&a, "20s, 90% within 40s").is_some(),
            "{line}"
        );
    }

    /// Over target, the list says by how much (it said only `over` after the time taken,
    /// which read as the overrun).
    #[test]
    fn the_step_list_says_by_how_much_a_step_is_over() {
        let mut a = app(PastDrills::default());
        a.update(Action::Tick(t(150)));
        let (row, style) = find(&a, "over by 30s").expect("the overrun on the step's row");
        assert!(
            row.contains("Assess scope") && row.contains("2m30s"),
            "{row}"
        );
        assert_eq!(style.fg, a.theme.crit.fg);
    }

    /// A done DESTRUCTIVE step over its target, its title long enough that the row cannot hold
    /// both: the overrun is said, the badge (its action has run) gives way.
    #[test]
    fn a_done_destructive_step_over_target_says_by_how_much() {
        use warroom::playbook::{Effect, Input};
        let env = Environment::demo();
        let toml = r#"
id = "long"
title = "Long titles"
scenario = "region-loss"
rto = "30m"
rpo = "5m"

[[steps]]
id = "promote"
title = "Promote the disaster recovery replica in us-east-1 now"
target = "1m"
action = "db.promote"
with = { db = "dr-replica" }
destructive = true

[[steps]]
id = "after"
title = "Look around"
target = "1m"
"#;
        let playbook = warroom::playbook::parse("long.toml", toml, &env).expect("playbook");
        let board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(30));
        let mut a = App::new(env, Mode::Drill, Theme::fallback(), board, t0(), 1.0);
        a.start_incident(playbook);
        a.update(Action::Key(KeyEvent::from(KeyCode::Enter)));
        let row_of = |a: &App| find(a, "Promote the").map(|(row, _)| row);
        let before = row_of(&a).expect("the row");
        assert!(before.contains("DESTRUCTIVE"), "{before}");
        let engine = &mut a.incident.as_mut().expect("incident").engine;
        engine.handle(Input::Request { step: 0 }, t(10));
        let fx = engine.handle(
            Input::Confirm {
                step: 0,
                typed: Some("dr-replica".into()),
            },
            t(11),
        );
        let attempt = fx
            .iter()
            .find_map(|e| match e {
                Effect::Execute { attempt, .. } => Some(*attempt),
                _ => None,
            })
            .expect("confirmed: runs");
        engine.handle(
            Input::ExecFinished {
                step: 0,
                attempt,
                result: Ok(()),
            },
            t(150),
        );
        a.update(Action::Tick(t(151)));
        let row = row_of(&a).expect("the row");
        assert!(row.contains("over by") || row.contains(" +"), "{row}");
        assert!(!row.contains("DESTRUCTIVE"), "{row}");
    }

    /// At 80x24 the list cannot hold every step: the last row says how many more there are
    /// (a playbook's last steps were out of view without a word).
    #[test]
    fn the_step_list_counts_the_steps_out_of_view() {
        let a = app(PastDrills::default());
        let (row, _) = find(&a, "more step(s): ").expect("a count of the hidden steps");
        assert!(row.contains("-7"), "region-loss has 7 steps: {row}");
    }

    /// While the clock is paused, the keys line says first how to go on.
    #[test]
    fn a_paused_clock_says_how_to_resume_in_the_keys() {
        let mut a = app(PastDrills::default());
        assert!(find(&a, "P resume the clock").is_none());
        a.pace.paused = Some(std::time::Duration::from_secs(3));
        assert!(find(&a, "P resume the clock").is_some());
    }

    /// A note is the record's only trace of what was said: the console says it was taken.
    #[test]
    fn a_note_says_it_was_recorded() {
        let mut a = app(PastDrills::default());
        a.update(Action::Key(KeyEvent::from(KeyCode::Char('n'))));
        for c in "DBA paged".chars() {
            a.update(Action::Key(KeyEvent::from(KeyCode::Char(c))));
        }
        a.update(Action::Key(KeyEvent::from(KeyCode::Enter)));
        let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(flash.starts_with("note recorded at "), "{flash}");
    }

    #[test]
    fn the_reminder_line_warns_when_due_and_is_critical_when_overdue() {
        let mut a = app(PastDrills::default());
        a.update(Action::Tick(t(60)));
        let (line, style) = find(&a, "next in 14m00s").expect("the countdown");
        assert!(line.contains("Post a status update"), "{line}");
        assert_ne!(style.fg, a.theme.warn.fg);
        a.update(Action::Tick(t(900)));
        let (_, style) = find(&a, "DUE now").expect("due");
        assert_eq!(
            (style.fg, style.add_modifier),
            (a.theme.warn.fg, a.theme.warn.add_modifier)
        );
        a.update(Action::Tick(t(1000)));
        let (_, style) = find(&a, "OVERDUE 1m40s").expect("overdue");
        assert_eq!(
            (style.fg, style.add_modifier),
            (a.theme.crit.fg, a.theme.crit.add_modifier)
        );
        assert_ne!(a.theme.crit.fg, a.theme.warn.fg);
        // u: done; the next one counts down again.
        a.update(Action::Key(KeyEvent::from(KeyCode::Char('u'))));
        assert!(find(&a, "next in 13m20s").is_some());
    }
}

#[test]
fn past_drills_read_at_most_the_50_most_recent() {
    let dir = std::env::temp_dir().join(format!("warroom-past-bound-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let t0 = day(2026, 11, 22, 3, 12);
    // 60 drills; the 10 oldest are slow at the first step, the 50 newest quick.
    for i in 0..60u32 {
        let name = format!(
            "2026-11-{:02}T{:02}00Z-region-loss-drill.jsonl",
            1 + i / 24,
            i % 24
        );
        let mut s = journal_support::Session::start_at(
            &dir.join(name),
            journal_support::shipped("region-loss"),
            journal_support::World::region_lost(t0, 40.0),
            t0,
            day(2026, 11, 1 + i / 24, i % 24, 0),
        );
        s.fault("region-loss");
        s.input(Input::Declare);
        s.item_secs = if i < 10 { 600 } else { 20 };
        s.world.scale_secs = 8 * 60;
        // Whole drills, as the console would find them.
        s.run_to_end(60, 20);
    }
    let started = std::time::Instant::now();
    let got = past::load(&dir, "region-loss", None);
    let took = started.elapsed();
    assert_eq!(got.drills, past::MAX_JOURNALS);
    let assess = got.step("assess").expect("figures for assess");
    assert_eq!(assess.runs, 50);
    // None of the ten oldest (slow) drills is among them.
    assert!(assess.p90_secs < 600, "{assess:?}");
    println!("past::load of 60 whole drill journals (50 read): {took:?}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn the_report_lists_reminders_done_and_missed() {
    let dir = std::env::temp_dir().join(format!("warroom-past-report-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    let path = dir.join("2026-11-22T0312Z-region-loss-drill.jsonl");
    let t0 = day(2026, 11, 22, 3, 12);
    let mut s = journal_support::Session::start(
        &path,
        journal_support::shipped("region-loss"),
        journal_support::World::region_lost(t0, 40.0),
        t0,
    );
    s.fault("region-loss");
    s.input(Input::Declare);
    // The 15-minute status update: done 100 s late, then the second one missed.
    s.wait(1000);
    s.input(Input::ReminderDone);
    s.wait(1000);
    s.wait(800);
    s.input(Input::Abort {
        reason: "end of the exercise".into(),
    });
    let replay = warroom::journal::read(&path).expect("readable");
    let md = warroom::report::markdown(&warroom::report::build(&replay));
    let section = md
        .split("## Comms reminders")
        .nth(1)
        .unwrap_or_else(|| panic!("no reminders section:\n{md}"));
    assert!(section.contains("1 done, 1 missed."), "{section}");
    assert!(
        section.contains("in simulated time (paused time not counted)"),
        "{section}"
    );
    assert!(
        section.contains(
            "| Post a status update (channel, status page) | 1 | 2026-11-22 03:27:00 UTC \
             | done 1m40s late |"
        ),
        "{section}"
    );
    assert!(
        section.contains(
            "| Post a status update (channel, status page) | 2 | 2026-11-22 03:42:00 UTC \
             | missed |"
        ),
        "{section}"
    );
    assert!(section.contains("done 1m40s late"), "{section}");
    assert!(
        section.contains("| 2 |") && section.contains("| missed |"),
        "{section}"
    );
    let json = warroom::report::json(&warroom::report::build(&replay));
    assert!(json.contains("\"reminders\""), "{json}");
    let _ = std::fs::remove_dir_all(&dir);
}
