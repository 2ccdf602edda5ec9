//! `kubectl llmd doctor` on the namespaced routing path — Gateway → HTTPRoute → InferencePool →
//! endpoint picker → model server pods (and Istio's DestinationRule) — against the shared harness.
//!
//! Each scenario is a healthy stack (`stack`) with one change, in its own namespace, with the
//! statuses a controller would write (`write_statuses`). Only namespaced objects are created here:
//! other tests run doctor against the same cluster at the same time.
//!
//! Not producible on a real API server with the GAIE v1.0.1 CRDs (see `schema_rejects_*`):
//! LLMD-POOL-007 (endpointPickerRef / extensionRef are required before GAIE v1.6; doctor_supported.rs
//! tests it on the v1.6 CRDs), LLMD-POOL-008 without targetPorts
//! (targetPorts minItems 1 / targetPortNumber required; the empty-selector half is tested), and
//! LLMD-EPP-002 with the port omitted (CEL: port is required for a Service; the wrong-port half is
//! tested). LLMD-GW-005 needs a GatewayClass with an unknown controller, a cluster-scoped object
//! this shared-harness file must not create.

use crate::common::{
    brief, codes_in_ns, doctor, doctor_as, doctor_command, doctor_report, findings_in, report_of, FINDINGS, OK,
};
use crate::fixtures::{cluster, condition, doctor_json};
use crate::harness::Harness;
use crate::run::Run;
use serde_json::{json, Value};

pub(crate) const GW: &str = "inference-gateway";
const ROUTE: &str = "llm-route";
pub(crate) const POOL: &str = "llm-pool";
pub(crate) const EPP: &str = "llm-pool-epp";
const MODEL: &str = "vllm-llama";
const PODS: [&str; 2] = ["vllm-0", "vllm-1"];
const TARGET_PORT: i64 = 8000;
pub(crate) const EPP_PORT: i64 = 9002;
const EPP_IMAGE: &str = "registry.k8s.io/gateway-api-inference-extension/epp:v1.0.1";
const LTT: &str = "2026-01-01T00:00:00Z";
const GWAPI: &str = "gateway.networking.k8s.io";
const V1: &str = "inference.networking.k8s.io";
const XK8S: &str = "inference.networking.x-k8s.io";
const ISTIO: &str = "networking.istio.io";

// ---------------------------------------------------------------------------------------------
// The stack.

/// The gateway provider a stack is shaped for (classes are created Accepted by `cluster()`).
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Shape {
    Istio,
    Agentgateway,
    Gke,
    /// OpenShift Service Mesh (Istio run by OpenShift's ingress operator); its class is created by the
    /// test that uses it.
    Openshift,
}

impl Shape {
    fn class(self) -> &'static str {
        match self {
            Shape::Istio => "istio",
            Shape::Agentgateway => "agentgateway",
            Shape::Gke => "gke-l7-rilb",
            Shape::Openshift => "openshift-default",
        }
    }

    fn controller(self) -> &'static str {
        match self {
            Shape::Istio => "istio.io/gateway-controller",
            Shape::Agentgateway => "agentgateway.dev/agentgateway",
            Shape::Gke => "networking.gke.io/gateway",
            Shape::Openshift => "openshift.io/gateway-controller/v1",
        }
    }
}

/// A healthy stack plus changes. Keys name objects as `Kind` (every object of that kind) or
/// `Kind/name`; spec patches and status patches are JSON merge patches (null deletes a key,
/// arrays are replaced whole).
#[derive(Clone, Debug)]
pub struct Opts {
    pub shape: Shape,
    /// The pool (and the route's backendRef, the picker's --pool-group) in x-k8s v1alpha2.
    pub alpha_pool: bool,
    /// Namespace of the Gateway the route attaches to (and the pool's parent); default: the stack's.
    pub gateway_ns: Option<String>,
    /// Namespace of the pool the route sends to; default: the stack's.
    pub pool_ns: Option<String>,
    /// Objects left out.
    pub drop: Vec<String>,
    /// Merge patches applied to objects before they are created.
    pub patch: Vec<(String, Value)>,
    /// Extra objects (namespace filled in when missing).
    pub extra: Vec<Value>,
    /// Gateway conditions (None: Accepted + Programmed True; Some([]): no status written).
    pub gateway_conditions: Option<Vec<Value>>,
    /// Conditions of every listener (None: Accepted, ResolvedRefs, Programmed True, Conflicted False).
    pub listener_conditions: Option<Vec<Value>>,
    /// HTTPRoute status.parents conditions (None: Accepted + ResolvedRefs True; Some([]): no status).
    pub route_conditions: Option<Vec<Value>>,
    /// InferencePool parent conditions (None: Accepted + ResolvedRefs True; Some([]): no parents).
    pub pool_conditions: Option<Vec<Value>>,
    /// Available replicas of the picker Deployment (None: all of spec.replicas).
    pub epp_available: Option<i64>,
    /// Model server pods Ready.
    pub pods_ready: bool,
    /// Merge patches applied to the written statuses.
    pub status_patch: Vec<(String, Value)>,
}

impl Opts {
    pub fn new(shape: Shape) -> Self {
        Opts {
            shape,
            alpha_pool: false,
            gateway_ns: None,
            pool_ns: None,
            drop: vec![],
            patch: vec![],
            extra: vec![],
            gateway_conditions: None,
            listener_conditions: None,
            route_conditions: None,
            pool_conditions: None,
            epp_available: None,
            pods_ready: true,
            status_patch: vec![],
        }
    }

    pub fn istio() -> Self {
        Opts::new(Shape::Istio)
    }

    pub fn patch(mut self, key: &str, p: Value) -> Self {
        self.patch.push((key.to_string(), p));
        self
    }

    pub(crate) fn status_patch(mut self, key: &str, p: Value) -> Self {
        self.status_patch.push((key.to_string(), p));
        self
    }

    pub(crate) fn drop(mut self, key: &str) -> Self {
        self.drop.push(key.to_string());
        self
    }

    pub(crate) fn extra(mut self, v: Value) -> Self {
        self.extra.push(v);
        self
    }

    /// The pool, its picker (Service, EndpointSlice, Deployment, DestinationRule) and model servers.
    fn without_pool(self) -> Self {
        ["InferencePool", "Service", "EndpointSlice", "Deployment", "Pod", "DestinationRule", "Role", "RoleBinding"]
            .into_iter()
            .fold(self, |o, k| o.drop(k))
    }

    /// The route's backendRef, replaced whole.
    fn backend(self, b: Value) -> Self {
        self.patch("HTTPRoute", json!({"spec": {"rules": [{"backendRefs": [b]}]}}))
    }

    /// The Gateway's listeners, replaced whole.
    fn listeners(self, l: Value) -> Self {
        self.patch("Gateway", json!({"spec": {"listeners": l}}))
    }

    fn epp_args(self, args: &[&str]) -> Self {
        self.patch(
            "Deployment",
            json!({"spec": {"template": {"spec": {"containers": [epp_container(args.iter().map(|s| s.to_string()).collect())]}}}}),
        )
    }

    fn pool_group(&self) -> &'static str {
        if self.alpha_pool {
            XK8S
        } else {
            V1
        }
    }
}

/// RFC 7386 merge patch.
pub fn merge(target: &mut Value, patch: &Value) {
    match patch {
        Value::Object(p) => {
            if !target.is_object() {
                *target = json!({});
            }
            let t = target.as_object_mut().expect("object");
            for (k, v) in p {
                if v.is_null() {
                    t.remove(k);
                } else {
                    merge(t.entry(k.clone()).or_insert(Value::Null), v);
                }
            }
        }
        _ => *target = patch.clone(),
    }
}

fn kind_of(v: &Value) -> &str {
    v["kind"].as_str().unwrap_or("")
}

fn name_of(v: &Value) -> &str {
    v["metadata"]["name"].as_str().unwrap_or("")
}

fn key_matches(key: &str, v: &Value) -> bool {
    key == kind_of(v) || key == format!("{}/{}", kind_of(v), name_of(v))
}

/// A Gateway listener.
fn listener(name: &str, port: i64, protocol: &str) -> Value {
    json!({"name": name, "port": port, "protocol": protocol})
}

pub fn epp_container(args: Vec<String>) -> Value {
    json!({
        "name": "epp",
        "image": EPP_IMAGE,
        "args": args,
        "ports": [{"name": "grpc", "containerPort": EPP_PORT}, {"name": "grpc-health", "containerPort": 9003},
                  {"name": "metrics", "containerPort": 9090}],
    })
}

