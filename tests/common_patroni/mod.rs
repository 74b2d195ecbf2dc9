//! A real Patroni cluster of two PostgreSQL 15 members on loopback (Patroni's own raft store),
//! started and stopped by the test: `patroni` from `WARROOM_PATRONI`, else `PATH` (`.ci/run`
//! installs patroni 4.1.5 with the `raft` and `psycopg2-binary` extras). Without it a test
//! prints `skipped: ...`; under `CI` it fails. As root, the members run as the `postgres` OS
//! user (PostgreSQL refuses root).

#![allow(dead_code)]

use std::net::TcpListener;
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

use warroom::telemetry::patroni::ClusterStatus;

pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (CI is set: .ci/run installs Patroni)");
    }
    println!("skipped: {why}");
}

pub fn patroni_program() -> Option<PathBuf> {
    if let Some(p) = std::env::var_os("WARROOM_PATRONI").filter(|p| !p.is_empty()) {
        return Some(PathBuf::from(p));
    }
    std::env::var_os("PATH").and_then(|paths| {
        std::env::split_paths(&paths)
            .map(|d| d.join("patroni"))
            .find(|p| p.is_file())
    })
}

pub fn free_port() -> u16 {
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

pub struct Member {
    pub name: String,
    pub api: String,
    /// The PostgreSQL port (host 127.0.0.1, user postgres, trust).
    pub pg_port: u16,
    pub data_dir: PathBuf,
    child: Child,
}

/// Two members, stopped (and their servers) on drop.
pub struct Cluster {
    pub dir: PathBuf,
    pub bin_dir: PathBuf,
    user: Option<(u32, u32)>,
    pub members: Vec<Member>,
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

/// Starts two members; `tag` keeps clusters of one test binary apart.
pub fn start_cluster(program: &Path, bin_dir: &Path, tag: &str) -> Cluster {
    let dir = PathBuf::from(format!("/tmp/wr-patroni-{tag}-{}", std::process::id()));
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
            pg_port: pg,
            data_dir,
            child,
        });
    }
    cluster
}

pub async fn cluster_status(client: &reqwest::Client, api: &str) -> Option<ClusterStatus> {
    warroom::telemetry::patroni::get_json(client, &format!("{api}/cluster"))
        .await
        .ok()
}

impl Cluster {
    /// The member of this name.
    pub fn member(&self, name: &str) -> &Member {
        self.members
            .iter()
            .find(|m| m.name == name)
            .expect("a member of this name")
    }

    /// Waits (90 s) for one leader and one streaming replica: `(leader, replica)` names.
    pub async fn bootstrapped(&self, client: &reqwest::Client) -> (String, String) {
        let deadline = Instant::now() + Duration::from_secs(90);
        loop {
            if let Some(s) = cluster_status(client, &self.members[0].api).await {
                let leader = s.members.iter().find(|m| m.role == "leader");
                let replica = s
                    .members
                    .iter()
                    .find(|m| m.role == "replica" && m.state == "streaming");
                if let (Some(l), Some(r)) = (leader, replica) {
                    return (l.name.clone(), r.name.clone());
                }
            }
            assert!(
                Instant::now() < deadline,
                "no leader and streaming replica in 90 s; logs in {}: {}",
                self.dir.display(),
                std::fs::read_to_string(self.dir.join("node1.log")).unwrap_or_default()
            );
            tokio::time::sleep(Duration::from_millis(500)).await;
        }
    }

    /// Runs SQL on a member with psql (stdout, trimmed); panics on failure.
    pub fn sql(&self, member: &str, sql: &str) -> String {
        let m = self.member(member);
        let out = Command::new(self.bin_dir.join("psql"))
            .args([
                "-h",
                "127.0.0.1",
                "-p",
                &m.pg_port.to_string(),
                "-U",
                "postgres",
                "-d",
                "postgres",
                "-XAtq",
                "-c",
                sql,
            ])
            .output()
            .expect("run psql");
        assert!(
            out.status.success(),
            "psql on {member}: {sql}: {}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8_lossy(&out.stdout).trim().to_string()
    }

    /// Patroni's pause flag as `member` reports it (`GET /patroni`).
    pub async fn paused(&self, client: &reqwest::Client, member: &str) -> bool {
        let me: warroom::telemetry::patroni::MemberStatus = warroom::telemetry::patroni::get_json(
            client,
            &format!("{}/patroni", self.member(member).api),
        )
        .await
        .expect("GET /patroni");
        me.pause
    }
}

/// An environment of the two members: `primary` (region primary) on `leader`'s API and
/// `dr-replica` (region dr, a replica of primary) on `replica`'s.
pub fn env_toml(leader_api: &str, replica_api: &str) -> String {
    format!(
        r#"
name = "patroni"
objectives = {{ rto = "30m", rpo = "5m" }}
regions = [{{ name = "primary", id = "dc1", role = "primary" }}, {{ name = "dr", id = "dc2", role = "dr" }}]

[[databases]]
name = "primary"
region = "primary"
patroni = {{ url = "{leader_api}" }}

[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
patroni = {{ url = "{replica_api}" }}
"#
    )
}
