//! The live panes: pure render functions of a [`PaneCtx`], one module per pane.
//!
//! Each pane module offers the same three items:
//!
//! - `TITLE`: the pane's title, exactly as shown in its border;
//! - `render(frame, area, ctx)`: draws the pane into `area` (any size, including 0x0);
//! - `row_count(..)`: how many rows are selectable, for the App to clamp `selected` with;
//! - `selected_text(ctx)`: the selected row's whole text, shown under the panes while one has
//!   focus (a narrow pane cuts its rows).
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
    /// Selected row in the pane's table (the App clamps it with `row_count`).
    pub selected: usize,
    /// The RPO objective the lag pane compares with: the open incident's (its playbook's),
    /// else the environment's.
    pub rpo: crate::duration::Dur,
}
