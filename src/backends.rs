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
// PostgreSQL backend
use crate::actions::postgres::PostgresBackend;
use crate::telemetry::backup_dir::BackupDirSource;
use crate::telemetry::http::HttpSource;
use crate::telemetry::postgres::PostgresSource;

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
        Backend::Postgres => postgres(env),
        Backend::Aws => aws(env, options),
    }
}

/// One source per database with a `postgres` binding, per backup series with a `dir`, per health
/// URL; the action backend on the same servers and directories.
fn postgres(env: &Environment) -> Result<Wiring, String> {
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    for db in env.databases.iter().filter(|d| d.postgres.is_some()) {
        sources.push(Box::new(PostgresSource::new(db, env)?));
    }
    for b in env.backups.iter().filter(|b| b.dir.is_some()) {
        sources.push(Box::new(BackupDirSource::new(b, env)?));
    }
    for r in &env.regions {
        for url in &r.health {
            sources.push(Box::new(HttpSource::new(r.name.get_ref(), url.get_ref())?));
        }
    }
    Ok(Wiring {
        sources,
        actions: Arc::new(PostgresBackend::new(env)?),
        sim: None,
    })
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
    let mut sources = crate::telemetry::aws::sources(env, &connector);
    // The service's own /health endpoints, where the file lists them, beside Route 53's checks.
    for r in &env.regions {
        for url in &r.health {
            sources.push(Box::new(HttpSource::new(r.name.get_ref(), url.get_ref())?));
        }
    }
    Ok(Wiring {
        sources,
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
    let clock = options.clock.clone();
    let sim = Arc::new(Mutex::new(Sim::new(env, options.seed, clock.now())));
    // Faster simulations poll more often so sparklines and ages move smoothly.
    let interval = if clock.speed() > 1.0 {
        Duration::from_millis(250)
    } else {
        Duration::from_secs(1)
    };
    Wiring {
        sources: vec![Box::new(SimSource::new(
            Arc::clone(&sim),
            clock.clone(),
            interval,
        ))],
        actions: Arc::new(SimBackend::new(Arc::clone(&sim), clock)),
        sim: Some(sim),
    }
}

/// The action backend of `env` alone, without its sources: what `warroom check` asks whether a
/// step's action is supported and how the backend describes the exact call. Builds no
/// connection (the AWS clients and PostgreSQL connections are made when an action runs).
pub fn action_backend(
    env: &Environment,
    options: &WireOptions,
) -> Result<Arc<dyn ActionBackend>, String> {
    match env.backend() {
        Backend::Sim => {
            let sim = Arc::new(Mutex::new(Sim::new(env, options.seed, options.clock.now())));
            Ok(Arc::new(SimBackend::new(sim, options.clock.clone())))
        }
        Backend::Postgres => Ok(Arc::new(PostgresBackend::new(env)?)),
        #[cfg(feature = "aws")]
        Backend::Aws => {
            use crate::telemetry::aws::{AwsOptions, Connector};
            let connector = Arc::new(Connector::new(AwsOptions {
                endpoint_url: options.endpoint_url.clone(),
                ..AwsOptions::default()
            }));
            Ok(Arc::new(crate::actions::aws::AwsBackend::new(
                env, connector,
            )))
        }
        #[cfg(not(feature = "aws"))]
        Backend::Aws => aws(env, options).map(|w| w.actions),
    }
}

/// What `warroom check` says about one step on `env`'s backend.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct StepPlan {
    /// The backend's own description of the step's exact call (a supported action).
    pub action: Option<String>,
    /// What the step asks that the backend cannot do or cannot observe, one line each.
    pub limits: Vec<String>,
}

/// The backend's answer for a step: its description of the exact call when it runs the action,
/// else why not; and the wait conditions it cannot observe. `warroom check` prints these so
/// nobody finds out at 3 a.m.
pub fn step_plan(
    env: &Environment,
    backend: &dyn ActionBackend,
    step: &crate::playbook::Step,
    vars: &crate::playbook::Vars,
) -> StepPlan {
    use crate::actions::Exec;
    use crate::playbook::{Condition, Reveal};
    let kind = env.backend();
    let mut plan = StepPlan::default();
    if let Some(Exec::Action(call)) = step.render_exec(vars, Reveal::Masked) {
        match backend.unsupported(&call) {
            Some(reason) => plan
                .limits
                .push(format!("action {}: {reason}", call.name())),
            None => plan.action = Some(backend.describe(&call)),
        }
    }
    if let Some(wait) = &step.wait {
        let unobserved = match (&wait.condition, kind) {
            (_, Backend::Sim) => None,
            (Condition::DbIntact { .. }, _) => Some("data integrity checks"),
            (Condition::AppReady { .. }, Backend::Postgres | Backend::Aws) => {
                Some("application replicas")
            }
            (Condition::DnsPointsTo { .. }, Backend::Postgres) => Some("DNS records"),
            _ => None,
        };
        if let Some(what) = unobserved {
            plan.limits.push(format!(
                "wait ({}): this {} environment does not observe {what}, so the wait can only time \
                 out; verify it by hand (a checklist item) or skip the step with a reason",
                wait.condition,
                kind.label()
            ));
        }
    }
    plan
}

/// The simulated deployment as a drill's journal left it: a fresh simulator from the journal's
/// start, advanced through its events, with its fault injected and its confirmed actions applied
/// when they happened. Resuming a drill then continues in the same simulated world.
pub fn rebuild_simulation(
    env: &Environment,
    seed: u64,
    start: chrono::DateTime<chrono::Utc>,
    playbook: &crate::playbook::Playbook,
    events: &[(chrono::DateTime<chrono::Utc>, crate::playbook::Event)],
) -> Sim {
    use crate::playbook::Event;
    let mut sim = Sim::new(env, seed, start);
    let mut last = start;
    for (i, (at, event)) in events.iter().enumerate() {
        // A fault is recorded when its report was handled; the `disrupted` that follows it says
        // when it took effect (never before what the world had already reached).
        let when = match (event, events.get(i + 1)) {
            (
                Event::FaultInjected { .. },
                Some((
                    _,
                    Event::Disrupted {
                        since,
                        reason: None,
                        ..
                    },
                )),
            ) => (*since).max(last).min(*at),
            _ => *at,
        };
        sim.advance(when);
        last = last.max(when);
        match event {
            Event::FaultInjected { fault } => match fault.parse() {
                Ok(f) => {
                    if let Err(e) = sim.inject(f, when) {
                        tracing::warn!("replaying fault {fault}: {e}");
                    }
                }
                Err(e) => tracing::warn!("replaying fault {fault}: {e}"),
            },
            Event::Confirmed { step, .. } => {
                let call = playbook
                    .step_index(step)
                    .and_then(|i| playbook.exec(i))
                    .and_then(|exec| match exec {
                        crate::actions::Exec::Action(call) => Some(call),
                        crate::actions::Exec::Run { .. } => None,
                    });
                if let Some(call) = call
                    && let Err(e) = sim.execute(&call, *at)
                {
                    tracing::warn!("replaying {}: {e}", call.name());
                }
            }
            _ => {}
        }
    }
    sim
}
