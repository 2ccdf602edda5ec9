//! A loopback HTTP mirror of raw.githubusercontent.com backed by the Go module cache, laid out
//! like the upstream URLs (`/<owner>/<repo>/<ref>/<path>`), so the real CRD download path runs.
//! Point kubectl-llmd at it with `LLMD_CRDS_BASE_URL` (`mirror().base`).
//!
//! Release assets (`/<owner>/<repo>/releases/download/<tag>/standard-install.yaml` for Gateway API,
//! `manifests.yaml` for GAIE) are served as the concatenation of the same CRD files the release
//! builds them from. `start_mirror(Fault::…)` starts a separate mirror that misbehaves one way: no
//! kustomization (so the installer falls back to the release asset), one HTTP status for every
//! request, or a body that is not YAML.

use crate::fixtures::go_module_dir;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

/// How a mirror misbehaves.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// Serves everything it has.
    None,
    /// `config/crd/kustomization.yaml` is missing (404); release assets are served.
    NoKustomization,
    /// Every request answers this status with an empty body.
    Status(u16),
    /// Every request answers 200 with an HTML error page.
    Garbage,
}

pub struct Mirror {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Paths requested, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// The mirror, started on first use (once per test process).
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| start_mirror(Fault::None))
}

/// A new mirror on its own port (it lives as long as the test process).
pub fn start_mirror(fault: Fault) -> Mirror {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let base = format!("http://{}", listener.local_addr().unwrap());
    let requests = Arc::new(Mutex::new(Vec::new()));
    let log = requests.clone();
    std::thread::spawn(move || {
        for stream in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || serve(stream, &log, fault));
        }
    });
    Mirror { base, requests }
}

fn serve(mut stream: std::net::TcpStream, log: &Mutex<Vec<String>>, fault: Fault) {
    let mut reader = BufReader::new(stream.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    // Drain the headers.
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_or(true, |n| n == 0) || line == "\r\n" {
            break;
        }
    }
    let path = request_line.split_whitespace().nth(1).unwrap_or("/").to_string();
    log.lock().unwrap().push(path.clone());
    let body = match fault {
        Fault::Status(code) => {
            let r = format!("HTTP/1.1 {code} Fault\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
            let _ = stream.write_all(r.as_bytes());
            return;
        }
        Fault::Garbage => Some(b"<html><body><h1>429 Too Many Requests</h1></body></html>\n".to_vec()),
        Fault::NoKustomization if path.ends_with("/config/crd/kustomization.yaml") => None,
        _ => resolve(&path).and_then(|p| std::fs::read(p).ok()).or_else(|| release_asset(&path)),
    };
    let response = match body {
        Some(b) => {
            let mut r =
                format!("HTTP/1.1 200 OK\r\nContent-Length: {}\r\nConnection: close\r\n\r\n", b.len()).into_bytes();
            r.extend(b);
            r
        }
        None => b"HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\nConnection: close\r\n\r\n".to_vec(),
    };
    let _ = stream.write_all(&response);
}

/// `/kubernetes-sigs/<repo>/<ref>/<path>` → the module cache directory of that version.
fn resolve(path: &str) -> Option<PathBuf> {
    let mut parts = path.trim_start_matches('/').splitn(4, '/');
    let (owner, repo, git_ref, rest) = (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
    if owner != "kubernetes-sigs" || rest.contains("..") || git_ref == "releases" {
        return None;
    }
    let module = match repo {
        "gateway-api" => "sigs.k8s.io/gateway-api",
        "gateway-api-inference-extension" => "sigs.k8s.io/gateway-api-inference-extension",
        _ => return None,
    };
    let file = go_module_dir(module, git_ref).join(rest);
    file.is_file().then_some(file)
}

/// `/kubernetes-sigs/<repo>/releases/download/<tag>/<asset>` → the CRD files the asset is built from.
fn release_asset(path: &str) -> Option<Vec<u8>> {
    let rest = path.strip_prefix("/kubernetes-sigs/")?;
    let (repo, rest) = rest.split_once("/releases/download/")?;
    let (tag, asset) = rest.split_once('/')?;
    let (module, dir) = match (repo, asset) {
        ("gateway-api", "standard-install.yaml") => ("sigs.k8s.io/gateway-api", "config/crd/standard"),
        ("gateway-api-inference-extension", "manifests.yaml") => {
            ("sigs.k8s.io/gateway-api-inference-extension", "config/crd/bases")
        }
        _ => return None,
    };
    let mut files: Vec<PathBuf> = std::fs::read_dir(go_module_dir(module, tag).join(dir))
        .ok()?
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml"))
        .collect();
    files.sort();
    let mut out = Vec::new();
    for f in files {
        out.extend(b"---\n");
        out.extend(std::fs::read(f).ok()?);
        out.push(b'\n');
    }
    Some(out)
}
