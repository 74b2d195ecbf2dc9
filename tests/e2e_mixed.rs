//! A mixed estate in a pseudo-terminal: the lab's PostgreSQL pair and its HTTP health endpoints,
//! the `api` record in Route 53 and the `api` application on ECS (both on the moto emulator).
//! The primary region is really lost (the lab's primary stopped); the shipped region-loss
//! playbook is walked to the scorecard, every step executed by warroom (no skip): the standby
//! really promoted, the record really changed, the service really scaled, each verified by its
//! wait against what the sources read.

#![cfg(feature = "aws")]

mod aws_common;
mod common;
mod common_pg;

use std::io::{Read, Write};
use std::net::TcpListener;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use aws_common::{DR_TARGET, Moto, PRIMARY_TARGET, RECORD, TEST_KEY_ID, TEST_SECRET, ZONE_NAME};
use common::{Scratch, Tui};

const T: Duration = Duration::from_secs(60);

/// What the destructive confirmation asks to type, if that dialog is open.
fn type_to_confirm(screen: &str) -> Option<String> {
    let line = screen.lines().find(|l| l.contains("DESTRUCTIVE. Type "))?;
    let rest = line.split("DESTRUCTIVE. Type ").nth(1)?;
    Some(rest.split(" and press Enter").next()?.trim().to_string())
}

/// The status word at the end of the current step's heading (`Step 3/7 · … · active`).
fn step_status(screen: &str) -> Option<String> {
    let line = screen
        .lines()
        .find(|l| l.contains("Step ") && l.contains('/'))?;
    let inner = line.split('│').nth(1).unwrap_or(line);
    inner.split('·').next_back().map(|s| s.trim().to_string())
}

/// A webhook receiver on loopback: answers 200 and keeps every request body.
fn webhook() -> (String, Arc<Mutex<Vec<String>>>) {
    let server = TcpListener::bind("127.0.0.1:0").expect("bind");
    let port = server.local_addr().expect("addr").port();
    let got = Arc::new(Mutex::new(Vec::new()));
    let sink = Arc::clone(&got);
    std::thread::spawn(move || {
        for conn in server.incoming() {
            let Ok(mut conn) = conn else { continue };
            conn.set_read_timeout(Some(Duration::from_millis(500))).ok();
            let mut request = Vec::new();
            let mut buf = [0u8; 8192];
            while let Ok(n) = conn.read(&mut buf) {
                if n == 0 {
                    break;
                }
                request.extend_from_slice(&buf[..n]);
                let text = String::from_utf8_lossy(&request);
                if let Some((head, body)) = text.split_once("\r\n\r\n") {
                    let len = head
                        .lines()
                        .find_map(|l| {
                            l.to_ascii_lowercase()
                                .strip_prefix("content-length:")
                                .and_then(|v| v.trim().parse::<usize>().ok())
                        })
                        .unwrap_or(0);
                    if body.len() >= len {
                        break;
                    }
                }
            }
            sink.lock()
                .expect("lock")
                .push(String::from_utf8_lossy(&request).into_owned());
            let _ = write!(
                conn,
                "HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n"
            );
        }
    });
    (format!("http://127.0.0.1:{port}/hook"), got)
}

/// The lab's environment with real AWS region ids, the `api` record bound to Route 53, the app
/// to ECS, the moto endpoint and a webhook.
fn mixed_env(lab_toml: &str, zone: &str, endpoint: &str) -> String {
    let cut = lab_toml
        .find("# No DNS or application deployment in the lab")
        .expect("the lab's dns/apps block");
    let base = lab_toml[..cut]
        .replace("id = \"lab-primary\"", "id = \"us-west-2\"")
        .replace("id = \"lab-dr\"", "id = \"us-east-1\"");
    format!(
        "{base}\
         [[dns]]\nname = \"api\"\nrecord = \"{RECORD}\"\npoints_to = \"primary\"\n\
         aws = {{ zone = \"{zone}\", targets = {{ primary = \"{PRIMARY_TARGET}\", dr = \"{DR_TARGET}\" }} }}\n\n\
         [[apps]]\nname = \"api\"\nreplicas = {{ primary = 3, dr = 1 }}\n\
         ecs = {{ primary = {{ cluster = \"prod\", service = \"api\" }}, dr = {{ cluster = \"prod-dr\", service = \"api\" }} }}\n\n\
         [aws]\nendpoint_url = \"{endpoint}\"\n\n\
         [webhook]\nurl_env = \"WARROOM_WEBHOOK_URL\"\n"
    )
}

