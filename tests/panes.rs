//! Snapshot and style tests of the live panes (`Replica lag`, `Backups`, `Regions`), rendered on
//! ratatui's `TestBackend` from synthetic boards, one per DR scenario.

use chrono::{DateTime, TimeDelta, TimeZone, Utc};
use ratatui::Terminal;
use ratatui::backend::TestBackend;
use ratatui::buffer::Buffer;
use ratatui::style::{Color, Style};
use warroom::duration::Dur;
use warroom::env::Environment;
use warroom::telemetry::source::Feeds;
use warroom::telemetry::{
    AppReading, AttemptOutcome, BackupReading, Board, DatabaseReading, DbRole, DbState, DnsReading,
    EndpointReading, Replication, ReplicationState, Sample, SecurityReading, SourceError, SourceId,
    ZoneReading,
};
use warroom::theme::Theme;
use warroom::ui::panes::{self, PaneCtx, RowKey};

// ---------------------------------------------------------------------------------------------
// Synthetic readings
// ---------------------------------------------------------------------------------------------

/// Session time of every render: 2026-11-22 12:00:00 UTC.
fn now() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, 12, 0, 0)
        .single()
        .expect("valid date")
}

fn at(h: u32, m: u32) -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 22, h, m, 0)
        .single()
        .expect("valid date")
}

fn yesterday(h: u32, m: u32) -> DateTime<Utc> {
    at(h, m) - TimeDelta::days(1)
}

fn db(name: &str, resource: &str, region: &str, role: DbRole, az: &str) -> DatabaseReading {
    DatabaseReading {
        name: name.into(),
        resource: resource.into(),
        region: region.into(),
        role,
        state: DbState::Available,
        az: Some(az.into()),
        multi_az: role == DbRole::Primary,
        replication: None,
        integrity_ok: Some(true),
        corrupt_since: None,
        failure: None,
    }
}

fn backup(name: &str, kind: &str, every: Dur, last: DateTime<Utc>, size: u64) -> BackupReading {
    BackupReading {
        name: name.into(),
        kind: kind.into(),
        every,
        last_success: Some(last),
        last_good: Some(last),
        last_attempt: Some(last),
        last_outcome: Some(AttemptOutcome::Succeeded),
        attempts_24h: 24,
        successes_24h: 24,
        size_bytes: Some(size),
        last_verified: None,
    }
}

fn endpoint(region: &str, host: &str, latency_ms: u64) -> EndpointReading {
    EndpointReading {
        region: region.into(),
        url: format!("https://{host}/health"),
        last_ok: true,
        status: Some(200),
        latency_ms: Some(latency_ms),
        consecutive_failures: 0,
        error: None,
        failure: None,
    }
}

fn zone(region: &str, zone: &str, up: bool) -> ZoneReading {
    ZoneReading {
        region: region.into(),
        zone: zone.into(),
        up,
    }
}

