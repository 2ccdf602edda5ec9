//! The fleet benchmark (issue 12): how fast and how lean `doctor` and `pool status` are on big clusters.
//!
//! `cargo bench --bench fleet` (options after `--`, see `usage()`). Not part of `cargo test`
//! (`test = false`); it starts its own kube-apiserver harness (tests/kubeharness) per fleet size.
//!
//! Per size (S/M/L = 10/100/1,000 InferencePools; 2 HTTPRoutes, one endpoint picker — Service,
//! EndpointSlice, Deployment — and 20 Ready model-server pods per pool; 10 pools per namespace; one
//! accepted Gateway per namespace), loaded concurrently through the API, it measures (median of
//! `--runs`, interleaved so that noise hits every contender alike):
//! - `doctor -A -o json -v`: wall time, API requests (and continuation pages), peak RSS, collection vs
//!   analysis (checks + render) time;
//! - the floor: the same LISTs issued concurrently and unpaged by a minimal client (this binary,
//!   re-executed), bytes read but not decoded;
//! - the kubectl sequence a user runs by hand;
//! - `pool status -A`.
//!
//! Then the storedVersions migration (`doctor --fix=LLMD-CRD-009`) at `--migration` objects, and
//! `pool status -A --watch` under churn (RSS sampled).
#[allow(unused_imports)]
#[path = "../tests/e2e/harness.rs"]
mod harness;
#[path = "../tests/e2e/upstream.rs"]
mod upstream;

use futures::{stream, StreamExt};
use harness::{llmd_bin, Harness};
use kube::api::{Api, ApiResource, DynamicObject, Patch, PatchParams, PostParams};
use serde_json::{json, Value};
use std::fs::File;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};
use upstream::grpcroute_crd;

const GWAPI: &str = "gateway.networking.k8s.io";
const V1: &str = "inference.networking.k8s.io";
const CLASS: &str = "agentgateway";
const CONTROLLER: &str = "agentgateway.dev/agentgateway";
const GW: &str = "inference-gateway";
const PODS_PER_POOL: usize = 20;
const POOLS_PER_NS: usize = 10;
const EPP_PORT: i64 = 9002;
const TARGET_PORT: i64 = 8000;
const LTT: &str = "2026-01-01T00:00:00Z";
/// Concurrent writes while loading a fleet.
const LOAD_CONCURRENCY: usize = 48;

fn usage() -> &'static str {
    "usage: cargo bench --bench fleet -- [--sizes S,M,L] [--runs N] [--migration OBJECTS|0] [--watch SECONDS|0] [--hold]\n\
     defaults: --sizes S,M,L --runs 5 --migration 5000 --watch 120\n\
     --hold: load the first size, print its admin kubeconfig and keep the harness up until killed (for profiling)"
}

struct Opts {
    sizes: Vec<(&'static str, usize)>,
    runs: usize,
    migration: usize,
    watch_secs: u64,
    hold: bool,
}

fn parse_opts() -> Opts {
    let mut o = Opts {
        sizes: vec![("S", 10), ("M", 100), ("L", 1000)],
        runs: 5,
        migration: 5000,
        watch_secs: 120,
        hold: false,
    };
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        let mut value = || args.next().unwrap_or_else(|| die(&format!("{a} needs a value\n{}", usage())));
        match a.as_str() {
            "--bench" => {}
            "--sizes" => {
                o.sizes = value()
                    .split(',')
                    .map(|s| match s.trim() {
                        "S" => ("S", 10),
                        "M" => ("M", 100),
                        "L" => ("L", 1000),
                        other => die(&format!("unknown size {other:?} (S, M or L)")),
                    })
                    .collect()
            }
            "--runs" => o.runs = value().parse().unwrap_or_else(|_| die("--runs needs a number")),
            "--migration" => o.migration = value().parse().unwrap_or_else(|_| die("--migration needs a number")),
            "--watch" => o.watch_secs = value().parse().unwrap_or_else(|_| die("--watch needs seconds")),
            "--hold" => o.hold = true,
            "-h" | "--help" => {
                println!("{}", usage());
                std::process::exit(0)
            }
            other => die(&format!("unexpected argument {other:?}\n{}", usage())),
        }
    }
    o.runs = o.runs.max(1);
    o
}

fn die(msg: &str) -> ! {
    eprintln!("fleet bench: {msg}");
    std::process::exit(2)
}

