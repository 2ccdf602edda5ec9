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

// ---------------------------------------------------------------------------------------------
// Object builders: one healthy object of each kind the checks read, varied by what a test is about.
// Each is an `Obj` that prints as a YAML document (JSON is YAML), so it goes wherever fixture YAML
// goes: `snapshot(&docs(&[&pool, &route]))`, or `format!("{pool}")`.

use serde_json::{json, Value};

/// One Kubernetes object under construction.
#[derive(Clone, Debug)]
pub struct Obj(pub Value);

impl std::fmt::Display for Obj {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}", self.0)
    }
}

impl Obj {
    fn new(api_version: &str, kind: &str, ns: Option<&str>, name: &str) -> Obj {
        let mut metadata = json!({ "name": name });
        if let Some(ns) = ns {
            metadata["namespace"] = json!(ns);
        }
        Obj(json!({"apiVersion": api_version, "kind": kind, "metadata": metadata}))
    }

    /// Set the value at a dotted path (`spec.listeners.0.hostname`), creating objects on the way;
    /// a numeric segment indexes an existing array.
    pub fn set(mut self, path: &str, value: impl Into<Value>) -> Obj {
        let mut at = &mut self.0;
        for key in path.split('.') {
            at = match key.parse::<usize>() {
                Ok(i) if at.is_array() => &mut at[i],
                _ => {
                    if !at.is_object() {
                        *at = json!({});
                    }
                    at.as_object_mut().unwrap().entry(key).or_insert(Value::Null)
                }
            };
        }
        *at = value.into();
        self
    }

    /// Remove the field at a dotted path (object keys only).
    pub fn without(mut self, path: &str) -> Obj {
        let (parent, key) = path.rsplit_once('.').unwrap_or(("", path));
        let mut at = &mut self.0;
        for k in parent.split('.').filter(|k| !k.is_empty()) {
            at = &mut at[k];
        }
        if let Some(map) = at.as_object_mut() {
            map.remove(key);
        }
        self
    }

    /// Append to the array at a dotted path (created when absent).
    pub fn push(mut self, path: &str, value: impl Into<Value>) -> Obj {
        let current = path.split('.').try_fold(&self.0, |v, k| match k.parse::<usize>() {
            Ok(i) if v.is_array() => v.get(i),
            _ => v.get(k),
        });
        let mut list = current.and_then(Value::as_array).cloned().unwrap_or_default();
        list.push(value.into());
        self = self.set(path, list);
        self
    }

    /// `metadata.labels[key] = value` (keys hold dots: not a path).
    pub fn label(mut self, key: &str, value: &str) -> Obj {
        let metadata = self.0["metadata"].as_object_mut().expect("metadata");
        let labels = metadata.entry("labels").or_insert_with(|| json!({}));
        labels[key] = json!(value);
        self
    }

    /// `metadata.creationTimestamp`.
    pub fn created(self, at: &str) -> Obj {
        self.set("metadata.creationTimestamp", at)
    }

    /// The whole `status`.
    pub fn status(self, status: Value) -> Obj {
        self.set("status", status)
    }

    /// `status.conditions`.
    pub fn conditions(self, conditions: Value) -> Obj {
        self.set("status.conditions", conditions)
    }

    // InferencePool.

    /// `spec.selector`: matchLabels on v1, the plain map on v1alpha2.
    pub fn selector(self, key: &str, value: &str) -> Obj {
        if self.0["apiVersion"] == "inference.networking.k8s.io/v1" {
            self.set("spec.selector", json!({"matchLabels": {key: value}}))
        } else {
            self.set("spec.selector", json!({key: value}))
        }
    }

    /// The endpoint picker Service (port 9002 on v1).
    pub fn picker(self, name: &str) -> Obj {
        if self.0["apiVersion"] == "inference.networking.k8s.io/v1" {
            self.set("spec.endpointPickerRef", json!({"name": name, "port": {"number": 9002}}))
        } else {
            self.set("spec.extensionRef", json!({"name": name}))
        }
    }

