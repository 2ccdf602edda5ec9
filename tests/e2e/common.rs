//! What every e2e area needs once: running doctor, the exit code a user gets, reading doctor's
//! report, resourceVersions to prove "no write", paths, and the normaliser for snapshots.
//!
//! Exit codes (README, docs/architecture.md): 0 ok or nothing at/above `--fail-on`; 1 findings
//! at/above `--fail-on` (default `error`); 2 could not run. A report helper never accepts "0 or 1":
//! it asserts the code the report's own findings imply ([`code_for`]), and tests that know the
//! verdict assert it with `Run::expect_code`.

use crate::harness::{assert_success, Harness};
use crate::run::{llmd_command, run, Run};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Exit code: healthy, or nothing at/above `--fail-on`.
pub const OK: i32 = 0;
/// Exit code: findings at/above `--fail-on`.
pub const FINDINGS: i32 = 1;
/// Exit code: could not run.
pub const COULD_NOT_RUN: i32 = 2;

/// A kubeconfig path as an argument.
pub fn kc(path: &Path) -> &str {
    path.to_str().expect("utf-8 path")
}

/// The package root.
pub fn manifest_dir() -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR"))
}

/// `$CARGO_TARGET_DIR/tools` (relative paths taken from the package root) or `target/tools`:
/// helm and krew built with `go install`.
pub fn tools_dir() -> PathBuf {
    let target = match std::env::var_os("CARGO_TARGET_DIR").filter(|t| !t.is_empty()) {
        Some(t) if Path::new(&t).is_absolute() => PathBuf::from(t),
        Some(t) => manifest_dir().join(t),
        None => manifest_dir().join("target"),
    };
    target.join("tools")
}

// ---------------------------------------------------------------------------------------------
// Running doctor.

/// `kubectl-llmd doctor --kubeconfig KUBECONFIG args…`, not yet run (to add environment).
pub fn doctor_command(kubeconfig: &Path, args: &[&str]) -> std::process::Command {
    let mut all = vec!["doctor", "--kubeconfig", kc(kubeconfig)];
    all.extend_from_slice(args);
    llmd_command(&all)
}

/// doctor as `kubeconfig` with `args`.
pub fn doctor_as(kubeconfig: &Path, args: &[&str]) -> Run {
    run(doctor_command(kubeconfig, args))
}

/// doctor as admin with `args`.
pub fn doctor(h: &Harness, args: &[&str]) -> Run {
    doctor_as(&h.kubeconfig_admin, args)
}

/// The `--fail-on` threshold of `args` (default `error`) as the lowest failing severity rank.
fn fail_on(args: &[&str]) -> Option<u8> {
    let value = args
        .iter()
        .enumerate()
        .find_map(|(i, a)| match a.strip_prefix("--fail-on") {
            Some(v) if v.starts_with('=') => Some(v[1..].to_string()),
            Some("") => args.get(i + 1).map(|s| s.to_string()),
            _ => None,
        })
        .unwrap_or_else(|| "error".into());
    match value.as_str() {
        "never" => None,
        other => Some(rank(other)),
    }
}

fn rank(severity: &str) -> u8 {
    match severity {
        "info" => 1,
        "warning" => 2,
        "error" => 3,
        other => panic!("unknown severity {other:?}"),
    }
}

/// The exit code a report implies for a run with `args`: 1 when a finding reaches `--fail-on`, else 0.
pub fn code_for(report: &Value, args: &[&str]) -> i32 {
    let worst = findings(report).iter().map(|f| rank(f["severity"].as_str().unwrap_or("info"))).max();
    match (worst, fail_on(args)) {
        (Some(w), Some(t)) if w >= t => FINDINGS,
        _ => OK,
    }
}

/// The JSON report of a doctor run made with `args`, asserting the exit code it implies (never 2).
pub fn report_of(r: &Run, args: &[&str]) -> Value {
    assert_ne!(r.code, COULD_NOT_RUN, "doctor could not run:\n{}\n{}", r.stderr, r.stdout);
    let v = r.json();
    assert_eq!(r.code, code_for(&v, args), "exit code for the report\n{}\nstderr:\n{}", brief(&findings(&v)), r.stderr);
    v
}

/// doctor as admin with `-o json` and `args`: the run and its report, the exit code asserted against
/// the report (see [`report_of`]).
pub fn doctor_report(h: &Harness, args: &[&str]) -> (Run, Value) {
    let mut all = vec!["-o", "json"];
    all.extend_from_slice(args);
    let r = doctor(h, &all);
    let v = report_of(&r, &all);
    (r, v)
}

// ---------------------------------------------------------------------------------------------
// Reading the report.

