//! The playbook view and its popups: the step list with timing, the RTO gauge, the current
//! step (guide, checklist, exact command, wait, live output), the confirmation dialog, typed
//! prompts, the scorecard and the playbook picker.
//!
//! ```text
//! ┌ Playbook · region-loss · Complete regional failure ────────────────────────┐
//! │ RTO AT RISK ▕██████████░░░░░░░░░░▏ 12m05s of 30m outage · back by 31m10s         │
//! │ ✓ 1 Assess scope                         2m     1m40s                      │
//! │ ▶ 3 Promote the DR replica  DESTRUCTIVE   5m     0m35s                      │
//! │ · 4 Deploy the application               10m                               │
//! │──────────────────────────────────────────────────────────────────────────────│
//! │ Step 3/6 · Promote the DR replica · target 5m · 0m35s                      │
//! │ guide …                                                                    │
//! │ [x] The DR region is healthy                                               │
//! │ action  db.promote db=dr-replica (pynomaly-dr-replica)                     │
//! │ output  …                                                                  │
//! │ Enter confirm & run · Space tick · s skip · a abort · n note               │
//! └────────────────────────────────────────────────────────────────────────────┘
//! ```

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::incident::{ConfirmDialog, Incident, Prompt};
use crate::duration::compact;
use chrono::{DateTime, Utc};

use crate::playbook::projection::rpo_span;
use crate::playbook::{Engine, Grade, Scorecard, StepKind, StepStatus, StepView, Timing};
use crate::theme::Theme;
use crate::ui::paint::{self, Panel};

/// Timeline lines shown under the current step when there is room.
const TIMELINE_SHOWN: usize = 6;

/// Shows control characters (a hostile child's escape sequences) visibly, as the one sanitiser
/// [`crate::text::visible`] does everywhere (`\x1b]52;...`), so output cannot drive the terminal
/// and nothing is silently dropped; a tab is a space.
pub fn sanitize(text: &str) -> String {
    crate::text::visible(&text.replace('\t', " ")).into_owned()
}

fn status_icon(status: &StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "·",
        StepStatus::Active => "▶",
        StepStatus::AwaitingConfirm => "?",
        StepStatus::Running => "⟳",
        StepStatus::Verifying => "…",
        StepStatus::Done => "✓",
        StepStatus::Failed(_) => "✗",
        StepStatus::Skipped(_) => "↷",
    }
}

fn timing_style(t: &Theme, timing: Option<Timing>) -> Style {
    match timing {
        Some(Timing::OnTime) => t.ok,
        Some(Timing::AtRisk) => t.warn,
        Some(Timing::Over) => t.crit,
        None => t.dim,
    }
}

fn status_style(t: &Theme, status: &StepStatus) -> Style {
    match status {
        StepStatus::Done => t.ok,
        StepStatus::Failed(_) => t.crit,
        StepStatus::Skipped(_) => t.warn,
        StepStatus::Pending => t.dim,
        _ => t.key,
    }
}

