//! The kubeconfig loader: up to two files merged like KUBECONFIG (first wins), then the checks behind
//! `--context`, `--cluster`, `--user`, the namespace of `doctor -f` and `--contexts/--all-contexts`.
//! Input: NUL-separated parts — file 1, file 2, context, cluster, user (missing parts are absent).
//! Nothing here builds a client: exec plugins and credential files are never run or read.
#![no_main]
use libfuzzer_sys::fuzz_target;
use llmd::cluster::client::{check_selection, default_namespace, fleet_contexts, load_kubeconfig, Settings};

fuzz_target!(|data: &[u8]| {
    let Ok(text) = std::str::from_utf8(data) else { return };
    let parts: Vec<&str> = text.split('\0').collect();
    let dir = std::env::temp_dir().join(format!("llmd-fuzz-kubeconfig-{}", std::process::id()));
    std::fs::create_dir_all(&dir).expect("temp dir");
    let mut paths = Vec::new();
    for (i, part) in parts.iter().take(2).enumerate() {
        let path = dir.join(format!("config{i}"));
        std::fs::write(&path, part).expect("write temp kubeconfig");
        paths.push(path);
    }
    let name = |i: usize| parts.get(i).filter(|s| !s.is_empty()).map(|s| s.to_string());
    let flags = Settings {
        kubeconfig: Some(paths[0].clone()),
        context: name(2),
        cluster: name(3),
        user: name(4),
        ..Settings::default()
    };
    if let Ok(merged) = load_kubeconfig(&paths) {
        let _ = check_selection(&merged, "fuzz", &flags);
    }
    let _ = default_namespace(&flags);
    let _ = fleet_contexts(&flags, true, &[]);
    let asked: Vec<String> = flags.context.iter().cloned().collect();
    let _ = fleet_contexts(&flags, false, &asked);
});
