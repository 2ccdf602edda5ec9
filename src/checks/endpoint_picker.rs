//! Checks: the endpoint picker (EPP) each InferencePool names — its Service, port, readiness,
//! and the pool its Deployment was started for.
//!
//! E16 (the EPP ServiceAccount's RBAC on pods/inferencepools) is LLMD-EPP-007: it reads the
//! SubjectAccessReviews the live collector made (`Kind::SaAccess`), so it is skipped offline.

use super::pools::{
    effective_pools, epp_port_patch, epp_port_repair, pool_patch, pool_path, ready_endpoints, serving_gateways,
};
use super::{Check, CheckContext, Issue};
use crate::catalog::providers::{is_istio_family, provider, Provider};
use crate::catalog::{parse_version, ProviderId};
use crate::findings::Category;
use crate::model::{groups, InferencePoolView, ObjectRef, PoolApi, DEFAULT_EPP_PORT};
use crate::snapshot::{service_account_of, service_selector, AccessRequest, Kind, PickerWorkload, Snapshot};
use k8s_openapi::api::core::v1::{Container, Service};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use serde_json::json;
use std::collections::BTreeMap;

/// What LLMD-EPP-008/009 read: the pools, their pickers' workloads and the Gateways routing to them.
const PICKER_BEHIND_GATEWAY: &[Kind] = &[
    Kind::InferencePools,
    Kind::InferencePoolsX,
    Kind::Services,
    Kind::Deployments,
    Kind::StatefulSets,
    Kind::Gateways,
    Kind::HttpRoutes,
];

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-EPP-001",
        title: "Every InferencePool's endpoint picker Service exists",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services],
        run: check_service_exists,
    },
    Check {
        code: "LLMD-EPP-002",
        title: "Every InferencePool's endpoint picker port is a port of its Service",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services],
        run: check_service_port,
    },
    Check {
        code: "LLMD-EPP-003",
        title: "Every endpoint picker Service has ready endpoints",
        category: Category::EndpointPicker,
        needs: &[
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::Services,
            Kind::EndpointSlices,
            Kind::Deployments,
            Kind::StatefulSets,
            Kind::LiveStatus,
        ],
        run: check_ready_endpoints,
    },
    Check {
        code: "LLMD-EPP-004",
        title: "Every endpoint picker Deployment or StatefulSet is serving",
        category: Category::EndpointPicker,
        needs: &[
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::Services,
            Kind::Deployments,
            Kind::StatefulSets,
            Kind::LiveStatus,
        ],
        run: check_deployment_available,
    },
    Check {
        code: "LLMD-EPP-005",
        title: "Every endpoint picker runs with its pool's --pool-name and --pool-namespace",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::Deployments, Kind::StatefulSets],
        run: check_pool_name_args,
    },
    Check {
        code: "LLMD-EPP-006",
        title: "Every endpoint picker speaks its pool's API group",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::Deployments, Kind::StatefulSets],
        run: check_pool_group,
    },
    Check {
        code: "LLMD-EPP-007",
        title: "Every endpoint picker's ServiceAccount may read its pool and pods",
        category: Category::EndpointPicker,
        needs: &[
            Kind::InferencePools,
            Kind::InferencePoolsX,
            Kind::Services,
            Kind::Deployments,
            Kind::StatefulSets,
            Kind::SaAccess,
        ],
        run: check_picker_access,
    },
    Check {
        code: "LLMD-EPP-008",
        title: "No endpoint picker behind a gateway outside the mesh runs an Istio sidecar",
        category: Category::EndpointPicker,
        // Pods are read when they were collected (a dump holds every pod; live, the pools' pods).
        needs: PICKER_BEHIND_GATEWAY,
        run: check_picker_sidecar,
    },
    Check {
        code: "LLMD-EPP-009",
        title: "Every endpoint picker behind kgateway or NGINX Gateway Fabric speaks TLS as the gateway does",
        category: Category::EndpointPicker,
        needs: PICKER_BEHIND_GATEWAY,
        run: check_picker_tls_matches_gateway,
    },
];

/// Image path of the upstream EPP; its tag is the GAIE release.
const GAIE_EPP_IMAGE: &str = "gateway-api-inference-extension/epp";
const GAIE_EPP_REGISTRY: &str = "registry.k8s.io/gateway-api-inference-extension/epp";

// ---------------------------------------------------------------------------------------------
// Helpers.

fn name_of(meta: &ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// Each effective pool with its existing EPP Service (pools whose Service is missing are LLMD-EPP-001's).
fn pools_with_service(snap: &Snapshot) -> Vec<(&InferencePoolView, &Service)> {
    effective_pools(snap)
        .into_iter()
        .filter_map(|p| {
            let svc = snap.service(p.metadata.ns(), p.epp_service_name()?)?;
            Some((p, svc))
        })
        .collect()
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// A pool flag found on a container's command line.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct PoolFlag {
    /// Canonical name: pool-name, pool-namespace, pool-group, or secure-serving.
    pub key: &'static str,
    /// As written ("--pool-name", "-poolName").
    pub spelled: String,
    pub value: String,
    /// "args" or "command".
    pub field: &'static str,
    /// Index of the token holding the value.
    pub index: usize,
    /// True for `--flag=value`.
    pub inline: bool,
}

/// Pool flags in a container's command and args (`--pool-name x`, `--pool-name=x`, old `-poolName x`).
pub(super) fn pool_flags(c: &Container) -> Vec<PoolFlag> {
    let mut out = Vec::new();
    for (field, list) in [("command", &c.command), ("args", &c.args)] {
        let Some(list) = list else { continue };
        for (i, tok) in list.iter().enumerate() {
            if !tok.starts_with('-') {
                continue;
            }
            let body = tok.trim_start_matches('-');
            let (name, inline_value) = match body.split_once('=') {
                Some((n, v)) => (n, Some(v.to_string())),
                None => (body, None),
            };
            let key = match name {
                "pool-name" | "poolName" => "pool-name",
                "pool-namespace" | "poolNamespace" => "pool-namespace",
                "pool-group" | "poolGroup" => "pool-group",
                "secure-serving" | "secureServing" => "secure-serving",
                _ => continue,
            };
            let spelled = tok.split_once('=').map_or(tok.as_str(), |(f, _)| f).to_string();
            let flag = match inline_value {
                Some(value) => PoolFlag { key, spelled, value, field, index: i, inline: true },
                // A bool flag (secure-serving) takes no separate value.
                None if key == "secure-serving" => {
                    PoolFlag { key, spelled, value: "true".into(), field, index: i, inline: true }
                }
                None => match list.get(i + 1).filter(|v| !v.starts_with('-')) {
                    Some(v) => PoolFlag { key, spelled, value: v.clone(), field, index: i + 1, inline: false },
                    None => continue,
                },
            };
            out.push(flag);
        }
    }
    out
}

/// True when an EPP container was started with `--secure-serving=false` (plaintext gRPC).
pub(super) fn serves_plaintext(w: &PickerWorkload) -> bool {
    w.containers().iter().flat_map(pool_flags).any(|f| f.key == "secure-serving" && f.value == "false")
}

/// The GAIE release of an upstream EPP image ("…/gateway-api-inference-extension/epp:v1.0.1").
fn epp_image_version(image: &str) -> Option<semver::Version> {
    if !image.contains(GAIE_EPP_IMAGE) {
        return None;
    }
    let no_digest = image.split('@').next().unwrap_or(image);
    let (_, tag) = no_digest.rsplit_once(':')?;
    if !tag.starts_with('v') || !tag[1..].starts_with(|c: char| c.is_ascii_digit()) {
        return None;
    }
    parse_version(tag)
}

/// Every Deployment and StatefulSet running an upstream endpoint picker image older than `min`,
/// with that image (pickers of unknown version, such as llm-d's own images, are not listed).
pub(crate) fn pickers_older_than(snap: &Snapshot, min: &semver::Version) -> Vec<(ObjectRef, String)> {
    let workloads = snap
        .deployments
        .items()
        .iter()
        .map(PickerWorkload::from_deployment)
        .chain(snap.stateful_sets.items().iter().map(PickerWorkload::from_stateful_set));
    let mut out = Vec::new();
    for w in workloads {
        for image in w.containers().iter().filter_map(|c| c.image.as_deref()) {
            if epp_image_version(image).is_some_and(|v| v < *min) {
                out.push((w.object(), image.to_string()));
            }
        }
    }
    out
}

/// The container that is the endpoint picker: it carries pool flags or the upstream EPP image.
fn epp_containers<'a>(w: &'a PickerWorkload) -> Vec<(usize, &'a Container)> {
    w.containers()
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            pool_flags(c).iter().any(|f| f.key != "secure-serving")
                || c.image.as_deref().is_some_and(|i| i.contains(GAIE_EPP_IMAGE))
        })
        .collect()
}

