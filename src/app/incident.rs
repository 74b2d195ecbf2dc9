//! The incident (or drill) in the console: the playbook engine plus the UI state around it
//! (checklist cursor, the confirmation dialog, typed prompts, the scorecard, a short timeline).
//!
//! The engine decides; this module only turns keys into engine inputs and engine effects into
//! UI state or runtime [`Effect`]s. Confirmation is the engine's: the dialog here only collects
//! what the operator typed and hands it to `Input::Confirm`.

use std::cell::Cell;
use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::Effect;
use super::flash::{Said, Until};
use crate::duration::{Dur, over_by, span};
use crate::playbook::engine::{self, event_kind};
use crate::playbook::{ConfirmRequest, Engine, Event, Input, Scorecard, StepStatus};
use crate::recovery::RestoreTo;

/// Timeline entries kept for the screen (the journal keeps everything): enough for every event
/// of a drill through its resolution, bounded against a step that prints without end.
const TIMELINE_LINES: usize = 2000;

/// A scrolled view (the playbook's step detail and timeline, the scorecard). Keys set
/// `offset`; the renderer clamps it and writes back what it measured (`shown`, `max`, `page`),
/// so the next key pages by what is on screen.
#[derive(Debug, Clone, Default)]
pub struct Scroll {
    /// Rows scrolled from the top. `None`: the view's default (a step from its top; a finished
    /// incident's timeline at its end). `Some(usize::MAX)`: the end, following what is added.
    pub offset: Option<usize>,
    /// The offset the last frame showed.
    pub shown: Cell<usize>,
    /// The largest offset the last frame allowed (content rows minus visible rows).
    pub max: Cell<usize>,
    /// Visible rows in the last frame.
    pub page: Cell<usize>,
}

impl Scroll {
    /// PgDn (`by` > 0) / PgUp (`by` < 0): a page less one row, so a line stays for context.
    pub fn page_by(&mut self, by: isize) {
        let step = self.page.get().saturating_sub(1).max(1);
        let shown = self.shown.get();
        let to = if by >= 0 {
            shown.saturating_add(step.saturating_mul(by.unsigned_abs()))
        } else {
            shown.saturating_sub(step.saturating_mul(by.unsigned_abs()))
        };
        self.offset = Some(if to >= self.max.get() { usize::MAX } else { to });
    }

    pub fn home(&mut self) {
        self.offset = Some(0);
    }

    pub fn end(&mut self) {
        self.offset = Some(usize::MAX);
    }

    /// The offset to draw, for content `total` rows tall in `visible` rows; records what it
    /// measured for the next key.
    pub fn resolve(&self, default_end: bool, total: usize, visible: usize) -> usize {
        let max = total.saturating_sub(visible);
        let wanted = match self.offset {
            Some(o) => o,
            None if default_end => usize::MAX,
            None => 0,
        };
        let offset = wanted.min(max);
        self.shown.set(offset);
        self.max.set(max);
        self.page.set(visible);
        offset
    }
}

/// The confirmation dialog: the engine's request and what the operator has typed so far.
#[derive(Debug, Clone)]
pub struct ConfirmDialog {
    pub request: ConfirmRequest,
    pub typed: String,
    /// The dialog scrolls on a short screen (its keys line stays in view).
    pub scroll: Scroll,
    /// Rows of the message to people scrolled past (PgDn / PgUp in the dialog).
    pub message_scroll: usize,
    /// The action backend's own description of the exact call (a built-in action step).
    pub backend_says: Option<String>,
}

/// What a typed prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// The reason for skipping this step.
    Skip { step: usize },
    /// Why this checklist item does not apply (`x`).
    NotApplicable { step: usize, item: usize },
    /// The reason for aborting the incident.
    Abort,
    /// A free-text timeline note.
    Note,
    /// When the outage began, and why the commander says so (`d`, live incidents).
    Disruption,
}

impl PromptKind {
    pub fn title(&self) -> &'static str {
        match self {
            PromptKind::Skip { .. } => "Skip this step: why? (recorded)",
            PromptKind::NotApplicable { .. } => {
                "This checklist item does not apply: why? (recorded)"
            }
            PromptKind::Abort => "Abort the incident: why? (recorded; Enter aborts)",
            PromptKind::Note => "Timeline note (recorded)",
            PromptKind::Disruption => {
                "Outage began at: HH:MM[:SS] UTC or 15m ago, then why (recorded)"
            }
        }
    }
}

