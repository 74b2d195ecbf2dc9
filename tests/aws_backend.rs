//! The AWS backend against the moto emulator (started by each test on a free loopback port; see
//! tests/aws_common/mod.rs): readings of a seeded two-region environment, through the library's
//! sources and through `warroom status --json`, the actions, and failures (unreachable,
//! throttled, hung) that must leave a stale pane and a running poller.

#![cfg(feature = "aws")]

mod aws_common;

use std::collections::BTreeMap;
use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_common::*;
use warroom::actions::aws::{AwsBackend, WaitPolicy};
use warroom::actions::{ActionBackend, Call};
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::telemetry::aws::rds::{RdsSource, SnapshotSource};
use warroom::telemetry::aws::route53::Route53Source;
use warroom::telemetry::aws::{AwsOptions, Connector};
use warroom::telemetry::source::run_poller;
use warroom::telemetry::{
    DbRole, DbState, ReplicationState, Sample, Severity, Source, SourceError, SourceId, Verdict,
    lag_severity,
};

fn env_of(seeded: &Seeded) -> Environment {
    Environment::parse("aws-two-region.toml", &two_region_env(seeded)).expect("valid fixture")
}

fn rds_source(env: &Environment, region: &str, connector: Arc<Connector>) -> RdsSource {
    RdsSource::for_region(env, region, None, connector).expect("region has databases")
}

/// Everything the environment's sources see in one round, merged as the board merges it.
async fn picture(env: &Environment, connector: &Arc<Connector>) -> Sample {
    let mut sample = Sample::default();
    for mut s in warroom::telemetry::aws::sources(env, connector) {
        let one = s
            .poll()
            .await
            .unwrap_or_else(|e| panic!("{}: {e}", s.name()));
        sample.merge_from(&one);
    }
    sample
}

fn call(name: &str, args: &[(&str, &str)]) -> Call {
    Call::parse(name, args).expect("a valid call")
}

fn fast_wait() -> WaitPolicy {
    WaitPolicy {
        poll: Duration::from_millis(50),
        promote: Duration::from_secs(20),
        failover: Duration::from_secs(20),
        snapshot: Duration::from_secs(20),
        dns: Duration::from_secs(20),
        webhook: Duration::from_secs(5),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn two_regions_read_as_seeded() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 4.0).await;
    let env = env_of(&seeded);
    let connector = moto.connector();
    moto.reset_calls();
    let p = picture(&env, &connector).await;

    let primary = p.database("primary").expect("primary");
    assert_eq!(
        (primary.role, primary.state),
        (DbRole::Primary, DbState::Available)
    );
    assert_eq!(primary.resource, PRIMARY_DB);
    assert!(primary.multi_az);
    assert!(
        primary
            .az
            .as_deref()
            .is_some_and(|az| az.starts_with("us-west-2"))
    );
    assert!(primary.replication.is_none());

    let dr = p.database("dr-replica").expect("dr-replica");
    assert_eq!(
        (dr.role, dr.state, dr.region.as_str()),
        (DbRole::Replica, DbState::Available, "dr")
    );
    let rep = dr.replication.as_ref().expect("replication");
    assert_eq!(
        (rep.source.as_str(), rep.state),
        ("primary", ReplicationState::Streaming)
    );
    assert_eq!(rep.lag_secs, Some(4.0));
    assert_eq!(
        lag_severity(rep.lag_secs, rep.lag_alarm, env.objectives.rpo),
        Severity::Ok
    );

    let manual = p.backup("snapshots").expect("manual series");
    let auto = p.backup("automated-snapshot").expect("automated series");
    for b in [manual, auto] {
        let age = b.age_secs(chrono::Utc::now()).expect("a snapshot exists");
        assert!(age < 300, "{}: {age}s old", b.name);
        assert_eq!(b.severity(chrono::Utc::now()), Severity::Ok, "{}", b.name);
    }
    assert_eq!(manual.kind, "RDS snapshot");

    assert_eq!(p.endpoints.len(), 2);
    assert!(
        p.endpoints
            .iter()
            .all(|e| e.last_ok && e.consecutive_failures == 0)
    );
    assert_eq!(p.dns.len(), 1);
    assert_eq!(
        (p.dns[0].name.as_str(), p.dns[0].target_region.as_str()),
        ("api", "primary")
    );
    assert_eq!(p.region_verdict("primary"), Verdict::Healthy);
    assert_eq!(p.region_verdict("dr"), Verdict::Healthy);

    // One refresh: per region one DescribeDBInstances; lag for all replicas in one
    // GetMetricData (only the DR region has one); one DescribeDBSnapshots for the primary's
    // region; Route 53: one status per health check and one listing per record.
    let counts = moto.counts();
    let expect = [
        ("rds:DescribeDBInstances", 2),
        ("monitoring:GetMetricData", 1),
        ("rds:DescribeDBSnapshots", 1),
        ("route53:GetHealthCheckStatus", 2),
        ("route53:ListResourceRecordSets", 1),
    ];
    for (op, n) in expect {
        assert_eq!(counts.get(op).copied(), Some(n), "{op} in {counts:?}");
    }
    assert_eq!(counts.values().sum::<u64>(), 7, "{counts:?}");
    let lag_call = &moto.calls_of("monitoring:GetMetricData")[0];
    assert_eq!(lag_call["region"], DR_REGION);
    assert_eq!(
        lag_call["params"]["MetricDataQueries.member.1.MetricStat.Metric.Dimensions.member.1.Value"],
        DR_DB
    );
}

