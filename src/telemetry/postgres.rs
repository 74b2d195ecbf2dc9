//! A self-hosted PostgreSQL server as a telemetry source: role, availability and, for a standby,
//! replication state, lag in seconds and in bytes.
//!
//! # What is read
//!
//! One query per poll on the database itself (`pg_is_in_recovery()`, replay position and pause,
//! the WAL receiver), and for a standby one on its upstream (`pg_stat_replication`, the row whose
//! `application_name` is the standby's). Both run concurrently, each bounded by the connect
//! timeout and [`QUERY_TIMEOUT`], so one poll ends within [`PostgresSource::timeout`] even when a
//! server hangs. A server that does not answer is a reading (`Unreachable`), not a source error:
//! the Regions pane must show a dead primary as DOWN, not as stale.
//!
//! # Lag
//!
//! - Standby's view: `now() - pg_last_xact_replay_timestamp()`, but 0 while streaming with
//!   everything received replayed (`pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn()`):
//!   on an idle primary the last transaction gets old without the standby being behind.
//! - Upstream's view: `replay_lag` (NULL when idle: not an error; and it keeps its last value for
//!   a while after the standby caught up, so it only counts while the standby is behind in bytes)
//!   and the bytes between the primary's current WAL position and the standby's replay position.
//!
//! The reading takes the larger of the two lags. With replay paused the standby's view grows one
//! second per second while the primary's `replay_lag` can stay at its last value.
//!
//! # Passwords
//!
//! Never in the environment file. Resolved at connect time from `password_env`, then
//! `PGPASSWORD`, then `PGPASSFILE` / `~/.pgpass` (libpq's rules, including its refusal of a
//! file others can read), and never put into a message.

pub mod wal;

use std::path::PathBuf;
use std::time::Duration;

use tokio::time::Instant;
use tokio_postgres::{Client, NoTls};

use super::reason::{FailureReason, io_in_chain, root_cause};
use super::source::{BoxFuture, Feeds, Source, SourceError};
use super::{DatabaseReading, DbRole, DbState, Replication, ReplicationState, Sample};
use crate::duration::Dur;
use crate::env::postgres::{
    DEFAULT_CONNECT_TIMEOUT, DEFAULT_DB_POLL, PostgresDatabase, describe_config, parse_dsn,
};
use crate::env::{DatabaseDef, Environment};

/// How long a poll waits for the lost window it started measuring before leaving it to a later
/// poll.
const FIRST_LOSS_WAIT: Duration = Duration::from_secs(2);

/// Longest one query may take once connected.
pub const QUERY_TIMEOUT: Duration = Duration::from_secs(2);

/// How to reach one PostgreSQL server: parsed settings without a password, where the password
/// comes from, the connect timeout.
#[derive(Debug, Clone)]
pub struct PgTarget {
    /// Logical name (`dr-replica`).
    pub name: String,
    config: tokio_postgres::Config,
    password_env: Option<String>,
    pub connect_timeout: Duration,
    /// Directory of `pg_dump` & co., if the environment names one.
    pub bin_dir: Option<PathBuf>,
    /// The server's data directory, when reachable from this machine (`data_dir`).
    pub data_dir: Option<PathBuf>,
    /// Where the server archives its WAL (`wal_archive`).
    pub wal_archive: Option<PathBuf>,
}

impl PgTarget {
    /// The target of a database's `postgres` binding, or `None` if it has none.
    pub fn of(db: &DatabaseDef, env: &Environment) -> Result<Option<PgTarget>, String> {
        let Some(pg) = &db.postgres else {
            return Ok(None);
        };
        Self::from_binding(db.name.get_ref(), pg, env.base_dir.as_deref()).map(Some)
    }

    /// The target of a binding; `base_dir` resolves a relative `bin_dir`.
    pub fn from_binding(
        name: &str,
        pg: &PostgresDatabase,
        base_dir: Option<&std::path::Path>,
    ) -> Result<PgTarget, String> {
        let mut config =
            parse_dsn(pg.dsn.get_ref()).map_err(|e| format!("database {name:?}: {e}"))?;
        if config.get_password().is_some() {
            return Err(format!(
                "database {name:?}: the DSN contains a password; use PGPASSWORD, ~/.pgpass or password_env"
            ));
        }
        if config.get_user().is_none() {
            // libpq's default: PGUSER, else the operating-system user.
            let user = ["PGUSER", "USER", "LOGNAME"]
                .iter()
                .find_map(|v| std::env::var(v).ok().filter(|u| !u.is_empty()))
                .ok_or_else(|| {
                    format!("database {name:?}: the DSN names no user and neither PGUSER nor USER is set; add user=... to the DSN")
                })?;
            config.user(&user);
        }
        if config.get_application_name().is_none() {
            config.application_name("warroom");
        }
        let connect_timeout = pg
            .connect_timeout
            .unwrap_or(DEFAULT_CONNECT_TIMEOUT)
            .to_std();
        config.connect_timeout(connect_timeout);
        Ok(PgTarget {
            name: name.to_string(),
            config,
            password_env: pg.password_env.clone(),
            connect_timeout,
            bin_dir: pg
                .bin_dir
                .as_ref()
                .map(|d| crate::env::postgres::resolve(d, base_dir)),
            data_dir: pg
                .data_dir
                .as_ref()
                .map(|d| crate::env::postgres::resolve(d.get_ref(), base_dir)),
            wal_archive: pg
                .wal_archive
                .as_ref()
                .map(|d| crate::env::postgres::resolve(d.get_ref(), base_dir)),
        })
    }

    /// `host=... port=... dbname=... user=...`: what to show; never a password.
    pub fn shown(&self) -> String {
        describe_config(&self.config)
    }

    /// The same settings with another database name (for a scratch database).
    pub fn with_dbname(&self, dbname: &str) -> PgTarget {
        let mut t = self.clone();
        t.config.dbname(dbname);
        t
    }

