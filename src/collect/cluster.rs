//! The live collector: one paginated LIST per kind, run concurrently, into a Snapshot.
//! Not installed → Absent; not allowed → Forbidden (checks needing it are skipped);
//! any other failure means doctor could not run (exit 2).

use crate::catalog::PROVIDERS;
use crate::cluster::Connection;
use crate::error::Result;
use crate::model::{groups, CrdView};
use crate::snapshot::{Collected, Kind, SlotState, Snapshot, Source};
use futures::future::join_all;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;
use std::collections::BTreeSet;
use std::time::Instant;

/// A kind to list: where it lives and which versions we can read, most preferred first.
struct Target {
    kind: Kind,
    group: &'static str,
    kind_name: &'static str,
    plural: &'static str,
    versions: &'static [&'static str],
    namespaced: bool,
    /// Served by a CRD (so "not installed" is possible).
    custom: bool,
}

const fn t(
    kind: Kind,
    group: &'static str,
    kind_name: &'static str,
    plural: &'static str,
    versions: &'static [&'static str],
    namespaced: bool,
    custom: bool,
) -> Target {
    Target { kind, group, kind_name, plural, versions, namespaced, custom }
}

/// Everything listed besides CRDs and pods (pods are label-selected per pool afterwards).
const TARGETS: &[Target] = &[
    t(Kind::GatewayClasses, groups::GATEWAY, "GatewayClass", "gatewayclasses", &["v1", "v1beta1"], false, true),
    t(Kind::Gateways, groups::GATEWAY, "Gateway", "gateways", &["v1", "v1beta1"], true, true),
    t(Kind::HttpRoutes, groups::GATEWAY, "HTTPRoute", "httproutes", &["v1", "v1beta1"], true, true),
    t(
        Kind::ReferenceGrants,
        groups::GATEWAY,
        "ReferenceGrant",
        "referencegrants",
        &["v1", "v1beta1", "v1alpha2"],
        true,
        true,
    ),
    t(Kind::InferencePools, groups::INFERENCE, "InferencePool", "inferencepools", &["v1"], true, true),
    t(Kind::InferencePoolsX, groups::INFERENCE_X, "InferencePool", "inferencepools", &["v1alpha2"], true, true),
    t(
        Kind::InferenceObjectives,
        groups::INFERENCE_X,
        "InferenceObjective",
        "inferenceobjectives",
        &["v1alpha2", "v1alpha1"],
        true,
        true,
    ),
    t(
        Kind::InferenceObjectives,
        groups::INFERENCE_X,
        "InferenceModel",
        "inferencemodels",
        &["v1alpha2", "v1alpha1"],
        true,
        true,
    ),
    t(
        Kind::InferenceObjectives,
        groups::LLMD,
        "InferenceObjective",
        "inferenceobjectives",
        &["v1alpha2", "v1alpha1", "v1"],
        true,
        true,
    ),
    t(
        Kind::DestinationRules,
        groups::ISTIO_NETWORKING,
        "DestinationRule",
        "destinationrules",
        &["v1", "v1beta1", "v1alpha3"],
        true,
        true,
    ),
    t(Kind::Services, "", "Service", "services", &["v1"], true, false),
    t(Kind::EndpointSlices, "discovery.k8s.io", "EndpointSlice", "endpointslices", &["v1"], true, false),
    t(Kind::Deployments, "apps", "Deployment", "deployments", &["v1"], true, false),
    t(Kind::StatefulSets, "apps", "StatefulSet", "statefulsets", &["v1"], true, false),
    t(
        Kind::AdmissionPolicies,
        "admissionregistration.k8s.io",
        "ValidatingAdmissionPolicy",
        "validatingadmissionpolicies",
        &["v1"],
        false,
        false,
    ),
    t(
        Kind::Webhooks,
        "admissionregistration.k8s.io",
        "ValidatingWebhookConfiguration",
        "validatingwebhookconfigurations",
        &["v1"],
        false,
        false,
    ),
];

/// The result of listing one target.
enum Listing {
    Items(Vec<Value>),
    Absent,
    Forbidden { verb: String, resource: String },
}

