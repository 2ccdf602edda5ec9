//! Checks: HTTPRoutes that carry inference traffic (DOMAIN C; E3, E5–E8, E24, E25, E27–E29).
//! A route is in scope when a backendRef names an InferencePool (or names one by mistake), or
//! when it attaches to a Gateway that fronts InferencePools.

use super::gatewayclasses::{inference_switch_off, provider_of_class};
use super::{Check, CheckContext, Issue};
use crate::catalog::providers::provider_for_controller;
use crate::findings::Category;
use crate::model::{
    condition, duration_ms, groups, BackendRef, Condition, GatewayView, HttpRouteView, InferencePoolView, Listener,
    ObjectRef, ParentRef, ReferenceGrantView,
};
use crate::repair::{Op, Repair};
use crate::snapshot::{Kind, Snapshot};
use std::collections::BTreeSet;

const POOLS: [Kind; 3] = [Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX];

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-RT-001",
        title: "Every inference HTTPRoute parentRef resolves to a Gateway listener",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::Gateways, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_parent_exists,
    },
    Check {
        code: "LLMD-RT-002",
        title: "Gateway listeners admit the namespace and kind of every inference HTTPRoute",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::Gateways, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_allowed_routes,
    },
    Check {
        code: "LLMD-RT-003",
        title: "Inference HTTPRoute hostnames intersect their listeners' hostnames",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::Gateways, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_hostnames,
    },
    Check {
        code: "LLMD-RT-004",
        title: "Every InferencePool backendRef names an existing InferencePool",
        category: Category::Routes,
        needs: &POOLS,
        run: check_pool_exists,
    },
    Check {
        code: "LLMD-RT-005",
        title: "InferencePool backendRefs use the pool name, not a hostname",
        category: Category::Routes,
        needs: &POOLS,
        run: check_hostname_backend,
    },
    Check {
        code: "LLMD-RT-006",
        title: "InferencePool backendRefs use the API group the pool exists in",
        category: Category::Routes,
        needs: &POOLS,
        run: check_backend_group,
    },
    Check {
        code: "LLMD-RT-007",
        title: "backendRefs to InferencePools set group and kind",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX, Kind::Services],
        run: check_backend_kind,
    },
    Check {
        code: "LLMD-RT-008",
        title: "Cross-namespace InferencePool backendRefs are permitted by a ReferenceGrant",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX, Kind::ReferenceGrants],
        run: check_reference_grant,
    },
    Check {
        code: "LLMD-RT-009",
        title: "ReferenceGrants to InferencePools name the group the pools exist in",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX, Kind::ReferenceGrants],
        run: check_grant_group,
    },
    Check {
        code: "LLMD-RT-010",
        title: "Every inference HTTPRoute is Accepted by its Gateways",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::Gateways, Kind::InferencePools, Kind::InferencePoolsX, Kind::LiveStatus],
        run: check_route_accepted,
    },
    Check {
        code: "LLMD-RT-011",
        title: "Every inference HTTPRoute has its backendRefs resolved by its Gateways",
        category: Category::Routes,
        needs: &[
            Kind::HttpRoutes,
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::Services,
            Kind::ReferenceGrants,
            Kind::GatewayClasses,
            Kind::Gateways,
            Kind::Deployments,
            Kind::LiveStatus,
        ],
        run: check_route_resolved,
    },
    Check {
        code: "LLMD-RT-012",
        title: "No HTTPRoute reports BackendNotFound for an InferencePool created after the condition",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::InferencePools, Kind::InferencePoolsX, Kind::LiveStatus],
        run: check_stale_backend_not_found,
    },
    Check {
        code: "LLMD-RT-013",
        title: "Inference HTTPRoute timeouts leave room for long generations",
        category: Category::Routes,
        needs: &POOLS,
        run: check_timeouts,
    },
    Check {
        code: "LLMD-RT-014",
        title: "No Istio-routed HTTPRoute rule splits traffic across several InferencePools",
        category: Category::Routes,
        needs: &[Kind::HttpRoutes, Kind::Gateways, Kind::GatewayClasses, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_pools_in_one_rule,
    },
    Check {
        code: "LLMD-RT-015",
        title: "Envoy Gateway inference routes raise Envoy's 15 s default request timeout",
        category: Category::Routes,
        needs: &[
            Kind::HttpRoutes,
            Kind::Gateways,
            Kind::GatewayClasses,
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::BackendTrafficPolicies,
        ],
        run: check_envoy_default_timeout,
    },
];

// ---------------------------------------------------------------------------------------------
// Shared helpers (also used by the gateways module).

/// The shortest request timeout that leaves room for a long generation: llm-d's benchmark harness
/// defaults its HTTPRoutes to `timeouts.request: 300s` because long turns cut off earlier surface
/// as 502s (llm-d/llm-d-benchmark#1617); a 1024-token completion on an L4 already takes ~60 s
/// (modelplaneai/modelplane#174). Gateway API: "0s" disables a timeout, and backendRequest may not
/// exceed request (kubernetes-sigs/gateway-api#2492, site-src/api-types/httproute.md).
const TIMEOUT_FLOOR_MS: u64 = 300_000;
/// What the hint raises a short timeout to: an hour, the long end of llm-d's recipes.
const TIMEOUT_RAISED: &str = "3600s";

fn route_ref(r: &HttpRouteView) -> ObjectRef {
    ObjectRef::new("HTTPRoute", groups::GATEWAY, r.metadata.ns(), &r.metadata.name)
}

/// The v1 and the x-k8s pool called `name` in `ns`.
fn pools_named<'a>(
    snap: &'a Snapshot,
    ns: &str,
    name: &str,
) -> (Option<&'a InferencePoolView>, Option<&'a InferencePoolView>) {
    (snap.pool(ns, name), snap.pool_x(ns, name))
}

fn pool_exists(snap: &Snapshot, ns: &str, name: &str) -> bool {
    let (v1, x) = pools_named(snap, ns, name);
    v1.is_some() || x.is_some()
}

fn target_ns<'a>(route: &'a HttpRouteView, b: &'a BackendRef) -> &'a str {
    b.namespace.as_deref().unwrap_or(route.metadata.ns())
}

fn first_label(name: &str) -> &str {
    name.split('.').next().unwrap_or(name)
}

fn kind_is_service(b: &BackendRef) -> bool {
    b.group_or_core().is_empty() && b.kind_or_service() == "Service"
}

/// True when a backendRef is meant for an InferencePool (named as one, or a pool's name by mistake).
fn is_inference_backend(snap: &Snapshot, route: &HttpRouteView, b: &BackendRef) -> bool {
    let ns = target_ns(route, b);
    b.is_inference_pool()
        || (kind_is_service(b) && (pool_exists(snap, ns, &b.name) || pool_exists(snap, ns, first_label(&b.name))))
}

/// Every (rule index, backendRef index, backendRef) of a route.
fn backend_refs(route: &HttpRouteView) -> impl Iterator<Item = (usize, usize, &BackendRef)> {
    route
        .spec
        .rules
        .iter()
        .enumerate()
        .flat_map(|(i, r)| r.backend_refs.iter().enumerate().map(move |(j, b)| (i, j, b)))
}

fn is_inference_route(snap: &Snapshot, route: &HttpRouteView) -> bool {
    backend_refs(route).any(|(_, _, b)| is_inference_backend(snap, route, b))
}

/// (namespace, name) of the Gateway a parentRef points at, when it points at a Gateway.
fn parent_gateway(route: &HttpRouteView, p: &ParentRef) -> Option<(String, String)> {
    let group = p.group.as_deref().unwrap_or(groups::GATEWAY);
    let kind = p.kind.as_deref().unwrap_or("Gateway");
    (group == groups::GATEWAY && kind == "Gateway")
        .then(|| (p.namespace.clone().unwrap_or_else(|| route.metadata.ns().to_string()), p.name.clone()))
}

/// Gateways (namespace, name) that HTTPRoutes with InferencePool backends attach to.
pub(super) fn inference_gateways(snap: &Snapshot) -> BTreeSet<(String, String)> {
    snap.http_routes
        .items()
        .iter()
        .filter(|r| is_inference_route(snap, r))
        .flat_map(|r| r.spec.parent_refs.iter().filter_map(|p| parent_gateway(r, p)))
        .collect()
}

/// Routes in scope: inference routes plus routes attached to Gateways that front pools.
fn relevant_routes(snap: &Snapshot) -> Vec<&HttpRouteView> {
    let gateways = inference_gateways(snap);
    snap.http_routes
        .items()
        .iter()
        .filter(|r| {
            is_inference_route(snap, r)
                || r.spec.parent_refs.iter().filter_map(|p| parent_gateway(r, p)).any(|k| gateways.contains(&k))
        })
        .collect()
}

fn closest<'a>(name: &str, candidates: &[&'a str]) -> Option<&'a str> {
    let best = candidates
        .iter()
        .map(|c| (strsim::normalized_damerau_levenshtein(name, c), *c))
        .max_by(|a, b| a.0.total_cmp(&b.0))?;
    (best.0 >= 0.4 || candidates.len() == 1).then_some(best.1)
}

fn patch_route(route: &HttpRouteView, ops: &str) -> String {
    format!("kubectl patch httproute {} -n {} --type=json -p '{ops}'", route.metadata.name, route.metadata.ns())
}

fn patch_gateway(gw: &GatewayView, ops: &str) -> String {
    format!("kubectl patch gateway {} -n {} --type=json -p '{ops}'", gw.metadata.name, gw.metadata.ns())
}

// ---------------------------------------------------------------------------------------------
// Timeouts and rules with several pools.

