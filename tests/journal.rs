//! The journal: round trip through the engine, the torn-line rule, refusals of damaged and
//! foreign files with their line numbers, resume after a torn tail, following, secrets.
//!
//! The committed fixtures (`tests/fixtures/journals`) are written by the engine through the real
//! `Journal`; `cargo test --test journal -- --ignored regenerate_fixtures` rewrites them.

mod journal_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use journal_support::{Session, World, day, region_loss_drill, settings, shipped};
use warroom::env::Environment;
use warroom::journal::{self, FORMAT, Header, Journal, JournalError, Mode, Replay, Tail, VERSION};
use warroom::playbook::{Engine, Event, Input, MASK};

const FIXTURES: &str = "tests/fixtures/journals";

/// A unique scratch directory, removed on drop.
struct Scratch(PathBuf);

impl Scratch {
    fn new(tag: &str) -> Scratch {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("warroom-journal-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }

    fn join(&self, name: &str) -> PathBuf {
        self.0.join(name)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

fn t0() -> DateTime<Utc> {
    day(2026, 11, 22, 3, 12)
}

fn fixture(name: &str) -> PathBuf {
    Path::new(FIXTURES).join(name)
}

fn note(text: &str) -> Event {
    Event::Note { text: text.into() }
}

// ----- round trip ----------------------------------------------------------------------------

#[test]
fn a_whole_drill_round_trips_and_resumes_identically() {
    let dir = Scratch::new("roundtrip");
    let path = dir.join("drill.jsonl");
    let session = region_loss_drill(&path, t0(), 60, 95.0);
    assert!(session.engine.is_resolved(), "the drill finished");

    let replay = journal::read(&path).expect("reads back");
    assert_eq!(replay.torn_tail, None);
    assert_eq!(replay.header.format, FORMAT);
    assert_eq!(replay.header.version, VERSION);
    assert_eq!(replay.header.playbook.id, "region-loss");
    assert_eq!(replay.header.playbook.hash, session.engine.playbook().hash);
    assert_eq!(replay.header.objectives.rto_secs, 1800);
    assert_eq!(replay.header.steps.len(), 7);
    // Exactly what the engine recorded, in order, with seq 1, 2, 3, ...
    assert_eq!(replay.timeline(), session.log);
    for (i, (seq, _, _)) in replay.events.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
    }
    assert!(replay.is_finished());

    let now = session.at(session.now + 3600);
    let pb = shipped("region-loss");
    let s = settings(&pb);
    let (resumed, fx) = Engine::resume(pb, s, replay.timeline(), now).expect("resumes");
    assert!(fx.is_empty(), "a finished incident settles nothing: {fx:?}");
    let live = &session.engine;
    assert_eq!(resumed.declared_at(), live.declared_at());
    assert_eq!(resumed.fault_injected_at(), live.fault_injected_at());
    assert_eq!(resumed.rto(now), live.rto(now));
    assert_eq!(resumed.rpo_captured(), live.rpo_captured());
    assert_eq!(resumed.scorecard(now), live.scorecard(now));
    for (a, b) in resumed.steps(now).iter().zip(live.steps(now)) {
        assert_eq!(
            (&a.status, a.elapsed_secs, a.attempt, &a.output),
            (&b.status, b.elapsed_secs, b.attempt, &b.output),
            "step {}",
            a.id
        );
    }
    let card = resumed.scorecard(now);
    assert!(card.passed, "{card:#?}");
    assert_eq!(
        card.measures.time_to_declare_secs,
        Some(70),
        "fault at t0, declared 70 s later"
    );
}

#[test]
fn resume_mid_incident_continues_the_same_file() {
    let dir = Scratch::new("midway");
    let path = dir.join("drill.jsonl");
    let mut s = Session::start(
        &path,
        shipped("region-loss"),
        World::region_lost(t0(), 30.0),
        t0(),
    );
    s.fault("region-loss");
    s.wait(60);
    s.input(Input::Declare);
    s.work(0);
    s.wait(60);
    let before = s.log.len() as u64;
    drop(s);

    // The console restarts: open, replay, resume, journal what resuming settled, go on.
    let (mut j, replay) = Journal::open_append(&path).expect("opens");
    assert_eq!(replay.last_seq(), before);
    assert_eq!(j.next_seq(), before + 1);
    let now = t0() + TimeDelta::seconds(600);
    let pb = shipped("region-loss");
    let st = settings(&pb);
    let (mut engine, fx) = Engine::resume(pb, st, replay.timeline(), now).expect("resumes");
    assert!(fx.is_empty(), "{fx:?}");
    let step = engine.current().expect("on a step");
    let fx = engine.handle(Input::ToggleItem { step, item: 0 }, now);
    for f in &fx {
        if let warroom::playbook::Effect::Record(ev) = f {
            j.append(now, ev).expect("append");
        }
    }
    let again = journal::read(&path).expect("valid");
    assert_eq!(again.last_seq(), before + 1);
    assert!(matches!(
        &again.events.last().expect("event").2,
        Event::ChecklistTicked { ticked: true, .. }
    ));
}

// ----- the torn-line rule and refusals -------------------------------------------------------

#[test]
fn a_torn_last_line_is_reported_and_ignored() {
    let path = fixture("broken/torn-tail.jsonl");
    let replay = journal::read(&path).expect("a torn tail is not an error");
    let torn = replay.torn_tail.as_ref().expect("reported");
    assert_eq!(torn.line, 13);
    assert_eq!(replay.events.len(), 11, "lines 2..=12");
    let bytes = std::fs::read(&path).expect("read");
    assert_eq!(torn.offset as usize + torn.bytes.len(), bytes.len());
    assert_eq!(replay.valid_len, torn.offset);
    insta::assert_snapshot!(
        "torn_tail_notice",
        replay.torn_tail_notice(&path).expect("notice")
    );
}

#[test]
fn damaged_and_foreign_files_are_refused_with_where_and_what_to_do() {
    let cases = [
        ("corrupt-middle.jsonl", Some(6)),
        ("seq-gap.jsonl", Some(8)),
        ("seq-repeat.jsonl", Some(9)),
        ("blank-line.jsonl", Some(4)),
        ("unknown-kind.jsonl", Some(5)),
        ("random.bin", Some(1)),
        ("package.json", Some(1)),
        ("other.jsonl", Some(1)),
        ("version-2.jsonl", Some(1)),
        ("bad-header-field.jsonl", Some(1)),
        ("torn-header.jsonl", Some(1)),
        ("empty.jsonl", Some(1)),
        ("missing.jsonl", None),
    ];
    let mut report = String::new();
    for (name, line) in cases {
        let path = fixture(&format!("broken/{name}"));
        let err = journal::read(&path).expect_err(name);
        assert_eq!(err.line(), line, "{name}: {err}");
        assert_eq!(err.path(), Some(path.as_path()));
        assert!(!err.is_write_failure(), "{name}");
        let text = err.to_string();
        assert!(text.contains("\n  help: "), "{name}: {text}");
        report.push_str(&format!("{name}\n{text}\n\n"));
    }
    insta::assert_snapshot!("refusals", report);
}

#[test]
fn nothing_is_written_to_a_file_that_failed_validation() {
    let dir = Scratch::new("untouched");
    for name in [
        "corrupt-middle.jsonl",
        "seq-gap.jsonl",
        "random.bin",
        "version-2.jsonl",
    ] {
        let path = dir.join(name);
        std::fs::copy(fixture(&format!("broken/{name}")), &path).expect("copy");
        let before = std::fs::read(&path).expect("read");
        let err = Journal::open_append(&path).expect_err(name);
        assert!(err.line().is_some(), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), before, "{name}");
    }
}

#[test]
fn appending_after_a_torn_tail_yields_a_valid_journal() {
    let dir = Scratch::new("torn-append");
    let path = dir.join("torn.jsonl");
    std::fs::copy(fixture("broken/torn-tail.jsonl"), &path).expect("copy");
    let (mut j, replay) = Journal::open_append(&path).expect("opens");
    let torn = replay.torn_tail.clone().expect("reported to the caller");
    assert_eq!(j.len(), torn.offset, "the torn line was cut off");
    let at = t0() + TimeDelta::seconds(900);
    assert_eq!(
        j.append(at, &note("resumed after a crash"))
            .expect("append"),
        12
    );
    assert_eq!(j.append(at, &note("and again")).expect("append"), 13);
    let again = journal::read(&path).expect("valid");
    assert_eq!(again.torn_tail, None);
    assert_eq!(again.events.len(), 13);
    assert_eq!(&again.events[..11], &replay.events[..]);
    assert_eq!(again.events[11], (12, at, note("resumed after a crash")));
    // The file is exactly the valid prefix plus the new lines.
    let bytes = std::fs::read(&path).expect("read");
    assert!(bytes.ends_with(b"\"text\":\"and again\"}\n"));
    assert!(
        !bytes
            .windows(torn.bytes.len())
            .any(|w| w == torn.bytes.as_slice())
    );
}

#[test]
fn a_complete_last_line_without_its_newline_is_kept_and_ended() {
    let dir = Scratch::new("unterminated");
    let path = dir.join("j.jsonl");
    let mut bytes = std::fs::read(fixture("broken/torn-tail.jsonl")).expect("read");
    let torn_at = bytes.iter().rposition(|&b| b == b'\n').expect("newline");
    bytes.truncate(torn_at); // line 12 complete, its newline lost
    std::fs::write(&path, &bytes).expect("write");
    let replay = journal::read(&path).expect("valid");
    assert_eq!(
        (replay.events.len(), replay.torn_tail.is_none()),
        (11, true)
    );

    let follower = journal::read(&path).expect("valid");
    let mut tail = Tail::after(&path, &follower);
    let (mut j, _) = Journal::open_append(&path).expect("opens");
    j.append(t0(), &note("next")).expect("append");
    let again = journal::read(&path).expect("valid after the newline was added");
    assert_eq!(again.events.len(), 12);
    let seen = tail.poll().expect("poll");
    assert_eq!(seen, vec![(12, t0(), note("next"))]);
}

#[test]
fn decoding_rules_on_small_inputs() {
    let p = Path::new("x.jsonl");
    let header = std::fs::read(fixture("region-loss-drill.jsonl")).expect("fixture");
    let header_line = &header[..=header.iter().position(|&b| b == b'\n').expect("nl")];
    let line =
        |seq: u64| journal::encode_event(seq, t0(), &note(&format!("n{seq}"))).expect("encode");
    let cat = |parts: &[&[u8]]| parts.concat();

    // Header only: a journal with no events yet.
    let r = journal::decode(p, header_line).expect("header only");
    assert!(r.events.is_empty() && r.torn_tail.is_none());
    // Zeros after a crash (some filesystems) form a torn last line.
    let r = journal::decode(p, &cat(&[header_line, &line(1), &[0u8; 16]])).expect("torn");
    assert_eq!(r.torn_tail.map(|t| (t.line, t.bytes.len())), Some((3, 16)));
    // ... but not in the middle.
    let e =
        journal::decode(p, &cat(&[header_line, &[0u8; 16], b"\n", &line(1)])).expect_err("middle");
    assert_eq!(e.line(), Some(2));
    // A torn header is not a journal.
    let e = journal::decode(p, &header_line[..40]).expect_err("torn header");
    assert!(e.to_string().contains("header line is incomplete"), "{e}");
    // seq must start at 1.
    let e = journal::decode(p, &cat(&[header_line, &line(2)])).expect_err("starts at 2");
    assert!(e.to_string().contains("expected seq 1"), "{e}");
    // A header without its newline: appending first ends its line.
    let dir = Scratch::new("header-only");
    let path = dir.join("j.jsonl");
    std::fs::write(&path, &header_line[..header_line.len() - 1]).expect("write");
    let (mut j, replay) = Journal::open_append(&path).expect("opens");
    assert!(replay.events.is_empty());
    j.append(t0(), &note("first")).expect("append");
    assert_eq!(journal::read(&path).expect("valid").events.len(), 1);
    // CRLF line ends are tolerated (JSON whitespace).
    let crlf = String::from_utf8(cat(&[header_line, &line(1)]))
        .expect("utf8")
        .replace('\n', "\r\n");
    assert_eq!(
        journal::decode(p, crlf.as_bytes())
            .expect("crlf")
            .events
            .len(),
        1
    );
}

#[test]
fn create_never_overwrites_and_create_in_picks_a_fresh_name() {
    let dir = Scratch::new("create");
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Drill, "bob", t0());
    let path = dir.join("j.jsonl");
    Journal::create(&path, &header).expect("first");
    let err = Journal::create(&path, &header).expect_err("second");
    assert!(matches!(err, JournalError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("never overwritten"), "{err}");

    let incidents = dir.join("state/warroom/incidents");
    let a = Journal::create_in(&incidents, &header).expect("creates the directory");
    let b = Journal::create_in(&incidents, &header).expect("second name");
    assert_eq!(
        a.path().file_name().and_then(|n| n.to_str()),
        Some("2026-11-22T0312Z-region-loss-drill.jsonl")
    );
    assert_eq!(
        b.path().file_name().and_then(|n| n.to_str()),
        Some("2026-11-22T0312Z-region-loss-drill-2.jsonl")
    );
    assert_eq!(journal::list(&incidents).expect("list").len(), 2);
    let replay = journal::read(a.path()).expect("header only");
    assert_eq!(replay.header, header);
}

// ----- following -----------------------------------------------------------------------------

#[test]
fn tail_returns_complete_lines_and_keeps_a_partial_one_for_later() {
    use std::io::Write;
    let dir = Scratch::new("tail");
    let path = dir.join("j.jsonl");
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Drill, "bob", t0());
    let mut j = Journal::create(&path, &header).expect("create");

    let mut from_start = Tail::new(&path, 0);
    assert_eq!(from_start.poll().expect("poll"), vec![]);
    assert_eq!(from_start.header(), Some(&header));

    j.append(t0(), &note("one")).expect("append");
    j.append(t0(), &note("two")).expect("append");
    let replay = journal::read(&path).expect("read");
    let mut tail = Tail::after(&path, &replay);
    assert_eq!(tail.poll().expect("poll"), vec![]);
    j.append(t0(), &note("three")).expect("append");
    assert_eq!(tail.poll().expect("poll"), vec![(3, t0(), note("three"))]);
    assert_eq!(from_start.poll().expect("poll").len(), 3);

    // A line being written: half of it now, the rest later.
    let line = journal::encode_event(4, t0(), &note("four")).expect("encode");
    let (first, rest) = line.split_at(20);
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    raw.write_all(first).expect("write");
    assert_eq!(tail.poll().expect("poll"), vec![]);
    assert_eq!(tail.pending(), 20);
    raw.write_all(rest).expect("write");
    assert_eq!(tail.poll().expect("poll"), vec![(4, t0(), note("four"))]);
    assert_eq!(tail.pending(), 0);

    // A crash leaves a torn line; the resumed writer cuts it and writes another in its place.
    raw.write_all(&journal::encode_event(5, t0(), &note("lost")).expect("encode")[..25])
        .expect("write");
    drop(j);
    assert_eq!(tail.poll().expect("poll"), vec![]);
    let (mut j, replay) = Journal::open_append(&path).expect("resume");
    assert!(replay.torn_tail.is_some());
    j.append(t0(), &note("a much longer line that replaces the torn one"))
        .expect("append");
    assert_eq!(
        tail.poll().expect("poll"),
        vec![(
            5,
            t0(),
            note("a much longer line that replaces the torn one")
        )]
    );

    // Following from the middle counts lines for its messages.
    let mut mid = Tail::new(&path, replay.valid_len);
    assert_eq!(mid.poll().expect("poll").len(), 1);
}

#[test]
fn tail_reports_damage_after_returning_what_came_before() {
    use std::io::Write;
    let dir = Scratch::new("tail-damage");
    let path = dir.join("j.jsonl");
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Drill, "bob", t0());
    let mut j = Journal::create(&path, &header).expect("create");
    let mut tail = Tail::new(&path, 0);
    j.append(t0(), &note("one")).expect("append");
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    raw.write_all(&journal::encode_event(3, t0(), &note("gap")).expect("encode"))
        .expect("write");
    assert_eq!(tail.poll().expect("first the good line").len(), 1);
    let err = tail.poll().expect_err("then the gap");
    assert_eq!(err.line(), Some(3));
    assert!(tail.poll().is_err(), "and it stays");
}