#[derive(Debug, Clone)]
pub struct Prompt {
    pub kind: PromptKind,
    pub text: String,
}

/// The incident under way in the console.
pub struct Incident {
    pub engine: Engine,
    /// Checklist cursor on the current step.
    pub item: usize,
    pub confirm: Option<ConfirmDialog>,
    /// The message editor, open over the confirmation dialog (`e`).
    pub editor: Option<super::editor::MessageEditor>,
    pub prompt: Option<Prompt>,
    /// Set when the incident is over (resolved or aborted).
    pub scorecard: Option<Scorecard>,
    /// Whether the scorecard popup is open.
    pub show_scorecard: bool,
    /// Recent events, newest last, as one line each.
    pub timeline: VecDeque<(DateTime<Utc>, String)>,
    /// Milestones recorded before the declaration (the outage began, the first alarm), shown
    /// once the incident is declared: before, they would tell a drill's trainee the answer.
    undeclared: Vec<(DateTime<Utc>, String)>,
    /// The incident has been declared (the timeline shows everything from then on).
    declared: bool,
    /// The step detail and timeline under the step list (reset when the step changes).
    pub detail: Scroll,
    /// The scorecard popup.
    pub card: Scroll,
    /// Describes a built-in action's exact call in the backend's words (the dialog shows it).
    pub describer: Option<crate::actions::Describer>,
    /// The restore-point picker of the current `db.restore` step (`t`).
    pub points: Option<super::points::PointPicker>,
}

impl Incident {
    pub fn new(engine: Engine) -> Self {
        Incident {
            engine,
            item: 0,
            confirm: None,
            editor: None,
            prompt: None,
            scorecard: None,
            show_scorecard: false,
            timeline: VecDeque::new(),
            undeclared: Vec::new(),
            declared: false,
            detail: Scroll::default(),
            card: Scroll::default(),
            describer: None,
            points: None,
        }
    }

    /// Whether the incident was declared and has not ended.
    pub fn in_progress(&self) -> bool {
        self.engine.declared_at().is_some() && !self.engine.is_finished()
    }

    /// Feeds an input to the engine and turns its effects into UI state and runtime effects.
    /// `flash` receives messages for the operator (refusals).
    pub fn handle(
        &mut self,
        input: Input,
        now: DateTime<Utc>,
        flash: &mut Option<Said>,
    ) -> Vec<Effect> {
        let before = self.engine.current();
        let effects = self.engine.handle(input, now);
        let out = self.absorb(effects, now, flash);
        if self.engine.current() != before {
            self.item = 0;
            self.detail = Scroll::default();
            self.points = None;
        }
        out
    }

    /// A drill's fault arrived: the engine records it (MTTD starts here).
    pub fn fault_injected(
        &mut self,
        fault: &str,
        since: DateTime<Utc>,
        at: DateTime<Utc>,
    ) -> Vec<Effect> {
        let effects = self.engine.fault_injected_since(fault, since, at);
        let mut flash = None;
        self.absorb(effects, at, &mut flash)
    }

    /// The runtime paused, resumed or changed the speed of the session clock: the engine
    /// records it.
    pub fn clock_changed(
        &mut self,
        change: engine::ClockChange,
        now: DateTime<Utc>,
    ) -> Vec<Effect> {
        let effects = self.engine.clock_changed(change, now);
        let mut flash = None;
        self.absorb(effects, now, &mut flash)
    }

    /// Engine timers and wait conditions over the newest picture.
    pub fn tick(
        &mut self,
        now: DateTime<Utc>,
        picture: &crate::telemetry::Sample,
        flash: &mut Option<Said>,
    ) -> Vec<Effect> {
        let before = self.engine.current();
        let effects = self.engine.tick(now, picture);
        let out = self.absorb(effects, now, flash);
        if self.engine.current() != before {
            self.item = 0;
            self.detail = Scroll::default();
            self.points = None;
        }
        out
    }

