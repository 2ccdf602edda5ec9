//! Issue 14, "no data loss, proven": writes interrupted by SIGKILL at seeded points and rerun, a CRD
//! uninstall whose object count cannot be read, and a `--fix` whose object changes between the plan
//! shown and the confirmation. The kill points are requests counted by the fault proxy
//! (`faultproxy.rs`), so a seed names the same points on every run.

use crate::doctor_routing::{deploy, Opts, Shape};
use crate::fixtures::cluster;
use crate::harness::{assert_success, Harness};
use crate::run::llmd_command;
use serde_json::{json, Value};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::process::Stdio;
use std::time::{Duration, Instant};

const V1: &str = "inference.networking.k8s.io";

fn get(h: &Harness, resource: &str, ns: &str, name: &str) -> Value {
    let out = h.kubectl(&["get", resource, name, "-n", ns, "-o", "json"]);
    assert_success(&out, &format!("kubectl get {resource} {name}"));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// A pseudo-terminal: (controller, terminal), so `--fix` asks its question and reads the answer.
fn pty() -> (std::fs::File, OwnedFd) {
    let (mut controller, mut terminal) = (0, 0);
    // SAFETY: openpty writes two new file descriptors into the given integers; nothing else is passed.
    let rc = unsafe {
        libc::openpty(&mut controller, &mut terminal, std::ptr::null_mut(), std::ptr::null(), std::ptr::null())
    };
    assert_eq!(rc, 0, "openpty: {}", std::io::Error::last_os_error());
    // SAFETY: both descriptors were just opened by openpty and are owned here alone.
    unsafe { (std::fs::File::from_raw_fd(controller), OwnedFd::from_raw_fd(terminal)) }
}

/// Read `stream` on a thread, sending everything it prints (in chunks) to the returned channel.
fn pump(mut stream: impl Read + Send + 'static) -> std::sync::mpsc::Receiver<String> {
    let (tx, rx) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let mut buf = [0u8; 4096];
        while let Ok(n) = stream.read(&mut buf) {
            if n == 0 || tx.send(String::from_utf8_lossy(&buf[..n]).into_owned()).is_err() {
                break;
            }
        }
    });
    rx
}

/// Collect from `rx` into `seen` until it contains `needle` (panics after `within`).
fn wait_for(rx: &std::sync::mpsc::Receiver<String>, seen: &mut String, needle: &str, within: Duration) {
    let deadline = Instant::now() + within;
    while !seen.contains(needle) {
        assert!(Instant::now() < deadline, "no {needle:?} within {within:?}; saw:\n{seen}");
        if let Ok(chunk) = rx.recv_timeout(Duration::from_millis(100)) {
            seen.push_str(&chunk);
        }
    }
}

/// `--fix` plans a change to the pool's endpointPickerRef (LLMD-EPP-002: port 9003 → 9002) and shows
/// it; before the user answers, somebody else changes the same field (failureMode). Confirming must
/// not put the old endpointPickerRef back: the write carries the plan's resourceVersion, is refused,
/// and says so; a rerun plans from the new state and keeps the newer change.
#[test]
fn fix_never_overwrites_a_change_made_after_the_plan_was_shown() {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push(("InferencePool".into(), json!({"spec": {"endpointPickerRef": {"port": {"number": 9003}}}})));
    let h = cluster();
    let ns = h.namespace("fix-race");
    deploy(h, &ns, &o);
    let pools = format!("inferencepools.{V1}");

    let (mut controller, terminal) = pty();
    let kc = h.kubeconfig_admin.to_str().unwrap();
    let mut cmd = llmd_command(&["doctor", "--kubeconfig", kc, "-n", &ns, "--fix=LLMD-EPP-002"]);
    let mut child = cmd
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doctor --fix");
    let out = pump(child.stdout.take().unwrap());
    let err = pump(child.stderr.take().unwrap());
    let mut stderr = String::new();
    wait_for(&err, &mut stderr, "[y/N]", Duration::from_secs(60));
    let mut stdout = String::new();
    while let Ok(chunk) = out.try_recv() {
        stdout.push_str(&chunk);
    }
    assert!(stdout.contains("9003") && stdout.contains("9002"), "the plan shows the port change:\n{stdout}");

    // The newer change, between the plan and the answer.
    let out_k = h.kubectl(&[
        "patch",
        &pools,
        "llm-pool",
        "-n",
        &ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"endpointPickerRef":{"failureMode":"FailOpen"}}}"#,
    ]);
    assert_success(&out_k, "the concurrent change");
    let changed = get(h, &pools, &ns, "llm-pool");

    controller.write_all(b"y\n").unwrap();
    let status = child.wait().unwrap();
    while let Ok(chunk) = err.recv_timeout(Duration::from_millis(200)) {
        stderr.push_str(&chunk);
    }
    eprintln!("--fix confirmed after a concurrent change: {status}\n{stderr}");
    assert_ne!(status.code(), Some(0), "{stderr}");
    assert!(stderr.contains("changed after the plan was read"), "{stderr}");
    let now = get(h, &pools, &ns, "llm-pool");
    assert_eq!(now["spec"], changed["spec"], "the concurrent change was overwritten");
    assert_eq!(now["metadata"]["resourceVersion"], changed["metadata"]["resourceVersion"], "something was written");

    // A rerun re-plans from the current object: the port is repaired, the newer change kept.
    let mut cmd = llmd_command(&["doctor", "--kubeconfig", kc, "-n", &ns, "--fix=LLMD-EPP-002", "--yes"]);
    let r = crate::run::run({
        cmd.stdin(Stdio::null());
        cmd
    });
    assert!(!r.stderr.contains('✖'), "{}", r.stderr);
    let now = get(h, &pools, &ns, "llm-pool");
    assert_eq!(now["spec"]["endpointPickerRef"]["port"]["number"], 9002, "{now:#}");
    assert_eq!(now["spec"]["endpointPickerRef"]["failureMode"], "FailOpen", "{now:#}");
}
