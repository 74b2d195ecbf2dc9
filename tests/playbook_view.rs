//! The playbook view driven through the App like the runtime drives it (keys, ticks, telemetry,
//! executor results), with snapshots of each state and checks that nothing executes unconfirmed.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use ratatui::{Terminal, backend::TestBackend};

use warroom::app::{Action, App, Effect, Mode};
use warroom::env::Environment;
use warroom::playbook::{self, Input};
use warroom::sim::{Fault, Sim};
use warroom::telemetry::sim::sample_into;
use warroom::telemetry::source::Feeds;
use warroom::telemetry::{Board, SourceId};
use warroom::theme::Theme;

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 3, 0, 0)
        .single()
        .expect("valid time")
}

struct Drill {
    app: App,
    sim: Sim,
    now: DateTime<Utc>,
}

impl Drill {
    /// A region-loss drill on the simulator, fault injected, playbook loaded, not declared.
    fn region_loss(read_only: bool) -> Drill {
        let env = Environment::demo();
        let mut sim = Sim::new(&env, 7, t0());
        let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(30));
        sample_into(
            &mut board,
            &mut sim,
            (0..12).map(|i| t0() + TimeDelta::seconds(5 * i)),
        );
        let now = t0() + TimeDelta::seconds(60);
        sim.inject(Fault::RegionLoss, now).expect("inject");
        let playbook = playbook::find("region-loss", std::path::Path::new("playbooks"), &env)
            .expect("shipped playbook");
        let mut app = App::new(env, Mode::Drill, Theme::fallback(), board, now, 60.0);
        app.read_only = read_only;
        app.start_incident(playbook);
        let mut d = Drill { app, sim, now };
        d.advance(30);
        d
    }

    /// Moves session time on, feeding telemetry and ticks as the runtime would.
    fn advance(&mut self, secs: i64) -> Vec<Effect> {
        let mut effects = Vec::new();
        for _ in 0..secs.div_euclid(5).max(1) {
            self.now += TimeDelta::seconds(5.min(secs));
            self.sim.advance(self.now);
            effects.extend(self.app.update(Action::Telemetry(
                SourceId(0),
                Ok(self.sim.sample()),
                self.now,
            )));
            effects.extend(self.app.update(Action::Tick(self.now)));
        }
        effects
    }

    fn key(&mut self, code: KeyCode) -> Vec<Effect> {
        self.app.update(Action::Key(KeyEvent::from(code)))
    }

    fn typed(&mut self, text: &str) -> Vec<Effect> {
        text.chars()
            .flat_map(|c| self.key(KeyCode::Char(c)))
            .collect()
    }

    /// Ticks every item of the current step and presses Enter.
    fn complete_manual_step(&mut self) -> Vec<Effect> {
        let step = self
            .app
            .incident
            .as_ref()
            .and_then(|i| i.current())
            .expect("a current step");
        let items = self
            .app
            .incident
            .as_ref()
            .map_or(0, |i| i.engine.ticks(step).len());
        for _ in 0..items {
            self.key(KeyCode::Char(' '));
            self.key(KeyCode::Char('j'));
        }
        self.key(KeyCode::Enter)
    }

    /// Runs the executor the way the runtime would, for a simulator action.
    fn run_effects(&mut self, effects: Vec<Effect>) -> Vec<Effect> {
        let mut follow = Vec::new();
        for e in effects {
            if let Effect::Execute {
                step,
                attempt,
                exec: warroom::actions::Exec::Action(call),
                ..
            } = e
            {
                let result = self
                    .sim
                    .execute(&call, self.now)
                    .map(|_| ())
                    .map_err(|e| e.to_string());
                follow.extend(self.app.update(Action::Executor(
                    Input::ExecFinished {
                        step,
                        attempt,
                        result,
                    },
                    self.now,
                )));
            }
        }
        follow
    }

    fn screen(&self, w: u16, h: u16) -> Terminal<TestBackend> {
        let mut terminal = Terminal::new(TestBackend::new(w, h)).expect("terminal");
        terminal
            .draw(|f| warroom::ui::draw(f, &self.app))
            .expect("draw");
        terminal
    }
}

