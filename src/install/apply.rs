//! The cluster side of an install: read what is installed, check permissions, server-side apply
//! (dry run first), delete, and wait for CRDs to be Established.

use crate::catalog::providers::Provider;
use crate::cluster::write;
use crate::cluster::write::{api_for, Permission};
use crate::cluster::Connection;
use crate::error::{Failure, Result};
use crate::model::{condition, groups, Condition};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions::v1::CustomResourceDefinition;
use kube::api::{Api, ApiResource, DynamicObject, ListParams};
use serde_json::Value;
use std::io::IsTerminal;
use std::time::{Duration, Instant};

/// kubectl's client-side-apply annotation: large CRDs overflow it (262144 bytes), so it is never written.
pub const LAST_APPLIED: &str = "kubectl.kubernetes.io/last-applied-configuration";

/// The permissions among `needed` that the user lacks (SelfSubjectAccessReview for each).
pub async fn missing_permissions(conn: &Connection, needed: &[Permission]) -> Result<Vec<Permission>> {
    Ok(write::missing_permissions(conn, needed).await?)
}

/// Fail, naming every missing permission, when any is missing.
pub async fn require_permissions(conn: &Connection, needed: &[Permission], what: &str) -> Result<()> {
    let missing = missing_permissions(conn, needed).await?;
    if missing.is_empty() {
        return Ok(());
    }
    let list = missing.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ");
    Err(Failure::with_hint(
        format!("you may not {what} on {}: missing permission to {list}; nothing was changed", conn.server),
        "ask a cluster administrator to run this (it needs cluster-admin or equivalent rights), or choose another --context/--user",
    ))
}

/// Every CRD of the cluster, as full objects.
pub async fn list_crds(conn: &Connection) -> Result<Vec<Value>> {
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let list = api.list(&ListParams::default()).await.map_err(|e| conn.explain("cannot list CRDs", &e))?;
    Ok(list
        .items
        .into_iter()
        .filter_map(|c| {
            let mut v = serde_json::to_value(c).ok()?;
            v["apiVersion"] = "apiextensions.k8s.io/v1".into();
            v["kind"] = "CustomResourceDefinition".into();
            Some(v)
        })
        .collect())
}

/// The installed copies of non-CRD objects (None where absent).
pub async fn get_objects(conn: &Connection, objects: &[&Value]) -> Result<Vec<Value>> {
    let mut out = Vec::new();
    for obj in objects {
        let (api, ar) = api_for(conn, obj).await?;
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        if let Some(mut v) = write::get(conn, &api, &ar.kind, name).await? {
            v["apiVersion"] = ar.api_version.clone().into();
            v["kind"] = ar.kind.clone().into();
            out.push(v);
        }
    }
    Ok(out)
}

/// How many objects a CRD holds (all namespaces, read at its storage version).
pub async fn count_objects(conn: &Connection, crd: &Value) -> Result<usize> {
    let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    let group = crd.pointer("/spec/group").and_then(Value::as_str).unwrap_or("");
    let versions = crd.pointer("/spec/versions").and_then(Value::as_array).cloned().unwrap_or_default();
    let version = versions
        .iter()
        .find(|v| {
            v.get("served").and_then(Value::as_bool) == Some(true)
                && v.get("storage").and_then(Value::as_bool) == Some(true)
        })
        .or_else(|| versions.iter().find(|v| v.get("served").and_then(Value::as_bool) == Some(true)))
        .and_then(|v| v.get("name").and_then(Value::as_str));
    let Some(version) = version else { return Ok(0) };
    let ar = ApiResource {
        group: group.into(),
        version: version.into(),
        api_version: format!("{group}/{version}"),
        kind: crd.pointer("/spec/names/kind").and_then(Value::as_str).unwrap_or("").into(),
        plural: crd.pointer("/spec/names/plural").and_then(Value::as_str).unwrap_or("").into(),
    };
    let api: Api<DynamicObject> = Api::all_with(conn.client.clone(), &ar);
    let mut count = 0;
    let mut token: Option<String> = None;
    loop {
        let mut lp = ListParams::default().limit(500);
        if let Some(t) = &token {
            lp = lp.continue_token(t);
        }
        match api.list_metadata(&lp).await {
            Ok(page) => {
                count += page.items.len();
                token = page.metadata.continue_.filter(|t| !t.is_empty());
                if token.is_none() {
                    return Ok(count);
                }
            }
            // Only a CRD that never became Established can hold no objects behind a 404; for any
            // other the count is unknown, and an unknown count is never taken for zero.
            Err(e) if crate::cluster::error::is_not_found(&e) && !established(crd) => return Ok(count),
            Err(e) => return Err(conn.explain(&format!("cannot count the objects of {name}"), &e)),
        }
    }
}

/// The CRD's Established condition is True.
fn established(crd: &Value) -> bool {
    crd.pointer("/status/conditions").and_then(Value::as_array).is_some_and(|cs| {
        cs.iter().any(|c| {
            c.get("type").and_then(Value::as_str) == Some("Established")
                && c.get("status").and_then(Value::as_str) == Some("True")
        })
    })
}

