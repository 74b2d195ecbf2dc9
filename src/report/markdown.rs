//! The postmortem as GitHub-flavoured markdown.
//!
//! Every value from the journal (titles, names, notes, reasons, output, the operator) reaches the
//! text through one of the helpers [`cell`], [`inline`], [`code`], [`id`], [`mermaid_text`] or
//! [`block`]: bounded ([`text::clip`]) and sanitised ([`text::visible`]), so the markdown stays
//! valid and a hostile journal cannot drive the terminal that prints it. The output gate
//! ([`text::gate`]) catches a value passed without one on its way out.

use std::fmt::Write as _;

use chrono::{DateTime, Utc};

use super::{Postmortem, State, StepReport, Verdict};
use crate::duration::Dur;
use crate::playbook::projection::NotApplicableItem;
use crate::playbook::projection::{ReminderOutcome, span, speed_label};
use crate::playbook::{Grade, Timing};
use crate::text::{self, BLOCK_MAX_CHARS};

/// The postmortem for people: summary, criteria, steps, a mermaid gantt chart, decisions with
/// their evidence, notes, output excerpts and the timeline.
pub fn markdown(pm: &Postmortem) -> String {
    let mut out = String::new();
    // Writing to a String cannot fail.
    let _ = write_report(&mut out, pm);
    out
}

fn write_report(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    writeln!(out, "# Postmortem: {}", inline(&id(&pm.playbook.title)))?;
    writeln!(out)?;
    writeln!(
        out,
        "**{}** · {} of `{}` · {}",
        verdict_banner(pm),
        pm.mode,
        id(&pm.playbook.id),
        state_line(pm)
    )?;
    writeln!(out)?;
    facts(out, pm)?;
    summary(out, pm)?;
    resumes(out, pm)?;
    pace(out, pm)?;
    reminders(out, pm)?;
    steps(out, pm)?;
    gantt(out, pm)?;
    decisions(out, pm)?;
    notes(out, pm)?;
    approvals(out, pm)?;
    output(out, pm)?;
    timeline(out, pm)?;
    Ok(())
}

fn verdict_banner(pm: &Postmortem) -> &'static str {
    match pm.verdict {
        Verdict::Pass => "PASS",
        Verdict::Fail => "FAIL",
        Verdict::Aborted => "ABORTED",
        Verdict::InProgress => "IN PROGRESS",
        Verdict::NotDeclared => "NOT DECLARED",
    }
}

fn state_line(pm: &Postmortem) -> String {
    match pm.state {
        State::Resolved => "resolved".into(),
        State::Aborted => format!(
            "aborted: {}",
            inline(pm.aborted_reason.as_deref().unwrap_or(""))
        ),
        State::InProgress => format!(
            "no end recorded: still running, or the console stopped without ending it (last \
             event {})",
            pm.last_event_at.map_or_else(|| "none".into(), stamp)
        ),
        State::NotDeclared => "the incident was never declared: its clock never started".into(),
    }
}

fn stamp(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S UTC").to_string()
}

/// A measured span, printed one way everywhere (`2m00s`).
fn dur(secs: u64) -> String {
    span(secs)
}

/// An objective as written (`30m`).
fn objective(secs: u64) -> String {
    Dur::from_secs(secs).to_string()
}

/// ` (simulated)` after a time when the drill's times are the simulator's.
fn sim_label(pm: &Postmortem) -> &'static str {
    if pm.simulated { " (simulated)" } else { "" }
}

/// `+1:05`, `-0:30`, `+1:02:03` from the declaration.
fn offset(secs: i64) -> String {
    let sign = if secs < 0 { '-' } else { '+' };
    let s = secs.unsigned_abs();
    if s >= 3600 {
        format!("{sign}{}:{:02}:{:02}", s / 3600, (s % 3600) / 60, s % 60)
    } else {
        format!("{sign}{}:{:02}", s / 60, s % 60)
    }
}

