//! The I/O half of `doctor --fix`: read each planned object live, compute and show its diff, check
//! permissions (SelfSubjectAccessReview) before anything is written, validate with a server-side
//! dry run, then write with server-side apply (field manager `kubectl-llmd`), delete, migrate, or
//! install CRD bundles through `gateway install`'s code path (`crate::install::crds`).

use super::controller::{self, HelmChange};
use super::{diff, migrate, Plan};
use crate::catalog::providers::ProviderId;
use crate::catalog::BundleKind;
use crate::catalog::Profile;
use crate::cluster::write::{self, FIELD_MANAGER};
use crate::cluster::{Class, Connection};
use crate::error::{Failure, Result};
use crate::install::crds::{self, CrdPlan};
use crate::install::helm::Helm;
use crate::install::plan::ClusterFacts;
use crate::install::source::CrdSource;
use crate::repair::{apply_ops, merge_union, touched_fields, Change, Repair};
use kube::api::{Api, ApiResource, DynamicObject};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::time::Duration;

/// How long a bundle download, and the wait for installed CRDs to be Established, may take.
const CRD_TIMEOUT: Duration = Duration::from_secs(120);

/// What `prepare` needs besides the connection and the plan.
#[derive(Debug, Clone)]
pub struct Inputs {
    /// Where CRD bundles come from (`--crds-from`, `--crds-base-url` / LLMD_CRDS_BASE_URL, upstream).
    pub crd_source: CrdSource,
    /// What the CRD planner needs to know of the cluster (from doctor's snapshot).
    pub cluster_facts: ClusterFacts,
    /// helm for controller repairs (`--helm`, else PATH; None: not found).
    pub helm: Option<Helm>,
    /// `--chart-source DIR`: charts from DIR/<chart name>.
    pub chart_source: Option<std::path::PathBuf>,
    /// `--provider`: the control plane LLMD-GWC-001 may install.
    pub provider: Option<ProviderId>,
    /// The profile (control-plane versions).
    pub profile: Profile,
}

/// One permission a change needs (the write layer's permission).
pub use crate::cluster::write::Permission as Access;

/// A change after reading the cluster: what it writes, and whether it can.
pub struct Prepared {
    pub change: Change,
    pub resource: Option<(ApiResource, bool)>,
    /// The live object (None: absent).
    pub before: Option<Value>,
    /// The server-side apply body (edits and creates).
    pub patch: Option<Value>,
    /// The object as the dry run returned it (None for a delete).
    pub after: Option<Value>,
    /// The migration, for storedVersions repairs.
    pub migration: Option<migrate::MigrationPlan>,
    /// The install plan, for CRD bundle repairs.
    pub crds: Option<CrdPlan>,
    /// The helm commands and values, for controller repairs.
    pub helm: Option<HelmChange>,
    /// The server-side dry run accepted every write of the install plan.
    pub validated: bool,
    /// Why it cannot be applied (shown instead of applying).
    pub refused: Option<String>,
    /// Nothing to do: the object is already as the repair wants it.
    pub noop: bool,
    pub needs: Vec<Access>,
}

impl Prepared {
    fn new(change: Change) -> Self {
        Prepared {
            change,
            resource: None,
            before: None,
            patch: None,
            after: None,
            migration: None,
            crds: None,
            helm: None,
            validated: false,
            refused: None,
            noop: false,
            needs: Vec::new(),
        }
    }

    /// True when it will be written.
    pub fn writable(&self) -> bool {
        !self.noop && self.refused.is_none()
    }

    fn api(&self, conn: &Connection) -> Option<Api<DynamicObject>> {
        let resolved = self.resource.as_ref()?;
        Some(write::api(conn, resolved, &self.change.repair.target().namespace))
    }

