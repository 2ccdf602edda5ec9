//! The one table of the kinds kubectl-llmd reads: API group, kind, plural, the versions we read
//! (most preferred first), scope, whether a CRD serves it, and the Snapshot slot it fills. The
//! live collector lists from it, `pool status --watch` watches from it, `gateway` names CRDs from
//! it, and reading files maps apiVersion/kind to a slot through it; all pick a served version the
//! same way ([`KindInfo::version_for`]).

use crate::model::{groups, CrdView};
use crate::snapshot::Kind;
use kube::api::ApiResource;

/// One kind: where it lives and which versions we can read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct KindInfo {
    /// The Snapshot slot its objects go to.
    pub slot: Kind,
    /// API group ("" for core).
    pub group: &'static str,
    /// Kind name ("HTTPRoute").
    pub kind: &'static str,
    /// Resource name ("httproutes").
    pub plural: &'static str,
    /// Versions the views are written for, most preferred first.
    pub versions: &'static [&'static str],
    pub namespaced: bool,
    /// Served by a CRD (so "not installed" is possible, and the version is the CRD's choice).
    pub custom: bool,
}

const fn k(
    slot: Kind,
    group: &'static str,
    kind: &'static str,
    plural: &'static str,
    versions: &'static [&'static str],
    namespaced: bool,
    custom: bool,
) -> KindInfo {
    KindInfo { slot, group, kind, plural, versions, namespaced, custom }
}

const ADMISSION: &str = "admissionregistration.k8s.io";

/// CustomResourceDefinitions (listed first: they decide the version of every custom kind).
pub const CRDS: KindInfo = k(
    Kind::Crds,
    "apiextensions.k8s.io",
    "CustomResourceDefinition",
    "customresourcedefinitions",
    &["v1"],
    false,
    false,
);
/// Pods (label-selected per pool, not listed whole).
pub const PODS: KindInfo = k(Kind::Pods, "", "Pod", "pods", &["v1"], true, false);
/// Deployments (also listed in the providers' namespaces).
pub const DEPLOYMENTS: KindInfo = k(Kind::Deployments, "apps", "Deployment", "deployments", &["v1"], true, false);

/// Every kind the collector lists besides CRDs and pods, in listing order.
pub const LISTED: &[KindInfo] = &[
    k(Kind::GatewayClasses, groups::GATEWAY, "GatewayClass", "gatewayclasses", &["v1", "v1beta1"], false, true),
    k(Kind::Gateways, groups::GATEWAY, "Gateway", "gateways", &["v1", "v1beta1"], true, true),
    k(Kind::HttpRoutes, groups::GATEWAY, "HTTPRoute", "httproutes", &["v1", "v1beta1"], true, true),
    k(
        Kind::ReferenceGrants,
        groups::GATEWAY,
        "ReferenceGrant",
        "referencegrants",
        &["v1", "v1beta1", "v1alpha2"],
        true,
        true,
    ),
    k(Kind::InferencePools, groups::INFERENCE, "InferencePool", "inferencepools", &["v1"], true, true),
    k(Kind::InferencePoolsX, groups::INFERENCE_X, "InferencePool", "inferencepools", &["v1alpha2"], true, true),
    k(
        Kind::InferenceObjectives,
        groups::INFERENCE_X,
        "InferenceObjective",
        "inferenceobjectives",
        &["v1alpha2", "v1alpha1"],
        true,
        true,
    ),
    k(
        Kind::InferenceObjectives,
        groups::INFERENCE_X,
        "InferenceModel",
        "inferencemodels",
        &["v1alpha2", "v1alpha1"],
        true,
        true,
    ),
    k(
        Kind::InferenceObjectives,
        groups::LLMD,
        "InferenceObjective",
        "inferenceobjectives",
        &["v1alpha2", "v1alpha1", "v1"],
        true,
        true,
    ),
    k(
        Kind::DestinationRules,
        groups::ISTIO_NETWORKING,
        "DestinationRule",
        "destinationrules",
        &["v1", "v1beta1", "v1alpha3"],
        true,
        true,
    ),
    k(Kind::Services, "", "Service", "services", &["v1"], true, false),
    k(Kind::EndpointSlices, "discovery.k8s.io", "EndpointSlice", "endpointslices", &["v1"], true, false),
    DEPLOYMENTS,
    k(Kind::StatefulSets, "apps", "StatefulSet", "statefulsets", &["v1"], true, false),
    k(
        Kind::AdmissionPolicies,
        ADMISSION,
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        &["v1"],
        false,
        false,
    ),
    k(
        Kind::Webhooks,
        ADMISSION,
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        &["v1"],
        false,
        false,
    ),
];

