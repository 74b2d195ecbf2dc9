//! Every built-in action against every backend: the simulator, the lab (real PostgreSQL), and
//! AWS on the moto emulator. For each action the backend either runs it (and it succeeds) or
//! says why it cannot (and running it fails with that reason), and `warroom check` agrees with
//! both: it prints the backend's own description of the exact call for a supported action and
//! the backend's reason for an unsupported one.
//!
//! The calls per backend are chosen by an exhaustive `match` over `BuiltinAction`, so a new
//! action does not compile here either until it has a call on every backend.

#![cfg(feature = "aws")]

mod aws_common;
mod common_pg;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::path::Path;
use std::process::Command;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use warroom::actions::{ActionBackend, ActionError, ArgKind, BuiltinAction, Call};
use warroom::env::Environment;

/// The step id of an action in the conformance playbook: `db.read_only` -> `db-read_only`.
fn step_id(action: BuiltinAction) -> String {
    action.name().replace('.', "-")
}

/// A playbook with one step per call, in order.
fn playbook(calls: &[Call]) -> String {
    let mut out = String::from(
        "id = \"conformance\"\ntitle = \"Every built-in action\"\nscenario = \"region-loss\"\n\
         rto = \"30m\"\nrpo = \"5m\"\n",
    );
    for (i, call) in calls.iter().enumerate() {
        let spec = call.spec();
        let with: Vec<String> = call
            .args()
            .into_iter()
            .map(|(name, value)| {
                let kind = spec.args.iter().find(|a| a.name == name).map(|a| a.kind);
                match kind {
                    Some(ArgKind::Count | ArgKind::Flag) => format!("{name} = {value}"),
                    _ => format!("{name} = {value:?}"),
                }
            })
            .collect();
        out.push_str(&format!(
            "\n[[steps]]\nid = \"{}\"\ntitle = \"{}\"\ntarget = \"1m\"\nguide = \"Run it.\"\n\
             action = \"{}\"\nwith = {{ {} }}\n{}",
            step_id(call.action()),
            call.name(),
            call.name(),
            with.join(", "),
            if i + 1 == calls.len() {
                "restores_service = true\n"
            } else {
                ""
            }
        ));
    }
    out
}

/// What `warroom check` said per step: the description of a supported action (stdout) or the
/// reason of an unsupported one (stderr).
#[derive(Debug, Default)]
struct Checked {
    described: Vec<(String, String)>,
    refused: Vec<(String, String)>,
}

fn check(env_file: Option<&Path>, calls: &[Call], dir: &Path) -> Checked {
    let pb = dir.join("conformance.toml");
    std::fs::write(&pb, playbook(calls)).expect("write playbook");
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_warroom"));
    if let Some(env) = env_file {
        cmd.arg("--env").arg(env);
    }
    let out = cmd
        .arg("check")
        .arg(&pb)
        .env("XDG_STATE_HOME", dir)
        .output()
        .expect("run warroom check");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr).into_owned();
    assert_eq!(out.status.code(), Some(0), "{stdout}\n{stderr}");
    let mut checked = Checked::default();
    for line in stdout.lines() {
        if let Some((id, what)) = line.strip_prefix("    ").and_then(|l| l.split_once(": ")) {
            checked.described.push((id.to_string(), what.to_string()));
        }
    }
    for line in stderr.lines() {
        let Some((_, rest)) = line.split_once(": step ") else {
            continue;
        };
        if let Some((id, reason)) = rest.split_once(": action ") {
            checked.refused.push((id.to_string(), reason.to_string()));
        }
    }
    checked
}

