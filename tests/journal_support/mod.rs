//! Drives the playbook engine through a shipped playbook with a fake clock and a small model of
//! the deployment, journaling every recorded event through the real [`Journal`]: what the
//! runtime will do, minus the terminal. Shared by the journal, report and history tests (and
//! used to generate the committed fixtures).

#![allow(dead_code)]

use std::path::{Path, PathBuf};

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use warroom::actions::Exec;
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::journal::{Header, Journal, Mode, Stamp};
use warroom::playbook::{Effect, Engine, EngineSettings, Event, Input, Playbook};
use warroom::telemetry::{
    AppReading, AttemptOutcome, BackupReading, DatabaseReading, DbRole, DbState, DnsReading,
    EndpointReading, Replication, ReplicationState, Sample, SecurityReading, ZoneReading,
};

/// Simulated seconds per wall-clock second in the scripted drills.
pub const SPEED: i64 = 60;

/// 2026-11-22 03:12:00 UTC: the fixtures' day.
pub fn day(y: i32, m: u32, d: u32, h: u32, min: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(y, m, d, h, min, 0)
        .single()
        .expect("valid date")
}

pub fn shipped(id: &str) -> Playbook {
    let path = format!("playbooks/{id}.toml");
    warroom::playbook::load_file(Path::new(&path), &Environment::demo())
        .unwrap_or_else(|e| panic!("{path} is valid:\n{e}"))
}

pub fn settings(pb: &Playbook) -> EngineSettings {
    EngineSettings::new(pb, Environment::demo()).mode("drill · simulator")
}

/// What the synthetic telemetry says.
#[derive(Debug, Clone)]
pub struct World {
    pub t0: DateTime<Utc>,
    pub zones_down: Vec<&'static str>,
    pub primary_endpoint_failures: u32,
    pub primary_db: DbState,
    pub replica_role: DbRole,
    pub replica_lag: Option<f64>,
    pub replication: ReplicationState,
    /// (region, desired, ready, ready from): scaling up takes `scale_secs`.
    pub apps: Vec<(&'static str, u32, u32, Option<DateTime<Utc>>)>,
    pub scale_secs: i64,
    pub dns_target: &'static str,
    /// Fails `db.promote` with this message, if set.
    pub promote_fails: Option<String>,
}

impl World {
    pub fn healthy(t0: DateTime<Utc>) -> World {
        World {
            t0,
            zones_down: Vec::new(),
            primary_endpoint_failures: 0,
            primary_db: DbState::Available,
            replica_role: DbRole::Replica,
            replica_lag: Some(2.0),
            replication: ReplicationState::Streaming,
            apps: vec![("primary", 3, 3, None), ("dr", 1, 1, None)],
            scale_secs: 60,
            dns_target: "primary",
            promote_fails: None,
        }
    }

    /// The primary region is gone; the DR replica was `lag` seconds behind.
    pub fn region_lost(t0: DateTime<Utc>, lag: f64) -> World {
        let mut w = World::healthy(t0);
        w.zones_down = vec!["us-west-2a", "us-west-2b", "us-west-2c"];
        w.primary_endpoint_failures = 5;
        w.primary_db = DbState::Unreachable;
        w.replication = ReplicationState::Broken;
        w.replica_lag = Some(lag);
        w.apps[0].2 = 0;
        w
    }

    /// One zone of the primary region is gone.
    pub fn az_lost(t0: DateTime<Utc>) -> World {
        let mut w = World::healthy(t0);
        w.zones_down = vec!["us-west-2a"];
        w.apps[0].2 = 2;
        w
    }

    /// What a simulator would do when the executor runs `exec` at `now`.
    pub fn apply(&mut self, exec: &Exec, now: DateTime<Utc>) -> Result<(), String> {
        let Exec::Action(call) = exec else {
            return Err("the model runs no programs".into());
        };
        let arg = |n: &str| call.arg(n).unwrap_or_default();
        match call.name() {
            "db.promote" => {
                if let Some(why) = &self.promote_fails {
                    return Err(why.clone());
                }
                self.replica_role = DbRole::Primary;
                self.replication = ReplicationState::Promoted;
            }
            "app.scale" => {
                let n: u32 = arg("replicas").parse().map_err(|_| "bad replicas")?;
                let region = if arg("region") == "dr" {
                    "dr"
                } else {
                    "primary"
                };
                let ready_from = now + TimeDelta::seconds(self.scale_secs);
                for a in &mut self.apps {
                    if a.0 == region {
                        a.1 = n;
                        a.3 = Some(ready_from);
                    }
                }
            }
            "dns.point" => {
                self.dns_target = if arg("region") == "dr" {
                    "dr"
                } else {
                    "primary"
                };
            }
            "notify.webhook" => {}
            other => return Err(format!("the model does not know {other}")),
        }
        Ok(())
    }

