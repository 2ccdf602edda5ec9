//! The routing picture of each InferencePool: GatewayClass → Gateway → HTTPRoute → InferencePool →
//! endpoint picker → pods, with the findings that break each link. Pure: built from a Snapshot and
//! the doctor Report, so `pool status` and `doctor` can never disagree.

use crate::findings::{Category, Finding, Report, Severity};
use crate::model::{is_true, InferencePoolView, ObjectRef, PoolApi};
use crate::snapshot::Snapshot;
use serde::Serialize;
use std::collections::HashMap;

/// A ready/total pair.
#[derive(Debug, Clone, Copy, Default, Serialize, PartialEq, Eq)]
pub struct Count {
    pub ready: usize,
    pub total: usize,
}

impl std::fmt::Display for Count {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{}", self.ready, self.total)
    }
}

/// Health of one link of the chain.
#[derive(Debug, Clone, Copy, Serialize, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Health {
    Ok,
    Warning,
    Broken,
}

/// One node of the routing tree.
#[derive(Debug, Clone, Serialize)]
pub struct Node {
    /// The object (kind, group, namespace, name).
    pub object: ObjectRef,
    /// Short detail ("listener http", "rule 0", "port 9002, 1/1 ready").
    pub detail: String,
    pub health: Health,
    /// Findings about this object.
    pub findings: Vec<Finding>,
    pub children: Vec<Node>,
}

/// Everything `pool status` shows about one pool.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PoolStatus {
    pub namespace: String,
    pub name: String,
    /// "v1" or "v1alpha2".
    pub api: String,
    /// Programmed / total Gateways in front of the pool.
    pub gateways: Count,
    /// Accepted / total HTTPRoutes naming the pool.
    pub routes: Count,
    /// The endpoint picker Service name ("" when none).
    pub epp_service: String,
    /// Ready endpoints of the EPP Service / desired EPP replicas.
    pub epp: Count,
    /// Ready / selected model-server pods.
    pub endpoints: Count,
    /// "Ready", or the first broken link in words.
    pub status: String,
    pub selector: String,
    pub target_ports: Vec<i64>,
    pub failure_mode: String,
    pub epp_port: Option<i64>,
    pub app_protocol: String,
    /// An x-k8s pool that should be migrated to inference.networking.k8s.io/v1.
    pub needs_migration: bool,
    /// The chain, from each GatewayClass down to the pods.
    pub tree: Vec<Node>,
}

/// The report's findings by object: one pass over the report, not one per node.
#[derive(Default)]
struct FindingsByObject<'a>(HashMap<&'a ObjectRef, Vec<&'a Finding>>);

impl<'a> FindingsByObject<'a> {
    fn new(report: &'a Report) -> Self {
        let mut map: HashMap<&ObjectRef, Vec<&Finding>> = HashMap::new();
        for f in &report.findings {
            map.entry(&f.object).or_default().push(f);
        }
        FindingsByObject(map)
    }
}

fn node(object: ObjectRef, detail: String, report: &FindingsByObject, children: Vec<Node>) -> Node {
    let findings: Vec<Finding> = report.0.get(&object).into_iter().flatten().map(|f| (*f).clone()).collect();
    let health = match findings.iter().map(|f| f.severity).max() {
        Some(Severity::Error) => Health::Broken,
        Some(Severity::Warning) => Health::Warning,
        _ => Health::Ok,
    };
    Node { object, detail, health, findings, children }
}

/// Build the picture for every pool in the snapshot (both APIs), sorted by namespace and name.
pub fn pool_statuses(snap: &Snapshot, report: &Report) -> Vec<PoolStatus> {
    let findings = FindingsByObject::new(report);
    let mut out: Vec<PoolStatus> = snap.all_pools().map(|p| pool_status(snap, &findings, p)).collect();
    out.sort_by(|a, b| (&a.namespace, &a.name, &a.api).cmp(&(&b.namespace, &b.name, &b.api)));
    out
}

