//! Issue 14: kubectl-llmd through the fault-injecting proxy (`faultproxy.rs`) in front of the shared
//! harness: what a user sees when the API server is slow, throttles, resets connections, sends
//! broken bodies, stops answering, or goes away and comes back. Every run is compared with a
//! fault-free run through the same proxy (same context name, same server URL), and the time each
//! run takes is printed (the closing note of issue 14 quotes these lines).

use crate::doctor_routing::{deploy, Opts, Shape};
use crate::faultproxy::{Fault, FaultProxy, Rule};
use crate::fixtures::{cluster, set_status};
use crate::harness::Harness;
use crate::mirror::mirror;
use crate::run::{llmd_command, run, Run};
use serde_json::{json, Value};
use std::io::{BufRead, BufReader};
use std::process::Stdio;
use std::sync::mpsc;
use std::time::{Duration, Instant};

fn via(proxy: &FaultProxy, args: &[&str]) -> Run {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", &proxy.kubeconfig).env("LLMD_CRDS_BASE_URL", &mirror().base);
    run(cmd)
}

/// Read-only runs of `gateway install` and `doctor --fix` on the shared harness: dry runs.
fn dry_runs(ns: &str) -> [Vec<String>; 2] {
    let v = |a: &[&str]| a.iter().map(|s| s.to_string()).collect::<Vec<_>>();
    [v(&["gateway", "install", "--crds-only", "--dry-run"]), v(&["doctor", "-n", ns, "--fix", "--dry-run"])]
}

/// A healthy agentgateway stack in a fresh namespace, and a proxy in front of the harness.
fn stack(prefix: &str, seed: u64) -> (&'static Harness, String, FaultProxy) {
    stack_with(prefix, seed, Opts::new(Shape::Agentgateway))
}

/// The agentgateway stack with one thing `--fix` repairs (LLMD-EPP-002: the pool names picker port
/// 9003, its Service serves 9002), so the dry run of `--fix` shows a diff validated by the server.
fn fixable_stack(prefix: &str, seed: u64) -> (&'static Harness, String, FaultProxy) {
    let mut o = Opts::new(Shape::Agentgateway);
    o.patch.push(("InferencePool".into(), json!({"spec": {"endpointPickerRef": {"port": {"number": 9003}}}})));
    stack_with(prefix, seed, o)
}

fn stack_with(prefix: &str, seed: u64, o: Opts) -> (&'static Harness, String, FaultProxy) {
    let h = cluster();
    let ns = h.namespace(prefix);
    deploy(h, &ns, &o);
    (h, ns, FaultProxy::start(h, seed))
}

/// The seconds of `-v`'s "collected the snapshot … in X s" line.
fn collected_seconds(stderr: &str) -> f64 {
    let line = stderr
        .lines()
        .find(|l| l.contains("collected the snapshot"))
        .unwrap_or_else(|| panic!("no -v timing:\n{stderr}"));
    let secs = line.rsplit(" in ").next().and_then(|t| t.trim().strip_suffix('s')).and_then(|t| t.parse().ok());
    secs.unwrap_or_else(|| panic!("no seconds in {line:?}"))
}

/// No panic, no backtrace: what a user sees on exit 2 is one error line and its hint.
fn assert_clean_failure(r: &Run, what: &str) {
    assert_eq!(r.code, 2, "{what}: exit code\nstdout:\n{}\nstderr:\n{}", r.stdout, r.stderr);
    assert!(!r.stderr.contains("panicked") && !r.stderr.contains("RUST_BACKTRACE"), "{what}: {}", r.stderr);
    assert!(r.stderr.lines().any(|l| l.starts_with("error: ")), "{what}: {}", r.stderr);
}

