//! Checks: GatewayClasses and the gateway providers behind them (DOMAIN C, D; E9, E10, E30–E32,
//! E34–E38).

use super::{Check, CheckContext, Issue};
use crate::catalog::providers::{provider_for_controller, InferenceSwitch, Provider, ProviderId, PROVIDERS};
use crate::catalog::releases::parse_version;
use crate::findings::Category;
use crate::model::{condition, groups, GatewayClassView, ObjectRef};
use crate::repair::{ControllerUpgrade, Op, Repair};
use crate::snapshot::{service_account_of, Collected, Kind, Snapshot, ENVOY_GATEWAY_CONFIG};
use k8s_openapi::api::apps::v1::Deployment;
use k8s_openapi::api::core::v1::Container;

/// Checks of this area.
pub static CHECKS: &[Check] = &[
    Check {
        code: "LLMD-GWC-001",
        title: "A GatewayClass of an InferencePool-capable provider exists",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::Gateways, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_provider_class_exists,
    },
    Check {
        code: "LLMD-GWC-002",
        title: "Every Gateway's gatewayClassName names an existing GatewayClass",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::Gateways],
        run: check_gateway_class_refs,
    },
    Check {
        code: "LLMD-GWC-003",
        title: "Every GatewayClass is Accepted by its controller",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::Gateways, Kind::LiveStatus],
        run: check_class_accepted,
    },
    Check {
        code: "LLMD-GWC-004",
        title: "Every GatewayClass controller supports the installed Gateway API version",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::LiveStatus],
        run: check_supported_version,
    },
    Check {
        code: "LLMD-GWC-005",
        title: "Gateway controllers have InferencePool support switched on",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::Deployments, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_inference_switch,
    },
    Check {
        code: "LLMD-GWC-006",
        title: "Gateway controller versions route InferencePool v1 and have no known InferencePool bug",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::Deployments, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_controller_version,
    },
    Check {
        code: "LLMD-GWC-007",
        title: "GKE clusters with gke-l7 GatewayClasses are new enough for InferencePool v1",
        category: Category::GatewayClasses,
        needs: &[Kind::GatewayClasses, Kind::ServerVersion, Kind::Crds, Kind::InferencePools, Kind::InferencePoolsX],
        run: check_gke_prerequisites,
    },
];

fn class_ref(name: &str) -> ObjectRef {
    ObjectRef::new("GatewayClass", groups::GATEWAY, "", name)
}

/// The provider behind a class: by controllerName, else by the class names a provider installs.
pub fn provider_of_class(class: &GatewayClassView) -> Option<&'static Provider> {
    provider_for_controller(&class.spec.controller_name)
        .or_else(|| PROVIDERS.iter().find(|p| p.class_names.contains(&class.metadata.name.as_str())))
}

/// The value `kubectl llmd gateway install --provider` takes for a provider.
pub fn provider_arg(id: ProviderId) -> &'static str {
    match id {
        ProviderId::Istio => "istio",
        ProviderId::OpenshiftServiceMesh => "openshift-service-mesh",
        ProviderId::Agentgateway => "agentgateway",
        ProviderId::Kgateway => "kgateway",
        ProviderId::Gke => "gke",
        ProviderId::NginxGatewayFabric => "nginx-gateway-fabric",
        ProviderId::EnvoyAiGateway => "envoy-ai-gateway",
    }
}

/// The command that installs a provider's control plane (ours when we have a recipe).
pub(super) fn install_hint(p: &Provider) -> String {
    if p.charts.is_empty() {
        enable_command(p, None, p.min_inference_version)
    } else {
        format!("kubectl llmd gateway install --provider {}", provider_arg(p.id))
    }
}

/// The provider whose controller serves a class. kgateway's controller serves agentgateway's
/// controllerName too (its agentgateway data plane, inference switched on by KGW_ENABLE_INFER_EXT on
/// the kgateway controller, DOMAIN D): without a standalone agentgateway controller but with
/// kgateway's, the class is kgateway's.
fn serving_provider(snap: &Snapshot, class: &GatewayClassView) -> Option<&'static Provider> {
    let p = provider_of_class(class)?;
    if p.id != ProviderId::Agentgateway {
        return Some(p);
    }
    let kgateway = crate::catalog::providers::provider(ProviderId::Kgateway);
    let standalone = controller_deployments(snap, p).iter().any(|d| {
        let n = deployment_name(d);
        p.deployment_names.iter().any(|prefix| n == *prefix || n.starts_with(&format!("{prefix}-")))
    });
    if !standalone && !controller_deployments(snap, kgateway).is_empty() {
        return Some(kgateway);
    }
    Some(p)
}

/// Providers serving at least one GatewayClass in the snapshot, in catalog order.
fn present_providers(snap: &Snapshot) -> Vec<&'static Provider> {
    let mut out: Vec<&'static Provider> = Vec::new();
    for class in snap.gateway_classes.items() {
        if let Some(p) = serving_provider(snap, class) {
            if !out.iter().any(|q| q.id == p.id) {
                out.push(p);
            }
        }
    }
    out.sort_by_key(|p| p.id);
    out
}

fn containers(d: &Deployment) -> &[Container] {
    d.spec.template.spec.as_ref().map_or(&[], |p| p.containers.as_slice())
}

fn deployment_name(d: &Deployment) -> &str {
    d.metadata.name.as_deref().unwrap_or("")
}

fn deployment_ns(d: &Deployment) -> &str {
    d.metadata.namespace.as_deref().unwrap_or("")
}

/// Gateway proxies (data planes) carry the gateway-name label; they are not the controller.
fn is_gateway_proxy(d: &Deployment) -> bool {
    d.metadata.labels.as_ref().is_some_and(|l| {
        l.contains_key("gateway.networking.k8s.io/gateway-name") || l.contains_key("istio.io/gateway-name")
    })
}

/// The controller Deployments of a provider: by name prefix, else by image.
pub fn controller_deployments<'a>(snap: &'a Snapshot, p: &Provider) -> Vec<&'a Deployment> {
    let candidates: Vec<&Deployment> = snap.deployments.items().iter().filter(|d| !is_gateway_proxy(d)).collect();
    let by_name: Vec<&Deployment> = candidates
        .iter()
        .copied()
        .filter(|d| {
            let n = deployment_name(d);
            p.deployment_names.iter().any(|prefix| n == *prefix || n.starts_with(&format!("{prefix}-")))
        })
        .collect();
    if !by_name.is_empty() || p.image_markers.is_empty() {
        return by_name;
    }
    candidates
        .into_iter()
        .filter(|d| {
            containers(d).iter().any(|c| {
                let image = c.image.as_deref().unwrap_or("");
                p.image_markers.iter().any(|m| image.contains(m))
            })
        })
        .collect()
}

/// The container that runs the controller: the one whose image matches, else the first.
pub fn controller_container<'a>(d: &'a Deployment, p: &Provider) -> Option<&'a Container> {
    let cs = containers(d);
    cs.iter()
        .find(|c| {
            let image = c.image.as_deref().unwrap_or("");
            p.image_markers.iter().any(|m| image.contains(m))
        })
        .or_else(|| cs.first())
}

/// "docker.io/istio/pilot:1.28.0-distroless@sha256:…" → (tag "1.28.0-distroless", 1.28.0).
pub fn image_version(image: &str) -> Option<(String, semver::Version)> {
    let without_digest = image.split('@').next()?;
    let last = without_digest.rsplit('/').next()?;
    let (_, tag) = last.split_once(':')?;
    let v = parse_version(tag)?;
    Some((tag.to_string(), semver::Version::new(v.major, v.minor, v.patch)))
}

