//! The real upstream CRDs from the Go module cache, applied to a harness: shared by the end-to-end
//! tests (through `fixtures`) and the fleet benchmark.

use crate::harness::Harness;
use serde_json::Value;
use std::path::PathBuf;
use std::process::Command;

/// The directory of a Go module version in the module cache (downloading it through the proxy if needed).
pub fn go_module_dir(module: &str, version: &str) -> PathBuf {
    let out = Command::new("go")
        .args(["mod", "download", "-json", &format!("{module}@{version}")])
        .env("GOFLAGS", "-mod=mod")
        .current_dir(std::env::temp_dir())
        .output()
        .expect("go is required for the end-to-end tests");
    let v: Value = serde_json::from_slice(&out.stdout).unwrap_or_else(|e| {
        panic!("go mod download {module}@{version}: {e}: {}", String::from_utf8_lossy(&out.stderr))
    });
    PathBuf::from(v["Dir"].as_str().unwrap_or_else(|| panic!("no Dir for {module}@{version}: {v}")))
}

/// Gateway API standard-channel CRD files of a release.
pub fn gateway_api_crds(version: &str) -> Vec<PathBuf> {
    yaml_files(go_module_dir("sigs.k8s.io/gateway-api", version).join("config/crd/standard"))
}

/// GAIE CRD files of a release.
pub fn gaie_crds(version: &str) -> Vec<PathBuf> {
    yaml_files(go_module_dir("sigs.k8s.io/gateway-api-inference-extension", version).join("config/crd/bases"))
}

fn yaml_files(dir: PathBuf) -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("{}: {e}", dir.display()))
        .flatten()
        .map(|e| e.path())
        .filter(|p| p.extension().is_some_and(|e| e == "yaml") && !p.ends_with("kustomization.yaml"))
        .collect();
    v.sort();
    v
}

/// Apply files with server-side apply (big CRDs do not fit client-side apply's annotation).
pub fn apply_files(h: &Harness, files: &[PathBuf]) {
    let mut args = vec!["apply".to_string(), "--server-side".into(), "--force-conflicts".into()];
    for f in files {
        args.push("-f".into());
        args.push(f.display().to_string());
    }
    let refs: Vec<&str> = args.iter().map(String::as_str).collect();
    // Server-side apply is idempotent: a transient refusal while a freshly started API server is still
    // warming up (seen once when several tests raced at start) is retried, a real one fails below.
    let mut out = h.kubectl(&refs);
    for _ in 0..3 {
        if out.status.success() {
            break;
        }
        eprintln!("kubectl apply failed, retrying in 2s: {}", String::from_utf8_lossy(&out.stderr));
        std::thread::sleep(std::time::Duration::from_secs(2));
        out = h.kubectl(&refs);
    }
    assert!(out.status.success(), "kubectl apply: {}", String::from_utf8_lossy(&out.stderr));
}

/// Wait until every CRD is Established. `kubectl wait` fails at once on a CRD created so recently that it
/// has no `status.conditions` yet (".status.conditions accessor error: <nil> is of the type <nil>"): ask again.
pub fn wait_established(h: &Harness) {
    let started = std::time::Instant::now();
    loop {
        let out = h.kubectl(&["wait", "--for=condition=Established", "crd", "--all", "--timeout=120s"]);
        let stderr = String::from_utf8_lossy(&out.stderr);
        if out.status.success() {
            return;
        }
        let too_early = stderr.contains("accessor error") && started.elapsed() < std::time::Duration::from_secs(60);
        assert!(too_early, "CRDs not established: {stderr}");
        std::thread::sleep(std::time::Duration::from_millis(200));
    }
}

