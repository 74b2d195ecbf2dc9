//! `Regions`: one line per region, problems first (DOWN, DEGRADED, UNKNOWN, then HEALTHY; by
//! name within each), headed by the region's verdict. A healthy region is that one line; any
//! other is followed by its details (health, databases, apps, security).
//!
//! ```text
//! ┌ Regions ─────────────────────────────────────────────────────────────────────┐
//! │primary    DEGRADED  primary  ◀ api  us-west-2a ✗  us-west-2b ●  us-west-2c ● │
//! │  health   1/3 fails  1840ms  api.us-west-2.pynomaly.example/health           │
//! │  db       primary  failing-over  primary · us-west-2b · multi-AZ             │
//! │  app      api 2/3 ready                                                      │
//! │  security 180 failed auth/min · unusual access                               │
//! │dr         HEALTHY   DR  us-east-1a ●  us-east-1b ●                           │
//! └──────────────────────────────────────────────────────────────────────────────┘
//! ```
//!
//! The verdict comes first so that no width hides it. When the zones do not fit they shrink to
//! `us-west-2 a ● b ✗ c ●`, then to `a ● b ✗ c ●` without the role. The parts of every detail
//! row are ordered by importance (what is wrong first, static facts last, dim), so a narrow pane
//! clips only the least important ones. The `security` row appears only when there is a signal
//! (failed authentications or unusual access) or was one: after it ends the row keeps its peak
//! rate and when unusual access was last seen (`4 failed auth/min · peak 180/min at 10:21 ·
//! unusual access until 10:24`). Every row is selectable, so the App can scroll
//! through regions taller than the pane.

use ratatui::Frame;
use ratatui::layout::Rect;
use ratatui::text::{Line, Span};

use chrono::{DateTime, Utc};

use super::common::{
    COLUMN_SPACING, Filter, Look, TableParts, Tally, no_match, pane_block, problems_first,
    render_table, text_width, utc_text,
};
use super::{DetailKind, PaneCtx, RowKey};
use crate::env::{Environment, RegionDef, RegionRole};
use crate::telemetry::{
    AppReading, Board, DatabaseReading, DbRole, DbState, ENDPOINT_DOWN_AFTER, EndpointReading,
    FAILED_AUTH_SPIKE_PER_MIN, ReplicationState, Sample, SecurityReading, Severity, Verdict,
};
use crate::ui::paint::Panel;

/// The pane's title, exactly as shown in its border.
pub const TITLE: &str = "Regions";

/// Width of the verdict at the start of a region's heading (`DEGRADED`).
const VERDICT_WIDTH: u16 = 8;

/// Sub-row labels are indented under their region's name.
const LABEL_HEALTH: &str = "  health";
const LABEL_DB: &str = "  db";
const LABEL_APP: &str = "  app";
const LABEL_SECURITY: &str = "  security";

