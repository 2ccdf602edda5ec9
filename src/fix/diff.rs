//! Object diffs as `doctor --fix` shows them: YAML, server-managed noise stripped, unified format.

use serde_json::Value;

/// The object without what the server manages (managedFields, resourceVersion, uid, timestamps,
/// generation, status) and without the last-applied annotation: what a user wrote.
pub fn strip(object: &Value) -> Value {
    let mut v = object.clone();
    if let Some(obj) = v.as_object_mut() {
        obj.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for k in ["managedFields", "resourceVersion", "uid", "creationTimestamp", "generation", "selfLink"] {
            meta.remove(k);
        }
        if let Some(ann) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            ann.remove("kubectl.kubernetes.io/last-applied-configuration");
            if ann.is_empty() {
                meta.remove("annotations");
            }
        }
    }
    v
}

/// YAML of an object (stripped), "" for none.
pub fn to_yaml(object: Option<&Value>) -> String {
    match object {
        Some(v) => serde_saphyr::to_string(&strip(v)).unwrap_or_else(|_| format!("{v:#}\n")),
        None => String::new(),
    }
}

/// Unified diff of two objects' YAML ("" when equal).
pub fn unified(before: Option<&Value>, after: Option<&Value>, label: &str) -> String {
    let (a, b) = (to_yaml(before), to_yaml(after));
    if a == b {
        return String::new();
    }
    let old = if before.is_some() { format!("{label} (live)") } else { "/dev/null".to_string() };
    let new = if after.is_some() { format!("{label} (after)") } else { "/dev/null".to_string() };
    similar::TextDiff::from_lines(&a, &b).unified_diff().context_radius(4).header(&old, &new).to_string()
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn diff_shows_only_the_changed_field_and_no_server_noise() {
        let before = json!({"apiVersion": "gateway.networking.k8s.io/v1", "kind": "HTTPRoute",
            "metadata": {"name": "r", "namespace": "n", "resourceVersion": "7", "managedFields": [{"manager": "x"}]},
            "spec": {"rules": [{"backendRefs": [{"group": "inference.networking.x-k8s.io", "kind": "InferencePool", "name": "p"}]}]},
            "status": {"parents": []}});
        let mut after = before.clone();
        after["spec"]["rules"][0]["backendRefs"][0]["group"] = json!("inference.networking.k8s.io");
        after["metadata"]["resourceVersion"] = json!("8");
        let d = unified(Some(&before), Some(&after), "HTTPRoute n/r");
        assert!(d.contains("-  - backendRefs:") || d.contains("-    - group: inference.networking.x-k8s.io"), "{d}");
        assert!(d.contains("+    - group: inference.networking.k8s.io"), "{d}");
        assert!(!d.contains("resourceVersion") && !d.contains("managedFields") && !d.contains("status"), "{d}");
        assert_eq!(unified(Some(&before), Some(&before), "x"), "");
        assert!(unified(Some(&before), None, "x").contains("+++ /dev/null"));
    }
}
