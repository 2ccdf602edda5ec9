//! Cluster-scoped doctor scenarios: CRD bundles, storedVersions, admission policies and webhooks,
//! GatewayClasses and gateway controllers, on the exclusive lab harness (`harness::lab()`), plus the
//! permission scenarios (viewer, no grants) on the shared harness.
//!
//! Every lab test holds the lab for its whole run through `Lab`, which empties the lab when it is
//! created and again when it is dropped (also while a failed assertion unwinds): admission policies,
//! webhooks, Deployments and every CRD (and with them every GatewayClass, pool, route) are deleted,
//! and the next test starts only once the CRDs are gone.
//!
//! Upstream CRDs come from the Go module cache (Gateway API v1.3.0 / v1.5.1, GAIE v0.5.1 / v1.0.1 /
//! v1.5.0). The hand-written CRDs are the GRPCRoute stand-in of the storedVersions scenario
//! (`grpcroute_crd`): one CRD whose storage moves from v1alpha2 to v1 within a single test, as
//! Gateway API v1.0 (experimental, v1alpha2) → v1.1 (storage v1) did upstream; and a Gateway CRD
//! without a spec schema (`GATEWAY_STAND_IN`), so the API server serves a Gateway doctor cannot read.
//!
//! Notes from the real API server (v1.36.3):
//! - Since Kubernetes 1.33 the storedVersions refusal reads `missing from spec.versions; v1alpha2 was
//!   previously a storage version, …` (before: `must appear in spec.versions`); the scenarios assert
//!   the text this server prints.
//! - LLMD-CRD-010 is produced by writing status.storedVersions through the status subresource, which
//!   (unlike CRD updates) does not validate it against spec.versions.
//! - `kubectl annotate` cannot set a ~210 KiB annotation: Linux caps one argv string at 128 KiB
//!   (MAX_ARG_STRLEN), so the CRD-013 scenario sets it with `kubectl patch --patch-file`, which
//!   writes the same annotation.

use crate::common::{
    check_status, codes_in, doctor as doctor_table, doctor_as, doctor_command, findings, line, report_of, with_code,
};
use crate::fixtures::{
    accepted_class, apply_files, cluster, condition, gaie_crds, gateway_api_crds, gateway_class, gateway_standard,
    go_module_dir, install, install_prereq, set_status, v1_pool_yaml, wait_established,
};
use crate::harness::{assert_success, Harness};
use crate::lab::{wait_policy_enforced, Lab};
use crate::run::{run, Run};
use crate::upstream::grpcroute_crd;
use serde_json::{json, Value};
use std::path::PathBuf;

// ---------------------------------------------------------------------------------------------
// The lab, held exclusively and left empty.

// ---------------------------------------------------------------------------------------------
// CRD files.

/// One Gateway API file: `channel` "standard" or "experimental", `file` such as "httproutes".
fn gateway_file(version: &str, channel: &str, file: &str) -> PathBuf {
    let p = go_module_dir("sigs.k8s.io/gateway-api", version)
        .join(format!("config/crd/{channel}/gateway.networking.k8s.io_{file}.yaml"));
    assert!(p.is_file(), "{} missing", p.display());
    p
}

/// One GAIE CRD file, e.g. ("v1.0.1", "inference.networking.k8s.io_inferencepools").
pub(crate) fn gaie_file(version: &str, stem: &str) -> PathBuf {
    let p = go_module_dir("sigs.k8s.io/gateway-api-inference-extension", version)
        .join(format!("config/crd/bases/{stem}.yaml"));
    assert!(p.is_file(), "{} missing", p.display());
    p
}

pub(crate) const POOL_V1: &str = "inference.networking.k8s.io_inferencepools";
const POOL_X: &str = "inference.networking.x-k8s.io_inferencepools";
const MODELS_X: &str = "inference.networking.x-k8s.io_inferencemodels";

/// `kubectl apply --server-side --force-conflicts` of files, returning the output (may fail).
fn try_apply(h: &Harness, files: &[PathBuf], dry_run: bool) -> std::process::Output {
    let mut args = vec!["apply".to_string(), "--server-side".into(), "--force-conflicts".into()];
    if dry_run {
        args.push("--dry-run=server".into());
    }
    for f in files {
        args.push("-f".into());
        args.push(f.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    h.kubectl(&refs)
}

// ---------------------------------------------------------------------------------------------
// Objects.

fn ensure_namespace(h: &Harness, ns: &str) {
    h.apply_yaml(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"));
}

/// An inference.networking.k8s.io/v1 InferencePool (needs the GAIE v1 CRD).
fn v1_pool(h: &Harness, ns: &str, name: &str) {
    h.apply_yaml(&v1_pool_yaml(ns, name, name));
}

/// A controller Deployment (one container) in `ns`; `env` as (name, value).
pub(crate) fn controller(h: &Harness, ns: &str, name: &str, image: &str, env: &[(&str, &str)]) {
    ensure_namespace(h, ns);
    let env: String = env.iter().map(|(k, v)| format!("\n        - {{name: {k}, value: \"{v}\"}}")).collect();
    let env = if env.is_empty() { " []".to_string() } else { env };
    h.apply_yaml(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: {name}\n  namespace: {ns}\nspec:\n  \
         selector: {{matchLabels: {{app: {name}}}}}\n  template:\n    metadata: {{labels: {{app: {name}}}}}\n    \
         spec:\n      containers:\n      - name: controller\n        image: {image}\n        env:{env}\n"
    ));
}

// ---------------------------------------------------------------------------------------------
// Running doctor and reading its report.

/// doctor as admin on every namespace, `-o json`, with extra args and environment; the exit code
/// asserted against the report (`common::report_of`); every kubectl command its hints print must run
/// on the lab (`hints::assert_hints_run`).
pub(crate) fn doctor_env(h: &Harness, extra: &[&str], env: &[(&str, &str)]) -> (Run, Value) {
    let mut args = vec!["-o", "json"];
    args.extend_from_slice(extra);
    let mut cmd = doctor_command(&h.kubeconfig_admin, &args);
    for (k, v) in env {
        cmd.env(k, v);
    }
    let r = run(cmd);
    let v = report_of(&r, &args);
    crate::hints::assert_hints_run(h, &v);
    (r, v)
}

fn doctor(h: &Harness, extra: &[&str]) -> (Run, Value) {
    doctor_env(h, extra, &[])
}

/// "CODE severity Kind ns/name: message" of every finding, for failure messages.
fn summary(report: &Value) -> Vec<String> {
    findings(report).into_iter().map(line).collect()
}

/// The finding with `code` about `kind`/`name`, asserting its severity.
fn finding<'a>(report: &'a Value, code: &str, kind: &str, name: &str, severity: &str) -> &'a Value {
    let f = with_code(report, code)
        .into_iter()
        .find(|f| f["object"]["kind"] == kind && f["object"]["name"] == name)
        .unwrap_or_else(|| panic!("expected {code} about {kind}/{name}; got {:#?}", summary(report)));
    assert_eq!(f["severity"], severity, "{code} severity: {f:#}");
    f
}

fn text<'a>(f: &'a Value, field: &str) -> &'a str {
    f[field].as_str().unwrap_or_else(|| panic!("no {field} in {f:#}"))
}

/// Assert `f[field]` contains every fragment.
fn says(f: &Value, field: &str, fragments: &[&str]) {
    let t = text(f, field);
    for frag in fragments {
        assert!(t.contains(frag), "{} {field} lacks {frag:?}: {t}", f["code"]);
    }
}

fn assert_no(report: &Value, code: &str) {
    let found = with_code(report, code);
    assert!(found.is_empty(), "unexpected {code}: {found:#?}");
}

fn crd_kind() -> &'static str {
    "CustomResourceDefinition"
}

// ---------------------------------------------------------------------------------------------
// CRDs: missing, alpha-only, objective, profile age, env override.

#[test]
fn empty_cluster_lacks_gateway_and_pool_crds() {
    let h = Lab::take();
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-CRD-001", crd_kind(), "gatewayclasses.gateway.networking.k8s.io", "error");
    says(f, "message", &["No Gateway API CRDs are installed", "v1.3.0", "httproutes"]);
    says(
        f,
        "hint",
        &[
            "kubectl apply --server-side -k \"https://github.com/kubernetes-sigs/gateway-api/config/crd?ref=v1.3.0\"",
            "kubectl llmd gateway install",
        ],
    );
    assert_eq!(f["fixable"], true);
    let f = finding(&report, "LLMD-CRD-002", crd_kind(), "inferencepools.inference.networking.k8s.io", "error");
    says(f, "message", &["no matches for kind \"InferencePool\"", "inference.networking.k8s.io/v1"]);
    says(
        f,
        "hint",
        &[
            "kubectl apply --server-side -k \"https://github.com/kubernetes-sigs/gateway-api-inference-extension/config/crd?ref=v1.0.1\"",
            "kubectl llmd gateway install",
        ],
    );
    // The root causes only: no alpha-pool or objective finding on top.
    assert_no(&report, "LLMD-CRD-004");
    assert_no(&report, "LLMD-CRD-005");

    let t = doctor_table(&h, &[]);
    t.expect_code(1);
    assert!(
        t.stdout.contains("✖ The profile's Gateway API standard-channel CRDs are installed [LLMD-CRD-001]"),
        "{}",
        t.stdout
    );
    assert!(t.stdout.contains("✖ An InferencePool CRD is installed [LLMD-CRD-002]"), "{}", t.stdout);
    assert!(t.stdout.contains("hint: kubectl apply --server-side -k"), "{}", t.stdout);
}

