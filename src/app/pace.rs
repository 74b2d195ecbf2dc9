//! The session clock's pace in the console: `P` pauses and resumes it, `>` fast-forwards the
//! current step's machine wait at [`FAST_FORWARD_SPEED`] and returns to the previous speed by
//! itself when that wait ends. The App asks ([`Effect::Pace`]); the runtime changes the clock and
//! tells the App what it did ([`App::pace_applied`]); the engine records it (`clock_paused`,
//! `clock_resumed`, `speed_changed`), so the record leads the screen like every other event.
//!
//! Only a simulated clock can be paused or sped up: a live incident's world does not stop.

use std::time::Duration;

use chrono::TimeDelta;

use super::{App, Effect};
use crate::clock::Change;
use crate::playbook::{ClockChange, Event, Executor, SpeedReason, StepStatus};

/// How fast `>` runs the simulated world (simulated seconds per wall second).
pub const FAST_FORWARD_SPEED: f64 = 60.0;

/// What the App asks of the session clock.
#[derive(Debug, Clone, PartialEq)]
pub enum PaceCommand {
    Pause,
    Resume,
    /// Run at `to`; `step`: the step whose wait is fast-forwarded.
    Speed {
        to: f64,
        reason: SpeedReason,
        step: Option<usize>,
    },
}

/// A fast-forward under way: the step whose wait it is, and the speed to return to.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct FastForward {
    pub step: usize,
    pub from: f64,
    /// The return to `from` was asked for (not yet applied).
    pub ending: bool,
}

/// The clock's pace as the console shows it.
#[derive(Debug, Clone, Default)]
pub struct Pace {
    /// The clock can be paused and sped up (the simulator; not a live environment).
    pub controllable: bool,
    /// Paused: how long so far on the wall clock (the ticker says).
    pub paused: Option<Duration>,
    pub fast_forward: Option<FastForward>,
    /// A staleness bound to apply once the next poll arrives (after slowing down, the last poll
    /// is older in session time than the new bound allows).
    stale_after_next_poll: Option<TimeDelta>,
}

/// What kind of wait the current step is in, for `>`.
enum Wait {
    /// A wait condition, or a built-in action on the simulator: machine time.
    Machine(usize),
    /// A command (`run`): it runs on this machine in real time.
    Command,
    /// The step waits for the operator (or there is no current step).
    Operator(Option<String>),
}

/// `warroom follow`: the writer's pauses and speed changes, for the follower's own clock (so
/// it stands still and runs fast with the writer's). Nothing is recorded: a follower writes
/// nothing.
pub(super) fn mirror(events: &[(u64, chrono::DateTime<chrono::Utc>, Event)]) -> Vec<Effect> {
    events
        .iter()
        .filter_map(|(_, _, event)| match event {
            Event::ClockPaused {} => Some(PaceCommand::Pause),
            Event::ClockResumed { .. } => Some(PaceCommand::Resume),
            Event::SpeedChanged { to, reason, .. } => Some(PaceCommand::Speed {
                to: *to,
                reason: *reason,
                step: None,
            }),
            _ => None,
        })
        .map(Effect::Pace)
        .collect()
}

impl App {
    /// `P`: pause, or resume a paused clock. Refused in a live incident.
    pub(super) fn pace_pause_key(&mut self) -> Vec<Effect> {
        if !self.pace.controllable {
            self.say(
                "the clock cannot be paused: this is a real environment, and the world does not \
                 stop (P pauses drills and demos on the simulator)",
            );
            return Vec::new();
        }
        if self.pace.paused.is_some() {
            return vec![Effect::Pace(PaceCommand::Resume)];
        }
        let mut out = Vec::new();
        if let Some(ff) = self.pace.fast_forward.filter(|f| !f.ending) {
            out.push(self.end_fast_forward(ff, SpeedReason::Cancelled));
        }
        out.push(Effect::Pace(PaceCommand::Pause));
        out
    }