    /// The same server settings on another port (a restored server started beside it).
    pub fn with_port(&self, port: u16) -> PgTarget {
        let mut t = self.clone();
        let hosts = t.config.get_hosts().len().max(1);
        let mut config = tokio_postgres::Config::new();
        for h in self.config.get_hosts() {
            match h {
                tokio_postgres::config::Host::Tcp(n) => config.host(n),
                tokio_postgres::config::Host::Unix(p) => config.host_path(p),
            };
        }
        for _ in 0..hosts {
            config.port(port);
        }
        if let Some(d) = self.config.get_dbname() {
            config.dbname(d);
        }
        if let Some(u) = self.config.get_user() {
            config.user(u);
        }
        if let Some(a) = self.config.get_application_name() {
            config.application_name(a);
        }
        config.connect_timeout(self.connect_timeout);
        t.config = config;
        t
    }

    /// The (first) port of the DSN; PostgreSQL's default when it names none.
    pub fn port(&self) -> u16 {
        self.config.get_ports().first().copied().unwrap_or(5432)
    }

    /// A target from a DSN alone (no password source but `PGPASSWORD` and the password file).
    pub fn from_dsn(name: &str, dsn: &str, connect_timeout: Dur) -> Result<PgTarget, String> {
        let pg = PostgresDatabase {
            dsn: toml::Spanned::new(0..0, dsn.to_string()),
            password_env: None,
            connect_timeout: Some(connect_timeout),
            poll: None,
            resource: None,
            bin_dir: None,
            data_dir: None,
            wal_archive: None,
            restore_dir: None,
            restore_port: None,
            integrity_check: None,
        };
        Self::from_binding(name, &pg, None)
    }

    pub fn dbname(&self) -> Option<&str> {
        self.config.get_dbname()
    }

    /// libpq connection string for client programs (`pg_dump --dbname=...`): never a password
    /// (that goes through the `PGPASSWORD` environment variable of the child, see
    /// [`PgTarget::password`]).
    pub fn conninfo(&self) -> String {
        fn quote(v: &str) -> String {
            format!("'{}'", v.replace('\\', "\\\\").replace('\'', "\\'"))
        }
        let mut parts = Vec::new();
        let hosts: Vec<String> = self
            .config
            .get_hosts()
            .iter()
            .map(|h| match h {
                tokio_postgres::config::Host::Tcp(n) => n.clone(),
                tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
            })
            .collect();
        if !hosts.is_empty() {
            parts.push(format!("host={}", quote(&hosts.join(","))));
        }
        let ports: Vec<String> = self.config.get_ports().iter().map(u16::to_string).collect();
        if !ports.is_empty() {
            parts.push(format!("port={}", ports.join(",")));
        }
        if let Some(db) = self.config.get_dbname() {
            parts.push(format!("dbname={}", quote(db)));
        }
        if let Some(user) = self.config.get_user() {
            parts.push(format!("user={}", quote(user)));
        }
        parts.push(format!(
            "connect_timeout={}",
            self.connect_timeout.as_secs().max(1)
        ));
        parts.join(" ")
    }

    /// The password, if one is configured: `password_env`, then `PGPASSWORD`, then the password
    /// file. `Err` when `password_env` names a variable that is not set.
    pub fn password(&self) -> Result<Option<String>, String> {
        if let Some(var) = &self.password_env {
            return match std::env::var(var) {
                Ok(p) => Ok(Some(p)),
                Err(_) => Err(format!(
                    "database {:?}: password_env names {var}, which is not set in warroom's environment; export it before starting warroom",
                    self.name
                )),
            };
        }
        if let Ok(p) = std::env::var("PGPASSWORD") {
            return Ok(Some(p));
        }
        Ok(pgpass_lookup(&self.config))
    }

    /// Opens a connection within the connect timeout; its driver task runs until the client is
    /// dropped.
    pub async fn connect(&self) -> Result<Client, String> {
        self.connect_classified().await.map_err(|e| e.message)
    }

    /// [`PgTarget::connect`], saying why it failed as a [`FailureReason`] too.
    pub async fn connect_classified(&self) -> Result<Client, ConnectError> {
        let mut config = self.config.clone();
        match self.password() {
            Ok(Some(p)) => {
                config.password(p);
            }
            Ok(None) => {}
            Err(message) => {
                return Err(ConnectError {
                    reason: FailureReason::other(&message),
                    message,
                });
            }
        }
        // tokio-postgres applies connect_timeout per host; this bounds the whole handshake.
        let limit = self.connect_timeout + Duration::from_millis(500);
        let connected = tokio::time::timeout(limit, config.connect(NoTls))
            .await
            .map_err(|_| ConnectError {
                reason: FailureReason::timeout(limit),
                message: format!(
                    "cannot connect to {} ({}): no answer within {}s",
                    self.name,
                    self.shown(),
                    limit.as_secs_f64().round()
                ),
            })?;
        let (client, connection) = match connected {
            Ok(c) => c,
            Err(e) => {
                let mut reason = pg_reason(&e, self.connect_timeout);
                if matches!(reason, FailureReason::Other { .. })
                    && let Some(why) = self.unresolvable().await
                {
                    reason = FailureReason::dns(why);
                }
                return Err(ConnectError {
                    reason,
                    message: format!(
                        "cannot connect to {} ({}): {}",
                        self.name,
                        self.shown(),
                        pg_error(&e)
                    ),
                });
            }
        };
        tokio::spawn(async move {
            if let Err(e) = connection.await {
                tracing::debug!(error = %pg_error(&e), "postgres connection ended");
            }
        });
        Ok(client)
    }

