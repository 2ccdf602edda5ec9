//! The Inference Extension's own quickstart, checked offline and on the lab (issue 10).
//!
//! Everything comes from the GAIE Go module at test time (never copied into the repo): v1.5.0 is the
//! newest release whose module ships `config/charts` and `config/manifests` (v1.6.0's module holds
//! only `config/crd`; v1.5.1 and v1.6.1 are not served by the module proxy). As the guide
//! (`site-src/guides/index.md`, Istio tabs) does it:
//! - the vLLM model server `config/manifests/vllm/gpu-deployment.yaml` (no namespace: it lands in the
//!   user's);
//! - the Istio Gateway `config/manifests/gateway/istio/gateway.yaml` (no namespace either);
//! - `helm install vllm-qwen3-32b --dependency-update --set inferencePool.modelServers.matchLabels.app=vllm-qwen3-32b
//!   --set provider.name=istio --set experimentalHttpRoute.enabled=true …/charts/inferencepool`, here rendered by the
//!   real helm with `helm template` from a copy of `config/charts/{inferencepool,epplib}` (the chart
//!   depends on `file://../epplib`, and the module cache is read-only).
//!
//! Verdicts: doctor may report only what is true of these objects. Offline nothing can be said about
//! status, so every check that needs it is Unknown; live, the harness runs no controller, so the test
//! first checks what doctor says before any controller acted, then writes what istiod, the
//! Deployment controller and the EndpointSlice controller would (statuses, the three model server pods,
//! the picker's endpoint) and requires a clean bill of health.

use crate::common::{self, findings, get_json, report_of};
use crate::doctor_routing::cond;
use crate::fixtures::{accepted_class, apply_files, doctor_json, gaie_crds, gateway_api_crds, go_module_dir};
use crate::fixtures::{wait_established, DESTINATION_RULE_STAND_IN_CRD};
use crate::harness::{assert_success, Harness};
use crate::lab::Lab;
use crate::run::llmd;
use serde_json::{json, Value};
use std::path::PathBuf;
use std::process::Command;

const GAIE: &str = "sigs.k8s.io/gateway-api-inference-extension";
const GAIE_VERSION: &str = "v1.5.0";
/// `INFERENCE_POOL_NAME` of the guide: the helm release, the pool, the route and the model server.
const RELEASE: &str = "vllm-qwen3-32b";
const GATEWAY: &str = "inference-gateway";
const ISTIO: &str = "istio.io/gateway-controller";

fn gaie_dir() -> PathBuf {
    go_module_dir(GAIE, GAIE_VERSION)
}

/// The quickstart's files: the rendered chart, the vLLM Deployment, the Istio Gateway.
struct Quickstart {
    _dir: tempfile::TempDir,
    files: Vec<PathBuf>,
}

/// Render the inferencepool chart as the guide installs it, into namespace `ns`.
fn render(ns: &str) -> Quickstart {
    let dir = tempfile::tempdir().expect("tempdir");
    let charts = gaie_dir().join("config/charts");
    for chart in ["inferencepool", "epplib"] {
        let out = Command::new("cp").arg("-r").arg(charts.join(chart)).arg(dir.path()).output().unwrap();
        assert_success(&out, &format!("cp -r {chart}"));
    }
    let out = Command::new("chmod").arg("-R").arg("u+w").arg(dir.path()).output().unwrap();
    assert_success(&out, "chmod -R u+w");
    let home = dir.path().join("helm-home");
    let helm = |args: &[&str]| {
        Command::new(crate::gateway::helm())
            .args(args)
            .env("HELM_CACHE_HOME", home.join("cache"))
            .env("HELM_CONFIG_HOME", home.join("config"))
            .env("HELM_DATA_HOME", home.join("data"))
            .env("KUBECONFIG", "/dev/null")
            .output()
            .expect("helm")
    };
    let chart = dir.path().join("inferencepool");
    let chart = chart.to_str().expect("utf-8 path");
    // The guide's `--dependency-update`, as its own step: it reports progress on stdout.
    assert_success(&helm(&["dependency", "build", chart]), "helm dependency build inferencepool");
    let selector = format!("inferencePool.modelServers.matchLabels.app={RELEASE}");
    let out = helm(&[
        "template",
        RELEASE,
        chart,
        "--namespace",
        ns,
        "--set",
        &selector,
        "--set",
        "provider.name=istio",
        "--set",
        "experimentalHttpRoute.enabled=true",
    ]);
    assert_success(&out, "helm template inferencepool");
    let rendered = dir.path().join("inferencepool-rendered.yaml");
    std::fs::write(&rendered, &out.stdout).unwrap();
    let manifests = gaie_dir().join("config/manifests");
    let files =
        vec![rendered, manifests.join("vllm/gpu-deployment.yaml"), manifests.join("gateway/istio/gateway.yaml")];
    Quickstart { _dir: dir, files }
}

