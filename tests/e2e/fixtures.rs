//! Shared cluster fixtures for end-to-end tests: the real upstream CRDs (from the Go module cache),
//! accepted GatewayClasses as their controllers would leave them, and helpers to write status.

use crate::common::doctor_report;
use crate::harness::{harness, Harness};
use crate::run::Run;
pub use crate::upstream::{apply_files, gaie_crds, gateway_api_crds, go_module_dir, wait_established};
use serde_json::Value;
use std::path::PathBuf;
use std::sync::OnceLock;

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
        if classes.contains(&class) {
            accepted_class(h, class, controller);
        }
    }
}

/// The Gateway API standard-channel CRDs of a release, without the safe-upgrades policy file.
pub fn gateway_standard(version: &str) -> Vec<PathBuf> {
    gateway_api_crds(version).into_iter().filter(|p| !p.to_string_lossy().contains("_vap_")).collect()
}

/// Apply CRD files and wait until every CRD is Established.
pub fn install(h: &Harness, files: &[PathBuf]) {
    apply_files(h, files);
    wait_established(h);
}

/// The llm-d prerequisite's CRDs only (Gateway API v1.3.0 standard without the safe-upgrades
/// policy, GAIE v1.0.1), Established: the lab's usual starting point.
pub fn install_prereq(h: &Harness) {
    let mut files = gateway_standard("v1.3.0");
    files.extend(gaie_crds("v1.0.1"));
    install(h, &files);
}

/// A GatewayClass of `controller` (no status).
pub fn gateway_class(h: &Harness, name: &str, controller: &str) {
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata:\n  name: {name}\nspec:\n  controllerName: {controller}\n"
    ));
}

/// A GatewayClass its controller has accepted.
pub fn accepted_class(h: &Harness, name: &str, controller: &str) {
    gateway_class(h, name, controller);
    set_status(h, "gatewayclass.gateway.networking.k8s.io", None, name, &accepted_status(&["Accepted"], &[]));
}

/// An inference.networking.k8s.io/v1 InferencePool `name` selecting `app: app`, port 8000, picker
/// `name-epp` on 9002 (needs the GAIE v1 CRD).
pub fn v1_pool_yaml(ns: &str, name: &str, app: &str) -> String {
    format!(
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {{name: {name}, namespace: {ns}}}\n\
         spec:\n  selector: {{matchLabels: {{app: {app}}}}}\n  targetPorts: [{{number: 8000}}]\n  \
         endpointPickerRef: {{name: {name}-epp, port: {{number: 9002}}}}\n"
    )
}

/// One status condition as a controller writes it.
pub fn condition(type_: &str, status: &str, reason: &str, message: &str) -> Value {
    serde_json::json!({"type": type_, "status": status, "reason": reason, "message": message,
        "lastTransitionTime": "2026-01-01T00:00:00Z", "observedGeneration": 1})
}

/// A status with `conditions` of the given types all True.
pub fn accepted_status(types: &[&str], extra: &[(&str, Value)]) -> Value {
    let conditions: Vec<Value> = types.iter().map(|t| condition(t, "True", t, "")).collect();
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

/// Run doctor as admin on one namespace with -o json, the exit code asserted against the report
/// (`common::report_of`); every kubectl command its hints print must run (writes as a server-side dry
/// run, `hints::assert_hints_run`).
pub fn doctor_json(h: &Harness, namespace: &str, extra: &[&str]) -> (Run, Value) {
    let mut args = vec!["-n", namespace];
    args.extend_from_slice(extra);
    let (r, v) = doctor_report(h, &args);
    crate::hints::assert_hints_run(h, &v);
    (r, v)
}
