//! `kubectl llmd gateway install | uninstall | status`: the llm-d gateway prerequisite (Gateway API
//! and Inference Extension CRDs, and a gateway control plane) in one command that shows its plan,
//! refuses what would fail or lose data, and verifies the result with doctor's checks.

use crate::catalog::providers::{provider, InferenceSwitch, Provider, ProviderId, PROVIDERS};
use crate::catalog::BundleKind;
use crate::catalog::{annotations, Profile, SAFE_UPGRADES_POLICY};
use crate::checks::diagnose;
use crate::checks::gatewayclasses::{
    controller_container, controller_deployments, image_version, provider_arg, provider_of_class, switch_state,
};
use crate::cli::{
    GatewayCommand, GatewayInstallArgs, GatewayStatusArgs, GatewayUninstallArgs, GlobalFlags, OutputFormat, ProviderArg,
};
use crate::cluster::write::{Permission, FIELD_MANAGER};
use crate::cluster::{connect, Connection};
use crate::collect::cluster::collect_cluster;
use crate::collect::kinds;
use crate::error::{Failure, Result};
use crate::findings::CheckStatus;
use crate::install::apply;
use crate::install::crds::{self, CrdPlan};
use crate::install::helm::{self, Helm};
use crate::install::report::{
    self, BundleRead, ControlPlaneReport, CrdReport, InstallReport, Outcome, ReleaseAction, ReleaseReport, Removal,
    UninstallReport, VerifyFinding, VerifyItem,
};
use crate::install::source::{Bundle, CrdSource};
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

/// The profile's version of a provider's control plane (the catalog's pin for providers outside
/// llm-d's helmfiles).
fn profile_version(profile: &Profile, p: &Provider) -> String {
    profile.provider_version(p.id).unwrap_or_default().to_string()
}

/// Versions: the flags, else the profile (whose default honours the revision variables).
fn target_profile(args: &GatewayInstallArgs) -> Result<Profile> {
    let mut profile = crate::catalog::profile_from_env(args.profile.as_deref())?;
    if let Some(v) = &args.gateway_api_version {
        profile.gateway_api = v.clone();
    }
    if let Some(v) = &args.inference_extension_version {
        profile.inference_extension = v.clone();
    }
    Ok(profile)
}

fn out(line: impl AsRef<str>) -> Result<()> {
    print_stdout(&format!("{}\n", line.as_ref()))
}

/// CRDs, as the kinds table names them.
const CRD_RESOURCE: &str = kinds::CRDS.plural;
const APIEXT: &str = kinds::CRDS.group;

// ---------------------------------------------------------------------------------------------
// install

/// Where progress lines go: stdout for the text output, stderr when stdout carries a JSON/YAML document.
#[derive(Clone, Copy)]
struct Lines {
    structured: bool,
}

impl Lines {
    fn of(global: &GlobalFlags) -> Self {
        Lines { structured: matches!(global.output, OutputFormat::Json | OutputFormat::Yaml) }
    }

    fn say(self, line: impl AsRef<str>) -> Result<()> {
        if self.structured {
            eprintln!("{}", line.as_ref());
            Ok(())
        } else {
            out(line)
        }
    }

    /// Print a document (JSON/YAML mode only).
    fn document<T: Serialize>(self, global: &GlobalFlags, doc: &T) -> Result<()> {
        match global.output {
            OutputFormat::Json => print_stdout(&to_json(doc)),
            OutputFormat::Yaml => print_stdout(&to_yaml(doc)),
            _ => Ok(()),
        }
    }
}

async fn install(global: &GlobalFlags, args: &GatewayInstallArgs) -> Result<ExitCode> {
    let lines = Lines::of(global);
    let mut rep = InstallReport { kind: report::INSTALL_KIND, dry_run: args.dry_run, ..Default::default() };
    let result = install_with(global, args, lines, &mut rep).await;
    if lines.structured {
        match &result {
            Ok(code) if *code != ExitCode::SUCCESS => rep.outcome = Outcome::VerificationFailed,
            Ok(_) => {}
            Err(f) => {
                if rep.outcome != Outcome::Refused {
                    rep.outcome = Outcome::Failed;
                }
                rep.error = Some(f.into());
            }
        }
        lines.document(global, &rep)?;
    }
    result
}

