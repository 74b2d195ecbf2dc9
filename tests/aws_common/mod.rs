//! The AWS emulator for warroom's AWS tests: moto's server behind `tests/moto/launcher.py`
//! (call log, injected faults, health check verdicts, promotion that detaches), on a free
//! loopback port, started by each test and stopped when it ends.
//!
//! Python with `moto[server]` is found through `WARROOM_MOTO_PYTHON` (set by `.ci/run` to its
//! venv's interpreter), else `python3` on PATH. Without it a test prints `skipped: <why>` and
//! passes, unless `CI` is set: then it fails, so CI cannot go green without running them.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::io::{BufRead, BufReader, Read, Write};
use std::net::TcpStream;
use std::path::{Path, PathBuf};
use std::process::{Child, ChildStdin, Command, Stdio};
use std::sync::Arc;
use std::sync::mpsc;
use std::time::{Duration, Instant};

use aws_sdk_rds::config::Credentials;
use warroom::telemetry::aws::{AwsOptions, Connector};

/// Credentials moto accepts (it checks nothing); never real ones.
pub const TEST_KEY_ID: &str = "testing";
pub const TEST_SECRET: &str = "testing";

pub const PRIMARY_REGION: &str = "us-west-2";
pub const DR_REGION: &str = "us-east-1";
pub const PRIMARY_DB: &str = "pynomaly-prod";
pub const DR_DB: &str = "pynomaly-dr";
pub const ZONE_NAME: &str = "pynomaly.example";
pub const RECORD: &str = "api.pynomaly.example";
pub const PRIMARY_TARGET: &str = "api-usw2.pynomaly.example";
pub const DR_TARGET: &str = "api-use1.pynomaly.example";

/// How long moto may take to start on a busy 2-core machine.
const START_LIMIT: Duration = Duration::from_secs(60);

/// A running emulator; stopped on drop.
pub struct Moto {
    child: Child,
    _stdin: ChildStdin,
    pub port: u16,
    pub url: String,
}

/// Says why the AWS tests cannot run: a skip locally, a failure under CI.
pub fn skip(why: &str) {
    if std::env::var_os("CI").is_some() {
        panic!("{why} (CI is set, so the AWS tests must run: .ci/run installs moto[server])");
    }
    eprintln!("skipped: {why}");
}

fn python() -> PathBuf {
    std::env::var_os("WARROOM_MOTO_PYTHON")
        .filter(|p| !p.is_empty())
        .map_or_else(|| PathBuf::from("python3"), PathBuf::from)
}

fn launcher() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/moto/launcher.py")
}

impl Moto {
    /// Starts an emulator, or says why it cannot (see [`skip`]) and returns `None`.
    pub fn start() -> Option<Moto> {
        let python = python();
        let mut child = match Command::new(&python)
            .arg(launcher())
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
        {
            Ok(c) => c,
            Err(e) => {
                skip(&format!(
                    "cannot run {} ({e}); set WARROOM_MOTO_PYTHON to a Python with moto[server]",
                    python.display()
                ));
                return None;
            }
        };
        let (Some(stdin), Some(stdout), Some(mut stderr)) =
            (child.stdin.take(), child.stdout.take(), child.stderr.take())
        else {
            let _ = child.kill();
            let _ = child.wait();
            skip("cannot talk to the moto launcher (no pipes)");
            return None;
        };
        // The first line is `READY <port>`; read it on a thread so a hung start cannot hang us.
        let (tx, rx) = mpsc::channel();
        std::thread::spawn(move || {
            let mut line = String::new();
            let _ = BufReader::new(stdout).read_line(&mut line);
            let _ = tx.send(line);
        });
        let line = rx.recv_timeout(START_LIMIT).unwrap_or_default();
        let Some(port) = line
            .trim()
            .strip_prefix("READY ")
            .and_then(|p| p.parse::<u16>().ok())
        else {
            let _ = child.kill();
            let _ = child.wait();
            let mut err = String::new();
            let _ = stderr.read_to_string(&mut err);
            let last = err.lines().last().unwrap_or("no output").to_string();
            skip(&format!(
                "moto did not start with {} ({last}); install it with `pip install 'moto[server]'` \
                 or set WARROOM_MOTO_PYTHON",
                python.display()
            ));
            return None;
        };
        // Keep draining stderr so a chatty server never blocks on a full pipe.
        std::thread::spawn(move || {
            let _ = std::io::copy(&mut stderr, &mut std::io::sink());
        });
        Some(Moto {
            child,
            _stdin: stdin,
            port,
            url: format!("http://127.0.0.1:{port}"),
        })
    }

