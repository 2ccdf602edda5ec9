//! Checks: InferencePools — API migration (x-k8s v1alpha2 → v1), route attachment, controller
//! status and the spec fields every pool needs. Also holds the pool helpers the endpoint picker,
//! model server and Istio checks share, so every area agrees on which pools count.

use super::gatewayclasses::{controller_container, controller_deployments, image_version};
use super::{Check, CheckContext, Issue};
use crate::catalog::providers::{provider, Provider, PROVIDERS};
use crate::catalog::{parse_version, provider_for_controller, Profile, ProviderId};
use crate::findings::Category;
use crate::model::{groups, InferencePoolView, PoolApi, DEFAULT_EPP_PORT};
use crate::repair::{Op, Repair};
use crate::snapshot::{Kind, Snapshot};
use k8s_openapi::api::apps::v1::Deployment;
use serde_json::json;

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-POOL-001",
        title: "Every x-k8s InferencePool has been migrated to inference.networking.k8s.io/v1",
        category: Category::Pools,
        // Crds and GatewayClasses are read when collected; offline the profile decides (see migration_reason).
        needs: &[Kind::InferencePools, Kind::InferencePoolsX],
        run: check_migration,
    },
    Check {
        code: "LLMD-POOL-002",
        title: "No InferencePool name exists in both pool APIs",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX],
        run: check_duplicate_api,
    },
    Check {
        code: "LLMD-POOL-003",
        title: "Every InferencePool is referenced by an HTTPRoute",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::HttpRoutes, Kind::Gateways],
        run: check_referenced,
    },
    Check {
        code: "LLMD-POOL-004",
        title: "Every routed InferencePool has been picked up by a gateway controller",
        category: Category::Pools,
        needs: &[
            Kind::Crds,
            Kind::GatewayClasses,
            Kind::Gateways,
            Kind::HttpRoutes,
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::LiveStatus,
        ],
        run: check_controller_attached,
    },
    Check {
        code: "LLMD-POOL-005",
        title: "Every InferencePool is Accepted by its parent Gateways",
        category: Category::Pools,
        needs: &[
            Kind::GatewayClasses,
            Kind::Gateways,
            Kind::HttpRoutes,
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::LiveStatus,
        ],
        run: check_accepted,
    },
    Check {
        code: "LLMD-POOL-006",
        title: "Every InferencePool's references resolve (ResolvedRefs=True)",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::LiveStatus],
        run: check_resolved_refs,
    },
    Check {
        code: "LLMD-POOL-007",
        title: "Every InferencePool names its endpoint picker",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services],
        run: check_epp_ref_present,
    },
    Check {
        code: "LLMD-POOL-008",
        title: "Every InferencePool has a pod selector and target ports",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX],
        run: check_selector_and_ports,
    },
    Check {
        code: "LLMD-POOL-009",
        title: "No FailOpen InferencePool is bypassing its endpoint picker",
        category: Category::Pools,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX],
        run: check_fail_open,
    },
    Check {
        code: "LLMD-POOL-010",
        title: "No FailClose InferencePool is served by an NGINX Gateway Fabric that fails open",
        category: Category::Pools,
        // Services and EndpointSlices tell whether the picker is down now (read when collected).
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Gateways, Kind::HttpRoutes, Kind::Deployments],
        run: check_ngf_fail_close,
    },
];

const POOLS_V1_CRD: &str = "inferencepools.inference.networking.k8s.io";

// ---------------------------------------------------------------------------------------------
// Helpers shared with endpoint_picker, model_servers and istio.

/// The pools the other areas examine: every v1 pool, plus x-k8s pools without a v1 twin
/// (a leftover alpha copy of a migrated pool would repeat every finding of its twin).
pub(super) fn effective_pools(snap: &Snapshot) -> Vec<&InferencePoolView> {
    snap.pools.items().iter().chain(snap.pools_x.items().iter().filter(|p| !snap.has_v1_twin(p))).collect()
}

/// "ns/name" of a pool.
pub(super) fn pool_path(pool: &InferencePoolView) -> String {
    format!("{}/{}", pool.metadata.ns(), pool.metadata.name)
}

/// `kubectl patch` of a pool with a merge patch.
pub(super) fn pool_patch(pool: &InferencePoolView, patch: &serde_json::Value) -> String {
    let obj = pool.object_ref();
    format!("kubectl patch {}{} --type=merge -p '{patch}'", obj.kubectl_name(), obj.ns_flag())
}

/// Merge patch setting the endpoint picker port, in the pool's own API shape.
pub(super) fn epp_port_patch(pool: &InferencePoolView, port: i64) -> serde_json::Value {
    match pool.api {
        PoolApi::V1 => json!({"spec": {"endpointPickerRef": {"port": {"number": port}}}}),
        PoolApi::V1Alpha2 => json!({"spec": {"extensionRef": {"portNumber": port}}}),
    }
}

/// The `doctor --fix` edit setting the endpoint picker port, in the pool's own API shape.
pub(super) fn epp_port_repair(pool: &InferencePoolView, port: i64) -> Repair {
    let path = match pool.api {
        PoolApi::V1 => "/spec/endpointPickerRef/port/number",
        PoolApi::V1Alpha2 => "/spec/extensionRef/portNumber",
    };
    Repair::Edit { target: pool.object_ref(), ops: vec![Op::set(path, port)] }
}

/// The `doctor --fix` edit setting the target ports, in the pool's own API shape.
pub(super) fn target_ports_repair(pool: &InferencePoolView, port: i64) -> Repair {
    let op = match pool.api {
        PoolApi::V1 => Op::set("/spec/targetPorts", json!([{"number": port}])),
        PoolApi::V1Alpha2 => Op::set("/spec/targetPortNumber", port),
    };
    Repair::Edit { target: pool.object_ref(), ops: vec![op] }
}

/// Merge patch setting the target ports, in the pool's own API shape.
pub(super) fn target_ports_patch(pool: &InferencePoolView, port: i64) -> serde_json::Value {
    match pool.api {
        PoolApi::V1 => json!({"spec": {"targetPorts": [{"number": port}]}}),
        PoolApi::V1Alpha2 => json!({"spec": {"targetPortNumber": port}}),
    }
}