/// The playbook pane.
pub fn render_view(frame: &mut Frame, area: Rect, app: &App, incident: &Incident, focused: bool) {
    let t = &app.theme;
    let engine = &incident.engine;
    let playbook = engine.playbook();
    let block = Panel::new(
        if focused { t.border_focused } else { t.border },
        Line::from(vec![
            Span::styled(" Playbook ", t.title),
            Span::styled(
                format!("· {} · {} ", playbook.id, sanitize(&playbook.title)),
                t.text,
            ),
        ]),
    );
    let inner = Panel::inner(area);
    block.render(frame.buffer_mut(), area);
    if inner.height < 3 || inner.width < 20 {
        return;
    }
    // Only the current step's full view (guide, checklist, output) is built each frame; the
    // list reads status and timing straight from the engine.
    let count = engine.playbook().steps.len();
    let list_height = u16::try_from(count)
        .unwrap_or(u16::MAX)
        .min(inner.height.saturating_sub(3) / 2 + 1);
    let reminder = reminder_line(t, engine, app.now);
    let [gauge, list, rule, detail] = Layout::vertical([
        Constraint::Length(2 + u16::from(reminder.is_some())),
        Constraint::Length(list_height),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    render_gauge(frame, gauge, app, incident);
    if let Some(line) = reminder {
        let row = Rect {
            y: gauge.y + gauge.height.saturating_sub(1),
            height: 1,
            ..gauge
        };
        paint::text_lines(frame.buffer_mut(), row, &[line]);
    }
    let past = app.past_drills.get(&playbook.id);
    render_steps(frame, list, t, engine, app.now, past);
    paint::fill_row(frame.buffer_mut(), rule, "─", t.border);
    match engine.current().and_then(|i| engine.step_view(i, app.now)) {
        Some(step) => render_step(frame, detail, app, incident, &step, count, focused),
        None => render_idle(frame, detail, app, incident),
    }
}

/// The comms cadence: the reminder due next, counting down (`next in 12m40s: Post a status
/// update`, the time first so a narrow pane cuts the text, not the time); warn in its last
/// minute and once due, crit a minute past due. `None` without reminders, before the
/// declaration and after the end.
fn reminder_line(t: &Theme, engine: &Engine, now: DateTime<Utc>) -> Option<Line<'static>> {
    let next = engine.reminders(now).into_iter().next()?;
    let (when, style) = if next.overdue_secs >= 60 {
        (format!("OVERDUE {}", compact(next.overdue_secs)), t.crit)
    } else if next.is_due() {
        ("DUE now".to_string(), t.warn)
    } else if next.in_secs <= 60 {
        (format!("next in {}", compact(next.in_secs)), t.warn)
    } else {
        (format!("next in {}", compact(next.in_secs)), t.header)
    };
    Some(Line::from(vec![
        Span::styled(when, style),
        Span::styled(": ", t.dim),
        Span::styled(sanitize(&next.text), t.text),
        Span::styled(" · ", t.dim),
        Span::styled("u", t.key),
        Span::styled(" done", t.dim),
    ]))
}

fn render_gauge(frame: &mut Frame, area: Rect, app: &App, incident: &Incident) {
    let t = &app.theme;
    let engine = &incident.engine;
    let g = engine.rto(app.now);
    let mut first = vec![Span::styled("RTO ", t.header)];
    // The warning first, so a narrow terminal cuts the detail, not the alarm.
    if g.at_risk && !g.restored && g.declared_at.is_some() {
        first.push(Span::styled("AT RISK", t.badge_live));
        first.push(Span::raw(" "));
    }
    if g.declared_at.is_none() {
        first.push(Span::styled(
            format!(
                "{} objective · not declared: Enter declares the incident and starts the clock",
                compact(g.rto_secs)
            ),
            t.dim,
        ));
    } else {
        let bar_width = usize::from(area.width.saturating_sub(44)).clamp(6, 30);
        let filled = (g.elapsed_secs as usize * bar_width)
            .checked_div(g.rto_secs as usize)
            .unwrap_or(bar_width)
            .min(bar_width);
        let bar_style = if g.at_risk || g.elapsed_secs > g.rto_secs {
            t.gauge_risk
        } else {
            t.gauge
        };
        first.push(Span::styled("▕", t.dim));
        first.push(Span::styled("█".repeat(filled), bar_style));
        first.push(Span::styled("░".repeat(bar_width - filled), t.dim));
        first.push(Span::styled("▏ ", t.dim));
        first.push(Span::styled(compact(g.elapsed_secs), t.text));
        // RTO is disruption to service restored: say which clock this is.
        let since = if g.from_disruption {
            "outage"
        } else {
            "since declared"
        };
        if g.restored {
            first.push(Span::styled(
                format!(" of {} · service restored", compact(g.rto_secs)),
                t.dim,
            ));
        } else {
            first.push(Span::styled(
                format!(" of {} {since} · back by ", compact(g.rto_secs)),
                t.dim,
            ));
            first.push(Span::styled(
                compact(g.projection_secs),
                if g.at_risk { t.crit } else { t.text },
            ));
        }
    }
    let mut second = vec![Span::styled("RPO ", t.header)];
    match engine.rpo_captured() {
        Some(c) => match c.seconds {
            Some(s) => {
                let style = if s > engine.settings().rpo.secs() {
                    t.crit
                } else {
                    t.ok
                };
                let shown = c
                    .exact_secs
                    .map_or_else(|| compact(s), crate::playbook::projection::rpo_span);
                second.push(Span::styled(shown, style));
                second.push(Span::styled(
                    format!(
                        " of {} · {} ({})",
                        compact(engine.settings().rpo.secs()),
                        c.measured_from,
                        c.step
                    ),
                    t.dim,
                ));
            }
            None => second.push(Span::styled(
                format!("not measurable: {}", c.measured_from),
                t.warn,
            )),
        },
        None => second.push(Span::styled(
            format!(
                "{} objective · captured when a capture_rpo step runs",
                compact(engine.settings().rpo.secs())
            ),
            t.dim,
        )),
    }
    if engine.settings().read_only {
        second.push(Span::raw("  "));
        second.push(Span::styled(" READ-ONLY ", t.badge_drill));
    }
    paint::text_lines(
        frame.buffer_mut(),
        area,
        &[Line::from(first), Line::from(second)],
    );
}

fn render_steps(
    frame: &mut Frame,
    area: Rect,
    t: &Theme,
    engine: &Engine,
    now: DateTime<Utc>,
    past: Option<&crate::past::PastDrills>,
) {
    let rows = usize::from(area.height);
    if rows == 0 {
        return;
    }
    let steps = &engine.playbook().steps;
    let current = engine.current();
    // Keep the current step in view.
    let first = current
        .map_or(0, |c| c.saturating_sub(rows.saturating_sub(1) / 2))
        .min(steps.len().saturating_sub(rows));
    // Titles get what the target/elapsed columns and the badges leave, and no more than needed.
    let longest = steps
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0);
    // Earlier drills take a column (`2m10s/3m40s`) from the titles when there are any.
    let past = past.filter(|p| !p.steps.is_empty());
    let past_width = if past.is_some() { 12 } else { 0 };
    let title_width = usize::from(area.width)
        .saturating_sub(34 + past_width)
        .clamp(8, longest.max(8));
    let lines: Vec<Line> = steps
        .iter()
        .enumerate()
        .skip(first)
        .take(rows)
        .map(|(index, s)| {
            let here = current == Some(index);
            let status = engine.status(index).cloned().unwrap_or_default();
            let elapsed = engine.elapsed(index, now);
            let mut spans = vec![
                Span::styled(
                    format!("{} ", status_icon(&status)),
                    status_style(t, &status),
                ),
                Span::styled(format!("{:>2} ", index + 1), t.dim),
                Span::styled(
                    truncate(&s.title, title_width),
                    if here {
                        t.title
                    } else if status == StepStatus::Pending {
                        t.dim
                    } else {
                        t.text
                    },
                ),
            ];
            spans.push(Span::raw(
                " ".repeat(title_width.saturating_sub(s.title.chars().count()) + 1),
            ));
            spans.push(Span::styled(format!("{:>6}", s.target.to_string()), t.dim));
            spans.push(Span::styled(
                format!("{:>8}", elapsed.map(compact).unwrap_or_default()),
                timing_style(t, elapsed.map(|e| Timing::of(e, s.target))),
            ));
            if let Some(past) = past {
                spans.push(past_cell(t, past.step(&s.id), elapsed, past_width));
            }
            if s.destructive {
                spans.push(Span::styled(" DESTRUCTIVE", t.danger));
            }
            match &status {
                StepStatus::Skipped(_) => spans.push(Span::styled(" skipped", t.warn)),
                StepStatus::Failed(_) => spans.push(Span::styled(" failed", t.crit)),
                _ => {}
            }
            let line = Line::from(spans);
            if here { line.style(t.selected) } else { line }
        })
        .collect();
    paint::text_lines(frame.buffer_mut(), area, &lines);
}