/// Creates the hosted zone with `api` pointing at the primary region, and the ECS services:
/// 3 tasks in the primary region, 1 in the DR region. Returns the zone id.
async fn seed(moto: &Moto) -> String {
    let r53 = aws_common::route53(moto).await;
    let zone = r53
        .create_hosted_zone()
        .name(ZONE_NAME)
        .caller_reference("warroom-mixed")
        .send()
        .await
        .expect("hosted zone");
    let zone_id = zone
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    aws_common::upsert_cname(&r53, &zone_id, RECORD, PRIMARY_TARGET).await;
    let connector = moto.connector();
    for (region, cluster, desired) in [("us-west-2", "prod", 3), ("us-east-1", "prod-dr", 1)] {
        let ecs = connector.ecs(region, None).await;
        ecs.create_cluster()
            .cluster_name(cluster)
            .send()
            .await
            .expect("cluster");
        ecs.register_task_definition()
            .family("api")
            .container_definitions(
                aws_sdk_ecs::types::ContainerDefinition::builder()
                    .name("api")
                    .image("api:1")
                    .memory(128)
                    .build(),
            )
            .send()
            .await
            .expect("task definition");
        ecs.create_service()
            .cluster(cluster)
            .service_name("api")
            .task_definition("api")
            .desired_count(desired)
            .send()
            .await
            .expect("service");
    }
    zone_id
}

