//! CRD bundles of every Gateway API (v1.0–v1.6) and GAIE (v0.3–v1.6) release line.

/// A served/storage fact for one version of a CRD.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct VersionFact {
    pub name: &'static str,
    pub served: bool,
    pub storage: bool,
}

const fn v(name: &'static str) -> VersionFact {
    VersionFact { name, served: true, storage: false }
}
const fn s(name: &'static str) -> VersionFact {
    VersionFact { name, served: true, storage: true }
}
const fn ns(name: &'static str) -> VersionFact {
    VersionFact { name, served: false, storage: false }
}

/// One CRD in a bundle.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CrdFact {
    pub plural: &'static str,
    pub group: &'static str,
    pub kind: &'static str,
    pub versions: &'static [VersionFact],
}

impl CrdFact {
    /// "plural.group", the CRD's metadata.name.
    pub fn name(&self) -> String {
        format!("{}.{}", self.plural, self.group)
    }

    /// True when `version` is served.
    pub fn serves(&self, version: &str) -> bool {
        self.versions.iter().any(|f| f.served && f.name == version)
    }

    /// The storage version.
    pub fn storage(&self) -> &'static str {
        self.versions.iter().find(|f| f.storage).map_or("", |f| f.name)
    }
}

const GW: &str = "gateway.networking.k8s.io";
const GWX: &str = "gateway.networking.x-k8s.io";
const INF: &str = "inference.networking.k8s.io";
const INFX: &str = "inference.networking.x-k8s.io";
const LLMD: &str = "llm-d.ai";

const fn crd(
    plural: &'static str,
    group: &'static str,
    kind: &'static str,
    versions: &'static [VersionFact],
) -> CrdFact {
    CrdFact { plural, group, kind, versions }
}

// Gateway API: the three core kinds share versions within a release.
const CORE_V10: &[VersionFact] = &[v("v1"), s("v1beta1")];
const CORE_V11: &[VersionFact] = &[s("v1"), v("v1beta1")];

