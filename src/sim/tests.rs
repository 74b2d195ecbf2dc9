//! Simulator tests: a fake clock is simply the `now` values passed in.

use std::collections::BTreeMap;

use chrono::{DateTime, TimeDelta, TimeZone, Timelike, Utc};

use super::*;
use crate::actions::Call;
use crate::duration::compact;
use crate::telemetry::{
    AttemptOutcome, BackupStatus, DbRole, DbState, FAILED_AUTH_SPIKE_PER_MIN, ReplicationState,
    Verdict,
};

/// Midnight UTC, so daily schedules are easy to read off.
fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 0, 0, 0)
        .single()
        .expect("valid date")
}

fn at(secs: i64) -> DateTime<Utc> {
    t0() + TimeDelta::seconds(secs)
}

const H: i64 = 3600;

fn demo(seed: u64) -> Sim {
    Sim::new(&Environment::demo(), seed, t0())
}

fn call(name: &str, args: &[(&str, &str)]) -> Call {
    Call::parse(name, args).expect("a valid call")
}

fn db(s: &Sample, name: &str) -> DatabaseReading {
    s.database(name).expect("database in sample").clone()
}

fn lag(s: &Sample, name: &str) -> f64 {
    db(s, name)
        .replication
        .and_then(|r| r.lag_secs)
        .expect("lag known")
}

fn endpoint<'a>(s: &'a Sample, region: &str) -> &'a EndpointReading {
    s.endpoints
        .iter()
        .find(|e| e.region == region)
        .expect("endpoint")
}

fn app<'a>(s: &'a Sample, name: &str, region: &str) -> &'a AppReading {
    s.apps
        .iter()
        .find(|a| a.name == name && a.region == region)
        .expect("app")
}

fn security<'a>(s: &'a Sample, region: &str) -> &'a SecurityReading {
    s.security
        .iter()
        .find(|x| x.region == region)
        .expect("security")
}

/// A drill script: faults and actions at fixed times, used to compare call patterns.
fn script(sim: &mut Sim) {
    sim.inject(Fault::RegionLoss, at(H)).expect("region-loss");
    sim.execute(&call("db.promote", &[("db", "dr-replica")]), at(H + 300))
        .expect("promote");
    sim.execute(
        &call(
            "app.scale",
            &[("app", "api"), ("region", "dr"), ("replicas", "3")],
        ),
        at(H + 400),
    )
    .expect("scale");
    sim.execute(
        &call("dns.point", &[("dns", "api"), ("region", "dr")]),
        at(H + 500),
    )
    .expect("dns");
}

// ---------------------------------------------------------------- determinism

#[test]
fn same_seed_gives_identical_samples() {
    let mut a = demo(42);
    let mut b = demo(42);
    assert_eq!(a.sample(), b.sample());
    for minute in 1..=180 {
        a.advance(at(minute * 60));
        b.advance(at(minute * 60));
        assert_eq!(a.sample(), b.sample(), "minute {minute}");
    }
}

#[test]
fn step_granularity_does_not_change_anything() {
    // One sim advanced every second, one only at the script's times, one by odd jumps.
    let end = 2 * H;
    let mut fine = demo(9);
    let mut coarse = demo(9);
    let mut odd = demo(9);
    let mut secs = 0;
    while secs < H {
        secs += 1;
        fine.advance(at(secs));
    }
    let mut s = 0;
    for jump in [7, 13, 1, 997, 3, 1800].iter().cycle() {
        s += jump;
        if s >= H {
            break;
        }
        odd.advance(at(s));
    }
    script(&mut fine);
    script(&mut coarse);
    script(&mut odd);
    for s in (H + 501)..=end {
        fine.advance(at(s));
    }
    coarse.advance(at(end));
    odd.advance(at(end - 1234));
    odd.advance(at(end));
    assert_eq!(fine.sample(), coarse.sample());
    assert_eq!(odd.sample(), coarse.sample());
    assert_eq!(fine.active_faults(), coarse.active_faults());
}

#[test]
fn different_seeds_differ() {
    let mut a = demo(1);
    let mut b = demo(2);
    a.advance(at(H));
    b.advance(at(H));
    assert_ne!(a.sample(), b.sample());
    assert_ne!(
        a.sample().backups[0].size_bytes,
        b.sample().backups[0].size_bytes
    );
}

#[test]
fn advancing_into_the_past_is_a_no_op() {
    let mut sim = demo(3);
    sim.advance(at(600));
    let before = sim.sample();
    sim.advance(at(10));
    assert_eq!(sim.now(), at(600));
    assert_eq!(sim.sample(), before);
    // Sub-second parts are ignored: the state moves in whole seconds.
    sim.advance(at(600) + TimeDelta::milliseconds(999));
    assert_eq!(sim.sample(), before);
}

#[test]
fn faults_at_a_past_time_apply_now() {
    let mut sim = demo(3);
    sim.advance(at(600));
    sim.inject(Fault::Breach, at(5)).expect("breach");
    assert_eq!(sim.active_faults(), vec![(Fault::Breach, at(600))]);
}

// ---------------------------------------------------------------- healthy baseline

#[test]
fn a_healthy_day_looks_healthy() {
    let mut sim = demo(11);
    let mut lags = Vec::new();
    let mut attempts: BTreeMap<String, Vec<(DateTime<Utc>, AttemptOutcome)>> = BTreeMap::new();
    for minute in 1..=24 * 60 {
        sim.advance(at(minute * 60));
        let s = sim.sample();
        lags.push(lag(&s, "dr-replica"));
        for region in ["primary", "dr"] {
            assert_eq!(
                s.region_verdict(region),
                Verdict::Healthy,
                "{region} at {minute}m"
            );
        }
        assert_eq!(
            db(&s, "dr-replica").replication.map(|r| r.state),
            Some(ReplicationState::Streaming)
        );
        for b in &s.backups {
            let seen = attempts.entry(b.name.clone()).or_default();
            if let (Some(t), Some(o)) = (b.last_attempt, b.last_outcome)
                && t > t0()
                && seen.last().is_none_or(|(last, _)| *last != t)
            {
                seen.push((t, o));
            }
        }
    }
    let under_10 = lags.iter().filter(|l| **l < 10.0).count();
    assert!(
        under_10 * 100 >= lags.len() * 90,
        "{under_10} of {}",
        lags.len()
    );
    let max = lags.iter().copied().fold(0.0, f64::max);
    assert!(
        (25.0..200.0).contains(&max),
        "a day has spikes of 30-120 s; max {max}"
    );

    let daily = &attempts["daily-dump"];
    assert_eq!(daily.len(), 1, "{daily:?}");
    assert_eq!(daily[0].0.hour(), 2, "{daily:?}");
    assert!(daily[0].0.minute() < 30, "{daily:?}");
    assert_eq!(daily[0].1, AttemptOutcome::Succeeded);
    let auto = &attempts["automated-snapshot"];
    assert_eq!(auto.len(), 1);
    assert_eq!(auto[0].0.hour(), 3, "{auto:?}");
    assert_eq!(attempts["config"][0].0.hour(), 1);
    // Minute sampling can merge two attempts of the 5-minute series only if they were < 60 s
    // apart, which the schedule never does.
    let snaps = &attempts["snapshots"];
    assert!((95..=97).contains(&snaps.len()), "{}", snaps.len());
    let ok = snaps
        .iter()
        .filter(|(_, o)| *o == AttemptOutcome::Succeeded)
        .count();
    assert!(ok >= 88, "{ok} of {}", snaps.len());
    assert!((286..=289).contains(&attempts["wal-archive"].len()));
    assert!((2..=8).contains(&attempts["model-registry"].len()));
}

