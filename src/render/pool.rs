//! `pool status` output: kubectl-style table, wide table, and the routing tree.

use super::{Style, FAIL, PASS, WARN};
use crate::fleet::ContextPools;
use crate::routing::{Health, Node, PoolStatus};
use comfy_table::{presets::NOTHING, CellAlignment, ContentArrangement, Table};
use std::fmt::Write;

/// The table kubectl users expect: upper-case headers, no borders, three spaces between columns.
pub fn render_table(pools: &[PoolStatus], all_namespaces: bool, wide: bool) -> String {
    if pools.is_empty() {
        return String::new();
    }
    let rows = pools
        .iter()
        .map(|p| {
            let mut row = Vec::new();
            if all_namespaces {
                row.push(p.namespace.clone());
            }
            row.extend(pool_cells(p, wide));
            row
        })
        .collect();
    layout(header(false, all_namespaces, wide), rows)
}

/// `pool status --contexts/--all-contexts`: the same table with a CONTEXT column first; a context that
/// could not be read is one row whose STATUS says why (`unreachable`, `invalid`).
pub fn render_fleet_table(contexts: &[ContextPools], all_namespaces: bool, wide: bool) -> String {
    let header = header(true, all_namespaces, wide);
    let mut rows = Vec::new();
    for c in contexts {
        if let Some(verdict) = c.verdict {
            let mut row = vec![c.context.clone()];
            row.resize(header.len() - 1, "-".to_string());
            let status = header.iter().position(|h| *h == "STATUS").unwrap_or(row.len());
            row.insert(status, verdict.as_str().to_string());
            rows.push(row);
            continue;
        }
        for p in &c.pools {
            let mut row = vec![c.context.clone()];
            if all_namespaces {
                row.push(p.namespace.clone());
            }
            row.extend(pool_cells(p, wide));
            rows.push(row);
        }
    }
    if rows.is_empty() {
        return String::new();
    }
    layout(header, rows)
}

fn header(context: bool, all_namespaces: bool, wide: bool) -> Vec<&'static str> {
    let mut header = Vec::new();
    if context {
        header.push("CONTEXT");
    }
    if all_namespaces {
        header.push("NAMESPACE");
    }
    header.extend(["NAME", "API", "GATEWAYS", "ROUTES", "EPP", "ENDPOINTS", "STATUS"]);
    if wide {
        header.extend(["SELECTOR", "TARGET PORTS", "FAILURE MODE", "EPP PORT", "APP PROTOCOL"]);
    }
    header
}

/// The columns from NAME on.
fn pool_cells(p: &PoolStatus, wide: bool) -> Vec<String> {
    let epp = if p.epp_service.is_empty() { "<none>".to_string() } else { format!("{} {}", p.epp_service, p.epp) };
    let status = if p.needs_migration { format!("{} (migrate to v1)", p.status) } else { p.status.clone() };
    let mut row = vec![
        p.name.clone(),
        p.api.clone(),
        p.gateways.to_string(),
        p.routes.to_string(),
        epp,
        p.endpoints.to_string(),
        status,
    ];
    if wide {
        let ports = p.target_ports.iter().map(|x| x.to_string()).collect::<Vec<_>>().join(",");
        row.extend([
            if p.selector.is_empty() { "<none>".into() } else { p.selector.clone() },
            if ports.is_empty() { "<none>".into() } else { ports },
            p.failure_mode.clone(),
            p.epp_port.map_or("<none>".into(), |x| x.to_string()),
            p.app_protocol.clone(),
        ]);
    }
    row
}

/// kubectl's table layout: upper-case headers, no borders, three spaces between columns.
pub(crate) fn layout(header: Vec<&str>, rows: Vec<Vec<String>>) -> String {
    let mut table = Table::new();
    table.load_style(NOTHING).set_content_arrangement(ContentArrangement::Disabled);
    table.set_header(header);
    for row in rows {
        table.add_row(row);
    }
    for col in table.column_iter_mut() {
        col.set_padding((0, 3)).set_cell_alignment(CellAlignment::Left);
    }
    let mut out = String::new();
    for line in table.to_string().lines() {
        let _ = writeln!(out, "{}", line.trim_end());
    }
    out
}

/// The routing tree of each pool, every node marked ✔ ‼ ✖ with the findings that break it.
pub fn render_tree(pools: &[PoolStatus], style: Style) -> String {
    let mut out = String::new();
    for (i, p) in pools.iter().enumerate() {
        if i > 0 {
            out.push('\n');
        }
        let migrate = if p.needs_migration { " — x-k8s pool: migrate to inference.networking.k8s.io/v1" } else { "" };
        let _ = writeln!(
            out,
            "{} {}/{} ({}){}: {}",
            style.bold("InferencePool"),
            p.namespace,
            p.name,
            p.api,
            migrate,
            p.status
        );
        for (j, n) in p.tree.iter().enumerate() {
            write_node(&mut out, n, "", j + 1 == p.tree.len(), style);
        }
    }
    out
}

fn write_node(out: &mut String, n: &Node, prefix: &str, last: bool, style: Style) {
    let branch = if last { "└─ " } else { "├─ " };
    let mark = match n.health {
        Health::Ok => style.ok(PASS),
        Health::Warning => style.warn(WARN),
        Health::Broken => style.bad(FAIL),
    };
    let name = if n.object.namespace.is_empty() || n.object.kind == "Pods" {
        n.object.name.clone()
    } else {
        format!("{}/{}", n.object.namespace, n.object.name)
    };
    let label = if n.object.kind == "Pods" { format!("Pods {name}") } else { format!("{} {name}", n.object.kind) };
    let _ = writeln!(out, "{prefix}{branch}{mark} {label} {}", style.dim(&format!("({})", n.detail)));
    let child_prefix = format!("{prefix}{}", if last { "   " } else { "│  " });
    for f in &n.findings {
        let sym = match f.severity {
            crate::findings::Severity::Error => style.bad(FAIL),
            crate::findings::Severity::Warning => style.warn(WARN),
            crate::findings::Severity::Info => style.dim("i"),
        };
        let _ = writeln!(out, "{child_prefix}   {sym} {} [{}]", f.message, f.code);
        let _ = writeln!(out, "{child_prefix}     {} {}", style.dim("hint:"), f.hint);
    }
    for (i, c) in n.children.iter().enumerate() {
        write_node(out, c, &child_prefix, i + 1 == n.children.len(), style);
    }
}
