//! The top line: who, where, what mode, what time.

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};

use super::paint;
use crate::app::{App, Mode};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let badge = match app.mode {
        Mode::Demo => t.badge_demo,
        Mode::Drill => t.badge_drill,
        Mode::Live => t.badge_live,
    };
    // Below this width the bar drops the product name and the date so the fault still fits.
    let narrow = area.width < 130;
    // A follower says when the session it mirrors ended: nothing more will come.
    let follow = match &app.incident {
        _ if app.following.is_none() => String::new(),
        Some(incident) if incident.engine.is_finished() => {
            let ended = incident
                .scorecard
                .as_ref()
                .and_then(|c| c.ended_at)
                .map(|at| format!(" {} UTC", at.format("%H:%M:%S")))
                .unwrap_or_default();
            if narrow {
                format!(" FOLLOW · ended{ended} ")
            } else {
                format!(" FOLLOW · session ended{ended} ")
            }
        }
        // One who joined says so in its own badge (role, view's age), below.
        _ if app.joined_role().is_some() => String::new(),
        _ => " FOLLOW · read-only ".to_string(),
    };
    // The left part, as items shown whole or not at all (a cut word such as `FAST-FORWA` or
    // `SHARED LOG BEHI` reads as something else), in order of what must be read first.
    let mut left: Vec<Item> = Vec::with_capacity(10);
    if !narrow {
        left.push(Item::from(vec![
            Span::styled(" warroom ", t.title),
            Span::styled("│", t.dim),
        ]));
    }
    left.push(Item::from(vec![
        Span::styled(" env ", t.dim),
        Span::styled(app.env.name.clone(), t.text),
        Span::raw(" "),
        Span::styled(format!(" {} ", app.mode.badge()), badge),
        Span::styled(follow, t.badge_demo),
    ]));
    // Alarms come before the clock: automatic failover paused (the HA interlock), a failed
    // journal, the shared war room's state (`SHARED LOG BEHIND n`, `COMMAND TAKEN`, a joiner's
    // role), the clock's pace (P, >: see `app/pace.rs`).
    if let Some(text) = failover_badge(app) {
        left.push(Item::from(vec![
            Span::raw(" "),
            Span::styled(text, t.badge_live),
        ]));
    }
    if app.journal_error.is_some() {
        left.push(Item::from(vec![
            Span::styled(" │ ", t.dim),
            Span::styled(" JOURNAL FAILED ", t.badge_live),
        ]));
    }
    if let Some((text, alarm)) = share_badge(app, narrow) {
        left.push(Item::from(vec![
            Span::styled(" │ ", t.dim),
            Span::styled(text, if alarm { t.badge_live } else { t.dim }),
        ]));
    }
    let pace = pace_badge(app);
    if let Some(badge) = &pace {
        left.push(Item::from(vec![
            Span::styled(" │", t.dim),
            Span::styled(badge.clone(), t.badge_live),
        ]));
    }
    left.push(Item::from(vec![
        Span::styled(" │ ", t.dim),
        Span::styled(
            app.now
                .format(if narrow {
                    "%H:%M:%S UTC"
                } else {
                    "%Y-%m-%d %H:%M:%S UTC"
                })
                .to_string(),
            t.text,
        ),
    ]));
    // The speed, unless the fast-forward badge already says it.
    if app.mode != Mode::Live && app.pace.fast_forward.is_none() {
        left.push(Item::from(vec![
            Span::styled(if narrow { " │ " } else { " │ speed " }, t.dim),
            Span::styled(format_speed(app.speed), t.text),
        ]));
    }
    // A drill keeps the fault to itself: noticing it is the exercise.
    if let Some((at, name)) = app.faults.last().filter(|_| app.mode == Mode::Demo) {
        left.push(Item {
            spans: vec![
                Span::styled(" │ fault ", t.dim),
                Span::styled(format!("{name} @{}", at.format("%H:%M:%S")), t.warn),
            ],
            // Short of room, the fault without its time.
            shorter: Some(vec![
                Span::styled(" │ fault ", t.dim),
                Span::styled(name.clone(), t.warn),
            ]),
        });
    }
    let mut right = Vec::with_capacity(6);
    if app.incident.is_some() && app.following.is_none() && area.width < super::WIDE {
        // Narrow: the playbook and the panes take turns.
        right.push(Span::styled("v", t.key));
        right.push(Span::styled(" view  ", t.dim));
    }
    right.extend([
        Span::styled("?", t.key),
        Span::styled(" help  ", t.dim),
        Span::styled("q", t.key),
        Span::styled(" quit ", t.dim),
    ]);
    // The keys hint keeps its place at the right; the left part keeps the items that fit
    // whole, with a space before the hint.
    let right_width =
        u16::try_from(right.iter().map(Span::width).sum::<usize>()).unwrap_or(u16::MAX);
    let left = fitting(
        left,
        usize::from(area.width.saturating_sub(right_width + 1)),
    );
    let [left_area, right_area] =
        Layout::horizontal([Constraint::Min(0), Constraint::Length(right_width)]).areas(area);
    let buf = frame.buffer_mut();
    for (spans, area) in [(left, left_area), (right, right_area)] {
        paint::set_style(buf, area, t.status_bar);
        paint::text_line(buf, area, &Line::from(spans));
    }
}