#[test]
fn history_makes_start_up_figures_meaningful() {
    for seed in 0..10 {
        let s = demo(seed).sample();
        assert_eq!(s.backups.len(), 6);
        for b in &s.backups {
            let age = b.age_secs(t0()).expect("a success in the history");
            assert!(age <= 2 * b.every.secs(), "{}: {age}s", b.name);
            assert!(b.attempts_24h >= 1, "{}", b.name);
            assert!(b.last_good.is_some());
            assert_eq!(b.last_good, b.last_success);
            if b.name == "snapshots" {
                assert!((95..=97).contains(&b.attempts_24h), "{}", b.attempts_24h);
                assert!(b.successes_24h >= 85);
            }
        }
    }
}

#[test]
fn backups_fail_a_few_percent_of_the_time() {
    let (mut attempts, mut ok) = (0u32, 0u32);
    for seed in 0..40 {
        for b in demo(seed).sample().backups {
            attempts += b.attempts_24h;
            ok += b.successes_24h;
        }
    }
    let failed = f64::from(attempts - ok) / f64::from(attempts);
    assert!((0.01..0.05).contains(&failed), "{failed} over {attempts}");
}

#[test]
fn a_lag_spike_rises_then_decays_within_minutes() {
    let mut sim = demo(5);
    let mut series = Vec::new();
    for s in 1..=3 * H {
        sim.advance(at(s));
        series.push(lag(&sim.sample(), "dr-replica"));
    }
    let (peak_at, peak) =
        series.iter().copied().enumerate().fold(
            (0, 0.0),
            |best, (i, l)| if l > best.1 { (i, l) } else { best },
        );
    assert!((30.0..130.0).contains(&peak), "{peak}");
    let back = series[peak_at..]
        .iter()
        .position(|l| *l < 10.0)
        .expect("decays");
    assert!(back < 6 * 60, "back under 10 s after {back}s");
}

// ---------------------------------------------------------------- faults

#[test]
fn az_loss_fails_the_primary_over_and_degrades_the_region() {
    for seed in [1, 2, 3, 4] {
        let mut sim = demo(seed);
        sim.advance(at(H));
        let before = sim.sample();
        let home = db(&before, "primary").az.expect("az");
        sim.inject(Fault::AzLoss { zone: None }, at(H))
            .expect("az-loss");
        assert_eq!(
            sim.active_faults(),
            vec![(
                Fault::AzLoss {
                    zone: Some(home.clone())
                },
                at(H)
            )]
        );
        let s = sim.sample();
        let down: Vec<_> = s.zones.iter().filter(|z| !z.up).map(|z| &z.zone).collect();
        assert_eq!(down, vec![&home]);
        assert_eq!(db(&s, "primary").state, DbState::FailingOver);

        let (mut back_after, mut max_failures, mut min_ready) = (None, 0, u32::MAX);
        for secs in 1..=300 {
            sim.advance(at(H + secs));
            let s = sim.sample();
            assert_eq!(
                s.region_verdict("primary"),
                Verdict::Degraded,
                "seed {seed} +{secs}s"
            );
            assert_eq!(
                s.region_verdict("dr"),
                Verdict::Healthy,
                "seed {seed} +{secs}s"
            );
            let p = db(&s, "primary");
            if back_after.is_none() && p.state == DbState::Available {
                back_after = Some(secs);
                assert_ne!(p.az.as_ref(), Some(&home));
                assert_eq!(p.role, DbRole::Primary);
            }
            max_failures = max_failures.max(endpoint(&s, "primary").consecutive_failures);
            min_ready = min_ready.min(app(&s, "api", "primary").ready);
            assert!(!security(&s, "primary").unusual_access);
        }
        let back = back_after.expect("primary back");
        assert!(
            (60..=120).contains(&back),
            "seed {seed}: back after {back}s"
        );
        assert!(
            (1..=2).contains(&max_failures),
            "seed {seed}: {max_failures}"
        );
        let s = sim.sample();
        assert_eq!(endpoint(&s, "primary").consecutive_failures, 0);
        assert_eq!(min_ready, 2);
        assert_eq!(app(&s, "api", "primary").ready, 3);
        assert_eq!(s.dns[0].target_region, "primary");
        let replica = db(&s, "dr-replica");
        assert_eq!(replica.state, DbState::Available);
        assert_eq!(
            replica.replication.map(|r| r.state),
            Some(ReplicationState::Streaming)
        );
    }
}

#[test]
fn az_loss_of_a_named_zone_and_bad_zones() {
    let mut sim = demo(1);
    sim.inject("az-loss:us-west-2b".parse().expect("fault"), at(60))
        .expect("az-loss");
    let s = sim.sample();
    assert!(
        !s.zones
            .iter()
            .find(|z| z.zone == "us-west-2b")
            .expect("zone")
            .up
    );
    // The primary database was not there: it does not move.
    assert_eq!(db(&s, "primary").state, DbState::Available);
    let e = sim
        .inject("az-loss:us-west-2b".parse().expect("fault"), at(70))
        .expect_err("twice");
    assert!(e.to_string().contains("us-west-2b is down already"), "{e}");
    let e = sim
        .inject("az-loss:us-west-2x".parse().expect("fault"), at(70))
        .expect_err("unknown");
    assert!(
        e.to_string()
            .starts_with("unknown zone \"us-west-2x\"; known: us-west-2a, us-west-2b"),
        "{e}"
    );
}