    /// `>`: fast-forward the current step's machine wait; `>` again stops it.
    pub(super) fn pace_fast_forward_key(&mut self) -> Vec<Effect> {
        if !self.pace.controllable {
            self.say("fast-forward is for the simulator: a real environment runs in real time");
            return Vec::new();
        }
        if self.pace.paused.is_some() {
            self.say("the clock is paused: P resumes it first");
            return Vec::new();
        }
        if let Some(ff) = self.pace.fast_forward {
            if !ff.ending {
                return vec![self.end_fast_forward(ff, SpeedReason::Cancelled)];
            }
            return Vec::new();
        }
        match self.current_wait() {
            Wait::Machine(_) if self.speed >= FAST_FORWARD_SPEED => {
                self.say(format!(
                    "the simulation already runs at {}: nothing faster to switch to",
                    crate::playbook::projection::speed_label(self.speed)
                ));
                Vec::new()
            }
            Wait::Machine(step) => vec![Effect::Pace(PaceCommand::Speed {
                to: FAST_FORWARD_SPEED,
                reason: SpeedReason::FastForward,
                step: Some(step),
            })],
            Wait::Command => {
                self.say(
                    "this step runs a command on this machine, in real time: fast-forward \
                     speeds up only the simulated world (> works while a step waits on a \
                     condition or a simulator action)",
                );
                Vec::new()
            }
            Wait::Operator(title) => {
                self.say(match title {
                    Some(title) => format!(
                        "nothing to fast-forward: \"{title}\" waits for you, not the machine \
                         (> works while a step waits on a condition or an action)"
                    ),
                    None => "nothing to fast-forward: > speeds up a step's machine wait (a \
                             wait condition or an action) while it runs"
                        .to_string(),
                });
                Vec::new()
            }
        }
    }

    /// The current step's wait.
    fn current_wait(&self) -> Wait {
        let Some(incident) = &self.incident else {
            return Wait::Operator(None);
        };
        let engine = &incident.engine;
        let Some(step) = engine.current() else {
            return Wait::Operator(None);
        };
        let spec = &engine.playbook().steps[step];
        match engine.status(step) {
            Some(StepStatus::Verifying) => Wait::Machine(step),
            Some(StepStatus::Running) => match spec.executor {
                Some(Executor::Run { .. }) => Wait::Command,
                _ => Wait::Machine(step),
            },
            _ => Wait::Operator(Some(spec.title.clone())),
        }
    }

    fn end_fast_forward(&mut self, ff: FastForward, reason: SpeedReason) -> Effect {
        if let Some(f) = &mut self.pace.fast_forward {
            f.ending = true;
        }
        Effect::Pace(PaceCommand::Speed {
            to: ff.from,
            reason,
            step: Some(ff.step),
        })
    }

    /// After every action: a fast-forwarded wait that ended (held, failed, timed out, or the
    /// step moved on) returns the clock to its previous speed.
    pub(super) fn pace_follow_up(&mut self, effects: &mut Vec<Effect>) {
        let Some(ff) = self.pace.fast_forward.filter(|f| !f.ending) else {
            return;
        };
        let still = matches!(self.current_wait(), Wait::Machine(step) if step == ff.step);
        if !still {
            effects.push(self.end_fast_forward(ff, SpeedReason::WaitOver));
        }
    }

    /// A poll arrived: a staleness bound waiting for it applies now.
    pub(super) fn pace_poll_arrived(&mut self) {
        if let Some(bound) = self.pace.stale_after_next_poll.take() {
            self.board.stale_after = bound;
        }
    }

    /// The ticker's reading of a pause: how long it has lasted on the wall.
    pub(super) fn pace_paused_for(&mut self, wall: Duration) {
        if let Some(shown) = &mut self.pace.paused {
            if shown.as_secs() != wall.as_secs() {
                self.dirty = true;
            }
            *shown = wall;
        }
    }

    /// The runtime applied `command` to the session clock (`change`: what it did; `None`: it
    /// changed nothing). The App follows and the engine records it.
    pub fn pace_applied(&mut self, command: &PaceCommand, change: Option<Change>) -> Vec<Effect> {
        let Some(change) = change else {
            if let PaceCommand::Speed { .. } = command
                && let Some(f) = &mut self.pace.fast_forward
                && f.ending
            {
                self.pace.fast_forward = None;
            }
            return Vec::new();
        };
        self.dirty = true;
        self.now = self.now.max(change.at);
        let now = self.now;
        let record = match command {
            PaceCommand::Pause => {
                self.pace.paused = Some(Duration::ZERO);
                self.say(
                    "PAUSED: the simulated world, the step timers and the RTO clock stand still \
                     (P resumes)",
                );
                ClockChange::Paused
            }
            PaceCommand::Resume => {
                self.pace.paused = None;
                let paused = change.paused_for.unwrap_or_default();
                self.say(format!(
                    "resumed after a pause of {}",
                    crate::duration::compact(paused.as_secs())
                ));
                ClockChange::Resumed {
                    paused_secs: paused.as_secs(),
                }
            }
            PaceCommand::Speed { reason, step, .. } => {
                self.speed = change.to;
                self.rescale_staleness(change.from, change.to);
                let step_id = step.and_then(|i| {
                    self.incident
                        .as_ref()
                        .and_then(|inc| inc.engine.playbook().steps.get(i))
                        .map(|s| s.id.clone())
                });
                match reason {
                    SpeedReason::FastForward => {
                        self.pace.fast_forward = step.map(|step| FastForward {
                            step,
                            from: change.from,
                            ending: false,
                        });
                        self.say(format!(
                            "FAST-FORWARD {}: the simulation runs fast until this wait ends \
                             (> stops it)",
                            crate::playbook::projection::speed_label(change.to)
                        ));
                    }
                    SpeedReason::WaitOver | SpeedReason::Cancelled | SpeedReason::Resumed => {
                        self.pace.fast_forward = None;
                        let back = crate::playbook::projection::speed_label(change.to);
                        // The FAST-FORWARD message must not outlive the wait it was about.
                        match reason {
                            SpeedReason::Cancelled => {
                                self.say(format!("fast-forward stopped: back to {back}"));
                            }
                            SpeedReason::WaitOver => {
                                self.say(format!(
                                    "the wait is over: fast-forward off, back to {back}"
                                ));
                            }
                            SpeedReason::FastForward | SpeedReason::Resumed => {}
                        }
                    }
                }
                ClockChange::Speed {
                    from: change.from,
                    to: change.to,
                    reason: *reason,
                    step: step_id,
                }
            }
        };
        match &mut self.incident {
            Some(incident) if self.following.is_none() => incident.clock_changed(record, now),
            _ => Vec::new(),
        }
    }