/// `kubectl patch` replacing one command-line token of container `ci`.
fn replace_token_hint(w: &PickerWorkload, ci: usize, flag: &PoolFlag, new_value: &str) -> String {
    let token = if flag.inline { format!("{}={new_value}", flag.spelled) } else { new_value.to_string() };
    let patch = json!([{
        "op": "replace",
        "path": format!("/spec/template/spec/containers/{ci}/{}/{}", flag.field, flag.index),
        "value": token,
    }]);
    let obj = w.object();
    format!("kubectl patch {}/{}{} --type=json -p '{patch}'", w.resource(), obj.name, obj.ns_flag())
}

/// `kubectl patch` appending an arg to container `ci`.
fn add_arg_hint(w: &PickerWorkload, ci: usize, c: &Container, arg: &str) -> String {
    let patch = if c.args.is_some() {
        json!([{"op": "add", "path": format!("/spec/template/spec/containers/{ci}/args/-"), "value": arg}])
    } else {
        json!([{"op": "add", "path": format!("/spec/template/spec/containers/{ci}/args"), "value": [arg]}])
    };
    let obj = w.object();
    format!("kubectl patch {}/{}{} --type=json -p '{patch}'", w.resource(), obj.name, obj.ns_flag())
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// E13: the Service named by endpointPickerRef does not exist.
fn check_service_exists(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let ns = pool.metadata.ns();
        let Some(svc) = pool.epp_service_name() else { continue };
        if !snap.in_scope(ns) || snap.service(ns, svc).is_some() {
            continue;
        }
        let others: Vec<&str> = snap
            .services
            .items()
            .iter()
            .filter(|s| s.metadata.namespace.as_deref() == Some(ns))
            .filter(|s| {
                let ports = s.spec.as_ref().and_then(|sp| sp.ports.as_ref());
                ports.is_some_and(|p| p.iter().any(|p| p.name.as_deref() == Some("grpc-ext-proc") || p.port == 9002))
            })
            .map(|s| name_of(&s.metadata))
            .collect();
        let field = if pool.api == PoolApi::V1 { "endpointPickerRef" } else { "extensionRef" };
        let hint = if others.len() == 1 {
            pool_patch(pool, &json!({"spec": {field: {"name": others[0]}}}))
        } else {
            format!(
                "create the endpoint picker Deployment (args --pool-name={} --pool-namespace={ns}) and Service {svc} (port {DEFAULT_EPP_PORT}) in namespace {ns}, or set spec.{field}.name in InferencePool {} to the existing picker Service",
                pool.metadata.name,
                pool_path(pool)
            )
        };
        out.push(Issue::error(
            pool.object_ref(),
            format!(
                "InferencePool {} names endpoint picker Service {svc}, which does not exist in namespace {ns}: the gateway cannot pick endpoints (ResolvedRefs=False, requests fail with 500)",
                pool_path(pool)
            ),
            hint,
        ));
    }
    out
}

/// E14: the EPP port is omitted (v1) or not one of the Service's ports.
fn check_service_port(ctx: &CheckContext) -> Vec<Issue> {
    let mut out = Vec::new();
    for (pool, svc) in pools_with_service(ctx.snapshot) {
        let Some(epp) = &pool.endpoint_picker else { continue };
        let ports = svc.spec.as_ref().and_then(|s| s.ports.clone()).unwrap_or_default();
        if let Some(p) = epp.port {
            if ports.iter().any(|sp| i64::from(sp.port) == p) {
                continue;
            }
        }
        let listed: Vec<String> = ports
            .iter()
            .map(|p| match &p.name {
                Some(n) => format!("{} ({n})", p.port),
                None => p.port.to_string(),
            })
            .collect();
        // The unambiguous choice: the only port, else the only grpc-ext-proc port, else the only 9002.
        let choice = if ports.len() == 1 {
            Some(ports[0].port)
        } else {
            let named: Vec<_> = ports.iter().filter(|p| p.name.as_deref() == Some("grpc-ext-proc")).collect();
            let numbered: Vec<_> = ports.iter().filter(|p| i64::from(p.port) == DEFAULT_EPP_PORT).collect();
            if named.len() == 1 {
                Some(named[0].port)
            } else if numbered.len() == 1 {
                Some(numbered[0].port)
            } else {
                None
            }
        };
        let field =
            if pool.api == PoolApi::V1 { "spec.endpointPickerRef.port.number" } else { "spec.extensionRef.portNumber" };
        let svc_name = name_of(&svc.metadata);
        let message = match (epp.port, ports.is_empty()) {
            (_, true) => format!(
                "endpoint picker Service {}/{svc_name} of InferencePool {} declares no ports",
                pool.metadata.ns(),
                pool_path(pool)
            ),
            (None, false) => format!(
                "InferencePool {} omits {field}; the gateway has no port to reach endpoint picker {svc_name} on (Service ports: {})",
                pool_path(pool),
                listed.join(", ")
            ),
            (Some(p), false) => format!(
                "InferencePool {} sends to port {p} of endpoint picker Service {svc_name}, which only has ports {}",
                pool_path(pool),
                listed.join(", ")
            ),
        };
        let issue = match choice {
            Some(port) => {
                Issue::error(pool.object_ref(), message, pool_patch(pool, &epp_port_patch(pool, port.into())))
                    .repair(epp_port_repair(pool, port.into()))
            }
            None if ports.is_empty() => Issue::error(
                pool.object_ref(),
                message,
                format!(
                    "kubectl patch service/{svc_name} -n {} --type=merge -p '{}'",
                    pool.metadata.ns(),
                    json!({"spec": {"ports": [{"name": "grpc-ext-proc", "port": DEFAULT_EPP_PORT, "targetPort": DEFAULT_EPP_PORT}]}})
                ),
            ),
            None => Issue::error(
                pool.object_ref(),
                message,
                format!(
                    "set {field} in InferencePool {} to the Service's gRPC ext-proc port (one of {})",
                    pool_path(pool),
                    listed.join(", ")
                ),
            ),
        };
        out.push(issue);
    }
    out
}

/// E15: the EPP Service has no ready endpoint (and no unavailable workload explains it).
fn check_ready_endpoints(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (pool, svc) in pools_with_service(snap) {
        let ns = pool.metadata.ns();
        let svc_name = name_of(&svc.metadata);
        if !seen.insert((ns.to_string(), svc_name.to_string())) {
            continue;
        }
        if ready_endpoints(snap, ns, svc_name).unwrap_or(0) > 0 {
            continue;
        }
        let workloads = snap.picker_workloads(svc);
        if workloads.iter().any(PickerWorkload::unavailable) {
            continue; // LLMD-EPP-004 names the workload.
        }
        let selector = service_selector(svc);
        let (why, hint) = if selector.is_empty() {
            (
                "it has no selector and no ready endpoints".to_string(),
                format!("set spec.selector in Service {ns}/{svc_name} to the endpoint picker pod labels"),
            )
        } else if workloads.is_empty() {
            (
                format!(
                    "no Deployment or StatefulSet in namespace {ns} has pod labels matching its selector {}",
                    labels_text(&selector)
                ),
                format!(
                    "set spec.selector in Service {ns}/{svc_name} to the endpoint picker pod labels (kubectl get deployments,statefulsets -n {ns} -o wide)"
                ),
            )
        } else {
            let names: Vec<String> = workloads.iter().map(|w| format!("{} {}", w.kind, name_of(w.meta))).collect();
            (
                format!("{} is available but none of its pods is a ready endpoint of the Service", names.join(", ")),
                format!("kubectl describe endpointslices -n {ns} -l kubernetes.io/service-name={svc_name}"),
            )
        };
        out.push(Issue::error(
            ObjectRef::new("Service", "", ns, svc_name),
            format!(
                "endpoint picker Service {ns}/{svc_name} of InferencePool {} has no ready endpoints: {why}",
                pool_path(pool)
            ),
            hint,
        ));
    }
    out
}