/// Collect a Snapshot from the cluster. `namespace` None = all namespaces.
pub async fn collect_cluster(conn: &Connection, namespace: Option<&str>) -> Result<Snapshot> {
    let started = Instant::now();
    let mut snap = Snapshot {
        source: Some(Source::Cluster { server: conn.server.clone(), context: conn.context.clone() }),
        namespace: namespace.map(str::to_string),
        live: true,
        ..Snapshot::default()
    };

    // The version first: if the server cannot be reached, stop here with one clear error.
    conn.count_request();
    let info = conn.client.apiserver_version().await.map_err(|e| conn.explain("cannot reach the cluster", &e))?;
    snap.server_version = Collected::Listed(vec![info.git_version]);

    let crd_target = t(
        Kind::Crds,
        "apiextensions.k8s.io",
        "CustomResourceDefinition",
        "customresourcedefinitions",
        &["v1"],
        false,
        false,
    );
    let crd_listing = list_target(conn, &crd_target, "v1", None, None).await?;
    let served: Option<Vec<CrdView>> = match crd_listing {
        Listing::Items(items) => {
            snap.set_state(Kind::Crds, &SlotState::Listed);
            for i in &items {
                snap.insert(i);
            }
            Some(snap.crds.items().to_vec())
        }
        Listing::Forbidden { verb, resource } => {
            snap.set_state(Kind::Crds, &SlotState::Forbidden { verb, resource });
            None
        }
        Listing::Absent => {
            snap.set_state(Kind::Crds, &SlotState::Absent);
            Some(vec![])
        }
    };

    // Decide the version of each custom kind from its CRD; without CRD access, probe the versions.
    let mut jobs = Vec::new();
    for target in TARGETS {
        let versions: Vec<String> = if !target.custom {
            target.versions.iter().map(|v| v.to_string()).collect()
        } else if let Some(crds) = &served {
            let name = format!("{}.{}", target.plural, target.group);
            match crds.iter().find(|c| c.metadata.name == name) {
                Some(crd) => {
                    // Prefer a version we model; else any served one (the views are version-tolerant).
                    let chosen = target.versions.iter().find(|v| crd.serves(v)).copied();
                    chosen
                        .or_else(|| crd.served_versions().first().copied())
                        .map(|v| vec![v.to_string()])
                        .unwrap_or_default()
                }
                None => vec![],
            }
        } else {
            target.versions.iter().map(|v| v.to_string()).collect()
        };
        let ns = if target.namespaced { namespace } else { None };
        jobs.push(async move {
            if versions.is_empty() {
                return (target, Ok(Listing::Absent));
            }
            for v in &versions {
                match list_target(conn, target, v, ns, None).await {
                    Ok(Listing::Absent) => continue,
                    other => return (target, other),
                }
            }
            (target, Ok(Listing::Absent))
        });
    }
    let results = join_all(jobs).await;

    // Kinds listed from several groups (InferenceObjective/Model) share one slot: listed if any was.
    let mut states: Vec<(Kind, Listing)> = Vec::new();
    for (target, res) in results {
        states.push((target.kind, res?));
    }
    let mut kinds: Vec<Kind> = states.iter().map(|(k, _)| *k).collect();
    kinds.dedup();
    for kind in kinds {
        let group: Vec<&Listing> = states.iter().filter(|(k, _)| *k == kind).map(|(_, l)| l).collect();
        let state = if group.iter().any(|l| matches!(l, Listing::Items(_))) {
            SlotState::Listed
        } else if let Some(Listing::Forbidden { verb, resource }) =
            group.iter().find(|l| matches!(l, Listing::Forbidden { .. }))
        {
            SlotState::Forbidden { verb: verb.clone(), resource: resource.clone() }
        } else {
            SlotState::Absent
        };
        snap.set_state(kind, &state);
    }
    for (_, listing) in &states {
        if let Listing::Items(items) = listing {
            for i in items {
                snap.insert(i);
            }
        }
    }

    collect_pods(conn, &mut snap).await?;
    if let Some(ns) = namespace {
        collect_controllers(conn, &mut snap, ns).await?;
    }
    super::access::collect_access(conn, &mut snap).await?;

    tracing::info!(
        "collected the snapshot with {} API requests in {:.2}s",
        conn.request_count(),
        started.elapsed().as_secs_f64()
    );
    Ok(snap)
}

/// With `-n`, gateway controllers still matter: they run in their providers' own namespaces
/// (istio-system, agentgateway-system, …), so read the Deployments there too. A namespace the user
/// may not read adds nothing; the namespaced checks stay limited to `scoped`.
async fn collect_controllers(conn: &Connection, snap: &mut Snapshot, scoped: &str) -> Result<()> {
    if !snap.deployments.is_listed() {
        return Ok(());
    }
    let mut namespaces: Vec<&str> =
        PROVIDERS.iter().map(|p| p.namespace).filter(|n| !n.is_empty() && *n != scoped).collect();
    namespaces.sort();
    namespaces.dedup();
    let target = t(Kind::Deployments, "apps", "Deployment", "deployments", &["v1"], true, false);
    let jobs = namespaces.iter().map(|ns| list_target(conn, &target, "v1", Some(ns), None));
    for listing in join_all(jobs).await {
        if let Listing::Items(items) = listing? {
            for i in &items {
                snap.insert(i);
            }
        }
    }
    Ok(())
}

