//! A real primary + standby (started by the test in /tmp, on unix sockets): lag under write load,
//! lag growing while replay is paused, an abruptly stopped primary shown as down, promotion.

mod common_pg;

use std::time::{Duration, Instant};

use common_pg::{TestLab, postgres_or_skip};
use warroom::actions::postgres::PostgresBackend;
use warroom::actions::{ActionBackend, Call};
use warroom::lab::{self, LabFault};
use warroom::telemetry::postgres::PostgresSource;
use warroom::telemetry::{DatabaseReading, DbRole, DbState, ReplicationState, Source};

fn source(lab: &TestLab, name: &str) -> PostgresSource {
    let db = lab.env.database(name).expect("database in the lab env");
    PostgresSource::new(db, &lab.env).expect("source")
}

async fn read(src: &mut PostgresSource) -> DatabaseReading {
    let sample = tokio::time::timeout(src.timeout(), src.poll())
        .await
        .expect("poll within the source's timeout")
        .expect("a postgres poll reports a reading, never an error");
    assert_eq!(sample.databases.len(), 1);
    sample.databases[0].clone()
}

fn call(name: &str, args: &[(&str, &str)]) -> Call {
    Call::parse(name, args).expect("a valid call")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_is_reported_under_write_load() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("lag").await;
    let mut replica = source(&lab, "dr-replica");
    let mut primary = source(&lab, "primary");

    let idle = read(&mut replica).await;
    let r = idle.replication.clone().expect("replication on a replica");
    assert_eq!(
        (idle.role, idle.state),
        (DbRole::Replica, DbState::Available)
    );
    assert_eq!(r.state, ReplicationState::Streaming);
    assert_eq!(r.source, "primary");
    // Idle: NULL lag columns upstream mean caught up, not unknown.
    assert_eq!(r.lag_secs, Some(0.0), "{r:?}");

    let p = read(&mut primary).await;
    assert_eq!(
        (p.role, p.state, p.replication),
        (DbRole::Primary, DbState::Available, None)
    );

    // One replayed transaction first: a standby measures its lag from the last one it replayed
    // (right after it starts there is none, and the lag is unknown while it is behind).
    lab::load(lab.dir(), "primary", 1, 100, &|_| {})
        .await
        .expect("warm-up write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    // Back-to-back inserts of 20 000 rows (about 3 MB of WAL each) for 4 s: the standby replays
    // continuously, so polls land while it is behind.
    let target = lab.state.target("primary").expect("target");
    let writer = tokio::spawn(async move {
        let c = target.connect().await?;
        let end = Instant::now() + Duration::from_secs(4);
        let mut rows = 0u64;
        while Instant::now() < end {
            rows += c
                .execute(
                    "INSERT INTO orders (customer_id, amount, note) \
                     SELECT 1 + g % 1000, 1.5, md5(g::text) FROM generate_series(1, 20000) g",
                    &[],
                )
                .await
                .map_err(|e| e.to_string())?;
        }
        Ok::<u64, String>(rows)
    });
    let mut readings = Vec::new();
    let started = Instant::now();
    while !writer.is_finished() && started.elapsed() < Duration::from_secs(10) {
        readings.push(read(&mut replica).await);
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    let rows = writer.await.expect("writer task").expect("load");
    assert!(rows > 20_000, "the load wrote only {rows} rows");
    assert!(readings.len() >= 5, "{} readings", readings.len());
    for d in &readings {
        let r = d.replication.as_ref().expect("replication");
        assert_eq!(r.state, ReplicationState::Streaming, "{d:?}");
        assert!(
            r.lag_secs.is_some_and(|l| (0.0..30.0).contains(&l)),
            "{d:?}"
        );
        assert!(r.lag_bytes.is_some(), "{d:?}");
    }
    let behind = readings
        .iter()
        .filter(|d| {
            d.replication
                .as_ref()
                .is_some_and(|r| r.lag_bytes.unwrap_or(0) > 0 || r.lag_secs.unwrap_or(0.0) > 0.0)
        })
        .count();
    let max_lag = readings
        .iter()
        .filter_map(|d| d.replication.as_ref().and_then(|r| r.lag_secs))
        .fold(0.0, f64::max);
    let max_bytes = readings
        .iter()
        .filter_map(|d| d.replication.as_ref().and_then(|r| r.lag_bytes))
        .max()
        .unwrap_or(0);
    println!(
        "{behind} of {} readings saw the standby behind (max {max_lag} s, {max_bytes} bytes)",
        readings.len()
    );
    assert!(
        behind * 4 > readings.len(),
        "under continuous writes most readings should see the standby behind: {readings:?}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn lag_grows_while_replay_is_paused() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("pause").await;
    let mut replica = source(&lab, "dr-replica");
    lab::fault(lab.dir(), LabFault::ReplayPause)
        .await
        .expect("pause");
    let dir = lab.dir().to_path_buf();
    let writer = tokio::spawn(async move { lab::load(&dir, "primary", 4, 5_000, &|_| {}).await });
    tokio::time::sleep(Duration::from_secs(1)).await;
    let first = read(&mut replica).await;
    tokio::time::sleep(Duration::from_secs(2)).await;
    let second = read(&mut replica).await;
    writer.await.expect("writer").expect("load");
    let (a, b) = (
        first.replication.expect("replication"),
        second.replication.expect("replication"),
    );
    assert_eq!(
        (a.state, b.state),
        (ReplicationState::Paused, ReplicationState::Paused)
    );
    let (la, lb) = (a.lag_secs.expect("lag"), b.lag_secs.expect("lag"));
    assert!(
        lb >= la + 1.5,
        "lag should grow ~1 s per second while paused: {la} then {lb}"
    );
    assert!(
        b.lag_bytes.unwrap_or(0) > a.lag_bytes.unwrap_or(0) && b.lag_bytes.unwrap_or(0) > 100_000,
        "WAL should pile up: {:?} then {:?}",
        a.lag_bytes,
        b.lag_bytes
    );

    lab::fault(lab.dir(), LabFault::ReplayResume)
        .await
        .expect("resume");
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let r = read(&mut replica).await.replication.expect("replication");
        if r.state == ReplicationState::Streaming && r.lag_secs.is_some_and(|l| l < 1.0) {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "did not catch up after resume: {r:?}"
        );
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_abruptly_stopped_primary_shows_down_within_three_polls() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("down").await;
    let mut primary = source(&lab, "primary");
    let mut replica = source(&lab, "dr-replica");
    // A transaction the standby replays: its lag is measured from the last one.
    lab::load(lab.dir(), "primary", 1, 100, &|_| {})
        .await
        .expect("write");
    tokio::time::sleep(Duration::from_millis(300)).await;
    assert_eq!(read(&mut primary).await.state, DbState::Available);
    assert_eq!(
        read(&mut replica).await.replication.map(|r| r.state),
        Some(ReplicationState::Streaming)
    );

    lab::fault(lab.dir(), LabFault::RegionLoss)
        .await
        .expect("region loss");
    let mut polls = 0;
    let started = Instant::now();
    let down = loop {
        polls += 1;
        let d = read(&mut primary).await;
        if d.state == DbState::Unreachable || polls == 3 {
            break d;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(down.state, DbState::Unreachable, "after {polls} polls");
    assert_eq!(down.role, DbRole::Primary, "the last known role is kept");
    assert!(started.elapsed() < Duration::from_secs(10));

    // The standby sees its source gone: replication broken, lag still reported.
    let mut polls = 0;
    let broken = loop {
        polls += 1;
        let r = read(&mut replica).await.replication.expect("replication");
        if r.state == ReplicationState::Broken || polls == 3 {
            break r;
        }
        tokio::time::sleep(Duration::from_secs(1)).await;
    };
    assert_eq!(
        broken.state,
        ReplicationState::Broken,
        "after {polls} polls"
    );
    assert!(broken.lag_secs.is_some(), "{broken:?}");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn promote_makes_the_standby_writable_without_losing_committed_rows() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("promote").await;
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    let promote = call("db.promote", &[("db", "dr-replica")]);
    let described = backend.describe(&promote);
    assert!(
        described.starts_with("SELECT pg_promote() on dr-replica (host=")
            && described.contains("port=5433")
            && !described.contains("password"),
        "{described}"
    );

    let primary = lab
        .state
        .target("primary")
        .expect("target")
        .connect()
        .await
        .expect("connect");
    primary
        .batch_execute(
            "INSERT INTO customers (id, name) VALUES (424242, 'committed before the crash')",
        )
        .await
        .expect("insert");
    // Committed on the primary; give streaming a moment, as the writes of a real workload get.
    tokio::time::sleep(Duration::from_millis(500)).await;
    drop(primary);
    lab::fault(lab.dir(), LabFault::RegionLoss)
        .await
        .expect("region loss");

    let lines = std::sync::Mutex::new(Vec::new());
    let out = backend
        .execute(&promote, &|l| lines.lock().expect("lock").push(l))
        .await
        .expect("promote");
    println!("{}", out.join("\n"));
    assert!(out[0].contains("dr-replica promoted in"), "{out:?}");
    assert!(!lines.lock().expect("lock").is_empty());

    let replica = lab
        .state
        .target("dr-replica")
        .expect("target")
        .connect()
        .await
        .expect("connect");
    let row = replica
        .query_one(
            "SELECT pg_is_in_recovery(), (SELECT name FROM customers WHERE id = 424242)",
            &[],
        )
        .await
        .expect("query");
    assert!(!row.get::<_, bool>(0), "still in recovery");
    assert_eq!(
        row.get::<_, Option<String>>(1).as_deref(),
        Some("committed before the crash")
    );
    replica
        .batch_execute("INSERT INTO orders (customer_id, amount) VALUES (1, 9.99)")
        .await
        .expect("the promoted standby accepts writes");

    let mut src = source(&lab, "dr-replica");
    let d = read(&mut src).await;
    assert_eq!((d.role, d.state), (DbRole::Primary, DbState::Available));
    assert_eq!(
        d.replication.map(|r| r.state),
        Some(ReplicationState::Promoted)
    );

    let again = backend
        .execute(&promote, &|_| {})
        .await
        .expect_err("already promoted")
        .to_string();
    assert!(again.contains("not in recovery"), "{again}");
}
