//! Checks: Gateways and their listeners (DOMAIN C; E26, E33).

use super::gatewayclasses::{install_hint, provider_of_class, restart_command};
use super::routes::inference_gateways;
use super::{Check, CheckContext, Issue};
use crate::catalog::providers::{Provider, ProviderId};
use crate::findings::Category;
use crate::model::{condition, groups, is_true, Condition, GatewayView, Listener, ObjectRef, SecretRef};
use crate::snapshot::{Kind, Snapshot};

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-GW-001",
        title: "Every Gateway is Accepted by its controller",
        category: Category::Gateways,
        needs: &[Kind::Gateways, Kind::GatewayClasses, Kind::LiveStatus],
        run: check_accepted,
    },
    Check {
        code: "LLMD-GW-002",
        title: "Every accepted Gateway is Programmed",
        category: Category::Gateways,
        needs: &[Kind::Gateways, Kind::GatewayClasses, Kind::LiveStatus],
        run: check_programmed,
    },
    Check {
        code: "LLMD-GW-003",
        title: "Every Gateway listener is Accepted, resolves its references and has no conflict",
        category: Category::Gateways,
        needs: &[Kind::Gateways, Kind::ReferenceGrants, Kind::LiveStatus],
        run: check_listeners,
    },
    Check {
        code: "LLMD-GW-004",
        title: "Cross-namespace listener certificateRefs are permitted by a ReferenceGrant",
        category: Category::Gateways,
        needs: &[Kind::Gateways, Kind::ReferenceGrants],
        run: check_certificate_grants,
    },
    Check {
        code: "LLMD-GW-005",
        title: "Gateways that front InferencePools belong to an InferencePool-capable provider",
        category: Category::Gateways,
        needs: &[Kind::Gateways, Kind::GatewayClasses, Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_inference_provider,
    },
];

fn gateway_ref(gw: &GatewayView) -> ObjectRef {
    ObjectRef::new("Gateway", groups::GATEWAY, gw.metadata.ns(), &gw.metadata.name)
}

fn describe(c: &Condition) -> String {
    if c.message.is_empty() {
        c.reason.clone()
    } else {
        format!("{}: {}", c.reason, c.message)
    }
}

/// The provider of a Gateway's class, and whether that class exists and is Accepted.
fn class_state(snap: &Snapshot, gw: &GatewayView) -> (bool, Option<&'static Provider>) {
    match snap.gateway_class(&gw.spec.gateway_class_name) {
        Some(c) => (is_true(&c.status.conditions, "Accepted"), provider_of_class(c)),
        None => (false, None),
    }
}

fn restart_hint(snap: &Snapshot, p: Option<&Provider>, gw: &GatewayView) -> String {
    match p {
        Some(p) => match restart_command(snap, p) {
            Some(restart) => {
                format!(
                    "restart the controller so it reconciles Gateway {}/{}: {restart}",
                    gw.metadata.ns(),
                    gw.metadata.name
                )
            }
            None => install_hint(p),
        },
        None => format!(
            "check that the controller of GatewayClass {} runs and watches namespace {}",
            gw.spec.gateway_class_name,
            gw.metadata.ns()
        ),
    }
}

/// The first failing listener condition.
fn listener_failure(conds: &[Condition]) -> Option<&Condition> {
    conds.iter().find(|c| match c.type_.as_str() {
        "Accepted" | "ResolvedRefs" | "Programmed" => c.status == "False",
        "Conflicted" => c.status == "True",
        _ => false,
    })
}

