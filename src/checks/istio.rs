//! Checks: Istio specifics of InferencePool routing. Istio's gateway speaks TLS to the endpoint
//! picker only when a DestinationRule for the EPP host says `tls.mode: SIMPLE` with
//! `insecureSkipVerify: true` (the picker serves a self-signed certificate). These checks run only
//! for pools served through a Gateway whose class is Istio's.

use super::endpoint_picker::serves_plaintext;
use super::gatewayclasses::{controller_container, controller_deployments, image_version, upgrade_hint};
use super::pools::{effective_pools, pool_path};
use super::{Check, CheckContext, Issue};
use crate::catalog::providers::{is_istio_family, provider};
use crate::catalog::{provider_for_controller, ProviderId};
use crate::findings::Category;
use crate::model::{groups, ClientTls, DestinationRuleView, InferencePoolView, ObjectRef, DEFAULT_EPP_PORT};
use crate::repair::{Op, Repair};
use crate::snapshot::{Kind, Snapshot};
use serde_json::json;
use std::collections::BTreeSet;

// GatewayClasses are read when collected; offline, Istio's class names stand in (is_istio_gateway).
const NEEDS: &[Kind] = &[
    Kind::InferencePools,
    Kind::InferencePoolsX,
    Kind::Gateways,
    Kind::HttpRoutes,
    Kind::Services,
    Kind::Deployments,
    Kind::StatefulSets,
    Kind::DestinationRules,
];

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-IST-001",
        title: "Every endpoint picker behind an Istio Gateway has a TLS DestinationRule",
        category: Category::Istio,
        needs: NEEDS,
        run: check_rule_exists,
    },
    Check {
        code: "LLMD-IST-002",
        title: "Every endpoint-picker DestinationRule names an existing Service",
        category: Category::Istio,
        needs: NEEDS,
        run: check_rule_host,
    },
    Check {
        code: "LLMD-IST-003",
        title: "Every endpoint picker DestinationRule uses tls.mode SIMPLE that accepts the picker's certificate",
        category: Category::Istio,
        needs: NEEDS,
        run: check_rule_tls,
    },
    Check {
        code: "LLMD-IST-004",
        title: "The istiod behind each InferencePool routes its appProtocol and every targetPort",
        category: Category::Istio,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Gateways, Kind::HttpRoutes, Kind::Deployments],
        run: check_istiod_version_for_pool,
    },
    Check {
        code: "LLMD-IST-005",
        title: "No DestinationRule originates TLS to a plaintext endpoint picker",
        category: Category::Istio,
        needs: NEEDS,
        run: check_tls_to_plaintext_picker,
    },
];

/// Istio's InferencePool shadow Service ignored the pool's appProtocol until istio/istio#60274
/// (issue #60212, merged May 2026), first released in 1.31: before it, an h2c pool gets HTTP/1.1.
const ISTIO_H2C: (u64, u64, u64) = (1, 31, 0);
/// Istio 1.28.0 sends a pool's traffic to one of several targetPorts (istio/istio#57638); fixed on
/// master by #58238 (1.29) and on release-1.28 by the cherry-pick #58412, after 1.28.0.
const ISTIO_ONE_TARGET_PORT: (u64, u64, u64) = (1, 28, 0);
/// The release the current llm-d guides install (DOMAIN.md D), which has the targetPorts fix.
const ISTIO_TARGET_PORTS_FIXED: &str = "1.29.2";

