//! The journal writer: a thread that owns the journal file, so the UI thread never waits on
//! fsync. The runtime hands it numbered batches; it answers each with an acknowledgement on the
//! inbox once the batch is written and fsynced (or failed). The runtime draws nothing and starts
//! no executor until the events before it are acknowledged: the record always leads the screen
//! and the world.

use std::path::PathBuf;
use std::sync::mpsc::{Receiver, Sender, channel};

use chrono::{DateTime, Utc};
use tokio::sync::mpsc::UnboundedSender;

use super::Action;
use crate::journal::{Header, Journal};
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
    /// Close the current file (if any) and start a new one with this header.
    Start(Box<Header>),
    /// Continue an existing, already validated journal (`--resume`).
    Adopt(Journal),
    Append {
        events: Vec<(DateTime<Utc>, Event)>,
        ticket: u64,
    },
    Close,
}

/// The outcome of one ticket.
#[derive(Debug, Clone)]
pub struct JournalAck {
    pub ticket: u64,
    /// `Ok(Some(path))` when a new file was created by this ticket's batch.
    pub result: Result<Option<PathBuf>, String>,
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
    pub fn spawn(target: JournalTarget, inbox: UnboundedSender<Action>) -> Self {
        let (commands, rx) = channel();
        let thread_inbox = inbox.clone();
        std::thread::Builder::new()
            .name("journal".into())
            .spawn(move || writer_loop(&target, &rx, &thread_inbox))
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

    /// Starts a new journal file for a new incident.
    pub fn start(&mut self, header: Header) {
        self.open = self.commands.send(Command::Start(Box::new(header))).is_ok();
    }

    /// Continues a resumed journal.
    pub fn adopt(&mut self, journal: Journal) {
        self.open = self.commands.send(Command::Adopt(journal)).is_ok();
    }

    pub fn close(&mut self) {
        let _ = self.commands.send(Command::Close);
        self.open = false;
    }

    /// Queues a batch; returns its ticket.
    pub fn append(&mut self, events: Vec<(DateTime<Utc>, Event)>) -> u64 {
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

fn writer_loop(target: &JournalTarget, rx: &Receiver<Command>, inbox: &UnboundedSender<Action>) {
    let mut journal: Option<Journal> = None;
    let mut pending_header: Option<Box<Header>> = None;
    while let Ok(first) = rx.recv() {
        // Coalesce what is already queued: consecutive appends share one write and one fsync.
        let mut queue = vec![first];
        while let Ok(more) = rx.try_recv() {
            queue.push(more);
        }
        let mut batch: Vec<(DateTime<Utc>, Event)> = Vec::new();
        let mut tickets: Vec<u64> = Vec::new();
        for command in queue {
            match command {
                Command::Append { events, ticket } => {
                    batch.extend(events);
                    tickets.push(ticket);
                }
                other => {
                    flush(
                        target,
                        &mut journal,
                        &mut pending_header,
                        &mut batch,
                        &mut tickets,
                        inbox,
                    );
                    match other {
                        Command::Start(header) => {
                            journal = None;
                            pending_header = Some(header);
                        }
                        Command::Adopt(j) => {
                            journal = Some(j);
                            pending_header = None;
                        }
                        Command::Close => {
                            journal = None;
                            pending_header = None;
                        }
                        Command::Append { .. } => {}
                    }
                }
            }
        }
        flush(
            target,
            &mut journal,
            &mut pending_header,
            &mut batch,
            &mut tickets,
            inbox,
        );
    }
}

/// Writes the batch (creating the file on first use) and acknowledges its tickets.
fn flush(
    target: &JournalTarget,
    journal: &mut Option<Journal>,
    pending_header: &mut Option<Box<Header>>,
    batch: &mut Vec<(DateTime<Utc>, Event)>,
    tickets: &mut Vec<u64>,
    inbox: &UnboundedSender<Action>,
) {
    if tickets.is_empty() {
        return;
    }
    let mut created = None;
    let result = (|| {
        if journal.is_none() {
            let Some(header) = pending_header.take() else {
                return Err("no incident is open to journal".to_string());
            };
            let j = match target {
                JournalTarget::File(path) => Journal::create(path, &header),
                JournalTarget::Dir(dir) => Journal::create_in(dir, &header),
            }
            .map_err(|e| e.to_string())?;
            created = Some(j.path().to_path_buf());
            *journal = Some(j);
        }
        let Some(j) = journal.as_mut() else {
            return Err("the journal is not open".to_string());
        };
        // The session time as the line's `at`, no `sim` yet (the runtime will stamp both clocks).
        j.append_all(
            batch
                .iter()
                .map(|(at, e)| (crate::journal::Stamp::wall(*at), e)),
        )
        .map(|_| ())
        .map_err(|e| e.to_string())
    })();
    batch.clear();
    let last = tickets.len() - 1;
    for (i, ticket) in tickets.drain(..).enumerate() {
        let result = match &result {
            Ok(()) => Ok(if i == last { created.clone() } else { None }),
            Err(e) => Err(e.clone()),
        };
        let _ = inbox.send(Action::Journal(JournalAck { ticket, result }));
    }
}