/// One row of the pane.
enum Item<'b> {
    Region {
        name: &'b str,
        def: Option<&'b RegionDef>,
        verdict: Verdict,
    },
    Endpoint(&'b EndpointReading),
    Database(&'b DatabaseReading),
    App(&'b AppReading),
    Security(&'b SecurityReading),
}

impl Item<'_> {
    /// Whether this row is the one `key` names; detail rows carry their region's name.
    fn is(&self, region: &str, key: &RowKey) -> bool {
        match (self, key) {
            (Item::Region { name, .. }, RowKey::Region(k)) => name == k,
            (
                item,
                RowKey::Detail {
                    region: r,
                    kind,
                    name,
                },
            ) if r == region => match (item, kind) {
                (Item::Endpoint(e), DetailKind::Health) => e.url == *name,
                (Item::Database(d), DetailKind::Database) => d.name == *name,
                (Item::App(a), DetailKind::App) => a.name == *name,
                (Item::Security(_), DetailKind::Security) => true,
                _ => false,
            },
            _ => false,
        }
    }

    fn key(&self, region: &str) -> RowKey {
        let detail = |kind, name: &str| RowKey::Detail {
            region: region.to_string(),
            kind,
            name: name.to_string(),
        };
        match self {
            Item::Region { name, .. } => RowKey::Region((*name).to_string()),
            Item::Endpoint(e) => detail(DetailKind::Health, &e.url),
            Item::Database(d) => detail(DetailKind::Database, &d.name),
            Item::App(a) => detail(DetailKind::App, &a.name),
            Item::Security(_) => detail(DetailKind::Security, ""),
        }
    }
}

/// Logical region names: the environment's, then any only seen in readings.
fn region_names<'b>(picture: &'b Sample, env: &'b Environment) -> Vec<&'b str> {
    let mut names: Vec<&str> = env
        .regions
        .iter()
        .map(|r| r.name.get_ref().as_str())
        .collect();
    let seen = picture
        .zones
        .iter()
        .map(|z| z.region.as_str())
        .chain(picture.endpoints.iter().map(|e| e.region.as_str()))
        .chain(picture.databases.iter().map(|d| d.region.as_str()))
        .chain(picture.apps.iter().map(|a| a.region.as_str()))
        .chain(picture.security.iter().map(|s| s.region.as_str()));
    let mut last = "";
    for name in seen {
        // Readings come grouped by region: skip the search for a run of the same name.
        if name != last && !names.contains(&name) {
            names.push(name);
        }
        last = name;
    }
    names
}

/// Whether a security reading carries a signal worth a row: one now, or an alarm seen earlier
/// (a breach's signal stays on screen after the rotation that ended it).
fn has_signal(s: &SecurityReading) -> bool {
    s.failed_auth_per_min > 0 || s.unusual_access || s.memory.alarmed()
}

/// The title's words.
const DOWN: &str = "down";
const DEGRADED: &str = "degraded";

/// Every row of the pane, in order, each with its region's name, and the tally of regions:
/// the single source of truth for `render`, `keys` and `row_count`. Regions the filter keeps
/// (by logical name or provider id) come problems first (DOWN, DEGRADED, UNKNOWN, HEALTHY), then
/// by name; a healthy region is one line, any other is followed by its details.
fn items<'b>(
    board: &'b Board,
    env: &'b Environment,
    filter: &str,
) -> (Vec<(&'b str, Item<'b>)>, Tally) {
    let picture = &board.picture;
    let filter = Filter::new(filter);
    let mut regions: Vec<(&'b str, Option<&'b RegionDef>, Verdict)> = region_names(picture, env)
        .into_iter()
        .map(|name| (name, env.region(name)))
        .filter(|(name, def)| filter.matches([*name, def.map_or("", |d| d.id.as_str())]))
        .map(|(name, def)| (name, def, picture.region_verdict(name)))
        .collect();
    problems_first(&mut regions, |(name, _, verdict)| {
        (verdict.severity(), *name)
    });
    let tally = Tally::count(
        regions.iter().map(|(_, _, verdict)| {
            let word = match verdict {
                Verdict::Down => Some(DOWN),
                Verdict::Degraded => Some(DEGRADED),
                Verdict::Healthy | Verdict::Unknown => None,
            };
            (verdict.severity(), word)
        }),
        &[DOWN, DEGRADED],
    );
    let mut out = Vec::with_capacity(regions.len());
    for (name, def, verdict) in regions {
        out.push((name, Item::Region { name, def, verdict }));
        // A healthy region is one line, unless its security signal alarmed earlier: a breach's
        // peak stays on screen after the rotation that ended it (the checklist asks for it).
        let remembered = picture
            .security
            .iter()
            .any(|s| s.region == name && s.memory.alarmed());
        if verdict == Verdict::Healthy && !remembered {
            continue;
        }
        let here = |region: &str| region == name;
        out.extend(
            picture
                .endpoints
                .iter()
                .filter(|e| here(&e.region))
                .map(|e| (name, Item::Endpoint(e))),
        );
        out.extend(
            picture
                .databases
                .iter()
                .filter(|d| here(&d.region))
                .map(|d| (name, Item::Database(d))),
        );
        out.extend(
            picture
                .apps
                .iter()
                .filter(|a| here(&a.region))
                .map(|a| (name, Item::App(a))),
        );
        out.extend(
            picture
                .security
                .iter()
                .filter(|s| here(&s.region) && has_signal(s))
                .map(|s| (name, Item::Security(s))),
        );
    }
    (out, tally)
}

/// Rows before any filter: a line per healthy region, a heading and its details for any other.
/// Needs the environment because its regions are listed even before any reading names them.
pub fn row_count(board: &Board, env: &Environment) -> usize {
    items(board, env, "").0.len()
}

/// The rows in the order shown, for moving the selection.
pub fn keys(board: &Board, env: &Environment, _now: DateTime<Utc>, filter: &str) -> Vec<RowKey> {
    items(board, env, filter)
        .0
        .iter()
        .map(|(region, item)| item.key(region))
        .collect()
}

/// The problem count as the title shows it (`2 of 20 down or degraded`), `None` when all is
/// well.
pub fn tally_text(board: &Board, env: &Environment, filter: &str) -> Option<String> {
    items(board, env, filter).1.text()
}

/// The selected row's whole text (its label, then every part, the zones in their long form).
pub fn selected_text(ctx: &PaneCtx<'_>) -> Option<String> {
    let (items, _) = items(ctx.board, ctx.env, ctx.filter);
    let (_, item) = ctx
        .selected
        .and_then(|key| items.iter().find(|(region, item)| item.key(region) == *key))
        .or(items.first())?;
    let look = Look::new(ctx.theme, &crate::telemetry::board::Freshness::Fresh);
    let (label, line) = match item {
        Item::Region { name, def, verdict } => (
            *name,
            region_line(ctx, look, name, *def, *verdict, u16::MAX),
        ),
        Item::Endpoint(e) => ("health", endpoint_line(look, e)),
        Item::Database(d) => ("db", database_line(look, d)),
        Item::App(a) => ("app", app_line(look, a)),
        Item::Security(s) => ("security", security_line(look, s)),
    };
    let text: String = line.spans.iter().map(|s| s.content.as_ref()).collect();
    Some(crate::ui::playbook::sanitize(&format!(
        "{label}  {}",
        text.trim_end()
    )))
}

/// Draws the `Regions` pane.
pub fn render(frame: &mut Frame, area: Rect, ctx: &PaneCtx<'_>) {
    let board = ctx.board;
    let freshness = board.freshness(|f| f.regions, ctx.now);
    let look = Look::new(ctx.theme, &freshness);
    let (items, tally) = items(board, ctx.env, ctx.filter);
    let block = pane_block(ctx, TITLE, &tally, &freshness);
    let inner_width = Panel::inner(area).width;

    let label_w = items
        .iter()
        .filter_map(|(_, item)| match item {
            Item::Region { name, .. } => Some(text_width(name)),
            _ => None,
        })
        .fold(text_width(LABEL_SECURITY), u16::max)
        .min(16);
    let detail_w = inner_width.saturating_sub(label_w + COLUMN_SPACING);

    // The selected row; a detail row that is gone (its region healed and folded) falls back to
    // its region's line.
    let selected = ctx
        .selected
        .and_then(|key| {
            items
                .iter()
                .position(|(region, item)| item.is(region, key))
                .or_else(|| match key {
                    RowKey::Detail { region, .. } => items.iter().position(
                        |(_, item)| matches!(item, Item::Region { name, .. } if name == region),
                    ),
                    RowKey::Region(_) | RowKey::Name(_) => None,
                })
        })
        .unwrap_or(0);
    let placeholder = if ctx.filter.trim().is_empty() {
        "no regions configured".to_string()
    } else {
        no_match(ctx.filter)
    };
    render_table(
        frame,
        area,
        ctx,
        TableParts {
            block,
            header: None,
            len: items.len(),
            selected,
            widths: vec![label_w, detail_w],
            placeholder,
        },
        |i| {
            let (label, label_style, detail) = match &items[i].1 {
                Item::Region { name, def, verdict } => {
                    let mut line = region_line(ctx, look, name, *def, *verdict, detail_w);
                    if *verdict == Verdict::Healthy {
                        let room = usize::from(detail_w).saturating_sub(line.width());
                        line.spans.extend(folded_summary(board, name, look, room));
                    }
                    (*name, ctx.theme.header, line)
                }
                Item::Endpoint(e) => (LABEL_HEALTH, look.dim(), endpoint_line(look, e)),
                Item::Database(d) => (LABEL_DB, look.dim(), database_line(look, d)),
                Item::App(a) => (LABEL_APP, look.dim(), app_line(look, a)),
                Item::Security(s) => (LABEL_SECURITY, look.dim(), security_line(look, s)),
            };
            vec![Line::from(Span::styled(label, label_style)), detail]
        },
    )
}

/// What a healthy region's one line says of its folded details, dim, after its zones: the
/// slowest health check, how many databases are available, each app's ready pods (`  41ms  6 dbs
/// available  api 1/1`); only the parts that fit whole in `room` columns, in that order.
fn folded_summary<'b>(
    board: &'b Board,
    region: &str,
    look: Look<'_>,
    room: usize,
) -> Vec<Span<'b>> {
    let picture = &board.picture;
    let mut parts: Vec<String> = Vec::new();
    if let Some(ms) = picture
        .endpoints
        .iter()
        .filter(|e| e.region == region)
        .filter_map(|e| e.latency_ms)
        .max()
    {
        parts.push(format!("{ms}ms"));
    }
    let (dbs, available) = picture
        .databases
        .iter()
        .filter(|d| d.region == region)
        .fold((0, 0), |(n, up), d| {
            (n + 1, up + usize::from(d.state == DbState::Available))
        });
    let noun = if dbs == 1 { "db" } else { "dbs" };
    if dbs == available && dbs > 0 {
        parts.push(format!("{dbs} {noun} available"));
    } else if dbs > 0 {
        parts.push(format!("{available}/{dbs} {noun} available"));
    }
    for a in picture.apps.iter().filter(|a| a.region == region) {
        parts.push(format!("{} {}/{}", a.name, a.ready, a.desired));
    }
    let mut room = room;
    let mut out = Vec::new();
    for part in parts {
        let width = usize::from(GAP_W) + part.chars().count();
        if width > room {
            break;
        }
        room -= width;
        out.push(Span::raw(GAP));
        out.push(Span::styled(part, look.dim()));
    }
    out
}