#[test]
fn region_loss_takes_the_region_down_and_breaks_replication() {
    let mut sim = demo(7);
    sim.advance(at(H));
    sim.inject(Fault::RegionLoss, at(H)).expect("region-loss");
    let s = sim.sample();
    assert!(
        s.zones
            .iter()
            .filter(|z| z.region == "primary")
            .all(|z| !z.up)
    );
    assert!(s.zones.iter().filter(|z| z.region == "dr").all(|z| z.up));
    assert_eq!(db(&s, "primary").state, DbState::Unreachable);
    assert_eq!(app(&s, "api", "primary").ready, 0);
    sim.advance(at(H + 30));
    let s = sim.sample();
    assert_eq!(s.region_verdict("primary"), Verdict::Down);
    assert!(endpoint(&s, "primary").consecutive_failures >= 3);
    assert!(endpoint(&s, "primary").is_down());
    assert_eq!(s.region_verdict("dr"), Verdict::Healthy);
    assert_eq!(
        s.dns[0].target_region, "primary",
        "DNS moves only by action"
    );
    let r = db(&s, "dr-replica").replication.expect("replication");
    assert_eq!(r.state, ReplicationState::Broken);
    let l0 = lag(&s, "dr-replica");
    assert!(l0 >= 30.0, "{l0}");
    sim.advance(at(H + 130));
    let grown = lag(&sim.sample(), "dr-replica") - l0;
    assert!((grown - 100.0).abs() < 0.15, "lag grew {grown}s in 100s");
    // Backups of an unreachable primary fail.
    sim.advance(at(H + 1800));
    let snaps = sim
        .sample()
        .backup("snapshots")
        .cloned()
        .expect("snapshots");
    assert_eq!(snaps.last_outcome, Some(AttemptOutcome::Failed));
    assert_eq!(snaps.status(sim.now()), BackupStatus::Failed);
    let e = sim
        .inject(Fault::RegionLoss, at(H + 1800))
        .expect_err("twice");
    assert!(matches!(e, SimError::AlreadyActive { .. }), "{e}");
}

#[test]
fn corruption_taints_later_backups_until_a_restore() {
    let mut sim = demo(21);
    sim.advance(at(10 * H));
    sim.inject(Fault::Corruption, at(10 * H))
        .expect("corruption");
    let s = sim.sample();
    let p = db(&s, "primary");
    assert_eq!(p.integrity_ok, Some(false));
    assert_eq!(p.corrupt_since, Some(at(10 * H)));
    assert_eq!(s.region_verdict("primary"), Verdict::Degraded);
    sim.advance(at(11 * H));
    let s = sim.sample();
    let snaps = s.backup("snapshots").expect("snapshots");
    assert!(snaps.last_success.expect("success") > at(10 * H));
    let good = snaps.last_good.expect("good");
    assert!(good < at(10 * H) && good > at(10 * H - 20 * 60), "{good}");
    assert_eq!(db(&s, "dr-replica").integrity_ok, Some(false), "replicated");
    // Nothing else moved.
    assert!(s.zones.iter().all(|z| z.up));
    assert_eq!(endpoint(&s, "primary").consecutive_failures, 0);
    assert!(!security(&s, "primary").unusual_access);

    let e = sim
        .execute(
            &call("backup.verify", &[("backup", "snapshots")]),
            at(11 * H),
        )
        .expect_err("tainted");
    let text = e.to_string();
    assert!(
        text.contains("corruption point") && text.contains("db.restore"),
        "{text}"
    );

    let e = sim
        .execute(
            &call(
                "db.restore",
                &[
                    ("db", "primary"),
                    ("backup", "daily-dump"),
                    ("to", "latest-verified-backup"),
                ],
            ),
            at(11 * H),
        )
        .expect_err("no restore test of daily-dump on record");
    assert!(e.to_string().contains("no verified backup"), "{e}");
    sim.execute(
        &call("backup.verify", &[("backup", "daily-dump")]),
        at(11 * H),
    )
    .expect("the nightly dump, taken before the onset, passes");
    let lines = sim
        .execute(
            &call(
                "db.restore",
                &[
                    ("db", "primary"),
                    ("backup", "daily-dump"),
                    ("to", "latest-verified-backup"),
                ],
            ),
            at(11 * H),
        )
        .expect("restore");
    let text = lines.join("\n");
    assert!(text.contains("restore point: 2026-11-22 02:"), "{text}");
    assert!(
        text.contains("corruption onset: 2026-11-22 10:00:00 UTC"),
        "{text}"
    );
    // The good writes lost are restore point -> onset, not restore point -> now (11:00).
    let loss = sim.data_loss_secs("primary").expect("loss");
    assert!((7.4 * 3600.0..8.0 * 3600.0).contains(&loss), "{loss}");
    assert!(
        text.contains(&format!("data-loss window: {}", compact(loss as u64))),
        "{text}"
    );
    sim.advance(at(11 * H + 60));
    assert_eq!(db(&sim.sample(), "primary").state, DbState::Unreachable);
    sim.advance(at(11 * H + 15 * 60));
    let s = sim.sample();
    let p = db(&s, "primary");
    assert_eq!(
        (p.state, p.integrity_ok, p.corrupt_since),
        (DbState::Available, Some(true), None)
    );
    assert_eq!(db(&s, "dr-replica").integrity_ok, Some(true));
    assert!(sim.active_faults().is_empty());
    sim.advance(at(12 * H));
    sim.execute(
        &call("backup.snapshot", &[("backup", "snapshots")]),
        at(12 * H),
    )
    .expect("snapshot");
    sim.execute(
        &call("backup.verify", &[("backup", "snapshots")]),
        at(12 * H),
    )
    .expect("clean again");
}

#[test]
fn breach_spikes_failed_logins_until_the_secret_is_rotated() {
    let mut sim = demo(4);
    sim.advance(at(H));
    sim.inject(Fault::Breach, at(H)).expect("breach");
    for secs in [0, 10, 300] {
        sim.advance(at(H + secs));
        let s = sim.sample();
        let p = security(&s, "primary");
        assert!(p.failed_auth_per_min >= 250, "{}", p.failed_auth_per_min);
        assert!(p.unusual_access);
        assert!(security(&s, "dr").failed_auth_per_min < FAILED_AUTH_SPIKE_PER_MIN);
        assert!(!security(&s, "dr").unusual_access);
        assert_eq!(s.region_verdict("primary"), Verdict::Degraded);
        assert_eq!(db(&s, "primary").state, DbState::Available);
    }
    let lines = sim
        .execute(
            &call("secret.rotate", &[("region", "primary")]),
            at(H + 400),
        )
        .expect("rotate");
    assert!(lines[0].starts_with("rotated the signing secret in primary (us-west-2)"));
    for secs in [400, 410, 1000] {
        sim.advance(at(H + secs));
        let s = sim.sample();
        assert!(security(&s, "primary").failed_auth_per_min < FAILED_AUTH_SPIKE_PER_MIN);
        assert!(!security(&s, "primary").unusual_access);
        assert_eq!(s.region_verdict("primary"), Verdict::Healthy);
    }
    assert!(sim.active_faults().is_empty());
}

