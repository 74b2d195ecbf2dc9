//! Acceptance of the measures (issue 14): the simulator with a fixed seed and a fixed fault time,
//! the engine driven by a scripted operator at two paces, on a fake clock that advances one
//! simulated second per tick. The figures must not depend on how fast the operator works:
//!
//! - region loss: RPO = the replica's lag at the fault, and the lost window ends at the fault;
//! - corruption: RPO = onset minus restore point, the same for a fast and a slow walk;
//! - RTO achieved = fault -> the restoring step done;
//! - az loss healed before the declaration: RTO met by automation, time to declare reported.

use std::path::Path;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use warroom::actions::Exec;
use warroom::env::Environment;
use warroom::playbook::{Effect, Engine, EngineSettings, Event, Grade, Input, Measures, Playbook};
use warroom::sim::{Fault, Sim};
use warroom::telemetry::{DbState, Sample, Verdict};

const SEED: u64 = 1;

fn start() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 10, 0, 0)
        .single()
        .expect("valid time")
}

/// The fault arrives five simulated minutes after the start.
fn fault_time() -> DateTime<Utc> {
    start() + TimeDelta::seconds(300)
}

fn shipped(id: &str) -> Playbook {
    let path = format!("playbooks/{id}.toml");
    warroom::playbook::load_file(Path::new(&path), &Environment::demo())
        .unwrap_or_else(|e| panic!("{path} is valid:\n{e}"))
}

/// One drill: the simulator, the engine, and what was recorded.
struct Drill {
    sim: Sim,
    engine: Engine,
    now: DateTime<Utc>,
    log: Vec<(DateTime<Utc>, Event)>,
    /// Output lines of every executed action, by action name.
    output: Vec<(String, Vec<String>)>,
    /// Every picture the engine saw, in order.
    pictures: Vec<Sample>,
}

impl Drill {
    fn new(id: &str) -> Drill {
        let pb = shipped(id);
        let settings = EngineSettings::new(&pb, Environment::demo())
            .mode("drill · simulator")
            .operator("tester");
        Drill {
            sim: Sim::new(&Environment::demo(), SEED, start()),
            engine: Engine::new(pb, settings),
            now: start(),
            log: Vec::new(),
            output: Vec::new(),
            pictures: Vec::new(),
        }
    }

    fn record(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
        for f in &fx {
            if let Effect::Record(ev) = f {
                self.log.push((self.now, ev.clone()));
            }
        }
        fx
    }

    /// One simulated second passes; the engine sees the new picture.
    fn second(&mut self) {
        self.now += TimeDelta::seconds(1);
        self.sim.advance(self.now);
        let picture = self.sim.sample();
        let fx = self.engine.tick(self.now, &picture);
        self.pictures.push(picture);
        self.record(fx);
    }

    fn wait_until(&mut self, t: DateTime<Utc>) {
        while self.now < t {
            self.second();
        }
    }

    fn inject(&mut self, fault: Fault) {
        let name = fault.to_string();
        self.sim.inject(fault, self.now).expect("fault injected");
        let fx = self.engine.fault_injected(&name, self.now);
        self.record(fx);
        let picture = self.sim.sample();
        let fx = self.engine.tick(self.now, &picture);
        self.pictures.push(picture);
        self.record(fx);
    }

    fn input(&mut self, input: Input) -> Vec<Effect> {
        let fx = self.engine.handle(input, self.now);
        self.record(fx)
    }

