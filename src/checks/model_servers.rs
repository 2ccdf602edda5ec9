//! Checks: the model server pods an InferencePool selects — that there are some, that they are
//! Ready, and that they listen on the pool's target ports.

use super::pools::{effective_pools, pool_patch, pool_path, target_ports_patch, target_ports_repair};
use super::{Check, CheckContext, Issue};
use crate::findings::Category;
use crate::model::{InferencePoolView, PodView, PoolApi};
use crate::snapshot::{Kind, Snapshot};
use std::collections::{BTreeMap, BTreeSet};

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-POD-001",
        title: "Every InferencePool selects at least one model server pod",
        category: Category::ModelServers,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Pods, Kind::Deployments],
        run: check_pods_selected,
    },
    Check {
        code: "LLMD-POD-002",
        title: "Every InferencePool's model server pods are Ready",
        category: Category::ModelServers,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Pods, Kind::LiveStatus],
        run: check_pods_ready,
    },
    Check {
        code: "LLMD-POD-003",
        title: "Every selected model server pod declares a pool target port",
        category: Category::ModelServers,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Pods],
        run: check_pods_serve_target_port,
    },
    Check {
        code: "LLMD-POD-004",
        title: "Every InferencePool's targetPorts match its model servers' container port",
        category: Category::ModelServers,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Pods],
        run: check_target_ports_match,
    },
];

/// How many pod names a message lists before "and N more".
const LIST_MAX: usize = 3;

fn pod_name(p: &PodView) -> &str {
    p.metadata.name.as_deref().unwrap_or("")
}

