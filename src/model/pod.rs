//! The model-server pod, reduced to what the checks read. A fleet has tens of thousands of pods:
//! k8s-openapi's full `Pod` costs several KB each even when most fields are empty, this a few
//! hundred bytes. Field names follow k8s-openapi's, so code reads the same either way.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// A Pod: identity, labels, declared container ports and readiness.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodView {
    #[serde(default)]
    pub metadata: PodMeta,
    pub spec: Option<PodSpecView>,
    pub status: Option<PodStatusView>,
}

/// Pod metadata the checks read.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodMeta {
    pub name: Option<String>,
    pub namespace: Option<String>,
    pub labels: Option<BTreeMap<String, String>>,
}

/// Pod spec: containers and init containers (sidecars serve too).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodSpecView {
    #[serde(default)]
    pub containers: Vec<ContainerView>,
    pub init_containers: Option<Vec<ContainerView>>,
}

/// A container's name, declared ports and (for init containers) restart policy.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerView {
    #[serde(default)]
    pub name: String,
    pub ports: Option<Vec<ContainerPortView>>,
    pub restart_policy: Option<String>,
}

/// One declared container port.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerPortView {
    #[serde(default)]
    pub container_port: i32,
}

/// Pod status: phase, reason, conditions and why containers wait.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStatusView {
    pub phase: Option<String>,
    pub reason: Option<String>,
    pub conditions: Option<Vec<PodConditionView>>,
    pub container_statuses: Option<Vec<ContainerStatusView>>,
    pub init_container_statuses: Option<Vec<ContainerStatusView>>,
}

/// A pod condition (Ready, PodScheduled…).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct PodConditionView {
    #[serde(rename = "type", default)]
    pub type_: String,
    #[serde(default)]
    pub status: String,
}

/// A container's state, for the reason it waits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerStatusView {
    pub state: Option<ContainerStateView>,
}

/// Only the waiting state matters (CrashLoopBackOff, ImagePullBackOff…).
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct ContainerStateView {
    pub waiting: Option<WaitingView>,
}

/// Why a container waits.
#[derive(Debug, Clone, Default, Serialize, Deserialize)]
pub struct WaitingView {
    pub reason: Option<String>,
}

impl PodView {
    /// True when the pod's Ready condition is True.
    pub fn is_ready(&self) -> bool {
        self.status
            .as_ref()
            .and_then(|s| s.conditions.as_ref())
            .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
    }
}
