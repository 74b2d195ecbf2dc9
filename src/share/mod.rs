//! The shared war room (issue 11): the incident's journal mirrored to an S3-compatible object
//! store, joined read-only from other machines, and signed requests (notes) from the people
//! who joined.
//!
//! The driver's local, fsynced journal stays the source of truth. [`mirror`] copies each of its
//! lines, byte for byte, to `<prefix>/<incident>/events/<seq>.json` with a create-only
//! conditional put, in order, off the UI thread; when the store cannot be reached the console
//! keeps working and shows how far the shared log is behind, and the mirror backfills in order
//! when the store returns. [`join`] reads the shared log back into a local copy that the
//! follower machinery tails. [`sig`] and [`request`] sign and verify requests in OpenSSH's
//! SSHSIG format against a roster in `allowed_signers` format.
//!
//! The object layout is documented in docs/journal.md ("The shared log").

pub mod agent;
pub mod ingest;
pub mod join;
pub mod lease;
pub mod mirror;
pub mod panes;
pub mod request;
pub mod sig;
pub mod store;

use std::fmt;
use std::path::PathBuf;

use serde::Deserialize;

/// Where a shared log lives: `s3://BUCKET/PREFIX` (the prefix may be empty).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ShareUrl {
    pub bucket: String,
    /// Without leading or trailing `/`; empty for the bucket's root.
    pub prefix: String,
}

/// Why a share URL was refused.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum UrlError {
    #[error("{0}: not an s3:// URL (write s3://BUCKET/PREFIX)")]
    Scheme(String),
    #[error("{0}: no bucket name (write s3://BUCKET/PREFIX)")]
    NoBucket(String),
    #[error("{0}: a path segment is empty, `.` or `..`")]
    BadSegment(String),
}

impl ShareUrl {
    pub fn parse(text: &str) -> Result<Self, UrlError> {
        let echoed = crate::text::echo(text);
        let rest = text
            .strip_prefix("s3://")
            .ok_or_else(|| UrlError::Scheme(echoed.clone()))?;
        let rest = rest.trim_end_matches('/');
        let (bucket, prefix) = rest.split_once('/').unwrap_or((rest, ""));
        if bucket.is_empty() {
            return Err(UrlError::NoBucket(echoed));
        }
        if !prefix.is_empty()
            && prefix
                .split('/')
                .any(|s| s.is_empty() || s == "." || s == "..")
        {
            return Err(UrlError::BadSegment(echoed));
        }
        if text.chars().any(char::is_control) {
            return Err(UrlError::BadSegment(echoed));
        }
        Ok(ShareUrl {
            bucket: bucket.to_string(),
            prefix: prefix.to_string(),
        })
    }

    /// The key of `rest` under the prefix.
    pub fn key(&self, rest: &str) -> String {
        if self.prefix.is_empty() {
            rest.to_string()
        } else {
            format!("{}/{rest}", self.prefix)
        }
    }

    /// The same bucket one level down (`s3://b/p` + `x` = `s3://b/p/x`).
    pub fn child(&self, name: &str) -> ShareUrl {
        ShareUrl {
            bucket: self.bucket.clone(),
            prefix: self.key(name),
        }
    }

    /// One level up (`s3://b/p/x` -> `s3://b/p`).
    pub fn parent(&self) -> ShareUrl {
        ShareUrl {
            bucket: self.bucket.clone(),
            prefix: self
                .prefix
                .rsplit_once('/')
                .map(|(p, _)| p.to_string())
                .unwrap_or_default(),
        }
    }

    /// The last path segment (the incident, for an incident's URL).
    pub fn last_segment(&self) -> &str {
        self.prefix.rsplit('/').next().unwrap_or_default()
    }
}

impl fmt::Display for ShareUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.prefix.is_empty() {
            write!(f, "s3://{}", self.bucket)
        } else {
            write!(f, "s3://{}/{}", self.bucket, self.prefix)
        }
    }
}

/// An incident's objects under the share URL (see docs/journal.md, "The shared log").
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IncidentKeys {
    /// `<prefix>/<incident>`.
    pub base: String,
}

/// Digits of an event's sequence number in its key: keys list in sequence order.
pub const SEQ_DIGITS: usize = 12;

impl IncidentKeys {
    pub fn new(url: &ShareUrl, incident: &str) -> Self {
        IncidentKeys {
            base: url.key(incident),
        }
    }
    /// The journal's header line.
    pub fn header(&self) -> String {
        format!("{}/header.json", self.base)
    }
    /// Where every event line goes: `events/<seq, 12 digits>.json`.
    pub fn events_dir(&self) -> String {
        format!("{}/events/", self.base)
    }
    pub fn event(&self, seq: u64) -> String {
        format!(
            "{}/events/{seq:0width$}.json",
            self.base,
            width = SEQ_DIGITS
        )
    }
    /// The sequence number of an event key, if it is one.
    pub fn seq_of(&self, key: &str) -> Option<u64> {
        key.strip_prefix(&self.events_dir())?
            .strip_suffix(".json")?
            .parse()
            .ok()
    }
    /// The driver's panes, at most every 5 s (not part of the log).
    pub fn panes(&self) -> String {
        format!("{}/panes.json", self.base)
    }
    /// The driver's lease (command of the incident).
    pub fn lease(&self) -> String {
        format!("{}/lease.json", self.base)
    }
    pub fn requests_dir(&self) -> String {
        format!("{}/requests/", self.base)
    }
    pub fn request(&self, id: &str) -> String {
        format!("{}/requests/{id}.json", self.base)
    }
}

/// The incident's name in the shared log: its journal file's name without `.jsonl`.
pub fn incident_name(journal: &std::path::Path) -> Option<String> {
    journal
        .file_stem()
        .and_then(|s| s.to_str())
        .filter(|s| !s.is_empty() && s.chars().all(|c| c.is_ascii_graphic() && c != '/'))
        .map(str::to_string)
}

/// `[share]` in the environment file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ShareSettings {
    /// `s3://BUCKET/PREFIX`; `--share URL` takes precedence.
    pub url: Option<String>,
    /// The bucket's region (default us-east-1).
    pub region: Option<String>,
    /// Named AWS profile for the store's credentials.
    pub profile: Option<String>,
    /// An S3-compatible endpoint (MinIO, Ceph, an emulator). `--endpoint-url` and
    /// `AWS_ENDPOINT_URL` take precedence, then `[aws] endpoint_url`.
    pub endpoint_url: Option<String>,
    /// The roster: OpenSSH `allowed_signers` file (relative to the environment file).
    pub roster: Option<PathBuf>,
    /// The roles each principal of the roster may take: `"alice@example" = ["scribe"]`.
    #[serde(default)]
    pub roles: std::collections::BTreeMap<String, Vec<request::Role>>,
}

/// The region a share's bucket is signed for when none is given.
pub const DEFAULT_REGION: &str = "us-east-1";

/// `[policy]` in the environment file.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Policy {
    /// In a LIVE incident every destructive step needs this many approvals from people other
    /// than the driver (the two-person rule), whatever the playbook says.
    #[serde(default)]
    pub destructive_approvals: u32,
}