/// Whether a controller Deployment has inference support on: Some(false) off, None unknowable.
pub fn switch_state(d: &Deployment, p: &Provider) -> Option<bool> {
    match p.inference_switch {
        InferenceSwitch::Env(var) => {
            let mut seen_unknown = false;
            for c in containers(d) {
                for e in c.env.iter().flatten().filter(|e| e.name == var) {
                    match &e.value {
                        Some(v) if v.trim().eq_ignore_ascii_case("true") => return Some(true),
                        Some(_) => {}
                        None if e.value_from.is_some() => seen_unknown = true,
                        None => {}
                    }
                }
            }
            if seen_unknown {
                None
            } else {
                Some(false)
            }
        }
        InferenceSwitch::Arg(arg) => {
            let on = containers(d).iter().any(|c| {
                c.args
                    .iter()
                    .chain(c.command.iter())
                    .flatten()
                    .any(|a| a == arg || a.strip_prefix(arg).is_some_and(|rest| rest.eq_ignore_ascii_case("=true")))
            });
            Some(on)
        }
        InferenceSwitch::Builtin | InferenceSwitch::Config(_) => None,
    }
}

/// True when a controller Deployment of `p` is found with inference support switched off.
pub(super) fn inference_switch_off(snap: &Snapshot, p: &Provider) -> bool {
    controller_deployments(snap, p).iter().any(|d| switch_state(d, p) == Some(false))
}

fn any_pools(snap: &Snapshot) -> bool {
    snap.all_pools().next().is_some()
}

// LLMD-GWC-001 (E30): no class of any known provider.
fn check_provider_class_exists(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    if snap.gateway_classes.items().iter().any(|c| provider_of_class(c).is_some()) {
        return vec![];
    }
    // A Gateway naming a missing class is reported by LLMD-GWC-002 with a more precise hint.
    if snap.gateways.items().iter().any(|g| snap.gateway_class(&g.spec.gateway_class_name).is_none()) {
        return vec![];
    }
    let existing: Vec<String> = snap
        .gateway_classes
        .items()
        .iter()
        .map(|c| format!("{} ({})", c.metadata.name, c.spec.controller_name))
        .collect();
    let have = if existing.is_empty() {
        "no GatewayClass exists".to_string()
    } else {
        format!("only {}", existing.join(", "))
    };
    let pools = snap.all_pools().count();
    let hint = "kubectl llmd gateway install --provider istio";
    if pools > 0 {
        // `doctor --fix --provider NAME` installs the one the user names; none is guessed.
        let choices = PROVIDERS.iter().filter(|p| !p.charts.is_empty()).map(|p| p.id).collect();
        vec![Issue::error(
            class_ref("istio"),
            format!(
                "{pools} InferencePool(s) exist but no GatewayClass belongs to an InferencePool-capable provider ({have}), so nothing routes to them"
            ),
            hint,
        )
        .repair(Repair::InstallControlPlane { choices })]
    } else {
        vec![Issue::info(
            class_ref("istio"),
            format!("No GatewayClass belongs to an InferencePool-capable provider ({have})"),
            hint,
        )]
    }
}

fn closest<'a>(name: &str, candidates: impl Iterator<Item = &'a str>) -> Option<&'a str> {
    candidates
        .map(|c| (strsim::normalized_damerau_levenshtein(name, c), c))
        .filter(|(s, _)| *s >= 0.4)
        .max_by(|a, b| a.0.total_cmp(&b.0))
        .map(|(_, c)| c)
}

// LLMD-GWC-002 (E30): Gateway names a class that does not exist.
fn check_gateway_class_refs(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for gw in snap.gateways.items() {
        let class = &gw.spec.gateway_class_name;
        if snap.gateway_class(class).is_some() {
            continue;
        }
        let ns = gw.metadata.ns();
        let name = &gw.metadata.name;
        let object = ObjectRef::new("Gateway", groups::GATEWAY, ns, name);
        let message = format!(
            "Gateway {ns}/{name} uses gatewayClassName {class:?}, but no GatewayClass {class:?} exists, so the Gateway stays Pending (\"Waiting for controller\")"
        );
        let mut repair = None;
        let hint = if let Some(p) = PROVIDERS.iter().find(|p| p.class_names.contains(&class.as_str())) {
            // The Gateway names a provider's class: installing that provider is the fix, not
            // pointing the Gateway at another implementation.
            install_hint(p)
        } else {
            let known = snap
                .gateway_classes
                .items()
                .iter()
                .filter(|c| provider_of_class(c).is_some())
                .map(|c| c.metadata.name.as_str())
                .collect::<Vec<_>>();
            if let [only] = known.as_slice() {
                repair =
                    Some(Repair::Edit { target: object.clone(), ops: vec![Op::set("/spec/gatewayClassName", *only)] });
            }
            let all = snap.gateway_classes.items().iter().map(|c| c.metadata.name.as_str());
            let target = closest(class, known.iter().copied()).or(known.first().copied()).or_else(|| {
                let all: Vec<&str> = all.collect();
                closest(class, all.iter().copied()).or(all.first().copied())
            });
            match target {
                Some(t) => format!(
                    "kubectl patch gateway {name} -n {ns} --type=merge -p '{{\"spec\":{{\"gatewayClassName\":\"{t}\"}}}}'"
                ),
                None => "kubectl llmd gateway install --provider istio".to_string(),
            }
        };
        let issue = Issue::error(object, message, hint);
        out.push(issue.with_repair(repair));
    }
    out
}

fn class_in_use(snap: &Snapshot, class: &str) -> bool {
    snap.gateways.items().iter().any(|g| g.spec.gateway_class_name == class)
}

/// `kubectl rollout restart` of the provider's controller Deployment: the one doctor saw, else (when
/// Deployments could not be listed) the provider's usual name; None when the listed Deployments hold
/// no controller of `p` (restarting it would fail with NotFound: it must be installed).
pub fn restart_command(snap: &Snapshot, p: &Provider) -> Option<String> {
    if let Some(d) = controller_deployments(snap, p).first() {
        return Some(format!("kubectl rollout restart deployment/{} -n {}", deployment_name(d), deployment_ns(d)));
    }
    let name = p.deployment_names.first().filter(|_| !snap.deployments.is_listed())?;
    Some(format!("kubectl rollout restart deployment/{name} -n {}", p.namespace))
}

fn controller_hint(snap: &Snapshot, p: Option<&Provider>, controller: &str, class: &str) -> String {
    match p {
        Some(p) => match restart_command(snap, p) {
            Some(restart) => format!("start the controller: {restart}, or install it: {}", install_hint(p)),
            None => install_hint(p),
        },
        None => format!(
            "install the controller that implements {controller:?}, or delete the unused class: kubectl delete gatewayclass {class}"
        ),
    }
}

