//! Pieces the live panes share: the titled border with staleness, severity styles, column tiers
//! for narrow widths, and small text formatters (lag, bytes, UTC times, sparklines).

use chrono::{DateTime, Datelike, Timelike, Utc};
use ratatui::Frame;
use ratatui::buffer::Buffer;
use ratatui::layout::{Constraint, Flex, Layout, Rect};
use ratatui::style::Style;
use ratatui::text::{Line, Span};

use super::PaneCtx;
use crate::duration::{Dur, compact};
use crate::telemetry::Severity;
use crate::telemetry::board::Freshness;
use crate::theme::Theme;
use crate::ui::paint::{self, Panel};

/// Space between table columns.
pub(super) const COLUMN_SPACING: u16 = 1;

/// Placeholder for a value nobody reported.
pub(super) const NONE: &str = "—";

/// Resolves what a value means to a theme style, greying everything when the data is stale.
#[derive(Clone, Copy)]
pub(super) struct Look<'t> {
    pub theme: &'t Theme,
    pub stale: bool,
}

impl<'t> Look<'t> {
    pub fn new(theme: &'t Theme, freshness: &Freshness) -> Self {
        Look {
            theme,
            stale: matches!(freshness, Freshness::Stale { .. }),
        }
    }

    /// The style of a judged value; stale values all look `unknown` (their labels still say
    /// what the last reading was).
    pub fn sev(self, severity: Severity) -> Style {
        if self.stale {
            return self.theme.unknown;
        }
        match severity {
            Severity::Ok => self.theme.ok,
            Severity::Warn => self.theme.warn,
            Severity::Crit => self.theme.crit,
            Severity::Unknown => self.theme.unknown,
        }
    }

    /// Ordinary text (names), dimmed when stale.
    pub fn text(self) -> Style {
        if self.stale {
            self.theme.dim
        } else {
            self.theme.text
        }
    }

    /// Secondary text (units, policy values, resource names).
    pub fn dim(self) -> Style {
        self.theme.dim
    }
}

/// How a pane's rows stand: `problems` of `shown` rows need attention, described by `words`
/// (`broken`, `broken or lagging`), the worst of them `worst`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(super) struct Tally {
    pub problems: usize,
    pub shown: usize,
    pub words: String,
    pub worst: Severity,
}

impl Tally {
    /// Counts `rows`, each with its severity and the word for its kind of problem (`None`:
    /// fine). `words` lists every word in the order the title names them.
    pub fn count<'w>(
        rows: impl Iterator<Item = (Severity, Option<&'w str>)>,
        words: &[&'w str],
    ) -> Tally {
        let mut seen = vec![false; words.len()];
        let (mut problems, mut shown, mut worst) = (0, 0, Severity::Ok);
        for (severity, word) in rows {
            shown += 1;
            let Some(word) = word else { continue };
            problems += 1;
            if rank(severity) > rank(worst) {
                worst = severity;
            }
            if let Some(i) = words.iter().position(|w| *w == word) {
                seen[i] = true;
            }
        }
        let present: Vec<&str> = words
            .iter()
            .zip(&seen)
            .filter(|(_, s)| **s)
            .map(|(w, _)| *w)
            .collect();
        Tally {
            problems,
            shown,
            words: join_or(&present),
            worst,
        }
    }

    /// `10 of 100 broken`, or `None` when all is well.
    pub fn text(&self) -> Option<String> {
        (self.problems > 0).then(|| format!("{} of {} {}", self.problems, self.shown, self.words))
    }
}

/// `a`, `a or b`, `a, b or c`.
fn join_or(words: &[&str]) -> String {
    match words {
        [] => String::new(),
        [one] => (*one).to_string(),
        [rest @ .., last] => format!("{} or {last}", rest.join(", ")),
    }
}

/// Severity as an order, most severe highest: critical, warning, unknown, fine.
pub(super) fn rank(severity: Severity) -> u8 {
    match severity {
        Severity::Crit => 3,
        Severity::Warn => 2,
        Severity::Unknown => 1,
        Severity::Ok => 0,
    }
}

/// The more severe of two severities.
pub(super) fn worse(a: Severity, b: Severity) -> Severity {
    if rank(b) > rank(a) { b } else { a }
}

/// Problems first: the most severe first, then by name.
pub(super) fn problems_first<T>(rows: &mut [T], key: impl Fn(&T) -> (Severity, &str)) {
    rows.sort_by(|a, b| {
        let (sa, na) = key(a);
        let (sb, nb) = key(b);
        rank(sb).cmp(&rank(sa)).then_with(|| na.cmp(nb))
    });
}

/// A pane's filter: rows whose name or region contains its text, ignoring case. Empty: every
/// row.
pub(super) struct Filter {
    needle: String,
}

impl Filter {
    pub fn new(text: &str) -> Filter {
        Filter {
            needle: text.trim().to_lowercase(),
        }
    }