/// Ready endpoints of Service `ns/name` in its EndpointSlices (a nil ready condition means
/// "unknown", which consumers treat as ready); None when EndpointSlices were not collected.
pub(crate) fn ready_endpoints(snap: &Snapshot, ns: &str, name: &str) -> Option<usize> {
    snap.ready_endpoints(ns, name)
}

/// The controllerName behind a Gateway, when its class is known.
fn gateway_controller<'a>(snap: &'a Snapshot, ns: &str, name: &str) -> Option<(&'a str, &'a str)> {
    let gw = snap.gateway(ns, name)?;
    let class = snap.gateway_class(&gw.spec.gateway_class_name)?;
    Some((class.metadata.name.as_str(), class.spec.controller_name.as_str()))
}

/// The provider of a Gateway's class: by its controllerName when GatewayClasses were collected,
/// else (manifests without the class) by the class names providers install.
pub(crate) fn gateway_provider(snap: &Snapshot, ns: &str, name: &str) -> Option<&'static Provider> {
    let gw = snap.gateway(ns, name)?;
    let class = gw.spec.gateway_class_name.as_str();
    match snap.gateway_class(class) {
        Some(c) => super::gatewayclasses::provider_of_class(c),
        None if !snap.gateway_classes.is_listed() => PROVIDERS.iter().find(|p| p.class_names.contains(&class)),
        None => None,
    }
}

/// The Gateways ("ns/name") serving a pool through its HTTPRoutes, with their provider when known.
pub(crate) fn serving_gateways(snap: &Snapshot, pool: &InferencePoolView) -> Vec<(String, Option<&'static Provider>)> {
    let mut out: Vec<(String, Option<&'static Provider>)> = Vec::new();
    for (ns, name) in snap.routes_referencing(pool).into_iter().flat_map(|r| r.gateways()) {
        if snap.gateway(&ns, &name).is_none() {
            continue;
        }
        let path = format!("{ns}/{name}");
        if !out.iter().any(|(p, _)| *p == path) {
            out.push((path, gateway_provider(snap, &ns, &name)));
        }
    }
    out
}

/// The command that turns inference support on for the controller of a Gateway.
fn enable_hint_for_gateway(snap: &Snapshot, ns: &str, name: &str) -> Option<String> {
    let (class, controller) = gateway_controller(snap, ns, name)?;
    match provider_for_controller(controller) {
        Some(p) => Some(super::gatewayclasses::enable_command_in(snap, p)),
        None => Some(format!(
            "enable InferencePool (inference.networking.k8s.io/v1) support in the controller {controller} of GatewayClass {class}"
        )),
    }
}

/// Why an x-k8s pool must be migrated, or None when it need not (or has a v1 twin already).
/// The installed CRDs and GatewayClasses are read when they were collected; when they are not
/// (offline), the profile decides: every GAIE release from v1.0 on is routed through v1 pools.
fn migration_reason(snap: &Snapshot, profile: &Profile, pool: &InferencePoolView) -> Option<String> {
    if pool.api != PoolApi::V1Alpha2 || snap.has_v1_twin(pool) {
        return None;
    }
    if snap.crd(POOLS_V1_CRD).is_some_and(|c| c.serves("v1")) {
        return Some(format!("the {} v1 API is served", groups::INFERENCE));
    }
    // Every provider we know reads v1 pools in the versions llm-d installs (Istio ≥1.28, agentgateway, NGF ≥2.2…).
    let by_class = snap.gateway_classes.items().iter().find_map(|gc| {
        provider_for_controller(&gc.spec.controller_name)
            .map(|p| format!("GatewayClass {} ({}) reads {} v1 pools", gc.metadata.name, p.name, groups::INFERENCE))
    });
    if by_class.is_some() {
        return by_class;
    }
    // A git ref that is not a version (main, a commit) is newer than v1.0 in practice.
    let ships_v1 = parse_version(&profile.inference_extension).is_none_or(|v| v.major >= 1);
    ships_v1.then(|| {
        format!(
            "profile {} pins GAIE {}, whose gateways and endpoint pickers use {} v1 pools",
            profile.name,
            profile.inference_extension,
            groups::INFERENCE
        )
    })
}

/// The v1 equivalent of an x-k8s pool (E4: selector → matchLabels, targetPortNumber → targetPorts,
/// extensionRef → endpointPickerRef with port 9002 by default).
fn converted_v1(pool: &InferencePoolView) -> serde_json::Value {
    let ports: Vec<_> = pool.target_ports.iter().map(|n| json!({"number": n})).collect();
    let mut spec = json!({"selector": {"matchLabels": pool.selector}, "targetPorts": ports});
    if let Some(epp) = &pool.endpoint_picker {
        let mut r = json!({"name": epp.name, "port": {"number": epp.port.unwrap_or(DEFAULT_EPP_PORT)}});
        if epp.failure_mode != "FailClose" {
            r["failureMode"] = json!(epp.failure_mode);
        }
        spec["endpointPickerRef"] = r;
    }
    json!({
        "apiVersion": format!("{}/v1", groups::INFERENCE),
        "kind": "InferencePool",
        "metadata": {"name": pool.metadata.name, "namespace": pool.metadata.ns()},
        "spec": spec,
    })
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// E2/E4: x-k8s pools without a v1 twin while something speaks v1.
fn check_migration(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    // Prefix the CRD install only when the installed CRDs are known to lack v1.
    let v1_missing = snap.crds.is_listed() && !snap.crd(POOLS_V1_CRD).is_some_and(|c| c.serves("v1"));
    let mut out = Vec::new();
    for pool in snap.pools_x.items() {
        let Some(reason) = migration_reason(snap, ctx.profile, pool) else { continue };
        let apply = format!("echo '{}' | kubectl apply -f -", converted_v1(pool));
        let hint = if !v1_missing {
            apply
        } else {
            format!(
                "kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api-inference-extension/releases/download/{}/manifests.yaml && {apply}",
                ctx.profile.inference_extension
            )
        };
        let epp_note = if pool.endpoint_picker.is_none() { " (it has no extensionRef to carry over)" } else { "" };
        out.push(
            Issue::error(
                pool.object_ref(),
                format!(
                    "InferencePool {} exists only as {}/v1alpha2 while {reason}, so v1-speaking gateways will not route to it{epp_note}",
                    pool_path(pool),
                    groups::INFERENCE_X
                ),
                hint,
            )
            .repair(Repair::Create { object: converted_v1(pool) }),
        );
    }
    out
}

/// A.3.5: the same pool in both APIs makes `kubectl get inferencepool` ambiguous.
fn check_duplicate_api(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    snap.pools_x
        .items()
        .iter()
        .filter(|p| snap.has_v1_twin(p))
        .map(|p| {
            Issue::info(
                p.object_ref(),
                format!(
                    "InferencePool {} exists in both {} and {}, so `kubectl get inferencepool {}` shows only one of them",
                    pool_path(p),
                    groups::INFERENCE,
                    groups::INFERENCE_X,
                    p.metadata.name
                ),
                format!(
                    "once no HTTPRoute references group {} any more: kubectl delete inferencepool.{}/{} -n {}",
                    groups::INFERENCE_X,
                    groups::INFERENCE_X,
                    p.metadata.name,
                    p.metadata.ns()
                ),
            )
        })
        .collect()
}

/// E42: pools no HTTPRoute sends traffic to.
fn check_referenced(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    if !snap.http_routes.is_listed() {
        // Gateway API CRDs are missing: the CRD checks report that.
        return Vec::new();
    }
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        if !snap.routes_referencing(pool).is_empty() {
            continue;
        }
        let ns = pool.metadata.ns();
        let gateways = snap.gateways.items();
        let local: Vec<_> = gateways.iter().filter(|g| g.metadata.ns() == ns).collect();
        let gw = if local.len() == 1 {
            Some(local[0])
        } else if local.is_empty() && gateways.len() == 1 {
            Some(&gateways[0])
        } else {
            None
        };
        // A pool about to be migrated (LLMD-POOL-001) is routed through its v1 twin.
        let group =
            if migration_reason(snap, ctx.profile, pool).is_some() { groups::INFERENCE } else { pool.api.group() };
        let backend = json!({"group": group, "kind": "InferencePool", "name": pool.metadata.name});
        let hint = match gw {
            Some(g) => {
                let mut parent = json!({"name": g.metadata.name});
                // Never an empty namespace (the schema rejects it: minLength 1).
                if g.metadata.ns() != ns && !g.metadata.ns().is_empty() {
                    parent["namespace"] = json!(g.metadata.ns());
                }
                let route = json!({
                    "apiVersion": format!("{}/v1", groups::GATEWAY),
                    "kind": "HTTPRoute",
                    "metadata": {"name": pool.metadata.name, "namespace": ns},
                    "spec": {"parentRefs": [parent], "rules": [{"backendRefs": [backend]}]},
                });
                format!("echo '{route}' | kubectl apply -f -")
            }
            None => format!("add backendRefs: [{backend}] to a rule of the HTTPRoute that serves this model"),
        };
        let scope = if snap.namespace.is_some() { format!(" in namespace {ns}") } else { String::new() };
        out.push(Issue::warning(
            pool.object_ref(),
            format!(
                "InferencePool {} is referenced by no HTTPRoute backendRef{scope}, so no request reaches it",
                pool_path(pool)
            ),
            hint,
        ));
    }
    out
}

/// E42: a routed pool whose status.parents is empty — no controller reconciles it.
fn check_controller_attached(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        if !pool.parents.is_empty() || migration_reason(snap, ctx.profile, pool).is_some() {
            continue;
        }
        // Only when a route to it is accepted by a Gateway: otherwise the route checks own the cause.
        let accepted = snap.routes_referencing(pool).into_iter().find_map(|r| {
            r.status.parents.iter().find(|p| crate::model::is_true(&p.conditions, "Accepted")).map(|p| {
                (r, p.parent_ref.namespace.clone().unwrap_or_else(|| r.metadata.ns().into()), p.parent_ref.name.clone())
            })
        });
        let Some((route, gw_ns, gw_name)) = accepted else { continue };
        let hint = enable_hint_for_gateway(snap, &gw_ns, &gw_name)
            .unwrap_or_else(|| format!("enable InferencePool support in the controller of Gateway {gw_ns}/{gw_name}"));
        out.push(Issue::error(
            pool.object_ref(),
            format!(
                "InferencePool {} has no status.parents although HTTPRoute {}/{} is accepted by Gateway {gw_ns}/{gw_name}: no gateway controller has picked the pool up",
                pool_path(pool),
                route.metadata.ns(),
                route.metadata.name
            ),
            hint,
        ));
    }
    out
}