// LLMD-GWC-003 (E31): class not Accepted.
fn check_class_accepted(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for class in snap.gateway_classes.items() {
        let name = &class.metadata.name;
        let controller = &class.spec.controller_name;
        let provider = provider_of_class(class);
        let accepted = condition(&class.status.conditions, "Accepted");
        let in_use = class_in_use(snap, name);
        match accepted {
            Some(c) if c.status == "True" => {}
            Some(c) if c.status == "False" => {
                if c.reason == "UnsupportedVersion" {
                    continue; // LLMD-GWC-004
                }
                let hint = match c.reason.as_str() {
                    "InvalidParameters" => format!(
                        "fix spec.parametersRef of GatewayClass {name} so it names an existing, valid parameters object ({})",
                        c.message
                    ),
                    _ => format!(
                        "GatewayClass.spec.controllerName is immutable: kubectl delete gatewayclass {name} and recreate it with a controllerName your controller serves{}",
                        provider.map(|p| format!(" (for {}: {})", p.name, install_hint(p))).unwrap_or_default()
                    ),
                };
                let msg = format!(
                    "GatewayClass {name} (controller {controller}) is not Accepted: {}{}",
                    c.reason,
                    if c.message.is_empty() { String::new() } else { format!(": {}", c.message) }
                );
                out.push(if in_use {
                    Issue::error(class_ref(name), msg, hint)
                } else {
                    Issue::warning(class_ref(name), msg, hint)
                });
            }
            other => {
                let state = other
                    .map(|c| format!("{} {}", c.status, c.reason).trim().to_string())
                    .unwrap_or_else(|| "no Accepted condition".into());
                let msg = format!(
                    "GatewayClass {name} is not Accepted ({state}): no running controller {controller:?} has processed it"
                );
                let hint = controller_hint(snap, provider, controller, name);
                out.push(if in_use {
                    Issue::error(class_ref(name), msg, hint)
                } else {
                    Issue::warning(class_ref(name), msg, hint)
                });
            }
        }
    }
    out
}

// LLMD-GWC-004 (E32): SupportedVersion=False.
fn check_supported_version(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let mut out = Vec::new();
    for class in snap.gateway_classes.items() {
        let name = &class.metadata.name;
        let conds = &class.status.conditions;
        let accepted = condition(conds, "Accepted");
        let rejected = accepted.is_some_and(|c| c.status == "False" && c.reason == "UnsupportedVersion");
        let supported = condition(conds, "SupportedVersion").filter(|c| c.status == "False");
        let Some(c) = supported.or(accepted.filter(|_| rejected)) else { continue };
        let msg = format!(
            "GatewayClass {name} controller {} does not support the installed Gateway API CRD version ({}{})",
            class.spec.controller_name,
            c.reason,
            if c.message.is_empty() { String::new() } else { format!(": {}", c.message) }
        );
        let hint = format!(
            "install the Gateway API CRDs the controller supports: kubectl apply --server-side -f https://github.com/kubernetes-sigs/gateway-api/releases/download/{}/standard-install.yaml",
            ctx.profile.gateway_api
        );
        out.push(if rejected {
            Issue::error(class_ref(name), msg, hint)
        } else {
            Issue::warning(class_ref(name), msg, hint)
        });
    }
    out
}

fn deployment_ref(d: &Deployment) -> ObjectRef {
    ObjectRef::new("Deployment", "apps", deployment_ns(d), deployment_name(d))
}

// LLMD-GWC-005 (E9, E35, E37, E38): inference switch off.
fn check_inference_switch(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let pools = any_pools(snap);
    let mut out = Vec::new();
    for p in present_providers(snap) {
        match p.inference_switch {
            InferenceSwitch::Builtin => {}
            InferenceSwitch::Config(what) => {
                for d in controller_deployments(snap, p) {
                    out.extend(envoy_gateway_inference(ctx, p, d, what, pools));
                }
            }
            InferenceSwitch::Env(_) | InferenceSwitch::Arg(_) => {
                for d in controller_deployments(snap, p) {
                    if switch_state(d, p) != Some(false) {
                        continue;
                    }
                    let how = match p.inference_switch {
                        InferenceSwitch::Env(var) => format!("its containers do not set env {var}=true"),
                        InferenceSwitch::Arg(arg) => format!("its container args lack {arg}"),
                        _ => unreachable!("matched above"),
                    };
                    let msg = format!(
                        "{} controller {}/{} has InferencePool support switched off: {how}",
                        p.name,
                        deployment_ns(d),
                        deployment_name(d)
                    );
                    let hint = enable_command(p, Some(d), &profile_version(ctx, p));
                    let set = p
                        .switch_chart()
                        .map(|c| c.values.iter().map(|(k, v)| (k.to_string(), v.to_string())).collect())
                        .unwrap_or_default();
                    let repair = controller_upgrade(p, d, None, set, &hint);
                    let issue = if pools {
                        Issue::error(deployment_ref(d), msg, hint)
                    } else {
                        Issue::warning(deployment_ref(d), msg, hint)
                    };
                    out.push(issue.with_repair(repair));
                }
            }
        }
    }
    out
}

/// Envoy Gateway routes to InferencePools only when its EnvoyGateway configuration lists
/// InferencePool (group inference.networking.k8s.io, kind InferencePool, version v1) under
/// `extensionManager.backendResources` (envoyproxy/ai-gateway
/// examples/inference-pool/envoy-gateway-values-addon.yaml adds exactly that entry), and when its
/// ServiceAccount may get/list/watch inferencepools (the ClusterRole the InferencePool guides add:
/// the provider's `extra_rbac`). The configuration lives in ConfigMap
/// envoy-gateway-system/envoy-gateway-config, key envoy-gateway.yaml (envoyproxy/gateway
/// charts/gateway-helm/templates/envoy-gateway-config.yaml); it is read live only, so offline or
/// without access the finding stays an info that it could not be verified.
fn envoy_gateway_inference(ctx: &CheckContext, p: &Provider, d: &Deployment, what: &str, pools: bool) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let (cm_ns, cm_name, key) = ENVOY_GATEWAY_CONFIG;
    let unverified = |why: String| {
        Issue::info(
            deployment_ref(d),
            format!(
                "{} keeps InferencePool support in its configuration ({what}), which could not be verified: {why}",
                p.name
            ),
            p.enable_hint,
        )
    };
    let mut out = Vec::new();
    let listed = match &snap.envoy_gateway_config {
        Collected::Listed(texts) => match texts.first().map(|t| serde_saphyr::from_str::<serde_json::Value>(t)) {
            Some(Ok(config)) => Some(lists_inference_pool(&config)),
            Some(Err(e)) => {
                out.push(unverified(format!("key {key} of ConfigMap {cm_ns}/{cm_name} is not YAML ({e})")));
                None
            }
            None => None,
        },
        Collected::Absent => {
            out.push(unverified(format!("ConfigMap {cm_ns}/{cm_name} (key {key}) was not found")));
            None
        }
        other => {
            let why = other.skip_reason().unwrap_or_default();
            out.push(unverified(why));
            None
        }
    };
    if listed == Some(false) {
        let chart = p.charts.first();
        let addon = chart
            .and_then(|c| c.values_files.iter().find(|f| f.contains("inference-pool")))
            .map(|f| f.replace("{version}", &profile_version(ctx, p)));
        let hint = match (chart, addon) {
            (Some(chart), Some(addon)) => {
                let by = installed_by(d);
                let (release, ns, version) = match &by {
                    InstalledBy::Helm { release, namespace, chart_version } => {
                        (release.clone(), namespace.clone(), chart_version.clone())
                    }
                    _ => (chart.release.to_string(), p.namespace.to_string(), None),
                };
                let version = version
                    .or_else(|| running_version(d, p))
                    .or_else(|| chart.version.map(str::to_string))
                    .unwrap_or_default();
                format!(
                    "helm upgrade {release} {} -n {ns} --version {version} --reuse-values -f {addon} && kubectl rollout restart deployment/{} -n {}",
                    chart.chart,
                    deployment_name(d),
                    deployment_ns(d)
                )
            }
            _ => p.enable_hint.to_string(),
        };
        let msg = format!(
            "{} controller {}/{} does not list InferencePool (group {}, version v1) in extensionManager.backendResources of ConfigMap {cm_ns}/{cm_name}: routes to InferencePools are not programmed",
            p.name,
            deployment_ns(d),
            deployment_name(d),
            groups::INFERENCE
        );
        out.push(if pools {
            Issue::error(deployment_ref(d), msg, hint)
        } else {
            Issue::warning(deployment_ref(d), msg, hint)
        });
    }
    // Only reviews the collector made are read: a controller it did not review is not reported.
    let sa = service_account_of(&d.spec.template);
    let requests = Snapshot::pool_reader_requests(deployment_ns(d), sa);
    let denied: Vec<&str> = snap.denied(&requests).map(|r| r.verb).collect();
    if !denied.is_empty() {
        let rbac = p.extra_rbac.first();
        let role = rbac.map_or("envoy-gateway-inferencepools", |r| r.name);
        let msg = format!(
            "ServiceAccount {}/{sa} of {} controller {}/{} may not {} inferencepools.{} in all namespaces: it logs `inferencepools.{} is forbidden` and cannot route to InferencePools",
            deployment_ns(d),
            p.name,
            deployment_ns(d),
            deployment_name(d),
            denied.join(", "),
            groups::INFERENCE,
            groups::INFERENCE
        );
        let hint = format!(
            "kubectl create clusterrole {role} --verb=get,list,watch --resource=inferencepools.{} && kubectl create clusterrolebinding {role} --clusterrole={role} --serviceaccount={}:{sa}",
            groups::INFERENCE,
            deployment_ns(d)
        );
        out.push(if pools {
            Issue::error(deployment_ref(d), msg, hint)
        } else {
            Issue::warning(deployment_ref(d), msg, hint)
        });
    }
    out
}

