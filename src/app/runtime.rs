//! The loop: one inbox of [`Action`]s fed by the terminal reader, a tick timer, one poller task
//! per source and signal handlers; `App::update` in batches; effects run here; redraw only when
//! something visible changed. The terminal is restored on every way out.

use std::collections::{HashMap, VecDeque};
use std::io::Stdout;
use std::ops::ControlFlow;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use ratatui::Terminal;
use ratatui::backend::CrosstermBackend;
use ratatui::crossterm::event::{self, Event};
use ratatui::crossterm::execute;
use ratatui::crossterm::terminal::{
    EnterAlternateScreen, LeaveAlternateScreen, disable_raw_mode, enable_raw_mode,
};
use tokio::sync::mpsc::{UnboundedReceiver, UnboundedSender, unbounded_channel};
use tokio::sync::oneshot;

use super::journal_writer::{JournalAck, JournalTarget, JournalWriter, Stamp};
use crate::actions::run::{ExecEvent, run_argv};
use crate::actions::{ActionBackend, Exec};
use crate::playbook::Input;

use super::{Action, App, Effect};
use crate::clock::SessionClock;
use crate::sim::{Fault, Sim};
use crate::telemetry::source::run_poller;
use crate::telemetry::{Source, SourceError, SourceId};

/// How often the session clock is read (the bar's clock and pane ages move by the second).
pub const TICK_INTERVAL: Duration = Duration::from_millis(250);
/// Longest the terminal reader waits before checking whether to stop.
const INPUT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Most actions handled between two redraws.
const BATCH: usize = 256;

/// Whether the terminal is in raw mode / the alternate screen, for the panic hook.
static TERMINAL_ACTIVE: AtomicBool = AtomicBool::new(false);

/// Leaves raw mode and the alternate screen if this process entered them. Safe to call twice.
pub fn restore_terminal() {
    if TERMINAL_ACTIVE.swap(false, Ordering::SeqCst) {
        let _ = disable_raw_mode();
        let _ = execute!(
            std::io::stdout(),
            LeaveAlternateScreen,
            ratatui::crossterm::cursor::Show
        );
    }
}

/// Installs a panic hook that restores the terminal before the report prints when the UI thread
/// panics. A panic on another thread (a poller task) is logged instead of printed, because
/// printing would scribble over the live screen; the poller's pane goes stale with the message.
/// Call after `color_eyre::install()` (so its report is the one printed) and before any terminal
/// setup.
pub fn install_panic_hook() {
    let ui_thread = std::thread::current().id();
    let previous = std::panic::take_hook();
    std::panic::set_hook(Box::new(move |info| {
        if std::thread::current().id() == ui_thread || !TERMINAL_ACTIVE.load(Ordering::SeqCst) {
            restore_terminal();
            previous(info);
        } else {
            tracing::error!("panic in a background task: {info}");
        }
    }));
}

/// Owns the terminal for the loop's lifetime; restores it when dropped (error paths included).
struct TerminalGuard {
    terminal: Terminal<CrosstermBackend<Stdout>>,
}

impl TerminalGuard {
    fn enter() -> Result<Self> {
        enable_raw_mode()
            .wrap_err("cannot switch the terminal to raw mode (is stdin a terminal?)")?;
        TERMINAL_ACTIVE.store(true, Ordering::SeqCst);
        execute!(std::io::stdout(), EnterAlternateScreen)
            .wrap_err("cannot enter the alternate screen")?;
        let terminal = Terminal::new(CrosstermBackend::new(std::io::stdout()))
            .wrap_err("cannot set up the terminal")?;
        Ok(TerminalGuard { terminal })
    }
}

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        restore_terminal();
    }
}

