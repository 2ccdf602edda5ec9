//! Pure checks over a Snapshot. One module per area; each exports `CHECKS`, a list of checks,
//! one stable code per check. No I/O here: everything a check needs is in the Snapshot.

use crate::catalog::Profile;
use crate::findings::{Category, CheckResult, CheckStatus, Finding, Report, Severity};
use crate::model::ObjectRef;
use crate::repair::Repair;
use crate::snapshot::{Kind, Snapshot};

/// What every check receives.
pub struct CheckContext<'a> {
    pub snapshot: &'a Snapshot,
    pub profile: &'a Profile,
}

/// A check: one code, one title, the kinds it reads, and a pure function.
pub struct Check {
    /// Stable code (LLMD-AREA-NNN), documented in docs/checks.md.
    pub code: &'static str,
    /// What the check verifies, phrased as the passing state.
    pub title: &'static str,
    pub category: Category,
    /// Kinds it reads; if any is forbidden or unknowable, the check is skipped.
    pub needs: &'static [Kind],
    /// The check itself.
    pub run: fn(&CheckContext) -> Vec<Issue>,
}

/// What a check reports; the runner adds the code and category.
#[derive(Debug, Clone, PartialEq)]
pub struct Issue {
    pub severity: Severity,
    pub object: ObjectRef,
    pub message: String,
    pub hint: String,
    /// The repair `doctor --fix` performs, when there is one: only then is the finding "fixable"
    /// (a finding repaired by hand just has its hint).
    pub repair: Option<Repair>,
}

impl Issue {
    /// An error.
    pub fn error(object: ObjectRef, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Issue { severity: Severity::Error, object, message: message.into(), hint: hint.into(), repair: None }
    }

    /// A warning.
    pub fn warning(object: ObjectRef, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Issue { severity: Severity::Warning, object, message: message.into(), hint: hint.into(), repair: None }
    }

    /// Information.
    pub fn info(object: ObjectRef, message: impl Into<String>, hint: impl Into<String>) -> Self {
        Issue { severity: Severity::Info, object, message: message.into(), hint: hint.into(), repair: None }
    }

    /// Attach the repair `doctor --fix` performs (marks the finding fixable).
    pub fn repair(mut self, repair: Repair) -> Self {
        self.repair = Some(repair);
        self
    }

    /// Attach a repair when there is one.
    pub fn with_repair(mut self, repair: Option<Repair>) -> Self {
        self.repair = repair;
        self
    }
}

/// Every check, in display order.
pub fn all() -> Vec<&'static Check> {
    let mut v: Vec<&'static Check> = Vec::new();
    v.extend(cluster::CHECKS.iter());
    v.extend(crds::CHECKS.iter());
    v.extend(gatewayclasses::CHECKS.iter());
    v.extend(gateways::CHECKS.iter());
    v.extend(routes::CHECKS.iter());
    v.extend(pools::CHECKS.iter());
    v.extend(endpoint_picker::CHECKS.iter());
    v.extend(model_servers::CHECKS.iter());
    v.extend(istio::CHECKS.iter());
    v.extend(admission::CHECKS.iter());
    v
}

/// Run every check; a check whose inputs are forbidden or unknown is skipped with the reason.
/// Build the report from a snapshot (pure): every check, its findings, the snapshot's notes.
pub fn diagnose(snapshot: &Snapshot, profile: &Profile, context: String) -> Report {
    let ctx = CheckContext { snapshot, profile };
    let (checks, findings) = run_all(&ctx);
    let label = format!("{} (Gateway API {}, GAIE {})", profile.name, profile.gateway_api, profile.inference_extension);
    let mut report = Report::new(context, label, checks, findings);
    report.notes = snapshot.notes.clone();
    report
}

/// Run every check (pure).
pub fn run_all(ctx: &CheckContext) -> (Vec<CheckResult>, Vec<Finding>) {
    let mut results = Vec::new();
    let mut findings = Vec::new();
    for check in all() {
        let reads_objects = check.needs.iter().any(|k| *k != Kind::ServerVersion);
        let skip = check.needs.iter().find_map(|k| ctx.snapshot.skip_reason(*k)).or_else(|| {
            let reads_status = check.needs.contains(&Kind::LiveStatus);
            reads_status.then(|| check.needs.iter().find_map(|k| ctx.snapshot.status_skip_reason(*k))).flatten()
        });
        let status = if let Some(reason) = skip {
            results.push(CheckResult {
                code: check.code.into(),
                title: check.title.into(),
                category: check.category,
                status: CheckStatus::Skip,
                reason: Some(reason),
                reads_objects,
            });
            continue;
        } else {
            let started = std::time::Instant::now();
            let issues = (check.run)(ctx);
            tracing::debug!("{} took {:.1} ms", check.code, started.elapsed().as_secs_f64() * 1000.0);
            let worst = issues.iter().map(|i| i.severity).max();
            findings.extend(issues.into_iter().map(|i| Finding {
                code: check.code.into(),
                severity: i.severity,
                category: check.category,
                object: i.object,
                message: i.message,
                hint: i.hint,
                fixable: i.repair.is_some(),
                repair: i.repair,
            }));
            match worst {
                Some(Severity::Error) => CheckStatus::Fail,
                Some(Severity::Warning) => CheckStatus::Warn,
                _ => CheckStatus::Pass,
            }
        };
        results.push(CheckResult {
            code: check.code.into(),
            title: check.title.into(),
            category: check.category,
            status,
            reason: None,
            reads_objects,
        });
    }
    (results, findings)
}

pub mod admission;
pub mod cluster;
pub mod crds;
pub mod endpoint_picker;
pub mod gatewayclasses;
pub mod gateways;
pub mod istio;
pub mod model_servers;
pub mod pools;
pub mod routes;

#[cfg(test)]
pub mod fixtures;

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::HashSet;

    #[test]
    fn codes_are_unique_and_well_formed() {
        let mut seen = HashSet::new();
        for c in all() {
            assert!(seen.insert(c.code), "duplicate code {}", c.code);
            assert!(c.code.starts_with("LLMD-") && c.code.len() >= 11, "bad code {}", c.code);
        }
    }

    #[test]
    fn every_code_is_documented() {
        let doc = include_str!("../../docs/checks.md");
        for c in all() {
            assert!(doc.contains(c.code), "{} missing from docs/checks.md", c.code);
        }
    }
}
