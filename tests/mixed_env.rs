//! A backend per resource: an environment that mixes PostgreSQL databases, Route 53 DNS, ECS
//! applications and HTTP health checks. `warroom check --env` on a PostgreSQL-only environment
//! flags the shipped region-loss playbook's `app.scale` and `dns.point` (and the waits nothing
//! observes); on the mixed one, nothing. ECS on the moto emulator: `app.scale` sets the desired
//! count through UpdateService and the ECS source reads ready/desired.

#![cfg(feature = "aws")]

mod aws_common;

use std::process::Command;
use std::sync::Arc;

use aws_common::{Moto, Scratch};
use warroom::actions::ecs::EcsBackend;
use warroom::actions::router::Router;
use warroom::actions::{ActionBackend, Call};
use warroom::env::{Backend, Binding, Environment, NameKind};
use warroom::telemetry::Source;
use warroom::telemetry::aws::ecs::EcsSource;

/// A self-hosted PostgreSQL pair with HTTP health checks; DNS and the app bound to nothing.
const PG_ONLY: &str = r#"
name = "selfhosted"
objectives = { rto = "30m", rpo = "5m" }

[[regions]]
name = "primary"
id = "us-west-2"
role = "primary"
health = ["http://127.0.0.1:9/health"]

[[regions]]
name = "dr"
id = "us-east-1"
role = "dr"
health = ["http://127.0.0.1:9/health"]

[[databases]]
name = "primary"
region = "primary"
postgres = { dsn = "host=127.0.0.1 port=9 dbname=app user=warroom" }

[[databases]]
name = "dr-replica"
region = "dr"
replica_of = "primary"
postgres = { dsn = "host=127.0.0.1 port=9 dbname=app user=warroom" }

[[dns]]
name = "api"
record = "api.example.com"
points_to = "primary"

[[apps]]
name = "api"
replicas = { primary = 3, dr = 1 }
"#;

/// The same estate with the record in Route 53, the app on ECS and a notification webhook.
fn mixed(zone: &str) -> String {
    PG_ONLY
        .replace(
            "points_to = \"primary\"\n",
            &format!(
                "points_to = \"primary\"\naws = {{ zone = \"{zone}\", targets = {{ primary = \
                 \"api-usw2.example.net\", dr = \"api-use1.example.net\" }} }}\n"
            ),
        )
        .replace(
            "replicas = { primary = 3, dr = 1 }\n",
            "replicas = { primary = 3, dr = 1 }\necs = { primary = { cluster = \"prod\", \
             service = \"api\" }, dr = { cluster = \"prod-dr\", service = \"api\" } }\n",
        )
        + "\n[webhook]\nurl_env = \"WARROOM_WEBHOOK_URL\"\n"
}

