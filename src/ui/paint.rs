//! Drawing primitives that visit only the cells they change.
//!
//! Ratatui's `Block`, `Paragraph` and `Table` (and each table cell, its text and its line) start
//! by restyling their whole area, even when the style is the default one: a no-op per cell, but
//! not a free one. At 200x60 the console paid for ~34,000 such cell visits a frame, about a third
//! of its drawing time. Each helper here writes exactly the cells the widget named in its doc
//! comment writes, with the same symbols and styles, and nothing else. Text made of printable
//! ASCII and box-drawing characters skips grapheme segmentation (each such character is a
//! grapheme one cell wide). The tests compare each helper with its widget on random text.

use std::ops::Range;

use ratatui::buffer::{Buffer, Cell, CellWidth};
use ratatui::layout::{Alignment, Position, Rect};
use ratatui::style::Style;
use ratatui::symbols::border;
use ratatui::text::{Line, Span, StyledGrapheme};
use ratatui::widgets::Widget;

/// Whether `c` is a grapheme on its own and one cell wide whatever surrounds it: printable ASCII,
/// and the box-drawing and block characters (U+2500 to U+259F) of borders, gauges and sparklines.
/// A test checks every pair of them against ratatui's segmentation and widths.
fn is_simple_char(c: char) -> bool {
    matches!(c, ' '..='~' | '\u{2500}'..='\u{259F}')
}

/// When every character of `text` is simple (see [`is_simple_char`]), its width: one cell per
/// character. Such text is drawn without grapheme segmentation.
fn simple_width(text: &str) -> Option<usize> {
    if text.bytes().all(|b| (b' '..=b'~').contains(&b)) {
        return Some(text.len());
    }
    let mut width = 0;
    for c in text.chars() {
        if !is_simple_char(c) {
            return None;
        }
        width += 1;
    }
    Some(width)
}

/// The cells of row `y` from column `x` to the buffer's right edge; none when `(x, y)` is outside
/// the buffer. One index computation for a run of cells instead of one per cell.
fn row_from(buf: &mut Buffer, x: u16, y: u16) -> &mut [Cell] {
    if !buf.area.contains(Position { x, y }) {
        return &mut [];
    }
    let start = buf.index_of(x, y);
    let end = start + usize::from(buf.area.right() - x);
    buf.content.get_mut(start..end).unwrap_or_default()
}

/// Writes simple characters (see [`is_simple_char`]) from `(x, y)`, one per cell, stopping at the
/// buffer's edge.
fn put_simple(buf: &mut Buffer, x: u16, y: u16, text: impl Iterator<Item = char>, style: Style) {
    for (cell, c) in row_from(buf, x, y).iter_mut().zip(text) {
        cell.set_char(c).set_style(style);
    }
}

/// Appends the graphemes of `line` no wider than `max_width`, with their widths, to `out`: what
/// ratatui's `Line::styled_graphemes` yields (no control characters, each grapheme in its span's
/// style patched over the line's) and its word wrapper keeps, without segmenting simple text.
fn collect_graphemes<'a>(
    line: &'a Line<'a>,
    max_width: u16,
    out: &mut Vec<(StyledGrapheme<'a>, u16)>,
) {
    for span in &line.spans {
        let content: &'a str = &span.content;
        if simple_width(content).is_some() {
            let style = line.style.patch(span.style);
            out.extend(content.char_indices().filter_map(|(i, c)| {
                let symbol = content.get(i..i + c.len_utf8())?;
                Some((StyledGrapheme { symbol, style }, 1))
            }));
        } else {
            out.extend(
                span.styled_graphemes(line.style)
                    .map(|g| {
                        let width = g.symbol.cell_width();
                        (g, width)
                    })
                    .filter(|(_, width)| *width <= max_width),
            );
        }
    }
}

/// Applies `style` to every cell of `area`, unless it is the default style (which changes
/// nothing).
pub fn set_style(buf: &mut Buffer, area: Rect, style: Style) {
    if style != Style::default() {
        buf.set_style(area, style);
    }
}

