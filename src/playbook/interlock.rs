//! The HA interlock: a playbook that changes a database managed by an HA manager (Patroni) gets
//! a first step that pauses the manager's automatic failover (`ha.pause`) and a last step that
//! resumes it (`ha.resume`), so the manager cannot move the primary in the middle of a manual
//! failover, and the incident never closes while paused without a journaled decision.
//!
//! The steps are added to the playbook the engine runs ([`guard`], called by
//! [`Engine::new`](super::Engine::new) and the journal header), so they are confirmed, refused
//! in read-only mode, recorded and executed like any other step. The rule itself (what a
//! decision is, what an abort does while paused) lives in the engine:
//!
//! - the pause step's executor succeeding records `failover_paused` (who, which database);
//! - the resume step's executor succeeding records `failover_resumed`; skipping it while paused
//!   records `failover_left_paused` with the typed reason and who: both are the decision;
//! - an abort while paused (or while the pause runs) records `abort_held` and makes the resume
//!   step the current one; the abort is recorded once the decision is;
//! - the resume step cannot be skipped ahead of time, and fails with `on_failure = "stop"`.

use std::collections::BTreeMap;

use super::model::{ArgValue, Executor, OnFailure, Playbook, Reveal, Step, Template};
use crate::actions::BuiltinAction;
use crate::duration::Dur;
use crate::env::{Binding, Environment, NameKind};

/// The id of the step warroom adds first: pause automatic failover.
pub const PAUSE_STEP: &str = "ha-pause";
/// The id of the step warroom adds last: resume automatic failover.
pub const RESUME_STEP: &str = "ha-resume";

/// How long each added step's executor may run (Patroni applies the pause at its next HA loop).
const STEP_TIMEOUT: Dur = Dur::from_secs(90);

/// The databases bound to an HA manager (Patroni) that the playbook's steps change or pause
/// (a step of its own running `ha.pause` needs a resume too), in step order, without repeats.
pub fn managed_databases(playbook: &Playbook, env: &Environment) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    for step in &playbook.steps {
        let Some(builtin) = step.builtin() else {
            continue;
        };
        let changes_db = match builtin.action {
            BuiltinAction::DbPromote
            | BuiltinAction::DbFailover
            | BuiltinAction::DbReadOnly
            | BuiltinAction::DbRestore
            | BuiltinAction::HaPause => true,
            BuiltinAction::HaResume
            | BuiltinAction::DnsPoint
            | BuiltinAction::AppScale
            | BuiltinAction::BackupSnapshot
            | BuiltinAction::BackupVerify
            | BuiltinAction::SecretRotate
            | BuiltinAction::HttpCheck
            | BuiltinAction::NotifyWebhook => false,
        };
        if !changes_db {
            continue;
        }
        let Some(db) = step.arg("db", &playbook.vars, Reveal::Masked) else {
            continue;
        };
        if env.binding(NameKind::Database, &db) == Some(Binding::Patroni) && !out.contains(&db) {
            out.push(db);
        }
    }
    out
}

fn runs(step: &Step, action: BuiltinAction) -> bool {
    step.builtin().is_some_and(|b| b.action == action)
}

fn ha_step(id: &str, title: &str, guide: &str, action: BuiltinAction, db: &str) -> Step {
    let mut with = BTreeMap::new();
    with.insert("db".to_string(), ArgValue::Text(Template::literal(db)));
    Step {
        id: id.to_string(),
        title: title.to_string(),
        target: Dur::from_mins(2),
        guide: Template::literal(guide),
        checklist: Vec::new(),
        executor: Some(Executor::Action {
            builtin: action.spec(),
            with,
        }),
        wait: None,
        timeout: Some(STEP_TIMEOUT),
        on_failure: OnFailure::Stop,
        destructive: false,
        capture_rpo: false,
        restores_service: false,
        approvals: 0,
        recall: None,
    }
}

/// `base` numbered for the `n`th (from 0) database: `ha-pause`, `ha-pause-2`, ...
fn numbered(base: &str, n: usize) -> String {
    match n {
        0 => base.to_string(),
        _ => format!("{base}-{}", n + 1),
    }
}

/// The first of `base` numbered from `n` on that no step has and `added` has not taken: a
/// playbook's own step called `ha-resume-2` does not cost a database its resume step.
fn free_id(playbook: &Playbook, added: &[String], base: &str, n: usize) -> String {
    (n..)
        .map(|k| numbered(base, k))
        .find(|id| !playbook.steps.iter().any(|s| &s.id == id) && !added.contains(id))
        .unwrap_or_else(|| base.to_string())
}

/// Whether a step of `playbook` already runs `action` on `db`.
fn covered(playbook: &Playbook, action: BuiltinAction, db: &str) -> bool {
    playbook.steps.iter().any(|s| {
        runs(s, action) && s.arg("db", &playbook.vars, Reveal::Masked).as_deref() == Some(db)
    })
}

/// The playbook with the interlock's steps added when it changes databases bound to Patroni:
/// for each one, in the order the playbook first changes them, a pause step first (unless a
/// step already runs `ha.pause` on it) and a resume step last (unless one runs `ha.resume` on
/// it). Two members of one cluster get a pause each; pausing a paused cluster changes nothing.
/// Unchanged otherwise. Deterministic: the same playbook and environment give the same steps,
/// so a resumed or followed journal names the same ones.
pub fn guard(mut playbook: Playbook, env: &Environment) -> Playbook {
    let managed = managed_databases(&playbook, env);
    let several = managed.len() > 1;
    let titled = |what: &str, db: &str| match several {
        true => format!("{what} ({db})"),
        false => what.to_string(),
    };
    let mut pauses = Vec::new();
    let mut resumes = Vec::new();
    let mut added: Vec<String> = Vec::new();
    for (n, db) in managed.iter().enumerate() {
        if !covered(&playbook, BuiltinAction::HaPause, db) {
            let pause_id = free_id(&playbook, &added, PAUSE_STEP, n);
            added.push(pause_id.clone());
            let guide = format!(
                "{db} is managed by Patroni, which can promote a replica on its own while you \
                 fail over by hand. Pause its automatic failover for the incident (maintenance \
                 mode: PATCH /config {{\"pause\": true}}); the badge AUTO-FAILOVER PAUSED stays \
                 on every screen while Patroni reports it, and the last step resumes it. Skip \
                 with a reason to leave automatic failover on."
            );
            pauses.push(ha_step(
                &pause_id,
                &titled("Pause automatic failover", db),
                &guide,
                BuiltinAction::HaPause,
                db,
            ));
        }
        if !covered(&playbook, BuiltinAction::HaResume, db) {
            let resume_id = free_id(&playbook, &added, RESUME_STEP, n);
            added.push(resume_id.clone());
            let guide = format!(
                "Resume Patroni's automatic failover of {db}'s cluster (PATCH /config \
                 {{\"pause\": false}}). To leave it paused, skip this step: the reason you type \
                 is recorded with your name. The incident does not close, nor abort, while \
                 paused without one of the two."
            );
            resumes.push(ha_step(
                &resume_id,
                &titled("Resume automatic failover", db),
                &guide,
                BuiltinAction::HaResume,
                db,
            ));
        }
    }
    let added = pauses.len();
    if added > 0 {
        // `recall` names earlier steps by index: every one moves down.
        for step in &mut playbook.steps {
            if let Some(r) = &mut step.recall {
                r.step += added;
            }
        }
        playbook.steps.splice(0..0, pauses);
    }
    playbook.steps.extend(resumes);
    playbook
}
