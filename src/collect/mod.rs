//! Collectors: build a Snapshot from a live cluster or from manifests. Both feed objects through
//! `Snapshot::insert`, so a check cannot tell the difference except where the offline collector
//! marks a kind as unknowable.

pub mod cluster;
pub mod offline;

use crate::model::*;
use crate::snapshot::{Collected, Snapshot};
use serde_json::Value;

pub(crate) fn push<T>(slot: &mut Collected<T>, item: T) {
    match slot {
        Collected::Listed(v) => v.push(item),
        other => *other = Collected::Listed(vec![item]),
    }
}

fn parse<T: serde::de::DeserializeOwned>(v: &Value) -> Option<T> {
    serde_json::from_value(v.clone()).ok()
}

impl Snapshot {
    /// Add one object (with apiVersion and kind set) to the slot of its kind.
    /// Returns false for kinds the checks do not read (or objects too malformed to use).
    pub fn insert(&mut self, obj: &Value) -> bool {
        self.forget_lookups();
        let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let group = if api_version.contains('/') { api_version.split('/').next().unwrap_or("") } else { "" };
        match (group, kind) {
            ("apiextensions.k8s.io", "CustomResourceDefinition") => parse(obj).map(|c| push(&mut self.crds, c)),
            (groups::GATEWAY, "GatewayClass") => parse(obj).map(|c| push(&mut self.gateway_classes, c)),
            (groups::GATEWAY, "Gateway") => parse(obj).map(|c| push(&mut self.gateways, c)),
            (groups::GATEWAY, "HTTPRoute") => parse(obj).map(|c| push(&mut self.http_routes, c)),
            (groups::GATEWAY, "ReferenceGrant") => parse(obj).map(|c| push(&mut self.reference_grants, c)),
            (groups::INFERENCE, "InferencePool") => {
                InferencePoolView::from_value(obj).map(|p| push(&mut self.pools, p))
            }
            (groups::INFERENCE_X, "InferencePool") => {
                InferencePoolView::from_value(obj).map(|p| push(&mut self.pools_x, p))
            }
            (groups::INFERENCE_X | groups::LLMD, "InferenceObjective" | "InferenceModel") => {
                InferenceObjectiveView::from_value(obj).map(|o| push(&mut self.objectives, o))
            }
            ("", "Service") => parse(obj).map(|s| push(&mut self.services, s)),
            ("discovery.k8s.io", "EndpointSlice") => parse(obj).map(|s| push(&mut self.endpoint_slices, s)),
            ("apps", "Deployment") => parse(obj).map(|s| push(&mut self.deployments, s)),
            ("", "Pod") => parse(obj).map(|s| push(&mut self.pods, s)),
            (groups::ISTIO_NETWORKING, "DestinationRule") => parse(obj).map(|s| push(&mut self.destination_rules, s)),
            ("admissionregistration.k8s.io", "ValidatingAdmissionPolicy") => {
                parse(obj).map(|s| push(&mut self.admission_policies, s))
            }
            ("admissionregistration.k8s.io", "ValidatingWebhookConfiguration") => {
                parse(obj).map(|s| push(&mut self.webhooks, s))
            }
            _ => None,
        }
        .is_some()
    }
}
