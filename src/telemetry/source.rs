//! A source of readings (the simulator, a PostgreSQL server, a directory of dumps, an HTTP
//! endpoint, an AWS API) and the task that polls it without ever blocking the screen.

use std::future::Future;
use std::pin::Pin;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::Sample;

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
    #[error("no answer within {secs}s")]
    Timeout { secs: u64 },
    #[error("{message}")]
    Failed { message: String },
    /// The source task itself died (a panic in a poller); the pane stays stale.
    #[error("poller stopped: {message}")]
    Crashed { message: String },
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
        if !send(id, result) {
            return;
        }
    }
}
