//! The install plan: what applying the bundles would do to each CRD, computed purely from what is
//! installed and what the bundles hold, with the refusals that keep an upgrade from failing halfway
//! or losing data. No I/O here.

use super::source::Bundle;
use crate::catalog::BundleKind;
use crate::catalog::{self, annotations, SAFE_UPGRADES_POLICY};
use crate::model::CrdView;
use serde::Serialize;
use serde_json::Value;
use std::collections::BTreeMap;

/// What happens to one object.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(tag = "type", rename_all = "camelCase")]
pub enum Action {
    /// Not installed: created.
    Create,
    /// Installed at `from`, upgraded to `to`.
    Upgrade { from: String, to: String },
    /// Same bundle version, different content (a branch or commit moved on): re-applied.
    Update { version: String },
    /// Already exactly as the bundle has it: not touched.
    Unchanged,
    /// The bundle is older than what is installed: refused.
    Downgrade { from: String, to: String },
    /// Installed, but the new bundle no longer has it: deleted (only when it holds no objects).
    Remove { objects: usize },
}

/// Why an item may not be applied, and what to do instead.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Refusal {
    pub reason: String,
    pub way_out: String,
}

/// One object of the plan.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PlanItem {
    pub bundle: BundleKind,
    pub kind: String,
    pub name: String,
    pub action: Action,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refusal: Option<Refusal>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub warnings: Vec<String>,
    /// The object to apply (None for removals).
    #[serde(skip)]
    pub object: Option<Value>,
}

impl PlanItem {
    /// True when applying this item writes something.
    pub fn writes(&self) -> bool {
        !matches!(self.action, Action::Unchanged | Action::Downgrade { .. })
    }
}

/// The whole plan.
#[derive(Debug, Clone, Default, Serialize)]
pub struct Plan {
    pub items: Vec<PlanItem>,
}

impl Plan {
    /// Items refused (nothing may be written while any is).
    pub fn refusals(&self) -> impl Iterator<Item = &PlanItem> {
        self.items.iter().filter(|i| i.refusal.is_some())
    }

    /// True when nothing would be written.
    pub fn is_noop(&self) -> bool {
        !self.items.iter().any(PlanItem::writes)
    }
}

/// What the planner needs to know about the cluster besides the installed objects.
#[derive(Debug, Clone, Default)]
pub struct ClusterFacts {
    /// The safe-upgrades ValidatingAdmissionPolicy is installed.
    pub safe_upgrades_policy: bool,
    /// The server's gitVersion, when known (the API server's refusal texts depend on it).
    pub server_version: Option<String>,
    /// Number of objects of each CRD (by name) that the plan would remove.
    pub object_counts: BTreeMap<String, usize>,
}

const CRD_KIND: &str = "CustomResourceDefinition";

fn str_at<'a>(v: &'a Value, ptr: &str) -> Option<&'a str> {
    v.pointer(ptr).and_then(Value::as_str)
}

fn kind_of(v: &Value) -> &str {
    str_at(v, "/kind").unwrap_or("")
}

fn name_of(v: &Value) -> &str {
    str_at(v, "/metadata/name").unwrap_or("")
}

fn bundle_key(kind: BundleKind) -> &'static str {
    match kind {
        BundleKind::GatewayApi => annotations::GATEWAY_BUNDLE,
        BundleKind::Gaie => annotations::INFERENCE_BUNDLE,
    }
}

fn annotation<'a>(v: &'a Value, key: &str) -> Option<&'a str> {
    v.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str)
}

/// The CRDs installed in a bundle's groups that the bundle does not hold (candidates for removal).
/// Only GAIE bundles remove CRDs (Gateway API standard releases only add kinds).
pub fn removed_crds(installed: &[Value], bundles: &[Bundle]) -> Vec<String> {
    let mut out = Vec::new();
    for b in bundles.iter().filter(|b| b.kind == BundleKind::Gaie) {
        for crd in installed.iter().filter(|o| kind_of(o) == CRD_KIND) {
            let group = str_at(crd, "/spec/group").unwrap_or("");
            if BundleKind::of_group(group) != Some(b.kind) {
                continue;
            }
            let name = name_of(crd);
            if !b.objects.iter().any(|o| kind_of(o) == CRD_KIND && name_of(o) == name) {
                out.push(name.to_string());
            }
        }
    }
    out
}

