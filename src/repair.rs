//! What `doctor --fix` can do about a finding, as pure data: the edit ops, the [`Repair`] a check
//! attaches to a finding, and the pure operations on them (merge, apply ops to an object, the fields
//! they touch). A leaf below `findings` and `checks`; `fix` does the I/O.

use crate::catalog::providers::ProviderId;
use crate::catalog::BundleKind;
use crate::model::ObjectRef;
use serde_json::Value;
use std::collections::BTreeSet;

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
    pub fn rank(&self) -> u8 {
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

pub fn same_target(a: &Repair, b: &Repair) -> bool {
    if let (Repair::HelmUpgrade(x), Repair::HelmUpgrade(y)) = (a, b) {
        // The switch (LLMD-GWC-005) and the version upgrade (LLMD-GWC-006) stay separate changes,
        // so either can be chosen alone.
        return x == y;
    }
    std::mem::discriminant(a) == std::mem::discriminant(b) && a.target() == b.target()
}

pub fn merge_repair(into: &mut Repair, other: &Repair) {
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

/// Why an op cannot be applied to the object as read (it changed since it was diagnosed).
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum OpError {
    #[error("empty path in {0}")]
    EmptyPath(String),
    #[error("{0} is not an array index")]
    NotAnIndex(String),
    #[error("{path}: {token} is not an array index")]
    TokenNotAnIndex { path: String, token: String },
    #[error("{0} does not exist any more")]
    Gone(String),
    #[error("{0} does not lead to an object")]
    NotAnObject(String),
    #[error("{0} is not a list")]
    NotAList(String),
    #[error("{0} runs through a value that is not an object")]
    ThroughScalar(String),
}

/// Apply ops to an object (pure). Fails when a path runs through something that is not an object
/// or array, or indexes past the end of an array (the object changed since it was diagnosed).
pub fn apply_ops(object: &mut Value, ops: &[Op]) -> Result<(), OpError> {
    for op in ops {
        let tokens: Vec<String> = op.path().trim_start_matches('/').split('/').map(unescape).collect();
        let (last, parents) = tokens.split_last().ok_or_else(|| OpError::EmptyPath(format!("{op:?}")))?;
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
                    let i: usize = last.parse().map_err(|_| OpError::NotAnIndex(op.path().to_string()))?;
                    let slot = a.get_mut(i).ok_or_else(|| OpError::Gone(op.path().to_string()))?;
                    *slot = value.clone();
                }
                _ => return Err(OpError::NotAnObject(op.path().to_string())),
            },
            Op::Push { value, .. } => {
                let arr = step(cur, last, op.path())?;
                if arr.is_null() {
                    *arr = Value::Array(Vec::new());
                }
                let a = arr.as_array_mut().ok_or_else(|| OpError::NotAList(op.path().to_string()))?;
                if !a.contains(value) {
                    a.push(value.clone());
                }
            }
        }
    }
    Ok(())
}

fn step<'a>(cur: &'a mut Value, token: &str, path: &str) -> Result<&'a mut Value, OpError> {
    if cur.is_null() {
        *cur = Value::Object(Default::default());
    }
    match cur {
        Value::Object(m) => Ok(m.entry(token.to_string()).or_insert(Value::Null)),
        Value::Array(a) => {
            let i: usize = token
                .parse()
                .map_err(|_| OpError::TokenNotAnIndex { path: path.to_string(), token: token.to_string() })?;
            a.get_mut(i).ok_or_else(|| OpError::Gone(path.to_string()))
        }
        _ => Err(OpError::ThroughScalar(path.to_string())),
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
