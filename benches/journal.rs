//! Journal figures. Goal: replaying (read + parse + validate) a 100,000-event journal in under
//! 200 ms. Appending one event includes its fsync, so that figure is the disk's.
//!
//! `cargo bench --bench journal`. The 100,000 events repeat the committed complete drill
//! (`tests/fixtures/journals/v2/region-loss-drill.jsonl`): checklist ticks, confirmations with
//! their evidence, output lines, waits, step ends, in the proportions of a real drill. The replay
//! checks every line's SHA-256 and link (format version 2).

use std::io::Write;
use std::path::{Path, PathBuf};

use chrono::TimeDelta;
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use warroom::journal::{self, Journal, LockHolder, Stamp};
use warroom::playbook::Event;

const EVENTS: usize = 100_000;

const FIXTURE: &str = "tests/fixtures/journals/v2/region-loss-drill.jsonl";

/// The scratch directory: `$WARROOM_BENCH_DIR` (put it on the disk journals live on: the fsync
/// figure is that disk's), else the system temp directory.
fn scratch() -> PathBuf {
    let base = std::env::var_os("WARROOM_BENCH_DIR").map_or_else(std::env::temp_dir, PathBuf::from);
    let dir = base.join(format!("warroom-bench-journal-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("scratch dir");
    dir
}

/// Writes a journal of `EVENTS` events (the fixture's, repeated, a day apart) and returns its
/// path and size in bytes.
fn big_journal(dir: &Path) -> (PathBuf, u64) {
    let fixture = Path::new(FIXTURE);
    let drill = journal::read(fixture).expect("the committed fixture reads");
    let path = dir.join("big.jsonl");
    let mut out = std::io::BufWriter::new(std::fs::File::create(&path).expect("create"));
    let header = journal::encode_header(&drill.header).expect("header");
    out.write_all(&header).expect("write");
    let mut prev = journal::chain::hash_of(&header[..header.len() - 1]).expect("sealed");
    let mut seq = 0u64;
    'outer: for round in 0.. {
        for (_, stamp, event) in &drill.events {
            if seq as usize == EVENTS {
                break 'outer;
            }
            seq += 1;
            let day = TimeDelta::days(round);
            let stamp = Stamp {
                at: stamp.at + day,
                sim: stamp.sim.map(|s| s + day),
            };
            let line = journal::encode_event(seq, stamp, &prev, event).expect("event");
            prev = journal::chain::hash_of(&line[..line.len() - 1]).expect("sealed");
            out.write_all(&line).expect("write");
        }
    }
    out.flush().expect("flush");
    let size = std::fs::metadata(&path).expect("size").len();
    (path, size)
}

fn journal_benches(c: &mut Criterion) {
    let dir = scratch();
    let (path, size) = big_journal(&dir);
    println!(
        "replay input: {EVENTS} events, {:.1} MB",
        size as f64 / 1_000_000.0
    );

    let mut group = c.benchmark_group("journal");
    group.sample_size(10);
    // The replay is dropped outside the timing: what is measured is read + parse + validate.
    group.bench_function("replay_100k_events", |b| {
        b.iter_with_large_drop(|| {
            let replay = journal::read(std::hint::black_box(&path)).expect("valid");
            assert_eq!(replay.events.len(), EVENTS);
            replay
        });
    });
    let replay = journal::read(&path).expect("valid");
    group.bench_function("report_build_100k_events", |b| {
        b.iter_with_large_drop(|| warroom::report::build(std::hint::black_box(&replay)));
    });
    group.finish();

    let mut group = c.benchmark_group("journal_append");
    group.sample_size(50);
    let header = replay.header.clone();
    let note = Event::Note {
        text: "Old primary fenced: ingress revoked on sg-0a1b".into(),
    };
    let at = Stamp {
        at: header.started_at,
        sim: None,
    };
    let appended = dir.join("append.jsonl");
    let mut j = Journal::create(&appended, &header).expect("create");
    group.bench_function("append_one_event_with_fsync", |b| {
        b.iter(|| j.append(at, std::hint::black_box(&note)).expect("append"));
    });
    let three = [note.clone(), note.clone(), note.clone()];
    group.bench_function("append_three_events_one_fsync", |b| {
        b.iter(|| j.append_all(three.iter().map(|e| (at, e))).expect("append"));
    });
    drop(j);
    let holder = LockHolder::this_process("bench");
    group.bench_function("open_append_small_journal", |b| {
        b.iter_batched(
            || {
                let p = dir.join("small.jsonl");
                std::fs::copy(FIXTURE, &p).expect("copy");
                p
            },
            |p| Journal::open_append(&p, &holder).expect("opens"),
            BatchSize::PerIteration,
        );
    });
    group.finish();
    let _ = std::fs::remove_dir_all(&dir);
}

criterion_group!(benches, journal_benches);
criterion_main!(benches);