fn main() {
    let mut args = std::env::args().skip(1);
    match args.next().as_deref() {
        Some("__floor") => {
            let kubeconfig = PathBuf::from(args.next().unwrap_or_else(|| die("__floor needs a kubeconfig")));
            return runtime().block_on(floor(&kubeconfig));
        }
        Some("__measure") => measure_child(args),
        _ => {}
    }
    // `cargo bench` passes --bench; `cargo test --benches` does not: this is no test, say so and stop.
    if !std::env::args().any(|a| a == "--bench") {
        eprintln!("fleet bench: not run as a test; run it with `cargo bench --bench fleet`");
        return;
    }
    let opts = parse_opts();
    eprintln!("fleet bench: binary {} on {}", bin().display(), machine());
    let mut rows = Vec::new();
    for &(size, pools) in &opts.sizes {
        let h = harness::start().unwrap_or_else(|e| die(&e));
        prepare_cluster(&h);
        let started = Instant::now();
        runtime().block_on(load_fleet(&h, pools));
        eprintln!(
            "fleet bench: {size}: loaded {pools} pools, {} pods in {:.1}s",
            pools * PODS_PER_POOL,
            started.elapsed().as_secs_f64()
        );
        if opts.hold {
            println!("fleet bench: {size} fleet ready; KUBECONFIG={}", h.kubeconfig_admin.display());
            loop {
                std::thread::sleep(Duration::from_secs(3600));
            }
        }
        let row = measure_size(&h, size, pools, opts.runs);
        print_row(&row);
        rows.push(row);
        if size == "M" && opts.watch_secs > 0 {
            watch_memory(&h, opts.watch_secs);
        }
        drop(h);
    }
    print_summary(&rows);
    if opts.migration > 0 {
        migration(opts.migration);
    }
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread().worker_threads(2).enable_all().build().expect("tokio runtime")
}

fn machine() -> String {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with("model name"))
                .map(|l| l.split(':').nth(1).unwrap_or("").trim().to_string())
        })
        .unwrap_or_else(|| "unknown CPU".into());
    let cores = std::thread::available_parallelism().map(|n| n.get()).unwrap_or(0);
    let mem = std::fs::read_to_string("/proc/meminfo")
        .ok()
        .and_then(|s| s.lines().next().map(|l| l.split_whitespace().nth(1).unwrap_or("0").parse::<u64>().unwrap_or(0)))
        .unwrap_or(0);
    format!("{cpu}, {cores} cores, {} GiB", mem / 1024 / 1024)
}

// ---------------------------------------------------------------------------------------------
// The cluster and the fleet.

/// CRDs (Gateway API v1.3.0 standard, GAIE v1.0.1) and the accepted agentgateway GatewayClass.
fn prepare_cluster(h: &Harness) {
    let mut files = upstream::gateway_api_crds("v1.3.0");
    files.extend(upstream::gaie_crds("v1.0.1"));
    upstream::apply_files(h, &files);
    upstream::wait_established(h);
    h.apply_yaml(&format!(
        "apiVersion: {GWAPI}/v1\nkind: GatewayClass\nmetadata:\n  name: {CLASS}\nspec:\n  controllerName: {CONTROLLER}\n"
    ));
    let status = json!({"status": {"conditions": [ok("Accepted")]}}).to_string();
    kubectl_out(
        h,
        &["patch", &format!("gatewayclass.{GWAPI}"), CLASS, "--subresource=status", "--type=merge", "-p", &status],
    );
}

async fn client(kubeconfig: &Path) -> kube::Client {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig).unwrap_or_else(|e| die(&format!("kubeconfig: {e}")));
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default())
        .await
        .unwrap_or_else(|e| die(&format!("kubeconfig: {e}")));
    kube::Client::try_from(config).unwrap_or_else(|e| die(&format!("client: {e}")))
}

fn resource(api_version: &str, kind: &str) -> ApiResource {
    let (group, version) = api_version.split_once('/').unwrap_or(("", api_version));
    let plural = match kind {
        "Gateway" => "gateways",
        "HTTPRoute" => "httproutes",
        "InferencePool" => "inferencepools",
        "Service" => "services",
        "EndpointSlice" => "endpointslices",
        "Deployment" => "deployments",
        "Pod" => "pods",
        "Namespace" => "namespaces",
        "GRPCRoute" => "grpcroutes",
        other => die(&format!("no plural for {other}")),
    };
    ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: api_version.into(),
        kind: kind.into(),
        plural: plural.into(),
    }
}

fn api_for(client: &kube::Client, obj: &Value) -> Api<DynamicObject> {
    let ar = resource(obj["apiVersion"].as_str().unwrap_or(""), obj["kind"].as_str().unwrap_or(""));
    match obj["metadata"]["namespace"].as_str() {
        Some(ns) => Api::namespaced_with(client.clone(), ns, &ar),
        None => Api::all_with(client.clone(), &ar),
    }
}

/// Create every object, `LOAD_CONCURRENCY` at a time; then write the statuses the same way.
async fn create_all(client: &kube::Client, objects: Vec<Value>) {
    stream::iter(objects)
        .for_each_concurrent(LOAD_CONCURRENCY, |obj| async move {
            let api = api_for(client, &obj);
            let status = obj.get("status").cloned();
            let name = obj["metadata"]["name"].as_str().unwrap_or("").to_string();
            let dynamic: DynamicObject = serde_json::from_value(obj).unwrap_or_else(|e| die(&format!("{name}: {e}")));
            if let Err(e) = api.create(&PostParams::default(), &dynamic).await {
                die(&format!("creating {name}: {e}"));
            }
            if let Some(status) = status {
                let patch = Patch::Merge(json!({ "status": status }));
                if let Err(e) = api.patch_status(&name, &PatchParams::default(), &patch).await {
                    die(&format!("status of {name}: {e}"));
                }
            }
        })
        .await;
}