#[test]
fn a_follower_polling_every_200_ms_keeps_up_within_a_second() {
    let dir = Scratch::new("follow");
    let path = dir.join("j.jsonl");
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Drill, "bob", t0());
    let mut j = Journal::create(&path, &header).expect("create");
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Instant)>();
    let writer = std::thread::spawn(move || {
        for i in 0..15 {
            let seq = j
                .append(t0(), &note(&format!("event {i}")))
                .expect("append");
            tx.send((seq, Instant::now())).expect("send");
            std::thread::sleep(Duration::from_millis(70));
        }
    });
    let mut tail = Tail::new(&path, 0);
    let mut seen = 0;
    let mut worst = Duration::ZERO;
    let deadline = Instant::now() + Duration::from_secs(30);
    while seen < 15 && Instant::now() < deadline {
        let events = tail.poll().expect("poll");
        let now = Instant::now();
        for (seq, _, _) in events {
            let (written_seq, written_at) = rx.recv().expect("the writer reported it");
            assert_eq!(seq, written_seq);
            worst = worst.max(now - written_at);
            seen += 1;
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    writer.join().expect("writer");
    assert_eq!(seen, 15);
    assert!(worst < Duration::from_secs(1), "worst lag {worst:?}");
}

// ----- secrets -------------------------------------------------------------------------------

const SECRET: &str = "hunter2-7f3a9c";

const SECRET_PLAYBOOK: &str = r#"
id = "rotate"
title = "Rotate the replication credentials"
scenario = "custom"
rto = "20m"
rpo = "5m"

[vars]
token = { value = "hunter2-7f3a9c", secret = true }

[[steps]]
id = "check"
title = "Check"
target = "2m"
checklist = ["The old token {{token}} is revoked"]

[[steps]]
id = "push"
title = "Push the new token"
target = "2m"
run = ["./push-token.sh", "--token", "{{token}}"]

[[steps]]
id = "tell"
title = "Tell the team"
target = "2m"
action = "notify.webhook"
with = { message = "rotated to {{token}}" }
"#;

#[test]
fn secret_values_never_reach_the_journal_or_the_report() {
    let dir = Scratch::new("secrets");
    let path = dir.join("rotate.jsonl");
    let pb = warroom::playbook::parse("rotate.toml", SECRET_PLAYBOOK, &Environment::demo())
        .unwrap_or_else(|e| panic!("{e}"));
    let mut s = Session::start(&path, pb, World::healthy(t0()), t0());
    s.input(Input::Declare);
    s.work(0);
    // The run step: its executor echoes the token and fails quoting it.
    let push = 1;
    s.input(Input::Request { step: push });
    let fx = s.input(Input::Confirm {
        step: push,
        typed: None,
    });
    let exec_has_secret = fx.iter().any(|f| {
        matches!(f, warroom::playbook::Effect::Execute { exec, .. }
            if format!("{exec:?}").contains(SECRET))
    });
    assert!(exec_has_secret, "the executor gets the real value");
    for line in [format!("using token {SECRET}"), format!("{SECRET}{SECRET}")] {
        s.input(Input::ExecOutput {
            step: push,
            attempt: 1,
            line,
        });
    }
    s.input(Input::ExecFinished {
        step: push,
        attempt: 1,
        result: Err(format!("server rejected {SECRET}")),
    });
    s.input(Input::Retry { step: push });
    s.input(Input::Request { step: push });
    s.input(Input::Confirm {
        step: push,
        typed: None,
    });
    s.input(Input::ExecFinished {
        step: push,
        attempt: 2,
        result: Ok(()),
    });
    s.input(Input::Request { step: 2 });
    s.input(Input::Confirm {
        step: 2,
        typed: None,
    });
    s.input(Input::ExecFinished {
        step: 2,
        attempt: 1,
        result: Ok(()),
    });
    assert!(s.engine.is_resolved());

    let bytes = std::fs::read(&path).expect("read");
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    assert!(
        !bytes.windows(SECRET.len()).any(|w| w == SECRET.as_bytes()),
        "the secret is in the journal:\n{text}"
    );
    // Not even a fragment of it (a JSON escape could split it).
    assert!(!text.contains("hunter2"), "{text}");
    assert!(text.contains(&format!("using token {MASK}")), "{text}");
    assert!(
        text.contains(&format!("The old token {MASK} is revoked")),
        "{text}"
    );
    assert!(text.contains(&format!("server rejected {MASK}")), "{text}");

    for format in [
        warroom::report::Format::Markdown,
        warroom::report::Format::Json,
    ] {
        let report = warroom::report::render_path(&path, format).expect("report");
        assert!(!report.contains("hunter2"), "{report}");
    }
}

// ----- write failures ------------------------------------------------------------------------

#[test]
fn errors_name_the_file_and_say_what_to_do() {
    let dir = Scratch::new("errors");
    let missing_dir = dir.join("no/such/dir/j.jsonl");
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Live, "bob", t0());
    let err = Journal::create(&missing_dir, &header).expect_err("no directory");
    assert!(!err.is_write_failure());
    let text = err.to_string();
    assert!(
        text.starts_with(&format!("{}: cannot create", missing_dir.display())),
        "{text}"
    );
    assert!(text.contains("--journal PATH"), "{text}");
}