#[test]
fn status_json_of_the_real_binary() {
    let Some(moto) = Moto::start() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = rt.block_on(seed_two_regions(&moto, 7.0));
    let dir = Scratch::new("status");
    let env_path = dir.0.join("aws.toml");
    std::fs::write(&env_path, two_region_env(&seeded)).expect("env file");
    let env_arg = env_path.to_string_lossy().into_owned();
    let (code, out, err, took) = run_warroom(
        &[
            "status",
            "--json",
            "--env",
            &env_arg,
            "--endpoint-url",
            &moto.url,
        ],
        &dir.0,
    );
    assert_eq!(code, 0, "stdout: {out}\nstderr: {err}");
    let v: serde_json::Value = serde_json::from_str(&out).expect("JSON");
    assert_eq!(v["environment"], "aws-two-region");
    assert_eq!(v["problems"], serde_json::json!([]));
    let lag = &v["replica_lag"][0];
    assert_eq!(lag["name"], "dr-replica");
    assert_eq!(lag["resource"], DR_DB);
    assert_eq!(lag["source"], "primary");
    assert_eq!(lag["lag_secs"], 7.0);
    assert_eq!(lag["state"], "streaming");
    assert_eq!(lag["severity"], "ok");
    let backups: Vec<&str> = v["backups"]
        .as_array()
        .expect("backups")
        .iter()
        .map(|b| b["status"].as_str().unwrap_or_default())
        .collect();
    assert_eq!(backups, ["OK", "OK"]);
    let regions = v["regions"].as_array().expect("regions");
    assert_eq!(regions[0]["verdict"], "HEALTHY");
    assert_eq!(regions[0]["databases"][0]["role"], "primary");
    assert_eq!(regions[0]["dns_pointing_here"], serde_json::json!(["api"]));
    assert_eq!(regions[1]["databases"][0]["role"], "replica");
    assert_eq!(
        regions[1]["endpoints"][0]["url"],
        format!("route53 health check {}", seeded.health_dr)
    );
    assert!(took < Duration::from_secs(15), "status took {took:?}");
    // Nothing secret on the way out.
    assert!(!out.contains(TEST_SECRET) && !err.contains(TEST_SECRET));
}

#[test]
fn status_text_and_exit_code_when_aws_is_unreachable() {
    // No emulator needed: nothing listens on the endpoint.
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let seeded = Seeded {
        zone_id: "Z1".into(),
        health_primary: "hc-1".into(),
        health_dr: "hc-2".into(),
    };
    let dir = Scratch::new("unreachable");
    let env_path = dir.0.join("aws.toml");
    std::fs::write(&env_path, two_region_env(&seeded)).expect("env file");
    let env_arg = env_path.to_string_lossy().into_owned();
    let url = format!("http://127.0.0.1:{port}");
    let (code, out, err, took) = run_warroom(
        &["status", "--env", &env_arg, "--endpoint-url", &url],
        &dir.0,
    );
    assert_eq!(
        code, 1,
        "failed sources exit 1\nstdout: {out}\nstderr: {err}"
    );
    for source in [
        "aws rds us-west-2",
        "aws rds us-east-1",
        "aws snapshots us-west-2",
        "aws route53",
    ] {
        assert!(
            out.lines()
                .any(|l| l.starts_with(&format!("problem: {source}:"))
                    && l.contains("cannot reach AWS")),
            "{source} missing in:\n{out}"
        );
    }
    assert!(took < Duration::from_secs(15), "status took {took:?}");
}

