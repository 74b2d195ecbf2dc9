//! The incident (or drill) in the console: the playbook engine plus the UI state around it
//! (checklist cursor, the confirmation dialog, typed prompts, the scorecard, a short timeline).
//!
//! The engine decides; this module only turns keys into engine inputs and engine effects into
//! UI state or runtime [`Effect`]s. Confirmation is the engine's: the dialog here only collects
//! what the operator typed and hands it to `Input::Confirm`.

use std::collections::VecDeque;

use chrono::{DateTime, Utc};

use super::Effect;
use crate::duration::compact;
use crate::playbook::engine::{self, event_kind};
use crate::playbook::{ConfirmRequest, Engine, Event, Input, Scorecard, StepStatus};

/// Timeline entries kept for the screen (the journal keeps everything).
const TIMELINE_LINES: usize = 200;

/// The confirmation dialog: the engine's request and what the operator has typed so far.
#[derive(Debug, Clone)]
pub struct ConfirmDialog {
    pub request: ConfirmRequest,
    pub typed: String,
}

/// What a typed prompt is for.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum PromptKind {
    /// The reason for skipping this step.
    Skip { step: usize },
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
    pub prompt: Option<Prompt>,
    /// Set when the incident is over (resolved or aborted).
    pub scorecard: Option<Scorecard>,
    /// Whether the scorecard popup is open.
    pub show_scorecard: bool,
    /// Recent events, newest last, as one line each.
    pub timeline: VecDeque<(DateTime<Utc>, String)>,
}

impl Incident {
    pub fn new(engine: Engine) -> Self {
        Incident {
            engine,
            item: 0,
            confirm: None,
            prompt: None,
            scorecard: None,
            show_scorecard: false,
            timeline: VecDeque::new(),
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
        flash: &mut Option<String>,
    ) -> Vec<Effect> {
        let before = self.engine.current();
        let effects = self.engine.handle(input, now);
        let out = self.absorb(effects, now, flash);
        if self.engine.current() != before {
            self.item = 0;
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
        flash: &mut Option<String>,
    ) -> Vec<Effect> {
        let before = self.engine.current();
        let effects = self.engine.tick(now, picture);
        let out = self.absorb(effects, now, flash);
        if self.engine.current() != before {
            self.item = 0;
        }
        out
    }

    fn absorb(
        &mut self,
        effects: Vec<engine::Effect>,
        now: DateTime<Utc>,
        flash: &mut Option<String>,
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
                engine::Effect::OpenConfirm(request) => {
                    self.confirm = Some(ConfirmDialog {
                        request: *request,
                        typed: String::new(),
                    });
                }
                engine::Effect::Refused { why, .. } => *flash = Some(why),
                engine::Effect::Record(event) => {
                    self.note_timeline(now, &event);
                    if matches!(
                        event,
                        Event::Confirmed { .. } | Event::ConfirmCancelled { .. }
                    ) {
                        self.confirm = None;
                    }
                    out.push(Effect::Record(now, event));
                }
                engine::Effect::Finished(card) => {
                    self.scorecard = Some(*card);
                    self.show_scorecard = true;
                    self.confirm = None;
                    self.prompt = None;
                }
            }
        }
        out
    }