/// Pods selected by each pool's selector: one LIST per distinct (namespace, selector).
async fn collect_pods(conn: &Connection, snap: &mut Snapshot) -> Result<()> {
    let selectors: BTreeSet<(String, String)> = snap
        .all_pools()
        .filter(|p| !p.selector.is_empty())
        .map(|p| {
            let sel = p.selector.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",");
            (p.metadata.ns().to_string(), sel)
        })
        .collect();
    let pod_target = t(Kind::Pods, "", "Pod", "pods", &["v1"], true, false);
    let jobs = selectors.iter().map(|(ns, sel)| list_target(conn, &pod_target, "v1", Some(ns), Some(sel)));
    let results = join_all(jobs).await;
    snap.set_state(Kind::Pods, &SlotState::Listed);
    let mut seen = BTreeSet::new();
    let mut items = Vec::new();
    // Namespaces where a selector matched nothing: their pods are listed too, so that LLMD-POD-001
    // can name the closest pod's differing labels (checks only read pods through the selectors).
    let mut unmatched = BTreeSet::new();
    for ((ns, _), r) in selectors.iter().zip(results) {
        match r? {
            Listing::Items(pods) => {
                if pods.is_empty() {
                    unmatched.insert(ns.clone());
                }
                items.extend(pods)
            }
            Listing::Forbidden { verb, resource } => {
                snap.set_state(Kind::Pods, &SlotState::Forbidden { verb, resource });
                return Ok(());
            }
            Listing::Absent => {}
        }
    }
    let jobs = unmatched.iter().map(|ns| list_target(conn, &pod_target, "v1", Some(ns), None));
    for r in join_all(jobs).await {
        if let Listing::Items(pods) = r? {
            items.extend(pods);
        }
    }
    for p in items {
        let key = (p.pointer("/metadata/namespace").cloned(), p.pointer("/metadata/name").cloned());
        if seen.insert(format!("{key:?}")) {
            snap.insert(&p);
        }
    }
    Ok(())
}

/// One paginated LIST. 404 → Absent, 403 → Forbidden; other errors fail the collection.
async fn list_target(
    conn: &Connection,
    target: &Target,
    version: &str,
    namespace: Option<&str>,
    label_selector: Option<&str>,
) -> Result<Listing> {
    let api_version =
        if target.group.is_empty() { version.to_string() } else { format!("{}/{}", target.group, version) };
    let ar = ApiResource {
        group: target.group.to_string(),
        version: version.to_string(),
        api_version: api_version.clone(),
        kind: target.kind_name.to_string(),
        plural: target.plural.to_string(),
    };
    let api: Api<DynamicObject> = match namespace {
        Some(ns) => Api::namespaced_with(conn.client.clone(), ns, &ar),
        None => Api::all_with(conn.client.clone(), &ar),
    };
    let resource =
        if target.group.is_empty() { target.plural.to_string() } else { format!("{}.{}", target.plural, target.group) };
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(500);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        if let Some(sel) = label_selector {
            lp = lp.labels(sel);
        }
        conn.count_request();
        match api.list(&lp).await {
            Ok(page) => {
                for obj in page.items {
                    let mut v = serde_json::to_value(&obj).unwrap_or(Value::Null);
                    if let Value::Object(m) = &mut v {
                        m.insert("apiVersion".into(), Value::String(api_version.clone()));
                        m.insert("kind".into(), Value::String(target.kind_name.to_string()));
                    }
                    items.push(v);
                }
                token = page.metadata.continue_.filter(|t| !t.is_empty());
                if token.is_none() {
                    return Ok(Listing::Items(items));
                }
            }
            Err(kube::Error::Api(s)) if s.code == 404 => return Ok(Listing::Absent),
            Err(kube::Error::Api(s)) if s.is_forbidden() => {
                let scope = namespace.map_or(" in all namespaces".to_string(), |ns| format!(" in namespace {ns}"));
                let scope = if target.namespaced { scope } else { String::new() };
                return Ok(Listing::Forbidden { verb: "list".into(), resource: format!("{resource}{scope}") });
            }
            Err(e) => return Err(conn.explain(&format!("cannot list {resource}"), &e)),
        }
    }
}
