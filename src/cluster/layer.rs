//! The one client layer every API request goes through: it counts requests and LIST continuation pages
//! (for `-v`), and retries idempotent reads the server or the network turned away for a moment.
//!
//! What is retried, and why:
//! - GET (reads, LISTs, and WATCH establishment: the layer only sees the request until the response
//!   headers arrive) answered 429 Too Many Requests or 503 Service Unavailable, honouring the server's
//!   `Retry-After` seconds (capped at [`MAX_RETRY_AFTER`]), else exponential backoff with jitter;
//! - GET failing because the connection was reset, aborted, or closed before the answer was complete;
//! - POST of a SelfSubjectAccessReview / SubjectAccessReview: the "create" only asks a question and
//!   stores nothing, so it is a read and may be asked again.
//!
//! Never retried: every other write (POST, PUT, PATCH, DELETE — dry runs included: a write the server
//! may have performed must be re-read, then decided, by its caller), a refused connection (the server
//! is down: say so at once), and any other status. Every retry stays within the request's budget
//! (`--request-timeout`, measured from the first attempt): a retry that would end after it is not made.

use http::{Method, Request, Response, StatusCode};
use kube::client::Body;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::task::{Context, Poll};
use std::time::{Duration, Instant};
use tower::{BoxError, Layer, Service, ServiceExt};

/// How many attempts a request gets at most (the first one included).
pub const MAX_ATTEMPTS: u32 = 5;
/// The longest `Retry-After` honoured; a longer one is shortened to this.
pub const MAX_RETRY_AFTER: Duration = Duration::from_secs(10);
/// The first backoff; it doubles with each retry (plus up to 50% jitter), up to [`MAX_BACKOFF`].
const FIRST_BACKOFF: Duration = Duration::from_millis(200);
const MAX_BACKOFF: Duration = Duration::from_secs(5);

/// Counters shared by a connection and its layer.
#[derive(Debug, Default)]
pub struct Counters {
    /// API requests made (a retried request counts once).
    pub requests: AtomicUsize,
    /// How many of those fetched a continuation page of a LIST.
    pub pages: AtomicUsize,
    /// Attempts repeated after a transient failure.
    pub retries: AtomicUsize,
}

/// What went wrong with one attempt, as far as retrying is concerned.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// The server answered with this status; `retry_after` is its `Retry-After` in seconds, if any.
    Status { status: u16, retry_after: Option<u64> },
    /// The connection broke after it was made (reset, aborted, closed mid-answer).
    ConnectionBroken,
    /// Any other transport failure (refused, timed out, TLS, DNS…).
    OtherError,
}

/// True when a request of this method and path may be sent again without changing anything.
pub fn idempotent(method: &Method, path: &str) -> bool {
    if *method == Method::GET || *method == Method::HEAD {
        return true;
    }
    // Access reviews are "created" but only answer a question; nothing is stored.
    *method == Method::POST
        && path.starts_with("/apis/authorization.k8s.io/")
        && (path.ends_with("/selfsubjectaccessreviews")
            || path.ends_with("/subjectaccessreviews")
            || path.ends_with("/selfsubjectrulesreviews"))
}

/// The retry policy: after `attempt` (1-based) of an idempotent request ended with `outcome`, wait this
/// long and try again — or None: give the outcome to the caller. `jitter` in [0, 1) spreads the backoff.
pub fn retry_after(outcome: Outcome, attempt: u32, jitter: f64) -> Option<Duration> {
    if attempt >= MAX_ATTEMPTS {
        return None;
    }
    let backoff = || {
        let base = FIRST_BACKOFF.saturating_mul(1 << (attempt - 1).min(16)).min(MAX_BACKOFF);
        base.mul_f64(1.0 + 0.5 * jitter.clamp(0.0, 1.0))
    };
    match outcome {
        Outcome::Status { status: 429 | 503, retry_after: Some(secs) } => {
            Some(Duration::from_secs(secs).min(MAX_RETRY_AFTER).max(backoff().min(Duration::from_millis(50))))
        }
        Outcome::Status { status: 429 | 503, retry_after: None } => Some(backoff()),
        Outcome::ConnectionBroken => Some(backoff()),
        Outcome::Status { .. } | Outcome::OtherError => None,
    }
}