/// Compute the plan for applying `bundles` over `installed` (CRDs and the bundles' other objects
/// as they are in the cluster).
pub fn plan(installed: &[Value], bundles: &[Bundle], facts: &ClusterFacts) -> Plan {
    let mut items = Vec::new();
    for b in bundles {
        for obj in &b.objects {
            let kind = kind_of(obj).to_string();
            let name = name_of(obj).to_string();
            let current = installed.iter().find(|o| kind_of(o) == kind && name_of(o) == name);
            let item = if kind == CRD_KIND {
                plan_crd(b, obj, current, facts)
            } else {
                let action = match current {
                    None => Action::Create,
                    Some(cur) if contains(cur, obj, true) => Action::Unchanged,
                    Some(_) => Action::Update { version: b.git_ref.clone() },
                };
                PlanItem {
                    bundle: b.kind,
                    kind,
                    name,
                    action,
                    refusal: None,
                    warnings: vec![],
                    object: Some(obj.clone()),
                }
            };
            items.push(item);
        }
    }
    for name in removed_crds(installed, bundles) {
        let objects = facts.object_counts.get(&name).copied().unwrap_or(0);
        let kind_name = installed
            .iter()
            .find(|o| name_of(o) == name)
            .and_then(|o| str_at(o, "/spec/names/kind"))
            .unwrap_or("object")
            .to_string();
        let to = bundles.iter().find(|b| b.kind == BundleKind::Gaie).map_or(String::new(), |b| b.git_ref.clone());
        let refusal = (objects > 0).then(|| Refusal {
            reason: format!(
                "GAIE {to} no longer has {name}, and {objects} {kind_name} object(s) still use it: upgrading would delete them"
            ),
            way_out: if name == "inferencepools.inference.networking.x-k8s.io" {
                "convert the alpha pools to inference.networking.k8s.io/v1 first (kubectl llmd doctor --fix=LLMD-POOL-001), delete them, then rerun".to_string()
            } else {
                format!("move or delete them first (kubectl get {name} -A), then rerun")
            },
        });
        items.push(PlanItem {
            bundle: BundleKind::Gaie,
            kind: CRD_KIND.into(),
            name,
            action: Action::Remove { objects },
            refusal,
            warnings: vec![],
            object: None,
        });
    }
    Plan { items }
}

