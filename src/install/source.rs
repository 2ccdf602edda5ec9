//! Where the CRD bundles come from: the upstream repositories by git ref (or a mirror laid out the
//! same way), or local files for air-gapped clusters.
//!
//! Upstream layout (what `kubectl apply -k https://github.com/<repo>/config/crd?ref=REF` reads):
//! - `https://raw.githubusercontent.com/<repo>/<REF>/config/crd/kustomization.yaml` lists the files
//!   (`resources:`), each fetched from `…/<REF>/config/crd/<file>`;
//! - when that file cannot be read and REF is a release tag, the release asset
//!   `https://github.com/<repo>/releases/download/<REF>/<asset>` (`standard-install.yaml` for
//!   Gateway API, `manifests.yaml` for GAIE).

use crate::collect::offline::{manifest_files, parse_manifests};
use crate::error::{Failure, Result};
use serde_json::Value;
use std::path::{Path, PathBuf};
use std::time::Duration;

/// Raw file host.
pub const RAW_BASE: &str = "https://raw.githubusercontent.com";
/// Release asset host.
pub const GITHUB_BASE: &str = "https://github.com";
/// Environment variable replacing both hosts (a mirror, or the tests' loopback server).
pub const BASE_URL_ENV: &str = "LLMD_CRDS_BASE_URL";

use crate::catalog::BundleKind;

/// One bundle to install: its objects and where they came from.
#[derive(Debug, Clone)]
pub struct Bundle {
    pub kind: BundleKind,
    /// The git ref or version asked for ("v1.3.0", "main"); for files, the bundle-version annotation.
    pub git_ref: String,
    /// Every object, in apply order (CRDs first).
    pub objects: Vec<Value>,
    /// URLs or paths read.
    pub origin: Vec<String>,
}

/// Where to read bundles from.
#[derive(Debug, Clone)]
pub enum CrdSource {
    /// The upstream repositories (or a mirror with the same layout).
    Upstream {
        /// Replaces https://raw.githubusercontent.com.
        raw_base: String,
        /// Replaces https://github.com.
        github_base: String,
    },
    /// Local YAML files (a file or a directory).
    Files(PathBuf),
}

impl CrdSource {
    /// Upstream, or the mirror at `base` replacing both GitHub hosts.
    pub fn upstream(base: Option<&str>) -> Self {
        match base.map(|b| b.trim_end_matches('/')).filter(|b| !b.is_empty()) {
            Some(b) => CrdSource::Upstream { raw_base: b.to_string(), github_base: b.to_string() },
            None => CrdSource::Upstream { raw_base: RAW_BASE.into(), github_base: GITHUB_BASE.into() },
        }
    }
}

/// The URL of the kustomization listing a bundle's files at `git_ref`.
pub fn kustomization_url(raw_base: &str, kind: BundleKind, git_ref: &str) -> String {
    format!("{raw_base}/{}/{git_ref}/config/crd/kustomization.yaml", kind.repo())
}

/// The release asset URL of a bundle at tag `git_ref`.
pub fn release_asset_url(github_base: &str, kind: BundleKind, git_ref: &str) -> String {
    format!("{github_base}/{}/releases/download/{git_ref}/{}", kind.repo(), kind.release_asset())
}

/// Fetch one bundle at `git_ref`.
pub async fn fetch_bundle(source: &CrdSource, kind: BundleKind, git_ref: &str, timeout: Duration) -> Result<Bundle> {
    let CrdSource::Upstream { raw_base, github_base } = source else {
        return Err(Failure::new("fetch_bundle needs an upstream source"));
    };
    let http = Http::new(timeout)?;
    let kust_url = kustomization_url(raw_base, kind, git_ref);
    match http.get(&kust_url).await? {
        Fetched::Body(text) => {
            let files = kustomization_resources(&text).map_err(|e| {
                Failure::with_hint(
                    format!("cannot read the file list of {kust_url}: {e}; nothing was applied"),
                    "check the version and --crds-base-url (a mirror must serve the upstream files unchanged), or install from files with --crds-from PATH",
                )
            })?;
            let base = kust_url.trim_end_matches("kustomization.yaml").to_string();
            let mut objects = Vec::new();
            let mut origin = Vec::new();
            for file in files {
                let url = format!("{base}{file}");
                match http.get(&url).await? {
                    Fetched::Body(text) => objects.extend(downloaded_objects(&text, &url)?),
                    Fetched::NotFound => return Err(Failure::new(format!("{url} listed by {kust_url} was not found"))),
                }
                origin.push(url);
            }
            Ok(Bundle { kind, git_ref: git_ref.to_string(), objects: order(objects), origin })
        }
        Fetched::NotFound => {
            let asset = release_asset_url(github_base, kind, git_ref);
            match http.get(&asset).await? {
                Fetched::Body(text) => Ok(Bundle {
                    kind,
                    git_ref: git_ref.to_string(),
                    objects: order(downloaded_objects(&text, &asset)?),
                    origin: vec![asset],
                }),
                Fetched::NotFound => Err(Failure::with_hint(
                    format!("{} {git_ref} not found: neither {kust_url} nor {asset} exists", kind.label()),
                    "check the version (any tag, branch or commit of the repository), or install from files with --crds-from PATH",
                )),
            }
        }
    }
}

