//! Point-in-time recovery on a real PostgreSQL lab (issue 10, first acceptance point): under
//! continuous writes, at T an UPDATE destroys a table's rows; a restore to "before T" from the
//! lab's base backup and WAL archive has every row committed before T (against a copy taken just
//! before T and the writer's own acknowledgements) and none of the destructive update; the
//! reported point is the restored database's last commit and T minus it is under 2 s.

mod common_pg;

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use chrono::{DateTime, Utc};
use common_pg::{TestLab, postgres_or_skip};
use warroom::recovery::postgres::{PgPitr, PitrError};
use warroom::telemetry::postgres::wal::WalError;

type Row = (i64, i32, String, Option<String>);
/// Each acknowledged insert: its id and when the acknowledgement arrived.
type Acks = Arc<Mutex<Vec<(i64, DateTime<Utc>)>>>;

async fn rows(client: &tokio_postgres::Client) -> BTreeMap<i64, Row> {
    client
        .query(
            "SELECT id, customer_id, amount::text, note FROM orders ORDER BY id",
            &[],
        )
        .await
        .expect("select orders")
        .iter()
        .map(|r| {
            let row: Row = (r.get(0), r.get(1), r.get(2), r.get(3));
            (row.0, row)
        })
        .collect()
}

async fn server_now(client: &tokio_postgres::Client) -> DateTime<Utc> {
    let micros: i64 = client
        .query_one(
            "SELECT (EXTRACT(EPOCH FROM clock_timestamp()) * 1000000)::int8",
            &[],
        )
        .await
        .expect("clock")
        .get(0);
    DateTime::from_timestamp_micros(micros).expect("time")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_before_a_destructive_update_keeps_every_earlier_commit() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("pitr").await;
    let pitr = PgPitr::of(&lab.env, "primary")
        .expect("settings")
        .expect("the lab has a base backup series for primary");
    let base = pitr.take_base_backup(&|_| {}).await.expect("base backup");
    assert!(base.bytes > 1_000_000, "{base:?}");

    // Continuous writes: one row every 20 ms, each acknowledged commit noted with the time the
    // acknowledgement arrived (after the commit).
    let acks: Acks = Arc::default();
    let stop = Arc::new(std::sync::atomic::AtomicBool::new(false));
    let writer = {
        let acks = Arc::clone(&acks);
        let stop = Arc::clone(&stop);
        let client = lab
            .state
            .target("primary")
            .expect("t")
            .connect()
            .await
            .expect("c");
        tokio::spawn(async move {
            while !stop.load(std::sync::atomic::Ordering::SeqCst) {
                let r = client
                    .query_one(
                        "INSERT INTO orders (customer_id, amount, note) \
                         VALUES (1 + (random() * 999)::int, 1.25, md5(random()::text)) RETURNING id",
                        &[],
                    )
                    .await;
                match r {
                    Ok(row) => acks.lock().expect("acks").push((row.get(0), Utc::now())),
                    Err(_) => break,
                }
                tokio::time::sleep(Duration::from_millis(20)).await;
            }
        })
    };
    let admin = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("c");
    tokio::time::sleep(Duration::from_millis(1500)).await;
    let copy = rows(&admin).await;
    tokio::time::sleep(Duration::from_millis(300)).await;
    // The corruption: at T every order's amount and note are destroyed.
    let onset = server_now(&admin).await;
    let destroyed = admin
        .execute("UPDATE orders SET amount = 0, note = 'destroyed'", &[])
        .await
        .expect("destructive update");
    assert!(destroyed as usize >= copy.len());
    tokio::time::sleep(Duration::from_millis(1000)).await;
    stop.store(true, std::sync::atomic::Ordering::SeqCst);
    writer.await.expect("writer");
    drop(admin);
    let before_onset: Vec<i64> = acks
        .lock()
        .expect("acks")
        .iter()
        .filter(|(_, at)| *at < onset)
        .map(|(id, _)| *id)
        .collect();
    let copy_max = copy.keys().max().copied().unwrap_or(0);
    assert!(
        before_onset.iter().any(|id| *id > copy_max),
        "writes continued between the copy and T"
    );

    let lines = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&lines);
    let restored = pitr
        .restore(onset, &move |l| sink.lock().expect("lines").push(l))
        .await
        .unwrap_or_else(|e| panic!("restore: {e}; progress: {:?}", lines.lock()));
    println!("{}", restored.lines().join("\n"));
    let reached = restored.reached.expect("a reached point");
    let rpo = (onset - reached).num_microseconds().expect("span") as f64 / 1e6;
    println!(
        "onset {onset}, reached {reached}: RPO {rpo:.3}s, restore took {:.1}s",
        restored.secs
    );
    assert!(reached < onset, "reached {reached} is not before T {onset}");
    assert!(rpo < 2.0, "RPO {rpo}s");
    assert_eq!(restored.base.name, base.name);
    assert_eq!(
        restored.stopped_old.as_ref(),
        lab.state.server("primary").map(|s| &s.data_dir)
    );

    // The restored database, on the primary's own port.
    let client = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect restored");
    let recovering: bool = client
        .query_one("SELECT pg_is_in_recovery()", &[])
        .await
        .expect("q")
        .get(0);
    assert!(!recovering, "promoted");
    let now = rows(&client).await;
    let damaged = now
        .values()
        .filter(|r| r.3.as_deref() == Some("destroyed"))
        .count();
    assert_eq!(damaged, 0, "none of the destructive update");
    for (id, row) in &copy {
        assert_eq!(
            now.get(id),
            Some(row),
            "row {id} from the copy taken before T"
        );
    }
    for id in &before_onset {
        assert!(
            now.contains_key(id),
            "row {id} acknowledged before T is missing"
        );
    }
    // The reported point is the restored database's own last commit, and nothing after T.
    let last_commit: i64 = client
        .query_one(
            "SELECT (EXTRACT(EPOCH FROM max(pg_xact_commit_timestamp(xmin))) * 1000000)::int8 FROM orders",
            &[],
        )
        .await
        .expect("commit times")
        .get(0);
    let last_commit = DateTime::from_timestamp_micros(last_commit).expect("t");
    assert_eq!(
        last_commit, reached,
        "the reported point is the last commit replayed"
    );
    assert!(last_commit < onset);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_missing_wal_segment_refuses_a_point_inside_the_gap() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("pitrgap").await;
    let pitr = PgPitr::of(&lab.env, "primary")
        .expect("settings")
        .expect("series");
    pitr.take_base_backup(&|_| {}).await.expect("base backup");
    let client = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("c");
    // Five segments, each written and archived a little apart.
    let mut segments = Vec::new();
    for _ in 0..5 {
        client
            .batch_execute(
                "INSERT INTO orders (customer_id, amount) SELECT 1, 1 FROM generate_series(1, 200)",
            )
            .await
            .expect("insert");
        tokio::time::sleep(Duration::from_millis(300)).await;
        let seg: String = client
            .query_one("SELECT pg_walfile_name(pg_switch_wal())", &[])
            .await
            .expect("switch")
            .get(0);
        segments.push(seg);
    }
    let archive = pitr.wal_archive.clone().expect("archive");
    for _ in 0..100 {
        if segments.iter().all(|s| archive.join(s).is_file()) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    let scan = pitr.archive().expect("scan");
    assert!(scan.gaps.is_empty(), "{:?}", scan.gaps);
    // Delete the third: a gap between the second's and the fourth's archive times.
    std::fs::remove_file(archive.join(&segments[2])).expect("delete");
    let scan = pitr.archive().expect("scan");
    assert_eq!(scan.gaps.len(), 1, "{:?}", scan.gaps);
    let gap = scan.gaps[0].clone();
    assert_eq!(gap.first_missing, segments[2]);
    let inside = gap.from + (gap.to - gap.from) / 2;
    let e = pitr.plan(inside).expect_err("inside the gap");
    assert!(matches!(&e, PitrError::Wal(WalError::Gap { .. })), "{e}");
    assert!(e.to_string().contains(&segments[2]), "{e}");
    // A point before the gap is still fine.
    let before = gap.from - chrono::TimeDelta::milliseconds(1);
    pitr.plan(before).expect("before the gap");

    // The same through the binary: the list shows the gap, a point inside it is refused with
    // the gap in the message, one before it is accepted.
    let env = lab.state.env_file().display().to_string();
    let run = |args: &[&str]| {
        std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
            .args(["restore-points", "--env", &env])
            .args(args)
            .env("XDG_STATE_HOME", lab.dir().join("state"))
            .output()
            .expect("run warroom")
    };
    let o = run(&[]);
    let text = String::from_utf8_lossy(&o.stdout).into_owned();
    assert!(
        o.status.success(),
        "{text}{}",
        String::from_utf8_lossy(&o.stderr)
    );
    println!("{text}");
    assert!(
        text.contains("GAP") && text.contains(&segments[2]),
        "{text}"
    );
    assert!(
        text.contains("base-") && text.contains("base backup"),
        "{text}"
    );
    let o = run(&["--at", &inside.to_rfc3339()]);
    let err = String::from_utf8_lossy(&o.stderr).into_owned();
    assert_eq!(o.status.code(), Some(1), "{err}");
    assert!(
        err.contains("refused") && err.contains(&segments[2]),
        "{err}"
    );
    let o = run(&["--at", &before.to_rfc3339()]);
    assert!(o.status.success(), "{}", String::from_utf8_lossy(&o.stderr));
    // JSON, with an onset before the base backup: it is tainted.
    let onset = (gap.from - chrono::TimeDelta::hours(1)).to_rfc3339();
    let o = run(&["--json", "--onset", &onset]);
    let v: serde_json::Value = serde_json::from_slice(&o.stdout).expect("json");
    assert_eq!(v["pitr"]["gaps"][0]["first_missing"], segments[2].as_str());
    let base = v["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .find(|b| b["kind"] == "base backup")
        .expect("the base backup is listed");
    assert_eq!(base["tainted"], true);
    assert_eq!(base["wal_complete"], false);
    assert!(v["pitr"]["windows"][0]["to"].as_str().is_some());
    // A bad time is bad input.
    let o = run(&["--at", "yesterday"]);
    assert_eq!(o.status.code(), Some(2));

    // The console's picker builds the same list (off the UI thread) and checks a typed time
    // with the one resolver against it: inside the gap refused naming the window and the gap,
    // before it accepted as a point in time.
    let list = warroom::restore_points::for_console(
        lab.env.clone(),
        None,
        None,
        "primary".to_string(),
        "base".to_string(),
        None,
    )
    .await
    .expect("the picker's list");
    assert_eq!(list.pitr.as_ref().map(|p| p.gaps.len()), Some(1));
    let now = Utc::now();
    let e = list.check(inside, now).expect_err("inside the gap");
    let words = e.to_string();
    assert!(words.contains("window") && words.contains("gap"), "{words}");
    let ok = list.check(before, now).expect("before the gap");
    assert_eq!(ok.basis, warroom::recovery::Basis::PointInTime);
}

/// `backup.verify` keeps history: each result lands in `verifications.jsonl` beside the
/// journals, and the restore-points list and `status` show the last one.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn verifications_are_kept_and_shown_as_last_verified() {
    use warroom::actions::postgres::PostgresBackend;
    use warroom::actions::{ActionBackend, Call};
    use warroom::recovery::verified;
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up_with(
        "pitrver",
        &warroom::lab::UpOptions {
            health_exe: None,
            first_dumps: true,
            orders: 500,
        },
    )
    .await;
    let state = common_pg::short_dir("pitrstate");
    let history = state.join("warroom").join(verified::FILE);
    let backend = PostgresBackend::new(&lab.env)
        .expect("backend")
        .with_verifications(Some(history.clone()));
    let verify = Call::parse("backup.verify", &[("backup", "snapshots")]).expect("call");
    backend.execute(&verify, &|_| {}).await.expect("verified");
    let all = verified::load(&history);
    assert_eq!(all.len(), 1, "{all:?}");
    assert!(
        all[0].ok && all[0].backup.starts_with("snapshots-"),
        "{all:?}"
    );

    let list = warroom::restore_points::build(&lab.env, Some("primary"), None, &all).expect("list");
    let row = list
        .backups
        .iter()
        .find(|b| b.series == "snapshots")
        .expect("the snapshot is listed");
    assert_eq!(row.last_verified.as_ref().map(|v| v.ok), Some(true));
    // The base backup `lab up` took is listed too, never verified.
    assert!(
        list.backups
            .iter()
            .any(|b| b.kind == "base backup" && b.last_verified.is_none())
    );

    // A damaged dump: the verification fails, and that is what is shown next.
    let dump = lab.dir().join("backups/snapshots").join(&all[0].backup);
    let bytes = std::fs::read(&dump).expect("dump");
    std::fs::write(&dump, &bytes[..bytes.len() / 2]).expect("truncate");
    backend
        .execute(&verify, &|_| {})
        .await
        .expect_err("a truncated dump fails");
    let all = verified::load(&history);
    assert_eq!(all.len(), 2);
    assert!(!all[1].ok);

    // `status` reads the same history (beside the journals under XDG_STATE_HOME).
    let out = std::process::Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(["status", "--json", "--env"])
        .arg(lab.state.env_file())
        .env("XDG_STATE_HOME", &state)
        .output()
        .expect("status");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
    let snapshots = v["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .find(|b| b["name"] == "snapshots")
        .expect("snapshots");
    assert_eq!(snapshots["last_verified"]["ok"], false, "{snapshots}");
    let _ = std::fs::remove_dir_all(&state);
}

/// The onset from an integrity signal: `integrity_check` polled like lag; its first failing
/// sample is `corrupt_since`, kept while it fails, cleared once it passes again.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_first_failing_integrity_sample_is_the_onset() {
    use warroom::telemetry::Source;
    use warroom::telemetry::postgres::PostgresSource;
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("pitrint").await;
    let text = std::fs::read_to_string(lab.state.env_file())
        .expect("lab.toml")
        .replacen(
            "postgres = { dsn",
            "postgres = { integrity_check = \"SELECT NOT EXISTS (SELECT 1 FROM orders WHERE note = 'destroyed')\", dsn",
            1,
        );
    let env = warroom::env::Environment::parse("lab-integrity.toml", &text).expect("valid");
    let db = env.database("primary").expect("primary");
    let mut source = PostgresSource::new(db, &env).expect("source");
    let reading = |s: &warroom::telemetry::Sample| s.databases[0].clone();
    let ok = source.poll().await.expect("poll");
    assert_eq!(reading(&ok).integrity_ok, Some(true));
    assert_eq!(reading(&ok).corrupt_since, None);
    let client = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("c");
    client
        .execute("UPDATE orders SET note = 'destroyed' WHERE id % 7 = 0", &[])
        .await
        .expect("damage");
    let first = source.poll().await.expect("poll");
    let onset = reading(&first).corrupt_since.expect("onset");
    assert_eq!(reading(&first).integrity_ok, Some(false));
    assert_eq!(onset, first.at, "the first failing sample");
    tokio::time::sleep(Duration::from_millis(50)).await;
    let later = source.poll().await.expect("poll");
    assert_eq!(
        reading(&later).corrupt_since,
        Some(onset),
        "kept while it fails"
    );
    client
        .execute(
            "UPDATE orders SET note = NULL WHERE note = 'destroyed'",
            &[],
        )
        .await
        .expect("repair");
    let fixed = source.poll().await.expect("poll");
    assert_eq!(reading(&fixed).integrity_ok, Some(true));
    assert_eq!(reading(&fixed).corrupt_since, None);
    // A query that is not a SELECT is refused at load, located.
    let bad = text.replacen(
        "integrity_check = \"SELECT",
        "integrity_check = \"DELETE",
        1,
    );
    let e = warroom::env::Environment::parse("bad.toml", &bad).expect_err("not a SELECT");
    assert!(e.to_string().contains("bad.toml:"), "{e}");
    assert!(
        e.to_string().contains("integrity_check is not a SELECT"),
        "{e}"
    );
}
