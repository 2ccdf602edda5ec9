//! Facts as data: Gateway API and GAIE releases, gateway providers, version profiles.
//! Sources: ../shared/docs/DOMAIN.md (facts from the upstream CRDs and guides at each tag).

pub mod bundles;
pub mod profiles;
pub mod providers;
pub mod releases;

pub use bundles::{stored_version_refusal, BundleKind};
pub use profiles::{profile_from_env, resolve_profile, Profile};
pub use providers::{provider_for_controller, Provider, ProviderId, PROVIDERS};
pub use releases::*;
