//! The journal: round trip through the engine, the torn-line rule, refusals of damaged and
//! foreign files with their line numbers, resume after a torn tail, following, secrets, the hash
//! chain (`verify`), the two clocks, one writer per journal, and reading version 1.
//!
//! The version-1 fixtures (`tests/fixtures/journals/*.jsonl`, `broken/`, `history/`) are frozen:
//! no writer produces version 1 any more, and they must keep reading as before. The version-2
//! fixture (`tests/fixtures/journals/v2/`) is written by the engine through the real `Journal`;
//! `cargo test --test journal -- --ignored regenerate_fixtures` rewrites it.

mod journal_support;

use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use chrono::{DateTime, TimeDelta, Utc};
use journal_support::{SPEED, Session, World, day, region_loss_drill, settings, shipped};
use warroom::env::Environment;
use warroom::journal::{
    self, FORMAT, Header, Journal, JournalError, LockHolder, Mode, Replay, Stamp, Tail, VERSION,
    Verified,
};
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

fn wall(at: DateTime<Utc>) -> Stamp {
    Stamp::wall(at)
}

/// Another console, for `open_append`.
fn holder() -> LockHolder {
    LockHolder {
        host: "ops-2.example".into(),
        pid: 4242,
        operator: "bob".into(),
    }
}

/// The committed version-2 drill.
fn v2_fixture() -> PathBuf {
    fixture("v2/region-loss-drill.jsonl")
}

/// A copy of the version-2 drill in `dir`, cut to its first `lines` lines.
fn v2_copy(dir: &Scratch, name: &str, lines: usize) -> PathBuf {
    let text = std::fs::read_to_string(v2_fixture()).expect("v2 fixture");
    let kept: String = text.lines().take(lines).map(|l| format!("{l}\n")).collect();
    let path = dir.join(name);
    std::fs::write(&path, kept).expect("write");
    path
}

/// A header for a new journal of the shipped region-loss playbook.
fn header(mode: Mode) -> Header {
    let pb = shipped("region-loss");
    Header::new(&pb, &settings(&pb), mode, "bob", t0())
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
    assert_eq!(replay.header.sim_started_at, Some(t0()));
    assert_eq!(replay.header.warroom_version, env!("CARGO_PKG_VERSION"));
    assert!(replay.chain_head.is_some());
    // Exactly what the engine recorded, in order, with seq 1, 2, 3, ...
    assert_eq!(replay.timeline(), session.log);
    for (i, (seq, stamp, _)) in replay.events.iter().enumerate() {
        assert_eq!(*seq, i as u64 + 1);
        // Both clocks: simulated time ran SPEED times faster than the wall.
        let sim = stamp.sim.expect("a drill's events carry simulated time");
        let sim_secs = (sim - t0()).num_milliseconds();
        let wall_secs = (stamp.at - t0()).num_milliseconds();
        assert_eq!(wall_secs, sim_secs / SPEED, "event {seq}");
        assert_eq!(stamp.session(), sim);
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
    let (mut j, replay) = Journal::open_append(&path, &holder()).expect("opens");
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
            j.append(
                Stamp {
                    at: t0() + TimeDelta::seconds(10),
                    sim: Some(now),
                },
                ev,
            )
            .expect("append");
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
    // Version 1 (the frozen fixture) and version 2 alike.
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

    let dir = Scratch::new("torn-v2");
    let path = v2_torn(&dir);
    let replay = journal::read(&path).expect("a torn tail is not an error");
    assert_eq!(replay.torn_tail.as_ref().map(|t| t.line), Some(13));
    assert_eq!(replay.events.len(), 11);
    assert!(matches!(
        journal::verify(&path).expect("verifies"),
        Verified::Intact {
            torn_tail: Some(13),
            lines: 12,
            ..
        }
    ));
}

/// The version-2 drill's first 12 lines, then half of line 13 (a crash mid-write).
fn v2_torn(dir: &Scratch) -> PathBuf {
    let text = std::fs::read_to_string(v2_fixture()).expect("v2 fixture");
    let lines: Vec<&str> = text.lines().collect();
    let mut torn: String = lines[..12].iter().map(|l| format!("{l}\n")).collect();
    torn.push_str(&lines[12][..lines[12].len() / 2]);
    let path = dir.join("torn.jsonl");
    std::fs::write(&path, torn).expect("write");
    path
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
        // A version-1 body whose header claims version 2: no hash chain.
        ("version-2.jsonl", Some(1)),
        ("version-3.jsonl", Some(1)),
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
        "version-3.jsonl",
    ] {
        let path = dir.join(name);
        std::fs::copy(fixture(&format!("broken/{name}")), &path).expect("copy");
        let before = std::fs::read(&path).expect("read");
        let err = Journal::open_append(&path, &holder()).expect_err(name);
        assert!(err.line().is_some(), "{err}");
        assert_eq!(std::fs::read(&path).expect("read"), before, "{name}");
        assert!(!journal::sidecar_path(&path).exists(), "{name}");
    }
}

#[test]
fn a_version_1_journal_reads_but_is_not_appended_to() {
    let dir = Scratch::new("v1-append");
    let path = dir.join("v1.jsonl");
    std::fs::copy(fixture("broken/torn-tail.jsonl"), &path).expect("copy");
    let before = std::fs::read(&path).expect("read");
    let err = Journal::open_append(&path, &holder()).expect_err("v1");
    assert!(
        matches!(err, JournalError::OldVersion { version: 1, .. }),
        "{err}"
    );
    let text = err.to_string();
    assert!(
        text.contains(":1: journal format version 1 cannot be continued"),
        "{text}"
    );
    assert!(text.contains("warroom report"), "{text}");
    assert_eq!(
        std::fs::read(&path).expect("read"),
        before,
        "not even the torn tail was cut"
    );
    // It still replays.
    let replay = journal::read(&path).expect("reads");
    let mut pb = shipped("region-loss");
    // The shipped playbook has changed since the fixture was written.
    pb.hash = replay.header.playbook.hash.clone();
    Engine::resume(
        pb.clone(),
        settings(&pb),
        replay.timeline(),
        t0() + TimeDelta::hours(1),
    )
    .expect("the engine replays a version-1 journal");
}

