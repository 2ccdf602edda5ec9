//! What `gateway install | uninstall -o json|yaml` prints: the plan (each CRD's action and refusal,
//! each helm release's action), what was done, and the verification. The contract is
//! docs/gateway-install.md; the text output says the same in lines.

use crate::catalog::providers::{provider, ProviderId};
use crate::catalog::Profile;
use crate::error::Failure;
use crate::findings::CheckStatus;
use crate::install::helm::HelmStep;
use crate::install::plan::PlanItem;
use crate::install::source::Bundle;
use crate::snapshot::Snapshot;
use serde::Serialize;

/// Document kind of `gateway install -o json`.
pub const INSTALL_KIND: &str = "GatewayInstall";
/// Document kind of `gateway uninstall -o json`.
pub const UNINSTALL_KIND: &str = "GatewayUninstall";

/// How the run ended (the exit code follows from it: 0, 1 for `verification-failed`, 2 otherwise).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Default)]
#[serde(rename_all = "kebab-case")]
pub enum Outcome {
    /// Everything planned was done (or nothing was needed) and verification passed.
    #[default]
    Succeeded,
    /// Done, but a verification check failed (exit 1).
    VerificationFailed,
    /// `--dry-run`: planned and validated, nothing changed.
    DryRun,
    /// `--print`: the commands only.
    Printed,
    /// A safety rule refused the plan before anything was written (exit 2).
    Refused,
    /// Could not run or a step failed (exit 2); `error` says why.
    Failed,
}

/// One bundle read.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleRead {
    pub bundle: String,
    #[serde(rename = "ref")]
    pub git_ref: String,
    pub objects: usize,
    /// URLs or files read (a release asset when the kustomization was missing).
    pub origin: Vec<String>,
}

impl From<&Bundle> for BundleRead {
    fn from(b: &Bundle) -> Self {
        BundleRead {
            bundle: b.kind.label().into(),
            git_ref: b.git_ref.clone(),
            objects: b.objects.len(),
            origin: b.origin.clone(),
        }
    }
}

/// The CRD half.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CrdReport {
    /// Why no CRDs were planned (`--control-plane-only`, GKE), when none were.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub bundles: Vec<BundleRead>,
    /// Every object with its action (create, upgrade, update, unchanged, downgrade, remove) and refusal.
    pub plan: Vec<PlanItem>,
    /// Items refused.
    pub refused: usize,
    /// Items that write.
    pub writes: usize,
    /// True once the writes were applied (false for dry runs, refusals and no-ops).
    pub applied: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub applied_seconds: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub established_seconds: Option<f64>,
}

/// What happens to one helm release.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "kebab-case")]
pub enum ReleaseAction {
    /// Not installed: `helm upgrade --install`.
    Install,
    /// Installed; `--upgrade` moves it to the step's version.
    Upgrade,
    /// A control plane exists and `--upgrade` was not given: left as found.
    Keep,
    /// `--upgrade` to an older version than installed: refused.
    RefusedDowngrade,
    /// `--print` / `--dry-run`: shown only.
    Show,
}

/// One helm release of the control plane.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ReleaseReport {
    pub release: String,
    pub chart: String,
    pub namespace: String,
    pub version: String,
    /// `--set` values.
    pub values: std::collections::BTreeMap<String, String>,
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub values_files: Vec<String>,
    /// The installed chart version, when helm has the release.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub installed: Option<String>,
    pub action: ReleaseAction,
    /// True once helm ran it successfully.
    pub done: bool,
    pub command: String,
}

impl ReleaseReport {
    /// A release of the plan, not run yet.
    pub fn planned(step: &HelmStep, installed: Option<String>, action: ReleaseAction) -> Self {
        ReleaseReport {
            release: step.release.clone(),
            chart: step.chart.clone(),
            namespace: step.namespace.clone(),
            version: step.version.clone(),
            values: step.values.iter().cloned().collect(),
            values_files: step.values_files.clone(),
            installed,
            action,
            done: false,
            command: step.command_line(),
        }
    }
}

/// The control-plane half.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ControlPlaneReport {
    pub provider: String,
    pub version: String,
    /// Control plane found before installing (helm releases, controller Deployments).
    pub existing: Vec<String>,
    pub releases: Vec<ReleaseReport>,
    /// RBAC granted besides the charts (Envoy Gateway on InferencePools), as commands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub rbac: Vec<String>,
    /// Every command of the recipe, in order (what `--print` prints).
    pub commands: Vec<String>,
    /// Steps this command cannot take (managed providers), in words with their commands.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    pub manual_steps: Vec<String>,
    /// Seconds until the controller was available and its GatewayClass Accepted.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub ready_seconds: Option<f64>,
}

/// One finding under a verification line.
#[derive(Debug, Clone, Serialize)]
pub struct VerifyFinding {
    pub message: String,
    pub hint: String,
}

/// One verification line (a doctor check, or the GKE class check).
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct VerifyItem {
    pub code: String,
    pub title: String,
    pub status: CheckStatus,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub skipped: Option<String>,
    pub findings: Vec<VerifyFinding>,
}

