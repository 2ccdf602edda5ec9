//! The doctor report as a grouped checklist (linkerd-check style) with a verdict line.

use super::{Style, FAIL, PASS, SKIP, WARN};
use crate::findings::{CheckStatus, Report, Severity};
use std::fmt::Write;

/// Render the report for humans. Findings follow the check that found them.
pub fn render_table(report: &Report, style: Style) -> String {
    let mut out = String::new();
    let mut last_category = None;
    for check in &report.checks {
        if last_category != Some(check.category) {
            if last_category.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", style.bold(check.category.title()));
            let _ = writeln!(out, "{}", style.dim(&"─".repeat(check.category.title().chars().count())));
            last_category = Some(check.category);
        }
        let (symbol, title) = match check.status {
            CheckStatus::Pass => (style.ok(PASS), check.title.clone()),
            CheckStatus::Warn => (style.warn(WARN), check.title.clone()),
            CheckStatus::Fail => (style.bad(FAIL), check.title.clone()),
            CheckStatus::Skip => (
                style.dim(SKIP),
                style.dim(&format!("{} (skipped: {})", check.title, check.reason.as_deref().unwrap_or("not run"))),
            ),
        };
        let _ = writeln!(out, "{symbol} {title} {}", style.dim(&format!("[{}]", check.code)));
        for f in report.findings.iter().filter(|f| f.code == check.code) {
            let mark = match f.severity {
                Severity::Error => style.bad(FAIL),
                Severity::Warning => style.warn(WARN),
                Severity::Info => style.dim("i"),
            };
            let fix = if f.fixable { style.dim(" (fixable: kubectl llmd doctor --fix)") } else { String::new() };
            let _ = writeln!(out, "    {mark} {}: {}{fix}", f.object, f.message);
            let _ = writeln!(out, "      {} {}", style.dim("hint:"), f.hint);
        }
    }
    if !report.checks.is_empty() {
        out.push('\n');
    }
    out.push_str(&verdict(report, style));
    out
}

/// One line: the overall status and counts.
pub fn verdict(report: &Report, style: Style) -> String {
    let s = &report.summary;
    let counts = format!(
        "{} {}, {} {}, {} info, {} skipped",
        s.errors,
        plural(s.errors, "error"),
        s.warnings,
        plural(s.warnings, "warning"),
        s.info,
        s.skipped
    );
    let line = match report.worst() {
        Some(Severity::Error) => style.bad(&format!("{FAIL} Status: broken — {counts}")),
        Some(Severity::Warning) => style.warn(&format!("{WARN} Status: degraded — {counts}")),
        _ => style.ok(&format!("{PASS} Status: healthy — {counts}")),
    };
    format!("{line} {}\n", style.dim(&format!("(profile {})", report.profile)))
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