/// The demo deployment with everything healthy and the replica `lag_secs` behind.
fn healthy(lag_secs: f64) -> Sample {
    let mut replica = db(
        "dr-replica",
        "pynomaly-dr-replica",
        "dr",
        DbRole::Replica,
        "us-east-1a",
    );
    replica.replication = Some(Replication {
        source: "primary".into(),
        state: ReplicationState::Streaming,
        lag_secs: Some(lag_secs),
        lag_bytes: Some(2_200_000),
        lag_alarm: Dur::from_secs(300),
        loss_window_secs: None,
        source_lost_at: None,
        last_replayed_at: None,
        loss_window_bytes: None,
        loss_evidence: None,
    });
    Sample {
        at: now(),
        databases: vec![
            db(
                "primary",
                "pynomaly-prod",
                "primary",
                DbRole::Primary,
                "us-west-2a",
            ),
            replica,
        ],
        backups: vec![
            backup(
                "snapshots",
                "RDS snapshot",
                Dur::from_mins(15),
                at(11, 45),
                42 << 30,
            ),
            backup(
                "automated-snapshot",
                "RDS automated",
                Dur::from_hours(24),
                at(3, 0),
                41 << 30,
            ),
            backup(
                "daily-dump",
                "pg_dump",
                Dur::from_hours(24),
                at(2, 0),
                9 << 30,
            ),
            backup(
                "wal-archive",
                "WAL archive",
                Dur::from_mins(5),
                at(11, 58),
                16 << 20,
            ),
            backup(
                "model-registry",
                "model registry",
                Dur::from_hours(24),
                at(0, 30),
                700 << 20,
            ),
            backup("config", "config", Dur::from_hours(24), at(1, 0), 48 << 10),
        ],
        endpoints: vec![
            endpoint("primary", "api.us-west-2.pynomaly.example", 38),
            endpoint("dr", "api.us-east-1.pynomaly.example", 71),
        ],
        zones: vec![
            zone("primary", "us-west-2a", true),
            zone("primary", "us-west-2b", true),
            zone("primary", "us-west-2c", true),
            zone("dr", "us-east-1a", true),
            zone("dr", "us-east-1b", true),
        ],
        dns: vec![DnsReading {
            name: "api".into(),
            record: "api.pynomaly.example".into(),
            target_region: "primary".into(),
        }],
        apps: vec![
            AppReading {
                name: "api".into(),
                region: "primary".into(),
                desired: 3,
                ready: 3,
            },
            AppReading {
                name: "api".into(),
                region: "dr".into(),
                desired: 1,
                ready: 1,
            },
        ],
        security: vec![
            SecurityReading {
                region: "primary".into(),
                failed_auth_per_min: 0,
                unusual_access: false,
                memory: Default::default(),
            },
            SecurityReading {
                region: "dr".into(),
                failed_auth_per_min: 0,
                unusual_access: false,
                memory: Default::default(),
            },
        ],
    }
}

fn database<'s>(s: &'s mut Sample, name: &str) -> &'s mut DatabaseReading {
    s.databases
        .iter_mut()
        .find(|d| d.name == name)
        .expect("database in sample")
}

fn replication(s: &mut Sample) -> &mut Replication {
    database(s, "dr-replica")
        .replication
        .as_mut()
        .expect("replica replicates")
}

fn backup_of<'s>(s: &'s mut Sample, name: &str) -> &'s mut BackupReading {
    s.backups
        .iter_mut()
        .find(|b| b.name == name)
        .expect("backup in sample")
}

fn endpoint_of<'s>(s: &'s mut Sample, region: &str) -> &'s mut EndpointReading {
    s.endpoints
        .iter_mut()
        .find(|e| e.region == region)
        .expect("endpoint in sample")
}

fn zone_of<'s>(s: &'s mut Sample, name: &str) -> &'s mut ZoneReading {
    s.zones
        .iter_mut()
        .find(|z| z.zone == name)
        .expect("zone in sample")
}

fn app_of<'s>(s: &'s mut Sample, region: &str) -> &'s mut AppReading {
    s.apps
        .iter_mut()
        .find(|a| a.region == region)
        .expect("app in sample")
}

/// A board fed one sample a second for `lags.len()` seconds, the last one second before `now()`;
/// each sample is [`healthy`] at that lag, then changed by `scenario`.
fn board(lags: impl IntoIterator<Item = f64>, scenario: impl Fn(&mut Sample)) -> Board {
    let lags: Vec<f64> = lags.into_iter().collect();
    let mut board = Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5));
    let n = i64::try_from(lags.len()).expect("few samples");
    for (i, lag) in lags.into_iter().enumerate() {
        let received = now() - TimeDelta::seconds(n - i64::try_from(i).expect("few"));
        let mut sample = healthy(lag);
        sample.at = received;
        scenario(&mut sample);
        board.apply(SourceId(0), Ok(sample), received);
    }
    board
}

/// Replica lag wobbling between 1 and 4 seconds.
fn noise(points: usize) -> impl Iterator<Item = f64> {
    (0..points).map(|i| 1.0 + f64::from(u32::try_from(i * 7 % 4).expect("small")) * 0.8)
}

fn healthy_board() -> Board {
    board(noise(60), |_| {})
}