    pub fn note_timeline(&mut self, at: DateTime<Utc>, event: &Event) {
        if matches!(event, Event::FaultInjected { .. }) {
            // A drill does not announce its fault: noticing it is the exercise.
            return;
        }
        if self.timeline.len() == TIMELINE_LINES {
            self.timeline.pop_front();
        }
        self.timeline.push_back((at, describe(event)));
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
    pub fn toggle_item(&mut self, now: DateTime<Utc>, flash: &mut Option<String>) -> Vec<Effect> {
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
                *flash = Some(self.nothing_current());
                Vec::new()
            }
        }
    }

    /// Enter: whatever Enter means now (declare, request confirmation, complete a manual step).
    pub fn enter(&mut self, now: DateTime<Utc>, flash: &mut Option<String>) -> Vec<Effect> {
        if self.engine.is_finished() {
            self.show_scorecard = true;
            return Vec::new();
        }
        match self.engine.enter_input() {
            Some(input) => self.handle(input, now, flash),
            None => {
                *flash = Some(match self.current().and_then(|s| self.engine.status(s)) {
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
                });
                Vec::new()
            }
        }
    }

    fn nothing_current(&self) -> String {
        if self.engine.declared_at().is_none() {
            "the incident is not declared yet: Enter declares it and starts the clock".into()
        } else {
            "no current step".into()
        }
    }

    /// `s`: ask for a reason to skip the current step.
    pub fn start_skip(&mut self, flash: &mut Option<String>) {
        match self.current() {
            Some(step) => {
                self.prompt = Some(Prompt {
                    kind: PromptKind::Skip { step },
                    text: String::new(),
                })
            }
            None => *flash = Some(self.nothing_current()),
        }
    }

    /// `r`: retry the current step if it failed.
    pub fn retry(&mut self, now: DateTime<Utc>, flash: &mut Option<String>) -> Vec<Effect> {
        match self.current() {
            Some(step) => self.handle(Input::Retry { step }, now, flash),
            None => {
                *flash = Some(self.nothing_current());
                Vec::new()
            }
        }
    }

    /// `u`: the reminder due next (`Post a status update`) is done.
    pub fn reminder_done(&mut self, now: DateTime<Utc>, flash: &mut Option<String>) -> Vec<Effect> {
        let next = self.engine.reminders(now).into_iter().next();
        let effects = self.handle(Input::ReminderDone, now, flash);
        if flash.is_none()
            && let Some(done) = next
        {
            *flash = Some(format!("reminder done: {}", done.text));
        }
        effects
    }

    /// Enter in a prompt: hand the typed text to the engine.
    pub fn submit_prompt(&mut self, now: DateTime<Utc>, flash: &mut Option<String>) -> Vec<Effect> {
        let Some(prompt) = self.prompt.take() else {
            return Vec::new();
        };
        let text = prompt.text.trim().to_string();
        let input = match prompt.kind {
            PromptKind::Skip { step } => Input::Skip { step, reason: text },
            PromptKind::Abort => Input::Abort { reason: text },
            PromptKind::Note => Input::Note { text },
            PromptKind::Disruption => match parse_disruption(&text, now) {
                Ok((since, reason)) => Input::SetDisruption { since, reason },
                Err(why) => {
                    // Keep what was typed, to correct it.
                    self.prompt = Some(prompt);
                    *flash = Some(why);
                    return Vec::new();
                }
            },
        };
        self.handle(input, now, flash)
    }

    /// Enter (or `y`) in the confirmation dialog.
    pub fn submit_confirm(
        &mut self,
        now: DateTime<Utc>,
        flash: &mut Option<String>,
    ) -> Vec<Effect> {
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
    pub fn cancel_confirm(
        &mut self,
        now: DateTime<Utc>,
        flash: &mut Option<String>,
    ) -> Vec<Effect> {
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
                compact(*target_secs)
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
        Event::ConfirmRequested { step, command } => {
            format!("{step}: confirmation asked for {command}")
        }
        Event::ConfirmCancelled { step } => format!("{step}: confirmation cancelled"),
        Event::Confirmed {
            step,
            command,
            attempt,
            ..
        } => {
            format!("{step}: CONFIRMED {command} (attempt {attempt})")
        }
        Event::RpoCaptured {
            step,
            seconds,
            measured_from,
            ..
        } => match seconds {
            Some(s) => format!(
                "{step}: RPO captured {} ({measured_from})",
                compact(s.ceil() as u64)
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
            "{step}: {} in {} (target {}){}",
            serde_json::to_value(outcome)
                .ok()
                .and_then(|v| v.as_str().map(str::to_string))
                .unwrap_or_default(),
            compact(*elapsed_secs),
            compact(*target_secs),
            if detail.is_empty() {
                String::new()
            } else {
                format!(": {detail}")
            }
        ),
        Event::Skipped { step, reason } => format!("{step}: skipped: {reason}"),
        Event::Retried { step } => format!("{step}: retried"),
        Event::TargetExceeded { step, target_secs } => {
            format!("{step}: past its target of {}", compact(*target_secs))
        }
        Event::RtoRisk {
            at_risk,
            projected_secs,
            rto_secs,
        } => {
            if *at_risk {
                format!(
                    "RTO AT RISK: projected {} > {}",
                    compact(*projected_secs),
                    compact(*rto_secs)
                )
            } else {
                format!("RTO back on track: projected {}", compact(*projected_secs))
            }
        }
        Event::Note { text } => format!("note: {text}"),
        Event::ClockPaused {} => "clock PAUSED".to_string(),
        Event::ClockResumed { paused_secs } => {
            format!("clock resumed after {}", compact(*paused_secs))
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
                format!("reminder done {} late: {text}", compact(*late_secs))
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
        Event::Resolved {
            rto_achieved_secs,
            passed,
            ..
        } => format!(
            "resolved: RTO {} ({})",
            rto_achieved_secs.map_or_else(|| "not measured".to_string(), compact),
            if *passed { "passed" } else { "failed" }
        ),
        other => event_kind(other),
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
