//! `Backups`: one row per backup series, judged against its policy interval.
//!
//! ```text
//! 80 columns:
//! ┌ Backups ─────────────────────────────────────────────────────────────────────┐
//! │Backup             Kind           Last success UTC    Age Every Status   24h  │
//! │snapshots          RDS snapshot   2026-11-22 11:45 15m00s   15m FAILED   83%  │
//! │wal-archive        WAL archive    2026-11-22 11:40 20m00s    5m OVERDUE 100%  │
//! └──────────────────────────────────────────────────────────────────────────────┘
//! wide (≥ ~110): `Last good UTC`, `Size` and `Verified` (the newest restore test: `19:31 ok`,
//! `19:31 FAIL`, `never`) follow; `Verified` stays a tier longer than the other two.
//! narrower: `Kind` goes, the times shrink to `02:00`, then `Every`, `24h` and `Age` go. When a
//! series is tainted, a short `Good` column stays in the narrower layouts:
//! │Backup             Last success UTC    Age Every Status           24h Good    │
//! │snapshots          2026-11-22 11:45 15m00s   15m OK TAINTED      100% 09:15   │
//! ```
//!
//! Age and status are coloured by [`BackupReading::severity`] (anything older than 24 h is
//! critical). A series whose newest success is not its newest known-good one (taken after a
//! corruption point) is marked `TAINTED` in the status column, and its last good time is shown
//! in the critical style where the column fits.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use chrono::{DateTime, Utc};

use super::common::{
    Filter, Look, NONE, TableParts, Tally, bytes_text, cell, choose_columns, column_width,
    every_text, header_cell, no_match, pane_block, problems_first, render_table, utc_text,
};
use super::{PaneCtx, RowKey};
use crate::duration::compact;
use crate::env::Environment;
use crate::telemetry::{BackupReading, BackupStatus, Board, Severity};
use crate::ui::paint::Panel;

/// The pane's title, exactly as shown in its border.
pub const TITLE: &str = "Backups";

/// Suffix of the status label of a series whose newest success is not known good.
const TAINTED: &str = " TAINTED";

/// Below this 24 h success rate (percent) the rate is a warning.
const RATE_WARN_BELOW: f64 = 95.0;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Kind,
    LastLong,
    LastShort,
    Age,
    Every,
    Status,
    Rate,
    Good,
    GoodShort,
    Size,
    /// The newest verification (restore test): `19:31 ok`, `19:31 FAIL`, `never`.
    Verified,
}

/// Column sets from widest to narrowest (no column fills: trailing space stays empty).
const TIERS: &[(&[Col], u16)] = &[
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::Good,
            Col::Size,
            Col::Verified,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::Verified,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::LastShort,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
        ],
        0,
    ),
    (&[Col::Name, Col::Age, Col::Status, Col::Rate], 0),
    (&[Col::Name, Col::Age, Col::Status], 0),
    (&[Col::Name, Col::Status], 0),
];

/// When a series is tainted, its last good time is what the operator restores from: the
/// narrower tiers keep it (as `09:15`) at the expense of the kind and the size.
const TIERS_TAINTED: &[(&[Col], u16)] = &[
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::Good,
            Col::Size,
            Col::Verified,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::Good,
            Col::Verified,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::Kind,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::Good,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::LastLong,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::GoodShort,
        ],
        0,
    ),
    (
        &[
            Col::Name,
            Col::LastShort,
            Col::Age,
            Col::Every,
            Col::Status,
            Col::Rate,
            Col::GoodShort,
        ],
        0,
    ),
    (&[Col::Name, Col::Age, Col::Status, Col::GoodShort], 0),
    (&[Col::Name, Col::Status, Col::GoodShort], 0),
    (&[Col::Name, Col::Status], 0),
];

/// Rows before any filter: one per backup reading.
pub fn row_count(board: &Board) -> usize {
    board.picture.backups.len()
}

