//! The playbook view and its popups: the step list with timing, the RTO gauge, the current
//! step (guide, checklist, exact command, wait, live output), the confirmation dialog, typed
//! prompts, the scorecard and the playbook picker.
//!
//! ```text
//! ┌ Playbook · region-loss · Complete regional failure ────────────────────────┐
//! │ RTO AT RISK ▕██████████░░░░░░░░░░▏ 12m05s of 30m outage · projected 31m10s       │
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
use crate::app::incident::{ConfirmDialog, Incident, Prompt, Scroll};
use crate::duration::{over_by, span};
use chrono::{DateTime, Utc};

use crate::playbook::projection::rpo_span;
use crate::playbook::{Engine, Grade, Scorecard, StepKind, StepStatus, StepView, Timing};
use crate::theme::Theme;
use crate::ui::paint::{self, Panel};

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

/// The words for a step's state on screen (never the raw names of the record).
pub fn status_words(status: &StepStatus) -> &'static str {
    match status {
        StepStatus::Pending => "pending",
        StepStatus::Active => "active",
        StepStatus::AwaitingConfirm => "awaiting confirmation",
        StepStatus::Running => "running",
        StepStatus::Verifying => "verifying",
        StepStatus::Done => "done",
        StepStatus::Failed(_) => "failed",
        StepStatus::Skipped(_) => "skipped",
    }
}

/// The playbook pane: the RTO/RPO gauge, the step list, then the current step. The step's
/// checklist, executor and wait are pinned above the key hints, so they are on screen at any
/// size the console accepts; the guide, the output and the timeline scroll above them (PgUp,
/// PgDn, Home, End).
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
    let width = inner.width;
    let mut gauge = gauge_lines(app, incident, width);
    // The comms cadence's countdown, under the RPO line (only while there is one).
    gauge.extend(reminder_line(t, engine, app.now));
    let gauge_h = height_of(&gauge, width).min(inner.height / 3);
    let count = playbook.steps.len();
    let step = engine.current().and_then(|i| engine.step_view(i, app.now));
    let past = app.past_drills.get(&playbook.id);
    let (header, pinned) = match &step {
        Some(step) => (
            vec![step_header(
                t,
                step,
                count,
                past.and_then(|p| p.step(&step.id)),
            )],
            pinned_lines(app, incident, step, focused, inner),
        ),
        None => (Vec::new(), Vec::new()),
    };
    let header_h = height_of(&header, width);
    let pinned_h = height_of(&pinned, width);
    // Rows under the gauge: the list, the rule, then the detail (header, at least two scrolled
    // rows, the pinned part, the key hints).
    let rest = inner.height.saturating_sub(gauge_h);
    let wanted = u16::try_from(count).unwrap_or(u16::MAX);
    let list_h = if step.is_some() {
        let need = header_h
            .saturating_add(2)
            .saturating_add(pinned_h)
            .saturating_add(1);
        wanted
            .min((rest.saturating_sub(1) / 3).max(3))
            .min(rest.saturating_sub(1).saturating_sub(need))
            .max(1)
    } else {
        wanted.min(rest.saturating_sub(1) / 2)
    };
    let [gauge_area, list, rule, detail] = Layout::vertical([
        Constraint::Length(gauge_h),
        Constraint::Length(list_h),
        Constraint::Length(1),
        Constraint::Min(0),
    ])
    .areas(inner);
    paint::wrapped_lines(frame.buffer_mut(), gauge_area, &gauge);
    render_steps(frame, list, t, engine, app.now, past);
    paint::fill_row(frame.buffer_mut(), rule, "─", t.border);
    match &step {
        Some(step) => render_step(
            frame,
            detail,
            rule,
            app,
            incident,
            step,
            (&header, &pinned),
            focused,
        ),
        None => render_idle(frame, detail, rule, app, incident),
    }
}

