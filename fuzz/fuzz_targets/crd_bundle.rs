//! The CRD bundle reader of `gateway install --crds-from` (and `doctor --fix`): files split into the
//! Gateway API and GAIE bundles, plus the kustomization parser of the upstream download path.
//! Input: NUL-separated parts, each one file of the bundle directory (at most 4); the first part is also
//! read as a kustomization.yaml.
#![no_main]
use libfuzzer_sys::fuzz_target;
use llmd::install::source::{kustomization_resources, read_files};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parts: Vec<&str> = text.split('\0').take(4).collect();
    let _ = kustomization_resources(parts[0]);
    let dir = std::env::temp_dir().join(format!("llmd-fuzz-crd-bundle-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).expect("temp dir");
    for (i, part) in parts.iter().enumerate() {
        std::fs::write(dir.join(format!("part{i}.yaml")), part).expect("write temp bundle file");
    }
    if let Ok(bundles) = read_files(&dir) {
        for b in &bundles {
            assert!(!b.objects.is_empty(), "a bundle read from files holds objects");
        }
    }
});
