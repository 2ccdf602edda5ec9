//! A fault-injecting HTTPS proxy between kubectl-llmd and a harness API server, for faults a real
//! server cannot be made to produce on demand: added latency, 429/503 with `Retry-After`, connection
//! resets, truncated or garbled bodies, a blackhole, an API server that goes away and comes back,
//! and a SIGKILL of the client at an exact request (the "random" kill points of the no-data-loss tests).
//!
//! It terminates TLS with the harness's own serving certificate (IP SAN 127.0.0.1, signed by the
//! harness CA), so the kubeconfig it writes (`kubeconfig`) trusts it with the harness CA; upstream it
//! speaks HTTPS to the API server as the harness admin (client certificate), dropping whatever
//! credentials the client sent. Every request is logged (method, path and query, the fault injected,
//! the status returned) for the tests to count. Rules are evaluated in order; the first that matches a
//! request and fires (its `fraction`, drawn from a seeded generator) decides its fault, so a run
//! is reproducible request for request for a given seed and request order. Fraction faults are
//! transient: one request is faulted at most `MAX_STREAK` times in a row.
#![allow(dead_code)]

use crate::harness::Harness;
use bytes::Bytes;
use http_body_util::{combinators::BoxBody, BodyExt, Full, StreamBody};
use hyper::body::{Frame, Incoming};
use hyper::{Request, Response, StatusCode};
use hyper_util::client::legacy::Client;
use hyper_util::rt::{TokioExecutor, TokioIo};
use rustls::pki_types::pem::PemObject;
use rustls::pki_types::{CertificateDer, PrivateKeyDer};
use std::net::SocketAddr;
use std::os::fd::AsRawFd;
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;
use tokio::sync::Notify;

type BoxError = Box<dyn std::error::Error + Send + Sync>;
type Body = BoxBody<Bytes, BoxError>;
type Upstream = Client<hyper_rustls::HttpsConnector<hyper_util::client::legacy::connect::HttpConnector>, Full<Bytes>>;

/// What the proxy does to a request a rule picked.
#[derive(Debug, Clone)]
pub enum Fault {
    /// Forward it after this delay.
    Latency(Duration),
    /// Answer this status (429, 503…) with `Retry-After: 1` and a Status body; never forwarded.
    Status(u16),
    /// Forward it, then answer this status instead of the server's (the write happened; the client
    /// is told it failed).
    StatusAfterForward(u16),
    /// Close the connection with a TCP reset before answering; never forwarded.
    Reset,
    /// Forward it; send the server's headers and half of its body, then cut the connection.
    Truncate,
    /// Forward it; answer 200 with half of the server's body plus junk (valid HTTP, broken JSON).
    Garble,
    /// Never answer (the connection stays open).
    Blackhole,
    /// SIGKILL the process registered with `kill_on`, then never answer (never forwarded).
    Kill,
}

/// When a fault applies.
#[derive(Debug, Clone)]
pub struct Rule {
    /// HTTP methods it applies to (empty: all).
    pub methods: Vec<&'static str>,
    /// A substring the path and query must contain ("" matches all).
    pub path: String,
    /// Substrings the path and query must not contain.
    pub not_path: Vec<String>,
    /// Probability that a matching request gets the fault.
    pub fraction: f64,
    /// Matching requests to let through before the rule starts firing.
    pub skip: usize,
    /// The most requests it fires on (None: no limit).
    pub times: Option<usize>,
    pub fault: Fault,
    matched: usize,
    fired: usize,
}

