//! `warroom restore-points` on the simulator (issue 10, item 3): the simulated series' backups
//! with the same columns as PostgreSQL's and RDS's (time, kind, size, last verified from the
//! verification history, TAINTED after `--onset`, FAILED attempts) and the simulated WAL
//! archive's window; `--at` checked by the one resolver against the list.

mod common;

use std::path::Path;
use std::process::Command;

use common::{BIN, Scratch};

fn run(args: &[&str], state: &Path) -> (i32, String, String) {
    let out = Command::new(BIN)
        .args(args)
        .env("XDG_STATE_HOME", state)
        .output()
        .expect("run warroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn time(v: &serde_json::Value) -> chrono::DateTime<chrono::Utc> {
    chrono::DateTime::parse_from_rfc3339(v.as_str().expect("a time"))
        .expect("RFC 3339")
        .with_timezone(&chrono::Utc)
}

#[test]
fn the_simulator_lists_its_series_and_window() {
    let state = Scratch::new("points-sim");
    let (code, json, err) = run(&["--seed", "7", "restore-points", "--json"], state.path());
    assert_eq!(code, 0, "{err}");
    let v: serde_json::Value = serde_json::from_str(&json).expect("json");
    assert_eq!(v["database"], "primary");
    let backups = v["backups"].as_array().expect("backups");
    assert!(backups.len() > 10, "{json}");
    // Newest first; every series but the WAL archive.
    let times: Vec<_> = backups.iter().map(|b| time(&b["time"])).collect();
    assert!(times.windows(2).all(|w| w[0] >= w[1]));
    assert!(backups.iter().any(|b| b["series"] == "snapshots"));
    assert!(!backups.iter().any(|b| b["series"] == "wal-archive"));
    let window = &v["pitr"]["windows"][0];
    let (from, to) = (time(&window["from"]), time(&window["to"]));
    assert!(from < to, "{window}");

    // A verification in the history shows as that backup's last verified.
    let snap = backups
        .iter()
        .find(|b| b["series"] == "snapshots" && b["failed"] == false)
        .expect("a snapshot");
    let name = snap["name"].as_str().expect("name");
    let dir = state.path().join("warroom");
    std::fs::create_dir_all(&dir).expect("state dir");
    let line = serde_json::json!({
        "environment": "demo", "series": "snapshots", "backup": name,
        "at": "2026-11-26T10:31:00Z", "ok": false, "detail": "checksum mismatch"
    });
    std::fs::write(dir.join("verifications.jsonl"), format!("{line}\n")).expect("history");
    let onset = time(&snap["time"]);
    let (code, text, err) = run(
        &[
            "--seed",
            "7",
            "restore-points",
            "--onset",
            &onset.to_rfc3339(),
        ],
        state.path(),
    );
    assert_eq!(code, 0, "{err}");
    println!("{text}");
    let row = text
        .lines()
        .find(|l| l.contains(name))
        .unwrap_or_else(|| panic!("{name} listed:\n{text}"));
    assert!(row.contains("2026-11-26 10:31:00 UTC FAILED"), "{row}");
    // Taken at the onset: it holds the corruption.
    assert!(row.contains("TAINTED"), "{row}");
    assert!(text.contains("simulated WAL archive"), "{text}");
    // Nothing passed a restore test: nothing is verified.
    assert!(text.contains("latest verified backup: none"), "{text}");

    // An older snapshot passes its restore test: it is the latest verified backup; the
    // failed one never is.
    let older = backups
        .iter()
        .find(|b| b["series"] == "snapshots" && b["failed"] == false && time(&b["time"]) < onset)
        .expect("an older snapshot");
    let older_name = older["name"].as_str().expect("name");
    let passed = serde_json::json!({
        "environment": "demo", "series": "snapshots", "backup": older_name,
        "at": "2026-11-26T10:32:00Z", "ok": true, "detail": "rows and checksum match"
    });
    std::fs::write(
        dir.join("verifications.jsonl"),
        format!("{line}\n{passed}\n"),
    )
    .expect("history");
    let (code, text, err) = run(
        &[
            "--seed",
            "7",
            "restore-points",
            "--onset",
            &onset.to_rfc3339(),
        ],
        state.path(),
    );
    assert_eq!(code, 0, "{err}");
    let latest = text
        .lines()
        .find(|l| l.starts_with("latest verified backup"))
        .unwrap_or_else(|| panic!("a latest verified line:\n{text}"));
    assert!(latest.contains(older_name), "{latest}");
    assert!(!latest.contains(name), "{latest}");

    // --at: before the window refused, naming it; inside accepted (point in time).
    let before = from - chrono::TimeDelta::hours(1);
    let (code, _, err) = run(
        &[
            "--seed",
            "7",
            "restore-points",
            "--at",
            &before.to_rfc3339(),
        ],
        state.path(),
    );
    assert_eq!(code, 1, "{err}");
    assert!(err.contains("refused") && err.contains("window"), "{err}");
    let inside = to - chrono::TimeDelta::minutes(3);
    let (code, _, err) = run(
        &[
            "--seed",
            "7",
            "restore-points",
            "--at",
            &inside.to_rfc3339(),
        ],
        state.path(),
    );
    assert_eq!(code, 0, "{err}");
    assert!(err.contains("WAL replay"), "{err}");

    // An unknown database is bad input.
    let (code, _, err) = run(&["restore-points", "--db", "nope"], state.path());
    assert_eq!(code, 2, "{err}");
    assert!(err.contains("unknown database"), "{err}");
}