    pub fn is_empty(&self) -> bool {
        self.needle.is_empty()
    }

    /// Whether any of `fields` contains the text (always, when the filter is empty).
    pub fn matches<'f>(&self, fields: impl IntoIterator<Item = &'f str>) -> bool {
        self.is_empty()
            || fields.into_iter().any(|f| {
                if f.is_ascii() && self.needle.is_ascii() {
                    // No allocation on the common path.
                    f.as_bytes()
                        .windows(self.needle.len())
                        .any(|w| w.eq_ignore_ascii_case(self.needle.as_bytes()))
                } else {
                    f.to_lowercase().contains(&self.needle)
                }
            })
    }
}

/// The pane border: the title, then the problem count (` · 10 of 100 broken`), the filter
/// (` · /eu-west`, with a cursor while it is typed), then the data's staleness (` · STALE 42s ·
/// sim: no answer within 5s`) or ` · waiting for data`. The title is clipped to the border's
/// width.
pub(super) fn pane_block<'a>(
    ctx: &PaneCtx<'_>,
    title: &'a str,
    tally: &Tally,
    freshness: &Freshness,
) -> Panel<'a> {
    let theme = ctx.theme;
    let look = Look::new(theme, freshness);
    let mut spans = vec![Span::raw(" "), Span::styled(title, theme.title)];
    if let Some(count) = tally.text() {
        spans.push(Span::styled(" · ", theme.dim));
        spans.push(Span::styled(count, look.sev(tally.worst)));
    }
    if ctx.editing || !ctx.filter.is_empty() {
        spans.push(Span::styled(" · ", theme.dim));
        let mut text = format!("/{}", crate::text::visible(ctx.filter));
        if ctx.editing {
            text.push('▏');
        }
        spans.push(Span::styled(text, theme.key));
    }
    match freshness {
        Freshness::Fresh => {}
        Freshness::Waiting => spans.push(Span::styled(" · waiting for data", theme.unknown)),
        Freshness::Stale { age_secs, error } => {
            let mut note = String::from(" · STALE");
            if let Some(age) = age_secs {
                note.push(' ');
                note.push_str(&compact(*age));
            }
            if let Some(error) = error {
                note.push_str(" · ");
                note.push_str(error);
            }
            spans.push(Span::styled(note, theme.unknown));
        }
    }
    spans.push(Span::raw(" "));
    let border = if ctx.focused {
        theme.border_focused
    } else {
        theme.border
    };
    Panel::new(border, Line::from(spans))
}

/// The placeholder of a pane whose filter hides every row: `no rows match /xyz`.
pub(super) fn no_match(filter: &str) -> String {
    format!("nothing matches /{}", crate::text::visible(filter.trim()))
}

/// Picks the first tier (widest first) whose columns fit in `width`, and gives each column its
/// width. `fill` is the column, if any, that takes the remaining width; a tier holding it fits
/// only if at least the tier's minimum remains. When nothing fits, the last (narrowest) tier is
/// used and ratatui clips it.
pub(super) fn choose_columns<C: Copy + PartialEq>(
    width: u16,
    tiers: &[(&[C], u16)],
    fixed: impl Fn(C) -> u16,
    fill: Option<C>,
) -> Vec<(C, u16)> {
    let fits = |cols: &[C], min_fill: u16| -> Option<u16> {
        let gaps = COLUMN_SPACING.saturating_mul(
            u16::try_from(cols.len())
                .unwrap_or(u16::MAX)
                .saturating_sub(1),
        );
        let used = cols
            .iter()
            .filter(|c| Some(**c) != fill)
            .fold(gaps, |sum, c| sum.saturating_add(fixed(*c)));
        let rest = width.checked_sub(used)?;
        if fill.is_some_and(|f| cols.contains(&f)) {
            (rest >= min_fill).then_some(rest)
        } else {
            Some(0)
        }
    };
    let (cols, fill_width) = tiers
        .iter()
        .find_map(|(cols, min_fill)| fits(cols, *min_fill).map(|rest| (*cols, rest)))
        .or_else(|| tiers.last().map(|(cols, _)| (*cols, 0)))
        .unwrap_or((&[], 0));
    let width_of = |c: C| {
        if Some(c) == fill {
            fill_width
        } else {
            fixed(c)
        }
    };
    cols.iter().map(|c| (*c, width_of(*c))).collect()
}

