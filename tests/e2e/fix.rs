//! `kubectl llmd doctor --fix` on the real API server: for every repair, the broken scenario,
//! `--dry-run` (nothing changes: resourceVersions compared), `--fix --yes` (doctor clean for that code
//! afterwards, nothing else in the object changed), and a rerun (nothing to fix, no write).
//!
//! Namespaced repairs run on the shared harness in their own namespaces, always with `-n` and an
//! explicit `--fix=CODES`, so they never touch another test's objects. Repairs of cluster-scoped or
//! cross-namespace state (RT-008 needs `-A`, the admission webhook, the storedVersions migration,
//! CRD installs and upgrades) run on the exclusive lab harness and leave it empty. CRD bundles come
//! from the Go module cache through the loopback mirror (`mirror.rs`), as `gateway install` reads them.

use crate::common::{
    code_for, codes, crd_versions, doctor, doctor_as, doctor_report, exists, get, has_code, names, transcript, versions,
};
use crate::doctor_routing::{deploy, Opts, Shape};
use crate::fixtures::{cluster, doctor_json, gateway_api_crds, install_prereq};
use crate::harness::{assert_success, Harness};
use crate::lab::Lab;
use crate::mirror::mirror;
use crate::run::{llmd, llmd_command, run, Run};
use crate::upstream::{create_grpcroutes, grpcroute_crd, install_grpcroute_stand_in};
use serde_json::{json, Value};
use std::time::Instant;

const GWAPI: &str = "gateway.networking.k8s.io";
const V1: &str = "inference.networking.k8s.io";
const XK8S: &str = "inference.networking.x-k8s.io";
const POOL: &str = "llm-pool";
const EPP: &str = "llm-pool-epp";

/// The whole cycle for namespaced repairs in `ns`: finding present → dry run (no write) →
/// no confirmation on a non-TTY (no write) → --yes (finding gone) → rerun (no write).
/// The plan shown before the prompt is a snapshot (`ns` and `others` namespaces redacted).
/// Returns the output of the applying run.
fn cycle(h: &Harness, ns: &str, codes_arg: &str, watched: &str, others: &[(&str, &str)]) -> Run {
    let fix = format!("--fix={codes_arg}");
    let wanted: Vec<&str> = codes_arg.split(',').collect();
    let (_, report) = doctor_json(h, ns, &[]);
    for c in &wanted {
        assert!(has_code(&report, c), "{c} expected before the fix in {ns}: {:?}", codes(&report));
    }
    let before = versions(h, watched, Some(ns));

    // --dry-run exits as doctor does on the report it repairs.
    let r = doctor(h, &["-n", ns, &fix, "--dry-run"]);
    r.expect_code(code_for(&report, &[]));
    assert!(r.stdout.contains("validated by server-side dry run"), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stderr.contains("dry run: nothing was changed"), "{}", r.stderr);
    assert_eq!(versions(h, watched, Some(ns)), before, "--dry-run wrote something");

    // stdin is not a terminal and there is no --yes: the plan, then exit 2 with a hint (could not do what was asked).
    let r = doctor(h, &["-n", ns, &fix]);
    r.expect_code(2);
    assert!(r.stderr.contains("add --yes"), "{}", r.stderr);
    // The plan and diffs exactly as the user reads them before being asked.
    let mut redact = vec![(ns, "NS")];
    redact.extend_from_slice(others);
    insta::assert_snapshot!(format!("plan_{}", codes_arg.replace(',', "_")), transcript(&r, &redact));
    assert_eq!(versions(h, watched, Some(ns)), before, "unconfirmed --fix wrote something");

    // --yes exits as doctor does on the cluster it leaves.
    let applied = doctor(h, &["-n", ns, &fix, "--yes"]);
    assert!(!applied.stderr.contains('✖'), "{}", applied.stderr);
    assert!(applied.stderr.contains("Running doctor again"), "{}", applied.stderr);
    let (_, report) = doctor_json(h, ns, &[]);
    applied.expect_code(code_for(&report, &[]));
    for c in &wanted {
        assert!(!has_code(&report, c), "{c} still reported after --fix: {report:#}");
    }

    let after = versions(h, watched, Some(ns));
    let r = doctor(h, &["-n", ns, &fix, "--yes"]);
    assert!(r.stdout.contains("nothing to fix"), "rerun: {}\n{}", r.stdout, r.stderr);
    r.expect_code(code_for(&report, &[]));
    assert_eq!(versions(h, watched, Some(ns)), after, "rerun wrote something");
    applied
}

fn stack(prefix: &str, o: &Opts) -> (&'static Harness, String) {
    let h = cluster();
    let ns = h.namespace(prefix);
    deploy(h, &ns, o);
    (h, ns)
}

