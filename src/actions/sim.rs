//! Built-in actions on the simulated deployment.

use std::sync::{Arc, Mutex};

use super::{ActionBackend, ActionError, Call};
use crate::clock::SessionClock;
use crate::sim::{Sim, SimError};
use crate::telemetry::source::BoxFuture;

/// Runs actions on the simulator shared with the telemetry source, at session time.
pub struct SimBackend {
    sim: Arc<Mutex<Sim>>,
    clock: SessionClock,
}

impl SimBackend {
    pub fn new(sim: Arc<Mutex<Sim>>, clock: SessionClock) -> Self {
        SimBackend { sim, clock }
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
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        Box::pin(async move {
            let now = self.clock.now();
            let mut sim = self.sim.lock().map_err(|_| {
                ActionError::Failed("the simulator crashed earlier; restart warroom".to_string())
            })?;
            sim.advance(now);
            sim.execute(call, now).map_err(|e| match e {
                SimError::Unsupported { action, why } => ActionError::Unsupported { action, why },
                SimError::Failed { .. } => ActionError::Failed(e.to_string()),
                // Unknown names, a bad state: checked before anything changed.
                SimError::Refused { .. }
                | SimError::Unknown { .. }
                | SimError::UnknownFault { .. }
                | SimError::AlreadyActive { .. } => ActionError::refused(call, e.to_string()),
            })
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
        // An unknown name is refused before anything changed.
        assert!(
            matches!(&err, ActionError::Refused { action: "db.promote", why } if why.contains("nope")),
            "{err:?}"
        );
    }
}