/// Every object of the stack in `ns`, after drops and patches.
pub fn objects(ns: &str, o: &Opts) -> Vec<Value> {
    let gw_ns = o.gateway_ns.clone().unwrap_or_else(|| ns.to_string());
    let pool_ns = o.pool_ns.clone().unwrap_or_else(|| ns.to_string());
    let group = o.pool_group();
    let meta = |name: &str| json!({"name": name, "namespace": ns});

    let gateway = json!({
        "apiVersion": format!("{GWAPI}/v1"), "kind": "Gateway", "metadata": meta(GW),
        "spec": {"gatewayClassName": o.shape.class(), "listeners": [listener("http", 80, "HTTP")]},
    });
    let mut parent = json!({"group": GWAPI, "kind": "Gateway", "name": GW});
    if gw_ns != ns {
        parent["namespace"] = json!(gw_ns);
    }
    let mut backend = json!({"group": group, "kind": "InferencePool", "name": POOL});
    if pool_ns != ns {
        backend["namespace"] = json!(pool_ns);
    }
    let route = json!({
        "apiVersion": format!("{GWAPI}/v1"), "kind": "HTTPRoute", "metadata": meta(ROUTE),
        "spec": {"parentRefs": [parent],
                 "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}], "backendRefs": [backend]}]},
    });
    let pool = if o.alpha_pool {
        json!({
            "apiVersion": format!("{XK8S}/v1alpha2"), "kind": "InferencePool", "metadata": meta(POOL),
            "spec": {"selector": {"app": MODEL}, "targetPortNumber": TARGET_PORT,
                     "extensionRef": {"name": EPP, "portNumber": EPP_PORT}},
        })
    } else {
        json!({
            "apiVersion": format!("{V1}/v1"), "kind": "InferencePool", "metadata": meta(POOL),
            "spec": {"selector": {"matchLabels": {"app": MODEL}}, "targetPorts": [{"number": TARGET_PORT}],
                     "endpointPickerRef": {"name": EPP, "port": {"number": EPP_PORT}}},
        })
    };
    // Headless: namespaces never go away, so ClusterIPs would pile up over a test run.
    let service = json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta(EPP),
        "spec": {"clusterIP": "None", "selector": {"app": EPP},
                 "ports": [{"name": "grpc-ext-proc", "port": EPP_PORT, "targetPort": EPP_PORT, "protocol": "TCP",
                            "appProtocol": "http2"}]},
    });
    let slice = json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{EPP}-e2e"), "namespace": ns,
                     "labels": {"kubernetes.io/service-name": EPP,
                                "endpointslice.kubernetes.io/managed-by": "e2e.kubectl-llmd"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": true, "serving": true, "terminating": false}}],
        "ports": [{"name": "grpc-ext-proc", "port": EPP_PORT, "protocol": "TCP"}],
    });
    let args: Vec<String> =
        ["--pool-name", POOL, "--pool-namespace", ns, "--pool-group", group].iter().map(|s| s.to_string()).collect();
    let deployment = json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": EPP, "namespace": ns, "labels": {"app": EPP}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": EPP}},
                 "template": {"metadata": {"labels": {"app": EPP}},
                              "spec": {"serviceAccountName": EPP, "containers": [epp_container(args)]}}},
    });
    // What the picker's ServiceAccount may read (the grants the GAIE chart gives it).
    let role = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": meta(EPP),
        "rules": [{"apiGroups": [group], "resources": ["inferencepools"], "verbs": ["get", "list", "watch"]},
                  {"apiGroups": [""], "resources": ["pods"], "verbs": ["get", "list", "watch"]},
                  {"apiGroups": [XK8S], "resources": ["inferenceobjectives"], "verbs": ["get", "list", "watch"]}],
    });
    let binding = json!({
        "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "RoleBinding", "metadata": meta(EPP),
        "subjects": [{"kind": "ServiceAccount", "name": EPP, "namespace": ns}],
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "Role", "name": EPP},
    });
    let pods = PODS.iter().map(|name| {
        json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": name, "namespace": ns, "labels": {"app": MODEL}},
            "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1",
                                     "ports": [{"name": "http", "containerPort": TARGET_PORT}]}]},
        })
    });
    let mut all = vec![gateway, route, pool, service, slice, deployment, role, binding];
    all.extend(pods);
    if matches!(o.shape, Shape::Istio | Shape::Openshift) {
        all.push(json!({
            "apiVersion": format!("{ISTIO}/v1"), "kind": "DestinationRule", "metadata": meta(EPP),
            "spec": {"host": format!("{EPP}.{ns}.svc.cluster.local"),
                     "trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}},
        }));
    }
    all.retain(|v| !o.drop.iter().any(|k| key_matches(k, v)));
    for v in &mut all {
        for (k, p) in &o.patch {
            if key_matches(k, v) {
                merge(v, p);
            }
        }
    }
    for e in &o.extra {
        let mut e = e.clone();
        if e["metadata"]["namespace"].is_null() {
            e["metadata"]["namespace"] = json!(ns);
        }
        all.push(e);
    }
    all
}

fn to_yaml(docs: &[Value]) -> String {
    docs.iter().map(|d| serde_saphyr::to_string(d).expect("yaml")).collect::<Vec<_>>().join("---\n")
}

/// The stack as multi-document YAML.
pub fn stack(ns: &str, o: &Opts) -> String {
    to_yaml(&objects(ns, o))
}

/// A Gateway API / GAIE condition.
pub fn cond(type_: &str, status: &str, reason: &str) -> Value {
    condition(type_, status, reason, "")
}

pub(crate) fn ok(type_: &str) -> Value {
    cond(type_, "True", type_)
}

/// The status a controller would write for each object of the stack (objects without one omitted).
pub fn statuses(ns: &str, o: &Opts) -> Vec<Value> {
    let gw_ns = o.gateway_ns.clone().unwrap_or_else(|| ns.to_string());
    let mut out = Vec::new();
    for obj in objects(ns, o) {
        let status = match kind_of(&obj) {
            "Gateway" => {
                let conds = o.gateway_conditions.clone().unwrap_or_else(|| vec![ok("Accepted"), ok("Programmed")]);
                if conds.is_empty() {
                    continue;
                }
                let lconds = o.listener_conditions.clone().unwrap_or_else(|| {
                    vec![
                        ok("Accepted"),
                        ok("ResolvedRefs"),
                        ok("Programmed"),
                        cond("Conflicted", "False", "NoConflicts"),
                    ]
                });
                let listeners: Vec<Value> = obj["spec"]["listeners"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|l| {
                        json!({"name": l["name"], "supportedKinds": [{"group": GWAPI, "kind": "HTTPRoute"}],
                               "attachedRoutes": 1, "conditions": lconds})
                    })
                    .collect();
                json!({"conditions": conds, "addresses": [{"type": "IPAddress", "value": "10.0.0.200"}],
                       "listeners": listeners})
            }
            "HTTPRoute" => {
                let conds = o.route_conditions.clone().unwrap_or_else(|| vec![ok("Accepted"), ok("ResolvedRefs")]);
                if conds.is_empty() {
                    continue;
                }
                let parents: Vec<Value> = obj["spec"]["parentRefs"]
                    .as_array()
                    .into_iter()
                    .flatten()
                    .map(|p| json!({"parentRef": p, "controllerName": o.shape.controller(), "conditions": conds}))
                    .collect();
                json!({"parents": parents})
            }
            "InferencePool" => {
                let conds = o.pool_conditions.clone().unwrap_or_else(|| vec![ok("Accepted"), ok("ResolvedRefs")]);
                let parents: Vec<Value> = if conds.is_empty() {
                    vec![]
                } else {
                    vec![json!({"parentRef": {"group": GWAPI, "kind": "Gateway", "name": GW, "namespace": gw_ns},
                                "conditions": conds})]
                };
                let key = if obj["apiVersion"].as_str().unwrap_or("").starts_with(XK8S) { "parent" } else { "parents" };
                json!({ key: parents })
            }
            "Deployment" => {
                let desired = obj["spec"]["replicas"].as_i64().unwrap_or(1);
                let available = o.epp_available.unwrap_or(desired);
                let (s, reason) = if available >= desired {
                    ("True", "MinimumReplicasAvailable")
                } else {
                    ("False", "MinimumReplicasUnavailable")
                };
                json!({"observedGeneration": 1, "replicas": desired, "updatedReplicas": desired,
                       "readyReplicas": available, "availableReplicas": available,
                       "conditions": [{"type": "Available", "status": s, "reason": reason,
                                       "message": "Deployment availability", "lastUpdateTime": LTT,
                                       "lastTransitionTime": LTT}]})
            }
            "Pod" => {
                let ready = if o.pods_ready { "True" } else { "False" };
                json!({"phase": "Running", "podIP": "10.244.2.10",
                       "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": LTT},
                                      {"type": "Ready", "status": ready, "lastTransitionTime": LTT}]})
            }
            _ => continue,
        };
        let mut s = json!({"apiVersion": obj["apiVersion"], "kind": obj["kind"],
                           "metadata": {"name": name_of(&obj), "namespace": ns}, "status": status});
        for (k, p) in &o.status_patch {
            if key_matches(k, &obj) {
                merge(&mut s["status"], p);
            }
        }
        out.push(s);
    }
    out
}

/// Write every status a controller would (through the status subresource).
pub fn write_statuses(h: &Harness, ns: &str, o: &Opts) {
    let docs = statuses(ns, o);
    if !docs.is_empty() {
        h.apply_status(&to_yaml(&docs));
    }
}

/// Create the stack and its statuses in `ns`.
pub fn deploy(h: &Harness, ns: &str, o: &Opts) {
    h.apply_yaml(&stack(ns, o));
    write_statuses(h, ns, o);
}

// ---------------------------------------------------------------------------------------------
// Running doctor and reading its findings.

