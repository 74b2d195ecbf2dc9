//! Wiring an environment to its backend: the sources that feed the panes and the backend that
//! runs built-in actions. One place decides, so the console, `status` and drills agree.

use std::sync::{Arc, Mutex};
use std::time::Duration;

use crate::actions::ActionBackend;
use crate::actions::router::Router;
use crate::actions::sim::SimBackend;
use crate::clock::SessionClock;
use crate::env::{Environment, NameKind};
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

/// Builds the sources and the action backend for `env`: the simulator for a simulated
/// environment; else a source per real resource by its binding and a [`Router`] that sends each
/// action to the backend of the resource it names.
pub fn wire(env: &Environment, options: &WireOptions) -> Result<Wiring, String> {
    if env.is_simulated() {
        return Ok(simulated(env, options));
    }
    let mut sources: Vec<Box<dyn Source>> = Vec::new();
    for db in env.databases.iter().filter(|d| d.postgres.is_some()) {
        sources.push(Box::new(PostgresSource::new(db, env)?));
    }
    for db in env.databases.iter().filter(|d| d.patroni.is_some()) {
        sources.push(Box::new(crate::telemetry::patroni::PatroniSource::new(
            db, env,
        )?));
    }
    for b in env.backups.iter().filter(|b| b.dir.is_some()) {
        sources.push(Box::new(BackupDirSource::new(b, env)?));
    }
    for r in &env.regions {
        for url in &r.health {
            sources.push(Box::new(HttpSource::new(r.name.get_ref(), url.get_ref())?));
        }
    }
    sources.extend(aws_sources(env, options)?);
    Ok(Wiring {
        sources,
        actions: action_backend(env, options)?,
        sim: None,
    })
}

/// Whether anything in `env` is read through the PostgreSQL backend's clients (servers,
/// backup directories, HTTP health endpoints).
fn uses_postgres_backend(env: &Environment) -> bool {
    env.databases.iter().any(|d| d.postgres.is_some())
        || env.backups.iter().any(|b| b.dir.is_some())
        || env.regions.iter().any(|r| !r.health.is_empty())
}

#[cfg(feature = "aws")]
pub fn connector(
    env: &Environment,
    options: &WireOptions,
) -> Arc<crate::telemetry::aws::Connector> {
    use crate::telemetry::aws::{AwsOptions, Connector};
    // `--endpoint-url` / `AWS_ENDPOINT_URL` (in `options`), else the file's `[aws] endpoint_url`.
    let endpoint_url = options.endpoint_url.clone().or_else(|| {
        env.aws
            .as_ref()
            .and_then(|a| a.endpoint_url.as_ref())
            .map(|u| u.get_ref().clone())
    });
    Arc::new(Connector::new(AwsOptions {
        endpoint_url,
        ..AwsOptions::default()
    }))
}

/// The AWS sources (RDS, snapshots, Route 53), for the resources bound to AWS.
#[cfg(feature = "aws")]
fn aws_sources(env: &Environment, options: &WireOptions) -> Result<Vec<Box<dyn Source>>, String> {
    if !env.uses_aws() {
        return Ok(Vec::new());
    }
    Ok(crate::telemetry::aws::sources(
        env,
        &connector(env, options),
    ))
}

#[cfg(not(feature = "aws"))]
fn aws_sources(env: &Environment, _options: &WireOptions) -> Result<Vec<Box<dyn Source>>, String> {
    if env.uses_aws() {
        return Err(without_aws(env));
    }
    Ok(Vec::new())
}

#[cfg(not(feature = "aws"))]
fn without_aws(env: &Environment) -> String {
    format!(
        "environment {:?} uses AWS, but this warroom was built without the `aws` feature; \
         rebuild with the default features (cargo build --release)",
        env.name
    )
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
        actions: Arc::new(
            SimBackend::new(Arc::clone(&sim), clock)
                .with_history(crate::recovery::verified::default_path(), &env.name),
        ),
        sim: Some(sim),
    }
}

