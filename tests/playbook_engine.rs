//! The playbook engine, driven with a fake clock (`t(secs)`) and synthetic telemetry pictures.
//!
//! The first half exercises every transition on a small test playbook; the second half drives the
//! four shipped playbooks end to end against a tiny model of the deployment that reacts to the
//! engine's `Execute` effects, proving each playbook is completable in principle.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use warroom::actions::Exec;
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::playbook::engine::{Grade, OUTPUT_JOURNAL_LINES};
use warroom::playbook::{
    Effect, Engine, EngineSettings, Event, Input, MASK, Playbook, StepStatus, Timing,
};
use warroom::telemetry::{
    AppReading, AttemptOutcome, BackupReading, DatabaseReading, DbRole, DbState, DnsReading,
    EndpointReading, Replication, ReplicationState, Sample, SecurityReading, ZoneReading,
};

// ----- clock and helpers -------------------------------------------------------------------

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid date")
}

/// The fake clock: `secs` after the start of the test.
fn t(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

const SECRET: &str = "s3cr3t-t0ken";

const TEST_PLAYBOOK: &str = r#"
id = "test"
title = "Test playbook"
scenario = "custom"
summary = "Exercises every kind of step."
rto = "20m"
rpo = "5m"

[vars]
token = { value = "s3cr3t-t0ken", secret = true }
who = "ops team"

[[steps]]
id = "look"
title = "Look around"
target = "2m"
checklist = ["first thing", "second thing for {{who}}"]

[[steps]]
id = "promote"
title = "Promote"
target = "5m"
action = "db.promote"
with = { db = "dr-replica" }
destructive = true
capture_rpo = true
wait = { db = "dr-replica", role = "primary", timeout = "10m" }

[[steps]]
id = "script"
title = "Run the script"
target = "3m"
run = ["./notify.sh", "--token", "{{token}}"]
timeout = "1m"

[[steps]]
id = "verify"
title = "Verify"
target = "5m"
wait = { region = "dr", healthy = true, timeout = "5m" }

[[steps]]
id = "tell"
title = "Tell"
target = "5m"
action = "notify.webhook"
with = { message = "done by {{who}}" }
on_failure = "continue"
"#;

const LOOK: usize = 0;
const PROMOTE: usize = 1;
const SCRIPT: usize = 2;
const VERIFY: usize = 3;
const TELL: usize = 4;

fn load(src: &str) -> Playbook {
    warroom::playbook::parse("test.toml", src, &Environment::demo())
        .unwrap_or_else(|e| panic!("test playbook is valid:\n{e}"))
}

fn settings(pb: &Playbook) -> EngineSettings {
    EngineSettings::new(pb, Environment::demo()).mode("drill · simulator")
}

fn engine() -> Engine {
    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb);
    Engine::new(pb, s)
}

fn events(effects: &[Effect]) -> Vec<&Event> {
    effects
        .iter()
        .filter_map(|e| match e {
            Effect::Record(ev) => Some(ev),
            _ => None,
        })
        .collect()
}

fn kinds(effects: &[Effect]) -> Vec<String> {
    events(effects)
        .into_iter()
        .map(warroom::playbook::engine::event_kind)
        .collect()
}

fn refusal(effects: &[Effect]) -> Option<&str> {
    effects.iter().find_map(|e| match e {
        Effect::Refused { why, .. } => Some(why.as_str()),
        _ => None,
    })
}

fn execute(effects: &[Effect]) -> Option<(usize, u32, &Exec)> {
    effects.iter().find_map(|e| match e {
        Effect::Execute {
            step,
            attempt,
            exec,
            ..
        } => Some((*step, *attempt, exec)),
        _ => None,
    })
}

fn has_execute(effects: &[Effect]) -> bool {
    execute(effects).is_some()
}

fn status(e: &Engine, step: usize) -> StepStatus {
    e.status(step).cloned().expect("step exists")
}

/// Declares at t(0) and completes the manual first step at t(60).
fn past_look(e: &mut Engine) {
    e.handle(Input::Declare, t(0));
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 0,
        },
        t(10),
    );
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 1,
        },
        t(20),
    );
    let fx = e.handle(Input::Complete { step: LOOK }, t(60));
    assert_eq!(refusal(&fx), None);
    assert_eq!(status(e, PROMOTE), StepStatus::Active);
}

/// Requests and confirms the promotion at t(120), returns the attempt.
fn confirm_promote(e: &mut Engine) -> u32 {
    let fx = e.handle(Input::Request { step: PROMOTE }, t(100));
    assert_eq!(refusal(&fx), None);
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(120),
    );
    execute(&fx).expect("confirm executes").1
}

// ----- a tiny model of the deployment ------------------------------------------------------

/// What the synthetic telemetry says. `healthy()` is normal operation; scenarios break it.
#[derive(Debug, Clone)]
struct World {
    zones_down: Vec<&'static str>,
    primary_endpoint_failures: u32,
    dr_endpoint_failures: u32,
    primary_db: DbState,
    primary_integrity: bool,
    replica_role: DbRole,
    replica_state: DbState,
    replica_lag: Option<f64>,
    replication: ReplicationState,
    /// (app, region, desired, ready)
    apps: Vec<(&'static str, &'static str, u32, u32)>,
    dns_target: &'static str,
    /// (name, every, age of the newest good backup in seconds at t(0)); ages grow with time.
    backups: Vec<(&'static str, Dur, i64)>,
    failed_auth_per_min: u32,
    /// The primary's corruption onset, seconds after t(0).
    corrupt_since: Option<i64>,
}

impl World {
    fn healthy() -> World {
        World {
            zones_down: Vec::new(),
            primary_endpoint_failures: 0,
            dr_endpoint_failures: 0,
            primary_db: DbState::Available,
            primary_integrity: true,
            replica_role: DbRole::Replica,
            replica_state: DbState::Available,
            replica_lag: Some(2.0),
            replication: ReplicationState::Streaming,
            apps: vec![("api", "primary", 3, 3), ("api", "dr", 1, 1)],
            dns_target: "primary",
            backups: vec![
                ("snapshots", Dur::from_mins(15), 6 * 60),
                ("daily-dump", Dur::from_hours(24), 10 * 3600),
            ],
            failed_auth_per_min: 0,
            corrupt_since: None,
        }
    }

    fn set_app(&mut self, region: &'static str, desired: u32, ready: u32) {
        for a in &mut self.apps {
            if a.1 == region {
                a.2 = desired;
                a.3 = ready;
            }
        }
    }

    /// What a simulator would do when the engine's executor runs `exec` at `now`.
    fn apply(&mut self, exec: &Exec, now: DateTime<Utc>) -> Result<(), String> {
        let Exec::Action(call) = exec else {
            return Err("the model runs no programs".into());
        };
        let arg = |n: &str| call.arg(n).unwrap_or_default().to_string();
        match call.name() {
            "db.promote" => {
                self.replica_role = DbRole::Primary;
                self.replica_state = DbState::Available;
                self.replication = ReplicationState::Promoted;
            }
            "app.scale" => {
                let n: u32 = arg("replicas").parse().map_err(|_| "bad replicas")?;
                let region = if arg("region") == "dr" {
                    "dr"
                } else {
                    "primary"
                };
                self.set_app(region, n, n);
            }
            "dns.point" => {
                self.dns_target = if arg("region") == "dr" {
                    "dr"
                } else {
                    "primary"
                }
            }
            // Like the simulator: restoring leaves a read-only database read-only (`Stopped`).
            "db.restore" => self.primary_integrity = true,
            // Like the simulator: a read-only database reads `Stopped`.
            "db.read_only" => {
                self.primary_db = if arg("enabled") == "false" {
                    DbState::Available
                } else {
                    DbState::Stopped
                };
            }
            "backup.snapshot" => {
                let age_at_t0 = (t0() - now).num_seconds();
                for b in &mut self.backups {
                    if b.0 == arg("backup") {
                        b.2 = age_at_t0;
                    }
                }
            }
            "secret.rotate" | "notify.webhook" | "backup.verify" => {}
            other => return Err(format!("the model does not know {other}")),
        }
        Ok(())
    }

    fn sample(&self, now: DateTime<Utc>) -> Sample {
        let zones = [
            ("primary", "us-west-2a"),
            ("primary", "us-west-2b"),
            ("primary", "us-west-2c"),
            ("dr", "us-east-1a"),
            ("dr", "us-east-1b"),
        ];
        let endpoint = |region: &str, failures: u32| EndpointReading {
            region: region.into(),
            url: format!("https://api.{region}/health"),
            last_ok: failures == 0,
            status: (failures == 0).then_some(200),
            latency_ms: Some(40),
            consecutive_failures: failures,
            error: None,
            failure: None,
        };
        Sample {
            at: now,
            databases: vec![
                DatabaseReading {
                    failover_paused: None,
                    name: "primary".into(),
                    resource: "pynomaly-prod".into(),
                    region: "primary".into(),
                    role: DbRole::Primary,
                    state: self.primary_db,
                    az: Some("us-west-2a".into()),
                    multi_az: true,
                    replication: None,
                    integrity_ok: Some(self.primary_integrity),
                    corrupt_since: self
                        .corrupt_since
                        .filter(|_| !self.primary_integrity)
                        .map(t),
                    failure: None,
                },
                DatabaseReading {
                    failover_paused: None,
                    name: "dr-replica".into(),
                    resource: "pynomaly-dr-replica".into(),
                    region: "dr".into(),
                    role: self.replica_role,
                    state: self.replica_state,
                    az: Some("us-east-1a".into()),
                    multi_az: false,
                    replication: Some(Replication {
                        source: "primary".into(),
                        state: self.replication,
                        lag_secs: self.replica_lag,
                        lag_bytes: None,
                        lag_alarm: Dur::from_secs(300),
                        loss_window_secs: None,
                        source_lost_at: None,
                        last_replayed_at: None,
                        loss_window_bytes: None,
                        loss_evidence: None,
                    }),
                    integrity_ok: Some(true),
                    corrupt_since: None,
                    failure: None,
                },
            ],
            backups: self
                .backups
                .iter()
                .map(|(name, every, age_at_t0)| {
                    let last = t0() - TimeDelta::seconds(*age_at_t0);
                    BackupReading {
                        name: (*name).into(),
                        kind: "test".into(),
                        every: *every,
                        last_success: Some(last),
                        last_good: Some(last),
                        last_attempt: Some(last),
                        last_outcome: Some(AttemptOutcome::Succeeded),
                        attempts_24h: 10,
                        successes_24h: 10,
                        size_bytes: None,
                        last_verified: None,
                    }
                })
                .collect(),
            endpoints: vec![
                endpoint("primary", self.primary_endpoint_failures),
                endpoint("dr", self.dr_endpoint_failures),
            ],
            zones: zones
                .iter()
                .map(|(region, zone)| ZoneReading {
                    region: (*region).into(),
                    zone: (*zone).into(),
                    up: !self.zones_down.contains(zone),
                })
                .collect(),
            dns: vec![DnsReading {
                name: "api".into(),
                record: "api.pynomaly.example".into(),
                target_region: self.dns_target.into(),
            }],
            apps: self
                .apps
                .iter()
                .map(|(name, region, desired, ready)| AppReading {
                    name: (*name).into(),
                    region: (*region).into(),
                    desired: *desired,
                    ready: *ready,
                })
                .collect(),
            security: vec![SecurityReading {
                region: "primary".into(),
                failed_auth_per_min: self.failed_auth_per_min,
                unusual_access: self.failed_auth_per_min > 0,
                memory: Default::default(),
            }],
        }
    }
}

// ----- declaration and manual steps --------------------------------------------------------

#[test]
fn nothing_happens_before_declaration() {
    let mut e = engine();
    for input in [
        Input::ToggleItem { step: 0, item: 0 },
        Input::Complete { step: 0 },
        Input::Request { step: 1 },
        Input::Skip {
            step: 0,
            reason: "x".into(),
        },
    ] {
        let fx = e.handle(input, t(0));
        assert!(
            refusal(&fx).is_some_and(|w| w.contains("declare the incident first")),
            "{fx:?}"
        );
    }
    assert!(e.tick(t(5), &World::healthy().sample(t(5))).is_empty());
    assert_eq!(e.current(), None);
    assert_eq!(e.enter_input(), Some(Input::Declare));

    let fx = e.handle(Input::Declare, t(10));
    assert_eq!(kinds(&fx), ["declared", "step_started"]);
    assert_eq!(e.declared_at(), Some(t(10)));
    assert_eq!(e.current(), Some(LOOK));
    assert_eq!(status(&e, LOOK), StepStatus::Active);

    let fx = e.handle(Input::Declare, t(11));
    assert_eq!(refusal(&fx), Some("the incident is already declared"));
}

#[test]
fn manual_step_completes_only_with_every_item_ticked() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(Input::Complete { step: LOOK }, t(5));
    let why = refusal(&fx).expect("refused");
    assert!(why.contains("2 of 2 not ticked"), "{why}");
    assert!(why.contains("\"second thing for ops team\""), "{why}");

