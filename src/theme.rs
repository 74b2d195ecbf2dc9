//! Themes: `themes/*.toml` resolved to ratatui styles. Built-ins are embedded.
//!
//! Two types, as in trippy: [`ThemeFile`] is what a theme file says (strict serde: unknown keys,
//! colours and modifiers are errors with `file:line:col`), [`Theme`] is the resolved set of
//! [`Style`]s the renderer uses.
//!
//! # File format
//!
//! ```toml
//! name = "mine"                       # required
//! [styles]                            # optional; one key per role (see StylesFile)
//! ok = { fg = "green" }
//! crit = { fg = "red", modifiers = ["bold"] }
//! selected = { bg = "#282c34" }
//! status-bar = { fg = "252", bg = "236" }
//! ```
//!
//! A role the file omits inherits the built-in `default` theme's style for that role. A role the
//! file gives replaces the default's style for it as a whole (no per-attribute merge):
//! `crit = { fg = "red" }` is red and *not* bold.

use std::ffi::OsStr;
use std::fmt;

use ratatui::style::{Color, Modifier, Style};
use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;

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

/// Names of the built-in themes, in the order they are listed to users.
const BUILTIN_NAMES: &[&str] = &["default", "high-contrast", "light"];

/// Source text of the built-in themes, by name. Every entry parses: `builtins_parse` tests it.
const BUILTINS: &[(&str, &str)] = &[
    ("default", include_str!("../themes/default.toml")),
    (
        "high-contrast",
        include_str!("../themes/high-contrast.toml"),
    ),
    ("light", include_str!("../themes/light.toml")),
];

/// Why a theme could not be resolved. Every message says what, where and what to do.
#[derive(Debug, thiserror::Error)]
pub enum ThemeError {
    /// A name without `/` and not ending in `.toml` that is not a built-in.
    #[error(
        "unknown theme {name:?}: the built-in themes are {}; a theme file path must end in .toml or contain a '/'",
        BUILTIN_NAMES.join(", ")
    )]
    UnknownBuiltin {
        /// The name as given.
        name: String,
    },
    /// The theme file could not be read.
    #[error("{path}:1:1: cannot read theme file: {error}")]
    Read {
        /// The path as given.
        path: String,
        /// What the OS said.
        error: std::io::Error,
    },
    /// The theme file was read but is not a valid theme.
    #[error(transparent)]
    Invalid(#[from] Diagnostic),
}

impl Theme {
    /// The default dark theme, in code (the embedded `themes/default.toml` resolves to this; the
    /// test `default_toml_is_fallback` holds the two together). It cannot fail, so it is what a
    /// theme file's omitted roles inherit.
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

