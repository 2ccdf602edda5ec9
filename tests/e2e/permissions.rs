//! The permission matrix: every command as five users, on the real API server.
//!
//! | user | grants |
//! |---|---|
//! | admin | the harness admin (client certificate, system:masters) |
//! | ns-reader | a Role in its namespace: get/list/watch on every resource of gateway.networking.k8s.io, inference.networking.k8s.io, inference.networking.x-k8s.io, networking.istio.io; nothing cluster-scoped |
//! | view | the built-in ClusterRole `view`, bound in its namespace by a RoleBinding |
//! | read-all | get/list/watch on every resource of every group, cluster-wide; no write |
//! | no-grants | authenticated, no binding at all |
//!
//! Each user but admin is a ServiceAccount with a bearer token (`kubectl create token`) and works in a
//! namespace of its own holding the same stack with one fixable finding (LLMD-RT-006), so the users
//! run in parallel. For each command the table says the exit code and what must be printed: what the
//! command did, which checks it skipped with the forbidden resource, and for writes the exact missing
//! permission, said before the first write (resourceVersions of the objects it would write are compared
//! before and after). Cluster-scoped writes that succeed (admin's `gateway install` and `gateway
//! uninstall`) run on the lab (`admin_installs_and_uninstalls_on_the_lab`).

use crate::doctor_routing::{deploy, Opts, Shape};
use crate::fixtures::cluster;
use crate::harness::{assert_success, Harness};
use crate::mirror::mirror;
use crate::run::{llmd_command, run, Run};
use serde_json::{json, Value};
use std::path::{Path, PathBuf};
use std::sync::OnceLock;
use std::time::Instant;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum User {
    Admin,
    NsReader,
    View,
    ReadAll,
    NoGrants,
}

const USERS: [User; 5] = [User::Admin, User::NsReader, User::View, User::ReadAll, User::NoGrants];

impl User {
    fn name(self) -> &'static str {
        match self {
            User::Admin => "admin",
            User::NsReader => "ns-reader",
            User::View => "view",
            User::ReadAll => "read-all",
            User::NoGrants => "no-grants",
        }
    }
}

/// One user's world: its kubeconfig and its namespace (holding the stack).
struct Seat {
    user: User,
    kubeconfig: PathBuf,
    namespace: String,
}

/// The stack with one fixable finding: an HTTPRoute naming the x-k8s InferencePool group (LLMD-RT-006).
pub(crate) fn fixable() -> Opts {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push((
        "HTTPRoute".into(),
        json!({"spec": {"rules": [{"backendRefs": [{"group": "inference.networking.x-k8s.io", "kind": "InferencePool", "name": "llm-pool"}]}]}}),
    ));
    o
}

/// The five seats, created once (users, bindings, stacks).
fn seats() -> &'static [Seat] {
    static SEATS: OnceLock<Vec<Seat>> = OnceLock::new();
    SEATS.get_or_init(|| {
        let h = cluster();
        let dir = tempfile::Builder::new().prefix("llmd-e2e-perm-").tempdir().expect("tempdir").keep();
        let seats: Vec<Seat> = USERS
            .iter()
            .map(|&user| {
                let ns = h.namespace(&format!("perm-{}", user.name()));
                deploy(h, &ns, &fixable());
                let kubeconfig = match user {
                    User::Admin => h.kubeconfig_admin.clone(),
                    _ => service_account_user(h, &ns, user, &dir),
                };
                Seat { user, kubeconfig, namespace: ns }
            })
            .collect();
        seats
    })
}