#[test]
fn only_alpha_x_k8s_pool_crd_crd_004() {
    let h = Lab::take();
    // GAIE v0.5.1 ships only the x-k8s InferencePool (v1alpha2) and carries no bundle annotation.
    let mut files = gateway_standard("v1.3.0");
    files.push(gaie_file("v0.5.1", POOL_X));
    install(&h, &files);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-CRD-004", crd_kind(), "inferencepools.inference.networking.x-k8s.io", "error");
    says(
        f,
        "message",
        &["Only the alpha InferencePool API", "GAIE v0.x", "inferencepools.inference.networking.k8s.io is missing"],
    );
    says(f, "hint", &["gateway-api-inference-extension/config/crd?ref=v1.0.1", "--fix=LLMD-POOL-001"]);
    assert_no(&report, "LLMD-CRD-002");
    assert_eq!(codes_in(&report, &["LLMD-CRD-"]).len(), 1, "{:#?}", summary(&report));
}

#[test]
fn no_inference_objective_crd_crd_005() {
    let h = Lab::take();
    // Only the v1 pool file of GAIE v1.0.1: InferenceObjective is absent from all three groups.
    let mut files = gateway_standard("v1.3.0");
    files.push(gaie_file("v1.0.1", POOL_V1));
    install(&h, &files);
    // Only a picker older than v1.3 waits for the CRD (newer ones check discovery: doctor_supported.rs).
    controller(&h, "llm", "qwen-epp", "registry.k8s.io/gateway-api-inference-extension/epp:v1.2.1", &[]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0); // a warning does not reach --fail-on error
    let f =
        finding(&report, "LLMD-CRD-005", crd_kind(), "inferenceobjectives.inference.networking.x-k8s.io", "warning");
    says(
        f,
        "message",
        &[
            "inference.networking.k8s.io",
            "inference.networking.x-k8s.io",
            "llm-d.ai",
            "endpoint picker Deployment llm/qwen-epp runs registry.k8s.io/gateway-api-inference-extension/epp:v1.2.1, older than v1.3",
        ],
    );
    says(f, "hint", &["gateway-api-inference-extension/config/crd?ref=v1.0.1"]);
    // GAIE v1.5.0 (the current guides' profile) still ships InferenceObjective in x-k8s.
    let (_, current) = doctor(&h, &["--profile", "current"]);
    finding(&current, "LLMD-CRD-005", crd_kind(), "inferenceobjectives.inference.networking.x-k8s.io", "warning");
    // --fail-on warning turns it into exit 1.
    doctor(&h, &["--fail-on", "warning"]).0.expect_code(1);
}

#[test]
fn crds_older_than_the_profile_crd_006() {
    let h = Lab::take();
    install_prereq(&h);
    let (r, report) = doctor(&h, &["--profile", "current"]);
    r.expect_code(0);
    assert!(text(&report, "profile").contains("current (Gateway API v1.5.1, GAIE v1.5.0)"), "{}", report["profile"]);
    let found = with_code(&report, "LLMD-CRD-006");
    assert_eq!(found.len(), 2, "{found:#?}");
    let gw = found.iter().find(|f| text(f, "message").starts_with("Gateway API")).expect("a Gateway API CRD-006");
    assert_eq!(gw["severity"], "warning");
    says(gw, "message", &["bundle v1.3.0", "older than the profile's v1.5.1"]);
    says(gw, "hint", &["gateway-api/config/crd?ref=v1.5.1"]);
    let gaie = finding(&report, "LLMD-CRD-006", crd_kind(), "inferencepools.inference.networking.k8s.io", "warning");
    says(gaie, "message", &["bundle v1.0.1", "older than the profile's v1.5.0"]);
    says(gaie, "hint", &["gateway-api-inference-extension/config/crd?ref=v1.5.0"]);

    // The default profile is the llm-d prerequisite's (v1.3.0 + v1.0.1): nothing is older.
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    assert!(
        text(&report, "profile").starts_with("llm-d-prereq (Gateway API v1.3.0, GAIE v1.0.1)"),
        "{}",
        report["profile"]
    );
    assert_no(&report, "LLMD-CRD-006");
    assert_eq!(check_status(&report, "LLMD-CRD-006")["status"], "pass");
}

#[test]
fn gateway_api_crd_revision_env_changes_the_default_profile() {
    let h = Lab::take();
    install_prereq(&h);
    let env = [("GATEWAY_API_CRD_REVISION", "v1.5.1")];
    let (r, report) = doctor_env(&h, &[], &env);
    r.expect_code(0);
    let label = text(&report, "profile");
    assert!(label.contains("GATEWAY_API_CRD_REVISION") && label.contains("Gateway API v1.5.1, GAIE v1.0.1"), "{label}");
    let found = with_code(&report, "LLMD-CRD-006");
    assert_eq!(found.len(), 1, "only the Gateway API bundle is behind: {found:#?}");
    says(found[0], "message", &["bundle v1.3.0", "older than the profile's v1.5.1"]);

    // The table's verdict line names the profile too.
    let mut cmd = doctor_command(&h.kubeconfig_admin, &[]);
    cmd.env("GATEWAY_API_CRD_REVISION", "v1.5.1");
    let t = run(cmd);
    t.expect_code(0);
    let verdict = t.stdout.lines().last().unwrap_or("");
    assert!(verdict.contains("GATEWAY_API_CRD_REVISION") && verdict.contains("Gateway API v1.5.1"), "{verdict}");
    assert!(t.stdout.contains("‼ Installed CRD bundles are not older than the profile [LLMD-CRD-006]"), "{}", t.stdout);

    // An explicit --profile is not overridden by the variable.
    let (_, report) = doctor_env(&h, &["--profile", "llm-d-prereq"], &env);
    assert!(text(&report, "profile").starts_with("llm-d-prereq (Gateway API v1.3.0"), "{}", report["profile"]);
    assert_no(&report, "LLMD-CRD-006");
}

// ---------------------------------------------------------------------------------------------
// CRDs: skew, channel mix.

#[test]
fn bundle_skew_crd_007_and_channel_mix_crd_008() {
    let h = Lab::take();
    install_prereq(&h);
    // One CRD of v1.5.1 among the v1.3.0 ones.
    install(&h, &[gateway_file("v1.5.1", "standard", "httproutes")]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    let found = with_code(&report, "LLMD-CRD-007");
    assert_eq!(found.len(), 1, "{found:#?}");
    let f = found[0];
    assert_eq!(f["severity"], "warning");
    assert_eq!(f["object"]["kind"], crd_kind());
    assert_ne!(f["object"]["name"], "httproutes.gateway.networking.k8s.io", "the outlier is a v1.3.0 CRD: {f:#}");
    says(
        f,
        "message",
        &["Gateway API CRDs come from different bundles", "v1.3.0:", "v1.5.1: httproutes.gateway.networking.k8s.io"],
    );
    says(f, "hint", &["gateway-api/config/crd?ref=v1.5.1"]);
    assert_no(&report, "LLMD-CRD-008");

    // Back to one bundle, then one experimental CRD of the same release.
    install(&h, &[gateway_file("v1.3.0", "standard", "httproutes")]);
    install(&h, &[gateway_file("v1.3.0", "experimental", "httproutes")]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    assert_no(&report, "LLMD-CRD-007");
    let f = finding(&report, "LLMD-CRD-008", crd_kind(), "httproutes.gateway.networking.k8s.io", "warning");
    says(
        f,
        "message",
        &["mix release channels", "experimental (httproutes.gateway.networking.k8s.io)", "standard (gatewayclasses"],
    );
    says(f, "hint", &["config/crd/experimental?ref=v1.3.0"]);
    // Without the safe-upgrades policy there is no ADM-002.
    assert_no(&report, "LLMD-ADM-002");
}

// ---------------------------------------------------------------------------------------------
// CRDs: storedVersions.

#[test]
fn stored_versions_block_the_upgrade_crd_009_and_crd_010() {
    let h = Lab::take();
    let files: Vec<PathBuf> = gateway_standard("v1.3.0")
        .into_iter()
        .filter(|p| !p.ends_with("gateway.networking.k8s.io_grpcroutes.yaml"))
        .collect();
    install(&h, &files);
    h.apply_yaml(&grpcroute_crd("v1alpha2"));
    wait_established(&h);
    let ns = h.namespace("lab-grpc");
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: GRPCRoute\nmetadata:\n  name: legacy\n  namespace: {ns}\nspec: {{}}\n"
    ));
    // Switch storage to v1, keeping v1alpha2 served: the API server appends v1 to storedVersions.
    h.apply_yaml(&grpcroute_crd("v1"));
    let out =
        h.kubectl(&["get", "crd", "grpcroutes.gateway.networking.k8s.io", "-o", "jsonpath={.status.storedVersions}"]);
    assert_success(&out, "kubectl get crd grpcroutes");
    assert_eq!(String::from_utf8_lossy(&out.stdout), r#"["v1alpha2","v1"]"#);

    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-CRD-009", crd_kind(), "grpcroutes.gateway.networking.k8s.io", "error");
    // Kubernetes 1.33+ words the refusal "missing from spec.versions; … was previously a storage
    // version …" (before 1.33: "must appear in spec.versions"); doctor quotes what this server says.
    let refusal = "status.storedVersions[0]: Invalid value: \"v1alpha2\": missing from spec.versions; \
                   v1alpha2 was previously a storage version, and must remain in spec.versions";
    says(f, "message", &["holds v1alpha2", "Gateway API v1.3.0 no longer has", refusal]);
    says(f, "hint", &["kubectl llmd doctor --fix=LLMD-CRD-009", "[v1]"]);
    assert_eq!(f["fixable"], true);
    assert_no(&report, "LLMD-CRD-010");
    let quoted = text(f, "message").split("fails with ").nth(1).expect("a quoted refusal").to_string();

    // The hazard is real: the API server refuses the real v1.3.0 grpcroutes CRD, in the words doctor quoted.
    let out = try_apply(&h, &[gateway_file("v1.3.0", "standard", "grpcroutes")], false);
    assert!(!out.status.success(), "applying v1.3.0 grpcroutes over storedVersions [v1alpha2, v1] must fail");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("CustomResourceDefinition \"grpcroutes.gateway.networking.k8s.io\" is invalid"),
        "{stderr}"
    );
    assert!(stderr.contains(refusal) && stderr.contains(&quoted), "doctor quoted {quoted:?}; kubectl said {stderr}");

    // LLMD-CRD-010: the status subresource does not validate storedVersions against spec.versions
    // (only CRD updates do), so a stored version the CRD no longer defines can be written there.
    let out = h.kubectl(&[
        "patch",
        "crd",
        "grpcroutes.gateway.networking.k8s.io",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"storedVersions":["v1alpha1","v1alpha2","v1"]}}"#,
    ]);
    assert_success(&out, "writing status.storedVersions [v1alpha1, v1alpha2, v1]");
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-CRD-010", crd_kind(), "grpcroutes.gateway.networking.k8s.io", "error");
    says(
        f,
        "message",
        &["holds v1alpha1", "spec.versions (v1alpha2, v1) no longer defines", "every update of this CRD"],
    );
    says(f, "hint", &["kubectl llmd doctor --fix=LLMD-CRD-010", "[v1]"]);
    // v1alpha2 is still CRD-009's (defined here, gone from v1.3.0).
    finding(&report, "LLMD-CRD-009", crd_kind(), "grpcroutes.gateway.networking.k8s.io", "error");
    // And every update of the CRD is now refused, even an annotation.
    let out = h.kubectl(&["annotate", "crd", "grpcroutes.gateway.networking.k8s.io", "example.com/touched=yes"]);
    assert!(!out.status.success(), "a CRD update must be refused while storedVersions names v1alpha1");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("status.storedVersions[0]: Invalid value: \"v1alpha1\": missing from spec.versions"),
        "{stderr}"
    );
}