fn cond(type_: &str, status: &str, reason: &str) -> Value {
    json!({"type": type_, "status": status, "reason": reason, "message": "", "lastTransitionTime": LTT,
           "observedGeneration": 1})
}

fn ok(type_: &str) -> Value {
    cond(type_, "True", type_)
}

fn namespace_of(pool: usize) -> String {
    format!("fleet-{:03}", pool / POOLS_PER_NS)
}

/// One healthy pool and everything it routes through, statuses included (as controllers would write them).
fn pool_objects(i: usize) -> Vec<Value> {
    let ns = namespace_of(i);
    let pool = format!("pool-{i:04}");
    let epp = format!("{pool}-epp");
    let model = format!("model-{i:04}");
    let meta = |name: &str| json!({"name": name, "namespace": ns});
    let mut out = Vec::new();
    for r in 0..2 {
        let parent = json!({"group": GWAPI, "kind": "Gateway", "name": GW});
        out.push(json!({
            "apiVersion": format!("{GWAPI}/v1"), "kind": "HTTPRoute", "metadata": meta(&format!("{pool}-route-{r}")),
            "spec": {"parentRefs": [parent],
                     "rules": [{"matches": [{"path": {"type": "PathPrefix", "value": format!("/{pool}/{r}")}}],
                                "backendRefs": [{"group": V1, "kind": "InferencePool", "name": pool}]}]},
            "status": {"parents": [{"parentRef": parent, "controllerName": CONTROLLER,
                                    "conditions": [ok("Accepted"), ok("ResolvedRefs")]}]},
        }));
    }
    out.push(json!({
        "apiVersion": format!("{V1}/v1"), "kind": "InferencePool", "metadata": meta(&pool),
        "spec": {"selector": {"matchLabels": {"app": model}}, "targetPorts": [{"number": TARGET_PORT}],
                 "endpointPickerRef": {"name": epp, "port": {"number": EPP_PORT}}},
        "status": {"parents": [{"parentRef": {"group": GWAPI, "kind": "Gateway", "name": GW, "namespace": ns},
                                "conditions": [ok("Accepted"), ok("ResolvedRefs")]}]},
    }));
    out.push(json!({
        "apiVersion": "v1", "kind": "Service", "metadata": meta(&epp),
        "spec": {"selector": {"app": epp},
                 "ports": [{"name": "grpc-ext-proc", "port": EPP_PORT, "targetPort": EPP_PORT, "protocol": "TCP",
                            "appProtocol": "http2"}]},
    }));
    out.push(json!({
        "apiVersion": "discovery.k8s.io/v1", "kind": "EndpointSlice",
        "metadata": {"name": format!("{epp}-bench"), "namespace": ns,
                     "labels": {"kubernetes.io/service-name": epp,
                                "endpointslice.kubernetes.io/managed-by": "bench.kubectl-llmd"}},
        "addressType": "IPv4",
        "endpoints": [{"addresses": [format!("10.244.{}.{}", i / 200, 1 + i % 200)],
                       "conditions": {"ready": true, "serving": true, "terminating": false}}],
        "ports": [{"name": "grpc-ext-proc", "port": EPP_PORT, "protocol": "TCP"}],
    }));
    let args = ["--pool-name", &pool, "--pool-namespace", &ns, "--pool-group", V1];
    out.push(json!({
        "apiVersion": "apps/v1", "kind": "Deployment",
        "metadata": {"name": epp, "namespace": ns, "labels": {"app": epp}},
        "spec": {"replicas": 1, "selector": {"matchLabels": {"app": epp}},
                 "template": {"metadata": {"labels": {"app": epp}}, "spec": {"containers": [{
                     "name": "epp", "image": "registry.k8s.io/gateway-api-inference-extension/epp:v1.0.1",
                     "args": args,
                     "ports": [{"name": "grpc", "containerPort": EPP_PORT}, {"name": "grpc-health", "containerPort": 9003},
                               {"name": "metrics", "containerPort": 9090}]}]}}},
        "status": {"observedGeneration": 1, "replicas": 1, "updatedReplicas": 1, "readyReplicas": 1,
                   "availableReplicas": 1,
                   "conditions": [{"type": "Available", "status": "True", "reason": "MinimumReplicasAvailable",
                                   "message": "Deployment availability", "lastUpdateTime": LTT,
                                   "lastTransitionTime": LTT}]},
    }));
    for p in 0..PODS_PER_POOL {
        out.push(json!({
            "apiVersion": "v1", "kind": "Pod",
            "metadata": {"name": format!("{model}-{p:02}"), "namespace": ns,
                         "labels": {"app": model, "pod-template-hash": "5d8f7c9b6d"}},
            "spec": {"containers": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1",
                                     "ports": [{"name": "http", "containerPort": TARGET_PORT}]}]},
            "status": {"phase": "Running", "podIP": format!("10.{}.{}.{}", 100 + i / 250, (i % 250), 1 + p),
                       "conditions": [{"type": "PodScheduled", "status": "True", "lastTransitionTime": LTT},
                                      {"type": "Ready", "status": "True", "lastTransitionTime": LTT}]},
        }));
    }
    out
}

