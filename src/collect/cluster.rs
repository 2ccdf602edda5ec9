//! The live collector: one paginated LIST per kind, run concurrently, into a Snapshot.
//! Not installed → Absent; not allowed → Forbidden (checks needing it are skipped);
//! any other failure means doctor could not run (exit 2).

use super::kinds::{self, KindInfo as Target};
use super::push;
use crate::catalog::PROVIDERS;
use crate::cluster::Connection;
use crate::error::{Failure, Result};
use crate::model::{CrdView, InferencePoolView, PodView};
use crate::snapshot::{Collected, Kind, SlotState, Snapshot, Source};
use futures::future::join_all;
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Service;
use k8s_openapi::api::discovery::v1::EndpointSlice;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{DynamicObject, ListParams};
use kube::Resource;
use serde::de::DeserializeSeed;
use serde::Deserialize;
use serde_json::value::RawValue;
use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::time::Instant;

/// Items per LIST page: big enough that a 20,000-pod fleet takes few round trips, small enough that
/// one page's JSON stays a few MB.
const PAGE_SIZE: u32 = 1000;
/// Longest label selector sent in one pod LIST; longer sets of pool selectors are split.
const MAX_SELECTOR_LEN: usize = 8 * 1024;

/// The result of listing one target.
enum Listing {
    Items(Vec<Decoded>),
    Absent,
    Forbidden { verb: String, resource: String },
}

/// One listed object, decoded straight from its page into what the Snapshot keeps: CRDs and the
/// core kinds read in bulk (pods, Services, EndpointSlices, Deployments) into their typed form, everything
/// else (and any core object the typed form cannot read) as JSON for `Snapshot::insert`, which
/// reports what it cannot use.
enum Decoded {
    /// Compact JSON text (apiVersion and kind set, managedFields dropped): held as text until
    /// inserted, it takes a fraction of the memory of a parsed `Value`.
    Json(Box<RawValue>),
    Crd(Box<CrdView>),
    Pod(Box<PodView>),
    Service(Box<Service>),
    EndpointSlice(Box<EndpointSlice>),
    Deployment(Box<Deployment>),
}

impl Snapshot {
    fn insert_decoded(&mut self, item: Decoded) {
        self.forget_lookups();
        match item {
            Decoded::Json(text) => {
                self.insert(&json_value(&text));
            }
            Decoded::Crd(c) => push(&mut self.crds, *c),
            Decoded::Pod(p) => push(&mut self.pods, *p),
            Decoded::Service(s) => push(&mut self.services, *s),
            Decoded::EndpointSlice(s) => push(&mut self.endpoint_slices, *s),
            Decoded::Deployment(d) => push(&mut self.deployments, *d),
        }
    }
}

/// What a LIST page says besides its items.
#[derive(Deserialize, Default, Debug)]
struct PageMeta {
    #[serde(rename = "continue", default)]
    continue_token: Option<String>,
}

/// One LIST page: the body is read once into one buffer (no text copy), then its items are decoded
/// one at a time straight from it into what the Snapshot keeps (`decode_item`); pods `keep` refuses
/// are dropped at once. Errors: the body broke off (`Io`), or the page or an item is not JSON (`Json`).
async fn read_page<R>(
    mut body: R,
    target: &Target,
    api_version: &str,
    keep: Option<&(dyn Fn(&PodView) -> bool + Sync)>,
    items: &mut Vec<Decoded>,
) -> std::result::Result<PageMeta, PageError>
where
    R: futures::AsyncRead + Unpin,
{
    use futures::AsyncReadExt;
    let mut bytes = Vec::new();
    body.read_to_end(&mut bytes).await.map_err(PageError::Io)?;
    let mut de = serde_json::Deserializer::from_slice(&bytes);
    let seed = PageSeed {
        on_item: |raw: &RawValue| {
            let item = decode_item(target, api_version, raw)?;
            if let (Some(keep), Decoded::Pod(p)) = (keep, &item) {
                if !keep(p) {
                    return Ok(());
                }
            }
            items.push(item);
            Ok(())
        },
    };
    let meta = seed.deserialize(&mut de).and_then(|meta| de.end().map(|()| meta));
    meta.map_err(PageError::Json)
}

