//! Human durations as written in playbooks and environment files: `90s`, `5m`, `1h30m`, `24h`, `2d`,
//! and every duration the program prints.
//!
//! One type serves both files so that `target = "5m"` and `every = "15m"` mean the same thing
//! everywhere, and a bad value gets the same message wherever it appears.
//!
//! This module is the only duration formatter. Every form shares one style: the first unit as
//! is, every later unit on two digits (`51m01s`, `1h05m`, `2d04h`), never `51m1s`:
//!
//! - [`Dur`]'s `Display`, an objective or target as written: shortest exact form (`5m`, `1h30m`,
//!   `1m05s`);
//! - [`span`], a measured figure (RTO, step times, over-by): to the second (`2m00s`, `1h02m03s`);
//! - [`rpo_span`], a data-loss window: tenths below a minute (`3.4s`), else a [`span`];
//! - [`compact`], an age in a pane: two units (`2m05s`, `3h12m`, `2d04h`).

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// A non-negative duration with whole-second precision (finer is never needed for DR timing).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Default)]
pub struct Dur(u64);

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error(
    "bad duration {}: {why}; write a number followed by a unit, e.g. \"90s\", \"5m\", \"1h30m\", \"24h\", \"2d\"",
    crate::text::echo(.input)
)]
pub struct DurError {
    pub input: String,
    pub why: &'static str,
}

impl Dur {
    pub const ZERO: Dur = Dur(0);

    pub const fn from_secs(secs: u64) -> Self {
        Dur(secs)
    }

    pub const fn from_mins(mins: u64) -> Self {
        Dur(mins * 60)
    }

    pub const fn from_hours(hours: u64) -> Self {
        Dur(hours * 3600)
    }

    pub const fn secs(self) -> u64 {
        self.0
    }

    pub fn to_std(self) -> std::time::Duration {
        std::time::Duration::from_secs(self.0)
    }

    pub fn to_chrono(self) -> chrono::TimeDelta {
        // Saturates: u64 seconds beyond i64 are not meaningful durations here.
        i64::try_from(self.0)
            .ok()
            .and_then(chrono::TimeDelta::try_seconds)
            .unwrap_or(chrono::TimeDelta::MAX)
    }

    /// Parses `90s`, `5m`, `1h30m`, `24h`, `2d`, `500ms` is rejected (no sub-second timing).
    pub fn parse(input: &str) -> Result<Self, DurError> {
        let err = |why| DurError {
            input: input.to_string(),
            why,
        };
        let s = input.trim();
        if s.is_empty() {
            return Err(err("it is empty"));
        }
        let mut total: u64 = 0;
        let mut digits = String::new();
        let mut saw_unit = false;
        for ch in s.chars() {
            if ch.is_ascii_digit() {
                digits.push(ch);
                continue;
            }
            let unit = match ch {
                's' => 1,
                'm' => 60,
                'h' => 3600,
                'd' => 86_400,
                ' ' => continue,
                _ => return Err(err("unknown unit (use s, m, h or d)")),
            };
            if digits.is_empty() {
                return Err(err("a unit without a number before it"));
            }
            let n: u64 = digits.parse().map_err(|_| err("number too large"))?;
            total = n
                .checked_mul(unit)
                .and_then(|v| total.checked_add(v))
                .ok_or_else(|| err("number too large"))?;
            digits.clear();
            saw_unit = true;
        }
        if !digits.is_empty() {
            return Err(err("a number without a unit after it"));
        }
        if !saw_unit {
            return Err(err("no unit"));
        }
        Ok(Dur(total))
    }
}

impl FromStr for Dur {
    type Err = DurError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Dur::parse(s)
    }
}

impl fmt::Display for Dur {
    /// Shortest exact form: `90s` -> `1m30s`, `3600s` -> `1h`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let mut s = self.0;
        if s == 0 {
            return f.write_str("0s");
        }
        let d = s / 86_400;
        s %= 86_400;
        let h = s / 3600;
        s %= 3600;
        let m = s / 60;
        s %= 60;
        let mut out = String::new();
        for (n, unit) in [(d, 'd'), (h, 'h'), (m, 'm'), (s, 's')] {
            if n > 0 {
                // Later units on two digits: `1h05m`, `51m01s` (one style with `span`).
                if out.is_empty() {
                    out.push_str(&n.to_string());
                } else {
                    out.push_str(&format!("{n:02}"));
                }
                out.push(unit);
            }
        }
        f.write_str(&out)
    }
}

impl Serialize for Dur {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> Deserialize<'de> for Dur {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        Dur::parse(&s).map_err(serde::de::Error::custom)
    }
}

