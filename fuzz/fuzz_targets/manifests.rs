//! `doctor -f`: YAML/JSON text (multi-document, `*List` kinds) → objects → Snapshot → checks, as the
//! offline collector does for a file. Every input must end in objects or a Failure, never a panic;
//! alias bombs and deep nesting end in serde-saphyr's budget error.
#![no_main]
use libfuzzer_sys::fuzz_target;
use llmd::collect::offline::{place, read_objects, snapshot_from_objects};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let Ok(mut objects) = read_objects(text, "fuzz.yaml") else { return };
    for located in &mut objects {
        place(&mut located.object, "default");
    }
    let Ok(snapshot) = snapshot_from_objects(&objects, vec!["fuzz.yaml".into()]) else { return };
    let profile = llmd::catalog::profiles::llm_d_prereq();
    let report = llmd::checks::diagnose(&snapshot, &profile, "files".into());
    let _ = serde_json::to_string(&report);
});