/// True when an EnvoyGateway configuration lists InferencePool v1 among its backend resources.
fn lists_inference_pool(config: &serde_json::Value) -> bool {
    config.pointer("/extensionManager/backendResources").and_then(|v| v.as_array()).is_some_and(|resources| {
        resources
            .iter()
            .any(|r| r["group"] == groups::INFERENCE && r["kind"] == "InferencePool" && r["version"] == "v1")
    })
}

/// How a controller was installed, as its Deployment shows it.
#[derive(Debug, Clone, PartialEq)]
enum InstalledBy {
    /// A helm release (the `meta.helm.sh/release-*` annotations helm writes), with its chart version
    /// when the `helm.sh/chart` label names it.
    Helm {
        release: String,
        namespace: String,
        chart_version: Option<String>,
    },
    /// `istioctl install` (Istio's operator labels; how the current llm-d guides install Istio).
    Istioctl,
    Unknown,
}

fn installed_by(d: &Deployment) -> InstalledBy {
    let annotations = d.metadata.annotations.as_ref();
    let labels = d.metadata.labels.as_ref();
    if let Some(release) = annotations.and_then(|a| a.get("meta.helm.sh/release-name")) {
        let namespace = annotations
            .and_then(|a| a.get("meta.helm.sh/release-namespace"))
            .cloned()
            .unwrap_or_else(|| deployment_ns(d).to_string());
        // "istiod-1.29.2" → "1.29.2"
        let chart_version = labels
            .and_then(|l| l.get("helm.sh/chart"))
            .and_then(|c| c.rsplit_once('-').map(|(_, v)| v.to_string()))
            .filter(|v| parse_version(v).is_some());
        return InstalledBy::Helm { release: release.clone(), namespace, chart_version };
    }
    let istio_operator = labels.is_some_and(|l| {
        l.keys().any(|k| k.starts_with("install.operator.istio.io/") || k == "operator.istio.io/component")
    });
    if istio_operator {
        InstalledBy::Istioctl
    } else {
        InstalledBy::Unknown
    }
}

/// The version a controller runs, as a chart version ("1.29.2" for Istio, "v1.1.0" for the others).
fn running_version(d: &Deployment, p: &Provider) -> Option<String> {
    let image = controller_container(d, p).and_then(|c| c.image.as_deref())?;
    image_version(image).map(|(tag, _)| tag)
}

/// Istio charts are versioned without the "v" the others use.
fn chart_version(p: &Provider, v: &str) -> String {
    if p.id == ProviderId::Istio {
        v.trim_start_matches('v').to_string()
    } else if v.starts_with('v') {
        v.to_string()
    } else {
        format!("v{v}")
    }
}

/// `helm upgrade` of the provider's controller chart at `version` (values per `reuse`, then `--set`
/// flags); the release as installed when the Deployment names it, else the name llm-d's recipes use.
fn helm_upgrade(p: &Provider, by: &InstalledBy, version: &str, reuse: &str, set: &str) -> Option<String> {
    let chart = p.switch_chart()?;
    let (release, namespace) = match by {
        InstalledBy::Helm { release, namespace, .. } => (release.as_str(), namespace.as_str()),
        _ => (chart.release, p.namespace),
    };
    Some(format!(
        "helm upgrade {release} {} -n {namespace} --version {} {reuse}{set}",
        chart.chart,
        chart_version(p, version)
    ))
}

/// The `doctor --fix` repair of a controller through its helm release: None for a controller
/// istioctl installed (only its command, `by_hand`, can help) or a provider without a chart.
fn controller_upgrade(
    p: &Provider,
    d: &Deployment,
    to_version: Option<String>,
    set: Vec<(String, String)>,
    by_hand: &str,
) -> Option<Repair> {
    p.switch_chart()?;
    let release = match installed_by(d) {
        InstalledBy::Istioctl => return None,
        InstalledBy::Helm { release, namespace, .. } => Some((release, namespace)),
        // Resources helm 3 creates carry the release annotations; without them `helm list` may still know it.
        InstalledBy::Unknown => None,
    };
    Some(Repair::HelmUpgrade(ControllerUpgrade {
        provider: p.id,
        deployment: deployment_ref(d),
        release,
        to_version,
        running: running_version(d, p),
        set,
        by_hand: by_hand.to_string(),
    }))
}

/// The command that switches a controller's inference support on, for how it was installed: `helm
/// upgrade` pinned to the chart version it runs, or `istioctl install` for an istioctl-installed istiod.
pub(super) fn enable_command(p: &Provider, d: Option<&Deployment>, fallback_version: &str) -> String {
    let by = d.map_or(InstalledBy::Unknown, installed_by);
    let version = match &by {
        InstalledBy::Helm { chart_version: Some(v), .. } => v.clone(),
        _ => d.and_then(|d| running_version(d, p)).unwrap_or_else(|| fallback_version.to_string()),
    };
    if p.id == ProviderId::Istio && (by == InstalledBy::Istioctl || (by == InstalledBy::Unknown && d.is_some())) {
        return format!(
            "istioctl install -y --set values.pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true (with istioctl {}, plus the -f/--set options istiod was installed with)",
            chart_version(p, &version)
        );
    }
    let set: String =
        p.switch_chart().map(|c| c.values.iter().map(|(k, v)| format!(" --set {k}={v}")).collect()).unwrap_or_default();
    helm_upgrade(p, &by, &version, "--reuse-values", &set).unwrap_or_else(|| p.enable_hint.to_string())
}

/// The command that upgrades a controller to `to`, for how it was installed.
pub(super) fn upgrade_hint(p: &Provider, d: Option<&Deployment>, to: &str) -> String {
    let by = d.map_or(InstalledBy::Unknown, installed_by);
    if p.id == ProviderId::Istio && (by == InstalledBy::Istioctl || (by == InstalledBy::Unknown && d.is_some())) {
        return format!(
            "istioctl upgrade -y (with istioctl {}, plus the -f/--set options istiod was installed with)",
            chart_version(p, to)
        );
    }
    // A new chart version needs its own defaults: --reuse-values would keep the old chart's.
    helm_upgrade(p, &by, to, "--reset-then-reuse-values", "")
        .unwrap_or_else(|| format!("upgrade {} to {to} or newer", p.name))
}