/// The kinds of the routing chain `pool status --watch` watches (a change in any redraws).
pub const ROUTING_CHAIN: &[(Kind, &str)] = &[
    (Kind::InferencePools, groups::INFERENCE),
    (Kind::InferencePoolsX, groups::INFERENCE_X),
    (Kind::HttpRoutes, groups::GATEWAY),
    (Kind::Gateways, groups::GATEWAY),
    (Kind::Services, ""),
    (Kind::EndpointSlices, "discovery.k8s.io"),
    (Kind::Deployments, "apps"),
    (Kind::Pods, ""),
];

/// Every kind of the table.
pub fn all() -> impl Iterator<Item = &'static KindInfo> {
    [&CRDS, &PODS].into_iter().chain(LISTED)
}

/// The kind of `slot` in API group `group`.
pub fn lookup(slot: Kind, group: &str) -> Option<&'static KindInfo> {
    all().find(|i| i.slot == slot && i.group == group)
}

/// The Snapshot slot of objects of `kind` in API group `group`; None for kinds doctor does not read.
pub fn slot_of(group: &str, kind: &str) -> Option<Kind> {
    // Files may hold an InferenceModel of llm-d's group too (the collector lists only the kinds its
    // CRDs served upstream; a file is read whatever its group).
    if group == groups::LLMD && kind == "InferenceModel" {
        return Some(Kind::InferenceObjectives);
    }
    all().find(|i| i.group == group && i.kind == kind).map(|i| i.slot)
}

impl KindInfo {
    /// "httproutes.gateway.networking.k8s.io", "services": the resource as RBAC and CRDs name it.
    pub fn resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// The version to read given the cluster's CRDs (None: they could not be read). A built-in
    /// kind, or any kind when the CRDs are unknown, offers every version we read, to be probed in
    /// order; a custom kind is read at the first of ours its CRD serves, else any version it serves
    /// (the views are version-tolerant); an empty list means the kind is not installed.
    pub fn versions_for(&self, crds: Option<&[CrdView]>) -> Vec<String> {
        let all = || self.versions.iter().map(|v| v.to_string()).collect();
        let Some(crds) = crds.filter(|_| self.custom) else { return all() };
        let name = self.resource();
        let Some(crd) = crds.iter().find(|c| c.metadata.name == name) else { return Vec::new() };
        let chosen = self.versions.iter().find(|v| crd.serves(v)).copied();
        chosen.or_else(|| crd.served_versions().first().copied()).map(|v| vec![v.to_string()]).unwrap_or_default()
    }

    /// The dynamic API resource of this kind at `version`.
    pub fn api_resource(&self, version: &str) -> ApiResource {
        let api_version =
            if self.group.is_empty() { version.to_string() } else { format!("{}/{}", self.group, version) };
        ApiResource {
            group: self.group.to_string(),
            version: version.to_string(),
            api_version,
            kind: self.kind.to_string(),
            plural: self.plural.to_string(),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::snapshot;

    fn crd(name: &str, group: &str, versions: &[(&str, bool)]) -> String {
        let versions: Vec<String> =
            versions.iter().map(|(v, served)| format!("{{name: {v}, served: {served}, storage: false}}")).collect();
        format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {{name: {name}}}\n\
             spec: {{group: {group}, names: {{kind: X, plural: x}}, scope: Namespaced, versions: [{}]}}\n",
            versions.join(", ")
        )
    }

    #[test]
    fn a_custom_kind_is_read_at_a_version_its_crd_serves() {
        let routes = lookup(Kind::HttpRoutes, groups::GATEWAY).unwrap();
        let only_beta = snapshot(&crd(
            "httproutes.gateway.networking.k8s.io",
            groups::GATEWAY,
            &[("v1", false), ("v1beta1", true)],
        ));
        assert_eq!(routes.versions_for(Some(only_beta.crds.items())), ["v1beta1"]);
        // A served version we do not model is still read (the views are version-tolerant).
        let future = snapshot(&crd("httproutes.gateway.networking.k8s.io", groups::GATEWAY, &[("v2", true)]));
        assert_eq!(routes.versions_for(Some(future.crds.items())), ["v2"]);
        // No CRD: not installed; CRDs unreadable: every version of ours, probed in order.
        assert!(routes.versions_for(Some(&[])).is_empty());
        assert_eq!(routes.versions_for(None), ["v1", "v1beta1"]);
        // A built-in kind ignores CRDs.
        assert_eq!(lookup(Kind::Pods, "").unwrap().versions_for(Some(&[])), ["v1"]);
    }

    #[test]
    fn every_kind_of_the_routing_chain_and_every_slot_is_in_the_table() {
        for (slot, group) in ROUTING_CHAIN {
            assert!(lookup(*slot, group).is_some(), "{slot:?} in {group:?}");
        }
        assert_eq!(slot_of(groups::INFERENCE_X, "InferenceModel"), Some(Kind::InferenceObjectives));
        assert_eq!(slot_of("", "ConfigMap"), None);
        assert_eq!(
            lookup(Kind::InferencePoolsX, groups::INFERENCE_X).unwrap().resource(),
            "inferencepools.inference.networking.x-k8s.io"
        );
    }
}
