//! Findings and check results: the one type every check returns and every renderer prints.

use crate::model::ObjectRef;
use serde::{Deserialize, Serialize};

/// How bad a finding is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    Info,
    Warning,
    Error,
}

/// Area a check belongs to; the table groups by it, in this order.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize, Deserialize, Hash)]
#[serde(rename_all = "kebab-case")]
pub enum Category {
    Cluster,
    Crds,
    GatewayClasses,
    Gateways,
    Routes,
    Pools,
    EndpointPicker,
    ModelServers,
    Istio,
    Admission,
}

impl Category {
    /// Heading shown in the table.
    pub fn title(self) -> &'static str {
        match self {
            Category::Cluster => "Cluster",
            Category::Crds => "CRDs",
            Category::GatewayClasses => "GatewayClasses",
            Category::Gateways => "Gateways",
            Category::Routes => "HTTPRoutes",
            Category::Pools => "InferencePools",
            Category::EndpointPicker => "Endpoint picker",
            Category::ModelServers => "Model servers",
            Category::Istio => "Istio",
            Category::Admission => "Admission",
        }
    }
}

/// One problem found, about one object.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Finding {
    /// Stable code, e.g. LLMD-POOL-003 (see docs/checks.md).
    pub code: String,
    pub severity: Severity,
    pub category: Category,
    /// The object the finding is about.
    pub object: ObjectRef,
    /// What is wrong, and why it matters.
    pub message: String,
    /// The exact command or edit that fixes it.
    pub hint: String,
    /// Whether `doctor --fix` can repair it.
    pub fixable: bool,
    /// What `doctor --fix` does about it, when a repair is automated (not part of the JSON output).
    #[serde(skip)]
    pub repair: Option<crate::repair::Repair>,
}

/// Result of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum CheckStatus {
    Pass,
    Fail,
    Warn,
    Skip,
}

/// One check's outcome, as -o json shows it.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct CheckResult {
    pub code: String,
    pub title: String,
    pub category: Category,
    pub status: CheckStatus,
    /// Why it was skipped.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub reason: Option<String>,
    /// Whether the check reads cluster objects (not only the server version, which anyone may read).
    #[serde(skip, default)]
    pub reads_objects: bool,
}

/// Counts for the verdict line and -o json.
#[derive(Debug, Clone, Default, Serialize, Deserialize, PartialEq)]
pub struct Summary {
    pub errors: usize,
    pub warnings: usize,
    pub info: usize,
    pub skipped: usize,
}

/// A doctor report: checks, findings, summary.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Report {
    /// Where the snapshot came from ("context" name or "files").
    pub context: String,
    /// The version profile checked against.
    pub profile: String,
    pub summary: Summary,
    pub checks: Vec<CheckResult>,
    pub findings: Vec<Finding>,
    /// What the input lacked or what doctor assumed about it (a dump missing kinds).
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub notes: Vec<String>,
}

impl Report {
    /// Build from check results and findings, computing the summary.
    pub fn new(context: String, profile: String, checks: Vec<CheckResult>, mut findings: Vec<Finding>) -> Self {
        findings.sort_by(|a, b| {
            (a.category, b.severity, &a.code, &a.object).cmp(&(b.category, a.severity, &b.code, &b.object))
        });
        findings.dedup();
        let summary = Summary {
            errors: findings.iter().filter(|f| f.severity == Severity::Error).count(),
            warnings: findings.iter().filter(|f| f.severity == Severity::Warning).count(),
            info: findings.iter().filter(|f| f.severity == Severity::Info).count(),
            skipped: checks.iter().filter(|c| c.status == CheckStatus::Skip).count(),
        };
        Report { context, profile, summary, checks, findings, notes: Vec::new() }
    }

    /// A report with nothing in it.
    pub fn empty() -> Self {
        Report::new(String::new(), String::new(), Vec::new(), Vec::new())
    }

    /// True when every check that reads cluster objects was skipped: doctor looked at nothing.
    pub fn nothing_checked(&self) -> bool {
        let mut looked = self.checks.iter().filter(|c| c.reads_objects).peekable();
        looked.peek().is_some() && looked.all(|c| c.status == CheckStatus::Skip)
    }

    /// The worst severity found.
    pub fn worst(&self) -> Option<Severity> {
        self.findings.iter().map(|f| f.severity).max()
    }

    /// The exit status of a run with this report: 1 when a finding reaches `threshold` (None: never), else 0.
    pub fn exit_status(&self, threshold: Option<Severity>) -> u8 {
        match (self.worst(), threshold) {
            (Some(w), Some(t)) if w >= t => 1,
            _ => 0,
        }
    }
}
