//! Checks: the endpoint picker (EPP) each InferencePool names — its Service, port, readiness,
//! and the pool its Deployment was started for.
//!
//! E16 (the EPP ServiceAccount's RBAC on pods/inferencepools) is not checked: it needs a
//! SubjectAccessReview, which a LIST snapshot cannot answer.

use super::pools::{
    effective_pools, epp_port_patch, epp_port_repair, epp_service_name, pool_object, pool_patch, pool_path,
};
use super::{Check, CheckContext, Issue};
use crate::catalog::parse_version;
use crate::findings::Category;
use crate::model::{groups, InferencePoolView, ObjectRef, PoolApi, DEFAULT_EPP_PORT};
use crate::snapshot::{Kind, Snapshot};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::{Container, Service};
use serde_json::json;
use std::collections::BTreeMap;

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
            Kind::LiveStatus,
        ],
        run: check_ready_endpoints,
    },
    Check {
        code: "LLMD-EPP-004",
        title: "Every endpoint picker Deployment is available",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::Deployments, Kind::LiveStatus],
        run: check_deployment_available,
    },
    Check {
        code: "LLMD-EPP-005",
        title: "Every endpoint picker runs with its pool's --pool-name and --pool-namespace",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::Deployments],
        run: check_pool_name_args,
    },
    Check {
        code: "LLMD-EPP-006",
        title: "Every endpoint picker speaks its pool's API group",
        category: Category::EndpointPicker,
        needs: &[Kind::InferencePools, Kind::InferencePoolsX, Kind::Services, Kind::Deployments],
        run: check_pool_group,
    },
];

/// Image path of the upstream EPP; its tag is the GAIE release.
const GAIE_EPP_IMAGE: &str = "gateway-api-inference-extension/epp";
const GAIE_EPP_REGISTRY: &str = "registry.k8s.io/gateway-api-inference-extension/epp";

// ---------------------------------------------------------------------------------------------
// Helpers.

fn name_of(meta: &k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta) -> &str {
    meta.name.as_deref().unwrap_or("")
}

/// Each effective pool with its existing EPP Service (pools whose Service is missing are LLMD-EPP-001's).
fn pools_with_service(snap: &Snapshot) -> Vec<(&InferencePoolView, &Service)> {
    effective_pools(snap)
        .into_iter()
        .filter_map(|p| {
            let svc = snap.service(p.metadata.ns(), epp_service_name(p)?)?;
            Some((p, svc))
        })
        .collect()
}

fn service_selector(svc: &Service) -> BTreeMap<String, String> {
    svc.spec.as_ref().and_then(|s| s.selector.clone()).unwrap_or_default()
}

fn labels_text(labels: &BTreeMap<String, String>) -> String {
    labels.iter().map(|(k, v)| format!("{k}={v}")).collect::<Vec<_>>().join(",")
}

/// Deployments in the Service's namespace whose pod template carries every Service selector label.
pub(crate) fn epp_deployments<'a>(snap: &'a Snapshot, svc: &Service) -> Vec<&'a Deployment> {
    let selector = service_selector(svc);
    if selector.is_empty() {
        return Vec::new();
    }
    snap.deployments_in(svc.metadata.namespace.as_deref().unwrap_or(""))
        .filter(|d| {
            let labels = d.spec.template.metadata.as_ref().and_then(|m| m.labels.as_ref());
            labels.is_some_and(|l| selector.iter().all(|(k, v)| l.get(k) == Some(v)))
        })
        .collect()
}

fn deployment_object(d: &Deployment) -> ObjectRef {
    ObjectRef::new("Deployment", "apps", d.metadata.namespace.as_deref().unwrap_or(""), name_of(&d.metadata))
}