// ---------------------------------------------------------------------------------------------
// HTTPRoutes.

#[test]
fn route_group_and_kind_are_repaired_without_losing_anything() {
    let mut o = Opts::new(Shape::Agentgateway);
    // Rule 0: a pool on the x-k8s group (RT-006) and the pool named as a Service (RT-007), with
    // matches, filters, timeouts and weights; rule 1: an unrelated Service backend.
    o.patch.push((
        "HTTPRoute".into(),
        json!({"spec": {"hostnames": ["llm.example.com"], "rules": [
            {"matches": [{"path": {"type": "PathPrefix", "value": "/v1"}}, {"headers": [{"name": "x-model", "value": "llama"}]}],
             "filters": [{"type": "RequestHeaderModifier", "requestHeaderModifier": {"add": [{"name": "x-route", "value": "llm"}]}}],
             "timeouts": {"request": "300s"},
             "backendRefs": [
                {"group": XK8S, "kind": "InferencePool", "name": POOL, "weight": 3},
                {"name": POOL, "port": 8000, "weight": 1}]},
            {"matches": [{"path": {"type": "PathPrefix", "value": "/static"}}],
             "backendRefs": [{"name": "static-files", "port": 80}]}]}}),
    ));
    let (h, ns) = stack("fix-routes", &o);
    let before = get(h, "httproute", Some(&ns), "llm-route");

    let applied =
        cycle(h, &ns, "LLMD-RT-006,LLMD-RT-007", "httproutes,inferencepools.inference.networking.k8s.io", &[]);
    assert!(applied.stdout.contains(&format!("+    - group: {V1}")), "diff shows the new group:\n{}", applied.stdout);
    assert!(applied.stdout.contains("+      kind: InferencePool"), "{}", applied.stdout);
    assert!(applied.stdout.contains("LLMD-RT-006, LLMD-RT-007 · patch HTTPRoute"), "{}", applied.stdout);

    // Exactly the two refs changed; every other field of the route is as the user wrote it.
    let after = get(h, "httproute", Some(&ns), "llm-route");
    let mut expected = before["spec"].clone();
    expected["rules"][0]["backendRefs"][0]["group"] = json!(V1);
    expected["rules"][0]["backendRefs"][1]["group"] = json!(V1);
    expected["rules"][0]["backendRefs"][1]["kind"] = json!("InferencePool");
    assert_eq!(after["spec"], expected);
    assert_eq!(after["metadata"]["labels"], before["metadata"]["labels"]);
    let out = h.kubectl(&["get", "httproute", "llm-route", "-n", &ns, "--show-managed-fields", "-o", "json"]);
    assert_success(&out, "kubectl get --show-managed-fields");
    let with_fields: Value = serde_json::from_slice(&out.stdout).unwrap();
    let managers: Vec<&str> = with_fields["metadata"]["managedFields"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["manager"].as_str().unwrap_or(""))
        .collect();
    assert!(managers.contains(&"kubectl-llmd"), "{managers:?}");
}

#[test]
fn grant_naming_the_x_k8s_group_is_updated_rt_009() {
    let h = cluster();
    let apps = h.namespace("fix-grant-apps");
    let mut o = Opts::new(Shape::Agentgateway);
    o.extra.push(json!({
        "apiVersion": format!("{GWAPI}/v1beta1"), "kind": "ReferenceGrant",
        "metadata": {"name": "routes-from-apps", "labels": {"team": "ml"}},
        "spec": {"from": [{"group": GWAPI, "kind": "HTTPRoute", "namespace": apps}],
                 "to": [{"group": XK8S, "kind": "InferencePool", "name": POOL}, {"group": "", "kind": "Service"}]}}));
    let (h2, ns) = stack("fix-grant", &o);
    assert!(std::ptr::eq(h, h2));
    let before = get(h, "referencegrant", Some(&ns), "routes-from-apps");
    cycle(h, &ns, "LLMD-RT-009", "referencegrants", &[(&apps, "APPS")]);
    let after = get(h, "referencegrant", Some(&ns), "routes-from-apps");
    let mut expected = before["spec"].clone();
    expected["to"][0]["group"] = json!(V1);
    assert_eq!(after["spec"], expected);
    assert_eq!(after["metadata"]["labels"], json!({"team": "ml"}));
}

// ---------------------------------------------------------------------------------------------
// InferencePools.