    /// The diff (or the migration's description) as the plan shows it.
    pub fn render(&self) -> String {
        let mut out = format!("── {}\n", self.change.title());
        if let Some(plan) = &self.crds {
            for b in &plan.bundles {
                out.push_str(&format!(
                    "   {} {}: {} object(s) from {}\n",
                    b.kind.label(),
                    b.git_ref,
                    b.objects.len(),
                    crds::origin_summary(&b.origin)
                ));
            }
            for line in plan.render().lines() {
                out.push_str(&format!("   {line}\n"));
            }
            if self.validated {
                out.push_str(&format!(
                    "   server-side dry run: the API server accepted all {} write(s)\n",
                    plan.writes().count()
                ));
            }
        }
        if let Some(h) = &self.helm {
            out.push_str(&h.render());
            if self.validated {
                out.push_str("   helm's dry run (--dry-run=server) rendered the release\n");
            }
        }
        if let Some(why) = &self.refused {
            out.push_str(&format!("   refused: {why}\n"));
            return out;
        }
        if self.crds.is_some() || self.helm.is_some() {
            return out;
        }
        if let Some(m) = &self.migration {
            out.push_str(&format!("   {}\n", m.describe()));
            return out;
        }
        let label = self.change.repair.target().to_string();
        let after = match self.change.repair {
            Repair::Delete { .. } => None,
            _ => self.after.as_ref(),
        };
        out.push_str(&diff::unified(self.before.as_ref(), after, &label));
        out
    }
}

/// Fields of the object this field manager already owns through apply (`/spec/<field>`…):
/// they stay in every later apply body, or the server would remove them.
fn owned_fields(object: &Value) -> BTreeSet<String> {
    let mut out = BTreeSet::new();
    for entry in object.pointer("/metadata/managedFields").and_then(Value::as_array).into_iter().flatten() {
        let ours = entry["manager"] == FIELD_MANAGER
            && entry["operation"] == "Apply"
            && entry.get("subresource").and_then(Value::as_str).unwrap_or("").is_empty();
        if !ours {
            continue;
        }
        for (top, inner) in entry["fieldsV1"].as_object().into_iter().flatten() {
            let Some(top) = top.strip_prefix("f:") else { continue };
            if top == "metadata" {
                continue;
            }
            for key in inner.as_object().into_iter().flat_map(|m| m.keys()) {
                if let Some(k) = key.strip_prefix("f:") {
                    out.insert(format!("/{top}/{}", k.replace('~', "~0").replace('/', "~1")));
                }
            }
        }
    }
    out
}

/// The apply body: identity plus the given fields of `object`, copied whole.
pub fn apply_body(object: &Value, ar: &ApiResource, namespaced: bool, fields: &BTreeSet<String>) -> Value {
    let mut meta = json!({"name": object.pointer("/metadata/name").cloned().unwrap_or(Value::Null)});
    if namespaced {
        meta["namespace"] = object.pointer("/metadata/namespace").cloned().unwrap_or(Value::Null);
    }
    let mut body = json!({"apiVersion": ar.api_version, "kind": ar.kind, "metadata": meta});
    for path in fields {
        let Some(value) = object.pointer(path) else { continue };
        let parts: Vec<String> =
            path.trim_start_matches('/').split('/').map(|t| t.replace("~1", "/").replace("~0", "~")).collect();
        let mut cur = &mut body;
        for (i, p) in parts.iter().enumerate() {
            if i + 1 == parts.len() {
                cur[p.as_str()] = value.clone();
            } else {
                if !cur[p.as_str()].is_object() {
                    cur[p.as_str()] = json!({});
                }
                cur = &mut cur[p.as_str()];
            }
        }
    }
    body
}

/// Read everything a plan needs and compute each change's apply body (no write, no dry run yet).
pub async fn prepare(conn: &Connection, plan: &Plan, inputs: &Inputs) -> Vec<Prepared> {
    let mut out = Vec::new();
    for change in &plan.changes {
        let mut p = Prepared::new(change.clone());
        match &change.repair {
            Repair::InstallCrds { bundles } => prepare_install(conn, inputs, bundles, &mut p).await,
            Repair::HelmUpgrade(u) => controller::prepare_upgrade(inputs, u, &mut p).await,
            Repair::InstallControlPlane { choices } => controller::prepare_install(inputs, choices, &mut p).await,
            _ => prepare_one(conn, &mut p).await,
        }
        out.push(p);
    }
    out
}

pub(super) fn failure_text(f: &Failure) -> String {
    match f.hint.as_deref().filter(|h| !h.is_empty()) {
        Some(hint) => format!("{} (hint: {hint})", f.message),
        None => f.message.clone(),
    }
}

fn crd_access(verb: &str) -> Access {
    access(verb, "apiextensions.k8s.io", "customresourcedefinitions", "", "")
}