/// Everything the loop runs besides the App.
pub struct Session {
    pub app: App,
    pub sources: Vec<Box<dyn Source>>,
    pub clock: SessionClock,
    /// Where scenario faults go: the simulator, or a `warroom lab` (drills only).
    pub faults: Option<FaultTarget>,
    /// Faults to inject after a delay of session time (`--fault region-loss@30s`).
    pub scheduled_faults: Vec<(Fault, Duration)>,
    /// End-to-end tests make the console panic on purpose to prove the terminal is restored.
    pub test_panic: Option<TestPanic>,
    /// Runs built-in actions of confirmed steps.
    pub actions: Arc<dyn ActionBackend>,
    /// Refuse every executor, whatever the engine says (defence in depth for `--read-only`).
    pub read_only: bool,
    /// Where incidents are journaled, and who and what the journal header names; `None` for
    /// `warroom follow`, which never writes anything.
    pub journal: Option<JournalSettings>,
    /// `warroom follow`: the journal to tail (nothing is written then).
    pub follow: Option<crate::journal::Tail>,
}

/// Journal events with their stamps.
pub type Records = Vec<(Stamp, crate::playbook::Event)>;

/// Who runs this console: the journal header, `confirmed.by`, `resumed` and the lock name them.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Identity {
    pub operator: String,
    pub host: String,
    pub pid: u32,
}

/// How the runtime journals incidents.
pub struct JournalSettings {
    /// Where the journal of an incident picked in the console goes.
    pub target: JournalTarget,
    pub identity: Identity,
    /// Simulator seed, recorded in the header of simulated sessions.
    pub seed: Option<u64>,
    /// The journal of the incident the console starts with (a drill's, created before the
    /// terminal was taken; a resumed one), with the records to append first.
    pub opened: Option<(crate::journal::Journal, Records)>,
    /// The last recorded stamp (a resumed journal's last event): no record goes before it.
    pub floor: Option<Stamp>,
}

/// The header of a new incident's journal: the playbook and settings of `engine` (read-only
/// included: it stays with the incident), who runs it, the simulator's seed, speed and simulated
/// time (simulated sessions), and `started`: when it starts on the wall clock and in session
/// time.
pub fn incident_header(
    engine: &crate::playbook::Engine,
    mode: super::Mode,
    who: &Identity,
    simulator: Option<(u64, f64)>,
    started: Stamp,
) -> crate::journal::Header {
    let mode = match mode {
        super::Mode::Demo => crate::journal::Mode::Demo,
        super::Mode::Drill => crate::journal::Mode::Drill,
        super::Mode::Live => crate::journal::Mode::Live,
    };
    let mut header = crate::journal::Header::new(
        engine.playbook(),
        engine.settings(),
        mode,
        who.operator.clone(),
        started.at,
    )
    .read_only(engine.settings().read_only);
    if let Some((seed, speed)) = simulator {
        header = header.simulator(seed, speed);
    }
    if let Some(sim) = started.sim {
        header = header.sim_started_at(sim);
    }
    header
}

/// Creates (and locks) a new incident's journal with its header, fsynced: before the incident
/// can record anything, so a journal that cannot be created stops it before it starts.
pub fn create_journal(
    target: &JournalTarget,
    header: &crate::journal::Header,
    _who: &Identity,
) -> Result<crate::journal::Journal, crate::journal::JournalError> {
    match target {
        JournalTarget::File(path) => crate::journal::Journal::create(path, header),
        JournalTarget::Dir(dir) => crate::journal::Journal::create_in(dir, header),
    }
}

/// Where a deliberate panic happens (`WARROOM_TEST_PANIC=ui|poller`), for the end-to-end tests
/// of terminal safety. Nothing else reads the variable.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TestPanic {
    /// In the UI thread right after the first frame.
    Ui,
    /// In an extra poller task at its first poll.
    Poller,
}

impl TestPanic {
    pub fn from_env() -> Option<Self> {
        match std::env::var("WARROOM_TEST_PANIC").ok()?.as_str() {
            "ui" => Some(TestPanic::Ui),
            "poller" => Some(TestPanic::Poller),
            _ => None,
        }
    }
}

/// A source whose first poll panics (see [`TestPanic::Poller`]).
struct PanickingSource;

