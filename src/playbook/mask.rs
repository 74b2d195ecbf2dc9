//! Secret masking for text a step prints: every form a secret is commonly printed in.
//!
//! A step's output may echo what it was given. [`Masker`] replaces, in each output line:
//!
//! - the secret as written, and in any ASCII case (`HUNTER2`, `Hunter2`; for a secret with
//!   non-ASCII letters also its Unicode upper- and lower-cased forms);
//! - URL-encoded: any mix of `%XX` escapes (hex digits in either case: `%2F`, `%2f`) and literal
//!   characters, with `+` standing for a space;
//! - base64, standard (`+/`) and URL-safe (`-_`), padded or not, alone or embedded in a longer
//!   encoded string: a secret starting at byte offset 0, 1 or 2 of a 3-byte group encodes to a
//!   different run of characters, and only the characters whose 6 bits come entirely from the
//!   secret are the same whatever surrounds it (the "stable middle"); those runs are masked, for
//!   each of the three alignments and both alphabets (a base64 string that is itself URL-encoded,
//!   `%2B`, is caught too);
//! - a secret split by escape sequences or other control characters (`hun\x1b[0mter2`): the line
//!   is matched again with control sequences removed and, if that finds a secret, the masked
//!   text without them is what remains (it was going to be shown with visible escapes anyway);
//! - a secret split across two consecutive lines (a wrapped line: `fold`, `base64` at 76
//!   columns): the end of a line that begins a secret (3 characters or more) is masked, and the
//!   start of the next line that completes a secret begun on the line before is masked, so at
//!   most the first two characters of a secret are ever shown.
//!
//! A split across output *chunks* needs nothing here: the executor assembles lines from the pipe
//! before anything is masked (`actions::run`), never masking raw chunks.
//!
//! # Bounded work
//!
//! Output lines are capped (`actions::run::LINE_CAP`); the matcher tries each pattern at each
//! position and gives up at the first byte that does not match, so a line costs at most
//! `line length x pattern length` byte comparisons per pattern, usually about `line length`.
//! Encoded variants are derived only for secrets up to [`VARIANT_MAX`] bytes (longer values are
//! still masked as written and in any case). Base64 runs shorter than [`MIN_DERIVED`] characters
//! are not used (a secret of 1 or 2 bytes would mask random text).

use super::model::MASK;

/// Longest secret for which encoded variants (URL, base64) are derived.
pub const VARIANT_MAX: usize = 512;

/// Shortest derived pattern (a base64 run) that is matched; also the shortest beginning of a
/// secret masked at the end of a line.
pub const MIN_DERIVED: usize = 3;

/// The patterns of a playbook's secret values, built once.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Masker {
    /// Byte strings matched case-insensitively (ASCII), through `%XX` escapes and `+` for space.
    patterns: Vec<Vec<u8>>,
    /// The bytes a match can begin with (a pattern's first byte in either case, `%`, `+`): the
    /// matcher skips every other position at once.
    first: FirstBytes,
}

#[derive(Debug, Clone, PartialEq, Eq)]
struct FirstBytes([bool; 256]);

impl Default for FirstBytes {
    fn default() -> Self {
        FirstBytes([false; 256])
    }
}

impl FirstBytes {
    fn of(patterns: &[Vec<u8>]) -> Self {
        let mut set = [false; 256];
        for p in patterns {
            if let Some(&b) = p.first() {
                set[usize::from(b.to_ascii_lowercase())] = true;
                set[usize::from(b.to_ascii_uppercase())] = true;
                set[usize::from(b'%')] = true;
                if b == b' ' {
                    set[usize::from(b'+')] = true;
                }
            }
        }
        FirstBytes(set)
    }

    fn may_start(&self, b: u8) -> bool {
        self.0[usize::from(b)]
    }
}

/// The carry between two lines of one stream: the end of the previous line, for a secret split
/// across the line break.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Carry {
    tail: Vec<u8>,
}

