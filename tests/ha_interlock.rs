//! The HA interlock in the engine (pure, a fake clock): a playbook that changes a Patroni-bound
//! database gets a first step pausing automatic failover and a last one resuming it; the
//! incident never closes (resolves or aborts) while paused without a journaled decision:
//! resume, or "leave paused" with a typed reason, both with the operator's name.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use warroom::actions::{Call, Exec};
use warroom::env::Environment;
use warroom::journal::schema_v2::EventV2;
use warroom::playbook::engine::event_kind;
use warroom::playbook::interlock::{PAUSE_STEP, RESUME_STEP};
use warroom::playbook::{Effect, Engine, EngineSettings, Event, Input, Playbook, StepStatus};

fn t(secs: i64) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 26, 12, 0, 0)
        .single()
        .expect("date")
        + TimeDelta::seconds(secs)
}

/// A Patroni pair, plus a plain PostgreSQL database (to show which steps count).
fn env(patroni: bool) -> Environment {
    let binding = if patroni {
        r#"patroni = { url = "http://127.0.0.1:8009" }"#
    } else {
        r#"postgres = { dsn = "host=127.0.0.1 port=5433 user=postgres" }"#
    };
    Environment::parse(
        "ha.toml",
        &format!(
            r#"
name = "ha"
objectives = {{ rto = "30m", rpo = "5m" }}
regions = [{{ name = "primary", id = "dc1", role = "primary" }}, {{ name = "dr", id = "dc2", role = "dr" }}]

[[databases]]
name = "primary"
region = "primary"
patroni = {{ url = "http://127.0.0.1:8008" }}

[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
{binding}
"#
        ),
    )
    .expect("env")
}

const PLAYBOOK: &str = r#"
id = "ha"
title = "Promote the standby"
scenario = "region-loss"
rto = "30m"
rpo = "5m"

[[steps]]
id = "look"
title = "Look"
target = "1m"

[[steps]]
id = "promote"
title = "Promote"
target = "5m"
action = "db.promote"
with = { db = "dr-replica" }
restores_service = true
"#;

fn engine_with(env: Environment, read_only: bool) -> Engine {
    let pb: Playbook = warroom::playbook::parse("ha.toml", PLAYBOOK, &env).expect("playbook");
    let settings = EngineSettings::new(&pb, env)
        .operator("alice")
        .read_only(read_only);
    Engine::new(pb, settings)
}

fn engine() -> Engine {
    engine_with(env(true), false)
}

fn recorded(fx: &[Effect]) -> Vec<&Event> {
    fx.iter()
        .filter_map(|e| match e {
            Effect::Record(ev) => Some(ev),
            _ => None,
        })
        .collect()
}

fn kinds(fx: &[Effect]) -> Vec<String> {
    recorded(fx).into_iter().map(event_kind).collect()
}

fn refusal(fx: &[Effect]) -> Option<&str> {
    fx.iter().find_map(|e| match e {
        Effect::Refused { why, .. } => Some(why.as_str()),
        _ => None,
    })
}

fn executed(fx: &[Effect]) -> Option<(usize, u32, Call)> {
    fx.iter().find_map(|e| match e {
        Effect::Execute {
            step,
            attempt,
            exec: Exec::Action(call),
            ..
        } => Some((*step, *attempt, call.clone())),
        _ => None,
    })
}

fn finished(fx: &[Effect]) -> bool {
    fx.iter().any(|e| matches!(e, Effect::Finished(_)))
}

/// Requests, confirms and completes the step at `step` with success; returns every effect.
fn run_ok(e: &mut Engine, step: usize, at: i64) -> Vec<Effect> {
    let fx = e.handle(Input::Request { step }, t(at));
    assert_eq!(refusal(&fx), None, "request of step {step}");
    let fx = e.handle(Input::Confirm { step, typed: None }, t(at + 1));
    let (s, attempt, _) = executed(&fx).expect("confirm executes");
    assert_eq!(s, step);
    e.handle(
        Input::ExecFinished {
            step,
            attempt,
            result: Ok(()),
        },
        t(at + 2),
    )
}

/// Declares and runs the pause step; returns the step indices (pause, look, promote, resume).
fn paused(e: &mut Engine) {
    e.handle(Input::Declare, t(0));
    assert_eq!(e.current(), Some(0));
    let fx = run_ok(e, 0, 10);
    assert!(
        kinds(&fx).contains(&"failover_paused".to_string()),
        "{fx:?}"
    );
    assert_eq!(e.failover_paused(), Some((t(12), "dr-replica")));
    assert!(e.failover_decision_needed());
}

#[test]
fn a_playbook_changing_a_patroni_database_gets_the_pause_first_and_the_resume_last() {
    let e = engine();
    let ids: Vec<&str> = e.playbook().steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(ids, [PAUSE_STEP, "look", "promote", RESUME_STEP]);
    assert!(
        e.command(0)
            .is_some_and(|c| c.starts_with("ha.pause db=dr-replica")),
        "{:?}",
        e.command(0)
    );
    assert!(
        e.command(3)
            .is_some_and(|c| c.starts_with("ha.resume db=dr-replica")),
        "{:?}",
        e.command(3)
    );
    // The same playbook changing a plain PostgreSQL database gets nothing.
    let plain = engine_with(env(false), false);
    let ids: Vec<&str> = plain
        .playbook()
        .steps
        .iter()
        .map(|s| s.id.as_str())
        .collect();
    assert_eq!(ids, ["look", "promote"]);
}

#[test]
fn the_pause_is_confirmed_like_any_step_and_refused_in_read_only() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(Input::Request { step: 0 }, t(5));
    let dialog = fx
        .iter()
        .find_map(|f| match f {
            Effect::OpenConfirm(c) => Some(c.clone()),
            _ => None,
        })
        .expect("the confirmation opens");
    assert!(
        dialog.command.starts_with("ha.pause db=dr-replica"),
        "{}",
        dialog.command
    );
    // Nothing runs before the confirmation.
    assert!(executed(&fx).is_none());
    let mut ro = engine_with(env(true), true);
    ro.handle(Input::Declare, t(0));
    let fx = ro.handle(Input::Request { step: 0 }, t(5));
    assert!(
        refusal(&fx).is_some_and(|w| w.contains("read-only")),
        "{fx:?}"
    );
    assert!(executed(&fx).is_none());
}