/// A stand-in GRPCRoute CRD (not the upstream file, schema-less): group gateway.networking.k8s.io,
/// v1alpha2 and v1 served, storage `storage`, annotated as Gateway API v1.3.0 standard (whose
/// grpcroutes has v1 only), as Gateway API v1.0 (v1alpha2) → v1.1 (storage v1) did upstream.
pub fn grpcroute_crd(storage: &str) -> String {
    let version = |v: &str| {
        format!(
            "  - name: {v}\n    served: true\n    storage: {}\n    schema: {{openAPIV3Schema: {{type: object, x-kubernetes-preserve-unknown-fields: true}}}}\n",
            v == storage
        )
    };
    format!(
        "apiVersion: apiextensions.k8s.io/v1\nkind: CustomResourceDefinition\nmetadata:\n  name: grpcroutes.gateway.networking.k8s.io\n  annotations:\n    \
         kubectl-llmd.test/stand-in: \"GRPCRoute CRD written for tests (storage {storage})\"\n    \
         api-approved.kubernetes.io: https://github.com/kubernetes-sigs/gateway-api/pull/2466\n    \
         gateway.networking.k8s.io/bundle-version: v1.3.0\n    gateway.networking.k8s.io/channel: standard\n\
         spec:\n  group: gateway.networking.k8s.io\n  scope: Namespaced\n  names: {{kind: GRPCRoute, plural: grpcroutes, singular: grpcroute, listKind: GRPCRouteList}}\n  versions:\n{}{}",
        version("v1alpha2"),
        version("v1")
    )
}

/// The Gateway API v1.3.0 standard CRDs except grpcroutes (and the safe-upgrades policy), with the
/// GRPCRoute stand-in stored at v1alpha2 in its place: where the storedVersions scenarios start.
pub fn install_grpcroute_stand_in(h: &Harness) {
    let files: Vec<PathBuf> = gateway_api_crds("v1.3.0")
        .into_iter()
        .filter(|p| !p.to_string_lossy().contains("_vap_") && !p.ends_with("gateway.networking.k8s.io_grpcroutes.yaml"))
        .collect();
    apply_files(h, &files);
    h.apply_yaml(&grpcroute_crd("v1alpha2"));
    wait_established(h);
}

/// `n` GRPCRoutes at v1alpha2, each with its own content (label `n`, hostname, method, backend port),
/// created 250 to a `kubectl create`, chunk k in `namespaces[k % len]`, `parallel` kubectl runs at a time.
#[allow(dead_code)] // the fleet benchmark loads its objects through the API, concurrently
pub fn create_grpcroutes(h: &Harness, n: usize, namespaces: &[String], parallel: usize) {
    let chunks: Vec<Vec<usize>> = (0..n).collect::<Vec<_>>().chunks(250).map(<[usize]>::to_vec).collect();
    let create = |k: usize, chunk: &[usize]| {
        let ns = &namespaces[k % namespaces.len()];
        let docs: Vec<String> = chunk
            .iter()
            .map(|i| {
                format!(
                    "apiVersion: gateway.networking.k8s.io/v1alpha2\nkind: GRPCRoute\nmetadata: {{name: route-{i:04}, namespace: {ns}, labels: {{n: \"{i}\"}}}}\n\
                     spec:\n  hostnames: [svc-{i}.example.com]\n  rules:\n  - matches: [{{method: {{service: pkg.Svc{i}, method: Call}}}}]\n    backendRefs: [{{name: backend-{i}, port: {}}}]\n",
                    9000 + i
                )
            })
            .collect();
        let out = h.kubectl_stdin(&["create", "-f", "-", "-o", "name"], &docs.join("---\n"));
        assert!(out.status.success(), "kubectl create grpcroutes: {}", String::from_utf8_lossy(&out.stderr));
    };
    let indexed: Vec<(usize, &Vec<usize>)> = chunks.iter().enumerate().collect();
    std::thread::scope(|s| {
        for group in indexed.chunks(parallel.max(1)) {
            let runs: Vec<_> = group.iter().map(|&(k, chunk)| s.spawn(move || create(k, chunk))).collect();
            for r in runs {
                r.join().expect("kubectl create thread");
            }
        }
    });
}
