//! A joined console's prompt (shared war room): a scribe's note or milestone, an approver's
//! approval of the armed step (the same command, resource and evidence the driver armed on).

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::playbook::sanitize;
use crate::app::App;
use crate::app::joined::{ShareAsk, SharePrompt};
use crate::share::request::Role;

pub fn render_prompt(frame: &mut Frame, area: Rect, app: &App, prompt: &SharePrompt) {
    let t = &app.theme;
    let mut lines = Vec::new();
    if let ShareAsk::Approve { armed } = &prompt.kind {
        let row = |label: &'static str, value: &str| {
            Line::from(vec![
                Span::styled(label, t.header),
                Span::styled(sanitize(value), t.text),
            ])
        };
        lines.push(row(
            "armed by  ",
            &format!("{} (key {})", armed.by, armed.key),
        ));
        lines.push(row("command   ", &armed.command));
        lines.push(row("resource  ", &armed.resource));
        lines.push(row("evidence  ", &armed.evidence));
    }
    lines.push(Line::from(vec![
        Span::styled("> ", t.key),
        Span::styled(sanitize(&prompt.text), t.title),
        Span::styled("█", t.key),
    ]));
    lines.push(Line::from(vec![
        Span::styled("Enter", t.key),
        Span::styled(" sign and send  ", t.dim),
        Span::styled("Esc", t.key),
        Span::styled(" cancel", t.dim),
    ]));
    let danger = matches!(prompt.kind, ShareAsk::Approve { .. });
    super::popup(
        frame,
        area,
        t,
        80,
        lines,
        super::popup_block(t, sanitize(&prompt.kind.title()), danger),
    );
}

/// The key hints of a joined console, by role (the approval key only while a step waits).
pub fn hints(app: &App) -> Option<Vec<(&'static str, &'static str)>> {
    let role = app.joined_role()?;
    Some(match role {
        Role::Scribe | Role::Commander => vec![
            ("n", "note"),
            ("m", "milestone"),
            ("q", "quit"),
            ("?", "help"),
        ],
        Role::Approver if app.approvable().is_some() => {
            vec![
                ("A", "approve the armed step"),
                ("q", "quit"),
                ("?", "help"),
            ]
        }
        Role::Approver => vec![
            ("approver", "A approves an armed step"),
            ("q", "quit"),
            ("?", "help"),
        ],
        Role::Observer => vec![("observer: read-only", ""), ("q", "quit"), ("?", "help")],
    })
}
