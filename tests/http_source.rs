//! The HTTP health source against a local server started by the test (127.0.0.1, port 0) that
//! answers 200, answers 500, hangs, or closes the connection; three failures make it down.

use std::sync::Arc;
use std::sync::atomic::{AtomicU8, Ordering};
use std::time::{Duration, Instant};

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::TcpListener;
use warroom::actions::ActionBackend;
use warroom::actions::postgres::PostgresBackend;
use warroom::env::Environment;
use warroom::telemetry::http::{CHECK_TIMEOUT, HttpSource};
use warroom::telemetry::{EndpointReading, Source};

const OK: u8 = 0;
const ERROR_500: u8 = 1;
const HANG: u8 = 2;
const CLOSE: u8 = 3;

/// A server whose behaviour the test switches; returns its URL and the switch. It stops with
/// the test's runtime.
async fn server() -> (String, Arc<AtomicU8>) {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let url = format!("http://{}/health", listener.local_addr().expect("addr"));
    let mode = Arc::new(AtomicU8::new(OK));
    let m = Arc::clone(&mode);
    tokio::spawn(async move {
        loop {
            let Ok((mut stream, _)) = listener.accept().await else {
                return;
            };
            let mode = m.load(Ordering::SeqCst);
            tokio::spawn(async move {
                let mut buf = [0u8; 2048];
                let _ = stream.read(&mut buf).await;
                let reply = match mode {
                    OK => "HTTP/1.1 200 OK\r\nContent-Length: 3\r\nConnection: close\r\n\r\nok\n",
                    ERROR_500 => {
                        "HTTP/1.1 500 Internal Server Error\r\nContent-Length: 5\r\nConnection: close\r\n\r\nboom\n"
                    }
                    HANG => {
                        // Never answer (longer than any check may wait).
                        tokio::time::sleep(Duration::from_secs(30)).await;
                        return;
                    }
                    _ => return, // CLOSE: drop the connection without a word
                };
                let _ = stream.write_all(reply.as_bytes()).await;
                let _ = stream.shutdown().await;
            });
        }
    });
    (url, mode)
}

async fn poll(src: &mut HttpSource) -> EndpointReading {
    let limit = src.timeout();
    let sample = tokio::time::timeout(limit, src.poll())
        .await
        .expect("a check ends within the source's timeout")
        .expect("a failed check is a reading, not a source error");
    sample.endpoints[0].clone()
}

#[tokio::test]
async fn ok_500_hang_close_and_three_failures_make_it_down() {
    let (url, mode) = server().await;
    let mut src = HttpSource::new("primary", &url).expect("source");
    assert_eq!(src.name(), "http primary");
    assert!(src.feeds().regions && !src.feeds().lag);

    let r = poll(&mut src).await;
    assert!(r.last_ok, "{r:?}");
    assert_eq!(
        (r.status, r.consecutive_failures, r.error.as_deref()),
        (Some(200), 0, None)
    );
    assert!(r.latency_ms.is_some_and(|l| l < 1000));
    assert!(!r.is_down());

    mode.store(ERROR_500, Ordering::SeqCst);
    let r = poll(&mut src).await;
    assert!(!r.last_ok);
    assert_eq!((r.status, r.consecutive_failures), (Some(500), 1));
    assert!(
        r.error.as_deref().is_some_and(|e| e.contains("500")),
        "{r:?}"
    );
    assert!(!r.is_down());

    mode.store(CLOSE, Ordering::SeqCst);
    let r = poll(&mut src).await;
    assert_eq!((r.status, r.consecutive_failures), (None, 2));
    assert!(r.error.is_some(), "{r:?}");
    assert!(!r.is_down());

    mode.store(HANG, Ordering::SeqCst);
    let started = Instant::now();
    let r = poll(&mut src).await;
    let took = started.elapsed();
    assert!(
        took >= CHECK_TIMEOUT && took < CHECK_TIMEOUT + Duration::from_secs(1),
        "{took:?}"
    );
    assert_eq!(r.consecutive_failures, 3);
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("no answer within")),
        "{r:?}"
    );
    assert!(r.is_down(), "three consecutive failures are down");

    mode.store(OK, Ordering::SeqCst);
    let r = poll(&mut src).await;
    assert!(
        r.last_ok && r.consecutive_failures == 0 && !r.is_down(),
        "{r:?}"
    );
}

#[tokio::test]
async fn nothing_listening_is_a_failed_check() {
    // Bind then drop: the port is very likely closed right after.
    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut src =
        HttpSource::new("dr", &format!("http://127.0.0.1:{port}/health")).expect("source");
    let r = poll(&mut src).await;
    assert!(!r.last_ok);
    assert!(
        r.error
            .as_deref()
            .is_some_and(|e| e.contains("cannot connect")),
        "{r:?}"
    );
}

