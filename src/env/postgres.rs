//! The PostgreSQL bindings of the environment file: how warroom reaches a self-hosted database
//! (`postgres = { dsn = ... }`) and a directory of backup files (`dir = { path = ..., glob = ... }`).
//!
//! Passwords are never written in the file: a DSN with a password is refused at load time. The
//! password comes from libpq's own sources (`PGPASSWORD`, `~/.pgpass` or `PGPASSFILE`) or from a
//! named environment variable (`password_env`). See `docs/environments.md`.

use std::path::{Path, PathBuf};
use std::str::FromStr;

use serde::Deserialize;
use toml::Spanned;

use crate::diag::Diagnostic;
use crate::duration::Dur;

/// Default time allowed to open a connection.
pub const DEFAULT_CONNECT_TIMEOUT: Dur = Dur::from_secs(3);
/// Default time between two polls of a database.
pub const DEFAULT_DB_POLL: Dur = Dur::from_secs(2);
/// Default time between two looks at a backup directory.
pub const DEFAULT_DIR_POLL: Dur = Dur::from_secs(5);

/// PostgreSQL binding of a database:
/// `postgres = { dsn = "host=/run/postgresql port=5433 dbname=app user=warroom" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PostgresDatabase {
    /// libpq connection string, key/value (`host=db1 port=5432 dbname=app user=warroom`) or URL
    /// (`postgresql://warroom@db1:5432/app`). `host` is required: a host name, an address, or a
    /// unix socket directory (an absolute path). Must not contain a password.
    pub dsn: Spanned<String>,
    /// Name of an environment variable holding the password (e.g. `PGPASS_DR`). Without it the
    /// password comes from `PGPASSWORD`, then `PGPASSFILE` or `~/.pgpass`, like libpq.
    pub password_env: Option<String>,
    /// Time allowed to open a connection (default 3s). A server that does not answer within it
    /// counts as unreachable for that poll.
    pub connect_timeout: Option<Dur>,
    /// Time between two polls (default 2s).
    pub poll: Option<Dur>,
    /// Name shown next to the logical name in panes and dialogs (default: `dbname@host:port`).
    pub resource: Option<String>,
    /// Directory of the client programs (`pg_dump`, `pg_restore`, `psql`) to use against this
    /// server; their major version must be at least the server's. Default: `PATH`, then the
    /// newest `/usr/lib/postgresql/*/bin`.
    pub bin_dir: Option<String>,
    /// The server's data directory, when this machine can read it (the lab, a shared disk):
    /// after a region loss, where its last WAL records are read to measure what a promotion of
    /// its standby loses (`pg_controldata`, `pg_waldump`). Relative: to the environment file.
    pub data_dir: Option<Spanned<String>>,
    /// The directory this server's `archive_command` copies WAL segments to: the same
    /// measurement when the data directory is out of reach (archived segments only).
    pub wal_archive: Option<Spanned<String>>,
    /// Where a point-in-time restore (`db.restore` with `to`, from a `base_backup` series)
    /// creates the new data directory (`<restore_dir>/<name>-<time>`); the old one is kept.
    /// Relative: to the environment file. Default: `restored` beside the base backups.
    pub restore_dir: Option<Spanned<String>>,
    /// The port the restored server starts on. Default: the DSN's port, after the server
    /// there (its `data_dir`) is stopped; a server still answering there is never stopped
    /// without a `data_dir` to stop it by.
    pub restore_port: Option<u16>,
    /// A query returning one boolean, `true` while the data is intact (e.g. `SELECT NOT EXISTS
    /// (SELECT 1 FROM orders WHERE amount < 0)`), run on every poll like the lag: the first
    /// failing sample is the corruption onset (`corrupt_since`), the restore point's reference.
    pub integrity_check: Option<Spanned<String>>,
}

