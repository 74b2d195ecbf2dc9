//! Full-frame render of the console at 200x60 with every pane busy (region loss in progress,
//! a full lag history). Goal: at most 0.17 ms a frame (1% of a 60 Hz frame).

use chrono::{TimeDelta, TimeZone, Utc};
use criterion::{Criterion, criterion_group, criterion_main};
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

criterion_group!(benches, render, empty_frame, playbook_frame);
criterion_main!(benches);
