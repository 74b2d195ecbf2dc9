//! Playbooks: the format, its loader and validator, the engine that runs one, and the printable
//! runbook.
//!
//! - [`format`](mod@format): the TOML file as written (serde types, every field documented);
//! - [`load`]: [`parse`] / [`load_file`] validate a file against an [`Environment`] and report
//!   every problem with `file:line:col` and how to fix it; [`check_paths`] is `warroom check`,
//!   [`find`] is how `warroom show ID` finds a playbook;
//! - [`model`]: the validated [`Playbook`] the rest of the program uses;
//! - [`engine`]: the pure state machine that runs an incident: [`Engine::handle`] /
//!   [`Engine::tick`] return [`Effect`]s, never do I/O, never read the clock;
//! - [`runbook`]: [`runbook::render`] prints a playbook for the war-room wall.
//!
//! The user's reference is `docs/playbooks.md`.
//!
//! [`Environment`]: crate::env::Environment

pub mod engine;
pub mod format;
pub mod interlock;
pub mod load;
pub mod mask;
pub mod model;
pub mod projection;
pub mod runbook;

pub use engine::{
    ChecklistItem, ClockChange, ConfirmRequest, Criterion, Effect, Engine, EngineSettings, Event,
    Evidence, Grade, Input, LossWindow, Outcome, ResumeError, RpoCapture, RtoGauge, Scorecard,
    SharedAsk, SharedRequest, Signed, SpeedReason, StepScore, StepStatus, StepView, Timing,
};
pub use load::{
    CheckReport, FileCheck, FindError, check_paths, content_hash, find, load_file, parse,
};
pub use model::{
    Condition, Executor, MASK, OnFailure, Playbook, Reveal, Scenario, Step, StepKind, Template,
    Vars, Wait,
};
pub use projection::{Measures, Plan, Projection};
pub use runbook::{Format, render, show};

/// The playbooks shipped with warroom, embedded in the binary: `(id, source)`. [`find`] falls
/// back to them when the playbook directory does not have the id asked for.
pub const SHIPPED: &[(&str, &str)] = &[
    ("az-loss", include_str!("../../playbooks/az-loss.toml")),
    (
        "region-loss",
        include_str!("../../playbooks/region-loss.toml"),
    ),
    (
        "corruption",
        include_str!("../../playbooks/corruption.toml"),
    ),
    ("breach", include_str!("../../playbooks/breach.toml")),
];