/// A step's median and 90th percentile in earlier drills (`  2m10s/3m40s`), amber once this
/// run's time passes the 90th percentile; blank for a step never done in one.
fn past_cell(
    t: &Theme,
    stats: Option<&crate::past::StepStats>,
    elapsed: Option<u64>,
    width: usize,
) -> Span<'static> {
    let Some(stats) = stats else {
        return Span::raw(" ".repeat(width));
    };
    let text = format!("{}/{}", compact(stats.p50_secs), compact(stats.p90_secs));
    let style = if elapsed.is_some_and(|e| e > stats.p90_secs) {
        t.warn
    } else {
        t.dim
    };
    Span::styled(format!("{text:>width$}"), style)
}

fn truncate(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        text.to_string()
    } else {
        let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
        s.push('…');
        s
    }
}

fn render_step(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    incident: &Incident,
    step: &StepView,
    count: usize,
    focused: bool,
) {
    let t = &app.theme;
    let mut lines = vec![Line::from(vec![
        Span::styled(format!("Step {}/{count} · ", step.index + 1), t.dim),
        Span::styled(sanitize(&step.title), t.title),
        Span::styled(format!(" · target {} · ", step.target), t.dim),
        Span::styled(
            step.elapsed_secs.map(compact).unwrap_or_default(),
            timing_style(t, step.timing),
        ),
        Span::styled(
            format!(" · {}", step.status.label()),
            status_style(t, &step.status),
        ),
    ])];
    match &step.status {
        StepStatus::Failed(why) => lines.push(Line::from(Span::styled(
            format!("failed: {}", sanitize(why)),
            t.crit,
        ))),
        StepStatus::Skipped(why) => lines.push(Line::from(Span::styled(
            format!("skipped: {}", sanitize(why)),
            t.warn,
        ))),
        _ => {}
    }
    if !step.guide.trim().is_empty() {
        for para in step.guide.trim().lines() {
            lines.push(Line::from(Span::styled(sanitize(para), t.text)));
        }
    }
    for (i, item) in step.checklist.iter().enumerate() {
        let cursor = focused && i == incident.item;
        let mark = if item.ticked { "[x] " } else { "[ ] " };
        let line = Line::from(vec![
            Span::styled(if cursor { "› " } else { "  " }, t.key),
            Span::styled(mark, if item.ticked { t.ok } else { t.warn }),
            Span::styled(
                sanitize(&item.text),
                if item.ticked { t.dim } else { t.text },
            ),
        ]);
        lines.push(if cursor { line.style(t.selected) } else { line });
    }
    if let Some(command) = &step.command {
        let label = match step.kind {
            StepKind::Run => "run     ",
            _ => "action  ",
        };
        let mut spans = vec![
            Span::styled(label, t.header),
            Span::styled(sanitize(command), t.text),
        ];
        if step.destructive {
            spans.push(Span::styled("  DESTRUCTIVE", t.danger));
        }
        if step.captures_rpo {
            spans.push(Span::styled("  captures RPO", t.warn));
        }
        lines.push(Line::from(spans));
    }
    if let Some(wait) = &step.wait {
        lines.push(Line::from(vec![
            Span::styled("wait    ", t.header),
            Span::styled(wait.clone(), t.text),
        ]));
        if let Some(obs) = &step.observed {
            lines.push(Line::from(vec![
                Span::styled("observed ", t.header),
                Span::styled(obs.observed.clone(), if obs.met { t.ok } else { t.warn }),
            ]));
        }
    }
    if !step.output.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("output (attempt {})", step.attempt),
            t.header,
        )));
        let room = usize::from(area.height)
            .saturating_sub(lines.len() + 2)
            .max(2);
        let skip = step.output.len().saturating_sub(room);
        for line in step.output.iter().skip(skip) {
            lines.push(Line::from(Span::styled(
                format!("  {}", sanitize(line)),
                t.dim,
            )));
        }
    }
    let hints = if app.following.is_some() {
        FOLLOWER_HINTS.to_vec()
    } else {
        key_hints(&step.status, step.kind, incident.engine.is_finished())
    };
    let [body, footer] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    let body_lines = lines.len();
    let timeline_room = usize::from(body.height).saturating_sub(body_lines + 1);
    if timeline_room >= 3 {
        lines.push(Line::raw(""));
        lines.extend(timeline_lines(
            t,
            incident,
            timeline_room.min(TIMELINE_SHOWN + 1) - 1,
        ));
    }
    paint::wrapped_lines(frame.buffer_mut(), body, &lines);
    paint::text_line(frame.buffer_mut(), footer, &hints_line(t, &hints));
}