/// Gap between the parts of a detail line.
const GAP: &str = "  ";
const GAP_W: u16 = 2;

/// Spaces to pad the verdict label to [`VERDICT_WIDTH`].
const PAD: &str = "        ";

/// How a heading shows its zones.
#[derive(Clone, Copy, PartialEq, Eq)]
enum Zones {
    /// `us-west-2a ●  us-west-2b ✗`
    Long,
    /// `us-west-2 a ● b ✗`
    ShortWithId,
    /// `a ● b ✗`, and the role is left out.
    Short,
}

/// The region's heading: its verdict first (always visible), then its role, the DNS records
/// pointing at it, and its zones up or down, in the longest form that fits `width`.
fn region_line<'b>(
    ctx: &PaneCtx<'b>,
    look: Look<'_>,
    name: &str,
    def: Option<&'b RegionDef>,
    verdict: Verdict,
    width: u16,
) -> Line<'b> {
    let picture = &ctx.board.picture;
    let mut spans: Vec<Span<'b>> = Vec::with_capacity(24);
    let label = verdict.label();
    spans.push(Span::styled(label, look.sev(verdict.severity())));
    let pad = usize::from(VERDICT_WIDTH.saturating_sub(text_width(label)));
    spans.push(Span::raw(PAD.get(..pad).unwrap_or("")));

    let role = match def.map(|d| d.role) {
        Some(RegionRole::Primary) => "primary",
        Some(RegionRole::Dr) => "DR",
        None => "?",
    };
    let dns: Vec<&'b str> = picture
        .dns
        .iter()
        .filter(|d| d.target_region == name)
        .map(|d| d.name.as_str())
        .collect();

    // Zones: the environment's, in order, each with its reading; then zones only seen in readings.
    let env_zones: &[String] = def.map_or(&[], |d| d.zones.as_slice());
    let zone_up = |zone: &str| picture.zones.iter().find(|z| z.zone == zone).map(|z| z.up);
    let zones: Vec<(&'b str, Option<bool>)> = env_zones
        .iter()
        .map(|z| (z.as_str(), zone_up(z)))
        .chain(
            picture
                .zones
                .iter()
                .filter(|z| z.region == name && !env_zones.contains(&z.zone))
                .map(|z| (z.zone.as_str(), Some(z.up))),
        )
        .collect();

    // Pick the longest form that fits.
    let id = def
        .map(|d| d.id.as_str())
        .filter(|id| !id.is_empty() && zones.iter().all(|(z, _)| z.starts_with(id)));
    let avail = width.saturating_sub(VERDICT_WIDTH);
    let role_w = GAP_W + text_width(role);
    let dns_w: u16 = dns.iter().map(|n| GAP_W + 2 + text_width(n)).sum();
    let long_w: u16 = zones.iter().map(|(z, _)| GAP_W + text_width(z) + 2).sum();
    let form = match id {
        _ if role_w + dns_w + long_w <= avail => Zones::Long,
        Some(id) => {
            let short_w: u16 = zones
                .iter()
                .map(|(z, _)| 1 + text_width(z).saturating_sub(text_width(id)) + 2)
                .sum();
            if role_w + dns_w + GAP_W + text_width(id) + short_w <= avail {
                Zones::ShortWithId
            } else {
                Zones::Short
            }
        }
        None => Zones::Long,
    };

    if form != Zones::Short {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(role, look.text()));
    }
    // DNS pointing at a dead region is the thing to fix: say so in the critical style.
    let dns_style = if verdict == Verdict::Down {
        look.sev(Severity::Crit)
    } else {
        ctx.theme.title
    };
    for name in dns {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled("◀ ", dns_style));
        spans.push(Span::styled(name, dns_style));
    }
    if form == Zones::ShortWithId {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(id.unwrap_or_default(), look.dim()));
    }
    for (i, (zone, up)) in zones.iter().enumerate() {
        let (sep, shown) = match form {
            Zones::Long => (GAP, *zone),
            Zones::ShortWithId => (" ", zone.get(id.map_or(0, str::len)..).unwrap_or(zone)),
            Zones::Short => (
                if i == 0 { GAP } else { " " },
                zone.get(id.map_or(0, str::len)..).unwrap_or(zone),
            ),
        };
        let (mark, style) = match up {
            Some(true) => ("●", look.sev(Severity::Ok)),
            Some(false) => ("✗", look.sev(Severity::Crit)),
            None => ("?", look.sev(Severity::Unknown)),
        };
        spans.push(Span::raw(sep));
        spans.push(Span::styled(shown, look.text()));
        spans.push(Span::raw(" "));
        spans.push(Span::styled(mark, style));
    }
    Line::from(spans)
}

