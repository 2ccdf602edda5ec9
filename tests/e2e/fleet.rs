//! Issue 17: `doctor` and `pool status` over several contexts of one merged kubeconfig — the shared
//! harness with a healthy stack, the lab harness with a broken one (same namespace name), a context
//! whose server port is closed, one whose server accepts connections and never answers, and one
//! whose user may read nothing — and `pool status -o dot|mermaid`.

use crate::common::{normalise, COULD_NOT_RUN, FINDINGS, OK};
use crate::doctor_routing::{deploy, Opts};
use crate::fixtures::{cluster, install_prerequisites};
use crate::harness::{assert_success, Harness};
use crate::lab::Lab;
use crate::run::{llmd, llmd_with_kubeconfig_env};
use serde_json::Value;
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// `source`'s only context, renamed to `name` (its cluster and user too, so that several harnesses
/// merge without clashing), optionally pointing at another server; written into `dir`.
fn kubeconfig_named(h: &Harness, source: &Path, name: &str, server: Option<&str>, dir: &Path) -> PathBuf {
    let out = h.kubectl_as(source, &["config", "view", "--raw", "--flatten", "-o", "json"]);
    assert_success(&out, "kubectl config view");
    let mut v: Value = serde_json::from_slice(&out.stdout).expect("kubeconfig JSON");
    v["clusters"][0]["name"] = name.into();
    v["users"][0]["name"] = name.into();
    v["contexts"][0]["name"] = name.into();
    v["contexts"][0]["context"]["cluster"] = name.into();
    v["contexts"][0]["context"]["user"] = name.into();
    v["current-context"] = name.into();
    if let Some(s) = server {
        v["clusters"][0]["cluster"]["server"] = s.into();
    }
    let path = dir.join(format!("{name}.kubeconfig"));
    std::fs::write(&path, serde_json::to_string_pretty(&v).unwrap()).unwrap();
    path
}

/// A port nothing listens on.
fn closed_port() -> u16 {
    TcpListener::bind("127.0.0.1:0").unwrap().local_addr().unwrap().port()
}

/// Stable text for snapshots: the namespace and every loopback port replaced.
fn redact(text: &str, ns: &str) -> String {
    normalise(text, &[(ns, "NS")])
}

fn row<'a>(table: &'a str, context: &str) -> &'a str {
    table
        .lines()
        .find(|l| l.split_whitespace().next() == Some(context))
        .unwrap_or_else(|| panic!("no row for {context}:\n{table}"))
}

fn context<'a>(v: &'a Value, name: &str) -> &'a Value {
    v["contexts"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["context"] == name)
        .unwrap_or_else(|| panic!("no {name}: {v:#}"))
}