    /// Why none of the target's hosts resolves, when they are all names (no unix socket, no
    /// address, no `hostaddr`) and none resolves: asked only after a connection failed.
    async fn unresolvable(&self) -> Option<String> {
        use tokio_postgres::config::Host;
        if !self.config.get_hostaddrs().is_empty() {
            return None;
        }
        let mut why = None;
        for host in self.config.get_hosts() {
            let Host::Tcp(name) = host else {
                return None;
            };
            if name.parse::<std::net::IpAddr>().is_ok() {
                return None;
            }
            let lookup = tokio::time::timeout(
                self.connect_timeout,
                tokio::net::lookup_host((name.as_str(), 5432)),
            )
            .await;
            match lookup {
                Ok(Ok(addrs)) => {
                    if addrs.count() > 0 {
                        return None;
                    }
                    why = Some(format!("{name}: no address"));
                }
                Ok(Err(e)) => why = Some(format!("{name}: {e}")),
                Err(_) => why = Some(format!("{name}: no answer from the resolver")),
            }
        }
        why
    }
}

/// A connection that could not be opened: why, and the message for people.
#[derive(Debug, Clone, thiserror::Error)]
#[error("{message}")]
pub struct ConnectError {
    pub reason: FailureReason,
    pub message: String,
}

/// Why a tokio-postgres call failed, as a [`FailureReason`]: the server's SQLSTATE (28P01 and
/// 28000 are authentication), the I/O error's kind, else the client's own error kind.
pub fn pg_reason(e: &tokio_postgres::Error, timeout: Duration) -> FailureReason {
    use tokio_postgres::error::SqlState;
    if let Some(db) = e.as_db_error() {
        let code = db.code();
        if *code == SqlState::INVALID_PASSWORD
            || *code == SqlState::INVALID_AUTHORIZATION_SPECIFICATION
        {
            return FailureReason::auth(Some(db.message()));
        }
        return FailureReason::server(code.code(), db.message());
    }
    if let Some(r) = io_in_chain(e).and_then(|io| FailureReason::from_io(io, timeout)) {
        return r;
    }
    // tokio-postgres exposes no error kind; its Display is the kind's fixed text.
    let cause = root_cause(e);
    match e.to_string().as_str() {
        "error performing TLS handshake" => FailureReason::tls(cause),
        "authentication error" => FailureReason::auth(Some(&cause)),
        "invalid configuration" if cause == "password missing" => FailureReason::auth(Some(
            "the server asks for a password and none is configured (password_env, PGPASSWORD, ~/.pgpass)",
        )),
        "timeout waiting for server" => FailureReason::timeout(timeout),
        _ => FailureReason::other(pg_error(e)),
    }
}

/// A tokio-postgres error as one line, with the server's message or the innermost cause.
pub fn pg_error(e: &tokio_postgres::Error) -> String {
    if let Some(db) = e.as_db_error() {
        return format!("{}: {}", db.severity(), db.message());
    }
    let mut text = e.to_string();
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        let inner = s.to_string();
        if !text.contains(&inner) {
            text = format!("{text}: {inner}");
        }
        source = s.source();
    }
    crate::env::postgres::redact_dsn(&text)
}

/// libpq's password file lookup (`PGPASSFILE`, else `~/.pgpass`): the first line whose host,
/// port, database and user match (`*` matches anything). Like libpq, a file that group or others
/// can read is ignored.
fn pgpass_lookup(config: &tokio_postgres::Config) -> Option<String> {
    use std::os::unix::fs::PermissionsExt;
    let path = std::env::var_os("PGPASSFILE")
        .map(PathBuf::from)
        .or_else(|| std::env::var_os("HOME").map(|h| PathBuf::from(h).join(".pgpass")))?;
    let meta = std::fs::metadata(&path).ok()?;
    if meta.permissions().mode() & 0o077 != 0 {
        tracing::warn!(path = %path.display(), "password file ignored: group or others can read it (chmod 0600)");
        return None;
    }
    let text = std::fs::read_to_string(&path).ok()?;
    let host = match config.get_hosts().first()? {
        tokio_postgres::config::Host::Tcp(n) => n.clone(),
        tokio_postgres::config::Host::Unix(p) => p.display().to_string(),
    };
    let default_socket =
        host == "/var/run/postgresql" || host == "/run/postgresql" || host == "/tmp";
    let port = config
        .get_ports()
        .first()
        .copied()
        .unwrap_or(5432)
        .to_string();
    let user = config.get_user().unwrap_or_default().to_string();
    let db = config
        .get_dbname()
        .map_or_else(|| user.clone(), str::to_string);
    pgpass_match(&text, &host, default_socket, &port, &db, &user)
}

fn pgpass_match(
    text: &str,
    host: &str,
    default_socket: bool,
    port: &str,
    db: &str,
    user: &str,
) -> Option<String> {
    for line in text.lines() {
        if line.trim_start().starts_with('#') || line.trim().is_empty() {
            continue;
        }
        let fields = split_pgpass(line);
        let [h, p, d, u, pw] = fields.as_slice() else {
            continue;
        };
        let host_ok = h == "*" || h == host || (default_socket && h == "localhost");
        if host_ok && (p == "*" || p == port) && (d == "*" || d == db) && (u == "*" || u == user) {
            return Some(pw.clone());
        }
    }
    None
}

/// Splits a password-file line on unescaped `:`; `\:` and `\\` are escapes.
fn split_pgpass(line: &str) -> Vec<String> {
    let mut fields = vec![String::new()];
    let mut chars = line.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => {
                if let Some(next) = chars.next()
                    && let Some(f) = fields.last_mut()
                {
                    f.push(next);
                }
            }
            ':' if fields.len() < 5 => fields.push(String::new()),
            c => {
                if let Some(f) = fields.last_mut() {
                    f.push(c);
                }
            }
        }
    }
    fields
}