/// The selected series' whole row: name, kind, status (and `TAINTED`), last success and
/// last good, age, policy, 24 h rate, size.
pub fn selected_text(ctx: &PaneCtx<'_>) -> Option<String> {
    let now = ctx.now;
    let (rows, _) = ordered(ctx.board, now, ctx.filter);
    let b = ctx
        .selected
        .and_then(|key| {
            rows.iter()
                .find(|row| matches!(key, RowKey::Name(n) if *n == row.b.name))
        })
        .or(rows.first())?
        .b;
    let mut out = format!("{} ({}) · {}", b.name, b.kind, b.status(now).label());
    if tainted(b) {
        out.push_str(TAINTED);
    }
    match b.last_success {
        Some(at) => out.push_str(&format!(" · last success {} UTC", utc_text(at, true))),
        None => out.push_str(" · never succeeded"),
    }
    if let Some(age) = b.age_secs(now) {
        out.push_str(&format!(" ({} ago)", compact(age)));
    }
    match (b.last_good, tainted(b)) {
        (Some(at), true) => out.push_str(&format!(" · last good {} UTC", utc_text(at, true))),
        (None, true) => out.push_str(" · no good backup"),
        _ => {}
    }
    out.push_str(&format!(" · every {}", every_text(b.every)));
    if let Some(rate) = b.success_rate_24h() {
        out.push_str(&format!(" · {}% in 24h", rate.floor()));
    }
    if let Some(size) = b.size_bytes {
        out.push_str(&format!(" · {}", bytes_text(size)));
    }
    // Last verified: when the newest restore test of the series ran, and its result.
    match b.last_verified {
        Some(v) => out.push_str(&format!(
            " · last verified {} UTC {}",
            utc_text(v.at, true),
            if v.ok { "ok" } else { "FAILED" }
        )),
        None => out.push_str(" · never verified"),
    }
    Some(crate::ui::playbook::sanitize(&out))
}

/// Whether the newest success is not the newest known-good one (taken after a corruption point).
fn tainted(b: &BackupReading) -> bool {
    b.tainted()
}

/// The title's words for the kinds of problem, in the order it names them.
const FAILED: &str = "failed";
const STALE: &str = "stale";
const TAINTED_WORD: &str = "tainted";
const UNRELIABLE: &str = "unreliable";

/// One row: a series with its judgement at `now`.
struct Row<'b> {
    b: &'b BackupReading,
    status: BackupStatus,
    /// What the age and status are coloured by.
    severity: Severity,
    tainted: bool,
}

impl Row<'_> {
    /// For ordering: a tainted series is critical (restoring it restores the corruption).
    fn rank_severity(&self) -> Severity {
        if self.tainted {
            Severity::Crit
        } else {
            self.severity
        }
    }

    /// `failed` (the last attempt failed), `stale` (due, overdue, or older than 24 h),
    /// `tainted`, `unreliable` (under 95 % of the last 24 h succeeded), or `None`.
    fn problem(&self) -> Option<&'static str> {
        match self.status {
            BackupStatus::Failed => Some(FAILED),
            BackupStatus::Due | BackupStatus::Overdue => Some(STALE),
            BackupStatus::Ok if self.tainted => Some(TAINTED_WORD),
            BackupStatus::Ok => match self.severity {
                Severity::Crit => Some(STALE),
                Severity::Warn => Some(UNRELIABLE),
                Severity::Ok | Severity::Unknown => None,
            },
        }
    }
}

/// The rows the filter keeps (by name or kind), problems first, and their tally.
fn ordered<'b>(board: &'b Board, now: DateTime<Utc>, filter: &str) -> (Vec<Row<'b>>, Tally) {
    let filter = Filter::new(filter);
    let mut rows: Vec<Row<'b>> = board
        .picture
        .backups
        .iter()
        .filter(|b| filter.matches([b.name.as_str(), b.kind.as_str()]))
        .map(|b| Row {
            b,
            status: b.status(now),
            severity: b.severity(now),
            tainted: tainted(b),
        })
        .collect();
    problems_first(&mut rows, |row| (row.rank_severity(), row.b.name.as_str()));
    let tally = Tally::count(
        rows.iter().map(|row| (row.rank_severity(), row.problem())),
        &[FAILED, STALE, TAINTED_WORD, UNRELIABLE],
    );
    (rows, tally)
}

/// The rows in the order shown, for moving the selection.
pub fn keys(board: &Board, _env: &Environment, now: DateTime<Utc>, filter: &str) -> Vec<RowKey> {
    let (rows, _) = ordered(board, now, filter);
    rows.iter()
        .map(|row| RowKey::Name(row.b.name.clone()))
        .collect()
}

/// The problem count as the title shows it (`3 of 100 failed or stale`), `None` when all is
/// well.
pub fn tally_text(board: &Board, now: DateTime<Utc>, filter: &str) -> Option<String> {
    ordered(board, now, filter).1.text()
}