#[test]
fn fleet_doctor_and_pool_status_across_five_contexts() {
    let healthy = cluster();
    let lab = Lab::take();
    install_prerequisites(&lab, &["istio"]);
    let ns = healthy.namespace("fleet");
    assert_success(&lab.kubectl(&["create", "namespace", &ns]), "create the namespace in the lab");
    deploy(healthy, &ns, &Opts::istio());
    let mut broken = Opts::istio();
    broken.pods_ready = false;
    deploy(&lab, &ns, &broken);

    // A server that accepts connections and never answers: only the request timeout ends its context.
    let hung = TcpListener::bind("127.0.0.1:0").unwrap();
    let hung_url = format!("https://{}", hung.local_addr().unwrap());
    let down_url = format!("https://127.0.0.1:{}", closed_port());
    let dir = tempfile::tempdir().unwrap();
    let files = [
        kubeconfig_named(healthy, &healthy.kubeconfig_admin, "healthy", None, dir.path()),
        kubeconfig_named(&lab, &lab.kubeconfig_admin, "broken", None, dir.path()),
        kubeconfig_named(healthy, &healthy.kubeconfig_admin, "down", Some(&down_url), dir.path()),
        kubeconfig_named(healthy, &healthy.kubeconfig_admin, "hung", Some(&hung_url), dir.path()),
        kubeconfig_named(healthy, &healthy.kubeconfig_nogrants, "nobody", None, dir.path()),
    ];
    let kubeconfig = std::env::join_paths(&files).unwrap().into_string().unwrap();
    let run = |args: &[&str]| llmd_with_kubeconfig_env(args, &kubeconfig);
    let all = "healthy,broken,down,hung,nobody";
    let timeout = "--request-timeout=5s";

    // The table: one row per context, then the findings by context, then the fleet's verdict line.
    let table = run(&["doctor", "--contexts", all, "-n", &ns, timeout]);
    table.expect_code(2);
    let out = &table.stdout;
    let h = row(out, "healthy");
    assert!(h.contains("v1.36.3") && h.contains("Gateway API v1.3.0") && h.contains("1/1"), "{h}");
    assert!(h.trim_end().ends_with("healthy"), "{h}");
    let b = row(out, "broken");
    assert!(b.contains("0/1") && b.contains("Istio") && b.trim_end().ends_with("broken"), "{b}");
    assert!(row(out, "down").trim_end().ends_with("unreachable"), "{out}");
    assert!(row(out, "hung").trim_end().ends_with("unreachable"), "{out}");
    assert!(row(out, "nobody").trim_end().ends_with("forbidden"), "{out}");
    assert!(out.contains("Context broken") && out.contains("LLMD-POD-002"), "{out}");
    assert!(out.contains("Connection refused"), "the closed port says so: {out}");
    assert!(out.contains("raise --request-timeout"), "the hung server says so: {out}");
    assert!(out.contains("doctor could not run a single check"), "{out}");
    assert!(out.contains("✖ Fleet: 1 healthy, 1 broken, 1 forbidden, 2 unreachable — 5 contexts"), "{out}");
    // The hung context ends at its own timeout; the others do not wait for it.
    assert!(table.elapsed < Duration::from_secs(15), "took {:?}", table.elapsed);
    eprintln!("fleet timing: 5 contexts, one silent (5s timeout): {:.2}s", table.elapsed.as_secs_f64());

    let wide = run(&["doctor", "--contexts", "healthy,broken", "-n", &ns, "-o", "wide"]);
    wide.expect_code(1);
    assert!(wide.stdout.starts_with("CONTEXT") && wide.stdout.lines().next().unwrap().ends_with("CODES"));
    assert!(row(&wide.stdout, "broken").contains("LLMD-POD-002"), "{}", wide.stdout);
    assert!(row(&wide.stdout, "healthy").trim_end().ends_with("<none>"), "{}", wide.stdout);

    // JSON: the documented contract (docs/fleet.md), the same exit code.
    let json = run(&["doctor", "--contexts", all, "-n", &ns, timeout, "-o", "json"]);
    json.expect_code(2);
    let v = json.json();
    assert_eq!(v["schemaVersion"], 1);
    assert_eq!(v["summary"]["contexts"], 5);
    assert_eq!(v["summary"]["exitCode"], 2);
    assert_eq!(
        v["summary"]["verdicts"],
        serde_json::json!({"healthy": 1, "degraded": 0, "broken": 1, "forbidden": 1, "unreachable": 2, "invalid": 0})
    );
    let order: Vec<&str> = v["contexts"].as_array().unwrap().iter().map(|c| c["context"].as_str().unwrap()).collect();
    assert_eq!(order, ["healthy", "broken", "down", "hung", "nobody"], "the order asked for");
    for c in v["contexts"].as_array().unwrap() {
        for key in [
            "context",
            "server",
            "serverVersion",
            "verdict",
            "exitCode",
            "bundles",
            "providers",
            "pools",
            "errors",
            "warnings",
            "codes",
            "error",
            "report",
        ] {
            assert!(c.get(key).is_some(), "{key} missing: {c:#}");
        }
    }
    let (hj, bj, dj) = (context(&v, "healthy"), context(&v, "broken"), context(&v, "down"));
    assert_eq!((hj["verdict"].as_str(), hj["exitCode"].as_u64()), (Some("healthy"), Some(0)));
    assert_eq!(hj["pools"], serde_json::json!({"ready": 1, "total": 1}));
    assert_eq!(hj["bundles"][0]["versions"], serde_json::json!(["v1.3.0"]));
    assert_eq!((bj["verdict"].as_str(), bj["exitCode"].as_u64()), (Some("broken"), Some(1)));
    assert_eq!((dj["verdict"].as_str(), dj["exitCode"].as_u64()), (Some("unreachable"), Some(2)));
    assert!(dj["report"].is_null() && dj["error"]["message"].as_str().unwrap().contains(&down_url), "{dj:#}");
    assert_eq!(context(&v, "nobody")["verdict"], "forbidden");

    // The broken cluster's findings are exactly what a single-context run reports.
    let single = run(&["doctor", "--context", "broken", "-n", &ns, "-o", "json"]);
    single.expect_code(1);
    let single = single.json();
    assert_eq!(bj["report"]["findings"], single["findings"]);
    assert_eq!(bj["report"]["checks"], single["checks"]);
    assert_eq!(bj["report"]["summary"], single["summary"]);
    assert_eq!(bj["errors"], single["summary"]["errors"]);
    let yaml = run(&["doctor", "--contexts", "healthy,broken", "-n", &ns, "-o", "yaml"]);
    yaml.expect_code(1);
    let from_yaml: Value = serde_saphyr::from_str(&yaml.stdout).unwrap();
    assert_eq!(from_yaml["contexts"][1]["report"]["findings"], single["findings"]);

    // Exit codes: the worst context's.
    run(&["doctor", "--contexts", "healthy", "-n", &ns]).expect_code(0);
    run(&["doctor", "--contexts", "healthy,broken", "-n", &ns]).expect_code(1);
    run(&["doctor", "--contexts", "healthy,broken", "-n", &ns, "--fail-on", "never"]).expect_code(0);
    let every = run(&["doctor", "--all-contexts", "-n", &ns, timeout, "-o", "json"]);
    every.expect_code(2);
    assert_eq!(every.json()["summary"]["contexts"], 5, "every context of the merged kubeconfig");

    // A context whose kubeconfig entry cannot be used is a row too.
    let orphan = dir.path().join("orphan.kubeconfig");
    std::fs::write(
        &orphan,
        "apiVersion: v1\nkind: Config\nclusters: []\nusers: [{name: orphan, user: {token: t}}]\n\
         contexts: [{name: orphan, context: {cluster: missing, user: orphan}}]\n",
    )
    .unwrap();
    let with_orphan = format!("{kubeconfig}:{}", orphan.display());
    let r = llmd_with_kubeconfig_env(&["doctor", "--contexts", "healthy,orphan", "-n", &ns], &with_orphan);
    r.expect_code(2);
    assert!(row(&r.stdout, "orphan").trim_end().ends_with("invalid"), "{}", r.stdout);
    assert!(row(&r.stdout, "healthy").trim_end().ends_with("healthy"), "{}", r.stdout);
    assert!(r.stdout.contains("Context orphan: invalid") && r.stdout.contains("missing"), "{}", r.stdout);

    // Flags that pick or repair one cluster are refused with a fleet; names are checked first.
    for (args, says) in [
        (vec!["doctor", "--contexts", "healthy", "--fix"], "--fix cannot be combined"),
        (vec!["doctor", "--all-contexts", "-f", "examples/broken"], "-f cannot be combined"),
        (vec!["doctor", "--contexts", "healthy", "--context", "broken"], "--context cannot be combined"),
        (vec!["doctor", "--contexts", "healthy,nope"], "context \"nope\" not found"),
        (vec!["pool", "status", "--contexts", "healthy", "--watch"], "--watch cannot be combined"),
        (vec!["pool", "status", "--contexts", "healthy", "-o", "dot"], "-o dot/mermaid cannot be combined"),
        (vec!["doctor", "-o", "mermaid"], "only `pool status` has them"),
    ] {
        let r = run(&args);
        r.expect_code(2);
        assert!(r.stderr.contains(says) && r.stderr.contains("hint:"), "{args:?}: {}", r.stderr);
        assert!(r.stdout.is_empty(), "{args:?}: {}", r.stdout);
    }
    let r = run(&["doctor", "--contexts", "healthy,nope"]);
    r.expect_code(COULD_NOT_RUN);
    assert!(r.stderr.contains("available contexts: healthy, broken, down, hung, nobody"), "{}", r.stderr);

    // Completion of --contexts: names from the merged kubeconfig, the one after the last comma.
    let complete = |words: &[&str]| {
        let mut args = vec!["__complete", "--"];
        args.extend_from_slice(words);
        let r = run(&args);
        r.expect_code(0);
        r.stdout
    };
    assert_eq!(complete(&["doctor", "--contexts", ""]), "broken\ndown\nhealthy\nhung\nnobody\n:6\n");
    assert_eq!(complete(&["pool", "status", "--contexts=broken,h"]), "broken,healthy\nbroken,hung\n:6\n");
    assert_eq!(
        complete(&["doctor", "--contexts", "healthy,broken,"]),
        "healthy,broken,down\nhealthy,broken,hung\nhealthy,broken,nobody\n:6\n"
    );

    // pool status: one row per pool with its context; a context that cannot be read is a row saying so.
    let pools = run(&["pool", "status", "--all-contexts", "-n", &ns, timeout]);
    pools.expect_code(2);
    assert!(pools.stdout.starts_with("CONTEXT"), "{}", pools.stdout);
    assert!(row(&pools.stdout, "healthy").contains("llm-pool") && row(&pools.stdout, "healthy").ends_with("Ready"));
    assert!(row(&pools.stdout, "broken").contains("no ready model servers (LLMD-POD-002)"), "{}", pools.stdout);
    assert!(row(&pools.stdout, "down").trim_end().ends_with("unreachable"), "{}", pools.stdout);
    assert!(pools.stderr.contains("error: context down is unreachable"), "{}", pools.stderr);
    let pj = run(&["pool", "status", "--contexts", "healthy,broken,down", "-n", &ns, "-o", "json"]);
    pj.expect_code(2);
    let pj = pj.json();
    assert_eq!(pj["schemaVersion"], 1);
    assert_eq!(context(&pj, "broken")["pools"][0]["endpoints"], serde_json::json!({"ready": 0, "total": 2}));
    assert_eq!(context(&pj, "healthy")["pools"][0]["status"], "Ready");
    assert_eq!(context(&pj, "down")["verdict"], "unreachable");
    run(&["pool", "status", "--contexts", "healthy,broken", "-n", &ns]).expect_code(0);

    // Wall time: the fleet run against the same contexts one after another (for the closing note), best of 3.
    // One by one, each exits with its own verdict: healthy, findings, refused connection, no rights.
    let reachable = ["healthy", "broken", "down", "nobody"];
    let codes = [OK, FINDINGS, COULD_NOT_RUN, COULD_NOT_RUN];
    let mut one_by_one = Duration::MAX;
    let mut fleet_best = Duration::MAX;
    let mut fleet = None;
    for _ in 0..3 {
        let started = Instant::now();
        for (c, code) in reachable.iter().zip(codes) {
            run(&["doctor", "--context", c, "-n", &ns]).expect_code(code);
        }
        one_by_one = one_by_one.min(started.elapsed());
        let r = run(&["doctor", "--contexts", &reachable.join(","), "-n", &ns]);
        r.expect_code(2);
        fleet_best = fleet_best.min(r.elapsed);
        fleet = Some(r);
    }
    let fleet = fleet.unwrap();
    eprintln!(
        "fleet timing: {} contexts one after another {:.2}s, as one fleet run {:.2}s (best of 3)",
        reachable.len(),
        one_by_one.as_secs_f64(),
        fleet_best.as_secs_f64()
    );
    // (Not asserted: on this shared 2-core machine, a few tenths of a second are within the noise.)

    // What a user does notice: two silent clusters cost one timeout, not two.
    let hung_too = kubeconfig_named(healthy, &healthy.kubeconfig_admin, "hung-too", Some(&hung_url), dir.path());
    let two_silent = format!("{kubeconfig}:{}", hung_too.display());
    let r = llmd_with_kubeconfig_env(
        &["doctor", "--contexts", "hung,hung-too", "--request-timeout=3s", "-o", "json"],
        &two_silent,
    );
    r.expect_code(2);
    assert_eq!(r.json()["summary"]["verdicts"]["unreachable"], 2, "{}", r.stdout);
    assert!(r.elapsed < Duration::from_millis(5500), "two 3s timeouts took {:?}: not concurrent", r.elapsed);
    eprintln!("fleet timing: 2 silent contexts with a 3s timeout: {:.2}s", r.elapsed.as_secs_f64());
    // (Without the hung context, whose message depends on which timeout fires first.)
    insta::assert_snapshot!("fleet_table", redact(&fleet.stdout, &ns));
    drop(hung);
}

