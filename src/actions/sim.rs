//! Built-in actions on the simulated deployment.

use std::sync::{Arc, Mutex};

use super::{ActionBackend, ActionCall};
use crate::clock::SessionClock;
use crate::sim::Sim;
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

/// Why the simulator cannot run `action`, if it cannot (`warroom check` reports it).
pub fn unsupported_reason(action: &str) -> Option<String> {
    if action == "db.failover" {
        return Some(
            "the simulator does not model Multi-AZ failover (db.failover); drill with db.promote \
             instead"
                .to_string(),
        );
    }
    // The simulator implements every other built-in.
    super::builtin(action)
        .is_none()
        .then(|| format!("unknown action {action:?}"))
}

impl ActionBackend for SimBackend {
    fn name(&self) -> &str {
        "sim"
    }

    fn unsupported(&self, action: &str) -> Option<String> {
        unsupported_reason(action)
    }

    fn describe(&self, call: &ActionCall) -> String {
        let args: Vec<String> = call.args.iter().map(|(k, v)| format!("{k}={v}")).collect();
        format!("simulator: {} {}", call.name, args.join(" "))
    }

    fn execute<'a>(
        &'a self,
        call: &'a ActionCall,
        _progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, String>> {
        Box::pin(async move {
            let now = self.clock.now();
            let mut sim = self
                .sim
                .lock()
                .map_err(|_| "the simulator crashed earlier; restart warroom".to_string())?;
            sim.advance(now);
            sim.execute(call, now).map_err(|e| e.to_string())
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::env::Environment;
    use crate::telemetry::{DbRole, DbState};
    use std::collections::BTreeMap;
    use std::time::Instant;

    #[tokio::test]
    async fn promotes_the_replica_through_the_trait() {
        let clock = SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0);
        let sim = Arc::new(Mutex::new(Sim::new(&Environment::demo(), 3, clock.now())));
        let backend = SimBackend::new(Arc::clone(&sim), clock.clone());
        let call = ActionCall {
            name: "db.promote".into(),
            args: BTreeMap::from([("db".to_string(), "dr-replica".to_string())]),
        };
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
        let bad = ActionCall {
            name: "db.promote".into(),
            args: BTreeMap::from([("db".to_string(), "nope".to_string())]),
        };
        let err = backend
            .execute(&bad, &|_| {})
            .await
            .expect_err("unknown db");
        assert!(err.contains("nope"), "{err}");
    }
}