#[test]
fn appending_after_a_torn_tail_yields_a_valid_journal() {
    let dir = Scratch::new("torn-append");
    let path = v2_torn(&dir);
    let (mut j, replay) = Journal::open_append(&path, &holder()).expect("opens");
    let torn = replay.torn_tail.clone().expect("reported to the caller");
    assert_eq!(j.len(), torn.offset, "the torn line was cut off");
    let last = replay.last_stamp();
    let at = Stamp {
        at: last.at + TimeDelta::seconds(900),
        sim: last.sim.map(|s| s + TimeDelta::seconds(900)),
    };
    assert_eq!(
        j.append(at, &note("resumed after a crash"))
            .expect("append"),
        12
    );
    assert_eq!(j.append(at, &note("and again")).expect("append"), 13);
    drop(j);
    let again = journal::read(&path).expect("valid");
    assert_eq!(again.torn_tail, None);
    assert_eq!(again.events.len(), 13);
    assert_eq!(&again.events[..11], &replay.events[..]);
    assert_eq!(again.events[11], (12, at, note("resumed after a crash")));
    // The file is exactly the valid prefix plus the new lines.
    let bytes = std::fs::read(&path).expect("read");
    assert!(
        String::from_utf8_lossy(&bytes)
            .lines()
            .last()
            .is_some_and(|l| l.contains("\"text\":\"and again\",\"sha256\":\""))
    );
    assert!(
        !bytes
            .windows(torn.bytes.len())
            .any(|w| w == torn.bytes.as_slice())
    );
    assert!(matches!(
        journal::verify(&path).expect("verifies"),
        Verified::Intact {
            lines: 14,
            torn_tail: None,
            ..
        }
    ));
}

#[test]
fn a_complete_last_line_without_its_newline_is_kept_and_ended() {
    let dir = Scratch::new("unterminated");
    let path = v2_copy(&dir, "j.jsonl", 12);
    let mut bytes = std::fs::read(&path).expect("read");
    bytes.pop(); // line 12 complete, its newline lost
    std::fs::write(&path, &bytes).expect("write");
    let replay = journal::read(&path).expect("valid");
    assert_eq!(
        (replay.events.len(), replay.torn_tail.is_none()),
        (11, true)
    );

    let follower = journal::read(&path).expect("valid");
    let mut tail = Tail::after(&path, &follower);
    let (mut j, _) = Journal::open_append(&path, &holder()).expect("opens");
    let at = replay.last_stamp();
    j.append(at, &note("next")).expect("append");
    let again = journal::read(&path).expect("valid after the newline was added");
    assert_eq!(again.events.len(), 12);
    let seen = tail.poll().expect("poll");
    assert_eq!(seen, vec![(12, at, note("next"))]);
}

/// A version-2 journal with `n` notes, one second apart, as bytes (written by a real Journal).
fn v2_notes(dir: &Scratch, n: u64) -> Vec<u8> {
    let path = dir.join(&format!("notes-{n}.jsonl"));
    let mut j = Journal::create(&path, &header(Mode::Live)).expect("create");
    for i in 1..=n {
        j.append(
            wall(t0() + TimeDelta::seconds(i as i64)),
            &note(&format!("n{i}")),
        )
        .expect("append");
    }
    drop(j);
    std::fs::read(&path).expect("read")
}

/// `bytes` split after every newline.
fn lines_of(bytes: &[u8]) -> Vec<Vec<u8>> {
    bytes
        .split_inclusive(|&b| b == b'\n')
        .map(<[u8]>::to_vec)
        .collect()
}

#[test]
fn decoding_rules_on_small_inputs() {
    let dir = Scratch::new("small");
    let p = Path::new("x.jsonl");
    let bytes = v2_notes(&dir, 2);
    let lines = lines_of(&bytes);
    let header_line = &lines[0];
    let cat = |parts: &[&[u8]]| parts.concat();

    // Header only: a journal with no events yet.
    let r = journal::decode(p, header_line).expect("header only");
    assert!(r.events.is_empty() && r.torn_tail.is_none());
    // Zeros after a crash (some filesystems) form a torn last line.
    let r = journal::decode(p, &cat(&[header_line, &lines[1], &[0u8; 16]])).expect("torn");
    assert_eq!(r.torn_tail.map(|t| (t.line, t.bytes.len())), Some((3, 16)));
    // ... but not in the middle.
    let e =
        journal::decode(p, &cat(&[header_line, &[0u8; 16], b"\n", &lines[1]])).expect_err("middle");
    assert_eq!(e.line(), Some(2));
    // A torn header is not a journal.
    let e = journal::decode(p, &header_line[..40]).expect_err("torn header");
    assert!(e.to_string().contains("header line is incomplete"), "{e}");
    // seq must start at 1 (event 2 right after the header: its link is wrong too, seq first).
    let e = journal::decode(p, &cat(&[header_line, &lines[2]])).expect_err("starts at 2");
    assert!(e.to_string().contains("expected seq 1"), "{e}");
    // A line moved: the seq catches it; a line whose seq was also fixed: its link does.
    let e = journal::decode(p, &cat(&[header_line, &lines[2], &lines[1]])).expect_err("swapped");
    assert_eq!(e.line(), Some(2));
    // A header without its newline: appending first ends its line.
    let path = dir.join("j.jsonl");
    std::fs::write(&path, &header_line[..header_line.len() - 1]).expect("write");
    let (mut j, replay) = Journal::open_append(&path, &holder()).expect("opens");
    assert!(replay.events.is_empty());
    j.append(wall(t0()), &note("first")).expect("append");
    drop(j);
    assert_eq!(journal::read(&path).expect("valid").events.len(), 1);
    // Version 1: CRLF line ends are tolerated (JSON whitespace). In version 2 the `\r` is part
    // of the hashed line: converting a journal's line ends changes it.
    let v1 = std::fs::read_to_string(fixture("region-loss-drill.jsonl")).expect("v1");
    let crlf = v1.replace('\n', "\r\n");
    assert_eq!(
        journal::decode(p, crlf.as_bytes())
            .expect("crlf")
            .events
            .len(),
        journal::decode(p, v1.as_bytes()).expect("lf").events.len()
    );
    let crlf = String::from_utf8(bytes.clone())
        .expect("utf8")
        .replace('\n', "\r\n");
    let e = journal::decode(p, crlf.as_bytes()).expect_err("v2 crlf");
    assert_eq!(e.line(), Some(1), "{e}");
}

