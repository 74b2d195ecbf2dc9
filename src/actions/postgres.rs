//! Built-in actions on a self-hosted PostgreSQL deployment.
//!
//! | action            | what it does                                                          |
//! |-------------------|-----------------------------------------------------------------------|
//! | `db.promote`      | `SELECT pg_promote()` on the standby, then waits until it leaves recovery |
//! | `db.read_only`    | `ALTER SYSTEM SET default_transaction_read_only` + `pg_reload_conf()` |
//! | `db.restore`      | `pg_restore --clean --if-exists --single-transaction` of the newest dump that lists |
//! | `backup.snapshot` | `pg_dump --format=custom` in an exported snapshot + a manifest of row counts and md5s taken in that same snapshot, checked with `pg_restore --list`, renamed into place |
//! | `backup.verify`   | restores the newest dump into a scratch database, compares row counts and an md5 per table with the manifest, drops the scratch database |
//! | `http.check`      | GET every health URL of a region                                      |
//!
//! `dns.point`, `app.scale`, `secret.rotate` and `notify.webhook` have no meaning here:
//! [`PostgresBackend::unsupported`] says what to do instead, so `warroom check` reports it.
//!
//! Passwords reach client programs through the child's `PGPASSWORD` only, never argv, and no
//! message contains one.
//!
//! `Row::get` (which panics on a type mismatch) is only used on columns whose SQL type the
//! query text fixes (`count(*)` is bigint, `md5()` text, `pg_is_in_recovery()` boolean).

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::Duration;

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_postgres::Client;

use super::{ActionBackend, ActionError, BuiltinAction, Call};
use crate::env::Environment;
use crate::env::postgres::BackupDir;
use crate::recovery::postgres::PgPitr;
use crate::telemetry::backup_dir::{BackupFile, list_archive, scan};
use crate::telemetry::http;
use crate::telemetry::postgres::{PgTarget, find_tool, pg_error, run_tool, wal};
use crate::telemetry::source::BoxFuture;

/// Longest `pg_promote()` may wait, and then the wait for the end of recovery.
pub const PROMOTE_TIMEOUT: Duration = Duration::from_secs(60);
/// Longest a `pg_dump` or a `pg_restore` may run.
pub const DUMP_TIMEOUT: Duration = Duration::from_secs(2 * 3600);
/// Where forensic copies live inside a backup directory (`backup.snapshot` with `forensic`).
pub const FORENSIC_DIR: &str = "forensic";

/// Keeps `from` at `to` (creating `to`'s directory): a hard link where the file system allows
/// it (no second copy of a large dump), else a copy. Refuses to replace an existing file.
fn keep_copy(from: &Path, to: &Path) -> Result<(), String> {
    if let Some(dir) = to.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    if to.exists() {
        return Err(format!(
            "{} already exists; retry in a second",
            to.display()
        ));
    }
    std::fs::hard_link(from, to)
        .or_else(|_| std::fs::copy(from, to).map(|_| ()))
        .map_err(|e| format!("cannot keep {} as {}: {e}", from.display(), to.display()))
}

/// Where manifests live inside a backup directory (a dot directory: never matched by a glob).
pub const MANIFEST_DIR: &str = ".warroom";

/// A backup series with a directory.
#[derive(Debug, Clone)]
struct Series {
    name: String,
    dir: PathBuf,
    pattern: glob::Pattern,
    binding: BackupDir,
}

/// Runs built-in actions against the PostgreSQL servers and backup directories of one
/// environment.
pub struct PostgresBackend {
    databases: BTreeMap<String, PgTarget>,
    series: BTreeMap<String, Series>,
    /// Base backup series (by name): point-in-time recovery (`src/recovery/postgres.rs`).
    pitr: BTreeMap<String, PgPitr>,
    /// The environment's name, and where each `backup.verify` is recorded
    /// (`verifications.jsonl` beside the journals; `None`: not recorded).
    environment: String,
    verifications: Option<PathBuf>,
    regions: BTreeMap<String, Vec<String>>,
    /// Each replica's source (`replica_of`), for the data-loss window of a promotion.
    sources: BTreeMap<String, String>,
    http: reqwest::Client,
}

/// Row count and checksum of one table, as recorded by `backup.snapshot` and compared by
/// `backup.verify`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct TableSum {
    pub schema: String,
    pub table: String,
    pub rows: i64,
    /// md5 over the sorted md5s of every row's text form; `None` for an empty table.
    pub md5: Option<String>,
}

/// What `backup.snapshot` records next to a dump (in `.warroom/<dump file name>.json`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Manifest {
    /// Logical database dumped.
    pub database: String,
    pub taken_at: DateTime<Utc>,
    /// Size of the dump file it describes.
    pub dump_bytes: u64,
    pub tables: Vec<TableSum>,
}

impl Manifest {
    pub fn path_for(dump: &Path) -> PathBuf {
        let name = dump
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        dump.parent()
            .unwrap_or(Path::new("."))
            .join(MANIFEST_DIR)
            .join(format!("{name}.json"))
    }
}

const TABLES_QUERY: &str = "\
SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'r' AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname NOT LIKE 'pg_toast%' AND n.nspname NOT LIKE 'pg_temp%'
ORDER BY 1, 2";