// ----- fixtures --------------------------------------------------------------------------------

/// Rewrites every committed fixture. Review the diff (and the report snapshots) afterwards.
#[test]
#[ignore = "rewrites tests/fixtures/journals; run with --ignored when the format or the shipped playbooks change"]
fn regenerate_fixtures() {
    let root = Path::new(FIXTURES);
    let _ = std::fs::remove_dir_all(root);
    for sub in ["broken", "history"] {
        std::fs::create_dir_all(root.join(sub)).expect("dir");
    }
    let complete = root.join("region-loss-drill.jsonl");
    region_loss_drill(&complete, t0(), 60, 95.0);
    journal_support::region_loss_aborted(
        &root.join("region-loss-aborted.jsonl"),
        day(2026, 11, 23, 14, 0),
    );

    let h = root.join("history");
    region_loss_drill(
        &h.join("2026-10-04T0900Z-region-loss-drill.jsonl"),
        day(2026, 10, 4, 9, 0),
        240,
        420.0,
    );
    region_loss_drill(
        &h.join("2026-10-18T0900Z-region-loss-drill.jsonl"),
        day(2026, 10, 18, 9, 0),
        120,
        95.0,
    );
    journal_support::az_loss_drill(
        &h.join("2026-11-01T0900Z-az-loss-drill.jsonl"),
        day(2026, 11, 1, 9, 0),
        20,
    );
    region_loss_drill(
        &h.join("2026-11-22T0312Z-region-loss-drill.jsonl"),
        day(2026, 11, 22, 3, 12),
        60,
        95.0,
    );
    journal_support::region_loss_aborted(
        &h.join("2026-11-23T1400Z-region-loss-drill.jsonl"),
        day(2026, 11, 23, 14, 0),
    );
    std::fs::write(
        h.join("2026-11-02T1000Z-notes.jsonl"),
        "{\"ts\":\"2026-11-02T10:00:00Z\",\"msg\":\"drill debrief notes\"}\n",
    )
    .expect("write");

    // Broken files, derived from the complete drill.
    let bytes = std::fs::read(&complete).expect("read");
    let text = String::from_utf8(bytes.clone()).expect("utf8");
    let lines: Vec<&str> = text.lines().collect();
    let join = |ls: &[&str]| ls.iter().map(|l| format!("{l}\n")).collect::<String>();
    let b = root.join("broken");
    let write = |name: &str, content: &[u8]| std::fs::write(b.join(name), content).expect("write");
    let last = lines[12];
    write(
        "torn-tail.jsonl",
        format!("{}{}", join(&lines[..12]), &last[..last.len() / 2]).as_bytes(),
    );
    let mut corrupt = lines[..16].to_vec();
    let half = &lines[5][..lines[5].len() / 2];
    corrupt[5] = half;
    write("corrupt-middle.jsonl", join(&corrupt).as_bytes());
    let mut gap = lines[..12].to_vec();
    gap.remove(7);
    write("seq-gap.jsonl", join(&gap).as_bytes());
    let mut repeat = lines[..12].to_vec();
    repeat.insert(8, lines[7]);
    write("seq-repeat.jsonl", join(&repeat).as_bytes());
    let mut blank = lines[..8].to_vec();
    blank.insert(3, "");
    write("blank-line.jsonl", join(&blank).as_bytes());
    let mut unknown = lines[..8].to_vec();
    let kind_at = lines[4].find("\"kind\":\"").expect("kind");
    let end = lines[4][kind_at + 8..].find('"').expect("end") + kind_at + 8;
    let replaced = format!(
        "{}\"kind\":\"teleported{}",
        &lines[4][..kind_at],
        &lines[4][end..]
    );
    unknown[4] = &replaced;
    write("unknown-kind.jsonl", join(&unknown).as_bytes());
    let v2 = lines[0].replacen("\"version\":1", "\"version\":2", 1);
    let mut v2_lines = lines[..6].to_vec();
    v2_lines[0] = &v2;
    write("version-2.jsonl", join(&v2_lines).as_bytes());
    let chaos = lines[0].replacen("\"mode\":\"drill\"", "\"mode\":\"chaos\"", 1);
    let mut chaos_lines = lines[..4].to_vec();
    chaos_lines[0] = &chaos;
    write("bad-header-field.jsonl", join(&chaos_lines).as_bytes());
    write("torn-header.jsonl", &lines[0].as_bytes()[..70]);
    write("empty.jsonl", b"");
    write(
        "package.json",
        b"{\n  \"name\": \"warroom-dashboard\",\n  \"version\": \"1.4.2\",\n  \"private\": true\n}\n",
    );
    write(
        "other.jsonl",
        b"{\"level\":\"info\",\"msg\":\"server started\"}\n{\"level\":\"warn\",\"msg\":\"slow\"}\n",
    );
    // Deterministic noise, with a newline in it somewhere.
    let mut x: u32 = 0x2545_f491;
    let noise: Vec<u8> = (0..512)
        .map(|_| {
            x ^= x << 13;
            x ^= x >> 17;
            x ^= x << 5;
            (x >> 24) as u8
        })
        .collect();
    write("random.bin", &noise);
}

