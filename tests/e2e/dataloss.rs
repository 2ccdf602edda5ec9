//! Issue 14, "no data loss, proven": writes interrupted by SIGKILL at seeded points and rerun, a CRD
//! uninstall whose object count cannot be read, and a `--fix` whose object changes between the plan
//! shown and the confirmation. The kill points are requests counted by the fault proxy
//! (`faultproxy.rs`), so a seed names the same points on every run.

use crate::common::{get, get_json};
use crate::doctor_routing::{deploy, Opts, Shape};
use crate::faultproxy::{seeded_points, Fault, FaultProxy, Rule};
use crate::faults::read_faults;
use crate::fixtures::cluster;
use crate::harness::{assert_success, Harness};
use crate::lab::Lab;
use crate::mirror::mirror;
use crate::run::{llmd_command, Run};
use crate::upstream::{create_grpcroutes, grpcroute_crd, install_grpcroute_stand_in};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
use std::io::{Read, Write};
use std::os::fd::{FromRawFd, OwnedFd};
use std::os::unix::process::ExitStatusExt;
use std::process::Stdio;
use std::time::{Duration, Instant};

const V1: &str = "inference.networking.k8s.io";

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

/// `doctor --fix=CODE -n NS` on a terminal: once it shows the plan and asks, run `meanwhile` (the
/// concurrent change), then answer "y". Returns whether it succeeded, its stdout (the plan) and stderr.
fn fix_confirmed_after(h: &Harness, ns: &str, code: &str, meanwhile: impl FnOnce()) -> (bool, String, String) {
    let (mut controller, terminal) = pty();
    let kc = h.kubeconfig_admin.to_str().unwrap();
    let fix = format!("--fix={code}");
    let mut child = llmd_command(&["doctor", "--kubeconfig", kc, "-n", ns, &fix])
        .stdin(Stdio::from(terminal))
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("spawn doctor --fix");
    let out = pump(child.stdout.take().unwrap());
    let err = pump(child.stderr.take().unwrap());
    let mut stderr = String::new();
    wait_for(&err, &mut stderr, "[y/N]", Duration::from_secs(60));
    meanwhile();
    controller.write_all(b"y\n").unwrap();
    let status = child.wait().unwrap();
    while let Ok(chunk) = err.recv_timeout(Duration::from_millis(200)) {
        stderr.push_str(&chunk);
    }
    let stdout: String = out.try_iter().collect();
    eprintln!("--fix={code} confirmed after a concurrent change: {status}\n{stderr}");
    (status.success(), stdout, stderr)
}

fn fix_yes(h: &Harness, ns: &str, code: &str) -> Run {
    let kc = h.kubeconfig_admin.to_str().unwrap();
    crate::run::llmd(&["doctor", "--kubeconfig", kc, "-n", ns, &format!("--fix={code}"), "--yes"])
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

    let mut changed = Value::Null;
    let (ok, plan, stderr) = fix_confirmed_after(h, &ns, "LLMD-EPP-002", || {
        let patch = r#"{"spec":{"endpointPickerRef":{"failureMode":"FailOpen"}}}"#;
        let out = h.kubectl(&["patch", &pools, "llm-pool", "-n", &ns, "--type=merge", "-p", patch]);
        assert_success(&out, "the concurrent change");
        changed = get(h, &pools, Some(&ns), "llm-pool");
    });
    assert!(plan.contains("9003") && plan.contains("9002"), "the plan shows the port change:\n{plan}");
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("changed after the plan was read"), "{stderr}");
    let now = get(h, &pools, Some(&ns), "llm-pool");
    assert_eq!(now["spec"], changed["spec"], "the concurrent change was overwritten");
    assert_eq!(now["metadata"]["resourceVersion"], changed["metadata"]["resourceVersion"], "something was written");

    // A rerun re-plans from the current object: the port is repaired, the newer change kept.
    let r = fix_yes(h, &ns, "LLMD-EPP-002");
    assert!(!r.stderr.contains('✖'), "{}", r.stderr);
    let now = get(h, &pools, Some(&ns), "llm-pool");
    assert_eq!(now["spec"]["endpointPickerRef"]["port"]["number"], 9002, "{now:#}");
    assert_eq!(now["spec"]["endpointPickerRef"]["failureMode"], "FailOpen", "{now:#}");
}

