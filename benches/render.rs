//! Full-frame render of the console at 200x60 with every pane busy (region loss in progress,
//! a full lag history). Goal: at most 0.17 ms a frame (1% of a 60 Hz frame).

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group};
use ratatui::{Terminal, backend::TestBackend};

use warroom::app::{App, Mode};
use warroom::env::Environment;
use warroom::sim::{Fault, Sim};
use warroom::telemetry::Board;
use warroom::telemetry::sim::sample_into;
use warroom::telemetry::source::Feeds;
use warroom::theme::Theme;

fn busy_app() -> App {
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time");
    let env = Environment::demo();
    let mut sim = Sim::new(&env, 7, t0);
    let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(15));
    let at = |i: i64| t0 + TimeDelta::seconds(5 * i);
    sample_into(&mut board, &mut sim, (0..100).map(at));
    sim.inject(Fault::RegionLoss, at(100)).expect("inject");
    sim.inject(Fault::Breach, at(100)).expect("inject");
    sample_into(&mut board, &mut sim, (100..160).map(at));
    App::new(env, Mode::Demo, Theme::fallback(), board, at(160), 60.0)
}

fn render(c: &mut Criterion) {
    let app = busy_app();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    c.bench_function("full_frame_200x60_busy", |b| {
        b.iter(|| {
            terminal
                .draw(|f| warroom::ui::draw(f, std::hint::black_box(&app)))
                .expect("draw");
        });
    });
}

/// The floor: what ratatui itself costs for a 200x60 frame with nothing drawn (buffer reset and
/// diff), so the figure above can be read as "ours + this".
fn empty_frame(c: &mut Criterion) {
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    c.bench_function("empty_frame_200x60", |b| {
        b.iter(|| {
            terminal.draw(|_| {}).expect("draw");
        });
    });
}

/// The console during a region-loss drill at 200x60: the playbook view (promotion confirmed,
/// timeline filling) beside the three busy panes.
fn playbook_frame(c: &mut Criterion) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use warroom::app::Action;
    let mut app = busy_app();
    let env = Environment::demo();
    let pb = warroom::playbook::find("region-loss", std::path::Path::new("playbooks"), &env)
        .expect("playbook");
    app.start_incident(pb);
    let key = |app: &mut App, code| {
        app.update(Action::Key(KeyEvent::from(code)));
    };
    key(&mut app, KeyCode::Enter);
    for _ in 0..2 {
        for _ in 0..4 {
            key(&mut app, KeyCode::Char(' '));
            key(&mut app, KeyCode::Char('j'));
        }
        key(&mut app, KeyCode::Enter);
    }
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    c.bench_function("playbook_frame_200x60", |b| {
        b.iter(|| {
            terminal
                .draw(|f| warroom::ui::draw(f, std::hint::black_box(&app)))
                .expect("draw");
        });
    });
}

/// A simulated fleet: `regions` regions of three zones, each with one primary and
/// `dbs_per_region - 1` replicas of it and `backups_per_region` backup series; the last region
/// is down from the start, one zone of the first is down, a replica link in every region is
/// broken and a backup series of every region is failing.
fn fleet_toml(regions: usize, dbs_per_region: usize, backups_per_region: usize) -> String {
    use std::fmt::Write as _;
    let mut s =
        String::from("name = \"fleet-bench\"\nobjectives = { rto = \"30m\", rpo = \"5m\" }\n");
    for r in 0..regions {
        let id = format!("zz-region-{r}");
        let zones = [format!("{id}a"), format!("{id}b"), format!("{id}c")];
        let down = if r + 1 == regions {
            format!(
                "sim = {{ zones_down = [\"{}\", \"{}\", \"{}\"] }}\n",
                zones[0], zones[1], zones[2]
            )
        } else if r == 0 {
            format!("sim = {{ zones_down = [\"{}\"] }}\n", zones[2])
        } else {
            String::new()
        };
        let _ = write!(
            s,
            "[[regions]]\nname = \"r{r:02}\"\nid = \"{id}\"\nrole = \"{}\"\nzones = [\"{}\", \"{}\", \"{}\"]\nhealth = [\"https://api.{id}.example/health\"]\n{down}\n",
            if r == 0 { "primary" } else { "dr" },
            zones[0],
            zones[1],
            zones[2]
        );
    }
    for r in 0..regions {
        let _ = write!(
            s,
            "[[databases]]\nname = \"r{r:02}-db-0\"\nregion = \"r{r:02}\"\nmulti_az = true\nsim = {{ resource = \"fleet-r{r:02}-db-0\" }}\n\n"
        );
        for d in 1..dbs_per_region {
            let broken = if d == 3 { ", broken_for = \"12m\"" } else { "" };
            let _ = write!(
                s,
                "[[databases]]\nname = \"r{r:02}-db-{d}\"\nregion = \"r{r:02}\"\nreplica_of = \"r{r:02}-db-0\"\nsim = {{ resource = \"fleet-r{r:02}-db-{d}\"{broken} }}\n\n"
            );
        }
        for b in 0..backups_per_region {
            let (kind, every, extra) = match b % 3 {
                0 => (
                    "RDS snapshot",
                    "15m",
                    if b == 0 { "failing_for = \"1h\"" } else { "" },
                ),
                1 => ("WAL archive", "5m", ""),
                _ => ("pg_dump", "24h", "at = \"02:00\""),
            };
            let _ = write!(
                s,
                "[[backups]]\nname = \"r{r:02}-backup-{b}\"\nkind = \"{kind}\"\nevery = \"{every}\"\nsim = {{ {extra} }}\n\n"
            );
        }
    }
    let _ = write!(
        s,
        "[[dns]]\nname = \"api\"\nrecord = \"api.example\"\npoints_to = \"r00\"\nsim = {{}}\n\n[[apps]]\nname = \"api\"\nreplicas = {{ r00 = 3 }}\nsim = {{}}\n"
    );
    s
}

