//! The restore-point picker popup (`t` on a `db.restore` step; state in `app::points`): the
//! named choices with what they resolve to now, every backup of the series (time, kind, size,
//! last verified and its result, TAINTED / FAILED, WAL completeness), the point-in-time windows
//! and gaps, the row under the cursor resolved by the engine's resolver (point, data lost, the
//! backup it starts from), and what to press. The list scrolls to keep the cursor in view; the
//! rest is pinned, so it is usable at 80x24.

use chrono::{DateTime, Utc};
use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::style::Style;
use ratatui::text::{Line, Span};
use ratatui::widgets::Clear;

use crate::app::App;
use crate::app::incident::Incident;
use crate::app::points::{Load, PointPicker, Row};
use crate::recovery::{Basis, LOSS_DEFINITION, ResolveError, RestoreTo};
use crate::restore_points::BackupPoint;

use super::paint;
use super::playbook::sanitize;

/// The popup's widest.
const WIDTH: u16 = 110;

fn hms(t: DateTime<Utc>) -> String {
    t.format("%m-%d %H:%M:%S").to_string()
}

/// Cuts `text` to `width` characters (an ellipsis marks the cut).
fn cut(text: &str, width: usize) -> String {
    if text.chars().count() <= width {
        return text.to_string();
    }
    let mut s: String = text.chars().take(width.saturating_sub(1)).collect();
    s.push('…');
    s
}

/// The last-verified column's width: `FAIL 11-26 22:45`, `never verified`.
const VERIFIED_W: usize = 16;

/// The kind column's width: the longest kind listed, within what the row leaves after the
/// other columns (time 14, size 9, verified 16, separators, room for notes), at least 10.
fn kind_width(backups: &[BackupPoint], row_w: usize) -> usize {
    let longest = backups
        .iter()
        .map(|b| sanitize(&b.kind).chars().count())
        .max()
        .unwrap_or(0);
    let room = row_w
        .saturating_sub(14 + 2 + 1 + 9 + 2 + VERIFIED_W + 1 + 18)
        .max(10);
    longest.clamp(10, room)
}

/// What the backup rows' columns are, above the list: the rows themselves are dense.
const BACKUP_COLUMNS: &str =
    "backups: time (UTC) · kind · size · last restore test (backup.verify) · notes";

/// A backup's row: time, kind, size (binary units, as the Backups pane; none for a failed
/// attempt, which is no backup), the last restore test (`backup.verify`) and its result, notes.
fn backup_row(b: &BackupPoint, kind_w: usize) -> String {
    let verified = match &b.last_verified {
        Some(v) => format!(
            "{} {}",
            if v.ok { "ok" } else { "FAIL" },
            v.at.format("%m-%d %H:%M")
        ),
        None => "never verified".to_string(),
    };
    let mut notes = Vec::new();
    if b.failed {
        notes.push("FAILED".to_string());
    }
    if b.tainted {
        notes.push("TAINTED".to_string());
    }
    match (b.wal_complete, b.wal_reach) {
        (Some(true), Some(r)) => notes.push(format!("WAL ok→{}", r.format("%H:%M:%S"))),
        (Some(false), Some(r)) => notes.push(format!("WAL GAP@{}", r.format("%H:%M:%S"))),
        _ => {}
    }
    let size = match b.bytes {
        Some(n) if !b.failed => crate::text::binary_bytes(n),
        _ => "-".to_string(),
    };
    format!(
        "{}  {:<kind_w$} {:>9}  {:<VERIFIED_W$} {}",
        hms(b.time),
        cut(&sanitize(&b.kind), kind_w),
        size,
        verified,
        notes.join(" ")
    )
}

/// What the engine resolves `to` to now (the same resolver as the confirmation), one line.
fn resolved_words(
    incident: &Incident,
    picker: &PointPicker,
    to: RestoreTo,
    now: DateTime<Utc>,
) -> (String, bool) {
    match incident
        .engine
        .preview_restore(picker.step, Some(to), &picker.listed(), now)
    {
        Some(Ok(r)) => {
            let how = match r.basis {
                Basis::Backup => "backup",
                Basis::PointInTime => "backup + WAL",
            };
            let lost = r.loss_secs.map_or_else(
                || "data lost unknown".to_string(),
                |l| format!("data lost {}", crate::duration::rpo_span(l)),
            );
            (
                format!("→ {} ({how}); {lost}", r.point.format("%H:%M:%S")),
                true,
            )
        }
        Some(Err(e)) => (format!("✗ {e}"), false),
        None => ("✗ no telemetry yet to choose from".to_string(), false),
    }
}

