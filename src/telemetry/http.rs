//! An HTTP health endpoint (a region's `/health`) as a telemetry source.
//!
//! One source per URL, so a hanging endpoint only delays its own reading. Every check is bounded
//! by [`CHECK_TIMEOUT`] (connect: [`CONNECT_TIMEOUT`]), shorter than the source's timeout: a
//! hang, a refused connection, a reset or a non-2xx status is a *failed check* in the reading
//! (the Regions pane counts it), never a stale pane. The source keeps the count of consecutive
//! failures across polls; three make the endpoint down (`EndpointReading::is_down`).

use std::time::Duration;

use tokio::time::Instant;

use super::reason::{FailureReason, io_in_chain};
use super::source::{BoxFuture, Feeds, Source, SourceError};
use super::{EndpointReading, Sample};

/// Longest one health check may take, connection included.
pub const CHECK_TIMEOUT: Duration = Duration::from_secs(3);
/// Longest the TCP (and TLS) connection may take.
pub const CONNECT_TIMEOUT: Duration = Duration::from_secs(2);
/// Time between two checks of one endpoint.
pub const CHECK_INTERVAL: Duration = Duration::from_secs(2);

/// The outcome of one check.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Check {
    pub ok: bool,
    pub status: Option<u16>,
    pub latency_ms: u64,
    /// Why it failed, one line.
    pub error: Option<String>,
    /// Why no HTTP answer came at all (`None` when it answered, whatever the status).
    pub failure: Option<FailureReason>,
}

/// A client for health checks: rustls, bounded, and direct: `HTTP(S)_PROXY` is ignored, because
/// a health check through a proxy measures the proxy.
pub fn client() -> Result<reqwest::Client, String> {
    reqwest::Client::builder()
        .no_proxy()
        .dns_resolver(std::sync::Arc::new(Resolver))
        .connect_timeout(CONNECT_TIMEOUT)
        .timeout(CHECK_TIMEOUT)
        .user_agent(concat!(
            "warroom/",
            env!("CARGO_PKG_VERSION"),
            " health-check"
        ))
        .build()
        .map_err(|e| format!("cannot set up the HTTP client: {e}"))
}

/// One GET of `url`: success means a 2xx status within [`CHECK_TIMEOUT`]. The body is not read.
pub async fn check(client: &reqwest::Client, url: &str) -> Check {
    let started = Instant::now();
    // reqwest's own timeout covers the request; this one also covers a stuck DNS resolver.
    let result = tokio::time::timeout(
        CHECK_TIMEOUT + Duration::from_millis(200),
        client.get(url).send(),
    )
    .await;
    let latency_ms = u64::try_from(started.elapsed().as_millis()).unwrap_or(u64::MAX);
    match result {
        Err(_) => Check {
            ok: false,
            status: None,
            latency_ms,
            error: Some(format!("no answer within {}s", CHECK_TIMEOUT.as_secs())),
            failure: Some(FailureReason::timeout(CHECK_TIMEOUT)),
        },
        Ok(Err(e)) => Check {
            ok: false,
            status: None,
            latency_ms,
            error: Some(http_error(&e)),
            failure: Some(http_reason(&e)),
        },
        Ok(Ok(resp)) => {
            let status = resp.status();
            Check {
                ok: status.is_success(),
                status: Some(status.as_u16()),
                latency_ms,
                error: (!status.is_success()).then(|| format!("HTTP {status}")),
                failure: None,
            }
        }
    }
}

/// Resolves host names for the health checks with the system resolver (as reqwest's default
/// does), so that a failed lookup reaches the error as a [`DnsFailure`] we can recognise.
struct Resolver;

/// A host name that does not resolve.
#[derive(Debug, thiserror::Error)]
#[error("{name}: {why}")]
struct DnsFailure {
    name: String,
    why: String,
}

impl reqwest::dns::Resolve for Resolver {
    fn resolve(&self, name: reqwest::dns::Name) -> reqwest::dns::Resolving {
        let name = name.as_str().to_string();
        Box::pin(async move {
            let found = tokio::net::lookup_host((name.as_str(), 0))
                .await
                .map(Iterator::collect::<Vec<std::net::SocketAddr>>);
            match found {
                Ok(addrs) => {
                    if addrs.is_empty() {
                        Err(Box::new(DnsFailure {
                            name,
                            why: "no address".to_string(),
                        })
                            as Box<dyn std::error::Error + Send + Sync>)
                    } else {
                        Ok(Box::new(addrs.into_iter()) as reqwest::dns::Addrs)
                    }
                }
                Err(e) => Err(Box::new(DnsFailure {
                    name,
                    why: e.to_string(),
                })
                    as Box<dyn std::error::Error + Send + Sync>),
            }
        })
    }
}