    let fx = e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 0,
        },
        t(6),
    );
    assert_eq!(kinds(&fx), ["checklist_ticked"]);
    assert_eq!(e.ticks(LOOK), [true, false]);
    // Toggling twice unticks.
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 0,
        },
        t(7),
    );
    assert_eq!(e.ticks(LOOK), [false, false]);
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 0,
        },
        t(8),
    );
    let fx = e.handle(Input::Complete { step: LOOK }, t(9));
    assert_eq!(
        refusal(&fx),
        Some("tick every checklist item first: 1 of 2 not ticked: \"second thing for ops team\"")
    );
    let fx = e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 5,
        },
        t(9),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("no checklist item 6")));

    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 1,
        },
        t(10),
    );
    assert_eq!(e.enter_input(), Some(Input::Complete { step: LOOK }));
    let fx = e.handle(Input::Complete { step: LOOK }, t(30));
    assert_eq!(kinds(&fx), ["step_finished", "step_started"]);
    assert_eq!(status(&e, LOOK), StepStatus::Done);
    assert_eq!(
        e.elapsed(LOOK, t(999)),
        Some(30),
        "elapsed freezes when done"
    );
    assert_eq!(e.current(), Some(PROMOTE));
    assert_eq!(e.enter_input(), Some(Input::Request { step: PROMOTE }));
}

#[test]
fn only_the_current_step_takes_input() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(
        Input::ToggleItem {
            step: PROMOTE,
            item: 0,
        },
        t(1),
    );
    assert!(
        refusal(&fx).is_some_and(|w| w.contains("not the current step")),
        "{fx:?}"
    );
    let fx = e.handle(Input::Request { step: PROMOTE }, t(1));
    assert!(refusal(&fx).is_some_and(|w| w.contains("the incident is on step 1 (look)")));
    let fx = e.handle(Input::Complete { step: 42 }, t(1));
    assert_eq!(refusal(&fx), Some("there is no step 43"));
}

#[test]
fn wrong_enter_for_the_step_kind_is_refused() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(Input::Request { step: LOOK }, t(1));
    assert!(refusal(&fx).is_some_and(|w| w.contains("runs nothing")));
    let mut e = engine();
    past_look(&mut e);
    let fx = e.handle(Input::Complete { step: PROMOTE }, t(61));
    assert!(refusal(&fx).is_some_and(|w| w.contains("request it (Enter) and confirm")));
}

// ----- confirmation gating -----------------------------------------------------------------

#[test]
fn request_opens_a_confirmation_with_everything_it_must_show() {
    let mut e = engine();
    past_look(&mut e);
    let mut world = World::healthy();
    world.zones_down = vec!["us-west-2a", "us-west-2b", "us-west-2c"];
    world.replica_lag = Some(41.2);
    e.tick(t(90), &world.sample(t(90)));

    let fx = e.handle(Input::Request { step: PROMOTE }, t(100));
    assert!(!has_execute(&fx), "a request never executes");
    assert_eq!(kinds(&fx), ["confirm_requested"]);
    let req = fx
        .iter()
        .find_map(|f| match f {
            Effect::OpenConfirm(r) => Some(r),
            _ => None,
        })
        .expect("dialog opens");
    assert_eq!(req.step, PROMOTE);
    assert_eq!(req.environment, "demo");
    assert_eq!(req.mode, "drill · simulator");
    assert_eq!(
        req.command,
        "db.promote db=dr-replica (pynomaly-dr-replica)"
    );
    assert_eq!(req.names.len(), 1);
    assert_eq!(req.names[0].logical, "dr-replica");
    assert_eq!(
        req.names[0].resource.as_deref(),
        Some("pynomaly-dr-replica")
    );
    assert!(req.destructive);
    assert_eq!(req.type_to_confirm.as_deref(), Some("dr-replica"));
    assert!(req.captures_rpo);
    assert_eq!(
        req.wait.as_deref(),
        Some("dr-replica is primary and available (timeout 10m)")
    );
    assert!(
        req.action_summary
            .as_deref()
            .is_some_and(|s| s.contains("promote"))
    );
    assert_eq!(req.evidence.sample_at, Some(t(90)));
    let summary = req.evidence.summary();
    assert!(summary.contains("primary DOWN"), "{summary}");
    assert!(
        summary.contains("dr-replica replica/available lag 42s"),
        "{summary}"
    );
    assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
    assert_eq!(e.enter_input(), None, "the dialog owns Enter now");

    // Time passing does not execute anything either.
    let fx = e.tick(t(500), &world.sample(t(500)));
    assert!(!has_execute(&fx));
    assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
}

#[test]
fn confirm_is_the_only_way_to_execute_and_checks_the_typed_name() {
    let mut e = engine();
    past_look(&mut e);
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(70),
    );
    assert!(!has_execute(&fx));
    assert!(refusal(&fx).is_some_and(|w| w.contains("nothing to confirm")));

    e.handle(Input::Request { step: PROMOTE }, t(80));
    for (typed, expected) in [
        (None, "destructive step: type \"dr-replica\" to confirm"),
        (Some(""), "destructive step: type \"dr-replica\" to confirm"),
        (
            Some("primary"),
            "typed \"primary\", but confirming this step needs \"dr-replica\"",
        ),
        (
            Some("dr-replica2"),
            "typed \"dr-replica2\", but confirming this step needs \"dr-replica\"",
        ),
    ] {
        let fx = e.handle(
            Input::Confirm {
                step: PROMOTE,
                typed: typed.map(str::to_string),
            },
            t(90),
        );
        assert!(!has_execute(&fx));
        assert_eq!(refusal(&fx), Some(expected));
        assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
    }
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some(" dr-replica ".into()),
        },
        t(100),
    );
    let (step, attempt, exec) = execute(&fx).expect("executes");
    assert_eq!((step, attempt), (PROMOTE, 1));
    assert!(
        matches!(exec, Exec::Action(call) if call.name() == "db.promote" && call.arg("db").as_deref() == Some("dr-replica"))
    );
    assert_eq!(kinds(&fx), ["confirmed", "rpo_captured"]);
    let Event::Confirmed { typed, attempt, .. } = events(&fx)[0] else {
        panic!("confirmed first")
    };
    assert_eq!((typed.as_deref(), *attempt), (Some("dr-replica"), 1));
    assert_eq!(status(&e, PROMOTE), StepStatus::Running);
}

#[test]
fn cancel_returns_to_the_step() {
    let mut e = engine();
    past_look(&mut e);
    e.handle(Input::Request { step: PROMOTE }, t(80));
    let fx = e.handle(Input::Cancel { step: PROMOTE }, t(85));
    assert_eq!(kinds(&fx), ["confirm_cancelled"]);
    assert_eq!(status(&e, PROMOTE), StepStatus::Active);
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(86),
    );
    assert!(
        !has_execute(&fx),
        "a cancelled confirmation cannot be confirmed"
    );
    let fx = e.handle(Input::Cancel { step: PROMOTE }, t(87));
    assert_eq!(refusal(&fx), Some("no confirmation is open for this step"));
    // It can be requested again.
    let fx = e.handle(Input::Request { step: PROMOTE }, t(90));
    assert_eq!(refusal(&fx), None);
    assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
}

#[test]
fn read_only_refuses_every_executing_step_but_manual_and_wait_steps_work() {
    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb).read_only(true);
    let mut e = Engine::new(pb, s);
    past_look(&mut e);
    let fx = e.handle(Input::Request { step: PROMOTE }, t(70));
    let why = refusal(&fx).expect("refused");
    assert!(
        why.starts_with(
            "read-only session: `db.promote db=dr-replica (pynomaly-dr-replica)` would change demo"
        ),
        "{why}"
    );
    assert!(!fx.iter().any(|f| matches!(f, Effect::OpenConfirm(_))));
    assert_eq!(status(&e, PROMOTE), StepStatus::Active);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "read-only drill".into(),
        },
        t(71),
    );
    let fx = e.handle(Input::Request { step: SCRIPT }, t(72));
    assert!(refusal(&fx).is_some_and(|w| w.starts_with("read-only session")));
    e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "read-only drill".into(),
        },
        t(73),
    );
    // The wait-only step still verifies against telemetry.
    let fx = e.handle(Input::Complete { step: VERIFY }, t(74));
    assert_eq!(kinds(&fx), ["verifying"]);
    let fx = e.tick(t(80), &World::healthy().sample(t(80)));
    assert_eq!(kinds(&fx)[0], "step_finished");
    assert_eq!(status(&e, VERIFY), StepStatus::Done);
    let fx = e.handle(Input::Request { step: TELL }, t(81));
    assert!(refusal(&fx).is_some_and(|w| w.starts_with("read-only session")));
}

// ----- executors, waits, timeouts ----------------------------------------------------------

#[test]
fn executor_success_goes_through_verification_to_done() {
    let mut e = engine();
    past_look(&mut e);
    let mut world = World::healthy();
    e.tick(t(90), &world.sample(t(90)));
    let attempt = confirm_promote(&mut e);
    let fx = e.handle(
        Input::ExecOutput {
            step: PROMOTE,
            attempt,
            line: "promoting pynomaly-dr-replica".into(),
        },
        t(125),
    );
    assert_eq!(kinds(&fx), ["output"]);
    let fx = e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt,
            result: Ok(()),
        },
        t(130),
    );
    assert_eq!(kinds(&fx), ["verifying"]);
    assert_eq!(status(&e, PROMOTE), StepStatus::Verifying);
    // Not yet promoted: still verifying, with what was seen.
    let fx = e.tick(t(140), &world.sample(t(140)));
    assert!(events(&fx).is_empty(), "{fx:?}");
    let view = e.step_view(PROMOTE, t(140)).expect("view");
    let seen = view.observed.expect("observed");
    assert!(!seen.met);
    assert_eq!(seen.observed, "role replica, available");
    assert_eq!(view.output, ["promoting pynomaly-dr-replica"]);

    world.replica_role = DbRole::Primary;
    world.replication = ReplicationState::Promoted;
    let fx = e.tick(t(150), &world.sample(t(150)));
    assert_eq!(kinds(&fx), ["step_finished", "step_started"]);
    let Event::StepFinished {
        verified,
        detail,
        elapsed_secs,
        ..
    } = events(&fx)[0]
    else {
        panic!("finished")
    };
    assert!(*verified);
    assert_eq!(
        detail,
        "dr-replica is primary and available (role primary, available)"
    );
    assert_eq!(*elapsed_secs, 90, "from t(60) when the step started");
    assert_eq!(status(&e, PROMOTE), StepStatus::Done);
    assert_eq!(e.current(), Some(SCRIPT));
}

/// A picture taken before the executor finished shows the world before the action: a wait is
/// not judged on it (a restore's database still reads intact until the next reading).
#[test]
fn a_wait_is_not_judged_on_a_picture_older_than_its_action() {
    let mut e = engine();
    past_look(&mut e);
    let mut world = World::healthy();
    e.tick(t(90), &world.sample(t(90)));
    let attempt = confirm_promote(&mut e);
    e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt,
            result: Ok(()),
        },
        t(130),
    );
    // The condition holds in a picture from before the action finished: not evidence.
    world.replica_role = DbRole::Primary;
    world.replication = ReplicationState::Promoted;
    let fx = e.tick(t(135), &world.sample(t(125)));
    assert!(events(&fx).is_empty(), "judged on an old picture: {fx:?}");
    assert_eq!(status(&e, PROMOTE), StepStatus::Verifying);
    // The first picture after it decides.
    let fx = e.tick(t(140), &world.sample(t(131)));
    assert_eq!(kinds(&fx), ["step_finished", "step_started"]);
    assert_eq!(status(&e, PROMOTE), StepStatus::Done);
}

#[test]
fn wait_times_out_into_failure() {
    let mut e = engine();
    past_look(&mut e);
    let world = World::healthy();
    let attempt = confirm_promote(&mut e);
    e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt,
            result: Ok(()),
        },
        t(130),
    );
    let fx = e.tick(t(130 + 599), &world.sample(t(729)));
    assert!(
        events(&fx)
            .iter()
            .all(|ev| !matches!(ev, Event::StepFinished { .. }))
    );
    let fx = e.tick(t(130 + 600), &world.sample(t(730)));
    assert!(kinds(&fx).contains(&"step_finished".to_string()));
    assert_eq!(
        status(&e, PROMOTE),
        StepStatus::Failed(
            "wait timed out: dr-replica is primary and available not met after 10m (last seen: role replica, available)".into()
        )
    );
    // on_failure = stop: the incident stays on the failed step.
    assert_eq!(e.current(), Some(PROMOTE));
    assert_eq!(status(&e, SCRIPT), StepStatus::Pending);
}

