//! The offline collector: manifests (files, directories, stdin) → Snapshot. Like `kubectl apply
//! -f`: every document must be an object (or a `*List` of them), input with no object at all is an
//! error, and a namespaced object without a namespace goes to the namespace kubectl would use.

use crate::collect::{describe, kind_of};
use crate::error::{Failure, Result};
use crate::snapshot::{Collected, Kind, SlotState, Snapshot, Source, ALL_KINDS};
use serde_json::Value;
use std::collections::BTreeMap;
use std::io::Read;
use std::path::{Path, PathBuf};

/// One object of a manifest, with where it was.
#[derive(Debug, Clone, PartialEq)]
pub struct Located {
    pub object: Value,
    /// The file as given ("stdin" for `-`).
    pub origin: String,
    /// 1-based document number in the file, counting empty documents as YAML does.
    pub document: usize,
    /// The index in the document's `items` when it is a `*List`.
    pub item: Option<usize>,
}

impl Located {
    /// "gw.yaml (document 2)", "list.json (document 1, items[3])".
    pub fn place(&self) -> String {
        match self.item {
            Some(i) => format!("{} (document {}, items[{i}])", self.origin, self.document),
            None => format!("{} (document {})", self.origin, self.document),
        }
    }

    /// What to pass to `kubectl apply -f` to look at the same input.
    fn file_arg(&self) -> &str {
        if self.origin == "stdin" {
            "-"
        } else {
            &self.origin
        }
    }
}

const OBJECT_HINT: &str = "every YAML document must be one object with apiVersion, kind and metadata.name \
                           (or a kind: List of them), as `kubectl apply -f` expects";

/// Read YAML or JSON text (multi-document; `*List` kinds flattened) into objects, with where each
/// came from. A document or List item that is not a Kubernetes object (a mapping with apiVersion
/// and kind) is an error naming it; empty documents are skipped.
pub fn read_objects(text: &str, origin: &str) -> Result<Vec<Located>> {
    let docs: Vec<serde_saphyr::Spanned<Value>> = serde_saphyr::from_multiple(text).map_err(|e| {
        let detail = e.to_string();
        let first = detail.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        Failure::with_hint(
            format!("invalid YAML in {origin}: {}", first.trim_start_matches("error: ")),
            "fix the document, or check it with `kubectl apply --dry-run=client -f FILE`",
        )
    })?;
    let starts = DocumentStarts::of(text);
    let mut out = Vec::new();
    for doc in docs {
        let document = starts.document_at(doc.referenced.line() as usize);
        let here = Located { object: Value::Null, origin: origin.to_string(), document, item: None };
        match doc.value {
            Value::Object(m) if is_list(&m) => {
                let items = match m.get("items") {
                    None | Some(Value::Null) => Vec::new(),
                    Some(Value::Array(items)) => items.clone(),
                    Some(other) => {
                        return Err(not_an_object(&here, &format!("its items are {}, not a list", what(other))))
                    }
                };
                for (i, item) in items.into_iter().enumerate() {
                    out.push(object(Located { object: item, item: Some(i), ..here.clone() })?);
                }
            }
            value => out.push(object(Located { object: value, ..here })?),
        }
    }
    Ok(out)
}

/// The objects of YAML or JSON text, without where they came from (see `read_objects`).
pub fn parse_manifests(text: &str, origin: &str) -> Result<Vec<Value>> {
    Ok(read_objects(text, origin)?.into_iter().map(|l| l.object).collect())
}

fn is_list(m: &serde_json::Map<String, Value>) -> bool {
    m.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List"))
}

/// `located` when it holds a Kubernetes object, else the error kubectl would give.
fn object(located: Located) -> Result<Located> {
    let Value::Object(m) = &located.object else {
        return Err(not_an_object(&located, &format!("found {}", what(&located.object))));
    };
    let has = |key: &str| m.get(key).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    let missing = match (has("apiVersion"), has("kind")) {
        (true, true) => return Ok(located),
        (false, false) => "apiVersion and kind are missing",
        (false, true) => "apiVersion is missing",
        (true, false) => "kind is missing",
    };
    Err(not_an_object(&located, missing))
}

