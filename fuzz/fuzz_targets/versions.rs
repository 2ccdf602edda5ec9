//! Version and profile parsing: `--profile`, the revision variables (GATEWAY_API_CRD_REVISION, …) and
//! release lookups of any version string a user or a cluster may hand us.
#![no_main]
use libfuzzer_sys::fuzz_target;
use llmd::catalog::profiles::resolve_profile;
use llmd::catalog::releases::{gaie_release, gateway_api_release, parse_version};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let _ = parse_version(text);
    let _ = gateway_api_release(text);
    let _ = gaie_release(text);
    let _ = resolve_profile(Some(text), &|_| None);
    // The default profile with every revision variable set to the input.
    if let Ok(p) = resolve_profile(None, &|_| Some(text.to_string())) {
        let _ = gateway_api_release(&p.gateway_api);
        let _ = gaie_release(&p.inference_extension);
    }
});