/// Draws `line` in the first row of `area` like ratatui's `Line` widget: the line's own style
/// over the whole row, its alignment, and a line wider than the area cut on the side away from
/// its alignment.
pub fn line(buf: &mut Buffer, area: Rect, line: &Line<'_>) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let area = Rect { height: 1, ..area };
    let width: usize = line.spans.iter().map(span_width).sum();
    if width == 0 {
        return;
    }
    let width = u16::try_from(width).unwrap_or(u16::MAX);
    let indent = match line.alignment {
        None | Some(Alignment::Left) => 0,
        Some(Alignment::Right) if width <= area.width => area.width - width,
        // Cut on the left, or centred: not used by the console; ratatui knows how.
        Some(Alignment::Right | Alignment::Center) => return line.render(area, buf),
    };
    set_style(buf, area, line.style);
    // Left to right, each span cut at the right edge. Zero-width spans are skipped like ratatui
    // skips them.
    let mut x = area.x + indent;
    for span in &line.spans {
        let rest = area.right().saturating_sub(x);
        if rest == 0 {
            break;
        }
        let width = match simple_width(&span.content) {
            Some(width) => {
                let shown = span.content.chars().take(usize::from(rest));
                put_simple(buf, x, area.y, shown, span.style);
                width
            }
            None => {
                let width = span.width();
                if width > 0 {
                    span.render(
                        Rect {
                            x,
                            width: rest,
                            ..area
                        },
                        buf,
                    );
                }
                width
            }
        };
        x = x.saturating_add(u16::try_from(width).unwrap_or(u16::MAX));
    }
}

/// `Span::width`, counted in characters for simple text.
fn span_width(span: &Span<'_>) -> usize {
    simple_width(&span.content).unwrap_or_else(|| span.width())
}

/// Draws `line` in the first row of `area` like one line of a `Paragraph` without wrapping: each
/// grapheme takes the line's style patched with its span's (the cells after the text keep
/// theirs), and the line is cut at the area's right edge.
pub fn text_line(buf: &mut Buffer, area: Rect, line: &Line<'_>) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let max = area.width;
    let offset = match line.alignment {
        None | Some(Alignment::Left) => 0,
        Some(alignment) => line_offset(truncated_width(line, max), max, alignment),
    };
    let (mut x, y) = (area.x + offset, area.y);
    let mut used: u16 = 0;
    for span in &line.spans {
        if let Some(len) = simple_width(&span.content) {
            let room = usize::from(max - used);
            let style = line.style.patch(span.style);
            put_simple(buf, x, y, span.content.chars().take(room), style);
            // At most `room` characters, so this fits in u16.
            let n = u16::try_from(len.min(room)).unwrap_or(u16::MAX);
            (x, used) = (x + n, used + n);
            if len > room {
                return;
            }
            continue;
        }
        for g in span.styled_graphemes(line.style) {
            let w = g.symbol.cell_width();
            if w > max {
                continue;
            }
            if w > max - used {
                return;
            }
            used += w;
            if w > 0 {
                put_grapheme(buf, x, y, &g);
                x += w;
            }
        }
    }
}