/// Each way of getting no answer has its own typed reason (issue 9, point 4); an answer, even a
/// 500, has none.
#[tokio::test]
async fn no_answer_has_a_typed_reason() {
    use warroom::telemetry::FailureReason;
    let (url, mode) = server().await;
    let mut src = HttpSource::new("primary", &url).expect("source");
    mode.store(ERROR_500, Ordering::SeqCst);
    let r = poll(&mut src).await;
    assert_eq!((r.status, r.failure.clone()), (Some(500), None), "{r:?}");
    mode.store(HANG, Ordering::SeqCst);
    let r = poll(&mut src).await;
    assert_eq!(
        r.failure,
        Some(FailureReason::timeout(CHECK_TIMEOUT)),
        "{r:?}"
    );

    let port = {
        let l = std::net::TcpListener::bind("127.0.0.1:0").expect("bind");
        l.local_addr().expect("addr").port()
    };
    let mut closed =
        HttpSource::new("dr", &format!("http://127.0.0.1:{port}/health")).expect("source");
    let r = poll(&mut closed).await;
    assert_eq!(r.failure, Some(FailureReason::ConnectionRefused), "{r:?}");

    // `.invalid` never resolves (RFC 6761).
    let mut dns = HttpSource::new("dr", "http://no-such-host.invalid/health").expect("source");
    let r = poll(&mut dns).await;
    assert!(
        matches!(&r.failure, Some(FailureReason::Dns { detail }) if detail.contains("no-such-host.invalid")),
        "{r:?}"
    );

    // https to a server that answers in plain HTTP: the TLS handshake fails.
    mode.store(OK, Ordering::SeqCst);
    let tls_url = url.replacen("http://", "https://", 1);
    let mut tls = HttpSource::new("dr", &tls_url).expect("source");
    let r = poll(&mut tls).await;
    assert!(
        matches!(&r.failure, Some(FailureReason::Tls { .. })),
        "{r:?}"
    );
}

#[test]
fn bad_urls_are_refused_up_front() {
    assert!(HttpSource::new("x", "not a url").is_err());
    let e = HttpSource::new("x", "ftp://h/health")
        .err()
        .expect("refused");
    assert!(e.contains("http:// or https://"), "{e}");
}

#[tokio::test]
async fn http_check_action_reports_each_endpoint() {
    let (url, mode) = server().await;
    let src = format!(
        r#"
name = "t"
objectives = {{ rto = "30m", rpo = "5m" }}
[[regions]]
name = "primary"
id = "p"
role = "primary"
health = ["{url}"]
[[databases]]
name = "primary"
region = "primary"
postgres = {{ dsn = "host=/nonexistent port=5432 dbname=app user=x" }}
"#
    );
    let env = Environment::parse("t.toml", &src).expect("env");
    let backend = PostgresBackend::new(&env).expect("backend");
    let call = warroom::actions::ActionCall {
        name: "http.check".into(),
        args: [("region".to_string(), "primary".to_string())].into(),
    }
    .typed()
    .expect("a valid call");
    assert!(backend.describe(&call).contains(&url));
    let lines = backend.execute(&call, &|_| {}).await.expect("healthy");
    assert!(lines[0].contains("HTTP 200"), "{lines:?}");
    mode.store(ERROR_500, Ordering::SeqCst);
    let err = backend
        .execute(&call, &|_| {})
        .await
        .expect_err("unhealthy")
        .to_string();
    assert!(
        err.contains("1 of 1 health checks of primary failed"),
        "{err}"
    );
}

#[test]
fn http_check_on_the_simulator() {
    use std::sync::{Arc, Mutex};
    use warroom::actions::sim::SimBackend;
    use warroom::clock::SessionClock;
    use warroom::sim::Sim;

    let clock = SessionClock::new(Instant::now(), chrono::Utc::now(), 1.0);
    let sim = Arc::new(Mutex::new(Sim::new(&Environment::demo(), 1, clock.now())));
    let backend = SimBackend::new(sim, clock);
    let call = warroom::actions::ActionCall {
        name: "http.check".into(),
        args: [("region".to_string(), "dr".to_string())].into(),
    }
    .typed()
    .expect("a valid call");
    assert_eq!(backend.unsupported(&call), None);
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("runtime");
    let lines = rt
        .block_on(backend.execute(&call, &|_| {}))
        .expect("the demo's dr region is healthy");
    assert!(
        lines[0].starts_with("GET https://api.us-east-1"),
        "{lines:?}"
    );
}
