//! `kubectl llmd doctor`: collect → checks → report, for one context or a fleet of them.

use crate::catalog::{profile_from_env, Profile};
use crate::checks::diagnose;
use crate::cli::{DoctorArgs, FailOn, FleetFlags, GlobalFlags, OutputFormat};
use crate::cluster::client::{default_namespace, fleet_contexts};
use crate::cluster::{connect, Connection};
use crate::collect::{cluster::collect_cluster, offline::collect_files};
use crate::commands::gateway::gateway_status;
use crate::error::{Failure, Result};
use crate::findings::Report;
use crate::fleet::{self, pool_count, ContextReport, FleetReport, Problem, Verdict};
use crate::render::fleet::render_fleet;
use crate::render::{print_stdout, report_document, to_json, to_yaml, Style};
use crate::routing::pool_statuses;
use crate::snapshot::Snapshot;
use futures::StreamExt;
use std::future::Future;
use std::process::ExitCode;
use std::time::Instant;

/// The namespace doctor looks at: every namespace unless -n narrows it.
fn doctor_scope(global: &GlobalFlags) -> Option<&str> {
    if global.all_namespaces {
        None
    } else {
        global.namespace.as_deref()
    }
}

/// Collect from one cluster and run the checks: the pipeline every cluster run of doctor and
/// `pool status` goes through, for one context or for each context of a fleet.
pub async fn inspect(conn: &Connection, namespace: Option<&str>, profile: &Profile) -> Result<(Snapshot, Report)> {
    // collect_cluster reports its requests and time itself (-v).
    let snapshot = collect_cluster(conn, namespace).await?;
    let started = Instant::now();
    let report = diagnose(&snapshot, profile, conn.context.clone());
    tracing::info!("analysed in {:.0} ms ({} checks)", started.elapsed().as_secs_f64() * 1000.0, report.checks.len());
    Ok((snapshot, report))
}

/// Exit 1 when a finding reaches the threshold.
pub fn exit_code(report: &Report, fail_on: FailOn) -> ExitCode {
    ExitCode::from(report.exit_status(fail_on.threshold()))
}

/// Print a report in the chosen output format.
pub fn print_report(global: &GlobalFlags, report: &Report) -> Result<()> {
    print_stdout(&report_document(report, global.output.report_format(), Style::detect(global.no_color)))
}

/// Run doctor.
pub async fn run(global: &GlobalFlags, args: &DoctorArgs) -> Result<ExitCode> {
    if args.fleet.is_fleet() {
        return run_fleet(global, args).await;
    }
    if let Some(codes) = &args.fix {
        return super::fix::run(global, args, codes).await;
    }
    if args.yes || args.dry_run {
        return Err(Failure::with_hint("--yes and --dry-run only apply with --fix", "add --fix to repair findings"));
    }
    let profile = profile_from_env(args.profile.as_deref())?;
    let report = if args.files.is_empty() {
        let conn = connect(&global.into()).await?;
        inspect(&conn, doctor_scope(global), &profile).await?.1
    } else {
        // Objects without a namespace go where `kubectl apply -f` would put them.
        diagnose(&collect_files(&args.files, &default_namespace(&global.into())?)?, &profile, "files".to_string())
    };
    let started = Instant::now();
    print_report(global, &report)?;
    tracing::info!("rendered in {:.0} ms", started.elapsed().as_secs_f64() * 1000.0);
    // Every authenticated user may read the server version: checks reading nothing else passing
    // does not mean doctor could look at the cluster.
    if report.nothing_checked() {
        return Err(nothing_checked(&report));
    }
    Ok(exit_code(&report, args.fail_on))
}

/// The failure of a run whose user may read nothing doctor checks.
fn nothing_checked(report: &Report) -> Failure {
    let reason = report.checks.iter().find_map(|c| c.reason.clone()).unwrap_or_default();
    Failure::with_hint(
        format!("doctor could not run a single check ({reason})"),
        "use a context whose user may list CRDs, Gateway API and InferencePool objects (ClusterRole `view` or wider)",
    )
}

/// The contexts of a fleet run, once the flags that pick a single cluster (`--context`, `--cluster`, `--user`) are refused.
pub fn fleet_contexts_for(global: &GlobalFlags, fleet: &FleetFlags) -> Result<Vec<String>> {
    let flag = if fleet.all_contexts { "--all-contexts" } else { "--contexts" };
    for (given, name) in [
        (global.context.is_some(), "--context"),
        (global.cluster.is_some(), "--cluster"),
        (global.user.is_some(), "--user"),
    ] {
        if given {
            return Err(Failure::with_hint(
                format!("{name} cannot be combined with {flag}: {flag} already names the contexts to use"),
                format!("drop {name}, or name one context alone with --context"),
            ));
        }
    }
    fleet_contexts(&global.into(), fleet.all_contexts, &fleet.contexts)
}

/// Run `job` for every context, at most `fleet::CONCURRENCY` at a time, each on its own task (so that
/// decoding and checks use every core), results in the order of `contexts`. `job` gets the flags of one
/// context: `--context NAME`, every other flag as given.
pub async fn for_each_context<T, F, Fut>(global: &GlobalFlags, contexts: &[String], job: F) -> Vec<T>
where
    F: Fn(GlobalFlags) -> Fut,
    Fut: Future<Output = T> + Send + 'static,
    T: Send + 'static,
{
    // Lazily spawned: `buffered` starts the next context only when one of the running ones is done.
    let runs = contexts.iter().map(|c| tokio::spawn(job(GlobalFlags { context: Some(c.clone()), ..global.clone() })));
    futures::stream::iter(runs)
        .buffered(fleet::CONCURRENCY)
        .map(|joined| match joined {
            Ok(value) => value,
            // A panic in a context's task is a bug: let it surface as one.
            Err(e) if e.is_panic() => std::panic::resume_unwind(e.into_panic()),
            Err(e) => panic!("a fleet task was cancelled: {e}"),
        })
        .collect()
        .await
}

