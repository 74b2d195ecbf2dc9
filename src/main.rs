//! The `warroom` binary: argument parsing and wiring; the work happens in the library.

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use warroom::app::runtime::{self, Session};
use warroom::app::{App, Mode};
use warroom::backends::{self, WireOptions, Wiring};
use warroom::cli::{Cli, Command, ConsoleArgs};
use warroom::clock::SessionClock;
use warroom::duration::Dur;
use warroom::env::Environment;
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
    let env = match load_env(cli.console.env.as_deref()) {
        Ok(env) => env,
        Err(BadInput(msg)) => {
            eprintln!("{msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    match cli.command {
        None => console(&cli.console, env),
        Some(Command::Status { json }) => status(&cli.console, &env, json),
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

fn console(args: &ConsoleArgs, env: Environment) -> Result<ExitCode> {
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
    let clock = SessionClock::new(Instant::now(), Utc::now(), args.speed);
    let wiring = match wiring(args, &env, clock) {
        Ok(w) => w,
        Err(BadInput(msg)) => {
            eprintln!("error: {msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mode = if wiring.is_live() {
        Mode::Live
    } else {
        Mode::Demo
    };
    let sources = wiring.sources;
    let board = Board::new(
        sources.iter().map(|s| (s.name().to_string(), s.feeds())),
        stale_after(&sources, clock.speed()),
    );
    let app = App::new(env, mode, theme, board, clock.now(), clock.speed());
    let rt = tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
    rt.block_on(runtime::run(Session {
        app,
        sources,
        clock,
        sim: wiring.sim,
        scheduled_faults: scheduled,
        test_panic: runtime::TestPanic::from_env(),
    }))?;
    // Background pollers may be mid-call; do not wait for them to notice.
    rt.shutdown_timeout(Duration::from_millis(100));
    Ok(ExitCode::SUCCESS)
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
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir).ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
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