fn plan_crd(b: &Bundle, desired: &Value, current: Option<&Value>, facts: &ClusterFacts) -> PlanItem {
    let name = name_of(desired).to_string();
    let key = bundle_key(b.kind);
    let to = annotation(desired, key).unwrap_or(&b.git_ref).to_string();
    let mut item = PlanItem {
        bundle: b.kind,
        kind: CRD_KIND.into(),
        name: name.clone(),
        action: Action::Create,
        refusal: None,
        warnings: vec![],
        object: Some(desired.clone()),
    };
    let gateway = b.kind == BundleKind::GatewayApi;
    let desired_channel = annotation(desired, annotations::GATEWAY_CHANNEL);

    let Some(current) = current else {
        if gateway && facts.safe_upgrades_policy && policy_refuses_version(&to) {
            item.refusal = Some(policy_refusal_old(&to));
        }
        return item;
    };
    let from = annotation(current, key).map(str::to_string);
    let from_label = from.clone().unwrap_or_else(|| "an unversioned bundle".into());
    let (from_v, to_v) = (from.as_deref().and_then(catalog::parse_version), catalog::parse_version(&to));
    item.action = match (&from_v, &to_v) {
        (Some(f), Some(t)) if (t.major, t.minor, t.patch) < (f.major, f.minor, f.patch) => {
            Action::Downgrade { from: from_label.clone(), to: to.clone() }
        }
        _ if contains(current, desired, true) => Action::Unchanged,
        _ if from.as_deref() == Some(to.as_str()) => Action::Update { version: to.clone() },
        _ => Action::Upgrade { from: from_label.clone(), to: to.clone() },
    };
    if let Action::Downgrade { .. } = item.action {
        item.refusal = Some(Refusal {
            reason: format!("{name} is at {from_label}, newer than {to}: CRDs are never downgraded in place"),
            way_out: format!(
                "keep {from_label} (rerun with the newer version), or remove the CRDs first with `kubectl llmd gateway uninstall --crds-only` (deletes every object of these kinds) and install {to}"
            ),
        });
        return item;
    }
    if item.action == Action::Unchanged {
        return item;
    }

    // Channel change.
    let current_channel = annotation(current, annotations::GATEWAY_CHANNEL);
    if gateway {
        if let (Some(cur), Some(new)) = (current_channel, desired_channel) {
            if cur != new {
                item.refusal = Some(Refusal {
                    reason: format!("{name} is installed from the {cur} channel; the bundle is {new}: changing channels in place drops or adds fields the objects rely on"),
                    way_out: format!(
                        "install the {cur} channel of {to} from files (--crds-from), or remove the CRDs first with `kubectl llmd gateway uninstall --crds-only` and reinstall"
                    ),
                });
                return item;
            }
        }
    }

    // The safe-upgrades policy judges every write to a gateway.networking.k8s.io CRD.
    if gateway && facts.safe_upgrades_policy {
        if policy_refuses_version(&to) {
            item.refusal = Some(policy_refusal_old(&to));
            return item;
        }
        if desired_channel != Some("standard") && current_channel != Some("experimental") {
            item.refusal = Some(Refusal {
                reason: format!(
                    "ValidatingAdmissionPolicy {SAFE_UPGRADES_POLICY} would deny it: \"Installing experimental CRDs on top of standard channel CRDs is prohibited by default.\""
                ),
                way_out: format!(
                    "remove the policy first if you mean to: kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy {SAFE_UPGRADES_POLICY}"
                ),
            });
            return item;
        }
    }

    // storedVersions the new CRD no longer defines make the API server refuse the update. An
    // installed CRD whose shape cannot be read leaves that unknown: refuse rather than guess.
    let view: CrdView = match crate::model::read_view(current) {
        Ok(v) => v,
        Err(e) => {
            item.refusal = Some(Refusal {
                reason: format!("the installed CRD {name} cannot be read ({e}), so whether its status.storedVersions allow the update is unknown"),
                way_out: format!("inspect it with kubectl get crd {name} -o yaml, then rerun"),
            });
            return item;
        }
    };
    let desired_versions: Vec<(String, bool, bool)> = desired
        .pointer("/spec/versions")
        .and_then(Value::as_array)
        .map(|a| {
            a.iter()
                .map(|v| {
                    (
                        str_at(v, "/name").unwrap_or("").to_string(),
                        v.get("served").and_then(Value::as_bool).unwrap_or(false),
                        v.get("storage").and_then(Value::as_bool).unwrap_or(false),
                    )
                })
                .collect()
        })
        .unwrap_or_default();
    let desired_storage = desired_versions.iter().find(|v| v.2).map_or("", |v| v.0.as_str());
    let stored = &view.status.stored_versions;
    let missing: Vec<&str> =
        stored.iter().filter(|s| !desired_versions.iter().any(|d| &d.0 == *s)).map(String::as_str).collect();
    if let Some(first) = missing.first() {
        let index = stored.iter().position(|s| s == first).unwrap_or(0);
        let way_out = if view.storage_version() == Some(desired_storage) {
            format!(
                "migrate the stored objects first: kubectl llmd doctor --fix=LLMD-CRD-009 (rewrites every {} at {desired_storage}, then sets status.storedVersions of {name} to [{desired_storage}]), then rerun",
                view.spec.names.kind
            )
        } else {
            format!(
                "step through a release that stores {desired_storage} and still has {}: install it, run kubectl llmd doctor --fix=LLMD-CRD-009, then rerun",
                missing.join(", ")
            )
        };
        item.refusal = Some(Refusal {
            reason: format!(
                "status.storedVersions of {name} holds {}, which {} {to} no longer has: the API server would refuse the update ({})",
                missing.join(", "),
                b.kind.label(),
                crate::catalog::stored_version_refusal(facts.server_version.as_deref(), index, first)
            ),
            way_out,
        });
        return item;
    }
    for s in stored {
        if desired_versions.iter().any(|d| &d.0 == s && !d.1) && s != desired_storage {
            item.warnings.push(format!(
                "objects stored at {s} are no longer served by {to}; migrate them (kubectl llmd doctor --fix=LLMD-CRD-009) before a release drops {s}"
            ));
        }
    }
    item
}