fn file_args(q: &Quickstart) -> Vec<String> {
    q.files.iter().flat_map(|f| ["-f".to_string(), f.display().to_string()]).collect()
}

/// One finding with its hint.
fn line(f: &Value) -> String {
    format!("{} | hint: {}", common::line(f), f["hint"].as_str().unwrap_or(""))
}

/// Warnings and errors as "CODE Kind/name", sorted.
fn problems(report: &Value) -> Vec<String> {
    let mut v: Vec<String> = findings(report)
        .into_iter()
        .filter(|f| f["severity"] == "error" || f["severity"] == "warning")
        .map(|f| {
            format!(
                "{} {}/{}",
                f["code"].as_str().unwrap_or(""),
                f["object"]["kind"].as_str().unwrap_or(""),
                f["object"]["name"].as_str().unwrap_or("")
            )
        })
        .collect();
    v.sort();
    v
}

fn all_lines(report: &Value) -> String {
    findings(report).into_iter().map(line).collect::<Vec<_>>().join("\n")
}

// ---------------------------------------------------------------------------------------------
// Offline.

#[test]
fn gaie_quickstart_offline_reports_nothing_untrue() {
    // helm template without a namespace renders `default`, as `helm install` does for a user whose
    // context names none; the two manifests carry no namespace and land there too.
    let q = render("default");
    let mut args = vec!["doctor".to_string()];
    args.extend(file_args(&q));
    args.extend(["-o".into(), "json".into()]);
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let r = llmd(&refs);
    let report = r.json();
    eprintln!("quickstart offline:\n{}", all_lines(&report));
    assert_eq!(problems(&report), Vec::<String>::new(), "{}\n{}", all_lines(&report), r.stderr);
    r.expect_code(0);
    // Every object was read and placed in default: the route found its Gateway (no "Gateway
    // default/inference-gateway does not exist"), the pool its picker, the DestinationRule its host.
    for f in findings(&report) {
        assert_ne!(f["object"]["namespace"], "", "a namespaced object left unplaced: {}", line(f));
    }
    assert_passed(
        &report,
        &["LLMD-RT-001", "LLMD-RT-004", "LLMD-EPP-001", "LLMD-EPP-005", "LLMD-IST-001", "LLMD-IST-003"],
    );
}

/// Each of `codes` ran and passed.
fn assert_passed(report: &Value, codes: &[&str]) {
    let checks = report["checks"].as_array().expect("checks");
    for code in codes {
        let c = checks.iter().find(|c| c["code"] == *code).unwrap_or_else(|| panic!("no check {code}"));
        assert_eq!(c["status"], "pass", "{code}: {c}");
    }
}

// ---------------------------------------------------------------------------------------------
// Live, on the lab.

