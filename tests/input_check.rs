//! Input files are checked the same way by every command: `check --env` refuses every environment
//! that `status` and the console would refuse, with `file:line:col` and status 1 (issue: "check
//! --env passes environments that status refuses"); a theme is read by every command given one.

mod common;

use std::path::{Path, PathBuf};
use std::process::Command;

const DEMO: &str = include_str!("../src/env/demo.toml");
const HEALTH: &str = "https://api.us-west-2.pynomaly.example/health";

/// A directory of this test's own (tests run in parallel and each removes its directory).
fn dir(test: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("warroom-env-check-{}-{test}", std::process::id()));
    std::fs::create_dir_all(&d).expect("temp dir");
    d
}

fn line_col(src: &str, needle: &str) -> (usize, usize) {
    let at = src.find(needle).expect("needle in file");
    let line = src[..at].lines().count().max(1);
    let line_start = src[..at].rfind('\n').map_or(0, |n| n + 1);
    let line = if src[..at].ends_with('\n') {
        line + 1
    } else {
        line
    };
    (line, at - line_start + 1)
}

/// Runs `warroom --env FILE <args>`: (status code, stderr).
fn run(env: &Path, args: &[&str]) -> (Option<i32>, String) {
    let out = Command::new(common::BIN)
        .arg("--env")
        .arg(env)
        .args(args)
        .env("NO_COLOR", "1")
        .output()
        .expect("run warroom");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bad_health_urls_and_self_replication_fail_check_with_a_location() {
    let d = dir("urls");
    let cases: Vec<(&str, String, &str, &str)> = vec![
        (
            "not-a-url",
            DEMO.replacen(HEALTH, "not a url", 1),
            "\"not a url\"",
            "bad health URL",
        ),
        (
            "file-url",
            DEMO.replacen(HEALTH, "file:///etc/passwd", 1),
            "\"file:///etc/passwd\"",
            "must be http:// or https://",
        ),
        (
            "open-bracket",
            DEMO.replacen(HEALTH, "http://[::1", 1),
            "\"http://[::1\"",
            "bad health URL",
        ),
        (
            "self-replica",
            DEMO.replacen("replica_of = \"primary\"", "replica_of = \"dr-replica\"", 1),
            "\"dr-replica\"\nlag_alarm",
            "replicates from itself",
        ),
    ];
    for (name, src, needle, why) in cases {
        let path = d.join(format!("{name}.toml"));
        std::fs::write(&path, &src).expect("write env");
        let (line, col) = line_col(&src, needle);
        let want = format!("{}:{line}:{col}: ", path.display());
        let (code, err) = run(&path, &["check", "playbooks"]);
        assert_eq!(code, Some(1), "{name}: check must fail with 1\n{err}");
        assert!(err.contains(&want), "{name}: expected {want:?} in\n{err}");
        assert!(err.contains(why), "{name}: expected {why:?} in\n{err}");
        // `status` refuses it for the same reason, at the same place (exit 2: bad input).
        let (code, err) = run(&path, &["status"]);
        assert_eq!(code, Some(2), "{name}: status\n{err}");
        assert!(err.contains(&want), "{name}: status: {err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn a_replication_cycle_is_refused() {
    let d = dir("cycle");
    // primary <- dr-replica, and primary now replicates from dr-replica: a cycle, no primary.
    let src = DEMO.replacen(
        "multi_az = true\n",
        "multi_az = true\nreplica_of = \"dr-replica\"\n",
        1,
    );
    let path = d.join("cycle.toml");
    std::fs::write(&path, &src).expect("write env");
    let (code, err) = run(&path, &["check", "playbooks"]);
    assert_eq!(code, Some(1), "{err}");
    assert!(
        err.contains("replication cycle: primary -> dr-replica -> primary"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn the_demo_environment_still_passes() {
    let d = dir("demo");
    let path = d.join("demo.toml");
    std::fs::write(&path, DEMO).expect("write env");
    let (code, err) = run(&path, &["check", "playbooks"]);
    assert_eq!(code, Some(0), "{err}");
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn every_command_reads_the_theme_it_is_given() {
    let d = dir("theme");
    let missing = d.join("missing.toml");
    let not_utf8 = d.join("latin1.toml");
    std::fs::write(&not_utf8, b"# caf\xe9\n").expect("write theme");
    for (theme, want) in [
        (
            &missing,
            format!("{}:1:1: cannot read theme file", missing.display()),
        ),
        (
            &not_utf8,
            format!("{}:1:6: the theme file is not UTF-8", not_utf8.display()),
        ),
    ] {
        for args in [
            &["status"][..],
            &["check", "playbooks"],
            &["show", "region-loss"],
        ] {
            let out = Command::new(common::BIN)
                .arg("--theme")
                .arg(theme)
                .args(args)
                .output()
                .expect("run warroom");
            let err = String::from_utf8_lossy(&out.stderr);
            assert_eq!(out.status.code(), Some(2), "{args:?}: {err}");
            assert!(err.contains(&want), "{args:?}: expected {want:?} in {err}");
        }
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn speed_is_refused_where_the_environment_is_real() {
    let d = dir("speed");
    let out = Command::new(common::BIN)
        .args(["--env", "tests/fixtures/env/pg_valid.toml", "--speed", "60"])
        .env("XDG_STATE_HOME", &d)
        .stdin(std::process::Stdio::null())
        .output()
        .expect("run warroom");
    let err = String::from_utf8_lossy(&out.stderr);
    assert_eq!(out.status.code(), Some(2), "{err}");
    assert!(
        err.contains("--speed 60 applies to the simulator only"),
        "{err}"
    );
    // Refused before the terminal was taken: no alternate screen.
    assert!(!out.stdout.windows(8).any(|w| w == b"\x1b[?1049h"));
    let _ = std::fs::remove_dir_all(&d);
}

/// Runs `warroom <args>` with its stdout a pipe whose reader is already gone: every write fails
/// with EPIPE. Returns (exit code, stderr).
fn with_closed_stdout(args: &[&str]) -> (Option<i32>, String) {
    let mut child = Command::new(common::BIN)
        .args(args)
        .stdin(std::process::Stdio::null())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("spawn warroom");
    // Close the read end before the program writes anything.
    drop(child.stdout.take());
    let out = child.wait_with_output().expect("wait");
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn a_closed_stdout_ends_every_command_quietly() {
    let journal = "tests/fixtures/journals/v2/region-loss-drill.jsonl";
    let cases: [&[&str]; 8] = [
        &["status"],
        &["status", "--json"],
        &["show", "region-loss"],
        &["check", "playbooks"],
        &["report", journal],
        &["report", journal, "--format", "json"],
        &["history", "tests/fixtures/journals/history"],
        &["verify", journal],
    ];
    for args in cases {
        let (code, err) = with_closed_stdout(args);
        assert!(!err.contains("panicked"), "{args:?} panicked:\n{err}");
        assert_ne!(code, Some(101), "{args:?}: {err}");
    }
}

/// `warroom join` with no AWS credentials anywhere said `the store cannot be reached:
/// ""other""`: it names the missing credentials and what to set.
#[test]
fn a_store_without_credentials_is_named_as_such() {
    let home = dir("no-credentials");
    let out = Command::new(common::BIN)
        .args([
            "join",
            "s3://bucket/prefix",
            "--endpoint-url",
            "http://127.0.0.1:9",
        ])
        .env_clear()
        .env("HOME", &home)
        .env("PATH", std::env::var_os("PATH").unwrap_or_default())
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env("NO_COLOR", "1")
        .output()
        .expect("run warroom");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert_ne!(out.status.code(), Some(0), "{stderr}");
    assert!(
        stderr.contains("no usable credentials") && stderr.contains("AWS_PROFILE"),
        "{stderr}"
    );
    assert!(!stderr.contains("\"\"other\"\""), "{stderr}");
    let _ = std::fs::remove_dir_all(&home);
}