/// A directory of backup files (dumps, or a WAL archive):
/// `dir = { path = "/backup/daily", glob = "pynomaly_backup_*.dump", database = "primary" }`.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct BackupDir {
    /// The directory. A relative path is relative to the environment file's directory.
    pub path: Spanned<String>,
    /// Which file names belong to the series (`*`, `?`, `[0-9A-F]`); the newest matching file by
    /// modification time is the last backup. A WAL archive: `"[0-9A-F]*"`.
    pub glob: Spanned<String>,
    /// Check the newest file with `pg_restore --list` (custom-format dumps only) once per new
    /// file; a file that fails counts as a failed attempt.
    #[serde(default)]
    pub verify: bool,
    /// A file smaller than this many bytes counts as a failed attempt (default 1: an empty file
    /// is never a backup).
    pub min_size: Option<u64>,
    /// Logical database this series dumps: `backup.snapshot` runs `pg_dump` against it and
    /// `backup.verify` compares a restore of the newest dump with it.
    pub database: Option<Spanned<String>>,
    /// File name `backup.snapshot` writes, `{time}` replaced by the UTC time
    /// (`20260101T020000Z`); it must match `glob`. Default: `<backup name>-{time}.dump`.
    pub snapshot_name: Option<Spanned<String>>,
    /// Time between two looks at the directory (default 5s).
    pub poll: Option<Dur>,
    /// The files are base backups of `database` (`pg_basebackup` tar archives):
    /// `backup.snapshot` takes one, and `db.restore` with `to` replays the database's
    /// `wal_archive` onto the newest one before the chosen point (point-in-time recovery).
    #[serde(default)]
    pub base_backup: bool,
}

impl BackupDir {
    /// The directory, resolved against `base` (the environment file's directory) if relative.
    pub fn resolved_path(&self, base: Option<&Path>) -> PathBuf {
        resolve(self.path.get_ref(), base)
    }

    /// The file name `backup.snapshot` writes at `time` for the series `backup`.
    pub fn snapshot_file_name(&self, backup: &str, time: chrono::DateTime<chrono::Utc>) -> String {
        let stamp = time.format("%Y%m%dT%H%M%SZ").to_string();
        match &self.snapshot_name {
            Some(t) => t.get_ref().replace("{time}", &stamp),
            None => format!("{backup}-{stamp}.dump"),
        }
    }
}

/// Whether `dir` holds `global/pg_control`; a directory this user may not look into counts as
/// one (the server's own user owns it, mode 0700).
fn looks_like_data_dir(dir: &Path) -> bool {
    match std::fs::metadata(dir.join("global").join("pg_control")) {
        Ok(m) => m.is_file(),
        Err(e) => e.kind() == std::io::ErrorKind::PermissionDenied,
    }
}

/// `path` resolved against `base` if relative.
pub fn resolve(path: &str, base: Option<&Path>) -> PathBuf {
    let p = PathBuf::from(path);
    match base {
        Some(b) if p.is_relative() => b.join(p),
        _ => p,
    }
}

/// The parsed connection settings of a DSN, without any password.
pub fn parse_dsn(dsn: &str) -> Result<tokio_postgres::Config, String> {
    tokio_postgres::Config::from_str(dsn).map_err(|e| {
        // tokio-postgres messages name the option, never echo the value; strip anyway.
        format!("cannot parse the DSN: {}", redact_dsn(&e.to_string()))
    })
}