#[test]
fn executor_timeout_kills_and_fails_and_late_reports_are_ignored() {
    let mut e = engine();
    past_look(&mut e);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "already promoted".into(),
        },
        t(61),
    );
    assert_eq!(e.current(), Some(SCRIPT));
    e.handle(Input::Request { step: SCRIPT }, t(62));
    let fx = e.handle(
        Input::Confirm {
            step: SCRIPT,
            typed: None,
        },
        t(70),
    );
    let (_, attempt, _) = execute(&fx).expect("runs");
    let picture = World::healthy().sample(t(100));
    let fx = e.tick(t(129), &picture);
    assert!(!fx.iter().any(|f| matches!(f, Effect::Kill { .. })));
    let fx = e.tick(t(130), &picture);
    assert!(fx.contains(&Effect::Kill {
        step: SCRIPT,
        attempt
    }));
    assert_eq!(
        status(&e, SCRIPT),
        StepStatus::Failed("timed out after 1m".into())
    );
    // The killed child's exit arrives later: ignored.
    let fx = e.handle(
        Input::ExecFinished {
            step: SCRIPT,
            attempt,
            result: Ok(()),
        },
        t(131),
    );
    assert!(fx.is_empty(), "{fx:?}");
    assert_eq!(
        status(&e, SCRIPT),
        StepStatus::Failed("timed out after 1m".into())
    );
}

/// SIGTERM while a step runs: the step is recorded failed "interrupted: SIGTERM ...", its
/// executor killed; what the executor could not kill is recorded (masked) even after that, as an
/// `output` line of the attempt (no new event kind: that would change the journal format).
#[test]
fn interrupt_records_the_running_step_and_left_running_comes_after() {
    let mut e = engine();
    past_look(&mut e);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "already promoted".into(),
        },
        t(61),
    );
    e.handle(Input::Request { step: SCRIPT }, t(62));
    let fx = e.handle(
        Input::Confirm {
            step: SCRIPT,
            typed: None,
        },
        t(70),
    );
    let (_, attempt, _) = execute(&fx).expect("runs");
    let fx = e.handle(
        Input::Interrupt {
            signal: "SIGTERM".into(),
        },
        t(80),
    );
    let recorded = kinds(&fx);
    assert_eq!(recorded[0], "step_finished", "{recorded:?}");
    assert!(fx.contains(&Effect::Kill {
        step: SCRIPT,
        attempt
    }));
    assert!(
        matches!(
            events(&fx)[0],
            Event::StepFinished { step, outcome: warroom::playbook::Outcome::Failed, detail, .. }
                if step == "script" && detail.starts_with("interrupted: SIGTERM ended the console")
        ),
        "{fx:?}"
    );
    assert!(matches!(
        status(&e, SCRIPT),
        StepStatus::Failed(why) if why.starts_with("interrupted: SIGTERM")
    ));
    // A second signal finds nothing running.
    let again = e.handle(
        Input::Interrupt {
            signal: "SIGHUP".into(),
        },
        t(81),
    );
    assert!(events(&again).is_empty(), "{again:?}");
    let fx = e.handle(
        Input::ExecLeftRunning {
            step: SCRIPT,
            attempt,
            processes: vec![warroom::playbook::engine::LeftProcess {
                pid: 4242,
                command: format!("sleep 300 --token {SECRET}"),
            }],
        },
        t(82),
    );
    match events(&fx).as_slice() {
        [
            Event::Output {
                step,
                attempt: 1,
                line,
            },
        ] => {
            assert_eq!(step, "script");
            assert_eq!(
                line,
                &format!(
                    "warroom: left running, could not be killed: pid 4242 (sleep 300 --token {MASK})"
                )
            );
        }
        other => panic!("{other:?}"),
    }
    // An attempt that never ran is not recorded.
    let fx = e.handle(
        Input::ExecLeftRunning {
            step: SCRIPT,
            attempt: 9,
            processes: vec![warroom::playbook::engine::LeftProcess {
                pid: 1,
                command: "x".into(),
            }],
        },
        t(83),
    );
    assert!(fx.is_empty());
}

#[test]
fn stale_attempts_are_ignored_after_a_retry() {
    let mut e = engine();
    past_look(&mut e);
    let first = confirm_promote(&mut e);
    e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt: first,
            result: Err("exit status 1".into()),
        },
        t(130),
    );
    assert_eq!(
        status(&e, PROMOTE),
        StepStatus::Failed("exit status 1".into())
    );
    let fx = e.handle(Input::Retry { step: PROMOTE }, t(140));
    assert_eq!(kinds(&fx), ["retried"]);
    assert_eq!(status(&e, PROMOTE), StepStatus::Active);
    let second = confirm_promote(&mut e);
    assert_eq!(second, first + 1);
    // Output and exit of the first attempt arrive late.
    let fx = e.handle(
        Input::ExecOutput {
            step: PROMOTE,
            attempt: first,
            line: "old".into(),
        },
        t(150),
    );
    assert!(fx.is_empty());
    let fx = e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt: first,
            result: Ok(()),
        },
        t(151),
    );
    assert!(fx.is_empty());
    assert_eq!(status(&e, PROMOTE), StepStatus::Running);
    let fx = e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt: second,
            result: Ok(()),
        },
        t(152),
    );
    assert_eq!(kinds(&fx), ["verifying"]);
}

#[test]
fn failure_with_stop_holds_the_incident_until_retry_or_skip() {
    let mut e = engine();
    past_look(&mut e);
    let attempt = confirm_promote(&mut e);
    let fx = e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt,
            result: Err("  ".into()),
        },
        t(130),
    );
    assert_eq!(kinds(&fx), ["step_finished"], "no next step on stop");
    assert_eq!(
        status(&e, PROMOTE),
        StepStatus::Failed("the executor failed".into())
    );
    assert_eq!(e.current(), Some(PROMOTE));
    let fx = e.handle(Input::Request { step: PROMOTE }, t(131));
    assert_eq!(
        refusal(&fx),
        Some("the step failed: retry it first, or skip it")
    );
    let fx = e.handle(Input::Retry { step: LOOK }, t(132));
    assert_eq!(
        refusal(&fx),
        Some("only a failed step can be retried; this one is done")
    );
    let fx = e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "promoted by hand in the console".into(),
        },
        t(140),
    );
    assert_eq!(kinds(&fx), ["skipped", "step_started"]);
    assert_eq!(
        status(&e, PROMOTE),
        StepStatus::Skipped("promoted by hand in the console".into())
    );
    assert_eq!(e.current(), Some(SCRIPT));
}

#[test]
fn failure_with_continue_moves_on_and_fails_the_scorecard() {
    let mut e = engine();
    past_look(&mut e);
    for step in [PROMOTE, SCRIPT, VERIFY] {
        e.handle(
            Input::Skip {
                step,
                reason: "not in this drill".into(),
            },
            t(70),
        );
    }
    assert_eq!(e.current(), Some(TELL));
    e.handle(Input::Request { step: TELL }, t(80));
    let fx = e.handle(
        Input::Confirm {
            step: TELL,
            typed: None,
        },
        t(81),
    );
    let (_, attempt, exec) = execute(&fx).expect("runs");
    assert!(
        matches!(exec, Exec::Action(c) if c.arg("message").as_deref() == Some("[DRILL] done by ops team"))
    );
    let fx = e.handle(
        Input::ExecFinished {
            step: TELL,
            attempt,
            result: Err("webhook answered 500".into()),
        },
        t(90),
    );
    // The last step failed with continue: nothing is left, the incident resolves. The playbook
    // marks no step as restoring service: its resolution counts as service restored.
    assert_eq!(
        kinds(&fx),
        ["step_finished", "service_restored", "resolved"]
    );
    assert!(e.is_resolved());
    let card = fx
        .iter()
        .find_map(|f| match f {
            Effect::Finished(c) => Some(c),
            _ => None,
        })
        .expect("finished");
    assert!(!card.passed);
    let failed = card
        .criteria
        .iter()
        .find(|c| c.name == "no step failed")
        .expect("criterion");
    assert_eq!(failed.verdict, Grade::Fail);
    assert_eq!(failed.detail, "failed: tell");
}

#[test]
fn continue_failure_in_the_middle_starts_the_next_step() {
    let src = TEST_PLAYBOOK.replacen(
        "run = [\"./notify.sh\", \"--token\", \"{{token}}\"]\ntimeout = \"1m\"",
        "run = [\"./notify.sh\", \"--token\", \"{{token}}\"]\ntimeout = \"1m\"\non_failure = \"continue\"",
        1,
    );
    assert_ne!(src, TEST_PLAYBOOK);
    let pb = load(&src);
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    past_look(&mut e);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "n/a".into(),
        },
        t(61),
    );
    e.handle(Input::Request { step: SCRIPT }, t(62));
    let fx = e.handle(
        Input::Confirm {
            step: SCRIPT,
            typed: None,
        },
        t(63),
    );
    let (_, attempt, _) = execute(&fx).expect("runs");
    let fx = e.handle(
        Input::ExecFinished {
            step: SCRIPT,
            attempt,
            result: Err("exit status 2".into()),
        },
        t(64),
    );
    assert_eq!(kinds(&fx), ["step_finished", "step_started"]);
    assert_eq!(e.current(), Some(VERIFY));
    // The failed step can still be retried; the later step waits again meanwhile.
    let fx = e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "x".into(),
        },
        t(65),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("moved on")));
    let fx = e.handle(Input::Retry { step: SCRIPT }, t(66));
    assert_eq!(kinds(&fx), ["retried"]);
    assert_eq!(e.current(), Some(SCRIPT));
    assert_eq!(status(&e, VERIFY), StepStatus::Pending);
}

#[test]
fn skip_needs_a_reason_and_kills_a_running_executor() {
    let mut e = engine();
    past_look(&mut e);
    let attempt = confirm_promote(&mut e);
    for reason in ["", "   "] {
        let fx = e.handle(
            Input::Skip {
                step: PROMOTE,
                reason: reason.into(),
            },
            t(121),
        );
        assert_eq!(
            refusal(&fx),
            Some("a skip needs a reason: it goes into the journal and the postmortem")
        );
    }
    assert_eq!(status(&e, PROMOTE), StepStatus::Running);
    let fx = e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "the console hung; promoted in the AWS console".into(),
        },
        t(122),
    );
    assert!(fx.contains(&Effect::Kill {
        step: PROMOTE,
        attempt
    }));
    assert_eq!(kinds(&fx), ["skipped", "step_started"]);
    let fx = e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "again".into(),
        },
        t(123),
    );
    assert_eq!(refusal(&fx), Some("the step is already finished"));
}

#[test]
fn a_pending_step_can_be_skipped_ahead_of_time() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "no script host in this drill".into(),
        },
        t(5),
    );
    assert_eq!(kinds(&fx), ["skipped"]);
    assert_eq!(e.current(), Some(LOOK), "the current step is unchanged");
    assert_eq!(
        e.elapsed(SCRIPT, t(10)),
        None,
        "a pre-skipped step never started"
    );
}

#[test]
fn retry_is_refused_while_another_step_is_in_flight() {
    let src = TEST_PLAYBOOK.replacen(
        "timeout = \"1m\"",
        "timeout = \"1m\"\non_failure = \"continue\"",
        1,
    );
    let pb = load(&src);
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    past_look(&mut e);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "n/a".into(),
        },
        t(61),
    );
    e.handle(Input::Request { step: SCRIPT }, t(62));
    let fx = e.handle(
        Input::Confirm {
            step: SCRIPT,
            typed: None,
        },
        t(63),
    );
    let (_, attempt, _) = execute(&fx).expect("runs");
    e.handle(
        Input::ExecFinished {
            step: SCRIPT,
            attempt,
            result: Err("boom".into()),
        },
        t(64),
    );
    e.handle(Input::Complete { step: VERIFY }, t(65));
    assert_eq!(status(&e, VERIFY), StepStatus::Verifying);
    let fx = e.handle(Input::Retry { step: SCRIPT }, t(66));
    assert_eq!(
        refusal(&fx),
        Some("step 4 (verify) is verifying: wait for it, or skip it, before retrying another step")
    );
}