#[test]
fn half_a_second_per_request_changes_nothing_but_the_time() {
    let (_h, ns, proxy) = fixable_stack("fault-latency", 1);
    let doctor = ["doctor", "-n", ns.as_str(), "-o", "json", "-v"];
    let pools = ["pool", "status", "-n", ns.as_str(), "-o", "json"];
    let clean = via(&proxy, &doctor);
    let clean_pools = via(&proxy, &pools);
    clean.expect_code(1);
    clean_pools.expect_code(0);
    let dry: Vec<(Vec<String>, Run)> = dry_runs(&ns)
        .into_iter()
        .map(|a| {
            let r = via(&proxy, &a.iter().map(String::as_str).collect::<Vec<_>>());
            (a, r)
        })
        .collect();

    proxy.set_rules(vec![Rule::new(Fault::Latency(Duration::from_millis(500)))]);
    let slow = via(&proxy, &doctor);
    let secs = collected_seconds(&slow.stderr);
    eprintln!(
        "latency +500 ms/request: doctor exit {} in {:.2}s (-v: collected in {secs:.2}s; {:.2}s without latency)",
        slow.code,
        slow.elapsed.as_secs_f64(),
        collected_seconds(&clean.stderr)
    );
    slow.expect_code(clean.code);
    assert_eq!(slow.json(), clean.json(), "doctor's report changed under latency");
    // Requests overlap, but reading the cluster takes several round trips one after another.
    assert!(secs >= 1.0, "-v reports {secs}s: the latency was not applied");
    let slow_pools = via(&proxy, &pools);
    eprintln!(
        "latency +500 ms/request: pool status exit {} in {:.2}s",
        slow_pools.code,
        slow_pools.elapsed.as_secs_f64()
    );
    slow_pools.expect_code(0);
    assert_eq!(slow_pools.json(), clean_pools.json(), "pool status changed under latency");
    for (args, clean) in &dry {
        let slow = via(&proxy, &args.iter().map(String::as_str).collect::<Vec<_>>());
        eprintln!(
            "latency +500 ms/request: {} exit {} in {:.2}s",
            args.join(" "),
            slow.code,
            slow.elapsed.as_secs_f64()
        );
        slow.expect_code(clean.code);
        assert_eq!(slow.stdout, clean.stdout, "{} printed another plan under latency", args.join(" "));
    }
    assert!(proxy.log().iter().filter(|s| s.fault.is_some()).count() > 20);
}

#[test]
fn truncated_or_garbled_bodies_exit_2_naming_the_resource() {
    let (_h, ns, proxy) = stack("fault-body", 2);
    let doctor = vec!["doctor", "-n", ns.as_str(), "-o", "json"];
    let pools = vec!["pool", "status", "-n", ns.as_str()];
    for fault in [Fault::Truncate, Fault::Garble] {
        // Each list read by both commands, each command once per fault (a truncated read is retried,
        // which takes seconds).
        for (resource, path, args) in
            [("services", "/services?", doctor.clone()), ("inferencepools", "/inferencepools?", pools.clone())]
        {
            // Every answer for that list is broken (a retried read meets the same fault again).
            proxy.set_rules(vec![Rule::new(fault.clone()).methods(&["GET"]).path(path)]);
            {
                let mut args = args.clone();
                args.push("--request-timeout=5s");
                let r = via(&proxy, &args);
                let what = format!("{fault:?} {resource}: {}", args.join(" "));
                eprintln!(
                    "{what}: exit {} in {:.2}s: {}",
                    r.code,
                    r.elapsed.as_secs_f64(),
                    r.stderr.trim().replace('\n', " | ")
                );
                assert_clean_failure(&r, &what);
                assert!(r.stderr.contains(resource), "{what}: the error does not name {resource}: {}", r.stderr);
                assert!(r.stdout.is_empty(), "{what}: a partial report was printed:\n{}", r.stdout);
                assert!(
                    !r.stderr.contains("certificate-authority"),
                    "{what}: a cut connection is not a TLS setup problem: {}",
                    r.stderr
                );
            }
        }
    }
}

#[test]
fn a_server_that_stops_answering_is_given_up_within_the_request_timeout() {
    let (_h, ns, proxy) = stack("fault-blackhole", 3);
    proxy.set_rules(vec![Rule::new(Fault::Blackhole).methods(&["GET"]).path("/services?")]);
    for args in [vec!["doctor", "-n", ns.as_str()], vec!["pool", "status", "-n", ns.as_str()]] {
        let mut args = args.clone();
        args.push("--request-timeout=2s");
        let r = via(&proxy, &args);
        eprintln!(
            "blackhole on services: {} exit {} in {:.2}s: {}",
            args[0],
            r.code,
            r.elapsed.as_secs_f64(),
            r.stderr.trim().replace('\n', " | ")
        );
        assert_clean_failure(&r, "blackhole");
        assert!(r.stderr.contains("services"), "{}", r.stderr);
        assert!(r.stderr.contains("--request-timeout"), "the hint names the flag: {}", r.stderr);
        assert!(r.elapsed < Duration::from_secs(5), "took {:?} with --request-timeout=2s", r.elapsed);
    }
}