/// Character width of a short label (names are ASCII in practice; counting chars keeps `—` and
/// similar single-width symbols right).
pub(super) fn text_width(s: &str) -> u16 {
    u16::try_from(s.chars().count()).unwrap_or(u16::MAX)
}

/// Widest of `names`, at least `min` and at most `max`.
pub(super) fn column_width<'s>(names: impl Iterator<Item = &'s str>, min: u16, max: u16) -> u16 {
    names.map(text_width).fold(min, u16::max).min(max)
}

/// A header cell, right-aligned for numeric columns.
pub(super) fn header_cell(label: &str, right: bool) -> Line<'_> {
    cell(Span::raw(label), right)
}

/// A cell holding one span, optionally right-aligned.
pub(super) fn cell(span: Span<'_>, right: bool) -> Line<'_> {
    let line = Line::from(span);
    if right { line.right_aligned() } else { line }
}

/// Draws a pane's table like a ratatui `Table` in the pane's border (with `column_spacing`
/// [`COLUMN_SPACING`]): header, rows (or a dim placeholder when there are none), the selected row
/// highlighted only when focused, scrolled so that the selected row is visible. Only the rows that
/// fit are built (`row(i)` gives row `i`'s cells), and cells drawn only where they have text.
pub(super) fn render_table<'a>(
    frame: &mut Frame,
    area: Rect,
    ctx: &PaneCtx<'_>,
    table: TableParts<'a>,
    mut row: impl FnMut(usize) -> Vec<Line<'a>>,
) {
    let TableParts {
        block,
        header,
        len,
        selected,
        widths,
        placeholder,
    } = table;
    let buf = frame.buffer_mut();
    block.render(buf, area);
    let inner = Panel::inner(area);
    if inner.is_empty() {
        return;
    }
    if len == 0 {
        // Without rows the header's columns would only frame the placeholder.
        let text = Line::from(Span::styled(placeholder, ctx.theme.dim));
        paint::line(buf, Rect { height: 1, ..inner }, &text);
        return;
    }
    let columns = column_areas(inner.width, &widths);
    let mut body = inner;
    if let Some(header) = header {
        let row = Rect { height: 1, ..inner };
        paint::set_style(buf, row, ctx.theme.header);
        draw_row(buf, row, &columns, &header);
        body.y += 1;
        body.height -= 1;
    }
    // `len` is not zero (above); ratatui's Table clamps the selection the same way.
    let selected = selected.min(len - 1);
    // A pane without focus shows its first rows, the most severe: a selection left at the
    // bottom kept the pane scrolled there and hid the failed region a checklist asked about.
    let shown = visible_rows(len, if ctx.focused { selected } else { 0 }, body.height);
    if shown.len() < len {
        scroll_mark(buf, area, &shown, len, ctx.theme.dim);
    }
    for (i, y) in shown.zip(body.top()..) {
        let area = Rect {
            y,
            height: 1,
            ..body
        };
        draw_row(buf, area, &columns, &row(i));
        if ctx.focused && i == selected {
            paint::set_style(buf, area, ctx.theme.selected);
        }
    }
}

/// Where a table shows only part of its rows: ` ↑↓ rows 3-7 of 12 ` at the left of the pane's
/// bottom border (the arrows say which way more rows are; the border's own note, right-aligned,
/// keeps its right end), left out when the border is too narrow for it.
fn scroll_mark(
    buf: &mut Buffer,
    area: Rect,
    shown: &std::ops::Range<usize>,
    len: usize,
    style: Style,
) {
    let above = if shown.start > 0 { "↑" } else { "" };
    let below = if shown.end < len { "↓" } else { "" };
    let note = format!(
        " {above}{below} rows {}-{} of {len} ",
        shown.start + 1,
        shown.end
    );
    let width = u16::try_from(note.chars().count()).unwrap_or(u16::MAX);
    if area.height < 2 || width.saturating_add(2) > area.width {
        return;
    }
    let at = Rect {
        x: area.x + 1,
        y: area.bottom() - 1,
        width,
        height: 1,
    };
    paint::text_line(buf, at, &Line::from(Span::styled(note, style)));
}

/// The x offset (from the table's left) and width of each column, as a ratatui `Table` lays
/// them out.
fn column_areas(width: u16, widths: &[u16]) -> Vec<Rect> {
    Layout::horizontal(widths.iter().map(|w| Constraint::Length(*w)))
        .flex(Flex::Start)
        .spacing(COLUMN_SPACING)
        .split(Rect::new(0, 0, width, 1))
        .to_vec()
}

