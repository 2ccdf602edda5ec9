//! The offline collector: manifests (files, directories, stdin) → Snapshot.

use crate::error::{Failure, Result};
use crate::snapshot::{Collected, Snapshot, Source};
use serde_json::Value;
use std::io::Read;
use std::path::{Path, PathBuf};

/// Parse YAML or JSON text (multi-document; `List` kinds flattened) into objects.
pub fn parse_manifests(text: &str, origin: &str) -> Result<Vec<Value>> {
    let docs: Vec<Value> = serde_saphyr::from_multiple(text).map_err(|e| {
        let detail = e.to_string();
        let first = detail.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
        Failure::with_hint(
            format!("invalid YAML in {origin}: {}", first.trim_start_matches("error: ")),
            "fix the document, or check it with `kubectl apply --dry-run=client -f FILE`",
        )
    })?;
    let mut out = Vec::new();
    for doc in docs {
        flatten(doc, &mut out);
    }
    Ok(out)
}

fn flatten(doc: Value, out: &mut Vec<Value>) {
    match doc {
        Value::Null => {}
        Value::Object(ref m) if m.get("kind").and_then(Value::as_str).is_some_and(|k| k.ends_with("List")) => {
            if let Some(Value::Array(items)) = m.get("items") {
                for item in items.clone() {
                    flatten(item, out);
                }
            }
        }
        Value::Array(items) => items.into_iter().for_each(|i| flatten(i, out)),
        other => out.push(other),
    }
}

/// Build a Snapshot from objects, marking what manifests cannot tell as unknown.
pub fn snapshot_from_objects(objects: &[Value], paths: Vec<String>) -> Snapshot {
    let mut snap = Snapshot { source: Some(Source::Files { paths }), live: false, ..Snapshot::all_listed() };
    for obj in objects {
        snap.insert(obj);
    }
    if snap.crds.items().is_empty() {
        snap.crds = offline("installed CRDs (none in the files)");
    }
    if snap.gateway_classes.items().is_empty() {
        snap.gateway_classes = offline("GatewayClasses (none in the files)");
    }
    snap.server_version = offline("the server version");
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
    snap
}

fn offline<T>(what: &str) -> Collected<T> {
    Collected::Unknown { reason: format!("{what} cannot be known offline") }
}

/// Read every path (file, directory of *.yaml/*.yml/*.json, or "-" for stdin) into a Snapshot.
pub fn collect_files(paths: &[PathBuf]) -> Result<Snapshot> {
    let mut objects = Vec::new();
    let mut names = Vec::new();
    for path in paths {
        if path.as_os_str() == "-" {
            let mut text = String::new();
            std::io::stdin()
                .read_to_string(&mut text)
                .map_err(|e| Failure::new(format!("cannot read manifests from stdin: {e}")))?;
            objects.extend(parse_manifests(&text, "stdin")?);
            names.push("-".to_string());
            continue;
        }
        for file in manifest_files(path)? {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Failure::with_hint(format!("cannot read {}: {e}", file.display()), "check the path given to -f")
            })?;
            objects.extend(parse_manifests(&text, &file.display().to_string())?);
        }
        names.push(path.display().to_string());
    }
    Ok(snapshot_from_objects(&objects, names))
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