fn render_idle(frame: &mut Frame, area: Rect, app: &App, incident: &Incident) {
    let t = &app.theme;
    let engine = &incident.engine;
    let playbook = engine.playbook();
    let mut lines = Vec::new();
    if engine.declared_at().is_none() {
        lines.push(Line::from(Span::styled(
            playbook.summary.trim().to_string(),
            t.text,
        )));
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![Span::styled(
            format!(
                "{} steps · targets add up to {} · RTO {} · RPO {}",
                playbook.steps.len(),
                playbook.total_target(),
                engine.settings().rto,
                engine.settings().rpo
            ),
            t.dim,
        )]));
    } else if engine.is_finished() {
        let card = incident
            .scorecard
            .clone()
            .unwrap_or_else(|| engine.scorecard(app.now));
        lines.push(Line::from(vec![
            Span::styled(
                if card.aborted.is_some() {
                    "Incident aborted · "
                } else {
                    "Incident resolved · "
                },
                t.title,
            ),
            Span::styled(
                if card.passed { "PASSED" } else { "FAILED" },
                if card.passed { t.ok } else { t.crit },
            ),
            Span::styled(" · Enter shows the scorecard", t.dim),
        ]));
    }
    let room = usize::from(area.height).saturating_sub(lines.len() + 2);
    if room >= 2 && !incident.timeline.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(timeline_lines(t, incident, room - 1));
    }
    let [body, footer] = Layout::vertical([Constraint::Min(0), Constraint::Length(1)]).areas(area);
    paint::wrapped_lines(frame.buffer_mut(), body, &lines);
    let hints: Vec<(&str, &str)> = if app.following.is_some() {
        FOLLOWER_HINTS.to_vec()
    } else if engine.declared_at().is_none() {
        vec![
            ("Enter", "declare incident"),
            ("p", "other playbook"),
            ("n", "note"),
        ]
    } else {
        vec![("Enter", "scorecard"), ("p", "new playbook"), ("q", "quit")]
    };
    paint::text_line(frame.buffer_mut(), footer, &hints_line(t, &hints));
}