/// Draws each cell of a row in its column.
fn draw_row(buf: &mut Buffer, row: Rect, columns: &[Rect], cells: &[Line<'_>]) {
    for (column, text) in columns.iter().zip(cells) {
        let area = Rect::new(row.x.saturating_add(column.x), row.y, column.width, 1);
        paint::line(buf, area, text);
    }
}

/// The rows a table `height` rows tall shows, from the top unless the selected row would be below
/// the bottom, in which case it is the last row shown (as ratatui's `Table` scrolls).
fn visible_rows(len: usize, selected: usize, height: u16) -> std::ops::Range<usize> {
    let height = usize::from(height);
    let end = len.min(height).max(selected + 1);
    end.saturating_sub(height)..end
}

/// What [`render_table`] draws.
pub(super) struct TableParts<'a> {
    pub block: Panel<'a>,
    /// The header's cells, one per column.
    pub header: Option<Vec<Line<'a>>>,
    /// How many rows there are.
    pub len: usize,
    /// The selected row's index.
    pub selected: usize,
    pub widths: Vec<u16>,
    /// Shown dim in place of the rows when there are none.
    pub placeholder: String,
}

/// Replica lag for a cell: `0.4s`, `3.2s`, `42s`, `5m12s`; `—` when unknown.
pub(super) fn lag_text(lag_secs: Option<f64>) -> String {
    match lag_secs {
        None => NONE.to_string(),
        Some(lag) if lag < 10.0 => format!("{:.1}s", lag.max(0.0)),
        Some(lag) if lag < 60.0 => format!("{lag:.0}s"),
        // Saturating float-to-int cast: a lag beyond u64 seconds is not a real value.
        Some(lag) => compact(lag.round() as u64),
    }
}

/// A policy interval: whole hours up to two days as hours (`24h`, like the seeds' rules and the
/// environment file), otherwise the shortest exact form (`15m`, `1h30m`, `7d`).
pub(super) fn every_text(every: Dur) -> String {
    let secs = every.secs();
    if secs > 0 && secs % 3600 == 0 && secs <= 48 * 3600 {
        format!("{}h", secs / 3600)
    } else {
        every.to_string()
    }
}

/// Bytes in binary units: `512 B`, `4.2 KiB`, `1.0 GiB`.
pub(super) fn bytes_text(bytes: u64) -> String {
    crate::text::binary_bytes(bytes)
}

/// A UTC time: `2026-11-22 02:00` (long) or `02:00` (short).
pub(super) fn utc_text(at: DateTime<Utc>, long: bool) -> String {
    if long {
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}",
            at.year(),
            at.month(),
            at.day(),
            at.hour(),
            at.minute()
        )
    } else {
        format!("{:02}:{:02}", at.hour(), at.minute())
    }
}

/// Block characters of a sparkline, lowest first.
const BARS: [char; 8] = ['▁', '▂', '▃', '▄', '▅', '▆', '▇', '█'];

