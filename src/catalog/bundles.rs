//! Facts about the two CRD bundles doctor installs and checks (Gateway API, GAIE): where they live
//! upstream, which API groups they own, and how the API server refuses a CRD whose storedVersions
//! its new spec drops. Shared by the checks and `gateway install`'s planner.

/// Gateway API repository.
pub const GATEWAY_API_REPO: &str = "kubernetes-sigs/gateway-api";
/// Gateway API Inference Extension repository.
pub const GAIE_REPO: &str = "kubernetes-sigs/gateway-api-inference-extension";
/// Which bundle a set of objects belongs to.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, serde::Serialize)]
pub enum BundleKind {
    /// Gateway API, standard channel.
    #[serde(rename = "Gateway API")]
    GatewayApi,
    /// Gateway API Inference Extension.
    #[serde(rename = "GAIE")]
    Gaie,
}

impl BundleKind {
    /// Human name.
    pub fn label(self) -> &'static str {
        match self {
            BundleKind::GatewayApi => "Gateway API",
            BundleKind::Gaie => "GAIE",
        }
    }

    /// The upstream repository (owner/name).
    pub fn repo(self) -> &'static str {
        match self {
            BundleKind::GatewayApi => GATEWAY_API_REPO,
            BundleKind::Gaie => GAIE_REPO,
        }
    }

    /// The release asset holding the whole bundle.
    pub fn release_asset(self) -> &'static str {
        match self {
            BundleKind::GatewayApi => "standard-install.yaml",
            BundleKind::Gaie => "manifests.yaml",
        }
    }

    /// The bundle owning API group `group`.
    pub fn of_group(group: &str) -> Option<BundleKind> {
        use crate::model::groups;
        match group {
            groups::GATEWAY | groups::GATEWAY_X => Some(BundleKind::GatewayApi),
            groups::INFERENCE | groups::INFERENCE_X => Some(BundleKind::Gaie),
            _ => None,
        }
    }
}

/// The API server's refusal of a CRD whose status.storedVersions names a version missing from
/// spec.versions, worded as the server will word it (Kubernetes 1.33 changed the text).
pub fn stored_version_refusal(server_version: Option<&str>, index: usize, version: &str) -> String {
    let head = format!("status.storedVersions[{index}]: Invalid value: \"{version}\": ");
    let current = format!(
        "missing from spec.versions; {version} was previously a storage version, and must remain in spec.versions until a storage migration ensures no data remains persisted in {version} and removes {version} from status.storedVersions"
    );
    match server_version.and_then(super::parse_version) {
        Some(v) if (v.major, v.minor) >= (1, 33) => format!("{head}{current}"),
        Some(_) => format!("{head}must appear in spec.versions"),
        None => format!("{head}{current} (before Kubernetes 1.33: must appear in spec.versions)"),
    }
}