fn timeline_lines<'a>(t: &Theme, incident: &'a Incident, count: usize) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled("Timeline", t.header))];
    let skip = incident
        .timeline
        .len()
        .saturating_sub(count.saturating_sub(1));
    for (at, text) in incident.timeline.iter().skip(skip) {
        lines.push(Line::from(vec![
            Span::styled(at.format("%H:%M:%S ").to_string(), t.dim),
            Span::styled(sanitize(text), t.text),
        ]));
    }
    lines
}

/// A follower's only keys.
const FOLLOWER_HINTS: &[(&str, &str)] = &[("read-only mirror", ""), ("q", "quit"), ("?", "help")];

fn key_hints(
    status: &StepStatus,
    kind: StepKind,
    finished: bool,
) -> Vec<(&'static str, &'static str)> {
    if finished {
        return vec![("Enter", "scorecard"), ("q", "quit")];
    }
    let mut hints = match status {
        StepStatus::Active => match kind {
            StepKind::Run | StepKind::Action => vec![("Enter", "confirm & run"), ("Space", "tick")],
            StepKind::Wait => vec![("Enter", "verify"), ("Space", "tick")],
            StepKind::Manual => vec![("Enter", "done"), ("Space", "tick")],
        },
        StepStatus::Failed(_) => vec![("r", "retry")],
        _ => Vec::new(),
    };
    hints.extend([("s", "skip"), ("a", "abort"), ("n", "note")]);
    hints
}