fn containers(d: &Deployment) -> &[Container] {
    d.spec.template.spec.as_ref().map(|s| s.containers.as_slice()).unwrap_or(&[])
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
pub(super) fn serves_plaintext(d: &Deployment) -> bool {
    containers(d).iter().flat_map(pool_flags).any(|f| f.key == "secure-serving" && f.value == "false")
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

/// The container that is the endpoint picker: it carries pool flags or the upstream EPP image.
fn epp_containers(d: &Deployment) -> Vec<(usize, &Container)> {
    containers(d)
        .iter()
        .enumerate()
        .filter(|(_, c)| {
            pool_flags(c).iter().any(|f| f.key != "secure-serving")
                || c.image.as_deref().is_some_and(|i| i.contains(GAIE_EPP_IMAGE))
        })
        .collect()
}

/// `kubectl patch` replacing one command-line token of container `ci`.
fn replace_token_hint(d: &Deployment, ci: usize, flag: &PoolFlag, new_value: &str) -> String {
    let token = if flag.inline { format!("{}={new_value}", flag.spelled) } else { new_value.to_string() };
    let patch = json!([{
        "op": "replace",
        "path": format!("/spec/template/spec/containers/{ci}/{}/{}", flag.field, flag.index),
        "value": token,
    }]);
    let obj = deployment_object(d);
    format!("kubectl patch deployment/{}{} --type=json -p '{patch}'", obj.name, obj.ns_flag())
}

/// `kubectl patch` appending an arg to container `ci`.
fn add_arg_hint(d: &Deployment, ci: usize, c: &Container, arg: &str) -> String {
    let patch = if c.args.is_some() {
        json!([{"op": "add", "path": format!("/spec/template/spec/containers/{ci}/args/-"), "value": arg}])
    } else {
        json!([{"op": "add", "path": format!("/spec/template/spec/containers/{ci}/args"), "value": [arg]}])
    };
    let obj = deployment_object(d);
    format!("kubectl patch deployment/{}{} --type=json -p '{patch}'", obj.name, obj.ns_flag())
}

// ---------------------------------------------------------------------------------------------
// Checks.

/// E13: the Service named by endpointPickerRef does not exist.
fn check_service_exists(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for pool in effective_pools(snap) {
        let ns = pool.metadata.ns();
        let Some(svc) = epp_service_name(pool) else { continue };
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
            pool_object(pool),
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
                Issue::error(pool_object(pool), message, pool_patch(pool, &epp_port_patch(pool, port.into())))
                    .repair(epp_port_repair(pool, port.into()))
            }
            None if ports.is_empty() => Issue::error(
                pool_object(pool),
                message,
                format!(
                    "kubectl patch service/{svc_name} -n {} --type=merge -p '{}'",
                    pool.metadata.ns(),
                    json!({"spec": {"ports": [{"name": "grpc-ext-proc", "port": DEFAULT_EPP_PORT, "targetPort": DEFAULT_EPP_PORT}]}})
                ),
            ),
            None => Issue::error(
                pool_object(pool),
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

fn deployment_available(d: &Deployment) -> (i32, i32, Option<String>) {
    let desired = d.spec.replicas.unwrap_or(1);
    let status = d.status.as_ref();
    let available = status.and_then(|s| s.available_replicas).unwrap_or(0);
    let not_available = status
        .and_then(|s| s.conditions.as_ref())
        .and_then(|cs| {
            cs.iter().find(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("False"))
        })
        .map(|c| {
            let reason = c.reason.clone().unwrap_or_default();
            match &c.message {
                Some(m) if !m.is_empty() => format!("{reason}: {m}"),
                _ => reason,
            }
        });
    (desired, available, not_available)
}

fn is_unavailable(d: &Deployment) -> bool {
    let (desired, available, cond) = deployment_available(d);
    desired == 0 || available < desired || cond.is_some()
}

/// E15: the EPP Service has no ready endpoint (and no unavailable Deployment explains it).
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
        let ready = snap.endpoint_slices_of(ns, svc_name).any(|s| {
            s.endpoints.iter().flatten().any(|e| {
                // A nil ready condition means "unknown", which consumers treat as ready.
                e.conditions.as_ref().and_then(|c| c.ready).unwrap_or(true)
            })
        });
        if ready {
            continue;
        }
        let deployments = epp_deployments(snap, svc);
        if deployments.iter().any(|d| is_unavailable(d)) {
            continue; // LLMD-EPP-004 names the Deployment.
        }
        let selector = service_selector(svc);
        let (why, hint) = if selector.is_empty() {
            (
                "it has no selector and no ready endpoints".to_string(),
                format!("set spec.selector in Service {ns}/{svc_name} to the endpoint picker pod labels"),
            )
        } else if deployments.is_empty() {
            (
                format!("no Deployment in namespace {ns} has pod labels matching its selector {}", labels_text(&selector)),
                format!(
                    "set spec.selector in Service {ns}/{svc_name} to the endpoint picker pod labels (kubectl get deployments -n {ns} -o wide)"
                ),
            )
        } else {
            let names: Vec<&str> = deployments.iter().map(|d| name_of(&d.metadata)).collect();
            (
                format!(
                    "Deployment {} is available but none of its pods is a ready endpoint of the Service",
                    names.join(", ")
                ),
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

/// E15: the EPP Deployment is scaled to zero or not available.
fn check_deployment_available(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let mut seen = std::collections::BTreeSet::new();
    for (pool, svc) in pools_with_service(snap) {
        for d in epp_deployments(snap, svc) {
            let obj = deployment_object(d);
            if !seen.insert(obj.clone()) {
                continue;
            }
            let (desired, available, cond) = deployment_available(d);
            let cond_text = cond.map(|c| format!(" (Available=False, {c})")).unwrap_or_default();
            let debug = format!(
                "kubectl describe deployment/{}{} && kubectl logs deployment/{}{}",
                obj.name,
                obj.ns_flag(),
                obj.name,
                obj.ns_flag()
            );
            let issue = if desired == 0 {
                Issue::error(
                    obj.clone(),
                    format!(
                        "endpoint picker Deployment {}/{} of InferencePool {} is scaled to 0 replicas",
                        obj.namespace,
                        obj.name,
                        pool_path(pool)
                    ),
                    format!("kubectl scale deployment/{}{} --replicas=1", obj.name, obj.ns_flag()),
                )
            } else if available == 0 || !cond_text.is_empty() {
                Issue::error(
                    obj.clone(),
                    format!(
                        "endpoint picker Deployment {}/{} of InferencePool {} has {available}/{desired} replicas available{cond_text}",
                        obj.namespace,
                        obj.name,
                        pool_path(pool)
                    ),
                    debug,
                )
            } else if available < desired {
                Issue::warning(
                    obj.clone(),
                    format!(
                        "endpoint picker Deployment {}/{} of InferencePool {} has only {available}/{desired} replicas available",
                        obj.namespace,
                        obj.name,
                        pool_path(pool)
                    ),
                    debug,
                )
            } else {
                continue;
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
        for d in epp_deployments(snap, svc) {
            let dep_ns = d.metadata.namespace.as_deref().unwrap_or("");
            for (ci, c) in epp_containers(d) {
                let flags = pool_flags(c);
                let obj = deployment_object(d);
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
                // Absent, the picker uses its own namespace, which is the pool's (the Service is there).
                let effective_ns = ns_flag.map_or(dep_ns, |f| f.value.as_str());
                if effective_ns != pool.metadata.ns() {
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

/// E19: the picker's API group does not match the pool's (explicit --pool-group, its default,
/// EPP ≥ v1.5 with an x-k8s pool, or a pre-v1.0 EPP with a v1 pool).
fn check_pool_group(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    let v1_5 = semver::Version::new(1, 5, 0);
    let v1_0 = semver::Version::new(1, 0, 0);
    for (pool, svc) in pools_with_service(snap) {
        let group = pool.api.group();
        for d in epp_deployments(snap, svc) {
            let obj = deployment_object(d);
            for (ci, c) in epp_containers(d) {
                let flags = pool_flags(c);
                let image = c.image.as_deref().unwrap_or("");
                let version = epp_image_version(image);
                let old_flags = flags.iter().any(|f| f.spelled.trim_start_matches('-') == "poolName");
                let old = old_flags || version.as_ref().is_some_and(|v| *v < v1_0);
                let upgrade = format!(
                    "kubectl set image deployment/{}{} {}={GAIE_EPP_REGISTRY}:{}",
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
        assert!(found[0].fixable);
        assert!(found[0].message.contains("9003"));
        assert!(found[0].hint.contains(r#""port":{"number":9002}"#), "{}", found[0].hint);
        // Omitted port on v1.
        let pool = POOL.replace(", port: {number: 9002}", "");
        let found = issues("LLMD-EPP-002", &docs(&[&pool, SERVICE]));
        assert!(found.len() == 1 && found[0].fixable && found[0].message.contains("omits"));
        assert!(issues("LLMD-EPP-002", &docs(&[POOL, SERVICE])).is_empty());
    }

    #[test]
    fn ambiguous_port_is_not_fixable() {
        let pool = POOL.replace("number: 9002", "number: 9003");
        let svc = SERVICE.replace("name: grpc-ext-proc, port: 9002", "name: grpc, port: 9005");
        let found = issues("LLMD-EPP-002", &docs(&[&pool, &svc]));
        assert_eq!(found.len(), 1);
        assert!(!found[0].fixable);
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
        // No namespace flag: defaults to the Deployment's own namespace, which is the pool's.
        let implicit = deployment("[--pool-name=qwen]", IMAGE, 1, 1);
        assert!(issues("LLMD-EPP-005", &docs(&[POOL, SERVICE, &implicit])).is_empty());
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
}
