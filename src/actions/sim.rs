//! Built-in actions on the simulated deployment.

use std::sync::{Arc, Mutex};

use super::{ActionBackend, Call};
use crate::clock::SessionClock;
use crate::sim::Sim;
use crate::telemetry::source::BoxFuture;

/// Runs actions on the simulator shared with the telemetry source, at session time.
pub struct SimBackend {
    sim: Arc<Mutex<Sim>>,
    clock: SessionClock,
    /// Where `backup.verify` results go (`verifications.jsonl`), and the environment's name.
    history: Option<(std::path::PathBuf, String)>,
}

impl SimBackend {
    pub fn new(sim: Arc<Mutex<Sim>>, clock: SessionClock) -> Self {
        SimBackend {
            sim,
            clock,
            history: None,
        }
    }

    /// Records each simulated `backup.verify` in the verification history at `path` (the same
    /// file PostgreSQL's verifications go to), so `status`, `restore-points` and the picker
    /// show "last verified" in drills too.
    pub fn with_history(mut self, path: Option<std::path::PathBuf>, environment: &str) -> Self {
        self.history = path.map(|p| (p, environment.to_string()));
        self
    }

    /// Appends the simulator's newest verification of `series` to the history (a failure to
    /// write is logged: the journal records the verification as the step's output anyway).
    fn record_verification(
        &self,
        sim: &Sim,
        series: &str,
        now: chrono::DateTime<chrono::Utc>,
        outcome: &Result<Vec<String>, String>,
    ) {
        let Some((path, environment)) = &self.history else {
            return;
        };
        // Only a verification this call made (one refused before it verified is none).
        let Some((backup_at, at, ok)) = sim
            .last_verification(series)
            .filter(|(_, at, _)| at.timestamp() == now.timestamp())
        else {
            return;
        };
        let detail = match outcome {
            Ok(lines) => lines.last().cloned().unwrap_or_default(),
            Err(e) => e.clone(),
        };
        let v = crate::recovery::verified::Verification {
            environment: environment.clone(),
            series: series.to_string(),
            backup: crate::restore_points::sim_backup_name(series, backup_at),
            at,
            ok,
            detail: crate::text::clip(&detail, 300).into_owned(),
        };
        if let Err(e) = crate::recovery::verified::record(path, &v) {
            tracing::warn!(path = %path.display(), "verification history not written: {e}");
        }
    }
}

impl ActionBackend for SimBackend {
    fn name(&self) -> &str {
        "sim"
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        crate::sim::unsupported(call.action())
    }

    fn describe(&self, call: &Call) -> String {
        match self.unsupported(call) {
            Some(why) => format!("unsupported on the simulator: {why}"),
            None => format!("simulator: {}", call.text()),
        }
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        _progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            let now = self.clock.now();
            let mut sim = self
                .sim
                .lock()
                .map_err(|_| "the simulator crashed earlier; restart warroom".to_string())?;
            sim.advance(now);
            let outcome = sim.execute(call, now).map_err(|e| e.to_string());
            if let Call::BackupVerify(c) = call {
                self.record_verification(&sim, &c.backup, now, &outcome);
            }
            outcome
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;
    use crate::telemetry::{DbRole, DbState};
    use std::time::Instant;

    #[tokio::test]
    async fn promotes_the_replica_through_the_trait() {
        let clock = SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0);
        let sim = Arc::new(Mutex::new(Sim::new(&Environment::demo(), 3, clock.now())));
        let backend = SimBackend::new(Arc::clone(&sim), clock.clone());
        let call = Call::parse("db.promote", &[("db", "dr-replica")]).expect("call");
        assert!(backend.describe(&call).contains("db.promote db=dr-replica"));
        let lines = backend.execute(&call, &|_| {}).await.expect("promote");
        assert!(!lines.is_empty());
        let db = {
            let mut s = sim.lock().expect("lock");
            s.advance(clock.now() + chrono::TimeDelta::seconds(60));
            s.sample()
                .databases
                .into_iter()
                .find(|d| d.name == "dr-replica")
                .expect("db")
        };
        assert_eq!((db.role, db.state), (DbRole::Primary, DbState::Available));
        let bad = Call::parse("db.promote", &[("db", "nope")]).expect("call");
        let err = backend
            .execute(&bad, &|_| {})
            .await
            .expect_err("unknown db");
        assert!(err.contains("nope"), "{err}");
    }
}