#[test]
fn alpha_pool_is_converted_to_v1_and_left_in_place_pool_001() {
    let mut o = Opts::new(Shape::Agentgateway);
    o.alpha_pool = true;
    // No portNumber (defaults to 9002), FailOpen kept.
    o.patch.push((
        "InferencePool".into(),
        json!({"spec": {"extensionRef": {"name": EPP, "portNumber": null, "failureMode": "FailOpen"}}}),
    ));
    let (h, ns) = stack("fix-pool", &o);
    let alpha_rv = get(h, &format!("inferencepools.{XK8S}"), Some(&ns), POOL)["metadata"]["resourceVersion"].clone();
    let applied = cycle(h, &ns, "LLMD-POOL-001", &format!("inferencepools.{V1}"), &[]);
    assert!(applied.stdout.contains("+++ InferencePool"), "{}", applied.stdout);
    let v1 = get(h, &format!("inferencepools.{V1}"), Some(&ns), POOL);
    assert_eq!(v1["spec"]["selector"], json!({"matchLabels": {"app": "vllm-llama"}}));
    assert_eq!(v1["spec"]["targetPorts"], json!([{"number": 8000}]));
    assert_eq!(v1["spec"]["endpointPickerRef"]["name"], EPP);
    assert_eq!(v1["spec"]["endpointPickerRef"]["port"], json!({"number": 9002}));
    assert_eq!(v1["spec"]["endpointPickerRef"]["failureMode"], "FailOpen");
    // The alpha pool is left alone until the user removes it.
    let alpha = get(h, &format!("inferencepools.{XK8S}"), Some(&ns), POOL);
    assert_eq!(alpha["metadata"]["resourceVersion"], alpha_rv);
}

#[test]
fn epp_port_is_set_to_the_service_port_epp_002() {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push(("InferencePool".into(), json!({"spec": {"endpointPickerRef": {"port": {"number": 9003}}}})));
    let (h, ns) = stack("fix-epp-port", &o);
    let before = get(h, &format!("inferencepools.{V1}"), Some(&ns), POOL);
    cycle(h, &ns, "LLMD-EPP-002", "inferencepools.inference.networking.k8s.io,services", &[]);
    let after = get(h, &format!("inferencepools.{V1}"), Some(&ns), POOL);
    let mut expected = before["spec"].clone();
    expected["endpointPickerRef"]["port"]["number"] = json!(9002);
    assert_eq!(after["spec"], expected);
}

#[test]
fn target_ports_follow_the_model_servers_pod_004() {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push(("InferencePool".into(), json!({"spec": {"targetPorts": [{"number": 8080}]}})));
    let (h, ns) = stack("fix-target-port", &o);
    let before = get(h, &format!("inferencepools.{V1}"), Some(&ns), POOL);
    cycle(h, &ns, "LLMD-POD-004", "inferencepools.inference.networking.k8s.io,pods", &[]);
    let after = get(h, &format!("inferencepools.{V1}"), Some(&ns), POOL);
    let mut expected = before["spec"].clone();
    expected["targetPorts"] = json!([{"number": 8000}]);
    assert_eq!(after["spec"], expected);
}

// ---------------------------------------------------------------------------------------------
// Istio.

#[test]
fn missing_destination_rule_is_created_ist_001() {
    let mut o = Opts::istio();
    o.drop.push("DestinationRule".into());
    let (h, ns) = stack("fix-dr-missing", &o);
    cycle(h, &ns, "LLMD-IST-001", "destinationrules.networking.istio.io", &[]);
    let dr = get(h, "destinationrules.networking.istio.io", Some(&ns), EPP);
    assert_eq!(dr["spec"]["host"], format!("{EPP}.{ns}.svc.cluster.local"));
    assert_eq!(dr["spec"]["trafficPolicy"]["tls"], json!({"mode": "SIMPLE", "insecureSkipVerify": true}));
}

#[test]
fn destination_rule_tls_is_fixed_keeping_the_rest_ist_003() {
    let mut o = Opts::istio();
    o.patch.push((
        "DestinationRule".into(),
        json!({"spec": {"trafficPolicy": {"tls": {"mode": "DISABLE", "insecureSkipVerify": null},
                                          "connectionPool": {"tcp": {"maxConnections": 10}}}}}),
    ));
    let (h, ns) = stack("fix-dr-tls", &o);
    let before = get(h, "destinationrules.networking.istio.io", Some(&ns), EPP);
    cycle(h, &ns, "LLMD-IST-003", "destinationrules.networking.istio.io", &[]);
    let after = get(h, "destinationrules.networking.istio.io", Some(&ns), EPP);
    let mut expected = before["spec"].clone();
    expected["trafficPolicy"]["tls"] = json!({"mode": "SIMPLE", "insecureSkipVerify": true});
    assert_eq!(after["spec"], expected, "connectionPool must survive");
}

