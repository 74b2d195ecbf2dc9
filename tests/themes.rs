//! Theme files: built-ins, strict errors with file:line:col, NO_COLOR, resolving names and paths.

use std::path::PathBuf;

use ratatui::style::{Color, Modifier, Style};
use warroom::theme::{Theme, ThemeError};

const FIXTURES: &str = "tests/fixtures/themes";

/// The error `Theme::resolve` gives for a fixture, as the user would see it.
fn error_for(fixture: &str) -> String {
    let path = format!("{FIXTURES}/{fixture}");
    match Theme::resolve(&path, false) {
        Ok(theme) => panic!("{path} resolved to theme {:?}", theme.name),
        Err(e) => e.to_string(),
    }
}

/// Every role's style, by exhaustive destructuring: a new `Theme` field will not compile here
/// until this list (and so every test that uses it) covers it.
fn all_styles(theme: &Theme) -> Vec<(&'static str, Style)> {
    let Theme {
        name: _,
        text,
        dim,
        title,
        border,
        border_focused,
        header,
        selected,
        ok,
        warn,
        crit,
        unknown,
        status_bar,
        badge_demo,
        badge_drill,
        badge_live,
        danger,
        key,
        gauge,
        gauge_risk,
        popup,
        popup_border,
    } = theme;
    vec![
        ("text", *text),
        ("dim", *dim),
        ("title", *title),
        ("border", *border),
        ("border_focused", *border_focused),
        ("header", *header),
        ("selected", *selected),
        ("ok", *ok),
        ("warn", *warn),
        ("crit", *crit),
        ("unknown", *unknown),
        ("status_bar", *status_bar),
        ("badge_demo", *badge_demo),
        ("badge_drill", *badge_drill),
        ("badge_live", *badge_live),
        ("danger", *danger),
        ("key", *key),
        ("gauge", *gauge),
        ("gauge_risk", *gauge_risk),
        ("popup", *popup),
        ("popup_border", *popup_border),
    ]
}

fn builtins() -> Vec<Theme> {
    Theme::builtin_names()
        .iter()
        .map(|name| Theme::resolve(name, false).unwrap_or_else(|e| panic!("{name}: {e}")))
        .collect()
}

/// A theme that sets a colour on every role, so that stripping colour has work to do everywhere.
fn colourful() -> Theme {
    let src = format!(
        "name = \"colourful\"\n[styles]\n{}",
        warroom::theme::StylesFile::KEYS
            .iter()
            .map(|k| format!("{k} = {{ fg = \"#102030\", bg = \"208\" }}\n"))
            .collect::<String>()
    );
    Theme::parse("colourful.toml", &src).unwrap_or_else(|d| panic!("{d}"))
}

// --- built-ins ---------------------------------------------------------------------------------

#[test]
fn every_builtin_resolves_under_its_own_name() {
    assert_eq!(
        Theme::builtin_names(),
        &["default", "high-contrast", "light"]
    );
    let themes = builtins();
    for (theme, name) in themes.iter().zip(Theme::builtin_names()) {
        assert_eq!(&theme.name, name);
    }
    assert_ne!(themes[0], themes[1]);
    assert_ne!(themes[0], themes[2]);
    assert_ne!(themes[1], themes[2]);
}

#[test]
fn default_builtin_is_the_fallback() {
    assert_eq!(
        Theme::resolve("default", false).ok(),
        Some(Theme::fallback())
    );
}

#[test]
fn high_contrast_uses_only_bold_basic_colours_and_reversed_badges() {
    let theme = Theme::resolve("high-contrast", false).unwrap_or_else(|e| panic!("{e}"));
    let basic = [
        Color::Black,
        Color::Red,
        Color::Green,
        Color::Yellow,
        Color::Blue,
        Color::Magenta,
        Color::Cyan,
        Color::White,
    ];
    for (role, style) in all_styles(&theme) {
        for color in [style.fg, style.bg].into_iter().flatten() {
            assert!(basic.contains(&color), "{role}: {color:?} is not basic");
            assert!(
                style.add_modifier.contains(Modifier::BOLD),
                "{role}: not bold"
            );
        }
        assert!(
            !style.add_modifier.contains(Modifier::DIM),
            "{role}: dim washes out"
        );
    }
    for badge in [theme.badge_demo, theme.badge_drill, theme.badge_live] {
        assert!(
            badge
                .add_modifier
                .contains(Modifier::REVERSED | Modifier::BOLD)
        );
    }
    assert!(theme.selected.add_modifier.contains(Modifier::REVERSED));
}

