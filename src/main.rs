//! The `warroom` binary: argument parsing and wiring; the work happens in the library.

mod commands;

use std::path::{Path, PathBuf};
use std::process::ExitCode;
use std::sync::Mutex;
use std::time::Instant;

use chrono::Utc;
use clap::Parser;
use color_eyre::eyre::{Result, WrapErr};

use commands::console::{console, stale_after, wiring};
use commands::start::{Start, drill_plan, follow_plan, offer_resume, resume_plan};
use commands::{BadInput, EXIT_BAD_INPUT};
use warroom::app::runtime;
use warroom::backends;
use warroom::cli::{Cli, Command, ConsoleArgs, ReportFormat};
use warroom::clock::SessionClock;
use warroom::env::Environment;
use warroom::playbook;
use warroom::status::StatusReport;
use warroom::telemetry::{Board, SourceError, SourceId};
use warroom::text::{self, Form};
use warroom::theme::Theme;

fn main() -> ExitCode {
    if let Err(e) = color_eyre::install() {
        warroom::say_err!("warroom: cannot install the error reporter: {e}");
    }
    runtime::install_panic_hook();
    let cli = Cli::parse();
    // Commands that only read (follow, report, history, ...) create no file: they log only to
    // a --log given explicitly.
    let default_log = matches!(
        cli.command,
        None | Some(Command::Drill { .. } | Command::Lab(_) | Command::Status { .. })
    );
    let _log_guard = init_logging(cli.console.log.as_deref(), default_log);
    match run(cli) {
        Ok(code) => code,
        Err(e) => {
            runtime::restore_terminal();
            // The error's chain on one line, through the output gate (`{:?}` would add the
            // error reporter's own colour escapes).
            warroom::say_err!("warroom: {e:#}");
            ExitCode::FAILURE
        }
    }
}