/// A ServiceAccount `user.name()` in `ns` with the user's grants, and a kubeconfig holding its token.
fn service_account_user(h: &Harness, ns: &str, user: User, dir: &Path) -> PathBuf {
    let sa = user.name();
    assert_success(&h.kubectl(&["create", "serviceaccount", sa, "-n", ns]), "create serviceaccount");
    let subject = format!("{ns}:{sa}");
    match user {
        User::NsReader => {
            h.apply_yaml(&format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: llm-d-reader, namespace: {ns}}}\n\
                 rules:\n- apiGroups: [gateway.networking.k8s.io, inference.networking.k8s.io, inference.networking.x-k8s.io, networking.istio.io]\n  \
                 resources: ['*']\n  verbs: [get, list, watch]\n"
            ));
            let out = h.kubectl(&[
                "create",
                "rolebinding",
                "llm-d-reader",
                "--role=llm-d-reader",
                &format!("--serviceaccount={subject}"),
                "-n",
                ns,
            ]);
            assert_success(&out, "create rolebinding llm-d-reader");
        }
        User::View => {
            let out = h.kubectl(&[
                "create",
                "rolebinding",
                "view",
                "--clusterrole=view",
                &format!("--serviceaccount={subject}"),
                "-n",
                ns,
            ]);
            assert_success(&out, "create rolebinding view");
        }
        User::ReadAll => {
            let role = format!("llmd-e2e-read-all-{ns}");
            h.apply_yaml(&format!(
                "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {{name: {role}}}\n\
                 rules:\n- apiGroups: ['*']\n  resources: ['*']\n  verbs: [get, list, watch]\n"
            ));
            let out = h.kubectl(&[
                "create",
                "clusterrolebinding",
                &role,
                &format!("--clusterrole={role}"),
                &format!("--serviceaccount={subject}"),
            ]);
            assert_success(&out, "create clusterrolebinding read-all");
        }
        User::Admin | User::NoGrants => {}
    }
    let out = h.kubectl(&["create", "token", sa, "-n", ns, "--duration=2h"]);
    assert_success(&out, "create token");
    let token = String::from_utf8_lossy(&out.stdout).trim().to_string();
    crate::secrets::register(&token);
    let path = dir.join(format!("{sa}.kubeconfig"));
    let config = json!({
        "apiVersion": "v1",
        "kind": "Config",
        "clusters": [{"name": "harness", "cluster": {"server": h.server, "certificate-authority": h.ca}}],
        "users": [{"name": sa, "user": {"token": token}}],
        "contexts": [{"name": sa, "context": {"cluster": "harness", "user": sa, "namespace": ns}}],
        "current-context": sa,
    });
    std::fs::write(&path, config.to_string()).expect("write kubeconfig");
    path
}

/// A command of the matrix, with `{ns}` standing for the user's namespace.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Cmd {
    Version,
    Doctor,
    DoctorNs,
    PoolStatus,
    GatewayStatus,
    InstallDryRun,
    Install,
    Fix,
    Uninstall,
}

const COMMANDS: [Cmd; 9] = [
    Cmd::Version,
    Cmd::Doctor,
    Cmd::DoctorNs,
    Cmd::PoolStatus,
    Cmd::GatewayStatus,
    Cmd::InstallDryRun,
    Cmd::Install,
    Cmd::Fix,
    Cmd::Uninstall,
];

/// The CRD upgrade the install rows plan on the shared harness (it holds v1.3.0 + v1.0.1).
const UPGRADE: [&str; 4] = ["--gateway-api-version", "v1.4.1", "--inference-extension-version", "v1.0.1"];

impl Cmd {
    fn args(self, ns: &str) -> Vec<String> {
        let v: Vec<&str> = match self {
            Cmd::Version => vec!["version", "-o", "json"],
            Cmd::Doctor => vec!["doctor", "-o", "json"],
            Cmd::DoctorNs => vec!["doctor", "-n", ns, "-o", "json"],
            Cmd::PoolStatus => vec!["pool", "status", "-n", ns, "-o", "json"],
            Cmd::GatewayStatus => vec!["gateway", "status", "-o", "json"],
            Cmd::InstallDryRun => [&["gateway", "install", "--crds-only", "--dry-run"][..], &UPGRADE[..]].concat(),
            Cmd::Install => [&["gateway", "install", "--crds-only"][..], &UPGRADE[..]].concat(),
            Cmd::Fix => vec!["doctor", "-n", ns, "--fix=LLMD-RT-006", "--yes"],
            Cmd::Uninstall => vec!["gateway", "uninstall", "--crds-only"],
        };
        v.into_iter().map(str::to_string).collect()
    }

