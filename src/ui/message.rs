//! The message a notify step sends, shown as the lines it is sent as (the confirmation dialog
//! and the step detail), and the editor popup that changes it before sending (`e`).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::{Modifier, Style};
use ratatui::text::{Line, Span};

use crate::app::editor::MessageEditor;
use crate::app::App;
use crate::playbook::model::message_lines;
use crate::theme::Theme;

/// Left margin of a message row (under the `message` label).
const INDENT: &str = "  │ ";

/// `text` cut into rows of at most `width` characters (at least one row, even when empty).
fn rows_of(text: &str, width: usize) -> Vec<String> {
    let chars: Vec<char> = text.chars().collect();
    if chars.is_empty() {
        return vec![String::new()];
    }
    chars
        .chunks(width.max(1))
        .map(|c| c.iter().collect())
        .collect()
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
            Span::styled(r.clone(), t.text),
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
        format!("  ({scroll} rows above, {below} below: ↑ ↓ scroll)"),
        t.dim,
    )));
    out
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
        let lines = message_block(&t, "[DRILL] A\nB\x1b[2J\n", 40, 10, 0);
        assert_eq!(text_of(&lines), ["  │ [DRILL] A", "  │ B\\x1b[2J"]);
    }

    #[test]
    fn a_long_message_wraps_and_scrolls() {
        let t = Theme::fallback();
        let message = format!("{}\nsecond\nthird\nfourth", "x".repeat(30));
        assert_eq!(message_rows(&message, 14), 6);
        let lines = message_block(&t, &message, 14, 4, 2);
        let text = text_of(&lines);
        assert_eq!(text[..3], ["  │ xxxxxxxxxx", "  │ second", "  │ third"]);
        assert!(text[3].contains("2 rows above, 1 below"), "{text:?}");
        // Scrolling past the end stops at the last rows.
        let lines = message_block(&t, &message, 14, 4, 99);
        assert!(text_of(&lines)[2].ends_with("fourth"));
    }
}
