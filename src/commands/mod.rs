//! The binary's commands that need more than a few lines of wiring.

pub mod console;
pub mod journal_api;
pub mod share;
pub mod start;

/// Exit code for input the user must fix (a bad file or argument); 1 is for failed checks.
pub const EXIT_BAD_INPUT: u8 = 2;

/// A problem with the user's input, reported as is (it already says file:line:col).
#[derive(Debug)]
pub struct BadInput(pub String);