#[test]
fn pool_status_draws_the_routing_picture() {
    let h = cluster();
    let ns = h.namespace("graph");
    deploy(h, &ns, &Opts::istio());
    let kc = h.kubeconfig_admin.to_str().unwrap().to_string();
    let dot = llmd(&["pool", "status", "--kubeconfig", &kc, "-n", &ns, "-o", "dot"]);
    dot.expect_code(0);
    assert!(dot.stdout.starts_with("digraph routing {") && dot.stdout.ends_with("}\n"), "{}", dot.stdout);
    for node in
        ["GatewayClass istio", "Gateway NS/inference-gateway", "HTTPRoute NS/llm-route", "InferencePool NS/llm-pool"]
    {
        assert!(redact(&dot.stdout, &ns).contains(node), "{node}: {}", dot.stdout);
    }
    assert!(!dot.stdout.contains("dashed"), "a healthy picture has no broken link: {}", dot.stdout);
    insta::assert_snapshot!("graph_healthy_dot", redact(&dot.stdout, &ns));

    // Model servers down: the links into the pool and its pods are marked broken.
    let ready = Opts::istio();
    let mut down = ready.clone();
    down.pods_ready = false;
    let broken_ns = h.namespace("graph-broken");
    deploy(h, &broken_ns, &down);
    let dot = llmd(&["pool", "status", "--kubeconfig", &kc, "-n", &broken_ns, "-o", "dot"]);
    dot.expect_code(0);
    let marked: Vec<&str> = dot.stdout.lines().filter(|l| l.contains("style=dashed")).collect();
    assert!(marked.iter().any(|l| l.contains("✖ LLMD-POD-002")), "{}", dot.stdout);
    insta::assert_snapshot!("graph_broken_dot", redact(&dot.stdout, &broken_ns));
    let mermaid = llmd(&["pool", "status", "--kubeconfig", &kc, "-n", &broken_ns, "-o", "mermaid"]);
    mermaid.expect_code(0);
    assert!(mermaid.stdout.starts_with("flowchart LR\n"), "{}", mermaid.stdout);
    assert!(mermaid.stdout.contains("-.->|\"✖ LLMD-POD-002\"|"), "{}", mermaid.stdout);
    assert!(mermaid.stdout.contains("class ") && mermaid.stdout.contains(" broken"), "{}", mermaid.stdout);
    insta::assert_snapshot!("graph_broken_mermaid", redact(&mermaid.stdout, &broken_ns));
}
