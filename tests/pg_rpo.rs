//! Issue 14's acceptance test on a real PostgreSQL lab: the RPO of promoting a standby whose
//! primary is gone, measured from WAL positions, against the rows actually lost.
//!
//! Continuous writes on the primary (one row per commit, numbered); the standby's replay paused
//! (a backlog it received but has not replayed: a promotion replays it, so it is *not* lost);
//! then the link cut (writes it never receives: lost); then `lab fault region-loss`. The
//! telemetry reads the frozen window, the standby is promoted, and the old primary is restarted
//! on a copy of its data directory to count the rows the promoted standby lacks. The reported
//! window must cover exactly those rows: its bytes are the old primary's end of WAL minus the
//! promoted standby's timeline switch point, its times bound the lost rows' commit timestamps.

mod common_pg;

use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use common_pg::{TestLab, postgres_or_skip};
use warroom::actions::ActionBackend;
use warroom::actions::postgres::PostgresBackend;
use warroom::lab::{self, LabFault, LabState};
use warroom::telemetry::postgres::PostgresSource;
use warroom::telemetry::postgres::wal::{self, Lsn};
use warroom::telemetry::{Replication, ReplicationState, Source};

/// The lab's poll interval (`poll = "1s"` in its environment).
const POLL: Duration = Duration::from_secs(1);
/// `XLOG_BLCKSZ`: a WAL page.
const WAL_PAGE: u64 = 8192;

/// A server program as the lab's OS user.
fn pg(state: &LabState, program: &str) -> Command {
    let path = state.bin_dir.join(program);
    match &state.os_user {
        Some(user) => {
            let mut c = Command::new("runuser");
            c.arg("-u").arg(user).arg("--").arg(path);
            c
        }
        None => Command::new(path),
    }
}

/// A server started on a copy of a data directory, stopped (immediately) when dropped.
struct CopyServer {
    state: LabState,
    data: PathBuf,
}