fn names_text(names: &[&str]) -> String {
    if names.len() <= LIST_MAX {
        names.join(", ")
    } else {
        format!("{} and {} more", names[..LIST_MAX].join(", "), names.len() - LIST_MAX)
    }
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Pools with a selector whose pods were collected (empty selectors are LLMD-POOL-008's).
fn pools_with_selector(snap: &Snapshot) -> Vec<&InferencePoolView> {
    effective_pools(snap).into_iter().filter(|p| !p.selector.is_empty() && snap.in_scope(p.metadata.ns())).collect()
}

fn selected<'a>(snap: &'a Snapshot, pool: &'a InferencePoolView) -> Vec<&'a PodView> {
    snap.pods_matching(pool.metadata.ns(), &pool.selector).collect()
}

/// Container ports a pod declares: regular containers and sidecars (init containers that keep running).
fn declared_ports(p: &PodView) -> BTreeSet<i64> {
    let Some(spec) = &p.spec else { return BTreeSet::new() };
    let sidecars = spec.init_containers.iter().flatten().filter(|c| c.restart_policy.as_deref() == Some("Always"));
    spec.containers
        .iter()
        .chain(sidecars)
        .flat_map(|c| c.ports.iter().flatten())
        .map(|p| i64::from(p.container_port))
        .collect()
}

/// The single port every selected pod declares, when it is the same everywhere and not a target port (E22).
fn uniform_other_port(pool: &InferencePoolView, pods: &[&PodView]) -> Option<i64> {
    let mut common = None;
    for p in pods {
        let ports = declared_ports(p);
        if ports.len() != 1 {
            return None;
        }
        let port = *ports.iter().next()?;
        match common {
            None => common = Some(port),
            Some(c) if c != port => return None,
            _ => {}
        }
    }
    common.filter(|c| !pool.target_ports.contains(c))
}

/// Why a pod is not ready, as `kubectl get pods` would show it (CrashLoopBackOff, Pending…).
fn not_ready_reason(p: &PodView) -> String {
    let Some(status) = &p.status else { return "no status".into() };
    let waiting = status
        .container_statuses
        .iter()
        .flatten()
        .chain(status.init_container_statuses.iter().flatten())
        .find_map(|cs| cs.state.as_ref()?.waiting.as_ref()?.reason.clone());
    waiting.or_else(|| status.reason.clone()).or_else(|| status.phase.clone()).unwrap_or_else(|| "not ready".into())
}

/// E20: the selector matches no pod.
fn check_pods_selected(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in pools_with_selector(snap) {
        if !selected(snap, pool).is_empty() {
            continue;
        }
        let ns = pool.metadata.ns();
        let selector = labels_text(&pool.selector);
        let field = if pool.api == PoolApi::V1 { "spec.selector.matchLabels" } else { "spec.selector" };
        // A Deployment whose pods would match but runs none explains it best.
        let scaled_down = snap.deployments_in(ns).find(|d| {
            d.spec.replicas == Some(0)
                && d.spec
                    .template
                    .metadata
                    .as_ref()
                    .and_then(|m| m.labels.as_ref())
                    .is_some_and(|l| pool.selector.iter().all(|(k, v)| l.get(k) == Some(v)))
        });
        // Otherwise the pod sharing the most selector labels shows which label is off.
        let nearest = snap
            .pods_in(ns)
            .filter_map(|p| {
                let labels = p.metadata.labels.as_ref()?;
                let hits = pool.selector.iter().filter(|(k, v)| labels.get(*k) == Some(*v)).count();
                (hits > 0).then_some((hits, p))
            })
            .max_by_key(|(hits, p)| (*hits, std::cmp::Reverse(pod_name(p).to_string())))
            .map(|(_, p)| p);
        let (detail, hint) = if let Some(d) = scaled_down {
            let name = d.metadata.name.as_deref().unwrap_or("");
            (
                format!("; Deployment {ns}/{name} would provide them but is scaled to 0"),
                format!("kubectl scale deployment/{name} -n {ns} --replicas=1"),
            )
        } else if let Some(p) = nearest {
            let labels = p.metadata.labels.clone().unwrap_or_default();
            let off: Vec<String> = pool
                .selector
                .iter()
                .filter(|(k, v)| labels.get(*k) != Some(*v))
                .map(|(k, v)| match labels.get(k) {
                    Some(actual) => format!("{k}={actual} (not {v})"),
                    None => format!("no label {k}"),
                })
                .collect();
            (
                format!("; the closest pod {} has {}", pod_name(p), off.join(", ")),
                format!(
                    "set {field} in InferencePool {} to labels the model server pods carry (pod {}: {})",
                    pool_path(pool),
                    pod_name(p),
                    labels_text(&labels)
                ),
            )
        } else {
            (
                String::new(),
                format!(
                    "deploy the model servers with labels {selector} in namespace {ns}, or set {field} in InferencePool {} to their labels (kubectl get pods -n {ns} --show-labels)",
                    pool_path(pool)
                ),
            )
        };
        out.push(Issue::error(
            pool.object_ref(),
            format!(
                "InferencePool {} selects pods with {selector} but no pod in namespace {ns} has those labels{detail}",
                pool_path(pool)
            ),
            hint,
        ));
    }
    out
}

/// E23: selected pods are not Ready.
fn check_pods_ready(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in pools_with_selector(snap) {
        let pods = selected(snap, pool);
        let not_ready: Vec<&PodView> = pods.iter().copied().filter(|p| !p.is_ready()).collect();
        if not_ready.is_empty() {
            continue;
        }
        let ns = pool.metadata.ns();
        let listed: Vec<String> =
            not_ready.iter().map(|p| format!("{} ({})", pod_name(p), not_ready_reason(p))).collect();
        let listed: Vec<&str> = listed.iter().map(String::as_str).collect();
        let first = pod_name(not_ready[0]);
        let hint = format!("kubectl describe pod/{first} -n {ns} && kubectl logs pod/{first} -n {ns} --all-containers");
        let message = format!(
            "{}/{} model server pods of InferencePool {} are not Ready: {}",
            not_ready.len(),
            pods.len(),
            pool_path(pool),
            names_text(&listed)
        );
        out.push(if not_ready.len() == pods.len() {
            Issue::error(pool.object_ref(), format!("{message}; the pool has no endpoint to route to"), hint)
        } else {
            Issue::warning(pool.object_ref(), format!("{message}; the pool runs with reduced capacity"), hint)
        });
    }
    out
}

/// E21: selected pods declare container ports, none of them a target port.
fn check_pods_serve_target_port(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in pools_with_selector(snap).into_iter().filter(|p| !p.target_ports.is_empty()) {
        let pods = selected(snap, pool);
        if uniform_other_port(pool, &pods).is_some() {
            continue; // LLMD-POD-004 reports it, with the fix.
        }
        // Declaring ports is optional: only pods that declare some can be judged.
        let off: Vec<&PodView> = pods
            .iter()
            .copied()
            .filter(|p| {
                let ports = declared_ports(p);
                !ports.is_empty() && !ports.iter().any(|port| pool.target_ports.contains(port))
            })
            .collect();
        if off.is_empty() {
            continue;
        }
        let names: Vec<&str> = off.iter().map(|p| pod_name(p)).collect();
        let ports: BTreeSet<i64> = off.iter().flat_map(|p| declared_ports(p)).collect();
        let ports: Vec<String> = ports.iter().map(i64::to_string).collect();
        let targets: Vec<String> = pool.target_ports.iter().map(i64::to_string).collect();
        let field = if pool.api == PoolApi::V1 { "spec.targetPorts" } else { "spec.targetPortNumber" };
        out.push(Issue::warning(
            pool.object_ref(),
            format!(
                "InferencePool {} sends to port {} but selected pods {} declare only container ports {}; they may not serve the pool",
                pool_path(pool),
                targets.join(", "),
                names_text(&names),
                ports.join(", ")
            ),
            format!(
                "set {field} in InferencePool {} to the port the model server listens on, or narrow the selector to the serving pods",
                pool_path(pool)
            ),
        ));
    }
    out
}

/// E22: every selected pod declares the same single port, and it is not a target port.
fn check_target_ports_match(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in pools_with_selector(snap).into_iter().filter(|p| !p.target_ports.is_empty()) {
        let pods = selected(snap, pool);
        let Some(port) = uniform_other_port(pool, &pods) else { continue };
        let targets: Vec<String> = pool.target_ports.iter().map(i64::to_string).collect();
        out.push(
            Issue::warning(
                pool.object_ref(),
                format!(
                    "InferencePool {} targets port {} but its {} model server pods all declare container port {port}",
                    pool_path(pool),
                    targets.join(", "),
                    pods.len()
                ),
                pool_patch(pool, &target_ports_patch(pool, port)),
            )
            .repair(target_ports_repair(pool, port)),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::findings::Severity;

    fn issues(code: &str, yaml: &str) -> Vec<Issue> {
        fixtures::issues(CHECKS, code, yaml)
    }

    const POOL: &str = r#"
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: qwen, namespace: llm}
spec:
  selector: {matchLabels: {app: qwen, tier: decode}}
  targetPorts: [{number: 8000}]
  endpointPickerRef: {name: qwen-epp, port: {number: 9002}}
"#;

    fn pod(name: &str, labels: &str, ports: &str, ready: bool) -> String {
        format!(
            r#"
apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: llm, labels: {labels}}}
spec:
  containers: [{{name: vllm, image: vllm, ports: {ports}}}]
status:
  phase: Running
  conditions: [{{type: Ready, status: "{}"}}]
  containerStatuses: [{{name: vllm, ready: {ready}, restartCount: 3, image: vllm, imageID: x, state: {}}}]
"#,
            if ready { "True" } else { "False" },
            if ready { "{running: {}}" } else { "{waiting: {reason: CrashLoopBackOff}}" }
        )
    }

    const LABELS: &str = "{app: qwen, tier: decode}";

    fn docs(parts: &[&str]) -> String {
        parts.join("\n---\n")
    }

    #[test]
    fn selector_matching_no_pod_is_an_error() {
        let other = pod("qwen-0", "{app: qwen, tier: prefill}", "[{containerPort: 8000}]", true);
        let found = issues("LLMD-POD-001", &docs(&[POOL, &other]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(found[0].message.contains("tier=prefill (not decode)"), "{}", found[0].message);
        let ok = pod("qwen-0", LABELS, "[{containerPort: 8000}]", true);
        assert!(issues("LLMD-POD-001", &docs(&[POOL, &ok])).is_empty());
    }

    #[test]
    fn scaled_down_model_server_is_named() {
        let dep = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: qwen-decode, namespace: llm}
spec:
  replicas: 0
  selector: {matchLabels: {app: qwen}}
  template: {metadata: {labels: {app: qwen, tier: decode}}, spec: {containers: [{name: vllm}]}}
"#;
        let found = issues("LLMD-POD-001", &docs(&[POOL, dep]));
        assert!(found.len() == 1 && found[0].hint == "kubectl scale deployment/qwen-decode -n llm --replicas=1");
    }

    #[test]
    fn empty_selector_is_left_to_the_pool_checks() {
        let pool = POOL.replace("{matchLabels: {app: qwen, tier: decode}}", "{}");
        assert!(issues("LLMD-POD-001", &pool).is_empty());
    }

    #[test]
    fn no_ready_pod_is_an_error_some_is_a_warning() {
        let down = pod("qwen-0", LABELS, "[{containerPort: 8000}]", false);
        let up = pod("qwen-1", LABELS, "[{containerPort: 8000}]", true);
        let found = issues("LLMD-POD-002", &docs(&[POOL, &down]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(found[0].message.contains("qwen-0 (CrashLoopBackOff)"), "{}", found[0].message);
        let found = issues("LLMD-POD-002", &docs(&[POOL, &down, &up]));
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("1/2"));
        assert!(issues("LLMD-POD-002", &docs(&[POOL, &up])).is_empty());
    }

    #[test]
    fn pods_without_target_port_warn() {
        let a = pod("qwen-0", LABELS, "[{containerPort: 8200}]", true);
        let b = pod("qwen-1", LABELS, "[{containerPort: 8300}]", true);
        let found = issues("LLMD-POD-003", &docs(&[POOL, &a, &b]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Warning, "qwen"));
        assert!(found[0].message.contains("8200, 8300"));
        // Pods declaring no ports, or declaring the target port among others, pass.
        let silent = pod("qwen-0", LABELS, "[]", true);
        let sidecar = pod("qwen-1", LABELS, "[{containerPort: 8200}, {containerPort: 8000}]", true);
        assert!(issues("LLMD-POD-003", &docs(&[POOL, &silent, &sidecar])).is_empty());
    }

    #[test]
    fn uniform_other_port_is_fixable_and_not_double_reported() {
        let a = pod("qwen-0", LABELS, "[{containerPort: 8200}]", true);
        let b = pod("qwen-1", LABELS, "[{containerPort: 8200}]", true);
        let yaml = docs(&[POOL, &a, &b]);
        let found = issues("LLMD-POD-004", &yaml);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Warning, "qwen"));
        assert!(found[0].repair.is_some());
        assert!(found[0].hint.contains(r#""targetPorts":[{"number":8200}]"#), "{}", found[0].hint);
        assert!(issues("LLMD-POD-003", &yaml).is_empty());
        let ok = pod("qwen-0", LABELS, "[{containerPort: 8000}]", true);
        assert!(issues("LLMD-POD-004", &docs(&[POOL, &ok])).is_empty());
    }
}