fn check(env_text: &str, dir: &Scratch) -> (i32, String, String) {
    let env = dir.0.join("env.toml");
    std::fs::write(&env, env_text).expect("write env");
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .arg("--env")
        .arg(&env)
        .args([
            "check",
            concat!(env!("CARGO_MANIFEST_DIR"), "/playbooks/region-loss.toml"),
        ])
        .env("XDG_STATE_HOME", &dir.0)
        .output()
        .expect("run warroom check");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

#[test]
fn bindings_are_per_resource() {
    let pg = Environment::parse("pg.toml", PG_ONLY).expect("valid");
    assert_eq!(pg.backend(), Backend::Postgres);
    assert_eq!(
        pg.binding(NameKind::Database, "dr-replica"),
        Some(Binding::Postgres)
    );
    assert_eq!(pg.binding(NameKind::Region, "dr"), Some(Binding::Http));
    assert_eq!(pg.binding(NameKind::Dns, "api"), None);
    assert_eq!(pg.binding(NameKind::App, "api"), None);
    let mix = Environment::parse("mixed.toml", &mixed("Z1")).expect("valid");
    assert_eq!(mix.backend(), Backend::Mixed);
    assert_eq!(
        mix.binding(NameKind::Database, "primary"),
        Some(Binding::Postgres)
    );
    assert_eq!(mix.binding(NameKind::Dns, "api"), Some(Binding::Aws));
    assert_eq!(mix.binding(NameKind::App, "api"), Some(Binding::Ecs));
    assert_eq!(mix.binding(NameKind::Region, "dr"), Some(Binding::Http));
    assert_eq!(mix.binding(NameKind::App, "web"), None);
    // The simulator does not mix with real resources.
    let err = Environment::parse(
        "bad.toml",
        &PG_ONLY.replace(
            "points_to = \"primary\"\n",
            "points_to = \"primary\"\nsim = {}\n",
        ),
    )
    .expect_err("sim among real")
    .to_string();
    assert!(
        err.contains("\"api\" is simulated") && err.contains("is real (postgres)"),
        "{err}"
    );
    // An ECS service for a region that does not exist is located.
    let err = Environment::parse(
        "bad.toml",
        &mixed("Z1").replace("dr = { cluster", "mars = { cluster"),
    )
    .expect_err("unknown region")
    .to_string();
    assert!(
        err.contains("app \"api\": ECS service for unknown region \"mars\""),
        "{err}"
    );
}

#[test]
fn check_flags_app_scale_and_dns_point_on_postgres_only_and_nothing_on_the_mixed_estate() {
    let dir = Scratch::new("mixed-check");
    let (code, out, err) = check(PG_ONLY, &dir);
    assert_eq!(code, 0, "{out}\n{err}");
    let warnings: Vec<&str> = err.lines().filter(|l| l.starts_with("warning:")).collect();
    let flagged = |step: &str, what: &str| {
        warnings
            .iter()
            .any(|w| w.contains(&format!("step {step}: {what}")))
    };
    assert!(
        flagged("scale-dr", "action app.scale: app \"api\" has no binding"),
        "{err}"
    );
    assert!(
        flagged("dns", "action dns.point: DNS record \"api\" has no binding"),
        "{err}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("step scale-dr: wait (")
            && w.contains("app \"api\" has no binding that observes it")),
        "{err}"
    );
    assert!(
        warnings.iter().any(|w| w.contains("step dns: wait (")
            && w.contains("DNS record \"api\" has no binding that observes it")),
        "{err}"
    );
    assert!(flagged("notify", "action notify.webhook"), "{err}");
    assert!(
        out.contains("    promote: SELECT pg_promote() on dr-replica"),
        "{out}"
    );

    let (code, out, err) = check(&mixed("Z1"), &dir);
    assert_eq!(code, 0, "{out}\n{err}");
    assert!(
        !err.contains("warning"),
        "nothing is flagged on the mixed estate:\n{err}"
    );
    for (step, says) in [
        ("promote", "SELECT pg_promote() on dr-replica"),
        (
            "scale-dr",
            "ecs:UpdateService cluster=prod-dr service=api desiredCount=3 (region us-east-1)",
        ),
        (
            "dns",
            "route53:ChangeResourceRecordSets HostedZoneId=Z1 UPSERT api.example.com CNAME TTL=60 -> api-use1.example.net",
        ),
        ("notify", "POST {\"text\": "),
    ] {
        assert!(
            out.contains(&format!("    {step}: {says}")),
            "{step}: {says}\n{out}"
        );
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn app_scale_on_ecs_sets_the_desired_count_and_the_source_reads_it() {
    let Some(moto) = Moto::start() else {
        return;
    };
    let connector = moto.connector();
    // The primary region's cluster exists, without the service.
    connector
        .ecs("us-west-2", None)
        .await
        .create_cluster()
        .cluster_name("prod")
        .send()
        .await
        .expect("cluster");
    let ecs = connector.ecs("us-east-1", None).await;
    ecs.create_cluster()
        .cluster_name("prod-dr")
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
        .cluster("prod-dr")
        .service_name("api")
        .task_definition("api")
        .desired_count(1)
        .send()
        .await
        .expect("service");

    let env = Environment::parse("mixed.toml", &mixed("Z1")).expect("env");
    let mut source = EcsSource::for_env(&env, Arc::clone(&connector)).expect("ECS is bound");
    let before = source.poll().await.expect("read");
    let dr = before
        .apps
        .iter()
        .find(|a| a.name == "api" && a.region == "dr")
        .expect("api in dr");
    assert_eq!((dr.desired, dr.ready), (1, 0), "{:?}", before.apps);
    // The primary region's service does not exist: it reads 0 of 0 (the pane shows it).
    let primary = before
        .apps
        .iter()
        .find(|a| a.region == "primary")
        .expect("primary");
    assert_eq!((primary.desired, primary.ready), (0, 0));

    let mut router = Router::new(&env);
    router.ecs = Some(Arc::new(EcsBackend::new(&env, Arc::clone(&connector))));
    let scale = Call::parse(
        "app.scale",
        &[("app", "api"), ("region", "dr"), ("replicas", "4")],
    )
    .expect("call");
    assert_eq!(router.unsupported(&scale), None);
    assert_eq!(
        router.describe(&scale),
        "ecs:UpdateService cluster=prod-dr service=api desiredCount=4 (region us-east-1), then read it back"
    );
    assert_eq!(moto.count("ecs:UpdateService"), 0, "describe calls nothing");
    let lines = router.execute(&scale, &|_| {}).await.expect("scaled");
    assert!(lines[0].starts_with("api in dr: desired 4"), "{lines:?}");
    assert_eq!(moto.count("ecs:UpdateService"), 1);

    let after = source.poll().await.expect("read");
    let dr = after
        .apps
        .iter()
        .find(|a| a.name == "api" && a.region == "dr")
        .expect("api in dr");
    assert_eq!((dr.desired, dr.ready), (4, 4), "{:?}", after.apps);
    // The wait of the region-loss playbook's scale step holds on this reading.
    let wait = warroom::playbook::Condition::AppReady {
        app: "api".into(),
        region: "dr".into(),
        at_least: 4,
    };
    assert!(wait.observe(&after, after.at).met);
    assert!(!wait.observe(&before, before.at).met);

    // A service the environment does not bind: said before anything is called.
    let nowhere = Call::parse(
        "app.scale",
        &[("app", "api"), ("region", "primary"), ("replicas", "2")],
    )
    .expect("call");
    let err = router
        .execute(&nowhere, &|_| {})
        .await
        .expect_err("missing service")
        .to_string();
    assert!(err.contains("ecs:UpdateService in us-west-2"), "{err}");
    // Other actions are not ECS's, whatever the router is asked.
    let promote = Call::parse("db.promote", &[("db", "dr-replica")]).expect("call");
    let ecs_only = EcsBackend::new(&env, connector);
    assert!(
        ecs_only
            .unsupported(&promote)
            .is_some_and(|w| w.contains("not an ECS action"))
    );
}

#[test]
fn drills_inject_faults_only_where_every_touched_resource_is_simulated_or_a_lab() {
    let region_loss = |env: &Environment| {
        warroom::playbook::parse(
            "region-loss.toml",
            include_str!("../playbooks/region-loss.toml"),
            env,
        )
        .expect("the shipped playbook loads")
    };
    let demo = Environment::demo();
    assert_eq!(
        warroom::backends::drill_refusal(&demo, &region_loss(&demo)),
        None
    );
    let mix = Environment::parse("mixed.toml", &mixed("Z1")).expect("env");
    let why = warroom::backends::drill_refusal(&mix, &region_loss(&mix)).expect("refused");
    for named in [
        "app \"api\" (ecs)",
        "DNS record \"api\" (aws)",
        "database \"dr-replica\" (postgres)",
        "region \"dr\" (http)",
    ] {
        assert!(why.contains(named), "{named}: {why}");
    }
}
