//! The Snapshot: everything the checks may read, collected once from a cluster or from files.

use crate::model::*;
use k8s_openapi::api::admissionregistration::v1::{ValidatingAdmissionPolicy, ValidatingWebhookConfiguration};
use k8s_openapi::api::apps::v1::{Deployment, StatefulSet};
use k8s_openapi::api::core::v1::{Container, PodTemplateSpec, Service};
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde::Serialize;
use std::collections::BTreeMap;
use std::collections::HashMap;
use std::sync::OnceLock;

/// What we know about one kind.
#[derive(Debug, Clone, Default)]
pub enum Collected<T> {
    /// Listed (possibly empty).
    Listed(Vec<T>),
    /// The kind is not served by this cluster (its CRD is not installed).
    #[default]
    Absent,
    /// The user may not list it: `verb` on `resource` is missing.
    Forbidden { verb: String, resource: String },
    /// Cannot be known (offline mode, or the list failed for another reason).
    Unknown { reason: String },
}

impl<T> Collected<T> {
    /// The items; empty unless listed.
    pub fn items(&self) -> &[T] {
        match self {
            Collected::Listed(v) => v,
            _ => &[],
        }
    }

    /// Why checks needing this kind must be skipped, if they must.
    pub fn skip_reason(&self) -> Option<String> {
        match self {
            Collected::Forbidden { verb, resource } => Some(format!("forbidden: cannot {verb} {resource}")),
            Collected::Unknown { reason } => Some(reason.clone()),
            _ => None,
        }
    }

    /// True when the kind is served (listed, even if empty).
    pub fn is_listed(&self) -> bool {
        matches!(self, Collected::Listed(_))
    }
}

/// Where a snapshot came from.
#[derive(Debug, Clone, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Source {
    /// A live cluster.
    Cluster { server: String, context: String },
    /// Manifests on disk or stdin.
    Files { paths: Vec<String> },
}

/// Every kind a check may need, named for skip messages and the collector.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub enum Kind {
    Crds,
    GatewayClasses,
    Gateways,
    HttpRoutes,
    ReferenceGrants,
    InferencePools,
    InferencePoolsX,
    InferenceObjectives,
    Services,
    EndpointSlices,
    Deployments,
    StatefulSets,
    Pods,
    DestinationRules,
    AdmissionPolicies,
    Webhooks,
    ServerVersion,
    /// What the endpoint pickers' and gateway controllers' ServiceAccounts may do
    /// (SubjectAccessReviews; live only).
    SaAccess,
    /// Envoy Gateway BackendTrafficPolicies (live only, listed when Envoy Gateway is present).
    BackendTrafficPolicies,
    /// Object status written by controllers (and, for CRDs, the installed set) of every other kind
    /// the check reads: known live, and offline when the files are objects read back from an API
    /// server (`kubectl get -o yaml|json`), per kind.
    LiveStatus,
}

impl Kind {
    /// True for kinds whose objects have no namespace.
    pub fn is_cluster_scoped(self) -> bool {
        matches!(
            self,
            Kind::Crds
                | Kind::GatewayClasses
                | Kind::AdmissionPolicies
                | Kind::Webhooks
                | Kind::ServerVersion
                | Kind::SaAccess
        )
    }

    /// The kind as reports name it ("Gateways").
    pub fn title(self) -> &'static str {
        match self {
            Kind::Crds => "CustomResourceDefinitions",
            Kind::GatewayClasses => "GatewayClasses",
            Kind::Gateways => "Gateways",
            Kind::HttpRoutes => "HTTPRoutes",
            Kind::ReferenceGrants => "ReferenceGrants",
            Kind::InferencePools => "InferencePools (inference.networking.k8s.io)",
            Kind::InferencePoolsX => "InferencePools (inference.networking.x-k8s.io)",
            Kind::InferenceObjectives => "InferenceObjectives",
            Kind::Services => "Services",
            Kind::EndpointSlices => "EndpointSlices",
            Kind::Deployments => "Deployments",
            Kind::StatefulSets => "StatefulSets",
            Kind::Pods => "Pods",
            Kind::DestinationRules => "DestinationRules",
            Kind::AdmissionPolicies => "ValidatingAdmissionPolicies",
            Kind::Webhooks => "ValidatingWebhookConfigurations",
            Kind::ServerVersion => "the server version",
            Kind::SaAccess => "ServiceAccount permissions",
            Kind::BackendTrafficPolicies => "BackendTrafficPolicies",
            Kind::LiveStatus => "object status",
        }
    }

    /// True for kinds whose objects carry a status doctor reads (conditions, replicas, readiness,
    /// storedVersions; for CRDs also which are installed).
    pub fn has_status(self) -> bool {
        matches!(
            self,
            Kind::Crds
                | Kind::GatewayClasses
                | Kind::Gateways
                | Kind::HttpRoutes
                | Kind::InferencePools
                | Kind::InferencePoolsX
                | Kind::Deployments
                | Kind::StatefulSets
                | Kind::Pods
        )
    }
}