// ---------------------------------------------------------------------------------------------
// CRDs: leftovers, huge last-applied annotation.

#[test]
fn leftover_inference_models_crd_012_and_crd_011() {
    let h = Lab::take();
    install_prereq(&h);
    // GAIE v0.5.1's InferenceModel CRD left next to GAIE v1.0.1.
    install(&h, &[gaie_file("v0.5.1", MODELS_X)]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    let f = finding(&report, "LLMD-CRD-012", crd_kind(), "inferencemodels.inference.networking.x-k8s.io", "warning");
    says(f, "message", &["not part of the installed GAIE v1.0.1", "left behind"]);
    says(f, "hint", &["kubectl delete crd inferencemodels.inference.networking.x-k8s.io"]);
    assert_no(&report, "LLMD-CRD-011");
    assert_no(&report, "LLMD-CRD-007");

    let ns = h.namespace("lab-models");
    h.apply_yaml(&format!(
        "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferenceModel\nmetadata:\n  name: chat\n  namespace: {ns}\n\
         spec:\n  modelName: qwen\n  criticality: Critical\n  poolRef: {{name: qwen-pool}}\n"
    ));
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    let f = finding(&report, "LLMD-CRD-011", "InferenceModel", "chat", "warning");
    assert_eq!(f["object"]["namespace"], ns.as_str());
    assert_eq!(f["object"]["group"], "inference.networking.x-k8s.io");
    says(f, "message", &["GAIE v1.0 removed InferenceModel"]);
    says(
        f,
        "hint",
        &[
            "InferenceObjective",
            "spec.poolRef.name: qwen-pool",
            &format!("kubectl delete inferencemodels.inference.networking.x-k8s.io/chat -n {ns}"),
        ],
    );
    let f = finding(&report, "LLMD-CRD-012", crd_kind(), "inferencemodels.inference.networking.x-k8s.io", "warning");
    says(f, "hint", &["1 InferenceModel object(s) remain", "LLMD-CRD-011"]);
}

#[test]
fn leftover_x_k8s_pool_crd_after_gaie_v1_5_crd_012() {
    let h = Lab::take();
    // The current guides' bundles, plus the x-k8s InferencePool CRD that GAIE v1.5 no longer ships.
    let mut files = gateway_standard("v1.5.1");
    files.extend(gaie_crds("v1.5.0"));
    files.push(gaie_file("v1.0.1", POOL_X));
    install(&h, &files);
    let (r, report) = doctor(&h, &["--profile", "current"]);
    r.expect_code(0);
    let f = finding(&report, "LLMD-CRD-012", crd_kind(), "inferencepools.inference.networking.x-k8s.io", "warning");
    says(f, "message", &["not part of the installed GAIE v1.5.0"]);
    says(f, "hint", &["kubectl delete crd inferencepools.inference.networking.x-k8s.io"]);
    // The leftover does not count as bundle skew, and the current bundles are not older than the profile.
    assert_no(&report, "LLMD-CRD-007");
    assert_no(&report, "LLMD-CRD-006");
}

#[test]
fn huge_last_applied_configuration_crd_013() {
    let h = Lab::take();
    install_prereq(&h);
    // ~210 KiB of last-applied-configuration, as years of client-side applies leave it. Too long for
    // one argv string (`kubectl annotate` fails with E2BIG), so the same annotation goes in by patch file.
    let head = r#"{"apiVersion":"apiextensions.k8s.io/v1","kind":"CustomResourceDefinition","metadata":{"name":"httproutes.gateway.networking.k8s.io"},"spec":{"description":""#;
    let tail = r#""}}"#;
    let size = 210 * 1024;
    let value = format!("{head}{}{tail}", "x".repeat(size - head.len() - tail.len()));
    assert_eq!(value.len(), size);
    let patch = json!({"metadata": {"annotations": {"kubectl.kubernetes.io/last-applied-configuration": value}}});
    let file = h.dir.join("crd-013-patch.json");
    std::fs::write(&file, patch.to_string()).expect("write patch file");
    let out = h.kubectl(&[
        "patch",
        "crd",
        "httproutes.gateway.networking.k8s.io",
        "--type=merge",
        "--patch-file",
        file.to_str().unwrap(),
    ]);
    assert_success(&out, "kubectl patch crd httproutes (last-applied-configuration)");
    let _ = std::fs::remove_file(&file);

    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    let f = finding(&report, "LLMD-CRD-013", crd_kind(), "httproutes.gateway.networking.k8s.io", "warning");
    says(f, "message", &["httproutes.gateway.networking.k8s.io (210 KiB)", "262144"]);
    says(
        f,
        "hint",
        &["kubectl annotate crd httproutes.gateway.networking.k8s.io kubectl.kubernetes.io/last-applied-configuration-", "--server-side"],
    );
}

// ---------------------------------------------------------------------------------------------
// Admission: the safe-upgrades policy, a leftover webhook.

/// The safe-upgrades policy without the Gateway API CRDs (left behind when they were deleted, or
/// applied alone): installing the profile's v1.3.0 bundle (what `doctor --fix` would do) is denied.
/// With v1.5.1's CRDs in place nothing needs installing, and the policy is nobody's problem.
#[test]
fn safe_upgrades_policy_refuses_the_install_the_cluster_needs_adm_001() {
    let h = Lab::take();
    // Gateway API v1.5.1 standard as released, policy and binding included.
    let all = gateway_api_crds("v1.5.1");
    let (policy, crds): (Vec<PathBuf>, Vec<PathBuf>) =
        all.into_iter().partition(|p| p.to_string_lossy().contains("_vap_safeupgrades"));
    assert_eq!(policy.len(), 1, "{policy:?}");
    let mut files = policy.clone();
    files.extend(gaie_crds("v1.0.1"));
    install(&h, &files);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    finding(&report, "LLMD-CRD-001", crd_kind(), "gatewayclasses.gateway.networking.k8s.io", "error");
    let f = finding(
        &report,
        "LLMD-ADM-001",
        "ValidatingAdmissionPolicy",
        "safe-upgrades.gateway.networking.k8s.io",
        "warning",
    );
    says(
        f,
        "message",
        &["before v1.5.0", "v1.3.0", "Installing CRDs with version before v1.5.0 is prohibited by default."],
    );
    says(
        f,
        "hint",
        &["--profile current", "kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy safe-upgrades.gateway.networking.k8s.io"],
    );
    assert_no(&report, "LLMD-ADM-002");
    // With the current profile (v1.5.1) the policy is no obstacle.
    let (_, report) = doctor(&h, &["--profile", "current"]);
    assert_no(&report, "LLMD-ADM-001");
    // With v1.5.1's CRDs installed, nothing needs installing: no finding with the default profile.
    install(&h, &crds);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    assert_no(&report, "LLMD-ADM-001");
    assert_no(&report, "LLMD-CRD-009");

    // The policy is real: applying the profile's v1.3.0 CRD is denied.
    wait_policy_enforced(&h);
    let out = try_apply(&h, &[gateway_file("v1.3.0", "standard", "httproutes")], false);
    assert!(!out.status.success(), "the policy must deny the v1.3.0 httproutes CRD");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("safe-upgrades.gateway.networking.k8s.io"), "{stderr}");
    assert!(stderr.contains("Installing CRDs with version before v1.5.0 is prohibited by default."), "{stderr}");
}

