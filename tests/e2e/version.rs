//! Issue 2: `version`, kubeconfig resolution, plugin discovery and connection errors, for real.

use crate::common::kc;
use crate::harness::harness;
use crate::run::{llmd, llmd_command, llmd_with_kubeconfig_env, path_with, plugin_path_dir, run};
use std::net::TcpListener;

#[test]
fn version_reports_plugin_and_server_versions() {
    let h = harness();
    let r = llmd(&["version", "--kubeconfig", kc(&h.kubeconfig_admin)]);
    r.expect_code(0);
    assert!(r.stdout.contains(&format!("Plugin Version: v{}", env!("CARGO_PKG_VERSION"))), "{}", r.stdout);
    assert!(r.stdout.contains("Server Version: v1.36.3"), "{}", r.stdout);
    assert!(r.stderr.is_empty(), "nothing on stderr on success: {}", r.stderr);

    let j = llmd(&["version", "--kubeconfig", kc(&h.kubeconfig_admin), "-o", "json"]);
    j.expect_code(0);
    let v = j.json();
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.36.3");
    assert_eq!(v["serverVersion"]["server"], h.server.as_str());
    assert_eq!(v["pluginVersion"], format!("v{}", env!("CARGO_PKG_VERSION")));

    let y = llmd(&["version", "--kubeconfig", kc(&h.kubeconfig_admin), "-o", "yaml"]);
    y.expect_code(0);
    assert!(y.stdout.contains("gitVersion: v1.36.3"), "{}", y.stdout);
}

#[test]
fn kubectl_discovers_the_plugin_on_path() {
    let h = harness();
    let dir = plugin_path_dir();
    let mut list = std::process::Command::new(h.kubectl_path());
    list.args(["plugin", "list"]).env("PATH", path_with(&dir));
    let l = run(list);
    assert!(l.stdout.contains("kubectl-llmd"), "kubectl plugin list: {}{}", l.stdout, l.stderr);

    let mut cmd = std::process::Command::new(h.kubectl_path());
    cmd.args(["llmd", "version", "--kubeconfig", kc(&h.kubeconfig_admin)])
        .env("PATH", path_with(&dir))
        .env("NO_COLOR", "1");
    let r = run(cmd);
    r.expect_code(0);
    assert!(r.stdout.contains("Server Version: v1.36.3"), "{}", r.stdout);

    // Errors keep their exit code through kubectl.
    let mut bad = std::process::Command::new(h.kubectl_path());
    bad.args(["llmd", "version", "--kubeconfig", kc(&h.kubeconfig_admin), "--context", "nope"])
        .env("PATH", path_with(&dir));
    let b = run(bad);
    assert_eq!(b.code, 2, "{}", b.stderr);
    assert!(b.stderr.contains("context \"nope\" not found"), "{}", b.stderr);
}

#[test]
fn context_and_kubeconfig_lists_pick_the_right_cluster_and_user() {
    let h = harness();
    // KUBECONFIG lists merge first-wins: the viewer file first makes its context current.
    let list = format!("{}:{}", kc(&h.kubeconfig_viewer), kc(&h.kubeconfig_admin));
    let r = llmd_with_kubeconfig_env(&["version", "-o", "json"], &list);
    r.expect_code(0);
    assert_eq!(r.json()["serverVersion"]["context"], "harness-viewer");

    let r = llmd_with_kubeconfig_env(&["version", "-o", "json", "--context", "harness-admin"], &list);
    r.expect_code(0);
    assert_eq!(r.json()["serverVersion"]["context"], "harness-admin");

    // --kubeconfig wins over KUBECONFIG.
    let mut cmd = llmd_command(&["version", "-o", "json", "--kubeconfig", kc(&h.kubeconfig_admin)]);
    cmd.env("KUBECONFIG", "/nonexistent/kubeconfig");
    let r = run(cmd);
    r.expect_code(0);
    assert_eq!(r.json()["serverVersion"]["context"], "harness-admin");

    // --cluster picks the cluster entry: a second, dead cluster in the same file is not used unless named.
    let dir = tempfile::tempdir().unwrap();
    let text = std::fs::read_to_string(&h.kubeconfig_admin).unwrap();
    let extra = dir.path().join("extra.yaml");
    std::fs::write(
        &extra,
        "apiVersion: v1\nkind: Config\nclusters:\n- name: dead\n  cluster:\n    server: https://127.0.0.1:1\n",
    )
    .unwrap();
    let admin_copy = dir.path().join("admin.yaml");
    std::fs::write(&admin_copy, text).unwrap();
    let list = format!("{}:{}", admin_copy.display(), extra.display());
    let ok = llmd_with_kubeconfig_env(&["version", "-o", "json"], &list);
    ok.expect_code(0);
    let dead = llmd_with_kubeconfig_env(&["version", "--cluster", "dead"], &list);
    dead.expect_code(2);
    assert!(dead.stderr.contains("https://127.0.0.1:1"), "{}", dead.stderr);

    // --user picks the user entry: a user without credentials the server accepts is rejected.
    let bad_user = dir.path().join("baduser.yaml");
    std::fs::write(
        &bad_user,
        "apiVersion: v1\nkind: Config\nusers:\n- name: expired\n  user:\n    token: not-a-valid-token\n",
    )
    .unwrap();
    let list = format!("{}:{}", admin_copy.display(), bad_user.display());
    let rejected = llmd_with_kubeconfig_env(&["version", "--user", "expired"], &list);
    rejected.expect_code(2);
    assert!(rejected.stderr.contains("unauthorized"), "{}", rejected.stderr);
    assert!(rejected.stderr.contains("hint:"), "{}", rejected.stderr);
}