impl Rule {
    /// A rule for every request, always firing.
    pub fn new(fault: Fault) -> Self {
        Rule {
            methods: Vec::new(),
            path: String::new(),
            not_path: Vec::new(),
            fraction: 1.0,
            skip: 0,
            times: None,
            fault,
            matched: 0,
            fired: 0,
        }
    }
    pub fn methods(mut self, m: &[&'static str]) -> Self {
        self.methods = m.to_vec();
        self
    }
    pub fn path(mut self, p: &str) -> Self {
        self.path = p.to_string();
        self
    }
    pub fn not_path(mut self, p: &str) -> Self {
        self.not_path.push(p.to_string());
        self
    }
    pub fn fraction(mut self, f: f64) -> Self {
        self.fraction = f;
        self
    }
    pub fn skip(mut self, n: usize) -> Self {
        self.skip = n;
        self
    }
    pub fn times(mut self, n: usize) -> Self {
        self.times = Some(n);
        self
    }
}

/// One request as the proxy saw it.
#[derive(Debug, Clone)]
pub struct Seen {
    pub method: String,
    /// Path and query.
    pub target: String,
    /// The fault injected (Debug form), if any.
    pub fault: Option<String>,
    /// The status sent (None: no answer).
    pub status: Option<u16>,
}

/// SplitMix64: a seeded generator, enough for reproducible coin flips.
struct Rng(u64);

impl Rng {
    fn next_f64(&mut self) -> f64 {
        self.0 = self.0.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^= z >> 31;
        (z >> 11) as f64 / (1u64 << 53) as f64
    }
}

/// Seeded choice of `n` values in `range` (sorted), for kill points and the like.
pub fn seeded_points(seed: u64, n: usize, range: std::ops::Range<usize>) -> Vec<usize> {
    let mut rng = Rng(seed);
    let mut v: Vec<usize> =
        (0..n).map(|_| range.start + (rng.next_f64() * (range.end - range.start) as f64) as usize).collect();
    v.sort();
    v
}

/// A rule that fires on a fraction of requests faults one request (method and target) at most this
/// many times in a row: the faults are transient, as on a busy server, not a request that always
/// fails (the body and blackhole tests cover those, with `fraction` 1).
const MAX_STREAK: usize = 2;

struct State {
    rules: Mutex<Vec<Rule>>,
    /// Consecutive fraction faults per request (method and target).
    streaks: Mutex<std::collections::HashMap<String, usize>>,
    rng: Mutex<Rng>,
    log: Mutex<Vec<Seen>>,
    /// The process `Fault::Kill` kills (0: none).
    victim: AtomicI32,
    down: AtomicBool,
    changed: Notify,
    /// Raised when the proxy goes down: every open connection ends.
    cut: tokio::sync::watch::Sender<u64>,
}

/// A running proxy (it lives as long as the test process; `Drop` stops forwarding).
pub struct FaultProxy {
    pub addr: SocketAddr,
    /// A kubeconfig (context `fault-proxy`, namespace `default`) pointing at the proxy.
    pub kubeconfig: PathBuf,
    state: Arc<State>,
    _dir: tempfile::TempDir,
}

fn server_config(dir: &Path) -> rustls::ServerConfig {
    let certs: Vec<CertificateDer<'static>> = CertificateDer::pem_file_iter(dir.join("apiserver.crt"))
        .expect("harness serving certificate")
        .collect::<Result<_, _>>()
        .expect("PEM certificate");
    let key = PrivateKeyDer::from_pem_file(dir.join("apiserver.key")).expect("harness serving key");
    let mut cfg = rustls::ServerConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_no_client_auth()
        .with_single_cert(certs, key)
        .expect("serving certificate and key");
    cfg.alpn_protocols = vec![b"http/1.1".to_vec()];
    cfg
}

fn upstream_client(h: &Harness) -> Upstream {
    let mut roots = rustls::RootCertStore::empty();
    for c in CertificateDer::pem_file_iter(&h.ca).expect("harness CA").flatten() {
        roots.add(c).expect("CA certificate");
    }
    let certs: Vec<CertificateDer<'static>> =
        CertificateDer::pem_file_iter(h.dir.join("admin.crt")).expect("admin certificate").flatten().collect();
    let key = PrivateKeyDer::from_pem_file(h.dir.join("admin.key")).expect("admin key");
    let cfg = rustls::ClientConfig::builder_with_provider(Arc::new(rustls::crypto::ring::default_provider()))
        .with_safe_default_protocol_versions()
        .expect("TLS versions")
        .with_root_certificates(roots)
        .with_client_auth_cert(certs, key)
        .expect("admin client certificate");
    let https = hyper_rustls::HttpsConnectorBuilder::new().with_tls_config(cfg).https_only().enable_http1().build();
    Client::builder(TokioExecutor::new()).build(https)
}

impl FaultProxy {
    /// Start a proxy in front of `h` with no rules (a plain relay) and the given seed.
    pub fn start(h: &Harness, seed: u64) -> FaultProxy {
        let server_cfg = Arc::new(server_config(&h.dir));
        let upstream = upstream_client(h);
        let upstream_base = h.server.clone();
        let std_listener = std::net::TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        std_listener.set_nonblocking(true).unwrap();
        let addr = std_listener.local_addr().unwrap();
        let (cut, _) = tokio::sync::watch::channel(0u64);
        let state = Arc::new(State {
            rules: Mutex::new(Vec::new()),
            streaks: Mutex::new(std::collections::HashMap::new()),
            rng: Mutex::new(Rng(seed)),
            log: Mutex::new(Vec::new()),
            victim: AtomicI32::new(0),
            down: AtomicBool::new(false),
            changed: Notify::new(),
            cut,
        });
        let st = state.clone();
        std::thread::spawn(move || {
            let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().expect("proxy runtime");
            rt.block_on(serve(std_listener, addr, server_cfg, upstream, upstream_base, st));
        });

        let dir = tempfile::tempdir().expect("tempdir");
        let kubeconfig = dir.path().join("fault-proxy.kubeconfig");
        std::fs::write(
            &kubeconfig,
            format!(
                "apiVersion: v1\nkind: Config\ncurrent-context: fault-proxy\nclusters:\n- name: fault-proxy\n  cluster:\n    \
                 server: https://{addr}\n    certificate-authority: {}\nusers:\n- name: fault-proxy\n  user:\n    token: \
                 proxy-drops-this-token\ncontexts:\n- name: fault-proxy\n  context: {{cluster: fault-proxy, user: fault-proxy, namespace: default}}\n",
                h.ca.display()
            ),
        )
        .expect("write kubeconfig");
        FaultProxy { addr, kubeconfig, state, _dir: dir }
    }