/// The policy denies bundle versions v0.x and v1.0–v1.4 (and unannotated CRDs).
fn policy_refuses_version(version: &str) -> bool {
    match catalog::parse_version(version) {
        Some(v) => v.major == 0 || (v.major == 1 && v.minor <= 4),
        None => false,
    }
}

fn policy_refusal_old(to: &str) -> Refusal {
    Refusal {
        reason: format!(
            "ValidatingAdmissionPolicy {SAFE_UPGRADES_POLICY} would deny Gateway API {to}: \"Installing CRDs with version before v1.5.0 is prohibited by default.\""
        ),
        way_out: format!(
            "install v1.5.0 or newer (--gateway-api-version v1.5.1), or remove the policy first: kubectl delete validatingadmissionpolicybinding,validatingadmissionpolicy {SAFE_UPGRADES_POLICY}"
        ),
    }
}

/// True when every field the bundle sets (spec, labels, annotations; for non-CRDs the whole object
/// but metadata) has the same value in `installed`. Fields the server defaults are ignored.
pub fn contains(installed: &Value, desired: &Value, top: bool) -> bool {
    if !top {
        return subset(installed, desired);
    }
    let Some(d) = desired.as_object() else { return false };
    for (k, v) in d {
        match k.as_str() {
            "apiVersion" | "kind" | "status" => {}
            "metadata" => {
                for field in ["labels", "annotations"] {
                    if let Some(want) = v.get(field) {
                        let have = installed.pointer(&format!("/metadata/{field}")).cloned().unwrap_or(Value::Null);
                        if !subset(&have, want) {
                            return false;
                        }
                    }
                }
            }
            _ => {
                if !subset(installed.get(k).unwrap_or(&Value::Null), v) {
                    return false;
                }
            }
        }
    }
    true
}