#[test]
fn an_unreachable_server_fails_fast_with_a_hint() {
    // A server that accepts the connection and never answers: only the timeout can end the wait.
    let listener = TcpListener::bind("127.0.0.1:0").unwrap();
    let port = listener.local_addr().unwrap().port();
    std::thread::spawn(move || {
        let mut held = Vec::new();
        for s in listener.incoming().flatten() {
            held.push(s);
        }
    });
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("kubeconfig");
    std::fs::write(
        &path,
        format!(
            "apiVersion: v1\nkind: Config\nclusters:\n- name: silent\n  cluster:\n    server: https://127.0.0.1:{port}\n    insecure-skip-tls-verify: true\ncontexts:\n- name: silent\n  context:\n    cluster: silent\n    user: u\ncurrent-context: silent\nusers:\n- name: u\n  user:\n    token: t\n"
        ),
    )
    .unwrap();
    let r = llmd(&["version", "--kubeconfig", path.to_str().unwrap(), "--request-timeout", "2s", "-o", "json"]);
    r.expect_code(2);
    assert!(r.elapsed.as_secs() < 10, "took {:?}", r.elapsed);
    let lines: Vec<&str> = r.stderr.lines().collect();
    assert_eq!(lines.len(), 2, "one error line and one hint: {}", r.stderr);
    assert!(lines[0].starts_with("error: ") && lines[0].contains(&format!("127.0.0.1:{port}")), "{}", r.stderr);
    assert!(lines[1].starts_with("hint: ") && lines[1].contains("--request-timeout"), "{}", r.stderr);
    assert!(r.stdout.is_empty(), "no partial JSON: {}", r.stdout);

    // Nothing listening at all: refused at once.
    let closed = TcpListener::bind("127.0.0.1:0").unwrap();
    let closed_port = closed.local_addr().unwrap().port();
    drop(closed);
    let text = std::fs::read_to_string(&path).unwrap().replace(&port.to_string(), &closed_port.to_string());
    std::fs::write(&path, text).unwrap();
    let r = llmd(&["version", "--kubeconfig", path.to_str().unwrap()]);
    r.expect_code(2);
    assert!(r.stderr.contains("unreachable") || r.stderr.contains("refused"), "{}", r.stderr);
}

#[test]
fn bad_kubeconfigs_get_one_line_and_a_hint() {
    let h = harness();
    let dir = tempfile::tempdir().unwrap();
    let malformed = dir.path().join("malformed.yaml");
    std::fs::write(&malformed, "apiVersion: v1\nclusters: [\n").unwrap();
    let r = llmd(&["version", "--kubeconfig", malformed.to_str().unwrap()]);
    r.expect_code(2);
    assert!(r.stderr.starts_with("error: malformed kubeconfig"), "{}", r.stderr);
    assert!(r.stderr.contains(malformed.to_str().unwrap()) && r.stderr.contains("hint:"), "{}", r.stderr);
    assert_eq!(r.stderr.lines().count(), 2, "{}", r.stderr);

    let r = llmd(&["version", "--kubeconfig", kc(&h.kubeconfig_admin), "--context", "nope"]);
    r.expect_code(2);
    assert!(r.stderr.contains("harness-admin"), "the hint lists the contexts: {}", r.stderr);

    let r = llmd(&["version", "--kubeconfig", "/nonexistent/config"]);
    r.expect_code(2);
    assert!(r.stderr.contains("/nonexistent/config"), "{}", r.stderr);

    // No kubeconfig anywhere.
    let r = llmd(&["version"]);
    r.expect_code(2);
    assert!(r.stderr.contains("no kubeconfig found") && r.stderr.contains("hint:"), "{}", r.stderr);
}

#[test]
fn help_reads_like_a_kubectl_plugin() {
    let r = llmd(&["--help"]);
    r.expect_code(0);
    assert!(r.stdout.contains("Usage: kubectl llmd"), "{}", r.stdout);
    for flag in [
        "--kubeconfig",
        "--context",
        "--cluster",
        "--user",
        "--namespace",
        "--all-namespaces",
        "--output",
        "--request-timeout",
        "--no-color",
    ] {
        assert!(r.stdout.contains(flag), "missing {flag}");
    }
}