/// AZ loss: us-west-2a is down, the primary fails over to us-west-2b; the API fails once and
/// runs short of pods; lag climbs into the warning band; a daily backup is overdue.
fn az_loss_board() -> Board {
    let lags = (0..60).map(|i| 2.0 + f64::from(i) * 1.3);
    board(lags, |s| {
        zone_of(s, "us-west-2a").up = false;
        let primary = database(s, "primary");
        primary.state = DbState::FailingOver;
        primary.az = Some("us-west-2b".into());
        let api = endpoint_of(s, "primary");
        api.consecutive_failures = 1;
        api.last_ok = false;
        api.latency_ms = Some(1840);
        app_of(s, "primary").ready = 2;
        let b = backup_of(s, "config");
        b.last_success = Some(yesterday(10, 0));
        b.last_good = b.last_success;
        let b = backup_of(s, "snapshots");
        b.successes_24h = 22;
    })
}

/// Region loss: every primary zone down, the API down (4 failures), the primary unreachable,
/// the replica's link broken with lag past the alarm (400 s); snapshots failing.
fn region_loss_board() -> Board {
    let lags = (0..60).map(|i| {
        if i < 20 {
            2.0
        } else {
            2.0 + f64::from(i - 20) * 10.2
        }
    });
    board(lags, |s| {
        for z in ["us-west-2a", "us-west-2b", "us-west-2c"] {
            zone_of(s, z).up = false;
        }
        let api = endpoint_of(s, "primary");
        api.consecutive_failures = 4;
        api.last_ok = false;
        api.status = None;
        api.latency_ms = None;
        api.error = Some("connect timeout".into());
        database(s, "primary").state = DbState::Unreachable;
        let r = replication(s);
        r.state = ReplicationState::Broken;
        r.lag_bytes = None;
        app_of(s, "primary").ready = 0;
        let b = backup_of(s, "snapshots");
        b.last_attempt = Some(at(11, 55));
        b.last_outcome = Some(AttemptOutcome::Failed);
        b.successes_24h = 20;
        let b = backup_of(s, "wal-archive");
        b.last_success = Some(at(11, 40));
        b.last_good = b.last_success;
    })
}

/// Corruption: integrity checks fail since 09:30 on both databases; the snapshots and WAL
/// archive taken since are tainted.
fn corruption_board() -> Board {
    board(noise(60), |s| {
        for name in ["primary", "dr-replica"] {
            let d = database(s, name);
            d.integrity_ok = Some(false);
            d.corrupt_since = Some(at(9, 30));
        }
        backup_of(s, "snapshots").last_good = Some(at(9, 15));
        backup_of(s, "wal-archive").last_good = Some(at(9, 28));
    })
}

/// Security breach: a failed-authentication spike and unusual access in the primary region.
fn breach_board() -> Board {
    board(noise(60), |s| {
        s.security[0].failed_auth_per_min = 180;
        s.security[0].unusual_access = true;
        s.security[1].failed_auth_per_min = 12;
    })
}

/// After a region-loss failover: the replica was promoted and DNS points at the DR region.
fn promoted_board() -> Board {
    let lags = (0..60).map(|i| {
        if i < 40 {
            2.0 + f64::from(i) * 9.0
        } else {
            0.0
        }
    });
    board(lags, |s| {
        for z in ["us-west-2a", "us-west-2b", "us-west-2c"] {
            zone_of(s, z).up = false;
        }
        let api = endpoint_of(s, "primary");
        api.consecutive_failures = 9;
        api.last_ok = false;
        api.status = Some(503);
        database(s, "primary").state = DbState::Unreachable;
        let replica = database(s, "dr-replica");
        replica.role = DbRole::Primary;
        let r = replication(s);
        if r.lag_secs == Some(0.0) {
            r.state = ReplicationState::Promoted;
            r.lag_secs = None;
            r.lag_bytes = None;
        } else {
            r.state = ReplicationState::Broken;
        }
        s.dns[0].target_region = "dr".into();
        app_of(s, "primary").ready = 0;
        let dr = app_of(s, "dr");
        dr.desired = 3;
        dr.ready = 3;
    })
}