/// `fut`, bounded by --request-timeout as a whole (0 = no limit): one slow cluster cannot hold up a fleet.
pub async fn within_request_timeout<T>(
    global: &GlobalFlags,
    conn: &Connection,
    fut: impl Future<Output = Result<T>>,
) -> Result<T> {
    let limit = global.request_timeout;
    if limit.is_zero() {
        return fut.await;
    }
    tokio::time::timeout(limit, fut).await.unwrap_or_else(|_| {
        Err(Failure::with_hint(
            format!("context {}: {} did not finish answering within {limit:?}", conn.context, conn.server),
            "check that the cluster is up and reachable, or raise --request-timeout (it bounds each context)",
        ))
    })
}

/// A failure as a fleet row carries it.
pub fn problem(f: Failure) -> Problem {
    Problem { message: f.message, hint: f.hint }
}

/// `doctor --contexts/--all-contexts`: every context through `inspect`, concurrently; one row each.
async fn run_fleet(global: &GlobalFlags, args: &DoctorArgs) -> Result<ExitCode> {
    let refused = [
        (args.fix.is_some(), "--fix", "repair one context at a time: kubectl llmd doctor --context NAME --fix"),
        (args.yes || args.dry_run, "--yes/--dry-run", "they only apply with --fix, which takes one --context"),
        (!args.files.is_empty(), "-f", "-f checks files, not contexts: drop --contexts/--all-contexts"),
    ];
    if let Some((_, flag, hint)) = refused.iter().find(|(given, _, _)| *given) {
        return Err(Failure::with_hint(format!("{flag} cannot be combined with --contexts or --all-contexts"), *hint));
    }
    let contexts = fleet_contexts_for(global, &args.fleet)?;
    let profile = profile_from_env(args.profile.as_deref())?;
    let started = Instant::now();
    let fail_on = args.fail_on;
    let rows = for_each_context(global, &contexts, |one| diagnose_context(one, profile.clone(), fail_on)).await;
    let label = format!("{} (Gateway API {}, GAIE {})", profile.name, profile.gateway_api, profile.inference_extension);
    let fleet = FleetReport::new(label, rows);
    if global.verbose > 0 {
        eprintln!(
            "{} contexts diagnosed in {:.2}s ({} at a time)",
            fleet.contexts.len(),
            started.elapsed().as_secs_f64(),
            fleet::CONCURRENCY
        );
    }
    match global.output {
        OutputFormat::Json => print_stdout(&to_json(&fleet))?,
        OutputFormat::Yaml => print_stdout(&to_yaml(&fleet))?,
        _ => print_stdout(&render_fleet(&fleet, Style::detect(global.no_color), global.output == OutputFormat::Wide))?,
    }
    Ok(ExitCode::from(fleet.summary.exit_code))
}

/// One context of a fleet doctor run; never fails: a context that cannot be read is a row saying why.
async fn diagnose_context(global: GlobalFlags, profile: Profile, fail_on: FailOn) -> ContextReport {
    let name = global.context.clone().unwrap_or_default();
    let started = Instant::now();
    let conn = match connect(&(&global).into()).await {
        Ok(conn) => conn,
        Err(f) => return ContextReport::failed(&name, "", Verdict::Invalid, problem(f)),
    };
    let inspected = within_request_timeout(&global, &conn, inspect(&conn, doctor_scope(&global), &profile));
    let row = match inspected.await {
        Err(f) => ContextReport::failed(&name, &conn.server, Verdict::Unreachable, problem(f)),
        Ok((snapshot, report)) => {
            let pools = pool_count(&pool_statuses(&snapshot, &report));
            let status = report.exit_status(fail_on.threshold());
            let blind = report.nothing_checked().then(|| problem(nothing_checked(&report)));
            let mut row = ContextReport::diagnosed(&name, &conn.server, report, status);
            row.error = blind;
            row.server_version = snapshot.server_version.items().first().cloned();
            // What could not be read is null, not zero.
            let pools_read = snapshot.pools.skip_reason().is_none() && snapshot.pools_x.skip_reason().is_none();
            row.pools = pools_read.then_some(pools);
            let installed = gateway_status(&snapshot, &[], name.clone());
            row.bundles = snapshot.crds.skip_reason().is_none().then(|| {
                installed
                    .bundles
                    .into_iter()
                    .map(|b| fleet::Bundle { bundle: b.bundle, versions: b.versions })
                    .collect()
            });
            row.providers = snapshot.gateway_classes.skip_reason().is_none().then(|| {
                installed
                    .providers
                    .into_iter()
                    .map(|p| fleet::Provider { provider: p.provider, version: p.version, inference: p.inference })
                    .collect()
            });
            row
        }
    };
    if global.verbose > 0 {
        eprintln!("context {name}: {} in {:.2}s", row.verdict.as_str(), started.elapsed().as_secs_f64());
    }
    row
}