    /// Replace the rules (and forget what they counted).
    pub fn set_rules(&self, rules: Vec<Rule>) {
        *self.state.rules.lock().unwrap() = rules;
    }

    /// Reseed the generator.
    pub fn reseed(&self, seed: u64) {
        *self.state.rng.lock().unwrap() = Rng(seed);
    }

    /// The process `Fault::Kill` kills.
    pub fn kill_on(&self, pid: u32) {
        self.state.victim.store(pid as i32, Ordering::SeqCst);
    }

    /// Requests seen so far.
    pub fn log(&self) -> Vec<Seen> {
        self.state.log.lock().unwrap().clone()
    }

    /// The first request that got a fault, and the next request for the same path (query aside):
    /// whether a failed write was read again before being repeated.
    pub fn first_fault_and_next(&self) -> Option<(Seen, Option<Seen>)> {
        let log = self.log();
        let i = log.iter().position(|s| s.fault.is_some())?;
        let path = log[i].target.split('?').next().unwrap_or("").to_string();
        let next = log[i + 1..].iter().find(|s| s.target.split('?').next() == Some(path.as_str())).cloned();
        Some((log[i].clone(), next))
    }

    /// Forget the log.
    pub fn clear_log(&self) {
        self.state.log.lock().unwrap().clear();
    }

    /// "The API server was killed": close the listener (new connections are refused) and every open
    /// connection, until `up`.
    pub fn down(&self) {
        self.state.down.store(true, Ordering::SeqCst);
        self.state.cut.send_modify(|n| *n += 1);
        self.state.changed.notify_waiters();
    }