/// doctor on every namespace, -o json, the exit code asserted against the report.
fn doctor_all_json(h: &Harness) -> (Run, Value) {
    doctor_report(h, &[])
}

/// The finding `code` about `kind ns/name`, asserting its severity and that message or hint hold `words`.
pub(crate) fn expect<'a>(
    report: &'a Value,
    code: &str,
    severity: &str,
    (kind, ns, name): (&str, &str, &str),
    words: &[&str],
) -> &'a Value {
    let f = report["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .find(|f| {
            f["code"] == code
                && f["object"]["kind"] == kind
                && f["object"]["namespace"] == ns
                && f["object"]["name"] == name
        })
        .unwrap_or_else(|| {
            panic!(
                "expected {code} about {kind} {ns}/{name}; findings in {ns}:\n{}",
                brief(&findings_in(report, &[ns]))
            )
        });
    assert_eq!(f["severity"], severity, "{f:#}");
    let text = format!("{} {}", f["message"].as_str().unwrap_or(""), f["hint"].as_str().unwrap_or(""));
    for w in words {
        assert!(text.contains(w), "{code}: {w:?} not in message/hint:\n{f:#}");
    }
    f
}

pub(crate) fn assert_no_code(report: &Value, code: &str, ns: &str) {
    let fs: Vec<&Value> = findings_in(report, &[ns]).into_iter().filter(|f| f["code"] == code).collect();
    assert!(fs.is_empty(), "unexpected {code} in {ns}:\n{}", brief(&fs));
}

/// A one-namespace scenario: deploy `o` in a fresh namespace, run `doctor -n NS -o json`.
pub(crate) fn scenario(prefix: &str, o: &Opts) -> (String, Run, Value) {
    let h = cluster();
    let ns = h.namespace(prefix);
    deploy(h, &ns, o);
    let (r, v) = doctor_json(h, &ns, &[]);
    (ns, r, v)
}

fn route(ns: &str) -> (&'static str, &str, &'static str) {
    ("HTTPRoute", ns, ROUTE)
}

fn gateway(ns: &str) -> (&'static str, &str, &'static str) {
    ("Gateway", ns, GW)
}

pub(crate) fn pool(ns: &str) -> (&'static str, &str, &'static str) {
    ("InferencePool", ns, POOL)
}

fn epp_deployment(ns: &str) -> (&'static str, &str, &'static str) {
    ("Deployment", ns, EPP)
}

// ---------------------------------------------------------------------------------------------
// Healthy stacks.

fn healthy(shape: Shape) {
    let h = cluster();
    let ns = h.namespace(&format!("rt-healthy-{}", shape.class()));
    deploy(h, &ns, &Opts::new(shape));
    let (r, v) = doctor_json(h, &ns, &[]);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    assert_eq!(v["summary"]["warnings"], 0, "{}", r.stdout);
    r.expect_code(0);
    // Every namespaced check ran on something real, and the table shows only ✔.
    let table = doctor(h, &["-n", &ns]);
    table.expect_code(0);
    assert!(table.stdout.contains('✔'), "{}", table.stdout);
    assert!(!table.stdout.contains('✖') && !table.stdout.contains('‼'), "{}", table.stdout);
    assert!(table.stdout.contains("Status: healthy"), "{}", table.stdout);
}

/// The `-v` collection line of a run: exactly one, no terminal escapes on a piped stderr.
fn collection_requests(r: &Run) -> usize {
    let lines: Vec<&str> = r.stderr.lines().filter(|l| l.contains("collected")).collect();
    assert_eq!(lines.len(), 1, "one collection line with -v:\n{}", r.stderr);
    assert!(!r.stderr.contains('\x1b'), "no colour on a stderr that is not a terminal:\n{}", r.stderr);
    let words: Vec<&str> = lines[0].split_whitespace().collect();
    let at = words.iter().position(|w| *w == "API").unwrap_or_else(|| panic!("{}", lines[0]));
    words[at - 1].parse().unwrap_or_else(|_| panic!("{}", lines[0]))
}

#[test]
fn pods_cost_the_same_requests_for_one_pool_or_five() {
    let h = cluster();
    let ns = h.namespace("rt-pod-requests");
    deploy(h, &ns, &Opts::new(Shape::Agentgateway));
    let verbose = |h: &Harness, code: i32| {
        let mut cmd = doctor_command(&h.kubeconfig_admin, &["-n", &ns, "-v"]);
        cmd.env_remove("NO_COLOR");
        let r = crate::run::run(cmd);
        r.expect_code(code);
        r
    };
    let one = collection_requests(&verbose(h, OK)); // a healthy stack
                                                    // Four more pools, each with its own selector and pods, behind the same picker.
    let mut docs = Vec::new();
    for i in 2..=5 {
        docs.push(format!(
            "apiVersion: {V1}/v1\nkind: InferencePool\nmetadata: {{name: pool-{i}, namespace: {ns}}}\n\
             spec: {{selector: {{matchLabels: {{app: model-{i}}}}}, targetPorts: [{{number: {TARGET_PORT}}}], \
             endpointPickerRef: {{name: {EPP}, port: {{number: {EPP_PORT}}}}}}}\n"
        ));
        docs.push(format!(
            "apiVersion: v1\nkind: Pod\nmetadata: {{name: model-{i}, namespace: {ns}, labels: {{app: model-{i}}}}}\n\
             spec: {{containers: [{{name: vllm, image: vllm/vllm-openai:v0.10.1, ports: [{{containerPort: {TARGET_PORT}}}]}}]}}\n"
        ));
    }
    h.apply_yaml(&docs.join("---\n"));
    let five = verbose(h, FINDINGS); // one picker for five pools: LLMD-EPP-005 errors
    assert_eq!(collection_requests(&five), one, "pods of five pools are listed in as many requests as one pool's");
}

#[test]
fn healthy_istio_stack_passes() {
    healthy(Shape::Istio);
}

#[test]
fn healthy_agentgateway_stack_passes() {
    healthy(Shape::Agentgateway);
}

#[test]
fn healthy_gke_stack_passes() {
    healthy(Shape::Gke);
}

// ---------------------------------------------------------------------------------------------
// HTTPRoutes.

#[test]
fn rt_001_parent_gateway_missing() {
    // No controller owns a missing parent, so the route has no status.
    let mut o = Opts::istio().patch("HTTPRoute", json!({"spec": {"parentRefs": [{"name": "inference-gw"}]}}));
    o.route_conditions = Some(vec![]);
    let (ns, r, v) = scenario("rt-001", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-001", "error", route(&ns), &["inference-gw", "does not exist"]);
    assert!(f["hint"].as_str().unwrap().contains(&format!("\"value\":\"{GW}\"")), "{f:#}");
}

#[test]
fn rt_001_section_name_matches_no_listener() {
    let mut o =
        Opts::istio().patch("HTTPRoute", json!({"spec": {"parentRefs": [{"name": GW, "sectionName": "https"}]}}));
    o.route_conditions = Some(vec![cond("Accepted", "False", "NoMatchingParent"), ok("ResolvedRefs")]);
    let (ns, r, v) = scenario("rt-001-section", &o);
    r.expect_code(1);
    expect(&v, "LLMD-RT-001", "error", route(&ns), &["sectionName \"https\"", "listeners: http"]);
    assert_no_code(&v, "LLMD-RT-010", &ns);
}

#[test]
fn rt_002_listener_admits_only_its_own_namespace() {
    let h = cluster();
    let gw_ns = h.namespace("rt-002-gw");
    let app_ns = h.namespace("rt-002-app");
    deploy(h, &gw_ns, &Opts::istio().without_pool().drop("HTTPRoute"));
    let mut o = Opts::istio().drop("Gateway");
    o.gateway_ns = Some(gw_ns.clone());
    o.route_conditions = Some(vec![cond("Accepted", "False", "NotAllowedByListeners"), ok("ResolvedRefs")]);
    deploy(h, &app_ns, &o);
    let (r, v) = doctor_all_json(h);
    crate::hints::assert_hints_run_in(h, &v, &[&app_ns, &gw_ns]);
    r.expect_code(1);
    expect(&v, "LLMD-RT-002", "error", route(&app_ns), &["from is Same", "NotAllowedByListeners", "\"from\":\"All\""]);
    assert_no_code(&v, "LLMD-RT-010", &app_ns);
    // Scoped to the route's namespace, the Gateway is out of sight and nothing is claimed about it.
    let (_, scoped) = doctor_json(h, &app_ns, &[]);
    assert_no_code(&scoped, "LLMD-RT-002", &app_ns);
}

#[test]
fn rt_003_hostnames_do_not_intersect() {
    let mut l = listener("http", 80, "HTTP");
    l["hostname"] = json!("*.models.example.com");
    let mut o =
        Opts::istio().listeners(json!([l])).patch("HTTPRoute", json!({"spec": {"hostnames": ["chat.example.org"]}}));
    o.route_conditions = Some(vec![cond("Accepted", "False", "NoMatchingListenerHostname"), ok("ResolvedRefs")]);
    let (ns, r, v) = scenario("rt-003", &o);
    r.expect_code(1);
    expect(&v, "LLMD-RT-003", "error", route(&ns), &["chat.example.org", "*.models.example.com"]);
}

#[test]
fn rt_004_backend_names_a_missing_pool() {
    let mut o = Opts::istio().backend(json!({"group": V1, "kind": "InferencePool", "name": "llm-pol"}));
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "BackendNotFound")]);
    let (ns, r, v) = scenario("rt-004", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-004", "error", route(&ns), &["llm-pol", "does not exist", "pools in"]);
    assert!(f["hint"].as_str().unwrap().contains(&format!("\"value\":\"{POOL}\"")), "{f:#}");
    assert_no_code(&v, "LLMD-RT-011", &ns);
}

