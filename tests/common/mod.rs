//! Test helpers: the real binary in a pseudo-terminal, read back through a VT100 parser.

#![allow(dead_code)]

use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use portable_pty::{Child, CommandBuilder, MasterPty, PtySize, native_pty_system};

pub const BIN: &str = env!("CARGO_BIN_EXE_warroom");

/// A unique scratch directory under the system temp dir, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        static COUNTER: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = COUNTER.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("warroom-test-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("create scratch dir");
        Scratch(dir)
    }

    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// The warroom binary running in a pseudo-terminal.
pub struct Tui {
    parser: Arc<Mutex<vt100::Parser>>,
    /// Every byte the program wrote to the terminal.
    raw: Arc<Mutex<Vec<u8>>>,
    writer: Box<dyn Write + Send>,
    child: Box<dyn Child + Send + Sync>,
    _master: Box<dyn MasterPty + Send>,
    /// The scratch state directory this Tui owns, if it made one.
    pub state: Option<Scratch>,
}

impl Tui {
    pub fn spawn(args: &[&str], cols: u16, rows: u16) -> Tui {
        Self::spawn_with_env(args, cols, rows, &[])
    }

    pub fn spawn_with_env(args: &[&str], cols: u16, rows: u16, vars: &[(&str, &str)]) -> Tui {
        let state = Scratch::new("tui");
        let dir = state.path().to_path_buf();
        let mut tui = Self::spawn_in(args, cols, rows, &dir, vars);
        tui.state = Some(state);
        tui
    }

    /// Spawns with `XDG_STATE_HOME` at `state` (journals land in `state/warroom/incidents`), so
    /// several processes of one test share their journals.
    pub fn spawn_in(
        args: &[&str],
        cols: u16,
        rows: u16,
        state: &Path,
        vars: &[(&str, &str)],
    ) -> Tui {
        let pty = native_pty_system()
            .openpty(PtySize {
                rows,
                cols,
                pixel_width: 0,
                pixel_height: 0,
            })
            .expect("open a pty");
        let mut cmd = CommandBuilder::new(BIN);
        cmd.args(args);
        cmd.env("TERM", "xterm-256color");
        cmd.env("XDG_STATE_HOME", state);
        cmd.env_remove("NO_COLOR");
        cmd.env("RUST_BACKTRACE", "0");
        cmd.env("RUST_LIB_BACKTRACE", "0");
        cmd.cwd(env!("CARGO_MANIFEST_DIR"));
        for (k, v) in vars {
            cmd.env(k, v);
        }
        let child = pty
            .slave
            .spawn_command(cmd)
            .expect("spawn warroom in the pty");
        drop(pty.slave);
        let parser = Arc::new(Mutex::new(vt100::Parser::new(rows, cols, 0)));
        let mut reader = pty.master.try_clone_reader().expect("pty reader");
        let sink = Arc::clone(&parser);
        let raw = Arc::new(Mutex::new(Vec::new()));
        let raw_sink = Arc::clone(&raw);
        std::thread::spawn(move || {
            let mut buf = [0u8; 8192];
            loop {
                match reader.read(&mut buf) {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        raw_sink
                            .lock()
                            .expect("raw lock")
                            .extend_from_slice(&buf[..n]);
                        sink.lock().expect("parser lock").process(&buf[..n]);
                    }
                }
            }
        });
        let writer = pty.master.take_writer().expect("pty writer");
        Tui {
            parser,
            raw,
            writer,
            child,
            _master: pty.master,
            state: None,
        }
    }

    pub fn screen(&self) -> String {
        self.parser.lock().expect("parser lock").screen().contents()
    }

    /// Every byte the program has written to the terminal so far.
    pub fn raw_output(&self) -> Vec<u8> {
        self.raw.lock().expect("raw lock").clone()
    }

    pub fn alternate_screen(&self) -> bool {
        self.parser
            .lock()
            .expect("parser lock")
            .screen()
            .alternate_screen()
    }

    pub fn send(&mut self, keys: &str) {
        self.writer
            .write_all(keys.as_bytes())
            .expect("write to pty");
        self.writer.flush().expect("flush pty");
    }

    /// Waits until the screen satisfies `pred`; panics with the screen after `timeout`.
    pub fn wait_for(&self, what: &str, timeout: Duration, pred: impl Fn(&str) -> bool) -> String {
        let start = Instant::now();
        loop {
            let screen = self.screen();
            if pred(&screen) {
                return screen;
            }
            if start.elapsed() > timeout {
                panic!("timed out after {timeout:?} waiting for {what}; screen:\n{screen}");
            }
            std::thread::sleep(Duration::from_millis(50));
        }
    }

    pub fn wait_text(&self, text: &str, timeout: Duration) -> String {
        self.wait_for(&format!("{text:?}"), timeout, |s| s.contains(text))
    }

    /// Waits for the process to exit; panics after `timeout`.
    pub fn wait_exit(&mut self, timeout: Duration) -> portable_pty::ExitStatus {
        let start = Instant::now();
        loop {
            if let Some(status) = self.child.try_wait().expect("try_wait") {
                // Let the reader thread drain what the process wrote last.
                std::thread::sleep(Duration::from_millis(150));
                return status;
            }
            if start.elapsed() > timeout {
                let _ = self.child.kill();
                panic!(
                    "process did not exit within {timeout:?}; screen:\n{}",
                    self.screen()
                );
            }
            std::thread::sleep(Duration::from_millis(30));
        }
    }

    pub fn pid(&self) -> u32 {
        self.child.process_id().expect("pid")
    }
}