/// One row of the list as text, and whether it is a problem (tainted, failed, refused).
fn row_text(
    incident: &Incident,
    picker: &PointPicker,
    row: Row,
    now: DateTime<Utc>,
    row_w: usize,
) -> (String, bool) {
    match row {
        Row::BeforeCorruption | Row::LatestVerified | Row::NewestGood => {
            let to = picker.choice(row).unwrap_or_default();
            let (mut words, ok) = resolved_words(incident, picker, to, now);
            // Short enough for 80 columns; the line under the list has the whole reason.
            if let Some(Err(ResolveError::NoVerifiedBackup { .. })) = incident
                .engine
                .preview_restore(picker.step, Some(to), &picker.listed(), now)
            {
                words = "✗ none passed a restore test (backup.verify)".to_string();
            }
            let default = if row == Row::BeforeCorruption {
                " (default)"
            } else {
                ""
            };
            (format!("{:<27} {words}", format!("{to}{default}")), !ok)
        }
        Row::Backup(i) => match picker.list().and_then(|l| l.backups.get(i)) {
            Some(b) => {
                let kind_w = picker.list().map_or(10, |l| kind_width(&l.backups, row_w));
                (
                    backup_row(b, kind_w),
                    b.tainted || b.failed || b.last_verified.as_ref().is_some_and(|v| !v.ok),
                )
            }
            None => (String::new(), false),
        },
        Row::Window(i) => match picker
            .list()
            .and_then(|l| l.pitr.as_ref())
            .and_then(|p| p.windows.get(i))
        {
            Some(w) => (
                format!(
                    "window {} .. {}  point in time: Enter types a time",
                    hms(w.from),
                    hms(w.to)
                ),
                false,
            ),
            None => (String::new(), false),
        },
        Row::TypeTime => (
            format!("type a time (UTC, e.g. {})…", picker.example_time()),
            false,
        ),
    }
}

