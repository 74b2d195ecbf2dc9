//! The interactive console's state: `update(Action) -> Vec<Effect>`, no I/O.

pub mod action;
pub mod editor;
pub mod flash;
pub mod incident;
pub mod joined;
pub mod journal_writer;
pub mod output_gate;
pub mod pace;
pub mod points;
pub mod runtime;

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::{KeyCode, KeyEvent, KeyEventKind, KeyModifiers};

use crate::env::Environment;
use crate::playbook::{Engine, Playbook};
use crate::telemetry::Board;
use crate::theme::Theme;
use crate::ui::panes::RowKey;
use flash::{Flash, Said, Until};

pub use action::{Action, Effect, ExitSignal, SignalExit};
pub use incident::{Incident, Prompt, PromptKind};

/// What kind of session this is; shown as the status bar's badge.
/// What a drill says at its start; it goes once the incident is declared.
pub const DRILL_WELCOME: &str = "DRILL: a fault will arrive in the next minutes. Watch the \
     panes; Enter declares the incident when you see it (P pauses the clock).";

/// The drill's welcome on the message line: it goes once the incident is declared.
pub fn drill_welcome(at: DateTime<Utc>) -> Flash {
    Flash::new(at, Said::until(DRILL_WELCOME, Until::Declared))
}

/// What a playbook key says while the playbook is not on screen.
const PLAYBOOK_HIDDEN: &str =
    "the playbook is hidden: v shows it (its keys act only where you can see it)";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Mode {
    /// The built-in simulator, free play.
    Demo,
    /// A drill on the simulator: a scenario fault arrives, the operator responds.
    Drill,
    /// A real environment: actions change the world.
    Live,
}

impl Mode {
    pub fn badge(self) -> &'static str {
        match self {
            Mode::Demo => "DEMO",
            Mode::Drill => "DRILL",
            Mode::Live => "LIVE",
        }
    }

    /// Messages to people are marked as an exercise except in a LIVE incident.
    pub fn occasion(self) -> crate::playbook::model::Occasion {
        match self {
            Mode::Demo | Mode::Drill => crate::playbook::model::Occasion::Exercise,
            Mode::Live => crate::playbook::model::Occasion::Real,
        }
    }
}

/// The panes that take keyboard focus, in Tab order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Focus {
    Playbook,
    Lag,
    Backups,
    Regions,
}

impl Focus {
    /// Index into [`App::panes`] (the playbook has its own cursor in [`Incident`]).
    pub fn index(self) -> usize {
        match self {
            Focus::Lag | Focus::Playbook => 0,
            Focus::Backups => 1,
            Focus::Regions => 2,
        }
    }
}

/// What the operator chose to see in a live pane: the selected row (followed by its resource
/// when rows re-sort) and the filter.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct PaneView {
    /// `None`: the first row, whatever it is.
    pub selected: Option<RowKey>,
    /// Rows whose name or region contains this text are shown (`/`); empty: all.
    pub filter: String,
}

/// The longest filter text accepted (characters).
const FILTER_MAX_CHARS: usize = 64;

/// On narrow terminals the playbook and the live panes take turns (`v`).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NarrowView {
    Playbook,
    Panes,
}

/// A popup over the panes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Overlay {
    Help,
    /// The facilitator's fault menu (demo only), with the highlighted entry.
    FaultMenu {
        selected: usize,
    },
    /// The playbook picker, with the highlighted entry.
    Picker {
        selected: usize,
    },
}

/// The scenario faults the simulator can inject, in menu order.
pub const FAULTS: [(&str, &str); 4] = [
    (
        "az-loss",
        "one availability zone of the primary region fails",
    ),
    ("region-loss", "the whole primary region fails"),
    (
        "corruption",
        "data corruption from now on; later backups are tainted",
    ),
    ("breach", "failed-authentication spike and unusual access"),
];

/// How long a message stays on the message line, in wall-clock seconds.
const FLASH_WALL_SECS: f64 = 12.0;

/// All UI state.
pub struct App {
    pub env: Environment,
    /// The action backend's descriptions of exact calls, for the confirmation dialog.
    pub describer: Option<crate::actions::Describer>,
    pub mode: Mode,
    pub theme: Theme,
    pub board: Board,
    /// Session time as of the newest tick.
    pub now: DateTime<Utc>,
    /// Simulation speed shown in the status bar (1 outside the simulator).
    pub speed: f64,
    pub focus: Focus,
    /// Selection and filter per live pane, in [`Focus`] order.
    pub panes: [PaneView; 3],
    /// The live pane whose filter is being typed (`/`), if any.
    pub filtering: Option<Focus>,
    pub overlay: Option<Overlay>,
    /// The newest message for the operator and when it was shown.
    pub flash: Option<Flash>,
    /// Faults injected so far, with when: shown in the status bar.
    pub faults: Vec<(DateTime<Utc>, String)>,
    /// Playbooks the picker offers (validated against this environment).
    pub playbooks: Vec<Playbook>,
    /// Refuse every executing step (`--read-only`): passed to each incident's engine.
    pub read_only: bool,
    /// Who is at the keyboard: each incident's engine records it on every confirmation.
    pub operator: String,
    /// The incident or drill under way, if any.
    pub incident: Option<Incident>,
    /// Which half shows on a narrow terminal.
    pub narrow_view: NarrowView,
    /// The journal file of the current incident, once created.
    pub journal_path: Option<std::path::PathBuf>,
    /// Earlier drills per playbook id (median and 90th percentile per step), read before the
    /// terminal was taken ([`crate::past::load`]) for every playbook the console offers.
    pub past_drills: std::collections::BTreeMap<String, crate::past::PastDrills>,
    /// `--endpoint-url` (or `$AWS_ENDPOINT_URL`): the restore-point picker's RDS calls go
    /// where the console's other AWS calls go.
    pub aws_endpoint: Option<String>,
    /// Set when a journal write failed: the record is not safe, nothing may change the world.
    pub journal_error: Option<String>,
    /// `warroom follow`: the journal mirrored read-only; no key changes anything.
    pub following: Option<std::path::PathBuf>,
    /// The shared war room, when this console drives a shared incident or joined one.
    pub share: Option<ShareState>,
    /// `SHA256:...` of the driver's key, which signs armings of steps that need approvals
    /// (`--key`). The key itself is the runtime's (`runtime::Session::arm_signer`): it signs
    /// off the UI thread.
    pub share_key: Option<String>,
    /// Whether this console holds command of the shared incident (its lease).
    pub share_command: Option<crate::share::lease::Command>,
    /// This console handed command over (`H`) and ended.
    pub handed_over: bool,
    /// A joined console's requests (scribe, approver): see [`joined`].
    pub joined: joined::Joined,
    /// What the picker replaced (the previous incident and its journal), until the new
    /// incident's journal exists: put back if it cannot be created.
    replaced: Option<(Option<Incident>, Option<std::path::PathBuf>)>,
    /// `q` was pressed once during an incident: the next `q` quits.
    quit_armed: bool,
    /// The console is ending on SIGTERM or SIGHUP (for the exit message and status).
    pub signal_exit: Option<SignalExit>,
    /// The terminal's size as of the last frame drawn (or resize): which panes are on screen,
    /// so that focus never goes to a hidden one. `(0, 0)` until known (everything counts as
    /// shown). Written by `ui::draw`, hence a `Cell`.
    pub frame_size: std::cell::Cell<(u16, u16)>,
    /// Something visible changed since the last draw.
    dirty: bool,
    /// The session clock's pace: paused, fast-forwarding (`P`, `>`; see [`pace`]).
    pub pace: pace::Pace,
}

/// The shared war room as the status bar shows it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ShareState {
    /// This console drives the incident and mirrors its journal to the shared log.
    Driving(crate::share::mirror::Status),
    /// This console joined a shared incident.
    Joined {
        role: crate::share::request::Role,
        view: Option<crate::share::join::ViewStatus>,
    },
}

impl App {
    pub fn new(
        env: Environment,
        mode: Mode,
        theme: Theme,
        board: Board,
        now: DateTime<Utc>,
        speed: f64,
    ) -> Self {
        App {
            describer: None,
            read_only: false,
            operator: String::new(),
            playbooks: Vec::new(),
            incident: None,
            narrow_view: NarrowView::Playbook,
            quit_armed: false,
            signal_exit: None,
            frame_size: std::cell::Cell::new((0, 0)),
            replaced: None,
            journal_path: None,
            past_drills: std::collections::BTreeMap::new(),
            aws_endpoint: None,
            journal_error: None,
            following: None,
            share: None,
            share_key: None,
            share_command: None,
            handed_over: false,
            joined: Default::default(),
            env,
            mode,
            theme,
            board,
            now,
            speed,
            focus: Focus::Lag,
            panes: Default::default(),
            filtering: None,
            overlay: None,
            flash: None,
            faults: Vec::new(),
            dirty: true,
            pace: pace::Pace::default(),
        }
    }

    /// Whether the screen must be redrawn; clears the flag.
    pub fn take_dirty(&mut self) -> bool {
        std::mem::take(&mut self.dirty)
    }