fn text(terminal: &Terminal<TestBackend>) -> String {
    let buf = terminal.backend().buffer();
    (0..buf.area.height)
        .map(|y| {
            (0..buf.area.width)
                .map(|x| buf[(x, y)].symbol())
                .collect::<String>()
                + "\n"
        })
        .collect()
}

fn executes(effects: &[Effect]) -> usize {
    effects
        .iter()
        .filter(|e| matches!(e, Effect::Execute { .. }))
        .count()
}

#[test]
fn before_declaration() {
    let d = Drill::region_loss(false);
    let t = d.screen(160, 48);
    assert!(text(&t).contains("not declared: Enter declares the incident"));
    insta::assert_snapshot!("before_declaration_160x48", t.backend());
    insta::assert_snapshot!("before_declaration_80x24", d.screen(80, 24).backend());
}

#[test]
fn destructive_step_needs_the_typed_name_and_only_confirm_executes() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter); // declare
    d.advance(20);
    assert_eq!(executes(&d.complete_manual_step()), 0);
    d.advance(20);
    assert_eq!(executes(&d.complete_manual_step()), 0);
    d.advance(20);
    // Step 3 promotes: Enter opens the confirmation, nothing runs yet.
    let effects = d.key(KeyCode::Enter);
    assert_eq!(executes(&effects), 0, "Enter alone must not execute");
    let t = d.screen(160, 48);
    assert!(
        text(&t).contains("Type dr-replica and press Enter"),
        "{}",
        text(&t)
    );
    insta::assert_snapshot!("awaiting_confirmation_160x48", t.backend());
    // `y` is just a typed letter for a destructive step; a wrong name is refused.
    assert_eq!(executes(&d.typed("y")), 0);
    assert_eq!(
        executes(&d.key(KeyCode::Enter)),
        0,
        "wrong text must not execute"
    );
    assert_eq!(executes(&d.typed("dr-replic")), 0);
    insta::assert_snapshot!("typed_confirmation_160x48", d.screen(160, 48).backend());
    d.typed("a");
    let effects = d.key(KeyCode::Enter);
    assert_eq!(
        executes(&effects),
        1,
        "the right name confirms: {effects:?}"
    );
    let recorded = effects
        .iter()
        .position(|e| matches!(e, Effect::Record(_, playbook::Event::Confirmed { .. })));
    let executed = effects
        .iter()
        .position(|e| matches!(e, Effect::Execute { .. }));
    assert!(
        recorded < executed,
        "the confirmation is journaled before the executor starts"
    );
    insta::assert_snapshot!("running_160x48", d.screen(160, 48).backend());
    let follow = d.run_effects(effects);
    assert_eq!(executes(&follow), 0);
    d.advance(60);
    let t = text(&d.screen(160, 48));
    assert!(
        t.contains("RPO ") && t.contains("writes dr-replica had not replayed"),
        "{t}"
    );
}

#[test]
fn escape_cancels_the_confirmation() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter);
    d.complete_manual_step();
    d.complete_manual_step();
    d.key(KeyCode::Enter);
    assert!(d.app.incident.as_ref().is_some_and(|i| i.confirm.is_some()));
    let effects = d.key(KeyCode::Esc);
    assert_eq!(executes(&effects), 0);
    assert!(d.app.incident.as_ref().is_some_and(|i| i.confirm.is_none()));
    assert!(effects.iter().any(|e| matches!(
        e,
        Effect::Record(_, playbook::Event::ConfirmCancelled { .. })
    )));
}

#[test]
fn read_only_refuses_executing_steps_but_manual_steps_work() {
    let mut d = Drill::region_loss(true);
    d.key(KeyCode::Enter);
    d.complete_manual_step();
    d.complete_manual_step();
    let effects = d.key(KeyCode::Enter);
    assert_eq!(executes(&effects), 0);
    assert!(
        d.app.incident.as_ref().is_some_and(|i| i.confirm.is_none()),
        "no dialog in read-only mode"
    );
    let flash = d
        .app
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(flash.contains("read-only"), "the refusal says why: {flash}");
    let t = text(&d.screen(160, 48));
    assert!(t.contains("READ-ONLY"), "{t}");
}

