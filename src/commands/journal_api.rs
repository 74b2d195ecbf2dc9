//! The console's few calls into the journal that differ between journal v1 and v2 (stamps,
//! identity, the lock, time checks), in one place.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};

use warroom::app::journal_writer::Stamp;
use warroom::app::runtime::Identity;
use warroom::cli::ConsoleArgs;
use warroom::journal::{Journal, JournalError, LockHolder, Replay};

use super::BadInput;

/// Who runs this console: `--operator`, else the account (never `unknown`); the host; this
/// process.
pub(crate) fn identity(args: &ConsoleArgs) -> Identity {
    Identity {
        operator: warroom::journal::identity::operator(args.operator.as_deref()),
        host: warroom::journal::identity::host(),
        pid: std::process::id(),
    }
}

/// The last event's stamp, else the header's (a journal with no event yet).
pub(crate) fn last_stamp(replay: &Replay) -> Stamp {
    replay.last_stamp()
}

/// The incident was started read-only (its header or `declared` event says so): it stays
/// read-only.
pub(crate) fn started_read_only(replay: &Replay) -> bool {
    replay.read_only()
}

/// Opens a journal to continue it, taking its lock (another console holding it refuses, named).
pub(crate) fn open_append(path: &Path, who: &Identity) -> Result<(Journal, Replay), JournalError> {
    let holder = LockHolder {
        host: who.host.clone(),
        pid: who.pid,
        operator: who.operator.clone(),
    };
    Journal::open_append(path, &holder)
}

/// Continues a version-1 journal in a version-2 one beside it (see
/// [`Journal::continue_version_1`]), taking the new file's lock.
pub(crate) fn continue_version_1(
    path: &Path,
    who: &Identity,
    now: DateTime<Utc>,
) -> Result<(Journal, Replay), JournalError> {
    let holder = LockHolder {
        host: who.host.clone(),
        pid: who.pid,
        operator: who.operator.clone(),
    };
    Journal::continue_version_1(path, &holder, now)
}

/// Who holds the journal's lock (a live console), if anyone.
pub(crate) fn held_by(path: &Path) -> Option<String> {
    warroom::journal::lock_holder(path).map(|h| h.to_string())
}

/// Refuses a journal whose times could not have been recorded, naming the line: a time later
/// than now on the wall clock ([`Replay::check_times`]), or a simulated time later than the
/// drill's clock could have reached by the event's wall time (started at `sim_started_at`,
/// running at `speed`). Such a journal (edited, or from a machine whose clock was wrong) would
/// make the console rebuild a simulated world up to that time, second by second.
pub(crate) fn check_times(
    path: &Path,
    replay: &Replay,
    now: DateTime<Utc>,
) -> Result<(), BadInput> {
    replay
        .check_times(path, now)
        .map_err(|e| BadInput(format!("error: {e}")))?;
    let h = &replay.header;
    let (Some(speed), Some(sim_start)) = (h.speed, h.sim_started_at) else {
        return Ok(());
    };
    // A fast-forward (`speed_changed`) ran the simulated clock faster for a while: the bound
    // is the fastest speed the journal records (a pause only slows it).
    let speed = replay
        .events
        .iter()
        .filter_map(|(_, _, e)| match e {
            warroom::playbook::Event::SpeedChanged { to, .. } if to.is_finite() => Some(*to),
            _ => None,
        })
        .fold(speed, f64::max);
    // One wall second of slack, for rounding.
    let slack = TimeDelta::seconds(1);
    for (seq, stamp, _) in &replay.events {
        let Some(sim) = stamp.sim else { continue };
        let line = seq + 1;
        let reachable = (stamp.at - h.started_at + slack)
            .to_std()
            .map_or(0.0, |d| d.as_secs_f64() * speed);
        let reached = (sim - sim_start).to_std().map_or(0.0, |d| d.as_secs_f64());
        if reached > reachable {
            return Err(BadInput(format!(
                "error: {}:{line}: event {seq} is dated {} in simulated time, later than the \
                 drill's clock could have reached by {} (started {} at {speed}x); the journal \
                 is refused\nhelp: was it edited by hand? Check that line; nothing was changed",
                path.display(),
                sim.to_rfc3339(),
                stamp.at.to_rfc3339(),
                sim_start.to_rfc3339()
            )));
        }
    }
    Ok(())
}
