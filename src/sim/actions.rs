//! The built-in actions on the simulated deployment. Each one first advances to `now`, then
//! either changes the state (returning outcome lines for the step's output) or changes nothing
//! and says why.

use chrono::{DateTime, Utc};

use crate::actions::{BuiltinAction, Call};
use crate::duration::compact;
use crate::recovery::{Basis, Known, RestoreTo, resolve};
use crate::telemetry::DbRole;

use super::backup::human_bytes;
use super::rng::mix;
use super::{
    Deployment, Fault, MAX_REPLICAS, POD_START_SECS, PROMOTE_SECS, Phase, Pod, RESTORE_SECS, Sim,
    SimError, fmt_time, fmt_time_before, to_utc,
};

/// Sessions a rotation revokes (cosmetic).
const REVOKED_SESSIONS: (i64, i64) = (800, 5000);

/// Why the simulator cannot run `action`, if it cannot (`warroom check` reports it). Exhaustive:
/// every action is answered here.
pub fn unsupported(action: BuiltinAction) -> Option<String> {
    match action {
        BuiltinAction::DbFailover => Some(
            "the simulator does not model Multi-AZ failover (db.failover); drill with db.promote \
             instead"
                .to_string(),
        ),
        BuiltinAction::HaPause | BuiltinAction::HaResume => Some(
            "the simulator has no HA manager to pause (ha.pause and ha.resume act on a \
             Patroni-bound database)"
                .to_string(),
        ),
        BuiltinAction::DbPromote
        | BuiltinAction::DbReadOnly
        | BuiltinAction::DbRestore
        | BuiltinAction::DnsPoint
        | BuiltinAction::AppScale
        | BuiltinAction::BackupSnapshot
        | BuiltinAction::BackupVerify
        | BuiltinAction::SecretRotate
        | BuiltinAction::HttpCheck
        | BuiltinAction::NotifyWebhook => None,
    }
}

impl Sim {
    /// Runs a built-in action and returns its outcome lines. Like every action method, it first
    /// advances to `now` (a `now` in the past means "at the simulator's current time"); a
    /// refused action changes nothing else. The match is exhaustive: a new action does not
    /// compile until the simulator runs it or says why it cannot ([`unsupported`]).
    pub fn execute(&mut self, call: &Call, now: DateTime<Utc>) -> Result<Vec<String>, SimError> {
        match call {
            Call::DbPromote(c) => self.promote(&c.db, now),
            Call::DbFailover(_) | Call::HaPause(_) | Call::HaResume(_) => {
                Err(SimError::Unsupported {
                    action: call.name(),
                    why: unsupported(call.action()).unwrap_or_default(),
                })
            }
            Call::DbReadOnly(c) => self.set_read_only(&c.db, c.writes_off(), now),
            Call::DbRestore(c) => self.restore(&c.db, &c.backup, c.to, now),
            Call::DnsPoint(c) => self.point_dns(&c.dns, &c.region, now),
            Call::AppScale(c) => {
                let replicas = u32::try_from(c.replicas).unwrap_or(u32::MAX);
                self.scale_app(&c.app, &c.region, replicas, now)
            }
            Call::BackupSnapshot(c) => self.take_backup(&c.backup, c.is_forensic(), now),
            Call::BackupVerify(c) => self.verify_backup(&c.backup, now),
            Call::SecretRotate(c) => self.rotate_secret(&c.region, now),
            Call::NotifyWebhook(c) => self.notify(&c.message, now),
            Call::HttpCheck(c) => self.check_http(&c.region, now),
        }
    }

