//! `status` says why each source failed, and exits 1 (issue 9, point 4), against a real
//! PostgreSQL (the lab helpers of `tests/common_pg`, with password authentication added for one
//! role): a wrong password, a closed port and a black-holed port (a listener the test holds that
//! never accepts) give three different reasons; the right password exits 0. The console shows the
//! same reasons in the Regions pane and writes them to its log.
//!
//! Skipped without PostgreSQL (failing instead under `CI`).

mod common;
mod common_pg;

use std::net::TcpListener;
use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common::{BIN, Scratch, Tui};
use common_pg::{TestLab, postgres_or_skip};

const ROLE: &str = "wr_pw";
const RIGHT: &str = "right-password-7f3a";
const WRONG: &str = "not-the-pw-91c2";

/// A lab whose primary also accepts `ROLE` with a password (scram-sha-256) on its socket; the
/// lab's own user keeps trust. Returns the socket directory and port.
async fn lab_with_password_role() -> (TestLab, String, u16) {
    let lab = TestLab::up("reasons").await;
    let server = lab.state.server("primary").expect("primary").clone();
    let target = lab.state.target("primary").expect("target");
    let client = target.connect().await.expect("connect as the lab's user");
    client
        .batch_execute(&format!(
            "SET password_encryption = 'scram-sha-256'; \
             CREATE ROLE {ROLE} LOGIN PASSWORD '{RIGHT}'; GRANT pg_monitor TO {ROLE};"
        ))
        .await
        .expect("create the password role");
    // Our line first: pg_hba.conf is read top-down, first match wins.
    let hba = server.data_dir.join("pg_hba.conf");
    let old = std::fs::read_to_string(&hba).expect("read pg_hba.conf");
    std::fs::write(&hba, format!("local all {ROLE} scram-sha-256\n{old}"))
        .expect("write pg_hba.conf");
    client
        .batch_execute("SELECT pg_reload_conf()")
        .await
        .expect("reload");
    drop(client);
    // The reload is asynchronous: wait until the server asks the role for a password.
    let socket = lab.state.socket_dir().display().to_string();
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        let probe = warroom::telemetry::postgres::PgTarget::from_dsn(
            "probe",
            &format!("host={socket} port={} dbname=app user={ROLE}", server.port),
            warroom::duration::Dur::from_secs(2),
        )
        .expect("probe target");
        // SAFETY of the test: no password set anywhere for the probe, so trust would connect.
        match probe.connect_classified().await {
            Err(e)
                if matches!(
                    e.reason,
                    warroom::telemetry::FailureReason::AuthRefused { .. }
                ) =>
            {
                break;
            }
            other => {
                assert!(
                    Instant::now() < deadline,
                    "the server never asked {ROLE} for a password: {:?}",
                    other.map(|_| "connected")
                );
                tokio::time::sleep(Duration::from_millis(100)).await;
            }
        }
    }
    (lab, socket, server.port)
}

fn env_file(dir: &Path, name: &str, databases: &[(&str, String)]) -> String {
    let mut text = format!(
        "name = \"{name}\"\nobjectives = {{ rto = \"30m\", rpo = \"5m\" }}\n\
         [[regions]]\nname = \"primary\"\nid = \"a\"\nrole = \"primary\"\n\
         [[regions]]\nname = \"dr\"\nid = \"b\"\nrole = \"dr\"\n"
    );
    for (db, dsn) in databases {
        text.push_str(&format!(
            "[[databases]]\nname = \"{db}\"\nregion = \"primary\"\n\
             postgres = {{ dsn = \"{dsn}\", password_env = \"WR_TEST_PASSWORD\", connect_timeout = \"1s\" }}\n"
        ));
    }
    let path = dir.join(format!("{name}.toml"));
    std::fs::write(&path, text).expect("write the environment");
    path.display().to_string()
}