impl Source for PanickingSource {
    fn name(&self) -> &str {
        "test-panic"
    }
    fn feeds(&self) -> crate::telemetry::source::Feeds {
        crate::telemetry::source::Feeds {
            lag: false,
            backups: true,
            regions: false,
        }
    }
    fn interval(&self) -> Duration {
        Duration::from_millis(200)
    }
    fn poll(
        &mut self,
    ) -> crate::telemetry::source::BoxFuture<'_, Result<crate::telemetry::Sample, SourceError>>
    {
        Box::pin(async { panic!("deliberate poller panic (WARROOM_TEST_PANIC=poller)") })
    }
}

/// Runs the console until the operator quits or a signal arrives; returns the final state (the
/// caller prints where the journal is).
pub async fn run(session: Session) -> Result<App> {
    let Session {
        mut app,
        sources,
        clock,
        faults,
        scheduled_faults,
        test_panic,
        actions,
        read_only,
        journal,
        follow,
    } = session;
    let (tx, mut rx) = unbounded_channel::<Action>();
    let stop = Arc::new(AtomicBool::new(false));
    let mut guard = TerminalGuard::enter()?;

    spawn_input_reader(tx.clone(), Arc::clone(&stop));
    spawn_ticker(tx.clone(), clock);
    spawn_signal_handlers(tx.clone())?;
    let mut sources = sources;
    if test_panic == Some(TestPanic::Poller) {
        app.board
            .sources
            .push(crate::telemetry::board::SourceState {
                name: "test-panic".into(),
                feeds: PanickingSource.feeds(),
                last_ok: None,
                last_error: None,
            });
        sources.push(Box::new(PanickingSource));
    }
    for (index, source) in sources.into_iter().enumerate() {
        spawn_poller(SourceId(index), source, tx.clone(), clock);
    }
    if let Some(target) = &faults {
        for (fault, delay) in scheduled_faults {
            let (target, tx) = (target.clone(), tx.clone());
            tokio::spawn(async move {
                tokio::time::sleep(clock.wall_for(delay.as_secs_f64())).await;
                let (at, result) = split(target.inject(&clock, &fault).await, &clock);
                let _ = tx.send(Action::FaultInjected {
                    at,
                    name: fault.to_string(),
                    result,
                });
            });
        }
    }

    if let Some(tail) = follow {
        spawn_follower(tail, tx.clone(), Arc::clone(&stop));
    }
    let simulated = matches!(faults, Some(FaultTarget::Sim(_)));
    let mut runner = EffectRunner {
        running: HashMap::new(),
        actions,
        read_only,
        clock,
        tx: tx.clone(),
        simulated,
        faults,
        journal: None,
        held: VecDeque::new(),
        journal_failed: None,
        last_stamp: None,
        output: super::output_gate::OutputGate::new(),
    };
    if let Some(settings) = journal {
        let mut writer = JournalWriter::spawn(tx.clone());
        runner.last_stamp = settings.floor;
        if let Some((opened, records)) = settings.opened {
            writer.adopt(opened);
            if !records.is_empty() {
                if let Some((stamp, _)) = records.last() {
                    runner.last_stamp = Some(*stamp);
                }
                writer.append(records);
            }
        }
        runner.journal = Some(JournalPort {
            writer,
            target: settings.target,
            identity: settings.identity,
            seed: settings.seed,
        });
    }
    let result = event_loop(&mut app, &mut guard, &mut rx, &mut runner, test_panic).await;
    runner.kill_all();
    if let Some(port) = &mut runner.journal {
        // Release the lock before the process ends (and drop a journal that recorded nothing).
        port.writer.finish(Duration::from_secs(2));
    }
    stop.store(true, Ordering::SeqCst);
    drop(guard);
    result.map(|()| app)
}