impl Masker {
    /// Patterns for these secret values (empty values are ignored).
    pub fn new<'a>(secrets: impl IntoIterator<Item = &'a str>) -> Masker {
        let mut patterns: Vec<Vec<u8>> = Vec::new();
        let add = |p: Vec<u8>, patterns: &mut Vec<Vec<u8>>| {
            if !p.is_empty() && !patterns.iter().any(|q| q.eq_ignore_ascii_case(&p)) {
                patterns.push(p);
            }
        };
        for secret in secrets {
            if secret.is_empty() {
                continue;
            }
            add(secret.as_bytes().to_vec(), &mut patterns);
            if secret.len() > VARIANT_MAX {
                continue;
            }
            add(secret.to_uppercase().into_bytes(), &mut patterns);
            add(secret.to_lowercase().into_bytes(), &mut patterns);
            for run in base64_runs(secret.as_bytes()) {
                if run.len() >= MIN_DERIVED.max(4) {
                    add(run, &mut patterns);
                }
            }
        }
        // Longest first: where two patterns match at one place, the longer one is masked.
        patterns.sort_by_key(|p| std::cmp::Reverse(p.len()));
        let first = FirstBytes::of(&patterns);
        Masker { patterns, first }
    }

    pub fn is_empty(&self) -> bool {
        self.patterns.is_empty()
    }

    /// `line` with every secret form replaced by [`MASK`] (see the module documentation), on
    /// its own (no line before it).
    pub fn mask(&self, line: &str) -> String {
        self.mask_line(line, &mut Carry::default())
    }

    /// `line` masked, `carry` holding what the previous line of the same output left open; it
    /// is updated for the next line.
    pub fn mask_line(&self, line: &str, carry: &mut Carry) -> String {
        if self.patterns.is_empty() {
            return line.to_string();
        }
        let stripped = strip_controls(line);
        let bytes: &[u8] = if stripped.len() == line.len() {
            line.as_bytes()
        } else {
            stripped.as_bytes()
        };
        let mut ranges = self.find(bytes);
        // A secret begun at the end of the previous line and completed here.
        if let Some(end) = self.completes(&carry.tail, bytes) {
            ranges.push((0, end));
        }
        // The beginning of a secret at the end of this line (before the executor's mark of a
        // line cut at its cap, which a secret may straddle).
        let body = bytes
            .strip_suffix(crate::actions::run::TRUNCATED_SUFFIX.as_bytes())
            .unwrap_or(bytes);
        if let Some(start) = self.begins_at_end(body) {
            ranges.push((start, body.len()));
        }
        carry.tail = tail(bytes, self.longest_encoded());
        if ranges.is_empty() {
            return line.to_string();
        }
        replace(bytes, ranges)
    }

    /// Longest text one pattern can match (every byte as `%XX`).
    fn longest_encoded(&self) -> usize {
        self.patterns.first().map_or(0, |p| p.len() * 3)
    }

    /// Every match, leftmost first, not overlapping.
    fn find(&self, line: &[u8]) -> Vec<(usize, usize)> {
        let mut ranges = Vec::new();
        let mut i = 0;
        while i < line.len() {
            if !self.first.may_start(line[i]) {
                i += 1;
                continue;
            }
            let hit = self
                .patterns
                .iter()
                .find_map(|p| match_at(line, i, p).map(|end| (i, end)));
            match hit {
                Some((start, end)) => {
                    ranges.push((start, end));
                    i = end;
                }
                None => i += 1,
            }
        }
        ranges
    }

    /// Where, in `line`, a secret that began in `before` (the previous line's end) ends.
    fn completes(&self, before: &[u8], line: &[u8]) -> Option<usize> {
        if before.is_empty() || line.is_empty() {
            return None;
        }
        let mut joined = before.to_vec();
        joined.extend_from_slice(line);
        let mut best = None;
        for start in 0..before.len() {
            if !self.first.may_start(joined[start]) {
                continue;
            }
            for p in &self.patterns {
                if let Some(end) = match_at(&joined, start, p)
                    && end > before.len()
                {
                    best = Some(best.map_or(end, |b: usize| b.max(end)));
                }
            }
        }
        best.map(|end| end - before.len())
    }

    /// Where a beginning of a secret (at least [`MIN_DERIVED`] bytes, not the whole) that runs
    /// to the end of `line` starts.
    fn begins_at_end(&self, line: &[u8]) -> Option<usize> {
        let mut earliest: Option<usize> = None;
        for p in &self.patterns {
            for len in (MIN_DERIVED..p.len()).rev() {
                if len > line.len() {
                    continue;
                }
                let start = line.len() - len;
                // Cheap rejections first: the first and the last byte.
                if line[start].eq_ignore_ascii_case(&p[0])
                    && line[line.len() - 1].eq_ignore_ascii_case(&p[len - 1])
                    && line[start..].eq_ignore_ascii_case(&p[..len])
                {
                    earliest = Some(earliest.map_or(start, |e| e.min(start)));
                    break;
                }
            }
        }
        earliest
    }
}