fn check_timeouts(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in snap.http_routes.items() {
        for (i, rule) in route.spec.rules.iter().enumerate() {
            if !rule.backend_refs.iter().any(|b| is_inference_backend(snap, route, b)) {
                continue;
            }
            let t = &rule.timeouts;
            // A set, non-zero timeout below the floor ("0s" disables it; an unparsable value is
            // rejected by the CRD's pattern, so it is not ours to judge).
            fn short(v: Option<&str>) -> Option<(&str, u64)> {
                v.and_then(|d| duration_ms(d).map(|ms| (d, ms))).filter(|(_, ms)| *ms > 0 && *ms < TIMEOUT_FLOOR_MS)
            }
            let (request, backend) = (short(t.request.as_deref()), short(t.backend_request.as_deref()));
            if request.is_none() && backend.is_none() {
                continue;
            }
            // backendRequest may not exceed request: raise it to the (raised) request timeout.
            let request_after = match (request, t.request.as_deref()) {
                (Some(_), _) | (None, None) => TIMEOUT_RAISED.to_string(),
                (None, Some(r)) if duration_ms(r) == Some(0) => TIMEOUT_RAISED.to_string(),
                (None, Some(r)) => {
                    if duration_ms(r).unwrap_or(0) < 3_600_000 {
                        r.to_string()
                    } else {
                        TIMEOUT_RAISED.to_string()
                    }
                }
            };
            let mut ops = Vec::new();
            let mut what = Vec::new();
            if let Some((d, _)) = request {
                ops.push(serde_json::json!({"op": "replace", "path": format!("/spec/rules/{i}/timeouts/request"), "value": TIMEOUT_RAISED}));
                what.push(format!("timeouts.request {d}"));
            }
            if let Some((d, _)) = backend {
                ops.push(serde_json::json!({"op": "replace", "path": format!("/spec/rules/{i}/timeouts/backendRequest"), "value": request_after}));
                what.push(format!("timeouts.backendRequest {d}"));
            }
            let (rns, rname) = (route.metadata.ns(), &route.metadata.name);
            out.push(Issue::warning(
                route_ref(route),
                format!(
                    "HTTPRoute {rns}/{rname} rules[{i}] cuts inference requests off after {}: generations run for \
                     minutes, so long completions end mid-stream (504 or a reset stream) below 300s",
                    what.join(" and ")
                ),
                patch_route(route, &serde_json::Value::Array(ops).to_string()),
            ));
        }
    }
    out
}

/// Envoy Gateway leaves Envoy's route timeout at its 15 s default unless the HTTPRoute rule sets
/// `timeouts` or a BackendTrafficPolicy sets `timeout.http.requestTimeout` (envoyproxy/gateway#1899
/// chose to keep Envoy's default; envoyproxy/ai-gateway#361: "The default envoy proxy timeout is
/// 15s which is too short for GenAI workload"; envoyproxy/gateway#4091 shows the 15 s default
/// cutting requests). A rule setting its own timeouts is LLMD-RT-013's; a policy that may attach
/// by label counts as raising it (labels are not collected, so it is not guessed at).
fn check_envoy_default_timeout(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let policies = snap.backend_traffic_policies.items();
    // A policy's request timeout: None = not set; Some(true) = leaves room for a generation.
    let raises = |p: &crate::snapshot::TrafficPolicyView| {
        p.request_timeout.as_deref().map(|d| duration_ms(d).is_none_or(|ms| ms == 0 || ms >= TIMEOUT_FLOOR_MS))
    };
    let mut out = Vec::new();
    for route in snap.http_routes.items() {
        let (rns, rname) = (route.metadata.ns(), &route.metadata.name);
        let envoy_parents: Vec<(String, String)> = route
            .spec
            .parent_refs
            .iter()
            .filter_map(|p| parent_gateway(route, p))
            .filter(|(ns, name)| {
                snap.gateway(ns, name)
                    .and_then(|gw| snap.gateway_class(&gw.spec.gateway_class_name))
                    .and_then(provider_of_class)
                    .is_some_and(|p| p.id == crate::catalog::ProviderId::EnvoyAiGateway)
            })
            .collect();
        if envoy_parents.is_empty() {
            continue;
        }
        // Policies on the route or on each Envoy Gateway it attaches to.
        let on_route: Vec<_> = policies.iter().filter(|p| p.may_target("HTTPRoute", rns, rname)).collect();
        let on_gateways: Vec<_> = policies
            .iter()
            .filter(|p| envoy_parents.iter().any(|(ns, name)| p.may_target("Gateway", ns, name)))
            .collect();
        // The route's own policy wins over the Gateway's.
        let raised = on_route.iter().find_map(|p| raises(p)).or_else(|| on_gateways.iter().find_map(|p| raises(p)));
        if raised == Some(true) {
            continue;
        }
        for (i, rule) in route.spec.rules.iter().enumerate() {
            if !rule.backend_refs.iter().any(|b| is_inference_backend(snap, route, b)) {
                continue;
            }
            if rule.timeouts.request.is_some() || rule.timeouts.backend_request.is_some() {
                continue;
            }
            let why = match on_route.iter().chain(&on_gateways).find(|p| p.request_timeout.is_some()) {
                Some(p) => format!(
                    "BackendTrafficPolicy {}/{} sets timeout.http.requestTimeout {}",
                    p.namespace,
                    p.name,
                    p.request_timeout.as_deref().unwrap_or_default()
                ),
                None => {
                    "neither the rule nor a BackendTrafficPolicy sets a request timeout, so Envoy's 15s default applies"
                        .to_string()
                }
            };
            let ops = serde_json::json!([{"op": "add", "path": format!("/spec/rules/{i}/timeouts"), "value": {"request": TIMEOUT_RAISED}}]);
            out.push(Issue::warning(
                route_ref(route),
                format!(
                    "HTTPRoute {rns}/{rname} rules[{i}] routes to an InferencePool through Envoy Gateway and {why}: \
                     completions running longer are cut off mid-stream (504 or a reset stream)"
                ),
                patch_route(route, &ops.to_string()),
            ));
        }
    }
    out
}

