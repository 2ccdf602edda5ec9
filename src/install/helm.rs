//! Gateway control planes through helm, exactly as the catalog's recipes say (charts, values,
//! namespaces), and what helm already has installed.

use crate::catalog::providers::{Provider, ProviderId};
use crate::cluster::client::Settings;
use crate::error::{Failure, Result};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use std::path::{Path, PathBuf};

/// Environment variable mapping chart references to local charts (see `--chart-source`).
pub const CHART_SOURCE_ENV: &str = "LLMD_CHART_SOURCE";

/// The helm repository the `istio/...` chart references come from.
const ISTIO_REPO: (&str, &str) = ("istio", "https://istio-release.storage.googleapis.com/charts");

/// Which values a `helm upgrade` starts from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ValuesFrom {
    /// A fresh install (or upgrade) with the recipe's values: `upgrade --install --create-namespace`.
    Recipe,
    /// The installed release's values at the installed chart version (`--reuse-values`).
    Reuse,
    /// A new chart version: its defaults, then the release's user-supplied values
    /// (`--reset-then-reuse-values`, helm 3.14+; `--reuse-values` would keep the old chart's defaults).
    ResetThenReuse,
}

/// One `helm upgrade` (`--install` for a recipe step).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct HelmStep {
    pub release: String,
    /// Chart reference as helm takes it (repo/chart, oci://…, or a local directory).
    pub chart: String,
    pub namespace: String,
    pub version: String,
    /// `--set` values.
    pub values: Vec<(String, String)>,
    /// `-f` values files.
    pub values_files: Vec<String>,
    pub values_from: ValuesFrom,
}

impl HelmStep {
    /// The arguments after `helm`.
    pub fn args(&self) -> Vec<String> {
        let mut a = vec!["upgrade".to_string()];
        if self.values_from == ValuesFrom::Recipe {
            a.push("--install".into());
        }
        a.extend([self.release.clone(), self.chart.clone(), "--namespace".into(), self.namespace.clone()]);
        match self.values_from {
            ValuesFrom::Recipe => a.push("--create-namespace".into()),
            ValuesFrom::Reuse => a.push("--reuse-values".into()),
            ValuesFrom::ResetThenReuse => a.push("--reset-then-reuse-values".into()),
        }
        a.extend(["--version".into(), self.version.clone()]);
        for f in &self.values_files {
            a.push("-f".into());
            a.push(f.clone());
        }
        for (k, v) in &self.values {
            a.push("--set".into());
            a.push(format!("{k}={v}"));
        }
        a
    }

    /// The command line, as a user would type it.
    pub fn command_line(&self) -> String {
        format!("helm {}", self.args().join(" "))
    }
}

/// The chart reference helm takes for a catalog chart: `DIR/<chart name>` with a chart source.
pub fn chart_ref(chart: &str, chart_source: Option<&Path>) -> Result<String> {
    let name = chart.rsplit('/').next().unwrap_or(chart);
    match chart_source {
        Some(dir) => {
            let local = dir.join(name);
            if !local.join("Chart.yaml").is_file() {
                return Err(Failure::with_hint(
                    format!("chart source {} has no chart {name} (for {chart})", dir.display()),
                    format!("put the chart in {} or drop --chart-source", local.display()),
                ));
            }
            Ok(local.display().to_string())
        }
        None => Ok(chart.to_string()),
    }
}

/// The helm steps installing `provider` at `version` (charts with their own version keep it);
/// `chart_source` maps each chart to `DIR/<chart name>`.
pub fn steps(provider: &Provider, version: &str, chart_source: Option<&Path>) -> Result<Vec<HelmStep>> {
    let mut out = Vec::new();
    for chart in provider.charts {
        out.push(HelmStep {
            release: chart.release.into(),
            chart: chart_ref(chart.chart, chart_source)?,
            namespace: provider.chart_namespace(chart).into(),
            version: chart.version.unwrap_or(version).into(),
            values: chart.values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect(),
            values_files: chart
                .values_files
                .iter()
                .map(|f| values_file(&f.replace("{version}", version), chart_source))
                .collect::<Result<_>>()?,
            values_from: ValuesFrom::Recipe,
        });
    }
    Ok(out)
}

