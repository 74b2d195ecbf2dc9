//! Text that leaves the program: every value that came from an input (a playbook, an environment,
//! a journal, a note, step output) goes through [`visible`] before it reaches a terminal or a
//! file meant for people, so a hostile value cannot drive the terminal (OSC 52 clipboard writes,
//! window titles, screen clears, carriage returns that overwrite a line). [`echo`] also bounds
//! how much of a value an error message repeats.

use std::borrow::Cow;

/// Longest value an error message repeats, in characters; the rest is counted, not shown.
pub const ECHO_MAX_CHARS: usize = 200;

/// `text` with every control character shown as an escape: C0 controls (`\x1b`, `\r`, `\n`,
/// `\t`, ...), DEL and the C1 controls (U+0080..U+009F, which some terminals obey like ESC
/// sequences). Printable text, including non-ASCII, is unchanged and borrowed.
pub fn visible(text: &str) -> Cow<'_, str> {
    if !text.chars().any(char::is_control) {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        match c {
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            c if c.is_control() => {
                let n = u32::from(c);
                if n <= 0xff {
                    out.push_str(&format!("\\x{n:02x}"));
                } else {
                    out.push_str(&format!("\\u{{{n:x}}}"));
                }
            }
            c => out.push(c),
        }
    }
    Cow::Owned(out)
}

/// A value as an error message repeats it: quoted, [`visible`], and cut after
/// [`ECHO_MAX_CHARS`] characters with what was left out (`"abc…" (9.9 MB more)`).
pub fn echo(value: &str) -> String {
    match value.char_indices().nth(ECHO_MAX_CHARS) {
        None => format!("\"{}\"", visible(value)),
        Some((cut, _)) => format!(
            "\"{}…\" ({} more)",
            visible(&value[..cut]),
            bytes(value.len() - cut)
        ),
    }
}

/// A count with thousands separators: `88,412,907`.
pub fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i) % 3 == 0 {
            out.push(',');
        }
        out.push(c);
    }
    out
}

/// A byte count for people: `812 bytes`, `9.9 kB`, `9.9 MB`, `1.2 GB` (decimal units).
pub fn bytes(n: usize) -> String {
    let n = n as f64;
    if n < 1e3 {
        format!("{n} bytes")
    } else if n < 1e6 {
        format!("{:.1} kB", n / 1e3)
    } else if n < 1e9 {
        format!("{:.1} MB", n / 1e6)
    } else {
        format!("{:.1} GB", n / 1e9)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn control_characters_become_visible_escapes() {
        let hostile = "a\u{1b}]52;c;SGVsbG8=\u{7}b\r\u{1b}[2Jc\u{9b}31md\u{7f}\n";
        let shown = visible(hostile);
        assert_eq!(
            shown,
            "a\\x1b]52;c;SGVsbG8=\\x07b\\r\\x1b[2Jc\\x9b31md\\x7f\\n"
        );
        assert!(!shown.chars().any(char::is_control), "{shown}");
        assert!(matches!(visible("plain café ✓"), Cow::Borrowed(_)));
    }

    #[test]
    fn thousands_are_grouped() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(999), "999");
        assert_eq!(thousands(81_920), "81,920");
        assert_eq!(thousands(88_412_907), "88,412,907");
    }

    #[test]
    fn echo_bounds_what_it_repeats() {
        assert_eq!(echo("db-1"), "\"db-1\"");
        let long = "x".repeat(10_000_000);
        let e = echo(&long);
        assert!(e.len() < ECHO_MAX_CHARS + 40, "{} bytes", e.len());
        assert!(e.ends_with("…\" (10.0 MB more)"), "{e}");
        // Cut on a character boundary, never inside a multi-byte character.
        let wide = "é".repeat(300);
        assert!(echo(&wide).contains("(200 bytes more)"), "{}", echo(&wide));
    }
}
