//! A loopback HTTP mirror of raw.githubusercontent.com backed by the Go module cache, laid out
//! like the upstream URLs (`/<owner>/<repo>/<ref>/<path>`), so the real CRD download path runs.
//! Point kubectl-llmd at it with `LLMD_CRDS_BASE_URL` (`mirror().base`).

use crate::fixtures::go_module_dir;
use std::io::{BufRead, BufReader, Write};
use std::net::TcpListener;
use std::path::PathBuf;
use std::sync::{Arc, Mutex, OnceLock};

pub struct Mirror {
    /// `http://127.0.0.1:PORT`
    pub base: String,
    /// Paths requested, in order.
    pub requests: Arc<Mutex<Vec<String>>>,
}

/// The mirror, started on first use (once per test process).
pub fn mirror() -> &'static Mirror {
    static MIRROR: OnceLock<Mirror> = OnceLock::new();
    MIRROR.get_or_init(|| {
        let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
        let base = format!("http://{}", listener.local_addr().unwrap());
        let requests = Arc::new(Mutex::new(Vec::new()));
        let log = requests.clone();
        std::thread::spawn(move || {
            for stream in listener.incoming().flatten() {
                let log = log.clone();
                std::thread::spawn(move || serve(stream, &log));
            }
        });
        Mirror { base, requests }
    })
}

fn serve(mut stream: std::net::TcpStream, log: &Mutex<Vec<String>>) {
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
    let body = resolve(&path).and_then(|p| std::fs::read(p).ok());
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
