//! `kubectl llmd gateway install | uninstall | status`: the llm-d gateway prerequisite (Gateway API
//! and Inference Extension CRDs, and a gateway control plane) in one command that shows its plan,
//! refuses what would fail or lose data, and verifies the result with doctor's checks.

use crate::catalog::providers::{provider, InferenceSwitch, Provider, ProviderId, PROVIDERS};
use crate::catalog::{annotations, Profile, SAFE_UPGRADES_POLICY};
use crate::checks::gatewayclasses::{
    controller_container, controller_deployments, image_version, provider_of_class, switch_state,
};
use crate::cli::{
    GatewayCommand, GatewayInstallArgs, GatewayStatusArgs, GatewayUninstallArgs, GlobalFlags, OutputFormat, ProviderArg,
};
use crate::cluster::{connect, Connection};
use crate::collect::cluster::collect_cluster;
use crate::commands::doctor::{diagnose, profile_from};
use crate::error::{Failure, Result};
use crate::findings::CheckStatus;
use crate::install::apply::{self, Permission, FIELD_MANAGER};
use crate::install::crds::{self, CrdPlan};
use crate::install::helm::{self, Helm};
use crate::install::source::{Bundle, BundleKind, CrdSource};
use crate::model::condition;
use crate::render::{print_stdout, to_json, to_yaml, Style, FAIL, PASS, WARN};
use crate::snapshot::Snapshot;
use k8s_openapi::api::apps::v1::Deployment;
use serde::Serialize;
use serde_json::Value;
use std::process::ExitCode;
use std::time::{Duration, Instant};

/// Run a `gateway` subcommand.
pub async fn run(global: &GlobalFlags, cmd: GatewayCommand) -> Result<ExitCode> {
    match cmd {
        GatewayCommand::Install(args) => install(global, &args).await,
        GatewayCommand::Uninstall(args) => uninstall(global, &args).await,
        GatewayCommand::Status(args) => status(global, &args).await,
    }
}

fn provider_of(arg: ProviderArg) -> &'static Provider {
    provider(arg.id())
}

/// The profile's version of a provider's control plane.
fn profile_version(profile: &Profile, id: ProviderId) -> String {
    profile.provider_version(id).unwrap_or_default().to_string()
}

/// Versions: the flags, else the profile (whose default honours the revision variables).
fn target_profile(args: &GatewayInstallArgs) -> Result<Profile> {
    let mut profile = profile_from(args.profile.as_deref())?;
    if let Some(v) = &args.gateway_api_version {
        profile.gateway_api = v.clone();
    }
    if let Some(v) = &args.inference_extension_version {
        profile.inference_extension = v.clone();
    }
    Ok(profile)
}

fn out(line: impl AsRef<str>) {
    print_stdout(&format!("{}\n", line.as_ref()));
}

const CRD_RESOURCE: &str = "customresourcedefinitions";
const APIEXT: &str = "apiextensions.k8s.io";

// ---------------------------------------------------------------------------------------------
// install

