//! Gateway API views (every served version shares these shapes) and CRDs.

use super::meta::{Condition, Meta};
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A CustomResourceDefinition, reduced to what version checks need.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrdView {
    pub metadata: Meta,
    pub spec: CrdSpec,
    pub status: CrdStatus,
}

/// CRD spec fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrdSpec {
    pub group: String,
    pub names: CrdNames,
    pub scope: String,
    pub versions: Vec<CrdVersion>,
}

/// CRD names.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrdNames {
    pub kind: String,
    pub plural: String,
    pub short_names: Vec<String>,
}

/// One version of a CRD.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrdVersion {
    pub name: String,
    pub served: bool,
    pub storage: bool,
    pub deprecated: bool,
}

/// CRD status fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CrdStatus {
    pub stored_versions: Vec<String>,
    pub conditions: Vec<Condition>,
}

impl CrdView {
    /// Versions with served: true.
    pub fn served_versions(&self) -> Vec<&str> {
        self.spec.versions.iter().filter(|v| v.served).map(|v| v.name.as_str()).collect()
    }

    /// True when `version` is served.
    pub fn serves(&self, version: &str) -> bool {
        self.spec.versions.iter().any(|v| v.served && v.name == version)
    }

    /// The storage version.
    pub fn storage_version(&self) -> Option<&str> {
        self.spec.versions.iter().find(|v| v.storage).map(|v| v.name.as_str())
    }

    /// Annotation value.
    pub fn annotation(&self, key: &str) -> Option<&str> {
        self.metadata.annotations.get(key).map(String::as_str)
    }
}

/// A GatewayClass.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayClassView {
    pub metadata: Meta,
    pub spec: GatewayClassSpec,
    pub status: ConditionsStatus,
}

/// GatewayClass spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayClassSpec {
    pub controller_name: String,
}

/// A status holding only conditions (and, for GatewayClass, supported features).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ConditionsStatus {
    pub conditions: Vec<Condition>,
}

/// A Gateway.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayView {
    pub metadata: Meta,
    pub spec: GatewaySpec,
    pub status: GatewayStatus,
}

/// Gateway spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewaySpec {
    pub gateway_class_name: String,
    pub listeners: Vec<Listener>,
}

/// A Gateway listener.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct Listener {
    pub name: String,
    pub hostname: Option<String>,
    pub port: i64,
    pub protocol: String,
    pub allowed_routes: Option<AllowedRoutes>,
    pub tls: Option<ListenerTls>,
}

/// Which routes may attach to a listener.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct AllowedRoutes {
    pub namespaces: Option<RouteNamespaces>,
    pub kinds: Vec<RouteGroupKind>,
}

/// allowedRoutes.namespaces.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteNamespaces {
    /// Same (default), All or Selector.
    pub from: Option<String>,
    pub selector: Option<LabelSelector>,
}

/// A label selector (matchLabels only is evaluated; matchExpressions kept for display).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct LabelSelector {
    pub match_labels: BTreeMap<String, String>,
    pub match_expressions: Vec<serde_json::Value>,
}

/// allowedRoutes.kinds entry.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteGroupKind {
    pub group: Option<String>,
    pub kind: String,
}

/// Listener TLS.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerTls {
    pub mode: Option<String>,
    pub certificate_refs: Vec<SecretRef>,
}

/// A certificateRef.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct SecretRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
}

/// Gateway status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GatewayStatus {
    pub conditions: Vec<Condition>,
    pub listeners: Vec<ListenerStatus>,
    pub addresses: Vec<serde_json::Value>,
}

/// Listener status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ListenerStatus {
    pub name: String,
    pub attached_routes: i64,
    pub conditions: Vec<Condition>,
}

/// An HTTPRoute.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteView {
    pub metadata: Meta,
    pub spec: HttpRouteSpec,
    pub status: RouteStatus,
}

impl HttpRouteView {
    /// (namespace, name) of the Gateways the route attaches to.
    pub fn gateways(&self) -> Vec<(String, String)> {
        self.spec
            .parent_refs
            .iter()
            .filter(|p| p.kind.as_deref().unwrap_or("Gateway") == "Gateway")
            .map(|p| (p.namespace.clone().unwrap_or_else(|| self.metadata.ns().to_string()), p.name.clone()))
            .collect()
    }
}

/// HTTPRoute spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct HttpRouteSpec {
    pub parent_refs: Vec<ParentRef>,
    pub hostnames: Vec<String>,
    pub rules: Vec<RouteRule>,
}