/// A DSN safe to show: any `password=...` value and any URL password replaced by `***`.
pub fn redact_dsn(dsn: &str) -> String {
    let mut out = String::with_capacity(dsn.len());
    // URL form: scheme://user:password@host
    let mut rest = dsn;
    if let Some(scheme_end) = rest.find("://") {
        let (head, tail) = rest.split_at(scheme_end + 3);
        out.push_str(head);
        let authority_end = tail.find(['/', '?']).unwrap_or(tail.len());
        let (authority, after) = tail.split_at(authority_end);
        match authority.rfind('@') {
            Some(at) => {
                let userinfo = &authority[..at];
                match userinfo.find(':') {
                    Some(colon) => {
                        out.push_str(&userinfo[..colon]);
                        out.push_str(":***");
                    }
                    None => out.push_str(userinfo),
                }
                out.push_str(&authority[at..]);
            }
            None => out.push_str(authority),
        }
        rest = after;
    }
    // key=value form (and URL query parameters): password=VALUE up to a space or '&'.
    let lower = rest.to_ascii_lowercase();
    let mut i = 0;
    while let Some(found) = lower[i..].find("password") {
        let start = i + found;
        let key_end = start + "password".len();
        // Only the key itself, not e.g. `password_env` or `passwordx`.
        let before_ok =
            start == 0 || !rest[..start].ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let after = rest[key_end..].trim_start();
        if before_ok && after.starts_with('=') {
            let value_start = rest.len() - after.len() + 1;
            let value = &rest[value_start..];
            let value_trimmed = value.trim_start();
            let value_start = rest.len() - value_trimmed.len();
            let value_end = if let Some(quoted) = value_trimmed.strip_prefix('\'') {
                // 'quoted value' with \' escapes
                let mut end = value_start + 1;
                let mut escaped = false;
                for (k, c) in quoted.char_indices() {
                    if escaped {
                        escaped = false;
                    } else if c == '\\' {
                        escaped = true;
                    } else if c == '\'' {
                        end = value_start + 1 + k + 1;
                        break;
                    }
                    end = value_start + 1 + k + c.len_utf8();
                }
                end
            } else {
                value_start
                    + value_trimmed
                        .find([' ', '&', '\t'])
                        .unwrap_or(value_trimmed.len())
            };
            out.push_str(&rest[i..value_start]);
            out.push_str("***");
            i = value_end;
        } else {
            out.push_str(&rest[i..key_end]);
            i = key_end;
        }
    }
    out.push_str(&rest[i..]);
    out
}

/// `dbname@host:port` of a parsed DSN: a short name for panes.
pub fn short_target(config: &tokio_postgres::Config) -> String {
    let host = config
        .get_hosts()
        .first()
        .map_or_else(String::new, |h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        });
    let port = config.get_ports().first().copied().unwrap_or(5432);
    let db = config
        .get_dbname()
        .or(config.get_user())
        .unwrap_or("postgres");
    format!("{db}@{host}:{port}")
}

impl PostgresDatabase {
    /// The name shown next to the logical name: `resource`, else `dbname@host:port`.
    pub fn resource_name(&self) -> String {
        self.resource.clone().unwrap_or_else(|| {
            parse_dsn(self.dsn.get_ref())
                .map_or_else(|_| "postgres".to_string(), |c| short_target(&c))
        })
    }
}

/// `host=... port=... dbname=... user=...` of a parsed DSN, for messages (never a password).
pub fn describe_config(config: &tokio_postgres::Config) -> String {
    let mut parts = Vec::new();
    let hosts: Vec<String> = config
        .get_hosts()
        .iter()
        .map(|h| match h {
            tokio_postgres::config::Host::Tcp(name) => name.clone(),
            tokio_postgres::config::Host::Unix(path) => path.display().to_string(),
        })
        .collect();
    if !hosts.is_empty() {
        parts.push(format!("host={}", hosts.join(",")));
    }
    let ports: Vec<String> = config.get_ports().iter().map(u16::to_string).collect();
    if !ports.is_empty() {
        parts.push(format!("port={}", ports.join(",")));
    }
    if let Some(db) = config.get_dbname() {
        parts.push(format!("dbname={db}"));
    }
    if let Some(user) = config.get_user() {
        parts.push(format!("user={user}"));
    }
    parts.join(" ")
}