/// A text sparkline exactly `width` characters wide, newest point at the right, left-padded with
/// spaces while the history is shorter than the width. Bars are scaled to the larger of the
/// window's maximum and `floor`, so that a few seconds of noise stay flat instead of looking like
/// a spike.
pub(super) fn sparkline<'p>(
    points: impl ExactSizeIterator<Item = &'p u64> + Clone,
    width: u16,
    floor: u64,
) -> String {
    let width = usize::from(width);
    let window = points.clone().skip(points.len().saturating_sub(width));
    let scale = window.clone().copied().fold(floor.max(1), u64::max);
    let shown = window.len();
    let mut out = String::with_capacity(width * 3);
    out.extend(std::iter::repeat_n(' ', width - shown));
    for &v in window {
        // Both operands are below 2^53 in practice; this is display scaling only.
        let level = (v as f64 / scale as f64 * 7.0).round() as usize;
        out.push(BARS[level.min(BARS.len() - 1)]);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problems_come_first_most_severe_first_then_by_name() {
        let mut rows = vec![
            (Severity::Ok, "a-ok"),
            (Severity::Warn, "z-warn"),
            (Severity::Crit, "y-crit"),
            (Severity::Unknown, "b-unknown"),
            (Severity::Crit, "c-crit"),
            (Severity::Warn, "d-warn"),
            (Severity::Ok, "0-ok"),
        ];
        problems_first(&mut rows, |r| (r.0, r.1));
        let names: Vec<&str> = rows.iter().map(|r| r.1).collect();
        assert_eq!(
            names,
            [
                "c-crit",
                "y-crit",
                "d-warn",
                "z-warn",
                "b-unknown",
                "0-ok",
                "a-ok"
            ]
        );
    }

    #[test]
    fn the_tally_counts_problems_and_names_their_kinds() {
        let words = ["broken", "lagging"];
        let rows = [
            (Severity::Crit, Some("broken")),
            (Severity::Ok, None),
            (Severity::Warn, Some("lagging")),
            (Severity::Unknown, None),
        ];
        let t = Tally::count(rows.into_iter(), &words);
        assert_eq!((t.problems, t.shown, t.worst), (2, 4, Severity::Crit));
        assert_eq!(t.text().as_deref(), Some("2 of 4 broken or lagging"));
        // Only one kind present: only its word.
        let t = Tally::count([(Severity::Warn, Some("lagging"))].into_iter(), &words);
        assert_eq!(t.text().as_deref(), Some("1 of 1 lagging"));
        assert_eq!(t.worst, Severity::Warn);
        // All well: nothing to say.
        let t = Tally::count(
            [(Severity::Ok, None), (Severity::Unknown, None)].into_iter(),
            &words,
        );
        assert_eq!(t.text(), None);
        assert_eq!(join_or(&["a", "b", "c"]), "a, b or c");
    }

    #[test]
    fn the_filter_matches_any_field_ignoring_case() {
        let f = Filter::new("  West ");
        assert!(f.matches(["db1", "eu-WEST-1"]));
        assert!(!f.matches(["db1", "eu-east-1"]));
        assert!(Filter::new("").matches(["anything"]));
        assert!(Filter::new("").matches([]));
        // Longer than the field, and non-ASCII text on either side.
        assert!(!Filter::new("eu-west-1-long").matches(["eu-west-1"]));
        assert!(Filter::new("zürich").matches(["ZÜRICH-1"]));
        assert!(!Filter::new("zürich").matches(["zurich"]));
    }

    #[test]
    fn sparkline_is_right_aligned_and_scaled_to_the_floor() {
        let points = [0_u64, 1, 2, 60];
        assert_eq!(sparkline(points.iter(), 6, 60), "  ▁▁▁█");
        // Noise under the floor stays low.
        assert_eq!(sparkline([3_u64, 5, 4].iter(), 3, 60), "▁▂▁");
        // Narrower than the history: the newest points win.
        let long: Vec<u64> = (0..10).collect();
        assert_eq!(sparkline(long.iter(), 2, 1).chars().count(), 2);
        assert!(sparkline(long.iter(), 2, 1).ends_with('█'));
        assert_eq!(sparkline(long.iter(), 0, 1), "");
    }

    #[test]
    fn formatters() {
        assert_eq!(lag_text(None), "—");
        assert_eq!(lag_text(Some(3.24)), "3.2s");
        assert_eq!(lag_text(Some(42.4)), "42s");
        assert_eq!(lag_text(Some(400.0)), "6m40s");
        assert_eq!(every_text(Dur::from_hours(24)), "24h");
        assert_eq!(every_text(Dur::from_mins(15)), "15m");
        assert_eq!(every_text(Dur::from_hours(24 * 7)), "7d");
        assert_eq!(bytes_text(512), "512 B");
        assert_eq!(bytes_text(1536), "1.5 KiB");
        assert_eq!(bytes_text(3 * 1024 * 1024 * 1024), "3.0 GiB");
    }

    #[test]
    fn tiers_pick_the_widest_that_fits() {
        #[derive(Clone, Copy, PartialEq, Debug)]
        enum C {
            A,
            B,
            F,
        }
        let tiers: &[(&[C], u16)] = &[(&[C::A, C::B, C::F], 10), (&[C::A, C::F], 4), (&[C::A], 0)];
        let w = |c| match c {
            C::A => 5,
            C::B => 5,
            C::F => 0,
        };
        assert_eq!(
            choose_columns(30, tiers, w, Some(C::F)),
            [(C::A, 5), (C::B, 5), (C::F, 18)]
        );
        assert_eq!(
            choose_columns(12, tiers, w, Some(C::F)),
            [(C::A, 5), (C::F, 6)]
        );
        assert_eq!(choose_columns(6, tiers, w, Some(C::F)), [(C::A, 5)]);
        assert_eq!(choose_columns(0, tiers, w, Some(C::F)), [(C::A, 5)]);
    }
}
