//! `warroom lab`: a throwaway local deployment to drill against: a PostgreSQL primary and a
//! streaming standby (`primary`, `dr-replica`), a `/health` endpoint per region, a WAL archive
//! and a first pg_dump, plus the environment file that maps them (`DIR/lab.toml`).
//!
//! ```text
//! DIR/                      (default .lab; chowned to the postgres OS user when run as root)
//!   lab.toml                the environment: warroom --env DIR/lab.toml
//!   state.json              what `lab up` created: `lab down` stops and removes only that
//!   run/                    unix sockets of both servers (no TCP: no port races)
//!   primary/ dr-replica/    data directories
//!   wal-archive/            archive_command target (1 MB segments, archive_timeout 60s; each copied to
//!                           .NAME.partial then renamed, so no half-copied segment is seen)
//!   backups/daily/ backups/snapshots/   pg_dump archives (+ .warroom/ manifests)
//!   backups/base/           base backups (pg_basebackup tar archives, + .warroom/ sidecars):
//!                           the first by `lab up`, more by `lab base-backup [--every 5m]`
//!   restored/               data directories made by a point-in-time restore (db.restore
//!                           with `to`); `lab down` stops their servers too
//!   logs/                   server and health-server logs
//! ```
//!
//! Throwaway settings (`fsync = off`, `--no-sync`, trust authentication on a private unix
//! socket directory) make it start in a few seconds. Never copy them to production.
//! `track_commit_timestamp = on` lets a drill read when each row committed
//! (`pg_xact_commit_timestamp(xmin)`). The environment names each server's `data_dir` and the
//! primary's `wal_archive`: after `lab fault region-loss` the old primary's WAL is read there
//! to measure what a promotion loses.
//!
//! Run as root, the server programs run as the `postgres` OS user (`runuser -u postgres --`),
//! because `initdb` refuses root.
//!
//! `Row::get` (which panics on a type mismatch) is only used on boolean expressions the query
//! text fixes.

pub mod health;

use std::fmt::Write as _;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

use clap::{Args, Subcommand, ValueEnum};
use serde::{Deserialize, Serialize};

use crate::actions::postgres::PostgresBackend;
use crate::actions::{ActionBackend, Call, call};
use crate::duration::Dur;
use crate::env::Environment;
use crate::telemetry::postgres::{PgTarget, find_tool, newest_versioned_bin_dir, pg_error};

/// The lab's directory when none is given.
pub const DEFAULT_DIR: &str = ".lab";
/// State file inside the lab directory.
pub const STATE_FILE: &str = "state.json";
/// Environment file inside the lab directory.
pub const ENV_FILE: &str = "lab.toml";
/// Unix socket paths are limited to 107 bytes (`sun_path`).
pub const MAX_SOCKET_PATH: usize = 107;
/// The application database created on the primary.
pub const APP_DB: &str = "app";

/// The two servers: logical name, region, port (the unix socket's name).
const PRIMARY: (&str, &str, u16) = ("primary", "primary", 5432);
const REPLICA: (&str, &str, u16) = ("dr-replica", "dr", 5433);

#[derive(Debug, Args)]
pub struct LabArgs {
    #[command(subcommand)]
    pub command: LabCommand,
}