    /// Listen and forward again, on the same port.
    pub fn up(&self) {
        self.state.down.store(false, Ordering::SeqCst);
        self.state.changed.notify_waiters();
    }
}

impl Drop for FaultProxy {
    fn drop(&mut self) {
        self.down();
    }
}

async fn serve(
    std_listener: std::net::TcpListener,
    addr: SocketAddr,
    cfg: Arc<rustls::ServerConfig>,
    upstream: Upstream,
    base: String,
    st: Arc<State>,
) {
    let acceptor = tokio_rustls::TlsAcceptor::from(cfg);
    let mut listener = Some(tokio::net::TcpListener::from_std(std_listener).expect("tokio listener"));
    loop {
        let changed = st.changed.notified();
        tokio::pin!(changed);
        changed.as_mut().enable();
        if st.down.load(Ordering::SeqCst) {
            listener = None; // refuse new connections
            changed.await;
            continue;
        }
        let l = match &listener {
            Some(l) => l,
            None => match tokio::net::TcpListener::bind(addr).await {
                Ok(l) => listener.insert(l),
                Err(e) => {
                    eprintln!("fault proxy: cannot listen on {addr} again: {e}; retrying");
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    continue;
                }
            },
        };
        let (tcp, _) = tokio::select! {
            accepted = l.accept() => match accepted { Ok(a) => a, Err(_) => continue },
            _ = changed => continue,
        };
        let fd = tcp.as_raw_fd();
        let (acceptor, upstream, base, st) = (acceptor.clone(), upstream.clone(), base.clone(), st.clone());
        let mut cut = st.cut.subscribe();
        tokio::spawn(async move {
            let work = async {
                let Ok(tls) = acceptor.accept(tcp).await else { return };
                let svc =
                    hyper::service::service_fn(move |req| handle(req, fd, upstream.clone(), base.clone(), st.clone()));
                let _ = hyper::server::conn::http1::Builder::new().serve_connection(TokioIo::new(tls), svc).await;
            };
            tokio::select! {
                _ = work => {}
                _ = cut.changed() => {} // dropped: the connection closes
            }
        });
    }
}

fn full(b: impl Into<Bytes>) -> Body {
    Full::new(b.into()).map_err(|e| match e {}).boxed()
}

/// The rule's decision for one request (updating its counters).
fn pick(st: &State, method: &str, target: &str) -> Option<Fault> {
    let mut rules = st.rules.lock().unwrap();
    let mut rng = st.rng.lock().unwrap();
    let mut streaks = st.streaks.lock().unwrap();
    let streak = streaks.entry(format!("{method} {target}")).or_insert(0);
    for r in rules.iter_mut() {
        let applies = (r.methods.is_empty() || r.methods.contains(&method))
            && target.contains(&r.path)
            && !r.not_path.iter().any(|n| target.contains(n.as_str()));
        if !applies {
            continue;
        }
        r.matched += 1;
        if r.matched <= r.skip || r.times.is_some_and(|t| r.fired >= t) {
            continue;
        }
        if r.fraction >= 1.0 {
            r.fired += 1;
            return Some(r.fault.clone());
        }
        if *streak < MAX_STREAK && rng.next_f64() < r.fraction {
            r.fired += 1;
            *streak += 1;
            return Some(r.fault.clone());
        }
    }
    *streak = 0;
    None
}

fn record(st: &State, method: &str, target: &str, fault: &Option<Fault>, status: Option<u16>) {
    st.log.lock().unwrap().push(Seen {
        method: method.to_string(),
        target: target.to_string(),
        fault: fault.as_ref().map(|f| format!("{f:?}")),
        status,
    });
}

fn status_body(code: u16) -> Response<Body> {
    let reason = match code {
        429 => "TooManyRequests",
        503 => "ServiceUnavailable",
        500 => "InternalError",
        _ => "Unknown",
    };
    let body = serde_json::json!({"kind": "Status", "apiVersion": "v1", "metadata": {}, "status": "Failure",
        "message": format!("injected by the fault proxy ({code})"), "reason": reason, "code": code});
    Response::builder()
        .status(code)
        .header("Content-Type", "application/json")
        .header("Retry-After", "1")
        .body(full(body.to_string()))
        .unwrap()
}

async fn handle(
    req: Request<Incoming>,
    fd: std::os::fd::RawFd,
    upstream: Upstream,
    base: String,
    st: Arc<State>,
) -> Result<Response<Body>, BoxError> {
    let method = req.method().as_str().to_string();
    let target = req.uri().path_and_query().map(|p| p.as_str().to_string()).unwrap_or_else(|| "/".into());
    let fault = pick(&st, &method, &target);
    match &fault {
        Some(Fault::Status(code)) => {
            record(&st, &method, &target, &fault, Some(*code));
            return Ok(status_body(*code));
        }
        Some(Fault::Reset) => {
            record(&st, &method, &target, &fault, None);
            set_linger_zero(fd);
            return Err("injected reset".into());
        }
        Some(Fault::Blackhole) => {
            record(&st, &method, &target, &fault, None);
            futures::future::pending::<()>().await;
        }
        Some(Fault::Kill) => {
            record(&st, &method, &target, &fault, None);
            let pid = st.victim.load(Ordering::SeqCst);
            if pid > 0 {
                // SAFETY: plain kill(2) on a child process id the test registered.
                unsafe { libc::kill(pid, libc::SIGKILL) };
            }
            futures::future::pending::<()>().await;
        }
        Some(Fault::Latency(d)) => tokio::time::sleep(*d).await,
        _ => {}
    }

    let (parts, body) = req.into_parts();
    let body = body.collect().await?.to_bytes();
    let mut up = Request::builder().method(parts.method).uri(format!("{base}{target}"));
    for (k, v) in parts.headers.iter() {
        if k != hyper::header::HOST && k != hyper::header::AUTHORIZATION {
            up = up.header(k, v);
        }
    }
    let resp = match upstream.request(up.body(Full::new(body))?).await {
        Ok(r) => r,
        Err(e) => {
            record(&st, &method, &target, &fault, Some(502));
            return Ok(Response::builder().status(StatusCode::BAD_GATEWAY).body(full(format!("fault proxy: {e}")))?);
        }
    };
    let status = resp.status().as_u16();
    match &fault {
        Some(Fault::StatusAfterForward(code)) => {
            record(&st, &method, &target, &fault, Some(*code));
            Ok(status_body(*code))
        }
        Some(Fault::Truncate) => {
            let (parts, body) = resp.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let half = bytes.slice(..bytes.len() / 2);
            record(&st, &method, &target, &fault, Some(status));
            let frames: Vec<Result<Frame<Bytes>, BoxError>> =
                vec![Ok(Frame::data(half)), Err("injected truncation".into())];
            let mut r = Response::from_parts(parts, StreamBody::new(futures::stream::iter(frames)).boxed());
            // Keep the full length: the client learns of the cut only when the connection ends.
            r.headers_mut().insert(hyper::header::CONTENT_LENGTH, bytes.len().into());
            r.headers_mut().remove(hyper::header::TRANSFER_ENCODING);
            Ok(r)
        }
        Some(Fault::Garble) => {
            let (mut parts, body) = resp.into_parts();
            let bytes = body.collect().await?.to_bytes();
            let mut garbled = bytes[..bytes.len() / 2].to_vec();
            garbled.extend_from_slice(b"\x00<html>garbled</html>");
            record(&st, &method, &target, &fault, Some(200));
            parts.status = StatusCode::OK;
            parts.headers.remove(hyper::header::TRANSFER_ENCODING);
            parts.headers.insert(hyper::header::CONTENT_LENGTH, garbled.len().into());
            Ok(Response::from_parts(parts, full(garbled)))
        }
        _ => {
            record(&st, &method, &target, &fault, Some(status));
            Ok(resp.map(|b| b.map_err(|e| Box::new(e) as BoxError).boxed()))
        }
    }
}

/// Make the coming close a TCP reset (RST) instead of an orderly shutdown.
fn set_linger_zero(fd: std::os::fd::RawFd) {
    let linger = libc::linger { l_onoff: 1, l_linger: 0 };
    // SAFETY: setsockopt on the connection's own socket, with a correctly sized struct.
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            libc::SO_LINGER,
            &linger as *const libc::linger as *const libc::c_void,
            std::mem::size_of::<libc::linger>() as libc::socklen_t,
        );
    }
}
