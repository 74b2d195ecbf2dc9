//! Popups: the key help and the facilitator's fault menu.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use crate::app::{App, FAULTS, Mode};

/// Every key, in the order the help shows them. Kept next to the renderer so the help cannot
/// drift from what [`crate::app::App`] handles (a unit test presses each one).
pub const KEYS: &[(&str, &str)] = &[
    (
        "? / q, Ctrl-C",
        "this help / quit (the terminal is restored)",
    ),
    ("Tab / Shift-Tab", "move focus between the panes on screen"),
    ("↑ ↓ / j k", "move the checklist cursor, or a table's row"),
    (
        "PgUp PgDn, g G",
        "scroll the step and timeline, or a table; top / end",
    ),
    (
        "/",
        "filter the focused pane by name or region (Esc clears)",
    ),
    ("p / f", "pick a scenario playbook / fault menu (demo only)"),
    ("Enter", "declare; run the step (asks first); mark done"),
    (
        "Space",
        "tick the checklist item under › (playbook focused)",
    ),
    (
        "x",
        "mark the checklist item n/a (asks why); x again undoes",
    ),
    ("e", "notify confirmation: edit the message (Ctrl-S saves)"),
    ("t", "restore step: pick the restore point (list or a time)"),
    (
        "s / r / a",
        "skip the step (asks why) / retry it / abort (asks why)",
    ),
    (
        "n / u / d",
        "add a note / comms reminder done / live: outage began",
    ),
    (
        "n / m / A",
        "joined: scribe note / milestone; approver approves",
    ),
    ("v", "narrow terminals: switch between playbook and panes"),
    (
        "P / >",
        "simulator: pause the clock / run a step's wait at 60x",
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