#[test]
fn abort_needs_a_reason_kills_and_ends_with_a_failed_scorecard() {
    let mut e = engine();
    past_look(&mut e);
    let attempt = confirm_promote(&mut e);
    let fx = e.handle(Input::Abort { reason: " ".into() }, t(130));
    assert_eq!(
        refusal(&fx),
        Some("aborting needs a reason: it goes into the postmortem")
    );
    let fx = e.handle(
        Input::Abort {
            reason: "drill stopped: real incident".into(),
        },
        t(140),
    );
    assert!(fx.contains(&Effect::Kill {
        step: PROMOTE,
        attempt
    }));
    assert_eq!(kinds(&fx), ["aborted"]);
    let card = fx
        .iter()
        .find_map(|f| match f {
            Effect::Finished(c) => Some(c),
            _ => None,
        })
        .expect("finished");
    assert!(!card.passed);
    assert_eq!(
        card.aborted.as_deref(),
        Some("drill stopped: real incident")
    );
    assert_eq!(card.rto_achieved_secs, None);
    assert!(e.is_finished());
    assert_eq!(e.current(), None);
    assert_eq!(e.rto(t(9999)).elapsed_secs, 140, "the clock stops");
    let fx = e.handle(Input::Request { step: SCRIPT }, t(150));
    assert_eq!(
        refusal(&fx),
        Some("the incident is over: nothing more can change")
    );
    // Late executor reports are silently ignored; notes are still welcome.
    assert!(
        e.handle(
            Input::ExecFinished {
                step: PROMOTE,
                attempt,
                result: Ok(())
            },
            t(151)
        )
        .is_empty()
    );
    let fx = e.handle(
        Input::Note {
            text: "handed over to the real incident".into(),
        },
        t(152),
    );
    assert_eq!(kinds(&fx), ["note"]);
}

#[test]
fn notes_need_text() {
    let mut e = engine();
    let fx = e.handle(
        Input::Note {
            text: "before declaring".into(),
        },
        t(0),
    );
    assert_eq!(kinds(&fx), ["note"]);
    let fx = e.handle(Input::Note { text: "  ".into() }, t(0));
    assert_eq!(refusal(&fx), Some("an empty note: write something"));
}

fn shared(id: &str, key: &str, sequence: u64, text: &str) -> Input {
    use warroom::playbook::{SharedAsk, SharedRequest, Signed};
    Input::SharedRequest(SharedRequest {
        ask: SharedAsk::Note { text: text.into() },
        by: Signed {
            request: id.into(),
            principal: "bob@example".into(),
            role: "scribe".into(),
            key: key.into(),
            sequence,
            signed: "{}".into(),
            signature: "sig".into(),
        },
    })
}

#[test]
fn a_shared_note_is_recorded_with_its_signer_and_a_replay_is_refused_with_the_reason() {
    let mut e = engine();
    let fx = e.handle(shared("r1", "SHA256:bob", 10, "comms sent"), t(0));
    assert_eq!(kinds(&fx), ["shared_note"]);
    assert!(e.request_seen("r1"));
    // The same request again, and one signed at an older sequence by the same key.
    for (input, why) in [
        (
            shared("r1", "SHA256:bob", 10, "comms sent"),
            "replayed: request r1 was taken already",
        ),
        (
            shared("r2", "SHA256:bob", 9, "comms sent"),
            "replayed: signed at sequence 9, older than sequence 10",
        ),
    ] {
        let fx = e.handle(input, t(1));
        assert_eq!(kinds(&fx), ["request_refused"]);
        match events(&fx)[0] {
            Event::RequestRefused { reason, .. } => assert!(reason.starts_with(why), "{reason}"),
            other => panic!("{other:?}"),
        }
    }
    // Another key keeps its own sequence; the same key at the same or a newer one is taken.
    let fx = e.handle(shared("r3", "SHA256:carol", 2, "x"), t(2));
    assert_eq!(kinds(&fx), ["shared_note"]);
    let fx = e.handle(shared("r4", "SHA256:bob", 10, "y"), t(2));
    assert_eq!(kinds(&fx), ["shared_note"]);
    // A replayed engine (resume, take-over) knows what was taken.
    let pb = load(TEST_PLAYBOOK);
    let recorded: Vec<_> = [&fx]
        .iter()
        .flat_map(|fx| events(fx))
        .map(|ev| (t(2), ev.clone()))
        .collect();
    let again = Engine::replay(pb.clone(), settings(&pb), recorded).expect("replay");
    assert!(again.request_seen("r4"));
}

fn approval(id: &str, key: &str, sequence: u64, armed: &str, resource: &str) -> Input {
    use warroom::playbook::{SharedAsk, SharedRequest, Signed};
    Input::SharedRequest(SharedRequest {
        ask: SharedAsk::Approve {
            step: "promote".into(),
            armed: armed.into(),
            resource: resource.into(),
        },
        by: Signed {
            request: id.into(),
            principal: "bob@example".into(),
            role: "approver".into(),
            key: key.into(),
            sequence,
            signed: "{}".into(),
            signature: "sig".into(),
        },
    })
}

fn two_person_engine(key: bool) -> Engine {
    use warroom::playbook::engine::EngineShare;
    let pb = load(&TEST_PLAYBOOK.replace(
        "capture_rpo = true\n",
        "capture_rpo = true\napprovals = 1\n",
    ));
    let mut e = Engine::new(pb.clone(), settings(&pb).operator("alice@example"));
    e.set_share(Some(EngineShare {
        incident: "inc".into(),
        key: key.then(|| "SHA256:alice".to_string()),
    }));
    e
}

/// The arming the engine asks the runtime to sign (`Effect::SignArming`), if any.
fn sign_request(fx: &[Effect]) -> Option<(usize, String)> {
    fx.iter().find_map(|f| match f {
        Effect::SignArming { step, signed } => Some((*step, signed.clone())),
        _ => None,
    })
}

/// The runtime's part: signs what the engine asked (as a signer would, deterministically) and
/// feeds the signature back.
fn signed_back(e: &mut Engine, fx: &[Effect], at: DateTime<Utc>) -> Vec<Effect> {
    let (step, signed) = sign_request(fx).expect("a signature asked");
    e.handle(
        Input::ArmingSigned {
            step,
            result: Ok(format!("signed {} bytes", signed.len())),
            signed,
        },
        at,
    )
}

fn armed_digest(fx: &[Effect]) -> String {
    events(fx)
        .iter()
        .find_map(|ev| match ev {
            Event::ApprovalArmed { armed, .. } => Some(armed.clone()),
            _ => None,
        })
        .expect("armed")
}

fn refused_reason(fx: &[Effect]) -> String {
    events(fx)
        .iter()
        .find_map(|ev| match ev {
            Event::RequestRefused { reason, .. } => Some(reason.clone()),
            _ => None,
        })
        .expect("a request_refused")
}