/// E15: the picker's workload is scaled to zero or not available. Judged by the ready endpoints
/// of the picker Service when they are known: a picker with leader election keeps its standbys
/// NotReady, so its Deployment never reports Available although the leader serves.
fn check_deployment_available(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (pool, svc) in pools_with_service(snap) {
        let serving = ready_endpoints(snap, pool.metadata.ns(), name_of(&svc.metadata));
        for w in snap.picker_workloads(svc) {
            let obj = w.object();
            if !seen.insert(obj.clone()) {
                continue;
            }
            let (desired, available) = (w.desired, w.available);
            let what = format!(
                "endpoint picker {} {}/{} of InferencePool {}",
                w.kind,
                obj.namespace,
                obj.name,
                pool_path(pool)
            );
            let debug = format!(
                "kubectl describe {res}/{name}{ns} && kubectl logs {res}/{name}{ns}",
                res = w.resource(),
                name = obj.name,
                ns = obj.ns_flag()
            );
            if desired == 0 {
                out.push(Issue::error(
                    obj.clone(),
                    format!("{what} is scaled to 0 replicas"),
                    format!("kubectl scale {}/{}{} --replicas=1", w.resource(), obj.name, obj.ns_flag()),
                ));
                continue;
            }
            // With leader election one ready replica is the design; without, a ready endpoint
            // still carries traffic, so a shortfall is a degradation, not an outage.
            let leader = w.leader_elected();
            let serving_now = match serving {
                Some(n) => n > 0,
                None => leader && w.ready > 0,
            };
            if leader && serving_now {
                continue;
            }
            let cond_text = w.not_available.as_ref().map(|c| format!(" (Available=False, {c})")).unwrap_or_default();
            if !w.unavailable() {
                continue;
            }
            let issue = if serving_now {
                Issue::warning(
                    obj.clone(),
                    format!(
                        "{what} has only {available}/{desired} replicas available{cond_text}; its Service still has ready endpoints"
                    ),
                    debug,
                )
            } else if available == 0 || !cond_text.is_empty() || leader {
                let lead = if leader { " and no ready leader (it runs with --ha-enable-leader-election)" } else { "" };
                Issue::error(
                    obj.clone(),
                    format!("{what} has {available}/{desired} replicas available{cond_text}{lead}"),
                    debug,
                )
            } else {
                Issue::warning(obj.clone(), format!("{what} has only {available}/{desired} replicas available"), debug)
            };
            out.push(issue);
        }
    }
    out
}

/// E18: --pool-name / --pool-namespace do not name the pool.
fn check_pool_name_args(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for (pool, svc) in pools_with_service(snap) {
        for d in &snap.picker_workloads(svc) {
            let dep_ns = d.meta.namespace.as_deref().unwrap_or("");
            for (ci, c) in epp_containers(d) {
                let flags = pool_flags(c);
                let obj = d.object();
                if let Some(f) = flags.iter().find(|f| f.key == "pool-name") {
                    if f.value != pool.metadata.name {
                        out.push(Issue::error(
                            obj.clone(),
                            format!(
                                "endpoint picker {dep_ns}/{} (container {}) runs with {} {} but serves InferencePool {}: it watches a pool that is not this one",
                                obj.name,
                                c.name,
                                f.spelled,
                                f.value,
                                pool_path(pool)
                            ),
                            replace_token_hint(d, ci, f, &pool.metadata.name),
                        ));
                    }
                }
                let ns_flag = flags.iter().find(|f| f.key == "pool-namespace");
                let Some(effective_ns) =
                    ns_flag.map_or_else(|| implicit_pool_namespace(c, dep_ns), |f| Some(f.value.clone()))
                else {
                    continue;
                };
                if effective_ns != pool.metadata.ns() {
                    if ns_flag.is_none() {
                        out.push(Issue::error(
                            obj.clone(),
                            format!(
                                "endpoint picker {dep_ns}/{} (container {}) has no --pool-namespace, so it watches namespace {effective_ns} ({}), but InferencePool {} is in namespace {}",
                                obj.name,
                                c.name,
                                implicit_namespace_reason(c),
                                pool_path(pool),
                                pool.metadata.ns()
                            ),
                            add_arg_hint(d, ci, c, &format!("--pool-namespace={}", pool.metadata.ns())),
                        ));
                    }
                    if let Some(f) = ns_flag {
                        out.push(Issue::error(
                            obj.clone(),
                            format!(
                                "endpoint picker {dep_ns}/{} (container {}) runs with {} {} but InferencePool {} is in namespace {}",
                                obj.name,
                                c.name,
                                f.spelled,
                                f.value,
                                pool_path(pool),
                                pool.metadata.ns()
                            ),
                            replace_token_hint(d, ci, f, pool.metadata.ns()),
                        ));
                    }
                }
            }
        }
    }
    out
}

/// The namespace a picker without `--pool-namespace` watches; None when it cannot be told (NAMESPACE set
/// from something other than the Pod's namespace). GAIE v1.0.x defaults the flag to `default`
/// (v1.0.1 pkg/epp/server/runserver.go DefaultPoolNamespace); from v1.1 an empty flag falls back to the
/// NAMESPACE environment variable, then to `default` (v1.3.0 cmd/epp/runner/runner.go resolvePoolNamespace).
fn implicit_pool_namespace(c: &Container, own_ns: &str) -> Option<String> {
    let v1_1 = semver::Version::new(1, 1, 0);
    if c.image.as_deref().and_then(epp_image_version).is_some_and(|v| v < v1_1) {
        return Some("default".into());
    }
    let env = c.env.iter().flatten().find(|e| e.name == "NAMESPACE");
    match env {
        None => Some("default".into()),
        Some(e) => match (&e.value, &e.value_from) {
            (Some(v), _) if !v.is_empty() => Some(v.clone()),
            (_, Some(from)) => {
                from.field_ref.as_ref().filter(|f| f.field_path == "metadata.namespace").map(|_| own_ns.to_string())
            }
            _ => Some("default".into()),
        },
    }
}

/// Why a picker without `--pool-namespace` watches the namespace it does, in words.
fn implicit_namespace_reason(c: &Container) -> &'static str {
    let v1_1 = semver::Version::new(1, 1, 0);
    if c.image.as_deref().and_then(epp_image_version).is_some_and(|v| v < v1_1) {
        "a v1.0 picker defaults --pool-namespace to default"
    } else if c.env.iter().flatten().any(|e| e.name == "NAMESPACE") {
        "read from its NAMESPACE environment variable"
    } else {
        "it falls back to its NAMESPACE environment variable, which is not set, then to default"
    }
}

