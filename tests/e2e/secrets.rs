//! Secrets are never printed: every kubectl-llmd run of the suite (`run::run`) is checked for the
//! harness's credentials (bearer tokens, client key PEM bodies, from every harness instance's
//! kubeconfigs), the matrix users' ServiceAccount tokens and the data of a test Secret — in stdout and
//! stderr, at every verbosity. `secrets_never_printed` runs the representative commands at `-vv` on
//! purpose, and proves the check itself finds material that is printed.

use crate::fixtures::cluster;
use crate::harness::{assert_success, Harness};
use crate::mirror::mirror;
use crate::run::{llmd_command, run, Run};
use std::path::Path;
use std::sync::Mutex;

/// Shorter strings could appear by chance (or be a PEM armour line); credentials are longer.
const MIN_LEN: usize = 16;

static MATERIAL: Mutex<Vec<String>> = Mutex::new(Vec::new());

/// Remember `secret` as something no output may contain.
pub fn register(secret: &str) {
    let secret = secret.trim();
    if secret.len() < MIN_LEN {
        return;
    }
    let mut m = MATERIAL.lock().unwrap_or_else(|e| e.into_inner());
    if !m.iter().any(|s| s == secret) {
        m.push(secret.to_string());
    }
}

/// Remember the credentials of a kubeconfig written by the harness (or by a test): every `token:`,
/// every `client-key-data:` as given (base64) and the lines of the PEM key it decodes to.
pub fn register_kubeconfig(path: &Path) {
    let Ok(text) = std::fs::read_to_string(path) else { return };
    for line in text.lines() {
        let Some((key, value)) = line.trim().split_once(':') else { continue };
        let value = value.trim().trim_matches('"');
        match key.trim_start_matches("- ") {
            "token" => register(value),
            "client-key-data" => {
                register(value);
                if let Some(pem) = base64_decode(value) {
                    for body in String::from_utf8_lossy(&pem).lines().filter(|l| !l.starts_with("-----")) {
                        register(body);
                    }
                }
            }
            _ => {}
        }
    }
}

/// Every registered secret found in `text` (the credentials of every harness started so far included).
pub fn found_in(text: &str) -> Vec<String> {
    register_harness_credentials();
    let m = MATERIAL.lock().unwrap_or_else(|e| e.into_inner());
    m.iter().filter(|s| text.contains(s.as_str())).cloned().collect()
}

/// Register the credentials of harness instances started since the last call.
fn register_harness_credentials() {
    static SEEN: Mutex<usize> = Mutex::new(0);
    let all = crate::harness::started_kubeconfigs();
    let mut seen = SEEN.lock().unwrap_or_else(|e| e.into_inner());
    for path in &all[*seen..] {
        register_kubeconfig(path);
    }
    *seen = all.len();
}

/// Panics when a run printed registered secret material (named by its first characters only).
pub fn assert_not_printed(what: &str, stdout: &str, stderr: &str) {
    for (stream, text) in [("stdout", stdout), ("stderr", stderr)] {
        let leaked = found_in(text);
        assert!(
            leaked.is_empty(),
            "{what} printed secret material on {stream}: {:?}",
            leaked.iter().map(|s| format!("{}…", &s[..8])).collect::<Vec<_>>()
        );
    }
}

/// Standard base64 (with or without padding); None on anything else.
pub fn base64_decode(s: &str) -> Option<Vec<u8>> {
    let mut out = Vec::new();
    let (mut acc, mut bits) = (0u32, 0);
    for c in s.bytes().filter(|c| !c.is_ascii_whitespace() && *c != b'=') {
        let v = match c {
            b'A'..=b'Z' => c - b'A',
            b'a'..=b'z' => c - b'a' + 26,
            b'0'..=b'9' => c - b'0' + 52,
            b'+' => 62,
            b'/' => 63,
            _ => return None,
        };
        acc = (acc << 6) | u32::from(v);
        bits += 6;
        if bits >= 8 {
            bits -= 8;
            out.push((acc >> bits) as u8);
        }
    }
    Some(out)
}

/// Known Secret data in the namespace doctor reads: plain and as the API returns it (base64).
const SECRET_VALUE: &str = "llmd-e2e-known-secret-value-8c1f2a";
const SECRET_B64: &str = "bGxtZC1lMmUta25vd24tc2VjcmV0LXZhbHVlLThjMWYyYQ==";