#[test]
fn failed_step_can_be_retried_or_skipped_with_a_reason() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter);
    d.complete_manual_step();
    d.complete_manual_step();
    d.key(KeyCode::Enter);
    d.typed("dr-replica");
    let effects = d.key(KeyCode::Enter);
    let (step, attempt) = effects
        .iter()
        .find_map(|e| match e {
            Effect::Execute { step, attempt, .. } => Some((*step, *attempt)),
            _ => None,
        })
        .expect("executes");
    d.app.update(Action::Executor(
        Input::ExecFinished {
            step,
            attempt,
            result: Err("PromoteReadReplica: InvalidDBInstanceState".into()),
        },
        d.now,
    ));
    let t = d.screen(160, 48);
    assert!(text(&t).contains("InvalidDBInstanceState"), "{}", text(&t));
    insta::assert_snapshot!("failed_step_160x48", t.backend());
    // Skip needs a reason: an empty one is refused.
    d.key(KeyCode::Char('s'));
    d.key(KeyCode::Enter);
    let flash = d
        .app
        .flash
        .as_ref()
        .map(|f| f.text.clone())
        .unwrap_or_default();
    assert!(
        !flash.is_empty(),
        "an empty skip reason is refused with a message"
    );
    // Retry opens the step again; Enter asks for confirmation again.
    d.key(KeyCode::Char('r'));
    d.key(KeyCode::Enter);
    assert!(d.app.incident.as_ref().is_some_and(|i| i.confirm.is_some()));
}

#[test]
fn rto_at_risk_shows() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter);
    // Dawdle on the first step: the projection passes 30 minutes.
    d.advance(12 * 60);
    let t = d.screen(160, 48);
    assert!(text(&t).contains("RTO AT RISK"), "{}", text(&t));
    insta::assert_snapshot!("rto_at_risk_160x48", t.backend());
}

#[test]
fn abort_asks_why_and_shows_the_scorecard() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter);
    d.advance(30);
    d.key(KeyCode::Char('a'));
    d.typed("the region came back; failing back instead");
    let effects = d.key(KeyCode::Enter);
    assert!(
        effects
            .iter()
            .any(|e| matches!(e, Effect::Record(_, playbook::Event::Aborted { .. })))
    );
    let t = d.screen(160, 48);
    assert!(text(&t).contains("Scorecard"), "{}", text(&t));
    insta::assert_snapshot!("aborted_scorecard_160x48", t.backend());
}

#[test]
fn whole_drill_ends_in_a_scorecard_with_rto_and_rpo() {
    let mut d = Drill::region_loss(false);
    d.key(KeyCode::Enter);
    let mut guard = 0;
    while d
        .app
        .incident
        .as_ref()
        .is_some_and(|i| !i.engine.is_finished())
    {
        guard += 1;
        assert!(
            guard < 200,
            "drill did not finish:\n{}",
            text(&d.screen(160, 48))
        );
        d.advance(15);
        let status = d
            .app
            .incident
            .as_ref()
            .and_then(|i| i.current().and_then(|s| i.engine.status(s).cloned()));
        let effects = match status {
            Some(playbook::StepStatus::Active) => {
                let e = d.complete_manual_step();
                if d.app
                    .incident
                    .as_ref()
                    .is_some_and(|i| i.confirm.as_ref().is_some_and(|c| c.request.destructive))
                {
                    d.typed("dr-replica");
                    d.key(KeyCode::Enter)
                } else if d.app.incident.as_ref().is_some_and(|i| i.confirm.is_some()) {
                    d.key(KeyCode::Char('y'))
                } else {
                    e
                }
            }
            _ => Vec::new(),
        };
        d.run_effects(effects);
    }
    let t = d.screen(160, 48);
    let shown = text(&t);
    assert!(
        shown.contains("RTO achieved") && shown.contains("RPO achieved"),
        "{shown}"
    );
    assert!(shown.contains("PASSED"), "{shown}");
    insta::assert_snapshot!("scorecard_160x48", t.backend());
}