#[test]
fn create_never_overwrites_and_create_in_picks_a_fresh_name() {
    use std::os::unix::fs::PermissionsExt;
    let dir = Scratch::new("create");
    let header = header(Mode::Drill);
    let path = dir.join("j.jsonl");
    let first = Journal::create(&path, &header).expect("first");
    let err = Journal::create(&path, &header).expect_err("second");
    assert!(matches!(err, JournalError::Exists { .. }), "{err}");
    assert!(err.to_string().contains("never overwritten"), "{err}");
    drop(first);

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
    // The lock sidecars are not journals.
    assert!(journal::sidecar_path(a.path()).exists());
    assert_eq!(journal::list(&incidents).expect("list").len(), 2);
    let replay = journal::read(a.path()).expect("header only");
    assert_eq!(replay.header, header);
    // Owner only: journals and sidecars 0600, the directories created 0700.
    let mode = |p: &Path| std::fs::metadata(p).expect("stat").permissions().mode() & 0o777;
    assert_eq!(mode(a.path()), 0o600);
    assert_eq!(mode(&path), 0o600);
    assert_eq!(mode(&journal::sidecar_path(a.path())), 0o600);
    for d in ["state", "state/warroom", "state/warroom/incidents"] {
        assert_eq!(mode(&dir.join(d)), 0o700, "{d}");
    }
}

// ----- following -----------------------------------------------------------------------------

#[test]
fn tail_returns_complete_lines_and_keeps_a_partial_one_for_later() {
    use std::io::Write;
    let dir = Scratch::new("tail");
    let path = dir.join("j.jsonl");
    let header = header(Mode::Drill);
    let mut j = Journal::create(&path, &header).expect("create");
    let at = wall(t0());

    let mut from_start = Tail::new(&path, 0);
    assert_eq!(from_start.poll().expect("poll"), vec![]);
    assert_eq!(from_start.header(), Some(&header));

    j.append(at, &note("one")).expect("append");
    j.append(at, &note("two")).expect("append");
    let replay = journal::read(&path).expect("read");
    let mut tail = Tail::after(&path, &replay);
    assert_eq!(tail.poll().expect("poll"), vec![]);
    j.append(at, &note("three")).expect("append");
    assert_eq!(tail.poll().expect("poll"), vec![(3, at, note("three"))]);
    assert_eq!(from_start.poll().expect("poll").len(), 3);

    // A line being written: half of it now, the rest later.
    let line = journal::encode_event(4, at, &j.chain_head(), &note("four")).expect("encode");
    let (first, rest) = line.split_at(20);
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    raw.write_all(first).expect("write");
    assert_eq!(tail.poll().expect("poll"), vec![]);
    assert_eq!(tail.pending(), 20);
    raw.write_all(rest).expect("write");
    assert_eq!(tail.poll().expect("poll"), vec![(4, at, note("four"))]);
    assert_eq!(tail.pending(), 0);

    // A crash leaves a torn line; the resumed writer cuts it and writes another in its place.
    let line4_hash = journal::chain::hash_of(&line[..line.len() - 1]).expect("sealed");
    raw.write_all(&journal::encode_event(5, at, &line4_hash, &note("lost")).expect("encode")[..25])
        .expect("write");
    drop(j);
    assert_eq!(tail.poll().expect("poll"), vec![]);
    let (mut j, replay) = Journal::open_append(&path, &holder()).expect("resume");
    assert!(replay.torn_tail.is_some());
    j.append(at, &note("a much longer line that replaces the torn one"))
        .expect("append");
    assert_eq!(
        tail.poll().expect("poll"),
        vec![(5, at, note("a much longer line that replaces the torn one"))]
    );

    // Following from the middle counts lines for its messages, and checks the chain from there.
    let mut mid = Tail::new(&path, replay.valid_len);
    assert_eq!(mid.poll().expect("poll").len(), 1);
    j.append(at, &note("six")).expect("append");
    assert_eq!(mid.poll().expect("poll"), vec![(6, at, note("six"))]);
}

#[test]
fn tail_reports_damage_after_returning_what_came_before() {
    use std::io::Write;
    let dir = Scratch::new("tail-damage");
    let path = dir.join("j.jsonl");
    let mut j = Journal::create(&path, &header(Mode::Drill)).expect("create");
    let mut tail = Tail::new(&path, 0);
    j.append(wall(t0()), &note("one")).expect("append");
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    raw.write_all(
        &journal::encode_event(3, wall(t0()), &j.chain_head(), &note("gap")).expect("encode"),
    )
    .expect("write");
    assert_eq!(tail.poll().expect("first the good line").len(), 1);
    let err = tail.poll().expect_err("then the gap");
    assert_eq!(err.line(), Some(3));
    assert!(tail.poll().is_err(), "and it stays");

    // A line whose link is wrong (seq right): refused with its line.
    let path = dir.join("k.jsonl");
    let mut j = Journal::create(&path, &header(Mode::Drill)).expect("create");
    let mut tail = Tail::new(&path, 0);
    let stale = j.chain_head();
    j.append(wall(t0()), &note("one")).expect("append");
    let mut raw = std::fs::OpenOptions::new()
        .append(true)
        .open(&path)
        .expect("open");
    raw.write_all(&journal::encode_event(2, wall(t0()), &stale, &note("forged")).expect("encode"))
        .expect("write");
    assert_eq!(tail.poll().expect("the good line").len(), 1);
    let err = tail.poll().expect_err("then the broken link");
    assert!(
        matches!(err, JournalError::Altered { line: 3, .. }),
        "{err}"
    );
}

