//! The effect runner: journal records (the record leads the screen and the world), executors
//! of confirmed steps, fault injection.

use std::collections::{HashMap, VecDeque};
use std::ops::ControlFlow;
use std::sync::{Arc, Mutex};

use color_eyre::eyre::Result;
use tokio::sync::mpsc::UnboundedSender;
use tokio::sync::oneshot;

use crate::actions::run::{ExecEvent, Spawn, Tracker, run_step};
use crate::actions::{ActionBackend, Exec};
use crate::app::journal_writer::{JournalAck, JournalTarget, JournalWriter, Stamp};
use crate::playbook::Input;

use super::journaling::{Identity, create_journal, incident_header};
use crate::app::pace::PaceCommand;
use crate::app::{Action, App, Effect};
use crate::clock::SessionClock;
use crate::sim::{Fault, Sim};

/// Runs the App's effects: the journal, executors of confirmed steps (by step and attempt),
/// fault injection.
pub(super) struct EffectRunner {
    pub(super) running: HashMap<(usize, u32), RunningExec>,
    pub(super) actions: Arc<dyn ActionBackend>,
    pub(super) read_only: bool,
    pub(super) clock: SessionClock,
    pub(super) tx: UnboundedSender<Action>,
    pub(super) faults: Option<FaultTarget>,
    /// The environment is the simulator (the journal header records seed and speed, and every
    /// record its simulated time).
    pub(super) simulated: bool,
    /// `None` in `warroom follow`: nothing is ever written.
    pub(super) journal: Option<JournalPort>,
    /// Executors waiting for the journal to acknowledge the records before them (ticket).
    pub(super) held: VecDeque<(u64, Effect)>,
    /// Set once a journal write failed: no executor starts after that.
    pub(super) journal_failed: Option<String>,
    /// The newest stamp handed to the journal: the next is never earlier.
    pub(super) last_stamp: Option<Stamp>,
    /// Bounds the step output waiting in the inbox.
    pub(super) output: crate::app::output_gate::OutputGate,
    /// The driver's arming signer thread (`None`: no `--key`, or not a driver).
    pub(super) signer: Option<std::sync::mpsc::Sender<super::tasks::ArmAsk>>,
}

/// The journal side of the runner: the writer thread, and what a new incident's journal needs.
pub(super) struct JournalPort {
    pub(super) writer: JournalWriter,
    pub(super) target: JournalTarget,
    pub(super) identity: Identity,
    pub(super) seed: Option<u64>,
}

/// A fault injection's outcome as the action carries it: the session time it took effect (now,
/// when it failed) and the result.
pub(super) fn split(
    outcome: Result<chrono::DateTime<chrono::Utc>, String>,
    clock: &SessionClock,
) -> (chrono::DateTime<chrono::Utc>, Result<(), String>) {
    match outcome {
        Ok(at) => (at, Ok(())),
        Err(e) => (clock.now(), Err(e)),
    }
}

pub(super) struct RunningExec {
    /// A `run` step stops through its cancel channel (which kills its process group).
    pub(super) cancel: Option<oneshot::Sender<()>>,
    pub(super) task: tokio::task::JoinHandle<()>,
    /// A `run` step's process tree, ended by the runtime itself when the console exits.
    pub(super) tree: Option<Tracker>,
}