/// The whole contract for one backend: `calls` covers every action once; `check` agrees with
/// the backend's support answer; supported calls succeed, unsupported ones fail with the reason.
async fn conform(
    backend: &dyn ActionBackend,
    env_file: Option<&Path>,
    calls: Vec<Call>,
    dir: &Path,
) -> Vec<String> {
    let actions: Vec<BuiltinAction> = calls.iter().map(Call::action).collect();
    let mut sorted = actions.clone();
    sorted.sort();
    let mut all = BuiltinAction::ALL.to_vec();
    all.sort();
    assert_eq!(sorted, all, "one call per action");

    let checked = check(env_file, &calls, dir);
    let mut report = Vec::new();
    for call in &calls {
        let id = step_id(call.action());
        let described = checked
            .described
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, d)| d.clone());
        let refused = checked
            .refused
            .iter()
            .find(|(s, _)| *s == id)
            .map(|(_, r)| r.clone());
        let result = backend.execute(call, &|_| {}).await;
        match backend.unsupported(call) {
            None => {
                assert_eq!(
                    described.as_deref(),
                    Some(backend.describe(call).as_str()),
                    "{}: check prints the backend's description",
                    call.name()
                );
                assert_eq!(
                    refused,
                    None,
                    "{}: check refuses a supported action",
                    call.name()
                );
                let lines = result.unwrap_or_else(|e| {
                    panic!(
                        "{} on {}: supported but failed: {e}",
                        call.text(),
                        backend.name()
                    )
                });
                report.push(format!("{}: ran ({} lines)", call.name(), lines.len()));
            }
            Some(why) => {
                assert!(!why.is_empty(), "{}: a reason", call.name());
                assert_eq!(
                    refused,
                    Some(format!("{}: {why}", call.name())),
                    "{}: check says the backend's reason",
                    call.name()
                );
                assert_eq!(
                    described,
                    None,
                    "{}: check describes an unsupported action",
                    call.name()
                );
                // Typed: unsupported (nothing attempted), with the very reason `check` gave.
                let err = result.expect_err("an unsupported action fails");
                assert!(
                    matches!(&err, ActionError::Unsupported { action, why: w } if *action == call.name() && *w == why),
                    "{}: {err:?} is not Unsupported with {why}",
                    call.name()
                );
                assert!(
                    backend.describe(call).contains(&why),
                    "{}: the description says why",
                    call.name()
                );
                report.push(format!("{}: unsupported", call.name()));
            }
        }
    }
    println!("{}:\n  {}", backend.name(), report.join("\n  "));
    report
}

fn wire_options() -> warroom::backends::WireOptions {
    warroom::backends::WireOptions {
        seed: 1,
        clock: warroom::clock::SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0),
        endpoint_url: None,
    }
}

fn call(name: &str, args: &[(&str, &str)]) -> Call {
    Call::parse(name, args).expect("a valid call")
}

// ------------------------------------------------------------------------------ simulator

/// The simulator's calls, in the order they run on one simulated deployment.
fn sim_call(action: BuiltinAction) -> Call {
    match action {
        BuiltinAction::DbPromote => call("db.promote", &[("db", "dr-replica")]),
        BuiltinAction::DbFailover => call("db.failover", &[("db", "primary")]),
        BuiltinAction::DbReadOnly => {
            call("db.read_only", &[("db", "primary"), ("enabled", "true")])
        }
        BuiltinAction::DbRestore => {
            call("db.restore", &[("db", "primary"), ("backup", "snapshots")])
        }
        BuiltinAction::DnsPoint => call("dns.point", &[("dns", "api"), ("region", "dr")]),
        BuiltinAction::AppScale => call(
            "app.scale",
            &[("app", "api"), ("region", "dr"), ("replicas", "4")],
        ),
        BuiltinAction::BackupSnapshot => call("backup.snapshot", &[("backup", "snapshots")]),
        BuiltinAction::BackupVerify => call("backup.verify", &[("backup", "snapshots")]),
        BuiltinAction::SecretRotate => call("secret.rotate", &[("region", "primary")]),
        BuiltinAction::HttpCheck => call("http.check", &[("region", "dr")]),
        BuiltinAction::NotifyWebhook => call("notify.webhook", &[("message", "conformance")]),
        BuiltinAction::HaPause => call("ha.pause", &[("db", "primary")]),
        BuiltinAction::HaResume => call("ha.resume", &[("db", "primary")]),
    }
}

