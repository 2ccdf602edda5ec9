//! Issue 14: kubectl-llmd through the fault-injecting proxy (`faultproxy.rs`).

use crate::doctor_routing::{deploy, Opts};
use crate::faultproxy::{FaultProxy, Fault, Rule};
use crate::fixtures::cluster;
use crate::run::{llmd_command, run, Run};
use std::time::Duration;

fn via(proxy: &FaultProxy, args: &[&str]) -> Run {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", &proxy.kubeconfig);
    run(cmd)
}

#[test]
fn proxy_explore() {
    let h = cluster();
    let ns = h.namespace("fault-smoke");
    deploy(h, &ns, &Opts::istio());
    let p = FaultProxy::start(h, 1);
    for (name, rules) in [
        ("503", vec![Rule::new(Fault::Status(503)).methods(&["GET"]).fraction(0.3)]),
        ("429", vec![Rule::new(Fault::Status(429)).methods(&["GET"]).fraction(0.3)]),
        ("reset", vec![Rule::new(Fault::Reset).methods(&["GET"]).fraction(0.3)]),
        ("trunc", vec![Rule::new(Fault::Truncate).path("/services").times(1)]),
        ("garble", vec![Rule::new(Fault::Garble).path("/services").times(1)]),
        ("garble-pools", vec![Rule::new(Fault::Garble).path("/inferencepools").times(1)]),
        ("blackhole", vec![Rule::new(Fault::Blackhole).path("/services").times(1)]),
    ] {
        p.set_rules(rules);
        let r = via(&p, &["doctor", "-n", &ns, "-o", "json", "--request-timeout=3s"]);
        eprintln!("=== {name}: code {} in {:.2}s\n{}\nstdout {} bytes", r.code, r.elapsed.as_secs_f64(), r.stderr, r.stdout.len());
    }
    p.set_rules(vec![Rule::new(Fault::Latency(Duration::from_millis(300)))]);
    let mut cmd = llmd_command(&["doctor", "-n", &ns, "-o", "json", "--request-timeout=3s"]);
    cmd.env("KUBECONFIG", &p.kubeconfig);
    let t = std::thread::spawn(move || run(cmd));
    std::thread::sleep(Duration::from_millis(700));
    p.down();
    let r = t.join().unwrap();
    eprintln!("=== down: code {} in {:.2}s\n{}", r.code, r.elapsed.as_secs_f64(), r.stderr);
    p.up();
    p.set_rules(vec![]);
    let r = via(&p, &["doctor", "-n", &ns, "-o", "json", "--request-timeout=3s"]);
    eprintln!("=== up again: code {} in {:.2}s\n{}", r.code, r.elapsed.as_secs_f64(), r.stderr);
}
