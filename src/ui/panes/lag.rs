//! `Replica lag`: one row per database that replicates (replicas, and promoted former replicas).
//!
//! ```text
//! 80 columns:
//! ┌ Replica lag ─────────────────────────────────────────────────────────────────┐
//! │Replica       Lag History                      Alarm RPO   State        Behind│
//! │dr-replica  6m40s ▃▃▄▄▄▄▄▄▅▅▅▅▅▅▆▆▆▆▆▇▇▇▇▇▇███ 5m    5m    broken            —│
//! └──────────────────────────────────────────────────────────────────────────────┘
//! wide (≥ ~100): `Resource` and `Source` after the name, a longer sparkline.
//! narrow: alarm and RPO move to the bottom border, then `Behind`, the sparkline and `State` go:
//! ┌ Replica lag ─────────────────────────────────┐
//! │Replica       Lag History            State    │
//! │dr-replica  6m40s ▅▅▅▅▆▆▆▆▆▇▇▇▇▇▇███ broken   │
//! └─────────────────────────── alarm 5m · RPO 5m ┘
//! ```
//!
//! Lag and sparkline are coloured by [`lag_severity`] against the replica's alarm and the
//! environment's RPO; a `broken` replication state is critical whatever the lag says.
//!
//! Once a replica's source is lost, its row shows the frozen data-loss window instead of the
//! growing lag (which is only the age of the last replayed write), and the bottom border says it
//! in words: `dr-replica 3.4s behind when primary was lost at 10:18:27`.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use super::common::{
    Filter, Look, NONE, TableParts, Tally, bytes_text, cell, choose_columns, column_width,
    header_cell, lag_text, no_match, pane_block, problems_first, render_table, sparkline, worse,
};
use super::{PaneCtx, RowKey};
use crate::duration::Dur;
use crate::env::Environment;
use crate::playbook::LossWindow;
use crate::playbook::projection::rpo_span;
use crate::telemetry::{
    Board, DatabaseReading, Replication, ReplicationState, Severity, lag_severity,
};
use crate::ui::paint::Panel;
use crate::ui::playbook::sanitize;

/// The pane's title, exactly as shown in its border.
pub const TITLE: &str = "Replica lag";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Col {
    Name,
    Resource,
    Source,
    Lag,
    History,
    Alarm,
    Rpo,
    State,
    Behind,
}

/// Column sets from widest to narrowest, with the sparkline's minimum width in each.
const TIERS: &[(&[Col], u16)] = &[
    (
        &[
            Col::Name,
            Col::Resource,
            Col::Source,
            Col::Lag,
            Col::History,
            Col::Alarm,
            Col::Rpo,
            Col::State,
            Col::Behind,
        ],
        20,
    ),
    (
        &[
            Col::Name,
            Col::Lag,
            Col::History,
            Col::Alarm,
            Col::Rpo,
            Col::State,
            Col::Behind,
        ],
        20,
    ),
    (
        &[Col::Name, Col::Lag, Col::History, Col::State, Col::Behind],
        12,
    ),
    (&[Col::Name, Col::Lag, Col::History, Col::State], 8),
    (&[Col::Name, Col::Lag, Col::State], 0),
    (&[Col::Name, Col::Lag], 0),
];

/// The replicating databases, in the board's order.
fn replicas(board: &Board) -> impl Iterator<Item = (&DatabaseReading, &Replication)> {
    board
        .picture
        .databases
        .iter()
        .filter_map(|db| db.replication.as_ref().map(|r| (db, r)))
}

/// Rows before any filter: one per replicating database.
pub fn row_count(board: &Board) -> usize {
    replicas(board).count()
}

fn state_label(state: ReplicationState) -> (&'static str, Severity) {
    match state {
        ReplicationState::Streaming => ("streaming", Severity::Ok),
        ReplicationState::Broken => ("broken", Severity::Crit),
        ReplicationState::Paused => ("paused", Severity::Warn),
        ReplicationState::Promoted => ("promoted", Severity::Ok),
    }
}

/// The title's words for the two kinds of problem.
const BROKEN: &str = "broken";
const LAGGING: &str = "lagging";

/// One row: a replica with what the row shows about it.
struct Row<'b> {
    db: &'b DatabaseReading,
    r: &'b Replication,
    /// The frozen data-loss window, once the source is lost.
    window: Option<LossWindow>,
    /// The lag shown (the frozen window once the source is lost) judged against alarm and RPO.
    lag_severity: Severity,
    /// The row as a whole: the worse of its lag and its replication state.
    severity: Severity,
}

impl Row<'_> {
    /// `broken` (replication broken or its source lost), `lagging` (lag at a warning or worse,
    /// replay paused), or `None`.
    fn problem(&self) -> Option<&'static str> {
        if self.r.state == ReplicationState::Broken || self.window.is_some() {
            Some(BROKEN)
        } else if matches!(self.severity, Severity::Crit | Severity::Warn) {
            Some(LAGGING)
        } else {
            None
        }
    }
}

