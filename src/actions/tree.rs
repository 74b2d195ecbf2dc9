//! A step's whole process tree, found in `/proc` and ended with the step.
//!
//! Killing the step's process group (`killpg`) misses what left the group on purpose: a
//! `setsid` or daemonising grandchild. So a step's processes are found by any of:
//!
//! - **a marker in the environment**: every step's program gets `WARROOM_STEP=<console pid>-<n>`
//!   ([`MARKER_ENV`]); children inherit it, through `setsid`, `nohup`, double forks and
//!   daemonising, unless they clear their environment;
//! - **the step's process group or session** (its leader's pid), for processes started after the
//!   leader (a reused pid is never taken for a member);
//! - **ancestry**: the children of any member, and every process recorded as a member while the
//!   step ran (scanned every [`TRACK_INTERVAL`]; a recorded process is recognised by its pid and
//!   start time, so a reused pid is not).
//!
//! The console makes itself a *child subreaper* (`prctl(PR_SET_CHILD_SUBREAPER)`,
//! [`become_subreaper`]): a step's orphaned descendants are re-parented to warroom instead of
//! init, so they stay inside warroom's own tree, and the zombies of those it killed are reaped
//! here ([`reap_orphans`]); warroom never calls `waitpid(-1)`, which would steal the exit status
//! of tokio's own children.
//!
//! [`Tree::end`] sends `SIGKILL` to every member, a few rounds (a member may fork while it is
//! being killed), and returns what is still running after that: a process that changed user
//! (`EPERM`) or is stuck in the kernel. The executor reports those, and the journal names them.

use std::collections::{BTreeMap, BTreeSet};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::time::Duration;

use nix::errno::Errno;
use nix::sys::signal::{Signal, kill};
use nix::sys::wait::{WaitPidFlag, waitpid};
use nix::unistd::Pid;
use serde::{Deserialize, Serialize};

/// The environment variable that marks a step's processes (reserved: a playbook cannot set it).
pub const MARKER_ENV: &str = "WARROOM_STEP";

/// How often a running step's tree is scanned and recorded.
pub const TRACK_INTERVAL: Duration = Duration::from_millis(500);

/// Kill rounds before what still runs is reported as left running.
const ROUNDS: u32 = 6;

/// Longest command line kept for a process left running, in characters.
const COMMAND_MAX_CHARS: usize = 200;

/// A process of a step that could not be ended with it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LeftProcess {
    pub pid: u32,
    /// Its command line, arguments separated by spaces, control characters shown as escapes,
    /// cut at 200 characters (the engine masks secrets in it before it is journaled).
    pub command: String,
}

/// Makes this process a child subreaper, once: orphaned descendants of a step are re-parented
/// to warroom (not init), so they can be found and reaped. Linux only; elsewhere, and if it
/// fails, steps are still tracked by marker and group.
pub fn become_subreaper() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if let Err(e) = nix::sys::prctl::set_child_subreaper(true) {
            tracing::warn!(error = %e, "cannot become a child subreaper");
        }
    });
}

/// A new marker value for one step attempt: `<console pid>-<n>`.
pub fn new_marker() -> String {
    static NEXT: AtomicU64 = AtomicU64::new(1);
    format!(
        "{}-{}",
        std::process::id(),
        NEXT.fetch_add(1, Ordering::Relaxed)
    )
}

/// Pids of step processes (never a step's leader, which is tokio's child): reaped once they are
/// zombies re-parented to warroom.
static ORPHANS: Mutex<BTreeSet<i32>> = Mutex::new(BTreeSet::new());

/// Reaps the zombies of step processes that were re-parented to warroom (killed by
/// [`Tracker::end`] or exited on their own).
pub fn reap_orphans() {
    let Ok(mut orphans) = ORPHANS.lock() else {
        return;
    };
    let me = std::process::id();
    orphans.retain(|&pid| {
        let Some(stat) = Stat::read(pid) else {
            return false; // gone: reaped by someone
        };
        if stat.ppid != i64::from(me) {
            // Still a child of another member that has not died yet, or reaped elsewhere.
            return true;
        }
        match waitpid(Pid::from_raw(pid), Some(WaitPidFlag::WNOHANG)) {
            Ok(nix::sys::wait::WaitStatus::StillAlive) => true,
            Ok(_) | Err(_) => false,
        }
    });
}