    /// Names of the built-in themes (`default`, `high-contrast`, `light`).
    pub fn builtin_names() -> &'static [&'static str] {
        BUILTIN_NAMES
    }

    /// The source text of a built-in theme, for `warroom themes --show NAME` or as a template.
    pub fn builtin_source(name: &str) -> Option<&'static str> {
        BUILTINS
            .iter()
            .find(|(builtin, _)| *builtin == name)
            .map(|(_, src)| *src)
    }

    /// NAME of a built-in, or a PATH to a .toml file (a value containing '/' or ending in .toml
    /// is a path). With `no_color`, the result is passed through [`Theme::without_color`].
    pub fn resolve(name_or_path: &str, no_color: bool) -> Result<Theme, ThemeError> {
        let is_path = name_or_path.contains('/')
            || name_or_path.contains(std::path::MAIN_SEPARATOR)
            || name_or_path.ends_with(".toml");
        let theme = if is_path {
            let src = std::fs::read(name_or_path).map_err(|error| ThemeError::Read {
                path: name_or_path.to_string(),
                error,
            })?;
            // Bytes that are not UTF-8 get the line and column where they start.
            let src = String::from_utf8(src).map_err(|_| {
                match crate::diag::read_input(std::path::Path::new(name_or_path), "theme") {
                    Err(d) => ThemeError::Invalid(d),
                    Ok(_) => ThemeError::Invalid(crate::diag::Diagnostic {
                        path: name_or_path.to_string(),
                        line: 1,
                        col: 1,
                        message: "the theme file changed while it was read".into(),
                        help: None,
                    }),
                }
            })?;
            Theme::parse(name_or_path, &src)?
        } else {
            let src =
                Theme::builtin_source(name_or_path).ok_or_else(|| ThemeError::UnknownBuiltin {
                    name: name_or_path.to_string(),
                })?;
            Theme::parse(&format!("themes/{name_or_path}.toml"), src)?
        };
        Ok(if no_color {
            theme.without_color()
        } else {
            theme
        })
    }

    /// Parse a theme file. `path_for_messages` only appears in error messages. Roles the file
    /// omits inherit from [`Theme::fallback`].
    pub fn parse(path_for_messages: &str, src: &str) -> Result<Theme, Diagnostic> {
        let file = ThemeFile::parse(path_for_messages, src)?;
        Ok(file.resolve())
    }

    /// Strip every colour, keep modifiers, and make sure state is still visible without colour:
    /// selected row and badges reversed, crit bold and reversed, danger bold, warn underlined,
    /// stale data dim and italic, secondary text dim, titles, headers, focused borders and keys
    /// bold. NO_COLOR means no colour, not no attributes (<https://no-color.org>).
    pub fn without_color(mut self) -> Theme {
        for (_, style) in self.styles_mut() {
            *style = Style::new()
                .add_modifier(style.add_modifier)
                .remove_modifier(style.sub_modifier);
        }
        let emphasise = |style: &mut Style, modifier: Modifier| {
            *style = style.add_modifier(modifier);
        };
        emphasise(&mut self.selected, Modifier::REVERSED);
        // Reversed as well as bold: a theme may already make `ok` bold (high-contrast does),
        // and without colour bold alone would not tell crit from ok.
        emphasise(&mut self.crit, Modifier::BOLD | Modifier::REVERSED);
        emphasise(&mut self.danger, Modifier::BOLD);
        emphasise(&mut self.warn, Modifier::UNDERLINED);
        emphasise(&mut self.unknown, Modifier::DIM | Modifier::ITALIC);
        emphasise(&mut self.dim, Modifier::DIM);
        emphasise(&mut self.gauge_risk, Modifier::BOLD);
        for badge in [
            &mut self.badge_demo,
            &mut self.badge_drill,
            &mut self.badge_live,
        ] {
            emphasise(badge, Modifier::REVERSED | Modifier::BOLD);
        }
        for strong in [
            &mut self.title,
            &mut self.header,
            &mut self.border_focused,
            &mut self.popup_border,
            &mut self.key,
        ] {
            emphasise(strong, Modifier::BOLD);
        }
        self
    }
}

/// NO_COLOR per <https://no-color.org>: set and non-empty disables colour.
pub fn no_color_from_env() -> bool {
    no_color(std::env::var_os("NO_COLOR").as_deref())
}

/// The pure part of [`no_color_from_env`]: the value of `NO_COLOR`, if set.
pub fn no_color(value: Option<&OsStr>) -> bool {
    value.is_some_and(|v| !v.is_empty())
}

/// A theme file as written: `name` and a `[styles]` table.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "kebab-case")]
pub struct ThemeFile {
    /// The theme's name, shown to the user (required).
    pub name: String,
    /// One style per role; a role left out inherits the built-in `default` theme's style.
    #[serde(default)]
    pub styles: StylesFile,
}

impl ThemeFile {
    /// Parse and validate a theme file's text.
    pub fn parse(path: &str, src: &str) -> Result<ThemeFile, Diagnostic> {
        let file: ThemeFile = toml::from_str(src).map_err(|e| {
            let diag = Diagnostic::from_toml(path, src, &e);
            match help_for(&diag.message) {
                Some(help) => diag.with_help(help),
                None => diag,
            }
        })?;
        file.styles.validate(path, src)?;
        Ok(file)
    }

    /// The resolved theme: the file's styles over [`Theme::fallback`].
    pub fn resolve(self) -> Theme {
        let mut theme = Theme::fallback();
        theme.name = self.name;
        self.styles.apply(&mut theme);
        theme
    }
}