/// The popup.
pub fn render(frame: &mut Frame, area: Rect, app: &App, incident: &Incident, picker: &PointPicker) {
    let t = &app.theme;
    let now = app.now;
    let width = WIDTH.min(area.width);
    let inner_w = width.saturating_sub(2).max(1);
    let row_w = usize::from(inner_w).saturating_sub(2);
    let onset = incident
        .engine
        .restore_target(picker.step)
        .and_then(|r| r.onset);
    let mut head = vec![Line::from(vec![
        Span::styled(
            format!("{} ({})", sanitize(&picker.db), sanitize(&picker.series)),
            t.title,
        ),
        Span::styled(
            match onset {
                Some(o) => format!(" · onset {} UTC · TAINTED: taken at/after it", hms(o)),
                None => " · no corruption onset recorded".to_string(),
            },
            t.dim,
        ),
    ])];
    match &picker.load {
        Load::Loading => head.push(Line::from(Span::styled("loading restore points…", t.warn))),
        Load::Failed(e) => head.push(Line::from(Span::styled(
            format!(
                "restore points could not be listed: {}. Esc goes on with the playbook's to; \
                 or choose by name or time below",
                sanitize(e)
            ),
            t.danger,
        ))),
        Load::Ready(list) => {
            if !list.backups.is_empty() {
                head.push(Line::from(Span::styled(BACKUP_COLUMNS, t.dim)));
            }
            for p in &list.problems {
                head.push(Line::from(Span::styled(
                    format!("problem: {}", sanitize(p)),
                    t.warn,
                )));
            }
        }
    }
    // What stays under the list: the gaps, the row under the cursor resolved, typing, the
    // refusal, the definition and the keys.
    let mut tail = Vec::new();
    if let Some(p) = picker.list().and_then(|l| l.pitr.as_ref()) {
        for g in &p.gaps {
            tail.push(Line::from(Span::styled(
                format!(
                    "GAP {} .. {}: {} WAL segment(s) missing; no point after its start is reachable from an earlier backup",
                    hms(g.from),
                    g.to.format("%H:%M:%S"),
                    g.missing
                ),
                t.warn,
            )));
        }
    }
    let current = picker.current();
    if let Some(typed) = &picker.typing {
        // The preview follows what is typed: resolved once it reads as a time (after Enter
        // the refusal says it, once, until the text changes).
        let line = match typed.parse::<RestoreTo>() {
            Ok(to) => {
                let (words, ok) = resolved_words(incident, picker, to, now);
                vec![
                    Span::styled("choose ", t.header),
                    Span::styled(format!("{to} "), t.title),
                    Span::styled(words, if ok { t.text } else { t.warn }),
                ]
            }
            Err(_) => vec![Span::styled(
                format!(
                    "type a time as {} (UTC); Enter to check this time",
                    picker.example_time()
                ),
                t.dim,
            )],
        };
        if picker.refused.is_none() {
            tail.push(Line::from(line));
        }
    } else if let Some(why) = current.and_then(|row| picker.unusable(row)) {
        // Said once: as the refusal after Enter, else here.
        if picker.refused.as_ref() != Some(&why) {
            tail.push(Line::from(Span::styled(why, t.warn)));
        }
    } else if let Some(row) = current
        && let Some(to) = picker.choice(row)
    {
        let (words, ok) = resolved_words(incident, picker, to, now);
        let detail = match (row, picker.list()) {
            (Row::Backup(i), Some(l)) => l.backups.get(i).map(|b| {
                format!(
                    " · {} {}{}",
                    sanitize(&b.series),
                    sanitize(&b.name),
                    b.last_verified
                        .as_ref()
                        .map(|v| format!(" · last verified: {}", sanitize(&v.detail)))
                        .unwrap_or_default()
                )
            }),
            _ => None,
        };
        tail.push(Line::from(vec![
            Span::styled("choose ", t.header),
            Span::styled(format!("{to} "), t.title),
            Span::styled(words, if ok { t.text } else { t.warn }),
            Span::styled(detail.unwrap_or_default(), t.dim),
        ]));
    }
    if let Some(typed) = &picker.typing {
        tail.push(Line::from(vec![
            Span::styled("time> ", t.key),
            Span::styled(sanitize(typed), t.title),
            Span::styled("█", t.key),
        ]));
    }
    if let Some(why) = &picker.refused {
        tail.push(Line::from(Span::styled(
            format!("refused: {}", sanitize(why)),
            t.danger,
        )));
    }
    tail.push(Line::from(Span::styled(LOSS_DEFINITION, t.dim)));
    let keys: &[(&str, &str)] = if picker.typing.is_some() {
        &[("Enter", "choose this time"), ("Esc", "back to the list")]
    } else {
        &[
            ("↑↓", "move"),
            ("Enter", "choose & confirm"),
            ("0-9", "type a time"),
            ("Esc", "keep the step's choice"),
        ]
    };
    let mut spans = Vec::new();
    for (k, what) in keys {
        spans.push(Span::styled(*k, t.key));
        spans.push(Span::styled(format!(" {what}  "), t.dim));
    }
    tail.push(Line::from(spans));

    // The list, scrolled to keep the cursor in view.
    let rows = picker.rows();
    let room = usize::from(area.height.saturating_sub(2));
    let fixed = paint::wrapped_height(&head, inner_w) + paint::wrapped_height(&tail, inner_w);
    let visible = rows.len().min(room.saturating_sub(fixed).max(1));
    let selected = picker.selected.min(rows.len().saturating_sub(1));
    let offset = (selected + 1).saturating_sub(visible);
    let mut list = Vec::with_capacity(visible);
    for (i, row) in rows.iter().enumerate().skip(offset).take(visible) {
        let (text, problem) = row_text(incident, picker, *row, now, row_w);
        let marker = if i == selected { "› " } else { "  " };
        let style = if i == selected {
            t.selected
        } else if problem {
            t.warn
        } else {
            Style::default()
        };
        list.push(
            Line::from(vec![
                Span::styled(marker, t.key),
                Span::styled(cut(&text, row_w), t.text),
            ])
            .style(style),
        );
    }
    let height = u16::try_from(
        paint::wrapped_height(&head, inner_w) + list.len() + paint::wrapped_height(&tail, inner_w),
    )
    .unwrap_or(u16::MAX)
    .saturating_add(2)
    .min(area.height);
    let popup = super::centered(area, width, height);
    frame.render_widget(Clear, popup);
    let title = format!(
        "Restore point · step {}{}",
        picker.step + 1,
        if rows.len() > visible {
            format!(
                " · rows {}-{} of {}",
                offset + 1,
                offset + visible,
                rows.len()
            )
        } else {
            String::new()
        }
    );
    let block = super::popup_block(t, title, false).style(t.popup);
    let inner = block.inner(popup);
    frame.render_widget(block, popup);
    let mut lines = head;
    lines.extend(list);
    lines.extend(tail);
    paint::wrapped_lines(frame.buffer_mut(), inner, &lines);
}
