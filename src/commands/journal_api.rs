//! The console's few calls into the journal that differ between journal v1 and v2 (stamps,
//! identity, the lock, time checks), in one place.

use std::path::Path;

use chrono::{DateTime, TimeDelta, Utc};

use warroom::app::journal_writer::Stamp;
use warroom::app::runtime::Identity;
use warroom::cli::ConsoleArgs;
use warroom::journal::{Journal, JournalError, Replay};

use super::BadInput;

/// Who runs this console: `--operator`, else the account; the host; this process.
pub(crate) fn identity(args: &ConsoleArgs) -> Identity {
    Identity {
        operator: warroom::journal::operator(args.operator.as_deref()),
        host: host(),
        pid: std::process::id(),
    }
}

fn host() -> String {
    std::fs::read_to_string("/proc/sys/kernel/hostname")
        .ok()
        .or_else(|| std::env::var("HOSTNAME").ok())
        .map(|h| h.trim().to_string())
        .filter(|h| !h.is_empty())
        .unwrap_or_else(|| "localhost".into())
}

/// The stamp of a journaled event.
pub(crate) fn stamp_of(at: &DateTime<Utc>) -> Stamp {
    Stamp { at: *at, sim: None }
}

/// The last event's stamp, else the header's start (a journal with no event yet).
pub(crate) fn last_stamp(replay: &Replay) -> Stamp {
    replay
        .events
        .last()
        .map_or(stamp_of(&replay.header.started_at), |(_, at, _)| {
            stamp_of(at)
        })
}

/// The incident was started read-only (its `declared` event says so): it stays read-only.
pub(crate) fn started_read_only(replay: &Replay) -> bool {
    replay.events.iter().any(|(_, _, e)| {
        matches!(
            e,
            warroom::playbook::Event::Declared {
                read_only: true,
                ..
            }
        )
    })
}

/// Opens a journal to continue it, taking its lock (another console holding it refuses).
pub(crate) fn open_append(path: &Path, _who: &Identity) -> Result<(Journal, Replay), JournalError> {
    Journal::open_append(path)
}

/// Who holds the journal's lock (a live console), if anyone.
pub(crate) fn held_by(_path: &Path) -> Option<String> {
    None
}

/// Refuses a journal whose times could not have been recorded: an event later than now on the
/// wall clock, or (simulated drills) later in simulated time than the drill's clock could have
/// reached by then. Such a journal (edited, or from a machine whose clock was wrong) would make
/// the console rebuild a simulated world up to that time, second by second.
pub(crate) fn check_times(
    path: &Path,
    replay: &Replay,
    now: DateTime<Utc>,
) -> Result<(), BadInput> {
    let h = &replay.header;
    for (seq, at, _) in &replay.events {
        let stamp = stamp_of(at);
        let line = seq + 1;
        // v1 drill lines carry only the simulated time: their wall time is at most now, and the
        // header's start is the first event's simulated time (minutes after the drill began),
        // hence the hour of slack; v2 gives both times (one second of slack, for rounding).
        let (wall, slack) = if stamp.sim.is_some() || h.speed.is_none() {
            (stamp.at, TimeDelta::seconds(1))
        } else {
            (now, TimeDelta::hours(1))
        };
        if wall > now + TimeDelta::seconds(1) {
            return Err(BadInput(format!(
                "error: {}:{line}: event {seq} is dated {}, after now ({}); the journal is refused \
                 (edited, or written on a machine whose clock was wrong). Check the line; nothing \
                 was changed",
                path.display(),
                wall.to_rfc3339(),
                now.to_rfc3339()
            )));
        }
        if let Some(speed) = h.speed {
            let reachable = (wall - h.started_at + slack)
                .to_std()
                .map(|d| d.as_secs_f64() * speed)
                .unwrap_or(0.0);
            let reached = (stamp.session() - h.started_at)
                .to_std()
                .map(|d| d.as_secs_f64())
                .unwrap_or(0.0);
            if reached > reachable {
                return Err(BadInput(format!(
                    "error: {}:{line}: event {seq} is dated {} in simulated time, later than the \
                     drill's clock could have reached (started {} at {speed}x); the journal is \
                     refused (edited by hand?). Check the line; nothing was changed",
                    path.display(),
                    stamp.session().to_rfc3339(),
                    h.started_at.to_rfc3339()
                )));
            }
        }
    }
    Ok(())
}