/// A cluster set up exactly as llm-d's current guides do it: Gateway API v1.5.1 standard with its
/// safe-upgrades policy, only GAIE v1.5.0's v1 InferencePool CRD (`v1-manifests.yaml`), Istio 1.29.2
/// installed by istioctl with the inference switch on, and a routed pool with the chart default
/// `failureMode: FailOpen` behind a v1.5.0 endpoint picker. No warning and no error with the default
/// profile (llm-d's minimum), with `--profile current`, and with the guides' variables exported.
#[test]
fn current_guides_install_is_healthy() {
    use crate::doctor_routing::{deploy, epp_container, Opts};
    let h = Lab::take();
    let mut files = gateway_api_crds("v1.5.1");
    assert!(files.iter().any(|p| p.to_string_lossy().contains("_vap_safeupgrades")), "{files:?}");
    files.push(gaie_file("v1.5.0", POOL_V1));
    install(&h, &files);
    h.apply_yaml(crate::fixtures::DESTINATION_RULE_STAND_IN_CRD);
    wait_established(&h);
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.29.2", &[(ISTIO_ENV, "true")]);
    let ns = h.namespace("current-guides");
    let mut epp = epp_container(
        ["--pool-name", "llm-pool", "--pool-namespace", ns.as_str()].iter().map(|s| s.to_string()).collect(),
    );
    epp["image"] = json!("registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0");
    let o = Opts::istio()
        .patch("InferencePool", json!({"spec": {"endpointPickerRef": {"failureMode": "FailOpen"}}}))
        .patch("Deployment", json!({"spec": {"template": {"spec": {"containers": [epp]}}}}));
    deploy(&h, &ns, &o);
    type Args<'a> = &'a [&'a str];
    type Env<'a> = &'a [(&'a str, &'a str)];
    let runs: [(Args, Env); 3] = [
        (&[], &[]),
        (&["--profile", "current"], &[]),
        (&[], &[("GATEWAY_API_VERSION", "v1.5.1"), ("GAIE_VERSION", "v1.5.0")]),
    ];
    for (args, env) in runs {
        let (r, report) = doctor_env(&h, args, env);
        let loud: Vec<String> = findings(&report)
            .into_iter()
            .filter(|f| f["severity"] == "warning" || f["severity"] == "error")
            .map(line)
            .collect();
        assert_eq!(loud, Vec::<String>::new(), "doctor {args:?} {env:?}");
        r.expect_code(0);
    }
    // The table says so too.
    let t = doctor_table(&h, &[]);
    t.expect_code(0);
    assert!(!t.stdout.contains('✖') && !t.stdout.contains('‼'), "{}", t.stdout);
}

#[test]
fn safe_upgrades_policy_blocks_the_experimental_channel_adm_002() {
    let h = Lab::take();
    let mut files = gateway_api_crds("v1.5.1");
    files.extend(gaie_crds("v1.5.0"));
    h.apply_yaml(crate::fixtures::DESTINATION_RULE_STAND_IN_CRD);
    install(&h, &files);
    wait_policy_enforced(&h);
    // A new experimental CRD is admitted (there is no old object to compare channels with).
    install(&h, &[gateway_file("v1.5.1", "experimental", "tcproutes")]);
    let (r, report) = doctor(&h, &["--profile", "current"]);
    r.expect_code(0);
    let f = finding(
        &report,
        "LLMD-ADM-002",
        "ValidatingAdmissionPolicy",
        "safe-upgrades.gateway.networking.k8s.io",
        "warning",
    );
    says(
        f,
        "message",
        &[
            "tcproutes.gateway.networking.k8s.io",
            "Installing experimental CRDs on top of standard channel CRDs is prohibited by default.",
        ],
    );
    says(
        f,
        "hint",
        &[
            "kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy",
            "config/crd/experimental?ref=v1.5.1",
        ],
    );
    finding(&report, "LLMD-CRD-008", crd_kind(), "tcproutes.gateway.networking.k8s.io", "warning");
    assert_no(&report, "LLMD-ADM-001");

    // The policy is real: moving httproutes to the experimental channel is denied.
    let out = try_apply(&h, &[gateway_file("v1.5.1", "experimental", "httproutes")], false);
    assert!(!out.status.success(), "the policy must deny experimental httproutes over standard");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("Installing experimental CRDs on top of standard channel CRDs is prohibited by default."),
        "{stderr}"
    );
}

#[test]
fn leftover_gateway_api_admission_webhook_adm_003() {
    let h = Lab::take();
    install_prereq(&h);
    // The Gateway API v1.0 webhook registration, its Service long gone.
    h.apply_yaml(
        r#"
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata:
  name: gateway-api-admission
webhooks:
- name: validate.gateway.networking.k8s.io
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  timeoutSeconds: 5
  clientConfig:
    service: {name: gateway-api-admission-server, namespace: gateway-system, path: /validate}
  rules:
  - apiGroups: [gateway.networking.k8s.io]
    apiVersions: [v1, v1beta1]
    operations: [CREATE, UPDATE]
    resources: [gateways, gatewayclasses, httproutes]
"#,
    );
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-ADM-003", "ValidatingWebhookConfiguration", "gateway-api-admission", "error");
    says(
        f,
        "message",
        &["gateway-system/gateway-api-admission-server", "does not exist", "gatewayclasses, gateways, httproutes"],
    );
    says(f, "hint", &["kubectl delete validatingwebhookconfiguration gateway-api-admission"]);
    assert_eq!(f["fixable"], true);

    // It blocks for real: creating an HTTPRoute fails calling the webhook.
    let ns = h.namespace("lab-webhook");
    let out = h.kubectl_stdin(
        &["create", "-f", "-"],
        &format!(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata:\n  name: r\n  namespace: {ns}\nspec:\n  parentRefs: [{{name: gw}}]\n"
        ),
    );
    assert!(!out.status.success(), "the webhook must block the HTTPRoute");
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        stderr.contains("failed calling webhook") && stderr.contains("validate.gateway.networking.k8s.io"),
        "{stderr}"
    );
    // Lab drop deletes the webhook.
}

// ---------------------------------------------------------------------------------------------
// GatewayClasses.

#[test]
fn gateway_classes_not_accepted_gwc_003_and_unsupported_version_gwc_004() {
    let h = Lab::take();
    install_prereq(&h);
    // istio: no controller has written status (the CRD's default: Accepted Unknown Pending).
    gateway_class(&h, "istio", "istio.io/gateway-controller");
    // kgateway: rejected for its parameters.
    gateway_class(&h, "kgateway", "kgateway.dev/kgateway");
    set_status(
        &h,
        "gatewayclass.gateway.networking.k8s.io",
        None,
        "kgateway",
        &json!({"conditions": [condition("Accepted", "False", "InvalidParameters", "GatewayParameters kgateway-system/custom not found")]}),
    );
    // agentgateway: accepted, but the installed CRDs are a version it does not support.
    gateway_class(&h, "agentgateway", "agentgateway.dev/agentgateway");
    set_status(
        &h,
        "gatewayclass.gateway.networking.k8s.io",
        None,
        "agentgateway",
        &json!({"conditions": [
            condition("Accepted", "True", "Accepted", ""),
            condition("SupportedVersion", "False", "UnsupportedVersion", "Gateway API CRD bundle version v1.3.0 is not supported"),
        ]}),
    );
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0); // no Gateway uses the classes: warnings
    let f = finding(&report, "LLMD-GWC-003", "GatewayClass", "istio", "warning");
    says(f, "message", &["not Accepted (Unknown Pending)", "istio.io/gateway-controller"]);
    // No istiod Deployment exists: install it (a restart would be NotFound).
    says(f, "hint", &["kubectl llmd gateway install --provider istio"]);
    assert!(!text(f, "hint").contains("rollout restart"), "{f:#}");
    let f = finding(&report, "LLMD-GWC-003", "GatewayClass", "kgateway", "warning");
    says(f, "message", &["InvalidParameters", "GatewayParameters kgateway-system/custom not found"]);
    says(f, "hint", &["parametersRef"]);
    let f = finding(&report, "LLMD-GWC-004", "GatewayClass", "agentgateway", "warning");
    says(f, "message", &["does not support the installed Gateway API CRD version", "UnsupportedVersion"]);
    says(f, "hint", &["releases/download/v1.3.0/standard-install.yaml"]);
    assert_eq!(with_code(&report, "LLMD-GWC-003").len(), 2, "{:#?}", summary(&report));
    assert_eq!(with_code(&report, "LLMD-GWC-004").len(), 1, "{:#?}", summary(&report));

    // A Gateway on the unaccepted class makes it an error.
    let ns = h.namespace("lab-gwc");
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: {ns}\nspec:\n  gatewayClassName: istio\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    ));
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    finding(&report, "LLMD-GWC-003", "GatewayClass", "istio", "error");
}