async fn install(global: &GlobalFlags, args: &GatewayInstallArgs) -> Result<ExitCode> {
    let mut profile = target_profile(args)?;
    let provider = args.provider.map(provider_of);
    let with_control_plane = provider.is_some() && !args.crds_only;
    let version = provider.map(|p| args.provider_version.clone().unwrap_or_else(|| profile_version(&profile, p.id)));

    if args.print {
        let Some(p) = provider.filter(|p| !p.charts.is_empty()) else {
            return Err(Failure::with_hint(
                "--print prints the helm commands of a control plane",
                "add --provider istio, agentgateway or kgateway",
            ));
        };
        let steps = helm::steps(p, version.as_deref().unwrap_or(""), args.chart_source.as_deref())?;
        for line in helm::command_lines(p, &steps) {
            out(line);
        }
        return Ok(ExitCode::SUCCESS);
    }

    let conn = connect(global).await?;
    let style = Style::detect(global.no_color);
    let mut needed = Vec::new();
    if !args.control_plane_only {
        for verb in ["list", "create", "patch"] {
            needed.push(Permission::cluster(verb, APIEXT, CRD_RESOURCE));
        }
    }
    if with_control_plane && provider.is_some_and(|p| !p.charts.is_empty()) {
        needed.push(Permission::cluster("create", "", "namespaces"));
        needed.push(Permission::cluster("create", "rbac.authorization.k8s.io", "clusterroles"));
        needed.push(Permission::cluster("create", "rbac.authorization.k8s.io", "clusterrolebindings"));
    }
    apply::require_permissions(&conn, &needed, "install the gateway prerequisites").await?;

    let snap = collect_cluster(&conn, None).await?;
    if !args.control_plane_only {
        let bundles = install_crds(&conn, args, &profile, &snap).await?;
        // Verify against what was installed (files carry their own versions).
        for b in &bundles {
            match b.kind {
                BundleKind::GatewayApi => profile.gateway_api = b.git_ref.clone(),
                BundleKind::Gaie => profile.inference_extension = b.git_ref.clone(),
            }
        }
    }
    if args.dry_run {
        if with_control_plane {
            if let (Some(p), Some(v)) = (provider, &version) {
                if !p.charts.is_empty() {
                    let steps = helm::steps(p, v, args.chart_source.as_deref())?;
                    out(format!("Control plane ({}): would run", p.name));
                    for line in helm::command_lines(p, &steps) {
                        out(format!("  {line}"));
                    }
                }
            }
        }
        out("dry run: nothing was changed");
        return Ok(ExitCode::SUCCESS);
    }
    if let (true, Some(p), Some(v)) = (with_control_plane, provider, &version) {
        install_control_plane(&conn, global, args, p, v, &snap).await?;
    }
    verify(&conn, &profile, if with_control_plane { provider } else { None }, style).await
}

/// Read the bundles, plan, refuse or apply. Returns the bundles installed (or planned).
async fn install_crds(
    conn: &Connection,
    args: &GatewayInstallArgs,
    profile: &Profile,
    snap: &Snapshot,
) -> Result<Vec<Bundle>> {
    let src = match &args.crds_from {
        Some(path) => CrdSource::Files(path.clone()),
        None => CrdSource::upstream(args.crds_base_url.as_deref()),
    };
    let wanted = [
        (BundleKind::GatewayApi, profile.gateway_api.clone()),
        (BundleKind::Gaie, profile.inference_extension.clone()),
    ];
    let bundles = crds::load_bundles(&src, &wanted, args.timeout.min(Duration::from_secs(120))).await?;
    for b in &bundles {
        eprintln!(
            "{} {}: {} object(s) from {}",
            b.kind.label(),
            b.git_ref,
            b.objects.len(),
            crds::origin_summary(&b.origin)
        );
    }

    let crd_plan = crds::plan_crds(conn, bundles, crds::cluster_facts(snap)).await?;
    out(crd_plan.render());
    let CrdPlan { bundles, plan, .. } = &crd_plan;

    let refused = plan.refusals().count();
    if refused > 0 {
        return Err(Failure::with_hint(
            format!("refused: {refused} object(s) of the plan cannot be applied safely; nothing was changed"),
            "each refused line above says why and what to do instead",
        ));
    }
    if plan.is_noop() {
        out("CRDs: nothing to do, every object is already installed as the bundles have it");
        return Ok(bundles.clone());
    }

    // Permissions for what this plan writes besides CRD create/patch.
    apply::require_permissions(conn, &crd_plan.extra_permissions(), "install the gateway CRDs").await?;

    // Server-side dry run of every write first: nothing is written unless the server accepts all.
    let started = Instant::now();
    crds::write(conn, &crd_plan, true)
        .await
        .map_err(|f| Failure { message: format!("{}; nothing was changed", f.message), hint: f.hint })?;
    if args.dry_run {
        out("dry run: the API server accepted every change (server-side dry run)");
        return Ok(bundles.clone());
    }
    crds::write(conn, &crd_plan, false).await?;
    let applied = started.elapsed();
    let names = crd_plan.established_names();
    let waited = apply::wait_established(conn, &names, args.timeout).await?;
    out(format!(
        "CRDs: {} change(s) applied in {:.1}s; {} CRD(s) Established after {:.1}s more",
        crd_plan.writes().count(),
        applied.as_secs_f64(),
        names.len(),
        waited.as_secs_f64()
    ));
    Ok(bundles.clone())
}

// ---------------------------------------------------------------------------------------------
// control plane

