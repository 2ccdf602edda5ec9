//! The CRD half of an install, shared by `gateway install` and `doctor --fix`: read the bundles
//! (upstream by ref, a mirror, or files), plan them over what the cluster has (with the planner's
//! refusals), validate every write with a server-side dry run, apply, and list what to wait for.

use super::apply;
use super::plan::{self, Action, ClusterFacts, Plan, PlanItem};
use super::source::{self, Bundle, CrdSource};
use crate::catalog::BundleKind;
use crate::catalog::SAFE_UPGRADES_POLICY;
use crate::cluster::write::Permission;
use crate::cluster::Connection;
use crate::error::Result;
use crate::render::{FAIL, WARN};
use crate::snapshot::Snapshot;
use serde_json::Value;
use std::time::Duration;

const CRD_KIND: &str = "CustomResourceDefinition";
const APIEXT: &str = "apiextensions.k8s.io";
const CRD_RESOURCE: &str = "customresourcedefinitions";
const ADMISSION: &str = "admissionregistration.k8s.io";

/// Read the bundles of `wanted` (kind, git ref): from files, every bundle the files hold (they carry
/// their own versions); upstream or from a mirror, each kind at its ref.
pub async fn load_bundles(
    source: &CrdSource,
    wanted: &[(BundleKind, String)],
    timeout: Duration,
) -> Result<Vec<Bundle>> {
    match source {
        CrdSource::Files(path) => source::read_files(path),
        CrdSource::Upstream { .. } => {
            let mut out = Vec::new();
            for (kind, git_ref) in wanted {
                out.push(source::fetch_bundle(source, *kind, git_ref, timeout).await?);
            }
            Ok(out)
        }
    }
}

/// Where bundles came from, in one line.
pub fn origin_summary(origin: &[String]) -> String {
    match origin {
        [] => "nowhere".into(),
        [one] => one.clone(),
        [first, ..] => {
            let dir = first.rsplit_once('/').map_or(first.as_str(), |(d, _)| d);
            format!("{} files under {dir}/", origin.len())
        }
    }
}

/// What applying the bundles would do, with what was read from the cluster to decide it.
#[derive(Debug, Clone)]
pub struct CrdPlan {
    pub bundles: Vec<Bundle>,
    /// The installed CRDs and the bundles' other objects as they are in the cluster.
    pub installed: Vec<Value>,
    pub plan: Plan,
}

impl CrdPlan {
    /// "Gateway API v1.3.0, GAIE v1.0.1".
    pub fn label(&self) -> String {
        self.bundles.iter().map(|b| format!("{} {}", b.kind.label(), b.git_ref)).collect::<Vec<_>>().join(", ")
    }

    /// The items that write something, in apply order.
    pub fn writes(&self) -> impl Iterator<Item = &PlanItem> {
        self.plan.items.iter().filter(|i| i.writes())
    }

    /// Permissions the writes need besides creating and patching CRDs.
    pub fn extra_permissions(&self) -> Vec<Permission> {
        let mut needed = Vec::new();
        if self.plan.items.iter().any(|i| matches!(i.action, Action::Remove { .. })) {
            needed.push(Permission::cluster("delete", APIEXT, CRD_RESOURCE));
        }
        for item in self.writes().filter(|i| i.kind != CRD_KIND) {
            let resource = match item.kind.as_str() {
                "ValidatingAdmissionPolicy" => "validatingadmissionpolicies",
                "ValidatingAdmissionPolicyBinding" => "validatingadmissionpolicybindings",
                _ => continue,
            };
            for verb in ["create", "patch"] {
                let p = Permission::cluster(verb, ADMISSION, resource);
                if !needed.contains(&p) {
                    needed.push(p);
                }
            }
        }
        needed
    }

    /// Every permission the writes need (CRD create/patch included), for callers that check them all at once.
    pub fn permissions(&self) -> Vec<Permission> {
        let mut needed = Vec::new();
        if self.writes().any(|i| i.kind == CRD_KIND && !matches!(i.action, Action::Remove { .. })) {
            needed.push(Permission::cluster("create", APIEXT, CRD_RESOURCE));
            needed.push(Permission::cluster("patch", APIEXT, CRD_RESOURCE));
        }
        needed.extend(self.extra_permissions());
        needed
    }

