//! The incident journal: an append-only JSONL file, one per incident or drill, from which the
//! console resumes, `follow` mirrors a session, and `report` writes the postmortem.
//!
//! Line 1 is a [`Header`]; every other line is one [`Event`](crate::playbook::Event) of the
//! engine with its `seq` (1, 2, 3, ...) and UTC `at`. Each line is written with one write and
//! fsynced before [`Journal::append`] returns, so the console shows an effect only once it is on
//! disk. After a crash the last line may be torn (cut mid-write): readers report it and ignore
//! it. Any other damage makes the file unreadable as a whole, with the line it is on: a journal
//! is never half replayed, and nothing is written to a file that failed validation.
//!
//! - [`format`](mod@format): the header and line types (every field documented), [`VERSION`]
//!   and the versioning rule, [`encode_header`] / [`encode_event`];
//! - [`read`] / [`decode`]: validate and replay into a [`Replay`];
//! - [`Journal`]: [`Journal::create`] / [`Journal::create_in`], [`Journal::open_append`]
//!   (resume), [`Journal::append`];
//! - [`Tail`]: follow a journal another process writes;
//! - [`default_dir`], [`new_path`], [`operator`], [`list`].
//!
//! The reference for other tools is `docs/journal.md`.

mod error;
mod file;
pub mod format;
mod paths;
mod tail;

pub use error::{JournalError, Op};
pub use file::{Journal, Replay, TornTail, decode, read};
pub use format::{
    FORMAT, Header, Mode, Objectives, PlannedStep, PlaybookRef, VERSION, encode_event,
    encode_header,
};
pub use paths::{default_dir, list, new_path, operator};
pub use tail::Tail;