/// `t`'s offset from `d` as the two times printed (whole seconds) say: 20:42:38.9 to 20:45:58.2
/// reads `+3:20`, as 20:42:38 to 20:45:58 does (the exact difference, truncated, read `+3:19`).
fn offset_between(t: DateTime<Utc>, d: DateTime<Utc>) -> String {
    offset(t.timestamp() - d.timestamp())
}

/// Text for a table cell or a line: no pipes, no line breaks, bounded, control characters
/// visible.
fn cell(s: &str) -> String {
    let s = text::clip(s, BLOCK_MAX_CHARS);
    text::visible(
        &s.replace('|', "\\|")
            .replace("\r\n", "<br>")
            .replace('\n', "<br>"),
    )
    .into_owned()
}

/// Text for a line outside tables: one line, bounded, control characters visible.
fn inline(s: &str) -> String {
    let s = text::clip(s, BLOCK_MAX_CHARS);
    text::visible(&s.replace("\r\n", " ").replace('\n', " ")).into_owned()
}

/// A name or an id (a step, a playbook, a mode): one short line ([`text::field`]).
fn id(s: &str) -> String {
    text::field(s).into_owned()
}

/// Lines of text (a note, output lines), bounded; each line's control characters visible.
fn block(s: &str) -> String {
    text::clip(s, BLOCK_MAX_CHARS)
        .split('\n')
        .map(|l| text::visible(l.strip_suffix('\r').unwrap_or(l)).into_owned())
        .collect::<Vec<_>>()
        .join("\n")
}

/// An inline code span that survives backticks in `s`; bounded, control characters visible.
fn code(s: &str) -> String {
    let s = &*text::visible(&text::clip(s, BLOCK_MAX_CHARS)).into_owned();
    let longest = s.split(|c| c != '`').map(str::len).max().unwrap_or(0);
    let ticks = "`".repeat(longest + 1);
    let pad = if s.starts_with('`') || s.ends_with('`') {
        " "
    } else {
        ""
    };
    format!("{ticks}{pad}{s}{pad}{ticks}")
}

fn grade(g: Grade) -> &'static str {
    match g {
        Grade::Pass => "pass",
        Grade::Fail => "**FAIL**",
        Grade::NotApplicable => "n/a",
    }
}

fn met(m: Option<bool>) -> &'static str {
    match m {
        Some(true) => "pass",
        Some(false) => "**FAIL**",
        None => "—",
    }
}

fn timing(t: Option<Timing>) -> &'static str {
    match t {
        Some(Timing::OnTime) => "on time",
        Some(Timing::AtRisk) => "at risk",
        Some(Timing::Over) => "**over**",
        None => "—",
    }
}