// ---------------------------------------------------------------- actions

#[test]
fn promote_turns_a_replica_into_a_primary_and_reports_the_loss() {
    let mut sim = demo(8);
    sim.advance(at(H));
    let e = sim.promote("primary", at(H)).expect_err("not a replica");
    assert_eq!(
        e.to_string(),
        "database \"primary\" is not a replica (role primary); promote a replica instead: dr-replica"
    );
    let lag_then = lag(&sim.sample(), "dr-replica");
    let lines = sim.promote("dr-replica", at(H)).expect("promote");
    let text = lines.join("\n");
    assert!(
        text.contains(&format!("data-loss window: {lag_then:.1}s")),
        "{text}"
    );
    assert!(
        text.contains("split brain"),
        "the primary is still up: {text}"
    );
    assert_eq!(
        sim.data_loss_secs("dr-replica")
            .map(|l| (l * 10.0).round() / 10.0),
        Some(lag_then)
    );
    let s = sim.sample();
    assert_eq!(db(&s, "dr-replica").state, DbState::Promoting);
    assert_eq!(db(&s, "dr-replica").role, DbRole::Replica);
    sim.advance(at(H + 9));
    assert_eq!(db(&sim.sample(), "dr-replica").state, DbState::Promoting);
    sim.advance(at(H + 40));
    let r = db(&sim.sample(), "dr-replica");
    assert_eq!((r.role, r.state), (DbRole::Primary, DbState::Available));
    let repl = r.replication.expect("replication kept for the reading");
    assert_eq!(
        (repl.state, repl.lag_secs),
        (ReplicationState::Promoted, None)
    );
    let e = sim.promote("dr-replica", at(H + 41)).expect_err("twice");
    assert!(e.to_string().contains("already promoted"), "{e}");
}

#[test]
fn read_only_stops_writes_and_back() {
    let mut sim = demo(1);
    let lines = sim
        .execute(
            &call("db.read_only", &[("db", "primary"), ("enabled", "true")]),
            at(60),
        )
        .expect("read-only");
    assert!(lines[0].contains("writes off"), "{lines:?}");
    assert_eq!(db(&sim.sample(), "primary").state, DbState::ReadOnly);
    assert_eq!(sim.sample().region_verdict("primary"), Verdict::Healthy);
    sim.set_read_only("primary", false, at(70))
        .expect("writable");
    assert_eq!(db(&sim.sample(), "primary").state, DbState::Available);
    let e = sim
        .set_read_only("dr-replica", true, at(80))
        .expect_err("replica");
    assert!(e.to_string().contains("\"dr-replica\" is a replica"), "{e}");
    let e = Call::parse("db.read_only", &[("db", "primary"), ("enabled", "maybe")])
        .expect_err("bad flag");
    assert_eq!(
        e.to_string(),
        "db.read_only: argument `enabled` = \"maybe\" is not true or false"
    );
}

#[test]
fn restore_needs_a_primary_and_a_good_backup() {
    let mut sim = demo(1);
    let e = sim
        .restore("dr-replica", "snapshots", None, at(60))
        .expect_err("replica");
    assert!(e.to_string().contains("restore its source primary"), "{e}");
    let e = sim
        .restore("primary", "nightly", None, at(60))
        .expect_err("unknown backup");
    assert!(
        e.to_string()
            .starts_with("unknown backup \"nightly\"; known: snapshots,"),
        "{e}"
    );
    let lines = sim
        .restore("primary", "snapshots", None, at(60))
        .expect("restore");
    assert!(
        lines.iter().any(|l| l.starts_with("restore point: ")),
        "{lines:?}"
    );
    assert_eq!(db(&sim.sample(), "primary").state, DbState::Unreachable);
    let e = sim
        .restore("primary", "snapshots", None, at(61))
        .expect_err("busy");
    assert!(e.to_string().contains("restoring"), "{e}");
}

/// Issue 10: the restore point. With the WAL archive reaching past the onset, the default
/// (before-corruption) replays to the last second before it: RPO 1 s; the latest verified
/// backup loses up to the snapshot interval; a time after the onset is refused.
#[test]
fn restore_to_a_point_before_the_corruption() {
    let onset = 20 * 60 + 7;
    let fresh_verified = |verify: bool| {
        let mut sim = demo(3);
        sim.advance(at(onset - 1));
        if verify {
            sim.execute(
                &call("backup.verify", &[("backup", "snapshots")]),
                at(onset - 1),
            )
            .expect("the newest snapshot passes its restore test");
        }
        sim.inject(Fault::Corruption, at(onset))
            .expect("corruption");
        // The archive's next attempt (every 5 minutes) archives the WAL past the onset.
        sim.advance(at(onset + 6 * 60));
        sim
    };
    let fresh = || fresh_verified(false);
    let mut sim = fresh();
    assert!(sim.wal_reach().is_some_and(|r| r >= at(onset)));
    let lines = sim
        .execute(
            &call("db.restore", &[("db", "primary"), ("backup", "snapshots")]),
            at(onset + 400),
        )
        .expect("restore");
    assert!(
        lines
            .iter()
            .any(|l| l.contains("point-in-time recovery, before-corruption")),
        "{lines:?}"
    );
    assert_eq!(sim.data_loss_secs("primary"), Some(1.0), "{lines:?}");

    // Verified means a restore test passed: none has, so latest-verified-backup is refused
    // (not silently the newest good backup).
    let mut sim = fresh();
    let e = sim
        .execute(
            &call(
                "db.restore",
                &[
                    ("db", "primary"),
                    ("backup", "snapshots"),
                    ("to", "latest-verified-backup"),
                ],
            ),
            at(onset + 400),
        )
        .expect_err("nothing verified");
    assert!(e.to_string().contains("no verified backup"), "{e}");

    let mut sim = fresh_verified(true);
    let good = sim.series[sim.backup_index("snapshots").expect("snapshots")]
        .last_good
        .expect("a good snapshot")
        .at;
    sim.execute(
        &call(
            "db.restore",
            &[
                ("db", "primary"),
                ("backup", "snapshots"),
                ("to", "latest-verified-backup"),
            ],
        ),
        at(onset + 400),
    )
    .expect("restore");
    let behind = at(onset).timestamp() - good;
    assert_eq!(sim.data_loss_secs("primary"), Some(behind as f64));
    assert!(behind > 1 && behind <= 15 * 60, "{behind}");

    let mut sim = fresh();
    let after = at(onset + 30).to_rfc3339();
    let e = sim
        .execute(
            &call(
                "db.restore",
                &[("db", "primary"), ("backup", "snapshots"), ("to", &after)],
            ),
            at(onset + 400),
        )
        .expect_err("after the onset");
    assert!(
        e.to_string().contains("the corruption would come back"),
        "{e}"
    );
    // A `to` that is none of the three never becomes a call.
    let e = Call::parse(
        "db.restore",
        &[("db", "primary"), ("backup", "snapshots"), ("to", "soon")],
    )
    .expect_err("bad to");
    assert!(e.to_string().contains("before-corruption"), "{e}");
}