#[test]
fn no_provider_class_while_a_pool_exists_gwc_001() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "cilium", "io.cilium/gateway-controller");
    let ns = h.namespace("lab-gwc001");
    v1_pool(&h, &ns, "qwen");
    let (_, report) = doctor(&h, &[]);
    let f = finding(&report, "LLMD-GWC-001", "GatewayClass", "istio", "error");
    says(f, "message", &["1 InferencePool(s) exist", "only cilium (io.cilium/gateway-controller)"]);
    says(f, "hint", &["kubectl llmd gateway install --provider istio"]);
}

// ---------------------------------------------------------------------------------------------
// Gateway controllers.

const ISTIO_ENV: &str = "ENABLE_GATEWAY_API_INFERENCE_EXTENSION";

#[test]
fn istiod_inference_switch_gwc_005_and_version_gwc_006() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    let ns = h.namespace("lab-istiod");
    v1_pool(&h, &ns, "qwen");

    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.28.0", &[("PILOT_TRACE_SAMPLING", "1")]);
    // Installed by istioctl (no helm release on it), as the current guides do.
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-GWC-005", "Deployment", "istiod", "error");
    assert_eq!(f["object"]["namespace"], "istio-system");
    says(f, "message", &["Istio controller istio-system/istiod", "switched off", ISTIO_ENV]);
    says(f, "hint", &[&format!("istioctl install -y --set values.pilot.env.{ISTIO_ENV}=true"), "istioctl 1.28.0"]);
    // Installed by helm (the seed's helmfile): the release as installed, pinned to the version it runs.
    let helm_release = ["meta.helm.sh/release-name=istiod", "meta.helm.sh/release-namespace=istio-system"];
    let mut annotate = vec!["annotate", "deployment", "istiod", "-n", "istio-system", "--overwrite"];
    annotate.extend(helm_release);
    assert_success(&h.kubectl(&annotate), "marking istiod as a helm release");
    let (_, report) = doctor(&h, &[]);
    let f = finding(&report, "LLMD-GWC-005", "Deployment", "istiod", "error");
    says(
        f,
        "hint",
        &[&format!(
            "helm upgrade istiod istio/istiod -n istio-system --version 1.28.0 --reuse-values --set pilot.env.{ISTIO_ENV}=true"
        )],
    );
    assert_no(&report, "LLMD-GWC-006");
    // Scoped to the pool's namespace, the controller in istio-system is still looked at.
    let (r, scoped) = doctor(&h, &["-n", &ns]);
    r.expect_code(1);
    finding(&scoped, "LLMD-GWC-005", "Deployment", "istiod", "error");

    // Switched on, but Istio 1.27 does not route InferencePool v1.
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.27.3", &[(ISTIO_ENV, "true")]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    assert_no(&report, "LLMD-GWC-005");
    let f = finding(&report, "LLMD-GWC-006", "Deployment", "istiod", "error");
    says(f, "message", &["runs 1.27.3", "older than 1.28.0", "1 v1 InferencePool(s) exist"]);
    says(f, "hint", &["helm upgrade istiod istio/istiod -n istio-system --version 1.28.0 --reset-then-reuse-values"]);
    let out = h.kubectl(&[
        "annotate",
        "deployment",
        "istiod",
        "-n",
        "istio-system",
        "meta.helm.sh/release-name-",
        "meta.helm.sh/release-namespace-",
    ]);
    assert_success(&out, "unmarking the helm release");
    let (_, report) = doctor(&h, &[]);
    let f = finding(&report, "LLMD-GWC-006", "Deployment", "istiod", "error");
    says(f, "hint", &["istioctl upgrade -y (with istioctl 1.28.0"]);
}

/// Envoy Gateway as its chart installs it: class, controller Deployment running as ServiceAccount
/// envoy-gateway, and ConfigMap envoy-gateway-config whose envoy-gateway.yaml lists `backend`.
fn envoy_gateway(h: &Harness, backend: &str) {
    accepted_class(h, "eg", "gateway.envoyproxy.io/gatewayclass-controller");
    ensure_namespace(h, "envoy-gateway-system");
    h.apply_yaml(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: envoy-gateway, namespace: envoy-gateway-system}}\n\
         spec:\n  selector: {{matchLabels: {{app: eg}}}}\n  template:\n    metadata: {{labels: {{app: eg}}}}\n    \
         spec:\n      serviceAccountName: envoy-gateway\n      \
         containers: [{{name: envoy-gateway, image: docker.io/envoyproxy/gateway:v1.5.4}}]\n---\n\
         apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: envoy-gateway-config, namespace: envoy-gateway-system}}\n\
         data:\n  envoy-gateway.yaml: |\n    apiVersion: config.gateway.envoyproxy.io/v1alpha1\n    kind: EnvoyGateway\n    \
         gateway: {{controllerName: gateway.envoyproxy.io/gatewayclass-controller}}\n    \
         extensionManager:\n      backendResources:\n      - {backend}\n"
    ));
}

#[test]
fn gwc_005_envoy_gateway_without_inference_pool_backend_or_rbac() {
    let h = Lab::take();
    install_prereq(&h);
    let ns = h.namespace("lab-eg");
    v1_pool(&h, &ns, "qwen");
    // Only the alpha pool is a backend resource, and no ClusterRole lets the controller read pools
    // (RBAC outlives the lab's reset: drop what an earlier test granted).
    envoy_gateway(&h, "{group: inference.networking.x-k8s.io, kind: InferencePool, version: v1alpha2}");
    let out = h.kubectl(&[
        "delete",
        "clusterrolebinding/envoy-gateway-inferencepools",
        "clusterrole/envoy-gateway-inferencepools",
        "--ignore-not-found",
    ]);
    assert_success(&out, "deleting Envoy Gateway's InferencePool grant");
    let (r, report) = doctor(&h, &["-v"]);
    r.expect_code(1);
    let found = with_code(&report, "LLMD-GWC-005");
    assert_eq!(found.len(), 2, "{:#?}", summary(&report));
    let config = found.iter().find(|f| f["message"].as_str().unwrap().contains("backendResources")).expect("config");
    assert_eq!(config["severity"], "error");
    says(
        config,
        "message",
        &[
            "does not list InferencePool (group inference.networking.k8s.io, version v1)",
            "envoy-gateway-system/envoy-gateway-config",
        ],
    );
    says(config, "hint", &["helm upgrade eg oci://docker.io/envoyproxy/gateway-helm -n envoy-gateway-system --version v1.5.4 --reuse-values -f https://raw.githubusercontent.com/envoyproxy/ai-gateway/", "kubectl rollout restart deployment/envoy-gateway -n envoy-gateway-system"]);
    let rbac = found.iter().find(|f| f["message"].as_str().unwrap().contains("may not")).expect("rbac");
    assert_eq!(rbac["severity"], "error");
    says(
        rbac,
        "message",
        &[
            "ServiceAccount envoy-gateway-system/envoy-gateway",
            "may not get, list, watch inferencepools.inference.networking.k8s.io in all namespaces",
        ],
    );
    // The RBAC hint, run as printed, grants what is missing; that finding goes away.
    let hint = rbac["hint"].as_str().unwrap().to_string();
    for cmd in hint.split(" && ") {
        let args: Vec<&str> = cmd.split(' ').skip(1).collect();
        let out = h.kubectl(&args);
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (_, report) = doctor(&h, &[]);
    let found = with_code(&report, "LLMD-GWC-005");
    assert_eq!(found.len(), 1, "{:#?}", summary(&report));
    assert!(found[0]["message"].as_str().unwrap().contains("backendResources"), "{:#}", found[0]);
}

#[test]
fn gwc_005_envoy_gateway_with_inference_pool_backend_and_rbac_is_healthy() {
    let h = Lab::take();
    install_prereq(&h);
    let ns = h.namespace("lab-eg-ok");
    v1_pool(&h, &ns, "qwen");
    envoy_gateway(&h, "{group: inference.networking.k8s.io, kind: InferencePool, version: v1}");
    // The ClusterRole the InferencePool guides add for Envoy Gateway's ServiceAccount.
    h.apply_yaml(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: envoy-gateway-inferencepools}\n\
         rules: [{apiGroups: [inference.networking.k8s.io], resources: [inferencepools], verbs: [get, list, watch]}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: envoy-gateway-inferencepools}\n\
         subjects: [{kind: ServiceAccount, name: envoy-gateway, namespace: envoy-gateway-system}]\n\
         roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: envoy-gateway-inferencepools}\n",
    );
    let (_, report) = doctor(&h, &[]);
    // Verified, so not even the "could not be verified" info is left.
    assert_eq!(with_code(&report, "LLMD-GWC-005"), Vec::<&Value>::new(), "{:#?}", summary(&report));
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["code"] == "LLMD-GWC-005").expect("listed");
    assert_eq!(check["status"], "pass", "{check:#}");
}

/// A minimal stand-in for Envoy Gateway's BackendTrafficPolicy CRD (its group, version and names;
/// no schema): the upstream bundle is not in the Go module cache here.
const BACKEND_TRAFFIC_POLICY_CRD_STAND_IN: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\n\
    metadata: {name: backendtrafficpolicies.gateway.envoyproxy.io}\nspec:\n  group: gateway.envoyproxy.io\n  \
    scope: Namespaced\n  names: {kind: BackendTrafficPolicy, plural: backendtrafficpolicies, listKind: BackendTrafficPolicyList, singular: backendtrafficpolicy}\n  \
    versions:\n  - name: v1alpha1\n    served: true\n    storage: true\n    \
    schema: {openAPIV3Schema: {type: object, x-kubernetes-preserve-unknown-fields: true}}\n";