async fn install_control_plane(
    conn: &Connection,
    global: &GlobalFlags,
    args: &GatewayInstallArgs,
    p: &'static Provider,
    version: &str,
    snap: &Snapshot,
) -> Result<()> {
    if p.id == ProviderId::Gke {
        // Managed: nothing to install; verify() checks the classes and the InferencePool CRD.
        out("Control plane (GKE Gateway): managed by GKE, nothing to install");
        return Ok(());
    }
    let steps = helm::steps(p, version, args.chart_source.as_deref())?;
    let helm_path = helm::find_helm(args.helm.as_deref());
    let releases = match &helm_path {
        Some(path) => Helm::new(path.clone(), global).list().await?,
        None => Vec::new(),
    };
    let ours = helm::provider_releases(p, &releases);
    let deployments = controller_deployments(snap, p);
    if !ours.is_empty() || !deployments.is_empty() {
        let found = describe_existing(p, &ours, &deployments);
        if !args.upgrade {
            out(format!(
                "Control plane ({}): already installed ({found}); left as is (rerun with --upgrade to move it to {version})",
                p.name
            ));
            return apply::wait_control_plane(conn, p, args.timeout).await.map(|took| ready_line(p, took));
        }
        if ours.is_empty() {
            return Err(Failure::with_hint(
                format!("{} is installed without helm ({found}): installing it again through helm would put a second control plane beside it", p.name),
                "upgrade it with the tool that installed it, or remove it first",
            ));
        }
        out(format!("Control plane ({}): upgrading {found} to {version}", p.name));
    }
    let Some(helm_path) = helm_path else {
        let lines = helm::command_lines(p, &steps);
        return Err(Failure::with_hint(
            format!("helm not found on PATH: cannot install {}", p.name),
            format!("install helm or pass --helm PATH, or run these commands yourself:\n  {}", lines.join("\n  ")),
        ));
    };
    let helm = Helm::new(helm_path, global);
    for step in &steps {
        eprintln!("running: {}", step.command_line());
        helm.install(step).await?;
    }
    out(format!(
        "Control plane ({}): installed {} in namespace {}",
        p.name,
        steps.iter().map(|s| format!("{} {version}", s.release)).collect::<Vec<_>>().join(", "),
        p.namespace
    ));
    apply::wait_control_plane(conn, p, args.timeout).await.map(|took| ready_line(p, took))
}

fn ready_line(p: &Provider, took: Duration) {
    out(format!(
        "Control plane ({}): controller available and GatewayClass {} Accepted after {:.1}s",
        p.name,
        p.class_names.first().copied().unwrap_or(""),
        took.as_secs_f64()
    ));
}

fn describe_existing(p: &Provider, releases: &[&helm::HelmRelease], deployments: &[&Deployment]) -> String {
    let mut parts: Vec<String> =
        releases.iter().map(|r| format!("helm release {} {} in {}", r.name, r.chart_version(), r.namespace)).collect();
    for d in deployments {
        let version = deployment_version(d, p).unwrap_or_else(|| "unknown version".into());
        parts.push(format!(
            "Deployment {}/{} at {version}",
            d.metadata.namespace.as_deref().unwrap_or(""),
            d.metadata.name.as_deref().unwrap_or("")
        ));
    }
    parts.join(", ")
}

fn deployment_version(d: &Deployment, p: &Provider) -> Option<String> {
    let c = controller_container(d, p)?;
    image_version(c.image.as_deref()?).map(|(tag, _)| tag)
}

// ---------------------------------------------------------------------------------------------
// verify

