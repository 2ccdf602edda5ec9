//! The storage-version migration (DOMAIN A.3.1, the algorithm of cert-manager's
//! `cmctl upgrade migrate-api-version`): confirm the CRD's storage version; list every object and
//! write it back unchanged, so the API server re-encodes it at the storage version (NotFound is
//! skipped, Conflict re-reads and retries); re-read the CRD; set `status.storedVersions` to the
//! storage version alone through the status subresource.

use crate::cluster::{classify, Class};
use futures::{stream, StreamExt, TryStreamExt};
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, GroupVersionKind, ListParams, Patch, PatchParams, PostParams};
use kube::core::TypeMeta;
use std::time::{Duration, Instant};

/// Writes in flight at once: enough to hide round trips, few enough not to swamp the server.
const CONCURRENCY: usize = 32;
/// Attempts per object when it keeps changing under us.
const ATTEMPTS: usize = 10;

/// What a CRD's migration involves, read before asking.
#[derive(Debug, Clone)]
pub struct MigrationPlan {
    pub crd: String,
    pub kind: String,
    pub storage: String,
    pub stored_versions: Vec<String>,
    /// Objects of the kind, as counted from the first list page.
    pub objects: usize,
}

impl MigrationPlan {
    /// True when storedVersions already hold only the storage version.
    pub fn done(&self) -> bool {
        self.stored_versions == [self.storage.clone()]
    }

    /// One line for the plan.
    pub fn describe(&self) -> String {
        format!(
            "rewrite {} {} object(s) at storage version {}, then set status.storedVersions of {} from [{}] to [{}]",
            self.objects,
            self.kind,
            self.storage,
            self.crd,
            self.stored_versions.join(", "),
            self.storage
        )
    }
}

/// What a migration did.
#[derive(Debug, Clone)]
pub struct MigrationOutcome {
    pub rewritten: usize,
    /// Objects deleted while we worked (NotFound).
    pub gone: usize,
    pub elapsed: Duration,
}

fn msg(action: &str, e: &kube::Error) -> String {
    match e {
        kube::Error::Api(s) => format!("{action}: {} ({})", s.message, s.reason),
        other => format!("{action}: {other}"),
    }
}

fn resource(crd: &CustomResourceDefinition, version: &str) -> ApiResource {
    let gvk = GroupVersionKind::gvk(&crd.spec.group, version, &crd.spec.names.kind);
    ApiResource::from_gvk_with_plural(&gvk, &crd.spec.names.plural)
}

fn storage_of(crd: &CustomResourceDefinition) -> Result<String, String> {
    let name = crd.metadata.name.clone().unwrap_or_default();
    let v = crd.spec.versions.iter().find(|v| v.storage).ok_or_else(|| format!("CRD {name} has no storage version"))?;
    if !v.served {
        return Err(format!(
            "CRD {name} does not serve its storage version {}, so its objects cannot be rewritten",
            v.name
        ));
    }
    Ok(v.name.clone())
}

/// Read the CRD and count its objects.
pub async fn inspect(client: &kube::Client, crd_name: &str) -> Result<MigrationPlan, String> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds.get(crd_name).await.map_err(|e| msg(&format!("cannot read CRD {crd_name}"), &e))?;
    let storage = storage_of(&crd)?;
    let api: Api<DynamicObject> = Api::all_with(client.clone(), &resource(&crd, &storage));
    let first = api
        .list_metadata(&ListParams::default().limit(1))
        .await
        .map_err(|e| msg(&format!("cannot list {}", crd.spec.names.plural), &e))?;
    let objects = first.items.len() + first.metadata.remaining_item_count.unwrap_or(0).max(0) as usize;
    Ok(MigrationPlan {
        crd: crd_name.to_string(),
        kind: crd.spec.names.kind.clone(),
        storage,
        stored_versions: crd.status.and_then(|s| s.stored_versions).unwrap_or_default(),
        objects,
    })
}

