//! The AWS backend's telemetry, read through the official AWS SDK for Rust:
//!
//! - [`rds::RdsSource`], one per region with databases: `DescribeDBInstances` /
//!   `DescribeDBClusters` (state, role, Multi-AZ, zone, replication) and CloudWatch `ReplicaLag`
//!   for all the region's replicas in **one** `GetMetricData` call ([`cloudwatch`]);
//! - [`rds::SnapshotSource`], one per region with snapshot backups: `DescribeDBSnapshots` for all
//!   the region's instances at once, newest automated / manual snapshot against the policy;
//! - [`route53::Route53Source`], one for the environment: `GetHealthCheckStatus` for every listed
//!   health check (concurrently) and `ListResourceRecordSets` for every bound record.
//!
//! Credentials come from the standard chain (environment, profiles, SSO, instance role); an
//! endpoint override (`--endpoint-url`, `AWS_ENDPOINT_URL`, `[aws] endpoint_url`) serves
//! emulators and VPC endpoints. Every call is bounded by SDK timeouts (connect, attempt,
//! operation) inside the source's own timeout; throttling is retried by the SDK with back-off and,
//! if it persists, makes the source skip polls for a growing back-off ([`Backoff`]). A failed
//! poll is a [`SourceError`]: the pane goes stale with the error, the screen never freezes.

pub mod cloudwatch;
pub mod ecs;
pub mod rds;
pub mod route53;

use std::collections::BTreeMap;
use std::fmt;
use std::sync::Arc;
use std::time::{Duration, Instant};

use aws_config::retry::RetryConfig;
use aws_config::timeout::TimeoutConfig;
use aws_config::{BehaviorVersion, Region, SdkConfig};
use aws_sdk_rds::config::Credentials;
use aws_sdk_rds::error::{ProvideErrorMetadata, SdkError};
use chrono::{DateTime, Utc};

use super::reason::FailureReason;
use super::source::{Source, SourceError};
use crate::env::Environment;

/// How warroom reaches AWS.
#[derive(Debug, Clone)]
pub struct AwsOptions {
    /// Send every call here instead of the public endpoints (an emulator, a VPC endpoint).
    pub endpoint_url: Option<String>,
    /// Fixed credentials instead of the standard chain (tests against an emulator).
    pub credentials: Option<Credentials>,
    /// Longest a TCP/TLS connect may take.
    pub connect_timeout: Duration,
    /// Longest one HTTP attempt may take.
    pub attempt_timeout: Duration,
    /// Longest one operation may take, retries included.
    pub operation_timeout: Duration,
    /// Attempts per operation (the SDK retries throttling and transient errors with back-off).
    pub max_attempts: u32,
    /// First retry back-off of the SDK (it grows exponentially, with jitter).
    pub initial_backoff: Duration,
}

impl Default for AwsOptions {
    fn default() -> Self {
        AwsOptions {
            endpoint_url: None,
            credentials: None,
            connect_timeout: Duration::from_secs(3),
            attempt_timeout: Duration::from_secs(4),
            operation_timeout: Duration::from_secs(8),
            max_attempts: 3,
            initial_backoff: Duration::from_millis(500),
        }
    }
}

/// Loads SDK configuration lazily (on the first call, inside a poll, never on the UI thread): one
/// configuration per AWS profile, shared by every client of that profile (one connection pool,
/// one credentials cache). Clients for a region are derived from it.
pub struct Connector {
    options: AwsOptions,
    configs: tokio::sync::Mutex<BTreeMap<Option<String>, SdkConfig>>,
}

impl fmt::Debug for Connector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("Connector")
            .field("endpoint_url", &self.options.endpoint_url)
            .finish_non_exhaustive()
    }
}

/// The region Route 53 (a global service) signs its requests for.
pub const ROUTE53_SIGNING_REGION: &str = "us-east-1";

impl Connector {
    pub fn new(options: AwsOptions) -> Self {
        Connector {
            options,
            configs: tokio::sync::Mutex::new(BTreeMap::new()),
        }
    }

    pub fn options(&self) -> &AwsOptions {
        &self.options
    }

