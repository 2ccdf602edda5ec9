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

/// Environment variable overriding the Gateway API CRD ref (as llm-d's prerequisite honours it).
pub const GATEWAY_API_ENV: &str = "GATEWAY_API_CRD_REVISION";
/// Environment variable overriding the GAIE CRD ref.
pub const GAIE_ENV: &str = "GATEWAY_API_INFERENCE_EXTENSION_CRD_REVISION";

/// The llm-d prerequisite's pins.
pub fn llm_d_prereq() -> Profile {
    Profile {
        name: "llm-d-prereq".into(),
        gateway_api: "v1.3.0".into(),
        inference_extension: "v1.0.1".into(),
        istio: "1.28.0".into(),
        agentgateway: "v1.1.0".into(),
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

/// Resolve `--profile` (None = llm-d-prereq) and, for the default profile, the revision variables.
/// `env` looks variables up (std::env::var in production; a map in tests).
pub fn resolve_profile(flag: Option<&str>, env: &dyn Fn(&str) -> Option<String>) -> Result<Profile> {
    let mut profile = match flag {
        None | Some("llm-d-prereq") | Some("prereq") => llm_d_prereq(),
        Some("current") => current(),
        Some(custom) => match custom.split_once('@') {
            Some((ga, gaie)) if !ga.is_empty() && !gaie.is_empty() => {
                Profile { name: "custom".into(), gateway_api: ga.into(), inference_extension: gaie.into(), ..current() }
            }
            _ => {
                return Err(Failure::with_hint(
                    format!("unknown profile {custom:?}"),
                    "use --profile llm-d-prereq, --profile current, or --profile GATEWAY_API@GAIE (e.g. v1.5.1@v1.5.0)",
                ))
            }
        },
    };
    if flag.is_none() {
        if let Some(v) = env(GATEWAY_API_ENV).filter(|v| !v.is_empty()) {
            profile.gateway_api = v;
            profile.name = format!("{} ({GATEWAY_API_ENV})", profile.name);
        }
        if let Some(v) = env(GAIE_ENV).filter(|v| !v.is_empty()) {
            profile.inference_extension = v;
            if !profile.name.contains(GAIE_ENV) {
                profile.name = format!("{} ({GAIE_ENV})", profile.name);
            }
        }
    }
    Ok(profile)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn default_is_the_prerequisite_and_env_overrides_it() {
        let none = |_: &str| None;
        assert_eq!(resolve_profile(None, &none).unwrap().gateway_api, "v1.3.0");
        let env = |k: &str| (k == GATEWAY_API_ENV).then(|| "v1.4.0".to_string());
        let p = resolve_profile(None, &env).unwrap();
        assert_eq!((p.gateway_api.as_str(), p.inference_extension.as_str()), ("v1.4.0", "v1.0.1"));
        // An explicit profile is not overridden by the variables.
        assert_eq!(resolve_profile(Some("current"), &env).unwrap().gateway_api, "v1.5.1");
        let c = resolve_profile(Some("v1.6.0@v1.6.0"), &none).unwrap();
        assert_eq!(c.inference_extension, "v1.6.0");
        assert!(resolve_profile(Some("bogus"), &none).is_err());
    }
}