/// The source answered until 42 s ago, then timed out: every pane is stale.
fn stale_board() -> Board {
    let mut b = board(noise(20), |_| {});
    let mut last = healthy(2.0);
    last.at = now() - TimeDelta::seconds(42);
    b.apply(SourceId(0), Ok(last), now() - TimeDelta::seconds(42));
    b.apply(SourceId(0), Err(SourceError::Timeout { secs: 5 }), now());
    b
}

/// No sample yet.
fn waiting_board() -> Board {
    Board::new([("sim".to_string(), Feeds::ALL)], TimeDelta::seconds(5))
}

// ---------------------------------------------------------------------------------------------
// Rendering
// ---------------------------------------------------------------------------------------------

#[derive(Debug, Clone, Copy)]
enum Pane {
    Lag,
    Backups,
    Regions,
}

const PANES: [Pane; 3] = [Pane::Lag, Pane::Backups, Pane::Regions];

fn draw_with(
    pane: Pane,
    board: &Board,
    theme: &Theme,
    (width, height): (u16, u16),
    focused: bool,
    selected: usize,
) -> Terminal<TestBackend> {
    draw_filtered(pane, board, theme, (width, height), focused, selected, "")
}

/// The rows of a pane in the order shown, as the App sees them.
fn keys(pane: Pane, board: &Board, env: &Environment, filter: &str) -> Vec<RowKey> {
    match pane {
        Pane::Lag => panes::lag::keys(board, env, env.objectives.rpo, filter),
        Pane::Backups => panes::backups::keys(board, env, now(), filter),
        Pane::Regions => panes::regions::keys(board, env, now(), filter),
    }
}

/// [`draw_with`] with a filter; `selected` is the position among the rows shown.
fn draw_filtered(
    pane: Pane,
    board: &Board,
    theme: &Theme,
    (width, height): (u16, u16),
    focused: bool,
    selected: usize,
    filter: &str,
) -> Terminal<TestBackend> {
    let env = Environment::demo();
    let mut terminal = Terminal::new(TestBackend::new(width, height)).expect("test backend");
    let key = keys(pane, board, &env, filter).into_iter().nth(selected);
    let ctx = PaneCtx {
        board,
        env: &env,
        theme,
        now: now(),
        focused,
        selected: key.as_ref(),
        filter,
        editing: false,
        rpo: env.objectives.rpo,
    };
    terminal
        .draw(|frame| {
            let area = frame.area();
            match pane {
                Pane::Lag => panes::lag::render(frame, area, &ctx),
                Pane::Backups => panes::backups::render(frame, area, &ctx),
                Pane::Regions => panes::regions::render(frame, area, &ctx),
            }
        })
        .expect("draw");
    terminal
}

fn draw(pane: Pane, board: &Board, size: (u16, u16)) -> Terminal<TestBackend> {
    draw_with(pane, board, &Theme::fallback(), size, false, 0)
}

/// The text of row `y`, one entry per cell.
fn row_symbols(buf: &Buffer, y: u16) -> Vec<&str> {
    (0..buf.area.width).map(|x| buf[(x, y)].symbol()).collect()
}

/// Where `needle` first starts on screen.
fn find(buf: &Buffer, needle: &str) -> Option<(u16, u16)> {
    let want: Vec<String> = needle.chars().map(String::from).collect();
    (0..buf.area.height).find_map(|y| {
        let row = row_symbols(buf, y);
        row.windows(want.len())
            .position(|w| w.iter().zip(&want).all(|(a, b)| a == b))
            .map(|x| (u16::try_from(x).expect("narrow"), y))
    })
}

/// The style of the first cell of `needle` on screen.
fn style_of(buf: &Buffer, needle: &str) -> Style {
    let (x, y) = find(buf, needle).unwrap_or_else(|| panic!("{needle:?} not on screen:\n{buf:?}"));
    buf[(x, y)].style()
}

fn row_text(buf: &Buffer, y: u16) -> String {
    row_symbols(buf, y).concat()
}