/// The comms cadence: the reminder due next, counting down (`next in 12m40s: Post a status
/// update`, the time first so a narrow pane cuts the text, not the time); warn in its last
/// minute and once due, crit a minute past due. `None` without reminders, before the
/// declaration and after the end.
fn reminder_line(t: &Theme, engine: &Engine, now: DateTime<Utc>) -> Option<Line<'static>> {
    let next = engine.reminders(now).into_iter().next()?;
    let (when, style) = if next.overdue_secs >= 60 {
        (format!("OVERDUE {}", span(next.overdue_secs)), t.crit)
    } else if next.is_due() {
        ("DUE now".to_string(), t.warn)
    } else if next.in_secs <= 60 {
        (format!("next in {}", span(next.in_secs)), t.warn)
    } else {
        (format!("next in {}", span(next.in_secs)), t.header)
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

/// Rows `lines` take at `width`, as a `u16`.
fn height_of(lines: &[Line], width: u16) -> u16 {
    u16::try_from(paint::wrapped_height(lines, width)).unwrap_or(u16::MAX)
}

/// The gauge: the RTO (the warning first, so the words lead), then the RPO. Wraps, never cut.
fn gauge_lines(app: &App, incident: &Incident, width: u16) -> Vec<Line<'static>> {
    let t = &app.theme;
    let engine = &incident.engine;
    let g = engine.rto(app.now);
    let rto = crate::duration::Dur::from_secs(g.rto_secs);
    let mut first = vec![Span::styled("RTO ", t.header)];
    let looks_restored = g.looks_restored;
    let at_risk = g.at_risk && !g.restored && !engine.is_finished() && g.declared_at.is_some();
    if at_risk {
        first.push(Span::styled("AT RISK", t.badge_live));
        first.push(Span::raw(" "));
    }
    if g.declared_at.is_none() {
        first.push(Span::styled(
            format!(
                "{rto} objective · not declared: Enter declares the incident · the RTO counts from the outage's start"
            ),
            t.dim,
        ));
    } else {
        // The words first; the bar gets what the line leaves (none on a narrow screen).
        let since = if g.from_disruption {
            "outage"
        } else {
            "since declared"
        };
        let mut words = vec![Span::styled(span(g.elapsed_secs), t.text)];
        if g.restored {
            words.push(Span::styled(format!(" of {rto} · service restored"), t.dim));
        } else if engine.is_finished() {
            words.push(Span::styled(format!(" of {rto} {since} · ended"), t.dim));
        } else if let Some(step) = looks_restored {
            words.push(Span::styled(
                format!(
                    " of {rto} {since} · service looks restored: step {step}'s check holds \
                     (RTO is recorded when it is done)"
                ),
                t.ok,
            ));
        } else {
            // Projected: the outage's length if every remaining step takes its target (its
            // elapsed time so far plus the targets left), not a time of day.
            words.push(Span::styled(
                format!(" of {rto} {since} · projected "),
                t.dim,
            ));
            words.push(Span::styled(
                span(g.projection_secs),
                if at_risk { t.crit } else { t.text },
            ));
            if let Some(over) = g.projection_secs.checked_sub(g.rto_secs).filter(|o| *o > 0) {
                words.push(Span::styled(format!(", {} over", span(over)), t.crit));
            }
        }
        let used: usize = first.iter().chain(&words).map(Span::width).sum();
        let bar_width = usize::from(width).saturating_sub(used + 4).min(30);
        if bar_width >= 6 {
            let filled = (g.elapsed_secs as usize * bar_width)
                .checked_div(g.rto_secs as usize)
                .unwrap_or(bar_width)
                .min(bar_width);
            let bar_style = if at_risk || g.elapsed_secs > g.rto_secs {
                t.gauge_risk
            } else {
                t.gauge
            };
            first.push(Span::styled("▕", t.dim));
            first.push(Span::styled("█".repeat(filled), bar_style));
            first.push(Span::styled("░".repeat(bar_width - filled), t.dim));
            first.push(Span::styled("▏ ", t.dim));
        }
        first.extend(words);
    }
    let rpo = engine.settings().rpo;
    let mut second = vec![Span::styled("RPO ", t.header)];
    match engine.rpo_captured() {
        Some(c) => match c.seconds {
            Some(s) => {
                let style = if s > rpo.secs() { t.crit } else { t.ok };
                let shown = c
                    .exact_secs
                    .map_or_else(|| span(s), crate::playbook::projection::rpo_span);
                second.push(Span::styled(shown, style));
                // The step by number and title (its id read like jargon on screen).
                let steps = &engine.playbook().steps;
                let by = steps
                    .iter()
                    .position(|s| s.id == c.step)
                    .map_or_else(|| c.step.clone(), |i| format!("step {}", i + 1));
                second.push(Span::styled(
                    format!(" of {rpo} · {} ({by})", sanitize(&c.measured_from)),
                    t.dim,
                ));
            }
            None => second.push(Span::styled(
                format!("not measurable: {}", sanitize(&c.measured_from)),
                t.warn,
            )),
        },
        None => {
            // Which step measures the data lost, by its number and title.
            let steps = &engine.playbook().steps;
            let when = steps.iter().position(|s| s.capture_rpo).map_or_else(
                || "not measured by this playbook".to_string(),
                |i| {
                    format!(
                        "data lost measured when step {} runs ({})",
                        i + 1,
                        steps[i].title
                    )
                },
            );
            second.push(Span::styled(
                format!("{rpo} objective · {}", sanitize(&when)),
                t.dim,
            ))
        }
    }
    if engine.settings().read_only {
        second.push(Span::raw("  "));
        second.push(Span::styled(" READ-ONLY ", t.badge_drill));
    }
    vec![Line::from(first), Line::from(second)]
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
    // A cut title reads whole in the step's heading below when it is the current step.
    let longest = steps
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0);
    // Earlier drills take a column (`2m10s/3m40s`) from the titles when there are any.
    let past = past.filter(|p| !p.steps.is_empty());
    let past_width = past.map_or(0, |p| {
        p.steps
            .values()
            .map(|st| past_text(st).chars().count() + 1)
            .max()
            .unwrap_or(0)
    });
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
            let timing = elapsed.map(|e| Timing::of_step(&status, e, s.target));
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
                format!("{:>8}", elapsed.map(span).unwrap_or_default()),
                timing_style(t, timing),
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
            // Over target in words too (not only in colour), where the row has room: by how
            // much (the column before is the time taken, not the overrun).
            // On a done step the overrun matters more than the DESTRUCTIVE badge (its action
            // has run): the badge gives way when both do not fit.
            if timing == Some(Timing::Over)
                && let Some(over) = elapsed.and_then(|e| e.checked_sub(s.target.secs()))
            {
                let long = format!(" over by {}", span(over));
                let short = format!(" +{}", span(over));
                let fits = |spans: &[Span], text: &str| {
                    let used: usize = spans.iter().map(Span::width).sum();
                    text.chars().count() <= usize::from(area.width).saturating_sub(used)
                };
                if !fits(&spans, &short) && s.destructive && status == StepStatus::Done {
                    spans.retain(|sp| sp.content != " DESTRUCTIVE");
                }
                if fits(&spans, &long) {
                    spans.push(Span::styled(long, t.crit));
                } else if fits(&spans, &short) {
                    spans.push(Span::styled(short, t.crit));
                }
            }
            let line = Line::from(spans);
            if here { line.style(t.selected) } else { line }
        })
        .collect();
    // Steps above or below the rows say so (a playbook's last steps were hidden without a
    // word): the first or last row becomes the count of the steps out of view.
    let mut lines = lines;
    if rows >= 3 {
        let below = steps.len().saturating_sub(first + rows);
        if below > 0
            && let Some(last) = lines.last_mut()
        {
            let from = first + rows;
            *last = Line::from(Span::styled(
                format!("   ↓ {} more step(s): {}-{}", below + 1, from, steps.len()),
                t.dim,
            ));
        }
        if first > 0
            && let Some(top) = lines.first_mut()
        {
            *top = Line::from(Span::styled(
                format!("   ↑ {} earlier step(s): 1-{}", first + 1, first + 1),
                t.dim,
            ));
        }
    }
    paint::text_lines(frame.buffer_mut(), area, &lines);
}