    /// SDK options for this emulator: its endpoint, test credentials, short timeouts and
    /// retries (tests wait for nothing).
    pub fn options(&self) -> AwsOptions {
        AwsOptions {
            endpoint_url: Some(self.url.clone()),
            credentials: Some(Credentials::new(
                TEST_KEY_ID,
                TEST_SECRET,
                None,
                None,
                "tests",
            )),
            connect_timeout: Duration::from_secs(2),
            attempt_timeout: Duration::from_secs(5),
            operation_timeout: Duration::from_secs(8),
            max_attempts: 2,
            initial_backoff: Duration::from_millis(50),
        }
    }

    pub fn connector(&self) -> Arc<Connector> {
        Arc::new(Connector::new(self.options()))
    }

    /// One request to the launcher's control API (`/warroom-test/...`); the JSON answer.
    pub fn control(&self, method: &str, path: &str, body: &str) -> serde_json::Value {
        http(self.port, method, path, body)
    }

    /// Calls per `service:Operation` since the start (or the last [`Moto::reset_calls`]).
    pub fn counts(&self) -> BTreeMap<String, u64> {
        let v = self.control("GET", "/warroom-test/calls", "");
        serde_json::from_value(v["counts"].clone()).expect("counts")
    }

    /// The calls of one operation, each `{operation, region, params, at}`.
    pub fn calls_of(&self, operation: &str) -> Vec<serde_json::Value> {
        let v = self.control("GET", "/warroom-test/calls", "");
        v["log"]
            .as_array()
            .expect("log")
            .iter()
            .filter(|c| c["operation"] == operation)
            .cloned()
            .collect()
    }

    pub fn count(&self, operation: &str) -> u64 {
        self.counts().get(operation).copied().unwrap_or(0)
    }

    /// Forgets the call log, faults and health overrides (moto's resources stay).
    pub fn reset_calls(&self) {
        self.control("POST", "/warroom-test/reset", "{}");
    }

    /// Answers the next `count` calls of `operation` (`-1`: all) with AWS error `code`.
    pub fn fault(&self, operation: &str, code: &str, count: i64) {
        let body = serde_json::json!({"operation": operation, "code": code, "count": count});
        self.control("POST", "/warroom-test/fault", &body.to_string());
    }

    /// Makes GetHealthCheckStatus of `id` report these checker statuses (`None`: moto's own).
    pub fn health(&self, id: &str, statuses: Option<&[&str]>) {
        let body = serde_json::json!({"id": id, "statuses": statuses});
        self.control("POST", "/warroom-test/health", &body.to_string());
    }
}