#[test]
fn resolving_needs_the_resume_or_a_reason_to_leave_it_paused() {
    let mut e = engine();
    paused(&mut e);
    e.handle(Input::Complete { step: 1 }, t(20));
    let fx = run_ok(&mut e, 2, 30);
    assert!(!finished(&fx), "the incident waits on the resume step");
    assert_eq!(e.current(), Some(3));
    assert!(!e.is_finished());
    // Resume: recorded with who, then the incident resolves.
    let fx = run_ok(&mut e, 3, 40);
    let resumed = recorded(&fx)
        .into_iter()
        .find(|ev| matches!(ev, Event::FailoverResumed { .. }))
        .cloned();
    assert_eq!(
        resumed,
        Some(Event::FailoverResumed {
            step: RESUME_STEP.into(),
            db: "dr-replica".into(),
            by: "alice".into(),
        })
    );
    assert!(finished(&fx) && e.is_resolved());
    assert!(!e.failover_decision_needed());
    assert_eq!(e.failover_paused(), None);
}

#[test]
fn leaving_it_paused_is_a_skip_with_the_reason_and_who() {
    let mut e = engine();
    paused(&mut e);
    // Not ahead of time: the decision is taken at the end.
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "later".into(),
        },
        t(15),
    );
    assert!(
        refusal(&fx).is_some_and(|w| w.contains("decided at the end")),
        "{fx:?}"
    );
    assert_eq!(e.status(3), Some(&StepStatus::Pending));
    e.handle(Input::Complete { step: 1 }, t(20));
    run_ok(&mut e, 2, 30);
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "  ".into(),
        },
        t(40),
    );
    assert!(refusal(&fx).is_some(), "a reason is required");
    assert!(!e.is_finished());
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "the old primary is being rebuilt".into(),
        },
        t(41),
    );
    assert_eq!(
        kinds(&fx),
        ["failover_left_paused", "skipped", "resolved"],
        "{fx:?}"
    );
    assert!(recorded(&fx).contains(&&Event::FailoverLeftPaused {
        step: RESUME_STEP.into(),
        db: "dr-replica".into(),
        reason: "the old primary is being rebuilt".into(),
        by: "alice".into(),
    }));
    assert!(e.is_resolved());
}