/// Read the bundles the findings need and plan them over the cluster, as `gateway install` does.
async fn prepare_install(conn: &Connection, inputs: &Inputs, wanted: &[(BundleKind, String)], p: &mut Prepared) {
    let loaded = match crds::load_bundles(&inputs.crd_source, wanted, CRD_TIMEOUT).await {
        Ok(b) => b,
        Err(f) => {
            p.refused = Some(failure_text(&f));
            return;
        }
    };
    // Files may hold both bundles: install only those the findings need.
    let bundles: Vec<_> = loaded.into_iter().filter(|b| wanted.iter().any(|(k, _)| *k == b.kind)).collect();
    if let Some((missing, _)) = wanted.iter().find(|(k, _)| !bundles.iter().any(|b| b.kind == *k)) {
        let from = match &inputs.crd_source {
            CrdSource::Files(path) => path.display().to_string(),
            CrdSource::Upstream { .. } => "the source".into(),
        };
        p.refused = Some(format!("{from} holds no {} CRDs; add them to --crds-from", missing.label()));
        return;
    }
    let plan = match crds::plan_crds(conn, bundles, inputs.cluster_facts.clone()).await {
        Ok(plan) => plan,
        Err(f) => {
            // Reading CRDs may be what the user lacks: the permission check then names it.
            p.needs = vec![crd_access("list"), crd_access("create"), crd_access("patch")];
            p.refused = Some(failure_text(&f));
            return;
        }
    };
    let refusals: Vec<&str> =
        plan.plan.refusals().filter_map(|i| i.refusal.as_ref()).map(|r| r.reason.as_str()).collect();
    if let Some(first) = refusals.first() {
        p.refused = Some(format!(
            "the CRD plan refuses {} object(s), so nothing of it is applied: {first}{}",
            refusals.len(),
            if refusals.len() > 1 { " (and more: see each refused line above)" } else { "" }
        ));
    } else if plan.plan.is_noop() {
        p.noop = true;
    }
    if p.writable() {
        p.needs = plan.permissions();
    }
    p.crds = Some(plan);
}

async fn prepare_one(conn: &Connection, p: &mut Prepared) {
    if let Repair::MigrateStoredVersions { crd } = &p.change.repair {
        match migrate::inspect(&conn.client, crd).await {
            Ok(m) => {
                p.noop = m.done();
                let (group, plural) = match crd.split_once('.') {
                    Some((plural, group)) => (group.to_string(), plural.to_string()),
                    None => (String::new(), crd.clone()),
                };
                p.needs = vec![
                    access("list", &group, &plural, "", ""),
                    access("update", &group, &plural, "", ""),
                    access("update", "apiextensions.k8s.io", "customresourcedefinitions", "status", ""),
                ];
                p.migration = Some(m);
            }
            Err(e) => p.refused = Some(e),
        }
        return;
    }
    let target = p.change.repair.target();
    let Ok(Some((ar, namespaced))) = write::resolve_preferred(conn, &target.group, &target.kind).await else {
        let group = if target.group.is_empty() { "core".to_string() } else { target.group.clone() };
        p.refused =
            Some(format!("the cluster does not serve {} in API group {group} (is its CRD installed?)", target.kind));
        return;
    };
    p.resource = Some((ar.clone(), namespaced));
    let ns = if namespaced { target.namespace.clone() } else { String::new() };
    let api = p.api(conn).expect("resource set");
    p.before = match write::get(conn, &api, &ar.kind, &target.name).await {
        Ok(o) => o,
        Err(e) if matches!(e.class(), Class::Forbidden { .. }) => {
            p.needs.push(access("get", &ar.group, &ar.plural, "", &ns));
            None
        }
        Err(e) => {
            p.refused = Some(format!("cannot read {target}: {}", e.api_message()));
            return;
        }
    };
    match &p.change.repair {
        Repair::Edit { ops, .. } => {
            let Some(before) = &p.before else {
                if p.needs.is_empty() {
                    p.refused = Some(format!("{target} does not exist any more"));
                }
                return;
            };
            let mut after = before.clone();
            if let Err(e) = apply_ops(&mut after, ops) {
                p.refused = Some(format!("{target} changed since it was diagnosed: {e}"));
                return;
            }
            if diff::strip(&after) == diff::strip(before) {
                p.noop = true;
                return;
            }
            let mut fields = touched_fields(ops);
            fields.extend(owned_fields(before));
            p.patch = Some(pinned(apply_body(&after, &ar, namespaced, &fields), before));
            p.needs.push(access("patch", &ar.group, &ar.plural, "", &ns));
        }
        Repair::Create { object } => match &p.before {
            None => {
                let mut body = object.clone();
                body["apiVersion"] = json!(ar.api_version);
                p.patch = Some(body);
                p.needs.push(access("create", &ar.group, &ar.plural, "", &ns));
                p.needs.push(access("patch", &ar.group, &ar.plural, "", &ns));
            }
            Some(before) => {
                // Merge into what is there: never drop a list entry somebody else wrote.
                let mut wanted = object.clone();
                if let Some(o) = wanted.as_object_mut() {
                    o.remove("apiVersion");
                    o.remove("kind");
                    o.remove("metadata");
                }
                let mut after = before.clone();
                merge_union(&mut after, &wanted);
                if diff::strip(&after) == diff::strip(before) {
                    p.noop = true;
                    return;
                }
                let mut fields: BTreeSet<String> = BTreeSet::new();
                for (top, inner) in wanted.as_object().into_iter().flatten() {
                    match inner.as_object() {
                        Some(m) => fields.extend(m.keys().map(|k| format!("/{top}/{k}"))),
                        None => {
                            fields.insert(format!("/{top}"));
                        }
                    }
                }
                fields.extend(owned_fields(before));
                p.patch = Some(pinned(apply_body(&after, &ar, namespaced, &fields), before));
                p.needs.push(access("patch", &ar.group, &ar.plural, "", &ns));
            }
        },
        Repair::Delete { .. } => {
            if p.before.is_none() && p.needs.is_empty() {
                p.noop = true;
                return;
            }
            p.needs.push(access("delete", &ar.group, &ar.plural, "", &ns));
        }
        Repair::MigrateStoredVersions { .. }
        | Repair::InstallCrds { .. }
        | Repair::HelmUpgrade(_)
        | Repair::InstallControlPlane { .. } => {}
    }
}