    /// `db.promote`: turns a replica into a standalone primary after 10-40 s of `Promoting`.
    /// Works whatever state its source is in (that is the point of a DR replica). The writes it
    /// had not replayed are lost: the outcome lines give that data-loss window.
    pub fn promote(&mut self, db: &str, now: DateTime<Utc>) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let t = self.t;
        let i = self.db_index(db)?;
        let d = &self.dbs[i];
        let (Some(src), Some(repl)) = (d.source, d.repl.as_ref()) else {
            let replicas = self.replica_names();
            return Err(SimError::refused(
                format!("database {db:?} is not a replica (role primary)"),
                if replicas.is_empty() {
                    "the environment has no replica to promote".to_string()
                } else {
                    format!("promote a replica instead: {}", replicas.join(", "))
                },
            ));
        };
        if repl.promoted {
            return Err(SimError::refused(
                format!(
                    "database {db:?} is already promoted (state {})",
                    self.state_word(i)
                ),
                format!("wait for {db} to read role primary, state available"),
            ));
        }
        if d.phase != Phase::Up {
            return Err(SimError::refused(
                format!(
                    "database {db:?} is {} (zone {} is down)",
                    self.state_word(i),
                    self.zones[d.zone].name
                ),
                "it cannot be promoted; promote a replica that answers",
            ));
        }
        let lag = repl.loss_window();
        // Where the lost window ends: when the source was lost, or now if it still streams.
        let lost_at = repl.lost_at.filter(|_| repl.missed.is_some());
        let source_up = self.dbs[src].phase == Phase::Up;
        let source_name = self.dbs[src].name.clone();
        let (resource, region) = (d.resource.clone(), self.region_label(d.region));
        let took = self.rng.range_i64(PROMOTE_SECS.0, PROMOTE_SECS.1);
        let d = &mut self.dbs[i];
        d.phase = Phase::Promoting { until: t + took };
        if let Some(repl) = d.repl.as_mut() {
            repl.promoted = true;
        }
        self.data_loss.push((db.to_string(), t, lag));
        let mut lines = vec![
            format!(
                "promoting {db} ({resource}) in {region}; replication from {source_name} stopped"
            ),
            match lost_at {
                Some(lost) => format!(
                    "data-loss window: {lag:.1}s (writes to {source_name} from {} until it was \
                     lost at {} were never replayed and are lost)",
                    fmt_time_before(lost, lag),
                    fmt_time(lost)
                ),
                None => format!(
                    "data-loss window: {lag:.1}s (writes to {source_name} after {} were not \
                     replayed yet and are lost)",
                    fmt_time_before(t, lag)
                ),
            },
        ];
        if lag > self.rpo.secs() as f64 {
            lines.push(format!(
                "that exceeds the RPO of {} by {}",
                compact(self.rpo.secs()),
                compact(lag as u64 - self.rpo.secs())
            ));
        }
        if source_up {
            lines.push(format!(
                "warning: {source_name} still accepts writes; make it read-only \
                 (db.read_only db={source_name}) to avoid a split brain"
            ));
        }
        lines.push(format!(
            "{db} accepts writes in about {took}s (state promoting until then)"
        ));
        Ok(lines)
    }

    /// `db.read_only`: turns a primary's writes off (`enabled`) or back on. A read-only database
    /// reads `Stopped` ("writers isolated"): the reading has no separate read-only flag.
    pub fn set_read_only(
        &mut self,
        db: &str,
        enabled: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let i = self.db_index(db)?;
        let d = &self.dbs[i];
        if d.role != DbRole::Primary {
            return Err(SimError::refused(
                format!("database {db:?} is a replica, which is read-only already"),
                format!(
                    "set a primary read-only: {}",
                    self.primary_names().join(", ")
                ),
            ));
        }
        if d.phase != Phase::Up {
            return Err(SimError::refused(
                format!("database {db:?} is {}", self.state_word(i)),
                "wait until it is available, or act on another database",
            ));
        }
        let resource = d.resource.clone();
        if d.read_only == enabled {
            return Ok(vec![format!(
                "{db} ({resource}) is already {}; nothing changed",
                if enabled { "read-only" } else { "writable" }
            )]);
        }
        self.dbs[i].read_only = enabled;
        Ok(vec![if enabled {
            format!(
                "{db} ({resource}): writes off (read-only); it reads state stopped until \
                 db.read_only enabled=false"
            )
        } else {
            format!("{db} ({resource}): writes back on; state available")
        }])
    }

    /// `db.restore`: restores a primary to the point `to` chooses (see
    /// [`crate::recovery::RestoreTo`]): from the newest known-good backup of a series, plus the
    /// WAL archive replayed up to the point when the point lies after that backup
    /// (point-in-time recovery). It does not answer for 5-15 simulated minutes; when done its
    /// corruption is gone and its replicas are re-seeded. The good writes between the point and
    /// the corruption onset are lost: the outcome says how many seconds.
    pub fn restore(
        &mut self,
        db: &str,
        backup: &str,
        to: Option<RestoreTo>,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let t = self.t;
        let i = self.db_index(db)?;
        let b = self.backup_index(backup)?;
        let d = &self.dbs[i];
        if d.role != DbRole::Primary {
            let source = d.source.map(|s| self.dbs[s].name.clone());
            return Err(SimError::refused(
                format!("database {db:?} is a replica"),
                match source {
                    Some(s) => format!("restore its source {s}, or promote {db} first"),
                    None => format!("promote {db} first"),
                },
            ));
        }
        if d.phase != Phase::Up {
            return Err(SimError::refused(
                format!("database {db:?} is {}", self.state_word(i)),
                "a restore needs an instance that answers; wait, or restore another database",
            ));
        }
        let series = &self.series[b];
        let Some(good) = series.last_good else {
            let usable: Vec<&str> = self
                .series
                .iter()
                .filter(|s| s.last_good.is_some())
                .map(|s| s.name.as_str())
                .collect();
            return Err(SimError::refused(
                format!("backup series {backup:?} has no known-good backup"),
                if usable.is_empty() {
                    "no series has one: there is nothing to restore from".to_string()
                } else {
                    format!("restore from a series that has one: {}", usable.join(", "))
                },
            ));
        };
        let onset = d.corrupt_since;
        let known = Known {
            onset: onset.map(to_utc),
            newest_good_backup: Some(to_utc(good.at)),
            wal_reach: self.wal_reach(),
            backups: series
                .attempts()
                .filter(|a| a.ok && !a.tainted)
                .map(|a| to_utc(a.at))
                .collect(),
            verified: series
                .verifications
                .iter()
                .filter(|(_, ok)| *ok)
                .map(|(at, _)| to_utc(*at))
                .collect(),
            failed_verification: series
                .verifications
                .iter()
                .filter(|(_, ok)| !*ok)
                .map(|(at, _)| to_utc(*at))
                .collect(),
            ..Known::default()
        };
        let to = to.unwrap_or_else(|| RestoreTo::default_for(&known));
        let chosen = resolve(to, &known, to_utc(t)).map_err(|e| {
            SimError::refused(
                format!("restore point {to}: {e}"),
                "choose another: to = \"before-corruption\", \"latest-verified-backup\", \"newest-good-backup\" or an earlier time",
            )
        })?;
        let point = chosen.point.timestamp();
        // The backup the point starts from: the newest good one, or an older one chosen.
        let good = series
            .attempts()
            .find(|a| a.at == chosen.backup_at.timestamp())
            .copied()
            .unwrap_or(good);
        let skipped = series.tainted_since_good();
        let kind = series.kind.clone();
        let resource = d.resource.clone();
        let took = self.rng.range_i64(RESTORE_SECS.0, RESTORE_SECS.1);
        self.dbs[i].phase = Phase::Restoring { until: t + took };
        // The good writes the restore throws away: from the restore point to the corruption's
        // onset (writes after it are suspect, not lost good data), or to now without one.
        let loss = (onset.unwrap_or(t) - point).max(0);
        self.data_loss.push((db.to_string(), t, loss as f64));
        let mut lines = vec![format!(
            "restoring {db} ({resource}) from {backup} ({kind}) taken {}, {}",
            fmt_time(good.at),
            human_bytes(good.size)
        )];
        if chosen.basis == Basis::PointInTime {
            lines.push(format!(
                "then replaying the WAL archive to {} (point-in-time recovery, {to})",
                fmt_time(point)
            ));
        }
        if skipped > 0 {
            lines.push(format!(
                "skipped {skipped} newer backup(s) of {backup}: taken after the corruption \
                 point, they contain it"
            ));
        }
        lines.push(match onset {
            Some(c) => format!(
                "restore point: {}; corruption onset: {}; data-loss window: {} (the good writes \
                 between them are lost; writes after the onset are suspect)",
                fmt_time(point),
                fmt_time(c),
                compact(loss as u64)
            ),
            None => format!(
                "restore point: {}; data-loss window: {} ({loss}s of writes after the restore \
                 point are lost)",
                fmt_time(point),
                compact(loss as u64)
            ),
        });
        let (rows, checksum) = self.manifest(good.at);
        lines.push(format!(
            "manifest of the {backup} backup taken {}: rows {rows}; checksum {checksum}",
            fmt_time(good.at)
        ));
        lines.push(format!(
            "{db} does not answer until the restore completes, in about {}",
            compact(took as u64)
        ));
        Ok(lines)
    }

    /// How far the simulated WAL archive reaches: its newest successful attempt (a failed
    /// attempt is retried, so it delays the archive but leaves no gap). `None` without one.
    /// The backups of `series` the simulator remembers (the last 24 h), newest first, and the
    /// point-in-time window its WAL archive covers (from the oldest good backup to the archive's
    /// reach): what `restore-points` and the console's picker list.
    pub fn recovery_points(&self, series: &str) -> Result<SimPoints, SimError> {
        let b = self.backup_index(series)?;
        let s = &self.series[b];
        let mut backups: Vec<SimBackup> = s
            .attempts()
            .map(|a| SimBackup {
                at: to_utc(a.at),
                ok: a.ok,
                tainted: a.tainted,
                bytes: a.size,
            })
            .collect();
        backups.reverse();
        let oldest_good = backups
            .iter()
            .filter(|a| a.ok && !a.tainted)
            .map(|a| a.at)
            .min();
        let window = match (oldest_good, self.wal_reach()) {
            (Some(from), Some(to)) if to > from => Some((from, to)),
            _ => None,
        };
        Ok(SimPoints {
            series: s.name.clone(),
            kind: s.kind.clone(),
            backups,
            window,
            now: to_utc(self.t),
        })
    }

    /// The newest `backup.verify` of `series`: the backup verified (its completion time),
    /// when, and whether it passed (`None`: never verified here).
    pub fn last_verification(&self, series: &str) -> Option<(DateTime<Utc>, DateTime<Utc>, bool)> {
        let s = &self.series[self.backup_index(series).ok()?];
        let (at, ok) = s.last_verified?;
        Some((to_utc(s.last_verified_backup?), to_utc(at), ok))
    }

    pub fn wal_reach(&self) -> Option<DateTime<Utc>> {
        self.series
            .iter()
            .filter(|s| crate::recovery::is_wal_archive(&s.kind))
            .filter_map(|s| s.last_success.map(|a| to_utc(a.at)))
            .max()
    }

    /// `dns.point`: points a DNS record at a region (immediately; the simulated TTL is short).
    pub fn point_dns(
        &mut self,
        dns: &str,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let t = self.t;
        let d = self.dns.iter().position(|d| d.name == dns).ok_or_else(|| {
            SimError::unknown("DNS record", dns, self.dns.iter().map(|d| d.name.as_str()))
        })?;
        let r = self.region_index(region)?;
        let record = self.dns[d].record.clone();
        let was = self.dns[d].target;
        if was == r {
            return Ok(vec![format!(
                "{record} ({dns}) already points at {}; nothing changed",
                self.region_label(r)
            )]);
        }
        self.dns[d].target = r;
        let mut lines = vec![format!(
            "{record} ({dns}) now points at {}; it pointed at {}",
            self.region_label(r),
            self.region_label(was)
        )];
        if self.region_down(r) {
            lines.push(format!(
                "warning: every zone of {} is down; clients will fail",
                self.region_label(r)
            ));
        }
        for dep in self.deployments.iter().filter(|x| x.region == r) {
            let ready = dep.ready(t, &self.zones);
            if ready < dep.full {
                lines.push(format!(
                    "warning: {} has {ready} ready pod(s) in {region} for all traffic, which \
                     needs {}; scale it (app.scale)",
                    dep.app, dep.full
                ));
            }
        }
        Ok(lines)
    }

    /// `app.scale`: sets the desired pods of an app in a region. New pods are ready after
    /// 30-60 s; in a region whose zones are all down they never start.
    pub fn scale_app(
        &mut self,
        app: &str,
        region: &str,
        replicas: u32,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let t = self.t;
        if !self.app_names.iter().any(|a| a == app) {
            return Err(SimError::unknown(
                "app",
                app,
                self.app_names.iter().map(String::as_str),
            ));
        }
        let r = self.region_index(region)?;
        if replicas > MAX_REPLICAS {
            return Err(SimError::refused(
                format!("replicas = {replicas} is more than the simulator models"),
                format!("ask for at most {MAX_REPLICAS}"),
            ));
        }
        let di = match self
            .deployments
            .iter()
            .position(|d| d.app == app && d.region == r)
        {
            Some(di) => di,
            None => {
                // Scaling an app into a region it did not run in deploys it there.
                let full = self
                    .deployments
                    .iter()
                    .find(|d| d.app == app)
                    .map_or(1, |d| d.full);
                self.deployments.push(Deployment {
                    app: app.to_string(),
                    region: r,
                    desired: 0,
                    full,
                    pods: Vec::new(),
                });
                self.deployments.len() - 1
            }
        };
        let before = self.deployments[di].desired;
        let label = self.region_label(r);
        let mut lines = vec![format!("{app} in {label}: desired {before} -> {replicas}")];
        if replicas > before {
            for _ in before..replicas {
                let zone = self.least_loaded_zone(di);
                let ready_at = t + self.rng.range_i64(POD_START_SECS.0, POD_START_SECS.1);
                self.deployments[di].pods.push(Pod {
                    zone,
                    ready_at: if zone.is_some() { ready_at } else { i64::MAX },
                });
            }
            if self.region_down(r) {
                lines.push(format!(
                    "every zone of {label} is down: the new pods cannot start (ready stays 0)"
                ));
            } else {
                lines.push(format!(
                    "{} new pod(s) ready in {}-{}s",
                    replicas - before,
                    POD_START_SECS.0,
                    POD_START_SECS.1
                ));
            }
        } else if replicas < before {
            // Stop pods that are not serving first.
            let dep = &mut self.deployments[di];
            dep.pods.sort_by_key(|p| p.ready_at > t);
            dep.pods.truncate(replicas as usize);
            lines.push(format!("{} pod(s) stopped", before - replicas));
        } else {
            lines[0].push_str("; nothing changed");
        }
        self.deployments[di].desired = replicas;
        Ok(lines)
    }

    /// `backup.snapshot`: a backup attempt of the series now, of the writer database. Fails (and
    /// records the failed attempt) when that database does not answer; a backup of a corrupt
    /// database succeeds but is tainted.
    /// With `forensic`, the backup is also kept apart as evidence: under a name of its own
    /// (`forensic-<series>-<time>`), tagged, outside the series' retention ([`Sim::forensic`]).
    pub fn take_backup(
        &mut self,
        backup: &str,
        forensic: bool,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let t = self.t;
        let b = self.backup_index(backup)?;
        let Some(w) = self.writer() else {
            return Err(SimError::refused(
                "the environment has no primary database to back up",
                "add a database without replica_of to the environment",
            ));
        };
        let reachable = self.dbs[w].phase == Phase::Up;
        let corrupt = self.dbs[w].corrupt_since.is_some_and(|c| c <= t);
        let attempt = self.series[b].attempt(t, reachable, corrupt, true, &mut self.rng);
        let (db, resource) = (self.dbs[w].name.clone(), self.dbs[w].resource.clone());
        if !attempt.ok {
            return Err(SimError::failed(
                format!(
                    "backup {backup} failed at {}: database {db} ({resource}) is {}",
                    fmt_time(t),
                    self.state_word(w)
                ),
                "promote a replica or wait for the database to answer, then retry",
            ));
        }
        let mut lines = vec![format!(
            "{backup}: backup of {db} ({resource}) taken at {}, {}",
            fmt_time(t),
            human_bytes(attempt.size)
        )];
        if let Some(c) = self.dbs[w].corrupt_since.filter(|_| corrupt) {
            lines.push(format!(
                "warning: {db} fails its integrity checks since {}; this backup contains the \
                 corruption",
                fmt_time(c)
            ));
        }
        if forensic {
            let name = crate::actions::forensic_name(backup, super::to_utc(t));
            lines.push(format!(
                "kept as forensic evidence: {name} (tag warroom:purpose=forensic), outside \
                 {backup}'s retention: nothing deletes it until someone does so on purpose"
            ));
            self.forensic.push((backup.to_string(), name, t));
        }
        Ok(lines)
    }

    /// `backup.verify`: a restore test of the newest backup of a series. Fails when that backup
    /// is missing, failed or tainted; otherwise reports row counts and a checksum.
    pub fn verify_backup(
        &mut self,
        backup: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let b = self.backup_index(backup)?;
        let s = &self.series[b];
        let Some(newest) = s.last_attempt else {
            return Err(SimError::failed(
                format!("backup series {backup:?} has no backup yet"),
                "take one with backup.snapshot, then verify it",
            ));
        };
        if !newest.ok {
            return Err(SimError::failed(
                format!(
                    "the newest attempt of {backup}, at {}, failed: there is nothing to verify",
                    fmt_time(newest.at)
                ),
                "take a new one with backup.snapshot, then verify again",
            ));
        }
        let h = mix(self.seed ^ mix(newest.at as u64));
        // The verification history: when, which backup, the result.
        let t = self.t;
        self.series[b].last_verified = Some((t, !newest.tainted));
        self.series[b].last_verified_backup = Some(newest.at);
        let tested = &mut self.series[b].verifications;
        tested.retain(|(at, _)| *at != newest.at);
        tested.push((newest.at, !newest.tainted));
        // Bounded: a day of 5-minute backups.
        if tested.len() > 300 {
            tested.remove(0);
        }
        let s = &self.series[b];
        if newest.tainted {
            let fix = match s.last_good {
                Some(g) => format!(
                    "restore from the newest good backup of {backup}, taken {} (db.restore)",
                    fmt_time(g.at)
                ),
                None => format!("{backup} has no good backup; restore from another series"),
            };
            return Err(SimError::failed(
                format!(
                    "verification of {backup} taken {} failed: checksum mismatch in {} pages of \
                     table events (taken after the corruption point)",
                    fmt_time(newest.at),
                    3 + h % 40
                ),
                fix,
            ));
        }
        let (rows, checksum) = self.manifest(newest.at);
        Ok(vec![
            format!(
                "verified {backup} taken {}, {}: restored to a scratch instance",
                fmt_time(newest.at),
                human_bytes(newest.size)
            ),
            format!("rows: {rows} (match the source at that point)"),
            format!("checksum {checksum} ok"),
        ])
    }

    /// The manifest of a backup taken at `at`: row counts of the key tables and their checksum.
    /// They derive from the backup's time (not the PRNG), so a restore and a verification of the
    /// same backup show the same numbers.
    fn manifest(&self, at: i64) -> (String, String) {
        let h = mix(self.seed ^ mix(at as u64));
        let days = at.max(0) as u64 / 86_400;
        let accounts = 1_180_000 + days % 1000 * 37 + h % 997;
        let events = 88_000_000 + days % 1000 * 41_000 + (h >> 16) % 100_000;
        let models = 1_400 + (h >> 40) % 50;
        (
            format!(
                "accounts {}; events {}; models {}",
                crate::text::thousands(accounts),
                crate::text::thousands(events),
                crate::text::thousands(models)
            ),
            format!("sha256:{:016x}{:016x}", h, mix(h)),
        )
    }

    /// `secret.rotate`: rotates the signing secret of a region and revokes its sessions; failed
    /// logins fall back to normal and the unusual access ends (the breach is contained).
    pub fn rotate_secret(
        &mut self,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let r = self.region_index(region)?;
        let label = self.region_label(r);
        if self.region_down(r) {
            return Err(SimError::refused(
                format!("region {label} is down: its secrets service does not answer"),
                "rotate in a region that is up",
            ));
        }
        let revoked = self.rng.range_i64(REVOKED_SESSIONS.0, REVOKED_SESSIONS.1);
        let normal = self
            .rng
            .range_i64(super::FAILED_AUTH_NORMAL.0, super::FAILED_AUTH_NORMAL.1);
        let s = &mut self.regions[r].security;
        let was_breached = s.breached;
        s.breached = false;
        s.unusual_access = false;
        s.failed_auth_per_min = normal as u32;
        if !self.regions.iter().any(|r| r.security.breached) {
            self.faults.retain(|(f, _)| *f != Fault::Breach);
        }
        Ok(vec![
            format!("rotated the signing secret in {label}; revoked {revoked} sessions"),
            if was_breached {
                format!("failed logins back to normal ({normal}/min); no unusual access")
            } else {
                "there was no unusual activity in that region".to_string()
            },
        ])
    }

    /// `notify.webhook`: records the message (the simulator's webhook goes nowhere).
    pub fn notify(&mut self, message: &str, now: DateTime<Utc>) -> Result<Vec<String>, SimError> {
        self.advance(now);
        if message.trim().is_empty() {
            return Err(SimError::refused(
                "notify.webhook: the message is empty",
                "say what happened and what happens next",
            ));
        }
        self.notifications.push((self.t, message.to_string()));
        // Where it went, for the record; the message itself is in the confirmation (and its
        // lines would not fit one output line).
        let lines = message.lines().count();
        let first = message.lines().next().unwrap_or_default();
        Ok(vec![format!(
            "posted to the simulator's webhook (nobody receives it): {lines} line(s), {} \
             characters, starting {first:?}",
            message.chars().count()
        )])
    }

    /// `http.check`: the region's endpoints as the simulated health checks see them now.
    pub fn check_http(
        &mut self,
        region: &str,
        now: DateTime<Utc>,
    ) -> Result<Vec<String>, SimError> {
        self.advance(now);
        let sample = self.sample();
        let checks: Vec<_> = sample
            .endpoints
            .iter()
            .filter(|e| e.region == region)
            .collect();
        if checks.is_empty() {
            return Err(SimError::refused(
                format!("http.check: region {region:?} has no health endpoints"),
                "add health URLs to the region in the environment",
            ));
        }
        let lines: Vec<String> = checks
            .iter()
            .map(|e| match &e.error {
                None => format!("GET {}: HTTP {}", e.url, e.status.unwrap_or(200)),
                Some(err) => format!("GET {}: {err}", e.url),
            })
            .collect();
        if checks.iter().all(|e| e.last_ok) {
            Ok(lines)
        } else {
            Err(SimError::failed(
                format!("http.check: {}", lines.join("; ")),
                "the region is not serving: look at the Regions pane",
            ))
        }
    }

    fn db_index(&self, db: &str) -> Result<usize, SimError> {
        self.dbs.iter().position(|d| d.name == db).ok_or_else(|| {
            SimError::unknown("database", db, self.dbs.iter().map(|d| d.name.as_str()))
        })
    }

    pub(crate) fn backup_index(&self, backup: &str) -> Result<usize, SimError> {
        self.series
            .iter()
            .position(|s| s.name == backup)
            .ok_or_else(|| {
                SimError::unknown(
                    "backup",
                    backup,
                    self.series.iter().map(|s| s.name.as_str()),
                )
            })
    }

    fn region_index(&self, region: &str) -> Result<usize, SimError> {
        self.regions
            .iter()
            .position(|r| r.name == region)
            .ok_or_else(|| {
                SimError::unknown(
                    "region",
                    region,
                    self.regions.iter().map(|r| r.name.as_str()),
                )
            })
    }

    /// `dr (us-east-1)`.
    fn region_label(&self, r: usize) -> String {
        format!("{} ({})", self.regions[r].name, self.regions[r].id)
    }

    fn replica_names(&self) -> Vec<String> {
        self.dbs
            .iter()
            .filter(|d| d.role == DbRole::Replica)
            .map(|d| d.name.clone())
            .collect()
    }

    fn primary_names(&self) -> Vec<String> {
        self.dbs
            .iter()
            .filter(|d| d.role == DbRole::Primary)
            .map(|d| d.name.clone())
            .collect()
    }

    /// The state as an operator reads it in the Lag pane.
    fn state_word(&self, i: usize) -> &'static str {
        let d = &self.dbs[i];
        match d.phase {
            Phase::Up if d.read_only => "read-only",
            Phase::Up => "available",
            Phase::FailingOver { .. } => "failing-over",
            Phase::Promoting { .. } => "promoting",
            Phase::Restoring { .. } => "restoring (unreachable)",
            Phase::Down => "unreachable",
        }
    }
}

/// One simulated backup attempt, as the restore-point list shows it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct SimBackup {
    /// When it completed.
    pub at: DateTime<Utc>,
    pub ok: bool,
    /// Taken while the database was corrupt: it restores the corruption.
    pub tainted: bool,
    pub bytes: u64,
}

/// A simulated series' restore points: its backups (newest first) and the window its WAL
/// archive covers.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SimPoints {
    pub series: String,
    pub kind: String,
    pub backups: Vec<SimBackup>,
    /// From the oldest good backup to how far the WAL archive reaches, if it has one.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// The simulator's time.
    pub now: DateTime<Utc>,
}
