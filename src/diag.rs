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
        write!(
            f,
            "{}:{}:{}: {}",
            self.path, self.line, self.col, self.message
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
        Diagnostic::at(path, src, span, message)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