fn facts(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    writeln!(out, "| | |")?;
    writeln!(out, "|---|---|")?;
    writeln!(out, "| Scenario | {} |", cell(&pm.playbook.scenario))?;
    let mut playbook = format!(
        "`{}` (content hash {}",
        id(&pm.playbook.id),
        id(&pm.playbook.hash)
    );
    if let Some(p) = &pm.playbook.path {
        let _ = write!(playbook, ", {}", code(p));
    }
    playbook.push(')');
    writeln!(out, "| Playbook | {} |", cell(&playbook))?;
    let mut mode = pm.mode.to_string();
    if pm.read_only {
        mode.push_str(", read-only");
    }
    match (pm.seed, pm.speed) {
        (Some(seed), Some(speed)) => {
            let _ = write!(mode, " (simulator seed {seed}, speed {speed}x)");
        }
        (Some(seed), None) => {
            let _ = write!(mode, " (simulator seed {seed})");
        }
        _ => {}
    }
    writeln!(out, "| Mode | {} |", cell(&mode))?;
    writeln!(out, "| Environment | {} |", cell(&pm.environment))?;
    writeln!(out, "| Operator | {} |", cell(&pm.operator))?;
    let real = match (pm.real.started_at, pm.real.ended_at) {
        (Some(a), Some(b)) => format!(
            "{} to {} ({}, wall clock{})",
            stamp(a),
            stamp(b),
            dur(pm.real.duration_secs.unwrap_or(0)),
            match pm.pauses.iter().map(|p| p.wall_secs).sum::<u64>() {
                0 => String::new(),
                paused => format!(", of which {} paused", dur(paused)),
            }
        ),
        _ if pm.simulated => "not recorded: this (v1) journal holds simulated times only".into(),
        _ => "no event recorded".into(),
    };
    writeln!(out, "| Real date and duration | {real} |")?;
    writeln!(
        out,
        "| Journal started | {} (wall clock) |",
        stamp(pm.started_at)
    )?;
    let label = sim_label(pm);
    let ms = &pm.milestones;
    if let Some(f) = &ms.fault {
        writeln!(
            out,
            "| Fault injected | {}{label} ({}) |",
            stamp(f.at),
            cell(&f.fault)
        )?;
    }
    let disrupted = match &ms.disrupted {
        Some(d) => {
            let mut text = format!("{}{label}: {}", stamp(d.at), d.evidence);
            if let Some(why) = &d.reason {
                let _ = write!(
                    text,
                    " (set by {}: {why})",
                    d.by.as_deref().unwrap_or("the commander")
                );
            }
            text
        }
        None => "not recorded".into(),
    };
    writeln!(out, "| Disrupted | {} |", cell(&disrupted))?;
    let detected = ms.detected.as_ref().map_or_else(
        || "no alarm-level reading recorded".into(),
        |d| format!("{}{label}: {}", stamp(d.at), d.evidence),
    );
    writeln!(out, "| Detected | {} |", cell(&detected))?;
    writeln!(
        out,
        "| Declared | {} |",
        pm.declared_at
            .map_or_else(|| "never".into(), |t| format!("{}{label}", stamp(t)))
    )?;
    let restored = ms.service_restored.as_ref().map_or_else(
        || "not recorded".into(),
        |r| format!("{}{label} (step `{}`)", stamp(r.at), r.step),
    );
    writeln!(out, "| Service restored | {} |", cell(&restored))?;
    let ended = match (pm.ended_at, pm.state) {
        (Some(t), state) => format!("{}{label} ({})", stamp(t), state.label()),
        (None, state) => state.label().to_string(),
    };
    writeln!(out, "| Ended | {ended} |")?;
    if !pm.resumes.is_empty() {
        writeln!(
            out,
            "| Stops and resumes | {} (see below) |",
            pm.resumes.len()
        )?;
    }
    if let Some(pace) = &pm.pace {
        writeln!(
            out,
            "| Clock | {} (paused time counts toward no figure; see below) |",
            cell(pace)
        )?;
    }
    writeln!(out, "| Events | {} |", pm.events)?;
    if let Some(t) = &pm.torn_tail {
        writeln!(
            out,
            "| Torn last line | line {} ({} bytes) ignored: cut short by a crash mid-write |",
            t.line, t.bytes
        )?;
    }
    writeln!(out)
}