/// An object of a kind the checks read whose shape could not be read into its view.
#[derive(Debug, Clone, PartialEq)]
pub struct Unreadable {
    /// The slot it would have gone to.
    pub kind: Kind,
    /// The object's kind as written ("Gateway").
    pub kind_name: String,
    /// "Gateway llm/inference-gateway" (or "Gateway (no name)").
    pub object: String,
    /// The field and what is wrong with it: "spec.listeners[0].port: invalid type: …".
    pub error: String,
}

impl Unreadable {
    /// The line the live commands print on stderr (after "warning: ").
    pub fn warning(&self) -> String {
        format!("{self}; checks that read {} objects are skipped as incomplete", self.kind_name)
    }
}

impl std::fmt::Display for Unreadable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "cannot read {}: {}", self.object, self.error)
    }
}

/// Every kind with a slot in the Snapshot.
pub const ALL_KINDS: &[Kind] = &[
    Kind::Crds,
    Kind::GatewayClasses,
    Kind::Gateways,
    Kind::HttpRoutes,
    Kind::ReferenceGrants,
    Kind::InferencePools,
    Kind::InferencePoolsX,
    Kind::InferenceObjectives,
    Kind::Services,
    Kind::EndpointSlices,
    Kind::Deployments,
    Kind::StatefulSets,
    Kind::Pods,
    Kind::DestinationRules,
    Kind::AdmissionPolicies,
    Kind::Webhooks,
    Kind::ServerVersion,
];

/// The collected state. Namespaced kinds hold only the namespaces in scope.
#[derive(Debug, Clone, Default)]
pub struct Snapshot {
    /// Cluster or files.
    pub source: Option<Source>,
    /// Namespace scope: None = all namespaces.
    pub namespace: Option<String>,
    /// True for a live cluster: object status (conditions) is meaningful for every kind.
    pub live: bool,
    /// Offline: the kinds whose objects in the files all carry their status (read back from an API
    /// server with `kubectl get -o yaml|json`), so checks may read it as they do live.
    pub status_in_files: std::collections::BTreeSet<Kind>,
    /// Offline: the files are a dump (objects read back from an API server), so what they hold is
    /// what ran, as on a live cluster.
    pub dump: bool,
    /// Offline: what the files lacked or what was assumed about them, for the report.
    pub notes: Vec<String>,
    /// The server's gitVersion ("v1.36.3"), when known.
    pub server_version: Collected<String>,
    pub crds: Collected<CrdView>,
    pub gateway_classes: Collected<GatewayClassView>,
    pub gateways: Collected<GatewayView>,
    pub http_routes: Collected<HttpRouteView>,
    pub reference_grants: Collected<ReferenceGrantView>,
    /// inference.networking.k8s.io InferencePools.
    pub pools: Collected<InferencePoolView>,
    /// inference.networking.x-k8s.io InferencePools.
    pub pools_x: Collected<InferencePoolView>,
    /// InferenceObjectives and InferenceModels of every group, listed together.
    pub objectives: Collected<InferenceObjectiveView>,
    pub services: Collected<Service>,
    pub endpoint_slices: Collected<EndpointSlice>,
    pub deployments: Collected<Deployment>,
    /// StatefulSets (endpoint pickers are sometimes run as one).
    pub stateful_sets: Collected<StatefulSet>,
    /// Model-server pods, as the narrow `PodView`.
    pub pods: Collected<PodView>,
    pub destination_rules: Collected<DestinationRuleView>,
    pub admission_policies: Collected<ValidatingAdmissionPolicy>,
    pub webhooks: Collected<ValidatingWebhookConfiguration>,
    /// SubjectAccessReviews of the endpoint pickers' ServiceAccounts (`picker_access_requests`):
    /// live only; Forbidden when the user may not create SubjectAccessReviews.
    pub sa_access: Collected<AccessReview>,
    /// Envoy Gateway's configuration: the `envoy-gateway.yaml` key of ConfigMap
    /// envoy-gateway-system/envoy-gateway-config (live only, read only when Envoy Gateway is present;
    /// Absent when the ConfigMap or key does not exist).
    pub envoy_gateway_config: Collected<String>,
    /// Envoy Gateway BackendTrafficPolicies (gateway.envoyproxy.io), what LLMD-RT-015 reads of them.
    pub backend_traffic_policies: Collected<TrafficPolicyView>,
    /// Listed objects that could not be read: their kinds are incomplete, so checks reading them
    /// are skipped rather than told that the object does not exist.
    pub unreadable: Vec<Unreadable>,
    /// Lookups by namespace and name, built on first use (see `Lookups`).
    pub lookups: Lookups,
}

