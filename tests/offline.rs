//! What users see from `doctor -f` on the bundled examples: no cluster needed.
//! Snapshots (insta) pin the table and JSON output; assertions pin the exit codes.

use std::process::Command;

/// `kubectl-llmd doctor ARGS` from the repository root, without colour, kubeconfig or any profile variable.
fn doctor_command(args: &[&str]) -> Command {
    let mut cmd = Command::new(env!("CARGO_BIN_EXE_kubectl-llmd"));
    cmd.arg("doctor")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("GATEWAY_API_CRD_REVISION")
        .env_remove("GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION")
        .env_remove("GATEWAY_API_VERSION")
        .env_remove("GAIE_VERSION")
        .env_remove("GATEWAY_API_INFERENCE_EXTENSION_VERSION");
    cmd
}

/// Exit code, stdout and stderr of a finished command.
fn output(mut cmd: Command) -> (i32, String, String) {
    let out = cmd.output().expect("run kubectl-llmd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

fn doctor(args: &[&str]) -> (i32, String, String) {
    output(doctor_command(args))
}

#[test]
fn broken_example_table() {
    let (code, stdout, stderr) = doctor(&["-f", "examples/broken"]);
    assert_eq!(code, 1, "{stderr}");
    assert!(stdout.contains("✖ Status: broken"), "{stdout}");
    insta::assert_snapshot!("broken_table", stdout);
}

#[test]
fn broken_example_json() {
    let (code, stdout, _) = doctor(&["-f", "examples/broken", "-o", "json"]);
    assert_eq!(code, 1, "same exit code for every -o");
    let v: serde_json::Value = serde_json::from_str(&stdout).expect("json");
    for key in ["summary", "checks", "findings"] {
        assert!(v.get(key).is_some(), "missing {key}");
    }
    for f in v["findings"].as_array().unwrap() {
        for key in ["code", "severity", "category", "object", "message", "hint", "fixable"] {
            assert!(f.get(key).is_some(), "finding without {key}: {f}");
        }
        for key in ["kind", "group", "namespace", "name"] {
            assert!(f["object"].get(key).is_some(), "object without {key}: {f}");
        }
    }
    insta::assert_json_snapshot!("broken_json", v);
}

#[test]
fn broken_example_yaml_matches_json() {
    let (code, stdout, _) = doctor(&["-f", "examples/broken", "-o", "yaml"]);
    assert_eq!(code, 1);
    let from_yaml: serde_json::Value = serde_saphyr::from_str(&stdout).expect("yaml");
    let (_, json, _) = doctor(&["-f", "examples/broken", "-o", "json"]);
    let from_json: serde_json::Value = serde_json::from_str(&json).unwrap();
    assert_eq!(from_yaml, from_json);
}

#[test]
fn healthy_example_has_no_error_or_warning() {
    let (code, stdout, stderr) = doctor(&["-f", "examples/healthy"]);
    assert_eq!(code, 0, "{stdout}{stderr}");
    assert!(!stdout.contains('✖') && !stdout.contains('‼'), "{stdout}");
    insta::assert_snapshot!("healthy_table", stdout);
}

#[test]
fn fail_on_controls_the_exit_code() {
    // The broken example has warnings (FailOpen, unrouted pool) besides errors; the healthy one has none.
    let (code, _, _) = doctor(&["-f", "examples/broken", "--fail-on", "never"]);
    assert_eq!(code, 0);
    let (code, _, _) = doctor(&["-f", "examples/healthy", "--fail-on", "warning"]);
    assert_eq!(code, 0);
}

#[test]
fn stdin_and_list_kinds_are_read() {
    let list = r#"{"apiVersion":"v1","kind":"List","items":[
      {"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{"name":"r","namespace":"a"},
       "spec":{"rules":[{"backendRefs":[{"group":"inference.networking.k8s.io","kind":"InferencePool","name":"missing"}]}]}}]}"#;
    let mut child = Command::new(env!("CARGO_BIN_EXE_kubectl-llmd"))
        .args(["doctor", "-f", "-", "-o", "json"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .spawn()
        .unwrap();
    use std::io::Write;
    child.stdin.take().unwrap().write_all(list.as_bytes()).unwrap();
    let out = child.wait_with_output().unwrap();
    assert_eq!(out.status.code(), Some(1));
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).unwrap();
    assert!(v["findings"].as_array().unwrap().iter().any(|f| f["code"] == "LLMD-RT-004" && f["object"]["name"] == "r"));
}

#[test]
fn invalid_yaml_is_one_line_and_exit_2() {
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad.yaml");
    std::fs::write(&bad, "apiVersion: v1\nkind: Service\nmetadata: [\n").unwrap();
    let (code, stdout, stderr) = doctor(&["-f", bad.to_str().unwrap()]);
    assert_eq!(code, 2);
    assert!(stdout.is_empty());
    assert!(stderr.starts_with("error: invalid YAML in") && stderr.contains("bad.yaml"), "{stderr}");
    assert!(stderr.contains("hint:"), "{stderr}");
    let (code, _, stderr) = doctor(&["-f", "/nonexistent/dir"]);
    assert_eq!(code, 2);
    assert!(stderr.contains("/nonexistent/dir"), "{stderr}");
}

/// doctor in a controlled environment: HOME without a kubeconfig, KUBECONFIG only when given.
fn doctor_with(args: &[&str], home: &std::path::Path, kubeconfig: Option<&std::path::Path>) -> (i32, String, String) {
    let mut cmd = doctor_command(args);
    cmd.env("HOME", home);
    if let Some(kc) = kubeconfig {
        cmd.env("KUBECONFIG", kc);
    }
    output(cmd)
}

const OBJECT_HINT: &str = "hint: every YAML document must be one object with apiVersion, kind and metadata.name (or a kind: List of them), as `kubectl apply -f` expects";
const NO_OBJECTS_HINT: &str = "hint: -f takes YAML or JSON manifests (a file, a directory of them, or - for stdin) holding objects with apiVersion and kind, as `kubectl apply -f` does";

#[test]
fn input_without_objects_or_unreadable_is_exit_2_naming_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let file = |name: &str, text: &str| {
        let p = d.join(name);
        std::fs::write(&p, text).unwrap();
        p.display().to_string()
    };
    let scalars = file("scalars.yaml", "- a\n- b\n");
    let untyped = file("untyped.yaml", "metadata: {name: x}\nspec: {}\n");
    let list = file("list.yaml", "apiVersion: v1\nkind: List\nitems: [a, b]\n");
    let empty = file("empty.yaml", "");
    let gateway = file(
        "gateway.yaml",
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: llm}\n\
         spec:\n  gatewayClassName: istio\n  listeners: {name: http}\n",
    );
    let empty_dir = d.join("nothing");
    std::fs::create_dir(&empty_dir).unwrap();
    let empty_dir = empty_dir.display().to_string();
    let stdin = "-".to_string(); // Command::output gives the child an empty stdin
    let cases = [
        (&stdin, format!("error: no objects passed to doctor: stdin holds no Kubernetes object\n{NO_OBJECTS_HINT}\n")),
        (&scalars, format!("error: {scalars} (document 1) is not a Kubernetes object: found a list\n{OBJECT_HINT}\n")),
        (
            &untyped,
            format!("error: {untyped} (document 1) is not a Kubernetes object: apiVersion and kind are missing\n{OBJECT_HINT}\n"),
        ),
        (&list, format!("error: {list} (document 1, items[0]) is not a Kubernetes object: found a string\n{OBJECT_HINT}\n")),
        (&empty, format!("error: no objects passed to doctor: {empty} holds no Kubernetes object\n{NO_OBJECTS_HINT}\n")),
        (
            &empty_dir,
            format!(
                "error: no objects passed to doctor: {empty_dir} holds no *.yaml, *.yml or *.json file\n{NO_OBJECTS_HINT}\n"
            ),
        ),
        (
            &gateway,
            format!(
                "error: cannot read Gateway llm/gw in {gateway} (document 1): spec.listeners: invalid type: map, expected a sequence\n\
                 hint: fix that field; `kubectl apply --dry-run=server -f {gateway}` shows how the API server reads it\n"
            ),
        ),
    ];
    for (path, expected) in cases {
        for output in ["table", "json"] {
            let (code, stdout, stderr) = doctor_with(&["-f", path, "-o", output], d, None);
            assert_eq!((code, stdout.as_str(), stderr.as_str()), (2, "", expected.as_str()), "doctor -f {path}");
        }
    }
}