/// Namespaces and their Gateways, then every pool's objects, all through the API.
async fn load_fleet(h: &Harness, pools: usize) {
    let client = client(&h.kubeconfig_admin).await;
    let namespaces: Vec<String> = (0..pools.div_ceil(POOLS_PER_NS)).map(|n| namespace_of(n * POOLS_PER_NS)).collect();
    let ns_objects =
        namespaces.iter().map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}));
    create_all(&client, ns_objects.collect()).await;
    let gateways = namespaces.iter().map(|ns| {
        json!({
            "apiVersion": format!("{GWAPI}/v1"), "kind": "Gateway", "metadata": {"name": GW, "namespace": ns},
            "spec": {"gatewayClassName": CLASS, "listeners": [{"name": "http", "port": 80, "protocol": "HTTP"}]},
            "status": {"conditions": [ok("Accepted"), ok("Programmed")],
                       "addresses": [{"type": "IPAddress", "value": "10.0.0.200"}],
                       "listeners": [{"name": "http", "supportedKinds": [{"group": GWAPI, "kind": "HTTPRoute"}],
                                      "attachedRoutes": 2 * POOLS_PER_NS,
                                      "conditions": [ok("Accepted"), ok("ResolvedRefs"), ok("Programmed"),
                                                     cond("Conflicted", "False", "NoConflicts")]}]},
        })
    });
    create_all(&client, gateways.collect()).await;
    create_all(&client, (0..pools).flat_map(pool_objects).collect()).await;
}

// ---------------------------------------------------------------------------------------------
// Measuring.

/// One process run: wall time, peak RSS, its output.
struct Proc {
    wall: Duration,
    max_rss_kb: i64,
    code: i32,
    stdout: String,
    stderr: String,
}

/// `__measure RSS_FILE PROGRAM ARGS…`: run PROGRAM and write its peak RSS (KiB) to RSS_FILE, exiting with its
/// code. `measure` goes through this small, freshly exec'd process because Linux charges a spawned child the
/// peak RSS of the address space it was forked from (exec records the old mm's high-water mark in the child's
/// `ru_maxrss`): spawned straight from this process, which holds the loaded fleet, every command would be
/// reported at least as large as the benchmark itself.
fn measure_child(mut args: impl Iterator<Item = String>) -> ! {
    let rss_file = args.next().unwrap_or_else(|| die("__measure needs a file"));
    let program = args.next().unwrap_or_else(|| die("__measure needs a program"));
    #[allow(clippy::zombie_processes)]
    let child = Command::new(&program).args(args).spawn().unwrap_or_else(|e| die(&format!("spawning {program}: {e}")));
    let (status, rusage) = wait4(child.id() as i32);
    std::fs::write(&rss_file, rusage.ru_maxrss.to_string()).unwrap_or_else(|e| die(&format!("{rss_file}: {e}")));
    std::process::exit(if libc::WIFEXITED(status) { libc::WEXITSTATUS(status) } else { 125 })
}

/// Run `cmd` to completion (through `__measure`, see there) and read its own peak RSS.
fn measure(cmd: &mut Command) -> Proc {
    let dir = tempfile::tempdir().expect("tempdir");
    let (out_path, err_path) = (dir.path().join("stdout"), dir.path().join("stderr"));
    let rss_path = dir.path().join("rss");
    let mut wrapped = Command::new(std::env::current_exe().expect("current exe"));
    wrapped.arg("__measure").arg(&rss_path).arg(cmd.get_program()).args(cmd.get_args());
    for (k, v) in cmd.get_envs() {
        match v {
            Some(v) => wrapped.env(k, v),
            None => wrapped.env_remove(k),
        };
    }
    if let Some(d) = cmd.get_current_dir() {
        wrapped.current_dir(d);
    }
    wrapped
        .stdin(Stdio::null())
        .stdout(File::create(&out_path).expect("stdout file"))
        .stderr(File::create(&err_path).expect("stderr file"));
    let started = Instant::now();
    let status = wrapped.status().unwrap_or_else(|e| die(&format!("spawning {cmd:?}: {e}")));
    let wall = started.elapsed();
    let code = status.code().unwrap_or(-1);
    let max_rss_kb = std::fs::read_to_string(&rss_path)
        .ok()
        .and_then(|s| s.trim().parse().ok())
        .unwrap_or_else(|| die(&format!("no peak RSS recorded for {cmd:?}")));
    Proc {
        wall,
        max_rss_kb,
        code,
        stdout: std::fs::read_to_string(&out_path).unwrap_or_default(),
        stderr: std::fs::read_to_string(&err_path).unwrap_or_default(),
    }
}