// LLMD-IST-004: versions of istiod that do not route a pool as its spec asks.
fn check_istiod_version_for_pool(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let istio = provider(ProviderId::Istio);
    let istiods: Vec<_> = controller_deployments(snap, istio)
        .into_iter()
        .filter_map(|d| {
            let image = controller_container(d, istio)?.image.as_deref()?;
            let (tag, v) = image_version(image)?;
            Some((d, tag, (v.major, v.minor, v.patch)))
        })
        .collect();
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let Some(gateway) = istio_gateway_for(snap, pool) else { continue };
        for (d, tag, version) in &istiods {
            let istiod = format!(
                "istiod {}/{}",
                d.metadata.namespace.as_deref().unwrap_or(""),
                d.metadata.name.as_deref().unwrap_or("")
            );
            if pool.app_protocol.as_deref() == Some("kubernetes.io/h2c") && *version < ISTIO_H2C {
                out.push(Issue::error(
                    pool.object_ref(),
                    format!(
                        "InferencePool {} sets appProtocol kubernetes.io/h2c, but {istiod} runs {tag}, which ignores a \
                         pool's appProtocol before 1.31 (istio/istio#60212): Gateway {gateway} speaks HTTP/1.1 to \
                         model servers that expect cleartext HTTP/2",
                        pool_path(pool)
                    ),
                    upgrade_hint(istio, Some(d), "1.31.0"),
                ));
            }
            if pool.target_ports.len() > 1 && *version == ISTIO_ONE_TARGET_PORT {
                out.push(Issue::warning(
                    pool.object_ref(),
                    format!(
                        "InferencePool {} lists {} targetPorts, but {istiod} runs {tag}, which routes Gateway \
                         {gateway}'s traffic to one of them only (istio/istio#57638): the other ports of each model \
                         server get no request",
                        pool_path(pool),
                        pool.target_ports.len()
                    ),
                    upgrade_hint(istio, Some(d), ISTIO_TARGET_PORTS_FIXED),
                ));
            }
        }
    }
    out
}

// LLMD-IST-005: tls.mode SIMPLE or MUTUAL makes Istio originate TLS to the upstream (istio/api
// networking/v1alpha3/destination_rule.proto, ClientTLSSettings.TLSmode); a picker started with
// --secure-serving=false serves plaintext gRPC, so the handshake fails on every request. ISTIO_MUTUAL
// ends at the picker's sidecar, which hands plaintext to the picker: not reported.
fn check_tls_to_plaintext_picker(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for t in all_epp_targets(snap).into_iter().filter(|t| t.plaintext) {
        for rule in rules(snap).iter().filter(|r| host_matches(r, &t)) {
            let Some(tls) = effective_tls(rule, t.port) else { continue };
            let mode = tls.mode.as_deref().unwrap_or("");
            if !matches!(mode, "SIMPLE" | "MUTUAL") {
                continue;
            }
            let obj = rule_object(rule);
            let policy = rule.spec.traffic_policy.as_ref();
            let port_level = policy.and_then(|p| {
                p.port_level_settings
                    .iter()
                    .position(|l| l.port.as_ref().and_then(|s| s.number) == Some(t.port) && l.tls.is_some())
            });
            let ops = match port_level {
                Some(i) => {
                    json!([{"op": "replace", "path": format!("/spec/trafficPolicy/portLevelSettings/{i}/tls/mode"), "value": "DISABLE"}])
                }
                None => json!([{"op": "replace", "path": "/spec/trafficPolicy/tls/mode", "value": "DISABLE"}]),
            };
            out.push(Issue::error(
                obj.clone(),
                format!(
                    "DestinationRule {}/{} makes Gateway {} originate TLS (tls.mode {mode}) to endpoint picker {} of \
                     InferencePool {}, which runs with --secure-serving=false and speaks plaintext: the handshake \
                     fails, so every request fails (or bypasses the picker with FailOpen)",
                    obj.namespace,
                    obj.name,
                    t.gateway,
                    t.fqdn(),
                    pool_path(t.pool)
                ),
                format!(
                    "kubectl patch destinationrule.{}/{} -n {} --type=json -p '{ops}'  # or drop --secure-serving=false from the picker",
                    groups::ISTIO_NETWORKING,
                    obj.name,
                    obj.namespace
                ),
            ));
        }
    }
    out
}

/// An EPP Service that Istio must reach over TLS.
struct EppTarget<'a> {
    pool: &'a InferencePoolView,
    svc: String,
    ns: String,
    /// The Istio Gateway (ns/name) that makes this matter.
    gateway: String,
    /// The picker port the gateway connects to.
    port: i64,
    /// The picker runs with --secure-serving=false.
    plaintext: bool,
}

impl EppTarget<'_> {
    fn fqdn(&self) -> String {
        format!("{}.{}.svc.cluster.local", self.svc, self.ns)
    }
}

/// True when a Gateway's class is Istio's: by the class's controllerName when GatewayClasses were
/// collected, else (offline manifests without the class) by the class names Istio installs.
fn is_istio_gateway(snap: &Snapshot, ns: &str, name: &str) -> bool {
    let Some(gw) = snap.gateway(ns, name) else { return false };
    let class = gw.spec.gateway_class_name.as_str();
    match snap.gateway_class(class) {
        Some(c) => provider_for_controller(&c.spec.controller_name).is_some_and(|p| is_istio_family(p.id)),
        None if !snap.gateway_classes.is_listed() => provider(ProviderId::Istio).class_names.contains(&class),
        None => false,
    }
}

