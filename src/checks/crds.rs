//! Checks: CRDs. The Gateway API and Inference Extension (GAIE) bundles installed versus the
//! profile: missing or partial bundles, served versions, bundle age, skew and channel mix,
//! storedVersions that block an upgrade, stale CRDs and objects left on removed APIs.

use super::{Check, CheckContext, Issue};
use crate::catalog::BundleKind;
use crate::catalog::{self, annotations, CrdFact, GaieRelease, GatewayApiRelease, Profile};
use crate::findings::Category;
use crate::model::{groups, CrdView, ObjectRef};
use crate::repair::Repair;
use crate::snapshot::{Kind, Snapshot};
use semver::Version;
use std::collections::BTreeMap;

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-CRD-001",
        title: "The profile's Gateway API standard-channel CRDs are installed",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::LiveStatus],
        run: gateway_crds_installed,
    },
    Check {
        code: "LLMD-CRD-002",
        title: "An InferencePool CRD is installed",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::LiveStatus],
        run: pool_crd_installed,
    },
    Check {
        code: "LLMD-CRD-003",
        title: "The inference.networking.k8s.io InferencePool CRD serves v1",
        category: Category::Crds,
        needs: &[Kind::Crds],
        run: pool_v1_served,
    },
    Check {
        code: "LLMD-CRD-004",
        title: "InferencePool v1 is installed, not only the alpha x-k8s API",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::LiveStatus],
        run: not_only_alpha_pool,
    },
    Check {
        code: "LLMD-CRD-005",
        title: "An InferenceObjective CRD is installed for endpoint pickers older than v1.3",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::Deployments, Kind::StatefulSets, Kind::LiveStatus],
        run: objective_crd_installed,
    },
    Check {
        code: "LLMD-CRD-006",
        title: "Installed CRD bundles are not older than the profile",
        category: Category::Crds,
        needs: &[Kind::Crds],
        run: bundles_not_older_than_profile,
    },
    Check {
        code: "LLMD-CRD-007",
        title: "Every CRD of a bundle carries the same bundle version",
        category: Category::Crds,
        needs: &[Kind::Crds],
        run: bundle_versions_agree,
    },
    Check {
        code: "LLMD-CRD-008",
        title: "Gateway API CRDs all come from one release channel",
        category: Category::Crds,
        needs: &[Kind::Crds],
        run: one_channel,
    },
    Check {
        code: "LLMD-CRD-009",
        title: "status.storedVersions hold only versions the profile's bundle keeps",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::LiveStatus],
        run: stored_versions_in_target,
    },
    Check {
        code: "LLMD-CRD-010",
        title: "status.storedVersions hold only versions the CRD defines",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::LiveStatus],
        run: stored_versions_in_spec,
    },
    Check {
        code: "LLMD-CRD-011",
        title: "No InferenceModel is left (replaced by InferenceObjective in GAIE v1.0)",
        category: Category::Crds,
        needs: &[Kind::InferenceObjectives],
        run: inference_models_migrated,
    },
    Check {
        code: "LLMD-CRD-012",
        title: "No CRD of a kind its installed bundle removed is left behind",
        category: Category::Crds,
        needs: &[Kind::Crds, Kind::InferencePoolsX, Kind::InferenceObjectives],
        run: no_stale_crds,
    },
    Check {
        code: "LLMD-CRD-013",
        title: "No CRD carries a last-applied-configuration close to the annotation size limit",
        category: Category::Crds,
        needs: &[Kind::Crds],
        run: last_applied_not_oversized,
    },
];

/// Metadata names of the CRDs the checks look up.
pub(super) const POOL_V1_CRD: &str = "inferencepools.inference.networking.k8s.io";
pub(super) const POOL_X_CRD: &str = "inferencepools.inference.networking.x-k8s.io";
const OBJECTIVE_CRDS: [&str; 3] = [
    "inferenceobjectives.inference.networking.k8s.io",
    "inferenceobjectives.inference.networking.x-k8s.io",
    "inferenceobjectives.llm-d.ai",
];
/// Kinds without which no route can be written.
const CORE_GATEWAY_PLURALS: [&str; 3] = ["gatewayclasses", "gateways", "httproutes"];
/// Annotation kubectl's client-side apply keeps; the API server caps all annotations at 262144 bytes.
const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";
/// Warn well before the 256 KiB limit: the next bundle is usually larger than the installed one.
const LAST_APPLIED_WARN_BYTES: usize = 200 * 1024;
/// Where llm-d-router publishes the llm-d.ai CRDs (InferenceObjective from GAIE v1.6 on).
const LLMD_ROUTER_CRDS: &str = "https://github.com/llm-d/llm-d-router/releases/latest/download/manifests.yaml";

// ---------------------------------------------------------------------------------------------
// Helpers shared with cluster.rs and admission.rs.

/// The reference of a CRD.
pub(super) fn crd_ref(name: &str) -> ObjectRef {
    ObjectRef::new("CustomResourceDefinition", "apiextensions.k8s.io", "", name)
}

/// A profile ref read as a release version; None for git refs ("main", a branch, a commit).
pub(super) fn release_version(r: &str) -> Option<Version> {
    let t = r.trim();
    let body = t.strip_prefix('v').unwrap_or(t);
    if !body.contains('.') || !body.starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    catalog::parse_version(t)
}

/// major.minor.patch, ignoring pre-release tags ("v1.5.0-dev" counts as v1.5.0).
pub(super) fn core(v: &Version) -> (u64, u64, u64) {
    (v.major, v.minor, v.patch)
}

/// The command installing the Gateway API CRDs at `git_ref` (any tag, branch or commit).
pub(super) fn gateway_install_cmd(git_ref: &str, experimental: bool) -> String {
    let path = if experimental { "config/crd/experimental" } else { "config/crd" };
    format!("kubectl apply --server-side -k \"https://github.com/kubernetes-sigs/gateway-api/{path}?ref={git_ref}\"")
}

/// The command installing the GAIE CRDs at `git_ref`.
pub(super) fn gaie_install_cmd(git_ref: &str) -> String {
    format!(
        "kubectl apply --server-side -k \"https://github.com/kubernetes-sigs/gateway-api-inference-extension/config/crd?ref={git_ref}\""
    )
}

fn is_gateway_group(group: &str) -> bool {
    group == groups::GATEWAY || group == groups::GATEWAY_X
}

fn is_gaie_group(group: &str) -> bool {
    group == groups::INFERENCE || group == groups::INFERENCE_X
}

fn is_our_group(group: &str) -> bool {
    is_gateway_group(group) || is_gaie_group(group) || group == groups::LLMD
}

fn bundle_version(crd: &CrdView, key: &str) -> Option<Version> {
    crd.annotation(key).and_then(catalog::parse_version)
}

/// Every Gateway API CRD (both groups) with its bundle-version annotation.
fn gateway_bundles(snap: &Snapshot) -> impl Iterator<Item = (Version, &CrdView)> {
    snap.crds
        .items()
        .iter()
        .filter(|c| is_gateway_group(&c.spec.group))
        .filter_map(|c| bundle_version(c, annotations::GATEWAY_BUNDLE).map(|v| (v, c)))
}

/// True when most Gateway API CRDs are annotated with the experimental channel (re-apply that channel).
fn mostly_experimental(snap: &Snapshot) -> bool {
    let channels = snap
        .crds
        .items()
        .iter()
        .filter(|c| is_gateway_group(&c.spec.group))
        .filter_map(|c| c.annotation(annotations::GATEWAY_CHANNEL));
    let (exp, std) = channels.fold((0, 0), |(e, s), ch| match ch {
        "experimental" => (e + 1, s),
        "standard" => (e, s + 1),
        _ => (e, s),
    });
    exp > std
}

/// The newest Gateway API bundle version among the installed CRDs (the bundle last applied).
pub(super) fn newest_gateway_bundle(snap: &Snapshot) -> Option<(Version, &CrdView)> {
    gateway_bundles(snap).max_by(|a, b| a.0.cmp(&b.0))
}

/// The installed GAIE bundle: the v1 pool CRD's annotation, else the newest GAIE annotation.
fn installed_gaie(snap: &Snapshot) -> Option<Version> {
    if let Some(v) = snap.crd(POOL_V1_CRD).and_then(|c| bundle_version(c, annotations::INFERENCE_BUNDLE)) {
        return Some(v);
    }
    snap.crds
        .items()
        .iter()
        .filter(|c| is_gaie_group(&c.spec.group))
        .filter_map(|c| bundle_version(c, annotations::INFERENCE_BUNDLE))
        .max()
}

/// The profile's Gateway API release, when its ref is a known release.
fn gateway_target(profile: &Profile) -> Option<&'static GatewayApiRelease> {
    release_version(&profile.gateway_api).and_then(|_| catalog::gateway_api_release(&profile.gateway_api))
}

/// The profile's GAIE release, when its ref is a known release.
fn gaie_target(profile: &Profile) -> Option<&'static GaieRelease> {
    release_version(&profile.inference_extension).and_then(|_| catalog::gaie_release(&profile.inference_extension))
}