fn wait4(pid: i32) -> (i32, libc::rusage) {
    let mut status = 0;
    // SAFETY: rusage is plain old data; wait4 fills it for our own child.
    let mut rusage: libc::rusage = unsafe { std::mem::zeroed() };
    let r = unsafe { libc::wait4(pid, &mut status, 0, &mut rusage) };
    if r != pid {
        die(&format!("wait4({pid}) failed: {}", std::io::Error::last_os_error()));
    }
    (status, rusage)
}

/// The binary under test: `LLMD_BENCH_BIN` (e.g. a saved build of another commit), else this build's.
fn bin() -> PathBuf {
    std::env::var_os("LLMD_BENCH_BIN").filter(|v| !v.is_empty()).map_or_else(llmd_bin, PathBuf::from)
}

fn llmd(h: &Harness, args: &[&str]) -> Command {
    let mut cmd = Command::new(bin());
    cmd.args(args).env("KUBECONFIG", &h.kubeconfig_admin).env("NO_COLOR", "1").env_remove("RUST_LOG");
    cmd
}

/// Numbers read from `-v` output. Recognises the lines of every version of the binary benchmarked.
#[derive(Default, Clone, Copy)]
struct Verbose {
    requests: Option<usize>,
    pages: Option<usize>,
    collect_s: Option<f64>,
    analysis_s: Option<f64>,
}

fn number_before(text: &str, suffix: &str) -> Option<f64> {
    let at = text.find(suffix)?;
    let head = &text[..at];
    let start = head.rfind(|c: char| !(c.is_ascii_digit() || c == '.')).map_or(0, |i| i + 1);
    head[start..].parse().ok()
}

fn parse_verbose(stderr: &str) -> Verbose {
    let mut v = Verbose::default();
    for line in stderr.lines() {
        if line.contains("collected") {
            v.requests = number_before(line, " API requests").map(|n| n as usize).or(v.requests);
            v.pages = number_before(line, " continuation page").map(|n| n as usize).or(v.pages);
            if let Some(rest) = line.split(" in ").last() {
                v.collect_s = number_before(rest, "s").or(v.collect_s);
            }
        }
        // Checks ("analysed in N ms"), then rendering ("rendered in N ms"): analysis is both.
        if line.contains("analysed") || line.contains("rendered") {
            if let Some(ms) = number_before(line, " ms") {
                v.analysis_s = Some(v.analysis_s.unwrap_or(0.0) + ms / 1000.0);
            }
        }
    }
    v
}

fn median(mut xs: Vec<f64>) -> f64 {
    if xs.is_empty() {
        return f64::NAN;
    }
    xs.sort_by(|a, b| a.total_cmp(b));
    let n = xs.len();
    if n % 2 == 1 {
        xs[n / 2]
    } else {
        (xs[n / 2 - 1] + xs[n / 2]) / 2.0
    }
}

struct Row {
    size: &'static str,
    pools: usize,
    doctor_s: f64,
    requests: Option<usize>,
    pages: Option<usize>,
    rss_mb: f64,
    collect_s: f64,
    analysis_s: f64,
    findings: String,
    floor_s: f64,
    kubectl_s: f64,
    pool_s: f64,
    pool_rss_mb: f64,
}

fn kubectl_sequence(h: &Harness) -> Duration {
    let started = Instant::now();
    let lists = [
        vec!["api-resources", "--api-group=inference.networking.k8s.io"],
        vec!["api-resources", "--api-group=inference.networking.x-k8s.io"],
        vec!["get", "crd"],
        vec!["get", "gatewayclass"],
        vec!["get", "gateway,httproute,inferencepool,svc,endpointslices,deploy,pods", "-A", "-o", "json"],
    ];
    for args in lists {
        let mut cmd = h.kubectl_command(&h.kubeconfig_admin, &args);
        let p = measure(&mut cmd);
        if p.code != 0 {
            die(&format!("kubectl {args:?} failed: {}", p.stderr));
        }
    }
    started.elapsed()
}

fn floor_run(h: &Harness) -> Proc {
    let exe = std::env::current_exe().expect("current exe");
    let mut cmd = Command::new(exe);
    cmd.arg("__floor").arg(&h.kubeconfig_admin);
    let p = measure(&mut cmd);
    if p.code != 0 {
        die(&format!("floor failed: {}", p.stderr));
    }
    p
}

fn mb(kb: i64) -> f64 {
    kb as f64 / 1024.0
}

