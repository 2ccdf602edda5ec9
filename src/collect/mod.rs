//! Collectors: build a Snapshot from a live cluster or from manifests. Both feed objects through
//! `Snapshot::insert` / `Snapshot::try_insert`, so a check cannot tell the difference except where
//! the offline collector marks a kind as unknowable.

pub mod access;
pub mod cluster;
pub mod kinds;
pub mod offline;

use crate::model::*;
use crate::snapshot::{Collected, Kind, Snapshot, Unreadable};
use serde_json::Value;

pub(crate) fn push<T>(slot: &mut Collected<T>, item: T) {
    match slot {
        Collected::Listed(v) => v.push(item),
        other => *other = Collected::Listed(vec![item]),
    }
}

/// The Snapshot slot of an object's apiVersion and kind; None for kinds the checks do not read.
pub fn kind_of(obj: &Value) -> Option<Kind> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let group = if api_version.contains('/') { api_version.split('/').next().unwrap_or("") } else { "" };
    kinds::slot_of(group, kind)
}

/// "Gateway llm/inference-gateway", "GatewayClass istio", "Gateway (no name)": an object as
/// messages name it, read from the raw object (which may not fit its view).
pub fn describe(obj: &Value) -> String {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("object");
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).filter(|n| !n.is_empty());
    let namespace = obj.pointer("/metadata/namespace").and_then(Value::as_str).filter(|n| !n.is_empty());
    match (namespace, name) {
        (Some(ns), Some(name)) => format!("{kind} {ns}/{name}"),
        (None, Some(name)) => format!("{kind} {name}"),
        (_, None) => format!("{kind} (no name)"),
    }
}

impl Snapshot {
    /// Add one object (with apiVersion and kind set) to the slot of its kind. Ok(false) for kinds
    /// the checks do not read; an object of a kind they read that does not fit its view is an
    /// error naming the object and the field. Null reads as absent (`read_view`).
    pub fn try_insert(&mut self, obj: &Value) -> Result<bool, Unreadable> {
        let Some(kind) = kind_of(obj) else { return Ok(false) };
        self.forget_lookups();
        let read = match kind {
            Kind::Crds => read_view(obj).map(|c| push(&mut self.crds, c)),
            Kind::GatewayClasses => read_view(obj).map(|c| push(&mut self.gateway_classes, c)),
            Kind::Gateways => read_view(obj).map(|c| push(&mut self.gateways, c)),
            Kind::HttpRoutes => read_view(obj).map(|c| push(&mut self.http_routes, c)),
            Kind::ReferenceGrants => read_view(obj).map(|c| push(&mut self.reference_grants, c)),
            Kind::InferencePools => InferencePoolView::from_value(obj).map(|p| push(&mut self.pools, p)),
            Kind::InferencePoolsX => InferencePoolView::from_value(obj).map(|p| push(&mut self.pools_x, p)),
            Kind::InferenceObjectives => InferenceObjectiveView::from_value(obj).map(|o| push(&mut self.objectives, o)),
            Kind::Services => read_view(obj).map(|s| push(&mut self.services, s)),
            Kind::EndpointSlices => read_view(obj).map(|s| push(&mut self.endpoint_slices, s)),
            Kind::Deployments => read_view(obj).map(|s| push(&mut self.deployments, s)),
            Kind::StatefulSets => read_view(obj).map(|s| push(&mut self.stateful_sets, s)),
            Kind::Pods => read_view(obj).map(|s| push(&mut self.pods, s)),
            Kind::DestinationRules => read_view(obj).map(|s| push(&mut self.destination_rules, s)),
            Kind::AdmissionPolicies => read_view(obj).map(|s| push(&mut self.admission_policies, s)),
            Kind::Webhooks => read_view(obj).map(|s| push(&mut self.webhooks, s)),
            Kind::ServerVersion | Kind::SaAccess | Kind::BackendTrafficPolicies | Kind::LiveStatus => Ok(()),
        };
        read.map(|()| true).map_err(|error| Unreadable {
            kind,
            kind_name: obj.get("kind").and_then(Value::as_str).unwrap_or_default().to_string(),
            object: describe(obj),
            error: error.to_string(),
        })
    }