    /// A write that succeeds for admin changes cluster-scoped state: the lab's.
    fn admin_on_lab(self) -> bool {
        matches!(self, Cmd::Install | Cmd::Uninstall)
    }
}

fn llmd_as(kubeconfig: &Path, args: &[String]) -> Run {
    let mut cmd = llmd_command(&[]);
    cmd.args(args).env("KUBECONFIG", kubeconfig).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

/// What a run changed: resourceVersions of the CRDs and of the objects in the user's namespace.
fn state(h: &Harness, ns: &str) -> Vec<(String, String)> {
    let mut all = Vec::new();
    for (resources, ns) in [
        ("customresourcedefinitions", None),
        ("httproutes.gateway.networking.k8s.io,inferencepools.inference.networking.k8s.io,gateways.gateway.networking.k8s.io,services,deployments", Some(ns)),
    ] {
        let mut args = vec!["get", resources, "-o", "json"];
        if let Some(ns) = ns {
            args.extend(["-n", ns]);
        }
        let out = h.kubectl(&args);
        assert_success(&out, "kubectl get (state)");
        let v: Value = serde_json::from_slice(&out.stdout).expect("json");
        for o in v["items"].as_array().expect("items") {
            all.push((
                format!("{}/{}/{}", o["kind"].as_str().unwrap_or(""), o["metadata"]["namespace"], o["metadata"]["name"]),
                o["metadata"]["resourceVersion"].as_str().unwrap_or("").to_string(),
            ));
        }
    }
    all.sort();
    all
}

/// What a row must show. `{ns}` in any text stands for the user's namespace.
struct Expect {
    code: i32,
    /// Lines (or parts of lines) stderr must hold.
    stderr: &'static [&'static str],
    /// Parts stdout must hold.
    stdout: &'static [&'static str],
    /// (check code, skip reason) pairs of doctor's JSON report.
    skipped: &'static [(&'static str, &'static str)],
    /// Whether the run changes the user's namespace (only admin's --fix does).
    writes: bool,
}

const fn ok(stdout: &'static [&'static str]) -> Expect {
    Expect { code: 0, stderr: &[], stdout, skipped: &[], writes: false }
}

const fn refused(code: i32, stderr: &'static [&'static str]) -> Expect {
    Expect { code, stderr, stdout: &[], skipped: &[], writes: false }
}

const VERSION: Expect = ok(&["\"gitVersion\": \"v1.36.3\""]);
const BLIND: &str = "error: doctor could not run a single check (forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io)";
const INSTALL_MISSING_ALL: &str = "error: you may not install the gateway prerequisites on {server}: missing permission to list customresourcedefinitions.apiextensions.k8s.io, create customresourcedefinitions.apiextensions.k8s.io, patch customresourcedefinitions.apiextensions.k8s.io; nothing was changed";
const UNINSTALL_MISSING_ALL: &str = "error: you may not uninstall the gateway prerequisites on {server}: missing permission to list customresourcedefinitions.apiextensions.k8s.io, delete customresourcedefinitions.apiextensions.k8s.io; nothing was changed";
const FIX_MAY_NOT_PATCH: &str = "error: cannot repair: the current user may not patch httproutes.gateway.networking.k8s.io in namespace {ns} (checked with SelfSubjectAccessReview); nothing was changed";
const FIX_BLIND: &str = "error: doctor could not run a single check (forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io); nothing was changed";
const GATEWAY_STATUS_BLIND: &str = "error: gateway status could not read the installed CRDs (forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io)";
const POOLS_FORBIDDEN: &str = "error: pool status could not read InferencePools (forbidden: cannot list inferencepools.inference.networking.k8s.io in namespace {ns})";
const RT006_ALL_FORBIDDEN: (&str, &str) =
    ("LLMD-RT-006", "forbidden: cannot list httproutes.gateway.networking.k8s.io in all namespaces");
