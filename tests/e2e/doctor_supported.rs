//! Supported configurations that must not raise a false alarm (issue 10, item 2): each is a healthy
//! stack on the real API server for which `kubectl llmd doctor` prints no ‼/✖ finding and exits 0,
//! plus a broken counterpart where the behaviour changed.
//!
//! Namespaced scenarios use the shared harness and the routing stack of `doctor_routing`; scenarios
//! that need their own CRDs, GatewayClasses or controller Deployments hold the lab.
//!
//! Not tested end to end: a GKE control plane below the InferencePool-v1 minimum (LLMD-GWC-007 on
//! gke-l7 classes without pools) — the real API server reports its own version (v1.36.3), never a
//! `-gke.` build; the unit tests in src/checks/gatewayclasses.rs cover it.

use crate::common::{brief, doctor_command};
use crate::doctor_cluster::{controller, doctor_env, gaie_file, POOL_V1 as POOL_V1_FILE};
use crate::doctor_routing::{
    assert_no_code, cond, deploy, epp_container, expect, ok, pool, scenario, Opts, Shape, EPP, EPP_PORT, GW, POOL,
};
use crate::fixtures::{
    accepted_class, cluster, doctor_json, gaie_crds, gateway_standard, install, set_status, wait_established,
    DESTINATION_RULE_STAND_IN_CRD,
};
use crate::harness::Harness;
use crate::lab::Lab;
use crate::run::Run;
use serde_json::{json, Value};

/// A healthy verdict: no error or warning anywhere in the report, exit 0, and the table shows no ‼/✖.
fn assert_healthy(h: &Harness, r: &Run, report: &Value, ns: &str, env: &[(&str, &str)]) {
    let all: Vec<&Value> = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter(|f| f["severity"] == "error" || f["severity"] == "warning")
        .collect();
    assert!(all.is_empty(), "false alarms:\n{}", brief(&all));
    r.expect_code(0);
    let mut cmd = doctor_command(&h.kubeconfig_admin, &["-n", ns]);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let table = crate::run::run(cmd);
    table.expect_code(0);
    assert!(!table.stdout.contains('✖') && !table.stdout.contains('‼'), "{}", table.stdout);
}

/// Deploy `o` in a fresh namespace of the shared harness and assert doctor finds it healthy.
fn healthy_scenario(prefix: &str, o: &Opts) -> (String, Value) {
    let (ns, r, v) = scenario(prefix, o);
    assert_healthy(cluster(), &r, &v, &ns, &[]);
    (ns, v)
}

// ---------------------------------------------------------------------------------------------
// FailOpen (the GAIE inferencepool chart default since v1.4, and llm-d's router chart).

#[test]
fn fail_open_pool_with_a_serving_picker_is_information() {
    let o = Opts::istio().patch("InferencePool", json!({"spec": {"endpointPickerRef": {"failureMode": "FailOpen"}}}));
    let (ns, v) = healthy_scenario("ok-fail-open", &o);
    let f = expect(&v, "LLMD-POOL-009", "info", pool(&ns), &["FailOpen", "\"failureMode\":\"FailClose\""]);
    assert_eq!(
        f["message"],
        format!("InferencePool {ns}/{POOL} uses failureMode FailOpen (the chart default): if endpoint picker {EPP} goes down, requests bypass it instead of failing")
    );
}

// ---------------------------------------------------------------------------------------------
// Endpoint pickers with leader election, and pickers run as a StatefulSet.

