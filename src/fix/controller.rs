//! The gateway-controller half of `doctor --fix` (LLMD-GWC-001, 005, 006): `helm upgrade` of a
//! controller's release and control-plane installs, through `gateway install`'s helm runner
//! (`crate::install::helm`) — the one way this tool runs helm.

use super::apply::{access, failure_text, Access, Inputs, Prepared};
use super::diff;
use crate::catalog::providers::{provider, Provider, ProviderId};
use crate::catalog::releases::parse_version;
use crate::checks::gatewayclasses::provider_arg;
use crate::cluster::Connection;
use crate::install::helm::{self, Helm, HelmStep, ValuesFrom};
use crate::repair::ControllerUpgrade;
use serde_json::Value;
use std::time::Duration;

/// How long a control plane installed by `--fix --provider` may take to come up.
const CONTROL_PLANE_TIMEOUT: Duration = Duration::from_secs(180);

/// What a controller change runs, and the release values it changes.
#[derive(Debug, Clone)]
pub struct HelmChange {
    /// The helm commands, in order.
    pub steps: Vec<HelmStep>,
    /// `helm get values` of the release before (None: a fresh install).
    pub values_before: Option<Value>,
    /// The values helm's dry run computed for the release (its `config`).
    pub values_after: Option<Value>,
    /// For a control-plane install: the provider whose controller and GatewayClass to wait for.
    pub wait_for: Option<ProviderId>,
}

impl HelmChange {
    /// The plan's lines: the commands, then the values diff.
    pub fn render(&self) -> String {
        let mut out = String::new();
        for s in &self.steps {
            out.push_str(&format!("   {}\n", s.command_line()));
        }
        if let (Some(before), Some(after)) = (&self.values_before, &self.values_after) {
            let label = self.steps.first().map(|s| format!("helm get values {} -n {}", s.release, s.namespace));
            let d = diff::unified(Some(before), Some(after), &label.unwrap_or_default());
            if d.is_empty() {
                out.push_str("   values unchanged\n");
            } else {
                out.push_str(&d);
            }
        }
        out
    }
}

/// What helm needs to upgrade a release in `release_ns` whose controller runs in `deployment_ns`:
/// its release records (Secrets) and the chart's Deployment.
fn upgrade_access(release_ns: &str, deployment_ns: &str) -> Vec<Access> {
    let mut v: Vec<Access> =
        ["get", "list", "create", "update"].iter().map(|verb| access(verb, "", "secrets", "", release_ns)).collect();
    v.push(access("patch", "apps", "deployments", "", deployment_ns));
    v
}

/// What installing a control plane needs (as `gateway install` checks it) and helm's release records.
fn install_access(namespace: &str) -> Vec<Access> {
    vec![
        access("create", "", "namespaces", "", ""),
        access("create", "rbac.authorization.k8s.io", "clusterroles", "", ""),
        access("create", "rbac.authorization.k8s.io", "clusterrolebindings", "", ""),
        access("create", "", "secrets", "", namespace),
        access("create", "apps", "deployments", "", namespace),
    ]
}

fn helm_or_refuse<'a>(inputs: &'a Inputs, p: &mut Prepared, by_hand: &str) -> Option<&'a Helm> {
    if inputs.helm.is_none() {
        p.refused = Some(format!("helm not found on PATH (or --helm PATH): run it yourself: {by_hand}"));
    }
    inputs.helm.as_ref()
}

/// `helm get values` (the diff's left side); a failure refuses the change.
async fn values_of(helm: &Helm, release: &str, namespace: &str, p: &mut Prepared) -> Option<Value> {
    match helm.get_values(release, namespace).await {
        Ok(v) => Some(v),
        Err(f) => {
            p.refused = Some(failure_text(&f));
            None
        }
    }
}