/// The object as we apply it: no status, no client-side-apply annotation, no server fields.
pub fn prepare(obj: &Value) -> Value {
    let mut v = obj.clone();
    if let Some(m) = v.as_object_mut() {
        m.remove("status");
    }
    if let Some(meta) = v.get_mut("metadata").and_then(Value::as_object_mut) {
        for f in ["creationTimestamp", "resourceVersion", "uid", "managedFields", "generation"] {
            meta.remove(f);
        }
        if let Some(a) = meta.get_mut("annotations").and_then(Value::as_object_mut) {
            a.remove(LAST_APPLIED);
        }
    }
    v
}

/// Server-side apply one object (dry run when asked).
///
/// Conflicts are forced: the bundle owns every field of its CRDs (no controller co-manages them),
/// the plan was shown and checked first, and a CRD installed earlier with `kubectl apply` would
/// otherwise conflict on every field the new release changes.
pub async fn apply(conn: &Connection, obj: &Value, installed: Option<&Value>, dry_run: bool) -> Result<()> {
    let (api, ar) = api_for(conn, obj).await?;
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("").to_string();
    let mode = if dry_run { " (server-side dry run)" } else { "" };
    // A client-side-applied copy carries the annotation that big CRDs overflow: remove it.
    if installed.and_then(|i| i.pointer("/metadata/annotations")).and_then(|a| a.get(LAST_APPLIED)).is_some() {
        let strip = serde_json::json!({"metadata": {"annotations": {LAST_APPLIED: null}}});
        let action = format!("cannot remove {LAST_APPLIED} from {} {name}{mode}", ar.kind);
        write::merge_patch(conn, &api, &name, &strip, dry_run, &action).await?;
    }
    write::apply(conn, &api, &name, &prepare(obj), dry_run, &format!("{} {name}", ar.kind)).await?;
    Ok(())
}

/// Delete one object by kind and name (dry run when asked). Absent is fine.
pub async fn delete(conn: &Connection, obj: &Value, dry_run: bool) -> Result<()> {
    let (api, ar) = api_for(conn, obj).await?;
    let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
    write::delete(conn, &api, name, dry_run, &format!("{} {name}", ar.kind)).await?;
    Ok(())
}

/// A spinner on stderr, only on a terminal.
/// Remove a spinner from the terminal (nothing when there is none).
fn clear(pb: Option<indicatif::ProgressBar>) {
    if let Some(pb) = pb {
        pb.finish_and_clear();
    }
}

pub fn spinner(message: String) -> Option<indicatif::ProgressBar> {
    if !std::io::stderr().is_terminal() {
        return None;
    }
    let pb = indicatif::ProgressBar::with_draw_target(None, indicatif::ProgressDrawTarget::stderr());
    pb.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {msg} ({elapsed})")
            .unwrap_or_else(|_| indicatif::ProgressStyle::default_spinner()),
    );
    pb.set_message(message);
    pb.enable_steady_tick(Duration::from_millis(120));
    Some(pb)
}

/// Wait until every named CRD is Established (watching each in turn, all within `timeout`); fail
/// naming those that are not.
pub async fn wait_established(conn: &Connection, names: &[String], timeout: Duration) -> Result<Duration> {
    let started = Instant::now();
    let api: Api<CustomResourceDefinition> = Api::all(conn.client.clone());
    let pb = spinner(format!("waiting for {} CRD(s) to be Established", names.len()));
    let mut pending: Vec<String> = Vec::new();
    for (i, name) in names.iter().enumerate() {
        if let Some(pb) = &pb {
            pb.set_message(format!("waiting for {} CRD(s) to be Established", names.len() - i));
        }
        let left = timeout.saturating_sub(started.elapsed());
        let cond = kube::runtime::wait::conditions::is_crd_established();
        let done =
            write::await_condition(conn, api.clone(), name, left, cond, &format!("CRD {name}")).await.map_err(|e| {
                clear(pb.clone());
                Failure::from(e)
            })?;
        if !done {
            pending.push(name.clone());
        }
    }
    clear(pb);
    if pending.is_empty() {
        return Ok(started.elapsed());
    }
    Err(Failure::with_hint(
        format!("CRDs not Established after {}s: {}", timeout.as_secs(), pending.join(", ")),
        "check `kubectl get crd NAME -o yaml` (status.conditions NamesAccepted/Established), or raise --timeout",
    ))
}

/// True when a Deployment reports itself available.
pub fn deployment_available(d: &Deployment) -> bool {
    let s = d.status.as_ref();
    s.and_then(|s| s.conditions.as_ref()).is_some_and(|cs| {
        cs.iter().any(|c| c.type_.as_deref() == Some("Available") && c.status.as_deref() == Some("True"))
    }) || s.and_then(|s| s.available_replicas).is_some_and(|n| n > 0)
}

