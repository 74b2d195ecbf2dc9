//! Themes: `themes/*.toml` resolved to ratatui styles. Built-ins are embedded.

use ratatui::style::{Color, Modifier, Style};

/// The resolved theme the renderer uses: one style per role on screen.
#[derive(Debug, Clone, PartialEq)]
pub struct Theme {
    pub name: String,
    /// Ordinary text.
    pub text: Style,
    /// Secondary text (units, hints, policy columns).
    pub dim: Style,
    /// Pane titles.
    pub title: Style,
    pub border: Style,
    pub border_focused: Style,
    /// Table header rows.
    pub header: Style,
    /// The selected row of a focused table.
    pub selected: Style,
    pub ok: Style,
    pub warn: Style,
    pub crit: Style,
    /// No data or stale data.
    pub unknown: Style,
    pub status_bar: Style,
    pub badge_demo: Style,
    pub badge_drill: Style,
    /// The `LIVE` badge and anything destructive: the theme's danger colour.
    pub badge_live: Style,
    pub danger: Style,
    /// Key names in help and hints.
    pub key: Style,
    pub gauge: Style,
    pub gauge_risk: Style,
    pub popup: Style,
    pub popup_border: Style,
}

impl Theme {
    /// The default dark theme, in code (the embedded `themes/default.toml` resolves to this).
    pub fn fallback() -> Self {
        let fg = |c| Style::new().fg(c);
        Theme {
            name: "default".into(),
            text: Style::new(),
            dim: fg(Color::DarkGray),
            title: Style::new().add_modifier(Modifier::BOLD),
            border: fg(Color::DarkGray),
            border_focused: fg(Color::Cyan),
            header: fg(Color::Gray).add_modifier(Modifier::BOLD),
            selected: Style::new().bg(Color::Rgb(40, 44, 52)),
            ok: fg(Color::Green),
            warn: fg(Color::Yellow),
            crit: fg(Color::Red).add_modifier(Modifier::BOLD),
            unknown: fg(Color::Magenta),
            status_bar: Style::new().bg(Color::Rgb(30, 30, 30)).fg(Color::Gray),
            badge_demo: Style::new()
                .bg(Color::Blue)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            badge_drill: Style::new()
                .bg(Color::Yellow)
                .fg(Color::Black)
                .add_modifier(Modifier::BOLD),
            badge_live: Style::new()
                .bg(Color::Red)
                .fg(Color::White)
                .add_modifier(Modifier::BOLD),
            danger: fg(Color::Red).add_modifier(Modifier::BOLD),
            key: fg(Color::Cyan).add_modifier(Modifier::BOLD),
            gauge: fg(Color::Green),
            gauge_risk: fg(Color::Red),
            popup: Style::new(),
            popup_border: fg(Color::Cyan),
        }
    }
}