async fn install_with(
    global: &GlobalFlags,
    args: &GatewayInstallArgs,
    lines: Lines,
    rep: &mut InstallReport,
) -> Result<ExitCode> {
    let mut profile = target_profile(args)?;
    let provider = args.provider.map(provider_of);
    let gke = provider.is_some_and(|p| p.id == ProviderId::Gke);
    let with_control_plane = provider.is_some() && !args.crds_only;
    let version = provider.map(|p| args.provider_version.clone().unwrap_or_else(|| profile_version(&profile, p)));
    rep.profile = Some(profile.clone());
    rep.provider = provider.map(|p| provider_arg(p.id).to_string());

    if args.print {
        let Some(p) = provider.filter(|p| !p.charts.is_empty()) else {
            return Err(Failure::with_hint(
                "--print prints the helm commands of a control plane",
                "add --provider istio, agentgateway, kgateway, nginx-gateway-fabric or envoy-ai-gateway",
            ));
        };
        let v = version.as_deref().unwrap_or("");
        let steps = helm::steps(p, v, args.chart_source.as_deref())?;
        let commands = helm::command_lines(p, &steps);
        rep.outcome = Outcome::Printed;
        rep.control_plane = Some(ControlPlaneReport {
            provider: p.name.into(),
            version: v.into(),
            releases: steps.iter().map(|s| ReleaseReport::planned(s, None, ReleaseAction::Show)).collect(),
            rbac: helm::rbac_command_lines(p),
            commands: commands.clone(),
            ..Default::default()
        });
        if !lines.structured {
            for line in commands {
                out(line)?;
            }
        }
        return Ok(ExitCode::SUCCESS);
    }

    let conn = connect(&global.into()).await?;
    rep.context = conn.context.clone();
    let style = Style::detect(global.no_color);
    // GKE manages its CRDs (Gateway API with the cluster's Gateway API channel, InferencePool built in
    // from 1.34.0-gke.1626000) and its controller: nothing is written there.
    let with_crds = !args.control_plane_only && !gke;
    let helm_control_plane = with_control_plane && provider.is_some_and(|p| !p.charts.is_empty());
    let mut needed = Vec::new();
    if with_crds {
        for verb in ["list", "create", "patch"] {
            needed.push(Permission::cluster(verb, APIEXT, CRD_RESOURCE));
        }
    }
    if helm_control_plane {
        needed.push(Permission::cluster("create", "", "namespaces"));
        needed.push(Permission::cluster("create", "rbac.authorization.k8s.io", "clusterroles"));
        needed.push(Permission::cluster("create", "rbac.authorization.k8s.io", "clusterrolebindings"));
    }
    apply::require_permissions(&conn, &needed, "install the gateway prerequisites").await?;

    let snap = collect_cluster(&conn, None).await?;
    if with_crds {
        let bundles = install_crds(&conn, args, &profile, &snap, lines, rep).await?;
        // Verify against what was installed (files carry their own versions).
        for b in &bundles {
            match b.kind {
                BundleKind::GatewayApi => profile.gateway_api = b.git_ref.clone(),
                BundleKind::Gaie => profile.inference_extension = b.git_ref.clone(),
            }
        }
    } else {
        let why = if gke {
            "GKE manages the Gateway API CRDs and, from 1.34.0-gke.1626000, InferencePool: nothing installed"
        } else {
            "--control-plane-only: CRDs left as they are"
        };
        lines.say(format!("CRDs: {why}"))?;
        rep.crds = Some(CrdReport { skipped: Some(why.into()), ..Default::default() });
    }
    if let (true, Some(p), Some(v)) = (with_control_plane, provider, &version) {
        install_control_plane(&conn, global, args, p, v, &snap, lines, rep).await?;
    }
    if args.dry_run {
        lines.say("dry run: nothing was changed")?;
        rep.outcome = Outcome::DryRun;
        return Ok(ExitCode::SUCCESS);
    }
    let verify_provider = if with_control_plane { provider } else { None };
    let snap = collect_cluster(&conn, None).await?;
    rep.verification = verification(&snap, &profile, verify_provider, conn.context.clone());
    if !lines.structured {
        print_stdout(&render_verification(&rep.verification, style))?;
    }
    let failed = rep.verification.iter().any(|v| v.status == CheckStatus::Fail);
    Ok(if failed { ExitCode::from(1) } else { ExitCode::SUCCESS })
}