#[test]
fn a_failed_resume_holds_the_incident() {
    let mut e = engine();
    paused(&mut e);
    e.handle(Input::Complete { step: 1 }, t(20));
    run_ok(&mut e, 2, 30);
    e.handle(Input::Request { step: 3 }, t(40));
    let fx = e.handle(
        Input::Confirm {
            step: 3,
            typed: None,
        },
        t(41),
    );
    let (_, attempt, call) = executed(&fx).expect("executes");
    assert_eq!(call.name(), "ha.resume");
    let fx = e.handle(
        Input::ExecFinished {
            step: 3,
            attempt,
            result: Err("PATCH answered 503".into()),
        },
        t(42),
    );
    assert!(!finished(&fx));
    assert_eq!(e.current(), Some(3));
    assert!(e.failover_decision_needed());
}

#[test]
fn an_abort_while_paused_waits_for_the_decision_and_offers_the_resume() {
    let mut e = engine();
    paused(&mut e);
    // On the promotion, running.
    e.handle(Input::Complete { step: 1 }, t(20));
    e.handle(Input::Request { step: 2 }, t(21));
    let fx = e.handle(
        Input::Confirm {
            step: 2,
            typed: None,
        },
        t(22),
    );
    let (_, promote_attempt, _) = executed(&fx).expect("runs");
    let fx = e.handle(
        Input::Abort {
            reason: "wrong runbook".into(),
        },
        t(30),
    );
    assert!(!finished(&fx), "not closed while paused: {fx:?}");
    assert_eq!(kinds(&fx), ["abort_held", "step_started"], "{fx:?}");
    assert!(fx.iter().any(|f| matches!(f, Effect::Kill { step: 2, .. })));
    assert_eq!(e.abort_held(), Some("wrong runbook"));
    assert_eq!(e.current(), Some(3), "the resume step is offered");
    // The killed promotion reports; the incident stays on the resume step.
    e.handle(
        Input::ExecFinished {
            step: 2,
            attempt: promote_attempt,
            result: Err("killed".into()),
        },
        t(31),
    );
    assert_eq!(e.current(), Some(3));
    let fx = e.handle(
        Input::Abort {
            reason: "again".into(),
        },
        t(32),
    );
    assert!(refusal(&fx).is_some_and(|w| w.contains("already asked")));
    let fx = run_ok(&mut e, 3, 40);
    assert_eq!(
        kinds(&fx),
        ["failover_resumed", "step_finished", "aborted"],
        "{fx:?}"
    );
    assert!(finished(&fx));
    assert_eq!(e.aborted(), Some("wrong runbook"));
}

#[test]
fn an_abort_while_paused_can_leave_it_paused_with_a_reason() {
    let mut e = engine();
    paused(&mut e);
    e.handle(
        Input::Abort {
            reason: "false alarm".into(),
        },
        t(20),
    );
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "Patroni is being upgraded".into(),
        },
        t(21),
    );
    assert_eq!(
        kinds(&fx),
        ["failover_left_paused", "skipped", "aborted"],
        "{fx:?}"
    );
    assert!(finished(&fx));
}

#[test]
fn an_abort_before_the_pause_ends_at_once() {
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    let fx = e.handle(
        Input::Abort {
            reason: "false alarm".into(),
        },
        t(5),
    );
    assert_eq!(kinds(&fx), ["aborted"]);
    assert!(finished(&fx));
    // Skipping the pause (read-only, or the operator declines) leaves nothing to decide.
    let mut e = engine();
    e.handle(Input::Declare, t(0));
    e.handle(
        Input::Skip {
            step: 0,
            reason: "patroni is not managing this cluster today".into(),
        },
        t(1),
    );
    assert!(!e.failover_decision_needed());
    let fx = e.handle(
        Input::Abort {
            reason: "false alarm".into(),
        },
        t(5),
    );
    assert_eq!(kinds(&fx), ["aborted"]);
}

