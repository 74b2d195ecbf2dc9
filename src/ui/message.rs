//! The message a notify step sends, shown as the lines it is sent as (the confirmation dialog
//! and the step detail), and the editor popup that changes it before sending (`e`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::App;
use crate::app::editor::MessageEditor;
use crate::playbook::model::message_lines;
use crate::theme::Theme;

/// Left margin of a message row (under the `message` label).
const INDENT: &str = "  │ ";

/// `text` wrapped at spaces into rows of at most `width` characters (a word longer than a row is
/// cut); at least one row, even when empty. Spaces are kept, so the rows joined are the text.
pub fn rows_of(text: &str, width: usize) -> Vec<String> {
    let width = width.max(1);
    let mut rows = Vec::new();
    let mut row = String::new();
    let mut len = 0;
    for word in text.split_inclusive(' ') {
        let n = word.chars().count();
        // A trailing space may hang past the edge.
        let fits = len + word.trim_end_matches(' ').chars().count() <= width;
        if !fits && len > 0 {
            rows.push(std::mem::take(&mut row));
            len = 0;
        }
        if n <= width || word.trim_end_matches(' ').chars().count() <= width {
            row.push_str(word);
            len += n;
            continue;
        }
        for c in word.chars() {
            if len == width {
                rows.push(std::mem::take(&mut row));
                len = 0;
            }
            row.push(c);
            len += 1;
        }
    }
    rows.push(row);
    rows
}

/// The rows a line of styled text takes in a popup `width` columns wide (words wrap).
pub fn line_rows(line: &Line, width: usize) -> usize {
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    rows_of(&text, width).len()
}

/// The rows a message takes when wrapped to `width` columns (with its margin).
pub fn message_rows(message: &str, width: usize) -> usize {
    let inner = width.saturating_sub(INDENT.chars().count()).max(1);
    message_lines(message)
        .iter()
        .map(|l| rows_of(l, inner).len())
        .sum()
}

/// The message block: each line of the message as it is sent ([`message_lines`]: control
/// characters other than the newline are shown escaped), wrapped to `width` columns, at most
/// `max_rows` rows starting at row `scroll` (clamped). When rows are cut, the last row says how
/// many lines are above and below, and which keys scroll.
pub fn message_block(
    t: &Theme,
    message: &str,
    width: usize,
    max_rows: usize,
    scroll: usize,
    more: MoreHint,
) -> Vec<Line<'static>> {
    let inner = width.saturating_sub(INDENT.chars().count()).max(1);
    let rows: Vec<String> = message_lines(message)
        .iter()
        .flat_map(|l| rows_of(l, inner))
        .collect();
    let max_rows = max_rows.max(2);
    let row = |r: &String| {
        Line::from(vec![
            Span::styled(INDENT, t.dim),
            // A space hanging past the edge would wrap into an empty row.
            Span::styled(r.trim_end_matches(' ').to_string(), t.text),
        ])
    };
    if rows.len() <= max_rows {
        return rows.iter().map(row).collect();
    }
    let shown = max_rows - 1;
    let scroll = scroll.min(rows.len() - shown);
    let mut out: Vec<Line> = rows.iter().skip(scroll).take(shown).map(row).collect();
    let below = rows.len() - scroll - shown;
    out.push(Line::from(Span::styled(
        match more {
            MoreHint::Scroll => format!("  ({scroll} rows above, {below} below: ↑ ↓ scroll)"),
            MoreHint::InConfirmation => {
                format!("  ({below} rows more: the confirmation shows it all)")
            }
        },
        t.dim,
    )));
    out
}

/// What a cut message block says about the rows it does not show.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MoreHint {
    /// ↑ ↓ scroll it (the confirmation dialog).
    Scroll,
    /// The step detail: the confirmation shows the whole message.
    InConfirmation,
}