const RT006_NS_FORBIDDEN: (&str, &str) =
    ("LLMD-RT-006", "forbidden: cannot list httproutes.gateway.networking.k8s.io in namespace {ns}");
const CRD001_FORBIDDEN: (&str, &str) =
    ("LLMD-CRD-001", "forbidden: cannot list customresourcedefinitions.apiextensions.k8s.io");

/// The matrix: what each user sees from each command.
fn expect(user: User, cmd: Cmd) -> Expect {
    use Cmd::*;
    use User::*;
    match (user, cmd) {
        (_, Version) => VERSION,
        // Cluster-wide, read-all sees everything but may not create SubjectAccessReviews: LLMD-EPP-007 is
        // skipped whenever a picker in another test's namespace serves no ready endpoint (check_row checks that
        // nothing else is skipped).
        (ReadAll, Doctor) => Expect {
            code: 1,
            stderr: &[],
            stdout: &["\"code\": \"LLMD-RT-006\""],
            skipped: &[],
            writes: false,
        },
        // Admin and read-all see everything: the finding, nothing skipped.
        (Admin | ReadAll, Doctor | DoctorNs) => Expect {
            code: 1,
            stderr: &[],
            stdout: &["\"code\": \"LLMD-RT-006\"", "\"skipped\": 0"],
            skipped: &[],
            writes: false,
        },
        (Admin | ReadAll, PoolStatus) => ok(&["\"name\": \"llm-pool\"", "\"status\": \"HTTPRoute broken (LLMD-RT-006)\""]),
        (Admin | ReadAll, GatewayStatus) => ok(&["\"versions\": [\n        \"v1.3.0\"", "\"versions\": [\n        \"v1.0.1\""]),
        (Admin, InstallDryRun) => ok(&["upgrade v1.3.0 → v1.4.1", "dry run: the API server accepted every change", "dry run: nothing was changed"]),
        (Admin, Fix) => Expect {
            code: 0,
            stderr: &["✔ LLMD-RT-006 · patch HTTPRoute {ns}/llm-route: updated HTTPRoute {ns}/llm-route"],
            stdout: &["-    - group: inference.networking.x-k8s.io", "+    - group: inference.networking.k8s.io"],
            skipped: &[],
            writes: true,
        },
        (Admin, Install | Uninstall) => unreachable!("admin's cluster-scoped writes run on the lab"),
        // read-all: every read, no write — refused before the first write, naming what is missing.
        (ReadAll, InstallDryRun | Install) => refused(2, &["error: you may not install the gateway prerequisites on {server}: missing permission to create customresourcedefinitions.apiextensions.k8s.io, patch customresourcedefinitions.apiextensions.k8s.io; nothing was changed"]),
        (ReadAll, Uninstall) => refused(2, &["error: you may not uninstall the gateway prerequisites on {server}: missing permission to delete customresourcedefinitions.apiextensions.k8s.io; nothing was changed"]),
        (ReadAll, Fix) => refused(2, &[FIX_MAY_NOT_PATCH]),
        // ns-reader: the llm-d kinds of its namespace and nothing cluster-scoped.
        (NsReader, Doctor) => Expect { code: 2, stderr: &[BLIND], stdout: &[], skipped: &[CRD001_FORBIDDEN, RT006_ALL_FORBIDDEN], writes: false },
        (NsReader, DoctorNs) => Expect {
            code: 1,
            stderr: &[],
            stdout: &["\"code\": \"LLMD-RT-006\""],
            skipped: &[
                CRD001_FORBIDDEN,
                ("LLMD-GWC-003", "forbidden: cannot list gatewayclasses.gateway.networking.k8s.io"),
                ("LLMD-ADM-003", "forbidden: cannot list validatingwebhookconfigurations.admissionregistration.k8s.io"),
                ("LLMD-EPP-001", "forbidden: cannot list services in namespace {ns}"),
                ("LLMD-POD-001", "forbidden: cannot list pods in namespace {ns}"),
                ("LLMD-IST-004", "forbidden: cannot list deployments.apps in namespace {ns}"),
            ],
            writes: false,
        },
        (NsReader, PoolStatus) => Expect {
            code: 0,
            stderr: &[
                "warning: Services not read (forbidden: cannot list services in namespace {ns})",
                "warning: EndpointSlices not read (forbidden: cannot list endpointslices.discovery.k8s.io in namespace {ns})",
                "warning: Deployments not read (forbidden: cannot list deployments.apps in namespace {ns})",
                "warning: Pods not read (forbidden: cannot list pods in namespace {ns})",
            ],
            stdout: &["\"name\": \"llm-pool\"", "\"status\": \"HTTPRoute broken (LLMD-RT-006)\""],
            skipped: &[],
            writes: false,
        },
        // view in one namespace: no Gateway API / InferencePool kinds (view does not aggregate them).
        (View, Doctor) | (NoGrants, Doctor) => Expect { code: 2, stderr: &[BLIND], stdout: &[], skipped: &[CRD001_FORBIDDEN, RT006_ALL_FORBIDDEN], writes: false },
        (View | NoGrants, DoctorNs) => Expect { code: 2, stderr: &[BLIND], stdout: &[], skipped: &[CRD001_FORBIDDEN, RT006_NS_FORBIDDEN], writes: false },
        (View | NoGrants, PoolStatus) => refused(2, &[POOLS_FORBIDDEN]),
        (NsReader | View | NoGrants, GatewayStatus) => refused(2, &[GATEWAY_STATUS_BLIND]),
        (NsReader | View | NoGrants, InstallDryRun | Install) => refused(2, &[INSTALL_MISSING_ALL]),
        (NsReader | View | NoGrants, Uninstall) => refused(2, &[UNINSTALL_MISSING_ALL]),
        (NsReader, Fix) => refused(2, &[FIX_MAY_NOT_PATCH]),
        (View | NoGrants, Fix) => refused(2, &[FIX_BLIND]),
    }
}

