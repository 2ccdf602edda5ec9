//! `kubectl llmd doctor`: collect → checks → report.

use crate::catalog::{resolve_profile, Profile};
use crate::checks::{run_all, CheckContext};
use crate::cli::{DoctorArgs, FailOn, GlobalFlags, OutputFormat};
use crate::cluster::connect;
use crate::collect::{cluster::collect_cluster, offline::collect_files};
use crate::error::{Failure, Result};
use crate::findings::{Report, Severity};
use crate::render::{doctor::render_table, print_stdout, to_json, to_yaml, Style};
use crate::snapshot::Snapshot;
use std::process::ExitCode;
use std::time::Instant;

/// The profile in effect for doctor and gateway commands.
pub fn profile_from(flag: Option<&str>) -> Result<Profile> {
    resolve_profile(flag, &|k| std::env::var(k).ok())
}

/// Collect the snapshot doctor works on: files with -f, else the cluster.
pub async fn collect(global: &GlobalFlags, files: &[std::path::PathBuf]) -> Result<(Snapshot, String)> {
    if !files.is_empty() {
        return Ok((collect_files(files)?, "files".to_string()));
    }
    let conn = connect(global).await?;
    // doctor looks at every namespace unless -n narrows it.
    let ns = if global.all_namespaces { None } else { global.namespace.clone() };
    // collect_cluster reports its requests and time itself (-v).
    let snap = collect_cluster(&conn, ns.as_deref()).await?;
    Ok((snap, conn.context.clone()))
}

/// Build the report from a snapshot (pure).
pub fn diagnose(snapshot: &Snapshot, profile: &Profile, context: String) -> Report {
    let ctx = CheckContext { snapshot, profile };
    let (checks, findings) = run_all(&ctx);
    let label = format!("{} (Gateway API {}, GAIE {})", profile.name, profile.gateway_api, profile.inference_extension);
    Report::new(context, label, checks, findings)
}

/// Exit 1 when a finding reaches the threshold.
pub fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    let threshold = match fail_on {
        FailOn::Error => Some(Severity::Error),
        FailOn::Warning => Some(Severity::Warning),
        FailOn::Info => Some(Severity::Info),
        FailOn::Never => None,
    };
    match (report.worst(), threshold) {
        (Some(w), Some(t)) if w >= t => ExitCode::from(1),
        _ => ExitCode::SUCCESS,
    }
}

/// Print a report in the chosen output format.
pub fn print_report(global: &GlobalFlags, report: &Report) {
    match global.output {
        OutputFormat::Table | OutputFormat::Wide => {
            print_stdout(&render_table(report, Style::detect(global.no_color), global.output == OutputFormat::Wide))
        }
        OutputFormat::Json => print_stdout(&to_json(report)),
        OutputFormat::Yaml => print_stdout(&to_yaml(report)),
    }
}

/// Run doctor.
pub async fn run(global: &GlobalFlags, args: &DoctorArgs) -> Result<ExitCode> {
    if let Some(codes) = &args.fix {
        return crate::fix::run::run(global, args, codes).await;
    }
    if args.yes || args.dry_run {
        return Err(Failure::with_hint("--yes and --dry-run only apply with --fix", "add --fix to repair findings"));
    }
    let profile = profile_from(args.profile.as_deref())?;
    let (snapshot, context) = collect(global, &args.files).await?;
    let started = Instant::now();
    let report = diagnose(&snapshot, &profile, context);
    print_report(global, &report);
    tracing::info!(
        "analysed in {:.0} ms ({} checks and rendering)",
        started.elapsed().as_secs_f64() * 1000.0,
        report.checks.len()
    );
    // Every authenticated user may read the server version: checks reading nothing else passing
    // does not mean doctor could look at the cluster.
    if report.nothing_checked() {
        let reason = report.checks.iter().find_map(|c| c.reason.clone()).unwrap_or_default();
        return Err(Failure::with_hint(
            format!("doctor could not run a single check ({reason})"),
            "use a context whose user may list CRDs, Gateway API and InferencePool objects (ClusterRole `view` or wider)",
        ));
    }
    Ok(exit_code(&report, args.fail_on))
}
