//! Everything that can happen to the console, and everything it asks the runtime to do.

use chrono::{DateTime, Utc};
use ratatui::crossterm::event::KeyEvent;

use crate::actions::Exec;
use crate::playbook::{Event, Input};
use crate::telemetry::{Sample, SourceError, SourceId};

/// An input to [`super::App::update`]. Producers: the terminal reader, the tick timer, one poller
/// per source, fault injection and step executors.
#[derive(Debug, Clone)]
pub enum Action {
    Key(KeyEvent),
    Resize(u16, u16),
    /// The session clock read by the runtime.
    Tick(DateTime<Utc>),
    /// A poll result, with the session time it arrived.
    Telemetry(SourceId, Result<Sample, SourceError>, DateTime<Utc>),
    /// The outcome of injecting the named fault (from the menu, `--fault` or a drill), at `at`.
    FaultInjected {
        name: String,
        at: DateTime<Utc>,
        result: Result<(), String>,
    },
    /// A step executor's output or end, for the playbook engine (`ExecOutput`, `ExecFinished`),
    /// or the driver's arming signer's answer (`ArmingSigned`).
    Executor(Input, DateTime<Utc>),
    /// The journal writer finished a batch (written and fsynced, or failed).
    Journal(super::journal_writer::JournalAck),
    /// `warroom follow`: new events from the journal being followed (seq, time, event).
    Followed(Vec<(u64, DateTime<Utc>, Event)>),
    /// `warroom follow`: the followed journal cannot be read any more.
    FollowFailed(String),
    /// The session clock is paused, and has been for this long on the wall (the ticker, while
    /// paused).
    Paused(std::time::Duration),
    /// The shared war room: how far the shared log is behind the journal (the driver's mirror).
    ShareMirror(crate::share::mirror::Status),
    /// The shared war room: whether this console holds command (the lease).
    ShareCommand(crate::share::lease::Command),
    /// The shared war room: the driver's panes, for a joiner without pollers of its own.
    SharePanes(crate::share::panes::Snapshot),
    /// The shared war room: how old a joiner's view is.
    ShareView(crate::share::join::ViewStatus),
    /// The shared war room: a request found in the store, checked (signature, signer, role) or
    /// refused with the reason; `principal` is who it claims to be from.
    ShareRequest {
        name: String,
        result: Result<crate::share::request::Checked, crate::share::request::Refusal>,
        principal: Option<String>,
    },
    /// The shared war room: a joiner's request (`Effect::ShareSend`, by its ticket) is in the
    /// store (its id), or could not be sent (why).
    ShareSent {
        ticket: u64,
        result: Result<String, String>,
    },
    /// The restore-point list a `db.restore` step's picker asked for (`t`), built off the UI
    /// thread, or why it could not be.
    RestorePoints {
        step: usize,
        result: Result<Box<crate::restore_points::RestorePoints>, String>,
    },
    /// The terminal went away.
    Quit,
    /// A signal arrived: SIGTERM and SIGHUP end the console (a running step is recorded
    /// `interrupted`); SIGINT (Ctrl-C when the terminal is not in raw mode) asks like `q`.
    Signal(ExitSignal),
}

/// The signals the console handles.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ExitSignal {
    Term,
    Hup,
    Int,
}

impl ExitSignal {
    /// `SIGTERM`.
    pub fn name(self) -> &'static str {
        match self {
            ExitSignal::Term => "SIGTERM",
            ExitSignal::Hup => "SIGHUP",
            ExitSignal::Int => "SIGINT",
        }
    }

    /// The signal's number (the customary exit status is 128 plus it).
    pub fn number(self) -> u8 {
        match self {
            ExitSignal::Term => 15,
            ExitSignal::Hup => 1,
            ExitSignal::Int => 2,
        }
    }
}

/// How the console ended on a signal: what the exit message says.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignalExit {
    pub signal: ExitSignal,
    /// The steps whose executor the signal interrupted: `(id, title, attempt)`.
    pub interrupted: Vec<(String, String, u32)>,
}

/// Work [`super::App::update`] hands to the runtime (the App itself never does I/O).
#[derive(Debug, Clone, PartialEq)]
pub enum Effect {
    /// Inject a simulator fault now (`az-loss`, `region-loss`, ...).
    InjectFault(String),
    /// Start a confirmed step's executor. Only the engine emits this, and only after
    /// `Input::Confirm`. `exec` holds real secret values: for the executor only.
    Execute {
        step: usize,
        attempt: u32,
        exec: Exec,
        /// Masked, for logs.
        command: String,
    },
    /// Kill an executor (timeout, skip, abort).
    Kill {
        step: usize,
        attempt: u32,
    },
    /// Append to the journal (and fsync) before the screen shows the consequence; `at` is the
    /// session time the engine used.
    Record(DateTime<Utc>, Event),
    /// Pause, resume or change the speed of the session clock (the runtime does it, then
    /// calls [`super::App::pace_applied`]).
    Pace(super::pace::PaceCommand),
    /// Hand command of the shared incident over (`H`): the lease says so.
    HandOver,
    /// A joiner's signed request (scribe, approver), sent off the UI thread; `sequence` is the
    /// last journal event it had seen. The answer comes back as `Action::ShareSent`.
    ShareSend {
        ticket: u64,
        body: crate::share::request::Body,
        sequence: u64,
    },
    /// Sign an arming with the driver's key, off the UI thread (an ssh-agent is socket I/O);
    /// the answer comes back as `Action::Executor(Input::ArmingSigned { .. })`.
    SignArming {
        step: usize,
        signed: String,
    },
    /// A new incident was loaded: the next record starts a new journal file.
    NewIncident,
    /// Build the restore-point list of a `db.restore` step's database and backup series (off
    /// the UI thread: it reads backup directories and the WAL archive, or locks the simulator)
    /// and send it back as [`Action::RestorePoints`].
    LoadRestorePoints {
        step: usize,
        db: String,
        series: String,
        onset: Option<DateTime<Utc>>,
    },
    Quit,
}