/// The end of the pattern `p` matched at `line[start..]`, if it matches there: bytes compared
/// ASCII-case-insensitively, a `%XX` escape (either hex case) standing for its byte, `+` for a
/// space.
fn match_at(line: &[u8], start: usize, p: &[u8]) -> Option<usize> {
    let mut j = start;
    for &want in p {
        let &got = line.get(j)?;
        if got.eq_ignore_ascii_case(&want) {
            j += 1;
        } else if got == b'%'
            && let Some(decoded) = hex_pair(line.get(j + 1..j + 3)?)
            && decoded.eq_ignore_ascii_case(&want)
        {
            j += 3;
        } else if got == b'+' && want == b' ' {
            j += 1;
        } else {
            return None;
        }
    }
    Some(j)
}

fn hex_pair(pair: &[u8]) -> Option<u8> {
    let digit = |b: u8| (b as char).to_digit(16);
    match pair {
        [h, l] => Some(u8::try_from(digit(*h)? * 16 + digit(*l)?).ok()?),
        _ => None,
    }
}

/// The last `n` bytes of `bytes` (all of them if shorter).
fn tail(bytes: &[u8], n: usize) -> Vec<u8> {
    bytes[bytes.len().saturating_sub(n)..].to_vec()
}

/// `bytes` with the ranges (possibly overlapping, any order) replaced by [`MASK`], adjacent
/// masked ranges shown as one mask.
fn replace(bytes: &[u8], mut ranges: Vec<(usize, usize)>) -> String {
    ranges.sort_unstable();
    let mut out = Vec::with_capacity(bytes.len());
    // The end of the last mask written.
    let mut masked_to: Option<usize> = None;
    for (start, end) in ranges {
        match masked_to {
            Some(to) if start <= to => masked_to = Some(to.max(end)),
            _ => {
                let from = masked_to.unwrap_or(0);
                out.extend_from_slice(&bytes[from..start]);
                out.extend_from_slice(MASK.as_bytes());
                masked_to = Some(end);
            }
        }
    }
    out.extend_from_slice(&bytes[masked_to.unwrap_or(0).min(bytes.len())..]);
    String::from_utf8_lossy(&out).into_owned()
}

/// `line` without terminal control sequences (CSI, OSC, DCS and other `ESC` sequences, their
/// 8-bit C1 forms) and without other control characters (tab kept).
pub fn strip_controls(line: &str) -> String {
    let mut out = String::with_capacity(line.len());
    let mut chars = line.chars().peekable();
    while let Some(c) = chars.next() {
        match c {
            '\u{1b}' => match chars.next() {
                // CSI: parameters and intermediates up to a final byte 0x40..=0x7E.
                Some('[') => skip_csi(&mut chars),
                // OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \).
                Some(']' | 'P' | 'X' | '^' | '_') => skip_string(&mut chars),
                // A two-character escape (ESC 7, ESC c, ESC ( B ...): drop the next one.
                Some(_) | None => {}
            },
            '\u{9b}' => skip_csi(&mut chars),
            '\u{9d}' | '\u{90}' | '\u{98}' | '\u{9e}' | '\u{9f}' => skip_string(&mut chars),
            '\t' => out.push(c),
            c if c.is_control() => {}
            c => out.push(c),
        }
    }
    out
}