impl PostgresDatabase {
    /// Problems with this binding, located in `src`.
    pub fn validate(&self, path: &str, src: &str) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let dsn = self.dsn.get_ref();
        match parse_dsn(dsn) {
            Err(e) => out.push(
                Diagnostic::at(path, src, self.dsn.span(), e)
                    .with_help("write key=value pairs (host=/run/postgresql port=5432 dbname=app user=warroom) or a postgresql:// URL"),
            ),
            Ok(config) => {
                if config.get_password().is_some() {
                    out.push(
                        Diagnostic::at(path, src, self.dsn.span(), "the DSN contains a password")
                            .with_help(
                                "remove it: passwords never go in environment files; use PGPASSWORD, ~/.pgpass, or password_env = \"VAR\" naming an environment variable",
                            ),
                    );
                }
                if config.get_hosts().is_empty() {
                    out.push(
                        Diagnostic::at(path, src, self.dsn.span(), "the DSN names no host")
                            .with_help("add host=NAME, or host=/path/to/socket/dir for a unix socket"),
                    );
                }
            }
        }
        let base = Path::new(path).parent();
        for (key, value) in [
            ("data_dir", &self.data_dir),
            ("wal_archive", &self.wal_archive),
            ("restore_dir", &self.restore_dir),
        ] {
            let Some(v) = value else { continue };
            if v.get_ref().trim().is_empty() {
                out.push(
                    Diagnostic::at(path, src, v.span(), format!("{key} is empty"))
                        .with_help("name a directory, or remove the setting"),
                );
                continue;
            }
            // A directory on another machine is allowed (it is read when reachable); one that
            // exists here must be what it claims to be.
            let dir = resolve(v.get_ref(), base);
            let problem = match key {
                "data_dir" if dir.exists() && !looks_like_data_dir(&dir) => Some((
                    format!(
                        "{} is not a PostgreSQL data directory (no global/pg_control)",
                        dir.display()
                    ),
                    "name the directory holding PG_VERSION, global/ and pg_wal/ of this server",
                )),
                "wal_archive" if dir.exists() && !dir.is_dir() => Some((
                    format!("{} is not a directory", dir.display()),
                    "name the directory the server's archive_command copies WAL segments into",
                )),
                "restore_dir" if dir.exists() && !dir.is_dir() => Some((
                    format!("{} is not a directory", dir.display()),
                    "name a directory where restored data directories may be created",
                )),
                _ => None,
            };
            if let Some((message, help)) = problem {
                out.push(Diagnostic::at(path, src, v.span(), message).with_help(help));
            }
        }
        if let Some(q) = &self.integrity_check {
            let head = q.get_ref().trim_start().to_ascii_lowercase();
            if !(head.starts_with("select") || head.starts_with("with")) {
                out.push(
                    Diagnostic::at(path, src, q.span(), "integrity_check is not a SELECT")
                        .with_help("write a query returning one boolean, true while the data is intact: integrity_check = \"SELECT NOT EXISTS (SELECT 1 FROM orders WHERE amount < 0)\""),
                );
            }
        }
        if let Some(var) = &self.password_env
            && (var.is_empty() || var.contains(['=', '\0']))
        {
            out.push(
                Diagnostic::at(
                    path,
                    src,
                    self.dsn.span(),
                    format!(
                        "password_env {var} is not a variable name",
                        var = crate::text::echo(var)
                    ),
                )
                .with_help("name an environment variable, e.g. password_env = \"PGPASS_DR\""),
            );
        }
        out
    }
}

