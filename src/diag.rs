//! User-facing errors in input files, always with `file:line:col`, what is wrong and how to fix it.

use std::fmt;
use std::ops::Range;

/// An error located in a file the user wrote (playbook, theme, environment, journal).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostic {
    pub path: String,
    /// 1-based.
    pub line: usize,
    /// 1-based, in characters.
    pub col: usize,
    pub message: String,
    /// What to do about it, when there is something better to say than the message.
    pub help: Option<String>,
}

impl fmt::Display for Diagnostic {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        // Paths and messages may quote the input: never let it drive the terminal.
        write!(
            f,
            "{}:{}:{}: {}",
            crate::text::visible(&self.path),
            self.line,
            self.col,
            crate::text::visible(&self.message)
        )?;
        if let Some(help) = &self.help {
            write!(f, "\n  help: {help}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostic {}

/// Several diagnostics reported together (every problem in a file, not just the first).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Diagnostics(pub Vec<Diagnostic>);

impl fmt::Display for Diagnostics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, d) in self.0.iter().enumerate() {
            if i > 0 {
                writeln!(f)?;
            }
            write!(f, "{d}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Diagnostics {}

/// Reads an input file (`what`: `theme`, `environment`, ...) as UTF-8 text. An unreadable file is
/// located at `path:1:1`; bytes that are not UTF-8 at the line and column where they start, so
/// every input error has a location.
pub fn read_input(path: &std::path::Path, what: &str) -> Result<String, Diagnostic> {
    let shown = path.display().to_string();
    let bytes = std::fs::read(path).map_err(|e| Diagnostic {
        path: shown.clone(),
        line: 1,
        col: 1,
        message: format!("cannot read {what} file: {e}"),
        help: None,
    })?;
    String::from_utf8(bytes).map_err(|e| {
        let bad = e.utf8_error().valid_up_to();
        let bytes = e.into_bytes();
        // The valid prefix locates the first bad byte.
        let prefix = std::str::from_utf8(&bytes[..bad]).unwrap_or_default();
        let (line, col) = line_col(prefix, bad);
        Diagnostic {
            path: shown,
            line,
            col,
            message: format!(
                "the {what} file is not UTF-8 text (byte {bad} is 0x{:02x})",
                bytes[bad]
            ),
            help: Some("save it as UTF-8".into()),
        }
    })
}

/// 1-based line and column (in characters) of a byte offset in `src`.
pub fn line_col(src: &str, offset: usize) -> (usize, usize) {
    let offset = offset.min(src.len());
    let before = src.get(..offset).unwrap_or(src);
    let line = before.matches('\n').count() + 1;
    let line_start = before.rfind('\n').map_or(0, |i| i + 1);
    let col = before.get(line_start..).map_or(0, |s| s.chars().count()) + 1;
    (line, col)
}

impl Diagnostic {
    pub fn at(path: &str, src: &str, span: Range<usize>, message: impl Into<String>) -> Self {
        let (line, col) = line_col(src, span.start);
        Diagnostic {
            path: path.to_string(),
            line,
            col,
            message: message.into(),
            help: None,
        }
    }

    pub fn with_help(mut self, help: impl Into<String>) -> Self {
        self.help = Some(help.into());
        self
    }

    /// A TOML syntax or schema error, located by the parser's span.
    pub fn from_toml(path: &str, src: &str, err: &toml::de::Error) -> Self {
        let span = err.span().unwrap_or(0..0);
        // The parser's own message is one line of substance; its rendering with the source
        // excerpt would repeat what file:line:col already says.
        let message = err.message().trim().replace('\n', "; ");
        Diagnostic::at(path, src, span, bounded(&message))
    }
}

/// Longest parser message kept, in characters, and in bytes once made visible: the TOML parser
/// quotes the input (an unknown key of any length), so its message is cut with what was left
/// out.
const PARSER_MESSAGE_MAX_CHARS: usize = 1000;
const PARSER_MESSAGE_MAX_BYTES: usize = 1200;

fn bounded(message: &str) -> String {
    match crate::text::visible_cut(message, PARSER_MESSAGE_MAX_CHARS, PARSER_MESSAGE_MAX_BYTES) {
        (shown, None) => shown,
        (shown, Some(left)) => format!("{shown}… ({} more)", crate::text::bytes(left)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn input_that_is_not_utf8_is_located() {
        let path = std::env::temp_dir().join(format!("warroom-diag-{}.toml", std::process::id()));
        std::fs::write(&path, b"a = 1\nb = \"\xff\"\n").expect("write");
        let err = read_input(&path, "theme").expect_err("not UTF-8");
        assert_eq!((err.line, err.col), (2, 6), "{err}");
        assert!(err.message.contains("not UTF-8"), "{err}");
        std::fs::remove_file(&path).expect("remove");
        let err = read_input(&path, "theme").expect_err("gone");
        assert_eq!((err.line, err.col), (1, 1));
        assert!(err.message.starts_with("cannot read theme file"), "{err}");
    }

    #[test]
    fn messages_cannot_drive_the_terminal() {
        let d = Diagnostic {
            path: "a\u{1b}]0;x\u{7}.toml".into(),
            line: 1,
            col: 1,
            message: "unknown name \"\u{1b}[2J\"".into(),
            help: None,
        };
        let shown = d.to_string();
        assert!(!shown.chars().any(char::is_control), "{shown:?}");
        assert!(shown.contains("\\x1b[2J"), "{shown}");
    }

    #[test]
    fn line_col_counts_from_one_in_chars() {
        let src = "a = 1\nbé = 2\n";
        assert_eq!(line_col(src, 0), (1, 1));
        assert_eq!(line_col(src, 6), (2, 1));
        assert_eq!(line_col(src, src.find('=').map_or(0, |_| 9)), (2, 3));
        assert_eq!(line_col(src, 10_000), (3, 1));
    }

    #[test]
    fn toml_errors_carry_position() {
        #[derive(serde::Deserialize, Debug)]
        #[serde(deny_unknown_fields)]
        #[allow(dead_code)]
        struct T {
            a: u32,
        }
        let src = "a = 1\nb = 2\n";
        let err = toml::from_str::<T>(src).expect_err("unknown field");
        let d = Diagnostic::from_toml("x.toml", src, &err);
        assert_eq!((d.line, d.col), (2, 1));
        assert!(
            d.to_string().starts_with("x.toml:2:1: unknown field `b`"),
            "{d}"
        );
    }
}