#[test]
fn a_follower_polling_every_200_ms_keeps_up_within_a_second() {
    let dir = Scratch::new("follow");
    let path = dir.join("j.jsonl");
    let mut j = Journal::create(&path, &header(Mode::Drill)).expect("create");
    let (tx, rx) = std::sync::mpsc::channel::<(u64, Instant)>();
    let writer = std::thread::spawn(move || {
        for i in 0..15 {
            let seq = j
                .append(wall(t0()), &note(&format!("event {i}")))
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

/// Rewrites the version-2 fixture. Review the diff afterwards. (The version-1 fixtures are
/// frozen: nothing writes version 1 any more.)
#[test]
#[ignore = "rewrites tests/fixtures/journals/v2; run with --ignored when the format or the shipped playbooks change"]
fn regenerate_fixtures() {
    let root = Path::new(FIXTURES).join("v2");
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(&root).expect("dir");
    let complete = root.join("region-loss-drill.jsonl");
    let session = region_loss_drill(&complete, t0(), 60, 95.0);
    drop(session);
    let _ = std::fs::remove_file(journal::sidecar_path(&complete));
}

/// The committed fixtures are what this build reads (old journals stay readable).
#[test]
fn committed_fixtures_read_as_expected() {
    let complete = journal::read(&fixture("region-loss-drill.jsonl")).expect("complete");
    assert!(complete.is_finished());
    assert_eq!(complete.version(), 1);
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

    let v2 = journal::read(&v2_fixture()).expect("v2");
    assert_eq!(v2.version(), 2);
    assert!(v2.is_finished());
    assert_eq!(v2.header.host, "ops-1.example");
    assert!(!v2.read_only());
}

#[test]
fn version_1_reads_with_its_meanings() {
    let replay = journal::read(&fixture("region-loss-drill.jsonl")).expect("v1");
    let h = &replay.header;
    assert_eq!(h.version, 1);
    assert_eq!((h.host.as_str(), h.warroom_version.as_str()), ("", ""));
    assert!(!h.read_only && h.sim_started_at.is_none());
    assert_eq!(h.operator, "alice");
    // Its `at` was the session time: the stamp has no simulated time.
    assert!(replay.events.iter().all(|(_, s, _)| s.sim.is_none()));
    assert_eq!(replay.timeline()[0].0, t0());
    let resolved = replay
        .events
        .iter()
        .find_map(|(_, _, e)| match e {
            Event::Resolved {
                rto_achieved_secs,
                playbook_secs,
                rpo_achieved_secs,
                passed,
            } => Some((
                *rto_achieved_secs,
                *playbook_secs,
                *rpo_achieved_secs,
                *passed,
            )),
            _ => None,
        })
        .expect("resolved");
    // Version 1's `rto_achieved_secs` (1060) was declared -> resolved: the walk of the playbook.
    assert_eq!(resolved, (None, 1060, Some(95.0), true));
    let by: Vec<&str> = replay
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            Event::Confirmed { by, .. } => Some(by.as_str()),
            _ => None,
        })
        .collect();
    assert!(
        !by.is_empty() && by.iter().all(|b| b.is_empty()),
        "not recorded in v1"
    );
    replay
        .check_times(Path::new("v1"), chrono::Utc::now())
        .expect("a v1 drill in the past is not in the future");
}

// ----- the hash chain and verify ----------------------------------------------------------------

#[test]
fn verify_finds_a_one_byte_change_on_any_line() {
    let dir = Scratch::new("verify");
    let original = std::fs::read(v2_fixture()).expect("fixture");
    let path = dir.join("j.jsonl");
    std::fs::write(&path, &original).expect("write");
    let Verified::Intact {
        lines,
        torn_tail: None,
        ..
    } = journal::verify(&path).expect("verifies")
    else {
        panic!("the fixture is intact");
    };
    let starts: Vec<usize> = std::iter::once(0)
        .chain(
            original
                .iter()
                .enumerate()
                .filter(|(_, b)| **b == b'\n')
                .map(|(i, _)| i + 1),
        )
        .collect();
    assert_eq!(starts.len(), lines + 1, "every line ends with a newline");
    // The last line's newline replaced by another byte: a changed line, not a torn one (a crash
    // leaves a strict prefix of a line, never a whole one).
    for replacement in [b' ', b'x', b'}'] {
        let mut bytes = original.clone();
        let last = bytes.len() - 1;
        bytes[last] = replacement;
        std::fs::write(&path, &bytes).expect("write");
        match journal::verify(&path) {
            Ok(Verified::Bad { line: found, .. }) => assert_eq!(found, lines),
            other => panic!("newline -> {replacement:?}: not detected: {other:?}"),
        }
        let err = journal::read(&path).expect_err("read refuses");
        assert_eq!(err.line(), Some(lines), "{err}");
    }
    // A real torn tail (a prefix of the next line) is still only reported, not an alteration.
    let mut torn = original.clone();
    torn.extend_from_slice(b"{\"seq\":99,\"at\":\"2026-11-");
    std::fs::write(&path, &torn).expect("write");
    assert!(
        matches!(
            journal::verify(&path),
            Ok(Verified::Intact {
                torn_tail: Some(_),
                ..
            })
        ),
        "a torn tail is not an alteration"
    );
    let mut checked = 0;
    for (n, w) in starts.windows(2).enumerate() {
        let line = n + 1;
        let (start, end) = (w[0], w[1] - 1); // without the newline
        // The first byte, one in the middle, a digit of the hash, the last byte.
        for at in [start, (start + end) / 2, end - 10, end - 1] {
            let mut bytes = original.clone();
            bytes[at] = if bytes[at] == b'1' { b'2' } else { b'1' };
            std::fs::write(&path, &bytes).expect("write");
            match journal::verify(&path) {
                Ok(Verified::Bad { line: found, why }) => {
                    assert_eq!(found, line, "byte {at}: {why}");
                }
                other => panic!("line {line}, byte {at}: not detected: {other:?}"),
            }
            // Reading refuses it too, at that line: resume and report never use it.
            let err = journal::read(&path).expect_err("read refuses");
            assert_eq!(err.line(), Some(line), "byte {at}: {err}");
            checked += 1;
        }
    }
    assert_eq!(checked, lines * 4);
}

#[test]
fn verify_finds_lines_removed_or_moved() {
    let dir = Scratch::new("verify-moved");
    let original = std::fs::read(v2_fixture()).expect("fixture");
    let lines = lines_of(&original);
    let path = dir.join("j.jsonl");
    // Line 6 removed: line 6 (formerly 7) does not link to line 5.
    let mut removed = lines.clone();
    removed.remove(5);
    std::fs::write(&path, removed.concat()).expect("write");
    match journal::verify(&path).expect("reads") {
        Verified::Bad { line, why } => {
            assert_eq!(line, 6);
            assert!(why.contains("line 6's hash of line 5"), "{why}");
        }
        other => panic!("{other:?}"),
    }
    // Lines 8 and 9 swapped.
    let mut swapped = lines.clone();
    swapped.swap(7, 8);
    std::fs::write(&path, swapped.concat()).expect("write");
    assert!(matches!(
        journal::verify(&path).expect("reads"),
        Verified::Bad { line: 8, .. }
    ));
}

#[test]
fn warroom_verify_exit_codes_and_messages() {
    let dir = Scratch::new("verify-cli");
    let run = |path: &Path| {
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
            .arg("verify")
            .arg(path)
            .output()
            .expect("runs");
        (
            out.status.code(),
            String::from_utf8_lossy(&out.stdout).into_owned(),
            String::from_utf8_lossy(&out.stderr).into_owned(),
        )
    };
    let (code, out, _) = run(&v2_fixture());
    assert_eq!(code, Some(0), "{out}");
    assert_eq!(out.lines().count(), 1, "{out}");
    assert!(out.contains(": intact: "), "{out}");
    assert!(out.contains("chain head "), "{out}");

    let mut bytes = std::fs::read(v2_fixture()).expect("fixture");
    let seventh = lines_of(&bytes)[..6].iter().map(Vec::len).sum::<usize>();
    bytes[seventh + 3] = b'x';
    let altered = dir.join("altered.jsonl");
    std::fs::write(&altered, &bytes).expect("write");
    let (code, out, _) = run(&altered);
    assert_eq!(code, Some(1), "{out}");
    assert!(
        out.starts_with(&format!("{}:7: ", altered.display())),
        "{out}"
    );

    let (code, out, _) = run(&fixture("region-loss-drill.jsonl"));
    assert_eq!(code, Some(3), "{out}");
    assert!(out.contains("version 1 has no hash chain"), "{out}");
    let (code, out, _) = run(&fixture("broken/corrupt-middle.jsonl"));
    assert_eq!(code, Some(1), "a damaged v1 file: {out}");

    for name in [
        "broken/random.bin",
        "broken/missing.jsonl",
        "broken/empty.jsonl",
    ] {
        let (code, _, err) = run(&fixture(name));
        assert_eq!(code, Some(2), "{name}: {err}");
        assert!(err.contains("help: "), "{name}: {err}");
    }
}

// ----- the two clocks ----------------------------------------------------------------------------

/// Hand-made version-2 lines after `header_line`, chained, with the given stamps.
fn chained(header_line: &[u8], stamps: &[Stamp]) -> Vec<u8> {
    let mut out = header_line.to_vec();
    let mut prev =
        journal::chain::hash_of(&header_line[..header_line.len() - 1]).expect("sealed header");
    for (i, s) in stamps.iter().enumerate() {
        let line = journal::encode_event(i as u64 + 1, *s, &prev, &note(&format!("n{i}")))
            .expect("encode");
        prev = journal::chain::hash_of(&line[..line.len() - 1]).expect("sealed");
        out.extend_from_slice(&line);
    }
    out
}

#[test]
fn times_never_go_backwards() {
    let dir = Scratch::new("clocks");
    let bytes = v2_notes(&dir, 0);
    let p = Path::new("j.jsonl");
    let s = |wall: i64, sim: Option<i64>| Stamp {
        at: t0() + TimeDelta::seconds(wall),
        sim: sim.map(|x| t0() + TimeDelta::seconds(x)),
    };
    journal::decode(
        p,
        &chained(&bytes, &[s(1, Some(60)), s(1, Some(60)), s(2, None)]),
    )
    .expect("equal times and a missing sim are fine");
    let e = journal::decode(p, &chained(&bytes, &[s(5, None), s(9, None), s(8, None)]))
        .expect_err("wall clock back");
    assert!(
        matches!(
            e,
            JournalError::BackInTime {
                line: 4,
                clock: "at",
                ..
            }
        ),
        "{e}"
    );
    assert!(
        e.to_string()
            .starts_with("j.jsonl:4: time goes backwards: `at`"),
        "{e}"
    );
    let e = journal::decode(
        p,
        &chained(&bytes, &[s(1, Some(600)), s(2, None), s(3, Some(599))]),
    )
    .expect_err("simulated clock back");
    assert!(
        matches!(
            e,
            JournalError::BackInTime {
                line: 4,
                clock: "sim",
                ..
            }
        ),
        "{e}"
    );
    // Before the header's creation time.
    let e = journal::decode(p, &chained(&bytes, &[s(-1, None)])).expect_err("before the header");
    assert_eq!(e.line(), Some(2));

    // The writer clamps instead: a clock set back never writes an earlier time.
    let path = dir.join("clamped.jsonl");
    let mut j = Journal::create(&path, &header(Mode::Drill).sim_started_at(t0())).expect("create");
    j.append(s(10, Some(600)), &note("a")).expect("append");
    j.append(s(4, Some(590)), &note("clock set back"))
        .expect("append");
    j.append(s(11, None), &note("no sim")).expect("append");
    drop(j);
    let replay = journal::read(&path).expect("valid");
    let stamps: Vec<Stamp> = replay.events.iter().map(|e| e.1).collect();
    assert_eq!(stamps, [s(10, Some(600)), s(10, Some(600)), s(11, None)]);
}

#[test]
fn a_time_in_the_future_is_refused_with_its_line() {
    let dir = Scratch::new("future");
    let path = dir.join("j.jsonl");
    let mut j = Journal::create(&path, &header(Mode::Live)).expect("create");
    j.append(wall(t0()), &note("now")).expect("append");
    let far = chrono::NaiveDate::from_ymd_opt(9999, 1, 1)
        .and_then(|d| d.and_hms_opt(0, 0, 0))
        .expect("date")
        .and_utc();
    j.append(wall(far), &note("year 9999")).expect("append");
    drop(j);
    let replay = journal::read(&path).expect("decodes: the order is fine");
    let now = t0() + TimeDelta::hours(1);
    let err = replay.check_times(&path, now).expect_err("future");
    assert!(matches!(err, JournalError::Future { line: 3, .. }), "{err}");
    assert!(
        err.to_string().contains(":3: event time 9999-01-01"),
        "{err}"
    );
    // Within the tolerance for clock differences between hosts: accepted.
    let mut ok = replay.clone();
    ok.events.truncate(1);
    ok.check_times(&path, t0() - TimeDelta::seconds(60))
        .expect("a minute of skew is tolerated");
}

// ----- one writer ---------------------------------------------------------------------------------

#[test]
fn a_second_writer_is_refused_told_who_and_the_file_stays_valid() {
    let dir = Scratch::new("lock");
    let path = dir.join("j.jsonl");
    assert_eq!(journal::lock_holder(&path), None, "no file, no holder");
    let mut first = Journal::create(&path, &header(Mode::Drill)).expect("create");
    first.append(wall(t0()), &note("one")).expect("append");
    let before = std::fs::read(&path).expect("read");

    let held = journal::lock_holder(&path).expect("held");
    assert_eq!(held.pid, std::process::id());
    assert_eq!(held.operator, "bob");
    assert_eq!(held.host, header(Mode::Drill).host);

    // A second console on the same journal (its own open file description, as another process).
    let err = Journal::open_append(&path, &holder_alice()).expect_err("locked");
    match &err {
        JournalError::Locked {
            holder: Some(h), ..
        } => assert_eq!(h, &held),
        other => panic!("{other}"),
    }
    let text = err.to_string();
    assert!(
        text.contains(&format!("pid {} on host", std::process::id())),
        "{text}"
    );
    assert!(text.contains("(operator bob)"), "{text}");
    assert!(
        text.contains(&format!("warroom follow {}", path.display())),
        "{text}"
    );
    assert!(!err.is_write_failure());
    // Creating over it is refused as before, and nothing was written.
    assert!(Journal::create(&path, &header(Mode::Drill)).is_err());
    assert_eq!(std::fs::read(&path).expect("read"), before);
    // The first writer goes on; the file is valid.
    first
        .append(wall(t0()), &note("two"))
        .expect("still writes");
    assert_eq!(journal::read(&path).expect("valid").events.len(), 2);

    // Released on drop: the sidecar goes, the next console takes it.
    drop(first);
    assert_eq!(journal::lock_holder(&path), None);
    assert!(!journal::sidecar_path(&path).exists());
    let (mut next, _) = Journal::open_append(&path, &holder_alice()).expect("free now");
    assert_eq!(
        journal::lock_holder(&path).map(|h| h.operator),
        Some("alice".into())
    );
    next.append(wall(t0()), &note("three")).expect("append");
    drop(next);

    // A stale sidecar (its writer was killed: the kernel dropped the flock) means nothing.
    std::fs::write(
        journal::sidecar_path(&path),
        r#"{"host":"gone","pid":1,"operator":"ghost"}"#,
    )
    .expect("write");
    assert_eq!(journal::lock_holder(&path), None);
    let (j, _) = Journal::open_append(&path, &holder()).expect("a stale sidecar is not a lock");
    drop(j);
    assert!(matches!(
        journal::verify(&path).expect("verifies"),
        Verified::Intact { lines: 4, .. }
    ));
}

fn holder_alice() -> LockHolder {
    LockHolder {
        host: "ops-3.example".into(),
        pid: 777,
        operator: "alice".into(),
    }
}

#[test]
fn reading_and_following_create_and_write_no_file() {
    let dir = Scratch::new("readonly");
    let path = dir.join("j.jsonl");
    std::fs::copy(v2_fixture(), &path).expect("copy");
    let listing = || {
        let mut names: Vec<(String, u64)> = std::fs::read_dir(&dir.0)
            .expect("dir")
            .filter_map(Result::ok)
            .map(|e| {
                let len = e.metadata().map(|m| m.len()).unwrap_or(0);
                (e.file_name().to_string_lossy().into_owned(), len)
            })
            .collect();
        names.sort();
        names
    };
    let before = listing();
    let bytes = std::fs::read(&path).expect("read");
    let replay = journal::read(&path).expect("read");
    let mut tail = Tail::after(&path, &replay);
    let mut from_start = Tail::new(&path, 0);
    for _ in 0..3 {
        tail.poll().expect("poll");
        from_start.poll().expect("poll");
    }
    assert_eq!(journal::lock_holder(&path), None);
    journal::verify(&path).expect("verify");
    let _ = warroom::report::render_path(&path, warroom::report::Format::Markdown);
    assert_eq!(listing(), before);
    assert_eq!(std::fs::read(&path).expect("read"), bytes);
}

// ----- the documented contract -----------------------------------------------------------------

/// Every event kind a version-2 line can hold, as the schema's decoder names them (read off its
/// own "expected one of" list, so a new kind cannot slip by).
fn event_kinds() -> Vec<String> {
    let err = serde_json::from_str::<journal::schema_v2::EventV2>(r#"{"kind":"?"}"#)
        .expect_err("no such kind");
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
    // Format version 2. A kind added here is a format change: bump `journal::VERSION`, keep the
    // version-2 types as they are (reading old files), document the kind in docs/journal.md.
    assert_eq!(
        kinds,
        journal::schema_v2::KINDS,
        "the event kinds changed: bump journal::VERSION (see the versioning rule in docs/journal.md)"
    );
    assert_eq!(kinds.len(), 40);
    assert_eq!(VERSION, 2);
    let doc = std::fs::read_to_string("docs/journal.md").expect("docs/journal.md");
    for kind in &kinds {
        assert!(
            doc.contains(&format!("### `{kind}`")),
            "docs/journal.md has no section for `{kind}`"
        );
    }
    // Every field the header has (as written, optional ones included), nested ones dotted.
    let header = header(Mode::Drill).simulator(1, 1.0).sim_started_at(t0());
    let value = serde_json::to_value(&header).expect("json");
    let mut fields = vec!["sha256".to_string()];
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
    assert!(fields.len() > 20, "{fields:?}");
    for field in fields {
        assert!(
            doc.contains(&format!("| `{field}` |")),
            "docs/journal.md does not document header field `{field}`"
        );
    }
}

/// One event of every kind, with every optional field set.
fn one_of_each() -> Vec<Event> {
    use warroom::playbook::engine::{BackupEvidence, DbEvidence, RegionEvidence};
    use warroom::playbook::{Evidence, Outcome};
    use warroom::telemetry::{BackupStatus, DbRole, DbState, Verdict};
    let since = t0() + TimeDelta::seconds(30);
    let step = || "promote".to_string();
    vec![
        Event::FaultInjected {
            fault: "region-loss".into(),
        },
        Event::Disrupted {
            since,
            evidence: "fault region-loss injected".into(),
            reason: Some("first failed check was earlier".into()),
            by: Some("alice".into()),
        },
        Event::Detected {
            since,
            evidence: "primary DOWN: 3 failed health checks".into(),
        },
        Event::Declared {
            playbook: "region-loss".into(),
            title: "Complete regional failure".into(),
            hash: "d8e31d8a59c1660c".into(),
            rto_secs: 1800,
            rpo_secs: 300,
            read_only: false,
        },
        Event::StepStarted {
            step: step(),
            title: "Promote".into(),
            target_secs: 300,
        },
        Event::ChecklistTicked {
            step: step(),
            item: 0,
            text: "checked".into(),
            ticked: true,
        },
        Event::ConfirmRequested {
            step: step(),
            command: "db.promote db=dr-replica".into(),
        },
        Event::ConfirmCancelled { step: step() },
        Event::Confirmed {
            step: step(),
            attempt: 1,
            command: "db.promote db=dr-replica".into(),
            destructive: true,
            typed: Some("dr-replica".into()),
            evidence: Evidence {
                sample_at: Some(since),
                databases: vec![DbEvidence {
                    name: "dr-replica".into(),
                    role: DbRole::Replica,
                    state: DbState::FailingOver,
                    lag_secs: Some(4),
                    loss_window: Some(warroom::playbook::engine::LossWindow {
                        source: "primary".into(),
                        secs: 3.4,
                        source_lost_at: since,
                    }),
                    corrupt_since: None,
                }],
                backups: vec![BackupEvidence {
                    name: "snapshots".into(),
                    good_age_secs: Some(710),
                    status: BackupStatus::Overdue,
                    tainted: true,
                }],
                regions: vec![RegionEvidence {
                    name: "primary".into(),
                    verdict: Verdict::Down,
                    zones: vec![warroom::playbook::engine::ZoneEvidence {
                        zone: "us-west-2a".into(),
                        up: false,
                    }],
                    security: Some(warroom::playbook::engine::SecurityEvidence {
                        failed_auth_per_min: 4,
                        unusual_access: false,
                        peak_failed_auth_per_min: 180,
                        peak_at: Some(since),
                        unusual_access_last_seen: Some(since),
                    }),
                }],
            },
            by: "alice".into(),
        },
        Event::RestorePointChosen {
            step: step(),
            choice: warroom::recovery::RestoreTo::BeforeCorruption,
            point: since - TimeDelta::seconds(1),
            basis: warroom::recovery::Basis::PointInTime,
            backup_at: since - TimeDelta::minutes(6),
            onset: Some(since),
            loss_secs: Some(1.0),
            by: "alice".into(),
            picked: true,
        },
        Event::RpoCaptured {
            step: step(),
            seconds: Some(3.4),
            bytes: Some(81_920),
            window_from: Some(since - TimeDelta::milliseconds(3400)),
            window_to: Some(since),
            measured_from: "replay LSN of dr-replica against the primary's last WAL".into(),
        },
        Event::Output {
            step: step(),
            attempt: 1,
            line: "promoting".into(),
        },
        Event::Verifying {
            step: step(),
            condition: "dr-replica is primary".into(),
            timeout_secs: 600,
        },
        Event::StepFinished {
            step: step(),
            outcome: Outcome::Done,
            detail: "dr-replica is primary".into(),
            verified: true,
            elapsed_secs: 40,
            target_secs: 300,
        },
        Event::ServiceRestored {
            step: step(),
            since,
        },
        Event::Skipped {
            step: step(),
            reason: "done by hand".into(),
        },
        Event::Retried { step: step() },
        Event::TargetExceeded {
            step: step(),
            target_secs: 300,
        },
        Event::RtoRisk {
            at_risk: true,
            projected_secs: 2000,
            rto_secs: 1800,
        },
        Event::Note {
            text: "a note".into(),
        },
        Event::ConsoleClosed {
            by: "alice".into(),
            signal: Some("SIGTERM".into()),
        },
        Event::Resumed {
            gap_secs: 95,
            host: "ops-1.example".into(),
            operator: "alice".into(),
            pid: 4242,
        },
        Event::ClockPaused {},
        Event::ClockResumed { paused_secs: 250 },
        Event::SpeedChanged {
            from: 1.0,
            to: 60.0,
            reason: warroom::playbook::SpeedReason::FastForward,
            step: Some(step()),
        },
        Event::ReminderDone {
            text: "Post a status update".into(),
            occurrence: 1,
            due: since,
            late_secs: 40,
        },
        Event::ReminderMissed {
            text: "Post a status update".into(),
            occurrence: 3,
            due: since,
            missed: 2,
        },
        Event::Aborted {
            reason: "drill stopped".into(),
        },
        Event::Resolved {
            rto_achieved_secs: Some(1300),
            playbook_secs: 1060,
            rpo_achieved_secs: Some(3.4),
            passed: true,
        },
        // Added later: at the end, so the lines pinned before them keep their bytes.
        Event::ItemNotApplicable {
            step: step(),
            item: 1,
            text: "The status page is updated".into(),
            reason: "no status page in drills".into(),
        },
        Event::ItemApplicable {
            step: step(),
            item: 1,
            text: "The status page is updated".into(),
        },
        Event::MessageEdited {
            step: step(),
            message: "[DRILL] INCIDENT: primary lost.\nNEXT UPDATE: 30 minutes".into(),
        },
        // The shared war room (issue 11).
        Event::SharedNote {
            text: "customer comms sent".into(),
            milestone: true,
            by: signed("r1", "scribe"),
        },
        Event::RequestRefused {
            request: "r2".into(),
            principal: Some("mallory@example".into()),
            reason: "key SHA256:x is not in the roster".into(),
        },
        Event::ApprovalArmed {
            step: step(),
            attempt: 1,
            command: "db.promote db=dr-replica (pynomaly-dr)".into(),
            resource: "dr-replica".into(),
            evidence: warroom::playbook::Evidence::default(),
            needed: 1,
            by: "alice@example".into(),
            key: "SHA256:alice".into(),
            armed: "ab".repeat(32),
            signed: "{\"incident\":\"i\"}".into(),
            signature: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n"
                .into(),
        },
        Event::Approved {
            step: step(),
            armed: "ab".repeat(32),
            by: signed("r3", "approver"),
        },
        // The HA interlock (issue 12).
        Event::FailoverPaused {
            step: "ha-pause".into(),
            db: "dr-replica".into(),
            by: "alice@example".into(),
        },
        Event::AbortHeld {
            reason: "wrong runbook".into(),
            by: "alice@example".into(),
        },
        Event::FailoverResumed {
            step: "ha-resume".into(),
            db: "dr-replica".into(),
            by: "alice@example".into(),
        },
        Event::FailoverLeftPaused {
            step: "ha-resume".into(),
            db: "dr-replica".into(),
            reason: "the old primary is being rebuilt".into(),
            by: "alice@example".into(),
        },
    ]
}

fn signed(request: &str, role: &str) -> warroom::playbook::Signed {
    warroom::playbook::Signed {
        request: request.into(),
        principal: "bob@example".into(),
        role: role.into(),
        key: "SHA256:bob".into(),
        sequence: 12,
        signed: "{\"incident\":\"i\"}".into(),
        signature: "-----BEGIN SSH SIGNATURE-----\nU1NIU0lH\n-----END SSH SIGNATURE-----\n".into(),
    }
}

/// The bytes of every kind of line are pinned: a change to the engine's `Event` (or to serde)
/// that would change the file fails here (and the conversions in schema_v2.rs stop the build
/// first for a new variant).
#[test]
fn version_2_lines_are_pinned_for_every_kind() {
    let events = one_of_each();
    let mut kinds: Vec<String> = events
        .iter()
        .map(|e| warroom::playbook::engine::event_kind(e).to_string())
        .collect();
    kinds.sort();
    let mut expected: Vec<String> = journal::schema_v2::KINDS
        .iter()
        .map(|k| k.to_string())
        .collect();
    expected.sort();
    assert_eq!(kinds, expected, "one of each kind");

    let stamp = Stamp {
        at: t0(),
        sim: Some(t0() + TimeDelta::hours(2)),
    };
    let mut prev = journal::Hex::parse(&[b'0'; 64]).expect("hex");
    let mut text = String::new();
    for (i, event) in events.iter().enumerate() {
        let line = journal::encode_event(i as u64 + 1, stamp, &prev, event).expect("encode");
        prev = journal::chain::hash_of(&line[..line.len() - 1]).expect("sealed");
        text.push_str(&String::from_utf8(line).expect("utf8"));
    }
    insta::assert_snapshot!("v2_every_kind", text);
    // And they read back as the same events.
    let mut bytes = journal::encode_header(&header(Mode::Drill)).expect("header");
    let header_hash = journal::chain::hash_of(&bytes[..bytes.len() - 1]).expect("sealed header");
    let mut prev = header_hash;
    for (i, event) in events.iter().enumerate() {
        let line = journal::encode_event(i as u64 + 1, stamp, &prev, event).expect("encode");
        prev = journal::chain::hash_of(&line[..line.len() - 1]).expect("sealed");
        bytes.extend_from_slice(&line);
    }
    let replay = journal::decode(Path::new("every.jsonl"), &bytes).expect("decodes");
    let back: Vec<Event> = replay.events.into_iter().map(|e| e.2).collect();
    assert_eq!(back, events);
}

#[test]
fn a_header_speed_beyond_what_the_simulator_runs_is_refused() {
    let dir = Scratch::new("speed");
    let original = std::fs::read_to_string(v2_fixture()).expect("fixture");
    let header = original.lines().next().expect("header");
    assert!(header.contains("\"speed\":60.0"), "{header}");
    for bad in ["1e300", "0", "-5", "\"fast\""] {
        // Version 1 has no hash to break: the speed check alone must refuse it.
        let v1 = header
            .replacen("\"version\":2", "\"version\":1", 1)
            .replacen("\"speed\":60.0", &format!("\"speed\":{bad}"), 1);
        let path = dir.join("j.jsonl");
        std::fs::write(&path, format!("{v1}\n")).expect("write");
        let err = journal::read(&path).expect_err("refused");
        assert_eq!(err.line(), Some(1), "{bad}: {err}");
        assert!(
            err.to_string().contains("\"speed\" must be a number"),
            "{bad}: {err}"
        );
    }
}

#[test]
fn the_lock_sidecar_never_writes_through_a_planted_link() {
    let dir = Scratch::new("sidecar-link");
    let path = dir.join("incident.jsonl");
    let victim = dir.join("victim.txt");
    std::fs::write(&victim, "keep me\n").expect("victim");
    std::os::unix::fs::symlink(&victim, journal::sidecar_path(&path)).expect("plant link");
    // The journal is still created and locked (the sidecar is only a courtesy) ...
    let j = Journal::create(&path, &header(Mode::Live)).expect("create");
    // ... and the file the link points at is untouched.
    assert_eq!(
        std::fs::read_to_string(&victim).expect("victim"),
        "keep me\n"
    );
    drop(j);
}

#[test]
fn a_version_1_incident_is_continued_in_a_version_2_journal_beside_it() {
    let dir = Scratch::new("continue-v1");
    // An unfinished version-1 drill: the fixture cut before its end.
    let full = std::fs::read_to_string(fixture("region-loss-drill.jsonl")).expect("fixture");
    let cut: String = full.lines().take(25).map(|l| format!("{l}\n")).collect();
    let v1 = dir.join("2026-11-22T0312Z-region-loss-drill.jsonl");
    std::fs::write(&v1, &cut).expect("write");
    let old = journal::read(&v1).expect("v1 reads");
    assert_eq!(old.header.version, 1);
    let holder = LockHolder::this_process("bob");
    let now = t0() + TimeDelta::days(30);
    let (mut j, replay) = Journal::continue_version_1(&v1, &holder, now).expect("continued");
    // Beside it, chained, naming the older file and its hash; the older file untouched.
    assert_eq!(j.path(), journal::continuation_path(&v1));
    assert_eq!(std::fs::read_to_string(&v1).expect("v1"), cut);
    assert_eq!(replay.header.version, journal::VERSION);
    let c = replay.header.continues.as_ref().expect("continues");
    assert_eq!(c.file, "2026-11-22T0312Z-region-loss-drill.jsonl");
    assert_eq!(c.events, old.events.len() as u64);
    assert_eq!(c.sha256.len(), 64);
    // The same incident: the engine replays the same events at the same session times.
    assert_eq!(replay.timeline(), old.timeline());
    // A simulated drill's wall-clock times are estimates, never later than now, in order.
    assert!(
        replay
            .events
            .iter()
            .all(|(_, s, _)| s.at <= now && s.sim.is_some())
    );
    j.append(wall(now), &note("resumed by a newer warroom"))
        .expect("appends");
    assert!(matches!(
        journal::verify(j.path()).expect("verifies"),
        Verified::Intact { .. }
    ));
    // While it is held, a second console is refused; afterwards it opens the same continuation.
    let second = Journal::continue_version_1(&v1, &holder, now);
    assert!(
        matches!(second, Err(JournalError::Locked { .. })),
        "{second:?}"
    );
    drop(j);
    let (_again, replay) = Journal::continue_version_1(&v1, &holder, now).expect("reopened");
    assert_eq!(replay.events.len(), old.events.len() + 1);
    // History counts the incident once: the continuation stands for the older file.
    let h = warroom::history::scan(&dir.0).expect("scan");
    assert_eq!(
        h.rows.len(),
        1,
        "{:?}",
        h.rows.iter().map(|r| &r.path).collect::<Vec<_>>()
    );
    assert_eq!(h.rows[0].path, journal::continuation_path(&v1));
}