/// Help for the errors whose message alone does not say what is allowed.
fn help_for(message: &str) -> Option<String> {
    if message.starts_with("unknown color:") {
        Some(COLOR_HELP.to_string())
    } else if message.starts_with("unknown modifier:") {
        Some(format!(
            "a modifier is one of {}",
            MODIFIER_NAMES.join(", ")
        ))
    } else if message.contains("invalid type: integer") && message.contains("expected a string") {
        Some("a color index is written in quotes: fg = \"208\"".to_string())
    } else if message.contains("expected a sequence") {
        Some("modifiers is a list: modifiers = [\"bold\"]".to_string())
    } else if message.contains("expected a style table") {
        Some("a style is a table: ok = { fg = \"green\", modifiers = [\"bold\"] }".to_string())
    } else if message == "missing field `name`" {
        Some("start the file with the theme's name: name = \"my-theme\"".to_string())
    } else {
        None
    }
}

const COLOR_HELP: &str = "a color is a name (black, red, green, yellow, blue, magenta, cyan, gray, \
     dark-gray, light-red, light-green, light-yellow, light-blue, light-magenta, light-cyan, white, \
     reset), \"#rrggbb\", or a 256-color index in quotes (\"0\" to \"255\")";

/// Declares the roles once: the `[styles]` table, its keys, and the mapping onto [`Theme`].
macro_rules! roles {
    ($( $(#[$doc:meta])* $field:ident = $key:literal ),* $(,)?) => {
        /// The `[styles]` table: one optional style per role, keys in kebab-case.
        #[derive(Debug, Clone, Default, Deserialize)]
        #[serde(deny_unknown_fields, rename_all = "kebab-case")]
        pub struct StylesFile {
            $( $(#[$doc])* pub $field: Option<Spanned<StyleSpec>>, )*
        }

        impl StylesFile {
            /// Every key of `[styles]`, in file order.
            pub const KEYS: &'static [&'static str] = &[$($key),*];

            /// Keys this file leaves out (they inherit from the default theme).
            pub fn omitted(&self) -> Vec<&'static str> {
                let mut omitted = Vec::new();
                $( if self.$field.is_none() { omitted.push($key); } )*
                omitted
            }

            fn specs(&self) -> Vec<(&'static str, &Spanned<StyleSpec>)> {
                let mut specs = Vec::new();
                $( if let Some(spec) = &self.$field { specs.push(($key, spec)); } )*
                specs
            }

            fn apply(self, theme: &mut Theme) {
                $( if let Some(spec) = self.$field { theme.$field = spec.into_inner().to_style(); } )*
            }
        }

        impl Theme {
            /// Every role's style with its `[styles]` key, for code that must treat all alike.
            pub fn styles(&self) -> Vec<(&'static str, Style)> {
                // Exhaustive on purpose: a new `Theme` field must be added to `roles!`.
                let Theme { name: _, $($field),* } = self;
                vec![$(($key, *$field)),*]
            }

            fn styles_mut(&mut self) -> Vec<(&'static str, &mut Style)> {
                let Theme { name: _, $($field),* } = self;
                vec![$(($key, $field)),*]
            }
        }
    };
}

roles! {
    /// Ordinary text.
    text = "text",
    /// Secondary text: units, hints, policy columns.
    dim = "dim",
    /// Pane titles.
    title = "title",
    /// Borders of panes without focus.
    border = "border",
    /// The border of the focused pane.
    border_focused = "border-focused",
    /// Table header rows.
    header = "header",
    /// The selected row of a focused table (drawn over the row's own styles).
    selected = "selected",
    /// A healthy value: lag within target, fresh backup, healthy region.
    ok = "ok",
    /// A value nearing its limit.
    warn = "warn",
    /// A value past its limit: lag alarm, overdue backup, region down.
    crit = "crit",
    /// No data or stale data.
    unknown = "unknown",
    /// The status bar along the bottom.
    status_bar = "status-bar",
    /// The `DEMO` badge (simulated environment).
    badge_demo = "badge-demo",
    /// The `DRILL` badge (real backend, rehearsal).
    badge_drill = "badge-drill",
    /// The `LIVE` badge (real incident): the theme's danger colour.
    badge_live = "badge-live",
    /// Anything destructive: confirmation prompts, destructive steps.
    danger = "danger",
    /// Key names in help and hints.
    key = "key",
    /// Gauges (RTO budget used) while within budget.
    gauge = "gauge",
    /// Gauges at risk of exceeding their budget.
    gauge_risk = "gauge-risk",
    /// Popup bodies (help, confirmation).
    popup = "popup",
    /// Popup borders.
    popup_border = "popup-border",
}

impl StylesFile {
    /// Checks serde cannot express: a style whose text would be invisible.
    fn validate(&self, path: &str, src: &str) -> Result<(), Diagnostic> {
        for (key, spec) in self.specs() {
            let style = spec.get_ref();
            if let (Some(fg), Some(bg)) = (&style.fg, &style.bg)
                && fg.0 == bg.0
                && fg.0 != Color::Reset
            {
                return Err(Diagnostic::at(
                    path,
                    src,
                    spec.span(),
                    format!("style {key} has the same fg and bg color ({fg}): its text would be invisible", key = crate::text::echo(key)),
                )
                .with_help("choose a different fg or bg, or leave one out"));
            }
        }
        Ok(())
    }
}

/// One style: `{ fg = COLOR, bg = COLOR, modifiers = [MODIFIER, ...] }`, every key optional.
/// An empty table `{}` is the terminal's own default style.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(
    deny_unknown_fields,
    rename_all = "kebab-case",
    expecting = "a style table { fg, bg, modifiers }"
)]
pub struct StyleSpec {
    /// Foreground (text) colour; unset keeps whatever is underneath.
    pub fg: Option<ColorSpec>,
    /// Background colour; unset keeps whatever is underneath.
    pub bg: Option<ColorSpec>,
    /// Text attributes added to what is underneath.
    #[serde(default)]
    pub modifiers: Vec<ModifierSpec>,
}