/// The Istio Gateway serving a pool: a parent of a route to it, else one in the pool's namespace.
fn istio_gateway_for(snap: &Snapshot, pool: &InferencePoolView) -> Option<String> {
    let via_route = snap
        .routes_referencing(pool)
        .into_iter()
        .flat_map(|r| r.gateways())
        .find(|(ns, name)| is_istio_gateway(snap, ns, name));
    if let Some((ns, name)) = via_route {
        return Some(format!("{ns}/{name}"));
    }
    let ns = pool.metadata.ns();
    snap.gateways
        .items()
        .iter()
        .find(|g| g.metadata.ns() == ns && is_istio_gateway(snap, ns, &g.metadata.name))
        .map(|g| format!("{ns}/{}", g.metadata.name))
}

/// EPP Services behind Istio Gateways that serve TLS (one entry per Service).
fn epp_targets(snap: &Snapshot) -> Vec<EppTarget<'_>> {
    // A picker started with --secure-serving=false needs no TLS rule.
    all_epp_targets(snap).into_iter().filter(|t| !t.plaintext).collect()
}

/// Every picker Service behind an Istio Gateway, TLS or plaintext.
fn all_epp_targets(snap: &Snapshot) -> Vec<EppTarget<'_>> {
    let mut seen = BTreeSet::new();
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let Some(svc) = pool.epp_service_name() else { continue };
        let ns = pool.metadata.ns();
        if !seen.insert((ns.to_string(), svc.to_string())) {
            continue;
        }
        let Some(gateway) = istio_gateway_for(snap, pool) else { continue };
        let plaintext = snap.service(ns, svc).is_some_and(|s| snap.picker_workloads(s).iter().any(serves_plaintext));
        let port = pool.endpoint_picker.as_ref().and_then(|e| e.port).unwrap_or(DEFAULT_EPP_PORT);
        out.push(EppTarget { pool, svc: svc.to_string(), ns: ns.to_string(), gateway, port, plaintext });
    }
    out
}

/// (service, namespace) a DestinationRule host names, for hosts that name one cluster Service.
fn resolve_host(host: &str, rule_ns: &str) -> Option<(String, String)> {
    if host.contains('*') || host.is_empty() {
        return None;
    }
    if !host.contains('.') {
        return Some((host.to_string(), rule_ns.to_string()));
    }
    let rest = host.strip_suffix(".svc.cluster.local").or_else(|| host.strip_suffix(".svc"))?;
    let (svc, ns) = rest.split_once('.')?;
    (!ns.contains('.')).then(|| (svc.to_string(), ns.to_string()))
}

fn host_matches(rule: &DestinationRuleView, target: &EppTarget) -> bool {
    let host = rule.spec.host.as_str();
    if host == "*" {
        return true;
    }
    if let Some(suffix) = host.strip_prefix('*') {
        return target.fqdn().ends_with(suffix);
    }
    resolve_host(host, rule.metadata.ns()) == Some((target.svc.clone(), target.ns.clone()))
}

/// The TLS settings Istio applies to the picker's port: a `portLevelSettings` entry for that port
/// replaces the rule-wide `tls` (istio/api destination_rule.proto; istio.io analysis IST0128/IST0129).
fn effective_tls(rule: &DestinationRuleView, port: i64) -> Option<&ClientTls> {
    let policy = rule.spec.traffic_policy.as_ref()?;
    let port_level = policy
        .port_level_settings
        .iter()
        .find(|p| p.port.as_ref().and_then(|s| s.number) == Some(port) && p.tls.is_some());
    port_level.map_or(policy.tls.as_ref(), |p| p.tls.as_ref())
}

/// SIMPLE TLS that accepts the picker's certificate: skipping verification of the self-signed
/// default, or verifying it against a CA (`caCertificates`, `credentialName`).
fn tls_ok(rule: &DestinationRuleView, port: i64) -> bool {
    let set = |v: &Option<String>| v.as_deref().is_some_and(|s| !s.is_empty());
    effective_tls(rule, port).is_some_and(|t| {
        t.mode.as_deref() == Some("SIMPLE")
            && (t.insecure_skip_verify == Some(true) || set(&t.ca_certificates) || set(&t.credential_name))
    })
}

