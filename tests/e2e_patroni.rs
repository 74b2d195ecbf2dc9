//! The console against a real Patroni cluster (two PostgreSQL 15 members on loopback, Patroni's
//! raft store, started by the test), in a pseudo-terminal:
//!
//! 1. At 200x60: the panes show each member's role, lag and timeline from the REST API. A
//!    failover playbook is declared: warroom's first step pauses automatic failover (confirmed;
//!    Patroni then reports paused, the red `AUTO-FAILOVER PAUSED <time>` badge is on the screen),
//!    the replica is verified caught up (`lag_under`, Patroni's lag in time), promoted through
//!    Patroni (`POST /failover`) and verified the leader by the wait; the last step resumes
//!    automatic failover: off after resolve, the badge gone.
//! 2. At 80x24: declared again, paused (the badge fits the bar), then aborted: the abort waits for
//!    the decision, the resume step is offered and confirmed: off after abort.
//!
//! Needs `patroni` (`WARROOM_PATRONI`, else `PATH`) and PostgreSQL: else `skipped: ...`, under
//! `CI` a failure.

mod common;
mod common_patroni;

use std::time::{Duration, Instant};

use common::{Scratch, Tui};
use common_patroni::{patroni_program, skip, start_cluster};

const T: Duration = Duration::from_secs(60);

const PLAYBOOK: &str = r#"
id = "patroni-failover"
title = "Fail the Patroni cluster over to DR"
scenario = "region-loss"
summary = "Promote the DR member through Patroni."
rto = "30m"
rpo = "5m"

[[steps]]
id = "caught-up"
title = "The DR member is caught up"
target = "2m"
wait = { db = "dr-replica", lag_under = "5s", timeout = "2m" }

[[steps]]
id = "promote"
title = "Promote the DR member"
target = "5m"
action = "db.promote"
with = { db = "dr-replica" }
destructive = true
wait = { db = "dr-replica", role = "primary", timeout = "3m" }
restores_service = true
"#;

/// What the destructive confirmation asks to type, if that dialog is open.
fn type_to_confirm(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("DESTRUCTIVE. Type "))?;
    let rest = line.split("DESTRUCTIVE. Type ").nth(1)?;
    Some(rest.split(" and press Enter").next()?.trim().to_string())
}

/// The status word at the end of the current step's heading (`Step 3/7 · … · active`).
fn step_status(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.contains("Step ") && l.contains('/'))?;
    let inner = line.split('│').nth(1).unwrap_or(line);
    inner.split('·').next_back().map(|s| s.trim().to_string())
}

/// The badge on the top line with its time (`AUTO-FAILOVER PAUSED 12s`), if shown.
fn badge(screen: &str) -> Option<String> {
    let top = screen.lines().next()?;
    let at = top.find("AUTO-FAILOVER PAUSED")?;
    Some(
        top[at..]
            .split("  ")
            .next()
            .unwrap_or_default()
            .trim()
            .to_string(),
    )
}

/// Patroni's pause flag, as `api`'s member reports it.
fn paused(rt: &tokio::runtime::Runtime, api: &str) -> bool {
    let client = warroom::telemetry::http::client().expect("client");
    let me: warroom::telemetry::patroni::MemberStatus = rt
        .block_on(warroom::telemetry::patroni::get_json(
            &client,
            &format!("{api}/patroni"),
        ))
        .expect("GET /patroni");
    me.pause
}

