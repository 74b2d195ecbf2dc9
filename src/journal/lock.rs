//! One writer per journal: an exclusive, non-blocking advisory lock (`flock`) on the journal file,
//! held by the [`Journal`](super::Journal) for its lifetime, and a sidecar file
//! `<journal>.lock` (0600) saying who holds it. The `flock` is the truth: a sidecar left by a
//! process that died means nothing once its lock is gone (the kernel drops it with the process).

use std::fmt;
use std::fs::File;
use std::io::Write;
use std::os::unix::fs::OpenOptionsExt;
use std::path::{Path, PathBuf};
use std::time::Duration;

use nix::errno::Errno;
use nix::fcntl::{Flock, FlockArg};
use serde::{Deserialize, Serialize};

use super::error::{JournalError, Op};

/// Who holds a journal's lock (written to its `.lock` sidecar).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct LockHolder {
    pub host: String,
    pub pid: u32,
    pub operator: String,
}

impl LockHolder {
    /// This process, on this host, run by `operator`.
    pub fn this_process(operator: impl Into<String>) -> LockHolder {
        LockHolder {
            host: super::identity::host(),
            pid: std::process::id(),
            operator: operator.into(),
        }
    }
}

/// Control characters shown visibly (the sidecar is a file anyone could have written).
fn visible(s: &str) -> String {
    s.chars()
        .flat_map(|c| {
            if c.is_control() {
                c.escape_default().collect::<Vec<_>>()
            } else {
                vec![c]
            }
        })
        .collect()
}

impl fmt::Display for LockHolder {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "pid {} on host {} (operator {})",
            self.pid,
            visible(&self.host),
            visible(&self.operator)
        )
    }
}

/// `<journal>.lock`.
pub fn sidecar_path(journal: &Path) -> PathBuf {
    let mut name = journal.as_os_str().to_owned();
    name.push(".lock");
    PathBuf::from(name)
}

fn read_sidecar(journal: &Path) -> Option<LockHolder> {
    let bytes = std::fs::read(sidecar_path(journal)).ok()?;
    serde_json::from_slice(&bytes).ok()
}

/// Takes the exclusive lock on `file` (the journal at `path`), or says who holds it. A few
/// quick retries cover a [`lock_holder`] probe that holds a shared lock for an instant.
pub(crate) fn acquire(path: &Path, file: File) -> Result<Flock<File>, JournalError> {
    let mut file = file;
    for attempt in 0..5 {
        match Flock::lock(file, FlockArg::LockExclusiveNonblock) {
            Ok(locked) => return Ok(locked),
            Err((f, Errno::EWOULDBLOCK)) => {
                file = f;
                if attempt < 4 {
                    std::thread::sleep(Duration::from_millis(10));
                }
            }
            Err((_, errno)) => {
                return Err(JournalError::Io {
                    path: path.to_path_buf(),
                    op: Op::Lock,
                    source: std::io::Error::from(errno),
                });
            }
        }
    }
    Err(JournalError::Locked {
        path: path.to_path_buf(),
        holder: read_sidecar(path),
    })
}

/// Records the holder in the sidecar (0600). Not fatal when it fails: the lock holds anyway,
/// only a second taker's message is poorer.
pub(crate) fn write_sidecar(journal: &Path, holder: &LockHolder) {
    let path = sidecar_path(journal);
    let result = (|| {
        let mut json = serde_json::to_vec(holder).map_err(std::io::Error::other)?;
        json.push(b'\n');
        // Never through a symbolic link: next to a journal in a shared directory (`/tmp`),
        // another user could plant one at this name to make us overwrite their target.
        let mut f = std::fs::OpenOptions::new()
            .write(true)
            .create(true)
            .truncate(true)
            .mode(0o600)
            .custom_flags(nix::fcntl::OFlag::O_NOFOLLOW.bits())
            .open(&path)?;
        f.write_all(&json)
    })();
    if let Err(e) = result {
        tracing::warn!("{}: cannot record the lock's holder: {e}", path.display());
    }
}

/// Removes the sidecar (the lock is about to be released).
pub(crate) fn remove_sidecar(journal: &Path) {
    let _ = std::fs::remove_file(sidecar_path(journal));
}

/// Who holds the lock on the journal at `path`, if anyone; never takes it for writing and
/// creates nothing. (It holds a shared lock for an instant to find out; a writer taking the lock
/// at that instant retries.) A held lock whose sidecar is unreadable gives a holder with empty
/// names and pid 0.
pub fn lock_holder(path: &Path) -> Option<LockHolder> {
    let file = File::open(path).ok()?;
    match Flock::lock(file, FlockArg::LockSharedNonblock) {
        Ok(probe) => {
            drop(probe);
            None
        }
        Err((_, Errno::EWOULDBLOCK)) => Some(read_sidecar(path).unwrap_or(LockHolder {
            host: String::new(),
            pid: 0,
            operator: String::new(),
        })),
        Err(_) => None,
    }
}
