//! The interactive console: the session built from a [`Start`], then the runtime's loop.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use color_eyre::eyre::{Result, WrapErr};

use warroom::app::journal_writer::JournalTarget;
use warroom::app::runtime::{self, JournalSettings, Session};
use warroom::app::{App, Mode};
use warroom::backends::{self, WireOptions, Wiring};
use warroom::cli::ConsoleArgs;
use warroom::clock::SessionClock;
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::playbook::{self, Playbook};
use warroom::sim::Fault;
use warroom::telemetry::{Board, Source};
use warroom::theme::{self, Theme};

use super::start::{Start, lab_dir};
use super::{BadInput, EXIT_BAD_INPUT};

/// Valid playbooks for the picker: the directory's, then shipped ones it does not override.
/// Returns the problems found (invalid files) too, so the console can say so.
fn load_playbooks(dir: &Path, env: &Environment) -> (Vec<Playbook>, Vec<String>) {
    let mut found = Vec::new();
    let mut problems = Vec::new();
    for file in playbook::load::toml_files(dir).unwrap_or_default() {
        match playbook::load_file(&file, env) {
            Ok(p) => found.push(p),
            Err(d) => problems.push(format!(
                "{}: {} problem(s); run `warroom check`",
                file.display(),
                d.0.len()
            )),
        }
    }
    for (id, src) in playbook::SHIPPED {
        if found.iter().all(|p: &Playbook| p.id != *id)
            && let Ok(p) = playbook::parse(&format!("<shipped>/{id}.toml"), src, env)
        {
            found.push(p);
        }
    }
    (found, problems)
}

pub(crate) fn wiring(
    args: &ConsoleArgs,
    env: &Environment,
    clock: SessionClock,
) -> Result<Wiring, BadInput> {
    backends::wire(
        env,
        &WireOptions {
            seed: args.seed,
            clock,
            endpoint_url: args.endpoint_url.clone().or_else(|| {
                std::env::var("AWS_ENDPOINT_URL")
                    .ok()
                    .filter(|u| !u.is_empty())
            }),
        },
    )
    .map_err(BadInput)
}