/// E19: the picker's API group does not match the pool's (explicit --pool-group, its default,
/// EPP ≥ v1.5 with an x-k8s pool, or a pre-v1.0 EPP with a v1 pool).
fn check_pool_group(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let v1_5 = semver::Version::new(1, 5, 0);
    let v1_0 = semver::Version::new(1, 0, 0);
    for (pool, svc) in pools_with_service(snap) {
        let group = pool.api.group();
        for d in &snap.picker_workloads(svc) {
            let obj = d.object();
            for (ci, c) in epp_containers(d) {
                let flags = pool_flags(c);
                let image = c.image.as_deref().unwrap_or("");
                let version = epp_image_version(image);
                let old_flags = flags.iter().any(|f| f.spelled.trim_start_matches('-') == "poolName");
                let old = old_flags || version.as_ref().is_some_and(|v| *v < v1_0);
                let upgrade = format!(
                    "kubectl set image {}/{}{} {}={GAIE_EPP_REGISTRY}:{}",
                    d.resource(),
                    obj.name,
                    obj.ns_flag(),
                    c.name,
                    ctx.profile.inference_extension
                );
                let what = format!("endpoint picker {}/{} (container {})", obj.namespace, obj.name, c.name);
                if pool.api == PoolApi::V1 && old {
                    let reason = if old_flags {
                        "uses the pre-v1.0 -poolName flag".to_string()
                    } else {
                        format!("runs {image}")
                    };
                    out.push(Issue::error(
                        obj.clone(),
                        format!(
                            "{what} {reason}, a pre-v1.0 picker that only watches {} pools, but InferencePool {} is {}/v1",
                            groups::INFERENCE_X,
                            pool_path(pool),
                            groups::INFERENCE
                        ),
                        format!("{upgrade}  # and rename -poolName/-poolNamespace to --pool-name/--pool-namespace"),
                    ));
                    continue;
                }
                if pool.api == PoolApi::V1Alpha2 && version.as_ref().is_some_and(|v| *v >= v1_5) {
                    out.push(Issue::error(
                        obj.clone(),
                        format!(
                            "{what} runs {image}; pickers from v1.5 on only serve {} pools, but InferencePool {} is {}/v1alpha2",
                            groups::INFERENCE,
                            pool_path(pool),
                            groups::INFERENCE_X
                        ),
                        format!("migrate the pool to {}/v1 (see LLMD-POOL-001), then keep --pool-group={}", groups::INFERENCE, groups::INFERENCE),
                    ));
                    continue;
                }
                if old {
                    continue; // a pre-v1.0 picker with an x-k8s pool: consistent
                }
                match flags.iter().find(|f| f.key == "pool-group") {
                    Some(f) if f.value != group => out.push(
                        Issue::error(
                            obj.clone(),
                            format!(
                                "{what} runs with {} {} but InferencePool {} is in group {group}: the picker never finds its pool",
                                f.spelled,
                                f.value,
                                pool_path(pool)
                            ),
                            replace_token_hint(d, ci, f, group),
                        ),
                    ),
                    None if pool.api == PoolApi::V1Alpha2 => out.push(Issue::error(
                        obj.clone(),
                        format!(
                            "{what} has no --pool-group, so it watches group {} by default, but InferencePool {} is in group {group}",
                            groups::INFERENCE,
                            pool_path(pool)
                        ),
                        add_arg_hint(d, ci, c, &format!("--pool-group={group}")),
                    )),
                    _ => {}
                }
            }
        }
    }
    out
}

/// E16: the picker's ServiceAccount lacks get/list/watch on its pool, the pool's pods or
/// InferenceObjectives; its informers then fail with `… is forbidden` and it never learns the
/// endpoints (the permissions the GAIE chart grants: config/charts/inferencepool/templates/rbac.yaml).
/// Reviewed only for pickers without ready endpoints (`Snapshot::all_access_requests`): a ready
/// picker has synced what it reads.
fn check_picker_access(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for (pool, svc) in pools_with_service(snap) {
        for w in snap.picker_workloads(svc) {
            let obj = w.object();
            let sa = service_account_of(w.template);
            let requests = snap.picker_access_requests(&obj.namespace, sa, pool);
            let denied: Vec<&AccessRequest> = snap.denied(&requests).collect();
            if denied.is_empty() {
                continue;
            }
            // "may not list, watch pods; get, list, watch inferencepools.inference.networking.k8s.io"
            let mut by_resource: BTreeMap<String, Vec<&str>> = BTreeMap::new();
            for r in &denied {
                by_resource.entry(r.resource_name()).or_default().push(r.verb);
            }
            let missing =
                by_resource.iter().map(|(res, verbs)| format!("{} {res}", verbs.join(", "))).collect::<Vec<_>>();
            let pool_ns = pool.metadata.ns();
            let first = by_resource.keys().next().map(String::as_str).unwrap_or("pods");
            let role = format!("{}-epp-reader", pool.metadata.name);
            // Every resource the picker reads, so the Role is complete even when only one is missing.
            let mut resources: Vec<String> = requests.iter().map(AccessRequest::resource_name).collect();
            resources.dedup();
            out.push(Issue::error(
                obj.clone(),
                format!(
                    "ServiceAccount {}/{sa} of endpoint picker {} {}/{} may not {} in namespace {pool_ns}: the picker logs `{first} is forbidden` and cannot serve InferencePool {}",
                    obj.namespace,
                    w.kind,
                    obj.namespace,
                    obj.name,
                    missing.join("; "),
                    pool_path(pool)
                ),
                format!(
                    "kubectl create role {role} -n {pool_ns} --verb=get,list,watch --resource={} && kubectl create rolebinding {role} -n {pool_ns} --role={role} --serviceaccount={}:{sa}",
                    resources.join(","),
                    obj.namespace
                ),
            ));
        }
    }
    out
}

/// Istio's sidecar container, as its injector names it.
const ISTIO_PROXY: &str = "istio-proxy";
/// The pod label (and the older annotation) that turns Istio's injection on or off for a pod.
const ISTIO_INJECT: &str = "sidecar.istio.io/inject";

/// Why a picker workload's pods run (or will run) Istio's sidecar, or None.
fn picker_sidecar(snap: &Snapshot, w: &PickerWorkload) -> Option<String> {
    let ns = w.meta.namespace.as_deref().unwrap_or("");
    let template_meta = w.template.metadata.as_ref();
    let template_labels = template_meta.and_then(|m| m.labels.as_ref());
    // Pods, when collected (every pod of a dump): the injector adds a container named istio-proxy
    // (a native sidecar, in initContainers, from Istio 1.27 on by default).
    if let Some(labels) = template_labels.filter(|l| !l.is_empty()) {
        let injected = snap.pods_in(ns).find(|p| {
            let pod_labels = p.metadata.labels.as_ref();
            let selected = labels.iter().all(|(k, v)| pod_labels.and_then(|l| l.get(k)) == Some(v));
            let spec = p.spec.as_ref();
            let mut names = spec
                .into_iter()
                .flat_map(|s| s.containers.iter().chain(s.init_containers.iter().flatten()))
                .map(|c| c.name.as_str());
            selected && names.any(|n| n == ISTIO_PROXY)
        });
        if let Some(pod) = injected {
            return Some(format!(
                "its pod {ns}/{} runs the {ISTIO_PROXY} sidecar",
                pod.metadata.name.as_deref().unwrap_or("")
            ));
        }
    }
    // The pod label asks Istio's injector for a sidecar in any namespace (istio.io, "Controlling the
    // injection policy"); it only matters where istiod runs.
    let asks = template_labels.and_then(|l| l.get(ISTIO_INJECT)).is_some_and(|v| v == "true");
    let istiod = !super::gatewayclasses::controller_deployments(snap, provider(ProviderId::Istio)).is_empty();
    (asks && istiod)
        .then(|| format!("its pod template has the label {ISTIO_INJECT}=true and istiod runs in the cluster"))
}

// LLMD-EPP-008: an Istio sidecar in the picker pod intercepts the picker's gRPC port; a gateway outside
// the mesh (kgateway, agentgateway, Envoy Gateway, NGF, GKE…) connects with its own TLS to a picker
// serving TLS (--secure-serving, the default), the two handshakes do not meet, the gateway logs
// cx_connect_fail and answers 500 (ai-dynamo/dynamo#9935, fixed by `sidecar.istio.io/inject: "false"`
// on the picker's pod template, as dynamo#9839 did for the kgateway proxy). Behind Istio's own Gateway
// the picker in the mesh is not reported: no upstream report shows it breaking.
fn check_picker_sidecar(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (pool, svc) in pools_with_service(snap) {
        let outside: Vec<(String, &str)> = serving_gateways(snap, pool)
            .into_iter()
            .filter_map(|(g, p)| p.filter(|p| !is_istio_family(p.id)).map(|p| (g, p.name)))
            .collect();
        let Some((gateway, provider_name)) = outside.first() else { continue };
        for w in snap.picker_workloads(svc) {
            if serves_plaintext(&w) || !seen.insert(w.object()) {
                continue;
            }
            let Some(why) = picker_sidecar(snap, &w) else { continue };
            let obj = w.object();
            // The label wins over the annotation in Istio's injector: turn off whichever asks.
            let labelled = w
                .template
                .metadata
                .as_ref()
                .and_then(|m| m.labels.as_ref())
                .is_some_and(|l| l.contains_key(ISTIO_INJECT));
            let field = if labelled { "labels" } else { "annotations" };
            let patch = json!({"spec": {"template": {"metadata": {field: {ISTIO_INJECT: "false"}}}}});
            out.push(Issue::error(
                obj.clone(),
                format!(
                    "endpoint picker {} {}/{} of InferencePool {} runs in Istio's mesh ({why}), but Gateway {gateway} \
                     ({provider_name}) is outside it: the sidecar intercepts the picker's TLS port, the handshake \
                     fails and the gateway answers 500 (ai-dynamo/dynamo#9935)",
                    w.kind,
                    obj.namespace,
                    obj.name,
                    pool_path(pool)
                ),
                format!(
                    "kubectl patch {} {} -n {} -p '{patch}'  # new picker pods start without the sidecar",
                    w.resource(),
                    obj.name,
                    obj.namespace
                ),
            ));
        }
    }
    out
}