/// Why a request got no HTTP answer: our resolver's [`DnsFailure`], the I/O error's kind, a TLS
/// failure (a `rustls::Error` in the chain), else the error text.
fn http_reason(e: &reqwest::Error) -> FailureReason {
    let timeout = if e.is_connect() {
        CONNECT_TIMEOUT
    } else {
        CHECK_TIMEOUT
    };
    if e.is_timeout() {
        return FailureReason::timeout(timeout);
    }
    let mut next: Option<&(dyn std::error::Error + 'static)> = Some(e);
    while let Some(err) = next {
        if let Some(dns) = err.downcast_ref::<DnsFailure>() {
            return FailureReason::dns(dns.to_string());
        }
        // rustls's errors reach us inside an I/O error (tokio-rustls) or on their own.
        if let Some(tls) = rustls_error(err) {
            return FailureReason::tls(tls.to_string());
        }
        next = err.source();
    }
    if let Some(r) = io_in_chain(e).and_then(|io| FailureReason::from_io(io, timeout)) {
        return r;
    }
    FailureReason::other(http_error(e))
}

/// A `rustls::Error` at this level of a chain, or inside an I/O error (nested I/O errors
/// included: `io::Error::source` skips the error it wraps).
fn rustls_error<'a>(err: &'a (dyn std::error::Error + 'static)) -> Option<&'a rustls::Error> {
    if let Some(tls) = err.downcast_ref::<rustls::Error>() {
        return Some(tls);
    }
    let mut io = err.downcast_ref::<std::io::Error>();
    for _ in 0..4 {
        let inner = io?.get_ref()?;
        if let Some(tls) = inner.downcast_ref::<rustls::Error>() {
            return Some(tls);
        }
        io = inner.downcast_ref::<std::io::Error>();
    }
    None
}

/// A reqwest error as one line: what failed and the innermost cause.
fn http_error(e: &reqwest::Error) -> String {
    if e.is_timeout() {
        return format!("no answer within {}s", CHECK_TIMEOUT.as_secs());
    }
    let what = if e.is_connect() {
        "cannot connect"
    } else if e.is_builder() {
        "bad URL"
    } else {
        "request failed"
    };
    let mut root = None;
    let mut source = std::error::Error::source(e);
    while let Some(s) = source {
        root = Some(s.to_string());
        source = s.source();
    }
    match root {
        Some(cause) => format!("{what}: {cause}"),
        None => format!("{what}: {e}"),
    }
}

/// Checks one health URL of a region.
pub struct HttpSource {
    source_name: String,
    region: String,
    url: String,
    client: reqwest::Client,
    interval: Duration,
    consecutive_failures: u32,
}

/// Why `url` cannot be a health check URL, if it cannot: the one rule that `check --env`, `status`
/// and the console share (an environment one accepts, the others accept).
pub fn health_url_problem(url: &str) -> Option<String> {
    let shown = crate::text::echo(url);
    match reqwest::Url::parse(url) {
        Err(e) => Some(format!("bad health URL {shown}: {e}")),
        Ok(u) if !matches!(u.scheme(), "http" | "https") => Some(format!(
            "health URL {shown} must be http:// or https://, not {}:",
            crate::text::clip(u.scheme(), 40)
        )),
        Ok(u) if u.host_str().is_none_or(str::is_empty) => {
            Some(format!("health URL {shown} has no host"))
        }
        Ok(_) => None,
    }
}

impl HttpSource {
    pub fn new(region: &str, url: &str) -> Result<Self, String> {
        Self::with_interval(region, url, CHECK_INTERVAL)
    }

    pub fn with_interval(region: &str, url: &str, interval: Duration) -> Result<Self, String> {
        if let Some(why) = health_url_problem(url) {
            return Err(format!("region {region:?}: {why}"));
        }
        Ok(HttpSource {
            source_name: format!("http {region}"),
            region: region.to_string(),
            url: url.to_string(),
            client: client()?,
            interval,
            consecutive_failures: 0,
        })
    }

    /// Runs one check and folds it into the failure count.
    pub async fn check_once(&mut self) -> EndpointReading {
        let c = check(&self.client, &self.url).await;
        self.consecutive_failures = if c.ok {
            0
        } else {
            self.consecutive_failures.saturating_add(1)
        };
        EndpointReading {
            region: self.region.clone(),
            url: self.url.clone(),
            last_ok: c.ok,
            status: c.status,
            latency_ms: Some(c.latency_ms),
            consecutive_failures: self.consecutive_failures,
            error: c.error,
            failure: c.failure,
        }
    }
}

impl Source for HttpSource {
    fn name(&self) -> &str {
        &self.source_name
    }

    fn feeds(&self) -> Feeds {
        Feeds {
            lag: false,
            backups: false,
            regions: true,
        }
    }

    fn interval(&self) -> Duration {
        self.interval
    }

    fn timeout(&self) -> Duration {
        CHECK_TIMEOUT + Duration::from_secs(2)
    }

    fn poll(&mut self) -> BoxFuture<'_, Result<Sample, SourceError>> {
        Box::pin(async move {
            let reading = self.check_once().await;
            Ok(Sample {
                at: chrono::Utc::now(),
                endpoints: vec![reading],
                ..Sample::default()
            })
        })
    }
}

#[cfg(test)]
mod url_tests {
    use super::health_url_problem;

    #[test]
    fn a_long_scheme_is_cut_in_the_message() {
        let url = format!("{}://host/health", "r".repeat(5000));
        let why = health_url_problem(&url).expect("not http");
        assert!(why.len() < 400, "{} bytes: {why}", why.len());
        assert!(why.contains("must be http:// or https://"), "{why}");
        assert_eq!(
            health_url_problem("ftp://host/x").as_deref(),
            Some("health URL \"ftp://host/x\" must be http:// or https://, not ftp:")
        );
    }
}
