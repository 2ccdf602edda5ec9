//! A fleet run: the same doctor (or `pool status`) pipeline over several kubeconfig contexts, one
//! result per context. Pure data and verdict rules; the commands fill it, `render::fleet` prints it.
//! The JSON/YAML shape is a contract documented in docs/fleet.md.

use crate::findings::{Report, Severity};
use crate::routing::{Count, PoolStatus};
use serde::Serialize;

/// Version of the fleet JSON/YAML documents (docs/fleet.md); bumped on any incompatible change.
pub const SCHEMA_VERSION: u32 = 1;

/// How many contexts are read at the same time.
pub const CONCURRENCY: usize = 8;

/// One context's outcome, worst last.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "lowercase")]
pub enum Verdict {
    /// Doctor ran and found nothing at warning level or above.
    Healthy,
    /// Warnings, no errors.
    Degraded,
    /// At least one error.
    Broken,
    /// The user may not list anything doctor reads (no check could run).
    Forbidden,
    /// The cluster could not be read: connection, TLS, credentials, timeout or a failed request.
    Unreachable,
    /// The kubeconfig entry of the context cannot be used (cluster or user missing, bad certificate data).
    Invalid,
}

impl Verdict {
    /// The verdict of a report doctor could produce.
    pub fn of(report: &Report) -> Verdict {
        if report.nothing_checked() {
            return Verdict::Forbidden;
        }
        match report.worst() {
            Some(Severity::Error) => Verdict::Broken,
            Some(Severity::Warning) => Verdict::Degraded,
            _ => Verdict::Healthy,
        }
    }

    /// The word shown in tables.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Healthy => "healthy",
            Verdict::Degraded => "degraded",
            Verdict::Broken => "broken",
            Verdict::Forbidden => "forbidden",
            Verdict::Unreachable => "unreachable",
            Verdict::Invalid => "invalid",
        }
    }

    /// True when doctor could not look at the cluster at all (exit 2 for that context).
    pub fn could_not_run(self) -> bool {
        matches!(self, Verdict::Forbidden | Verdict::Unreachable | Verdict::Invalid)
    }
}

/// Why a context could not be read: the error line and its hint, as a single run would print them.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Problem {
    pub message: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub hint: Option<String>,
}

/// One CRD bundle as installed ("Gateway API" v1.3.0).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Bundle {
    pub bundle: String,
    /// Bundle versions found on its CRDs (more than one when mixed).
    pub versions: Vec<String>,
}

/// One gateway provider found.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Provider {
    pub provider: String,
    pub version: Option<String>,
    /// "on", "off" or "unknown".
    pub inference: String,
}

/// What a fleet doctor run says about one context.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextReport {
    pub context: String,
    /// The server URL ("" when the kubeconfig entry could not be used).
    pub server: String,
    /// gitVersion of the server, when it answered.
    pub server_version: Option<String>,
    pub verdict: Verdict,
    /// This context's exit code on its own (0, 1 or 2, as a single `doctor --context` run).
    pub exit_code: u8,
    /// CRD bundles installed; null when the CRDs could not be read.
    pub bundles: Option<Vec<Bundle>>,
    /// Gateway providers found; null when GatewayClasses could not be read.
    pub providers: Option<Vec<Provider>>,
    /// InferencePools whose routing picture is Ready / all pools; null when they could not be read.
    pub pools: Option<Count>,
    pub errors: usize,
    pub warnings: usize,
    /// Distinct codes of the errors and warnings, in the report's order.
    pub codes: Vec<String>,
    /// Why the context could not be diagnosed (verdict forbidden, unreachable or invalid).
    pub error: Option<Problem>,
    /// The full doctor report (as `doctor -o json` prints it); null when doctor could not run.
    pub report: Option<Report>,
}