fn fill(text: &str, ns: &str, server: &str) -> String {
    text.replace("{ns}", ns).replace("{server}", server)
}

/// Run one row and check it; returns the table line of what was observed.
fn check_row(h: &Harness, seat: &Seat, cmd: Cmd) -> String {
    let e = expect(seat.user, cmd);
    let ns = seat.namespace.as_str();
    let before = state(h, ns);
    let r = llmd_as(&seat.kubeconfig, &cmd.args(ns));
    let after = state(h, ns);
    let what = format!("{} as {}", cmd.args(ns).join(" "), seat.user.name());
    assert_eq!(r.code, e.code, "{what}: exit code\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    for want in e.stderr {
        let want = fill(want, ns, &h.server);
        assert!(r.stderr.lines().any(|l| l.starts_with(&want)), "{what}: stderr lacks {want:?}:\n{}", r.stderr);
    }
    if e.code == 2 {
        let errors = r.stderr.lines().filter(|l| l.starts_with("error:")).count();
        assert_eq!(errors, 1, "{what}: one error line\n{}", r.stderr);
        assert!(r.stderr.lines().any(|l| l.starts_with("hint:")), "{what}: a hint\n{}", r.stderr);
    } else if e.stderr.is_empty() {
        assert!(!r.stderr.contains("warning:"), "{what}: no warning expected\n{}", r.stderr);
    }
    for want in e.stdout {
        assert!(r.stdout.contains(&fill(want, ns, &h.server)), "{what}: stdout lacks {want:?}:\n{}", r.stdout);
    }
    if matches!((seat.user, cmd), (User::ReadAll, Cmd::Doctor)) {
        let report = r.json();
        for c in report["checks"].as_array().unwrap().iter().filter(|c| c["status"] == "skip") {
            assert_eq!(
                (c["code"].as_str(), c["reason"].as_str()),
                (Some("LLMD-EPP-007"), Some("forbidden: cannot create subjectaccessreviews.authorization.k8s.io")),
                "{what}: only the SubjectAccessReviews may be missing: {c:#}"
            );
        }
    }
    if !e.skipped.is_empty() {
        let report = r.json();
        for (code, reason) in e.skipped {
            let check = report["checks"].as_array().unwrap().iter().find(|c| c["code"] == *code).expect(code);
            assert_eq!(check["status"], "skip", "{what}: {code} {check:#}");
            assert_eq!(check["reason"].as_str().unwrap_or(""), fill(reason, ns, &h.server), "{what}: {code}");
        }
    }
    if e.writes {
        let changed: Vec<&(String, String)> = after.iter().filter(|x| !before.contains(x)).collect();
        assert_eq!(changed.len(), 1, "{what}: only the route changes: {changed:?}");
        assert!(changed[0].0.starts_with("HTTPRoute/"), "{what}: {changed:?}");
    } else {
        assert_eq!(after, before, "{what}: changed objects");
    }
    let first = r.stderr.lines().find(|l| l.starts_with("error:") || l.starts_with("warning:")).unwrap_or("");
    format!("| {} | {} | {} | {} |", seat.user.name(), cmd.args("NS").join(" "), r.code, first.replace(ns, "NS"))
}