/// What the current guides install before the quickstart: Gateway API v1.5.1 standard CRDs (with
/// the safe-upgrades policy), GAIE v1.5.0's CRDs (`manifests.yaml` = config/crd/bases), Istio's
/// DestinationRule CRD (stand-in), and istiod 1.28.0 as `istioctl install --set
/// values.pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true` leaves it: an accepted `istio`
/// GatewayClass and the istiod Deployment with that variable.
fn install_prerequisites(h: &Harness) {
    let mut files = gateway_api_crds("v1.5.1");
    files.extend(gaie_crds(GAIE_VERSION));
    apply_files(h, &files);
    h.apply_yaml(DESTINATION_RULE_STAND_IN_CRD);
    wait_established(h);
    accepted_class(h, "istio", ISTIO);
    h.apply_yaml(
        "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: istio-system\n---\n\
         apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: istiod\n  namespace: istio-system\n  labels: {app: istiod}\n\
         spec:\n  selector: {matchLabels: {app: istiod}}\n  template:\n    metadata: {labels: {app: istiod}}\n    spec:\n      \
         containers:\n      - name: discovery\n        image: docker.io/istio/pilot:1.28.0\n        \
         env: [{name: ENABLE_GATEWAY_API_INFERENCE_EXTENSION, value: \"true\"}]\n",
    );
    h.apply_status(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system}\n\
         status: {observedGeneration: 1, replicas: 1, readyReplicas: 1, availableReplicas: 1, updatedReplicas: 1,\n  \
         conditions: [{type: Available, status: \"True\", reason: MinimumReplicasAvailable, message: ok}]}\n",
    );
}

/// Write what the controllers would: istiod's statuses on the Gateway, the route and the pool; the
/// Deployment controller's pods and availability; the EndpointSlice controller's picker endpoint.
fn act_as_controllers(h: &Harness, ns: &str) {
    let ok = |t: &str| cond(t, "True", t);
    h.apply_status(&serde_json::to_string(&json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "Gateway", "metadata": {"name": GATEWAY, "namespace": ns},
        "status": {"conditions": [ok("Accepted"), ok("Programmed")],
                   "addresses": [{"type": "IPAddress", "value": "10.0.0.80"}],
                   "listeners": [{"name": "http", "attachedRoutes": 1,
                                  "supportedKinds": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute"}],
                                  "conditions": [ok("Accepted"), ok("ResolvedRefs"), ok("Programmed"),
                                                 cond("Conflicted", "False", "NoConflicts")]}]},
    })).unwrap());
    let parent = json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GATEWAY, "namespace": ns});
    h.apply_status(&serde_json::to_string(&json!({
        "apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute", "metadata": {"name": RELEASE, "namespace": ns},
        "status": {"parents": [{"parentRef": parent, "controllerName": ISTIO,
                                "conditions": [ok("Accepted"), ok("ResolvedRefs")]}]},
    })).unwrap());
    h.apply_status(&serde_json::to_string(&json!({
        "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool", "metadata": {"name": RELEASE, "namespace": ns},
        "status": {"parents": [{"parentRef": parent, "controllerName": ISTIO, "conditions": [ok("Accepted"), ok("ResolvedRefs")]}]},
    })).unwrap());
    // Every Deployment available, with its pods Running and Ready.
    let deployments = get_json(h, &["get", "deployments", "-n", ns]);
    let mut picker_ip = None;
    for (i, d) in deployments["items"].as_array().unwrap().iter().enumerate() {
        let name = d["metadata"]["name"].as_str().unwrap();
        let replicas = d["spec"]["replicas"].as_i64().unwrap_or(1);
        h.apply_status(&serde_json::to_string(&json!({
            "apiVersion": "apps/v1", "kind": "Deployment", "metadata": {"name": name, "namespace": ns},
            "status": {"observedGeneration": d["metadata"]["generation"], "replicas": replicas, "updatedReplicas": replicas,
                       "readyReplicas": replicas, "availableReplicas": replicas,
                       "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                       "message": "Deployment has minimum availability."}]},
        })).unwrap());
        let template = &d["spec"]["template"];
        for r in 0..replicas {
            let pod = format!("{name}-{r}");
            let ip = format!("10.244.{i}.{}", 10 + r);
            if r == 0 && name.ends_with("-epp") {
                picker_ip = Some(ip.clone());
            }
            h.apply_yaml(
                &serde_json::to_string(&json!({
                    "apiVersion": "v1", "kind": "Pod",
                    "metadata": {"name": pod, "namespace": ns, "labels": template["metadata"]["labels"]},
                    "spec": template["spec"],
                }))
                .unwrap(),
            );
            h.apply_status(&serde_json::to_string(&json!({
                "apiVersion": "v1", "kind": "Pod", "metadata": {"name": pod, "namespace": ns},
                "status": {"phase": "Running", "podIP": ip,
                           "conditions": [{"type": "PodScheduled", "status": "True"}, {"type": "Ready", "status": "True"}]},
            })).unwrap());
        }
    }
    let picker = format!("{RELEASE}-epp");
    let service = get_json(h, &["get", "service", &picker, "-n", ns]);
    let ports: Vec<Value> = service["spec"]["ports"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| json!({"name": p["name"], "port": p["targetPort"].as_i64().or(p["port"].as_i64()), "protocol": "TCP"}))
        .collect();
    h.apply_yaml(&serde_json::to_string(&json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{picker}-e2e"), "namespace": ns,
                     "labels": {"kubernetes.io/service-name": picker, "endpointslice.kubernetes.io/managed-by": "e2e.kubectl-llmd"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [picker_ip.expect("the picker Deployment")],
                       "conditions": {"ready": true, "serving": true, "terminating": false}}],
        "ports": ports,
    })).unwrap());
}

