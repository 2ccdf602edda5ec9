//! Version-tolerant views of the objects the checks read. Only the fields the checks need are
//! modelled; unknown fields are ignored, missing (and, after the collectors drop them, null) fields
//! default, so one view covers several API versions. A field of the wrong shape is an error that
//! names it (`read_view`), never a silent default.

pub mod gateway;
pub mod inference;
pub mod meta;
pub mod pod;

pub use gateway::*;
pub use inference::*;
pub use meta::*;
pub use pod::*;

/// Read a view from a raw object, the one way objects are read: `null` means absent, as it does to
/// the API server and to `kubectl apply` (an `annotations:` with nothing after it is no
/// annotations), so null mapping members are dropped first and the view's defaults apply; null list
/// elements stay and are errors. A field of the wrong shape is an error naming it
/// ("spec.listeners[0].port: invalid type: string \"http\", expected i64").
pub fn read_view<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, ViewError> {
    let v = without_nulls(v);
    serde_path_to_error::deserialize(v.as_ref()).map_err(|e| {
        let path = e.path().to_string();
        ViewError { path: (path != ".").then_some(path), source: e.into_inner() }
    })
}

/// An object that does not fit its view: the field (a path such as `spec.listeners[0].port`; None
/// for the object itself) and serde's complaint.
#[derive(Debug, thiserror::Error)]
pub struct ViewError {
    pub path: Option<String>,
    #[source]
    pub source: serde_json::Error,
}

impl std::fmt::Display for ViewError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match &self.path {
            Some(path) => write!(f, "{path}: {}", self.source),
            None => write!(f, "{}", self.source),
        }
    }
}

/// `v` without null mapping members, at any depth (cloned only when it has one).
fn without_nulls(v: &serde_json::Value) -> std::borrow::Cow<'_, serde_json::Value> {
    use serde_json::Value;
    fn has_null_member(v: &Value) -> bool {
        match v {
            Value::Object(m) => m.values().any(|v| v.is_null() || has_null_member(v)),
            Value::Array(a) => a.iter().any(has_null_member),
            _ => false,
        }
    }
    fn strip(v: &mut Value) {
        match v {
            Value::Object(m) => {
                m.retain(|_, v| !v.is_null());
                m.values_mut().for_each(strip);
            }
            Value::Array(a) => a.iter_mut().for_each(strip),
            _ => {}
        }
    }
    if !has_null_member(v) {
        return std::borrow::Cow::Borrowed(v);
    }
    let mut owned = v.clone();
    strip(&mut owned);
    std::borrow::Cow::Owned(owned)
}

/// API groups that matter here.
pub mod groups {
    /// Gateway API.
    pub const GATEWAY: &str = "gateway.networking.k8s.io";
    /// Gateway API experimental x-k8s group.
    pub const GATEWAY_X: &str = "gateway.networking.x-k8s.io";
    /// GAIE v1 group.
    pub const INFERENCE: &str = "inference.networking.k8s.io";
    /// GAIE alpha group.
    pub const INFERENCE_X: &str = "inference.networking.x-k8s.io";
    /// llm-d router group (InferenceObjective from GAIE v1.6 on).
    pub const LLMD: &str = "llm-d.ai";
    /// Istio networking.
    pub const ISTIO_NETWORKING: &str = "networking.istio.io";
}