#[test]
fn rt_005_backend_uses_a_hostname() {
    let h = cluster();
    let ns = h.namespace("rt-005");
    let host = format!("{POOL}.{ns}.svc.cluster.local");
    let mut o = Opts::istio().backend(json!({"group": V1, "kind": "InferencePool", "name": host}));
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "BackendNotFound")]);
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-005", "error", route(&ns), &["is a hostname", &host]);
    assert!(f["hint"].as_str().unwrap().contains(&format!("\"value\":\"{POOL}\"")), "{f:#}");
    assert_no_code(&v, "LLMD-RT-004", &ns);
}

#[test]
fn rt_006_backend_uses_the_x_k8s_group_for_a_v1_pool() {
    let mut o = Opts::istio().backend(json!({"group": XK8S, "kind": "InferencePool", "name": POOL}));
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "InvalidKind")]);
    let (ns, r, v) = scenario("rt-006", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-006", "error", route(&ns), &[XK8S, "exists only as inference.networking.k8s.io/v1"]);
    assert_eq!(f["fixable"], true);
    assert_no_code(&v, "LLMD-RT-011", &ns);
}

#[test]
fn rt_007_backend_without_group_and_kind() {
    // Gateway API requires a port on Service backendRefs, which is what a kind-less ref is.
    let mut o = Opts::istio().backend(json!({"name": POOL, "port": TARGET_PORT}));
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "BackendNotFound")]);
    let (ns, r, v) = scenario("rt-007", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-007", "error", route(&ns), &["no group/kind", "\"value\":\"InferencePool\""]);
    assert_eq!(f["fixable"], true);
}

/// Route + Gateway in one namespace, the pool in another (plus `grant(route_ns)` in the pool's).
fn cross_namespace_pool(prefix: &str, grant: Option<&dyn Fn(&str) -> Value>) -> (String, String, Run, Value) {
    let h = cluster();
    let route_ns = h.namespace(&format!("{prefix}-route"));
    let pool_ns = h.namespace(&format!("{prefix}-pool"));
    let mut o = Opts::istio().without_pool();
    o.pool_ns = Some(pool_ns.clone());
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "RefNotPermitted")]);
    deploy(h, &route_ns, &o);
    let mut p = Opts::istio().drop("Gateway").drop("HTTPRoute");
    p.gateway_ns = Some(route_ns.clone());
    if let Some(g) = grant {
        p = p.extra(g(&route_ns));
    }
    deploy(h, &pool_ns, &p);
    // Across namespaces: doctor on all of them (other tests' namespaces are visible too).
    let (r, v) = doctor_all_json(h);
    crate::hints::assert_hints_run_in(h, &v, &[&route_ns, &pool_ns]);
    (route_ns, pool_ns, r, v)
}

#[test]
fn rt_008_cross_namespace_pool_without_reference_grant() {
    let (route_ns, pool_ns, r, v) = cross_namespace_pool("rt-008", None);
    r.expect_code(1);
    let f = expect(&v, "LLMD-RT-008", "error", route(&route_ns), &["RefNotPermitted", "ReferenceGrant", &pool_ns]);
    assert_eq!(f["fixable"], true);
    assert_no_code(&v, "LLMD-RT-011", &route_ns);
}

#[test]
fn rt_009_reference_grant_names_the_x_k8s_group() {
    let grant = |from: &str| {
        json!({"apiVersion": format!("{GWAPI}/v1beta1"), "kind": "ReferenceGrant",
               "metadata": {"name": "allow-routes"},
               "spec": {"from": [{"group": GWAPI, "kind": "HTTPRoute", "namespace": from}],
                        "to": [{"group": XK8S, "kind": "InferencePool"}]}})
    };
    let (route_ns, pool_ns, r, v) = cross_namespace_pool("rt-009", Some(&grant));
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-RT-009",
        "error",
        ("ReferenceGrant", &pool_ns, "allow-routes"),
        &[XK8S, "RefNotPermitted", "\"value\":\"inference.networking.k8s.io\""],
    );
    assert_eq!(f["fixable"], true);
    assert_no_code(&v, "LLMD-RT-008", &route_ns);
}

#[test]
fn rt_010_route_not_accepted_for_a_reason_the_specs_do_not_show() {
    let mut o = Opts::istio();
    o.route_conditions = Some(vec![cond("Accepted", "False", "UnsupportedValue"), ok("ResolvedRefs")]);
    let (ns, r, v) = scenario("rt-010", &o);
    r.expect_code(1);
    expect(&v, "LLMD-RT-010", "error", route(&ns), &["not Accepted", "UnsupportedValue"]);
}

#[test]
fn rt_011_backend_refs_not_resolved() {
    let mut o = Opts::istio();
    o.route_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "InvalidKind")]);
    let (ns, r, v) = scenario("rt-011", &o);
    r.expect_code(1);
    expect(&v, "LLMD-RT-011", "error", route(&ns), &["not resolved", "InvalidKind", "istio.io/gateway-controller"]);
}

#[test]
fn rt_012_stale_backend_not_found() {
    // The condition predates the pool (created now): the controller never re-read the route.
    let mut o = Opts::istio();
    let mut stale = cond("ResolvedRefs", "False", "BackendNotFound");
    stale["lastTransitionTime"] = json!("2020-01-01T00:00:00Z");
    o.route_conditions = Some(vec![ok("Accepted"), stale]);
    let (ns, r, v) = scenario("rt-012", &o);
    r.expect_code(1);
    expect(&v, "LLMD-RT-012", "error", route(&ns), &["BackendNotFound since 2020-01-01", "kubectl-llmd/nudge"]);
    assert_no_code(&v, "LLMD-RT-011", &ns);
}

/// The route's single rule with `timeouts`.
fn timed(o: Opts, timeouts: Value) -> Opts {
    let backend = json!({"group": V1, "kind": "InferencePool", "name": POOL});
    o.patch(
        "HTTPRoute",
        json!({"spec": {"rules": [{"matches": [{"path": {"type": "PathPrefix", "value": "/"}}],
                                   "backendRefs": [backend], "timeouts": timeouts}]}}),
    )
}

