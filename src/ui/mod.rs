//! Drawing only: pure functions of `&App` onto a `Frame`. No I/O, no state changes.
//!
//! ```text
//! ┌ status bar: warroom · env · [DEMO] · UTC clock · speed · faults ───────── ? help  q quit ┐
//! │ Replica lag (full width, one row per replica)                                          │
//! │ Backups                                 │ Regions        (two columns from 140 cols;  │
//! │                                         │                 stacked below that)         │
//! └ flash line (newest message, when there is one) ─────────────────────────────────────────┘
//! ```

pub mod help;
pub mod joined;
pub mod message;
pub mod paint;
pub mod panes;
pub mod playbook;
pub mod points;
pub mod status_bar;

use ratatui::Frame;
use ratatui::layout::{Constraint, Layout, Rect};
use ratatui::text::{Line, Span};
use ratatui::widgets::{Block, BorderType, Clear, Paragraph, Wrap};

use crate::app::{App, Focus, NarrowView, Overlay};
use panes::PaneCtx;

/// The smallest terminal the layout works in.
pub const MIN_WIDTH: u16 = 72;
pub const MIN_HEIGHT: u16 = 20;

/// Width from which the panes sit side by side.
pub const WIDE: u16 = 140;

/// Rows the message line may take (it wraps; a longer message ends with `…`).
const FLASH_ROWS: u16 = 4;

pub fn draw(frame: &mut Frame, app: &App) {
    let area = frame.area();
    // What is on screen decides where focus may go (`App::visible_focus`).
    app.frame_size.set((area.width, area.height));
    if area.width < MIN_WIDTH || area.height < MIN_HEIGHT {
        draw_too_small(frame, area);
        return;
    }
    let flash = app.flash.as_ref().map(|flash| {
        Line::from(vec![
            Span::styled(" ▸ ", app.theme.key),
            Span::styled(flash.text.as_str(), app.theme.text),
        ])
    });
    let flash_rows = flash.as_ref().map_or(0, |line| {
        u16::try_from(paint::wrapped_height(
            std::slice::from_ref(line),
            area.width,
        ))
        .unwrap_or(u16::MAX)
        .min(FLASH_ROWS)
    });
    let [bar, body, flash_area] = Layout::vertical([
        Constraint::Length(1),
        Constraint::Min(0),
        Constraint::Length(flash_rows),
    ])
    .areas(area);
    status_bar::render(frame, bar, app);
    match &app.incident {
        // A follower has no live panes: the incident is all it mirrors.
        Some(incident) if app.following.is_some() && !app.joined_with_panes() => {
            playbook::render_view(frame, body, app, incident, true);
        }
        Some(incident) if area.width >= WIDE => {
            let [left, right] =
                Layout::horizontal([Constraint::Percentage(55), Constraint::Percentage(45)])
                    .areas(body);
            playbook::render_view(frame, left, app, incident, app.focus == Focus::Playbook);
            draw_panes_stacked(frame, right, app);
        }
        Some(incident) if app.narrow_view == NarrowView::Playbook => {
            playbook::render_view(frame, body, app, incident, app.focus == Focus::Playbook);
        }
        _ => draw_panes(frame, body, app),
    }
    if let Some(line) = flash {
        paint::wrapped_lines(frame.buffer_mut(), flash_area, std::slice::from_ref(&line));
    }
    match &app.overlay {
        Some(Overlay::Help) => help::render_help(frame, area, app),
        Some(Overlay::FaultMenu { selected }) => {
            help::render_fault_menu(frame, area, app, *selected)
        }
        Some(Overlay::Picker { selected }) => playbook::render_picker(frame, area, app, *selected),
        None => {}
    }
    if let Some(incident) = &app.incident {
        if let Some(dialog) = &incident.confirm {
            playbook::render_confirm(frame, area, app, dialog);
            if let Some(editor) = &incident.editor {
                message::render_editor(frame, area, app, editor);
            }
        } else if let Some(picker) = &incident.points {
            points::render(frame, area, app, incident, picker);
        } else if let Some(prompt) = &incident.prompt {
            playbook::render_prompt(frame, area, app, prompt);
        } else if incident.show_scorecard
            && let Some(card) = &incident.scorecard
        {
            playbook::render_scorecard(frame, area, app, card, &incident.card);
        }
    }
    if let Some(prompt) = &app.joined.prompt {
        joined::render_prompt(frame, area, app, prompt);
    }
}

