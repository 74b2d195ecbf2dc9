//! Whole-screen snapshots of the console on the simulator: healthy and under each scenario fault,
//! at 80x24 and 160x48, plus the too-small message. Deterministic: fixed seed and fixed times.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ratatui::{Terminal, backend::TestBackend};

use warroom::app::{App, Mode};
use warroom::env::Environment;
use warroom::sim::{Fault, Sim};
use warroom::telemetry::Board;
use warroom::telemetry::sim::sample_into;
use warroom::telemetry::source::Feeds;
use warroom::theme::Theme;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time")
}

/// Two healthy minutes, then `fault`, then 45 s more, sampled every 5 s like a poller would.
fn app_with(fault: Option<Fault>) -> App {
    let env = Environment::demo();
    let mut sim = Sim::new(&env, 7, t0());
    let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(15));
    let at = |i: i64| t0() + TimeDelta::seconds(5 * i);
    sample_into(&mut board, &mut sim, (0..24).map(at));
    if let Some(f) = &fault {
        sim.inject(f.clone(), at(24)).expect("inject");
    }
    sample_into(&mut board, &mut sim, (24..=33).map(at));
    let mut app = App::new(env, Mode::Demo, Theme::fallback(), board, at(33), 60.0);
    if let Some(f) = fault {
        app.faults.push((at(24), f.to_string()));
    }
    app
}

fn render(app: &App, width: u16, height: u16) -> Terminal<TestBackend> {
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test terminal");
    terminal.draw(|f| warroom::ui::draw(f, app)).expect("draw");
    terminal
}

fn screen_text(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    let mut out = String::new();
    for y in 0..buf.area.height {
        for x in 0..buf.area.width {
            out.push_str(buf[(x, y)].symbol());
        }
        out.push('\n');
    }
    out
}

macro_rules! screens {
    ($($name:ident: $fault:expr,)*) => {$(
        #[test]
        fn $name() {
            let app = app_with($fault);
            for (w, h) in [(80, 24), (160, 48)] {
                let terminal = render(&app, w, h);
                insta::assert_snapshot!(format!("{}_{w}x{h}", stringify!($name)), terminal.backend());
            }
        }
    )*};
}

screens! {
    screen_healthy: None,
    screen_az_loss: Some(Fault::AzLoss { zone: None }),
    screen_region_loss: Some(Fault::RegionLoss),
    screen_corruption: Some(Fault::Corruption),
    screen_breach: Some(Fault::Breach),
}

#[test]
fn every_size_shows_the_three_titles_and_the_badge() {
    let app = app_with(None);
    for (w, h) in [(80, 24), (160, 48), (72, 20), (200, 60)] {
        let text = screen_text(&render(&app, w, h));
        for title in ["Replica lag", "Backups", "Regions", "DEMO"] {
            assert!(text.contains(title), "{title} missing at {w}x{h}:\n{text}");
        }
    }
}

#[test]
fn region_loss_shows_the_primary_region_down() {
    let text = screen_text(&render(&app_with(Some(Fault::RegionLoss)), 160, 48));
    let line = text
        .lines()
        .find(|l| l.contains("primary") && l.contains("us-west-2a"))
        .expect("primary region heading");
    assert!(line.contains("DOWN"), "{line}");
}

#[test]
fn too_small_says_how_big() {
    let app = app_with(None);
    for (w, h) in [(40, 10), (71, 24), (80, 19), (1, 1)] {
        let terminal = render(&app, w, h);
        if w >= 30 {
            let text = screen_text(&terminal);
            assert!(
                text.contains("Enlarge to at least 72x20"),
                "{w}x{h}:\n{text}"
            );
        }
    }
    insta::assert_snapshot!("too_small_40x10", render(&app, 40, 10).backend());
}

#[test]
fn help_and_fault_menu_overlays() {
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use warroom::app::Action;
    let mut app = app_with(None);
    app.update(Action::Key(KeyEvent::from(KeyCode::Char('?'))));
    insta::assert_snapshot!("help_80x24", render(&app, 80, 24).backend());
    app.update(Action::Key(KeyEvent::from(KeyCode::Esc)));
    app.update(Action::Key(KeyEvent::from(KeyCode::Char('f'))));
    insta::assert_snapshot!("fault_menu_80x24", render(&app, 80, 24).backend());
}

/// The bar's items are whole or absent, and a space always parts them from the keys' hint: a
/// newcomer read `FAST-FORWARD 60xv view` and `10×? help` at 80 columns.
#[test]
fn the_status_bar_cuts_no_word_and_keeps_a_space_before_the_keys() {
    let mut app = app_with(None);
    app.mode = Mode::Drill;
    let pb = warroom::playbook::SHIPPED
        .iter()
        .find(|(id, _)| *id == "corruption")
        .map(|(_, src)| *src)
        .expect("shipped");
    let pb = warroom::playbook::parse("<shipped>/corruption.toml", pb, &app.env).expect("valid");
    app.start_incident(pb);
    for fast in [false, true] {
        app.pace.fast_forward = fast.then_some(warroom::app::pace::FastForward {
            step: 0,
            from: 1.0,
            ending: false,
        });
        for width in [72u16, 80, 100, 119, 140, 200] {
            let terminal = render(&app, width, 24);
            let bar = screen_text(&terminal)
                .lines()
                .next()
                .unwrap_or_default()
                .to_string();
            let keys = bar.find("? help").expect("the keys' hint");
            let before = bar[..keys].trim_end_matches(' ');
            assert!(bar[..keys].ends_with(' '), "{width}: {bar:?}");
            if fast {
                assert!(bar.contains(" FAST-FORWARD 60x "), "{width}: {bar:?}");
                assert!(!bar.contains("60×"), "said twice: {width}: {bar:?}");
            }
            // Whatever is shown ends with a whole item: the drill badge, the clock or the speed.
            assert!(
                before.ends_with("DRILL")
                    || before.ends_with("UTC")
                    || before.ends_with("60×")
                    || before.ends_with("FAST-FORWARD 60x")
                    || before.ends_with(" v view"),
                "{width}: {bar:?}"
            );
        }
    }
}