async fn event_loop(
    app: &mut App,
    guard: &mut TerminalGuard,
    rx: &mut UnboundedReceiver<Action>,
    runner: &mut EffectRunner,
    test_panic: Option<TestPanic>,
) -> Result<()> {
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        // The record leads the screen: nothing is drawn while journal writes are outstanding.
        if runner.settled() && app.take_dirty() {
            guard
                .terminal
                .draw(|frame| crate::ui::draw(frame, app))
                .wrap_err("cannot draw to the terminal")?;
            if test_panic == Some(TestPanic::Ui) {
                panic!("deliberate UI panic (WARROOM_TEST_PANIC=ui)");
            }
        }
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            return Ok(());
        }
        for action in batch.drain(..) {
            match &action {
                Action::Journal(ack) => runner.acknowledged(ack),
                Action::Executor(Input::ExecOutput { .. }, _) => runner.output.handled(),
                _ => {}
            }
            for effect in app.update(action) {
                if runner.run(effect, app).is_break() {
                    return Ok(());
                }
            }
        }
    }
}

/// Runs the App's effects: the journal, executors of confirmed steps (by step and attempt),
/// fault injection.
struct EffectRunner {
    running: HashMap<(usize, u32), RunningExec>,
    actions: Arc<dyn ActionBackend>,
    read_only: bool,
    clock: SessionClock,
    tx: UnboundedSender<Action>,
    faults: Option<FaultTarget>,
    /// The environment is the simulator (the journal header records seed and speed, and every
    /// record its simulated time).
    simulated: bool,
    /// `None` in `warroom follow`: nothing is ever written.
    journal: Option<JournalPort>,
    /// Executors waiting for the journal to acknowledge the records before them (ticket).
    held: VecDeque<(u64, Effect)>,
    /// Set once a journal write failed: no executor starts after that.
    journal_failed: Option<String>,
    /// The newest stamp handed to the journal: the next is never earlier.
    last_stamp: Option<Stamp>,
    /// Bounds the step output waiting in the inbox.
    output: super::output_gate::OutputGate,
}

/// The journal side of the runner: the writer thread, and what a new incident's journal needs.
struct JournalPort {
    writer: JournalWriter,
    target: JournalTarget,
    identity: Identity,
    seed: Option<u64>,
}

/// A fault injection's outcome as the action carries it: the session time it took effect (now,
/// when it failed) and the result.
fn split(
    outcome: Result<chrono::DateTime<chrono::Utc>, String>,
    clock: &SessionClock,
) -> (chrono::DateTime<chrono::Utc>, Result<(), String>) {
    match outcome {
        Ok(at) => (at, Ok(())),
        Err(e) => (clock.now(), Err(e)),
    }
}

struct RunningExec {
    /// A `run` step stops through its cancel channel (which kills its process group).
    cancel: Option<oneshot::Sender<()>>,
    task: tokio::task::JoinHandle<()>,
}

impl EffectRunner {
    /// Runs one effect; `Break` when the console must stop.
    fn run(&mut self, effect: Effect, app: &mut App) -> ControlFlow<()> {
        match effect {
            Effect::Quit => return ControlFlow::Break(()),
            Effect::InjectFault(name) => {
                let (target, tx, clock) = (self.faults.clone(), self.tx.clone(), self.clock);
                tokio::spawn(async move {
                    let outcome = match (target, name.parse::<Fault>()) {
                        (Some(target), Ok(fault)) => target.inject(&clock, &fault).await,
                        (None, _) => {
                            Err("faults are only injected on the simulator or in a lab".to_string())
                        }
                        (_, Err(e)) => Err(e.to_string()),
                    };
                    let (at, result) = split(outcome, &clock);
                    let _ = tx.send(Action::FaultInjected { name, at, result });
                });
            }
            effect @ Effect::Execute { .. } => match &self.journal {
                Some(port) if !port.writer.settled() => {
                    // Its `confirmed` record is on its way to disk: start once it is there.
                    self.held.push_back((port.writer.last_ticket(), effect));
                }
                _ => self.release(effect),
            },
            Effect::Kill { step, attempt } => self.kill(step, attempt),
            Effect::Record(at, event) => self.record(at, event, app),
            Effect::NewIncident => self.open_incident(app),
        }
        ControlFlow::Continue(())
    }

    /// Every journal batch handed out is on disk (always, without a journal).
    fn settled(&self) -> bool {
        self.journal.as_ref().is_none_or(|p| p.writer.settled())
    }