/// `2m10s/3m40s`: median / 90th percentile.
fn past_text(stats: &crate::past::StepStats) -> String {
    format!("{}/{}", span(stats.p50_secs), span(stats.p90_secs))
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
    let text = past_text(stats);
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

/// `Step 3/7 · Promote the DR replica · target 5m · 6m10s, over by 1m10s · running`: the whole
/// title (the list may cut it), wrapped; with earlier drills of the playbook, what the list's
/// `2m10s/3m40s` column means for this step (` · earlier drills: median 2m10s, 90% within
/// 3m40s`).
fn step_header(
    t: &Theme,
    step: &StepView,
    count: usize,
    past: Option<&crate::past::StepStats>,
) -> Line<'static> {
    let mut spans = vec![
        Span::styled(format!("Step {}/{count} · ", step.index + 1), t.dim),
        Span::styled(sanitize(&step.title), t.title),
        Span::styled(format!(" · target {} · ", step.target), t.dim),
        Span::styled(
            step.elapsed_secs.map(span).unwrap_or_default(),
            timing_style(t, step.timing),
        ),
    ];
    if let Some(over) = step
        .elapsed_secs
        .filter(|e| *e > step.target.secs())
        .and_then(|e| over_by(e, step.target.secs()))
    {
        spans.push(Span::styled(format!(", {over}"), t.crit));
    }
    match step.waiting_approval {
        // The two-person rule: armed by the driver, waiting for approvers (shared war room).
        Some((have, need)) => spans.push(Span::styled(
            format!(" · waiting for approval {have}/{need}"),
            t.warn,
        )),
        None if step.signing_arming => {
            spans.push(Span::styled(format!(" · {SIGNING_ARMING}"), t.warn));
        }
        None => spans.push(Span::styled(
            format!(" · {}", status_words(&step.status)),
            status_style(t, &step.status),
        )),
    }
    if let Some(past) = past {
        spans.push(Span::styled(
            format!(
                " · earlier drills: median {}, 90% within {}",
                span(past.p50_secs),
                span(past.p90_secs)
            ),
            t.dim,
        ));
    }
    Line::from(spans)
}

