//! `warroom lab` end to end through the binary: up, status, the console's `status` on the lab's
//! environment, load, a region loss, down (nothing left running, nothing left on disk).

mod common_pg;

use std::path::Path;
use std::process::{Command, Output};
use std::time::{Duration, Instant};

use common_pg::{postgres_or_skip, short_dir};

const BIN: &str = env!("CARGO_BIN_EXE_warroom");

fn warroom(args: &[&str]) -> Output {
    Command::new(BIN)
        .args(args)
        .env("XDG_STATE_HOME", std::env::temp_dir())
        .output()
        .expect("run warroom")
}

fn text(o: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    )
}

fn status_json(env: &Path) -> serde_json::Value {
    let o = warroom(&["status", "--json", "--env", &env.display().to_string()]);
    serde_json::from_slice(&o.stdout).unwrap_or_else(|e| panic!("status --json: {e}: {}", text(&o)))
}

/// Stops the lab even when an assertion fails.
struct Down<'a>(&'a Path);

impl Drop for Down<'_> {
    fn drop(&mut self) {
        let _ = warroom(&["lab", "down", &self.0.display().to_string()]);
        let _ = std::fs::remove_dir_all(self.0);
    }
}

fn alive(pid: u64) -> bool {
    std::fs::read(format!("/proc/{pid}/cmdline")).is_ok_and(|c| !c.is_empty())
}

#[test]
fn up_status_load_region_loss_down() {
    if !postgres_or_skip() {
        return;
    }
    let dir = short_dir("lab");
    let d = dir.display().to_string();
    let _down = Down(&dir);
    let started = Instant::now();
    let up = warroom(&["lab", "up", &d]);
    let up_secs = started.elapsed().as_secs_f64();
    assert!(up.status.success(), "{}", text(&up));
    println!("lab up took {up_secs:.1}s");
    let env = dir.join("lab.toml");
    assert!(
        text(&up).contains(&format!("warroom --env {}", env.display())),
        "{}",
        text(&up)
    );

    let state: serde_json::Value =
        serde_json::from_str(&std::fs::read_to_string(dir.join("state.json")).expect("state"))
            .expect("state json");
    let health_pids: Vec<u64> = state["health"]
        .as_array()
        .expect("health")
        .iter()
        .map(|h| h["pid"].as_u64().expect("pid"))
        .collect();
    assert_eq!(health_pids.len(), 2);

    let st = warroom(&["lab", "status", &d]);
    let st_text = text(&st);
    assert!(st.status.success(), "{st_text}");
    assert!(
        st_text.contains("primary (accepts writes)") && st_text.contains("standby"),
        "{st_text}"
    );
    assert_eq!(st_text.matches("HTTP 200").count(), 2, "{st_text}");

    let s = status_json(&env);
    assert_eq!(s["environment"], "lab");
    assert_eq!(s["problems"].as_array().map(Vec::len), Some(0), "{s:#}");
    let lag = &s["replica_lag"][0];
    assert_eq!(
        (lag["name"].as_str(), lag["state"].as_str()),
        (Some("dr-replica"), Some("streaming"))
    );
    for b in s["backups"].as_array().expect("backups") {
        assert_eq!(b["status"], "OK", "{b}");
    }
    for r in s["regions"].as_array().expect("regions") {
        assert_eq!(r["verdict"], "HEALTHY", "{r}");
    }

    let load = warroom(&["lab", "load", &d, "--seconds", "2", "--rate", "1000"]);
    assert!(load.status.success(), "{}", text(&load));
    assert!(
        text(&load).contains("rows written to primary"),
        "{}",
        text(&load)
    );

    let fault = warroom(&["lab", "fault", "region-loss", &d]);
    assert!(fault.status.success(), "{}", text(&fault));
    let s = status_json(&env);
    let primary = s["regions"]
        .as_array()
        .expect("regions")
        .iter()
        .find(|r| r["name"] == "primary")
        .expect("primary region")
        .clone();
    assert_eq!(
        primary["databases"][0]["state"], "unreachable",
        "{primary:#}"
    );
    assert_eq!(
        primary["endpoints"][0]["consecutive_failures"], 1,
        "{primary:#}"
    );
    assert_eq!(s["replica_lag"][0]["state"], "broken", "{s:#}");

    let started = Instant::now();
    let down = warroom(&["lab", "down", &d]);
    println!("lab down took {:.1}s", started.elapsed().as_secs_f64());
    assert!(down.status.success(), "{}", text(&down));
    assert!(!dir.exists(), "the lab directory is removed");
    let deadline = Instant::now() + Duration::from_secs(5);
    while health_pids.iter().any(|p| alive(*p)) && Instant::now() < deadline {
        std::thread::sleep(Duration::from_millis(50));
    }
    assert!(
        !health_pids.iter().any(|p| alive(*p)),
        "health servers still running"
    );

    let again = warroom(&["lab", "down", &d]);
    assert!(!again.status.success());
    assert!(text(&again).contains("no lab in"), "{}", text(&again));
}

#[test]
fn refuses_a_path_too_long_for_unix_sockets() {
    let long = format!("/tmp/{}", "x".repeat(100));
    let o = warroom(&["lab", "up", &long]);
    assert!(!o.status.success());
    assert!(
        text(&o).contains("the lab path is too long"),
        "{}",
        text(&o)
    );
    assert!(!Path::new(&long).exists());
}

#[test]
fn keeps_what_it_did_not_create() {
    if !postgres_or_skip() {
        return;
    }
    let dir = short_dir("keep");
    std::fs::create_dir_all(&dir).expect("dir");
    std::fs::write(dir.join("notes.txt"), "mine").expect("file");
    let d = dir.display().to_string();
    let _down = Down(&dir);
    let up = warroom(&["lab", "up", &d]);
    assert!(up.status.success(), "{}", text(&up));
    let again = warroom(&["lab", "up", &d]);
    assert!(!again.status.success());
    assert!(
        text(&again).contains("a lab already exists"),
        "{}",
        text(&again)
    );
    let down = warroom(&["lab", "down", &d]);
    assert!(down.status.success(), "{}", text(&down));
    let left: Vec<_> = std::fs::read_dir(&dir)
        .expect("dir kept")
        .flatten()
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    assert_eq!(left, ["notes.txt"]);
}

#[tokio::test]
async fn health_server_answers_503_when_its_database_is_gone() {
    let port_file = std::env::temp_dir().join(format!("wr-health-{}.port", std::process::id()));
    let _ = std::fs::remove_file(&port_file);
    let pf = port_file.clone();
    let server = tokio::spawn(async move {
        warroom::lab::health::serve(
            "127.0.0.1:0",
            Some(&pf),
            "host=/nonexistent/socket/dir port=5432 dbname=app user=nobody",
        )
        .await
    });
    let deadline = Instant::now() + Duration::from_secs(5);
    let port = loop {
        if let Ok(p) = std::fs::read_to_string(&port_file) {
            break p.trim().parse::<u16>().expect("port");
        }
        assert!(Instant::now() < deadline, "health server did not start");
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let client = warroom::telemetry::http::client().expect("client");
    let c =
        warroom::telemetry::http::check(&client, &format!("http://127.0.0.1:{port}/health")).await;
    assert_eq!(c.status, Some(503), "{c:?}");
    let c =
        warroom::telemetry::http::check(&client, &format!("http://127.0.0.1:{port}/other")).await;
    assert_eq!(c.status, Some(404), "{c:?}");
    server.abort();
    let _ = std::fs::remove_file(&port_file);
}