// ---------------------------------------------------------------------------------------------
// Snapshots
// ---------------------------------------------------------------------------------------------

/// 80x8: the whole width of the smallest screen, 6 rows inside the border.
const NARROW: (u16, u16) = (80, 8);
/// 160x16: a big screen.
const WIDE: (u16, u16) = (160, 16);
/// Half of the smallest screen, for the column tiers.
const HALF: (u16, u16) = (48, 8);

macro_rules! snapshots {
    ($($name:ident => $board:expr, [$($size:ident),*];)*) => {
        $(
            #[test]
            fn $name() {
                let board = $board;
                let scenario = stringify!($name).trim_start_matches("snapshot_");
                for pane in PANES {
                    $(
                        let (w, h) = $size;
                        let terminal = draw(pane, &board, $size);
                        insta::assert_snapshot!(
                            format!("{scenario}_{pane:?}_{w}x{h}").to_lowercase(),
                            terminal.backend()
                        );
                    )*
                }
            }
        )*
    };
}

snapshots! {
    snapshot_healthy => healthy_board(), [NARROW, WIDE, HALF];
    snapshot_az_loss => az_loss_board(), [NARROW, WIDE];
    snapshot_region_loss => region_loss_board(), [NARROW, WIDE, HALF];
    snapshot_corruption => corruption_board(), [NARROW, WIDE];
    snapshot_breach => breach_board(), [NARROW];
    snapshot_promoted => promoted_board(), [NARROW, WIDE];
    snapshot_stale => stale_board(), [NARROW];
    snapshot_waiting => waiting_board(), [NARROW];
}

#[test]
fn focused_with_selection() {
    let board = region_loss_board();
    let theme = Theme::fallback();
    for (pane, selected) in [(Pane::Lag, 0), (Pane::Backups, 4), (Pane::Regions, 4)] {
        let terminal = draw_with(pane, &board, &theme, NARROW, true, selected);
        insta::assert_snapshot!(
            format!("focused_{pane:?}_selected_{selected}").to_lowercase(),
            terminal.backend()
        );
    }
}

// ---------------------------------------------------------------------------------------------
// Direct checks
// ---------------------------------------------------------------------------------------------

#[test]
fn titles_are_exact() {
    assert_eq!(panes::lag::TITLE, "Replica lag");
    assert_eq!(panes::backups::TITLE, "Backups");
    assert_eq!(panes::regions::TITLE, "Regions");
    let board = healthy_board();
    for (pane, title) in PANES.into_iter().zip(["Replica lag", "Backups", "Regions"]) {
        let t = draw(pane, &board, NARROW);
        assert!(row_text(t.backend().buffer(), 0).contains(title));
    }
}

/// A pane without focus shows its first rows (the most severe first), wherever its selection
/// was left; with focus, it scrolls to the selection.
#[test]
fn an_unfocused_pane_shows_its_first_rows_whatever_the_selection() {
    let env = Environment::demo();
    let board = healthy_board();
    let keys = keys(Pane::Backups, &board, &env, "");
    assert!(keys.len() >= 5, "{keys:?}");
    let name = |k: &RowKey| match k {
        RowKey::Name(n) => n.clone(),
        other => panic!("{other:?}"),
    };
    let (first, last) = (name(&keys[0]), name(&keys[keys.len() - 1]));
    let size = (100, 6); // borders and header: three rows of data
    let unfocused = draw_with(
        Pane::Backups,
        &board,
        &Theme::fallback(),
        size,
        false,
        keys.len() - 1,
    );
    let buf = unfocused.backend().buffer();
    assert!(find(buf, &first).is_some(), "the first row shows");
    assert!(find(buf, &last).is_none(), "not scrolled to the selection");
    let focused = draw_with(
        Pane::Backups,
        &board,
        &Theme::fallback(),
        size,
        true,
        keys.len() - 1,
    );
    let buf = focused.backend().buffer();
    assert!(find(buf, &last).is_some(), "focused: the selection shows");
}