fn pool_status(snap: &Snapshot, report: &FindingsByObject, pool: &InferencePoolView) -> PoolStatus {
    let ns = pool.metadata.ns();
    let routes = snap.routes_referencing(pool);
    let mut gateway_keys: Vec<(String, String)> = routes.iter().flat_map(|r| r.gateways()).collect();
    gateway_keys.sort();
    gateway_keys.dedup();
    let gateways: Vec<_> = gateway_keys.iter().filter_map(|(gns, gname)| snap.gateway(gns, gname)).collect();
    let programmed = gateways.iter().filter(|g| is_true(&g.status.conditions, "Programmed")).count();
    let accepted =
        routes.iter().filter(|r| r.status.parents.iter().any(|p| is_true(&p.conditions, "Accepted"))).count();

    // Endpoint picker.
    let svc_name = pool.epp_service_name().unwrap_or("").to_string();
    let svc = snap.service(ns, &svc_name);
    let epp_ready = snap
        .endpoint_slices_of(ns, &svc_name)
        .flat_map(|s| s.endpoints.iter().flatten())
        .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(false))
        .count();
    let deployments = svc.map(|s| snap.picker_workloads(s)).unwrap_or_default();
    let desired: usize = deployments.iter().map(|d| d.desired.max(0) as usize).sum();

    // Model servers.
    let pods: Vec<_> = snap.pods_matching(ns, &pool.selector).collect();
    let ready_pods = pods.iter().filter(|p| p.is_ready()).count();

    // The tree, bottom-up.
    let pod_nodes: Vec<Node> = pods
        .iter()
        .map(|p| {
            let name = p.metadata.name.clone().unwrap_or_default();
            let detail = if p.is_ready() { "Ready" } else { "not Ready" }.to_string();
            let mut pod = node(ObjectRef::new("Pod", "", ns, &name), detail, report, vec![]);
            // A pod that is not Ready gets no traffic. Marked, not broken: the pool is broken only when
            // no pod is Ready (the Pods node and LLMD-POD-002 say so), so its status stays as it was.
            if !p.is_ready() {
                pod.health = Health::Warning;
            }
            pod
        })
        .collect();
    let deployment_nodes: Vec<Node> = deployments
        .iter()
        .map(|d| node(d.object(), format!("{}/{} available", d.available, d.desired), report, vec![]))
        .collect();
    let pool_ref = pool.object_ref();
    let epp_port = pool.endpoint_picker.as_ref().and_then(|e| e.port);
    let mut pool_children = Vec::new();
    if !svc_name.is_empty() {
        let detail = format!(
            "endpoint picker{}, {epp_ready} ready endpoint{}",
            epp_port.map(|p| format!(" :{p}")).unwrap_or_default(),
            if epp_ready == 1 { "" } else { "s" }
        );
        pool_children.push(node(ObjectRef::new("Service", "", ns, &svc_name), detail, report, deployment_nodes));
    }
    let pods_detail = format!("{ready_pods}/{} model-server pods ready", pods.len());
    let selector = pool.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
    let mut pods_group =
        node(ObjectRef::new("Pods", "", ns, &selector), pods_detail, &FindingsByObject::default(), pod_nodes);
    pods_group.health = if pods.is_empty() || ready_pods == 0 {
        Health::Broken
    } else if ready_pods < pods.len() {
        Health::Warning
    } else {
        Health::Ok
    };
    pool_children.push(pods_group);
    let ports = pool.target_ports.iter().map(|p| p.to_string()).collect::<Vec<_>>().join(",");
    let pool_node =
        node(pool_ref.clone(), format!("{} targetPorts {ports}", pool.api.version()), report, pool_children);

    let mut tree: Vec<Node> = Vec::new();
    if routes.is_empty() {
        tree.push(pool_node.clone());
    }
    for gw in &gateways {
        let gw_ref = ObjectRef::new("Gateway", crate::model::groups::GATEWAY, gw.metadata.ns(), &gw.metadata.name);
        let route_nodes: Vec<Node> = routes
            .iter()
            .filter(|r| r.gateways().iter().any(|(n, m)| n == gw.metadata.ns() && m == &gw.metadata.name))
            .map(|r| {
                let rule = r
                    .spec
                    .rules
                    .iter()
                    .position(|rule| {
                        rule.backend_refs.iter().any(|b| b.is_inference_pool() && b.name == pool.metadata.name)
                    })
                    .unwrap_or(0);
                let route_ref =
                    ObjectRef::new("HTTPRoute", crate::model::groups::GATEWAY, r.metadata.ns(), &r.metadata.name);
                node(route_ref, format!("rule {rule}"), report, vec![pool_node.clone()])
            })
            .collect();
        let listeners = gw.spec.listeners.iter().map(|l| l.name.as_str()).collect::<Vec<_>>().join(",");
        let gw_node = node(gw_ref, format!("listeners {listeners}"), report, route_nodes);
        let class_name = gw.spec.gateway_class_name.clone();
        let class_ref = ObjectRef::new("GatewayClass", crate::model::groups::GATEWAY, "", &class_name);
        let class = snap.gateway_class(&class_name);
        let detail = class.map_or_else(|| "not found".to_string(), |c| c.spec.controller_name.clone());
        match tree.iter_mut().find(|n| n.object == class_ref) {
            Some(existing) => existing.children.push(gw_node),
            None => {
                let mut class_node = node(class_ref, detail, report, vec![gw_node]);
                if class.is_none() && snap.gateway_classes.is_listed() {
                    class_node.health = Health::Broken;
                }
                tree.push(class_node)
            }
        }
    }
    // Routes whose Gateway is missing still show, straight under the pool's chain.
    for r in routes.iter().filter(|r| r.gateways().iter().all(|(n, m)| snap.gateway(n, m).is_none())) {
        let route_ref = ObjectRef::new("HTTPRoute", crate::model::groups::GATEWAY, r.metadata.ns(), &r.metadata.name);
        tree.push(node(route_ref, "no Gateway found".into(), report, vec![pool_node.clone()]));
    }

    let status =
        first_broken_link(&tree).unwrap_or_else(
            || {
                if routes.is_empty() {
                    "no HTTPRoute".into()
                } else {
                    "Ready".into()
                }
            },
        );
    let needs_migration = pool.api == PoolApi::V1Alpha2 && !snap.has_v1_twin(pool);
    PoolStatus {
        namespace: ns.to_string(),
        name: pool.metadata.name.clone(),
        api: pool.api.version().to_string(),
        gateways: Count { ready: programmed, total: gateways.len().max(gateway_keys.len()) },
        routes: Count { ready: accepted, total: routes.len() },
        epp_service: svc_name,
        epp: Count { ready: epp_ready, total: desired },
        endpoints: Count { ready: ready_pods, total: pods.len() },
        status,
        selector,
        target_ports: pool.target_ports.clone(),
        failure_mode: pool.endpoint_picker.as_ref().map(|e| e.failure_mode.clone()).unwrap_or_default(),
        epp_port,
        app_protocol: pool.app_protocol.clone().unwrap_or_else(|| "http".into()),
        needs_migration,
        tree,
    }
}