    /// Loads `playbook` as the incident (not yet declared: Enter declares it).
    pub fn start_incident(&mut self, playbook: Playbook) {
        // A playbook's objectives are its scenario's (a corruption restore has a longer RTO
        // than a region failover); the environment's are the default a playbook states anyway.
        let settings = crate::playbook::EngineSettings::new(&playbook, self.env.clone())
            .read_only(self.read_only)
            .operator(self.operator.clone())
            .mode(self.mode.badge().to_lowercase())
            .occasion(self.mode.occasion());
        let mut incident = Incident::new(Engine::new(playbook, settings));
        incident.describer = self.describer.clone();
        self.incident = Some(incident);
        self.journal_path = None;
        self.focus = Focus::Playbook;
        self.narrow_view = NarrowView::Playbook;
        self.dirty = true;
    }

    /// Installs an incident rebuilt from its journal (`--resume`, `follow`): `events` are the
    /// journaled events, shown in the timeline as they happened.
    pub fn adopt_incident(
        &mut self,
        engine: Engine,
        events: &[(DateTime<Utc>, crate::playbook::Event)],
    ) {
        let mut incident = Incident::new(engine);
        incident.describer = self.describer.clone();
        for (at, event) in events {
            incident.note_timeline(*at, event);
        }
        if incident.engine.is_finished() {
            incident.scorecard = Some(incident.engine.scorecard(self.now));
        }
        self.incident = Some(incident);
        self.focus = Focus::Playbook;
        self.narrow_view = NarrowView::Playbook;
        self.dirty = true;
    }

    /// The runtime created (and locked) the journal of the incident just loaded.
    pub fn journal_opened(&mut self, path: std::path::PathBuf) {
        self.replaced = None;
        self.say(format!("journal: {}", path.display()));
        self.journal_path = Some(path);
        self.share_incident();
        self.dirty = true;
    }

    /// A driver of a shared war room tells the incident's engine its name in the store (what
    /// approvals are signed for) and the fingerprint of the key that signs its armings (the
    /// runtime signs). Called once the journal exists.
    pub fn share_incident(&mut self) {
        if !matches!(self.share, Some(ShareState::Driving(_))) {
            return;
        }
        let name = self
            .journal_path
            .as_deref()
            .and_then(crate::share::incident_name);
        if let (Some(incident), Some(name)) = (&mut self.incident, name) {
            incident
                .engine
                .set_share(Some(crate::playbook::engine::EngineShare {
                    incident: name,
                    key: self.share_key.clone(),
                }));
        }
    }

    /// The journal of the incident just loaded cannot be created: it is not started (nothing
    /// could be recorded), what was on screen before comes back, and the operator is told why.
    pub fn journal_refused(&mut self, why: &str) {
        let title = self
            .incident
            .as_ref()
            .map(|i| i.engine.playbook().title.clone())
            .unwrap_or_default();
        let (incident, path) = self.replaced.take().unwrap_or((None, None));
        self.incident = incident;
        self.journal_path = path;
        if self.incident.is_none() {
            self.focus = Focus::Lag;
        }
        self.say(format!(
            "NOT STARTED: {title}: its journal cannot be created: {why}. Nothing was recorded;              fix this, then pick the playbook again (p)"
        ));
        self.dirty = true;
    }

    /// Sets a message for the operator.
    fn say(&mut self, said: impl Into<Said>) {
        self.flash = Some(Flash::new(self.now, said));
    }

    pub fn update(&mut self, action: Action) -> Vec<Effect> {
        let mirrored = match &action {
            Action::Telemetry(..) => {
                self.pace_poll_arrived();
                Vec::new()
            }
            Action::Followed(events) => pace::mirror(events),
            _ => Vec::new(),
        };
        let mut effects = self.handle_action(action);
        effects.extend(mirrored);
        self.pace_follow_up(&mut effects);
        self.keep_focus_visible();
        self.drop_stale_flash();
        effects
    }