/// A values file: its URL, or with a chart source `DIR/<file name>` (air-gapped clusters have neither
/// the charts nor the files their recipes download).
fn values_file(url: &str, chart_source: Option<&Path>) -> Result<String> {
    let Some(dir) = chart_source else { return Ok(url.to_string()) };
    let name = url.rsplit('/').next().unwrap_or(url);
    let local = dir.join(name);
    if !local.is_file() {
        return Err(Failure::with_hint(
            format!("chart source {} has no values file {name} (for {url})", dir.display()),
            format!("download {url} to {} or drop --chart-source", local.display()),
        ));
    }
    Ok(local.display().to_string())
}

/// The commands to print: repository set-up (Istio's charts live in a helm repo) and each step.
pub fn command_lines(provider: &Provider, steps: &[HelmStep]) -> Vec<String> {
    let mut lines = Vec::new();
    if provider.id == ProviderId::Istio && steps.iter().any(|s| s.chart.starts_with("istio/")) {
        lines.push(format!("helm repo add {} {}", ISTIO_REPO.0, ISTIO_REPO.1));
        lines.push("helm repo update".into());
    }
    lines.extend(steps.iter().map(HelmStep::command_line));
    lines.extend(rbac_command_lines(provider));
    lines
}

/// `kubectl create` commands granting the provider's extra RBAC.
pub fn rbac_command_lines(provider: &Provider) -> Vec<String> {
    let mut lines = Vec::new();
    for r in provider.extra_rbac {
        lines.push(format!(
            "kubectl create clusterrole {} --verb={} --resource={}",
            r.name,
            r.verbs.join(","),
            r.resource
        ));
        lines.push(format!(
            "kubectl create clusterrolebinding {} --clusterrole={} --serviceaccount={}",
            r.name, r.name, r.service_account
        ));
    }
    lines
}

/// helm: `--helm PATH`, else `helm` on PATH.
pub fn find_helm(flag: Option<&Path>) -> Option<PathBuf> {
    if let Some(p) = flag {
        return p.is_file().then(|| p.to_path_buf());
    }
    let path = std::env::var_os("PATH")?;
    std::env::split_paths(&path).map(|d| d.join("helm")).find(|p| p.is_file())
}

/// One release as `helm list -o json` prints it.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq, Eq)]
#[serde(default)]
pub struct HelmRelease {
    pub name: String,
    pub namespace: String,
    pub chart: String,
    pub app_version: String,
    pub status: String,
}

impl HelmRelease {
    /// The chart version from "chart-name-1.2.3" (also "chart-v1.0.0-alpha.4").
    pub fn chart_version(&self) -> &str {
        let b = self.chart.as_bytes();
        (0..b.len())
            .find(|&i| {
                b[i] == b'-'
                    && (b.get(i + 1).is_some_and(u8::is_ascii_digit)
                        || (b.get(i + 1) == Some(&b'v') && b.get(i + 2).is_some_and(u8::is_ascii_digit)))
            })
            .map_or("", |i| &self.chart[i + 1..])
    }
}

/// Runs helm with the user's kubeconfig, context and verbosity.
#[derive(Debug, Clone)]
pub struct Helm {
    pub path: PathBuf,
    kube_args: Vec<String>,
}

impl Helm {
    /// helm at `path`, pointed at the cluster the settings select.
    pub fn new(path: PathBuf, global: &Settings) -> Self {
        let mut kube_args = Vec::new();
        if let Some(k) = &global.kubeconfig {
            kube_args.push("--kubeconfig".into());
            kube_args.push(k.display().to_string());
        }
        if let Some(c) = &global.context {
            kube_args.push("--kube-context".into());
            kube_args.push(c.clone());
        }
        Helm { path, kube_args }
    }

