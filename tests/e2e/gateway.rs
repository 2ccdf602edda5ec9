//! `gateway install | status | uninstall` against the real kube-apiserver.
//!
//! Everything that installs CRDs runs on the exclusive lab harness and leaves it empty. The CRDs
//! come from the Go module cache through the loopback HTTP mirror of `mirror.rs`, laid out like
//! raw.githubusercontent.com (`/<owner>/<repo>/<ref>/<path>`), so the real download path runs.
//! The control-plane scenarios use real helm (built with `go install`) and the stand-in charts of
//! `tests/charts`.

use crate::fixtures::go_module_dir;
use crate::harness::{assert_success, harness, Harness};
use crate::mirror::mirror;
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

/// name → resourceVersion of every CRD.
fn crd_versions(h: &Harness) -> Vec<(String, String)> {
    let out = h.kubectl(&["get", "crd", "-o", "json"]);
    assert_success(&out, "kubectl get crd");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap();
    let mut list: Vec<(String, String)> = v["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["metadata"]["name"].as_str().unwrap().to_string(),
                c["metadata"]["resourceVersion"].as_str().unwrap().to_string(),
            )
        })
        .collect();
    list.sort();
    list
}

fn crd_json(h: &Harness, name: &str) -> Value {
    let out = h.kubectl(&["get", "crd", name, "-o", "json", "--show-managed-fields"]);
    assert_success(&out, &format!("kubectl get crd {name}"));
    serde_json::from_slice(&out.stdout).unwrap()
}

fn names(list: &[(String, String)]) -> Vec<&str> {
    list.iter().map(|(n, _)| n.as_str()).collect()
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

    // status shows what is installed.
    let r = gateway(&h, &["status", "-o", "json"]);
    r.expect_code(0);
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

pub(crate) fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

fn tools_dir() -> PathBuf {
    let target = std::env::var_os("CARGO_TARGET_DIR").map_or(manifest_dir().join("target"), |t| {
        let t = PathBuf::from(t);
        if t.is_absolute() {
            t
        } else {
            manifest_dir().join(t)
        }
    });
    target.join("tools")
}

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
    let r = run(cmd);
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

    // status: the provider with its version and inference switch.
    let mut cmd = llmd_command(&["gateway", "status", "-o", "json", "--helm"]);
    cmd.arg(&helm).env("KUBECONFIG", &h.kubeconfig_admin);
    let s = run(cmd);
    s.expect_code(0);
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