/// The apply body with the live object's resourceVersion as a precondition: an object changed
/// between the plan shown (and confirmed) and the write is refused with 409, never overwritten.
fn pinned(mut body: Value, before: &Value) -> Value {
    if let Some(rv) = before.pointer("/metadata/resourceVersion") {
        body["metadata"]["resourceVersion"] = rv.clone();
    }
    body
}

/// The refusal of a write whose precondition failed: the object changed after the plan was read.
fn changed_since_plan(target: &impl std::fmt::Display) -> String {
    format!("{target} changed after the plan was read, so nothing was written to it (a newer change is never overwritten); run --fix again to plan from its current state")
}

pub(super) fn access(verb: &str, group: &str, resource: &str, subresource: &str, namespace: &str) -> Access {
    Access::new(verb, group, resource, subresource, namespace)
}

/// Ask the API server (SelfSubjectAccessReview) for every permission the writable changes need;
/// the ones denied, sorted.
pub async fn missing_permissions(conn: &Connection, prepared: &[Prepared]) -> Result<Vec<Access>> {
    let needs: BTreeSet<Access> =
        prepared.iter().filter(|p| p.writable() || !p.needs.is_empty()).flat_map(|p| p.needs.clone()).collect();
    let needs: Vec<Access> = needs.into_iter().collect();
    Ok(write::missing_permissions(conn, &needs).await?)
}

/// Validate every writable change with a server-side dry run (helm's own for controller repairs);
/// the result is the "after" of the diff.
pub async fn dry_run(conn: &Connection, inputs: &Inputs, prepared: &mut [Prepared]) {
    for p in prepared.iter_mut().filter(|p| p.writable()) {
        if p.helm.is_some() {
            controller::dry_run(inputs, p).await;
            continue;
        }
        if let Some(plan) = &p.crds {
            match crds::write(conn, plan, true).await {
                Ok(()) => p.validated = true,
                Err(f) => p.refused = Some(format!("server-side dry run failed: {}", failure_text(&f))),
            }
            continue;
        }
        if let Some(m) = &p.migration {
            if let Err(e) = migrate::dry_run(&conn.client, m).await {
                p.refused = Some(e);
            }
            continue;
        }
        let Some(api) = p.api(conn) else { continue };
        let target = p.change.repair.target();
        let (name, what) = (target.name.clone(), target.to_string());
        match &p.change.repair {
            Repair::Delete { .. } => {
                if let Err(e) = write::delete(conn, &api, &name, true, &what).await {
                    p.refused = Some(format!("server-side dry run failed: {}", e.api_message()));
                }
            }
            _ => {
                let Some(body) = &p.patch else { continue };
                match write::apply(conn, &api, &name, body, true, &what).await {
                    Ok(after) => {
                        if p.before.as_ref().is_some_and(|b| diff::strip(b) == diff::strip(&after)) {
                            p.noop = true;
                        }
                        p.after = Some(after);
                    }
                    Err(e) => p.refused = Some(format!("server-side dry run failed: {}", e.api_message())),
                }
            }
        }
    }
}