/// Indexes over the Snapshot's slots, so that checks looking up a pool's Service, pods or
/// Deployments do not scan every object per pool. Built once, on the first lookup; `insert` and
/// `set_state` drop them (collectors fill the slots before anything looks up).
#[derive(Debug, Clone, Default)]
pub struct Lookups(OnceLock<Index>);

#[derive(Debug, Clone, Default)]
struct Index {
    services: HashMap<(String, String), usize>,
    pods: HashMap<String, Vec<usize>>,
    deployments: HashMap<String, Vec<usize>>,
    /// (namespace, kubernetes.io/service-name) → EndpointSlices.
    endpoint_slices: HashMap<(String, String), Vec<usize>>,
    pools: HashMap<(String, String), usize>,
    pools_x: HashMap<(String, String), usize>,
    /// (namespace, name) of an InferencePool → HTTPRoutes with a backendRef to that name (any group).
    routes_to_pool: HashMap<(String, String), Vec<usize>>,
}

fn ns_name(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> (String, String) {
    (meta.namespace.clone().unwrap_or_default(), meta.name.clone().unwrap_or_default())
}

impl Index {
    fn build(snap: &Snapshot) -> Index {
        let mut index = Index::default();
        for (i, s) in snap.services.items().iter().enumerate() {
            index.services.entry(ns_name(&s.metadata)).or_insert(i);
        }
        for (i, p) in snap.pods.items().iter().enumerate() {
            index.pods.entry(p.metadata.namespace.clone().unwrap_or_default()).or_default().push(i);
        }
        for (i, d) in snap.deployments.items().iter().enumerate() {
            index.deployments.entry(d.metadata.namespace.clone().unwrap_or_default()).or_default().push(i);
        }
        for (i, s) in snap.endpoint_slices.items().iter().enumerate() {
            let Some(svc) = s.metadata.labels.as_ref().and_then(|l| l.get("kubernetes.io/service-name")) else {
                continue;
            };
            let key = (s.metadata.namespace.clone().unwrap_or_default(), svc.clone());
            index.endpoint_slices.entry(key).or_default().push(i);
        }
        for (slot, map) in [(&snap.pools, &mut index.pools), (&snap.pools_x, &mut index.pools_x)] {
            for (i, p) in slot.items().iter().enumerate() {
                map.entry((p.metadata.ns().to_string(), p.metadata.name.clone())).or_insert(i);
            }
        }
        for (i, r) in snap.http_routes.items().iter().enumerate() {
            let mut targets: Vec<(String, String)> = r
                .spec
                .rules
                .iter()
                .flat_map(|rule| &rule.backend_refs)
                .filter(|b| b.is_inference_pool())
                .map(|b| (b.namespace.clone().unwrap_or_else(|| r.metadata.ns().to_string()), b.name.clone()))
                .collect();
            targets.sort();
            targets.dedup();
            for t in targets {
                index.routes_to_pool.entry(t).or_default().push(i);
            }
        }
        index
    }
}

/// One permission an endpoint picker's ServiceAccount needs: `verb` on `resource` (plural) of
/// `group` in `namespace`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct AccessRequest {
    /// The ServiceAccount's namespace.
    pub sa_namespace: String,
    /// The ServiceAccount's name.
    pub sa_name: String,
    pub verb: &'static str,
    /// "" for the core group.
    pub group: String,
    pub resource: &'static str,
    pub namespace: String,
}

impl AccessRequest {
    /// "inferencepools.inference.networking.k8s.io" or "pods", as kubectl and RBAC errors name it.
    pub fn resource_name(&self) -> String {
        if self.group.is_empty() {
            self.resource.to_string()
        } else {
            format!("{}.{}", self.resource, self.group)
        }
    }
}

/// The answer of the API server's authorizer to one `AccessRequest`.
#[derive(Debug, Clone, PartialEq)]
pub struct AccessReview {
    pub request: AccessRequest,
    pub allowed: bool,
}

