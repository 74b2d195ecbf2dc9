//! How the console starts: a drill, a resumed journal, a followed one; the checks that refuse
//! bad input before the terminal is taken.

use std::path::{Path, PathBuf};
use std::time::Duration;

use warroom::cli::ConsoleArgs;
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::playbook::{self, Playbook};
use warroom::sim::Fault;
use warroom::text::echo;

use super::BadInput;
use super::journal_api::{check_times, continue_version_1, held_by, identity, open_append};

/// How the console starts. Every kind of session is built from one of these by
/// `console::console` (one place): fresh, drill, resume, follow, and join (a follow of the local
/// copy of a shared log, `FollowPlan::joined`).
pub(crate) enum Start {
    /// The panes; a playbook is picked with `p`.
    Fresh,
    Drill(Box<DrillPlan>),
    Resume(Box<ResumePlan>),
    Follow(Box<FollowPlan>),
}

/// `--resume`: the journal reopened for appending and the incident rebuilt from it.
pub(crate) struct ResumePlan {
    pub(crate) journal: warroom::journal::Journal,
    pub(crate) replay: warroom::journal::Replay,
    pub(crate) playbook: Playbook,
    pub(crate) notice: Option<String>,
    /// `--take-command`: the shared log the journal was rebuilt from, and the lease's ETag.
    pub(crate) took_command: Option<(warroom::share::ShareUrl, String)>,
}

/// `follow`: the journal read so far and where to continue tailing it.
pub(crate) struct FollowPlan {
    pub(crate) path: PathBuf,
    pub(crate) replay: warroom::journal::Replay,
    pub(crate) playbook: Playbook,
    /// `warroom join`: the journal is the local copy of a shared log, kept up to date by the
    /// share session.
    pub(crate) joined: Option<super::share::Joined>,
}

/// The playbook a journal was written with, checked against the environment given.
pub(crate) fn journal_playbook(
    args: &ConsoleArgs,
    env: &Environment,
    path: &Path,
    replay: &warroom::journal::Replay,
) -> Result<Playbook, BadInput> {
    let h = &replay.header;
    if h.environment != env.name {
        return Err(BadInput(format!(
            "error: {}:1: the journal was written against environment {}, not {}; pass --env with that environment's file",
            path.display(),
            echo(&h.environment),
            echo(&env.name)
        )));
    }
    let playbook = playbook::find(&h.playbook.id, &args.playbooks, env).map_err(|e| {
        BadInput(format!(
            "error: {}:1: playbook {} of the journal: {e}",
            path.display(),
            echo(&h.playbook.id)
        ))
    })?;
    if playbook.hash != h.playbook.hash {
        return Err(BadInput(format!(
            "error: {}:1: the journal was written with playbook {} version {}, but {} is version {}; \
             resume with the playbook file the incident started with (--playbooks DIR)",
            path.display(),
            echo(&h.playbook.id),
            echo(&h.playbook.hash),
            echo(&playbook.source),
            playbook.hash
        )));
    }
    // The steps the engine would run must be the ones the journal's plan names (the HA
    // interlock's depend on the environment's bindings, and on this warroom).
    if let Some(why) = h.plan_differs(&playbook, env) {
        return Err(BadInput(format!(
            "error: {}:1: {why}; use the environment file the incident started with, and a \
             warroom that adds the same steps (`warroom report {}` reads the record as it is)",
            path.display(),
            path.display()
        )));
    }
    Ok(playbook)
}