#[derive(Debug, Subcommand)]
pub enum LabCommand {
    /// Start a local primary + streaming standby, health endpoints, a WAL archive and a first
    /// dump, and write DIR/lab.toml (then: warroom --env DIR/lab.toml).
    Up {
        /// Lab directory (keep the path short: unix socket paths must stay under 107 bytes).
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Show what runs in the lab.
    Status {
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Stop everything `lab up` started and remove what it created.
    Down {
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Write to a database for a bounded time (inserts into app.orders), to watch lag.
    Load {
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// How long, in seconds (at most 3600).
        #[arg(long, default_value_t = 30, value_parser = clap::value_parser!(u64).range(1..=3600))]
        seconds: u64,
        /// Rows per second (at most 100000).
        #[arg(long, default_value_t = 2000, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        rate: u32,
        /// Logical database to write to (after a failover: dr-replica).
        #[arg(long, default_value = "primary")]
        db: String,
    },
    /// Take a base backup of the primary now (pg_basebackup into DIR/backups/base), or one
    /// every `--every` until interrupted: what a point-in-time restore starts from.
    BaseBackup {
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
        /// Keep taking one at this interval (e.g. 5m) until interrupted.
        #[arg(long)]
        every: Option<Dur>,
    },
    /// Break the lab for a drill.
    Fault {
        fault: LabFault,
        #[arg(default_value = DEFAULT_DIR)]
        dir: PathBuf,
    },
    /// Serve a region's /health (started by `lab up`).
    #[command(hide = true)]
    HealthServer {
        #[arg(long, default_value = "127.0.0.1:0")]
        listen: String,
        #[arg(long)]
        port_file: Option<PathBuf>,
        #[arg(long)]
        dsn: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum LabFault {
    /// Stop the primary abruptly (pg_ctl stop -m immediate) and its region's health endpoint.
    RegionLoss,
    /// Pause WAL replay on the standby (lag grows while WAL piles up).
    ReplayPause,
    /// Resume WAL replay on the standby.
    ReplayResume,
}

/// What `lab up` created, so that `lab down` removes exactly that.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct LabState {
    /// Absolute lab directory.
    pub dir: PathBuf,
    /// OS user the servers run as when `lab up` ran as root (`postgres`); `None`: the caller.
    pub os_user: Option<String>,
    /// Database superuser name.
    pub db_user: String,
    /// Directory of initdb, pg_ctl, pg_basebackup.
    pub bin_dir: PathBuf,
    /// Whether `lab up` created `dir` itself.
    pub created_dir: bool,
    /// Paths created inside `dir`, removed by `lab down`.
    pub created: Vec<PathBuf>,
    pub servers: Vec<ServerState>,
    pub health: Vec<HealthState>,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct ServerState {
    /// Logical database name.
    pub name: String,
    pub region: String,
    pub data_dir: PathBuf,
    pub port: u16,
}

#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct HealthState {
    pub region: String,
    pub port: u16,
    pub pid: u32,
}

/// How to bring a lab up.
#[derive(Debug, Clone, Default)]
pub struct UpOptions {
    /// The warroom binary that serves `/health` (`lab health-server`); `None`: no health
    /// endpoints (tests that only need the databases).
    pub health_exe: Option<PathBuf>,
    /// Take the first dumps (`daily-dump`, `snapshots`).
    pub first_dumps: bool,
    /// Rows in `app.orders` to start with.
    pub orders: u32,
}

impl LabState {
    pub fn socket_dir(&self) -> PathBuf {
        self.dir.join("run")
    }

    pub fn env_file(&self) -> PathBuf {
        self.dir.join(ENV_FILE)
    }

    /// `host=DIR/run port=P dbname=app user=U`.
    pub fn dsn(&self, name: &str) -> Option<String> {
        let s = self.servers.iter().find(|s| s.name == name)?;
        Some(format!(
            "host={} port={} dbname={APP_DB} user={}",
            self.socket_dir().display(),
            s.port,
            self.db_user
        ))
    }

    pub fn server(&self, name: &str) -> Option<&ServerState> {
        self.servers.iter().find(|s| s.name == name)
    }

    /// A connection target for one of the lab's databases.
    pub fn target(&self, name: &str) -> Result<PgTarget, String> {
        let dsn = self
            .dsn(name)
            .ok_or_else(|| format!("the lab has no database {name:?}"))?;
        PgTarget::from_dsn(name, &dsn, Dur::from_secs(3))
    }

    fn save(&self) -> Result<(), String> {
        let path = self.dir.join(STATE_FILE);
        let text = serde_json::to_string_pretty(self)
            .map_err(|e| format!("cannot encode the lab state: {e}"))?;
        let tmp = path.with_extension("tmp");
        std::fs::write(&tmp, text)
            .and_then(|()| std::fs::rename(&tmp, &path))
            .map_err(|e| format!("cannot write {}: {e}", path.display()))
    }

    pub fn load(dir: &Path) -> Result<LabState, String> {
        let path = dir.join(STATE_FILE);
        let text = std::fs::read_to_string(&path).map_err(|e| {
            format!(
                "no lab in {} ({}: {e}); start one with `warroom lab up {}`",
                dir.display(),
                path.display(),
                dir.display()
            )
        })?;
        serde_json::from_str(&text)
            .map_err(|e| format!("{} is not a lab state file: {e}", path.display()))
    }

    /// A server program as the lab's OS user: `runuser -u postgres -- BIN/prog` as root.
    fn pg_command(&self, program: &str) -> Command {
        let path = self.bin_dir.join(program);
        match &self.os_user {
            Some(user) => {
                let mut c = Command::new("runuser");
                c.arg("-u").arg(user).arg("--").arg(path);
                c
            }
            None => Command::new(path),
        }
    }

    /// Runs a server program to its end; `Err` with its output when it fails.
    fn run_pg(&self, program: &str, args: &[&str]) -> Result<String, String> {
        let out = self
            .pg_command(program)
            .args(args)
            .stdin(Stdio::null())
            .output()
            .map_err(|e| format!("cannot start {program}: {e}"))?;
        let text = format!(
            "{}{}",
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
        if out.status.success() {
            Ok(text)
        } else {
            Err(format!(
                "{program} {} failed ({}): {}",
                args.join(" "),
                out.status,
                text.trim()
            ))
        }
    }

    /// The pid in a data directory's `postmaster.pid`, if the server runs.
    pub fn server_pid(&self, server: &ServerState) -> Option<u32> {
        let text = std::fs::read_to_string(server.data_dir.join("postmaster.pid")).ok()?;
        let pid: u32 = text.lines().next()?.trim().parse().ok()?;
        Path::new(&format!("/proc/{pid}")).exists().then_some(pid)
    }
}

/// The OS user to run the servers as: `postgres` when running as root.
fn os_user() -> Result<Option<String>, String> {
    use std::os::unix::fs::MetadataExt;
    // The owner of /proc/self is the effective user (no `unsafe` geteuid, no extra nix feature).
    let root = std::fs::metadata("/proc/self").is_ok_and(|m| m.uid() == 0);
    if !root {
        return Ok(None);
    }
    let ok = Command::new("id")
        .arg("-u")
        .arg("postgres")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .status()
        .is_ok_and(|s| s.success());
    if ok {
        Ok(Some("postgres".to_string()))
    } else {
        Err("running as root, but there is no `postgres` OS user to run the servers (initdb refuses root); install PostgreSQL from your distribution, or run as an ordinary user".to_string())
    }
}

/// The directory holding `initdb`, `pg_ctl` and `pg_basebackup`.
pub fn server_bin_dir() -> Result<PathBuf, String> {
    if let Ok(initdb) = find_tool("initdb", None) {
        // Prefer the versioned directory if PATH only has a wrapper elsewhere.
        if let Some(dir) = initdb.parent()
            && dir.join("pg_ctl").is_file()
            && dir.join("pg_basebackup").is_file()
        {
            return Ok(dir.to_path_buf());
        }
    }
    newest_versioned_bin_dir()
        .filter(|d| d.join("initdb").is_file())
        .ok_or_else(|| {
            "PostgreSQL server programs (initdb, pg_ctl) not found on PATH nor under /usr/lib/postgresql/*/bin; install them (apt-get install postgresql)".to_string()
        })
}

fn chown_to(path: &Path, user: Option<&str>) -> Result<(), String> {
    let Some(user) = user else { return Ok(()) };
    let status = Command::new("chown")
        .arg("-R")
        .arg(format!("{user}:"))
        .arg(path)
        .status()
        .map_err(|e| format!("cannot run chown: {e}"))?;
    if status.success() {
        Ok(())
    } else {
        Err(format!("chown -R {user}: {} failed", path.display()))
    }
}

fn absolute(dir: &Path) -> Result<PathBuf, String> {
    let cwd = std::env::current_dir().map_err(|e| format!("no current directory: {e}"))?;
    let p = if dir.is_absolute() {
        dir.to_path_buf()
    } else {
        cwd.join(dir)
    };
    // Normalise `.` and `..` lexically (the directory may not exist yet).
    let mut out = PathBuf::new();
    for c in p.components() {
        match c {
            std::path::Component::ParentDir => {
                out.pop();
            }
            std::path::Component::CurDir => {}
            other => out.push(other),
        }
    }
    Ok(out)
}

/// Progress lines printed by the CLI (and swallowed by tests).
pub type Progress<'a> = &'a (dyn Fn(&str) + Send + Sync);

/// Brings a lab up in `dir`. On failure everything started so far is stopped and removed.
pub async fn up(
    dir: &Path,
    options: &UpOptions,
    progress: Progress<'_>,
) -> Result<LabState, String> {
    let dir = absolute(dir)?;
    let text = dir.display().to_string();
    if text.contains(|c: char| c.is_whitespace() || c == '\'' || c == '"' || c == '\\') {
        return Err(format!(
            "the lab path {text:?} contains spaces, quotes or backslashes; choose a plain path"
        ));
    }
    let socket = dir.join("run").join(".s.PGSQL.5433");
    if socket.as_os_str().len() >= MAX_SOCKET_PATH {
        return Err(format!(
            "the lab path is too long: its socket {} would be {} bytes (the limit is {}); use a shorter directory, e.g. /tmp/lab",
            socket.display(),
            socket.as_os_str().len(),
            MAX_SOCKET_PATH - 1
        ));
    }
    if dir.join(STATE_FILE).exists() {
        return Err(format!(
            "a lab already exists in {}; see `warroom lab status {0}` or remove it with `warroom lab down {0}`",
            dir.display()
        ));
    }
    let created_dir = !dir.exists();
    if !created_dir {
        let clashes: Vec<String> = [
            "run",
            "logs",
            "primary",
            "dr-replica",
            "wal-archive",
            "backups",
            ENV_FILE,
        ]
        .iter()
        .filter(|n| dir.join(n).exists())
        .map(|n| (*n).to_string())
        .collect();
        if !clashes.is_empty() {
            return Err(format!(
                "{} already holds {}; choose an empty or new directory",
                dir.display(),
                clashes.join(", ")
            ));
        }
    }
    let mut state = LabState {
        dir: dir.clone(),
        os_user: os_user()?,
        db_user: String::new(),
        bin_dir: server_bin_dir()?,
        created_dir,
        created: Vec::new(),
        servers: Vec::new(),
        health: Vec::new(),
    };
    state.db_user = state.os_user.clone().unwrap_or_else(|| {
        std::env::var("USER")
            .or_else(|_| std::env::var("LOGNAME"))
            .unwrap_or_else(|_| "postgres".to_string())
    });
    std::fs::create_dir_all(&dir).map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    for sub in [
        "run",
        "logs",
        "wal-archive",
        "backups",
        "backups/daily",
        "backups/snapshots",
        "backups/base",
        "restored",
    ] {
        let p = dir.join(sub);
        std::fs::create_dir_all(&p).map_err(|e| format!("cannot create {}: {e}", p.display()))?;
        state.created.push(p);
    }
    for sub in ["primary", "dr-replica", ENV_FILE] {
        state.created.push(dir.join(sub));
    }
    state.save()?;
    match bring_up(&mut state, options, progress).await {
        Ok(()) => Ok(state),
        Err(e) => {
            progress(&format!("lab up failed: {e}; cleaning up"));
            if let Err(d) = down(&dir, &|_| {}) {
                progress(&format!("cleanup incomplete: {d}"));
            }
            Err(e)
        }
    }
}

async fn bring_up(
    state: &mut LabState,
    options: &UpOptions,
    progress: Progress<'_>,
) -> Result<(), String> {
    let dir = state.dir.clone();
    let t0 = Instant::now();
    let step = |what: &str| progress(&format!("[{:5.1}s] {what}", t0.elapsed().as_secs_f64()));
    chown_to(&dir, state.os_user.as_deref())?;
    if let Some(user) = &state.os_user {
        // The servers need to reach the directory: every parent must be traversable.
        let ok = Command::new("runuser")
            .args(["-u", user, "--", "test", "-w"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!(
                "the {user} OS user cannot write to {} (a parent directory is private?); use a directory it can reach, e.g. /tmp/lab",
                dir.display()
            ));
        }
    }
    let primary_dir = dir.join(PRIMARY.0);
    let replica_dir = dir.join(REPLICA.0);
    let run_dir = state.socket_dir();
    let archive = dir.join("wal-archive");

    step("initdb primary");
    state.run_pg(
        "initdb",
        &[
            "--no-locale",
            "-E",
            "UTF8",
            "-A",
            "trust",
            "--no-sync",
            "--wal-segsize=1",
            "-U",
            &state.db_user.clone(),
            "-D",
            &primary_dir.display().to_string(),
        ],
    )?;
    let conf = format!(
        "\n# warroom lab: throwaway settings (never in production)\n\
         listen_addresses = ''\n\
         port = {port}\n\
         unix_socket_directories = '{run}'\n\
         fsync = off\n\
         wal_level = replica\n\
         max_wal_senders = 5\n\
         archive_mode = on\n\
         archive_command = 'test ! -f {archive}/%f && cp %p {archive}/.%f.partial && mv {archive}/.%f.partial {archive}/%f'\n\
         archive_timeout = 60\n\
         wal_keep_size = 64MB\n\
         track_commit_timestamp = on\n\
         cluster_name = '{name}'\n",
        port = PRIMARY.2,
        run = run_dir.display(),
        archive = archive.display(),
        name = PRIMARY.0,
    );
    append(&primary_dir.join("postgresql.conf"), &conf)?;
    state.servers.push(ServerState {
        name: PRIMARY.0.to_string(),
        region: PRIMARY.1.to_string(),
        data_dir: primary_dir.clone(),
        port: PRIMARY.2,
    });
    state.save()?;
    step("start primary");
    start_server(state, PRIMARY.0)?;
    wait_ready(state, PRIMARY.0, "postgres", false).await?;

    step("create database app (customers, orders)");
    seed(state, options.orders).await?;

    step("pg_basebackup dr-replica");
    state.run_pg(
        "pg_basebackup",
        &[
            "-h",
            &run_dir.display().to_string(),
            "-p",
            &PRIMARY.2.to_string(),
            "-U",
            &state.db_user.clone(),
            "-D",
            &replica_dir.display().to_string(),
            "-R",
            "-X",
            "stream",
            "-C",
            "-S",
            "dr_replica",
            "--no-sync",
        ],
    )?;
    // pg_basebackup copied the primary's settings: give the standby its own port and name.
    append(
        &replica_dir.join("postgresql.conf"),
        &format!(
            "\n# warroom lab: the standby\nport = {}\ncluster_name = '{}'\n",
            REPLICA.2, REPLICA.0
        ),
    )?;
    state.servers.push(ServerState {
        name: REPLICA.0.to_string(),
        region: REPLICA.1.to_string(),
        data_dir: replica_dir,
        port: REPLICA.2,
    });
    state.save()?;
    step("start dr-replica");
    start_server(state, REPLICA.0)?;
    wait_ready(state, REPLICA.0, APP_DB, true).await?;

    if let Some(exe) = &options.health_exe {
        step("health endpoints");
        for server in state.servers.clone() {
            let h = start_health(state, exe, &server)?;
            state.health.push(h);
            state.save()?;
        }
    }

    step("write lab.toml");
    std::fs::write(state.env_file(), lab_toml(state))
        .map_err(|e| format!("cannot write {}: {e}", state.env_file().display()))?;
    let env = Environment::load(&state.env_file())
        .map_err(|d| format!("the written environment is invalid (a bug): {d}"))?;

    if options.first_dumps {
        step("first base backup (base)");
        take_base_backup(&env).await?;
        step("first dumps (daily-dump, snapshots)");
        let backend = PostgresBackend::new(&env)?;
        for backup in ["daily-dump", "snapshots"] {
            let call = Call::BackupSnapshot(call::BackupSnapshot {
                backup: backup.to_string(),
                forensic: None,
            });
            backend
                .execute(&call, &|_| {})
                .await
                .map_err(|e| e.to_string())?;
        }
    }
    chown_to(&dir, state.os_user.as_deref())?;
    step("ready");
    Ok(())
}

fn append(path: &Path, text: &str) -> Result<(), String> {
    use std::io::Write;
    std::fs::OpenOptions::new()
        .append(true)
        .open(path)
        .and_then(|mut f| f.write_all(text.as_bytes()))
        .map_err(|e| format!("cannot append to {}: {e}", path.display()))
}

fn start_server(state: &LabState, name: &str) -> Result<(), String> {
    let server = state
        .server(name)
        .ok_or_else(|| format!("no server {name}"))?;
    let log = state.dir.join("logs").join(format!("{name}.log"));
    state.run_pg(
        "pg_ctl",
        &[
            "-D",
            &server.data_dir.display().to_string(),
            "-l",
            &log.display().to_string(),
            "-w",
            "-t",
            "60",
            "start",
        ],
    )?;
    Ok(())
}

/// Waits until `name` answers on `dbname` (and, for a standby, streams from its primary).
/// `pg_ctl start -w` returns before a standby's recovery is under way.
async fn wait_ready(
    state: &LabState,
    name: &str,
    dbname: &str,
    standby: bool,
) -> Result<(), String> {
    let target = state.target(name)?.with_dbname(dbname);
    let deadline = Instant::now() + Duration::from_secs(60);
    let mut last = String::new();
    while Instant::now() < deadline {
        match target.connect().await {
            Ok(c) => {
                let sql = if standby {
                    "SELECT pg_is_in_recovery() AND EXISTS (SELECT 1 FROM pg_stat_wal_receiver WHERE status = 'streaming')"
                } else {
                    "SELECT NOT pg_is_in_recovery()"
                };
                match c.query_one(sql, &[]).await {
                    Ok(row) if row.get::<_, bool>(0) => return Ok(()),
                    Ok(_) => last = "not ready yet".to_string(),
                    Err(e) => last = pg_error(&e),
                }
            }
            Err(e) => last = e,
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    Err(format!(
        "{name} did not become ready within 60s: {last}; see {}/logs/{name}.log",
        state.dir.display()
    ))
}

async fn seed(state: &LabState, orders: u32) -> Result<(), String> {
    let admin = state
        .target(PRIMARY.0)?
        .with_dbname("postgres")
        .connect()
        .await?;
    admin
        .batch_execute(&format!("CREATE DATABASE {APP_DB}"))
        .await
        .map_err(|e| format!("cannot create the app database: {}", pg_error(&e)))?;
    let app = state.target(PRIMARY.0)?.connect().await?;
    app.batch_execute(&format!(
        "CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL, \
           created_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO customers (id, name) SELECT g, 'customer ' || g FROM generate_series(1, 1000) g;
         CREATE TABLE orders (id bigserial PRIMARY KEY, customer_id int NOT NULL REFERENCES customers,
           amount numeric(10,2) NOT NULL, note text, created_at timestamptz NOT NULL DEFAULT now());
         INSERT INTO orders (customer_id, amount, note)
           SELECT 1 + g % 1000, (g % 997) * 1.5, md5(g::text) FROM generate_series(1, {orders}) g;
         CHECKPOINT;"
    ))
    .await
    .map_err(|e| format!("cannot seed the app database: {}", pg_error(&e)))
}

fn start_health(state: &LabState, exe: &Path, server: &ServerState) -> Result<HealthState, String> {
    use std::os::unix::process::CommandExt;
    let port_file = state
        .dir
        .join("run")
        .join(format!("health-{}.port", server.region));
    let _ = std::fs::remove_file(&port_file);
    let log_path = state
        .dir
        .join("logs")
        .join(format!("health-{}.log", server.region));
    let log = std::fs::File::create(&log_path)
        .map_err(|e| format!("cannot create {}: {e}", log_path.display()))?;
    let log2 = log
        .try_clone()
        .map_err(|e| format!("cannot reuse {}: {e}", log_path.display()))?;
    let dsn = state.dsn(&server.name).unwrap_or_default();
    let child = Command::new(exe)
        .args([
            "lab",
            "health-server",
            "--listen",
            "127.0.0.1:0",
            "--dsn",
            &dsn,
            "--port-file",
        ])
        .arg(&port_file)
        .stdin(Stdio::null())
        .stdout(log)
        .stderr(log2)
        // Its own process group: a Ctrl-C in the terminal that ran `lab up` does not reach it.
        .process_group(0)
        .spawn()
        .map_err(|e| format!("cannot start the health server ({}): {e}", exe.display()))?;
    let pid = child.id();
    // Not waited for: it outlives this process; `lab down` ends it by pid.
    drop(child);
    let deadline = Instant::now() + Duration::from_secs(10);
    while Instant::now() < deadline {
        if let Ok(text) = std::fs::read_to_string(&port_file)
            && let Ok(port) = text.trim().parse::<u16>()
        {
            return Ok(HealthState {
                region: server.region.clone(),
                port,
                pid,
            });
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = nix::sys::signal::kill(
        nix::unistd::Pid::from_raw(i32::try_from(pid).unwrap_or(0)),
        nix::sys::signal::Signal::SIGKILL,
    );
    Err(format!(
        "the health server for {} did not start within 10s; see {}",
        server.region,
        log_path.display()
    ))
}

fn toml_str(s: &str) -> String {
    toml::Value::String(s.to_string()).to_string()
}

/// The environment file of a lab.
pub fn lab_toml(state: &LabState) -> String {
    let mut out = String::new();
    let d = |p: &str| state.dir.join(p).display().to_string();
    let health = |region: &str| {
        state
            .health
            .iter()
            .filter(|h| h.region == region)
            .map(|h| toml_str(&format!("http://127.0.0.1:{}/health", h.port)))
            .collect::<Vec<_>>()
            .join(", ")
    };
    let _ = writeln!(
        out,
        "# Written by `warroom lab up`: a throwaway local PostgreSQL deployment.\n\
         # Use it with `warroom --env {}`; remove it with `warroom lab down {}`.\n\
         name = \"lab\"\n\
         objectives = {{ rto = \"30m\", rpo = \"5m\" }}\n",
        state.env_file().display(),
        state.dir.display()
    );
    for (name, id, role) in [
        ("primary", "lab-primary", "primary"),
        ("dr", "lab-dr", "dr"),
    ] {
        let _ = writeln!(
            out,
            "[[regions]]\nname = \"{name}\"\nid = \"{id}\"\nrole = \"{role}\"\nhealth = [{}]\n",
            health(name)
        );
    }
    for s in &state.servers {
        let dsn = state.dsn(&s.name).unwrap_or_default();
        let _ = writeln!(
            out,
            "[[databases]]\nname = \"{}\"\nregion = \"{}\"",
            s.name, s.region
        );
        if s.name == REPLICA.0 {
            let _ = writeln!(out, "replica_of = \"{}\"\nlag_alarm = \"300s\"", PRIMARY.0);
        }
        // Where its WAL is read after a region loss, to measure what a promotion loses.
        let archive = if s.name == PRIMARY.0 {
            format!(
                ", wal_archive = {}, restore_dir = {}",
                toml_str(&d("wal-archive")),
                toml_str(&d("restored"))
            )
        } else {
            String::new()
        };
        let _ = writeln!(
            out,
            "postgres = {{ dsn = {}, resource = \"lab:{}/{APP_DB}\", poll = \"1s\", bin_dir = {}, data_dir = {}{archive} }}\n",
            toml_str(&dsn),
            s.port,
            toml_str(&state.bin_dir.display().to_string()),
            toml_str(&s.data_dir.display().to_string())
        );
    }
    for (name, kind, every, sub, glob, verify) in [
        (
            "snapshots",
            "pg_dump",
            "1h",
            "backups/snapshots",
            "snapshots-*.dump",
            true,
        ),
        (
            "daily-dump",
            "pg_dump",
            "24h",
            "backups/daily",
            "daily-dump-*.dump",
            true,
        ),
        (
            "wal-archive",
            "WAL archive",
            "5m",
            "wal-archive",
            "[0-9A-F]*",
            false,
        ),
    ] {
        if name == "wal-archive" {
            // Base backups of the primary: with its WAL archive, point-in-time recovery.
            let _ = writeln!(
                out,
                "[[backups]]\nname = \"base\"\nkind = \"base backup\"\nevery = \"1h\"\n\
                 dir = {{ path = {}, glob = \"base-*.tar\", snapshot_name = \"base-{{time}}.tar\", database = \"primary\", base_backup = true }}\n",
                toml_str(&d("backups/base"))
            );
        }
        let db = if verify {
            ", database = \"primary\", verify = true"
        } else {
            ""
        };
        let _ = writeln!(
            out,
            "[[backups]]\nname = \"{name}\"\nkind = \"{kind}\"\nevery = \"{every}\"\n\
             dir = {{ path = {}, glob = {}{db} }}\n",
            toml_str(&d(sub)),
            toml_str(glob)
        );
    }
    let _ = writeln!(
        out,
        "# No DNS or application deployment in the lab: the playbooks' dns.point and app.scale\n\
         # steps are reported unsupported by `warroom check` (do them by hand in a real drill).\n\
         [[dns]]\nname = \"api\"\nrecord = \"api.lab.invalid\"\npoints_to = \"primary\"\n\n\
         [[apps]]\nname = \"api\"\nreplicas = {{ primary = 1, dr = 1 }}"
    );
    out
}

/// Stops everything the lab in `dir` started and removes what it created. Safe to run twice.
pub fn down(dir: &Path, progress: Progress<'_>) -> Result<(), String> {
    let dir = absolute(dir)?;
    let state = LabState::load(&dir)?;
    let mut problems = Vec::new();
    for h in &state.health {
        stop_health(h, &mut problems);
    }
    // Servers a point-in-time restore started in DIR/restored.
    let restored: Vec<ServerState> = std::fs::read_dir(state.dir.join("restored"))
        .map(|rd| {
            rd.flatten()
                .filter(|e| e.path().join("postmaster.pid").is_file())
                .map(|e| ServerState {
                    name: format!("restored {}", e.file_name().to_string_lossy()),
                    region: String::new(),
                    data_dir: e.path(),
                    port: 0,
                })
                .collect()
        })
        .unwrap_or_default();
    for s in restored.iter().chain(state.servers.iter().rev()) {
        if state.server_pid(s).is_none() {
            continue;
        }
        progress(&format!("stopping {}", s.name));
        let data = s.data_dir.display().to_string();
        if state
            .run_pg(
                "pg_ctl",
                &["-D", &data, "-m", "fast", "-w", "-t", "20", "stop"],
            )
            .is_err()
            && let Err(e) = state.run_pg(
                "pg_ctl",
                &["-D", &data, "-m", "immediate", "-w", "-t", "20", "stop"],
            )
        {
            problems.push(e);
        }
    }
    if !problems.is_empty() {
        return Err(format!(
            "could not stop everything, nothing removed: {}",
            problems.join("; ")
        ));
    }
    for p in state.created.iter().rev() {
        // Only paths inside the lab directory, whatever the state file says.
        if !p.starts_with(&state.dir) || p == &state.dir {
            continue;
        }
        let removed = if p.is_dir() {
            std::fs::remove_dir_all(p)
        } else {
            std::fs::remove_file(p)
        };
        if let Err(e) = removed
            && e.kind() != std::io::ErrorKind::NotFound
        {
            problems.push(format!("cannot remove {}: {e}", p.display()));
        }
    }
    let state_file = dir.join(STATE_FILE);
    if let Err(e) = std::fs::remove_file(&state_file) {
        problems.push(format!("cannot remove {}: {e}", state_file.display()));
    }
    if state.created_dir
        && let Err(e) = std::fs::remove_dir(&dir)
    {
        problems.push(format!(
            "{} is not empty after removing the lab ({e}): left in place",
            dir.display()
        ));
    }
    if problems.is_empty() {
        Ok(())
    } else {
        Err(problems.join("; "))
    }
}

/// Ends a health server, after checking the pid still is one (pids are reused).
fn stop_health(h: &HealthState, problems: &mut Vec<String>) {
    let cmdline = std::fs::read(format!("/proc/{}/cmdline", h.pid)).unwrap_or_default();
    let text = String::from_utf8_lossy(&cmdline);
    if !text.contains("health-server") {
        return;
    }
    let pid = nix::unistd::Pid::from_raw(i32::try_from(h.pid).unwrap_or(0));
    if let Err(e) = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGTERM) {
        problems.push(format!(
            "cannot stop the health server of {} (pid {}): {e}",
            h.region, h.pid
        ));
        return;
    }
    // A zombie (our own unreaped child, in tests) has an empty cmdline: that counts as gone.
    for _ in 0..100 {
        let alive = std::fs::read(format!("/proc/{}/cmdline", h.pid)).is_ok_and(|c| !c.is_empty());
        if !alive {
            return;
        }
        std::thread::sleep(Duration::from_millis(20));
    }
    let _ = nix::sys::signal::kill(pid, nix::sys::signal::Signal::SIGKILL);
}

/// One line per server and endpoint: what runs, its role, its lag.
pub async fn status(dir: &Path) -> Result<String, String> {
    let dir = absolute(dir)?;
    let state = LabState::load(&dir)?;
    let mut out = format!(
        "lab {} (environment: {})\n",
        state.dir.display(),
        state.env_file().display()
    );
    for s in &state.servers {
        let pid = state.server_pid(s);
        let role = match pid {
            None => "stopped".to_string(),
            Some(_) => match state.target(&s.name) {
                Ok(t) => match tokio::time::timeout(Duration::from_secs(3), t.connect()).await {
                    Ok(Ok(c)) => match c.query_one("SELECT pg_is_in_recovery()", &[]).await {
                        Ok(r) if r.get::<_, bool>(0) => "standby".to_string(),
                        Ok(_) => "primary (accepts writes)".to_string(),
                        Err(e) => pg_error(&e),
                    },
                    Ok(Err(e)) => e,
                    Err(_) => "no answer".to_string(),
                },
                Err(e) => e,
            },
        };
        let _ = writeln!(
            out,
            "  {:<11} {:<8} pid {:<8} {}  ({})",
            s.name,
            s.region,
            pid.map_or_else(|| "-".to_string(), |p| p.to_string()),
            role,
            state.dsn(&s.name).unwrap_or_default()
        );
    }
    let client = crate::telemetry::http::client()?;
    for h in &state.health {
        let url = format!("http://127.0.0.1:{}/health", h.port);
        let c = crate::telemetry::http::check(&client, &url).await;
        let _ = writeln!(
            out,
            "  health {:<5} pid {:<8} {url}: {}",
            h.region,
            h.pid,
            c.error
                .unwrap_or_else(|| format!("HTTP {}", c.status.unwrap_or_default()))
        );
    }
    Ok(out)
}

/// Takes a base backup of the lab's primary (its `base` series).
async fn take_base_backup(env: &Environment) -> Result<String, String> {
    let pitr =
        crate::recovery::postgres::PgPitr::for_series(env, "base").map_err(|e| e.to_string())?;
    let b = pitr
        .take_base_backup(&|_| {})
        .await
        .map_err(|e| e.to_string())?;
    Ok(format!(
        "base backup {} ({})",
        b.path.display(),
        crate::actions::postgres::human_bytes(b.bytes)
    ))
}

/// `lab base-backup`: one now, or one every `every` until interrupted.
async fn base_backups(
    dir: &Path,
    every: Option<Dur>,
    progress: Progress<'_>,
) -> Result<String, String> {
    let state = LabState::load(&absolute(dir)?)?;
    let env = Environment::load(&state.env_file())
        .map_err(|d| format!("{}: {d}", state.env_file().display()))?;
    let Some(every) = every else {
        return take_base_backup(&env).await;
    };
    if every.secs() == 0 {
        return Err("--every must be at least 1s".to_string());
    }
    loop {
        progress(&take_base_backup(&env).await?);
        tokio::time::sleep(every.to_std()).await;
    }
}

/// Inserts `rate` rows a second into `app.orders` on `db` for `seconds`; returns rows written.
pub async fn load(
    dir: &Path,
    db: &str,
    seconds: u64,
    rate: u32,
    progress: Progress<'_>,
) -> Result<u64, String> {
    let state = LabState::load(&absolute(dir)?)?;
    let client = state.target(db)?.connect().await?;
    let tick = Duration::from_millis(100);
    let per_tick = i32::try_from((rate / 10).max(1)).unwrap_or(i32::MAX);
    let started = Instant::now();
    let end = started + Duration::from_secs(seconds);
    let mut ticker = tokio::time::interval(tick);
    ticker.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    let mut rows: u64 = 0;
    let mut last_report = Instant::now();
    while Instant::now() < end {
        ticker.tick().await;
        let n = client
            .execute(
                "INSERT INTO orders (customer_id, amount, note) \
                 SELECT 1 + (random() * 999)::int, round((random() * 500)::numeric, 2), md5(random()::text) \
                 FROM generate_series(1, $1)",
                &[&per_tick],
            )
            .await
            .map_err(|e| format!("insert into {db} failed after {rows} rows: {}", pg_error(&e)))?;
        rows += n;
        if last_report.elapsed() >= Duration::from_secs(5) {
            progress(&format!(
                "{rows} rows in {:.0}s",
                started.elapsed().as_secs_f64()
            ));
            last_report = Instant::now();
        }
    }
    Ok(rows)
}

/// Breaks the lab as `fault` says; returns what was done.
pub async fn fault(dir: &Path, fault: LabFault) -> Result<String, String> {
    let state = LabState::load(&absolute(dir)?)?;
    match fault {
        LabFault::RegionLoss => {
            let primary = state.server(PRIMARY.0).ok_or("the lab has no primary")?;
            let mut done = Vec::new();
            if state.server_pid(primary).is_some() {
                state.run_pg(
                    "pg_ctl",
                    &[
                        "-D",
                        &primary.data_dir.display().to_string(),
                        "-m",
                        "immediate",
                        "-w",
                        "stop",
                    ],
                )?;
                done.push("primary stopped (pg_ctl stop -m immediate)".to_string());
            } else {
                done.push("primary was not running".to_string());
            }
            let mut problems = Vec::new();
            for h in state.health.iter().filter(|h| h.region == PRIMARY.1) {
                stop_health(h, &mut problems);
                done.push(format!("health endpoint of region {} stopped", h.region));
            }
            if problems.is_empty() {
                Ok(done.join("; "))
            } else {
                Err(problems.join("; "))
            }
        }
        LabFault::ReplayPause | LabFault::ReplayResume => {
            let c = state.target(REPLICA.0)?.connect().await?;
            let sql = if matches!(fault, LabFault::ReplayPause) {
                "SELECT pg_wal_replay_pause()"
            } else {
                "SELECT pg_wal_replay_resume()"
            };
            c.simple_query(sql)
                .await
                .map_err(|e| format!("{}: {}", REPLICA.0, pg_error(&e)))?;
            Ok(format!("{sql} on {}", REPLICA.0))
        }
    }
}

/// `warroom lab ...`: prints progress to stderr and results to stdout; the exit code.
pub fn run(args: LabArgs) -> std::process::ExitCode {
    use std::process::ExitCode;
    let rt = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            crate::say_err!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let print = |s: &str| crate::say_err!("{s}");
    let result: Result<String, String> = match args.command {
        LabCommand::Up { dir } => {
            let exe = std::env::current_exe().ok();
            let started = Instant::now();
            rt.block_on(up(
                &dir,
                &UpOptions {
                    health_exe: exe,
                    first_dumps: true,
                    orders: 20_000,
                },
                &print,
            ))
            .map(|state| {
                let env = state.env_file().display().to_string();
                let d = dir.display();
                format!(
                    "lab up in {:.1}s\n  warroom --env {env}\n  warroom status --env {env}\n  warroom lab load {d}   (write traffic)\n  warroom lab fault region-loss {d}\n  warroom lab down {d}",
                    started.elapsed().as_secs_f64(),
                )
            })
        }
        LabCommand::Status { dir } => rt.block_on(status(&dir)),
        LabCommand::Down { dir } => {
            let started = Instant::now();
            down(&dir, &print)
                .map(|()| format!("lab down in {:.1}s", started.elapsed().as_secs_f64()))
        }
        LabCommand::Load {
            dir,
            seconds,
            rate,
            db,
        } => rt
            .block_on(load(&dir, &db, seconds, rate, &print))
            .map(|rows| format!("{rows} rows written to {db} in {seconds}s")),
        LabCommand::Fault { fault: f, dir } => rt.block_on(fault(&dir, f)),
        LabCommand::BaseBackup { dir, every } => rt.block_on(base_backups(&dir, every, &print)),
        LabCommand::HealthServer {
            listen,
            port_file,
            dsn,
        } => rt
            .block_on(health::serve(&listen, port_file.as_deref(), &dsn))
            .map(|()| String::new()),
    };
    match result {
        Ok(text) => {
            if !text.is_empty() {
                // Through the output gate; a reader that went away (`| head`) ends the output
                // quietly.
                let _ = crate::text::print_out(&format!("{text}\n"), crate::text::Form::Text);
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            crate::say_err!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