/// The outcome of applying one change.
pub struct Applied {
    pub title: String,
    pub result: std::result::Result<String, String>,
}

/// Write every writable change, in plan order. Failures do not stop the others.
pub async fn apply(conn: &Connection, inputs: &Inputs, prepared: &[Prepared]) -> Vec<Applied> {
    let mut out = Vec::new();
    for p in prepared.iter().filter(|p| p.writable()) {
        let title = p.change.title();
        let target = p.change.repair.target();
        let result = if let Some(plan) = &p.crds {
            install(conn, plan, &title).await
        } else if let Some(change) = &p.helm {
            controller::apply(conn, inputs, change).await
        } else if let Some(m) = &p.migration {
            match migrate::run(&conn.client, &m.crd).await {
                Ok(o) => {
                    let gone = if o.gone > 0 { format!(" ({} deleted meanwhile)", o.gone) } else { String::new() };
                    Ok(format!(
                        "migrated {} {} object(s){gone} to {} in {:.2}s; status.storedVersions of {} is [{}]",
                        o.rewritten,
                        m.kind,
                        m.storage,
                        o.elapsed.as_secs_f64(),
                        m.crd,
                        m.storage
                    ))
                }
                Err(e) => Err(e),
            }
        } else if let Some(api) = p.api(conn) {
            let what = target.to_string();
            match &p.change.repair {
                Repair::Delete { .. } => match match &p.before {
                    // Only the version the plan showed is deleted.
                    Some(before) => write::delete_unchanged(conn, &api, &target.name, before, &what).await,
                    None => write::delete(conn, &api, &target.name, false, &what).await,
                } {
                    Ok(true) => Ok(format!("deleted {target}")),
                    Ok(false) => Ok(format!("{target} was already gone")),
                    Err(e) if e.class() == Class::Conflict => Err(changed_since_plan(&target)),
                    Err(e) => Err(format!("cannot delete {target}: {}", e.api_message())),
                },
                _ => match &p.patch {
                    Some(body) => match match p.before {
                        // A create does not force conflicts: an object that appeared since the plan
                        // keeps the fields its own manager set (409, reported as a change since the plan).
                        None => write::apply_unforced(conn, &api, &target.name, body, &what).await,
                        Some(_) => write::apply(conn, &api, &target.name, body, false, &what).await,
                    } {
                        Ok(_) if p.before.is_none() => Ok(format!("created {target}")),
                        Ok(_) => Ok(format!("updated {target}")),
                        Err(e) if e.class() == Class::Conflict => Err(changed_since_plan(&target)),
                        Err(e) => Err(format!("cannot apply {target}: {}", e.api_message())),
                    },
                    None => continue,
                },
            }
        } else {
            continue;
        };
        out.push(Applied { title, result });
    }
    out
}