    /// Add one listed object, as the live collector does: an object that does not fit its view is
    /// not dropped silently but warned about on stderr and kept in `unreadable`, which marks its
    /// kind incomplete (checks reading it are skipped with the reason). Returns true when added.
    pub fn insert(&mut self, obj: &Value) -> bool {
        match self.try_insert(obj) {
            Ok(added) => added,
            Err(unreadable) => {
                eprintln!("warning: {}", unreadable.warning());
                self.unreadable.push(unreadable);
                false
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::collect::offline::parse_manifests;

    /// One object of every kind the checks read (besides the examples), with the fields they read.
    const EVERY_KIND: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: gateways.gateway.networking.k8s.io, annotations: {gateway.networking.k8s.io/bundle-version: v1.3.0}}
spec:
  group: gateway.networking.k8s.io
  scope: Namespaced
  names: {kind: Gateway, plural: gateways, shortNames: [gtw]}
  versions: [{name: v1, served: true, storage: true, deprecated: false}]
status:
  storedVersions: [v1]
  conditions: [{type: Established, status: "True", reason: InitialNamesAccepted, message: ok}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio, labels: {a: b}}
spec: {controllerName: istio.io/gateway-controller}
status: {conditions: [{type: Accepted, status: "True", reason: Accepted, message: ok, observedGeneration: 1}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: llm, annotations: {a: b}}
spec:
  gatewayClassName: istio
  listeners:
  - name: https
    hostname: example.com
    port: 443
    protocol: HTTPS
    allowedRoutes:
      namespaces: {from: Selector, selector: {matchLabels: {team: a}, matchExpressions: [{key: k, operator: Exists}]}}
      kinds: [{group: gateway.networking.k8s.io, kind: HTTPRoute}]
    tls: {mode: Terminate, certificateRefs: [{group: "", kind: Secret, name: cert, namespace: llm}]}
status:
  addresses: [{type: IPAddress, value: 10.0.0.1}]
  conditions: [{type: Programmed, status: "True", reason: Programmed, message: ok}]
  listeners: [{name: https, attachedRoutes: 1, conditions: [{type: Accepted, status: "True"}]}]
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: llm}
spec:
  parentRefs: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: llm, name: gw, sectionName: https, port: 443}]
  hostnames: [example.com]
  rules:
  - name: main
    backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: qwen, namespace: llm, port: 8000, weight: 1}]
status:
  parents: [{parentRef: {name: gw}, controllerName: istio.io/gateway-controller, conditions: [{type: Accepted, status: "True"}]}]
---
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: g, namespace: llm}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: other}]
  to: [{group: inference.networking.k8s.io, kind: InferencePool, name: qwen}]
---
apiVersion: inference.networking.k8s.io/v1
kind: InferencePool
metadata: {name: qwen, namespace: llm}
spec:
  selector: {matchLabels: {app: qwen}}
  targetPorts: [{number: 8000}]
  appProtocol: http
  endpointPickerRef: {group: "", kind: Service, name: qwen-epp, port: {number: 9002}, failureMode: FailOpen}
status:
  parents: [{parentRef: {group: gateway.networking.k8s.io, kind: Gateway, name: gw}, conditions: [{type: Accepted, status: "True"}]}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: old, namespace: llm}
spec:
  selector: {app: old}
  targetPortNumber: 8000
  extensionRef: {group: "", kind: Service, name: old-epp, portNumber: 9002, failureMode: FailClose}
status:
  parent: [{parentRef: {kind: Gateway, name: gw}, conditions: [{type: Accepted, status: "True"}]}]
---
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: o, namespace: llm}
spec: {poolRef: {name: qwen}}
---
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: qwen-epp-1, namespace: llm, labels: {kubernetes.io/service-name: qwen-epp}}
addressType: IPv4
endpoints: [{addresses: [10.1.0.1], conditions: {ready: true, serving: true}, targetRef: {kind: Pod, name: p}}]
ports: [{name: grpc, port: 9002, protocol: TCP}]
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: qwen-epp, namespace: llm, labels: {app: qwen-epp}}
spec:
  replicas: 3
  serviceName: qwen-epp
  selector: {matchLabels: {app: qwen-epp}}
  template:
    metadata: {labels: {app: qwen-epp}}
    spec: {containers: [{name: epp, image: epp, args: [--pool-name, qwen, --ha-enable-leader-election]}]}