fn summary(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    writeln!(out, "## Summary")?;
    writeln!(out)?;
    if pm.simulated {
        writeln!(
            out,
            "Figures are measured in the drill's simulated time{}.",
            pm.speed
                .map(|s| format!(" (the simulator ran at {s}x)"))
                .unwrap_or_default()
        )?;
        writeln!(out)?;
    }
    writeln!(
        out,
        "| Measure | Achieved | Objective | Result | Definition |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for f in &pm.figures {
        let (objective_text, result) = match f.name.as_str() {
            "RTO achieved" => (objective(pm.rto.objective_secs), met(pm.rto.met)),
            "RPO achieved" => (objective(pm.rpo.objective_secs), met(pm.rpo.met)),
            _ => ("—".to_string(), "—"),
        };
        writeln!(
            out,
            "| {} | {} | {objective_text} | {result} | {} |",
            cell(&f.name),
            cell(&f.value),
            cell(&f.definition)
        )?;
    }
    writeln!(
        out,
        "| Steps over target | {} of {} | — | — | steps that ran past their target time |",
        pm.steps_over_target,
        pm.steps.len()
    )?;
    writeln!(out)?;
    if let Some(r) = &pm.restore_point {
        writeln!(out, "### Restore point")?;
        writeln!(out)?;
        let loss = match (r.loss_secs, r.onset) {
            (Some(l), Some(o)) => format!(
                "data lost {} = corruption onset {} minus restore point (the good writes between them; writes after the onset are suspect, not lost good data)",
                crate::duration::rpo_span(l),
                o.format("%Y-%m-%d %H:%M:%S UTC")
            ),
            _ => "data lost unknown: no corruption onset was recorded".to_string(),
        };
        writeln!(
            out,
            "Restored to **{}** ({}), chosen as `{}` by {} ({}) when step `{}` was confirmed at {}; from the backup taken {}. {loss}.",
            r.point.format("%Y-%m-%d %H:%M:%S UTC"),
            cell(&r.basis),
            cell(&r.choice),
            cell(&r.by),
            r.origin(),
            cell(&r.step),
            r.at.format("%Y-%m-%d %H:%M:%S UTC"),
            r.backup_at.format("%Y-%m-%d %H:%M:%S UTC"),
        )?;
        writeln!(out)?;
    }
    writeln!(out, "### Drill success criteria")?;
    writeln!(out)?;
    writeln!(out, "| Criterion | Result | Detail |")?;
    writeln!(out, "|---|---|---|")?;
    for c in &pm.criteria {
        writeln!(
            out,
            "| {} | {} | {} |",
            cell(&c.name),
            grade(c.verdict),
            cell(&c.detail)
        )?;
    }
    writeln!(out)?;
    let failed: Vec<&str> = pm
        .criteria
        .iter()
        .filter(|c| c.verdict == Grade::Fail)
        .map(|c| c.name.as_str())
        .collect();
    match pm.verdict {
        Verdict::Pass => writeln!(out, "**Result: PASS**: every criterion is met.")?,
        Verdict::Fail => writeln!(out, "**Result: FAIL**: {}.", failed.join("; "))?,
        Verdict::Aborted => writeln!(
            out,
            "**Result: ABORTED** ({}): the drill criteria are not met.",
            inline(pm.aborted_reason.as_deref().unwrap_or(""))
        )?,
        Verdict::InProgress => writeln!(
            out,
            "**Result: IN PROGRESS**: no end is recorded, so nothing is final; the criteria \
             above are as of the last event."
        )?,
        Verdict::NotDeclared => writeln!(
            out,
            "**Result: NOT DECLARED**: the incident clock never started."
        )?,
    }
    if let Some(recorded) = pm.recorded_passed {
        if recorded != pm.passed {
            writeln!(
                out,
                "\nNote: the console recorded the drill as {} when it resolved; this report, \
                 recomputed from the journal, says {}.",
                if recorded { "passed" } else { "failed" },
                if pm.passed { "passed" } else { "failed" }
            )?;
        }
    }
    writeln!(out)
}

