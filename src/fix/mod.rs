//! `doctor --fix`: findings → plan → diff (validated by server-side dry run) → confirm → apply → doctor again.
//!
//! The checks compute what is wrong and attach a [`Repair`] to each finding they know how to
//! repair (pure data). This module turns the repairs of the chosen findings into a [`Plan`] (pure,
//! here), and `run` (in `apply.rs`) reads the live objects, shows each change as a diff, checks
//! permissions, validates with a server-side dry run, asks, and writes with server-side apply
//! (field manager `kubectl-llmd`).

pub mod apply;
pub mod controller;
pub mod diff;
pub mod migrate;
pub mod run;

use crate::catalog::providers::ProviderId;
use crate::findings::{Finding, Report};
use crate::install::source::BundleKind;
use crate::model::ObjectRef;
use serde_json::Value;
use std::collections::BTreeSet;

/// The field manager of every write.
pub use crate::cluster::write::FIELD_MANAGER;

/// One edit of an object, addressed by a JSON pointer (RFC 6901) into the object as read.
#[derive(Debug, Clone, PartialEq)]
pub enum Op {
    /// Set the value at `path`, creating missing parent objects.
    Set { path: String, value: Value },
    /// Append `value` to the array at `path` (created when missing) unless an equal element is there.
    Push { path: String, value: Value },
}

impl Op {
    /// Set `path` to `value`.
    pub fn set(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Op::Set { path: path.into(), value: value.into() }
    }

    /// Append `value` to the array at `path`.
    pub fn push(path: impl Into<String>, value: impl Into<Value>) -> Self {
        Op::Push { path: path.into(), value: value.into() }
    }

    fn path(&self) -> &str {
        match self {
            Op::Set { path, .. } | Op::Push { path, .. } => path,
        }
    }
}

/// What `doctor --fix` does about one finding (machine-readable; attached by the check).
#[derive(Debug, Clone, PartialEq)]
pub enum Repair {
    /// Change fields of an existing object; the ops are applied to the object as read from the server.
    Edit { target: ObjectRef, ops: Vec<Op> },
    /// Make sure an object exists with at least this content (apiVersion picks the group; the version
    /// is the one the cluster serves). An existing object of that name is merged into, never replaced.
    Create { object: Value },
    /// Delete an object.
    Delete { target: ObjectRef },
    /// Rewrite every object of the CRD at its storage version, then set status.storedVersions to it.
    MigrateStoredVersions { crd: String },
    /// Install or upgrade CRD bundles (kind, git ref) through `gateway install`'s code path: its
    /// sources, its planner (with its refusals), server-side apply, wait for Established.
    InstallCrds { bundles: Vec<(BundleKind, String)> },
    /// `helm upgrade` of a gateway controller's release through `gateway install`'s helm runner.
    HelmUpgrade(ControllerUpgrade),
    /// Install a gateway control plane through `gateway install`: the provider `--provider` names,
    /// one of `choices` (none is guessed).
    InstallControlPlane { choices: Vec<ProviderId> },
}

/// A `helm upgrade` of the release behind a gateway controller Deployment (pure data, from the check).
#[derive(Debug, Clone, PartialEq)]
pub struct ControllerUpgrade {
    pub provider: ProviderId,
    /// The controller Deployment the finding is about.
    pub deployment: ObjectRef,
    /// Release and namespace from the Deployment's `meta.helm.sh/release-*` annotations; None:
    /// looked up with `helm list` (a release of the catalog's name in the provider's namespace).
    pub release: Option<(String, String)>,
    /// Upgrade to this chart version (LLMD-GWC-006); None: stay at the installed chart version
    /// (LLMD-GWC-005).
    pub to_version: Option<String>,
    /// The version the controller runs (its image tag), when known: never upgraded downwards.
    pub running: Option<String>,
    /// `--set` values (the provider's inference switch).
    pub set: Vec<(String, String)>,
    /// The command for the way it is installed, shown when no helm release can be changed.
    pub by_hand: String,
}

