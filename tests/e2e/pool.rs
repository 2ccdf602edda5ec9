//! Issue 5: `kubectl llmd pool status` against the real apiserver — table, wide, tree and JSON
//! (insta snapshots, namespaces redacted), several pools across namespaces and gateways, both pool
//! APIs side by side, and `--watch` redrawing when a pod's readiness changes.

use crate::common::{kc, normalise};
use crate::doctor_routing::{deploy, Opts, Shape};
use crate::fixtures::{cluster, set_status};
use crate::harness::Harness;
use crate::run::{llmd, llmd_command, Run};
use serde_json::json;
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn pool_status(h: &Harness, args: &[&str]) -> Run {
    let mut all = vec!["pool", "status", "--kubeconfig", kc(&h.kubeconfig_admin)];
    all.extend_from_slice(args);
    llmd(&all)
}

/// Replace the random namespace names so snapshots are stable.
fn redact(text: &str, namespaces: &[(&str, &str)]) -> String {
    normalise(text, namespaces)
}

#[test]
fn one_healthy_pool_in_every_format() {
    let h = cluster();
    let ns = h.namespace("pool-fmt");
    deploy(h, &ns, &Opts::istio());
    let names = [(ns.as_str(), "NS")];

    let table = pool_status(h, &["-n", &ns]);
    table.expect_code(0);
    assert!(
        table.stdout.lines().nth(1).is_some_and(|l| l.contains("llm-pool") && l.trim_end().ends_with("Ready")),
        "{}",
        table.stdout
    );
    insta::assert_snapshot!("pool_table", redact(&table.stdout, &names));

    let wide = pool_status(h, &["-n", &ns, "-o", "wide"]);
    wide.expect_code(0);
    assert!(wide.stdout.contains("FAILURE MODE") && wide.stdout.contains("app=vllm-llama"), "{}", wide.stdout);
    insta::assert_snapshot!("pool_wide", redact(&wide.stdout, &names));

    // A single NAME shows the tree by default.
    let tree = pool_status(h, &["-n", &ns, "llm-pool"]);
    tree.expect_code(0);
    for node in [
        "GatewayClass istio",
        "Gateway NS/inference-gateway",
        "HTTPRoute NS/llm-route",
        "InferencePool NS/llm-pool",
        "Service NS/llm-pool-epp",
        "Deployment NS/llm-pool-epp",
        "Pod NS/vllm-0",
    ] {
        assert!(redact(&tree.stdout, &names).contains(node), "missing {node}:\n{}", tree.stdout);
    }
    assert!(!tree.stdout.contains('✖') && !tree.stdout.contains('‼'), "{}", tree.stdout);
    insta::assert_snapshot!("pool_tree", redact(&tree.stdout, &names));

    let json = pool_status(h, &["-n", &ns, "-o", "json"]);
    json.expect_code(0);
    let v = json.json();
    let p = &v["pools"][0];
    assert_eq!(p["status"], "Ready");
    assert_eq!(p["endpoints"], json!({"ready": 2, "total": 2}));
    assert_eq!(p["epp"], json!({"ready": 1, "total": 1}));
    assert_eq!(p["gateways"], json!({"ready": 1, "total": 1}));
    assert_eq!(p["routes"], json!({"ready": 1, "total": 1}));
    insta::assert_snapshot!("pool_json", redact(&json.stdout, &names));

    let yaml = pool_status(h, &["-n", &ns, "-o", "yaml"]);
    yaml.expect_code(0);
    let from_yaml: serde_json::Value = serde_saphyr::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml, v);

    let missing = pool_status(h, &["-n", &ns, "nope"]);
    missing.expect_code(2);
    assert!(missing.stderr.contains("\"nope\" not found") && missing.stderr.contains("llm-pool"), "{}", missing.stderr);
}