impl StyleSpec {
    fn to_style(&self) -> Style {
        let mut style = Style::new();
        if let Some(fg) = &self.fg {
            style = style.fg(fg.0);
        }
        if let Some(bg) = &self.bg {
            style = style.bg(bg.0);
        }
        self.modifiers
            .iter()
            .fold(style, |style, m| style.add_modifier(m.0))
    }
}

/// The colour names a theme file accepts, and what they mean (the 16 ANSI colours, whose exact
/// shade the terminal's palette decides, and `reset`: the terminal's default).
const COLOR_NAMES: &[(&str, Color)] = &[
    ("black", Color::Black),
    ("red", Color::Red),
    ("green", Color::Green),
    ("yellow", Color::Yellow),
    ("blue", Color::Blue),
    ("magenta", Color::Magenta),
    ("cyan", Color::Cyan),
    ("gray", Color::Gray),
    ("dark-gray", Color::DarkGray),
    ("light-red", Color::LightRed),
    ("light-green", Color::LightGreen),
    ("light-yellow", Color::LightYellow),
    ("light-blue", Color::LightBlue),
    ("light-magenta", Color::LightMagenta),
    ("light-cyan", Color::LightCyan),
    ("white", Color::White),
    ("reset", Color::Reset),
];

/// A colour, always a string:
/// - a name: `black`, `red`, `green`, `yellow`, `blue`, `magenta`, `cyan`, `gray`, `dark-gray`,
///   `light-red`, `light-green`, `light-yellow`, `light-blue`, `light-magenta`, `light-cyan`,
///   `white`, or `reset` (the terminal's default); the terminal's palette decides the shade;
/// - `"#rrggbb"`: an exact 24-bit colour (needs a truecolor terminal);
/// - `"0"` to `"255"`: an index into the 256-colour palette, in quotes (`fg = "208"`).
///
/// Anything else is an error "unknown color: X".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize)]
#[serde(try_from = "String")]
pub struct ColorSpec(pub Color);

