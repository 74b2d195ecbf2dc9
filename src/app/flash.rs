//! The message line: what the console says to the operator, and what makes it go.
//!
//! A message fades after a few seconds of wall time, or when the next one replaces it. Some
//! messages are about a state that the operator will change ("tick every checklist item
//! first", "the playbook is hidden", the drill's welcome): those carry their end condition as a
//! value ([`Until`]) and go as soon as it holds, so the screen never keeps an instruction that
//! no longer applies.

use chrono::{DateTime, Utc};

/// What the console says: the words and when they stop being true.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Said {
    pub text: String,
    pub until: Until,
}

impl Said {
    /// Words that go when `until` holds (or fade, or are replaced, whichever comes first).
    pub fn until(text: impl Into<String>, until: Until) -> Said {
        Said {
            text: text.into(),
            until,
        }
    }
}

impl From<String> for Said {
    fn from(text: String) -> Said {
        Said::until(text, Until::Faded)
    }
}

impl From<&str> for Said {
    fn from(text: &str) -> Said {
        Said::until(text, Until::Faded)
    }
}

/// When a message goes, besides fading and being replaced.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Until {
    /// Nothing else: it fades or is replaced.
    Faded,
    /// The playbook is on screen again ("the playbook is hidden: v shows it").
    PlaybookShown,
    /// The incident is declared (a drill's welcome).
    Declared,
    /// Every checklist item of step `step` is ticked, or another step is current.
    Ticked { step: usize },
}

/// The message on the message line and when it was said (session time).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Flash {
    pub at: DateTime<Utc>,
    pub text: String,
    pub until: Until,
}

impl Flash {
    pub fn new(at: DateTime<Utc>, said: impl Into<Said>) -> Flash {
        let Said { text, until } = said.into();
        Flash { at, text, until }
    }
}