impl Drop for CopyServer {
    fn drop(&mut self) {
        let _ = pg(&self.state, "pg_ctl")
            .args(["-m", "immediate", "-w", "-t", "20", "stop", "-D"])
            .arg(&self.data)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .status();
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// A unix-socket port of the lab's socket directory that no server uses.
fn free_socket_port(run: &Path) -> u16 {
    (5440..5500)
        .find(|p| !run.join(format!(".s.PGSQL.{p}")).exists())
        .expect("a free socket port")
}

fn micros(t: DateTime<Utc>) -> i64 {
    t.timestamp_micros()
}

async fn rows_with_commit_times(
    client: &tokio_postgres::Client,
) -> BTreeMap<i64, Option<DateTime<Utc>>> {
    client
        .query(
            "SELECT seq, (EXTRACT(EPOCH FROM pg_xact_commit_timestamp(xmin)) * 1000000)::int8 \
             FROM rpo_probe",
            &[],
        )
        .await
        .expect("read rpo_probe")
        .iter()
        .map(|r| {
            let us: Option<i64> = r.get(1);
            (
                r.get::<_, i64>(0),
                us.and_then(DateTime::from_timestamp_micros),
            )
        })
        .collect()
}

async fn read(src: &mut PostgresSource) -> Replication {
    let timeout = src.timeout();
    tokio::time::timeout(timeout, src.poll())
        .await
        .expect("poll within the source's timeout")
        .expect("a reading")
        .databases[0]
        .replication
        .clone()
        .expect("replication on the standby")
}

async fn one_lsn(client: &tokio_postgres::Client, sql: &str) -> Lsn {
    let text: String = client.query_one(sql, &[]).await.expect(sql).get(0);
    Lsn::parse(&text).expect("an LSN")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn region_loss_rpo_covers_exactly_the_rows_the_promoted_standby_lacks() {
    if !postgres_or_skip() {
        return;
    }
    let test_started = Instant::now();
    let lab = TestLab::up("rpo").await;
    let state = lab.state.clone();
    let primary = state.target("primary").expect("target");
    let replica = state.target("dr-replica").expect("target");
    let admin = primary.connect().await.expect("connect primary");
    admin
        .batch_execute(
            "CREATE TABLE rpo_probe (seq bigint PRIMARY KEY, \
             written_at timestamptz NOT NULL DEFAULT clock_timestamp())",
        )
        .await
        .expect("create rpo_probe");
    let standby = replica.connect().await.expect("connect standby");
    let deadline = Instant::now() + Duration::from_secs(20);
    while standby
        .query_one("SELECT to_regclass('rpo_probe') IS NOT NULL", &[])
        .await
        .map(|r| !r.get::<_, bool>(0))
        .unwrap_or(true)
    {
        assert!(
            Instant::now() < deadline,
            "rpo_probe never reached the standby"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    }

    // Continuous writes: one row per commit, numbered; runs until the primary dies.
    let stop = Arc::new(AtomicBool::new(false));
    let writer = {
        let stop = stop.clone();
        let target = primary.clone();
        tokio::spawn(async move {
            let c = target.connect().await.expect("writer connects");
            let mut acked: i64 = 0;
            while !stop.load(Ordering::SeqCst) {
                let seq = acked + 1;
                match c
                    .execute("INSERT INTO rpo_probe (seq) VALUES ($1)", &[&seq])
                    .await
                {
                    Ok(_) => acked = seq,
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(4)).await;
            }
            acked
        })
    };
    let mut source = PostgresSource::new(
        lab.env.database("dr-replica").expect("dr-replica"),
        &lab.env,
    )
    .expect("source");
    tokio::time::sleep(Duration::from_millis(800)).await;
    assert_eq!(read(&mut source).await.state, ReplicationState::Streaming);

    // 1. Replay paused: the standby keeps receiving WAL it does not replay.
    standby
        .batch_execute("SELECT pg_wal_replay_pause()")
        .await
        .expect("pause replay");
    tokio::time::sleep(Duration::from_millis(1200)).await;
    // 2. The link cut: the primary refuses the standby and drops its connection; what the
    //    primary commits from now on never reaches it.
    let hba = state.dir.join("primary").join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).expect("pg_hba.conf");
    std::fs::write(&hba, format!("local replication all reject\n{old}")).expect("pg_hba.conf");
    admin
        .batch_execute(
            "SELECT pg_reload_conf(); \
             SELECT pg_terminate_backend(pid) FROM pg_stat_replication",
        )
        .await
        .expect("cut the link");
    tokio::time::sleep(Duration::from_millis(700)).await;
    // A segment switch in the middle of the lost writes: the archive holds their first part only.
    let switched: String = admin
        .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
        .await
        .expect("pg_switch_wal")
        .get(0);
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let archived: Option<String> = admin
            .query_one("SELECT last_archived_wal FROM pg_stat_archiver", &[])
            .await
            .expect("pg_stat_archiver")
            .get(0);
        if archived.as_deref() >= Some(switched.as_str()) {
            break;
        }
        assert!(Instant::now() < deadline, "{switched} never archived");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_millis(800)).await;
    // 3. Region loss.
    drop(admin);
    let fault = lab::fault(lab.dir(), LabFault::RegionLoss)
        .await
        .expect("region loss");
    println!("fault: {fault}");
    stop.store(true, Ordering::SeqCst);
    let acked = writer.await.expect("writer");
    let paused_replay = one_lsn(&standby, "SELECT pg_last_wal_replay_lsn()::text").await;
    let received = one_lsn(&standby, "SELECT pg_last_wal_receive_lsn()::text").await;
    println!(
        "rows acknowledged by the primary: {acked}; standby replayed {paused_replay}, received {received}"
    );
    assert!(
        received > paused_replay,
        "the paused standby should hold a received but unreplayed backlog"
    );

    // The telemetry reads the frozen window once the source is gone.
    let deadline = Instant::now() + Duration::from_secs(40);
    let reading: Replication = loop {
        let r = read(&mut source).await;
        if r.state == ReplicationState::Broken
            && (r.loss_window_bytes.is_some()
                || r.loss_evidence
                    .as_deref()
                    .is_some_and(|e| e.contains("could not be read")))
        {
            break r;
        }
        assert!(Instant::now() < deadline, "no measured window: {r:#?}");
        tokio::time::sleep(POLL).await;
    };
    println!("reading: {reading:#?}");
    let bytes = reading
        .loss_window_bytes
        .unwrap_or_else(|| panic!("not measured: {:?}", reading.loss_evidence));
    let r_at = reading.last_replayed_at.expect("R");
    let s_at = reading.source_lost_at.expect("S");
    let evidence = reading.loss_evidence.clone().expect("evidence");
    assert!(
        evidence.contains("WAL of the old primary")
            && evidence.contains(
                &state
                    .dir
                    .join("primary")
                    .join("pg_wal")
                    .display()
                    .to_string()
            ),
        "{evidence}"
    );
    let secs = reading.loss_window_secs.expect("seconds");
    assert!(
        (secs - (micros(s_at) - micros(r_at)) as f64 / 1e6).abs() < 1e-6,
        "{secs} vs {s_at} - {r_at}"
    );
    // The same from the WAL archive alone: a lower bound, ending where the archive ends.
    let position = wal::read_position(&standby, true)
        .await
        .expect("standby position");
    let from_archive = wal::measure(
        &wal::SourceWal {
            name: "primary".to_string(),
            data_dir: None,
            wal_archive: Some(state.dir.join("wal-archive")),
            bin_dir: Some(state.bin_dir.clone()),
        },
        &position,
    )
    .await
    .expect("measured from the archive");
    println!("from the archive alone: {from_archive:#?}");
    assert_eq!(from_archive.kind, wal::EvidenceKind::Archive);
    assert!(
        from_archive.evidence.contains("archived segments only"),
        "{}",
        from_archive.evidence
    );
    assert_eq!(from_archive.last_replayed_at, Some(r_at));
    assert!(from_archive.source_lost_at < Some(s_at));
    assert_eq!(
        from_archive.source_end_lsn.0 % (1 << 20),
        0,
        "ends at the switched segment's end"
    );
    assert!(from_archive.bytes() < bytes && from_archive.lost_commits > 0);

    // Frozen: a later poll says the same.
    tokio::time::sleep(POLL).await;
    let again = read(&mut source).await;
    assert_eq!(
        (
            again.loss_window_bytes,
            again.last_replayed_at,
            again.source_lost_at
        ),
        (Some(bytes), Some(r_at), Some(s_at)),
        "the window does not move with the wall clock"
    );

    // Promote.
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    let promote = warroom::actions::ActionCall {
        name: "db.promote".into(),
        args: BTreeMap::from([("db".to_string(), "dr-replica".to_string())]),
    }
    .typed()
    .expect("a valid call");
    let out = backend.execute(&promote, &|_| {}).await.expect("promote");
    println!("{}", out.join("\n"));
    drop(standby);
    let promoted = replica.connect().await.expect("connect promoted");
    let final_replay_at: Option<i64> = promoted
        .query_one(
            "SELECT (EXTRACT(EPOCH FROM pg_last_xact_replay_timestamp()) * 1000000)::int8",
            &[],
        )
        .await
        .expect("replay timestamp")
        .get(0);
    // Where the promoted standby's new timeline forks from the old one: the end of the WAL it
    // kept from the old primary.
    let history = std::fs::read_to_string(
        state
            .dir
            .join("dr-replica")
            .join("pg_wal")
            .join("00000002.history"),
    )
    .expect("timeline history of the promoted standby");
    let switch_point = history
        .lines()
        .find_map(|l| Lsn::parse(l.split_whitespace().nth(1)?))
        .expect("switch point in the history file");
    assert!(
        switch_point > paused_replay,
        "the promotion replayed the received backlog ({paused_replay} -> {switch_point})"
    );
    let kept = rows_with_commit_times(&promoted).await;

    // The old primary, restarted on a copy of its data directory.
    let copy = state.dir.join("old-primary-copy");
    let status = Command::new("cp")
        .arg("-a")
        .arg(state.dir.join("primary"))
        .arg(&copy)
        .status()
        .expect("cp");
    assert!(status.success());
    let _ = std::fs::remove_file(copy.join("postmaster.pid"));
    let port = free_socket_port(&state.socket_dir());
    let log = state.dir.join("logs").join("old-primary-copy.log");
    let _copy_server = CopyServer {
        state: state.clone(),
        data: copy.clone(),
    };
    let started = pg(&state, "pg_ctl")
        .arg("-D")
        .arg(&copy)
        .arg("-l")
        .arg(&log)
        .args(["-w", "-t", "60", "-o"])
        .arg(format!(
            "-p {port} -c archive_mode=off -c listen_addresses='' -c unix_socket_directories={}",
            state.socket_dir().display()
        ))
        .arg("start")
        .output()
        .expect("pg_ctl start");
    assert!(
        started.status.success(),
        "copy did not start: {}{}",
        String::from_utf8_lossy(&started.stderr),
        std::fs::read_to_string(&log).unwrap_or_default()
    );
    let old = warroom::telemetry::postgres::PgTarget::from_dsn(
        "old-primary-copy",
        &format!(
            "host={} port={port} dbname=app user={}",
            state.socket_dir().display(),
            state.db_user
        ),
        warroom::duration::Dur::from_secs(3),
    )
    .expect("target")
    .connect()
    .await
    .expect("connect to the copy");
    // Crash recovery ends with a checkpoint written where the old WAL ended.
    let end = one_lsn(&old, "SELECT redo_lsn::text FROM pg_control_checkpoint()").await;
    let all = rows_with_commit_times(&old).await;

    let kept_seqs: BTreeSet<i64> = kept.keys().copied().collect();
    let all_seqs: BTreeSet<i64> = all.keys().copied().collect();
    assert!(
        kept_seqs.is_subset(&all_seqs),
        "the standby has rows the primary lacks"
    );
    assert!(
        all_seqs.len() as i64 >= acked,
        "every acknowledged commit survives on the old primary ({} < {acked})",
        all_seqs.len()
    );
    let lost: Vec<i64> = all_seqs.difference(&kept_seqs).copied().collect();
    println!(
        "rows on the old primary: {}, on the promoted standby: {}, lost: {} (seq {}..={})",
        all_seqs.len(),
        kept_seqs.len(),
        lost.len(),
        lost.first().copied().unwrap_or_default(),
        lost.last().copied().unwrap_or_default()
    );
    assert!(!lost.is_empty(), "a window with no lost row proves nothing");

    // Bytes: the old primary's end of WAL minus the promoted standby's switch point. A checkpoint
    // written at a page boundary starts after that page's header.
    let reported_end = Lsn(switch_point.0 + bytes);
    let header = end.0.saturating_sub(reported_end.0);
    assert!(
        reported_end == end || (reported_end.0 % WAL_PAGE == 0 && (header == 24 || header == 40)),
        "reported end of WAL {reported_end} (switch point {switch_point} + {bytes} bytes) vs the old primary's {end}"
    );
    // Time: R is the promoted standby's last transaction; every lost row committed in (R, S],
    // every kept row at or before R; S is the last commit, within one poll of the last lost row.
    assert_eq!(
        final_replay_at,
        Some(micros(r_at)),
        "R = the promoted standby's last transaction"
    );
    let ts = |seq: &i64| all[seq].expect("commit timestamp (track_commit_timestamp = on)");
    let first_lost = lost.iter().map(ts).min().expect("lost");
    let last_lost = lost.iter().map(ts).max().expect("lost");
    let last_kept = kept_seqs.iter().map(ts).max().expect("kept");
    assert!(
        last_kept <= r_at,
        "a kept row committed after R: {last_kept} > {r_at}"
    );
    assert!(
        first_lost > r_at,
        "a lost row committed at or before R: {first_lost} <= {r_at}"
    );
    assert!(
        last_lost <= s_at,
        "a lost row committed after S: {last_lost} > {s_at}"
    );
    assert!(
        s_at - last_lost <= chrono::Duration::from_std(POLL).expect("poll"),
        "S {s_at} is more than one poll after the last lost row {last_lost}"
    );

    // The promotion says the same, with its true timestamps and LSNs.
    let said = out.join("\n");
    let fmt = |t: DateTime<Utc>| t.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string();
    for needle in [
        "were not replayed and are lost".to_string(),
        format!("between {} and {}", fmt(r_at), fmt(s_at)),
        format!("from {switch_point} to {reported_end}"),
        "evidence: WAL of the old primary".to_string(),
    ] {
        assert!(said.contains(&needle), "{needle:?} missing from:\n{said}");
    }
    println!(
        "RPO: {} rows lost, {secs:.3} s ({r_at} .. {s_at}), {bytes} bytes of WAL ({switch_point} .. {reported_end}); test took {:.1}s",
        lost.len(),
        test_started.elapsed().as_secs_f64()
    );
}