/// A failure as data.
#[derive(Debug, Clone, Serialize)]
pub struct ErrorReport {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

impl From<&Failure> for ErrorReport {
    fn from(f: &Failure) -> Self {
        ErrorReport { message: f.message.clone(), hint: f.hint.clone() }
    }
}

/// `gateway install -o json|yaml`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct InstallReport {
    pub kind: &'static str,
    pub context: String,
    pub profile: Option<Profile>,
    pub provider: Option<String>,
    pub dry_run: bool,
    pub crds: Option<CrdReport>,
    pub control_plane: Option<ControlPlaneReport>,
    pub verification: Vec<VerifyItem>,
    pub outcome: Outcome,
    pub error: Option<ErrorReport>,
}

/// One object or release `gateway uninstall` removes.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Removal {
    /// "HelmRelease", "CustomResourceDefinition", "ValidatingAdmissionPolicy", …
    pub kind: String,
    pub name: String,
    #[serde(skip_serializing_if = "String::is_empty")]
    pub namespace: String,
    /// True once removed (false for dry runs and refusals).
    pub done: bool,
}

/// `gateway uninstall -o json|yaml`.
#[derive(Debug, Clone, Default, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UninstallReport {
    pub kind: &'static str,
    pub context: String,
    pub dry_run: bool,
    /// Custom resources that block removing their CRDs ("2 InferencePool (inferencepools…)").
    pub in_use: Vec<String>,
    pub removals: Vec<Removal>,
    pub outcome: Outcome,
    pub error: Option<ErrorReport>,
}

/// Code of the GKE class verification line (not a doctor check: doctor's LLMD-GWC-001 accepts any provider).
pub const GKE_CLASS_CHECK: &str = "gke-classes";

/// GKE's documented steps for what `gateway install --provider gke` cannot do from the cluster.
pub fn gke_manual_steps() -> Vec<String> {
    vec![
        "enable the Gateway API on the cluster: gcloud container clusters update CLUSTER_NAME --location=LOCATION --gateway-api=standard".into(),
        "enable the HttpLoadBalancing add-on: gcloud container clusters update CLUSTER_NAME --location=LOCATION --update-addons=HttpLoadBalancing=ENABLED".into(),
        "create a proxy-only subnet in the cluster's region: gcloud compute networks subnets create proxy-only-subnet --purpose=REGIONAL_MANAGED_PROXY --role=ACTIVE --region=REGION --network=NETWORK --range=CIDR".into(),
        format!(
            "run GKE {} or newer (InferencePool v1 built in): gcloud container clusters upgrade CLUSTER_NAME --master --cluster-version={} --location=LOCATION",
            provider(ProviderId::Gke).min_inference_version,
            provider(ProviderId::Gke).min_inference_version
        ),
    ]
}

/// The GKE class check: at least one of GKE's inference-capable classes (the internal or the
/// external regional load balancer) exists; none means the Gateway API / HttpLoadBalancing add-on is off.
pub fn gke_class_check(snap: &Snapshot) -> VerifyItem {
    let gke = provider(ProviderId::Gke);
    let present: Vec<&str> = gke
        .class_names
        .iter()
        .copied()
        .filter(|n| snap.gateway_classes.items().iter().any(|c| c.metadata.name == *n))
        .collect();
    let title = format!("GKE Gateway classes exist ({})", gke.class_names.join(", "));
    let (status, findings) = if present.is_empty() {
        let steps = gke_manual_steps();
        (
            CheckStatus::Fail,
            vec![VerifyFinding {
                message: format!(
                    "no GatewayClass {}: the GKE Gateway controller is not enabled (HttpLoadBalancing add-on / Gateway API off), and this command cannot enable it",
                    gke.class_names.join(" or ")
                ),
                hint: format!("{}; {}", steps[0], steps[1]),
            }],
        )
    } else {
        let missing: Vec<&str> = gke.class_names.iter().copied().filter(|n| !present.contains(n)).collect();
        let findings = missing
            .iter()
            .map(|m| VerifyFinding {
                message: format!("GatewayClass {m} is absent; {} is there (either serves llm-d)", present.join(", ")),
                hint: String::new(),
            })
            .collect();
        (CheckStatus::Pass, findings)
    };
    VerifyItem { code: GKE_CLASS_CHECK.into(), title, status, skipped: None, findings }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::snapshot as snapshot_from_yaml;

    #[test]
    fn gke_classes_present_or_absent() {
        let none = snapshot_from_yaml("");
        let item = gke_class_check(&none);
        assert_eq!(item.status, CheckStatus::Fail);
        assert!(item.findings[0].hint.contains("--update-addons=HttpLoadBalancing=ENABLED"), "{:?}", item.findings);
        let one = snapshot_from_yaml(
            "apiVersion: gateway.networking.k8s.io/v1\nkind: GatewayClass\nmetadata: {name: gke-l7-rilb}\nspec: {controllerName: networking.gke.io/gateway}\n",
        );
        let item = gke_class_check(&one);
        assert_eq!(item.status, CheckStatus::Pass);
        assert!(item.findings[0].message.contains("gke-l7-regional-external-managed is absent"));
    }
}
