//! Popups: the key help and the facilitator's fault menu.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::{App, FAULTS, Mode};

/// Every key, in the order the help shows them. Kept next to the renderer so the help cannot
/// drift from what [`crate::app::App`] handles (a unit test presses each one).
pub const KEYS: &[(&str, &str)] = &[
    ("?", "show or hide this help"),
    ("q / Ctrl-C", "quit (the terminal is restored)"),
    ("Tab / Shift-Tab", "move focus between panes"),
    ("↑ ↓ / j k", "scroll the focused table"),
    ("PgUp PgDn", "scroll by ten rows"),
    ("g / G", "first / last row"),
    ("f", "fault menu: inject a scenario fault (demo only)"),
    ("p", "pick a scenario playbook"),
    ("Enter", "declare; run the step (asks first); mark done"),
    (
        "Space",
        "tick the checklist item under the cursor (↑ ↓ move it)",
    ),
    ("s", "skip the current step (asks why)"),
    ("r", "retry a failed step"),
    ("a", "abort the incident (asks why)"),
    (
        "n / u",
        "note to the timeline / the comms reminder due is done",
    ),
    ("d", "live: set when the outage began (asks when and why)"),
    ("v", "narrow terminals: switch between playbook and panes"),
    (
        "P / >",
        "simulator: pause the clock / fast-forward a step's wait",
    ),
    ("Esc", "close a popup, clear the message line"),
];

pub fn render_help(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let mut lines: Vec<Line> = KEYS
        .iter()
        .map(|(key, what)| {
            Line::from(vec![
                Span::styled(format!(" {key:<16}"), t.key),
                Span::styled(*what, t.text),
            ])
        })
        .collect();
    lines.push(Line::raw(""));
    lines.push(Line::from(Span::styled(
        " Pane colours: green ok · yellow warning · red critical · magenta stale",
        t.dim,
    )));
    super::popup(
        frame,
        area,
        t,
        76,
        lines,
        super::popup_block(t, "Help · keys".into(), false),
    );
}

pub fn render_fault_menu(frame: &mut Frame, area: Rect, app: &App, selected: usize) {
    let t = &app.theme;
    let mut lines = vec![Line::from(Span::styled(
        " Inject a fault into the simulated deployment:",
        t.dim,
    ))];
    for (i, (name, what)) in FAULTS.iter().enumerate() {
        let style = if i == selected { t.selected } else { t.text };
        lines.push(Line::from(vec![
            Span::styled(format!(" {} ", i + 1), t.key),
            Span::styled(format!("{name:<12}"), style.patch(t.warn)),
            Span::styled(*what, style),
        ]));
    }
    lines.push(Line::raw(""));
    lines.push(Line::from(vec![
        Span::styled(" Enter", t.key),
        Span::styled(" inject  ", t.dim),
        Span::styled("1-4", t.key),
        Span::styled(" pick  ", t.dim),
        Span::styled("Esc", t.key),
        Span::styled(" cancel", t.dim),
    ]));
    debug_assert!(app.mode == Mode::Demo);
    super::popup(
        frame,
        area,
        t,
        76,
        lines,
        super::popup_block(t, "Faults (facilitator)".into(), false),
    );
}