    /// Staleness is judged in session time: a faster clock ages readings faster between polls.
    fn rescale_staleness(&mut self, from: f64, to: f64) {
        if from <= 0.0 {
            return;
        }
        let current = self
            .pace
            .stale_after_next_poll
            .unwrap_or(self.board.stale_after);
        let ms = current.num_milliseconds() as f64 * to / from;
        let bound = TimeDelta::milliseconds(ms.min(i64::MAX as f64 / 2.0) as i64);
        if to > from {
            self.board.stale_after = bound;
            self.pace.stale_after_next_poll = None;
        } else {
            // The last poll came at the faster pace: keep the wider bound until the next one.
            self.pace.stale_after_next_poll = Some(bound);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::app::{Action, Mode};
    use crate::clock::SessionClock;
    use crate::env::Environment;
    use crate::playbook::Input;
    use crate::telemetry::Board;
    use crate::telemetry::source::Feeds;
    use crate::theme::Theme;
    use chrono::{TimeZone, Utc};
    use ratatui::crossterm::event::{KeyCode, KeyEvent};
    use std::time::Instant;

    fn drill(mode: Mode, controllable: bool) -> (App, SessionClock) {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid");
        let env = Environment::demo();
        let mut sim = crate::sim::Sim::new(&env, 1, now);
        sim.advance(now);
        let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        board.apply(crate::telemetry::SourceId(0), Ok(sim.sample()), now);
        let mut app = App::new(env, mode, Theme::fallback(), board, now, 1.0);
        app.pace.controllable = controllable;
        let src = crate::playbook::SHIPPED
            .iter()
            .find(|(id, _)| *id == "region-loss")
            .map(|(_, src)| *src)
            .expect("shipped region-loss");
        let pb = crate::playbook::parse("<shipped>/region-loss.toml", src, &app.env)
            .expect("valid playbook");
        app.start_incident(pb);
        (app, SessionClock::new(Instant::now(), now, 1.0))
    }

    /// Runs the App's effects as the runtime does: pace commands on `clock`, records collected.
    fn run(app: &mut App, clock: &SessionClock, effects: Vec<Effect>) -> Vec<Event> {
        let mut records = Vec::new();
        let mut queue: std::collections::VecDeque<Effect> = effects.into();
        while let Some(effect) = queue.pop_front() {
            match effect {
                Effect::Pace(command) => {
                    let change = match &command {
                        PaceCommand::Pause => clock.pause(),
                        PaceCommand::Resume => clock.resume(),
                        PaceCommand::Speed { to, .. } => clock.set_speed(*to),
                    };
                    queue.extend(app.pace_applied(&command, change));
                }
                Effect::Record(_, event) => records.push(event),
                _ => {}
            }
        }
        records
    }

    fn press(app: &mut App, clock: &SessionClock, c: char) -> Vec<Event> {
        let effects = app.update(Action::Key(KeyEvent::from(KeyCode::Char(c))));
        run(app, clock, effects)
    }

    fn flash(app: &App) -> String {
        app.flash
            .as_ref()
            .map(|f| f.text.clone())
            .unwrap_or_default()
    }

    #[test]
    fn a_live_incident_refuses_pause_and_fast_forward() {
        let (mut app, clock) = drill(Mode::Live, false);
        assert!(press(&mut app, &clock, 'P').is_empty());
        assert!(flash(&app).contains("cannot be paused"), "{}", flash(&app));
        assert!(!clock.paused());
        assert!(press(&mut app, &clock, '>').is_empty());
        assert!(flash(&app).contains("real time"), "{}", flash(&app));
        assert_eq!(clock.speed(), 1.0);
    }

    #[test]
    fn p_pauses_and_resumes_and_the_engine_records_both() {
        let (mut app, clock) = drill(Mode::Drill, true);
        // Before the declaration too (the baseline): the record has it.
        let records = press(&mut app, &clock, 'P');
        assert_eq!(records, vec![Event::ClockPaused {}]);
        assert!(clock.paused());
        assert_eq!(app.pace.paused, Some(Duration::ZERO));
        app.update(Action::Paused(Duration::from_secs(3)));
        assert_eq!(app.pace.paused, Some(Duration::from_secs(3)));
        // `>` while paused says why not.
        assert!(press(&mut app, &clock, '>').is_empty());
        assert!(flash(&app).contains("P resumes"), "{}", flash(&app));
        let records = press(&mut app, &clock, 'P');
        assert!(
            matches!(records.as_slice(), [Event::ClockResumed { .. }]),
            "{records:?}"
        );
        assert!(!clock.paused());
        assert_eq!(app.pace.paused, None);
    }

    #[test]
    fn fast_forward_only_a_machine_wait_and_return_when_it_ends() {
        let (mut app, clock) = drill(Mode::Drill, true);
        let now = app.now;
        // Nothing to fast-forward before the declaration or while a step waits for the operator.
        assert!(press(&mut app, &clock, '>').is_empty());
        assert!(
            flash(&app).contains("nothing to fast-forward"),
            "{}",
            flash(&app)
        );
        let handle = |app: &mut App, input: Input| {
            let mut f = None;
            let effects = app
                .incident
                .as_mut()
                .map(|i| i.handle(input, now, &mut f))
                .unwrap_or_default();
            run(app, &clock, effects)
        };
        handle(&mut app, Input::Declare);
        assert!(press(&mut app, &clock, '>').is_empty());
        assert!(flash(&app).contains("waits for you"), "{}", flash(&app));
        for step in 0..2 {
            for item in 0..4 {
                handle(&mut app, Input::ToggleItem { step, item });
            }
            handle(&mut app, Input::Complete { step });
        }
        handle(&mut app, Input::Request { step: 2 });
        let typed = app
            .incident
            .as_ref()
            .and_then(|i| i.confirm.as_ref())
            .and_then(|d| d.request.type_to_confirm.clone());
        handle(&mut app, Input::Confirm { step: 2, typed });
        assert_eq!(
            app.incident
                .as_ref()
                .and_then(|i| i.engine.status(2))
                .cloned(),
            Some(StepStatus::Running)
        );
        // The promotion's action runs: `>` fast-forwards it.
        let records = press(&mut app, &clock, '>');
        assert_eq!(
            records,
            vec![Event::SpeedChanged {
                from: 1.0,
                to: FAST_FORWARD_SPEED,
                reason: SpeedReason::FastForward,
                step: Some("promote".into()),
            }]
        );
        assert_eq!(clock.speed(), FAST_FORWARD_SPEED);
        assert_eq!(app.speed, FAST_FORWARD_SPEED);
        // Staleness is judged at the faster pace at once.
        assert_eq!(app.board.stale_after, TimeDelta::seconds(300));
        // The step leaves its wait (skipped here): back to speed 1 by itself.
        let effects = app
            .incident
            .as_mut()
            .map(|i| {
                let mut f = None;
                i.handle(
                    Input::Skip {
                        step: 2,
                        reason: "test".into(),
                    },
                    now,
                    &mut f,
                )
            })
            .unwrap_or_default();
        let mut effects = effects;
        app.pace_follow_up(&mut effects);
        let records = run(&mut app, &clock, effects);
        assert!(
            records.contains(&Event::SpeedChanged {
                from: FAST_FORWARD_SPEED,
                to: 1.0,
                reason: SpeedReason::WaitOver,
                step: Some("promote".into()),
            }),
            "{records:?}"
        );
        assert_eq!(clock.speed(), 1.0);
        assert!(app.pace.fast_forward.is_none());
        // The wider staleness bound stays until the next poll.
        assert_eq!(app.board.stale_after, TimeDelta::seconds(300));
        app.update(Action::Telemetry(
            crate::telemetry::SourceId(0),
            Ok(app.board.picture.clone()),
            app.now,
        ));
        assert_eq!(app.board.stale_after, TimeDelta::seconds(5));
    }
}