    /// The panes on screen that take focus, in Tab order (the layout's rule, `ui::draw`):
    /// from [`crate::ui::WIDE`] columns the playbook and the panes side by side; narrower, the
    /// playbook or the panes (`v`); a follower shows only the playbook.
    pub fn visible_focus(&self) -> &'static [Focus] {
        const ALL: &[Focus] = &[Focus::Playbook, Focus::Lag, Focus::Backups, Focus::Regions];
        const PANES: &[Focus] = &[Focus::Lag, Focus::Backups, Focus::Regions];
        const PLAYBOOK: &[Focus] = &[Focus::Playbook];
        let (width, _) = self.frame_size.get();
        match &self.incident {
            None => PANES,
            Some(_) if self.following.is_some() && !self.joined_with_panes() => PLAYBOOK,
            Some(_) if width == 0 || width >= crate::ui::WIDE => ALL,
            Some(_) if self.narrow_view == NarrowView::Playbook => PLAYBOOK,
            Some(_) => PANES,
        }
    }

    /// One who joined a shared incident sees the panes too (the driver's snapshot, or pollers
    /// of its own); a plain follower sees only the playbook.
    pub fn joined_with_panes(&self) -> bool {
        matches!(self.share, Some(ShareState::Joined { .. })) && !self.board.sources.is_empty()
    }

    /// Whether the playbook is on screen (its keys act only then).
    pub fn playbook_visible(&self) -> bool {
        self.visible_focus().contains(&Focus::Playbook)
    }

    /// Focus follows what is on screen: after `v`, a resize or a new incident, a hidden pane
    /// gives focus to the first visible one (the playbook when it shows).
    fn keep_focus_visible(&mut self) {
        let visible = self.visible_focus();
        if !visible.contains(&self.focus)
            && let Some(first) = visible.first()
        {
            self.focus = *first;
            self.dirty = true;
        }
    }

    /// A message whose end condition holds goes (`flash::Until`): "tick every checklist item
    /// first" once the items are ticked (or the step moved on), "the playbook is hidden" once it
    /// shows, the drill's welcome once the incident is declared.
    fn drop_stale_flash(&mut self) {
        let Some(flash) = &self.flash else { return };
        let stale = match flash.until {
            Until::Faded => false,
            Until::PlaybookShown => self.playbook_visible(),
            Until::Declared => self
                .incident
                .as_ref()
                .is_some_and(|i| i.engine.declared_at().is_some()),
            Until::Ticked { step } => self.incident.as_ref().is_none_or(|i| {
                i.current() != Some(step) || i.engine.ticks(step).iter().all(|t| *t)
            }),
        };
        if stale {
            self.flash = None;
            self.dirty = true;
        }
    }

    fn handle_action(&mut self, action: Action) -> Vec<Effect> {
        match action {
            Action::Key(key) => self.on_key(key),
            Action::Resize(width, height) => {
                self.frame_size.set((width, height));
                self.dirty = true;
                Vec::new()
            }
            Action::Tick(now) => {
                // Every pane shows ages and the bar shows a clock to the second: redraw when the
                // displayed second changes, not on every tick.
                if now.timestamp() != self.now.timestamp() {
                    self.dirty = true;
                }
                self.now = self.now.max(now);
                // Messages fade after FLASH_WALL_SECS of wall time, whatever the speed; one
                // with an end condition of its own stays until it holds (a drill's welcome
                // stays until the declaration: it faded before the fault arrived).
                if let Some(Flash { at, until, .. }) = &self.flash
                    && *until == Until::Faded
                    && (self.now - *at).num_milliseconds() as f64
                        > FLASH_WALL_SECS * 1000.0 * self.speed
                {
                    self.flash = None;
                    self.dirty = true;
                }
                self.tick_engine()
            }
            Action::Telemetry(id, result, received) => {
                self.board.apply(id, result, received);
                self.dirty = true;
                self.tick_engine()
            }
            Action::FaultInjected { name, at, result } => {
                self.dirty = true;
                // The injection time was read on another task: a tick handled meanwhile may be
                // later. The engine's clock (and so the record) never goes backwards.
                let injected = at;
                self.now = self.now.max(at);
                let at = self.now;
                match result {
                    Ok(()) => {
                        // Drills hide which fault arrived and when: finding out is the exercise.
                        if self.mode == Mode::Demo {
                            self.say(format!("fault injected: {name}"));
                        }
                        self.faults.push((at, name.clone()));
                        // The engine records it (its time starts the drill's time to detect).
                        return match &mut self.incident {
                            Some(incident) => incident.fault_injected(&name, injected, at),
                            None => vec![Effect::Record(
                                at,
                                crate::playbook::Event::FaultInjected { fault: name },
                            )],
                        };
                    }
                    Err(e) => self.say(format!("fault {name} not injected: {e}")),
                }
                Vec::new()
            }
            Action::Executor(input, now) => {
                self.dirty = true;
                self.now = self.now.max(now);
                let mut flash = None;
                let effects = match &mut self.incident {
                    Some(incident) => incident.handle(input, self.now, &mut flash),
                    None => Vec::new(),
                };
                if let Some(text) = flash {
                    self.say(text);
                }
                effects
            }
            Action::Journal(ack) => {
                self.dirty = true;
                match ack.result {
                    Ok(()) => {}
                    Err(e) => {
                        self.say(format!(
                            "JOURNAL WRITE FAILED: {e}. Steps that change the world are refused until \
                             the journal can be written (free disk space, fix permissions, then retry)."
                        ));
                        self.journal_error = Some(e);
                    }
                }
                Vec::new()
            }
            Action::Followed(events) => {
                self.dirty = true;
                for (seq, _, event) in &events {
                    self.joined_saw(*seq, event);
                }
                if let Some(incident) = &mut self.incident {
                    for (seq, at, event) in events {
                        let index = usize::try_from(seq).unwrap_or(usize::MAX);
                        if let Err(e) = incident.engine.apply_recorded(index, at, &event) {
                            self.say(format!("cannot follow: {e}"));
                            break;
                        }
                        incident.note_timeline(at, &event);
                        // The writer's clock is ahead of ours by the time since its last event.
                        self.now = self.now.max(at);
                        if incident.engine.is_finished() && incident.scorecard.is_none() {
                            incident.scorecard = Some(incident.engine.scorecard(at));
                        }
                    }
                }
                Vec::new()
            }
            Action::RestorePoints { step, result } => {
                self.dirty = true;
                if let Some(picker) = self
                    .incident
                    .as_mut()
                    .and_then(|i| i.points.as_mut())
                    .filter(|p| p.step == step)
                {
                    picker.loaded(result.map(|list| *list));
                }
                Vec::new()
            }
            Action::FollowFailed(why) => {
                self.dirty = true;
                self.say(format!("the followed journal cannot be read: {why}"));
                Vec::new()
            }
            Action::Paused(wall) => {
                self.pace_paused_for(wall);
                Vec::new()
            }
            Action::ShareMirror(status) => {
                self.dirty = true;
                if let Some(why) = &status.conflict
                    && !matches!(&self.share, Some(ShareState::Driving(s)) if s.conflict.is_some())
                {
                    self.say(format!("SHARED LOG: {why}"));
                }
                self.share = Some(ShareState::Driving(status));
                Vec::new()
            }
            Action::ShareCommand(command) => self.share_command_changed(command),
            Action::SharePanes(snapshot) => {
                // A joiner whose board has the one "shared panes" source (no pollers of its own).
                if matches!(self.share, Some(ShareState::Joined { .. }))
                    && self.board.sources.len() == 1
                    && self.board.sources[0].name == crate::share::panes::SOURCE
                {
                    self.board.apply(
                        crate::telemetry::SourceId(0),
                        Ok(snapshot.picture),
                        snapshot.at,
                    );
                    self.dirty = true;
                }
                Vec::new()
            }
            Action::ShareView(view) => {
                if let Some(ShareState::Joined { view: v, .. }) = &mut self.share {
                    *v = Some(view);
                    self.dirty = true;
                }
                Vec::new()
            }
            Action::ShareRequest {
                name,
                result,
                principal,
            } => self.share_request(name, result, principal),
            Action::ShareSent { ticket, result } => {
                self.share_sent(ticket, result);
                Vec::new()
            }
            Action::Quit => vec![Effect::Quit],
            Action::Signal(ExitSignal::Int) => {
                self.dirty = true;
                self.ask_quit()
            }
            Action::Signal(signal) => self.end_on_signal(signal),
        }
    }

    /// `H`: hand command of a shared incident over (the lease says so; the next `warroom join
    /// ... --take-command` takes it at once). Only once the shared log has every line, so the
    /// next driver rebuilds the whole incident.
    fn hand_over(&mut self) -> Vec<Effect> {
        self.dirty = true;
        match &self.share {
            Some(ShareState::Driving(status)) => {
                if status.behind > 0 || status.conflict.is_some() {
                    self.say(format!(
                        "not handed over: the shared log is {} line(s) behind; hand over once it \
                         caught up",
                        status.behind
                    ));
                    return Vec::new();
                }
                if self.share_command != Some(crate::share::lease::Command::Holding) {
                    self.say("not handed over: this console does not hold command");
                    return Vec::new();
                }
                self.say("handing command over...");
                vec![Effect::HandOver]
            }
            _ => {
                self.say("H hands command over in a shared war room (--share)");
                Vec::new()
            }
        }
    }

    /// The lease task says how this console's command stands.
    fn share_command_changed(&mut self, command: crate::share::lease::Command) -> Vec<Effect> {
        use crate::share::lease::Command;
        self.dirty = true;
        let effects = match &command {
            Command::Lost => {
                if let Some(incident) = &mut self.incident {
                    incident.engine.set_read_only(true);
                }
                self.read_only = true;
                self.say(
                    "COMMAND TAKEN: another console drives this incident now; this one changes \
                     nothing (q quits)",
                );
                Vec::new()
            }
            Command::HandedOver => {
                if let Some(incident) = &mut self.incident {
                    incident.engine.set_read_only(true);
                }
                self.read_only = true;
                self.handed_over = true;
                vec![Effect::Quit]
            }
            Command::HeldElsewhere(why) => {
                self.say(format!("not in command: {why}"));
                Vec::new()
            }
            Command::Unconfirmed(why) => {
                self.say(format!("command lease not renewed: {why}"));
                Vec::new()
            }
            Command::Holding => Vec::new(),
        };
        self.share_command = Some(command);
        effects
    }

    /// A request from someone who joined: to the engine (which records it, or refuses a
    /// replay), or recorded refused with the reason. A request already taken or refused is
    /// skipped (the store keeps them all; a resumed console sees them again).
    fn share_request(
        &mut self,
        name: String,
        result: Result<crate::share::request::Checked, crate::share::request::Refusal>,
        principal: Option<String>,
    ) -> Vec<Effect> {
        use crate::playbook::{Input, SharedAsk, SharedRequest, Signed};
        use crate::share::request::Body;
        let Some(incident) = &mut self.incident else {
            return Vec::new();
        };
        if self.following.is_some() || incident.engine.request_seen(&name) {
            return Vec::new();
        }
        self.dirty = true;
        let (input, said) = match result {
            Ok(checked) => {
                let p = checked.payload;
                let (ask, what) = match p.request {
                    Body::Note { text } => (SharedAsk::Note { text }, "note"),
                    Body::Milestone { text } => (SharedAsk::Milestone { text }, "milestone"),
                    Body::Approve {
                        step,
                        armed,
                        resource,
                    } => (
                        SharedAsk::Approve {
                            step,
                            armed,
                            resource,
                        },
                        "approval",
                    ),
                };
                let said = format!("{what} from {} ({})", p.principal, p.role.name());
                (
                    Input::SharedRequest(SharedRequest {
                        ask,
                        by: Signed {
                            request: p.id,
                            principal: p.principal,
                            role: p.role.name().to_string(),
                            key: checked.fingerprint,
                            sequence: p.sequence,
                            signed: checked.signed,
                            signature: checked.signature,
                        },
                    }),
                    said,
                )
            }
            Err(refusal) => {
                let said = format!(
                    "request {} from {} refused: {refusal}",
                    crate::text::echo(&name),
                    principal.as_deref().unwrap_or("(unknown)")
                );
                (
                    Input::RefuseRequest {
                        request: name,
                        principal,
                        reason: refusal.to_string(),
                    },
                    said,
                )
            }
        };
        let mut flash = None;
        let effects = incident.handle(input, self.now, &mut flash);
        self.say(flash.unwrap_or_else(|| said.into()));
        effects
    }

    /// `q`, Ctrl-C or SIGINT: quits at once, or during an incident after a second press.
    fn ask_quit(&mut self) -> Vec<Effect> {
        let in_progress = self.incident.as_ref().is_some_and(Incident::in_progress);
        if in_progress && !self.quit_armed && self.following.is_none() {
            self.quit_armed = true;
            self.say("an incident is in progress: press q (or Ctrl-C) again to quit (Esc stays)");
            return Vec::new();
        }
        // The journal says the console was closed on purpose (`console_closed`), not crashed.
        let mut effects = Vec::new();
        if in_progress
            && self.following.is_none()
            && let Some(incident) = &mut self.incident
        {
            let mut flash = None;
            effects = incident.handle(crate::playbook::Input::Close, self.now, &mut flash);
        }
        effects.push(Effect::Quit);
        effects
    }

    /// SIGTERM or SIGHUP: every running step is recorded `interrupted` (its executor killed,
    /// the step failed), then the console ends.
    fn end_on_signal(&mut self, signal: ExitSignal) -> Vec<Effect> {
        let mut effects = Vec::new();
        let mut interrupted = Vec::new();
        if self.following.is_none()
            && let Some(incident) = &mut self.incident
        {
            for (index, id, attempt) in incident.engine.running_steps() {
                let title = incident
                    .engine
                    .playbook()
                    .steps
                    .get(index)
                    .map_or_else(String::new, |s| s.title.clone());
                interrupted.push((id, title, attempt));
            }
            let mut flash = None;
            let input = crate::playbook::Input::Interrupt {
                signal: signal.name().to_string(),
            };
            effects = incident.handle(input, self.now, &mut flash);
        }
        self.signal_exit = Some(SignalExit {
            signal,
            interrupted,
        });
        effects.push(Effect::Quit);
        effects
    }

    fn tick_engine(&mut self) -> Vec<Effect> {
        if self.following.is_some() {
            // A mirror changes only by the events it reads: its engine's own timers and wait
            // conditions (target exceeded, RTO risk) belong to the console that writes.
            return Vec::new();
        }
        let Some(incident) = &mut self.incident else {
            return Vec::new();
        };
        let mut flash = None;
        let effects = incident.tick(self.now, &self.board.picture, &mut flash);
        if !effects.is_empty() || flash.is_some() {
            self.dirty = true;
        }
        if let Some(text) = flash {
            self.say(text);
        }
        effects
    }

    fn on_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        if key.kind == KeyEventKind::Release {
            return Vec::new();
        }
        if key.code == KeyCode::Char('c') && key.modifiers.contains(KeyModifiers::CONTROL) {
            // Asks like `q` does during an incident.
            self.dirty = true;
            return self.ask_quit();
        }
        self.dirty = true;
        // A joiner's open prompt takes every key.
        if self.joined.prompt.is_some()
            && let Some(effects) = self.on_joined_key(key)
        {
            return effects;
        }
        if self.filtering.is_some()
            && self.overlay.is_none()
            && !self.incident.as_ref().is_some_and(|i| {
                i.confirm.is_some() || i.prompt.is_some() || i.points.is_some() || i.show_scorecard
            })
            && self.on_filter_key(key)
        {
            return Vec::new();
        }
        if self.following.is_some()
            && self.overlay.is_none()
            && let Some(effects) = self.on_joined_key(key)
        {
            return effects;
        }
        if self.following.is_some() && !Self::viewing_key(key.code) {
            use crate::share::request::Role;
            // One who joined is told what its role may do here; a follower, that it only views.
            let said = match self.joined_role() {
                Some(Role::Approver) => {
                    "you joined as approver: A approves the step waiting for approval; \
                     the other keys only view (q quits)"
                }
                Some(Role::Scribe | Role::Commander) => {
                    "you joined as scribe: n adds a note, m marks a milestone; the other keys \
                     only view (q quits)"
                }
                Some(Role::Observer) => "you joined as observer: the keys here only view (q quits)",
                None => "read-only mirror of the incident: no key here changes anything (q quits)",
            };
            self.say(said);
            return Vec::new();
        }
        if let Some(effects) = self.on_incident_popup_key(key) {
            return effects;
        }
        match &mut self.overlay {
            Some(Overlay::Help) => {
                match key.code {
                    KeyCode::Esc | KeyCode::Char('?') | KeyCode::Enter => self.overlay = None,
                    // As anywhere: during an incident, a second press quits.
                    KeyCode::Char('q') => {
                        self.overlay = None;
                        return self.ask_quit();
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Some(Overlay::FaultMenu { selected }) => {
                match key.code {
                    KeyCode::Esc | KeyCode::Char('f') => self.overlay = None,
                    KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => {
                        *selected = (*selected + 1).min(FAULTS.len() - 1)
                    }
                    KeyCode::Enter => {
                        let name = FAULTS[(*selected).min(FAULTS.len() - 1)].0;
                        self.overlay = None;
                        return vec![Effect::InjectFault(name.to_string())];
                    }
                    KeyCode::Char(c @ '1'..='4') => {
                        let index = usize::from(c as u8 - b'1');
                        self.overlay = None;
                        return vec![Effect::InjectFault(FAULTS[index].0.to_string())];
                    }
                    _ => {}
                }
                return Vec::new();
            }
            Some(Overlay::Picker { selected }) => {
                match key.code {
                    KeyCode::Esc | KeyCode::Char('p') => self.overlay = None,
                    KeyCode::Up | KeyCode::Char('k') => *selected = selected.saturating_sub(1),
                    KeyCode::Down | KeyCode::Char('j') => {
                        *selected = (*selected + 1).min(self.playbooks.len().saturating_sub(1));
                    }
                    KeyCode::Enter => {
                        let chosen = self.playbooks.get(*selected).cloned();
                        self.overlay = None;
                        if let Some(playbook) = chosen {
                            let title = playbook.title.clone();
                            self.replaced = Some((self.incident.take(), self.journal_path.take()));
                            self.start_incident(playbook);
                            self.say(format!(
                                "{title}: Enter declares the incident and starts step 1"
                            ));
                            return vec![Effect::NewIncident];
                        }
                    }
                    _ => {}
                }
                return Vec::new();
            }
            None => {}
        }
        if key.code != KeyCode::Char('q') {
            self.quit_armed = false;
        }
        match key.code {
            KeyCode::Char('q') => return self.ask_quit(),
            KeyCode::Char('?') => self.overlay = Some(Overlay::Help),
            KeyCode::Char('f') => {
                if self.mode == Mode::Demo {
                    self.overlay = Some(Overlay::FaultMenu { selected: 0 });
                } else {
                    self.say(format!(
                        "the fault menu is for demo mode only (this is {})",
                        self.mode.badge()
                    ));
                }
            }
            KeyCode::Char('p') => {
                if self.incident.as_ref().is_some_and(Incident::in_progress) {
                    self.say("an incident is in progress: finish it, or abort it with a, before picking another playbook");
                } else if self.mode == Mode::Drill && self.incident.is_some() {
                    // A drill's fault is the one its playbook trains for: another playbook
                    // would walk a different scenario against it.
                    self.say(
                        "a drill keeps its playbook (the fault coming is the one it trains for): \
                         quit and run warroom drill NAME for another",
                    );
                } else if self.playbooks.is_empty() {
                    self.say("no playbooks loaded (see warroom check)");
                } else {
                    // The current playbook first under the cursor: a stray Enter keeps it.
                    let current = self
                        .incident
                        .as_ref()
                        .map(|i| i.engine.playbook().id.clone());
                    let selected = self
                        .playbooks
                        .iter()
                        .position(|p| Some(&p.id) == current.as_ref())
                        .unwrap_or(0);
                    self.overlay = Some(Overlay::Picker { selected });
                }
            }
            KeyCode::Char('v') => {
                self.narrow_view = match self.narrow_view {
                    NarrowView::Playbook => NarrowView::Panes,
                    NarrowView::Panes => NarrowView::Playbook,
                };
            }
            // The session clock's pace (drills and demos): see `pace.rs`.
            KeyCode::Char('P') => return self.pace_pause_key(),
            KeyCode::Char('>') => return self.pace_fast_forward_key(),
            KeyCode::Tab => self.focus = self.cycle_focus(1),
            KeyCode::BackTab => self.focus = self.cycle_focus(-1),
            KeyCode::Down | KeyCode::Char('j') => self.scroll(1),
            KeyCode::Up | KeyCode::Char('k') => self.scroll(-1),
            // In the playbook the arrows move the checklist cursor and the page keys scroll the
            // step's guide, output and timeline; in a pane every key moves the selected row.
            KeyCode::PageDown => match self.playbook_scroll() {
                Some(scroll) => scroll.page_by(1),
                None => self.scroll(10),
            },
            KeyCode::PageUp => match self.playbook_scroll() {
                Some(scroll) => scroll.page_by(-1),
                None => self.scroll(-10),
            },
            KeyCode::Home | KeyCode::Char('g') => match self.playbook_scroll() {
                Some(scroll) => scroll.home(),
                None => {
                    if self.focus != Focus::Playbook {
                        self.panes[self.focus.index()].selected = None;
                    }
                }
            },
            KeyCode::End | KeyCode::Char('G') => match self.playbook_scroll() {
                Some(scroll) => scroll.end(),
                None => self.scroll(isize::MAX / 2),
            },
            KeyCode::Char('/') => {
                if self.focus == Focus::Playbook {
                    self.say("/ filters a live pane: Tab to Replica lag, Backups or Regions first");
                } else {
                    self.filtering = Some(self.focus);
                }
            }
            KeyCode::Esc => {
                if self.focus != Focus::Playbook {
                    self.panes[self.focus.index()].filter.clear();
                }
                self.flash = None;
                if let Some(incident) = &mut self.incident {
                    incident.show_scorecard = false;
                }
            }
            _ => return self.on_incident_key(key),
        }
        Vec::new()
    }

    /// The playbook's scrolled detail, when the playbook has focus.
    fn playbook_scroll(&mut self) -> Option<&mut incident::Scroll> {
        if self.focus != Focus::Playbook {
            return None;
        }
        self.incident.as_mut().map(|i| &mut i.detail)
    }

    /// Keys while a filter is typed: characters, Backspace, Enter (done) and Esc (clear) edit
    /// it; Tab ends it and moves on. Returns false for keys it leaves to the console (arrows
    /// still scroll).
    fn on_filter_key(&mut self, key: KeyEvent) -> bool {
        let Some(focus) = self.filtering else {
            return false;
        };
        let view = &mut self.panes[focus.index()];
        match key.code {
            KeyCode::Char(c)
                if !c.is_control()
                    && !key
                        .modifiers
                        .intersects(KeyModifiers::CONTROL | KeyModifiers::ALT) =>
            {
                if view.filter.chars().count() < FILTER_MAX_CHARS {
                    view.filter.push(c);
                }
            }
            KeyCode::Backspace => {
                view.filter.pop();
            }
            KeyCode::Enter => self.filtering = None,
            KeyCode::Esc => {
                view.filter.clear();
                self.filtering = None;
            }
            KeyCode::Tab | KeyCode::BackTab => {
                self.filtering = None;
                return false;
            }
            _ => return false,
        }
        true
    }

    /// Keys that only change what is shown (all a follower may press).
    fn viewing_key(code: KeyCode) -> bool {
        matches!(
            code,
            KeyCode::Char('q' | '?' | 'v' | 'j' | 'k' | 'g' | 'G' | '/')
                | KeyCode::Tab
                | KeyCode::BackTab
                | KeyCode::Up
                | KeyCode::Down
                | KeyCode::PageUp
                | KeyCode::PageDown
                | KeyCode::Home
                | KeyCode::End
                | KeyCode::Esc
        )
    }

    /// Keys of the confirmation dialog, typed prompts and the scorecard, which take every key.
    fn on_incident_popup_key(&mut self, key: KeyEvent) -> Option<Vec<Effect>> {
        let now = self.now;
        let incident = self.incident.as_mut()?;
        let mut flash = None;
        let effects = if incident.editor.is_some() {
            incident.editor_key(key, now, &mut flash)
        } else if let Some(dialog) = &mut incident.confirm {
            let destructive = dialog.request.destructive;
            match key.code {
                KeyCode::Char('e') if !destructive && dialog.request.message.is_some() => {
                    incident.open_editor(&mut flash);
                    Vec::new()
                }
                // ↑ ↓ scroll the message to people (when there is one); PgUp PgDn the dialog.
                KeyCode::Down if dialog.request.message.is_some() => {
                    // Never past the message's rows at the narrowest width (the view clamps
                    // further): Up then answers at once.
                    let rows = dialog.request.message.as_deref().map_or(0, |m| {
                        crate::playbook::model::message_lines(m).len() + m.chars().count() / 20
                    });
                    dialog.message_scroll = (dialog.message_scroll + 1).min(rows);
                    Vec::new()
                }
                KeyCode::Up if dialog.request.message.is_some() => {
                    dialog.message_scroll = dialog.message_scroll.saturating_sub(1);
                    Vec::new()
                }
                KeyCode::Esc => incident.cancel_confirm(now, &mut flash),
                KeyCode::Enter => incident.submit_confirm(now, &mut flash),
                KeyCode::Char('y') if !destructive => incident.submit_confirm(now, &mut flash),
                KeyCode::Char('n') if !destructive => incident.cancel_confirm(now, &mut flash),
                KeyCode::Backspace if destructive => {
                    dialog.typed.pop();
                    Vec::new()
                }
                KeyCode::PageDown | KeyCode::Down => {
                    dialog.scroll.page_by(1);
                    Vec::new()
                }
                KeyCode::PageUp | KeyCode::Up => {
                    dialog.scroll.page_by(-1);
                    Vec::new()
                }
                KeyCode::Char(c) if destructive && !c.is_control() => {
                    dialog.typed.push(c);
                    Vec::new()
                }
                _ => Vec::new(),
            }
        } else if incident.points.is_some() {
            match points::Key::of(key.code) {
                Some(k) => incident.points_key(k, now, &mut flash),
                None => Vec::new(),
            }
        } else if let Some(prompt) = &mut incident.prompt {
            match key.code {
                KeyCode::Esc => {
                    incident.prompt = None;
                    Vec::new()
                }
                KeyCode::Enter => incident.submit_prompt(now, &mut flash),
                KeyCode::Backspace => {
                    prompt.text.pop();
                    Vec::new()
                }
                KeyCode::Char(c) if !c.is_control() => {
                    prompt.text.push(c);
                    Vec::new()
                }
                _ => Vec::new(),
            }
        } else if incident.show_scorecard {
            match key.code {
                KeyCode::Esc | KeyCode::Enter => incident.show_scorecard = false,
                KeyCode::Char('q') => return Some(vec![Effect::Quit]),
                KeyCode::Down | KeyCode::Char('j') => {
                    incident.card.offset =
                        Some((incident.card.shown.get() + 1).min(incident.card.max.get()))
                }
                KeyCode::Up | KeyCode::Char('k') => {
                    incident.card.offset = Some(incident.card.shown.get().saturating_sub(1))
                }
                KeyCode::PageDown | KeyCode::Char(' ') => incident.card.page_by(1),
                KeyCode::PageUp => incident.card.page_by(-1),
                KeyCode::Home | KeyCode::Char('g') => incident.card.home(),
                KeyCode::End | KeyCode::Char('G') => incident.card.end(),
                _ => {}
            }
            Vec::new()
        } else {
            return None;
        };
        if let Some(text) = flash {
            self.say(text);
        }
        Some(effects)
    }

    /// Playbook keys: Enter, s, r (the playbook on screen), Space (the playbook focused), a,
    /// n, d.
    fn on_incident_key(&mut self, key: KeyEvent) -> Vec<Effect> {
        let now = self.now;
        if self.incident.is_none() {
            if matches!(
                key.code,
                KeyCode::Enter | KeyCode::Char(' ' | 's' | 'r' | 'a' | 'n' | 'd' | 'x' | 'u' | 't')
            ) {
                self.say("no incident: p picks a playbook");
            } else {
                self.dirty = false;
            }
            return Vec::new();
        }
        // The playbook's keys act only on what is on screen: never from the panes view, and
        // Space ticks only the item under the visible cursor (the playbook focused).
        let playbook_key = matches!(
            key.code,
            KeyCode::Enter | KeyCode::Char(' ' | 's' | 'r' | 't')
        );
        let hidden = !self.visible_focus().contains(&Focus::Playbook);
        if playbook_key && hidden {
            self.say(Said::until(PLAYBOOK_HIDDEN, Until::PlaybookShown));
            return Vec::new();
        }
        if key.code == KeyCode::Char(' ') && self.focus != Focus::Playbook {
            self.say("Space ticks the checklist item under ›: Tab to the playbook first");
            return Vec::new();
        }
        if key.code == KeyCode::Char('H') {
            return self.hand_over();
        }
        let Some(incident) = self.incident.as_mut() else {
            return Vec::new();
        };
        let mut flash = None;
        let effects = match key.code {
            KeyCode::Enter => incident.enter(now, &mut flash),
            KeyCode::Char(' ') => incident.toggle_item(now, &mut flash),
            KeyCode::Char('x') => incident.not_applicable(now, &mut flash),
            KeyCode::Char('s') => {
                incident.start_skip(&mut flash);
                Vec::new()
            }
            KeyCode::Char('r') => incident.retry(now, &mut flash),
            KeyCode::Char('u') => incident.reminder_done(now, &mut flash),
            KeyCode::Char('t') => incident.open_points(&mut flash),
            KeyCode::Char('a') => {
                if incident.engine.is_finished() {
                    flash = Some("the incident is already over".into());
                } else {
                    incident.prompt = Some(Prompt {
                        kind: PromptKind::Abort,
                        text: String::new(),
                    });
                }
                Vec::new()
            }
            KeyCode::Char('n') => {
                incident.prompt = Some(Prompt {
                    kind: PromptKind::Note,
                    text: String::new(),
                });
                Vec::new()
            }
            KeyCode::Char('d') => {
                if self.mode == Mode::Drill {
                    flash = Some(
                        "in a drill the outage began when the fault was injected: that is on \
                         record already"
                            .into(),
                    );
                } else {
                    incident.prompt = Some(Prompt {
                        kind: PromptKind::Disruption,
                        text: String::new(),
                    });
                }
                Vec::new()
            }
            _ => {
                self.dirty = false;
                Vec::new()
            }
        };
        if let Some(text) = flash {
            self.say(text);
        }
        effects
    }

    /// The focus order over what is on screen: the playbook first when it shows.
    fn cycle_focus(&self, by: isize) -> Focus {
        let order = self.visible_focus();
        if order.is_empty() {
            return self.focus;
        }
        let here = order.iter().position(|f| *f == self.focus).unwrap_or(0);
        let len = order.len() as isize;
        order[usize::try_from((here as isize + by).rem_euclid(len)).unwrap_or(0)]
    }

    fn scroll(&mut self, by: isize) {
        if self.focus == Focus::Playbook {
            if let Some(incident) = &mut self.incident {
                incident.move_item(by.clamp(-1000, 1000));
            }
            return;
        }
        let keys = self.pane_keys(self.focus);
        let Some(max) = keys.len().checked_sub(1) else {
            return;
        };
        let here = self.selected_row(self.focus);
        let to = here.saturating_add_signed(by).min(max);
        self.panes[self.focus.index()].selected = keys.into_iter().nth(to);
    }

    /// The RPO objective the panes compare with: the open incident's (its playbook's), else
    /// the environment's.
    pub fn rpo_objective(&self) -> crate::duration::Dur {
        self.incident
            .as_ref()
            .map_or(self.env.objectives.rpo, |i| i.engine.settings().rpo)
    }

    /// A live pane's rows in the order shown (problems first, its filter applied).
    pub fn pane_keys(&self, focus: Focus) -> Vec<RowKey> {
        use crate::ui::panes;
        let filter = self.panes[focus.index()].filter.as_str();
        let (board, env, now) = (&self.board, &self.env, self.now);
        match focus {
            Focus::Lag => panes::lag::keys(board, env, self.rpo_objective(), filter),
            Focus::Backups => panes::backups::keys(board, env, now, filter),
            Focus::Regions => panes::regions::keys(board, env, now, filter),
            Focus::Playbook => Vec::new(),
        }
    }

    /// Rows a live pane shows (its filter applied).
    pub fn row_count(&self, focus: Focus) -> usize {
        self.pane_keys(focus).len()
    }

    /// The position of a live pane's selected row among the rows it shows (0 when nothing is
    /// selected or the selected resource is not shown).
    pub fn selected_row(&self, focus: Focus) -> usize {
        let Some(key) = &self.panes[focus.index()].selected else {
            return 0;
        };
        self.pane_keys(focus)
            .iter()
            .position(|k| k == key)
            .unwrap_or(0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::source::Feeds;
    use chrono::{TimeDelta, TimeZone};
    use ratatui::crossterm::event::KeyEvent;

    /// `q` in the help overlay during an incident asks first, as everywhere else: it quit at
    /// once.
    #[test]
    fn q_in_the_help_asks_first_during_an_incident() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        key(&mut a, KeyCode::Enter);
        key(&mut a, KeyCode::Char('?'));
        assert!(a.overlay.is_some(), "help is open");
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![]);
        assert!(
            a.flash
                .as_ref()
                .is_some_and(|f| f.text.contains("again to quit")),
            "{:?}",
            a.flash
        );
        // The second press quits, and the journal says it was on purpose.
        let fx = key(&mut a, KeyCode::Char('q'));
        assert_eq!(fx.last(), Some(&Effect::Quit), "{fx:?}");
        assert!(
            fx.iter().any(|e| matches!(
                e,
                Effect::Record(
                    _,
                    crate::playbook::Event::ConsoleClosed { signal: None, .. }
                )
            )),
            "{fx:?}"
        );
    }

    /// The drill's welcome ("a fault will arrive ...") goes once the incident is declared; it
    /// stayed on screen through the first steps.
    #[test]
    fn the_drill_welcome_goes_once_declared() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        a.flash = Some(drill_welcome(a.now));
        a.update(Action::Tick(a.now));
        assert!(a.flash.as_ref().is_some_and(|f| f.text == DRILL_WELCOME));
        key(&mut a, KeyCode::Enter);
        assert!(
            a.incident
                .as_ref()
                .and_then(|i| i.engine.declared_at())
                .is_some(),
            "Enter declares"
        );
        assert!(
            a.flash.as_ref().is_none_or(|f| f.text != DRILL_WELCOME),
            "{:?}",
            a.flash
        );
    }

    /// The refusal "tick every checklist item first" goes once step 1's items are ticked: its
    /// end condition comes with it from the engine (not from matching its words, which a
    /// message that merely starts the same way does not share).
    #[test]
    fn the_unticked_refusal_goes_once_ticked_and_only_it() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        let items = pb.steps[0].checklist.len();
        assert!(items > 0, "step 1 of region-loss has a checklist");
        a.start_incident(pb);
        key(&mut a, KeyCode::Enter); // declare
        key(&mut a, KeyCode::Enter); // refused: nothing ticked
        let flash = a.flash.clone().expect("a refusal on the message line");
        assert!(
            flash
                .text
                .starts_with(crate::playbook::engine::UNTICKED_REFUSAL),
            "{flash:?}"
        );
        assert_eq!(flash.until, Until::Ticked { step: 0 });
        for i in 0..items {
            assert!(a.flash.is_some(), "still {} unticked", items - i);
            key(&mut a, KeyCode::Char(' '));
            key(&mut a, KeyCode::Down);
        }
        assert_eq!(a.flash, None, "gone once every item is ticked");

        // The same words said as an ordinary message stay until they fade.
        a.say(format!(
            "{} (quoted)",
            crate::playbook::engine::UNTICKED_REFUSAL
        ));
        a.update(Action::Tick(a.now));
        assert!(a.flash.is_some());
    }

    /// The drill's welcome stays past the fade of ordinary messages: it faded after a minute,
    /// before the fault arrived, and nothing then said what to watch for.
    #[test]
    fn the_drill_welcome_outlasts_the_fade() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        a.flash = Some(drill_welcome(a.now));
        let later = a.now + TimeDelta::seconds(600);
        a.update(Action::Tick(later));
        assert!(a.flash.as_ref().is_some_and(|f| f.text == DRILL_WELCOME));
        // An ordinary message fades.
        a.say("something else");
        a.update(Action::Tick(later + TimeDelta::seconds(600)));
        assert_eq!(a.flash, None);
    }

    /// The timeline is in time order once the incident is declared (a pause recorded before
    /// the declaration read above the outage that began earlier), and a notify step's
    /// confirmation is one line, its message summarised (no `\n` escapes).
    #[test]
    fn the_timeline_is_in_time_order_and_a_message_is_one_line() {
        use crate::playbook::Event;
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        let t0 = a.now;
        let incident = a.incident.as_mut().expect("incident");
        incident.note_timeline(
            t0 + TimeDelta::seconds(10),
            &Event::Disrupted {
                since: t0 + TimeDelta::seconds(10),
                evidence: "fault".into(),
                reason: None,
                by: None,
            },
        );
        incident.note_timeline(t0 + TimeDelta::seconds(60), &Event::ClockPaused {});
        incident.note_timeline(
            t0 + TimeDelta::seconds(90),
            &Event::Declared {
                playbook: "region-loss".into(),
                title: "Region loss".into(),
                hash: String::new(),
                rto_secs: 1800,
                rpo_secs: 300,
                read_only: false,
            },
        );
        incident.note_timeline(
            t0 + TimeDelta::seconds(100),
            &Event::Confirmed {
                step: "notify".into(),
                command: format!("notify.webhook message={:?}", "[DRILL] one\ntwo\nthree"),
                attempt: 1,
                destructive: false,
                typed: None,
                evidence: Default::default(),
                by: String::new(),
            },
        );
        let times: Vec<_> = incident.timeline.iter().map(|(at, _)| *at).collect();
        let mut sorted = times.clone();
        sorted.sort();
        assert_eq!(times, sorted, "{:?}", incident.timeline);
        let confirmed = &incident.timeline.back().expect("an entry").1;
        assert_eq!(
            confirmed,
            "notify: CONFIRMED notify.webhook message=(3 lines, 21 characters) (attempt 1)"
        );
    }

    /// The restore-point picker (`t`): asks the runtime for the list, says "loading" until it
    /// arrives, shows a failure and still offers the named choices, a typed time and Esc (the
    /// playbook's `to`); a refused choice keeps it open with the engine's reason; an accepted
    /// one opens the confirmation with that point.
    #[test]
    fn the_restore_point_picker_loads_fails_refuses_and_chooses() {
        let mut a = app(Mode::Drill);
        let src = r#"
id = "restore"
title = "Restore"
scenario = "custom"
summary = "One restore."
rto = "1h"
rpo = "15m"

[[steps]]
id = "restore"
title = "Restore the primary"
target = "30m"
action = "db.restore"
with = { db = "primary", backup = "snapshots", to = "latest-verified-backup" }
destructive = true
"#;
        let pb = crate::playbook::parse("restore.toml", src, &a.env).expect("valid playbook");
        a.start_incident(pb);
        key(&mut a, KeyCode::Enter); // declare
        a.update(Action::Tick(a.now)); // the engine sees the picture
        let screen = |a: &App| {
            let mut t = ratatui::Terminal::new(ratatui::backend::TestBackend::new(80, 24))
                .expect("terminal");
            t.draw(|f| crate::ui::draw(f, a)).expect("draw");
            let buf = t.backend().buffer().clone();
            (0..buf.area.height)
                .map(|y| {
                    (0..buf.area.width)
                        .map(|x| buf[(x, y)].symbol().to_string())
                        .collect::<String>()
                })
                .collect::<Vec<_>>()
                .join("\n")
        };
        assert!(screen(&a).contains("t restore point"), "{}", screen(&a));
        let effects = key(&mut a, KeyCode::Char('t'));
        assert!(
            matches!(
                effects.as_slice(),
                [Effect::LoadRestorePoints { step: 0, db, series, .. }]
                    if db == "primary" && series == "snapshots"
            ),
            "{effects:?}"
        );
        assert!(screen(&a).contains("loading restore points…"));
        // Nothing to choose while loading.
        assert!(key(&mut a, KeyCode::Enter).is_empty());
        a.update(Action::RestorePoints {
            step: 0,
            result: Err("the WAL archive cannot be read".into()),
        });
        let s = screen(&a);
        assert!(s.contains("could not be listed"), "{s}");
        assert!(s.contains("latest-verified-backup"), "{s}");
        // Esc: the playbook's `to` stands.
        key(&mut a, KeyCode::Esc);
        let incident = a.incident.as_ref().expect("incident");
        assert!(incident.points.is_none());
        assert!(
            a.flash.as_ref().is_some_and(|f| f
                .text
                .contains("the playbook's to = latest-verified-backup")),
            "{:?}",
            a.flash
        );
        // Open it again: a time before every backup is refused by the engine's resolver, and
        // the picker stays open with why.
        key(&mut a, KeyCode::Char('t'));
        a.update(Action::RestorePoints {
            step: 0,
            result: Err("no list".into()),
        });
        for c in "2000-01-01T00:00:00Z".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        key(&mut a, KeyCode::Enter);
        let incident = a.incident.as_ref().expect("incident");
        let refused = incident
            .points
            .as_ref()
            .and_then(|p| p.refused.clone())
            .expect("refused, still open");
        assert!(refused.contains("no good backup"), "{refused}");
        assert!(incident.confirm.is_none());
        // Said once: the resolver's words, not the engine's "restore point ... refused:" too.
        let s = screen(&a);
        assert!(s.contains("refused:"), "{s}");
        assert!(!s.contains("refused: restore point"), "{s}");
        assert_eq!(s.matches("refused").count(), 1, "{s}");
        assert_eq!(s.matches("no good backup taken before").count(), 1, "{s}");
        // Back to the list: the refusal goes with the text it answered.
        key(&mut a, KeyCode::Esc);
        assert!(!screen(&a).contains("refused:"));
        // No restore test on record: latest-verified-backup is refused with why, not
        // silently another backup.
        key(&mut a, KeyCode::Down);
        key(&mut a, KeyCode::Enter);
        let incident = a.incident.as_ref().expect("incident");
        let refused = incident
            .points
            .as_ref()
            .and_then(|p| p.refused.clone())
            .expect("latest-verified-backup refused");
        assert!(
            refused.starts_with("latest-verified-backup: no verified backup"),
            "{refused}"
        );
        assert!(refused.contains("backup.verify"), "{refused}");
        assert_eq!(incident.engine.picked_restore_point(0), None);
        // The newest good backup is taken (it claims no verification) and the confirmation
        // opens with it.
        key(&mut a, KeyCode::Down);
        assert!(!screen(&a).contains("refused:"));
        key(&mut a, KeyCode::Enter);
        let incident = a.incident.as_ref().expect("incident");
        assert!(incident.points.is_none());
        assert_eq!(
            incident.engine.picked_restore_point(0),
            Some(crate::recovery::RestoreTo::NewestGoodBackup)
        );
        let dialog = incident.confirm.as_ref().expect("the confirmation opened");
        assert_eq!(
            dialog.request.restore.as_ref().map(|r| r.to),
            Some(crate::recovery::RestoreTo::NewestGoodBackup)
        );
    }

    /// The shipped region-loss playbook, validated against `env`.
    fn shipped_region_loss(env: &Environment) -> Playbook {
        let src = crate::playbook::SHIPPED
            .iter()
            .find(|(id, _)| *id == "region-loss")
            .map(|(_, src)| *src)
            .expect("region-loss is shipped");
        crate::playbook::parse("<shipped>/region-loss.toml", src, env).expect("valid playbook")
    }

    fn app(mode: Mode) -> App {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid");
        let env = Environment::demo();
        let mut sim = crate::sim::Sim::new(&env, 1, now);
        sim.advance(now);
        let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
        board.apply(crate::telemetry::SourceId(0), Ok(sim.sample()), now);
        App::new(env, mode, Theme::fallback(), board, now, 1.0)
    }

    fn key(app: &mut App, code: KeyCode) -> Vec<Effect> {
        app.update(Action::Key(KeyEvent::from(code)))
    }

    #[test]
    fn q_and_ctrl_c_quit() {
        let mut a = app(Mode::Demo);
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Quit]);
        let ctrl_c = KeyEvent::new(KeyCode::Char('c'), KeyModifiers::CONTROL);
        assert_eq!(a.update(Action::Key(ctrl_c)), vec![Effect::Quit]);
        assert_eq!(a.update(Action::Quit), vec![Effect::Quit]);
    }

    #[test]
    fn help_opens_and_closes() {
        let mut a = app(Mode::Demo);
        key(&mut a, KeyCode::Char('?'));
        assert_eq!(a.overlay, Some(Overlay::Help));
        // Keys other than close/quit do nothing while help is open.
        assert!(key(&mut a, KeyCode::Char('f')).is_empty());
        assert_eq!(a.overlay, Some(Overlay::Help));
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.overlay, None);
    }

    #[test]
    fn tab_cycles_focus_both_ways() {
        let mut a = app(Mode::Demo);
        assert_eq!(a.focus, Focus::Lag);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Backups);
        key(&mut a, KeyCode::Tab);
        key(&mut a, KeyCode::Tab);
        assert_eq!(a.focus, Focus::Lag);
        key(&mut a, KeyCode::BackTab);
        assert_eq!(a.focus, Focus::Regions);
    }

    #[test]
    fn scrolling_is_clamped_to_the_rows() {
        let mut a = app(Mode::Demo);
        key(&mut a, KeyCode::Tab); // Backups: six series in the demo
        let rows = a.row_count(Focus::Backups);
        assert_eq!(rows, 6);
        for _ in 0..20 {
            key(&mut a, KeyCode::Char('j'));
        }
        assert_eq!(a.selected_row(Focus::Backups), rows - 1);
        key(&mut a, KeyCode::Up);
        assert_eq!(a.selected_row(Focus::Backups), rows - 2);
        key(&mut a, KeyCode::Char('g'));
        assert_eq!(a.selected_row(Focus::Backups), 0);
        key(&mut a, KeyCode::Char('G'));
        assert_eq!(a.selected_row(Focus::Backups), rows - 1);
        // Other panes keep their own selection.
        assert_eq!(a.selected_row(Focus::Lag), 0);
    }

    #[test]
    fn slash_filters_the_focused_pane_and_esc_clears_it() {
        let mut a = app(Mode::Demo);
        key(&mut a, KeyCode::Tab); // Backups
        assert_eq!(a.row_count(Focus::Backups), 6);
        key(&mut a, KeyCode::Char('/'));
        assert_eq!(a.filtering, Some(Focus::Backups));
        // Typed keys go to the filter, not to the console (`q` would quit, `p` pick).
        for c in "DUMPq".chars() {
            assert!(key(&mut a, KeyCode::Char(c)).is_empty());
        }
        key(&mut a, KeyCode::Backspace);
        assert_eq!(a.panes[Focus::Backups.index()].filter, "DUMP");
        assert_eq!(a.row_count(Focus::Backups), 1, "only daily-dump");
        // Enter keeps the filter and gives the keys back; other panes are not filtered.
        key(&mut a, KeyCode::Enter);
        assert_eq!(a.filtering, None);
        assert_eq!(a.row_count(Focus::Lag), 1);
        assert_eq!(key(&mut a, KeyCode::Char('q')), vec![Effect::Quit]);
        // Esc clears it.
        key(&mut a, KeyCode::Esc);
        assert_eq!(a.panes[Focus::Backups.index()].filter, "");
        assert_eq!(a.row_count(Focus::Backups), 6);
        // Esc while typing clears too; nothing matching leaves no rows and no selection moves.
        key(&mut a, KeyCode::Char('/'));
        for c in "zzz".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        assert_eq!(a.row_count(Focus::Backups), 0);
        key(&mut a, KeyCode::Char('j'));
        key(&mut a, KeyCode::Down);
        assert_eq!(a.selected_row(Focus::Backups), 0);
        key(&mut a, KeyCode::Esc);
        assert_eq!((a.filtering, a.row_count(Focus::Backups)), (None, 6));
    }

    #[test]
    fn the_selection_follows_its_resource_when_rows_resort() {
        let mut a = app(Mode::Demo);
        key(&mut a, KeyCode::Tab); // Backups
        key(&mut a, KeyCode::Char('G'));
        let keys = a.pane_keys(Focus::Backups);
        let chosen = keys.last().cloned().expect("rows");
        assert_eq!(
            a.panes[Focus::Backups.index()].selected,
            Some(chosen.clone())
        );
        let crate::ui::panes::RowKey::Name(name) = &chosen else {
            panic!("a backup row is named: {chosen:?}");
        };
        // That series now fails: it sorts first, and the selection goes with it.
        let mut picture = a.board.picture.clone();
        let b = picture
            .backups
            .iter_mut()
            .find(|b| b.name == *name)
            .expect("series");
        b.last_outcome = Some(crate::telemetry::AttemptOutcome::Failed);
        a.board
            .apply(crate::telemetry::SourceId(0), Ok(picture), a.now);
        assert_eq!(a.pane_keys(Focus::Backups).first(), Some(&chosen));
        assert_eq!(a.selected_row(Focus::Backups), 0);
        assert_eq!(a.panes[Focus::Backups.index()].selected, Some(chosen));
    }

    #[test]
    fn slash_on_the_playbook_says_what_to_do() {
        let mut a = app(Mode::Demo);
        a.focus = Focus::Playbook;
        key(&mut a, KeyCode::Char('/'));
        assert_eq!(a.filtering, None);
        assert!(a.flash.as_ref().is_some_and(|f| f.text.contains("Tab")));
    }

    #[test]
    fn fault_menu_emits_the_chosen_fault() {
        let mut a = app(Mode::Demo);
        key(&mut a, KeyCode::Char('f'));
        assert_eq!(a.overlay, Some(Overlay::FaultMenu { selected: 0 }));
        key(&mut a, KeyCode::Down);
        let effects = key(&mut a, KeyCode::Enter);
        assert_eq!(effects, vec![Effect::InjectFault("region-loss".into())]);
        assert_eq!(a.overlay, None);
        key(&mut a, KeyCode::Char('f'));
        assert_eq!(
            key(&mut a, KeyCode::Char('4')),
            vec![Effect::InjectFault("breach".into())]
        );
        key(&mut a, KeyCode::Char('f'));
        assert!(key(&mut a, KeyCode::Esc).is_empty());
        assert_eq!(a.overlay, None);
    }

    #[test]
    fn fault_menu_is_demo_only() {
        for mode in [Mode::Drill, Mode::Live] {
            let mut a = app(mode);
            assert!(key(&mut a, KeyCode::Char('f')).is_empty());
            assert_eq!(a.overlay, None);
            let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
            assert!(flash.contains("demo mode only"), "{flash}");
        }
    }

    #[test]
    fn redraw_only_when_something_visible_changed() {
        let mut a = app(Mode::Demo);
        assert!(a.take_dirty(), "first frame");
        assert!(!a.take_dirty());
        // A tick within the same displayed second changes nothing visible.
        a.update(Action::Tick(a.now + TimeDelta::milliseconds(300)));
        assert!(!a.take_dirty());
        a.update(Action::Tick(a.now + TimeDelta::seconds(1)));
        assert!(a.take_dirty());
        // A key that means nothing does not redraw.
        key(&mut a, KeyCode::Char('%'));
        assert!(!a.take_dirty());
    }

    #[test]
    fn injected_fault_shows_in_bar_and_message() {
        let mut a = app(Mode::Demo);
        a.update(Action::FaultInjected {
            at: a.now,
            name: "az-loss".into(),
            result: Ok(()),
        });
        assert_eq!(a.faults.last().map(|(_, n)| n.as_str()), Some("az-loss"));
        a.update(Action::FaultInjected {
            at: a.now,
            name: "breach".into(),
            result: Err("already active".into()),
        });
        assert_eq!(a.faults.len(), 1);
        let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(
            flash.contains("breach not injected: already active"),
            "{flash}"
        );
    }

    #[test]
    fn a_late_fault_report_never_takes_the_record_back_in_time() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        let injected = a.now;
        // A tick handled before the fault's report, which was timed on another task.
        a.update(Action::Tick(injected + TimeDelta::seconds(5)));
        let effects = a.update(Action::FaultInjected {
            at: injected,
            name: "region-loss".into(),
            result: Ok(()),
        });
        let times: Vec<_> = effects
            .iter()
            .filter_map(|e| match e {
                Effect::Record(at, _) => Some(*at),
                _ => None,
            })
            .collect();
        assert!(!times.is_empty(), "the fault is recorded: {effects:?}");
        assert!(
            times.iter().all(|t| *t >= injected + TimeDelta::seconds(5)),
            "recorded before the newest tick: {times:?}"
        );
        // The outage still starts when the fault took effect (where a lost window ends), not
        // when its report was handled.
        let since = effects.iter().find_map(|e| match e {
            Effect::Record(_, crate::playbook::Event::Disrupted { since, .. }) => Some(*since),
            _ => None,
        });
        assert_eq!(since, Some(injected), "{effects:?}");
    }

    fn with_shipped(a: &mut App) {
        let env = a.env.clone();
        a.playbooks = crate::playbook::SHIPPED
            .iter()
            .filter_map(|(id, src)| {
                crate::playbook::parse(&format!("<shipped>/{id}.toml"), src, &env).ok()
            })
            .collect();
    }

    /// A newcomer's stray `p` then Enter (typing a resource's name where no confirmation was
    /// open) replaced the drill's playbook with the first one listed, silently.
    #[test]
    fn a_stray_p_neither_swaps_a_drills_playbook_nor_picks_another_by_enter() {
        let mut d = app(Mode::Drill);
        with_shipped(&mut d);
        d.start_incident(shipped_region_loss(&d.env));
        assert!(key(&mut d, KeyCode::Char('p')).is_empty());
        assert!(
            d.overlay.is_none(),
            "no picker in a drill with its playbook"
        );
        let flash = d.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(flash.contains("a drill keeps its playbook"), "{flash}");
        key(&mut d, KeyCode::Enter);
        let id = d.incident.as_ref().map(|i| i.engine.playbook().id.clone());
        assert_eq!(id.as_deref(), Some("region-loss"));

        // Elsewhere the picker opens on the current playbook: Enter keeps it.
        let mut a = app(Mode::Demo);
        with_shipped(&mut a);
        a.start_incident(shipped_region_loss(&a.env));
        key(&mut a, KeyCode::Char('p'));
        let at = a.playbooks.iter().position(|p| p.id == "region-loss");
        assert!(matches!(a.overlay, Some(Overlay::Picker { selected }) if Some(selected) == at));
        assert_ne!(
            at,
            Some(0),
            "the test needs region-loss not to be listed first"
        );
    }

    #[test]
    fn a_playbook_whose_journal_cannot_be_created_is_not_started() {
        let mut a = app(Mode::Demo);
        a.playbooks = crate::playbook::SHIPPED
            .iter()
            .filter_map(|(id, src)| {
                crate::playbook::parse(&format!("<shipped>/{id}.toml"), src, &a.env).ok()
            })
            .collect();
        key(&mut a, KeyCode::Char('p'));
        assert_eq!(key(&mut a, KeyCode::Enter), vec![Effect::NewIncident]);
        assert!(a.incident.is_some());
        a.journal_refused("/x/y.jsonl: permission denied");
        assert!(a.incident.is_none(), "not started");
        let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(
            flash.contains("NOT STARTED") && flash.contains("/x/y.jsonl: permission denied"),
            "{flash}"
        );
        // Picked again, and this time the journal exists.
        key(&mut a, KeyCode::Char('p'));
        key(&mut a, KeyCode::Enter);
        a.journal_opened("/x/z.jsonl".into());
        assert!(a.incident.is_some());
        assert_eq!(a.journal_path, Some("/x/z.jsonl".into()));
    }

    #[test]
    fn a_follower_never_emits_records_of_its_own() {
        let mut a = app(Mode::Drill);
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        let now = a.now;
        // The followed incident was declared; hours pass on the follower's clock: its own engine
        // would find the RTO at risk and steps over target.
        let declared = crate::playbook::Event::Declared {
            playbook: "region-loss".into(),
            title: String::new(),
            hash: a
                .incident
                .as_ref()
                .map(|i| i.engine.playbook().hash.clone())
                .unwrap_or_default(),
            rto_secs: 1800,
            rpo_secs: 300,
            read_only: false,
        };
        a.following = Some("/followed.jsonl".into());
        a.update(Action::Followed(vec![(1, now, declared)]));
        let effects = a.update(Action::Tick(now + TimeDelta::hours(3)));
        assert!(effects.is_empty(), "{effects:?}");
    }

    #[test]
    fn the_commander_sets_when_the_outage_began() {
        let mut a = app(Mode::Live);
        a.operator = "dana".into();
        let pb = shipped_region_loss(&a.env);
        a.start_incident(pb);
        key(&mut a, KeyCode::Char('d'));
        for c in "15m ago".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        // No reason: refused, and what was typed is kept.
        assert!(key(&mut a, KeyCode::Enter).is_empty());
        let flash = a.flash.as_ref().map(|f| f.text.clone()).unwrap_or_default();
        assert!(flash.contains("reason is required"), "{flash}");
        for c in " first failed health check".chars() {
            key(&mut a, KeyCode::Char(c));
        }
        let effects = key(&mut a, KeyCode::Enter);
        let recorded = effects.iter().find_map(|e| match e {
            Effect::Record(
                _,
                crate::playbook::Event::Disrupted {
                    since, reason, by, ..
                },
            ) => Some((*since, reason.clone(), by.clone())),
            _ => None,
        });
        assert_eq!(
            recorded,
            Some((
                a.now - TimeDelta::minutes(15),
                Some("first failed health check".to_string()),
                Some("dana".to_string())
            )),
            "{effects:?}"
        );
        // Not in a drill: the fault's time is the truth there.
        let mut d = app(Mode::Drill);
        d.start_incident(shipped_region_loss(&d.env));
        key(&mut d, KeyCode::Char('d'));
        assert!(d.incident.as_ref().is_some_and(|i| i.prompt.is_none()));
    }

    #[test]
    fn every_help_key_is_handled() {
        // Each key in the help does something (changes state or emits an effect).
        for code in [
            KeyCode::Char('?'),
            KeyCode::Tab,
            KeyCode::BackTab,
            KeyCode::Char('f'),
        ] {
            let mut a = app(Mode::Demo);
            let before = (a.overlay.clone(), a.focus);
            let effects = key(&mut a, code);
            assert!(
                effects.len() + usize::from((a.overlay.clone(), a.focus) != before) > 0,
                "{code:?}"
            );
        }
    }
}
