//! `gateway install | status | uninstall` against the real kube-apiserver.
//!
//! Everything that installs CRDs runs on the exclusive lab harness and leaves it empty. The CRDs
//! come from the Go module cache through the loopback HTTP mirror of `mirror.rs`, laid out like
//! raw.githubusercontent.com (`/<owner>/<repo>/<ref>/<path>`), so the real download path runs.
//! The control-plane scenarios use real helm (built with `go install`) and the stand-in charts of
//! `tests/charts`.

use crate::common::{crd_versions, doctor_report, manifest_dir, names, tools_dir, transcript};
use crate::fixtures::{gateway_class, go_module_dir};
use crate::harness::{assert_success, harness, Harness};
use crate::mirror::{mirror, start_mirror, Fault};
use crate::run::{llmd_command, run, Run};
use serde_json::Value;
use std::io::Write;
use std::path::PathBuf;
use std::sync::OnceLock;
use std::time::{Duration, Instant};

// ---------------------------------------------------------------------------------------------
// The lab, held for the whole test and left empty.

/// The lab, emptied when taken and when dropped, with the helm releases these tests install removed first.
pub(crate) fn take_lab() -> crate::lab::Lab {
    crate::lab::Lab::take_with(uninstall_helm_releases)
}

fn uninstall_helm_releases(h: &Harness) {
    if let Some(helm) = helm_if_built() {
        for (release, ns) in [
            ("istiod", "istio-system"),
            ("istio-base", "istio-system"),
            ("agentgateway", "agentgateway-system"),
            ("agentgateway-crds", "agentgateway-system"),
            ("kgateway", "kgateway-system"),
            ("kgateway-crds", "kgateway-system"),
            ("ngf", "nginx-gateway"),
            ("aieg", "envoy-ai-gateway-system"),
            ("aieg-crd", "envoy-ai-gateway-system"),
            ("eg", "envoy-gateway-system"),
        ] {
            let _ = std::process::Command::new(&helm)
                .args(["uninstall", release, "-n", ns, "--kubeconfig"])
                .arg(&h.kubeconfig_admin)
                .output();
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Helpers.

fn gateway(h: &Harness, args: &[&str]) -> Run {
    gateway_as(h, &h.kubeconfig_admin, args)
}

fn gateway_as(_h: &Harness, kubeconfig: &std::path::Path, args: &[&str]) -> Run {
    let mut cmd = llmd_command(&[]);
    cmd.arg("gateway").args(args).env("KUBECONFIG", kubeconfig).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

fn crd_json(h: &Harness, name: &str) -> Value {
    let out = h.kubectl(&["get", "crd", name, "-o", "json", "--show-managed-fields"]);
    assert_success(&out, &format!("kubectl get crd {name}"));
    serde_json::from_slice(&out.stdout).unwrap()
}

const PREREQ_CRDS: [&str; 8] = [
    "gatewayclasses.gateway.networking.k8s.io",
    "gateways.gateway.networking.k8s.io",
    "grpcroutes.gateway.networking.k8s.io",
    "httproutes.gateway.networking.k8s.io",
    "inferenceobjectives.inference.networking.x-k8s.io",
    "inferencepools.inference.networking.k8s.io",
    "inferencepools.inference.networking.x-k8s.io",
    "referencegrants.gateway.networking.k8s.io",
];

// ---------------------------------------------------------------------------------------------
// CRDs.

#[test]
fn crd_install_rerun_upgrade_downgrade_and_uninstall() {
    let h = take_lab();

    // --dry-run: the plan, validated by the server, and nothing written.
    let r = gateway(&h, &["install", "--dry-run"]);
    r.expect_code(0);
    assert!(r.stdout.contains("CRD plan (Gateway API v1.3.0, GAIE v1.0.1)"), "{}", r.stdout);
    assert!(r.stdout.contains("+ gatewayclasses.gateway.networking.k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("dry run"), "{}", r.stdout);
    assert!(crd_versions(&h).is_empty(), "dry run created CRDs: {:?}", crd_versions(&h));

    // Fresh install of the prerequisite's pins (the default profile), through the mirror.
    mirror().requests.lock().unwrap().clear();
    let started = Instant::now();
    let r = gateway(&h, &["install", "--crds-only"]);
    let took = started.elapsed();
    eprintln!("fresh CRD install (Gateway API v1.3.0 + GAIE v1.0.1, 8 CRDs): {:.2}s", took.as_secs_f64());
    r.expect_code(0);
    for line in r.stdout.lines().filter(|l| l.contains("applied in")) {
        eprintln!("  {line}");
    }
    let requested = mirror().requests.lock().unwrap().clone();
    assert!(
        requested.contains(&"/kubernetes-sigs/gateway-api/v1.3.0/config/crd/kustomization.yaml".to_string()),
        "{requested:?}"
    );
    assert!(
        requested.contains(
            &"/kubernetes-sigs/gateway-api-inference-extension/v1.0.1/config/crd/bases/inference.networking.k8s.io_inferencepools.yaml"
                .to_string()
        ),
        "{requested:?}"
    );
    let installed = crd_versions(&h);
    assert_eq!(names(&installed), PREREQ_CRDS.to_vec());
    for line in ["✔ Gateway API kinds are served", "✔ InferencePool v1 is served", "✔ InferenceObjective"] {
        assert!(r.stdout.contains(line), "missing {line:?} in\n{}", r.stdout);
    }
    let pool = crd_json(&h, "inferencepools.inference.networking.k8s.io");
    let managers: Vec<&str> =
        pool["metadata"]["managedFields"].as_array().unwrap().iter().filter_map(|m| m["manager"].as_str()).collect();
    assert!(managers.contains(&"kubectl-llmd"), "{managers:?}");
    assert!(pool["metadata"]["annotations"].get("kubectl.kubernetes.io/last-applied-configuration").is_none());

    // status shows what is installed, in every format exactly as the user reads it.
    let r = gateway(&h, &["status"]);
    r.expect_code(0);
    insta::assert_snapshot!("status_crds_table", transcript(&r, &[(&h.server, "SERVER")]));
    let r = gateway(&h, &["status", "-o", "yaml"]);
    r.expect_code(0);
    insta::assert_snapshot!("status_crds_yaml", transcript(&r, &[(&h.server, "SERVER")]));
    let r = gateway(&h, &["status", "-o", "json"]);
    r.expect_code(0);
    insta::assert_snapshot!("status_crds_json", transcript(&r, &[(&h.server, "SERVER")]));
    let s = r.json();
    assert_eq!(s["bundles"][0]["bundle"], "Gateway API");
    assert_eq!(s["bundles"][0]["versions"], serde_json::json!(["v1.3.0"]));
    assert_eq!(s["bundles"][0]["channels"], serde_json::json!(["standard"]));
    assert_eq!(s["bundles"][1]["versions"], serde_json::json!(["v1.0.1"]));

    // Rerun: nothing to do, nothing written.
    let r = gateway(&h, &["install", "--crds-only"]);
    r.expect_code(0);
    assert!(r.stdout.contains("nothing to do"), "{}", r.stdout);
    assert_eq!(crd_versions(&h), installed, "a no-op rerun changed resourceVersions");

    // A GAIE upgrade that drops the x-k8s pool CRD while a pool still uses it: refused, counted.
    let ns = h.namespace("gw-upgrade");
    h.apply_yaml(&format!(
        "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata: {{name: old, namespace: {ns}}}\n\
         spec:\n  selector: {{app: m}}\n  targetPortNumber: 8000\n  extensionRef: {{name: old-epp}}\n"
    ));
    let r = gateway(
        &h,
        &["install", "--crds-only", "--gateway-api-version", "v1.5.1", "--inference-extension-version", "v1.5.0"],
    );
    r.expect_code(2);
    assert!(r.stdout.contains("inferencepools.inference.networking.x-k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("1 InferencePool object(s) still use it"), "{}", r.stdout);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(crd_versions(&h), installed, "a refused upgrade changed CRDs");
    let out = h.kubectl(&["delete", "inferencepools.inference.networking.x-k8s.io", "old", "-n", &ns]);
    assert_success(&out, "deleting the alpha pool");

    // Upgrade v1.3.0 → v1.5.1 and GAIE v1.0.1 → v1.5.0.
    let r = gateway(
        &h,
        &["install", "--crds-only", "--gateway-api-version", "v1.5.1", "--inference-extension-version", "v1.5.0"],
    );
    r.expect_code(0);
    assert!(r.stdout.contains("upgrade v1.3.0 → v1.5.1"), "{}", r.stdout);
    assert!(r.stdout.contains("upgrade v1.0.1 → v1.5.0"), "{}", r.stdout);
    assert!(r.stdout.contains("- inferencepools.inference.networking.x-k8s.io"), "{}", r.stdout);
    assert!(r.stdout.contains("+ ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io"), "{}", r.stdout);
    let gc = crd_json(&h, "gatewayclasses.gateway.networking.k8s.io");
    assert_eq!(gc["metadata"]["annotations"]["gateway.networking.k8s.io/bundle-version"], "v1.5.1");
    let upgraded = crd_versions(&h);
    assert!(names(&upgraded).contains(&"listenersets.gateway.networking.k8s.io"));
    assert!(!names(&upgraded).contains(&"inferencepools.inference.networking.x-k8s.io"));
    let out = h.kubectl(&["get", "validatingadmissionpolicy", "safe-upgrades.gateway.networking.k8s.io"]);
    assert_success(&out, "the safe-upgrades policy was installed");

    // Downgrade: refused before writing (the policy would deny it too).
    let r = gateway(&h, &["install", "--crds-only"]);
    r.expect_code(2);
    assert!(r.stdout.contains("downgrade v1.5.1 → v1.3.0 refused"), "{}", r.stdout);
    assert!(r.stdout.contains("way out:"), "{}", r.stdout);
    assert_eq!(crd_versions(&h), upgraded, "a refused downgrade changed CRDs");

    // Uninstall refuses while custom resources exist, naming how many of which kind.
    h.apply_yaml(&format!(
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {{name: p, namespace: {ns}}}\n\
         spec:\n  selector: {{matchLabels: {{app: m}}}}\n  targetPorts: [{{number: 8000}}]\n  endpointPickerRef: {{name: epp, port: {{number: 9002}}}}\n"
    ));
    let r = gateway(&h, &["uninstall", "--crds-only"]);
    r.expect_code(2);
    assert!(r.stderr.contains("1 InferencePool (inferencepools.inference.networking.k8s.io)"), "{}", r.stderr);
    assert_eq!(crd_versions(&h), upgraded, "a refused uninstall changed CRDs");

    let r = gateway(&h, &["uninstall", "--crds-only", "--dry-run"]);
    r.expect_code(2); // still refused without --force
    let r = gateway(&h, &["uninstall", "--crds-only", "--force"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("deleted CustomResourceDefinition inferencepools.inference.networking.k8s.io"),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains("deleted ValidatingAdmissionPolicy safe-upgrades.gateway.networking.k8s.io"),
        "{}",
        r.stdout
    );
    let out = h.kubectl(&["wait", "--for=delete", "crd", "--all", "--timeout=60s"]);
    let _ = out;
    assert!(crd_versions(&h).is_empty(), "{:?}", crd_versions(&h));
}

/// A GRPCRoute CRD as Gateway API v1.1 left it on clusters upgraded from v1.0: v1alpha2 still in
/// status.storedVersions. Written here from DOMAIN.md's facts (no upstream release has this exact
/// state to apply), clearly a stand-in.
const GRPCROUTE_V11_STAND_IN: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: grpcroutes.gateway.networking.k8s.io
  annotations:
    gateway.networking.k8s.io/bundle-version: v1.1.0
    gateway.networking.k8s.io/channel: standard
    api-approved.kubernetes.io: "https://github.com/kubernetes-sigs/gateway-api/pull/1538"
    kubectl-llmd.test/stand-in: "minimal GRPCRoute CRD written for tests"
spec:
  group: gateway.networking.k8s.io
  scope: Namespaced
  names: {kind: GRPCRoute, plural: grpcroutes, singular: grpcroute, listKind: GRPCRouteList}
  versions:
  - name: v1alpha2
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
  - name: v1
    served: true
    storage: false
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}
"#;

#[test]
fn stored_versions_hazard_is_refused_before_writing() {
    let h = take_lab();
    h.apply_yaml(GRPCROUTE_V11_STAND_IN);
    let out = h.kubectl(&[
        "wait",
        "--for=condition=Established",
        "crd/grpcroutes.gateway.networking.k8s.io",
        "--timeout=60s",
    ]);
    assert_success(&out, "stand-in established");
    let before = crd_versions(&h);

    let r = gateway(&h, &["install", "--crds-only"]);
    r.expect_code(2);
    assert!(
        // Quoted as this server (1.33+) words it, as doctor_cluster proves against the real refusal.
        r.stdout.contains("status.storedVersions[0]: Invalid value: \"v1alpha2\": missing from spec.versions"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("way out:"), "{}", r.stdout);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert_eq!(crd_versions(&h), before, "CRDs were written despite the refusal");
}

#[test]
fn crds_from_files_for_air_gapped_clusters() {
    let h = take_lab();
    let dir = tempfile::tempdir().unwrap();
    for (module, version, sub) in [
        ("sigs.k8s.io/gateway-api", "v1.3.0", "config/crd/standard"),
        ("sigs.k8s.io/gateway-api-inference-extension", "v1.0.1", "config/crd/bases"),
    ] {
        for e in std::fs::read_dir(go_module_dir(module, version).join(sub)).unwrap().flatten() {
            std::fs::copy(e.path(), dir.path().join(e.file_name())).unwrap();
        }
    }
    let mut cmd = llmd_command(&["gateway", "install", "--crds-only", "--crds-from"]);
    cmd.arg(dir.path()).env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", "http://127.0.0.1:9");
    let r = run(cmd);
    r.expect_code(0);
    assert!(r.stdout.contains("CRD plan (Gateway API v1.3.0, GAIE v1.0.1)"), "{}", r.stdout);
    assert_eq!(names(&crd_versions(&h)), PREREQ_CRDS.to_vec());
}

// ---------------------------------------------------------------------------------------------
// Permissions (no change possible: the shared harness).

#[test]
fn users_without_rights_are_told_what_is_missing() {
    let h = harness();
    for kc in [&h.kubeconfig_nogrants, &h.kubeconfig_viewer] {
        let r = gateway_as(h, kc, &["install", "--crds-only"]);
        r.expect_code(2);
        assert!(r.stderr.contains("missing permission to"), "{}", r.stderr);
        assert!(r.stderr.contains("create customresourcedefinitions.apiextensions.k8s.io"), "{}", r.stderr);
        assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
        let r = gateway_as(h, kc, &["install", "--provider", "istio", "--control-plane-only"]);
        r.expect_code(2);
        assert!(r.stderr.contains("create namespaces"), "{}", r.stderr);
    }
}

// ---------------------------------------------------------------------------------------------
// Control planes through real helm.

fn helm_if_built() -> Option<PathBuf> {
    let p = tools_dir().join("helm");
    p.is_file().then_some(p)
}

/// helm v3.19.5, built once with `go install` into target/tools (a file lock keeps parallel
/// test processes from building it twice).
pub fn helm() -> PathBuf {
    static HELM: OnceLock<PathBuf> = OnceLock::new();
    HELM.get_or_init(|| {
        let dir = tools_dir();
        std::fs::create_dir_all(&dir).unwrap();
        let bin = dir.join("helm");
        if bin.is_file() {
            return bin;
        }
        let lock = dir.join("helm.lock");
        let status = std::process::Command::new("flock")
            .arg(&lock)
            .arg("sh")
            .arg("-c")
            .arg("[ -x \"$GOBIN/helm\" ] || go install helm.sh/helm/v3/cmd/helm@v3.19.5")
            .env("GOBIN", &dir)
            .env("GOFLAGS", "-mod=mod")
            .current_dir(std::env::temp_dir())
            .status()
            .expect("go is required to build helm");
        assert!(status.success() && bin.is_file(), "go install helm failed");
        bin
    })
    .clone()
}

pub(crate) fn helm_json(h: &Harness, args: &[&str]) -> Value {
    let out = std::process::Command::new(helm())
        .args(args)
        .arg("--kubeconfig")
        .arg(&h.kubeconfig_admin)
        .args(["-o", "json"])
        .output()
        .unwrap();
    assert!(out.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
    serde_json::from_slice(&out.stdout).unwrap()
}

/// Act as the controller: mark its Deployment available and accept its GatewayClass, while install waits.
pub(crate) fn play_controller(
    kubeconfig: PathBuf,
    kubectl: PathBuf,
    ns: &str,
    deployment: &str,
    class: &str,
    controller: &str,
) -> std::thread::JoinHandle<()> {
    let (ns, deployment, class, controller) =
        (ns.to_string(), deployment.to_string(), class.to_string(), controller.to_string());
    std::thread::spawn(move || {
        let k = |args: &[&str]| {
            std::process::Command::new(&kubectl)
                .args(args)
                .env("KUBECONFIG", &kubeconfig)
                .env("KUBERC", "off")
                .output()
                .unwrap()
        };
        let deadline = Instant::now() + Duration::from_secs(120);
        while Instant::now() < deadline {
            if k(&["get", "deployment", &deployment, "-n", &ns]).status.success() {
                break;
            }
            std::thread::sleep(Duration::from_millis(300));
        }
        let status = r#"{"status":{"observedGeneration":1,"replicas":1,"readyReplicas":1,"availableReplicas":1,"conditions":[{"type":"Available","status":"True","reason":"MinimumReplicasAvailable","message":"","lastUpdateTime":"2026-01-01T00:00:00Z","lastTransitionTime":"2026-01-01T00:00:00Z"}]}}"#;
        let _ =
            k(&["patch", "deployment", &deployment, "-n", &ns, "--subresource=status", "--type=merge", "-p", status]);
        let class_yaml = format!("apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: {controller}}}\n");
        let mut child = std::process::Command::new(&kubectl)
            .args(["apply", "-f", "-"])
            .env("KUBECONFIG", &kubeconfig)
            .env("KUBERC", "off")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::null())
            .spawn()
            .unwrap();
        child.stdin.take().unwrap().write_all(class_yaml.as_bytes()).unwrap();
        let _ = child.wait();
        let accepted = r#"{"status":{"conditions":[{"type":"Accepted","status":"True","reason":"Accepted","message":"","lastTransitionTime":"2026-01-01T00:00:00Z","observedGeneration":1}]}}"#;
        let _ = k(&["patch", "gatewayclass", &class, "--subresource=status", "--type=merge", "-p", accepted]);
    })
}

#[test]
fn istio_control_plane_through_helm_with_local_charts() {
    let helm = helm();
    let h = take_lab();
    let charts = manifest_dir().join("tests/charts");

    // --print: the exact commands, nothing done.
    let r = gateway(&h, &["install", "--provider", "istio", "--print"]);
    r.expect_code(0);
    assert!(
        r.stdout.contains("helm repo add istio https://istio-release.storage.googleapis.com/charts"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("helm upgrade --install istiod istio/istiod --namespace istio-system --create-namespace --version 1.28.0 --set pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true"), "{}", r.stdout);

    // Without helm on PATH: say so and print the commands.
    let mut cmd = llmd_command(&["gateway", "install", "--provider", "istio", "--control-plane-only"]);
    cmd.env("KUBECONFIG", &h.kubeconfig_admin).env("PATH", "/nonexistent");
    let r = run(cmd);
    r.expect_code(2);
    assert!(r.stderr.contains("helm not found on PATH"), "{}", r.stderr);
    assert!(r.stderr.contains("helm upgrade --install istio-base istio/base"), "{}", r.stderr);

    // Install CRDs + istio from the stand-in charts while "istiod" comes up.
    let player = play_controller(
        h.kubeconfig_admin.clone(),
        h.kubectl_path(),
        "istio-system",
        "istiod",
        "istio",
        "istio.io/gateway-controller",
    );
    let mut cmd = llmd_command(&["gateway", "install", "--provider", "istio", "--timeout", "90s", "--helm"]);
    cmd.arg(&helm).arg("--chart-source").arg(&charts);
    cmd.env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", &mirror().base);
    let started = Instant::now();
    let r = run(cmd);
    eprintln!(
        "istio: CRDs (Gateway API v1.3.0 + GAIE v1.0.1) + istio-base + istiod through helm, verified: {:.2}s",
        started.elapsed().as_secs_f64()
    );
    player.join().unwrap();
    r.expect_code(0);
    assert!(
        r.stdout
            .contains("Control plane (Istio): installed istio-base 1.28.0, istiod 1.28.0 in namespace istio-system"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("✔ GatewayClasses are Accepted"), "{}", r.stdout);

    let releases = helm_json(&h, &["list", "-A"]);
    let mut found: Vec<(String, String)> = releases
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["name"].as_str().unwrap().to_string(), r["namespace"].as_str().unwrap().to_string()))
        .collect();
    found.sort();
    assert_eq!(found, vec![("istio-base".into(), "istio-system".into()), ("istiod".into(), "istio-system".into())]);
    let values = helm_json(&h, &["get", "values", "istiod", "-n", "istio-system"]);
    assert_eq!(values["pilot"]["env"]["ENABLE_GATEWAY_API_INFERENCE_EXTENSION"], true, "{values}");

    // status: the provider with its version and inference switch; the table as the user reads it.
    let mut cmd = llmd_command(&["gateway", "status", "--helm"]);
    cmd.arg(&helm).env("KUBECONFIG", &h.kubeconfig_admin);
    let table = run(cmd);
    table.expect_code(0);
    insta::assert_snapshot!("status_istio_table", transcript(&table, &[(&h.server, "SERVER")]));
    let mut cmd = llmd_command(&["gateway", "status", "-o", "json", "--helm"]);
    cmd.arg(&helm).env("KUBECONFIG", &h.kubeconfig_admin);
    let s = run(cmd);
    s.expect_code(0);
    insta::assert_snapshot!("status_istio_json", transcript(&s, &[(&h.server, "SERVER")]));
    let s = s.json();
    let istio = s["providers"].as_array().unwrap().iter().find(|p| p["provider"] == "Istio").expect("istio found");
    assert_eq!(istio["version"], "1.28.0");
    assert_eq!(istio["inference"], "on");
    assert_eq!(istio["helmReleases"].as_array().unwrap().len(), 2, "{istio}");

    // Rerun: detected and left as is (no second control plane, no upgrade without --upgrade).
    let mut cmd = llmd_command(&[
        "gateway",
        "install",
        "--provider",
        "istio",
        "--control-plane-only",
        "--timeout",
        "20s",
        "--helm",
    ]);
    cmd.arg(&helm).arg("--chart-source").arg(&charts).env("KUBECONFIG", &h.kubeconfig_admin);
    let r = run(cmd);
    r.expect_code(0);
    assert!(r.stdout.contains("already installed (helm release"), "{}", r.stdout);
    assert!(r.stdout.contains("left as is"), "{}", r.stdout);
    let after = helm_json(&h, &["list", "-A"]);
    assert!(after.as_array().unwrap().iter().all(|r| r["revision"] == "1"), "{after}");

    // Uninstall: refused while the GatewayClass (a custom resource) exists, and nothing removed...
    let mut cmd = llmd_command(&["gateway", "uninstall", "--helm"]);
    cmd.arg(&helm).env("KUBECONFIG", &h.kubeconfig_admin);
    let r = run(cmd);
    r.expect_code(2);
    assert!(r.stderr.contains("1 GatewayClass (gatewayclasses.gateway.networking.k8s.io)"), "{}", r.stderr);
    assert_eq!(helm_json(&h, &["list", "-A"]).as_array().unwrap().len(), 2);
    // ...then with --force: helm releases first, then CRDs.
    let mut cmd = llmd_command(&["gateway", "uninstall", "--force", "--helm"]);
    cmd.arg(&helm).env("KUBECONFIG", &h.kubeconfig_admin);
    let r = run(cmd);
    r.expect_code(0);
    assert!(r.stdout.contains("removed helm release istio-system/istiod"), "{}", r.stdout);
    let helm_line = r.stdout.find("removed helm release").unwrap();
    let crd_line = r.stdout.find("deleted CustomResourceDefinition").unwrap();
    assert!(helm_line < crd_line, "helm releases must go before CRDs:\n{}", r.stdout);
    assert!(helm_json(&h, &["list", "-A"]).as_array().unwrap().is_empty());
}

#[test]
fn control_plane_wait_times_out_with_the_reason() {
    let helm = helm();
    let h = take_lab();
    let charts = manifest_dir().join("tests/charts");
    // No one plays the controller: the wait must end with what is missing.
    let mut cmd = llmd_command(&["gateway", "install", "--provider", "agentgateway", "--timeout", "3s", "--helm"]);
    cmd.arg(&helm).arg("--chart-source").arg(&charts);
    cmd.env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", &mirror().base);
    let r = run(cmd);
    r.expect_code(2);
    assert!(r.stderr.contains("agentgateway not ready after 3s"), "{}", r.stderr);
    assert!(r.stderr.contains("Deployment agentgateway-system/agentgateway is not available"), "{}", r.stderr);
    assert!(r.stderr.contains("GatewayClass agentgateway does not exist"), "{}", r.stderr);
    let values = helm_json(&h, &["get", "values", "agentgateway", "-n", "agentgateway-system"]);
    assert_eq!(values["inferenceExtension"]["enabled"], true, "{values}");
    let crds_release = helm_json(&h, &["list", "-n", "agentgateway-system"]);
    assert_eq!(crds_release.as_array().unwrap().len(), 2, "{crds_release}");
}

// ---------------------------------------------------------------------------------------------
// kgateway and agentgateway end to end, with -o json.

/// The stand-in charts `names`, copied with their Chart.yaml version set to `version` (helm records
/// a local chart's own version, whatever --version says).
fn charts_at(names: &[&str], version: &str) -> tempfile::TempDir {
    let dir = tempfile::tempdir().unwrap();
    for name in names {
        let from = manifest_dir().join("tests/charts").join(name);
        let to = dir.path().join(name);
        copy_dir(&from, &to);
        let chart = to.join("Chart.yaml");
        let text = std::fs::read_to_string(&chart).unwrap().replace("version: 0.0.1", &format!("version: {version}"));
        std::fs::write(&chart, text).unwrap();
    }
    dir
}

fn copy_dir(from: &std::path::Path, to: &std::path::Path) {
    std::fs::create_dir_all(to).unwrap();
    for e in std::fs::read_dir(from).unwrap().flatten() {
        let target = to.join(e.file_name());
        if e.file_type().unwrap().is_dir() {
            copy_dir(&e.path(), &target);
        } else {
            std::fs::copy(e.path(), &target).unwrap();
        }
    }
}

/// `gateway ARGS --helm HELM [--chart-source DIR]` against the lab, through the mirror.
fn gateway_helm(h: &Harness, charts: Option<&std::path::Path>, args: &[&str]) -> Run {
    let mut cmd = llmd_command(&["gateway"]);
    cmd.args(args).arg("--helm").arg(helm());
    if let Some(dir) = charts {
        cmd.arg("--chart-source").arg(dir);
    }
    cmd.env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

/// (release, chart, revision) of every helm release in `ns`.
fn releases_in(h: &Harness, ns: &str) -> Vec<(String, String, String)> {
    let mut list: Vec<(String, String, String)> = helm_json(h, &["list", "-n", ns])
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["name"].as_str().unwrap().to_string(),
                r["chart"].as_str().unwrap().to_string(),
                r["revision"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    list.sort();
    list
}

struct ControlPlaneCase {
    provider: &'static str,
    namespace: &'static str,
    crds_chart: &'static str,
    controller: &'static str,
    class: &'static str,
    controller_name: &'static str,
    /// The profile's version (llm-d-prereq).
    version: &'static str,
}

/// Install CRDs + control plane, rerun, --control-plane-only, --upgrade, refused downgrade, uninstall.
fn control_plane_end_to_end(c: &ControlPlaneCase) {
    let h = take_lab();
    let charts = manifest_dir().join("tests/charts");
    let player = play_controller(
        h.kubeconfig_admin.clone(),
        h.kubectl_path(),
        c.namespace,
        c.controller,
        c.class,
        c.controller_name,
    );
    let started = Instant::now();
    let r = gateway_helm(&h, Some(&charts), &["install", "--provider", c.provider, "--timeout", "90s", "-o", "json"]);
    let took = started.elapsed();
    player.join().unwrap();
    eprintln!(
        "{}: CRDs (Gateway API v1.3.0 + GAIE v1.0.1) + {} + {} through helm, verified: {:.2}s",
        c.provider,
        c.crds_chart,
        c.controller,
        took.as_secs_f64()
    );
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["kind"], "GatewayInstall");
    assert_eq!(doc["outcome"], "succeeded", "{doc}");
    assert_eq!(doc["provider"], c.provider);
    assert_eq!(doc["crds"]["applied"], true, "{doc}");
    assert_eq!(doc["crds"]["plan"].as_array().unwrap().len(), PREREQ_CRDS.len());
    assert!(doc["crds"]["plan"].as_array().unwrap().iter().all(|i| i["action"]["type"] == "create"), "{doc}");
    let rels = doc["controlPlane"]["releases"].as_array().unwrap();
    let order: Vec<(&str, &str, bool)> = rels
        .iter()
        .map(|r| (r["release"].as_str().unwrap(), r["action"].as_str().unwrap(), r["done"] == true))
        .collect();
    assert_eq!(order, [(c.crds_chart, "install", true), (c.controller, "install", true)], "CRD chart first: {doc}");
    assert!(rels.iter().all(|r| r["namespace"] == c.namespace && r["version"] == c.version), "{doc}");
    assert!(doc["controlPlane"]["readySeconds"].as_f64().is_some(), "{doc}");
    let verified: Vec<(&str, &str)> = doc["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    for code in ["LLMD-CRD-001", "LLMD-CRD-003", "LLMD-CRD-005", "LLMD-GWC-003", "LLMD-GWC-005"] {
        assert!(verified.contains(&(code, "pass")), "{code} not passed: {verified:?}");
    }
    // Progress on stderr only: the helm commands, CRD chart first.
    let crd_cmd = r.stderr.find(&format!("running: helm upgrade --install {} ", c.crds_chart)).expect("CRD chart run");
    let ctl_cmd = r.stderr.find(&format!("running: helm upgrade --install {} ", c.controller)).expect("controller run");
    assert!(crd_cmd < ctl_cmd, "{}", r.stderr);
    assert!(r.stderr.contains("CRD plan (Gateway API v1.3.0, GAIE v1.0.1)"), "{}", r.stderr);

    // helm has both releases in the provider's namespace, the inference switch on.
    assert_eq!(
        releases_in(&h, c.namespace),
        vec![
            (c.controller.to_string(), format!("{}-0.0.1", c.controller), "1".to_string()),
            (c.crds_chart.to_string(), format!("{}-0.0.1", c.crds_chart), "1".to_string()),
        ]
    );
    let values = helm_json(&h, &["get", "values", c.controller, "-n", c.namespace]);
    assert_eq!(values["inferenceExtension"]["enabled"], true, "{values}");
    let crds = crd_versions(&h);

    // Rerun with --control-plane-only: the control plane is reported and left alone, CRDs untouched.
    let r = gateway_helm(
        &h,
        Some(&charts),
        &["install", "--provider", c.provider, "--control-plane-only", "--timeout", "20s", "-o", "json"],
    );
    r.expect_code(0);
    let doc = r.json();
    assert!(doc["crds"]["skipped"].as_str().unwrap().contains("--control-plane-only"), "{doc}");
    assert!(doc["controlPlane"]["releases"].as_array().unwrap().iter().all(|r| r["action"] == "keep"), "{doc}");
    let existing = doc["controlPlane"]["existing"].as_array().unwrap();
    assert!(
        existing.iter().any(|e| e.as_str().unwrap().starts_with(&format!("helm release {} 0.0.1", c.controller))),
        "{doc}"
    );
    assert!(r.stderr.contains("left as is (rerun with --upgrade"), "{}", r.stderr);
    assert!(releases_in(&h, c.namespace).iter().all(|r| r.2 == "1"), "a rerun without --upgrade changed a release");
    assert_eq!(crd_versions(&h), crds, "--control-plane-only touched CRDs");

    // --upgrade moves both releases to the profile's version.
    let bare = c.version.trim_start_matches('v');
    let new_charts = charts_at(&[c.crds_chart, c.controller], bare);
    let started = Instant::now();
    let r = gateway_helm(
        &h,
        Some(new_charts.path()),
        &["install", "--provider", c.provider, "--control-plane-only", "--upgrade", "--timeout", "30s", "-o", "json"],
    );
    eprintln!("{}: --upgrade 0.0.1 → {bare}: {:.2}s", c.provider, started.elapsed().as_secs_f64());
    r.expect_code(0);
    let doc = r.json();
    assert!(
        doc["controlPlane"]["releases"]
            .as_array()
            .unwrap()
            .iter()
            .all(|r| r["action"] == "upgrade" && r["installed"] == "0.0.1" && r["done"] == true),
        "{doc}"
    );
    assert_eq!(
        releases_in(&h, c.namespace),
        vec![
            (c.controller.to_string(), format!("{}-{bare}", c.controller), "2".to_string()),
            (c.crds_chart.to_string(), format!("{}-{bare}", c.crds_chart), "2".to_string()),
        ]
    );
    assert_eq!(crd_versions(&h), crds, "--control-plane-only touched CRDs");

    // --upgrade to an older version: refused, nothing changed.
    let r = gateway_helm(
        &h,
        Some(new_charts.path()),
        &[
            "install",
            "--provider",
            c.provider,
            "--control-plane-only",
            "--upgrade",
            "--provider-version",
            "v0.9.0",
            "-o",
            "json",
        ],
    );
    r.expect_code(2);
    let doc = r.json();
    assert_eq!(doc["outcome"], "refused", "{doc}");
    assert!(
        doc["controlPlane"]["releases"].as_array().unwrap().iter().all(|r| r["action"] == "refused-downgrade"),
        "{doc}"
    );
    assert!(doc["error"]["message"].as_str().unwrap().contains(&format!("{bare} → v0.9.0")), "{doc}");
    assert!(r.stderr.contains("never downgraded"), "{}", r.stderr);
    assert!(releases_in(&h, c.namespace).iter().all(|r| r.2 == "2"), "a refused downgrade changed a release");

    // Uninstall -o json: controller release, then the CRD chart, then CRDs (the GatewayClass with them).
    let r = gateway_helm(&h, None, &["uninstall", "--force", "-o", "json"]);
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["kind"], "GatewayUninstall");
    let removed: Vec<(&str, &str)> = doc["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["kind"].as_str().unwrap(), r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(&removed[..2], [("HelmRelease", c.controller), ("HelmRelease", c.crds_chart)], "{doc}");
    assert!(removed.contains(&("CustomResourceDefinition", "inferencepools.inference.networking.k8s.io")), "{doc}");
    assert!(doc["removals"].as_array().unwrap().iter().all(|r| r["done"] == true), "{doc}");
    assert!(releases_in(&h, c.namespace).is_empty());
}

#[test]
fn kgateway_control_plane_end_to_end() {
    control_plane_end_to_end(&ControlPlaneCase {
        provider: "kgateway",
        namespace: "kgateway-system",
        crds_chart: "kgateway-crds",
        controller: "kgateway",
        class: "kgateway",
        controller_name: "kgateway.dev/kgateway",
        version: "v2.1.0",
    });
}

#[test]
fn agentgateway_control_plane_end_to_end() {
    control_plane_end_to_end(&ControlPlaneCase {
        provider: "agentgateway",
        namespace: "agentgateway-system",
        crds_chart: "agentgateway-crds",
        controller: "agentgateway",
        class: "agentgateway",
        controller_name: "agentgateway.dev/agentgateway",
        version: "v1.0.0",
    });
}

// ---------------------------------------------------------------------------------------------
// GKE: nothing installed, classes checked, documented steps printed.

#[test]
fn gke_installs_nothing_and_checks_its_classes() {
    let h = take_lab();
    let r = gateway(&h, &["install", "--crds-only"]);
    r.expect_code(0);
    let crds = crd_versions(&h);

    // Classes absent: exit 1, the documented steps, nothing written.
    let started = Instant::now();
    let r = gateway(&h, &["install", "--provider", "gke"]);
    eprintln!("gke (classes absent): {:.2}s", started.elapsed().as_secs_f64());
    r.expect_code(1);
    assert!(r.stdout.contains("managed by GKE, nothing installed"), "{}", r.stdout);
    assert!(r.stdout.contains("--update-addons=HttpLoadBalancing=ENABLED"), "{}", r.stdout);
    assert!(r.stdout.contains("--purpose=REGIONAL_MANAGED_PROXY"), "{}", r.stdout);
    assert!(
        r.stdout.contains("✖ GKE Gateway classes exist (gke-l7-rilb, gke-l7-regional-external-managed)"),
        "{}",
        r.stdout
    );
    assert!(!r.stdout.contains("CRD plan"), "GKE must not plan CRD writes:\n{}", r.stdout);
    let r = gateway(&h, &["install", "--provider", "gke", "-o", "json"]);
    r.expect_code(1);
    let doc = r.json();
    assert_eq!(doc["outcome"], "verification-failed", "{doc}");
    assert!(doc["crds"]["skipped"].as_str().unwrap().contains("GKE manages"), "{doc}");
    assert!(doc["controlPlane"]["releases"].as_array().unwrap().is_empty(), "{doc}");
    let gke = doc["verification"].as_array().unwrap().iter().find(|v| v["code"] == "gke-classes").expect("class check");
    assert_eq!(gke["status"], "fail");
    assert_eq!(crd_versions(&h), crds, "GKE install wrote CRDs");

    // Classes present (as GKE's controller creates them): exit 0, still nothing written.
    for class in ["gke-l7-rilb", "gke-l7-regional-external-managed"] {
        h.apply_yaml(&format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {{name: {class}}}\nspec: {{controllerName: networking.gke.io/gateway}}\n"
        ));
    }
    let crds = crd_versions(&h);
    let started = Instant::now();
    let r = gateway(&h, &["install", "--provider", "gke", "-o", "json"]);
    eprintln!("gke (classes present): {:.2}s", started.elapsed().as_secs_f64());
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["outcome"], "succeeded", "{doc}");
    let statuses: Vec<(&str, &str)> = doc["verification"]
        .as_array()
        .unwrap()
        .iter()
        .map(|v| (v["code"].as_str().unwrap(), v["status"].as_str().unwrap()))
        .collect();
    assert!(statuses.contains(&("gke-classes", "pass")), "{statuses:?}");
    assert!(statuses.contains(&("LLMD-GWC-007", "pass")), "{statuses:?}");
    assert!(doc["controlPlane"]["manualSteps"].as_array().unwrap().len() >= 3, "{doc}");
    assert_eq!(crd_versions(&h), crds, "GKE install wrote CRDs");
}

// ---------------------------------------------------------------------------------------------
// Providers outside llm-d's helmfiles: the recipe, printed.

#[test]
fn envoy_ai_gateway_and_nginx_gateway_fabric_print_their_recipes() {
    let h = harness();
    let r = gateway(h, &["install", "--provider", "envoy-ai-gateway", "--print"]);
    r.expect_code(0);
    let lines: Vec<&str> = r.stdout.lines().collect();
    assert!(lines[0].starts_with("helm upgrade --install eg oci://docker.io/envoyproxy/gateway-helm --namespace envoy-gateway-system --create-namespace --version v1.5.4 -f https://raw.githubusercontent.com/envoyproxy/ai-gateway/v0.4.0/manifests/envoy-gateway-values.yaml"), "{}", r.stdout);
    assert!(lines[0].contains("examples/inference-pool/envoy-gateway-values-addon.yaml"), "{}", r.stdout);
    assert!(lines[1].starts_with("helm upgrade --install aieg-crd oci://docker.io/envoyproxy/ai-gateway-crds-helm --namespace envoy-ai-gateway-system"), "{}", r.stdout);
    assert!(
        lines[2].starts_with("helm upgrade --install aieg oci://docker.io/envoyproxy/ai-gateway-helm"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("kubectl create clusterrole envoy-gateway-inferencepools --verb=get,list,watch --resource=inferencepools.inference.networking.k8s.io"), "{}", r.stdout);
    let r = gateway(h, &["install", "--provider", "ngf", "--print", "-o", "json"]);
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["outcome"], "printed");
    assert_eq!(
        doc["controlPlane"]["commands"][0],
        "helm upgrade --install ngf oci://ghcr.io/nginx/charts/nginx-gateway-fabric --namespace nginx-gateway --create-namespace --version 2.2.0 --set nginxGateway.gwAPIInferenceExtension.enable=true"
    );
}

// ---------------------------------------------------------------------------------------------
// Bundle downloads: the release-asset fallback and a mirror that misbehaves.

fn gateway_via(h: &Harness, base: &str, args: &[&str]) -> Run {
    let mut cmd = llmd_command(&["gateway"]);
    cmd.args(args).env("KUBECONFIG", &h.kubeconfig_admin).env("LLMD_CRDS_BASE_URL", base);
    run(cmd)
}

#[test]
fn release_assets_stand_in_for_a_missing_kustomization_and_bad_mirrors_change_nothing() {
    let h = take_lab();
    for (fault, expect) in [
        (Fault::Status(404), "not found: neither"),
        (Fault::Status(500), "the server answered 500"),
        (Fault::Garbage, "nothing was applied"),
    ] {
        let m = start_mirror(fault);
        let r = gateway_via(&h, &m.base, &["install", "--crds-only"]);
        r.expect_code(2);
        assert!(r.stderr.contains(expect), "{fault:?}: {}", r.stderr);
        assert!(r.stderr.contains("hint:"), "{fault:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{fault:?}: {}", r.stdout);
        assert!(crd_versions(&h).is_empty(), "{fault:?}: CRDs were written: {:?}", crd_versions(&h));
        let r = gateway_via(&h, &m.base, &["install", "--crds-only", "-o", "json"]);
        r.expect_code(2);
        assert_eq!(r.json()["outcome"], "failed", "{fault:?}");
    }

    let m = start_mirror(Fault::NoKustomization);
    let r = gateway_via(&h, &m.base, &["install", "--crds-only", "-o", "json"]);
    r.expect_code(0);
    let doc = r.json();
    let origins: Vec<&str> = doc["crds"]["bundles"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|b| b["origin"].as_array().unwrap().iter().map(|o| o.as_str().unwrap()))
        .collect();
    assert_eq!(
        origins,
        [
            format!("{}/kubernetes-sigs/gateway-api/releases/download/v1.3.0/standard-install.yaml", m.base),
            format!(
                "{}/kubernetes-sigs/gateway-api-inference-extension/releases/download/v1.0.1/manifests.yaml",
                m.base
            ),
        ]
    );
    let requested = m.requests.lock().unwrap().clone();
    assert!(
        requested.contains(&"/kubernetes-sigs/gateway-api/v1.3.0/config/crd/kustomization.yaml".to_string()),
        "{requested:?}"
    );
    assert_eq!(names(&crd_versions(&h)), PREREQ_CRDS.to_vec());
}

#[test]
fn doctor_and_status_recognise_nginx_gateway_fabric_and_envoy_ai_gateway() {
    let h = take_lab();
    gateway(&h, &["install", "--crds-only"]).expect_code(0);
    for (ns, name, image, args) in [
        (
            "nginx-gateway",
            "ngf-nginx-gateway-fabric",
            "ghcr.io/nginx/nginx-gateway-fabric:2.2.0",
            "[controller, --gatewayclass=nginx]",
        ),
        ("envoy-gateway-system", "envoy-gateway", "docker.io/envoyproxy/gateway:v1.5.4", "[server]"),
    ] {
        h.kubectl(&["create", "namespace", ns]);
        h.apply_yaml(&format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: {name}, namespace: {ns}}}\nspec:\n  selector: {{matchLabels: {{app: {name}}}}}\n  \
             template:\n    metadata: {{labels: {{app: {name}}}}}\n    spec:\n      containers: [{{name: controller, image: \"{image}\", args: {args}}}]\n"
        ));
    }
    gateway_class(&h, "nginx", "gateway.nginx.org/nginx-gateway-controller");
    gateway_class(&h, "eg", "gateway.envoyproxy.io/gatewayclass-controller");
    let (_, report) = doctor_report(&h, &[]);
    let findings: Vec<&Value> = report["findings"].as_array().unwrap().iter().collect();
    assert!(
        !findings.iter().any(|f| f["code"] == "LLMD-GWC-001"),
        "both classes belong to known providers: {findings:?}"
    );
    let ngf = findings
        .iter()
        .find(|f| f["code"] == "LLMD-GWC-005" && f["object"]["name"] == "ngf-nginx-gateway-fabric")
        .expect("NGF without --gateway-api-inference-extension is reported");
    assert!(
        ngf["hint"].as_str().unwrap().contains("oci://ghcr.io/nginx/charts/nginx-gateway-fabric")
            && ngf["hint"].as_str().unwrap().contains("--set nginxGateway.gwAPIInferenceExtension.enable=true"),
        "{ngf}"
    );
    assert!(
        findings.iter().any(|f| f["code"] == "LLMD-GWC-005" && f["object"]["name"] == "envoy-gateway"),
        "Envoy Gateway's backendResources are named: {findings:?}"
    );

    let mut cmd = llmd_command(&["gateway", "status", "-o", "json"]);
    cmd.env("KUBECONFIG", &h.kubeconfig_admin);
    let s = run(cmd);
    s.expect_code(0);
    let s = s.json();
    let providers: Vec<(&str, &str)> = s["providers"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| (p["provider"].as_str().unwrap(), p["inference"].as_str().unwrap()))
        .collect();
    assert!(providers.contains(&("NGINX Gateway Fabric", "off")), "{providers:?}");
    assert!(providers.iter().any(|p| p.0 == "Envoy AI Gateway"), "{providers:?}");
}

// ---------------------------------------------------------------------------------------------
// NGINX Gateway Fabric and Envoy AI Gateway through real helm (stand-in charts and values files).

/// `install --provider P --control-plane-only -o json` while the controller `(namespace, Deployment,
/// class, controllerName)` comes up; the document, after asserting success. Prints the time taken.
fn control_plane_only(
    h: &Harness,
    charts: &std::path::Path,
    provider: &str,
    (ns, deployment, class, controller): (&str, &str, &str, &str),
) -> Value {
    let player = play_controller(h.kubeconfig_admin.clone(), h.kubectl_path(), ns, deployment, class, controller);
    let started = Instant::now();
    let r = gateway_helm(
        h,
        Some(charts),
        &["install", "--provider", provider, "--control-plane-only", "--timeout", "90s", "-o", "json"],
    );
    eprintln!("{provider}: control plane through helm, verified: {:.2}s", started.elapsed().as_secs_f64());
    player.join().unwrap();
    r.expect_code(0);
    let doc = r.json();
    assert_eq!(doc["outcome"], "succeeded", "{doc}");
    doc
}

#[test]
fn nginx_gateway_fabric_and_envoy_ai_gateway_through_helm() {
    let h = take_lab();
    let charts = manifest_dir().join("tests/charts");
    gateway(&h, &["install", "--crds-only"]).expect_code(0);
    let crds = crd_versions(&h);

    // NGF: one chart, the switch as a container arg.
    let nginx = ("nginx-gateway", "ngf-nginx-gateway-fabric", "nginx", "gateway.nginx.org/nginx-gateway-controller");
    let doc = control_plane_only(&h, &charts, "nginx-gateway-fabric", nginx);
    assert_eq!(doc["controlPlane"]["releases"][0]["version"], "2.2.0");
    let values = helm_json(&h, &["get", "values", "ngf", "-n", "nginx-gateway"]);
    assert_eq!(values["nginxGateway"]["gwAPIInferenceExtension"]["enable"], true, "{values}");
    let switch = doc["verification"].as_array().unwrap().iter().find(|v| v["code"] == "LLMD-GWC-005").unwrap();
    assert_eq!(switch["status"], "pass", "{doc}");
    assert_eq!(crd_versions(&h), crds, "--control-plane-only touched CRDs");

    // Envoy AI Gateway: Envoy Gateway with the values files, the AI Gateway charts in their own
    // namespace, then the InferencePool RBAC for Envoy Gateway's ServiceAccount.
    let envoy = ("envoy-gateway-system", "envoy-gateway", "eg", "gateway.envoyproxy.io/gatewayclass-controller");
    let doc = control_plane_only(&h, &charts, "envoy-ai-gateway", envoy);
    let rels: Vec<(&str, &str, &str)> = doc["controlPlane"]["releases"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| (r["release"].as_str().unwrap(), r["namespace"].as_str().unwrap(), r["version"].as_str().unwrap()))
        .collect();
    assert_eq!(
        rels,
        [
            ("eg", "envoy-gateway-system", "v1.5.4"),
            ("aieg-crd", "envoy-ai-gateway-system", "v0.4.0"),
            ("aieg", "envoy-ai-gateway-system", "v0.4.0")
        ]
    );
    let values = helm_json(&h, &["get", "values", "eg", "-n", "envoy-gateway-system"]);
    assert!(values.to_string().contains("\"kind\":\"InferencePool\""), "the add-on values were not passed: {values}");
    assert_eq!(releases_in(&h, "envoy-ai-gateway-system").len(), 2);
    let can = h.kubectl(&[
        "auth",
        "can-i",
        "watch",
        "inferencepools.inference.networking.k8s.io",
        "--as=system:serviceaccount:envoy-gateway-system:envoy-gateway",
    ]);
    assert_eq!(String::from_utf8_lossy(&can.stdout).trim(), "yes", "{}", String::from_utf8_lossy(&can.stderr));
    assert_eq!(crd_versions(&h), crds, "--control-plane-only touched CRDs");

    // Uninstall both, across their namespaces.
    let r = gateway_helm(&h, None, &["uninstall", "--control-plane-only", "-o", "json"]);
    r.expect_code(0);
    let removed: Vec<String> = r.json()["removals"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| format!("{}/{}", r["namespace"].as_str().unwrap_or(""), r["name"].as_str().unwrap()))
        .collect();
    assert_eq!(
        removed,
        [
            "nginx-gateway/ngf",
            "envoy-ai-gateway-system/aieg",
            "envoy-ai-gateway-system/aieg-crd",
            "envoy-gateway-system/eg",
            "/envoy-gateway-inferencepools",
            "/envoy-gateway-inferencepools"
        ]
    );
    let out = h.kubectl(&[
        "get",
        "clusterrole,clusterrolebinding",
        "envoy-gateway-inferencepools",
        "--ignore-not-found",
        "-o",
        "name",
    ]);
    assert!(out.stdout.is_empty(), "RBAC left behind: {}", String::from_utf8_lossy(&out.stdout));
}