/// `ok  38ms  host/path`, `2/3 fails  …`, `DOWN (5 fails)  HTTP 503  · error  …`.
fn endpoint_line<'b>(look: Look<'_>, e: &'b EndpointReading) -> Line<'b> {
    let style = look.sev(e.severity());
    let mut spans: Vec<Span<'b>> = Vec::with_capacity(8);
    spans.push(if e.is_down() {
        Span::styled(format!("DOWN ({} fails)", e.consecutive_failures), style)
    } else if e.consecutive_failures > 0 {
        Span::styled(
            format!("{}/{ENDPOINT_DOWN_AFTER} fails", e.consecutive_failures),
            style,
        )
    } else {
        Span::styled("ok", style)
    });
    if let Some(ms) = e.latency_ms {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(format!("{ms}ms"), look.text()));
    }
    if let Some(status) = e.status.filter(|s| !(200..300).contains(s)) {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(format!("HTTP {status}"), style));
    }
    // No answer at all: the typed reason (`connection refused`), as `status` says it.
    if let Some(why) = &e.failure {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(why.short(), style));
    } else if let Some(error) = &e.error {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled(error.as_str(), style));
    }
    let url = e
        .url
        .split_once("://")
        .map_or(e.url.as_str(), |(_, rest)| rest);
    spans.push(Span::raw(GAP));
    spans.push(Span::styled(url, look.dim()));
    Line::from(spans)
}

