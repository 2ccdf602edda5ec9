//! `doctor --fix` of GatewayClass findings on the lab harness, with real helm (v3.19.5) and the
//! stand-in charts of `tests/charts`: the inference switch (LLMD-GWC-005) for istiod and
//! agentgateway, a control-plane install (LLMD-GWC-001), a controller upgrade and a refused
//! downgrade (LLMD-GWC-006), a Gateway pointed at the one capable class (LLMD-GWC-002), and a user
//! without helm's rights refused before any write. helm runs through a wrapper that logs every
//! call, so "the rerun calls no helm" is checked, not assumed.

use crate::common::{code_for, doctor_command, manifest_dir, report_of, transcript, with_code};
use crate::fixtures::{gateway_class, install_prereq, v1_pool_yaml};
use crate::gateway::{helm, helm_json, play_controller, take_lab};
use crate::harness::{assert_success, Harness};
use crate::run::{run, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

const ISTIO_SWITCH: &str = "ENABLE_GATEWAY_API_INFERENCE_EXTENSION";

/// A v1 InferencePool in its own namespace (pools make GatewayClass findings errors).
fn pool(h: &Harness, prefix: &str) -> String {
    let ns = h.namespace(prefix);
    h.apply_yaml(&v1_pool_yaml(&ns, "llm-pool", "vllm"));
    ns
}

/// A shell wrapper around the real helm that appends each call's arguments to a log.
struct LoggedHelm {
    path: PathBuf,
    log: PathBuf,
}

impl LoggedHelm {
    fn new(name: &str) -> Self {
        let dir = std::env::temp_dir().join(format!("llmd-e2e-helm-{name}-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let path = dir.join("helm");
        let log = dir.join("calls.log");
        let _ = std::fs::remove_file(&log);
        std::fs::write(
            &path,
            format!("#!/bin/sh\necho \"$*\" >> '{}'\nexec '{}' \"$@\"\n", log.display(), helm().display()),
        )
        .unwrap();
        use std::os::unix::fs::PermissionsExt;
        std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
        LoggedHelm { path, log }
    }

    /// The calls since the last `take`.
    fn take(&self) -> Vec<String> {
        let calls = std::fs::read_to_string(&self.log).unwrap_or_default();
        let _ = std::fs::remove_file(&self.log);
        calls.lines().map(str::to_string).collect()
    }
}

/// `doctor -A` as `kubeconfig` with the helm wrapper and the stand-in charts.
fn doctor_as(kubeconfig: &Path, helm: &LoggedHelm, args: &[&str]) -> Run {
    let mut cmd = doctor_command(kubeconfig, &["-A"]);
    cmd.args(args);
    if args.iter().any(|a| a.starts_with("--fix")) {
        cmd.arg("--helm").arg(&helm.path).arg("--chart-source").arg(manifest_dir().join("tests/charts"));
    }
    run(cmd)
}

fn doctor(h: &Harness, helm: &LoggedHelm, args: &[&str]) -> Run {
    doctor_as(&h.kubeconfig_admin, helm, args)
}

/// doctor -A -o json as admin, the exit code asserted against the report.
fn report(h: &Harness, helm: &LoggedHelm) -> Value {
    let args = ["-o", "json"];
    report_of(&doctor(h, helm, &args), &args)
}

/// The exit code doctor gives on the lab as it is now: what `--fix --dry-run` exits with before a
/// repair, and `--fix --yes` after it (doctor runs again).
fn verdict(h: &Harness, helm: &LoggedHelm) -> i32 {
    code_for(&report(h, helm), &[])
}

/// The objects of doctor's findings with `code`, with their fixable flag.
fn findings(h: &Harness, helm: &LoggedHelm, code: &str) -> Vec<(String, bool)> {
    with_code(&report(h, helm), code)
        .into_iter()
        .map(|f| (f["object"]["name"].as_str().unwrap_or("").to_string(), f["fixable"] == true))
        .collect::<std::collections::BTreeSet<_>>()
        .into_iter()
        .collect()
}

/// helm as admin (setting up what a user would have installed).
fn helm_cmd(h: &Harness, args: &[&str]) {
    let out =
        std::process::Command::new(helm()).args(args).arg("--kubeconfig").arg(&h.kubeconfig_admin).output().unwrap();
    assert!(out.status.success(), "helm {args:?}: {}", String::from_utf8_lossy(&out.stderr));
}

fn values(h: &Harness, release: &str, ns: &str) -> Value {
    helm_json(h, &["get", "values", release, "-n", ns])
}

fn revision(h: &Harness, release: &str, ns: &str) -> String {
    let list = helm_json(h, &["list", "-n", ns]);
    let r = list.as_array().unwrap().iter().find(|r| r["name"] == release).expect("release listed");
    r["revision"].as_str().unwrap().to_string()
}

fn env_of(h: &Harness, ns: &str, deployment: &str, var: &str) -> Option<String> {
    let out = h.kubectl(&["get", "deployment", deployment, "-n", ns, "-o", "json"]);
    assert_success(&out, "kubectl get deployment");
    let d: Value = serde_json::from_slice(&out.stdout).unwrap();
    d["spec"]["template"]["spec"]["containers"][0]["env"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|e| e["name"] == var)
        .and_then(|e| e["value"].as_str().map(str::to_string))
}

fn image_of(h: &Harness, ns: &str, deployment: &str) -> String {
    let out = h.kubectl(&[
        "get",
        "deployment",
        deployment,
        "-n",
        ns,
        "-o",
        "jsonpath={.spec.template.spec.containers[0].image}",
    ]);
    assert_success(&out, "kubectl get deployment");
    String::from_utf8_lossy(&out.stdout).into_owned()
}

#[test]
fn inference_switch_is_turned_on_through_the_helm_release_gwc_005() {
    let h = take_lab();
    let logged = LoggedHelm::new("gwc005");
    let charts = manifest_dir().join("tests/charts");
    install_prereq(&h);
    let ns = pool(&h, "gwc005");
    gateway_class(&h, "istio", "istio.io/gateway-controller");
    gateway_class(&h, "agentgateway", "agentgateway.dev/agentgateway");
    // Both controllers installed by helm with the switch off (the charts' defaults).
    let istiod_chart = charts.join("istiod");
    let agw_chart = charts.join("agentgateway");
    helm_cmd(
        &h,
        &[
            "install",
            "istiod",
            istiod_chart.to_str().unwrap(),
            "-n",
            "istio-system",
            "--create-namespace",
            "--set",
            "pilot.env.PILOT_TRACE_SAMPLING=1",
        ],
    );
    helm_cmd(
        &h,
        &["install", "agentgateway", agw_chart.to_str().unwrap(), "-n", "agentgateway-system", "--create-namespace"],
    );
    // agentgateway's Deployment without helm's annotations: the release is found with `helm list`.
    let out = h.kubectl(&[
        "annotate",
        "deployment",
        "agentgateway",
        "-n",
        "agentgateway-system",
        "meta.helm.sh/release-name-",
        "meta.helm.sh/release-namespace-",
    ]);
    assert_success(&out, "kubectl annotate");
    assert_eq!(findings(&h, &logged, "LLMD-GWC-005"), vec![("agentgateway".into(), true), ("istiod".into(), true)]);
    let istio_before = values(&h, "istiod", "istio-system");
    let agw_before = values(&h, "agentgateway", "agentgateway-system");

    // A user who may read but not run helm: refused before any write, naming what is missing.
    let reader = "rules:\n- apiGroups: ['', apps, apiextensions.k8s.io, gateway.networking.k8s.io, inference.networking.k8s.io, inference.networking.x-k8s.io]\n  resources: [deployments, customresourcedefinitions, gatewayclasses, gateways, httproutes, inferencepools, services, namespaces]\n  verbs: [get, list, watch]\n";
    h.apply_yaml(&format!("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: llmd-e2e-gwc-reader}}\n{reader}"));
    h.apply_yaml("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: llmd-e2e-gwc-reader}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: llmd-e2e-gwc-reader}\nsubjects: [{apiGroup: rbac.authorization.k8s.io, kind: User, name: viewer}]\n");
    let r = doctor_as(&h.kubeconfig_viewer, &logged, &["--fix=LLMD-GWC-005", "--yes"]);
    let _ = h.kubectl(&["delete", "clusterrolebinding,clusterrole", "llmd-e2e-gwc-reader", "--ignore-not-found"]);
    r.expect_code(2);
    assert!(r.stderr.contains("may not") && r.stderr.contains("secrets in namespace istio-system"), "{}", r.stderr);
    assert!(r.stderr.contains("patch deployments.apps in namespace agentgateway-system"), "{}", r.stderr);
    assert!(r.stderr.contains("nothing was changed"), "{}", r.stderr);
    assert!(logged.take().iter().all(|c| !c.starts_with("upgrade")), "no helm upgrade as the viewer");
    assert_eq!(revision(&h, "istiod", "istio-system"), "1");

    // --dry-run: the helm commands and the values diff; helm get values unchanged, no new revision.
    let r = doctor(&h, &logged, &["--fix", "--dry-run"]);
    eprintln!("GWC-005 --fix --dry-run (istiod + agentgateway): {:.2}s", r.elapsed.as_secs_f64());
    r.expect_code(verdict(&h, &logged));
    assert!(
        r.stdout.contains(&format!("helm upgrade istiod {} --namespace istio-system --reuse-values --version 0.0.1 --set pilot.env.{ISTIO_SWITCH}=true", istiod_chart.display())),
        "{}",
        r.stdout
    );
    assert!(
        r.stdout.contains(&format!("helm upgrade agentgateway {} --namespace agentgateway-system --reuse-values --version 0.0.1 --set inferenceExtension.enabled=true", agw_chart.display())),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("--- helm get values istiod -n istio-system (live)"), "{}", r.stdout);
    assert!(r.stdout.contains(&format!("+    {ISTIO_SWITCH}: true")), "{}", r.stdout);
    assert!(r.stdout.contains("helm's dry run (--dry-run=server) rendered the release"), "{}", r.stdout);
    assert!(r.stderr.contains("dry run: nothing was changed"), "{}", r.stderr);
    let repo = manifest_dir();
    insta::assert_snapshot!("plan_gwc_005_dry_run", transcript(&r, &[(repo.to_str().unwrap(), "REPO"), (&ns, "NS")]));
    let calls = logged.take();
    assert!(calls.iter().any(|c| c.contains("--dry-run=server")), "{calls:?}");
    assert!(calls.iter().filter(|c| c.starts_with("upgrade")).all(|c| c.contains("--dry-run=server")), "{calls:?}");
    assert_eq!(values(&h, "istiod", "istio-system"), istio_before);
    assert_eq!(values(&h, "agentgateway", "agentgateway-system"), agw_before);
    assert_eq!(revision(&h, "istiod", "istio-system"), "1");
    assert_eq!(revision(&h, "agentgateway", "agentgateway-system"), "1");

    // --yes: both releases upgraded at their installed chart version, the other values kept.
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-005", "--yes"]);
    eprintln!(
        "GWC-005 --fix --yes (istiod + agentgateway, 2 helm upgrades, doctor again): {:.2}s",
        r.elapsed.as_secs_f64()
    );
    r.expect_code(verdict(&h, &logged));
    assert!(
        r.stderr.contains(
            "✔ LLMD-GWC-005 · helm upgrade the release of Deployment istio-system/istiod: helm upgraded istiod 0.0.1"
        ),
        "{}",
        r.stderr
    );
    assert!(!r.stderr.contains('✖'), "{}", r.stderr);
    let v = values(&h, "istiod", "istio-system");
    assert_eq!(v["pilot"]["env"][ISTIO_SWITCH], true, "{v}");
    assert_eq!(v["pilot"]["env"]["PILOT_TRACE_SAMPLING"], 1, "other values kept: {v}");
    assert_eq!(values(&h, "agentgateway", "agentgateway-system")["inferenceExtension"]["enabled"], true);
    assert_eq!(env_of(&h, "istio-system", "istiod", ISTIO_SWITCH).as_deref(), Some("true"));
    assert_eq!(env_of(&h, "agentgateway-system", "agentgateway", "AGW_ENABLE_INFER_EXT").as_deref(), Some("true"));
    assert!(findings(&h, &logged, "LLMD-GWC-005").is_empty());

    // Rerun: nothing to fix for these codes, and helm is not called at all.
    logged.take();
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-005,LLMD-GWC-006", "--yes"]);
    assert!(r.stdout.contains("nothing to fix"), "{}", r.stdout);
    r.expect_code(verdict(&h, &logged));
    assert_eq!(logged.take(), Vec::<String>::new());
    assert_eq!(revision(&h, "istiod", "istio-system"), "2");
}

#[test]
fn missing_control_plane_is_installed_only_for_the_named_provider_gwc_001() {
    let h = take_lab();
    let logged = LoggedHelm::new("gwc001");
    install_prereq(&h);
    pool(&h, "gwc001");
    assert_eq!(findings(&h, &logged, "LLMD-GWC-001"), vec![("istio".into(), true)]);

    // Without --provider: the choices, nothing installed, no helm call.
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-001", "--yes"]);
    r.expect_code(2);
    assert!(
        r.stdout
            .contains("rerun with --fix --provider istio|agentgateway|kgateway|nginx-gateway-fabric|envoy-ai-gateway"),
        "{}",
        r.stdout
    );
    assert!(r.stdout.contains("nothing to fix (1 change(s) refused above)"), "{}", r.stdout);
    assert_eq!(logged.take(), Vec::<String>::new());

    // --provider agentgateway --dry-run: gateway install's helm commands, helm's dry run, nothing installed.
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-001", "--provider", "agentgateway", "--dry-run"]);
    r.expect_code(verdict(&h, &logged));
    assert!(r.stdout.contains("LLMD-GWC-001 · install a gateway control plane"), "{}", r.stdout);
    assert!(r.stdout.contains("helm upgrade --install agentgateway-crds"), "{}", r.stdout);
    assert!(r.stdout.contains("--set inferenceExtension.enabled=true"), "{}", r.stdout);
    assert!(helm_json(&h, &["list", "-A"]).as_array().unwrap().is_empty());

    // --yes: installed, waited for (a thread plays the controller), doctor again clean for GWC-001.
    let player = play_controller(
        h.kubeconfig_admin.clone(),
        h.kubectl_path(),
        "agentgateway-system",
        "agentgateway",
        "agentgateway",
        "agentgateway.dev/agentgateway",
    );
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-001", "--provider", "agentgateway", "--yes"]);
    player.join().unwrap();
    eprintln!(
        "GWC-001 --fix --provider agentgateway --yes (2 helm installs, wait, doctor again): {:.2}s",
        r.elapsed.as_secs_f64()
    );
    r.expect_code(verdict(&h, &logged));
    assert!(
        r.stderr.contains("✔ LLMD-GWC-001 · install a gateway control plane: installed agentgateway-crds v1.0.0, agentgateway v1.0.0 in namespace agentgateway-system"),
        "{}",
        r.stderr
    );
    assert_eq!(helm_json(&h, &["list", "-A"]).as_array().unwrap().len(), 2);
    assert!(findings(&h, &logged, "LLMD-GWC-001").is_empty());
    assert!(findings(&h, &logged, "LLMD-GWC-005").is_empty(), "installed with the switch on");
}

/// A copy of the istiod stand-in chart at `version`, whose image tag defaults to `tag`.
fn istiod_chart_at(version: &str, tag: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("llmd-e2e-istiod-{version}-{}", std::process::id())).join("istiod");
    std::fs::create_dir_all(dir.join("templates")).unwrap();
    let src = manifest_dir().join("tests/charts/istiod");
    let chart = std::fs::read_to_string(src.join("Chart.yaml"))
        .unwrap()
        .replace("version: 0.0.1", &format!("version: {version}"));
    std::fs::write(dir.join("Chart.yaml"), chart).unwrap();
    let values = std::fs::read_to_string(src.join("values.yaml"))
        .unwrap()
        .replace("tag: \"1.28.0\"", &format!("tag: \"{tag}\""));
    std::fs::write(dir.join("values.yaml"), values).unwrap();
    for t in ["deployment.yaml", "values-configmap.yaml"] {
        std::fs::copy(src.join("templates").join(t), dir.join("templates").join(t)).unwrap();
    }
    dir
}

#[test]
fn old_controller_is_upgraded_never_downgraded_and_gateway_class_repointed_gwc_006_002() {
    let h = take_lab();
    let logged = LoggedHelm::new("gwc006");
    install_prereq(&h);
    let ns = pool(&h, "gwc006");
    gateway_class(&h, "istio", "istio.io/gateway-controller");
    let switch = format!("pilot.env.{ISTIO_SWITCH}=true");

    // Chart 1.29.0 whose image tag the user pinned to 1.27.3: the profile's 1.28.0 would be a downgrade.
    let newer = istiod_chart_at("1.29.0", "1.29.0");
    helm_cmd(
        &h,
        &[
            "install",
            "istiod",
            newer.to_str().unwrap(),
            "-n",
            "istio-system",
            "--create-namespace",
            "--set",
            &switch,
            "--set",
            "tag=1.27.3",
        ],
    );
    assert_eq!(findings(&h, &logged, "LLMD-GWC-006"), vec![("istiod".into(), true)]);
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-006", "--yes"]);
    r.expect_code(2);
    assert!(
        r.stdout.contains("downgrade refused: the release's chart is 1.29.0, newer than the profile's 1.28.0"),
        "{}",
        r.stdout
    );
    assert!(logged.take().iter().all(|c| !c.starts_with("upgrade")));
    assert_eq!(revision(&h, "istiod", "istio-system"), "1");

    // Chart 1.27.3 (the user's values: only the switch): upgraded to the profile's 1.28.0, values kept.
    let old = istiod_chart_at("1.27.3", "1.27.3");
    helm_cmd(
        &h,
        &["upgrade", "istiod", old.to_str().unwrap(), "-n", "istio-system", "--reset-values", "--set", &switch],
    );
    assert_eq!(image_of(&h, "istio-system", "istiod"), "example.invalid/istiod:1.27.3");
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-006", "--dry-run"]);
    r.expect_code(verdict(&h, &logged));
    assert!(r.stdout.contains("--reset-then-reuse-values --version 1.28.0"), "{}", r.stdout);
    assert!(r.stdout.contains("values unchanged"), "{}", r.stdout);
    assert_eq!(revision(&h, "istiod", "istio-system"), "2");
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-006", "--yes"]);
    eprintln!("GWC-006 --fix --yes (helm upgrade 1.27.3 → 1.28.0, doctor again): {:.2}s", r.elapsed.as_secs_f64());
    assert!(r.stderr.contains("✔ LLMD-GWC-006"), "{}\n{}", r.stdout, r.stderr);
    r.expect_code(verdict(&h, &logged));
    assert_eq!(image_of(&h, "istio-system", "istiod"), "example.invalid/istiod:1.28.0");
    assert_eq!(values(&h, "istiod", "istio-system")["pilot"]["env"][ISTIO_SWITCH], true);
    assert!(findings(&h, &logged, "LLMD-GWC-006").is_empty());
    assert!(findings(&h, &logged, "LLMD-GWC-005").is_empty());

    // LLMD-GWC-002: a Gateway naming a class that does not exist, one capable class: repointed.
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: llm-d-inference-gateway, namespace: {ns}}}\nspec:\n  gatewayClassName: isito\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    ));
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-002", "--dry-run"]);
    r.expect_code(verdict(&h, &logged));
    assert!(r.stdout.contains("+  gatewayClassName: istio"), "{}", r.stdout);
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-002", "--yes"]);
    eprintln!("GWC-002 --fix --yes (patch gatewayClassName, doctor again): {:.2}s", r.elapsed.as_secs_f64());
    assert!(r.stderr.contains("✔ LLMD-GWC-002"), "{}", r.stderr);
    r.expect_code(verdict(&h, &logged));
    let out =
        h.kubectl(&["get", "gateway", "llm-d-inference-gateway", "-n", &ns, "-o", "jsonpath={.spec.gatewayClassName}"]);
    assert_eq!(String::from_utf8_lossy(&out.stdout), "istio");
    assert!(findings(&h, &logged, "LLMD-GWC-002").is_empty());
    let r = doctor(&h, &logged, &["--fix=LLMD-GWC-002,LLMD-GWC-006", "--yes"]);
    assert!(r.stdout.contains("nothing to fix"), "{}", r.stdout);
    r.expect_code(verdict(&h, &logged));
}