    async fn run(&self, args: &[String]) -> Result<String> {
        let mut cmd = tokio::process::Command::new(&self.path);
        cmd.args(args).args(&self.kube_args).stdin(std::process::Stdio::null());
        tracing::info!("{} {}", self.path.display(), args.join(" "));
        let out = cmd.output().await.map_err(|e| Failure::new(format!("cannot run {}: {e}", self.path.display())))?;
        if !out.status.success() {
            let stderr = String::from_utf8_lossy(&out.stderr);
            return Err(Failure::with_hint(
                format!("helm {} failed: {}", args.join(" "), stderr.trim()),
                "fix the cause above and rerun; helm upgrade --install is safe to repeat",
            ));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }

    /// Every release in every namespace.
    pub async fn list(&self) -> Result<Vec<HelmRelease>> {
        let out = self.run(&["list".into(), "--all-namespaces".into(), "--output".into(), "json".into()]).await?;
        serde_json::from_str(out.trim()).map_err(|e| Failure::new(format!("cannot read `helm list -o json`: {e}")))
    }

    /// The release `name` in `namespace` (`helm list --namespace NS --filter ^NAME$`), if helm has it.
    pub async fn release(&self, name: &str, namespace: &str) -> Result<Option<HelmRelease>> {
        let filter = format!("^{}$", regex_escape(name));
        let args: Vec<String> =
            ["list", "--namespace", namespace, "--filter", &filter, "--output", "json"].map(String::from).into();
        let out = self.run(&args).await?;
        let list: Vec<HelmRelease> = serde_json::from_str(out.trim())
            .map_err(|e| Failure::new(format!("cannot read `helm list -o json`: {e}")))?;
        Ok(list.into_iter().find(|r| r.name == name))
    }

    /// Run one step.
    pub async fn install(&self, step: &HelmStep) -> Result<()> {
        self.run(&step.args()).await.map(|_| ())
    }

    /// Run one step as helm's dry run (`--dry-run=server`: rendered with the cluster's lookups,
    /// nothing written); the release helm would make (`-o json`: its `config` holds the values).
    pub async fn dry_run(&self, step: &HelmStep) -> Result<Value> {
        let mut args = step.args();
        args.extend(["--dry-run=server".into(), "--output".into(), "json".into()]);
        let out = self.run(&args).await?;
        serde_json::from_str(out.trim())
            .map_err(|e| Failure::new(format!("cannot read the output of `helm {}`: {e}", args.join(" "))))
    }

    /// The user-supplied values of a release (`helm get values -o json`; `{}` when there are none).
    pub async fn get_values(&self, release: &str, namespace: &str) -> Result<Value> {
        let args: Vec<String> =
            ["get", "values", release, "--namespace", namespace, "--output", "json"].map(String::from).into();
        let out = self.run(&args).await?;
        let v: Value = serde_json::from_str(out.trim())
            .map_err(|e| Failure::new(format!("cannot read `helm get values {release}`: {e}")))?;
        Ok(if v.is_null() { Value::Object(Default::default()) } else { v })
    }

    /// `helm uninstall RELEASE -n NS`.
    pub async fn uninstall(&self, release: &str, namespace: &str) -> Result<()> {
        self.run(&["uninstall".into(), release.into(), "--namespace".into(), namespace.into()]).await.map(|_| ())
    }
}

/// Installed releases newer than the step that would replace them: "release 2.1.0 → 2.0.5" (pure;
/// an upgrade never moves a release back).
pub fn downgrades(existing: &[&HelmRelease], steps: &[HelmStep]) -> Vec<String> {
    let mut out = Vec::new();
    for step in steps {
        let Some(r) = existing.iter().find(|r| r.name == step.release && r.namespace == step.namespace) else {
            continue;
        };
        let (have, want) =
            (crate::catalog::parse_version(r.chart_version()), crate::catalog::parse_version(&step.version));
        if let (Some(h), Some(w)) = (have, want) {
            if w < h {
                out.push(format!("{}/{} {} → {}", r.namespace, r.name, r.chart_version(), step.version));
            }
        }
    }
    out
}

/// A release name as a literal in helm's `--filter` regular expression.
fn regex_escape(name: &str) -> String {
    name.chars()
        .flat_map(|c| if c.is_ascii_alphanumeric() || c == '-' || c == '_' { vec![c] } else { vec!['\\', c] })
        .collect()
}

/// The releases of `provider` among `releases`: by the catalog's release names in their namespaces.
pub fn provider_releases<'a>(provider: &Provider, releases: &'a [HelmRelease]) -> Vec<&'a HelmRelease> {
    releases
        .iter()
        .filter(|r| provider.charts.iter().any(|c| c.release == r.name && provider.chart_namespace(c) == r.namespace))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::providers::provider;

    #[test]
    fn istio_steps_follow_the_catalog() {
        let s = steps(provider(ProviderId::Istio), "1.28.0", None).unwrap();
        assert_eq!(s.len(), 2);
        assert_eq!(
            s[1].command_line(),
            "helm upgrade --install istiod istio/istiod --namespace istio-system --create-namespace --version 1.28.0 --set pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true"
        );
        let lines = command_lines(provider(ProviderId::Istio), &s);
        assert!(lines[0].starts_with("helm repo add istio "));
        let a = steps(provider(ProviderId::Agentgateway), "v1.1.0", None).unwrap();
        assert_eq!(a[0].chart, "oci://cr.agentgateway.dev/charts/agentgateway-crds");
        assert_eq!(a[1].values, vec![("inferenceExtension.enabled".to_string(), "true".to_string())]);
        assert!(steps(provider(ProviderId::Kgateway), "v2.1.0", Some(Path::new("/nonexistent"))).is_err());
    }

    #[test]
    fn envoy_and_nginx_steps_follow_the_catalog() {
        let p = provider(ProviderId::EnvoyAiGateway);
        let s = steps(p, "v0.4.0", None).unwrap();
        assert_eq!(
            s.iter().map(|s| (s.release.as_str(), s.namespace.as_str(), s.version.as_str())).collect::<Vec<_>>(),
            [
                ("eg", "envoy-gateway-system", "v1.5.4"),
                ("aieg-crd", "envoy-ai-gateway-system", "v0.4.0"),
                ("aieg", "envoy-ai-gateway-system", "v0.4.0")
            ]
        );
        assert!(s[0].command_line().contains(
            "-f https://raw.githubusercontent.com/envoyproxy/ai-gateway/v0.4.0/examples/inference-pool/envoy-gateway-values-addon.yaml"
        ));
        let lines = command_lines(p, &s);
        assert!(lines.contains(&"kubectl create clusterrole envoy-gateway-inferencepools --verb=get,list,watch --resource=inferencepools.inference.networking.k8s.io".to_string()), "{lines:?}");
        assert!(lines.last().unwrap().ends_with("--serviceaccount=envoy-gateway-system:envoy-gateway"));
        let n = steps(provider(ProviderId::NginxGatewayFabric), "2.2.0", None).unwrap();
        assert_eq!(n[0].command_line(), "helm upgrade --install ngf oci://ghcr.io/nginx/charts/nginx-gateway-fabric --namespace nginx-gateway --create-namespace --version 2.2.0 --set nginxGateway.gwAPIInferenceExtension.enable=true");
        let rel = |name: &str, ns: &str| HelmRelease { name: name.into(), namespace: ns.into(), ..Default::default() };
        let found = [rel("aieg", "envoy-ai-gateway-system"), rel("eg", "envoy-gateway-system"), rel("aieg", "default")];
        assert_eq!(provider_releases(p, &found).len(), 2);
    }

    #[test]
    fn upgrades_of_an_existing_release_reuse_its_values() {
        let mut s = steps(provider(ProviderId::Agentgateway), "v1.1.0", None).unwrap().remove(1);
        s.values_from = ValuesFrom::Reuse;
        assert_eq!(
            s.command_line(),
            "helm upgrade agentgateway oci://cr.agentgateway.dev/charts/agentgateway --namespace agentgateway-system --reuse-values --version v1.1.0 --set inferenceExtension.enabled=true"
        );
        s.values_from = ValuesFrom::ResetThenReuse;
        s.values.clear();
        assert!(s
            .command_line()
            .ends_with("--namespace agentgateway-system --reset-then-reuse-values --version v1.1.0"));
        assert_eq!(regex_escape("my.rel"), "my\\.rel");
    }

    #[test]
    fn chart_version_from_helm_list() {
        let r = HelmRelease { chart: "istiod-1.28.0".into(), ..Default::default() };
        assert_eq!(r.chart_version(), "1.28.0");
        let r = HelmRelease { chart: "kgateway-crds-v2.1.0".into(), ..Default::default() };
        assert_eq!(r.chart_version(), "v2.1.0");
        let r = HelmRelease { chart: "agentgateway-v1.0.0-alpha.4".into(), ..Default::default() };
        assert_eq!(r.chart_version(), "v1.0.0-alpha.4");
    }

    #[test]
    fn an_upgrade_never_moves_a_release_back() {
        let rel = |chart: &str| HelmRelease {
            name: "kgateway".into(),
            namespace: "kgateway-system".into(),
            chart: chart.into(),
            ..Default::default()
        };
        let s = steps(provider(ProviderId::Kgateway), "v2.0.5", None).unwrap();
        let newer = rel("kgateway-v2.1.0");
        assert_eq!(downgrades(&[&newer], &s), ["kgateway-system/kgateway v2.1.0 → v2.0.5"]);
        let older = rel("kgateway-2.0.4");
        assert!(downgrades(&[&older], &s).is_empty());
    }
}