/// The checks the prerequisite asks users to run by hand, through doctor's code.
async fn verify(conn: &Connection, profile: &Profile, provider: Option<&Provider>, style: Style) -> Result<ExitCode> {
    let snap = collect_cluster(conn, None).await?;
    let report = diagnose(&snap, profile, conn.context.clone());
    let mut codes = vec![
        ("LLMD-CRD-001", "Gateway API kinds are served"),
        ("LLMD-CRD-003", "InferencePool v1 is served"),
        ("LLMD-CRD-005", "InferenceObjective is served, or no endpoint picker older than v1.3 needs it"),
    ];
    match provider.map(|p| p.id) {
        Some(ProviderId::Gke) => {
            codes.push(("LLMD-GWC-001", "A GatewayClass of an InferencePool-capable provider exists"));
            codes.push(("LLMD-GWC-007", "GKE is new enough for InferencePool v1"));
        }
        Some(_) => codes.push(("LLMD-GWC-003", "GatewayClasses are Accepted")),
        None => {}
    }
    let mut text = String::from("Verify:\n");
    let mut failed = false;
    for (code, title) in codes {
        let Some(result) = report.checks.iter().find(|c| c.code == code) else { continue };
        let findings: Vec<_> = report.findings.iter().filter(|f| f.code == code).collect();
        let (symbol, bad) = match result.status {
            CheckStatus::Pass => (style.ok(PASS), false),
            CheckStatus::Warn => (style.warn(WARN), false),
            CheckStatus::Fail => (style.bad(FAIL), true),
            CheckStatus::Skip => (style.dim("-"), false),
        };
        failed |= bad;
        text.push_str(&format!("  {symbol} {title}  [{code}]\n"));
        if let Some(reason) = &result.reason {
            text.push_str(&format!("      skipped: {reason}\n"));
        }
        for f in findings {
            text.push_str(&format!("      {}\n", f.message));
            if !f.hint.is_empty() {
                text.push_str(&format!("      hint: {}\n", f.hint));
            }
        }
    }
    print_stdout(&text);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

// ---------------------------------------------------------------------------------------------
// status

/// One CRD bundle as installed.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct BundleStatus {
    pub bundle: String,
    /// Bundle versions found on its CRDs (one unless mixed).
    pub versions: Vec<String>,
    /// Channels found (Gateway API only).
    pub channels: Vec<String>,
    pub crds: Vec<String>,
}

/// One gateway provider found.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ProviderStatus {
    pub provider: String,
    pub namespace: String,
    pub version: Option<String>,
    /// "on", "off" or "unknown".
    pub inference: String,
    pub deployments: Vec<String>,
    pub helm_releases: Vec<String>,
}

/// One GatewayClass.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ClassStatus {
    pub name: String,
    pub controller: String,
    pub provider: Option<String>,
    /// Accepted condition status ("True", "False", "Unknown"), "" when absent.
    pub accepted: String,
    pub reason: String,
}

/// What `gateway status` shows.
#[derive(Debug, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct GatewayStatus {
    pub context: String,
    pub bundles: Vec<BundleStatus>,
    pub providers: Vec<ProviderStatus>,
    pub gateway_classes: Vec<ClassStatus>,
}

/// Build the status from a snapshot and helm's releases (pure).
pub fn gateway_status(snap: &Snapshot, releases: &[helm::HelmRelease], context: String) -> GatewayStatus {
    let mut bundles = Vec::new();
    for (kind, key) in
        [(BundleKind::GatewayApi, annotations::GATEWAY_BUNDLE), (BundleKind::Gaie, annotations::INFERENCE_BUNDLE)]
    {
        let crds: Vec<_> =
            snap.crds.items().iter().filter(|c| BundleKind::of_group(&c.spec.group) == Some(kind)).collect();
        if crds.is_empty() {
            continue;
        }
        let mut versions: Vec<String> =
            crds.iter().map(|c| c.annotation(key).unwrap_or("unannotated (v0.x)").to_string()).collect();
        versions.sort();
        versions.dedup();
        let mut channels: Vec<String> =
            crds.iter().filter_map(|c| c.annotation(annotations::GATEWAY_CHANNEL)).map(str::to_string).collect();
        channels.sort();
        channels.dedup();
        bundles.push(BundleStatus {
            bundle: kind.label().into(),
            versions,
            channels,
            crds: crds.iter().map(|c| c.metadata.name.clone()).collect(),
        });
    }
    let mut providers = Vec::new();
    for p in PROVIDERS {
        let deployments = controller_deployments(snap, p);
        let rels = helm::provider_releases(p, releases);
        let has_class = snap.gateway_classes.items().iter().any(|c| provider_of_class(c).is_some_and(|q| q.id == p.id));
        if deployments.is_empty() && rels.is_empty() && !has_class {
            continue;
        }
        let version = deployments
            .iter()
            .find_map(|d| deployment_version(d, p))
            .or_else(|| rels.last().map(|r| r.chart_version().to_string()));
        let states: Vec<Option<bool>> = deployments.iter().map(|d| switch_state(d, p)).collect();
        let builtin_on = matches!(p.inference_switch, InferenceSwitch::Builtin) && has_class;
        let inference = if builtin_on || states.contains(&Some(true)) {
            "on"
        } else if !states.is_empty() && states.iter().all(|s| *s == Some(false)) {
            "off"
        } else {
            "unknown"
        };
        providers.push(ProviderStatus {
            provider: p.name.into(),
            namespace: deployments
                .first()
                .and_then(|d| d.metadata.namespace.clone())
                .unwrap_or_else(|| p.namespace.to_string()),
            version,
            inference: inference.into(),
            deployments: deployments
                .iter()
                .map(|d| {
                    format!(
                        "{}/{}",
                        d.metadata.namespace.as_deref().unwrap_or(""),
                        d.metadata.name.as_deref().unwrap_or("")
                    )
                })
                .collect(),
            helm_releases: rels.iter().map(|r| format!("{}/{} ({})", r.namespace, r.name, r.chart)).collect(),
        });
    }
    let gateway_classes = snap
        .gateway_classes
        .items()
        .iter()
        .map(|c| {
            let accepted = condition(&c.status.conditions, "Accepted");
            ClassStatus {
                name: c.metadata.name.clone(),
                controller: c.spec.controller_name.clone(),
                provider: provider_of_class(c).map(|p| p.name.to_string()),
                accepted: accepted.map(|a| a.status.clone()).unwrap_or_default(),
                reason: accepted.map(|a| a.reason.clone()).unwrap_or_default(),
            }
        })
        .collect();
    GatewayStatus { context, bundles, providers, gateway_classes }
}

