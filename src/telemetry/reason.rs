//! Why a source (or one target it polls: a database, a health URL) could not be read, as a type:
//! `status`, the panes and the log all say the same reason, and `status` exits 1 on any of them.
//!
//! Details come from servers and libraries (input): they are made visible (no control
//! characters) and bounded when the reason is built, so every output can print them as they are.

use std::fmt;
use std::time::Duration;

use serde::{Deserialize, Serialize};

/// Longest detail kept, in characters (a server's message can be anything).
pub const DETAIL_MAX_CHARS: usize = 200;

/// Why something could not be read.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum FailureReason {
    /// The server refused our credentials (PostgreSQL SQLSTATE 28P01 / 28000, a password it
    /// asks for and we do not have, AWS credential errors).
    AuthRefused { detail: Option<String> },
    /// Nothing listens there (TCP connection refused, no unix socket).
    ConnectionRefused,
    /// No answer within the limit.
    Timeout { after_ms: u64 },
    /// The host name does not resolve.
    Dns { detail: String },
    /// The TLS handshake failed (certificate, protocol).
    Tls { detail: String },
    /// The server answered with an error other than authentication (SQLSTATE and message).
    Server { code: String, detail: String },
    /// Anything else (a reset connection, an unexpected answer, a crashed poller).
    Other { detail: String },
}

impl FailureReason {
    pub fn timeout(after: Duration) -> Self {
        FailureReason::Timeout {
            after_ms: u64::try_from(after.as_millis()).unwrap_or(u64::MAX),
        }
    }

    pub fn other(detail: impl AsRef<str>) -> Self {
        FailureReason::Other {
            detail: clean(detail.as_ref()),
        }
    }

    pub fn dns(detail: impl AsRef<str>) -> Self {
        FailureReason::Dns {
            detail: clean(detail.as_ref()),
        }
    }

    pub fn tls(detail: impl AsRef<str>) -> Self {
        FailureReason::Tls {
            detail: clean(detail.as_ref()),
        }
    }

    pub fn auth(detail: Option<&str>) -> Self {
        FailureReason::AuthRefused {
            detail: detail.map(clean),
        }
    }

    pub fn server(code: &str, detail: &str) -> Self {
        FailureReason::Server {
            code: clean(code),
            detail: clean(detail),
        }
    }

    /// The short form for a pane's row: `authentication refused`, `timeout after 3.5s`.
    pub fn short(&self) -> String {
        match self {
            FailureReason::AuthRefused { .. } => "authentication refused".to_string(),
            FailureReason::ConnectionRefused => "connection refused".to_string(),
            FailureReason::Timeout { after_ms } => format!("timeout after {}", secs(*after_ms)),
            FailureReason::Dns { .. } => "DNS failure".to_string(),
            FailureReason::Tls { .. } => "TLS error".to_string(),
            FailureReason::Server { code, .. } => format!("server error {code}"),
            FailureReason::Other { detail } => detail.clone(),
        }
    }

    /// The detail after the short form, if any.
    pub fn detail(&self) -> Option<&str> {
        match self {
            FailureReason::AuthRefused { detail } => detail.as_deref(),
            FailureReason::Dns { detail }
            | FailureReason::Tls { detail }
            | FailureReason::Server { detail, .. } => Some(detail),
            FailureReason::ConnectionRefused
            | FailureReason::Timeout { .. }
            | FailureReason::Other { .. } => None,
        }
    }

    /// Classifies an I/O error from connecting or talking to a server; `None` for kinds that
    /// say nothing more than the error's own text.
    pub fn from_io(e: &std::io::Error, timeout: Duration) -> Option<Self> {
        use std::io::ErrorKind;
        match e.kind() {
            ErrorKind::ConnectionRefused | ErrorKind::NotFound => {
                Some(FailureReason::ConnectionRefused)
            }
            ErrorKind::TimedOut => Some(FailureReason::timeout(timeout)),
            _ => None,
        }
    }
}

/// `3s`, `3.5s`.
fn secs(ms: u64) -> String {
    if ms % 1000 == 0 {
        format!("{}s", ms / 1000)
    } else {
        format!("{:.1}s", ms as f64 / 1000.0)
    }
}

impl fmt::Display for FailureReason {
    /// `authentication refused (password authentication failed for user "app")`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.short())?;
        match self.detail() {
            Some(d) if !d.is_empty() => write!(f, " ({d})"),
            _ => Ok(()),
        }
    }
}