/// One thing on the bar's left part, shown whole or not at all, with a shorter form for when
/// it does not fit.
struct Item<'a> {
    spans: Vec<Span<'a>>,
    shorter: Option<Vec<Span<'a>>>,
}

impl<'a> From<Vec<Span<'a>>> for Item<'a> {
    fn from(spans: Vec<Span<'a>>) -> Self {
        Item {
            spans,
            shorter: None,
        }
    }
}

/// The items that fit in `width` columns, whole, in their order: each in its form that fits
/// (one that does not fit in any form is left out; a later, shorter one may still fit).
fn fitting(items: Vec<Item<'_>>, width: usize) -> Vec<Span<'_>> {
    let mut used = 0;
    let mut out = Vec::new();
    for item in items {
        let forms = std::iter::once(item.spans).chain(item.shorter);
        for form in forms {
            let w: usize = form.iter().map(Span::width).sum();
            if used + w <= width {
                used += w;
                out.extend(form);
                break;
            }
        }
    }
    out
}

/// The HA interlock: ` AUTO-FAILOVER PAUSED 12m31s ` while an HA manager (Patroni) reports its
/// automatic failover paused. The truth is the REST API's pause flag on the board; the time is
/// since this incident recorded the pause (`failover_paused`), absent when it did not (paused by
/// someone else, or before warroom). Without a reading of the flag (a follower has no pollers,
/// or the source has not answered yet) the journal's word stands.
pub fn failover_badge(app: &App) -> Option<String> {
    let flags: Vec<bool> = app
        .board
        .picture
        .databases
        .iter()
        .filter_map(|d| d.failover_paused)
        .collect();
    let recorded = app
        .incident
        .as_ref()
        .and_then(|i| i.engine.failover_paused())
        .map(|(at, _)| at);
    let paused = if flags.is_empty() {
        recorded.is_some()
    } else {
        flags.contains(&true)
    };
    if !paused {
        return None;
    }
    Some(match recorded {
        Some(at) => {
            let secs = u64::try_from((app.now - at).num_seconds()).unwrap_or(0);
            format!(" AUTO-FAILOVER PAUSED {} ", crate::duration::span(secs))
        }
        None => " AUTO-FAILOVER PAUSED ".to_string(),
    })
}

/// The shared war room: `SHARED LOG BEHIND 3` while the store is unreachable (the driver),
/// `joined observer · view 2s old` (a joiner; `· 2s old` when narrow); the bool says whether
/// it is an alarm.
fn share_badge(app: &App, narrow: bool) -> Option<(String, bool)> {
    use crate::app::ShareState;
    use crate::share::lease::Command;
    match &app.share_command {
        Some(Command::Lost) => return Some((" COMMAND TAKEN ".into(), true)),
        Some(Command::HeldElsewhere(_)) => return Some((" NOT IN COMMAND ".into(), true)),
        _ => {}
    }
    match app.share.as_ref()? {
        ShareState::Driving(s) if s.conflict.is_some() => {
            Some((" SHARED LOG CONFLICT ".into(), true))
        }
        ShareState::Driving(s) if s.error.is_some() && s.behind > 0 => {
            Some((format!(" SHARED LOG BEHIND {} ", s.behind), true))
        }
        ShareState::Driving(_) => Some(("shared".into(), false)),
        ShareState::Joined { role, view } => {
            let role = role.name();
            match view {
                Some(v) if v.error.is_some() => Some((
                    format!(
                        " JOINED {role} · STORE UNREACHABLE, view {}s old ",
                        v.age_secs
                    ),
                    true,
                )),
                Some(v) if narrow => Some((format!("joined {role} · {}s old", v.age_secs), false)),
                Some(v) => Some((format!("joined {role} · view {}s old", v.age_secs), false)),
                None => Some((format!("joined {role}"), false)),
            }
        }
    }
}

fn format_speed(speed: f64) -> String {
    if (speed - speed.round()).abs() < 1e-9 {
        format!("{}×", speed.round())
    } else {
        format!("{speed:.2}×")
    }
}

/// `PAUSED 1m05s` (the pause's wall-clock length) or `FAST-FORWARD 60x`.
fn pace_badge(app: &App) -> Option<String> {
    if let Some(paused) = app.pace.paused {
        return Some(format!(
            " PAUSED {} ",
            crate::duration::compact(paused.as_secs())
        ));
    }
    app.pace.fast_forward.map(|_| {
        format!(
            " FAST-FORWARD {} ",
            crate::playbook::projection::speed_label(app.speed)
        )
    })
}
