//! Version profiles: which bundle and controller versions a setup is meant to run.

use crate::error::{Failure, Result};

/// A set of pinned versions.
#[derive(Debug, Clone, PartialEq, Eq, serde::Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    /// "llm-d-prereq", "current" or "custom".
    pub name: String,
    /// Gateway API CRD ref ("v1.3.0" or any git ref).
    pub gateway_api: String,
    /// GAIE CRD ref.
    pub inference_extension: String,
    pub istio: String,
    pub agentgateway: String,
    pub kgateway: String,
}

impl Profile {
    /// The profile's version of a provider's control plane (the catalog's pin for NGINX Gateway Fabric and
    /// Envoy AI Gateway; None: managed, or no recipe).
    pub fn provider_version(&self, id: crate::catalog::providers::ProviderId) -> Option<&str> {
        use crate::catalog::providers::ProviderId;
        match id {
            ProviderId::Istio => Some(&self.istio),
            ProviderId::Agentgateway => Some(&self.agentgateway),
            ProviderId::Kgateway => Some(&self.kgateway),
            // Providers outside llm-d's helmfiles: the catalog's pin, the same in every profile.
            _ => Some(crate::catalog::providers::provider(id).pinned_version).filter(|v| !v.is_empty()),
        }
    }
}

/// Variables naming the Gateway API CRD ref, first set wins: the llm-d prerequisite's, then the one
/// the current llm-d guides export.
pub const GATEWAY_API_ENVS: &[&str] = &["GATEWAY_API_CRD_REVISION", "GATEWAY_API_VERSION"];
/// Variables naming the GAIE CRD ref, first set wins: the prerequisite's, the current guides'
/// (`GAIE_VERSION`), and an older recipe script's.
pub const GAIE_ENVS: &[&str] =
    &["GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION", "GAIE_VERSION", "GATEWAY_API_INFERENCE_EXTENSION_VERSION"];
/// The ref some guides default to: the newest release this build knows.
pub const LATEST: &str = "latest";

/// The llm-d prerequisite's pins.
pub fn llm_d_prereq() -> Profile {
    Profile {
        name: "llm-d-prereq".into(),
        gateway_api: "v1.3.0".into(),
        inference_extension: "v1.0.1".into(),
        istio: "1.28.0".into(),
        // The prerequisite README: "installs the agentgateway v1.0.0 control plane".
        agentgateway: "v1.0.0".into(),
        kgateway: "v2.1.0".into(),
    }
}

/// The current llm-d guides' pins.
pub fn current() -> Profile {
    Profile {
        name: "current".into(),
        gateway_api: "v1.5.1".into(),
        inference_extension: "v1.5.0".into(),
        istio: "1.29.2".into(),
        agentgateway: "v1.1.0".into(),
        kgateway: "v2.1.0".into(),
    }
}

/// The newest release this build knows of each bundle (what `latest` means).
fn latest(bundle: Bundle) -> String {
    let newest = match bundle {
        Bundle::GatewayApi => crate::catalog::GATEWAY_API_RELEASES.last().and_then(|r| r.patches.last()),
        Bundle::Gaie => crate::catalog::GAIE_RELEASES.last().and_then(|r| r.patches.last()),
    };
    newest.map_or_else(|| LATEST.to_string(), |p| (*p).to_string())
}

#[derive(Clone, Copy)]
enum Bundle {
    GatewayApi,
    Gaie,
}

/// A ref as given, with `latest` resolved.
fn resolve_ref(given: &str, bundle: Bundle) -> String {
    if given.eq_ignore_ascii_case(LATEST) {
        latest(bundle)
    } else {
        given.to_string()
    }
}

/// Resolve `--profile` with the process environment (the profile doctor and gateway commands use).
pub fn profile_from_env(flag: Option<&str>) -> Result<Profile> {
    resolve_profile(flag, &|k| std::env::var(k).ok())
}