impl TryFrom<String> for ColorSpec {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        if let Some((_, color)) = COLOR_NAMES.iter().find(|(name, _)| *name == value) {
            return Ok(ColorSpec(*color));
        }
        if let Some(hex) = value.strip_prefix('#') {
            return parse_hex(hex).map(ColorSpec).ok_or_else(|| {
                format!(
                    "unknown color: {value} (a hex color is \"#\" and six hex digits)",
                    value = crate::text::echo(&value)
                )
            });
        }
        if !value.is_empty() && value.bytes().all(|b| b.is_ascii_digit()) {
            return value
                .parse::<u8>()
                .map(|i| ColorSpec(Color::Indexed(i)))
                .map_err(|_| {
                    format!(
                        "unknown color: {value} (a color index is 0 to 255)",
                        value = crate::text::echo(&value)
                    )
                });
        }
        let names: Vec<&str> = COLOR_NAMES.iter().map(|(name, _)| *name).collect();
        Err(format!(
            "unknown color: {value}{}",
            did_you_mean(&value, &names),
            value = crate::text::echo(&value)
        ))
    }
}

impl fmt::Display for ColorSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match COLOR_NAMES.iter().find(|(_, color)| *color == self.0) {
            Some((name, _)) => write!(f, "{name}"),
            None => match self.0 {
                Color::Rgb(r, g, b) => write!(f, "#{r:02x}{g:02x}{b:02x}"),
                Color::Indexed(i) => write!(f, "{i}"),
                other => write!(f, "{other}"),
            },
        }
    }
}

fn parse_hex(hex: &str) -> Option<Color> {
    if hex.len() != 6 || !hex.bytes().all(|b| b.is_ascii_hexdigit()) {
        return None;
    }
    let channel = |i: usize| {
        hex.get(i..i + 2)
            .and_then(|s| u8::from_str_radix(s, 16).ok())
    };
    Some(Color::Rgb(channel(0)?, channel(2)?, channel(4)?))
}

/// The modifiers a theme file accepts. Blinking and hidden text are left out on purpose: blinking
/// distracts in a war room and many terminals ignore it; hidden text has no use in a console.
const MODIFIER_NAMES: &[&str] = &[
    "bold",
    "dim",
    "italic",
    "underlined",
    "reversed",
    "crossed-out",
];

/// A text attribute: `bold`, `dim`, `italic`, `underlined`, `reversed` (swap fg and bg) or
/// `crossed-out`. Anything else is an error "unknown modifier: X".
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ModifierSpec(pub Modifier);

// Not `#[serde(try_from = "String")]` as for colours: modifiers sit in an array, and toml only
// locates an element's error at the element (rather than at the whole array) when the error
// is raised while that element is being deserialized, i.e. inside the visitor.
impl<'de> Deserialize<'de> for ModifierSpec {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl serde::de::Visitor<'_> for Visitor {
            type Value = ModifierSpec;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("a modifier name")
            }
            fn visit_str<E: serde::de::Error>(self, value: &str) -> Result<ModifierSpec, E> {
                ModifierSpec::try_from(value.to_string()).map_err(E::custom)
            }
        }
        deserializer.deserialize_str(Visitor)
    }
}

impl TryFrom<String> for ModifierSpec {
    type Error = String;

    fn try_from(value: String) -> Result<Self, Self::Error> {
        let modifier = match value.as_str() {
            "bold" => Modifier::BOLD,
            "dim" => Modifier::DIM,
            "italic" => Modifier::ITALIC,
            "underlined" => Modifier::UNDERLINED,
            "reversed" => Modifier::REVERSED,
            "crossed-out" => Modifier::CROSSED_OUT,
            _ => {
                return Err(format!(
                    "unknown modifier: {value}{}",
                    did_you_mean(&value, MODIFIER_NAMES),
                    value = crate::text::echo(&value)
                ));
            }
        };
        Ok(ModifierSpec(modifier))
    }
}