impl Drop for Tui {
    fn drop(&mut self) {
        let _ = self.child.kill();
    }
}

/// The journals (`*.jsonl`) a console wrote under the state directory `state`, sorted by name.
pub fn journals_in(state: &Path) -> Vec<PathBuf> {
    let dir = state.join("warroom/incidents");
    let mut files: Vec<_> = std::fs::read_dir(&dir)
        .map(|rd| {
            rd.filter_map(|e| e.ok().map(|e| e.path()))
                .filter(|p| p.extension().is_some_and(|x| x == "jsonl"))
                .collect()
        })
        .unwrap_or_default();
    files.sort();
    files
}

/// The one journal under `state`; panics when there is not exactly one.
pub fn the_journal_in(state: &Path) -> PathBuf {
    let mut files = journals_in(state);
    assert_eq!(
        files.len(),
        1,
        "one journal expected in {}: {files:?}",
        state.display()
    );
    files.remove(0)
}

/// Every line of a journal as JSON.
pub fn journal_lines(path: &Path) -> Vec<serde_json::Value> {
    std::fs::read_to_string(path)
        .expect("read journal")
        .lines()
        .map(|l| serde_json::from_str(l).expect("journal line is JSON"))
        .collect()
}

/// `kill -9` the console, then waits for it to be gone.
pub fn kill9(tui: &mut Tui) {
    let pid = tui.pid().to_string();
    assert!(
        std::process::Command::new("kill")
            .args(["-9", &pid])
            .status()
            .expect("kill")
            .success()
    );
    tui.wait_exit(Duration::from_secs(20));
}

/// What a walker that reads only the screen presses next on a step's checklist: Space on an
/// unticked item under the cursor `›`, else `j` or `k` towards the first unticked item; `None`
/// when every item shown is ticked (or not applicable). Robust to a cursor that went past an
/// unticked item (a key the screen had not shown yet).
pub fn next_checklist_key(screen: &str) -> Option<&'static str> {
    let items: Vec<&str> = screen
        .lines()
        .filter(|l| l.contains("[ ] ") || l.contains("[x] ") || l.contains("[n/a] "))
        .collect();
    let unticked = items.iter().position(|l| l.contains("[ ] "))?;
    match items.iter().position(|l| l.contains("› [")) {
        Some(cursor) if cursor == unticked || items[cursor].contains("› [ ]") => Some(" "),
        Some(cursor) if cursor > unticked => Some("k"),
        _ => Some("j"),
    }
}

/// Waits until the journal at `path` holds an event of `kind` (read from the file, so it works
/// at every terminal size, whatever the screen shows); panics with `tui`'s screen after
/// `timeout`.
pub fn wait_journal_kind(tui: &Tui, path: &Path, kind: &str, timeout: Duration) {
    let asked = Instant::now();
    while !journal_lines(path).iter().any(|l| l["kind"] == kind) {
        assert!(
            asked.elapsed() < timeout,
            "no {kind} journaled in {timeout:?}; screen:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(50));
    }
}