    fn absorb(
        &mut self,
        effects: Vec<engine::Effect>,
        now: DateTime<Utc>,
        flash: &mut Option<Said>,
    ) -> Vec<Effect> {
        let mut out = Vec::new();
        for effect in effects {
            match effect {
                engine::Effect::Execute {
                    step,
                    attempt,
                    exec,
                    command,
                } => {
                    out.push(Effect::Execute {
                        step,
                        attempt,
                        exec,
                        command,
                    });
                }
                engine::Effect::Kill { step, attempt } => out.push(Effect::Kill { step, attempt }),
                engine::Effect::SignArming { step, signed } => {
                    out.push(Effect::SignArming { step, signed });
                }
                engine::Effect::OpenConfirm(request) => {
                    let backend_says = self
                        .describer
                        .as_ref()
                        .and_then(|d| d.describe(&request.exec));
                    self.confirm = Some(ConfirmDialog {
                        backend_says,
                        request: *request,
                        typed: String::new(),
                        scroll: Scroll::default(),
                        message_scroll: 0,
                    });
                }
                engine::Effect::Refused { why, cause, .. } => {
                    *flash = Some(match cause {
                        engine::Refusal::Unticked { step } => {
                            Said::until(why, Until::Ticked { step })
                        }
                        engine::Refusal::Other => why.into(),
                    })
                }
                engine::Effect::Record(event) => {
                    self.note_timeline(now, &event);
                    if matches!(
                        event,
                        Event::Confirmed { .. }
                            | Event::ConfirmCancelled { .. }
                            | Event::ApprovalArmed { .. }
                    ) {
                        self.confirm = None;
                        self.editor = None;
                    }
                    out.push(Effect::Record(now, event));
                }
                engine::Effect::Finished(card) => {
                    self.scorecard = Some(*card);
                    self.show_scorecard = true;
                    self.card = Scroll::default();
                    self.detail = Scroll::default();
                    self.confirm = None;
                    self.editor = None;
                    self.prompt = None;
                    self.points = None;
                }
            }
        }
        out
    }

    pub fn note_timeline(&mut self, at: DateTime<Utc>, event: &Event) {
        match event {
            // A drill does not announce its fault: noticing it is the exercise.
            Event::FaultInjected { .. } => return,
            // Nor when the outage began or was first alarming, until the incident is declared:
            // then they take their place before the declaration.
            Event::Disrupted { .. } | Event::Detected { .. } if !self.declared => {
                self.undeclared.push((at, describe(event)));
                return;
            }
            Event::Declared { .. } => {
                self.declared = true;
                for entry in std::mem::take(&mut self.undeclared) {
                    self.push_timeline(entry);
                }
                // The held entries took their place by time (a pause recorded before the
                // declaration read above an outage that began earlier).
                self.timeline.make_contiguous().sort_by_key(|(at, _)| *at);
            }
            _ => {}
        }
        self.push_timeline((at, describe(event)));
    }

    fn push_timeline(&mut self, entry: (DateTime<Utc>, String)) {
        if self.timeline.len() == TIMELINE_LINES {
            self.timeline.pop_front();
        }
        self.timeline.push_back(entry);
    }

    /// The step the checklist cursor and step keys act on: the current step.
    pub fn current(&self) -> Option<usize> {
        self.engine.current()
    }

    /// Moves the checklist cursor.
    pub fn move_item(&mut self, by: isize) {
        let Some(step) = self.current() else { return };
        let items = self.engine.ticks(step).len();
        if items == 0 {
            return;
        }
        self.item = self.item.saturating_add_signed(by).min(items - 1);
    }

    /// Space: tick the item under the cursor.
    pub fn toggle_item(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        match self.current() {
            Some(step) if !self.engine.ticks(step).is_empty() => self.handle(
                Input::ToggleItem {
                    step,
                    item: self.item,
                },
                now,
                flash,
            ),
            Some(_) => {
                *flash = Some("this step has no checklist".into());
                Vec::new()
            }
            None => {
                *flash = Some(self.nothing_current().into());
                Vec::new()
            }
        }
    }