/// The lag's colour and the problem count judge against the RPO the pane shows (the open
/// incident's objective), not the environment's: they disagreed when the incident's was lower.
#[test]
fn lag_is_judged_against_the_rpo_the_pane_shows() {
    let env = Environment::demo();
    let theme = Theme::fallback();
    // 100 s behind, the alarm at 5m: a warning against the environment's 5m RPO (over a fifth
    // of it), critical against a 90 s objective.
    let board = board([100.0], |_| {});
    let draw_at = |rpo: Dur| {
        let mut terminal = Terminal::new(TestBackend::new(100, 6)).expect("test backend");
        let ctx = PaneCtx {
            board: &board,
            env: &env,
            theme: &theme,
            now: now(),
            focused: false,
            selected: None,
            filter: "",
            editing: false,
            rpo,
        };
        terminal
            .draw(|frame| panes::lag::render(frame, frame.area(), &ctx))
            .expect("draw");
        terminal
    };
    let wide = draw_at(env.objectives.rpo);
    assert_eq!(style_of(wide.backend().buffer(), "1m40s").fg, theme.warn.fg);
    let tight = draw_at(Dur::from_secs(90));
    let buf = tight.backend().buffer();
    assert_eq!(style_of(buf, "1m40s").fg, theme.crit.fg);
    assert!(
        find(buf, "1m30s").is_some(),
        "the RPO column shows the objective judged by"
    );
    assert_eq!(
        panes::lag::tally_text(&board, &env, Dur::from_secs(90), "").as_deref(),
        Some("1 of 1 lagging")
    );
}

#[test]
fn lag_over_the_alarm_is_critical_and_small_lag_is_ok() {
    let theme = Theme::fallback();
    let t = draw(Pane::Lag, &region_loss_board(), NARROW);
    let buf = t.backend().buffer();
    // 2 + 39 * 10.2 = 399.8 s -> 6m40s, over the 300 s alarm.
    assert_eq!(style_of(buf, "6m40s").fg, theme.crit.fg);
    assert_eq!(style_of(buf, "broken").fg, theme.crit.fg);
    assert!(find(buf, "█").is_some(), "the sparkline reaches the top");

    let t = draw(Pane::Lag, &healthy_board(), NARROW);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "streaming").fg, theme.ok.fg);
    // Noise of a few seconds stays flat: scaled to a fifth of the alarm, not to its own max.
    assert!(find(buf, "█").is_none(), "noise must not look like a spike");
    assert!(find(buf, "▁").is_some());
}

#[test]
fn stale_title_has_age_and_error_and_values_stay_visible() {
    let board = stale_board();
    let theme = Theme::fallback();
    for pane in PANES {
        let t = draw(pane, &board, WIDE);
        let buf = t.backend().buffer();
        let title = row_text(buf, 0);
        assert!(
            title.contains("STALE 42s · sim: timeout after 5s"),
            "{pane:?}: {title}"
        );
        assert_eq!(style_of(buf, "STALE").fg, theme.unknown.fg);
    }
    // The last known values are still shown, greyed.
    let t = draw(Pane::Lag, &board, WIDE);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "2.0s").fg, theme.unknown.fg);
    let t = draw(Pane::Backups, &board, WIDE);
    assert_eq!(
        style_of(t.backend().buffer(), "daily-dump").fg,
        theme.dim.fg
    );
}

#[test]
fn waiting_title_says_so() {
    for pane in PANES {
        let t = draw(pane, &waiting_board(), NARROW);
        let title = row_text(t.backend().buffer(), 0);
        assert!(title.contains(" · waiting for data"), "{pane:?}: {title}");
    }
}

#[test]
fn tainted_backups_are_marked_critical() {
    let theme = Theme::fallback();
    let t = draw(Pane::Backups, &corruption_board(), WIDE);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "TAINTED").fg, theme.crit.fg);
    // The last good time of the tainted snapshots, in the wide layout's column.
    assert_eq!(style_of(buf, "2026-11-22 09:15").fg, theme.crit.fg);
    // At 80 columns the last good time stays, short.
    let t = draw(Pane::Backups, &corruption_board(), NARROW);
    let buf = t.backend().buffer();
    assert!(find(buf, "TAINTED").is_some());
    assert_eq!(style_of(buf, "09:15").fg, theme.crit.fg);
}