fn measure_size(h: &Harness, size: &'static str, pools: usize, runs: usize) -> Row {
    let doctor_args = ["doctor", "-A", "-o", "json", "-v"];
    let pool_args = ["pool", "status", "-A", "-v"];
    // Warm-up (kubectl's discovery cache, page cache of the binaries); not counted.
    let warm = measure(&mut llmd(h, &doctor_args));
    let report: Value = serde_json::from_str(&warm.stdout)
        .unwrap_or_else(|e| die(&format!("doctor -o json ({}): {e}\n{}", warm.code, warm.stderr)));
    let findings = report["findings"].as_array().cloned().unwrap_or_default();
    let mut by_severity = std::collections::BTreeMap::<String, usize>::new();
    for f in &findings {
        *by_severity.entry(f["severity"].as_str().unwrap_or("?").to_string()).or_default() += 1;
    }
    let findings = if by_severity.is_empty() { "none".to_string() } else { format!("{by_severity:?}") };
    kubectl_sequence(h);
    floor_run(h);

    let (mut doctor, mut floor, mut kubectl, mut pool) = (vec![], vec![], vec![], vec![]);
    let (mut rss, mut pool_rss, mut collect, mut analysis) = (vec![], vec![], vec![], vec![]);
    let mut verbose = Verbose::default();
    for run in 0..runs {
        let d = measure(&mut llmd(h, &doctor_args));
        if d.code > 1 {
            die(&format!("doctor failed ({}): {}", d.code, d.stderr));
        }
        let v = parse_verbose(&d.stderr);
        doctor.push(d.wall.as_secs_f64());
        rss.push(mb(d.max_rss_kb));
        if let Some(c) = v.collect_s {
            collect.push(c);
            analysis.push(v.analysis_s.unwrap_or(d.wall.as_secs_f64() - c));
        }
        verbose = v;
        floor.push(floor_run(h).wall.as_secs_f64());
        kubectl.push(kubectl_sequence(h).as_secs_f64());
        let p = measure(&mut llmd(h, &pool_args));
        if p.code != 0 {
            die(&format!("pool status failed ({}): {}", p.code, p.stderr));
        }
        pool.push(p.wall.as_secs_f64());
        pool_rss.push(mb(p.max_rss_kb));
        eprintln!(
            "fleet bench: {size} run {}/{runs}: doctor {:.2}s floor {:.2}s kubectl {:.2}s pool status {:.2}s",
            run + 1,
            doctor.last().unwrap_or(&0.0),
            floor.last().unwrap_or(&0.0),
            kubectl.last().unwrap_or(&0.0),
            pool.last().unwrap_or(&0.0)
        );
    }
    Row {
        size,
        pools,
        doctor_s: median(doctor),
        requests: verbose.requests,
        pages: verbose.pages,
        rss_mb: median(rss),
        collect_s: median(collect),
        analysis_s: median(analysis),
        findings,
        floor_s: median(floor),
        kubectl_s: median(kubectl),
        pool_s: median(pool),
        pool_rss_mb: median(pool_rss),
    }
}

fn opt(n: Option<usize>) -> String {
    n.map_or("?".into(), |n| n.to_string())
}

fn print_row(r: &Row) {
    println!(
        "{} ({} pools, {} pods): doctor {:.2}s | requests {} (continuation pages {}) | peak RSS {:.0} MB | \
         collection {:.2}s, analysis {:.0} ms | floor {:.2}s | kubectl {:.2}s | doctor/floor {:.2}x | \
         kubectl/doctor {:.2}x | pool status -A {:.2}s ({:.0} MB, {:.2}x doctor) | findings: {}",
        r.size,
        r.pools,
        r.pools * PODS_PER_POOL,
        r.doctor_s,
        opt(r.requests),
        opt(r.pages),
        r.rss_mb,
        r.collect_s,
        r.analysis_s * 1000.0,
        r.floor_s,
        r.kubectl_s,
        r.doctor_s / r.floor_s,
        r.kubectl_s / r.doctor_s,
        r.pool_s,
        r.pool_rss_mb,
        r.pool_s / r.doctor_s,
        r.findings
    );
}

