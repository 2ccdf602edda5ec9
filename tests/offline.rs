//! What users see from `doctor -f` on the bundled examples: no cluster needed.
//! Snapshots (insta) pin the table and JSON output; assertions pin the exit codes.

use std::process::Command;

fn doctor(args: &[&str]) -> (i32, String, String) {
    let out = Command::new(env!("CARGO_BIN_EXE_kubectl-llmd"))
        .arg("doctor")
        .args(args)
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .env("NO_COLOR", "1")
        .env_remove("KUBECONFIG")
        .env_remove("GATEWAY_API_CRD_REVISION")
        .env_remove("GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION")
        .output()
        .expect("run kubectl-llmd");
    (
        out.status.code().unwrap_or(-1),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
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