/// llm-d's quickstart shape: the chart's objects say `namespace: default`, gateway.yaml names none
/// and has an empty `annotations:`.
const GATEWAY_WITHOUT_NAMESPACE: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  \
    name: inference-gateway\n  annotations:\nspec:\n  gatewayClassName: istio\n  listeners:\n  - {name: http, port: 80, protocol: HTTP}\n";
const ROUTE_IN_DEFAULT: &str = "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: llm-route, namespace: default}\n\
    spec:\n  parentRefs: [{name: inference-gateway}]\n  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: missing}]}]\n";
const ROUTE_WITHOUT_NAMESPACE: &str =
    "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r}\n\
    spec:\n  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: missing}]}]\n";

fn findings(stdout: &str, code: &str) -> Vec<serde_json::Value> {
    let v: serde_json::Value = serde_json::from_str(stdout).unwrap_or_else(|e| panic!("{e}: {stdout}"));
    v["findings"].as_array().unwrap().iter().filter(|f| f["code"] == code).cloned().collect()
}

#[test]
fn a_gateway_with_null_annotations_and_no_namespace_is_where_kubectl_puts_it() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    std::fs::write(d.join("gateway.yaml"), GATEWAY_WITHOUT_NAMESPACE).unwrap();
    std::fs::write(d.join("route.yaml"), ROUTE_IN_DEFAULT).unwrap();
    let files = d.display().to_string();
    let (code, stdout, stderr) = doctor_with(&["-f", &files, "-o", "json"], d, None);
    assert_eq!(code, 1, "{stderr}"); // the route's pool is missing
    assert_eq!(stderr, "");
    assert_eq!(findings(&stdout, "LLMD-RT-001"), Vec::<serde_json::Value>::new(), "the Gateway is found");
    // Placed in another namespace with -n, the Gateway is really not the route's parent.
    let (_, stdout, _) = doctor_with(&["-f", &files, "-n", "other", "-o", "json"], d, None);
    let missing = findings(&stdout, "LLMD-RT-001");
    assert_eq!(missing.len(), 1, "{stdout}");
    assert_eq!(
        missing[0]["message"],
        "HTTPRoute default/llm-route parentRef names Gateway default/inference-gateway, which does not exist (NoMatchingParent)"
    );
}