/// True when a transport error means the connection broke after it was made (the request may
/// not have been read or answered): a reset, an abort, a broken pipe, or an answer cut short.
pub fn connection_broken(err: &(dyn std::error::Error + 'static)) -> bool {
    let mut cur = Some(err);
    while let Some(e) = cur {
        if let Some(io) = e.downcast_ref::<std::io::Error>() {
            use std::io::ErrorKind as K;
            if matches!(io.kind(), K::ConnectionReset | K::ConnectionAborted | K::BrokenPipe | K::UnexpectedEof) {
                return true;
            }
        }
        if let Some(h) = e.downcast_ref::<hyper::Error>() {
            if h.is_incomplete_message() || h.is_canceled() {
                return true;
            }
        }
        cur = match e.downcast_ref::<std::io::Error>().and_then(|io| io.get_ref()) {
            Some(inner) => Some(inner as &(dyn std::error::Error + 'static)),
            None => e.source(),
        };
    }
    false
}

/// The layer: build it with the connection's counters and per-request budget.
#[derive(Clone)]
pub struct ClientLayer {
    counters: Arc<Counters>,
    budget: Option<Duration>,
}

impl ClientLayer {
    /// A layer counting into `counters`; `budget`: the request timeout (None: no limit).
    pub fn new(counters: Arc<Counters>, budget: Option<Duration>) -> Self {
        ClientLayer { counters, budget }
    }
}

impl<S> Layer<S> for ClientLayer
where
    S: Service<Request<Body>> + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError> + Send + Sync,
    S::Response: Send + 'static,
{
    type Service = ClientService<S>;

    fn layer(&self, inner: S) -> Self::Service {
        ClientService { inner: tower::buffer::Buffer::new(inner, 1024), layer: self.clone() }
    }
}

/// The service of [`ClientLayer`].
pub struct ClientService<S>
where
    S: Service<Request<Body>>,
{
    inner: tower::buffer::Buffer<Request<Body>, S::Future>,
    layer: ClientLayer,
}

impl<S> Clone for ClientService<S>
where
    S: Service<Request<Body>>,
    S::Future: Send + 'static,
{
    fn clone(&self) -> Self {
        ClientService { inner: self.inner.clone(), layer: self.layer.clone() }
    }
}

impl<S, B> Service<Request<Body>> for ClientService<S>
where
    S: Service<Request<Body>, Response = Response<B>> + Send + 'static,
    S::Future: Send,
    S::Error: Into<BoxError> + Send + Sync,
    B: Send + 'static,
{
    type Response = Response<B>;
    type Error = BoxError;
    type Future = Pin<Box<dyn Future<Output = Result<Response<B>, BoxError>> + Send>>;

    fn poll_ready(&mut self, cx: &mut Context<'_>) -> Poll<Result<(), Self::Error>> {
        self.inner.poll_ready(cx)
    }

    fn call(&mut self, req: Request<Body>) -> Self::Future {
        let counters = self.layer.counters.clone();
        counters.requests.fetch_add(1, Ordering::Relaxed);
        let query = req.uri().query().unwrap_or("");
        if req.method() == Method::GET && query.split('&').any(|kv| kv.starts_with("continue=")) {
            counters.pages.fetch_add(1, Ordering::Relaxed);
        }
        let retryable = idempotent(req.method(), req.uri().path());
        let deadline = self.layer.budget.map(|b| Instant::now() + b);
        // The ready clone serves this first call; later attempts wait for a clone of their own.
        let clone = self.inner.clone();
        let first = std::mem::replace(&mut self.inner, clone);
        Box::pin(async move {
            let method = req.method().clone();
            let path = req.uri().path().to_string();
            let mut next = if retryable { clone_request(&req) } else { None };
            let mut svc = first;
            let mut result = svc.call(req).await;
            let mut attempt = 1;
            loop {
                let Some(again) = next.take() else { return result };
                let outcome = match &result {
                    Ok(resp)
                        if resp.status() == StatusCode::TOO_MANY_REQUESTS
                            || resp.status() == StatusCode::SERVICE_UNAVAILABLE =>
                    {
                        let retry_after = resp
                            .headers()
                            .get(http::header::RETRY_AFTER)
                            .and_then(|v| v.to_str().ok())
                            .and_then(|v| v.trim().parse::<u64>().ok());
                        Outcome::Status { status: resp.status().as_u16(), retry_after }
                    }
                    Ok(_) => return result,
                    Err(e) if connection_broken(e.as_ref()) => Outcome::ConnectionBroken,
                    Err(_) => return result,
                };
                let Some(wait) = retry_after(outcome, attempt, jitter()) else { return result };
                if deadline.is_some_and(|d| Instant::now() + wait >= d) {
                    return result;
                }
                attempt += 1;
                let why = match outcome {
                    Outcome::Status { status, .. } => status.to_string(),
                    _ => "a broken connection".to_string(),
                };
                tracing::info!(
                    "retrying {method} {path} after {why} in {:.1}s (attempt {attempt}/{MAX_ATTEMPTS})",
                    wait.as_secs_f64()
                );
                counters.retries.fetch_add(1, Ordering::Relaxed);
                tokio::time::sleep(wait).await;
                next = clone_request(&again);
                svc = svc.clone();
                result = match svc.ready().await {
                    Ok(ready) => ready.call(again).await,
                    Err(e) => Err(e),
                };
            }
        })
    }
}

/// A copy of a request whose body is held in memory (None for a streamed body: not retried).
fn clone_request(req: &Request<Body>) -> Option<Request<Body>> {
    let body = req.body().try_clone()?;
    let mut copy = Request::new(body);
    *copy.method_mut() = req.method().clone();
    *copy.uri_mut() = req.uri().clone();
    *copy.version_mut() = req.version();
    *copy.headers_mut() = req.headers().clone();
    *copy.extensions_mut() = req.extensions().clone();
    Some(copy)
}

/// A number in [0, 1) that differs between calls (spreads retries of concurrent requests apart).
fn jitter() -> f64 {
    use std::hash::{BuildHasher, Hasher};
    let mut h = std::collections::hash_map::RandomState::new().build_hasher();
    h.write_u128(Instant::now().elapsed().as_nanos());
    (h.finish() % 1_000_000) as f64 / 1_000_000.0
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::Mutex;

    #[test]
    fn policy_retries_throttling_and_broken_connections_only() {
        let s = |status, retry_after| Outcome::Status { status, retry_after };
        assert_eq!(retry_after(s(503, Some(2)), 1, 0.0), Some(Duration::from_secs(2)));
        assert_eq!(retry_after(s(429, Some(3600)), 1, 0.0), Some(MAX_RETRY_AFTER), "Retry-After is capped");
        assert_eq!(retry_after(s(429, None), 1, 0.0), Some(Duration::from_millis(200)));
        assert_eq!(retry_after(s(503, None), 3, 0.0), Some(Duration::from_millis(800)), "backoff doubles");
        assert_eq!(retry_after(s(503, None), 3, 1.0), Some(Duration::from_millis(1200)), "jitter adds up to 50%");
        assert_eq!(retry_after(Outcome::ConnectionBroken, 2, 0.0), Some(Duration::from_millis(400)));
        assert_eq!(retry_after(s(503, None), MAX_ATTEMPTS, 0.0), None, "attempts are bounded");
        for status in [400, 401, 403, 404, 409, 500, 504] {
            assert_eq!(retry_after(s(status, Some(1)), 1, 0.0), None, "{status} is not retried");
        }
        assert_eq!(retry_after(Outcome::OtherError, 1, 0.0), None);
    }

    #[test]
    fn only_reads_and_access_reviews_are_idempotent() {
        assert!(idempotent(&Method::GET, "/api/v1/pods"));
        assert!(idempotent(&Method::POST, "/apis/authorization.k8s.io/v1/selfsubjectaccessreviews"));
        assert!(!idempotent(&Method::POST, "/api/v1/namespaces/a/configmaps"));
        for m in [Method::PUT, Method::PATCH, Method::DELETE] {
            assert!(!idempotent(&m, "/api/v1/namespaces/a/configmaps/x"), "{m}");
        }
    }

    #[test]
    fn broken_connections_are_told_from_other_errors() {
        let reset = std::io::Error::new(std::io::ErrorKind::ConnectionReset, "reset by peer");
        let wrapped: BoxError = Box::new(reset);
        assert!(connection_broken(wrapped.as_ref()));
        let refused: BoxError = Box::new(std::io::Error::new(std::io::ErrorKind::ConnectionRefused, "refused"));
        assert!(!connection_broken(refused.as_ref()));
    }

    /// One scripted answer: a status with its Retry-After, or a transport error.
    type Answer = Result<(u16, Option<&'static str>), std::io::ErrorKind>;

    /// A tiny in-process server: answers each request with the next scripted result.
    #[derive(Clone)]
    struct Scripted {
        answers: Arc<Mutex<Vec<Answer>>>,
        seen: Arc<Mutex<Vec<String>>>,
    }

    impl Service<Request<Body>> for Scripted {
        type Response = Response<String>;
        type Error = BoxError;
        type Future = Pin<Box<dyn Future<Output = Result<Response<String>, BoxError>> + Send>>;
        fn poll_ready(&mut self, _: &mut Context<'_>) -> Poll<Result<(), BoxError>> {
            Poll::Ready(Ok(()))
        }
        fn call(&mut self, req: Request<Body>) -> Self::Future {
            self.seen.lock().unwrap().push(format!("{} {}", req.method(), req.uri()));
            let next = self.answers.lock().unwrap().remove(0);
            Box::pin(async move {
                match next {
                    Ok((status, retry_after)) => {
                        let mut b = Response::builder().status(status);
                        if let Some(r) = retry_after {
                            b = b.header("Retry-After", r);
                        }
                        Ok(b.body(String::new()).unwrap())
                    }
                    Err(kind) => Err(Box::new(std::io::Error::new(kind, "scripted")) as BoxError),
                }
            })
        }
    }

    async fn run(
        method: Method,
        uri: &str,
        answers: Vec<Answer>,
        budget: Option<Duration>,
    ) -> (Result<u16, String>, Vec<String>, Arc<Counters>) {
        let server = Scripted { answers: Arc::new(Mutex::new(answers)), seen: Arc::default() };
        let counters = Arc::new(Counters::default());
        let mut svc = ClientLayer::new(counters.clone(), budget).layer(server.clone());
        let req = Request::builder().method(method).uri(uri).body(Body::from(b"{}".to_vec())).unwrap();
        let result = svc.ready().await.unwrap().call(req).await;
        let seen = server.seen.lock().unwrap().clone();
        (result.map(|r| r.status().as_u16()).map_err(|e| e.to_string()), seen, counters)
    }

    #[tokio::test]
    async fn reads_are_retried_until_they_succeed_and_count_once() {
        let uri = "/api/v1/pods?limit=500&continue=abc";
        let answers = vec![Ok((503, None)), Err(std::io::ErrorKind::ConnectionReset), Ok((429, None)), Ok((200, None))];
        let (result, seen, counters) = run(Method::GET, uri, answers, Some(Duration::from_secs(30))).await;
        assert_eq!(result, Ok(200));
        assert_eq!(seen.len(), 4, "{seen:?}");
        assert_eq!(counters.requests.load(Ordering::Relaxed), 1);
        assert_eq!(counters.pages.load(Ordering::Relaxed), 1, "a continue= LIST is a page");
        assert_eq!(counters.retries.load(Ordering::Relaxed), 3);
    }

    #[tokio::test]
    async fn writes_are_never_retried() {
        let uri = "/api/v1/namespaces/a/configmaps/x?fieldManager=kubectl-llmd";
        let (result, seen, _) = run(Method::PATCH, uri, vec![Ok((503, Some("1"))), Ok((200, None))], None).await;
        assert_eq!(result, Ok(503));
        assert_eq!(seen.len(), 1);
        let (result, seen, _) = run(Method::DELETE, uri, vec![Err(std::io::ErrorKind::ConnectionReset)], None).await;
        assert!(result.is_err());
        assert_eq!(seen.len(), 1);
    }

    #[tokio::test]
    async fn retries_stay_within_the_request_budget() {
        let answers = vec![Ok((503, Some("1"))), Ok((503, Some("3"))), Ok((200, None))];
        let (result, seen, _) = run(Method::GET, "/api/v1/pods", answers, Some(Duration::from_secs(2))).await;
        assert_eq!(result, Ok(503), "a 3s Retry-After does not fit a 2s budget after 1s spent");
        assert_eq!(seen.len(), 2);
    }
}