/// The committed fixtures are what this build reads (old journals stay readable).
#[test]
fn committed_fixtures_read_as_expected() {
    let complete = journal::read(&fixture("region-loss-drill.jsonl")).expect("complete");
    assert!(complete.is_finished());
    let aborted = journal::read(&fixture("region-loss-aborted.jsonl")).expect("aborted");
    assert!(matches!(
        aborted.events.last().map(|e| &e.2),
        Some(Event::Aborted { .. })
    ));
    let names: Vec<String> = journal::list(&fixture("history"))
        .expect("list")
        .iter()
        .filter_map(|p| p.file_name()?.to_str().map(str::to_string))
        .collect();
    assert_eq!(names.len(), 6, "{names:?}");
    let replays: Vec<Result<Replay, JournalError>> = journal::list(&fixture("history"))
        .expect("list")
        .iter()
        .map(|p| journal::read(p))
        .collect();
    assert_eq!(replays.iter().filter(|r| r.is_err()).count(), 1);
}

// ----- the documented contract -----------------------------------------------------------------

/// Every event kind the engine can record, as serde names them (read off the decoder's own
/// "expected one of" list, so a new kind cannot slip by).
fn event_kinds() -> Vec<String> {
    let err = serde_json::from_str::<Event>(r#"{"kind":"?"}"#).expect_err("no such kind");
    let msg = err.to_string();
    let list = msg
        .split("expected one of ")
        .nth(1)
        .expect("serde lists the variants");
    list.split(", ")
        .map(|k| {
            k.trim_matches(|c: char| c == '`' || !c.is_ascii_graphic())
                .to_string()
        })
        .map(|k| k.split('`').next().unwrap_or_default().to_string())
        .collect()
}

#[test]
fn every_event_kind_is_documented_and_new_kinds_bump_the_version() {
    let kinds = event_kinds();
    // Format version 1. A kind added here is a format change: bump `journal::VERSION`, document
    // the kind in docs/journal.md, and keep reading version-1 files.
    assert_eq!(
        kinds,
        [
            "fault_injected",
            "declared",
            "step_started",
            "checklist_ticked",
            "confirm_requested",
            "confirm_cancelled",
            "confirmed",
            "rpo_captured",
            "output",
            "verifying",
            "step_finished",
            "skipped",
            "retried",
            "target_exceeded",
            "rto_risk",
            "note",
            "aborted",
            "resolved",
        ],
        "the event kinds changed: bump journal::VERSION (see the versioning rule in docs/journal.md)"
    );
    assert_eq!(VERSION, 1);
    let doc = std::fs::read_to_string("docs/journal.md").expect("docs/journal.md");
    for kind in &kinds {
        assert!(
            doc.contains(&format!("### `{kind}`")),
            "docs/journal.md has no section for `{kind}`"
        );
    }
    // Every field the header has (as written, optional ones included), nested ones dotted.
    let pb = shipped("region-loss");
    let header = Header::new(&pb, &settings(&pb), Mode::Drill, "bob", t0()).simulator(1, 1.0);
    let value = serde_json::to_value(&header).expect("json");
    let mut fields = Vec::new();
    for (k, v) in value.as_object().expect("object") {
        match v {
            serde_json::Value::Object(inner) => {
                fields.extend(inner.keys().map(|i| format!("{k}.{i}")));
            }
            serde_json::Value::Array(items) => {
                fields.push(k.clone());
                if let Some(serde_json::Value::Object(inner)) = items.first() {
                    fields.extend(inner.keys().map(|i| format!("{k}[].{i}")));
                }
            }
            _ => fields.push(k.clone()),
        }
    }
    assert!(fields.len() > 15, "{fields:?}");
    for field in fields {
        assert!(
            doc.contains(&format!("| `{field}` |")),
            "docs/journal.md does not document header field `{field}`"
        );
    }
}