/// The rows the filter keeps, problems first, and their tally. A replica's lag is judged
/// against `rpo`, the objective the pane shows (the open incident's, else the environment's).
fn ordered<'b>(
    board: &'b Board,
    env: &Environment,
    rpo: Dur,
    filter: &str,
) -> (Vec<Row<'b>>, Tally) {
    let filter = Filter::new(filter);
    let mut rows: Vec<Row<'b>> = replicas(board)
        .filter(|(db, r)| {
            filter.is_empty()
                || filter.matches([
                    db.name.as_str(),
                    db.resource.as_str(),
                    db.region.as_str(),
                    r.source.as_str(),
                    env.region(&db.region).map_or("", |d| d.id.as_str()),
                ])
        })
        .map(|(db, r)| {
            let window = frozen(r);
            // Frozen: what promoting loses, not the growing age of the last replayed write.
            let shown_lag = window.as_ref().map_or(r.lag_secs, |w| Some(w.secs));
            let lag_severity = lag_severity(shown_lag, r.lag_alarm, rpo);
            let (_, state_severity) = state_label(r.state);
            // A promoted database no longer replicates: no lag is expected, not alarming.
            let severity = if r.state == ReplicationState::Promoted && r.lag_secs.is_none() {
                state_severity
            } else {
                worse(lag_severity, state_severity)
            };
            Row {
                db,
                r,
                window,
                lag_severity,
                severity,
            }
        })
        .collect();
    problems_first(&mut rows, |row| (row.severity, row.db.name.as_str()));
    let tally = Tally::count(
        rows.iter().map(|row| (row.severity, row.problem())),
        &[BROKEN, LAGGING],
    );
    (rows, tally)
}

/// The rows in the order shown, for moving the selection (`rpo`: the objective shown).
pub fn keys(board: &Board, env: &Environment, rpo: Dur, filter: &str) -> Vec<RowKey> {
    let (rows, _) = ordered(board, env, rpo, filter);
    rows.iter()
        .map(|row| RowKey::Name(row.db.name.clone()))
        .collect()
}

/// The problem count as the title shows it (`10 of 100 broken`), `None` when all is well.
pub fn tally_text(board: &Board, env: &Environment, rpo: Dur, filter: &str) -> Option<String> {
    ordered(board, env, rpo, filter).1.text()
}

/// Draws the `Replica lag` pane.
pub fn render(frame: &mut Frame, area: Rect, ctx: &PaneCtx<'_>) {
    let board = ctx.board;
    let freshness = board.freshness(|f| f.lag, ctx.now);
    let look = Look::new(ctx.theme, &freshness);
    let (rows, tally) = ordered(board, ctx.env, ctx.rpo, ctx.filter);
    let mut block = pane_block(ctx, TITLE, &tally, &freshness);
    let inner_width = Panel::inner(area).width;

    let name_w = column_width(rows.iter().map(|row| row.db.name.as_str()), 7, 20);
    let resource_w = column_width(rows.iter().map(|row| row.db.resource.as_str()), 8, 24);
    let source_w = column_width(rows.iter().map(|row| row.r.source.as_str()), 6, 12);
    let cols = choose_columns(
        inner_width,
        TIERS,
        |c| match c {
            Col::Name => name_w,
            Col::Resource => resource_w,
            Col::Source => source_w,
            Col::Lag => 6,
            Col::History => 0,
            Col::Alarm | Col::Rpo => 5,
            Col::State => 9,
            Col::Behind => 9,
        },
        Some(Col::History),
    );

    let rpo = ctx.rpo;
    let rpo_text = rpo.to_string();
    let lost: Vec<String> = rows
        .iter()
        .filter_map(|row| {
            row.window
                .as_ref()
                .map(|w| format!("{} {}", row.db.name, w.describe()))
        })
        .collect();
    let narrow = !cols.iter().any(|(c, _)| *c == Col::Alarm);
    if !lost.is_empty() {
        let mut note = vec![Span::styled(
            format!(" {} ", sanitize(&lost.join(" · "))),
            look.sev(Severity::Crit),
        )];
        if narrow {
            note.extend(policy_note(board, &rpo_text, look).spans);
        }
        block = block.bottom_title(Line::from(note));
    } else if narrow {
        block = block.bottom_title(policy_note(board, &rpo_text, look));
    }

    let header: Vec<Line> = cols
        .iter()
        .map(|(c, _)| match c {
            Col::Name => header_cell("Replica", false),
            Col::Resource => header_cell("Resource", false),
            Col::Source => header_cell("Source", false),
            Col::Lag => header_cell("Lag", true),
            Col::History => header_cell("History", false),
            Col::Alarm => header_cell("Alarm", false),
            Col::Rpo => header_cell("RPO", false),
            Col::State => header_cell("State", false),
            Col::Behind => header_cell("Behind", true),
        })
        .collect();

    let selected = ctx
        .selected
        .and_then(|key| {
            rows.iter()
                .position(|row| matches!(key, RowKey::Name(n) if *n == row.db.name))
        })
        .unwrap_or(0);
    let placeholder = if !ctx.filter.trim().is_empty() && row_count(board) > 0 {
        no_match(ctx.filter)
    } else if look.stale || board.picture.databases.is_empty() {
        "no replication reported yet".to_string()
    } else {
        "no replicas".to_string()
    };
    let rpo_text = rpo_text.as_str();
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
            let Row {
                db,
                r,
                window,
                lag_severity: severity,
                ..
            } = &rows[i];
            let (db, r, severity) = (*db, *r, *severity);
            let promoted = r.state == ReplicationState::Promoted;
            // A promoted database no longer replicates: no lag is expected, not alarming.
            let lag_style = if promoted && r.lag_secs.is_none() {
                look.dim()
            } else {
                look.sev(severity)
            };
            cols.iter()
                .map(|&(c, width)| match c {
                    Col::Name => cell(Span::styled(db.name.as_str(), look.text()), false),
                    Col::Resource => cell(Span::styled(db.resource.as_str(), look.dim()), false),
                    Col::Source => cell(Span::styled(r.source.as_str(), look.dim()), false),
                    Col::Lag => match window {
                        Some(w) => cell(
                            Span::styled(rpo_span(w.secs), look.sev(Severity::Crit)),
                            true,
                        ),
                        None => cell(Span::styled(lag_text(r.lag_secs), lag_style), true),
                    },
                    Col::History => {
                        let text = board
                            .lag_history
                            .get(&db.name)
                            .map_or_else(String::new, |h| {
                                sparkline(h.iter(), width, r.lag_alarm.secs() / 5)
                            });
                        cell(Span::styled(text, lag_style), false)
                    }
                    Col::Alarm => cell(Span::styled(r.lag_alarm.to_string(), look.dim()), false),
                    Col::Rpo => cell(Span::styled(rpo_text, look.dim()), false),
                    Col::State => {
                        let (label, sev) = state_label(r.state);
                        cell(Span::styled(label, look.sev(sev)), false)
                    }
                    Col::Behind => match window.as_ref().and(r.loss_window_bytes).or(r.lag_bytes) {
                        Some(b) => cell(Span::styled(bytes_text(b), look.sev(severity)), true),
                        None => cell(Span::styled(NONE, look.dim()), true),
                    },
                })
                .collect()
        },
    )
}

