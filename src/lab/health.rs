//! `warroom lab health-server`: a region's `/health` endpoint for the lab, answering 200 when the
//! region's database accepts a query and 503 when it does not (as the seed application's own
//! health check does). Minimal HTTP/1.1, one request per connection.

use std::path::Path;
use std::time::Duration;

use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpListener, TcpStream};

use crate::duration::Dur;
use crate::telemetry::postgres::PgTarget;

/// Longest the health check's own database query may take.
const DB_CHECK_TIMEOUT: Duration = Duration::from_millis(1500);
/// Longest a client may take to send its request.
const READ_TIMEOUT: Duration = Duration::from_secs(2);
/// Longest request head read.
const MAX_REQUEST: usize = 8 * 1024;

/// Serves `/health` on `listen` until killed; writes the bound port to `port_file` once
/// listening (so `lab up` can bind port 0 and learn the port).
pub async fn serve(listen: &str, port_file: Option<&Path>, dsn: &str) -> Result<(), String> {
    let target = PgTarget::from_dsn("health", dsn, Dur::from_secs(1))?;
    let listener = TcpListener::bind(listen)
        .await
        .map_err(|e| format!("cannot listen on {listen}: {e}"))?;
    let addr = listener
        .local_addr()
        .map_err(|e| format!("cannot read the bound address: {e}"))?;
    if let Some(file) = port_file {
        let tmp = file.with_extension("tmp");
        std::fs::write(&tmp, addr.port().to_string())
            .and_then(|()| std::fs::rename(&tmp, file))
            .map_err(|e| format!("cannot write {}: {e}", file.display()))?;
    }
    crate::say_err!(
        "health server on http://{addr}/health for {}",
        target.shown()
    );
    loop {
        let (stream, _) = match listener.accept().await {
            Ok(c) => c,
            Err(e) => {
                crate::say_err!("accept failed: {e}");
                tokio::time::sleep(Duration::from_millis(100)).await;
                continue;
            }
        };
        let target = target.clone();
        tokio::spawn(async move {
            let _ = handle(stream, &target).await;
        });
    }
}

async fn handle(mut stream: TcpStream, target: &PgTarget) -> std::io::Result<()> {
    let mut buf = Vec::with_capacity(1024);
    let mut chunk = [0u8; 1024];
    let read = tokio::time::timeout(READ_TIMEOUT, async {
        loop {
            let n = stream.read(&mut chunk).await?;
            if n == 0 {
                break;
            }
            buf.extend_from_slice(&chunk[..n]);
            if buf.windows(4).any(|w| w == b"\r\n\r\n") || buf.len() > MAX_REQUEST {
                break;
            }
        }
        Ok::<_, std::io::Error>(())
    })
    .await;
    if !matches!(read, Ok(Ok(()))) {
        return Ok(());
    }
    let head = String::from_utf8_lossy(&buf);
    let mut parts = head.lines().next().unwrap_or_default().split_whitespace();
    let (method, path) = (parts.next().unwrap_or(""), parts.next().unwrap_or(""));
    let (status, body) = if method != "GET" && method != "HEAD" {
        ("405 Method Not Allowed", "GET only\n".to_string())
    } else if path != "/health" {
        ("404 Not Found", "try /health\n".to_string())
    } else {
        match db_ok(target).await {
            Ok(()) => ("200 OK", "ok\n".to_string()),
            Err(e) => (
                "503 Service Unavailable",
                format!("database unavailable: {e}\n"),
            ),
        }
    };
    let response = format!(
        "HTTP/1.1 {status}\r\nContent-Type: text/plain\r\nContent-Length: {}\r\nConnection: close\r\n\r\n{}",
        body.len(),
        if method == "HEAD" { "" } else { &body }
    );
    stream.write_all(response.as_bytes()).await?;
    stream.shutdown().await
}

async fn db_ok(target: &PgTarget) -> Result<(), String> {
    tokio::time::timeout(DB_CHECK_TIMEOUT, async {
        let client = target.connect().await?;
        client
            .simple_query("SELECT 1")
            .await
            .map(|_| ())
            .map_err(|e| crate::telemetry::postgres::pg_error(&e))
    })
    .await
    .map_err(|_| "no answer in time".to_string())?
}