/// The inference-switch command for a provider's controller as found in the snapshot (pinned to
/// the provider's first InferencePool-v1 version when no controller Deployment is visible).
pub(super) fn enable_command_in(snap: &Snapshot, p: &Provider) -> String {
    let d = controller_deployments(snap, p).into_iter().next();
    enable_command(p, d, p.min_inference_version)
}

fn profile_version(ctx: &CheckContext, p: &Provider) -> String {
    ctx.profile.provider_version(p.id).unwrap_or(p.min_inference_version).to_string()
}

// LLMD-GWC-006 (E10, E36): controller too old for v1 pools; known-bad versions.
fn check_controller_version(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let v1_pools = snap.pools.items().len();
    let pools = any_pools(snap);
    let mut out = Vec::new();
    for p in present_providers(snap) {
        // Builtin (GKE) is LLMD-GWC-007; the Envoy Gateway image does not carry the AI Gateway version.
        if !matches!(p.inference_switch, InferenceSwitch::Env(_) | InferenceSwitch::Arg(_)) {
            continue;
        }
        let Some(min) = parse_version(p.min_inference_version) else { continue };
        for d in controller_deployments(snap, p) {
            let Some(image) = controller_container(d, p).and_then(|c| c.image.as_deref()) else { continue };
            let Some((tag, version)) = image_version(image) else { continue };
            let target = profile_version(ctx, p);
            if let Some((_, why)) = p.known_bad.iter().find(|(bad, _)| {
                parse_version(bad).is_some_and(|b| semver::Version::new(b.major, b.minor, b.patch) == version)
            }) {
                let msg = format!(
                    "{} controller {}/{} runs {tag}, a version with a known InferencePool bug: {why}",
                    p.name,
                    deployment_ns(d),
                    deployment_name(d)
                );
                let hint = upgrade_hint(p, Some(d), &target);
                let repair = controller_upgrade(p, d, Some(chart_version(p, &target)), vec![], &hint);
                let issue = if pools {
                    Issue::error(deployment_ref(d), msg, hint)
                } else {
                    Issue::warning(deployment_ref(d), msg, hint)
                };
                out.push(issue.with_repair(repair));
                continue;
            }
            if v1_pools > 0 && version < min {
                let hint = upgrade_hint(p, Some(d), &target);
                let repair = controller_upgrade(p, d, Some(chart_version(p, &target)), vec![], &hint);
                let issue = Issue::error(
                    deployment_ref(d),
                    format!(
                        "{} controller {}/{} runs {tag}, older than {}, the first that routes InferencePool {}/v1; {v1_pools} v1 InferencePool(s) exist",
                        p.name,
                        deployment_ns(d),
                        deployment_name(d),
                        p.min_inference_version,
                        groups::INFERENCE
                    ),
                    hint,
                );
                out.push(issue.with_repair(repair));
            }
        }
    }
    out
}

/// GKE "v1.34.0-gke.1626000" → ((1,34,0), Some(1626000)).
fn gke_version(s: &str) -> Option<((u64, u64, u64), Option<u64>)> {
    let v = parse_version(s)?;
    let build = v.pre.as_str().strip_prefix("gke.").and_then(|b| b.split('.').next()).and_then(|b| b.parse().ok());
    Some(((v.major, v.minor, v.patch), build))
}

fn gke_older(current: &str, min: &str) -> bool {
    let (Some((cur, cur_build)), Some((req, req_build))) = (gke_version(current), gke_version(min)) else {
        return false;
    };
    if cur != req {
        return cur < req;
    }
    match (cur_build, req_build) {
        (Some(c), Some(r)) => c < r,
        _ => false,
    }
}