#[test]
fn namespace_less_objects_go_to_n_else_the_context_namespace_else_default() {
    let dir = tempfile::tempdir().unwrap();
    let d = dir.path();
    let route = d.join("route.yaml");
    std::fs::write(&route, ROUTE_WITHOUT_NAMESPACE).unwrap();
    let kubeconfig = d.join("kubeconfig");
    std::fs::write(
        &kubeconfig,
        "apiVersion: v1\nkind: Config\ncurrent-context: team\nclusters:\n- {name: c, cluster: {server: 'https://127.0.0.1:1'}}\n\
         users:\n- {name: u, user: {token: t}}\ncontexts:\n- {name: team, context: {cluster: c, user: u, namespace: team-a}}\n\
         - {name: plain, context: {cluster: c, user: u}}\n",
    )
    .unwrap();
    let route = route.display().to_string();
    let kc = Some(kubeconfig.as_path());
    let missing_kc = d.join("no-such-kubeconfig");
    let cases: [(&[&str], Option<&std::path::Path>, &str); 6] = [
        (&["-n", "mine"], kc, "mine"),
        (&[], kc, "team-a"),
        (&["--context", "plain"], kc, "default"),
        (&["--context", "team"], kc, "team-a"),
        (&[], None, "default"),
        (&[], Some(missing_kc.as_path()), "default"),
    ];
    for (extra, kubeconfig, namespace) in cases {
        let mut args = vec!["-f", route.as_str(), "-o", "json"];
        args.extend_from_slice(extra);
        let (code, stdout, stderr) = doctor_with(&args, d, kubeconfig);
        assert_eq!(code, 1, "{args:?}: {stderr}");
        let f = findings(&stdout, "LLMD-RT-004");
        assert_eq!(f.len(), 1, "{args:?}: {stdout}");
        assert_eq!(f[0]["object"]["namespace"], namespace, "{args:?} with KUBECONFIG {kubeconfig:?}");
    }
    let (code, stdout, stderr) = doctor_with(&["-f", &route, "--context", "gone"], d, kc);
    assert_eq!((code, stdout.as_str()), (2, ""));
    assert_eq!(
        stderr,
        format!(
            "error: context \"gone\" not found in kubeconfig {}\nhint: available contexts: team, plain\n",
            kubeconfig.display()
        )
    );
}

#[test]
fn dump_example_is_diagnosed_with_its_status() {
    let (code, stdout, stderr) = doctor(&["-f", "examples/dump/broken-cluster.yaml"]);
    assert_eq!(code, 1, "{stderr}");
    // Checks that read status run on the dump: only the server version is unknown.
    for code in ["LLMD-RT-010", "LLMD-EPP-004", "LLMD-POD-002", "LLMD-GWC-003", "LLMD-IST-003"] {
        let failed =
            stdout.lines().any(|l| (l.starts_with("✖ ") || l.starts_with("‼ ")) && l.ends_with(&format!("[{code}]")));
        assert!(failed, "{code} did not fail:\n{stdout}");
    }
    assert!(
        stdout.contains("- 2 checks skipped (the server version cannot be known offline) [LLMD-CLU-001, LLMD-CLU-002]"),
        "{stdout}"
    );
    assert!(!stdout.contains("needs object status"), "{stdout}");
    insta::assert_snapshot!("dump_table", stdout);
}