/// Read the bundles, plan, refuse or apply. Returns the bundles installed (or planned).
async fn install_crds(
    conn: &Connection,
    args: &GatewayInstallArgs,
    profile: &Profile,
    snap: &Snapshot,
    lines: Lines,
    rep: &mut InstallReport,
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
    lines.say(crd_plan.render().trim_end())?;
    let CrdPlan { bundles, plan, .. } = &crd_plan;
    let refused = plan.refusals().count();
    rep.crds = Some(CrdReport {
        bundles: bundles.iter().map(BundleRead::from).collect(),
        plan: plan.items.clone(),
        refused,
        writes: crd_plan.writes().count(),
        ..Default::default()
    });

    if refused > 0 {
        rep.outcome = Outcome::Refused;
        return Err(Failure::with_hint(
            format!("refused: {refused} object(s) of the plan cannot be applied safely; nothing was changed"),
            "each refused line of the plan says why and what to do instead",
        ));
    }
    if plan.is_noop() {
        lines.say("CRDs: nothing to do, every object is already installed as the bundles have it")?;
        return Ok(bundles.clone());
    }

    // Permissions for what this plan writes besides CRD create/patch.
    apply::require_permissions(conn, &crd_plan.extra_permissions(), "install the gateway CRDs").await?;

    // Server-side dry run of every write first: nothing is written unless the server accepts all.
    let started = Instant::now();
    crds::write(conn, &crd_plan, true)
        .await
        .map_err(|f| Failure { message: format!("{}; nothing was changed", f.message), ..f })?;
    if args.dry_run {
        lines.say("dry run: the API server accepted every change (server-side dry run)")?;
        return Ok(bundles.clone());
    }
    crds::write(conn, &crd_plan, false).await?;
    let applied = started.elapsed();
    let names = crd_plan.established_names();
    let waited = apply::wait_established(conn, &names, args.timeout).await?;
    if let Some(c) = rep.crds.as_mut() {
        c.applied = true;
        c.applied_seconds = Some(applied.as_secs_f64());
        c.established_seconds = Some(waited.as_secs_f64());
    }
    lines.say(format!(
        "CRDs: {} change(s) applied in {:.1}s; {} CRD(s) Established after {:.1}s more",
        crd_plan.writes().count(),
        applied.as_secs_f64(),
        names.len(),
        waited.as_secs_f64()
    ))?;
    Ok(bundles.clone())
}

// ---------------------------------------------------------------------------------------------
// control plane