/// What LLMD-RT-015 reads of an Envoy Gateway BackendTrafficPolicy.
#[derive(Debug, Clone, PartialEq)]
pub struct TrafficPolicyView {
    pub namespace: String,
    pub name: String,
    /// (kind, name) of `spec.targetRefs` and the older `spec.targetRef`, in the policy's namespace.
    pub targets: Vec<(String, String)>,
    /// True when `spec.targetSelectors` picks targets by label (labels are not collected, so such
    /// a policy may cover any route or Gateway of its namespace).
    pub selects_by_label: bool,
    /// `spec.timeout.http.requestTimeout`.
    pub request_timeout: Option<String>,
}

impl TrafficPolicyView {
    /// Read from a listed object (fields the check does not read are ignored).
    pub fn from_value(v: &serde_json::Value) -> Self {
        let spec = &v["spec"];
        let target = |t: &serde_json::Value| Some((t["kind"].as_str()?.to_string(), t["name"].as_str()?.to_string()));
        let mut targets: Vec<(String, String)> =
            spec["targetRefs"].as_array().into_iter().flatten().filter_map(target).collect();
        targets.extend(target(&spec["targetRef"]));
        TrafficPolicyView {
            namespace: v["metadata"]["namespace"].as_str().unwrap_or_default().to_string(),
            name: v["metadata"]["name"].as_str().unwrap_or_default().to_string(),
            targets,
            selects_by_label: spec["targetSelectors"].as_array().is_some_and(|a| !a.is_empty()),
            request_timeout: spec.pointer("/timeout/http/requestTimeout").and_then(|t| t.as_str()).map(str::to_string),
        }
    }

    /// True when the policy attaches to `kind` `name` in `namespace` (or may, by label).
    pub fn may_target(&self, kind: &str, namespace: &str, name: &str) -> bool {
        self.namespace == namespace
            && (self.selects_by_label || self.targets.iter().any(|(k, n)| k == kind && n == name))
    }
}

/// Envoy Gateway's ConfigMap (namespace, name) and the key holding its EnvoyGateway configuration.
pub const ENVOY_GATEWAY_CONFIG: (&str, &str, &str) =
    ("envoy-gateway-system", "envoy-gateway-config", "envoy-gateway.yaml");

/// The verbs the picker's informers use on every kind it reads.
const PICKER_VERBS: [&str; 3] = ["get", "list", "watch"];

/// The ServiceAccount a pod template runs as (Kubernetes' default is "default").
pub fn service_account_of(template: &PodTemplateSpec) -> &str {
    let spec = template.spec.as_ref();
    spec.and_then(|s| s.service_account_name.as_deref().or(s.service_account.as_deref()))
        .filter(|n| !n.is_empty())
        .unwrap_or("default")
}

/// The state of a kind without its items, used by collectors to mark a slot.
#[derive(Debug, Clone)]
pub enum SlotState {
    /// Listed; items are added with `Snapshot::insert`.
    Listed,
    Absent,
    Forbidden {
        verb: String,
        resource: String,
    },
    Unknown {
        reason: String,
    },
}

impl SlotState {
    fn apply<T>(&self, slot: &mut Collected<T>) {
        *slot = match self.clone() {
            SlotState::Listed => Collected::Listed(Vec::new()),
            SlotState::Absent => Collected::Absent,
            SlotState::Forbidden { verb, resource } => Collected::Forbidden { verb, resource },
            SlotState::Unknown { reason } => Collected::Unknown { reason },
        }
    }
}

impl Snapshot {
    /// A snapshot in which every kind is listed and empty; collectors fill it and mark what they
    /// could not know.
    pub fn all_listed() -> Self {
        let mut snap = Snapshot::default();
        for kind in ALL_KINDS {
            snap.set_state(*kind, &SlotState::Listed);
        }
        snap
    }

    /// Reset one kind's slot to `state` (dropping its items).
    pub fn set_state(&mut self, kind: Kind, state: &SlotState) {
        self.forget_lookups();
        match kind {
            Kind::Crds => state.apply(&mut self.crds),
            Kind::GatewayClasses => state.apply(&mut self.gateway_classes),
            Kind::Gateways => state.apply(&mut self.gateways),
            Kind::HttpRoutes => state.apply(&mut self.http_routes),
            Kind::ReferenceGrants => state.apply(&mut self.reference_grants),
            Kind::InferencePools => state.apply(&mut self.pools),
            Kind::InferencePoolsX => state.apply(&mut self.pools_x),
            Kind::InferenceObjectives => state.apply(&mut self.objectives),
            Kind::Services => state.apply(&mut self.services),
            Kind::EndpointSlices => state.apply(&mut self.endpoint_slices),
            Kind::Deployments => state.apply(&mut self.deployments),
            Kind::StatefulSets => state.apply(&mut self.stateful_sets),
            Kind::Pods => state.apply(&mut self.pods),
            Kind::DestinationRules => state.apply(&mut self.destination_rules),
            Kind::AdmissionPolicies => state.apply(&mut self.admission_policies),
            Kind::Webhooks => state.apply(&mut self.webhooks),
            Kind::ServerVersion => state.apply(&mut self.server_version),
            Kind::SaAccess => state.apply(&mut self.sa_access),
            Kind::BackendTrafficPolicies => state.apply(&mut self.backend_traffic_policies),
            Kind::LiveStatus => {}
        }
    }