impl Repair {
    /// The object the repair writes.
    pub fn target(&self) -> ObjectRef {
        match self {
            Repair::Edit { target, .. } | Repair::Delete { target } => target.clone(),
            Repair::Create { object } => object_ref(object),
            Repair::MigrateStoredVersions { crd } => {
                ObjectRef::new("CustomResourceDefinition", "apiextensions.k8s.io", "", crd)
            }
            // One change installs every bundle the findings need: one target for all of them.
            Repair::InstallCrds { .. } => ObjectRef::new("CustomResourceDefinition", "apiextensions.k8s.io", "", ""),
            Repair::HelmUpgrade(u) => u.deployment.clone(),
            Repair::InstallControlPlane { .. } => ObjectRef::new("GatewayClass", crate::model::groups::GATEWAY, "", ""),
        }
    }

    fn verb(&self) -> &'static str {
        match self {
            Repair::Edit { .. } => "patch",
            Repair::Create { .. } => "apply",
            Repair::Delete { .. } => "delete",
            Repair::MigrateStoredVersions { .. } => "migrate",
            Repair::InstallCrds { .. } => "install",
            Repair::HelmUpgrade(_) => "helm upgrade the release of",
            Repair::InstallControlPlane { .. } => "install",
        }
    }

    /// Where the change runs in the plan: CRD installs first (other repairs may need their kinds),
    /// migrations last (slow and independent).
    fn rank(&self) -> u8 {
        match self {
            Repair::InstallCrds { .. } => 0,
            // A control plane needs the CRDs; edits of Gateways (LLMD-GWC-002) may name its class.
            Repair::InstallControlPlane { .. } => 1,
            Repair::MigrateStoredVersions { .. } => 3,
            _ => 2,
        }
    }
}

/// The identity of a manifest (kind, group from apiVersion, namespace, name).
pub fn object_ref(object: &Value) -> ObjectRef {
    let s = |p: &str| object.pointer(p).and_then(Value::as_str).unwrap_or("");
    let api_version = s("/apiVersion");
    let group = if api_version.contains('/') { api_version.split('/').next().unwrap_or("") } else { "" };
    ObjectRef::new(s("/kind"), group, s("/metadata/namespace"), s("/metadata/name"))
}

/// One change of the plan: one object, the finding codes it repairs.
#[derive(Debug, Clone, PartialEq)]
pub struct Change {
    /// Codes of the findings this change repairs, sorted.
    pub codes: Vec<String>,
    pub repair: Repair,
}