#[test]
fn destination_rule_host_in_same_namespace_is_repointed_ist_002() {
    let mut o = Opts::istio();
    o.patch.push(("DestinationRule".into(), json!({"spec": {"host": "llm-pool-epp-old"}})));
    let (h, ns) = stack("fix-dr-host2", &o);
    let before = get(h, "destinationrules.networking.istio.io", Some(&ns), EPP);
    cycle(h, &ns, "LLMD-IST-002", "destinationrules.networking.istio.io", &[]);
    let after = get(h, "destinationrules.networking.istio.io", Some(&ns), EPP);
    let mut expected = before["spec"].clone();
    expected["host"] = json!(format!("{EPP}.{ns}.svc.cluster.local"));
    assert_eq!(after["spec"], expected);
}

// ---------------------------------------------------------------------------------------------
// Permissions.

#[test]
fn a_user_without_write_permission_is_refused_before_any_write() {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push((
        "HTTPRoute".into(),
        json!({"spec": {"rules": [{"backendRefs": [{"group": XK8S, "kind": "InferencePool", "name": POOL}]}]}}),
    ));
    let (h, ns) = stack("fix-viewer", &o);
    // The harness viewer gets ClusterRole view in this namespace too (its own namespace stays untouched).
    // (plus read access to the Gateway API / GAIE kinds, which ClusterRole view does not aggregate).
    let out = h.kubectl(&["create", "rolebinding", "viewer-view", "--clusterrole=view", "--user=viewer", "-n", &ns]);
    assert_success(&out, "kubectl create rolebinding");
    let out = h.kubectl(&[
        "create",
        "role",
        "gateway-reader",
        "--verb=get,list,watch",
        "--resource=httproutes.gateway.networking.k8s.io,gateways.gateway.networking.k8s.io,referencegrants.gateway.networking.k8s.io,inferencepools.inference.networking.k8s.io,inferencepools.inference.networking.x-k8s.io",
        "-n",
        &ns,
    ]);
    assert_success(&out, "kubectl create role");
    let out = h.kubectl(&[
        "create",
        "rolebinding",
        "viewer-gateway-reader",
        "--role=gateway-reader",
        "--user=viewer",
        "-n",
        &ns,
    ]);
    assert_success(&out, "kubectl create rolebinding");
    let before = versions(h, "httproutes", Some(&ns));
    let r = doctor_as(&h.kubeconfig_viewer, &["-n", &ns, "--fix=LLMD-RT-006", "--yes"]);
    r.expect_code(2);
    assert!(
        r.stderr.contains("may not patch httproutes.gateway.networking.k8s.io in namespace")
            && r.stderr.contains("nothing was changed")
            && r.stderr.contains("hint:"),
        "{}",
        r.stderr
    );
    assert_eq!(versions(h, "httproutes", Some(&ns)), before);
}

#[test]
fn unknown_codes_and_files_are_refused() {
    let h = cluster();
    let r = doctor(h, &["--fix=LLMD-NOPE-001", "--yes"]);
    r.expect_code(2);
    assert!(r.stderr.contains("unknown check code"), "{}", r.stderr);
    let r = llmd(&["doctor", "-f", "-", "--fix"]);
    r.expect_code(2);
    assert!(r.stderr.contains("cannot be combined with -f"), "{}", r.stderr);
}

// ---------------------------------------------------------------------------------------------
// The lab: cross-namespace grants, webhooks, storedVersions.

/// doctor -A -o json as admin, the exit code asserted against the report.
fn doctor_all(h: &Harness) -> Value {
    doctor_report(h, &["-A"]).1
}