/// One step's process tree (shared between its executor and the runtime; see [`Tracker`]).
#[derive(Debug)]
pub struct Tree {
    marker: String,
    leader: Option<(i32, u64)>,
    /// Members seen while the step ran: pid -> start time (clock ticks since boot).
    known: BTreeMap<i32, u64>,
    ended: bool,
}

/// A handle on a step's [`Tree`], for the executor and the runtime alike.
#[derive(Debug, Clone)]
pub struct Tracker(Arc<Mutex<Tree>>);

impl Default for Tracker {
    fn default() -> Self {
        Tracker::new()
    }
}

impl Tracker {
    pub fn new() -> Self {
        Tracker(Arc::new(Mutex::new(Tree {
            marker: new_marker(),
            leader: None,
            known: BTreeMap::new(),
            ended: false,
        })))
    }

    /// The value of [`MARKER_ENV`] for this step's program.
    pub fn marker(&self) -> String {
        self.with(|t| t.marker.clone()).unwrap_or_default()
    }

    /// The step's program started with this pid.
    pub fn started(&self, pid: u32) {
        let Ok(pid) = i32::try_from(pid) else { return };
        self.with(|t| {
            let start = Stat::read(pid).map_or(0, |s| s.start);
            t.leader = Some((pid, start));
            t.known.insert(pid, start);
        });
    }

    /// Records the members alive now (while the step runs).
    pub fn record(&self) {
        self.with(|t| {
            if !t.ended {
                t.members();
            }
        });
    }

    /// Ends every member (`SIGKILL`, a few rounds); returns what could not be ended.
    pub fn end(&self) -> Vec<LeftProcess> {
        self.with(|t| t.end(&mut |pid| kill(Pid::from_raw(pid), Signal::SIGKILL)))
            .unwrap_or_default()
    }

    /// [`Tracker::end`] with another way to signal (tests: a process that refuses to die).
    pub fn end_with(&self, signal: &mut dyn FnMut(i32) -> nix::Result<()>) -> Vec<LeftProcess> {
        self.with(|t| t.end(signal)).unwrap_or_default()
    }

    fn with<T>(&self, f: impl FnOnce(&mut Tree) -> T) -> Option<T> {
        match self.0.lock() {
            Ok(mut tree) => Some(f(&mut tree)),
            Err(poisoned) => Some(f(&mut poisoned.into_inner())),
        }
    }
}

impl Tree {
    /// The live members now (zombies excluded), recorded in `known`.
    fn members(&mut self) -> Vec<(i32, Stat)> {
        let me = i64::from(std::process::id());
        let table = process_table();
        let leader_start = self.leader.map_or(0, |(_, s)| s);
        let mut members: BTreeMap<i32, Stat> = BTreeMap::new();
        for (&pid, stat) in &table {
            if i64::from(pid) == me || stat.state == 'Z' {
                continue;
            }
            let recorded = self.known.get(&pid).is_some_and(|&s| s == stat.start);
            let grouped = self.leader.is_some_and(|(leader, _)| {
                (stat.pgrp == i64::from(leader) || stat.session == i64::from(leader))
                    && stat.start >= leader_start
            });
            let marked = self.leader.is_some()
                && stat.start >= leader_start
                && has_marker(pid, &self.marker);
            if recorded || grouped || marked {
                members.insert(pid, stat.clone());
            }
        }
        // Ancestry: children of members, to a fixed point.
        loop {
            let more: Vec<(i32, Stat)> = table
                .iter()
                .filter(|(pid, s)| {
                    !members.contains_key(pid)
                        && i64::from(**pid) != me
                        && s.state != 'Z'
                        && i32::try_from(s.ppid).is_ok_and(|p| members.contains_key(&p))
                })
                .map(|(p, s)| (*p, s.clone()))
                .collect();
            if more.is_empty() {
                break;
            }
            members.extend(more);
        }
        let leader = self.leader.map(|(pid, _)| pid);
        if let Ok(mut orphans) = ORPHANS.lock() {
            // Every member but the leader (tokio's child) is reaped here once it is a zombie
            // re-parented to warroom, whether warroom killed it or it exited on its own.
            orphans.extend(members.keys().filter(|&&pid| Some(pid) != leader));
        }
        for (pid, stat) in &members {
            self.known.insert(*pid, stat.start);
        }
        members.into_iter().collect()
    }