/// Why a page could not be read.
#[derive(Debug)]
enum PageError {
    Io(std::io::Error),
    Json(serde_json::Error),
}

/// Reads a LIST object: `metadata` (for the continue token) and each of `items` handed raw to
/// `on_item` as soon as it is complete; everything else is skipped.
struct PageSeed<F> {
    on_item: F,
}

impl<'de, F> serde::de::DeserializeSeed<'de> for PageSeed<F>
where
    F: FnMut(&RawValue) -> std::result::Result<(), serde_json::Error>,
{
    type Value = PageMeta;

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<PageMeta, D::Error> {
        d.deserialize_map(self)
    }
}

impl<'de, F> serde::de::Visitor<'de> for PageSeed<F>
where
    F: FnMut(&RawValue) -> std::result::Result<(), serde_json::Error>,
{
    type Value = PageMeta;

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a LIST object")
    }

    fn visit_map<A: serde::de::MapAccess<'de>>(mut self, mut map: A) -> std::result::Result<PageMeta, A::Error> {
        let mut meta = PageMeta::default();
        while let Some(key) = map.next_key::<String>()? {
            match key.as_str() {
                "metadata" => meta = map.next_value()?,
                "items" => map.next_value_seed(ItemsSeed { on_item: &mut self.on_item })?,
                _ => {
                    map.next_value::<serde::de::IgnoredAny>()?;
                }
            }
        }
        Ok(meta)
    }
}

/// The `items` array (or null) of a LIST object, item by item.
struct ItemsSeed<'f, F> {
    on_item: &'f mut F,
}

impl<'de, F> serde::de::DeserializeSeed<'de> for ItemsSeed<'_, F>
where
    F: FnMut(&RawValue) -> std::result::Result<(), serde_json::Error>,
{
    type Value = ();

    fn deserialize<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_option(self)
    }
}

impl<'de, F> serde::de::Visitor<'de> for ItemsSeed<'_, F>
where
    F: FnMut(&RawValue) -> std::result::Result<(), serde_json::Error>,
{
    type Value = ();

    fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
        f.write_str("a list of objects")
    }

    fn visit_none<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_unit<E>(self) -> std::result::Result<(), E> {
        Ok(())
    }

    fn visit_some<D: serde::Deserializer<'de>>(self, d: D) -> std::result::Result<(), D::Error> {
        d.deserialize_seq(self)
    }

    fn visit_seq<A: serde::de::SeqAccess<'de>>(self, mut seq: A) -> std::result::Result<(), A::Error> {
        while let Some(raw) = seq.next_element::<&RawValue>()? {
            (self.on_item)(raw).map_err(serde::de::Error::custom)?;
        }
        Ok(())
    }
}

/// managedFields are the bulk of a small object and no check reads them.
fn trim(meta: &mut ObjectMeta) {
    meta.managed_fields = None;
}

/// Decode one list item. Core kinds go straight into their typed form; when that fails (or for
/// every other kind) the item is kept as JSON with apiVersion and kind set, for `Snapshot::insert`.
fn decode_item(target: &Target, api_version: &str, raw: &RawValue) -> std::result::Result<Decoded, serde_json::Error> {
    let text = raw.get();
    let typed = match target.slot {
        // CRDs are mostly OpenAPI schemas, which the view skips without building them.
        Kind::Crds => serde_json::from_str::<CrdView>(text).map(|c| Decoded::Crd(Box::new(c))),
        Kind::Pods => serde_json::from_str::<PodView>(text).map(|o| Decoded::Pod(Box::new(o))),
        Kind::Services => serde_json::from_str::<Service>(text).map(|mut o| {
            trim(&mut o.metadata);
            Decoded::Service(Box::new(o))
        }),
        Kind::EndpointSlices => serde_json::from_str::<EndpointSlice>(text).map(|mut o| {
            trim(&mut o.metadata);
            Decoded::EndpointSlice(Box::new(o))
        }),
        Kind::Deployments => serde_json::from_str::<Deployment>(text).map(|mut o| {
            trim(&mut o.metadata);
            Decoded::Deployment(Box::new(o))
        }),
        _ => return json_item(target, api_version, text),
    };
    typed.or_else(|_| json_item(target, api_version, text))
}