    /// The operator works the current step at once: ticks, Enter, confirms; the simulator runs
    /// the action at the same moment.
    fn act(&mut self) {
        let Some(step) = self.engine.current() else {
            return;
        };
        for item in 0..self.engine.ticks(step).len() {
            if !self.engine.ticks(step)[item] {
                self.input(Input::ToggleItem { step, item });
            }
        }
        let Some(enter) = self.engine.enter_input() else {
            return;
        };
        let fx = self.input(enter);
        let Some(req) = fx.iter().find_map(|f| match f {
            Effect::OpenConfirm(r) => Some(r.clone()),
            _ => None,
        }) else {
            return;
        };
        let fx = self.input(Input::Confirm {
            step,
            typed: req.type_to_confirm.clone(),
        });
        let Some((attempt, exec)) = fx.iter().find_map(|f| match f {
            Effect::Execute { attempt, exec, .. } => Some((*attempt, exec.clone())),
            _ => None,
        }) else {
            panic!("confirmed without an executor: {fx:?}");
        };
        let Exec::Action(call) = exec else {
            panic!("the shipped playbooks run built-in actions only");
        };
        let result = match self.sim.execute(&call, self.now) {
            Ok(lines) => {
                self.output.push((call.name().to_string(), lines.clone()));
                for line in lines {
                    self.input(Input::ExecOutput {
                        step,
                        attempt,
                        line,
                    });
                }
                Ok(())
            }
            Err(e) => Err(e.to_string()),
        };
        self.input(Input::ExecFinished {
            step,
            attempt,
            result,
        });
    }

    /// Declares, then works every step `pace` seconds after it became active, a second at a time,
    /// until the incident ends.
    fn walk(&mut self, pace: i64) {
        self.input(Input::Declare);
        let mut active_since: Option<(usize, DateTime<Utc>)> = None;
        let deadline = self.now + TimeDelta::hours(6);
        while !self.engine.is_finished() {
            assert!(self.now < deadline, "the drill does not finish");
            let current = self.engine.current();
            let active = current.filter(|&s| self.engine.enter_input().is_some() && s < 100);
            match (active, active_since) {
                (Some(s), Some((was, since))) if s == was => {
                    if self.now >= since + TimeDelta::seconds(pace) {
                        self.act();
                        active_since = None;
                    }
                }
                (Some(s), _) => active_since = Some((s, self.now)),
                (None, _) => active_since = None,
            }
            if let Some(s) = current
                && let Some(warroom::playbook::StepStatus::Failed(why)) = self.engine.status(s)
            {
                panic!("step {s} failed: {why}");
            }
            self.second();
        }
    }

    fn measures(&self) -> Measures {
        self.engine.measures(self.now)
    }

    /// When a step finished (done), from the record.
    fn done_at(&self, step: &str) -> DateTime<Utc> {
        self.log
            .iter()
            .find_map(|(t, e)| match e {
                Event::StepFinished { step: s, .. } if s == step => Some(*t),
                _ => None,
            })
            .unwrap_or_else(|| panic!("step {step} never finished"))
    }
}

fn region_loss(pace: i64) -> (Drill, f64) {
    let mut d = Drill::new("region-loss");
    d.wait_until(fault_time());
    // The replica's lag at the moment of the fault, as the pane shows it.
    let lag_at_fault = d
        .sim
        .sample()
        .database("dr-replica")
        .and_then(|r| r.replication.as_ref())
        .and_then(|r| r.lag_secs)
        .expect("lag known");
    d.inject(Fault::RegionLoss);
    // The operator notices after a minute.
    d.wait_until(fault_time() + TimeDelta::seconds(60));
    d.walk(pace);
    (d, lag_at_fault)
}