    fn end(&mut self, signal: &mut dyn FnMut(i32) -> nix::Result<()>) -> Vec<LeftProcess> {
        self.ended = true;
        if self.leader.is_none() {
            return Vec::new();
        }
        let mut refused: BTreeSet<i32> = BTreeSet::new();
        for round in 0..ROUNDS {
            let members = self.members();
            if members.is_empty() {
                break;
            }
            for (pid, _) in &members {
                match signal(*pid) {
                    Ok(()) | Err(Errno::ESRCH) => {}
                    Err(e) => {
                        if refused.insert(*pid) {
                            tracing::warn!(pid, error = %e, "cannot kill a process of a run step");
                        }
                    }
                }
            }
            std::thread::sleep(Duration::from_millis(5 * u64::from(round + 1)));
            reap_orphans();
        }
        reap_orphans();
        self.members()
            .into_iter()
            .map(|(pid, stat)| LeftProcess {
                pid: u32::try_from(pid).unwrap_or(0),
                command: command_line(pid).unwrap_or_else(|| format!("[{}]", stat.comm)),
            })
            .collect()
    }
}

/// The fields of `/proc/PID/stat` used here.
#[derive(Debug, Clone)]
struct Stat {
    comm: String,
    state: char,
    ppid: i64,
    pgrp: i64,
    session: i64,
    /// Start time in clock ticks after boot (with the pid, identifies a process).
    start: u64,
}

impl Stat {
    fn read(pid: i32) -> Option<Stat> {
        let text = std::fs::read_to_string(format!("/proc/{pid}/stat")).ok()?;
        Stat::parse(&text)
    }

    fn parse(text: &str) -> Option<Stat> {
        let open = text.find('(')?;
        let close = text.rfind(')')?;
        let comm = text.get(open + 1..close)?.to_string();
        let rest: Vec<&str> = text.get(close + 1..)?.split_whitespace().collect();
        // Fields from 3 (state) on; the start time is field 22.
        Some(Stat {
            comm,
            state: rest.first()?.chars().next()?,
            ppid: rest.get(1)?.parse().ok()?,
            pgrp: rest.get(2)?.parse().ok()?,
            session: rest.get(3)?.parse().ok()?,
            start: rest.get(19)?.parse().ok()?,
        })
    }
}

/// Every process's stat (those that vanish while reading are skipped).
fn process_table() -> BTreeMap<i32, Stat> {
    let mut table = BTreeMap::new();
    let Ok(dir) = std::fs::read_dir("/proc") else {
        return table;
    };
    for entry in dir.flatten() {
        let Some(pid) = entry
            .file_name()
            .to_str()
            .and_then(|n| n.parse::<i32>().ok())
        else {
            continue;
        };
        if let Some(stat) = Stat::read(pid) {
            table.insert(pid, stat);
        }
    }
    table
}

/// Whether the process's environment holds `WARROOM_STEP=<marker>` (unreadable: no).
fn has_marker(pid: i32, marker: &str) -> bool {
    let Ok(environ) = std::fs::read(format!("/proc/{pid}/environ")) else {
        return false;
    };
    let want = format!("{MARKER_ENV}={marker}");
    environ.split(|&b| b == 0).any(|v| v == want.as_bytes())
}

/// The process's command line, arguments joined by spaces, control characters visible, bounded.
fn command_line(pid: i32) -> Option<String> {
    let raw = std::fs::read(format!("/proc/{pid}/cmdline")).ok()?;
    let words: Vec<String> = raw
        .split(|&b| b == 0)
        .filter(|w| !w.is_empty())
        .map(|w| String::from_utf8_lossy(w).into_owned())
        .collect();
    if words.is_empty() {
        return None;
    }
    let joined = words.join(" ");
    let shown = crate::text::visible(&joined);
    Some(match shown.char_indices().nth(COMMAND_MAX_CHARS) {
        Some((cut, _)) => format!("{}…", &shown[..cut]),
        None => shown.into_owned(),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_stat_with_odd_command_names() {
        let line = "4242 (a (b) c) S 1 4242 4242 0 -1 4194560 100 0 0 0 0 0 0 0 20 0 1 0 987654 \
                    1000 10 18446744073709551615";
        let s = Stat::parse(line).expect("parses");
        assert_eq!(s.comm, "a (b) c");
        assert_eq!((s.state, s.ppid, s.pgrp, s.session), ('S', 1, 4242, 4242));
        assert_eq!(s.start, 987654);
        assert!(Stat::parse("garbage").is_none());
    }

    #[test]
    fn reads_this_process() {
        let me = i32::try_from(std::process::id()).expect("pid");
        let stat = Stat::read(me).expect("own stat");
        assert!(stat.start > 0);
        assert!(command_line(me).is_some());
    }
}
