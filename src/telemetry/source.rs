//! A source of readings (the simulator, a PostgreSQL server, a directory of dumps, an HTTP
//! endpoint, an AWS API) and the task that polls it without ever blocking the screen.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Sample;
use super::reason::{Failure, FailureReason, failures_in};

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// Index of a source in the runtime's list (and in [`super::Board::sources`]).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
pub struct SourceId(pub usize);

/// Which panes a source feeds: a failing source marks these panes stale.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default, Serialize, Deserialize)]
pub struct Feeds {
    pub lag: bool,
    pub backups: bool,
    pub regions: bool,
}

impl Feeds {
    pub const ALL: Feeds = Feeds {
        lag: true,
        backups: true,
        regions: true,
    };
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, thiserror::Error)]
#[serde(tag = "kind", rename_all = "kebab-case")]
pub enum SourceError {
    /// The whole poll did not finish within the source's timeout.
    #[error("timeout after {secs}s")]
    Timeout { secs: u64 },
    /// The source could not be read: why (typed), and what it said (one line).
    #[error("{}", failed_text(reason, message))]
    Failed {
        reason: FailureReason,
        message: String,
    },
    /// The source task itself died (a panic in a poller); the pane stays stale.
    #[error("poller stopped: {message}")]
    Crashed { message: String },
}

/// `connection refused: rds:DescribeDBInstances in us-west-2: ...`: the reason first unless the
/// message is all there is.
fn failed_text(reason: &FailureReason, message: &str) -> String {
    match reason {
        FailureReason::Other { .. } => message.to_string(),
        r => format!("{}: {message}", r.short()),
    }
}

impl SourceError {
    /// A failure with no more to say than its message.
    pub fn failed(message: impl Into<String>) -> Self {
        let message = super::reason::clean(&message.into());
        SourceError::Failed {
            reason: FailureReason::other(&message),
            message,
        }
    }

    /// Why, as a type.
    pub fn reason(&self) -> FailureReason {
        match self {
            SourceError::Timeout { secs } => FailureReason::timeout(Duration::from_secs(*secs)),
            SourceError::Failed { reason, .. } => reason.clone(),
            SourceError::Crashed { message } => {
                FailureReason::other(format!("poller stopped: {message}"))
            }
        }
    }
}

/// Something that can be asked for a [`Sample`].
pub trait Source: Send {
    /// Short name shown with its errors (`sim`, `postgres dr-replica`, `http primary`).
    fn name(&self) -> &str;
    /// Which panes it feeds.
    fn feeds(&self) -> Feeds;
    /// Wall-clock time between polls.
    fn interval(&self) -> Duration;
    /// Longest a poll may take before it counts as failed.
    fn timeout(&self) -> Duration {
        Duration::from_secs(5)
    }
    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>>;
}

/// Polls `source` every interval until `send` returns false (the receiver is gone).
/// Every poll is bounded by the source's timeout, so a hung backend yields a `Timeout` error
/// (the pane goes stale) instead of silence.
pub async fn run_poller(
    id: SourceId,
    mut source: Box<dyn Source>,
    send: impl Fn(SourceId, Result<Sample, SourceError>) -> bool + Send,
) {
    let mut ticker = tokio::time::interval(source.interval());
    let mut log = FailureLog::default();
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        ticker.tick().await;
        let limit = source.timeout();
        let result = match tokio::time::timeout(limit, source.poll()).await {
            Ok(r) => r,
            Err(_) => Err(SourceError::Timeout {
                secs: limit.as_secs().max(1),
            }),
        };
        log.observe(source.name(), &result);
        if !send(id, result) {
            return;
        }
    }
}

/// Logs a source's failures when they change (a new failure, another reason, recovery), not on
/// every poll: the log says why, once.
#[derive(Debug, Default)]
pub struct FailureLog {
    last: Vec<Failure>,
}

impl FailureLog {
    pub fn observe(&mut self, source: &str, result: &Result<Sample, SourceError>) {
        let now = current_failures(source, result);
        for f in &now {
            if !self.last.contains(f) {
                tracing::warn!(
                    source = %super::reason::clean(source),
                    target = f.target.as_deref().map(super::reason::clean).unwrap_or_default(),
                    reason = %f.reason,
                    "source failed: {}",
                    f.message
                );
            }
        }
        for f in &self.last {
            if !now.iter().any(|n| n.target == f.target) {
                tracing::info!(
                    source = %super::reason::clean(source),
                    target = f.target.as_deref().map(super::reason::clean).unwrap_or_default(),
                    "source answers again"
                );
            }
        }
        self.last = now;
    }
}

/// What failed in one poll result: the whole source, or targets inside its sample.
pub fn current_failures(source: &str, result: &Result<Sample, SourceError>) -> Vec<Failure> {
    match result {
        Ok(sample) => failures_in(source, sample),
        Err(e) => vec![Failure {
            source: source.to_string(),
            target: None,
            reason: e.reason(),
            message: super::reason::clean(&e.to_string()),
        }],
    }
}