#[test]
fn a_step_that_needs_approval_runs_only_after_another_key_approves_this_arming() {
    let mut e = two_person_engine(true);
    past_look(&mut e);
    e.handle(Input::Request { step: PROMOTE }, t(100));
    let confirm = Input::Confirm {
        step: PROMOTE,
        typed: Some("dr-replica".into()),
    };
    let fx = e.handle(confirm.clone(), t(120));
    // Nothing is recorded until the driver's key has signed (off the UI thread).
    assert_eq!(kinds(&fx), Vec::<String>::new());
    assert!(sign_request(&fx).is_some(), "{fx:?}");
    let fx = signed_back(&mut e, &fx, t(121));
    assert_eq!(kinds(&fx), ["approval_armed"]);
    assert!(!has_execute(&fx), "armed, not run");
    let armed = armed_digest(&fx);
    let view = e.step_view(PROMOTE, t(121)).expect("view");
    assert_eq!(view.waiting_approval, Some((0, 1)));
    // The driver's own key, a wrong resource name, another arming: refused, nothing runs.
    for (input, why) in [
        (
            approval("a1", "SHA256:alice", 5, &armed, "dr-replica"),
            "signed by the driver's own key",
        ),
        (
            approval("a2", "SHA256:bob", 5, &armed, "primary-db"),
            "typed \"primary-db\", but approving this step needs \"dr-replica\"",
        ),
        (
            approval("a3", "SHA256:bob", 5, "0123456789abcdef", "dr-replica"),
            "replayed or stale",
        ),
    ] {
        let fx = e.handle(input, t(130));
        assert!(!has_execute(&fx));
        let reason = refused_reason(&fx);
        assert!(reason.contains(why), "{reason}");
    }
    // Another key approves this arming: approved, confirmed (with the driver's typed name),
    // the RPO captured, and only then the executor starts.
    let fx = e.handle(
        approval("a4", "SHA256:bob", 6, &armed, "dr-replica"),
        t(140),
    );
    assert_eq!(kinds(&fx), ["approved", "confirmed", "rpo_captured"]);
    assert!(has_execute(&fx));
    match events(&fx)[1] {
        Event::Confirmed { typed, by, .. } => {
            assert_eq!(typed.as_deref(), Some("dr-replica"));
            assert_eq!(by, "alice@example");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(status(&e, PROMOTE), StepStatus::Running);
    // The approval replayed later: taken already.
    let fx = e.handle(
        approval("a4", "SHA256:bob", 6, &armed, "dr-replica"),
        t(150),
    );
    assert!(refused_reason(&fx).contains("taken already"));
}

fn confirm_needing_approval(e: &mut Engine, at: DateTime<Utc>) -> Vec<Effect> {
    let fx = e.handle(Input::Request { step: PROMOTE }, at);
    assert_eq!(refusal(&fx), None, "{fx:?}");
    e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        at + TimeDelta::seconds(1),
    )
}

#[test]
fn an_arming_is_pending_while_the_drivers_key_signs_then_recorded_as_signed() {
    let mut e = two_person_engine(true);
    past_look(&mut e);
    let fx = confirm_needing_approval(&mut e, t(100));
    let (step, signed) = sign_request(&fx).expect("a signature asked");
    assert_eq!(step, PROMOTE);
    // Nothing recorded, nothing run; the step says it is being signed.
    assert!(events(&fx).is_empty(), "{fx:?}");
    assert!(!has_execute(&fx));
    assert_eq!(e.signing_arming(), Some(PROMOTE));
    assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
    let view = e.step_view(PROMOTE, t(102)).expect("view");
    assert!(view.signing_arming);
    assert_eq!(view.waiting_approval, None);
    // The text to sign names the incident, the step, the driver and the arming's time.
    let text: serde_json::Value = serde_json::from_str(&signed).expect("json");
    assert_eq!(text["incident"], "inc");
    assert_eq!(text["step"], "promote");
    assert_eq!(text["principal"], "alice@example");
    assert_eq!(text["resource"], "dr-replica");
    assert_eq!(text["at"], "2026-11-22T12:01:41.000Z");
    // Confirming again meanwhile is refused: one arming at a time.
    let again = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(102),
    );
    assert!(
        refusal(&again).is_some_and(|r| r.contains("signing the arming")),
        "{again:?}"
    );
    assert!(sign_request(&again).is_none() && events(&again).is_empty());
    // The signature comes back: recorded exactly as signed, by the driver's key.
    let fx = e.handle(
        Input::ArmingSigned {
            step: PROMOTE,
            signed: signed.clone(),
            result: Ok("-----BEGIN SSH SIGNATURE-----\nxyz".into()),
        },
        t(105),
    );
    assert_eq!(kinds(&fx), ["approval_armed"]);
    match events(&fx)[0] {
        Event::ApprovalArmed {
            step,
            attempt,
            resource,
            needed,
            by,
            key,
            armed,
            signed: recorded,
            signature,
            ..
        } => {
            assert_eq!(step, "promote");
            assert_eq!(*attempt, 1);
            assert_eq!(resource, "dr-replica");
            assert_eq!(*needed, 1);
            assert_eq!(by, "alice@example");
            assert_eq!(key, "SHA256:alice");
            assert_eq!(recorded, &signed);
            assert_eq!(signature, "-----BEGIN SSH SIGNATURE-----\nxyz");
            assert_eq!(armed.len(), 64, "SHA-256 hex of the signed text: {armed}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(e.signing_arming(), None);
    let view = e.step_view(PROMOTE, t(106)).expect("view");
    assert!(!view.signing_arming);
    assert_eq!(view.waiting_approval, Some((0, 1)));
    // The same answer again is stale: nothing more.
    let fx = e.handle(
        Input::ArmingSigned {
            step: PROMOTE,
            signed,
            result: Ok("sig".into()),
        },
        t(107),
    );
    assert!(fx.is_empty(), "{fx:?}");
}

#[test]
fn a_stale_or_mismatched_signature_is_ignored() {
    let mut e = two_person_engine(true);
    past_look(&mut e);
    let fx = confirm_needing_approval(&mut e, t(100));
    let (_, signed) = sign_request(&fx).expect("asked");
    // Another text, another step: ignored, the arming still pending.
    for (step, text) in [
        (PROMOTE, signed.replace("dr-replica", "primary-db")),
        (SCRIPT, signed.clone()),
    ] {
        let fx = e.handle(
            Input::ArmingSigned {
                step,
                signed: text,
                result: Ok("sig".into()),
            },
            t(103),
        );
        assert!(fx.is_empty(), "{fx:?}");
        assert_eq!(e.signing_arming(), Some(PROMOTE));
    }
    // Cancelled, asked and confirmed again: the first answer is for an arming that no longer
    // waits (its text has another time), the second is recorded.
    e.handle(Input::Cancel { step: PROMOTE }, t(104));
    assert_eq!(e.signing_arming(), None);
    let late = e.handle(
        Input::ArmingSigned {
            step: PROMOTE,
            signed: signed.clone(),
            result: Ok("sig".into()),
        },
        t(105),
    );
    assert!(late.is_empty(), "{late:?}");
    let fx = confirm_needing_approval(&mut e, t(110));
    let (_, second) = sign_request(&fx).expect("asked again");
    assert_ne!(second, signed);
    let stale = e.handle(
        Input::ArmingSigned {
            step: PROMOTE,
            signed,
            result: Ok("sig".into()),
        },
        t(112),
    );
    assert!(stale.is_empty(), "{stale:?}");
    assert_eq!(e.signing_arming(), Some(PROMOTE));
    let fx = signed_back(&mut e, &fx, t(113));
    assert_eq!(kinds(&fx), ["approval_armed"]);
}

#[test]
fn a_failed_signature_refuses_the_confirmation_and_records_nothing() {
    let mut e = two_person_engine(true);
    past_look(&mut e);
    let fx = confirm_needing_approval(&mut e, t(100));
    let (step, signed) = sign_request(&fx).expect("asked");
    let fx = e.handle(
        Input::ArmingSigned {
            step,
            signed,
            result: Err(warroom::share::sig::SignError::Sign(
                "the ssh-agent did not answer within 5 s".into(),
            )),
        },
        t(106),
    );
    assert!(events(&fx).is_empty(), "{fx:?}");
    assert!(!has_execute(&fx));
    assert_eq!(
        refusal(&fx),
        Some(
            "the driver's key could not sign the arming: cannot sign: the ssh-agent did not \
             answer within 5 s"
        )
    );
    // The step stays unconfirmed, nothing pending: the driver may confirm again.
    assert_eq!(status(&e, PROMOTE), StepStatus::AwaitingConfirm);
    assert_eq!(e.signing_arming(), None);
    assert_eq!(
        e.step_view(PROMOTE, t(107)).expect("view").waiting_approval,
        None
    );
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(108),
    );
    assert!(sign_request(&fx).is_some(), "{fx:?}");
}

#[test]
fn abort_or_skip_while_signing_drops_the_arming() {
    // Skip, then abort: the answer that comes after records nothing.
    for end in [
        Input::Skip {
            step: PROMOTE,
            reason: "done by hand".into(),
        },
        Input::Abort {
            reason: "false alarm".into(),
        },
    ] {
        let mut e = two_person_engine(true);
        past_look(&mut e);
        let fx = confirm_needing_approval(&mut e, t(100));
        let ended = e.handle(end.clone(), t(103));
        assert_eq!(refusal(&ended), None, "{ended:?}");
        assert_eq!(e.signing_arming(), None, "{end:?}");
        let late = signed_back(&mut e, &fx, t(104));
        assert!(
            events(&late).is_empty() && !has_execute(&late),
            "{end:?}: {late:?}"
        );
        assert!(refusal(&late).is_none(), "{late:?}");
    }
    // A console that lost command (read-only from now on) drops it too.
    let mut e = two_person_engine(true);
    past_look(&mut e);
    let fx = confirm_needing_approval(&mut e, t(100));
    e.set_read_only(true);
    assert_eq!(e.signing_arming(), None);
    assert!(signed_back(&mut e, &fx, t(104)).is_empty());
}

#[test]
fn replaying_an_armed_step_needs_no_signer() {
    fn run(
        e: &mut Engine,
        input: Input,
        at: DateTime<Utc>,
        recorded: &mut Vec<(DateTime<Utc>, Event)>,
    ) -> Vec<Effect> {
        let fx = e.handle(input, at);
        recorded.extend(events(&fx).into_iter().map(|ev| (at, ev.clone())));
        fx
    }
    let mut e = two_person_engine(true);
    let mut recorded = Vec::new();
    run(&mut e, Input::Declare, t(0), &mut recorded);
    for item in 0..2 {
        run(
            &mut e,
            Input::ToggleItem { step: LOOK, item },
            t(10),
            &mut recorded,
        );
    }
    run(&mut e, Input::Complete { step: LOOK }, t(60), &mut recorded);
    run(
        &mut e,
        Input::Request { step: PROMOTE },
        t(100),
        &mut recorded,
    );
    let fx = run(
        &mut e,
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(101),
        &mut recorded,
    );
    let (step, signed) = sign_request(&fx).expect("asked");
    run(
        &mut e,
        Input::ArmingSigned {
            step,
            signed,
            result: Ok("sig".into()),
        },
        t(102),
        &mut recorded,
    );
    assert!(
        recorded
            .iter()
            .any(|(_, ev)| matches!(ev, Event::ApprovalArmed { .. })),
        "{recorded:?}"
    );
    // Resume, follow, take-command: the journal alone, no share and no key.
    let pb = e.playbook().clone();
    let again = Engine::replay(pb.clone(), settings(&pb), recorded).expect("replay");
    let view = again.step_view(PROMOTE, t(103)).expect("view");
    assert_eq!(view.waiting_approval, Some((0, 1)));
    assert_eq!(again.signing_arming(), None);
}

#[test]
fn approvals_are_refused_without_a_shared_room_or_without_the_drivers_key() {
    let pb = load(&TEST_PLAYBOOK.replace(
        "capture_rpo = true\n",
        "capture_rpo = true\napprovals = 1\n",
    ));
    let mut alone = Engine::new(pb.clone(), settings(&pb));
    let mut keyless = two_person_engine(false);
    for (e, why) in [
        (&mut alone, "run the incident in a shared war room"),
        (&mut keyless, "start the console with --key"),
    ] {
        past_look(e);
        e.handle(Input::Request { step: PROMOTE }, t(100));
        let fx = e.handle(
            Input::Confirm {
                step: PROMOTE,
                typed: Some("dr-replica".into()),
            },
            t(120),
        );
        assert!(!has_execute(&fx));
        assert!(refusal(&fx).is_some_and(|r| r.contains(why)), "{fx:?}");
    }
    // Unchanged without `approvals`: the confirmation executes.
    let mut e = engine();
    past_look(&mut e);
    confirm_promote(&mut e);
}

// ----- RPO capture -------------------------------------------------------------------------

#[test]
fn rpo_is_captured_from_the_replica_lag_when_the_promotion_starts() {
    let mut e = engine();
    past_look(&mut e);
    let mut world = World::healthy();
    world.replica_lag = Some(41.2);
    e.tick(t(110), &world.sample(t(110)));
    let fx = e.handle(Input::Request { step: PROMOTE }, t(115));
    assert_eq!(refusal(&fx), None);
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(120),
    );
    let captured = events(&fx)
        .into_iter()
        .find_map(|ev| match ev {
            Event::RpoCaptured {
                seconds,
                measured_from,
                ..
            } => Some((*seconds, measured_from.clone())),
            _ => None,
        })
        .expect("captured");
    // The source still writes: the window is the lag now, ending now.
    assert_eq!(
        captured,
        (
            Some(41.2),
            "replica lag of dr-replica: primary still writes, so the window ends now".to_string()
        )
    );
    let rpo = e.rpo_captured().expect("kept");
    assert_eq!((rpo.seconds, rpo.at), (Some(42), t(120)));
}

#[test]
fn rpo_of_a_restore_without_corruption_runs_from_the_restore_point_to_now() {
    let src = r#"
id = "restore"
title = "Restore"
scenario = "corruption"
rto = "1h"
rpo = "15m"
[[steps]]
id = "restore"
title = "Restore"
target = "30m"
action = "db.restore"
with = { db = "primary", backup = "snapshots" }
capture_rpo = true
"#;
    let pb = load(src);
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    e.handle(Input::Declare, t(0));
    // snapshots is 6 minutes old at t(0); the restore starts at t(60).
    e.tick(t(30), &World::healthy().sample(t(30)));
    e.handle(Input::Request { step: 0 }, t(50));
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(60),
    );
    let ev = events(&fx)
        .into_iter()
        .find(|ev| matches!(ev, Event::RpoCaptured { .. }))
        .expect("captured");
    assert_eq!(
        ev,
        &Event::RpoCaptured {
            step: "restore".into(),
            seconds: Some(420.0),
            bytes: None,
            window_from: Some(t(-360)),
            window_to: Some(t(60)),
            measured_from: "writes to primary after the restore point (newest good snapshots \
                            backup); no corruption recorded"
                .into(),
        }
    );
}

#[test]
fn rpo_without_telemetry_is_recorded_as_unmeasured_and_fails_the_criterion() {
    let mut e = engine();
    past_look(&mut e);
    let attempt = confirm_promote(&mut e);
    let rpo = e.rpo_captured().expect("recorded");
    assert_eq!(rpo.seconds, None);
    assert_eq!(rpo.measured_from, "no telemetry had arrived");
    e.handle(
        Input::Abort {
            reason: "stop".into(),
        },
        t(200),
    );
    let card = e.scorecard(t(200));
    let c = card
        .criteria
        .iter()
        .find(|c| c.name == "RPO < objective")
        .expect("criterion");
    assert_eq!(c.verdict, Grade::Fail);
    assert_eq!(c.detail, "not measured: no telemetry had arrived");
    let _ = attempt;
}

// ----- timing, RTO gauge -------------------------------------------------------------------

#[test]
fn timing_classes_at_their_boundaries() {
    let target = Dur::from_secs(100);
    assert_eq!(Timing::of(0, target), Timing::OnTime);
    assert_eq!(Timing::of(80, target), Timing::OnTime);
    assert_eq!(Timing::of(81, target), Timing::AtRisk);
    assert_eq!(Timing::of(100, target), Timing::AtRisk);
    assert_eq!(Timing::of(101, target), Timing::Over);
    assert_eq!(Timing::of(0, Dur::ZERO), Timing::OnTime);
}

#[test]
fn step_views_carry_timing_and_target_exceeded_is_recorded_once() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let picture = World::healthy().sample(t(0));
    let view = e.step_view(LOOK, t(96)).expect("view");
    assert_eq!(view.elapsed_secs, Some(96));
    assert_eq!(view.timing, Some(Timing::OnTime));
    assert_eq!(
        e.step_view(LOOK, t(100)).and_then(|v| v.timing),
        Some(Timing::AtRisk)
    );
    assert_eq!(e.step_view(PROMOTE, t(100)).and_then(|v| v.timing), None);
    assert!(events(&e.tick(t(120), &picture)).is_empty());
    let fx = e.tick(t(121), &picture);
    assert_eq!(
        events(&fx)[0],
        &Event::TargetExceeded {
            step: "look".into(),
            target_secs: 120
        }
    );
    // The targets add up to exactly the RTO: one second over puts the projection at risk.
    assert!(matches!(
        events(&fx)[1],
        Event::RtoRisk {
            at_risk: true,
            projected_secs: 1201,
            ..
        }
    ));
    assert_eq!(
        e.step_view(LOOK, t(121)).and_then(|v| v.timing),
        Some(Timing::Over)
    );
    assert!(
        !kinds(&e.tick(t(122), &picture)).contains(&"target_exceeded".to_string()),
        "recorded once"
    );
}

#[test]
fn rto_projection_counts_remaining_targets_and_flags_risk() {
    let mut e = engine();
    let picture = World::healthy().sample(t(0));
    let g = e.rto(t(0));
    assert_eq!(
        (g.elapsed_secs, g.projection_secs, g.rto_secs),
        (0, 1200, 1200)
    );
    assert!(!g.at_risk);

    e.handle(Input::Declare, t(0));
    // 30 s into the 2-minute first step: 30 + (120 - 30) + 5m + 3m + 5m + 5m.
    let g = e.rto(t(30));
    assert_eq!(g.elapsed_secs, 30);
    assert_eq!(g.remaining_targets_secs, 90 + 1080);
    assert_eq!(g.projection_secs, 1200);
    assert!(!g.at_risk);
    // Past the step's target, the running step counts zero remaining: projection grows.
    let g = e.rto(t(150));
    assert_eq!(g.remaining_targets_secs, 1080);
    assert_eq!(g.projection_secs, 1230);
    assert!(g.at_risk);
    let fx = e.tick(t(150), &picture);
    assert!(events(&fx).contains(&&Event::RtoRisk {
        at_risk: true,
        projected_secs: 1230,
        rto_secs: 1200
    }));
    assert!(
        !kinds(&e.tick(t(151), &picture)).contains(&"rto_risk".to_string()),
        "only on change"
    );
    // Finishing the step early releases time: skipped steps count nothing.
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 0,
        },
        t(152),
    );
    e.handle(
        Input::ToggleItem {
            step: LOOK,
            item: 1,
        },
        t(152),
    );
    e.handle(Input::Complete { step: LOOK }, t(155));
    e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "n/a".into(),
        },
        t(155),
    );
    let g = e.rto(t(155));
    assert_eq!(g.projection_secs, 155 + 300 + 300 + 300);
    let fx = e.tick(t(155), &picture);
    assert!(events(&fx).contains(&&Event::RtoRisk {
        at_risk: false,
        projected_secs: 1055,
        rto_secs: 1200
    }));
}

