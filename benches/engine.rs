//! The playbook engine on a 1,000-step playbook: a whole incident walked step by step (declare,
//! tick the checklist, complete), and a tick (timers and waits) in the middle of it.

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{BatchSize, Criterion, criterion_group, criterion_main};

use warroom::env::Environment;
use warroom::playbook::{self, Engine, EngineSettings, Input};
use warroom::sim::Sim;

const STEPS: usize = 1000;

fn big_playbook_source() -> String {
    let mut src = String::from(
        "id = \"big\"\ntitle = \"A thousand steps\"\nscenario = \"custom\"\nsummary = \"bench\"\nrto = \"100h\"\nrpo = \"5m\"\n",
    );
    for i in 0..STEPS {
        src.push_str(&format!(
            "\n[[steps]]\nid = \"s{i}\"\ntitle = \"Step {i}\"\ntarget = \"5m\"\nguide = \"Check the thing.\"\nchecklist = [\"it is done\"]\n"
        ));
        if i % 10 == 9 {
            src.push_str("wait = { db = \"dr-replica\", lag_under = \"60s\", timeout = \"5m\" }\n");
        }
    }
    src
}

fn engine(c: &mut Criterion) {
    let env = Environment::demo();
    let src = big_playbook_source();
    let pb = playbook::parse("big.toml", &src, &env).expect("valid playbook");
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time");
    let mut sim = Sim::new(&env, 1, t0);
    sim.advance(t0);
    let sample = sim.sample();

    c.bench_function("engine_walk_1000_steps", |b| {
        b.iter_batched(
            || Engine::new(pb.clone(), EngineSettings::new(&pb, env.clone())),
            |mut e| {
                let mut now = t0;
                e.handle(Input::Declare, now);
                for step in 0..STEPS {
                    now += TimeDelta::seconds(1);
                    e.handle(Input::ToggleItem { step, item: 0 }, now);
                    e.handle(Input::Complete { step }, now);
                    e.tick(now, &sample);
                }
                assert!(e.is_finished());
                e
            },
            BatchSize::LargeInput,
        );
    });

    let mut mid = Engine::new(pb.clone(), EngineSettings::new(&pb, env.clone()));
    let mut now = t0;
    mid.handle(Input::Declare, now);
    for step in 0..STEPS / 2 {
        now += TimeDelta::seconds(1);
        mid.handle(Input::ToggleItem { step, item: 0 }, now);
        mid.handle(Input::Complete { step }, now);
        mid.tick(now, &sample);
    }
    c.bench_function("engine_tick_mid_1000_steps", |b| {
        b.iter(|| mid.tick(now, std::hint::black_box(&sample)));
    });
    c.bench_function("engine_rto_projection_1000_steps", |b| {
        b.iter(|| std::hint::black_box(mid.rto(now)));
    });
}

criterion_group!(benches, engine);
criterion_main!(benches);