    /// Enter: whatever Enter means now (declare, request confirmation, complete a manual step).
    pub fn enter(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        if self.engine.is_finished() {
            self.show_scorecard = true;
            return Vec::new();
        }
        match self.engine.enter_input() {
            Some(input) => self.handle(input, now, flash),
            None => {
                *flash = Some(Said::from(
                    match self.current().and_then(|s| self.engine.status(s)) {
                        Some(StepStatus::Running) => {
                            "the step is running; wait for it, or s to skip".into()
                        }
                        Some(StepStatus::Verifying) => {
                            "verifying: waiting for the condition; s skips".into()
                        }
                        Some(StepStatus::Failed(_)) => {
                            "the step failed: r retries it, s skips it".into()
                        }
                        _ => self.nothing_current(),
                    },
                ));
                Vec::new()
            }
        }
    }

    /// `t` on a `db.restore` step: opens the restore-point picker and asks the runtime for
    /// its list (built off the UI thread; the picker says "loading" until it arrives).
    pub fn open_points(&mut self, flash: &mut Option<Said>) -> Vec<Effect> {
        let Some(step) = self.current() else {
            *flash = Some(self.nothing_current().into());
            return Vec::new();
        };
        let Some(target) = self.engine.restore_target(step) else {
            *flash = Some(
                "t chooses the restore point of a db.restore step; this step restores nothing"
                    .into(),
            );
            return Vec::new();
        };
        match self.engine.status(step) {
            Some(StepStatus::Active | StepStatus::Failed(_)) => {}
            Some(other) => {
                *flash = Some(
                    format!(
                        "the step is {}: its restore point cannot change now",
                        other.label()
                    )
                    .into(),
                );
                return Vec::new();
            }
            None => return Vec::new(),
        }
        self.points = Some(super::points::PointPicker::new(
            step,
            target.db.clone(),
            target.backup.clone(),
        ));
        vec![Effect::LoadRestorePoints {
            step,
            db: target.db,
            series: target.backup,
            onset: target.onset,
        }]
    }

    /// A key in the restore-point picker. A choice goes to the engine, which checks it with
    /// the resolver: accepted, the confirmation opens (showing the point, the data lost and
    /// the evidence); refused, the picker stays open with the reason.
    pub fn points_key(
        &mut self,
        key: super::points::Key,
        now: DateTime<Utc>,
        flash: &mut Option<Said>,
    ) -> Vec<Effect> {
        use super::points::PickerKey;
        let Some(picker) = &mut self.points else {
            return Vec::new();
        };
        let step = picker.step;
        match picker.key(key) {
            PickerKey::Stay => Vec::new(),
            PickerKey::Close => {
                self.points = None;
                let kept = match self.engine.picked_restore_point(step) {
                    Some(to) => format!("restore point kept: {to} (picked earlier)"),
                    None => match self.engine.restore_target(step).and_then(|t| t.to) {
                        Some(to) => format!("restore point kept: the playbook's to = {to}"),
                        None => "restore point kept: the playbook's default".to_string(),
                    },
                };
                *flash = Some(kept.into());
                Vec::new()
            }
            PickerKey::Choose(to, listed) => {
                // The resolver's own words for a refusal, said once (the engine's refusal
                // wraps them for the timeline: "restore point ... refused: ...").
                let why = match self.engine.preview_restore(step, Some(to), &listed, now) {
                    Some(Err(e)) => Some(match to {
                        RestoreTo::At(_) => e.to_string(),
                        named => format!("{named}: {e}"),
                    }),
                    _ => None,
                };
                let mut refused = None;
                let mut effects = self.handle(
                    Input::ChooseRestorePoint { step, to, listed },
                    now,
                    &mut refused,
                );
                match refused {
                    None if self.engine.picked_restore_point(step) == Some(to) => {
                        self.points = None;
                        effects.extend(self.enter(now, flash));
                    }
                    refused => {
                        if let Some(p) = &mut self.points {
                            p.refused = Some(why.unwrap_or_else(|| {
                                refused.map_or_else(
                                    || format!("restore point {to} was not taken"),
                                    |r| r.text,
                                )
                            }));
                        }
                    }
                }
                effects
            }
        }
    }

    fn nothing_current(&self) -> String {
        if self.engine.declared_at().is_none() {
            "the incident is not declared yet: Enter declares it and starts step 1".into()
        } else {
            "no current step".into()
        }
    }