#[test]
fn rt_013_request_timeout_too_short_for_generation() {
    let (ns, r, v) = scenario("rt-013", &timed(Opts::istio(), json!({"request": "30s"})));
    r.expect_code(0);
    let f = expect(&v, "LLMD-RT-013", "warning", route(&ns), &["timeouts.request 30s", "mid-stream"]);
    let hint = f["hint"].as_str().unwrap();
    assert_eq!(
        hint,
        format!(
            r#"kubectl patch httproute {ROUTE} -n {ns} --type=json -p '[{{"op":"replace","path":"/spec/rules/0/timeouts/request","value":"3600s"}}]'"#
        )
    );
    // The hint's patch is accepted by the API server as printed, and clears the finding.
    let patch = hint.split("-p '").nth(1).unwrap().trim_end_matches('\'');
    let out = cluster().kubectl(&["patch", "httproute", ROUTE, "-n", &ns, "--type=json", "-p", patch]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let (_, v) = doctor_json(cluster(), &ns, &[]);
    assert_no_code(&v, "LLMD-RT-013", &ns);
}

#[test]
fn rt_013_long_or_disabled_timeouts_pass() {
    let (ns, r, v) = scenario("rt-013-ok", &timed(Opts::istio(), json!({"request": "1h", "backendRequest": "0s"})));
    r.expect_code(0);
    assert_no_code(&v, "LLMD-RT-013", &ns);
    assert_eq!(v["summary"]["warnings"], 0, "{}", brief(&findings_in(&v, &[&ns])));
}

/// The stack plus a canary pool on the same picker and pods, both pools in one rule or one rule each.
fn canary(shape: Shape, one_rule: bool) -> Opts {
    let canary_pool = json!({
        "apiVersion": format!("{V1}/v1"), "kind": "InferencePool", "metadata": {"name": "llm-pool-canary"},
        "spec": {"selector": {"matchLabels": {"app": MODEL}}, "targetPorts": [{"number": TARGET_PORT}],
                 "endpointPickerRef": {"name": EPP, "port": {"number": EPP_PORT}}},
    });
    let backend =
        |name: &str, weight: i64| json!({"group": V1, "kind": "InferencePool", "name": name, "weight": weight});
    let matching = |prefix: &str| json!([{"path": {"type": "PathPrefix", "value": prefix}}]);
    let rules = if one_rule {
        json!([{"matches": matching("/"), "backendRefs": [backend(POOL, 90), backend("llm-pool-canary", 10)]}])
    } else {
        json!([{"matches": matching("/"), "backendRefs": [backend(POOL, 1)]},
               {"matches": matching("/canary"), "backendRefs": [backend("llm-pool-canary", 1)]}])
    };
    Opts::new(shape).extra(canary_pool).patch("HTTPRoute", json!({"spec": {"rules": rules}}))
}

#[test]
fn rt_014_two_pools_in_one_rule_behind_istio() {
    let (ns, _, v) = scenario("rt-014", &canary(Shape::Istio, true));
    expect(
        &v,
        "LLMD-RT-014",
        "warning",
        route(&ns),
        &[&format!("{ns}/{POOL}, {ns}/llm-pool-canary in one rule"), "503", "istio/istio#61594", "istio/istio#61601"],
    );
}

#[test]
fn rt_014_one_rule_per_pool_or_another_provider_passes() {
    let (ns, _, v) = scenario("rt-014-split", &canary(Shape::Istio, false));
    assert_no_code(&v, "LLMD-RT-014", &ns);
    let (ns, _, v) = scenario("rt-014-agw", &canary(Shape::Agentgateway, true));
    assert_no_code(&v, "LLMD-RT-014", &ns);
}

// ---------------------------------------------------------------------------------------------
// Gateways and classes.

#[test]
fn gw_001_gateway_not_accepted() {
    let mut o = Opts::istio();
    o.gateway_conditions =
        Some(vec![cond("Accepted", "False", "InvalidParameters"), cond("Programmed", "False", "Invalid")]);
    let (ns, r, v) = scenario("gw-001", &o);
    r.expect_code(1);
    expect(&v, "LLMD-GW-001", "error", gateway(&ns), &["not Accepted", "InvalidParameters", "parametersRef"]);
    assert_no_code(&v, "LLMD-GW-002", &ns);
}

#[test]
fn gw_002_gateway_not_programmed() {
    let mut o = Opts::istio();
    o.gateway_conditions = Some(vec![ok("Accepted"), cond("Programmed", "False", "Invalid")]);
    let (ns, r, v) = scenario("gw-002", &o);
    r.expect_code(1);
    expect(&v, "LLMD-GW-002", "error", gateway(&ns), &["not Programmed", "Invalid"]);
}

#[test]
fn gw_002_gateway_without_address_is_a_warning() {
    let mut o = Opts::istio();
    o.gateway_conditions = Some(vec![ok("Accepted"), cond("Programmed", "False", "AddressNotAssigned")]);
    let (ns, r, v) = scenario("gw-002-addr", &o);
    expect(
        &v,
        "LLMD-GW-002",
        "warning",
        gateway(&ns),
        &["no address assigned", "networking.istio.io/service-type=ClusterIP"],
    );
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn gw_003_listener_certificate_invalid() {
    let mut l = listener("https", 443, "HTTPS");
    l["tls"] = json!({"mode": "Terminate", "certificateRefs": [{"kind": "Secret", "group": "", "name": "llm-tls"}]});
    let mut o = Opts::istio().listeners(json!([l]));
    o.listener_conditions = Some(vec![
        ok("Accepted"),
        cond("ResolvedRefs", "False", "InvalidCertificateRef"),
        cond("Programmed", "False", "Invalid"),
    ]);
    let (ns, r, v) = scenario("gw-003", &o);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-GW-003",
        "error",
        gateway(&ns),
        &["Listener https", "InvalidCertificateRef", "kubectl create secret tls llm-tls"],
    );
}

#[test]
fn gw_004_cross_namespace_certificate_without_grant() {
    let h = cluster();
    let gw_ns = h.namespace("gw-004-gw");
    let secret_ns = h.namespace("gw-004-certs");
    let mut l = listener("https", 443, "HTTPS");
    l["tls"] = json!({"mode": "Terminate", "certificateRefs": [{"name": "llm-tls", "namespace": secret_ns}]});
    let mut o = Opts::istio().listeners(json!([l]));
    o.listener_conditions = Some(vec![
        ok("Accepted"),
        cond("ResolvedRefs", "False", "RefNotPermitted"),
        cond("Programmed", "False", "Invalid"),
    ]);
    deploy(h, &gw_ns, &o);
    let (r, v) = doctor_all_json(h);
    crate::hints::assert_hints_run_in(h, &v, &[&gw_ns, &secret_ns]);
    r.expect_code(1);
    expect(&v, "LLMD-GW-004", "error", gateway(&gw_ns), &["RefNotPermitted", "ReferenceGrant", &secret_ns]);
    // The grant to create is GW-004's hint; GW-003 does not repeat the listener.
    assert_no_code(&v, "LLMD-GW-003", &gw_ns);
}

#[test]
fn gwc_002_gateway_names_a_missing_class() {
    // No controller owns the class, so nothing writes any status.
    let mut o = Opts::istio().patch("Gateway", json!({"spec": {"gatewayClassName": "istio-gw"}}));
    o.gateway_conditions = Some(vec![]);
    o.route_conditions = Some(vec![]);
    o.pool_conditions = Some(vec![]);
    let (ns, r, v) = scenario("gwc-002", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-GWC-002", "error", gateway(&ns), &["\"istio-gw\"", "Waiting for controller"]);
    assert!(f["hint"].as_str().unwrap().contains("\"gatewayClassName\":\"istio\""), "{f:#}");
    assert_no_code(&v, "LLMD-GW-001", &ns);
}

// ---------------------------------------------------------------------------------------------
// InferencePools.

fn alpha() -> Opts {
    let mut o = Opts::istio();
    o.alpha_pool = true;
    o
}

#[test]
fn pool_001_x_k8s_pool_not_migrated() {
    let (ns, r, v) = scenario("pool-001", &alpha());
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-POOL-001",
        "error",
        pool(&ns),
        &["v1alpha2", "\"apiVersion\":\"inference.networking.k8s.io/v1\""],
    );
    assert_eq!(f["object"]["group"], XK8S);
    assert_eq!(f["fixable"], true);
}

#[test]
fn pool_002_pool_in_both_apis() {
    let twin = json!({
        "apiVersion": format!("{XK8S}/v1alpha2"), "kind": "InferencePool", "metadata": {"name": POOL},
        "spec": {"selector": {"app": MODEL}, "targetPortNumber": TARGET_PORT,
                 "extensionRef": {"name": EPP, "portNumber": EPP_PORT}},
    });
    let (ns, r, v) = scenario("pool-002", &Opts::istio().extra(twin));
    let f = expect(
        &v,
        "LLMD-POOL-002",
        "info",
        pool(&ns),
        &["exists in both", &format!("kubectl delete inferencepool.{XK8S}/{POOL}")],
    );
    assert_eq!(f["object"]["group"], XK8S);
    // Information only: the twin is not examined twice and nothing fails.
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    assert_eq!(v["summary"]["warnings"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn pool_003_pool_referenced_by_no_route() {
    let (ns, r, v) = scenario("pool-003", &Opts::istio().drop("HTTPRoute"));
    expect(&v, "LLMD-POOL-003", "warning", pool(&ns), &["referenced by no HTTPRoute", "\"kind\":\"HTTPRoute\""]);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn pool_004_routed_pool_without_status_parents() {
    let mut o = Opts::istio();
    o.pool_conditions = Some(vec![]);
    let (ns, r, v) = scenario("pool-004", &o);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-POOL-004",
        "error",
        pool(&ns),
        &["no status.parents", "ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true"],
    );
}

#[test]
fn pool_005_pool_not_accepted() {
    let mut o = Opts::istio();
    o.pool_conditions = Some(vec![cond("Accepted", "False", "NotSupportedByParent"), ok("ResolvedRefs")]);
    let (ns, r, v) = scenario("pool-005", &o);
    r.expect_code(1);
    expect(&v, "LLMD-POOL-005", "error", pool(&ns), &["not Accepted", "NotSupportedByParent", "helm upgrade istiod"]);
}

#[test]
fn pool_006_pool_refs_not_resolved() {
    let mut o = Opts::istio();
    o.pool_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "InvalidExtensionRef")]);
    let (ns, r, v) = scenario("pool-006", &o);
    r.expect_code(1);
    expect(&v, "LLMD-POOL-006", "error", pool(&ns), &["cannot resolve", "InvalidExtensionRef", "endpointPickerRef"]);
}

#[test]
fn pool_008_empty_selector() {
    let o = Opts::istio().patch("InferencePool", json!({"spec": {"selector": {"matchLabels": {"app": null}}}}));
    let (ns, r, v) = scenario("pool-008", &o);
    r.expect_code(1);
    expect(&v, "LLMD-POOL-008", "error", pool(&ns), &["empty spec.selector.matchLabels", "--show-labels"]);
    // An empty selector is reported once, not again as "selects no pods".
    assert_no_code(&v, "LLMD-POD-001", &ns);
}