fn ctx<'a>(app: &'a App, focus: Focus) -> PaneCtx<'a> {
    PaneCtx {
        board: &app.board,
        env: &app.env,
        theme: &app.theme,
        now: app.now,
        focused: app.focus == focus,
        selected: app.panes[focus.index()].selected.as_ref(),
        filter: &app.panes[focus.index()].filter,
        editing: app.filtering == Some(focus),
        rpo: app.rpo_objective(),
    }
}

/// Rows the selected row's whole text may take under the panes.
const DETAIL_ROWS: u16 = 3;

/// While a pane has focus, its selected row's whole text (a narrow pane cuts its rows) takes
/// the bottom of `area`, wrapped; returns what is left for the panes.
fn selected_detail(frame: &mut Frame, area: Rect, app: &App) -> Rect {
    let ctx = ctx(app, app.focus);
    let text = match app.focus {
        Focus::Lag => panes::lag::selected_text(&ctx),
        Focus::Backups => panes::backups::selected_text(&ctx),
        Focus::Regions => panes::regions::selected_text(&ctx),
        Focus::Playbook => None,
    };
    let Some(text) = text else {
        return area;
    };
    let line = Line::from(vec![
        Span::styled(" ▹ ", app.theme.key),
        Span::styled(text, app.theme.text),
    ]);
    let rows = u16::try_from(paint::wrapped_height(
        std::slice::from_ref(&line),
        area.width,
    ))
    .unwrap_or(u16::MAX)
    .min(DETAIL_ROWS)
    .min(area.height / 3);
    let [rest, detail] =
        Layout::vertical([Constraint::Min(0), Constraint::Length(rows)]).areas(area);
    paint::wrapped_lines(frame.buffer_mut(), detail, std::slice::from_ref(&line));
    rest
}

/// The rows each live pane needs to show all its rows: borders (2), a header where it has one,
/// and its rows (lag, backups, regions). A pane with no rows still needs one for its
/// placeholder.
fn pane_needs(app: &App) -> [u16; 3] {
    let need = |rows: usize, header: u16| {
        u16::try_from(rows.max(1))
            .unwrap_or(u16::MAX)
            .saturating_add(2 + header)
    };
    [
        need(panes::lag::row_count(&app.board), 1),
        need(panes::backups::row_count(&app.board), 1),
        need(panes::regions::row_count(&app.board, &app.env), 0),
    ]
}

/// Shares `total` rows between panes that need `needs` rows each: every pane gets what it needs
/// while they all fit (the last takes what is left over); otherwise the smaller needs are met
/// in full and the rest share equally (water-filling), so no pane shows empty rows while
/// another is cut.
fn share(total: u16, needs: &[u16]) -> Vec<u16> {
    let sum: u32 = needs.iter().map(|n| u32::from(*n)).sum();
    if sum <= u32::from(total) {
        let mut out = needs.to_vec();
        if let Some(last) = out.last_mut() {
            *last += total - u16::try_from(sum).unwrap_or(total);
        }
        return out;
    }
    // The level L: each pane gets min(need, L); the panes cut at L share what rounding leaves.
    let mut order: Vec<usize> = (0..needs.len()).collect();
    order.sort_by_key(|i| needs[*i]);
    let mut out = vec![0u16; needs.len()];
    let mut left = total;
    for (k, &i) in order.iter().enumerate() {
        let panes_left = u16::try_from(needs.len() - k).unwrap_or(u16::MAX);
        let fair = left / panes_left;
        if needs[i] <= fair {
            out[i] = needs[i];
            left -= needs[i];
        } else {
            // Every pane from here on needs more than its fair share: equal shares, the
            // remainder to the first of them in screen order.
            let rest: Vec<usize> = {
                let mut r = order[k..].to_vec();
                r.sort_unstable();
                r
            };
            let extra = left % panes_left;
            for (j, &p) in rest.iter().enumerate() {
                out[p] = fair + u16::from(u16::try_from(j).unwrap_or(u16::MAX) < extra);
            }
            break;
        }
    }
    out
}

