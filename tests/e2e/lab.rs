//! The lab: the second, exclusive harness for tests that change cluster-scoped state (CRDs,
//! GatewayClasses, admission policies, webhooks, controller Deployments). A test holds a `Lab` for
//! its whole life; the lab is emptied when taken and again when dropped (also while a failed
//! assertion unwinds), so every lab test starts from an empty cluster. Namespaces are left (they
//! never finish deleting without controllers): use unique names.

use crate::harness::{assert_success, lab, Harness};
use std::ops::Deref;
use std::sync::MutexGuard;
use std::time::{Duration, Instant};

/// Exclusive use of the lab harness.
pub struct Lab {
    guard: MutexGuard<'static, Harness>,
    cleanup: fn(&Harness),
}

impl Lab {
    /// Take the lab, emptied.
    pub fn take() -> Self {
        Lab::take_with(|_| {})
    }

    /// Take the lab; `cleanup` runs before each emptying (e.g. uninstalling helm releases).
    pub fn take_with(cleanup: fn(&Harness)) -> Self {
        let mut guard = lab();
        cleanup(&guard);
        reset(&mut guard);
        Lab { guard, cleanup }
    }
}

impl Deref for Lab {
    type Target = Harness;
    fn deref(&self) -> &Harness {
        &self.guard
    }
}

impl Drop for Lab {
    fn drop(&mut self) {
        let mut empty = || {
            (self.cleanup)(&self.guard);
            reset(&mut self.guard);
        };
        // Never panic while a failed assertion unwinds (that would abort the test binary).
        if std::thread::panicking() {
            let _ = std::panic::catch_unwind(std::panic::AssertUnwindSafe(empty));
        } else {
            empty();
        }
    }
}

/// Delete what outlives namespaces: admission policies and webhooks, Deployments, and every CRD
/// (which deletes their objects: GatewayClasses, pools, routes). When CRDs refuse to go, the lab is
/// replaced by a fresh instance: empty is what the next test needs, however it is reached.
pub fn reset(h: &mut Harness) {
    // kubectl's discovery cache would outlive the CRDs: after a test that served ReferenceGrant v1
    // (Gateway API v1.5), `kubectl get referencegrants` in the next one asked for v1 and got NotFound.
    let _ = std::fs::remove_dir_all(h.dir.join("kubectl-cache"));
    let out = h.kubectl(&[
        "delete",
        "validatingadmissionpolicybindings,validatingadmissionpolicies,validatingwebhookconfigurations",
        "--all",
        "--ignore-not-found",
    ]);
    assert_success(&out, "deleting admission policies and webhooks");
    let policy_deleted = String::from_utf8_lossy(&out.stdout).contains("validatingadmissionpolicy");
    let out = h.kubectl(&["delete", "deployments", "--all", "--all-namespaces", "--ignore-not-found"]);
    assert_success(&out, "deleting Deployments");
    let out = h.kubectl(&["get", "crd", "-o", "name"]);
    assert_success(&out, "listing CRDs");
    if !out.stdout.is_empty() {
        let out = h.kubectl(&["delete", "crd", "--all", "--wait=false"]);
        assert_success(&out, "deleting CRDs");
        if !wait_crds_gone(h) {
            *h = crate::harness::start().unwrap_or_else(|e| panic!("restarting the lab harness: {e}"));
            return;
        }
    }
    if policy_deleted {
        wait_policy_gone(h);
    }
}

/// Wait until every CRD is gone; false after a minute. A CRD deleted right after an update can stay
/// Terminating with InstanceDeletionFailed "could not list instances: storage is (re)initializing"
/// while the API server's finalizer backs off for minutes; touching the CRD requeues it.
fn wait_crds_gone(h: &Harness) -> bool {
    for attempt in 0..3 {
        let out = h.kubectl(&["wait", "--for=delete", "crd", "--all", "--timeout=20s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        // "no matching resources" when the last one went between delete and wait.
        if out.status.success() || stderr.contains("no matching resources") {
            return true;
        }
        eprintln!(
            "lab: CRDs still Terminating after {}s: touching them to requeue their finalizer",
            20 * (attempt + 1)
        );
        let nudge = format!("kubectl-llmd.test/requeue={attempt}");
        let _ = h.kubectl(&["annotate", "crd", "--all", "--overwrite", &nudge]);
    }
    eprintln!("lab: CRDs still Terminating after 60s: starting a fresh lab harness");
    false
}

const POLICY_PROBE_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata:
  name: probes.gateway.networking.k8s.io
  annotations:
    kubectl-llmd.test/stand-in: "probe for the safe-upgrades policy, only ever dry-run"
    api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/2466
    gateway.networking.k8s.io/bundle-version: v1.3.0
    gateway.networking.k8s.io/channel: standard
spec:
  group: gateway.networking.k8s.io
  scope: Namespaced
  names: {kind: Probe, plural: probes}
  versions:
  - name: v1
    served: true
    storage: true
    schema: {openAPIV3Schema: {type: object}}
"#;

pub fn probe_denied(h: &Harness) -> Option<String> {
    let out = h.kubectl_stdin(&["create", "--dry-run=server", "-f", "-"], POLICY_PROBE_CRD);
    (!out.status.success()).then(|| String::from_utf8_lossy(&out.stderr).into_owned())
}

/// The policy is enforced once the API server's policy informer has it: wait for that.
pub fn wait_policy_enforced(h: &Harness) {
    let start = Instant::now();
    loop {
        match probe_denied(h) {
            Some(e) if e.contains("prohibited") => return,
            _ if start.elapsed() > Duration::from_secs(30) => panic!("safe-upgrades policy not enforced after 30s"),
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

/// After deleting the policy, wait until the API server stops enforcing it.
pub fn wait_policy_gone(h: &Harness) {
    let start = Instant::now();
    while let Some(e) = probe_denied(h) {
        assert!(e.contains("prohibited"), "probe CRD refused for another reason: {e}");
        assert!(start.elapsed() < Duration::from_secs(30), "safe-upgrades policy still enforced after 30s: {e}");
        std::thread::sleep(Duration::from_millis(200));
    }
}