// LLMD-GW-001 (E33)
fn check_accepted(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for gw in snap.gateways.items() {
        let (class_ok, provider) = class_state(snap, gw);
        if !class_ok {
            continue; // LLMD-GWC-002 / LLMD-GWC-003
        }
        let (ns, name) = (gw.metadata.ns(), gw.metadata.name.as_str());
        let accepted = condition(&gw.status.conditions, "Accepted");
        match accepted {
            Some(c) if c.status == "True" => {}
            Some(c) if c.status == "False" => {
                if c.reason == "ListenersNotValid"
                    && gw.status.listeners.iter().any(|l| listener_failure(&l.conditions).is_some())
                {
                    continue; // LLMD-GW-003 names the listener
                }
                let hint = match c.reason.as_str() {
                    "UnsupportedAddress" => {
                        format!("remove or correct spec.addresses in Gateway {ns}/{name} ({})", describe(c))
                    }
                    "InvalidParameters" => format!(
                        "make spec.infrastructure.parametersRef of Gateway {ns}/{name} name an existing, valid object ({})",
                        describe(c)
                    ),
                    "ListenersNotValid" => {
                        format!("fix spec.listeners of Gateway {ns}/{name} as the controller says: {}", describe(c))
                    }
                    _ => format!("edit Gateway {ns}/{name} as the controller says: {}", describe(c)),
                };
                out.push(Issue::error(
                    gateway_ref(gw),
                    format!("Gateway {ns}/{name} is not Accepted: {}", describe(c)),
                    hint,
                ));
            }
            other => {
                let state = other.map(describe).unwrap_or_else(|| "no Accepted condition".into());
                out.push(Issue::error(
                    gateway_ref(gw),
                    format!(
                        "Gateway {ns}/{name} has not been accepted by the controller of GatewayClass {} ({state})",
                        gw.spec.gateway_class_name
                    ),
                    restart_hint(snap, provider, gw),
                ));
            }
        }
    }
    out
}

// LLMD-GW-002 (E33)
fn check_programmed(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for gw in snap.gateways.items() {
        let (class_ok, provider) = class_state(snap, gw);
        if !class_ok || !is_true(&gw.status.conditions, "Accepted") {
            continue; // LLMD-GW-001 and the GatewayClass checks
        }
        let (ns, name) = (gw.metadata.ns(), gw.metadata.name.as_str());
        let programmed = condition(&gw.status.conditions, "Programmed");
        let issue = match programmed {
            Some(c) if c.status == "True" => continue,
            Some(c) if c.status == "False" && c.reason == "AddressNotAssigned" => {
                let hint = if provider.is_some_and(|p| p.id == ProviderId::Istio) {
                    format!(
                        "give the cluster a LoadBalancer implementation (MetalLB, cloud-provider-kind), or use a ClusterIP Service: kubectl annotate gateway {name} -n {ns} networking.istio.io/service-type=ClusterIP --overwrite"
                    )
                } else {
                    format!(
                        "give the cluster a LoadBalancer implementation (MetalLB, cloud-provider-kind), or set the Service type of Gateway {ns}/{name} to ClusterIP through its spec.infrastructure parameters"
                    )
                };
                Issue::warning(
                    gateway_ref(gw),
                    format!(
                        "Gateway {ns}/{name} is not Programmed: no address assigned ({}); clients outside the cluster cannot reach it",
                        describe(c)
                    ),
                    hint,
                )
            }
            Some(c) if c.status == "False" => {
                let hint = match c.reason.as_str() {
                    "NoResources" => format!(
                        "free capacity for the gateway proxy of {ns}/{name} (kubectl get deploy,pods -n {ns} -l gateway.networking.k8s.io/gateway-name={name}): {}",
                        describe(c)
                    ),
                    "AddressNotUsable" => format!("remove or correct spec.addresses in Gateway {ns}/{name} ({})", describe(c)),
                    _ => format!("edit Gateway {ns}/{name} as the controller says: {}", describe(c)),
                };
                Issue::error(gateway_ref(gw), format!("Gateway {ns}/{name} is not Programmed: {}", describe(c)), hint)
            }
            other => Issue::warning(
                gateway_ref(gw),
                format!(
                    "Gateway {ns}/{name} is accepted but not yet Programmed ({})",
                    other.map(describe).unwrap_or_else(|| "no Programmed condition".into())
                ),
                restart_hint(snap, provider, gw),
            ),
        };
        out.push(issue);
    }
    out
}

fn secret_ns<'a>(gw: &'a GatewayView, r: &'a SecretRef) -> &'a str {
    r.namespace.as_deref().unwrap_or(gw.metadata.ns())
}

/// certificateRefs of a listener that cross namespaces without a grant (namespaces in scope only).
fn ungranted_certs<'a>(snap: &Snapshot, gw: &'a GatewayView, l: &'a Listener) -> Vec<&'a SecretRef> {
    let Some(tls) = &l.tls else { return vec![] };
    tls.certificate_refs
        .iter()
        .filter(|r| {
            let ns = secret_ns(gw, r);
            let group = r.group.as_deref().unwrap_or("");
            let kind = r.kind.as_deref().unwrap_or("Secret");
            ns != gw.metadata.ns()
                && snap.in_scope(ns)
                && !snap.reference_grants.items().iter().any(|g| {
                    g.metadata.ns() == ns
                        && g.spec.from.iter().any(|f| {
                            f.group == groups::GATEWAY && f.kind == "Gateway" && f.namespace == gw.metadata.ns()
                        })
                        && g.spec.to.iter().any(|t| {
                            t.group == group && t.kind == kind && t.name.as_deref().is_none_or(|n| n == r.name)
                        })
                })
        })
        .collect()
}