#[test]
fn the_interlock_replays_from_the_journal_and_its_kinds_round_trip() {
    let mut e = engine();
    let mut journal: Vec<(DateTime<Utc>, Event)> = Vec::new();
    let mut keep = |fx: Vec<Effect>, at: DateTime<Utc>| {
        for f in fx {
            if let Effect::Record(ev) = f {
                journal.push((at, ev));
            }
        }
    };
    keep(e.handle(Input::Declare, t(0)), t(0));
    keep(e.handle(Input::Request { step: 0 }, t(10)), t(10));
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(11),
    );
    let (_, attempt, _) = executed(&fx).expect("runs");
    keep(fx, t(11));
    keep(
        e.handle(
            Input::ExecFinished {
                step: 0,
                attempt,
                result: Ok(()),
            },
            t(12),
        ),
        t(12),
    );
    keep(
        e.handle(
            Input::Abort {
                reason: "stop".into(),
            },
            t(20),
        ),
        t(20),
    );
    // Every event survives the version-2 codec.
    for (_, ev) in &journal {
        let v2 = EventV2::from(ev);
        assert_eq!(&Event::from(v2), ev);
    }
    // A console resumed from this journal is on the resume step, paused since t(12).
    let pb = warroom::playbook::parse("ha.toml", PLAYBOOK, &env(true)).expect("playbook");
    let settings = EngineSettings::new(&pb, env(true)).operator("bob");
    let (resumed, _) = Engine::resume(pb, settings, journal, t(100)).expect("resumes");
    assert_eq!(resumed.current(), Some(3));
    assert_eq!(resumed.abort_held(), Some("stop"));
    assert_eq!(resumed.failover_paused().map(|(at, _)| at), Some(t(12)));
}

/// Two Patroni clusters: the primary's and a DR cluster's (separate URLs, no replica link).
fn two_clusters() -> Environment {
    Environment::parse(
        "ha2.toml",
        r#"
name = "ha2"
objectives = { rto = "30m", rpo = "5m" }
regions = [{ name = "primary", id = "dc1", role = "primary" }, { name = "dr", id = "dc2", role = "dr" }]

[[databases]]
name = "orders"
region = "primary"
patroni = { url = "http://127.0.0.1:8008" }

[[databases]]
name = "billing"
region = "dr"
patroni = { url = "http://127.0.0.1:8018" }
"#,
    )
    .expect("env")
}

const TWO_CLUSTERS: &str = r#"
id = "ha2"
title = "Promote two clusters"
scenario = "region-loss"
rto = "30m"
rpo = "5m"

[[steps]]
id = "orders"
title = "Promote orders"
target = "5m"
action = "db.promote"
with = { db = "orders" }

[[steps]]
id = "billing"
title = "Promote billing"
target = "5m"
action = "db.promote"
with = { db = "billing" }
restores_service = true
"#;

fn two_cluster_engine() -> Engine {
    let env = two_clusters();
    let pb: Playbook = warroom::playbook::parse("ha2.toml", TWO_CLUSTERS, &env).expect("playbook");
    let settings = EngineSettings::new(&pb, env).operator("alice");
    Engine::new(pb, settings)
}

fn db_of(e: &Engine, step: usize) -> String {
    e.command(step).unwrap_or_default()
}

#[test]
fn a_playbook_changing_two_patroni_clusters_pauses_and_resumes_each() {
    let e = two_cluster_engine();
    let ids: Vec<&str> = e.playbook().steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ha-pause",
            "ha-pause-2",
            "orders",
            "billing",
            "ha-resume",
            "ha-resume-2"
        ]
    );
    for (step, want) in [
        (0, "ha.pause db=orders"),
        (1, "ha.pause db=billing"),
        (4, "ha.resume db=orders"),
        (5, "ha.resume db=billing"),
    ] {
        assert!(
            db_of(&e, step).starts_with(want),
            "step {step}: {}",
            db_of(&e, step)
        );
    }
    assert_eq!(
        e.playbook().steps[1].title,
        "Pause automatic failover (billing)"
    );
}