const GA_V10_STD: &[CrdFact] = &[
    crd("gatewayclasses", GW, "GatewayClass", CORE_V10),
    crd("gateways", GW, "Gateway", CORE_V10),
    crd("httproutes", GW, "HTTPRoute", CORE_V10),
    crd("referencegrants", GW, "ReferenceGrant", &[v("v1alpha2"), s("v1beta1")]),
];
const GA_V10_EXP: &[CrdFact] = &[
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1alpha2")]),
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1alpha2")]),
    crd("tcproutes", GW, "TCPRoute", &[s("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1alpha2")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1alpha2")]),
];
const GA_V11_STD: &[CrdFact] = &[
    crd("gatewayclasses", GW, "GatewayClass", CORE_V11),
    crd("gateways", GW, "Gateway", CORE_V11),
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1"), ns("v1alpha2")]),
    crd("httproutes", GW, "HTTPRoute", CORE_V11),
    crd("referencegrants", GW, "ReferenceGrant", &[ns("v1alpha2"), s("v1beta1")]),
];
const GA_V11_EXP: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1alpha3")]),
    crd("backendlbpolicies", GW, "BackendLBPolicy", &[s("v1alpha2")]),
    crd("tcproutes", GW, "TCPRoute", &[s("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1alpha2")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1alpha2")]),
];
const GA_V12_STD: &[CrdFact] = &[
    crd("gatewayclasses", GW, "GatewayClass", CORE_V11),
    crd("gateways", GW, "Gateway", CORE_V11),
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1")]),
    crd("httproutes", GW, "HTTPRoute", CORE_V11),
    crd("referencegrants", GW, "ReferenceGrant", &[s("v1beta1")]),
];
const GA_V12_EXP: &[CrdFact] = GA_V11_EXP;
const GA_V13_EXP: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1alpha3")]),
    crd("tcproutes", GW, "TCPRoute", &[s("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1alpha2")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1alpha2")]),
    crd("xbackendtrafficpolicies", GWX, "XBackendTrafficPolicy", &[s("v1alpha1")]),
    crd("xlistenersets", GWX, "XListenerSet", &[s("v1alpha1")]),
];
const GA_V14_STD: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), ns("v1alpha3")]),
    crd("gatewayclasses", GW, "GatewayClass", CORE_V11),
    crd("gateways", GW, "Gateway", CORE_V11),
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1")]),
    crd("httproutes", GW, "HTTPRoute", CORE_V11),
    crd("referencegrants", GW, "ReferenceGrant", &[s("v1beta1")]),
];
const GA_V14_EXP: &[CrdFact] = &[
    crd("tcproutes", GW, "TCPRoute", &[s("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[v("v1alpha2"), s("v1alpha3")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1alpha2")]),
    crd("xbackendtrafficpolicies", GWX, "XBackendTrafficPolicy", &[s("v1alpha1")]),
    crd("xlistenersets", GWX, "XListenerSet", &[s("v1alpha1")]),
    crd("xmeshes", GWX, "XMesh", &[s("v1alpha1")]),
];
const GA_V15_STD: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), ns("v1alpha3")]),
    crd("gatewayclasses", GW, "GatewayClass", CORE_V11),
    crd("gateways", GW, "Gateway", CORE_V11),
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1")]),
    crd("httproutes", GW, "HTTPRoute", CORE_V11),
    crd("listenersets", GW, "ListenerSet", &[s("v1")]),
    crd("referencegrants", GW, "ReferenceGrant", &[v("v1"), s("v1beta1")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1"), ns("v1alpha2"), ns("v1alpha3")]),
];
const GA_V15_EXP: &[CrdFact] = &[
    crd("tcproutes", GW, "TCPRoute", &[s("v1alpha2")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1alpha2")]),
    crd("xbackendtrafficpolicies", GWX, "XBackendTrafficPolicy", &[s("v1alpha1")]),
    crd("xmeshes", GWX, "XMesh", &[s("v1alpha1")]),
];
const GA_V16_STD: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), ns("v1alpha3")]),
    crd("gatewayclasses", GW, "GatewayClass", CORE_V11),
    crd("gateways", GW, "Gateway", CORE_V11),
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1")]),
    crd("httproutes", GW, "HTTPRoute", CORE_V11),
    crd("listenersets", GW, "ListenerSet", &[s("v1")]),
    crd("referencegrants", GW, "ReferenceGrant", &[v("v1"), s("v1beta1")]),
    crd("tcproutes", GW, "TCPRoute", &[s("v1"), ns("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1"), ns("v1alpha2"), ns("v1alpha3")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1"), ns("v1alpha2")]),
];
const GA_V16_EXP: &[CrdFact] = &[
    crd("xbackendtrafficpolicies", GWX, "XBackendTrafficPolicy", &[s("v1alpha1")]),
    crd("xbackends", GWX, "XBackend", &[s("v1alpha1")]),
    crd("xmeshes", GWX, "XMesh", &[s("v1alpha1")]),
];

// Kinds both channels ship whose experimental CRD serves versions the standard one does not
// (read from config/crd/experimental of each tag in the sigs.k8s.io/gateway-api module).
const GA_V11_EXP_VERSIONS: &[CrdFact] = &[
    crd("grpcroutes", GW, "GRPCRoute", &[s("v1"), v("v1alpha2")]),
    crd("referencegrants", GW, "ReferenceGrant", &[v("v1alpha2"), s("v1beta1")]),
];
const GA_V14_EXP_VERSIONS: &[CrdFact] = &[crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), v("v1alpha3")])];
const GA_V15_EXP_VERSIONS: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), v("v1alpha3")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1"), v("v1alpha2"), v("v1alpha3")]),
];
const GA_V16_EXP_VERSIONS: &[CrdFact] = &[
    crd("backendtlspolicies", GW, "BackendTLSPolicy", &[s("v1"), v("v1alpha3")]),
    crd("tcproutes", GW, "TCPRoute", &[s("v1"), v("v1alpha2")]),
    crd("tlsroutes", GW, "TLSRoute", &[s("v1"), v("v1alpha2"), v("v1alpha3")]),
    crd("udproutes", GW, "UDPRoute", &[s("v1"), v("v1alpha2")]),
];

/// One Gateway API release line (every patch of a minor shares its CRD shapes).
#[derive(Debug, Clone, Copy)]
pub struct GatewayApiRelease {
    /// "v1.3"
    pub line: &'static str,
    /// Patch releases known, newest last.
    pub patches: &'static [&'static str],
    /// Standard-channel CRDs.
    pub standard: &'static [CrdFact],
    /// CRDs only the experimental channel adds.
    pub experimental_extra: &'static [CrdFact],
    /// Kinds of both channels whose experimental CRD serves more versions than the standard one.
    pub experimental_versions: &'static [CrdFact],
    /// Ships the safe-upgrades ValidatingAdmissionPolicy.
    pub safe_upgrades_policy: bool,
    /// Ships the deprecated admission webhook.
    pub admission_webhook: bool,
}