/// Which live panes show a problem (their title counts one), in pane order: they are served
/// first when the screen cannot hold every row.
fn pane_problems(app: &App) -> [bool; 3] {
    let board = &app.board;
    [
        panes::lag::tally_text(board, &app.env, app.rpo_objective(), "").is_some(),
        panes::backups::tally_text(board, app.now, "").is_some(),
        panes::regions::tally_text(board, &app.env, "").is_some(),
    ]
}

/// [`share`], serving the panes with a problem first: while any pane's rows are cut, a pane
/// with a problem gets all it needs before the others (each keeps at least its border, header
/// and one row), so a failed region is not the row cut off to show healthy backups.
fn share_urgent(total: u16, needs: &[u16], urgent: &[bool]) -> Vec<u16> {
    let sum: u32 = needs.iter().map(|n| u32::from(*n)).sum();
    if sum <= u32::from(total) || urgent.iter().all(|u| *u) || !urgent.iter().any(|u| *u) {
        return share(total, needs);
    }
    const FLOOR: u16 = 4;
    let group = |want: bool| -> Vec<usize> {
        (0..needs.len())
            .filter(|i| urgent.get(*i).copied().unwrap_or(false) == want)
            .collect()
    };
    let (first, rest) = (group(true), group(false));
    let reserve: u16 = rest.iter().map(|i| needs[*i].min(FLOOR)).sum();
    let first_needs: Vec<u16> = first.iter().map(|i| needs[*i]).collect();
    let first_sum: u16 = first_needs.iter().sum();
    let room = total.saturating_sub(reserve);
    let given = if first_sum <= room {
        first_needs
    } else {
        share(room, &first_needs)
    };
    let left = total - given.iter().sum::<u16>();
    let rest_needs: Vec<u16> = rest.iter().map(|i| needs[*i]).collect();
    let rest_given = share(left, &rest_needs);
    let mut out = vec![0; needs.len()];
    for (i, h) in first.iter().zip(given).chain(rest.iter().zip(rest_given)) {
        out[*i] = h;
    }
    out
}

fn draw_panes(frame: &mut Frame, area: Rect, app: &App) {
    let area = selected_detail(frame, area, app);
    let [lag_need, backups_need, regions_need] = pane_needs(app);
    if area.width >= WIDE {
        // The lag pane above (at most a third: the two panes below are side by side and
        // share the rest); backups and regions side by side below.
        let heights = share(
            area.height,
            &[
                lag_need.min(area.height / 3),
                backups_need.max(regions_need),
            ],
        );
        let [lag, rest] = Layout::vertical([
            Constraint::Length(heights[0]),
            Constraint::Length(heights[1]),
        ])
        .areas(area);
        panes::lag::render(frame, lag, &ctx(app, Focus::Lag));
        let [backups, regions] =
            Layout::horizontal([Constraint::Percentage(50), Constraint::Percentage(50)])
                .areas(rest);
        panes::backups::render(frame, backups, &ctx(app, Focus::Backups));
        panes::regions::render(frame, regions, &ctx(app, Focus::Regions));
    } else {
        draw_panes_stacked_in(frame, area, app, [lag_need, backups_need, regions_need]);
    }
}