/// The part of a step that is always on screen: its checklist, its executor (the exact
/// command) and its wait, with what the wait observes.
fn pinned_lines(
    app: &App,
    incident: &Incident,
    step: &StepView,
    focused: bool,
    area: Rect,
) -> Vec<Line<'static>> {
    let t = &app.theme;
    let mut lines = Vec::new();
    if let Some((number, id, recalled)) = &step.recalled {
        let from = format!("from step {number} ({}): ", sanitize(id));
        if recalled.is_empty() {
            lines.push(Line::from(vec![
                Span::styled(from.clone(), t.header),
                Span::styled("no output recorded", t.warn),
            ]));
        }
        for line in recalled {
            lines.push(Line::from(vec![
                Span::styled(from.clone(), t.header),
                Span::styled(sanitize(line), t.text),
            ]));
        }
    }
    for (i, item) in step.checklist.iter().enumerate() {
        let cursor = focused && i == incident.item;
        let line = checklist_line(t, item, cursor);
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
        if let Some(message) = &step.message {
            lines.extend(step_message_lines(t, message, area));
        }
        if let Some((have, need)) = step.waiting_approval {
            lines.push(Line::from(vec![
                Span::styled("approval", t.header),
                Span::styled(
                    format!(
                        " waiting for approval ({have} of {need}): an approver types the \
                         resource's name (A when joined, or warroom request ... approve)"
                    ),
                    t.warn,
                ),
            ]));
        }
    }
    if let Some(wait) = &step.wait {
        lines.push(Line::from(vec![
            Span::styled("wait    ", t.header),
            Span::styled(sanitize(wait), t.text),
        ]));
        if let Some(obs) = &step.observed {
            lines.push(Line::from(vec![
                Span::styled("observed ", t.header),
                Span::styled(sanitize(&obs.observed), if obs.met { t.ok } else { t.warn }),
            ]));
        }
    }
    lines
}

/// The current step: its heading, the scrolled guide/output/timeline, the pinned checklist,
/// executor and wait, and the keys.
#[allow(clippy::too_many_arguments)]
fn render_step(
    frame: &mut Frame,
    area: Rect,
    rule: Rect,
    app: &App,
    incident: &Incident,
    step: &StepView,
    (header, pinned): (&[Line], &[Line]),
    focused: bool,
) {
    let t = &app.theme;
    let width = area.width;
    let mut lines = Vec::new();
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
    if !step.output.is_empty() {
        lines.push(Line::from(Span::styled(
            format!("output (attempt {})", step.attempt),
            t.header,
        )));
        for line in &step.output {
            lines.push(Line::from(Span::styled(
                format!("  {}", sanitize(line)),
                t.dim,
            )));
        }
    }
    if !incident.timeline.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(timeline_lines(t, incident));
    }
    let header_h = height_of(header, width).min(area.height);
    let footer_h = u16::from(area.height > header_h);
    let room = area.height.saturating_sub(header_h + footer_h);
    let pinned_h = height_of(pinned, width).min(room);
    let [head, body, pin, footer] = Layout::vertical([
        Constraint::Length(header_h),
        Constraint::Length(room - pinned_h),
        Constraint::Length(pinned_h),
        Constraint::Length(footer_h),
    ])
    .areas(area);
    paint::wrapped_lines(frame.buffer_mut(), head, header);
    let scrollable = draw_scrolled(frame, body, rule, app, &incident.detail, &lines, false);
    // Pinned taller than its room (a long checklist on a short screen): keep the cursor's item
    // and the executor in view by dropping rows from the top.
    let pinned_total = paint::wrapped_height(pinned, width);
    let skip = if pinned_total > usize::from(pinned_h) && focused {
        let cursor_row = paint::wrapped_height(&pinned[..incident.item.min(pinned.len())], width);
        cursor_row.min(pinned_total - usize::from(pinned_h))
    } else {
        0
    };
    paint::wrapped_lines_from(frame.buffer_mut(), pin, pinned, skip);
    let mut hints = if app.following.is_some() {
        super::joined::hints(app).unwrap_or_else(|| FOLLOWER_HINTS.to_vec())
    } else {
        let mut hints = key_hints(
            &step.status,
            step.kind,
            incident.engine.is_finished(),
            focused,
            !step.checklist.is_empty(),
        );
        // Armed and waiting for approvers: Enter would arm it again (the approvals given so
        // far are for this arming), so it is not offered as "run".
        if step.waiting_approval.is_some() || step.signing_arming {
            hints.retain(|(key, _)| *key != "Enter");
        } else if incident.engine.approvals_needed(step.index) > 0 {
            for hint in &mut hints {
                if hint.0 == "Enter" && hint.1 == "confirm & run" {
                    hint.1 = "confirm & arm";
                }
            }
        }
        // A restore: the point can be chosen from the list (`app::points`).
        if matches!(step.status, StepStatus::Active | StepStatus::Failed(_))
            && !incident.engine.is_finished()
            && incident.engine.restore_target(step.index).is_some()
        {
            hints.insert(1.min(hints.len()), ("t", "restore point"));
        }
        hints
    };
    if scrollable {
        hints.insert(hints.len().min(2), ("PgDn/PgUp", "scroll"));
    }
    if app.pace.paused.is_some() && app.following.is_none() {
        // A paused clock holds every wait: say first how to go on (a paused wait looked stuck).
        hints.insert(0, ("P", "resume the clock"));
    }
    paint::text_line(
        frame.buffer_mut(),
        footer,
        &hints_line(t, &hints, footer.width),
    );
}

