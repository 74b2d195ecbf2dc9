//! The console's loop without a terminal: ratatui's `TestBackend` for the screen, actions put
//! straight into the batch (the input source), a journal writer whose batches wait for the
//! test to acknowledge them, and an action backend that records what it was asked to run.
//! The two rules of the record, as unit tests:
//!
//! - **the screen is never ahead of the record**: nothing is drawn as done (a declared
//!   incident, a completed step) before the journal acknowledged its lines;
//! - **the world is never ahead of the record**: no action runs before its confirmation is
//!   acknowledged by the journal.

use std::sync::{Arc, Mutex};

use chrono::{TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::crossterm::event::{KeyCode, KeyEvent};
use tokio::sync::mpsc::UnboundedReceiver;

use super::*;
use crate::actions::Call;
use crate::app::Mode;
use crate::app::journal_writer::{HeldJournal, JournalAck, JournalTarget};
use crate::env::Environment;
use crate::telemetry::Board;
use crate::telemetry::source::{BoxFuture, Feeds};
use crate::theme::Theme;

/// An action backend that only records what it was asked to run.
#[derive(Default)]
struct Recorder {
    ran: Mutex<Vec<String>>,
}

impl ActionBackend for Recorder {
    fn name(&self) -> &str {
        "recorder"
    }
    fn unsupported(&self, _call: &Call) -> Option<String> {
        None
    }
    fn describe(&self, call: &Call) -> String {
        format!("recorder: {}", call.text())
    }
    fn execute<'a>(
        &'a self,
        call: &'a Call,
        _progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, crate::actions::ActionError>> {
        Box::pin(async move {
            if let Ok(mut ran) = self.ran.lock() {
                ran.push(call.text());
            }
            Ok(vec!["done".to_string()])
        })
    }
}

impl Recorder {
    fn ran(&self) -> Vec<String> {
        self.ran.lock().map(|r| r.clone()).unwrap_or_default()
    }
}

/// A console on the region-loss drill: App, runner, screen, the held journal, the inbox.
struct Console {
    app: App,
    runner: EffectRunner,
    terminal: Terminal<TestBackend>,
    journal: HeldJournal,
    actions: Arc<Recorder>,
    inbox: UnboundedReceiver<Action>,
}

impl Console {
    fn new() -> Console {
        Console::build(false)
    }

    /// `approvals`: the promotion needs one approval (two-person rule), and the console drives
    /// a shared war room with the driver's key `SHA256:alice` (the runner has no signer yet).
    fn build(approvals: bool) -> Console {
        let now = Utc
            .with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
            .single()
            .expect("valid");
        let env = Environment::demo();
        let mut sim = crate::sim::Sim::new(&env, 1, now);
        sim.advance(now);
        let mut board = Board::new(
            [("sim".to_string(), Feeds::ALL)],
            chrono::TimeDelta::seconds(5),
        );
        board.apply(SourceId(0), Ok(sim.sample()), now);
        let src = crate::playbook::SHIPPED
            .iter()
            .find(|(id, _)| *id == "region-loss")
            .map(|(_, src)| *src)
            .expect("shipped");
        let src = if approvals {
            src.replacen(
                "destructive = true\n",
                "destructive = true\napprovals = 1\n",
                1,
            )
        } else {
            src.to_string()
        };
        let playbook =
            crate::playbook::parse("<shipped>/region-loss.toml", &src, &env).expect("valid");
        let mut app = App::new(env, Mode::Drill, Theme::fallback(), board, now, 1.0);
        if approvals {
            app.share = Some(crate::app::ShareState::Driving(Default::default()));
            app.share_key = Some("SHA256:alice".into());
        }
        app.start_incident(playbook);
        app.journal_opened("/held/journal.jsonl".into());
        let (tx, inbox) = unbounded_channel();
        let (writer, journal) = JournalWriter::held(tx.clone());
        let actions = Arc::new(Recorder::default());
        let runner = EffectRunner {
            running: HashMap::new(),
            actions: Arc::clone(&actions) as Arc<dyn ActionBackend>,
            read_only: false,
            clock: SessionClock::new(std::time::Instant::now(), now, 1.0),
            tx,
            faults: None,
            simulated: true,
            journal: Some(JournalPort {
                writer,
                target: JournalTarget::Dir("/held".into()),
                identity: Identity {
                    operator: "alice".into(),
                    host: "h".into(),
                    pid: 1,
                },
                seed: None,
            }),
            held: VecDeque::new(),
            journal_failed: None,
            last_stamp: None,
            output: crate::app::output_gate::OutputGate::new(),
            signer: None,
        };
        let terminal = Terminal::new(TestBackend::new(200, 60)).expect("test terminal");
        Console {
            app,
            runner,
            terminal,
            journal,
            actions,
            inbox,
        }
    }

    /// One turn of the loop: the batch handled, then a draw if the record allows it.
    fn turn(&mut self, batch: Vec<Action>) -> bool {
        let mut batch = batch;
        let flow = handle_batch(
            &mut self.app,
            &mut self.runner,
            &mut batch,
            Routes::default(),
        );
        assert!(flow.is_continue());
        draw_if_settled(&mut self.app, &mut self.terminal, &self.runner).expect("draw")
    }

    fn keys(&mut self, keys: &str) -> bool {
        let batch = keys
            .chars()
            .map(|c| {
                Action::Key(KeyEvent::from(match c {
                    '\r' => KeyCode::Enter,
                    c => KeyCode::Char(c),
                }))
            })
            .collect();
        self.turn(batch)
    }

    /// The kinds of the events handed to the journal since the last call, and the newest ticket.
    fn handed(&self) -> (Vec<String>, Option<u64>) {
        let batches = self.journal.batches();
        let last = batches.last().map(|(t, _)| *t);
        let kinds = batches
            .iter()
            .flat_map(|(_, events)| events.iter())
            .map(|(_, e)| crate::playbook::engine::event_kind(e))
            .collect();
        (kinds, last)
    }

    /// The journal says every batch up to `ticket` is written and fsynced.
    fn ack(&mut self, ticket: u64) -> bool {
        self.turn(vec![Action::Journal(JournalAck {
            ticket,
            result: Ok(()),
        })])
    }

    fn screen(&self) -> String {
        let buffer = self.terminal.backend().buffer();
        let mut out = String::new();
        for y in 0..buffer.area.height {
            for x in 0..buffer.area.width {
                out.push_str(buffer[(x, y)].symbol());
            }
            out.push('\n');
        }
        out
    }

    /// Ticks the current step's items and completes it; acknowledges its records.
    fn walk_step(&mut self, next: usize) {
        self.keys(" j j j j\r");
        let (_, ticket) = self.handed();
        self.ack(ticket.expect("the step's records"));
        assert!(
            self.screen().contains(&format!("Step {next}/7")),
            "{}",
            self.screen()
        );
    }
}

#[test]
fn the_screen_is_never_ahead_of_the_record() {
    let mut c = Console::new();
    assert!(c.turn(Vec::new()), "the first frame is drawn");
    assert!(c.screen().contains("not declared"), "{}", c.screen());

    // Enter declares: the records go to the journal, and nothing is drawn until it has them.
    let drawn = c.keys("\r");
    let (kinds, ticket) = c.handed();
    assert!(kinds.contains(&"declared".to_string()), "{kinds:?}");
    assert!(!drawn, "drawn before the journal acknowledged `declared`");
    assert!(!c.screen().contains("Step 1/7"), "{}", c.screen());
    // Other input meanwhile (a tick, a key) draws nothing either.
    assert!(!c.turn(vec![Action::Resize(200, 60)]));
    assert!(!c.keys("vv"));
    assert!(!c.screen().contains("Step 1/7"));
    // Acknowledged: now the screen may say it.
    assert!(c.ack(ticket.expect("a ticket")), "drawn once acknowledged");
    assert!(c.screen().contains("Step 1/7"), "{}", c.screen());

    // A step completed is drawn done only once `step_finished` is on disk.
    assert!(!c.keys(" j j j j\r"));
    let (kinds, ticket) = c.handed();
    assert!(kinds.contains(&"step_finished".to_string()), "{kinds:?}");
    assert!(!c.screen().contains("Step 2/7"), "{}", c.screen());
    // An acknowledgement of an older batch is not enough.
    let ticket = ticket.expect("a ticket");
    assert!(!c.ack(ticket - 1));
    assert!(!c.screen().contains("Step 2/7"));
    assert!(c.ack(ticket));
    assert!(c.screen().contains("Step 2/7"), "{}", c.screen());
}

#[test]
fn the_world_is_never_ahead_of_the_record() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = Console::new();
        c.turn(Vec::new());
        c.keys("\r");
        let (_, ticket) = c.handed();
        c.ack(ticket.expect("declared"));
        c.walk_step(2);
        c.walk_step(3);
        // The promotion: Enter asks, the resource's name is typed, Enter confirms.
        c.keys("\r");
        assert!(c.screen().contains("dr-replica"), "{}", c.screen());
        c.keys("dr-replica\r");
        let (kinds, ticket) = c.handed();
        assert!(kinds.contains(&"confirmed".to_string()), "{kinds:?}");
        // The executor waits for the confirmation to be on disk: nothing runs meanwhile.
        for _ in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(
            c.actions.ran().is_empty(),
            "ran before `confirmed` was acknowledged: {:?}",
            c.actions.ran()
        );
        assert!(c.runner.running.is_empty());
        c.ack(ticket.expect("confirmed"));
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(5);
        while c.actions.ran().is_empty() {
            assert!(std::time::Instant::now() < deadline, "never ran");
            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
        }
        assert_eq!(c.actions.ran().len(), 1);
        assert!(
            c.actions.ran()[0].starts_with("db.promote"),
            "{:?}",
            c.actions.ran()
        );
    });
}