    /// The stamp of a record made at session time `at`: the wall clock from the session clock's
    /// monotonic origin, and the simulated time on the simulator; never before the last one.
    fn stamp(&mut self, at: chrono::DateTime<chrono::Utc>) -> Stamp {
        let mut stamp = Stamp {
            at: self.clock.wall(at),
            sim: self.simulated.then_some(at),
        };
        if let Some(last) = self.last_stamp {
            stamp = stamp.not_before(last);
        }
        self.last_stamp = Some(stamp);
        stamp
    }

    /// A playbook was loaded in the console (the picker): create and lock its journal now, header
    /// written, so it can record from its first event; when that fails the App puts back what
    /// it had and says why (nothing was recorded, nothing is lost).
    fn open_incident(&mut self, app: &mut App) {
        let Some(port) = &mut self.journal else {
            return;
        };
        port.writer.close();
        let Some(incident) = &app.incident else {
            return;
        };
        let now = self.clock.now();
        let mut started = Stamp {
            at: self.clock.wall(now),
            sim: self.simulated.then_some(now),
        };
        if let Some(last) = self.last_stamp {
            started = started.not_before(last);
        }
        let simulator = port
            .seed
            .filter(|_| self.simulated)
            .map(|seed| (seed, self.clock.speed()));
        let header = incident_header(
            &incident.engine,
            app.mode,
            &port.identity,
            simulator,
            started,
        );
        match create_journal(&port.target, &header, &port.identity) {
            Ok(journal) => {
                let path = journal.path().to_path_buf();
                tracing::info!(journal = %path.display(), "journal created");
                port.writer.adopt(journal);
                app.journal_opened(path);
            }
            Err(e) => {
                tracing::error!("journal not created: {e}");
                // One line on screen: the message and its help, once.
                app.journal_refused(&e.to_string().replace("\n  help: ", "; "));
            }
        }
    }

    /// Journals an event of the current incident, whose journal was opened when it was loaded.
    fn record(
        &mut self,
        at: chrono::DateTime<chrono::Utc>,
        event: crate::playbook::Event,
        app: &App,
    ) {
        tracing::info!(kind = %crate::playbook::engine::event_kind(&event), "event");
        if app.incident.is_none() || self.journal.is_none() {
            // Demo faults without an incident have no journal to go to (the log has them); a
            // follower writes nothing.
            return;
        }
        let stamp = self.stamp(at);
        if let Some(port) = &mut self.journal {
            port.writer.append(vec![(stamp, event)]);
        }
    }

    /// A journal batch was written (or failed): start the executors that waited for it.
    fn acknowledged(&mut self, ack: &JournalAck) {
        let Some(port) = &mut self.journal else {
            return;
        };
        port.writer.acknowledge(ack.ticket);
        if let Err(e) = &ack.result {
            self.journal_failed = Some(e.clone());
        }
        let acked = port.writer.acked();
        while self.held.front().is_some_and(|(t, _)| *t <= acked) {
            if let Some((_, effect)) = self.held.pop_front() {
                self.release(effect);
            }
        }
    }

    /// Starts an executor whose confirmation is on record, unless the record failed.
    fn release(&mut self, effect: Effect) {
        let Effect::Execute {
            step,
            attempt,
            exec,
            command,
        } = effect
        else {
            return;
        };
        if let Some(why) = &self.journal_failed {
            tracing::error!(
                step,
                attempt,
                command,
                "refused: the journal cannot be written"
            );
            let _ = self.tx.send(Action::Executor(
                Input::ExecFinished {
                    step,
                    attempt,
                    result: Err(format!("not run: the journal cannot be written ({why})")),
                },
                self.clock.now(),
            ));
            return;
        }
        self.start(step, attempt, exec, &command);
    }