#[test]
fn dns_point_moves_the_record() {
    let mut sim = demo(1);
    let lines = sim.point_dns("api", "dr", at(60)).expect("point");
    assert!(
        lines[0].contains("now points at dr (us-east-1)"),
        "{lines:?}"
    );
    assert!(
        lines.iter().any(|l| l.contains("scale it")),
        "1 warm pod: {lines:?}"
    );
    assert_eq!(sim.sample().dns[0].target_region, "dr");
    let e = sim.point_dns("api", "mars", at(60)).expect_err("region");
    assert_eq!(e.to_string(), "unknown region \"mars\"; known: primary, dr");
    let e = sim.point_dns("www", "dr", at(60)).expect_err("record");
    assert_eq!(e.to_string(), "unknown DNS record \"www\"; known: api");
}

#[test]
fn scale_ramps_pods_up_over_30_to_60_seconds() {
    let mut sim = demo(2);
    sim.scale_app("api", "dr", 3, at(100)).expect("scale");
    let s = sim.sample();
    assert_eq!(
        (app(&s, "api", "dr").desired, app(&s, "api", "dr").ready),
        (3, 1)
    );
    sim.advance(at(129));
    assert_eq!(app(&sim.sample(), "api", "dr").ready, 1);
    sim.advance(at(160));
    assert_eq!(app(&sim.sample(), "api", "dr").ready, 3);
    sim.scale_app("api", "dr", 1, at(200)).expect("down");
    assert_eq!(app(&sim.sample(), "api", "dr").ready, 1);
    // In a region that is down nothing starts.
    sim.inject(Fault::RegionLoss, at(300)).expect("region-loss");
    let lines = sim.scale_app("api", "primary", 6, at(300)).expect("scale");
    assert!(lines[1].contains("cannot start"), "{lines:?}");
    sim.advance(at(600));
    let a = app(&sim.sample(), "api", "primary").clone();
    assert_eq!((a.desired, a.ready), (6, 0));
    let e = Call::parse(
        "app.scale",
        &[("app", "api"), ("region", "dr"), ("replicas", "three")],
    )
    .expect_err("bad count");
    assert!(e.to_string().contains("`replicas` = \"three\""), "{e}");
    let e = sim.scale_app("web", "dr", 1, at(600)).expect_err("app");
    assert_eq!(e.to_string(), "unknown app \"web\"; known: api");
    assert!(sim.scale_app("api", "dr", 5000, at(600)).is_err());
}

/// `forensic = true`: the backup is also kept as evidence under its own name, tagged, and the
/// simulator lists it; a regular snapshot keeps nothing apart.
#[test]
fn a_forensic_snapshot_is_kept_apart_under_its_own_name() {
    let mut sim = demo(3);
    let lines = sim
        .take_backup("snapshots", false, at(100))
        .expect("snapshot");
    assert!(!lines.iter().any(|l| l.contains("forensic")), "{lines:?}");
    assert_eq!(sim.forensic().count(), 0);
    let lines = sim
        .take_backup("snapshots", true, at(130))
        .expect("snapshot");
    let name = crate::actions::forensic_name("snapshots", at(130));
    assert!(name.starts_with("forensic-snapshots-"), "{name}");
    let kept = lines
        .iter()
        .find(|l| l.starts_with("kept as forensic evidence: "))
        .unwrap_or_else(|| panic!("{lines:?}"));
    assert!(
        kept.contains(&name) && kept.contains("tag warroom:purpose=forensic"),
        "{kept}"
    );
    assert!(kept.contains("outside snapshots's retention"), "{kept}");
    let listed: Vec<_> = sim.forensic().collect();
    assert_eq!(listed, vec![("snapshots", name.as_str(), at(130))]);
    // The regular series saw the backup too: a wait for a backup taken since the step holds.
    let b = sim.sample().backup("snapshots").cloned().expect("reading");
    assert_eq!(b.last_attempt, Some(at(130)));
}

#[test]
fn snapshot_and_verify() {
    let mut sim = demo(3);
    let lines = sim
        .take_backup("snapshots", false, at(100))
        .expect("snapshot");
    assert!(
        lines[0].contains("backup of primary (pynomaly-prod)"),
        "{lines:?}"
    );
    let b = sim.sample().backup("snapshots").cloned().expect("reading");
    assert_eq!(b.last_attempt, Some(at(100)));
    assert_eq!(b.last_outcome, Some(AttemptOutcome::Succeeded));
    let lines = sim.verify_backup("snapshots", at(110)).expect("verify");
    assert!(lines[1].starts_with("rows: accounts "), "{lines:?}");
    assert!(lines[2].starts_with("checksum sha256:") && lines[2].ends_with(" ok"));
    assert_eq!(
        sim.verify_backup("snapshots", at(120)),
        Ok(lines),
        "stable detail"
    );

    sim.inject(Fault::RegionLoss, at(200)).expect("region-loss");
    let e = sim
        .take_backup("snapshots", false, at(210))
        .expect_err("unreachable");
    assert!(
        e.to_string().contains("pynomaly-prod) is unreachable"),
        "{e}"
    );
    let b = sim.sample().backup("snapshots").cloned().expect("reading");
    assert_eq!(b.last_outcome, Some(AttemptOutcome::Failed));
    let e = sim
        .verify_backup("snapshots", at(220))
        .expect_err("failed newest");
    assert!(e.to_string().contains("failed"), "{e}");
}

