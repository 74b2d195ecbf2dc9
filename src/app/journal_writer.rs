//! The journal writer: a thread that owns the journal file, so the UI thread never waits on
//! fsync. The runtime hands it numbered batches; it answers each with an acknowledgement on the
//! inbox once the batch is written and fsynced (or failed). The runtime draws nothing and starts
//! no executor until the events before it are acknowledged: the record always leads the screen
//! and the world.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use tokio::sync::mpsc::UnboundedSender;

use super::Action;
use crate::journal::Journal;
pub use crate::journal::Stamp;
use crate::playbook::Event;

/// Where a new journal goes.
#[derive(Debug, Clone)]
pub enum JournalTarget {
    /// `--journal PATH`: exactly this file (never overwritten).
    File(PathBuf),
    /// A fresh file in this directory (the incidents directory by default).
    Dir(PathBuf),
}

/// What the writer was asked to do.
enum Command {
    /// Close the current file (if any, releasing its lock) and continue this one: created (with
    /// its header) and locked by the runtime before anything is recorded in it.
    Adopt(Journal),
    Append {
        events: Vec<(Stamp, Event)>,
        ticket: u64,
    },
    Close,
    /// Close, and say when done (the console is quitting).
    Finish(Sender<()>),
}

/// The outcome of one ticket.
#[derive(Debug, Clone)]
pub struct JournalAck {
    pub ticket: u64,
    pub result: Result<(), String>,
}

pub struct JournalWriter {
    commands: Sender<Command>,
    /// For acknowledging a batch ourselves when the writer thread is gone (so the console never
    /// waits forever for an acknowledgement that cannot come).
    inbox: UnboundedSender<Action>,
    next_ticket: u64,
    acked: u64,
    open: bool,
}

impl JournalWriter {
    /// Starts the writer thread; acknowledgements arrive as `Action::Journal` on `inbox`.
    pub fn spawn(inbox: UnboundedSender<Action>) -> Self {
        let (commands, rx) = channel();
        let thread_inbox = inbox.clone();
        // End-to-end tests of a journal that fails mid-incident (the disk fills up): every
        // append fails once this is set. Nothing else reads the variable.
        let fail = std::env::var_os("WARROOM_TEST_JOURNAL_FAIL").is_some();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer_loop(&rx, &thread_inbox, fail))
            .map_or_else(
                |e| tracing::error!("cannot start the journal writer: {e}"),
                |_| (),
            );
        JournalWriter {
            commands,
            inbox,
            next_ticket: 1,
            acked: 0,
            open: false,
        }
    }

    pub fn is_open(&self) -> bool {
        self.open
    }

    /// Records into `journal` from now on (a new incident's, or a resumed one).
    pub fn adopt(&mut self, journal: Journal) {
        self.open = self.commands.send(Command::Adopt(journal)).is_ok();
    }

    /// Closes the current journal, waiting (at most `limit`) until it is closed: its lock is
    /// released and, if nothing was ever recorded in it, the header-only file is removed.
    pub fn finish(&mut self, limit: std::time::Duration) {
        let (done, wait) = channel();
        if self.commands.send(Command::Finish(done)).is_ok() {
            let _ = wait.recv_timeout(limit);
        }
        self.open = false;
    }

    /// Closes the current journal (see [`JournalWriter::finish`]).
    pub fn close(&mut self) {
        let _ = self.commands.send(Command::Close);
        self.open = false;
    }

    /// Queues a batch; returns its ticket.
    pub fn append(&mut self, events: Vec<(Stamp, Event)>) -> u64 {
        let ticket = self.next_ticket;
        self.next_ticket += 1;
        if self
            .commands
            .send(Command::Append { events, ticket })
            .is_err()
        {
            tracing::error!("the journal writer is gone");
            let _ = self.inbox.send(Action::Journal(JournalAck {
                ticket,
                result: Err("the journal writer is not running".to_string()),
            }));
        }
        ticket
    }

    /// The newest ticket handed out.
    pub fn last_ticket(&self) -> u64 {
        self.next_ticket - 1
    }

    /// Whether every batch handed out has been acknowledged.
    pub fn settled(&self) -> bool {
        self.acked == self.last_ticket()
    }

    pub fn acknowledge(&mut self, ticket: u64) {
        self.acked = self.acked.max(ticket);
    }

    pub fn acked(&self) -> u64 {
        self.acked
    }
}

