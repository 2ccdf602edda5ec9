//! Version-tolerant views of the objects the checks read. Only the fields the checks need are
//! modelled; unknown fields are ignored, missing (and, after the collectors drop them, null) fields
//! default, so one view covers several API versions. A field of the wrong shape is an error that
//! names it (`read_view`), never a silent default.

pub mod gateway;
pub mod inference;
pub mod meta;

pub use gateway::*;
pub use inference::*;
pub use meta::*;

/// Read a view from a raw object, naming the field that does not fit
/// ("spec.listeners[0].port: invalid type: string \"http\", expected i64").
pub fn read_view<T: serde::de::DeserializeOwned>(v: &serde_json::Value) -> Result<T, String> {
    serde_path_to_error::deserialize(v).map_err(|e| {
        let path = e.path().to_string();
        if path == "." {
            e.into_inner().to_string()
        } else {
            format!("{path}: {}", e.into_inner())
        }
    })
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