#[test]
fn an_api_server_gone_mid_run_ends_it_with_exit_2_naming_the_step() {
    let (_h, ns, proxy) = stack("fault-gone", 4);
    // Slow enough that the run is still reading when the server goes.
    proxy.set_rules(vec![Rule::new(Fault::Latency(Duration::from_millis(300)))]);
    for args in [
        vec!["doctor", "-n", ns.as_str(), "--request-timeout=3s"],
        vec!["pool", "status", "-n", ns.as_str(), "--request-timeout=3s"],
    ] {
        let mut cmd = llmd_command(&args);
        cmd.env("KUBECONFIG", &proxy.kubeconfig);
        let t = std::thread::spawn(move || run(cmd));
        std::thread::sleep(Duration::from_millis(800));
        let gone = Instant::now();
        proxy.down();
        let r = t.join().unwrap();
        proxy.up();
        eprintln!(
            "API server gone mid-run: {} exit {} {:.2}s after it went ({:.2}s in all): {}",
            args[0],
            r.code,
            gone.elapsed().as_secs_f64(),
            r.elapsed.as_secs_f64(),
            r.stderr.trim().replace('\n', " | ")
        );
        assert_clean_failure(&r, "server gone");
        assert!(r.stderr.contains("cannot "), "the error names the step: {}", r.stderr);
        assert!(r.stdout.is_empty(), "a partial report was printed:\n{}", r.stdout);
        assert!(
            !r.stderr.contains("certificate-authority"),
            "a server that went away is not a TLS setup problem: {}",
            r.stderr
        );
        assert!(gone.elapsed() < Duration::from_secs(4), "exit 2 came {:?} after the server went", gone.elapsed());
    }
}

/// Lines printed by a child, one channel per stream.
fn lines(stream: impl std::io::Read + Send + 'static) -> mpsc::Receiver<String> {
    let (tx, rx) = mpsc::channel();
    std::thread::spawn(move || {
        for line in BufReader::new(stream).lines().map_while(Result::ok) {
            if tx.send(line).is_err() {
                break;
            }
        }
    });
    rx
}

fn wait_line(rx: &mpsc::Receiver<String>, needle: &str, within: Duration) -> Vec<String> {
    let deadline = Instant::now() + within;
    let mut seen = Vec::new();
    while Instant::now() < deadline {
        if let Ok(line) = rx.recv_timeout(Duration::from_millis(100)) {
            let hit = line.contains(needle);
            seen.push(line);
            if hit {
                return seen;
            }
        }
    }
    panic!("no line with {needle:?} within {within:?}; saw:\n{}", seen.join("\n"));
}

#[test]
fn watch_survives_the_api_server_going_away_and_says_so() {
    let (h, ns, proxy) = stack("fault-watch", 5);
    let mut child = llmd_command(&["pool", "status", "-n", &ns, "--watch"])
        .env("KUBECONFIG", &proxy.kubeconfig)
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let out = lines(child.stdout.take().unwrap());
    let err = lines(child.stderr.take().unwrap());
    let first = wait_line(&out, "llm-pool", Duration::from_secs(30));
    assert!(first.last().unwrap().contains("2/2"), "{first:?}");

    proxy.down();
    let went = Instant::now();
    let lost = wait_line(&err, "reconnecting", Duration::from_secs(10));
    eprintln!("--watch noticed the loss after {:.2}s: {}", went.elapsed().as_secs_f64(), lost.join(" | "));
    // A change while the server is away (straight to the API server, not through the proxy).
    set_status(
        h,
        "pod",
        Some(&ns),
        "vllm-0",
        &json!({"conditions": [{"type": "Ready", "status": "False", "lastTransitionTime": "2026-01-02T00:00:00Z"}]}),
    );
    std::thread::sleep(Duration::from_secs(2));
    let back = Instant::now();
    proxy.up();
    let said = wait_line(&err, "reconnected", Duration::from_secs(20));
    eprintln!(
        "--watch reconnected {:.2}s after the server came back: {}",
        back.elapsed().as_secs_f64(),
        said.last().unwrap()
    );
    let redraw = wait_line(&out, "1/2", Duration::from_secs(20));
    assert!(redraw.last().unwrap().contains("llm-pool"), "{redraw:?}");
    assert!(child.try_wait().unwrap().is_none(), "--watch exited");
    let _ = child.kill();
    let _ = child.wait();
}

/// The share of requests that got a fault, and whether each of them was asked again.
fn retried(proxy: &FaultProxy) -> (usize, usize) {
    let log = proxy.log();
    let faulted: Vec<usize> = (0..log.len()).filter(|&i| log[i].fault.is_some()).collect();
    let again = faulted
        .iter()
        .filter(|&&i| {
            log[i + 1..].iter().any(|s| s.method == log[i].method && s.target == log[i].target && s.fault.is_none())
        })
        .count();
    (faulted.len(), again)
}