/// Depth-first, the first node that is broken, in words: named after the area of its first error
/// (a model-server finding is about the pool object, but the broken link is the model servers).
fn first_broken_link(tree: &[Node]) -> Option<String> {
    for n in tree {
        if n.health == Health::Broken {
            let error = n.findings.iter().find(|f| f.severity == Severity::Error);
            let what = match (error.map(|f| f.category), n.object.kind.as_str()) {
                (Some(Category::GatewayClasses), _) => "GatewayClass not ready",
                (Some(Category::Gateways), _) => "Gateway not ready",
                (Some(Category::Routes), _) => "HTTPRoute broken",
                (Some(Category::Pools), _) => "pool not accepted",
                (Some(Category::EndpointPicker), _) => "endpoint picker down",
                (Some(Category::ModelServers), _) => "no ready model servers",
                (Some(Category::Istio), _) => "Istio cannot reach the endpoint picker",
                (Some(_), _) => "broken",
                (None, "GatewayClass") if n.detail == "not found" => "GatewayClass not found",
                (None, "Pods") => "no ready model servers",
                (None, _) => "broken",
            };
            let code = error.map(|f| format!(" ({})", f.code));
            return Some(format!("{what}{}", code.unwrap_or_default()));
        }
        if let Some(s) = first_broken_link(&n.children) {
            return Some(s);
        }
    }
    None
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{snapshot, POOL_V1};
    use crate::findings::Finding;

    /// GatewayClass → Gateway (Programmed) → HTTPRoute (Accepted) → pool llm/qwen → EPP Service with
    /// one ready endpoint and its Deployment → two model-server pods; `ready` says whether pod m-1 is.
    fn chain(ready: bool) -> String {
        let pod = |name: &str, ready: bool| {
            format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: {name}, namespace: llm, labels: {{app: qwen}}}}\n\
                 spec: {{containers: [{{name: vllm, image: vllm}}]}}\n\
                 status: {{phase: Running, conditions: [{{type: Ready, status: \"{}\"}}]}}\n",
                if ready { "True" } else { "False" }
            )
        };
        format!(
            r#"{POOL_V1}
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: istio}}
spec: {{controllerName: istio.io/gateway-controller}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: llm}}
spec:
  gatewayClassName: istio
  listeners: [{{name: http, port: 80, protocol: HTTP}}]
status:
  conditions: [{{type: Programmed, status: "True"}}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: route, namespace: llm}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{group: inference.networking.k8s.io, kind: InferencePool, name: qwen}}]}}]
status:
  parents: [{{parentRef: {{name: gw}}, controllerName: istio.io/gateway-controller, conditions: [{{type: Accepted, status: "True"}}]}}]
---
apiVersion: v1
kind: Service
metadata: {{name: qwen-epp, namespace: llm}}
spec: {{selector: {{app: qwen-epp}}, ports: [{{port: 9002}}]}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: qwen-epp-abc, namespace: llm, labels: {{kubernetes.io/service-name: qwen-epp}}}}
addressType: IPv4
endpoints: [{{addresses: [10.0.0.5], conditions: {{ready: true}}}}]
---
apiVersion: apps/v1
kind: Deployment
metadata: {{name: qwen-epp, namespace: llm}}
spec:
  replicas: 1
  selector: {{matchLabels: {{app: qwen-epp}}}}
  template:
    metadata: {{labels: {{app: qwen-epp}}}}
    spec: {{containers: [{{name: epp, image: epp}}]}}