pub(crate) fn resume_plan(
    args: &ConsoleArgs,
    env: &Environment,
    path: &Path,
) -> Result<ResumePlan, BadInput> {
    // Validate before anything is written: a broken journal is refused whole, and so is one
    // with times that cannot be true (in the future, beyond the drill's clock).
    let replay = warroom::journal::read(path).map_err(|e| BadInput(format!("error: {e}")))?;
    check_times(path, &replay, chrono::Utc::now())?;
    if replay.is_finished() {
        return Err(BadInput(format!(
            "error: {}:{}: this incident is over (resolved or aborted); nothing to resume. \
             The postmortem: warroom report {}",
            path.display(),
            replay.events.last().map_or(1, |(seq, _, _)| seq + 1),
            path.display()
        )));
    }
    let playbook = journal_playbook(args, env, path, &replay)?;
    // Another console holding the journal refuses here, naming who (one writer per journal).
    // A version-1 journal cannot be hash-chained onto: it is continued in a version-2 file.
    let version_1 = replay.header.version < 2;
    let opened = if version_1 {
        continue_version_1(path, &identity(args), chrono::Utc::now())
    } else {
        open_append(path, &identity(args))
    };
    let (journal, replay) = opened.map_err(|e| BadInput(format!("error: {e}")))?;
    let mut notice = replay.torn_tail_notice(path);
    if version_1 {
        let n = format!(
            "{} is a version-1 journal: the incident continues in {} (its first {} events are \
             that file's, copied; the older file is left as it was)",
            path.display(),
            journal.path().display(),
            replay.header.continues.as_ref().map_or(0, |c| c.events)
        );
        notice = Some(notice.map_or(n.clone(), |t| format!("{t}; {n}")));
    }
    if let Some(n) = &notice {
        warroom::say_err!("warning: {n}");
    }
    Ok(ResumePlan {
        journal,
        replay,
        playbook,
        notice,
        took_command: None,
    })
}

pub(crate) fn follow_plan(
    args: &ConsoleArgs,
    env: &Environment,
    path: &Path,
) -> Result<FollowPlan, BadInput> {
    let replay = warroom::journal::read(path).map_err(|e| BadInput(format!("error: {e}")))?;
    let playbook = journal_playbook(args, env, path, &replay)?;
    Ok(FollowPlan {
        path: path.to_path_buf(),
        replay,
        playbook,
        joined: None,
    })
}

/// An unfinished journal of the same playbook in the incidents directory: ask whether to resume
/// it (when someone is at a terminal to answer; otherwise just say where it is).
pub(crate) fn offer_resume(playbook_id: &str) -> Option<PathBuf> {
    use std::io::{BufRead, IsTerminal, Write};
    let dir = warroom::journal::default_dir().ok()?;
    let mut unfinished: Vec<_> = warroom::journal::list(&dir)
        .ok()?
        .into_iter()
        .filter_map(|p| warroom::journal::read(&p).ok().map(|r| (p, r)))
        .filter(|(_, r)| r.header.playbook.id == playbook_id && !r.is_finished())
        .collect();
    unfinished.sort_by_key(|(_, r)| std::cmp::Reverse(r.header.started_at));
    // One held by a live console is not ours to continue (one writer per journal): say who
    // runs it and offer the newest one nobody holds.
    let mut free = None;
    for (path, replay) in unfinished {
        match held_by(&path) {
            Some(holder) => warroom::say_err!(
                "note: the unfinished {} of {playbook_id} in {} is being run by {holder} \
                 (watch it with: warroom follow {})",
                replay.header.mode,
                path.display(),
                path.display()
            ),
            None => {
                free = Some((path, replay));
                break;
            }
        }
    }
    let (path, replay) = free?;
    let what = format!(
        "an unfinished {} of {playbook_id} started {} by {} ({} events) is in {}",
        replay.header.mode,
        replay.header.started_at.format("%Y-%m-%d %H:%M UTC"),
        replay.header.operator,
        replay.events.len(),
        path.display()
    );
    if !std::io::stdin().is_terminal() {
        warroom::say_err!("note: {what}; continue it with --resume {}", path.display());
        return None;
    }
    {
        // The question through the output gate, without a line break after it.
        let mut err = std::io::stderr().lock();
        let question = format!("{what}.\nResume it instead of starting a new one? [Y/n] ");
        let _ = err
            .write_all(warroom::text::gate(&question).as_bytes())
            .and_then(|()| err.flush());
    }
    let mut answer = String::new();
    std::io::stdin().lock().read_line(&mut answer).ok()?;
    matches!(answer.trim(), "" | "y" | "Y" | "yes").then_some(path)
}