/// Finds a PostgreSQL client program: in `bin_dir` if given, else on `PATH`, else in the newest
/// `/usr/lib/postgresql/*/bin` (Debian and Ubuntu keep them there, off `PATH`).
pub fn find_tool(name: &str, bin_dir: Option<&std::path::Path>) -> Result<PathBuf, String> {
    if let Some(dir) = bin_dir {
        let p = dir.join(name);
        return if p.is_file() {
            Ok(p)
        } else {
            Err(format!(
                "{name} not found in {} (bin_dir in the environment file)",
                dir.display()
            ))
        };
    }
    if let Some(path) = std::env::var_os("PATH") {
        for dir in std::env::split_paths(&path) {
            let p = dir.join(name);
            if p.is_file() {
                return Ok(p);
            }
        }
    }
    newest_versioned_bin_dir()
        .map(|d| d.join(name))
        .filter(|p| p.is_file())
        .ok_or_else(|| {
            format!(
                "{name} not found on PATH nor under /usr/lib/postgresql/*/bin; install the PostgreSQL client programs (apt-get install postgresql-client) or set bin_dir in the environment file"
            )
        })
}

/// The newest `/usr/lib/postgresql/<major>/bin`, if any.
pub fn newest_versioned_bin_dir() -> Option<PathBuf> {
    let mut versions: Vec<(u32, PathBuf)> = std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(Result::ok)
        .filter_map(|e| {
            let major: u32 = e.file_name().to_str()?.parse().ok()?;
            let bin = e.path().join("bin");
            bin.is_dir().then_some((major, bin))
        })
        .collect();
    versions.sort();
    versions.pop().map(|(_, p)| p)
}

/// What a client program printed and how it ended.
#[derive(Debug, Clone)]
pub struct ToolOutput {
    pub success: bool,
    /// `exit N` or `killed by signal N`.
    pub status: String,
    pub stdout: String,
    pub stderr: String,
}

impl ToolOutput {
    /// The last non-empty lines of stderr, for a message.
    pub fn stderr_tail(&self, lines: usize) -> String {
        let all: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| !l.trim().is_empty())
            .collect();
        all[all.len().saturating_sub(lines)..].join(" | ")
    }
}

/// Runs a client program (no shell) with extra environment variables (the password goes there,
/// never into argv), stdin from /dev/null, in its own process group; killed with its whole group
/// when `timeout` runs out or the future is dropped.
pub async fn run_tool(
    program: &std::path::Path,
    args: &[String],
    envs: &[(&str, String)],
    timeout: Duration,
) -> Result<ToolOutput, String> {
    use std::process::Stdio;
    let mut cmd = tokio::process::Command::new(program);
    cmd.args(args)
        .stdin(Stdio::null())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .process_group(0)
        .kill_on_drop(true);
    for (k, v) in envs {
        cmd.env(k, v);
    }
    let child = cmd
        .spawn()
        .map_err(|e| format!("cannot start {}: {e}", program.display()))?;
    let pgid = child
        .id()
        .and_then(|p| i32::try_from(p).ok())
        .map(nix::unistd::Pid::from_raw);
    let guard = GroupGuard(pgid);
    let result = tokio::time::timeout(timeout, child.wait_with_output()).await;
    match result {
        Ok(Ok(out)) => {
            std::mem::forget(guard);
            use std::os::unix::process::ExitStatusExt;
            let status = match (out.status.code(), out.status.signal()) {
                (Some(c), _) => format!("exit {c}"),
                (None, Some(s)) => format!("killed by signal {s}"),
                _ => "ended".to_string(),
            };
            Ok(ToolOutput {
                success: out.status.success(),
                status,
                stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
                stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
            })
        }
        Ok(Err(e)) => Err(format!("{} failed: {e}", program.display())),
        Err(_) => Err(format!(
            "{} did not finish within {}s and was killed",
            program.display(),
            timeout.as_secs()
        )),
    }
}

/// Kills a client program's process group when dropped (timeout or an aborted task).
struct GroupGuard(Option<nix::unistd::Pid>);

impl Drop for GroupGuard {
    fn drop(&mut self) {
        if let Some(pgid) = self.0 {
            let _ = nix::sys::signal::killpg(pgid, nix::sys::signal::Signal::SIGKILL);
        }
    }
}

/// Polls one database of the environment.
pub struct PostgresSource {
    source_name: String,
    target: PgTarget,
    /// The database it replicates from, for its `pg_stat_replication` view.
    upstream: Option<PgTarget>,
    client: Option<Client>,
    upstream_client: Option<Client>,
    /// Logical names and policy copied from the environment.
    region: String,
    resource: String,
    replica_of: Option<String>,
    lag_alarm: Dur,
    multi_az: bool,
    interval: Duration,
    /// The role seen last, kept while the server does not answer.
    last_role: DbRole,
    /// The lag seen last while streaming: once the source dies, the writes this replica misses
    /// (the fallback when its WAL cannot be read).
    lag_while_streaming: Option<f64>,
    /// Where the source's WAL may be read (its `data_dir`, `wal_archive`), if set.
    source_wal: Option<wal::SourceWal>,
    /// The lost window once the source is gone: measured once, in a task of its own.
    loss: Loss,
    /// `integrity_check`: a query whose one boolean says the data is intact.
    integrity_check: Option<String>,
    /// The first poll whose integrity check failed (the corruption onset), until one passes.
    corrupt_since: Option<chrono::DateTime<chrono::Utc>>,
}

/// The measurement of the lost window from WAL positions (see [`wal`]).
#[derive(Debug, Default)]
enum Loss {
    /// The source is there (or was never lost): nothing to measure.
    #[default]
    NotNeeded,
    Measuring(tokio::task::JoinHandle<Result<wal::LossWindow, String>>),
    Measured(Result<wal::LossWindow, String>),
}

impl Drop for PostgresSource {
    fn drop(&mut self) {
        if let Loss::Measuring(h) = &self.loss {
            h.abort();
        }
    }
}

/// What the database said about itself.
#[derive(Debug, Clone, PartialEq)]
struct SelfView {
    in_recovery: bool,
    paused: bool,
    /// Seconds, per the module doc.
    lag_secs: Option<f64>,
    /// Received but not replayed, in bytes.
    replay_backlog: Option<f64>,
    /// `pg_stat_wal_receiver.status`; `None` when no WAL receiver runs.
    receiver: Option<String>,
    /// The WAL receiver's `application_name` (how the upstream names this standby).
    application_name: Option<String>,
}

