//! The simulator as a telemetry source: each poll advances the shared [`Sim`] to session time
//! and reads it.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use super::Sample;
use super::source::{BoxFuture, Feeds, Source, SourceError};
use crate::clock::SessionClock;
use crate::sim::Sim;

/// Feeds every pane from the simulator shared with the action executors (which inject and act
/// on the same `Sim`).
pub struct SimSource {
    sim: Arc<Mutex<Sim>>,
    clock: SessionClock,
    interval: Duration,
}

impl SimSource {
    /// Polls `sim` every `interval` of wall time, at `clock`'s session time.
    pub fn new(sim: Arc<Mutex<Sim>>, clock: SessionClock, interval: Duration) -> Self {
        SimSource {
            sim,
            clock,
            interval,
        }
    }

    fn read(&self) -> Result<Sample, SourceError> {
        // A poisoned lock means an executor panicked mid-change: the state may be half-updated,
        // so say so (the panes go stale) rather than show it.
        let mut sim = self.sim.lock().map_err(|_| {
            SourceError::failed("simulator state is unusable: a task panicked while changing it")
        })?;
        sim.advance(self.clock.now());
        Ok(sim.sample())
    }
}

impl Source for SimSource {
    fn name(&self) -> &str {
        "sim"
    }

    fn feeds(&self) -> Feeds {
        Feeds::ALL
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        // The lock is held only for the synchronous advance + sample, never across an await.
        Box::pin(async move { self.read() })
    }
}

/// Samples `sim` at each of `times` into `board`, as the poller would have (source 0): for
/// snapshot tests, benchmarks and anything else that needs a realistic board without a runtime.
pub fn sample_into(
    board: &mut super::Board,
    sim: &mut Sim,
    times: impl IntoIterator<Item = chrono::DateTime<chrono::Utc>>,
) {
    for now in times {
        sim.advance(now);
        board.apply(super::SourceId(0), Ok(sim.sample()), now);
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;
    use chrono::{TimeZone, Utc};
    use std::time::Instant;

    fn shared() -> (Arc<Mutex<Sim>>, SessionClock, chrono::DateTime<Utc>) {
        let start = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid date");
        let sim = Sim::new(&Environment::demo(), 1, start);
        // A minute of session time per wall millisecond: the poll below lands well after start.
        let clock = SessionClock::new(Instant::now(), start, 60_000.0);
        (Arc::new(Mutex::new(sim)), clock, start)
    }

    #[tokio::test]
    async fn polls_advance_the_sim_and_fill_every_section() {
        let (sim, clock, start) = shared();
        let mut source = SimSource::new(sim.clone(), clock, Duration::from_millis(250));
        assert_eq!(source.name(), "sim");
        assert_eq!(source.feeds(), Feeds::ALL);
        assert_eq!(source.interval(), Duration::from_millis(250));
        std::thread::sleep(Duration::from_millis(2));
        let sample = source.poll().await.expect("sample");
        assert!(sample.at > start, "{} should be after {start}", sample.at);
        assert!(!sample.databases.is_empty() && !sample.backups.is_empty());
        assert!(!sample.endpoints.is_empty() && !sample.zones.is_empty());
        assert!(!sample.dns.is_empty() && !sample.apps.is_empty());
        assert!(!sample.security.is_empty());
        assert_eq!(sim.lock().expect("lock").now(), sample.at);
    }

    #[tokio::test]
    async fn a_poisoned_lock_is_a_failure_not_a_panic() {
        let (sim, clock, _) = shared();
        let poisoner = sim.clone();
        let _ = std::thread::spawn(move || {
            let _guard = poisoner.lock().expect("lock");
            panic!("executor died mid-change (expected by this test)");
        })
        .join();
        let mut source = SimSource::new(sim, clock, Duration::from_millis(250));
        match source.poll().await {
            Err(SourceError::Failed { message, .. }) => assert!(message.contains("simulator")),
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}