/// What `warroom drill` sets up: the playbook and when its fault arrives.
pub(crate) struct DrillPlan {
    pub(crate) playbook: Playbook,
    pub(crate) fault: Fault,
    pub(crate) delay: Duration,
}

pub(crate) fn drill_plan(
    args: &ConsoleArgs,
    env: &Environment,
    scenario: &str,
    at: Option<&str>,
) -> Result<DrillPlan, BadInput> {
    if !env.is_simulated() && lab_dir(env).is_none() {
        return Err(BadInput(format!(
            "drills inject real faults: they run on the simulator or in a `warroom lab`, and \
             environment {:?} is neither. Rehearse with the built-in demo (no --env), a simulated \
             environment file, or the lab (warroom lab up; warroom drill region-loss --env .lab/lab.toml)",
            env.name
        )));
    }
    let playbook = match playbook::find(scenario, &args.playbooks, env) {
        Ok(p) => p,
        Err(e) => return Err(BadInput(e.to_string())),
    };
    // Per resource: every resource the playbook touches is simulated or in the lab.
    if let Some(why) = warroom::backends::drill_refusal(env, &playbook) {
        return Err(BadInput(format!(
            "{why}. Rehearse with the built-in demo (no --env), a simulated environment file, or \
             the lab (warroom lab up; warroom drill region-loss --env .lab/lab.toml)"
        )));
    }
    let fault: Fault = playbook.scenario.to_string().parse().map_err(|_| {
        BadInput(format!(
            "playbook {:?} has scenario {:?}, which has no simulator fault; drills need az-loss, \
             region-loss, corruption or breach",
            playbook.id,
            playbook.scenario.to_string()
        ))
    })?;
    let delay = match at {
        Some(text) => Dur::parse(text)
            .map_err(|e| BadInput(format!("--at: {e}")))?
            .to_std(),
        // After a healthy baseline: somewhere in 2-10 simulated minutes, decided by the seed
        // so a drill can be replayed.
        None => fault_delay(args.seed),
    };
    Ok(DrillPlan {
        playbook,
        fault,
        delay,
    })
}

/// The shortest healthy baseline a drill shows before its fault (simulated time).
pub(crate) const BASELINE_MIN: Duration = Duration::from_secs(120);
/// The latest a drill's fault arrives without `--at` (simulated time).
pub(crate) const BASELINE_MAX: Duration = Duration::from_secs(600);

/// When the seed's fault arrives: in [`BASELINE_MIN`, `BASELINE_MAX`] of simulated time, so
/// the newcomer has seen a healthy, complete screen for at least two minutes first.
pub(crate) fn fault_delay(seed: u64) -> Duration {
    let span = BASELINE_MAX.as_secs() - BASELINE_MIN.as_secs() + 1;
    BASELINE_MIN + Duration::from_secs(splitmix(seed) % span)
}

/// The lab directory an environment file belongs to, if it was written by `warroom lab up`.
pub(crate) fn lab_dir(env: &Environment) -> Option<PathBuf> {
    warroom::backends::lab_of(env)
}

/// One step of SplitMix64: a seeded choice without a dependency.
pub(crate) fn splitmix(seed: u64) -> u64 {
    let mut z = seed.wrapping_add(0x9E37_79B9_7F4A_7C15);
    z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
    z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
    z ^ (z >> 31)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_fault_arrives_after_a_baseline_of_two_to_ten_minutes() {
        let delays: Vec<Duration> = (0..200).map(fault_delay).collect();
        for (seed, d) in delays.iter().enumerate() {
            assert!(
                (BASELINE_MIN..=BASELINE_MAX).contains(d),
                "seed {seed}: {d:?}"
            );
        }
        // The seed decides: several seeds spread over the range, the same seed repeats.
        assert_eq!(fault_delay(7), fault_delay(7));
        let early = delays.iter().filter(|d| d.as_secs() < 240).count();
        let late = delays.iter().filter(|d| d.as_secs() > 480).count();
        assert!(early > 10 && late > 10, "early {early}, late {late}");
    }
}
