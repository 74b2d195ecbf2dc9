//! The object store under the shared log: four calls (create-only put, get, list keys, list
//! incidents), each bounded by [`CALL_TIMEOUT`]. [`S3Store`] speaks S3 through the AWS SDK
//! (any S3-compatible endpoint); [`MemStore`] keeps objects in memory for unit tests and can be
//! switched off to play an unreachable store.

use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Longest one store call may take (the SDK's own timeouts are shorter; this bounds the rest).
pub const CALL_TIMEOUT: Duration = Duration::from_secs(5);

pub type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// An object's bytes and its ETag, and what the store's own clock says of it, or `None` when
/// there is no object.
pub type Tagged = Option<TaggedObject>;

/// An object read with its ETag and the store's clock: when it was last written
/// (`Last-Modified`, whole seconds) and when the store answered (the response's `Date`). Both
/// come from the store, so their difference is the object's age whatever the reader's clock
/// says (a lease's expiry is judged by it: see `lease.rs`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TaggedObject {
    pub bytes: Vec<u8>,
    pub etag: String,
    pub last_modified: Option<chrono::DateTime<chrono::Utc>>,
    pub served_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl TaggedObject {
    /// The object's age by the store's clock (served at - last modified), when both are known.
    pub fn age(&self) -> Option<chrono::TimeDelta> {
        Some(self.served_at? - self.last_modified?)
    }
}

/// What a create-only put found.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Put {
    /// The object did not exist; it does now, with our bytes.
    Created,
    /// An object was there already (`412 Precondition Failed`): nothing was written.
    Exists,
}

/// Why a store call failed.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum StoreError {
    #[error("the store did not answer within {secs}s")]
    Timeout { secs: u64 },
    #[error("the store cannot be reached: {0}")]
    Unreachable(String),
    #[error("the store refused the credentials: {0}")]
    Denied(String),
    #[error("no such bucket: {0}")]
    NoBucket(String),
    #[error("the store failed: {0}")]
    Failed(String),
    #[error("the shared log support was not built (the `aws` feature is off)")]
    NotBuilt,
}

