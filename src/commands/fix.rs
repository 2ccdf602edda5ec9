//! `kubectl llmd doctor --fix`: the whole pipeline, findings → plan → diff → dry run → confirm →
//! apply → doctor again. Declined, refused or failed changes exit 2 (could not do what was asked);
//! otherwise the report after the run decides (0, or 1 for findings at or above --fail-on).

use crate::catalog::profile_from_env;
use crate::checks::{self, diagnose};
use crate::cli::{DoctorArgs, GlobalFlags, OutputFormat};
use crate::cluster::connect;
use crate::collect::cluster::collect_cluster;
use crate::error::{Failure, Result};
use crate::findings::Report;
use crate::fix::apply::{apply, dry_run, missing_permissions, prepare, Inputs};
use crate::fix::{build_plan, CodeFilter};
use crate::install::crds::cluster_facts;
use crate::install::helm::{find_helm, Helm};
use crate::install::source::CrdSource;
use crate::render::{print_stdout, report_document, Style};
use std::io::{BufRead, IsTerminal, Write};
use std::process::ExitCode;

/// Run `doctor --fix[=CODES]`.
pub async fn run(global: &GlobalFlags, args: &DoctorArgs, raw_codes: &str) -> Result<ExitCode> {
    if !args.files.is_empty() {
        return Err(Failure::with_hint(
            "--fix repairs a cluster and cannot be combined with -f",
            "run `kubectl llmd doctor --fix` against the cluster (use --context to choose it)",
        ));
    }
    let known: Vec<&str> = checks::all().iter().map(|c| c.code).collect();
    let filter = CodeFilter::parse(raw_codes, &known).map_err(|e| {
        Failure::with_hint(
            e.to_string(),
            "name codes as doctor prints them, comma-separated: --fix=LLMD-RT-006,LLMD-CRD-009",
        )
        .caused_by(e)
    })?;
    let profile = profile_from_env(args.profile.as_deref())?;
    let conn = connect(&global.into()).await?;
    let scope = if global.all_namespaces { None } else { global.namespace.clone() };
    let snapshot = collect_cluster(&conn, scope.as_deref()).await?;
    let report = diagnose(&snapshot, &profile, conn.context.clone());
    let plan = build_plan(&report, &filter);

    // The plan is data on a table run; with -o json/yaml stdout carries only the final report.
    let to_stdout = matches!(global.output, OutputFormat::Table | OutputFormat::Wide);
    let say = |s: &str| -> Result<()> {
        if to_stdout {
            print_stdout(s)
        } else {
            eprint!("{s}");
            Ok(())
        }
    };

    let inputs = Inputs {
        crd_source: match &args.crds_from {
            Some(path) => CrdSource::Files(path.clone()),
            None => CrdSource::upstream(args.crds_base_url.as_deref()),
        },
        cluster_facts: cluster_facts(&snapshot),
        helm: find_helm(args.helm.as_deref()).map(|path| Helm::new(path, &global.into())),
        chart_source: args.chart_source.clone(),
        provider: args.provider.map(|p| p.id()),
        profile: profile.clone(),
    };
    let mut prepared = prepare(&conn, &plan, &inputs).await;
    // Permissions first: a user who may not write gets one clear refusal and nothing is touched.
    let missing = missing_permissions(&conn, &prepared).await?;
    if !missing.is_empty() {
        let list: Vec<String> = missing.iter().map(ToString::to_string).collect();
        return Err(Failure::with_hint(
            format!(
                "cannot repair: the current user may not {} (checked with SelfSubjectAccessReview); nothing was changed",
                list.join(", ")
            ),
            "ask a cluster administrator for these permissions (e.g. ClusterRole `edit` in the namespace, cluster-admin for CRDs), or use another --context/--user",
        ));
    }
    dry_run(&conn, &inputs, &mut prepared).await;

    for p in prepared.iter().filter(|p| !p.noop) {
        say(&p.render())?;
    }
    let others = plan.manual.len();
    let writable = prepared.iter().filter(|p| p.writable()).count();
    let refused = prepared.iter().filter(|p| !p.noop && p.refused.is_some()).count();
    if writable == 0 {
        let why = if refused > 0 { format!(" ({refused} change(s) refused above)") } else { String::new() };
        say(&format!("\nnothing to fix{why}"))?;
        if others > 0 {
            say(&format!("; {others} finding(s) have no automatic repair:"))?;
        }
        say("\n")?;
        say(&by_hand(&plan.manual))?;
        if refused > 0 {
            // Each refusal is shown above: exit 2 (could not do what was asked), nothing more to say.
            return Err(Failure::quiet(2));
        }
        return Ok(exit_code(&report, args));
    }
    let refused_note = if refused > 0 { format!(", {refused} refused") } else { String::new() };
    say(&format!("\n{writable} change(s) planned, validated by server-side dry run{refused_note}.\n"))?;
    if others > 0 {
        say(&format!("{others} other finding(s) have no automatic repair:\n"))?;
        say(&by_hand(&plan.manual))?;
    }
    if args.dry_run {
        eprintln!("dry run: nothing was changed (run again without --dry-run to apply)");
        return Ok(exit_code(&report, args));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            return Err(Failure::with_hint(
                format!("not applying {writable} change(s) without confirmation: stdin is not a terminal"),
                "add --yes to apply them, or --dry-run to only show the plan",
            ));
        }
        eprint!("Apply {writable} change(s)? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            return Err(Failure::declined("nothing was changed"));
        }
    }

    let applied = apply(&conn, &inputs, &prepared).await;
    let mut failed = 0;
    for a in &applied {
        match &a.result {
            Ok(what) => eprintln!("✔ {}: {what}", a.title),
            Err(why) => {
                failed += 1;
                eprintln!("✖ {}: {why}", a.title)
            }
        }
    }

    // Doctor again: what is still wrong decides the exit code.
    eprintln!("\nRunning doctor again:");
    let snapshot = collect_cluster(&conn, scope.as_deref()).await?;
    let after = diagnose(&snapshot, &profile, conn.context.clone());
    print_stdout(&report_document(&after, global.output.report_format(), Style::detect(global.no_color)))?;
    if failed > 0 {
        return Err(Failure::new(format!("{failed} change(s) could not be applied (see ✖ above)")));
    }
    Ok(exit_code(&after, args))
}

/// The findings `--fix` leaves to the user, each with its exact command.
fn by_hand(manual: &[crate::findings::Finding]) -> String {
    manual.iter().map(|f| format!("  {} {}: {}\n", f.code, f.object, f.hint)).collect()
}

/// 1 when a finding of `report` reaches --fail-on, else 0.
fn exit_code(report: &Report, args: &DoctorArgs) -> ExitCode {
    ExitCode::from(report.exit_status(args.fail_on.threshold()))
}