#[test]
fn pool_009_fail_open_while_the_picker_is_down() {
    // FailOpen with a serving picker is information (tests/e2e/doctor_supported.rs); with no ready
    // picker endpoint traffic bypasses the picker now.
    let o = Opts::istio()
        .patch("InferencePool", json!({"spec": {"endpointPickerRef": {"failureMode": "FailOpen"}}}))
        .patch(
            "EndpointSlice",
            json!({"endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": false, "serving": false, "terminating": false}}]}),
        );
    let (ns, r, v) = scenario("pool-009", &o);
    let f = expect(&v, "LLMD-POOL-009", "warning", pool(&ns), &["FailOpen", "\"failureMode\":\"FailClose\""]);
    assert_eq!(
        f["message"],
        format!("InferencePool {ns}/{POOL} uses failureMode FailOpen and endpoint picker {EPP} is down (its Service {ns}/{EPP} has no ready endpoints): requests bypass the picker now, without load-aware routing")
    );
    expect(&v, "LLMD-EPP-003", "error", ("Service", &ns, EPP), &["no ready endpoints"]);
    r.expect_code(1);
}

/// What the API server says to objects the checks would flag but the CRD schemas forbid.
#[test]
fn schema_rejects_pools_without_picker_or_ports_or_picker_port() {
    let h = cluster();
    let ns = h.namespace("pool-schema");
    let base = || {
        json!({"apiVersion": format!("{V1}/v1"), "kind": "InferencePool", "metadata": {"name": POOL, "namespace": ns},
               "spec": {"selector": {"matchLabels": {"app": MODEL}}, "targetPorts": [{"number": TARGET_PORT}],
                        "endpointPickerRef": {"name": EPP, "port": {"number": EPP_PORT}}}})
    };
    let alpha = || {
        json!({"apiVersion": format!("{XK8S}/v1alpha2"), "kind": "InferencePool", "metadata": {"name": POOL, "namespace": ns},
               "spec": {"selector": {"app": MODEL}, "targetPortNumber": TARGET_PORT, "extensionRef": {"name": EPP}}})
    };
    let cases = [
        ("LLMD-POOL-007 (v1)", base(), json!({"spec": {"endpointPickerRef": null}}), "endpointPickerRef"),
        ("LLMD-POOL-007 (v1alpha2)", alpha(), json!({"spec": {"extensionRef": null}}), "extensionRef"),
        ("LLMD-POOL-008 (v1 targetPorts)", base(), json!({"spec": {"targetPorts": []}}), "targetPorts"),
        (
            "LLMD-POOL-008 (v1alpha2 targetPortNumber)",
            alpha(),
            json!({"spec": {"targetPortNumber": null}}),
            "targetPortNumber",
        ),
        (
            "LLMD-EPP-002 (port omitted)",
            base(),
            json!({"spec": {"endpointPickerRef": {"port": null}}}),
            "port is required",
        ),
    ];
    for (what, mut obj, patch, said) in cases {
        merge(&mut obj, &patch);
        let out = h.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &obj.to_string());
        let stderr = String::from_utf8_lossy(&out.stderr);
        assert!(!out.status.success(), "{what}: the API server accepted {obj}");
        assert!(stderr.contains(said), "{what}: {stderr}");
    }
}

// ---------------------------------------------------------------------------------------------
// Endpoint picker.

#[test]
fn epp_001_picker_service_missing() {
    let mut o =
        Opts::istio().patch("InferencePool", json!({"spec": {"endpointPickerRef": {"name": "llm-pool-picker"}}}));
    o.pool_conditions = Some(vec![ok("Accepted"), cond("ResolvedRefs", "False", "InvalidExtensionRef")]);
    let (ns, r, v) = scenario("epp-001", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-EPP-001", "error", pool(&ns), &["llm-pool-picker", "does not exist"]);
    assert!(f["hint"].as_str().unwrap().contains(&format!("\"name\":\"{EPP}\"")), "{f:#}");
    assert_no_code(&v, "LLMD-POOL-006", &ns);
}

#[test]
fn epp_002_picker_port_not_on_service() {
    let o = Opts::istio().patch("InferencePool", json!({"spec": {"endpointPickerRef": {"port": {"number": 9003}}}}));
    let (ns, r, v) = scenario("epp-002", &o);
    r.expect_code(1);
    let f = expect(&v, "LLMD-EPP-002", "error", pool(&ns), &["port 9003", "9002 (grpc-ext-proc)", "\"number\":9002"]);
    assert_eq!(f["fixable"], true);
}

#[test]
fn epp_003_picker_service_without_ready_endpoints() {
    let o = Opts::istio().patch(
        "EndpointSlice",
        json!({"endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": false, "serving": false, "terminating": false}}]}),
    );
    let (ns, r, v) = scenario("epp-003", &o);
    r.expect_code(1);
    expect(&v, "LLMD-EPP-003", "error", ("Service", &ns, EPP), &["no ready endpoints", "is available but"]);
}

#[test]
fn epp_004_picker_deployment_unavailable() {
    let mut o = Opts::istio().patch(
        "EndpointSlice",
        json!({"endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": false, "serving": false, "terminating": false}}]}),
    );
    o.epp_available = Some(0);
    let (ns, r, v) = scenario("epp-004", &o);
    r.expect_code(1);
    expect(&v, "LLMD-EPP-004", "error", epp_deployment(&ns), &["0/1 replicas available", "MinimumReplicasUnavailable"]);
}

#[test]
fn epp_004_picker_scaled_to_zero() {
    let o = Opts::istio().patch("Deployment", json!({"spec": {"replicas": 0}}));
    let (ns, r, v) = scenario("epp-004-zero", &o);
    r.expect_code(1);
    expect(&v, "LLMD-EPP-004", "error", epp_deployment(&ns), &["scaled to 0", "--replicas=1"]);
    // The missing endpoints are explained by the Deployment, not reported again.
    assert_no_code(&v, "LLMD-EPP-003", &ns);
}

#[test]
fn epp_004_picker_partly_available_is_a_warning() {
    // One of two replicas up: the Deployment stays Available (maxUnavailable 25% rounds to 1).
    let mut o = Opts::istio().patch("Deployment", json!({"spec": {"replicas": 2}})).status_patch(
        "Deployment",
        json!({"conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                               "message": "Deployment has minimum availability.", "lastUpdateTime": LTT,
                               "lastTransitionTime": LTT}]}),
    );
    o.epp_available = Some(1);
    let (ns, r, v) = scenario("epp-004-partial", &o);
    expect(&v, "LLMD-EPP-004", "warning", epp_deployment(&ns), &["only 1/2 replicas"]);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn epp_007_picker_service_account_may_not_read_pods() {
    // The Role grants the pool but not pods: the picker's informer logs `pods is forbidden`, so it
    // never becomes ready (only pickers without ready endpoints are reviewed).
    let o = Opts::istio()
        .patch(
            "Role",
            json!({"rules": [{"apiGroups": [V1, XK8S], "resources": ["inferencepools", "inferenceobjectives"],
                              "verbs": ["get", "list", "watch"]}]}),
        )
        .patch("EndpointSlice", not_ready_endpoints());
    let h = cluster();
    let ns = h.namespace("epp-007");
    deploy(h, &ns, &o);
    // The ServiceAccount itself is not needed for the authorizer; create it as an install would.
    let sa = format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: {EPP}, namespace: {ns}}}\n");
    h.apply_yaml(&sa);
    let (r, v) = doctor_json(h, &ns, &["-v"]);
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-EPP-007",
        "error",
        epp_deployment(&ns),
        &[&format!("ServiceAccount {ns}/{EPP}"), "may not get, list, watch pods", "`pods is forbidden`"],
    );
    // The InferenceObjective CRD is installed in the shared harness: the picker watches them too.
    let hint = f["hint"].as_str().unwrap().to_string();
    assert!(hint.contains("inferenceobjectives.inference.networking.x-k8s.io"), "{hint}");
    assert!(!f["message"].as_str().unwrap().contains("inferencepools"), "{f:#}");
    // One review per verb and resource of the one ServiceAccount, counted with the listing.
    assert!(r.stderr.contains("API requests"), "{}", r.stderr);
    // Running the printed hint grants what is missing: the finding goes away.
    for cmd in hint.split(" && ") {
        let args: Vec<&str> = cmd.split(' ').skip(1).collect();
        let out = h.kubectl(&args);
        assert!(out.status.success(), "{cmd}: {}", String::from_utf8_lossy(&out.stderr));
    }
    let (_, v) = doctor_json(h, &ns, &[]);
    assert_no_code(&v, "LLMD-EPP-007", &ns);
    // The picker still has to restart and become ready: EPP-003 stays until it does.
    expect(&v, "LLMD-EPP-003", "error", ("Service", &ns, EPP), &["no ready endpoints"]);
}

/// The picker Service's only endpoint, not ready.
fn not_ready_endpoints() -> Value {
    json!({"endpoints": [{"addresses": ["10.244.1.10"], "conditions": {"ready": false, "serving": false, "terminating": false}}]})
}