/// An S3-like store.
pub trait Store: Send + Sync {
    /// Writes `body` at `key` only if nothing is there (`If-None-Match: *`).
    fn put_new(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<Put, StoreError>>;
    /// The object at `key`, or `None`.
    fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>>;
    /// Writes `body` at `key` whatever is there (the panes snapshot: not part of the log).
    fn put(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>>;
    /// Keys under `prefix`, in order, after `start_after` (all pages).
    fn list(
        &self,
        prefix: String,
        start_after: Option<String>,
    ) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// The "directories" directly under `prefix` (which ends with `/`), names only.
    fn list_dirs(&self, prefix: String) -> BoxFuture<'_, Result<Vec<String>, StoreError>>;
    /// The object at `key` and its ETag, or `None`.
    fn get_tagged(&self, key: String) -> BoxFuture<'_, Result<Tagged, StoreError>>;
    /// Compare-and-swap: writes `body` at `key` only if the object's ETag is `etag` (`If-Match`),
    /// or, with `None`, only if there is none (`If-None-Match: *`). `Ok(None)`: the condition
    /// failed, nothing was written; `Ok(Some(etag))`: written, with its new ETag.
    fn put_if(
        &self,
        key: String,
        body: Vec<u8>,
        etag: Option<String>,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>>;
}

/// Runs a store call with [`CALL_TIMEOUT`].
pub async fn bounded<T>(
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, StoreError> {
    match tokio::time::timeout(CALL_TIMEOUT, call).await {
        Ok(r) => r,
        Err(_) => Err(StoreError::Timeout {
            secs: CALL_TIMEOUT.as_secs(),
        }),
    }
}

/// Objects in memory (tests); `set_up(false)` makes every call fail as unreachable.
#[derive(Debug, Default, Clone)]
pub struct MemStore {
    inner: Arc<Mutex<MemInner>>,
}

#[derive(Debug, Default)]
struct MemInner {
    objects: BTreeMap<String, Vec<u8>>,
    etags: BTreeMap<String, String>,
    /// When each conditional put wrote the object, by the store's clock.
    modified: BTreeMap<String, chrono::DateTime<chrono::Utc>>,
    /// The store's clock: the wall clock, plus `advanced` (tests move it on).
    advanced: chrono::TimeDelta,
    writes: u64,
    down: bool,
}

impl MemInner {
    fn now(&self) -> chrono::DateTime<chrono::Utc> {
        chrono::Utc::now() + self.advanced
    }
}

impl MemStore {
    pub fn new() -> Self {
        Self::default()
    }

    /// Moves the store's clock on by `by` (tests: a lease ages without waiting).
    pub fn advance(&self, by: chrono::TimeDelta) {
        if let Ok(mut g) = self.inner.lock() {
            g.advanced += by;
        }
    }
    pub fn set_up(&self, up: bool) {
        if let Ok(mut g) = self.inner.lock() {
            g.down = !up;
        }
    }
    pub fn objects(&self) -> BTreeMap<String, Vec<u8>> {
        self.inner
            .lock()
            .map(|g| g.objects.clone())
            .unwrap_or_default()
    }
    fn with<T>(&self, f: impl FnOnce(&mut MemInner) -> T) -> Result<T, StoreError> {
        let mut g = self
            .inner
            .lock()
            .map_err(|_| StoreError::Failed("poisoned".into()))?;
        if g.down {
            return Err(StoreError::Unreachable("connection refused".into()));
        }
        Ok(f(&mut g))
    }
}

impl Store for MemStore {
    fn put_new(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<Put, StoreError>> {
        Box::pin(async move {
            self.with(|g| match g.objects.entry(key) {
                std::collections::btree_map::Entry::Occupied(_) => Put::Exists,
                std::collections::btree_map::Entry::Vacant(v) => {
                    v.insert(body);
                    Put::Created
                }
            })
        })
    }
    fn get_tagged(&self, key: String) -> BoxFuture<'_, Result<Tagged, StoreError>> {
        Box::pin(async move {
            self.with(|g| {
                let tag = g.etags.get(&key).cloned().unwrap_or_else(|| "\"0\"".into());
                let now = g.now();
                g.objects.get(&key).map(|b| TaggedObject {
                    bytes: b.clone(),
                    etag: tag,
                    last_modified: g.modified.get(&key).copied(),
                    served_at: Some(now),
                })
            })
        })
    }
    fn put_if(
        &self,
        key: String,
        body: Vec<u8>,
        etag: Option<String>,
    ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
        Box::pin(async move {
            self.with(|g| {
                let current = g
                    .objects
                    .contains_key(&key)
                    .then(|| g.etags.get(&key).cloned().unwrap_or_else(|| "\"0\"".into()));
                if current != etag {
                    return None;
                }
                g.writes += 1;
                let tag = format!("\"{}\"", g.writes);
                let now = g.now();
                g.modified.insert(key.clone(), now);
                g.objects.insert(key.clone(), body);
                g.etags.insert(key, tag.clone());
                Some(tag)
            })
        })
    }
    fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
        Box::pin(async move { self.with(|g| g.objects.get(&key).cloned()) })
    }
    fn put(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>> {
        Box::pin(async move {
            self.with(|g| {
                g.objects.insert(key, body);
            })
        })
    }
    fn list(
        &self,
        prefix: String,
        start_after: Option<String>,
    ) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.with(|g| {
                g.objects
                    .keys()
                    .filter(|k| k.starts_with(&prefix))
                    .filter(|k| start_after.as_ref().is_none_or(|s| *k > s))
                    .cloned()
                    .collect()
            })
        })
    }
    fn list_dirs(&self, prefix: String) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
        Box::pin(async move {
            self.with(|g| {
                let mut dirs: Vec<String> = g
                    .objects
                    .keys()
                    .filter_map(|k| k.strip_prefix(&prefix))
                    .filter_map(|rest| rest.split_once('/').map(|(d, _)| d.to_string()))
                    .collect();
                dirs.dedup();
                dirs
            })
        })
    }
}