/// Resolve `--profile` (None = llm-d-prereq, llm-d's minimum) and, for the default profile, the
/// revision variables of the llm-d prerequisite and guides (`GATEWAY_API_ENVS`, `GAIE_ENVS`).
/// `env` looks variables up (std::env::var in production; a map in tests).
pub fn resolve_profile(flag: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Profile> {
    let mut profile = match flag {
        None | Some("llm-d-prereq") | Some("prereq") => llm_d_prereq(),
        Some("current") => current(),
        Some(custom) => match custom.split_once('@') {
            Some((ga, gaie)) if !ga.is_empty() && !gaie.is_empty() => Profile {
                name: "custom".into(),
                gateway_api: resolve_ref(ga, Bundle::GatewayApi),
                inference_extension: resolve_ref(gaie, Bundle::Gaie),
                ..current()
            },
            _ => {
                return Err(Failure::with_hint(
                    format!("unknown profile {custom:?}"),
                    "use --profile llm-d-prereq, --profile current, or --profile GATEWAY_API@GAIE (e.g. v1.5.1@v1.5.0, latest@latest)",
                ))
            }
        },
    };
    if flag.is_none() {
        let mut overridden = Vec::new();
        for (names, bundle) in [(GATEWAY_API_ENVS, Bundle::GatewayApi), (GAIE_ENVS, Bundle::Gaie)] {
            let Some((name, value)) =
                names.iter().find_map(|n| env(n).filter(|v| !v.trim().is_empty()).map(|v| (*n, v.trim().to_string())))
            else {
                continue;
            };
            let resolved = resolve_ref(&value, bundle);
            overridden.push(if resolved == value {
                name.to_string()
            } else {
                format!("{name}={value} → {resolved}")
            });
            match bundle {
                Bundle::GatewayApi => profile.gateway_api = resolved,
                Bundle::Gaie => profile.inference_extension = resolved,
            }
        }
        if !overridden.is_empty() {
            profile.name = format!("{} ({})", profile.name, overridden.join(", "));
        }
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn env_of(pairs: &'static [(&'static str, &'static str)]) -> impl Fn(&str) -> Option<String> {
        move |k: &str| pairs.iter().find(|(n, _)| *n == k).map(|(_, v)| v.to_string())
    }

    #[test]
    fn default_is_the_prerequisite_and_env_overrides_it() {
        let none = |_: &str| None;
        assert_eq!(resolve_profile(None, &none).unwrap().gateway_api, "v1.3.0");
        let env = env_of(&[("GATEWAY_API_CRD_REVISION", "v1.4.0")]);
        let p = resolve_profile(None, &env).unwrap();
        assert_eq!((p.gateway_api.as_str(), p.inference_extension.as_str()), ("v1.4.0", "v1.0.1"));
        assert_eq!(p.name, "llm-d-prereq (GATEWAY_API_CRD_REVISION)");
        // An explicit profile is not overridden by the variables.
        assert_eq!(resolve_profile(Some("current"), &env).unwrap().gateway_api, "v1.5.1");
        let c = resolve_profile(Some("v1.6.0@v1.6.0"), &none).unwrap();
        assert_eq!(c.inference_extension, "v1.6.0");
        assert!(resolve_profile(Some("bogus"), &none).is_err());
    }

    #[test]
    fn the_current_guides_variables_and_latest() {
        let env = env_of(&[("GATEWAY_API_VERSION", "v1.5.1"), ("GAIE_VERSION", "v1.5.0")]);
        let p = resolve_profile(None, &env).unwrap();
        assert_eq!((p.gateway_api.as_str(), p.inference_extension.as_str()), ("v1.5.1", "v1.5.0"));
        assert_eq!(p.name, "llm-d-prereq (GATEWAY_API_VERSION, GAIE_VERSION)");
        // The older recipe script's variable, and the prerequisite's taking precedence over the guides'.
        let env = env_of(&[
            ("GATEWAY_API_INFERENCE_EXTENSION_VERSION", "v1.4.0"),
            ("GATEWAY_API_CRD_REVISION", "v1.3.0"),
            ("GATEWAY_API_VERSION", "v1.5.1"),
        ]);
        let p = resolve_profile(None, &env).unwrap();
        assert_eq!((p.gateway_api.as_str(), p.inference_extension.as_str()), ("v1.3.0", "v1.4.0"));
        // `latest` is the newest release this build knows.
        let env = env_of(&[("GAIE_VERSION", "latest")]);
        let p = resolve_profile(None, &env).unwrap();
        let newest = crate::catalog::GAIE_RELEASES.last().unwrap().patches.last().unwrap();
        assert_eq!(p.inference_extension, *newest);
        assert_eq!(p.name, format!("llm-d-prereq (GAIE_VERSION=latest → {newest})"));
        let c = resolve_profile(Some("latest@latest"), &|_: &str| None).unwrap();
        assert_eq!(c.gateway_api, *crate::catalog::GATEWAY_API_RELEASES.last().unwrap().patches.last().unwrap());
    }
}