status: {replicas: 3, readyReplicas: 1, availableReplicas: 1}
---
apiVersion: networking.istio.io/v1
kind: DestinationRule
metadata: {name: qwen-epp-ports, namespace: llm}
spec:
  host: qwen-epp.llm.svc.cluster.local
  trafficPolicy:
    tls: {mode: SIMPLE, caCertificates: /etc/ca.crt, credentialName: epp-ca}
    portLevelSettings: [{port: {number: 9002}, tls: {mode: SIMPLE, insecureSkipVerify: true}}]
---
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: llm, labels: {app: qwen}}
spec:
  containers: [{name: vllm, image: vllm, args: [--port, "8000"], ports: [{containerPort: 8000}], env: [{name: A, value: b}]}]
status:
  phase: Running
  conditions: [{type: Ready, status: "True"}]
  containerStatuses: [{name: vllm, image: vllm, imageID: x, ready: true, restartCount: 0}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingAdmissionPolicy
metadata: {name: safe-upgrades.gateway.networking.k8s.io}
spec:
  failurePolicy: Fail
  matchConstraints: {resourceRules: [{apiGroups: [apiextensions.k8s.io], apiVersions: [v1], operations: [CREATE, UPDATE], resources: [customresourcedefinitions]}]}
  validations: [{expression: "true", message: m}]
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: w}
webhooks:
- name: w.example.com
  admissionReviewVersions: [v1]
  sideEffects: None
  failurePolicy: Fail
  clientConfig: {service: {name: s, namespace: hooks, port: 443}}
  rules: [{apiGroups: [inference.networking.k8s.io], apiVersions: [v1], operations: [CREATE], resources: [inferencepools]}]