fn quote_ident(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

/// Row counts and md5s of every user table, in the client's current snapshot.
pub async fn table_sums(client: &Client) -> Result<Vec<TableSum>, String> {
    let rows = client
        .query(TABLES_QUERY, &[])
        .await
        .map_err(|e| format!("cannot list tables: {}", pg_error(&e)))?;
    let mut out = Vec::with_capacity(rows.len());
    for row in rows {
        let schema: String = row.get(0);
        let table: String = row.get(1);
        let sql = format!(
            "SELECT count(*), md5(string_agg(md5(t::text), '' ORDER BY md5(t::text))) FROM {}.{} AS t",
            quote_ident(&schema),
            quote_ident(&table)
        );
        let r = client
            .query_one(&sql, &[])
            .await
            .map_err(|e| format!("cannot checksum {schema}.{table}: {}", pg_error(&e)))?;
        out.push(TableSum {
            schema,
            table,
            rows: r.get(0),
            md5: r.get(1),
        });
    }
    Ok(out)
}

/// Differences between what a manifest recorded and what a restore holds, one line each.
pub fn compare_sums(expected: &[TableSum], actual: &[TableSum]) -> Vec<String> {
    let mut problems = Vec::new();
    let key = |t: &TableSum| format!("{}.{}", t.schema, t.table);
    let actual_by: BTreeMap<String, &TableSum> = actual.iter().map(|t| (key(t), t)).collect();
    let expected_by: BTreeMap<String, &TableSum> = expected.iter().map(|t| (key(t), t)).collect();
    for (k, e) in &expected_by {
        match actual_by.get(k) {
            None => problems.push(format!("{k}: missing from the restore")),
            Some(a) if a.rows != e.rows => problems.push(format!(
                "{k}: {} rows restored, {} recorded",
                a.rows, e.rows
            )),
            Some(a) if a.md5 != e.md5 => problems.push(format!(
                "{k}: checksum {} differs from the recorded {}",
                a.md5.as_deref().unwrap_or("-"),
                e.md5.as_deref().unwrap_or("-")
            )),
            Some(_) => {}
        }
    }
    for k in actual_by.keys().filter(|k| !expected_by.contains_key(*k)) {
        problems.push(format!("{k}: restored but not recorded"));
    }
    problems
}

impl PostgresBackend {
    pub fn new(env: &Environment) -> Result<Self, String> {
        let mut databases = BTreeMap::new();
        for db in &env.databases {
            if let Some(t) = PgTarget::of(db, env)? {
                databases.insert(db.name.get_ref().clone(), t);
            }
        }
        let mut series = BTreeMap::new();
        for b in &env.backups {
            if let Some(dir) = &b.dir {
                let pattern = glob::Pattern::new(dir.glob.get_ref())
                    .map_err(|e| format!("backup {:?}: bad glob: {}", b.name.get_ref(), e.msg))?;
                series.insert(
                    b.name.get_ref().clone(),
                    Series {
                        name: b.name.get_ref().clone(),
                        dir: dir.resolved_path(env.base_dir.as_deref()),
                        pattern,
                        binding: dir.clone(),
                    },
                );
            }
        }
        let regions = env
            .regions
            .iter()
            .map(|r| {
                let urls = r.health.iter().map(|u| u.get_ref().clone()).collect();
                (r.name.get_ref().clone(), urls)
            })
            .collect();
        let sources = env
            .databases
            .iter()
            .filter_map(|d| {
                let up = d.replica_of.as_ref()?;
                Some((d.name.get_ref().clone(), up.get_ref().clone()))
            })
            .collect();
        // Base backup series: point-in-time recovery of the database they name.
        let mut pitr = BTreeMap::new();
        for b in &env.backups {
            if b.dir.as_ref().is_some_and(|d| d.base_backup) {
                let p = PgPitr::for_series(env, b.name.get_ref()).map_err(|e| e.to_string())?;
                pitr.insert(b.name.get_ref().clone(), p);
            }
        }
        Ok(PostgresBackend {
            databases,
            series,
            pitr,
            environment: env.name.clone(),
            verifications: crate::recovery::verified::default_path(),
            regions,
            sources,
            http: http::client()?,
        })
    }

    /// Records verifications in `path` instead of beside the journals (tests).
    pub fn with_verifications(mut self, path: Option<PathBuf>) -> Self {
        self.verifications = path;
        self
    }

    /// Appends a `backup.verify` result to the verification history (the newest file of the
    /// series is what `verify` checks). A history that cannot be written is logged, never fails
    /// the step: the journal has the step's output.
    fn record_verification(&self, backup: &str, result: &Result<Vec<String>, String>) {
        let (Some(path), Ok(s)) = (&self.verifications, self.series(backup)) else {
            return;
        };
        let file = scan(&s.dir, &s.pattern)
            .ok()
            .and_then(|f| f.into_iter().next())
            .and_then(|f| f.path.file_name().map(|n| n.to_string_lossy().into_owned()))
            .unwrap_or_default();
        let v = crate::recovery::verified::Verification {
            environment: self.environment.clone(),
            series: backup.to_string(),
            backup: file,
            at: Utc::now(),
            ok: result.is_ok(),
            detail: match result {
                Ok(lines) => lines.first().cloned().unwrap_or_default(),
                Err(e) => e.clone(),
            },
        };
        if let Err(e) = crate::recovery::verified::record(path, &v) {
            tracing::warn!(path = %path.display(), "cannot record the verification: {e}");
        }
    }

    fn db(&self, name: &str) -> Result<&PgTarget, String> {
        self.databases.get(name).ok_or_else(|| {
            format!(
                "unknown database {name:?}; known: {}",
                self.databases
                    .keys()
                    .cloned()
                    .collect::<Vec<_>>()
                    .join(", ")
            )
        })
    }

    fn series(&self, name: &str) -> Result<&Series, String> {
        self.series.get(name).ok_or_else(|| {
            format!(
                "backup {name:?} has no directory in this environment; known: {}",
                self.series.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })
    }

    /// The database a series dumps (`database = ...` in its dir binding).
    fn series_db(&self, s: &Series) -> Result<&PgTarget, String> {
        let db = s.binding.database.as_ref().ok_or_else(|| {
            format!(
                "backup {:?} names no database; add database = \"<logical name>\" to its dir binding",
                s.name
            )
        })?;
        self.db(db.get_ref())
    }

    fn tool(&self, name: &str, db: &PgTarget) -> Result<PathBuf, String> {
        find_tool(name, db.bin_dir.as_deref())
    }

    /// `PGPASSWORD` for a client program, if a password is configured.
    fn tool_env(db: &PgTarget) -> Result<Vec<(&'static str, String)>, String> {
        Ok(db
            .password()?
            .map(|p| vec![("PGPASSWORD", p)])
            .unwrap_or_default())
    }

    async fn promote(
        &self,
        name: &str,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let db = self.db(name)?;
        let client = db.connect().await?;
        let row = client
            .query_one(
                "SELECT pg_is_in_recovery(), pg_last_wal_receive_lsn()::text, \
                 pg_last_wal_replay_lsn()::text, \
                 to_char(pg_last_xact_replay_timestamp() AT TIME ZONE 'UTC', 'YYYY-MM-DD HH24:MI:SS UTC')",
                &[],
            )
            .await
            .map_err(|e| format!("{name}: {}", pg_error(&e)))?;
        let in_recovery: bool = row.get(0);
        if !in_recovery {
            return Err(format!(
                "{name} is not in recovery: it already is a primary, nothing to promote"
            ));
        }
        // The timeline it follows (the old primary's), before the promotion starts a new one.
        let timeline = wal::read_position(&client, true)
            .await
            .map(|p| p.timeline)
            .map_err(|e| e.to_string());
        let received: Option<String> = row.get(1);
        let replayed: Option<String> = row.get(2);
        let last_xact: Option<String> = row.get(3);
        progress(format!(
            "{name}: received WAL up to {}, replayed up to {}; promoting",
            received.as_deref().unwrap_or("-"),
            replayed.as_deref().unwrap_or("-")
        ));
        let started = Instant::now();
        let promoted: bool = tokio::time::timeout(
            PROMOTE_TIMEOUT + Duration::from_secs(5),
            client.query_one(
                "SELECT pg_promote(true, $1)",
                &[&(PROMOTE_TIMEOUT.as_secs() as i32)],
            ),
        )
        .await
        .map_err(|_| {
            format!(
                "{name}: pg_promote() did not return within {}s",
                PROMOTE_TIMEOUT.as_secs()
            )
        })?
        .map_err(|e| format!("{name}: pg_promote() failed: {}", pg_error(&e)))?
        .get(0);
        if !promoted {
            return Err(format!(
                "{name}: pg_promote() returned false: promotion did not finish within {}s; look at the server log, then retry",
                PROMOTE_TIMEOUT.as_secs()
            ));
        }
        // pg_promote(wait => true) already waited; confirm from a query like anyone would.
        loop {
            let rec: bool = client
                .query_one("SELECT pg_is_in_recovery()", &[])
                .await
                .map_err(|e| format!("{name}: {}", pg_error(&e)))?
                .get(0);
            if !rec {
                break;
            }
            if started.elapsed() > PROMOTE_TIMEOUT {
                return Err(format!(
                    "{name}: still in recovery {}s after pg_promote(); look at the server log",
                    PROMOTE_TIMEOUT.as_secs()
                ));
            }
            tokio::time::sleep(Duration::from_millis(100)).await;
        }
        let took = started.elapsed().as_secs_f64();
        let mut out = vec![format!(
            "{name} promoted in {took:.1}s: out of recovery, accepting writes"
        )];
        match self.promotion_loss(name, &client, timeline).await {
            Ok(w) => out.push(describe_loss(name, &w)),
            Err(why) => out.push(format!(
                "data-loss window not measured from WAL ({why}); last replayed transaction: {} (committed writes after it on the old primary are lost)",
                last_xact.as_deref().unwrap_or("none recorded")
            )),
        }
        Ok(out)
    }

    /// The window the promotion of `name` lost: its final replay position (a promotion replays
    /// all it received first) against its old source's last WAL record.
    async fn promotion_loss(
        &self,
        name: &str,
        client: &Client,
        timeline: Result<u32, String>,
    ) -> Result<wal::LossWindow, String> {
        let source = self
            .sources
            .get(name)
            .ok_or_else(|| format!("{name} has no replica_of in the environment"))?;
        let source = self
            .databases
            .get(source)
            .map(wal::SourceWal::of)
            .filter(wal::SourceWal::configured)
            .ok_or_else(|| format!("no data_dir or wal_archive of {source} in the environment"))?;
        let mut pos = wal::read_position(client, false)
            .await
            .map_err(|e| e.to_string())?;
        // After the promotion the server is on a new timeline; the old primary's is the one it
        // followed before.
        pos.timeline = timeline?;
        wal::measure(&source, &pos).await.map_err(|e| e.to_string())
    }

    async fn read_only(&self, name: &str, enabled: bool) -> Result<Vec<String>, String> {
        let db = self.db(name)?;
        let client = db.connect().await?;
        let value = if enabled { "on" } else { "off" };
        // ALTER SYSTEM refuses to run in a transaction block: two statements, two round trips.
        for sql in [
            format!("ALTER SYSTEM SET default_transaction_read_only = {value}"),
            "SELECT pg_reload_conf()".to_string(),
        ] {
            client.batch_execute(&sql).await.map_err(|e| {
                let denied =
                    e.code() == Some(&tokio_postgres::error::SqlState::INSUFFICIENT_PRIVILEGE);
                format!(
                    "{name}: {sql}: {}{}",
                    pg_error(&e),
                    if denied {
                        "; connect as a superuser (or grant ALTER SYSTEM on the parameter)"
                    } else {
                        ""
                    }
                )
            })?;
        }
        Ok(vec![
            format!("{name}: default_transaction_read_only = {value} (reloaded)"),
            if enabled {
                "new transactions are read-only; a session can still override it with SET, so stop writers too".to_string()
            } else {
                "writes are accepted again".to_string()
            },
        ])
    }

    /// `backup.snapshot`: a dump of the series' database with its manifest. With `forensic`, the
    /// dump and its manifest are also linked into the series directory's `forensic/`
    /// subdirectory under a name of their own (`forensic-<series>-<time>.dump`): the series'
    /// pattern and any retention that prunes the directory's files never reach them.
    async fn snapshot(
        &self,
        backup: &str,
        forensic: bool,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let s = self.series(backup)?;
        let db = self.series_db(s)?;
        let db_name = s
            .binding
            .database
            .as_ref()
            .map(|d| d.get_ref().clone())
            .unwrap_or_default();
        let pg_dump = self.tool("pg_dump", db)?;
        let pg_restore = self.tool("pg_restore", db)?;
        std::fs::create_dir_all(&s.dir)
            .map_err(|e| format!("cannot create {}: {e}", s.dir.display()))?;
        let taken_at = Utc::now();
        let final_name = s.binding.snapshot_file_name(backup, taken_at);
        let final_path = s.dir.join(&final_name);
        if final_path.exists() {
            return Err(format!(
                "{} already exists; retry in a second",
                final_path.display()
            ));
        }
        let partial = s.dir.join(format!(".{final_name}.partial"));

        // One snapshot for the dump and the manifest: what verify compares is what was dumped.
        let mut client = db.connect().await?;
        let tx = client
            .build_transaction()
            .isolation_level(tokio_postgres::IsolationLevel::RepeatableRead)
            .read_only(true)
            .start()
            .await
            .map_err(|e| format!("{db_name}: {}", pg_error(&e)))?;
        let snapshot_id: String = tx
            .query_one("SELECT pg_export_snapshot()", &[])
            .await
            .map_err(|e| format!("{db_name}: cannot export a snapshot: {}", pg_error(&e)))?
            .get(0);
        progress(format!(
            "pg_dump of {db_name} ({}) to {}",
            db.shown(),
            final_path.display()
        ));
        let args = vec![
            "--format=custom".to_string(),
            format!("--snapshot={snapshot_id}"),
            format!("--file={}", partial.display()),
            format!("--dbname={}", db.conninfo()),
        ];
        let envs = Self::tool_env(db)?;
        let started = Instant::now();
        let (dump, sums) = tokio::join!(
            run_tool(&pg_dump, &args, &envs, DUMP_TIMEOUT),
            table_sums(tx.client())
        );
        let _ = tx.commit().await;
        let cleanup = |e: String| {
            let _ = std::fs::remove_file(&partial);
            e
        };
        let dump = dump.map_err(cleanup)?;
        if !dump.success {
            let _ = std::fs::remove_file(&partial);
            return Err(format!(
                "pg_dump failed ({}): {}",
                dump.status,
                dump.stderr_tail(3)
            ));
        }
        let sums = sums.map_err(cleanup)?;
        let entries = list_archive(&pg_restore, &partial).await.map_err(cleanup)?;
        let size = std::fs::metadata(&partial).map(|m| m.len()).unwrap_or(0);
        let manifest = Manifest {
            database: db_name,
            taken_at,
            dump_bytes: size,
            tables: sums,
        };
        let manifest_path = Manifest::path_for(&final_path);
        write_manifest(&manifest_path, &manifest).map_err(cleanup)?;
        std::fs::rename(&partial, &final_path).map_err(|e| {
            cleanup(format!(
                "cannot move the dump into place at {}: {e}",
                final_path.display()
            ))
        })?;
        let rows: i64 = manifest.tables.iter().map(|t| t.rows).sum();
        let mut lines = vec![
            format!(
                "wrote {} ({}) in {:.1}s; pg_restore --list reads {entries} entries",
                final_path.display(),
                human_bytes(size),
                started.elapsed().as_secs_f64()
            ),
            format!(
                "manifest: {} tables, {rows} rows ({})",
                manifest.tables.len(),
                manifest_path.display()
            ),
        ];
        if forensic {
            let dir = s.dir.join(FORENSIC_DIR);
            let name = crate::actions::forensic_name(backup, taken_at);
            let kept = dir.join(format!("{name}.dump"));
            keep_copy(&final_path, &kept)?;
            keep_copy(&manifest_path, &dir.join(format!("{name}.manifest.json")))?;
            lines.push(format!(
                "kept as forensic evidence: {} (+ its manifest), outside the series' files: \
                 nothing that prunes {} reaches it",
                kept.display(),
                s.dir.display()
            ));
        }
        Ok(lines)
    }

    /// The newest file of a series that `pg_restore --list` reads, with the files skipped.
    async fn newest_listable(
        &self,
        s: &Series,
        pg_restore: &Path,
        before: Option<std::time::SystemTime>,
    ) -> Result<(BackupFile, Vec<String>), String> {
        let mut files = scan(&s.dir, &s.pattern)?;
        if let Some(b) = before {
            files.retain(|f| f.modified <= b);
        }
        if files.is_empty() {
            return Err(format!(
                "no file matching {:?} in {}",
                s.binding.glob.get_ref(),
                s.dir.display()
            ));
        }
        let mut skipped = Vec::new();
        for f in files.into_iter().take(5) {
            match list_archive(pg_restore, &f.path).await {
                Ok(_) => return Ok((f, skipped)),
                Err(e) => skipped.push(e),
            }
        }
        Err(format!(
            "none of the 5 newest files is a readable archive: {}",
            skipped.join("; ")
        ))
    }

    async fn verify(
        &self,
        backup: &str,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let s = self.series(backup)?;
        let db = self.series_db(s)?;
        let pg_restore = self.tool("pg_restore", db)?;
        let files = scan(&s.dir, &s.pattern)?;
        let Some(newest) = files.first() else {
            return Err(format!(
                "no file matching {:?} in {}: nothing to verify",
                s.binding.glob.get_ref(),
                s.dir.display()
            ));
        };
        let file = newest.path.clone();
        let entries = list_archive(&pg_restore, &file).await.map_err(|e| {
            format!(
                "{e}; the newest backup is not a readable custom-format dump: do not rely on it"
            )
        })?;
        progress(format!(
            "{}: {entries} entries in its table of contents",
            file.display()
        ));
        let manifest = read_manifest(&Manifest::path_for(&file));

        let admin = db.connect().await?;
        let scratch = format!(
            "warroom_verify_{}_{}",
            Utc::now().format("%Y%m%d%H%M%S"),
            std::process::id()
        );
        admin
            .batch_execute(&format!("CREATE DATABASE {} TEMPLATE template0", quote_ident(&scratch)))
            .await
            .map_err(|e| {
                format!(
                    "cannot create the scratch database {scratch} on {} ({}): {}; backup.verify needs a writable server and CREATEDB",
                    db.name,
                    db.shown(),
                    pg_error(&e)
                )
            })?;
        let result = self
            .restore_and_compare(db, &scratch, &file, &pg_restore, manifest, progress)
            .await;
        let dropped = admin
            .batch_execute(&format!(
                "DROP DATABASE IF EXISTS {} WITH (FORCE)",
                quote_ident(&scratch)
            ))
            .await;
        let mut lines = result?;
        match dropped {
            Ok(()) => lines.push(format!("scratch database {scratch} dropped")),
            Err(e) => lines.push(format!(
                "warning: could not drop the scratch database {scratch}: {}; drop it by hand",
                pg_error(&e)
            )),
        }
        Ok(lines)
    }

    async fn restore_and_compare(
        &self,
        db: &PgTarget,
        scratch: &str,
        file: &Path,
        pg_restore: &Path,
        manifest: Result<Option<Manifest>, String>,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let target = db.with_dbname(scratch);
        progress(format!(
            "restoring {} into scratch database {scratch}",
            file.display()
        ));
        let started = Instant::now();
        let out = run_tool(
            pg_restore,
            &[
                "--no-owner".to_string(),
                "--no-privileges".to_string(),
                "--exit-on-error".to_string(),
                "--single-transaction".to_string(),
                format!("--dbname={}", target.conninfo()),
                file.display().to_string(),
            ],
            &Self::tool_env(db)?,
            DUMP_TIMEOUT,
        )
        .await?;
        if !out.success {
            return Err(format!(
                "restoring {} failed ({}): {}; the backup is not usable",
                file.display(),
                out.status,
                out.stderr_tail(3)
            ));
        }
        let restored_in = started.elapsed().as_secs_f64();
        let client = target.connect().await?;
        let sums = table_sums(&client).await?;
        drop(client);
        let rows: i64 = sums.iter().map(|t| t.rows).sum();
        let mut lines = vec![format!(
            "restored {} in {restored_in:.1}s: {} tables, {rows} rows",
            file.display(),
            sums.len()
        )];
        match manifest {
            Ok(Some(m)) => {
                let problems = compare_sums(&m.tables, &sums);
                if !problems.is_empty() {
                    return Err(format!(
                        "the restore does not match the manifest taken at {}: {}",
                        m.taken_at.format("%Y-%m-%d %H:%M:%S UTC"),
                        problems.join("; ")
                    ));
                }
                lines.push(format!(
                    "row counts and md5 of all {} tables match the manifest taken at {}",
                    m.tables.len(),
                    m.taken_at.format("%Y-%m-%d %H:%M:%S UTC")
                ));
            }
            Ok(None) => lines.push(
                "no manifest (not taken by backup.snapshot): restore checked, counts not compared"
                    .to_string(),
            ),
            Err(e) => return Err(e),
        }
        for t in sums.iter().take(10) {
            lines.push(format!(
                "  {}.{}: {} rows, md5 {}",
                t.schema,
                t.table,
                t.rows,
                t.md5.as_deref().unwrap_or("-")
            ));
        }
        Ok(lines)
    }

    /// `db.restore` of a base backup series: point-in-time recovery to the point `to` names
    /// (the console resolves a choice to a time when the step is confirmed).
    async fn restore_to_point(
        &self,
        pitr: &PgPitr,
        name: &str,
        to: Option<crate::recovery::RestoreTo>,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        if pitr.db != name {
            return Err(format!(
                "the base backups of {:?} are of {}, not {name}",
                pitr.series, pitr.db
            ));
        }
        let point = match to {
            Some(crate::recovery::RestoreTo::At(t)) => t,
            other => {
                return Err(format!(
                    "db.restore of {name} from base backups needs a point in time: {} was not resolved to one (no corruption onset or backup reading when confirmed); set to = \"2026-11-26T10:20:59Z\" (see warroom restore-points)",
                    other.map_or_else(|| "no `to`".to_string(), |t| format!("to = {t}"))
                ));
            }
        };
        let restored = pitr
            .restore(point, progress)
            .await
            .map_err(|e| e.to_string())?;
        Ok(restored.lines())
    }

    async fn restore(
        &self,
        name: &str,
        backup: &str,
        to: Option<crate::recovery::RestoreTo>,
        progress: &(dyn Fn(String) + Send + Sync),
    ) -> Result<Vec<String>, String> {
        let db = self.db(name)?;
        let s = self.series(backup)?;
        let pg_restore = self.tool("pg_restore", db)?;
        let before = match to {
            Some(crate::recovery::RestoreTo::At(t)) => Some(std::time::SystemTime::from(t)),
            _ => None,
        };
        let (file, skipped) = self.newest_listable(s, &pg_restore, before).await?;
        for e in &skipped {
            progress(format!("skipped: {e}"));
        }
        progress(format!(
            "restoring {} into {name} ({})",
            file.path.display(),
            db.shown()
        ));
        let started = Instant::now();
        let out = run_tool(
            &pg_restore,
            &[
                "--clean".to_string(),
                "--if-exists".to_string(),
                "--no-owner".to_string(),
                "--exit-on-error".to_string(),
                "--single-transaction".to_string(),
                format!("--dbname={}", db.conninfo()),
                file.path.display().to_string(),
            ],
            &Self::tool_env(db)?,
            DUMP_TIMEOUT,
        )
        .await?;
        if !out.success {
            return Err(format!(
                "pg_restore into {name} failed ({}), nothing changed (single transaction): {}",
                out.status,
                out.stderr_tail(3)
            ));
        }
        Ok(vec![format!(
            "{name} restored from {} (taken {}) in {:.1}s",
            file.path.display(),
            DateTime::<Utc>::from(file.modified).format("%Y-%m-%d %H:%M:%S UTC"),
            started.elapsed().as_secs_f64()
        )])
    }

    async fn http_check(&self, region: &str) -> Result<Vec<String>, String> {
        let urls = self.regions.get(region).ok_or_else(|| {
            format!(
                "unknown region {region:?}; known: {}",
                self.regions.keys().cloned().collect::<Vec<_>>().join(", ")
            )
        })?;
        if urls.is_empty() {
            return Err(format!(
                "region {region:?} has no health endpoints; add health = [\"https://.../health\"] to it"
            ));
        }
        let mut lines = Vec::new();
        let mut failed = 0;
        for url in urls {
            let c = http::check(&self.http, url).await;
            if !c.ok {
                failed += 1;
            }
            lines.push(format!(
                "GET {url}: {} in {} ms",
                c.error
                    .clone()
                    .unwrap_or_else(|| format!("HTTP {}", c.status.unwrap_or_default())),
                c.latency_ms
            ));
        }
        if failed > 0 {
            Err(format!(
                "{failed} of {} health checks of {region} failed: {}",
                urls.len(),
                lines.join("; ")
            ))
        } else {
            Ok(lines)
        }
    }
}

/// The promotion's data loss in one line: the window's true ends, its size in time and WAL, and
/// where that was read.
pub fn describe_loss(name: &str, w: &wal::LossWindow) -> String {
    let t = |at: Option<DateTime<Utc>>| {
        at.map_or_else(
            || "an unknown time (no transaction replayed yet)".to_string(),
            |a| a.format("%Y-%m-%d %H:%M:%S%.3f UTC").to_string(),
        )
    };
    let span = w
        .secs()
        .map_or_else(|| "unknown span".to_string(), |s| format!("{s:.3} s"));
    if w.lost_commits == 0 {
        return format!(
            "no write committed on the old primary is lost: {name} has every commit up to its last at {} ({} bytes of WAL from {} to {} not replayed, holding no commit; evidence: {})",
            t(w.last_replayed_at),
            crate::text::thousands(w.bytes()),
            w.replica_lsn,
            w.source_end_lsn,
            w.evidence
        );
    }
    format!(
        "writes committed on the old primary between {} and {} ({span}, {} transactions, {} bytes of WAL from {} to {}) were not replayed and are lost (evidence: {})",
        t(w.last_replayed_at),
        t(w.source_lost_at),
        w.lost_commits,
        crate::text::thousands(w.bytes()),
        w.replica_lsn,
        w.source_end_lsn,
        w.evidence
    )
}

/// `1.2 MB`, `840 kB`, `12 B` (decimal units, like the Backups pane).
pub fn human_bytes(n: u64) -> String {
    let units = ["B", "kB", "MB", "GB", "TB"];
    let mut v = n as f64;
    let mut i = 0;
    while v >= 1000.0 && i + 1 < units.len() {
        v /= 1000.0;
        i += 1;
    }
    if i == 0 {
        format!("{n} B")
    } else {
        format!("{v:.1} {}", units[i])
    }
}

fn write_manifest(path: &Path, m: &Manifest) -> Result<(), String> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)
            .map_err(|e| format!("cannot create {}: {e}", dir.display()))?;
    }
    let text =
        serde_json::to_string_pretty(m).map_err(|e| format!("cannot encode the manifest: {e}"))?;
    std::fs::write(path, text).map_err(|e| format!("cannot write {}: {e}", path.display()))
}

