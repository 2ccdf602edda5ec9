//! Every kubectl command a doctor hint prints runs as printed (issue 10, item 6).
//!
//! `assert_hints_run` takes a `doctor -o json` report and the cluster it was printed for, pulls every
//! `kubectl …` command out of each finding's hint (a hint may be a bare command, an `echo '…' |
//! kubectl apply -f -` pipeline, or prose naming commands), and runs each one through `sh -c`
//! exactly as printed — quoting, `$(date +%s)` and `# comments` included — with the real kubectl of
//! the harness. Commands that write get `--dry-run=server` appended by a `kubectl` wrapper first on
//! PATH, so the API server validates them (schema, CEL, admission, names, namespaces) without a
//! change; commands that only read run as they are. `kubectl rollout restart` has no `--dry-run`
//! (kubectl v1.36: "unknown flag"), so the wrapper checks that its target exists with `kubectl get`.
//! Every one must exit 0.
//!
//! Commands a hint joins with `&&` run as a chain, stopping at the first one that cannot run here.
//!
//! The shared report helpers call this after every doctor run (`fixtures::doctor_json`, the lab
//! scenarios' `doctor_env`, and the `-A` runs of the cross-namespace routing scenarios for their own
//! namespaces), so each e2e scenario also proves its hints; the tests below add the hint paths no
//! scenario reaches, the offline hints of the broken example, and prove the runner itself can fail
//! (an empty parentRef namespace, an unknown field, a missing object). Not run here, and why:
//! - `kubectl llmd …`: this plugin, not a kubectl command (its own e2e tests run it);
//! - `kubectl logs`: needs a kubelet, which the harness does not run;
//! - commands reading `https://…` (`apply -k`/`-f` of a Gateway API / GAIE release): no internet here;
//!   the same bundles are installed from the Go module cache by the install tests;
//! - `kubectl create secret tls … --cert=tls.crt --key=tls.key`: the certificate files are the
//!   user's own (the one placeholder left in a kubectl hint).

use crate::harness::Harness;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;
use std::sync::OnceLock;

/// Verbs whose commands change the cluster: run with `--dry-run=server`.
const WRITE_VERBS: &[&str] = &["apply", "create", "patch", "delete", "annotate", "label", "scale", "set"];
/// Verbs that only read: run as printed.
const READ_VERBS: &[&str] = &["get", "describe", "api-resources", "auth"];

/// Why a kubectl command found in a hint is not run against the harness, or None when it is.
pub fn not_run_because(cmd: &str) -> Option<&'static str> {
    let k = kubectl_part(cmd);
    let verb = k.split_whitespace().nth(1).unwrap_or("");
    if verb == "llmd" {
        Some("kubectl-llmd itself")
    } else if verb == "logs" {
        Some("needs a kubelet")
    } else if k.contains("https://") || k.contains("http://") {
        Some("downloads from the internet")
    } else if k.contains("--cert=tls.crt") {
        Some("needs the user's certificate files")
    } else {
        None
    }
}

/// The `kubectl …` segment of a command (after an `echo '…' |`).
fn kubectl_part(cmd: &str) -> &str {
    cmd.find("kubectl ").map_or(cmd, |i| &cmd[i..])
}

