//! Metadata, conditions and references shared by every view.

use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

/// The metadata fields the checks read.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Meta {
    pub name: String,
    pub namespace: Option<String>,
    pub labels: BTreeMap<String, String>,
    pub annotations: BTreeMap<String, String>,
    pub creation_timestamp: Option<String>,
    pub resource_version: Option<String>,
    pub generation: Option<i64>,
    pub uid: Option<String>,
}

impl Meta {
    /// Namespace or "" for cluster-scoped objects.
    pub fn ns(&self) -> &str {
        self.namespace.as_deref().unwrap_or("")
    }
}

/// A status condition, tolerant of missing fields.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
#[serde(rename_all = "camelCase", default)]
pub struct Condition {
    #[serde(rename = "type")]
    pub type_: String,
    pub status: String,
    pub reason: String,
    pub message: String,
    pub observed_generation: Option<i64>,
    pub last_transition_time: Option<String>,
}

/// Look up a condition by type.
pub fn condition<'a>(conditions: &'a [Condition], type_: &str) -> Option<&'a Condition> {
    conditions.iter().find(|c| c.type_ == type_)
}

/// True when the condition exists with status "True".
pub fn is_true(conditions: &[Condition], type_: &str) -> bool {
    condition(conditions, type_).is_some_and(|c| c.status == "True")
}

/// True when the condition exists with status "False".
pub fn is_false(conditions: &[Condition], type_: &str) -> bool {
    condition(conditions, type_).is_some_and(|c| c.status == "False")
}

/// The identity of an object as findings print it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct ObjectRef {
    pub kind: String,
    pub group: String,
    pub namespace: String,
    pub name: String,
}

impl ObjectRef {
    /// A reference to a namespaced or cluster-scoped (namespace "") object.
    pub fn new(kind: &str, group: &str, namespace: &str, name: &str) -> Self {
        ObjectRef { kind: kind.into(), group: group.into(), namespace: namespace.into(), name: name.into() }
    }

    /// "kind.group/name" as kubectl would take it (`kubectl get httproute.gateway.networking.k8s.io/x`).
    pub fn kubectl_name(&self) -> String {
        let kind = self.kind.to_lowercase();
        if self.group.is_empty() {
            format!("{kind}/{}", self.name)
        } else {
            format!("{kind}.{}/{}", self.group, self.name)
        }
    }

    /// " -n NS" or "" for cluster-scoped objects.
    pub fn ns_flag(&self) -> String {
        if self.namespace.is_empty() {
            String::new()
        } else {
            format!(" -n {}", self.namespace)
        }
    }
}

impl std::fmt::Display for ObjectRef {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.namespace.is_empty() {
            write!(f, "{} {}", self.kind, self.name)
        } else {
            write!(f, "{} {}/{}", self.kind, self.namespace, self.name)
        }
    }
}
