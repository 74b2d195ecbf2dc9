//! Backups on a real server: `backup.snapshot` + `backup.verify` (and a corrupted dump that must
//! fail), the backup directory source, the WAL archive, `db.restore` and `db.read_only`.

mod common_pg;

use std::time::{Duration, Instant};

use common_pg::{TestLab, postgres_or_skip};
use warroom::actions::postgres::{Manifest, PostgresBackend};
use warroom::actions::{ActionBackend, Call};
use warroom::telemetry::backup_dir::BackupDirSource;
use warroom::telemetry::{AttemptOutcome, BackupReading, BackupStatus, Source};

fn call(name: &str, args: &[(&str, &str)]) -> Call {
    Call::parse(name, args).expect("a valid call")
}

async fn backup_reading(lab: &TestLab, name: &str) -> BackupReading {
    let def = lab
        .env
        .backups
        .iter()
        .find(|b| b.name.get_ref() == name)
        .expect("backup in the lab env");
    let mut src = BackupDirSource::new(def, &lab.env).expect("source");
    let sample = src.poll().await.expect("backup dir readable");
    sample.backups[0].clone()
}

/// The newest `snapshots-*.dump` of the lab.
fn newest_snapshot(lab: &TestLab) -> std::path::PathBuf {
    let dir = lab.dir().join("backups/snapshots");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .expect("snapshots dir")
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|x| x == "dump"))
        .collect();
    files.sort();
    files.pop().expect("a snapshot")
}

