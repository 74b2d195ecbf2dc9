//! warroom: a terminal console for database disaster recovery.
//!
//! See `docs/architecture.md` for the module map and the event loop.

pub mod actions;
pub mod app;
pub mod backends;
pub mod cli;
pub mod clock;
pub mod diag;
pub mod duration;
pub mod env;
pub mod history;
pub mod journal;
pub mod lab;
pub mod past;
pub mod playbook;
pub mod recovery;
pub mod report;
pub mod restore_points;
pub mod share;
pub mod sim;
pub mod status;
pub mod telemetry;
pub mod text;
pub mod theme;
pub mod ui;