#[test]
fn region_loss_rpo_is_the_lag_at_the_fault_and_rto_ends_at_the_dns_switch() {
    let mut rpos = Vec::new();
    for pace in [5, 150] {
        let (d, lag) = region_loss(pace);
        let m = d.measures();
        let rpo = m.rpo.as_ref().expect("captured");
        let secs = rpo.seconds.expect("measured");
        // Within one poll (the pane's tenth of a second): the frozen window, not the lag at the
        // promotion, which by then is minutes.
        assert!(
            (secs - lag).abs() <= 0.1,
            "pace {pace}: RPO {secs} vs lag {lag}"
        );
        assert_eq!(rpo.window_to, Some(fault_time()), "pace {pace}");
        let from = fault_time() - TimeDelta::milliseconds((lag * 1000.0).round() as i64);
        assert_eq!(rpo.window_from, Some(from), "pace {pace}");
        assert!(rpo.bytes.is_some_and(|b| b > 0), "{rpo:?}");
        assert!(rpo.measured_from.contains("simulator"), "{rpo:?}");
        // The promotion's output states the window's true timestamps.
        let promote = d
            .output
            .iter()
            .find(|(n, _)| n == "db.promote")
            .map(|(_, l)| l.join("\n"))
            .expect("promoted");
        assert!(
            promote.contains(&format!(
                "until it was lost at {}",
                fault_time().format("%Y-%m-%d %H:%M:%S UTC")
            )),
            "{promote}"
        );
        // The evidence at the promotion shows the frozen window, not the growing lag.
        let evidence = d
            .log
            .iter()
            .find_map(|(_, e)| match e {
                Event::Confirmed { step, evidence, .. } if step == "promote" => {
                    Some(evidence.summary())
                }
                _ => None,
            })
            .expect("confirmed");
        assert!(
            evidence.contains(&format!(
                "behind when primary was lost at {}",
                fault_time().format("%H:%M:%S")
            )),
            "{evidence}"
        );
        // The recorded evidence carries no growing lag beside the window ("lag 39m14s").
        let replica = d
            .log
            .iter()
            .find_map(|(_, e)| match e {
                Event::Confirmed { step, evidence, .. } if step == "promote" => evidence
                    .databases
                    .iter()
                    .find(|db| db.name == "dr-replica")
                    .cloned(),
                _ => None,
            })
            .expect("dr-replica in the evidence");
        assert_eq!(replica.lag_secs, None, "{replica:?}");
        assert!(replica.loss_window.is_some(), "{replica:?}");
        // RTO achieved: the fault to the DNS switch done (its wait held).
        let restored = m.restored.as_ref().expect("restored");
        assert_eq!(restored.step, "dns");
        assert_eq!(restored.at, d.done_at("dns"));
        assert_eq!(
            m.rto_achieved_secs,
            Some((d.done_at("dns") - fault_time()).num_seconds() as u64)
        );
        // The console's RTO gauge shows the same outage, frozen at the restore.
        let gauge = d.engine.rto(d.now);
        assert!(gauge.restored && gauge.from_disruption, "{gauge:?}");
        assert_eq!(gauge.counts_from, Some(fault_time()));
        assert_eq!(Some(gauge.elapsed_secs), m.rto_achieved_secs);
        // Detected: the first picture in which the region read DOWN.
        let down = d
            .pictures
            .iter()
            .find(|p| p.at >= fault_time() && p.region_verdict("primary") == Verdict::Down)
            .map(|p| p.at)
            .expect("region down");
        assert_eq!(m.detected.as_ref().map(|x| x.at), Some(down));
        assert_eq!(
            m.mttd_secs,
            Some((down - fault_time()).num_seconds() as u64)
        );
        assert_eq!(m.time_to_declare_secs, Some(60));
        rpos.push(secs);
    }
    assert_eq!(rpos[0], rpos[1], "the pace does not change the data lost");
}

fn corruption(pace: i64) -> Drill {
    let mut d = Drill::new("corruption");
    d.wait_until(fault_time());
    d.inject(Fault::Corruption);
    d.wait_until(fault_time() + TimeDelta::seconds(120));
    d.walk(pace);
    d
}