#[test]
fn objectives_can_be_overridden() {
    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb).with_objectives(Dur::from_mins(10), Dur::from_mins(1));
    let mut e = Engine::new(pb, s);
    let fx = e.handle(Input::Declare, t(0));
    assert!(matches!(
        events(&fx)[0],
        Event::Declared {
            rto_secs: 600,
            rpo_secs: 60,
            ..
        }
    ));
    assert!(e.rto(t(0)).at_risk, "20m of targets against a 10m RTO");
}

// ----- scorecard ---------------------------------------------------------------------------

/// Runs the test playbook to the end on a healthy world; returns the final scorecard effects.
fn run_to_end(e: &mut Engine, world: &mut World, step_secs: i64) -> Vec<Effect> {
    let mut now = 0;
    let mut all = Vec::new();
    all.extend(e.handle(Input::Declare, t(now)));
    while !e.is_finished() {
        now += step_secs;
        assert!(now < 100_000, "the playbook does not finish");
        all.extend(e.tick(t(now), &world.sample(t(now))));
        let Some(step) = e.current() else { break };
        for item in 0..e.ticks(step).len() {
            if !e.ticks(step)[item] {
                all.extend(e.handle(Input::ToggleItem { step, item }, t(now)));
            }
        }
        let Some(input) = e.enter_input() else {
            continue;
        };
        let fx = e.handle(input, t(now));
        let req = fx.iter().find_map(|f| match f {
            Effect::OpenConfirm(r) => Some(r.clone()),
            _ => None,
        });
        all.extend(fx);
        if let Some(req) = req {
            let fx = e.handle(
                Input::Confirm {
                    step,
                    typed: req.type_to_confirm.clone(),
                },
                t(now),
            );
            if let Some((step, attempt, exec)) = execute(&fx) {
                let exec = exec.clone();
                all.extend(fx);
                let result = world.apply(&exec, t(now));
                all.extend(e.handle(
                    Input::ExecFinished {
                        step,
                        attempt,
                        result,
                    },
                    t(now),
                ));
            } else {
                all.extend(fx);
            }
        }
    }
    all
}

fn final_card(effects: &[Effect]) -> warroom::playbook::Scorecard {
    effects
        .iter()
        .find_map(|f| match f {
            Effect::Finished(c) => Some((**c).clone()),
            _ => None,
        })
        .expect("the incident finished")
}

#[test]
fn scorecard_passes_a_clean_drill() {
    // The test playbook's `run` step has no counterpart in the model: skip it up front. The
    // drill's fault starts the outage (the custom scenario reads no signal of its own).
    let mut e = engine();
    e.fault_injected("region-loss", t(0));
    e.handle(Input::Declare, t(0));
    e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "no script host in the test world".into(),
        },
        t(0),
    );
    let mut world = World::healthy();
    world.replica_lag = Some(12.0);
    let fx = run_to_end_declared(&mut e, &mut world, 20);
    let card = final_card(&fx);
    assert!(card.passed, "{card:#?}");
    assert!(card.rto_achieved_secs.is_some_and(|a| a < 1200));
    assert_eq!(card.rpo.as_ref().and_then(|r| r.seconds), Some(12));
    assert_eq!(
        card.skipped(),
        [("script", "no script host in the test world")]
    );
    let verify = card.steps.iter().find(|s| s.id == "verify").expect("step");
    assert!(verify.verification && verify.verified);
    assert!(card.criteria.iter().all(|c| c.verdict != Grade::Fail));
    let Some(Event::Resolved {
        passed,
        rpo_achieved_secs,
        ..
    }) = events(&fx).last().copied()
    else {
        panic!("resolved last")
    };
    assert!(*passed);
    assert_eq!(*rpo_achieved_secs, Some(12.0));
}

/// `run_to_end` for an engine already declared.
fn run_to_end_declared(e: &mut Engine, world: &mut World, step_secs: i64) -> Vec<Effect> {
    // Declare is refused (already declared) and harmless; the loop does the rest.
    run_to_end(e, world, step_secs)
}

#[test]
fn scorecard_fails_over_rto_over_rpo_and_on_skipped_verification() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    e.handle(
        Input::Skip {
            step: SCRIPT,
            reason: "n/a".into(),
        },
        t(0),
    );
    e.handle(
        Input::Skip {
            step: VERIFY,
            reason: "no time".into(),
        },
        t(0),
    );
    let mut world = World::healthy();
    world.replica_lag = Some(400.0);
    // 10 minutes per loop iteration: far over the 20m RTO.
    let fx = run_to_end_declared(&mut e, &mut world, 600);
    let card = final_card(&fx);
    assert!(!card.passed);
    let grade = |name: &str| {
        card.criteria
            .iter()
            .find(|c| c.name == name)
            .map(|c| (c.verdict, c.detail.clone()))
            .expect("criterion")
    };
    assert_eq!(grade("completed").0, Grade::Pass);
    assert_eq!(grade("RTO < objective").0, Grade::Fail);
    assert_eq!(
        grade("RPO < objective"),
        (
            Grade::Fail,
            "6m40s (replica lag of dr-replica: primary still writes, so the window ends now) / 5m \
             objective"
                .into()
        )
    );
    assert_eq!(
        grade("every verification step passed"),
        (Grade::Fail, "not passed: verify".into())
    );
    assert_eq!(grade("no step failed").0, Grade::Pass);
}

// ----- secrets -----------------------------------------------------------------------------

#[test]
fn secrets_reach_the_executor_and_nothing_else() {
    let mut e = engine();
    past_look(&mut e);
    e.handle(
        Input::Skip {
            step: PROMOTE,
            reason: "n/a".into(),
        },
        t(61),
    );
    let mut all = Vec::new();
    let fx = e.handle(Input::Request { step: SCRIPT }, t(62));
    let req = fx
        .iter()
        .find_map(|f| match f {
            Effect::OpenConfirm(r) => Some(r.clone()),
            _ => None,
        })
        .expect("dialog");
    assert_eq!(req.command, format!("run ./notify.sh --token '{MASK}'"));
    assert_eq!(req.type_to_confirm, None);
    all.extend(fx);
    let fx = e.handle(
        Input::Confirm {
            step: SCRIPT,
            typed: None,
        },
        t(63),
    );
    let (_, attempt, exec) = execute(&fx).expect("runs");
    assert_eq!(
        exec,
        &Exec::Run {
            argv: vec!["./notify.sh".into(), "--token".into(), SECRET.into()],
            env: Vec::new(),
            timeout: Some(Dur::from_mins(1)),
        }
    );
    let Some(Effect::Execute { command, .. }) =
        fx.iter().find(|f| matches!(f, Effect::Execute { .. }))
    else {
        panic!("execute")
    };
    assert!(!command.contains(SECRET));
    all.extend(
        fx.into_iter()
            .filter(|f| !matches!(f, Effect::Execute { .. })),
    );
    // The child echoes its argument; the output is masked.
    all.extend(e.handle(
        Input::ExecOutput {
            step: SCRIPT,
            attempt,
            line: format!("using token {SECRET}"),
        },
        t(64),
    ));
    all.extend(e.handle(
        Input::ExecFinished {
            step: SCRIPT,
            attempt,
            result: Err(format!("rejected token {SECRET}")),
        },
        t(65),
    ));
    let journal: Vec<String> = events(&all)
        .iter()
        .map(|ev| serde_json::to_string(ev).expect("serialises"))
        .collect();
    let text = journal.join("\n");
    assert!(!text.contains(SECRET), "{text}");
    assert!(text.contains(&format!("using token {MASK}")), "{text}");
    let view = e.step_view(SCRIPT, t(66)).expect("view");
    assert_eq!(view.output, [format!("using token {MASK}")]);
    assert_eq!(
        view.status,
        StepStatus::Failed(format!("rejected token {MASK}"))
    );
    assert!(!format!("{:?}", e.steps(t(66))).contains(SECRET));
}

#[test]
fn hostile_variable_values_stay_single_arguments_in_the_rendered_argv() {
    let hostile = [
        "; rm -rf /",
        "$(reboot)",
        "`reboot`",
        "it's \"quoted\"",
        "two\nlines",
        "with spaces  and\ttabs",
        "{{token}}",
        "",
    ];
    for value in hostile {
        let src = format!(
            "id = \"h\"\ntitle = \"h\"\nscenario = \"custom\"\nrto = \"1m\"\nrpo = \"1m\"\n\
             [vars]\nx = {value:?}\ntoken = {{ value = \"sekret\", secret = true }}\n\
             [[steps]]\nid = \"s\"\ntitle = \"s\"\ntarget = \"1m\"\n\
             run = [\"./tool\", \"{{{{x}}}}\", \"--flag={{{{x}}}}\", \"{{{{x}}}}{{{{x}}}}\"]\n",
            value = value
        );
        let pb = load(&src);
        let argv = pb.argv(0).expect("run step");
        assert_eq!(
            argv,
            vec![
                "./tool".to_string(),
                value.to_string(),
                format!("--flag={value}"),
                format!("{value}{value}"),
            ],
            "value {value:?}"
        );
        // The engine hands exactly this argv to the executor.
        let s = settings(&pb);
        let mut e = Engine::new(pb, s);
        e.handle(Input::Declare, t(0));
        e.handle(Input::Request { step: 0 }, t(1));
        let fx = e.handle(
            Input::Confirm {
                step: 0,
                typed: None,
            },
            t(2),
        );
        let (_, _, exec) = execute(&fx).expect("runs");
        assert_eq!(
            exec,
            &Exec::Run {
                argv,
                env: Vec::new(),
                timeout: None
            }
        );
    }
}

// ----- journal and resume ------------------------------------------------------------------

#[test]
fn events_serialise_with_a_snake_case_kind_tag_and_round_trip() {
    let mut e = engine();
    let mut world = World::healthy();
    let fx = {
        e.handle(Input::Declare, t(0));
        e.handle(
            Input::Skip {
                step: SCRIPT,
                reason: "n/a".into(),
            },
            t(0),
        );
        run_to_end_declared(&mut e, &mut world, 20)
    };
    for ev in events(&fx) {
        let json = serde_json::to_value(ev).expect("serialises");
        let kind = json.get("kind").and_then(|k| k.as_str()).expect("kind tag");
        assert!(
            kind.chars().all(|c| c.is_ascii_lowercase() || c == '_'),
            "{kind}"
        );
        let back: Event = serde_json::from_value(json).expect("deserialises");
        assert_eq!(&back, ev);
    }
    let confirmed = events(&fx)
        .into_iter()
        .find(|ev| matches!(ev, Event::Confirmed { .. }))
        .expect("a confirmation");
    let json = serde_json::to_value(confirmed).expect("json");
    assert_eq!(json["kind"], "confirmed");
    assert_eq!(json["step"], "promote");
    assert_eq!(json["evidence"]["regions"][0]["verdict"], "HEALTHY");
}

/// Every `(now, event)` an engine emitted, in order, as a journal would hold them.
fn journal_of(steps: &[(i64, Vec<Effect>)]) -> Vec<(DateTime<Utc>, Event)> {
    steps
        .iter()
        .flat_map(|(now, fx)| events(fx).into_iter().map(move |ev| (t(*now), ev.clone())))
        .collect()
}

#[test]
fn resume_rebuilds_the_engine_from_its_journal() {
    let mut e = engine();
    let mut world = World::healthy();
    world.replica_lag = Some(7.0);
    let mut log: Vec<(i64, Vec<Effect>)> = Vec::new();
    let mut at = |now: i64, fx: Vec<Effect>| log.push((now, fx));
    at(0, e.handle(Input::Declare, t(0)));
    at(
        10,
        e.handle(
            Input::ToggleItem {
                step: LOOK,
                item: 0,
            },
            t(10),
        ),
    );
    at(
        11,
        e.handle(
            Input::ToggleItem {
                step: LOOK,
                item: 1,
            },
            t(11),
        ),
    );
    at(60, e.handle(Input::Complete { step: LOOK }, t(60)));
    at(90, e.tick(t(90), &world.sample(t(90))));
    at(100, e.handle(Input::Request { step: PROMOTE }, t(100)));
    at(
        120,
        e.handle(
            Input::Confirm {
                step: PROMOTE,
                typed: Some("dr-replica".into()),
            },
            t(120),
        ),
    );
    at(
        130,
        e.handle(
            Input::ExecFinished {
                step: PROMOTE,
                attempt: 1,
                result: Ok(()),
            },
            t(130),
        ),
    );
    let journal = journal_of(&log);

    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb);
    let (resumed, fx) = Engine::resume(pb, s, journal.clone(), t(200)).expect("resumes");
    assert!(fx.is_empty(), "nothing to settle while verifying: {fx:?}");
    assert_eq!(resumed.steps(t(200)), e.steps(t(200)));
    assert_eq!(resumed.rto(t(200)), e.rto(t(200)));
    assert_eq!(resumed.rpo_captured(), e.rpo_captured());
    assert_eq!(resumed.current(), Some(PROMOTE));
    assert_eq!(resumed.declared_at(), Some(t(0)));

    // Crash while the executor ran: the resumed engine fails the step, which lost its child.
    let running = journal_of(&log[..7]);
    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb);
    let (resumed, fx) = Engine::resume(pb, s, running, t(300)).expect("resumes");
    assert_eq!(kinds(&fx), ["step_finished"]);
    assert!(matches!(
        resumed.status(PROMOTE),
        Some(StepStatus::Failed(why)) if why.starts_with("interrupted")
    ));

    // Crash with the dialog open: resumed as cancelled.
    let asking = journal_of(&log[..6]);
    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb);
    let (resumed, fx) = Engine::resume(pb, s, asking, t(300)).expect("resumes");
    assert_eq!(kinds(&fx), ["confirm_cancelled"]);
    assert_eq!(resumed.status(PROMOTE), Some(&StepStatus::Active));
}

