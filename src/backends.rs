//! Wiring an environment to its backend: the sources that feed the panes and the backend that
//! runs built-in actions. One place decides, so the console, `status` and drills agree.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::actions::ActionBackend;
use crate::actions::sim::SimBackend;
use crate::clock::SessionClock;
use crate::env::{Backend, Environment};
use crate::sim::Sim;
use crate::telemetry::Source;
use crate::telemetry::sim::SimSource;

/// How to reach the backend.
#[derive(Debug, Clone)]
pub struct WireOptions {
    /// Simulator seed.
    pub seed: u64,
    pub clock: SessionClock,
    /// `--endpoint-url` for AWS emulators and VPC endpoints.
    pub endpoint_url: Option<String>,
}

/// Everything the runtime needs to observe and act on one environment.
pub struct Wiring {
    pub sources: Vec<Box<dyn Source>>,
    pub actions: Arc<dyn ActionBackend>,
    /// The simulated deployment, for fault injection (simulated environments only).
    pub sim: Option<Arc<Mutex<Sim>>>,
}

impl Wiring {
    /// Whether this environment changes the real world (the `LIVE` badge).
    pub fn is_live(&self) -> bool {
        self.sim.is_none()
    }
}

/// Builds the sources and the action backend for `env`.
pub fn wire(env: &Environment, options: &WireOptions) -> Result<Wiring, String> {
    match env.backend() {
        Backend::Sim => Ok(simulated(env, options)),
        Backend::Postgres => Err(format!(
            "environment {:?} uses PostgreSQL, which this build cannot reach yet",
            env.name
        )),
        Backend::Aws => aws(env, options),
    }
}

/// The AWS sources and action backend. The endpoint override comes from `--endpoint-url` /
/// `AWS_ENDPOINT_URL` (in `options`), else from the file's `[aws] endpoint_url`.
#[cfg(feature = "aws")]
fn aws(env: &Environment, options: &WireOptions) -> Result<Wiring, String> {
    use crate::telemetry::aws::{AwsOptions, Connector};
    let endpoint_url = options.endpoint_url.clone().or_else(|| {
        env.aws
            .as_ref()
            .and_then(|a| a.endpoint_url.as_ref())
            .map(|u| u.get_ref().clone())
    });
    let connector = Arc::new(Connector::new(AwsOptions {
        endpoint_url,
        ..AwsOptions::default()
    }));
    Ok(Wiring {
        sources: crate::telemetry::aws::sources(env, &connector),
        actions: Arc::new(crate::actions::aws::AwsBackend::new(env, connector)),
        sim: None,
    })
}

#[cfg(not(feature = "aws"))]
fn aws(env: &Environment, _options: &WireOptions) -> Result<Wiring, String> {
    Err(format!(
        "environment {:?} uses AWS, but this warroom was built without the `aws` feature; \
         rebuild with the default features (cargo build --release)",
        env.name
    ))
}

fn simulated(env: &Environment, options: &WireOptions) -> Wiring {
    let clock = options.clock;
    let sim = Arc::new(Mutex::new(Sim::new(env, options.seed, clock.now())));
    // Faster simulations poll more often so sparklines and ages move smoothly.
    let interval = if clock.speed() > 1.0 {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    };
    Wiring {
        sources: vec![Box::new(SimSource::new(Arc::clone(&sim), clock, interval))],
        actions: Arc::new(SimBackend::new(Arc::clone(&sim), clock)),
        sim: Some(sim),
    }
}
