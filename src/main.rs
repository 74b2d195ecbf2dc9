//! The `warroom` binary: argument parsing and wiring; the work happens in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use warroom::app::journal_writer::JournalTarget;
use warroom::app::runtime::{self, JournalSettings, Session};
use warroom::app::{App, Mode};
use warroom::backends::{self, WireOptions, Wiring};
use warroom::cli::{Cli, Command, ConsoleArgs, ReportFormat};
use warroom::clock::SessionClock;
use warroom::duration::Dur;
use warroom::env::{Backend, Environment};
use warroom::playbook::{self, Playbook};
use warroom::sim::Fault;
use warroom::status::StatusReport;
use warroom::telemetry::{Board, Source, SourceError, SourceId};
use warroom::theme::{self, Theme};

/// Exit code for input the user must fix (a bad file or argument); 1 is for failed checks.
const EXIT_BAD_INPUT: u8 = 2;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        eprintln!("warroom: cannot install the error reporter: {e}");
    }
    runtime::install_panic_hook();
    let cli = Cli::parse();
    let _log_guard = init_logging(cli.console.log.as_deref());
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            runtime::restore_terminal();
            eprintln!("warroom: {e:?}");
            ExitCode::FAILURE
        }
    }
}

/// A problem with the user's input, reported as is (it already says file:line:col).
#[derive(Debug)]
struct BadInput(String);

fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Lab(args)) = cli.command {
        return Ok(warroom::lab::run(args));
    }
    if let Some(Command::Verify { path }) = &cli.command {
        return Ok(warroom::journal::verify::run(path));
    }
    let env = match load_env(cli.console.env.as_deref()) {
        Ok(env) => env,
        Err(BadInput(msg)) => {
            eprintln!("{msg}");
            // `check` reports an invalid file with status 1, an environment like a playbook.
            return Ok(match cli.command {
                Some(Command::Check { .. }) => ExitCode::FAILURE,
                _ => ExitCode::from(EXIT_BAD_INPUT),
            });
        }
    };
    // Every command that takes --theme reads and validates it, not only the console.
    if let Err(e) = Theme::resolve(&cli.console.theme, false) {
        eprintln!("error: bad theme\n{e}");
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    if let Some(path) = cli.console.resume.clone() {
        return match resume_plan(&cli.console, &env, &path) {
            Ok(plan) => console(&cli.console, env, Start::Resume(Box::new(plan))),
            Err(BadInput(msg)) => {
                eprintln!("{msg}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        };
    }
    match cli.command {
        None => console(&cli.console, env, Start::Fresh),
        Some(Command::Follow { path }) => match follow_plan(&cli.console, &env, &path) {
            Ok(plan) => console(&cli.console, env, Start::Follow(Box::new(plan))),
            Err(BadInput(msg)) => {
                eprintln!("{msg}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        },
        Some(Command::Status { json }) => status(&cli.console, &env, json),
        Some(Command::Lab(_) | Command::Verify { .. }) => Ok(ExitCode::SUCCESS), // handled above
        Some(Command::Report { path, format }) => Ok(report(&path, format)),
        Some(Command::History { dir }) => Ok(history(dir)),
        Some(Command::Check { paths }) => Ok(check(&cli.console, &env, paths)),
        Some(Command::Show { id, markdown }) => Ok(show(&cli.console, &env, &id, markdown)),
        Some(Command::Drill { scenario, at }) => {
            match drill_plan(&cli.console, &env, &scenario, at.as_deref()) {
                Ok(plan) => match offer_resume(&plan.playbook.id) {
                    // The operator chose to continue the unfinished drill instead.
                    Some(path) => match resume_plan(&cli.console, &env, &path) {
                        Ok(r) => console(&cli.console, env, Start::Resume(Box::new(r))),
                        Err(BadInput(msg)) => {
                            eprintln!("{msg}");
                            Ok(ExitCode::from(EXIT_BAD_INPUT))
                        }
                    },
                    None => console(&cli.console, env, Start::Drill(Box::new(plan))),
                },
                Err(BadInput(msg)) => {
                    eprintln!("error: {msg}");
                    Ok(ExitCode::from(EXIT_BAD_INPUT))
                }
            }
        }
    }
}

/// How the console starts.
enum Start {
    /// The panes; a playbook is picked with `p`.
    Fresh,
    Drill(Box<DrillPlan>),
    Resume(Box<ResumePlan>),
    Follow(Box<FollowPlan>),
}

/// `--resume`: the journal reopened for appending and the incident rebuilt from it.
struct ResumePlan {
    journal: warroom::journal::Journal,
    replay: warroom::journal::Replay,
    playbook: Playbook,
    notice: Option<String>,
}

/// `follow`: the journal read so far and where to continue tailing it.
struct FollowPlan {
    path: PathBuf,
    replay: warroom::journal::Replay,
    playbook: Playbook,
}

/// The playbook a journal was written with, checked against the environment given.
fn journal_playbook(
    args: &ConsoleArgs,
    env: &Environment,
    path: &Path,
    replay: &warroom::journal::Replay,
) -> Result<Playbook, BadInput> {
    let h = &replay.header;
    if h.environment != env.name {
        return Err(BadInput(format!(
            "error: {}: the journal was written against environment {:?}, not {:?}; pass --env with that environment's file",
            path.display(),
            h.environment,
            env.name
        )));
    }
    let playbook = playbook::find(&h.playbook.id, &args.playbooks, env).map_err(|e| {
        BadInput(format!(
            "error: {}: playbook {:?} of the journal: {e}",
            path.display(),
            h.playbook.id
        ))
    })?;
    if playbook.hash != h.playbook.hash {
        return Err(BadInput(format!(
            "error: {}: the journal was written with playbook {:?} version {}, but {} is version {}; \
             resume with the playbook file the incident started with (--playbooks DIR)",
            path.display(),
            h.playbook.id,
            h.playbook.hash,
            playbook.source,
            playbook.hash
        )));
    }
    Ok(playbook)
}

fn resume_plan(args: &ConsoleArgs, env: &Environment, path: &Path) -> Result<ResumePlan, BadInput> {
    // Validate before anything is written: a broken journal is refused whole.
    let replay = warroom::journal::read(path).map_err(|e| BadInput(format!("error: {e}")))?;
    if replay.is_finished() {
        return Err(BadInput(format!(
            "error: {}: this incident is over (resolved or aborted); nothing to resume. \
             The postmortem: warroom report {}",
            path.display(),
            path.display()
        )));
    }
    let playbook = journal_playbook(args, env, path, &replay)?;
    let holder = warroom::journal::LockHolder::this_process(warroom::journal::operator(
        args.operator.as_deref(),
    ));
    let (journal, replay) = warroom::journal::Journal::open_append(path, &holder)
        .map_err(|e| BadInput(format!("error: {e}")))?;
    let notice = replay.torn_tail_notice(path);
    if let Some(n) = &notice {
        eprintln!("warning: {n}");
    }
    Ok(ResumePlan {
        journal,
        replay,
        playbook,
        notice,
    })
}

fn follow_plan(args: &ConsoleArgs, env: &Environment, path: &Path) -> Result<FollowPlan, BadInput> {
    let replay = warroom::journal::read(path).map_err(|e| BadInput(format!("error: {e}")))?;
    let playbook = journal_playbook(args, env, path, &replay)?;
    Ok(FollowPlan {
        path: path.to_path_buf(),
        replay,
        playbook,
    })
}

/// An unfinished journal of the same playbook in the incidents directory: ask whether to resume
/// it (when someone is at a terminal to answer; otherwise just say where it is).
fn offer_resume(playbook_id: &str) -> Option<PathBuf> {
    use std::io::{BufRead, IsTerminal, Write};
    let dir = warroom::journal::default_dir().ok()?;
    let (path, replay) = warroom::journal::list(&dir)
        .ok()?
        .into_iter()
        .filter_map(|p| warroom::journal::read(&p).ok().map(|r| (p, r)))
        .filter(|(_, r)| r.header.playbook.id == playbook_id && !r.is_finished())
        .max_by_key(|(_, r)| r.header.started_at)?;
    let what = format!(
        "an unfinished {} of {playbook_id} started {} by {} ({} events) is in {}",
        replay.header.mode,
        replay.header.started_at.format("%Y-%m-%d %H:%M UTC"),
        replay.header.operator,
        replay.events.len(),
        path.display()
    );
    if !std::io::stdin().is_terminal() {
        eprintln!("note: {what}; continue it with --resume {}", path.display());
        return None;
    }
    eprint!("{what}.\nResume it instead of starting a new one? [Y/n] ");
    let _ = std::io::stderr().flush();
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok()?;
    matches!(answer.trim(), "" | "y" | "Y" | "yes").then_some(path)
}

/// What `warroom drill` sets up: the playbook and when its fault arrives.
struct DrillPlan {
    playbook: Playbook,
    fault: Fault,
    delay: Duration,
}

fn drill_plan(
    args: &ConsoleArgs,
    env: &Environment,
    scenario: &str,
    at: Option<&str>,
) -> Result<DrillPlan, BadInput> {
    if env.backend() != Backend::Sim && lab_dir(env).is_none() {
        return Err(BadInput(format!(
            "drills inject real faults: they run on the simulator or in a `warroom lab`, and \
             environment {:?} is neither. Rehearse with the built-in demo (no --env), a simulated \
             environment file, or the lab (warroom lab up; warroom drill region-loss --env .lab/lab.toml)",
            env.name
        )));
    }
    let playbook = match playbook::find(scenario, &args.playbooks, env) {
        Ok(p) => p,
        Err(e) => return Err(BadInput(e.to_string())),
    };
    let fault: Fault = playbook.scenario.to_string().parse().map_err(|_| {
        BadInput(format!(
            "playbook {:?} has scenario {:?}, which has no simulator fault; drills need az-loss, \
             region-loss, corruption or breach",
            playbook.id,
            playbook.scenario.to_string()
        ))
    })?;
    let delay = match at {
        Some(text) => Dur::parse(text)
            .map_err(|e| BadInput(format!("--at: {e}")))?
            .to_std(),
        // Somewhere in the first minutes, decided by the seed so a drill can be replayed.
        None => Duration::from_secs(30 + splitmix(args.seed) % 270),
    };
    Ok(DrillPlan {
        playbook,
        fault,
        delay,
    })
}

/// The lab directory an environment file belongs to, if it was written by `warroom lab up`.
fn lab_dir(env: &Environment) -> Option<PathBuf> {
    let dir = env.base_dir.clone()?;
    warroom::lab::LabState::load(&dir).ok().map(|_| dir)
}

/// One step of SplitMix64: a seeded choice without a dependency.
fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

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

fn check(args: &ConsoleArgs, env: &Environment, paths: Vec<PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![args.playbooks.clone()]
    } else {
        paths
    };
    let report = playbook::check_paths(&paths, env);
    for line in report.ok_lines() {
        println!("{line}");
    }
    // Valid, but some steps ask the backend for what it cannot do or see: say so now.
    for file in &report.files {
        let Ok(pb) = &file.result else { continue };
        for step in &pb.steps {
            for limit in backends::step_limits(env, step) {
                eprintln!(
                    "warning: {}: step {}: {limit}",
                    file.path.display(),
                    step.id
                );
            }
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        eprintln!("{}", report.error_text());
        ExitCode::FAILURE
    }
}

fn show(args: &ConsoleArgs, env: &Environment, id: &str, markdown: bool) -> ExitCode {
    let format = if markdown {
        playbook::Format::Markdown
    } else {
        playbook::Format::Text
    };
    match playbook::show(id, &args.playbooks, env, format) {
        Ok(text) => {
            print!("{text}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// `warroom report PATH`: the postmortem on stdout; a journal that cannot be read exits 2.
fn report(path: &Path, format: ReportFormat) -> ExitCode {
    let format = match format {
        ReportFormat::Markdown => warroom::report::Format::Markdown,
        ReportFormat::Json => warroom::report::Format::Json,
    };
    match warroom::report::render_path(path, format) {
        Ok(text) => print_stdout(&text),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// `warroom history [DIR]`: one row per journal; broken files are listed, not fatal.
fn history(dir: Option<PathBuf>) -> ExitCode {
    let dir = match dir.map_or_else(warroom::journal::default_dir, Ok) {
        Ok(d) => d,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match warroom::history::scan(&dir) {
        Ok(h) => print_stdout(&warroom::history::render(&h)),
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Prints to stdout; a closed pipe (`| head`) is not an error.
fn print_stdout(text: &str) -> ExitCode {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|()| out.flush()) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

fn load_env(path: Option<&Path>) -> Result<Environment, BadInput> {
    match path {
        None => Ok(Environment::demo()),
        Some(p) => {
            Environment::load(p).map_err(|d| BadInput(format!("error: bad environment file\n{d}")))
        }
    }
}

fn wiring(args: &ConsoleArgs, env: &Environment, clock: SessionClock) -> Result<Wiring, BadInput> {
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

fn console(args: &ConsoleArgs, env: Environment, start: Start) -> Result<ExitCode> {
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
            let last = replay.last_stamp().session();
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
fn stale_after(sources: &[Box<dyn Source>], speed: f64) -> TimeDelta {
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

fn status(args: &ConsoleArgs, env: &Environment, json: bool) -> Result<ExitCode> {
    let clock = SessionClock::new(Instant::now(), Utc::now(), 1.0);
    let wiring = match wiring(args, env, clock) {
        Ok(w) => w,
        Err(BadInput(msg)) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let sources = wiring.sources;
    let mut board = Board::new(
        sources.iter().map(|s| (s.name().to_string(), s.feeds())),
        stale_after(&sources, 1.0),
    );
    let rt = tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
    // Every source is asked at once (one task each), each bounded by its own timeout.
    let results = rt.block_on(async {
        let tasks: Vec<_> = sources
            .into_iter()
            .map(|mut s| {
                tokio::spawn(async move {
                    let limit = s.timeout();
                    tokio::time::timeout(limit, s.poll()).await.unwrap_or(Err(
                        SourceError::Timeout {
                            secs: limit.as_secs().max(1),
                        },
                    ))
                })
            })
            .collect();
        let mut results = Vec::with_capacity(tasks.len());
        for task in tasks {
            results.push(task.await.unwrap_or_else(|e| {
                Err(SourceError::Crashed {
                    message: e.to_string(),
                })
            }));
        }
        results
    });
    let now = clock.now();
    for (i, r) in results.into_iter().enumerate() {
        board.apply(SourceId(i), r, now);
    }
    let report = StatusReport::build(env, &board, now);
    if json {
        println!("{}", report.to_json());
    } else {
        print!("{}", report.to_text());
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Logs to a file, never to the terminal the console owns. A log that cannot be opened is not
/// fatal: the console still runs.
fn init_logging(path: Option<&Path>) -> Option<()> {
    let path = path.map(Path::to_path_buf).or_else(default_log_path)?;
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        // Owner only (0700), like the journals' directory.
        warroom::journal::create_private_dir(dir).ok()?;
    }
    let file = std::os::unix::fs::OpenOptionsExt::mode(
        std::fs::OpenOptions::new().create(true).append(true),
        0o600,
    )
    .open(&path)
    .ok()?;
    tracing_subscriber::fmt()
        .with_writer(Mutex::new(file))
        .with_ansi(false)
        .with_max_level(tracing::Level::INFO)
        .try_init()
        .ok()?;
    tracing::info!(version = env!("CARGO_PKG_VERSION"), "warroom started");
    Some(())
}

/// `$XDG_STATE_HOME/warroom/warroom.log`, else `~/.local/state/warroom/warroom.log`.
fn default_log_path() -> Option<PathBuf> {
    let state = std::env::var_os("XDG_STATE_HOME")
        .filter(|v| !v.is_empty())
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".local/state")))?;
    Some(state.join("warroom").join("warroom.log"))
}