fn read_manifest(path: &Path) -> Result<Option<Manifest>, String> {
    match std::fs::read_to_string(path) {
        Ok(text) => serde_json::from_str(&text)
            .map(Some)
            .map_err(|e| format!("the manifest {} is unreadable: {e}", path.display())),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(format!("cannot read {}: {e}", path.display())),
    }
}

/// Why a built-in has no meaning on this backend, and what to do instead. Exhaustive: every
/// action is answered here, and `execute` runs exactly the ones answered `None`.
pub fn unsupported_reason(action: BuiltinAction) -> Option<String> {
    match action {
        BuiltinAction::DnsPoint => Some(
            "DNS is not managed by the PostgreSQL backend: repoint the record with your DNS provider's tool in a `run` step, or as a checklist item".to_string(),
        ),
        BuiltinAction::AppScale => Some(
            "application deployments are not managed by the PostgreSQL backend: scale with your orchestrator in a `run` step (e.g. kubectl scale), or as a checklist item".to_string(),
        ),
        BuiltinAction::SecretRotate => Some(
            "secrets are not managed by the PostgreSQL backend: rotate them in your secret store in a `run` step; to cut database sessions use pg_terminate_backend in a `run` step".to_string(),
        ),
        BuiltinAction::NotifyWebhook => Some(
            "no notification webhook in a PostgreSQL environment: post the message with a `run` step (e.g. curl) or by hand".to_string(),
        ),
        BuiltinAction::HaPause | BuiltinAction::HaResume => Some(
            "a plain PostgreSQL pair has no HA manager to pause: bind the database to its Patroni member (`patroni = { url = \"http://host:8008\" }`), or pause yours (repmgr, pg_auto_failover) in a `run` step".to_string(),
        ),
        BuiltinAction::DbFailover => Some(
            "db.failover (Multi-AZ or cluster failover in one region) has no meaning for a plain PostgreSQL pair: promote the standby with db.promote".to_string(),
        ),
        BuiltinAction::DbPromote
        | BuiltinAction::DbReadOnly
        | BuiltinAction::DbRestore
        | BuiltinAction::BackupSnapshot
        | BuiltinAction::BackupVerify
        | BuiltinAction::HttpCheck => None,
    }
}