fn hints_line<'a>(t: &Theme, hints: &[(&'a str, &'a str)]) -> Line<'a> {
    let mut spans = Vec::with_capacity(hints.len() * 2);
    for (key, what) in hints {
        spans.push(Span::styled(*key, t.key));
        spans.push(Span::styled(format!(" {what}  "), t.dim));
    }
    Line::from(spans)
}

/// The confirmation dialog: everything the operator must see before the world changes.
pub fn render_confirm(frame: &mut Frame, area: Rect, app: &App, dialog: &ConfirmDialog) {
    let t = &app.theme;
    let r = &dialog.request;
    let mut lines = vec![
        Line::from(vec![
            Span::styled("environment ", t.header),
            Span::styled(r.environment.clone(), t.text),
            Span::styled("   mode ", t.header),
            Span::styled(
                format!(" {} ", app.mode.badge()),
                match app.mode {
                    crate::app::Mode::Live => t.badge_live,
                    crate::app::Mode::Drill => t.badge_drill,
                    crate::app::Mode::Demo => t.badge_demo,
                },
            ),
            Span::styled(format!(" {}", r.mode), t.dim),
        ]),
        Line::raw(""),
        Line::from(vec![
            Span::styled("command     ", t.header),
            Span::styled(sanitize(&r.command), t.title),
        ]),
    ];
    for (name, value) in &r.env {
        lines.push(Line::from(vec![
            Span::styled("env         ", t.header),
            Span::styled(
                crate::text::visible(&format!("{name}={value}")).into_owned(),
                t.text,
            ),
        ]));
    }
    if !r.secrets_in_argv.is_empty() {
        let first = &r.secrets_in_argv[0];
        lines.push(Line::from(Span::styled(
            format!(
                "secret in an argument ({}): other local users can read it in `ps` while it \
                 runs; pass it with env = {{ {} = \"{{{{{first}}}}}\" }} instead",
                r.secrets_in_argv.join(", "),
                first.to_uppercase().replace('-', "_"),
            ),
            t.warn,
        )));
    }
    if let Some(summary) = &r.action_summary {
        lines.push(Line::from(vec![
            Span::styled("            ", t.dim),
            Span::styled(summary.clone(), t.dim),
        ]));
    }
    for name in &r.names {
        lines.push(Line::from(vec![
            Span::styled("resource    ", t.header),
            Span::styled(format!("{} ", name.logical), t.text),
            Span::styled(
                format!(
                    "→ {}",
                    name.resource
                        .as_deref()
                        .unwrap_or("(not in this environment)")
                ),
                t.warn,
            ),
        ]));
    }
    if let Some(wait) = &r.wait {
        lines.push(Line::from(vec![
            Span::styled("then wait   ", t.header),
            Span::styled(wait.clone(), t.text),
        ]));
    }
    if let Some(timeout) = r.timeout {
        lines.push(Line::from(vec![
            Span::styled("timeout     ", t.header),
            Span::styled(timeout.to_string(), t.text),
        ]));
    }
    if r.captures_rpo {
        lines.push(Line::from(Span::styled(
            "captures the RPO (data-loss window) when it starts",
            t.warn,
        )));
    }
    lines.push(Line::from(vec![
        Span::styled("evidence    ", t.header),
        Span::styled(r.evidence.summary(), t.dim),
    ]));
    lines.push(Line::raw(""));
    if let Some(expected) = &r.type_to_confirm {
        lines.push(Line::from(vec![
            Span::styled("DESTRUCTIVE. ", t.danger),
            Span::styled("Type ", t.text),
            Span::styled(expected.clone(), t.title),
            Span::styled(" and press Enter to run it; Esc cancels.", t.text),
        ]));
        lines.push(Line::from(vec![
            Span::styled("> ", t.key),
            Span::styled(dialog.typed.clone(), t.title),
            Span::styled("█", t.key),
        ]));
    } else {
        lines.push(Line::from(vec![
            Span::styled("y", t.key),
            Span::styled(" / Enter run it   ", t.text),
            Span::styled("Esc", t.key),
            Span::styled(" / n cancel", t.text),
        ]));
    }
    let title = format!("Confirm · step {} · {}", r.step + 1, r.title);
    super::popup(
        frame,
        area,
        t,
        96,
        lines,
        super::popup_block(t, title, r.destructive),
    );
}

