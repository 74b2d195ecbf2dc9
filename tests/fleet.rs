//! Fleets (issue 13, item 10): the panes of `benches/fleet.toml` (20 regions, 100 replicas, 100
//! backups, a few broken from the start) list problems first, count them in their titles, and
//! narrow with the `/` filter. Library tests on the simulator at a fixed time, then the real
//! binary in a pseudo-terminal at 80x24 and 140x42.

mod common;

use std::collections::BTreeSet;
use std::time::Duration;

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use common::Tui;
use warroom::env::Environment;
use warroom::sim::Sim;
use warroom::telemetry::sim::sample_into;
use warroom::telemetry::source::Feeds;
use warroom::telemetry::{BackupStatus, Board, Severity, Verdict};
use warroom::ui::panes::{self, RowKey};

const FLEET: &str = "benches/fleet.toml";

/// The replicas the file breaks: milan's five (the region is down), seoul-replica-3 (its zone is
/// down), tokyo-replica-3 and ireland-replica-2 (links broken).
fn broken_replicas() -> BTreeSet<String> {
    let mut set: BTreeSet<String> = (1..=5).map(|i| format!("milan-replica-{i}")).collect();
    for name in ["seoul-replica-3", "tokyo-replica-3", "ireland-replica-2"] {
        set.insert(name.to_string());
    }
    set
}

/// The backup series the file breaks.
const BROKEN_BACKUPS: [&str; 3] = ["frankfurt-snapshots", "mumbai-config", "sydney-wal"];

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid time")
}

fn fleet() -> Environment {
    Environment::load(std::path::Path::new(FLEET)).expect("benches/fleet.toml is valid")
}

/// The fleet a minute after the start, sampled every 5 s like the poller.
fn fleet_board(env: &Environment) -> (Board, DateTime<Utc>) {
    let mut sim = Sim::new(env, 11, t0());
    let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(15));
    let at = |i: i64| t0() + TimeDelta::seconds(5 * i);
    sample_into(&mut board, &mut sim, (0..=12).map(at));
    (board, at(12))
}

fn names(keys: &[RowKey]) -> Vec<String> {
    keys.iter()
        .map(|k| match k {
            RowKey::Name(n) | RowKey::Region(n) => n.clone(),
            RowKey::Detail { region, name, .. } => format!("{region}/{name}"),
        })
        .collect()
}

#[test]
fn the_fleet_file_declares_the_fleet() {
    let env = fleet();
    assert_eq!(env.regions.len(), 20);
    assert_eq!(
        env.databases
            .iter()
            .filter(|d| d.replica_of.is_some())
            .count(),
        100
    );
    assert_eq!(env.backups.len(), 100);
}

#[test]
fn broken_replicas_come_first_and_are_counted() {
    let env = fleet();
    let (board, _) = fleet_board(&env);
    let keys = names(&panes::lag::keys(&board, &env, env.objectives.rpo, ""));
    assert_eq!(keys.len(), 100);
    let broken = broken_replicas();
    // Every broken replica is critical: they come first, by name, then the healthy ones by name.
    let first: Vec<String> = keys.iter().take(broken.len()).cloned().collect();
    assert_eq!(first, broken.iter().cloned().collect::<Vec<_>>());
    let rest = &keys[broken.len()..];
    assert!(rest.windows(2).all(|w| w[0] < w[1]), "{rest:?}");
    assert_eq!(
        panes::lag::tally_text(&board, &env, env.objectives.rpo, "").as_deref(),
        Some("8 of 100 broken")
    );
}

#[test]
fn failed_and_stale_backups_come_first_and_are_counted() {
    let env = fleet();
    let (board, now) = fleet_board(&env);
    let keys = names(&panes::backups::keys(&board, &env, now, ""));
    assert_eq!(keys.len(), 100);
    // What a problem is, judged here from the readings (the simulator fails 2.5 % of attempts on
    // its own, so there may be more than the three the file breaks).
    let problem = |name: &str| {
        let b = board.picture.backup(name).expect("reading");
        b.status(now) != BackupStatus::Ok
            || b.severity(now) != Severity::Ok
            || b.last_good != b.last_success
    };
    let problems = keys.iter().filter(|k| problem(k)).count();
    assert!(problems >= BROKEN_BACKUPS.len());
    // They are exactly the first rows.
    assert!(keys[..problems].iter().all(|k| problem(k)), "{keys:?}");
    assert!(keys[problems..].iter().all(|k| !problem(k)));
    for name in BROKEN_BACKUPS {
        assert!(keys[..problems].contains(&name.to_string()), "{name}");
    }
    let title = panes::backups::tally_text(&board, now, "").expect("problems");
    assert!(
        title.starts_with(&format!("{problems} of 100 ")),
        "{title} ({problems} problems)"
    );
    assert!(
        title.contains("failed") && title.contains("stale"),
        "{title}"
    );
}