/// E42/E43: Accepted=False on a pool parent, with the reason.
fn check_accepted(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        for parent in &pool.parents {
            let Some(c) = crate::model::condition(&parent.conditions, "Accepted") else { continue };
            if c.status != "False" {
                continue;
            }
            // A missing endpointPickerRef is reported by LLMD-POOL-007.
            if c.reason == "EndpointPickerRefMissing" && pool.endpoint_picker.is_none() {
                continue;
            }
            let gw_ns = parent.parent_ref.namespace.clone().unwrap_or_else(|| pool.metadata.ns().to_string());
            let gw_name = &parent.parent_ref.name;
            let hint = match c.reason.as_str() {
                "HTTPRouteNotAccepted" => {
                    let routes: Vec<String> = snap
                        .routes_referencing(pool)
                        .iter()
                        .map(|r| format!("httproute/{} -n {}", r.metadata.name, r.metadata.ns()))
                        .collect();
                    if routes.is_empty() {
                        format!("attach an HTTPRoute referencing the pool to Gateway {gw_ns}/{gw_name}")
                    } else {
                        format!("fix the HTTPRoute's parentRefs so Gateway {gw_ns}/{gw_name} accepts it: kubectl describe {}", routes.join("; kubectl describe "))
                    }
                }
                "NotSupportedByParent" | "NotSupportedByGateway" => enable_hint_for_gateway(snap, &gw_ns, gw_name)
                    .unwrap_or_else(|| {
                        format!("enable InferencePool support in the controller of Gateway {gw_ns}/{gw_name}")
                    }),
                "EndpointPickerRefMissing" => format!(
                    "set spec.endpointPickerRef (name, port.number) in InferencePool {} to the endpoint picker Service",
                    pool_path(pool)
                ),
                _ => format!("kubectl describe {}{}", pool.object_ref().kubectl_name(), pool.object_ref().ns_flag()),
            };
            let detail = if c.message.is_empty() { String::new() } else { format!(": {}", c.message) };
            out.push(Issue::error(
                pool.object_ref(),
                format!(
                    "InferencePool {} is not Accepted by Gateway {gw_ns}/{gw_name} (reason {}){detail}",
                    pool_path(pool),
                    if c.reason.is_empty() { "none" } else { &c.reason }
                ),
                hint,
            ));
        }
    }
    out
}

