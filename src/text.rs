//! Text that leaves the program: every value that came from an input (a playbook, an environment,
//! a journal, a note, step output) goes through [`visible`] before it reaches a terminal or a
//! file meant for people, so a hostile value cannot drive the terminal (OSC 52 clipboard writes,
//! window titles, screen clears, carriage returns that overwrite a line). [`echo`] also bounds
//! how much of a value an error message repeats.

use std::borrow::Cow;
use std::io::Write as _;

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

/// Longest value an error message repeats once made [`visible`], in bytes: a control character
/// shows as 4 (`\x1b`), a non-ASCII one takes up to 4, so [`ECHO_MAX_CHARS`] alone does not
/// bound the bytes.
pub const ECHO_MAX_BYTES: usize = 400;

/// A value as an error message repeats it: quoted, [`visible`], and cut after
/// [`ECHO_MAX_CHARS`] characters or [`ECHO_MAX_BYTES`] bytes shown, whichever comes first, with
/// what was left out (`"abc…" (9.9 MB more)`).
pub fn echo(value: &str) -> String {
    match visible_cut(value, ECHO_MAX_CHARS, ECHO_MAX_BYTES) {
        (shown, None) => format!("\"{shown}\""),
        (shown, Some(left)) => format!("\"{shown}…\" ({} more)", bytes(left)),
    }
}

/// The start of `value` made [`visible`], cut before the character that would make it longer
/// than `max_chars` characters of `value` or `max_bytes` bytes shown (never inside an escape),
/// and how many bytes of `value` were left out, if any. Reads no further than the cut.
pub fn visible_cut(value: &str, max_chars: usize, max_bytes: usize) -> (String, Option<usize>) {
    let mut out = String::new();
    let mut one = [0u8; 4];
    for (n, (at, c)) in value.char_indices().enumerate() {
        let shown = visible(c.encode_utf8(&mut one));
        if n == max_chars || out.len() + shown.len() > max_bytes {
            return (out, Some(value.len() - at));
        }
        out.push_str(&shown);
    }
    (out, None)
}

/// Longest title, name or line a rendered document (`show`, `report`, `check`) repeats, in
/// characters; the rest is counted (`… (9.9 MB more)`), so a 10 MB step title does not make a
/// 10 MB terminal write or a 30 MB report.
pub const FIELD_MAX_CHARS: usize = 500;

/// Longest block of text (a summary, a guide, a note, a command) a rendered document repeats,
/// in characters; the rest is counted like [`FIELD_MAX_CHARS`].
pub const BLOCK_MAX_CHARS: usize = 20_000;

/// `value` cut after `max` characters, with how much was left out: `abc… (9.9 MB more)`. Not
/// sanitised: pass the result through [`visible`] (or let [`gate`] do it on the way out).
pub fn clip(value: &str, max: usize) -> Cow<'_, str> {
    match value.char_indices().nth(max) {
        None => Cow::Borrowed(value),
        Some((cut, _)) => Cow::Owned(format!(
            "{}… ({} more)",
            &value[..cut],
            bytes(value.len() - cut)
        )),
    }
}

/// A one-line field of a document for people: [`clip`]ped to [`FIELD_MAX_CHARS`] and
/// [`visible`] (a line break in it shows as `\n`, it cannot start a line of its own).
pub fn field(value: &str) -> Cow<'_, str> {
    match clip(value, FIELD_MAX_CHARS) {
        Cow::Borrowed(b) => visible(b),
        Cow::Owned(o) => Cow::Owned(visible(&o).into_owned()),
    }
}

/// The output gate: what every command writes passes here on its way to stdout or stderr (see
/// [`print_out`], [`print_err`]). Like [`visible`], but line breaks and tabs, which a document
/// is made of, are kept; every other control character (ESC, BEL, CR, the C1 controls, ...) is
/// shown as an escape. A value a renderer forgot to sanitise still cannot drive the terminal.
pub fn gate(text: &str) -> Cow<'_, str> {
    if !text
        .chars()
        .any(|c| c.is_control() && c != '\n' && c != '\t')
    {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for part in text.split_inclusive(['\n', '\t']) {
        let (body, end) = match part.chars().last() {
            Some(c @ ('\n' | '\t')) => (&part[..part.len() - 1], Some(c)),
            _ => (part, None),
        };
        out.push_str(&visible(body));
        out.extend(end);
    }
    Cow::Owned(out)
}

/// The output gate for JSON documents: control characters other than line breaks (which
/// serde_json leaves raw only between tokens) are written as `\u00XX`, valid inside JSON strings.
/// serde_json escapes C0 controls itself but writes DEL and the C1 controls (U+0080..U+009F)
/// raw, and a terminal may obey a raw C1 control.
pub fn gate_json(text: &str) -> Cow<'_, str> {
    if !text.chars().any(|c| c.is_control() && c != '\n') {
        return Cow::Borrowed(text);
    }
    let mut out = String::with_capacity(text.len() + 8);
    for c in text.chars() {
        if c.is_control() && c != '\n' {
            out.push_str(&format!("\\u{:04x}", u32::from(c)));
        } else {
            out.push(c);
        }
    }
    Cow::Owned(out)
}