    /// The model servers' port (`targetPorts` on v1, `targetPortNumber` on v1alpha2).
    pub fn target_port(self, port: u16) -> Obj {
        if self.0["apiVersion"] == "inference.networking.k8s.io/v1" {
            self.set("spec.targetPorts", json!([{"number": port}]))
        } else {
            self.set("spec.targetPortNumber", port)
        }
    }

    // Gateway.

    /// `spec.gatewayClassName`.
    pub fn class(self, name: &str) -> Obj {
        self.set("spec.gatewayClassName", name)
    }

    /// One more listener.
    pub fn listener(self, name: &str, port: u16, protocol: &str) -> Obj {
        self.push("spec.listeners", json!({"name": name, "port": port, "protocol": protocol}))
    }

    // HTTPRoute.

    /// One more parentRef naming a Gateway in the route's namespace.
    pub fn parent_gateway(self, name: &str) -> Obj {
        self.parent(json!({ "name": name }))
    }

    /// One more parentRef, as written.
    pub fn parent(self, parent: Value) -> Obj {
        self.push("spec.parentRefs", parent)
    }

    /// One more backendRef of the first rule: a v1 InferencePool in the route's namespace.
    pub fn backend_pool(self, name: &str) -> Obj {
        self.backend(json!({"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": name}))
    }

    /// One more backendRef of the first rule, as written.
    pub fn backend(self, backend: Value) -> Obj {
        let rules = self.0["spec"]["rules"].as_array().map_or(0, Vec::len);
        let this = if rules == 0 { self.set("spec.rules", json!([{}])) } else { self };
        this.push("spec.rules.0.backendRefs", backend)
    }

    // Deployment, Pod, Service.

    /// The first container's image.
    pub fn image(self, image: &str) -> Obj {
        let at =
            if self.0["kind"] == "Pod" { "spec.containers.0.image" } else { "spec.template.spec.containers.0.image" };
        self.set(at, image)
    }

    /// One more environment variable of the first container.
    pub fn env(self, name: &str, value: &str) -> Obj {
        let at = if self.0["kind"] == "Pod" { "spec.containers.0.env" } else { "spec.template.spec.containers.0.env" };
        self.push(at, json!({"name": name, "value": value}))
    }

    /// The first container's args.
    pub fn args(self, args: &[&str]) -> Obj {
        let at =
            if self.0["kind"] == "Pod" { "spec.containers.0.args" } else { "spec.template.spec.containers.0.args" };
        self.set(at, json!(args))
    }

    /// A Deployment with `n` replicas all ready and available; a Pod Running and Ready.
    pub fn ready(self, n: u32) -> Obj {
        if self.0["kind"] == "Pod" {
            self.status(json!({"phase": "Running", "conditions": [{"type": "Ready", "status": "True"}]}))
        } else {
            self.set("spec.replicas", n).status(json!({"replicas": n, "readyReplicas": n, "availableReplicas": n,
                "updatedReplicas": n, "observedGeneration": 1,
                "conditions": [{"type": "Available", "status": if n > 0 { "True" } else { "False" }}]}))
        }
    }

    /// One more Service port.
    pub fn port(self, port: u16) -> Obj {
        self.push("spec.ports", json!({"port": port, "targetPort": port}))
    }
}

/// A healthy inference.networking.k8s.io/v1 InferencePool: pods `app: name` on 8000, picker `name-epp`.
pub fn pool(ns: &str, name: &str) -> Obj {
    Obj::new("inference.networking.k8s.io/v1", "InferencePool", Some(ns), name)
        .selector("app", name)
        .target_port(8000)
        .picker(&format!("{name}-epp"))
}

/// The same on inference.networking.x-k8s.io/v1alpha2 (selector map, targetPortNumber, extensionRef).
pub fn alpha_pool(ns: &str, name: &str) -> Obj {
    Obj::new("inference.networking.x-k8s.io/v1alpha2", "InferencePool", Some(ns), name)
        .selector("app", name)
        .target_port(8000)
        .picker(&format!("{name}-epp"))
}

/// A Gateway of class `istio` without listeners (add them with `.listener`).
pub fn gateway(ns: &str, name: &str) -> Obj {
    Obj::new("gateway.networking.k8s.io/v1", "Gateway", Some(ns), name).class("istio").set("spec.listeners", json!([]))
}