/// True unless the profile pins a GAIE v0.x (git refs such as "main" are v1 and later).
fn profile_expects_v1_pool(profile: &Profile) -> bool {
    release_version(&profile.inference_extension).is_none_or(|v| v.major >= 1)
}

/// True when the profile's InferenceObjective lives in llm-d.ai (GAIE v1.6 on, or a git ref).
fn profile_objective_in_llmd(profile: &Profile) -> bool {
    release_version(&profile.inference_extension).is_none_or(|v| core(&v) >= (1, 6, 0))
}

/// Every CRD of a release in either channel (experimental versions of shared kinds included).
fn all_facts(r: &GatewayApiRelease) -> impl Iterator<Item = &'static CrdFact> {
    r.channel(false).chain(r.channel(true))
}

/// The release a CRD is judged against: the profile's, or the CRD's own bundle when that is newer.
/// The profile is a minimum (see docs/checks.md): a newer compatible bundle is never judged by an
/// older one, since nothing would re-apply the older bundle over it.
fn judged_release(profile_ref: &str, installed: Option<Version>) -> Option<String> {
    let target = release_version(profile_ref);
    match (target, installed) {
        (Some(t), Some(i)) if core(&i) > core(&t) => Some(format!("v{}.{}.{}", i.major, i.minor, i.patch)),
        (Some(_), _) => Some(profile_ref.to_string()),
        (None, _) => None,
    }
}

/// The target fact of an installed CRD (the newer of the profile's bundle and its own), with the
/// bundle's label.
fn target_fact(profile: &Profile, crd: &CrdView) -> Option<(&'static CrdFact, String)> {
    let name = crd.metadata.name.as_str();
    if is_gateway_group(&crd.spec.group) {
        let judged = judged_release(&profile.gateway_api, bundle_version(crd, annotations::GATEWAY_BUNDLE))?;
        let r = catalog::gateway_api_release(&judged)?;
        // A standard-channel CRD is only replaced by the standard bundle: a kind the target ships only in
        // its experimental channel (e.g. BackendTLSPolicy before v1.4) is never applied over it; an
        // experimental CRD by the experimental channel, whose shared kinds serve more versions.
        let fact = match crd.annotation(annotations::GATEWAY_CHANNEL) {
            Some("standard") => r.fact(name, false),
            Some("experimental") => r.fact(name, true),
            _ => r.fact(name, false).or_else(|| r.fact(name, true)),
        };
        fact.map(|f| (f, format!("Gateway API {judged}")))
    } else if is_gaie_group(&crd.spec.group) {
        let judged = judged_release(&profile.inference_extension, bundle_version(crd, annotations::INFERENCE_BUNDLE))?;
        let r = catalog::gaie_release(&judged)?;
        r.crds.iter().find(|f| f.name() == name).map(|f| (f, format!("GAIE {judged}")))
    } else {
        None
    }
}

/// True when a release after the one `crd` is judged against ships it without `version`: only such
/// a release refuses a stored-but-unserved version. Gateway API v1.6 keeps TCPRoute/UDPRoute
/// v1alpha2 as `served: false` (config/crd/standard at v1.6.1, and still at v1.7.0): no hazard.
fn dropped_later(profile: &Profile, crd: &CrdView, version: &str) -> bool {
    let name = crd.metadata.name.as_str();
    let lacks = |f: &CrdFact| f.name() == name && !f.versions.iter().any(|v| v.name == version);
    if is_gateway_group(&crd.spec.group) {
        let judged = judged_release(&profile.gateway_api, bundle_version(crd, annotations::GATEWAY_BUNDLE));
        let Some(target) = judged.as_deref().and_then(catalog::gateway_api_release) else { return false };
        let experimental = crd.annotation(annotations::GATEWAY_CHANNEL) == Some("experimental");
        catalog::GATEWAY_API_RELEASES
            .iter()
            .skip_while(|r| r.line != target.line)
            .skip(1)
            .any(|r| r.channel(experimental).any(lacks))
    } else {
        let judged = judged_release(&profile.inference_extension, bundle_version(crd, annotations::INFERENCE_BUNDLE));
        let Some(target) = judged.as_deref().and_then(catalog::gaie_release) else { return false };
        catalog::GAIE_RELEASES.iter().skip_while(|r| r.line != target.line).skip(1).any(|r| r.crds.iter().any(lacks))
    }
}

/// A release ("Gateway API v1.1.1") whose CRD `name` stores `storage` and still defines every `pending`
/// version: apply it, migrate, then upgrade.
fn bridge_release(name: &str, pending: &[&str], storage: &str) -> Option<String> {
    let fits = |f: &CrdFact| {
        f.name() == name && f.storage() == storage && pending.iter().all(|p| f.versions.iter().any(|v| v.name == *p))
    };
    let gateway = catalog::GATEWAY_API_RELEASES
        .iter()
        .find(|r| all_facts(r).any(fits))
        .and_then(|r| r.patches.last().map(|p| format!("Gateway API {p}")));
    gateway.or_else(|| {
        catalog::GAIE_RELEASES
            .iter()
            .find(|r| r.crds.iter().any(fits))
            .and_then(|r| r.patches.last().map(|p| format!("GAIE {p}")))
    })
}

/// Standard-channel CRD names to expect when the profile ref is not a known release:
/// those every release from v1.2 on has.
fn common_standard_names() -> Vec<String> {
    let recent: Vec<&GatewayApiRelease> = catalog::GATEWAY_API_RELEASES
        .iter()
        .filter(|r| catalog::parse_version(r.line).is_some_and(|v| core(&v) >= (1, 2, 0)))
        .collect();
    let Some(first) = recent.first() else { return Vec::new() };
    first
        .standard
        .iter()
        .map(CrdFact::name)
        .filter(|n| recent.iter().all(|r| r.standard.iter().any(|f| &f.name() == n)))
        .collect()
}

/// A CRD left over from an older bundle: not part of the installed bundle that holds its group.
struct StaleCrd<'a> {
    crd: &'a CrdView,
    /// "Gateway API v1.5.1" or "GAIE v1.5.0".
    bundle: String,
}

fn stale_crds(snap: &Snapshot) -> Vec<StaleCrd<'_>> {
    let mut out = Vec::new();
    if let Some((newest, _)) = newest_gateway_bundle(snap) {
        if let Some(r) = catalog::gateway_api_release(&format!("v{newest}")) {
            for crd in snap.crds.items().iter().filter(|c| is_gateway_group(&c.spec.group)) {
                let older = bundle_version(crd, annotations::GATEWAY_BUNDLE).is_none_or(|v| core(&v) < core(&newest));
                if older && !all_facts(r).any(|f| f.name() == crd.metadata.name) {
                    out.push(StaleCrd { crd, bundle: format!("Gateway API v{newest}") });
                }
            }
        }
    }
    if let Some(gaie) = installed_gaie(snap) {
        if let Some(r) = catalog::gaie_release(&format!("v{gaie}")) {
            for crd in snap.crds.items().iter().filter(|c| is_gaie_group(&c.spec.group)) {
                if !r.crds.iter().any(|f| f.name() == crd.metadata.name) {
                    out.push(StaleCrd { crd, bundle: format!("GAIE v{gaie}") });
                }
            }
        }
    }
    out
}

/// The bundle ref a repair of `kind` installs: the profile's, or the installed bundle when that is
/// newer (the profile is a minimum: a missing CRD of a newer install is restored at its own version,
/// never by downgrading the bundle).
pub(super) fn install_ref(snap: &Snapshot, profile: &Profile, kind: BundleKind) -> String {
    let (profile_ref, installed) = match kind {
        BundleKind::GatewayApi => (&profile.gateway_api, newest_gateway_bundle(snap).map(|(v, _)| v)),
        BundleKind::Gaie => (&profile.inference_extension, installed_gaie(snap)),
    };
    judged_release(profile_ref, installed).unwrap_or_else(|| profile_ref.clone())
}

/// The Gateway API ref `doctor --fix` would install, when the cluster needs one: the installed bundle
/// is older than the profile, or standard-channel CRDs of the bundle it is judged by are missing.
pub(super) fn gateway_install_needed(snap: &Snapshot, profile: &Profile) -> Option<String> {
    let installed = newest_gateway_bundle(snap).map(|(v, _)| v);
    if let (Some(target), Some(i)) = (release_version(&profile.gateway_api), &installed) {
        if core(i) < core(&target) {
            return Some(profile.gateway_api.clone());
        }
    }
    let wanted = install_ref(snap, profile, BundleKind::GatewayApi);
    let expected: Vec<String> =
        match catalog::gateway_api_release(&wanted).filter(|_| release_version(&wanted).is_some()) {
            Some(r) => r.standard.iter().map(CrdFact::name).collect(),
            None => common_standard_names(),
        };
    expected.iter().any(|n| snap.crd(n).is_none()).then_some(wanted)
}

/// The repair installing (or upgrading to) the bundle of `kind` through `gateway install`'s code path.
fn install_repair(snap: &Snapshot, profile: &Profile, kind: BundleKind) -> Repair {
    Repair::InstallCrds { bundles: vec![(kind, install_ref(snap, profile, kind))] }
}

