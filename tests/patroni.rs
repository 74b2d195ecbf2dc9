//! A real two-node Patroni cluster on loopback (Patroni's own raft store, PostgreSQL 15), started
//! and stopped by the test: the Patroni source reads each member's role, timeline, lag and the
//! pause state; `db.promote` through the router makes the replica the leader (`POST /failover`),
//! verified by the `role = "primary"` wait against the source's reading.
//!
//! Needs `patroni` (PyPI, with the `raft` and `psycopg2-binary` extras): `WARROOM_PATRONI` names
//! the program, else `patroni` on `PATH`. Without it the test prints `skipped: ...`; under `CI` it
//! fails. As root, the members run as the `postgres` OS user (PostgreSQL refuses root).

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use warroom::actions::Call;
use warroom::env::{Binding, Environment, NameKind};
use warroom::playbook::Condition;
use warroom::telemetry::patroni::{ClusterStatus, PatroniSource};
use warroom::telemetry::{DbRole, Source};

fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (CI is set: .ci/run installs Patroni)");
    }
    println!("skipped: {why}");
}

fn patroni_program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WARROOM_PATRONI").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("patroni"))
            .find(|p| p.is_file())
    })
}

fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .expect("a free port")
}

/// `(uid, gid)` of the `postgres` OS user when running as root.
fn run_as() -> Option<(u32, u32)> {
    use std::os::unix::fs::MetadataExt;
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        return None;
    }
    let id = |flag: &str| -> Option<u32> {
        let out = Command::new("id").args([flag, "postgres"]).output().ok()?;
        String::from_utf8_lossy(&out.stdout).trim().parse().ok()
    };
    Some((id("-u")?, id("-g")?))
}

struct Member {
    name: String,
    api: String,
    data_dir: PathBuf,
    child: Child,
}

/// Two members, stopped (and their servers) on drop.
struct Cluster {
    dir: PathBuf,
    bin_dir: PathBuf,
    user: Option<(u32, u32)>,
    members: Vec<Member>,
}