impl ActionBackend for PostgresBackend {
    fn name(&self) -> &str {
        "postgres"
    }

    fn unsupported(&self, call: &Call) -> Option<String> {
        unsupported_reason(call.action())
    }

    fn describe(&self, call: &Call) -> String {
        let db_shown = |n: &str| {
            self.databases.get(n).map_or_else(
                || format!("{n} (unknown database)"),
                |t| format!("{n} ({})", t.shown()),
            )
        };
        let series_shown = |n: &str| {
            self.series.get(n).map_or_else(
                || format!("{n} (no backup directory)"),
                |s| format!("{}/{}", s.dir.display(), s.binding.glob.get_ref()),
            )
        };
        let series_db = |n: &str| {
            self.series
                .get(n)
                .and_then(|s| s.binding.database.as_ref())
                .map_or_else(
                    || "(no database set)".to_string(),
                    |d| db_shown(d.get_ref()),
                )
        };
        let unsupported = || {
            format!(
                "unsupported on PostgreSQL: {}",
                unsupported_reason(call.action()).unwrap_or_default()
            )
        };
        match call {
            Call::DbPromote(c) => format!(
                "SELECT pg_promote() on {}, then wait until it leaves recovery",
                db_shown(&c.db)
            ),
            Call::DbReadOnly(c) => format!(
                "ALTER SYSTEM SET default_transaction_read_only = {}; SELECT pg_reload_conf() on {}",
                if c.writes_off() { "on" } else { "off" },
                db_shown(&c.db)
            ),
            Call::DbRestore(c) => match self.pitr.get(&c.backup) {
                Some(p) => format!(
                    "point-in-time restore of {} to {}: the newest base backup in {} before it, WAL replayed from {} (recovery_target_time, promote) into a new data directory in {}; the old server on its port stopped, its data directory kept",
                    db_shown(&c.db),
                    c.to.map_or_else(|| "the chosen point".to_string(), |t| t.to_string()),
                    p.dir.display(),
                    p.wal_archive.as_ref().map_or_else(
                        || "(no wal_archive)".to_string(),
                        |a| a.display().to_string()
                    ),
                    p.restore_dir.display()
                ),
                None => format!(
                    "pg_restore --clean --if-exists --single-transaction of the newest readable dump in {}{} into {}",
                    series_shown(&c.backup),
                    match c.to {
                        Some(crate::recovery::RestoreTo::At(t)) => {
                            format!(" taken at or before {}", t.format("%Y-%m-%d %H:%M:%S UTC"))
                        }
                        _ => String::new(),
                    },
                    db_shown(&c.db)
                ),
            },
            Call::BackupSnapshot(c) => {
                let dir = self
                    .series
                    .get(&c.backup)
                    .map_or_else(|| series_shown(&c.backup), |s| s.dir.display().to_string());
                let kept = if c.is_forensic() {
                    format!(
                        ", kept as forensic evidence in {dir}/{FORENSIC_DIR}/forensic-{}-<time>.dump",
                        c.backup
                    )
                } else {
                    String::new()
                };
                format!(
                    "pg_dump --format=custom of {} into {dir} (+ manifest), checked with pg_restore --list{kept}",
                    series_db(&c.backup),
                )
            }
            Call::BackupVerify(c) => format!(
                "restore the newest {} into a scratch database on {}, compare row counts and md5 per table with its manifest, drop the scratch database",
                series_shown(&c.backup),
                series_db(&c.backup)
            ),
            Call::HttpCheck(c) => {
                let urls = self.regions.get(&c.region).cloned().unwrap_or_default();
                format!(
                    "GET {} (2xx within {}s each)",
                    urls.join(", "),
                    http::CHECK_TIMEOUT.as_secs()
                )
            }
            Call::DbFailover(_)
            | Call::DnsPoint(_)
            | Call::AppScale(_)
            | Call::SecretRotate(_)
            | Call::HaPause(_)
            | Call::HaResume(_)
            | Call::NotifyWebhook(_) => unsupported(),
        }
    }