#[allow(clippy::too_many_arguments)]
async fn install_control_plane(
    conn: &Connection,
    global: &GlobalFlags,
    args: &GatewayInstallArgs,
    p: &'static Provider,
    version: &str,
    snap: &Snapshot,
    lines: Lines,
    rep: &mut InstallReport,
) -> Result<()> {
    if p.id == ProviderId::Gke {
        // Managed: nothing to install; the verification checks the classes, the version and the CRDs.
        let steps = report::gke_manual_steps();
        lines.say("Control plane (GKE Gateway): managed by GKE, nothing installed. What only GKE can do:")?;
        for s in &steps {
            lines.say(format!("  - {s}"))?;
        }
        rep.control_plane = Some(ControlPlaneReport {
            provider: p.name.into(),
            version: p.min_inference_version.into(),
            manual_steps: steps,
            ..Default::default()
        });
        return Ok(());
    }
    let steps = helm::steps(p, version, args.chart_source.as_deref())?;
    let helm_path = helm::find_helm(args.helm.as_deref());
    let releases = match &helm_path {
        Some(path) => Helm::new(path.clone(), &global.into()).list().await?,
        None => Vec::new(),
    };
    let ours = helm::provider_releases(p, &releases);
    let deployments = controller_deployments(snap, p);
    let installed_of = |s: &helm::HelmStep| {
        ours.iter().find(|r| r.name == s.release && r.namespace == s.namespace).map(|r| r.chart_version().to_string())
    };
    let mut cp = ControlPlaneReport {
        provider: p.name.into(),
        version: version.into(),
        commands: helm::command_lines(p, &steps),
        rbac: helm::rbac_command_lines(p),
        ..Default::default()
    };
    let existing = !ours.is_empty() || !deployments.is_empty();
    if existing {
        cp.existing = describe_existing(p, &ours, &deployments);
    }
    let action = |s: &helm::HelmStep| match installed_of(s) {
        _ if args.dry_run => ReleaseAction::Show,
        Some(_) => ReleaseAction::Upgrade,
        None => ReleaseAction::Install,
    };
    cp.releases = steps.iter().map(|s| ReleaseReport::planned(s, installed_of(s), action(s))).collect();
    if existing {
        let found = cp.existing.join(", ");
        if !args.upgrade {
            for r in &mut cp.releases {
                r.action = ReleaseAction::Keep;
            }
            rep.control_plane = Some(cp);
            lines.say(format!(
                "Control plane ({}): already installed ({found}); left as is (rerun with --upgrade to move it to {version})",
                p.name
            ))?;
            if args.dry_run {
                return Ok(());
            }
            return wait_ready(conn, p, args.timeout, lines, rep).await;
        }
        if ours.is_empty() {
            rep.control_plane = Some(cp);
            rep.outcome = Outcome::Refused;
            return Err(Failure::with_hint(
                format!("refused: {} is installed without helm ({found}): installing it again through helm would put a second control plane beside it; nothing was changed", p.name),
                "upgrade it with the tool that installed it, or remove it first",
            ));
        }
        let back = helm::downgrades(&ours, &steps);
        if !back.is_empty() {
            for r in &mut cp.releases {
                let newer = r.installed.as_deref().and_then(crate::catalog::parse_version);
                if newer.zip(crate::catalog::parse_version(&r.version)).is_some_and(|(h, w)| w < h) {
                    r.action = ReleaseAction::RefusedDowngrade;
                }
            }
            rep.control_plane = Some(cp);
            rep.outcome = Outcome::Refused;
            return Err(Failure::with_hint(
                format!("refused: --upgrade would move {} back ({}); nothing was changed", p.name, back.join(", ")),
                format!(
                    "a control plane is never downgraded in place: keep it (rerun without --upgrade), pass --provider-version {} or newer, or uninstall it first (kubectl llmd gateway uninstall --provider {} --control-plane-only)",
                    ours.iter().map(|r| r.chart_version()).max_by_key(|v| crate::catalog::parse_version(v)).unwrap_or(""),
                    provider_arg(p.id)
                ),
            ));
        }
        lines.say(format!("Control plane ({}): upgrading {found} to {version}", p.name))?;
    }
    if args.dry_run {
        lines.say(format!("Control plane ({}): would run", p.name))?;
        for line in &cp.commands {
            lines.say(format!("  {line}"))?;
        }
        rep.control_plane = Some(cp);
        return Ok(());
    }
    let Some(helm_path) = helm_path else {
        let cmds = cp.commands.clone();
        rep.control_plane = Some(cp);
        return Err(Failure::with_hint(
            format!("helm not found on PATH: cannot install {}", p.name),
            format!("install helm or pass --helm PATH, or run these commands yourself:\n  {}", cmds.join("\n  ")),
        ));
    };
    let helm = Helm::new(helm_path, &global.into());
    for (i, step) in steps.iter().enumerate() {
        eprintln!("running: {}", step.command_line());
        let ran = helm.install(step).await;
        if ran.is_err() {
            rep.control_plane = Some(cp);
            return ran;
        }
        cp.releases[i].done = true;
    }
    let granted = grant_rbac(conn, p).await;
    rep.control_plane = Some(cp);
    granted?;
    let one_namespace = steps.iter().all(|s| s.namespace == p.namespace);
    let installed: Vec<String> = steps
        .iter()
        .map(|s| {
            if one_namespace {
                format!("{} {}", s.release, s.version)
            } else {
                format!("{} {} in {}", s.release, s.version, s.namespace)
            }
        })
        .collect();
    let where_ = if one_namespace { format!(" in namespace {}", p.namespace) } else { String::new() };
    lines.say(format!("Control plane ({}): installed {}{where_}", p.name, installed.join(", ")))?;
    wait_ready(conn, p, args.timeout, lines, rep).await
}

/// The provider's extra RBAC (Envoy Gateway reading InferencePools), server-side applied after a dry run.
async fn grant_rbac(conn: &Connection, p: &Provider) -> Result<()> {
    for r in p.extra_rbac {
        let (resource, group) = r.resource.split_once('.').unwrap_or((r.resource, ""));
        let (sa_ns, sa_name) = r.service_account.split_once(':').unwrap_or(("", r.service_account));
        let role = serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole",
            "metadata": {"name": r.name},
            "rules": [{"apiGroups": [group], "resources": [resource], "verbs": r.verbs}],
        });
        let binding = serde_json::json!({
            "apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding",
            "metadata": {"name": r.name},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": r.name},
            "subjects": [{"kind": "ServiceAccount", "name": sa_name, "namespace": sa_ns}],
        });
        for obj in [&role, &binding] {
            apply::apply(conn, obj, None, true).await?;
            apply::apply(conn, obj, None, false).await?;
        }
        eprintln!("granted {} on {} to ServiceAccount {}", r.verbs.join(","), r.resource, r.service_account);
    }
    Ok(())
}