fn skip_csi(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    for c in chars.by_ref() {
        if ('\u{40}'..='\u{7e}').contains(&c) {
            return;
        }
    }
}

fn skip_string(chars: &mut std::iter::Peekable<std::str::Chars<'_>>) {
    while let Some(c) = chars.next() {
        match c {
            '\u{7}' | '\u{9c}' => return,
            '\u{1b}' => {
                if chars.peek() == Some(&'\\') {
                    chars.next();
                }
                return;
            }
            _ => {}
        }
    }
}

const STANDARD: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
const URL_SAFE: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// The base64 characters that depend only on `secret`, for each of its three alignments in a
/// 3-byte group and both alphabets.
fn base64_runs(secret: &[u8]) -> Vec<Vec<u8>> {
    let mut runs = Vec::new();
    for offset in 0..3usize {
        let mut input = vec![0u8; offset];
        input.extend_from_slice(secret);
        let bits_from = offset * 8;
        let bits_to = bits_from + secret.len() * 8;
        // Character i holds bits 6i..6i+6: stable when they lie inside the secret's bits.
        let first = bits_from.div_ceil(6);
        let last = bits_to / 6;
        if first >= last {
            continue;
        }
        for alphabet in [STANDARD, URL_SAFE] {
            let encoded = encode(&input, alphabet);
            if let Some(run) = encoded.get(first..last) {
                runs.push(run.to_vec());
            }
        }
    }
    runs
}