/// Draws the `Backups` pane.
pub fn render(frame: &mut Frame, area: Rect, ctx: &PaneCtx<'_>) {
    let board = ctx.board;
    let now = ctx.now;
    let freshness = board.freshness(|f| f.backups, now);
    let look = Look::new(ctx.theme, &freshness);
    let (rows, tally) = ordered(board, now, ctx.filter);
    let block = pane_block(ctx, TITLE, &tally, &freshness);
    let inner_width = Panel::inner(area).width;

    let name_w = column_width(rows.iter().map(|row| row.b.name.as_str()), 6, 20);
    let kind_w = column_width(rows.iter().map(|row| row.b.kind.as_str()), 4, 16);
    let any_tainted = rows.iter().any(|row| row.tainted);
    // `OVERDUE`, and ` TAINTED` after it when any series is tainted.
    let status_w = if any_tainted { 7 + 8 } else { 7 };
    let cols = choose_columns(
        inner_width,
        if any_tainted { TIERS_TAINTED } else { TIERS },
        |c| match c {
            Col::Name => name_w,
            Col::Kind => kind_w,
            Col::LastLong | Col::Good => 16,
            Col::LastShort | Col::GoodShort => 5,
            Col::Age => 6,
            Col::Every => 5,
            Col::Status => status_w,
            Col::Rate => 4,
            Col::Size => 9,
            Col::Verified => 10,
        },
        None,
    );

    let header: Vec<Line> = cols
        .iter()
        .map(|(c, _)| match c {
            Col::Name => header_cell("Backup", false),
            Col::Kind => header_cell("Kind", false),
            Col::LastLong => header_cell("Last success UTC", false),
            Col::LastShort => header_cell("Last", false),
            Col::Age => header_cell("Age", true),
            Col::Every => header_cell("Every", true),
            Col::Status => header_cell("Status", false),
            Col::Rate => header_cell("24h", true),
            Col::Good => header_cell("Last good UTC", false),
            Col::GoodShort => header_cell("Good", false),
            Col::Size => header_cell("Size", true),
            Col::Verified => header_cell("Verified", false),
        })
        .collect();

    let selected = ctx
        .selected
        .and_then(|key| {
            rows.iter()
                .position(|row| matches!(key, RowKey::Name(n) if *n == row.b.name))
        })
        .unwrap_or(0);
    let placeholder = if !ctx.filter.trim().is_empty() && row_count(board) > 0 {
        no_match(ctx.filter)
    } else {
        "no backups reported yet".to_string()
    };
    render_table(
        frame,
        area,
        ctx,
        TableParts {
            block,
            header: Some(header),
            len: rows.len(),
            selected,
            widths: cols.iter().map(|(_, w)| *w).collect(),
            placeholder,
        },
        |i| {
            let row = &rows[i];
            let b = row.b;
            let severity = look.sev(row.severity);
            let is_tainted = row.tainted;
            cols.iter()
                .map(|&(c, _)| match c {
                    Col::Name => cell(Span::styled(b.name.as_str(), look.text()), false),
                    Col::Kind => cell(Span::styled(b.kind.as_str(), look.dim()), false),
                    Col::LastLong | Col::LastShort => match b.last_success {
                        Some(at) => cell(
                            Span::styled(utc_text(at, c == Col::LastLong), look.text()),
                            false,
                        ),
                        None => cell(Span::styled("never", severity), false),
                    },
                    Col::Age => match b.age_secs(now) {
                        Some(age) => cell(Span::styled(compact(age), severity), true),
                        None => cell(Span::styled(NONE, severity), true),
                    },
                    Col::Every => cell(Span::styled(every_text(b.every), look.dim()), true),
                    Col::Status => {
                        let mut spans = vec![Span::styled(row.status.label(), severity)];
                        if is_tainted {
                            spans.push(Span::styled(TAINTED, look.sev(Severity::Crit)));
                        }
                        Line::from(spans)
                    }
                    Col::Rate => match b.success_rate_24h() {
                        Some(rate) => {
                            let sev = if rate < RATE_WARN_BELOW {
                                Severity::Warn
                            } else {
                                Severity::Ok
                            };
                            // Floor, so that 94.6 % reads 94 % next to its warning colour.
                            let text = format!("{}%", rate.floor());
                            cell(Span::styled(text, look.sev(sev)), true)
                        }
                        None => cell(Span::styled(NONE, look.dim()), true),
                    },
                    Col::Good | Col::GoodShort => match (b.last_good, is_tainted) {
                        (Some(at), false) => cell(
                            Span::styled(utc_text(at, c == Col::Good), look.dim()),
                            false,
                        ),
                        (Some(at), true) => cell(
                            Span::styled(utc_text(at, c == Col::Good), look.sev(Severity::Crit)),
                            false,
                        ),
                        (None, true) => cell(Span::styled("none", look.sev(Severity::Crit)), false),
                        (None, false) => cell(Span::styled(NONE, look.dim()), false),
                    },
                    Col::Size => match b.size_bytes {
                        Some(size) => cell(Span::styled(bytes_text(size), look.dim()), true),
                        None => cell(Span::styled(NONE, look.dim()), true),
                    },
                    Col::Verified => match b.last_verified {
                        Some(v) if v.ok => cell(
                            Span::styled(format!("{} ok", v.at.format("%H:%M")), look.dim()),
                            false,
                        ),
                        Some(v) => cell(
                            Span::styled(
                                format!("{} FAIL", v.at.format("%H:%M")),
                                look.sev(Severity::Crit),
                            ),
                            false,
                        ),
                        None => cell(Span::styled("never", look.dim()), false),
                    },
                })
                .collect()
        },
    )
}