impl Change {
    /// "LLMD-RT-006 · patch HTTPRoute ns/name".
    pub fn title(&self) -> String {
        if let Repair::InstallCrds { bundles } = &self.repair {
            let what: Vec<String> = bundles.iter().map(|(k, r)| format!("{} {r}", k.label())).collect();
            return format!("{} · install CRD bundles {}", self.codes.join(", "), what.join(", "));
        }
        if let Repair::InstallControlPlane { .. } = &self.repair {
            return format!("{} · install a gateway control plane", self.codes.join(", "));
        }
        format!("{} · {} {}", self.codes.join(", "), self.repair.verb(), self.repair.target())
    }
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
    pub fn parse(raw: &str, known: &[&str]) -> Result<Self, String> {
        if raw.trim().eq_ignore_ascii_case("all") {
            return Ok(CodeFilter::All);
        }
        let mut codes = BTreeSet::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let up = part.to_ascii_uppercase();
            let code = if up.starts_with("LLMD-") { up } else { format!("LLMD-{up}") };
            if !known.contains(&code.as_str()) {
                return Err(format!("unknown check code {part:?} in --fix"));
            }
            codes.insert(code);
        }
        if codes.is_empty() {
            return Err("--fix= names no code".into());
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

fn same_target(a: &Repair, b: &Repair) -> bool {
    if let (Repair::HelmUpgrade(x), Repair::HelmUpgrade(y)) = (a, b) {
        // The switch (LLMD-GWC-005) and the version upgrade (LLMD-GWC-006) stay separate changes,
        // so either can be chosen alone.
        return x == y;
    }
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.target() == b.target()
}

fn merge_repair(into: &mut Repair, other: &Repair) {
    match (into, other) {
        (Repair::Edit { ops, .. }, Repair::Edit { ops: more, .. }) => {
            for op in more {
                if !ops.contains(op) {
                    ops.push(op.clone());
                }
            }
        }
        (Repair::Create { object }, Repair::Create { object: more }) => merge_union(object, more),
        (Repair::InstallCrds { bundles }, Repair::InstallCrds { bundles: more }) => {
            for b in more {
                if !bundles.iter().any(|(k, _)| *k == b.0) {
                    bundles.push(b.clone());
                }
            }
            bundles.sort();
        }
        _ => {}
    }
}

/// Deep merge: objects key by key, arrays as a union (elements not already present are appended).
pub fn merge_union(into: &mut Value, other: &Value) {
    match (into, other) {
        (Value::Object(a), Value::Object(b)) => {
            for (k, v) in b {
                match a.get_mut(k) {
                    Some(existing) => merge_union(existing, v),
                    None => {
                        a.insert(k.clone(), v.clone());
                    }
                }
            }
        }
        (Value::Array(a), Value::Array(b)) => {
            for v in b {
                if !a.contains(v) {
                    a.push(v.clone());
                }
            }
        }
        (slot, v) => *slot = v.clone(),
    }
}

fn unescape(token: &str) -> String {
    token.replace("~1", "/").replace("~0", "~")
}

/// Apply ops to an object (pure). Fails when a path runs through something that is not an object
/// or array, or indexes past the end of an array (the object changed since it was diagnosed).
pub fn apply_ops(object: &mut Value, ops: &[Op]) -> Result<(), String> {
    for op in ops {
        let tokens: Vec<String> = op.path().trim_start_matches('/').split('/').map(unescape).collect();
        let (last, parents) = tokens.split_last().ok_or_else(|| format!("empty path in {op:?}"))?;
        let mut cur = &mut *object;
        for t in parents {
            cur = step(cur, t, op.path())?;
        }
        if cur.is_null() {
            *cur = Value::Object(Default::default());
        }
        match op {
            Op::Set { value, .. } => match cur {
                Value::Object(m) => {
                    m.insert(last.clone(), value.clone());
                }
                Value::Array(a) => {
                    let i: usize = last.parse().map_err(|_| format!("{} is not an array index", op.path()))?;
                    let slot = a.get_mut(i).ok_or_else(|| format!("{} does not exist any more", op.path()))?;
                    *slot = value.clone();
                }
                _ => return Err(format!("{} does not lead to an object", op.path())),
            },
            Op::Push { value, .. } => {
                let arr = step(cur, last, op.path())?;
                if arr.is_null() {
                    *arr = Value::Array(Vec::new());
                }
                let a = arr.as_array_mut().ok_or_else(|| format!("{} is not a list", op.path()))?;
                if !a.contains(value) {
                    a.push(value.clone());
                }
            }
        }
    }
    Ok(())
}

fn step<'a>(cur: &'a mut Value, token: &str, path: &str) -> Result<&'a mut Value, String> {
    if cur.is_null() {
        *cur = Value::Object(Default::default());
    }
    match cur {
        Value::Object(m) => Ok(m.entry(token.to_string()).or_insert(Value::Null)),
        Value::Array(a) => {
            let i: usize = token.parse().map_err(|_| format!("{path}: {token} is not an array index"))?;
            a.get_mut(i).ok_or_else(|| format!("{path} does not exist any more"))
        }
        _ => Err(format!("{path} runs through a value that is not an object")),
    }
}

/// The top-level fields (`/spec/rules`, `/spec/host`, …) the ops touch: an apply patch carries these
/// whole, as read and changed, so lists the server treats as atomic keep every other element.
pub fn touched_fields(ops: &[Op]) -> BTreeSet<String> {
    ops.iter()
        .map(|op| {
            let parts: Vec<&str> = op.path().trim_start_matches('/').splitn(3, '/').collect();
            match parts.as_slice() {
                [a, b, ..] => format!("/{a}/{b}"),
                [a] => format!("/{a}"),
                [] => String::new(),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Category, Severity};
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