fn db_state(state: DbState) -> (&'static str, Severity) {
    let severity = match state {
        DbState::Available => Severity::Ok,
        DbState::FailingOver | DbState::Promoting | DbState::Stopped | DbState::ReadOnly => {
            Severity::Warn
        }
        DbState::Unreachable => Severity::Crit,
    };
    (state.label(), severity)
}

/// `primary  available  CORRUPT since 09:30  primary · us-west-2a · multi-AZ`: what is wrong
/// first, the static facts (role, zone) last in the dim style.
fn database_line<'b>(look: Look<'_>, d: &'b DatabaseReading) -> Line<'b> {
    let crit = look.sev(Severity::Crit);
    let mut spans: Vec<Span<'b>> = Vec::with_capacity(16);
    spans.push(Span::styled(d.name.as_str(), look.text()));
    let (state, sev) = db_state(d.state);
    spans.push(Span::raw(GAP));
    spans.push(Span::styled(state, look.sev(sev)));
    // Why it could not be read: `unreachable: authentication refused`.
    if let Some(why) = &d.failure {
        spans.push(Span::styled(format!(": {}", why.short()), look.sev(sev)));
    }
    if d.integrity_ok == Some(false) {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled("CORRUPT", crit));
        if let Some(since) = d.corrupt_since {
            spans.push(Span::styled(" since ", crit));
            spans.push(Span::styled(utc_text(since, false), crit));
        }
    }
    if d.replication
        .as_ref()
        .is_some_and(|r| r.state == ReplicationState::Broken)
    {
        spans.push(Span::raw(GAP));
        spans.push(Span::styled("replication broken", crit));
    }
    spans.push(Span::raw(GAP));
    spans.push(Span::styled(
        match d.role {
            DbRole::Primary => "primary",
            DbRole::Replica => "replica",
            DbRole::Unknown => "role?",
        },
        look.dim(),
    ));
    if let Some(az) = &d.az {
        spans.push(Span::styled(" · ", look.dim()));
        spans.push(Span::styled(az.as_str(), look.dim()));
    }
    if d.multi_az {
        spans.push(Span::styled(" · multi-AZ", look.dim()));
    }
    Line::from(spans)
}