    /// Spawns the executor of a confirmed step; its output and end come back as actions.
    fn start(&mut self, step: usize, attempt: u32, exec: Exec, command: &str) {
        self.running.retain(|_, r| !r.task.is_finished());
        let (tx, clock) = (self.tx.clone(), self.clock);
        let report = move |input: Input| tx.send(Action::Executor(input, clock.now())).is_ok();
        if self.read_only {
            // The engine refuses executing steps in read-only mode; this is the second lock.
            tracing::error!(step, attempt, command, "refused: read-only mode");
            report(Input::ExecFinished {
                step,
                attempt,
                result: Err("refused: warroom runs read-only".into()),
            });
            return;
        }
        tracing::info!(step, attempt, command, "executing");
        let entry = match exec {
            Exec::Run { argv, .. } => {
                let (cancel, cancelled) = oneshot::channel();
                let mut valve = self.output.valve();
                let task = tokio::spawn(async move {
                    let line_report = report.clone();
                    let send_line = move |line: String| {
                        line_report(Input::ExecOutput {
                            step,
                            attempt,
                            line,
                        })
                    };
                    // The engine enforces the step timeout in session time and sends Kill. The
                    // valve bounds what waits in the inbox (see `output_gate`).
                    let outcome = run_argv(&argv, None, None, cancelled, |event| match event {
                        ExecEvent::Output { line, .. } => {
                            valve.pass(line).into_iter().all(&send_line)
                        }
                        ExecEvent::Finished(_) => true,
                    })
                    .await;
                    if let Some(notice) = valve.finish() {
                        send_line(notice);
                    }
                    let result = if outcome.success() {
                        Ok(())
                    } else {
                        Err(outcome.describe())
                    };
                    report(Input::ExecFinished {
                        step,
                        attempt,
                        result,
                    });
                });
                RunningExec {
                    cancel: Some(cancel),
                    task,
                }
            }
            Exec::Action(call) => {
                let backend = Arc::clone(&self.actions);
                let gate = self.output.clone();
                let task = tokio::spawn(async move {
                    let progress_report = report.clone();
                    let progress = move |line: String| {
                        // A built-in action says a few lines: counted, never dropped.
                        gate.sent();
                        progress_report(Input::ExecOutput {
                            step,
                            attempt,
                            line,
                        });
                    };
                    let result = match backend.execute(&call, &progress).await {
                        Ok(lines) => {
                            for line in lines {
                                report(Input::ExecOutput {
                                    step,
                                    attempt,
                                    line,
                                });
                            }
                            Ok(())
                        }
                        Err(why) => Err(why),
                    };
                    report(Input::ExecFinished {
                        step,
                        attempt,
                        result,
                    });
                });
                RunningExec { cancel: None, task }
            }
        };
        self.running.insert((step, attempt), entry);
    }

    fn kill(&mut self, step: usize, attempt: u32) {
        if let Some(running) = self.running.remove(&(step, attempt)) {
            match running.cancel {
                Some(cancel) => {
                    let _ = cancel.send(());
                }
                None => running.task.abort(),
            }
        }
    }

    fn kill_all(&mut self) {
        let keys: Vec<_> = self.running.keys().copied().collect();
        for (step, attempt) in keys {
            self.kill(step, attempt);
        }
    }
}

/// Where a drill's scenario fault goes.
#[derive(Clone)]
pub enum FaultTarget {
    /// The simulated deployment.
    Sim(Arc<Mutex<Sim>>),
    /// A `warroom lab` directory: real servers, really broken (region loss only).
    Lab(std::path::PathBuf),
}

impl FaultTarget {
    /// Injects `fault`; returns the session time it took effect.
    pub async fn inject(
        &self,
        clock: &SessionClock,
        fault: &Fault,
    ) -> Result<chrono::DateTime<chrono::Utc>, String> {
        match self {
            FaultTarget::Sim(sim) => inject(sim, clock, fault),
            FaultTarget::Lab(dir) => match fault {
                Fault::RegionLoss => {
                    let done = crate::lab::fault(dir, crate::lab::LabFault::RegionLoss).await?;
                    tracing::info!(lab = %dir.display(), "fault injected: {done}");
                    // The primary is down once the command returns.
                    Ok(clock.now())
                }
                other => Err(format!(
                    "the lab can only lose its primary region, not simulate {other}"
                )),
            },
        }
    }
}