/// Every kubectl command in a hint, in order, as chains: commands joined by `&&` stay together,
/// since a later one may need an earlier one (apply a CRD && create an object of it).
pub fn kubectl_commands(hint: &str) -> Vec<Vec<String>> {
    let chars: Vec<char> = hint.chars().collect();
    let at = |i: usize, s: &str| -> bool {
        let s: Vec<char> = s.chars().collect();
        chars.len() >= i + s.len() && chars[i..i + s.len()] == s[..]
    };
    let boundary = |i: usize| i == 0 || matches!(chars[i - 1], ' ' | '(' | '`' | ':');
    let mut out: Vec<Vec<String>> = Vec::new();
    // Where the next member of an `&&` chain starts.
    let mut chain_next = None;
    let mut i = 0;
    while i < chars.len() {
        if !(boundary(i) && (at(i, "kubectl ") || at(i, "echo '"))) {
            i += 1;
            continue;
        }
        // Scan to the end of the command, outside quotes and `$(…)`.
        let start = i;
        let (mut quote, mut depth) = (None::<char>, 0usize);
        let mut end = chars.len();
        let mut j = i;
        while j < chars.len() {
            let c = chars[j];
            match quote {
                Some(q) if c == q => quote = None,
                Some(_) => {}
                None => {
                    if c == '\'' || c == '"' {
                        quote = Some(c);
                    } else if at(j, "$(") {
                        depth += 1;
                    } else if c == ')' && depth > 0 {
                        depth -= 1;
                    } else if depth == 0
                        && (c == ')'
                            || c == '`'
                            || at(j, ", ")
                            || at(j, "; ")
                            || at(j, " (")
                            || at(j, " and ")
                            || at(j, " then ")
                            || at(j, " or ")
                            || at(j, "  #")
                            || at(j, " && "))
                    {
                        end = j;
                        break;
                    }
                }
            }
            j += 1;
        }
        let cmd: String = chars[start..end].iter().collect();
        let cmd = cmd.trim_end_matches('.').trim().to_string();
        // An `echo` that feeds something other than kubectl is not a kubectl command.
        if cmd.starts_with("kubectl ") || cmd.contains("| kubectl ") {
            match out.last_mut() {
                Some(chain) if chain_next == Some(start) => chain.push(cmd),
                _ => out.push(vec![cmd]),
            }
        }
        chain_next = at(end, " && ").then_some(end + 4);
        i = end.max(start + 1);
    }
    out
}

/// A directory holding a `kubectl` wrapper that adds `--dry-run=server` to writes and runs the
/// harness's real kubectl.
fn wrapper_dir(h: &Harness) -> PathBuf {
    static DIRS: OnceLock<std::sync::Mutex<Vec<(PathBuf, PathBuf)>>> = OnceLock::new();
    let real = h.kubectl_path();
    let dirs = DIRS.get_or_init(Default::default);
    let mut dirs = dirs.lock().unwrap_or_else(|e| e.into_inner());
    if let Some((_, d)) = dirs.iter().find(|(r, _)| *r == real) {
        return d.clone();
    }
    let dir = std::env::temp_dir().join(format!("llmd-e2e-hints-{}-{}", std::process::id(), dirs.len()));
    std::fs::create_dir_all(&dir).unwrap();
    let writes = WRITE_VERBS.join("|");
    let reads = READ_VERBS.join("|");
    let script = format!(
        "#!/bin/sh\n# Runs a hint's kubectl command against the e2e harness: writes as a server-side dry run.\n\
         case \"$1\" in\n  {writes}) exec '{real}' \"$@\" --dry-run=server ;;\n  \
         rollout) [ \"$2\" = restart ] || exit 3; shift 2; exec '{real}' get \"$@\" ;;\n  {reads}) exec '{real}' \"$@\" ;;\n  \
         *) echo \"hint runner: kubectl verb $1 is neither a known write nor a known read\" >&2; exit 3 ;;\nesac\n",
        real = real.display()
    );
    let path = dir.join("kubectl");
    std::fs::write(&path, script).unwrap();
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(&path, std::fs::Permissions::from_mode(0o755)).unwrap();
    dirs.push((real, dir.clone()));
    dir
}