/// Every finding of a report.
pub fn findings(report: &Value) -> Vec<&Value> {
    report["findings"].as_array().map(|a| a.iter().collect()).unwrap_or_default()
}

/// Every finding with `code`.
pub fn with_code<'a>(report: &'a Value, code: &str) -> Vec<&'a Value> {
    findings(report).into_iter().filter(|f| f["code"] == code).collect()
}

/// The findings about objects in one of `namespaces`.
pub fn findings_in<'a>(report: &'a Value, namespaces: &[&str]) -> Vec<&'a Value> {
    findings(report).into_iter().filter(|f| namespaces.iter().any(|ns| f["object"]["namespace"] == *ns)).collect()
}

/// The codes of every finding, in report order.
pub fn codes(report: &Value) -> Vec<String> {
    findings(report).iter().map(|f| f["code"].as_str().unwrap_or("").to_string()).collect()
}

/// The codes of the findings about objects in `ns`.
pub fn codes_in_ns(report: &Value, ns: &str) -> Vec<String> {
    findings_in(report, &[ns]).iter().map(|f| f["code"].as_str().unwrap_or("").to_string()).collect()
}

/// The findings whose code starts with one of `prefixes` ("LLMD-CRD-"), one [`brief`] line each.
pub fn codes_in(report: &Value, prefixes: &[&str]) -> Vec<String> {
    findings(report)
        .into_iter()
        .filter(|f| prefixes.iter().any(|p| f["code"].as_str().unwrap_or("").starts_with(p)))
        .map(line)
        .collect()
}

pub fn has_code(report: &Value, code: &str) -> bool {
    !with_code(report, code).is_empty()
}

/// "CODE severity Kind ns/name: message" of one finding.
pub fn line(f: &Value) -> String {
    format!(
        "{} {} {} {}/{}: {}",
        f["code"].as_str().unwrap_or(""),
        f["severity"].as_str().unwrap_or(""),
        f["object"]["kind"].as_str().unwrap_or(""),
        f["object"]["namespace"].as_str().unwrap_or(""),
        f["object"]["name"].as_str().unwrap_or(""),
        f["message"].as_str().unwrap_or("")
    )
}

/// One [`line`] per finding, for failure messages.
pub fn brief(fs: &[&Value]) -> String {
    fs.iter().map(|f| line(f)).collect::<Vec<_>>().join("\n")
}

/// The check `code` of the report's `checks`.
pub fn check_status<'a>(report: &'a Value, code: &str) -> &'a Value {
    report["checks"]
        .as_array()
        .and_then(|a| a.iter().find(|c| c["code"] == code))
        .unwrap_or_else(|| panic!("no check {code}"))
}

// ---------------------------------------------------------------------------------------------
// The cluster as it is: objects and resourceVersions.

/// `kubectl get args… -o json` as admin.
pub fn get_json(h: &Harness, args: &[&str]) -> Value {
    let mut all = args.to_vec();
    all.extend(["-o", "json"]);
    let out = h.kubectl(&all);
    assert_success(&out, &format!("kubectl {all:?}"));
    serde_json::from_slice(&out.stdout).expect("json")
}

/// One object as JSON (admin).
pub fn get(h: &Harness, resource: &str, ns: Option<&str>, name: &str) -> Value {
    match ns {
        Some(ns) => get_json(h, &["get", resource, name, "-n", ns]),
        None => get_json(h, &["get", resource, name]),
    }
}

/// Whether the object exists.
pub fn exists(h: &Harness, resource: &str, ns: Option<&str>, name: &str) -> bool {
    let mut args = vec!["get", resource, name, "--ignore-not-found", "-o", "name"];
    if let Some(ns) = ns {
        args.extend(["-n", ns]);
    }
    let out = h.kubectl(&args);
    assert_success(&out, "kubectl get");
    !out.stdout.is_empty()
}

/// "Kind/namespace/name" → resourceVersion of every object of `resources` in `ns` (every namespace
/// when None), sorted: equal lists before and after prove nothing was written.
pub fn versions(h: &Harness, resources: &str, ns: Option<&str>) -> Vec<(String, String)> {
    let v = match ns {
        Some(ns) => get_json(h, &["get", resources, "-n", ns]),
        None => get_json(h, &["get", resources, "-A"]),
    };
    let mut rv: Vec<(String, String)> = v["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|o| {
            let ns = o["metadata"]["namespace"].as_str().unwrap_or("");
            let name = o["metadata"]["name"].as_str().expect("name");
            let kind = o["kind"].as_str().expect("kind");
            let key = if ns.is_empty() { format!("{kind}/{name}") } else { format!("{kind}/{ns}/{name}") };
            (key, o["metadata"]["resourceVersion"].as_str().expect("resourceVersion").to_string())
        })
        .collect();
    rv.sort();
    rv
}