#[tokio::test]
async fn lag_over_the_threshold_is_critical() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 420.0).await;
    let env = env_of(&seeded);
    let mut source = rds_source(&env, "dr", moto.connector());
    let sample = source.poll().await.expect("sample");
    let rep = sample
        .database("dr-replica")
        .and_then(|d| d.replication.clone())
        .expect("replica");
    assert_eq!(rep.lag_secs, Some(420.0));
    assert_eq!(rep.lag_alarm, Dur::from_secs(300));
    assert_eq!(
        lag_severity(rep.lag_secs, rep.lag_alarm, env.objectives.rpo),
        Severity::Crit
    );
    // The newest datapoint counts, not the worst of the window: an older spike is history.
    let cw = cloudwatch(&moto, DR_REGION).await;
    put_lag_at(
        &cw,
        DR_DB,
        900.0,
        chrono::Utc::now() - chrono::TimeDelta::minutes(5),
    )
    .await;
    let sample = source.poll().await.expect("sample");
    let lag = sample
        .database("dr-replica")
        .and_then(|d| d.replication.clone())
        .and_then(|r| r.lag_secs);
    assert_eq!(lag, Some(420.0));
}

#[tokio::test]
async fn stopped_primary_and_failing_health_check_make_the_region_down() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 1.0).await;
    let env = env_of(&seeded);
    rds(&moto, PRIMARY_REGION)
        .await
        .stop_db_instance()
        .db_instance_identifier(PRIMARY_DB)
        .send()
        .await
        .expect("stop");
    moto.health(
        &seeded.health_primary,
        Some(&[
            "Failure: Connection timed out.",
            "Failure: HTTP Status Code 503, Service Unavailable",
            "Failure: Connection refused.",
        ]),
    );
    moto.health(
        &seeded.health_dr,
        Some(&[
            "Success: HTTP Status Code 200, OK",
            "Failure: Connection timed out.",
        ]),
    );
    let p = picture(&env, &moto.connector()).await;
    assert_eq!(
        p.database("primary").map(|d| d.state),
        Some(DbState::Stopped)
    );
    let west = p
        .endpoints
        .iter()
        .find(|e| e.region == "primary")
        .expect("primary check");
    assert!(west.is_down(), "{west:?}");
    assert!(
        west.error
            .as_deref()
            .is_some_and(|e| e.contains("3 of 3 checkers failing")),
        "{west:?}"
    );
    let east = p
        .endpoints
        .iter()
        .find(|e| e.region == "dr")
        .expect("dr check");
    assert_eq!((east.last_ok, east.consecutive_failures), (true, 1));
    assert_eq!(p.region_verdict("primary"), Verdict::Down);
    assert_eq!(p.region_verdict("dr"), Verdict::Degraded);
}

#[tokio::test]
async fn db_promote_calls_promote_read_replica_only_when_executed() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 3.0).await;
    let env = env_of(&seeded);
    let connector = moto.connector();
    moto.reset_calls();
    let backend = AwsBackend::new(&env, Arc::clone(&connector)).with_wait(fast_wait());
    let promote = call("db.promote", &[("db", "dr-replica")]);
    // Describing (the confirmation dialog, dry runs) and checking support call nothing.
    assert!(
        backend.describe(&promote).starts_with(
            "rds:PromoteReadReplica DBInstanceIdentifier=pynomaly-dr (region us-east-1)"
        )
    );
    for &action in warroom::actions::BuiltinAction::ALL {
        let example = Call::example(action, &env).expect("example");
        let _ = backend.unsupported(&example);
        let _ = backend.describe(&example);
    }
    assert_eq!(
        moto.counts(),
        BTreeMap::new(),
        "describe/unsupported must not call AWS"
    );

    let lines = Arc::new(Mutex::new(Vec::new()));
    let seen = Arc::clone(&lines);
    let out = backend
        .execute(&promote, &move |l| seen.lock().expect("lock").push(l))
        .await
        .expect("promote");
    assert!(
        out[0].starts_with("pynomaly-dr promoted: available, standalone primary in us-east-1"),
        "{out:?}"
    );
    assert!(
        lines.lock().expect("lock")[0]
            .starts_with("rds:PromoteReadReplica DBInstanceIdentifier=pynomaly-dr accepted")
    );
    let calls = moto.calls_of("rds:PromoteReadReplica");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["region"], DR_REGION);
    assert_eq!(calls[0]["params"]["DBInstanceIdentifier"], DR_DB);

    // The panes now show a standalone primary whose replication was promoted.
    let sample = rds_source(&env, "dr", connector)
        .poll()
        .await
        .expect("sample");
    let dr = sample.database("dr-replica").expect("dr");
    assert_eq!(dr.role, DbRole::Primary);
    assert_eq!(
        dr.replication.as_ref().map(|r| r.state),
        Some(ReplicationState::Promoted)
    );
}

