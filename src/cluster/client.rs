//! A kube client built from kubectl's flags, the way kubectl resolves them.

use crate::cli::GlobalFlags;
use crate::error::{explain_kube_error, Failure, Result};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::{Path, PathBuf};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::Duration;

/// A connection to one cluster, with what the commands need to say where they are.
#[derive(Clone)]
pub struct Connection {
    /// The client; every request goes through it.
    pub client: kube::Client,
    /// The server URL, as written in messages.
    pub server: String,
    /// The context name in use (empty when the kubeconfig has none).
    pub context: String,
    /// The namespace from -n, else the context's, else "default".
    pub namespace: String,
    /// Number of API requests made so far (for -v).
    pub requests: Arc<AtomicUsize>,
    /// How many of those requests fetched a continuation page of a LIST.
    pub pages: Arc<AtomicUsize>,
}

impl Connection {
    /// Count one API request.
    pub fn count_request(&self) {
        self.requests.fetch_add(1, Ordering::Relaxed);
    }

    /// Count one request for a continuation page of a LIST (also counted by `count_request`).
    pub fn count_page(&self) {
        self.pages.fetch_add(1, Ordering::Relaxed);
    }

    /// The number of continuation pages counted so far.
    pub fn page_count(&self) -> usize {
        self.pages.load(Ordering::Relaxed)
    }

    /// The number of API requests counted so far.
    pub fn request_count(&self) -> usize {
        self.requests.load(Ordering::Relaxed)
    }

    /// Explain a kube error against this connection's server.
    pub fn explain(&self, action: &str, err: &kube::Error) -> Failure {
        explain_kube_error(action, &self.server, err)
    }
}

/// The kubeconfig files in effect: --kubeconfig, else each file of $KUBECONFIG, else ~/.kube/config.
pub fn kubeconfig_paths(flags: &GlobalFlags) -> Result<Vec<PathBuf>> {
    if let Some(p) = &flags.kubeconfig {
        return Ok(vec![p.clone()]);
    }
    if let Some(value) = std::env::var_os("KUBECONFIG") {
        let paths: Vec<PathBuf> = std::env::split_paths(&value).filter(|p| !p.as_os_str().is_empty()).collect();
        if !paths.is_empty() {
            // kubectl ignores files of the list that do not exist.
            let existing: Vec<PathBuf> = paths.iter().filter(|p| p.exists()).cloned().collect();
            if existing.is_empty() {
                return Err(Failure::with_hint(
                    format!("no kubeconfig found: none of the files in KUBECONFIG exist ({})", join_paths(&paths)),
                    "set KUBECONFIG to an existing file or pass --kubeconfig",
                ));
            }
            return Ok(existing);
        }
    }
    let home = std::env::var_os("HOME").map(PathBuf::from).ok_or_else(|| {
        Failure::with_hint("no kubeconfig found: HOME is not set and KUBECONFIG is empty", "pass --kubeconfig")
    })?;
    let default = home.join(".kube").join("config");
    if !default.exists() {
        return Err(Failure::with_hint(
            format!("no kubeconfig found at {} and KUBECONFIG is not set", default.display()),
            "set KUBECONFIG or pass --kubeconfig to point at your cluster's kubeconfig",
        ));
    }
    Ok(vec![default])
}

fn join_paths(paths: &[PathBuf]) -> String {
    paths.iter().map(|p| p.display().to_string()).collect::<Vec<_>>().join(", ")
}

/// Read and merge the kubeconfig files as kubectl does (first file to set a value wins).
pub fn load_kubeconfig(paths: &[PathBuf]) -> Result<Kubeconfig> {
    let mut merged = Kubeconfig::default();
    for path in paths {
        let one = read_one(path)?;
        merged = merged.merge(one).map_err(|e| {
            Failure::with_hint(
                format!("cannot merge kubeconfig {}: {e}", path.display()),
                "every file in KUBECONFIG must be a kind: Config, apiVersion: v1 document",
            )
        })?;
    }
    Ok(merged)
}