/// A writer without its thread, for headless tests of the loop: what the runtime hands it
/// waits here, and nothing is acknowledged until the test sends `Action::Journal` itself (as
/// the writer thread does once a batch is fsynced).
#[cfg(test)]
pub(crate) struct HeldJournal {
    commands: Receiver<Command>,
}

#[cfg(test)]
impl JournalWriter {
    pub(crate) fn held(inbox: UnboundedSender<Action>) -> (Self, HeldJournal) {
        let (commands, rx) = channel();
        (
            JournalWriter {
                commands,
                inbox,
                next_ticket: 1,
                acked: 0,
                open: true,
            },
            HeldJournal { commands: rx },
        )
    }
}

#[cfg(test)]
impl HeldJournal {
    /// The batches handed out since the last call: `(ticket, events)`.
    pub(crate) fn batches(&self) -> Vec<(u64, Vec<(Stamp, Event)>)> {
        let mut out = Vec::new();
        while let Ok(command) = self.commands.try_recv() {
            if let Command::Append { events, ticket } = command {
                out.push((ticket, events));
            }
        }
        out
    }
}

fn writer_loop(rx: &Receiver<Command>, inbox: &UnboundedSender<Action>, fail: bool) {
    let mut journal: Option<Journal> = None;
    // Whether anything was handed to the current journal (written or failed).
    let mut used = false;
    while let Ok(first) = rx.recv() {
        // Coalesce what is already queued: consecutive appends share one write and one fsync.
        let mut queue = vec![first];
        while let Ok(more) = rx.try_recv() {
            queue.push(more);
        }
        let mut batch: Vec<(Stamp, Event)> = Vec::new();
        let mut tickets: Vec<u64> = Vec::new();
        for command in queue {
            match command {
                Command::Append { events, ticket } => {
                    batch.extend(events);
                    tickets.push(ticket);
                    used = true;
                }
                Command::Adopt(j) => {
                    flush(&mut journal, &mut batch, &mut tickets, inbox, fail);
                    close(journal.take(), used);
                    journal = Some(j);
                    used = false;
                }
                Command::Close => {
                    flush(&mut journal, &mut batch, &mut tickets, inbox, fail);
                    close(journal.take(), used);
                }
                Command::Finish(done) => {
                    flush(&mut journal, &mut batch, &mut tickets, inbox, fail);
                    close(journal.take(), used);
                    let _ = done.send(());
                }
            }
        }
        flush(&mut journal, &mut batch, &mut tickets, inbox, fail);
    }
}

/// Closes a journal (releasing its lock). One that recorded nothing (a playbook picked, or a
/// drill started, then left before anything happened) is removed: a header alone records no
/// incident, and would only be offered for resuming and listed by `history`.
fn close(journal: Option<Journal>, used: bool) {
    let Some(j) = journal else { return };
    if used || j.next_seq() > 1 {
        return;
    }
    let path = j.path().to_path_buf();
    drop(j);
    match std::fs::remove_file(&path) {
        Ok(()) => tracing::info!(journal = %path.display(), "removed: nothing was recorded"),
        Err(e) => tracing::warn!(journal = %path.display(), "not removed: {e}"),
    }
}

/// Writes the batch and acknowledges its tickets.
fn flush(
    journal: &mut Option<Journal>,
    batch: &mut Vec<(Stamp, Event)>,
    tickets: &mut Vec<u64>,
    inbox: &UnboundedSender<Action>,
    fail: bool,
) {
    if tickets.is_empty() {
        return;
    }
    let result = match journal.as_mut() {
        None => Err("no incident is open to journal".to_string()),
        Some(j) if fail => Err(format!(
            "{}: no space left on device (WARROOM_TEST_JOURNAL_FAIL)",
            j.path().display()
        )),
        Some(j) => j
            .append_all(batch.iter().map(|(stamp, e)| (*stamp, e)))
            .map(|_| ())
            .map_err(|e| e.to_string()),
    };
    batch.clear();
    for ticket in tickets.drain(..) {
        let _ = inbox.send(Action::Journal(JournalAck {
            ticket,
            result: result.clone(),
        }));
    }
}
