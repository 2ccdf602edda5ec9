//! The I/O half of `doctor --fix`: read each planned object live, compute and show its diff, check
//! permissions (SelfSubjectAccessReview) before anything is written, validate with a server-side
//! dry run, then write with server-side apply (field manager `kubectl-llmd`), delete, migrate, or
//! install CRD bundles through `gateway install`'s code path (`crate::install::crds`).

use super::controller::{self, HelmChange};
use super::{apply_ops, diff, merge_union, migrate, touched_fields, Change, Plan, Repair, FIELD_MANAGER};
use crate::catalog::providers::ProviderId;
use crate::catalog::Profile;
use crate::cluster::Connection;
use crate::error::{Failure, Result};
use crate::install::crds::{self, CrdPlan};
use crate::install::helm::Helm;
use crate::install::plan::ClusterFacts;
use crate::install::source::{BundleKind, CrdSource};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use kube::discovery::{self, ApiCapabilities, ApiGroup, Scope};
use serde_json::{json, Value};
use std::collections::{BTreeMap, BTreeSet};
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

/// One permission a change needs.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Access {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// "" for cluster-scoped objects or every namespace.
    pub namespace: String,
}

impl std::fmt::Display for Access {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let mut res = self.resource.clone();
        if !self.group.is_empty() {
            res = format!("{res}.{}", self.group);
        }
        if !self.subresource.is_empty() {
            res = format!("{res}/{}", self.subresource);
        }
        if self.namespace.is_empty() {
            write!(f, "{} {res}", self.verb)
        } else {
            write!(f, "{} {res} in namespace {}", self.verb, self.namespace)
        }
    }
}

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

    fn api(&self, client: &kube::Client) -> Option<Api<DynamicObject>> {
        let (ar, namespaced) = self.resource.as_ref()?;
        let target = self.change.repair.target();
        Some(if *namespaced {
            Api::namespaced_with(client.clone(), &target.namespace, ar)
        } else {
            Api::all_with(client.clone(), ar)
        })
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

fn api_message(e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => s.message.clone(),
        other => crate::error::root_cause(other),
    }
}

/// Discovery, cached per group.
#[derive(Default)]
struct Resolver {
    groups: BTreeMap<String, Option<ApiGroup>>,
}

