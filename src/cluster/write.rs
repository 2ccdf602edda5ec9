//! The one write layer of `gateway install`, `gateway uninstall` and `doctor --fix`: permission checks
//! (SelfSubjectAccessReview, asked concurrently), API resolution through discovery (cached for the
//! connection's life), reads, server-side apply and dry run with the one field manager, deletes, and
//! waits through `kube::runtime::wait::await_condition`.

use super::error::explain_kube_error;
use super::error::{classify, Class};
use super::Connection;
use crate::error::Failure;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::authorization::v1::{ResourceAttributes, SelfSubjectAccessReview, SelfSubjectAccessReviewSpec};
use kube::api::{Api, ApiResource, DeleteParams, DynamicObject, Patch, PatchParams, PostParams, Preconditions};
use kube::discovery::{self, ApiGroup, Scope};
use serde_json::Value;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Field manager of every write.
pub const FIELD_MANAGER: &str = "kubectl-llmd";

/// How many SelfSubjectAccessReviews are asked at once.
const REVIEWS_AT_ONCE: usize = 8;

/// A failed request of the write layer: what was being done, on which server, and kube's error.
#[derive(Debug, thiserror::Error)]
#[error("{action} on {server}: {source}")]
pub struct Error {
    pub action: String,
    pub server: String,
    #[source]
    pub source: kube::Error,
}

impl Error {
    fn new(conn: &Connection, action: impl Into<String>, source: kube::Error) -> Self {
        Error { action: action.into(), server: conn.server.clone(), source }
    }

    /// What kind of failure it is.
    pub fn class(&self) -> Class {
        classify(&self.source)
    }

    /// The server's own message (or the transport's root cause), for one-line reports.
    pub fn api_message(&self) -> String {
        match &self.source {
            kube::Error::Api(s) => s.message.clone(),
            other => crate::error::root_cause(other),
        }
    }
}

impl From<Error> for Failure {
    fn from(e: Error) -> Failure {
        explain_kube_error(&e.action, &e.server, &e.source).caused_by(e)
    }
}

/// One permission to confirm: verb on group/resource[/subresource], cluster-wide ("" namespace) or in
/// one namespace.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Permission {
    pub verb: String,
    pub group: String,
    pub resource: String,
    pub subresource: String,
    /// "" for cluster-scoped objects or every namespace.
    pub namespace: String,
}

impl Permission {
    /// A permission (subresource and namespace may be "").
    pub fn new(verb: &str, group: &str, resource: &str, subresource: &str, namespace: &str) -> Self {
        Permission {
            verb: verb.into(),
            group: group.into(),
            resource: resource.into(),
            subresource: subresource.into(),
            namespace: namespace.into(),
        }
    }

    /// A cluster-wide permission.
    pub fn cluster(verb: &str, group: &str, resource: &str) -> Self {
        Permission::new(verb, group, resource, "", "")
    }
}

impl std::fmt::Display for Permission {
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

/// The permissions among `needed` that the user lacks, in the order given (one SelfSubjectAccessReview
/// each, several at once; every review is an API request the client layer counts).
pub async fn missing_permissions(conn: &Connection, needed: &[Permission]) -> Result<Vec<Permission>, Error> {
    let api: Api<SelfSubjectAccessReview> = Api::all(conn.client.clone());
    let answers: Vec<bool> = futures::stream::iter(needed.iter().map(|p| {
        let api = api.clone();
        let review = SelfSubjectAccessReview {
            spec: SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    verb: Some(p.verb.clone()),
                    group: Some(p.group.clone()),
                    resource: Some(p.resource.clone()),
                    subresource: (!p.subresource.is_empty()).then(|| p.subresource.clone()),
                    namespace: (!p.namespace.is_empty()).then(|| p.namespace.clone()),
                    ..Default::default()
                }),
                ..Default::default()
            },
            ..Default::default()
        };
        async move {
            let answer = api.create(&PostParams::default(), &review).await?;
            Ok::<bool, kube::Error>(answer.status.is_some_and(|s| s.allowed))
        }
    }))
    .buffered(REVIEWS_AT_ONCE)
    .try_collect()
    .await
    .map_err(|e| Error::new(conn, "cannot check permissions (SelfSubjectAccessReview)", e))?;
    Ok(needed.iter().zip(answers).filter(|(_, allowed)| !allowed).map(|(p, _)| p.clone()).collect())
}

/// A resolved kind: its resource and whether it is namespaced.
pub type Resolved = (ApiResource, bool);

/// (group, version — "" for every version of the group) → what discovery said (None: not served).
type Groups = BTreeMap<(String, String), Option<Arc<ApiGroup>>>;

/// Discovery results of one connection: each group (or group/version) is asked once per run.
#[derive(Default)]
pub struct Discovery {
    groups: Mutex<Groups>,
}