/// The objects of a downloaded file; anything that is not a Kubernetes object (an error page, a
/// truncated file) fails the whole download before anything is applied.
fn downloaded_objects(text: &str, url: &str) -> Result<Vec<Value>> {
    let hint = "the server did not return the upstream YAML: check the version and --crds-base-url, or install from files with --crds-from PATH";
    let objects = parse_manifests(text, url)
        .map_err(|f| Failure::with_hint(format!("{}; nothing was applied", f.message), hint))?;
    let named = |o: &Value| {
        o.get("apiVersion").and_then(Value::as_str).is_some()
            && o.get("kind").and_then(Value::as_str).is_some()
            && o.pointer("/metadata/name").and_then(Value::as_str).is_some()
    };
    if objects.is_empty() || !objects.iter().all(named) {
        return Err(Failure::with_hint(
            format!(
                "{url} holds no Kubernetes objects (or objects without apiVersion, kind and name); nothing was applied"
            ),
            hint,
        ));
    }
    Ok(objects)
}

/// Read bundles from local files: objects are split by API group into the two bundles.
pub fn read_files(path: &Path) -> Result<Vec<Bundle>> {
    let mut by_kind: Vec<Bundle> = Vec::new();
    for file in manifest_files(path)? {
        let text = std::fs::read_to_string(&file)
            .map_err(|e| Failure::with_hint(format!("cannot read {}: {e}", file.display()), "check --crds-from"))?;
        for obj in parse_manifests(&text, &file.display().to_string())? {
            let Some(kind) = object_bundle(&obj) else { continue };
            let origin = file.display().to_string();
            match by_kind.iter_mut().find(|b| b.kind == kind) {
                Some(b) => {
                    b.objects.push(obj);
                    if !b.origin.contains(&origin) {
                        b.origin.push(origin);
                    }
                }
                None => by_kind.push(Bundle { kind, git_ref: String::new(), objects: vec![obj], origin: vec![origin] }),
            }
        }
    }
    if by_kind.is_empty() {
        return Err(Failure::with_hint(
            format!("{} holds no Gateway API or Inference Extension CRDs", path.display()),
            "point --crds-from at the bundle's YAML (e.g. standard-install.yaml and manifests.yaml)",
        ));
    }
    for b in &mut by_kind {
        b.objects = order(std::mem::take(&mut b.objects));
        b.git_ref = bundle_version_of(b).unwrap_or_else(|| "(unversioned)".into());
    }
    by_kind.sort_by_key(|b| b.kind);
    Ok(by_kind)
}

/// The bundle an object belongs to: CRDs by spec.group, the safe-upgrades policy by its annotation.
pub fn object_bundle(obj: &Value) -> Option<BundleKind> {
    let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
    if kind == "CustomResourceDefinition" {
        return obj.pointer("/spec/group").and_then(Value::as_str).and_then(BundleKind::of_group);
    }
    let annotations = obj.pointer("/metadata/annotations");
    if annotations.and_then(|a| a.get(crate::catalog::annotations::GATEWAY_BUNDLE)).is_some() {
        return Some(BundleKind::GatewayApi);
    }
    if annotations.and_then(|a| a.get(crate::catalog::annotations::INFERENCE_BUNDLE)).is_some() {
        return Some(BundleKind::Gaie);
    }
    None
}

