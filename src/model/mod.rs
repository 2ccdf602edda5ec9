//! Version-tolerant views of the objects the checks read. Only the fields the checks need are
//! modelled; unknown fields are ignored, missing fields default, so one view covers several API
//! versions and odd shapes never make a whole kind unreadable.

pub mod gateway;
pub mod inference;
pub mod meta;
pub mod pod;

pub use gateway::*;
pub use inference::*;
pub use meta::*;
pub use pod::*;

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