#[test]
fn region_loss_on_a_mixed_estate_walks_to_the_scorecard_with_every_step_executed() {
    if !common_pg::postgres_or_skip() {
        return;
    }
    let Some(moto) = Moto::start() else {
        return;
    };
    let rt = tokio::runtime::Runtime::new().expect("runtime");
    let lab = rt.block_on(common_pg::TestLab::up_with(
        "mixed",
        &warroom::lab::UpOptions {
            health_exe: Some(common::BIN.into()),
            first_dumps: false,
            orders: 500,
        },
    ));
    let zone = rt.block_on(seed(&moto));
    let files = Scratch::new("mixed-files");
    let lab_toml = std::fs::read_to_string(lab.state.env_file()).expect("lab.toml");
    let env_file = files.path().join("mixed.toml");
    std::fs::write(&env_file, mixed_env(&lab_toml, &zone, &moto.url)).expect("env");
    // Only the region-loss playbook in the directory: the picker offers it first.
    let playbooks = files.path().join("playbooks");
    std::fs::create_dir_all(&playbooks).expect("dir");
    std::fs::copy(
        concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/region-loss.toml"),
        playbooks.join("region-loss.toml"),
    )
    .expect("playbook");

    // Nothing the playbook asks is unsupported here.
    let check = std::process::Command::new(common::BIN)
        .arg("--env")
        .arg(&env_file)
        .arg("check")
        .arg(&playbooks)
        .output()
        .expect("check");
    let stderr = String::from_utf8_lossy(&check.stderr);
    assert!(
        check.status.success() && !stderr.contains("warning"),
        "{stderr}"
    );

    // The primary region is lost: the lab's primary server stops.
    rt.block_on(warroom::lab::fault(
        lab.dir(),
        warroom::lab::LabFault::RegionLoss,
    ))
    .expect("region loss");

    let (hook_url, posts) = webhook();
    let state = Scratch::new("mixed-state");
    let no_config = state.path().join("no-aws-config").display().to_string();
    let no_creds = state
        .path()
        .join("no-aws-credentials")
        .display()
        .to_string();
    let env_arg = env_file.display().to_string();
    let pb_arg = playbooks.display().to_string();
    let mut tui = Tui::spawn_in(
        &["--env", &env_arg, "--playbooks", &pb_arg],
        200,
        60,
        state.path(),
        &[
            ("AWS_ACCESS_KEY_ID", TEST_KEY_ID),
            ("AWS_SECRET_ACCESS_KEY", TEST_SECRET),
            ("AWS_CONFIG_FILE", &no_config),
            ("AWS_SHARED_CREDENTIALS_FILE", &no_creds),
            ("AWS_EC2_METADATA_DISABLED", "true"),
            ("WARROOM_WEBHOOK_URL", &hook_url),
        ],
    );
    tui.wait_text("LIVE", T);
    // Every source reads: the lost primary, the DR app's ECS counts, the record's region.
    tui.wait_for("the panes read the mixed estate", T, |s| {
        s.lines()
            .any(|l| l.contains("primary") && l.contains("unreachable"))
            && s.contains("api 0/1")
    });
    tui.send("p");
    tui.wait_text("Complete regional failure", T);
    tui.send("\r");
    tui.wait_text("not declared", T);
    tui.send("\r");
    tui.wait_text("Step 1/7", T);

    let start = Instant::now();
    let mut screen;
    loop {
        screen = tui.screen();
        assert!(
            start.elapsed() < Duration::from_secs(300),
            "not finished in 5 min:\n{screen}"
        );
        if screen.contains("╭ Scorecard") {
            break;
        }
        if let Some(name) = type_to_confirm(&screen) {
            tui.send(&name);
            tui.send("\r");
        } else if screen.contains("/ Enter run it") {
            tui.send("y");
        } else {
            match step_status(&screen).as_deref() {
                Some("active") => match common::next_checklist_key(&screen) {
                    Some(key) => tui.send(key),
                    None => tui.send("\r"),
                },
                Some("failed") => panic!("a step failed:\n{screen}"),
                // running, verifying: the world and the sources take their time.
                _ => {}
            }
        }
        std::thread::sleep(Duration::from_millis(200));
    }
    assert!(screen.contains("RTO achieved"), "{screen}");
    tui.send("\x1b");
    tui.send("q");
    tui.send("q");
    let _ = tui.wait_exit(T);

    // The record: every step executed by warroom, each action's step done, none skipped.
    let journal = common::the_journal_in(state.path());
    let lines = common::journal_lines(&journal);
    let kinds: Vec<&str> = lines.iter().filter_map(|l| l["kind"].as_str()).collect();
    assert!(!kinds.contains(&"skipped"), "no step skipped: {kinds:?}");
    for step in ["promote", "scale-dr", "dns", "notify"] {
        assert!(
            lines
                .iter()
                .any(|l| l["kind"] == "confirmed" && l["step"] == step),
            "{step} confirmed and executed: {kinds:?}"
        );
    }
    for (step, condition) in [
        ("promote", "dr-replica"),
        ("scale-dr", "api"),
        ("dns", "api"),
    ] {
        assert!(
            lines.iter().any(|l| l["kind"] == "verifying"
                && l["step"] == step
                && l["condition"]
                    .as_str()
                    .is_some_and(|c| c.contains(condition))),
            "{step} verified: {kinds:?}"
        );
        assert!(
            lines.iter().any(|l| l["kind"] == "step_finished"
                && l["step"] == step
                && l["outcome"] == "done"
                && l["verified"] == true),
            "{step} done and verified: {kinds:?}"
        );
    }
    assert!(
        kinds.contains(&"resolved"),
        "the incident is resolved: {kinds:?}"
    );

    // The world: the standby is a primary that takes writes, the record points at the DR
    // region, the DR service wants 3 tasks, and the webhook got the notice.
    let promoted = rt.block_on(async {
        let c = lab
            .state
            .target("dr-replica")
            .expect("target")
            .connect()
            .await
            .expect("connect");
        c.query_one("SELECT pg_is_in_recovery()", &[])
            .await
            .expect("query")
            .get::<_, bool>(0)
    });
    assert!(!promoted, "dr-replica left recovery");
    let r53 = rt.block_on(aws_common::route53(&moto));
    assert_eq!(
        rt.block_on(aws_common::record_value(&r53, &zone, RECORD)),
        DR_TARGET
    );
    let dr = rt.block_on(async {
        moto.connector()
            .ecs("us-east-1", None)
            .await
            .describe_services()
            .cluster("prod-dr")
            .services("api")
            .send()
            .await
            .expect("describe")
    });
    assert_eq!(dr.services()[0].desired_count(), 3);
    assert_eq!(moto.count("ecs:UpdateService"), 1);
    let posts = posts.lock().expect("lock");
    assert_eq!(posts.len(), 1, "one notice");
    assert!(
        posts[0].contains("Complete failure of the primary region"),
        "{}",
        posts[0]
    );
    // The Regions pane showed the DR application ready at its new size.
    assert!(screen.contains("api 3/3"), "{screen}");
}