/// The action backend of `env` alone, without its sources: the simulator's, or a [`Router`]
/// over the backends the environment's bindings need. `warroom check` asks it whether a step's
/// action is supported and how it describes the exact call. Builds no connection (the AWS
/// clients and PostgreSQL connections are made when an action runs).
pub fn action_backend(
    env: &Environment,
    options: &WireOptions,
) -> Result<Arc<dyn ActionBackend>, String> {
    if env.is_simulated() {
        let sim = Arc::new(Mutex::new(Sim::new(env, options.seed, options.clock.now())));
        return Ok(Arc::new(SimBackend::new(sim, options.clock.clone())));
    }
    let mut router = Router::new(env);
    if uses_postgres_backend(env) {
        router.postgres = Some(Arc::new(PostgresBackend::new(env)?));
    }
    if env.databases.iter().any(|d| d.patroni.is_some()) {
        router.patroni = Some(Arc::new(crate::actions::patroni::PatroniBackend::new(env)?));
    }
    #[cfg(feature = "aws")]
    if env.uses_aws() || env.webhook.is_some() {
        let connector = connector(env, options);
        router.aws = Some(Arc::new(crate::actions::aws::AwsBackend::new(
            env,
            Arc::clone(&connector),
        )));
        if env.apps.iter().any(|a| a.ecs.is_some()) {
            router.ecs = Some(Arc::new(crate::actions::ecs::EcsBackend::new(
                env, connector,
            )));
        }
    }
    #[cfg(not(feature = "aws"))]
    if env.uses_aws() {
        return Err(without_aws(env));
    }
    Ok(Arc::new(router))
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
    use crate::playbook::Reveal;
    let mut plan = StepPlan::default();
    if let Some(Exec::Action(call)) = step.render_exec(vars, Reveal::Masked) {
        match backend.unsupported(&call) {
            Some(reason) => plan
                .limits
                .push(format!("action {}: {reason}", call.name())),
            None => plan.action = Some(backend.describe(&call)),
        }
    }
    if let Some(wait) = &step.wait
        && let Some(what) = unobserved(env, &wait.condition)
    {
        plan.limits.push(format!(
            "wait ({}): {what} in this environment, so the wait can only time out; verify it by \
             hand (a checklist item) or skip the step with a reason",
            wait.condition
        ));
    }
    plan
}

