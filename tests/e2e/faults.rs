//! Issue 14: kubectl-llmd through the fault-injecting proxy (`faultproxy.rs`).

use crate::doctor_routing::{deploy, Opts};
use crate::faultproxy::{FaultProxy, Fault, Rule};
use crate::fixtures::cluster;
use crate::run::{llmd_command, run, Run};

fn via(proxy: &FaultProxy, args: &[&str]) -> Run {
    let mut cmd = llmd_command(args);
    cmd.env("KUBECONFIG", &proxy.kubeconfig);
    run(cmd)
}

#[test]
fn proxy_smoke() {
    let h = cluster();
    let ns = h.namespace("fault-smoke");
    deploy(h, &ns, &Opts::istio());
    let p = FaultProxy::start(h, 1);
    let r = via(&p, &["doctor", "-n", &ns, "-o", "json", "-v"]);
    eprintln!("{}\n{}\n{:?}", r.stdout, r.stderr, r.elapsed);
    p.set_rules(vec![Rule::new(Fault::Latency(std::time::Duration::from_millis(500)))]);
    let r = via(&p, &["doctor", "-n", &ns, "-o", "json", "-v"]);
    eprintln!("{}\n{:?}", r.stderr, r.elapsed);
    for s in p.log() { eprintln!("{} {} {:?} {:?}", s.method, s.target, s.fault, s.status); }
}