/// sRGB of a colour whose shade does not depend on the terminal's palette.
fn fixed_rgb(color: Color) -> Option<(u8, u8, u8)> {
    const CUBE: [u8; 6] = [0, 95, 135, 175, 215, 255];
    match color {
        Color::Rgb(r, g, b) => Some((r, g, b)),
        Color::Indexed(i @ 16..=231) => {
            let i = usize::from(i - 16);
            Some((CUBE[i / 36], CUBE[(i / 6) % 6], CUBE[i % 6]))
        }
        Color::Indexed(i @ 232..=255) => {
            let v = 8 + 10 * (i - 232);
            Some((v, v, v))
        }
        _ => None,
    }
}

/// WCAG 2 contrast ratio.
fn contrast(a: (u8, u8, u8), b: (u8, u8, u8)) -> f64 {
    let luminance = |(r, g, b): (u8, u8, u8)| {
        let lin = |c: u8| {
            let c = f64::from(c) / 255.0;
            if c <= 0.039_28 {
                c / 12.92
            } else {
                ((c + 0.055) / 1.055).powf(2.4)
            }
        };
        0.2126 * lin(r) + 0.7152 * lin(g) + 0.0722 * lin(b)
    };
    let (la, lb) = (luminance(a), luminance(b));
    (la.max(lb) + 0.05) / (la.min(lb) + 0.05)
}

#[test]
fn light_reads_on_a_white_background() {
    const WHITE: (u8, u8, u8) = (255, 255, 255);
    const BLACK: (u8, u8, u8) = (0, 0, 0);
    let theme = Theme::resolve("light", false).unwrap_or_else(|e| panic!("{e}"));
    for (role, style) in all_styles(&theme) {
        let fixed = |c: Option<Color>| {
            c.map(|c| {
                fixed_rgb(c).unwrap_or_else(|| panic!("{role}: {c:?} depends on the palette"))
            })
        };
        let (fg, bg) = (fixed(style.fg), fixed(style.bg));
        // Non-text parts (WCAG 1.4.11) need 3:1, text 4.5:1.
        let needed = match role {
            "border" | "border_focused" | "popup_border" | "gauge" | "gauge_risk" => 3.0,
            _ => 4.5,
        };
        // Text without its own fg is the terminal's (dark) foreground.
        let ratio = contrast(fg.unwrap_or(BLACK), bg.unwrap_or(WHITE));
        assert!(
            ratio >= needed,
            "{role}: contrast {ratio:.2} < {needed} on white"
        );
        if let Some(bg) = bg {
            assert!(
                contrast(bg, WHITE) >= 1.3,
                "{role}: background too close to white"
            );
        }
    }
}

// --- inheritance -------------------------------------------------------------------------------

#[test]
fn omitted_roles_inherit_the_default_and_given_roles_replace_it_whole() {
    let src = "name = \"mine\"\n[styles]\nok = { fg = \"blue\" }\ncrit = { fg = \"red\" }\n";
    let theme = Theme::parse("mine.toml", src).unwrap_or_else(|d| panic!("{d}"));
    let expected = Theme {
        name: "mine".into(),
        ok: Style::new().fg(Color::Blue),
        // Not bold, although the default's crit is: a given style is not merged.
        crit: Style::new().fg(Color::Red),
        ..Theme::fallback()
    };
    assert_eq!(theme, expected);
}

#[test]
fn a_theme_without_styles_is_the_default_under_another_name() {
    let theme = Theme::parse("bare.toml", "name = \"bare\"\n").unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        theme,
        Theme {
            name: "bare".into(),
            ..Theme::fallback()
        }
    );
}

#[test]
fn colours_in_every_notation() {
    let src = "name = \"n\"\n[styles]\n\
               ok = { fg = \"light-green\", bg = \"#0A0b0c\" }\n\
               warn = { fg = \"208\", bg = \"reset\", modifiers = [\"italic\", \"crossed-out\"] }\n";
    let theme = Theme::parse("n.toml", src).unwrap_or_else(|d| panic!("{d}"));
    assert_eq!(
        theme.ok,
        Style::new()
            .fg(Color::LightGreen)
            .bg(Color::Rgb(10, 11, 12))
    );
    assert_eq!(
        theme.warn,
        Style::new()
            .fg(Color::Indexed(208))
            .bg(Color::Reset)
            .add_modifier(Modifier::ITALIC | Modifier::CROSSED_OUT)
    );
}

// --- errors ------------------------------------------------------------------------------------

const COLOR_HELP: &str = "  help: a color is a name (black, red, green, yellow, blue, magenta, cyan, gray, \
     dark-gray, light-red, light-green, light-yellow, light-blue, light-magenta, light-cyan, white, \
     reset), \"#rrggbb\", or a 256-color index in quotes (\"0\" to \"255\")";

#[test]
fn unknown_style_key() {
    let err = error_for("unknown-style-key.toml");
    assert!(
        err.starts_with(
            "tests/fixtures/themes/unknown-style-key.toml:5:1: unknown field `critical`, \
             expected one of `text`, `dim`, "
        ),
        "{err}"
    );
    assert!(err.contains("`crit`"), "lists the allowed keys: {err}");
}