    /// The collected state of one kind, type-erased to its skip reason.
    pub fn skip_reason(&self, kind: Kind) -> Option<String> {
        let unreadable: Vec<&Unreadable> = self.unreadable.iter().filter(|u| u.kind == kind).collect();
        if let Some(first) = unreadable.first() {
            let more = match unreadable.len() - 1 {
                0 => String::new(),
                n => format!(" and {n} more"),
            };
            return Some(format!("incomplete: {} could not be read{more} ({})", first.object, first.error));
        }
        match kind {
            Kind::Crds => self.crds.skip_reason(),
            Kind::GatewayClasses => self.gateway_classes.skip_reason(),
            Kind::Gateways => self.gateways.skip_reason(),
            Kind::HttpRoutes => self.http_routes.skip_reason(),
            Kind::ReferenceGrants => self.reference_grants.skip_reason(),
            Kind::InferencePools => self.pools.skip_reason(),
            Kind::InferencePoolsX => self.pools_x.skip_reason(),
            Kind::InferenceObjectives => self.objectives.skip_reason(),
            Kind::Services => self.services.skip_reason(),
            Kind::EndpointSlices => self.endpoint_slices.skip_reason(),
            Kind::Deployments => self.deployments.skip_reason(),
            Kind::StatefulSets => self.stateful_sets.skip_reason(),
            Kind::Pods => self.pods.skip_reason(),
            Kind::DestinationRules => self.destination_rules.skip_reason(),
            Kind::AdmissionPolicies => self.admission_policies.skip_reason(),
            Kind::Webhooks => self.webhooks.skip_reason(),
            Kind::ServerVersion => self.server_version.skip_reason(),
            Kind::SaAccess => self.sa_access.skip_reason(),
            Kind::BackendTrafficPolicies => self.backend_traffic_policies.skip_reason(),
            // Depends on the other kinds a check reads: see `status_skip_reason`.
            Kind::LiveStatus => None,
        }
    }

    /// Why a check reading the status of `kind`'s objects must be skipped, if it must: offline,
    /// when the files hold that kind as written manifests rather than as read from a server.
    pub fn status_skip_reason(&self, kind: Kind) -> Option<String> {
        if self.live || !kind.has_status() || self.status_in_files.contains(&kind) {
            return None;
        }
        Some(format!(
            "needs object status: the {} in the files are manifests, not `kubectl get -o yaml` output",
            kind.title()
        ))
    }

    /// True when the objects reflect what runs in a cluster (live, or a dump of one), not
    /// manifests of what should.
    pub fn reflects_cluster(&self) -> bool {
        self.live || self.dump
    }

    /// True when checks may read the status of `kind`'s objects.
    pub fn has_status(&self, kind: Kind) -> bool {
        self.status_skip_reason(kind).is_none()
    }

    /// True when objects of `namespace` were collected (so a missing object there is really missing).
    pub fn in_scope(&self, namespace: &str) -> bool {
        self.namespace.as_deref().is_none_or(|ns| ns == namespace)
    }

    /// Both pool APIs together.
    pub fn all_pools(&self) -> impl Iterator<Item = &InferencePoolView> {
        self.pools.items().iter().chain(self.pools_x.items())
    }

    /// A CRD by its full name (plural.group).
    pub fn crd(&self, name: &str) -> Option<&CrdView> {
        self.crds.items().iter().find(|c| c.metadata.name == name)
    }

    /// Drop the lookups (the slots are about to change).
    pub fn forget_lookups(&mut self) {
        self.lookups = Lookups::default();
    }

    fn index(&self) -> &Index {
        self.lookups.0.get_or_init(|| Index::build(self))
    }

    /// The Service `name` in `namespace`.
    pub fn service(&self, namespace: &str, name: &str) -> Option<&Service> {
        let i = *self.index().services.get(&(namespace.to_string(), name.to_string()))?;
        self.services.items().get(i)
    }

    /// The inference.networking.k8s.io InferencePool `name` in `namespace`.
    pub fn pool(&self, namespace: &str, name: &str) -> Option<&InferencePoolView> {
        let i = *self.index().pools.get(&(namespace.to_string(), name.to_string()))?;
        self.pools.items().get(i)
    }