    /// `s`: ask for a reason to skip the current step.
    pub fn start_skip(&mut self, flash: &mut Option<Said>) {
        match self.current() {
            Some(step) => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Skip { step },
                    text: String::new(),
                })
            }
            None => *flash = Some(self.nothing_current().into()),
        }
    }

    /// `x`: mark the checklist item under the cursor not applicable (asks why), or make a
    /// not-applicable one apply again.
    pub fn not_applicable(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        let Some(step) = self.current() else {
            *flash = Some(self.nothing_current().into());
            return Vec::new();
        };
        let item = self.item;
        let marked = self
            .engine
            .step_view(step, now)
            .and_then(|v| v.checklist.get(item).map(|i| i.not_applicable.is_some()));
        match marked {
            None => {
                *flash = Some("this step has no checklist".into());
                Vec::new()
            }
            Some(true) => self.handle(
                Input::NotApplicable {
                    step,
                    item,
                    reason: None,
                },
                now,
                flash,
            ),
            Some(false) => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::NotApplicable { step, item },
                    text: String::new(),
                });
                Vec::new()
            }
        }
    }

    /// `e` in a notify step's confirmation: open the editor on the message as it will be sent.
    pub fn open_editor(&mut self, flash: &mut Option<Said>) {
        let Some(dialog) = &self.confirm else { return };
        let r = &dialog.request;
        match &r.message {
            Some(message) if r.message_editable => {
                self.editor = Some(super::editor::MessageEditor::new(r.step, message));
            }
            Some(_) => {
                *flash = Some(
                    "the message uses a secret variable, which the screen only shows masked: \
                     edit it in the playbook"
                        .into(),
                )
            }
            None => *flash = Some("this step sends no message to edit".into()),
        }
    }

    /// A key in the message editor: Ctrl-S hands the text to the engine (what the step sends),
    /// Esc closes it unchanged.
    pub fn editor_key(
        &mut self,
        key: ratatui::crossterm::event::KeyEvent,
        now: DateTime<Utc>,
        flash: &mut Option<Said>,
    ) -> Vec<Effect> {
        let Some(editor) = &mut self.editor else {
            return Vec::new();
        };
        match editor.key(key) {
            super::editor::EditorOutcome::Editing => Vec::new(),
            super::editor::EditorOutcome::Cancel => {
                self.editor = None;
                Vec::new()
            }
            super::editor::EditorOutcome::Save(text) => {
                let step = editor.step;
                let effects = self.handle(Input::EditMessage { step, text }, now, flash);
                if flash.is_none() {
                    self.editor = None;
                    if let Some(dialog) = &mut self.confirm {
                        dialog.request.message = self.engine.message(step);
                        if let Some(command) = self.engine.command_shown(step) {
                            dialog.request.command = command;
                        }
                    }
                }
                effects
            }
        }
    }

    /// `r`: retry the current step if it failed.
    pub fn retry(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        match self.current() {
            Some(step) => self.handle(Input::Retry { step }, now, flash),
            None => {
                *flash = Some(self.nothing_current().into());
                Vec::new()
            }
        }
    }

    /// `u`: the reminder due next (`Post a status update`) is done.
    pub fn reminder_done(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        let next = self.engine.reminders(now).into_iter().next();
        let effects = self.handle(Input::ReminderDone, now, flash);
        if flash.is_none()
            && let Some(done) = next
        {
            *flash = Some(format!("reminder done: {}", done.text).into());
        }
        effects
    }

    /// Enter in a prompt: hand the typed text to the engine.
    pub fn submit_prompt(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        let Some(prompt) = self.prompt.take() else {
            return Vec::new();
        };
        let text = prompt.text.trim().to_string();
        let input = match prompt.kind {
            PromptKind::Skip { step } => Input::Skip { step, reason: text },
            PromptKind::NotApplicable { step, item } => Input::NotApplicable {
                step,
                item,
                reason: Some(text),
            },
            PromptKind::Abort => Input::Abort { reason: text },
            PromptKind::Note => Input::Note { text },
            PromptKind::Disruption => match parse_disruption(&text, now) {
                Ok((since, reason)) => Input::SetDisruption { since, reason },
                Err(why) => {
                    // Keep what was typed, to correct it.
                    self.prompt = Some(prompt);
                    *flash = Some(why.into());
                    return Vec::new();
                }
            },
        };
        let note = matches!(input, Input::Note { .. });
        let effects = self.handle(input, now, flash);
        if note
            && flash.is_none()
            && effects
                .iter()
                .any(|e| matches!(e, Effect::Record(_, Event::Note { .. })))
        {
            // The record is the only trace of a note: say it was taken.
            *flash = Some(format!("note recorded at {} UTC", now.format("%H:%M:%S")).into());
        }
        if effects
            .iter()
            .any(|e| matches!(e, Effect::Record(_, Event::AbortHeld { .. })))
        {
            // The HA interlock holds the abort: say what it waits for.
            *flash = Some(
                "the abort waits: automatic failover is paused. Resume it (Enter on \"Resume \
                 automatic failover\"), or leave it paused: s, with the reason"
                    .into(),
            );
        }
        effects
    }

    /// Enter (or `y`) in the confirmation dialog.
    pub fn submit_confirm(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        let Some(dialog) = &self.confirm else {
            return Vec::new();
        };
        let step = dialog.request.step;
        let typed = dialog.request.destructive.then(|| dialog.typed.clone());
        let effects = self.handle(Input::Confirm { step, typed }, now, flash);
        if let Some(dialog) = &mut self.confirm {
            // Refused (wrong text): keep the dialog open, clear what was typed.
            dialog.typed.clear();
        }
        effects
    }

    /// Esc in the confirmation dialog.
    pub fn cancel_confirm(&mut self, now: DateTime<Utc>, flash: &mut Option<Said>) -> Vec<Effect> {
        let Some(dialog) = self.confirm.take() else {
            return Vec::new();
        };
        self.handle(
            Input::Cancel {
                step: dialog.request.step,
            },
            now,
            flash,
        )
    }
}