    pub fn sample(&self, now: DateTime<Utc>) -> Sample {
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
        let backup_at = self.t0 - TimeDelta::minutes(6);
        Sample {
            at: now,
            databases: vec![
                DatabaseReading {
                    name: "primary".into(),
                    resource: "pynomaly-prod".into(),
                    region: "primary".into(),
                    role: DbRole::Primary,
                    state: self.primary_db,
                    az: Some("us-west-2a".into()),
                    multi_az: true,
                    replication: None,
                    integrity_ok: Some(true),
                    corrupt_since: None,
                    failure: None,
                },
                DatabaseReading {
                    name: "dr-replica".into(),
                    resource: "pynomaly-dr-replica".into(),
                    region: "dr".into(),
                    role: self.replica_role,
                    state: DbState::Available,
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
            backups: vec![BackupReading {
                name: "snapshots".into(),
                kind: "test".into(),
                every: Dur::from_mins(15),
                last_success: Some(backup_at),
                last_good: Some(backup_at),
                last_attempt: Some(backup_at),
                last_outcome: Some(AttemptOutcome::Succeeded),
                attempts_24h: 96,
                successes_24h: 96,
                size_bytes: None,
                last_verified: None,
            }],
            endpoints: vec![
                endpoint("primary", self.primary_endpoint_failures),
                endpoint("dr", 0),
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
                .map(|(region, desired, ready, ready_from)| AppReading {
                    name: "api".into(),
                    region: (*region).into(),
                    desired: *desired,
                    ready: match ready_from {
                        Some(from) if now >= *from => *desired,
                        _ => *ready,
                    },
                })
                .collect(),
            security: vec![SecurityReading {
                region: "primary".into(),
                failed_auth_per_min: 0,
                unusual_access: false,
                memory: Default::default(),
            }],
        }
    }
}

/// An engine, its journal and the world it acts on, at a fake `now` (seconds after `t0`).
pub struct Session {
    pub engine: Engine,
    pub journal: Journal,
    pub path: PathBuf,
    pub world: World,
    pub t0: DateTime<Utc>,
    /// When the drill really started (wall clock).
    pub wall0: DateTime<Utc>,
    pub now: i64,
    /// Every event recorded, as the journal should hold them.
    pub log: Vec<(DateTime<Utc>, Event)>,
    /// Output lines the "executor" prints, per action name.
    pub output: Vec<(&'static str, Vec<String>)>,
    /// Seconds the operator takes per checklist item (time passes, with a tick, before each).
    pub item_secs: i64,
}

impl Session {
    /// Creates the journal at `path` for a drill of `playbook` starting at `t0`.
    pub fn start(path: &Path, playbook: Playbook, world: World, t0: DateTime<Utc>) -> Session {
        Session::start_at(path, playbook, world, t0, t0)
    }

    /// As [`Session::start`], with the wall clock starting at `wall0` instead of `t0` (a drill
    /// whose simulated dates say nothing about when it really ran).
    pub fn start_at(
        path: &Path,
        playbook: Playbook,
        world: World,
        t0: DateTime<Utc>,
        wall0: DateTime<Utc>,
    ) -> Session {
        let s = settings(&playbook);
        // Simulated time starts at t0 and runs 60 times faster than the wall clock, which
        // starts at wall0.
        let header = Header::new(&playbook, &s, Mode::Drill, "alice", wall0)
            .simulator(7, SPEED as f64)
            .sim_started_at(t0);
        // Fixed, so that generated fixtures do not depend on the machine.
        let header = Header {
            host: "ops-1.example".into(),
            ..header
        };
        let journal = Journal::create(path, &header).expect("create the journal");
        Session {
            engine: Engine::new(playbook, s),
            journal,
            path: path.to_path_buf(),
            world,
            t0,
            wall0,
            now: 0,
            log: Vec::new(),
            output: Vec::new(),
            item_secs: 0,
        }
    }

    pub fn at(&self, secs: i64) -> DateTime<Utc> {
        self.t0 + TimeDelta::seconds(secs)
    }

    /// Both clocks at the current simulated time: simulated `now` seconds after t0, wall
    /// `now / SPEED` seconds after t0.
    pub fn stamp(&self) -> Stamp {
        Stamp {
            at: self.wall0 + TimeDelta::milliseconds(self.now * 1000 / SPEED),
            sim: Some(self.at(self.now)),
        }
    }

    /// Journals the records among `fx` (fsync each, as the runtime does) and returns `fx`.
    pub fn record(&mut self, fx: Vec<Effect>) -> Vec<Effect> {
        let at = self.at(self.now);
        let stamp = self.stamp();
        for f in &fx {
            if let Effect::Record(ev) = f {
                self.journal.append(stamp, ev).expect("append");
                self.log.push((at, ev.clone()));
            }
        }
        fx
    }

    pub fn input(&mut self, input: Input) -> Vec<Effect> {
        let fx = self.engine.handle(input, self.at(self.now));
        self.record(fx)
    }

    pub fn fault(&mut self, name: &str) {
        let fx = self.engine.fault_injected(name, self.at(self.now));
        self.record(fx);
    }

    /// Time passes: `secs` later, a tick with the world's picture.
    pub fn wait(&mut self, secs: i64) {
        self.now += secs;
        let at = self.at(self.now);
        let picture = self.world.sample(at);
        let fx = self.engine.tick(at, &picture);
        self.record(fx);
    }

    /// Does what an operator does on the current step: tick every item, Enter, confirm as asked
    /// (the executor takes `exec_secs`), and let the world react.
    pub fn work(&mut self, exec_secs: i64) {
        let Some(step) = self.engine.current() else {
            return;
        };
        for item in 0..self.engine.ticks(step).len() {
            if !self.engine.ticks(step)[item] {
                if self.item_secs > 0 {
                    self.wait(self.item_secs);
                }
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
            return;
        };
        let name = match &exec {
            Exec::Action(call) => call.name().to_string(),
            Exec::Run { .. } => "run".into(),
        };
        let lines: Vec<String> = self
            .output
            .iter()
            .find(|(n, _)| *n == name)
            .map(|(_, l)| l.clone())
            .unwrap_or_default();
        for line in lines {
            self.input(Input::ExecOutput {
                step,
                attempt,
                line,
            });
        }
        self.now += exec_secs;
        let at = self.at(self.now);
        let result = self.world.apply(&exec, at);
        self.input(Input::ExecFinished {
            step,
            attempt,
            result,
        });
    }

    /// Works and waits (`pace` seconds a round) until the incident ends.
    pub fn run_to_end(&mut self, pace: i64, exec_secs: i64) {
        while !self.engine.is_finished() {
            assert!(self.now < 100_000, "the playbook does not finish");
            self.work(exec_secs);
            if !self.engine.is_finished() {
                self.wait(pace);
            }
        }
    }
}

/// The complete region-loss drill of the committed fixture: fault at t0, declared 70 s later,
/// every step worked at `pace`, a note, the notification skipped with a reason.
pub fn region_loss_drill(path: &Path, t0: DateTime<Utc>, pace: i64, lag: f64) -> Session {
    region_loss_drill_at(path, t0, t0, pace, lag)
}

/// [`region_loss_drill`] with simulated time from `t0` and the wall clock from `wall0`.
pub fn region_loss_drill_at(
    path: &Path,
    t0: DateTime<Utc>,
    wall0: DateTime<Utc>,
    pace: i64,
    lag: f64,
) -> Session {
    let mut s = Session::start_at(
        path,
        shipped("region-loss"),
        World::region_lost(t0, lag),
        t0,
        wall0,
    );
    s.output = vec![(
        "db.promote",
        vec![
            "promoting pynomaly-dr-replica (us-east-1)".into(),
            "replication stopped; instance is now standalone".into(),
            "| status | available |".into(),
        ],
    )];
    s.world.scale_secs = 8 * 60;
    s.item_secs = 20;
    s.fault("region-loss");
    s.wait(30);
    s.wait(40);
    s.input(Input::Declare);
    // assess, activate-dr
    s.work(0);
    s.wait(pace);
    s.input(Input::Note {
        text: "Old primary fenced: ingress revoked on sg-0a1b (pipe | and `ticks` kept)".into(),
    });
    s.work(0);
    s.wait(pace);
    // promote, scale-dr, dns, verify
    let notify = s
        .engine
        .playbook()
        .step_index("notify")
        .expect("notify step");
    s.input(Input::Skip {
        step: notify,
        reason: "the status page team posted the update".into(),
    });
    s.run_to_end(pace, 20);
    s
}

/// The aborted fixture: the promotion fails, the operator notes it and aborts.
pub fn region_loss_aborted(path: &Path, t0: DateTime<Utc>) -> Session {
    let mut world = World::region_lost(t0, 42.0);
    world.promote_fails =
        Some("RDS: InvalidDBInstanceState: instance is not a read replica".into());
    let mut s = Session::start(path, shipped("region-loss"), world, t0);
    s.item_secs = 25;
    s.output = vec![(
        "db.promote",
        vec!["promoting pynomaly-dr-replica (us-east-1)".into()],
    )];
    s.fault("region-loss");
    s.wait(95);
    s.input(Input::Declare);
    s.work(0);
    s.wait(60);
    s.work(0);
    s.wait(60);
    s.work(30);
    s.wait(60);
    s.input(Input::Note {
        text: "Promotion refused twice by the RDS API; escalated to the DBA on call.".into(),
    });
    s.wait(60);
    s.input(Input::Abort {
        reason: "the DR replica cannot be promoted; restoring from snapshots instead".into(),
    });
    s
}

/// The az-loss drill of the history fixtures.
pub fn az_loss_drill(path: &Path, t0: DateTime<Utc>, pace: i64) -> Session {
    let mut s = Session::start(path, shipped("az-loss"), World::az_lost(t0), t0);
    s.item_secs = 10;
    s.fault("az-loss");
    s.wait(45);
    s.input(Input::Declare);
    // The model's zone comes back once the operator works the load balancer step.
    s.run_to_end(pace, 10);
    s
}