#[test]
fn a_failed_journal_write_runs_nothing() {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    rt.block_on(async {
        let mut c = Console::new();
        c.turn(Vec::new());
        c.keys("\r");
        let (_, ticket) = c.handed();
        c.ack(ticket.expect("declared"));
        c.walk_step(2);
        c.walk_step(3);
        c.keys("\r");
        c.keys("dr-replica\r");
        let (_, ticket) = c.handed();
        // The disk failed: the confirmation is not on record, so the promotion never runs.
        c.turn(vec![Action::Journal(JournalAck {
            ticket: ticket.expect("confirmed"),
            result: Err("No space left on device".into()),
        })]);
        for _ in 0..5 {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
        assert!(c.actions.ran().is_empty(), "{:?}", c.actions.ran());
        assert!(c.runner.journal_failed.is_some());
    });
}

/// A signer that blocks until the test releases it (as an ssh-agent that takes its time):
/// each call reports that it started, then waits for a release (at most `limit`, so that a
/// loop that waited on it fails the test instead of hanging it).
fn held_signer(
    limit: std::time::Duration,
) -> (
    ArmSign,
    std::sync::mpsc::Receiver<()>,
    std::sync::mpsc::Sender<()>,
) {
    let (started_tx, started) = std::sync::mpsc::channel::<()>();
    let (release, released) = std::sync::mpsc::channel::<()>();
    let released = Mutex::new(released);
    let started_tx = Mutex::new(started_tx);
    let sign: ArmSign = Arc::new(move |message: &[u8]| {
        if let Ok(started) = started_tx.lock() {
            let _ = started.send(());
        }
        let waited = released
            .lock()
            .map_err(|_| ())
            .and_then(|r| r.recv_timeout(limit).map_err(|_| ()));
        match waited {
            Ok(()) => Ok(format!("signature of {} bytes", message.len())),
            Err(()) => Err(crate::share::sig::SignError::Sign(
                "the test never released the signer".into(),
            )),
        }
    });
    (sign, started, release)
}

#[test]
fn the_screen_keeps_drawing_while_the_drivers_key_signs_the_arming() {
    let mut c = Console::build(true);
    let (sign, started, release) = held_signer(std::time::Duration::from_secs(20));
    c.runner.signer = spawn_arm_signer(sign, c.runner.tx.clone(), c.runner.clock.clone());
    assert!(c.runner.signer.is_some());
    c.turn(Vec::new());
    c.keys("\r");
    let (_, ticket) = c.handed();
    c.ack(ticket.expect("declared"));
    c.walk_step(2);
    c.walk_step(3);
    c.keys("\r");
    let (kinds, ticket) = c.handed();
    assert_eq!(kinds, ["confirm_requested"]);
    c.ack(ticket.expect("confirm_requested"));
    // Confirmed: the signer is asked and blocks; the loop's turn does not wait for it.
    let asked = std::time::Instant::now();
    let drawn = c.keys("dr-replica\r");
    let took = asked.elapsed();
    assert!(
        took < std::time::Duration::from_secs(2),
        "the loop waited {took:?} on the signer"
    );
    started
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the signer was asked");
    // Nothing is recorded while the signature is pending, and the screen says why.
    let (kinds, _) = c.handed();
    assert!(
        kinds.is_empty(),
        "recorded before the signature came: {kinds:?}"
    );
    assert!(drawn, "the confirmation was not drawn");
    let screen = c.screen();
    assert!(
        screen.contains(crate::ui::playbook::SIGNING_ARMING),
        "{screen}"
    );
    // The UI keeps drawing meanwhile: ticks, a resize, keys.
    let now = c.app.now;
    for (i, batch) in [
        vec![Action::Tick(now + chrono::TimeDelta::seconds(1))],
        vec![Action::Resize(200, 60)],
        vec![Action::Tick(now + chrono::TimeDelta::seconds(2))],
    ]
    .into_iter()
    .enumerate()
    {
        let at = std::time::Instant::now();
        assert!(c.turn(batch), "turn {i} drew nothing while signing");
        assert!(at.elapsed() < std::time::Duration::from_secs(1));
        assert!(c.screen().contains(crate::ui::playbook::SIGNING_ARMING));
    }
    // Confirming again meanwhile is refused (one arming at a time); nothing asked again.
    c.keys("dr-replica\r");
    assert!(
        c.screen()
            .contains("signing the arming with the driver's key: wait"),
        "{}",
        c.screen()
    );
    assert_eq!(c.handed(), (Vec::new(), None));
    // Released: the answer comes to the inbox, the loop records the arming.
    release.send(()).expect("release");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        match c.inbox.try_recv() {
            Ok(action @ Action::Executor(Input::ArmingSigned { .. }, _)) => break action,
            Ok(_) => {}
            Err(_) => {
                assert!(std::time::Instant::now() < deadline, "no answer");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    };
    assert!(
        started.try_recv().is_err(),
        "the second confirmation asked the signer again"
    );
    c.turn(vec![answer]);
    let (kinds, ticket) = c.handed();
    assert_eq!(
        kinds.last().map(String::as_str),
        Some("approval_armed"),
        "{kinds:?}"
    );
    assert!(c.ack(ticket.expect("approval_armed")));
    let screen = c.screen();
    assert!(screen.contains("waiting for approval 0/1"), "{screen}");
    assert!(
        !screen.contains(crate::ui::playbook::SIGNING_ARMING),
        "{screen}"
    );
    assert!(c.actions.ran().is_empty(), "ran before an approval");
}

#[test]
fn esc_while_the_drivers_key_signs_drops_the_arming_and_80x24_says_it_is_signing() {
    let mut c = Console::build(true);
    let (sign, started, release) = held_signer(std::time::Duration::from_secs(20));
    c.runner.signer = spawn_arm_signer(sign, c.runner.tx.clone(), c.runner.clock.clone());
    c.turn(Vec::new());
    c.keys("\r");
    let (_, ticket) = c.handed();
    c.ack(ticket.expect("declared"));
    c.walk_step(2);
    c.walk_step(3);
    c.keys("\r");
    let (_, ticket) = c.handed();
    c.ack(ticket.expect("confirm_requested"));
    c.keys("dr-replica\r");
    started
        .recv_timeout(std::time::Duration::from_secs(10))
        .expect("the signer was asked");
    // At 80x24 the dialog still says what it waits for.
    c.terminal.backend_mut().resize(80, 24);
    assert!(c.turn(vec![Action::Resize(80, 24)]));
    let screen = c.screen();
    assert!(
        screen.contains(crate::ui::playbook::SIGNING_ARMING),
        "{screen}"
    );
    assert!(screen.contains("Esc cancels"), "{screen}");
    // Esc: the confirmation is cancelled (recorded), the pending arming dropped.
    c.turn(vec![Action::Key(KeyEvent::from(KeyCode::Esc))]);
    let (kinds, ticket) = c.handed();
    assert_eq!(kinds, ["confirm_cancelled"]);
    c.ack(ticket.expect("confirm_cancelled"));
    assert!(!c.screen().contains(crate::ui::playbook::SIGNING_ARMING));
    // The signature that comes afterwards records nothing.
    release.send(()).expect("release");
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(10);
    let answer = loop {
        match c.inbox.try_recv() {
            Ok(action @ Action::Executor(Input::ArmingSigned { .. }, _)) => break action,
            Ok(_) => {}
            Err(_) => {
                assert!(std::time::Instant::now() < deadline, "no answer");
                std::thread::sleep(std::time::Duration::from_millis(10));
            }
        }
    };
    c.turn(vec![answer]);
    assert_eq!(c.handed(), (Vec::new(), None));
    assert!(
        !c.screen().contains("waiting for approval"),
        "{}",
        c.screen()
    );
    assert!(c.actions.ran().is_empty());
}