    fn execute<'a>(
        &'a self,
        call: &'a Call,
        progress: &'a (dyn Fn(String) + Send + Sync),
    ) -> BoxFuture<'a, Result<Vec<String>, ActionError>> {
        Box::pin(async move {
            let result = match call {
                Call::DbPromote(c) => self.promote(&c.db, progress).await,
                Call::DbReadOnly(c) => self.read_only(&c.db, c.writes_off()).await,
                Call::DbRestore(c) => match self.pitr.get(&c.backup) {
                    Some(p) => self.restore_to_point(p, &c.db, c.to, progress).await,
                    None => self.restore(&c.db, &c.backup, c.to, progress).await,
                },
                Call::BackupSnapshot(c) => match self.pitr.get(&c.backup) {
                    Some(p) => p
                        .take_base_backup(progress)
                        .await
                        .map(|b| {
                            vec![format!(
                                "base backup {} ({}), WAL {}..{}",
                                b.path.display(),
                                human_bytes(b.bytes),
                                b.start_lsn.map(|l| l.to_string()).unwrap_or_default(),
                                b.end_lsn.map(|l| l.to_string()).unwrap_or_default()
                            )]
                        })
                        .map_err(|e| e.to_string()),
                    None => self.snapshot(&c.backup, c.is_forensic(), progress).await,
                },
                Call::BackupVerify(c) => {
                    let result = self.verify(&c.backup, progress).await;
                    self.record_verification(&c.backup, &result);
                    result
                }
                Call::HttpCheck(c) => self.http_check(&c.region).await,
                Call::DbFailover(_)
                | Call::DnsPoint(_)
                | Call::AppScale(_)
                | Call::SecretRotate(_)
                | Call::HaPause(_)
                | Call::HaResume(_)
                | Call::NotifyWebhook(_) => {
                    return Err(ActionError::unsupported(
                        call,
                        unsupported_reason(call.action()).unwrap_or_default(),
                    ));
                }
            };
            result.map_err(ActionError::Failed)
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sum(t: &str, rows: i64, md5: &str) -> TableSum {
        TableSum {
            schema: "public".into(),
            table: t.into(),
            rows,
            md5: Some(md5.into()),
        }
    }

    #[test]
    fn comparing_sums_names_each_difference() {
        let expected = vec![sum("a", 3, "x"), sum("b", 2, "y"), sum("c", 1, "z")];
        let actual = vec![sum("a", 3, "x"), sum("b", 2, "Y"), sum("d", 1, "w")];
        let p = compare_sums(&expected, &actual);
        assert_eq!(
            p,
            [
                "public.b: checksum Y differs from the recorded y",
                "public.c: missing from the restore",
                "public.d: restored but not recorded"
            ]
        );
        assert!(compare_sums(&expected, &expected).is_empty());
    }

    #[test]
    fn unsupported_actions_say_what_to_do() {
        use BuiltinAction as A;
        for a in [A::DnsPoint, A::AppScale, A::SecretRotate, A::NotifyWebhook] {
            let why = unsupported_reason(a).expect("unsupported");
            assert!(why.contains("`run` step"), "{a}: {why}");
        }
        let why = unsupported_reason(A::DbFailover).expect("unsupported");
        assert!(why.contains("db.promote"), "{why}");
        for a in [
            A::DbPromote,
            A::DbReadOnly,
            A::DbRestore,
            A::BackupSnapshot,
            A::BackupVerify,
            A::HttpCheck,
        ] {
            assert_eq!(unsupported_reason(a), None, "{a}");
        }
    }

    #[test]
    fn manifest_lives_in_a_dot_directory() {
        assert_eq!(
            Manifest::path_for(Path::new("/b/daily-1.dump")),
            Path::new("/b/.warroom/daily-1.dump.json")
        );
    }
}