#[test]
fn notify_records_the_message() {
    let mut sim = demo(1);
    let lines = sim
        .execute(
            &call("notify.webhook", &[("message", "failing over to dr")]),
            at(30),
        )
        .expect("notify");
    assert_eq!(
        lines,
        vec![
            "posted to the simulator's webhook (nobody receives it): 1 line(s), 18 characters, \
             starting \"failing over to dr\""
                .to_string()
        ]
    );
    assert_eq!(
        sim.notifications(),
        vec![(at(30), "failing over to dr".to_string())]
    );
    assert!(sim.notify("  ", at(31)).is_err());
}

#[test]
fn execute_rejects_bad_calls_naming_the_value() {
    let mut sim = demo(1);
    // Calls that cannot be built: the typed call refuses them before any backend sees them.
    let malformed = [
        (
            Call::parse("db.explode", &[]),
            "unknown action \"db.explode\"; built-in actions: db.promote",
        ),
        (
            Call::parse("db.promote", &[]),
            "db.promote: missing argument `db`",
        ),
        (
            Call::parse("db.promote", &[("db", "dr-replica"), ("force", "yes")]),
            "db.promote: unexpected argument \"force\"; it takes: db",
        ),
        (
            Call::parse(
                "app.scale",
                &[("app", "api"), ("region", "dr"), ("replicas", "-1")],
            ),
            "app.scale: argument `replicas` = \"-1\" is not a whole number",
        ),
    ];
    for (c, want) in malformed {
        let e = c.expect_err(want);
        assert!(e.to_string().starts_with(want), "{e}");
    }
    let cases = [
        (
            call("db.promote", &[("db", "x")]),
            "unknown database \"x\"; known: primary, dr-replica",
        ),
        (
            call("backup.verify", &[("backup", "tapes")]),
            "unknown backup \"tapes\"",
        ),
        (
            call("secret.rotate", &[("region", "moon")]),
            "unknown region \"moon\"",
        ),
        (
            call("db.failover", &[("db", "primary")]),
            "db.failover: the simulator does not model Multi-AZ failover",
        ),
    ];
    let before = sim.sample();
    for (c, want) in cases {
        let e = sim.execute(&c, at(0)).expect_err(c.name());
        assert!(e.to_string().starts_with(want), "{e}");
    }
    assert_eq!(sim.sample(), before, "a refused call changes nothing");
}

// ---------------------------------------------------------------- the region-loss drill

#[test]
fn region_loss_recovery_ends_with_a_healthy_dr_region() {
    let mut sim = demo(13);
    sim.advance(at(H));
    let lag_at_fault = lag(&sim.sample(), "dr-replica");
    sim.inject(Fault::RegionLoss, at(H)).expect("region-loss");
    // The frozen window is read at once and never moves: (fault - lag at the fault, fault].
    let frozen = |s: &Sample| {
        let r = db(s, "dr-replica").replication.expect("replica");
        (
            r.loss_window_secs,
            r.source_lost_at,
            r.last_replayed_at,
            r.loss_window_bytes.is_some(),
            r.loss_evidence,
        )
    };
    let first = frozen(&sim.sample());
    let replayed = at(H) - TimeDelta::milliseconds((lag_at_fault * 1000.0).round() as i64);
    assert_eq!(
        first,
        (
            Some(lag_at_fault),
            Some(at(H)),
            Some(replayed),
            true,
            Some("simulator".to_string())
        )
    );
    sim.advance(at(H + 120));
    assert_eq!(frozen(&sim.sample()), first, "the window does not grow");
    // Monitoring's lag keeps growing (now minus the last replayed transaction), but the writes
    // the replica misses stopped growing when the primary died.
    let repl = sim
        .sample()
        .database("dr-replica")
        .and_then(|d| d.replication.clone())
        .expect("replica");
    assert!(repl.lag_secs.is_some_and(|l| l >= 120.0), "{repl:?}");
    let window = repl
        .loss_window_secs
        .expect("frozen window once the source died");
    assert!(window < 15.0, "{window}");
    let lines = sim
        .execute(&call("db.promote", &[("db", "dr-replica")]), at(H + 120))
        .expect("promote");
    assert!(!lines.join("\n").contains("split brain"));
    let loss = sim.data_loss_secs("dr-replica").expect("loss");
    assert!(
        (loss - window).abs() < 0.11,
        "promotion loses the frozen window: {loss} vs {window}"
    );
    sim.execute(
        &call(
            "app.scale",
            &[("app", "api"), ("region", "dr"), ("replicas", "3")],
        ),
        at(H + 180),
    )
    .expect("scale");
    sim.execute(
        &call("dns.point", &[("dns", "api"), ("region", "dr")]),
        at(H + 240),
    )
    .expect("dns");
    sim.advance(at(H + 300));
    let s = sim.sample();
    assert_eq!(s.region_verdict("dr"), Verdict::Healthy);
    assert_eq!(s.region_verdict("primary"), Verdict::Down);
    let r = db(&s, "dr-replica");
    assert_eq!((r.role, r.state), (DbRole::Primary, DbState::Available));
    assert_eq!(s.dns[0].target_region, "dr");
    assert_eq!(app(&s, "api", "dr").ready, 3);
    // Backups follow the new primary.
    let lines = sim
        .take_backup("snapshots", false, at(H + 300))
        .expect("snapshot");
    assert!(lines[0].contains("pynomaly-dr-replica"), "{lines:?}");
}

#[test]
fn sending_all_traffic_to_one_warm_pod_overloads_it() {
    let mut sim = demo(13);
    sim.inject(Fault::RegionLoss, at(H)).expect("region-loss");
    sim.promote("dr-replica", at(H + 60)).expect("promote");
    sim.point_dns("api", "dr", at(H + 120)).expect("dns");
    let mut degraded = 0;
    for secs in (130..=400).step_by(10) {
        sim.advance(at(H + secs));
        if sim.sample().region_verdict("dr") != Verdict::Healthy {
            degraded += 1;
        }
    }
    assert!(degraded > 3, "{degraded}");
    sim.scale_app("api", "dr", 3, at(H + 400)).expect("scale");
    sim.advance(at(H + 480));
    assert_eq!(sim.sample().region_verdict("dr"), Verdict::Healthy);
}

// ---------------------------------------------------------------- shape and cost