    /// The shared configuration of `profile` (`None`: the default chain), loaded on first use.
    pub async fn config(&self, profile: Option<&str>) -> SdkConfig {
        let key = profile.map(str::to_string);
        let mut configs = self.configs.lock().await;
        if let Some(c) = configs.get(&key) {
            return c.clone();
        }
        let o = &self.options;
        let http = aws_smithy_http_client::Builder::new()
            .tls_provider(aws_smithy_http_client::tls::Provider::Rustls(
                aws_smithy_http_client::tls::rustls_provider::CryptoMode::Ring,
            ))
            .build_https();
        let mut loader = aws_config::defaults(BehaviorVersion::latest())
            .http_client(http)
            // Every client gets its own region; fixing one here spares the loader a region
            // lookup (which may probe the instance metadata service off EC2).
            .region(Region::from_static(ROUTE53_SIGNING_REGION))
            .timeout_config(
                TimeoutConfig::builder()
                    .connect_timeout(o.connect_timeout)
                    .operation_attempt_timeout(o.attempt_timeout)
                    .operation_timeout(o.operation_timeout)
                    .build(),
            )
            .retry_config(
                RetryConfig::standard()
                    .with_max_attempts(o.max_attempts)
                    .with_initial_backoff(o.initial_backoff),
            );
        if let Some(p) = profile {
            loader = loader.profile_name(p);
        }
        if let Some(url) = &o.endpoint_url {
            loader = loader.endpoint_url(url);
        }
        if let Some(creds) = &o.credentials {
            loader = loader.credentials_provider(creds.clone());
        }
        let config = loader.load().await;
        configs.insert(key, config.clone());
        config
    }

    pub async fn rds(&self, region: &str, profile: Option<&str>) -> aws_sdk_rds::Client {
        let conf = aws_sdk_rds::config::Builder::from(&self.config(profile).await)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_rds::Client::from_conf(conf)
    }

    pub async fn cloudwatch(
        &self,
        region: &str,
        profile: Option<&str>,
    ) -> aws_sdk_cloudwatch::Client {
        let conf = aws_sdk_cloudwatch::config::Builder::from(&self.config(profile).await)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_cloudwatch::Client::from_conf(conf)
    }

    pub async fn ecs(&self, region: &str, profile: Option<&str>) -> aws_sdk_ecs::Client {
        let conf = aws_sdk_ecs::config::Builder::from(&self.config(profile).await)
            .region(Region::new(region.to_string()))
            .build();
        aws_sdk_ecs::Client::from_conf(conf)
    }

    pub async fn route53(&self, profile: Option<&str>) -> aws_sdk_route53::Client {
        let conf = aws_sdk_route53::config::Builder::from(&self.config(profile).await)
            .region(Region::from_static(ROUTE53_SIGNING_REGION))
            .build();
        aws_sdk_route53::Client::from_conf(conf)
    }
}

/// Error codes AWS uses for throttling.
const THROTTLING_CODES: &[&str] = &[
    "Throttling",
    "ThrottlingException",
    "ThrottledException",
    "RequestThrottled",
    "RequestThrottledException",
    "RequestLimitExceeded",
    "TooManyRequestsException",
    "PriorRequestNotComplete",
    "SlowDown",
];

/// Error codes that mean the credentials are missing, expired or not allowed.
const AUTH_CODES: &[&str] = &[
    "AccessDenied",
    "AccessDeniedException",
    "AuthFailure",
    "ExpiredToken",
    "ExpiredTokenException",
    "InvalidClientTokenId",
    "SignatureDoesNotMatch",
    "UnrecognizedClientException",
    "InvalidAccessKeyId",
];

/// One failed AWS call, in words for the operator: what was called, where, what happened and,
/// where there is something to do, what to do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CallError {
    /// `rds:DescribeDBInstances in us-west-2`.
    pub call: String,
    pub message: String,
    /// AWS asked us to slow down.
    pub throttled: bool,
    /// Why, as a type (credentials refused, no answer, cannot connect, ...).
    pub reason: FailureReason,
}

impl fmt::Display for CallError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.call, self.message)
    }
}