pub(crate) fn console(args: &ConsoleArgs, env: Environment, start: Start) -> Result<ExitCode> {
    let theme = match Theme::resolve(&args.theme, theme::no_color_from_env()) {
        Ok(t) => t,
        Err(e) => {
            eprintln!("{e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut scheduled = Vec::new();
    for spec in &args.fault {
        match parse_fault_spec(spec) {
            Ok(f) => scheduled.push(f),
            Err(msg) => {
                eprintln!("error: --fault {spec:?}: {msg}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
        }
    }
    // A resumed or followed session continues the journal's clock: a simulated drill from its
    // last event at its speed, a real incident in real time.
    let (origin, speed, seed) = match &start {
        Start::Resume(plan) => journal_clock(&plan.replay, args),
        Start::Follow(plan) => journal_clock(&plan.replay, args),
        _ => (Utc::now(), args.speed, args.seed),
    };
    let clock = SessionClock::new(Instant::now(), origin, speed);
    let wiring_args = ConsoleArgs {
        seed,
        ..args.clone()
    };
    let mut wiring = match wiring(&wiring_args, &env, clock) {
        Ok(w) => w,
        Err(BadInput(msg)) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    if let Start::Resume(plan) = &start
        && let Some(sim) = &wiring.sim
    {
        let events = plan.replay.timeline();
        let rebuilt = backends::rebuild_simulation(
            &env,
            seed,
            plan.replay.header.started_at,
            &plan.playbook,
            &events,
        );
        if let Ok(mut s) = sim.lock() {
            *s = rebuilt;
        }
    }
    let mode = match &start {
        Start::Drill(_) => Mode::Drill,
        _ if wiring.is_live() => Mode::Live,
        Start::Resume(plan) => journal_mode(&plan.replay),
        Start::Follow(plan) => journal_mode(&plan.replay),
        Start::Fresh => Mode::Demo,
    };
    if matches!(start, Start::Follow(_)) {
        // A follower only reads the journal: no pollers, nothing that could act.
        wiring.sources.clear();
        wiring.sim = None;
    }
    let sources = wiring.sources;
    let board = Board::new(
        sources.iter().map(|s| (s.name().to_string(), s.feeds())),
        stale_after(&sources, clock.speed()),
    );
    let (playbooks, problems) = load_playbooks(&args.playbooks, &env);
    let mut app = App::new(env, mode, theme, board, clock.now(), clock.speed());
    app.read_only = args.read_only;
    app.playbooks = playbooks;
    if let Some(problem) = problems.first() {
        app.flash = Some((clock.now(), format!("not offered: {problem}")));
    }
    let mut resumed = None;
    let mut follow = None;
    match start {
        Start::Fresh => {}
        Start::Drill(plan) => {
            scheduled.push((plan.fault, plan.delay));
            app.start_incident(plan.playbook);
            app.flash = Some((
                clock.now(),
                "DRILL: a fault will arrive in the next minutes. Watch the panes; Enter declares the incident when you see it.".into(),
            ));
        }
        Start::Resume(plan) => {
            let plan = *plan;
            let settings = playbook::EngineSettings::new(&plan.playbook, app.env.clone())
                .read_only(args.read_only)
                .mode(mode.badge().to_lowercase());
            let events = plan.replay.timeline();
            let now = clock.now();
            let (engine, effects) =
                match playbook::Engine::resume(plan.playbook, settings, events.clone(), now) {
                    Ok(r) => r,
                    Err(e) => {
                        eprintln!("error: cannot resume: {e}");
                        return Ok(ExitCode::from(EXIT_BAD_INPUT));
                    }
                };
            app.adopt_incident(engine, &events);
            app.journal_path = Some(plan.journal.path().to_path_buf());
            let records: Vec<_> = effects
                .into_iter()
                .filter_map(|e| match e {
                    playbook::Effect::Record(event) => Some((now, event)),
                    _ => None,
                })
                .collect();
            if let Some(incident) = &mut app.incident {
                for (at, event) in &records {
                    incident.note_timeline(*at, event);
                }
            }
            app.flash = Some((
                now,
                plan.notice
                    .unwrap_or_else(|| format!("resumed from {}", plan.journal.path().display())),
            ));
            resumed = Some((plan.journal, records));
        }
        Start::Follow(plan) => {
            let plan = *plan;
            let settings = playbook::EngineSettings::new(&plan.playbook, app.env.clone())
                .mode(mode.badge().to_lowercase());
            let events = plan.replay.timeline();
            match playbook::Engine::replay(plan.playbook, settings, events.clone()) {
                Ok(engine) => app.adopt_incident(engine, &events),
                Err(e) => {
                    eprintln!("error: cannot follow {}: {e}", plan.path.display());
                    return Ok(ExitCode::from(EXIT_BAD_INPUT));
                }
            }
            app.following = Some(plan.path.clone());
            follow = Some(warroom::journal::Tail::after(plan.path, &plan.replay));
        }
    }
    let faults = match (&wiring.sim, mode) {
        (Some(sim), _) => Some(runtime::FaultTarget::Sim(Arc::clone(sim))),
        (None, Mode::Drill) => lab_dir(&app.env).map(runtime::FaultTarget::Lab),
        (None, _) => None,
    };
    let rt = tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
    let journal_target = match &args.journal {
        Some(path) => JournalTarget::File(path.clone()),
        None => match warroom::journal::default_dir() {
            Ok(dir) => JournalTarget::Dir(dir),
            Err(e) => {
                eprintln!("error: {e}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
        },
    };
    let app = rt.block_on(runtime::run(Session {
        app,
        sources,
        clock,
        faults,
        scheduled_faults: scheduled,
        test_panic: runtime::TestPanic::from_env(),
        actions: wiring.actions,
        read_only: args.read_only,
        journal: JournalSettings {
            target: journal_target,
            operator: warroom::journal::operator(args.operator.as_deref()),
            seed: Some(seed),
            resumed,
        },
        follow,
    }))?;
    if let Some(path) = app
        .journal_path
        .as_ref()
        .filter(|_| app.following.is_none())
    {
        println!("journal: {}", path.display());
        println!("postmortem: warroom report {}", path.display());
    }
    // Background pollers may be mid-call; do not wait for them to notice.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
}

/// Where a resumed or followed session's clock starts, how fast it runs, and the simulator seed.
fn journal_clock(
    replay: &warroom::journal::Replay,
    args: &ConsoleArgs,
) -> (chrono::DateTime<Utc>, f64, u64) {
    let h = &replay.header;
    match (h.seed, h.speed) {
        (Some(seed), Some(speed)) => {
            let last = replay.events.last().map_or(h.started_at, |(_, at, _)| *at);
            (last, speed, seed)
        }
        _ => (Utc::now(), 1.0, args.seed),
    }
}

fn journal_mode(replay: &warroom::journal::Replay) -> Mode {
    match replay.header.mode {
        warroom::journal::Mode::Drill => Mode::Drill,
        warroom::journal::Mode::Live => Mode::Live,
        warroom::journal::Mode::Demo => Mode::Demo,
    }
}

/// A source is stale after three missed polls (in session time).
pub(crate) fn stale_after(sources: &[Box<dyn Source>], speed: f64) -> TimeDelta {
    let longest = sources
        .iter()
        .map(|s| s.interval().max(s.timeout()))
        .max()
        .unwrap_or(Duration::from_secs(1));
    let secs = (3.0 * longest.as_secs_f64() * speed).max(3.0);
    TimeDelta::milliseconds((secs * 1000.0) as i64)
}

fn parse_fault_spec(spec: &str) -> Result<(Fault, Duration), String> {
    let (name, delay) = spec.split_once('@').unwrap_or((spec, "0s"));
    let fault: Fault = name.parse().map_err(|e| format!("{e}"))?;
    let delay = Dur::parse(delay).map_err(|e| e.to_string())?;
    Ok((fault, delay.to_std()))
}