    /// The inference.networking.x-k8s.io InferencePool `name` in `namespace`.
    pub fn pool_x(&self, namespace: &str, name: &str) -> Option<&InferencePoolView> {
        let i = *self.index().pools_x.get(&(namespace.to_string(), name.to_string()))?;
        self.pools_x.items().get(i)
    }

    /// HTTPRoutes with a backendRef to an InferencePool (of either group) called `name` in `namespace`.
    pub fn routes_to_pool<'a>(&'a self, namespace: &str, name: &str) -> impl Iterator<Item = &'a HttpRouteView> + 'a {
        let routes = self.http_routes.items();
        self.index()
            .routes_to_pool
            .get(&(namespace.to_string(), name.to_string()))
            .into_iter()
            .flatten()
            .filter_map(move |i| routes.get(*i))
    }

    /// Every collected pod of `namespace`.
    pub fn pods_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a PodView> + 'a {
        let pods = self.pods.items();
        self.index().pods.get(namespace).into_iter().flatten().filter_map(move |i| pods.get(*i))
    }

    /// Every collected Deployment of `namespace`.
    pub fn deployments_in<'a>(&'a self, namespace: &str) -> impl Iterator<Item = &'a Deployment> + 'a {
        let deployments = self.deployments.items();
        self.index().deployments.get(namespace).into_iter().flatten().filter_map(move |i| deployments.get(*i))
    }

    /// The EndpointSlices of Service `service` in `namespace` (by their `kubernetes.io/service-name` label).
    pub fn endpoint_slices_of<'a>(
        &'a self,
        namespace: &str,
        service: &str,
    ) -> impl Iterator<Item = &'a EndpointSlice> + 'a {
        let slices = self.endpoint_slices.items();
        self.index()
            .endpoint_slices
            .get(&(namespace.to_string(), service.to_string()))
            .into_iter()
            .flatten()
            .filter_map(move |i| slices.get(*i))
    }

    /// The Gateway `name` in `namespace`.
    pub fn gateway(&self, namespace: &str, name: &str) -> Option<&GatewayView> {
        self.gateways.items().iter().find(|g| g.metadata.ns() == namespace && g.metadata.name == name)
    }

    /// The GatewayClass `name`.
    pub fn gateway_class(&self, name: &str) -> Option<&GatewayClassView> {
        self.gateway_classes.items().iter().find(|g| g.metadata.name == name)
    }

    /// What the picker of `pool`, running as ServiceAccount `sa_namespace/sa_name`, must be allowed
    /// to do: get/list/watch its pool (in the pool's group) and pods in the pool's namespace, and
    /// InferenceObjectives (inference.networking.x-k8s.io) when their CRD is installed, since the
    /// picker then watches them too. Source: GAIE config/charts/inferencepool/templates/rbac.yaml
    /// (Role with get/watch/list on inferencepools of the pool's apiVersion group and on
    /// inferenceobjectives of inference.networking.x-k8s.io) and the earlier chart's ClusterRole
    /// (pods get/watch/list); the picker logs `… is forbidden` when a grant is missing.
    pub fn picker_access_requests(
        &self,
        sa_namespace: &str,
        sa_name: &str,
        pool: &InferencePoolView,
    ) -> Vec<AccessRequest> {
        let ns = pool.metadata.ns().to_string();
        let mut kinds: Vec<(String, &'static str)> =
            vec![(pool.api.group().to_string(), "inferencepools"), (String::new(), "pods")];
        if self.crd(&format!("inferenceobjectives.{}", crate::model::groups::INFERENCE_X)).is_some() {
            kinds.push((crate::model::groups::INFERENCE_X.to_string(), "inferenceobjectives"));
        }
        kinds
            .into_iter()
            .flat_map(|(group, resource)| {
                let ns = ns.clone();
                PICKER_VERBS.iter().map(move |verb| AccessRequest {
                    sa_namespace: sa_namespace.to_string(),
                    sa_name: sa_name.to_string(),
                    verb,
                    group: group.clone(),
                    resource,
                    namespace: ns.clone(),
                })
            })
            .collect()
    }

    /// What a gateway controller running as `sa_namespace/sa_name` needs to route to
    /// InferencePools: get/list/watch on inferencepools.inference.networking.k8s.io in every
    /// namespace (`namespace` empty: the controller watches the whole cluster).
    pub fn pool_reader_requests(sa_namespace: &str, sa_name: &str) -> Vec<AccessRequest> {
        PICKER_VERBS
            .iter()
            .map(|verb| AccessRequest {
                sa_namespace: sa_namespace.to_string(),
                sa_name: sa_name.to_string(),
                verb,
                group: crate::model::groups::INFERENCE.to_string(),
                resource: "inferencepools",
                namespace: String::new(),
            })
            .collect()
    }

    /// Pod templates of the Deployments and StatefulSets in `namespace` that carry every label of
    /// `selector` (a Service's selector; empty selects none).
    pub fn templates_selected<'a>(
        &'a self,
        namespace: &'a str,
        selector: &'a std::collections::BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a PodTemplateSpec> + 'a {
        let deployments = self.deployments.items().iter().map(|d| (&d.metadata, &d.spec.template));
        let sets = self.stateful_sets.items().iter().map(|s| (&s.metadata, &s.spec.template));
        deployments.chain(sets).filter_map(move |(meta, template)| {
            let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
            let selected = !selector.is_empty()
                && meta.namespace.as_deref() == Some(namespace)
                && labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)));
            selected.then_some(template)
        })
    }

    /// Every permission the endpoint pickers need, across pools: what the live collector reviews
    /// (one review per distinct ServiceAccount, verb and resource, however many pools share them).
    pub fn all_access_requests(&self) -> std::collections::BTreeSet<AccessRequest> {
        let mut out = std::collections::BTreeSet::new();
        for pool in self.all_pools() {
            let Some(epp) = pool.endpoint_picker.as_ref() else { continue };
            let core = epp.group.is_empty() || epp.group == "core";
            if !core || epp.kind != "Service" {
                continue;
            }
            let ns = pool.metadata.ns();
            let Some(svc) = self.service(ns, &epp.name) else { continue };
            // A picker with ready endpoints has synced its pool and pods, so it has the access it needs:
            // only pickers that serve nothing are reviewed. A healthy fleet costs no review, and the
            // requests stay bounded by the broken pickers, not by the pools.
            if self.ready_endpoints(ns, &epp.name).is_some_and(|n| n > 0) {
                continue;
            }
            let selector = svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default();
            for template in self.templates_selected(ns, &selector) {
                out.extend(self.picker_access_requests(ns, service_account_of(template), pool));
            }
        }
        out
    }

    /// Ready endpoints of Service `ns/name` in its EndpointSlices (a nil ready condition means
    /// "unknown", which consumers treat as ready); None when EndpointSlices were not collected.
    pub fn ready_endpoints(&self, ns: &str, name: &str) -> Option<usize> {
        if !self.endpoint_slices.is_listed() {
            return None;
        }
        let count = self
            .endpoint_slices_of(ns, name)
            .flat_map(|s| s.endpoints.iter().flatten())
            .filter(|e| e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true))
            .count();
        Some(count)
    }

    /// The reviews of `requests` that the API server denied (requests never reviewed are not
    /// reported: the collector reviews every request `picker_access_requests` names).
    pub fn denied<'a>(&'a self, requests: &'a [AccessRequest]) -> impl Iterator<Item = &'a AccessRequest> + 'a {
        requests.iter().filter(|r| self.sa_access.items().iter().any(|a| &a.request == *r && !a.allowed))
    }

    /// Pods in `namespace` whose labels include every `selector` pair (empty selector matches none).
    pub fn pods_matching<'a>(
        &'a self,
        namespace: &'a str,
        selector: &'a std::collections::BTreeMap<String, String>,
    ) -> impl Iterator<Item = &'a PodView> + 'a {
        let pods = if selector.is_empty() { None } else { self.index().pods.get(namespace) };
        let all = self.pods.items();
        pods.into_iter().flatten().filter_map(move |i| all.get(*i)).filter(move |p| {
            p.metadata.labels.as_ref().is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
        })
    }

    /// HTTPRoutes with a backendRef of kind InferencePool (either group) naming this pool.
    pub fn routes_referencing<'a>(&'a self, pool: &InferencePoolView) -> Vec<&'a HttpRouteView> {
        self.routes_to_pool(pool.metadata.ns(), &pool.metadata.name)
            .filter(|r| {
                r.spec.rules.iter().flat_map(|rule| &rule.backend_refs).any(|b| {
                    b.is_inference_pool()
                        && b.name == pool.metadata.name
                        && b.namespace.as_deref().unwrap_or(r.metadata.ns()) == pool.metadata.ns()
                })
            })
            .collect()
    }

    /// True when an x-k8s pool has an inference.networking.k8s.io/v1 pool of the same name.
    pub fn has_v1_twin(&self, pool: &InferencePoolView) -> bool {
        self.pool(pool.metadata.ns(), &pool.metadata.name).is_some()
    }

    /// Deployments and StatefulSets in the Service's namespace whose pod template carries every
    /// Service selector label.
    pub fn picker_workloads<'a>(&'a self, svc: &Service) -> Vec<PickerWorkload<'a>> {
        let selector = service_selector(svc);
        if selector.is_empty() {
            return Vec::new();
        }
        let ns = svc.metadata.namespace.as_deref();
        let selected = |meta: &ObjectMeta, template: &PodTemplateSpec| {
            let labels = template.metadata.as_ref().and_then(|m| m.labels.as_ref());
            meta.namespace.as_deref() == ns && labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
        };
        let deployments = self
            .deployments_in(ns.unwrap_or(""))
            .filter(|d| selected(&d.metadata, &d.spec.template))
            .map(PickerWorkload::from_deployment);
        let sets = self
            .stateful_sets
            .items()
            .iter()
            .filter(|s| selected(&s.metadata, &s.spec.template))
            .map(PickerWorkload::from_stateful_set);
        deployments.chain(sets).collect()
    }
}