/// Attach the install repair of `kind` (the profile's standard-channel Gateway API bundle cannot
/// repair experimental-channel CRDs: those stay fixable by hand).
fn with_install(issue: Issue, snap: &Snapshot, profile: &Profile, kind: BundleKind) -> Issue {
    if kind == BundleKind::GatewayApi && mostly_experimental(snap) {
        return issue;
    }
    issue.repair(install_repair(snap, profile, kind))
}

fn join(names: &[impl AsRef<str>]) -> String {
    names.iter().map(AsRef::as_ref).collect::<Vec<_>>().join(", ")
}

fn plural_of(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-001

fn gateway_crds_installed(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    // Judged by the newer of the profile's bundle and the installed one (the profile is a minimum).
    let wanted = install_ref(snap, profile, BundleKind::GatewayApi);
    let mut expected: Vec<String> =
        match catalog::gateway_api_release(&wanted).filter(|_| release_version(&wanted).is_some()) {
            Some(r) => r.standard.iter().map(CrdFact::name).collect(),
            None => common_standard_names(),
        };
    // An installed bundle older than the profile lacks the kinds added since: LLMD-CRD-006 reports
    // that, so here only CRDs the installed release itself ships count as missing.
    if let (Some(target), Some((installed, _))) = (release_version(&profile.gateway_api), newest_gateway_bundle(snap)) {
        if core(&installed) < core(&target) {
            if let Some(r) = catalog::gateway_api_release(&format!("v{installed}")) {
                expected.retain(|n| r.standard.iter().any(|f| &f.name() == n));
            }
        }
    }
    let missing: Vec<&String> = expected.iter().filter(|n| snap.crd(n).is_none()).collect();
    let Some(first) = missing.first() else { return Vec::new() };
    let hint = format!("{} (or kubectl llmd gateway install)", gateway_install_cmd(&wanted, false));
    let issue = if missing.len() == expected.len() {
        Issue::error(
            crd_ref(first),
            format!(
                "No Gateway API CRDs are installed (the profile expects the {} standard channel: {}), so no Gateway or HTTPRoute can be created",
                wanted,
                join(&expected.iter().map(|n| plural_of(n)).collect::<Vec<_>>())
            ),
            hint,
        )
    } else {
        let message = format!(
            "The Gateway API standard channel is only partly installed: {} of {} CRDs are missing ({})",
            missing.len(),
            expected.len(),
            join(&missing)
        );
        if missing.iter().any(|n| CORE_GATEWAY_PLURALS.contains(&plural_of(n))) {
            Issue::error(crd_ref(first), message, hint)
        } else {
            Issue::warning(crd_ref(first), message, hint)
        }
    };
    vec![with_install(issue, snap, profile, BundleKind::GatewayApi)]
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-002

fn pool_crd_installed(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    if snap.crd(POOL_V1_CRD).is_some() || snap.crd(POOL_X_CRD).is_some() {
        return Vec::new();
    }
    let (name, api) = if profile_expects_v1_pool(profile) {
        (POOL_V1_CRD, "inference.networking.k8s.io/v1")
    } else {
        (POOL_X_CRD, "inference.networking.x-k8s.io/v1alpha2")
    };
    let issue = Issue::error(
        crd_ref(name),
        format!(
            "The Gateway API Inference Extension CRDs are not installed (no {name}): applying an InferencePool fails with no matches for kind \"InferencePool\" in version \"{api}\""
        ),
        format!("{} (or kubectl llmd gateway install)", gaie_install_cmd(&profile.inference_extension)),
    );
    vec![with_install(issue, snap, profile, BundleKind::Gaie)]
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-003

fn pool_v1_served(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let Some(crd) = snap.crd(POOL_V1_CRD) else { return Vec::new() };
    if crd.serves("v1") || !profile_expects_v1_pool(profile) {
        return Vec::new();
    }
    let served = crd.served_versions();
    let served = if served.is_empty() { "none".to_string() } else { join(&served) };
    let issue = Issue::error(
        crd_ref(POOL_V1_CRD),
        format!(
            "CRD {POOL_V1_CRD} is installed but does not serve v1 (served: {served}), so inference.networking.k8s.io/v1 InferencePools cannot be read or written"
        ),
        format!(
            "kubectl llmd doctor --fix=LLMD-CRD-003, or {}",
            gaie_install_cmd(&profile.inference_extension)
        ),
    );
    vec![with_install(issue, snap, profile, BundleKind::Gaie)]
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-004

fn not_only_alpha_pool(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    if !profile_expects_v1_pool(profile) || snap.crd(POOL_V1_CRD).is_some() {
        return Vec::new();
    }
    let Some(x) = snap.crd(POOL_X_CRD) else { return Vec::new() };
    // GAIE v0.x CRDs carry no bundle-version annotation; v1.0–v1.4 annotate the x-k8s CRDs too.
    let installed = match x.annotation(annotations::INFERENCE_BUNDLE) {
        Some(v) => format!("GAIE {v}"),
        None => format!("GAIE v0.x: no {} annotation", annotations::INFERENCE_BUNDLE),
    };
    let issue = Issue::error(
        crd_ref(POOL_X_CRD),
        format!(
            "Only the alpha InferencePool API is installed ({POOL_X_CRD}, {installed}); {POOL_V1_CRD} is missing, so gateways that speak only v1 (Istio 1.28+, agentgateway, NGINX Gateway Fabric 2.2+) route to no pool and v1 InferencePools cannot be created"
        ),
        format!(
            "{} (or kubectl llmd doctor --fix=LLMD-CRD-004), then convert the alpha pools with kubectl llmd doctor --fix=LLMD-POOL-001",
            gaie_install_cmd(&profile.inference_extension)
        ),
    );
    vec![with_install(issue, snap, profile, BundleKind::Gaie)]
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-005

fn objective_crd_installed(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    // Without any pool CRD the GAIE install (LLMD-CRD-002/004) is the root cause.
    if !profile_expects_v1_pool(profile) || snap.crd(POOL_V1_CRD).is_none() {
        return Vec::new();
    }
    if OBJECTIVE_CRDS.iter().any(|n| snap.crd(n).is_some()) {
        return Vec::new();
    }
    // From GAIE v1.3 the picker looks the CRD up through discovery and runs without it
    // (v1.3.0 pkg/epp/server/controller_config.go): only an older picker waits for it.
    let waiting = super::endpoint_picker::pickers_older_than(snap, &Version::new(1, 3, 0));
    let Some((picker, image)) = waiting.first() else { return Vec::new() };
    let (name, hint) = if profile_objective_in_llmd(profile) {
        (
            OBJECTIVE_CRDS[2],
            format!("kubectl apply --server-side -f {LLMD_ROUTER_CRDS} (or kubectl llmd gateway install)"),
        )
    } else {
        (
            OBJECTIVE_CRDS[1],
            format!("{} (or kubectl llmd gateway install)", gaie_install_cmd(&profile.inference_extension)),
        )
    };
    let issue = Issue::warning(
        crd_ref(name),
        format!(
            "No InferenceObjective CRD is installed (looked in {}, {} and {}): endpoint picker {} {}/{} runs {image}, older than v1.3, so it waits for the CRD at startup and never becomes ready{}",
            groups::INFERENCE,
            groups::INFERENCE_X,
            groups::LLMD,
            picker.kind,
            picker.namespace,
            picker.name,
            if waiting.len() > 1 { format!(" ({} such pickers)", waiting.len()) } else { String::new() }
        ),
        hint,
    );
    // The GAIE bundle repairs it only when the profile's release ships the CRD (v1.0–v1.5); from v1.6
    // on it lives in llm-d-router, which `gateway install` does not install.
    let in_profile_bundle = !profile_objective_in_llmd(profile)
        && gaie_target(profile).is_some_and(|r| r.crds.iter().any(|f| OBJECTIVE_CRDS.contains(&f.name().as_str())));
    if in_profile_bundle {
        vec![issue.repair(install_repair(snap, profile, BundleKind::Gaie))]
    } else {
        vec![issue]
    }
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-006

fn bundles_not_older_than_profile(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let mut out = Vec::new();
    if let Some(target) = release_version(&profile.gateway_api) {
        // Only CRDs the profile's bundle still ships: a kind it dropped keeps its old annotation forever
        // (LLMD-CRD-012 reports those).
        let shipped =
            |c: &CrdView| gateway_target(profile).is_none_or(|r| all_facts(r).any(|f| f.name() == c.metadata.name));
        let oldest = gateway_bundles(snap).filter(|(_, c)| shipped(c)).min_by(|a, b| a.0.cmp(&b.0));
        if let Some((installed, crd)) = oldest {
            if core(&installed) < core(&target) {
                let experimental = mostly_experimental(snap);
                out.push(with_install(
                    Issue::warning(
                        crd_ref(&crd.metadata.name),
                        format!(
                            "Gateway API CRDs are at bundle v{installed} (e.g. {}), older than the profile's {}",
                            crd.metadata.name, profile.gateway_api
                        ),
                        format!(
                            "kubectl llmd doctor --fix=LLMD-CRD-006, or {}",
                            gateway_install_cmd(&profile.gateway_api, experimental)
                        ),
                    ),
                    snap,
                    profile,
                    BundleKind::GatewayApi,
                ));
            }
        }
    }
    if let (Some(target), Some(crd)) = (release_version(&profile.inference_extension), snap.crd(POOL_V1_CRD)) {
        if let Some(installed) = bundle_version(crd, annotations::INFERENCE_BUNDLE) {
            if core(&installed) < core(&target) {
                out.push(with_install(
                    Issue::warning(
                        crd_ref(POOL_V1_CRD),
                        format!(
                            "GAIE CRDs are at bundle v{installed} ({POOL_V1_CRD}), older than the profile's {}",
                            profile.inference_extension
                        ),
                        format!(
                            "kubectl llmd doctor --fix=LLMD-CRD-006, or {}",
                            gaie_install_cmd(&profile.inference_extension)
                        ),
                    ),
                    snap,
                    profile,
                    BundleKind::Gaie,
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-007

/// A CRD bundle project: its name, which CRD groups belong to it, its bundle-version annotation.
type Project = (&'static str, fn(&str) -> bool, &'static str);

fn bundle_versions_agree(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let stale: Vec<&str> = stale_crds(snap).iter().map(|s| s.crd.metadata.name.as_str()).collect();
    let projects: [Project; 2] = [
        ("Gateway API", is_gateway_group, annotations::GATEWAY_BUNDLE),
        ("GAIE", is_gaie_group, annotations::INFERENCE_BUNDLE),
    ];
    let mut out = Vec::new();
    for (project, in_project, key) in projects {
        // version → CRD names, oldest first.
        let mut by_version: BTreeMap<Version, Vec<&str>> = BTreeMap::new();
        for crd in snap.crds.items().iter().filter(|c| in_project(&c.spec.group)) {
            if stale.contains(&crd.metadata.name.as_str()) {
                continue;
            }
            if let Some(v) = bundle_version(crd, key) {
                by_version.entry(v).or_default().push(crd.metadata.name.as_str());
            }
        }
        if by_version.len() < 2 {
            continue;
        }
        let Some((newest, _)) = by_version.last_key_value() else { continue };
        let newest = newest.clone();
        let outliers: Vec<&str> =
            by_version.iter().filter(|(v, _)| **v != newest).flat_map(|(_, names)| names.iter().copied()).collect();
        let summary =
            by_version.iter().map(|(v, names)| format!("v{v}: {}", join(names))).collect::<Vec<_>>().join("; ");
        let newest_ref = format!("v{newest}");
        let cmd = if project == "GAIE" {
            gaie_install_cmd(&newest_ref)
        } else {
            gateway_install_cmd(&newest_ref, mostly_experimental(snap))
        };
        let issue = Issue::warning(
            crd_ref(outliers[0]),
            format!("{project} CRDs come from different bundles ({summary}); controllers may reject the mix (SupportedVersion=False)"),
            format!("kubectl llmd doctor --fix=LLMD-CRD-007, or re-apply the whole bundle: {cmd}"),
        );
        // Re-applying the bundle a repair installs (the newer of the profile's and the installed one)
        // evens the mix out only when it is not older than the newest CRD (that would be a downgrade)...
        let kind = if project == "GAIE" { BundleKind::Gaie } else { BundleKind::GatewayApi };
        let target = install_ref(snap, ctx.profile, kind);
        let shipped: Vec<String> = match kind {
            BundleKind::Gaie => catalog::gaie_release(&target).map(|r| r.crds.iter().map(CrdFact::name).collect()),
            BundleKind::GatewayApi => {
                catalog::gateway_api_release(&target).map(|r| r.standard.iter().map(CrdFact::name).collect())
            }
        }
        .unwrap_or_default();
        // ...and when that bundle holds every outlier (a kind it does not ship keeps its old version).
        let evens_out = outliers.iter().all(|o| shipped.iter().any(|n| n == o));
        if evens_out && release_version(&target).is_some_and(|t| core(&t) >= core(&newest)) {
            out.push(with_install(issue, snap, ctx.profile, kind));
        } else {
            out.push(issue);
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-008

fn one_channel(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let mut standard = Vec::new();
    let mut experimental = Vec::new();
    for crd in snap.crds.items().iter().filter(|c| is_gateway_group(&c.spec.group)) {
        match crd.annotation(annotations::GATEWAY_CHANNEL) {
            Some("standard") => standard.push(crd.metadata.name.as_str()),
            Some("experimental") => experimental.push(crd.metadata.name.as_str()),
            _ => {}
        }
    }
    if standard.is_empty() || experimental.is_empty() {
        return Vec::new();
    }
    let minority = if standard.len() < experimental.len() { standard[0] } else { experimental[0] };
    vec![Issue::warning(
        crd_ref(minority),
        format!(
            "Gateway API CRDs mix release channels: standard ({}) and experimental ({}); the experimental schemas of one kind may not match what the standard ones of another expect",
            join(&standard),
            join(&experimental)
        ),
        format!(
            "re-apply every Gateway API CRD from one channel, e.g. {}",
            gateway_install_cmd(&profile.gateway_api, true)
        ),
    )]
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-009

fn stored_versions_in_target(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let mut out = Vec::new();
    for crd in snap.crds.items().iter().filter(|c| is_our_group(&c.spec.group)) {
        let Some((fact, bundle)) = target_fact(profile, crd) else { continue };
        let stored = &crd.status.stored_versions;
        // Versions the CRD itself no longer defines are LLMD-CRD-010's.
        let defined = |v: &str| crd.spec.versions.iter().any(|d| d.name == v);
        let removed: Vec<(usize, &str)> = stored
            .iter()
            .enumerate()
            .filter(|(_, v)| defined(v) && !fact.versions.iter().any(|f| f.name == v.as_str()))
            .map(|(i, v)| (i, v.as_str()))
            .collect();
        let unserved: Vec<&str> = stored
            .iter()
            .filter(|v| {
                defined(v)
                    && fact.versions.iter().any(|f| f.name == v.as_str() && !f.served)
                    && v.as_str() != fact.storage()
                    && dropped_later(profile, crd, v)
            })
            .map(String::as_str)
            .collect();
        if removed.is_empty() && unserved.is_empty() {
            continue;
        }
        let storage = fact.storage();
        let name = crd.metadata.name.as_str();
        let issue = match removed.first() {
            Some((index, version)) => Issue::error(
                crd_ref(name),
                format!(
                    "status.storedVersions of {name} holds {}, which {bundle} no longer has: applying that bundle fails with {}",
                    join(&removed.iter().map(|(_, v)| *v).collect::<Vec<_>>()),
                    catalog::stored_version_refusal(snap.server_version.items().first().map(String::as_str), *index, version)
                ),
                String::new(),
            ),
            None => Issue::warning(
                crd_ref(name),
                format!(
                    "status.storedVersions of {name} holds {}, which {bundle} no longer serves: the release that drops it will refuse to install until the objects are migrated",
                    join(&unserved)
                ),
                String::new(),
            ),
        };
        if crd.storage_version() == Some(storage) {
            out.push(
                Issue {
                    hint: format!(
                        "kubectl llmd doctor --fix=LLMD-CRD-009 (rewrites every {} at {storage}, then sets status.storedVersions of {name} to [{storage}])",
                        crd.spec.names.kind
                    ),
                    ..issue
                }
                .repair(Repair::MigrateStoredVersions { crd: name.to_string() }),
            );
            continue;
        }
        // The installed CRD cannot write objects at the target's storage version yet: not repairable in place.
        let pending: Vec<&str> = removed.iter().map(|(_, v)| *v).chain(unserved.iter().copied()).collect();
        let hint = match bridge_release(name, &pending, storage) {
            Some(bridge) => format!(
                "step through {bridge}, which stores {storage} and still has {}: apply it, run kubectl llmd doctor --fix=LLMD-CRD-009, then apply the profile's bundle",
                join(&pending)
            ),
            None => format!(
                "no release converts {} to {storage} in place: back up with kubectl get {name} -A -o yaml, kubectl delete crd {name}, apply the profile's bundle, then re-create the objects at {storage}",
                join(&pending)
            ),
        };
        out.push(Issue { hint, ..issue });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-010

fn stored_versions_in_spec(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for crd in snap.crds.items().iter().filter(|c| is_our_group(&c.spec.group)) {
        let undefined: Vec<&str> = crd
            .status
            .stored_versions
            .iter()
            .filter(|v| !crd.spec.versions.iter().any(|d| &d.name == *v))
            .map(String::as_str)
            .collect();
        if undefined.is_empty() {
            continue;
        }
        let defined: Vec<&str> = crd.spec.versions.iter().map(|v| v.name.as_str()).collect();
        let storage = crd.storage_version().unwrap_or("the storage version");
        let issue = Issue::error(
                crd_ref(&crd.metadata.name),
                format!(
                    "status.storedVersions of {} holds {}, which its spec.versions ({}) no longer defines: every update of this CRD, including the next bundle upgrade, is rejected",
                    crd.metadata.name,
                    join(&undefined),
                    join(&defined)
                ),
                format!(
                    "kubectl llmd doctor --fix=LLMD-CRD-010 (rewrites every {} at {storage}, then sets status.storedVersions to [{storage}])",
                    crd.spec.names.kind
                ),
            );
        out.push(match crd.storage_version() {
            Some(_) => issue.repair(Repair::MigrateStoredVersions { crd: crd.metadata.name.clone() }),
            None => issue,
        });
    }
    out
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-011

fn inference_models_migrated(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    if !profile_expects_v1_pool(profile) {
        return Vec::new();
    }
    let group = if profile_objective_in_llmd(profile) { groups::LLMD } else { groups::INFERENCE_X };
    snap.objectives
        .items()
        .iter()
        .filter(|o| o.kind == "InferenceModel")
        .map(|o| {
            let (ns, name) = (o.metadata.ns(), o.metadata.name.as_str());
            let pool = o.pool_ref.as_deref().unwrap_or("POOL");
            Issue::warning(
                ObjectRef::new("InferenceModel", &o.group, ns, name),
                format!(
                    "InferenceModel {ns}/{name} is ignored since GAIE v1.0 removed InferenceModel (modelName/criticality became InferenceObjective priority + poolRef)"
                ),
                format!(
                    "create InferenceObjective {ns}/{name} ({group}/v1alpha2) with spec.poolRef.name: {pool} and spec.priority, then kubectl delete inferencemodels.{}/{name} -n {ns}",
                    o.group
                ),
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-012

fn no_stale_crds(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    stale_crds(snap)
        .into_iter()
        .map(|s| {
            let name = s.crd.metadata.name.as_str();
            let group = s.crd.spec.group.as_str();
            let kind = s.crd.spec.names.kind.as_str();
            let count = |k: &str| snap.objectives.items().iter().filter(|o| o.group == group && o.kind == k).count();
            // Only kinds the snapshot lists can be counted; for the rest the user has to look.
            let remaining = match (name, kind) {
                (POOL_X_CRD, _) => Some((snap.pools_x.items().len(), "convert them first (see LLMD-POOL-001)")),
                (_, "InferenceModel") if group == groups::INFERENCE_X => {
                    Some((count(kind), "replace them with InferenceObjectives first (see LLMD-CRD-011)"))
                }
                (_, "InferenceObjective") if group == groups::INFERENCE_X => {
                    Some((count(kind), "recreate them as llm-d.ai/v1alpha2 InferenceObjectives first"))
                }
                _ => None,
            };
            let hint = match remaining {
                Some((0, _)) => format!("kubectl delete crd {name}"),
                Some((n, how)) => format!(
                    "{n} {kind} object(s) remain: {how}, then kubectl delete crd {name} (deleting the CRD deletes every {kind})"
                ),
                None => format!(
                    "check for objects with kubectl get {name} -A, then kubectl delete crd {name} (deleting the CRD deletes every {kind})"
                ),
            };
            Issue::warning(
                crd_ref(name),
                format!("CRD {name} is not part of the installed {}: it was left behind by an older release", s.bundle),
                hint,
            )
        })
        .collect()
}

// ---------------------------------------------------------------------------------------------
// LLMD-CRD-013

fn last_applied_not_oversized(ctx: &CheckContext) -> Vec<Issue> {
    let (snap, profile) = (ctx.snapshot, ctx.profile);
    let big: Vec<(&str, usize)> = snap
        .crds
        .items()
        .iter()
        .filter(|c| is_our_group(&c.spec.group))
        .filter_map(|c| c.annotation(LAST_APPLIED).map(|a| (c.metadata.name.as_str(), a.len())))
        .filter(|(_, len)| *len > LAST_APPLIED_WARN_BYTES)
        .collect();
    let Some((first, _)) = big.first() else { return Vec::new() };
    let listed = big.iter().map(|(n, len)| format!("{n} ({} KiB)", len / 1024)).collect::<Vec<_>>();
    let names = big.iter().map(|(n, _)| *n).collect::<Vec<_>>().join(" ");
    let any_gaie = big.iter().any(|(n, _)| n.contains(".inference.networking."));
    let apply = if any_gaie {
        gaie_install_cmd(&profile.inference_extension)
    } else {
        gateway_install_cmd(&profile.gateway_api, false)
    };
    vec![Issue::warning(
        crd_ref(first),
        format!(
            "{} carry a {LAST_APPLIED} annotation near the 262144-byte limit: the next client-side kubectl apply fails with metadata.annotations: Too long: may not be more than 262144 bytes",
            join(&listed)
        ),
        format!("kubectl annotate crd {names} {LAST_APPLIED}- and apply CRDs server-side from now on: {apply}"),
    )]
}

#[cfg(test)]
pub(super) mod testing {
    //! CRD fixtures shared by this area's tests.
    use crate::catalog::CrdFact;

    /// One CRD document. `versions`: "v1" served, "!v1alpha2" not served; the first is the storage version
    /// unless `storage` names another.
    pub fn crd(name: &str, kind: &str, versions: &[&str], stored: &[&str], annotations: &[(&str, &str)]) -> String {
        let (plural, group) = name.split_once('.').expect("plural.group");
        let mut y = format!(
            "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: {name}\n  annotations:\n    test/fixture: \"yes\"\n"
        );
        for (k, v) in annotations {
            y.push_str(&format!("    {k}: \"{v}\"\n"));
        }
        y.push_str(&format!(
            "spec:\n  group: {group}\n  scope: Namespaced\n  names:\n    kind: {kind}\n    plural: {plural}\n  versions:\n"
        ));
        for (i, v) in versions.iter().enumerate() {
            let (name, served) = match v.strip_prefix('!') {
                Some(n) => (n, false),
                None => (*v, true),
            };
            y.push_str(&format!("  - name: {name}\n    served: {served}\n    storage: {}\n", i == 0));
        }
        y.push_str(if stored.is_empty() { "status:\n  storedVersions: []\n" } else { "status:\n  storedVersions:\n" });
        for s in stored {
            y.push_str(&format!("  - {s}\n"));
        }
        y.push_str("---\n");
        y
    }

    /// CRDs of `facts` as one bundle, each annotated with `annotations`, storedVersions = [storage].
    pub fn bundle(facts: &[CrdFact], annotations: &[(&str, &str)]) -> String {
        facts
            .iter()
            .map(|f| {
                let mut versions: Vec<String> = vec![f.storage().to_string()];
                for v in f.versions.iter().filter(|v| !v.storage) {
                    versions.push(if v.served { v.name.to_string() } else { format!("!{}", v.name) });
                }
                let versions: Vec<&str> = versions.iter().map(String::as_str).collect();
                crd(&f.name(), f.kind, &versions, &[f.storage()], annotations)
            })
            .collect()
    }

    /// The Gateway API standard channel of `version` ("v1.3.0").
    pub fn gateway_standard(version: &str) -> String {
        let r = crate::catalog::gateway_api_release(version).expect("known release");
        bundle(
            r.standard,
            &[("gateway.networking.k8s.io/bundle-version", version), ("gateway.networking.k8s.io/channel", "standard")],
        )
    }

    /// The GAIE CRDs of `version` ("v1.0.1"); v0.x carry no annotation.
    pub fn gaie(version: &str) -> String {
        let r = crate::catalog::gaie_release(version).expect("known release");
        let ann = [("inference.networking.k8s.io/bundle-version", version)];
        let ann: &[(&str, &str)] = if r.annotated { &ann } else { &[] };
        bundle(r.crds, ann)
    }
}

#[cfg(test)]
mod tests {
    use super::testing::*;
    use super::*;
    use crate::checks::fixtures;
    use crate::findings::Severity;

    fn run(yaml: &str, profile: &Profile) -> Vec<(String, String, Severity)> {
        fixtures::run(CHECKS, &fixtures::snapshot(yaml), profile)
    }

    fn issues(code: &str, yaml: &str, profile: &Profile) -> Vec<Issue> {
        let snap = fixtures::snapshot(yaml);
        let ctx = CheckContext { snapshot: &snap, profile };
        let check = CHECKS.iter().find(|c| c.code == code).expect("code");
        (check.run)(&ctx)
    }

    fn codes(found: &[(String, String, Severity)]) -> Vec<&str> {
        found.iter().map(|(c, _, _)| c.as_str()).collect()
    }

    fn healthy_prereq() -> String {
        gateway_standard("v1.3.0") + &gaie("v1.0.1")
    }

    fn profile(ga: &str, gaie: &str) -> Profile {
        Profile { gateway_api: ga.into(), inference_extension: gaie.into(), ..fixtures::prereq() }
    }

    #[test]
    fn a_healthy_prerequisite_install_passes_every_check() {
        assert_eq!(run(&healthy_prereq(), &fixtures::prereq()), vec![]);
        let current = gateway_standard("v1.5.1") + &gaie("v1.5.0");
        assert_eq!(run(&current, &fixtures::current()), vec![]);
    }

    #[test]
    fn crd_001_no_gateway_api_crds() {
        let found = issues("LLMD-CRD-001", &gaie("v1.0.1"), &fixtures::prereq());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].repair.is_some());
        assert!(found[0].message.contains("No Gateway API CRDs"));
        assert!(found[0].hint.contains("gateway-api/config/crd?ref=v1.3.0"), "{}", found[0].hint);
    }

    #[test]
    fn crd_001_partial_bundle() {
        let yaml =
            gateway_standard("v1.3.0").replace("name: httproutes.gateway.networking.k8s.io", "name: other.example.com");
        let found = run(&(yaml + &gaie("v1.0.1")), &fixtures::prereq());
        assert!(found.contains(&(
            "LLMD-CRD-001".into(),
            "httproutes.gateway.networking.k8s.io".into(),
            Severity::Error
        )));
        // Only a ReferenceGrant missing: a warning.
        let yaml = gateway_standard("v1.3.0")
            .replace("name: referencegrants.gateway.networking.k8s.io", "name: other.example.com");
        let found = issues("LLMD-CRD-001", &yaml, &fixtures::prereq());
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("referencegrants.gateway.networking.k8s.io"));
    }

    #[test]
    fn crd_001_does_not_double_report_an_older_bundle() {
        // v1.3.0 installed, profile v1.5.1: ListenerSet/TLSRoute are missing because the bundle is old (CRD-006).
        let found = run(&(gateway_standard("v1.3.0") + &gaie("v1.5.0")), &fixtures::current());
        assert!(!codes(&found).contains(&"LLMD-CRD-001"), "{found:?}");
        assert!(codes(&found).contains(&"LLMD-CRD-006"));
    }

    #[test]
    fn crd_001_git_ref_profile_expects_the_common_core() {
        let p = profile("main", "main");
        assert!(issues("LLMD-CRD-001", &gateway_standard("v1.6.1"), &p).is_empty());
        assert_eq!(issues("LLMD-CRD-001", "", &p)[0].severity, Severity::Error);
    }

    #[test]
    fn crd_002_gaie_missing() {
        let found = issues("LLMD-CRD-002", &gateway_standard("v1.3.0"), &fixtures::prereq());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].object.name, POOL_V1_CRD);
        assert!(found[0]
            .message
            .contains("no matches for kind \"InferencePool\" in version \"inference.networking.k8s.io/v1\""));
        assert!(found[0].hint.contains("gateway-api-inference-extension/config/crd?ref=v1.0.1"));
        assert!(found[0].hint.contains("kubectl llmd gateway install"));
        assert!(issues("LLMD-CRD-002", &healthy_prereq(), &fixtures::prereq()).is_empty());
    }

    #[test]
    fn crd_003_v1_not_served() {
        let yaml = gateway_standard("v1.3.0")
            + &crd(POOL_V1_CRD, "InferencePool", &["!v1"], &["v1"], &[(annotations::INFERENCE_BUNDLE, "v1.0.1")]);
        let found = run(&yaml, &fixtures::prereq());
        assert!(found.contains(&("LLMD-CRD-003".into(), POOL_V1_CRD.into(), Severity::Error)), "{found:?}");
        assert!(!codes(&found).contains(&"LLMD-CRD-002"));
    }

    #[test]
    fn crd_004_only_alpha_pool_v0() {
        let found = run(&(gateway_standard("v1.3.0") + &gaie("v0.5.1")), &fixtures::prereq());
        assert!(found.contains(&("LLMD-CRD-004".into(), POOL_X_CRD.into(), Severity::Error)), "{found:?}");
        assert!(!codes(&found).contains(&"LLMD-CRD-002"));
        let i = &issues("LLMD-CRD-004", &gaie("v0.5.1"), &fixtures::prereq())[0];
        assert!(i.message.contains("v0.x"), "{}", i.message);
        assert!(i.hint.contains("LLMD-POOL-001"));
        // A v0.x profile wants exactly that.
        assert!(issues("LLMD-CRD-004", &gaie("v0.5.1"), &profile("v1.3.0", "v0.5.1")).is_empty());
    }

    /// An upstream endpoint picker Deployment at GAIE `version`.
    fn picker(version: &str) -> String {
        format!(
            "apiVersion: apps/v1\nkind: Deployment\nmetadata: {{name: qwen-epp, namespace: llm}}\nspec:\n  selector: {{matchLabels: {{app: qwen-epp}}}}\n  template:\n    metadata: {{labels: {{app: qwen-epp}}}}\n    spec: {{containers: [{{name: epp, image: \"registry.k8s.io/gateway-api-inference-extension/epp:{version}\"}}]}}\n---\n"
        )
    }

    #[test]
    fn crd_005_objective_crd_missing() {
        let yaml = gateway_standard("v1.3.0")
            + &crd(POOL_V1_CRD, "InferencePool", &["v1"], &["v1"], &[(annotations::INFERENCE_BUNDLE, "v1.0.1")])
            + &picker("v1.2.1");
        let found = issues("LLMD-CRD-005", &yaml, &fixtures::prereq());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].object.name, "inferenceobjectives.inference.networking.x-k8s.io");
        assert_eq!(
            found[0].message,
            "No InferenceObjective CRD is installed (looked in inference.networking.k8s.io, inference.networking.x-k8s.io and llm-d.ai): endpoint picker Deployment llm/qwen-epp runs registry.k8s.io/gateway-api-inference-extension/epp:v1.2.1, older than v1.3, so it waits for the CRD at startup and never becomes ready"
        );
        // GAIE v1.6 moved it to llm-d.ai.
        let p = profile("v1.5.1", "v1.6.0");
        let found = issues("LLMD-CRD-005", &(gaie("v1.6.0") + &picker("v1.0.1")), &p);
        assert_eq!(found[0].object.name, "inferenceobjectives.llm-d.ai");
        assert!(found[0].hint.contains("llm-d-router"));
        let with_llmd = gaie("v1.6.0")
            + &crd("inferenceobjectives.llm-d.ai", "InferenceObjective", &["v1alpha2"], &[], &[])
            + &picker("v1.0.1");
        assert!(issues("LLMD-CRD-005", &with_llmd, &p).is_empty());
    }

    #[test]
    fn crd_005_pickers_from_v1_3_run_without_the_objective_crd() {
        // GAIE v1.5's v1-manifests.yaml: only the v1 InferencePool CRD, as the current guides install it.
        let pool_only =
            crd(POOL_V1_CRD, "InferencePool", &["v1"], &["v1"], &[(annotations::INFERENCE_BUNDLE, "v1.5.0")]);
        for version in ["v1.3.0", "v1.5.0"] {
            let yaml = pool_only.clone() + &picker(version);
            assert!(issues("LLMD-CRD-005", &yaml, &fixtures::prereq()).is_empty(), "{version}");
        }
        // No picker at all, or one whose version the image does not tell (llm-d's scheduler): nothing waits.
        assert!(issues("LLMD-CRD-005", &pool_only, &fixtures::prereq()).is_empty());
        let llmd = picker("v1.0.1").replace(
            "registry.k8s.io/gateway-api-inference-extension/epp:v1.0.1",
            "ghcr.io/llm-d/llm-d-inference-scheduler:v0.4.0",
        );
        assert!(issues("LLMD-CRD-005", &(pool_only + &llmd), &fixtures::prereq()).is_empty());
    }

    #[test]
    fn crd_006_older_bundles() {
        let found = run(&(gateway_standard("v1.3.0") + &gaie("v1.0.1")), &fixtures::current());
        let old: Vec<_> = found.iter().filter(|f| f.0 == "LLMD-CRD-006").collect();
        assert_eq!(old.len(), 2, "{found:?}");
        assert!(old.iter().all(|f| f.2 == Severity::Warning));
        let i = issues("LLMD-CRD-006", &(gateway_standard("v1.3.0") + &gaie("v1.5.0")), &fixtures::current());
        assert!(i[0].message.contains("v1.3.0") && i[0].message.contains("v1.5.1"));
        assert!(i[0].hint.contains("ref=v1.5.1") && i[0].repair.is_some());
        // Newer than the profile, or a git ref: nothing to say.
        assert!(issues("LLMD-CRD-006", &(gateway_standard("v1.5.1") + &gaie("v1.5.0")), &fixtures::prereq()).is_empty());
        assert!(issues("LLMD-CRD-006", &healthy_prereq(), &profile("main", "main")).is_empty());
    }

    #[test]
    fn crd_007_bundle_skew() {
        let yaml = gateway_standard("v1.3.0").replacen("bundle-version: \"v1.3.0\"", "bundle-version: \"v1.2.1\"", 1)
            + &gaie("v1.0.1");
        let found = run(&yaml, &fixtures::prereq());
        let skew: Vec<_> = found.iter().filter(|f| f.0 == "LLMD-CRD-007").collect();
        assert_eq!(skew.len(), 1, "{found:?}");
        assert_eq!(skew[0].2, Severity::Warning);
        assert_eq!(skew[0].1, "gatewayclasses.gateway.networking.k8s.io");
        let i = &issues("LLMD-CRD-007", &yaml, &fixtures::prereq())[0];
        assert!(i.message.contains("v1.2.1") && i.message.contains("v1.3.0"));
        assert!(i.hint.contains("ref=v1.3.0"));
    }

    fn install_of(i: &Issue) -> Option<Vec<(BundleKind, String)>> {
        match &i.repair {
            Some(Repair::InstallCrds { bundles }) => Some(bundles.clone()),
            _ => None,
        }
    }

    #[test]
    fn crd_installs_are_repaired_through_the_profiles_bundles() {
        let ga = |v: &str| vec![(BundleKind::GatewayApi, v.to_string())];
        let ie = |v: &str| vec![(BundleKind::Gaie, v.to_string())];
        let prereq = fixtures::prereq();
        assert_eq!(install_of(&issues("LLMD-CRD-001", "", &prereq)[0]), Some(ga("v1.3.0")));
        assert_eq!(install_of(&issues("LLMD-CRD-002", "", &prereq)[0]), Some(ie("v1.0.1")));
        assert_eq!(install_of(&issues("LLMD-CRD-004", &gaie("v0.5.1"), &prereq)[0]), Some(ie("v1.0.1")));
        let not_served =
            crd(POOL_V1_CRD, "InferencePool", &["!v1"], &["v1"], &[(annotations::INFERENCE_BUNDLE, "v1.0.1")]);
        assert_eq!(install_of(&issues("LLMD-CRD-003", &not_served, &prereq)[0]), Some(ie("v1.0.1")));
        let old = gateway_standard("v1.3.0") + &gaie("v1.0.1");
        let found = issues("LLMD-CRD-006", &old, &fixtures::current());
        let repairs: Vec<_> = found.iter().map(install_of).collect();
        assert_eq!(repairs, vec![Some(ga("v1.5.1")), Some(ie("v1.5.0"))]);

        // InferenceObjective: the GAIE bundle has it before v1.6 only (then it is llm-d-router's).
        let pool_only =
            crd(POOL_V1_CRD, "InferencePool", &["v1"], &["v1"], &[(annotations::INFERENCE_BUNDLE, "v1.0.1")]);
        assert_eq!(
            install_of(&issues("LLMD-CRD-005", &(pool_only + &picker("v1.0.1")), &prereq)[0]),
            Some(ie("v1.0.1"))
        );
        let i = &issues("LLMD-CRD-005", &(gaie("v1.6.0") + &picker("v1.0.1")), &profile("v1.5.1", "v1.6.0"))[0];
        assert!(i.repair.is_none());

        // Skew: the profile's bundle evens it out when it is not older than the newest CRD...
        let skew = gateway_standard("v1.3.0").replacen("bundle-version: \"v1.3.0\"", "bundle-version: \"v1.2.1\"", 1);
        assert_eq!(install_of(&issues("LLMD-CRD-007", &skew, &prereq)[0]), Some(ga("v1.3.0")));
        // ...and, when the profile is older (a minimum), the installed newest bundle is re-applied, never
        // the profile's older one.
        let newer = gateway_standard("v1.5.1").replacen("bundle-version: \"v1.5.1\"", "bundle-version: \"v1.3.0\"", 1);
        let i = &issues("LLMD-CRD-007", &newer, &prereq)[0];
        assert_eq!(install_of(i), Some(ga("v1.5.1")));

        // Experimental-channel CRDs are not replaced by the standard bundle.
        let experimental = gateway_standard("v1.3.0").replace("channel: \"standard\"", "channel: \"experimental\"");
        let i = &issues("LLMD-CRD-006", &experimental, &fixtures::current())[0];
        assert!(i.repair.is_none());
    }

    #[test]
    fn crd_007_ignores_stale_crds_reported_by_crd_012() {
        // GAIE v1.5 dropped the x-k8s pool; a v1.4 copy left behind is stale, not skew.
        let yaml = gaie("v1.5.0")
            + &crd(
                POOL_X_CRD,
                "InferencePool",
                &["v1alpha2"],
                &["v1alpha2"],
                &[(annotations::INFERENCE_BUNDLE, "v1.4.0")],
            );
        let found = run(&(gateway_standard("v1.5.1") + &yaml), &fixtures::current());
        assert!(!codes(&found).contains(&"LLMD-CRD-007"), "{found:?}");
        assert!(found.contains(&("LLMD-CRD-012".into(), POOL_X_CRD.into(), Severity::Warning)));
    }

    #[test]
    fn crd_008_channel_mix() {
        let yaml = gateway_standard("v1.3.0")
            + &crd(
                "tcproutes.gateway.networking.k8s.io",
                "TCPRoute",
                &["v1alpha2"],
                &["v1alpha2"],
                &[(annotations::GATEWAY_BUNDLE, "v1.3.0"), (annotations::GATEWAY_CHANNEL, "experimental")],
            );
        let found = issues("LLMD-CRD-008", &yaml, &fixtures::prereq());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].object.name, "tcproutes.gateway.networking.k8s.io");
        assert!(found[0].hint.contains("config/crd/experimental?ref=v1.3.0"));
        assert!(issues("LLMD-CRD-008", &gateway_standard("v1.3.0"), &fixtures::prereq()).is_empty());
    }

    #[test]
    fn crd_009_stored_version_removed_by_target() {
        // GRPCRoute installed from v1.1 still stores v1alpha2; v1.3 no longer has it.
        let ann = [(annotations::GATEWAY_BUNDLE, "v1.1.0"), (annotations::GATEWAY_CHANNEL, "standard")];
        let grpc =
            crd("grpcroutes.gateway.networking.k8s.io", "GRPCRoute", &["v1", "!v1alpha2"], &["v1alpha2", "v1"], &ann);
        let yaml = gateway_standard("v1.3.0")
            .replace(&crd_doc(&gateway_standard("v1.3.0"), "grpcroutes.gateway.networking.k8s.io"), &grpc);
        let found = issues("LLMD-CRD-009", &yaml, &fixtures::prereq());
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].repair.is_some());
        assert_eq!(found[0].object.name, "grpcroutes.gateway.networking.k8s.io");
        assert!(
            found[0].message.contains("status.storedVersions[0]: Invalid value: \"v1alpha2\""),
            "{}",
            found[0].message
        );
        assert!(found[0].hint.contains("kubectl llmd doctor --fix=LLMD-CRD-009"));
        // Target v1.1 still has v1alpha2 (not served): a warning only.
        let found = issues("LLMD-CRD-009", &yaml, &profile("v1.1.0", "v1.0.1"));
        assert_eq!(found[0].severity, Severity::Warning);
        // Git ref profile: no target to compare with.
        assert!(issues("LLMD-CRD-009", &yaml, &profile("main", "main")).is_empty());
        assert!(issues("LLMD-CRD-009", &healthy_prereq(), &fixtures::prereq()).is_empty());
    }

    #[test]
    fn crd_009_v1_6_tcp_and_udp_routes_keeping_v1alpha2_unserved_are_no_hazard() {
        // Upgraded from the experimental channel: v1alpha2 objects may still be stored. Gateway API
        // v1.6 keeps v1alpha2 as served: false and no later release drops it.
        let ann = [(annotations::GATEWAY_BUNDLE, "v1.6.1"), (annotations::GATEWAY_CHANNEL, "standard")];
        let mut yaml = String::new();
        for (plural, kind) in [("tcproutes", "TCPRoute"), ("udproutes", "UDPRoute")] {
            let name = format!("{plural}.gateway.networking.k8s.io");
            yaml.push_str(&crd(&name, kind, &["v1", "!v1alpha2"], &["v1alpha2", "v1"], &ann));
        }
        for p in [profile("v1.6.1", "v1.5.0"), fixtures::prereq(), fixtures::current()] {
            for code in ["LLMD-CRD-009", "LLMD-CRD-010"] {
                let found = issues(code, &yaml, &p);
                assert!(found.is_empty(), "{code} under {}: {found:?}", p.gateway_api);
            }
        }
    }

    #[test]
    fn crd_009_storage_not_yet_at_target_needs_a_bridge_or_a_rebuild() {
        // GRPCRoute from the v1.0 experimental channel stores v1alpha2 only; v1.3 stores v1.
        let ann = [(annotations::GATEWAY_BUNDLE, "v1.0.0"), (annotations::GATEWAY_CHANNEL, "experimental")];
        let grpc = crd("grpcroutes.gateway.networking.k8s.io", "GRPCRoute", &["v1alpha2"], &["v1alpha2"], &ann);
        let found = issues("LLMD-CRD-009", &grpc, &fixtures::prereq());
        assert_eq!(found[0].severity, Severity::Error);
        assert!(found[0].repair.is_none());
        assert!(found[0].hint.contains("step through Gateway API v1.1.1"), "{}", found[0].hint);
        // BackendTLSPolicy v1alpha2 → v1alpha3: no release has both (A.3.4).
        let btls =
            crd("backendtlspolicies.gateway.networking.k8s.io", "BackendTLSPolicy", &["v1alpha2"], &["v1alpha2"], &ann);
        let found = issues("LLMD-CRD-009", &btls, &profile("v1.3.0", "v1.0.1"));
        assert!(found[0].repair.is_none());
        assert!(found[0].hint.contains("no release converts v1alpha2 to v1alpha3 in place"), "{}", found[0].hint);
    }

    #[test]
    fn crd_009_quotes_the_refusal_as_the_server_words_it() {
        let ann = [(annotations::GATEWAY_BUNDLE, "v1.1.0"), (annotations::GATEWAY_CHANNEL, "standard")];
        let yaml =
            crd("grpcroutes.gateway.networking.k8s.io", "GRPCRoute", &["v1", "!v1alpha2"], &["v1alpha2", "v1"], &ann);
        let refusal = |server: Option<&str>| {
            let mut snap = fixtures::snapshot(&yaml);
            snap.server_version = match server {
                Some(v) => crate::snapshot::Collected::Listed(vec![v.to_string()]),
                None => crate::snapshot::Collected::Unknown { reason: "offline".into() },
            };
            let profile = fixtures::prereq();
            let ctx = CheckContext { snapshot: &snap, profile: &profile };
            let found = stored_versions_in_target(&ctx);
            assert_eq!(found.len(), 1, "{found:?}");
            found[0].message.clone()
        };
        let new = "status.storedVersions[0]: Invalid value: \"v1alpha2\": missing from spec.versions; v1alpha2 was previously a storage version";
        let old = "status.storedVersions[0]: Invalid value: \"v1alpha2\": must appear in spec.versions";
        assert!(refusal(Some("v1.36.3")).contains(new));
        assert!(refusal(Some("v1.32.4-gke.100")).contains(old));
        let unknown = refusal(None);
        assert!(unknown.contains(new) && unknown.contains("before Kubernetes 1.33: must appear in spec.versions"));
    }

    #[test]
    fn crd_009_ignores_standard_crds_the_target_ships_only_as_experimental() {
        // v1.5.1 standard (BackendTLSPolicy and TLSRoute at v1) checked against v1.3.0, whose standard
        // channel has neither: re-applying v1.3.0 standard never touches them.
        assert!(issues("LLMD-CRD-009", &gateway_standard("v1.5.1"), &fixtures::prereq()).is_empty());
        // The same CRDs from the experimental channel are newer than the profile's minimum: they are
        // judged by their own v1.5.1, never by the older v1.3.0 nothing would re-apply over them.
        let exp = gateway_standard("v1.5.1").replace("channel: \"standard\"", "channel: \"experimental\"");
        assert_eq!(issues("LLMD-CRD-009", &exp, &fixtures::prereq()), vec![]);
    }

    /// The document of `name` in a fixture string (to replace it).
    fn crd_doc(yaml: &str, name: &str) -> String {
        yaml.split_inclusive("---\n").find(|d| d.contains(&format!("name: {name}\n"))).expect("doc").to_string()
    }

    #[test]
    fn crd_010_stored_version_not_in_spec() {
        let yaml = crd(
            "referencegrants.gateway.networking.k8s.io",
            "ReferenceGrant",
            &["v1beta1"],
            &["v1alpha2", "v1beta1"],
            &[],
        );
        let found = run(&yaml, &profile("main", "main"));
        assert!(
            found.contains(&(
                "LLMD-CRD-010".into(),
                "referencegrants.gateway.networking.k8s.io".into(),
                Severity::Error
            )),
            "{found:?}"
        );
        let i = &issues("LLMD-CRD-010", &yaml, &fixtures::prereq())[0];
        assert!(i.message.contains("v1alpha2") && i.repair.is_some());
        // CRD-009 leaves it to CRD-010.
        assert!(issues("LLMD-CRD-009", &yaml, &fixtures::prereq()).is_empty());
        assert!(issues("LLMD-CRD-010", &healthy_prereq(), &fixtures::prereq()).is_empty());
    }

    const ALPHA_POOL: &str = "apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: qwen, namespace: llm}
spec:
  selector: {app: qwen}
  targetPortNumber: 8000
  extensionRef: {name: qwen-epp}
---
";

    #[test]
    fn crd_011_inference_model_left() {
        let model = "apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceModel
metadata: {name: chat, namespace: llm}
spec: {modelName: chat, criticality: Critical, poolRef: {name: qwen}}
---
";
        let found = run(&(healthy_prereq() + model), &fixtures::prereq());
        assert!(found.contains(&("LLMD-CRD-011".into(), "chat".into(), Severity::Warning)), "{found:?}");
        let i = &issues("LLMD-CRD-011", model, &fixtures::prereq())[0];
        assert!(
            i.hint.contains("spec.poolRef.name: qwen") && i.hint.contains("inference.networking.x-k8s.io/v1alpha2")
        );
        // v0.x profile: InferenceModel is current.
        assert!(issues("LLMD-CRD-011", model, &profile("v1.3.0", "v0.5.1")).is_empty());
        let objective = "apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: chat, namespace: llm}
spec: {priority: 1, poolRef: {name: qwen}}
---
";
        assert!(issues("LLMD-CRD-011", objective, &fixtures::prereq()).is_empty());
    }

    #[test]
    fn crd_012_stale_inference_models_crd() {
        let yaml = healthy_prereq()
            + &gaie("v0.5.1").split_inclusive("---\n").filter(|d| d.contains("inferencemodels")).collect::<String>();
        let found = run(&yaml, &fixtures::prereq());
        assert!(
            found.contains(&(
                "LLMD-CRD-012".into(),
                "inferencemodels.inference.networking.x-k8s.io".into(),
                Severity::Warning
            )),
            "{found:?}"
        );
        let i = &issues("LLMD-CRD-012", &yaml, &fixtures::prereq())[0];
        assert!(i.hint.contains("kubectl delete crd inferencemodels.inference.networking.x-k8s.io"));
        assert!(i.message.contains("GAIE v1.0.1"));
    }

    #[test]
    fn crd_012_stale_alpha_pool_crd_with_pools_left() {
        let yaml = gaie("v1.5.0")
            + &crd(
                POOL_X_CRD,
                "InferencePool",
                &["v1alpha2"],
                &["v1alpha2"],
                &[(annotations::INFERENCE_BUNDLE, "v1.4.0")],
            )
            + ALPHA_POOL;
        let i = &issues("LLMD-CRD-012", &yaml, &fixtures::current())[0];
        assert!(i.hint.contains("1 InferencePool object(s) remain") && i.hint.contains("LLMD-POOL-001"), "{}", i.hint);
        // GAIE v1.4 still ships the x-k8s pool.
        assert!(issues("LLMD-CRD-012", &gaie("v1.4.0"), &fixtures::current()).is_empty());
    }

    #[test]
    fn crd_012_stale_alpha_objective_crd_after_the_move_to_llm_d() {
        let objective = "apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferenceObjective
metadata: {name: chat, namespace: llm}
spec: {priority: 1, poolRef: {name: qwen}}
---
";
        let yaml = gaie("v1.6.0")
            + &gaie("v1.5.0")
                .split_inclusive("---\n")
                .filter(|d| d.contains("name: inferenceobjectives"))
                .collect::<String>()
            + objective;
        let p = profile("v1.5.1", "v1.6.0");
        let found = issues("LLMD-CRD-012", &yaml, &p);
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].object.name, "inferenceobjectives.inference.networking.x-k8s.io");
        assert!(found[0].hint.contains("llm-d.ai/v1alpha2"), "{}", found[0].hint);
    }

    #[test]
    fn crd_012_stale_gateway_experimental_crd() {
        let old = crd(
            "backendlbpolicies.gateway.networking.k8s.io",
            "BackendLBPolicy",
            &["v1alpha2"],
            &["v1alpha2"],
            &[(annotations::GATEWAY_BUNDLE, "v1.2.1"), (annotations::GATEWAY_CHANNEL, "experimental")],
        );
        let yaml = gateway_standard("v1.3.0").replace("channel: \"standard\"", "channel: \"experimental\"") + &old;
        let found = run(&yaml, &profile("v1.3.0", "v1.0.1"));
        assert!(found.contains(&(
            "LLMD-CRD-012".into(),
            "backendlbpolicies.gateway.networking.k8s.io".into(),
            Severity::Warning
        )));
        assert!(!codes(&found).contains(&"LLMD-CRD-007"), "{found:?}");
    }

    #[test]
    fn crd_013_oversized_last_applied() {
        let big = "x".repeat(210 * 1024);
        let yaml = crd(
            "httproutes.gateway.networking.k8s.io",
            "HTTPRoute",
            &["v1", "v1beta1"],
            &["v1"],
            &[(LAST_APPLIED, big.as_str())],
        );
        let found = issues("LLMD-CRD-013", &yaml, &fixtures::prereq());
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert_eq!(found[0].object.name, "httproutes.gateway.networking.k8s.io");
        assert!(found[0].message.contains("262144"));
        assert!(found[0].hint.contains("--server-side") && found[0].hint.contains("last-applied-configuration-"));
        let small = crd("httproutes.gateway.networking.k8s.io", "HTTPRoute", &["v1"], &["v1"], &[(LAST_APPLIED, "{}")]);
        assert!(issues("LLMD-CRD-013", &small, &fixtures::prereq()).is_empty());
    }

    #[test]
    fn release_refs() {
        assert!(release_version("main").is_none());
        assert!(release_version("1234567").is_none());
        assert_eq!(core(&release_version("v1.5.0-rc.1").unwrap()), (1, 5, 0));
        assert!(common_standard_names().contains(&"httproutes.gateway.networking.k8s.io".to_string()));
    }
}