impl ContextReport {
    /// A context doctor could not read.
    pub fn failed(context: &str, server: &str, verdict: Verdict, problem: Problem) -> Self {
        ContextReport {
            context: context.to_string(),
            server: server.to_string(),
            server_version: None,
            verdict,
            exit_code: 2,
            bundles: None,
            providers: None,
            pools: None,
            errors: 0,
            warnings: 0,
            codes: Vec::new(),
            error: Some(problem),
            report: None,
        }
    }

    /// A context doctor diagnosed; `exit_code` is what a single run would exit with. Server version,
    /// bundles, providers and pools are filled in by the caller.
    pub fn diagnosed(context: &str, server: &str, report: Report, exit_code: u8) -> Self {
        let verdict = Verdict::of(&report);
        let mut codes: Vec<String> = Vec::new();
        for f in report.findings.iter().filter(|f| f.severity >= Severity::Warning) {
            if !codes.contains(&f.code) {
                codes.push(f.code.clone());
            }
        }
        ContextReport {
            context: context.to_string(),
            server: server.to_string(),
            server_version: None,
            verdict,
            // A report with nothing checked is a run that could not look at the cluster.
            exit_code: if verdict.could_not_run() { 2 } else { exit_code },
            bundles: None,
            providers: None,
            pools: None,
            errors: report.summary.errors,
            warnings: report.summary.warnings,
            codes,
            error: None,
            report: Some(report),
        }
    }
}

/// Pools whose routing picture is Ready / all pools.
pub fn pool_count(pools: &[PoolStatus]) -> Count {
    Count { ready: pools.iter().filter(|p| p.status == "Ready").count(), total: pools.len() }
}

/// How many contexts ended with each verdict.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize)]
pub struct VerdictCounts {
    pub healthy: usize,
    pub degraded: usize,
    pub broken: usize,
    pub forbidden: usize,
    pub unreachable: usize,
    pub invalid: usize,
}

impl VerdictCounts {
    /// Count the verdicts.
    pub fn of<'a>(verdicts: impl Iterator<Item = Verdict> + 'a) -> Self {
        let mut c = VerdictCounts::default();
        for v in verdicts {
            *match v {
                Verdict::Healthy => &mut c.healthy,
                Verdict::Degraded => &mut c.degraded,
                Verdict::Broken => &mut c.broken,
                Verdict::Forbidden => &mut c.forbidden,
                Verdict::Unreachable => &mut c.unreachable,
                Verdict::Invalid => &mut c.invalid,
            } += 1;
        }
        c
    }

    /// (count, word) for every verdict that occurred, best first.
    pub fn nonzero(&self) -> Vec<(usize, &'static str)> {
        [
            (self.healthy, "healthy"),
            (self.degraded, "degraded"),
            (self.broken, "broken"),
            (self.forbidden, "forbidden"),
            (self.unreachable, "unreachable"),
            (self.invalid, "invalid"),
        ]
        .into_iter()
        .filter(|(n, _)| *n > 0)
        .collect()
    }
}

/// Totals over the fleet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetSummary {
    pub contexts: usize,
    pub verdicts: VerdictCounts,
    /// The worst context's exit code: the exit code of the run.
    pub exit_code: u8,
}

/// `doctor --contexts/--all-contexts -o json|yaml`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetReport {
    pub schema_version: u32,
    /// The version profile every context was checked against.
    pub profile: String,
    pub summary: FleetSummary,
    /// One entry per context, in the order asked for (kubeconfig order with --all-contexts).
    pub contexts: Vec<ContextReport>,
}

impl FleetReport {
    /// Assemble the fleet report; the exit code is the worst context's.
    pub fn new(profile: String, contexts: Vec<ContextReport>) -> Self {
        let summary = FleetSummary {
            contexts: contexts.len(),
            verdicts: VerdictCounts::of(contexts.iter().map(|c| c.verdict)),
            exit_code: contexts.iter().map(|c| c.exit_code).max().unwrap_or(0),
        };
        FleetReport { schema_version: SCHEMA_VERSION, profile, summary, contexts }
    }
}