/// A parentRef (also used in pool and route status).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct ParentRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub namespace: Option<String>,
    pub name: String,
    pub section_name: Option<String>,
    pub port: Option<i64>,
}

/// A route rule.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteRule {
    pub name: Option<String>,
    pub backend_refs: Vec<BackendRef>,
    pub timeouts: RouteTimeouts,
}

/// A rule's `timeouts` (Gateway API Duration strings such as "30s", "1h30m"; "0s" disables).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteTimeouts {
    pub request: Option<String>,
    pub backend_request: Option<String>,
}

/// Milliseconds of a Gateway API Duration (`^([0-9]{1,5}(h|m|s|ms)){1,4}$`); None when it is not one.
pub fn duration_ms(d: &str) -> Option<u64> {
    let mut total: u64 = 0;
    let mut rest = d;
    if rest.is_empty() {
        return None;
    }
    while !rest.is_empty() {
        let digits = rest.len() - rest.trim_start_matches(|c: char| c.is_ascii_digit()).len();
        if digits == 0 {
            return None;
        }
        let n: u64 = rest[..digits].parse().ok()?;
        rest = &rest[digits..];
        let (unit, len) = if rest.starts_with("ms") {
            (1, 2)
        } else if rest.starts_with('h') {
            (3_600_000, 1)
        } else if rest.starts_with('m') {
            (60_000, 1)
        } else if rest.starts_with('s') {
            (1_000, 1)
        } else {
            return None;
        };
        total += n * unit;
        rest = &rest[len..];
    }
    Some(total)
}

/// A backendRef. `group`/`kind` absent mean core Service.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct BackendRef {
    pub group: Option<String>,
    pub kind: Option<String>,
    pub name: String,
    pub namespace: Option<String>,
    pub port: Option<i64>,
    pub weight: Option<i64>,
}

impl BackendRef {
    /// The group, "" for core.
    pub fn group_or_core(&self) -> &str {
        self.group.as_deref().unwrap_or("")
    }

    /// The kind, "Service" when omitted.
    pub fn kind_or_service(&self) -> &str {
        self.kind.as_deref().unwrap_or("Service")
    }

    /// True when this names an InferencePool (either group).
    pub fn is_inference_pool(&self) -> bool {
        self.kind_or_service() == "InferencePool"
    }
}

/// Route status.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteStatus {
    pub parents: Vec<RouteParentStatus>,
}

/// One parent's status on a route (or a pool).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct RouteParentStatus {
    pub parent_ref: ParentRef,
    pub controller_name: String,
    pub conditions: Vec<Condition>,
}

/// A ReferenceGrant (v1beta1 or v1).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceGrantView {
    pub metadata: Meta,
    pub spec: ReferenceGrantSpec,
}

/// ReferenceGrant spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ReferenceGrantSpec {
    pub from: Vec<GrantFrom>,
    pub to: Vec<GrantTo>,
}

/// ReferenceGrant from.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantFrom {
    pub group: String,
    pub kind: String,
    pub namespace: String,
}

/// ReferenceGrant to.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct GrantTo {
    pub group: String,
    pub kind: String,
    pub name: Option<String>,
}

/// An Istio DestinationRule (networking.istio.io, any version).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleView {
    pub metadata: Meta,
    pub spec: DestinationRuleSpec,
}

/// DestinationRule spec.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct DestinationRuleSpec {
    pub host: String,
    pub traffic_policy: Option<TrafficPolicy>,
}

/// DestinationRule trafficPolicy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct TrafficPolicy {
    pub tls: Option<ClientTls>,
    /// Per-port policies; a port's tls replaces the rule-wide tls for that port.
    pub port_level_settings: Vec<PortTrafficPolicy>,
}

/// DestinationRule trafficPolicy.portLevelSettings[].
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortTrafficPolicy {
    pub port: Option<PortSelector>,
    pub tls: Option<ClientTls>,
}

/// A DestinationRule port selector.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct PortSelector {
    pub number: Option<i64>,
}

/// DestinationRule trafficPolicy.tls.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct ClientTls {
    pub mode: Option<String>,
    pub insecure_skip_verify: Option<bool>,
    /// File of CA certificates that verify the server's certificate.
    pub ca_certificates: Option<String>,
    /// Secret holding the client certificate and CA (verifies the server too).
    pub credential_name: Option<String>,
}
