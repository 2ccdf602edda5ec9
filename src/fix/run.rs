//! `kubectl llmd doctor --fix`: the whole pipeline, findings → plan → diff → dry run → confirm →
//! apply → doctor again.

use super::apply::{apply, dry_run, missing_permissions, prepare, Inputs};
use super::{build_plan, CodeFilter};
use crate::checks;
use crate::cli::{DoctorArgs, GlobalFlags, OutputFormat};
use crate::cluster::connect;
use crate::collect::cluster::collect_cluster;
use crate::commands::doctor::{diagnose, exit_code, print_report, profile_from};
use crate::error::{Failure, Result};
use crate::install::crds::cluster_facts;
use crate::install::helm::{find_helm, Helm};
use crate::install::source::CrdSource;
use crate::render::print_stdout;
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
        Failure::with_hint(e, "name codes as doctor prints them, comma-separated: --fix=LLMD-RT-006,LLMD-CRD-009")
    })?;
    let profile = profile_from(args.profile.as_deref())?;
    let conn = connect(&global.into()).await?;
    let scope = if global.all_namespaces { None } else { global.namespace.clone() };
    let snapshot = collect_cluster(&conn, scope.as_deref()).await?;
    let report = diagnose(&snapshot, &profile, conn.context.clone());
    let plan = build_plan(&report, &filter);

    // The plan is data on a table run; with -o json/yaml stdout carries only the final report.
    let to_stdout = matches!(global.output, OutputFormat::Table | OutputFormat::Wide);
    let say = |s: &str| {
        if to_stdout {
            print_stdout(s)
        } else {
            eprint!("{s}")
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
        say(&p.render());
    }
    let others = plan.manual.len();
    let writable = prepared.iter().filter(|p| p.writable()).count();
    let refused = prepared.iter().filter(|p| !p.noop && p.refused.is_some()).count();
    if writable == 0 {
        let why = if refused > 0 { format!(" ({refused} change(s) refused above)") } else { String::new() };
        say(&format!("\nnothing to fix{why}"));
        if others > 0 {
            say(&format!("; {others} finding(s) have no automatic repair:"));
        }
        say("\n");
        say(&by_hand(&plan.manual));
        return Ok(if refused > 0 { ExitCode::from(1) } else { exit_code(&report, args.fail_on) });
    }
    let refused_note = if refused > 0 { format!(", {refused} refused") } else { String::new() };
    say(&format!("\n{writable} change(s) planned, validated by server-side dry run{refused_note}.\n"));
    if others > 0 {
        say(&format!("{others} other finding(s) have no automatic repair:\n"));
        say(&by_hand(&plan.manual));
    }
    if args.dry_run {
        eprintln!("dry run: nothing was changed (run again without --dry-run to apply)");
        return Ok(exit_code(&report, args.fail_on));
    }
    if !args.yes {
        if !std::io::stdin().is_terminal() {
            eprintln!("error: not applying {writable} change(s) without confirmation: stdin is not a terminal");
            eprintln!("hint: add --yes to apply them, or --dry-run to only show the plan");
            return Ok(ExitCode::from(1));
        }
        eprint!("Apply {writable} change(s)? [y/N] ");
        let _ = std::io::stderr().flush();
        let mut answer = String::new();
        let _ = std::io::stdin().lock().read_line(&mut answer);
        if !matches!(answer.trim().to_ascii_lowercase().as_str(), "y" | "yes") {
            eprintln!("nothing was changed");
            return Ok(ExitCode::from(1));
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
    print_report(global, &after);
    if failed > 0 {
        eprintln!("error: {failed} change(s) could not be applied (see ✖ above)");
        return Ok(ExitCode::from(1));
    }
    Ok(exit_code(&after, args.fail_on))
}

/// The findings `--fix` leaves to the user, each with its exact command.
fn by_hand(manual: &[crate::findings::Finding]) -> String {
    manual.iter().map(|f| format!("  {} {}: {}\n", f.code, f.object, f.hint)).collect()
}