impl GatewayApiRelease {
    /// The fact of CRD `name` in one channel of this release.
    pub fn fact(&self, name: &str, experimental: bool) -> Option<&'static CrdFact> {
        self.channel(experimental).find(|f| f.name() == name)
    }

    /// Every CRD of one channel: standard, or experimental (its extra kinds, and its own versions of
    /// the kinds both channels ship).
    pub fn channel(&self, experimental: bool) -> impl Iterator<Item = &'static CrdFact> {
        let (standard, overrides, extra): (&'static [CrdFact], &'static [CrdFact], &'static [CrdFact]) = if experimental
        {
            (self.standard, self.experimental_versions, self.experimental_extra)
        } else {
            (self.standard, &[], &[])
        };
        standard.iter().map(move |f| overrides.iter().find(|o| o.name() == f.name()).unwrap_or(f)).chain(extra.iter())
    }
}

/// Gateway API releases v1.0–v1.6.
pub const GATEWAY_API_RELEASES: &[GatewayApiRelease] = &[
    GatewayApiRelease {
        line: "v1.0",
        patches: &["v1.0.0"],
        standard: GA_V10_STD,
        experimental_extra: GA_V10_EXP,
        experimental_versions: &[],
        safe_upgrades_policy: false,
        admission_webhook: true,
    },
    GatewayApiRelease {
        line: "v1.1",
        patches: &["v1.1.0", "v1.1.1"],
        standard: GA_V11_STD,
        experimental_extra: GA_V11_EXP,
        experimental_versions: GA_V11_EXP_VERSIONS,
        safe_upgrades_policy: false,
        admission_webhook: false,
    },
    GatewayApiRelease {
        line: "v1.2",
        patches: &["v1.2.0", "v1.2.1"],
        standard: GA_V12_STD,
        experimental_extra: GA_V12_EXP,
        experimental_versions: &[],
        safe_upgrades_policy: false,
        admission_webhook: false,
    },
    GatewayApiRelease {
        line: "v1.3",
        patches: &["v1.3.0"],
        standard: GA_V12_STD,
        experimental_extra: GA_V13_EXP,
        experimental_versions: &[],
        safe_upgrades_policy: false,
        admission_webhook: false,
    },
    GatewayApiRelease {
        line: "v1.4",
        patches: &["v1.4.0", "v1.4.1"],
        standard: GA_V14_STD,
        experimental_extra: GA_V14_EXP,
        experimental_versions: GA_V14_EXP_VERSIONS,
        safe_upgrades_policy: false,
        admission_webhook: false,
    },
    GatewayApiRelease {
        line: "v1.5",
        patches: &["v1.5.0", "v1.5.1"],
        standard: GA_V15_STD,
        experimental_extra: GA_V15_EXP,
        experimental_versions: GA_V15_EXP_VERSIONS,
        safe_upgrades_policy: true,
        admission_webhook: false,
    },
    GatewayApiRelease {
        line: "v1.6",
        patches: &["v1.6.0", "v1.6.1", "v1.6.2", "v1.6.3"],
        standard: GA_V16_STD,
        experimental_extra: GA_V16_EXP,
        experimental_versions: GA_V16_EXP_VERSIONS,
        safe_upgrades_policy: true,
        admission_webhook: false,
    },
];

/// One GAIE release line.
#[derive(Debug, Clone, Copy)]
pub struct GaieRelease {
    /// "v1.0"
    pub line: &'static str,
    pub patches: &'static [&'static str],
    pub crds: &'static [CrdFact],
    /// Whether its CRDs carry the bundle-version annotation (v1.0 on).
    pub annotated: bool,
}

const POOL_V1: CrdFact = crd("inferencepools", INF, "InferencePool", &[s("v1")]);
const POOL_X: CrdFact = crd("inferencepools", INFX, "InferencePool", &[s("v1alpha2")]);
const MODEL_X: CrdFact = crd("inferencemodels", INFX, "InferenceModel", &[s("v1alpha2")]);
const OBJECTIVE_X: CrdFact = crd("inferenceobjectives", INFX, "InferenceObjective", &[s("v1alpha2")]);
const OBJECTIVE_LLMD: CrdFact = crd("inferenceobjectives", LLMD, "InferenceObjective", &[s("v1alpha2")]);
const IMPORT_X: CrdFact = crd("inferencepoolimports", INFX, "InferencePoolImport", &[s("v1alpha1")]);
const REWRITE_X: CrdFact = crd("inferencemodelrewrites", INFX, "InferenceModelRewrite", &[s("v1alpha2")]);