/// An inference stack (doctor_routing's) on a Gateway of Envoy Gateway's class `eg`, in a new namespace.
fn envoy_stack(h: &Harness, prefix: &str) -> String {
    use crate::doctor_routing::{deploy, Opts};
    let ns = h.namespace(prefix);
    let o = Opts::istio().drop("DestinationRule").patch("Gateway", json!({"spec": {"gatewayClassName": "eg"}}));
    deploy(h, &ns, &o);
    ns
}

#[test]
fn rt_015_envoy_gateway_route_on_the_15s_default() {
    let h = Lab::take();
    install_prereq(&h);
    envoy_gateway(&h, "{group: inference.networking.k8s.io, kind: InferencePool, version: v1}");
    let ns = envoy_stack(&h, "lab-rt015");
    let (_, report) = doctor(&h, &[]);
    let f = finding(&report, "LLMD-RT-015", "HTTPRoute", "llm-route", "warning");
    assert_eq!(f["object"]["namespace"], ns.as_str());
    says(f, "message", &["through Envoy Gateway", "Envoy's 15s default applies"]);
    says(
        f,
        "hint",
        &["kubectl patch httproute llm-route", "/spec/rules/0/timeouts\",\"value\":{\"request\":\"3600s\"}"],
    );
    // A BackendTrafficPolicy on the route with a 60 s request timeout is still too short, and named.
    h.apply_yaml(BACKEND_TRAFFIC_POLICY_CRD_STAND_IN);
    wait_established(&h);
    let policy = |timeout: &str| {
        format!(
            "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {{name: llm-timeouts, namespace: {ns}}}\n\
             spec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: HTTPRoute, name: llm-route}}]\n  \
             timeout: {{http: {{requestTimeout: {timeout}}}}}\n"
        )
    };
    h.apply_yaml(&policy("60s"));
    let (_, report) = doctor(&h, &[]);
    let f = finding(&report, "LLMD-RT-015", "HTTPRoute", "llm-route", "warning");
    says(f, "message", &[&format!("BackendTrafficPolicy {ns}/llm-timeouts sets timeout.http.requestTimeout 60s")]);
}

#[test]
fn rt_015_envoy_gateway_route_raised_by_a_backend_traffic_policy_passes() {
    let h = Lab::take();
    install_prereq(&h);
    envoy_gateway(&h, "{group: inference.networking.k8s.io, kind: InferencePool, version: v1}");
    h.apply_yaml(BACKEND_TRAFFIC_POLICY_CRD_STAND_IN);
    wait_established(&h);
    let ns = envoy_stack(&h, "lab-rt015-ok");
    // As the Envoy Gateway docs raise it: a policy on the Gateway with an hour's request timeout.
    h.apply_yaml(&format!(
        "apiVersion: gateway.envoyproxy.io/v1alpha1\nkind: BackendTrafficPolicy\nmetadata: {{name: llm-timeouts, namespace: {ns}}}\n\
         spec:\n  targetRefs: [{{group: gateway.networking.k8s.io, kind: Gateway, name: inference-gateway}}]\n  \
         timeout: {{http: {{requestTimeout: 1h}}}}\n"
    ));
    let (_, report) = doctor(&h, &[]);
    assert_eq!(with_code(&report, "LLMD-RT-015"), Vec::<&Value>::new(), "{:#?}", summary(&report));
    let check = report["checks"].as_array().unwrap().iter().find(|c| c["code"] == "LLMD-RT-015").expect("listed");
    assert_eq!(check["status"], "pass", "{check:#}");
    // With -n the policy in the namespace is still found.
    let (_, scoped) = doctor(&h, &["-n", &ns]);
    assert_eq!(with_code(&scoped, "LLMD-RT-015"), Vec::<&Value>::new(), "{:#?}", summary(&scoped));
}

#[test]
fn agentgateway_switch_off_gwc_005_and_kgateway_known_bad_gwc_006() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "agentgateway", "agentgateway.dev/agentgateway");
    accepted_class(&h, "kgateway", "kgateway.dev/kgateway");
    let ns = h.namespace("lab-agw");
    v1_pool(&h, &ns, "qwen");
    controller(&h, "agentgateway-system", "agentgateway", "cr.agentgateway.dev/controller:v1.1.0", &[]);
    controller(
        &h,
        "kgateway-system",
        "kgateway",
        "cr.kgateway.dev/kgateway-dev/kgateway:v2.0.1",
        &[("KGW_ENABLE_INFER_EXT", "true")],
    );
    let (r, report) = doctor(&h, &[]);
    r.expect_code(1);
    let f = finding(&report, "LLMD-GWC-005", "Deployment", "agentgateway", "error");
    assert_eq!(f["object"]["namespace"], "agentgateway-system");
    says(f, "message", &["agentgateway controller agentgateway-system/agentgateway", "AGW_ENABLE_INFER_EXT=true"]);
    says(f, "hint", &["--set inferenceExtension.enabled=true"]);
    let f = finding(&report, "LLMD-GWC-006", "Deployment", "kgateway", "error");
    assert_eq!(f["object"]["namespace"], "kgateway-system");
    says(f, "message", &["runs v2.0.1", "known InferencePool bug", "kgateway#11239"]);
    says(f, "hint", &["helm upgrade kgateway", "--version v2.1.0"]);
    // kgateway has its switch on; agentgateway's version is fine.
    assert_eq!(with_code(&report, "LLMD-GWC-005").len(), 1, "{:#?}", summary(&report));
    assert_eq!(with_code(&report, "LLMD-GWC-006").len(), 1, "{:#?}", summary(&report));
    // Table output exits alike; -v reports the API requests (the largest scenario of this file).
    let t = doctor_table(&h, &["-v"]);
    t.expect_code(1);
    assert!(
        t.stdout.contains("✖ Gateway controllers have InferencePool support switched on [LLMD-GWC-005]"),
        "{}",
        t.stdout
    );
    let stats = t.stderr.lines().find(|l| l.contains("API requests")).unwrap_or_else(|| panic!("{}", t.stderr));
    eprintln!("agentgateway/kgateway scenario: {stats} (wall {:?})", t.elapsed);
}

// ---------------------------------------------------------------------------------------------
// Healthy baseline.

#[test]
fn healthy_cluster_scoped_baseline() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.28.0", &[(ISTIO_ENV, "true")]);
    let (r, report) = doctor(&h, &[]);
    r.expect_code(0);
    assert_eq!(codes_in(&report, &["LLMD-CRD-", "LLMD-GWC-", "LLMD-ADM-", "LLMD-CLU-"]), Vec::<String>::new());
    assert_eq!(report["summary"]["errors"], 0, "{:#?}", summary(&report));
    assert_eq!(report["summary"]["warnings"], 0, "{:#?}", summary(&report));
    // Every check ran and passed (nothing skipped for an admin).
    for c in report["checks"].as_array().unwrap() {
        assert_eq!(c["status"], "pass", "{c:#}");
    }
    let t = doctor_table(&h, &["-v"]);
    t.expect_code(0);
    assert!(t.stdout.contains("✔ Every GatewayClass is Accepted by its controller [LLMD-GWC-003]"), "{}", t.stdout);
    assert!(!t.stdout.contains('✖') && !t.stdout.contains('‼'), "{}", t.stdout);
    assert!(!t.stdout.lines().any(|l| l.starts_with("- ")), "no skipped checks: {}", t.stdout);
    let marked: Vec<&str> = t.stdout.lines().filter(|l| l.ends_with(']')).collect();
    assert!(!marked.is_empty() && marked.iter().all(|l| l.starts_with("✔ ")), "{}", t.stdout);
    let verdict = t.stdout.lines().last().unwrap_or("");
    assert!(verdict.starts_with("✔ Status: healthy — 0 errors, 0 warnings"), "{verdict}");
    // -v reports the API requests and the time on stderr.
    let stats = t.stderr.lines().find(|l| l.contains("API requests")).unwrap_or_else(|| panic!("{}", t.stderr));
    eprintln!("healthy baseline: {stats} (wall {:?})", t.elapsed);
}

// ---------------------------------------------------------------------------------------------
// Permissions (read-only: the shared harness).

/// The check's skip reason, asserting it is skipped.
fn skipped<'a>(report: &'a Value, code: &str) -> &'a str {
    let c = check_status(report, code);
    assert_eq!(c["status"], "skip", "{c:#}");
    c["reason"].as_str().unwrap_or("")
}