/// Injects `fault` into the simulator at the current session time, which it returns.
pub fn inject(
    sim: &Mutex<Sim>,
    clock: &SessionClock,
    fault: &Fault,
) -> Result<chrono::DateTime<chrono::Utc>, String> {
    let now = clock.now();
    let mut sim = sim
        .lock()
        .map_err(|_| "the simulator crashed earlier".to_string())?;
    sim.advance(now);
    sim.inject(fault.clone(), now).map_err(|e| e.to_string())?;
    tracing::info!(%fault, %now, "fault injected");
    Ok(now)
}

/// How often a follower looks for new journal lines (it must keep up within a second).
const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Tails a journal on a plain thread (file reads block) and forwards new events.
fn spawn_follower(
    mut tail: crate::journal::Tail,
    tx: UnboundedSender<Action>,
    stop: Arc<AtomicBool>,
) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match tail.poll() {
                Ok(events) if events.is_empty() => {}
                Ok(events) => {
                    // The engine's clock (simulated time in drills).
                    let events = events
                        .into_iter()
                        .map(|(seq, stamp, event)| (seq, stamp.session(), event))
                        .collect();
                    if tx.send(Action::Followed(events)).is_err() {
                        return;
                    }
                }
                Err(e) => {
                    let _ = tx.send(Action::FollowFailed(e.to_string()));
                    return;
                }
            }
            std::thread::sleep(FOLLOW_POLL_INTERVAL);
        }
    });
}

/// Reads terminal events on a plain thread (crossterm's reader blocks) and forwards them.
fn spawn_input_reader(tx: UnboundedSender<Action>, stop: Arc<AtomicBool>) {
    std::thread::spawn(move || {
        while !stop.load(Ordering::SeqCst) {
            match event::poll(INPUT_POLL_INTERVAL) {
                Ok(false) => continue,
                Ok(true) => {}
                Err(e) => {
                    tracing::error!("terminal input failed: {e}");
                    let _ = tx.send(Action::Quit);
                    return;
                }
            }
            let action = match event::read() {
                Ok(Event::Key(key)) => Action::Key(key),
                Ok(Event::Resize(w, h)) => Action::Resize(w, h),
                Ok(_) => continue,
                Err(e) => {
                    tracing::error!("terminal input failed: {e}");
                    Action::Quit
                }
            };
            if tx.send(action).is_err() {
                return;
            }
        }
    });
}

fn spawn_ticker(tx: UnboundedSender<Action>, clock: SessionClock) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TICK_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            if tx.send(Action::Tick(clock.now())).is_err() {
                return;
            }
        }
    });
}

fn spawn_signal_handlers(tx: UnboundedSender<Action>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    for kind in [
        SignalKind::terminate(),
        SignalKind::hangup(),
        SignalKind::interrupt(),
    ] {
        let mut stream = signal(kind).wrap_err("cannot install a signal handler")?;
        let tx = tx.clone();
        tokio::spawn(async move {
            if stream.recv().await.is_some() {
                let _ = tx.send(Action::Quit);
            }
        });
    }
    Ok(())
}

/// Spawns a source's poller and a watcher that turns a poller panic into a stale pane.
fn spawn_poller(
    id: SourceId,
    source: Box<dyn Source>,
    tx: UnboundedSender<Action>,
    clock: SessionClock,
) {
    let poll_tx = tx.clone();
    let handle = tokio::spawn(run_poller(id, source, move |id, result| {
        poll_tx
            .send(Action::Telemetry(id, result, clock.now()))
            .is_ok()
    }));
    tokio::spawn(async move {
        if let Err(e) = handle.await
            && e.is_panic()
        {
            let message = panic_message(e.into_panic());
            tracing::error!(source = id.0, "poller panicked: {message}");
            let _ = tx.send(Action::Telemetry(
                id,
                Err(SourceError::Crashed { message }),
                clock.now(),
            ));
        }
    });
}

fn panic_message(payload: Box<dyn std::any::Any + Send>) -> String {
    payload
        .downcast_ref::<&str>()
        .map(|s| (*s).to_string())
        .or_else(|| payload.downcast_ref::<String>().cloned())
        .unwrap_or_else(|| "unknown panic".to_string())
}