/// Prepare a `helm upgrade` of a controller's release: find the release, pick the chart version
/// (the installed one, or the target unless that is a downgrade), read its values.
pub async fn prepare_upgrade(inputs: &Inputs, u: &ControllerUpgrade, p: &mut Prepared) {
    let prov = provider(u.provider);
    let Some(chart) = prov.switch_chart() else {
        p.refused = Some(format!("{} has no helm chart to upgrade: {}", prov.name, u.by_hand));
        return;
    };
    let (release, namespace) =
        u.release.clone().unwrap_or_else(|| (chart.release.to_string(), prov.namespace.to_string()));
    // The permissions first: a user who may not run helm here is refused by name, whatever helm says.
    p.needs = upgrade_access(&namespace, &u.deployment.namespace);
    let Some(helm) = helm_or_refuse(inputs, p, &u.by_hand) else { return };
    let installed = match helm.release(&release, &namespace).await {
        Ok(Some(r)) => r,
        Ok(None) => {
            p.needs.clear();
            p.refused = Some(match &u.release {
                Some(_) => format!("helm has no release {release} in namespace {namespace} (named by {}'s annotations): {}", u.deployment, u.by_hand),
                None => format!(
                    "{} was not installed by helm (no meta.helm.sh annotations, no release {release} in {namespace}): {}",
                    u.deployment, u.by_hand
                ),
            });
            return;
        }
        Err(f) => {
            p.refused = Some(failure_text(&f));
            return;
        }
    };
    let installed_chart = installed.chart_version().to_string();
    let (version, values_from) = match &u.to_version {
        None => (installed_chart.clone(), ValuesFrom::Reuse),
        Some(to) => {
            if let Some(why) = downgrade(to, &installed_chart, u.running.as_deref()) {
                p.needs.clear();
                p.refused = Some(format!(
                    "downgrade refused: {why}; upgrade release {namespace}/{release} to a version the profile allows by hand, or run with a newer --profile"
                ));
                return;
            }
            (to.clone(), ValuesFrom::ResetThenReuse)
        }
    };
    let chart_ref = match helm::chart_ref(chart.chart, inputs.chart_source.as_deref()) {
        Ok(c) => c,
        Err(f) => {
            p.refused = Some(failure_text(&f));
            return;
        }
    };
    let Some(before) = values_of(helm, &release, &namespace, p).await else { return };
    if u.to_version.is_none() && u.set.iter().all(|(k, v)| value_at(&before, k) == Some(v.clone())) {
        p.refused = Some(format!(
            "release {namespace}/{release} already sets {}, yet the controller runs without it: check the chart version it installed ({installed_chart})",
            u.set.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(", ")
        ));
        return;
    }
    let step = HelmStep {
        release,
        chart: chart_ref,
        namespace,
        version,
        values: u.set.clone(),
        values_files: Vec::new(),
        values_from,
    };
    p.helm = Some(HelmChange { steps: vec![step], values_before: Some(before), values_after: None, wait_for: None });
}

/// Why upgrading to `to` would be a downgrade: the release's chart or the running controller is newer.
fn downgrade(to: &str, installed_chart: &str, running: Option<&str>) -> Option<String> {
    let target = parse_version(to)?;
    if let Some(chart) = parse_version(installed_chart).filter(|c| *c > target) {
        return Some(format!("the release's chart is {chart}, newer than the profile's {target}"));
    }
    let running = running.and_then(|r| parse_version(r).map(|v| (r, v)));
    match running {
        Some((tag, v)) if semver::Version::new(v.major, v.minor, v.patch) > target => {
            Some(format!("the controller runs {tag}, newer than the profile's {target}"))
        }
        _ => None,
    }
}

/// A `--set` path's value in helm's values, as `--set` would write it ("true" for a boolean true).
fn value_at(values: &Value, path: &str) -> Option<String> {
    let mut cur = values;
    for key in path.split('.') {
        cur = cur.get(key)?;
    }
    Some(match cur {
        Value::String(s) => s.clone(),
        other => other.to_string(),
    })
}

