//! The console against the AWS emulator in a pseudo-terminal: the LIVE badge, no AWS call before
//! the typed confirmation, exactly one PromoteReadReplica after it, and none at all read-only.

#![cfg(feature = "aws")]

mod aws_common;
mod common;

use std::time::Duration;

use aws_common::{DR_DB, Moto, TEST_KEY_ID, TEST_SECRET, seed_two_regions, two_region_env};
use common::{Scratch, Tui};

const T: Duration = Duration::from_secs(30);

const PROMOTE_ONLY: &str = r#"
id = "promote-only"
title = "Promote the DR replica"
scenario = "custom"
summary = "One destructive step."
rto = "30m"
rpo = "5m"

[[steps]]
id = "promote"
title = "Promote the DR replica"
target = "5m"
action = "db.promote"
with = { db = "dr-replica" }
destructive = true
"#;

/// The console on the seeded emulator with only test credentials, at 200x60.
fn console(
    moto: &Moto,
    env_file: &std::path::Path,
    playbooks: &std::path::Path,
    state: &Scratch,
    read_only: bool,
) -> Tui {
    console_at(moto, env_file, playbooks, state, read_only, (200, 60))
}

/// [`console`] at a terminal size.
fn console_at(
    moto: &Moto,
    env_file: &std::path::Path,
    playbooks: &std::path::Path,
    state: &Scratch,
    read_only: bool,
    (cols, rows): (u16, u16),
) -> Tui {
    let mut args = vec![
        "--env".to_string(),
        env_file.display().to_string(),
        "--endpoint-url".to_string(),
        moto.url.clone(),
        "--playbooks".to_string(),
        playbooks.display().to_string(),
    ];
    if read_only {
        args.push("--read-only".into());
    }
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let no_config = state.path().join("no-aws-config").display().to_string();
    let no_creds = state
        .path()
        .join("no-aws-credentials")
        .display()
        .to_string();
    Tui::spawn_in(
        &args,
        cols,
        rows,
        state.path(),
        &[
            ("AWS_ACCESS_KEY_ID", TEST_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET),
            ("AWS_CONFIG_FILE", &no_config),
            ("AWS_SHARED_CREDENTIALS_FILE", &no_creds),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    )
}

fn setup(tag: &str) -> Option<(Moto, Scratch, Scratch)> {
    let moto = Moto::start()?;
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = rt.block_on(seed_two_regions(&moto, 7.0));
    let files = Scratch::new(tag);
    std::fs::write(files.path().join("aws.toml"), two_region_env(&seeded)).expect("env file");
    std::fs::create_dir_all(files.path().join("playbooks")).expect("dir");
    std::fs::write(
        files.path().join("playbooks/promote-only.toml"),
        PROMOTE_ONLY,
    )
    .expect("playbook");
    moto.reset_calls();
    Some((moto, files, Scratch::new(&format!("{tag}-state"))))
}

fn load_and_declare(tui: &Tui) {
    tui.wait_text("LIVE", T);
    tui.wait_text("dr-replica", T);
}

#[test]
fn promote_calls_aws_only_after_the_typed_confirmation() {
    let Some((moto, files, state)) = setup("aws-console") else {
        return;
    };
    let mut tui = console(
        &moto,
        &files.path().join("aws.toml"),
        &files.path().join("playbooks"),
        &state,
        false,
    );
    load_and_declare(&tui);
    tui.send("p");
    tui.wait_text("promote-only", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/1", T);
    tui.send("\r");
    let screen = tui.wait_text("Type dr-replica", T);
    assert!(
        screen.contains(DR_DB),
        "the dialog names the real instance:\n{screen}"
    );
    assert!(
        screen.contains("rds:PromoteReadReplica"),
        "the dialog shows the backend's own description of the call:\n{screen}"
    );
    assert_eq!(
        moto.count("rds:PromoteReadReplica"),
        0,
        "nothing may be called before the confirmation"
    );
    tui.send("dr-replica");
    tui.send("\r");
    let deadline = std::time::Instant::now() + T;
    while moto.count("rds:PromoteReadReplica") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "PromoteReadReplica never called:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let calls = moto.calls_of("rds:PromoteReadReplica");
    assert_eq!(calls.len(), 1);
    assert!(calls[0].to_string().contains(DR_DB), "{:?}", calls[0]);
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
}

#[test]
fn read_only_calls_nothing() {
    let Some((moto, files, state)) = setup("aws-readonly") else {
        return;
    };
    let mut tui = console(
        &moto,
        &files.path().join("aws.toml"),
        &files.path().join("playbooks"),
        &state,
        true,
    );
    load_and_declare(&tui);
    tui.send("p");
    tui.wait_text("promote-only", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/1", T);
    tui.send("\r");
    tui.wait_text("read-only", T);
    std::thread::sleep(Duration::from_millis(500));
    for op in [
        "rds:PromoteReadReplica",
        "rds:CreateDBSnapshot",
        "route53:ChangeResourceRecordSets",
        "rds:FailoverDBCluster",
        "rds:RebootDBInstance",
    ] {
        assert_eq!(moto.count(op), 0, "{op} called in read-only mode");
    }
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
}

#[test]
fn the_dialog_shows_the_backends_exact_call_at_80x24() {
    let Some((moto, files, state)) = setup("aws-80x24") else {
        return;
    };
    let mut tui = console_at(
        &moto,
        &files.path().join("aws.toml"),
        &files.path().join("playbooks"),
        &state,
        false,
        (80, 24),
    );
    tui.wait_text("LIVE", T);
    tui.send("p");
    tui.wait_text("promote-only", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/1", T);
    tui.send("\r");
    let screen = tui.wait_text("Type dr-replica", T);
    assert!(
        screen.contains("backend") && screen.contains("rds:PromoteReadReplica"),
        "the backend's own description, wrapped into the dialog at 80x24:\n{screen}"
    );
    // Describing is not calling.
    assert_eq!(moto.count("rds:PromoteReadReplica"), 0);
    // Esc cancels the dialog (sent alone: Esc and q together read as Alt-q).
    tui.send("\x1b");
    tui.wait_for("the dialog closed", T, |s| !s.contains("Type dr-replica"));
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
    assert_eq!(moto.count("rds:PromoteReadReplica"), 0);
}