// LLMD-GW-003 (listener conditions)
fn check_listeners(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for gw in snap.gateways.items() {
        let (ns, name) = (gw.metadata.ns(), gw.metadata.name.as_str());
        for ls in &gw.status.listeners {
            let Some(c) = listener_failure(&ls.conditions) else { continue };
            let spec = gw.spec.listeners.iter().position(|l| l.name == ls.name);
            let listener = spec.map(|i| &gw.spec.listeners[i]);
            if c.reason == "RefNotPermitted" && listener.is_some_and(|l| !ungranted_certs(snap, gw, l).is_empty()) {
                continue; // LLMD-GW-004 has the grant to create
            }
            let idx = spec.map(|i| i.to_string()).unwrap_or_else(|| "N".into());
            let hint = match (c.type_.as_str(), c.reason.as_str()) {
                ("Conflicted", _) => format!(
                    "give listener {} of Gateway {ns}/{name} a port or hostname no other listener uses (spec.listeners[{idx}])",
                    ls.name
                ),
                (_, "PortUnavailable") => format!(
                    "set spec.listeners[{idx}].port of Gateway {ns}/{name} to a free port ({})",
                    describe(c)
                ),
                (_, "UnsupportedProtocol") => {
                    format!("set spec.listeners[{idx}].protocol of Gateway {ns}/{name} to HTTP or HTTPS")
                }
                (_, "InvalidCertificateRef") => {
                    let cert = listener
                        .and_then(|l| l.tls.as_ref())
                        .and_then(|t| t.certificate_refs.first())
                        .map(|r| (secret_ns(gw, r).to_string(), r.name.clone()));
                    match cert {
                        Some((sns, sname)) => format!(
                            "create the TLS Secret: kubectl create secret tls {sname} -n {sns} --cert=tls.crt --key=tls.key"
                        ),
                        None => format!("set spec.listeners[{idx}].tls.certificateRefs of Gateway {ns}/{name} to a TLS Secret"),
                    }
                }
                (_, "InvalidRouteKinds") => format!(
                    "kubectl patch gateway {name} -n {ns} --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/listeners/{idx}/allowedRoutes/kinds\",\"value\":[{{\"kind\":\"HTTPRoute\"}}]}}]'"
                ),
                _ => format!("edit listener {} of Gateway {ns}/{name} as the controller says: {}", ls.name, describe(c)),
            };
            let state =
                if c.type_ == "Conflicted" { "is Conflicted".to_string() } else { format!("has {}=False", c.type_) };
            let port = listener.map(|l| format!(" (port {}, {})", l.port, l.protocol)).unwrap_or_default();
            out.push(Issue::error(
                gateway_ref(gw),
                format!("Listener {}{port} of Gateway {ns}/{name} {state}: {}", ls.name, describe(c)),
                hint,
            ));
        }
    }
    out
}

// LLMD-GW-004 (E26)
fn check_certificate_grants(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for gw in snap.gateways.items() {
        let (ns, name) = (gw.metadata.ns(), gw.metadata.name.as_str());
        for l in &gw.spec.listeners {
            for r in ungranted_certs(snap, gw, l) {
                let sns = secret_ns(gw, r);
                let group = r.group.as_deref().unwrap_or("");
                let kind = r.kind.as_deref().unwrap_or("Secret");
                out.push(Issue::error(
                    gateway_ref(gw),
                    format!(
                        "Listener {} of Gateway {ns}/{name} uses certificate {kind} {sns}/{} from another namespace, and no ReferenceGrant in {sns} allows Gateways from {ns} (RefNotPermitted)",
                        l.name, r.name
                    ),
                    format!(
                        r#"echo '{{"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"ReferenceGrant","metadata":{{"name":"allow-gateways-from-{ns}","namespace":"{sns}"}},"spec":{{"from":[{{"group":"gateway.networking.k8s.io","kind":"Gateway","namespace":"{ns}"}}],"to":[{{"group":"{group}","kind":"{kind}","name":"{}"}}]}}}}' | kubectl apply -f -"#,
                        r.name
                    ),
                ));
            }
        }
    }
    out
}