impl CallError {
    /// Describes an SDK error. Never includes credentials: the SDK's errors carry none.
    pub fn from_sdk<E, R>(call: impl Into<String>, err: &SdkError<E, R>) -> Self
    where
        E: ProvideErrorMetadata + std::error::Error + 'static,
        R: fmt::Debug + 'static,
    {
        let call = call.into();
        match err {
            SdkError::ServiceError(service) => {
                let e = service.err();
                let code = e.code().unwrap_or("UnknownError");
                let text = e.message().unwrap_or("no message");
                let throttled = THROTTLING_CODES.contains(&code);
                let mut message = format!("{code}: {text}");
                let reason = if AUTH_CODES.contains(&code) {
                    FailureReason::auth(Some(&message))
                } else {
                    FailureReason::server(code, text)
                };
                if throttled {
                    message.push_str(" (throttled by AWS)");
                } else if AUTH_CODES.contains(&code) {
                    message.push_str(
                        " (check the credentials: AWS_PROFILE / the region's `profile`, \
                         `aws sso login`, and the IAM policy)",
                    );
                }
                CallError {
                    call,
                    message,
                    throttled,
                    reason,
                }
            }
            SdkError::TimeoutError(_) => CallError {
                call,
                message: "no answer within the operation timeout".to_string(),
                throttled: false,
                reason: FailureReason::timeout(POLL_TIMEOUT),
            },
            SdkError::DispatchFailure(d) if d.is_timeout() => CallError {
                call,
                message: "no answer (timed out)".to_string(),
                throttled: false,
                reason: FailureReason::timeout(POLL_TIMEOUT),
            },
            SdkError::DispatchFailure(d) if d.is_io() => CallError {
                call,
                message: format!(
                    "cannot reach AWS: {} (check the network, a proxy, or --endpoint-url)",
                    root_cause(err)
                ),
                throttled: false,
                reason: crate::telemetry::reason::io_in_chain(err)
                    .and_then(|io| FailureReason::from_io(io, POLL_TIMEOUT))
                    .unwrap_or_else(|| FailureReason::other(root_cause(err))),
            },
            other => {
                let text = flatten(&chain(other));
                let hint = if text.contains("credentials") {
                    " (no usable AWS credentials: set AWS_PROFILE or the region's `profile`, \
                     run `aws sso login`, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY)"
                } else {
                    ""
                };
                let reason = if hint.is_empty() {
                    FailureReason::other(&text)
                } else {
                    FailureReason::auth(Some(&text))
                };
                CallError {
                    call,
                    message: format!("{text}{hint}"),
                    throttled: false,
                    reason,
                }
            }
        }
    }

    pub fn into_source_error(self) -> SourceError {
        SourceError::Failed {
            message: crate::telemetry::reason::clean(&self.to_string()),
            reason: self.reason,
        }
    }
}