/// E13 as the controller sees it: ResolvedRefs=False (InvalidExtensionRef).
fn check_resolved_refs(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let ns = pool.metadata.ns();
        // A missing EPP Service is reported by LLMD-EPP-001 and a missing ref by LLMD-POOL-007.
        match pool.epp_service_name() {
            Some(svc) if snap.services.is_listed() && snap.in_scope(ns) && snap.service(ns, svc).is_none() => continue,
            None if pool.endpoint_picker.is_none() => continue,
            _ => {}
        }
        for parent in &pool.parents {
            let Some(c) = crate::model::condition(&parent.conditions, "ResolvedRefs") else { continue };
            if c.status != "False" {
                continue;
            }
            let gw_ns = parent.parent_ref.namespace.clone().unwrap_or_else(|| ns.to_string());
            let epp = pool.endpoint_picker.as_ref().map(|e| e.name.as_str()).unwrap_or("");
            let detail = if c.message.is_empty() { String::new() } else { format!(": {}", c.message) };
            out.push(Issue::error(
                pool.object_ref(),
                format!(
                    "Gateway {gw_ns}/{} cannot resolve the references of InferencePool {} (reason {}){detail}",
                    parent.parent_ref.name,
                    pool_path(pool),
                    if c.reason.is_empty() { "none" } else { &c.reason }
                ),
                format!(
                    "point spec.endpointPickerRef of InferencePool {} at a core Service that exists in namespace {ns} (now {epp:?}): kubectl get service -n {ns}",
                    pool_path(pool)
                ),
            ));
        }
    }
    out
}

/// True when the pool's gateways accept it as it is: some parent says Accepted=True and none
/// Accepted=False.
fn accepted_by_every_parent(pool: &InferencePoolView) -> bool {
    let accepted = |status: &str| {
        pool.parents
            .iter()
            .any(|p| crate::model::condition(&p.conditions, "Accepted").is_some_and(|c| c.status == status))
    };
    accepted("True") && !accepted("False")
}

/// E43: endpointPickerRef (v1) / extensionRef (v1alpha2) omitted. From GAIE v1.6 the v1 API makes
/// endpointPickerRef optional and leaves it to the gateway (api/v1/inferencepool_types.go,
/// EndpointPickerRefMissing): a pool its gateways have Accepted without one is healthy.
fn check_epp_ref_present(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap).into_iter().filter(|p| p.endpoint_picker.is_none()) {
        if pool.api == PoolApi::V1 && accepted_by_every_parent(pool) {
            continue;
        }
        let ns = pool.metadata.ns();
        let field = if pool.api == PoolApi::V1 { "endpointPickerRef" } else { "extensionRef" };
        // Suggest the Service llm-d would have created, when exactly one candidate exists.
        let conventional = format!("{}-epp", pool.metadata.name);
        let candidates: Vec<_> = snap
            .services
            .items()
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
            .filter(|s| {
                s.metadata.name.as_deref() == Some(conventional.as_str())
                    || s.spec
                        .as_ref()
                        .and_then(|sp| sp.ports.as_ref())
                        .is_some_and(|ports| ports.iter().any(|p| p.name.as_deref() == Some("grpc-ext-proc")))
            })
            .filter_map(|s| s.metadata.name.as_deref())
            .collect();
        let svc = if candidates.len() == 1 { candidates[0] } else { conventional.as_str() };
        let patch = match pool.api {
            PoolApi::V1 => json!({"spec": {"endpointPickerRef": {"name": svc, "port": {"number": DEFAULT_EPP_PORT}}}}),
            PoolApi::V1Alpha2 => json!({"spec": {"extensionRef": {"name": svc, "portNumber": DEFAULT_EPP_PORT}}}),
        };
        let hint = if candidates.len() == 1 {
            pool_patch(pool, &patch)
        } else {
            format!("deploy the endpoint picker Service {svc} in namespace {ns}, then: {}", pool_patch(pool, &patch))
        };
        let rejected_by: Vec<String> = pool
            .parents
            .iter()
            .filter(|p| {
                crate::model::condition(&p.conditions, "Accepted")
                    .is_some_and(|c| c.status == "False" && c.reason == "EndpointPickerRefMissing")
            })
            .map(|p| format!("{}/{}", p.parent_ref.namespace.as_deref().unwrap_or(ns), p.parent_ref.name))
            .collect();
        let why = if rejected_by.is_empty() {
            "no gateway has Accepted it without one, and most require one (EndpointPickerRefMissing)".to_string()
        } else {
            format!("Gateway {} rejects it (Accepted=False, EndpointPickerRefMissing)", rejected_by.join(", "))
        };
        out.push(Issue::error(
            pool.object_ref(),
            format!("InferencePool {} has no spec.{field}: {why}", pool_path(pool)),
            hint,
        ));
    }
    out
}

/// Spec completeness: an empty selector selects no model server; no targetPorts means nowhere to send.
fn check_selector_and_ports(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for pool in effective_pools(ctx.snapshot) {
        if pool.selector.is_empty() {
            let field = if pool.api == PoolApi::V1 { "spec.selector.matchLabels" } else { "spec.selector" };
            out.push(Issue::error(
                pool.object_ref(),
                format!("InferencePool {} has an empty {field}, so it selects no model server pods", pool_path(pool)),
                format!(
                    "set {field} in InferencePool {} to the model server pod labels (kubectl get pods -n {} --show-labels)",
                    pool_path(pool),
                    pool.metadata.ns()
                ),
            ));
        }
        if pool.target_ports.is_empty() {
            let field = if pool.api == PoolApi::V1 { "spec.targetPorts" } else { "spec.targetPortNumber" };
            out.push(Issue::error(
                pool.object_ref(),
                format!(
                    "InferencePool {} has no {field}, so the gateway has no model server port to send to",
                    pool_path(pool)
                ),
                format!(
                    "{}  # 8000 is vLLM's default; use the port your model server listens on",
                    pool_patch(pool, &target_ports_patch(pool, 8000))
                ),
            ));
        }
    }
    out
}