    /// The CRDs to wait for after applying (created or changed).
    pub fn established_names(&self) -> Vec<String> {
        self.plan
            .items
            .iter()
            .filter(|i| {
                i.kind == CRD_KIND
                    && matches!(i.action, Action::Create | Action::Upgrade { .. } | Action::Update { .. })
            })
            .map(|i| i.name.clone())
            .collect()
    }

    /// The plan as the user reads it.
    pub fn render(&self) -> String {
        render_plan(&self.plan, &self.label())
    }
}

/// What the planner needs to know of the cluster beyond its CRDs, from the caller's snapshot: whether
/// the Gateway API safe-upgrades ValidatingAdmissionPolicy is installed, and the server version.
pub fn cluster_facts(snap: &Snapshot) -> ClusterFacts {
    ClusterFacts {
        safe_upgrades_policy: snap
            .admission_policies
            .items()
            .iter()
            .any(|p| p.metadata.name.as_deref() == Some(SAFE_UPGRADES_POLICY)),
        server_version: snap.server_version.items().first().cloned(),
        ..Default::default()
    }
}

/// Read what the cluster has of the bundles' objects and plan the install.
pub async fn plan_crds(conn: &Connection, bundles: Vec<Bundle>, mut facts: ClusterFacts) -> Result<CrdPlan> {
    let mut installed = apply::list_crds(conn).await?;
    let others: Vec<&Value> = bundles
        .iter()
        .flat_map(|b| &b.objects)
        .filter(|o| o.get("kind").and_then(Value::as_str) != Some(CRD_KIND))
        .collect();
    installed.extend(apply::get_objects(conn, &others).await?);
    for name in plan::removed_crds(&installed, &bundles) {
        if let Some(crd) = installed.iter().find(|c| c.pointer("/metadata/name").and_then(Value::as_str) == Some(&name))
        {
            facts.object_counts.insert(name.clone(), apply::count_objects(conn, crd).await?);
        }
    }
    let plan = plan::plan(&installed, &bundles, &facts);
    Ok(CrdPlan { bundles, installed, plan })
}

/// Write (or, with `dry_run`, validate by server-side dry run) every item that writes, in order.
/// Stops at the first failure.
pub async fn write(conn: &Connection, crd_plan: &CrdPlan, dry_run: bool) -> Result<()> {
    for item in crd_plan.writes() {
        write_item(conn, item, &crd_plan.installed, dry_run).await?;
    }
    Ok(())
}

async fn write_item(conn: &Connection, item: &PlanItem, installed: &[Value], dry_run: bool) -> Result<()> {
    let current = installed.iter().find(|o| {
        o.get("kind").and_then(Value::as_str) == Some(item.kind.as_str())
            && o.pointer("/metadata/name").and_then(Value::as_str) == Some(item.name.as_str())
    });
    match (&item.action, &item.object) {
        (Action::Remove { .. }, _) => match current {
            Some(obj) => apply::delete(conn, obj, dry_run).await,
            None => Ok(()),
        },
        (_, Some(obj)) => apply::apply(conn, obj, current, dry_run).await,
        _ => Ok(()),
    }
}

/// The plan as the user reads it.
pub fn render_plan(plan: &Plan, label: &str) -> String {
    let mut s = format!("CRD plan ({label}):\n");
    let width = plan.items.iter().map(|i| i.name.len()).max().unwrap_or(0);
    for item in &plan.items {
        let (symbol, what) = match &item.action {
            Action::Create => ("+", "create".to_string()),
            Action::Upgrade { from, to } => ("↑", format!("upgrade {from} → {to}")),
            Action::Update { version } => ("~", format!("update (same version {version}, content differs)")),
            Action::Unchanged => ("=", "unchanged".to_string()),
            Action::Downgrade { from, to } => (FAIL, format!("downgrade {from} → {to} refused")),
            Action::Remove { objects } => ("-", format!("remove (no longer in the bundle; {objects} object(s))")),
        };
        let symbol = if item.refusal.is_some() { FAIL } else { symbol };
        let name = if item.kind == CRD_KIND { item.name.clone() } else { format!("{} {}", item.kind, item.name) };
        s.push_str(&format!("  {symbol} {name:<width$}  {what}\n"));
        for w in &item.warnings {
            s.push_str(&format!("      {WARN} {w}\n"));
        }
        if let Some(r) = &item.refusal {
            s.push_str(&format!("      refused: {}\n      way out: {}\n", r.reason, r.way_out));
        }
    }
    s.trim_end().to_string()
}