#[test]
fn epp_007_picker_service_account_with_the_chart_grants_passes() {
    let (ns, r, v) = scenario("epp-007-ok", &Opts::istio());
    r.expect_code(0);
    assert_no_code(&v, "LLMD-EPP-007", &ns);
    let check = v["checks"].as_array().unwrap().iter().find(|c| c["code"] == "LLMD-EPP-007").expect("EPP-007 listed");
    assert_eq!(check["status"], "pass", "{check:#}");
    // A user who may read the namespace but not create SubjectAccessReviews gets the check skipped
    // with that reason, never a finding.
    let h = cluster();
    let grant = format!(
        "apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {{name: read-all, namespace: {ns}}}\n\
         rules: [{{apiGroups: ['*'], resources: ['*'], verbs: [get, list, watch]}}]\n---\n\
         apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {{name: read-all, namespace: {ns}}}\n\
         subjects: [{{kind: User, name: viewer, apiGroup: rbac.authorization.k8s.io}}]\n\
         roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: read-all}}\n"
    );
    h.apply_yaml(&grant);
    // A ready picker is not reviewed at all; one that serves nothing is, and needs the right to.
    let patch = json!({"endpoints": not_ready_endpoints()["endpoints"]}).to_string();
    let out = h.kubectl(&["patch", "endpointslice", &format!("{EPP}-e2e"), "-n", &ns, "--type=merge", "-p", &patch]);
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let args = ["-n", &ns, "-o", "json"];
    let v = report_of(&doctor_as(&h.kubeconfig_viewer, &args), &args);
    let check = v["checks"].as_array().unwrap().iter().find(|c| c["code"] == "LLMD-EPP-007").expect("EPP-007 listed");
    assert_eq!(check["status"], "skip", "{check:#}");
    assert_eq!(check["reason"], "forbidden: cannot create subjectaccessreviews.authorization.k8s.io", "{check:#}");
}

#[test]
fn epp_005_picker_watches_another_pool() {
    let h = cluster();
    let ns = h.namespace("epp-005");
    let o = Opts::istio().epp_args(&["--pool-name", "other-pool", "--pool-namespace", &ns, "--pool-group", V1]);
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let f = expect(&v, "LLMD-EPP-005", "error", epp_deployment(&ns), &["--pool-name other-pool", "/args/1"]);
    assert!(f["hint"].as_str().unwrap().contains(&format!("\"value\":\"{POOL}\"")), "{f:#}");
}

#[test]
fn epp_005_picker_watches_another_namespace() {
    let h = cluster();
    let ns = h.namespace("epp-005-ns");
    let o = Opts::istio().epp_args(&[
        &format!("--pool-name={POOL}"),
        "--pool-namespace=default",
        &format!("--pool-group={V1}"),
    ]);
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-EPP-005",
        "error",
        epp_deployment(&ns),
        &["--pool-namespace default", &format!("--pool-namespace={ns}")],
    );
}

/// Without --pool-namespace a v1.0 picker watches `default` (GAIE v1.0.1's flag default); a v1.1+
/// picker its NAMESPACE variable, else `default`: set from the Pod's namespace it is healthy.
#[test]
fn epp_005_picker_without_pool_namespace_watches_default() {
    let h = cluster();
    let ns = h.namespace("epp-005-implicit");
    let o = Opts::istio().epp_args(&[&format!("--pool-name={POOL}"), &format!("--pool-group={V1}")]);
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-EPP-005",
        "error",
        epp_deployment(&ns),
        &["has no --pool-namespace", "watches namespace default", &format!("--pool-namespace={ns}")],
    );
    assert!(
        f["hint"].as_str().unwrap().contains(r#""op":"add","path":"/spec/template/spec/containers/0/args/-""#),
        "{f:#}"
    );

    // A v1.5 picker told its namespace through the downward API, as the charts do: healthy.
    let ns = h.namespace("epp-005-downward");
    let mut epp = epp_container(vec![format!("--pool-name={POOL}")]);
    epp["image"] = json!("registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0");
    epp["env"] = json!([{"name": "NAMESPACE", "valueFrom": {"fieldRef": {"fieldPath": "metadata.namespace"}}}]);
    let o = Opts::istio().patch("Deployment", json!({"spec": {"template": {"spec": {"containers": [epp]}}}}));
    deploy(h, &ns, &o);
    let (_, v) = doctor_json(h, &ns, &[]);
    assert_no_code(&v, "LLMD-EPP-005", &ns);
}

#[test]
fn epp_006_picker_watches_the_wrong_group() {
    let h = cluster();
    let ns = h.namespace("epp-006");
    let o = Opts::istio().epp_args(&["--pool-name", POOL, "--pool-namespace", &ns, "--pool-group", XK8S]);
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-EPP-006",
        "error",
        epp_deployment(&ns),
        &[&format!("--pool-group {XK8S}"), "never finds its pool", V1],
    );
}

// ---------------------------------------------------------------------------------------------
// Model servers.

#[test]
fn pod_001_selector_matches_no_pod() {
    // One label off: the pool wants the 8B model, the pods serve the 70B one.
    let o = Opts::istio()
        .patch("InferencePool", json!({"spec": {"selector": {"matchLabels": {"llm-d.ai/model": "llama-3-8b"}}}}))
        .patch("Pod", json!({"metadata": {"labels": {"llm-d.ai/model": "llama-3-70b"}}}));
    let (ns, r, v) = scenario("pod-001", &o);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-POD-001",
        "error",
        pool(&ns),
        &[
            "llm-d.ai/model=llama-3-8b",
            "no pod in namespace",
            "closest pod vllm-0",
            "llm-d.ai/model=llama-3-70b (not llama-3-8b)",
        ],
    );
}

#[test]
fn pod_002_no_model_server_ready() {
    let mut o = Opts::istio().status_patch(
        "Pod",
        json!({"containerStatuses": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1", "imageID": "", "ready": false,
                                      "restartCount": 4, "started": false,
                                      "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
    );
    o.pods_ready = false;
    let (ns, r, v) = scenario("pod-002", &o);
    r.expect_code(1);
    expect(
        &v,
        "LLMD-POD-002",
        "error",
        pool(&ns),
        &["2/2 model server pods", "CrashLoopBackOff", "no endpoint to route to"],
    );
}

#[test]
fn pod_002_some_model_servers_not_ready_is_a_warning() {
    let o = Opts::istio().status_patch(
        &format!("Pod/{}", PODS[1]),
        json!({"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": LTT}]}),
    );
    let (ns, r, v) = scenario("pod-002-some", &o);
    expect(&v, "LLMD-POD-002", "warning", pool(&ns), &["1/2 model server pods", PODS[1], "reduced capacity"]);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn pod_003_pods_declare_no_target_port() {
    let ports = |p: i64| json!({"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1", "ports": [{"containerPort": p}]}]}});
    let o =
        Opts::istio().patch(&format!("Pod/{}", PODS[0]), ports(8001)).patch(&format!("Pod/{}", PODS[1]), ports(8002));
    let (ns, r, v) = scenario("pod-003", &o);
    expect(&v, "LLMD-POD-003", "warning", pool(&ns), &["port 8000", "8001, 8002"]);
    assert_no_code(&v, "LLMD-POD-004", &ns);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

#[test]
fn pod_004_target_port_differs_from_container_port() {
    let o = Opts::istio().patch(
        "Pod",
        json!({"spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1", "ports": [{"containerPort": 8080}]}]}}),
    );
    let (ns, r, v) = scenario("pod-004", &o);
    let f = expect(
        &v,
        "LLMD-POD-004",
        "warning",
        pool(&ns),
        &["targets port 8000", "container port 8080", "\"number\":8080"],
    );
    assert_eq!(f["fixable"], true);
    assert_no_code(&v, "LLMD-POD-003", &ns);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

// ---------------------------------------------------------------------------------------------
// Istio.

#[test]
fn ist_001_no_destination_rule_for_the_picker() {
    let (ns, r, v) = scenario("ist-001", &Opts::istio().drop("DestinationRule"));
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-IST-001",
        "error",
        pool(&ns),
        &[&format!("{EPP}.{ns}.svc.cluster.local"), "\"mode\":\"SIMPLE\""],
    );
    assert_eq!(f["fixable"], true);
}

#[test]
fn ist_002_destination_rule_names_a_missing_service() {
    let h = cluster();
    let ns = h.namespace("ist-002");
    let o =
        Opts::istio().patch("DestinationRule", json!({"spec": {"host": format!("llm-epp.{ns}.svc.cluster.local")}}));
    deploy(h, &ns, &o);
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-IST-002",
        "error",
        ("DestinationRule", &ns, EPP),
        &["llm-epp", "does not exist", &format!("\"host\":\"{EPP}.{ns}.svc.cluster.local\"")],
    );
    assert_eq!(f["fixable"], true);
    // The rule meant for the picker is fixed by IST-002's patch, not by a second rule.
    assert_no_code(&v, "LLMD-IST-001", &ns);
}

/// The stack's picker in `ns` started with --secure-serving=false (plaintext gRPC).
fn plaintext_picker(o: Opts, ns: &str) -> Opts {
    o.epp_args(&["--pool-name", POOL, "--pool-namespace", ns, "--pool-group", V1, "--secure-serving=false"])
}