// LLMD-GW-005: a Gateway fronting pools whose controller is not a known InferencePool implementation.
fn check_inference_provider(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for (ns, name) in inference_gateways(snap) {
        let Some(gw) = snap.gateway(&ns, &name) else { continue };
        let Some(class) = snap.gateway_class(&gw.spec.gateway_class_name) else { continue }; // LLMD-GWC-002
        if provider_of_class(class).is_some() {
            continue;
        }
        let capable = snap
            .gateway_classes
            .items()
            .iter()
            .find(|c| provider_of_class(c).is_some())
            .map(|c| c.metadata.name.clone());
        let hint = match capable {
            Some(c) => format!(
                "kubectl patch gateway {name} -n {ns} --type=merge -p '{{\"spec\":{{\"gatewayClassName\":\"{c}\"}}}}'"
            ),
            None => "kubectl llmd gateway install --provider istio".to_string(),
        };
        out.push(Issue::warning(
            gateway_ref(gw),
            format!(
                "Gateway {ns}/{name} fronts InferencePools but its GatewayClass {} uses controller {}, which is not a known InferencePool implementation (Istio, agentgateway, kgateway, GKE, NGINX Gateway Fabric, Envoy AI Gateway)",
                class.metadata.name, class.spec.controller_name
            ),
            hint,
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::findings::Severity;

    fn found(snap: &Snapshot, code: &str) -> Vec<Issue> {
        fixtures::issues_in(CHECKS, code, snap)
    }

    fn codes(snap: &Snapshot) -> Vec<String> {
        fixtures::codes_in(CHECKS, snap)
    }

    const CLASS: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: istio}
spec: {controllerName: istio.io/gateway-controller}
status:
  conditions: [{type: Accepted, status: "True", reason: Accepted}]
"#;

    fn gateway(status: &str) -> String {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: llm-d-inference-gateway, namespace: llm}}
spec:
  gatewayClassName: istio
  listeners:
  - {{name: http, port: 80, protocol: HTTP}}
  - name: https
    port: 443
    protocol: HTTPS
    tls: {{certificateRefs: [{{name: llm-cert, namespace: certs}}]}}
status: {status}
"#
        )
    }

    const HEALTHY: &str = r#"
  conditions:
  - {type: Accepted, status: "True", reason: Accepted}
  - {type: Programmed, status: "True", reason: Programmed}
"#;

    const CERT_GRANT: &str = r#"
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: gw-certs, namespace: certs}
spec:
  from: [{group: gateway.networking.k8s.io, kind: Gateway, namespace: llm}]
  to: [{group: "", kind: Secret}]
