//! Point-in-time recovery on RDS against moto (issue 10): `RestoreDBInstanceToPointInTime` with
//! the chosen time and the target name from the environment, waited for until available; a
//! time outside the restorable window refused with the window, without any restore call.

#![cfg(feature = "aws")]

mod aws_common;

use std::time::Duration;

use aws_common::*;
use chrono::{TimeDelta, Utc};
use warroom::recovery::aws::{AwsPitrError, restorable_window, restore_to_point};

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restores_inside_the_window_and_refuses_outside_it() {
    let Some(moto) = Moto::start() else { return };
    let rds = rds(&moto, "us-west-2").await;
    create_instance(&rds, "app-primary").await;
    let window = restorable_window(&rds, "app-primary")
        .await
        .expect("window");
    println!("{window:?}");
    assert!(window.earliest <= window.latest);
    moto.reset_calls();

    // Outside: an hour before the instance existed. Refused with the window; nothing restored.
    let before = window.earliest - TimeDelta::hours(1);
    let e = restore_to_point(
        &rds,
        "app-primary",
        "app-primary-pitr",
        before,
        (Duration::from_millis(50), Duration::from_secs(10)),
        &|_| {},
    )
    .await
    .expect_err("outside the window");
    assert!(matches!(e, AwsPitrError::OutsideWindow { .. }), "{e}");
    let text = e.to_string();
    assert!(
        text.contains(&window.earliest.format("%Y-%m-%d %H:%M:%S UTC").to_string()),
        "{text}"
    );
    assert_eq!(moto.count("rds:RestoreDBInstanceToPointInTime"), 0);

    // Inside: the call carries the chosen time and the target name; the new instance is
    // available.
    let point = window.earliest + (window.latest - window.earliest) / 2;
    let lines = restore_to_point(
        &rds,
        "app-primary",
        "app-primary-pitr",
        point,
        (Duration::from_millis(50), Duration::from_secs(10)),
        &|_| {},
    )
    .await
    .expect("restore");
    println!("{}", lines.join("\n"));
    let calls = moto.calls_of("rds:RestoreDBInstanceToPointInTime");
    assert_eq!(calls.len(), 1, "{calls:?}");
    let params = &calls[0]["params"];
    assert_eq!(params["SourceDBInstanceIdentifier"], "app-primary");
    assert_eq!(params["TargetDBInstanceIdentifier"], "app-primary-pitr");
    let sent = params["RestoreTime"].as_str().expect("RestoreTime");
    let sent = chrono::DateTime::parse_from_rfc3339(sent)
        .expect("an RFC 3339 time")
        .with_timezone(&Utc);
    assert_eq!(sent.timestamp_millis(), point.timestamp_millis());
    let out = rds
        .describe_db_instances()
        .db_instance_identifier("app-primary-pitr")
        .send()
        .await
        .expect("the restored instance exists");
    assert_eq!(
        out.db_instances()[0].db_instance_status(),
        Some("available")
    );
    // A second restore into the same name is refused before any call.
    let e = restore_to_point(
        &rds,
        "app-primary",
        "app-primary-pitr",
        point,
        (Duration::from_millis(50), Duration::from_secs(10)),
        &|_| {},
    )
    .await
    .expect_err("target exists");
    assert!(e.to_string().contains("exists already"), "{e}");
    assert_eq!(moto.count("rds:RestoreDBInstanceToPointInTime"), 1);
}

