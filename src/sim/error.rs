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
    /// An action the simulator does not model (nothing was changed).
    #[error("{action}: {why}")]
    Unsupported {
        /// The action called.
        action: &'static str,
        /// Why, and what to drill with instead.
        why: String,
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