/// Run one command from a hint as printed (writes dry-run on the server); Err with its output.
pub fn run_hint_command(h: &Harness, cmd: &str) -> Result<(), String> {
    let dir = wrapper_dir(h);
    let path = crate::run::path_with(&dir);
    let out = Command::new("sh")
        .arg("-c")
        .arg(cmd)
        .env("PATH", path)
        .env("KUBECONFIG", &h.kubeconfig_admin)
        .env("KUBERC", "off")
        .env("KUBECACHEDIR", h.dir.join("kubectl-cache"))
        .stdin(std::process::Stdio::null())
        .output()
        .map_err(|e| format!("sh -c: {e}"))?;
    if out.status.success() {
        Ok(())
    } else {
        Err(format!(
            "exit {}: {}{}",
            out.status.code().unwrap_or(-1),
            String::from_utf8_lossy(&out.stderr).trim(),
            String::from_utf8_lossy(&out.stdout).trim()
        ))
    }
}

/// Every (code, object, `&&` chain of commands) a report's hints hold.
pub fn report_commands(report: &Value, namespaces: Option<&[&str]>) -> Vec<(String, String, Vec<String>)> {
    let mut out = Vec::new();
    let wanted = |f: &Value| namespaces.is_none_or(|ns| ns.iter().any(|n| f["object"]["namespace"] == *n));
    for f in report["findings"].as_array().into_iter().flatten().filter(|f| wanted(f)) {
        let hint = f["hint"].as_str().unwrap_or("");
        let chains = kubectl_commands(hint);
        if chains.is_empty() {
            eprintln!("hint without a kubectl command: {} {}: {hint}", f["code"].as_str().unwrap_or(""), f["object"]);
        }
        for chain in chains {
            let o = &f["object"];
            let object = format!(
                "{} {}/{}",
                o["kind"].as_str().unwrap_or(""),
                o["namespace"].as_str().unwrap_or(""),
                o["name"].as_str().unwrap_or("")
            );
            out.push((f["code"].as_str().unwrap_or("").to_string(), object, chain));
        }
    }
    out
}

/// Run every kubectl command of every hint in `report` on `h` (writes as a server-side dry run);
/// panic listing each one that fails. Returns how many ran.
pub fn assert_hints_run(h: &Harness, report: &Value) -> usize {
    run_all(h, report, None)
}

/// `assert_hints_run` for the findings about objects in `namespaces` only (for `doctor -A` on the
/// shared harness, where other tests' namespaces change while this one looks).
pub fn assert_hints_run_in(h: &Harness, report: &Value, namespaces: &[&str]) -> usize {
    run_all(h, report, Some(namespaces))
}

fn run_all(h: &Harness, report: &Value, namespaces: Option<&[&str]>) -> usize {
    let mut failed = Vec::new();
    let mut ran = 0;
    for (code, object, chain) in report_commands(report, namespaces) {
        for cmd in chain.iter() {
            // The rest of a chain may need what this command would have done: not run either.
            if let Some(why) = not_run_because(cmd) {
                eprintln!("hint not run ({why}): {code} {object}: {}", chain.join(" && "));
                break;
            }
            ran += 1;
            eprintln!("hint ran: {code} {object}: {cmd}");
            if let Err(e) = run_hint_command(h, cmd) {
                failed.push(format!("{code} about {object}:\n  $ {cmd}\n  {e}"));
                break;
            }
        }
    }
    assert!(failed.is_empty(), "hints that do not run as printed:\n{}", failed.join("\n"));
    ran
}

// ---------------------------------------------------------------------------------------------

#[cfg(test)]
mod tests {
    use super::*;
    use crate::fixtures::cluster;
    use crate::harness::assert_success;

    /// Offline, hints are printed for the objects given: applied to a cluster, those objects take
    /// every kubectl command `doctor -f` printed about them. The broken example (namespaces llm-d and
    /// team-b, used by no other e2e test) is applied as it is to the shared harness.
    #[test]
    fn offline_hints_of_the_broken_example_run_on_its_objects() {
        let h = cluster();
        let example = concat!(env!("CARGO_MANIFEST_DIR"), "/examples/broken/llm-d-broken.yaml");
        for ns in ["llm-d", "team-b"] {
            h.apply_yaml(&format!("apiVersion: v1\nkind: Namespace\nmetadata:\n  name: {ns}\n"));
        }
        assert_success(&h.kubectl(&["apply", "--server-side", "-f", example]), "kubectl apply the broken example");
        let r = crate::run::llmd(&["doctor", "-f", example, "-o", "json"]);
        r.expect_code(1);
        let report = r.json();
        let ran = assert_hints_run_in(h, &report, &["llm-d", "team-b"]);
        // Every finding of the example is about one of its objects; most carry a command.
        assert!(ran >= 8, "only {ran} kubectl commands in the example's hints:\n{}", r.stdout);
    }