fn describe_existing(p: &Provider, releases: &[&helm::HelmRelease], deployments: &[&Deployment]) -> Vec<String> {
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
    parts
}

fn deployment_version(d: &Deployment, p: &Provider) -> Option<String> {
    let c = controller_container(d, p)?;
    image_version(c.image.as_deref()?).map(|(tag, _)| tag)
}

/// Wait for the controller (the shared `apply::wait_control_plane`), and say how long it took.
async fn wait_ready(
    conn: &Connection,
    p: &Provider,
    timeout: Duration,
    lines: Lines,
    rep: &mut InstallReport,
) -> Result<()> {
    let took = apply::wait_control_plane(conn, p, timeout).await?.as_secs_f64();
    if let Some(cp) = rep.control_plane.as_mut() {
        cp.ready_seconds = Some(took);
    }
    lines.say(match p.class_names.first() {
        Some(c) => {
            format!("Control plane ({}): controller available and GatewayClass {c} Accepted after {took:.1}s", p.name)
        }
        None => format!("Control plane ({}): controller available after {took:.1}s", p.name),
    })?;
    Ok(())
}

// ---------------------------------------------------------------------------------------------
// verify

/// The checks the prerequisite asks users to run by hand, through doctor's code (pure).
fn verification(snap: &Snapshot, profile: &Profile, provider: Option<&Provider>, context: String) -> Vec<VerifyItem> {
    let report = diagnose(snap, profile, context);
    let mut codes = vec![
        ("LLMD-CRD-001", "Gateway API kinds are served"),
        ("LLMD-CRD-003", "InferencePool v1 is served"),
        ("LLMD-CRD-005", "InferenceObjective is served, or no endpoint picker older than v1.3 needs it"),
    ];
    let mut items = Vec::new();
    match provider.map(|p| p.id) {
        Some(ProviderId::Gke) => {
            items.push(report::gke_class_check(snap));
            codes.push(("LLMD-GWC-007", "GKE is new enough for InferencePool v1"));
        }
        Some(_) => {
            codes.push(("LLMD-GWC-003", "GatewayClasses are Accepted"));
            codes.push(("LLMD-GWC-005", "Gateway controllers have InferencePool support switched on"));
        }
        None => {}
    }
    let mut doctor: Vec<VerifyItem> = codes
        .into_iter()
        .filter_map(|(code, title)| {
            let result = report.checks.iter().find(|c| c.code == code)?;
            Some(VerifyItem {
                code: code.into(),
                title: title.into(),
                status: result.status,
                skipped: result.reason.clone(),
                findings: report
                    .findings
                    .iter()
                    .filter(|f| f.code == code)
                    .map(|f| VerifyFinding { message: f.message.clone(), hint: f.hint.clone() })
                    .collect(),
            })
        })
        .collect();
    doctor.append(&mut items);
    doctor
}

fn render_verification(items: &[VerifyItem], style: Style) -> String {
    let mut text = String::from("Verify:\n");
    for item in items {
        let symbol = match item.status {
            CheckStatus::Pass => style.ok(PASS),
            CheckStatus::Warn => style.warn(WARN),
            CheckStatus::Fail => style.bad(FAIL),
            CheckStatus::Skip => style.dim("-"),
        };
        text.push_str(&format!("  {symbol} {}  [{}]\n", item.title, item.code));
        if let Some(reason) = &item.skipped {
            text.push_str(&format!("      skipped: {reason}\n"));
        }
        for f in &item.findings {
            text.push_str(&format!("      {}\n", f.message));
            if !f.hint.is_empty() {
                text.push_str(&format!("      hint: {}\n", f.hint));
            }
        }
    }
    text
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
        t.push_str("  none found (kubectl llmd gateway install --provider istio|agentgateway|kgateway|nginx-gateway-fabric|envoy-ai-gateway|gke)\n");
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
    let conn = connect(&global.into()).await?;
    let snap = collect_cluster(&conn, None).await?;
    let releases = match helm::find_helm(args.helm.as_deref()) {
        Some(path) => Helm::new(path, &global.into()).list().await.unwrap_or_else(|f| {
            eprintln!("warning: helm releases not listed: {}", f.message);
            Vec::new()
        }),
        None => Vec::new(),
    };
    let s = gateway_status(&snap, &releases, conn.context.clone());
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&s))?,
        OutputFormat::Yaml => print_stdout(&to_yaml(&s))?,
        _ => print_stdout(&render_status(&s, Style::detect(global.no_color)))?,
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
    let lines = Lines::of(global);
    let mut rep = UninstallReport { kind: report::UNINSTALL_KIND, dry_run: args.dry_run, ..Default::default() };
    let result = uninstall_with(global, args, lines, &mut rep).await;
    if lines.structured {
        if let Err(f) = &result {
            if rep.outcome != Outcome::Refused {
                rep.outcome = Outcome::Failed;
            }
            rep.error = Some(f.into());
        } else if args.dry_run {
            rep.outcome = Outcome::DryRun;
        }
        lines.document(global, &rep)?;
    }
    result
}