/// One line for the timeline.
/// A recorded command as one timeline line: a notify step's message (quoted in the record with
/// `\n` escapes, and shown whole in the step and its confirmation) is summarised by its size.
fn one_line(command: &str) -> String {
    let notify = crate::actions::BuiltinAction::NotifyWebhook.name();
    match command
        .strip_prefix(notify)
        .and_then(|rest| rest.strip_prefix(" message="))
    {
        Some(quoted) => {
            let message: String = serde_json::from_str(quoted).unwrap_or_else(|_| quoted.into());
            format!(
                "{notify} message=({} lines, {} characters)",
                crate::playbook::model::message_lines(&message).len(),
                message.chars().count()
            )
        }
        None => command.to_string(),
    }
}

pub fn describe(event: &Event) -> String {
    match event {
        Event::Declared { title, .. } => format!("incident declared: {title}"),
        Event::StepStarted {
            step,
            title,
            target_secs,
        } => {
            format!(
                "step {step} started: {title} (target {})",
                Dur::from_secs(*target_secs)
            )
        }
        Event::ChecklistTicked {
            step, text, ticked, ..
        } => {
            format!(
                "{step}: {} {text}",
                if *ticked { "ticked" } else { "unticked" }
            )
        }
        Event::ItemNotApplicable {
            step, text, reason, ..
        } => format!("{step}: n/a {text}: {reason}"),
        Event::ItemApplicable { step, text, .. } => format!("{step}: applies again {text}"),
        Event::MessageEdited { step, message } => format!(
            "{step}: message edited ({} lines)",
            crate::playbook::model::message_lines(message).len()
        ),
        Event::ConfirmRequested { step, command } => {
            format!("{step}: confirmation asked for {}", one_line(command))
        }
        Event::ConfirmCancelled { step } => format!("{step}: confirmation cancelled"),
        Event::Confirmed {
            step,
            command,
            attempt,
            ..
        } => {
            format!(
                "{step}: CONFIRMED {} (attempt {attempt})",
                one_line(command)
            )
        }
        Event::RestorePointChosen {
            step,
            choice,
            point,
            loss_secs,
            by,
            picked,
            ..
        } => format!(
            "{step}: restore point {} chosen by {by}{} ({choice}){}",
            point.format("%H:%M:%S"),
            if *picked { " in the picker" } else { "" },
            loss_secs
                .map(|s| format!(", data lost {}", crate::duration::rpo_span(s)))
                .unwrap_or_default()
        ),
        Event::RpoCaptured {
            step,
            seconds,
            measured_from,
            ..
        } => match seconds {
            Some(s) => format!(
                "{step}: RPO captured {} ({measured_from})",
                span(s.ceil() as u64)
            ),
            None => format!("{step}: RPO not measurable ({measured_from})"),
        },
        Event::Verifying {
            step, condition, ..
        } => format!("{step}: verifying {condition}"),
        Event::StepFinished {
            step,
            outcome,
            detail,
            elapsed_secs,
            target_secs,
            ..
        } => format!(
            "{step}: {} in {} (target {}{}){}",
            serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            span(*elapsed_secs),
            Dur::from_secs(*target_secs),
            match over_by(*elapsed_secs, *target_secs) {
                Some(o) if *elapsed_secs > *target_secs => format!(", {o}"),
                _ => String::new(),
            },
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
        Event::Skipped { step, reason } => format!("{step}: skipped: {reason}"),
        Event::Retried { step } => format!("{step}: retried"),
        Event::TargetExceeded { step, target_secs } => {
            format!(
                "{step}: past its target of {}",
                Dur::from_secs(*target_secs)
            )
        }
        Event::RtoRisk {
            at_risk,
            projected_secs,
            rto_secs,
        } => {
            if *at_risk {
                format!("RTO AT RISK: {}", rto_words(*projected_secs, *rto_secs))
            } else {
                format!("RTO back on track: projected {}", span(*projected_secs))
            }
        }
        Event::Note { text } => format!("note: {text}"),
        Event::SharedNote {
            text,
            milestone,
            by,
        } => format!(
            "{} by {} ({}): {text}",
            if *milestone { "milestone" } else { "note" },
            by.principal,
            by.role
        ),
        Event::ApprovalArmed {
            step,
            resource,
            needed,
            by,
            ..
        } => format!("{step} armed by {by}: waiting for {needed} approval(s) of {resource}"),
        Event::Approved { step, by, .. } => {
            format!("{step} approved by {} ({})", by.principal, by.key)
        }
        Event::RequestRefused {
            principal, reason, ..
        } => format!(
            "request from {} refused: {reason}",
            principal.as_deref().unwrap_or("(unknown)")
        ),
        Event::ClockPaused {} => "clock PAUSED".to_string(),
        Event::ClockResumed { paused_secs } => {
            format!("clock resumed after {}", span(*paused_secs))
        }
        Event::SpeedChanged {
            from, to, reason, ..
        } => format!(
            "speed {} -> {} ({})",
            crate::playbook::projection::speed_label(*from),
            crate::playbook::projection::speed_label(*to),
            reason.describe()
        ),
        Event::ReminderDone {
            text, late_secs, ..
        } => {
            if *late_secs == 0 {
                format!("reminder done: {text}")
            } else {
                format!("reminder done {} late: {text}", span(*late_secs))
            }
        }
        Event::ReminderMissed { text, missed, .. } => {
            if *missed > 1 {
                format!("reminder MISSED {missed} times: {text}")
            } else {
                format!("reminder MISSED: {text}")
            }
        }
        Event::Output { step, line, .. } => format!("{step} │ {line}"),
        Event::Aborted { reason } => format!("ABORTED: {reason}"),
        Event::FailoverPaused { db, by, .. } => {
            format!("AUTO-FAILOVER PAUSED on {db}'s cluster (by {by})")
        }
        Event::FailoverResumed { db, by, .. } => {
            format!("automatic failover resumed on {db}'s cluster (by {by})")
        }
        Event::FailoverLeftPaused { db, reason, by, .. } => {
            format!("AUTO-FAILOVER LEFT PAUSED on {db}'s cluster by {by}: {reason}")
        }
        Event::AbortHeld { reason, .. } => format!(
            "abort held ({reason}): automatic failover is paused: resume it (Enter) or leave it \
             paused (s, with a reason)"
        ),
        Event::ServiceRestored { step, since } => {
            format!(
                "{step}: service restored (since {})",
                since.format("%H:%M:%S")
            )
        }
        Event::Resumed {
            gap_secs,
            host,
            operator,
            ..
        } => format!(
            "resumed by {operator} on {host} after {} stopped",
            span(*gap_secs)
        ),
        Event::ConsoleClosed { by, signal } => match signal {
            Some(signal) => format!("console ended by {signal} (operator {by})"),
            None => format!("console closed by {by}"),
        },
        // What was read stays off the timeline: in a drill it names the fault, and noticing it
        // is the exercise.
        Event::Disrupted { .. } => "outage began".to_string(),
        Event::Detected { .. } => "first alarm-level reading".to_string(),
        Event::Resolved {
            rto_achieved_secs,
            passed,
            ..
        } => format!(
            "resolved: RTO {} ({})",
            rto_achieved_secs.map_or_else(|| "not measured".to_string(), span),
            if *passed { "passed" } else { "failed" }
        ),
        other => event_kind(other),
    }
}

/// The projected RTO against its objective, in words that agree with the numbers as printed:
/// `projected 1h02m00s, 2m00s over the 1h00m00s objective`, `projected 4h00m00s = the 4h00m00s
/// objective`, or under it.
pub fn rto_words(projected_secs: u64, rto_secs: u64) -> String {
    let (p, r) = (span(projected_secs), span(rto_secs));
    match projected_secs.checked_sub(rto_secs) {
        Some(0) => format!("projected {p} = the {r} objective"),
        Some(over) => format!("projected {p}, {} over the {r} objective", span(over)),
        None => format!("projected {p}, within the {r} objective"),
    }
}

/// What the commander typed to set when the outage began: `HH:MM[:SS] reason` (UTC, session
/// clock: the time in the status bar; the latest such time not after `now`) or
/// `DURATION ago reason` (`15m ago`, `1h30m ago`). The reason is required: it goes on record.
pub fn parse_disruption(text: &str, now: DateTime<Utc>) -> Result<(DateTime<Utc>, String), String> {
    const FORMAT: &str = "type when the outage began and why: `03:12 first failed health check` \
                          (UTC, as in the status bar) or `15m ago first failed health check`";
    let text = text.trim();
    let (first, rest) = text.split_once(char::is_whitespace).unwrap_or((text, ""));
    let (since, reason) = if let Some(after) = rest.trim_start().strip_prefix("ago") {
        let back =
            crate::duration::Dur::parse(first).map_err(|e| format!("{first}: {e}; {FORMAT}"))?;
        let since = now
            .checked_sub_signed(back.to_chrono())
            .ok_or_else(|| format!("{first} ago is before any date this console can record"))?;
        (since, after.trim())
    } else {
        let time = chrono::NaiveTime::parse_from_str(first, "%H:%M:%S")
            .or_else(|_| chrono::NaiveTime::parse_from_str(first, "%H:%M"))
            .map_err(|_| format!("{first:?} is not a time; {FORMAT}"))?;
        let today = now.date_naive().and_time(time).and_utc();
        let since = if today > now {
            today - chrono::TimeDelta::days(1)
        } else {
            today
        };
        (since, rest.trim())
    };
    if reason.is_empty() {
        return Err(format!("a reason is required (it is recorded); {FORMAT}"));
    }
    Ok((since, reason.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    fn at(h: u32, m: u32, s: u32) -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 22, h, m, s)
            .single()
            .expect("valid")
    }

    #[test]
    fn disruption_times_and_reasons() {
        let now = at(3, 40, 0);
        assert_eq!(
            parse_disruption("03:12 first failed health check", now),
            Ok((at(3, 12, 0), "first failed health check".into()))
        );
        assert_eq!(
            parse_disruption(" 03:12:30   pager ", now),
            Ok((at(3, 12, 30), "pager".into()))
        );
        // A time later than now is yesterday's.
        assert_eq!(
            parse_disruption("23:50 late alarm", now),
            Ok((
                at(23, 50, 0) - chrono::TimeDelta::days(1),
                "late alarm".into()
            ))
        );
        assert_eq!(
            parse_disruption("15m ago customer reports", now),
            Ok((at(3, 25, 0), "customer reports".into()))
        );
        for bad in ["", "03:12", "15m ago", "soon broken", "25:00 x", "xm ago y"] {
            assert!(parse_disruption(bad, now).is_err(), "{bad:?}");
        }
        // Absurd spans are refused, never a panic (they overflowed the date arithmetic).
        for huge in [
            "100000000d ago typo",
            "9999999999999999d ago typo",
            "18446744073709551615s ago typo",
        ] {
            let r = std::panic::catch_unwind(|| parse_disruption(huge, now));
            assert!(matches!(r, Ok(Err(_))), "{huge:?}: {r:?}");
        }
    }
}