    #[test]
    fn commands_are_found_in_prose_pipelines_and_chains() {
        let hint = "start the controller: kubectl rollout restart deployment/istiod -n istio-system, or install it: \
                    kubectl llmd gateway install --provider istio";
        assert_eq!(
            kubectl_commands(hint),
            [
                ["kubectl rollout restart deployment/istiod -n istio-system"],
                ["kubectl llmd gateway install --provider istio"]
            ]
        );
        let hint = r#"echo '{"a":"x, y (z)"}' | kubectl apply -f -"#;
        assert_eq!(kubectl_commands(hint), [[hint]]);
        let hint = "kubectl describe deployment/e -n n && kubectl logs deployment/e -n n";
        assert_eq!(kubectl_commands(hint), [["kubectl describe deployment/e -n n", "kubectl logs deployment/e -n n"]]);
        let hint = "kubectl apply --server-side -f https://e/m.yaml && echo '{}' | kubectl apply -f -, or not";
        assert_eq!(
            kubectl_commands(hint),
            [["kubectl apply --server-side -f https://e/m.yaml", "echo '{}' | kubectl apply -f -"]]
        );
        let hint = "re-trigger it: kubectl annotate httproute r -n n kubectl-llmd/nudge=$(date +%s) --overwrite";
        assert_eq!(
            kubectl_commands(hint),
            [["kubectl annotate httproute r -n n kubectl-llmd/nudge=$(date +%s) --overwrite"]]
        );
        let hint = "kubectl patch x/y -n n --type=merge -p '{}'  # or keep FailOpen";
        assert_eq!(kubectl_commands(hint), [["kubectl patch x/y -n n --type=merge -p '{}'"]]);
        let hint = "set spec.x to the pod labels (kubectl get pods -n n --show-labels)";
        assert_eq!(kubectl_commands(hint), [["kubectl get pods -n n --show-labels"]]);
        assert!(kubectl_commands("helm upgrade istiod istio/istiod --version 1.29.2").is_empty());
    }