/// Draws `lines` scrolled by `scroll` into `area`, and says on `rule` where the view is when
/// the text is taller than the area. Returns whether it is.
fn draw_scrolled(
    frame: &mut Frame,
    area: Rect,
    rule: Rect,
    app: &App,
    scroll: &Scroll,
    lines: &[Line],
    default_end: bool,
) -> bool {
    let t = &app.theme;
    let total = paint::wrapped_height(lines, area.width);
    let visible = usize::from(area.height);
    let offset = scroll.resolve(default_end, total, visible);
    paint::wrapped_lines_from(frame.buffer_mut(), area, lines, offset);
    if total <= visible || visible == 0 {
        return false;
    }
    let above = if offset > 0 { "↑" } else { " " };
    let below = if offset + visible < total { "↓" } else { " " };
    let note = format!(
        " {above}{below} rows {}-{} of {total} · PgUp PgDn ",
        offset + 1,
        (offset + visible).min(total)
    );
    let note_w = u16::try_from(note.chars().count()).unwrap_or(u16::MAX);
    if note_w + 2 <= rule.width {
        let at = Rect {
            x: rule.x + rule.width - note_w - 1,
            width: note_w,
            ..rule
        };
        paint::text_line(
            frame.buffer_mut(),
            at,
            &Line::from(Span::styled(note, t.dim)),
        );
    }
    true
}

/// One checklist item: `[x] text`, `[ ] text`, or `[n/a] text — reason`.
fn checklist_line(
    t: &Theme,
    item: &crate::playbook::engine::ChecklistItem,
    cursor: bool,
) -> Line<'static> {
    let mut spans = vec![Span::styled(if cursor { "› " } else { "  " }, t.key)];
    match &item.not_applicable {
        Some(reason) => {
            spans.push(Span::styled("[n/a] ", t.dim));
            spans.push(Span::styled(sanitize(&item.text), t.dim));
            spans.push(Span::styled(format!(" — {}", sanitize(reason)), t.text));
        }
        None => {
            let mark = if item.ticked { "[x] " } else { "[ ] " };
            spans.push(Span::styled(mark, if item.ticked { t.ok } else { t.warn }));
            spans.push(Span::styled(
                sanitize(&item.text),
                if item.ticked { t.dim } else { t.text },
            ));
        }
    }
    Line::from(spans)
}

/// The message a notify step sends, under its command in the step detail: its lines as sent,
/// wrapped, at most a third of the panel (the confirmation shows it whole, scrollable).
fn step_message_lines(t: &Theme, message: &str, area: Rect) -> Vec<Line<'static>> {
    let max_rows = usize::from(area.height / 3).max(3);
    super::message::message_block(
        t,
        message,
        usize::from(area.width),
        max_rows,
        0,
        super::message::MoreHint::InConfirmation,
    )
}

fn render_idle(frame: &mut Frame, area: Rect, rule: Rect, app: &App, incident: &Incident) {
    let t = &app.theme;
    let engine = &incident.engine;
    let playbook = engine.playbook();
    let mut lines = Vec::new();
    let finished = engine.is_finished();
    if engine.declared_at().is_none() {
        for para in playbook.summary.trim().lines() {
            lines.push(Line::from(Span::styled(sanitize(para), t.text)));
        }
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
    } else if finished {
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
        if let Some(ended) = card.ended_at {
            lines.push(Line::from(Span::styled(
                if app.following.is_some() {
                    format!(
                        "The followed session ended at {} UTC: this mirror shows its record, \
                         which will not change.",
                        ended.format("%H:%M:%S")
                    )
                } else {
                    format!("Ended at {} UTC.", ended.format("%H:%M:%S"))
                },
                t.text,
            )));
        }
    }
    if !incident.timeline.is_empty() {
        lines.push(Line::raw(""));
        lines.extend(timeline_lines(t, incident));
    }
    let footer_h = u16::from(area.height > 1);
    let [body, footer] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(footer_h)]).areas(area);
    // A finished incident's timeline opens at its end (the resolution), following new events.
    let scrollable = draw_scrolled(frame, body, rule, app, &incident.detail, &lines, finished);
    let mut hints: Vec<(&str, &str)> = if app.following.is_some() {
        super::joined::hints(app).unwrap_or_else(|| FOLLOWER_HINTS.to_vec())
    } else if engine.declared_at().is_none() {
        vec![
            ("Enter", "declare incident"),
            ("p", "other playbook"),
            ("n", "note"),
        ]
    } else {
        vec![("Enter", "scorecard"), ("p", "new playbook"), ("q", "quit")]
    };
    if scrollable {
        hints.insert(hints.len().min(1), ("PgUp/PgDn", "scroll"));
    }
    paint::text_line(
        frame.buffer_mut(),
        footer,
        &hints_line(t, &hints, footer.width),
    );
}