/// NGINX Gateway Fabric's flag that makes its endpoint-picker shim connect in plaintext (NGF 2.3.0
/// on, nginx/nginx-gateway-fabric#4105, cmd/gateway/commands.go; the chart's
/// `nginxGateway.gwAPIInferenceExtension.endpointPicker.disableTLS`). Without it NGF connects with
/// TLS and skips verification (cmd/gateway/endpoint_picker.go `realExtProcClientFactory`; 2.2.0
/// always did).
const NGF_DISABLE_TLS: &str = "endpoint-picker-disable-tls";

/// Whether a Gateway's controller connects to the picker with TLS: Some(true/false), None unknown
/// (a provider not judged here, or an NGF whose controller Deployment was not read).
fn gateway_speaks_tls(snap: &Snapshot, gateway: &str, p: &Provider) -> Option<bool> {
    match p.id {
        // Only kgateway's Envoy data plane: the agentgateway class kgateway also served
        // (kgateway.dev/agentgateway) runs another proxy, not what kgateway#11429 is about.
        ProviderId::Kgateway => {
            let (ns, name) = gateway.split_once('/')?;
            let class = snap.gateway(ns, name)?.spec.gateway_class_name.as_str();
            let controller = snap.gateway_class(class).map(|c| c.spec.controller_name.as_str());
            (controller.unwrap_or("kgateway.dev/kgateway") == "kgateway.dev/kgateway").then_some(true)
        }
        ProviderId::NginxGatewayFabric => {
            let ngf = provider(ProviderId::NginxGatewayFabric);
            let d = super::gatewayclasses::controller_deployments(snap, ngf).into_iter().next()?;
            let c = super::gatewayclasses::controller_container(d, ngf)?;
            let disabled = c.command.iter().flatten().chain(c.args.iter().flatten()).any(|a| {
                let body = a.trim_start_matches('-');
                body == NGF_DISABLE_TLS || body == format!("{NGF_DISABLE_TLS}=true")
            });
            Some(!disabled)
        }
        _ => None,
    }
}