#[tokio::test]
async fn dns_point_upserts_the_record_and_waits_for_insync() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 3.0).await;
    let env = env_of(&seeded);
    let connector = moto.connector();
    let backend = AwsBackend::new(&env, Arc::clone(&connector)).with_wait(fast_wait());
    moto.reset_calls();
    let out = backend
        .execute(
            &call("dns.point", &[("dns", "api"), ("region", "dr")]),
            &|_| {},
        )
        .await
        .expect("dns.point");
    assert!(
        out[0].starts_with("api.pynomaly.example now points at dr (api-use1.pynomaly.example)"),
        "{out:?}"
    );
    assert_eq!(moto.count("route53:ChangeResourceRecordSets"), 1);
    let r53 = route53(&moto).await;
    assert_eq!(record_value(&r53, &seeded.zone_id, RECORD).await, DR_TARGET);
    let mut source = Route53Source::for_env(&env, connector).expect("route53 source");
    let sample = source.poll().await.expect("sample");
    assert_eq!(sample.dns[0].target_region, "dr");
    // A region without a target is refused before any call.
    moto.reset_calls();
    let env_one = Environment::parse(
        "e.toml",
        &two_region_env(&seeded).replace(", dr = \"api-use1.pynomaly.example\"", ""),
    )
    .expect("env");
    let err = AwsBackend::new(&env_one, moto.connector())
        .execute(
            &call("dns.point", &[("dns", "api"), ("region", "dr")]),
            &|_| {},
        )
        .await
        .expect_err("no target")
        .to_string();
    assert!(err.contains("no target for region \"dr\""), "{err}");
    assert_eq!(moto.counts(), BTreeMap::new());
}

/// `forensic = true`: a manual snapshot named `forensic-<instance>-<time>` and tagged
/// `warroom:purpose=forensic` (RDS's automated retention never deletes a manual snapshot); the
/// output names it, and the description shown before confirming says the same.
#[tokio::test]
async fn a_forensic_snapshot_is_named_and_tagged_as_evidence() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 3.0).await;
    let env = env_of(&seeded);
    let connector = moto.connector();
    let backend = AwsBackend::new(&env, Arc::clone(&connector)).with_wait(fast_wait());
    let forensic = call(
        "backup.snapshot",
        &[("backup", "snapshots"), ("forensic", "true")],
    );
    let described = backend.describe(&forensic);
    assert!(
        described.contains("DBSnapshotIdentifier=forensic-pynomaly-prod-")
            && described.contains("Tags=warroom:purpose=forensic"),
        "{described}"
    );
    let out = backend.execute(&forensic, &|_| {}).await.expect("snapshot");
    assert!(
        out[0].starts_with("snapshot forensic-pynomaly-prod-"),
        "{out:?}"
    );
    assert!(
        out.iter()
            .any(|l| l.starts_with("kept as forensic evidence: forensic-pynomaly-prod-")),
        "{out:?}"
    );
    let calls = moto.calls_of("rds:CreateDBSnapshot");
    let made = calls.last().expect("CreateDBSnapshot");
    let id = made["params"]["DBSnapshotIdentifier"]
        .as_str()
        .expect("id")
        .to_string();
    let client = rds(&moto, PRIMARY_REGION).await;
    let listed = client
        .describe_db_snapshots()
        .db_snapshot_identifier(&id)
        .send()
        .await
        .expect("describe");
    let snapshot = &listed.db_snapshots()[0];
    assert_eq!(snapshot.snapshot_type(), Some("manual"));
    let arn = snapshot.db_snapshot_arn().expect("arn").to_string();
    let tags = client
        .list_tags_for_resource()
        .resource_name(&arn)
        .send()
        .await
        .expect("tags");
    assert!(
        tags.tag_list()
            .iter()
            .any(|t| t.key() == Some("warroom:purpose") && t.value() == Some("forensic")),
        "{:?}",
        tags.tag_list()
    );
}

#[tokio::test]
async fn backup_snapshot_creates_a_manual_snapshot() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 3.0).await;
    let env = env_of(&seeded);
    let connector = moto.connector();
    let backend = AwsBackend::new(&env, Arc::clone(&connector)).with_wait(fast_wait());
    let out = backend
        .execute(
            &call("backup.snapshot", &[("backup", "snapshots")]),
            &|_| {},
        )
        .await
        .expect("snapshot");
    assert!(
        out[0].starts_with("snapshot warroom-pynomaly-prod-"),
        "{out:?}"
    );
    let calls = moto.calls_of("rds:CreateDBSnapshot");
    let made = calls.last().expect("CreateDBSnapshot");
    assert_eq!(made["params"]["DBInstanceIdentifier"], PRIMARY_DB);
    let id = made["params"]["DBSnapshotIdentifier"]
        .as_str()
        .expect("id")
        .to_string();
    let listed = rds(&moto, PRIMARY_REGION)
        .await
        .describe_db_snapshots()
        .db_snapshot_identifier(&id)
        .send()
        .await
        .expect("describe");
    assert_eq!(listed.db_snapshots()[0].snapshot_type(), Some("manual"));
    let mut source = SnapshotSource::for_region(&env, "primary", None, connector).expect("source");
    let sample = source.poll().await.expect("sample");
    let b = sample.backup("snapshots").expect("series");
    assert_eq!(b.successes_24h, 2, "the seeded manual one and the new one");
}

