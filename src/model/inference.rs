//! Inference Extension views: both InferencePool APIs normalised into one view.

use super::gateway::{LabelSelector, RouteParentStatus};
use super::groups;
use super::meta::Meta;
use super::read_view;
use super::ObjectRef;
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

/// An InferencePool as either API writes it; `S` is the API's spec.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPool<S> {
    metadata: Meta,
    spec: S,
    status: RawPoolStatus,
}

/// inference.networking.k8s.io/v1 spec.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawSpecV1 {
    selector: LabelSelector,
    target_ports: Vec<RawPort>,
    app_protocol: Option<String>,
    endpoint_picker_ref: Option<RawPickerRef>,
}

/// inference.networking.x-k8s.io/v1alpha2 spec.
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawSpecV1Alpha2 {
    selector: BTreeMap<String, String>,
    target_port_number: Option<i64>,
    extension_ref: Option<RawPickerRef>,
}

/// A port reference; `number` is required by the CRD, so one without it names no port.
#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPort {
    number: Option<i64>,
}

/// endpointPickerRef (v1: `port: {number}`) or extensionRef (v1alpha2: `portNumber`).
#[derive(Deserialize, Default)]
#[serde(rename_all = "camelCase", default)]
struct RawPickerRef {
    group: Option<String>,
    kind: Option<String>,
    name: String,
    port: Option<RawPort>,
    port_number: Option<i64>,
    failure_mode: Option<String>,
}

impl RawPickerRef {
    fn into_view(self, port: Option<i64>) -> EndpointPickerRef {
        EndpointPickerRef {
            group: self.group.unwrap_or_default(),
            kind: self.kind.unwrap_or_else(|| "Service".into()),
            name: self.name,
            port,
            failure_mode: self.failure_mode.unwrap_or_else(|| "FailClose".into()),
        }
    }
}

#[derive(Deserialize, Default)]
#[serde(default)]
struct RawPoolStatus {
    parents: Vec<RouteParentStatus>,
    parent: Vec<RouteParentStatus>,
}

impl RawPoolStatus {
    /// The API's own key first; either key on either API, since controllers have written both.
    fn parents(self, api: PoolApi) -> Vec<RouteParentStatus> {
        let (first, second) =
            if api == PoolApi::V1 { (self.parents, self.parent) } else { (self.parent, self.parents) };
        if first.is_empty() {
            second
        } else {
            first
        }
    }
}

impl InferencePoolView {
    /// The pool as findings name it.
    pub fn object_ref(&self) -> ObjectRef {
        ObjectRef::new("InferencePool", self.api.group(), self.metadata.ns(), &self.metadata.name)
    }

    /// The name of the endpoint picker Service the pool names (a core Service reference only).
    pub fn epp_service_name(&self) -> Option<&str> {
        let epp = self.endpoint_picker.as_ref()?;
        let core = epp.group.is_empty() || epp.group == "core";
        (core && epp.kind == "Service" && !epp.name.is_empty()).then_some(epp.name.as_str())
    }

    /// Build from a raw object of either API, known by its apiVersion. A field that does not fit
    /// is an error naming it ("spec.targetPorts[0].number: invalid type: …").
    pub fn from_value(v: &serde_json::Value) -> Result<Self, super::ViewError> {
        let api_version = v.get("apiVersion").and_then(|a| a.as_str()).unwrap_or("");
        if api_version.split('/').next() == Some(groups::INFERENCE) {
            let RawPool { metadata, spec, status } = read_view::<RawPool<RawSpecV1>>(v)?;
            Ok(InferencePoolView {
                api: PoolApi::V1,
                metadata,
                selector: spec.selector.match_labels,
                target_ports: spec.target_ports.into_iter().filter_map(|p| p.number).collect(),
                app_protocol: spec.app_protocol,
                endpoint_picker: spec.endpoint_picker_ref.map(|r| {
                    let port = r.port.as_ref().and_then(|p| p.number);
                    r.into_view(port)
                }),
                parents: status.parents(PoolApi::V1),
            })
        } else {
            let RawPool { metadata, spec, status } = read_view::<RawPool<RawSpecV1Alpha2>>(v)?;
            Ok(InferencePoolView {
                api: PoolApi::V1Alpha2,
                metadata,
                selector: spec.selector,
                target_ports: spec.target_port_number.into_iter().collect(),
                app_protocol: None,
                endpoint_picker: spec.extension_ref.map(|r| {
                    let port = Some(r.port_number.unwrap_or(DEFAULT_EPP_PORT));
                    r.into_view(port)
                }),
                parents: status.parents(PoolApi::V1Alpha2),
            })
        }
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
    /// Build from a raw object; a field that does not fit is an error naming it.
    pub fn from_value(v: &serde_json::Value) -> Result<Self, super::ViewError> {
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", default)]
        struct Raw {
            metadata: Meta,
            spec: RawSpec,
        }
        #[derive(Deserialize, Default)]
        #[serde(rename_all = "camelCase", default)]
        struct RawSpec {
            pool_ref: Option<RawPoolRef>,
        }
        #[derive(Deserialize, Default)]
        #[serde(default)]
        struct RawPoolRef {
            name: Option<String>,
        }
        let api_version = v.get("apiVersion").and_then(|a| a.as_str()).unwrap_or("");
        let kind = v.get("kind").and_then(|k| k.as_str()).unwrap_or("InferenceObjective").to_string();
        let Raw { metadata, spec } = read_view(v)?;
        let pool_ref = spec.pool_ref.and_then(|r| r.name);
        Ok(InferenceObjectiveView {
            kind,
            group: api_version.split('/').next().unwrap_or("").to_string(),
            metadata,
            pool_ref,
        })
    }
}