/// The order the calls run in on one deployment (a restore takes the primary away for a while,
/// so it comes last; the promotion before it).
const ORDER: &[BuiltinAction] = &[
    BuiltinAction::HaPause,
    BuiltinAction::HaResume,
    BuiltinAction::HttpCheck,
    BuiltinAction::NotifyWebhook,
    BuiltinAction::SecretRotate,
    BuiltinAction::BackupSnapshot,
    BuiltinAction::BackupVerify,
    BuiltinAction::DnsPoint,
    BuiltinAction::AppScale,
    BuiltinAction::DbReadOnly,
    BuiltinAction::DbFailover,
    BuiltinAction::DbPromote,
    BuiltinAction::DbRestore,
];

#[tokio::test]
async fn every_action_on_the_simulator() {
    use warroom::actions::sim::SimBackend;
    use warroom::clock::SessionClock;
    use warroom::sim::Sim;
    let dir = aws_common::Scratch::new("conform-sim");
    let env = Environment::demo();
    let clock = SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0);
    let sim = Arc::new(Mutex::new(Sim::new(&env, 1, clock.now())));
    let backend = SimBackend::new(sim, clock);
    let calls = ORDER.iter().map(|&a| sim_call(a)).collect();
    let report = conform(&backend, None, calls, &dir.0).await;
    assert_eq!(
        report.iter().filter(|r| r.ends_with("unsupported")).count(),
        3,
        "{report:?}"
    );
}

// ------------------------------------------------------------------------------ the lab