/// Why a pool's endpoint picker is not serving right now (its Service is missing or has no ready
/// endpoint), or None when it serves or that cannot be known (offline, not listed, out of scope).
fn picker_down(snap: &Snapshot, pool: &InferencePoolView) -> Option<String> {
    let ns = pool.metadata.ns();
    let svc = pool.epp_service_name()?;
    // Manifests tell nothing about what runs (a Service left out of the files is not a down picker);
    // a dump of a cluster does.
    if !snap.reflects_cluster() || !snap.services.is_listed() || !snap.in_scope(ns) {
        return None;
    }
    if snap.service(ns, svc).is_none() {
        return Some(format!("its Service {ns}/{svc} does not exist"));
    }
    (ready_endpoints(snap, ns, svc)? == 0).then(|| format!("its Service {ns}/{svc} has no ready endpoints"))
}

/// E44: FailOpen (the GAIE chart's default since v1.4, config/charts/inferencepool/values.yaml,
/// and llm-d's) sends traffic around the picker while it is down. A supported default is
/// information; it is a warning only while the picker is actually down, i.e. traffic bypasses it now.
fn check_fail_open(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let Some(epp) = &pool.endpoint_picker else { continue };
        if epp.failure_mode != "FailOpen" {
            continue;
        }
        let patch = match pool.api {
            PoolApi::V1 => json!({"spec": {"endpointPickerRef": {"failureMode": "FailClose"}}}),
            PoolApi::V1Alpha2 => json!({"spec": {"extensionRef": {"failureMode": "FailClose"}}}),
        };
        out.push(match picker_down(snap, pool) {
            Some(why) => Issue::warning(
                pool.object_ref(),
                format!(
                    "InferencePool {} uses failureMode FailOpen and endpoint picker {} is down ({why}): requests bypass the picker now, without load-aware routing",
                    pool_path(pool),
                    epp.name
                ),
                format!(
                    "{}  # fails requests instead of bypassing the picker; bring the picker back (LLMD-EPP findings)",
                    pool_patch(pool, &patch)
                ),
            ),
            None => Issue::info(
                pool.object_ref(),
                format!(
                    "InferencePool {} uses failureMode FailOpen (the chart default): if endpoint picker {} goes down, requests bypass it instead of failing",
                    pool_path(pool),
                    epp.name
                ),
                format!(
                    "{}  # only to fail requests instead; or keep FailOpen and alert on the picker's availability",
                    pool_patch(pool, &patch)
                ),
            ),
        });
    }
    out
}

/// NGINX Gateway Fabric releases that route a FailClose pool like a FailOpen one: inference
/// support came in 2.2.0 (nginx/nginx-gateway-fabric#4091, CHANGELOG "Release 2.2.0"); its NGINX
/// map sends a request the picker answered with no endpoint (picker down or failing) to the pool's
/// upstream whatever the failureMode (nginx/nginx-gateway-fabric#5420; internal/controller/nginx/
/// config/maps.go `buildInferenceMaps`, the `""` entry). Fixed by #5494 (commit 8e8137c, on main
/// 2026-07-01), which no release carries: tag v2.6.7 and branch release-2.6 still have the bug.
/// Releases after 2.6.7 are not judged: whether they carry the fix is not known here.
const NGF_IGNORES_FAIL_CLOSE: (semver::Version, semver::Version) =
    (semver::Version::new(2, 2, 0), semver::Version::new(2, 6, 7));

