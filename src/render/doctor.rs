//! The doctor report as a grouped checklist (linkerd-check style) with a verdict line.

use super::{Style, FAIL, PASS, SKIP, WARN};
use crate::findings::{CheckStatus, Finding, Report, Severity};
use std::fmt::Write;

/// Render the report for humans. Findings follow the check that found them. Skipped checks are
/// listed one by one with `wide`, else folded into one line per category and reason.
pub fn render_table(report: &Report, style: Style, wide: bool) -> String {
    let mut out = String::new();
    let mut last_category = None;
    let mut folded: Vec<(String, Vec<&str>)> = Vec::new();
    for (i, check) in report.checks.iter().enumerate() {
        if last_category != Some(check.category) {
            if last_category.is_some() {
                out.push('\n');
            }
            let _ = writeln!(out, "{}", style.bold(check.category.title()));
            let _ = writeln!(out, "{}", style.dim(&"─".repeat(check.category.title().chars().count())));
            last_category = Some(check.category);
        }
        if check.status == CheckStatus::Skip && !wide {
            let reason = check.reason.clone().unwrap_or_else(|| "not run".into());
            match folded.iter_mut().find(|(r, _)| *r == reason) {
                Some((_, codes)) => codes.push(&check.code),
                None => folded.push((reason, vec![&check.code])),
            }
            let next_differs = report.checks.get(i + 1).is_none_or(|n| n.category != check.category);
            if next_differs {
                flush_folded(&mut out, &mut folded, style);
            }
            continue;
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
            write_finding(&mut out, f, style, false);
        }
        let next_differs = report.checks.get(i + 1).is_none_or(|n| n.category != check.category);
        if next_differs {
            flush_folded(&mut out, &mut folded, style);
        }
    }
    if !report.checks.is_empty() {
        out.push('\n');
    }
    for note in &report.notes {
        let _ = writeln!(out, "{} {note}", style.dim("note:"));
    }
    out.push_str(&verdict(report, style));
    out
}

/// One finding as the checklist shows it: mark, object and message, then its hint. `with_code` adds
/// ` [CODE]`, for lists not grouped under their check.
pub(crate) fn write_finding(out: &mut String, f: &Finding, style: Style, with_code: bool) {
    let mark = match f.severity {
        Severity::Error => style.bad(FAIL),
        Severity::Warning => style.warn(WARN),
        Severity::Info => style.dim("i"),
    };
    let fix = if f.fixable { style.dim(" (fixable: kubectl llmd doctor --fix)") } else { String::new() };
    // Messages usually start by naming their object; don't say it twice.
    let object = f.object.to_string();
    let text = if f.message.starts_with(&object) { f.message.clone() } else { format!("{object}: {}", f.message) };
    let code = if with_code { format!(" {}", style.dim(&format!("[{}]", f.code))) } else { String::new() };
    let _ = writeln!(out, "    {mark} {text}{code}{fix}");
    let _ = writeln!(out, "      {} {}", style.dim("hint:"), f.hint);
}

fn flush_folded(out: &mut String, folded: &mut Vec<(String, Vec<&str>)>, style: Style) {
    for (reason, codes) in folded.drain(..) {
        let n = codes.len();
        let line = format!("{n} {} skipped ({reason}) [{}]", plural(n, "check"), codes.join(", "));
        let _ = writeln!(out, "{} {}", style.dim(SKIP), style.dim(&line));
    }
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
        _ if report.nothing_checked() => style.dim(&format!("{SKIP} Status: unknown — no check could run ({counts})")),
        _ if s.skipped > 0 => style.ok(&format!("{PASS} Status: healthy as far as checked — {counts}")),
        _ => style.ok(&format!("{PASS} Status: healthy — {counts}")),
    };
    format!("{line} {}\n", style.dim(&format!("(profile {})", report.profile)))
}

pub(crate) fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        word.to_string()
    } else {
        format!("{word}s")
    }
}