/// The AWS backend's `db.restore`: the point the console resolved (`to` = a time) into the
/// environment's `restore_instance`; the exact call is what the confirmation describes.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_backend_restores_into_the_environments_restore_instance() {
    use warroom::actions::aws::{AwsBackend, WaitPolicy};
    use warroom::actions::{ActionBackend, Call};
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 2.0).await;
    let text = two_region_env(&seeded).replacen(
        "aws = { instance = \"pynomaly-prod\" }",
        "aws = { instance = \"pynomaly-prod\", restore_instance = \"pynomaly-prod-pitr\" }",
        1,
    );
    let env = warroom::env::Environment::parse("aws-pitr.toml", &text).expect("valid env");
    let backend = AwsBackend::new(&env, moto.connector()).with_wait(WaitPolicy {
        poll: Duration::from_millis(50),
        promote: Duration::from_secs(20),
        failover: Duration::from_secs(20),
        snapshot: Duration::from_secs(20),
        dns: Duration::from_secs(20),
        webhook: Duration::from_secs(5),
    });
    let rds = rds(&moto, "us-west-2").await;
    let window = restorable_window(&rds, "pynomaly-prod")
        .await
        .expect("window");
    let point = window.earliest + (window.latest - window.earliest) / 2;
    let call = Call::parse(
        "db.restore",
        &[
            ("db", "primary"),
            ("backup", "automated-snapshot"),
            ("to", &point.to_rfc3339()),
        ],
    )
    .expect("call");
    assert_eq!(backend.unsupported(&call), None);
    let described = backend.describe(&call);
    assert!(
        described.contains("rds:RestoreDBInstanceToPointInTime SourceDBInstanceIdentifier=pynomaly-prod TargetDBInstanceIdentifier=pynomaly-prod-pitr"),
        "{described}"
    );
    moto.reset_calls();
    // Unresolved choices are refused without a call.
    let unresolved = Call::parse(
        "db.restore",
        &[("db", "primary"), ("backup", "automated-snapshot")],
    )
    .expect("call");
    let e = backend
        .execute(&unresolved, &|_| {})
        .await
        .expect_err("no point");
    assert!(e.contains("needs a point in time"), "{e}");
    let lines = backend.execute(&call, &|_| {}).await.expect("restore");
    println!("{}", lines.join("\n"));
    let calls = moto.calls_of("rds:RestoreDBInstanceToPointInTime");
    assert_eq!(calls.len(), 1);
    assert_eq!(
        calls[0]["params"]["TargetDBInstanceIdentifier"],
        "pynomaly-prod-pitr"
    );
}

/// `warroom restore-points` on an RDS instance (moto): its snapshots with the same columns as
/// PostgreSQL's list (time, kind, size, last verified, TAINTED after `--onset`) and the
/// restorable window; `--at` outside the window is refused naming it (exit 1), inside accepted.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn restore_points_lists_the_snapshots_and_the_window() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 2.0).await;
    let files = Scratch::new("aws-points");
    let env_path = files.0.join("aws.toml");
    std::fs::write(&env_path, two_region_env(&seeded)).expect("env");
    let rds = rds(&moto, "us-west-2").await;
    let window = restorable_window(&rds, "pynomaly-prod")
        .await
        .expect("window");
    let env_arg = env_path.display().to_string();
    let base = [
        "--env",
        &env_arg,
        "--endpoint-url",
        &moto.url,
        "restore-points",
    ];
    let (code, out, err, took) = run_warroom(&[&base[..], &["--db", "primary"]].concat(), &files.0);
    println!("{out}{err}");
    // Measured (BENCHMARKS.md): the whole command against moto.
    println!("restore-points on moto: {} ms", took.as_millis());
    assert_eq!(code, 0, "{err}");
    assert!(out.contains("pynomaly-prod-manual-1"), "{out}");
    assert!(out.contains("RDS manual"), "{out}");
    assert!(out.contains("last verified"), "{out}");
    assert!(out.contains("window "), "{out}");
    assert!(
        out.contains("RDS automated backups of pynomaly-prod"),
        "{out}"
    );

    // JSON: the same list, the window RDS gave.
    let (code, json, err, _) = run_warroom(&[&base[..], &["--json"]].concat(), &files.0);
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    let w = &v["pitr"]["windows"][0];
    let from = chrono::DateTime::parse_from_rfc3339(w["from"].as_str().expect("from"))
        .expect("time")
        .with_timezone(&Utc);
    assert_eq!(from.timestamp(), window.earliest.timestamp());
    assert!(
        v["backups"]
            .as_array()
            .is_some_and(|b| b.iter().any(|b| b["name"] == "pynomaly-prod-manual-1"))
    );

    // --onset before the snapshot: it is TAINTED.
    let onset = (window.earliest - TimeDelta::hours(2)).to_rfc3339();
    let (_, out, _, _) = run_warroom(&[&base[..], &["--onset", &onset]].concat(), &files.0);
    assert!(
        out.lines()
            .any(|l| l.contains("pynomaly-prod-manual-1") && l.contains("TAINTED")),
        "{out}"
    );

    // --at: outside the window refused with it; inside accepted.
    let outside = (window.earliest - TimeDelta::hours(1)).to_rfc3339();
    let (code, _, err, _) = run_warroom(&[&base[..], &["--at", &outside]].concat(), &files.0);
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused"), "{err}");
    assert!(
        err.contains(&window.earliest.format("%Y-%m-%d %H:%M:%S").to_string()),
        "{err}"
    );
    let inside = (window.earliest + (window.latest - window.earliest) / 2).to_rfc3339();
    let (code, _, err, _) = run_warroom(&[&base[..], &["--at", &inside]].concat(), &files.0);
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("restore point"), "{err}");
}