impl Drop for Cluster {
    fn drop(&mut self) {
        for m in &mut self.members {
            let _ = Command::new("kill")
                .args(["-TERM", &m.child.id().to_string()])
                .status();
        }
        let deadline = Instant::now() + Duration::from_secs(20);
        for m in &mut self.members {
            while Instant::now() < deadline && m.child.try_wait().ok().flatten().is_none() {
                std::thread::sleep(Duration::from_millis(100));
            }
            let _ = m.child.kill();
            let _ = m.child.wait();
            // Patroni stops its server on SIGTERM; make sure, whatever happened.
            let mut stop = Command::new(self.bin_dir.join("pg_ctl"));
            stop.args([
                "-D",
                &m.data_dir.display().to_string(),
                "-m",
                "immediate",
                "stop",
            ])
            .stdout(Stdio::null())
            .stderr(Stdio::null());
            if let Some((uid, gid)) = self.user {
                stop.uid(uid).gid(gid);
            }
            let _ = stop.status();
        }
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn start_cluster(program: &Path, bin_dir: &Path) -> Cluster {
    let dir = PathBuf::from(format!("/tmp/wr-patroni-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("dir");
    let user = run_as();
    if user.is_some() {
        let _ = Command::new("chown")
            .args(["postgres:", &dir.display().to_string()])
            .status();
    }
    let raft = [free_port(), free_port()];
    let mut cluster = Cluster {
        dir: dir.clone(),
        bin_dir: bin_dir.to_path_buf(),
        user,
        members: Vec::new(),
    };
    for i in 0..2 {
        let (api, pg) = (free_port(), free_port());
        let name = format!("node{}", i + 1);
        let data_dir = dir.join(format!("pg{}", i + 1));
        let config = format!(
            "scope: warroom-test\nname: {name}\n\
             restapi:\n  listen: 127.0.0.1:{api}\n  connect_address: 127.0.0.1:{api}\n\
             raft:\n  data_dir: {dir}/raft{n}\n  self_addr: 127.0.0.1:{me}\n  partner_addrs: ['127.0.0.1:{other}']\n\
             bootstrap:\n  dcs:\n    ttl: 20\n    loop_wait: 2\n    retry_timeout: 5\n    maximum_lag_on_failover: 104857600\n\
             \x20   postgresql:\n      use_pg_rewind: false\n  initdb:\n  - encoding: UTF8\n  - auth: trust\n\
             postgresql:\n  listen: 127.0.0.1:{pg}\n  connect_address: 127.0.0.1:{pg}\n  data_dir: {data}\n  bin_dir: {bin}\n  pgpass: {dir}/pgpass{n}\n\
             \x20 pg_hba:\n  - local all all trust\n  - host all all 127.0.0.1/32 trust\n  - host replication all 127.0.0.1/32 trust\n\
             \x20 authentication:\n    replication: {{username: postgres}}\n    superuser: {{username: postgres}}\n\
             \x20 parameters:\n    unix_socket_directories: {dir}\n",
            dir = dir.display(),
            n = i + 1,
            me = raft[i],
            other = raft[1 - i],
            data = data_dir.display(),
            bin = bin_dir.display(),
        );
        let file = dir.join(format!("{name}.yml"));
        std::fs::write(&file, config).expect("config");
        let log = std::fs::File::create(dir.join(format!("{name}.log"))).expect("log");
        let mut cmd = Command::new(program);
        cmd.arg(&file)
            .env("HOME", &dir)
            .stdin(Stdio::null())
            .stdout(log.try_clone().expect("log"))
            .stderr(log);
        if let Some((uid, gid)) = user {
            let _ = Command::new("chown")
                .args(["-R", "postgres:", &dir.display().to_string()])
                .status();
            cmd.uid(uid).gid(gid);
        }
        let child = cmd.spawn().expect("start patroni");
        cluster.members.push(Member {
            name,
            api: format!("http://127.0.0.1:{api}"),
            data_dir,
            child,
        });
    }
    cluster
}

async fn cluster_status(client: &reqwest::Client, api: &str) -> Option<ClusterStatus> {
    warroom::telemetry::patroni::get_json(client, &format!("{api}/cluster"))
        .await
        .ok()
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
    let cluster = start_cluster(&program, &bin_dir);
    let client = warroom::telemetry::http::client().expect("client");
    // Bootstrap: one leader, one streaming replica.
    let deadline = Instant::now() + Duration::from_secs(90);
    let (leader, replica) = loop {
        let status = cluster_status(&client, &cluster.members[0].api).await;
        if let Some(s) = status {
            let leader = s.members.iter().find(|m| m.role == "leader");
            let replica = s
                .members
                .iter()
                .find(|m| m.role == "replica" && m.state == "streaming");
            if let (Some(l), Some(r)) = (leader, replica) {
                break (l.name.clone(), r.name.clone());
            }
        }
        assert!(
            Instant::now() < deadline,
            "no leader and streaming replica in 90 s; logs in {}: {}",
            cluster.dir.display(),
            std::fs::read_to_string(cluster.dir.join("node1.log")).unwrap_or_default()
        );
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let api = |name: &str| {
        cluster
            .members
            .iter()
            .find(|m| m.name == name)
            .map(|m| m.api.clone())
            .expect("member")
    };
    let env = Environment::parse(
        "patroni.toml",
        &format!(
            r#"
name = "patroni"
objectives = {{ rto = "30m", rpo = "5m" }}
regions = [{{ name = "primary", id = "dc1", role = "primary" }}, {{ name = "dr", id = "dc2", role = "dr" }}]

[[databases]]
name = "primary"
region = "primary"
patroni = {{ url = "{}" }}

[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
patroni = {{ url = "{}" }}
"#,
            api(&leader),
            api(&replica)
        ),
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
    assert_eq!(r.role, DbRole::Replica);
    assert_eq!(r.resource, format!("{replica} · timeline 1"));
    let repl = r.replication.as_ref().expect("replication");
    assert!(repl.lag_bytes.is_some(), "lag from /cluster: {repl:?}");

    // The pause flag is read (maintenance mode: automatic failover off).
    let paused = client
        .patch(format!("{}/config", api(&leader)))
        .body(r#"{"pause": true}"#)
        .send()
        .await
        .expect("pause");
    assert!(paused.status().is_success());
    let deadline = Instant::now() + Duration::from_secs(20);
    loop {
        let r = standby.poll().await.expect("reads");
        if r.databases[0].resource.ends_with("AUTO-FAILOVER PAUSED") {
            break;
        }
        assert!(
            Instant::now() < deadline,
            "pause never read: {:?}",
            r.databases[0]
        );
        tokio::time::sleep(Duration::from_millis(300)).await;
    }

    // Promote through the router, as the console would.
    let wire = warroom::backends::WireOptions {
        seed: 1,
        clock: warroom::clock::SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0),
        endpoint_url: None,
    };
    let backend = warroom::backends::action_backend(&env, &wire).expect("backend");
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
    assert!(
        lines[0].contains("is the leader on timeline 3"),
        "{lines:?}"
    );
    let p = primary.poll().await.expect("reads");
    assert_eq!(p.databases[0].role, DbRole::Primary);
    // Other actions are not Patroni's.
    let read_only = Call::parse("db.read_only", &[("db", "primary")]).expect("call");
    assert!(
        backend
            .unsupported(&read_only)
            .is_some_and(|w| w.contains("not run through Patroni"))
    );
}
