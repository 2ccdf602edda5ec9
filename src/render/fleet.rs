//! `doctor --contexts/--all-contexts` for humans: one row per context, then the findings grouped by
//! context, then one verdict line for the fleet.

use super::doctor::{plural, write_finding};
use super::pool::layout;
use super::{Style, FAIL, PASS, SKIP, WARN};
use crate::fleet::{ContextReport, FleetReport, Verdict};
use std::fmt::Write;

/// The fleet table, the findings of each context, and the verdict line. `wide` adds each row's codes.
pub fn render_fleet(fleet: &FleetReport, style: Style, wide: bool) -> String {
    let mut header = vec!["CONTEXT", "VERSION", "BUNDLES", "PROVIDERS", "POOLS", "ERRORS", "WARNINGS", "VERDICT"];
    if wide {
        header.push("CODES");
    }
    let rows = fleet.contexts.iter().map(|c| row(c, wide)).collect();
    let mut out = layout(header, rows);
    for c in &fleet.contexts {
        out.push('\n');
        write_context(&mut out, c, style);
    }
    out.push('\n');
    out.push_str(&verdict(fleet, style));
    out
}

fn row(c: &ContextReport, wide: bool) -> Vec<String> {
    let dash = || "-".to_string();
    let none = |s: String| if s.is_empty() { "none".to_string() } else { s };
    // A context where no check could run has no counts to show.
    let count = |n: usize| if c.verdict.could_not_run() { dash() } else { n.to_string() };
    let mut row = vec![c.context.clone()];
    if c.report.is_none() {
        row.extend([dash(), dash(), dash(), dash(), dash(), dash(), c.verdict.as_str().to_string()]);
        if wide {
            row.push(dash());
        }
        return row;
    }
    let bundles = c.bundles.as_ref().map(|bundles| {
        let text: Vec<String> = bundles.iter().map(|b| format!("{} {}", b.bundle, b.versions.join("+"))).collect();
        none(text.join(", "))
    });
    let providers = c.providers.as_ref().map(|providers| {
        let text: Vec<String> = providers
            .iter()
            .map(|p| {
                let version = p.version.as_deref().map(|v| format!(" {v}")).unwrap_or_default();
                let off = if p.inference == "off" { " (inference off)" } else { "" };
                format!("{}{version}{off}", p.provider)
            })
            .collect();
        none(text.join(", "))
    });
    row.extend([
        c.server_version.clone().unwrap_or_else(dash),
        bundles.unwrap_or_else(dash),
        providers.unwrap_or_else(dash),
        c.pools.map_or_else(dash, |p| p.to_string()),
        count(c.errors),
        count(c.warnings),
        c.verdict.as_str().to_string(),
    ]);
    if wide {
        row.push(if c.codes.is_empty() { "<none>".to_string() } else { c.codes.join(",") });
    }
    row
}

/// The context's heading, then its findings (or why it could not be diagnosed).
fn write_context(out: &mut String, c: &ContextReport, style: Style) {
    let server =
        if c.server.is_empty() { String::new() } else { format!(" {}", style.dim(&format!("({})", c.server))) };
    let _ = writeln!(out, "{}{server}: {}", style.bold(&format!("Context {}", c.context)), c.verdict.as_str());
    if let Some(p) = &c.error {
        let _ = writeln!(out, "    {} {}", style.bad(FAIL), p.message);
        if let Some(hint) = &p.hint {
            let _ = writeln!(out, "      {} {hint}", style.dim("hint:"));
        }
    }
    let Some(report) = &c.report else { return };
    for f in &report.findings {
        write_finding(out, f, style, true);
    }
    if report.findings.is_empty() && c.error.is_none() {
        let _ = writeln!(out, "    {} no findings", style.ok(PASS));
    }
    let skipped = report.summary.skipped;
    if skipped > 0 && c.error.is_none() {
        let line = format!(
            "{skipped} {} skipped: kubectl llmd doctor --context {} says which and why",
            plural(skipped, "check"),
            c.context
        );
        let _ = writeln!(out, "    {} {}", style.dim(SKIP), style.dim(&line));
    }
}

/// One line: how many contexts ended with each verdict, marked by the worst.
pub fn verdict(fleet: &FleetReport, style: Style) -> String {
    let counts = fleet.summary.verdicts.nonzero().iter().map(|(n, w)| format!("{n} {w}")).collect::<Vec<_>>();
    let n = fleet.summary.contexts;
    let text = format!("Fleet: {} — {n} {}", counts.join(", "), plural(n, "context"));
    let worst = fleet.contexts.iter().map(|c| c.verdict).max();
    let line = match worst {
        Some(Verdict::Healthy) => style.ok(&format!("{PASS} {text}")),
        Some(Verdict::Degraded) => style.warn(&format!("{WARN} {text}")),
        None => style.dim(&format!("{SKIP} {text}")),
        Some(_) => style.bad(&format!("{FAIL} {text}")),
    };
    format!("{line} {}\n", style.dim(&format!("(profile {})", fleet.profile)))
}