/// The status as a table.
pub fn render_status(s: &GatewayStatus, style: Style) -> String {
    let mut t = String::from("CRD bundles:\n");
    if s.bundles.is_empty() {
        t.push_str("  none installed (kubectl llmd gateway install)\n");
    }
    for b in &s.bundles {
        let mixed = if b.versions.len() > 1 { style.warn(" (mixed versions)") } else { String::new() };
        let channel = if b.channels.is_empty() { String::new() } else { format!(", channel {}", b.channels.join("+")) };
        t.push_str(&format!("  {:<12} {}{channel}{mixed}  ({} CRDs)\n", b.bundle, b.versions.join(", "), b.crds.len()));
    }
    t.push_str("Providers:\n");
    if s.providers.is_empty() {
        t.push_str("  none found (kubectl llmd gateway install --provider istio|agentgateway|kgateway|gke)\n");
    }
    for p in &s.providers {
        let version = p.version.as_deref().unwrap_or("version unknown");
        let helm =
            if p.helm_releases.is_empty() { String::new() } else { format!(", helm: {}", p.helm_releases.join(", ")) };
        t.push_str(&format!("  {:<12} {version} in {}, inference {}{helm}\n", p.provider, p.namespace, p.inference));
    }
    t.push_str("GatewayClasses:\n");
    if s.gateway_classes.is_empty() {
        t.push_str("  none\n");
    }
    for c in &s.gateway_classes {
        let symbol = match c.accepted.as_str() {
            "True" => style.ok(PASS),
            "False" => style.bad(FAIL),
            _ => style.warn(WARN),
        };
        let state = if c.accepted.is_empty() {
            "no Accepted condition".to_string()
        } else {
            format!("Accepted={} {}", c.accepted, c.reason)
        };
        t.push_str(&format!("  {symbol} {:<24} {:<40} {}\n", c.name, c.controller, state.trim()));
    }
    t
}

async fn status(global: &GlobalFlags, args: &GatewayStatusArgs) -> Result<ExitCode> {
    let conn = connect(global).await?;
    let snap = collect_cluster(&conn, None).await?;
    let releases = match helm::find_helm(args.helm.as_deref()) {
        Some(path) => Helm::new(path, global).list().await.unwrap_or_else(|f| {
            eprintln!("warning: helm releases not listed: {}", f.message);
            Vec::new()
        }),
        None => Vec::new(),
    };
    let s = gateway_status(&snap, &releases, conn.context.clone());
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&s)),
        OutputFormat::Yaml => print_stdout(&to_yaml(&s)),
        _ => print_stdout(&render_status(&s, Style::detect(global.no_color))),
    }
    Ok(ExitCode::SUCCESS)
}

// ---------------------------------------------------------------------------------------------
// uninstall

fn managed_by_us(obj: &Value) -> bool {
    obj.pointer("/metadata/managedFields")
        .and_then(Value::as_array)
        .is_some_and(|m| m.iter().any(|f| f.get("manager").and_then(Value::as_str) == Some(FIELD_MANAGER)))
}