#[tokio::test]
async fn db_failover_of_an_aurora_cluster() {
    let Some(moto) = Moto::start() else { return };
    let west = rds(&moto, PRIMARY_REGION).await;
    west.create_db_cluster()
        .db_cluster_identifier("pynomaly-aurora")
        .engine("aurora-postgresql")
        .master_username("warroom")
        .master_user_password("not-a-secret-1")
        .send()
        .await
        .expect("cluster");
    for (i, id) in ["aurora-1", "aurora-2"].iter().enumerate() {
        west.create_db_instance()
            .db_instance_identifier(*id)
            .db_cluster_identifier("pynomaly-aurora")
            .engine("aurora-postgresql")
            .db_instance_class("db.r6g.large")
            .promotion_tier(i32::try_from(i).unwrap_or(0))
            .send()
            .await
            .expect("cluster instance");
    }
    let env = Environment::parse(
        "aurora.toml",
        r#"
name = "aurora"
objectives = { rto = "30m", rpo = "5m" }
[[regions]]
name = "primary"
id = "us-west-2"
role = "primary"
[[databases]]
name = "aurora"
region = "primary"
aws = { cluster = "pynomaly-aurora" }
"#,
    )
    .expect("env");
    let connector = moto.connector();
    let sample = rds_source(&env, "primary", Arc::clone(&connector))
        .poll()
        .await
        .expect("sample");
    assert_eq!(
        sample.database("aurora").map(|d| (d.role, d.state)),
        Some((DbRole::Primary, DbState::Available))
    );
    let backend = AwsBackend::new(&env, connector).with_wait(fast_wait());
    let out = backend
        .execute(&call("db.failover", &[("db", "aurora")]), &|_| {})
        .await
        .expect("failover");
    assert!(
        out[0].starts_with("cluster pynomaly-aurora failed over: writer "),
        "{out:?}"
    );
    let calls = moto.calls_of("rds:FailoverDBCluster");
    assert_eq!(calls.len(), 1);
    assert_eq!(calls[0]["params"]["DBClusterIdentifier"], "pynomaly-aurora");
}