    /// Hint paths no other e2e scenario reaches, each from a broken routing stack in its own
    /// namespace: the finding is reported and (through `doctor_json`) every kubectl command of its
    /// hint runs on the harness.
    #[test]
    fn hints_of_less_travelled_findings_run_as_printed() {
        use crate::doctor_routing::{cond, deploy, epp_container, Opts};
        use crate::fixtures::doctor_json;
        use serde_json::json;
        let h = cluster();
        let ok = |t: &str| cond(t, "True", t);
        let listener = |extra: Value| {
            let mut l = json!({"name": "http", "port": 80, "protocol": "HTTP"});
            crate::doctor_routing::merge(&mut l, &extra);
            json!({"spec": {"listeners": [l]}})
        };
        let mut cases: Vec<(&str, &str, Opts)> = Vec::new();
        // RT-001: a parentRef port no listener uses → remove the port.
        cases.push((
            "LLMD-RT-001",
            "remove",
            Opts::istio().patch("HTTPRoute", json!({"spec": {"parentRefs": [{"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "inference-gateway", "port": 8080}]}})),
        ));
        // GW-003: a listener that admits no HTTPRoute kind → add the kind.
        let mut o =
            Opts::istio().patch("Gateway", listener(json!({"allowedRoutes": {"kinds": [{"kind": "GRPCRoute"}]}})));
        o.listener_conditions =
            Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "InvalidRouteKinds"), ok("Programmed")]);
        cases.push(("LLMD-GW-003", "allowedRoutes/kinds", o));
        // EPP-006: a pre-v1.0 picker image with a v1 pool → set the image.
        let args: Vec<String> = ["--poolName", "llm-pool"].iter().map(|s| s.to_string()).collect();
        let mut c = epp_container(args);
        c["image"] = json!("registry.k8s.io/gateway-api-inference-extension/epp:v0.5.1");
        cases.push((
            "LLMD-EPP-006",
            "kubectl set image",
            Opts::istio().patch("Deployment", json!({"spec": {"template": {"spec": {"containers": [c]}}}})),
        ));
        // EPP-003: the picker Service selects no pod → patch its selector.
        let mut o = Opts::istio()
            .patch("Service", json!({"spec": {"selector": {"app": "llm-pool-picker"}}}))
            .patch("EndpointSlice", json!({"endpoints": []}));
        o.epp_available = None;
        cases.push(("LLMD-EPP-003", "", o));
        // RT-006: a v1 backendRef group while the pool is still x-k8s v1alpha2 (alpha-speaking gateway).
        let mut o = Opts::istio();
        o.alpha_pool = true;
        let o = o.patch(
            "HTTPRoute",
            json!({"spec": {"rules": [{"backendRefs": [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "llm-pool"}]}]}}),
        );
        cases.push(("LLMD-RT-006", "", o));
        for (code, words, o) in cases {
            let ns = h.namespace(&format!("hints-{}", code.to_lowercase()));
            deploy(h, &ns, &o);
            let (r, v) = doctor_json(h, &ns, &[]);
            let f = v["findings"]
                .as_array()
                .into_iter()
                .flatten()
                .find(|f| f["code"] == code)
                .unwrap_or_else(|| panic!("{code} not reported in {ns}:\n{}", r.stdout));
            assert!(f["hint"].as_str().unwrap_or("").contains(words), "{code}: {f:#}");
        }
    }

    /// The runner rejects what the API server would: an empty namespace in a parentRef, a field the
    /// schema does not know, a missing object, broken quoting — and passes a hint that is right.
    #[test]
    fn every_hint_runner_rejects_what_the_server_rejects() {
        let h = cluster();
        let ns = h.namespace("hints-self");
        let route = |parent: &str| {
            format!(
                r#"echo '{{"apiVersion":"gateway.networking.k8s.io/v1","kind":"HTTPRoute","metadata":{{"name":"r","namespace":"{ns}"}},"spec":{{"parentRefs":[{parent}]}}}}' | kubectl apply -f -"#
            )
        };
        run_hint_command(h, &route(r#"{"name":"inference-gateway"}"#)).expect("a valid route");
        let e = run_hint_command(h, &route(r#"{"name":"inference-gateway","namespace":""}"#)).unwrap_err();
        assert!(e.contains("spec.parentRefs[0].namespace in body should be at least 1 chars long"), "{e}");
        let e = run_hint_command(h, &route(r#"{"name":"g","colour":"red"}"#)).unwrap_err();
        assert!(e.contains(r#"unknown field "spec.parentRefs[0].colour""#), "{e}");
        // Nothing was written.
        let out = h.kubectl(&["get", "httproutes", "-n", &ns, "-o", "name"]);
        assert!(out.stdout.is_empty(), "{}", String::from_utf8_lossy(&out.stdout));
        let e = run_hint_command(h, &format!("kubectl scale deployment/none -n {ns} --replicas=1")).unwrap_err();
        assert!(e.contains("not found"), "{e}");
        let e =
            run_hint_command(h, &format!("kubectl patch service/x -n {ns} --type=merge -p '{{\"spec\"}}")).unwrap_err();
        assert!(!e.is_empty());
        assert!(run_hint_command(h, &format!("kubectl get pods -n {ns}")).is_ok());
    }
}