/// A measured span: `3s`, `2m00s`, `1h02m03s`, `2d01h02m03s`. One form for every figure.
pub fn span(secs: u64) -> String {
    let (d, h, m, s) = (
        secs / 86_400,
        (secs % 86_400) / 3600,
        (secs % 3600) / 60,
        secs % 60,
    );
    match (d, h, m) {
        (0, 0, 0) => format!("{s}s"),
        (0, 0, _) => format!("{m}m{s:02}s"),
        (0, _, _) => format!("{h}h{m:02}m{s:02}s"),
        _ => format!("{d}d{h:02}h{m:02}m{s:02}s"),
    }
}

/// An RPO in seconds: a tenth below a minute (`3.4s`), else a [`span`] rounded up.
pub fn rpo_span(secs: f64) -> String {
    if !secs.is_finite() || secs <= 0.0 {
        "0s".into()
    } else if secs < 60.0 {
        let tenths = (secs * 10.0).round() / 10.0;
        if tenths.fract() == 0.0 {
            format!("{tenths:.0}s")
        } else {
            format!("{tenths:.1}s")
        }
    } else {
        span(secs.ceil() as u64)
    }
}

/// How a measured time compares with its target or objective, in words that agree with the
/// [`span`]s shown: `over by 16m00s`, `= target`, or `None` when it is under.
pub fn over_by(actual_secs: u64, target_secs: u64) -> Option<String> {
    match actual_secs.checked_sub(target_secs) {
        Some(0) => Some("= target".into()),
        Some(over) => Some(format!("over by {}", span(over))),
        None => None,
    }
}

/// Compact clock-style rendering for panes: `4s`, `2m05s`, `3h12m`, `2d04h`.
pub fn compact(secs: u64) -> String {
    match secs {
        0..60 => format!("{secs}s"),
        60..3600 => format!("{}m{:02}s", secs / 60, secs % 60),
        3600..86_400 => format!("{}h{:02}m", secs / 3600, (secs % 3600) / 60),
        _ => format!("{}d{:02}h", secs / 86_400, (secs % 86_400) / 3600),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_units_and_combinations() {
        assert_eq!(Dur::parse("90s"), Ok(Dur::from_secs(90)));
        assert_eq!(Dur::parse("5m"), Ok(Dur::from_secs(300)));
        assert_eq!(Dur::parse("1h30m"), Ok(Dur::from_secs(5400)));
        assert_eq!(Dur::parse("2d"), Ok(Dur::from_secs(172_800)));
        assert_eq!(Dur::parse("0s"), Ok(Dur::ZERO));
    }

    #[test]
    fn rejects_bad_input_with_reason() {
        for bad in ["", "5", "m", "5x", "ms5", "-5m", "99999999999999999999s"] {
            let e = Dur::parse(bad).expect_err(bad);
            assert!(e.to_string().contains("bad duration"), "{e}");
        }
    }

    #[test]
    fn displays_shortest_exact_form() {
        assert_eq!(Dur::from_secs(90).to_string(), "1m30s");
        assert_eq!(Dur::from_secs(3600).to_string(), "1h");
        assert_eq!(Dur::from_secs(0).to_string(), "0s");
        for s in [1, 59, 61, 3599, 3601, 86_401, 90_061] {
            assert_eq!(
                Dur::parse(&Dur::from_secs(s).to_string()),
                Ok(Dur::from_secs(s))
            );
        }
    }

    #[test]
    fn one_style_everywhere() {
        // The form the issue found twice: a measured 51m01s printed as `51m1s` by `Display`.
        assert_eq!(Dur::from_secs(51 * 60 + 1).to_string(), "51m01s");
        assert_eq!(span(51 * 60 + 1), "51m01s");
        assert_eq!(compact(51 * 60 + 1), "51m01s");
        assert_eq!(Dur::from_secs(3600 + 5 * 60).to_string(), "1h05m");
        assert_eq!(Dur::from_secs(5 * 60).to_string(), "5m");
        assert_eq!(span(3600 + 2 * 60 + 3), "1h02m03s");
        assert_eq!(span(2 * 86_400 + 3600 + 2 * 60 + 3), "2d01h02m03s");
        assert_eq!(rpo_span(3.44), "3.4s");
        assert_eq!(rpo_span(61.2), "1m02s");
        assert_eq!(over_by(18 * 60, 2 * 60).as_deref(), Some("over by 16m00s"));
        assert_eq!(over_by(240, 240).as_deref(), Some("= target"));
        assert_eq!(over_by(100, 240), None);
    }

    #[test]
    fn compact_form() {
        assert_eq!(compact(4), "4s");
        assert_eq!(compact(125), "2m05s");
        assert_eq!(compact(3 * 3600 + 12 * 60), "3h12m");
        assert_eq!(compact(2 * 86_400 + 4 * 3600), "2d04h");
    }
}