#[test]
fn backups_status_follows_the_seeds_rules() {
    let theme = Theme::fallback();
    let t = draw(Pane::Backups, &az_loss_board(), WIDE);
    let buf = t.backend().buffer();
    // `config` is 26 h old: due by its policy, critical by the 24 h rule.
    let (_, y) = find(buf, "config").expect("config row");
    let row = row_text(buf, y);
    assert!(row.contains("DUE"), "{row}");
    assert_eq!(style_of(buf, "DUE").fg, theme.crit.fg);
    // 22/24 = 91 % is under 95 %.
    assert_eq!(style_of(buf, "91%").fg, theme.warn.fg);
    let t = draw(Pane::Backups, &region_loss_board(), NARROW);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "FAILED").fg, theme.crit.fg);
    assert_eq!(style_of(buf, "OVERDUE").fg, theme.crit.fg);
}

#[test]
fn region_verdicts_and_dns_are_coloured() {
    let theme = Theme::fallback();
    let t = draw(Pane::Regions, &region_loss_board(), WIDE);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "DOWN ").fg, theme.crit.fg);
    // DNS still points at the dead region.
    assert_eq!(style_of(buf, "◀ api").fg, theme.crit.fg);
    assert_eq!(style_of(buf, "HEALTHY").fg, theme.ok.fg);
    assert_eq!(style_of(buf, "✗").fg, theme.crit.fg);

    let t = draw(Pane::Regions, &corruption_board(), WIDE);
    assert_eq!(style_of(t.backend().buffer(), "CORRUPT").fg, theme.crit.fg);
    let t = draw(Pane::Regions, &breach_board(), WIDE);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "180 failed auth/min").fg, theme.crit.fg);
    // The DR region's 12 failed logins a minute are under the spike: healthy, one line.
    assert!(find(buf, "12 failed auth/min").is_none());
    assert_eq!(style_of(buf, "unusual access").fg, theme.crit.fg);
}

/// After the secret rotation ended a breach: the rate is back to normal, the peak and the last
/// unusual access stay on the security row so the checklist item "the security signals are
/// noted" can still be done from the screen.
#[test]
fn security_row_keeps_the_breach_signal_after_it_ends() {
    let theme = Theme::fallback();
    let board = board(noise(60), |s| {
        let p = &mut s.security[0];
        p.failed_auth_per_min = 3;
        p.memory.peak_failed_auth_per_min = 180;
        p.memory.peak_at = Some(at(10, 21));
        p.memory.first_alarm_at = Some(at(10, 20));
        p.memory.last_alarm_at = Some(at(10, 24));
        p.memory.unusual_access_last_seen = Some(at(10, 24));
    });
    let t = draw(Pane::Regions, &board, WIDE);
    let buf = t.backend().buffer();
    assert_eq!(style_of(buf, "peak 180/min at 10:21").fg, theme.warn.fg);
    assert!(find(buf, "unusual access until 10:24").is_some());
    // Without the memory, a normal rate is just the rate.
    let quiet = board_quiet();
    let t = draw(Pane::Regions, &quiet, WIDE);
    assert!(find(t.backend().buffer(), "peak").is_none());
}

fn board_quiet() -> Board {
    board(noise(60), |s| s.security[0].failed_auth_per_min = 3)
}

#[test]
fn selection_is_highlighted_only_when_focused() {
    let theme = Theme::fallback();
    let board = healthy_board();
    let selected_bg = theme.selected.bg;
    assert!(selected_bg.is_some(), "the fallback theme marks selection");
    let t = draw_with(Pane::Backups, &board, &theme, NARROW, true, 2);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "daily-dump").expect("row");
    assert_eq!(buf[(x, y)].style().bg, selected_bg);
    let t = draw_with(Pane::Backups, &board, &theme, NARROW, false, 2);
    let buf = t.backend().buffer();
    let (x, y) = find(buf, "daily-dump").expect("row");
    assert_ne!(buf[(x, y)].style().bg, selected_bg);
    // Focus also changes the border.
    let t = draw_with(Pane::Backups, &board, &theme, NARROW, true, 0);
    assert_eq!(
        t.backend().buffer()[(0, 0)].style().fg,
        theme.border_focused.fg
    );
}

