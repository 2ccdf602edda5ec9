//! `doctor -f` on a dump of a broken cluster, taken with the documented command
//! (`llmd::collect::offline::DUMP_COMMAND`) and the real kubectl, gives the findings the live run
//! gives on that cluster. Runs on the lab: the documented command dumps every namespace.

use crate::common::{doctor_report, report_of, FINDINGS};
use crate::doctor_routing::{cond, deploy, Opts};
use crate::fixtures::{
    accepted_class, apply_files, gaie_crds, gateway_api_crds, gateway_class, wait_established,
    DESTINATION_RULE_STAND_IN_CRD,
};
use crate::harness::Harness;
use crate::lab::Lab;
use crate::run::{llmd, path_with};
use serde_json::{json, Value};
use std::collections::BTreeSet;
use std::process::Command;

/// The prerequisite's CRDs, the DestinationRule stand-in, and GatewayClass istio (Accepted) plus
/// `broken`, which no controller has accepted.
fn prerequisites(h: &Harness) {
    let mut files = gateway_api_crds("v1.3.0");
    files.extend(gaie_crds("v1.0.1"));
    apply_files(h, &files);
    h.apply_yaml(DESTINATION_RULE_STAND_IN_CRD);
    wait_established(h);
    accepted_class(h, "istio", "istio.io/gateway-controller");
    gateway_class(h, "broken", "example.com/none");
}

/// Run the documented dump command with the harness's kubectl (admin) into `dir/dump.yaml`.
fn dump(h: &Harness, dir: &std::path::Path) -> std::path::PathBuf {
    let kubectl_dir = h.kubectl_path().parent().expect("kubectl's directory").to_path_buf();
    let out = Command::new("sh")
        .arg("-c")
        .arg(llmd::collect::offline::DUMP_COMMAND)
        .current_dir(dir)
        .env("PATH", path_with(&kubectl_dir))
        .env("KUBECONFIG", &h.kubeconfig_admin)
        .env("KUBERC", "off")
        .env("KUBECACHEDIR", h.dir.join("kubectl-cache"))
        .output()
        .expect("sh");
    assert!(out.status.success(), "dump command: {}", String::from_utf8_lossy(&out.stderr));
    // Kinds the cluster does not serve are errors on the terminal, not a failed dump.
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(stderr.contains("the server doesn't have a resource type \"inferencemodels\""), "{stderr}");
    dir.join("dump.yaml")
}

/// Every finding as one comparable line (the whole finding: code, severity, object, message, hint).
fn findings(v: &Value) -> BTreeSet<String> {
    v["findings"].as_array().expect("findings").iter().map(Value::to_string).collect()
}

/// The codes of the checks a report skipped.
fn skipped(v: &Value) -> BTreeSet<String> {
    v["checks"]
        .as_array()
        .expect("checks")
        .iter()
        .filter(|c| c["status"] == "skip")
        .map(|c| c["code"].as_str().unwrap_or("").to_string())
        .collect()
}

#[test]
fn a_dump_of_a_broken_cluster_gives_the_live_findings() {
    let h = Lab::take();
    prerequisites(&h);
    let ns = h.namespace("dump");
    // A broken stack: route not accepted for a reason only its status shows, picker unavailable,
    // model servers not Ready, a DestinationRule without SIMPLE TLS; and a Gateway on a class no
    // controller accepted.
    let mut o = Opts::istio()
        .patch(
            "DestinationRule",
            json!({"spec": {"trafficPolicy": {"tls": {"mode": "ISTIO_MUTUAL", "insecureSkipVerify": null}}}}),
        )
        .status_patch(
            "Pod",
            json!({"containerStatuses": [{"name": "vllm", "image": "vllm/vllm-openai:v0.10.1", "imageID": "",
                   "ready": false, "restartCount": 4, "started": false,
                   "state": {"waiting": {"reason": "CrashLoopBackOff"}}}]}),
        );
    o.pods_ready = false;
    o.epp_available = Some(0);
    o.route_conditions =
        Some(vec![cond("Accepted", "False", "UnsupportedValue"), cond("ResolvedRefs", "True", "ResolvedRefs")]);
    deploy(&h, &ns, &o);
    h.apply_yaml(&format!(
        "apiVersion: gateway.networking.k8s.io/v1\nkind: Gateway\nmetadata: {{name: orphan, namespace: {ns}}}\nspec:\n  gatewayClassName: broken\n  listeners: [{{name: http, port: 80, protocol: HTTP}}]\n"
    ));

    let (live_run, live) = doctor_report(&h, &[]);
    live_run.expect_code(FINDINGS);
    let dir = tempfile::tempdir().expect("tempdir");
    let file = dump(&h, dir.path());
    let file = file.to_str().expect("utf-8 path");
    let offline_args = ["doctor", "-f", file, "-o", "json"];
    let offline = report_of(&llmd(&offline_args), &offline_args);

    let (live_findings, dump_findings) = (findings(&live), findings(&offline));
    for code in ["LLMD-RT-010", "LLMD-EPP-004", "LLMD-POD-002", "LLMD-IST-003", "LLMD-GWC-003"] {
        assert!(live_findings.iter().any(|f| f.contains(code)), "live run lacks {code}:\n{live_findings:#?}");
    }
    eprintln!("live run and dump: {} and {} findings", live_findings.len(), dump_findings.len());
    let only_live: Vec<_> = live_findings.difference(&dump_findings).collect();
    let only_dump: Vec<_> = dump_findings.difference(&live_findings).collect();
    assert!(
        only_live.is_empty() && only_dump.is_empty(),
        "only live:\n{only_live:#?}\nonly in the dump:\n{only_dump:#?}"
    );
    // The dump lacks only the server version and what ServiceAccounts may do (SubjectAccessReviews
    // are asked live): the checks reading them are the only ones skipped.
    let extra: BTreeSet<String> = skipped(&offline).difference(&skipped(&live)).cloned().collect();
    assert!(extra.contains("LLMD-CLU-001") && extra.contains("LLMD-EPP-007"), "{extra:?}");
    for c in
        offline["checks"].as_array().expect("checks").iter().filter(|c| extra.contains(c["code"].as_str().unwrap()))
    {
        let reason = if c["code"] == "LLMD-EPP-007" {
            "what ServiceAccounts may do cannot be known offline"
        } else {
            "the server version cannot be known offline"
        };
        assert_eq!(c["reason"], reason, "{c}");
    }
    let notes =
        offline["notes"].as_array().expect("notes").iter().map(|n| n.as_str().unwrap_or("")).collect::<Vec<_>>();
    assert!(
        notes
            .iter()
            .any(|n| n.starts_with("no object in the dump, taken as none in the cluster:")
                && n.contains("ReferenceGrants")),
        "{notes:?}"
    );

    // The table says the same, with the note.
    let table = llmd(&["doctor", "-f", file]);
    table.expect_code(1);
    assert!(table.stdout.contains("note: no object in the dump"), "{}", table.stdout);
    assert!(table.stdout.contains("Status: broken"), "{}", table.stdout);
}
