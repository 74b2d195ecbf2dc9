//! What feeds the inbox besides the terminal: a deliberate test panic, the journal follower,
//! the terminal reader, the ticker, signal handlers, pollers and the driver's arming signer.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use color_eyre::eyre::{Result, WrapErr};
use ratatui::crossterm::event::{self, Event};
use tokio::sync::mpsc::UnboundedSender;

use super::{INPUT_POLL_INTERVAL, TICK_INTERVAL};
use crate::app::{Action, ExitSignal};
use crate::clock::SessionClock;
use crate::telemetry::source::run_poller;
use crate::telemetry::{Source, SourceError, SourceId};

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
pub(super) struct PanickingSource;

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

/// What the arming signer is asked: the step, and the exact text to sign.
pub(super) type ArmAsk = (usize, String);

/// The driver's arming signer, on a plain thread: signing through an ssh-agent is socket I/O
/// (up to the agent's timeout), which the UI thread never waits on. One arming at a time, in
/// order; each answer goes to the inbox as `Input::ArmingSigned`, which the engine records or
/// refuses. A plain thread, not a blocking tokio task: the tokio runtime waits for those when
/// it shuts down, and quitting must not wait on an agent. Ends when its sender is dropped or
/// the inbox is gone. `None` when no thread can be started (then the caller answers itself).
pub(super) fn spawn_arm_signer(
    sign: super::ArmSign,
    tx: UnboundedSender<Action>,
    clock: SessionClock,
) -> Option<std::sync::mpsc::Sender<ArmAsk>> {
    let (asks_tx, asks) = std::sync::mpsc::channel::<ArmAsk>();
    let spawned = std::thread::Builder::new()
        .name("arm-signer".into())
        .spawn(move || {
            for (step, signed) in asks {
                let result = sign(signed.as_bytes());
                let input = crate::playbook::Input::ArmingSigned {
                    step,
                    signed,
                    result,
                };
                if tx.send(Action::Executor(input, clock.now())).is_err() {
                    return;
                }
            }
        });
    match spawned {
        Ok(_) => Some(asks_tx),
        Err(e) => {
            tracing::error!("cannot start the arming signer: {e}");
            None
        }
    }
}

/// How often a follower looks for new journal lines (it must keep up within a second).
const FOLLOW_POLL_INTERVAL: Duration = Duration::from_millis(200);

/// Tails a journal on a plain thread (file reads block) and forwards new events.
pub(super) fn spawn_follower(
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
pub(super) fn spawn_input_reader(tx: UnboundedSender<Action>, stop: Arc<AtomicBool>) {
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

pub(super) fn spawn_ticker(tx: UnboundedSender<Action>, clock: SessionClock) {
    tokio::spawn(async move {
        let mut ticker = tokio::time::interval(TICK_INTERVAL);
        ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            ticker.tick().await;
            if tx.send(Action::Tick(clock.now())).is_err() {
                return;
            }
            // A pause's wall-clock length, for the bar (session time stands still).
            if let Some(paused) = clock.paused_for()
                && tx.send(Action::Paused(paused)).is_err()
            {
                return;
            }
        }
    });
}

/// SIGTERM and SIGHUP end the console (see `App::end_on_signal`); SIGINT asks like `q` (in raw
/// mode Ctrl-C is a key, not a signal: it arrives as SIGINT only from `kill -INT`).
pub(super) fn spawn_signal_handlers(tx: UnboundedSender<Action>) -> Result<()> {
    use tokio::signal::unix::{SignalKind, signal};
    for (kind, which) in [
        (SignalKind::terminate(), ExitSignal::Term),
        (SignalKind::hangup(), ExitSignal::Hup),
        (SignalKind::interrupt(), ExitSignal::Int),
    ] {
        let mut stream = signal(kind).wrap_err("cannot install a signal handler")?;
        let tx = tx.clone();
        tokio::spawn(async move {
            while stream.recv().await.is_some() {
                if tx.send(Action::Signal(which)).is_err() {
                    return;
                }
            }
        });
    }
    Ok(())
}

/// Reaps, every second, the zombies of step processes that were killed and re-parented to the
/// console (see `actions::tree`).
pub(super) fn spawn_reaper() {
    tokio::spawn(async {
        let mut every = tokio::time::interval(Duration::from_secs(1));
        every.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
        loop {
            every.tick().await;
            crate::actions::tree::reap_orphans();
        }
    });
}

/// Spawns a source's poller and a watcher that turns a poller panic into a stale pane.
pub(super) fn spawn_poller(
    id: SourceId,
    source: Box<dyn Source>,
    tx: UnboundedSender<Action>,
    clock: SessionClock,
) {
    let poll_tx = tx.clone();
    let poll_clock = clock.clone();
    let handle = tokio::spawn(run_poller(id, source, move |id, result| {
        poll_tx
            .send(Action::Telemetry(id, result, poll_clock.now()))
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