fn print_summary(rows: &[Row]) {
    println!();
    println!("| size | pools | pods | doctor (median) | API requests (pages) | peak RSS | collection | analysis | floor | kubectl | doctor/floor | kubectl/doctor | pool status -A | pool/doctor |");
    println!("|---|---|---|---|---|---|---|---|---|---|---|---|---|---|");
    for r in rows {
        println!(
            "| {} | {} | {} | {:.2} s | {} ({}) | {:.0} MB | {:.2} s | {:.0} ms | {:.2} s | {:.2} s | {:.2}× | {:.2}× | {:.2} s | {:.2}× |",
            r.size,
            r.pools,
            r.pools * PODS_PER_POOL,
            r.doctor_s,
            opt(r.requests),
            opt(r.pages),
            r.rss_mb,
            r.collect_s,
            r.analysis_s * 1000.0,
            r.floor_s,
            r.kubectl_s,
            r.doctor_s / r.floor_s,
            r.kubectl_s / r.doctor_s,
            r.pool_s,
            r.pool_s / r.doctor_s
        );
    }
    if rows.len() >= 2 {
        let (a, b) = (&rows[rows.len() - 2], &rows[rows.len() - 1]);
        let per_pod = (b.rss_mb - a.rss_mb) * 1024.0 * 1024.0 / ((b.pools - a.pools) * PODS_PER_POOL) as f64;
        println!("\nRSS growth {} → {}: {:.0} bytes per pod", a.size, b.size, per_pod);
    }
    if let Some(l) = rows.iter().find(|r| r.size == "L") {
        let pages = l.pages.unwrap_or(0);
        let base = l.requests.map(|n| n.saturating_sub(pages));
        let check = |ok: bool| if ok { "met" } else { "MISSED" };
        println!("\nTargets at L (goal → measured):");
        println!(
            "- API requests ≤ 20 + pages → {} + {} pages: {}",
            opt(base),
            pages,
            check(base.is_some_and(|n| n <= 20))
        );
        println!("- doctor ≤ 1.3× floor → {:.2}×: {}", l.doctor_s / l.floor_s, check(l.doctor_s <= 1.3 * l.floor_s));
        println!(
            "- doctor ≥ 5× faster than kubectl → {:.2}×: {}",
            l.kubectl_s / l.doctor_s,
            check(l.kubectl_s >= 5.0 * l.doctor_s)
        );
        println!("- analysis ≤ 100 ms → {:.0} ms: {}", l.analysis_s * 1000.0, check(l.analysis_s <= 0.1));
        println!("- peak RSS ≤ 150 MB → {:.0} MB: {}", l.rss_mb, check(l.rss_mb <= 150.0));
        println!(
            "- pool status -A ≤ 1.2× doctor → {:.2}×: {}",
            l.pool_s / l.doctor_s,
            check(l.pool_s <= 1.2 * l.doctor_s)
        );
    }
}

// ---------------------------------------------------------------------------------------------
// The floor: the same LISTs, concurrently, unpaged, read and not decoded.

async fn floor(kubeconfig: &Path) {
    let client = client(kubeconfig).await;
    let paths = [
        "/version",
        "/apis/apiextensions.k8s.io/v1/customresourcedefinitions",
        "/apis/gateway.networking.k8s.io/v1/gatewayclasses",
        "/apis/gateway.networking.k8s.io/v1/gateways",
        "/apis/gateway.networking.k8s.io/v1/httproutes",
        "/apis/gateway.networking.k8s.io/v1beta1/referencegrants",
        "/apis/inference.networking.k8s.io/v1/inferencepools",
        "/api/v1/services",
        "/apis/discovery.k8s.io/v1/endpointslices",
        "/apis/apps/v1/deployments",
        "/api/v1/pods",
        "/apis/admissionregistration.k8s.io/v1/validatingadmissionpolicies",
        "/apis/admissionregistration.k8s.io/v1/validatingwebhookconfigurations",
    ];
    let jobs = paths.iter().map(|p| {
        let client = client.clone();
        async move {
            let req = http::Request::get(*p).body(Vec::new()).expect("request");
            client.request_text(req).await.unwrap_or_else(|e| die(&format!("GET {p}: {e}"))).len()
        }
    });
    let bytes: usize = futures::future::join_all(jobs).await.into_iter().sum();
    eprintln!("floor: {} requests, {bytes} bytes", paths.len());
}

// ---------------------------------------------------------------------------------------------
// pool status --watch under churn.

fn rss_kb(pid: u32) -> i64 {
    std::fs::read_to_string(format!("/proc/{pid}/status"))
        .ok()
        .and_then(|s| {
            s.lines().find(|l| l.starts_with("VmRSS:")).and_then(|l| l.split_whitespace().nth(1)?.parse().ok())
        })
        .unwrap_or(0)
}

/// `pool status -A --watch` while pods flip between Ready and not; RSS sampled every 10 s.
fn watch_memory(h: &Harness, secs: u64) {
    let mut cmd = llmd(h, &["pool", "status", "-A", "--watch"]);
    let mut child = cmd.stdin(Stdio::null()).stdout(Stdio::null()).stderr(Stdio::null()).spawn().expect("spawn watch");
    std::thread::sleep(Duration::from_secs(5));
    let pid = child.id();
    let rt = runtime();
    let client = rt.block_on(client(&h.kubeconfig_admin));
    let started = Instant::now();
    let mut samples = vec![(0u64, rss_kb(pid))];
    let mut flips = 0usize;
    let mut next_sample = 10;
    while started.elapsed().as_secs() < secs {
        let i = flips % 100;
        let ns = namespace_of(i);
        let api: Api<DynamicObject> = Api::namespaced_with(client.clone(), &ns, &resource("v1", "Pod"));
        let ready = if (flips / 100) % 2 == 0 { "False" } else { "True" };
        let patch = Patch::Merge(json!({"status": {"conditions": [
            {"type": "PodScheduled", "status": "True", "lastTransitionTime": LTT},
            {"type": "Ready", "status": ready, "lastTransitionTime": LTT}]}}));
        let name = format!("model-{i:04}-00");
        if let Err(e) = rt.block_on(api.patch_status(&name, &PatchParams::default(), &patch)) {
            die(&format!("churn {ns}/{name}: {e}"));
        }
        flips += 1;
        std::thread::sleep(Duration::from_millis(500));
        if started.elapsed().as_secs() >= next_sample {
            samples.push((next_sample, rss_kb(pid)));
            next_sample += 10;
        }
    }
    samples.push((started.elapsed().as_secs(), rss_kb(pid)));
    let _ = child.kill();
    let _ = child.wait();
    let first = samples.get(1).map_or(samples[0].1, |s| s.1);
    let last = samples.last().map_or(0, |s| s.1);
    let peak = samples.iter().map(|s| s.1).max().unwrap_or(0);
    println!(
        "pool status -A --watch at M, {secs}s of churn ({flips} pod status flips): RSS {:.0} MB after 10 s, {:.0} MB at the end, peak {:.0} MB (samples every 10 s: {})",
        mb(first),
        mb(last),
        mb(peak),
        samples.iter().map(|s| format!("{:.0}", mb(s.1))).collect::<Vec<_>>().join(" ")
    );
}