async fn uninstall_with(
    global: &GlobalFlags,
    args: &GatewayUninstallArgs,
    lines: Lines,
    rep: &mut UninstallReport,
) -> Result<ExitCode> {
    let conn = connect(&global.into()).await?;
    rep.context = conn.context.clone();
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
            rep.in_use = in_use.clone();
            rep.outcome = Outcome::Refused;
            return Err(Failure::with_hint(
                format!("refused: CRDs still hold custom resources that would be deleted with them: {}; nothing was changed", in_use.join(", ")),
                "delete or back up those objects first, or rerun with --force to delete them with their CRDs",
            ));
        }
        rep.in_use = in_use;
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
                let helm = Helm::new(path, &global.into());
                let releases = helm.list().await?;
                for p in targets {
                    // Reverse install order: the controller before its CRD chart.
                    let mut rels = helm::provider_releases(p, &releases);
                    rels.sort_by_key(|r| std::cmp::Reverse(p.charts.iter().position(|c| c.release == r.name)));
                    let had_releases = !rels.is_empty();
                    for r in rels {
                        let mut removal = Removal {
                            kind: "HelmRelease".into(),
                            name: r.name.clone(),
                            namespace: r.namespace.clone(),
                            done: false,
                        };
                        if args.dry_run {
                            lines.say(format!("would run: helm uninstall {} --namespace {}", r.name, r.namespace))?;
                        } else {
                            helm.uninstall(&r.name, &r.namespace).await?;
                            removal.done = true;
                            lines.say(format!("removed helm release {}/{} ({})", r.namespace, r.name, r.chart))?;
                        }
                        rep.removals.push(removal);
                    }
                    if had_releases || args.provider.is_some() {
                        remove_rbac(&conn, p, args.dry_run, lines, rep).await?;
                    }
                }
            }
            None if args.provider.is_some() => {
                let p = targets[0];
                let cmds: Vec<String> = p
                    .charts
                    .iter()
                    .rev()
                    .map(|c| format!("helm uninstall {} --namespace {}", c.release, p.chart_namespace(c)))
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
        let mut removal = Removal { kind: kind.into(), name: name.into(), namespace: String::new(), done: false };
        if args.dry_run {
            apply::delete(&conn, obj, true).await?;
            lines.say(format!("would delete {kind} {name}"))?;
        } else {
            apply::delete(&conn, obj, false).await?;
            removal.done = true;
            lines.say(format!("deleted {kind} {name}"))?;
        }
        rep.removals.push(removal);
    }
    if !args.control_plane_only && crds.is_empty() && policies.is_empty() {
        lines.say(format!("CRDs: none installed by {FIELD_MANAGER}; nothing to remove"))?;
    }
    if args.dry_run {
        lines.say("dry run: nothing was changed")?;
    }
    Ok(ExitCode::SUCCESS)
}

/// The provider's extra RBAC, when `kubectl-llmd` granted it (binding first).
async fn remove_rbac(
    conn: &Connection,
    p: &Provider,
    dry_run: bool,
    lines: Lines,
    rep: &mut UninstallReport,
) -> Result<()> {
    for r in p.extra_rbac {
        let binding = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRoleBinding", "metadata": {"name": r.name}});
        let role = serde_json::json!({"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "ClusterRole", "metadata": {"name": r.name}});
        for obj in apply::get_objects(conn, &[&binding, &role]).await?.into_iter().filter(managed_by_us) {
            let kind = obj.get("kind").and_then(Value::as_str).unwrap_or("").to_string();
            apply::delete(conn, &obj, dry_run).await?;
            lines.say(format!("{} {kind} {}", if dry_run { "would delete" } else { "deleted" }, r.name))?;
            rep.removals.push(Removal { kind, name: r.name.into(), namespace: String::new(), done: !dry_run });
        }
    }
    Ok(())
}