/// What no source of `env` observes for `condition`, if something: the subject's binding
/// decides (a DNS record without `aws`, an app without `ecs`, integrity checks on a real
/// database).
fn unobserved(env: &Environment, condition: &crate::playbook::Condition) -> Option<String> {
    use crate::env::{Binding, NameKind};
    use crate::playbook::Condition;
    if env.is_simulated() {
        return None;
    }
    let (kind, name, what) = match condition {
        Condition::DbIntact { db, .. } => {
            return Some(format!(
                "nothing checks the integrity of database {}",
                crate::text::echo(db)
            ));
        }
        Condition::DbRole { db, .. }
        | Condition::DbLagUnder { db, .. }
        | Condition::DbAvailable { db, .. } => (NameKind::Database, db, "database"),
        Condition::RegionHealthy { region, .. } | Condition::RegionServing { region, .. } => {
            (NameKind::Region, region, "region")
        }
        Condition::BackupFresherThan { backup, .. }
        | Condition::BackupTakenSinceStep { backup } => (NameKind::Backup, backup, "backup"),
        Condition::AppReady { app, .. } => (NameKind::App, app, "app"),
        Condition::DnsPointsTo { dns, .. } => (NameKind::Dns, dns, "DNS record"),
    };
    match env.binding(kind, name) {
        Some(
            Binding::Postgres
            | Binding::Aws
            | Binding::Ecs
            | Binding::Http
            | Binding::Patroni
            | Binding::Sim,
        ) => None,
        None => Some(format!(
            "{what} {} has no binding that observes it",
            crate::text::echo(name)
        )),
    }
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

/// The `warroom lab` directory `env` belongs to: the directory of its file when `warroom lab up`
/// wrote it, else the lab holding the data directory of one of its PostgreSQL databases (a mixed
/// environment that uses a lab's servers next to other resources).
pub fn lab_of(env: &Environment) -> Option<std::path::PathBuf> {
    let is_lab = |dir: &std::path::Path| crate::lab::LabState::load(dir).is_ok();
    if let Some(dir) = env.base_dir.as_deref().filter(|d| is_lab(d)) {
        return Some(dir.to_path_buf());
    }
    env.databases
        .iter()
        .filter_map(|d| d.postgres.as_ref()?.data_dir.as_ref())
        .flat_map(|dir| {
            let path = std::path::PathBuf::from(dir.get_ref());
            path.ancestors()
                .skip(1)
                .map(std::path::Path::to_path_buf)
                .collect::<Vec<_>>()
        })
        .find(|d| is_lab(d))
}

/// Whether the resource `kind`/`name` may take an injected fault: simulated, or in the lab
/// ([`lab_of`]): a database whose data directory is in it, a backup directory in it, or any
/// resource of an environment file the lab wrote. Nothing bound to AWS or ECS is.
fn drillable(env: &Environment, lab: Option<&std::path::Path>, kind: NameKind, name: &str) -> bool {
    use crate::env::Binding;
    let Some(binding) = env.binding(kind, name) else {
        // Bound to nothing: no step can change it.
        return true;
    };
    let whole_lab = lab.is_some_and(|l| env.base_dir.as_deref() == Some(l));
    let inside = |path: &std::path::Path| lab.is_some_and(|l| path.starts_with(l));
    match (binding, kind) {
        (Binding::Sim, _) => true,
        (Binding::Aws | Binding::Ecs | Binding::Patroni, _) => false,
        (Binding::Postgres | Binding::Http, _) if whole_lab => true,
        (Binding::Postgres, NameKind::Database) => env
            .database(name)
            .and_then(|d| d.postgres.as_ref()?.data_dir.as_ref())
            .is_some_and(|dir| inside(std::path::Path::new(dir.get_ref()))),
        (Binding::Postgres, NameKind::Backup) => env
            .backups
            .iter()
            .find(|b| b.name.get_ref() == name)
            .and_then(|b| b.dir.as_ref())
            .is_some_and(|dir| inside(&dir.resolved_path(env.base_dir.as_deref()))),
        // A health endpoint outside a lab's own file: nothing says it is the lab's.
        (Binding::Postgres | Binding::Http, _) => false,
    }
}

/// Why a drill of `playbook` may not inject a fault into `env`, if it may not: a fault goes only
/// where every resource the playbook touches (the resources its actions name and its waits
/// watch) is simulated or in a `warroom lab`.
pub fn drill_refusal(env: &Environment, playbook: &crate::playbook::Playbook) -> Option<String> {
    use crate::actions::Exec;
    use crate::playbook::{Condition, Reveal};
    if env.is_simulated() {
        return None;
    }
    let lab = lab_of(env);
    let mut touched: Vec<(NameKind, String)> = Vec::new();
    for step in &playbook.steps {
        if let Some(Exec::Action(call)) = step.render_exec(&playbook.vars, Reveal::Masked)
            && let Some((kind, name)) = Router::target(&call)
        {
            touched.push((kind, name.to_string()));
        }
        if let Some(wait) = &step.wait {
            let (kind, name) = match &wait.condition {
                Condition::DbRole { db, .. }
                | Condition::DbLagUnder { db, .. }
                | Condition::DbAvailable { db, .. }
                | Condition::DbIntact { db, .. } => (NameKind::Database, db),
                Condition::RegionHealthy { region, .. }
                | Condition::RegionServing { region, .. } => (NameKind::Region, region),
                Condition::BackupFresherThan { backup, .. }
                | Condition::BackupTakenSinceStep { backup } => (NameKind::Backup, backup),
                Condition::AppReady { app, .. } => (NameKind::App, app),
                Condition::DnsPointsTo { dns, .. } => (NameKind::Dns, dns),
            };
            touched.push((kind, name.clone()));
        }
    }
    let real: Vec<String> = touched
        .iter()
        .filter(|(kind, name)| !drillable(env, lab.as_deref(), *kind, name))
        .map(|(kind, name)| {
            format!(
                "{} {} ({})",
                kind.label(),
                crate::text::echo(name),
                env.binding(*kind, name).map_or("unbound", |b| b.label())
            )
        })
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect();
    (lab.is_none() || !real.is_empty()).then(|| {
        if real.is_empty() {
            format!(
                "drills inject real faults: they run on the simulator or in a `warroom lab`, and \
                 environment {:?} is neither",
                env.name
            )
        } else {
            format!(
                "drills inject real faults only where every resource the playbook touches is \
                 simulated or in a `warroom lab`; in environment {:?}, {} {} not",
                env.name,
                real.join(", "),
                if real.len() == 1 { "is" } else { "are" }
            )
        }
    })
}
