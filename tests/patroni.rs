//! A real two-node Patroni cluster on loopback (Patroni's own raft store, PostgreSQL 15), started
//! and stopped by the test: the Patroni source reads each member's role, timeline, lag (bytes and
//! time) and the pause state; `db.promote` through the router makes the replica the leader
//! (`POST /failover`), verified by the `role = "primary"` wait against the source's reading.
//!
//! Needs `patroni` (PyPI, with the `raft` and `psycopg2-binary` extras): `WARROOM_PATRONI` names
//! the program, else `patroni` on `PATH`. Without it the test prints `skipped: ...`; under `CI` it
//! fails. As root, the members run as the `postgres` OS user (PostgreSQL refuses root).

mod common_patroni;

use std::time::{Duration, Instant};

use common_patroni::{cluster_status, patroni_program, skip, start_cluster};
use warroom::actions::{ActionError, Call};
use warroom::env::{Binding, Environment, NameKind};
use warroom::playbook::Condition;
use warroom::telemetry::patroni::PatroniSource;
use warroom::telemetry::{DbRole, Source};

/// Polls `source` (30 s) until `pred` holds on its sample.
async fn poll_until(
    source: &mut PatroniSource,
    what: &str,
    pred: Box<dyn Fn(&warroom::telemetry::Sample) -> bool>,
) -> warroom::telemetry::Sample {
    let deadline = Instant::now() + Duration::from_secs(30);
    loop {
        let s = source.poll().await.expect("reads");
        if pred(&s) {
            return s;
        }
        assert!(Instant::now() < deadline, "{what}: {:?}", s.databases[0]);
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_promotion_through_patroni_makes_the_replica_the_leader() {
    let Some(program) = patroni_program() else {
        skip("patroni not installed (pip install 'patroni[raft,psycopg2-binary]')");
        return;
    };
    let Ok(bin_dir) = warroom::lab::server_bin_dir() else {
        skip("PostgreSQL not installed");
        return;
    };
    let cluster = start_cluster(&program, &bin_dir, "promote");
    let client = warroom::telemetry::http::client().expect("client");
    // Bootstrap: one leader, one streaming replica.
    let (leader, replica) = cluster.bootstrapped(&client).await;
    let api = |name: &str| cluster.member(name).api.clone();
    let env = Environment::parse(
        "patroni.toml",
        &common_patroni::env_toml(&api(&leader), &api(&replica)),
    )
    .expect("env");
    assert_eq!(
        env.binding(NameKind::Database, "dr-replica"),
        Some(Binding::Patroni)
    );
    let source_of =
        |name: &str| PatroniSource::new(env.database(name).expect("db"), &env).expect("source");
    let (mut primary, mut standby) = (source_of("primary"), source_of("dr-replica"));
    let p = primary.poll().await.expect("primary reads");
    let r = standby.poll().await.expect("replica reads");
    let (p, r) = (&p.databases[0], &r.databases[0]);
    assert_eq!(p.role, DbRole::Primary);
    assert_eq!(p.resource, format!("{leader} · timeline 1"));
    assert_eq!(p.failover_paused, Some(false));
    assert_eq!(r.role, DbRole::Replica);
    assert_eq!(r.resource, format!("{replica} · timeline 1"));
    let repl = r.replication.as_ref().expect("replication");
    assert!(repl.lag_bytes.is_some(), "lag from /cluster: {repl:?}");

    // Lag in time, so `lag_under` waits can hold: 0 when caught up, else the age of the last
    // replayed transaction. One transaction replayed first (its time is the reference).
    // One transaction: the table appears on the replica with its row.
    cluster.sql(
        &leader,
        "CREATE TABLE lagtest (x int); INSERT INTO lagtest VALUES (1)",
    );
    let caught_up = Condition::DbLagUnder {
        db: "dr-replica".into(),
        under: warroom::duration::Dur::from_secs(1),
    };
    let held = caught_up.clone();
    let s = poll_until(
        &mut standby,
        "caught up",
        Box::new(move |s| held.observe(s, s.at).met),
    )
    .await;
    assert_eq!(
        s.databases[0].replication.as_ref().and_then(|r| r.lag_secs),
        Some(0.0)
    );
    // Promote through the router, as the console would.
    let wire = warroom::backends::WireOptions {
        seed: 1,
        clock: warroom::clock::SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0),
        endpoint_url: None,
    };
    let backend = warroom::backends::action_backend(&env, &wire).expect("backend");

    // ha.pause through the router: PATCH /config, read back; the reading says paused.
    let pause = Call::parse("ha.pause", &[("db", "dr-replica")]).expect("call");
    assert_eq!(backend.unsupported(&pause), None);
    assert!(
        backend
            .describe(&pause)
            .starts_with(&format!("PATCH {}/config", api(&replica))),
        "{}",
        backend.describe(&pause)
    );
    let lines = backend.execute(&pause, &|_| {}).await.expect("paused");
    println!("ha.pause: {}", lines[0]);
    assert!(lines[0].contains("automatic failover paused"), "{lines:?}");
    assert!(cluster.paused(&client, &leader).await, "the whole cluster");
    poll_until(
        &mut standby,
        "pause read",
        Box::new(|s| {
            s.databases[0].failover_paused == Some(true)
                && s.databases[0].resource.ends_with("AUTO-FAILOVER PAUSED")
        }),
    )
    .await;

    // Replay paused on the replica while the leader writes (Patroni resumes a paused replay on
    // PostgreSQL 14+ unless the cluster is paused, as it is now): the lag grows in time.
    // The replica has replayed the first row (its commit is the last replayed transaction).
    let deadline = Instant::now() + Duration::from_secs(30);
    while cluster.sql(
        &replica,
        "SELECT count(*) FROM pg_class WHERE relname = 'lagtest'",
    ) != "1"
    {
        assert!(Instant::now() < deadline, "the row never reached {replica}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    cluster.sql(&replica, "SELECT pg_wal_replay_pause()");
    cluster.sql(&leader, "INSERT INTO lagtest VALUES (2)");
    let s = poll_until(
        &mut standby,
        "lag in time grows past 2 s",
        Box::new(|s| {
            s.databases[0]
                .replication
                .as_ref()
                .and_then(|r| r.lag_secs)
                .is_some_and(|l| l > 2.0)
        }),
    )
    .await;
    let lag = caught_up.observe(&s, s.at);
    assert!(!lag.met, "a 1 s bound does not hold: {}", lag.observed);
    cluster.sql(&replica, "SELECT pg_wal_replay_resume()");
    let held = caught_up.clone();
    poll_until(
        &mut standby,
        "caught up after the replay resumed",
        Box::new(move |s| held.observe(s, s.at).met),
    )
    .await;

    let promote = Call::parse("db.promote", &[("db", "dr-replica")]).expect("call");
    assert_eq!(backend.unsupported(&promote), None);
    assert!(
        backend
            .describe(&promote)
            .starts_with(&format!("POST {}/failover", api(&replica))),
        "{}",
        backend.describe(&promote)
    );
    let lines = backend.execute(&promote, &|_| {}).await.expect("promoted");
    println!("db.promote: {}", lines[0]);
    assert!(
        lines[0].contains("is the leader on timeline 2"),
        "{lines:?}"
    );
    // The wait of the region-loss playbook's promote step holds on the source's reading.
    let wait = Condition::DbRole {
        db: "dr-replica".into(),
        role: DbRole::Primary,
    };
    let after = standby.poll().await.expect("reads");
    assert!(wait.observe(&after, after.at).met, "{:?}", after.databases);
    assert!(
        after.databases[0]
            .resource
            .starts_with(&format!("{replica} · timeline 2")),
        "{:?}",
        after.databases[0]
    );
    // A planned hand-over back (db.failover: POST /switchover from the healthy leader).
    let back = Call::parse("db.failover", &[("db", "primary")]).expect("call");
    assert!(
        backend
            .describe(&back)
            .starts_with(&format!("POST {}/switchover", api(&leader))),
        "{}",
        backend.describe(&back)
    );
    // The old leader rejoins as a replica first; Patroni refuses a switchover to a member that
    // is not streaming yet, so wait for that.
    let deadline = Instant::now() + Duration::from_secs(60);
    loop {
        let s = cluster_status(&client, &api(&leader)).await;
        if s.is_some_and(|s| {
            s.members
                .iter()
                .any(|m| m.name == leader && m.state == "streaming")
        }) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "{leader} never rejoined as a replica"
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    let lines = backend
        .execute(&back, &|_| {})
        .await
        .expect("switched over");
    println!("db.failover: {}", lines[0]);
    assert!(
        lines[0].contains("is the leader on timeline 3"),
        "{lines:?}"
    );
    let p = primary.poll().await.expect("reads");
    assert_eq!(p.databases[0].role, DbRole::Primary);
    // Promoting the leader is refused before anything is called (typed: nothing changed).
    let again = Call::parse("db.promote", &[("db", "primary")]).expect("call");
    let err = backend
        .execute(&again, &|_| {})
        .await
        .expect_err("already the leader");
    assert!(
        matches!(&err, ActionError::Refused { action: "db.promote", why } if why.contains("is already the leader")),
        "{err:?}"
    );
    // ha.resume: automatic failover on again, on every member.
    let resume = Call::parse("ha.resume", &[("db", "primary")]).expect("call");
    let lines = backend.execute(&resume, &|_| {}).await.expect("resumed");
    println!("ha.resume: {}", lines[0]);
    assert!(lines[0].contains("on again"), "{lines:?}");
    assert!(!cluster.paused(&client, &replica).await);
    assert_eq!(
        p.databases[0].failover_paused,
        Some(true),
        "read while paused"
    );
    let p = primary.poll().await.expect("reads");
    assert_eq!(p.databases[0].failover_paused, Some(false));
    // Other actions are not Patroni's.
    let read_only = Call::parse("db.read_only", &[("db", "primary")]).expect("call");
    assert!(
        backend
            .unsupported(&read_only)
            .is_some_and(|w| w.contains("not run through Patroni"))
    );
}