/// Base64 without padding.
fn encode(input: &[u8], alphabet: &[u8; 64]) -> Vec<u8> {
    let mut out = Vec::with_capacity(input.len().div_ceil(3) * 4);
    for group in input.chunks(3) {
        let b = [
            group[0],
            group.get(1).copied().unwrap_or(0),
            group.get(2).copied().unwrap_or(0),
        ];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        let chars = group.len() + 1;
        for k in 0..chars {
            let index = (n >> (18 - 6 * k)) & 63;
            out.push(alphabet[index as usize]);
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const SECRET: &str = "s3cr3t/Tok+en hunter2";

    fn m() -> Masker {
        Masker::new([SECRET])
    }

    fn std_b64(bytes: &[u8]) -> String {
        let mut s = String::from_utf8(encode(bytes, STANDARD)).unwrap_or_default();
        while s.len() % 4 != 0 {
            s.push('=');
        }
        s
    }

    fn url_b64(bytes: &[u8]) -> String {
        String::from_utf8(encode(bytes, URL_SAFE)).unwrap_or_default()
    }

    #[test]
    fn encoder_matches_known_vectors() {
        assert_eq!(std_b64(b"foobar"), "Zm9vYmFy");
        assert_eq!(std_b64(b"fooba"), "Zm9vYmE=");
        assert_eq!(std_b64(b"f"), "Zg==");
        assert_eq!(url_b64(&[0xfb, 0xff]), "-_8");
    }

    #[test]
    fn exact_and_case_variants() {
        for form in [
            SECRET.to_string(),
            SECRET.to_uppercase(),
            SECRET.to_lowercase(),
            "S3Cr3T/tOK+EN HUNter2".to_string(),
        ] {
            let out = m().mask(&format!("token={form};"));
            assert_eq!(out, format!("token={MASK};"), "{form}");
        }
    }

    #[test]
    fn url_encoded_variants() {
        let upper = "s3cr3t%2FTok%2Ben+hunter2";
        let lower = "s3cr3t%2fTok%2ben%20hunter2";
        let all = SECRET
            .bytes()
            .map(|b| format!("%{b:02X}"))
            .collect::<String>();
        for form in [upper, lower, &all, &upper.to_uppercase()] {
            let out = m().mask(&format!("GET /x?t={form}&y=1"));
            assert_eq!(out, format!("GET /x?t={MASK}&y=1"), "{form}");
        }
    }

    #[test]
    fn base64_at_every_alignment_both_alphabets() {
        for prefix in ["", "a", "ab", "abc", "user:"] {
            for suffix in ["", "\n", "x", "xy"] {
                let whole = format!("{prefix}{SECRET}{suffix}");
                for encoded in [std_b64(whole.as_bytes()), url_b64(whole.as_bytes())] {
                    let out = m().mask(&format!("Authorization: Basic {encoded}"));
                    // No 6 characters of any alignment's encoding of the secret remain.
                    assert!(out.contains(MASK), "{prefix:?} {suffix:?}: {out}");
                    for run in base64_runs(SECRET.as_bytes()) {
                        for window in run.windows(6) {
                            let window = String::from_utf8_lossy(window);
                            assert!(!out.contains(&*window), "{prefix:?}{suffix:?}: {out}");
                        }
                    }
                }
            }
        }
    }

    #[test]
    fn split_by_escape_sequences() {
        for line in [
            "x s3cr3t/Tok\u{1b}[0m+en hunter2 y",
            "x s3cr3t/\u{1b}]0;title\u{7}Tok+en hunter2 y",
            "x s3c\u{8}r3t/Tok+en hun\rter2 y",
            "x \u{1b}[1ms3cr3t/Tok+en \u{1b}[31mhunter2\u{1b}[0m y",
        ] {
            assert_eq!(m().mask(line), format!("x {MASK} y"), "{line:?}");
        }
        // Without a secret, escape sequences are left for the display to show visibly.
        assert_eq!(m().mask("a\u{1b}[31mb"), "a\u{1b}[31mb");
    }

    #[test]
    fn split_across_two_lines() {
        let masker = m();
        for cut in 1..SECRET.len() {
            let mut carry = Carry::default();
            let first = masker.mask_line(&format!("begin {}", &SECRET[..cut]), &mut carry);
            let second = masker.mask_line(&format!("{} end", &SECRET[cut..]), &mut carry);
            // Whatever is visible of the secret is at most its first two characters.
            let visible: usize = [
                first.trim_start_matches("begin "),
                second.trim_end_matches(" end"),
            ]
            .iter()
            .map(|s| s.replace(MASK, "").len())
            .sum();
            assert!(visible <= 2, "cut {cut}: {first:?} / {second:?}");
        }
    }

    #[test]
    fn base64_wrapped_across_lines() {
        let long = "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ-secret-value";
        let masker = Masker::new([long]);
        let encoded = std_b64(format!("{long}\n").as_bytes());
        let (a, b) = encoded.split_at(76);
        let mut carry = Carry::default();
        let first = masker.mask_line(a, &mut carry);
        let second = masker.mask_line(b, &mut carry);
        let core = &encoded[4..encoded.len() - 8];
        let shown = format!("{first}{second}");
        assert!(!shown.contains(&core[..20]), "{first} / {second}");
        assert!(
            first.ends_with(MASK) && second.starts_with(MASK),
            "{first} / {second}"
        );
    }

    #[test]
    fn a_secret_cut_by_the_line_cap_is_masked() {
        let line = format!(
            "x {}{}",
            &SECRET[..8],
            crate::actions::run::TRUNCATED_SUFFIX
        );
        assert_eq!(
            m().mask(&line),
            format!("x {MASK}{}", crate::actions::run::TRUNCATED_SUFFIX)
        );
    }

    #[test]
    fn leaves_other_text_alone() {
        let masker = m();
        for line in ["", "nothing here", "s3", "s3c x", "%zz %2", "a+b", "ZZZZ"] {
            assert_eq!(masker.mask(line), line);
        }
        assert!(Masker::new([""]).is_empty());
    }

    #[test]
    fn short_secrets_do_not_derive_tiny_patterns() {
        let masker = Masker::new(["ab"]);
        assert_eq!(masker.mask("xabx"), format!("x{MASK}x"));
        // "ab" in base64 is YWI: not masked as a derived pattern.
        assert_eq!(masker.mask("Y W I YW"), "Y W I YW");
    }

    #[test]
    fn strips_controls() {
        assert_eq!(
            strip_controls("a\u{1b}[1;31mb\u{1b}]52;c;x\u{7}c\u{9b}2Jd\te"),
            "abcd\te"
        );
        assert_eq!(strip_controls("a\u{1b}]0;t\u{1b}\\b"), "ab");
        assert_eq!(strip_controls("a\u{1b}"), "a");
    }
}
