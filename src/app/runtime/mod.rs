//! The loop: one inbox of [`Action`]s fed by the terminal reader, a tick timer, one poller task
//! per source and signal handlers; `App::update` in batches; effects run here; redraw only when
//! something visible changed. The terminal is restored on every way out.
//!
//! Split along its seams: [`terminal`] (raw mode, the alternate screen, the panic hook),
//! [`journaling`] (who runs the console and how its incidents are journaled), [`effects`] (the
//! effect runner: journal, executors, faults), [`tasks`] (the threads and tasks that feed the
//! inbox: terminal input, ticks, signals, pollers, the follower).

mod effects;
mod journaling;
#[cfg(test)]
mod loop_tests;
mod tasks;
mod terminal;

use effects::{EffectRunner, JournalPort, split};
pub use effects::{FaultTarget, inject};
pub use journaling::{Identity, JournalSettings, Records, create_journal, incident_header};
pub use tasks::TestPanic;
use tasks::{
    PanickingSource, spawn_arm_signer, spawn_follower, spawn_input_reader, spawn_poller,
    spawn_reaper, spawn_signal_handlers, spawn_ticker,
};
use terminal::TerminalGuard;
pub use terminal::{install_panic_hook, restore_terminal};

use std::collections::{HashMap, VecDeque};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use color_eyre::eyre::Result;
use tokio::sync::mpsc::{UnboundedReceiver, unbounded_channel};

use super::journal_writer::JournalWriter;
use crate::actions::ActionBackend;
use crate::playbook::Input;

use super::{Action, App};
use crate::clock::SessionClock;
use crate::sim::Fault;
use crate::telemetry::{Source, SourceId};

/// How often the session clock is read (the bar's clock and pane ages move by the second).
pub const TICK_INTERVAL: Duration = Duration::from_millis(250);
/// Longest the terminal reader waits before checking whether to stop.
pub(super) const INPUT_POLL_INTERVAL: Duration = Duration::from_millis(250);
/// Most actions handled between two redraws.
const BATCH: usize = 256;

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
    /// The shared war room: mirror the journal and take requests (driver), or keep a joined
    /// incident's local copy up to date (joiner).
    pub share: Option<ShareSession>,
    /// The driver's key, which signs armings of steps that need approvals (`--key`): run off
    /// the UI thread (`Effect::SignArming`), the App knows only its fingerprint.
    pub arm_signer: Option<ArmSign>,
}

/// Signs bytes with the driver's SSH key: the armoured SSHSIG signature, or why not. Through
/// an ssh-agent this is socket I/O (bounded by the agent's timeout): the runtime calls it on
/// its own thread, never on the UI thread.
pub type ArmSign =
    Arc<dyn Fn(&[u8]) -> std::result::Result<String, crate::share::sig::SignError> + Send + Sync>;

/// The shared war room's part of a session.
pub struct ShareSession {
    pub store: Arc<dyn crate::share::store::Store>,
    pub url: crate::share::ShareUrl,
    pub kind: ShareKind,
}