/// An error and its sources, `: `-separated (without the SDK's Debug dump).
fn chain(err: &(dyn std::error::Error + 'static)) -> String {
    let mut parts: Vec<String> = Vec::new();
    let mut next = Some(err);
    while let Some(e) = next {
        let text = e.to_string();
        if parts.last() != Some(&text) {
            parts.push(text);
        }
        next = e.source();
    }
    parts.join(": ")
}

/// The innermost error's message (`Connection refused (os error 111)`).
fn root_cause(err: &(dyn std::error::Error + 'static)) -> String {
    let mut e = err;
    while let Some(inner) = e.source() {
        e = inner;
    }
    flatten(&e.to_string())
}

/// One line (panes have no room for more), at most 300 characters.
fn flatten(text: &str) -> String {
    let one_line = text.split_whitespace().collect::<Vec<_>>().join(" ");
    const LIMIT: usize = 300;
    if one_line.chars().count() > LIMIT {
        let cut: String = one_line.chars().take(LIMIT).collect();
        format!("{cut}…")
    } else {
        one_line
    }
}

/// A source's back-off after throttling: the SDK already retried with back-off; when a poll
/// still ends throttled, the next polls are skipped (answering with the throttling error, so the
/// pane stays stale and says why) until a deadline that doubles each time, up to
/// [`Backoff::MAX`]. The first success resets it.
#[derive(Debug, Clone)]
pub struct Backoff {
    base: Duration,
    delay: Duration,
    until: Option<Instant>,
    last: Option<String>,
}

impl Backoff {
    pub const MAX: Duration = Duration::from_secs(300);

    /// `base` is the first pause (the source's poll interval).
    pub fn new(base: Duration) -> Self {
        Backoff {
            base,
            delay: base,
            until: None,
            last: None,
        }
    }

    /// `Err` while backing off.
    pub fn check(&self, now: Instant) -> Result<(), SourceError> {
        match (self.until, &self.last) {
            (Some(until), Some(last)) if now < until => Err(SourceError::failed(format!(
                "{last}; backing off, next try in {}s",
                (until - now).as_secs().max(1)
            ))),
            _ => Ok(()),
        }
    }

    /// Folds a poll's outcome in; returns it as the poll's result.
    pub fn record<T>(
        &mut self,
        result: Result<T, CallError>,
        now: Instant,
    ) -> Result<T, SourceError> {
        match result {
            Ok(v) => {
                self.delay = self.base;
                self.until = None;
                self.last = None;
                Ok(v)
            }
            Err(e) if e.throttled => {
                let pause = self.delay;
                self.until = Some(now + pause);
                self.delay = (self.delay * 2).min(Self::MAX);
                self.last = Some(e.to_string());
                Err(SourceError::Failed {
                    message: format!("{e}; backing off {}s", pause.as_secs().max(1)),
                    reason: e.reason,
                })
            }
            Err(e) => Err(e.into_source_error()),
        }
    }
}

/// `aws_smithy_types::DateTime` to chrono.
pub fn to_utc(t: &aws_sdk_rds::primitives::DateTime) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp(t.secs(), t.subsec_nanos())
}

/// Poll intervals of the AWS sources.
pub const RDS_INTERVAL: Duration = Duration::from_secs(10);
pub const SNAPSHOT_INTERVAL: Duration = Duration::from_secs(30);
pub const ROUTE53_INTERVAL: Duration = Duration::from_secs(15);
/// How often the ECS services are read (one DescribeServices per cluster).
pub const ECS_INTERVAL: Duration = Duration::from_secs(10);
/// Longest one poll may take (above the SDK's operation timeout, so the SDK's own, more precise
/// error usually wins).
pub const POLL_TIMEOUT: Duration = Duration::from_secs(10);

/// The profile a logical region's calls use.
fn region_profile(env: &Environment, region: &str) -> Option<String> {
    env.region(region).and_then(|r| r.profile.clone())
}

/// The profile for Route 53 (global): that of the first primary region, else of the first
/// region.
pub fn route53_profile(env: &Environment) -> Option<String> {
    env.regions
        .iter()
        .find(|r| r.role == crate::env::RegionRole::Primary)
        .or(env.regions.first())
        .and_then(|r| r.profile.clone())
}

/// Every AWS source of `env`, in a stable order: per region (file order) its RDS source and its
/// snapshot source, then Route 53.
pub fn sources(env: &Environment, connector: &Arc<Connector>) -> Vec<Box<dyn Source>> {
    let mut out: Vec<Box<dyn Source>> = Vec::new();
    for region in &env.regions {
        let name = region.name.get_ref();
        let profile = region_profile(env, name);
        if let Some(s) =
            rds::RdsSource::for_region(env, name, profile.clone(), Arc::clone(connector))
        {
            out.push(Box::new(s));
        }
        if let Some(s) = rds::SnapshotSource::for_region(env, name, profile, Arc::clone(connector))
        {
            out.push(Box::new(s));
        }
    }
    if let Some(s) = route53::Route53Source::for_env(env, Arc::clone(connector)) {
        out.push(Box::new(s));
    }
    if let Some(s) = ecs::EcsSource::for_env(env, Arc::clone(connector)) {
        out.push(Box::new(s));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn throttled() -> CallError {
        CallError {
            call: "rds:DescribeDBInstances in us-west-2".into(),
            message: "Throttling: Rate exceeded (throttled by AWS)".into(),
            throttled: true,
            reason: FailureReason::server("Throttling", "Rate exceeded"),
        }
    }

    #[test]
    fn backoff_doubles_skips_polls_and_resets_on_success() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_secs(10));
        assert!(b.check(t0).is_ok());
        let err = b.record::<()>(Err(throttled()), t0).expect_err("throttled");
        assert!(err.to_string().contains("backing off 10s"), "{err}");
        let skipped = b
            .check(t0 + Duration::from_secs(3))
            .expect_err("backing off");
        assert!(skipped.to_string().contains("next try in 7s"), "{skipped}");
        assert!(b.check(t0 + Duration::from_secs(10)).is_ok());
        let t1 = t0 + Duration::from_secs(10);
        let err = b.record::<()>(Err(throttled()), t1).expect_err("throttled");
        assert!(err.to_string().contains("backing off 20s"), "{err}");
        assert!(b.check(t1 + Duration::from_secs(19)).is_err());
        assert_eq!(b.record(Ok(5), t1 + Duration::from_secs(20)).ok(), Some(5));
        assert!(b.check(t1 + Duration::from_secs(21)).is_ok());
        // After a reset the next throttle starts from the base again.
        let err = b.record::<()>(Err(throttled()), t1).expect_err("throttled");
        assert!(err.to_string().contains("backing off 10s"), "{err}");
    }

    #[test]
    fn backoff_is_capped_and_ignores_other_errors() {
        let t0 = Instant::now();
        let mut b = Backoff::new(Duration::from_secs(100));
        for _ in 0..5 {
            let _ = b.record::<()>(Err(throttled()), t0);
        }
        assert_eq!(b.delay, Backoff::MAX);
        let mut b = Backoff::new(Duration::from_secs(10));
        let other = CallError {
            throttled: false,
            ..throttled()
        };
        assert!(b.record::<()>(Err(other), t0).is_err());
        assert!(b.check(t0).is_ok(), "only throttling backs off");
    }

    #[test]
    fn long_errors_fit_on_one_line() {
        let text = format!("a\n  b {}", "x".repeat(400));
        let flat = flatten(&text);
        assert!(!flat.contains('\n'));
        assert!(flat.starts_with("a b x"));
        assert!(flat.ends_with('…'));
        assert_eq!(flat.chars().count(), 301);
    }
}