/// How to reach the store.
#[derive(Debug, Clone, Default)]
pub struct StoreOptions {
    pub region: Option<String>,
    pub profile: Option<String>,
    pub endpoint_url: Option<String>,
}

/// Builds the store for a share URL.
pub fn open(url: &super::ShareUrl, options: &StoreOptions) -> Result<Arc<dyn Store>, StoreError> {
    #[cfg(feature = "aws")]
    {
        Ok(Arc::new(S3Store::new(url, options)))
    }
    #[cfg(not(feature = "aws"))]
    {
        let _ = (url, options);
        Err(StoreError::NotBuilt)
    }
}

#[cfg(feature = "aws")]
pub use s3::S3Store;

#[cfg(feature = "aws")]
mod s3 {
    use super::*;
    use crate::telemetry::aws::{AwsOptions, Connector};
    use aws_sdk_s3::error::{ProvideErrorMetadata, SdkError};
    use aws_sdk_s3::primitives::ByteStream;

    /// The response's `Date` header (the store's clock), read as the response arrives.
    #[derive(Debug, Clone, Default)]
    struct ResponseDate(Arc<Mutex<Option<chrono::DateTime<chrono::Utc>>>>);

    impl ResponseDate {
        fn get(&self) -> Option<chrono::DateTime<chrono::Utc>> {
            self.0.lock().ok().and_then(|d| *d)
        }
    }

    impl aws_sdk_s3::config::Intercept for ResponseDate {
        fn name(&self) -> &'static str {
            "warroom-response-date"
        }