fn run(cli: Cli) -> Result<ExitCode> {
    if let Some(Command::Lab(args)) = cli.command {
        return Ok(warroom::lab::run(args));
    }
    if let Some(Command::Verify { path }) = &cli.command {
        return Ok(warroom::journal::verify::run(path));
    }
    // Shell conventions: no environment needed.
    if let Some(Command::Completions { shell }) = &cli.command {
        return Ok(print_bytes(&warroom::cli::completions(*shell)));
    }
    if let Some(Command::Man { subcommand }) = &cli.command {
        return match warroom::cli::man_page(subcommand.as_deref()) {
            Some(page) => Ok(print_bytes(
                &page.wrap_err("cannot render the manual page")?,
            )),
            None => {
                eprintln!(
                    "error: no subcommand {}: the subcommands are {}",
                    warroom::text::echo(subcommand.as_deref().unwrap_or_default()),
                    warroom::cli::subcommand_names().join(", ")
                );
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        };
    }
    let env = match load_env(cli.console.env.as_deref()) {
        Ok(env) => env,
        Err(BadInput(msg)) => {
            warroom::say_err!("{msg}");
            // `check` reports an invalid file with status 1, an environment like a playbook.
            return Ok(match cli.command {
                Some(Command::Check { .. }) => ExitCode::FAILURE,
                _ => ExitCode::from(EXIT_BAD_INPUT),
            });
        }
    };
    // Every command that takes --theme reads and validates it, not only the console.
    if let Err(e) = Theme::resolve(&cli.console.theme, false) {
        warroom::say_err!("error: bad theme\n{e}");
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    if let Some(path) = cli.console.resume.clone() {
        return match resume_plan(&cli.console, &env, &path) {
            Ok(plan) => console(&cli.console, env, Start::Resume(Box::new(plan))),
            Err(BadInput(msg)) => {
                warroom::say_err!("{msg}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        };
    }
    match cli.command {
        None => console(&cli.console, env, Start::Fresh),
        Some(Command::Follow { path }) => match follow_plan(&cli.console, &env, &path) {
            Ok(plan) => console(&cli.console, env, Start::Follow(Box::new(plan))),
            Err(BadInput(msg)) => {
                warroom::say_err!("{msg}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        },
        Some(Command::Status { json }) => status(&cli.console, &env, json),
        Some(Command::Join {
            url,
            take_command: true,
            ..
        }) => match commands::share::take_command(&cli.console, &env, &url) {
            Ok((path, share, etag)) => match resume_plan(&cli.console, &env, &path) {
                Ok(mut plan) => {
                    plan.took_command = Some((share, etag));
                    console(&cli.console, env, Start::Resume(Box::new(plan)))
                }
                Err(BadInput(msg)) => {
                    warroom::say_err!("{msg}");
                    Ok(ExitCode::from(EXIT_BAD_INPUT))
                }
            },
            Err(BadInput(msg)) => {
                warroom::say_err!("{msg}");
                Ok(ExitCode::from(EXIT_BAD_INPUT))
            }
        },
        Some(Command::Join { url, role, .. }) => {
            match commands::share::join(&cli.console, &env, &url, role) {
                Ok(commands::share::JoinOutcome::Listed(code)) => Ok(code),
                Ok(commands::share::JoinOutcome::Follow(mut plan, joined)) => {
                    plan.joined = Some(*joined);
                    console(&cli.console, env, Start::Follow(plan))
                }
                Err(BadInput(msg)) => {
                    warroom::say_err!("{msg}");
                    Ok(ExitCode::from(EXIT_BAD_INPUT))
                }
            }
        }
        Some(Command::Request {
            url,
            principal,
            role,
            wait,
            sequence,
            ask,
        }) => commands::share::request(
            &cli.console,
            &env,
            &url,
            &principal,
            role,
            &wait,
            sequence,
            ask,
        ),
        Some(Command::RestorePoints {
            db,
            json,
            onset,
            at,
        }) => Ok(restore_points(
            &env,
            &check_wire_options(&cli.console),
            db.as_deref(),
            json,
            onset,
            at,
        )),
        // Handled above.
        Some(
            Command::Lab(_)
            | Command::Verify { .. }
            | Command::Completions { .. }
            | Command::Man { .. },
        ) => Ok(ExitCode::SUCCESS),
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
                            warroom::say_err!("{msg}");
                            Ok(ExitCode::from(EXIT_BAD_INPUT))
                        }
                    },
                    None => console(&cli.console, env, Start::Drill(Box::new(plan))),
                },
                Err(BadInput(msg)) => {
                    warroom::say_err!("error: {msg}");
                    Ok(ExitCode::from(EXIT_BAD_INPUT))
                }
            }
        }
    }
}

fn check(args: &ConsoleArgs, env: &Environment, paths: Vec<PathBuf>) -> ExitCode {
    let paths = if paths.is_empty() {
        vec![args.playbooks.clone()]
    } else {
        paths
    };
    let report = playbook::check_paths(&paths, env);
    let ok: String = report.ok_lines().iter().map(|l| format!("{l}\n")).collect();
    print_stdout(&ok, Form::Text);
    // What the backend will do for each action step, in its own words; and what some steps ask
    // of it that it cannot do or see: say so now.
    let backend = match warroom::backends::action_backend(env, &check_wire_options(args)) {
        Ok(b) => Some(b),
        Err(e) => {
            warroom::say_err!(
                "warning: cannot build the actions of environment {}: {e}",
                env.name
            );
            None
        }
    };
    for file in &report.files {
        let Ok(pb) = &file.result else { continue };
        let Some(backend) = &backend else { break };
        let mut described = String::new();
        for step in &pb.steps {
            let plan = backends::step_plan(env, backend.as_ref(), step, &pb.vars);
            if let Some(what) = plan.action {
                described.push_str(&format!("    {}: {what}\n", step.id));
            }
            for limit in plan.limits {
                warroom::say_err!(
                    "warning: {}: step {}: {limit}",
                    file.path.display(),
                    step.id
                );
            }
        }
        if !described.is_empty() {
            print_stdout(
                &format!("  {} on {} runs:\n{described}", pb.id, backend.name()),
                Form::Text,
            );
        }
    }
    if report.ok() {
        ExitCode::SUCCESS
    } else {
        warroom::say_err!("{}", report.error_text());
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
        Ok(text) => print_stdout(&text, Form::Text),
        Err(e) => {
            warroom::say_err!("error: {e}");
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
    let form = match format {
        warroom::report::Format::Markdown => Form::Text,
        warroom::report::Format::Json => Form::Json,
    };
    match warroom::report::render_path(path, format) {
        Ok(text) => print_stdout(&text, form),
        Err(e) => {
            warroom::say_err!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// `warroom history [DIR]`: one row per journal; broken files are listed, not fatal.
fn history(dir: Option<PathBuf>) -> ExitCode {
    let dir = match dir.map_or_else(warroom::journal::default_dir, Ok) {
        Ok(d) => d,
        Err(e) => {
            warroom::say_err!("error: {e}");
            return ExitCode::from(EXIT_BAD_INPUT);
        }
    };
    match warroom::history::scan(&dir) {
        Ok(h) => print_stdout(&warroom::history::render(&h), Form::Text),
        Err(e) => {
            warroom::say_err!("error: {e}");
            ExitCode::from(EXIT_BAD_INPUT)
        }
    }
}

/// Prints to stdout through the output gate ([`text::print_out`]); a closed pipe (`| head`)
/// is not an error.
fn print_stdout(text: &str, form: Form) -> ExitCode {
    match text::print_out(text, form) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            warroom::say_err!("error: cannot write to stdout: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Generated text (completion scripts, the man page) through the same gate.
fn print_bytes(bytes: &[u8]) -> ExitCode {
    print_stdout(&String::from_utf8_lossy(bytes), Form::Text)
}

fn load_env(path: Option<&Path>) -> Result<Environment, BadInput> {
    match path {
        None => Ok(Environment::demo()),
        Some(p) => {
            Environment::load(p).map_err(|d| BadInput(format!("error: bad environment file\n{d}")))
        }
    }
}

/// `warroom restore-points`: the list (exit 0), or with `--at` the check of one point (exit 1
/// when it cannot be reached); bad input exits 2. PostgreSQL reads its backup directories and
/// WAL archive; an RDS instance is asked for its snapshots and restorable window; a simulated
/// environment lists a fresh simulator's series (`--seed`).
fn restore_points(
    env: &Environment,
    options: &backends::WireOptions,
    db: Option<&str>,
    json: bool,
    onset: Option<chrono::DateTime<Utc>>,
    at: Option<chrono::DateTime<Utc>>,
) -> ExitCode {
    use warroom::restore_points::{RestorePointsError, build, check_point, default_database};
    let history = warroom::recovery::verified::default_path()
        .map(|p| warroom::recovery::verified::load(&p))
        .unwrap_or_default();
    let now = Utc::now();
    let name = db.map(str::to_string).or_else(|| default_database(env));
    let aws = name
        .as_deref()
        .and_then(|n| env.database(n))
        .is_some_and(|d| d.postgres.is_none() && d.aws.is_some());
    let listed = match (&name, env.is_simulated(), aws) {
        (None, ..) => Err(RestorePointsError::NoDatabase),
        (Some(n), true, _) => {
            warroom::restore_points::sim_list(env, n, options.seed, now, onset, &history)
        }
        #[cfg(feature = "aws")]
        (Some(n), false, true) => match tokio::runtime::Runtime::new() {
            Ok(rt) => {
                let connector = backends::connector(env, options);
                rt.block_on(warroom::restore_points::aws_list(
                    env, n, &connector, onset, &history,
                ))
            }
            Err(e) => Err(RestorePointsError::Sim(format!(
                "cannot start the async runtime: {e}"
            ))),
        },
        (Some(n), ..) => build(env, Some(n), onset, &history),
    };
    let list = match listed {
        Ok(l) => l,
        Err(e) => {
            warroom::say_err!("error: {e}");
            return match e {
                RestorePointsError::Pitr(_)
                | RestorePointsError::Aws { .. }
                | RestorePointsError::Sim(_)
                | RestorePointsError::SimCrashed => ExitCode::FAILURE,
                RestorePointsError::UnknownDatabase { .. }
                | RestorePointsError::NoDatabase
                | RestorePointsError::NotPostgres { .. } => ExitCode::from(EXIT_BAD_INPUT),
            };
        }
    };
    let (text, form) = if json {
        (format!("{}\n", list.to_json()), Form::Json)
    } else {
        (list.to_text(), Form::Text)
    };
    if print_stdout(&text, form) != ExitCode::SUCCESS {
        return ExitCode::FAILURE;
    }
    let Some(at) = at else {
        return ExitCode::SUCCESS;
    };
    let checked = if env.is_simulated() || aws {
        list.check(at, now)
            .map(|r| r.describe())
            .map_err(|e| e.to_string())
    } else {
        check_point(env, &list.database, at).map_err(|e| e.to_string())
    };
    match checked {
        Ok(line) => {
            warroom::say_err!("{line}");
            ExitCode::SUCCESS
        }
        Err(e) => {
            warroom::say_err!("refused: {e}");
            ExitCode::FAILURE
        }
    }
}

/// How `check` builds the action backend it asks (no connection is made).
fn check_wire_options(args: &ConsoleArgs) -> backends::WireOptions {
    backends::WireOptions {
        seed: args.seed,
        clock: SessionClock::new(Instant::now(), Utc::now(), 1.0),
        endpoint_url: args.endpoint_url.clone(),
    }
}

fn status(args: &ConsoleArgs, env: &Environment, json: bool) -> Result<ExitCode> {
    let clock = SessionClock::new(Instant::now(), Utc::now(), 1.0);
    let wiring = match wiring(args, env, clock.clone()) {
        Ok(w) => w,
        Err(BadInput(msg)) => {
            warroom::say_err!("error: {msg}");
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
    let history = warroom::recovery::verified::default_path()
        .map(|p| warroom::recovery::verified::load(&p))
        .unwrap_or_default();
    let report = StatusReport::build(env, &board, now).with_verifications(&history);
    for p in &report.problems {
        tracing::warn!(reason = %p.reason.short(), "status: {}", warroom::text::visible(&p.to_string()));
    }
    let (text, form) = if json {
        (format!("{}\n", report.to_json()), Form::Json)
    } else {
        (report.to_text(), Form::Text)
    };
    // A reader that went away (`| head -c1`) ends the output, not the verdict.
    if print_stdout(&text, form) != ExitCode::SUCCESS {
        return Ok(ExitCode::FAILURE);
    }
    Ok(if report.problems.is_empty() {
        ExitCode::SUCCESS
    } else {
        ExitCode::FAILURE
    })
}

/// Logs to a file (owner-only: 0600, a new directory 0700), never to the terminal the console
/// owns; to the default log file only when `default` allows. A log that cannot be opened is not
/// fatal: the console still runs.
fn init_logging(path: Option<&Path>, default: bool) -> Option<()> {
    use std::os::unix::fs::{DirBuilderExt, OpenOptionsExt};
    let path = match path {
        Some(p) => p.to_path_buf(),
        None if default => default_log_path()?,
        None => return None,
    };
    if let Some(dir) = path.parent().filter(|d| !d.as_os_str().is_empty()) {
        std::fs::DirBuilder::new()
            .recursive(true)
            .mode(0o700)
            .create(dir)
            .ok()?;
    }
    let file = std::fs::OpenOptions::new()
        .create(true)
        .append(true)
        .mode(0o600)
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