fn gateway_class_api(conn: &Connection) -> Api<DynamicObject> {
    let ar = ApiResource {
        group: groups::GATEWAY.into(),
        version: "v1".into(),
        api_version: format!("{}/v1", groups::GATEWAY),
        kind: "GatewayClass".into(),
        plural: "gatewayclasses".into(),
    };
    Api::all_with(conn.client.clone(), &ar)
}

/// The status of a GatewayClass's Accepted condition (None: no such condition); an error when the
/// conditions cannot be read (never "not yet").
fn accepted_status(class: &Value) -> std::result::Result<Option<String>, serde_json::Error> {
    let Some(raw) = class.pointer("/status/conditions") else { return Ok(None) };
    let conds: Vec<Condition> = serde_json::from_value(raw.clone())?;
    Ok(condition(&conds, "Accepted").map(|c| c.status.clone()))
}

/// Wait until a provider's controller Deployment is available and its GatewayClass is Accepted;
/// how long that took. The Deployment is found by name prefix, so it is polled; the GatewayClass is
/// watched (`await_condition`) in the time left.
pub async fn wait_control_plane(conn: &Connection, p: &Provider, timeout: Duration) -> Result<Duration> {
    let started = Instant::now();
    // Envoy AI Gateway installs no GatewayClass (the user's class names its controller): the
    // Deployment alone says it is up.
    let own_class = p.class_names.first().copied();
    let class = own_class.unwrap_or("");
    let deployments: Api<Deployment> = Api::namespaced(conn.client.clone(), p.namespace);
    let classes = gateway_class_api(conn);
    let pb = spinner(match own_class {
        Some(c) => format!("waiting for {} to be available and GatewayClass {c} Accepted", p.name),
        None => format!("waiting for {} to be available", p.name),
    });
    let (controller, available) = loop {
        let list = deployments.list(&Default::default()).await.map_err(|e| {
            clear(pb.clone());
            conn.explain(&format!("cannot list Deployments in {}", p.namespace), &e)
        })?;
        let controller: Vec<Deployment> = list
            .items
            .into_iter()
            .filter(|d| {
                let n = d.metadata.name.as_deref().unwrap_or("");
                p.deployment_names.iter().any(|prefix| n == *prefix || n.starts_with(&format!("{prefix}-")))
            })
            .collect();
        let available = controller.iter().any(deployment_available);
        if available || started.elapsed() >= timeout {
            break (controller, available);
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    };
    let accepted = match own_class {
        None => Some("True".to_string()),
        Some(c) => {
            let unreadable = |e: serde_json::Error| {
                Failure::new(format!("cannot read the conditions of GatewayClass {c} on {}: {e}", conn.server))
            };
            if available {
                let left = timeout.saturating_sub(started.elapsed());
                let is_accepted = |o: Option<&DynamicObject>| {
                    // An unreadable condition ends the wait too: it is reported below, not waited out.
                    o.is_some_and(|o| accepted_status(&o.data).map_or(true, |s| s.as_deref() == Some("True")))
                };
                let what = format!("GatewayClass {c}");
                match write::await_condition(conn, classes.clone(), c, left, is_accepted, &what).await {
                    Ok(_) => {}
                    Err(e) if e.class() == crate::cluster::Class::NotFound => {}
                    Err(e) => {
                        clear(pb.clone());
                        return Err(e.into());
                    }
                }
            }
            let found = write::get(conn, &classes, "GatewayClass", c).await.map_err(|e| {
                clear(pb.clone());
                Failure::from(e)
            })?;
            match found {
                Some(obj) => accepted_status(&obj).map_err(|e| {
                    clear(pb.clone());
                    unreadable(e)
                })?,
                None => None,
            }
        }
    };
    clear(pb);
    if available && accepted.as_deref() == Some("True") {
        return Ok(started.elapsed());
    }
    let mut why = Vec::new();
    if controller.is_empty() {
        why.push(format!("no controller Deployment ({}) in namespace {}", p.deployment_names.join(", "), p.namespace));
    } else if !available {
        why.push(format!(
            "Deployment {}/{} is not available",
            p.namespace,
            controller[0].metadata.name.as_deref().unwrap_or("")
        ));
    }
    match accepted.as_deref() {
        Some("True") => {}
        Some(other) => why.push(format!("GatewayClass {class} has Accepted={other}")),
        None => why.push(format!("GatewayClass {class} does not exist or has no Accepted condition")),
    }
    Err(Failure::with_hint(
        format!("{} not ready after {}s: {}", p.name, timeout.as_secs(), why.join("; ")),
        format!(
            "check the controller: kubectl get deploy,pods -n {} and kubectl describe gatewayclass {class}; or raise --timeout",
            p.namespace
        ),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn only_an_established_true_condition_counts_as_established() {
        let crd = |conditions: Value| json!({"status": {"conditions": conditions}});
        assert!(established(&crd(
            json!([{"type": "NamesAccepted", "status": "True"}, {"type": "Established", "status": "True"}])
        )));
        assert!(!established(&crd(json!([{"type": "Established", "status": "False"}]))));
        assert!(!established(&crd(json!([]))));
        assert!(!established(&json!({"metadata": {"name": "x"}})));
    }
}