#[test]
fn selection_scrolls_into_view() {
    let theme = Theme::fallback();
    let board = region_loss_board();
    let env = Environment::demo();
    let last = panes::regions::row_count(&board, &env) - 1;
    // Three rows inside the border: the DOWN primary's block is taller than that.
    let size = (80, 5);
    let t = draw_with(Pane::Regions, &board, &theme, size, true, last);
    // The last row is the healthy DR region's one line.
    let buf = t.backend().buffer();
    let (_, y) = find(buf, "HEALTHY").expect("scrolled to the last row");
    assert_eq!(y, size.1 - 2);
    assert!(find(buf, "DOWN").is_none(), "the first rows scrolled away");
}

#[test]
fn row_counts_match_the_rows() {
    let env = Environment::demo();
    let b = healthy_board();
    assert_eq!(panes::lag::row_count(&b), 1);
    assert_eq!(panes::backups::row_count(&b), 6);
    // A healthy region is one line.
    assert_eq!(panes::regions::row_count(&b, &env), 2);
    // The breached primary: heading, health, db, app, security; the DR region one line.
    let b = breach_board();
    assert_eq!(panes::regions::row_count(&b, &env), 6);
    let b = waiting_board();
    assert_eq!(panes::lag::row_count(&b), 0);
    assert_eq!(panes::backups::row_count(&b), 0);
    // The environment's regions are listed before any reading arrives.
    assert_eq!(panes::regions::row_count(&b, &env), 2);
}

#[test]
fn healthy_regions_fold_to_one_line_that_sums_them_up() {
    let t = draw(Pane::Regions, &healthy_board(), WIDE);
    let buf = t.backend().buffer();
    let (_, y) = find(buf, "primary    HEALTHY").expect("primary's line");
    let line = row_text(buf, y);
    for part in ["38ms", "1 db available", "api 3/3"] {
        assert!(line.contains(part), "{part}: {line}");
    }
    // Nothing under it: the next line is the other region's, by name.
    let (_, dr) = find(buf, "dr         HEALTHY").expect("dr's line");
    assert_eq!(dr + 1, y, "dr sorts before primary");
    assert!(find(buf, "  health").is_none());
    // A database that is not available is not summed up as available.
    let b = board(noise(60), |s| {
        database(s, "primary").state = DbState::Stopped
    });
    let t = draw(Pane::Regions, &b, WIDE);
    assert!(find(t.backend().buffer(), "0/1 db available").is_some());
}

#[test]
fn tiny_areas_do_not_panic() {
    let boards = [
        healthy_board(),
        region_loss_board(),
        stale_board(),
        waiting_board(),
    ];
    let theme = Theme::fallback();
    for board in &boards {
        for pane in PANES {
            for size in [(0, 0), (1, 1), (5, 3), (10, 3), (3, 10), (20, 4), (200, 2)] {
                for selected in [0, 99] {
                    draw_with(pane, board, &theme, size, true, selected);
                }
            }
        }
    }
}

#[test]
fn plain_theme_draws_without_colour() {
    // A NO_COLOR-like theme: every role unstyled. Nothing on screen may carry a colour.
    let mut plain = Theme::fallback();
    for style in [
        &mut plain.text,
        &mut plain.dim,
        &mut plain.title,
        &mut plain.border,
        &mut plain.border_focused,
        &mut plain.header,
        &mut plain.selected,
        &mut plain.ok,
        &mut plain.warn,
        &mut plain.crit,
        &mut plain.unknown,
    ] {
        *style = Style::new();
    }
    for pane in PANES {
        let t = draw_with(pane, &region_loss_board(), &plain, WIDE, true, 1);
        let buf = t.backend().buffer();
        for cell in buf.content() {
            assert_eq!((cell.fg, cell.bg), (Color::Reset, Color::Reset), "{pane:?}");
        }
    }
}