fn not_an_object(at: &Located, why: &str) -> Failure {
    Failure::with_hint(format!("{} is not a Kubernetes object: {why}", at.place()), OBJECT_HINT)
}

/// "a list", "a string", …: what a value that should have been an object is.
fn what(v: &Value) -> &'static str {
    match v {
        Value::Null => "null",
        Value::Bool(_) => "a boolean",
        Value::Number(_) => "a number",
        Value::String(_) => "a string",
        Value::Array(_) => "a list",
        Value::Object(_) => "a mapping",
    }
}

/// Where documents start, to number them as a reader counts them (serde-saphyr skips empty ones).
struct DocumentStarts {
    /// Lines (1-based) holding a `---` marker.
    markers: Vec<usize>,
    /// Content before the first marker is a document of its own.
    implicit_first: bool,
}

impl DocumentStarts {
    fn of(text: &str) -> Self {
        let is_marker = |l: &str| l == "---" || l.starts_with("--- ") || l.starts_with("---\t");
        let markers: Vec<usize> =
            text.lines().enumerate().filter(|(_, l)| is_marker(l.trim_end())).map(|(i, _)| i + 1).collect();
        let before_first = text.lines().take(markers.first().map_or(usize::MAX, |m| m - 1));
        let implicit_first =
            before_first.map(str::trim).any(|l| !l.is_empty() && !l.starts_with('#') && !l.starts_with('%'));
        DocumentStarts { markers, implicit_first }
    }

    /// The document number of a node on `line`.
    fn document_at(&self, line: usize) -> usize {
        let markers_before = self.markers.iter().filter(|m| **m <= line).count();
        (markers_before + usize::from(self.implicit_first)).max(1)
    }
}

/// Give a namespaced object without `metadata.namespace` the namespace `kubectl apply -f` would.
pub fn place(object: &mut Value, namespace: &str) {
    if kind_of(object).is_none_or(|k| k.is_cluster_scoped()) {
        return;
    }
    let Value::Object(m) = object else { return };
    let meta = m.entry("metadata").or_insert(Value::Null);
    if meta.is_null() {
        *meta = Value::Object(Default::default());
    }
    if let Value::Object(meta) = meta {
        let has_namespace = meta.get("namespace").and_then(Value::as_str).is_some_and(|ns| !ns.is_empty());
        if !has_namespace {
            meta.insert("namespace".into(), Value::String(namespace.to_string()));
        }
    }
}

/// The command that collects a dump doctor reads like a live cluster: every kind it reads, with
/// status, from every namespace (narrow the namespaced kinds with `-n NS`). One `kubectl get` per
/// kind, so that a kind the cluster does not serve (no Istio, no x-k8s pools) is an error on the
/// terminal instead of failing the whole dump.
pub const DUMP_COMMAND: &str = "for r in customresourcedefinitions gatewayclasses.gateway.networking.k8s.io \
gateways.gateway.networking.k8s.io httproutes.gateway.networking.k8s.io referencegrants.gateway.networking.k8s.io \
inferencepools.inference.networking.k8s.io inferencepools.inference.networking.x-k8s.io \
inferenceobjectives.inference.networking.x-k8s.io inferencemodels.inference.networking.x-k8s.io \
inferenceobjectives.llm-d.ai destinationrules.networking.istio.io services endpointslices deployments statefulsets pods \
validatingadmissionpolicies validatingwebhookconfigurations; do kubectl get \"$r\" -A -o yaml; echo ---; done > dump.yaml";