#[test]
fn the_incident_closes_only_once_every_paused_cluster_has_its_decision() {
    let mut e = two_cluster_engine();
    e.handle(Input::Declare, t(0));
    run_ok(&mut e, 0, 10);
    run_ok(&mut e, 1, 20);
    assert_eq!(
        e.failover_paused(),
        Some((t(12), "orders")),
        "the earliest pause"
    );
    run_ok(&mut e, 2, 30);
    run_ok(&mut e, 3, 40);
    // Orders resumed: billing is still paused, the badge's time is billing's.
    let fx = run_ok(&mut e, 4, 50);
    assert!(!finished(&fx));
    assert!(e.failover_decision_needed());
    assert_eq!(e.failover_paused(), Some((t(22), "billing")));
    assert_eq!(e.current(), Some(5));
    // Billing left paused with a reason: now the incident resolves.
    let fx = e.handle(
        Input::Skip {
            step: 5,
            reason: "billing's Patroni is being upgraded".into(),
        },
        t(60),
    );
    assert_eq!(
        kinds(&fx)[..2],
        ["failover_left_paused", "skipped"],
        "{fx:?}"
    );
    assert!(finished(&fx), "{fx:?}");
    assert!(!e.failover_decision_needed());
}

#[test]
fn an_abort_with_two_clusters_paused_offers_each_resume_in_turn() {
    let mut e = two_cluster_engine();
    e.handle(Input::Declare, t(0));
    run_ok(&mut e, 0, 10);
    run_ok(&mut e, 1, 20);
    let fx = e.handle(
        Input::Abort {
            reason: "wrong runbook".into(),
        },
        t(30),
    );
    assert_eq!(kinds(&fx), ["abort_held", "step_started"], "{fx:?}");
    assert_eq!(e.current(), Some(4));
    let fx = run_ok(&mut e, 4, 40);
    assert!(!finished(&fx), "billing is still paused: {fx:?}");
    assert!(kinds(&fx).contains(&"step_started".to_string()), "{fx:?}");
    assert_eq!(e.current(), Some(5), "billing's resume is offered next");
    let fx = run_ok(&mut e, 5, 50);
    assert_eq!(
        kinds(&fx),
        ["failover_resumed", "step_finished", "aborted"],
        "{fx:?}"
    );
    assert!(finished(&fx));
}

#[test]
fn an_abort_while_the_pause_runs_lets_it_finish_then_asks_for_the_decision() {
    let mut e = engine();
    let attempt = abort_while_pausing(&mut e);
    // Patroni answers: the cluster is paused, so the decision is needed before the abort.
    let fx = e.handle(
        Input::ExecFinished {
            step: 0,
            attempt,
            result: Ok(()),
        },
        t(13),
    );
    assert!(
        kinds(&fx).contains(&"failover_paused".to_string()),
        "{fx:?}"
    );
    assert!(!finished(&fx), "{fx:?}");
    assert_eq!(e.current(), Some(3));
    let fx = run_ok(&mut e, 3, 20);
    assert!(finished(&fx), "{fx:?}");
    assert_eq!(e.aborted(), Some("false alarm"));
}

/// Confirms the pause (step 0) and asks for an abort while it runs; returns its attempt.
fn abort_while_pausing(e: &mut Engine) -> u32 {
    e.handle(Input::Declare, t(0));
    e.handle(Input::Request { step: 0 }, t(10));
    let fx = e.handle(
        Input::Confirm {
            step: 0,
            typed: None,
        },
        t(11),
    );
    let (_, attempt, _) = executed(&fx).expect("the pause runs");
    let fx = e.handle(
        Input::Abort {
            reason: "false alarm".into(),
        },
        t(12),
    );
    assert_eq!(kinds(&fx), ["abort_held"], "nothing else starts: {fx:?}");
    assert!(!finished(&fx), "{fx:?}");
    assert!(
        !fx.iter().any(|f| matches!(f, Effect::Kill { step: 0, .. })),
        "the pause is not killed halfway: {fx:?}"
    );
    attempt
}