impl BackupDir {
    /// Problems with this binding, located in `src`; `backup` is the series' logical name,
    /// `databases` the known logical database names.
    pub fn validate(
        &self,
        backup: &str,
        databases: &[&str],
        path: &str,
        src: &str,
    ) -> Vec<Diagnostic> {
        let mut out = Vec::new();
        let pattern = match glob::Pattern::new(self.glob.get_ref()) {
            Ok(p) => Some(p),
            Err(e) => {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        self.glob.span(),
                        format!(
                            "bad glob {}: {}",
                            crate::text::echo(self.glob.get_ref()),
                            e.msg
                        ),
                    )
                    .with_help("use * for any run of characters, ? for one, [0-9A-F] for a set"),
                );
                None
            }
        };
        if self.glob.get_ref().contains('/') {
            out.push(
                Diagnostic::at(
                    path,
                    src,
                    self.glob.span(),
                    "the glob matches file names, not paths",
                )
                .with_help("put the directory in `path` and only the file-name pattern in `glob`"),
            );
        }
        if let Some(db) = &self.database
            && !databases.contains(&db.get_ref().as_str())
        {
            out.push(
                Diagnostic::at(
                    path,
                    src,
                    db.span(),
                    format!("unknown database {}", crate::text::echo(db.get_ref())),
                )
                .with_help(format!(
                    "known databases: {}",
                    super::known_names(databases)
                )),
            );
        }
        if self.base_backup && self.database.is_none() {
            out.push(
                Diagnostic::at(
                    path,
                    src,
                    self.glob.span(),
                    "a base_backup series names no database",
                )
                .with_help(
                    "add database = \"<logical name>\": the database these base backups are of",
                ),
            );
        }
        if let Some(name) = &self.snapshot_name {
            if !name.get_ref().contains("{time}") {
                out.push(
                    Diagnostic::at(path, src, name.span(), "snapshot_name must contain {time}")
                        .with_help("e.g. snapshot_name = \"pynomaly_backup_{time}.dump\": every snapshot needs its own file"),
                );
            }
            if name.get_ref().contains('/') {
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        name.span(),
                        "snapshot_name is a file name, not a path",
                    )
                    .with_help("the file goes into `path`"),
                );
            }
        }
        if let Some(pattern) = pattern {
            let example = self.snapshot_file_name(backup, chrono::DateTime::UNIX_EPOCH);
            if self.database.is_some() && !pattern.matches(&example) {
                let span = self
                    .snapshot_name
                    .as_ref()
                    .map_or_else(|| self.glob.span(), Spanned::span);
                out.push(
                    Diagnostic::at(
                        path,
                        src,
                        span,
                        format!(
                            "backup.snapshot would write {example}, which the glob {} does not match",
                            crate::text::echo(self.glob.get_ref()), example = crate::text::echo(&example)),
                    )
                    .with_help("set snapshot_name = \"...{time}...\" to a name the glob matches, or widen the glob"),
                );
            }
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redacts_passwords_in_both_forms() {
        assert_eq!(
            redact_dsn("host=db password=s3cret user=x"),
            "host=db password=*** user=x"
        );
        assert_eq!(
            redact_dsn("host=db password = 'a b\\' c' user=x"),
            "host=db password = *** user=x"
        );
        assert_eq!(
            redact_dsn("postgresql://u:s3cret@db:5432/app?sslmode=require"),
            "postgresql://u:***@db:5432/app?sslmode=require"
        );
        assert_eq!(
            redact_dsn("postgresql://db/app?password=s3cret&user=u"),
            "postgresql://db/app?password=***&user=u"
        );
        assert_eq!(redact_dsn("host=db user=x"), "host=db user=x");
        assert_eq!(redact_dsn("password_env=X"), "password_env=X");
    }

    #[test]
    fn describes_without_password() {
        let c = parse_dsn("host=/tmp/s port=5433 dbname=app user=u").expect("dsn");
        assert_eq!(
            describe_config(&c),
            "host=/tmp/s port=5433 dbname=app user=u"
        );
    }

    #[test]
    fn snapshot_names() {
        let t = chrono::DateTime::UNIX_EPOCH;
        let dir: BackupDir = toml::from_str("path = \"/b\"\nglob = \"*.dump\"").expect("dir");
        assert_eq!(
            dir.snapshot_file_name("daily", t),
            "daily-19700101T000000Z.dump"
        );
    }
}