fn resumes(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.resumes.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Stops and resumes")?;
    writeln!(out)?;
    writeln!(
        out,
        "The console stopped and was resumed {} time(s); the record continues across each gap. \
         How it stopped is what the journal says (`console_closed`); a stop without that \
         record was a crash, a power loss or a kill that left no word.",
        pm.resumes.len()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| Stopped | Resumed (wall clock) | Gap | Host | Operator | Pid |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|")?;
    for r in &pm.resumes {
        let stopped = match &r.stopped {
            Some(s) => match &s.signal {
                Some(signal) => format!("ended by {} at {}", cell(signal), stamp(s.wall)),
                None => format!("closed by {} at {}", cell(&s.by), stamp(s.wall)),
            },
            None => "no record: a crash or a kill".to_string(),
        };
        writeln!(
            out,
            "| {stopped} | {} | {} | {} | {} | {} |",
            stamp(r.wall),
            dur(r.gap_secs),
            cell(&r.host),
            cell(&r.operator),
            r.pid
        )?;
    }
    writeln!(out)
}

/// Every reminder of the comms cadence done or missed.
fn reminders(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.reminders.is_empty() {
        return Ok(());
    }
    let done = pm
        .reminders
        .iter()
        .filter(|r| matches!(r.outcome, ReminderOutcome::Done { .. }))
        .count();
    let missed: u32 = pm
        .reminders
        .iter()
        .map(|r| match r.outcome {
            ReminderOutcome::Missed { missed } => missed,
            ReminderOutcome::Done { .. } => 0,
        })
        .sum();
    writeln!(out, "## Comms reminders")?;
    writeln!(out)?;
    writeln!(
        out,
        "{done} done, {missed} missed. A reminder falls due every period from the declaration, \
         in {} (paused time not counted); one not done before the next falls due is missed.",
        if pm.simulated {
            "simulated time"
        } else {
            "wall-clock time"
        }
    )?;
    writeln!(out)?;
    writeln!(out, "| Reminder | Occurrence | Due | Outcome |")?;
    writeln!(out, "|---|---|---|---|")?;
    for r in &pm.reminders {
        let outcome = match r.outcome {
            ReminderOutcome::Done { late_secs: 0 } => "done on time".to_string(),
            ReminderOutcome::Done { late_secs } => format!("done {} late", dur(late_secs)),
            ReminderOutcome::Missed { missed: 1 } => "missed".to_string(),
            ReminderOutcome::Missed { missed } => format!("missed ({missed} in a row)"),
        };
        writeln!(
            out,
            "| {} | {} | {} | {} |",
            cell(&r.text),
            r.occurrence,
            stamp(r.due),
            outcome
        )?;
    }
    writeln!(out)
}

/// Every pause and fast-forward of the simulated clock.
fn pace(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.pauses.is_empty() && pm.fast_forwards.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Pauses and fast-forwards")?;
    writeln!(out)?;
    writeln!(
        out,
        "{}. A pause holds the simulated clock still: the step timers and the RTO clock stand \
         still with it, so paused time counts toward no figure. A fast-forward runs a machine \
         wait faster: its simulated time counts as usual; only wall-clock time was saved.",
        pm.pace.as_deref().unwrap_or_default()
    )?;
    writeln!(out)?;
    writeln!(
        out,
        "| What | Simulated time | Wall clock | Lasted | Ended |"
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    let last_wall = pm.real.ended_at.unwrap_or(pm.started_at);
    let last_sim = pm.last_event_at.unwrap_or(pm.started_at);
    let mut rows: Vec<(DateTime<Utc>, String)> = Vec::new();
    for p in &pm.pauses {
        rows.push((
            p.wall,
            format!(
                "| paused | {} | {} | {} (wall clock) | {} |",
                stamp(p.at),
                stamp(p.wall),
                dur(p.wall_secs),
                if p.open {
                    "still paused at the last event"
                } else {
                    "resumed"
                }
            ),
        ));
    }
    for f in &pm.fast_forwards {
        rows.push((
            f.wall,
            format!(
                "| fast-forward {}{} -> {} | {} | {} | {} simulated in {} (wall clock) | {} |",
                f.step
                    .as_deref()
                    .map(|s| format!("`{}` ", cell(s)))
                    .unwrap_or_default(),
                speed_label(f.from),
                speed_label(f.to),
                stamp(f.at),
                stamp(f.wall),
                dur(f.session_secs(last_sim)),
                dur(f.wall_secs(last_wall)),
                f.ended
                    .map_or("still fast-forwarding at the last event", |r| r.describe())
            ),
        ));
    }
    rows.sort_by_key(|(wall, _)| *wall);
    for (_, row) in rows {
        writeln!(out, "{row}")?;
    }
    writeln!(out)
}

fn step_actual(s: &StepReport) -> String {
    match s.actual_secs {
        Some(a) if s.finished_at.is_some() => dur(a),
        Some(a) => format!("{} so far", dur(a)),
        None => "—".into(),
    }
}

fn steps(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    writeln!(out, "## Steps: target against actual")?;
    writeln!(out)?;
    if pm.steps.is_empty() {
        writeln!(out, "No step was recorded.")?;
        return writeln!(out);
    }
    writeln!(
        out,
        "| # | Step | Target | Actual | Timing | Status | Detail |"
    )?;
    writeln!(out, "|---|---|---|---|---|---|---|")?;
    for (i, s) in pm.steps.iter().enumerate() {
        let ended = matches!(pm.state, State::Resolved | State::Aborted);
        let mut status = match s.status.as_str() {
            "failed" => "**failed**".to_string(),
            "pending" if ended => "not reached".to_string(),
            other => other.to_string(),
        };
        if s.attempts > 1 {
            let _ = write!(status, " ({} attempts)", s.attempts);
        }
        if s.verified {
            status.push_str(", verified");
        }
        let detail = s.reason.as_deref().or(s.detail.as_deref()).unwrap_or("");
        writeln!(
            out,
            "| {} | {} (`{}`) | {} | {} | {} | {} | {} |",
            i + 1,
            cell(&id(&s.title)),
            id(&s.id),
            objective(s.target_secs),
            step_actual(s),
            timing(s.timing),
            status,
            cell(detail)
        )?;
    }
    writeln!(out)?;
    let skipped: Vec<&StepReport> = pm.steps.iter().filter(|s| s.status == "skipped").collect();
    if !skipped.is_empty() {
        writeln!(out, "Skipped:")?;
        writeln!(out)?;
        for s in skipped {
            writeln!(
                out,
                "- `{}` {}: {}",
                id(&s.id),
                inline(&id(&s.title)),
                inline(s.reason.as_deref().unwrap_or("no reason recorded"))
            )?;
        }
        writeln!(out)?;
    }
    let not_applicable: Vec<(&StepReport, &NotApplicableItem)> = pm
        .steps
        .iter()
        .flat_map(|s| s.not_applicable.iter().map(move |n| (s, n)))
        .collect();
    if !not_applicable.is_empty() {
        writeln!(out, "Checklist items not applicable:")?;
        writeln!(out)?;
        for (s, n) in not_applicable {
            writeln!(
                out,
                "- `{}` [n/a] {} — {}",
                id(&s.id),
                inline(&n.text),
                inline(&n.reason)
            )?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// Text mermaid accepts in a task name or title: `:`, `#` and `;` have meanings there. Bounded,
/// control characters visible.
fn mermaid_text(s: &str) -> String {
    let cleaned: String = text::field(&s.replace(['\n', '\r'], " "))
        .chars()
        .map(|c| match c {
            ':' | ';' | '#' | '\n' | '\r' | '`' | '"' | '<' | '>' | '{' | '}' => ' ',
            c => c,
        })
        .collect();
    let words: Vec<&str> = cleaned.split_whitespace().collect();
    if words.is_empty() {
        "step".into()
    } else {
        words.join(" ")
    }
}

fn gantt_time(t: DateTime<Utc>) -> String {
    t.format("%Y-%m-%d %H:%M:%S").to_string()
}

fn gantt(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    let end_of_journal = pm.ended_at.or(pm.last_event_at);
    let bars: Vec<(&StepReport, DateTime<Utc>, DateTime<Utc>)> = pm
        .steps
        .iter()
        .filter_map(|s| {
            let start = s.started_at?;
            let end = s.finished_at.or(end_of_journal)?;
            // A bar of zero length is not drawn; one second keeps every started step visible.
            let end = end.max(start + chrono::TimeDelta::seconds(1));
            Some((s, start, end))
        })
        .collect();
    if bars.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Gantt")?;
    writeln!(out)?;
    writeln!(out, "```mermaid")?;
    writeln!(out, "gantt")?;
    writeln!(
        out,
        "    title {} ({}, {}UTC)",
        mermaid_text(&pm.playbook.title),
        pm.mode,
        if pm.simulated { "simulated " } else { "" }
    )?;
    writeln!(out, "    dateFormat YYYY-MM-DD HH:mm:ss")?;
    writeln!(out, "    axisFormat %H:%M")?;
    let ms = &pm.milestones;
    if let Some(d) = &ms.disrupted {
        let mut rows = Vec::new();
        if let Some(t) = ms.detected.as_ref().map(|t| t.at).filter(|t| *t > d.at) {
            rows.push(("Disrupted to detected", "detect", t));
        }
        if let Some(t) = ms.declared.filter(|t| *t > d.at) {
            rows.push(("Disrupted to declared", "declare", t));
        }
        if let Some(t) = ms
            .service_restored
            .as_ref()
            .map(|r| r.at)
            .filter(|t| *t > d.at)
        {
            rows.push(("Outage (RTO achieved)", "outage", t));
        }
        if !rows.is_empty() {
            writeln!(out, "    section Outage")?;
            for (name, id, end) in rows {
                writeln!(
                    out,
                    "    {name} :crit, {id}, {}, {}",
                    gantt_time(d.at),
                    gantt_time(end)
                )?;
            }
        }
    }
    writeln!(out, "    section Steps")?;
    for (i, (s, start, end)) in bars.iter().enumerate() {
        let tag = match s.status.as_str() {
            "done" => "done, ",
            "failed" => "crit, ",
            "skipped" => "done, ",
            _ if pm.state == State::InProgress => "active, ",
            _ => "crit, ",
        };
        let mut name = mermaid_text(&s.title);
        if s.status == "skipped" {
            name.push_str(" (skipped)");
        } else if s.status == "failed" {
            name.push_str(" (failed)");
        }
        writeln!(
            out,
            "    {name} :{tag}s{}, {}, {}",
            i + 1,
            gantt_time(*start),
            gantt_time(*end)
        )?;
    }
    writeln!(out, "```")?;
    writeln!(out)
}

/// `03:15:10` (with the date when it is not the declaration's day), and `+2:00` from it.
fn when(pm: &Postmortem, t: DateTime<Utc>) -> (String, String) {
    let base = pm.declared_at.unwrap_or(pm.started_at);
    let time = if t.date_naive() == base.date_naive() {
        t.format("%H:%M:%S").to_string()
    } else {
        t.format("%Y-%m-%d %H:%M:%S").to_string()
    };
    let off = pm
        .declared_at
        .map(|d| offset_between(t, d))
        .unwrap_or_default();
    (time, off)
}

fn decisions(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.decisions.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Decisions and the evidence at each confirmation")?;
    writeln!(out)?;
    for d in &pm.decisions {
        let (time, off) = when(pm, d.at);
        let attempt = if d.attempt > 1 {
            format!(", attempt {}", d.attempt)
        } else {
            String::new()
        };
        writeln!(
            out,
            "- **{time}** ({off}) `{}`{attempt}: {}",
            id(&d.step),
            code(&d.command)
        )?;
        if d.destructive {
            match &d.typed {
                Some(t) => writeln!(out, "  - destructive: confirmed by typing {}", code(t))?,
                None => writeln!(out, "  - destructive")?,
            }
        }
        let seen = match d.evidence.sample_at {
            Some(at) => format!("telemetry of {}", when(pm, at).0),
            None => "no telemetry".into(),
        };
        writeln!(out, "  - evidence ({seen}): {}", inline(&d.summary))?;
    }
    writeln!(out)
}

/// The two-person rule: who armed each step, who approved it, when, on which evidence, and
/// both signatures (check them with `ssh-keygen -Y verify`, README "Running a war room").
fn approvals(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.approvals.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Approvals (two-person rule)")?;
    writeln!(out)?;
    let signature = |out: &mut String, signed: &str, sig: &str| -> std::fmt::Result {
        writeln!(out, "\n    ```text\n    {}\n    ```", block(signed))?;
        writeln!(
            out,
            "\n    ```text\n    {}\n    ```",
            block(sig.trim_end()).replace('\n', "\n    ")
        )
    };
    for a in &pm.approvals {
        let (time, _) = when(pm, a.armed_at);
        writeln!(
            out,
            "- **{time}** step {} (attempt {}) armed by {} (key {}): `{}` on {}; needs {} \
             approval(s); evidence: {}",
            text::field(&a.step),
            a.attempt,
            text::field(&a.armed_by),
            text::field(&a.armed_key),
            text::field(&a.command),
            text::field(&a.resource),
            a.needed,
            text::field(&a.evidence)
        )?;
        signature(out, &a.signed, &a.signature)?;
        if a.approvals.is_empty() {
            writeln!(out, "  - not approved")?;
        }
        for by in &a.approvals {
            let (time, _) = when(pm, by.at);
            writeln!(
                out,
                "  - **{time}** approved by {} as {} (key {}, request {})",
                text::field(&by.principal),
                text::field(&by.role),
                text::field(&by.key),
                text::field(&by.request)
            )?;
            signature(out, &by.signed, &by.signature)?;
        }
    }
    writeln!(out)
}

fn notes(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.notes.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Notes")?;
    writeln!(out)?;
    for n in &pm.notes {
        let (time, off) = when(pm, n.at);
        let off = if off.is_empty() {
            String::new()
        } else {
            format!(" ({off})")
        };
        writeln!(
            out,
            "- **{time}**{off}: {}",
            block(&n.text).replace('\n', "\n  ")
        )?;
        if let Some(by) = &n.signed {
            writeln!(
                out,
                "  - {} signed by {} as {} (key {}, request {}, at sequence {})",
                if by.milestone { "milestone" } else { "note" },
                text::field(&by.principal),
                text::field(&by.role),
                text::field(&by.key),
                text::field(&by.request),
                by.sequence
            )?;
            writeln!(out, "\n    ```text\n    {}\n    ```", block(&by.signed))?;
            writeln!(
                out,
                "\n    ```text\n    {}\n    ```",
                block(by.signature.trim_end()).replace('\n', "\n    ")
            )?;
        }
    }
    writeln!(out)
}

fn output(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    if pm.output.is_empty() {
        return Ok(());
    }
    writeln!(out, "## Output excerpts")?;
    writeln!(out)?;
    for o in &pm.output {
        let shown = o.lines.len();
        let lines: Vec<String> = o.lines.iter().map(|l| block(l)).collect();
        let what = if shown < o.recorded {
            format!("the last {shown} of {} lines recorded", o.recorded)
        } else {
            format!("{} line(s)", o.recorded)
        };
        writeln!(out, "`{}`, attempt {} ({what}):", id(&o.step), o.attempt)?;
        writeln!(out)?;
        let longest = lines
            .iter()
            .flat_map(|l| l.split(|c| c != '`'))
            .map(str::len)
            .max()
            .unwrap_or(0);
        let fence = "`".repeat(longest.max(2) + 1);
        writeln!(out, "{fence}text")?;
        for l in &lines {
            writeln!(out, "{l}")?;
        }
        writeln!(out, "{fence}")?;
        writeln!(out)?;
    }
    Ok(())
}

fn timeline(out: &mut String, pm: &Postmortem) -> std::fmt::Result {
    writeln!(out, "## Timeline")?;
    writeln!(out)?;
    if pm.timeline.is_empty() {
        return writeln!(out, "No event was recorded.");
    }
    writeln!(
        out,
        "| Time ({}UTC) | T | Event | Step | Detail |",
        if pm.simulated { "simulated " } else { "" }
    )?;
    writeln!(out, "|---|---|---|---|---|")?;
    for row in &pm.timeline {
        let (time, off) = when(pm, row.at);
        writeln!(
            out,
            "| {time} | {off} | {} | {} | {} |",
            row.kind.replace('_', " "),
            row.step
                .as_deref()
                .map(|s| format!("`{}`", id(s)))
                .unwrap_or_default(),
            cell(&row.detail)
        )?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::offset_between;
    use chrono::{DateTime, Utc};

    fn at(s: &str) -> DateTime<Utc> {
        s.parse().expect("time")
    }

    /// A newcomer read `+3:19` beside 20:45:58 for a declaration at 20:42:38.
    #[test]
    fn offsets_agree_with_the_times_printed() {
        let declared = at("2026-11-26T20:42:38.900Z");
        assert_eq!(
            offset_between(at("2026-11-26T20:45:58.200Z"), declared),
            "+3:20"
        );
        assert_eq!(
            offset_between(at("2026-11-26T20:42:38.950Z"), declared),
            "+0:00"
        );
        assert_eq!(
            offset_between(at("2026-11-26T20:42:37.990Z"), declared),
            "-0:01"
        );
        assert_eq!(
            offset_between(at("2026-11-26T21:42:39.000Z"), declared),
            "+1:00:01"
        );
    }
}
