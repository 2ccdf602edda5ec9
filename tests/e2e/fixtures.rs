//! Shared cluster fixtures for end-to-end tests: the real upstream CRDs (from the Go module cache),
//! accepted GatewayClasses as their controllers would leave them, and helpers to write status.

use crate::harness::{harness, Harness};
use crate::run::{llmd, Run};
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// The directory of a Go module version in the module cache (downloading it through the proxy if needed).
pub fn go_module_dir(module: &str, version: &str) -> PathBuf {
    let out = Command::new("go")
        .args(["mod", "download", "-json", &format!("{module}@{version}")])
        .env("GOFLAGS", "-mod=mod")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("go is required for the end-to-end tests");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("go mod download {module}@{version}: {e}: {}", String::from_utf8_lossy(&out.stderr))
    });
    PathBuf::from(v["Dir"].as_str().unwrap_or_else(|| panic!("no Dir for {module}@{version}: {v}")))
}

/// Gateway API standard-channel CRD files of a release.
pub fn gateway_api_crds(version: &str) -> Vec<PathBuf> {
    yaml_files(go_module_dir("sigs.k8s.io/gateway-api", version).join("config/crd/standard"))
}

/// GAIE CRD files of a release.
pub fn gaie_crds(version: &str) -> Vec<PathBuf> {
    yaml_files(go_module_dir("sigs.k8s.io/gateway-api-inference-extension", version).join("config/crd/bases"))
}

fn yaml_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("kustomization.yaml"))
        .collect();
    v.sort();
    v
}

/// A stand-in for Istio's DestinationRule CRD (Istio's CRDs are not in the Go module cache);
/// written here from the facts in DOMAIN.md: group networking.istio.io, served v1 (storage) and v1beta1.
pub const DESTINATION_RULE_STAND_IN_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: destinationrules.networking.istio.io
  annotations:
    kubectl-llmd.test/stand-in: "minimal DestinationRule CRD written for tests"
spec:
  group: networking.istio.io
  scope: Namespaced
  names: {kind: DestinationRule, plural: destinationrules, singular: destinationrule, listKind: DestinationRuleList}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1beta1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

/// Apply files with server-side apply (big CRDs do not fit client-side apply's annotation).
pub fn apply_files(h: &Harness, files: &[PathBuf]) {
    let mut args = vec!["apply".to_string(), "--server-side".into(), "--force-conflicts".into()];
    for f in files {
        args.push("-f".into());
        args.push(f.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    // Server-side apply is idempotent: a transient refusal while a freshly started API server is still
    // warming up (seen once when several tests raced at start) is retried, a real one fails below.
    let mut out = h.kubectl(&refs);
    for _ in 0..3 {
        if out.status.success() {
            break;
        }
        eprintln!("kubectl apply failed, retrying in 2s: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(std::time::Duration::from_secs(2));
        out = h.kubectl(&refs);
    }
    assert!(out.status.success(), "kubectl apply: {}", String::from_utf8_lossy(&out.stderr));
}

/// Wait until every CRD is Established. `kubectl wait` fails at once on a CRD created so recently that it
/// has no `status.conditions` yet (".status.conditions accessor error: <nil> is of the type <nil>"): ask again.
pub fn wait_established(h: &Harness) {
    let started = std::time::Instant::now();
    loop {
        let out = h.kubectl(&["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return;
        }
        let too_early = stderr.contains("accessor error") && started.elapsed() < std::time::Duration::from_secs(60);
        assert!(too_early, "CRDs not established: {stderr}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// The shared harness with the llm-d prerequisite's CRDs (Gateway API v1.3.0 standard, GAIE v1.0.1),
/// the DestinationRule stand-in, and accepted GatewayClasses for istio, agentgateway and GKE.
pub fn cluster() -> &'static Harness {
    static READY: OnceLock<()> = OnceLock::new();
    let h = harness();
    READY.get_or_init(|| install_prerequisites(h, &["istio", "agentgateway", "gke-l7-rilb"]));
    h
}

/// The llm-d prerequisite's CRDs (Gateway API v1.3.0 standard, GAIE v1.0.1), the DestinationRule
/// stand-in, and `classes` (of istio, agentgateway, gke-l7-rilb) Accepted as their controllers would leave them.
pub fn install_prerequisites(h: &Harness, classes: &[&str]) {
    let mut files = gateway_api_crds("v1.3.0");
    files.extend(gaie_crds("v1.0.1"));
    apply_files(h, &files);
    h.apply_yaml(DESTINATION_RULE_STAND_IN_CRD);
    wait_established(h);
    for (class, controller) in [
        ("istio", "istio.io/gateway-controller"),
        ("agentgateway", "agentgateway.dev/agentgateway"),
        ("gke-l7-rilb", "networking.gke.io/gateway"),
    ] {
        if !classes.contains(&class) {
            continue;
        }
        h.apply_yaml(&format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: {class}\nspec:\n  controllerName: {controller}\n"
        ));
        set_status(h, "gatewayclass.gateway.networking.k8s.io", None, class, &accepted_status(&["Accepted"], &[]));
    }
}

/// A status with `conditions` of the given types all True.
pub fn accepted_status(types: &[&str], extra: &[(&str, Value)]) -> Value {
    let conditions: Vec<Value> = types
        .iter()
        .map(|t| {
            serde_json::json!({"type": t, "status": "True", "reason": t, "message": "",
                "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1})
        })
        .collect();
    let mut status = serde_json::json!({ "conditions": conditions });
    for (k, v) in extra {
        status[*k] = v.clone();
    }
    status
}

/// Write `status` through the status subresource, as a controller would.
pub fn set_status(h: &Harness, resource: &str, namespace: Option<&str>, name: &str, status: &Value) {
    let patch = serde_json::json!({ "status": status }).to_string();
    let mut args = vec!["patch", resource, name, "--subresource=status", "--type=merge", "-p", &patch];
    if let Some(ns) = namespace {
        args.extend(["-n", ns]);
    }
    let out = h.kubectl(&args);
    assert!(out.status.success(), "status patch {resource}/{name}: {}", String::from_utf8_lossy(&out.stderr));
}

/// Run doctor as admin on one namespace with -o json; every kubectl command its hints print must run
/// (writes as a server-side dry run, `hints::assert_hints_run`).
pub fn doctor_json(h: &Harness, namespace: &str, extra: &[&str]) -> (Run, Value) {
    let kc = h.kubeconfig_admin.to_str().unwrap().to_string();
    let mut args = vec!["doctor", "--kubeconfig", &kc, "-n", namespace, "-o", "json"];
    args.extend_from_slice(extra);
    let r = llmd(&args);
    assert!(r.code == 0 || r.code == 1, "doctor could not run: {}\n{}", r.stderr, r.stdout);
    let v = r.json();
    crate::hints::assert_hints_run(h, &v);
    (r, v)
}