fn llmd_as(kubeconfig: &Path, args: &[&str]) -> Run {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", kubeconfig).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

#[test]
fn secrets_never_printed() {
    let h: &Harness = cluster();
    assert_eq!(base64_decode(SECRET_B64).as_deref(), Some(SECRET_VALUE.as_bytes()));
    let ns = h.namespace("secrets");
    crate::doctor_routing::deploy(h, &ns, &crate::permissions::fixable());
    h.apply_yaml(&format!(
        "apiVersion: v1\nkind: Secret\nmetadata: {{name: model-token, namespace: {ns}}}\ntype: Opaque\n\
         stringData: {{token: {SECRET_VALUE}}}\n"
    ));
    register(SECRET_VALUE);
    register(SECRET_B64);
    let nogrants_text = std::fs::read_to_string(&h.kubeconfig_nogrants).expect("nogrants kubeconfig");
    assert!(nogrants_text.contains("token:"), "the harness's no-grants user has a bearer token");
    let admin_text = std::fs::read_to_string(&h.kubeconfig_admin).expect("admin kubeconfig");
    assert!(admin_text.contains("client-key-data:"), "the harness's admin has a client key");
    // Both users' material is known from the harness's start (harness::started_kubeconfigs).
    assert_eq!(found_in(&nogrants_text).len(), 1, "the no-grants token is registered");
    assert_eq!(found_in(&admin_text).len(), 1, "the admin's client-key-data is registered");
    let key_data = admin_text.lines().find_map(|l| l.trim().strip_prefix("client-key-data:")).unwrap().trim();
    let pem = String::from_utf8(base64_decode(key_data).expect("base64")).expect("PEM");
    assert!(pem.starts_with("-----BEGIN"), "{}", &pem[..20]);
    assert!(found_in(&pem).len() >= 10, "every line of the admin's key PEM body is registered");

    // The check finds what is printed: kubectl shows the Secret's data and the kubeconfig's key.
    let out = h.kubectl(&["get", "secret", "model-token", "-n", &ns, "-o", "yaml"]);
    assert_success(&out, "kubectl get secret");
    assert_eq!(found_in(&String::from_utf8_lossy(&out.stdout)), vec![SECRET_B64.to_string()]);
    let out = h.kubectl(&["config", "view", "--raw"]);
    assert!(!found_in(&String::from_utf8_lossy(&out.stdout)).is_empty(), "kubectl config view --raw shows the key");

    // A kubeconfig whose token the server rejects (401), so a failing authentication is printed.
    let dir = tempfile::tempdir().unwrap();
    let bad = dir.path().join("bad-token.kubeconfig");
    let bad_token = "llmd-e2e-rejected-token-0f9e8d7c6b5a";
    std::fs::write(
        &bad,
        serde_json::json!({
            "apiVersion": "v1", "kind": "Config", "current-context": "bad",
            "clusters": [{"name": "h", "cluster": {"server": h.server, "certificate-authority": h.ca}}],
            "users": [{"name": "bad", "user": {"token": bad_token}}],
            "contexts": [{"name": "bad", "context": {"cluster": "h", "user": "bad", "namespace": ns}}],
        })
        .to_string(),
    )
    .unwrap();
    register(bad_token);

    let admin = h.kubeconfig_admin.as_path();
    let nogrants = h.kubeconfig_nogrants.as_path();
    let runs: Vec<(&str, Run)> = vec![
        ("doctor -vv (admin)", llmd_as(admin, &["doctor", "-n", &ns, "-vv"])),
        ("doctor -A -vv -o json (admin)", llmd_as(admin, &["doctor", "-A", "-vv", "-o", "json"])),
        ("doctor -vv (no grants)", llmd_as(nogrants, &["doctor", "-n", &ns, "-vv"])),
        ("pool status -vv", llmd_as(admin, &["pool", "status", "-n", &ns, "-vv"])),
        ("pool status -vv -o yaml", llmd_as(admin, &["pool", "status", "-n", &ns, "-vv", "-o", "yaml"])),
        (
            "gateway install --dry-run -vv",
            llmd_as(
                admin,
                &["gateway", "install", "--crds-only", "--dry-run", "-vv", "--gateway-api-version", "v1.4.1"],
            ),
        ),
        ("gateway install -vv (no grants)", llmd_as(nogrants, &["gateway", "install", "--crds-only", "-vv"])),
        ("doctor -vv (rejected token)", llmd_as(&bad, &["doctor", "-vv"])),
        ("version -vv (rejected token)", llmd_as(&bad, &["version", "-vv"])),
        ("doctor --fix --yes -vv", llmd_as(admin, &["doctor", "-n", &ns, "--fix=LLMD-RT-006", "--yes", "-vv"])),
        ("doctor --fix --yes -vv (no grants)", llmd_as(nogrants, &["doctor", "-n", &ns, "--fix", "--yes", "-vv"])),
    ];
    for (what, r) in &runs {
        // run::run already checked every stream; say so explicitly for the commands of this test.
        assert_not_printed(what, &r.stdout, &r.stderr);
        assert!(!r.stderr.is_empty(), "{what}: -vv printed nothing on stderr");
    }
    let rejected = &runs[7].1;
    rejected.expect_code(2);
    assert!(rejected.stderr.contains("error:"), "{}", rejected.stderr);
    let fixed = &runs[9].1;
    assert!(fixed.code == 0 || fixed.code == 1, "{}\n{}", fixed.stdout, fixed.stderr);
    assert!(fixed.stderr.contains("Running doctor again"), "{}", fixed.stderr);
}