impl Drop for Moto {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A minimal HTTP/1.1 exchange on loopback (`Connection: close`); the JSON body of the answer.
pub fn http(port: u16, method: &str, path: &str, body: &str) -> serde_json::Value {
    let mut s = TcpStream::connect(("127.0.0.1", port)).expect("connect to moto");
    s.set_read_timeout(Some(Duration::from_secs(30)))
        .expect("timeout");
    write!(
        s,
        "{method} {path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n\
         Content-Length: {}\r\nConnection: close\r\n\r\n{body}",
        body.len()
    )
    .expect("send");
    let mut answer = String::new();
    s.read_to_string(&mut answer).expect("read");
    let body = answer.split_once("\r\n\r\n").map_or("", |(_, b)| b);
    serde_json::from_str(body).unwrap_or(serde_json::Value::Null)
}

/// The resources of the two-region setup, as the emulator named them.
#[derive(Debug, Clone)]
pub struct Seeded {
    pub zone_id: String,
    pub health_primary: String,
    pub health_dr: String,
}

/// SDK clients for seeding, straight from the options (no warroom code involved).
pub async fn rds(m: &Moto, region: &str) -> aws_sdk_rds::Client {
    m.connector().rds(region, None).await
}

pub async fn cloudwatch(m: &Moto, region: &str) -> aws_sdk_cloudwatch::Client {
    m.connector().cloudwatch(region, None).await
}

pub async fn route53(m: &Moto) -> aws_sdk_route53::Client {
    m.connector().route53(None).await
}

/// Creates an instance (Multi-AZ, automated backups on: moto then takes an automated snapshot).
pub async fn create_instance(rds: &aws_sdk_rds::Client, id: &str) -> String {
    let out = rds
        .create_db_instance()
        .db_instance_identifier(id)
        .db_instance_class("db.t3.micro")
        .engine("postgres")
        .master_username("warroom")
        .master_user_password("not-a-secret-1")
        .allocated_storage(20)
        .multi_az(true)
        .backup_retention_period(7)
        .send()
        .await
        .expect("create instance");
    out.db_instance()
        .and_then(|i| i.db_instance_arn())
        .expect("arn")
        .to_string()
}

pub async fn create_replica(rds: &aws_sdk_rds::Client, id: &str, source_arn: &str) {
    rds.create_db_instance_read_replica()
        .db_instance_identifier(id)
        .source_db_instance_identifier(source_arn)
        .db_instance_class("db.t3.micro")
        .send()
        .await
        .expect("create replica");
}

pub async fn put_lag(cw: &aws_sdk_cloudwatch::Client, instance: &str, secs: f64) {
    put_lag_at(cw, instance, secs, chrono::Utc::now()).await;
}

pub async fn put_lag_at(
    cw: &aws_sdk_cloudwatch::Client,
    instance: &str,
    secs: f64,
    at: chrono::DateTime<chrono::Utc>,
) {
    use aws_sdk_cloudwatch::types::{Dimension, MetricDatum, StandardUnit};
    cw.put_metric_data()
        .namespace("AWS/RDS")
        .metric_data(
            MetricDatum::builder()
                .metric_name("ReplicaLag")
                .dimensions(
                    Dimension::builder()
                        .name("DBInstanceIdentifier")
                        .value(instance)
                        .build(),
                )
                .value(secs)
                .unit(StandardUnit::Seconds)
                .timestamp(aws_sdk_cloudwatch::primitives::DateTime::from_secs(
                    at.timestamp(),
                ))
                .build(),
        )
        .send()
        .await
        .expect("put metric data");
}

pub async fn create_health_check(r53: &aws_sdk_route53::Client, fqdn: &str) -> String {
    use aws_sdk_route53::types::{HealthCheckConfig, HealthCheckType};
    let out = r53
        .create_health_check()
        .caller_reference(format!("warroom-{fqdn}"))
        .health_check_config(
            HealthCheckConfig::builder()
                .r#type(HealthCheckType::Https)
                .fully_qualified_domain_name(fqdn)
                .resource_path("/health")
                .build()
                .expect("health check config"),
        )
        .send()
        .await
        .expect("create health check");
    out.health_check().expect("health check").id().to_string()
}

/// Upserts a CNAME.
pub async fn upsert_cname(r53: &aws_sdk_route53::Client, zone: &str, name: &str, value: &str) {
    use aws_sdk_route53::types::{
        Change, ChangeAction, ChangeBatch, ResourceRecord, ResourceRecordSet, RrType,
    };
    r53.change_resource_record_sets()
        .hosted_zone_id(zone)
        .change_batch(
            ChangeBatch::builder()
                .changes(
                    Change::builder()
                        .action(ChangeAction::Upsert)
                        .resource_record_set(
                            ResourceRecordSet::builder()
                                .name(name)
                                .r#type(RrType::Cname)
                                .ttl(60)
                                .resource_records(
                                    ResourceRecord::builder()
                                        .value(value)
                                        .build()
                                        .expect("record"),
                                )
                                .build()
                                .expect("record set"),
                        )
                        .build()
                        .expect("change"),
                )
                .build()
                .expect("batch"),
        )
        .send()
        .await
        .expect("upsert record");
}

/// The record's current value.
pub async fn record_value(r53: &aws_sdk_route53::Client, zone: &str, name: &str) -> String {
    let out = r53
        .list_resource_record_sets()
        .hosted_zone_id(zone)
        .start_record_name(name)
        .send()
        .await
        .expect("list records");
    out.resource_record_sets()
        .iter()
        .find(|s| s.name().trim_end_matches('.') == name)
        .and_then(|s| s.resource_records().first())
        .map(|r| r.value().to_string())
        .unwrap_or_default()
}

/// The two-region setup of `tests/fixtures/env/aws-two-region.toml`: the primary
/// `pynomaly-prod` in us-west-2 (Multi-AZ, an automated and a manual snapshot), its cross-region
/// replica `pynomaly-dr` in us-east-1 with `lag_secs` of ReplicaLag, the hosted zone with the
/// `api` CNAME pointing at the primary, and one health check per region.
pub async fn seed_two_regions(m: &Moto, lag_secs: f64) -> Seeded {
    let west = rds(m, PRIMARY_REGION).await;
    let east = rds(m, DR_REGION).await;
    let arn = create_instance(&west, PRIMARY_DB).await;
    west.create_db_snapshot()
        .db_instance_identifier(PRIMARY_DB)
        .db_snapshot_identifier("pynomaly-prod-manual-1")
        .send()
        .await
        .expect("manual snapshot");
    create_replica(&east, DR_DB, &arn).await;
    put_lag(&cloudwatch(m, DR_REGION).await, DR_DB, lag_secs).await;
    let r53 = route53(m).await;
    let zone = r53
        .create_hosted_zone()
        .name(ZONE_NAME)
        .caller_reference("warroom-tests")
        .send()
        .await
        .expect("hosted zone");
    let zone_id = zone
        .hosted_zone()
        .expect("zone")
        .id()
        .trim_start_matches("/hostedzone/")
        .to_string();
    upsert_cname(&r53, &zone_id, RECORD, PRIMARY_TARGET).await;
    Seeded {
        health_primary: create_health_check(&r53, PRIMARY_TARGET).await,
        health_dr: create_health_check(&r53, DR_TARGET).await,
        zone_id,
    }
}

/// The fixture environment with the emulator's ids filled in.
pub fn two_region_env(seeded: &Seeded) -> String {
    let path = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/env/aws-two-region.toml");
    std::fs::read_to_string(path)
        .expect("fixture")
        .replace("@ZONE@", &seeded.zone_id)
        .replace("@HC_PRIMARY@", &seeded.health_primary)
        .replace("@HC_DR@", &seeded.health_dr)
}

/// A unique scratch directory, removed on drop.
pub struct Scratch(pub PathBuf);

impl Scratch {
    pub fn new(tag: &str) -> Self {
        static N: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
        let n = N.fetch_add(1, std::sync::atomic::Ordering::SeqCst);
        let dir =
            std::env::temp_dir().join(format!("warroom-aws-{tag}-{}-{n}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        std::fs::create_dir_all(&dir).expect("scratch dir");
        Scratch(dir)
    }
}

impl Drop for Scratch {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Runs the real binary with only test credentials and no AWS config files (nothing of the
/// developer's own AWS setup can leak in); returns (exit code, stdout, stderr, elapsed).
pub fn run_warroom(args: &[&str], state: &Path) -> (i32, String, String, Duration) {
    let started = Instant::now();
    let out = Command::new(env!("CARGO_BIN_EXE_warroom"))
        .args(args)
        .env("AWS_ACCESS_KEY_ID", TEST_KEY_ID)
        .env("AWS_SECRET_ACCESS_KEY", TEST_SECRET)
        .env("AWS_CONFIG_FILE", state.join("no-aws-config"))
        .env(
            "AWS_SHARED_CREDENTIALS_FILE",
            state.join("no-aws-credentials"),
        )
        .env("AWS_EC2_METADATA_DISABLED", "true")
        .env_remove("AWS_PROFILE")
        .env_remove("AWS_SESSION_TOKEN")
        .env_remove("AWS_ENDPOINT_URL")
        .env("XDG_STATE_HOME", state)
        .output()
        .expect("run warroom");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        started.elapsed(),
    )
}