/// 429 and 503 (each with `Retry-After: 1`) and connection resets, each on a tenth of the GETs (about
/// 30% in all, two seeds): every faulted read is asked again and the result is the fault-free one.
pub fn read_faults() -> Vec<Rule> {
    [Fault::Status(503), Fault::Status(429), Fault::Reset]
        .into_iter()
        .map(|f| Rule::new(f).methods(&["GET"]).not_path("watch=").fraction(0.1))
        .collect()
}

#[test]
fn throttled_and_reset_reads_are_retried_to_the_same_result() {
    let (_h, ns, proxy) = fixable_stack("fault-retry", 6);
    let [install, fix] = dry_runs(&ns);
    let install: Vec<&str> = install.iter().map(String::as_str).collect();
    let fix: Vec<&str> = fix.iter().map(String::as_str).collect();
    let doctor = ["doctor", "-n", ns.as_str(), "-o", "json"];
    let pools = ["pool", "status", "-n", ns.as_str(), "-o", "json"];
    let commands: [&[&str]; 4] = [&doctor, &pools, &install, &fix];
    let clean: Vec<Run> = commands.iter().map(|a| via(&proxy, a)).collect();
    let mut kinds = std::collections::BTreeSet::new();
    for seed in [14, 15] {
        proxy.reseed(seed);
        // Every seed for doctor and pool status; the dry runs of gateway install and --fix once.
        let n = if seed == 14 { 4 } else { 2 };
        for (args, reference) in commands.iter().zip(&clean).take(n) {
            proxy.set_rules(read_faults());
            proxy.clear_log();
            let r = via(&proxy, args);
            let (faulted, again) = retried(&proxy);
            kinds.extend(proxy.log().into_iter().filter_map(|s| s.fault));
            eprintln!(
                "503/429/reset on ~30% of GETs (seed {seed}): {} exit {} in {:.2}s, {faulted} fault(s), {again} retried {}",
                args.join(" ").replace(&ns, "NS"),
                r.code,
                r.elapsed.as_secs_f64(),
                r.stderr.trim().replace('\n', " | ")
            );
            r.expect_code(reference.code);
            assert_eq!(r.stdout, reference.stdout, "{}: the result differs from the fault-free run", args.join(" "));
            assert_eq!(again, faulted, "{}: a faulted read was not retried", args[0]);
        }
    }
    assert_eq!(kinds.len(), 3, "every kind of fault was injected: {kinds:?}");
}

/// `doctor --fix` whose write is answered 503 (before it reaches the server, or after it was
/// applied): the write is not repeated blindly; either it is reported as failed, or the object
/// is read again before anything else is written to it.
#[test]
fn a_write_answered_503_is_never_repeated_blindly() {
    for (seed, fault) in [(7, Fault::Status(503)), (8, Fault::StatusAfterForward(503))] {
        let mut o = Opts::new(Shape::Agentgateway);
        o.patch.push(("InferencePool".into(), json!({"spec": {"endpointPickerRef": {"port": {"number": 9003}}}})));
        let h = cluster();
        let ns = h.namespace("fault-write");
        deploy(h, &ns, &o);
        let proxy = FaultProxy::start(h, seed);
        proxy.set_rules(vec![Rule::new(fault.clone()).methods(&["PATCH"]).not_path("dryRun").times(1)]);
        let r = via(&proxy, &["doctor", "-n", &ns, "--fix=LLMD-EPP-002", "--yes"]);
        let (faulted, next) = proxy.first_fault_and_next().expect("the write was faulted");
        eprintln!(
            "write answered {fault:?}: --fix exit {} in {:.2}s; next request for the object: {:?}; {}",
            r.code,
            r.elapsed.as_secs_f64(),
            next.as_ref().map(|s| format!("{} {}", s.method, s.target)),
            r.stderr.lines().filter(|l| l.contains('✖') || l.contains('✔')).collect::<Vec<_>>().join(" | ")
        );
        if let Some(n) = next {
            assert_eq!(
                n.method, "GET",
                "{} {} was repeated without reading the object first",
                faulted.method, faulted.target
            );
        } else {
            assert!(r.stderr.contains('✖'), "a write that got 503 is reported as failed: {}", r.stderr);
        }
        let pool: Value = serde_json::from_slice(
            &h.kubectl(&["get", "inferencepools.inference.networking.k8s.io", "llm-pool", "-n", &ns, "-o", "json"])
                .stdout,
        )
        .unwrap();
        let port = &pool["spec"]["endpointPickerRef"]["port"]["number"];
        match fault {
            Fault::Status(_) if r.stderr.contains('✖') => assert_eq!(port, 9003, "reported failed but written"),
            _ => assert!(port == 9002 || r.stderr.contains('✖'), "neither written nor reported: {}", r.stderr),
        }
    }
}