/// What a command writes on stdout: text for people (gated by [`gate`]) or a JSON document
/// (gated by [`gate_json`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Form {
    Text,
    Json,
}

/// Writes `text` to stdout through the output gate. A reader that went away (`| head -c1`)
/// is not an error: `Ok`, and the caller ends quietly. Never panics.
pub fn print_out(text: &str, form: Form) -> std::io::Result<()> {
    let gated = match form {
        Form::Text => gate(text),
        Form::Json => gate_json(text),
    };
    let mut out = std::io::stdout().lock();
    match out.write_all(gated.as_bytes()).and_then(|()| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Writes `text` and a line break to stderr through the output gate. A closed or broken stderr
/// is ignored (`eprintln!` would panic): there is nowhere left to say anything.
pub fn print_err(text: &str) {
    let mut err = std::io::stderr().lock();
    let _ = err
        .write_all(gate(text).as_bytes())
        .and_then(|()| err.write_all(b"\n"))
        .and_then(|()| err.flush());
}

/// `eprintln!` through the output gate, and without its panic on a closed stderr.
#[macro_export]
macro_rules! say_err {
    ($($arg:tt)*) => {
        $crate::text::print_err(&format!($($arg)*))
    };
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

/// A backup's size, in binary units as the Backups pane shows it: `512 B`, `4.2 KiB`,
/// `41.8 GiB` (one helper for the pane, the restore-point picker and `restore-points`).
pub fn binary_bytes(bytes: u64) -> String {
    const UNITS: [&str; 5] = ["KiB", "MiB", "GiB", "TiB", "PiB"];
    if bytes < 1024 {
        return format!("{bytes} B");
    }
    // Display only: the precision lost converting to f64 is far below one decimal.
    let mut value = bytes as f64 / 1024.0;
    let mut unit = 0;
    while value >= 1024.0 && unit + 1 < UNITS.len() {
        value /= 1024.0;
        unit += 1;
    }
    format!("{value:.1} {}", UNITS[unit])
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
    fn a_cut_bounds_the_bytes_shown_and_never_splits_an_escape() {
        // 300 ESC characters: 200 characters would be 800 bytes shown; the byte bound cuts first.
        let escapes = "\u{1b}".repeat(300);
        let echoed = echo(&escapes);
        assert!(
            echoed.len() <= ECHO_MAX_BYTES + 40,
            "{} bytes",
            echoed.len()
        );
        assert!(echoed.contains("\\x1b\\x1b…\" ("), "{echoed}");
        assert!(
            echoed.ends_with(&format!("({} more)", bytes(300 - ECHO_MAX_BYTES / 4))),
            "{echoed}"
        );
        // Four-byte characters: bounded the same way.
        let wide = "𝕏".repeat(300);
        let (shown, left) = visible_cut(&wide, 1000, 401);
        assert_eq!(shown.len(), 400);
        assert_eq!(left, Some(wide.len() - 400));
        // Plain text under both bounds is whole; at the character bound it is cut there.
        assert_eq!(visible_cut("abc", 3, 3), ("abc".to_string(), None));
        assert_eq!(visible_cut("abcd", 3, 100), ("abc".to_string(), Some(1)));
        assert_eq!(echo("a\u{7}b"), "\"a\\x07b\"");
    }

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

    #[test]
    fn the_gate_keeps_lines_and_shows_every_other_control() {
        let doc = "a\u{1b}]0;pwned\u{7}\tb\r\nc\u{9b}2J\n";
        let g = gate(doc);
        assert_eq!(g, "a\\x1b]0;pwned\\x07\tb\\r\nc\\x9b2J\n");
        assert!(matches!(gate("plain\n\tline\n"), Cow::Borrowed(_)));
        let json =
            serde_json::to_string(&serde_json::json!({"k": "x\u{1b}\u{9b}\u{7f}"})).expect("json");
        let gated = gate_json(&json);
        assert!(!gated.chars().any(char::is_control), "{gated}");
        let back: serde_json::Value = serde_json::from_str(&gated).expect("still JSON");
        assert_eq!(back["k"], "x\u{1b}\u{9b}\u{7f}");
    }

    #[test]
    fn clip_and_field_bound_a_value() {
        assert_eq!(clip("abc", 5), "abc");
        assert_eq!(clip("abcdef", 3), "abc… (3 bytes more)");
        let long = format!("x\n{}", "y".repeat(10_000_000));
        let f = field(&long);
        assert!(f.len() < FIELD_MAX_CHARS + 40, "{} bytes", f.len());
        assert!(
            f.starts_with("x\\ny") && f.ends_with("… (10.0 MB more)"),
            "{f}"
        );
    }
}