/// Prepare a control-plane install (LLMD-GWC-001): only the provider `--provider` names.
pub async fn prepare_install(inputs: &Inputs, choices: &[ProviderId], p: &mut Prepared) {
    let names: Vec<&str> = choices.iter().map(|id| provider_arg(*id)).collect();
    let Some(id) = inputs.provider else {
        p.refused = Some(format!(
            "choose the gateway to install: rerun with --fix --provider {} (nothing is installed without it)",
            names.join("|")
        ));
        return;
    };
    let prov: &Provider = provider(id);
    if !choices.contains(&id) {
        p.refused = Some(format!(
            "{} cannot be installed by this tool ({}); choose one of: --provider {}",
            prov.name,
            prov.enable_hint,
            names.join("|")
        ));
        return;
    }
    let version = inputs.profile.provider_version(id).unwrap_or(prov.min_inference_version);
    let steps = match helm::steps(prov, version, inputs.chart_source.as_deref()) {
        Ok(s) => s,
        Err(f) => {
            p.refused = Some(failure_text(&f));
            return;
        }
    };
    p.needs = install_access(prov.namespace);
    let by_hand = helm::command_lines(prov, &steps).join("; ");
    let Some(helm) = helm_or_refuse(inputs, p, &by_hand) else { return };
    for s in &steps {
        match helm.release(&s.release, &s.namespace).await {
            Ok(None) => {}
            Ok(Some(r)) => {
                p.needs.clear();
                p.refused = Some(format!(
                    "{} is already installed (helm release {}/{} {}) yet no GatewayClass of it exists: see LLMD-GWC-003, or `kubectl llmd gateway install --provider {} --upgrade`",
                    prov.name,
                    r.namespace,
                    r.name,
                    r.chart_version(),
                    provider_arg(id)
                ));
                return;
            }
            Err(f) => {
                p.refused = Some(failure_text(&f));
                return;
            }
        }
    }
    p.helm = Some(HelmChange { steps, values_before: None, values_after: None, wait_for: Some(id) });
}

/// helm's own dry run of every step; the values it computes are the diff's right side.
pub async fn dry_run(inputs: &Inputs, p: &mut Prepared) {
    let (Some(helm), Some(change)) = (&inputs.helm, &mut p.helm) else { return };
    for step in &change.steps {
        match helm.dry_run(step).await {
            Ok(release) => {
                if change.values_before.is_some() {
                    change.values_after = Some(release.get("config").cloned().unwrap_or(Value::Null));
                }
            }
            Err(f) => {
                p.refused = Some(format!("helm's dry run failed: {}", failure_text(&f)));
                return;
            }
        }
    }
    p.validated = true;
}

/// Run the steps; for an install, wait for the controller and its GatewayClass.
pub async fn apply(conn: &Connection, inputs: &Inputs, change: &HelmChange) -> Result<String, String> {
    let Some(helm) = &inputs.helm else { return Err("helm not found".into()) };
    let started = std::time::Instant::now();
    for step in &change.steps {
        helm.install(step).await.map_err(|f| failure_text(&f))?;
    }
    let ran: Vec<String> = change.steps.iter().map(|s| format!("{} {}", s.release, s.version)).collect();
    let helm_took = started.elapsed();
    match change.wait_for {
        Some(id) => {
            let prov = provider(id);
            let waited = crate::install::apply::wait_control_plane(conn, prov, CONTROL_PLANE_TIMEOUT)
                .await
                .map_err(|f| failure_text(&f))?;
            Ok(format!(
                "installed {} in namespace {} ({:.1}s); controller available and GatewayClass {} Accepted after {:.1}s",
                ran.join(", "),
                prov.namespace,
                helm_took.as_secs_f64(),
                prov.class_names.first().copied().unwrap_or(""),
                waited.as_secs_f64()
            ))
        }
        None => Ok(format!("helm upgraded {} in {:.1}s", ran.join(", "), helm_took.as_secs_f64())),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn downgrades_are_named() {
        assert!(downgrade("1.28.0", "1.27.3", Some("1.27.3")).is_none());
        assert!(downgrade("1.28.0", "0.0.1", Some("1.27.3")).is_none());
        assert_eq!(
            downgrade("1.28.0", "1.29.0", Some("1.27.3")).unwrap(),
            "the release's chart is 1.29.0, newer than the profile's 1.28.0"
        );
        assert_eq!(
            downgrade("v2.1.0", "v2.0.1", Some("v2.2.0")).unwrap(),
            "the controller runs v2.2.0, newer than the profile's 2.1.0"
        );
    }

    #[test]
    fn set_paths_read_helm_values() {
        let v = json!({"pilot": {"env": {"ENABLE_GATEWAY_API_INFERENCE_EXTENSION": true}}, "inferenceExtension": {"enabled": "false"}});
        assert_eq!(value_at(&v, "pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION").as_deref(), Some("true"));
        assert_eq!(value_at(&v, "inferenceExtension.enabled").as_deref(), Some("false"));
        assert_eq!(value_at(&v, "inferenceExtension.other"), None);
    }
}