/// One context of `pool status --contexts/--all-contexts`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContextPools {
    pub context: String,
    pub server: String,
    /// The namespace looked at (null: every namespace).
    pub namespace: Option<String>,
    /// null when the context was read; else why not: `unreachable` or `invalid`.
    pub verdict: Option<Verdict>,
    /// Why the context could not be read (its pools are then empty).
    pub error: Option<Problem>,
    pub pools: Vec<PoolStatus>,
}

/// `pool status --contexts/--all-contexts -o json|yaml`.
#[derive(Debug, Clone, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct FleetPools {
    pub schema_version: u32,
    pub contexts: Vec<ContextPools>,
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Category, CheckResult, CheckStatus, Finding};
    use crate::model::ObjectRef;

    fn finding(code: &str, severity: Severity) -> Finding {
        Finding {
            code: code.into(),
            severity,
            category: Category::Pools,
            object: ObjectRef::new("InferencePool", "inference.networking.k8s.io", "ns", code),
            message: "m".into(),
            hint: "h".into(),
            fixable: false,
            repair: None,
        }
    }

    fn report(findings: Vec<Finding>, status: CheckStatus) -> Report {
        let check = CheckResult {
            code: "LLMD-POOL-002".into(),
            title: "t".into(),
            category: Category::Pools,
            status,
            reason: None,
            reads_objects: true,
        };
        Report::new("c".into(), "p".into(), vec![check], findings)
    }

    #[test]
    fn verdicts_follow_the_worst_finding() {
        assert_eq!(Verdict::of(&report(vec![], CheckStatus::Pass)), Verdict::Healthy);
        assert_eq!(Verdict::of(&report(vec![finding("A", Severity::Info)], CheckStatus::Pass)), Verdict::Healthy);
        let degraded = report(vec![finding("A", Severity::Warning)], CheckStatus::Warn);
        assert_eq!(Verdict::of(&degraded), Verdict::Degraded);
        let broken = report(vec![finding("A", Severity::Warning), finding("B", Severity::Error)], CheckStatus::Fail);
        assert_eq!(Verdict::of(&broken), Verdict::Broken);
        assert_eq!(Verdict::of(&report(vec![], CheckStatus::Skip)), Verdict::Forbidden);
    }

    #[test]
    fn the_fleet_exits_with_its_worst_context() {
        let ok = ContextReport::diagnosed("a", "https://a", report(vec![], CheckStatus::Pass), 0);
        assert_eq!((ok.verdict, ok.exit_code, ok.error.is_none()), (Verdict::Healthy, 0, true));
        let broken = ContextReport::diagnosed(
            "b",
            "https://b",
            report(
                vec![finding("B", Severity::Error), finding("W", Severity::Warning), finding("B", Severity::Error)],
                CheckStatus::Fail,
            ),
            1,
        );
        assert_eq!((broken.errors, broken.warnings), (1, 1), "duplicates are one finding");
        assert_eq!(broken.codes, ["B", "W"]);
        let blind = ContextReport::diagnosed("f", "https://f", report(vec![], CheckStatus::Skip), 0);
        assert_eq!((blind.verdict, blind.exit_code), (Verdict::Forbidden, 2));
        let problem = Problem { message: "cannot reach".into(), hint: None };
        let down = ContextReport::failed("d", "https://d", Verdict::Unreachable, problem);

        let fleet = FleetReport::new("p".into(), vec![ok.clone(), broken.clone()]);
        assert_eq!(fleet.summary.exit_code, 1);
        let fleet = FleetReport::new("p".into(), vec![ok.clone(), down, broken]);
        assert_eq!(fleet.summary.exit_code, 2);
        assert_eq!(fleet.summary.verdicts.nonzero(), [(1, "healthy"), (1, "broken"), (1, "unreachable")]);
        assert_eq!(FleetReport::new("p".into(), vec![ok]).summary.exit_code, 0);
    }
}