// LLMD-EPP-009: the gateway and its picker must agree on TLS.
// - kgateway's endpoint-picker ext_proc cluster always carries a TLS transport socket
//   (UpstreamTlsContext without validation), so a picker run with --secure-serving=false never
//   completes the handshake (kgateway-dev/kgateway#11429, "Plain text ext-proc (Endpoint Picker) …
//   doesn't work", open).
// - NGINX Gateway Fabric connects with TLS unless its controller runs --endpoint-picker-disable-tls
//   (NGF_DISABLE_TLS); a plaintext picker fails the first, a TLS picker (the default) the second.
// Other providers are not judged: Istio's TLS is a DestinationRule (LLMD-IST-001/005); for
// agentgateway, Envoy (AI) Gateway and GKE no upstream source shows a mismatch failing.
fn check_picker_tls_matches_gateway(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (pool, svc) in pools_with_service(snap) {
        let judged: Vec<(String, &Provider, bool)> = serving_gateways(snap, pool)
            .into_iter()
            .filter_map(|(g, p)| {
                let p = p?;
                let tls = gateway_speaks_tls(snap, &g, p)?;
                Some((g, p, tls))
            })
            .collect();
        for w in snap.picker_workloads(svc) {
            // The --secure-serving=false a plaintext picker runs with (container index, flag).
            let plain_flag = w.containers().iter().enumerate().find_map(|(i, c)| {
                pool_flags(c).into_iter().find(|f| f.key == "secure-serving" && f.value == "false").map(|f| (i, f))
            });
            let plaintext = plain_flag.is_some();
            let Some((gateway, p, _)) = judged.iter().find(|(_, _, tls)| *tls == plaintext) else { continue };
            if !seen.insert(w.object()) {
                continue;
            }
            let obj = w.object();
            let (how, source, ops) = if let Some((i, flag)) = &plain_flag {
                let path = format!("/spec/template/spec/containers/{i}/{}/{}", flag.field, flag.index);
                let source = if p.id == ProviderId::Kgateway {
                    "kgateway-dev/kgateway#11429"
                } else {
                    "nginx/nginx-gateway-fabric#4105: TLS unless --endpoint-picker-disable-tls"
                };
                (
                    format!(
                        "runs with {}=false and speaks plaintext, but {} connects to it with TLS",
                        flag.spelled, p.name
                    ),
                    source,
                    json!([{"op": "remove", "path": path}]),
                )
            } else {
                let i = w.containers().iter().position(|c| !pool_flags(c).is_empty()).unwrap_or(0);
                let has_args = w.containers().get(i).is_some_and(|c| c.args.is_some());
                let op = if has_args {
                    json!({"op": "add", "path": format!("/spec/template/spec/containers/{i}/args/-"), "value": "--secure-serving=false"})
                } else {
                    json!({"op": "add", "path": format!("/spec/template/spec/containers/{i}/args"), "value": ["--secure-serving=false"]})
                };
                (
                    format!(
                        "serves TLS (--secure-serving defaults to true), but {} runs with --{NGF_DISABLE_TLS} and connects to it in plaintext",
                        p.name
                    ),
                    "nginx/nginx-gateway-fabric#4105",
                    json!([op]),
                )
            };
            out.push(Issue::error(
                obj.clone(),
                format!(
                    "endpoint picker {} {}/{} of InferencePool {} {how} for Gateway {gateway} ({source}): the \
                     handshake fails, so every request fails (or bypasses the picker with FailOpen)",
                    w.kind,
                    obj.namespace,
                    obj.name,
                    pool_path(pool),
                ),
                format!(
                    "kubectl patch {} {} -n {} --type=json -p '{ops}'  # make the picker speak what the gateway speaks",
                    w.resource(),
                    obj.name,
                    obj.namespace
                ),
            ));
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::findings::Severity;

    fn issues(code: &str, yaml: &str) -> Vec<Issue> {
        fixtures::issues(CHECKS, code, yaml)
    }

    use fixtures::POOL_V1 as POOL;

    const POOL_X: &str = r#"
apiVersion: inference.networking.x-k8s.io/v1alpha2
kind: InferencePool
metadata: {name: qwen, namespace: llm}
spec:
  selector: {app: qwen}
  targetPortNumber: 8000
  extensionRef: {name: qwen-epp}
"#;

    const SERVICE: &str = r#"
apiVersion: v1
kind: Service
metadata: {name: qwen-epp, namespace: llm}
spec:
  selector: {app: qwen-epp}
  ports: [{name: grpc-ext-proc, port: 9002}, {name: http-metrics, port: 9090}]
"#;

    const SLICE_READY: &str = r#"
apiVersion: discovery.k8s.io/v1
kind: EndpointSlice
metadata: {name: qwen-epp-abc, namespace: llm, labels: {kubernetes.io/service-name: qwen-epp}}
addressType: IPv4
endpoints: [{addresses: [10.0.0.5], conditions: {ready: true}}]
"#;

    fn deployment(args: &str, image: &str, replicas: i32, available: i32) -> String {
        format!(
            r#"
apiVersion: apps/v1
kind: Deployment
metadata: {{name: qwen-epp, namespace: llm}}
spec:
  replicas: {replicas}
  selector: {{matchLabels: {{app: qwen-epp}}}}
  template:
    metadata: {{labels: {{app: qwen-epp}}}}
    spec:
      containers:
      - name: epp
        image: {image}
        args: {args}
status: {{replicas: {replicas}, availableReplicas: {available}}}
"#
        )
    }

    const IMAGE: &str = "registry.k8s.io/gateway-api-inference-extension/epp:v1.0.1";

    fn healthy() -> String {
        deployment(r#"["--pool-name", "qwen", "--pool-namespace", "llm"]"#, IMAGE, 1, 1)
    }

    fn docs(parts: &[&str]) -> String {
        parts.join("\n---\n")
    }

    #[test]
    fn missing_service_is_an_error() {
        let found = issues("LLMD-EPP-001", POOL);
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(found[0].message.contains("qwen-epp"));
        assert!(issues("LLMD-EPP-001", &docs(&[POOL, SERVICE])).is_empty());
    }

    #[test]
    fn missing_service_out_of_scope_is_not_reported() {
        let mut snap = fixtures::snapshot(POOL);
        snap.namespace = Some("other".into());
        assert!(fixtures::run(&CHECKS[0..1], &snap, &fixtures::prereq()).is_empty());
    }

    #[test]
    fn wrong_port_is_fixable_when_unambiguous() {
        let pool = POOL.replace("number: 9002", "number: 9003");
        let found = issues("LLMD-EPP-002", &docs(&[&pool, SERVICE]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen"));
        assert!(found[0].repair.is_some());
        assert!(found[0].message.contains("9003"));
        assert!(found[0].hint.contains(r#""port":{"number":9002}"#), "{}", found[0].hint);
        // Omitted port on v1.
        let pool = POOL.replace(", port: {number: 9002}", "");
        let found = issues("LLMD-EPP-002", &docs(&[&pool, SERVICE]));
        assert!(found.len() == 1 && found[0].repair.is_some() && found[0].message.contains("omits"));
        assert!(issues("LLMD-EPP-002", &docs(&[POOL, SERVICE])).is_empty());
    }

    #[test]
    fn ambiguous_port_is_not_fixable() {
        let pool = POOL.replace("number: 9002", "number: 9003");
        let svc = SERVICE.replace("name: grpc-ext-proc, port: 9002", "name: grpc, port: 9005");
        let found = issues("LLMD-EPP-002", &docs(&[&pool, &svc]));
        assert_eq!(found.len(), 1);
        assert!(found[0].repair.is_none());
        assert!(found[0].hint.contains("9005 (grpc)") && found[0].hint.contains("9090 (http-metrics)"));
    }

    #[test]
    fn service_without_ready_endpoints_is_an_error() {
        let not_ready = SLICE_READY.replace("ready: true", "ready: false");
        // No Deployment behind the selector.
        let found = issues("LLMD-EPP-003", &docs(&[POOL, SERVICE, &not_ready]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].object.name.as_str(), found[0].object.kind.as_str()),
            (Severity::Error, "qwen-epp", "Service")
        );
        assert!(found[0].message.contains("app=qwen-epp"));
        assert!(issues("LLMD-EPP-003", &docs(&[POOL, SERVICE, SLICE_READY, &healthy()])).is_empty());
        // An unavailable Deployment explains it: LLMD-EPP-004 reports that instead.
        let down = deployment("[--pool-name=qwen]", IMAGE, 1, 0);
        assert!(issues("LLMD-EPP-003", &docs(&[POOL, SERVICE, &down])).is_empty());
    }

    #[test]
    fn unavailable_deployment_is_reported() {
        let down = deployment("[--pool-name=qwen]", IMAGE, 2, 0);
        let found = issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &down]));
        assert_eq!(found.len(), 1);
        assert_eq!(
            (found[0].severity, found[0].object.name.as_str(), found[0].object.kind.as_str()),
            (Severity::Error, "qwen-epp", "Deployment")
        );
        assert!(found[0].message.contains("0/2"));
        let degraded = deployment("[--pool-name=qwen]", IMAGE, 2, 1);
        let found = issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &degraded]));
        assert_eq!(found[0].severity, Severity::Warning);
        let zero = deployment("[--pool-name=qwen]", IMAGE, 0, 0);
        assert!(issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &zero]))[0].hint.contains("--replicas=1"));
        assert!(issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &healthy()])).is_empty());
    }

    /// A picker with leader election: `replicas` pods, one ready leader, standbys NotReady, so the
    /// Deployment never reports Available.
    fn leader_elected(replicas: i32, ready: i32) -> String {
        deployment(r#"["--pool-name=qwen", "--ha-enable-leader-election"]"#, IMAGE, replicas, ready).replace(
            &format!("status: {{replicas: {replicas}, availableReplicas: {ready}}}"),
            &format!(
                "status: {{replicas: {replicas}, readyReplicas: {ready}, availableReplicas: {ready}, conditions: [{{type: Available, status: \"False\", reason: MinimumReplicasUnavailable}}]}}"
            ),
        )
    }

    #[test]
    fn leader_elected_picker_with_a_ready_leader_is_healthy() {
        let yaml = docs(&[POOL, SERVICE, SLICE_READY, &leader_elected(3, 1)]);
        for code in ["LLMD-EPP-003", "LLMD-EPP-004"] {
            assert!(issues(code, &yaml).is_empty(), "{code}: {:?}", issues(code, &yaml));
        }
        // No ready leader: the picker is down.
        let not_ready = SLICE_READY.replace("ready: true", "ready: false");
        let found = issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &not_ready, &leader_elected(3, 0)]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "endpoint picker Deployment llm/qwen-epp of InferencePool llm/qwen has 0/3 replicas available (Available=False, MinimumReplicasUnavailable) and no ready leader (it runs with --ha-enable-leader-election)"
        );
        // Without leader election, a shortfall while the Service still serves is a degradation.
        let plain = leader_elected(3, 1).replace(r#", "--ha-enable-leader-election""#, "");
        let found = issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, SLICE_READY, &plain]));
        assert_eq!(found.len(), 1);
        assert_eq!(found[0].severity, Severity::Warning);
        assert!(found[0].message.contains("still has ready endpoints"), "{}", found[0].message);
    }

    #[test]
    fn picker_run_as_a_stateful_set_is_found() {
        let set = healthy()
            .replace("kind: Deployment", "kind: StatefulSet")
            .replace("spec:\n  replicas: 1", "spec:\n  serviceName: qwen-epp\n  replicas: 1");
        let yaml = docs(&[POOL, SERVICE, SLICE_READY, &set]);
        for code in ["LLMD-EPP-003", "LLMD-EPP-004", "LLMD-EPP-005", "LLMD-EPP-006"] {
            assert!(issues(code, &yaml).is_empty(), "{code}: {:?}", issues(code, &yaml));
        }
        // Its arguments are checked, and the hint patches the StatefulSet.
        let wrong = set.replace(r#""--pool-name", "qwen""#, r#""--pool-name", "llama""#);
        let found = issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, SLICE_READY, &wrong]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!((found[0].object.kind.as_str(), found[0].object.name.as_str()), ("StatefulSet", "qwen-epp"));
        assert!(
            found[0].hint.starts_with("kubectl patch statefulset/qwen-epp -n llm --type=json"),
            "{}",
            found[0].hint
        );
        // Scaled to zero.
        let zero = set.replace("replicas: 1", "replicas: 0");
        let found = issues("LLMD-EPP-004", &docs(&[POOL, SERVICE, &zero]));
        assert_eq!(found[0].hint, "kubectl scale statefulset/qwen-epp -n llm --replicas=1");
    }

    #[test]
    fn pool_name_and_namespace_args_must_match() {
        let wrong = deployment(r#"["--pool-name", "llama", "--pool-namespace=default"]"#, IMAGE, 1, 1);
        let found = issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &wrong]));
        assert_eq!(found.len(), 2);
        assert!(found.iter().all(|i| i.severity == Severity::Error && i.object.name == "qwen-epp"));
        assert!(found[0].message.contains("llama"));
        assert!(
            found[0].hint.contains(r#""path":"/spec/template/spec/containers/0/args/1","value":"qwen""#),
            "{}",
            found[0].hint
        );
        assert!(found[1].hint.contains(r#""value":"--pool-namespace=llm""#), "{}", found[1].hint);
        assert!(issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &healthy()])).is_empty());
        // No namespace flag: a v1.0 picker watches `default`, not the pool's namespace.
        let implicit = deployment("[--pool-name=qwen]", IMAGE, 1, 1);
        let found = issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &implicit]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert!(found[0].message.contains("watches namespace default"), "{}", found[0].message);
        assert!(
            found[0].hint.contains(
                r#""op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--pool-namespace=llm""#
            ),
            "{}",
            found[0].hint
        );
        // From v1.1: the NAMESPACE variable (the charts set it from the Pod's namespace), else `default`.
        let v1_5 = "registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0";
        let no_env = deployment("[--pool-name=qwen]", v1_5, 1, 1);
        assert_eq!(issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &no_env])).len(), 1);
        let downward = no_env.replace(
            "        args: [--pool-name=qwen]",
            "        args: [--pool-name=qwen]\n        env: [{name: NAMESPACE, valueFrom: {fieldRef: {fieldPath: metadata.namespace}}}]",
        );
        assert!(downward.contains("fieldPath"), "{downward}");
        assert!(issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &downward])).is_empty());
        let literal = no_env.replace(
            "        args: [--pool-name=qwen]",
            "        args: [--pool-name=qwen]\n        env: [{name: NAMESPACE, value: other}]",
        );
        let found = issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &literal]));
        assert!(found.len() == 1 && found[0].message.contains("namespace other"), "{found:?}");
    }

    #[test]
    fn pool_group_mismatches_are_errors() {
        // Explicit wrong group.
        let wrong = deployment(r#"["--pool-name=qwen", "--pool-group=inference.networking.x-k8s.io"]"#, IMAGE, 1, 1);
        let found = issues("LLMD-EPP-006", &docs(&[POOL, SERVICE, &wrong]));
        assert_eq!(found.len(), 1);
        assert_eq!((found[0].severity, found[0].object.name.as_str()), (Severity::Error, "qwen-epp"));
        assert!(found[0].hint.contains("--pool-group=inference.networking.k8s.io"));
        // x-k8s pool with a v1.x picker that defaults to the v1 group.
        let found = issues("LLMD-EPP-006", &docs(&[POOL_X, SERVICE, &healthy()]));
        assert!(found.len() == 1 && found[0].hint.contains("--pool-group=inference.networking.x-k8s.io"));
        // x-k8s pool with a v1.5 picker: cannot work at all.
        let new = deployment(
            r#"["--pool-name=qwen", "--pool-group=inference.networking.x-k8s.io"]"#,
            "registry.k8s.io/gateway-api-inference-extension/epp:v1.5.0",
            1,
            1,
        );
        let found = issues("LLMD-EPP-006", &docs(&[POOL_X, SERVICE, &new]));
        assert!(found.len() == 1 && found[0].message.contains("v1.5"));
        // v1 pool with a v0.5 picker.
        let old =
            deployment(r#"["-poolName", "qwen"]"#, "registry.k8s.io/gateway-api-inference-extension/epp:v0.5.1", 1, 1);
        let found = issues("LLMD-EPP-006", &docs(&[POOL, SERVICE, &old]));
        assert!(found.len() == 1 && found[0].hint.contains("epp:v1.0.1"), "{found:?}");
    }

    #[test]
    fn matching_pool_group_passes() {
        assert!(issues("LLMD-EPP-006", &docs(&[POOL, SERVICE, &healthy()])).is_empty());
        let old =
            deployment(r#"["-poolName", "qwen"]"#, "registry.k8s.io/gateway-api-inference-extension/epp:v0.5.1", 1, 1);
        assert!(issues("LLMD-EPP-006", &docs(&[POOL_X, SERVICE, &old])).is_empty());
        // llm-d's scheduler image has its own version line: no version inference.
        let llmd = deployment(r#"["--pool-name=qwen"]"#, "ghcr.io/llm-d/llm-d-inference-scheduler:v0.3.0", 1, 1);
        assert!(issues("LLMD-EPP-006", &docs(&[POOL, SERVICE, &llmd])).is_empty());
    }

    #[test]
    fn flags_parse_in_every_spelling() {
        let c = Container {
            name: "epp".into(),
            args: Some(vec![
                "--pool-name=a".into(),
                "-poolNamespace".into(),
                "b".into(),
                "--secure-serving=false".into(),
            ]),
            ..Container::default()
        };
        let f = pool_flags(&c);
        assert_eq!(f.len(), 3);
        assert_eq!((f[0].key, f[0].value.as_str(), f[0].inline), ("pool-name", "a", true));
        assert_eq!((f[1].key, f[1].value.as_str(), f[1].index), ("pool-namespace", "b", 2));
        assert_eq!((f[2].key, f[2].value.as_str()), ("secure-serving", "false"));
    }

    /// A snapshot of the healthy picker whose ServiceAccount (`sa` in the template, if any) was
    /// reviewed: every request allowed except those on `denied` resources.
    fn reviewed(sa: Option<&str>, denied: &[&str]) -> Snapshot {
        let mut dep = healthy();
        if let Some(sa) = sa {
            dep = dep.replace(
                "    spec:\n      containers:",
                &format!("    spec:\n      serviceAccountName: {sa}\n      containers:"),
            );
        }
        // Reviewed only while the picker serves no ready endpoint.
        let not_ready = SLICE_READY.replace("ready: true", "ready: false");
        assert_ne!(not_ready, SLICE_READY);
        let mut snap = fixtures::snapshot(&docs(&[POOL, SERVICE, &not_ready, &dep]));
        let ready = fixtures::snapshot(&docs(&[POOL, SERVICE, SLICE_READY, &dep]));
        assert!(ready.all_access_requests().is_empty(), "a ready picker is not reviewed");
        let reviews = snap
            .all_access_requests()
            .into_iter()
            .map(|request| {
                let allowed = !denied.contains(&request.resource);
                crate::snapshot::AccessReview { request, allowed }
            })
            .collect();
        snap.sa_access = crate::snapshot::Collected::Listed(reviews);
        snap
    }

    #[test]
    fn picker_service_account_without_grants_is_an_error() {
        let snap = reviewed(Some("qwen-epp"), &["pods"]);
        // One review per verb and resource of the one ServiceAccount: pool and pods.
        assert_eq!(snap.sa_access.items().len(), 6);
        let found = issues_in_snap(&snap);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(found[0].object.name, "qwen-epp");
        assert_eq!(
            found[0].message,
            "ServiceAccount llm/qwen-epp of endpoint picker Deployment llm/qwen-epp may not get, list, watch pods in namespace llm: the picker logs `pods is forbidden` and cannot serve InferencePool llm/qwen"
        );
        assert_eq!(
            found[0].hint,
            "kubectl create role qwen-epp-reader -n llm --verb=get,list,watch --resource=inferencepools.inference.networking.k8s.io,pods && kubectl create rolebinding qwen-epp-reader -n llm --role=qwen-epp-reader --serviceaccount=llm:qwen-epp"
        );
    }

    #[test]
    fn picker_without_service_account_runs_as_default() {
        let snap = reviewed(None, &["inferencepools"]);
        let found = issues_in_snap(&snap);
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.starts_with("ServiceAccount llm/default "), "{}", found[0].message);
        assert!(found[0].message.contains("may not get, list, watch inferencepools.inference.networking.k8s.io"));
        assert!(found[0].hint.ends_with("--serviceaccount=llm:default"), "{}", found[0].hint);
    }

    #[test]
    fn picker_with_every_grant_passes_and_objectives_count_when_installed() {
        assert!(issues_in_snap(&reviewed(Some("qwen-epp"), &[])).is_empty());
        // With the InferenceObjective CRD installed the picker watches them too.
        let crd = r#"
apiVersion: apiextensions.k8s.io/v1
kind: CustomResourceDefinition
metadata: {name: inferenceobjectives.inference.networking.x-k8s.io}
spec:
  group: inference.networking.x-k8s.io
  scope: Namespaced
  names: {kind: InferenceObjective, plural: inferenceobjectives}
  versions: [{name: v1alpha2, served: true, storage: true}]
"#;
        let snap = fixtures::snapshot(&docs(&[POOL, SERVICE, &healthy(), crd]));
        let pool = &snap.pools.items()[0];
        let resources: std::collections::BTreeSet<String> =
            snap.picker_access_requests("llm", "x", pool).iter().map(|r| r.resource_name()).collect();
        assert!(resources.contains("inferenceobjectives.inference.networking.x-k8s.io"), "{resources:?}");
        // Reviews never made (nothing denied) are not findings.
        assert!(issues_in_snap(&snap).is_empty());
    }

    fn issues_in_snap(snap: &Snapshot) -> Vec<Issue> {
        fixtures::issues_in(CHECKS, "LLMD-EPP-007", snap)
    }

    fn gateway_of(class: &str, controller: &str) -> String {
        format!(
            r#"
apiVersion: gateway.networking.k8s.io/v1
kind: GatewayClass
metadata: {{name: {class}}}
spec: {{controllerName: {controller}}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: Gateway
metadata: {{name: gw, namespace: llm}}
spec: {{gatewayClassName: {class}, listeners: [{{name: http, port: 80, protocol: HTTP}}]}}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {{name: r, namespace: llm}}
spec:
  parentRefs: [{{name: gw}}]
  rules: [{{backendRefs: [{{group: inference.networking.k8s.io, kind: InferencePool, name: qwen}}]}}]
"#
        )
    }

    fn agentgateway() -> String {
        gateway_of("agentgateway", "agentgateway.dev/agentgateway")
    }

    const PICKER_POD: &str = r#"
apiVersion: v1
kind: Pod
metadata: {name: qwen-epp-7d9f-abcde, namespace: llm, labels: {app: qwen-epp, pod-template-hash: 7d9f}}
spec:
  containers: [{name: epp}]
  initContainers: [{name: istio-init}, {name: istio-proxy, restartPolicy: Always}]
"#;

    const ISTIOD: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: istiod, namespace: istio-system}
spec:
  selector: {matchLabels: {app: istiod}}
  template:
    metadata: {labels: {app: istiod}}
    spec: {containers: [{name: discovery, image: "docker.io/istio/pilot:1.29.2"}]}
"#;

    #[test]
    fn epp008_injected_picker_behind_a_gateway_outside_the_mesh() {
        let gw = agentgateway();
        // An injected pod (as a dump holds it).
        let found = issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &healthy(), &gw, PICKER_POD]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "endpoint picker Deployment llm/qwen-epp of InferencePool llm/qwen runs in Istio's mesh (its pod \
             llm/qwen-epp-7d9f-abcde runs the istio-proxy sidecar), but Gateway llm/gw (agentgateway) is outside it: \
             the sidecar intercepts the picker's TLS port, the handshake fails and the gateway answers 500 \
             (ai-dynamo/dynamo#9935)"
        );
        assert_eq!(
            found[0].hint,
            r#"kubectl patch deployment qwen-epp -n llm -p '{"spec":{"template":{"metadata":{"annotations":{"sidecar.istio.io/inject":"false"}}}}}'  # new picker pods start without the sidecar"#
        );
        // A pod template asking for injection by label, where istiod runs: the label is what gets turned off.
        let labelled = healthy().replace(
            "metadata: {labels: {app: qwen-epp}}",
            "metadata: {labels: {app: qwen-epp, sidecar.istio.io/inject: \"true\"}}",
        );
        let found = issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &labelled, &gw, ISTIOD]));
        assert!(found[0].message.contains("label sidecar.istio.io/inject=true and istiod runs"), "{found:?}");
        assert!(found[0].hint.contains(r#"{"labels":{"sidecar.istio.io/inject":"false"}}"#), "{found:?}");
        // Without istiod, nothing injects it.
        assert!(issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &labelled, &gw])).is_empty());
    }

    #[test]
    fn epp008_picker_without_sidecar_or_behind_istio_passes() {
        let gw = agentgateway();
        // No sidecar in the pods.
        let plain_pod = PICKER_POD
            .replace("  initContainers: [{name: istio-init}, {name: istio-proxy, restartPolicy: Always}]\n", "");
        assert!(issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &healthy(), &gw, &plain_pod])).is_empty());
        // Another workload's injected pod.
        let other = PICKER_POD.replace("app: qwen-epp,", "app: other,");
        assert!(issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &healthy(), &gw, &other])).is_empty());
        // Istio's own Gateway: the picker in the mesh is no known failure.
        let istio = gateway_of("istio", "istio.io/gateway-controller");
        assert!(issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &healthy(), &istio, PICKER_POD])).is_empty());
        // A plaintext picker has no TLS handshake to break.
        let plaintext = deployment(r#"["--pool-name", "qwen", "--secure-serving=false"]"#, IMAGE, 1, 1);
        assert!(issues("LLMD-EPP-008", &docs(&[POOL, SERVICE, &plaintext, &gw, PICKER_POD])).is_empty());
    }

    #[test]
    fn epp009_plaintext_picker_behind_kgateway() {
        let kgateway = gateway_of("kgateway", "kgateway.dev/kgateway");
        let plaintext = deployment(r#"["--pool-name", "qwen", "--secure-serving=false"]"#, IMAGE, 1, 1);
        let found = issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &kgateway]));
        assert_eq!(found.len(), 1, "{found:?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "endpoint picker Deployment llm/qwen-epp of InferencePool llm/qwen runs with --secure-serving=false and \
             speaks plaintext, but kgateway connects to it with TLS for Gateway llm/gw (kgateway-dev/kgateway#11429): \
             the handshake fails, so every request fails (or bypasses the picker with FailOpen)"
        );
        assert_eq!(
            found[0].hint,
            r#"kubectl patch deployment qwen-epp -n llm --type=json -p '[{"op":"remove","path":"/spec/template/spec/containers/0/args/2"}]'  # make the picker speak what the gateway speaks"#
        );
        // A TLS picker behind kgateway, or a plaintext one behind another provider (the agentgateway
        // class kgateway served runs another proxy): not reported.
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &healthy(), &kgateway])).is_empty());
        let kgw_agw = gateway_of("agentgateway", "kgateway.dev/agentgateway");
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &kgw_agw])).is_empty());
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &agentgateway()])).is_empty());
    }

    fn ngf_controller(args: &str) -> String {
        fixtures::ngf_controller("2.6.7", args)
    }

    #[test]
    fn epp009_ngf_tls_setting_against_the_picker() {
        let nginx = gateway_of("nginx", "gateway.nginx.org/nginx-gateway-controller");
        let plaintext = deployment(r#"["--pool-name", "qwen", "--secure-serving=false"]"#, IMAGE, 1, 1);
        let tls_ngf = ngf_controller("[controller, --gateway-api-inference-extension]");
        let plain_ngf =
            ngf_controller("[controller, --gateway-api-inference-extension, --endpoint-picker-disable-tls]");
        // NGF's default TLS to a plaintext picker.
        let found = issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &nginx, &tls_ngf]));
        assert!(found[0].message.contains("but NGINX Gateway Fabric connects to it with TLS"), "{found:?}");
        // NGF in plaintext to a TLS picker: the picker is told to serve plaintext too.
        let found = issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &healthy(), &nginx, &plain_ngf]));
        assert!(
            found[0].message.contains("serves TLS (--secure-serving defaults to true), but NGINX Gateway Fabric runs with --endpoint-picker-disable-tls"),
            "{found:?}"
        );
        assert!(
            found[0].hint.contains(
                r#"[{"op":"add","path":"/spec/template/spec/containers/0/args/-","value":"--secure-serving=false"}]"#
            ),
            "{found:?}"
        );
        // Matching settings, or an NGF whose controller was not read: nothing.
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &healthy(), &nginx, &tls_ngf])).is_empty());
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &nginx, &plain_ngf])).is_empty());
        assert!(issues("LLMD-EPP-009", &docs(&[POOL, SERVICE, &plaintext, &nginx])).is_empty());
    }
}