/// The selected replica's whole row: `dr-replica (pynomaly-dr) from primary · lag 4.5s · alarm
/// 5m · RPO 35m · streaming · 6.4 MiB behind`.
pub fn selected_text(ctx: &PaneCtx<'_>) -> Option<String> {
    let (rows, _) = ordered(ctx.board, ctx.env, ctx.rpo, ctx.filter);
    let row = ctx
        .selected
        .and_then(|key| {
            rows.iter()
                .find(|row| matches!(key, RowKey::Name(n) if *n == row.db.name))
        })
        .or(rows.first())?;
    let (db, r) = (row.db, row.r);
    let lag = match frozen(r) {
        Some(w) => w.describe(),
        None => format!("lag {}", lag_text(r.lag_secs)),
    };
    let behind = frozen(r)
        .and(r.loss_window_bytes)
        .or(r.lag_bytes)
        .map(|b| format!(" · {} behind", bytes_text(b)))
        .unwrap_or_default();
    Some(sanitize(&format!(
        "{} ({}) from {} · {lag} · alarm {} · RPO {} · {}{behind}",
        db.name,
        db.resource,
        r.source,
        r.lag_alarm,
        ctx.rpo,
        state_label(r.state).0
    )))
}

/// The frozen window of a replica whose source is lost (not once promoted).
fn frozen(r: &Replication) -> Option<LossWindow> {
    if r.state == ReplicationState::Promoted {
        return None;
    }
    let (secs, source_lost_at) = (r.loss_window_secs?, r.source_lost_at?);
    Some(LossWindow {
        source: r.source.clone(),
        secs,
        source_lost_at,
    })
}

/// `alarm 5m · RPO 5m`, for the bottom border when the columns do not fit. Replicas with
/// different alarms show each distinct value (`alarm 5m/10m`).
fn policy_note<'a>(board: &Board, rpo_text: &'a str, look: Look<'_>) -> Line<'a> {
    let mut alarms: Vec<u64> = replicas(board).map(|(_, r)| r.lag_alarm.secs()).collect();
    alarms.sort_unstable();
    alarms.dedup();
    let mut note = String::from(" ");
    if !alarms.is_empty() {
        note.push_str("alarm ");
        for (i, secs) in alarms.iter().enumerate() {
            if i > 0 {
                note.push('/');
            }
            note.push_str(&Dur::from_secs(*secs).to_string());
        }
        note.push_str(" · ");
    }
    note.push_str("RPO ");
    Line::from(vec![
        Span::styled(note, look.dim()),
        Span::styled(rpo_text, look.dim()),
        Span::raw(" "),
    ])
}
