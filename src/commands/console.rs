//! The interactive console: the session built from a [`Start`], then the runtime's loop.

use std::path::Path;
use std::process::ExitCode;
use std::sync::Arc;
use std::time::{Duration, Instant};

use chrono::{TimeDelta, Utc};
use color_eyre::eyre::{Result, WrapErr};

use warroom::app::flash::Flash;
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

use super::journal_api::{identity, last_stamp, started_read_only};
use super::start::{Start, lab_dir};
use super::{BadInput, EXIT_BAD_INPUT};
use warroom::app::journal_writer::Stamp;

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
            warroom::say_err!("{e}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    let mut scheduled = Vec::new();
    for spec in &args.fault {
        match parse_fault_spec(spec) {
            Ok(f) => scheduled.push(f),
            Err(msg) => {
                warroom::say_err!("error: --fault {spec:?}: {msg}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
        }
    }
    let who = identity(args);
    // The shared war room: a driver mirrors its journal (`--share`, `[share] url`); a joiner's
    // session comes with its follow plan. Read (roster, URL) before the terminal is taken.
    let (share, joined_role) = match &start {
        Start::Follow(_) => (None, None),
        Start::Resume(plan) if plan.took_command.is_some() => {
            let (url, etag) = plan.took_command.clone().unzip();
            match (url, etag) {
                (Some(url), etag) => match super::share::driver_share_at(args, &env, url, etag) {
                    Ok(s) => (Some(s), None),
                    Err(BadInput(msg)) => {
                        warroom::say_err!("{msg}");
                        return Ok(ExitCode::from(EXIT_BAD_INPUT));
                    }
                },
                (None, _) => (None, None),
            }
        }
        _ => match super::share::driver_share(args, &env) {
            Ok(s) => (s, None),
            Err(BadInput(msg)) => {
                warroom::say_err!("{msg}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
        },
    };
    let mut share = share;
    let mut joined_role = joined_role;
    // The driver's key signs its armings (steps that need approvals).
    let share_signer = match (&share, &args.key) {
        (Some(_), Some(path)) => match warroom::share::sig::Signer::from_file(path) {
            Ok(signer) => {
                let fingerprint = signer.fingerprint();
                let sign: runtime::ArmSign = Arc::new(move |m: &[u8]| signer.sign(m));
                Some((fingerprint, sign))
            }
            Err(e) => {
                warroom::say_err!("error: {e}");
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
        },
        _ => None,
    };
    let mut start = start;
    if let Start::Follow(plan) = &mut start
        && let Some(joined) = plan.joined.take()
    {
        share = Some(joined.session);
        joined_role = Some(joined.role);
    }
    // A new journal must be possible before the terminal is taken: `--journal PATH` must not
    // exist and its directory must. (A drill's is created right below; an incident picked in
    // the console gets its journal when it is picked.)
    let journal_target = match journal_target(args, &start) {
        Ok(t) => t,
        Err(BadInput(msg)) => {
            warroom::say_err!("{msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    // A resumed or followed session continues the journal's clock (see `JournalClock`).
    let wall_now = Utc::now();
    let resumed_clock = match &start {
        Start::Resume(plan) => Some(journal_clock(&plan.replay, args, wall_now)),
        Start::Follow(plan) => Some(journal_clock(&plan.replay, args, wall_now)),
        _ => None,
    };
    let (speed, seed) = resumed_clock
        .as_ref()
        .map_or((args.speed, args.seed), |c| (c.speed, c.seed));
    let clock = match &resumed_clock {
        Some(c) => {
            let clock =
                SessionClock::new(Instant::now(), c.session, c.speed).with_wall_origin(c.wall);
            match c.paused_for {
                // The journal ended paused: the drill resumes paused (the world stood still),
                // and a follower's clock stands still with the writer's.
                Some(paused) => clock.paused_since(paused),
                None => clock,
            }
        }
        None => SessionClock::new(Instant::now(), wall_now, speed),
    };
    let wiring_args = ConsoleArgs {
        seed,
        ..args.clone()
    };
    let mut wiring = match wiring(&wiring_args, &env, clock.clone()) {
        Ok(w) => w,
        Err(BadInput(msg)) => {
            warroom::say_err!("error: {msg}");
            return Ok(ExitCode::from(EXIT_BAD_INPUT));
        }
    };
    // Only the simulator's time can run faster: a real environment's readings come at wall
    // time, and an engine running N times faster would mix the two clocks in every figure.
    if wiring.sim.is_none() && (speed - 1.0).abs() > f64::EPSILON {
        warroom::say_err!(
            "error: --speed {speed} applies to the simulator only: environment {:?} is real and \
             runs in real time\n  help: drop --speed, or drill on the simulator (no --env)",
            env.name
        );
        return Ok(ExitCode::from(EXIT_BAD_INPUT));
    }
    if let Start::Resume(plan) = &start
        && let Some(sim) = &wiring.sim
    {
        // The simulated world is replayed to the last event, then runs on to the resumed
        // clock's start (it kept running while the console was down).
        let events = plan.replay.timeline();
        let rebuilt = backends::rebuild_simulation(
            &env,
            seed,
            plan.replay
                .header
                .sim_started_at
                .unwrap_or(plan.replay.header.started_at),
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
        // A follower only reads the journal: no pollers, nothing that could act. One who
        // joined a shared incident of a real environment keeps its own pollers (read-only) for
        // the panes; a simulator's would be another world.
        if joined_role.is_none() || wiring.sim.is_some() {
            wiring.sources.clear();
        }
        wiring.sim = None;
    }
    // Read-only is a property of the incident: a journal started read-only resumes read-only.
    let read_only = match &start {
        Start::Resume(plan) => args.read_only || started_read_only(&plan.replay),
        _ => args.read_only,
    };
    let simulated = wiring.sim.is_some();
    let sources = wiring.sources;
    let board = if joined_role.is_some() && sources.is_empty() {
        // One who joined without pollers of its own: the driver's snapshot feeds every pane
        // (stale after three missed snapshots).
        Board::new(
            [(
                warroom::share::panes::SOURCE.to_string(),
                warroom::telemetry::source::Feeds::ALL,
            )],
            TimeDelta::from_std(3 * warroom::share::panes::EVERY).unwrap_or_default()
                * i32::try_from(clock.speed().round() as i64)
                    .unwrap_or(1)
                    .max(1),
        )
    } else {
        Board::new(
            sources.iter().map(|s| (s.name().to_string(), s.feeds())),
            stale_after(&sources, clock.speed()),
        )
    };
    let (playbooks, problems) = load_playbooks(&args.playbooks, &env);
    let mut app = App::new(env, mode, theme, board, clock.now(), clock.speed());
    app.aws_endpoint = args.endpoint_url.clone().or_else(|| {
        std::env::var("AWS_ENDPOINT_URL")
            .ok()
            .filter(|u| !u.is_empty())
    });
    app.describer = Some(warroom::actions::Describer(Arc::clone(&wiring.actions)));
    app.read_only = read_only;
    // Only a simulated clock can be paused or fast-forwarded; a follower only mirrors.
    app.pace.controllable = simulated && !matches!(start, Start::Follow(_));
    app.pace.paused = clock.paused_for();
    app.operator = who.operator.clone();
    app.playbooks = playbooks;
    app.share = match (joined_role, &share) {
        (Some(role), _) => Some(warroom::app::ShareState::Joined { role, view: None }),
        (None, Some(_)) => Some(warroom::app::ShareState::Driving(Default::default())),
        (None, None) => None,
    };
    let (share_key, arm_signer) = share_signer.unzip();
    app.share_key = share_key;
    if let Some(problem) = problems.first() {
        app.flash = Some(Flash::new(clock.now(), format!("not offered: {problem}")));
    }
    let mut opened = None;
    let mut floor = None;
    let mut follow = None;
    match start {
        Start::Fresh => {}
        Start::Drill(plan) => {
            scheduled.push((plan.fault, plan.delay));
            app.start_incident(plan.playbook);
            // Its journal is created, locked and its header written now, before the terminal
            // is taken: a drill that cannot be recorded does not start.
            let Some(incident) = &app.incident else {
                return Ok(ExitCode::FAILURE);
            };
            let header = runtime::incident_header(
                &incident.engine,
                mode,
                &who,
                simulated.then_some((seed, speed)),
                Stamp {
                    at: clock.wall_now(),
                    sim: simulated.then(|| clock.now()),
                },
            );
            match runtime::create_journal(&journal_target, &header, &who) {
                Ok(journal) => {
                    app.journal_path = Some(journal.path().to_path_buf());
                    app.share_incident();
                    opened = Some((journal, Vec::new()));
                }
                Err(e) => {
                    // The error carries its own `help:` line.
                    warroom::say_err!(
                        "error: the drill's journal cannot be created: {e}\nNothing was started."
                    );
                    return Ok(ExitCode::from(EXIT_BAD_INPUT));
                }
            }
            app.flash = Some(warroom::app::drill_welcome(clock.now()));
        }
        Start::Resume(plan) => {
            let plan = *plan;
            let Some(jc) = resumed_clock else {
                return Ok(ExitCode::FAILURE);
            };
            let settings = playbook::EngineSettings::new(&plan.playbook, app.env.clone())
                .read_only(read_only)
                .operator(who.operator.clone())
                .mode(mode.badge().to_lowercase())
                .occasion(mode.occasion());
            let events = plan.replay.timeline();
            let now = clock.now();
            let (mut engine, effects) =
                match playbook::Engine::resume(plan.playbook, settings, events.clone(), now) {
                    Ok(r) => r,
                    Err(e) => {
                        warroom::say_err!(
                            "error: {}: cannot resume: {e}",
                            at_line(plan.journal.path(), &plan.replay, &e)
                        );
                        return Ok(ExitCode::from(EXIT_BAD_INPUT));
                    }
                };
            let resumed = playbook::Event::Resumed {
                gap_secs: jc.gap_secs,
                host: who.host.clone(),
                operator: who.operator.clone(),
                pid: who.pid,
            };
            // The engine's own scorecard lists this resume too, as the report will.
            if let Err(e) = engine.apply_recorded(events.len(), now, &resumed) {
                warroom::say_err!(
                    "error: {}: cannot resume: {e}",
                    plan.journal.path().display()
                );
                return Ok(ExitCode::from(EXIT_BAD_INPUT));
            }
            // A journal that ended fast-forwarding: the clock is back at the drill's speed.
            let mut back_to_speed = Vec::new();
            if let Some((to, step)) = jc.fast_forward.clone().filter(|_| simulated) {
                back_to_speed = engine.clock_changed(
                    playbook::ClockChange::Speed {
                        from: to,
                        to: jc.speed,
                        reason: playbook::SpeedReason::Resumed,
                        step,
                    },
                    now,
                );
            }
            app.adopt_incident(engine, &events);
            app.journal_path = Some(plan.journal.path().to_path_buf());
            app.share_incident();
            // The record says first that the console stopped and came back, and for how long.
            let stamp = Stamp {
                at: jc.wall,
                sim: simulated.then_some(now),
            };
            let records: Vec<_> = std::iter::once(resumed)
                .chain(
                    back_to_speed
                        .into_iter()
                        .chain(effects)
                        .filter_map(|e| match e {
                            playbook::Effect::Record(event) => Some(event),
                            _ => None,
                        }),
                )
                .map(|event| (stamp, event))
                .collect();
            if let Some(incident) = &mut app.incident {
                for (_, event) in &records {
                    incident.note_timeline(now, event);
                }
            }
            let mut notice = plan
                .notice
                .unwrap_or_else(|| format!("resumed from {}", plan.journal.path().display()));
            if read_only && !args.read_only {
                notice.push_str(" · read-only: the incident was started read-only");
            }
            if jc.paused_for.is_some() && simulated {
                notice.push_str(" · PAUSED as it was left: P resumes the clock");
            }
            // The HA interlock: a journal left with automatic failover paused offers the resume.
            if let Some((since, db)) = app
                .incident
                .as_ref()
                .and_then(|i| i.engine.failover_paused())
            {
                notice.push_str(&format!(
                    " · automatic failover of {}'s cluster PAUSED since {} UTC: the \
                     \"Resume automatic failover\" step at the end resumes it",
                    warroom::env::short_name(db),
                    since.format("%H:%M:%S")
                ));
            }
            app.flash = Some(Flash::new(now, notice));
            floor = Some(jc.last);
            opened = Some((plan.journal, records));
        }
        Start::Follow(plan) => {
            let plan = *plan;
            let settings = playbook::EngineSettings::new(&plan.playbook, app.env.clone())
                .mode(mode.badge().to_lowercase())
                .occasion(mode.occasion());
            let events = plan.replay.timeline();
            match playbook::Engine::replay(plan.playbook, settings, events.clone()) {
                Ok(engine) => app.adopt_incident(engine, &events),
                Err(e) => {
                    warroom::say_err!(
                        "error: {}: cannot follow: {e}",
                        at_line(&plan.path, &plan.replay, &e)
                    );
                    return Ok(ExitCode::from(EXIT_BAD_INPUT));
                }
            }
            // What a joiner acts on (the arming an approver is shown, the sequence seen) from
            // the events before it joined.
            for (seq, _, event) in &plan.replay.events {
                app.joined_saw(*seq, event);
            }
            app.following = Some(plan.path.clone());
            follow = Some(warroom::journal::Tail::after(plan.path, &plan.replay));
        }
    }
    // Earlier drills of every playbook the console offers (and the incident's), for the step
    // list: read now, before the terminal is taken (the UI thread never reads a file); bounded
    // to the most recent journals of each.
    let dir = app
        .journal_path
        .as_deref()
        .and_then(Path::parent)
        .map(Path::to_path_buf)
        .or_else(|| warroom::journal::default_dir().ok());
    if let Some(dir) = dir {
        let mut ids: std::collections::BTreeSet<String> =
            app.playbooks.iter().map(|p| p.id.clone()).collect();
        if let Some(incident) = &app.incident {
            ids.insert(incident.engine.playbook().id.clone());
        }
        for id in ids {
            let past = warroom::past::load(&dir, &id, app.journal_path.as_deref());
            if !past.steps.is_empty() {
                app.past_drills.insert(id, past);
            }
        }
    }
    let faults = match (&wiring.sim, mode) {
        (Some(sim), _) => Some(runtime::FaultTarget::Sim(Arc::clone(sim))),
        (None, Mode::Drill) => lab_dir(&app.env).map(runtime::FaultTarget::Lab),
        (None, _) => None,
    };
    // A follower never writes: it has no journal at all.
    let journal = app.following.is_none().then(|| JournalSettings {
        target: journal_target,
        identity: who,
        seed: Some(seed),
        opened,
        floor,
    });
    let rt = tokio::runtime::Runtime::new().wrap_err("cannot start the async runtime")?;
    let app = rt.block_on(runtime::run(Session {
        app,
        sources,
        clock,
        faults,
        scheduled_faults: scheduled,
        test_panic: runtime::TestPanic::from_env(),
        actions: wiring.actions,
        read_only,
        journal,
        follow,
        share,
        arm_signer,
    }))?;
    if let Some(path) = app
        .journal_path
        .as_ref()
        .filter(|p| app.following.is_none() && p.exists())
    {
        // After the console, through the output gate: a closed stdout ends these lines quietly.
        // An incident left unfinished says how to go on with it.
        let unfinished = app
            .incident
            .as_ref()
            .is_some_and(|i| i.engine.declared_at().is_some() && !i.engine.is_finished());
        let resume = if unfinished {
            format!(
                "continue: warroom --resume {}\n(the incident's clock runs on until you resume: \
                 the time closed counts in its RTO)\n",
                path.display()
            )
        } else {
            String::new()
        };
        let _ = warroom::text::print_out(
            &format!(
                "journal: {}\npostmortem: warroom report {}\n{resume}",
                path.display(),
                path.display()
            ),
            warroom::text::Form::Text,
        );
    }
    // Background pollers may be mid-call; do not wait for them to notice.
    rt.shutdown_timeout(Duration::from_millis(100));
    if let Some(exit) = &app.signal_exit {
        let message = signal_exit_message(args, &app, exit);
        use std::io::Write as _;
        let _ = std::io::stderr().lock().write_all(message.as_bytes());
        // As is customary: 128 plus the signal's number.
        return Ok(ExitCode::from(128 + exit.signal.number()));
    }
    Ok(ExitCode::SUCCESS)
}

/// What the console says on stderr when a signal ended it: the steps interrupted, whether the
/// record is safe, and the exact command that continues the incident.
fn signal_exit_message(args: &ConsoleArgs, app: &App, exit: &warroom::app::SignalExit) -> String {
    use warroom::playbook::model::shell_quote;
    use warroom::text::visible;
    let signal = exit.signal.name();
    let mut out = format!("warroom: ended by {signal}\n");
    for (id, title, attempt) in &exit.interrupted {
        out.push_str(&format!(
            "warroom: interrupted step {} ({}), attempt {attempt}: its processes were killed \
             and the journal records it failed \"interrupted\"; check its effect before you \
             retry it\n",
            visible(id),
            visible(title)
        ));
    }
    if let Some(e) = &app.journal_error {
        out.push_str(&format!(
            "warroom: the journal may be missing its last records: {}\n",
            visible(e)
        ));
    }
    let unfinished = app
        .incident
        .as_ref()
        .is_some_and(|i| i.engine.declared_at().is_some() && !i.engine.is_finished());
    // A follower never writes: the console that does is the one to resume.
    let journal = app
        .journal_path
        .as_ref()
        .filter(|p| app.following.is_none() && p.exists());
    if let Some(path) = journal {
        if unfinished {
            let mut command = String::from("warroom");
            if let Some(env) = &args.env {
                command.push_str(&format!(
                    " --env {}",
                    shell_quote(&env.display().to_string())
                ));
            }
            if args.playbooks != Path::new("playbooks") {
                command.push_str(&format!(
                    " --playbooks {}",
                    shell_quote(&args.playbooks.display().to_string())
                ));
            }
            command.push_str(&format!(
                " --resume {}",
                shell_quote(&path.display().to_string())
            ));
            out.push_str(&format!("warroom: resume with: {}\n", visible(&command)));
        } else {
            out.push_str(&format!(
                "warroom: journal: {}\n",
                visible(&path.display().to_string())
            ));
        }
    }
    out
}

/// Where new journals go: `--journal PATH` (which must not exist yet, in a directory that
/// does), else the incidents directory. Checked before the terminal is taken.
fn journal_target(args: &ConsoleArgs, start: &Start) -> Result<JournalTarget, BadInput> {
    if matches!(start, Start::Follow(_) | Start::Resume(_)) {
        // Nothing new is created (a follower writes nothing; a resume appends).
        return Ok(JournalTarget::File(
            args.journal.clone().unwrap_or_default(),
        ));
    }
    match &args.journal {
        Some(path) => {
            if path.symlink_metadata().is_ok() {
                return Err(BadInput(format!(
                    "error: {}: already exists, and journals are never overwritten\nhelp: choose \
                     another --journal path, or continue that incident with --resume {}",
                    path.display(),
                    path.display()
                )));
            }
            let dir = match path.parent() {
                Some(d) if !d.as_os_str().is_empty() => d.to_path_buf(),
                _ => std::path::PathBuf::from("."),
            };
            if !dir.is_dir() {
                return Err(BadInput(format!(
                    "error: {}: the directory {} does not exist\nhelp: create it, or choose \
                     another --journal path",
                    path.display(),
                    dir.display()
                )));
            }
            Ok(JournalTarget::File(path.clone()))
        }
        None => warroom::journal::default_dir()
            .map(JournalTarget::Dir)
            .map_err(|e| BadInput(format!("error: {e}"))),
    }
}

/// Where a resumed (or followed) session's clocks start.
///
/// The wall clock continues from now, never before the last recorded event. A live incident's
/// session clock is the wall clock. A simulated drill's continues from the last event's
/// simulated time plus the wall-clock gap times the speed: the simulated world kept running
/// while the console was down, so the RTO clock shown after a resume is never behind the one
/// shown before the stop.
struct JournalClock {
    /// Session time at the start.
    session: chrono::DateTime<Utc>,
    /// Wall-clock UTC at the start.
    wall: chrono::DateTime<Utc>,
    speed: f64,
    seed: u64,
    /// Wall-clock seconds since the last event (0 when a v1 drill journal cannot tell).
    gap_secs: u64,
    /// The last event's stamp: nothing is recorded before it.
    last: Stamp,
    /// The journal ended paused (`clock_paused` last): for how long so far on the wall.
    paused_for: Option<Duration>,
    /// The journal ended fast-forwarding.
    fast_forward: Option<FastForwardLeft>,
}

/// A fast-forward a journal ended in: the speed it ran at, and the step whose wait it was.
type FastForwardLeft = (f64, Option<String>);

/// How a journal's clock was left: paused since when (wall clock), fast-forwarding.
fn pace_at_end(
    replay: &warroom::journal::Replay,
) -> (Option<chrono::DateTime<Utc>>, Option<FastForwardLeft>) {
    use warroom::playbook::{Event, SpeedReason};
    let mut paused = None;
    let mut fast_forward = None;
    for (_, stamp, event) in &replay.events {
        match event {
            Event::ClockPaused {} => paused = Some(stamp.at),
            Event::ClockResumed { .. } => paused = None,
            Event::SpeedChanged {
                to, reason, step, ..
            } => {
                fast_forward = (*reason == SpeedReason::FastForward).then(|| (*to, step.clone()));
            }
            _ => {}
        }
    }
    (paused, fast_forward)
}

fn journal_clock(
    replay: &warroom::journal::Replay,
    args: &ConsoleArgs,
    wall_now: chrono::DateTime<Utc>,
) -> JournalClock {
    let h = &replay.header;
    let last = last_stamp(replay);
    let wall = wall_now.max(last.at);
    let gap = wall - last.at;
    let gap_secs = u64::try_from(gap.num_seconds()).unwrap_or(0);
    let (paused_since, fast_forward) = pace_at_end(replay);
    // The pause goes on: how long it has lasted on the wall, the console's absence included.
    let paused_for = paused_since.map(|p| (wall - p).to_std().unwrap_or_default());
    match (h.seed, h.speed) {
        (Some(seed), Some(speed)) => match last.sim {
            Some(sim) => JournalClock {
                // A paused world did not run while the console was down; a running one ran at
                // the drill's speed (a fast-forward ends with the console).
                session: if paused_for.is_some() {
                    sim
                } else {
                    sim + TimeDelta::milliseconds((gap.num_milliseconds() as f64 * speed) as i64)
                },
                wall,
                speed,
                seed,
                gap_secs,
                last,
                paused_for,
                fast_forward,
            },
            // A v1 drill journal has the simulated time only: continue from it.
            None => JournalClock {
                session: last.at,
                wall: wall_now,
                speed,
                seed,
                gap_secs: 0,
                last: Stamp {
                    at: wall_now,
                    sim: Some(last.at),
                },
                paused_for: None,
                fast_forward: None,
            },
        },
        _ => JournalClock {
            session: wall,
            wall,
            speed: 1.0,
            seed: args.seed,
            gap_secs,
            last,
            paused_for: None,
            fast_forward: None,
        },
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

/// `path:line` of the journal line a resume error is about: the event it names, or the
/// `declared` event for a playbook that changed; `path` alone when no line is known.
fn at_line(
    path: &std::path::Path,
    replay: &warroom::journal::Replay,
    e: &playbook::ResumeError,
) -> String {
    let index = match e {
        playbook::ResumeError::UnknownStep { index, .. }
        | playbook::ResumeError::NotDeclared { index, .. } => Some(*index),
        playbook::ResumeError::PlaybookChanged { .. } => replay
            .events
            .iter()
            .position(|(_, _, ev)| matches!(ev, playbook::Event::Declared { .. })),
    };
    // Line 1 is the header; event `seq` is on line `seq + 1`.
    match index.and_then(|i| replay.events.get(i)) {
        Some((seq, _, _)) => format!("{}:{}", path.display(), seq + 1),
        None => path.display().to_string(),
    }
}