/// The editor popup over the confirmation dialog: the message's lines with the cursor, and
/// the keys. Long lines wrap; the view follows the cursor.
pub fn render_editor(frame: &mut Frame, area: Rect, app: &App, editor: &MessageEditor) {
    let t = &app.theme;
    let width = area.width.min(96);
    let inner = usize::from(width.saturating_sub(2)).max(1);
    let cursor_style = Style::default().add_modifier(Modifier::REVERSED);
    let (crow, ccol) = editor.cursor();
    let mut rows: Vec<Line> = Vec::new();
    let mut cursor_at = 0;
    for (i, text) in editor.lines().enumerate() {
        let mut chars: Vec<char> = text.chars().collect();
        if i == crow {
            // Room for the cursor after the last character.
            chars.push(' ');
        }
        let chunks: Vec<&[char]> = if chars.is_empty() {
            vec![&[][..]]
        } else {
            chars.chunks(inner).collect()
        };
        for (k, chunk) in chunks.iter().enumerate() {
            let start = k * inner;
            if i == crow && (start..start + chunk.len()).contains(&ccol) {
                cursor_at = rows.len();
                let at = ccol - start;
                let before: String = chunk[..at].iter().collect();
                let under: String = chunk[at..=at]
                    .iter()
                    .map(|c| crate::text::visible(&c.to_string()).into_owned())
                    .collect();
                let after: String = chunk[at + 1..].iter().collect();
                rows.push(Line::from(vec![
                    Span::styled(crate::text::visible(&before).into_owned(), t.text),
                    Span::styled(under, t.title.patch(cursor_style)),
                    Span::styled(crate::text::visible(&after).into_owned(), t.text),
                ]));
            } else {
                let s: String = chunk.iter().collect();
                rows.push(Line::from(Span::styled(
                    crate::text::visible(&s).into_owned(),
                    t.text,
                )));
            }
        }
    }
    // Border (2) and the key line (2) around the text.
    let room = usize::from(area.height).saturating_sub(4).max(1);
    let top = (cursor_at + 1).saturating_sub(room);
    let mut lines: Vec<Line> = rows.into_iter().skip(top).take(room).collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled("Ctrl-S", t.key),
        Span::styled(" save (sends this)  ", t.dim),
        Span::styled("Esc", t.key),
        Span::styled(" cancel  ", t.dim),
        Span::styled("Enter", t.key),
        Span::styled(" new line", t.dim),
    ]));
    super::popup(
        frame,
        area,
        t,
        width,
        lines,
        super::popup_block(t, "Edit the message · what you save is sent".into(), false),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn text_of(lines: &[Line]) -> Vec<String> {
        lines
            .iter()
            .map(|l| l.spans.iter().map(|s| s.content.as_ref()).collect())
            .collect()
    }

    #[test]
    fn a_message_shows_as_its_lines_with_controls_visible() {
        let t = Theme::fallback();
        let lines = message_block(&t, "[DRILL] A\nB\x1b[2J\n", 40, 10, 0, MoreHint::Scroll);
        assert_eq!(text_of(&lines), ["  │ [DRILL] A", "  │ B\\x1b[2J"]);
    }

    #[test]
    fn rows_wrap_at_spaces_and_cut_long_words() {
        assert_eq!(
            rows_of("the quick brown fox", 10),
            ["the quick ", "brown fox"]
        );
        assert_eq!(rows_of("abcdefghijkl xy", 5), ["abcde", "fghij", "kl xy"]);
        assert_eq!(rows_of("", 5), [""]);
        let text = "IMPACT: the API was unavailable from the start of the outage";
        assert_eq!(rows_of(text, 20).concat(), text);
        assert!(
            rows_of(text, 20)
                .iter()
                .all(|r| r.trim_end().chars().count() <= 20)
        );
    }

    #[test]
    fn a_long_message_wraps_and_scrolls() {
        let t = Theme::fallback();
        let message = format!("{}\nsecond\nthird\nfourth", "x".repeat(30));
        assert_eq!(message_rows(&message, 14), 6);
        let lines = message_block(&t, &message, 14, 4, 2, MoreHint::Scroll);
        let text = text_of(&lines);
        assert_eq!(text[..3], ["  │ xxxxxxxxxx", "  │ second", "  │ third"]);
        assert!(text[3].contains("2 rows above, 1 below"), "{text:?}");
        // Scrolling past the end stops at the last rows.
        let lines = message_block(&t, &message, 14, 4, 99, MoreHint::Scroll);
        assert!(text_of(&lines)[2].ends_with("fourth"));
    }
}