// LLMD-POOL-010: a FailClose pool behind NGF 2.2.0–2.6.7 fails open. FailOpen is the GAIE chart's
// default (POOL-009), so this is what NGF does anyway: information while the picker serves, a
// warning while it is down (requests bypass it now, against the pool's FailClose).
fn check_ngf_fail_close(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let ngf = provider(ProviderId::NginxGatewayFabric);
    let (first, last) = &NGF_IGNORES_FAIL_CLOSE;
    // A version that cannot be read (a digest, `edge`) is not judged.
    let affected: Vec<(&Deployment, String)> = controller_deployments(snap, ngf)
        .into_iter()
        .filter_map(|d| {
            let (tag, v) = image_version(controller_container(d, ngf)?.image.as_deref()?)?;
            (v >= *first && v <= *last).then_some((d, tag))
        })
        .collect();
    let Some((d, tag)) = affected.first() else { return Vec::new() };
    let controller =
        format!("{}/{}", d.metadata.namespace.as_deref().unwrap_or(""), d.metadata.name.as_deref().unwrap_or(""));
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let Some(epp) = &pool.endpoint_picker else { continue };
        if epp.failure_mode != "FailClose" {
            continue;
        }
        let gateways: Vec<String> = serving_gateways(snap, pool)
            .into_iter()
            .filter(|(_, p)| p.is_some_and(|p| p.id == ProviderId::NginxGatewayFabric))
            .map(|(g, _)| g)
            .collect();
        let Some(gateway) = gateways.first() else { continue };
        let patch = match pool.api {
            PoolApi::V1 => json!({"spec": {"endpointPickerRef": {"failureMode": "FailOpen"}}}),
            PoolApi::V1Alpha2 => json!({"spec": {"extensionRef": {"failureMode": "FailOpen"}}}),
        };
        let hint = format!(
            "{}  # states what NGINX Gateway Fabric {tag} does; to fail closed, upgrade NGF to a release with \
             nginx/nginx-gateway-fabric#5494 (none up to 2.6.7)",
            pool_patch(pool, &patch)
        );
        let ignored = format!(
            "InferencePool {} sets failureMode FailClose, but Gateway {gateway} runs on NGINX Gateway Fabric {tag} \
             ({controller}), which ignores it (nginx/nginx-gateway-fabric#5420)",
            pool_path(pool)
        );
        out.push(match picker_down(snap, pool) {
            Some(why) => Issue::warning(
                pool.object_ref(),
                format!(
                    "{ignored}: endpoint picker {} is down ({why}), so requests bypass it now and go to any model \
                     server instead of failing",
                    epp.name
                ),
                hint,
            ),
            None => Issue::info(
                pool.object_ref(),
                format!(
                    "{ignored}: if endpoint picker {} goes down or fails, requests bypass it and go to any model \
                     server instead of failing",
                    epp.name
                ),
                hint,
            ),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures::{self, condition, Obj};
    use crate::findings::Severity;
    use serde_json::{json, Value};

    fn ctx_issues(check: &Check, yaml: &str) -> Vec<Issue> {
        fixtures::issues(std::slice::from_ref(check), check.code, yaml)
    }

    fn check(code: &str) -> &'static Check {
        CHECKS.iter().find(|c| c.code == code).expect("code")
    }

    /// Objects (builders or YAML) as one multi-document text.
    macro_rules! docs {
        ($($o:expr),* $(,)?) => { [$($o.to_string()),*].join("\n---\n") };
    }

    /// InferencePool llm/qwen on v1: pods app=qwen on 8000, picker qwen-epp:9002.
    fn pool() -> Obj {
        fixtures::pool("llm", "qwen")
    }

    /// The same pool on the alpha x-k8s API, failing open.
    fn pool_x() -> Obj {
        fixtures::alpha_pool("llm", "qwen").set("spec.extensionRef.failureMode", "FailOpen")
    }

    const V1_CRD: &str = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: inferencepools.inference.networking.k8s.io}
spec:
  group: inference.networking.k8s.io
  names: {kind: InferencePool, plural: inferencepools}
  scope: Namespaced
  versions: [{name: v1, served: true, storage: true}]
"#;

    /// HTTPRoute llm/r from Gateway gw to the pool on `group`, accepted by istio.
    fn route_on(group: &str) -> Obj {
        let accepted = json!([{"parentRef": {"name": "gw"}, "controllerName": "istio.io/gateway-controller",
                               "conditions": [condition("Accepted", "True", "Accepted")]}]);
        fixtures::route("llm", "r")
            .parent_gateway("gw")
            .backend(json!({"group": group, "kind": "InferencePool", "name": "qwen"}))
            .set("status.parents", accepted)
    }

    fn route() -> Obj {
        route_on("inference.networking.k8s.io")
    }

    /// GatewayClass istio and Gateway llm/gw with one HTTP listener.
    fn gateway() -> String {
        docs!(
            fixtures::gateway_class("istio", "istio.io/gateway-controller"),
            fixtures::gateway("llm", "gw").listener("http", 80, "HTTP")
        )
    }

    /// `pool` with the status of one parent, Gateway gw (`parent_ref` as the controller wrote it).
    fn with_parent_status(pool: Obj, parent_ref: Value, conditions: Value) -> Obj {
        pool.set("status.parents", json!([{"parentRef": parent_ref, "conditions": conditions}]))
    }

    fn with_conditions(conditions: Value) -> Obj {
        let gw = json!({"group": "gateway.networking.k8s.io", "kind": "Gateway", "name": "gw"});
        with_parent_status(pool(), gw, conditions)
    }

    /// A condition with its message.
    fn says(mut c: Value, message: &str) -> Value {
        c["message"] = json!(message);
        c
    }

    #[test]
    fn alpha_pool_without_v1_twin_needs_migration() {
        let issues = ctx_issues(check("LLMD-POOL-001"), &docs!(V1_CRD, pool_x()));
        assert_eq!(issues.len(), 1);
        let i = &issues[0];
        assert_eq!(
            (i.severity, i.object.name.as_str(), i.object.group.as_str()),
            (Severity::Error, "qwen", groups::INFERENCE_X)
        );
        assert!(i.repair.is_some());
        assert!(i.hint.contains(r#""matchLabels":{"app":"qwen"}"#), "{}", i.hint);
        assert!(i.hint.contains(r#""targetPorts":[{"number":8000}]"#), "{}", i.hint);
        assert!(i.hint.contains(r#""port":{"number":9002}"#) && i.hint.contains("FailOpen"), "{}", i.hint);
        assert!(!i.hint.contains('\n'));
        // Without the v1 CRD but with a v1-speaking controller: still needed, hint installs the CRD first.
        let issues = ctx_issues(check("LLMD-POOL-001"), &docs!(gateway(), pool_x()));
        assert_eq!(issues.len(), 1);
        assert!(issues[0].hint.contains("releases/download/v1.0.1/manifests.yaml"), "{}", issues[0].hint);
    }

    #[test]
    fn migrated_or_unneeded_alpha_pool_passes() {
        assert!(ctx_issues(check("LLMD-POOL-001"), &docs!(V1_CRD, pool_x(), pool())).is_empty());
        // Nothing speaks v1 and the profile pins GAIE v0.5: an x-k8s pool is what the setup runs.
        let snap = fixtures::snapshot(&docs!(pool_x()));
        let old = Profile { inference_extension: "v0.5.1".into(), ..fixtures::prereq() };
        assert!((check("LLMD-POOL-001").run)(&CheckContext { snapshot: &snap, profile: &old }).is_empty());
    }

    #[test]
    fn offline_alpha_pool_is_judged_by_the_profile() {
        let mut snap = fixtures::snapshot(&docs!(pool_x()));
        snap.crds = crate::snapshot::Collected::Unknown { reason: "offline".into() };
        snap.gateway_classes = crate::snapshot::Collected::Unknown { reason: "offline".into() };
        let found = fixtures::run(&CHECKS[0..1], &snap, &fixtures::current());
        assert_eq!(found, vec![("LLMD-POOL-001".into(), "qwen".into(), Severity::Error)]);
        let issues = (check("LLMD-POOL-001").run)(&CheckContext { snapshot: &snap, profile: &fixtures::current() });
        assert!(issues[0].message.contains("v1.5.0") && !issues[0].hint.contains("manifests.yaml"));
    }

    #[test]
    fn same_pool_in_both_apis_is_info() {
        let snap = fixtures::snapshot(&docs!(pool_x(), pool()));
        let found = fixtures::run(&CHECKS[1..2], &snap, &fixtures::prereq());
        assert_eq!(found, vec![("LLMD-POOL-002".into(), "qwen".into(), Severity::Info)]);
        assert!(ctx_issues(check("LLMD-POOL-002"), &docs!(pool())).is_empty());
    }

    #[test]
    fn unreferenced_pool_warns_with_route_to_create() {
        let issues = ctx_issues(check("LLMD-POOL-003"), &docs!(gateway(), pool()));
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Warning, "qwen"));
        assert!(issues[0].hint.contains(r#""parentRefs":[{"name":"gw"}]"#), "{}", issues[0].hint);
        assert!(ctx_issues(check("LLMD-POOL-003"), &docs!(gateway(), pool(), route())).is_empty());
    }

    #[test]
    fn route_with_x_k8s_group_still_counts_as_reference() {
        let route = route_on("inference.networking.x-k8s.io");
        assert!(ctx_issues(check("LLMD-POOL-003"), &docs!(pool(), route)).is_empty());
    }

    #[test]
    fn routed_pool_without_parents_has_no_controller() {
        let issues = ctx_issues(check("LLMD-POOL-004"), &docs!(gateway(), pool(), route()));
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(issues[0].hint.contains("ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true"), "{}", issues[0].hint);
        let with_status =
            with_parent_status(pool(), json!({"name": "gw"}), json!([condition("Accepted", "True", "Accepted")]));
        assert!(ctx_issues(check("LLMD-POOL-004"), &docs!(gateway(), with_status, route())).is_empty());
    }

    #[test]
    fn not_accepted_pool_is_an_error_with_reason() {
        let pool = with_conditions(json!([says(
            condition("Accepted", "False", "NotSupportedByParent"),
            "inference disabled"
        )]));
        let issues = ctx_issues(check("LLMD-POOL-005"), &docs!(gateway(), pool, route()));
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(issues[0].message.contains("NotSupportedByParent") && issues[0].message.contains("inference disabled"));
        assert!(issues[0].hint.contains("ENABLE_GATEWAY_API_INFERENCE_EXTENSION"));
        let ok = with_conditions(json!([condition("Accepted", "True", "Accepted")]));
        assert!(ctx_issues(check("LLMD-POOL-005"), &docs!(gateway(), ok, route())).is_empty());
    }

    #[test]
    fn unresolved_refs_reported_unless_epp_service_is_missing() {
        let pool = with_conditions(json!([condition("ResolvedRefs", "False", "InvalidExtensionRef")]));
        let svc = fixtures::service("llm", "qwen-epp").port(9002);
        let issues = ctx_issues(check("LLMD-POOL-006"), &docs!(pool, svc));
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(issues[0].message.contains("InvalidExtensionRef"));
        // Service missing: LLMD-EPP-001 owns it.
        assert!(ctx_issues(check("LLMD-POOL-006"), &docs!(pool)).is_empty());
        let ok = with_conditions(json!([condition("ResolvedRefs", "True", "ResolvedRefs")]));
        assert!(ctx_issues(check("LLMD-POOL-006"), &docs!(ok, svc)).is_empty());
    }

    #[test]
    fn missing_endpoint_picker_ref_is_an_error() {
        let pool = pool().without("spec.endpointPickerRef");
        let issues = ctx_issues(check("LLMD-POOL-007"), &docs!(pool, epp_service()));
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(issues[0].hint.starts_with("kubectl patch inferencepool.inference.networking.k8s.io/qwen -n llm"));
        assert!(issues[0].hint.contains(r#""name":"qwen-epp""#));
        // The EndpointPickerRefMissing condition is not reported a second time.
        let rejected = json!([condition("Accepted", "False", "EndpointPickerRefMissing")]);
        let v16 = docs!(with_parent_status(pool, json!({"name": "gw"}), rejected));
        assert!(ctx_issues(check("LLMD-POOL-005"), &v16).is_empty());
        let issues = ctx_issues(check("LLMD-POOL-007"), &v16);
        assert_eq!(
            issues[0].message,
            "InferencePool llm/qwen has no spec.endpointPickerRef: Gateway llm/gw rejects it (Accepted=False, EndpointPickerRefMissing)"
        );
        assert!(ctx_issues(check("LLMD-POOL-007"), &docs!(self::pool())).is_empty());
    }

    #[test]
    fn v1_pool_without_picker_accepted_by_its_gateway_is_healthy() {
        // GAIE v1.6 makes endpointPickerRef optional; the gateway decides, and this one accepted it.
        let pool = pool().without("spec.endpointPickerRef");
        let accepted = docs!(with_parent_status(
            pool.clone(),
            json!({"name": "gw"}),
            json!([condition("Accepted", "True", "Accepted")])
        ));
        for code in ["LLMD-POOL-005", "LLMD-POOL-006", "LLMD-POOL-007", "LLMD-POOL-009"] {
            assert!(ctx_issues(check(code), &accepted).is_empty(), "{code}");
        }
        // Not yet accepted by anyone: still an error.
        let issues = ctx_issues(check("LLMD-POOL-007"), &docs!(pool));
        assert_eq!(
            issues[0].message,
            "InferencePool llm/qwen has no spec.endpointPickerRef: no gateway has Accepted it without one, and most require one (EndpointPickerRefMissing)"
        );
    }

    #[test]
    fn empty_selector_and_missing_ports_are_errors() {
        let pool = pool().set("spec.selector", json!({})).without("spec.targetPorts");
        let issues = ctx_issues(check("LLMD-POOL-008"), &docs!(pool));
        assert_eq!(issues.len(), 2);
        assert!(issues.iter().all(|i| i.severity == Severity::Error && i.object.name == "qwen"));
        assert!(issues[0].message.contains("selector") && issues[1].message.contains("targetPorts"));
        assert!(ctx_issues(check("LLMD-POOL-008"), &docs!(self::pool())).is_empty());
    }

    /// The picker's Service llm/qwen-epp (selector app=qwen-epp, port grpc-ext-proc 9002).
    fn epp_service() -> Obj {
        fixtures::service("llm", "qwen-epp").push("spec.ports", json!({"name": "grpc-ext-proc", "port": 9002}))
    }

    fn epp_slice(ready: bool) -> String {
        format!(
            r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {{name: qwen-epp-abc, namespace: llm, labels: {{kubernetes.io/service-name: qwen-epp}}}}
addressType: IPv4
endpoints: [{{addresses: [10.0.0.5], conditions: {{ready: {ready}}}}}]
"#
        )
    }

    #[test]
    fn fail_open_with_a_serving_picker_is_information() {
        let pool = pool().set("spec.endpointPickerRef.failureMode", "FailOpen");
        let yaml = docs!(pool, epp_service(), epp_slice(true));
        let issues = ctx_issues(check("LLMD-POOL-009"), &yaml);
        assert_eq!(issues.len(), 1, "{issues:?}");
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Info, "qwen"));
        assert_eq!(
            issues[0].message,
            "InferencePool llm/qwen uses failureMode FailOpen (the chart default): if endpoint picker qwen-epp goes down, requests bypass it instead of failing"
        );
        assert!(issues[0].hint.contains(r#""endpointPickerRef":{"failureMode":"FailClose"}"#), "{}", issues[0].hint);
        // Offline nothing tells whether the picker serves, even when its Service is not in the files.
        let mut snap = fixtures::snapshot(&docs!(pool));
        snap.live = false;
        snap.endpoint_slices = crate::snapshot::Collected::Unknown { reason: "offline".into() };
        let found = fixtures::issues_in(CHECKS, "LLMD-POOL-009", &snap);
        assert_eq!(found[0].severity, Severity::Info);
        assert!(ctx_issues(check("LLMD-POOL-009"), &docs!(self::pool())).is_empty());
    }

    #[test]
    fn fail_open_while_the_picker_is_down_is_a_warning() {
        // No ready endpoint: traffic bypasses the picker right now.
        let yaml = docs!(pool_x(), epp_service(), epp_slice(false));
        let issues = ctx_issues(check("LLMD-POOL-009"), &yaml);
        assert_eq!(issues.len(), 1);
        assert_eq!((issues[0].severity, issues[0].object.name.as_str()), (Severity::Warning, "qwen"));
        assert_eq!(
            issues[0].message,
            "InferencePool llm/qwen uses failureMode FailOpen and endpoint picker qwen-epp is down (its Service llm/qwen-epp has no ready endpoints): requests bypass the picker now, without load-aware routing"
        );
        assert!(issues[0].hint.contains(r#""extensionRef":{"failureMode":"FailClose"}"#));
        // The Service itself is missing.
        let issues = ctx_issues(check("LLMD-POOL-009"), &docs!(pool_x()));
        assert_eq!(issues[0].severity, Severity::Warning);
        assert!(issues[0].message.contains("its Service llm/qwen-epp does not exist"), "{}", issues[0].message);
    }

    const NGF_GATEWAY: &str = r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {name: nginx}
spec: {controllerName: gateway.nginx.org/nginx-gateway-controller}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {name: gw, namespace: llm}
spec: {gatewayClassName: nginx, listeners: [{name: http, port: 80, protocol: HTTP}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: r, namespace: llm}
spec:
  parentRefs: [{name: gw}]
  rules: [{backendRefs: [{group: inference.networking.k8s.io, kind: InferencePool, name: qwen}]}]
"#;

    fn ngf(version: &str) -> String {
        fixtures::ngf_controller(version, "[]")
    }

    #[test]
    fn pool010_fail_close_pool_behind_ngf_that_fails_open() {
        let yaml = format!("{}---{NGF_GATEWAY}---{}", fixtures::POOL_V1, ngf("2.6.7"));
        let issues = ctx_issues(check("LLMD-POOL-010"), &yaml);
        assert_eq!(issues.len(), 1, "{issues:?}");
        // No Service of the picker is in the snapshot, so it is down: requests bypass it now.
        assert_eq!(issues[0].severity, Severity::Warning);
        assert_eq!(
            issues[0].message,
            "InferencePool llm/qwen sets failureMode FailClose, but Gateway llm/gw runs on NGINX Gateway Fabric 2.6.7 \
             (nginx-gateway/ngf-nginx-gateway-fabric), which ignores it (nginx/nginx-gateway-fabric#5420): endpoint \
             picker qwen-epp is down (its Service llm/qwen-epp does not exist), so requests bypass it now and go to \
             any model server instead of failing"
        );
        assert!(
            issues[0].hint.starts_with(
                r#"kubectl patch inferencepool.inference.networking.k8s.io/qwen -n llm --type=merge -p '{"spec":{"endpointPickerRef":{"failureMode":"FailOpen"}}}'"#
            ),
            "{}",
            issues[0].hint
        );
        // A serving picker: the same fact, as information.
        let svc = "apiVersion: v1\nkind: Service\nmetadata: {name: qwen-epp, namespace: llm}\nspec: {ports: [{port: 9002}]}\n";
        let slice = "apiVersion: discovery.k8s.io/v1\nkind: EndpointSlice\nmetadata: {name: qwen-epp-1, namespace: llm, labels: {kubernetes.io/service-name: qwen-epp}}\naddressType: IPv4\nendpoints: [{addresses: [10.0.0.9], conditions: {ready: true}}]\n";
        let serving = format!("{yaml}---\n{svc}---\n{slice}");
        let issues = ctx_issues(check("LLMD-POOL-010"), &serving);
        assert_eq!(issues[0].severity, Severity::Info, "{issues:?}");
        assert!(issues[0].message.ends_with("if endpoint picker qwen-epp goes down or fails, requests bypass it and go to any model server instead of failing"));
        // The x-k8s pool's patch is in its own shape.
        let x = fixtures::alpha_pool("llm", "qwen").set("spec.extensionRef.failureMode", "FailClose").to_string();
        let x_issues = ctx_issues(check("LLMD-POOL-010"), &format!("{x}\n---{NGF_GATEWAY}---{}", ngf("2.2.0")));
        assert!(x_issues[0].hint.contains(r#"{"spec":{"extensionRef":{"failureMode":"FailOpen"}}}"#), "{x_issues:?}");
    }

    #[test]
    fn pool010_healthy_cases_are_not_reported() {
        let base = format!("{}---{NGF_GATEWAY}", fixtures::POOL_V1);
        // FailOpen is what NGF does anyway.
        let open = base.replace("port: {number: 9002}}", "port: {number: 9002}, failureMode: FailOpen}");
        assert!(ctx_issues(check("LLMD-POOL-010"), &format!("{open}---{}", ngf("2.6.7"))).is_empty());
        // Before inference support, after the last release known to lack the fix, or a version that cannot be read.
        for v in ["2.1.4", "2.7.0", "edge"] {
            assert!(ctx_issues(check("LLMD-POOL-010"), &format!("{base}---{}", ngf(v))).is_empty(), "{v}");
        }
        // Another provider's Gateway.
        let istio = base
            .replace("name: nginx}", "name: istio}")
            .replace("gateway.nginx.org/nginx-gateway-controller", "istio.io/gateway-controller")
            .replace("gatewayClassName: nginx", "gatewayClassName: istio");
        assert!(ctx_issues(check("LLMD-POOL-010"), &format!("{istio}---{}", ngf("2.6.7"))).is_empty());
    }
}