#[test]
fn the_sample_covers_the_environment() {
    let s = demo(1).sample();
    assert_eq!(s.at, t0());
    let names: Vec<_> = s.databases.iter().map(|d| d.name.as_str()).collect();
    assert_eq!(names, ["primary", "dr-replica"]);
    let p = db(&s, "primary");
    assert_eq!(
        (p.resource.as_str(), p.az.as_deref(), p.multi_az),
        ("pynomaly-prod", Some("us-west-2a"), true)
    );
    let r = db(&s, "dr-replica").replication.expect("replica");
    assert_eq!((r.source.as_str(), r.lag_alarm.secs()), ("primary", 300));
    assert_eq!(s.zones.len(), 5);
    assert_eq!(s.endpoints.len(), 2);
    assert_eq!(s.dns[0].record, "api.pynomaly.example");
    let apps: Vec<_> = s
        .apps
        .iter()
        .map(|a| (a.region.as_str(), a.ready))
        .collect();
    assert_eq!(apps, [("primary", 3), ("dr", 1)]);
    assert_eq!(s.security.len(), 2);
    assert!(demo(1).warnings().is_empty());
}

#[test]
fn another_environment_is_simulated_from_its_own_names() {
    let src = r#"
name = "lab"
objectives = { rto = "1h", rpo = "15m" }
[[regions]]
name = "east"
id = "eu-east-9"
role = "primary"
zones = ["e1", "e2"]
health = ["http://east/health", "http://east/ready"]
[[regions]]
name = "west"
id = "eu-west-9"
role = "dr"
[[databases]]
name = "main"
region = "east"
multi_az = true
[[databases]]
name = "standby"
region = "west"
replica_of = "main"
lag_alarm = "60s"
[[backups]]
name = "nightly"
kind = "pg_dump"
every = "24h"
sim = { at = "04:30" }
[[dns]]
name = "www"
record = "www.lab"
points_to = "east"
[[apps]]
name = "web"
replicas = { east = 2, west = 0 }
"#;
    let env = Environment::parse("lab.toml", src).expect("valid env");
    let mut sim = Sim::new(&env, 5, t0());
    let s = sim.sample();
    assert_eq!(
        s.zones.iter().map(|z| z.zone.as_str()).collect::<Vec<_>>(),
        ["e1", "e2", "eu-west-9a"]
    );
    assert_eq!(s.endpoints.len(), 2);
    assert_eq!(db(&s, "main").resource, "main");
    let nightly = s.backup("nightly").expect("nightly");
    let last = nightly.last_success.expect("history");
    assert_eq!((last.hour(), last.minute() >= 30), (4, true));
    assert_eq!(s.region_verdict("west"), Verdict::Healthy);
    sim.inject(Fault::AzLoss { zone: None }, at(60))
        .expect("az-loss");
    assert_eq!(db(&sim.sample(), "main").state, DbState::FailingOver);
    sim.advance(at(200));
    assert_eq!(db(&sim.sample(), "main").az.as_deref(), Some("e2"));
    sim.promote("standby", at(200)).expect("promote");
    sim.advance(at(260));
    assert_eq!(db(&sim.sample(), "standby").role, DbRole::Primary);
    let e = sim.promote("primary", at(260)).expect_err("demo name");
    assert_eq!(
        e.to_string(),
        "unknown database \"primary\"; known: main, standby"
    );
}

#[test]
fn a_simulated_day_is_cheap() {
    let mut sim = demo(1);
    let started = std::time::Instant::now();
    sim.advance(at(24 * H));
    let took = started.elapsed();
    assert!(
        took < std::time::Duration::from_secs(1),
        "a day took {took:?}"
    );
    assert_eq!(sim.now(), at(24 * H));
}

// ---------------------------------------------------------------- evidence at decisions

/// The picture the console decides on: every sample merged in, as the board does.
fn watched(sim: &mut Sim, picture: &mut Sample, secs: i64) {
    sim.advance(at(secs));
    picture.merge_from(&sim.sample());
}

fn evidence(picture: &Sample) -> crate::playbook::engine::Evidence {
    crate::playbook::engine::Evidence::from_sample(Some(picture), &Environment::demo(), picture.at)
}

#[test]
fn breach_evidence_keeps_the_signal_after_the_rotation_ends_it() {
    let mut sim = demo(4);
    let mut picture = Sample::default();
    watched(&mut sim, &mut picture, H);
    assert!(
        evidence(&picture)
            .regions
            .iter()
            .all(|r| r.security.is_none()),
        "a quiet region has no security evidence: {}",
        evidence(&picture).summary()
    );
    sim.inject(Fault::Breach, at(H)).expect("breach");
    for secs in [10, 60, 300] {
        watched(&mut sim, &mut picture, H + secs);
    }
    let during = evidence(&picture);
    let sec = during.regions[0]
        .security
        .clone()
        .expect("security evidence");
    assert!(
        sec.failed_auth_per_min >= 250 && sec.unusual_access,
        "{sec:?}"
    );
    assert!(
        during.summary().contains("primary security"),
        "{}",
        during.summary()
    );
    assert!(
        during.summary().contains("unusual access"),
        "{}",
        during.summary()
    );
    let peak = sec.peak_failed_auth_per_min;

    sim.execute(
        &call("secret.rotate", &[("region", "primary")]),
        at(H + 400),
    )
    .expect("rotate");
    for secs in [410, 700] {
        watched(&mut sim, &mut picture, H + secs);
    }
    let after = evidence(&picture);
    let sec = after.regions[0]
        .security
        .clone()
        .expect("kept after rotation");
    assert!(
        sec.failed_auth_per_min < FAILED_AUTH_SPIKE_PER_MIN,
        "{sec:?}"
    );
    assert!(!sec.unusual_access);
    assert_eq!(sec.peak_failed_auth_per_min, peak);
    assert!(
        sec.peak_at
            .is_some_and(|t| t >= at(H + 10) && t <= at(H + 300))
    );
    assert_eq!(sec.unusual_access_last_seen, Some(at(H + 300)));
    let text = after.summary();
    assert!(text.contains(&format!("peak {peak}/min at")), "{text}");
    assert!(text.contains("unusual access until 01:05:00"), "{text}");
}