/// Draws `lines` one per row from the top of `area`, like a `Paragraph` without wrapping.
pub fn text_lines(buf: &mut Buffer, area: Rect, lines: &[Line<'_>]) {
    for (line, y) in lines.iter().zip(area.top()..area.bottom()) {
        text_line(
            buf,
            Rect {
                y,
                height: 1,
                ..area
            },
            line,
        );
    }
}

/// Draws `lines` into `area` like `Paragraph::new(lines).wrap(Wrap { trim: false })`: a line
/// that fits takes one row, a longer one is broken between words by [`word_wrap`], a port of
/// ratatui's word wrapper.
pub fn wrapped_lines(buf: &mut Buffer, area: Rect, lines: &[Line<'_>]) {
    wrapped_lines_from(buf, area, lines, 0);
}

/// How many rows [`wrapped_lines`] takes for `lines` at `width`.
pub fn wrapped_height(lines: &[Line<'_>], width: u16) -> usize {
    if width == 0 {
        return lines.len();
    }
    let (mut graphemes, mut rows) = (Vec::new(), Vec::new());
    lines
        .iter()
        .map(|line| {
            if fits(line, width) {
                return 1;
            }
            graphemes.clear();
            collect_graphemes(line, width, &mut graphemes);
            rows.clear();
            word_wrap(&graphemes, width, &mut rows);
            rows.len().max(1)
        })
        .sum()
}

/// [`wrapped_lines`] scrolled: the first `skip` wrapped rows are not drawn (a scrolled view).
pub fn wrapped_lines_from(buf: &mut Buffer, area: Rect, lines: &[Line<'_>], skip: usize) {
    let area = area.intersection(buf.area);
    if area.is_empty() {
        return;
    }
    let mut skip = skip;
    let mut y = area.y;
    let (mut graphemes, mut rows) = (Vec::new(), Vec::new());
    for line in lines {
        if y >= area.bottom() {
            return;
        }
        if fits(line, area.width) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            text_line(
                buf,
                Rect {
                    y,
                    height: 1,
                    ..area
                },
                line,
            );
            y += 1;
            continue;
        }
        graphemes.clear();
        collect_graphemes(line, area.width, &mut graphemes);
        rows.clear();
        word_wrap(&graphemes, area.width, &mut rows);
        let alignment = line.alignment.unwrap_or(Alignment::Left);
        for row in rows.iter().filter_map(|r| graphemes.get(r.clone())) {
            if skip > 0 {
                skip -= 1;
                continue;
            }
            if y >= area.bottom() {
                return;
            }
            let width = row.iter().map(|(_, w)| w).sum();
            let mut x = area.x + line_offset(width, area.width, alignment);
            for (g, w) in row {
                if *w > 0 {
                    put_grapheme(buf, x, y, g);
                    x += w;
                }
            }
            y += 1;
        }
    }
}

/// Whether ratatui's word wrapper leaves `line` whole at `width`: its graphemes add up to less
/// than the width, or exactly the width with no zero-width grapheme to spill onto a next row.
fn fits(line: &Line<'_>, width: u16) -> bool {
    let mut total: usize = 0;
    let mut zero_width = false;
    for span in &line.spans {
        if let Some(width) = simple_width(&span.content) {
            total += width;
        } else {
            for g in span.styled_graphemes(Style::default()) {
                let w = g.symbol.cell_width();
                zero_width |= w == 0;
                total += usize::from(w);
            }
        }
        if total > usize::from(width) {
            return false;
        }
    }
    total < usize::from(width) || !zero_width
}

/// Width of `line` once a `Paragraph` cut it to `max` (for its alignment).
fn truncated_width(line: &Line<'_>, max: u16) -> u16 {
    let mut used: u16 = 0;
    for g in line.styled_graphemes(Style::default()) {
        let w = g.symbol.cell_width();
        if w > max {
            continue;
        }
        if w > max - used {
            break;
        }
        used += w;
    }
    used
}

/// Where a `Paragraph` starts a row `width` wide in an area `area_width` wide.
fn line_offset(width: u16, area_width: u16, alignment: Alignment) -> u16 {
    match alignment {
        Alignment::Left => 0,
        Alignment::Center => (area_width / 2).saturating_sub(width / 2),
        Alignment::Right => area_width.saturating_sub(width),
    }
}

/// Writes one grapheme the way a `Paragraph` does (the cells a wide one hides are left alone).
fn put_grapheme(buf: &mut Buffer, x: u16, y: u16, g: &StyledGrapheme<'_>) {
    if let Some(cell) = buf.cell_mut((x, y)) {
        cell.set_symbol(g.symbol).set_style(g.style);
    }
}

/// Breaks one line into rows at most `max_width` wide, exactly like ratatui's `WordWrapper`
/// (ratatui-widgets 0.3, `reflow.rs`, MIT) with `trim: false`: words move whole to the next row,
/// a word longer than a row is split, whitespace at a break is dropped up to the end of the row.
///
/// `graphemes` are the line's graphemes and widths, none wider than `max_width` (the wrapper
/// skips those, with no other effect). Each row is pushed as a range of `graphemes`: ratatui's
/// rows are runs of the line, since all it drops is whitespace between two rows. So where it
/// keeps a pending row, whitespace and word in three vectors, this keeps where each starts: the
/// row is `row_start..ws_start`, the whitespace `ws_start..word_start`, the word
/// `word_start..i`. Pushes at least one row (empty for an empty line); nothing when `max_width`
/// is 0.
fn word_wrap(
    graphemes: &[(StyledGrapheme<'_>, u16)],
    max_width: u16,
    rows: &mut Vec<Range<usize>>,
) {
    if max_width == 0 {
        return;
    }
    let first_row = rows.len();
    let (mut row_start, mut ws_start, mut word_start) = (0, 0, 0);
    let (mut line_width, mut word_width, mut whitespace_width) = (0_u16, 0_u16, 0_u16);
    let mut non_whitespace_previous = false;

    for (i, (grapheme, symbol_width)) in graphemes.iter().enumerate() {
        let symbol_width = *symbol_width;
        let is_whitespace = grapheme.is_whitespace();
        let word_found = non_whitespace_previous && is_whitespace;
        let untrimmed_overflow =
            row_start == ws_start && word_width + whitespace_width + symbol_width > max_width;
        // Append the finished segment (whitespace, then word) to the row.
        if word_found || untrimmed_overflow {
            line_width += whitespace_width + word_width;
            (ws_start, word_start) = (i, i);
            (whitespace_width, word_width) = (0, 0);
        }
        let line_full = line_width >= max_width;
        let pending_word_overflow =
            symbol_width > 0 && line_width + whitespace_width + word_width >= max_width;
        if line_full || pending_word_overflow {
            let mut remaining_width = max_width.saturating_sub(line_width);
            rows.push(row_start..ws_start);
            line_width = 0;
            // Drop the whitespace that reaches the end of the row.
            while let Some((_, width)) = graphemes.get(ws_start).filter(|_| ws_start < word_start) {
                if *width > remaining_width {
                    break;
                }
                whitespace_width -= width;
                remaining_width -= width;
                ws_start += 1;
            }
            row_start = ws_start;
            // The first whitespace does not count toward the next word: dropped. (The word is
            // empty here: whitespace after a word always ends it above.)
            if is_whitespace && ws_start == word_start {
                debug_assert_eq!(word_start, i, "whitespace after a word ends it");
                (row_start, ws_start, word_start) = (i + 1, i + 1, i + 1);
                continue;
            }
        }
        if is_whitespace {
            // The word is empty (see above), so the whitespace grows up to here.
            debug_assert_eq!(word_start, i, "whitespace after a word ends it");
            whitespace_width += symbol_width;
            word_start = i + 1;
        } else {
            word_width += symbol_width;
        }
        non_whitespace_previous = !is_whitespace;
    }
    if row_start < graphemes.len() {
        rows.push(row_start..graphemes.len());
    }
    if rows.len() == first_row {
        rows.push(0..0);
    }
}

/// Fills the first row of `area` with `symbol` (one cell wide) in `style`, like a `Paragraph`
/// of that symbol repeated across the area.
pub fn fill_row(buf: &mut Buffer, area: Rect, symbol: &str, style: Style) {
    let area = area.intersection(buf.area);
    if !area.is_empty() {
        put_run(buf, area.x, area.y, area.width, symbol, style);
    }
}

/// Writes `symbol` (one cell wide) in `style` into `count` cells from `(x, y)` rightwards.
fn put_run(buf: &mut Buffer, x: u16, y: u16, count: u16, symbol: &str, style: Style) {
    for cell in row_from(buf, x, y).iter_mut().take(usize::from(count)) {
        cell.set_symbol(symbol).set_style(style);
    }
}

/// A box with a plain border, a title at the top left and optionally one at the bottom right:
/// the cells of `Block::bordered().border_style(style).title(title.left_aligned())
/// .title_bottom(bottom.right_aligned())`, without restyling the inside.
pub struct Panel<'a> {
    border_style: Style,
    title: Line<'a>,
    bottom_title: Option<Line<'a>>,
}

impl<'a> Panel<'a> {
    pub fn new(border_style: Style, title: Line<'a>) -> Self {
        Panel {
            border_style,
            title: title.left_aligned(),
            bottom_title: None,
        }
    }

    /// A title at the bottom right (cut on its left when too wide, like ratatui does).
    pub fn bottom_title(mut self, title: Line<'a>) -> Self {
        self.bottom_title = Some(title.right_aligned());
        self
    }

    /// The area inside the border (`Block::inner`).
    pub fn inner(area: Rect) -> Rect {
        let x = area.x.saturating_add(1).min(area.right());
        let y = area.y.saturating_add(1).min(area.bottom());
        Rect {
            x,
            y,
            width: area.width.saturating_sub(2),
            height: area.height.saturating_sub(2),
        }
    }

    pub fn render(&self, buf: &mut Buffer, area: Rect) {
        let area = area.intersection(buf.area);
        if area.is_empty() {
            return;
        }
        let set = border::PLAIN;
        let style = self.border_style;
        let (left, top) = (area.left(), area.top());
        let right = area.right().saturating_sub(1);
        let bottom = area.bottom().saturating_sub(1);
        // Block's order (left, top, right, bottom, then the corners) decides degenerate boxes.
        for y in top..=bottom {
            put_run(buf, left, y, 1, set.vertical_left, style);
        }
        put_run(buf, left, top, area.width, set.horizontal_top, style);
        for y in top..=bottom {
            put_run(buf, right, y, 1, set.vertical_right, style);
        }
        put_run(buf, left, bottom, area.width, set.horizontal_bottom, style);
        put_run(buf, right, bottom, 1, set.bottom_right, style);
        put_run(buf, right, top, 1, set.top_right, style);
        put_run(buf, left, bottom, 1, set.bottom_left, style);
        put_run(buf, left, top, 1, set.top_left, style);

        let titles = Rect {
            x: left.saturating_add(1),
            y: top,
            width: area.width.saturating_sub(2),
            height: 1,
        };
        if !titles.is_empty() {
            let width = line_width(&self.title).min(titles.width);
            line(buf, Rect { width, ..titles }, &self.title);
        }
        let titles = Rect {
            y: bottom,
            ..titles
        };
        if let Some(title) = self.bottom_title.as_ref().filter(|_| !titles.is_empty()) {
            let title_width = line_width(title);
            let x = titles
                .right()
                .saturating_sub(title_width)
                .max(titles.left());
            let width = title_width.min(titles.width);
            line(buf, Rect { x, width, ..titles }, title);
        }
    }
}

fn line_width(line: &Line<'_>) -> u16 {
    u16::try_from(line.width()).unwrap_or(u16::MAX)
}

#[cfg(test)]
mod tests {
    //! Each helper against the ratatui widget it stands for, cell for cell (symbols and styles),
    //! on text that exercises the slow paths: wide and zero-width graphemes, control characters,
    //! whitespace runs at every break position, words longer than a row, styled lines.

    use super::*;
    use ratatui::style::{Color, Modifier};
    use ratatui::widgets::{Block, Paragraph, Wrap};

    const PIECES: &[&str] = &[
        "a",
        "word",
        " ",
        "  ",
        "\t",
        "·",
        "—",
        "世界",
        "e\u{301}",
        "\u{200b}",
        "\u{301}",
        "🔥",
        "x\u{1b}[31m",
        "long-unbroken-token-that-overflows",
        "\u{a0}",
        "ok",
        "é",
        "◀ api",
        "─",
        "▁▂█",
        "░",
        "▕",
        "│x│",
        "a\u{301}",
        "\u{2500}\u{301}",
        "\u{3000}",
        "x\u{3000}\u{3000}y",
    ];

    /// A deterministic pseudo-random generator (xorshift), to vary the inputs without a crate.
    struct Rng(u64);
    impl Rng {
        fn next(&mut self, n: usize) -> usize {
            self.0 ^= self.0 << 13;
            self.0 ^= self.0 >> 7;
            self.0 ^= self.0 << 17;
            usize::try_from(self.0 % n as u64).unwrap_or(0)
        }
    }

    fn styles(i: usize) -> Style {
        [
            Style::default(),
            Style::new().red(),
            Style::new().on_blue().add_modifier(Modifier::BOLD),
            Style::new()
                .fg(Color::Indexed(7))
                .remove_modifier(Modifier::BOLD),
        ][i % 4]
    }

    fn random_line(rng: &mut Rng) -> Line<'static> {
        let spans: Vec<Span> = (0..rng.next(8))
            .map(|_| {
                let text: String = (0..1 + rng.next(4))
                    .map(|_| PIECES[rng.next(PIECES.len())])
                    .collect();
                Span::styled(text, styles(rng.next(4)))
            })
            .collect();
        let line = Line::from(spans).style(styles(rng.next(4)));
        match rng.next(5) {
            0 => line.right_aligned(),
            1 => line.left_aligned(),
            _ => line,
        }
    }

    /// A buffer with something in every cell, so that cells written by mistake show.
    fn canvas(width: u16, height: u16) -> Buffer {
        let mut cell = ratatui::buffer::Cell::new("%");
        cell.set_style(Style::new().green().on_black());
        Buffer::filled(Rect::new(0, 0, width, height), cell)
    }

    #[test]
    fn simple_characters_are_single_cell_graphemes_in_any_pair() {
        let simple: Vec<char> = ('\0'..='\u{10ffff}')
            .filter(|c| is_simple_char(*c))
            .collect();
        assert_eq!(simple.len(), 95 + 160);
        for &a in &simple {
            let pairs: String = simple.iter().flat_map(|&b| [a, b]).collect();
            let span = Span::raw(pairs.as_str());
            let graphemes: Vec<StyledGrapheme> = span.styled_graphemes(Style::default()).collect();
            assert_eq!(graphemes.len(), simple.len() * 2, "{a:?}");
            assert!(graphemes.iter().all(|g| g.symbol.chars().count() == 1));
            assert!(graphemes.iter().all(|g| g.symbol.cell_width() == 1));
            assert_eq!(span.width(), simple.len() * 2);
        }
    }

    #[test]
    fn lines_match_the_line_widget_and_paragraphs() {
        let mut rng = Rng(0x5eed);
        for case in 0..3000 {
            let l = random_line(&mut rng);
            let width = u16::try_from(rng.next(40)).unwrap_or(0);
            let area = Rect::new(1, 1, width, 2);

            let (mut want, mut got) = (canvas(44, 4), canvas(44, 4));
            (&l).render(area, &mut want);
            line(&mut got, area, &l);
            assert_eq!(got, want, "Line widget, case {case}: {l:?} in {width}");

            let (mut want, mut got) = (canvas(44, 4), canvas(44, 4));
            Paragraph::new(l.clone()).render(area, &mut want);
            text_line(&mut got, area, &l);
            assert_eq!(got, want, "Paragraph, case {case}: {l:?} in {width}");
        }
    }

    #[test]
    fn wrapping_matches_ratatui() {
        // A line exactly as wide as the area followed by zero-width spaces takes two rows.
        let exact = vec![Line::from("abc\u{200b}\u{200b}"), Line::from("next")];
        let area = Rect::new(1, 1, 3, 3);
        let (mut want, mut got) = (canvas(5, 5), canvas(5, 5));
        Paragraph::new(exact.clone())
            .wrap(Wrap { trim: false })
            .render(area, &mut want);
        wrapped_lines(&mut got, area, &exact);
        assert_eq!(got, want);

        let mut rng = Rng(0xfeed);
        for case in 0..3000 {
            let lines: Vec<Line> = (0..1 + rng.next(3))
                .map(|_| random_line(&mut rng))
                .collect();
            let width = u16::try_from(rng.next(30)).unwrap_or(0);
            let height = u16::try_from(rng.next(12)).unwrap_or(0);
            let area = Rect::new(1, 1, width, height);
            let (mut want, mut got) = (canvas(34, 14), canvas(34, 14));
            Paragraph::new(lines.clone())
                .wrap(Wrap { trim: false })
                .render(area, &mut want);
            wrapped_lines(&mut got, area, &lines);
            assert_eq!(got, want, "case {case}: {lines:?} in {width}x{height}");
        }
    }

    #[test]
    fn panel_matches_a_bordered_block() {
        let mut rng = Rng(0xb0c5);
        for case in 0..1000 {
            let title = random_line(&mut rng);
            let bottom = random_line(&mut rng);
            let (w, h) = (rng.next(30), rng.next(6));
            let area = Rect::new(
                1,
                1,
                u16::try_from(w).unwrap_or(0),
                u16::try_from(h).unwrap_or(0),
            );
            let style = styles(rng.next(4));
            let with_bottom = rng.next(2) == 0;

            let mut block = Block::bordered()
                .border_style(style)
                .title(title.clone().left_aligned());
            let mut panel = Panel::new(style, title.clone());
            if with_bottom {
                block = block.title_bottom(bottom.clone().right_aligned());
                panel = panel.bottom_title(bottom.clone());
            }
            let (mut want, mut got) = (canvas(34, 9), canvas(34, 9));
            // Only the border and titles: a Block also restyles the inside with its (default)
            // style, which changes nothing.
            block.render(area, &mut want);
            panel.render(&mut got, area);
            assert_eq!(got, want, "case {case}: {title:?} / {bottom:?} in {area:?}");
            assert_eq!(Panel::inner(area), Block::bordered().inner(area));
        }
    }

    #[test]
    fn fill_row_matches_a_paragraph_of_the_symbol() {
        let area = Rect::new(2, 1, 9, 1);
        let (mut want, mut got) = (canvas(12, 3), canvas(12, 3));
        Paragraph::new(Span::styled("─".repeat(9), Style::new().red())).render(area, &mut want);
        fill_row(&mut got, area, "─", Style::new().red());
        assert_eq!(got, want);
    }
}