/// The fleet of issue 13 (item 10) at 200x60: 200 databases (180 replicas), 200 backup series,
/// 20 regions, a region down and problems in every pane, a full lag history; with the selection
/// on a row in the middle of each pane, and once with a filter.
fn fleet_app() -> App {
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use warroom::app::Action;
    let t0 = Utc
        .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time");
    let env = Environment::parse("<fleet bench>", &fleet_toml(20, 10, 10)).expect("fleet env");
    assert_eq!(
        (env.databases.len(), env.backups.len(), env.regions.len()),
        (200, 200, 20)
    );
    let mut sim = Sim::new(&env, 7, t0);
    let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(15));
    let at = |i: i64| t0 + TimeDelta::seconds(5 * i);
    sample_into(&mut board, &mut sim, (0..160).map(at));
    let mut app = App::new(env, Mode::Demo, Theme::fallback(), board, at(160), 60.0);
    let key = |app: &mut App, code| {
        app.update(Action::Key(KeyEvent::from(code)));
    };
    // A selected row half-way down each pane (the tables scroll to it).
    for _ in 0..3 {
        for _ in 0..50 {
            key(&mut app, KeyCode::Char('j'));
        }
        key(&mut app, KeyCode::Tab);
    }
    app
}

/// The fleet frame with a filter on the lag pane.
fn filter_lag(app: &mut App) {
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use warroom::app::Action;
    let key = |app: &mut App, code| {
        app.update(Action::Key(KeyEvent::from(code)));
    };
    key(app, KeyCode::Char('/'));
    for ch in "r1".chars() {
        key(app, KeyCode::Char(ch));
    }
    key(app, KeyCode::Enter);
}

fn fleet_frame(c: &mut Criterion) {
    let mut app = fleet_app();
    let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
    terminal.draw(|f| warroom::ui::draw(f, &app)).expect("draw");
    let screen = format!("{:?}", terminal.backend().buffer());
    assert!(screen.contains("Replica lag · "), "problems counted");
    c.bench_function("fleet_frame_200x60", |b| {
        b.iter(|| {
            terminal
                .draw(|f| warroom::ui::draw(f, std::hint::black_box(&app)))
                .expect("draw");
        });
    });
    filter_lag(&mut app);
    c.bench_function("fleet_frame_200x60_filtered", |b| {
        b.iter(|| {
            terminal
                .draw(|f| warroom::ui::draw(f, std::hint::black_box(&app)))
                .expect("draw");
        });
    });
}

criterion_group!(benches, render, empty_frame, playbook_frame, fleet_frame);

/// `WARROOM_BENCH_FRAMES=SCENE:N` (SCENE: empty, busy, fleet, fleet-filtered) draws that scene N
/// times and exits, for instruction counts that do not depend on the machine's load:
/// `valgrind --tool=callgrind` with N = 1 and N = 101, `(I(101) - I(1)) / 100` instructions a
/// frame. Otherwise: criterion.
fn main() {
    if let Ok(spec) = std::env::var("WARROOM_BENCH_FRAMES") {
        let (scene, n) = spec.split_once(':').expect("SCENE:N");
        let n: usize = n.parse().expect("a number of frames");
        let app = match scene {
            "busy" | "empty" => busy_app(),
            "fleet" => fleet_app(),
            "fleet-filtered" => {
                let mut app = fleet_app();
                filter_lag(&mut app);
                app
            }
            other => panic!("unknown scene {other}"),
        };
        let mut terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
        for _ in 0..n {
            if scene == "empty" {
                terminal.draw(|_| {}).expect("draw");
            } else {
                terminal
                    .draw(|f| warroom::ui::draw(f, std::hint::black_box(&app)))
                    .expect("draw");
            }
        }
        return;
    }
    benches();
    Criterion::default().configure_from_args().final_summary();
}