#[tokio::test]
async fn notify_webhook_posts_json_and_never_shows_the_url() {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().expect("addr").port();
    let received = Arc::new(Mutex::new(String::new()));
    let got = Arc::clone(&received);
    let status = Arc::new(Mutex::new("200 OK"));
    let answer = Arc::clone(&status);
    std::thread::spawn(move || {
        for conn in server.incoming().take(2) {
            let Ok(mut conn) = conn else { continue };
            let mut buf = vec![0u8; 8192];
            let mut request = Vec::new();
            conn.set_read_timeout(Some(Duration::from_secs(5))).ok();
            // Headers, then the body by Content-Length.
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request).to_string();
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .map(|v| v.trim().parse::<usize>().unwrap_or(0))
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            *got.lock().expect("lock") = String::from_utf8_lossy(&request).to_string();
            let line = *answer.lock().expect("lock");
            let _ = write!(
                conn,
                "HTTP/1.1 {line}\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    let secret_url = format!("http://127.0.0.1:{port}/hooks/T000-SECRET-TOKEN");
    let env = Environment::parse(
        "hook.toml",
        &two_region_env(&Seeded {
            zone_id: "Z1".into(),
            health_primary: "a".into(),
            health_dr: "b".into(),
        }),
    )
    .expect("env");
    let url = secret_url.clone();
    let backend = AwsBackend::new(&env, Arc::new(Connector::new(AwsOptions::default())))
        .with_var_lookup(Arc::new(move |name| {
            (name == "WARROOM_WEBHOOK_URL").then(|| url.clone())
        }));
    let notify = call(
        "notify.webhook",
        &[("message", "Failing over to us-east-1")],
    );
    assert!(!backend.describe(&notify).contains("SECRET"));
    let out = backend.execute(&notify, &|_| {}).await.expect("posted");
    assert_eq!(
        out,
        ["posted to 127.0.0.1 via the webhook in $WARROOM_WEBHOOK_URL (200 OK)"]
    );
    let request = received.lock().expect("lock").clone();
    assert!(
        request.starts_with("POST /hooks/T000-SECRET-TOKEN HTTP/1.1"),
        "{request}"
    );
    assert!(
        request.contains(
            "{\"environment\":\"aws-two-region\",\"text\":\"Failing over to us-east-1\"}"
        ),
        "{request}"
    );

    *status.lock().expect("lock") = "500 Internal Server Error";
    let err = backend
        .execute(&notify, &|_| {})
        .await
        .expect_err("500")
        .to_string();
    assert!(
        err.contains("answered 500 Internal Server Error") && !err.contains("SECRET"),
        "{err}"
    );
    // Unreachable: the error names the variable, never the URL.
    let err = backend
        .execute(&notify, &|_| {})
        .await
        .expect_err("closed")
        .to_string();
    assert!(
        err.starts_with("notify.webhook: POST to $WARROOM_WEBHOOK_URL failed")
            && !err.contains("SECRET"),
        "{err}"
    );
    let unset = AwsBackend::new(&env, Arc::new(Connector::new(AwsOptions::default())))
        .with_var_lookup(Arc::new(|_| None));
    let err = unset
        .execute(&notify, &|_| {})
        .await
        .expect_err("unset")
        .to_string();
    assert_eq!(
        err,
        "notify.webhook: $WARROOM_WEBHOOK_URL is not set; export the webhook URL in it and retry"
    );
}

/// Polls through the real poller task; returns its first `n` results.
async fn poll_n(source: Box<dyn Source>, n: usize) -> Vec<Result<Sample, SourceError>> {
    let (tx, mut rx) = tokio::sync::mpsc::unbounded_channel();
    let task = tokio::spawn(run_poller(SourceId(0), source, move |_, r| {
        tx.send(r).is_ok()
    }));
    let mut out = Vec::new();
    while out.len() < n {
        match tokio::time::timeout(Duration::from_secs(30), rx.recv()).await {
            Ok(Some(r)) => out.push(r),
            other => panic!("poller went quiet after {} results: {other:?}", out.len()),
        }
    }
    assert!(!task.is_finished(), "the poller keeps running");
    task.abort();
    out
}

#[tokio::test]
async fn unreachable_endpoint_is_a_stale_error_and_the_poller_keeps_going() {
    let closed = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = closed.local_addr().expect("addr").port();
    drop(closed);
    let options = AwsOptions {
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        credentials: Some(aws_sdk_rds::config::Credentials::new(
            "a", "b", None, None, "t",
        )),
        max_attempts: 1,
        ..AwsOptions::default()
    };
    let seeded = Seeded {
        zone_id: "Z1".into(),
        health_primary: "a".into(),
        health_dr: "b".into(),
    };
    let env = env_of(&seeded);
    let targets = warroom::telemetry::aws::rds::db_targets(&env);
    let source = RdsSource::new(
        "us-west-2".into(),
        None,
        Arc::new(Connector::new(options)),
        targets.0,
        targets.1,
        Duration::from_millis(100),
    );
    for r in poll_n(Box::new(source), 3).await {
        match r {
            Err(SourceError::Failed { message, .. }) => {
                // Instances and lag are read together; whichever fails first is reported.
                assert!(
                    message.contains(" in us-west-2: cannot reach AWS: Connection refused"),
                    "{message}"
                );
                assert!(
                    message.ends_with("(check the network, a proxy, or --endpoint-url)"),
                    "{message}"
                );
            }
            other => panic!("expected a failure, got {other:?}"),
        }
    }
}

#[tokio::test]
async fn throttling_backs_off_then_recovers() {
    let Some(moto) = Moto::start() else { return };
    let seeded = seed_two_regions(&moto, 5.0).await;
    let env = env_of(&seeded);
    let targets = warroom::telemetry::aws::rds::db_targets(&env);
    let mut source = RdsSource::new(
        DR_REGION.into(),
        None,
        moto.connector(),
        targets.0.into_iter().filter(|t| t.region == "dr").collect(),
        targets.1,
        Duration::from_millis(400),
    );
    moto.reset_calls();
    moto.fault("rds:DescribeDBInstances", "Throttling", -1);
    let err = source.poll().await.expect_err("throttled");
    let text = err.to_string();
    assert!(
        text.contains("rds:DescribeDBInstances in us-east-1: Throttling: "),
        "{text}"
    );
    assert!(text.contains("backing off"), "{text}");
    // The SDK retried once (max_attempts 2) with back-off.
    assert_eq!(moto.count("rds:DescribeDBInstances"), 2);
    // While backing off, a poll answers at once without calling AWS.
    let err = source.poll().await.expect_err("backing off");
    assert!(err.to_string().contains("next try in"), "{err}");
    assert_eq!(moto.count("rds:DescribeDBInstances"), 2);
    // AWS calms down; after the back-off the source reads again.
    moto.reset_calls();
    tokio::time::sleep(Duration::from_millis(450)).await;
    let sample = source.poll().await.expect("recovered");
    assert_eq!(
        sample.database("dr-replica").map(|d| d.state),
        Some(DbState::Available)
    );
}

#[tokio::test]
async fn a_hung_endpoint_times_out() {
    // Accepts connections and never answers.
    let hung = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = hung.local_addr().expect("addr").port();
    let keep = std::thread::spawn(move || {
        let conns: Vec<_> = hung.incoming().take(4).collect();
        std::thread::sleep(Duration::from_secs(5));
        drop(conns);
    });
    let options = AwsOptions {
        endpoint_url: Some(format!("http://127.0.0.1:{port}")),
        credentials: Some(aws_sdk_rds::config::Credentials::new(
            "a", "b", None, None, "t",
        )),
        attempt_timeout: Duration::from_millis(400),
        operation_timeout: Duration::from_millis(800),
        max_attempts: 1,
        ..AwsOptions::default()
    };
    let seeded = Seeded {
        zone_id: "Z1".into(),
        health_primary: "a".into(),
        health_dr: "b".into(),
    };
    let env = env_of(&seeded);
    let targets = warroom::telemetry::aws::rds::db_targets(&env);
    let mut source = RdsSource::new(
        PRIMARY_REGION.into(),
        None,
        Arc::new(Connector::new(options)),
        targets
            .0
            .into_iter()
            .filter(|t| t.region == "primary")
            .collect(),
        targets.1,
        Duration::from_secs(1),
    );
    let started = std::time::Instant::now();
    let err = source.poll().await.expect_err("timed out");
    assert!(
        started.elapsed() < Duration::from_secs(3),
        "{:?}",
        started.elapsed()
    );
    assert!(err.to_string().contains("no answer"), "{err}");
    drop(keep);
}

/// The measurement behind the AWS figures of BENCHMARKS.md (not a pass/fail test):
/// `cargo test --release --test aws_backend -- --ignored --nocapture bench_status_vs_boto3`.
/// 50 databases (25 primaries in us-west-2, each with a cross-region replica in us-east-1), a
/// manual snapshot series per database, ReplicaLag for the 25 replicas, 50 health checks, one
/// record; then `warroom status --json` and `benches/aws_boto3_baseline.py` (the same reads one
/// by one) five times each, timed as whole processes, with the calls each made.
#[test]
#[ignore = "measurement; run explicitly in release"]
fn bench_status_vs_boto3() {
    let Some(moto) = Moto::start() else { return };
    const PAIRS: usize = 25;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = rt.block_on(async {
        let west = rds(&moto, PRIMARY_REGION).await;
        let east = rds(&moto, DR_REGION).await;
        let cw = cloudwatch(&moto, DR_REGION).await;
        let r53 = route53(&moto).await;
        let mut checks = Vec::new();
        for i in 0..PAIRS {
            let arn = create_instance(&west, &format!("db-{i}")).await;
            create_replica(&east, &format!("db-{i}-dr"), &arn).await;
            for (client, id) in [(&west, format!("db-{i}")), (&east, format!("db-{i}-dr"))] {
                client
                    .create_db_snapshot()
                    .db_instance_identifier(&id)
                    .db_snapshot_identifier(format!("{id}-manual"))
                    .send()
                    .await
                    .expect("snapshot");
            }
            put_lag(&cw, &format!("db-{i}-dr"), i as f64).await;
            checks.push(create_health_check(&r53, &format!("api-{i}.west.example")).await);
            checks.push(create_health_check(&r53, &format!("api-{i}.east.example")).await);
        }
        let zone = r53
            .create_hosted_zone()
            .name(ZONE_NAME)
            .caller_reference("bench")
            .send()
            .await
            .expect("zone");
        let zone_id = zone
            .hosted_zone()
            .expect("zone")
            .id()
            .trim_start_matches("/hostedzone/")
            .to_string();
        upsert_cname(&r53, &zone_id, RECORD, PRIMARY_TARGET).await;
        (zone_id, checks)
    });
    let (zone_id, checks) = seeded;
    let list = |ids: Vec<&String>| {
        ids.iter()
            .map(|c| format!("\"{c}\""))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let mut env = format!(
        "name = \"bench-50\"\nobjectives = {{ rto = \"30m\", rpo = \"5m\" }}\n\
         [[regions]]\nname = \"primary\"\nid = \"{PRIMARY_REGION}\"\nrole = \"primary\"\n\
         route53_health_check = [{}]\n\
         [[regions]]\nname = \"dr\"\nid = \"{DR_REGION}\"\nrole = \"dr\"\n\
         route53_health_check = [{}]\n",
        list(checks.iter().step_by(2).collect()),
        list(checks.iter().skip(1).step_by(2).collect()),
    );
    for i in 0..PAIRS {
        env.push_str(&format!(
            "[[databases]]\nname = \"db-{i}\"\nregion = \"primary\"\naws = {{ instance = \"db-{i}\" }}\n\
             [[databases]]\nname = \"db-{i}-dr\"\nregion = \"dr\"\nreplica_of = \"db-{i}\"\n\
             aws = {{ instance = \"db-{i}-dr\" }}\n"
        ));
    }
    for i in 0..PAIRS {
        for id in [format!("db-{i}"), format!("db-{i}-dr")] {
            env.push_str(&format!(
                "[[backups]]\nname = \"{id}-snapshots\"\nkind = \"RDS snapshot\"\nevery = \"24h\"\n\
                 aws_snapshots = {{ instance = \"{id}\", type = \"manual\" }}\n"
            ));
        }
    }
    env.push_str(&format!(
        "[[dns]]\nname = \"api\"\nrecord = \"{RECORD}\"\npoints_to = \"primary\"\n\
         aws = {{ zone = \"{zone_id}\", targets = {{ primary = \"{PRIMARY_TARGET}\", dr = \"{DR_TARGET}\" }} }}\n"
    ));
    let dir = Scratch::new("bench");
    let env_path = dir.0.join("bench-50.toml");
    std::fs::write(&env_path, &env).expect("env file");
    let env_arg = env_path.to_string_lossy().into_owned();
    let python = std::env::var("WARROOM_MOTO_PYTHON").unwrap_or_else(|_| "python3".into());
    let baseline =
        std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("benches/aws_boto3_baseline.py");

    const RUNS: usize = 5;
    let mut ours = Vec::new();
    let mut ours_calls = BTreeMap::new();
    for _ in 0..RUNS {
        moto.reset_calls();
        let (code, out, err, took) = run_warroom(
            &[
                "status",
                "--json",
                "--env",
                &env_arg,
                "--endpoint-url",
                &moto.url,
            ],
            &dir.0,
        );
        assert_eq!(code, 0, "{out}\n{err}");
        let v: serde_json::Value = serde_json::from_str(&out).expect("json");
        assert_eq!(v["replica_lag"].as_array().map(Vec::len), Some(PAIRS));
        assert_eq!(v["backups"].as_array().map(Vec::len), Some(2 * PAIRS));
        ours.push(took);
        ours_calls = moto.counts();
    }
    let mut theirs = Vec::new();
    let mut theirs_calls = BTreeMap::new();
    let mut theirs_read = Vec::new();
    for _ in 0..RUNS {
        moto.reset_calls();
        let started = std::time::Instant::now();
        let out = std::process::Command::new(&python)
            .arg(&baseline)
            .arg(&env_path)
            .arg(&moto.url)
            .env("AWS_ACCESS_KEY_ID", TEST_KEY_ID)
            .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
            .env("AWS_CONFIG_FILE", dir.0.join("none"))
            .env("AWS_SHARED_CREDENTIALS_FILE", dir.0.join("none"))
            .env("AWS_EC2_METADATA_DISABLED", "true")
            .output()
            .expect("run the boto3 baseline");
        let took = started.elapsed();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("json");
        theirs_read.push(v["read_secs"].as_f64().unwrap_or_default());
        theirs.push(took);
        theirs_calls = moto.counts();
    }
    let median = |mut v: Vec<Duration>| {
        v.sort();
        v[v.len() / 2]
    };
    let (a, b) = (median(ours.clone()), median(theirs.clone()));
    let total = |m: &BTreeMap<String, u64>| m.values().sum::<u64>();
    println!(
        "runs: {RUNS} each; 50 databases (25 replicas), 50 snapshot series, 50 health checks, 1 record"
    );
    println!(
        "warroom status --json: median {a:?} (all: {ours:?}); calls per refresh {} {ours_calls:?}",
        total(&ours_calls)
    );
    println!(
        "boto3 one by one:      median {b:?} (all: {theirs:?}); in-script read time {theirs_read:?}; calls {} {theirs_calls:?}",
        total(&theirs_calls)
    );
    println!(
        "wall-time ratio boto3/warroom: {:.1}x",
        b.as_secs_f64() / a.as_secs_f64()
    );
    assert_eq!(
        ours_calls.get("monitoring:GetMetricData"),
        Some(&1),
        "lag: one call per region with replicas"
    );
}