#[test]
fn leader_elected_picker_with_one_ready_leader_is_healthy() {
    // Three replicas, one ready leader, two NotReady standbys: the Deployment never reports Available.
    let args: Vec<String> =
        ["--pool-name", POOL, "--pool-group", "inference.networking.k8s.io", "--ha-enable-leader-election"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let endpoint = |ip: &str, ready: bool| json!({"addresses": [ip], "conditions": {"ready": ready, "serving": ready, "terminating": false}});
    // As GAIE's chart runs it: a v1.5 picker that reads its pool namespace from NAMESPACE (the Pod's).
    let mut picker = epp_container(args);
    picker["image"] = json!("registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0");
    picker["env"] = json!([{"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]);
    let mut o = Opts::istio()
        .patch("Deployment", json!({"spec": {"replicas": 3, "template": {"spec": {"containers": [picker]}}}}))
        .patch(
            "EndpointSlice",
            json!({"endpoints": [endpoint("10.244.1.10", true), endpoint("10.244.1.11", false), endpoint("10.244.1.12", false)]}),
        );
    o.epp_available = Some(1);
    let (ns, v) = healthy_scenario("ok-leader-election", &o);
    assert_no_code(&v, "LLMD-EPP-004", &ns);
    assert_no_code(&v, "LLMD-EPP-003", &ns);

    // The leader gone too: no ready endpoint, the picker is down.
    let mut down = o.clone().patch(
        "EndpointSlice",
        json!({"endpoints": [endpoint("10.244.1.10", false), endpoint("10.244.1.11", false), endpoint("10.244.1.12", false)]}),
    );
    down.epp_available = Some(0);
    let (ns, r, v) = scenario("leader-election-down", &down);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-EPP-004",
        "error",
        ("Deployment", &ns, EPP),
        &["0/3 replicas available", "no ready leader (it runs with --ha-enable-leader-election)"],
    );
}

#[test]
fn picker_run_as_a_stateful_set_is_healthy() {
    let h = cluster();
    let ns = h.namespace("ok-epp-statefulset");
    let args: Vec<String> =
        ["--pool-name", POOL, "--pool-namespace", &ns, "--pool-group", "inference.networking.k8s.io"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    let set = json!({
        "apiVersion": "apps/v1", "kind": "StatefulSet",
        "metadata": {"name": EPP, "labels": {"app": EPP}},
        "spec": {"replicas": 1, "serviceName": EPP, "selector": {"matchLabels": {"app": EPP}},
                 "template": {"metadata": {"labels": {"app": EPP}},
                              "spec": {"serviceAccountName": EPP, "containers": [epp_container(args)]}}},
    });
    let o = Opts::istio().drop("Deployment").extra(set);
    deploy(h, &ns, &o);
    h.apply_status(&format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {EPP}, namespace: {ns}}}\n\
         status: {{observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, currentReplicas: 1, updatedReplicas: 1}}\n"
    ));
    let (r, v) = doctor_json(h, &ns, &[]);
    assert_healthy(h, &r, &v, &ns, &[]);
    // The StatefulSet is the picker doctor examined: a wrong --pool-name on it is reported against it.
    let wrong: Vec<String> =
        ["--pool-name", "other-pool", "--pool-namespace", &ns, "--pool-group", "inference.networking.k8s.io"]
            .iter()
            .map(|s| s.to_string())
            .collect();
    h.apply_yaml(&format!(
        "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {{name: {EPP}, namespace: {ns}}}\nspec:\n  serviceName: {EPP}\n  selector: {{matchLabels: {{app: {EPP}}}}}\n  template:\n    metadata: {{labels: {{app: {EPP}}}}}\n    spec: {{serviceAccountName: {EPP}, containers: [{}]}}\n",
        epp_container(wrong)
    ));
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let f = expect(&v, "LLMD-EPP-005", "error", ("StatefulSet", &ns, EPP), &["other-pool"]);
    assert!(f["hint"].as_str().unwrap_or("").starts_with(&format!("kubectl patch statefulset/{EPP} -n {ns}")), "{f:#}");
}

// ---------------------------------------------------------------------------------------------
// Istio DestinationRules that verify the picker's certificate or set TLS per port.

#[test]
fn destination_rules_that_verify_the_picker_or_set_tls_per_port_are_healthy() {
    let variants = [
        ("ok-dr-ca", json!({"tls": {"mode": "SIMPLE", "caCertificates": "/etc/epp-ca/ca.crt"}})),
        ("ok-dr-credential", json!({"tls": {"mode": "SIMPLE", "credentialName": "epp-ca"}})),
        (
            "ok-dr-port-level",
            json!({"portLevelSettings": [{"port": {"number": EPP_PORT},
                                          "tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}]}),
        ),
    ];
    for (prefix, policy) in variants {
        // The stack's rule carries SIMPLE + insecureSkipVerify: replace its trafficPolicy whole.
        let o = Opts::istio()
            .patch("DestinationRule", json!({"spec": {"trafficPolicy": null}}))
            .patch("DestinationRule", json!({"spec": {"trafficPolicy": policy}}));
        let (ns, v) = healthy_scenario(prefix, &o);
        for code in ["LLMD-IST-001", "LLMD-IST-002", "LLMD-IST-003"] {
            assert_no_code(&v, code, &ns);
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Lab scenarios: their own CRDs, GatewayClasses and controllers.

/// Gateway API v1.3.0 standard + `gaie` files + the DestinationRule stand-in, Established.
fn install_crds(h: &Harness, gateway_api: &str, gaie: Vec<std::path::PathBuf>) {
    let mut files = gateway_standard(gateway_api);
    files.extend(gaie);
    install(h, &files);
    h.apply_yaml(DESTINATION_RULE_STAND_IN_CRD);
    wait_established(h);
}

#[test]
fn openshift_service_mesh_gateway_is_recognised() {
    let h = Lab::take();
    install_crds(&h, "v1.3.0", gaie_crds("v1.0.1"));
    accepted_class(&h, "openshift-default", "openshift.io/gateway-controller/v1");
    // What OpenShift's ingress operator runs: istiod-openshift-gateway in openshift-ingress, with the
    // inference switch on because the InferencePool CRD exists.
    controller(
        &h,
        "openshift-ingress",
        "istiod-openshift-gateway",
        "registry.redhat.io/openshift-service-mesh/istio-pilot-rhel9:1.26.2",
        &[
            ("PILOT_GATEWAY_API_CONTROLLER_NAME", "openshift.io/gateway-controller/v1"),
            ("ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true"),
        ],
    );
    let ns = h.namespace("ok-ossm");
    deploy(&h, &ns, &Opts::new(Shape::Openshift));
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    assert_healthy(&h, &r, &v, &ns, &[]);
    // Served by Istio: the picker still needs its DestinationRule.
    let ns = h.namespace("ossm-no-rule");
    deploy(&h, &ns, &Opts::new(Shape::Openshift).drop("DestinationRule"));
    let (_, v) = doctor_env(&h, &["-n", &ns], &[]);
    expect(&v, "LLMD-IST-001", "error", pool(&ns), &["Istio Gateway"]);
}

#[test]
fn kgateway_agentgateway_class_is_recognised() {
    let h = Lab::take();
    install_crds(&h, "v1.3.0", gaie_crds("v1.0.1"));
    accepted_class(&h, "agentgateway", "agentgateway.dev/agentgateway");
    // kgateway's controller serves the agentgateway class; its inference switch is KGW_ENABLE_INFER_EXT.
    controller(
        &h,
        "kgateway-system",
        "kgateway",
        "cr.kgateway.dev/kgateway-dev/kgateway:v2.1.0",
        &[("KGW_ENABLE_INFER_EXT", "true"), ("KGW_ENABLE_AGENTGATEWAY", "true")],
    );
    let ns = h.namespace("ok-kgw-agentgateway");
    // The agentgateway proxy kgateway deploys for the Gateway (a data plane, not a controller).
    let proxy = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": GW, "labels": {"gateway.networking.k8s.io/gateway-name": GW}},
        "spec": {"selector": {"matchLabels": {"gateway.networking.k8s.io/gateway-name": GW}},
                 "template": {"metadata": {"labels": {"gateway.networking.k8s.io/gateway-name": GW}},
                              "spec": {"containers": [{"name": "agent-gateway", "image": "cr.agentgateway.dev/agentgateway:0.9.0"}]}}},
    });
    deploy(&h, &ns, &Opts::new(Shape::Agentgateway).extra(proxy));
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    assert_healthy(&h, &r, &v, &ns, &[]);
    assert!(
        v["checks"].as_array().into_iter().flatten().any(|c| c["code"] == "LLMD-GWC-005" && c["status"] == "pass"),
        "{}",
        v["checks"]
    );
    // kgateway without its inference switch: the agentgateway class is judged by kgateway's controller.
    controller(
        &h,
        "kgateway-system",
        "kgateway",
        "cr.kgateway.dev/kgateway-dev/kgateway:v2.1.0",
        &[("KGW_ENABLE_AGENTGATEWAY", "true")],
    );
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    r.expect_code(1);
    expect(&v, "LLMD-GWC-005", "error", ("Deployment", "kgateway-system", "kgateway"), &["KGW_ENABLE_INFER_EXT=true"]);
}

#[test]
fn gaie_v1_6_pool_without_a_picker_accepted_by_its_gateway_is_healthy() {
    let h = Lab::take();
    // GAIE v1.6.0's CRDs from the module cache: endpointPickerRef is optional in its v1 schema.
    install_crds(&h, "v1.3.0", gaie_crds("v1.6.0"));
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    let picker_less = |o: Opts| {
        ["Service", "EndpointSlice", "Deployment", "DestinationRule"]
            .into_iter()
            .fold(o, |o, k| o.drop(k))
            .patch("InferencePool", json!({"spec": {"endpointPickerRef": null}}))
    };
    let ns = h.namespace("ok-gaie16-no-picker");
    deploy(&h, &ns, &picker_less(Opts::istio()));
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    assert_healthy(&h, &r, &v, &ns, &[]);

    // The gateway requires a picker after all: it says so, and so does doctor.
    let mut o = picker_less(Opts::istio());
    o.pool_conditions = Some(vec![cond("Accepted", "False", "EndpointPickerRefMissing"), ok("ResolvedRefs")]);
    let ns = h.namespace("gaie16-picker-missing");
    deploy(&h, &ns, &o);
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    r.expect_code(1);
    let f = expect(&v, "LLMD-POOL-007", "error", pool(&ns), &["EndpointPickerRefMissing"]);
    assert_eq!(
        f["message"],
        format!("InferencePool {ns}/{POOL} has no spec.endpointPickerRef: Gateway {ns}/{GW} rejects it (Accepted=False, EndpointPickerRefMissing)")
    );
    assert_no_code(&v, "LLMD-POOL-005", &ns);
}

/// The stack with an upstream endpoint picker of GAIE `version`.
fn with_picker(version: &str, ns: &str) -> Opts {
    let mut c = epp_container(
        ["--pool-name", POOL, "--pool-namespace", ns, "--pool-group", "inference.networking.k8s.io"]
            .iter()
            .map(|s| s.to_string())
            .collect(),
    );
    c["image"] = json!(format!("registry.k8s.io/gateway-api-inference-extension/epp:{version}"));
    Opts::istio().patch("Deployment", json!({"spec": {"template": {"spec": {"containers": [c]}}}}))
}

#[test]
fn picker_from_v1_3_without_an_inference_objective_crd_is_healthy() {
    let h = Lab::take();
    // What the current guides install: GAIE v1.5.0's v1 InferencePool CRD only (v1-manifests.yaml).
    install_crds(&h, "v1.3.0", vec![gaie_file("v1.5.0", POOL_V1_FILE)]);
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    let ns = h.namespace("ok-no-objective-crd");
    deploy(&h, &ns, &with_picker("v1.5.0", &ns));
    let (r, v) = doctor_env(&h, &["-n", &ns], &[]);
    assert_healthy(&h, &r, &v, &ns, &[]);

    // A v1.2 picker in the same cluster waits for the CRD.
    let old = h.namespace("old-picker");
    deploy(&h, &old, &with_picker("v1.2.1", &old));
    let (r, v) = doctor_env(&h, &["-n", &old], &[]);
    r.expect_code(0);
    let f = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| f["code"] == "LLMD-CRD-005")
        .unwrap_or_else(|| panic!("no LLMD-CRD-005: {}", v["findings"]));
    assert_eq!(f["severity"], "warning");
    let message = f["message"].as_str().unwrap_or("");
    assert!(
        message.contains(&format!("endpoint picker Deployment {old}/{EPP} runs registry.k8s.io/gateway-api-inference-extension/epp:v1.2.1, older than v1.3")),
        "{message}"
    );
}

#[test]
fn gateway_api_v1_6_tcp_and_udp_routes_keeping_v1alpha2_unserved_are_healthy() {
    let h = Lab::take();
    // Gateway API v1.6.1 standard (without its safe-upgrades policy) from the module cache.
    install_crds(&h, "v1.6.1", gaie_crds("v1.0.1"));
    // Upgraded from the experimental channel, where v1alpha2 was the storage version.
    for plural in ["tcproutes", "udproutes"] {
        let crd = format!("{plural}.gateway.networking.k8s.io");
        set_status(&h, "crd", None, &crd, &json!({"storedVersions": ["v1alpha2", "v1"]}));
        let out = h.kubectl(&["get", "crd", &crd, "-o", "jsonpath={.status.storedVersions}"]);
        assert_eq!(String::from_utf8_lossy(&out.stdout), r#"["v1alpha2","v1"]"#);
    }
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    let ns = h.namespace("ok-gwapi16");
    deploy(&h, &ns, &Opts::istio());
    for env in [vec![], vec![("GATEWAY_API_CRD_REVISION", "v1.6.1")]] {
        let (r, v) = doctor_env(&h, &["-n", &ns], &env);
        assert_healthy(&h, &r, &v, &ns, &env);
        let stored: Vec<&Value> = v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .filter(|f| f["code"] == "LLMD-CRD-009" || f["code"] == "LLMD-CRD-010")
            .collect();
        assert!(stored.is_empty(), "{env:?}: {}", brief(&stored));
    }
}