// ---------------------------------------------------------------------------------------------
// The storedVersions migration.

fn kubectl_out(h: &Harness, args: &[&str]) -> String {
    let out = h.kubectl(args);
    if !out.status.success() {
        die(&format!("kubectl {args:?}: {}", String::from_utf8_lossy(&out.stderr)));
    }
    String::from_utf8_lossy(&out.stdout).into_owned()
}

/// namespace/name → spec of every GRPCRoute.
fn grpcroute_specs(h: &Harness) -> std::collections::BTreeMap<String, Value> {
    let v: Value =
        serde_json::from_str(&kubectl_out(h, &["get", &format!("grpcroutes.v1.{GWAPI}"), "-A", "-o", "json"]))
            .expect("grpcroutes JSON");
    v["items"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|o| {
            (
                format!(
                    "{}/{}",
                    o["metadata"]["namespace"].as_str().unwrap_or(""),
                    o["metadata"]["name"].as_str().unwrap_or("")
                ),
                o["spec"].clone(),
            )
        })
        .collect()
}

fn migration(n: usize) {
    let h = harness::start().unwrap_or_else(|e| die(&e));
    upstream::install_grpcroute_stand_in(&h);
    let rt = runtime();
    let client = rt.block_on(client(&h.kubeconfig_admin));
    let namespaces: Vec<String> = (0..5).map(|i| format!("migrate-{i}")).collect();
    let mut objects: Vec<Value> = namespaces
        .iter()
        .map(|ns| json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": ns}}))
        .collect();
    rt.block_on(create_all(&client, std::mem::take(&mut objects)));
    for i in 0..n {
        objects.push(json!({
            "apiVersion": format!("{GWAPI}/v1alpha2"), "kind": "GRPCRoute",
            "metadata": {"name": format!("route-{i:05}"), "namespace": namespaces[i % namespaces.len()], "labels": {"n": i.to_string()}},
            "spec": {"hostnames": [format!("svc-{i}.example.com")],
                     "rules": [{"matches": [{"method": {"service": format!("pkg.Svc{i}"), "method": "Call"}}],
                                "backendRefs": [{"name": format!("backend-{i}"), "port": 9000 + (i % 1000)}]}]},
        }));
    }
    rt.block_on(create_all(&client, objects));
    h.apply_yaml(&grpcroute_crd("v1"));
    let crd = format!("grpcroutes.{GWAPI}");
    let stored = || kubectl_out(&h, &["get", "crd", &crd, "-o", "jsonpath={.status.storedVersions}"]);
    if stored() != r#"["v1alpha2","v1"]"# {
        die(&format!("storedVersions before: {}", stored()));
    }
    let before = grpcroute_specs(&h);
    let p = measure(&mut llmd(&h, &["doctor", "-A", "--fix=LLMD-CRD-009", "--yes"]));
    let after = grpcroute_specs(&h);
    let line = p.stderr.lines().find(|l| l.contains("migrated")).unwrap_or("(no 'migrated' line)").to_string();
    let lost = before.keys().filter(|k| !after.contains_key(*k)).count();
    let changed = before.iter().filter(|(k, v)| after.get(*k).is_some_and(|a| a != *v)).count();
    let ok = stored() == r#"["v1"]"# && before.len() == n && lost == 0 && changed == 0;
    println!(
        "\nstoredVersions migration of {n} GRPCRoutes: {:.1}s for the whole --fix run, {:.0} objects/s (goal ≥ 50: {}); \
         lost {lost}, changed {changed}, storedVersions now {}; peak RSS {:.0} MB; {line}",
        p.wall.as_secs_f64(),
        n as f64 / p.wall.as_secs_f64(),
        if n as f64 / p.wall.as_secs_f64() >= 50.0 && ok { "met" } else { "MISSED" },
        stored(),
        mb(p.max_rss_kb)
    );
}