/// GAIE releases v0.3–v1.6.
pub const GAIE_RELEASES: &[GaieRelease] = &[
    GaieRelease { line: "v0.3", patches: &["v0.3.0"], crds: &[POOL_X, MODEL_X], annotated: false },
    GaieRelease { line: "v0.4", patches: &["v0.4.0"], crds: &[POOL_X, MODEL_X], annotated: false },
    GaieRelease { line: "v0.5", patches: &["v0.5.0", "v0.5.1"], crds: &[POOL_X, MODEL_X], annotated: false },
    GaieRelease {
        line: "v1.0",
        patches: &["v1.0.0", "v1.0.1", "v1.0.2"],
        crds: &[POOL_V1, POOL_X, OBJECTIVE_X],
        annotated: true,
    },
    GaieRelease {
        line: "v1.1",
        patches: &["v1.1.0"],
        crds: &[POOL_V1, POOL_X, OBJECTIVE_X, IMPORT_X],
        annotated: true,
    },
    GaieRelease {
        line: "v1.2",
        patches: &["v1.2.0", "v1.2.1"],
        crds: &[POOL_V1, POOL_X, OBJECTIVE_X, REWRITE_X, IMPORT_X],
        annotated: true,
    },
    GaieRelease {
        line: "v1.3",
        patches: &["v1.3.0", "v1.3.1"],
        crds: &[POOL_V1, POOL_X, OBJECTIVE_X, REWRITE_X, IMPORT_X],
        annotated: true,
    },
    GaieRelease {
        line: "v1.4",
        patches: &["v1.4.0"],
        crds: &[POOL_V1, POOL_X, OBJECTIVE_X, REWRITE_X, IMPORT_X],
        annotated: true,
    },
    GaieRelease {
        line: "v1.5",
        patches: &["v1.5.0"],
        crds: &[POOL_V1, OBJECTIVE_X, REWRITE_X, IMPORT_X],
        annotated: true,
    },
    GaieRelease { line: "v1.6", patches: &["v1.6.0"], crds: &[POOL_V1, IMPORT_X], annotated: true },
];

/// InferenceObjective after it moved to llm-d-router (GAIE v1.6 on).
pub const LLMD_OBJECTIVE: CrdFact = OBJECTIVE_LLMD;

/// Annotation keys.
pub mod annotations {
    /// Gateway API bundle version.
    pub const GATEWAY_BUNDLE: &str = "gateway.networking.k8s.io/bundle-version";
    /// Gateway API channel.
    pub const GATEWAY_CHANNEL: &str = "gateway.networking.k8s.io/channel";
    /// GAIE bundle version.
    pub const INFERENCE_BUNDLE: &str = "inference.networking.k8s.io/bundle-version";
    /// llm-d router bundle version.
    pub const LLMD_BUNDLE: &str = "llm-d.ai/bundle-version";
}

/// Name of the safe-upgrades ValidatingAdmissionPolicy (Gateway API v1.5+).
pub const SAFE_UPGRADES_POLICY: &str = "safe-upgrades.gateway.networking.k8s.io";
/// Kubernetes minor needed by Gateway API v1.5 and later: the safe-upgrades policy needs
/// ValidatingAdmissionPolicy v1 (1.30), and TLSRoute's CEL validation needs 1.31
/// (kubernetes-sigs/gateway-api@v1.5.1:CHANGELOG/1.5-CHANGELOG.md, "Breaking Changes").
pub const GATEWAY_API_V15_MIN_KUBE_MINOR: u64 = 31;
/// Name of the deprecated Gateway API v1.0 admission webhook.
pub const GATEWAY_ADMISSION_WEBHOOK: &str = "gateway-api-admission";

/// Parse "v1.3.0", "1.3", "v1.5.0-dev" into a semver Version (missing parts are 0).
pub fn parse_version(s: &str) -> Option<semver::Version> {
    let t = s.trim().trim_start_matches('v');
    if let Ok(v) = semver::Version::parse(t) {
        return Some(v);
    }
    let (core, pre) = t.split_once('-').map_or((t, None), |(a, b)| (a, Some(b)));
    let mut parts = core.split('.').map(|p| p.parse::<u64>());
    let major = parts.next()?.ok()?;
    let minor = parts.next().unwrap_or(Ok(0)).ok()?;
    let patch = parts.next().unwrap_or(Ok(0)).ok()?;
    let mut v = semver::Version::new(major, minor, patch);
    if let Some(p) = pre {
        v.pre = semver::Prerelease::new(p).ok()?;
    }
    Some(v)
}

