//! Shared by the PostgreSQL tests: finding the server programs, skipping without them (failing
//! instead when `CI` is set), and labs in short temporary directories stopped by a Drop guard.

#![allow(dead_code)]

use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};

use warroom::env::Environment;
use warroom::lab::{self, LabState, UpOptions};

/// Whether the PostgreSQL server programs are installed. Without them a test prints
/// `skipped: PostgreSQL not installed` and returns, unless `CI` is set: then it fails, so a CI
/// machine without PostgreSQL cannot pass by skipping.
pub fn postgres_or_skip() -> bool {
    match lab::server_bin_dir() {
        Ok(_) => true,
        Err(e) => {
            if std::env::var_os("CI").is_some() {
                panic!("CI is set but PostgreSQL is not installed: {e}");
            }
            println!("skipped: PostgreSQL not installed");
            false
        }
    }
}

/// A fresh, short directory under /tmp (unix socket paths must stay under 107 bytes).
pub fn short_dir(tag: &str) -> PathBuf {
    static N: AtomicUsize = AtomicUsize::new(0);
    let n = N.fetch_add(1, Ordering::SeqCst);
    let dir = PathBuf::from(format!("/tmp/wr-{tag}-{}-{n}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    dir
}

/// A running lab, brought down (servers stopped, files removed) when dropped.
pub struct TestLab {
    pub state: LabState,
    pub env: Environment,
}

impl TestLab {
    /// Brings a lab up in a fresh directory: databases only (no health endpoints), no dumps.
    pub async fn up(tag: &str) -> TestLab {
        Self::up_with(
            tag,
            &UpOptions {
                health_exe: None,
                first_dumps: false,
                orders: 2000,
            },
        )
        .await
    }

    pub async fn up_with(tag: &str, options: &UpOptions) -> TestLab {
        let dir = short_dir(tag);
        let state = match lab::up(&dir, options, &|_| {}).await {
            Ok(s) => s,
            Err(e) => panic!("lab up in {}: {e}", dir.display()),
        };
        let env = Environment::load(&state.env_file()).expect("the lab's environment loads");
        TestLab { state, env }
    }

    pub fn dir(&self) -> &Path {
        &self.state.dir
    }
}

impl Drop for TestLab {
    fn drop(&mut self) {
        if let Err(e) = lab::down(&self.state.dir, &|_| {}) {
            eprintln!("lab down {}: {e}", self.state.dir.display());
        }
        let _ = std::fs::remove_dir_all(&self.state.dir);
    }
}