/// `--fix` plans to create the missing DestinationRule (LLMD-IST-001); before the user answers,
/// somebody else creates it with another TLS mode. Confirming must not take their fields over:
/// the create is an apply that does not force conflicts, so it is refused and theirs stays.
#[test]
fn fix_never_takes_over_an_object_created_after_the_plan_was_shown() {
    let mut o = Opts::istio();
    o.drop.push("DestinationRule".into());
    let h = cluster();
    let ns = h.namespace("fix-race-create");
    deploy(h, &ns, &o);
    let drs = "destinationrules.networking.istio.io";
    let (ok, plan, stderr) = fix_confirmed_after(h, &ns, "LLMD-IST-001", || {
        h.apply_yaml(&format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: llm-pool-epp, namespace: {ns}}}\n\
             spec:\n  host: llm-pool-epp.{ns}.svc.cluster.local\n  trafficPolicy: {{tls: {{mode: DISABLE}}}}\n"
        ));
    });
    assert!(plan.contains("SIMPLE"), "the plan shows the DestinationRule it creates:\n{plan}");
    assert!(!ok, "{stderr}");
    assert!(stderr.contains("changed after the plan was read"), "{stderr}");
    let dr = get(h, drs, Some(&ns), "llm-pool-epp");
    assert_eq!(dr["spec"]["trafficPolicy"]["tls"], json!({"mode": "DISABLE"}), "their DestinationRule was taken over");
}

// ---------------------------------------------------------------------------------------------
// SIGKILL at seeded requests, then rerun.

const GWAPI: &str = "gateway.networking.k8s.io";

/// kubectl-llmd through `proxy`, killed by it (SIGKILL) when a `Fault::Kill` rule fires.
/// Returns the run and whether it was killed.
fn killable(proxy: &FaultProxy, args: &[&str]) -> (Run, bool) {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", &proxy.kubeconfig).env("LLMD_CRDS_BASE_URL", &mirror().base);
    cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
    let started = Instant::now();
    let child = cmd.spawn().expect("spawn kubectl-llmd");
    proxy.kill_on(child.id());
    let out = child.wait_with_output().expect("wait");
    let killed = out.status.signal() == Some(libc::SIGKILL);
    let run = Run {
        code: out.status.code().unwrap_or(-1),
        stdout: String::from_utf8_lossy(&out.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&out.stderr).into_owned(),
        elapsed: started.elapsed(),
    };
    (run, killed)
}

/// Writes to the cluster: no dry run, no access review.
fn write_rule(fault: Fault) -> Rule {
    Rule::new(fault).methods(&["POST", "PUT", "PATCH", "DELETE"]).not_path("dryRun").not_path("accessreviews")
}

