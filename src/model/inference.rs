//! Inference Extension views: both InferencePool APIs normalised into one view.

use super::gateway::{LabelSelector, RouteParentStatus};
use super::groups;
use super::meta::Meta;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// Which InferencePool API an object came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, PartialOrd, Ord, Hash)]
pub enum PoolApi {
    /// inference.networking.k8s.io/v1
    #[serde(rename = "v1")]
    V1,
    /// inference.networking.x-k8s.io/v1alpha2
    #[serde(rename = "v1alpha2")]
    V1Alpha2,
}

impl PoolApi {
    /// The API group.
    pub fn group(self) -> &'static str {
        match self {
            PoolApi::V1 => groups::INFERENCE,
            PoolApi::V1Alpha2 => groups::INFERENCE_X,
        }
    }

    /// The version.
    pub fn version(self) -> &'static str {
        match self {
            PoolApi::V1 => "v1",
            PoolApi::V1Alpha2 => "v1alpha2",
        }
    }
}

/// Default EPP ext-proc port.
pub const DEFAULT_EPP_PORT: i64 = 9002;

/// An InferencePool of either API, normalised.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InferencePoolView {
    pub api: PoolApi,
    pub metadata: Meta,
    /// Pod labels (v1 matchLabels, v1alpha2 flat map).
    pub selector: BTreeMap<String, String>,
    /// Model-server ports.
    pub target_ports: Vec<i64>,
    /// v1 appProtocol.
    pub app_protocol: Option<String>,
    /// The endpoint picker reference, if any.
    pub endpoint_picker: Option<EndpointPickerRef>,
    /// status.parents (v1) or status.parent (v1alpha2).
    pub parents: Vec<RouteParentStatus>,
}

/// endpointPickerRef (v1) or extensionRef (v1alpha2).
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct EndpointPickerRef {
    pub group: String,
    pub kind: String,
    pub name: String,
    /// Port number; None when omitted (v1 requires it for Services; v1alpha2 defaults to 9002).
    pub port: Option<i64>,
    /// FailOpen or FailClose (default FailClose).
    pub failure_mode: String,
}

impl InferencePoolView {
    /// Build from a raw object of either API, known by its apiVersion.
    pub fn from_value(v: &serde_json::Value) -> Option<Self> {
        let api_version = v.get("apiVersion")?.as_str()?;
        let group = api_version.split('/').next().unwrap_or("");
        let api = if group == groups::INFERENCE { PoolApi::V1 } else { PoolApi::V1Alpha2 };
        let metadata: Meta = serde_json::from_value(v.get("metadata").cloned().unwrap_or_default()).ok()?;
        let spec = v.get("spec").cloned().unwrap_or_default();
        let status = v.get("status").cloned().unwrap_or_default();
        let parents_key = if api == PoolApi::V1 { "parents" } else { "parent" };
        let mut parents: Vec<RouteParentStatus> =
            status.get(parents_key).and_then(|p| serde_json::from_value(p.clone()).ok()).unwrap_or_default();
        if parents.is_empty() {
            // Tolerate either key on either API: controllers have written both.
            let other = if api == PoolApi::V1 { "parent" } else { "parents" };
            parents = status.get(other).and_then(|p| serde_json::from_value(p.clone()).ok()).unwrap_or_default();
        }
        let str_of = |val: Option<&serde_json::Value>| val.and_then(|s| s.as_str()).map(str::to_string);
        let (selector, target_ports, endpoint_picker) = match api {
            PoolApi::V1 => {
                let sel: LabelSelector =
                    spec.get("selector").and_then(|s| serde_json::from_value(s.clone()).ok()).unwrap_or_default();
                let ports = spec
                    .get("targetPorts")
                    .and_then(|p| p.as_array())
                    .map(|a| a.iter().filter_map(|p| p.get("number").and_then(|n| n.as_i64())).collect())
                    .unwrap_or_default();
                let epp = spec.get("endpointPickerRef").map(|r| EndpointPickerRef {
                    group: str_of(r.get("group")).unwrap_or_default(),
                    kind: str_of(r.get("kind")).unwrap_or_else(|| "Service".into()),
                    name: str_of(r.get("name")).unwrap_or_default(),
                    port: r.get("port").and_then(|p| p.get("number")).and_then(|n| n.as_i64()),
                    failure_mode: str_of(r.get("failureMode")).unwrap_or_else(|| "FailClose".into()),
                });
                (sel.match_labels, ports, epp)
            }
            PoolApi::V1Alpha2 => {
                let sel: BTreeMap<String, String> =
                    spec.get("selector").and_then(|s| serde_json::from_value(s.clone()).ok()).unwrap_or_default();
                let ports = spec.get("targetPortNumber").and_then(|n| n.as_i64()).into_iter().collect();
                let epp = spec.get("extensionRef").map(|r| EndpointPickerRef {
                    group: str_of(r.get("group")).unwrap_or_default(),
                    kind: str_of(r.get("kind")).unwrap_or_else(|| "Service".into()),
                    name: str_of(r.get("name")).unwrap_or_default(),
                    port: Some(r.get("portNumber").and_then(|n| n.as_i64()).unwrap_or(DEFAULT_EPP_PORT)),
                    failure_mode: str_of(r.get("failureMode")).unwrap_or_else(|| "FailClose".into()),
                });
                (sel, ports, epp)
            }
        };
        Some(InferencePoolView {
            api,
            metadata,
            selector,
            target_ports,
            app_protocol: str_of(spec.get("appProtocol")),
            endpoint_picker,
            parents,
        })
    }
}

/// An InferenceObjective or InferenceModel, in any group it has lived in.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct InferenceObjectiveView {
    /// "InferenceObjective" or "InferenceModel".
    pub kind: String,
    /// API group.
    pub group: String,
    pub metadata: Meta,
    /// spec.poolRef.name.
    pub pool_ref: Option<String>,
}

impl InferenceObjectiveView {
    /// Build from a raw object.
    pub fn from_value(v: &serde_json::Value) -> Option<Self> {
        let api_version = v.get("apiVersion")?.as_str()?;
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("InferenceObjective").to_string();
        let metadata: Meta = serde_json::from_value(v.get("metadata").cloned().unwrap_or_default()).ok()?;
        let pool_ref = v.pointer("/spec/poolRef/name").and_then(|n| n.as_str()).map(str::to_string);
        Some(InferenceObjectiveView {
            kind,
            group: api_version.split('/').next().unwrap_or("").to_string(),
            metadata,
            pool_ref,
        })
    }
}