#[test]
fn permission_matrix() {
    let h = cluster();
    let started = Instant::now();
    let seats = seats();
    let setup = started.elapsed();
    let started = Instant::now();
    // One thread per user (each in its own namespace); the commands of a user run in order, --fix last
    // but one so the rows before it see the finding.
    let rows: Vec<Result<String, String>> = std::thread::scope(|s| {
        let handles: Vec<_> = seats
            .iter()
            .map(|seat| {
                s.spawn(move || {
                    COMMANDS
                        .iter()
                        .filter(|c| !(seat.user == User::Admin && c.admin_on_lab()))
                        .map(|&c| {
                            // Every row runs even when one fails, so one run shows the whole matrix.
                            std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| check_row(h, seat, c)))
                                .map_err(|_| format!("{} {:?}", seat.user.name(), c))
                        })
                        .collect::<Vec<_>>()
                })
            })
            .collect();
        handles.into_iter().flat_map(|h| h.join().expect("rows catch their panics")).collect()
    });
    let failed: Vec<&String> = rows.iter().filter_map(|r| r.as_ref().err()).collect();
    assert!(failed.is_empty(), "rows failed (their panics are printed above): {failed:?}");
    let rows: Vec<String> = rows.into_iter().map(Result::unwrap_or_default).collect();
    eprintln!(
        "permission matrix: setup {:.1}s, {} rows in {:.1}s\n| user | command | exit | first error/warning |\n|---|---|---|---|\n{}",
        setup.as_secs_f64(),
        rows.len(),
        started.elapsed().as_secs_f64(),
        rows.join("\n")
    );
    assert!(started.elapsed().as_secs() < 60, "the matrix must stay fast");
}

/// Admin's cluster-scoped writes, on the lab: install then uninstall the prerequisite CRDs.
#[test]
fn admin_installs_and_uninstalls_on_the_lab() {
    let h = crate::lab::Lab::take();
    let admin = h.kubeconfig_admin.clone();
    let r = llmd_as(&admin, &Cmd::Install.args("default")[..3]);
    r.expect_code(0);
    assert!(r.stdout.contains("+ gatewayclasses.gateway.networking.k8s.io"), "{}", r.stdout);
    let out = h.kubectl(&["get", "crd", "-o", "name"]);
    assert_success(&out, "kubectl get crd");
    assert_eq!(String::from_utf8_lossy(&out.stdout).lines().count(), 8, "the prerequisite's 8 CRDs");
    let r = llmd_as(&admin, &Cmd::Uninstall.args("default"));
    r.expect_code(0);
    assert!(
        r.stdout.contains("deleted CustomResourceDefinition gatewayclasses.gateway.networking.k8s.io"),
        "{}",
        r.stdout
    );
    let out = h.kubectl(&["wait", "--for=delete", "crd", "--all", "--timeout=60s"]);
    let _ = out;
    let out = h.kubectl(&["get", "crd", "-o", "name"]);
    assert_success(&out, "kubectl get crd");
    assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
}
