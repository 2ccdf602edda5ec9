//! Checks: cluster. The Kubernetes server version against what the Gateway API bundles need.

use super::crds::{gateway_install_cmd, newest_gateway_bundle, release_version};
use super::{Check, CheckContext, Issue};
use crate::catalog::{self, GATEWAY_API_V15_MIN_KUBE_MINOR, SAFE_UPGRADES_POLICY};
use crate::findings::Category;
use crate::model::ObjectRef;
use crate::snapshot::Kind;

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-CLU-001",
        title: "Kubernetes is new enough for the profile's Gateway API bundle",
        category: Category::Cluster,
        needs: &[Kind::ServerVersion],
        run: server_fits_profile,
    },
    Check {
        code: "LLMD-CLU-002",
        title: "Kubernetes is new enough for the installed Gateway API bundle",
        category: Category::Cluster,
        needs: &[Kind::ServerVersion, Kind::Crds],
        run: server_fits_installed,
    },
];

/// (major, minor) of a gitVersion such as "v1.36.3", "v1.34.0-gke.1626000" or "v1.29+".
fn kube_minor(git_version: &str) -> Option<(u64, u64)> {
    let t = git_version.trim().trim_start_matches('v');
    let mut parts = t.split('.');
    let major = parts.next()?.parse().ok()?;
    let minor_part = parts.next()?;
    let digits: String = minor_part.chars().take_while(char::is_ascii_digit).collect();
    Some((major, digits.parse().ok()?))
}

fn policy_ref() -> ObjectRef {
    ObjectRef::new("ValidatingAdmissionPolicy", "admissionregistration.k8s.io", "", SAFE_UPGRADES_POLICY)
}

/// The server version when it is too old for Gateway API v1.5+ (1.31: TLSRoute's CEL validation;
/// the safe-upgrades ValidatingAdmissionPolicy needs admissionregistration.k8s.io/v1, GA in 1.30).
fn too_old_for_policy(ctx: &CheckContext) -> Option<String> {
    let server = ctx.snapshot.server_version.items().first()?;
    let (major, minor) = kube_minor(server)?;
    (major == 1 && minor < GATEWAY_API_V15_MIN_KUBE_MINOR).then(|| server.clone())
}

/// True when the profile's Gateway API release ships the safe-upgrades policy.
fn profile_ships_policy(ctx: &CheckContext) -> bool {
    release_version(&ctx.profile.gateway_api).is_some()
        && catalog::gateway_api_release(&ctx.profile.gateway_api).is_some_and(|r| r.safe_upgrades_policy)
}

/// The newest patch of the newest release line without the policy ("v1.4.1").
fn newest_without_policy() -> Option<&'static str> {
    catalog::GATEWAY_API_RELEASES.iter().rev().find(|r| !r.safe_upgrades_policy).and_then(|r| r.patches.last().copied())
}

// LLMD-CLU-001
fn server_fits_profile(ctx: &CheckContext) -> Vec<Issue> {
    let Some(server) = too_old_for_policy(ctx) else { return Vec::new() };
    if !profile_ships_policy(ctx) {
        return Vec::new();
    }
    let fallback = newest_without_policy().unwrap_or("v1.4.1");
    vec![Issue::error(
        policy_ref(),
        format!(
            "Kubernetes {server} is older than the 1.{GATEWAY_API_V15_MIN_KUBE_MINOR} that Gateway API {} needs (TLSRoute's CEL validation needs 1.{GATEWAY_API_V15_MIN_KUBE_MINOR}; its {SAFE_UPGRADES_POLICY} ValidatingAdmissionPolicy needs admissionregistration.k8s.io/v1, GA in 1.30), so installing that bundle fails",
            ctx.profile.gateway_api
        ),
        format!(
            "upgrade the control plane to Kubernetes 1.{GATEWAY_API_V15_MIN_KUBE_MINOR} or newer, or check against a bundle without the policy: kubectl llmd doctor --profile {fallback}@{}",
            ctx.profile.inference_extension
        ),
    )]
}

