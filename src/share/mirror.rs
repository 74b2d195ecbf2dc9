//! The driver's mirror: every line of the local journal, byte for byte, to the shared log.
//!
//! It reads the journal file the writer thread has fsynced (complete lines only) and puts each
//! line with a create-only conditional put: the header at `<incident>/header.json`, event `N` at
//! `<incident>/events/<N, 12 digits>.json`. In order, one at a time: event `N` is put only after
//! `N - 1` is in the store, so the shared log is always a prefix of the local journal. A put that
//! fails leaves the line queued; the mirror says how many lines are waiting ([`Status::behind`])
//! and retries with a growing pause (at most [`RETRY_MAX`]). A put that finds the key taken
//! compares the object with its line: the same bytes (an earlier attempt whose answer was lost,
//! or the same incident resumed) count as mirrored; other bytes mean another writer, and the
//! mirror stops ([`Status::conflict`]). Runs on a tokio task, never on the UI thread.

use std::collections::{BTreeSet, VecDeque};
use std::io::{Read, Seek, SeekFrom};
use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use serde::Deserialize;

use super::store::{Put, Store, StoreError};
use super::{IncidentKeys, ShareUrl, incident_name};

/// How often the mirror looks for new lines in the journal.
pub const POLL: Duration = Duration::from_millis(200);
/// First pause after a failed put; doubles up to [`RETRY_MAX`].
pub const RETRY_MIN: Duration = Duration::from_millis(500);
pub const RETRY_MAX: Duration = Duration::from_secs(4);

/// How the shared log stands, for the status bar.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Status {
    /// The incident's name in the store.
    pub incident: String,
    /// Lines of the local journal not yet in the shared log.
    pub behind: usize,
    /// Lines in the shared log (the header included).
    pub mirrored: u64,
    /// The last failure while lines wait (cleared once the log has caught up).
    pub error: Option<String>,
    /// Another writer's object at one of our keys: mirroring stopped.
    pub conflict: Option<String>,
}

/// One journal line waiting for the store.
#[derive(Debug, Clone)]
struct Line {
    key: String,
    bytes: Vec<u8>,
}

#[derive(Deserialize)]
struct SeqOnly {
    seq: Option<u64>,
}

/// The mirror of one journal file.
pub struct Mirror {
    store: Arc<dyn Store>,
    keys: IncidentKeys,
    path: PathBuf,
    /// Bytes of the file consumed (up to the last complete line).
    offset: u64,
    /// Lines read so far (the header is line 1).
    lines: u64,
    /// Keys found in the store when the mirror started (a resumed incident): not put again.
    present: Option<BTreeSet<String>>,
    pending: VecDeque<Line>,
    pub status: Status,
}

/// Why a mirror could not start.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MirrorError {
    #[error("{0}: the journal's name cannot name an incident in the store")]
    BadName(String),
}

impl Mirror {
    pub fn new(store: Arc<dyn Store>, url: &ShareUrl, journal: &Path) -> Result<Self, MirrorError> {
        let incident = incident_name(journal)
            .ok_or_else(|| MirrorError::BadName(journal.display().to_string()))?;
        Ok(Mirror {
            store,
            keys: IncidentKeys::new(url, &incident),
            path: journal.to_path_buf(),
            offset: 0,
            lines: 0,
            present: None,
            pending: VecDeque::new(),
            status: Status {
                incident,
                ..Status::default()
            },
        })
    }

    pub fn keys(&self) -> &IncidentKeys {
        &self.keys
    }