fn json_item(target: &Target, api_version: &str, text: &str) -> std::result::Result<Decoded, serde_json::Error> {
    let mut v: Value = serde_json::from_str(text)?;
    if let Value::Object(m) = &mut v {
        if let Some(Value::Object(meta)) = m.get_mut("metadata") {
            meta.remove("managedFields");
        }
        m.insert("apiVersion".into(), Value::String(api_version.to_string()));
        m.insert("kind".into(), Value::String(target.kind.to_string()));
    }
    serde_json::value::to_raw_value(&v).map(Decoded::Json)
}

/// The object of a `Decoded::Json`, parsed again for `Snapshot::insert`.
fn json_value(text: &RawValue) -> Value {
    serde_json::from_str(text.get()).expect("JSON written by json_item reads back")
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

    // The version and the CRDs together; if the server cannot be reached, the version's error is the
    // one clear error.
    let (info, crd_listing) =
        futures::join!(conn.client.apiserver_version(), list_target(conn, &kinds::CRDS, "v1", None, None, None));
    let info = info.map_err(|e| conn.explain("cannot reach the cluster", &e))?;
    snap.server_version = Collected::Listed(vec![info.git_version]);
    let crd_listing = crd_listing?;
    let served: Option<Vec<CrdView>> = match crd_listing {
        Listing::Items(items) => {
            snap.set_state(Kind::Crds, &SlotState::Listed);
            for i in items {
                snap.insert_decoded(i);
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
    let (mut pool_jobs, mut jobs) = (Vec::new(), Vec::new());
    for target in kinds::LISTED {
        let versions = target.versions_for(served.as_deref());
        let ns = if target.namespaced { namespace } else { None };
        let job = async move {
            if versions.is_empty() {
                return (target, Ok(Listing::Absent));
            }
            for v in &versions {
                match list_target(conn, target, v, ns, None, None).await {
                    Ok(Listing::Absent) => continue,
                    other => return (target, other),
                }
            }
            (target, Ok(Listing::Absent))
        };
        if matches!(target.slot, Kind::InferencePools | Kind::InferencePoolsX) {
            pool_jobs.push(job);
        } else {
            jobs.push(job);
        }
    }
    // Pods are selected by the pools' selectors: list them as soon as the pools are in, while
    // the other kinds are still being listed.
    let pools_then_pods = async {
        let listed = join_all(pool_jobs).await;
        let pools: Vec<InferencePoolView> = listed
            .iter()
            .filter_map(|(_, r)| match r {
                Ok(Listing::Items(items)) => Some(items),
                _ => None,
            })
            .flatten()
            .filter_map(|i| match i {
                // A pool that cannot be read selects no pods; `Snapshot::insert` reports it below.
                Decoded::Json(text) => InferencePoolView::from_value(&json_value(text)).ok(),
                _ => None,
            })
            .collect();
        let pods = list_pods(conn, namespace, &pools).await;
        (listed, pods)
    };
    let ((pool_results, pods), other_results) = futures::join!(pools_then_pods, join_all(jobs));
    let results = pool_results.into_iter().chain(other_results);

    // Kinds listed from several groups (InferenceObjective/Model) share one slot: listed if any was.
    let mut states: Vec<(Kind, Listing)> = Vec::new();
    for (target, res) in results {
        states.push((target.slot, res?));
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
    for (_, listing) in states {
        if let Listing::Items(items) = listing {
            for i in items {
                snap.insert_decoded(i);
            }
        }
    }

    match pods? {
        Listing::Items(items) => {
            snap.set_state(Kind::Pods, &SlotState::Listed);
            // The fleet's biggest slot: sized once rather than regrown (and copied) while filled.
            if let Collected::Listed(pods) = &mut snap.pods {
                pods.reserve_exact(items.len());
            }
            for i in items {
                snap.insert_decoded(i);
            }
        }
        Listing::Forbidden { verb, resource } => snap.set_state(Kind::Pods, &SlotState::Forbidden { verb, resource }),
        Listing::Absent => snap.set_state(Kind::Pods, &SlotState::Listed),
    }
    if let Some(ns) = namespace {
        collect_controllers(conn, &mut snap, ns).await?;
    }
    super::access::collect_access(conn, &mut snap).await?;

    tracing::info!(
        "collected the snapshot from {} (context {}) with {} API requests ({} continuation pages) in {:.2}s",
        conn.server,
        conn.context,
        conn.request_count(),
        conn.page_count(),
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
    let target = kinds::DEPLOYMENTS;
    let jobs = namespaces.iter().map(|ns| list_target(conn, &target, "v1", Some(ns), None, None));
    for listing in join_all(jobs).await {
        if let Listing::Items(items) = listing? {
            for i in items {
                snap.insert_decoded(i);
            }
        }
    }
    Ok(())
}

/// The pods of every pool: selected by label on the server, a few requests for the whole fleet.
///
/// Pool selectors with the same keys are merged into one set-based selector (`app in (a,b,…)`)
/// and listed across the scope at once (split when the selector grows long), instead of one LIST
/// per pool; what the merged selector brings in beyond the pools' own selectors is dropped page by
/// page. Namespaces where a pool's selector matches nothing are then listed whole, so that
/// LLMD-POOL-001 can name the closest pod's differing labels.
async fn list_pods(conn: &Connection, namespace: Option<&str>, pools: &[InferencePoolView]) -> Result<Listing> {
    // namespace → the distinct selectors of its pools.
    let mut wanted: BTreeMap<String, BTreeSet<BTreeMap<String, String>>> = BTreeMap::new();
    for p in pools.iter().filter(|p| !p.selector.is_empty()) {
        wanted.entry(p.metadata.ns().to_string()).or_default().insert(p.selector.clone());
    }
    if wanted.is_empty() {
        return Ok(Listing::Items(Vec::new()));
    }
    let keep = |pod: &PodView| {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("");
        let labels = pod.metadata.labels.as_ref();
        wanted.get(ns).is_some_and(|sels| {
            sels.iter().any(|sel| labels.is_some_and(|l| sel.iter().all(|(k, v)| l.get(k) == Some(v))))
        })
    };
    // One namespace (or -n): list there; several: across all namespaces.
    let scope = match (namespace, wanted.len()) {
        (Some(ns), _) => Some(ns.to_string()),
        (None, 1) => wanted.keys().next().cloned(),
        (None, _) => None,
    };
    let selectors = merged_selectors(wanted.values().flatten());
    let pod_target = kinds::PODS;
    let jobs =
        selectors.iter().map(|sel| list_target(conn, &pod_target, "v1", scope.as_deref(), Some(sel), Some(&keep)));
    let mut items = Vec::new();
    let mut forbidden = None;
    for r in join_all(jobs).await {
        match r? {
            Listing::Items(pods) => items.extend(pods),
            Listing::Forbidden { verb, resource } => forbidden = Some((verb, resource)),
            Listing::Absent => {}
        }
    }
    if let Some((verb, resource)) = forbidden {
        if scope.is_some() {
            return Ok(Listing::Forbidden { verb, resource });
        }
        // Pools may be readable everywhere while pods are only readable in their namespaces.
        items.clear();
        let (pod_target, keep) = (&pod_target, &keep);
        let jobs = wanted.iter().map(|(ns, sels)| async move {
            let mut out = Vec::new();
            for sel in merged_selectors(sels.iter()) {
                out.push(list_target(conn, pod_target, "v1", Some(ns), Some(&sel), Some(keep)).await?);
            }
            Ok::<_, Failure>(out)
        });
        for listings in join_all(jobs).await {
            for listing in listings? {
                match listing {
                    Listing::Items(pods) => items.extend(pods),
                    Listing::Forbidden { verb, resource } => return Ok(Listing::Forbidden { verb, resource }),
                    Listing::Absent => {}
                }
            }
        }
    }
    // Namespaces where a pool selects nothing: list them whole. One pass over the pods, marking
    // the selectors each one satisfies.
    let mut matched: BTreeSet<(&str, &BTreeMap<String, String>)> = BTreeSet::new();
    for i in &items {
        let Decoded::Pod(p) = i else { continue };
        let (Some(ns), Some(labels)) = (p.metadata.namespace.as_deref(), p.metadata.labels.as_ref()) else { continue };
        let Some((ns, sels)) = wanted.get_key_value(ns) else { continue };
        for sel in sels.iter().filter(|sel| sel.iter().all(|(k, v)| labels.get(k) == Some(v))) {
            matched.insert((ns.as_str(), sel));
        }
    }
    let unmatched: BTreeSet<&str> = wanted
        .iter()
        .filter(|(ns, sels)| sels.iter().any(|sel| !matched.contains(&(ns.as_str(), sel))))
        .map(|(ns, _)| ns.as_str())
        .collect();
    let mut seen: BTreeSet<(String, String)> = items
        .iter()
        .filter_map(|i| match i {
            Decoded::Pod(p) => Some((p.metadata.namespace.clone()?, p.metadata.name.clone()?)),
            _ => None,
        })
        .collect();
    let jobs = unmatched.iter().map(|ns| list_target(conn, &pod_target, "v1", Some(ns), None, None));
    for r in join_all(jobs).await {
        if let Listing::Items(pods) = r? {
            for p in pods {
                let key = match &p {
                    Decoded::Pod(p) => p.metadata.namespace.clone().zip(p.metadata.name.clone()),
                    _ => None,
                };
                if key.is_none_or(|k| seen.insert(k)) {
                    items.push(p);
                }
            }
        }
    }
    Ok(Listing::Items(items))
}

/// Set-based label selectors covering `selectors`: one per set of keys (`k1 in (a,b),k2 in (c)`),
/// split into parts of even size so that none is longer than `MAX_SELECTOR_LEN`. A selector
/// repeated (pools in several namespaces) is listed once, so no pod comes back twice. The result may
/// select more than the selectors do (the values combine freely); the collector drops the extra pods.
fn merged_selectors<'a>(selectors: impl Iterator<Item = &'a BTreeMap<String, String>>) -> Vec<String> {
    let mut by_keys: BTreeMap<Vec<&str>, BTreeSet<&BTreeMap<String, String>>> = BTreeMap::new();
    for sel in selectors {
        by_keys.entry(sel.keys().map(String::as_str).collect()).or_default().insert(sel);
    }
    let render = |keys: &[&str], chunk: &[&BTreeMap<String, String>]| -> String {
        keys.iter()
            .map(|k| {
                let values: BTreeSet<&str> = chunk.iter().filter_map(|s| s.get(*k)).map(String::as_str).collect();
                format!("{k} in ({})", values.into_iter().collect::<Vec<_>>().join(","))
            })
            .collect::<Vec<_>>()
            .join(",")
    };
    let mut out = Vec::new();
    for (keys, sels) in by_keys {
        let sels: Vec<_> = sels.into_iter().collect();
        // As few selectors as fit, of even size: their LISTs run concurrently, so the longest sets the time.
        let mut parts = 1;
        loop {
            let size = sels.len().div_ceil(parts);
            let rendered: Vec<String> = sels.chunks(size).map(|chunk| render(&keys, chunk)).collect();
            if size == 1 || rendered.iter().all(|r| r.len() <= MAX_SELECTOR_LEN) {
                out.extend(rendered);
                break;
            }
            parts += 1;
        }
    }
    out
}

/// One paginated LIST, each page decoded item by item into what the Snapshot keeps (pods that
/// `keep` refuses are dropped as their page is read). 404 → Absent, 403 → Forbidden; other
/// errors fail the collection.
async fn list_target(
    conn: &Connection,
    target: &Target,
    version: &str,
    namespace: Option<&str>,
    label_selector: Option<&str>,
    keep: Option<&(dyn Fn(&PodView) -> bool + Sync)>,
) -> Result<Listing> {
    let ar = target.api_resource(version);
    let api_version = ar.api_version.clone();
    let request = kube::core::Request::new(DynamicObject::url_path(&ar, namespace));
    let resource = target.resource();
    let mut items = Vec::new();
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(PAGE_SIZE);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        if let Some(sel) = label_selector {
            lp = lp.labels(sel);
        }
        let req =
            request.list(&lp).map_err(|e| Failure::new(format!("cannot build the request to list {resource}: {e}")))?;
        match conn.client.request_stream(req).await {
            Ok(body) => {
                let page = read_page(body, target, &api_version, keep, &mut items).await;
                let page = page.map_err(|e| match e {
                    PageError::Json(e) => {
                        Failure::new(format!("cannot read the list of {resource} from {}: {e}", conn.server))
                    }
                    PageError::Io(e) => conn.explain(&format!("cannot list {resource}"), &kube::Error::ReadEvents(e)),
                })?;
                token = page.continue_token.filter(|t| !t.is_empty());
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

#[cfg(test)]
mod tests {
    use super::*;
    use futures::TryStreamExt;

    fn selector(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect()
    }

    #[test]
    fn pool_selectors_with_the_same_keys_merge_into_one_set_based_selector() {
        let sels = [
            selector(&[("app", "b")]),
            selector(&[("app", "a")]),
            // The same selector in another namespace.
            selector(&[("app", "b")]),
            selector(&[("app", "a"), ("tier", "gpu")]),
            selector(&[("app", "c"), ("tier", "cpu")]),
        ];
        assert_eq!(merged_selectors(sels.iter()), vec!["app in (a,b)", "app in (a,c),tier in (cpu,gpu)"]);
    }

    #[test]
    fn a_long_set_of_selectors_is_split_below_the_limit() {
        // Every selector twice, as when pools in two namespaces select the same label.
        let sels: Vec<_> = (0..2000).chain(0..2000).map(|i| selector(&[("app", &format!("model-{i:05}"))])).collect();
        let merged = merged_selectors(sels.iter());
        assert!(merged.len() >= 2, "{}", merged.len());
        assert!(merged.iter().all(|s| s.len() <= MAX_SELECTOR_LEN));
        let counts: Vec<usize> = merged.iter().map(|s| s.matches("model-").count()).collect();
        assert!(counts.iter().max().unwrap() - counts.iter().min().unwrap() <= 1, "even parts: {counts:?}");
        let values: usize = merged.iter().map(|s| s.matches("model-").count()).sum();
        assert_eq!(values, 2000, "every pool's value is in exactly one selector");
    }

    fn pod_target() -> Target {
        kinds::PODS
    }

    fn raw(json: &str) -> Box<RawValue> {
        RawValue::from_string(json.to_string()).expect("valid JSON")
    }

    #[test]
    fn a_listed_pod_is_decoded_straight_into_its_narrow_view() {
        let item = raw(r#"{"metadata":{"name":"p","namespace":"ns","labels":{"app":"m"},
                "managedFields":[{"manager":"kubectl","operation":"Apply","fieldsV1":{"f:spec":{}}}]},
                "spec":{"containers":[{"name":"c","ports":[{"containerPort":8000}]}]}}"#);
        match decode_item(&pod_target(), "v1", &item).expect("decodes") {
            Decoded::Pod(p) => {
                assert_eq!(p.metadata.name.as_deref(), Some("p"));
                assert_eq!(p.metadata.labels.as_ref().and_then(|l| l.get("app")).map(String::as_str), Some("m"));
                let ports = &p.spec.as_ref().expect("spec").containers[0].ports;
                assert_eq!(ports.as_ref().map(|p| p[0].container_port), Some(8000));
            }
            _ => panic!("expected a typed pod"),
        }
    }

    #[test]
    fn a_pod_the_typed_form_cannot_read_is_handed_on_as_json_not_dropped() {
        // containers must be a list: the typed decode fails, the object still reaches Snapshot::insert.
        let item = raw(r#"{"metadata":{"name":"odd","namespace":"ns","managedFields":[{"manager":"m"}]},
                           "spec":{"containers":"oops"}}"#);
        let decoded = decode_item(&pod_target(), "v1", &item).expect("decodes");
        match &decoded {
            Decoded::Json(text) => {
                let v = json_value(text);
                assert!(!text.get().contains("managedFields"));
                assert_eq!(v["kind"], "Pod");
                assert_eq!(v["apiVersion"], "v1");
                assert_eq!(v["metadata"]["name"], "odd");
            }
            _ => panic!("expected the JSON fallback"),
        }
        // Inserted, it is reported as unreadable (and its kind marked incomplete), not dropped.
        let mut snap = Snapshot::default();
        snap.set_state(Kind::Pods, &SlotState::Listed);
        snap.insert_decoded(decoded);
        assert_eq!(snap.unreadable.len(), 1);
        assert!(snap.unreadable[0].warning().contains("odd"), "{}", snap.unreadable[0].warning());
        assert!(snap.skip_reason(Kind::Pods).is_some());
    }

    /// A page body arriving in small pieces, as it does from the network.
    fn body(json: &str) -> impl futures::AsyncRead + Unpin {
        let pieces: Vec<std::io::Result<Vec<u8>>> = json.as_bytes().chunks(7).map(|c| Ok(c.to_vec())).collect();
        futures::stream::iter(pieces).into_async_read()
    }

    async fn page(json: &str) -> (std::result::Result<PageMeta, PageError>, Vec<Decoded>) {
        let mut items = Vec::new();
        let meta = read_page(body(json), &pod_target(), "v1", None, &mut items).await;
        (meta, items)
    }

    #[tokio::test]
    async fn a_page_is_decoded_item_by_item_and_gives_its_continue_token() {
        let (meta, items) = page(
            r#"{"kind":"PodList","apiVersion":"v1","metadata":{"continue":"abc","resourceVersion":"7"},
               "items":[{"metadata":{"name":"a","namespace":"ns"}},
                        {"metadata":{"name":"odd","namespace":"ns"},"spec":{"containers":"oops"}},
                        {"metadata":{"name":"b","namespace":"ns"}}]}"#,
        )
        .await;
        assert_eq!(meta.expect("page").continue_token.as_deref(), Some("abc"));
        let names: Vec<String> = items
            .iter()
            .map(|i| match i {
                Decoded::Pod(p) => p.metadata.name.clone().unwrap_or_default(),
                Decoded::Json(text) => format!("json:{}", json_value(text)["metadata"]["name"].as_str().unwrap_or("")),
                _ => "other".into(),
            })
            .collect();
        // The pod the typed form cannot read is still there, handed on as JSON for Snapshot::insert.
        assert_eq!(names, ["a", "json:odd", "b"]);
        let (meta, items) = page(r#"{"metadata":{},"items":null}"#).await;
        assert!(meta.expect("page").continue_token.is_none() && items.is_empty());
    }

    #[tokio::test]
    async fn a_page_that_is_not_json_is_an_error_not_an_empty_list() {
        let (meta, _) = page(r#"{"metadata":{},"items":[{"metadata":{"name":"a"}},{"metad"#).await;
        assert!(matches!(meta, Err(PageError::Json(_))), "{meta:?}");
        let (meta, _) = page("<html>proxy error</html>").await;
        assert!(matches!(meta, Err(PageError::Json(_))), "{meta:?}");
    }

    #[tokio::test]
    async fn pods_the_pools_do_not_select_are_dropped_as_the_page_is_read() {
        let keep = |p: &PodView| p.metadata.name.as_deref() == Some("b");
        let mut items = Vec::new();
        let json = r#"{"items":[{"metadata":{"name":"a"}},{"metadata":{"name":"b"}}]}"#;
        read_page(body(json), &pod_target(), "v1", Some(&keep), &mut items).await.expect("page");
        assert_eq!(items.len(), 1);
    }
}