"#;

    fn snap(parts: &[&str]) -> Snapshot {
        fixtures::snapshot(&parts.join("\n---\n"))
    }

    #[test]
    fn healthy_gateway_has_no_findings() {
        let s = snap(&[CLASS, &gateway(HEALTHY), CERT_GRANT]);
        assert!(codes(&s).is_empty(), "{:?}", codes(&s));
    }

    #[test]
    fn gw001_not_accepted() {
        let st = r#"
  conditions:
  - {type: Accepted, status: "False", reason: UnsupportedAddress, message: "address 10.0.0.1 not supported"}
"#;
        let s = snap(&[CLASS, &gateway(st), CERT_GRANT]);
        assert_eq!(codes(&s), vec!["LLMD-GW-001"]);
        let f = &found(&s, "LLMD-GW-001")[0];
        assert_eq!((f.object.name.as_str(), f.severity), ("llm-d-inference-gateway", Severity::Error));
        assert!(f.message.contains("UnsupportedAddress") && f.hint.contains("spec.addresses"));
        let pending = "\n  conditions: [{type: Accepted, status: Unknown, reason: Pending}]\n";
        // Restart the controller doctor saw; without one, install it (a restart would be NotFound).
        let istiod = "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: istiod, namespace: istio-system}\n\
                      spec: {selector: {matchLabels: {app: istiod}}, template: {metadata: {labels: {app: istiod}}, \
                      spec: {containers: [{name: discovery, image: docker.io/istio/pilot:1.28.0}]}}}\n";
        let f = &found(&snap(&[CLASS, &gateway(pending), CERT_GRANT, istiod]), "LLMD-GW-001")[0];
        assert!(f.hint.contains("kubectl rollout restart deployment/istiod -n istio-system"), "{}", f.hint);
        let f = &found(&snap(&[CLASS, &gateway(pending), CERT_GRANT]), "LLMD-GW-001")[0];
        assert_eq!(f.hint, "kubectl llmd gateway install --provider istio");
        // A class that is itself not accepted is the GatewayClass checks' finding.
        let unaccepted = CLASS.replace("status: \"True\"", "status: Unknown");
        assert!(found(&snap(&[&unaccepted, &gateway(pending)]), "LLMD-GW-001").is_empty());
    }

    #[test]
    fn gw002_not_programmed() {
        let st = r#"
  conditions:
  - {type: Accepted, status: "True", reason: Accepted}
  - {type: Programmed, status: "False", reason: AddressNotAssigned, message: "no external address for service"}
"#;
        let s = snap(&[CLASS, &gateway(st), CERT_GRANT]);
        assert_eq!(codes(&s), vec!["LLMD-GW-002"]);
        let f = &found(&s, "LLMD-GW-002")[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(f.hint.contains("networking.istio.io/service-type=ClusterIP"));
        let invalid = st.replace("AddressNotAssigned", "Invalid");
        assert_eq!(found(&snap(&[CLASS, &gateway(&invalid), CERT_GRANT]), "LLMD-GW-002")[0].severity, Severity::Error);
    }

    #[test]
    fn gw003_listener_conditions() {
        let st = r#"
  conditions:
  - {type: Accepted, status: "False", reason: ListenersNotValid}
  listeners:
  - name: http
    attachedRoutes: 0
    conditions:
    - {type: Accepted, status: "False", reason: PortUnavailable, message: "port 80 in use"}
  - name: https
    attachedRoutes: 0
    conditions:
    - {type: Conflicted, status: "True", reason: HostnameConflict}
"#;
        let s = snap(&[CLASS, &gateway(st), CERT_GRANT]);
        assert_eq!(codes(&s), vec!["LLMD-GW-003", "LLMD-GW-003"], "GW-001 defers to the listeners");
        let f = found(&s, "LLMD-GW-003");
        assert!(f[0].message.contains("http (port 80, HTTP)") && f[0].hint.contains("spec.listeners[0].port"));
        assert!(f[1].message.contains("Conflicted") && f[1].severity == Severity::Error);
    }

    #[test]
    fn gw004_cross_namespace_certificate_without_grant() {
        let s = snap(&[CLASS, &gateway(HEALTHY)]);
        assert_eq!(codes(&s), vec!["LLMD-GW-004"]);
        let f = &found(&s, "LLMD-GW-004")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message.contains("certs/llm-cert")
                && f.hint.contains(r#""namespace":"certs""#)
                && f.hint.contains(r#""kind":"Gateway""#)
        );
        // With RefNotPermitted on the listener, reported once (by GW-004).
        let st = r#"
  conditions: [{type: Accepted, status: "True", reason: Accepted}, {type: Programmed, status: "True", reason: Programmed}]
  listeners:
  - name: https
    conditions: [{type: ResolvedRefs, status: "False", reason: RefNotPermitted}]
"#;
        assert_eq!(codes(&snap(&[CLASS, &gateway(st)])), vec!["LLMD-GW-004"]);
        let mut scoped = snap(&[CLASS, &gateway(HEALTHY)]);
        scoped.namespace = Some("llm".into());
        assert!(found(&scoped, "LLMD-GW-004").is_empty(), "certs namespace not collected");
    }

    #[test]
    fn gw005_inference_gateway_on_an_unknown_controller() {
        let cilium = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: cilium}
spec: {controllerName: io.cilium/gateway-controller}
status:
  conditions: [{type: Accepted, status: "True", reason: Accepted}]
"#;
        let route = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: llm}
spec:
  parentRefs: [{name: llm-d-inference-gateway}]
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: p}]}]
"#;
        let gw = gateway(HEALTHY).replace("gatewayClassName: istio", "gatewayClassName: cilium");
        let s = snap(&[cilium, CLASS, &gw, CERT_GRANT, route]);
        assert_eq!(codes(&s), vec!["LLMD-GW-005"]);
        let f = &found(&s, "LLMD-GW-005")[0];
        assert_eq!(f.severity, Severity::Warning);
        assert!(
            f.message.contains("io.cilium/gateway-controller") && f.hint.contains("\"gatewayClassName\":\"istio\"")
        );
        assert!(found(&snap(&[CLASS, &gateway(HEALTHY), CERT_GRANT, route]), "LLMD-GW-005").is_empty());
    }
}