#[test]
fn corruption_rpo_is_onset_minus_restore_point_whatever_the_pace() {
    let fast = corruption(5);
    let slow = corruption(240);
    let mut windows = Vec::new();
    for d in [&fast, &slow] {
        let m = d.measures();
        let rpo = m.rpo.as_ref().expect("captured");
        // The restore point (the default choice, before-corruption): the last second before
        // the onset, replayed from the WAL archive when the picture showed it archived past
        // the newest good snapshot; else that snapshot.
        let captured_at = rpo.at;
        let picture = d
            .pictures
            .iter()
            .rev()
            .find(|p| p.at <= captured_at)
            .expect("a picture before the restore");
        let snapshot = picture
            .backup("snapshots")
            .and_then(|b| b.last_good)
            .expect("a good snapshot");
        let reach = picture
            .backup("wal-archive")
            .and_then(|b| b.last_success)
            .filter(|r| *r > snapshot);
        let point = reach.map_or(snapshot, |r| r.min(fault_time() - TimeDelta::seconds(1)));
        assert!(point < fault_time());
        assert!(snapshot < point, "point-in-time recovery beat the snapshot");
        let chosen = m.restore_point.as_ref().expect("the choice is recorded");
        assert_eq!(
            (chosen.point, chosen.choice.as_str()),
            (point, "before-corruption")
        );
        assert_eq!(
            (rpo.window_from, rpo.window_to),
            (Some(point), Some(fault_time()))
        );
        let expected = (fault_time() - point).num_seconds() as f64;
        assert_eq!(rpo.seconds, Some(expected));
        // The simulator's own account of the restore agrees.
        assert_eq!(d.sim.data_loss_secs("primary"), Some(expected));
        // Service comes back when the API is back at size on the restored database.
        let restored = m.restored.as_ref().expect("restored");
        assert_eq!(restored.step, "writers-back");
        assert_eq!(
            m.rto_achieved_secs,
            Some((d.done_at("writers-back") - fault_time()).num_seconds() as u64)
        );
        windows.push((rpo.seconds, rpo.window_from, rpo.window_to));
    }
    // The slow walk really was slower: the restore started later.
    let restore_started = |d: &Drill| d.measures().rpo.as_ref().map(|r| r.at);
    assert!(restore_started(&slow) > restore_started(&fast));
    assert_eq!(
        windows[0], windows[1],
        "the same RPO for the fast and the slow walk"
    );
}

#[test]
fn az_loss_healed_before_the_declaration_reports_rto_met_by_automation() {
    let mut d = Drill::new("az-loss");
    d.wait_until(fault_time());
    d.inject(Fault::AzLoss { zone: None });
    // The platform heals (Multi-AZ failover 60-120 s, pods reschedule in 30-60 s) while nobody
    // looks; the operator declares five minutes after the fault.
    d.wait_until(fault_time() + TimeDelta::seconds(300));
    // Independently of the engine: the first moment from which the primary answered, enough API
    // pods were ready and the health endpoint answered, and kept doing so.
    let healthy = |p: &Sample| {
        p.database("primary")
            .is_some_and(|db| db.state == DbState::Available)
            && p.apps
                .iter()
                .any(|a| a.name == "api" && a.region == "primary" && a.ready >= 2)
            && p.endpoints
                .iter()
                .filter(|e| e.region == "primary")
                .all(|e| e.last_ok && e.consecutive_failures == 0)
    };
    let last_unhealthy = d
        .pictures
        .iter()
        .rposition(|p| !healthy(p))
        .expect("the fault disrupted something");
    let healed_at = d.pictures[last_unhealthy + 1].at;
    assert!(healed_at < d.now, "healed before the declaration");
    d.walk(5);
    let m = d.measures();
    let restored = m.restored.as_ref().expect("restored");
    assert_eq!(restored.step, "load-balancer");
    assert_eq!(restored.at, healed_at);
    let rto = (healed_at - fault_time()).num_seconds();
    assert_eq!(m.rto_achieved_secs, Some(rto as u64));
    assert!(rto < 300, "healed within the 5m objective: {rto}");
    // The gauge agrees: met by automation, never "at risk" after the fact.
    let gauge = d.engine.rto(d.now);
    assert_eq!(Some(gauge.elapsed_secs), m.rto_achieved_secs, "{gauge:?}");
    assert!(gauge.restored && !gauge.at_risk, "{gauge:?}");
    assert_eq!(m.time_to_declare_secs, Some(300));
    assert_eq!(m.time_to_recover_secs, Some(rto - 300));
    let figures = m.figures();
    let rto_text = &figures[0].value;
    assert!(rto_text.contains("met by automation"), "{rto_text}");
    let criterion = m
        .criteria
        .iter()
        .find(|c| c.name == "RTO < objective")
        .expect("rto");
    assert_eq!(criterion.verdict, Grade::Pass, "{criterion:?}");
    // No data recovered: RPO 0 by construction on the synchronous Multi-AZ standby, with why.
    let rpo = m.rpo.as_ref().expect("rpo");
    assert_eq!(rpo.seconds, Some(0.0));
    assert!(rpo.measured_from.contains("Multi-AZ"), "{rpo:?}");
    assert!(m.passed, "{:?}", m.criteria);
}