status: {{replicas: 1, readyReplicas: 1, availableReplicas: 1}}
---
{}---
{}"#,
            pod("m-0", true),
            pod("m-1", ready)
        )
    }

    fn error_on(object: ObjectRef, code: &str, category: Category) -> Finding {
        Finding {
            code: code.into(),
            severity: Severity::Error,
            category,
            object,
            message: "m".into(),
            hint: "h".into(),
            fixable: false,
            repair: None,
        }
    }

    fn report(findings: Vec<Finding>) -> Report {
        Report::new("test".into(), "profile".into(), vec![], findings)
    }

    /// The picture of the one pool of `yaml` under `findings`.
    fn picture(yaml: &str, findings: Vec<Finding>) -> PoolStatus {
        let mut all = pool_statuses(&snapshot(yaml), &report(findings));
        assert_eq!(all.len(), 1, "one pool expected");
        all.remove(0)
    }

    /// Kind/name of each node, depth first, indented by depth.
    fn outline(nodes: &[Node], depth: usize, out: &mut Vec<String>) {
        for n in nodes {
            out.push(format!("{}{} {}", "  ".repeat(depth), n.object.kind, n.object.name));
            outline(&n.children, depth + 1, out);
        }
    }

    #[test]
    fn a_healthy_chain_is_ready_from_class_to_pods() {
        let p = picture(&chain(true), vec![]);
        assert_eq!(p.status, "Ready");
        assert_eq!((p.gateways, p.routes), (Count { ready: 1, total: 1 }, Count { ready: 1, total: 1 }));
        assert_eq!((p.epp, p.endpoints), (Count { ready: 1, total: 1 }, Count { ready: 2, total: 2 }));
        assert_eq!(
            (p.epp_service.as_str(), p.epp_port, p.target_ports.as_slice()),
            ("qwen-epp", Some(9002), &[8000][..])
        );
        let mut lines = Vec::new();
        outline(&p.tree, 0, &mut lines);
        assert_eq!(
            lines,
            [
                "GatewayClass istio",
                "  Gateway gw",
                "    HTTPRoute route",
                "      InferencePool qwen",
                "        Service qwen-epp",
                "          Deployment qwen-epp",
                "        Pods app=qwen",
                "          Pod m-0",
                "          Pod m-1",
            ]
        );
        assert!(!p.needs_migration);
    }

    #[test]
    fn one_pod_not_ready_is_marked_but_the_chain_stays_ready() {
        let p = picture(&chain(false), vec![]);
        assert_eq!(p.status, "Ready");
        assert_eq!(p.endpoints, Count { ready: 1, total: 2 });
    }

    #[test]
    fn the_first_broken_link_from_the_top_is_named_with_its_code() {
        let gw = ObjectRef::new("Gateway", crate::model::groups::GATEWAY, "llm", "gw");
        let pool = ObjectRef::new("InferencePool", crate::model::groups::INFERENCE, "llm", "qwen");
        // An error on the pool alone: the link named is the pool's area.
        let p = picture(&chain(true), vec![error_on(pool.clone(), "LLMD-POOL-001", Category::Pools)]);
        assert_eq!(p.status, "pool not accepted (LLMD-POOL-001)");
        // Errors on the Gateway and the pool: the Gateway comes first on the way down.
        let p = picture(
            &chain(true),
            vec![
                error_on(pool, "LLMD-POD-002", Category::ModelServers),
                error_on(gw, "LLMD-GW-001", Category::Gateways),
            ],
        );
        assert_eq!(p.status, "Gateway not ready (LLMD-GW-001)");
    }

    #[test]
    fn no_ready_pod_missing_class_and_missing_route_are_said_in_words() {
        let not_ready = chain(true).replace("type: Ready, status: \"True\"", "type: Ready, status: \"False\"");
        assert_eq!(picture(&not_ready, vec![]).status, "no ready model servers");

        let no_class = chain(true)
            .replace("kind: GatewayClass\nmetadata: {name: istio}", "kind: GatewayClass\nmetadata: {name: other}");
        assert_eq!(picture(&no_class, vec![]).status, "GatewayClass not found");

        // The route names another pool: the pool's chain ends at the pool itself.
        let unrouted = chain(true).replace("kind: InferencePool, name: qwen", "kind: InferencePool, name: other");
        let p = picture(&unrouted, vec![]);
        assert_eq!((p.status.as_str(), p.routes.total, p.tree.len()), ("no HTTPRoute", 0, 1));
    }
}
