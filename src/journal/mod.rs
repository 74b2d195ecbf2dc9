//! The incident journal: an append-only JSONL file, one per incident or drill, from which the
//! console resumes, `follow` mirrors a session, `report` writes the postmortem and `verify`
//! checks the record was not changed.
//!
//! Line 1 is a [`Header`]; every other line is one [`Event`](crate::playbook::Event) of the
//! engine with its `seq` (1, 2, 3, ...) and [`Stamp`] (wall clock `at`, simulated `sim` in
//! drills). The file format is version 2 ([`VERSION`]), defined by its own types
//! ([`schema_v2`]), not by the engine's; version-1 files are still read ([`v1`]). Every line
//! ends with its SHA-256 and every event line names the previous line's ([`chain`]): a changed
//! line is found by [`verify`](verify()).
//!
//! Each line is written with one write and fsynced before [`Journal::append`] returns, so the
//! console shows an effect only once it is on disk. After a crash the last line may be torn (cut
//! mid-write): readers report it and ignore it. Any other damage makes the file unreadable as a
//! whole, with the line it is on: a journal is never half replayed, and nothing is written to a
//! file that failed validation. One [`Journal`] at a time writes a file: it holds an exclusive
//! lock ([`lock_holder`] says who).
//!
//! - [`format`](mod@format): the header, [`Stamp`], [`VERSION`] and the versioning rule,
//!   [`encode_header`] / [`encode_event`];
//! - [`read`] / [`decode`]: validate and replay into a [`Replay`];
//! - [`Journal`]: [`Journal::create`] / [`Journal::create_in`], [`Journal::open_append`]
//!   (resume), [`Journal::append`];
//! - [`Tail`]: follow a journal another process writes (reads only);
//! - [`verify`](verify()): check the hash chain (`warroom verify`);
//! - [`identity`]: operator and host; [`default_dir`], [`new_path`], [`list`].
//!
//! The reference for other tools is `docs/journal.md`.

pub mod chain;
mod error;
mod file;
pub mod format;
pub mod identity;
mod lock;
mod paths;
pub mod schema_v2;
mod tail;
pub mod v1;
pub mod verify;

pub use chain::Hex;
pub use error::{JournalError, Op};
pub use file::{
    FUTURE_TOLERANCE_SECS, Journal, Replay, TornTail, continuation_path, create_private_dir,
    decode, read,
};
pub use format::{
    Continues, FORMAT, Header, Mode, Objectives, PlannedStep, PlaybookRef, Stamp, VERSION,
    encode_event, encode_header,
};
pub use identity::operator;
pub use lock::{LockHolder, lock_holder, sidecar_path};
pub use paths::{default_dir, list, new_path};
pub use tail::Tail;
pub use verify::{Verified, verify};