/// An HTTPRoute without parents or rules (add them with `.parent_gateway`, `.backend_pool`).
pub fn route(ns: &str, name: &str) -> Obj {
    Obj::new("gateway.networking.k8s.io/v1", "HTTPRoute", Some(ns), name)
}

/// A GatewayClass of `controller` (no status: add `.conditions`).
pub fn gateway_class(name: &str, controller: &str) -> Obj {
    Obj::new("gateway.networking.k8s.io/v1", "GatewayClass", None, name).set("spec.controllerName", controller)
}

/// A Service selecting `app: name` (add ports with `.port`).
pub fn service(ns: &str, name: &str) -> Obj {
    Obj::new("v1", "Service", Some(ns), name).set("spec.selector", json!({ "app": name })).set("spec.ports", json!([]))
}

/// A Deployment of one container `name` (image `example/name:1`), pods labelled `app: name`; no status.
pub fn deployment(ns: &str, name: &str) -> Obj {
    Obj::new("apps/v1", "Deployment", Some(ns), name).set(
        "spec",
        json!({"selector": {"matchLabels": {"app": name}},
               "template": {"metadata": {"labels": {"app": name}},
                            "spec": {"containers": [{"name": name, "image": format!("example/{name}:1")}]}}}),
    )
}

/// A Pod labelled `app: app` with one container `c` (no status: add `.ready(1)`).
pub fn pod(ns: &str, name: &str, app: &str) -> Obj {
    Obj::new("v1", "Pod", Some(ns), name)
        .label("app", app)
        .set("spec.containers", json!([{"name": "c", "image": "example/model:1"}]))
}

/// One status condition as controllers write it.
/// NGINX Gateway Fabric's controller Deployment (chart release `ngf`) running `version` with `args` (YAML flow list).
pub fn ngf_controller(version: &str, args: &str) -> String {
    format!(
        r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: ngf-nginx-gateway-fabric, namespace: nginx-gateway}}
spec:
  selector: {{matchLabels: {{app: ngf}}}}
  template:
    metadata: {{labels: {{app: ngf}}}}
    spec: {{containers: [{{name: nginx-gateway, image: "ghcr.io/nginx/nginx-gateway-fabric:{version}", args: {args}}}]}}
"#
    )
}

pub fn condition(type_: &str, status: &str, reason: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason})
}

/// Objects as one multi-document YAML text.
pub fn docs(objects: &[&dyn std::fmt::Display]) -> String {
    objects.iter().map(|o| o.to_string()).collect::<Vec<_>>().join("\n---\n")
}

#[test]
fn builders_print_what_the_snapshot_reader_takes() {
    let objects = [
        pool("llm", "qwen"),
        alpha_pool("llm", "old"),
        gateway("llm", "gw").listener("http", 80, "HTTP"),
        route("llm", "r").parent_gateway("gw").backend_pool("qwen"),
        gateway_class("istio", "istio.io/gateway-controller"),
        service("llm", "qwen-epp").port(9002),
        deployment("llm", "qwen-epp").ready(1),
        pod("llm", "p", "qwen").ready(1),
    ];
    let refs: Vec<&dyn std::fmt::Display> = objects.iter().map(|o| o as &dyn std::fmt::Display).collect();
    let snap = snapshot(&docs(&refs));
    let counts = [
        snap.pools.items().len(),
        snap.pools_x.items().len(),
        snap.gateways.items().len(),
        snap.http_routes.items().len(),
        snap.gateway_classes.items().len(),
        snap.services.items().len(),
        snap.deployments.items().len(),
        snap.pods.items().len(),
    ];
    assert_eq!(counts, [1; 8], "every object read back");
    // The builder's pool is the fixture POOL_V1 written out by hand.
    let by_hand = crate::collect::offline::parse_manifests(POOL_V1, "t").unwrap();
    assert_eq!(pool("llm", "qwen").0, by_hand[0]);
    assert_eq!(
        route("llm", "r").parent_gateway("gw").backend_pool("qwen").0["spec"],
        json!({"parentRefs": [{"name": "gw"}], "rules": [{"backendRefs": [
            {"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "qwen"}]}]})
    );
}