pub enum ShareKind {
    /// This console writes the journal: mirror it, take requests checked against `trust`,
    /// hold command (the lease) as `claimant`, from `lease` (an ETag: taken before the console
    /// started, `--take-command`) or taken when the journal exists.
    Drive {
        trust: crate::share::ingest::Trust,
        claimant: crate::share::lease::Claimant,
        lease: Option<String>,
    },
    /// This console joined: keep the local copy (which the follower tails) up to date, and
    /// send the requests its keys make, signed by `requester` (`None`: no `--key`).
    Join {
        copy: crate::share::join::Copy,
        requester: Option<crate::share::request::Requester>,
    },
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
        share,
        arm_signer,
    } = session;
    let (tx, mut rx) = unbounded_channel::<Action>();
    let stop = Arc::new(AtomicBool::new(false));
    // A step's orphaned descendants come to us, not init: see `actions::tree`.
    crate::actions::tree::become_subreaper();
    let mut guard = TerminalGuard::enter()?;

    spawn_input_reader(tx.clone(), Arc::clone(&stop));
    spawn_ticker(tx.clone(), clock.clone());
    spawn_signal_handlers(tx.clone())?;
    spawn_reaper();
    let mut sources = sources;
    if test_panic == Some(TestPanic::Poller) {
        app.board
            .sources
            .push(crate::telemetry::board::SourceState {
                name: "test-panic".into(),
                feeds: PanickingSource.feeds(),
                last_ok: None,
                last_error: None,
                failures: Vec::new(),
            });
        sources.push(Box::new(PanickingSource));
    }
    for (index, source) in sources.into_iter().enumerate() {
        spawn_poller(SourceId(index), source, tx.clone(), clock.clone());
    }
    // A scheduled fault waits for a complete screen: every source has reported once.
    let (baseline_tx, baseline_rx) = tokio::sync::watch::channel(false);
    if let Some(target) = &faults {
        for (fault, delay) in scheduled_faults {
            let mut baseline = baseline_rx.clone();
            let (target, tx, clock) = (target.clone(), tx.clone(), clock.clone());
            // The delay is session time from now: a pause holds the fault back, a faster clock
            // brings it sooner.
            let due =
                clock.now() + chrono::TimeDelta::from_std(delay).unwrap_or(chrono::TimeDelta::MAX);
            tokio::spawn(async move {
                let _ = baseline.wait_for(|complete| *complete).await;
                wait_for_session_time(&clock, due).await;
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
    // The journal the shared log mirrors (it changes when an incident is picked).
    let (journal_watch, journal_rx) = tokio::sync::watch::channel(app.journal_path.clone());
    // How many bytes of the journal are written and fsynced (all its batches acknowledged):
    // the mirror puts nothing beyond, so the shared log never holds a line a crash could lose.
    let (synced_tx, synced_rx) = tokio::sync::watch::channel(0u64);
    let links = share.map(|share| spawn_share(share, journal_rx, synced_rx, &tx));
    let lease_asks = links.as_ref().and_then(|l| l.lease_asks.clone());
    let requests = links.as_ref().and_then(|l| l.requests.clone());
    let panes = links.and_then(|l| l.panes);
    let simulated = matches!(faults, Some(FaultTarget::Sim(_)));
    let mut runner = EffectRunner {
        running: HashMap::new(),
        actions,
        read_only,
        clock: clock.clone(),
        tx: tx.clone(),
        simulated,
        faults,
        journal: None,
        held: VecDeque::new(),
        journal_failed: None,
        last_stamp: None,
        output: super::output_gate::OutputGate::new(),
        signer: arm_signer.and_then(|sign| spawn_arm_signer(sign, tx.clone(), clock.clone())),
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
    let result = event_loop(
        &mut app,
        &mut guard.terminal,
        &mut rx,
        &mut runner,
        test_panic,
        baseline_tx,
        ShareLinks {
            journal: &journal_watch,
            synced: &synced_tx,
            lease_asks: lease_asks.as_ref(),
            panes: panes.as_ref(),
            requests: requests.as_ref(),
        },
    )
    .await;
    // Every step's process tree ends with the console; what cannot be killed is journaled.
    runner.end_trees(&mut app);
    // The end's records (`interrupted`, `left_running`) are on disk before the process ends.
    await_journal(&mut runner, &mut rx, JOURNAL_EXIT_WAIT).await;
    if let Some(why) = &runner.journal_failed {
        app.journal_error.get_or_insert_with(|| why.clone());
    }
    if let Some(port) = &mut runner.journal {
        // Release the lock before the process ends (and drop a journal that recorded nothing).
        port.writer.finish(Duration::from_secs(2));
    }
    stop.store(true, Ordering::SeqCst);
    drop(guard);
    result.map(|()| app)
}

/// What the loop tells the shared war room's tasks: which journal the console writes, and
/// the driver's hand-over (`H`).
struct ShareLinks<'a> {
    journal: &'a tokio::sync::watch::Sender<Option<std::path::PathBuf>>,
    synced: &'a tokio::sync::watch::Sender<u64>,
    lease_asks: Option<&'a tokio::sync::mpsc::UnboundedSender<crate::share::lease::Ask>>,
    panes: Option<&'a tokio::sync::watch::Sender<Option<crate::share::panes::Snapshot>>>,
    requests: Option<&'a tokio::sync::mpsc::UnboundedSender<RequestAsk>>,
}

/// A joiner's request for its sender task: ticket, body, the sequence it had seen.
type RequestAsk = (u64, crate::share::request::Body, u64);

/// The loop's ends of the share tasks: the driver's hand-over and panes snapshot, the
/// joiner's requests.
#[derive(Default)]
struct DriverLinks {
    lease_asks: Option<tokio::sync::mpsc::UnboundedSender<crate::share::lease::Ask>>,
    panes: Option<tokio::sync::watch::Sender<Option<crate::share::panes::Snapshot>>>,
    requests: Option<tokio::sync::mpsc::UnboundedSender<RequestAsk>>,
}

/// Starts the shared war room's tasks (see [`ShareSession`]); for a driver, where to ask the
/// lease task to hand command over.
fn spawn_share(
    share: ShareSession,
    journal: tokio::sync::watch::Receiver<Option<std::path::PathBuf>>,
    synced: tokio::sync::watch::Receiver<u64>,
    tx: &tokio::sync::mpsc::UnboundedSender<Action>,
) -> DriverLinks {
    let ShareSession { store, url, kind } = share;
    match kind {
        ShareKind::Drive {
            trust,
            claimant,
            lease,
        } => {
            let (asks_tx, asks) = unbounded_channel();
            let (panes_tx, panes_rx) = tokio::sync::watch::channel(None);
            tokio::spawn(crate::share::panes::publish(
                Arc::clone(&store),
                url.clone(),
                journal.clone(),
                panes_rx,
            ));
            let lease_tx = tx.clone();
            tokio::spawn(crate::share::lease::run(
                Arc::clone(&store),
                url.clone(),
                claimant,
                lease,
                journal.clone(),
                asks,
                move |command| lease_tx.send(Action::ShareCommand(command)).is_ok(),
            ));
            let mirror_tx = tx.clone();
            tokio::spawn(crate::share::mirror::run(
                Arc::clone(&store),
                url.clone(),
                journal.clone(),
                synced,
                move |status| mirror_tx.send(Action::ShareMirror(status)).is_ok(),
            ));
            let ingest_tx = tx.clone();
            tokio::spawn(crate::share::ingest::run(
                store,
                url,
                trust,
                journal,
                move |found| {
                    ingest_tx
                        .send(Action::ShareRequest {
                            name: found.name,
                            result: found.result,
                            principal: found.principal,
                        })
                        .is_ok()
                },
            ));
            DriverLinks {
                lease_asks: Some(asks_tx),
                panes: Some(panes_tx),
                requests: None,
            }
        }
        ShareKind::Join { copy, requester } => {
            let view_tx = tx.clone();
            let panes_tx = tx.clone();
            tokio::spawn(crate::share::join::run(
                copy,
                move |view| view_tx.send(Action::ShareView(view)).is_ok(),
                move |panes| panes_tx.send(Action::SharePanes(panes)).is_ok(),
            ));
            let (requests_tx, requests) = unbounded_channel();
            tokio::spawn(send_requests(store, url, requester, requests, tx.clone()));
            DriverLinks {
                requests: Some(requests_tx),
                ..DriverLinks::default()
            }
        }
    }
}

/// A joiner's request sender: signs and puts each request (one at a time, in order) through
/// the same path as `warroom request`, and tells the loop the request's id or why not.
async fn send_requests(
    store: Arc<dyn crate::share::store::Store>,
    url: crate::share::ShareUrl,
    requester: Option<crate::share::request::Requester>,
    mut asks: UnboundedReceiver<RequestAsk>,
    tx: tokio::sync::mpsc::UnboundedSender<Action>,
) {
    let keys = crate::share::IncidentKeys {
        base: url.prefix.clone(),
    };
    let incident = url.last_segment().to_string();
    while let Some((ticket, body, sequence)) = asks.recv().await {
        let result = match &requester {
            Some(requester) => crate::share::request::send(
                store.as_ref(),
                &keys,
                &incident,
                requester,
                sequence,
                body,
                chrono::Utc::now(),
            )
            .await
            .map_err(|e| e.to_string()),
            None => {
                Err("a request is signed: join with --key FILE (your SSH key in the roster)".into())
            }
        };
        if tx.send(Action::ShareSent { ticket, result }).is_err() {
            return;
        }
    }
}

/// How long a task waiting for a session time sleeps at most before it looks at the clock
/// again (a pause, a resume or a speed change may have moved its due time on the wall).
const SESSION_WAIT_RECHECK: Duration = Duration::from_millis(50);

/// Returns once the session clock reads `due` (never while it is paused).
async fn wait_for_session_time(clock: &SessionClock, due: chrono::DateTime<chrono::Utc>) {
    loop {
        match clock.wall_until(due) {
            Some(d) if d.is_zero() => return,
            Some(d) => tokio::time::sleep(d.min(SESSION_WAIT_RECHECK)).await,
            None => tokio::time::sleep(SESSION_WAIT_RECHECK).await,
        }
    }
}

/// Longest the console waits, when it ends, for its last journal records to be acknowledged.
const JOURNAL_EXIT_WAIT: Duration = Duration::from_secs(5);

/// Waits until every journal batch handed out is acknowledged (written and fsynced, or failed:
/// then `runner.journal_failed` says why), at most `limit`; other actions are dropped.
async fn await_journal(
    runner: &mut EffectRunner,
    rx: &mut UnboundedReceiver<Action>,
    limit: Duration,
) {
    let deadline = tokio::time::Instant::now() + limit;
    while !runner.settled() {
        match tokio::time::timeout_at(deadline, rx.recv()).await {
            Ok(Some(Action::Journal(ack))) => runner.acknowledged(&ack),
            Ok(Some(_)) => {}
            Ok(None) | Err(_) => {
                tracing::error!("the journal did not acknowledge the last records in time");
                runner.journal_failed.get_or_insert_with(|| {
                    "the last records were not acknowledged in time".to_string()
                });
                return;
            }
        }
    }
}

/// Draws the App when something visible changed, and only once every journal batch handed
/// out is acknowledged: the record leads the screen (nothing is drawn as done before its line
/// is on disk). Returns whether it drew.
fn draw_if_settled<B: ratatui::backend::Backend>(
    app: &mut App,
    terminal: &mut ratatui::Terminal<B>,
    runner: &EffectRunner,
) -> Result<bool> {
    if runner.settled() && app.take_dirty() {
        terminal
            .draw(|frame| crate::ui::draw(frame, app))
            .map_err(|e| color_eyre::eyre::eyre!("cannot draw to the terminal: {e}"))?;
        return Ok(true);
    }
    Ok(false)
}

/// Where the loop routes the effects that go to the shared war room's tasks.
#[derive(Default, Clone, Copy)]
struct Routes<'a> {
    lease_asks: Option<&'a tokio::sync::mpsc::UnboundedSender<crate::share::lease::Ask>>,
    requests: Option<&'a tokio::sync::mpsc::UnboundedSender<RequestAsk>>,
}

/// One batch of the inbox: journal acknowledgements to the runner (which then starts the
/// executors whose confirmation is on disk), every action to the App, every effect run.
/// `Break` when the console must stop.
fn handle_batch(
    app: &mut App,
    runner: &mut EffectRunner,
    batch: &mut Vec<Action>,
    routes: Routes<'_>,
) -> std::ops::ControlFlow<()> {
    for action in batch.drain(..) {
        match &action {
            Action::Journal(ack) => runner.acknowledged(ack),
            Action::Executor(Input::ExecOutput { .. }, _) => runner.output.handled(),
            _ => {}
        }
        for effect in app.update(action) {
            if effect == super::Effect::HandOver
                && let Some(asks) = routes.lease_asks
            {
                let _ = asks.send(crate::share::lease::Ask::HandOver);
                continue;
            }
            if let super::Effect::ShareSend {
                ticket,
                body,
                sequence,
            } = effect
            {
                if let Some(requests) = routes.requests {
                    let _ = requests.send((ticket, body, sequence));
                }
                continue;
            }
            runner.run(effect, app)?;
        }
    }
    std::ops::ControlFlow::Continue(())
}

async fn event_loop<B: ratatui::backend::Backend>(
    app: &mut App,
    terminal: &mut ratatui::Terminal<B>,
    rx: &mut UnboundedReceiver<Action>,
    runner: &mut EffectRunner,
    test_panic: Option<TestPanic>,
    baseline: tokio::sync::watch::Sender<bool>,
    share: ShareLinks<'_>,
) -> Result<()> {
    let ShareLinks {
        journal: journal_watch,
        synced,
        lease_asks,
        panes,
        requests,
    } = share;
    let mut synced_at_ticket: Option<u64> = None;
    // Only a driver of a shared incident needs the journal's fsynced length.
    let sharing = panes.is_some();
    let mut panes_sent: Option<tokio::time::Instant> = None;
    let mut batch = Vec::with_capacity(BATCH);
    loop {
        if !*baseline.borrow() && app.board.complete() {
            baseline.send_replace(true);
        }
        // The record leads the screen: nothing is drawn while journal writes are outstanding.
        if draw_if_settled(app, terminal, runner)? && test_panic == Some(TestPanic::Ui) {
            panic!("deliberate UI panic (WARROOM_TEST_PANIC=ui)");
        }
        if rx.recv_many(&mut batch, BATCH).await == 0 {
            return Ok(());
        }
        journal_watch.send_if_modified(|path| {
            let changed = *path != app.journal_path;
            if changed {
                path.clone_from(&app.journal_path);
            }
            changed
        });
        // Everything handed to the journal writer is acknowledged: the file holds exactly what
        // is fsynced (no batch is handed out between this check and the stat: one thread).
        if sharing
            && let Some(port) = &runner.journal
            && runner.settled()
            && let Some(path) = &app.journal_path
        {
            let ticket = port.writer.last_ticket();
            if synced_at_ticket != Some(ticket) || journal_watch.borrow().as_ref() != Some(path) {
                if let Ok(meta) = std::fs::metadata(path) {
                    synced_at_ticket = Some(ticket);
                    synced.send_replace(meta.len());
                }
            }
        }
        // The driver's panes for those who joined, at most every 5 s (not journaled).
        if let Some(panes) = panes
            && app.incident.is_some()
            && panes_sent.is_none_or(|t| t.elapsed() >= crate::share::panes::EVERY)
            && app.board.sources.iter().any(|s| s.last_ok.is_some())
        {
            panes_sent = Some(tokio::time::Instant::now());
            panes.send_replace(Some(crate::share::panes::Snapshot::new(
                app.now,
                app.board.picture.clone(),
            )));
        }
        let routes = Routes {
            lease_asks,
            requests,
        };
        if handle_batch(app, runner, &mut batch, routes).is_break() {
            return Ok(());
        }
    }
}