impl Resolver {
    /// The resource serving `kind` in `group`, at the group's preferred version when it has the kind.
    async fn resolve(
        &mut self,
        client: &kube::Client,
        group: &str,
        kind: &str,
    ) -> Option<(ApiResource, ApiCapabilities)> {
        if !self.groups.contains_key(group) {
            let g = discovery::group(client, group).await.ok();
            self.groups.insert(group.to_string(), g);
        }
        let g = self.groups.get(group)?.as_ref()?;
        if let Some(found) = g.recommended_kind(kind) {
            return Some(found);
        }
        // The kind may be served only at another version (ReferenceGrant v1beta1 next to v1 Gateways).
        let versions: Vec<String> = g.versions().map(str::to_string).collect();
        versions.iter().find_map(|v| g.versioned_resources(v).into_iter().find(|(ar, _)| ar.kind == kind))
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
    let client = &conn.client;
    let mut resolver = Resolver::default();
    let mut out = Vec::new();
    for change in &plan.changes {
        let mut p = Prepared::new(change.clone());
        match &change.repair {
            Repair::InstallCrds { bundles } => prepare_install(conn, inputs, bundles, &mut p).await,
            Repair::HelmUpgrade(u) => controller::prepare_upgrade(inputs, u, &mut p).await,
            Repair::InstallControlPlane { choices } => controller::prepare_install(inputs, choices, &mut p).await,
            _ => prepare_one(client, &mut resolver, &mut p).await,
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
        p.needs = plan
            .permissions()
            .into_iter()
            .map(|perm| access(perm.verb, perm.group, perm.resource, "", perm.namespace.as_deref().unwrap_or("")))
            .collect();
    }
    p.crds = Some(plan);
}

async fn prepare_one(client: &kube::Client, resolver: &mut Resolver, p: &mut Prepared) {
    if let Repair::MigrateStoredVersions { crd } = &p.change.repair {
        match migrate::inspect(client, crd).await {
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
    let Some((ar, caps)) = resolver.resolve(client, &target.group, &target.kind).await else {
        let group = if target.group.is_empty() { "core".to_string() } else { target.group.clone() };
        p.refused =
            Some(format!("the cluster does not serve {} in API group {group} (is its CRD installed?)", target.kind));
        return;
    };
    let namespaced = caps.scope == Scope::Namespaced;
    p.resource = Some((ar.clone(), namespaced));
    let ns = if namespaced { target.namespace.clone() } else { String::new() };
    let api = p.api(client).expect("resource set");
    p.before = match api.get_opt(&target.name).await {
        Ok(o) => o.and_then(|o| serde_json::to_value(o).ok()),
        Err(kube::Error::Api(s)) if s.is_forbidden() => {
            p.needs.push(access("get", &ar.group, &ar.plural, "", &ns));
            None
        }
        Err(e) => {
            p.refused = Some(format!("cannot read {target}: {}", api_message(&e)));
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
    Access {
        verb: verb.into(),
        group: group.into(),
        resource: resource.into(),
        subresource: subresource.into(),
        namespace: namespace.into(),
    }
}

/// Ask the API server (SelfSubjectAccessReview) for every permission the writable changes need;
/// the ones denied, sorted.
pub async fn missing_permissions(conn: &Connection, prepared: &[Prepared]) -> Result<Vec<Access>> {
    let needs: BTreeSet<Access> =
        prepared.iter().filter(|p| p.writable() || !p.needs.is_empty()).flat_map(|p| p.needs.clone()).collect();
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let mut missing = Vec::new();
    for a in needs {
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(a.verb.clone()),
                    group: Some(a.group.clone()),
                    resource: Some(a.resource.clone()),
                    subresource: (!a.subresource.is_empty()).then(|| a.subresource.clone()),
                    namespace: (!a.namespace.is_empty()).then(|| a.namespace.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        let answer = api
            .create(&PostParams::default(), &review)
            .await
            .map_err(|e| conn.explain("cannot check permissions (SelfSubjectAccessReview)", &e))?;
        if !answer.status.is_some_and(|s| s.allowed) {
            missing.push(a);
        }
    }
    Ok(missing)
}

/// Validate every writable change with a server-side dry run (helm's own for controller repairs);
/// the result is the "after" of the diff.
pub async fn dry_run(conn: &Connection, inputs: &Inputs, prepared: &mut [Prepared]) {
    let client = &conn.client;
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
            if let Err(e) = migrate::dry_run(client, m).await {
                p.refused = Some(e);
            }
            continue;
        }
        let Some(api) = p.api(client) else { continue };
        let name = p.change.repair.target().name;
        match &p.change.repair {
            Repair::Delete { .. } => {
                let dp = DeleteParams { dry_run: true, ..Default::default() };
                if let Err(e) = api.delete(&name, &dp).await {
                    p.refused = Some(format!("server-side dry run failed: {}", api_message(&e)));
                }
            }
            _ => {
                let Some(body) = &p.patch else { continue };
                let pp = PatchParams::apply(FIELD_MANAGER).force().dry_run();
                match api.patch(&name, &pp, &Patch::Apply(body)).await {
                    Ok(obj) => {
                        let after = serde_json::to_value(obj).unwrap_or(Value::Null);
                        if p.before.as_ref().is_some_and(|b| diff::strip(b) == diff::strip(&after)) {
                            p.noop = true;
                        }
                        p.after = Some(after);
                    }
                    Err(e) => p.refused = Some(format!("server-side dry run failed: {}", api_message(&e))),
                }
            }
        }
    }
}

/// Delete only the object the plan read (same uid and resourceVersion).
fn delete_params(before: Option<&Value>) -> DeleteParams {
    let field =
        |f: &str| before.and_then(|b| b.pointer(&format!("/metadata/{f}"))).and_then(Value::as_str).map(str::to_string);
    let preconditions = Preconditions { resource_version: field("resourceVersion"), uid: field("uid") };
    let pinned = preconditions.resource_version.is_some() || preconditions.uid.is_some();
    DeleteParams { preconditions: pinned.then_some(preconditions), ..Default::default() }
}

/// The outcome of applying one change.
pub struct Applied {
    pub title: String,
    pub result: std::result::Result<String, String>,
}

/// Write every writable change, in plan order. Failures do not stop the others.
pub async fn apply(conn: &Connection, inputs: &Inputs, prepared: &[Prepared]) -> Vec<Applied> {
    let client = &conn.client;
    let mut out = Vec::new();
    for p in prepared.iter().filter(|p| p.writable()) {
        let title = p.change.title();
        let target = p.change.repair.target();
        let result = if let Some(plan) = &p.crds {
            install(conn, plan, &title).await
        } else if let Some(change) = &p.helm {
            controller::apply(conn, inputs, change).await
        } else if let Some(m) = &p.migration {
            match migrate::run(client, &m.crd).await {
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
        } else if let Some(api) = p.api(client) {
            match &p.change.repair {
                Repair::Delete { .. } => match api.delete(&target.name, &delete_params(p.before.as_ref())).await {
                    Ok(_) => Ok(format!("deleted {target}")),
                    Err(kube::Error::Api(s)) if s.code == 404 => Ok(format!("{target} was already gone")),
                    Err(kube::Error::Api(s)) if s.code == 409 => Err(changed_since_plan(&target)),
                    Err(e) => Err(format!("cannot delete {target}: {}", api_message(&e))),
                },
                _ => match &p.patch {
                    Some(body) => {
                        // A create does not force conflicts: an object that appeared since the plan
                        // keeps the fields its own manager set (409, reported as a change since the plan).
                        let pp = match p.before {
                            None => PatchParams::apply(FIELD_MANAGER),
                            Some(_) => PatchParams::apply(FIELD_MANAGER).force(),
                        };
                        match api.patch(&target.name, &pp, &Patch::Apply(body)).await {
                            Ok(_) if p.before.is_none() => Ok(format!("created {target}")),
                            Ok(_) => Ok(format!("updated {target}")),
                            Err(kube::Error::Api(s)) if s.code == 409 => Err(changed_since_plan(&target)),
                            Err(e) => Err(format!("cannot apply {target}: {}", api_message(&e))),
                        }
                    }
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