/// `Timeline`, then every event kept, oldest first (the view scrolls).
fn timeline_lines<'a>(t: &Theme, incident: &'a Incident) -> Vec<Line<'a>> {
    let mut lines = vec![Line::from(Span::styled("Timeline", t.header))];
    for (at, text) in &incident.timeline {
        // A multi-line entry (a message a step posted) reads as written, one line per line.
        for (i, part) in text.split('\n').enumerate() {
            let stamp = if i == 0 {
                at.format("%H:%M:%S ").to_string()
            } else {
                " ".repeat(9)
            };
            lines.push(Line::from(vec![
                Span::styled(stamp, t.dim),
                Span::styled(sanitize(part.trim_end_matches('\r')), t.text),
            ]));
        }
    }
    lines
}

/// A follower's only keys.
const FOLLOWER_HINTS: &[(&str, &str)] = &[("read-only mirror", ""), ("q", "quit"), ("?", "help")];

/// The keys of the current step; the tick key only where the step has a checklist (it was
/// offered on steps without one).
fn key_hints(
    status: &StepStatus,
    kind: StepKind,
    finished: bool,
    focused: bool,
    has_checklist: bool,
) -> Vec<(&'static str, &'static str)> {
    if finished {
        return vec![("Enter", "scorecard"), ("q", "quit")];
    }
    let tick = if focused {
        ("Space", "tick")
    } else {
        ("Tab", "to tick")
    };
    let enter = match kind {
        StepKind::Run | StepKind::Action => ("Enter", "confirm & run"),
        StepKind::Wait => ("Enter", "verify"),
        StepKind::Manual => ("Enter", "done"),
    };
    let mut hints = match status {
        StepStatus::Active if has_checklist => vec![enter, tick],
        StepStatus::Active => vec![enter],
        StepStatus::Failed(_) => vec![("r", "retry")],
        _ => Vec::new(),
    };
    hints.extend([("s", "skip"), ("a", "abort"), ("n", "note")]);
    hints
}