#[test]
fn unknown_top_level_key() {
    assert_eq!(
        error_for("unknown-top-key.toml"),
        "tests/fixtures/themes/unknown-top-key.toml:3:1: unknown field `author`, expected `name` or `styles`"
    );
}

#[test]
fn unknown_key_in_a_style() {
    assert_eq!(
        error_for("unknown-style-field.toml"),
        "tests/fixtures/themes/unknown-style-field.toml:4:8: unknown field `color`, expected one of `fg`, `bg`, `modifiers`"
    );
}

#[test]
fn unknown_colour_suggests_the_nearest_name() {
    assert_eq!(
        error_for("unknown-color.toml"),
        format!(
            "tests/fixtures/themes/unknown-color.toml:4:13: unknown color: \"grene\" (did you mean \"green\"?)\n{COLOR_HELP}"
        )
    );
}

#[test]
fn bad_hex_colour() {
    assert_eq!(
        error_for("bad-hex.toml"),
        format!(
            "tests/fixtures/themes/bad-hex.toml:5:33: unknown color: \"#12345\" (a hex color is \"#\" and six hex digits)\n{COLOR_HELP}"
        )
    );
}

#[test]
fn unknown_modifier_points_at_the_element() {
    assert_eq!(
        error_for("unknown-modifier.toml"),
        "tests/fixtures/themes/unknown-modifier.toml:4:43: unknown modifier: \"blink\"\n  \
         help: a modifier is one of bold, dim, italic, underlined, reversed, crossed-out"
    );
}

#[test]
fn modifiers_must_be_a_list() {
    assert_eq!(
        error_for("wrong-type.toml"),
        "tests/fixtures/themes/wrong-type.toml:4:34: invalid type: string \"bold\", expected a sequence\n  \
         help: modifiers is a list: modifiers = [\"bold\"]"
    );
}

#[test]
fn a_style_must_be_a_table() {
    assert_eq!(
        error_for("style-not-table.toml"),
        "tests/fixtures/themes/style-not-table.toml:4:6: invalid type: string \"green\", expected a style table { fg, bg, modifiers }\n  \
         help: a style is a table: ok = { fg = \"green\", modifiers = [\"bold\"] }"
    );
}

#[test]
fn colour_index_must_be_quoted() {
    assert_eq!(
        error_for("integer-color.toml"),
        "tests/fixtures/themes/integer-color.toml:4:15: invalid type: integer `208`, expected a string\n  \
         help: a color index is written in quotes: fg = \"208\""
    );
}

#[test]
fn name_is_required() {
    assert_eq!(
        error_for("missing-name.toml"),
        "tests/fixtures/themes/missing-name.toml:1:1: missing field `name`\n  \
         help: start the file with the theme's name: name = \"my-theme\""
    );
}

#[test]
fn invisible_text_is_rejected() {
    assert_eq!(
        error_for("invisible.toml"),
        "tests/fixtures/themes/invisible.toml:4:14: style \"status-bar\" has the same fg and bg color (black): its text would be invisible\n  \
         help: choose a different fg or bg, or leave one out"
    );
}

#[test]
fn errors_are_diagnostics_with_position() {
    match Theme::resolve(&format!("{FIXTURES}/unknown-color.toml"), false) {
        Err(ThemeError::Invalid(d)) => {
            assert_eq!((d.line, d.col), (4, 13));
            assert_eq!(d.path, "tests/fixtures/themes/unknown-color.toml");
        }
        other => panic!("expected ThemeError::Invalid, got {other:?}"),
    }
}

// --- resolving names and paths -----------------------------------------------------------------

/// A file in the temp dir, removed on drop.
struct TempTheme(PathBuf);

impl TempTheme {
    fn new(file_name: &str, contents: &str) -> Self {
        let path = std::env::temp_dir().join(format!("warroom-{}-{file_name}", std::process::id()));
        std::fs::write(&path, contents).unwrap_or_else(|e| panic!("{}: {e}", path.display()));
        TempTheme(path)
    }
    fn path(&self) -> String {
        self.0.display().to_string()
    }
}

impl Drop for TempTheme {
    fn drop(&mut self) {
        let _ = std::fs::remove_file(&self.0);
    }
}

#[test]
fn resolve_reads_a_theme_file_by_path() {
    let file = TempTheme::new(
        "ops.toml",
        "name = \"ops\"\n[styles]\nok = { fg = \"cyan\" }\n",
    );
    let theme = Theme::resolve(&file.path(), false).unwrap_or_else(|e| panic!("{e}"));
    assert_eq!(theme.name, "ops");
    assert_eq!(theme.ok, Style::new().fg(Color::Cyan));
}