pub fn render_prompt(frame: &mut Frame, area: Rect, app: &App, prompt: &Prompt) {
    let t = &app.theme;
    let lines = vec![
        Line::from(vec![
            Span::styled("> ", t.key),
            Span::styled(prompt.text.clone(), t.title),
            Span::styled("█", t.key),
        ]),
        Line::from(vec![
            Span::styled("Enter", t.key),
            Span::styled(" record  ", t.dim),
            Span::styled("Esc", t.key),
            Span::styled(" cancel", t.dim),
        ]),
    ];
    let danger = matches!(prompt.kind, crate::app::PromptKind::Abort);
    super::popup(
        frame,
        area,
        t,
        80,
        lines,
        super::popup_block(t, prompt.kind.title().to_string(), danger),
    );
}

/// The scorecard: RTO/RPO against the objectives, each step against its target, the criteria.
pub fn render_scorecard(frame: &mut Frame, area: Rect, app: &App, card: &Scorecard) {
    let t = &app.theme;
    let mut lines = Vec::new();
    let verdict = if card.passed {
        ("PASSED", t.ok)
    } else {
        ("FAILED", t.crit)
    };
    lines.push(Line::from(vec![
        Span::styled(card.title.clone(), t.title),
        Span::raw("  "),
        Span::styled(format!(" {} ", verdict.0), verdict.1),
    ]));
    if let Some(reason) = &card.aborted {
        lines.push(Line::from(Span::styled(
            format!("aborted: {}", sanitize(reason)),
            t.crit,
        )));
    }
    // Every figure from the projection, each with its one-line definition.
    let m = &card.measures;
    for f in m.figures() {
        let style = match f.name.as_str() {
            "RTO achieved" => match m.rto_achieved_secs {
                Some(a) if a < m.rto_objective_secs => t.ok,
                Some(_) => t.crit,
                None => t.dim,
            },
            "RPO achieved" => match m.rpo.as_ref().and_then(|r| r.seconds) {
                Some(s) if s < m.rpo_objective_secs as f64 => t.ok,
                Some(_) => t.crit,
                None => t.dim,
            },
            _ => t.text,
        };
        let objective = match f.name.as_str() {
            "RTO achieved" => format!(" · objective {}", compact(m.rto_objective_secs)),
            "RPO achieved" => format!(" · objective {}", compact(m.rpo_objective_secs)),
            _ => String::new(),
        };
        // The RPO's window and evidence go on a line of their own, after the figure and its
        // objective.
        let (value, detail) = match (f.name.as_str(), m.rpo.as_ref()) {
            ("RPO achieved", Some(r)) if r.seconds.is_some() => {
                let short = r.seconds.map(rpo_span).unwrap_or_default();
                let rest = f.value.strip_prefix(&short).unwrap_or(&f.value);
                (short, Some(rest.trim_start_matches(", ").to_string()))
            }
            _ => (f.value.clone(), None),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", f.name), t.header),
            Span::styled(sanitize(&value), style),
            Span::styled(objective, t.dim),
        ]));
        if let Some(detail) = detail.filter(|d| !d.is_empty()) {
            lines.push(Line::from(Span::styled(
                format!("{:<16}{}", "", sanitize(&detail)),
                t.text,
            )));
        }
        lines.push(Line::from(Span::styled(
            format!("{:<16}{}", "", f.definition),
            t.dim,
        )));
    }
    lines.push(Line::from(vec![
        Span::styled(format!("{:<16}", "Over target"), t.header),
        Span::styled(
            format!("{} of {} steps", m.steps_over_target, card.steps.len()),
            if m.steps_over_target == 0 {
                t.ok
            } else {
                t.warn
            },
        ),
    ]));
    if !m.resumes.is_empty() {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", "Resumed"), t.header),
            Span::styled(
                format!(
                    "{} time(s) after a stop (see the journal's report)",
                    m.resumes.len()
                ),
                t.warn,
            ),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        format!(
            "{:<34} {:>7} {:>8}  {}",
            "step", "target", "actual", "status"
        ),
        t.header,
    )));
    for s in &card.steps {
        lines.push(Line::from(vec![
            Span::styled(format!("{:<34} ", truncate(&s.title, 34)), t.text),
            Span::styled(format!("{:>7} ", compact(s.target_secs)), t.dim),
            Span::styled(
                format!(
                    "{:>8}  ",
                    s.actual_secs.map(compact).unwrap_or_else(|| "—".into())
                ),
                timing_style(t, s.timing),
            ),
            Span::styled(
                s.status.clone(),
                match s.status.as_str() {
                    "done" => t.ok,
                    "skipped" => t.warn,
                    _ => t.crit,
                },
            ),
            Span::styled(
                s.reason
                    .as_deref()
                    .map(|r| format!(": {}", sanitize(r)))
                    .unwrap_or_default(),
                t.dim,
            ),
        ]));
    }
    lines.push(Line::raw(""));
    for c in &card.criteria {
        let (mark, style) = match c.verdict {
            Grade::Pass => ("✓", t.ok),
            Grade::Fail => ("✗", t.crit),
            Grade::NotApplicable => ("–", t.dim),
        };
        lines.push(Line::from(vec![
            Span::styled(format!("{mark} "), style),
            Span::styled(format!("{}: ", c.name), t.text),
            Span::styled(c.detail.clone(), t.dim),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("Esc", t.key),
        Span::styled(" close  ", t.dim),
        Span::styled("q", t.key),
        Span::styled(" quit", t.dim),
    ]));
    super::popup(
        frame,
        area,
        t,
        100,
        lines,
        super::popup_block(t, "Scorecard".into(), false),
    );
}

pub fn render_picker(frame: &mut Frame, area: Rect, app: &App, selected: usize) {
    let t = &app.theme;
    let mut lines = vec![Line::from(Span::styled(
        "Pick the scenario playbook (Enter loads it; nothing runs yet):",
        t.dim,
    ))];
    for (i, p) in app.playbooks.iter().enumerate() {
        let style = if i == selected {
            t.selected
        } else {
            Style::default()
        };
        lines.push(
            Line::from(vec![
                Span::styled(format!(" {:<14}", p.id), t.key),
                Span::styled(format!("{:<44}", truncate(&p.title, 44)), t.text),
                Span::styled(
                    format!(" RTO {:<5} {} steps", p.rto.to_string(), p.steps.len()),
                    t.dim,
                ),
            ])
            .style(style),
        );
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("Enter", t.key),
        Span::styled(" load  ", t.dim),
        Span::styled("Esc", t.key),
        Span::styled(" cancel", t.dim),
    ]));
    super::popup(
        frame,
        area,
        t,
        90,
        lines,
        super::popup_block(t, "Playbooks".into(), false),
    );
}