/// Codes of the checks that ran, leaving out LLMD-CLU-001: it reads only the server version, which
/// every authenticated user may read, so it runs for anyone.
fn ran_on_objects(report: &Value) -> Vec<String> {
    report["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] != "skip" && c["code"] != "LLMD-CLU-001")
        .map(|c| c["code"].as_str().unwrap_or("").to_string())
        .collect()
}

/// Exit 2 with exactly one `error:` line (naming the first missing permission) and a `hint:` line.
fn could_not_run(r: &Run) {
    r.expect_code(2);
    let errors: Vec<&str> = r.stderr.lines().filter(|l| l.starts_with("error:")).collect();
    assert_eq!(errors.len(), 1, "{}", r.stderr);
    assert!(errors[0].contains("doctor could not run a single check (forbidden: cannot list"), "{}", r.stderr);
    assert!(r.stderr.lines().any(|l| l.starts_with("hint:") && l.contains("`view`")), "{}", r.stderr);
}

#[test]
fn viewer_gets_forbidden_skips() {
    let h = cluster();
    // All namespaces: the viewer (view in viewer-ns only) may list nothing doctor needs.
    let r = doctor_as(&h.kubeconfig_viewer, &["-o", "json"]);
    let report = r.json();
    let reason = skipped(&report, "LLMD-CRD-001");
    assert_eq!(reason, "forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io");
    assert_eq!(skipped(&report, "LLMD-GWC-003"), "forbidden: cannot list gatewayclasses.gateway.networking.k8s.io");
    assert_eq!(
        skipped(&report, "LLMD-ADM-001"),
        "forbidden: cannot list validatingadmissionpolicies.admissionregistration.k8s.io"
    );
    assert_eq!(
        skipped(&report, "LLMD-POOL-007"),
        "forbidden: cannot list inferencepools.inference.networking.k8s.io in all namespaces"
    );
    assert_eq!(ran_on_objects(&report), Vec::<String>::new(), "{report:#}");
    could_not_run(&r);
    let t = doctor_as(&h.kubeconfig_viewer, &[]);
    could_not_run(&t);
    assert!(
        t.stdout.contains("skipped (forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io)"),
        "{}",
        t.stdout
    );

    // Its own namespace: the namespaced lists are scoped to viewer-ns, yet still forbidden for the
    // Gateway API and InferencePool kinds (the built-in `view` role does not cover CRD kinds unless
    // their ClusterRoles aggregate into it), and the cluster-scoped lists stay forbidden.
    let ns = h.viewer_namespace.as_str();
    let r = doctor_as(&h.kubeconfig_viewer, &["-n", ns, "-o", "json"]);
    let report = r.json();
    assert_eq!(
        skipped(&report, "LLMD-CRD-001"),
        "forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io"
    );
    assert_eq!(skipped(&report, "LLMD-GWC-001"), "forbidden: cannot list gatewayclasses.gateway.networking.k8s.io");
    assert_eq!(
        skipped(&report, "LLMD-ADM-003"),
        "forbidden: cannot list validatingwebhookconfigurations.admissionregistration.k8s.io"
    );
    assert_eq!(
        skipped(&report, "LLMD-POOL-007"),
        format!("forbidden: cannot list inferencepools.inference.networking.k8s.io in namespace {ns}")
    );
    assert_eq!(
        skipped(&report, "LLMD-RT-005"),
        format!("forbidden: cannot list httproutes.gateway.networking.k8s.io in namespace {ns}")
    );
    assert_eq!(ran_on_objects(&report), Vec::<String>::new(), "{report:#}");
    could_not_run(&r);
    let t = doctor_as(&h.kubeconfig_viewer, &["-n", ns]);
    could_not_run(&t);
    assert!(
        t.stdout.contains(&format!(
            "skipped (forbidden: cannot list inferencepools.inference.networking.k8s.io in namespace {ns})"
        )),
        "{}",
        t.stdout
    );
}

#[test]
fn no_grants_user_cannot_run_a_single_check() {
    let h = cluster();
    for output in ["json", "table", "yaml"] {
        let r = doctor_as(&h.kubeconfig_nogrants, &["-o", output]);
        could_not_run(&r);
        // The report is still printed on stdout, every check that reads objects skipped.
        match output {
            "json" => {
                let report = r.json();
                assert_eq!(ran_on_objects(&report), Vec::<String>::new(), "{report:#}");
                let checks = report["checks"].as_array().unwrap();
                assert_eq!(report["summary"]["skipped"], checks.len() - 1, "all but LLMD-CLU-001");
                assert_eq!(
                    skipped(&report, "LLMD-CRD-001"),
                    "forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io"
                );
            }
            "table" => {
                assert!(
                    r.stdout
                        .contains("skipped (forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io)"),
                    "{}",
                    r.stdout
                );
                assert!(!r.stdout.contains('✖'), "{}", r.stdout);
            }
            _ => assert!(
                r.stdout.contains("status: skip") && r.stdout.contains("forbidden: cannot list"),
                "{}",
                r.stdout
            ),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Objects doctor cannot read.

/// A Gateway CRD whose schema keeps `spec` unchecked (x-kubernetes-preserve-unknown-fields): with
/// the upstream schema the API server refuses a Gateway doctor could not read, so this stand-in is
/// the way to have a real API server serve one.
const GATEWAY_STAND_IN: &str = "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  \
    name: gateways.gateway.networking.k8s.io\n  annotations:\n    \
    kubectl-llmd.test/stand-in: \"Gateway CRD without a spec schema, written for tests\"\n    \
    api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/2466\n    \
    gateway.networking.k8s.io/bundle-version: v1.3.0\n    gateway.networking.k8s.io/channel: standard\n\
    spec:\n  group: gateway.networking.k8s.io\n  scope: Namespaced\n  \
    names: {kind: Gateway, plural: gateways, singular: gateway, listKind: GatewayList}\n  versions:\n  \
    - name: v1\n    served: true\n    storage: true\n    \
    schema: {openAPIV3Schema: {type: object, properties: {spec: {type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n";

#[test]
fn an_unreadable_gateway_is_a_warning_and_its_checks_are_incomplete() {
    let h = Lab::take();
    let files: Vec<PathBuf> =
        gateway_standard("v1.3.0").into_iter().filter(|p| !p.to_string_lossy().ends_with("_gateways.yaml")).collect();
    apply_files(&h, &files);
    h.apply_yaml(GATEWAY_STAND_IN);
    wait_established(&h);
    let ns = h.namespace("unreadable");
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: {ns}}}\n\
         spec: {{gatewayClassName: istio, listeners: oops}}\n"
    ));
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {ns}}}\n\
         spec: {{parentRefs: [{{name: gw}}]}}\n"
    ));
    let error = r#"spec.listeners: invalid type: string "oops", expected a sequence"#;
    let (r, report) = doctor(&h, &[]);
    assert_eq!(
        r.stderr,
        format!(
            "warning: cannot read Gateway {ns}/gw: {error}; checks that read Gateway objects are skipped as incomplete\n"
        )
    );
    let reason = format!("incomplete: Gateway {ns}/gw could not be read ({error})");
    for code in ["LLMD-RT-001", "LLMD-GWC-002"] {
        assert_eq!(skipped(&report, code), reason, "{code}");
    }
    // Never a false "does not exist" about the Gateway it could not read.
    let about_gw: Vec<String> =
        summary(&report).into_iter().filter(|s| s.contains("Gateway") && s.contains("does not exist")).collect();
    assert_eq!(about_gw, Vec::<String>::new());
    let t = doctor_table(&h, &[]);
    t.expect_code(r.code);
    assert!(t.stdout.contains(&format!("skipped ({reason})")), "{}", t.stdout);
    assert!(t.stderr.starts_with(&format!("warning: cannot read Gateway {ns}/gw")), "{}", t.stderr);
}

/// A v1 pool `name` in `ns` behind the Istio Gateway of `ns`, with `extra` spec lines.
fn istio_pool(h: &Harness, ns: &str, name: &str, target_ports: &str, extra: &str) {
    h.apply_yaml(&format!(
        "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata:\n  name: {name}\n  namespace: {ns}\n\
         spec:\n  selector:\n    matchLabels: {{app: {name}}}\n  targetPorts: {target_ports}\n  \
         endpointPickerRef: {{name: {name}-epp, port: {{number: 9002}}}}\n{extra}"
    ));
}

#[test]
fn ist_004_istiod_versions_that_do_not_route_the_pool_as_asked() {
    let h = Lab::take();
    // GAIE v1.5.0: appProtocol (v1.4+) and up to 8 targetPorts (v1.1+).
    let mut files = gateway_standard("v1.3.0");
    files.extend(gaie_crds("v1.5.0"));
    h.apply_yaml(crate::fixtures::DESTINATION_RULE_STAND_IN_CRD);
    install(&h, &files);
    accepted_class(&h, "istio", "istio.io/gateway-controller");
    let ns = h.namespace("lab-ist004");
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: {ns}}}\n\
         spec:\n  gatewayClassName: istio\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    ));
    istio_pool(&h, &ns, "grpc-pool", "[{number: 8000}]", "  appProtocol: kubernetes.io/h2c\n");
    istio_pool(&h, &ns, "dp-pool", "[{number: 8000}, {number: 8001}]", "");
    istio_pool(&h, &ns, "plain-pool", "[{number: 8000}]", "");

    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.28.0", &[(ISTIO_ENV, "true")]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    let f = finding(&report, "LLMD-IST-004", "InferencePool", "grpc-pool", "error");
    says(
        f,
        "message",
        &["appProtocol kubernetes.io/h2c", "istiod istio-system/istiod runs 1.28.0", "istio/istio#60212"],
    );
    says(f, "hint", &["istioctl upgrade -y", "1.31.0"]);
    let f = finding(&report, "LLMD-IST-004", "InferencePool", "dp-pool", "warning");
    says(f, "message", &["lists 2 targetPorts", "runs 1.28.0", "istio/istio#57638"]);
    says(f, "hint", &["1.29.2"]);
    assert!(with_code(&report, "LLMD-IST-004").iter().all(|f| f["object"]["name"] != "plain-pool"), "{report:#}");

    // 1.29 routes every targetPort; 1.31 honours appProtocol.
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.29.2", &[(ISTIO_ENV, "true")]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    finding(&report, "LLMD-IST-004", "InferencePool", "grpc-pool", "error");
    assert!(with_code(&report, "LLMD-IST-004").iter().all(|f| f["object"]["name"] == "grpc-pool"), "{report:#}");
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.31.0", &[(ISTIO_ENV, "true")]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    assert_no(&report, "LLMD-IST-004");
}