fn tls_text(rule: &DestinationRuleView, port: i64) -> String {
    match effective_tls(rule, port) {
        None => "no trafficPolicy.tls".into(),
        Some(t) => format!(
            "tls.mode {} with insecureSkipVerify {}",
            t.mode.as_deref().unwrap_or("unset"),
            t.insecure_skip_verify.map_or("unset".to_string(), |b| b.to_string())
        ),
    }
}

fn rule_object(rule: &DestinationRuleView) -> ObjectRef {
    ObjectRef::new("DestinationRule", groups::ISTIO_NETWORKING, rule.metadata.ns(), &rule.metadata.name)
}

fn rules(snap: &Snapshot) -> &[DestinationRuleView] {
    snap.destination_rules.items()
}

/// The command creating the DestinationRule Istio needs for a picker.
fn create_rule_hint(snap: &Snapshot, target: &EppTarget) -> String {
    format!("echo '{}' | kubectl apply -f -", rule_manifest(snap, target))
}

/// The DestinationRule Istio needs for a picker.
fn rule_manifest(snap: &Snapshot, target: &EppTarget) -> serde_json::Value {
    let taken = rules(snap).iter().any(|r| r.metadata.ns() == target.ns && r.metadata.name == target.svc);
    let name = if taken { format!("{}-tls", target.svc) } else { target.svc.clone() };
    let rule = json!({
        "apiVersion": format!("{}/v1", groups::ISTIO_NETWORKING),
        "kind": "DestinationRule",
        "metadata": {"name": name, "namespace": target.ns},
        "spec": {"host": target.fqdn(), "trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}},
    });
    rule
}

/// A rule that looks meant for a picker but names a Service that does not exist, paired with the
/// picker it most likely meant (when exactly one picker in that namespace lacks a rule).
struct Orphan<'a> {
    rule: &'a DestinationRuleView,
    svc: String,
    ns: String,
    meant: Option<usize>,
}

fn orphan_rules<'a>(snap: &'a Snapshot, targets: &[EppTarget]) -> Vec<Orphan<'a>> {
    if !snap.services.is_listed() {
        return Vec::new();
    }
    let mut orphans: Vec<Orphan> = rules(snap)
        .iter()
        .filter_map(|rule| {
            let (svc, ns) = resolve_host(&rule.spec.host, rule.metadata.ns())?;
            if !snap.in_scope(&ns) || snap.service(&ns, &svc).is_some() {
                return None;
            }
            let skip_verify = rule
                .spec
                .traffic_policy
                .as_ref()
                .and_then(|t| t.tls.as_ref())
                .is_some_and(|t| t.insecure_skip_verify == Some(true));
            (svc.contains("epp") || skip_verify).then_some(Orphan { rule, svc, ns, meant: None })
        })
        .collect();
    let uncovered: Vec<usize> =
        (0..targets.len()).filter(|i| !rules(snap).iter().any(|r| host_matches(r, &targets[*i]))).collect();
    let namespaces: BTreeSet<String> = orphans.iter().map(|o| o.ns.clone()).collect();
    for ns in namespaces {
        let in_ns: Vec<usize> = uncovered.iter().copied().filter(|i| targets[*i].ns == ns).collect();
        let mut here = orphans.iter_mut().filter(|o| o.ns == ns);
        if let (Some(o), None, [only]) = (here.next(), here.next(), in_ns.as_slice()) {
            o.meant = Some(*only);
        }
    }
    orphans
}

/// E11: no DestinationRule for the picker's host.
fn check_rule_exists(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let targets = epp_targets(snap);
    let claimed: BTreeSet<usize> = orphan_rules(snap, &targets).iter().filter_map(|o| o.meant).collect();
    let mut out = Vec::new();
    for (i, t) in targets.iter().enumerate() {
        if claimed.contains(&i) || rules(snap).iter().any(|r| host_matches(r, t)) {
            continue;
        }
        let crd_note =
            if snap.destination_rules.is_listed() { "" } else { " (the DestinationRule CRD is not installed)" };
        out.push(
            Issue::error(
                t.pool.object_ref(),
                format!(
                    "InferencePool {} is served by Istio Gateway {} but no DestinationRule for {} sets tls.mode SIMPLE with insecureSkipVerify{crd_note}: Istio will not speak TLS to endpoint picker {}, so requests fail with 5xx or bypass the picker under FailOpen",
                    pool_path(t.pool),
                    t.gateway,
                    t.fqdn(),
                    t.svc
                ),
                create_rule_hint(snap, t),
            )
            .repair(Repair::Create { object: rule_manifest(snap, t) }),
        );
    }
    out
}