#[test]
fn gaie_quickstart_applied_to_the_lab_reports_nothing_untrue() {
    let h = Lab::take();
    install_prerequisites(&h);
    let ns = h.namespace("gaie-quickstart");
    let q = render(&ns);
    // As the guide's `kubectl apply -f` / `helm install` with the user's context namespace set to ns.
    let mut args = vec!["apply".to_string(), "--server-side".into(), "-n".into(), ns.clone()];
    args.extend(file_args(&q));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    assert_success(&h.kubectl(&refs), "kubectl apply the quickstart");

    // Before any controller acted (none runs in the harness), doctor reports exactly what the cluster
    // really lacks right now, and nothing else:
    let (_, before) = doctor_json(&h, &ns, &[]);
    eprintln!("quickstart live, before the controllers:\n{}", all_lines(&before));
    let expected = [
        // no Deployment controller: the picker Deployment has no available replica …
        format!("LLMD-EPP-004 Deployment/{RELEASE}-epp"),
        // … istiod never ran, so the Gateway is still Pending "Waiting for controller" …
        format!("LLMD-GW-001 Gateway/{GATEWAY}"),
        // … the vLLM Deployment created no pod …
        format!("LLMD-POD-001 InferencePool/{RELEASE}"),
        // … and with the picker down, the pool's FailOpen is bypassing it right now.
        format!("LLMD-POOL-009 InferencePool/{RELEASE}"),
    ];
    assert_eq!(problems(&before), expected, "{}", all_lines(&before));

    act_as_controllers(&h, &ns);
    let (r, after) = doctor_json(&h, &ns, &[]);
    eprintln!("quickstart live, after the controllers:\n{}", all_lines(&after));
    assert_eq!(problems(&after), Vec::<String>::new(), "{}\n{}", all_lines(&after), r.stderr);
    r.expect_code(0);
    // The chart's pieces were all seen: pool, picker, DestinationRule, route, Gateway, model servers.
    assert_passed(
        &after,
        &["LLMD-RT-001", "LLMD-RT-004", "LLMD-EPP-001", "LLMD-EPP-005", "LLMD-IST-001", "LLMD-IST-003", "LLMD-POD-001"],
    );
    // Offline hints of the same objects hold on the cluster too (they were printed for ns).
    let mut args = vec!["doctor".to_string(), "-n".into(), ns.clone(), "-o".into(), "json".into()];
    args.extend(file_args(&q));
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    let offline = report_of(&llmd(&refs), &refs);
    crate::hints::assert_hints_run(&h, &offline);
}