/// A Gateway of class `class` in `ns` and an HTTPRoute sending to every pool of `pools`.
fn gateway_routing_to(h: &Harness, ns: &str, class: &str, pools: &[&str]) {
    let backends: String = pools
        .iter()
        .map(|p| format!("\n    - {{group: inference.networking.k8s.io, kind: InferencePool, name: {p}}}"))
        .collect();
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: gw, namespace: {ns}}}\n\
         spec:\n  gatewayClassName: {class}\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n---\n\
         apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {{name: r, namespace: {ns}}}\n\
         spec:\n  parentRefs: [{{name: gw}}]\n  rules:\n  - backendRefs:{backends}\n"
    ));
}

#[test]
fn pool_010_fail_close_pool_behind_an_ngf_that_fails_open() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "nginx", "gateway.nginx.org/nginx-gateway-controller");
    let ns = h.namespace("lab-pool010");
    // One pool sets FailClose, one FailOpen; neither picker Service exists, so both pickers are down.
    for (pool, mode) in [("closed-pool", "FailClose"), ("open-pool", "FailOpen")] {
        istio_pool(&h, &ns, pool, "[{number: 8000}]", "");
        let patch = format!(r#"{{"spec":{{"endpointPickerRef":{{"failureMode":"{mode}"}}}}}}"#);
        let args =
            ["patch", "inferencepool.inference.networking.k8s.io", pool, "-n", &ns, "--type=merge", "-p", &patch];
        assert_success(&h.kubectl(&args), "kubectl patch inferencepool");
    }
    gateway_routing_to(&h, &ns, "nginx", &["closed-pool", "open-pool"]);
    controller(&h, "nginx-gateway", "ngf-nginx-gateway-fabric", "ghcr.io/nginx/nginx-gateway-fabric:2.6.7", &[]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    let f = finding(&report, "LLMD-POOL-010", "InferencePool", "closed-pool", "warning");
    says(
        f,
        "message",
        &[
            "sets failureMode FailClose",
            &format!("Gateway {ns}/gw runs on NGINX Gateway Fabric 2.6.7 (nginx-gateway/ngf-nginx-gateway-fabric)"),
            "nginx/nginx-gateway-fabric#5420",
            "requests bypass it now",
        ],
    );
    says(f, "hint", &[r#"{"spec":{"endpointPickerRef":{"failureMode":"FailOpen"}}}"#, "#5494"]);
    assert!(with_code(&report, "LLMD-POOL-010").len() == 1, "{:?}", summary(&report));
}

#[test]
fn pool_010_ngf_built_from_main_honours_fail_close() {
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "nginx", "gateway.nginx.org/nginx-gateway-controller");
    let ns = h.namespace("lab-pool010-ok");
    istio_pool(&h, &ns, "closed-pool", "[{number: 8000}]", "");
    gateway_routing_to(&h, &ns, "nginx", &["closed-pool"]);
    // The API's default failureMode is FailClose. Without an NGF controller to read the version of,
    // nothing is guessed; `edge` is NGF's main branch, which has #5494.
    let (_, report) = doctor(&h, &["-n", &ns]);
    assert_no(&report, "LLMD-POOL-010");
    controller(&h, "nginx-gateway", "ngf-nginx-gateway-fabric", "ghcr.io/nginx/nginx-gateway-fabric:edge", &[]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    assert_no(&report, "LLMD-POOL-010");
    // A release before inference support is not judged by this check either (GWC-004 reports it).
    controller(&h, "nginx-gateway", "ngf-nginx-gateway-fabric", "ghcr.io/nginx/nginx-gateway-fabric:2.1.4", &[]);
    let (_, report) = doctor(&h, &["-n", &ns]);
    assert_no(&report, "LLMD-POOL-010");
}

/// The JSON between the single quotes of a `kubectl patch … -p '…'` hint.
fn quoted_patch(hint: &str) -> &str {
    hint.split('\'').nth(1).unwrap_or_else(|| panic!("no quoted patch in {hint}"))
}

#[test]
fn epp_008_picker_asking_for_a_sidecar_behind_agentgateway() {
    use crate::doctor_routing::{deploy, Opts, Shape, EPP};
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "agentgateway", "agentgateway.dev/agentgateway");
    controller(&h, "istio-system", "istiod", "docker.io/istio/pilot:1.29.2", &[(ISTIO_ENV, "true")]);
    let ns = h.namespace("lab-epp008");
    let inject = json!({"spec": {"template": {"metadata": {"labels": {"sidecar.istio.io/inject": "true"}}}}});
    deploy(&h, &ns, &Opts::new(Shape::Agentgateway).patch("Deployment", inject));
    let (_, report) = doctor(&h, &["-n", &ns]);
    let f = finding(&report, "LLMD-EPP-008", "Deployment", EPP, "error");
    says(
        f,
        "message",
        &[
            "label sidecar.istio.io/inject=true and istiod runs",
            &format!("Gateway {ns}/inference-gateway (agentgateway) is outside it"),
            "answers 500",
            "ai-dynamo/dynamo#9935",
        ],
    );
    let hint = f["hint"].as_str().unwrap();
    assert!(hint.starts_with(&format!("kubectl patch deployment {EPP} -n {ns} -p '")), "{hint}");
    // The printed patch, applied for real, turns injection off: the finding goes away.
    let out = h.kubectl(&["patch", "deployment", EPP, "-n", &ns, "-p", quoted_patch(hint)]);
    assert_success(&out, "the EPP-008 hint");
    let (_, report) = doctor(&h, &["-n", &ns]);
    assert_no(&report, "LLMD-EPP-008");
}

#[test]
fn epp_009_picker_tls_against_kgateway_and_nginx_gateway_fabric() {
    use crate::doctor_routing::{deploy, epp_container, Opts, Shape, EPP, POOL};
    let h = Lab::take();
    install_prereq(&h);
    accepted_class(&h, "kgateway", "kgateway.dev/kgateway");
    accepted_class(&h, "nginx", "gateway.nginx.org/nginx-gateway-controller");
    let on_class =
        |class: &str| Opts::new(Shape::Agentgateway).patch("Gateway", json!({"spec": {"gatewayClassName": class}}));
    let plaintext = |o: Opts, ns: &str| {
        let args = ["--pool-name", POOL, "--pool-namespace", ns, "--secure-serving=false"];
        let c = epp_container(args.iter().map(|s| s.to_string()).collect());
        o.patch("Deployment", json!({"spec": {"template": {"spec": {"containers": [c]}}}}))
    };
    // kgateway always speaks TLS: a plaintext picker fails.
    let kgw = h.namespace("lab-epp009-kgw");
    deploy(&h, &kgw, &plaintext(on_class("kgateway"), &kgw));
    // NGF told to connect in plaintext, in front of the default TLS picker.
    let ngf = h.namespace("lab-epp009-ngf");
    deploy(&h, &ngf, &on_class("nginx"));
    let ngf_args = "[controller, --gateway-api-inference-extension, --endpoint-picker-disable-tls]";
    ensure_namespace(&h, "nginx-gateway");
    h.apply_yaml(&format!(
        "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: ngf-nginx-gateway-fabric, namespace: nginx-gateway}}\n\
         spec:\n  selector: {{matchLabels: {{app: ngf}}}}\n  template:\n    metadata: {{labels: {{app: ngf}}}}\n    \
         spec: {{containers: [{{name: nginx-gateway, image: \"ghcr.io/nginx/nginx-gateway-fabric:2.6.7\", args: {ngf_args}}}]}}\n"
    ));
    // Healthy: kgateway with the default TLS picker.
    let kgw_ok = h.namespace("lab-epp009-kgw-ok");
    deploy(&h, &kgw_ok, &on_class("kgateway"));
    let (_, report) = doctor(&h, &[]);
    let at = |ns: &str| {
        report["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .find(|f| f["code"] == "LLMD-EPP-009" && f["object"]["namespace"] == ns)
            .unwrap_or_else(|| panic!("no LLMD-EPP-009 in {ns}: {:?}", summary(&report)))
    };
    let f = at(&kgw);
    assert_eq!((f["severity"].as_str(), f["object"]["name"].as_str()), (Some("error"), Some(EPP)), "{f:#}");
    says(f, "message", &["--secure-serving=false", "kgateway connects to it with TLS", "kgateway-dev/kgateway#11429"]);
    let f = at(&ngf);
    says(f, "message", &["serves TLS", "runs with --endpoint-picker-disable-tls", "nginx/nginx-gateway-fabric#4105"]);
    // Each printed patch, applied for real, makes picker and gateway agree: both findings go away.
    for ns in [&kgw, &ngf] {
        let hint = at(ns)["hint"].as_str().unwrap().to_string();
        let out = h.kubectl(&["patch", "deployment", EPP, "-n", ns, "--type=json", "-p", quoted_patch(&hint)]);
        assert_success(&out, "the EPP-009 hint");
    }
    assert!(with_code(&report, "LLMD-EPP-009").iter().all(|f| f["object"]["namespace"] != kgw_ok.as_str()));
    let (_, report) = doctor(&h, &[]);
    assert_no(&report, "LLMD-EPP-009");
}