fn status(args: &[&str], password: &str, state: &Path) -> (Output, Duration) {
    let started = Instant::now();
    let out = Command::new(BIN)
        .args(args)
        .env("WR_TEST_PASSWORD", password)
        .env("XDG_STATE_HOME", state)
        .env_remove("PGPASSWORD")
        .env("PGPASSFILE", "/nonexistent")
        .output()
        .expect("run warroom status");
    (out, started.elapsed())
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

#[tokio::test(flavor = "multi_thread")]
async fn status_names_three_reasons_and_exits_1_and_0_with_the_right_password() {
    if !postgres_or_skip() {
        return;
    }
    let (lab, socket, port) = lab_with_password_role().await;
    let scratch = Scratch::new("status-reasons");

    // A closed port: bound, then closed.
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    // A black hole: a listener the test holds and never accepts from (the kernel completes the
    // handshake into the backlog; nothing ever answers the startup message).
    let hole = TcpListener::bind("127.0.0.1:0").expect("bind the black hole");
    let hole_port = hole.local_addr().expect("addr").port();

    let bad = env_file(
        scratch.path(),
        "bad",
        &[
            (
                "wrong-password",
                format!("host={socket} port={port} dbname=app user={ROLE}"),
            ),
            (
                "closed-port",
                format!("host=127.0.0.1 port={closed} dbname=app user={ROLE}"),
            ),
            (
                "black-hole",
                format!("host=127.0.0.1 port={hole_port} dbname=app user={ROLE}"),
            ),
        ],
    );
    let (out, took) = status(&["status", "--env", &bad], WRONG, scratch.path());
    let shown = text(&out);
    println!("{shown}\nstatus took {:.2}s", took.as_secs_f64());
    assert_eq!(out.status.code(), Some(1), "{shown}");
    let problem = |db: &str, reason: &str| {
        shown
            .lines()
            .any(|l| l.starts_with(&format!("problem: postgres {db}: unreachable: {reason}")))
    };
    assert!(
        problem("wrong-password", "authentication refused"),
        "{shown}"
    );
    assert!(problem("closed-port", "connection refused"), "{shown}");
    assert!(problem("black-hole", "timeout after 1.5s"), "{shown}");
    // The server's own words come with the reason, and the password never does.
    assert!(
        shown.contains(&format!(
            "password authentication failed for user \"{ROLE}\""
        )),
        "{shown}"
    );
    assert!(!shown.contains(WRONG) && !shown.contains(RIGHT), "{shown}");
    // The rows say it too.
    assert!(
        shown.contains("unreachable: authentication refused")
            && shown.contains("unreachable: connection refused")
            && shown.contains("unreachable: timeout after 1.5s"),
        "{shown}"
    );
    // All three are polled at once: bounded by the slowest (the black hole), not their sum.
    assert!(took < Duration::from_secs(6), "status took {took:?}");

    // The same as JSON, with the reason's kind for scripts.
    let (out, _) = status(&["status", "--json", "--env", &bad], WRONG, scratch.path());
    assert_eq!(out.status.code(), Some(1), "{}", text(&out));
    let json: serde_json::Value = serde_json::from_slice(&out.stdout).expect("status --json");
    let kinds: Vec<(String, String)> = json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .map(|p| {
            (
                p["target"].as_str().unwrap_or_default().to_string(),
                p["reason"]["kind"].as_str().unwrap_or_default().to_string(),
            )
        })
        .collect();
    for (db, kind) in [
        ("wrong-password", "auth-refused"),
        ("closed-port", "connection-refused"),
        ("black-hole", "timeout"),
    ] {
        assert!(
            kinds.contains(&(db.to_string(), kind.to_string())),
            "{kinds:?}"
        );
    }
    let black_hole = &json["problems"]
        .as_array()
        .expect("problems")
        .iter()
        .find(|p| p["target"] == "black-hole")
        .expect("black hole")["reason"];
    assert_eq!(black_hole["after_ms"], 1500, "{black_hole}");

    // The log of `status` records each reason.
    let log = std::fs::read_to_string(scratch.path().join("warroom/warroom.log")).expect("log");
    for reason in [
        "authentication refused",
        "connection refused",
        "timeout after 1.5s",
    ] {
        assert!(log.contains(reason), "{reason} not in the log:\n{log}");
    }

    // The right password: every source answers, exit 0, no problem listed.
    let good = env_file(
        scratch.path(),
        "good",
        &[(
            "right-password",
            format!("host={socket} port={port} dbname=app user={ROLE}"),
        )],
    );
    let (out, _) = status(&["status", "--env", &good], RIGHT, scratch.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(0), "{shown}");
    assert!(
        shown.contains("right-password") && shown.contains(" available"),
        "{shown}"
    );
    assert!(!shown.contains("problem:"), "{shown}");
    drop(hole);
    drop(lab);
}

#[tokio::test(flavor = "multi_thread")]
async fn the_console_shows_the_reasons_in_its_rows_and_logs_them() {
    if !postgres_or_skip() {
        return;
    }
    let (lab, socket, port) = lab_with_password_role().await;
    let scratch = Scratch::new("console-reasons");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let hole = TcpListener::bind("127.0.0.1:0").expect("bind the black hole");
    let hole_port = hole.local_addr().expect("addr").port();
    let env = env_file(
        scratch.path(),
        "console",
        &[
            (
                "wrong-password",
                format!("host={socket} port={port} dbname=app user={ROLE}"),
            ),
            (
                "closed-port",
                format!("host=127.0.0.1 port={closed} dbname=app user={ROLE}"),
            ),
            (
                "black-hole",
                format!("host=127.0.0.1 port={hole_port} dbname=app user={ROLE}"),
            ),
        ],
    );
    let log = scratch.path().join("console.log");
    let log_arg = log.display().to_string();
    let mut tui = Tui::spawn_in(
        &["--env", &env, "--read-only", "--log", &log_arg],
        200,
        60,
        scratch.path(),
        &[("WR_TEST_PASSWORD", WRONG), ("PGPASSFILE", "/nonexistent")],
    );
    let screen = tui.wait_for(
        "the three reasons in the Regions pane",
        Duration::from_secs(20),
        |s| {
            let row = |db: &str, reason: &str| {
                s.lines()
                    .any(|l| l.contains(db) && l.contains(&format!("unreachable: {reason}")))
            };
            row("wrong-password", "authentication refused")
                && row("closed-port", "connection refused")
                && row("black-hole", "timeout after 1.5s")
        },
    );
    println!("{screen}");
    tui.send("q");
    let _ = tui.wait_exit(Duration::from_secs(10));
    let log = std::fs::read_to_string(&log).expect("the console's log");
    for (db, reason) in [
        ("wrong-password", "authentication refused"),
        ("closed-port", "connection refused"),
        ("black-hole", "timeout after 1.5s"),
    ] {
        assert!(
            log.lines()
                .any(|l| l.contains("source failed") && l.contains(db) && l.contains(reason)),
            "{db}: {reason} not in the log:\n{log}"
        );
    }
    // Logged when it changes, not at every poll: one line per database however long it ran.
    let lines = log.lines().filter(|l| l.contains("source failed")).count();
    assert_eq!(lines, 3, "{log}");
    drop(hole);
    drop(lab);
}

/// Without any server (so it runs where PostgreSQL is not installed too): a closed PostgreSQL
/// port and a closed health port make `status` exit 1 with both reasons, and the console at
/// 80x24 shows them in its Regions rows.
#[test]
fn closed_ports_without_a_server_at_80x24() {
    let scratch = Scratch::new("reasons-80x24");
    let closed = {
        let l = TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let env = scratch.path().join("closed.toml");
    std::fs::write(
        &env,
        format!(
            "name = \"closed\"\nobjectives = {{ rto = \"30m\", rpo = \"5m\" }}\n\
             [[regions]]\nname = \"primary\"\nid = \"a\"\nrole = \"primary\"\n\
             health = [\"http://127.0.0.1:{closed}/health\"]\n\
             [[regions]]\nname = \"dr\"\nid = \"b\"\nrole = \"dr\"\n\
             [[databases]]\nname = \"primary\"\nregion = \"primary\"\n\
             postgres = {{ dsn = \"host=127.0.0.1 port={closed} dbname=app user=x\", connect_timeout = \"1s\" }}\n"
        ),
    )
    .expect("write the environment");
    let env = env.display().to_string();
    let (out, _) = status(&["status", "--env", &env], WRONG, scratch.path());
    let shown = text(&out);
    assert_eq!(out.status.code(), Some(1), "{shown}");
    assert!(
        shown
            .lines()
            .any(|l| l == "problem: postgres primary: unreachable: connection refused"),
        "{shown}"
    );
    assert!(
        shown
            .lines()
            .any(|l| l.starts_with("problem: http primary http://127.0.0.1:")
                && l.ends_with("/health: no answer: connection refused")),
        "{shown}"
    );

    let mut tui = Tui::spawn_in(
        &["--env", &env, "--read-only"],
        80,
        24,
        scratch.path(),
        &[("PGPASSFILE", "/nonexistent")],
    );
    let screen = tui.wait_for(
        "both reasons in the Regions pane at 80x24",
        Duration::from_secs(15),
        |s| {
            s.lines()
                .any(|l| l.contains("db") && l.contains("primary  unreachable: connection refused"))
                && s.lines()
                    .any(|l| l.contains("health") && l.contains("connection refused"))
        },
    );
    println!("{screen}");
    tui.send("q");
    let _ = tui.wait_exit(Duration::from_secs(10));
}