fn subset(have: &Value, want: &Value) -> bool {
    match (have, want) {
        (Value::Object(h), Value::Object(w)) => w.iter().all(|(k, wv)| match h.get(k) {
            Some(hv) => subset(hv, wv),
            // An empty or null value the server omits.
            None => {
                wv.is_null()
                    || wv.as_object().is_some_and(|m| m.is_empty())
                    || wv.as_array().is_some_and(|a| a.is_empty())
            }
        }),
        (Value::Array(h), Value::Array(w)) => h.len() == w.len() && h.iter().zip(w).all(|(a, b)| subset(a, b)),
        (Value::Number(h), Value::Number(w)) => h.as_f64() == w.as_f64(),
        _ => have == want,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn crd(name: &str, group: &str, bundle: &str, versions: &[(&str, bool, bool)], stored: &[&str]) -> Value {
        let key =
            if group.starts_with("gateway") { annotations::GATEWAY_BUNDLE } else { annotations::INFERENCE_BUNDLE };
        let mut annotations = json!({ key: bundle });
        if group.starts_with("gateway") {
            annotations[annotations::GATEWAY_CHANNEL] = json!("standard");
        }
        json!({
            "apiVersion": "apiextensions.k8s.io/v1",
            "kind": "CustomResourceDefinition",
            "metadata": {"name": name, "annotations": annotations},
            "spec": {
                "group": group,
                "names": {"kind": "Thing", "plural": name.split('.').next().unwrap()},
                "scope": "Namespaced",
                "versions": versions.iter().map(|(n, served, storage)| json!({"name": n, "served": served, "storage": storage})).collect::<Vec<_>>()
            },
            "status": {"storedVersions": stored}
        })
    }

    fn bundle(kind: BundleKind, git_ref: &str, objects: Vec<Value>) -> Bundle {
        Bundle { kind, git_ref: git_ref.into(), objects, origin: vec![] }
    }

    const GC: &str = "gatewayclasses.gateway.networking.k8s.io";
    const GW: &str = "gateway.networking.k8s.io";

    fn actions(p: &Plan) -> Vec<(String, Action, bool)> {
        p.items.iter().map(|i| (i.name.clone(), i.action.clone(), i.refusal.is_some())).collect()
    }

    #[test]
    fn fresh_install_creates_everything() {
        let b = bundle(BundleKind::GatewayApi, "v1.3.0", vec![crd(GC, GW, "v1.3.0", &[("v1", true, true)], &[])]);
        let p = plan(&[], &[b], &ClusterFacts::default());
        assert_eq!(actions(&p), vec![(GC.to_string(), Action::Create, false)]);
        assert!(!p.is_noop());
    }

    #[test]
    fn same_content_is_unchanged_even_with_server_defaults() {
        let desired = crd(GC, GW, "v1.3.0", &[("v1", true, true)], &[]);
        let mut installed = desired.clone();
        installed["spec"]["conversion"] = json!({"strategy": "None"});
        installed["metadata"]["resourceVersion"] = json!("42");
        installed["status"] = json!({"storedVersions": ["v1"], "conditions": []});
        let b = bundle(BundleKind::GatewayApi, "v1.3.0", vec![desired]);
        let p = plan(&[installed], &[b], &ClusterFacts::default());
        assert_eq!(p.items[0].action, Action::Unchanged);
        assert!(p.is_noop());
    }

    #[test]
    fn upgrade_and_downgrade_by_bundle_version() {
        let installed = crd(GC, GW, "v1.3.0", &[("v1", true, true), ("v1beta1", true, false)], &["v1"]);
        let newer = bundle(BundleKind::GatewayApi, "v1.5.1", vec![crd(GC, GW, "v1.5.1", &[("v1", true, true)], &[])]);
        let p = plan(std::slice::from_ref(&installed), &[newer], &ClusterFacts::default());
        assert_eq!(p.items[0].action, Action::Upgrade { from: "v1.3.0".into(), to: "v1.5.1".into() });
        assert!(p.items[0].refusal.is_none());

        let older = bundle(BundleKind::GatewayApi, "v1.2.0", vec![crd(GC, GW, "v1.2.0", &[("v1", true, true)], &[])]);
        let p = plan(&[installed], &[older], &ClusterFacts::default());
        assert!(matches!(p.items[0].action, Action::Downgrade { .. }));
        assert!(p.items[0].refusal.as_ref().unwrap().reason.contains("never downgraded"));
        assert!(!p.items[0].writes());
    }

    #[test]
    fn stored_version_missing_from_the_new_bundle_is_refused_with_the_migration() {
        let name = "grpcroutes.gateway.networking.k8s.io";
        let installed = crd(name, GW, "v1.1.0", &[("v1", true, true), ("v1alpha2", false, false)], &["v1alpha2", "v1"]);
        let b = bundle(BundleKind::GatewayApi, "v1.3.0", vec![crd(name, GW, "v1.3.0", &[("v1", true, true)], &[])]);
        let p = plan(&[installed], &[b], &ClusterFacts::default());
        let r = p.items[0].refusal.as_ref().expect("refused");
        assert!(r.reason.contains("storedVersions[0]: Invalid value: \"v1alpha2\""), "{}", r.reason);
        assert!(r.way_out.contains("kubectl llmd doctor --fix=LLMD-CRD-009"), "{}", r.way_out);
    }

    #[test]
    fn an_installed_crd_that_cannot_be_read_is_refused_not_guessed() {
        let name = "grpcroutes.gateway.networking.k8s.io";
        let mut installed = crd(name, GW, "v1.1.0", &[("v1", true, true)], &["v1"]);
        installed["status"]["storedVersions"] = serde_json::json!("v1");
        let b = bundle(BundleKind::GatewayApi, "v1.3.0", vec![crd(name, GW, "v1.3.0", &[("v1", true, true)], &[])]);
        let p = plan(&[installed], &[b], &ClusterFacts::default());
        let r = p.items[0].refusal.as_ref().expect("refused");
        assert!(
            r.reason.contains(&format!("the installed CRD {name} cannot be read (status.storedVersions:")),
            "{}",
            r.reason
        );
        assert!(r.way_out.contains(&format!("kubectl get crd {name} -o yaml")), "{}", r.way_out);
    }

    #[test]
    fn safe_upgrades_policy_and_channel_change_refuse() {
        let facts = ClusterFacts { safe_upgrades_policy: true, ..Default::default() };
        let b = bundle(BundleKind::GatewayApi, "v1.3.0", vec![crd(GC, GW, "v1.3.0", &[("v1", true, true)], &[])]);
        let p = plan(&[], &[b], &facts);
        assert!(p.items[0].refusal.as_ref().unwrap().reason.contains("before v1.5.0"));

        let mut installed = crd(GC, GW, "v1.5.1", &[("v1", true, true)], &["v1"]);
        installed["metadata"]["annotations"][annotations::GATEWAY_CHANNEL] = json!("experimental");
        let b = bundle(BundleKind::GatewayApi, "v1.6.0", vec![crd(GC, GW, "v1.6.0", &[("v1", true, true)], &[])]);
        let p = plan(&[installed], &[b], &ClusterFacts::default());
        assert!(p.items[0].refusal.as_ref().unwrap().reason.contains("experimental channel"));
    }

    #[test]
    fn gaie_upgrade_removing_a_crd_counts_its_objects() {
        let x = "inferencepools.inference.networking.x-k8s.io";
        let v1 = "inferencepools.inference.networking.k8s.io";
        let installed = vec![
            crd(x, "inference.networking.x-k8s.io", "v1.0.1", &[("v1alpha2", true, true)], &["v1alpha2"]),
            crd(v1, "inference.networking.k8s.io", "v1.0.1", &[("v1", true, true)], &["v1"]),
        ];
        let b = bundle(
            BundleKind::Gaie,
            "v1.5.0",
            vec![crd(v1, "inference.networking.k8s.io", "v1.5.0", &[("v1", true, true)], &[])],
        );
        assert_eq!(removed_crds(&installed, std::slice::from_ref(&b)), vec![x.to_string()]);
        let facts = ClusterFacts { object_counts: [(x.to_string(), 2)].into(), ..Default::default() };
        let p = plan(&installed, std::slice::from_ref(&b), &facts);
        let removal = p.items.iter().find(|i| i.name == x).unwrap();
        assert_eq!(removal.action, Action::Remove { objects: 2 });
        assert!(removal.refusal.as_ref().unwrap().reason.contains("2 Thing object(s)"));
        let p = plan(&installed, &[b], &ClusterFacts::default());
        assert!(p.refusals().next().is_none());
    }

    #[test]
    fn non_crd_objects_are_compared_whole() {
        let vap = json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy",
            "metadata": {"name": SAFE_UPGRADES_POLICY}, "spec": {"failurePolicy": "Fail"}});
        let b = bundle(BundleKind::GatewayApi, "v1.5.1", vec![vap.clone()]);
        assert_eq!(plan(&[], std::slice::from_ref(&b), &ClusterFacts::default()).items[0].action, Action::Create);
        assert_eq!(plan(&[vap], &[b], &ClusterFacts::default()).items[0].action, Action::Unchanged);
    }
}