/// ` (did you mean "X"?)` for the closest candidate within two edits, or nothing.
fn did_you_mean(value: &str, candidates: &[&str]) -> String {
    let lower = value.to_lowercase().replace(['_', ' '], "-");
    candidates
        .iter()
        .map(|c| (edit_distance(&lower, c), *c))
        .filter(|(d, _)| *d <= 2)
        .min_by_key(|(d, _)| *d)
        .map(|(_, c)| format!(" (did you mean {c}?)", c = crate::text::echo(c)))
        .unwrap_or_default()
}

/// Levenshtein distance in characters.
fn edit_distance(a: &str, b: &str) -> usize {
    let b: Vec<char> = b.chars().collect();
    let mut prev: Vec<usize> = (0..=b.len()).collect();
    for (i, ca) in a.chars().enumerate() {
        let mut row = vec![i + 1];
        for (j, cb) in b.iter().enumerate() {
            let substitute = prev[j] + usize::from(ca != *cb);
            row.push(substitute.min(prev[j + 1] + 1).min(row[j] + 1));
        }
        prev = row;
    }
    prev[b.len()]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn builtins_parse() {
        assert_eq!(
            BUILTINS.iter().map(|(n, _)| *n).collect::<Vec<_>>(),
            BUILTIN_NAMES
        );
        for (name, src) in BUILTINS {
            let file = ThemeFile::parse(name, src).unwrap_or_else(|d| panic!("{d}"));
            assert_eq!(
                file.name, *name,
                "the file's name matches its built-in name"
            );
            assert_eq!(
                file.styles.omitted(),
                Vec::<&str>::new(),
                "{name} sets every role"
            );
        }
    }

    #[test]
    fn default_toml_is_fallback() {
        assert_eq!(
            Theme::parse("default.toml", BUILTINS[0].1),
            Ok(Theme::fallback())
        );
    }

    #[test]
    fn colors_parse() {
        let c = |s: &str| ColorSpec::try_from(s.to_string()).map(|c| c.0);
        assert_eq!(c("dark-gray"), Ok(Color::DarkGray));
        assert_eq!(c("reset"), Ok(Color::Reset));
        assert_eq!(c("#282C34"), Ok(Color::Rgb(40, 44, 52)));
        assert_eq!(c("0"), Ok(Color::Indexed(0)));
        assert_eq!(c("255"), Ok(Color::Indexed(255)));
        assert_eq!(
            c("256"),
            Err("unknown color: \"256\" (a color index is 0 to 255)".into())
        );
        assert_eq!(
            c("grene"),
            Err("unknown color: \"grene\" (did you mean \"green\"?)".into())
        );
        assert_eq!(
            c("DarkGray"),
            Err("unknown color: \"DarkGray\" (did you mean \"dark-gray\"?)".into())
        );
        assert_eq!(c("chartreuse"), Err("unknown color: \"chartreuse\"".into()));
        assert!(c("#12345").is_err());
        assert!(c("#1234567").is_err());
        assert!(c("#12345g").is_err());
        assert!(c("").is_err());
    }

    #[test]
    fn colors_display_as_written() {
        for s in ["dark-gray", "#282c34", "208"] {
            let color = ColorSpec::try_from(s.to_string()).map(|c| c.to_string());
            assert_eq!(color.as_deref(), Ok(s));
        }
    }

    #[test]
    fn edit_distance_counts_edits() {
        assert_eq!(edit_distance("grene", "green"), 2);
        assert_eq!(edit_distance("", "red"), 3);
        assert_eq!(edit_distance("bold", "bold"), 0);
        assert_eq!(edit_distance("blod", "bold"), 2);
    }

    #[test]
    fn no_color_needs_a_non_empty_value() {
        assert!(!no_color(None));
        assert!(!no_color(Some(OsStr::new(""))));
        assert!(no_color(Some(OsStr::new("1"))));
        assert!(
            no_color(Some(OsStr::new("0"))),
            "any non-empty value counts"
        );
    }

    #[test]
    fn styles_lists_every_role_once() {
        let theme = Theme::fallback();
        let keys: Vec<_> = theme.styles().into_iter().map(|(k, _)| k).collect();
        assert_eq!(keys, StylesFile::KEYS);
    }
}