/// True for an object read back from an API server (`kubectl get -o yaml|json`): it carries what
/// only a server writes (uid, resourceVersion, creationTimestamp) or its status.
pub fn from_server(obj: &Value) -> bool {
    let set = |p: &str| obj.pointer(p).and_then(Value::as_str).is_some_and(|s| !s.is_empty());
    set("/metadata/uid")
        || set("/metadata/resourceVersion")
        || set("/metadata/creationTimestamp")
        || obj.get("status").is_some_and(|s| !s.is_null())
}

/// The CRDs that serve a custom kind (any one of them), None for built-in kinds.
fn crds_of(kind: Kind) -> Option<&'static [&'static str]> {
    Some(match kind {
        Kind::GatewayClasses => &["gatewayclasses.gateway.networking.k8s.io"],
        Kind::Gateways => &["gateways.gateway.networking.k8s.io"],
        Kind::HttpRoutes => &["httproutes.gateway.networking.k8s.io"],
        Kind::ReferenceGrants => &["referencegrants.gateway.networking.k8s.io"],
        Kind::InferencePools => &["inferencepools.inference.networking.k8s.io"],
        Kind::InferencePoolsX => &["inferencepools.inference.networking.x-k8s.io"],
        Kind::InferenceObjectives => &[
            "inferenceobjectives.inference.networking.x-k8s.io",
            "inferencemodels.inference.networking.x-k8s.io",
            "inferenceobjectives.llm-d.ai",
        ],
        Kind::DestinationRules => &["destinationrules.networking.istio.io"],
        _ => return None,
    })
}

/// Kinds read together: objects of one show that the dump listed the other too.
fn family(kind: Kind) -> &'static [Kind] {
    match kind {
        Kind::InferencePools | Kind::InferencePoolsX => &[Kind::InferencePools, Kind::InferencePoolsX],
        _ => &[],
    }
}

/// Build a Snapshot from objects. An object of a kind the checks read that they cannot read is an
/// error naming the file, document, object and field.
///
/// Written manifests (no object read from a server) describe what is deployed: what they cannot
/// tell (server version, pods, endpoints, object status, CRDs when none are in the files) is
/// unknown. A dump (objects read back with `kubectl get -o yaml|json`) is read like the cluster it
/// came from: the status of each kind whose objects all carry it is used. A complete dump (it holds
/// the cluster's CRDs) lists every kind: a kind with no object is taken as empty, or as not served
/// when its CRD is not in the dump; in a partial dump, a kind with no object is unknown. The
/// snapshot's notes say which kinds were missing.
pub fn snapshot_from_objects(objects: &[Located], paths: Vec<String>) -> Result<Snapshot> {
    let mut snap = Snapshot { source: Some(Source::Files { paths }), live: false, ..Snapshot::all_listed() };
    // Per kind: objects, and how many of them were read from a server.
    let mut counts: BTreeMap<Kind, (usize, usize)> = BTreeMap::new();
    for located in objects {
        let unreadable = |error: String| {
            Failure::with_hint(
                format!("cannot read {} in {}: {error}", describe(&located.object), located.place()),
                format!(
                    "fix that field; `kubectl apply --dry-run=server -f {}` shows how the API server reads it",
                    located.file_arg()
                ),
            )
        };
        let named = located.object.pointer("/metadata/name").and_then(Value::as_str).is_some_and(|n| !n.is_empty());
        if kind_of(&located.object).is_some() && !named {
            return Err(unreadable("metadata.name is missing".into()));
        }
        if snap.try_insert(&located.object).map_err(|u| unreadable(u.error))? {
            let kind = kind_of(&located.object).expect("inserted objects have a kind");
            let entry = counts.entry(kind).or_default();
            entry.0 += 1;
            entry.1 += usize::from(from_server(&located.object));
        }
    }
    let count = |kind: Kind| counts.get(&kind).copied().unwrap_or_default();
    for kind in ALL_KINDS.iter().copied().filter(|k| k.has_status()) {
        let (objects, read) = count(kind);
        if objects == read {
            snap.status_in_files.insert(kind);
        }
    }
    snap.server_version = offline("the server version");
    snap.sa_access = offline("what ServiceAccounts may do");
    snap.envoy_gateway_config = offline("Envoy Gateway's configuration");
    // Only Envoy Gateway's routes read them: without its class in the files there is nothing to
    // skip (left Absent, as live where they are listed only when Envoy Gateway is present).
    let envoy = snap.gateway_classes.items().iter().any(|c| {
        crate::catalog::provider_for_controller(&c.spec.controller_name)
            .is_some_and(|p| p.id == crate::catalog::ProviderId::EnvoyAiGateway)
    });
    if envoy {
        snap.backend_traffic_policies = offline("Envoy Gateway BackendTrafficPolicies");
    }
    let dump = counts.values().any(|(_, read)| *read > 0);
    snap.dump = dump;
    if !dump {
        mark_manifest_gaps(&mut snap);
        return Ok(snap);
    }
    let (crds, crds_read) = count(Kind::Crds);
    let complete = crds > 0 && crds == crds_read;
    let mut empty = Vec::new();
    let mut missing = Vec::new();
    for kind in ALL_KINDS.iter().copied().filter(|k| *k != Kind::ServerVersion) {
        let listed = |k: Kind| count(k).0 > 0;
        if listed(kind) || family(kind).iter().any(|k| listed(*k)) {
            continue;
        }
        if !complete {
            snap.set_state(kind, &SlotState::Unknown { reason: format!("{}: none in the dump", kind.title()) });
            missing.push(kind.title());
        } else if crds_of(kind).is_some_and(|names| names.iter().all(|n| snap.crd(n).is_none())) {
            // The dump holds the cluster's CRDs and not this kind's: not served, as live.
            snap.set_state(kind, &SlotState::Absent);
        } else {
            empty.push(kind.title());
        }
    }
    if !missing.is_empty() {
        snap.notes.push(format!(
            "missing from the dump (checks reading them were skipped): {}; collect a complete dump with: {DUMP_COMMAND}",
            missing.join(", ")
        ));
    }
    if !empty.is_empty() {
        snap.notes.push(format!(
            "no object in the dump, taken as none in the cluster: {} (the dump holds the cluster's CRDs, so \
             doctor reads it as complete)",
            empty.join(", ")
        ));
    }
    Ok(snap)
}