/// What the upstream says about this standby.
#[derive(Debug, Clone, PartialEq)]
struct UpstreamView {
    state: String,
    replay_lag: Option<f64>,
    lag_bytes: Option<f64>,
}

const SELF_QUERY: &str = "\
SELECT r.rec,
       CASE WHEN r.rec THEN pg_is_wal_replay_paused() ELSE false END,
       CASE WHEN r.rec THEN
         CASE WHEN w.status = 'streaming'
                   AND pg_last_wal_receive_lsn() IS NOT DISTINCT FROM pg_last_wal_replay_lsn()
              THEN 0::float8
              ELSE EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())::float8 END
       END,
       CASE WHEN r.rec THEN
         pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::float8 END,
       w.status,
       w.conninfo,
       current_setting('cluster_name')
FROM (SELECT pg_is_in_recovery() AS rec) r
LEFT JOIN (SELECT status, conninfo FROM pg_stat_wal_receiver LIMIT 1) w ON true";

const UPSTREAM_QUERY: &str = "\
SELECT state,
       EXTRACT(EPOCH FROM replay_lag)::float8,
       pg_wal_lsn_diff(
         CASE WHEN pg_is_in_recovery() THEN pg_last_wal_receive_lsn() ELSE pg_current_wal_lsn() END,
         replay_lsn)::float8
FROM pg_stat_replication WHERE application_name = $1
ORDER BY backend_start DESC LIMIT 1";

/// The `application_name` a WAL receiver connects with: `application_name=` in its conninfo,
/// else `fallback_application_name=` (the standby's `cluster_name`), else libpq's `walreceiver`.
fn receiver_app_name(conninfo: Option<&str>, cluster_name: Option<&str>) -> String {
    let find = |key: &str| {
        conninfo.and_then(|c| {
            c.split_whitespace().find_map(|kv| {
                kv.strip_prefix(key)
                    .map(|v| v.trim_matches('\'').to_string())
            })
        })
    };
    find("application_name=")
        .or_else(|| find("fallback_application_name="))
        .or_else(|| cluster_name.filter(|c| !c.is_empty()).map(str::to_string))
        .unwrap_or_else(|| "walreceiver".to_string())
}

impl PostgresSource {
    /// The source for `db`, which must have a `postgres` binding; its upstream (`replica_of`)
    /// is queried too when it has one.
    pub fn new(db: &DatabaseDef, env: &Environment) -> Result<Self, String> {
        let name = db.name.get_ref().clone();
        let target = PgTarget::of(db, env)?
            .ok_or_else(|| format!("database {name:?} has no postgres binding"))?;
        let upstream = match &db.replica_of {
            Some(up) => match env.database(up.get_ref()) {
                Some(up_db) => PgTarget::of(up_db, env)?,
                None => None,
            },
            None => None,
        };
        let source_wal = upstream
            .as_ref()
            .map(wal::SourceWal::of)
            .filter(wal::SourceWal::configured);
        let interval = db
            .postgres
            .as_ref()
            .and_then(|p| p.poll)
            .unwrap_or(DEFAULT_DB_POLL)
            .to_std()
            .max(Duration::from_millis(200));
        Ok(PostgresSource {
            source_name: format!("postgres {name}"),
            resource: db
                .postgres
                .as_ref()
                .map_or_else(|| target.shown(), PostgresDatabase::resource_name),
            target,
            upstream,
            client: None,
            upstream_client: None,
            region: db.region.get_ref().clone(),
            replica_of: db.replica_of.as_ref().map(|r| r.get_ref().clone()),
            lag_alarm: db.lag_alarm,
            multi_az: db.multi_az,
            interval,
            last_role: if db.replica_of.is_some() {
                DbRole::Replica
            } else {
                DbRole::Primary
            },
            lag_while_streaming: None,
            source_wal,
            loss: Loss::NotNeeded,
            integrity_check: db
                .postgres
                .as_ref()
                .and_then(|p| p.integrity_check.as_ref().map(|q| q.get_ref().clone())),
            corrupt_since: None,
        })
    }

    async fn read_self(&mut self) -> Result<SelfView, QueryFailure> {
        let row = query_one(&self.target, &mut self.client, SELF_QUERY, &[]).await?;
        let get = |e: tokio_postgres::Error| QueryFailure {
            message: format!("{}: unexpected answer: {}", self.target.name, pg_error(&e)),
            answered: true,
            reason: FailureReason::other(format!("unexpected answer: {}", pg_error(&e))),
        };
        let conninfo: Option<String> = row.try_get(5).map_err(get)?;
        let cluster: Option<String> = row.try_get(6).map_err(get)?;
        let receiver: Option<String> = row.try_get(4).map_err(get)?;
        Ok(SelfView {
            in_recovery: row.try_get(0).map_err(get)?,
            paused: row.try_get(1).map_err(get)?,
            lag_secs: row.try_get(2).map_err(get)?,
            replay_backlog: row.try_get(3).map_err(get)?,
            application_name: receiver
                .is_some()
                .then(|| receiver_app_name(conninfo.as_deref(), cluster.as_deref())),
            receiver,
        })
    }