/// While the pause runs, the resume step cannot be decided ahead of it: skipping it then (as
/// "nothing is paused yet") would lose the decision once the pause lands.
#[test]
fn while_the_pause_runs_the_pause_is_the_current_step_not_the_resume() {
    let mut e = engine();
    let attempt = abort_while_pausing(&mut e);
    assert_eq!(e.current(), Some(0), "the running pause");
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "nothing is paused yet".into(),
        },
        t(13),
    );
    assert!(refusal(&fx).is_some(), "{fx:?}");
    assert_eq!(e.status(3), Some(&StepStatus::Pending));
    // The pause lands: now the resume is offered, and the abort waits for it.
    let fx = e.handle(
        Input::ExecFinished {
            step: 0,
            attempt,
            result: Ok(()),
        },
        t(14),
    );
    assert!(!finished(&fx), "{fx:?}");
    assert_eq!(e.current(), Some(3));
    assert!(e.failover_decision_needed());
}

/// A pause that fails after it ran (Patroni did not report paused in time) may still have
/// been applied: the abort waits for the resume, or a reason to leave it.
#[test]
fn a_pause_that_fails_after_an_abort_still_asks_for_the_decision() {
    let mut e = engine();
    let attempt = abort_while_pausing(&mut e);
    let fx = e.handle(
        Input::ExecFinished {
            step: 0,
            attempt,
            result: Err("timed out waiting for pause = true".into()),
        },
        t(100),
    );
    assert!(!finished(&fx), "{fx:?}");
    assert!(e.failover_decision_needed());
    assert_eq!(e.current(), Some(3), "the resume step is offered");
    let fx = e.handle(
        Input::Skip {
            step: 3,
            reason: "Patroni is unreachable; checked by hand: not paused".into(),
        },
        t(110),
    );
    assert_eq!(
        kinds(&fx),
        ["failover_left_paused", "skipped", "aborted"],
        "{fx:?}"
    );
}

/// A playbook's own step ids do not cost a database its added steps, and its own `ha.pause`
/// gets a resume added.
#[test]
fn added_steps_take_free_ids_and_an_own_pause_gets_a_resume() {
    let env = two_clusters();
    let own = format!(
        "{TWO_CLUSTERS}
[[steps]]
id = \"ha-resume-2\"
title = \"A step of the playbook's own\"
target = \"1m\"

[[steps]]
id = \"pause-by-hand\"
title = \"Pause billing\"
target = \"1m\"
action = \"ha.pause\"
with = {{ db = \"billing\" }}
"
    );
    let pb: Playbook = warroom::playbook::parse("own.toml", &own, &env).expect("playbook");
    let settings = EngineSettings::new(&pb, env).operator("alice");
    let e = Engine::new(pb, settings);
    let ids: Vec<&str> = e.playbook().steps.iter().map(|s| s.id.as_str()).collect();
    assert_eq!(
        ids,
        [
            "ha-pause",
            "orders",
            "billing",
            "ha-resume-2",
            "pause-by-hand",
            "ha-resume",
            "ha-resume-3"
        ]
    );
    assert!(
        db_of(&e, 6).starts_with("ha.resume db=billing"),
        "{}",
        db_of(&e, 6)
    );
}

/// A journal's plan names the steps the engine ran, the interlock's included: resumed (or
/// followed) with an environment in which they differ, it is refused with both lists, rather
/// than its events replayed onto other steps.
#[test]
fn a_journal_whose_plan_differs_from_the_steps_now_is_refused() {
    use warroom::journal::{Header, Mode};
    let pb: Playbook = warroom::playbook::parse("ha.toml", PLAYBOOK, &env(true)).expect("playbook");
    let settings = EngineSettings::new(&pb, env(true));
    let header = Header::new(&pb, &settings, Mode::Drill, "alice", t(0));
    assert_eq!(header.plan_differs(&pb, &env(true)), None);
    let why = header
        .plan_differs(&pb, &env(false))
        .expect("without Patroni there is no pause step");
    assert!(why.contains("ha-pause, look, promote, ha-resume"), "{why}");
    assert!(why.contains("has look, promote"), "{why}");
}