        fn read_before_deserialization(
            &self,
            context: &aws_sdk_s3::config::interceptors::BeforeDeserializationInterceptorContextRef<
                '_,
            >,
            _components: &aws_sdk_s3::config::RuntimeComponents,
            _cfg: &mut aws_sdk_s3::config::ConfigBag,
        ) -> Result<(), aws_sdk_s3::error::BoxError> {
            let date = context
                .response()
                .headers()
                .get("date")
                .and_then(|d| chrono::DateTime::parse_from_rfc2822(d).ok())
                .map(|d| d.with_timezone(&chrono::Utc));
            if let Ok(mut seen) = self.0.lock() {
                *seen = date;
            }
            Ok(())
        }
    }

    /// S3 through the AWS SDK, path-style (MinIO, Ceph and emulators need it; AWS accepts it).
    pub struct S3Store {
        bucket: String,
        region: String,
        profile: Option<String>,
        connector: Connector,
        client: tokio::sync::OnceCell<aws_sdk_s3::Client>,
    }

    impl S3Store {
        pub fn new(url: &crate::share::ShareUrl, o: &StoreOptions) -> Self {
            let aws = AwsOptions {
                endpoint_url: o.endpoint_url.clone(),
                max_attempts: 1,
                ..AwsOptions::default()
            };
            // Tests and emulators: fixed credentials from the environment work as usual
            // through the standard chain.
            S3Store {
                bucket: url.bucket.clone(),
                region: o
                    .region
                    .clone()
                    .unwrap_or_else(|| crate::share::DEFAULT_REGION.into()),
                profile: o.profile.clone(),
                connector: Connector::new(aws),
                client: tokio::sync::OnceCell::new(),
            }
        }

        async fn client(&self) -> &aws_sdk_s3::Client {
            self.client
                .get_or_init(|| async {
                    let config = self.connector.config(self.profile.as_deref()).await;
                    let conf = aws_sdk_s3::config::Builder::from(&config)
                        .region(aws_sdk_s3::config::Region::new(self.region.clone()))
                        .force_path_style(true)
                        .build();
                    aws_sdk_s3::Client::from_conf(conf)
                })
                .await
        }
    }

    fn classify<E: ProvideErrorMetadata + std::error::Error, R: std::fmt::Debug>(
        bucket: &str,
        e: &SdkError<E, R>,
    ) -> StoreError {
        match e {
            SdkError::TimeoutError(_) => StoreError::Timeout {
                secs: CALL_TIMEOUT.as_secs(),
            },
            SdkError::DispatchFailure(d) => StoreError::Unreachable(crate::text::echo(&format!(
                "{:?}",
                d.as_connector_error()
                    .map(|c| c.to_string())
                    .unwrap_or_else(|| "dispatch failure".into())
            ))),
            SdkError::ServiceError(s) => {
                let code = s.err().code().unwrap_or("unknown");
                let message = s.err().message().unwrap_or_default();
                match code {
                    "NoSuchBucket" => StoreError::NoBucket(bucket.to_string()),
                    "AccessDenied"
                    | "InvalidAccessKeyId"
                    | "SignatureDoesNotMatch"
                    | "ExpiredToken" => StoreError::Denied(format!("{code}: {message}")),
                    _ => StoreError::Failed(crate::text::echo(&format!("{code}: {message}"))),
                }
            }
            other => StoreError::Failed(crate::text::echo(&other.to_string())),
        }
    }

    fn status_of<E, R: HttpStatus>(e: &SdkError<E, R>) -> Option<u16> {
        match e {
            SdkError::ServiceError(s) => Some(s.raw().status_code()),
            SdkError::ResponseError(r) => Some(r.raw().status_code()),
            _ => None,
        }
    }

    trait HttpStatus {
        fn status_code(&self) -> u16;
    }
    impl HttpStatus for aws_sdk_s3::config::http::HttpResponse {
        fn status_code(&self) -> u16 {
            self.status().as_u16()
        }
    }

    impl Store for S3Store {
        fn put_new(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<Put, StoreError>> {
            Box::pin(bounded(async move {
                let r = self
                    .client()
                    .await
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .if_none_match("*")
                    .content_type("application/json")
                    .body(ByteStream::from(body))
                    .send()
                    .await;
                match r {
                    Ok(_) => Ok(Put::Created),
                    // 412: the key exists; 409: a concurrent conditional write won the race.
                    Err(e) if matches!(status_of(&e), Some(412 | 409)) => Ok(Put::Exists),
                    Err(e) => Err(classify(&self.bucket, &e)),
                }
            }))
        }

        fn put(&self, key: String, body: Vec<u8>) -> BoxFuture<'_, Result<(), StoreError>> {
            Box::pin(bounded(async move {
                self.client()
                    .await
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .content_type("application/json")
                    .body(ByteStream::from(body))
                    .send()
                    .await
                    .map(|_| ())
                    .map_err(|e| classify(&self.bucket, &e))
            }))
        }

        fn get(&self, key: String) -> BoxFuture<'_, Result<Option<Vec<u8>>, StoreError>> {
            Box::pin(bounded(async move {
                let r = self
                    .client()
                    .await
                    .get_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .send()
                    .await;
                match r {
                    Ok(out) => out
                        .body
                        .collect()
                        .await
                        .map(|b| Some(b.into_bytes().to_vec()))
                        .map_err(|e| StoreError::Unreachable(crate::text::echo(&e.to_string()))),
                    Err(e) if status_of(&e) == Some(404) => {
                        if e.as_service_error().and_then(|s| s.code()) == Some("NoSuchBucket") {
                            Err(StoreError::NoBucket(self.bucket.clone()))
                        } else {
                            Ok(None)
                        }
                    }
                    Err(e) => Err(classify(&self.bucket, &e)),
                }
            }))
        }

        fn get_tagged(&self, key: String) -> BoxFuture<'_, Result<Tagged, StoreError>> {
            Box::pin(bounded(async move {
                let date = ResponseDate::default();
                let r = self
                    .client()
                    .await
                    .get_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .customize()
                    .interceptor(date.clone())
                    .send()
                    .await;
                match r {
                    Ok(out) => {
                        let etag = out.e_tag().unwrap_or_default().to_string();
                        let last_modified = out
                            .last_modified()
                            .and_then(|t| chrono::DateTime::from_timestamp(t.secs(), 0));
                        let served_at = date.get();
                        out.body
                            .collect()
                            .await
                            .map(|b| {
                                Some(TaggedObject {
                                    bytes: b.into_bytes().to_vec(),
                                    etag,
                                    last_modified,
                                    served_at,
                                })
                            })
                            .map_err(|e| StoreError::Unreachable(crate::text::echo(&e.to_string())))
                    }
                    Err(e) if status_of(&e) == Some(404) => Ok(None),
                    Err(e) => Err(classify(&self.bucket, &e)),
                }
            }))
        }

        fn put_if(
            &self,
            key: String,
            body: Vec<u8>,
            etag: Option<String>,
        ) -> BoxFuture<'_, Result<Option<String>, StoreError>> {
            Box::pin(bounded(async move {
                let mut call = self
                    .client()
                    .await
                    .put_object()
                    .bucket(&self.bucket)
                    .key(&key)
                    .content_type("application/json")
                    .body(ByteStream::from(body));
                call = match &etag {
                    Some(tag) => call.if_match(tag),
                    None => call.if_none_match("*"),
                };
                match call.send().await {
                    Ok(out) => Ok(Some(out.e_tag().unwrap_or_default().to_string())),
                    // 412: the ETag changed (or the key exists); 409: a concurrent write won;
                    // 404: If-Match on a key that is gone.
                    Err(e) if matches!(status_of(&e), Some(412 | 409 | 404)) => Ok(None),
                    Err(e) => Err(classify(&self.bucket, &e)),
                }
            }))
        }

        fn list(
            &self,
            prefix: String,
            start_after: Option<String>,
        ) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
            Box::pin(bounded(async move {
                let client = self.client().await;
                let mut keys = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let mut call = client
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(&prefix);
                    if let Some(t) = &token {
                        call = call.continuation_token(t);
                    } else if let Some(s) = &start_after {
                        call = call.start_after(s);
                    }
                    let out = call.send().await.map_err(|e| classify(&self.bucket, &e))?;
                    keys.extend(
                        out.contents()
                            .iter()
                            .filter_map(|o| o.key().map(String::from)),
                    );
                    match out.next_continuation_token() {
                        Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                        _ => break,
                    }
                }
                Ok(keys)
            }))
        }

        fn list_dirs(&self, prefix: String) -> BoxFuture<'_, Result<Vec<String>, StoreError>> {
            Box::pin(bounded(async move {
                let client = self.client().await;
                let mut dirs = Vec::new();
                let mut token: Option<String> = None;
                loop {
                    let mut call = client
                        .list_objects_v2()
                        .bucket(&self.bucket)
                        .prefix(&prefix)
                        .delimiter("/");
                    if let Some(t) = &token {
                        call = call.continuation_token(t);
                    }
                    let out = call.send().await.map_err(|e| classify(&self.bucket, &e))?;
                    dirs.extend(out.common_prefixes().iter().filter_map(|p| {
                        p.prefix()
                            .and_then(|p| p.strip_prefix(prefix.as_str()))
                            .map(|d| d.trim_end_matches('/').to_string())
                    }));
                    match out.next_continuation_token() {
                        Some(t) if out.is_truncated() == Some(true) => token = Some(t.to_string()),
                        _ => break,
                    }
                }
                Ok(dirs)
            }))
        }
    }
}