    /// Reads the complete lines the journal gained since the last call, up to `synced` bytes
    /// (what the journal writer has fsynced; `None`: the whole file).
    fn read_new(&mut self, synced: Option<u64>) -> std::io::Result<()> {
        let mut file = std::fs::File::open(&self.path)?;
        let on_disk = file.metadata()?.len();
        let len = synced.map_or(on_disk, |s| s.min(on_disk));
        if on_disk < self.offset {
            // The file was cut (a torn last line removed by a resume): read it again from the
            // start; what the store has is skipped or compared.
            self.offset = 0;
            self.lines = 0;
            self.pending.clear();
            self.status.mirrored = 0;
        }
        file.seek(SeekFrom::Start(self.offset))?;
        let mut buf = Vec::new();
        file.take(len - self.offset).read_to_end(&mut buf)?;
        let Some(end) = buf.iter().rposition(|b| *b == b'\n') else {
            return Ok(());
        };
        for raw in buf[..end].split(|b| *b == b'\n') {
            self.lines += 1;
            let key = if self.lines == 1 {
                self.keys.header()
            } else {
                match serde_json::from_slice::<SeqOnly>(raw)
                    .ok()
                    .and_then(|s| s.seq)
                {
                    Some(seq) => self.keys.event(seq),
                    // Not an event line: the journal's readers refuse it; the mirror copies
                    // only what it can name (it stops here and waits).
                    None => {
                        self.lines -= 1;
                        return Ok(());
                    }
                }
            };
            self.offset += raw.len() as u64 + 1;
            self.pending.push_back(Line {
                key,
                bytes: raw.to_vec(),
            });
        }
        Ok(())
    }

    /// One round: new lines read (up to `synced` bytes), then as many put in order as the
    /// store takes. Returns the error that stopped the round, if any.
    pub async fn step(&mut self, synced: Option<u64>) -> Result<(), StoreError> {
        if let Err(e) = self.read_new(synced) {
            tracing::warn!("share: cannot read the journal: {e}");
        }
        if self.status.conflict.is_some() {
            self.status.behind = self.pending.len();
            return Ok(());
        }
        let result = self.put_pending().await;
        self.status.behind = self.pending.len();
        match &result {
            Ok(()) => self.status.error = None,
            Err(e) => self.status.error = Some(e.to_string()),
        }
        result
    }

    async fn put_pending(&mut self) -> Result<(), StoreError> {
        if self.present.is_none() && !self.pending.is_empty() {
            // What a previous console (a resume) already mirrored is not put again.
            let found = self.store.list(self.keys.base.clone() + "/", None).await?;
            self.present = Some(found.into_iter().collect());
        }
        while let Some(line) = self.pending.front() {
            let is_header = line.key == self.keys.header();
            let known = self.present.as_ref().is_some_and(|p| p.contains(&line.key));
            let outcome = if known && !is_header {
                Put::Exists
            } else {
                self.store
                    .put_new(line.key.clone(), line.bytes.clone())
                    .await?
            };
            if outcome == Put::Exists && (is_header || !known) {
                let there = self.store.get(line.key.clone()).await?;
                if there.as_deref() != Some(line.bytes.as_slice()) {
                    let why = format!(
                        "{} holds another writer's line: this console stopped mirroring",
                        line.key
                    );
                    tracing::error!("share: {why}");
                    self.status.conflict = Some(why);
                    return Ok(());
                }
            }
            self.pending.pop_front();
            self.status.mirrored += 1;
        }
        Ok(())
    }
}