#[test]
fn resume_refuses_another_version_of_the_playbook() {
    let mut e = engine();
    let fx = e.handle(Input::Declare, t(0));
    let journal = journal_of(&[(0, fx)]);
    let changed = load(&TEST_PLAYBOOK.replace("target = \"2m\"", "target = \"3m\""));
    let s = settings(&changed);
    let err = Engine::resume(changed, s, journal, t(1)).expect_err("hash differs");
    assert!(
        err.to_string()
            .contains("resume with the playbook file the incident started with")
    );

    let pb = load(TEST_PLAYBOOK);
    let s = settings(&pb);
    let bogus = vec![(
        t(0),
        Event::StepStarted {
            step: "look".into(),
            title: "x".into(),
            target_secs: 1,
        },
    )];
    let err = Engine::resume(pb, s, bogus, t(1)).expect_err("not declared");
    assert!(err.to_string().contains("before the incident was declared"));
}

#[test]
fn journaled_output_is_bounded() {
    let mut e = engine();
    past_look(&mut e);
    let attempt = confirm_promote(&mut e);
    let mut recorded = 0;
    for i in 0..(OUTPUT_JOURNAL_LINES + 50) {
        let fx = e.handle(
            Input::ExecOutput {
                step: PROMOTE,
                attempt,
                line: format!("line {i} {}", "x".repeat(1000)),
            },
            t(121),
        );
        recorded += events(&fx).len();
        for ev in events(&fx) {
            let Event::Output { line, .. } = ev else {
                panic!("output")
            };
            assert!(line.chars().count() <= 501, "lines are cut");
        }
    }
    assert_eq!(
        recorded,
        OUTPUT_JOURNAL_LINES + 1,
        "the lines, then one notice"
    );
    let view = e.step_view(PROMOTE, t(122)).expect("view");
    assert_eq!(
        view.output.len(),
        warroom::playbook::engine::OUTPUT_KEEP_LINES
    );
    assert!(
        view.output
            .last()
            .is_some_and(|l| l.starts_with("line 249 "))
    );
}

// ----- the shipped playbooks, end to end ---------------------------------------------------

fn shipped(id: &str) -> Playbook {
    let path = format!("playbooks/{id}.toml");
    warroom::playbook::load_file(std::path::Path::new(&path), &Environment::demo())
        .unwrap_or_else(|e| panic!("{path} is valid:\n{e}"))
}

/// Drives a shipped playbook as an operator would: tick every item, Enter, confirm by typing
/// what the dialog asks, and let the model deployment react to each action; telemetry is
/// refreshed every 15 s. Returns the scorecard.
fn drill(id: &str, mut world: World) -> warroom::playbook::Scorecard {
    let pb = shipped(id);
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    let fx = run_to_end(&mut e, &mut world, 15);
    assert!(
        refusal(&fx).is_none_or(|w| w == "the incident is already declared"),
        "{id}: {fx:?}"
    );
    let card = final_card(&fx);
    assert!(e.is_resolved(), "{id} resolved");
    for step in &card.steps {
        assert_eq!(step.status, "done", "{id}/{}: {:?}", step.id, step.reason);
    }
    card
}

#[test]
fn az_loss_is_completable() {
    let mut world = World::healthy();
    world.zones_down = vec!["us-west-2a"];
    world.set_app("primary", 3, 2);
    let card = drill("az-loss", world);
    assert!(card.passed, "{card:#?}");
    assert!(card.rto_achieved_secs.is_some_and(|a| a < 300));
}

#[test]
fn region_loss_is_completable() {
    let mut world = World::healthy();
    world.zones_down = vec!["us-west-2a", "us-west-2b", "us-west-2c"];
    world.primary_endpoint_failures = 5;
    world.primary_db = DbState::Unreachable;
    world.replication = ReplicationState::Broken;
    world.replica_lag = Some(95.0);
    let card = drill("region-loss", world);
    assert!(card.passed, "{card:#?}");
    assert_eq!(card.rpo.as_ref().and_then(|r| r.seconds), Some(95));
    assert_eq!(card.rto_objective_secs, 1800);
}

#[test]
fn corruption_is_completable() {
    let mut world = World::healthy();
    world.primary_integrity = false;
    // Corrupt since 2 minutes before t(0); the newest good snapshot is from 6 minutes before.
    world.corrupt_since = Some(-120);
    let card = drill("corruption", world);
    assert!(card.passed, "{card:#?}");
    let rpo = card.measures.rpo.as_ref().expect("captured");
    assert_eq!(rpo.seconds, Some(240.0), "onset minus restore point");
    assert_eq!(
        (rpo.window_from, rpo.window_to),
        (Some(t(-360)), Some(t(-120)))
    );
    assert!(rpo.measured_from.contains("corruption onset"), "{rpo:?}");
}

#[test]
fn breach_is_completable() {
    let mut world = World::healthy();
    world.failed_auth_per_min = 400;
    let card = drill("breach", world);
    assert!(card.passed, "{card:#?}");
    let rpo = &card
        .criteria
        .iter()
        .find(|c| c.name == "RPO < objective")
        .expect("rpo");
    // Recovered without a restore: no committed write was rolled back, and the report says why.
    assert_eq!(rpo.verdict, Grade::Pass);
    assert!(rpo.detail.contains("0 by construction"), "{rpo:?}");
}

#[test]
fn shipped_playbooks_need_the_world_to_change() {
    // A region-loss drill against a world that never reacts stalls on the promotion's wait:
    // the waits are real checks, not formalities.
    let pb = shipped("region-loss");
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    let mut world = World::healthy();
    world.zones_down = vec!["us-west-2a", "us-west-2b", "us-west-2c"];
    e.handle(Input::Declare, t(0));
    let frozen = world.clone();
    let mut now = 0;
    while e.current() != Some(2) {
        now += 1;
        let step = e.current().expect("current");
        for item in 0..e.ticks(step).len() {
            e.handle(Input::ToggleItem { step, item }, t(now));
        }
        if let Some(input) = e.enter_input() {
            e.handle(input, t(now));
        }
    }
    e.handle(Input::Request { step: 2 }, t(now));
    let fx = e.handle(
        Input::Confirm {
            step: 2,
            typed: Some("dr-replica".into()),
        },
        t(now),
    );
    let (_, attempt, _) = execute(&fx).expect("promotes");
    e.handle(
        Input::ExecFinished {
            step: 2,
            attempt,
            result: Ok(()),
        },
        t(now),
    );
    e.tick(t(now + 601), &frozen.sample(t(now + 601)));
    assert!(matches!(e.status(2), Some(StepStatus::Failed(w)) if w.starts_with("wait timed out")));
}

#[test]
fn a_retried_capturing_step_keeps_the_window_measured_before_its_first_attempt() {
    let mut e = engine();
    past_look(&mut e);
    let mut world = World::healthy();
    world.replica_lag = Some(41.2);
    e.tick(t(110), &world.sample(t(110)));
    e.handle(Input::Request { step: PROMOTE }, t(115));
    e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(120),
    );
    // The first attempt fails after it changed the world: the lag is no longer readable.
    e.handle(
        Input::ExecFinished {
            step: PROMOTE,
            attempt: 1,
            result: Err("exit status 1".into()),
        },
        t(130),
    );
    world.replica_lag = None;
    e.tick(t(140), &world.sample(t(140)));
    let fx = e.handle(Input::Retry { step: PROMOTE }, t(141));
    assert_eq!(refusal(&fx), None);
    e.handle(Input::Request { step: PROMOTE }, t(142));
    let fx = e.handle(
        Input::Confirm {
            step: PROMOTE,
            typed: Some("dr-replica".into()),
        },
        t(150),
    );
    assert_eq!(refusal(&fx), None);
    assert!(
        !kinds(&fx).contains(&"rpo_captured".to_string()),
        "a retry does not measure again: {:?}",
        kinds(&fx)
    );
    let rpo = e.rpo_captured().expect("kept");
    assert_eq!((rpo.seconds, rpo.at), (Some(42), t(120)));
}

#[test]
fn the_outage_cannot_be_set_to_begin_after_its_alarm() {
    let mut e = engine();
    let fault = t(0);
    e.fault_injected("region-loss", fault);
    let mut world = World::healthy();
    world.primary_endpoint_failures = 5;
    world.primary_db = DbState::Unreachable;
    for s in 1..=40 {
        e.tick(t(s), &world.sample(t(s)));
    }
    let m = e.measures(t(40));
    let detected = m.detected.as_ref().map(|d| d.at).expect("detected");
    let fx = e.handle(
        Input::SetDisruption {
            since: detected + chrono::TimeDelta::seconds(5),
            reason: "customers first complained".into(),
        },
        t(41),
    );
    let why = refusal(&fx).expect("refused");
    assert!(
        why.contains("is after the first alarm-level reading"),
        "{why}"
    );
    // An earlier time is a correction like any other.
    let fx = e.handle(
        Input::SetDisruption {
            since: fault - chrono::TimeDelta::seconds(30),
            reason: "the replica lag alarm fired first".into(),
        },
        t(42),
    );
    assert_eq!(refusal(&fx), None);
    assert_eq!(
        e.measures(t(42)).mttd_secs,
        Some(u64::try_from((detected - fault).num_seconds()).expect("positive") + 30)
    );
}

#[test]
fn a_replayed_fault_without_a_disrupted_event_starts_the_outage() {
    // Journals of format 1 record the fault but no `disrupted` milestone.
    let pb = load(TEST_PLAYBOOK);
    let declared = Event::Declared {
        playbook: pb.id.clone(),
        title: pb.title.clone(),
        hash: pb.hash.clone(),
        rto_secs: pb.rto.secs(),
        rpo_secs: pb.rpo.secs(),
        read_only: false,
    };
    let journal = vec![
        (
            t(0),
            Event::FaultInjected {
                fault: "region-loss".into(),
            },
        ),
        (t(90), declared),
    ];
    let s = settings(&pb);
    let (mut e, _) = Engine::resume(pb, s, journal, t(100)).expect("resumes");
    // The next picture still shows the fault: it does not start a second, later outage.
    let mut world = World::healthy();
    world.primary_endpoint_failures = 5;
    world.primary_db = DbState::Unreachable;
    e.tick(t(101), &world.sample(t(101)));
    let g = e.rto(t(120));
    assert!(g.from_disruption, "{g:?}");
    assert_eq!(g.counts_from, Some(t(0)));
    assert_eq!(g.elapsed_secs, 120);
}

const NOTIFY_ONLY: &str = r#"
id = "tell"
title = "Tell"
scenario = "region-loss"
rto = "20m"
rpo = "5m"

[[steps]]
id = "tell"
title = "Tell"
target = "5m"
action = "notify.webhook"
with = { message = "INCIDENT: primary lost.\nNEXT UPDATE: 1 hour" }
"#;

/// What a notify step would send, as the confirmation shows it and as it runs once confirmed.
fn notify_as_sent(occasion: warroom::playbook::model::Occasion) -> (String, String) {
    let pb = load(NOTIFY_ONLY);
    let s = settings(&pb).occasion(occasion);
    let mut e = Engine::new(pb, s);
    e.handle(Input::Declare, t(0));
    let fx = e.handle(Input::Request { step: 0 }, t(10));
    let shown = fx
        .iter()
        .find_map(|f| match f {
            Effect::OpenConfirm(r) => r.message.clone(),
            _ => None,
        })
        .expect("dialog opens with the message");
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(20),
    );
    let sent = match execute(&fx).expect("confirm executes").2 {
        Exec::Action(call) => call.arg("message").unwrap_or_default(),
        other => panic!("a notify step runs an action, not {other:?}"),
    };
    (shown, sent)
}