/// E12: a picker-like DestinationRule whose host names no existing Service.
fn check_rule_host(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let any_istio = snap.gateways.items().iter().any(|g| is_istio_gateway(snap, g.metadata.ns(), &g.metadata.name));
    if !any_istio {
        return Vec::new();
    }
    let targets = epp_targets(snap);
    orphan_rules(snap, &targets)
        .into_iter()
        .map(|o| {
            let obj = rule_object(o.rule);
            match o.meant {
                Some(i) => {
                    let t = &targets[i];
                    Issue::error(
                        obj.clone(),
                        format!(
                            "DestinationRule {}/{} targets host {}, but Service {}/{} does not exist; endpoint picker {} of InferencePool {} has no rule",
                            obj.namespace,
                            obj.name,
                            o.rule.spec.host,
                            o.ns,
                            o.svc,
                            t.svc,
                            pool_path(t.pool)
                        ),
                        format!(
                            "kubectl patch destinationrule.{}/{} -n {} --type=merge -p '{}'",
                            groups::ISTIO_NETWORKING,
                            obj.name,
                            obj.namespace,
                            json!({"spec": {"host": t.fqdn()}})
                        ),
                    )
                    .repair(Repair::Edit { target: obj.clone(), ops: vec![Op::set("/spec/host", t.fqdn())] })
                }
                None => Issue::warning(
                    obj.clone(),
                    format!(
                        "DestinationRule {}/{} targets host {}, but Service {}/{} does not exist",
                        obj.namespace, obj.name, o.rule.spec.host, o.ns, o.svc
                    ),
                    format!(
                        "set spec.host in DestinationRule {}/{} to the endpoint picker's <service>.<namespace>.svc.cluster.local, or kubectl delete destinationrule.{}/{} -n {}",
                        obj.namespace,
                        obj.name,
                        groups::ISTIO_NETWORKING,
                        obj.name,
                        obj.namespace
                    ),
                ),
            }
        })
        .collect()
}