/// Apply an install plan and wait for its CRDs to be Established. `title`: the change's title
/// (the bundles' versions are repeated only when the files read carry other ones).
async fn install(conn: &Connection, plan: &CrdPlan, title: &str) -> std::result::Result<String, String> {
    use crate::install::plan::Action;
    crds::write(conn, plan, false).await.map_err(|f| failure_text(&f))?;
    let names = plan.established_names();
    let waited =
        crate::install::apply::wait_established(conn, &names, CRD_TIMEOUT).await.map_err(|f| failure_text(&f))?;
    let mut done = Vec::new();
    for (what, want) in [
        ("created", (|a: &Action| matches!(a, Action::Create)) as fn(&Action) -> bool),
        ("upgraded", |a| matches!(a, Action::Upgrade { .. })),
        ("updated", |a| matches!(a, Action::Update { .. })),
        ("removed", |a| matches!(a, Action::Remove { .. })),
    ] {
        let n = plan.writes().filter(|i| want(&i.action)).count();
        if n > 0 {
            done.push(format!("{n} {what}"));
        }
    }
    let label = plan.label();
    let which = if title.ends_with(&label) { String::new() } else { format!("{label}: ") };
    Ok(format!(
        "{which}{} object(s) {}; {} CRD(s) Established after {:.1}s",
        plan.writes().count(),
        done.join(", "),
        names.len(),
        waited.as_secs_f64()
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn ar(group: &str, version: &str, kind: &str, plural: &str) -> ApiResource {
        ApiResource {
            group: group.into(),
            version: version.into(),
            api_version: if group.is_empty() { version.into() } else { format!("{group}/{version}") },
            kind: kind.into(),
            plural: plural.into(),
        }
    }

    fn fields(paths: &[&str]) -> BTreeSet<String> {
        paths.iter().map(|p| p.to_string()).collect()
    }

    #[test]
    fn a_pinned_body_carries_the_planned_resource_version_and_nothing_else_of_the_live_metadata() {
        let live = json!({"metadata": {"name": "p", "resourceVersion": "42", "uid": "u", "labels": {"a": "b"}}});
        let body = json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "p"}, "data": {"k": "v"}});
        let pinned = pinned(body, &live);
        assert_eq!(pinned["metadata"], json!({"name": "p", "resourceVersion": "42"}));
        assert_eq!(pinned["data"], json!({"k": "v"}));
    }

    #[test]
    fn apply_body_holds_identity_and_only_the_named_fields_copied_whole() {
        let live = json!({
            "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
            "metadata": {"name": "qwen", "namespace": "llm", "resourceVersion": "7", "labels": {"a": "b"}},
            "spec": {"targetPorts": [{"number": 8000}], "selector": {"matchLabels": {"app": "qwen"}},
                     "endpointPickerRef": {"name": "qwen-epp", "port": {"number": 9002}}},
            "status": {"parents": []}
        });
        let pools = ar("inference.networking.k8s.io", "v1", "InferencePool", "inferencepools");
        let body = apply_body(&live, &pools, true, &fields(&["/spec/endpointPickerRef", "/spec/missing"]));
        assert_eq!(
            body,
            json!({
                "apiVersion": "inference.networking.k8s.io/v1", "kind": "InferencePool",
                "metadata": {"name": "qwen", "namespace": "llm"},
                "spec": {"endpointPickerRef": {"name": "qwen-epp", "port": {"number": 9002}}}
            }),
            "no status, no server fields, no other spec field, nothing for a field the object lacks"
        );
    }

    #[test]
    fn apply_body_of_a_cluster_scoped_object_has_no_namespace_and_unescapes_pointers() {
        let live = json!({
            "metadata": {"name": "gw", "namespace": "ignored", "annotations": {"a/b": "x", "c": "y"}},
            "spec": {"controllerName": "example.com/gateway"}
        });
        let classes = ar("gateway.networking.k8s.io", "v1", "GatewayClass", "gatewayclasses");
        let body = apply_body(&live, &classes, false, &fields(&["/metadata/annotations/a~1b", "/spec"]));
        assert_eq!(body["apiVersion"], "gateway.networking.k8s.io/v1");
        assert_eq!(body["kind"], "GatewayClass");
        assert_eq!(body["metadata"], json!({"name": "gw", "annotations": {"a/b": "x"}}));
        assert_eq!(body["spec"], json!({"controllerName": "example.com/gateway"}));
    }

    #[test]
    fn owned_fields_are_the_top_level_fields_of_our_own_apply_entries_only() {
        let obj = json!({"metadata": {"managedFields": [
            {"manager": FIELD_MANAGER, "operation": "Apply",
             "fieldsV1": {"f:metadata": {"f:labels": {}}, "f:spec": {"f:a": {}, "f:b/c": {}}}},
            {"manager": FIELD_MANAGER, "operation": "Apply", "subresource": "status",
             "fieldsV1": {"f:status": {"f:x": {}}}},
            {"manager": "kubectl", "operation": "Apply", "fieldsV1": {"f:spec": {"f:d": {}}}},
            {"manager": FIELD_MANAGER, "operation": "Update", "fieldsV1": {"f:spec": {"f:e": {}}}}
        ]}});
        assert_eq!(owned_fields(&obj), fields(&["/spec/a", "/spec/b~1c"]));
    }
}