/// Validate the final status write with a server-side dry run.
pub async fn dry_run(client: &kube::Client, plan: &MigrationPlan) -> Result<(), String> {
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let patch = serde_json::json!({"status": {"storedVersions": [plan.storage]}});
    crds.patch_status(&plan.crd, &PatchParams::default().dry_run(), &Patch::Merge(&patch))
        .await
        .map(|_| ())
        .map_err(|e| msg(&format!("dry run of the status update of CRD {}", plan.crd), &e))
}

/// Write one object back unchanged, re-reading it on Conflict. Ok(false) when it is gone.
async fn rewrite(api: Api<DynamicObject>, mut obj: DynamicObject, types: TypeMeta) -> Result<bool, String> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    for _ in 0..ATTEMPTS {
        obj.types = Some(types.clone());
        match api.replace(&name, &PostParams::default(), &obj).await {
            Ok(_) => return Ok(true),
            Err(e) if classify(&e) == Class::NotFound => return Ok(false),
            Err(e) if classify(&e) == Class::Conflict => match api.get_opt(&name).await {
                Ok(Some(fresh)) => obj = fresh,
                Ok(None) => return Ok(false),
                Err(e) => return Err(msg(&format!("cannot re-read {name}"), &e)),
            },
            Err(e) => return Err(msg(&format!("cannot rewrite {name}"), &e)),
        }
    }
    Err(format!("{name} kept changing: gave up after {ATTEMPTS} attempts"))
}

/// Run the migration of one CRD.
pub async fn run(client: &kube::Client, crd_name: &str) -> Result<MigrationOutcome, String> {
    let started = Instant::now();
    let crds: Api<CustomResourceDefinition> = Api::all(client.clone());
    let crd = crds.get(crd_name).await.map_err(|e| msg(&format!("cannot read CRD {crd_name}"), &e))?;
    let storage = storage_of(&crd)?;
    let ar = resource(&crd, &storage);
    let namespaced = crd.spec.scope == "Namespaced";
    let all: Api<DynamicObject> = Api::all_with(client.clone(), &ar);
    let types = TypeMeta { api_version: ar.api_version.clone(), kind: ar.kind.clone() };

    // List every object first (paginated), then write them back concurrently.
    let mut items = Vec::new();
    let mut params = ListParams::default().limit(500);
    loop {
        let page = all.list(&params).await.map_err(|e| msg(&format!("cannot list {}", ar.plural), &e))?;
        items.extend(page.items);
        match page.metadata.continue_.filter(|c| !c.is_empty()) {
            Some(token) => params = params.continue_token(&token),
            None => break,
        }
    }
    let results: Vec<bool> = stream::iter(items.into_iter().map(|obj| {
        let api: Api<DynamicObject> = match (&obj.metadata.namespace, namespaced) {
            (Some(ns), true) => Api::namespaced_with(client.clone(), ns, &ar),
            _ => Api::all_with(client.clone(), &ar),
        };
        rewrite(api, obj, types.clone())
    }))
    .buffer_unordered(CONCURRENCY)
    .try_collect()
    .await?;
    let rewritten = results.iter().filter(|r| **r).count();
    let gone = results.len() - rewritten;

    // Re-read the CRD: the storage version must still be the one every object was written at.
    for _ in 0..ATTEMPTS {
        let mut fresh = crds.get(crd_name).await.map_err(|e| msg(&format!("cannot re-read CRD {crd_name}"), &e))?;
        let now = storage_of(&fresh)?;
        if now != storage {
            return Err(format!(
                "the storage version of CRD {crd_name} changed from {storage} to {now} during the migration; run --fix again"
            ));
        }
        let status = fresh.status.get_or_insert_with(Default::default);
        status.stored_versions = Some(vec![storage.clone()]);
        match crds.replace_status(crd_name, &PostParams::default(), &fresh).await {
            Ok(_) => return Ok(MigrationOutcome { rewritten, gone, elapsed: started.elapsed() }),
            Err(e) if classify(&e) == Class::Conflict => continue,
            Err(e) => return Err(msg(&format!("cannot update status.storedVersions of CRD {crd_name}"), &e)),
        }
    }
    Err(format!("CRD {crd_name} kept changing: could not update status.storedVersions"))
}
