//! `doctor --fix`: findings → plan → diff (validated by server-side dry run) → confirm → apply → doctor again.
//!
//! The checks compute what is wrong and attach a [`crate::repair::Repair`] to each finding they know how to
//! repair (pure data). This module turns the repairs of the chosen findings into a [`Plan`] (pure,
//! here), and `run` (in `apply.rs`) reads the live objects, shows each change as a diff, checks
//! permissions, validates with a server-side dry run, asks, and writes with server-side apply
//! (field manager `kubectl-llmd`).

pub mod apply;
pub mod controller;
pub mod diff;
pub mod migrate;

use crate::findings::{Finding, Report};
use crate::repair::{merge_repair, same_target, Change};
use std::collections::BTreeSet;

/// A `--fix=CODES` value that names no check.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum CodeFilterError {
    #[error("unknown check code {0:?} in --fix")]
    Unknown(String),
    #[error("--fix= names no code")]
    Empty,
}

/// Which findings `--fix` may repair.
#[derive(Debug, Clone, PartialEq)]
pub enum CodeFilter {
    All,
    Only(BTreeSet<String>),
}

impl CodeFilter {
    /// Parse `--fix[=CODES]`: "all" (the bare flag) or comma-separated codes; "RT-006" means LLMD-RT-006.
    /// Unknown codes are refused with the list of repairable ones.
    pub fn parse(raw: &str, known: &[&str]) -> Result<Self, CodeFilterError> {
        if raw.trim().eq_ignore_ascii_case("all") {
            return Ok(CodeFilter::All);
        }
        let mut codes = BTreeSet::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let up = part.to_ascii_uppercase();
            let code = if up.starts_with("LLMD-") { up } else { format!("LLMD-{up}") };
            if !known.contains(&code.as_str()) {
                return Err(CodeFilterError::Unknown(part.to_string()));
            }
            codes.insert(code);
        }
        if codes.is_empty() {
            return Err(CodeFilterError::Empty);
        }
        Ok(CodeFilter::Only(codes))
    }

    /// True when findings with `code` may be repaired.
    pub fn allows(&self, code: &str) -> bool {
        match self {
            CodeFilter::All => true,
            CodeFilter::Only(codes) => codes.contains(code),
        }
    }
}

/// What `--fix` will do: the changes, and the selected findings it cannot repair.
#[derive(Debug, Clone, Default)]
pub struct Plan {
    pub changes: Vec<Change>,
    /// Selected findings without an automatic repair (their hint is the way).
    pub manual: Vec<Finding>,
}