/// The three live panes one above the other (beside the playbook on wide screens).
fn draw_panes_stacked(frame: &mut Frame, area: Rect, app: &App) {
    let area = selected_detail(frame, area, app);
    draw_panes_stacked_in(frame, area, app, pane_needs(app));
}

fn draw_panes_stacked_in(frame: &mut Frame, area: Rect, app: &App, needs: [u16; 3]) {
    // Which panes have a problem matters only when the rows do not all fit: the tallies order
    // every row, so they are not computed on a frame that does not need them.
    let fits = needs.iter().map(|n| u32::from(*n)).sum::<u32>() <= u32::from(area.height);
    let heights = if fits {
        share(area.height, &needs)
    } else {
        share_urgent(area.height, &needs, &pane_problems(app))
    };
    let [lag, backups, regions] = Layout::vertical([
        Constraint::Length(heights[0]),
        Constraint::Length(heights[1]),
        Constraint::Length(heights[2]),
    ])
    .areas(area);
    panes::lag::render(frame, lag, &ctx(app, Focus::Lag));
    panes::backups::render(frame, backups, &ctx(app, Focus::Backups));
    panes::regions::render(frame, regions, &ctx(app, Focus::Regions));
}

fn draw_too_small(frame: &mut Frame, area: Rect) {
    let text = format!(
        "Terminal too small: {}x{}.\nEnlarge to at least {MIN_WIDTH}x{MIN_HEIGHT}.\n(q quits)",
        area.width, area.height
    );
    frame.render_widget(Paragraph::new(text).wrap(Wrap { trim: true }), area);
}

/// A popup's border: rounded, in the danger colour for what is destructive.
pub fn popup_block<'a>(t: &crate::theme::Theme, title: String, danger: bool) -> Block<'a> {
    Block::bordered()
        .border_type(BorderType::Rounded)
        .border_style(if danger { t.danger } else { t.popup_border })
        .title(Span::styled(
            format!(" {title} "),
            if danger { t.danger } else { t.title },
        ))
}

/// Draws `lines` in a popup at most `width` wide, centred, as tall as the wrapped text.
pub fn popup(
    frame: &mut Frame,
    area: Rect,
    t: &crate::theme::Theme,
    width: u16,
    lines: Vec<Line>,
    block: Block,
) {
    let inner_width = width.min(area.width).saturating_sub(2).max(1);
    // Rows after wrapping at spaces, as the paragraph wraps them (at least one per line).
    let rows: usize = lines
        .iter()
        .map(|l| message::line_rows(l, usize::from(inner_width)))
        .sum();
    let height = u16::try_from(rows).unwrap_or(u16::MAX).saturating_add(2);
    let area = centered(area, width, height);
    frame.render_widget(Clear, area);
    frame.render_widget(
        Paragraph::new(lines)
            .wrap(Wrap { trim: false })
            .style(t.popup)
            .block(block),
        area,
    );
}