/// E11 variant: a rule for the picker's host exists, but not with SIMPLE + insecureSkipVerify.
fn check_rule_tls(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for t in epp_targets(snap) {
        let mut matching: Vec<&DestinationRuleView> = rules(snap).iter().filter(|r| host_matches(r, &t)).collect();
        if matching.is_empty() || matching.iter().any(|r| tls_ok(r, t.port)) {
            continue;
        }
        // Prefer the rule in the picker's namespace with an exact host.
        matching.sort_by_key(|r| (r.metadata.ns() != t.ns, r.spec.host.contains('*')));
        let rule = matching[0];
        let obj = rule_object(rule);
        let repair = if rule.spec.host.contains('*') {
            Repair::Create { object: rule_manifest(snap, &t) }
        } else {
            Repair::Edit {
                target: obj.clone(),
                ops: vec![
                    Op::set("/spec/trafficPolicy/tls/mode", "SIMPLE"),
                    Op::set("/spec/trafficPolicy/tls/insecureSkipVerify", true),
                ],
            }
        };
        let hint = if rule.spec.host.contains('*') {
            create_rule_hint(snap, &t)
        } else {
            format!(
                "kubectl patch destinationrule.{}/{} -n {} --type=merge -p '{}'",
                groups::ISTIO_NETWORKING,
                obj.name,
                obj.namespace,
                json!({"spec": {"trafficPolicy": {"tls": {"mode": "SIMPLE", "insecureSkipVerify": true}}}})
            )
        };
        out.push(
            Issue::error(
                obj.clone(),
                format!(
                    "DestinationRule {}/{} for endpoint picker {} of InferencePool {} has {}; the picker serves a self-signed certificate, so Istio needs tls.mode SIMPLE with insecureSkipVerify true",
                    obj.namespace,
                    obj.name,
                    t.fqdn(),
                    pool_path(t.pool),
                    tls_text(rule, t.port)
                ),
                hint,
            )
            .repair(repair),
        );
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{self, Obj};
    use crate::findings::Severity;
    use crate::snapshot::Collected;
    use serde_json::json;

    fn issues_in(code: &str, snap: &Snapshot) -> Vec<Issue> {
        let profile = fixtures::prereq();
        let check = CHECKS.iter().find(|c| c.code == code).expect("code");
        (check.run)(&CheckContext { snapshot: snap, profile: &profile })
    }

    fn issues(code: &str, yaml: &str) -> Vec<Issue> {
        issues_in(code, &fixtures::snapshot(yaml))
    }

    /// GatewayClass `class` (istio's controller), Gateway llm/llm-d-inference-gateway on it, and
    /// `pool` with its picker Service qwen-epp.
    fn stack(class: Obj, pool: Obj) -> String {
        let gateway = fixtures::gateway("llm", "llm-d-inference-gateway").listener("http", 80, "HTTP");
        let picker =
            fixtures::service("llm", "qwen-epp").push("spec.ports", json!({"name": "grpc-ext-proc", "port": 9002}));
        docs(&[&class.to_string(), &gateway.to_string(), &pool.to_string(), &picker.to_string()])
    }

    fn istio_class() -> Obj {
        fixtures::gateway_class("istio", "istio.io/gateway-controller")
    }

    /// InferencePool llm/qwen: pods app=qwen on 8000, picker qwen-epp.
    fn pool() -> Obj {
        fixtures::pool("llm", "qwen")
    }

    /// The Istio stack: every test's starting point.
    fn base() -> String {
        stack(istio_class(), pool())
    }

    fn rule(name: &str, host: &str, tls: &str) -> String {
        format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: {name}, namespace: llm}}\nspec: {{host: {host}, trafficPolicy: {{tls: {tls}}}}}\n"
        )
    }

    const GOOD_TLS: &str = "{mode: SIMPLE, insecureSkipVerify: true}";

    fn docs(parts: &[&str]) -> String {
        parts.join("\n---\n")
    }

    #[test]
    fn missing_rule_behind_istio_is_a_fixable_error() {
        let found = issues("LLMD-IST-001", &base());
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(found[0].repair.is_some());
        assert!(found[0].hint.contains(r#""host":"qwen-epp.llm.svc.cluster.local""#), "{}", found[0].hint);
        assert!(found[0].hint.contains(r#""insecureSkipVerify":true,"mode":"SIMPLE""#), "{}", found[0].hint);
    }

    #[test]
    fn missing_rule_is_reported_when_the_crd_is_absent() {
        let mut snap = fixtures::snapshot(&base());
        snap.destination_rules = Collected::Absent;
        let found = issues_in("LLMD-IST-001", &snap);
        assert!(found.len() == 1 && found[0].message.contains("not installed"));
    }

    #[test]
    fn any_accepted_host_spelling_passes() {
        for host in ["qwen-epp.llm.svc.cluster.local", "qwen-epp", "qwen-epp.llm.svc", "\"*.llm.svc.cluster.local\""] {
            let yaml = docs(&[&base(), &rule("epp", host, GOOD_TLS)]);
            assert!(issues("LLMD-IST-001", &yaml).is_empty(), "{host}");
            assert!(issues("LLMD-IST-003", &yaml).is_empty(), "{host}");
        }
    }

    #[test]
    fn no_istio_gateway_no_finding() {
        let yaml = stack(fixtures::gateway_class("istio", "agentgateway.dev/agentgateway"), pool());
        assert!(issues("LLMD-IST-001", &yaml).is_empty());
        let yaml = docs(&[&yaml, &rule("epp", "qwen-ep.llm.svc.cluster.local", GOOD_TLS)]);
        assert!(issues("LLMD-IST-002", &yaml).is_empty());
    }

    #[test]
    fn offline_manifests_without_the_class_use_istio_class_names() {
        let mut snap =
            fixtures::snapshot(&stack(fixtures::gateway_class("unused", "istio.io/gateway-controller"), pool()));
        snap.gateway_classes = Collected::Unknown { reason: "offline".into() };
        assert_eq!(issues_in("LLMD-IST-001", &snap).len(), 1);
        // A listed class list without "istio" means the Gateway is not Istio's.
        snap.gateway_classes = Collected::Listed(vec![]);
        assert!(issues_in("LLMD-IST-001", &snap).is_empty());
    }

    #[test]
    fn plaintext_picker_needs_no_rule() {
        assert!(issues("LLMD-IST-001", &docs(&[&base(), &plaintext_picker()])).is_empty());
    }

    #[test]
    fn rule_with_wrong_host_is_paired_with_the_picker() {
        let yaml = docs(&[&base(), &rule("qwen-epp", "qwen-ep.llm.svc.cluster.local", GOOD_TLS)]);
        let found = issues("LLMD-IST-002", &yaml);
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].object.name.as_str(), found[0].object.kind.as_str()),
            (Severity::Error, "qwen-epp", "DestinationRule")
        );
        assert!(found[0].repair.is_some());
        assert!(found[0].hint.contains(r#"{"spec":{"host":"qwen-epp.llm.svc.cluster.local"}}"#), "{}", found[0].hint);
        // The same root cause is not reported again as a missing rule.
        assert!(issues("LLMD-IST-001", &yaml).is_empty());
        // A correct rule: nothing.
        assert!(issues("LLMD-IST-002", &docs(&[&base(), &rule("qwen-epp", "qwen-epp", GOOD_TLS)])).is_empty());
    }

    #[test]
    fn unpaired_orphan_rule_is_a_warning() {
        let yaml = docs(&[
            &base(),
            &rule("good", "qwen-epp", GOOD_TLS),
            &rule("stale", "llama-epp.llm.svc.cluster.local", GOOD_TLS),
        ]);
        let found = issues("LLMD-IST-002", &yaml);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Warning, "stale"));
        assert!(found[0].repair.is_none());
    }

    #[test]
    fn wrong_tls_mode_is_a_fixable_error() {
        let yaml = docs(&[&base(), &rule("qwen-epp", "qwen-epp.llm.svc.cluster.local", "{mode: ISTIO_MUTUAL}")]);
        let found = issues("LLMD-IST-003", &yaml);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen-epp"));
        assert!(found[0].repair.is_some() && found[0].message.contains("ISTIO_MUTUAL"));
        assert!(found[0].hint.starts_with("kubectl patch destinationrule.networking.istio.io/qwen-epp -n llm"));
        assert!(issues("LLMD-IST-001", &yaml).is_empty());
    }

    #[test]
    fn rules_that_verify_the_picker_certificate_or_set_it_per_port_pass() {
        let host = "qwen-epp.llm.svc.cluster.local";
        let verifying =
            ["{mode: SIMPLE, caCertificates: /etc/epp-ca/ca.crt}", "{mode: SIMPLE, credentialName: qwen-epp-ca}"];
        for tls in verifying {
            let yaml = docs(&[&base(), &rule("qwen-epp", host, tls)]);
            for code in ["LLMD-IST-001", "LLMD-IST-002", "LLMD-IST-003"] {
                assert!(issues(code, &yaml).is_empty(), "{code} with {tls}: {:?}", issues(code, &yaml));
            }
        }
        // TLS only under portLevelSettings for the picker port (9002).
        let per_port = format!(
            "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {{name: qwen-epp, namespace: llm}}\nspec: {{host: {host}, trafficPolicy: {{portLevelSettings: [{{port: {{number: 9002}}, tls: {GOOD_TLS}}}]}}}}\n"
        );
        let yaml = docs(&[&base(), &per_port]);
        for code in ["LLMD-IST-001", "LLMD-IST-002", "LLMD-IST-003"] {
            assert!(issues(code, &yaml).is_empty(), "{code}: {:?}", issues(code, &yaml));
        }
        // The same rule for another port leaves the picker port without TLS.
        let yaml = docs(&[&base(), &per_port.replace("number: 9002", "number: 9090")]);
        let found = issues("LLMD-IST-003", &yaml);
        assert_eq!(found.len(), 1);
        assert!(found[0].message.contains("has no trafficPolicy.tls"), "{}", found[0].message);
        // SIMPLE with neither verification nor skip: Istio verifies against system roots and fails.
        let yaml = docs(&[&base(), &rule("qwen-epp", host, "{mode: SIMPLE}")]);
        assert_eq!(issues("LLMD-IST-003", &yaml).len(), 1);
    }

    /// istiod `version` with the inference switch on.
    fn istiod(version: &str) -> String {
        fixtures::deployment("istio-system", "istiod")
            .image(&format!("docker.io/istio/pilot:{version}"))
            .env("ENABLE_GATEWAY_API_INFERENCE_EXTENSION", "true")
            .to_string()
    }

    #[test]
    fn ist004_h2c_pool_behind_an_istiod_that_ignores_app_protocol() {
        let h2c = stack(istio_class(), pool().set("spec.appProtocol", "kubernetes.io/h2c"));
        let found = issues("LLMD-IST-004", &docs(&[&h2c, &istiod("1.29.2")]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert_eq!(
            found[0].message,
            "InferencePool llm/qwen sets appProtocol kubernetes.io/h2c, but istiod istio-system/istiod runs 1.29.2, which ignores a pool's appProtocol before 1.31 (istio/istio#60212): Gateway llm/llm-d-inference-gateway speaks HTTP/1.1 to model servers that expect cleartext HTTP/2"
        );
        assert!(found[0].hint.contains("1.31.0"), "{}", found[0].hint);
        assert!(issues("LLMD-IST-004", &docs(&[&h2c, &istiod("1.31.0")])).is_empty());
        // http (the default) is routed by every version.
        assert!(issues("LLMD-IST-004", &docs(&[&base(), &istiod("1.28.0")])).is_empty());
    }

    #[test]
    fn ist004_several_target_ports_behind_istiod_1_28_0() {
        let multi = stack(istio_class(), pool().push("spec.targetPorts", json!({"number": 8001})));
        let found = issues("LLMD-IST-004", &docs(&[&multi, &istiod("1.28.0")]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(
            found[0].message.contains("lists 2 targetPorts, but istiod istio-system/istiod runs 1.28.0"),
            "{}",
            found[0].message
        );
        assert!(found[0].hint.contains("1.29.2"), "{}", found[0].hint);
        assert!(issues("LLMD-IST-004", &docs(&[&multi, &istiod("1.29.2")])).is_empty());
        // No istiod visible: nothing to judge.
        assert!(issues("LLMD-IST-004", &multi).is_empty());
    }

    /// The picker Deployment serving plaintext gRPC.
    fn plaintext_picker() -> String {
        fixtures::deployment("llm", "qwen-epp")
            .set(
                "spec.template.spec.containers",
                json!([{"name": "epp", "args": ["--pool-name=qwen", "--secure-serving=false"]}]),
            )
            .to_string()
    }

    #[test]
    fn ist005_tls_rule_in_front_of_a_plaintext_picker() {
        let simple = rule("qwen-epp", "qwen-epp.llm.svc.cluster.local", GOOD_TLS);
        let found = issues("LLMD-IST-005", &docs(&[&base(), &plaintext_picker(), &simple]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen-epp"));
        assert!(found[0].message.contains("tls.mode SIMPLE") && found[0].message.contains("--secure-serving=false"));
        assert_eq!(
            found[0].hint,
            r#"kubectl patch destinationrule.networking.istio.io/qwen-epp -n llm --type=json -p '[{"op":"replace","path":"/spec/trafficPolicy/tls/mode","value":"DISABLE"}]'  # or drop --secure-serving=false from the picker"#
        );
        // A port-level setting is patched where it is.
        let port_level = "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: qwen-epp, namespace: llm}\nspec:\n  host: qwen-epp\n  trafficPolicy:\n    portLevelSettings: [{port: {number: 9002}, tls: {mode: SIMPLE, insecureSkipVerify: true}}]\n";
        let found = issues("LLMD-IST-005", &docs(&[&base(), &plaintext_picker(), port_level]));
        assert!(found[0].hint.contains("/spec/trafficPolicy/portLevelSettings/0/tls/mode"), "{}", found[0].hint);
        // DISABLE, ISTIO_MUTUAL (ends at the sidecar) and a TLS picker are fine.
        for tls in ["{mode: DISABLE}", "{mode: ISTIO_MUTUAL}"] {
            let r = rule("qwen-epp", "qwen-epp.llm.svc.cluster.local", tls);
            assert!(issues("LLMD-IST-005", &docs(&[&base(), &plaintext_picker(), &r])).is_empty(), "{tls}");
        }
        assert!(issues("LLMD-IST-005", &docs(&[&base(), &simple])).is_empty());
    }
}