    /// `source_gone`: the upstream did not answer this poll.
    fn reading(
        &mut self,
        own: Result<SelfView, QueryFailure>,
        upstream: Option<UpstreamView>,
        source_gone: bool,
    ) -> DatabaseReading {
        let (role, state) = match &own {
            Ok(v) => {
                self.last_role = if v.in_recovery {
                    DbRole::Replica
                } else {
                    DbRole::Primary
                };
                (self.last_role, DbState::Available)
            }
            Err(e) => {
                tracing::debug!(db = %self.target.name, error = %e.message, "database unreachable");
                (self.last_role, DbState::Unreachable)
            }
        };
        let failure = own.as_ref().err().map(|e| e.reason.clone());
        let mut replication = self.replica_of.clone().map(|source| {
            let (state, lag_secs, lag_bytes) = match &own {
                Err(_) => (ReplicationState::Broken, None, None),
                Ok(v) if !v.in_recovery => (ReplicationState::Promoted, None, None),
                Ok(v) => {
                    // `replay_lag` keeps its last value for a while after the standby caught
                    // up: only believe it while the standby is actually behind in bytes.
                    let up_lag = upstream
                        .as_ref()
                        .filter(|u| u.lag_bytes.is_some_and(|b| b > 0.0))
                        .and_then(|u| u.replay_lag);
                    // No transaction replayed since the standby started (NULL timestamp) but
                    // the upstream sees it caught up: not behind.
                    let caught_up = upstream.as_ref().is_some_and(|u| u.lag_bytes == Some(0.0));
                    let own_lag = v.lag_secs.or(caught_up.then_some(0.0));
                    let lag = match (own_lag, up_lag) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    }
                    .map(|l| (l.max(0.0) * 10.0).round() / 10.0);
                    let streaming = v.receiver.as_deref() == Some("streaming");
                    // Paused on purpose, unless the source is gone too: then what matters is that
                    // nothing more can come.
                    let state = if v.paused && (streaming || !source_gone) {
                        ReplicationState::Paused
                    } else if streaming {
                        ReplicationState::Streaming
                    } else {
                        ReplicationState::Broken
                    };
                    let bytes = upstream
                        .as_ref()
                        .and_then(|u| u.lag_bytes)
                        .or(if streaming || v.paused {
                            v.replay_backlog
                        } else {
                            None
                        })
                        .map(|b| b.max(0.0) as u64);
                    (state, lag, bytes)
                }
            };
            Replication {
                source,
                state,
                lag_secs,
                lag_bytes,
                lag_alarm: self.lag_alarm,
                loss_window_secs: None,
                source_lost_at: None,
                last_replayed_at: None,
                loss_window_bytes: None,
                loss_evidence: None,
            }
        });
        // A replica that still answers but no longer receives: the window a promotion loses,
        // measured from WAL positions once the source is gone; else the lag it had when
        // streaming stopped, labelled as that fallback.
        if let (Some(r), Ok(_)) = (&mut replication, &own) {
            match r.state {
                ReplicationState::Streaming => self.lag_while_streaming = r.lag_secs,
                ReplicationState::Broken => self.fill_loss(r, source_gone),
                ReplicationState::Promoted => {
                    if let Loss::Measured(Ok(w)) = &self.loss {
                        fill_window(r, w);
                    }
                }
                ReplicationState::Paused => {}
            }
        }
        DatabaseReading {
            failover_paused: None,
            name: self.target.name.clone(),
            resource: self.resource.clone(),
            region: self.region.clone(),
            role,
            state,
            az: None,
            multi_az: self.multi_az,
            replication,
            integrity_ok: None,
            corrupt_since: None,
            failure,
        }
    }

    /// The window of a broken replica: measured, else the lag fallback with why.
    fn fill_loss(&self, r: &mut Replication, source_gone: bool) {
        let why = match &self.loss {
            Loss::Measured(Ok(w)) => {
                fill_window(r, w);
                return;
            }
            Loss::Measured(Err(e)) => format!("the WAL of the old primary could not be read: {e}"),
            Loss::Measuring(_) => "reading the WAL of the old primary".to_string(),
            Loss::NotNeeded if self.source_wal.is_none() => format!(
                "no data_dir or wal_archive of {} in the environment to measure it from WAL",
                r.source
            ),
            Loss::NotNeeded if !source_gone => format!("{} still answers", r.source),
            Loss::NotNeeded => "not measured".to_string(),
        };
        r.loss_window_secs = self.lag_while_streaming;
        r.loss_evidence = Some(format!(
            "fallback: the replica's lag when replication broke ({why})"
        ));
    }

    /// Starts the measurement once the source is gone; collects it when done; forgets it when
    /// the source is back.
    async fn track_loss(&mut self, state: Option<ReplicationState>, source_gone: bool) {
        if state == Some(ReplicationState::Streaming) {
            if let Loss::Measuring(h) = &self.loss {
                h.abort();
            }
            self.loss = Loss::NotNeeded;
            return;
        }
        if matches!(self.loss, Loss::NotNeeded)
            && state == Some(ReplicationState::Broken)
            && source_gone
        {
            if let Some(source) = self.source_wal.clone() {
                let target = self.target.clone();
                tracing::info!(db = %target.name, source = %source.name, "source gone: measuring the lost window from WAL");
                let mut task = tokio::spawn(async move {
                    let client = target.connect().await?;
                    let pos = wal::read_position(&client, true)
                        .await
                        .map_err(|e| format!("{}: {e}", target.name))?;
                    drop(client);
                    wal::measure(&source, &pos).await.map_err(|e| e.to_string())
                });
                // Usually done in well under a second: give this poll (and a one-shot
                // `status`) the measured window; else a later poll collects it.
                match tokio::time::timeout(FIRST_LOSS_WAIT, &mut task).await {
                    Ok(joined) => self.measured(joined),
                    Err(_) => self.loss = Loss::Measuring(task),
                }
            }
            return;
        }
        if !matches!(&self.loss, Loss::Measuring(h) if h.is_finished()) {
            return;
        }
        let Loss::Measuring(h) = std::mem::take(&mut self.loss) else {
            return;
        };
        let joined = h.await;
        self.measured(joined);
    }

    /// Keeps a finished measurement, and logs it.
    fn measured(
        &mut self,
        joined: Result<Result<wal::LossWindow, String>, tokio::task::JoinError>,
    ) {
        let result = match joined {
            Ok(r) => r,
            Err(e) => Err(format!("the measurement stopped: {e}")),
        };
        match &result {
            Ok(w) => tracing::info!(
                db = %self.target.name,
                replica_lsn = %w.replica_lsn,
                source_end_lsn = %w.source_end_lsn,
                bytes = w.bytes(),
                secs = ?w.secs(),
                evidence = %w.evidence,
                "lost window measured"
            ),
            Err(e) => {
                tracing::warn!(db = %self.target.name, error = %e, "lost window not measured from WAL");
            }
        }
        self.loss = Loss::Measured(result);
    }

    async fn poll_once(&mut self) -> Sample {
        let own = self.read_self().await;
        let mut source_gone = false;
        let upstream = match (&own, &self.upstream) {
            (Ok(v), Some(up)) if v.in_recovery => {
                let app = v.application_name.clone().unwrap_or_default();
                let up = up.clone();
                match query_opt(&up, &mut self.upstream_client, UPSTREAM_QUERY, &[&app]).await {
                    Ok(row) => row.map(|row| UpstreamView {
                        state: row.try_get(0).unwrap_or_default(),
                        replay_lag: row.try_get(1).unwrap_or(None),
                        lag_bytes: row.try_get(2).unwrap_or(None),
                    }),
                    Err(f) => {
                        source_gone = !f.answered;
                        tracing::debug!(error = %f.message, "upstream view unavailable");
                        None
                    }
                }
            }
            _ => None,
        };
        if let Some(u) = &upstream {
            tracing::trace!(state = %u.state, "upstream view");
        }
        let mut reading = self.reading(own, upstream, source_gone);
        let state = reading.replication.as_ref().map(|r| r.state);
        let before = matches!(self.loss, Loss::Measured(_));
        self.track_loss(state, source_gone).await;
        if !before
            && matches!(self.loss, Loss::Measured(_))
            && let Some(r) = &mut reading.replication
            && matches!(
                r.state,
                ReplicationState::Broken | ReplicationState::Promoted
            )
        {
            // Measured during this poll: show it now rather than on the next one.
            if r.state == ReplicationState::Broken {
                self.fill_loss(r, source_gone);
            } else if let Loss::Measured(Ok(w)) = &self.loss {
                fill_window(r, w);
            }
        }
        let at = chrono::Utc::now();
        if let Some(sql) = self.integrity_check.clone()
            && reading.state != DbState::Unreachable
        {
            // Polled like lag: the first failing sample is the corruption onset.
            match query_one(&self.target, &mut self.client, &sql, &[]).await {
                Ok(row) => match row.try_get::<_, Option<bool>>(0) {
                    Ok(Some(true)) => {
                        self.corrupt_since = None;
                        reading.integrity_ok = Some(true);
                    }
                    Ok(Some(false)) => {
                        let since = *self.corrupt_since.get_or_insert(at);
                        reading.integrity_ok = Some(false);
                        reading.corrupt_since = Some(since);
                    }
                    Ok(None) | Err(_) => {
                        tracing::warn!(db = %self.target.name, "integrity_check did not answer one boolean");
                    }
                },
                Err(f) => {
                    tracing::warn!(db = %self.target.name, error = %f.message, "integrity_check failed");
                }
            }
        }
        Sample {
            at,
            databases: vec![reading],
            ..Sample::default()
        }
    }
}