impl Discovery {
    /// The group (all versions when `version` is ""; else that version only), asked once.
    async fn group(&self, conn: &Connection, group: &str, version: &str) -> Result<Option<Arc<ApiGroup>>, kube::Error> {
        let key = (group.to_string(), version.to_string());
        if let Some(found) = self.groups.lock().expect("discovery cache").get(&key) {
            return Ok(found.clone());
        }
        let answer = if version.is_empty() {
            discovery::group(&conn.client, group).await
        } else {
            let gv = kube::core::GroupVersion::gv(group, version);
            discovery::pinned_group(&conn.client, &gv).await
        };
        let found = match answer {
            Ok(g) => Some(Arc::new(g)),
            Err(e) if classify(&e) == Class::NotFound => None,
            Err(kube::Error::Discovery(_)) => None,
            Err(e) => return Err(e),
        };
        self.groups.lock().expect("discovery cache").insert(key, found.clone());
        Ok(found)
    }
}

fn scope(caps: &discovery::ApiCapabilities) -> bool {
    caps.scope == Scope::Namespaced
}

/// The resource serving `kind` at exactly `apiVersion` (None: not served).
pub async fn resolve_exact(conn: &Connection, api_version: &str, kind: &str) -> Result<Option<Resolved>, Error> {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let g = conn
        .discovery
        .group(conn, group, version)
        .await
        .map_err(|e| Error::new(conn, format!("cannot find the API of {kind} ({api_version})"), e))?;
    Ok(g.and_then(|g| {
        g.versioned_resources(version).into_iter().find(|(ar, _)| ar.kind == kind).map(|(ar, c)| (ar, scope(&c)))
    }))
}

/// The resource serving `kind` in `group`, at the group's preferred version when it has the kind, else
/// at any version that serves it (ReferenceGrant v1beta1 next to v1 Gateways). None: not served.
pub async fn resolve_preferred(conn: &Connection, group: &str, kind: &str) -> Result<Option<Resolved>, Error> {
    let g = conn
        .discovery
        .group(conn, group, "")
        .await
        .map_err(|e| Error::new(conn, format!("cannot find the API of {kind} in group {group:?}"), e))?;
    let Some(g) = g else { return Ok(None) };
    if let Some((ar, caps)) = g.recommended_kind(kind) {
        return Ok(Some((ar, scope(&caps))));
    }
    let versions: Vec<String> = g.versions().map(str::to_string).collect();
    Ok(versions.iter().find_map(|v| {
        g.versioned_resources(v).into_iter().find(|(ar, _)| ar.kind == kind).map(|(ar, c)| (ar, scope(&c)))
    }))
}

/// The API of a resolved kind, in `namespace` when it is namespaced.
pub fn api(conn: &Connection, (ar, namespaced): &Resolved, namespace: &str) -> Api<DynamicObject> {
    if *namespaced {
        Api::namespaced_with(conn.client.clone(), namespace, ar)
    } else {
        Api::all_with(conn.client.clone(), ar)
    }
}

/// The API of an object's kind (from its apiVersion, kind and namespace), resolved through discovery.
pub async fn api_for(conn: &Connection, obj: &Value) -> Result<(Api<DynamicObject>, ApiResource), Failure> {
    let api_version = obj.get("apiVersion").and_then(Value::as_str).unwrap_or("");
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    let Some(resolved) = resolve_exact(conn, api_version, kind).await? else {
        return Err(Failure::with_hint(
            format!("cannot find the API of {kind} ({api_version}) on {}: the server does not serve it", conn.server),
            "check that the CRD of the kind is installed (`kubectl api-resources`)",
        ));
    };
    let ns = obj.pointer("/metadata/namespace").and_then(Value::as_str);
    let api = match ns {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &resolved.0),
        None => Api::all_with(conn.client.clone(), &resolved.0),
    };
    Ok((api, resolved.0))
}

/// Read one object (None: absent).
pub async fn get(conn: &Connection, api: &Api<DynamicObject>, kind: &str, name: &str) -> Result<Option<Value>, Error> {
    match api.get_opt(name).await {
        Ok(found) => Ok(found.map(|o| serde_json::to_value(o).unwrap_or(Value::Null))),
        Err(e) => Err(Error::new(conn, format!("cannot read {kind} {name}"), e)),
    }
}

/// Server-side apply `body` as [`FIELD_MANAGER`], forcing conflicts (dry run when asked); the object
/// as the server returned it. `what` names the object in the error ("Deployment a/b").
pub async fn apply(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    body: &Value,
    dry_run: bool,
    what: &str,
) -> Result<Value, Error> {
    let mut params = PatchParams::apply(FIELD_MANAGER).force();
    params.dry_run = dry_run;
    let mode = if dry_run { " (server-side dry run)" } else { "" };
    patch_apply(conn, api, name, body, &params, &format!("cannot apply {what}{mode}")).await
}