/// Build the plan from a report (pure): one change per object, repairs of one object merged.
pub fn build_plan(report: &Report, filter: &CodeFilter) -> Plan {
    let mut plan = Plan::default();
    for f in report.findings.iter().filter(|f| filter.allows(&f.code)) {
        let Some(repair) = &f.repair else {
            plan.manual.push(f.clone());
            continue;
        };
        match plan.changes.iter_mut().find(|c| same_target(&c.repair, repair)) {
            Some(existing) => {
                merge_repair(&mut existing.repair, repair);
                if !existing.codes.contains(&f.code) {
                    existing.codes.push(f.code.clone());
                    existing.codes.sort();
                }
            }
            None => plan.changes.push(Change { codes: vec![f.code.clone()], repair: repair.clone() }),
        }
    }
    // Deterministic order: CRD installs first, migrations last, the rest by object.
    plan.changes.sort_by_key(|c| (c.repair.rank(), c.repair.target()));
    plan
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::catalog::{BundleKind, ProviderId};
    use crate::findings::{Category, Severity};
    use crate::model::ObjectRef;
    use crate::repair::{apply_ops, touched_fields, ControllerUpgrade, Op, Repair};
    use serde_json::json;

    fn finding(code: &str, repair: Option<Repair>) -> Finding {
        Finding {
            code: code.into(),
            severity: Severity::Error,
            category: Category::Routes,
            object: ObjectRef::new("HTTPRoute", "gateway.networking.k8s.io", "ns", "r"),
            message: "m".into(),
            hint: "h".into(),
            fixable: repair.is_some(),
            repair,
        }
    }

    fn route() -> ObjectRef {
        ObjectRef::new("HTTPRoute", "gateway.networking.k8s.io", "ns", "r")
    }

    #[test]
    fn edits_of_one_object_merge_into_one_change() {
        let a = Repair::Edit { target: route(), ops: vec![Op::set("/spec/rules/0/backendRefs/0/group", "g")] };
        let b = Repair::Edit {
            target: route(),
            ops: vec![
                Op::set("/spec/rules/0/backendRefs/1/group", "g"),
                Op::set("/spec/rules/0/backendRefs/1/kind", "k"),
            ],
        };
        let report = Report::new(
            "c".into(),
            "p".into(),
            vec![],
            vec![finding("LLMD-RT-006", Some(a)), finding("LLMD-RT-007", Some(b)), finding("LLMD-RT-004", None)],
        );
        let plan = build_plan(&report, &CodeFilter::All);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].codes, vec!["LLMD-RT-006", "LLMD-RT-007"]);
        let Repair::Edit { ops, .. } = &plan.changes[0].repair else { panic!() };
        assert_eq!(ops.len(), 3);
        assert_eq!(plan.manual.len(), 1);
        assert_eq!(touched_fields(ops).into_iter().collect::<Vec<_>>(), vec!["/spec/rules"]);
    }

    #[test]
    fn filter_limits_codes_and_refuses_unknown_ones() {
        let known = ["LLMD-RT-006", "LLMD-RT-007"];
        let f = CodeFilter::parse("rt-006", &known).unwrap();
        assert!(f.allows("LLMD-RT-006") && !f.allows("LLMD-RT-007"));
        assert!(CodeFilter::parse("LLMD-NOPE-1", &known).is_err());
        assert_eq!(CodeFilter::parse("all", &known).unwrap(), CodeFilter::All);
        let report = Report::new(
            "c".into(),
            "p".into(),
            vec![],
            vec![finding("LLMD-RT-007", Some(Repair::Delete { target: route() }))],
        );
        assert!(build_plan(&report, &f).changes.is_empty());
    }

    #[test]
    fn creates_of_one_grant_union_their_lists() {
        let grant = |pool: &str| {
            json!({"apiVersion": "gateway.networking.k8s.io/v1beta1", "kind": "ReferenceGrant",
                   "metadata": {"name": "g", "namespace": "pools"},
                   "spec": {"from": [{"group": "gateway.networking.k8s.io", "kind": "HTTPRoute", "namespace": "apps"}],
                            "to": [{"group": "inference.networking.k8s.io", "kind": "InferencePool", "name": pool}]}})
        };
        let report = Report::new(
            "c".into(),
            "p".into(),
            vec![],
            vec![
                finding("LLMD-RT-008", Some(Repair::Create { object: grant("a") })),
                finding("LLMD-RT-008", Some(Repair::Create { object: grant("b") })),
            ],
        );
        let plan = build_plan(&report, &CodeFilter::All);
        assert_eq!(plan.changes.len(), 1);
        let Repair::Create { object } = &plan.changes[0].repair else { panic!() };
        assert_eq!(object["spec"]["from"].as_array().unwrap().len(), 1);
        assert_eq!(object["spec"]["to"].as_array().unwrap().len(), 2);
    }

    #[test]
    fn crd_installs_merge_into_one_change_that_runs_first() {
        let install = |kind: BundleKind, r: &str| Repair::InstallCrds { bundles: vec![(kind, r.to_string())] };
        let report = Report::new(
            "c".into(),
            "p".into(),
            vec![],
            vec![
                finding("LLMD-RT-007", Some(Repair::Delete { target: route() })),
                finding("LLMD-CRD-002", Some(install(BundleKind::Gaie, "v1.0.1"))),
                finding("LLMD-CRD-001", Some(install(BundleKind::GatewayApi, "v1.3.0"))),
                finding("LLMD-CRD-006", Some(install(BundleKind::Gaie, "v1.0.1"))),
                finding("LLMD-CRD-009", Some(Repair::MigrateStoredVersions { crd: "a.b".into() })),
            ],
        );
        let plan = build_plan(&report, &CodeFilter::All);
        assert_eq!(plan.changes.len(), 3);
        assert_eq!(plan.changes[0].codes, vec!["LLMD-CRD-001", "LLMD-CRD-002", "LLMD-CRD-006"]);
        assert_eq!(
            plan.changes[0].title(),
            "LLMD-CRD-001, LLMD-CRD-002, LLMD-CRD-006 · install CRD bundles Gateway API v1.3.0, GAIE v1.0.1"
        );
        assert!(matches!(plan.changes[2].repair, Repair::MigrateStoredVersions { .. }));
        // Only the GAIE findings chosen: only the GAIE bundle.
        let only = CodeFilter::parse("CRD-002", &["LLMD-CRD-002"]).unwrap();
        let plan = build_plan(&report, &only);
        assert_eq!(plan.changes[0].repair, install(BundleKind::Gaie, "v1.0.1"));
    }

    #[test]
    fn controller_switch_and_upgrade_stay_separate_changes() {
        let upgrade = |to: Option<&str>| {
            Repair::HelmUpgrade(ControllerUpgrade {
                provider: ProviderId::Istio,
                deployment: ObjectRef::new("Deployment", "apps", "istio-system", "istiod"),
                release: Some(("istiod".into(), "istio-system".into())),
                to_version: to.map(str::to_string),
                running: Some("1.27.3".into()),
                set: vec![],
                by_hand: "helm upgrade …".into(),
            })
        };
        let report = Report::new(
            "c".into(),
            "p".into(),
            vec![],
            vec![
                finding("LLMD-GWC-005", Some(upgrade(None))),
                finding("LLMD-GWC-006", Some(upgrade(Some("1.28.0")))),
                finding("LLMD-GWC-001", Some(Repair::InstallControlPlane { choices: vec![ProviderId::Istio] })),
            ],
        );
        let plan = build_plan(&report, &CodeFilter::All);
        let codes: Vec<_> = plan.changes.iter().map(|c| c.codes.join(",")).collect();
        // The control plane first; the switch (at the installed chart) before the version upgrade.
        assert_eq!(codes, vec!["LLMD-GWC-001", "LLMD-GWC-005", "LLMD-GWC-006"]);
        assert_eq!(plan.changes[0].title(), "LLMD-GWC-001 · install a gateway control plane");
        assert_eq!(
            plan.changes[2].title(),
            "LLMD-GWC-006 · helm upgrade the release of Deployment istio-system/istiod"
        );
        let only = CodeFilter::parse("GWC-006", &["LLMD-GWC-006"]).unwrap();
        let plan = build_plan(&report, &only);
        assert_eq!(plan.changes.len(), 1);
        assert_eq!(plan.changes[0].repair, upgrade(Some("1.28.0")));
    }

    #[test]
    fn ops_set_nested_fields_and_push_once() {
        let mut obj =
            json!({"spec": {"rules": [{"backendRefs": [{"name": "p", "weight": 3}]}], "to": [{"group": "x"}]}});
        apply_ops(
            &mut obj,
            &[
                Op::set("/spec/rules/0/backendRefs/0/group", "inference.networking.k8s.io"),
                Op::set("/spec/endpointPickerRef/port/number", 9002),
                Op::push("/spec/to", json!({"group": "y"})),
                Op::push("/spec/to", json!({"group": "y"})),
            ],
        )
        .unwrap();
        assert_eq!(
            obj,
            json!({"spec": {"rules": [{"backendRefs": [{"name": "p", "weight": 3, "group": "inference.networking.k8s.io"}]}],
                             "to": [{"group": "x"}, {"group": "y"}], "endpointPickerRef": {"port": {"number": 9002}}}})
        );
        assert!(apply_ops(&mut obj, &[Op::set("/spec/rules/5/backendRefs/0/group", "g")]).is_err());
    }
}
