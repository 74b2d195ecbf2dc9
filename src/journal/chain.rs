//! The hash chain of a version-2 journal.
//!
//! Every line (the header included) ends with its own `sha256` field: the SHA-256, in lowercase
//! hex, of the line as it would be without that field. Exactly: a line is `X` with its closing
//! `}` replaced by `,"sha256":"<64 hex>"}`, and the hash is SHA-256 of the bytes of `X` (the JSON
//! object without the field, ending in `}`). Every event line also carries `prev`: the previous
//! line's `sha256` (event 1's is the header's). A change to any byte of a line breaks its own hash; a line
//! removed, inserted or moved breaks the next line's `prev`.

use sha2::{Digest, Sha256};

/// What ends every version-2 line before the hex digest.
const FIELD: &[u8] = b",\"sha256\":\"";

/// `,"sha256":"` + 64 hex digits + `"}`.
pub(crate) const SUFFIX_LEN: usize = FIELD.len() + 64 + 2;

/// A SHA-256 digest as 64 lowercase hex digits.
#[derive(Clone, Copy, PartialEq, Eq, Hash)]
pub struct Hex(pub(crate) [u8; 64]);

impl Hex {
    pub fn as_str(&self) -> &str {
        // Only ever built from hex digits.
        std::str::from_utf8(&self.0).unwrap_or("")
    }

    /// Parses 64 lowercase hex digits.
    pub fn parse(s: &[u8]) -> Option<Hex> {
        let digits: [u8; 64] = s.try_into().ok()?;
        digits
            .iter()
            .all(|b| matches!(b, b'0'..=b'9' | b'a'..=b'f'))
            .then_some(Hex(digits))
    }
}

impl std::fmt::Debug for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "Hex({})", self.as_str())
    }
}

impl std::fmt::Display for Hex {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.as_str())
    }
}

fn hex(digest: &[u8]) -> Hex {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = [0u8; 64];
    for (i, b) in digest.iter().take(32).enumerate() {
        out[2 * i] = DIGITS[usize::from(b >> 4)];
        out[2 * i + 1] = DIGITS[usize::from(b & 0xf)];
    }
    Hex(out)
}

/// Seals the JSON object in `buf[start..]` (which ends with `}`): replaces its closing brace
/// with `,"sha256":"<sha-256 of the object>"}` and returns the hash.
pub(crate) fn seal(buf: &mut Vec<u8>, start: usize) -> Hex {
    let digest = hex(&Sha256::digest(&buf[start..]));
    debug_assert_eq!(buf.last(), Some(&b'}'));
    buf.pop();
    buf.extend_from_slice(FIELD);
    buf.extend_from_slice(&digest.0);
    buf.extend_from_slice(b"\"}");
    digest
}

/// Why a line's own hash does not hold.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Unsealed {
    /// The line does not end with a `sha256` field.
    NoHash,
    /// It does, and the line's bytes do not hash to it: the line was changed after it was
    /// written.
    Mismatch,
}

/// A version-2 line's own hash (the line without its newline), when its bytes match it.
/// SHA-256 of `bytes`, lowercase hex.
pub(crate) fn sha256_hex(bytes: &[u8]) -> String {
    Sha256::digest(bytes)
        .iter()
        .map(|b| format!("{b:02x}"))
        .collect()
}

pub fn hash_of(line: &[u8]) -> Option<Hex> {
    check(line).ok()
}

/// Checks a line's own hash (the line without its newline); returns it.
pub(crate) fn check(line: &[u8]) -> Result<Hex, Unsealed> {
    let Some(body_len) = line.len().checked_sub(SUFFIX_LEN) else {
        return Err(Unsealed::NoHash);
    };
    let (body, suffix) = line.split_at(body_len);
    if !suffix.starts_with(FIELD) || !suffix.ends_with(b"\"}") {
        return Err(Unsealed::NoHash);
    }
    let Some(found) = Hex::parse(&suffix[FIELD.len()..FIELD.len() + 64]) else {
        return Err(Unsealed::NoHash);
    };
    let mut h = Sha256::new();
    h.update(body);
    h.update(b"}");
    if hex(&h.finalize()) == found {
        Ok(found)
    } else {
        Err(Unsealed::Mismatch)
    }
}

/// `line` starts with one whole JSON value (whatever follows it). A line torn by a crash is a
/// strict prefix of a line, which never holds a whole JSON object: so an unterminated last line
/// that starts with one was changed (its newline replaced, bytes added), not torn.
pub(crate) fn is_complete_json(line: &[u8]) -> bool {
    matches!(
        serde_json::Deserializer::from_slice(line)
            .into_iter::<serde::de::IgnoredAny>()
            .next(),
        Some(Ok(_))
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn seal_then_check_and_any_byte_breaks_it() {
        let mut buf = b"xx{\"a\":1}".to_vec();
        let h = seal(&mut buf, 2);
        let line = &buf[2..];
        assert_eq!(
            h.as_str(),
            // sha256 of {"a":1}
            "015abd7f5cc57a2dd94b7590f04ad8084273905ee33ec5cebeae62276a97f862"
        );
        assert!(line.ends_with(format!(",\"sha256\":\"{h}\"}}").as_bytes()));
        assert_eq!(check(line), Ok(h));
        for i in 0..line.len() {
            let mut bad = line.to_vec();
            bad[i] ^= 0x01;
            assert!(check(&bad).is_err(), "byte {i}");
        }
        assert_eq!(check(b"{\"a\":1}"), Err(Unsealed::NoHash));
    }
}