#[test]
fn corruption_evidence_names_the_onset_and_the_tainted_backups() {
    let mut sim = demo(6);
    let mut picture = Sample::default();
    watched(&mut sim, &mut picture, H);
    sim.inject(Fault::Corruption, at(H)).expect("corruption");
    // Long enough for the 15-minute snapshots to take one after the onset.
    for secs in [60, 1200, 2400] {
        watched(&mut sim, &mut picture, H + secs);
    }
    let e = evidence(&picture);
    let primary = e
        .databases
        .iter()
        .find(|d| d.name == "primary")
        .expect("primary");
    let onset = primary.corrupt_since.expect("corrupt since");
    assert!(onset <= at(H + 60), "{onset}");
    let snapshots = e
        .backups
        .iter()
        .find(|b| b.name == "snapshots")
        .expect("snapshots");
    assert!(snapshots.tainted, "{snapshots:?}");
    let text = e.summary();
    assert!(
        text.contains(&format!("CORRUPT since {}", onset.format("%H:%M:%S"))),
        "{text}"
    );
    assert!(
        text.contains("snapshots OK, newer ones TAINTED, last good"),
        "{text}"
    );
}

#[test]
fn az_loss_evidence_names_the_lost_zone() {
    let mut sim = demo(2);
    let mut picture = Sample::default();
    watched(&mut sim, &mut picture, H);
    assert!(!evidence(&picture).summary().contains("down,"));
    sim.inject(Fault::AzLoss { zone: None }, at(H))
        .expect("az-loss");
    watched(&mut sim, &mut picture, H + 30);
    let e = evidence(&picture);
    let primary = &e.regions[0];
    let down: Vec<_> = primary.zones.iter().filter(|z| !z.up).collect();
    assert_eq!(down.len(), 1, "{:?}", primary.zones);
    let text = e.summary();
    assert!(
        text.contains(&format!("(zone {} down, 2 of 3 up)", down[0].zone)),
        "{text}"
    );
}

/// The corruption playbook's validation compares the restored tables with the backup's manifest:
/// the restore prints it, with the same numbers a verification of that backup shows.
#[test]
fn restore_prints_the_manifest_a_verification_of_the_backup_shows() {
    let mut sim = demo(12);
    sim.advance(at(H));
    let verified = sim
        .execute(&call("backup.verify", &[("backup", "snapshots")]), at(H))
        .expect("verify");
    let rows = verified[1]
        .strip_prefix("rows: ")
        .and_then(|r| r.strip_suffix(" (match the source at that point)"))
        .expect("rows line");
    let checksum = verified[2]
        .strip_prefix("checksum ")
        .and_then(|c| c.strip_suffix(" ok"))
        .expect("checksum line");
    let restored = sim
        .execute(
            &call("db.restore", &[("db", "primary"), ("backup", "snapshots")]),
            at(H),
        )
        .expect("restore");
    let manifest = restored
        .iter()
        .find(|l| l.starts_with("manifest of the snapshots backup taken"))
        .expect("manifest line");
    assert!(
        manifest.ends_with(&format!("rows {rows}; checksum {checksum}")),
        "{manifest}\nverified: {verified:?}"
    );
}

/// The demo with `from` replaced by `to` in its file.
fn demo_with(edits: &[(&str, &str)]) -> Environment {
    let mut src = crate::env::DEMO_TOML.to_string();
    for (from, to) in edits {
        assert!(src.contains(from), "{from}");
        src = src.replacen(from, to, 1);
    }
    Environment::parse("<test>", &src).expect("valid environment")
}

#[test]
fn an_environment_can_start_with_a_broken_link_and_broken_backups() {
    let env = demo_with(&[
        (
            "sim = { resource = \"pynomaly-dr-replica\" }",
            "sim = { resource = \"pynomaly-dr-replica\", broken_for = \"10m\" }",
        ),
        (
            "every = \"15m\"\nsim = {}",
            "every = \"15m\"\nsim = { failing_for = \"1h\" }",
        ),
        (
            "sim = { at = \"01:00\" }",
            "sim = { at = \"01:00\", stopped_for = \"3d\" }",
        ),
    ]);
    let mut sim = Sim::new(&env, 1, t0());
    let s = sim.sample();
    let r = db(&s, "dr-replica").replication.expect("a replica");
    assert_eq!(r.state, ReplicationState::Broken);
    assert!(r.lag_secs.is_some_and(|l| l >= 600.0), "{r:?}");
    // The source still answers: nothing is frozen, the lag keeps growing.
    assert_eq!(r.loss_window_secs, None);
    sim.advance(at(60));
    assert!(lag(&sim.sample(), "dr-replica") >= 660.0);
    let now = sim.now();
    let s = sim.sample();
    let snapshots = s.backup("snapshots").expect("series");
    assert_eq!(snapshots.status(now), BackupStatus::Failed);
    assert!(snapshots.age_secs(now).is_some_and(|a| a >= 3600));
    // Stopped for longer than the made-up history: never a success.
    let config = s.backup("config").expect("series");
    assert_eq!(config.last_success, None);
    assert_eq!(config.status(now), BackupStatus::Overdue);
    // The others are as ever.
    assert_eq!(
        s.backup("daily-dump").expect("series").status(now),
        BackupStatus::Ok
    );
}

#[test]
fn an_environment_can_start_with_zones_down() {
    let env = demo_with(&[(
        "zones = [\"us-east-1a\", \"us-east-1b\"]",
        "zones = [\"us-east-1a\", \"us-east-1b\"]\nsim = { zones_down = [\"us-east-1a\", \"us-east-1b\"] }",
    )]);
    let sim = Sim::new(&env, 1, t0());
    let s = sim.sample();
    assert_eq!(s.region_verdict("dr"), Verdict::Down);
    assert!(endpoint(&s, "dr").is_down(), "{:?}", endpoint(&s, "dr"));
    assert_eq!(db(&s, "dr-replica").state, DbState::Unreachable);
    assert_eq!(s.region_verdict("primary"), Verdict::Healthy);
    // One zone of the primary: the Multi-AZ primary fails over, the region is degraded.
    let env = demo_with(&[(
        "zones = [\"us-west-2a\", \"us-west-2b\", \"us-west-2c\"]",
        "zones = [\"us-west-2a\", \"us-west-2b\", \"us-west-2c\"]\nsim = { zones_down = [\"us-west-2a\"] }",
    )]);
    let s = Sim::new(&env, 1, t0()).sample();
    assert_eq!(s.region_verdict("primary"), Verdict::Degraded);
    assert_eq!(db(&s, "primary").state, DbState::FailingOver);
    // Without conditions the simulation is the demo's, draw for draw.
    let plain = demo_with(&[]);
    assert_eq!(
        format!("{:?}", Sim::new(&plain, 1, t0()).sample()),
        format!("{:?}", demo(1).sample())
    );
}