async fn uninstall(global: &GlobalFlags, args: &GatewayUninstallArgs) -> Result<ExitCode> {
    let conn = connect(global).await?;
    let mut needed = Vec::new();
    if !args.control_plane_only {
        needed.push(Permission::cluster("list", APIEXT, CRD_RESOURCE));
        needed.push(Permission::cluster("delete", APIEXT, CRD_RESOURCE));
    }
    apply::require_permissions(&conn, &needed, "uninstall the gateway prerequisites").await?;

    // Decide about the CRDs first, so a refusal changes nothing (not even the control plane).
    let mut crds: Vec<Value> = Vec::new();
    let mut policies: Vec<Value> = Vec::new();
    if !args.control_plane_only {
        crds = apply::list_crds(&conn)
            .await?
            .into_iter()
            .filter(|c| {
                c.pointer("/spec/group").and_then(Value::as_str).and_then(BundleKind::of_group).is_some()
                    && managed_by_us(c)
            })
            .collect();
        let mut in_use = Vec::new();
        for crd in &crds {
            let n = apply::count_objects(&conn, crd).await?;
            if n > 0 {
                let kind = crd.pointer("/spec/names/kind").and_then(Value::as_str).unwrap_or("");
                let name = crd.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
                in_use.push(format!("{n} {kind} ({name})"));
            }
        }
        if !in_use.is_empty() && !args.force {
            return Err(Failure::with_hint(
                format!("refused: CRDs still hold custom resources that would be deleted with them: {}; nothing was changed", in_use.join(", ")),
                "delete or back up those objects first, or rerun with --force to delete them with their CRDs",
            ));
        }
        let vap = serde_json::json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicy", "metadata": {"name": SAFE_UPGRADES_POLICY}});
        let binding = serde_json::json!({"apiVersion": "admissionregistration.k8s.io/v1", "kind": "ValidatingAdmissionPolicyBinding", "metadata": {"name": SAFE_UPGRADES_POLICY}});
        policies = apply::get_objects(&conn, &[&binding, &vap]).await?.into_iter().filter(managed_by_us).collect();
    }

    if !args.crds_only {
        let targets: Vec<&Provider> = match args.provider {
            Some(p) => vec![provider_of(p)],
            None => PROVIDERS.iter().filter(|p| !p.charts.is_empty()).collect(),
        };
        match helm::find_helm(args.helm.as_deref()) {
            Some(path) => {
                let helm = Helm::new(path, global);
                let releases = helm.list().await?;
                for p in targets {
                    // Reverse install order: the controller before its CRD chart.
                    let mut rels = helm::provider_releases(p, &releases);
                    rels.sort_by_key(|r| std::cmp::Reverse(p.charts.iter().position(|c| c.release == r.name)));
                    for r in rels {
                        if args.dry_run {
                            out(format!("would run: helm uninstall {} --namespace {}", r.name, r.namespace));
                        } else {
                            helm.uninstall(&r.name, &r.namespace).await?;
                            out(format!("removed helm release {}/{} ({})", r.namespace, r.name, r.chart));
                        }
                    }
                }
            }
            None if args.provider.is_some() => {
                let p = targets[0];
                let cmds: Vec<String> = p
                    .charts
                    .iter()
                    .rev()
                    .map(|c| format!("helm uninstall {} --namespace {}", c.release, p.namespace))
                    .collect();
                return Err(Failure::with_hint(
                    format!("helm not found on PATH: cannot remove {}", p.name),
                    format!("install helm or pass --helm PATH, or run: {}", cmds.join(" && ")),
                ));
            }
            None => eprintln!("note: helm not found on PATH: control planes were not looked for"),
        }
    }

    for obj in policies.iter().chain(&crds) {
        let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("");
        let name = obj.pointer("/metadata/name").and_then(Value::as_str).unwrap_or("");
        if args.dry_run {
            apply::delete(&conn, obj, true).await?;
            out(format!("would delete {kind} {name}"));
        } else {
            apply::delete(&conn, obj, false).await?;
            out(format!("deleted {kind} {name}"));
        }
    }
    if !args.control_plane_only && crds.is_empty() && policies.is_empty() {
        out(format!("CRDs: none installed by {FIELD_MANAGER}; nothing to remove"));
    }
    if args.dry_run {
        out("dry run: nothing was changed");
    }
    Ok(ExitCode::SUCCESS)
}