fn read_one(path: &Path) -> Result<Kubeconfig> {
    let text = std::fs::read_to_string(path).map_err(|e| {
        Failure::with_hint(
            format!("cannot read kubeconfig {}: {e}", path.display()),
            "check the path given by --kubeconfig or KUBECONFIG",
        )
    })?;
    Kubeconfig::from_yaml(&text).map_err(|e| {
        let detail = match &e {
            KubeconfigError::Parse(inner) => inner.to_string(),
            other => other.to_string(),
        };
        Failure::with_hint(
            format!("malformed kubeconfig {}: {}", path.display(), one_line(&detail)),
            "fix the YAML, or check it with `kubectl config view --kubeconfig FILE`",
        )
    })
}

/// The first meaningful line of a multi-line parser message.
fn one_line(s: &str) -> String {
    let first = s.lines().map(str::trim).find(|l| !l.is_empty()).unwrap_or("");
    first.trim_start_matches("error: ").to_string()
}

/// Resolve flags + kubeconfig into a client. Makes no request.
pub async fn connect(flags: &GlobalFlags) -> Result<Connection> {
    let paths = kubeconfig_paths(flags)?;
    let kubeconfig = load_kubeconfig(&paths)?;
    let files = join_paths(&paths);

    let context_name = flags.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
    if let Some(ctx) = &flags.context {
        if !kubeconfig.contexts.iter().any(|c| &c.name == ctx) {
            return Err(Failure::with_hint(
                format!("context {ctx:?} not found in kubeconfig {files}"),
                format!("available contexts: {}", names(kubeconfig.contexts.iter().map(|c| c.name.as_str()))),
            ));
        }
    } else if context_name.is_empty() && (flags.cluster.is_none() || flags.user.is_none()) {
        return Err(Failure::with_hint(
            format!("kubeconfig {files} has no current-context"),
            "pass --context, or run `kubectl config use-context NAME`",
        ));
    }
    if let Some(cluster) = &flags.cluster {
        if !kubeconfig.clusters.iter().any(|c| &c.name == cluster) {
            return Err(Failure::with_hint(
                format!("cluster {cluster:?} not found in kubeconfig {files}"),
                format!("available clusters: {}", names(kubeconfig.clusters.iter().map(|c| c.name.as_str()))),
            ));
        }
    }
    if let Some(user) = &flags.user {
        if !kubeconfig.auth_infos.iter().any(|c| &c.name == user) {
            return Err(Failure::with_hint(
                format!("user {user:?} not found in kubeconfig {files}"),
                format!("available users: {}", names(kubeconfig.auth_infos.iter().map(|c| c.name.as_str()))),
            ));
        }
    }

    let options =
        KubeConfigOptions { context: flags.context.clone(), cluster: flags.cluster.clone(), user: flags.user.clone() };
    let mut config = kube::Config::from_custom_kubeconfig(kubeconfig, &options).await.map_err(|e| {
        Failure::with_hint(
            format!("invalid kubeconfig {files} (context {context_name:?}): {}", one_line(&e.to_string())),
            "check the context's cluster and user entries with `kubectl config view`",
        )
    })?;
    let timeout = if flags.request_timeout.is_zero() { None } else { Some(flags.request_timeout) };
    config.read_timeout = timeout;
    config.write_timeout = timeout;
    config.connect_timeout = Some(timeout.map_or(Duration::from_secs(30), |t| t.min(Duration::from_secs(30))));
    let server = config.cluster_url.to_string().trim_end_matches('/').to_string();
    let namespace = flags.namespace.clone().unwrap_or_else(|| config.default_namespace.clone());
    let client =
        kube::Client::try_from(config).map_err(|e| explain_kube_error("cannot create a client", &server, &e))?;
    Ok(Connection { client, server, context: context_name, namespace,
        requests: Arc::new(AtomicUsize::new(0)),
        pages: Arc::new(AtomicUsize::new(0)),
    })
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}