/// The Service's pod selector (empty: selects nothing).
pub fn service_selector(svc: &Service) -> BTreeMap<String, String> {
    svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default()
}

/// An endpoint picker's workload: a Deployment, or a StatefulSet (some installs run the picker as
/// one). Both carry the pod template and replica counts the checks read.
pub struct PickerWorkload<'a> {
    /// "Deployment" or "StatefulSet".
    pub kind: &'static str,
    pub meta: &'a ObjectMeta,
    pub template: &'a PodTemplateSpec,
    /// spec.replicas (default 1).
    pub desired: i32,
    /// status.readyReplicas.
    pub ready: i32,
    /// status.availableReplicas.
    pub available: i32,
    /// "reason: message" of an Available=False condition.
    pub not_available: Option<String>,
}

impl PickerWorkload<'_> {
    /// A Deployment as a picker workload.
    pub fn from_deployment(d: &Deployment) -> PickerWorkload<'_> {
        let status = d.status.as_ref();
        let not_available = status
            .and_then(|s| s.conditions.as_ref())
            .and_then(|cs| {
                cs.iter().find(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("False"))
            })
            .map(|c| {
                let reason = c.reason.clone().unwrap_or_default();
                match &c.message {
                    Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                    _ => reason,
                }
            });
        PickerWorkload {
            kind: "Deployment",
            meta: &d.metadata,
            template: &d.spec.template,
            desired: d.spec.replicas.unwrap_or(1),
            ready: status.and_then(|s| s.ready_replicas).unwrap_or(0),
            available: status.and_then(|s| s.available_replicas).unwrap_or(0),
            not_available,
        }
    }

    /// A StatefulSet as a picker workload.
    pub fn from_stateful_set(s: &StatefulSet) -> PickerWorkload<'_> {
        let status = s.status.as_ref();
        PickerWorkload {
            kind: "StatefulSet",
            meta: &s.metadata,
            template: &s.spec.template,
            desired: s.spec.replicas.unwrap_or(1),
            ready: status.and_then(|st| st.ready_replicas).unwrap_or(0),
            available: status.and_then(|st| st.available_replicas).unwrap_or(0),
            not_available: None,
        }
    }

    /// The workload as findings name it.
    pub fn object(&self) -> ObjectRef {
        ObjectRef::new(
            self.kind,
            "apps",
            self.meta.namespace.as_deref().unwrap_or(""),
            self.meta.name.as_deref().unwrap_or(""),
        )
    }

    /// The kubectl resource word: "deployment" or "statefulset".
    pub fn resource(&self) -> &'static str {
        if self.kind == "StatefulSet" {
            "statefulset"
        } else {
            "deployment"
        }
    }

    /// The pod template's containers.
    pub fn containers(&self) -> &[Container] {
        self.template.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or(&[])
    }

    /// No replica wanted, fewer available than wanted, or Available=False.
    pub fn unavailable(&self) -> bool {
        self.desired == 0 || self.available < self.desired || self.not_available.is_some()
    }

    /// True when the picker runs with leader election (`--ha-enable-leader-election`): only the
    /// leader reports Ready, standbys stay NotReady by design (GAIE v1.5.0 cmd/epp/runner/health.go).
    pub fn leader_elected(&self) -> bool {
        self.containers().iter().flat_map(|c| c.command.iter().flatten().chain(c.args.iter().flatten())).any(|a| {
            let body = a.trim_start_matches('-');
            body == "ha-enable-leader-election" || body == "ha-enable-leader-election=true"
        })
    }
}