// LLMD-GWC-007 (E34): GKE prerequisites.
fn check_gke_prerequisites(ctx: &CheckContext) -> Vec<Issue> {
    let snap = ctx.snapshot;
    let gke = crate::catalog::providers::provider(ProviderId::Gke);
    let classes: Vec<&GatewayClassView> = snap
        .gateway_classes
        .items()
        .iter()
        .filter(|c| provider_of_class(c).is_some_and(|p| p.id == ProviderId::Gke))
        .collect();
    let Some(first) = classes.first() else { return vec![] };
    let Some(server) = snap.server_version.items().first() else { return vec![] };
    if !gke_older(server, gke.min_inference_version) {
        return vec![];
    }
    let crd_absent = snap.crds.is_listed() && snap.crd(&format!("inferencepools.{}", groups::INFERENCE)).is_none();
    let names: Vec<&str> = classes.iter().map(|c| c.metadata.name.as_str()).collect();
    let message = format!(
        "GKE Gateway classes ({}) exist but the cluster runs {server}, older than {}, the first GKE version with built-in InferencePool v1 support{}",
        names.join(", "),
        gke.min_inference_version,
        if crd_absent { "; the inferencepools.inference.networking.k8s.io CRD is absent" } else { "" }
    );
    let hint = format!(
        "gcloud container clusters upgrade CLUSTER_NAME --master --cluster-version={} --location=LOCATION",
        gke.min_inference_version
    );
    // gke-l7 classes exist on every GKE cluster with Gateway API on; without a pool nothing needs v1 yet.
    if !any_pools(snap) {
        let scope = snap.namespace.as_ref().map(|ns| format!(" in namespace {ns}")).unwrap_or_default();
        return vec![Issue::info(
            class_ref(&first.metadata.name),
            format!("{message}; no InferencePool exists{scope}, so nothing needs it yet"),
            hint,
        )];
    }
    vec![Issue::error(class_ref(&first.metadata.name), message, hint)]
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::checks::fixtures;
    use crate::checks::fixtures::{condition, Obj};
    use crate::findings::Severity;
    use crate::snapshot::Collected;
    use serde_json::{json, Value};

    /// A snapshot of the objects (builders or YAML).
    macro_rules! snap {
        ($($o:expr),* $(,)?) => { fixtures::snapshot(&[$($o.to_string()),*].join("\n---\n")) };
    }

    fn codes(snap: &Snapshot, code: &str) -> Vec<(String, Severity)> {
        fixtures::run(CHECKS, snap, &fixtures::prereq())
            .into_iter()
            .filter(|(c, _, _)| c == code)
            .map(|(_, n, s)| (n, s))
            .collect()
    }

    fn issues(snap: &Snapshot, code: &str) -> Vec<Issue> {
        let profile = fixtures::prereq();
        let ctx = CheckContext { snapshot: snap, profile: &profile };
        let check = CHECKS.iter().find(|c| c.code == code).expect("code");
        (check.run)(&ctx)
    }

    /// A GatewayClass its controller has accepted.
    fn accepted_class(name: &str, controller: &str) -> Obj {
        fixtures::gateway_class(name, controller).conditions(json!([condition("Accepted", "True", "Accepted")]))
    }

    fn istio_class() -> Obj {
        accepted_class("istio", "istio.io/gateway-controller")
    }

    use fixtures::POOL_V1 as V1_POOL;

    /// istiod (container discovery) running `image`.
    fn istiod(image: &str) -> Obj {
        fixtures::deployment("istio-system", "istiod")
            .image(image)
            .set("spec.template.spec.containers.0.name", "discovery")
    }

    const SWITCH: &str = "ENABLE_GATEWAY_API_INFERENCE_EXTENSION";

    #[test]
    fn gwc001_no_provider_class_is_an_error_with_pools_and_info_without() {
        let other = fixtures::gateway_class("cilium", "io.cilium/gateway-controller");
        let snap = snap!(other, V1_POOL);
        assert_eq!(codes(&snap, "LLMD-GWC-001"), vec![("istio".into(), Severity::Error)]);
        let i = &issues(&snap, "LLMD-GWC-001")[0];
        assert!(i.message.contains("cilium") && i.hint.contains("gateway install --provider istio"));
        // --fix installs only the provider the user names: the choices, none picked.
        assert_eq!(
            i.repair,
            Some(Repair::InstallControlPlane {
                choices: vec![
                    ProviderId::Istio,
                    ProviderId::Agentgateway,
                    ProviderId::Kgateway,
                    ProviderId::NginxGatewayFabric,
                    ProviderId::EnvoyAiGateway
                ]
            })
        );
        let snap = snap!(other);
        assert_eq!(codes(&snap, "LLMD-GWC-001"), vec![("istio".into(), Severity::Info)]);
        assert!(issues(&snap, "LLMD-GWC-001")[0].repair.is_none(), "no pools: nothing to repair");
        let snap = snap!(istio_class(), V1_POOL);
        assert!(codes(&snap, "LLMD-GWC-001").is_empty());
    }

    #[test]
    fn gwc002_gateway_naming_a_missing_class() {
        let gw = fixtures::gateway("llm", "llm-d-inference-gateway").class("agentgateway").listener("http", 80, "HTTP");
        let snap = snap!(istio_class(), gw);
        assert_eq!(codes(&snap, "LLMD-GWC-002"), vec![("llm-d-inference-gateway".into(), Severity::Error)]);
        let i = &issues(&snap, "LLMD-GWC-002")[0];
        assert!(i.message.contains("agentgateway") && i.hint.contains("--provider agentgateway"), "{i:?}");
        assert!(i.repair.is_none(), "a provider's class name is not repointed to another provider");
        // Not reported twice: GWC-001 stays silent because GWC-002 names the cause.
        let snap = snap!(gw);
        assert!(codes(&snap, "LLMD-GWC-001").is_empty());
        // An unknown class name → patch to an existing provider class.
        let typo = gw.clone().class("isito");
        let snap = snap!(istio_class(), typo);
        let i = &issues(&snap, "LLMD-GWC-002")[0];
        assert!(i.hint.contains("\"gatewayClassName\":\"istio\""));
        assert_eq!(
            i.repair,
            Some(Repair::Edit {
                target: ObjectRef::new("Gateway", groups::GATEWAY, "llm", "llm-d-inference-gateway"),
                ops: vec![Op::set("/spec/gatewayClassName", "istio")]
            })
        );
        // Two capable classes: which one is meant is the user's call.
        let agw = accepted_class("agentgateway", "agentgateway.dev/agentgateway");
        let snap = snap!(istio_class(), agw, typo);
        assert!(issues(&snap, "LLMD-GWC-002")[0].repair.is_none());
        let snap = snap!(istio_class(), gw.class("istio"));
        assert!(codes(&snap, "LLMD-GWC-002").is_empty());
    }

    #[test]
    fn gwc003_class_waiting_for_controller_or_rejected() {
        let mut waiting = condition("Accepted", "Unknown", "Pending");
        waiting["message"] = json!("Waiting for controller");
        let pending = fixtures::gateway_class("istio", "istio.io/gateway-controller").conditions(json!([waiting]));
        let gw = fixtures::gateway("llm", "gw");
        let snap = snap!(pending, gw);
        assert_eq!(codes(&snap, "LLMD-GWC-003"), vec![("istio".into(), Severity::Error)]);
        // No istiod Deployment: restarting it would fail with NotFound, so install it.
        let i = &issues(&snap, "LLMD-GWC-003")[0];
        assert!(i.message.contains("istio.io/gateway-controller"), "{}", i.message);
        assert_eq!(i.hint, "kubectl llmd gateway install --provider istio");
        // The controller Deployment doctor saw is the one to restart.
        let snap = snap!(pending, gw, istiod("docker.io/istio/pilot:1.28.0"));
        let i = &issues(&snap, "LLMD-GWC-003")[0];
        assert!(
            i.hint.starts_with("start the controller: kubectl rollout restart deployment/istiod -n istio-system, or"),
            "{}",
            i.hint
        );
        let mut invalid = condition("Accepted", "False", "InvalidParameters");
        invalid["message"] = json!("parameters not found");
        let rejected = fixtures::gateway_class("agw", "agentgateway.dev/agentgateway").conditions(json!([invalid]));
        let snap = snap!(rejected);
        assert_eq!(codes(&snap, "LLMD-GWC-003"), vec![("agw".into(), Severity::Warning)]);
        assert!(issues(&snap, "LLMD-GWC-003")[0].hint.contains("parametersRef"));
        let snap = snap!(istio_class());
        assert!(codes(&snap, "LLMD-GWC-003").is_empty());
    }

    #[test]
    fn gwc004_supported_version_false() {
        let mut unsupported = condition("SupportedVersion", "False", "UnsupportedVersion");
        unsupported["message"] = json!("bundle v1.6.0 not supported");
        let class = |accepted: Value| {
            fixtures::gateway_class("istio", "istio.io/gateway-controller").conditions(json!([accepted, unsupported]))
        };
        let snap = snap!(class(condition("Accepted", "True", "Accepted")));
        assert_eq!(codes(&snap, "LLMD-GWC-004"), vec![("istio".into(), Severity::Warning)]);
        assert!(issues(&snap, "LLMD-GWC-004")[0].hint.contains("download/v1.3.0/standard-install.yaml"));
        let snap = snap!(class(condition("Accepted", "False", "UnsupportedVersion")));
        assert_eq!(codes(&snap, "LLMD-GWC-004"), vec![("istio".into(), Severity::Error)]);
        assert!(codes(&snap, "LLMD-GWC-003").is_empty(), "reported once");
        let snap = snap!(istio_class());
        assert!(codes(&snap, "LLMD-GWC-004").is_empty());
    }

    #[test]
    fn gwc005_istiod_without_inference_env() {
        let off = istiod("docker.io/istio/pilot:1.28.0").env("PILOT_TRACE_SAMPLING", "1");
        let snap = snap!(istio_class(), off, V1_POOL);
        assert_eq!(codes(&snap, "LLMD-GWC-005"), vec![("istiod".into(), Severity::Error)]);
        let i = &issues(&snap, "LLMD-GWC-005")[0];
        // No helm annotations: istiod installed by istioctl, as the current guides do.
        assert!(i.message.contains("ENABLE_GATEWAY_API_INFERENCE_EXTENSION"), "{}", i.message);
        assert!(
            i.hint
                .starts_with("istioctl install -y --set values.pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true")
                && i.hint.contains("istioctl 1.28.0"),
            "{}",
            i.hint
        );
        // Installed by helm (the seed's helmfile): the release as installed, pinned to its chart version.
        let helm = off.clone().label("helm.sh/chart", "istiod-1.28.1").set(
            "metadata.annotations",
            json!({"meta.helm.sh/release-name": "my-istiod", "meta.helm.sh/release-namespace": "istio-system"}),
        );
        let snap = snap!(istio_class(), helm, V1_POOL);
        let i = &issues(&snap, "LLMD-GWC-005")[0];
        assert_eq!(
            i.hint,
            "helm upgrade my-istiod istio/istiod -n istio-system --version 1.28.1 --reuse-values --set pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION=true"
        );
        let Some(Repair::HelmUpgrade(u)) = &i.repair else { panic!("{i:?}") };
        assert_eq!(u.release, Some(("my-istiod".to_string(), "istio-system".to_string())));
        assert_eq!(u.to_version, None);
        assert_eq!(u.set, vec![("pilot.env.ENABLE_GATEWAY_API_INFERENCE_EXTENSION".to_string(), "true".to_string())]);
        // istioctl's operator labels: no helm release to change, only the command.
        let istioctl = off.clone().label("operator.istio.io/component", "Pilot");
        let snap = snap!(istio_class(), istioctl, V1_POOL);
        let i = &issues(&snap, "LLMD-GWC-005")[0];
        assert!(i.repair.is_none() && i.hint.starts_with("istioctl install"), "{i:?}");
        let snap = snap!(istio_class(), off);
        assert_eq!(codes(&snap, "LLMD-GWC-005"), vec![("istiod".into(), Severity::Warning)]);
        let on = istiod("docker.io/istio/pilot:1.28.0").env(SWITCH, "true");
        let snap = snap!(istio_class(), on, V1_POOL);
        assert!(codes(&snap, "LLMD-GWC-005").is_empty());
    }

    #[test]
    fn gwc005_kgateway_env_ngf_arg_and_envoy_info() {
        let kgw_class = fixtures::gateway_class("kgateway", "kgateway.dev/kgateway");
        let kgw =
            fixtures::deployment("kgateway-system", "kgateway").image("cr.kgateway.dev/kgateway-dev/kgateway:v2.1.0");
        let nginx_class = fixtures::gateway_class("nginx", "gateway.nginx.org/nginx-gateway-controller");
        let ngf = fixtures::deployment("nginx-gateway", "ngf-nginx-gateway-fabric")
            .image("ghcr.io/nginx/nginx-gateway-fabric:2.2.0")
            .args(&["controller", "--gatewayclass=nginx"]);
        let eg_class = fixtures::gateway_class("eg", "gateway.envoyproxy.io/gatewayclass-controller");
        let eg =
            fixtures::deployment("envoy-gateway-system", "envoy-gateway").image("docker.io/envoyproxy/gateway:v1.5.0");
        let snap = snap!(kgw_class, kgw, nginx_class, ngf, eg_class, eg, V1_POOL);
        let mut got = codes(&snap, "LLMD-GWC-005");
        got.sort();
        assert_eq!(
            got,
            vec![
                ("envoy-gateway".into(), Severity::Info),
                ("kgateway".into(), Severity::Error),
                ("ngf-nginx-gateway-fabric".into(), Severity::Error)
            ]
        );
        let all = issues(&snap, "LLMD-GWC-005");
        assert!(all.iter().any(|i| i.message.contains("KGW_ENABLE_INFER_EXT")));
        assert!(all.iter().any(|i| i.message.contains("--gateway-api-inference-extension")));
        let kgw = kgw.env("KGW_ENABLE_INFER_EXT", "true");
        let ngf = ngf.args(&["controller", "--gatewayclass=nginx", "--gateway-api-inference-extension"]);
        let snap = snap!(kgw_class, kgw, nginx_class, ngf, eg_class, eg, V1_POOL);
        assert_eq!(codes(&snap, "LLMD-GWC-005"), vec![("envoy-gateway".into(), Severity::Info)]);
    }

    /// Envoy Gateway with `config` as its envoy-gateway.yaml and its ServiceAccount allowed
    /// (or not) to read InferencePools.
    fn envoy_gateway(config: Collected<String>, may_read_pools: bool) -> Snapshot {
        let class = fixtures::gateway_class("eg", "gateway.envoyproxy.io/gatewayclass-controller");
        let eg = fixtures::deployment("envoy-gateway-system", "envoy-gateway")
            .image("docker.io/envoyproxy/gateway:v1.5.4")
            .set("spec.template.spec.serviceAccountName", "envoy-gateway");
        let mut snap = snap!(class, eg, V1_POOL);
        snap.envoy_gateway_config = config;
        let reviews = Snapshot::pool_reader_requests("envoy-gateway-system", "envoy-gateway")
            .into_iter()
            .map(|request| crate::snapshot::AccessReview { request, allowed: may_read_pools })
            .collect();
        snap.sa_access = Collected::Listed(reviews);
        snap
    }

    const EG_CONFIG_WITH_POOLS: &str = "apiVersion: config.gateway.envoyproxy.io/v1alpha1\nkind: EnvoyGateway\n\
        extensionManager:\n  backendResources:\n  - {group: inference.networking.k8s.io, kind: InferencePool, version: v1}\n";

    #[test]
    fn gwc005_envoy_gateway_config_and_rbac_are_verified() {
        // Healthy: listed and readable → nothing, not even the "cannot be verified" info.
        let ok = envoy_gateway(Collected::Listed(vec![EG_CONFIG_WITH_POOLS.into()]), true);
        assert_eq!(codes(&ok, "LLMD-GWC-005"), vec![]);
        // Only the x-k8s alpha pool listed: v1 pools are not routed.
        let alpha = EG_CONFIG_WITH_POOLS.replace(
            "inference.networking.k8s.io, kind: InferencePool, version: v1",
            "inference.networking.x-k8s.io, kind: InferencePool, version: v1alpha2",
        );
        let snap = envoy_gateway(Collected::Listed(vec![alpha]), true);
        let found = issues(&snap, "LLMD-GWC-005");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert_eq!(found[0].severity, Severity::Error);
        assert_eq!(
            found[0].message,
            "Envoy AI Gateway controller envoy-gateway-system/envoy-gateway does not list InferencePool (group inference.networking.k8s.io, version v1) in extensionManager.backendResources of ConfigMap envoy-gateway-system/envoy-gateway-config: routes to InferencePools are not programmed"
        );
        assert_eq!(
            found[0].hint,
            "helm upgrade eg oci://docker.io/envoyproxy/gateway-helm -n envoy-gateway-system --version v1.5.4 --reuse-values -f https://raw.githubusercontent.com/envoyproxy/ai-gateway/v0.4.0/examples/inference-pool/envoy-gateway-values-addon.yaml && kubectl rollout restart deployment/envoy-gateway -n envoy-gateway-system"
        );
        // Listed, but the controller may not read InferencePools.
        let snap = envoy_gateway(Collected::Listed(vec![EG_CONFIG_WITH_POOLS.into()]), false);
        let found = issues(&snap, "LLMD-GWC-005");
        assert_eq!(found.len(), 1, "{found:#?}");
        assert!(found[0].message.starts_with("ServiceAccount envoy-gateway-system/envoy-gateway of Envoy AI Gateway controller envoy-gateway-system/envoy-gateway may not get, list, watch inferencepools.inference.networking.k8s.io in all namespaces"), "{}", found[0].message);
        assert_eq!(
            found[0].hint,
            "kubectl create clusterrole envoy-gateway-inferencepools --verb=get,list,watch --resource=inferencepools.inference.networking.k8s.io && kubectl create clusterrolebinding envoy-gateway-inferencepools --clusterrole=envoy-gateway-inferencepools --serviceaccount=envoy-gateway-system:envoy-gateway"
        );
        // Not readable (offline, forbidden, missing): an info naming why, never a finding.
        for (config, why) in [
            (
                Collected::Unknown { reason: "Envoy Gateway's configuration cannot be known offline".into() },
                "cannot be known offline",
            ),
            (
                Collected::Forbidden {
                    verb: "get".into(),
                    resource: "configmaps in namespace envoy-gateway-system".into(),
                },
                "forbidden: cannot get configmaps",
            ),
            (Collected::Absent, "was not found"),
        ] {
            let found = issues(&envoy_gateway(config, true), "LLMD-GWC-005");
            assert_eq!(found.len(), 1, "{found:#?}");
            assert_eq!(found[0].severity, Severity::Info);
            assert!(
                found[0].message.contains("could not be verified") && found[0].message.contains(why),
                "{}",
                found[0].message
            );
        }
    }

    #[test]
    fn gwc006_old_istiod_with_v1_pools_and_known_bad_kgateway() {
        let old = istiod("docker.io/istio/pilot:1.27.3-distroless").env(SWITCH, "true");
        let snap = snap!(istio_class(), old, V1_POOL);
        assert_eq!(codes(&snap, "LLMD-GWC-006"), vec![("istiod".into(), Severity::Error)]);
        let i = &issues(&snap, "LLMD-GWC-006")[0];
        assert!(i.message.contains("1.27.3") && i.message.contains("1.28.0"), "{}", i.message);
        assert!(i.hint.starts_with("istioctl upgrade -y (with istioctl 1.28.0"), "{}", i.hint);
        let helm = old.clone().set(
            "metadata.annotations",
            json!({"meta.helm.sh/release-name": "istiod", "meta.helm.sh/release-namespace": "istio-system"}),
        );
        let snap = snap!(istio_class(), helm, V1_POOL);
        let i = &issues(&snap, "LLMD-GWC-006")[0];
        assert!(
            i.hint.contains(
                "helm upgrade istiod istio/istiod -n istio-system --version 1.28.0 --reset-then-reuse-values"
            ),
            "{}",
            i.hint
        );
        let Some(Repair::HelmUpgrade(u)) = &i.repair else { panic!("{i:?}") };
        assert_eq!((u.to_version.as_deref(), u.running.as_deref()), (Some("1.28.0"), Some("1.27.3-distroless")));
        // Without v1 pools an old istiod is fine (it speaks x-k8s).
        let snap = snap!(istio_class(), old);
        assert!(codes(&snap, "LLMD-GWC-006").is_empty());
        let new = istiod("docker.io/istio/pilot:1.28.0").env(SWITCH, "true");
        let snap = snap!(istio_class(), new, V1_POOL);
        assert!(codes(&snap, "LLMD-GWC-006").is_empty());

        let kgw_class = fixtures::gateway_class("kgateway", "kgateway.dev/kgateway");
        let kgw =
            fixtures::deployment("kgateway-system", "kgateway").image("cr.kgateway.dev/kgateway-dev/kgateway:v2.0.1");
        let snap = snap!(kgw_class, kgw);
        assert_eq!(codes(&snap, "LLMD-GWC-006"), vec![("kgateway".into(), Severity::Warning)]);
        assert!(issues(&snap, "LLMD-GWC-006")[0].message.contains("kgateway#11239"));
    }

    #[test]
    fn openshift_service_mesh_is_an_istio_provider() {
        let class = accepted_class("openshift-default", "openshift.io/gateway-controller/v1");
        let istiod = |switch: &str| {
            fixtures::deployment("openshift-ingress", "istiod-openshift-gateway")
                .image("registry.redhat.io/openshift-service-mesh/istio-pilot-rhel9@sha256:0123")
                .env(SWITCH, switch)
        };
        let snap = snap!(class, istiod("true"), V1_POOL);
        let found = fixtures::run(CHECKS, &snap, &fixtures::prereq());
        assert!(found.iter().all(|(_, _, s)| *s == Severity::Info), "{found:?}");
        // Switched off: the same finding as for Istio, with OpenShift's own repair.
        let snap = snap!(class, istiod("false"), V1_POOL);
        let i = &issues(&snap, "LLMD-GWC-005")[0];
        assert_eq!(i.severity, Severity::Error);
        assert!(
            i.message.starts_with("OpenShift Service Mesh controller openshift-ingress/istiod-openshift-gateway"),
            "{}",
            i.message
        );
        assert!(i.hint.contains("ingress operator"), "{}", i.hint);
    }

    #[test]
    fn kgateway_serving_the_agentgateway_class_is_judged_by_kgateway() {
        let class = accepted_class("agentgateway", "agentgateway.dev/agentgateway");
        let off =
            fixtures::deployment("kgateway-system", "kgateway").image("cr.kgateway.dev/kgateway-dev/kgateway:v2.1.0");
        let snap = snap!(class, off.clone().env("KGW_ENABLE_INFER_EXT", "true"), V1_POOL);
        let found = fixtures::run(CHECKS, &snap, &fixtures::prereq());
        assert!(found.iter().all(|(_, _, s)| *s == Severity::Info), "{found:?}");
        let snap = snap!(class, off, V1_POOL);
        let i = &issues(&snap, "LLMD-GWC-005")[0];
        assert_eq!((i.severity, i.object.name.as_str()), (Severity::Error, "kgateway"));
        assert!(i.message.contains("KGW_ENABLE_INFER_EXT=true"), "{}", i.message);
    }

    #[test]
    fn gwc007_gke_too_old() {
        let gke = fixtures::gateway_class("gke-l7-rilb", "networking.gke.io/gateway");
        // gke-l7 classes but no InferencePool yet: nothing needs v1, information only.
        let mut bare = snap!(gke);
        bare.server_version = Collected::Listed(vec!["v1.33.5-gke.1080000".into()]);
        assert_eq!(codes(&bare, "LLMD-GWC-007"), vec![("gke-l7-rilb".into(), Severity::Info)]);
        assert!(issues(&bare, "LLMD-GWC-007")[0]
            .message
            .ends_with("; no InferencePool exists, so nothing needs it yet"));
        let mut snap = snap!(gke, V1_POOL);
        snap.server_version = Collected::Listed(vec!["v1.33.5-gke.1080000".into()]);
        assert_eq!(codes(&snap, "LLMD-GWC-007"), vec![("gke-l7-rilb".into(), Severity::Error)]);
        let i = &issues(&snap, "LLMD-GWC-007")[0];
        assert!(i.message.contains("CRD is absent") && i.hint.contains("--cluster-version=1.34.0-gke.1626000"));
        snap.server_version = Collected::Listed(vec!["v1.34.0-gke.1500000".into()]);
        assert_eq!(codes(&snap, "LLMD-GWC-007").len(), 1);
        snap.server_version = Collected::Listed(vec!["v1.34.0-gke.1626000".into()]);
        assert!(codes(&snap, "LLMD-GWC-007").is_empty());
        snap.server_version = Collected::Listed(vec!["v1.35.1-gke.100".into()]);
        assert!(codes(&snap, "LLMD-GWC-007").is_empty());
        // No GKE class: nothing to say.
        let mut snap = snap!(istio_class());
        snap.server_version = Collected::Listed(vec!["v1.30.0-gke.1".into()]);
        assert!(codes(&snap, "LLMD-GWC-007").is_empty());
    }

    #[test]
    fn image_tags_parse() {
        assert_eq!(image_version("docker.io/istio/pilot:1.28.0").unwrap().1, semver::Version::new(1, 28, 0));
        assert_eq!(
            image_version("reg:5000/istio/pilot:1.27.1-distroless@sha256:ab").unwrap().1,
            semver::Version::new(1, 27, 1)
        );
        assert!(image_version("istio/pilot@sha256:ab").is_none());
        assert!(image_version("istio/pilot:latest").is_none());
    }
}