/// Istio compiled an HTTPRoute rule's InferencePool backendRefs with one endpoint picker for the
/// whole rule: the picker of one pool scores every request, the others are never asked, and when
/// that pool has no ready endpoint the rule answers 503 for every pool (istio/istio#61594, fixed
/// per backendRef by istio/istio#61601). GAIE's conformance suite allows such rules
/// (GatewayWeightedAcrossTwoInferencePools), so only Istio-routed rules are reported.
fn check_pools_in_one_rule(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in snap.http_routes.items() {
        let istio = route.spec.parent_refs.iter().filter_map(|p| parent_gateway(route, p)).any(|(ns, name)| {
            snap.gateway(&ns, &name)
                .and_then(|gw| snap.gateway_class(&gw.spec.gateway_class_name))
                .and_then(provider_of_class)
                .is_some_and(|p| crate::catalog::providers::is_istio_family(p.id))
        });
        if !istio {
            continue;
        }
        for (i, rule) in route.spec.rules.iter().enumerate() {
            let pools: BTreeSet<(String, String)> = rule
                .backend_refs
                .iter()
                .filter(|b| b.is_inference_pool())
                .map(|b| (target_ns(route, b).to_string(), b.name.clone()))
                .collect();
            if pools.len() < 2 {
                continue;
            }
            let names: Vec<String> = pools.iter().map(|(ns, n)| format!("{ns}/{n}")).collect();
            let (rns, rname) = (route.metadata.ns(), &route.metadata.name);
            out.push(Issue::warning(
                route_ref(route),
                format!(
                    "HTTPRoute {rns}/{rname} rules[{i}] splits traffic across InferencePools {} in one rule behind an \
                     Istio Gateway: Istio runs one endpoint picker for the whole rule, so one pool's picker scores \
                     every request and, when its pool has no ready endpoint, the whole rule answers 503 \
                     (istio/istio#61594)",
                    names.join(", ")
                ),
                format!(
                    "give each pool its own rule (one backendRef each, told apart by matches), or run an istiod that \
                     includes istio/istio#61601 (pickers per backendRef): kubectl get httproute {rname} -n {rns} -o yaml"
                ),
            ));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Parents: Gateway, listener, allowedRoutes, hostnames.

/// Whether a listener admits an HTTPRoute from `route_ns`.
#[derive(Debug, Clone, PartialEq)]
enum Admission {
    Yes,
    No(String),
    /// allowedRoutes.namespaces.from: Selector with these labels; namespace labels are not collected.
    Selector(String),
}

fn admission(gw: &GatewayView, l: &Listener, route_ns: &str) -> Admission {
    let allowed = l.allowed_routes.as_ref();
    let kinds = allowed.map(|a| a.kinds.as_slice()).unwrap_or(&[]);
    if !kinds.is_empty() {
        if !kinds
            .iter()
            .any(|k| k.kind == "HTTPRoute" && k.group.as_deref().unwrap_or(groups::GATEWAY) == groups::GATEWAY)
        {
            let names: Vec<&str> = kinds.iter().map(|k| k.kind.as_str()).collect();
            return Admission::No(format!("allowedRoutes.kinds is [{}], without HTTPRoute", names.join(", ")));
        }
    } else if !matches!(l.protocol.as_str(), "HTTP" | "HTTPS") {
        return Admission::No(format!("protocol {} does not accept HTTPRoutes", l.protocol));
    }
    let ns = allowed.and_then(|a| a.namespaces.as_ref());
    match ns.and_then(|n| n.from.as_deref()).unwrap_or("Same") {
        "All" => Admission::Yes,
        "Selector" => {
            let sel = ns.and_then(|n| n.selector.as_ref());
            match sel {
                Some(s) if !s.match_labels.is_empty() || !s.match_expressions.is_empty() => {
                    let mut parts: Vec<String> = s.match_labels.iter().map(|(k, v)| format!("{k}={v}")).collect();
                    if !s.match_expressions.is_empty() {
                        parts.push(format!("{} matchExpressions", s.match_expressions.len()));
                    }
                    Admission::Selector(parts.join(","))
                }
                // An empty selector selects every namespace.
                _ => Admission::Yes,
            }
        }
        _ if gw.metadata.ns() == route_ns => Admission::Yes,
        _ => Admission::No(format!(
            "allowedRoutes.namespaces.from is Same, so only routes in namespace {} attach",
            gw.metadata.ns()
        )),
    }
}

/// Gateway API hostname intersection (a listener wildcard covers one or more leading labels).
fn hostnames_intersect(listener: &str, route: &str) -> bool {
    let (l, r) = (listener.to_ascii_lowercase(), route.to_ascii_lowercase());
    if l == r {
        return true;
    }
    match (l.strip_prefix("*."), r.strip_prefix("*.")) {
        (Some(ls), Some(rs)) => ls == rs || ls.ends_with(&format!(".{rs}")) || rs.ends_with(&format!(".{ls}")),
        (Some(ls), None) => r.ends_with(&format!(".{ls}")),
        (None, Some(rs)) => l.ends_with(&format!(".{rs}")),
        (None, None) => false,
    }
}

/// What is wrong with one parentRef, judged from specs alone.
#[derive(Debug, Clone)]
enum ParentProblem<'a> {
    MissingGateway { ns: String, name: String },
    NoSection { gw: &'a GatewayView, section: String },
    NoPort { gw: &'a GatewayView, port: i64 },
    NotAllowed { gw: &'a GatewayView, listener: usize, why: String },
    Selector { gw: &'a GatewayView, listener: usize, labels: String },
    Hostname { gw: &'a GatewayView, listener_hosts: Vec<String> },
}

fn parent_problem<'a>(snap: &'a Snapshot, route: &HttpRouteView, p: &ParentRef) -> Option<ParentProblem<'a>> {
    let (ns, name) = parent_gateway(route, p)?;
    if !snap.in_scope(&ns) {
        return None;
    }
    let Some(gw) = snap.gateway(&ns, &name) else { return Some(ParentProblem::MissingGateway { ns, name }) };
    let mut candidates: Vec<(usize, &Listener)> = gw.spec.listeners.iter().enumerate().collect();
    if let Some(section) = &p.section_name {
        candidates.retain(|(_, l)| &l.name == section);
        if candidates.is_empty() {
            return Some(ParentProblem::NoSection { gw, section: section.clone() });
        }
    }
    if let Some(port) = p.port {
        candidates.retain(|(_, l)| l.port == port);
        if candidates.is_empty() {
            return Some(ParentProblem::NoPort { gw, port });
        }
    }
    if candidates.is_empty() {
        return None; // A Gateway without listeners is the gateways module's business.
    }
    let route_ns = route.metadata.ns();
    let judged: Vec<(usize, &Listener, Admission)> =
        candidates.into_iter().map(|(i, l)| (i, l, admission(gw, l, route_ns))).collect();
    let admitted: Vec<&(usize, &Listener, Admission)> =
        judged.iter().filter(|(_, _, a)| !matches!(a, Admission::No(_))).collect();
    if admitted.is_empty() {
        let (idx, _, a) = &judged[0];
        let why = match a {
            Admission::No(w) => w.clone(),
            _ => String::new(),
        };
        return Some(ParentProblem::NotAllowed { gw, listener: *idx, why });
    }
    if !route.spec.hostnames.is_empty() {
        let hosts_match = admitted.iter().any(|(_, l, _)| match l.hostname.as_deref() {
            None | Some("") => true,
            Some(h) => route.spec.hostnames.iter().any(|r| hostnames_intersect(h, r)),
        });
        if !hosts_match {
            let listener_hosts = admitted.iter().filter_map(|(_, l, _)| l.hostname.clone()).collect();
            return Some(ParentProblem::Hostname { gw, listener_hosts });
        }
    }
    if !admitted.iter().any(|(_, _, a)| *a == Admission::Yes) {
        if let Some((idx, _, Admission::Selector(labels))) = admitted.first().map(|x| (*x).clone()) {
            return Some(ParentProblem::Selector { gw, listener: idx, labels });
        }
    }
    None
}

fn parent_desc(route: &HttpRouteView, p: &ParentRef) -> String {
    let ns = p.namespace.as_deref().unwrap_or(route.metadata.ns());
    let mut s = format!("Gateway {ns}/{}", p.name);
    if let Some(sec) = &p.section_name {
        s.push_str(&format!(" sectionName {sec}"));
    }
    if let Some(port) = p.port {
        s.push_str(&format!(" port {port}"));
    }
    s
}

/// The route's status entry for a parentRef.
fn parent_status<'a>(
    route: &'a HttpRouteView,
    p: &ParentRef,
) -> impl Iterator<Item = &'a crate::model::RouteParentStatus> {
    let ns = p.namespace.clone().unwrap_or_else(|| route.metadata.ns().to_string());
    let (name, section) = (p.name.clone(), p.section_name.clone());
    let route_ns = route.metadata.ns().to_string();
    route.status.parents.iter().filter(move |s| {
        s.parent_ref.name == name
            && s.parent_ref.namespace.clone().unwrap_or_else(|| route_ns.clone()) == ns
            && (section.is_none() || s.parent_ref.section_name == section)
    })
}

// LLMD-RT-001 (E27)
fn check_parent_exists(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        for (i, p) in route.spec.parent_refs.iter().enumerate() {
            let issue = match parent_problem(snap, route, p) {
                Some(ParentProblem::MissingGateway { ns, name }) => {
                    let in_ns: Vec<&str> = snap
                        .gateways
                        .items()
                        .iter()
                        .filter(|g| g.metadata.ns() == ns)
                        .map(|g| g.metadata.name.as_str())
                        .collect();
                    let hint = match closest(&name, &in_ns) {
                        Some(best) => patch_route(
                            route,
                            &format!(r#"[{{"op":"replace","path":"/spec/parentRefs/{i}/name","value":"{best}"}}]"#),
                        ),
                        None => format!(
                            "create Gateway {ns}/{name} (e.g. class istio, listener http port 80), or point spec.parentRefs[{i}] of HTTPRoute {}/{} at an existing Gateway",
                            route.metadata.ns(),
                            route.metadata.name
                        ),
                    };
                    Issue::error(
                        route_ref(route),
                        format!(
                            "HTTPRoute {}/{} parentRef names Gateway {ns}/{name}, which does not exist (NoMatchingParent)",
                            route.metadata.ns(),
                            route.metadata.name
                        ),
                        hint,
                    )
                }
                Some(ParentProblem::NoSection { gw, section }) => {
                    let names: Vec<&str> = gw.spec.listeners.iter().map(|l| l.name.as_str()).collect();
                    let hint = match closest(&section, &names) {
                        Some(best) => patch_route(
                            route,
                            &format!(
                                r#"[{{"op":"replace","path":"/spec/parentRefs/{i}/sectionName","value":"{best}"}}]"#
                            ),
                        ),
                        None => patch_route(
                            route,
                            &format!(r#"[{{"op":"remove","path":"/spec/parentRefs/{i}/sectionName"}}]"#),
                        ),
                    };
                    Issue::error(
                        route_ref(route),
                        format!(
                            "HTTPRoute {}/{} parentRef sectionName {section:?} names no listener of Gateway {}/{} (listeners: {})",
                            route.metadata.ns(),
                            route.metadata.name,
                            gw.metadata.ns(),
                            gw.metadata.name,
                            names.join(", ")
                        ),
                        hint,
                    )
                }
                Some(ParentProblem::NoPort { gw, port }) => {
                    let ports: Vec<String> = gw.spec.listeners.iter().map(|l| l.port.to_string()).collect();
                    Issue::error(
                        route_ref(route),
                        format!(
                            "HTTPRoute {}/{} parentRef port {port} matches no listener of Gateway {}/{} (ports: {})",
                            route.metadata.ns(),
                            route.metadata.name,
                            gw.metadata.ns(),
                            gw.metadata.name,
                            ports.join(", ")
                        ),
                        patch_route(route, &format!(r#"[{{"op":"remove","path":"/spec/parentRefs/{i}/port"}}]"#)),
                    )
                }
                _ => continue,
            };
            out.push(issue);
        }
    }
    out
}

fn controller_says(route: &HttpRouteView, p: &ParentRef, type_: &str, reason: &str) -> bool {
    parent_status(route, p)
        .any(|s| condition(&s.conditions, type_).is_some_and(|c| c.status == "False" && c.reason == reason))
}

// LLMD-RT-002 (E28)
fn check_allowed_routes(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        let (rns, rname) = (route.metadata.ns(), route.metadata.name.as_str());
        for p in &route.spec.parent_refs {
            match parent_problem(snap, route, p) {
                Some(ParentProblem::NotAllowed { gw, listener, why }) => {
                    let l = &gw.spec.listeners[listener];
                    let hint = if why.contains("kinds") {
                        patch_gateway(
                            gw,
                            &format!(
                                r#"[{{"op":"add","path":"/spec/listeners/{listener}/allowedRoutes/kinds/-","value":{{"kind":"HTTPRoute"}}}}]"#
                            ),
                        )
                    } else if why.contains("protocol") {
                        format!(
                            "attach the route to an HTTP or HTTPS listener of Gateway {}/{} (set spec.parentRefs sectionName), or add one",
                            gw.metadata.ns(),
                            gw.metadata.name
                        )
                    } else {
                        let path = if l.allowed_routes.is_some() {
                            format!("/spec/listeners/{listener}/allowedRoutes/namespaces")
                        } else {
                            format!("/spec/listeners/{listener}/allowedRoutes")
                        };
                        let value = if l.allowed_routes.is_some() {
                            r#"{"from":"All"}"#
                        } else {
                            r#"{"namespaces":{"from":"All"}}"#
                        };
                        patch_gateway(gw, &format!(r#"[{{"op":"add","path":"{path}","value":{value}}}]"#))
                    };
                    out.push(Issue::error(
                        route_ref(route),
                        format!(
                            "HTTPRoute {rns}/{rname} cannot attach to listener {} of Gateway {}/{}: {why} (NotAllowedByListeners)",
                            l.name,
                            gw.metadata.ns(),
                            gw.metadata.name
                        ),
                        hint,
                    ));
                }
                Some(ParentProblem::Selector { gw, listener, labels }) => {
                    let l = &gw.spec.listeners[listener];
                    let confirmed = snap.has_status(Kind::HttpRoutes)
                        && controller_says(route, p, "Accepted", "NotAllowedByListeners");
                    let hint = if labels.contains("matchExpressions") {
                        format!(
                            "label namespace {rns} so it matches listener {}'s allowedRoutes.namespaces.selector on Gateway {}/{}",
                            l.name,
                            gw.metadata.ns(),
                            gw.metadata.name
                        )
                    } else {
                        format!("kubectl label namespace {rns} {} --overwrite", labels.replace(',', " "))
                    };
                    let msg = if confirmed {
                        format!(
                            "HTTPRoute {rns}/{rname} is rejected by listener {} of Gateway {}/{} (NotAllowedByListeners): namespace {rns} does not match its selector {labels}",
                            l.name,
                            gw.metadata.ns(),
                            gw.metadata.name
                        )
                    } else {
                        format!(
                            "Listener {} of Gateway {}/{} admits routes from namespaces labelled {labels}; namespace labels are not collected, so whether {rns} is admitted could not be verified",
                            l.name,
                            gw.metadata.ns(),
                            gw.metadata.name
                        )
                    };
                    out.push(if confirmed {
                        Issue::error(route_ref(route), msg, hint)
                    } else {
                        Issue::info(route_ref(route), msg, hint)
                    });
                }
                _ => {}
            }
        }
    }
    out
}

// LLMD-RT-003 (E29)
fn check_hostnames(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        for p in &route.spec.parent_refs {
            if let Some(ParentProblem::Hostname { gw, listener_hosts }) = parent_problem(snap, route, p) {
                let first = listener_hosts.first().cloned().unwrap_or_default();
                out.push(Issue::error(
                    route_ref(route),
                    format!(
                        "HTTPRoute {}/{} hostnames [{}] intersect none of the listener hostnames [{}] of Gateway {}/{} (NoMatchingListenerHostname)",
                        route.metadata.ns(),
                        route.metadata.name,
                        route.spec.hostnames.join(", "),
                        listener_hosts.join(", "),
                        gw.metadata.ns(),
                        gw.metadata.name
                    ),
                    patch_route(route, &format!(r#"[{{"op":"add","path":"/spec/hostnames/-","value":"{first}"}}]"#)),
                ));
            }
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Backends.

/// What is wrong with one backendRef, judged from specs alone (one problem per ref, in priority order).
#[derive(Debug, Clone, PartialEq)]
enum BackendProblem {
    /// No pool of that name in either group (E5).
    Missing { ns: String, suggestion: Option<String>, existing: Vec<String> },
    /// The name is a hostname (E8); `pool` is the pool its first label names.
    Hostname { pool: Option<String> },
    /// The group does not match where the pool exists (E3); `fixable` when the target group is v1.
    WrongGroup { to: &'static str, both: bool },
    /// Kind omitted, so it means a Service, but a pool has that name (E7).
    KindOmitted { group: &'static str },
    /// Cross-namespace without a ReferenceGrant (E24).
    NoGrant { ns: String, group: &'static str },
    /// Cross-namespace with a grant that names the other inference group (E25, reported on the grant).
    GrantGroup,
}

fn grant_allows(g: &ReferenceGrantView, from_ns: &str, to_group: &str, to_name: &str) -> bool {
    g.spec.from.iter().any(|f| f.group == groups::GATEWAY && f.kind == "HTTPRoute" && f.namespace == from_ns)
        && g.spec
            .to
            .iter()
            .any(|t| t.group == to_group && t.kind == "InferencePool" && t.name.as_deref().is_none_or(|n| n == to_name))
}

fn grants_in<'a>(snap: &'a Snapshot, ns: &'a str) -> impl Iterator<Item = &'a ReferenceGrantView> + 'a {
    snap.reference_grants.items().iter().filter(move |g| g.metadata.ns() == ns)
}

fn other_group(group: &str) -> &'static str {
    if group == groups::INFERENCE {
        groups::INFERENCE_X
    } else {
        groups::INFERENCE
    }
}

fn backend_problem(snap: &Snapshot, route: &HttpRouteView, b: &BackendRef) -> Option<BackendProblem> {
    let ns = target_ns(route, b);
    if !snap.in_scope(ns) {
        return None;
    }
    if b.name.contains('.')
        && (b.is_inference_pool() || (kind_is_service(b) && pool_exists(snap, ns, first_label(&b.name))))
    {
        let label = first_label(&b.name);
        return Some(BackendProblem::Hostname { pool: pool_exists(snap, ns, label).then(|| label.to_string()) });
    }
    let (v1, x) = pools_named(snap, ns, &b.name);
    if kind_is_service(b) {
        if (v1.is_some() || x.is_some()) && snap.service(ns, &b.name).is_none() {
            let group = if v1.is_some() { groups::INFERENCE } else { groups::INFERENCE_X };
            return Some(BackendProblem::KindOmitted { group });
        }
        return None;
    }
    if !b.is_inference_pool() {
        return None;
    }
    if v1.is_none() && x.is_none() {
        let existing: Vec<String> = snap
            .all_pools()
            .filter(|p| p.metadata.ns() == ns)
            .map(|p| p.metadata.name.clone())
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect();
        let refs: Vec<&str> = existing.iter().map(String::as_str).collect();
        let suggestion = closest(&b.name, &refs).map(str::to_string);
        return Some(BackendProblem::Missing { ns: ns.to_string(), suggestion, existing });
    }
    let group = b.group_or_core();
    let effective = match (group, v1.is_some(), x.is_some()) {
        (groups::INFERENCE, true, _) => groups::INFERENCE,
        (groups::INFERENCE_X, false, true) => groups::INFERENCE_X,
        (groups::INFERENCE_X, true, both) => return Some(BackendProblem::WrongGroup { to: groups::INFERENCE, both }),
        (groups::INFERENCE, false, true) => {
            return Some(BackendProblem::WrongGroup { to: groups::INFERENCE_X, both: false })
        }
        (_, true, _) => return Some(BackendProblem::WrongGroup { to: groups::INFERENCE, both: false }),
        (_, false, _) => return Some(BackendProblem::WrongGroup { to: groups::INFERENCE_X, both: false }),
    };
    let route_ns = route.metadata.ns();
    if ns != route_ns && !grants_in(snap, ns).any(|g| grant_allows(g, route_ns, effective, &b.name)) {
        if grants_in(snap, ns).any(|g| grant_allows(g, route_ns, other_group(effective), &b.name)) {
            return Some(BackendProblem::GrantGroup);
        }
        return Some(BackendProblem::NoGrant { ns: ns.to_string(), group: effective });
    }
    None
}

/// Every (route, rule index, ref index, backendRef, problem) among in-scope routes.
fn backend_problems(snap: &Snapshot) -> Vec<(&HttpRouteView, usize, usize, &BackendRef, BackendProblem)> {
    let mut out = Vec::new();
    for route in snap.http_routes.items() {
        for (i, j, b) in backend_refs(route) {
            if let Some(p) = backend_problem(snap, route, b) {
                out.push((route, i, j, b, p));
            }
        }
    }
    out
}

fn backend_path(i: usize, j: usize) -> String {
    format!("/spec/rules/{i}/backendRefs/{j}")
}

// LLMD-RT-004 (E5)
fn check_pool_exists(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (route, i, j, b, p) in backend_problems(ctx.snapshot) {
        let BackendProblem::Missing { ns, suggestion, existing } = p else { continue };
        let message = format!(
            "HTTPRoute {}/{} rules[{i}].backendRefs[{j}] names InferencePool {ns}/{}, which does not exist in {} or {} (BackendNotFound){}",
            route.metadata.ns(),
            route.metadata.name,
            b.name,
            groups::INFERENCE,
            groups::INFERENCE_X,
            if existing.is_empty() {
                format!("; namespace {ns} has no InferencePool")
            } else {
                format!("; pools in {ns}: {}", existing.join(", "))
            }
        );
        let hint = match suggestion {
            Some(s) => patch_route(route, &format!(r#"[{{"op":"replace","path":"{}/name","value":"{s}"}}]"#, backend_path(i, j))),
            None => format!(
                "create the pool: helm install {} oci://registry.k8s.io/gateway-api-inference-extension/charts/inferencepool -n {ns} --version {} --set inferencePool.modelServers.matchLabels.app=MODEL_SERVER_LABEL",
                b.name,
                ctx.profile.inference_extension
            ),
        };
        out.push(Issue::error(route_ref(route), message, hint));
    }
    out
}

// LLMD-RT-005 (E8)
fn check_hostname_backend(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (route, i, j, b, p) in backend_problems(ctx.snapshot) {
        let BackendProblem::Hostname { pool } = p else { continue };
        let hint = match &pool {
            Some(name) => {
                let mut ops = vec![format!(r#"{{"op":"replace","path":"{}/name","value":"{name}"}}"#, backend_path(i, j))];
                if !b.is_inference_pool() {
                    let group = if pools_named(ctx.snapshot, target_ns(route, b), name).0.is_some() {
                        groups::INFERENCE
                    } else {
                        groups::INFERENCE_X
                    };
                    ops.push(format!(r#"{{"op":"add","path":"{}/group","value":"{group}"}}"#, backend_path(i, j)));
                    ops.push(format!(r#"{{"op":"add","path":"{}/kind","value":"InferencePool"}}"#, backend_path(i, j)));
                }
                patch_route(route, &format!("[{}]", ops.join(",")))
            }
            None => format!(
                "set spec.rules[{i}].backendRefs[{j}].name in HTTPRoute {}/{} to the InferencePool's metadata.name (a name, not a DNS hostname)",
                route.metadata.ns(),
                route.metadata.name
            ),
        };
        out.push(Issue::error(
            route_ref(route),
            format!(
                "HTTPRoute {}/{} rules[{i}].backendRefs[{j}] name {:?} is a hostname; backendRefs take the InferencePool's name{}",
                route.metadata.ns(),
                route.metadata.name,
                b.name,
                pool.map(|p| format!(" ({p})")).unwrap_or_default()
            ),
            hint,
        ));
    }
    out
}

// LLMD-RT-006 (E3, x-k8s group after migration)
fn check_backend_group(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (route, i, j, b, p) in backend_problems(ctx.snapshot) {
        let BackendProblem::WrongGroup { to, both } = p else { continue };
        let ns = target_ns(route, b);
        let current = b.group.as_deref().unwrap_or("\"\" (core)");
        let patch =
            patch_route(route, &format!(r#"[{{"op":"add","path":"{}/group","value":"{to}"}}]"#, backend_path(i, j)));
        let repair =
            Repair::Edit { target: route_ref(route), ops: vec![Op::set(format!("{}/group", backend_path(i, j)), to)] };
        let base = format!(
            "HTTPRoute {}/{} rules[{i}].backendRefs[{j}] names InferencePool {ns}/{} in group {current}",
            route.metadata.ns(),
            route.metadata.name,
            b.name
        );
        let issue = if to == groups::INFERENCE {
            let msg = if both {
                format!("{base}; the pool also exists as {to}/v1, which current gateways route: switch the route to v1")
            } else {
                format!("{base}, but the pool exists only as {to}/v1 (ResolvedRefs False InvalidKind/BackendNotFound)")
            };
            let issue = if both {
                Issue::warning(route_ref(route), msg, patch)
            } else {
                Issue::error(route_ref(route), msg, patch)
            };
            issue.repair(repair)
        } else if b.group_or_core() == groups::INFERENCE {
            Issue::error(
                route_ref(route),
                format!("{base}, but the pool exists only as {to}/v1alpha2"),
                format!(
                    "convert InferencePool {ns}/{} to {}/v1 (kubectl llmd doctor --fix), or while your gateway still speaks v1alpha2: {patch}",
                    b.name,
                    groups::INFERENCE
                ),
            )
        } else {
            Issue::error(
                route_ref(route),
                format!("{base}, which is not an InferencePool API group; the pool exists as {to}"),
                patch,
            )
            .repair(repair)
        };
        out.push(issue);
    }
    out
}

// LLMD-RT-007 (E7)
fn check_backend_kind(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (route, i, j, b, p) in backend_problems(ctx.snapshot) {
        let BackendProblem::KindOmitted { group } = p else { continue };
        let ns = target_ns(route, b);
        let path = backend_path(i, j);
        out.push(
            Issue::error(
                route_ref(route),
                format!(
                    "HTTPRoute {}/{} rules[{i}].backendRefs[{j}] {:?} has no group/kind, so it means a Service, but only InferencePool {ns}/{} exists",
                    route.metadata.ns(),
                    route.metadata.name,
                    b.name,
                    b.name
                ),
                patch_route(
                    route,
                    &format!(
                        r#"[{{"op":"add","path":"{path}/group","value":"{group}"}},{{"op":"add","path":"{path}/kind","value":"InferencePool"}}]"#
                    ),
                ),
            )
            .repair(Repair::Edit {
                target: route_ref(route),
                ops: vec![Op::set(format!("{path}/group"), group), Op::set(format!("{path}/kind"), "InferencePool")],
            }),
        );
    }
    out
}

/// The narrowest grant letting HTTPRoutes of `from_ns` reference pool `pool` of `group` in `grant_ns`
/// (v1beta1 here; `doctor --fix` writes it at the version the cluster prefers, v1 where served).
fn grant_object(grant_ns: &str, from_ns: &str, group: &str, pool: &str) -> serde_json::Value {
    serde_json::json!({
        "apiVersion": format!("{}/v1beta1", groups::GATEWAY),
        "kind": "ReferenceGrant",
        "metadata": {"name": format!("allow-httproutes-from-{from_ns}"), "namespace": grant_ns},
        "spec": {
            "from": [{"group": groups::GATEWAY, "kind": "HTTPRoute", "namespace": from_ns}],
            "to": [{"group": group, "kind": "InferencePool", "name": pool}],
        },
    })
}

fn grant_apply_hint(grant_ns: &str, from_ns: &str, group: &str, pool: &str) -> String {
    format!(
        r#"echo '{{"apiVersion":"gateway.networking.k8s.io/v1beta1","kind":"ReferenceGrant","metadata":{{"name":"allow-httproutes-from-{from_ns}","namespace":"{grant_ns}"}},"spec":{{"from":[{{"group":"gateway.networking.k8s.io","kind":"HTTPRoute","namespace":"{from_ns}"}}],"to":[{{"group":"{group}","kind":"InferencePool","name":"{pool}"}}]}}}}' | kubectl apply -f -"#
    )
}

// LLMD-RT-008 (E24)
fn check_reference_grant(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (route, i, j, b, p) in backend_problems(ctx.snapshot) {
        let BackendProblem::NoGrant { ns, group } = p else { continue };
        let rns = route.metadata.ns();
        out.push(
            Issue::error(
                route_ref(route),
                format!(
                    "HTTPRoute {rns}/{} rules[{i}].backendRefs[{j}] references InferencePool {ns}/{} in another namespace, and no ReferenceGrant in {ns} allows HTTPRoutes from {rns} (RefNotPermitted)",
                    route.metadata.name,
                    b.name
                ),
                grant_apply_hint(&ns, rns, group, &b.name),
            )
            .repair(Repair::Create { object: grant_object(&ns, rns, group, &b.name) }),
        );
    }
    out
}

// LLMD-RT-009 (E25)
fn check_grant_group(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let problems = backend_problems(snap);
    let mut out = Vec::new();
    for g in snap.reference_grants.items() {
        let ns = g.metadata.ns();
        for (idx, to) in g.spec.to.iter().enumerate() {
            if to.group != groups::INFERENCE_X || to.kind != "InferencePool" {
                continue;
            }
            let matches = |p: &&InferencePoolView| {
                p.metadata.ns() == ns && to.name.as_deref().is_none_or(|n| n == p.metadata.name)
            };
            let v1: Vec<&str> = snap.pools.items().iter().filter(matches).map(|p| p.metadata.name.as_str()).collect();
            if v1.is_empty() {
                continue;
            }
            // Already granted for the v1 group as well (e.g. by an earlier `doctor --fix`).
            let v1_granted = g.spec.to.iter().any(|t| {
                t.group == groups::INFERENCE && t.kind == "InferencePool" && (t.name.is_none() || t.name == to.name)
            });
            if v1_granted {
                continue;
            }
            let x_left = snap.pools_x.items().iter().any(|p| matches(&p));
            // Error when a route depends on this grant for a v1 pool right now.
            let blocking = problems.iter().any(|(route, _, _, b, p)| {
                *p == BackendProblem::GrantGroup
                    && target_ns(route, b) == ns
                    && grant_allows(g, route.metadata.ns(), groups::INFERENCE_X, &b.name)
            });
            let gref = ObjectRef::new("ReferenceGrant", groups::GATEWAY, ns, &g.metadata.name);
            let msg = format!(
                "ReferenceGrant {ns}/{} spec.to[{idx}] allows InferencePools of group {}, but the pools in {ns} ({}) are {}/v1, so cross-namespace routes to them are RefNotPermitted",
                g.metadata.name,
                groups::INFERENCE_X,
                v1.join(", "),
                groups::INFERENCE
            );
            let value = match &to.name {
                Some(n) => format!(r#"{{"group":"{}","kind":"InferencePool","name":"{n}"}}"#, groups::INFERENCE),
                None => format!(r#"{{"group":"{}","kind":"InferencePool"}}"#, groups::INFERENCE),
            };
            let gref_edit = ObjectRef::new("ReferenceGrant", groups::GATEWAY, ns, &g.metadata.name);
            let op = if x_left {
                let mut entry = serde_json::json!({"group": groups::INFERENCE, "kind": "InferencePool"});
                if let Some(n) = &to.name {
                    entry["name"] = serde_json::json!(n);
                }
                Op::push("/spec/to", entry)
            } else {
                Op::set(format!("/spec/to/{idx}/group"), groups::INFERENCE)
            };
            let hint = if x_left {
                format!(
                    "kubectl patch referencegrant {} -n {ns} --type=json -p '[{{\"op\":\"add\",\"path\":\"/spec/to/-\",\"value\":{value}}}]'",
                    g.metadata.name
                )
            } else {
                format!(
                    "kubectl patch referencegrant {} -n {ns} --type=json -p '[{{\"op\":\"replace\",\"path\":\"/spec/to/{idx}/group\",\"value\":\"{}\"}}]'",
                    g.metadata.name,
                    groups::INFERENCE
                )
            };
            let issue = if blocking { Issue::error(gref, msg, hint) } else { Issue::warning(gref, msg, hint) };
            out.push(issue.repair(Repair::Edit { target: gref_edit, ops: vec![op] }));
        }
    }
    out
}

// ---------------------------------------------------------------------------------------------
// Status written by the gateway controllers.

fn describe(c: &Condition) -> String {
    if c.message.is_empty() {
        c.reason.clone()
    } else {
        format!("{}: {}", c.reason, c.message)
    }
}

// LLMD-RT-010 (E27–E29 as the controller sees them)
fn check_route_accepted(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        let (rns, rname) = (route.metadata.ns(), route.metadata.name.as_str());
        for p in &route.spec.parent_refs {
            // Causes visible in the specs are reported by LLMD-RT-001..003 with a precise fix.
            if parent_problem(snap, route, p).is_some() {
                continue;
            }
            let Some(c) = parent_status(route, p)
                .find_map(|s| condition(&s.conditions, "Accepted").filter(|c| c.status != "True"))
            else {
                continue;
            };
            let parent = parent_desc(route, p);
            let hint = match c.reason.as_str() {
                "NotAllowedByListeners" => format!(
                    "let the listener admit namespace {rns}: set spec.listeners[].allowedRoutes.namespaces on {parent} (from: All, or a selector matching {rns})"
                ),
                "NoMatchingListenerHostname" => format!(
                    "make spec.hostnames of HTTPRoute {rns}/{rname} intersect a listener hostname of {parent}"
                ),
                "NoMatchingParent" => format!("set spec.parentRefs of HTTPRoute {rns}/{rname} to an existing Gateway and listener"),
                "Pending" | "" => format!(
                    "the controller of {parent} has not processed the route yet; re-trigger it: kubectl annotate httproute {rname} -n {rns} kubectl-llmd/nudge=$(date +%s) --overwrite"
                ),
                _ => format!("fix the field of HTTPRoute {rns}/{rname} named by the controller: {}", describe(c)),
            };
            let msg = format!("HTTPRoute {rns}/{rname} is not Accepted by {parent} ({} {})", c.status, describe(c));
            out.push(if c.status == "False" {
                Issue::error(route_ref(route), msg, hint)
            } else {
                Issue::warning(route_ref(route), msg, hint)
            });
        }
    }
    out
}

/// The pools an inference route references that exist (in any group).
fn referenced_pools<'a>(snap: &'a Snapshot, route: &HttpRouteView) -> Vec<&'a InferencePoolView> {
    backend_refs(route)
        .filter(|(_, _, b)| is_inference_backend(snap, route, b))
        .flat_map(|(_, _, b)| {
            let (v1, x) = pools_named(snap, target_ns(route, b), &b.name);
            v1.into_iter().chain(x)
        })
        .collect()
}

/// "2025-01-02T03:04:05Z" → comparable key (Kubernetes writes UTC, second precision).
fn timestamp_key(s: &str) -> Option<&str> {
    let b = s.as_bytes();
    let ok = b.len() >= 19
        && b[4] == b'-'
        && b[7] == b'-'
        && b[10] == b'T'
        && b[13] == b':'
        && b[16] == b':'
        && s.ends_with('Z')
        && [0, 1, 2, 3, 5, 6, 8, 9, 11, 12, 14, 15, 17, 18].iter().all(|&i| b[i].is_ascii_digit());
    ok.then(|| &s[..19])
}

/// The BackendNotFound condition is older than a referenced pool (E6).
fn stale_pool<'a>(snap: &'a Snapshot, route: &HttpRouteView, c: &Condition) -> Option<&'a InferencePoolView> {
    let since = timestamp_key(c.last_transition_time.as_deref()?)?;
    referenced_pools(snap, route).into_iter().find(|p| {
        p.metadata.creation_timestamp.as_deref().and_then(timestamp_key).is_some_and(|created| created > since)
    })
}

fn backend_not_found(route: &HttpRouteView) -> Option<&Condition> {
    route.status.parents.iter().find_map(|s| {
        condition(&s.conditions, "ResolvedRefs").filter(|c| c.status == "False" && c.reason == "BackendNotFound")
    })
}

/// Providers (by controllerName) behind a route's status entries whose inference switch is off.
fn switch_off_for(snap: &Snapshot, route: &HttpRouteView) -> bool {
    route.status.parents.iter().any(|s| {
        let provider = provider_for_controller(&s.controller_name).or_else(|| {
            let gw =
                snap.gateway(s.parent_ref.namespace.as_deref().unwrap_or(route.metadata.ns()), &s.parent_ref.name)?;
            provider_of_class(snap.gateway_class(&gw.spec.gateway_class_name)?)
        });
        provider.is_some_and(|p| inference_switch_off(snap, p))
    })
}

// LLMD-RT-011 (ResolvedRefs False, causes not visible in the specs)
fn check_route_resolved(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        let (rns, rname) = (route.metadata.ns(), route.metadata.name.as_str());
        let problems: Vec<BackendProblem> =
            backend_refs(route).filter_map(|(_, _, b)| backend_problem(snap, route, b)).collect();
        let mut seen = BTreeSet::new();
        for s in &route.status.parents {
            let Some(c) = condition(&s.conditions, "ResolvedRefs").filter(|c| c.status == "False") else { continue };
            if !seen.insert(c.reason.clone()) {
                continue;
            }
            let pools = referenced_pools(snap, route);
            let only_x = !pools.is_empty() && pools.iter().all(|p| p.api.group() == groups::INFERENCE_X);
            let migrate = pools
                .iter()
                .find(|p| p.api.group() == groups::INFERENCE_X)
                .map(|p| {
                    format!(
                        "convert InferencePool {}/{} to {}/v1 and point the backendRef at it (kubectl llmd doctor --fix)",
                        p.metadata.ns(),
                        p.metadata.name,
                        groups::INFERENCE
                    )
                })
                .unwrap_or_default();
            let nudge =
                format!("kubectl annotate httproute {rname} -n {rns} kubectl-llmd/nudge=$(date +%s) --overwrite");
            let hint = match c.reason.as_str() {
                "BackendNotFound" => {
                    if problems.iter().any(|p| {
                        matches!(
                            p,
                            BackendProblem::Missing { .. }
                                | BackendProblem::Hostname { .. }
                                | BackendProblem::WrongGroup { .. }
                                | BackendProblem::KindOmitted { .. }
                        )
                    }) || stale_pool(snap, route, c).is_some()
                        || switch_off_for(snap, route)
                    {
                        continue; // LLMD-RT-004..007, LLMD-RT-012, LLMD-GWC-005
                    }
                    if only_x {
                        format!("the gateway does not serve v1alpha2 pools: {migrate}")
                    } else {
                        format!("re-trigger reconciliation of the route: {nudge}")
                    }
                }
                "InvalidKind" => {
                    if problems
                        .iter()
                        .any(|p| matches!(p, BackendProblem::WrongGroup { .. } | BackendProblem::KindOmitted { .. }))
                        || switch_off_for(snap, route)
                    {
                        continue;
                    }
                    if only_x {
                        format!("the gateway does not know the x-k8s InferencePool kind: {migrate}")
                    } else {
                        let provider = provider_for_controller(&s.controller_name);
                        match provider {
                            Some(p) => format!(
                                "switch on InferencePool support in {}: {}",
                                p.name,
                                super::gatewayclasses::enable_command_in(snap, p)
                            ),
                            None => format!(
                                "use a gateway whose controller supports {}/InferencePool (kubectl llmd gateway install --provider istio)",
                                groups::INFERENCE
                            ),
                        }
                    }
                }
                "RefNotPermitted" => {
                    if problems.iter().any(|p| matches!(p, BackendProblem::NoGrant { .. } | BackendProblem::GrantGroup))
                    {
                        continue; // LLMD-RT-008/009
                    }
                    format!(
                        "create a ReferenceGrant in each backend's namespace allowing HTTPRoutes from namespace {rns} (see `kubectl get referencegrants -A`)"
                    )
                }
                _ => format!("fix the backendRef of HTTPRoute {rns}/{rname} named by the controller: {}", describe(c)),
            };
            let gw = format!("Gateway {}/{}", s.parent_ref.namespace.as_deref().unwrap_or(rns), s.parent_ref.name);
            out.push(Issue::error(
                route_ref(route),
                format!(
                    "HTTPRoute {rns}/{rname} backendRefs are not resolved by {gw} ({}; controller {})",
                    describe(c),
                    s.controller_name
                ),
                hint,
            ));
        }
    }
    out
}

// LLMD-RT-012 (E6)
fn check_stale_backend_not_found(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for route in relevant_routes(snap) {
        let Some(c) = backend_not_found(route) else { continue };
        let Some(pool) = stale_pool(snap, route, c) else { continue };
        let (rns, rname) = (route.metadata.ns(), route.metadata.name.as_str());
        out.push(Issue::error(
            route_ref(route),
            format!(
                "HTTPRoute {rns}/{rname} still reports BackendNotFound since {}, but InferencePool {}/{} was created later ({}); the controller has not re-read the route",
                c.last_transition_time.as_deref().unwrap_or(""),
                pool.metadata.ns(),
                pool.metadata.name,
                pool.metadata.creation_timestamp.as_deref().unwrap_or("")
            ),
            format!("kubectl annotate httproute {rname} -n {rns} kubectl-llmd/nudge=$(date +%s) --overwrite"),
        ));
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{self, condition, Obj};
    use crate::findings::Severity;
    use serde_json::{json, Value};

    fn found(snap: &Snapshot, code: &str) -> Vec<Issue> {
        fixtures::issues_in(CHECKS, code, snap)
    }

    fn codes(snap: &Snapshot) -> Vec<String> {
        fixtures::codes_in(CHECKS, snap)
    }

    /// A snapshot of the objects (builders or YAML).
    macro_rules! snap {
        ($($o:expr),* $(,)?) => { fixtures::snapshot(&[$($o.to_string()),*].join("\n---\n")) };
    }

    const GW: &str = "llm-d-inference-gateway";

    /// Gateway llm/llm-d-inference-gateway of class istio, one HTTP listener on 80 (same namespace only).
    fn gateway() -> Obj {
        fixtures::gateway("llm", GW).listener("http", 80, "HTTP")
    }

    /// The Gateway with its listener open to routes of every namespace.
    fn open_gateway() -> Obj {
        gateway().set("spec.listeners.0.allowedRoutes", json!({"namespaces": {"from": "All"}}))
    }

    /// InferencePool llm/qwen-pool: pods app=qwen, picker qwen-epp.
    fn pool() -> Obj {
        fixtures::pool("llm", "qwen-pool").selector("app", "qwen").picker("qwen-epp").created("2025-06-01T10:00:00Z")
    }

    /// The same pool on the alpha x-k8s API.
    fn alpha_pool() -> Obj {
        fixtures::alpha_pool("llm", "qwen-pool").selector("app", "qwen").picker("qwen-epp")
    }

    /// HTTPRoute qwen-route in `ns`, without parents or backends.
    fn route(ns: &str) -> Obj {
        fixtures::route(ns, "qwen-route")
    }

    /// The healthy route: the Gateway its parent, the pool its backend.
    fn good_route() -> Obj {
        route("llm").parent_gateway(GW).backend_pool("qwen-pool")
    }

    /// A route in `apps` to the Gateway and the pool of `llm`.
    fn cross_namespace_route() -> Obj {
        route("apps").parent(json!({"name": GW, "namespace": "llm"})).backend(
            json!({"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "qwen-pool", "namespace": "llm"}),
        )
    }

    #[test]
    fn a_healthy_route_has_no_findings() {
        let s = snap!(gateway(), pool(), good_route());
        assert!(codes(&s).is_empty(), "{:?}", codes(&s));
    }

    #[test]
    fn rt001_missing_gateway_and_section() {
        let r = route("llm").parent_gateway("llm-d-infernce-gateway").backend_pool("qwen-pool");
        let s = snap!(gateway(), pool(), r);
        let f = found(&s, "LLMD-RT-001");
        assert_eq!(f.len(), 1);
        assert_eq!((f[0].object.name.as_str(), f[0].severity), ("qwen-route", Severity::Error));
        assert!(
            f[0].message.contains("llm/llm-d-infernce-gateway")
                && f[0].hint.contains("\"value\":\"llm-d-inference-gateway\"")
        );
        let r = route("llm").parent(json!({"name": GW, "sectionName": "https"})).backend_pool("qwen-pool");
        let s = snap!(gateway(), pool(), r);
        let f = found(&s, "LLMD-RT-001");
        assert!(f[0].message.contains("sectionName \"https\"") && f[0].hint.contains("\"value\":\"http\""), "{f:?}");
        let r = route("llm").parent(json!({"name": GW, "sectionName": "http", "port": 80})).backend_pool("qwen-pool");
        assert!(found(&snap!(gateway(), pool(), r), "LLMD-RT-001").is_empty());
    }

    const GRANT_TO_POOLS: &str = r#"
apiVersion: gateway.networking.k8s.io/v1beta1
kind: ReferenceGrant
metadata: {name: allow, namespace: llm}
spec:
  from: [{group: gateway.networking.k8s.io, kind: HTTPRoute, namespace: apps}]
  to: [{group: inference.networking.k8s.io, kind: InferencePool}]
"#;

    #[test]
    fn rt002_same_namespace_listener_rejects_other_namespaces() {
        let r = cross_namespace_route();
        let s = snap!(gateway(), pool(), r, GRANT_TO_POOLS);
        assert_eq!(codes(&s), vec!["LLMD-RT-002"]);
        let f = &found(&s, "LLMD-RT-002")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(
            f.message.contains("from is Same")
                && f.hint.contains(r#""path":"/spec/listeners/0/allowedRoutes","value":{"namespaces":{"from":"All"}}"#),
            "{f:?}"
        );
        assert!(codes(&snap!(open_gateway(), pool(), r, GRANT_TO_POOLS)).is_empty());
        let sel = gateway().set(
            "spec.listeners.0.allowedRoutes",
            json!({"namespaces": {"from": "Selector", "selector": {"matchLabels": {"llm-d/gateway": "enabled"}}}}),
        );
        let s = snap!(sel, pool(), r, GRANT_TO_POOLS);
        let f = found(&s, "LLMD-RT-002");
        assert_eq!(f[0].severity, Severity::Info);
        assert!(f[0].hint.contains("kubectl label namespace apps llm-d/gateway=enabled"));
    }

    #[test]
    fn rt003_hostnames_must_intersect() {
        let gw = gateway().set("spec.listeners.0.hostname", "*.models.example.com");
        let r = good_route().set("spec.hostnames", json!(["api.example.org"]));
        let s = snap!(gw, pool(), r);
        let f = found(&s, "LLMD-RT-003");
        assert_eq!((f.len(), f[0].severity), (1, Severity::Error));
        assert!(f[0].hint.contains(r#""value":"*.models.example.com""#));
        let r = good_route().set("spec.hostnames", json!(["qwen.models.example.com"]));
        assert!(found(&snap!(gw, pool(), r), "LLMD-RT-003").is_empty());
        assert!(hostnames_intersect("*.example.com", "a.b.example.com"));
        assert!(!hostnames_intersect("*.example.com", "example.com"));
        assert!(hostnames_intersect("foo.example.com", "*.example.com"));
        assert!(hostnames_intersect("*.example.com", "*.a.example.com"));
    }

    #[test]
    fn rt004_missing_pool_suggests_the_closest() {
        let r = route("llm").parent_gateway(GW).backend_pool("qwen-pol");
        let s = snap!(gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-004"]);
        let f = &found(&s, "LLMD-RT-004")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("llm/qwen-pol") && f.hint.contains("\"value\":\"qwen-pool\""), "{f:?}");
        assert!(f.repair.is_none());
        let s = snap!(gateway(), r);
        assert!(found(&s, "LLMD-RT-004")[0].hint.contains("helm install qwen-pol"));
    }

    #[test]
    fn rt005_hostname_as_pool_name() {
        let r = route("llm").parent_gateway(GW).backend_pool("qwen-pool.llm.svc.cluster.local");
        let s = snap!(gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-005"]);
        let f = &found(&s, "LLMD-RT-005")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("hostname") && f.hint.contains("\"value\":\"qwen-pool\""));
    }

    /// A route to the pool on the alpha x-k8s group.
    fn x_k8s_route() -> Obj {
        route("llm")
            .parent_gateway(GW)
            .backend(json!({"group": "inference.networking.x-k8s.io", "kind": "InferencePool", "name": "qwen-pool"}))
    }

    #[test]
    fn rt006_x_k8s_group_after_migration_is_fixable() {
        let r = x_k8s_route();
        let s = snap!(gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-006"]);
        let f = &found(&s, "LLMD-RT-006")[0];
        assert_eq!((f.severity, f.repair.is_some()), (Severity::Error, true));
        assert!(f.hint.contains(r#""path":"/spec/rules/0/backendRefs/0/group","value":"inference.networking.k8s.io""#));
        // Both pools exist: a warning to switch.
        let s = snap!(gateway(), pool(), alpha_pool(), r);
        assert_eq!(found(&s, "LLMD-RT-006")[0].severity, Severity::Warning);
        // x-k8s pool only and the route on x-k8s: nothing for this check.
        assert!(found(&snap!(gateway(), alpha_pool(), r), "LLMD-RT-006").is_empty());
    }

    #[test]
    fn rt007_kind_omitted_names_a_pool() {
        let r = route("llm").parent_gateway(GW).backend(json!({"name": "qwen-pool", "port": 8000}));
        let s = snap!(gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-007"]);
        let f = &found(&s, "LLMD-RT-007")[0];
        assert_eq!((f.severity, f.repair.is_some()), (Severity::Error, true));
        assert!(f.hint.contains(r#""path":"/spec/rules/0/backendRefs/0/kind","value":"InferencePool""#));
        let svc = fixtures::service("llm", "qwen-pool").port(8000);
        assert!(found(&snap!(gateway(), pool(), r, svc), "LLMD-RT-007").is_empty());
    }

    #[test]
    fn rt008_cross_namespace_backend_needs_a_grant() {
        let r = cross_namespace_route();
        let s = snap!(open_gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-008"]);
        let f = &found(&s, "LLMD-RT-008")[0];
        assert_eq!((f.severity, f.repair.is_some(), f.object.namespace.as_str()), (Severity::Error, true, "apps"));
        assert!(
            f.hint.contains(r#""namespace":"llm""#)
                && f.hint.contains(r#""namespace":"apps""#)
                && f.hint.contains("kubectl apply -f -")
        );
        let grant = GRANT_TO_POOLS.replace("kind: InferencePool}", "kind: InferencePool, name: qwen-pool}");
        assert!(codes(&snap!(open_gateway(), pool(), r, grant)).is_empty());
    }

    #[test]
    fn rt009_grant_on_x_k8s_group_with_v1_pools() {
        let r = cross_namespace_route();
        let grant =
            GRANT_TO_POOLS.replace("group: inference.networking.k8s.io", "group: inference.networking.x-k8s.io");
        let s = snap!(open_gateway(), pool(), r, grant);
        assert_eq!(codes(&s), vec!["LLMD-RT-009"], "reported once, on the grant");
        let f = &found(&s, "LLMD-RT-009")[0];
        assert_eq!((f.object.kind.as_str(), f.severity, f.repair.is_some()), ("ReferenceGrant", Severity::Error, true));
        assert!(f.hint.contains(r#""op":"replace","path":"/spec/to/0/group","value":"inference.networking.k8s.io""#));
        // No route depends on it: a warning.
        assert_eq!(found(&snap!(pool(), grant), "LLMD-RT-009")[0].severity, Severity::Warning);
        assert!(found(&snap!(open_gateway(), pool(), r, GRANT_TO_POOLS), "LLMD-RT-009").is_empty());
    }

    /// `r` with status conditions from the Gateway's controller (istio).
    fn with_status(r: Obj, conditions: Value) -> Obj {
        let parent = json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": GW});
        r.status(json!({"parents": [{"parentRef": parent, "controllerName": "istio.io/gateway-controller", "conditions": conditions}]}))
    }

    /// A condition with its message.
    fn says(mut c: Value, message: &str) -> Value {
        c["message"] = json!(message);
        c
    }

    /// A condition that last changed at `at`.
    fn since(mut c: Value, at: &str) -> Value {
        c["lastTransitionTime"] = json!(at);
        c
    }

    #[test]
    fn rt010_not_accepted_for_a_reason_the_specs_do_not_show() {
        let not_accepted = says(condition("Accepted", "False", "UnsupportedValue"), "timeouts.request unsupported");
        let r = with_status(good_route(), json!([not_accepted, condition("ResolvedRefs", "True", "ResolvedRefs")]));
        let s = snap!(gateway(), pool(), r);
        assert_eq!(codes(&s), vec!["LLMD-RT-010"]);
        let f = &found(&s, "LLMD-RT-010")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("UnsupportedValue") && f.hint.contains("timeouts.request"));
        // Spec-visible cause: reported by RT-001 only.
        let r2 = with_status(
            route("llm").parent_gateway("missing-gw").backend_pool("qwen-pool"),
            json!([condition("Accepted", "False", "NoMatchingParent")]),
        );
        assert_eq!(codes(&snap!(gateway(), pool(), r2)), vec!["LLMD-RT-001"]);
        let ok = with_status(good_route(), json!([condition("Accepted", "True", "Accepted")]));
        assert!(codes(&snap!(gateway(), pool(), ok)).is_empty());
    }

    #[test]
    fn rt011_resolved_refs_false_with_tailored_hint() {
        let xpool = alpha_pool().created("2025-06-01T10:00:00Z");
        let invalid_kind = since(
            says(condition("ResolvedRefs", "False", "InvalidKind"), "unsupported backend kind"),
            "2025-06-02T00:00:00Z",
        );
        let r = with_status(x_k8s_route(), json!([condition("Accepted", "True", "Accepted"), invalid_kind]));
        let s = snap!(gateway(), xpool, r);
        assert_eq!(codes(&s), vec!["LLMD-RT-011"]);
        let f = &found(&s, "LLMD-RT-011")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f.message.contains("InvalidKind") && f.hint.contains("convert InferencePool llm/qwen-pool"), "{f:?}");
        // The same status with a group typo visible in the spec → RT-006 only.
        let invalid = json!([condition("ResolvedRefs", "False", "InvalidKind")]);
        let r = with_status(x_k8s_route(), invalid.clone());
        assert_eq!(codes(&snap!(gateway(), pool(), r)), vec!["LLMD-RT-006"]);
        // Istio with the inference switch off → GWC-005 owns the cause.
        let istiod = fixtures::deployment("istio-system", "istiod").image("docker.io/istio/pilot:1.28.0");
        let r = with_status(good_route(), invalid);
        assert!(found(&snap!(gateway(), pool(), r, istiod), "LLMD-RT-011").is_empty());
        assert_eq!(found(&snap!(gateway(), pool(), r), "LLMD-RT-011").len(), 1);
    }

    #[test]
    fn rt012_stale_backend_not_found() {
        let not_found = |at: &str| {
            with_status(
                good_route(),
                json!([
                    condition("Accepted", "True", "Accepted"),
                    since(condition("ResolvedRefs", "False", "BackendNotFound"), at)
                ]),
            )
        };
        let s = snap!(gateway(), pool(), not_found("2025-05-31T09:00:00Z"));
        assert_eq!(codes(&s), vec!["LLMD-RT-012"], "RT-011 stays silent");
        let f = &found(&s, "LLMD-RT-012")[0];
        assert_eq!(f.severity, Severity::Error);
        assert!(f
            .hint
            .contains("kubectl annotate httproute qwen-route -n llm kubectl-llmd/nudge=$(date +%s) --overwrite"));
        let s = snap!(gateway(), pool(), not_found("2025-06-01T11:00:00Z"));
        assert!(found(&s, "LLMD-RT-012").is_empty());
        assert_eq!(found(&s, "LLMD-RT-011").len(), 1, "a fresh BackendNotFound is RT-011's");
    }

    #[test]
    fn out_of_scope_namespaces_are_not_called_missing() {
        let r = route("llm").parent_gateway(GW).backend(
            json!({"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": "other", "namespace": "elsewhere"}),
        );
        let mut s = snap!(gateway(), pool(), r);
        s.namespace = Some("llm".into());
        assert!(found(&s, "LLMD-RT-004").is_empty());
        assert!(found(&s, "LLMD-RT-008").is_empty());
    }

    #[test]
    fn durations_are_read_as_gateway_api_writes_them() {
        assert_eq!(duration_ms("30s"), Some(30_000));
        assert_eq!(duration_ms("1h30m"), Some(5_400_000));
        assert_eq!(duration_ms("500ms"), Some(500));
        assert_eq!(duration_ms("2m10s5ms"), Some(130_005));
        assert_eq!(duration_ms("0s"), Some(0));
        assert_eq!(duration_ms(""), None);
        assert_eq!(duration_ms("10"), None);
        assert_eq!(duration_ms("1d"), None);
    }

    fn timed_route(timeouts: Value) -> Obj {
        good_route().set("spec.rules.0.timeouts", timeouts)
    }

    #[test]
    fn rt013_short_timeouts_on_inference_rules() {
        let s = snap!(gateway(), pool(), timed_route(json!({"request": "30s"})));
        let f = found(&s, "LLMD-RT-013");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].message,
            "HTTPRoute llm/qwen-route rules[0] cuts inference requests off after timeouts.request 30s: generations \
             run for minutes, so long completions end mid-stream (504 or a reset stream) below 300s"
        );
        assert_eq!(
            f[0].hint,
            r#"kubectl patch httproute qwen-route -n llm --type=json -p '[{"op":"replace","path":"/spec/rules/0/timeouts/request","value":"3600s"}]'"#
        );
        // backendRequest alone is raised to the request timeout, which it may not exceed.
        let r = timed_route(json!({"request": "20m", "backendRequest": "15s"}));
        let f = found(&snap!(gateway(), pool(), r), "LLMD-RT-013");
        assert!(f[0].message.contains("timeouts.backendRequest 15s"), "{}", f[0].message);
        assert!(f[0].hint.contains(r#""path":"/spec/rules/0/timeouts/backendRequest","value":"20m""#), "{}", f[0].hint);
        let r = timed_route(json!({"request": "10s", "backendRequest": "5s"}));
        let f = found(&snap!(gateway(), pool(), r), "LLMD-RT-013");
        assert!(f[0].hint.contains(r#"/timeouts/request","value":"3600s"},{"op":"replace","path":"/spec/rules/0/timeouts/backendRequest","value":"3600s"}"#), "{}", f[0].hint);
        // Long, disabled or absent timeouts are fine; so are short ones on rules without a pool.
        for ok in [json!({"request": "5m"}), json!({"request": "0s", "backendRequest": "1h"}), json!({})] {
            assert!(found(&snap!(gateway(), pool(), timed_route(ok.clone())), "LLMD-RT-013").is_empty(), "{ok}");
        }
        let svc = route("llm")
            .parent_gateway(GW)
            .backend(json!({"name": "web", "port": 80}))
            .set("spec.rules.0.timeouts", json!({"request": "5s"}));
        assert!(found(&snap!(gateway(), pool(), svc), "LLMD-RT-013").is_empty());
    }

    fn istio_class() -> Obj {
        fixtures::gateway_class("istio", "istio.io/gateway-controller")
    }

    #[test]
    fn rt014_several_pools_in_one_rule_behind_istio() {
        let second = pool().set("metadata.name", "qwen-canary");
        let weighted = |name: &str, weight: u32| json!({"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": name, "weight": weight});
        let r = route("llm").parent_gateway(GW).backend(weighted("qwen-pool", 90)).backend(weighted("qwen-canary", 10));
        let f = found(&snap!(istio_class(), gateway(), pool(), second, r), "LLMD-RT-014");
        assert_eq!(f.len(), 1);
        assert_eq!(f[0].severity, Severity::Warning);
        assert!(f[0].message.contains("InferencePools llm/qwen-canary, llm/qwen-pool in one rule"), "{}", f[0].message);
        assert!(f[0].message.contains("istio/istio#61594") && f[0].hint.contains("istio/istio#61601"));
        // Other providers resolve a picker per pool (GAIE conformance: GatewayWeightedAcrossTwoInferencePools).
        let agw = fixtures::gateway_class("istio-like", "agentgateway.dev/agentgateway");
        let gw = gateway().class("istio-like");
        assert!(found(&snap!(agw, gw, pool(), second, r), "LLMD-RT-014").is_empty());
        // One pool per rule is fine behind Istio.
        assert!(found(&snap!(istio_class(), gateway(), pool(), good_route()), "LLMD-RT-014").is_empty());
    }

    /// The Gateway on Envoy Gateway's class, the pool, `route` and BackendTrafficPolicies.
    fn envoy(route: &Obj, policies: Vec<crate::snapshot::TrafficPolicyView>) -> Snapshot {
        let eg = fixtures::gateway_class("eg", "gateway.envoyproxy.io/gatewayclass-controller");
        let mut s = snap!(eg, gateway().class("eg"), pool(), route);
        s.backend_traffic_policies = crate::snapshot::Collected::Listed(policies);
        s
    }

    fn policy(kind: &str, name: &str, timeout: Option<&str>) -> crate::snapshot::TrafficPolicyView {
        let mut spec =
            serde_json::json!({"targetRefs": [{"group": "gateway.networking.k8s.io", "kind": kind, "name": name}]});
        if let Some(t) = timeout {
            spec["timeout"] = serde_json::json!({"http": {"requestTimeout": t}});
        }
        crate::snapshot::TrafficPolicyView::from_value(
            &serde_json::json!({"metadata": {"name": "timeouts", "namespace": "llm"}, "spec": spec}),
        )
    }

    #[test]
    fn rt015_envoy_gateway_default_timeout() {
        let plain = good_route();
        let f = found(&envoy(&plain, vec![]), "LLMD-RT-015");
        assert_eq!(f.len(), 1, "{f:?}");
        assert_eq!(f[0].severity, Severity::Warning);
        assert_eq!(
            f[0].message,
            "HTTPRoute llm/qwen-route rules[0] routes to an InferencePool through Envoy Gateway and neither the rule nor a BackendTrafficPolicy sets a request timeout, so Envoy's 15s default applies: completions running longer are cut off mid-stream (504 or a reset stream)"
        );
        assert_eq!(
            f[0].hint,
            r#"kubectl patch httproute qwen-route -n llm --type=json -p '[{"op":"add","path":"/spec/rules/0/timeouts","value":{"request":"3600s"}}]'"#
        );
        // A short policy timeout is named.
        let f = found(&envoy(&plain, vec![policy("HTTPRoute", "qwen-route", Some("60s"))]), "LLMD-RT-015");
        assert!(
            f[0].message.contains("BackendTrafficPolicy llm/timeouts sets timeout.http.requestTimeout 60s"),
            "{}",
            f[0].message
        );
        // Raised by a policy on the route or on the Gateway, by a rule timeout, or not Envoy Gateway: fine.
        for ok in
            [policy("HTTPRoute", "qwen-route", Some("1h")), policy("Gateway", "llm-d-inference-gateway", Some("3600s"))]
        {
            assert!(found(&envoy(&plain, vec![ok.clone()]), "LLMD-RT-015").is_empty(), "{ok:?}");
        }
        // A policy without a timeout, or on another route, does not raise it.
        assert_eq!(
            found(
                &envoy(&plain, vec![policy("HTTPRoute", "other", Some("1h")), policy("HTTPRoute", "qwen-route", None)]),
                "LLMD-RT-015"
            )
            .len(),
            1
        );
        assert!(found(&envoy(&timed_route(json!({"request": "0s"})), vec![]), "LLMD-RT-015").is_empty());
        assert!(found(&snap!(istio_class(), gateway(), pool(), plain), "LLMD-RT-015").is_empty());
    }
}