/// Written manifests: what they cannot tell is unknown.
fn mark_manifest_gaps(snap: &mut Snapshot) {
    if snap.crds.items().is_empty() {
        snap.crds = offline("installed CRDs (none in the files)");
    }
    if snap.gateway_classes.items().is_empty() {
        snap.gateway_classes = offline("GatewayClasses (none in the files)");
    }
    if snap.pods.items().is_empty() {
        snap.pods = offline("running pods");
    }
    if snap.endpoint_slices.items().is_empty() {
        snap.endpoint_slices = offline("ready endpoints");
    }
    if snap.admission_policies.items().is_empty() {
        snap.admission_policies = offline("admission policies");
    }
    if snap.webhooks.items().is_empty() {
        snap.webhooks = offline("admission webhooks");
    }
}

fn offline<T>(what: &str) -> Collected<T> {
    Collected::Unknown { reason: format!("{what} cannot be known offline") }
}

/// Read every path (file, directory of *.yaml/*.yml/*.json, or "-" for stdin) into a Snapshot,
/// placing namespace-less namespaced objects in `namespace`. Input holding no object is an error.
pub fn collect_files(paths: &[PathBuf], namespace: &str) -> Result<Snapshot> {
    let mut objects = Vec::new();
    let mut names = Vec::new();
    let mut empty = Vec::new();
    for path in paths {
        let before = objects.len();
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::new(format!("cannot read manifests from stdin: {e}")))?;
            objects.extend(read_objects(&text, "stdin")?);
            names.push("-".to_string());
        } else {
            let files = manifest_files(path)?;
            for file in &files {
                let text = std::fs::read_to_string(file).map_err(|e| {
                    Failure::with_hint(format!("cannot read {}: {e}", file.display()), "check the path given to -f")
                })?;
                objects.extend(read_objects(&text, &file.display().to_string())?);
            }
            names.push(path.display().to_string());
            if files.is_empty() {
                empty.push(format!("{} holds no *.yaml, *.yml or *.json file", path.display()));
                continue;
            }
        }
        if objects.len() == before {
            let name = if path.as_os_str() == "-" { "stdin".to_string() } else { path.display().to_string() };
            empty.push(format!("{name} holds no Kubernetes object"));
        }
    }
    if objects.is_empty() {
        return Err(Failure::with_hint(
            format!("no objects passed to doctor: {}", empty.join("; ")),
            "-f takes YAML or JSON manifests (a file, a directory of them, or - for stdin) holding objects \
             with apiVersion and kind, as `kubectl apply -f` does",
        ));
    }
    for located in &mut objects {
        place(&mut located.object, namespace);
    }
    snapshot_from_objects(&objects, names)
}