/// Walks the current incident: Enter on active steps, `y` in a confirmation, the name in a
/// destructive one; until `done(screen)`. Panics on a failed step.
fn walk(tui: &mut Tui, limit: Duration, done: impl Fn(&str) -> bool) -> String {
    let start = Instant::now();
    loop {
        let screen = tui.screen();
        if done(&screen) {
            return screen;
        }
        assert!(start.elapsed() < limit, "not done in {limit:?}:\n{screen}");
        if let Some(name) = type_to_confirm(&screen) {
            tui.send(&name);
            tui.send("\r");
        } else if screen.contains("/ Enter run it") {
            tui.send("y");
        } else {
            match step_status(&screen).as_deref() {
                Some("active") => tui.send("\r"),
                Some("failed") => panic!("a step failed:\n{screen}"),
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(250));
    }
}

#[test]
fn a_failover_through_patroni_pauses_automatic_failover_and_resumes_it_after_resolve_and_abort() {
    let Some(program) = patroni_program() else {
        skip("patroni not installed (pip install 'patroni[raft,psycopg2-binary]')");
        return;
    };
    let Ok(bin_dir) = warroom::lab::server_bin_dir() else {
        skip("PostgreSQL not installed");
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let cluster = start_cluster(&program, &bin_dir, "e2e");
    let client = warroom::telemetry::http::client().expect("client");
    let (leader, replica) = rt.block_on(cluster.bootstrapped(&client));
    let (leader_api, replica_api) = (
        cluster.member(&leader).api.clone(),
        cluster.member(&replica).api.clone(),
    );
    // The replica has replayed a transaction (its lag in time is known, and 0 once caught up).
    cluster.sql(
        &leader,
        "CREATE TABLE walk (x int); INSERT INTO walk VALUES (1)",
    );

    let files = Scratch::new("patroni-files");
    let env_file = files.path().join("patroni.toml");
    std::fs::write(
        &env_file,
        common_patroni::env_toml(&leader_api, &replica_api),
    )
    .expect("env");
    let playbooks = files.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).expect("dir");
    std::fs::write(playbooks.join("patroni-failover.toml"), PLAYBOOK).expect("playbook");
    // `check` shows the interlock's calls are Patroni's: nothing unsupported.
    let check = std::process::Command::new(common::BIN)
        .arg("--env")
        .arg(&env_file)
        .arg("check")
        .arg(&playbooks)
        .output()
        .expect("check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success() && !stderr.contains("warning"),
        "{stderr}"
    );
    let stdout = String::from_utf8_lossy(&check.stdout);
    for step in [
        format!("    ha-pause: PATCH {replica_api}/config {{\"pause\": true}}"),
        format!("    promote: POST {replica_api}/failover"),
        format!("    ha-resume: PATCH {replica_api}/config {{\"pause\": false}}"),
    ] {
        assert!(stdout.contains(&step), "{step}:\n{stdout}");
    }
    let env_arg = env_file.display().to_string();
    let pb_arg = playbooks.display().to_string();
    let args = ["--env", env_arg.as_str(), "--playbooks", pb_arg.as_str()];

    // ----- 1. 200x60: resolve ------------------------------------------------------------------
    let state = Scratch::new("patroni-state");
    let mut tui = Tui::spawn_in(&args, 200, 60, state.path(), &[]);
    tui.wait_text("LIVE", T);
    // Role, lag and timeline from the REST API: the replica's row in the lag pane (member,
    // timeline, lag in time, streaming, bytes behind), the leader counted in its region.
    let screen = tui.wait_for("the panes read Patroni", T, |s| {
        s.lines().any(|l| {
            l.contains("dr-replica")
                && l.contains(&format!("{replica} · timeline 1"))
                && l.contains("0.0s")
                && l.contains("streaming")
                && l.contains("0 B")
        })
    });
    assert!(
        screen.lines().any(|l| l.contains("primary")
            && l.contains("HEALTHY")
            && l.contains("1 db available")),
        "{screen}"
    );
    assert!(badge(&screen).is_none(), "not paused yet:\n{screen}");
    tui.send("p");
    tui.wait_text("Fail the Patroni cluster over to DR", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    // warroom's first step: pause automatic failover, confirmed like any step.
    tui.wait_text("Step 1/4", T);
    tui.wait_text("Pause automatic failover", T);
    assert!(!paused(&rt, &leader_api));
    tui.send("\r");
    let dialog = tui.wait_text("/ Enter run it", T);
    assert!(dialog.contains("ha.pause db=dr-replica"), "{dialog}");
    assert!(
        dialog.contains(&format!("PATCH {replica_api}/config")),
        "the backend's own description:\n{dialog}"
    );
    assert!(!paused(&rt, &leader_api), "nothing before the confirmation");
    tui.send("y");
    let journal = common::the_journal_in(state.path());
    common::wait_journal_kind(&tui, &journal, "failover_paused", T);
    assert!(paused(&rt, &leader_api), "Patroni reports paused");
    let screen = tui.wait_for("the badge", T, |s| badge(s).is_some());
    let shown = badge(&screen).expect("badge");
    assert!(
        shown.starts_with("AUTO-FAILOVER PAUSED ") && shown.ends_with('s'),
        "{shown}"
    );
    // Paused while the incident runs: checked again at every step until the resume step.
    let screen = walk(&mut tui, Duration::from_secs(240), |s| {
        s.contains("Step 4/4") && step_status(s).as_deref() == Some("active")
    });
    assert!(paused(&rt, &leader_api), "still paused before the resume");
    assert!(badge(&screen).is_some(), "{screen}");
    // The promotion made the replica the leader (the wait held on the REST API's reading).
    let lines = common::journal_lines(&journal);
    assert!(
        lines.iter().any(|l| l["kind"] == "step_finished"
            && l["step"] == "promote"
            && l["outcome"] == "done"
            && l["verified"] == true),
        "promote done and verified"
    );
    assert!(
        lines.iter().any(|l| l["kind"] == "step_finished"
            && l["step"] == "caught-up"
            && l["verified"] == true),
        "lag_under held on Patroni's lag in time"
    );
    // The lag pane reads it promoted; the step's output names the new timeline.
    tui.wait_for("the promoted member on timeline 2", T, |s| {
        s.lines()
            .any(|l| l.contains("dr-replica") && l.contains("promoted"))
            && s.contains(&format!(
                "{replica} (dr-replica) is the leader on timeline 2"
            ))
    });
    let screen = walk(&mut tui, T, |s| s.contains("╭ Scorecard"));
    assert!(screen.contains("RTO achieved"), "{screen}");
    assert!(!paused(&rt, &leader_api), "off after resolve");
    assert!(!paused(&rt, &replica_api));
    tui.send("\x1b");
    tui.wait_for("the badge goes with the pause", T, |s| badge(s).is_none());
    tui.send("q");
    tui.send("q");
    let _ = tui.wait_exit(T);
    let lines = common::journal_lines(&journal);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    let at = |k: &str| kinds.iter().position(|x| *x == k);
    let promote_confirmed = lines
        .iter()
        .position(|l| l["kind"] == "confirmed" && l["step"] == "promote");
    assert!(
        at("failover_paused").is_some()
            && at("failover_paused") < promote_confirmed
            && promote_confirmed < at("failover_resumed")
            && at("failover_resumed") < at("resolved"),
        "paused before the promotion, resumed before the end: {kinds:?}"
    );
    let resumed = lines
        .iter()
        .find(|l| l["kind"] == "failover_resumed")
        .expect("resumed");
    assert_eq!(resumed["db"], "dr-replica");
    assert!(
        resumed["by"].as_str().is_some_and(|b| !b.is_empty()),
        "{resumed}"
    );

    // ----- 2. 80x24: abort -----------------------------------------------------------------------
    let state = Scratch::new("patroni-state-abort");
    let mut tui = Tui::spawn_in(&args, 80, 24, state.path(), &[]);
    tui.wait_text("LIVE", T);
    tui.send("p");
    tui.wait_text("Fail the Patroni", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Pause automatic failover", T);
    tui.send("\r");
    tui.wait_text("/ Enter run it", T);
    tui.send("y");
    let journal = common::the_journal_in(state.path());
    common::wait_journal_kind(&tui, &journal, "failover_paused", T);
    let screen = tui.wait_for("the badge at 80x24", T, |s| badge(s).is_some());
    assert!(
        badge(&screen).is_some_and(|b| b.starts_with("AUTO-FAILOVER PAUSED ") && b.ends_with('s')),
        "{screen}"
    );
    assert!(paused(&rt, &leader_api), "paused while the incident runs");
    // Killed while paused: the resumed console says so, offers the resume, keeps the badge.
    common::kill9(&mut tui);
    let journal_arg = journal.display().to_string();
    let mut tui = Tui::spawn_in(
        &[
            "--env",
            &env_arg,
            "--resume",
            &journal_arg,
            "--playbooks",
            &pb_arg,
        ],
        80,
        24,
        state.path(),
        &[],
    );
    // The notice wraps at 80 columns: read the screen's words.
    let screen = tui.wait_for("the resumed console's notice", T, |s| {
        s.split_whitespace()
            .collect::<Vec<_>>()
            .join(" ")
            .contains("cluster PAUSED since")
    });
    assert!(
        screen.contains("Resume automatic failover"),
        "the resume is offered:\n{screen}"
    );
    let screen = tui.wait_for("the badge after the resume", T, |s| badge(s).is_some());
    assert!(paused(&rt, &leader_api), "{screen}");
    // The badge stays on the panes' screen too.
    tui.send("v");
    std::thread::sleep(Duration::from_millis(500));
    assert!(badge(&tui.screen()).is_some(), "{}", tui.screen());
    tui.send("v");
    tui.send("a");
    tui.wait_text("Abort the incident", T);
    tui.send("wrong runbook\r");
    common::wait_journal_kind(&tui, &journal, "abort_held", T);
    let screen = tui.wait_text("the abort waits", T);
    assert!(paused(&rt, &leader_api), "not resumed by itself");
    assert!(
        !screen.contains("╭ Scorecard"),
        "not aborted yet:\n{screen}"
    );
    // The resume step is offered: Enter, confirm.
    let screen = walk(&mut tui, T, |s| s.contains("╭ Scorecard"));
    assert!(!paused(&rt, &leader_api), "off after abort");
    let lines = common::journal_lines(&journal);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    let at = |k: &str| kinds.iter().position(|x| *x == k);
    assert!(
        at("abort_held") < at("failover_resumed") && at("failover_resumed") < at("aborted"),
        "{kinds:?}"
    );
    assert!(at("resolved").is_none(), "{kinds:?}");
    assert!(
        lines
            .iter()
            .any(|l| l["kind"] == "aborted" && l["reason"] == "wrong runbook"),
        "{screen}"
    );
    tui.send("\x1b");
    tui.wait_for("no badge once resumed", T, |s| badge(s).is_none());
    tui.send("q");
    tui.send("q");
    let _ = tui.wait_exit(T);
}