// LLMD-CLU-002
fn server_fits_installed(ctx: &CheckContext) -> Vec<Issue> {
    let Some(server) = too_old_for_policy(ctx) else { return Vec::new() };
    // Same root cause as LLMD-CLU-001 when the profile's bundle ships the policy too.
    if profile_ships_policy(ctx) {
        return Vec::new();
    }
    let Some((installed, _)) = newest_gateway_bundle(ctx.snapshot) else { return Vec::new() };
    let installed_ref = format!("v{installed}");
    if !catalog::gateway_api_release(&installed_ref).is_some_and(|r| r.safe_upgrades_policy) {
        return Vec::new();
    }
    vec![Issue::warning(
        policy_ref(),
        format!(
            "Gateway API {installed_ref} CRDs are installed on Kubernetes {server}, older than the 1.{GATEWAY_API_V15_MIN_KUBE_MINOR} they need: TLSRoute's CEL validation needs 1.{GATEWAY_API_V15_MIN_KUBE_MINOR}, and below 1.30 their {SAFE_UPGRADES_POLICY} ValidatingAdmissionPolicy cannot run, so downgrades and experimental-over-standard installs are not refused"
        ),
        format!(
            "upgrade the control plane to Kubernetes 1.{GATEWAY_API_V15_MIN_KUBE_MINOR} or newer, then re-apply the bundle to install the policy: {}",
            gateway_install_cmd(&installed_ref, false)
        ),
    )]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::Profile;
    use crate::checks::crds::testing::gateway_standard;
    use crate::checks::fixtures;
    use crate::findings::Severity;
    use crate::snapshot::{Collected, Snapshot};

    fn with_server(yaml: &str, version: &str) -> Snapshot {
        let mut snap = fixtures::snapshot(yaml);
        snap.server_version = Collected::Listed(vec![version.to_string()]);
        snap
    }

    fn issues(code: &str, snap: &Snapshot, profile: &Profile) -> Vec<Issue> {
        let ctx = CheckContext { snapshot: snap, profile };
        (CHECKS.iter().find(|c| c.code == code).expect("code").run)(&ctx)
    }

    #[test]
    fn parses_provider_git_versions() {
        assert_eq!(kube_minor("v1.36.3"), Some((1, 36)));
        assert_eq!(kube_minor("v1.34.0-gke.1626000"), Some((1, 34)));
        assert_eq!(kube_minor("v1.29+"), Some((1, 29)));
        assert_eq!(kube_minor("garbage"), None);
    }

    #[test]
    fn clu_001_profile_needs_1_31() {
        let snap = with_server("", "v1.29.4-eks-036c24b");
        let found = fixtures::run(CHECKS, &snap, &fixtures::current());
        assert_eq!(found, vec![("LLMD-CLU-001".to_string(), SAFE_UPGRADES_POLICY.to_string(), Severity::Error)]);
        let i = &issues("LLMD-CLU-001", &snap, &fixtures::current())[0];
        assert!(i.message.contains("v1.29.4") && i.message.contains("v1.5.1") && i.message.contains("1.31"));
        assert!(i.hint.contains("--profile v1.4.1@v1.5.0"), "{}", i.hint);
        // The prerequisite's v1.3.0 has no such need; v1.5.1 needs 1.31 (TLSRoute's CEL), not 1.30.
        assert!(issues("LLMD-CLU-001", &snap, &fixtures::prereq()).is_empty());
        assert_eq!(issues("LLMD-CLU-001", &with_server("", "v1.30.9"), &fixtures::current()).len(), 1);
        assert!(issues("LLMD-CLU-001", &with_server("", "v1.31.0"), &fixtures::current()).is_empty());
        assert!(issues("LLMD-CLU-001", &fixtures::snapshot(""), &fixtures::current()).is_empty());
    }

    #[test]
    fn clu_002_installed_bundle_needs_1_31() {
        let snap = with_server(&gateway_standard("v1.5.1"), "v1.29.2");
        let found = fixtures::run(CHECKS, &snap, &fixtures::prereq());
        assert_eq!(found, vec![("LLMD-CLU-002".to_string(), SAFE_UPGRADES_POLICY.to_string(), Severity::Warning)]);
        let i = &issues("LLMD-CLU-002", &snap, &fixtures::prereq())[0];
        assert!(i.hint.contains("ref=v1.5.1"));
        // Reported once, by CLU-001, when the profile needs the policy too.
        assert!(issues("LLMD-CLU-002", &snap, &fixtures::current()).is_empty());
        assert!(issues("LLMD-CLU-002", &with_server(&gateway_standard("v1.3.0"), "v1.29.2"), &fixtures::prereq())
            .is_empty());
        assert_eq!(
            issues("LLMD-CLU-002", &with_server(&gateway_standard("v1.5.1"), "v1.30.2"), &fixtures::prereq()).len(),
            1
        );
        assert!(issues("LLMD-CLU-002", &with_server(&gateway_standard("v1.5.1"), "v1.31.0"), &fixtures::prereq())
            .is_empty());
    }
}
