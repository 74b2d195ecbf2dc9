//! The live panes: pure render functions of a [`PaneCtx`], one module per pane.
//!
//! Each pane module offers the same items:
//!
//! - `TITLE`: the pane's title, exactly as shown in its border;
//! - `render(frame, area, ctx)`: draws the pane into `area` (any size, including 0x0);
//! - `row_count(..)`: how many rows there are before any filter (for the layout);
//! - `selected_text(ctx)`: the selected row's whole text, shown under the panes while one has
//!   focus (a narrow pane cuts its rows);
//! - `keys(board, env, now or rpo, filter)`: the rows in the order shown, as [`RowKey`]s, for the App to
//!   move the selection along.
//!
//! **Fleets.** Rows are ordered problems first: the most severe first (critical, warning,
//! unknown, fine), then by name, so a failed resource among hundreds is on the first screen. The
//! title counts the problems among the rows shown (`Replica lag · 10 of 100 broken`; nothing
//! when all is well). A filter (`/` in the console) keeps the rows whose name or region contains
//! its text, case-insensitively, and is shown in the title (`· /eu-west`). The selection is a
//! [`RowKey`], not a position, so it stays on its resource when rows re-sort. Only the rows that
//! fit are formatted: a frame costs the same with 20 rows or 200.
//!
//! Panes never hide stale data: the title says how old it is and why, and the values are greyed
//! with the theme's `unknown` / `dim` styles. Every colour comes from the [`Theme`], so NO_COLOR
//! and light themes work without code changes.

pub mod backups;
mod common;
pub mod lag;
pub mod regions;

use chrono::{DateTime, Utc};

use crate::env::Environment;
use crate::telemetry::Board;
use crate::theme::Theme;

/// Identifies a row across frames: the selection follows the resource, not the position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RowKey {
    /// A replica (`Replica lag`) or a backup series (`Backups`), by logical name.
    Name(String),
    /// A region's heading (`Regions`).
    Region(String),
    /// A detail row of an expanded region (`Regions`): what it is and its own name (the health
    /// URL, the database, the app; empty for the security row).
    Detail {
        region: String,
        kind: DetailKind,
        name: String,
    },
}

/// The kinds of detail rows under a region.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DetailKind {
    Health,
    Database,
    App,
    Security,
}

/// Everything a pane needs; built by the App each frame (cheap: all references).
#[derive(Debug, Clone, Copy)]
pub struct PaneCtx<'a> {
    /// The merged DR picture, lag history and source freshness.
    pub board: &'a Board,
    /// Logical names, regions and objectives.
    pub env: &'a Environment,
    /// The resolved theme: the only source of styles.
    pub theme: &'a Theme,
    /// Session time (simulated on the simulator).
    pub now: DateTime<Utc>,
    /// Whether this pane has keyboard focus (focused border style, selected row shown).
    pub focused: bool,
    /// The selected row (`None`, or a row no longer shown: the first row).
    pub selected: Option<&'a RowKey>,
    /// Rows whose name or region contains this (case-insensitive) are shown; empty: all.
    pub filter: &'a str,
    /// The filter is being typed: the title shows a cursor after it.
    pub editing: bool,
    /// The RPO objective the lag pane compares with: the open incident's (its playbook's),
    /// else the environment's.
    pub rpo: crate::duration::Dur,
}