fn lab_call(action: BuiltinAction) -> Call {
    match action {
        BuiltinAction::DbPromote => call("db.promote", &[("db", "dr-replica")]),
        BuiltinAction::DbFailover => call("db.failover", &[("db", "primary")]),
        // Writes back on: runs the statement and checks the setting without blocking the
        // restore that follows.
        BuiltinAction::DbReadOnly => {
            call("db.read_only", &[("db", "primary"), ("enabled", "false")])
        }
        BuiltinAction::DbRestore => {
            call("db.restore", &[("db", "primary"), ("backup", "snapshots")])
        }
        BuiltinAction::DnsPoint => call("dns.point", &[("dns", "api"), ("region", "dr")]),
        BuiltinAction::AppScale => call(
            "app.scale",
            &[("app", "api"), ("region", "dr"), ("replicas", "4")],
        ),
        BuiltinAction::BackupSnapshot => call("backup.snapshot", &[("backup", "snapshots")]),
        BuiltinAction::BackupVerify => call("backup.verify", &[("backup", "snapshots")]),
        BuiltinAction::SecretRotate => call("secret.rotate", &[("region", "primary")]),
        BuiltinAction::HttpCheck => call("http.check", &[("region", "dr")]),
        BuiltinAction::NotifyWebhook => call("notify.webhook", &[("message", "conformance")]),
        BuiltinAction::HaPause => call("ha.pause", &[("db", "primary")]),
        BuiltinAction::HaResume => call("ha.resume", &[("db", "primary")]),
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_on_the_lab() {
    if !common_pg::postgres_or_skip() {
        return;
    }
    let lab = common_pg::TestLab::up_with(
        "conform",
        &warroom::lab::UpOptions {
            health_exe: Some(env!("CARGO_BIN_EXE_warroom").into()),
            first_dumps: false,
            orders: 500,
        },
    )
    .await;
    // The console's backend for the lab: the router, which sends every call here to the
    // PostgreSQL backend (databases, backup directories, HTTP health) or says why not.
    let backend = warroom::backends::action_backend(&lab.env, &wire_options()).expect("backend");
    assert_eq!(backend.name(), "postgres");
    let calls = ORDER.iter().map(|&a| lab_call(a)).collect();
    let env_file = lab.state.env_file();
    let dir = aws_common::Scratch::new("conform-lab");
    let report = conform(backend.as_ref(), Some(&env_file), calls, &dir.0).await;
    let unsupported: Vec<&String> = report
        .iter()
        .filter(|r| r.ends_with("unsupported"))
        .collect();
    assert_eq!(unsupported.len(), 7, "{report:?}");
}

// ------------------------------------------------------------------------------ AWS (moto)

fn aws_call(action: BuiltinAction) -> Call {
    match action {
        BuiltinAction::DbPromote => call("db.promote", &[("db", "dr-replica")]),
        BuiltinAction::DbFailover => call("db.failover", &[("db", "primary")]),
        BuiltinAction::DbReadOnly => call("db.read_only", &[("db", "primary")]),
        BuiltinAction::DbRestore => {
            call("db.restore", &[("db", "primary"), ("backup", "snapshots")])
        }
        BuiltinAction::DnsPoint => call("dns.point", &[("dns", "api"), ("region", "dr")]),
        BuiltinAction::AppScale => call(
            "app.scale",
            &[("app", "api"), ("region", "dr"), ("replicas", "4")],
        ),
        BuiltinAction::BackupSnapshot => call("backup.snapshot", &[("backup", "snapshots")]),
        BuiltinAction::BackupVerify => call("backup.verify", &[("backup", "snapshots")]),
        BuiltinAction::SecretRotate => call("secret.rotate", &[("region", "primary")]),
        BuiltinAction::HttpCheck => call("http.check", &[("region", "dr")]),
        BuiltinAction::NotifyWebhook => call("notify.webhook", &[("message", "conformance")]),
        BuiltinAction::HaPause => call("ha.pause", &[("db", "primary")]),
        BuiltinAction::HaResume => call("ha.resume", &[("db", "primary")]),
    }
}

/// A webhook receiver on loopback that answers 200 to every request; returns its URL.
fn webhook() -> String {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().expect("addr").port();
    std::thread::spawn(move || {
        for conn in server.incoming() {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_secs(2))).ok();
            let mut buf = [0u8; 8192];
            let _ = conn.read(&mut buf);
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    format!("http://127.0.0.1:{port}/hook")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_action_on_aws() {
    use warroom::actions::aws::{AwsBackend, WaitPolicy};
    let Some(moto) = aws_common::Moto::start() else {
        return;
    };
    let dir = aws_common::Scratch::new("conform-aws");
    let seeded = aws_common::seed_two_regions(&moto, 3.0).await;
    // An application (no binding yet): `app.scale` names it, and AWS says why it cannot scale it.
    let text = aws_common::two_region_env(&seeded)
        + "\n[[apps]]\nname = \"api\"\nreplicas = { primary = 3, dr = 1 }\n";
    let env_file = dir.0.join("aws.toml");
    std::fs::write(&env_file, &text).expect("write env");
    let env = Environment::parse("aws.toml", &text).expect("env");
    let url = webhook();
    let backend = AwsBackend::new(&env, moto.connector())
        .with_wait(WaitPolicy {
            poll: Duration::from_millis(50),
            promote: Duration::from_secs(20),
            failover: Duration::from_secs(20),
            snapshot: Duration::from_secs(20),
            dns: Duration::from_secs(20),
            webhook: Duration::from_secs(5),
        })
        .with_var_lookup(Arc::new(move |name| {
            (name == "WARROOM_WEBHOOK_URL").then(|| url.clone())
        }));
    // The console's router over the AWS backend (short waits, the test's webhook).
    let mut router = warroom::actions::router::Router::new(&env);
    router.aws = Some(Arc::new(backend));
    let calls = ORDER.iter().map(|&a| aws_call(a)).collect();
    let report = conform(&router, Some(&env_file), calls, &dir.0).await;
    let unsupported: Vec<&String> = report
        .iter()
        .filter(|r| r.ends_with("unsupported"))
        .collect();
    assert_eq!(unsupported.len(), 8, "{report:?}");
}
