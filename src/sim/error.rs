//! Why the simulator refused a fault or an action. Every message names the bad value and says
//! what would work instead, because it ends up in front of an operator mid-drill.

use chrono::{DateTime, Utc};

/// A fault or action the simulator could not apply.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SimError {
    /// A logical name (or zone) that the environment does not define.
    #[error("unknown {kind} {name:?}; known: {known}")]
    Unknown {
        /// `database`, `backup`, `region`, `DNS record`, `app`, `zone`.
        kind: &'static str,
        /// The name as given.
        name: String,
        /// The valid names, comma-separated.
        known: String,
    },
    /// An action name outside the built-in table.
    #[error("unknown action {name:?}; the simulator implements: {known}")]
    UnknownAction {
        /// The name as given.
        name: String,
        /// The implemented actions, comma-separated.
        known: String,
    },
    /// A required action argument is absent.
    #[error("{action}: missing argument `{arg}`; add it to the step's `with` table")]
    MissingArg {
        /// The action called.
        action: String,
        /// The argument it lacks.
        arg: String,
    },
    /// An argument the action does not take.
    #[error("{action}: unexpected argument `{arg}`; it takes: {known}")]
    UnexpectedArg {
        /// The action called.
        action: String,
        /// The argument it does not take.
        arg: String,
        /// The arguments it takes, comma-separated.
        known: String,
    },
    /// An argument whose value has the wrong shape.
    #[error("{action}: argument `{arg}` = {value:?} is not {expected}")]
    BadArg {
        /// The action called.
        action: String,
        /// The argument name.
        arg: String,
        /// The value as given.
        value: String,
        /// What it should have been (`true or false`, `a whole number (e.g. 3)`).
        expected: String,
    },
    /// Text that names no fault.
    #[error(
        "unknown fault {input:?}; known: az-loss, az-loss:<zone>, region-loss, corruption, breach"
    )]
    UnknownFault {
        /// The text as given.
        input: String,
    },
    /// The same fault twice: its effects are already in place.
    #[error("fault {fault} is already active (injected at {since}); it cannot be injected twice")]
    AlreadyActive {
        /// The fault, in its text form.
        fault: String,
        /// When it was injected.
        since: DateTime<Utc>,
    },
    /// The action makes no sense in the current state (nothing was changed).
    #[error("{what}; {fix}")]
    Refused {
        /// What is wrong, naming the resource and its state.
        what: String,
        /// What to do instead.
        fix: String,
    },
    /// The action ran and failed (a backup attempt, a verification); its outcome is recorded.
    #[error("{what}; {fix}")]
    Failed {
        /// What failed, naming the resource and the cause.
        what: String,
        /// What to do next.
        fix: String,
    },
}

impl SimError {
    pub(crate) fn refused(what: impl Into<String>, fix: impl Into<String>) -> Self {
        SimError::Refused {
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub(crate) fn failed(what: impl Into<String>, fix: impl Into<String>) -> Self {
        SimError::Failed {
            what: what.into(),
            fix: fix.into(),
        }
    }

    pub(crate) fn unknown<'a>(
        kind: &'static str,
        name: &str,
        known: impl IntoIterator<Item = &'a str>,
    ) -> Self {
        SimError::Unknown {
            kind,
            name: name.to_string(),
            known: known.into_iter().collect::<Vec<_>>().join(", "),
        }
    }
}
