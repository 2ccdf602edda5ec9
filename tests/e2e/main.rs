//! End-to-end tests against a real kube-apiserver v1.36.3 (see `harness.rs` and `tests/kubeharness`).
//! One test binary, so the harness is started once and shared; tests isolate by namespace.

mod common;
mod completion;
mod dataloss;
mod doctor_cluster;
mod doctor_routing;
mod doctor_supported;
mod dump;
mod faultproxy;
mod faults;
mod fix;
mod fix_gateway;
mod fixtures;
mod fleet;
mod gateway;
mod harness;
mod hints;
mod krew;
mod lab;
mod mirror;
mod pool;
mod proxy;
mod quickstart;
mod run;
mod upstream;
mod version;

use harness::{assert_success, harness};

#[test]
fn harness_starts_and_serves_version() {
    let h = harness();
    let admin = h.kubeconfig_admin.to_str().expect("utf-8 path");
    let out = h.kubectl(&["--kubeconfig", admin, "version", "-o", "json"]);
    assert_success(&out, "kubectl version");
    let v: serde_json::Value = serde_json::from_slice(&out.stdout).expect("kubectl version -o json");
    assert_eq!(v["serverVersion"]["gitVersion"], "v1.36.3", "{v}");
    assert_eq!(v["clientVersion"]["gitVersion"], "v1.36.3", "{v}");
    assert_eq!(h.version, "v1.36.3");
}