/// The hints that fit in `width` columns, whole and in order (a cut one read `n not`); the
/// rest are in `?` help.
fn hints_line<'a>(t: &Theme, hints: &[(&'a str, &'a str)], width: u16) -> Line<'a> {
    let mut spans = Vec::with_capacity(hints.len() * 2);
    let mut used = 0;
    for (key, what) in hints {
        let w = key.chars().count() + 1 + what.chars().count();
        if used + w > usize::from(width) {
            break;
        }
        used += w + 2;
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
    if let Some(says) = &dialog.backend_says {
        lines.push(Line::from(vec![
            Span::styled("backend     ", t.header),
            Span::styled(sanitize(says), t.text),
        ]));
    }
    let message_at = lines.len();
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
    if let Some(p) = &r.restore {
        // The restore point: what is kept, what is lost (with its definition), and why.
        lines.push(Line::from(vec![
            Span::styled("restore to  ", t.header),
            Span::styled(
                format!(
                    "{} UTC  ({}: {})",
                    p.point.format("%Y-%m-%d %H:%M:%S"),
                    p.to,
                    p.basis.label()
                ),
                t.title,
            ),
        ]));
        let lost = match (p.loss_secs, p.onset) {
            (Some(l), Some(o)) => format!(
                "{} of good writes: corruption onset {} minus the restore point",
                crate::duration::rpo_span(l),
                o.format("%H:%M:%S")
            ),
            _ => "unknown: no corruption onset recorded (record it with d)".to_string(),
        };
        lines.push(Line::from(vec![
            Span::styled("data lost   ", t.header),
            Span::styled(lost, t.warn),
        ]));
        // Who chooses: whoever confirms (recorded with the point), and where it was chosen.
        let picked = app
            .incident
            .as_ref()
            .and_then(|i| i.engine.picked_restore_point(r.step))
            == Some(p.to);
        lines.push(Line::from(vec![
            Span::styled("chosen by   ", t.header),
            Span::styled(
                format!(
                    "{} ({}), recorded when you confirm",
                    sanitize(&app.operator),
                    if picked {
                        "in the restore-point picker"
                    } else {
                        "the playbook's to"
                    }
                ),
                t.text,
            ),
        ]));
        lines.push(Line::from(vec![
            Span::styled("from        ", t.header),
            Span::styled(
                format!(
                    "backup taken {} UTC{}",
                    p.backup_at.format("%Y-%m-%d %H:%M:%S"),
                    match p.basis {
                        crate::recovery::Basis::PointInTime => " + WAL replayed to the point",
                        crate::recovery::Basis::Backup => " (restored as it is)",
                    }
                ),
                t.text,
            ),
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
    // What to press stays in view; what is above it scrolls on a short screen.
    let keys_from = lines.len();
    let signing = app
        .incident
        .as_ref()
        .and_then(|i| i.engine.signing_arming())
        == Some(r.step);
    if signing {
        // Confirmed: the driver's key (perhaps through an ssh-agent) is signing the arming.
        lines.push(Line::from(vec![
            Span::styled(SIGNING_ARMING, t.warn),
            Span::styled("  ", t.text),
            Span::styled("Esc", t.key),
            Span::styled(" cancels", t.text),
        ]));
    } else if let Some(expected) = &r.type_to_confirm {
        // The two-person rule: the confirmation arms the step; it runs on the approvals.
        let needed = app
            .incident
            .as_ref()
            .map_or(0, |i| i.engine.approvals_needed(r.step));
        let then = if needed > 0 {
            format!(
                " and press Enter to arm it: it runs when {needed} approver(s) approve; Esc \
                 cancels."
            )
        } else {
            " and press Enter to run it; Esc cancels.".to_string()
        };
        lines.push(Line::from(vec![
            Span::styled("DESTRUCTIVE. ", t.danger),
            Span::styled("Type ", t.text),
            Span::styled(expected.clone(), t.title),
            Span::styled(then, t.text),
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
    if r.message.is_some() {
        confirm_message(t, area, &mut lines, message_at, dialog);
    }
    let title = format!("Confirm · step {} · {}", r.step + 1, r.title);
    let tail = lines.len() - keys_from;
    super::popup_scrolled(
        frame,
        area,
        t,
        96,
        lines,
        tail,
        super::popup_block(t, title, r.destructive),
        &dialog.scroll,
    );
}

/// What the step and its dialog say while the driver's key signs the arming.
pub const SIGNING_ARMING: &str = "signing the arming…";

/// The confirmation's message block (a notify step): inserted at `at`, as many rows as the
/// screen leaves after the rest of the dialog, scrollable, with `e` to edit it.
fn confirm_message(
    t: &Theme,
    area: Rect,
    lines: &mut Vec<Line<'static>>,
    at: usize,
    dialog: &ConfirmDialog,
) {
    let width = usize::from(area.width.min(96).saturating_sub(2)).max(1);
    let used: usize = lines
        .iter()
        .map(|l| super::message::line_rows(l, width))
        .sum();
    // Border (2), the label and the edit hint (2), and the status bar left in view (1).
    let room = usize::from(area.height).saturating_sub(used + 5);
    let mut block = vec![Line::from(vec![
        Span::styled("message     ", t.header),
        Span::styled("sent as written, line by line:", t.dim),
    ])];
    block.extend(super::message::message_block(
        t,
        &dialog.request.message.clone().unwrap_or_default(),
        width,
        room,
        dialog.message_scroll,
        super::message::MoreHint::Scroll,
    ));
    if dialog.request.message_editable && !dialog.request.destructive {
        block.push(Line::from(vec![
            Span::styled("e", t.key),
            Span::styled(" edit the message before sending", t.dim),
        ]));
    }
    let at = at.min(lines.len());
    lines.splice(at..at, block);
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
pub fn render_scorecard(
    frame: &mut Frame,
    area: Rect,
    app: &App,
    card: &Scorecard,
    scroll: &Scroll,
) {
    let t = &app.theme;
    let mut lines = Vec::new();
    let verdict = if card.passed {
        ("PASSED", t.ok)
    } else {
        ("FAILED", t.crit)
    };
    // As the report says: a drill's (or demo's) figures are the simulator's clock.
    let clock = if app.mode == crate::app::Mode::Live {
        ""
    } else {
        "  figures on the simulator's clock"
    };
    lines.push(Line::from(vec![
        Span::styled(card.title.clone(), t.title),
        Span::raw("  "),
        Span::styled(format!(" {} ", verdict.0), verdict.1),
        Span::styled(clock, t.dim),
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
            "RTO achieved" => format!(
                " · objective {}",
                crate::duration::Dur::from_secs(m.rto_objective_secs)
            ),
            "RPO achieved" => format!(
                " · objective {}",
                crate::duration::Dur::from_secs(m.rpo_objective_secs)
            ),
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
        // The restore point behind the RPO and who chose it, as the report says it.
        if f.name == "RPO achieved"
            && let Some(r) = &m.restore_point
        {
            lines.push(Line::from(Span::styled(
                format!(
                    "{:<16}restored to {} ({}), chosen as `{}` by {} ({})",
                    "",
                    r.point.format("%Y-%m-%d %H:%M:%S UTC"),
                    sanitize(&r.basis),
                    sanitize(&r.choice),
                    sanitize(&r.by),
                    r.origin()
                ),
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
    if let Some(pace) = m.pace_summary() {
        // Paused time is in no figure: a step done while paused reads 0s. Say so here, where
        // the figures are read, not only in the report.
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", "Clock"), t.header),
            Span::styled(sanitize(&pace), t.warn),
        ]));
        lines.push(Line::from(Span::styled(
            format!(
                "{:<16}paused time counts in no figure and no step's time: a step done while \
                 the clock stood still took 0s",
                ""
            ),
            t.dim,
        )));
    }
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
    // Titles whole: the column is as wide as the longest (a very long one wraps the row).
    let title_w = card
        .steps
        .iter()
        .map(|s| s.title.chars().count())
        .max()
        .unwrap_or(0)
        .clamp(4, 48);
    lines.push(Line::from(Span::styled(
        format!(
            "{:<title_w$} {:>7} {:>8}  {}",
            "step", "target", "actual", "status"
        ),
        t.header,
    )));
    for s in &card.steps {
        // Over target is said in words beside the status, with by how much.
        let over = s
            .actual_secs
            .filter(|a| *a > s.target_secs)
            .and_then(|a| over_by(a, s.target_secs));
        lines.push(Line::from(vec![
            Span::styled(format!("{:<title_w$} ", sanitize(&s.title)), t.text),
            Span::styled(
                format!(
                    "{:>7} ",
                    crate::duration::Dur::from_secs(s.target_secs).to_string()
                ),
                t.dim,
            ),
            Span::styled(
                format!(
                    "{:>8}  ",
                    s.actual_secs.map(span).unwrap_or_else(|| "—".into())
                ),
                timing_style(t, s.timing),
            ),
            // A step done says how it did against its target, in the report's words (`on
            // time`, `at risk`, `over by 6m03s`); the others their status.
            match (s.status.as_str(), &over, s.timing) {
                ("done", Some(o), _) => Span::styled(o.clone(), t.crit),
                ("done", None, Some(Timing::OnTime)) => Span::styled("on time", t.ok),
                ("done", None, Some(Timing::AtRisk)) => Span::styled("at risk", t.warn),
                ("done", None, _) => Span::styled("done", t.ok),
                ("skipped", _, _) => Span::styled("skipped", t.warn),
                (status, _, _) => Span::styled(
                    match &over {
                        Some(o) => format!("{status} · {o}"),
                        None => status.to_string(),
                    },
                    t.crit,
                ),
            },
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
    if let Some(path) = &app.journal_path {
        // Where the record is, and the one command that turns it into the postmortem (the
        // path appeared only after quitting).
        let shown = sanitize(&path.display().to_string());
        lines.push(Line::raw(""));
        lines.push(Line::from(vec![
            Span::styled(format!("{:<16}", "Journal"), t.header),
            Span::styled(shown.clone(), t.text),
        ]));
        lines.push(Line::from(Span::styled(
            format!(
                "{:<16}warroom report {}",
                "",
                crate::playbook::model::shell_quote(&path.display().to_string())
            ),
            t.dim,
        )));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("Esc", t.key),
        Span::styled(" close  ", t.dim),
        Span::styled("q", t.key),
        Span::styled(" quit", t.dim),
    ]));
    super::popup_scrolled(
        frame,
        area,
        t,
        100,
        lines,
        1,
        super::popup_block(t, "Scorecard".into(), false),
        scroll,
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

#[cfg(test)]
mod tests {
    use super::hints_line;
    use crate::theme::Theme;

    /// A newcomer read `n not` at the end of the hint line at 80 and 140 columns.
    #[test]
    fn the_hint_line_shows_whole_hints_only() {
        let t = Theme::fallback();
        let hints = [
            ("Enter", "confirm & run"),
            ("t", "restore point"),
            ("s", "skip"),
            ("a", "abort"),
            ("n", "note"),
        ];
        let all: String = hints_line(&t, &hints, 200)
            .spans
            .iter()
            .map(|s| s.content.as_ref())
            .collect();
        assert_eq!(
            all.trim_end(),
            "Enter confirm & run  t restore point  s skip  a abort  n note"
        );
        for width in 0..=62u16 {
            let shown: String = hints_line(&t, &hints, width)
                .spans
                .iter()
                .map(|s| s.content.as_ref())
                .collect();
            let shown = shown.trim_end();
            assert!(
                shown.chars().count() <= usize::from(width),
                "{width}: {shown:?}"
            );
            assert!(all.starts_with(shown), "{width}: {shown:?}");
            // Whole hints: what shows is the first k of them, for some k.
            let whole: Vec<String> = (0..=hints.len())
                .map(|k| {
                    hints[..k]
                        .iter()
                        .map(|(key, what)| format!("{key} {what}"))
                        .collect::<Vec<_>>()
                        .join("  ")
                })
                .collect();
            assert!(whole.iter().any(|w| w == shown), "{width}: {shown:?}");
        }
    }
}