#[test]
fn cross_namespace_route_gets_the_narrowest_grant_rt_008() {
    let h = Lab::take();
    install_prereq(&h);
    let (apps, pools) = (h.namespace("fix-apps"), h.namespace("fix-pools"));
    h.apply_yaml(&format!(
        "apiVersion: {V1}/v1\nkind: InferencePool\nmetadata: {{name: {POOL}, namespace: {pools}}}\n\
         spec:\n  selector: {{matchLabels: {{app: m}}}}\n  targetPorts: [{{number: 8000}}]\n  endpointPickerRef: {{name: {EPP}, port: {{number: 9002}}}}\n\
         ---\napiVersion: {GWAPI}/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {apps}}}\n\
         spec:\n  rules:\n  - backendRefs: [{{group: {V1}, kind: InferencePool, name: {POOL}, namespace: {pools}}}]\n"
    ));
    let before = doctor_all(&h);
    assert!(has_code(&before, "LLMD-RT-008"));

    let r = doctor(&h, &["-A", "--fix=LLMD-RT-008", "--dry-run"]);
    r.expect_code(code_for(&before, &[]));
    assert!(r.stdout.contains("+++ ReferenceGrant"), "{}\n{}", r.stdout, r.stderr);
    insta::assert_snapshot!("plan_rt_008_dry_run", transcript(&r, &[(&apps, "APPS"), (&pools, "POOLS")]));
    assert!(!exists(&h, "referencegrants", Some(&pools), &format!("allow-httproutes-from-{apps}")));

    let r = doctor(&h, &["-A", "--fix=LLMD-RT-008", "--yes"]);
    let after = doctor_all(&h);
    r.expect_code(code_for(&after, &[]));
    assert!(!has_code(&after, "LLMD-RT-008"));
    let grant = get(&h, "referencegrants", Some(&pools), &format!("allow-httproutes-from-{apps}"));
    assert_eq!(grant["spec"]["from"], json!([{"group": GWAPI, "kind": "HTTPRoute", "namespace": apps}]));
    assert_eq!(grant["spec"]["to"], json!([{"group": V1, "kind": "InferencePool", "name": POOL}]));

    let rv = versions(&h, "referencegrants", None);
    let r = doctor(&h, &["-A", "--fix=LLMD-RT-008", "--yes"]);
    r.expect_code(code_for(&after, &[]));
    assert!(r.stdout.contains("nothing to fix"), "{}", r.stdout);
    assert_eq!(versions(&h, "referencegrants", None), rv);
}

#[test]
fn leftover_admission_webhook_is_deleted_adm_003() {
    let h = Lab::take();
    h.apply_yaml(&format!(
        "apiVersion: admissionregistration.k8s.io/v1\nkind: ValidatingWebhookConfiguration\n\
         metadata: {{name: gateway-api-admission}}\nwebhooks:\n- name: validate.gateway.networking.k8s.io\n  \
         admissionReviewVersions: [v1]\n  sideEffects: None\n  failurePolicy: Fail\n  \
         clientConfig: {{service: {{name: gateway-api-admission-server, namespace: gateway-system, path: /validate}}}}\n  \
         rules:\n  - {{apiGroups: [{GWAPI}], apiVersions: [v1, v1beta1], operations: [CREATE, UPDATE], resources: [httproutes, gateways]}}\n"
    ));
    let report = doctor_all(&h);
    assert!(has_code(&report, "LLMD-ADM-003"), "{:?}", codes(&report));

    let rv = versions(&h, "validatingwebhookconfigurations", None);
    let r = doctor(&h, &["-A", "--fix=LLMD-ADM-003", "--dry-run"]);
    r.expect_code(code_for(&report, &[]));
    assert!(r.stdout.contains("--- ValidatingWebhookConfiguration gateway-api-admission (live)"), "{}", r.stdout);
    assert!(r.stdout.contains("+++ /dev/null"), "{}", r.stdout);
    insta::assert_snapshot!("plan_adm_003_dry_run", transcript(&r, &[]));
    assert_eq!(versions(&h, "validatingwebhookconfigurations", None), rv);

    let r = doctor(&h, &["-A", "--fix=LLMD-ADM-003", "--yes"]);
    assert!(r.stderr.contains("deleted ValidatingWebhookConfiguration gateway-api-admission"), "{}", r.stderr);
    assert!(!exists(&h, "validatingwebhookconfigurations", None, "gateway-api-admission"));
    let after = doctor_all(&h);
    r.expect_code(code_for(&after, &[]));
    assert!(!has_code(&after, "LLMD-ADM-003"));
    let r = doctor(&h, &["-A", "--fix=LLMD-ADM-003", "--yes"]);
    r.expect_code(code_for(&after, &[]));
    assert!(r.stdout.contains("nothing to fix"), "{}", r.stdout);
}

fn stored_versions(h: &Harness) -> String {
    let out = h.kubectl(&["get", "crd", &format!("grpcroutes.{GWAPI}"), "-o", "jsonpath={.status.storedVersions}"]);
    assert_success(&out, "kubectl get crd");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// name → spec of every GRPCRoute.
fn grpcroute_specs(h: &Harness) -> std::collections::BTreeMap<String, Value> {
    let out = h.kubectl(&["get", &format!("grpcroutes.v1.{GWAPI}"), "-A", "-o", "json"]);
    assert_success(&out, "kubectl get grpcroutes");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|o| {
            (
                format!("{}/{}", o["metadata"]["namespace"].as_str().unwrap(), o["metadata"]["name"].as_str().unwrap()),
                o["spec"].clone(),
            )
        })
        .collect()
}