/// The window measured from WAL, into a reading.
fn fill_window(r: &mut Replication, w: &wal::LossWindow) {
    r.loss_window_secs = w.secs();
    r.loss_window_bytes = Some(w.bytes());
    r.last_replayed_at = w.last_replayed_at;
    r.source_lost_at = w.source_lost_at;
    r.loss_evidence = Some(format!(
        "{} ({} commits lost; WAL from {} to {})",
        w.evidence, w.lost_commits, w.replica_lsn, w.source_end_lsn
    ));
}

/// Why a query failed: `answered` when the server itself refused it (it is reachable).
#[derive(Debug, Clone)]
struct QueryFailure {
    message: String,
    answered: bool,
    reason: FailureReason,
}

impl QueryFailure {
    fn unreachable(e: ConnectError) -> Self {
        QueryFailure {
            message: e.message,
            answered: false,
            reason: e.reason,
        }
    }
}

/// One row from `sql` on `target`, (re)connecting as needed (see [`query_opt`]).
async fn query_one(
    target: &PgTarget,
    client: &mut Option<Client>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<tokio_postgres::Row, QueryFailure> {
    query_opt(target, client, sql, params)
        .await?
        .ok_or_else(|| QueryFailure {
            message: format!("{}: the query returned no row", target.name),
            answered: true,
            reason: FailureReason::other("the query returned no row"),
        })
}

/// At most one row from `sql` on `target`, (re)connecting as needed: a broken connection is
/// dropped and one fresh attempt made, so a restarted server answers on the next poll.
async fn query_opt(
    target: &PgTarget,
    client: &mut Option<Client>,
    sql: &str,
    params: &[&(dyn tokio_postgres::types::ToSql + Sync)],
) -> Result<Option<tokio_postgres::Row>, QueryFailure> {
    let fresh = client.as_ref().is_none_or(Client::is_closed);
    if fresh {
        *client = Some(
            target
                .connect_classified()
                .await
                .map_err(QueryFailure::unreachable)?,
        );
    }
    for attempt in 0..2 {
        let Some(c) = client.as_ref() else {
            break;
        };
        match tokio::time::timeout(QUERY_TIMEOUT, c.query_opt(sql, params)).await {
            Ok(Ok(row)) => return Ok(row),
            Ok(Err(e)) => {
                *client = None;
                if attempt == 0 && !fresh && e.as_db_error().is_none() {
                    // The connection broke (server restarted): try once on a new one.
                    *client = Some(
                        target
                            .connect_classified()
                            .await
                            .map_err(QueryFailure::unreachable)?,
                    );
                    continue;
                }
                return Err(QueryFailure {
                    message: format!("{}: {}", target.name, pg_error(&e)),
                    answered: e.as_db_error().is_some(),
                    reason: pg_reason(&e, QUERY_TIMEOUT),
                });
            }
            Err(_) => {
                *client = None;
                return Err(QueryFailure {
                    message: format!(
                        "{}: no answer within {}s",
                        target.name,
                        QUERY_TIMEOUT.as_secs()
                    ),
                    answered: false,
                    reason: FailureReason::timeout(QUERY_TIMEOUT),
                });
            }
        }
    }
    Err(QueryFailure {
        message: format!("{}: not connected", target.name),
        answered: false,
        reason: FailureReason::other("not connected"),
    })
}

impl Source for PostgresSource {
    fn name(&self) -> &str {
        &self.source_name
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: self.replica_of.is_some(),
            backups: false,
            regions: true,
        }
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    /// Connect, query, and a reconnect with one more query, on the database and its upstream,
    /// and the first wait for a lost window: a poll reports `Unreachable` itself before this
    /// runs out.
    fn timeout(&self) -> Duration {
        let up = self
            .upstream
            .as_ref()
            .map_or(Duration::ZERO, |u| u.connect_timeout);
        let loss = if self.source_wal.is_some() {
            FIRST_LOSS_WAIT
        } else {
            Duration::ZERO
        };
        2 * (self.target.connect_timeout + QUERY_TIMEOUT)
            + up
            + QUERY_TIMEOUT
            + loss
            + Duration::from_secs(1)
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move {
            let started = Instant::now();
            let sample = self.poll_once().await;
            tracing::trace!(source = %self.source_name, took_ms = started.elapsed().as_millis() as u64, "polled");
            Ok(sample)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn receiver_application_name() {
        let ci = "user=postgres dbname=replication host=/tmp/s port=5501 fallback_application_name=dr-replica sslmode=prefer";
        assert_eq!(receiver_app_name(Some(ci), None), "dr-replica");
        let ci = "user=x application_name=standby1 fallback_application_name=dr";
        assert_eq!(receiver_app_name(Some(ci), None), "standby1");
        assert_eq!(receiver_app_name(None, Some("c")), "c");
        assert_eq!(receiver_app_name(None, Some("")), "walreceiver");
    }

    fn standby(evidence: &str) -> PostgresSource {
        let src = format!(
            "name = \"t\"\nobjectives = {{ rto = \"30m\", rpo = \"5m\" }}\n\
             [[regions]]\nname = \"primary\"\nid = \"a\"\nrole = \"primary\"\n\
             [[regions]]\nname = \"dr\"\nid = \"b\"\nrole = \"dr\"\n\
             [[databases]]\nname = \"primary\"\nregion = \"primary\"\n\
             postgres = {{ dsn = \"host=/nonexistent port=1 dbname=a user=u\"{evidence} }}\n\
             [[databases]]\nname = \"dr-replica\"\nregion = \"dr\"\nreplica_of = \"primary\"\n\
             postgres = {{ dsn = \"host=/nonexistent port=2 dbname=a user=u\" }}\n"
        );
        let env = Environment::parse("t.toml", &src).expect("env");
        PostgresSource::new(env.database("dr-replica").expect("db"), &env).expect("source")
    }

    fn view(paused: bool, receiver: Option<&str>) -> SelfView {
        SelfView {
            in_recovery: true,
            paused,
            lag_secs: Some(4.0),
            replay_backlog: None,
            receiver: receiver.map(str::to_string),
            application_name: None,
        }
    }

    #[test]
    fn a_broken_replica_without_wal_evidence_says_its_window_is_the_lag_fallback() {
        let mut s = standby("");
        s.lag_while_streaming = Some(3.4);
        let r = s
            .reading(Ok(view(false, None)), None, true)
            .replication
            .expect("replication");
        assert_eq!(r.state, ReplicationState::Broken);
        assert_eq!(r.loss_window_secs, Some(3.4));
        assert_eq!(
            (r.loss_window_bytes, r.source_lost_at, r.last_replayed_at),
            (None, None, None)
        );
        let e = r.loss_evidence.expect("evidence");
        assert!(
            e.starts_with("fallback: the replica's lag when replication broke")
                && e.contains("no data_dir or wal_archive of primary"),
            "{e}"
        );
    }

    #[test]
    fn a_paused_replica_whose_source_is_gone_is_broken() {
        let mut s = standby(", wal_archive = \"/nonexistent/archive\"");
        let state = |s: &mut PostgresSource, paused, receiver, gone| {
            s.reading(Ok(view(paused, receiver)), None, gone)
                .replication
                .expect("replication")
        };
        assert_eq!(
            state(&mut s, true, Some("streaming"), false).state,
            ReplicationState::Paused
        );
        assert_eq!(
            state(&mut s, true, None, false).state,
            ReplicationState::Paused
        );
        let paused = state(&mut s, true, None, false);
        assert!(paused.loss_evidence.is_none(), "{paused:?}");
        let r = state(&mut s, false, None, false);
        assert!(
            r.loss_evidence
                .as_deref()
                .is_some_and(|e| e.contains("primary still answers")),
            "{r:?}"
        );
        assert_eq!(
            state(&mut s, true, None, true).state,
            ReplicationState::Broken
        );
    }

    #[test]
    fn pgpass_rules() {
        let text = "# comment\ndb1:5432:app:u:first\n*:*:*:u:wild\\:card\n";
        assert_eq!(
            pgpass_match(text, "db1", false, "5432", "app", "u").as_deref(),
            Some("first")
        );
        assert_eq!(
            pgpass_match(text, "db2", false, "5432", "app", "u").as_deref(),
            Some("wild:card")
        );
        assert_eq!(pgpass_match(text, "db2", false, "5432", "app", "v"), None);
        let text = "localhost:*:*:*:sock\n";
        assert_eq!(
            pgpass_match(text, "/var/run/postgresql", true, "5432", "a", "u").as_deref(),
            Some("sock")
        );
    }
}