#[test]
fn drill_messages_to_people_are_marked_and_live_ones_are_not() {
    use warroom::playbook::model::{EXERCISE_MARKER, Occasion};
    let (shown, sent) = notify_as_sent(Occasion::Exercise);
    assert!(sent.starts_with(EXERCISE_MARKER), "{sent}");
    assert!(sent.ends_with("NEXT UPDATE: 1 hour"), "{sent}");
    assert!(shown.contains("[DRILL] INCIDENT"), "{shown}");
    let (shown, sent) = notify_as_sent(Occasion::Real);
    assert_eq!(sent, "INCIDENT: primary lost.\nNEXT UPDATE: 1 hour");
    assert!(!shown.contains("[DRILL]"), "{shown}");
}

// ----- notify messages as written, edited before sending; items not applicable -------------

const NOTIFY_CHECKED: &str = r#"
id = "notify-checked"
title = "Tell"
scenario = "region-loss"
rto = "20m"
rpo = "5m"

[vars]
token = { value = "s3cr3t-t0ken", secret = true }

[[steps]]
id = "tell"
title = "Tell"
target = "5m"
checklist = ["The status page is updated", "The customer list is exported"]
action = "notify.webhook"
with = { message = "INCIDENT: primary lost.\nNEXT UPDATE: 1 hour" }

[[steps]]
id = "tell-secret"
title = "Tell with a token"
target = "5m"
action = "notify.webhook"
with = { message = "token {{token}}" }
"#;

fn notify_engine(occasion: warroom::playbook::model::Occasion) -> Engine {
    let pb = load(NOTIFY_CHECKED);
    let s = settings(&pb).occasion(occasion);
    let mut e = Engine::new(pb, s);
    e.handle(Input::Declare, t(0));
    e
}

fn tick_all(e: &mut Engine, step: usize, at: i64) {
    for item in 0..2 {
        e.handle(Input::ToggleItem { step, item }, t(at));
    }
}

fn open_request(e: &mut Engine, step: usize, at: i64) -> warroom::playbook::ConfirmRequest {
    let fx = e.handle(Input::Request { step }, t(at));
    fx.iter()
        .find_map(|f| match f {
            Effect::OpenConfirm(r) => Some((**r).clone()),
            _ => None,
        })
        .unwrap_or_else(|| panic!("dialog opens: {fx:?}"))
}

fn sent_message(fx: &[Effect]) -> String {
    match execute(fx).expect("confirm executes").2 {
        Exec::Action(call) => call.arg("message").unwrap_or_default(),
        other => panic!("a notify step runs an action, not {other:?}"),
    }
}

#[test]
fn the_confirmation_carries_the_message_as_its_lines_not_an_escaped_line() {
    use warroom::playbook::model::{Occasion, message_lines};
    let mut e = notify_engine(Occasion::Exercise);
    tick_all(&mut e, 0, 1);
    let req = open_request(&mut e, 0, 2);
    assert_eq!(req.command, "notify.webhook message=(below, 2 lines)");
    let message = req.message.expect("a notify step shows its message");
    assert_eq!(
        message_lines(&message),
        ["[DRILL] INCIDENT: primary lost.", "NEXT UPDATE: 1 hour"]
    );
    assert!(req.message_editable);
    // The journal keeps the exact, quoted message in the command it records.
    let view = e.step_view(0, t(3)).expect("step");
    assert_eq!(
        view.command.as_deref(),
        Some("notify.webhook message=(below, 2 lines)")
    );
    assert_eq!(view.message.as_deref(), Some(message.as_str()));
}

#[test]
fn an_edited_message_is_recorded_and_is_what_is_sent_with_the_drill_marker_kept() {
    use warroom::playbook::model::{EXERCISE_MARKER, Occasion};
    let mut e = notify_engine(Occasion::Exercise);
    tick_all(&mut e, 0, 1);
    open_request(&mut e, 0, 2);
    // The operator removed the marker while editing: it is put back.
    let fx = e.handle(
        Input::EditMessage {
            step: 0,
            text: "INCIDENT: primary lost.\nNEXT UPDATE: 30 minutes".into(),
        },
        t(3),
    );
    let edited = format!("{EXERCISE_MARKER}INCIDENT: primary lost.\nNEXT UPDATE: 30 minutes");
    assert_eq!(
        events(&fx),
        vec![&Event::MessageEdited {
            step: "tell".into(),
            message: edited.clone(),
        }]
    );
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(4),
    );
    assert_eq!(sent_message(&fx), edited);
    let confirmed = events(&fx)
        .into_iter()
        .find_map(|ev| match ev {
            Event::Confirmed { command, .. } => Some(command.clone()),
            _ => None,
        })
        .expect("confirmed recorded");
    assert_eq!(confirmed, format!("notify.webhook message={edited:?}"));
    // Replaying the journal gives the same message to send.
    assert_eq!(e.message(0).as_deref(), Some(edited.as_str()));
}

#[test]
fn a_live_edit_is_sent_unmarked_and_bad_edits_are_refused() {
    use warroom::playbook::model::Occasion;
    let mut e = notify_engine(Occasion::Real);
    // Not while the confirmation is closed.
    let fx = e.handle(
        Input::EditMessage {
            step: 0,
            text: "x".into(),
        },
        t(1),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("request the step first")));
    tick_all(&mut e, 0, 1);
    open_request(&mut e, 0, 2);
    let fx = e.handle(
        Input::EditMessage {
            step: 0,
            text: "  \n ".into(),
        },
        t(3),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("empty message")));
    e.handle(
        Input::EditMessage {
            step: 0,
            text: "all good".into(),
        },
        t(3),
    );
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(4),
    );
    assert_eq!(sent_message(&fx), "all good");
    // A message built from a secret is never edited on screen (it only holds the mask there).
    e.handle(
        Input::ExecFinished {
            step: 0,
            attempt: 1,
            result: Ok(()),
        },
        t(5),
    );
    let req = open_request(&mut e, 1, 6);
    assert!(!req.message_editable);
    let fx = e.handle(
        Input::EditMessage {
            step: 1,
            text: "token ••••••".into(),
        },
        t(7),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("secret")), "{fx:?}");
}

#[test]
fn a_not_applicable_item_needs_a_reason_counts_as_done_and_can_apply_again() {
    use warroom::playbook::model::Occasion;
    let mut e = notify_engine(Occasion::Exercise);
    e.handle(Input::ToggleItem { step: 0, item: 0 }, t(1));
    let fx = e.handle(
        Input::NotApplicable {
            step: 0,
            item: 1,
            reason: Some("   ".into()),
        },
        t(2),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("why")), "{fx:?}");
    let fx = e.handle(Input::Request { step: 0 }, t(3));
    assert!(refusal(&fx).is_some_and(|w| w.contains("customer list")));
    let fx = e.handle(
        Input::NotApplicable {
            step: 0,
            item: 1,
            reason: Some("no customers in the drill".into()),
        },
        t(4),
    );
    assert_eq!(
        events(&fx),
        vec![&Event::ItemNotApplicable {
            step: "tell".into(),
            item: 1,
            text: "The customer list is exported".into(),
            reason: "no customers in the drill".into(),
        }]
    );
    let item = &e.step_view(0, t(4)).expect("step").checklist[1];
    assert!(item.ticked);
    assert_eq!(
        item.not_applicable.as_deref(),
        Some("no customers in the drill")
    );
    // Toggling it back is recorded; then the item is missing again.
    let fx = e.handle(
        Input::NotApplicable {
            step: 0,
            item: 1,
            reason: None,
        },
        t(5),
    );
    assert_eq!(kinds(&fx), ["item_applicable"]);
    assert!(
        e.missing_items(0)
            .contains(&"The customer list is exported".to_string())
    );
    e.handle(
        Input::NotApplicable {
            step: 0,
            item: 1,
            reason: Some("no customers in the drill".into()),
        },
        t(6),
    );
    // It counts as done: the step can be requested.
    let req = open_request(&mut e, 0, 7);
    assert_eq!(req.step, 0);
}

/// `Input::ChooseRestorePoint`: refused by the resolver with the reason (nothing recorded, the
/// playbook's choice stands); accepted, it is what the confirmation resolves, the executor is
/// given and `restore_point_chosen` records (`picked`); a replayed engine keeps the pick.
#[test]
fn a_picked_restore_point_is_checked_recorded_and_survives_a_replay() {
    use warroom::recovery::{Listed, RestoreTo, Span};
    let src = r#"
id = "restore"
title = "Restore"
scenario = "corruption"
rto = "1h"
rpo = "15m"
[[steps]]
id = "restore"
title = "Restore"
target = "30m"
action = "db.restore"
with = { db = "primary", backup = "snapshots" }
capture_rpo = true
"#;
    let pb = load(src);
    let s = settings(&pb);
    let mut e = Engine::new(pb.clone(), s.clone());
    let mut recorded = Vec::new();
    let mut keep = |fx: &[Effect], at| {
        for ev in events(fx) {
            recorded.push((at, ev.clone()));
        }
    };
    keep(&e.handle(Input::Declare, t(0)), t(0));
    keep(&e.tick(t(30), &World::healthy().sample(t(30))), t(30));
    // snapshots' newest good backup is t(-360); an older one at t(-1260) and a window from it
    // to t(-900) come from the list.
    let listed = Listed {
        backups: vec![t(-1260)],
        windows: vec![Span {
            from: t(-1260),
            to: t(-900),
        }],
        gaps: vec![Span {
            from: t(-900),
            to: t(-360),
        }],
        ..Listed::default()
    };
    // In the gap: refused, the windows and the gap named; nothing picked, nothing recorded.
    let fx = e.handle(
        Input::ChooseRestorePoint {
            step: 0,
            to: RestoreTo::At(t(-600)),
            listed: listed.clone(),
        },
        t(40),
    );
    assert!(events(&fx).is_empty());
    let why = fx
        .iter()
        .find_map(|f| match f {
            Effect::Refused { why, .. } => Some(why.clone()),
            _ => None,
        })
        .expect("refused");
    assert!(why.contains("window") && why.contains("gap"), "{why}");
    assert_eq!(e.picked_restore_point(0), None);
    // Inside the first window: taken.
    let to = RestoreTo::At(t(-1000));
    let fx = e.handle(
        Input::ChooseRestorePoint {
            step: 0,
            to,
            listed,
        },
        t(45),
    );
    assert!(
        !fx.iter().any(|f| matches!(f, Effect::Refused { .. })),
        "{fx:?}"
    );
    assert_eq!(e.picked_restore_point(0), Some(to));
    keep(&e.handle(Input::Request { step: 0 }, t(50)), t(50));
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(60),
    );
    keep(&fx, t(60));
    let chosen = events(&fx)
        .into_iter()
        .find(|ev| matches!(ev, Event::RestorePointChosen { .. }))
        .expect("chosen");
    match chosen {
        Event::RestorePointChosen {
            choice,
            point,
            backup_at,
            picked,
            ..
        } => {
            assert_eq!(
                (*choice, *point, *backup_at, *picked),
                (to, t(-1000), t(-1260), true)
            );
        }
        other => panic!("{other:?}"),
    }
    // The executor is told that exact point.
    let exec = fx
        .iter()
        .find_map(|f| match f {
            Effect::Execute { exec, .. } => Some(format!("{exec:?}")),
            _ => None,
        })
        .expect("executes");
    assert!(exec.contains("At("), "{exec}");
    let again = Engine::replay(pb, s, recorded).expect("replay");
    assert_eq!(again.picked_restore_point(0), Some(to));
}

/// A corruption drill just declared: the writers were never stopped, so the last step's check
/// (the writers are back) holds. That is not the service restored: the gauge must not say so
/// (it did, from the first second of the drill). Once the check has failed since the
/// declaration, its holding again means something.
#[test]
fn a_check_that_held_all_along_does_not_make_the_service_look_restored() {
    let env = Environment::demo();
    let pb = warroom::playbook::find("corruption", std::path::Path::new("playbooks"), &env)
        .expect("shipped playbook");
    let restoring = pb
        .restoring_step()
        .expect("corruption marks its restoring step");
    let s = settings(&pb);
    let mut e = Engine::new(pb, s);
    let world = World::healthy();
    e.tick(t(0), &world.sample(t(0)));
    e.handle(Input::Declare, t(1));
    for at in [2, 10, 30] {
        e.tick(t(at), &world.sample(t(at)));
        assert_eq!(e.rto(t(at)).looks_restored, None, "at t({at})");
    }
    // The check itself holds on this picture: only its history says "never down".
    let wait = e.playbook().steps[restoring]
        .wait
        .as_ref()
        .expect("the restoring step waits");
    assert!(
        wait.condition.observe(&world.sample(t(30)), t(30)).met,
        "the test's world satisfies the check, so the rule above is what refused"
    );
    // An engine that has not watched since the declaration (a console resumed, or opened
    // after the outage began) knows no history: the check holding is all it goes on.
    let pb = e.playbook().clone();
    let s = settings(&pb);
    let mut late = Engine::new(pb, s);
    late.handle(Input::Declare, t(1));
    late.tick(t(30), &world.sample(t(30)));
    assert_eq!(late.rto(t(30)).looks_restored, Some(restoring + 1));
}
