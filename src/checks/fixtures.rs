//! Small fixtures for unit tests: YAML written here → a live-looking Snapshot.

use crate::catalog::{profiles, Profile};
use crate::snapshot::{Collected, Snapshot};

/// A live snapshot holding exactly the objects in `yaml` (multi-document); every kind is
/// "listed" (empty unless present), the server is v1.36.3.
pub fn snapshot(yaml: &str) -> Snapshot {
    let objects = crate::collect::offline::parse_manifests(yaml, "fixture").expect("fixture YAML");
    let mut snap = Snapshot { live: true, ..Snapshot::all_listed() };
    snap.server_version = Collected::Listed(vec!["v1.36.3".into()]);
    for obj in &objects {
        let added = snap.try_insert(obj).unwrap_or_else(|u| panic!("fixture object unreadable: {u}"));
        assert!(added, "fixture object not understood: {obj}");
    }
    snap
}

/// A healthy v1 InferencePool llm/qwen: pods app=qwen on 8000, endpoint picker qwen-epp:9002.
pub const POOL_V1: &str = r#"
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: qwen, namespace: llm}
spec:
  selector: {matchLabels: {app: qwen}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: qwen-epp, port: {number: 9002}}
"#;

/// The default profile (llm-d prerequisite pins).
pub fn prereq() -> Profile {
    profiles::llm_d_prereq()
}

/// The current guides' profile.
pub fn current() -> Profile {
    profiles::current()
}

/// Run one module's checks against a snapshot and return (code, object name, severity) triples.
pub fn run(
    checks: &[super::Check],
    snap: &Snapshot,
    profile: &Profile,
) -> Vec<(String, String, crate::findings::Severity)> {
    let ctx = super::CheckContext { snapshot: snap, profile };
    let mut out = Vec::new();
    for c in checks {
        for i in (c.run)(&ctx) {
            out.push((c.code.to_string(), i.object.name.clone(), i.severity));
        }
    }
    out
}

/// Run the check `code` of `checks` on a snapshot of `yaml` under the default profile.
pub fn issues(checks: &[super::Check], code: &str, yaml: &str) -> Vec<super::Issue> {
    issues_in(checks, code, &snapshot(yaml))
}

/// Run the check `code` of `checks` on `snap` under the default profile.
pub fn issues_in(checks: &[super::Check], code: &str, snap: &Snapshot) -> Vec<super::Issue> {
    let profile = prereq();
    let check = checks.iter().find(|c| c.code == code).unwrap_or_else(|| panic!("no check {code}"));
    (check.run)(&super::CheckContext { snapshot: snap, profile: &profile })
}

/// The sorted codes every check of `checks` reports on `snap` under the default profile.
pub fn codes_in(checks: &[super::Check], snap: &Snapshot) -> Vec<String> {
    let mut v: Vec<String> = run(checks, snap, &prereq()).into_iter().map(|(c, _, _)| c).collect();
    v.sort();
    v
}