async fn scratch_databases(lab: &TestLab) -> i64 {
    let c = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    c.query_one(
        "SELECT count(*) FROM pg_database WHERE datname LIKE 'warroom_verify_%'",
        &[],
    )
    .await
    .expect("query")
    .get(0)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn snapshot_then_verify_on_real_data() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("snap").await;
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    let before = backup_reading(&lab, "snapshots").await;
    assert_eq!(before.last_success, None);
    assert_eq!(before.status(chrono::Utc::now()), BackupStatus::Overdue);

    let snap = call("backup.snapshot", &[("backup", "snapshots")]);
    assert!(
        backend
            .describe(&snap)
            .starts_with("pg_dump --format=custom of primary (host=")
    );
    let out = backend.execute(&snap, &|_| {}).await.expect("snapshot");
    assert!(out[0].contains("pg_restore --list reads"), "{out:?}");
    let dump = newest_snapshot(&lab);
    let manifest: Manifest = serde_json::from_str(
        &std::fs::read_to_string(Manifest::path_for(&dump)).expect("manifest written"),
    )
    .expect("manifest");
    let orders = manifest
        .tables
        .iter()
        .find(|t| t.table == "orders")
        .expect("orders recorded");
    assert_eq!(orders.rows, 2000);
    assert_eq!(manifest.tables.len(), 2);

    let after = backup_reading(&lab, "snapshots").await;
    assert_eq!(after.last_outcome, Some(AttemptOutcome::Succeeded));
    assert_eq!(after.status(chrono::Utc::now()), BackupStatus::Ok);
    assert_eq!(
        after.size_bytes,
        Some(std::fs::metadata(&dump).expect("dump").len())
    );
    assert_eq!((after.attempts_24h, after.successes_24h), (1, 1));

    // Writes after the snapshot do not affect its verification: it compares with its manifest.
    let c = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    c.batch_execute("DELETE FROM orders WHERE id <= 100")
        .await
        .expect("delete");

    let verify = call("backup.verify", &[("backup", "snapshots")]);
    let started = Instant::now();
    let out = backend.execute(&verify, &|_| {}).await.expect("verify");
    println!(
        "backup.verify took {:?}: {}",
        started.elapsed(),
        out.join(" / ")
    );
    let text = out.join("\n");
    assert!(text.contains("match the manifest"), "{text}");
    assert!(text.contains("orders: 2000 rows"), "{text}");
    assert_eq!(
        scratch_databases(&lab).await,
        0,
        "scratch database left behind"
    );

    // forensic = true: the same dump and manifest, also kept under `forensic/` with a name of
    // their own; the series counts one backup, not two. Dumps are named to the second: the next
    // one a second later.
    tokio::time::sleep(std::time::Duration::from_millis(1100)).await;
    let forensic = call(
        "backup.snapshot",
        &[("backup", "snapshots"), ("forensic", "true")],
    );
    assert!(
        backend
            .describe(&forensic)
            .contains("kept as forensic evidence in "),
        "{}",
        backend.describe(&forensic)
    );
    let out = backend.execute(&forensic, &|_| {}).await.expect("forensic");
    let kept_line = out
        .iter()
        .find(|l| l.starts_with("kept as forensic evidence: "))
        .unwrap_or_else(|| panic!("{out:?}"));
    let dir = lab.dir().join("backups/snapshots/forensic");
    let mut kept: Vec<String> = std::fs::read_dir(&dir)
        .expect("forensic dir")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    kept.sort();
    assert_eq!(kept.len(), 2, "{kept:?}");
    assert!(
        kept[0].starts_with("forensic-snapshots-") && kept[0].ends_with(".dump"),
        "{kept:?}"
    );
    assert!(kept[1].ends_with(".manifest.json"), "{kept:?}");
    assert!(kept_line.contains(&kept[0]), "{kept_line}");
    let newest = newest_snapshot(&lab);
    assert_eq!(
        std::fs::read(dir.join(&kept[0])).expect("kept dump"),
        std::fs::read(&newest).expect("series dump"),
        "the forensic copy is the dump just taken"
    );
    let after = backup_reading(&lab, "snapshots").await;
    assert_eq!((after.attempts_24h, after.successes_24h), (2, 2));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_corrupted_dump_fails_verification_and_the_source_says_failed() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("corrupt").await;
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    let snap = call("backup.snapshot", &[("backup", "snapshots")]);
    let verify = call("backup.verify", &[("backup", "snapshots")]);
    backend.execute(&snap, &|_| {}).await.expect("snapshot");
    let good = newest_snapshot(&lab);
    let good_time = backup_reading(&lab, "snapshots").await.last_success;
    tokio::time::sleep(Duration::from_millis(1100)).await;
    backend
        .execute(&snap, &|_| {})
        .await
        .expect("second snapshot");
    let bad = newest_snapshot(&lab);
    assert_ne!(good, bad);

    // Flip bytes in the middle of the data: the table of contents may still read.
    let mut bytes = std::fs::read(&bad).expect("read dump");
    let mid = bytes.len() / 2;
    for b in &mut bytes[mid..mid + 64] {
        *b ^= 0x5a;
    }
    std::fs::write(&bad, &bytes).expect("corrupt dump");
    let err = backend
        .execute(&verify, &|_| {})
        .await
        .expect_err("corrupt dump must fail")
        .to_string();
    assert!(
        err.contains("not usable")
            || err.contains("does not match")
            || err.contains("not a readable"),
        "{err}"
    );
    assert_eq!(
        scratch_databases(&lab).await,
        0,
        "scratch database left behind"
    );

    // Truncated: pg_restore --list itself fails, and the directory source reports FAILED with
    // the previous dump as the last success.
    std::fs::write(&bad, &bytes[..200]).expect("truncate dump");
    let err = backend
        .execute(&verify, &|_| {})
        .await
        .expect_err("truncated dump must fail")
        .to_string();
    assert!(err.contains("pg_restore --list"), "{err}");
    let r = backup_reading(&lab, "snapshots").await;
    assert_eq!(r.last_outcome, Some(AttemptOutcome::Failed));
    assert_eq!(r.status(chrono::Utc::now()), BackupStatus::Failed);
    assert_eq!(r.last_success, good_time);
    assert_eq!((r.attempts_24h, r.successes_24h), (2, 1));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_manifest_mismatch_fails_verification() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("manifest").await;
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    backend
        .execute(
            &call("backup.snapshot", &[("backup", "snapshots")]),
            &|_| {},
        )
        .await
        .expect("snapshot");
    let path = Manifest::path_for(&newest_snapshot(&lab));
    let mut m: Manifest =
        serde_json::from_str(&std::fs::read_to_string(&path).expect("read")).expect("manifest");
    for t in &mut m.tables {
        if t.table == "orders" {
            t.rows += 1;
        }
    }
    std::fs::write(&path, serde_json::to_string(&m).expect("json")).expect("write");
    let err = backend
        .execute(&call("backup.verify", &[("backup", "snapshots")]), &|_| {})
        .await
        .expect_err("mismatch")
        .to_string();
    assert!(
        err.contains("public.orders: 2000 rows restored, 2001 recorded"),
        "{err}"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_brings_back_a_dropped_table_and_read_only_blocks_writes() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("restore").await;
    let backend = PostgresBackend::new(&lab.env).expect("backend");
    backend
        .execute(
            &call("backup.snapshot", &[("backup", "daily-dump")]),
            &|_| {},
        )
        .await
        .expect("snapshot");
    let c = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    c.batch_execute("DROP TABLE orders").await.expect("drop");
    let out = backend
        .execute(
            &call("db.restore", &[("db", "primary"), ("backup", "daily-dump")]),
            &|_| {},
        )
        .await
        .expect("restore");
    assert!(out[0].contains("primary restored from"), "{out:?}");
    let n: i64 = c
        .query_one("SELECT count(*) FROM orders", &[])
        .await
        .expect("count")
        .get(0);
    assert_eq!(n, 2000);

    backend
        .execute(
            &call("db.read_only", &[("db", "primary"), ("enabled", "true")]),
            &|_| {},
        )
        .await
        .expect("read only");
    let fresh = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    let err = fresh
        .batch_execute("INSERT INTO orders (customer_id, amount) VALUES (1, 1)")
        .await
        .expect_err("read-only");
    assert!(
        err.to_string().contains("read-only") || format!("{err:?}").contains("read-only"),
        "{err:?}"
    );
    backend
        .execute(
            &call("db.read_only", &[("db", "primary"), ("enabled", "false")]),
            &|_| {},
        )
        .await
        .expect("writable");
    let fresh = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    fresh
        .batch_execute("INSERT INTO orders (customer_id, amount) VALUES (1, 1)")
        .await
        .expect("writable again");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_wal_archive_is_watched_like_a_backup() {
    if !postgres_or_skip() {
        return;
    }
    let lab = TestLab::up("wal").await;
    let c = lab
        .state
        .target("primary")
        .expect("t")
        .connect()
        .await
        .expect("connect");
    c.batch_execute(
        "INSERT INTO orders (customer_id, amount) VALUES (1, 1); SELECT pg_switch_wal();",
    )
    .await
    .expect("switch");
    let deadline = Instant::now() + Duration::from_secs(15);
    let r = loop {
        let r = backup_reading(&lab, "wal-archive").await;
        if r.last_success.is_some() || Instant::now() > deadline {
            break r;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(r.kind, "WAL archive");
    assert_eq!(r.status(chrono::Utc::now()), BackupStatus::Ok, "{r:?}");
    assert!(r.size_bytes.is_some_and(|s| s > 0));
}
