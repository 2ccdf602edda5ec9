//! A kube client built from kubectl's flags, the way kubectl resolves them.

use super::error::explain_kube_error;
use super::layer::{ClientLayer, Counters};
use crate::error::{Failure, Result};
use kube::config::{KubeConfigOptions, Kubeconfig, KubeconfigError};
use std::path::{Path, PathBuf};
use std::sync::atomic::Ordering;
use std::sync::Arc;
use std::time::Duration;

/// What the library needs to reach a cluster, resolved from kubectl's flags by the CLI
/// (`impl From<&GlobalFlags> for Settings` in `cli.rs`).
#[derive(Debug, Clone, Default)]
pub struct Settings {
    /// --kubeconfig.
    pub kubeconfig: Option<PathBuf>,
    /// --context.
    pub context: Option<String>,
    /// --cluster.
    pub cluster: Option<String>,
    /// --user.
    pub user: Option<String>,
    /// -n / --namespace.
    pub namespace: Option<String>,
    /// --request-timeout (zero: none).
    pub request_timeout: Duration,
}

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
    /// What the client layer counted (requests, continuation pages, retries; for -v).
    pub counters: Arc<Counters>,
    /// What discovery said so far (each API group is asked once per run).
    pub discovery: Arc<super::write::Discovery>,
}

impl Connection {
    /// The number of continuation pages of LISTs requested so far.
    pub fn page_count(&self) -> usize {
        self.counters.pages.load(Ordering::Relaxed)
    }

    /// The number of API requests made so far (a retried request counts once).
    pub fn request_count(&self) -> usize {
        self.counters.requests.load(Ordering::Relaxed)
    }

    /// The number of retries of transient failures so far.
    pub fn retry_count(&self) -> usize {
        self.counters.retries.load(Ordering::Relaxed)
    }

    /// Explain a kube error against this connection's server.
    pub fn explain(&self, action: &str, err: &kube::Error) -> Failure {
        explain_kube_error(action, &self.server, err)
    }
}