fn line_of(v: &semver::Version) -> String {
    format!("v{}.{}", v.major, v.minor)
}

/// The Gateway API release line holding `version` ("v1.3.0" → v1.3).
pub fn gateway_api_release(version: &str) -> Option<&'static GatewayApiRelease> {
    let v = parse_version(version)?;
    GATEWAY_API_RELEASES.iter().find(|r| r.line == line_of(&v))
}

/// The GAIE release line holding `version`.
pub fn gaie_release(version: &str) -> Option<&'static GaieRelease> {
    let v = parse_version(version)?;
    GAIE_RELEASES.iter().find(|r| r.line == line_of(&v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_crd_has_exactly_one_storage_version() {
        let all = GATEWAY_API_RELEASES
            .iter()
            .flat_map(|r| r.standard.iter().chain(r.experimental_extra))
            .chain(GAIE_RELEASES.iter().flat_map(|r| r.crds));
        for c in all {
            assert_eq!(c.versions.iter().filter(|v| v.storage).count(), 1, "{}", c.name());
        }
    }

    #[test]
    fn experimental_channels_serve_more_versions_of_shared_kinds() {
        // Read from config/crd/{standard,experimental} of each sigs.k8s.io/gateway-api tag.
        let served = |line: &str, name: &str, experimental: bool| -> Vec<&str> {
            let r = gateway_api_release(line).unwrap();
            let f = r.fact(name, experimental).unwrap_or_else(|| panic!("{line} {name}"));
            f.versions.iter().filter(|v| v.served).map(|v| v.name).collect()
        };
        assert_eq!(served("v1.1.0", "grpcroutes.gateway.networking.k8s.io", false), ["v1"]);
        assert_eq!(served("v1.1.0", "grpcroutes.gateway.networking.k8s.io", true), ["v1", "v1alpha2"]);
        assert_eq!(served("v1.1.0", "referencegrants.gateway.networking.k8s.io", true), ["v1alpha2", "v1beta1"]);
        assert_eq!(served("v1.4.1", "backendtlspolicies.gateway.networking.k8s.io", true), ["v1", "v1alpha3"]);
        assert_eq!(served("v1.5.1", "tlsroutes.gateway.networking.k8s.io", false), ["v1"]);
        assert_eq!(served("v1.5.1", "tlsroutes.gateway.networking.k8s.io", true), ["v1", "v1alpha2", "v1alpha3"]);
        assert_eq!(served("v1.6.1", "tcproutes.gateway.networking.k8s.io", true), ["v1", "v1alpha2"]);
        // v1.6 standard keeps TCPRoute/UDPRoute v1alpha2 defined but not served.
        let std = gateway_api_release("v1.6.1").unwrap().fact("udproutes.gateway.networking.k8s.io", false).unwrap();
        assert!(std.versions.iter().any(|v| v.name == "v1alpha2" && !v.served));
        // Experimental-only kinds are in the experimental channel only.
        let r = gateway_api_release("v1.3.0").unwrap();
        assert!(r.fact("tcproutes.gateway.networking.k8s.io", false).is_none());
        assert!(r.fact("tcproutes.gateway.networking.k8s.io", true).is_some());
        assert_eq!(gaie_release("v1.3.1").unwrap().line, "v1.3");
    }

    #[test]
    fn lookups_by_patch_version() {
        assert_eq!(gateway_api_release("v1.3.0").unwrap().line, "v1.3");
        assert_eq!(gateway_api_release("v1.5.1").unwrap().line, "v1.5");
        assert!(gateway_api_release("v9.0.0").is_none());
        let gaie = gaie_release("v1.0.1").unwrap();
        assert!(gaie.crds.iter().any(|c| c.group == "inference.networking.k8s.io" && c.serves("v1")));
        assert!(!gaie_release("v1.5.0")
            .unwrap()
            .crds
            .iter()
            .any(|c| c.name() == "inferencepools.inference.networking.x-k8s.io"));
        assert_eq!(parse_version("v1.5.0-dev").unwrap().pre.as_str(), "dev");
        assert_eq!(parse_version("1.28").unwrap(), semver::Version::new(1, 28, 0));
    }
}