#[test]
fn several_pools_across_namespaces_and_gateways() {
    let h = cluster();
    let healthy = h.namespace("pool-a");
    let unready = h.namespace("pool-b");
    let nogw = h.namespace("pool-c");
    deploy(h, &healthy, &Opts::istio());
    let mut o = Opts::new(Shape::Agentgateway);
    o.pods_ready = false;
    deploy(h, &unready, &o);
    // A route in pool-c attaching to the Gateway in pool-a, sending to pool-c's own pool.
    let mut cross = Opts::new(Shape::Istio);
    cross.gateway_ns = Some(healthy.clone());
    cross.drop.push("Gateway".into());
    deploy(h, &nogw, &cross);

    let all = pool_status(h, &["-A"]);
    all.expect_code(0);
    assert!(all.stdout.starts_with("NAMESPACE"), "-A adds the NAMESPACE column: {}", all.stdout);
    let line = |ns: &str| {
        all.stdout
            .lines()
            .find(|l| l.starts_with(ns))
            .unwrap_or_else(|| panic!("no row for {ns}:\n{}", all.stdout))
            .to_string()
    };
    assert!(line(&healthy).trim_end().ends_with("Ready"), "{}", line(&healthy));
    let b = line(&unready);
    assert!(b.contains("0/2") && b.contains("no ready model servers"), "{b}");
    // The cross-namespace route shows its Gateway in the other namespace; the listener admits only
    // its own namespace, so the route is the broken link.
    let c = line(&nogw);
    assert!(c.contains("1/1") || c.contains("0/1"), "{c}");

    // -n limits to one namespace and drops the NAMESPACE column.
    let one = pool_status(h, &["-n", &unready]);
    one.expect_code(0);
    assert!(one.stdout.starts_with("NAME "), "{}", one.stdout);
    assert_eq!(one.stdout.lines().count(), 2, "{}", one.stdout);

    let tree = pool_status(h, &["-n", &unready, "--tree"]);
    tree.expect_code(0);
    assert!(tree.stdout.contains("✖ Pods") && tree.stdout.contains("not Ready"), "{}", tree.stdout);
    assert!(tree.stdout.contains("LLMD-POD-002"), "the finding that breaks the link is shown: {}", tree.stdout);
}

#[test]
fn both_pool_apis_side_by_side_and_alpha_flagged() {
    let h = cluster();
    let ns = h.namespace("pool-api");
    // The v1 stack, plus an x-k8s twin of its pool and an x-k8s pool that was never migrated.
    let mut o = Opts::istio();
    for name in ["llm-pool", "legacy"] {
        o.extra.push(json!({
            "apiVersion": "inference.networking.x-k8s.io/v1alpha2", "kind": "InferencePool",
            "metadata": {"name": name},
            "spec": {"selector": {"app": "vllm-llama"}, "targetPortNumber": 8000, "extensionRef": {"name": "llm-pool-epp"}},
        }));
    }
    deploy(h, &ns, &o);
    let r = pool_status(h, &["-n", &ns]);
    r.expect_code(0);
    let rows: Vec<&str> = r.stdout.lines().skip(1).collect();
    assert_eq!(rows.len(), 3, "{}", r.stdout);
    assert!(rows.iter().any(|l| l.starts_with("llm-pool") && l.contains(" v1 ")), "{}", r.stdout);
    assert!(rows.iter().any(|l| l.starts_with("llm-pool") && l.contains("v1alpha2")), "{}", r.stdout);
    let legacy = rows.iter().find(|l| l.starts_with("legacy")).unwrap();
    assert!(legacy.contains("v1alpha2") && legacy.contains("migrate to v1"), "{legacy}");
    let twin = rows.iter().find(|l| l.starts_with("llm-pool") && l.contains("v1alpha2")).unwrap();
    assert!(!twin.contains("migrate"), "a migrated pool's old copy is not flagged: {twin}");
}

#[test]
fn watch_redraws_when_a_pod_becomes_unready() {
    let h = cluster();
    let ns = h.namespace("pool-watch");
    deploy(h, &ns, &Opts::istio());
    let kc = h.kubeconfig_admin.to_str().unwrap().to_string();
    let mut child = llmd_command(&["pool", "status", "--kubeconfig", &kc, "-n", &ns, "--watch"])
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let (tx, rx) = mpsc::channel();
    let stdout = child.stdout.take().unwrap();
    std::thread::spawn(move || {
        for line in BufReader::new(stdout).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    let wait_for = |needle: &str, rx: &mpsc::Receiver<String>| {
        let deadline = Instant::now() + Duration::from_secs(30);
        let mut seen = Vec::new();
        while Instant::now() < deadline {
            if let Ok(line) = rx.recv_timeout(Duration::from_millis(200)) {
                let hit = line.contains(needle);
                seen.push(line);
                if hit {
                    return seen;
                }
            }
        }
        panic!("no line with {needle:?} within 30 s; saw:\n{}", seen.join("\n"));
    };
    let first = wait_for("llm-pool", &rx);
    assert!(first.last().unwrap().contains("2/2") && first.last().unwrap().trim_end().ends_with("Ready"), "{first:?}");
    set_status(
        h,
        "pod",
        Some(&ns),
        "vllm-0",
        &json!({"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-02T00:00:00Z"}]}),
    );
    let redraw = wait_for("1/2", &rx);
    assert!(redraw.last().unwrap().contains("llm-pool"), "{redraw:?}");
    let _ = child.kill();
    let _ = child.wait();
}