/// The bundle-version annotation most CRDs of the bundle carry.
pub fn bundle_version_of(b: &Bundle) -> Option<String> {
    let key = match b.kind {
        BundleKind::GatewayApi => crate::catalog::annotations::GATEWAY_BUNDLE,
        BundleKind::Gaie => crate::catalog::annotations::INFERENCE_BUNDLE,
    };
    b.objects
        .iter()
        .filter(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"))
        .find_map(|o| o.pointer("/metadata/annotations").and_then(|a| a.get(key)).and_then(Value::as_str))
        .map(str::to_string)
}

/// CRDs first (policies may name their kinds), each group in file order.
fn order(objects: Vec<Value>) -> Vec<Value> {
    let (mut crds, rest): (Vec<Value>, Vec<Value>) =
        objects.into_iter().partition(|o| o.get("kind").and_then(Value::as_str) == Some("CustomResourceDefinition"));
    crds.extend(rest);
    crds
}

/// The `resources:` of a kustomization. Anything that would change the files (patches, generators,
/// nested kustomizations) is refused rather than silently ignored.
pub fn kustomization_resources(text: &str) -> std::result::Result<Vec<String>, String> {
    let v: Value = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    let Some(map) = v.as_object() else { return Err("not a mapping".into()) };
    for (key, value) in map {
        let empty = value.is_null() || value.as_array().is_some_and(Vec::is_empty);
        if !matches!(key.as_str(), "resources" | "apiVersion" | "kind") && !empty {
            return Err(format!("uses `{key}`, which this installer does not apply"));
        }
    }
    let resources: Vec<String> = map
        .get("resources")
        .and_then(Value::as_array)
        .map(|a| a.iter().filter_map(Value::as_str).map(str::to_string).collect())
        .unwrap_or_default();
    if resources.is_empty() {
        return Err("lists no resources".into());
    }
    if let Some(r) = resources.iter().find(|r| !r.ends_with(".yaml") && !r.ends_with(".yml")) {
        return Err(format!("resource {r:?} is not a YAML file"));
    }
    Ok(resources)
}

enum Fetched {
    Body(String),
    NotFound,
}

/// The HTTP(S) client of bundle downloads (reqwest on rustls with the system's roots): honours
/// HTTPS_PROXY / HTTP_PROXY / NO_PROXY from the environment, follows up to five redirects (release
/// assets redirect to a CDN), and gives each download `timeout` in all (connecting: at most 30s of it).
struct Http {
    client: reqwest::Client,
}

impl Http {
    fn new(timeout: Duration) -> Result<Self> {
        let client = reqwest::Client::builder()
            .user_agent(concat!("kubectl-llmd/", env!("CARGO_PKG_VERSION")))
            .redirect(reqwest::redirect::Policy::limited(5))
            .connect_timeout(timeout.min(Duration::from_secs(30)))
            .timeout(timeout)
            .build()
            .map_err(|e| Failure::new(format!("cannot set up the HTTP client: {}", crate::error::root_cause(&e))))?;
        Ok(Http { client })
    }

    /// GET `url`.
    async fn get(&self, url: &str) -> Result<Fetched> {
        tracing::info!("GET {url}");
        let failed = |e: reqwest::Error| {
            let cause = if e.is_timeout() {
                "no answer within the timeout".to_string()
            } else if e.is_redirect() {
                "too many redirects".to_string()
            } else {
                crate::error::root_cause(&e)
            };
            unreachable_failure(url, &cause)
        };
        let resp = self.client.get(url).send().await.map_err(failed)?;
        let status = resp.status();
        if status == reqwest::StatusCode::NOT_FOUND {
            return Ok(Fetched::NotFound);
        }
        if !status.is_success() {
            return Err(unreachable_failure(url, &format!("the server answered {status}")));
        }
        let body = resp.bytes().await.map_err(|e| {
            if e.is_timeout() {
                unreachable_failure(url, "the download did not finish within the timeout")
            } else {
                failed(e)
            }
        })?;
        String::from_utf8(body.to_vec()).map(Fetched::Body).map_err(|_| {
            Failure::with_hint(
                format!("{url} is not UTF-8 text; nothing was applied"),
                "the mirror served something other than YAML: check --crds-base-url, or install from files with --crds-from PATH",
            )
        })
    }
}

fn unreachable_failure(url: &str, cause: &str) -> Failure {
    Failure::with_hint(
        format!("cannot download {url}: {cause}"),
        format!(
            "without access to GitHub, point --crds-base-url (or {BASE_URL_ENV}) at a mirror with the same layout, or install from files with --crds-from PATH"
        ),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_follow_the_upstream_layout() {
        let CrdSource::Upstream { raw_base, github_base } = CrdSource::upstream(None) else { panic!() };
        assert_eq!(
            kustomization_url(&raw_base, BundleKind::GatewayApi, "v1.3.0"),
            "https://raw.githubusercontent.com/kubernetes-sigs/gateway-api/v1.3.0/config/crd/kustomization.yaml"
        );
        assert_eq!(
            release_asset_url(&github_base, BundleKind::Gaie, "v1.0.1"),
            "https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download/v1.0.1/manifests.yaml"
        );
        let CrdSource::Upstream { raw_base, .. } = CrdSource::upstream(Some("http://127.0.0.1:9/")) else { panic!() };
        assert_eq!(raw_base, "http://127.0.0.1:9");
    }

    #[test]
    fn kustomization_lists_files_and_refuses_patches() {
        let ok = "resources:\n- standard/a.yaml\n- standard/b.yaml\npatches:\n";
        assert_eq!(kustomization_resources(ok).unwrap(), vec!["standard/a.yaml", "standard/b.yaml"]);
        assert!(kustomization_resources("resources: [a.yaml]\npatches:\n- path: p.yaml\n").is_err());
        assert!(kustomization_resources("resources: [../other]\n").is_err());
    }
}