#[test]
fn stored_versions_are_migrated_over_1000_objects_crd_009() {
    const N: usize = 1000;
    let h = Lab::take();
    install_grpcroute_stand_in(&h);
    let namespaces = [h.namespace("fix-migrate-a"), h.namespace("fix-migrate-b")];

    // 1,000 objects stored at v1alpha2, each with its own content, created in a few big requests.
    let started = Instant::now();
    create_grpcroutes(&h, N, &namespaces, 1);
    eprintln!("created {N} GRPCRoutes in {:.1}s", started.elapsed().as_secs_f64());
    // Switch storage to v1 (v1alpha2 stays served): storedVersions becomes [v1alpha2, v1].
    h.apply_yaml(&grpcroute_crd("v1"));
    assert_eq!(stored_versions(&h), r#"["v1alpha2","v1"]"#);
    let specs = grpcroute_specs(&h);
    assert_eq!(specs.len(), N);
    let before = doctor_all(&h);
    assert!(has_code(&before, "LLMD-CRD-009"));

    // Dry run: the plan, no write.
    let rv = versions(&h, &format!("grpcroutes.{GWAPI}"), None);
    let r = doctor(&h, &["-A", "--fix=LLMD-CRD-009", "--dry-run"]);
    r.expect_code(code_for(&before, &[]));
    assert!(
        r.stdout.contains(&format!("rewrite {N} GRPCRoute object(s) at storage version v1")),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert_eq!(versions(&h, &format!("grpcroutes.{GWAPI}"), None), rv);
    assert_eq!(stored_versions(&h), r#"["v1alpha2","v1"]"#);

    let started = Instant::now();
    let r = doctor(&h, &["-A", "--fix=LLMD-CRD-009", "--yes"]);
    let took = started.elapsed();
    let line = r.stderr.lines().find(|l| l.contains("migrated")).unwrap_or_else(|| panic!("{}", r.stderr)).to_string();
    eprintln!("storedVersions migration of {N} objects: {line} (whole --fix run {:.2}s)", took.as_secs_f64());
    assert!(line.contains(&format!("migrated {N} GRPCRoute object(s) to v1")), "{line}");

    assert_eq!(stored_versions(&h), r#"["v1"]"#);
    assert_eq!(grpcroute_specs(&h), specs, "every object present with identical spec");
    let after = doctor_all(&h);
    r.expect_code(code_for(&after, &[]));
    assert!(!has_code(&after, "LLMD-CRD-009"));

    // The real v1.3.0 CRD now applies over it (the upgrade the stored version blocked).
    let real: Vec<_> =
        gateway_api_crds("v1.3.0").into_iter().filter(|p| p.ends_with(format!("{GWAPI}_grpcroutes.yaml"))).collect();
    let out = h.kubectl(&[
        "apply",
        "--server-side",
        "--force-conflicts",
        "--dry-run=server",
        "-f",
        real[0].to_str().unwrap(),
    ]);
    assert_success(&out, "applying the real v1.3.0 grpcroutes CRD after the migration");

    let rv = versions(&h, &format!("grpcroutes.{GWAPI}"), None);
    let r = doctor(&h, &["-A", "--fix=LLMD-CRD-009", "--yes"]);
    r.expect_code(code_for(&after, &[]));
    assert!(r.stdout.contains("nothing to fix"), "{}", r.stdout);
    assert_eq!(versions(&h, &format!("grpcroutes.{GWAPI}"), None), rv);
}

// ---------------------------------------------------------------------------------------------
// CRD bundles: installed or upgraded through `gateway install`'s code path.

/// `doctor` as admin with the CRD bundles served by the loopback mirror.
fn doctor_mirrored(h: &Harness, args: &[&str]) -> Run {
    let mut cmd = llmd_command(&["doctor"]);
    cmd.args(args).env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

fn bundle_version(h: &Harness, crd: &str, key: &str) -> String {
    let v = get(h, "crd", None, crd);
    v["metadata"]["annotations"][key].as_str().unwrap_or("").to_string()
}

fn crd_codes(report: &Value) -> Vec<String> {
    codes(report).into_iter().filter(|c| c.starts_with("LLMD-CRD-")).collect()
}

const GA_BUNDLE: &str = "gateway.networking.k8s.io/bundle-version";
const GAIE_BUNDLE: &str = "inference.networking.k8s.io/bundle-version";

#[test]
fn missing_crds_are_installed_at_the_profiles_versions_crd_001_002() {
    let h = Lab::take();
    let report = doctor_all(&h);
    assert!(has_code(&report, "LLMD-CRD-001") && has_code(&report, "LLMD-CRD-002"), "{:?}", codes(&report));

    // --dry-run: the install plan per CRD, validated by the server, and nothing written.
    let r = doctor_mirrored(&h, &["-A", "--fix", "--dry-run"]);
    r.expect_code(code_for(&report, &[]));
    assert!(
        r.stdout.contains("LLMD-CRD-001, LLMD-CRD-002 · install CRD bundles Gateway API v1.3.0, GAIE v1.0.1"),
        "{}\n{}",
        r.stdout,
        r.stderr
    );
    assert!(r.stdout.contains("CRD plan (Gateway API v1.3.0, GAIE v1.0.1)"), "{}", r.stdout);
    assert!(r.stdout.contains("+ gatewayclasses.gateway.networking.k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("+ inferencepools.inference.networking.k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("server-side dry run: the API server accepted all"), "{}", r.stdout);
    assert!(!r.stdout.contains("Not repaired automatically"), "{}", r.stdout);
    assert!(r.stderr.contains("dry run: nothing was changed"), "{}", r.stderr);
    assert!(crd_versions(&h).is_empty(), "--dry-run created CRDs: {:?}", crd_versions(&h));

    // No terminal, no --yes: the plan, no write.
    let r = doctor_mirrored(&h, &["-A", "--fix"]);
    r.expect_code(2);
    assert!(r.stderr.contains("add --yes"), "{}", r.stderr);
    insta::assert_snapshot!("plan_crd_001_002", transcript(&r, &[]));
    assert!(crd_versions(&h).is_empty(), "unconfirmed --fix created CRDs");

    // --yes: downloaded through the mirror as gateway install does, applied, Established.
    mirror().requests.lock().unwrap().clear();
    let started = Instant::now();
    let r = doctor_mirrored(&h, &["-A", "--fix", "--yes"]);
    eprintln!(
        "doctor --fix --yes installing Gateway API v1.3.0 + GAIE v1.0.1: {:.2}s",
        started.elapsed().as_secs_f64()
    );
    assert!(!r.stderr.contains('✖'), "{}", r.stderr);
    let line =
        r.stderr.lines().find(|l| l.contains("✔ LLMD-CRD-001, LLMD-CRD-002")).unwrap_or_else(|| panic!("{}", r.stderr));
    eprintln!("  {line}");
    assert!(line.contains("created") && line.contains("Established"), "{line}");
    assert!(r.stderr.contains("Running doctor again"), "{}", r.stderr);
    let requested = mirror().requests.lock().unwrap().clone();
    for path in [
        "/kubernetes-sigs/gateway-api/v1.3.0/config/crd/kustomization.yaml",
        "/kubernetes-sigs/gateway-api-inference-extension/v1.0.1/config/crd/kustomization.yaml",
    ] {
        assert!(requested.iter().any(|p| p == path), "{path} not requested: {requested:?}");
    }
    let installed = crd_versions(&h);
    let names = names(&installed);
    for crd in [
        "gatewayclasses.gateway.networking.k8s.io",
        "gateways.gateway.networking.k8s.io",
        "httproutes.gateway.networking.k8s.io",
        "referencegrants.gateway.networking.k8s.io",
        "inferencepools.inference.networking.k8s.io",
        "inferenceobjectives.inference.networking.x-k8s.io",
    ] {
        assert!(names.contains(&crd), "{crd} not installed: {names:?}");
    }
    assert_eq!(bundle_version(&h, "gatewayclasses.gateway.networking.k8s.io", GA_BUNDLE), "v1.3.0");
    assert_eq!(bundle_version(&h, "inferencepools.inference.networking.k8s.io", GAIE_BUNDLE), "v1.0.1");
    let out = h.kubectl(&["get", "crd", "httproutes.gateway.networking.k8s.io", "--show-managed-fields", "-o", "json"]);
    assert_success(&out, "kubectl get crd --show-managed-fields");
    let route_crd: Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(
        route_crd["metadata"]["managedFields"].as_array().unwrap().iter().any(|m| m["manager"] == "kubectl-llmd"),
        "{:#}",
        route_crd["metadata"]["managedFields"]
    );
    let report = doctor_all(&h);
    r.expect_code(code_for(&report, &[]));
    assert!(crd_codes(&report).is_empty(), "CRD findings after --fix: {:?}", crd_codes(&report));

    // Rerun: nothing to fix, nothing written.
    let r = doctor_mirrored(&h, &["-A", "--fix", "--yes"]);
    r.expect_code(code_for(&report, &[]));
    assert!(r.stdout.contains("nothing to fix"), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(crd_versions(&h), installed, "the rerun wrote CRDs");
}

#[test]
fn older_bundles_are_upgraded_to_the_profile_crd_006() {
    let h = Lab::take();
    install_prereq(&h);
    let profile = ["--profile", "current"];
    let (_, report) = doctor_report(&h, &["-A", "--profile", "current"]);
    let old: Vec<&Value> =
        report["findings"].as_array().unwrap().iter().filter(|f| f["code"] == "LLMD-CRD-006").collect();
    assert_eq!(old.len(), 2, "Gateway API and GAIE older than the profile: {:?}", codes(&report));
    let before = crd_versions(&h);

    // An alpha pool still on the x-k8s CRD that GAIE v1.5 removes: the install planner refuses,
    // and --fix shows that refusal for the change and writes nothing.
    let ns = h.namespace("fix-crd-upgrade");
    h.apply_yaml(&format!(
        "apiVersion: {XK8S}/v1alpha2\nkind: InferencePool\nmetadata: {{name: old, namespace: {ns}}}\n\
         spec:\n  selector: {{app: m}}\n  targetPortNumber: 8000\n  extensionRef: {{name: old-epp}}\n"
    ));
    let r = doctor_mirrored(&h, &["-A", "--fix=LLMD-CRD-006", "--yes", profile[0], profile[1]]);
    r.expect_code(2);
    assert!(r.stdout.contains("refused: the CRD plan refuses 1 object(s)"), "{}\n{}", r.stdout, r.stderr);
    assert!(r.stdout.contains("1 InferencePool object(s) still use it"), "{}", r.stdout);
    assert!(r.stdout.contains("nothing to fix (1 change(s) refused above)"), "{}", r.stdout);
    assert_eq!(crd_versions(&h), before, "a refused install changed CRDs");
    let out = h.kubectl(&["delete", &format!("inferencepools.{XK8S}"), "old", "-n", &ns]);
    assert_success(&out, "deleting the alpha pool");

    // --dry-run: each CRD's upgrade, validated, nothing written.
    let r = doctor_mirrored(&h, &["-A", "--fix=LLMD-CRD-006", "--dry-run", profile[0], profile[1]]);
    r.expect_code(code_for(&doctor_report(&h, &["-A", "--profile", "current"]).1, &[]));
    assert!(r.stdout.contains("LLMD-CRD-006 · install CRD bundles Gateway API v1.5.1, GAIE v1.5.0"), "{}", r.stdout);
    assert!(r.stdout.contains("upgrade v1.3.0 → v1.5.1"), "{}", r.stdout);
    assert!(r.stdout.contains("upgrade v1.0.1 → v1.5.0"), "{}", r.stdout);
    assert!(r.stdout.contains("- inferencepools.inference.networking.x-k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("+ listenersets.gateway.networking.k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("server-side dry run: the API server accepted all"), "{}", r.stdout);
    assert_eq!(crd_versions(&h), before, "--dry-run changed CRDs");

    let started = Instant::now();
    let r = doctor_mirrored(&h, &["-A", "--fix=LLMD-CRD-006", "--yes", profile[0], profile[1]]);
    eprintln!("doctor --fix upgrading to Gateway API v1.5.1 + GAIE v1.5.0: {:.2}s", started.elapsed().as_secs_f64());
    assert!(!r.stderr.contains('✖'), "{}", r.stderr);
    let line = r.stderr.lines().find(|l| l.contains("✔ LLMD-CRD-006")).unwrap_or_else(|| panic!("{}", r.stderr));
    eprintln!("  {line}");
    assert!(line.contains("upgraded") && line.contains("1 removed"), "{line}");
    assert_eq!(bundle_version(&h, "gatewayclasses.gateway.networking.k8s.io", GA_BUNDLE), "v1.5.1");
    assert_eq!(bundle_version(&h, "inferencepools.inference.networking.k8s.io", GAIE_BUNDLE), "v1.5.0");
    assert!(exists(&h, "crd", None, "listenersets.gateway.networking.k8s.io"));
    assert!(!exists(&h, "crd", None, &format!("inferencepools.{XK8S}")));
    assert!(exists(&h, "validatingadmissionpolicies", None, "safe-upgrades.gateway.networking.k8s.io"));
    let (_, report) = doctor_report(&h, &["-A", "--profile", "current"]);
    r.expect_code(code_for(&report, &[]));
    assert!(!has_code(&report, "LLMD-CRD-006"), "{:?}", codes(&report));

    // Rerun: nothing to fix, nothing written.
    let upgraded = crd_versions(&h);
    let r = doctor_mirrored(&h, &["-A", "--fix=LLMD-CRD-006", "--yes", profile[0], profile[1]]);
    r.expect_code(code_for(&report, &[]));
    assert!(r.stdout.contains("nothing to fix"), "{}\n{}", r.stdout, r.stderr);
    assert_eq!(crd_versions(&h), upgraded, "the rerun wrote CRDs");
}