/// [`popup`] for text that may be taller than the screen: at most the screen's height, scrolled
/// by `scroll` (PgUp/PgDn/arrows), the bottom border saying which rows show. The last `tail`
/// lines (what to press) stay in view below the scrolled part.
#[allow(clippy::too_many_arguments)]
pub fn popup_scrolled(
    frame: &mut Frame,
    area: Rect,
    t: &crate::theme::Theme,
    width: u16,
    mut lines: Vec<Line>,
    tail: usize,
    block: Block,
    scroll: &crate::app::incident::Scroll,
) {
    let inner_width = width.min(area.width).saturating_sub(2).max(1);
    let tail_lines = lines.split_off(lines.len().saturating_sub(tail));
    let total = paint::wrapped_height(&lines, inner_width);
    let tail_h = paint::wrapped_height(&tail_lines, inner_width);
    let room = usize::from(area.height.saturating_sub(2));
    let visible = total.min(room.saturating_sub(tail_h));
    let height = u16::try_from(visible + tail_h)
        .unwrap_or(u16::MAX)
        .saturating_add(2)
        .min(area.height);
    let area = centered(area, width, height);
    frame.render_widget(Clear, area);
    let offset = scroll.resolve(false, total, visible);
    let block = if total > visible {
        block.title_bottom(Line::from(Span::styled(
            format!(
                " rows {}-{} of {total} · ↑↓ PgUp PgDn ",
                offset + 1,
                (offset + visible).min(total)
            ),
            t.dim,
        )))
    } else {
        block
    };
    let inner = block.inner(area);
    frame.render_widget(block.style(t.popup), area);
    let [body, pinned] = Layout::vertical([
        Constraint::Length(u16::try_from(visible).unwrap_or(u16::MAX)),
        Constraint::Min(0),
    ])
    .areas(inner);
    paint::wrapped_lines_from(frame.buffer_mut(), body, &lines, offset);
    paint::wrapped_lines(frame.buffer_mut(), pinned, &tail_lines);
}

/// A rectangle of at most `width` x `height` centred in `area`.
pub fn centered(area: Rect, width: u16, height: u16) -> Rect {
    let w = width.min(area.width);
    let h = height.min(area.height);
    Rect {
        x: area.x + (area.width - w) / 2,
        y: area.y + (area.height - h) / 2,
        width: w,
        height: h,
    }
}

#[cfg(test)]
mod tests {
    use super::share;

    #[test]
    fn panes_get_what_they_need_and_the_last_takes_the_rest() {
        // 80x24, the demo: lag 1 replica, 6 backup series, 2 regions; 21 rows for the panes.
        assert_eq!(share(21, &[4, 9, 4]), vec![4, 9, 8]);
        assert_eq!(share(17, &[4, 9, 4]), vec![4, 9, 4]);
    }

    #[test]
    fn short_of_rows_a_pane_with_a_problem_is_served_first() {
        use super::share_urgent;
        // 80x24 in az-loss: 19 rows; lag 4, backups 9 (healthy), regions 8 (a zone down).
        assert_eq!(
            share_urgent(19, &[4, 9, 8], &[false, false, true]),
            vec![4, 7, 8]
        );
        // Every pane keeps its border, header and a row.
        assert_eq!(
            share_urgent(12, &[4, 9, 8], &[false, false, true]),
            vec![4, 4, 4]
        );
        // Nothing urgent, or everything: the equal sharing.
        assert_eq!(
            share_urgent(19, &[4, 9, 8], &[false; 3]),
            share(19, &[4, 9, 8])
        );
        assert_eq!(
            share_urgent(19, &[4, 9, 8], &[true; 3]),
            share(19, &[4, 9, 8])
        );
        // All fits: as before.
        assert_eq!(
            share_urgent(30, &[4, 9, 8], &[false, false, true]),
            vec![4, 9, 17]
        );
        for total in 0..40 {
            let got = share_urgent(total, &[5, 30, 12], &[true, false, true]);
            assert_eq!(got.iter().sum::<u16>(), total, "{total}: {got:?}");
        }
    }

    #[test]
    fn short_of_rows_small_needs_are_met_and_the_rest_share_equally() {
        assert_eq!(share(12, &[4, 9, 4]), vec![4, 4, 4]);
        assert_eq!(share(14, &[4, 9, 6]), vec![4, 5, 5]);
        assert_eq!(share(15, &[4, 9, 7]), vec![4, 6, 5]);
        // A fleet: each a third, the remainder to the first in screen order.
        assert_eq!(share(50, &[183, 203, 40]), vec![17, 17, 16]);
        for total in 0..60 {
            let got = share(total, &[5, 30, 12]);
            assert_eq!(got.iter().sum::<u16>(), total, "{total}: {got:?}");
            assert!(got.iter().zip([5, 30, 12]).all(|(g, n)| *g <= n.max(total)));
        }
    }
}
