//! The top line: who, where, what mode, what time.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};
use ratatui::widgets::Paragraph;

use crate::app::{App, Mode};

pub fn render(frame: &mut Frame, area: Rect, app: &App) {
    let t = &app.theme;
    let badge = match app.mode {
        Mode::Demo => t.badge_demo,
        Mode::Drill => t.badge_drill,
        Mode::Live => t.badge_live,
    };
    let mut left = vec![
        Span::styled(" warroom ", t.title),
        Span::styled("│ env ", t.dim),
        Span::styled(app.env.name.clone(), t.text),
        Span::raw(" "),
        Span::styled(format!(" {} ", app.mode.badge()), badge),
        Span::styled(" │ ", t.dim),
        Span::styled(app.now.format("%Y-%m-%d %H:%M:%S UTC").to_string(), t.text),
    ];
    if app.mode != Mode::Live {
        left.push(Span::styled(" │ speed ", t.dim));
        left.push(Span::styled(format_speed(app.speed), t.text));
    }
    if let Some((at, name)) = app.faults.last() {
        left.push(Span::styled(" │ fault ", t.dim));
        left.push(Span::styled(format!("{name} @{}", at.format("%H:%M:%S")), t.warn));
    }
    let right = vec![
        Span::styled("?", t.key),
        Span::styled(" help  ", t.dim),
        Span::styled("q", t.key),
        Span::styled(" quit ", t.dim),
    ];
    let used: usize = left.iter().chain(right.iter()).map(Span::width).sum();
    let pad = usize::from(area.width).saturating_sub(used);
    left.push(Span::raw(" ".repeat(pad)));
    left.extend(right);
    frame.render_widget(Paragraph::new(Line::from(left)).style(t.status_bar), area);
}

fn format_speed(speed: f64) -> String {
    if (speed - speed.round()).abs() < 1e-9 {
        format!("{}×", speed.round())
    } else {
        format!("{speed:.2}×")
    }
}