/// Server-side apply `body` as [`FIELD_MANAGER`] without forcing conflicts: the create of an object
/// planned as absent, so one created meanwhile keeps the fields its own manager set (409 Conflict).
pub async fn apply_unforced(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    body: &Value,
    what: &str,
) -> Result<Value, Error> {
    patch_apply(conn, api, name, body, &PatchParams::apply(FIELD_MANAGER), &format!("cannot apply {what}")).await
}

async fn patch_apply(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    body: &Value,
    params: &PatchParams,
    action: &str,
) -> Result<Value, Error> {
    api.patch(name, params, &Patch::Apply(body))
        .await
        .map(|o| serde_json::to_value(o).unwrap_or(Value::Null))
        .map_err(|e| Error::new(conn, action, e))
}

/// A JSON merge patch as [`FIELD_MANAGER`] (dry run when asked).
pub async fn merge_patch(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    patch: &Value,
    dry_run: bool,
    action: &str,
) -> Result<(), Error> {
    let p = PatchParams { field_manager: Some(FIELD_MANAGER.into()), dry_run, ..Default::default() };
    api.patch(name, &p, &Patch::Merge(patch)).await.map(|_| ()).map_err(|e| Error::new(conn, action, e))
}

/// Delete one object (dry run when asked); Ok(false) when it was already gone.
pub async fn delete(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    dry_run: bool,
    what: &str,
) -> Result<bool, Error> {
    delete_with(conn, api, name, &DeleteParams { dry_run, ..DeleteParams::default() }, what).await
}

/// Delete one object only while it is the version `before` (its uid and resourceVersion as
/// preconditions): a newer version is refused with 409 Conflict, never deleted. Ok(false) when gone.
pub async fn delete_unchanged(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    before: &Value,
    what: &str,
) -> Result<bool, Error> {
    let field = |f: &str| before.pointer(&format!("/metadata/{f}")).and_then(Value::as_str).map(str::to_string);
    let preconditions = Preconditions { resource_version: field("resourceVersion"), uid: field("uid") };
    delete_with(conn, api, name, &DeleteParams { preconditions: Some(preconditions), ..DeleteParams::default() }, what)
        .await
}

async fn delete_with(
    conn: &Connection,
    api: &Api<DynamicObject>,
    name: &str,
    dp: &DeleteParams,
    what: &str,
) -> Result<bool, Error> {
    match api.delete(name, dp).await {
        Ok(_) => Ok(true),
        Err(e) if classify(&e) == Class::NotFound => Ok(false),
        Err(e) => Err(Error::new(conn, format!("cannot delete {what}"), e)),
    }
}

/// Wait until `cond` holds for the object `name` of `api`, at most `timeout`; Ok(false) when it did not
/// (the caller says why), an error when the object could not be watched.
pub async fn await_condition<K>(
    conn: &Connection,
    api: Api<K>,
    name: &str,
    timeout: Duration,
    cond: impl kube::runtime::wait::Condition<K>,
    what: &str,
) -> Result<bool, Error>
where
    K: kube::Resource + Clone + std::fmt::Debug + serde::de::DeserializeOwned + Send + 'static,
{
    match tokio::time::timeout(timeout, kube::runtime::wait::await_condition(api, name, cond)).await {
        Ok(Ok(_)) => Ok(true),
        Err(_) => Ok(false),
        Ok(Err(kube::runtime::wait::Error::ProbeFailed(e))) => {
            Err(Error::new(conn, format!("cannot watch {what}"), watcher_error(e)))
        }
    }
}

/// The kube error inside a watcher error (the watch's own failures are reported as a service error).
fn watcher_error(e: kube::runtime::watcher::Error) -> kube::Error {
    use kube::runtime::watcher::Error as W;
    match e {
        W::InitialListFailed(e) | W::WatchStartFailed(e) | W::WatchFailed(e) => e,
        W::WatchError(status) => kube::Error::Api(status),
        other => kube::Error::Service(Box::new(other)),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn permissions_read_like_kubectl_auth_can_i() {
        assert_eq!(
            Permission::cluster("patch", "apiextensions.k8s.io", "customresourcedefinitions").to_string(),
            "patch customresourcedefinitions.apiextensions.k8s.io"
        );
        assert_eq!(Permission::new("create", "", "secrets", "", "ns").to_string(), "create secrets in namespace ns");
        assert_eq!(
            Permission::new("update", "apiextensions.k8s.io", "customresourcedefinitions", "status", "").to_string(),
            "update customresourcedefinitions.apiextensions.k8s.io/status"
        );
    }
}