/// Every YAML/JSON file of a file or directory (recursively), sorted.
pub fn manifest_files(path: &Path) -> Result<Vec<PathBuf>> {
    let meta = std::fs::metadata(path).map_err(|e| {
        Failure::with_hint(format!("cannot read {}: {e}", path.display()), "check the path given to -f")
    })?;
    if meta.is_file() {
        return Ok(vec![path.to_path_buf()]);
    }
    let mut files = Vec::new();
    let mut stack = vec![path.to_path_buf()];
    while let Some(dir) = stack.pop() {
        let entries =
            std::fs::read_dir(&dir).map_err(|e| Failure::new(format!("cannot list {}: {e}", dir.display())))?;
        for entry in entries.flatten() {
            let p = entry.path();
            if p.is_dir() {
                stack.push(p);
            } else if p.extension().and_then(|e| e.to_str()).is_some_and(|e| matches!(e, "yaml" | "yml" | "json")) {
                files.push(p);
            }
        }
    }
    files.sort();
    Ok(files)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error(text: &str) -> String {
        let f = read_objects(text, "in.yaml").expect_err("not objects");
        assert_eq!(f.hint.as_deref(), Some(OBJECT_HINT));
        f.message
    }

    #[test]
    fn a_document_that_is_not_an_object_is_an_error_naming_it() {
        assert_eq!(error("- a\n- b\n"), "in.yaml (document 1) is not a Kubernetes object: found a list");
        assert_eq!(error("just text\n"), "in.yaml (document 1) is not a Kubernetes object: found a string");
        assert_eq!(
            error("name: x\n"),
            "in.yaml (document 1) is not a Kubernetes object: apiVersion and kind are missing"
        );
        assert_eq!(
            error("apiVersion: v1\nkind: Service\nmetadata: {name: a}\n---\nkind: Service\n"),
            "in.yaml (document 2) is not a Kubernetes object: apiVersion is missing"
        );
        assert_eq!(
            error("apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Service\n- 42\n"),
            "in.yaml (document 1, items[1]) is not a Kubernetes object: found a number"
        );
        assert_eq!(
            error("apiVersion: v1\nkind: List\nitems: {a: b}\n"),
            "in.yaml (document 1) is not a Kubernetes object: its items are a mapping, not a list"
        );
        assert_eq!(
            error("apiVersion: v1\nkind: List\nitems: [{apiVersion: v1}]\n"),
            "in.yaml (document 1, items[0]) is not a Kubernetes object: kind is missing"
        );
    }

    #[test]
    fn documents_are_numbered_as_written_counting_empty_ones() {
        // Helm output: a leading marker, a comment-only (empty) document, then objects.
        let text = "# rendered\n---\n# Source: empty.yaml\n---\n# Source: svc.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: a}\n--- \n- x\n";
        assert_eq!(error(text), "in.yaml (document 3) is not a Kubernetes object: found a list");
        let objects =
            read_objects("apiVersion: v1\nkind: Service\n---\napiVersion: v1\nkind: Pod\n", "in.yaml").unwrap();
        assert_eq!(
            objects.iter().map(Located::place).collect::<Vec<_>>(),
            ["in.yaml (document 1)", "in.yaml (document 2)"]
        );
        let objects = read_objects(r#"{"apiVersion": "v1", "kind": "List", "items": []}"#, "in.json").unwrap();
        assert!(objects.is_empty());
        assert!(read_objects("", "in.yaml").unwrap().is_empty());
        assert!(read_objects("# nothing\n---\n", "in.yaml").unwrap().is_empty());
    }

    #[test]
    fn namespaced_objects_without_a_namespace_are_placed_like_kubectl() {
        let mut objects = parse_manifests(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: a}\n---\n\
             apiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: b, namespace: ''}\n---\n\
             apiVersion: v1\nkind: Service\nmetadata: {name: c, namespace: kept}\n---\n\
             apiVersion: apps/v1\nkind: Deployment\n---\n\
             apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: d}\n---\n\
             apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata: {name: e}\n---\n\
             apiVersion: v1\nkind: ConfigMap\nmetadata: {name: f}\n",
            "t",
        )
        .unwrap();
        for o in &mut objects {
            place(o, "team");
        }
        let ns: Vec<Option<&str>> =
            objects.iter().map(|o| o.pointer("/metadata/namespace").and_then(Value::as_str)).collect();
        assert_eq!(ns, [Some("team"), Some("team"), Some("kept"), Some("team"), None, None, None]);
    }

    fn collect_error(paths: &[PathBuf]) -> (String, Option<String>) {
        let f = collect_files(paths, "default").expect_err("no objects");
        (f.message, f.hint)
    }

    #[test]
    fn input_without_any_object_is_an_error() {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        let (message, hint) = collect_error(&[d.to_path_buf()]);
        assert_eq!(
            message,
            format!("no objects passed to doctor: {} holds no *.yaml, *.yml or *.json file", d.display())
        );
        assert_eq!(
            hint.as_deref(),
            Some("-f takes YAML or JSON manifests (a file, a directory of them, or - for stdin) holding objects with apiVersion and kind, as `kubectl apply -f` does")
        );
        std::fs::write(d.join("empty.yaml"), "").unwrap();
        std::fs::write(d.join("comments.yml"), "# nothing here\n---\n").unwrap();
        std::fs::write(d.join("list.json"), r#"{"apiVersion": "v1", "kind": "List", "items": []}"#).unwrap();
        let (message, _) = collect_error(&[d.to_path_buf()]);
        assert_eq!(message, format!("no objects passed to doctor: {} holds no Kubernetes object", d.display()));
        let empty = d.join("empty.yaml");
        let (message, _) = collect_error(&[empty.clone(), d.join("list.json")]);
        assert_eq!(
            message,
            format!(
                "no objects passed to doctor: {} holds no Kubernetes object; {} holds no Kubernetes object",
                empty.display(),
                d.join("list.json").display()
            )
        );
        // An object of a kind doctor does not read is still an object: that input is fine.
        std::fs::write(d.join("cm.yaml"), "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n").unwrap();
        assert!(collect_files(&[d.to_path_buf()], "default").is_ok());
    }

    #[test]
    fn an_object_doctor_cannot_read_names_file_document_object_and_field() {
        let dir = tempfile::tempdir().unwrap();
        let file = dir.path().join("gw.yaml");
        std::fs::write(
            &file,
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: gateway.networking.k8s.io/v1\n\
             kind: Gateway\nmetadata: {name: gw}\nspec:\n  listeners:\n  - name: http\n    port: http\n",
        )
        .unwrap();
        let f = collect_files(std::slice::from_ref(&file), "team").expect_err("unreadable");
        assert_eq!(
            f.message,
            format!(
                r#"cannot read Gateway team/gw in {} (document 2): spec.listeners[0].port: invalid type: string "http", expected i64"#,
                file.display()
            )
        );
        assert_eq!(
            f.hint.unwrap(),
            format!(
                "fix that field; `kubectl apply --dry-run=server -f {}` shows how the API server reads it",
                file.display()
            )
        );
        std::fs::write(&file, "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {labels: {a: b}}\n")
            .unwrap();
        let f = collect_files(std::slice::from_ref(&file), "team").expect_err("no name");
        assert_eq!(
            f.message,
            format!("cannot read Gateway (no name) in {} (document 1): metadata.name is missing", file.display())
        );
    }

    /// A `kubectl get -o yaml` dump: CRDs (GAIE v1 pools and Gateway API), a Gateway the
    /// controller did not accept, a route without status, a pool; no ReferenceGrant, no Istio.
    const DUMP: &str = r#"
apiVersion: v1
kind: List
items:
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata: {name: gateways.gateway.networking.k8s.io, uid: u1, resourceVersion: "10"}
  spec: {group: gateway.networking.k8s.io, names: {kind: Gateway, plural: gateways}, scope: Namespaced,
         versions: [{name: v1, served: true, storage: true}]}
  status: {storedVersions: [v1]}
- apiVersion: apiextensions.k8s.io/v1
  kind: CustomResourceDefinition
  metadata: {name: referencegrants.gateway.networking.k8s.io, uid: u2, resourceVersion: "11"}
  spec: {group: gateway.networking.k8s.io, names: {kind: ReferenceGrant, plural: referencegrants}, scope: Namespaced,
         versions: [{name: v1beta1, served: true, storage: true}]}
  status: {storedVersions: [v1beta1]}
- apiVersion: gateway.networking.k8s.io/v1
  kind: Gateway
  metadata: {name: gw, namespace: llm, uid: u3, resourceVersion: "12"}
  spec: {gatewayClassName: istio, listeners: [{name: http, port: 80, protocol: HTTP}]}
  status: {conditions: [{type: Accepted, status: "False", reason: InvalidParameters, message: bad}]}
- apiVersion: gateway.networking.k8s.io/v1
  kind: HTTPRoute
  metadata: {name: r, namespace: llm, uid: u4, resourceVersion: "13"}
  spec: {parentRefs: [{name: gw}]}
"#;

    fn dump(text: &str) -> Snapshot {
        snapshot_from_objects(&read_objects(text, "dump.yaml").unwrap(), vec!["dump.yaml".into()]).unwrap()
    }

    #[test]
    fn a_dump_is_read_like_the_cluster_it_came_from() {
        let snap = dump(DUMP);
        // Status read back from the server is used, also where the server had none (the route).
        for kind in [Kind::Crds, Kind::Gateways, Kind::HttpRoutes] {
            assert!(snap.has_status(kind), "{kind:?}");
        }
        assert_eq!(snap.gateways.items()[0].status.conditions[0].reason, "InvalidParameters");
        // It holds the cluster's CRDs: kinds without objects are empty, or not served without a CRD.
        assert!(snap.reference_grants.is_listed() && snap.pods.is_listed());
        assert_eq!(snap.skip_reason(Kind::Pods), None);
        assert!(matches!(snap.destination_rules, Collected::Absent));
        assert!(matches!(snap.pools, Collected::Absent));
        assert_eq!(
            snap.skip_reason(Kind::ServerVersion).as_deref(),
            Some("the server version cannot be known offline")
        );
        assert_eq!(snap.notes.len(), 1, "{:?}", snap.notes);
        assert!(
            snap.notes[0].starts_with("no object in the dump, taken as none in the cluster: ReferenceGrants, Services, EndpointSlices, Deployments, StatefulSets, Pods,"),
            "{}",
            snap.notes[0]
        );
    }

    #[test]
    fn a_dump_without_crds_is_partial_and_its_missing_kinds_are_unknown() {
        let text = DUMP.replace("kind: CustomResourceDefinition", "kind: ConfigMap");
        let snap = dump(&text);
        assert!(snap.has_status(Kind::Gateways));
        assert_eq!(snap.skip_reason(Kind::Pods).as_deref(), Some("Pods: none in the dump"));
        assert_eq!(snap.skip_reason(Kind::Crds).as_deref(), Some("CustomResourceDefinitions: none in the dump"));
        assert_eq!(snap.skip_reason(Kind::Gateways), None);
        assert_eq!(snap.notes.len(), 1);
        assert!(snap.notes[0].starts_with("missing from the dump (checks reading them were skipped): CustomResourceDefinitions, GatewayClasses, ReferenceGrants, InferencePools (inference.networking.k8s.io), InferencePools (inference.networking.x-k8s.io), InferenceObjectives, Services,"), "{}", snap.notes[0]);
        assert!(snap.notes[0].contains(DUMP_COMMAND));
    }

    #[test]
    fn status_of_a_kind_is_used_only_when_every_object_of_it_was_read_from_a_server() {
        let text = format!(
            "{DUMP}---\napiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: new, namespace: llm}}\nspec: {{gatewayClassName: istio}}\n"
        );
        let snap = dump(&text);
        assert!(!snap.has_status(Kind::Gateways));
        assert_eq!(
            snap.status_skip_reason(Kind::Gateways).as_deref(),
            Some("needs object status: the Gateways in the files are manifests, not `kubectl get -o yaml` output")
        );
        assert!(snap.has_status(Kind::HttpRoutes));
        // Written manifests alone: no status, and what they cannot tell is unknown, as before.
        let manifests =
            dump("apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {name: gw, namespace: llm}\n");
        assert!(!manifests.has_status(Kind::Gateways) && manifests.notes.is_empty());
        assert!(manifests.reference_grants.is_listed());
        assert!(manifests.skip_reason(Kind::Pods).is_some());
    }

    #[test]
    fn the_readme_documents_the_dump_command_the_notes_print() {
        let readme = include_str!("../../README.md").replace("\\\n", "");
        assert!(readme.contains(DUMP_COMMAND), "README.md's dump command differs from {DUMP_COMMAND}");
        assert!(!DUMP_COMMAND.contains('\n'));
    }

    /// A "billion laughs" document: 9 levels of 10 aliases each would expand to 10^9 strings.
    fn alias_bomb() -> String {
        let mut text = String::from("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\na0: &a0 [lol]\n");
        for i in 1..10 {
            let refs = vec![format!("*a{}", i - 1); 10].join(", ");
            text.push_str(&format!("a{i}: &a{i} [{refs}]\n"));
        }
        text.push_str("data: {x: *a9}\n");
        text
    }

    #[test]
    fn alias_bombs_and_deep_nesting_are_refused_with_the_budget_error() {
        let started = std::time::Instant::now();
        let f = read_objects(&alias_bomb(), "bomb.yaml").expect_err("alias bomb");
        assert!(f.message.starts_with("invalid YAML in bomb.yaml: "), "{}", f.message);
        assert!(f.message.contains("budget breached"), "{}", f.message);
        for deep in ["[".repeat(100_000), "{a: ".repeat(100_000), "- ".repeat(100_000), "{\"a\":".repeat(100_000)] {
            let f = read_objects(&deep, "deep.yaml").expect_err("deep nesting");
            assert!(f.message.starts_with("invalid YAML in deep.yaml: "), "{}", f.message);
            assert!(!f.message.contains('\n'), "one line: {}", f.message);
            assert!(
                f.message.contains("recursion limit exceeded") || f.message.contains("budget breached"),
                "{}",
                f.message
            );
        }
        // Bounded, not instant: an unoptimised test build expands up to the 250,000-node budget (~7 s under
        // load); the release binary refuses it far sooner (fuzz target `manifests`).
        assert!(started.elapsed() < std::time::Duration::from_secs(60), "refused: {:?}", started.elapsed());
    }
}