impl EffectRunner {
    /// Runs one effect; `Break` when the console must stop.
    pub(super) fn run(&mut self, effect: Effect, app: &mut App) -> ControlFlow<()> {
        match effect {
            Effect::Quit => return ControlFlow::Break(()),
            Effect::InjectFault(name) => {
                let (target, tx, clock) =
                    (self.faults.clone(), self.tx.clone(), self.clock.clone());
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
            Effect::SignArming { step, signed } => self.sign_arming(step, signed),
            Effect::Pace(command) => return self.pace(&command, app),
            // The loop hands these to the share tasks.
            Effect::HandOver | Effect::ShareSend { .. } => {}
            Effect::LoadRestorePoints {
                step,
                db,
                series,
                onset,
            } => {
                let sim = match &self.faults {
                    Some(FaultTarget::Sim(sim)) => Some(Arc::clone(sim)),
                    _ => None,
                };
                let (env, tx) = (app.env.clone(), self.tx.clone());
                let endpoint = app.aws_endpoint.clone();
                tokio::spawn(async move {
                    let result =
                        crate::restore_points::for_console(env, sim, endpoint, db, series, onset)
                            .await
                            .map(Box::new)
                            .map_err(|e| crate::text::field(&e.to_string()).into_owned());
                    let _ = tx.send(Action::RestorePoints { step, result });
                });
            }
        }
        ControlFlow::Continue(())
    }

    /// Pauses, resumes or changes the speed of the session clock (shared with the ticker, the
    /// pollers, the simulator's actions and scheduled faults), then lets the App follow; the
    /// engine's record of the change is run like any other effect.
    fn pace(&mut self, command: &PaceCommand, app: &mut App) -> ControlFlow<()> {
        let change = match command {
            PaceCommand::Pause => self.clock.pause(),
            PaceCommand::Resume => self.clock.resume(),
            PaceCommand::Speed { to, .. } => self.clock.set_speed(*to),
        };
        if let Some(c) = &change {
            tracing::info!(?command, at = %c.at, from = c.from, to = c.to, "session clock");
        }
        for effect in app.pace_applied(command, change) {
            self.run(effect, app)?;
        }
        ControlFlow::Continue(())
    }

    /// Hands an arming to the signer thread; without one, answers at once that it cannot be
    /// signed (the engine refuses the confirmation, nothing is recorded).
    fn sign_arming(&mut self, step: usize, signed: String) {
        let signed = match &self.signer {
            Some(signer) => match signer.send((step, signed)) {
                Ok(()) => return,
                Err(std::sync::mpsc::SendError((_, signed))) => signed,
            },
            None => signed,
        };
        let input = Input::ArmingSigned {
            step,
            signed,
            result: Err(crate::share::sig::SignError::Sign(
                "this console has no signer for the driver's key".into(),
            )),
        };
        let _ = self.tx.send(Action::Executor(input, self.clock.now()));
    }

    /// Every journal batch handed out is on disk (always, without a journal).
    pub(super) fn settled(&self) -> bool {
        self.journal.as_ref().is_none_or(|p| p.writer.settled())
    }

    /// The stamp of a record made at session time `at`: the wall clock from the session clock's
    /// monotonic origin, and the simulated time on the simulator; never before the last one.
    pub(super) fn stamp(&mut self, at: chrono::DateTime<chrono::Utc>) -> Stamp {
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
    pub(super) fn open_incident(&mut self, app: &mut App) {
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
    pub(super) fn record(
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
    pub(super) fn acknowledged(&mut self, ack: &JournalAck) {
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
    pub(super) fn release(&mut self, effect: Effect) {
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
    pub(super) fn start(&mut self, step: usize, attempt: u32, exec: Exec, command: &str) {
        self.running.retain(|_, r| !r.task.is_finished());
        let (tx, clock) = (self.tx.clone(), self.clock.clone());
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
            Exec::Run { argv, env, .. } => {
                let (cancel, cancelled) = oneshot::channel();
                let mut valve = self.output.valve();
                let tracker = Tracker::new();
                let tree = tracker.clone();
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
                    let spec = Spawn {
                        argv: &argv,
                        env: &env,
                        timeout: None,
                        cwd: None,
                    };
                    let outcome = run_step(spec, &tracker, cancelled, |event| match event {
                        ExecEvent::Output { line, .. } => {
                            valve.pass(line).into_iter().all(&send_line)
                        }
                        ExecEvent::LeftRunning(processes) => report(Input::ExecLeftRunning {
                            step,
                            attempt,
                            processes,
                        }),
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
                    tree: Some(tree),
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
                        // The engine records the words; the variant told the backend's story.
                        Err(why) => Err(why.to_string()),
                    };
                    report(Input::ExecFinished {
                        step,
                        attempt,
                        result,
                    });
                });
                RunningExec {
                    cancel: None,
                    task,
                    tree: None,
                }
            }
        };
        self.running.insert((step, attempt), entry);
    }

    /// Stops an executor. The entry stays until its task ends (pruned when the next starts), so
    /// that a console exiting right after can still end the step's process tree itself.
    pub(super) fn kill(&mut self, step: usize, attempt: u32) {
        if let Some(running) = self.running.get_mut(&(step, attempt)) {
            match running.cancel.take() {
                Some(cancel) => {
                    let _ = cancel.send(());
                }
                None => running.task.abort(),
            }
        }
    }

    /// The console is exiting: ends every `run` step's process tree now (the executors' tasks
    /// will not get to it), and hands the App what could not be killed, to be journaled.
    pub(super) fn end_trees(&mut self, app: &mut App) {
        let running: Vec<_> = self.running.drain().collect();
        for ((step, attempt), exec) in running {
            if exec.task.is_finished() {
                // Its executor ended the tree and reported what it could not end.
                continue;
            }
            if let Some(cancel) = exec.cancel {
                let _ = cancel.send(());
            }
            exec.task.abort();
            let Some(tree) = exec.tree else { continue };
            let processes = tree.end();
            if processes.is_empty() {
                continue;
            }
            let input = Input::ExecLeftRunning {
                step,
                attempt,
                processes,
            };
            for effect in app.update(Action::Executor(input, self.clock.now())) {
                if let Effect::Record(at, event) = effect {
                    self.record(at, event, app);
                }
            }
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