/// One line, visible, bounded: what a detail may contain.
pub fn clean(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    let visible = crate::text::visible(&one_line);
    match visible.char_indices().nth(DETAIL_MAX_CHARS) {
        None => visible.into_owned(),
        Some((cut, _)) => format!("{}…", &visible[..cut]),
    }
}

/// The innermost I/O error in an error's chain, if any.
pub fn io_in_chain<'a>(e: &'a (dyn std::error::Error + 'static)) -> Option<&'a std::io::Error> {
    let mut next = Some(e);
    let mut found = None;
    while let Some(err) = next {
        if let Some(io) = err.downcast_ref::<std::io::Error>() {
            found = Some(io);
        }
        next = err.source();
    }
    found
}

/// The innermost message of an error's chain.
pub fn root_cause(e: &(dyn std::error::Error + 'static)) -> String {
    let mut err = e;
    while let Some(inner) = err.source() {
        err = inner;
    }
    err.to_string()
}

/// Something a source polls that could not be read, as `status` lists it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Failure {
    /// The source (`postgres primary`, `http dr`, `aws rds us-west-2`).
    pub source: String,
    /// What in it failed (a database's logical name, a URL), when not the whole source.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub target: Option<String>,
    pub reason: FailureReason,
    /// One line for people: `unreachable: authentication refused (...)`.
    pub message: String,
}

impl fmt::Display for Failure {
    /// `postgres primary: unreachable: ...`, `http dr http://...: no answer: ...`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.target {
            Some(t) if !self.source.ends_with(t.as_str()) => {
                write!(f, "{} {}: {}", self.source, clean(t), self.message)
            }
            _ => write!(f, "{}: {}", self.source, self.message),
        }
    }
}

/// The failures inside a successful sample: databases the source could not read, health URLs
/// that gave no HTTP answer.
pub fn failures_in(source: &str, sample: &super::Sample) -> Vec<Failure> {
    let dbs = sample.databases.iter().filter_map(|d| {
        d.failure.as_ref().map(|r| Failure {
            source: source.to_string(),
            target: Some(d.name.clone()),
            reason: r.clone(),
            message: format!("unreachable: {r}"),
        })
    });
    let endpoints = sample.endpoints.iter().filter_map(|e| {
        e.failure.as_ref().map(|r| Failure {
            source: source.to_string(),
            target: Some(e.url.clone()),
            reason: r.clone(),
            message: format!("no answer: {r}"),
        })
    });
    dbs.chain(endpoints).collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn short_and_long_forms() {
        assert_eq!(
            FailureReason::timeout(Duration::from_millis(3500)).to_string(),
            "timeout after 3.5s"
        );
        assert_eq!(
            FailureReason::timeout(Duration::from_secs(2)).to_string(),
            "timeout after 2s"
        );
        let auth = FailureReason::auth(Some("password authentication failed for user \"x\""));
        assert_eq!(auth.short(), "authentication refused");
        assert_eq!(
            auth.to_string(),
            "authentication refused (password authentication failed for user \"x\")"
        );
        assert_eq!(
            FailureReason::ConnectionRefused.to_string(),
            "connection refused"
        );
    }

    #[test]
    fn details_are_visible_one_line_and_bounded() {
        let r = FailureReason::server("XX000", "bad\x1b]52;c;QQ==\x07\nnews");
        let text = r.to_string();
        assert!(!text.contains('\x1b') && !text.contains('\x07'), "{text}");
        assert!(text.contains("\\x1b"), "{text}");
        let long = FailureReason::other("x".repeat(10_000));
        assert!(long.to_string().chars().count() <= DETAIL_MAX_CHARS + 1);
    }

    #[test]
    fn io_kinds() {
        use std::io::{Error, ErrorKind};
        let t = Duration::from_secs(3);
        assert_eq!(
            FailureReason::from_io(&Error::from(ErrorKind::ConnectionRefused), t),
            Some(FailureReason::ConnectionRefused)
        );
        assert_eq!(
            FailureReason::from_io(&Error::from(ErrorKind::TimedOut), t),
            Some(FailureReason::timeout(t))
        );
        assert_eq!(
            FailureReason::from_io(&Error::from(ErrorKind::Other), t),
            None
        );
    }
}