#[test]
fn live_milestones_come_from_the_picture_before_the_declaration() {
    // No fault_injected: the engine reads the disruption from the earliest failing reading of
    // the region (a failing health check, or its zones down).
    let mut d = Drill::new("region-loss");
    d.wait_until(fault_time());
    d.sim.inject(Fault::RegionLoss, d.now).expect("fault");
    d.wait_until(fault_time() + TimeDelta::seconds(120));
    let m = d.measures();
    let first_failing = d
        .pictures
        .iter()
        .find(|p| {
            p.endpoints
                .iter()
                .any(|e| e.region == "primary" && e.consecutive_failures > 0)
                || p.zones.iter().any(|z| z.region == "primary" && !z.up)
        })
        .map(|p| p.at)
        .expect("a failing check");
    let down = d
        .pictures
        .iter()
        .find(|p| p.region_verdict("primary") == Verdict::Down)
        .map(|p| p.at)
        .expect("down");
    assert_eq!(m.disrupted.as_ref().map(|x| x.at), Some(first_failing));
    assert_eq!(m.detected.as_ref().map(|x| x.at), Some(down));
    assert!(down >= first_failing);
    assert!(m.declared_at.is_none());
    // The commander corrects it, with a reason; the latest counts.
    let fx = d.input(Input::SetDisruption {
        since: fault_time(),
        reason: String::new(),
    });
    assert!(matches!(fx.as_slice(), [Effect::Refused { .. }]), "{fx:?}");
    d.input(Input::SetDisruption {
        since: fault_time(),
        reason: "the provider's status page says 10:05:00".into(),
    });
    let m = d.measures();
    let disrupted = m.disrupted.as_ref().expect("set");
    assert_eq!(disrupted.at, fault_time());
    assert_eq!(disrupted.by.as_deref(), Some("tester"));
}

#[test]
fn a_restoring_step_skipped_after_the_world_healed_records_the_restore() {
    let mut d = Drill::new("az-loss");
    d.wait_until(fault_time());
    d.inject(Fault::AzLoss { zone: None });
    d.wait_until(fault_time() + TimeDelta::seconds(300));
    d.input(Input::Declare);
    let lb = d
        .engine
        .playbook()
        .restoring_step()
        .expect("az-loss marks a restoring step");
    // Work every step before the load balancer's, a second at a time.
    let deadline = d.now + TimeDelta::hours(1);
    while d.engine.current() != Some(lb) {
        assert!(d.now < deadline, "never reached the restoring step");
        if d.engine.enter_input().is_some() {
            d.act();
        }
        d.second();
    }
    assert!(
        d.measures().restored.is_none(),
        "not restored before the skip"
    );
    d.input(Input::Skip {
        step: lb,
        reason: "the load balancer already serves from the healthy zones".into(),
    });
    let m = d.measures();
    let restored = m
        .restored
        .as_ref()
        .expect("restored by the world, recorded at the skip");
    assert_eq!(restored.step, "load-balancer");
    // The service was back long before the skip: the RTO is the outage, not the operator's pace.
    assert!(restored.at < d.now, "{:?} vs {}", restored.at, d.now);
    let rto = m.rto_achieved_secs.expect("RTO measured");
    assert!(rto < 300, "healed within the objective: {rto}");
}