/// The kubeconfig files in effect: --kubeconfig, else each file of $KUBECONFIG, else ~/.kube/config.
pub fn kubeconfig_paths(flags: &Settings) -> Result<Vec<PathBuf>> {
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

/// The contexts a fleet run covers: every context of the kubeconfig in effect (merged like kubectl, first
/// file to name a context wins) in file order with `--all-contexts`, else those of `--contexts` in the order
/// given (repeats dropped), each of which must exist.
pub fn fleet_contexts(flags: &Settings, all: bool, asked: &[String]) -> Result<Vec<String>> {
    let paths = kubeconfig_paths(flags)?;
    let kubeconfig = load_kubeconfig(&paths)?;
    if all {
        if kubeconfig.contexts.is_empty() {
            return Err(Failure::with_hint(
                format!("--all-contexts: kubeconfig {} has no contexts", join_paths(&paths)),
                "add contexts with `kubectl config set-context`, or point KUBECONFIG at the files that hold them",
            ));
        }
        return Ok(kubeconfig.contexts.iter().map(|c| c.name.clone()).collect());
    }
    let mut chosen: Vec<String> = Vec::new();
    for name in asked.iter().map(|n| n.trim()) {
        if name.is_empty() {
            return Err(Failure::with_hint(
                "--contexts has an empty name",
                "separate names with single commas: --contexts a,b",
            ));
        }
        if !kubeconfig.contexts.iter().any(|c| c.name == name) {
            return Err(context_not_found(name, &join_paths(&paths), &kubeconfig));
        }
        if !chosen.iter().any(|c| c == name) {
            chosen.push(name.to_string());
        }
    }
    Ok(chosen)
}

/// Resolve flags + kubeconfig into a client. Makes no request.
pub async fn connect(flags: &Settings) -> Result<Connection> {
    let paths = kubeconfig_paths(flags)?;
    let kubeconfig = load_kubeconfig(&paths)?;
    let files = join_paths(&paths);

    let context_name = flags.context.clone().or_else(|| kubeconfig.current_context.clone()).unwrap_or_default();
    if let Some(ctx) = &flags.context {
        if !kubeconfig.contexts.iter().any(|c| &c.name == ctx) {
            return Err(context_not_found(ctx, &files, &kubeconfig));
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
    // Our layer retries what is safe to retry, within the request timeout; kube's own would retry
    // writes too, and without a budget.
    config.default_retry = false;
    let counters = Arc::new(Counters::default());
    let client = kube::client::ClientBuilder::try_from(config)
        .map_err(|e| explain_kube_error("cannot create a client", &server, &e))?
        .with_layer(&ClientLayer::new(counters.clone(), timeout))
        .build();
    Ok(Connection { client, server, context: context_name, namespace, counters, discovery: Arc::default() })
}

fn context_not_found(context: &str, files: &str, kubeconfig: &Kubeconfig) -> Failure {
    Failure::with_hint(
        format!("context {context:?} not found in kubeconfig {files}"),
        format!("available contexts: {}", names(kubeconfig.contexts.iter().map(|c| c.name.as_str()))),
    )
}

/// The namespace kubectl gives an object that names none, resolved without contacting the server:
/// -n, else the namespace of the context (--context, else current-context), else "default".
/// Having no kubeconfig at all is fine: manifests can be checked where no cluster is configured.
pub fn default_namespace(flags: &Settings) -> Result<String> {
    if let Some(ns) = &flags.namespace {
        return Ok(ns.clone());
    }
    let paths = match kubeconfig_paths(flags) {
        Ok(paths) => paths,
        Err(_) if flags.context.is_none() => return Ok("default".into()),
        Err(e) => return Err(e),
    };
    let kubeconfig = load_kubeconfig(&paths)?;
    let Some(name) = flags.context.clone().or_else(|| kubeconfig.current_context.clone()).filter(|n| !n.is_empty())
    else {
        return Ok("default".into());
    };
    let context = kubeconfig
        .contexts
        .iter()
        .find(|c| c.name == name)
        .ok_or_else(|| context_not_found(&name, &join_paths(&paths), &kubeconfig))?;
    Ok(context.context.as_ref().and_then(|c| c.namespace.clone()).filter(|n| !n.is_empty()).unwrap_or("default".into()))
}

fn names<'a>(it: impl Iterator<Item = &'a str>) -> String {
    let v: Vec<&str> = it.collect();
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const KUBECONFIG: &str = "apiVersion: v1\nkind: Config\ncurrent-context: team\nclusters:\n\
        - {name: c, cluster: {server: 'https://127.0.0.1:1'}}\nusers:\n- {name: u, user: {token: t}}\ncontexts:\n\
        - {name: team, context: {cluster: c, user: u, namespace: team-a}}\n\
        - {name: plain, context: {cluster: c, user: u}}\n";

    fn flags(kubeconfig: &Path, context: Option<&str>, namespace: Option<&str>) -> Settings {
        Settings {
            kubeconfig: Some(kubeconfig.to_path_buf()),
            context: context.map(str::to_string),
            namespace: namespace.map(str::to_string),
            ..Settings::default()
        }
    }

    #[test]
    fn default_namespace_is_flag_then_context_then_default() {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("config");
        std::fs::write(&kc, KUBECONFIG).unwrap();
        assert_eq!(default_namespace(&flags(&kc, None, Some("mine"))).unwrap(), "mine");
        assert_eq!(default_namespace(&flags(&kc, None, None)).unwrap(), "team-a");
        assert_eq!(default_namespace(&flags(&kc, Some("plain"), None)).unwrap(), "default");
        let f = default_namespace(&flags(&kc, Some("gone"), None)).unwrap_err();
        assert_eq!(f.message, format!("context \"gone\" not found in kubeconfig {}", kc.display()));
        assert_eq!(f.hint.as_deref(), Some("available contexts: team, plain"));
        // -n needs no kubeconfig at all, not even a readable one.
        assert_eq!(default_namespace(&flags(&dir.path().join("missing"), None, Some("x"))).unwrap(), "x");
    }

    #[test]
    fn fleet_contexts_are_checked_kept_in_order_and_deduplicated() {
        let dir = tempfile::tempdir().unwrap();
        let kc = dir.path().join("config");
        std::fs::write(&kc, KUBECONFIG).unwrap();
        let f = flags(&kc, None, None);
        let asked = |names: &[&str]| names.iter().map(|n| n.to_string()).collect::<Vec<_>>();
        assert_eq!(fleet_contexts(&f, true, &[]).unwrap(), ["team", "plain"]);
        assert_eq!(fleet_contexts(&f, false, &asked(&["plain", "team", "plain"])).unwrap(), ["plain", "team"]);
        let e = fleet_contexts(&f, false, &asked(&["team", "gone"])).unwrap_err();
        assert_eq!(e.message, format!("context \"gone\" not found in kubeconfig {}", kc.display()));
        assert_eq!(e.hint.as_deref(), Some("available contexts: team, plain"));
        assert!(fleet_contexts(&f, false, &asked(&["team", ""])).unwrap_err().message.contains("empty name"));
        let empty = dir.path().join("empty");
        std::fs::write(&empty, "apiVersion: v1\nkind: Config\n").unwrap();
        assert!(fleet_contexts(&flags(&empty, None, None), true, &[]).unwrap_err().message.contains("no contexts"));
    }
}