/// `api 3/3 ready`.
fn app_line<'b>(look: Look<'_>, a: &'b AppReading) -> Line<'b> {
    let sev = if a.ready >= a.desired {
        Severity::Ok
    } else if a.ready == 0 {
        Severity::Crit
    } else {
        Severity::Warn
    };
    Line::from(vec![
        Span::styled(a.name.as_str(), look.text()),
        Span::raw(" "),
        Span::styled(format!("{}/{} ready", a.ready, a.desired), look.sev(sev)),
    ])
}

/// `180 failed auth/min · unusual access`.
fn security_line<'b>(look: Look<'_>, s: &'b SecurityReading) -> Line<'b> {
    let auth_sev = if s.failed_auth_per_min >= FAILED_AUTH_SPIKE_PER_MIN {
        Severity::Crit
    } else if s.failed_auth_per_min > 0 {
        Severity::Warn
    } else {
        Severity::Ok
    };
    let mut spans: Vec<Span<'b>> = vec![Span::styled(
        format!("{} failed auth/min", s.failed_auth_per_min),
        look.sev(auth_sev),
    )];
    if s.unusual_access {
        spans.push(Span::styled(" · ", look.dim()));
        spans.push(Span::styled("unusual access", look.sev(Severity::Crit)));
    }
    // After the signal ended: what it was, so it can still be noted (peak and last seen).
    let m = &s.memory;
    if !s.alarming() && m.alarmed() {
        if let Some(at) = m.peak_at {
            spans.push(Span::styled(" · ", look.dim()));
            spans.push(Span::styled(
                format!(
                    "peak {}/min at {}",
                    m.peak_failed_auth_per_min,
                    utc_text(at, false)
                ),
                look.sev(Severity::Warn),
            ));
        }
        if let Some(at) = m.unusual_access_last_seen {
            spans.push(Span::styled(" · ", look.dim()));
            spans.push(Span::styled(
                format!("unusual access until {}", utc_text(at, false)),
                look.sev(Severity::Warn),
            ));
        }
    }
    Line::from(spans)
}
