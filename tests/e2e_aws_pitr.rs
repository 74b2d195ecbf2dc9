//! Issue 10 on AWS, through the console in a pseudo-terminal against moto: a `db.restore` step to
//! a time shows the point and the exact `RestoreDBInstanceToPointInTime` call, calls nothing
//! before the typed confirmation, and exactly one restore, with that time and the environment's
//! target name, after it.

#![cfg(feature = "aws")]

mod aws_common;
mod common;

use std::time::Duration;

use aws_common::{Moto, PRIMARY_DB, TEST_KEY_ID, TEST_SECRET, seed_two_regions, two_region_env};
use common::{Scratch, Tui};

const T: Duration = Duration::from_secs(30);

fn playbook(to: &str) -> String {
    format!(
        r#"
id = "restore-only"
title = "Restore the primary to a point in time"
scenario = "custom"
summary = "One destructive step."
rto = "30m"
rpo = "5m"

[[steps]]
id = "restore"
title = "Restore the primary to a point in time"
target = "30m"
action = "db.restore"
with = {{ db = "primary", backup = "automated-snapshot", to = "{to}" }}
destructive = true
capture_rpo = true
"#
    )
}

#[test]
fn restore_to_a_time_calls_aws_only_after_the_typed_confirmation() {
    let Some(moto) = Moto::start() else { return };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let seeded = rt.block_on(seed_two_regions(&moto, 3.0));
    std::thread::sleep(Duration::from_millis(1100));
    // A whole second after the instance and its automated snapshot exist: inside RDS's window.
    let point = chrono::Utc::now()
        .with_nanosecond_zero()
        .to_rfc3339_opts(chrono::SecondsFormat::Secs, true);
    std::thread::sleep(Duration::from_millis(1100));
    let files = Scratch::new("aws-pitr");
    let env = two_region_env(&seeded).replacen(
        "aws = { instance = \"pynomaly-prod\" }",
        "aws = { instance = \"pynomaly-prod\", restore_instance = \"pynomaly-prod-pitr\" }",
        1,
    );
    std::fs::write(files.path().join("aws.toml"), env).expect("env");
    std::fs::create_dir_all(files.path().join("playbooks")).expect("dir");
    std::fs::write(
        files.path().join("playbooks/restore-only.toml"),
        playbook(&point),
    )
    .expect("playbook");
    moto.reset_calls();
    let state = Scratch::new("aws-pitr-state");
    let no_config = state.path().join("no-aws-config").display().to_string();
    let no_creds = state
        .path()
        .join("no-aws-credentials")
        .display()
        .to_string();
    let args = [
        "--env".to_string(),
        files.path().join("aws.toml").display().to_string(),
        "--endpoint-url".to_string(),
        moto.url.clone(),
        "--playbooks".to_string(),
        files.path().join("playbooks").display().to_string(),
    ];
    let args: Vec<&str> = args.iter().map(String::as_str).collect();
    let mut tui = Tui::spawn_in(
        &args,
        200,
        60,
        state.path(),
        &[
            ("AWS_ACCESS_KEY_ID", TEST_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET),
            ("AWS_CONFIG_FILE", &no_config),
            ("AWS_SHARED_CREDENTIALS_FILE", &no_creds),
            ("AWS_EC2_METADATA_DISABLED", "true"),
        ],
    );
    tui.wait_text("LIVE", T);
    tui.wait_text("automated-snapshot", T);
    tui.send("p");
    tui.wait_text("restore-only", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/1", T);
    // Let the panes read the snapshot series before asking.
    std::thread::sleep(Duration::from_secs(2));
    // The restore-point picker lists the instance's snapshots and RDS's restorable window
    // (built off the UI thread by RDS calls to the console's endpoint); Esc keeps the
    // playbook's `to`.
    tui.send("t");
    let list = tui.wait_for("the RDS restore points", T, |s| {
        s.contains("Restore point · step 1") && s.contains("RDS manual") && s.contains("window ")
    });
    println!("{list}");
    assert!(list.contains("RDS automated"), "{list}");
    tui.send("\x1b");
    tui.wait_text("restore point kept: the playbook's to", T);
    tui.send("\r");
    let screen = tui.wait_text("Type primary", T);
    println!("{screen}");
    for part in [
        "rds:RestoreDBInstanceToPointInTime",
        "SourceDBInstanceIdentifier=pynomaly-prod",
        "TargetDBInstanceIdentifier=pynomaly-prod-pitr",
        &format!("RestoreTime={point}"),
    ] {
        assert!(screen.contains(part), "the dialog shows {part}:\n{screen}");
    }
    assert!(screen.contains("restore to"), "{screen}");
    assert_eq!(
        moto.count("rds:RestoreDBInstanceToPointInTime"),
        0,
        "nothing may be called before the confirmation"
    );
    tui.send("primary");
    tui.send("\r");
    let deadline = std::time::Instant::now() + T;
    while moto.count("rds:RestoreDBInstanceToPointInTime") == 0 {
        assert!(
            std::time::Instant::now() < deadline,
            "RestoreDBInstanceToPointInTime never called:\n{}",
            tui.screen()
        );
        std::thread::sleep(Duration::from_millis(100));
    }
    let calls = moto.calls_of("rds:RestoreDBInstanceToPointInTime");
    assert_eq!(calls.len(), 1);
    let p = &calls[0]["params"];
    assert_eq!(p["SourceDBInstanceIdentifier"], PRIMARY_DB);
    assert_eq!(p["TargetDBInstanceIdentifier"], "pynomaly-prod-pitr");
    let sent = chrono::DateTime::parse_from_rfc3339(p["RestoreTime"].as_str().expect("time"))
        .expect("RFC 3339");
    let asked = chrono::DateTime::parse_from_rfc3339(&point).expect("point");
    assert_eq!(sent.timestamp(), asked.timestamp(), "{p}");
    tui.send("q");
    tui.send("q");
    tui.wait_exit(T);
}

trait WholeSecond {
    fn with_nanosecond_zero(self) -> Self;
}

impl WholeSecond for chrono::DateTime<chrono::Utc> {
    fn with_nanosecond_zero(self) -> Self {
        chrono::DateTime::from_timestamp(self.timestamp(), 0).unwrap_or(self)
    }
}
