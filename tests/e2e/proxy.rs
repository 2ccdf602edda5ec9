//! Bundle downloads honour HTTP_PROXY / NO_PROXY from the environment (the users of `--crds-base-url`
//! are those behind proxies): a tiny loopback forward proxy in front of the mirror records what it
//! forwarded.

use crate::mirror::mirror;
use crate::run::{llmd_command, run, Run};
use std::io::{BufRead, BufReader, Read, Write};
use std::net::{TcpListener, TcpStream};
use std::sync::{Arc, Mutex};

/// A plain-HTTP forward proxy on loopback; returns its URL and the request targets it forwarded
/// (absolute-form, as clients send them to a proxy).
fn start_proxy() -> (String, Arc<Mutex<Vec<String>>>) {
    let listener = TcpListener::bind("127.0.0.1:0").expect("bind loopback");
    let url = format!("http://{}", listener.local_addr().unwrap());
    let seen = Arc::new(Mutex::new(Vec::new()));
    let log = seen.clone();
    std::thread::spawn(move || {
        for client in listener.incoming().flatten() {
            let log = log.clone();
            std::thread::spawn(move || forward(client, &log));
        }
    });
    (url, seen)
}

/// Forward one request (`GET http://host:port/path HTTP/1.1`) to its origin and copy the answer back.
fn forward(mut client: TcpStream, log: &Mutex<Vec<String>>) {
    let mut reader = BufReader::new(client.try_clone().expect("clone stream"));
    let mut request_line = String::new();
    if reader.read_line(&mut request_line).is_err() {
        return;
    }
    let mut headers = String::new();
    loop {
        let mut line = String::new();
        if reader.read_line(&mut line).map_or(true, |n| n == 0) || line == "\r\n" {
            break;
        }
        if !line.to_ascii_lowercase().starts_with("proxy-") && !line.to_ascii_lowercase().starts_with("connection:") {
            headers.push_str(&line);
        }
    }
    let mut parts = request_line.split_whitespace();
    let (method, target) = (parts.next().unwrap_or(""), parts.next().unwrap_or("").to_string());
    log.lock().unwrap().push(target.clone());
    let Some(rest) = target.strip_prefix("http://") else { return };
    let (authority, path) = rest.split_once('/').map_or((rest, "/".to_string()), |(a, p)| (a, format!("/{p}")));
    let Ok(mut origin) = TcpStream::connect(authority) else { return };
    let head = format!("{method} {path} HTTP/1.1\r\n{headers}Connection: close\r\n\r\n");
    if origin.write_all(head.as_bytes()).is_err() {
        return;
    }
    let mut answer = Vec::new();
    let _ = origin.read_to_end(&mut answer);
    let _ = client.write_all(&answer);
}

fn install_dry_run(h: &crate::harness::Harness, env: &[(&str, &str)]) -> Run {
    let mut cmd = llmd_command(&["gateway", "install", "--crds-only", "--dry-run"]);
    cmd.env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", &mirror().base);
    for var in
        ["HTTP_PROXY", "http_proxy", "HTTPS_PROXY", "https_proxy", "ALL_PROXY", "all_proxy", "NO_PROXY", "no_proxy"]
    {
        cmd.env_remove(var);
    }
    for (k, v) in env {
        cmd.env(k, v);
    }
    run(cmd)
}

#[test]
fn bundle_downloads_go_through_the_proxy_of_the_environment_unless_no_proxy_says_otherwise() {
    let h = crate::gateway::take_lab();
    let (proxy, seen) = start_proxy();

    let r = install_dry_run(&h, &[("HTTP_PROXY", &proxy)]);
    r.expect_code(0);
    assert!(r.stdout.contains("CRD plan (Gateway API v1.3.0, GAIE v1.0.1)"), "{}", r.stdout);
    let forwarded = seen.lock().unwrap().clone();
    let kustomization = format!("{}/kubernetes-sigs/gateway-api/v1.3.0/config/crd/kustomization.yaml", mirror().base);
    assert!(forwarded.contains(&kustomization), "the proxy forwarded {forwarded:?}");
    assert!(forwarded.iter().all(|t| t.starts_with(&mirror().base)), "{forwarded:?}");

    // NO_PROXY naming the mirror's host: straight to the mirror, the proxy sees nothing.
    seen.lock().unwrap().clear();
    let r = install_dry_run(&h, &[("HTTP_PROXY", &proxy), ("NO_PROXY", "127.0.0.1")]);
    r.expect_code(0);
    assert!(seen.lock().unwrap().is_empty(), "NO_PROXY ignored: {:?}", seen.lock().unwrap());
}