/// CRD name → resourceVersion of every CRD, sorted.
pub fn crd_versions(h: &Harness) -> Vec<(String, String)> {
    versions(h, "customresourcedefinitions", None)
        .into_iter()
        .map(|(k, rv)| (k.trim_start_matches("CustomResourceDefinition/").to_string(), rv))
        .collect()
}

/// The names of a [`versions`] list.
pub fn names(list: &[(String, String)]) -> Vec<&str> {
    list.iter().map(|(n, _)| n.as_str()).collect()
}

// ---------------------------------------------------------------------------------------------
// Snapshots.

/// Text made stable for a snapshot: each (value, placeholder) replaced (namespaces, the harness's
/// server address), then every loopback port, every `resourceVersion` value and every duration
/// such as `1.23s` or `350ms`.
pub fn normalise(text: &str, replace: &[(&str, &str)]) -> String {
    let mut text = text.to_string();
    for (from, to) in replace {
        if !from.is_empty() {
            text = text.replace(from, to);
        }
    }
    let text = after_each(&text, "127.0.0.1:", |rest| {
        let end = rest.find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len());
        (end > 0).then_some((end, "PORT".to_string()))
    });
    let text = after_each(&text, "resourceVersion", |rest| {
        // `resourceVersion: "123"`, `"resourceVersion": "123"`, `resourceVersion 123`.
        let start = rest.find(|c: char| c.is_ascii_digit())?;
        if !rest[..start].chars().all(|c| matches!(c, '"' | ':' | ' ' | '=' | '\'')) {
            return None;
        }
        let end = start + rest[start..].find(|c: char| !c.is_ascii_digit()).unwrap_or(rest.len() - start);
        Some((end, format!("{}RV", &rest[..start])))
    });
    durations(&text)
}

/// What a user sees of a run, both streams, made stable with [`normalise`].
pub fn transcript(r: &Run, replace: &[(&str, &str)]) -> String {
    normalise(&format!("--- stdout ---\n{}--- stderr ---\n{}", r.stdout, r.stderr), replace)
}

/// Replace, after each `marker`, what `f` says (bytes of the rest to drop, text to put instead).
fn after_each(text: &str, marker: &str, f: impl Fn(&str) -> Option<(usize, String)>) -> String {
    let mut out = String::new();
    let mut rest = text;
    while let Some(at) = rest.find(marker) {
        out.push_str(&rest[..at + marker.len()]);
        rest = &rest[at + marker.len()..];
        if let Some((skip, with)) = f(rest) {
            out.push_str(&with);
            rest = &rest[skip..];
        }
    }
    out.push_str(rest);
    out
}

/// `1.23s`, `12s`, `350ms` (a number right before s/ms that ends a word) → `<DURATION>`.
fn durations(text: &str) -> String {
    let chars: Vec<char> = text.chars().collect();
    let mut out = String::new();
    let mut i = 0;
    while i < chars.len() {
        let word_start = i == 0 || !(chars[i - 1].is_alphanumeric() || chars[i - 1] == '.');
        if word_start && chars[i].is_ascii_digit() {
            let mut j = i;
            while j < chars.len() && (chars[j].is_ascii_digit() || chars[j] == '.') {
                j += 1;
            }
            let unit = if chars.get(j) == Some(&'m') && chars.get(j + 1) == Some(&'s') {
                2
            } else if chars.get(j) == Some(&'s') {
                1
            } else {
                0
            };
            let ends = chars.get(j + unit).is_none_or(|c| !c.is_alphanumeric());
            if unit > 0 && ends {
                out.push_str("<DURATION>");
                i = j + unit;
                continue;
            }
            out.extend(&chars[i..j]);
            i = j;
            continue;
        }
        out.push(chars[i]);
        i += 1;
    }
    out
}

#[test]
fn normalise_redacts_what_changes_between_runs() {
    let text =
        "ns-1-abc at https://127.0.0.1:40123/api resourceVersion: \"4711\" took 1.25s, 350ms; v1.3.0 stays, 3 pods";
    assert_eq!(
        normalise(text, &[("ns-1-abc", "NS")]),
        "NS at https://127.0.0.1:PORT/api resourceVersion: \"RV\" took <DURATION>, <DURATION>; v1.3.0 stays, 3 pods"
    );
    assert_eq!(normalise("\"resourceVersion\":\"12\"", &[]), "\"resourceVersion\":\"RV\"");
}