"#;

    fn corpus() -> Vec<Value> {
        let mut objects = parse_manifests(EVERY_KIND, "test").unwrap();
        objects.extend(parse_manifests(include_str!("../../examples/healthy/llm-d-istio.yaml"), "healthy").unwrap());
        objects.extend(parse_manifests(include_str!("../../examples/broken/llm-d-broken.yaml"), "broken").unwrap());
        objects
    }

    /// Every path to a mapping member, depth first: ["spec", "listeners", "0", "port"].
    fn member_paths(v: &Value, prefix: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    prefix.push(k.clone());
                    out.push(prefix.clone());
                    member_paths(child, prefix, out);
                    prefix.pop();
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    prefix.push(i.to_string());
                    member_paths(child, prefix, out);
                    prefix.pop();
                }
            }
            _ => {}
        }
    }

    #[test]
    fn null_reads_as_absent_for_every_field_of_every_kind() {
        let mut kinds = std::collections::BTreeSet::new();
        let mut tried = 0;
        for obj in corpus() {
            let Some(kind) = kind_of(&obj) else { continue };
            kinds.insert(kind);
            let mut paths = Vec::new();
            member_paths(&obj, &mut Vec::new(), &mut paths);
            for path in paths.iter().filter(|p| !matches!(p[0].as_str(), "apiVersion" | "kind")) {
                let mut nulled = obj.clone();
                let pointer: String =
                    path.iter().map(|s| format!("/{}", s.replace('~', "~0").replace('/', "~1"))).collect();
                *nulled.pointer_mut(&pointer).unwrap() = Value::Null;
                let mut snap = Snapshot::all_listed();
                assert_eq!(snap.try_insert(&nulled), Ok(true), "{} with {pointer}: null", describe(&obj));
                tried += 1;
            }
        }
        let mut every: Vec<Kind> =
            crate::snapshot::ALL_KINDS.iter().copied().filter(|k| *k != Kind::ServerVersion).collect();
        every.sort();
        assert_eq!(kinds.into_iter().collect::<Vec<_>>(), every, "the corpus covers every kind");
        assert!(tried > 300, "{tried} fields tried");
    }

    #[test]
    fn an_empty_annotations_key_keeps_the_gateway() {
        let yaml = "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata:\n  name: gw\n  namespace: llm\n  annotations:\n  labels: {a: ~}\nspec:\n  gatewayClassName: istio\n  listeners:\n";
        let mut snap = Snapshot::all_listed();
        assert_eq!(snap.try_insert(&parse_manifests(yaml, "t").unwrap()[0]), Ok(true));
        let gw = snap.gateway("llm", "gw").expect("the Gateway is in the snapshot");
        assert!(gw.metadata.annotations.is_empty() && gw.metadata.labels.is_empty() && gw.spec.listeners.is_empty());
    }

    fn unreadable(yaml: &str) -> Unreadable {
        let obj = &parse_manifests(yaml, "t").unwrap()[0];
        Snapshot::all_listed().try_insert(obj).expect_err("unreadable")
    }

    #[test]
    fn a_field_of_the_wrong_shape_is_named() {
        let u = unreadable(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: llm}\nspec:\n  listeners: [{name: a, port: http}]\n",
        );
        assert_eq!(u.kind, Kind::Gateways);
        assert_eq!(
            u.to_string(),
            r#"cannot read Gateway llm/gw: spec.listeners[0].port: invalid type: string "http", expected i64"#
        );
        let u = unreadable(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: llm}\nspec:\n  listeners: [~]\n",
        );
        assert_eq!(u.error, "spec.listeners[0]: invalid type: null, expected struct Listener");
        let u = unreadable(
            "apiVersion: inference.networking.k8s.io/v1\nkind: InferencePool\nmetadata: {name: p, namespace: llm}\nspec:\n  targetPorts: [{number: '8000'}]\n",
        );
        assert_eq!(
            u.to_string(),
            r#"cannot read InferencePool llm/p: spec.targetPorts[0].number: invalid type: string "8000", expected i64"#
        );
        let u = unreadable(
            "apiVersion: inference.networking.x-k8s.io/v1alpha2\nkind: InferencePool\nmetadata: {name: p, namespace: llm}\nspec:\n  selector: {matchLabels: {app: x}}\n",
        );
        assert_eq!(u.error, "spec.selector.matchLabels: invalid type: map, expected a string");
        let u = unreadable(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, namespace: llm}\nspec:\n  replicas: three\n",
        );
        assert_eq!(
            u.to_string(),
            r#"cannot read Deployment llm/d: spec.replicas: invalid type: string "three", expected i32"#
        );
        let u = unreadable("apiVersion: v1\nkind: Service\nmetadata: [x]\n");
        assert_eq!(
            u.to_string(),
            "cannot read Service (no name): metadata: invalid type: sequence, expected ObjectMeta"
        );
    }

    #[test]
    fn a_listed_object_that_cannot_be_read_makes_its_kind_incomplete() {
        let mut snap = Snapshot::all_listed();
        let bad = parse_manifests(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: llm}\nspec: {listeners: oops}\n",
            "t",
        )
        .unwrap();
        assert!(!snap.insert(&bad[0]));
        assert!(snap.gateways.items().is_empty());
        let route = parse_manifests(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: llm}\nspec: {parentRefs: [{name: gw}]}\n",
            "t",
        )
        .unwrap();
        assert!(snap.insert(&route[0]));
        let reason = "incomplete: Gateway llm/gw could not be read (spec.listeners: invalid type: string \"oops\", expected a sequence)";
        assert_eq!(snap.skip_reason(Kind::Gateways).as_deref(), Some(reason));
        assert_eq!(snap.skip_reason(Kind::HttpRoutes), None);
        // A route naming that Gateway is never told it does not exist: the checks reading Gateways are skipped.
        let profile = crate::catalog::profiles::llm_d_prereq();
        let (results, findings) =
            crate::checks::run_all(&crate::checks::CheckContext { snapshot: &snap, profile: &profile });
        let rt001 = results.iter().find(|r| r.code == "LLMD-RT-001").unwrap();
        assert_eq!(rt001.status, crate::findings::CheckStatus::Skip);
        assert_eq!(rt001.reason.as_deref(), Some(reason));
        assert!(findings.iter().all(|f| !f.message.contains("does not exist")));
    }
}