#[test]
fn resolve_reports_errors_in_a_file_under_its_path() {
    let file = TempTheme::new(
        "broken.toml",
        "name = \"x\"\n[styles]\nok = { fg = \"nope\" }\n",
    );
    let err = Theme::resolve(&file.path(), false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    assert!(
        err.starts_with(&format!("{}:3:13: unknown color: \"nope\"", file.path())),
        "{err}"
    );
}

#[test]
fn a_missing_file_is_named_with_the_os_error() {
    let err = Theme::resolve("no/such/theme.toml", false);
    assert!(matches!(err, Err(ThemeError::Read { .. })), "{err:?}");
    let message = err.err().map(|e| e.to_string()).unwrap_or_default();
    assert!(
        message.starts_with("no/such/theme.toml:1:1: cannot read theme file: "),
        "{message}"
    );
    assert!(message.contains("os error"), "{message}");
}

#[test]
fn a_theme_that_is_not_utf8_is_located() {
    let path = std::env::temp_dir().join(format!("warroom-theme-{}.toml", std::process::id()));
    std::fs::write(&path, b"[roles]\nok = \"green\"\nbad = \"\xfe\"\n").expect("write");
    let err = Theme::resolve(&path.display().to_string(), false)
        .err()
        .map(|e| e.to_string())
        .unwrap_or_default();
    let _ = std::fs::remove_file(&path);
    assert!(
        err.starts_with(&format!(
            "{}:3:8: the theme file is not UTF-8",
            path.display()
        )),
        "{err}"
    );
}

#[test]
fn a_bare_name_ending_in_toml_is_a_path() {
    let err = Theme::resolve("solarized.toml", false);
    assert!(matches!(err, Err(ThemeError::Read { .. })), "{err:?}");
}

#[test]
fn an_unknown_builtin_lists_the_builtins() {
    let err = Theme::resolve("solarized", false);
    assert!(
        matches!(err, Err(ThemeError::UnknownBuiltin { .. })),
        "{err:?}"
    );
    assert_eq!(
        err.err().map(|e| e.to_string()).unwrap_or_default(),
        "unknown theme \"solarized\": the built-in themes are default, high-contrast, light; \
         a theme file path must end in .toml or contain a '/'"
    );
}

// --- NO_COLOR ----------------------------------------------------------------------------------

fn has_no_colour(style: Style) -> bool {
    // Equal to a style built from its modifiers alone: no fg, bg or underline colour.
    style
        == Style::new()
            .add_modifier(style.add_modifier)
            .remove_modifier(style.sub_modifier)
}

#[test]
fn without_color_leaves_no_colour_anywhere() {
    let mut themes = builtins();
    themes.push(colourful());
    for theme in themes {
        let name = theme.name.clone();
        assert!(
            all_styles(&theme).iter().any(|(_, s)| !has_no_colour(*s)),
            "{name} has colours to strip"
        );
        let plain = theme.without_color();
        assert_eq!(plain.name, name);
        for (role, style) in all_styles(&plain) {
            assert!(
                has_no_colour(style),
                "{name}.{role} still has colour: {style:?}"
            );
            assert_eq!(style.fg, None, "{name}.{role}");
            assert_eq!(style.bg, None, "{name}.{role}");
        }
    }
}

#[test]
fn without_color_keeps_state_visible() {
    let mut themes = builtins();
    themes.push(colourful());
    for theme in themes {
        let name = theme.name.clone();
        let kept = theme.title.add_modifier;
        let t = theme.without_color();
        assert!(
            t.title.add_modifier.contains(kept),
            "{name}: modifiers kept"
        );
        assert!(
            t.selected.add_modifier.contains(Modifier::REVERSED),
            "{name}"
        );
        assert_ne!(t.selected, t.text, "{name}: selected row distinguishable");
        assert!(t.crit.add_modifier.contains(Modifier::BOLD), "{name}");
        assert!(t.danger.add_modifier.contains(Modifier::BOLD), "{name}");
        for badge in [t.badge_demo, t.badge_drill, t.badge_live] {
            assert!(
                badge
                    .add_modifier
                    .contains(Modifier::REVERSED | Modifier::BOLD),
                "{name}"
            );
            assert_ne!(badge, t.status_bar, "{name}: badge stands out of the bar");
        }
        let states = [t.ok, t.warn, t.crit, t.unknown];
        for (i, a) in states.iter().enumerate() {
            for b in &states[i + 1..] {
                assert_ne!(a, b, "{name}: ok/warn/crit/unknown pairwise distinct");
            }
        }
        assert_ne!(t.border_focused, t.border, "{name}: focus visible");
    }
}

#[test]
fn resolve_with_no_color_strips_colour() {
    for name in Theme::builtin_names() {
        let plain = Theme::resolve(name, true).unwrap_or_else(|e| panic!("{e}"));
        let coloured = Theme::resolve(name, false).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(plain, coloured.without_color(), "{name}");
    }
}
