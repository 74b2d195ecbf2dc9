//! Build script: the git revision for `warroom --version`.
//!
//! `WARROOM_GIT_REVISION` is `git rev-parse --short HEAD` of the repository this crate is the
//! top of, or `unknown revision` when there is none (a tarball, a vendored copy inside another
//! repository, no `git` program). It never fails the build.

use std::path::{Path, PathBuf};
use std::process::Command;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    let manifest_dir = std::env::var_os("CARGO_MANIFEST_DIR").map(PathBuf::from);
    let revision = manifest_dir
        .as_deref()
        .and_then(revision)
        .unwrap_or_else(|| "unknown revision".to_string());
    println!("cargo:rustc-env=WARROOM_GIT_REVISION={revision}");
}

/// The short revision of HEAD, if `dir` is the top of a git work tree; also asks cargo to run
/// this script again when HEAD (or the branch it names) moves.
fn revision(dir: &Path) -> Option<String> {
    let git = |args: &[&str]| -> Option<String> {
        let out = Command::new("git")
            .args(args)
            .current_dir(dir)
            .output()
            .ok()?;
        if !out.status.success() {
            return None;
        }
        let text = String::from_utf8(out.stdout).ok()?;
        let text = text.trim();
        (!text.is_empty()).then(|| text.to_string())
    };
    // Only this crate's own repository: not a parent repository it was unpacked into.
    let top = PathBuf::from(git(&["rev-parse", "--show-toplevel"])?);
    if top.canonicalize().ok()? != dir.canonicalize().ok()? {
        return None;
    }
    // `.git/HEAD` (in a worktree, its own HEAD) and the branch file HEAD points at.
    let mut watched = vec![git(&["rev-parse", "--git-path", "HEAD"])?];
    if let Some(branch) = git(&["symbolic-ref", "-q", "HEAD"]) {
        watched.extend(git(&["rev-parse", "--git-path", &branch]));
        watched.extend(git(&["rev-parse", "--git-path", "packed-refs"]));
    }
    for path in watched {
        let path = dir.join(path);
        // A path that does not exist would make cargo run this script on every build.
        if path.exists() {
            println!("cargo:rerun-if-changed={}", path.display());
        }
    }
    let rev = git(&["rev-parse", "--short", "HEAD"])?;
    rev.chars().all(|c| c.is_ascii_hexdigit()).then_some(rev)
}