/// The mirror task: follows whichever journal the console writes (`journal` changes when an
/// incident is picked) and reports its status through `report` whenever it changes (`report`
/// returning false ends the task).
pub async fn run(
    store: Arc<dyn Store>,
    url: ShareUrl,
    mut journal: tokio::sync::watch::Receiver<Option<PathBuf>>,
    synced: tokio::sync::watch::Receiver<u64>,
    report: impl Fn(Status) -> bool + Send,
) {
    let mut mirror: Option<Mirror> = None;
    let mut pause = POLL;
    let mut last = None;
    loop {
        let wanted = journal.borrow_and_update().clone();
        if mirror.as_ref().map(|m| &m.path) != wanted.as_ref() {
            mirror = wanted.and_then(|p| match Mirror::new(Arc::clone(&store), &url, &p) {
                Ok(m) => Some(m),
                Err(e) => {
                    tracing::error!("share: {e}");
                    None
                }
            });
        }
        if let Some(m) = &mut mirror {
            let fsynced = *synced.borrow();
            match m.step(Some(fsynced)).await {
                Ok(()) => pause = POLL,
                Err(e) => {
                    tracing::warn!("share: {} lines wait: {e}", m.status.behind);
                    pause = (pause * 2).clamp(RETRY_MIN, RETRY_MAX);
                }
            }
            if last.as_ref() != Some(&m.status) {
                last = Some(m.status.clone());
                if !report(m.status.clone()) {
                    return;
                }
            }
        }
        tokio::select! {
            _ = tokio::time::sleep(pause) => {}
            changed = journal.changed() => if changed.is_err() { return },
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::share::store::MemStore;
    use std::io::Write;

    fn url() -> ShareUrl {
        ShareUrl::parse("s3://b/p").expect("url")
    }

    fn append(path: &Path, text: &str) {
        let mut f = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(path)
            .expect("open");
        f.write_all(text.as_bytes()).expect("write");
    }

    fn rt() -> tokio::runtime::Runtime {
        tokio::runtime::Builder::new_current_thread()
            .enable_time()
            .build()
            .expect("runtime")
    }

    #[test]
    fn lines_go_in_order_and_wait_while_the_store_is_down() {
        let dir = std::env::temp_dir().join(format!("warroom-mirror-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("dir");
        let path = dir.join("inc-1.jsonl");
        append(
            &path,
            "{\"format\":\"h\"}\n{\"seq\":1,\"kind\":\"a\"}\n{\"seq\":2,",
        );
        let store = MemStore::new();
        let mut m = Mirror::new(Arc::new(store.clone()), &url(), &path).expect("mirror");
        rt().block_on(m.step(None)).expect("step");
        // The partial line is not mirrored until it is complete.
        assert_eq!(
            store.objects().keys().cloned().collect::<Vec<_>>(),
            vec!["p/inc-1/events/000000000001.json", "p/inc-1/header.json"]
        );
        assert_eq!(m.status.behind, 0);
        // Bytes the journal writer has not fsynced yet are not mirrored.
        let synced = std::fs::metadata(&path).expect("len").len();
        append(&path, "\"kind\":\"b\"}\n");
        rt().block_on(m.step(Some(synced - 8))).expect("step");
        assert_eq!(store.objects().len(), 2, "nothing beyond what is fsynced");
        store.set_up(false);
        append(&path, "{\"seq\":3,\"kind\":\"c\"}\n");
        assert!(rt().block_on(m.step(None)).is_err());
        assert_eq!(m.status.behind, 2);
        assert!(m.status.error.is_some());
        store.set_up(true);
        rt().block_on(m.step(None)).expect("step");
        assert_eq!(m.status.behind, 0);
        assert_eq!(m.status.error, None);
        let objects = store.objects();
        assert_eq!(
            objects
                .get("p/inc-1/events/000000000003.json")
                .map(Vec::as_slice),
            Some(&b"{\"seq\":3,\"kind\":\"c\"}"[..])
        );
        assert_eq!(m.status.mirrored, 4);
        // A second mirror of the same journal (a resume) puts nothing again and agrees.
        let mut again = Mirror::new(Arc::new(store.clone()), &url(), &path).expect("mirror");
        rt().block_on(again.step(None)).expect("step");
        assert_eq!(again.status.conflict, None);
        assert_eq!(again.status.mirrored, 4);
        // Another journal of the same name is another writer: refused, nothing overwritten.
        let other = dir.join("x").join("inc-1.jsonl");
        std::fs::create_dir_all(other.parent().expect("parent")).expect("dir");
        append(&other, "{\"format\":\"other\"}\n");
        let mut intruder = Mirror::new(Arc::new(store.clone()), &url(), &other).expect("mirror");
        rt().block_on(intruder.step(None)).expect("step");
        assert!(intruder.status.conflict.is_some());
        assert_eq!(
            store
                .objects()
                .get("p/inc-1/header.json")
                .map(Vec::as_slice),
            Some(&b"{\"format\":\"h\"}"[..])
        );
        let _ = std::fs::remove_dir_all(&dir);
    }
}