#[test]
fn ist_005_tls_rule_in_front_of_a_plaintext_picker() {
    // The stack's DestinationRule (SIMPLE) stays while the picker serves plaintext.
    let h = cluster();
    let ns = h.namespace("ist-005");
    deploy(h, &ns, &plaintext_picker(Opts::istio(), &ns));
    let (r, v) = doctor_json(h, &ns, &[]);
    r.expect_code(1);
    let words = ["tls.mode SIMPLE", "--secure-serving=false", "handshake"];
    let f = expect(&v, "LLMD-IST-005", "error", ("DestinationRule", &ns, EPP), &words);
    assert!(
        f["hint"].as_str().unwrap().contains(r#""path":"/spec/trafficPolicy/tls/mode","value":"DISABLE""#),
        "{f:#}"
    );
    assert_no_code(&v, "LLMD-IST-003", &ns);
}

#[test]
fn ist_005_plaintext_picker_without_tls_origination_passes() {
    // It needs no DestinationRule at all (LLMD-IST-001 passes too).
    let h = cluster();
    let ns = h.namespace("ist-005-ok");
    deploy(h, &ns, &plaintext_picker(Opts::istio(), &ns).drop("DestinationRule"));
    let (r, v) = doctor_json(h, &ns, &[]);
    assert_no_code(&v, "LLMD-IST-005", &ns);
    assert_no_code(&v, "LLMD-IST-001", &ns);
    assert_eq!(v["summary"]["errors"], 0, "{}", brief(&findings_in(&v, &[&ns])));
    r.expect_code(0);
}

/// A picker pod of the stack, with Istio's sidecar (a native sidecar, as Istio injects it) or without.
fn picker_pod(ns: &str, sidecar: bool) -> Value {
    let mut init = vec![];
    if sidecar {
        init = vec![
            json!({"name": "istio-init", "image": "docker.io/istio/proxyv2:1.29.2"}),
            json!({"name": "istio-proxy", "image": "docker.io/istio/proxyv2:1.29.2", "restartPolicy": "Always"}),
        ];
    }
    json!({
        "apiVersion": "v1", "kind": "Pod",
        "metadata": {"name": format!("{EPP}-5c7d9-x2x4q"), "namespace": ns, "labels": {"app": EPP}},
        "spec": {"containers": [epp_container(vec![])], "initContainers": init},
    })
}

/// `doctor -f` on a dump of namespace `ns` taken with the real kubectl (every pod, as the documented
/// dump command takes them, and the CRDs, so that the dump reads as complete).
fn doctor_on_dump(h: &Harness, ns: &str) -> Value {
    let kinds =
        "customresourcedefinitions,gatewayclasses,gateways,httproutes,inferencepools.inference.networking.k8s.io,\
                 services,endpointslices,deployments,statefulsets,pods";
    let out = h.kubectl(&["get", kinds, "-n", ns, "-o", "yaml"]);
    crate::harness::assert_success(&out, "kubectl get -o yaml");
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dir.path().join("dump.yaml");
    std::fs::write(&file, &out.stdout).expect("write dump");
    let r = crate::run::llmd(&["doctor", "-f", file.to_str().expect("utf-8 path"), "-o", "json"]);
    assert!(r.code == 0 || r.code == 1, "doctor -f could not run: {}\n{}", r.stderr, r.stdout);
    r.json()
}

#[test]
fn epp_008_sidecar_in_the_picker_pod_behind_agentgateway_in_a_dump() {
    let h = cluster();
    let ns = h.namespace("epp-008");
    deploy(h, &ns, &Opts::new(Shape::Agentgateway).extra(picker_pod(&ns, true)));
    let v = doctor_on_dump(h, &ns);
    let f = expect(
        &v,
        "LLMD-EPP-008",
        "error",
        epp_deployment(&ns),
        &[&format!("its pod {ns}/{EPP}-5c7d9-x2x4q runs the istio-proxy sidecar"), "(agentgateway)", "answers 500"],
    );
    assert!(f["hint"].as_str().unwrap().contains(r#""annotations":{"sidecar.istio.io/inject":"false"}"#), "{f:#}");
    crate::hints::assert_hints_run(h, &v);
}

#[test]
fn epp_008_picker_pod_without_sidecar_or_behind_istio_passes_in_a_dump() {
    let h = cluster();
    let ns = h.namespace("epp-008-plain");
    deploy(h, &ns, &Opts::new(Shape::Agentgateway).extra(picker_pod(&ns, false)));
    let v = doctor_on_dump(h, &ns);
    assert_no_code(&v, "LLMD-EPP-008", &ns);
    assert_eq!(crate::common::check_status(&v, "LLMD-EPP-008")["status"], "pass");
    // Istio's own Gateway with the picker in the mesh: no known failure.
    let ns = h.namespace("epp-008-istio");
    deploy(h, &ns, &Opts::istio().extra(picker_pod(&ns, true)));
    let v = doctor_on_dump(h, &ns);
    assert_no_code(&v, "LLMD-EPP-008", &ns);
    assert_eq!(crate::common::check_status(&v, "LLMD-EPP-008")["status"], "pass");
}

#[test]
fn ist_003_destination_rule_without_simple_tls() {
    let o = Opts::istio().patch(
        "DestinationRule",
        json!({"spec": {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL", "insecureSkipVerify": null}}}}),
    );
    let (ns, r, v) = scenario("ist-003", &o);
    r.expect_code(1);
    let f = expect(
        &v,
        "LLMD-IST-003",
        "error",
        ("DestinationRule", &ns, EPP),
        &["tls.mode ISTIO_MUTUAL", "insecureSkipVerify"],
    );
    assert_eq!(f["fixable"], true);
}

// ---------------------------------------------------------------------------------------------
// Scope, output formats, cost.

#[test]
fn namespace_flag_scopes_namespaced_findings() {
    let h = cluster();
    let broken = h.namespace("scope-broken");
    let healthy = h.namespace("scope-healthy");
    deploy(h, &broken, &Opts::istio().drop("DestinationRule"));
    deploy(h, &healthy, &Opts::istio());

    let (r, v) = doctor_json(h, &healthy, &[]);
    assert!(
        findings_in(&v, &[&broken]).is_empty(),
        "-n {healthy} reports {broken}:\n{}",
        brief(&findings_in(&v, &[&broken]))
    );
    assert_eq!(v["summary"]["errors"], 0, "{}", r.stdout);
    r.expect_code(0);

    let (r, v) = doctor_json(h, &broken, &[]);
    r.expect_code(1);
    expect(&v, "LLMD-IST-001", "error", pool(&broken), &[]);
    assert!(findings_in(&v, &[&healthy]).is_empty());

    let r = doctor(h, &["-A", "-o", "json"]);
    r.expect_code(1);
    let v = r.json();
    expect(&v, "LLMD-IST-001", "error", pool(&broken), &[]);
    assert!(codes_in_ns(&v, &healthy).is_empty(), "{}", brief(&findings_in(&v, &[&healthy])));
}

#[test]
fn yaml_output_is_the_json_report() {
    let h = cluster();
    let ns = h.namespace("rt-yaml");
    let mut o = Opts::istio()
        .drop("DestinationRule")
        .patch("InferencePool", json!({"spec": {"endpointPickerRef": {"failureMode": "FailOpen"}}}));
    o.epp_available = Some(0);
    deploy(h, &ns, &o);
    let json_run = doctor(h, &["-n", &ns, "-o", "json"]);
    let yaml_run = doctor(h, &["-n", &ns, "-o", "yaml"]);
    json_run.expect_code(1);
    yaml_run.expect_code(1);
    let j = json_run.json();
    let y: Value = serde_saphyr::from_str(&yaml_run.stdout)
        .unwrap_or_else(|e| panic!("-o yaml is not YAML ({e}):\n{}", yaml_run.stdout));
    assert_eq!(j["summary"], y["summary"]);
    let keys = |v: &Value| -> Vec<(String, String, String)> {
        let mut k: Vec<_> = v["findings"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|f| (f["code"].to_string(), f["object"].to_string(), f["severity"].to_string()))
            .collect();
        k.sort();
        k
    };
    assert_eq!(keys(&j), keys(&y));
    let check_codes = |v: &Value| -> Vec<(String, String)> {
        v["checks"].as_array().into_iter().flatten().map(|c| (c["code"].to_string(), c["status"].to_string())).collect()
    };
    assert_eq!(check_codes(&j), check_codes(&y));
    for code in ["LLMD-IST-001", "LLMD-POOL-009", "LLMD-EPP-004"] {
        assert!(codes_in_ns(&j, &ns).iter().any(|c| c == code), "{code} missing: {:?}", codes_in_ns(&j, &ns));
    }
}

#[test]
fn request_count_and_wall_time_on_all_namespaces() {
    let h = cluster();
    for shape in [Shape::Istio, Shape::Agentgateway, Shape::Gke] {
        let ns = h.namespace(&format!("rt-load-{}", shape.class()));
        deploy(h, &ns, &Opts::new(shape));
    }
    let (r, v) = doctor_report(h, &["-A", "-v"]);
    let namespaces: std::collections::BTreeSet<&str> = v["findings"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|f| f["object"]["namespace"].as_str())
        .filter(|n| !n.is_empty())
        .collect();
    for line in r.stderr.lines().filter(|l| l.contains("API requests") || l.contains("checks run")) {
        eprintln!("doctor -A -v: {line}");
    }
    eprintln!(
        "doctor -A -v: {} findings over {} namespaces with findings; process wall time {:.2}s",
        v["findings"].as_array().map_or(0, Vec::len),
        namespaces.len(),
        r.elapsed.as_secs_f64()
    );
    assert!(r.stderr.contains("API requests"), "{}", r.stderr);
}