fn stored_versions(h: &Harness) -> String {
    let out = h.kubectl(&["get", "crd", &format!("grpcroutes.{GWAPI}"), "-o", "jsonpath={.status.storedVersions}"]);
    assert_success(&out, "kubectl get crd");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// `kubectl get ARGS -o json`'s items.
fn items(h: &Harness, args: &[&str]) -> Vec<Value> {
    let mut all = vec!["get"];
    all.extend_from_slice(args);
    match get_json(h, &all)["items"].take() {
        Value::Array(items) => items,
        other => panic!("no items: {other}"),
    }
}

/// namespace/name → (labels, spec) of every GRPCRoute, read at v1.
fn grpcroutes(h: &Harness) -> BTreeMap<String, (Value, Value)> {
    items(h, &[&format!("grpcroutes.v1.{GWAPI}"), "-A"])
        .iter()
        .map(|o| {
            let m = &o["metadata"];
            (
                format!("{}/{}", m["namespace"].as_str().unwrap(), m["name"].as_str().unwrap()),
                (m["labels"].clone(), o["spec"].clone()),
            )
        })
        .collect()
}

/// `doctor --fix=LLMD-CRD-009 --yes` over 2,000 objects, SIGKILLed at five points of the migration
/// (the n-th write through the proxy: four seeded object rewrites, then the final status update), then
/// rerun to completion: after every kill storedVersions still lists the old version (it is the last
/// write) and every object is there with its labels and spec; after the rerun storedVersions is
/// the storage version alone and nothing changed in any object.
#[test]
fn storedversions_migration_killed_at_five_seeded_points_loses_nothing() {
    const N: usize = 2000;
    const SEED: u64 = 0x14b;
    let h = Lab::take();
    install_grpcroute_stand_in(&h);
    let namespaces = [h.namespace("kill-migrate-a"), h.namespace("kill-migrate-b")];
    let started = Instant::now();
    create_grpcroutes(&h, N, &namespaces, 4);
    eprintln!("created {N} GRPCRoutes in {:.1}s", started.elapsed().as_secs_f64());
    h.apply_yaml(&grpcroute_crd("v1"));
    assert_eq!(stored_versions(&h), r#"["v1alpha2","v1"]"#);
    let created = grpcroutes(&h);
    assert_eq!(created.len(), N);

    let proxy = FaultProxy::start(&h, SEED);
    // Writes 1..=N rewrite objects, write N+1 sets storedVersions: kill at four seeded rewrites and
    // at the status write itself.
    let mut points = seeded_points(SEED, 4, 1..N + 1);
    points.push(N + 1);
    let args = ["doctor", "-A", "--fix=LLMD-CRD-009", "--yes"];
    for (i, k) in points.iter().enumerate() {
        proxy.set_rules(vec![write_rule(Fault::Kill).skip(k - 1).times(1)]);
        proxy.clear_log();
        let (r, killed) = killable(&proxy, &args);
        let writes = proxy.log().iter().filter(|s| s.method == "PUT" && s.status == Some(200)).count();
        eprintln!(
            "kill {} at write {k}/{}: killed={killed} after {:.2}s, {writes} write(s) answered before it",
            i + 1,
            N + 1,
            r.elapsed.as_secs_f64()
        );
        assert!(killed, "run {} was not killed at write {k}: {}\n{}", i + 1, r.stdout, r.stderr);
        assert_eq!(
            stored_versions(&h),
            r#"["v1alpha2","v1"]"#,
            "storedVersions changed before every object was rewritten"
        );
        assert_eq!(grpcroutes(&h), created, "an object was lost or changed by an interrupted migration");
    }

    // The rerun also meets 429/503/resets on ~30% of its reads.
    proxy.set_rules(read_faults());
    let (r, killed) = killable(&proxy, &args);
    assert!(!killed);
    assert!(r.code == 0 || r.code == 1, "{}\n{}", r.stdout, r.stderr);
    let line = r.stderr.lines().find(|l| l.contains("migrated")).unwrap_or_else(|| panic!("{}", r.stderr)).to_string();
    eprintln!("rerun after five kills: {line} ({:.2}s)", r.elapsed.as_secs_f64());
    assert!(line.contains(&format!("migrated {N} GRPCRoute object(s) to v1")), "{line}");
    assert_eq!(stored_versions(&h), r#"["v1"]"#);
    assert_eq!(grpcroutes(&h), created, "every object present with identical labels and spec");
}

fn crd(h: &Harness, name: &str) -> Option<Value> {
    let out = h.kubectl(&["get", "crd", name, "-o", "json", "--ignore-not-found"]);
    assert_success(&out, "kubectl get crd");
    (!out.stdout.is_empty()).then(|| serde_json::from_slice(&out.stdout).unwrap())
}

/// name → (bundle version, Established) of every CRD.
fn crd_states(h: &Harness) -> BTreeMap<String, (String, bool)> {
    items(h, &["crd"])
        .iter()
        .map(|c| {
            let a = &c["metadata"]["annotations"];
            let version = a["gateway.networking.k8s.io/bundle-version"]
                .as_str()
                .or(a["inference.networking.k8s.io/bundle-version"].as_str())
                .unwrap_or("")
                .to_string();
            let established = c["status"]["conditions"]
                .as_array()
                .is_some_and(|cs| cs.iter().any(|x| x["type"] == "Established" && x["status"] == "True"));
            (c["metadata"]["name"].as_str().unwrap().to_string(), (version, established))
        })
        .collect()
}

/// `gateway install` upgrading Gateway API v1.3.0 → v1.5.1 and GAIE v1.0.1 → v1.5.0, SIGKILLed at
/// seeded writes three times, then rerun: it converges to the target bundles (every CRD Established,
/// the same CRDs an uninterrupted upgrade leaves). Then `gateway uninstall` while an InferencePool
/// exists and the LIST that counts the pools fails (500, reset, 404): exit 2, no CRD deleted.
#[test]
fn interrupted_crd_upgrade_converges_and_uninstall_never_deletes_what_it_cannot_count() {
    const SEED: u64 = 0x14b2;
    let h = Lab::take();
    let proxy = FaultProxy::start(&h, SEED);
    let (r, _) = killable(&proxy, &["gateway", "install", "--crds-only"]);
    r.expect_code(0);

    let upgrade = [
        "gateway",
        "install",
        "--crds-only",
        "--gateway-api-version",
        "v1.5.1",
        "--inference-extension-version",
        "v1.5.0",
    ];
    // A CRD write answered 503 after the server applied it: never sent again without reading the CRD.
    proxy.set_rules(vec![write_rule(Fault::StatusAfterForward(503)).times(1)]);
    proxy.clear_log();
    let (r, _) = killable(&proxy, &upgrade);
    let (faulted, next) = proxy.first_fault_and_next().expect("a write was answered 503");
    eprintln!(
        "upgrade, a CRD write answered 503 after it was applied: exit {} in {:.2}s; next request for it: {:?}",
        r.code,
        r.elapsed.as_secs_f64(),
        next.as_ref().map(|s| format!("{} {}", s.method, s.target))
    );
    assert!(next.is_none_or(|n| n.method == "GET"), "{} repeated without reading it first", faulted.target);
    assert!(r.code == 0 || r.code == 2, "{}\n{}", r.stdout, r.stderr);

    let mut kills = 0;
    for (i, k) in seeded_points(SEED, 3, 1..8).iter().enumerate() {
        proxy.set_rules(vec![write_rule(Fault::Kill).skip(k - 1).times(1)]);
        let (r, killed) = killable(&proxy, &upgrade);
        let states = crd_states(&h);
        let mixed: BTreeSet<&str> = states.values().map(|(v, _)| v.as_str()).collect();
        eprintln!(
            "upgrade run {} killed at write {k}: killed={killed} after {:.2}s; bundle versions now {mixed:?}",
            i + 1,
            r.elapsed.as_secs_f64()
        );
        if killed {
            kills += 1;
        } else {
            r.expect_code(0);
        }
    }
    assert!(kills >= 1, "no upgrade run was interrupted");
    // The converging rerun also meets 429/503/resets on ~30% of its reads.
    proxy.set_rules(read_faults());
    let (r, _) = killable(&proxy, &upgrade);
    eprintln!("rerun after {kills} kill(s), with read faults: exit {} in {:.2}s", r.code, r.elapsed.as_secs_f64());
    r.expect_code(0);
    let states = crd_states(&h);
    for (name, (version, established)) in &states {
        let want = if name.ends_with(GWAPI) { "v1.5.1" } else { "v1.5.0" };
        assert_eq!(version, want, "{name} after the rerun: {states:?}");
        assert!(established, "{name} not Established: {states:?}");
    }
    assert!(states.contains_key("listenersets.gateway.networking.k8s.io"), "{states:?}");
    assert!(!states.contains_key("inferencepools.inference.networking.x-k8s.io"), "{states:?}");
    let (r, _) = killable(&proxy, &upgrade);
    r.expect_code(0);
    assert!(r.stdout.contains("nothing to do"), "a converged install reruns as a no-op:\n{}", r.stdout);

    // Uninstall while a pool exists and its count cannot be read.
    let ns = h.namespace("kill-uninstall");
    h.apply_yaml(&format!(
        "apiVersion: {V1}/v1\nkind: InferencePool\nmetadata: {{name: p, namespace: {ns}}}\n\
         spec:\n  selector: {{matchLabels: {{app: m}}}}\n  targetPorts: [{{number: 8000}}]\n  endpointPickerRef: {{name: epp, port: {{number: 9002}}}}\n"
    ));
    let before = crd_states(&h);
    for fault in [Fault::Status(500), Fault::Reset, Fault::Status(404), Fault::Garble] {
        proxy.set_rules(vec![Rule::new(fault.clone()).methods(&["GET"]).path(&format!("/{V1}/v1/inferencepools?"))]);
        let (r, _) = killable(&proxy, &["gateway", "uninstall", "--crds-only", "--request-timeout=5s"]);
        eprintln!(
            "uninstall, pool LIST answered {fault:?}: exit {} in {:.2}s: {}",
            r.code,
            r.elapsed.as_secs_f64(),
            r.stderr.trim()
        );
        r.expect_code(2);
        assert_eq!(crd_states(&h), before, "uninstall deleted CRDs while the pool count failed ({fault:?})");
        assert!(crd(&h, &format!("inferencepools.{V1}")).is_some());
    }
    let out = h.kubectl(&["get", "inferencepools.inference.networking.k8s.io", "p", "-n", &ns]);
    assert_success(&out, "the pool survived");
}