#[test]
fn regions_fold_healthy_ones_and_list_the_down_one_first() {
    let env = fleet();
    let (board, now) = fleet_board(&env);
    assert_eq!(board.picture.region_verdict("milan"), Verdict::Down);
    assert_eq!(board.picture.region_verdict("seoul"), Verdict::Degraded);
    let keys = panes::regions::keys(&board, &env, now, "");
    let headings: Vec<&str> = keys
        .iter()
        .filter_map(|k| match k {
            RowKey::Region(n) => Some(n.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(headings.len(), 20);
    assert_eq!(&headings[..2], ["milan", "seoul"]);
    assert!(headings[2..].windows(2).all(|w| w[0] < w[1]));
    // Only milan and seoul have detail rows: every healthy region is one line.
    let detailed: BTreeSet<&str> = keys
        .iter()
        .filter_map(|k| match k {
            RowKey::Detail { region, .. } => Some(region.as_str()),
            _ => None,
        })
        .collect();
    assert_eq!(detailed, BTreeSet::from(["milan", "seoul"]));
    assert_eq!(keys[0], RowKey::Region("milan".into()));
    assert_eq!(
        panes::regions::tally_text(&board, &env, "").as_deref(),
        Some("2 of 20 down or degraded")
    );
}

#[test]
fn the_filter_narrows_by_name_or_region() {
    let env = fleet();
    let (board, now) = fleet_board(&env);
    let tokyo = names(&panes::lag::keys(&board, &env, env.objectives.rpo, "tokyo"));
    assert_eq!(tokyo.len(), 5);
    assert_eq!(tokyo[0], "tokyo-replica-3", "the broken one first");
    // By the region's provider id, in any case.
    assert_eq!(
        names(&panes::lag::keys(
            &board,
            &env,
            env.objectives.rpo,
            "AP-NORTHEAST-1"
        )),
        tokyo
    );
    assert_eq!(
        panes::lag::tally_text(&board, &env, env.objectives.rpo, "tokyo").as_deref(),
        Some("1 of 5 broken")
    );
    // Healthy rows only: nothing to count.
    assert_eq!(
        panes::lag::tally_text(&board, &env, env.objectives.rpo, "oregon"),
        None
    );
    assert!(panes::lag::keys(&board, &env, env.objectives.rpo, "atlantis").is_empty());
    // Backups by name or kind; regions by name or id.
    assert_eq!(
        panes::backups::keys(&board, &env, now, "WAL archive").len(),
        20
    );
    let seoul = panes::regions::keys(&board, &env, now, "ap-northeast-2");
    assert_eq!(seoul.first(), Some(&RowKey::Region("seoul".into())));
    assert_eq!(
        panes::regions::tally_text(&board, &env, "seoul").as_deref(),
        Some("1 of 1 degraded")
    );
}

// ---------------------------------------------------------------------------------------------
// The real console
// ---------------------------------------------------------------------------------------------

const WAIT: Duration = Duration::from_secs(20);

/// Waits for `text`, then for the frame to be drawn whole (two reads 150 ms apart agree below
/// the status bar, whose clock ticks): a frame reaches the terminal in several writes.
fn settled(tui: &Tui, text: &str) -> String {
    tui.wait_text(text, WAIT);
    let below_bar = |s: &str| s.lines().skip(1).collect::<Vec<_>>().join("\n");
    let start = std::time::Instant::now();
    loop {
        let a = tui.screen();
        std::thread::sleep(Duration::from_millis(150));
        let b = tui.screen();
        if below_bar(&a) == below_bar(&b) && b.contains(text) {
            return b;
        }
        assert!(start.elapsed() < WAIT, "the screen never settled:\n{b}");
    }
}

fn console(cols: u16, rows: u16) -> Tui {
    Tui::spawn(&["--env", FLEET, "--seed", "3"], cols, rows)
}

/// The screen's lines, each cut at the pane borders (`│`): one entry per pane column side by
/// side (`│a││b│` -> `[a, b]`); a border line has none.
fn pane_cells(screen: &str) -> Vec<Vec<String>> {
    screen
        .lines()
        .map(|l| {
            l.split('│')
                .skip(1)
                .step_by(2)
                .map(|c| c.trim().to_string())
                .collect()
        })
        .collect()
}

/// The rows of the pane in column `col` whose header row starts with `header`, down to its
/// bottom border.
fn rows_below(screen: &str, header: &str, col: usize) -> Vec<String> {
    let lines = pane_cells(screen);
    let start = lines
        .iter()
        .position(|cells| cells.get(col).is_some_and(|c| c.starts_with(header)))
        .unwrap_or_else(|| panic!("no {header:?} header in:\n{screen}"));
    lines[start + 1..]
        .iter()
        .map_while(|cells| cells.get(col).cloned())
        .filter(|c| !c.is_empty())
        .collect()
}

/// The number at the start of a title's count: `Replica lag · 8 of 100 broken` -> (8, 100).
fn count_in(screen: &str, title: &str) -> (usize, usize) {
    let at = screen
        .find(&format!("{title} · "))
        .unwrap_or_else(|| panic!("no count in {title:?}:\n{screen}"));
    let rest = &screen[at + title.len() + " · ".len()..];
    let mut words = rest.split_whitespace();
    let n = words.next().and_then(|w| w.parse().ok()).expect("count");
    assert_eq!(words.next(), Some("of"), "{rest}");
    let of = words.next().and_then(|w| w.parse().ok()).expect("total");
    (n, of)
}

/// A row of the Backups pane that shows a problem: a status other than OK, TAINTED, an age over
/// a day, or under 95 % of the last day's attempts succeeded.
fn backup_row_is_problem(row: &str) -> bool {
    let words: Vec<&str> = row.split_whitespace().collect();
    let status_bad = words
        .iter()
        .any(|w| matches!(*w, "FAILED" | "OVERDUE" | "DUE" | "TAINTED"));
    let old = words.iter().any(|w| {
        w.contains('d')
            && w.chars().next().is_some_and(|c| c.is_ascii_digit())
            && w.ends_with(['h', 'm', 'd'])
    });
    let low_rate = words
        .iter()
        .filter_map(|w| w.strip_suffix('%'))
        .filter_map(|p| p.parse::<u32>().ok())
        .any(|p| p < 95);
    status_bad || old || low_rate
}

fn first_word(row: &str) -> &str {
    row.split_whitespace().next().unwrap_or("")
}

#[test]
fn console_80x24_shows_the_broken_first_and_filters() {
    let mut tui = console(80, 24);
    let screen = settled(&tui, "Replica lag · 8 of 100 broken");
    // The replica rows shown are broken ones, in name order.
    let lag = rows_below(&screen, "Replica", 0);
    assert!(lag.len() >= 3, "{screen}");
    let shown: Vec<&str> = lag.iter().map(|r| first_word(r)).collect();
    let broken = broken_replicas();
    let expected: Vec<&str> = broken
        .iter()
        .take(shown.len())
        .map(String::as_str)
        .collect();
    assert_eq!(shown, expected, "{screen}");
    assert!(lag.iter().all(|r| r.contains("broken")), "{screen}");
    // Backups: as many problem rows at the top as the title counts (or every row shown).
    let (n, of) = count_in(&screen, "Backups");
    assert_eq!(of, 100);
    let backups = rows_below(&screen, "Backup", 0);
    for (i, row) in backups.iter().enumerate() {
        assert_eq!(
            backup_row_is_problem(row),
            i < n,
            "row {i} of {n}: {row}\n{screen}"
        );
    }
    // Regions: the down region first.
    assert!(
        screen.contains("Regions · 2 of 20 down or degraded"),
        "{screen}"
    );
    let region_line = screen
        .lines()
        .skip_while(|l| !l.contains("┌ Regions"))
        .nth(1)
        .expect("a region line");
    assert!(
        region_line.starts_with("│milan") && region_line.contains("DOWN"),
        "{screen}"
    );

    // `/` narrows the focused pane (Replica lag) as it is typed.
    tui.send("/tokyo");
    let screen = settled(&tui, "Replica lag · 1 of 5 broken · /tokyo");
    let lag = rows_below(&screen, "Replica", 0);
    assert!(lag[0].starts_with("tokyo-replica-3"), "{screen}");
    assert!(lag.iter().all(|r| r.starts_with("tokyo-")), "{screen}");
    // Keys typed into the filter do nothing else (`q` did not quit).
    tui.send("q");
    tui.wait_text("nothing matches /tokyoq", WAIT);
    tui.send("\x7f\r");
    tui.wait_text("Replica lag · 1 of 5 broken · /tokyo ", WAIT);
    // Esc clears it.
    tui.send("\x1b");
    tui.wait_for("the filter cleared", WAIT, |s| {
        s.contains("Replica lag · 8 of 100 broken") && !s.contains("/tokyo")
    });
    tui.send("q");
    tui.wait_exit(WAIT);
}

#[test]
fn console_140x42_shows_every_broken_replica_region_and_backup_first() {
    let mut tui = console(140, 42);
    let screen = settled(&tui, "Replica lag · 8 of 100 broken");
    let lag = rows_below(&screen, "Replica", 0);
    let broken = broken_replicas();
    assert!(lag.len() > broken.len(), "{screen}");
    let shown: Vec<&str> = lag.iter().map(|r| first_word(r)).collect();
    let expected: Vec<&str> = broken.iter().map(String::as_str).collect();
    assert_eq!(&shown[..broken.len()], expected.as_slice(), "{screen}");
    assert!(
        lag[broken.len()..].iter().all(|r| r.contains("streaming")),
        "{screen}"
    );
    // Backups (left column): the problem rows, as many as counted, then healthy ones.
    let (n, of) = count_in(&screen, "Backups");
    assert_eq!(of, 100);
    let backups = rows_below(&screen, "Backup", 0);
    assert!(
        backups.len() > n,
        "every problem on the first screen: {screen}"
    );
    for (i, row) in backups.iter().enumerate() {
        assert_eq!(
            backup_row_is_problem(row),
            i < n,
            "row {i} of {n}: {row}\n{screen}"
        );
    }
    for name in BROKEN_BACKUPS {
        assert!(
            backups[..n].iter().any(|r| first_word(r) == name),
            "{name}:\n{screen}"
        );
    }
    // Regions (right column): milan, its details, seoul, then healthy regions one line each.
    let lines = pane_cells(&screen);
    let top = lines
        .iter()
        .position(|cells| cells.get(1).is_some_and(|c| c.starts_with("milan")))
        .unwrap_or_else(|| panic!("milan first in Regions:\n{screen}"));
    let regions: Vec<String> = lines[top..]
        .iter()
        .map_while(|cells| cells.get(1).cloned())
        .filter(|c| !c.is_empty())
        .collect();
    assert!(
        regions[0].starts_with("milan") && regions[0].contains("DOWN"),
        "{screen}"
    );
    let seoul = regions
        .iter()
        .position(|r| r.starts_with("seoul"))
        .expect("seoul on the first screen");
    assert!(regions[seoul].contains("DEGRADED"));
    assert!(regions[1..seoul].iter().all(|r| !r.contains("HEALTHY")));
    let healthy: Vec<&str> = regions
        .iter()
        .filter(|r| r.contains("HEALTHY"))
        .map(|r| first_word(r))
        .collect();
    assert!(healthy.len() >= 3, "{screen}");
    assert!(healthy.windows(2).all(|w| w[0] < w[1]), "{healthy:?}");
    // Consecutive lines: nothing under a healthy region.
    let first_healthy = regions
        .iter()
        .position(|r| r.contains("HEALTHY"))
        .expect("healthy");
    assert!(
        regions[first_healthy..first_healthy + healthy.len()]
            .iter()
            .all(|r| r.contains("HEALTHY"))
    );
    assert!(
        screen.contains("Regions · 2 of 20 down or degraded"),
        "{screen}"
    );

    // Filter the Regions pane (Tab twice) by a provider id.
    tui.send("\t\t/ap-northeast");
    let screen = settled(&tui, "Regions · 1 of 3 degraded · /ap-northeast");
    let shown: Vec<String> = pane_cells(&screen)
        .iter()
        .filter_map(|cells| cells.get(1).cloned())
        .filter(|c| c.contains("HEALTHY") || c.contains("DEGRADED") || c.contains("DOWN"))
        .collect();
    assert_eq!(shown.len(), 3, "{screen}");
    assert!(shown[0].starts_with("seoul"), "{screen}");
    // The other panes are not filtered.
    assert!(screen.contains("Replica lag · 8 of 100 broken"), "{screen}");
    tui.send("\x1b");
    tui.wait_text("Regions · 2 of 20 down or degraded ", WAIT);
    tui.send("q");
    tui.wait_exit(WAIT);
}
