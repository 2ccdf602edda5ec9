//! `pool status -o dot|mermaid`: the routing picture (GatewayClass → Gateway → HTTPRoute →
//! InferencePool → endpoint picker → pods) as one graph, for runbooks and docs. An object shared by
//! several pools (a GatewayClass, a Gateway) is one node. Nodes and the links into them are
//! coloured by health; a link into a broken or degraded node is dashed and labelled with the
//! finding's code, so the picture reads without colour too.

use super::{FAIL, WARN};
use crate::findings::Severity;
use crate::model::ObjectRef;
use crate::routing::{Health, Node, PoolStatus};
use std::fmt::Write;

const GREEN: &str = "#2e7d32";
const AMBER: &str = "#ef6c00";
const RED: &str = "#c62828";

struct GraphNode {
    key: ObjectRef,
    lines: Vec<String>,
    health: Health,
    /// The first error (or else warning) code about the object.
    code: Option<String>,
}

struct Graph {
    nodes: Vec<GraphNode>,
    /// (from, to) node indexes, in first-seen order.
    edges: Vec<(usize, usize)>,
}

impl Graph {
    fn of(pools: &[PoolStatus]) -> Self {
        let mut g = Graph { nodes: Vec::new(), edges: Vec::new() };
        for p in pools {
            for root in &p.tree {
                g.visit(root, None);
            }
        }
        g
    }

    fn visit(&mut self, n: &Node, parent: Option<usize>) {
        let idx = match self.nodes.iter().position(|g| g.key == n.object) {
            Some(i) => {
                self.nodes[i].health = self.nodes[i].health.max(n.health);
                i
            }
            None => {
                self.nodes.push(graph_node(n));
                self.nodes.len() - 1
            }
        };
        if let Some(from) = parent {
            if !self.edges.contains(&(from, idx)) {
                self.edges.push((from, idx));
            }
        }
        for c in &n.children {
            self.visit(c, Some(idx));
        }
    }

    /// The mark and label of a link into `to`: none when the node is healthy.
    fn link_label(&self, to: usize) -> Option<String> {
        let n = &self.nodes[to];
        let mark = match n.health {
            Health::Ok => return None,
            Health::Warning => WARN,
            Health::Broken => FAIL,
        };
        Some(match &n.code {
            Some(code) => format!("{mark} {code}"),
            None => mark.to_string(),
        })
    }
}

fn graph_node(n: &Node) -> GraphNode {
    let o = &n.object;
    let name =
        if o.namespace.is_empty() || o.kind == "Pods" { o.name.clone() } else { format!("{}/{}", o.namespace, o.name) };
    let mut lines = vec![format!("{} {name}", o.kind), n.detail.clone()];
    // Errors first, each code once.
    let mut codes: Vec<(Severity, &str)> = Vec::new();
    for f in n.findings.iter().filter(|f| f.severity >= Severity::Warning) {
        if !codes.iter().any(|(_, c)| *c == f.code) {
            codes.push((f.severity, &f.code));
        }
    }
    codes.sort_by_key(|(severity, _)| std::cmp::Reverse(*severity));
    for (severity, code) in &codes {
        lines.push(format!("{} {code}", if *severity == Severity::Error { FAIL } else { WARN }));
    }
    GraphNode { key: o.clone(), lines, health: n.health, code: codes.first().map(|(_, c)| c.to_string()) }
}

fn colour(h: Health) -> &'static str {
    match h {
        Health::Ok => GREEN,
        Health::Warning => AMBER,
        Health::Broken => RED,
    }
}

/// Graphviz DOT (`dot -Tsvg`).
pub fn render_dot(pools: &[PoolStatus]) -> String {
    let g = Graph::of(pools);
    let esc = |s: &str| s.replace('\\', "\\\\").replace('"', "\\\"");
    let mut out = String::from("digraph routing {\n  rankdir=LR;\n");
    out.push_str("  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n");
    out.push_str("  edge [fontname=\"Helvetica\", fontsize=10];\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let label = n.lines.iter().map(|l| esc(l)).collect::<Vec<_>>().join("\\n");
        let extra = match n.health {
            Health::Ok => String::new(),
            Health::Warning => ", penwidth=2".to_string(),
            Health::Broken => ", penwidth=2, style=\"rounded,dashed\"".to_string(),
        };
        let _ = writeln!(out, "  n{i} [label=\"{label}\", color=\"{}\"{extra}];", colour(n.health));
    }
    for (from, to) in &g.edges {
        match g.link_label(*to) {
            None => {
                let _ = writeln!(out, "  n{from} -> n{to};");
            }
            Some(label) => {
                let c = colour(g.nodes[*to].health);
                let _ = writeln!(
                    out,
                    "  n{from} -> n{to} [color=\"{c}\", fontcolor=\"{c}\", style=dashed, label=\"{}\"];",
                    esc(&label)
                );
            }
        }
    }
    out.push_str("}\n");
    out
}

/// A Mermaid flowchart (renders in GitHub and GitLab Markdown).
pub fn render_mermaid(pools: &[PoolStatus]) -> String {
    let g = Graph::of(pools);
    // Mermaid's entity codes; `#` itself first, since every code starts with it.
    let esc = |s: &str| {
        s.replace('#', "#35;").replace('&', "#amp;").replace('"', "#quot;").replace('<', "#lt;").replace('>', "#gt;")
    };
    let mut out = String::from("flowchart LR\n");
    for (i, n) in g.nodes.iter().enumerate() {
        let label = n.lines.iter().map(|l| esc(l)).collect::<Vec<_>>().join("<br/>");
        let _ = writeln!(out, "  n{i}[\"{label}\"]");
    }
    let mut marked = Vec::new();
    for (k, (from, to)) in g.edges.iter().enumerate() {
        match g.link_label(*to) {
            None => {
                let _ = writeln!(out, "  n{from} --> n{to}");
            }
            Some(label) => {
                let _ = writeln!(out, "  n{from} -.->|\"{}\"| n{to}", esc(&label));
                marked.push((k, colour(g.nodes[*to].health)));
            }
        }
    }
    if g.nodes.is_empty() {
        return out;
    }
    let _ = writeln!(out, "  classDef ok stroke:{GREEN},stroke-width:2px");
    let _ = writeln!(out, "  classDef warning stroke:{AMBER},stroke-width:2px");
    let _ = writeln!(out, "  classDef broken stroke:{RED},stroke-width:3px,stroke-dasharray:5 3");
    for (health, class) in [(Health::Ok, "ok"), (Health::Warning, "warning"), (Health::Broken, "broken")] {
        let ids: Vec<String> =
            g.nodes.iter().enumerate().filter(|(_, n)| n.health == health).map(|(i, _)| format!("n{i}")).collect();
        if !ids.is_empty() {
            let _ = writeln!(out, "  class {} {class}", ids.join(","));
        }
    }
    for (k, c) in marked {
        let _ = writeln!(out, "  linkStyle {k} stroke:{c},stroke-width:2px");
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::findings::{Category, Finding};
    use crate::routing::Count;

    fn node(kind: &str, ns: &str, name: &str, detail: &str, health: Health, children: Vec<Node>) -> Node {
        Node { object: ObjectRef::new(kind, "", ns, name), detail: detail.into(), health, findings: vec![], children }
    }

    /// Two pools behind one Gateway: one Ready, one whose model servers are not ready.
    fn pools() -> Vec<PoolStatus> {
        let class = |gw: Node| node("GatewayClass", "", "istio", "istio.io/gateway-controller", Health::Ok, vec![gw]);
        let gw = |route: Node| node("Gateway", "llm-d", "inference-gateway", "listeners http", Health::Ok, vec![route]);
        let epp = |name: &str| {
            let dep = node("Deployment", "llm-d", name, "1/1 available", Health::Ok, vec![]);
            node("Service", "llm-d", name, "endpoint picker :9002, 1 ready endpoint", Health::Ok, vec![dep])
        };
        let good_pods = node(
            "Pods",
            "llm-d",
            "app=a",
            "1/1 model-server pods ready",
            Health::Ok,
            vec![node("Pod", "llm-d", "a-0", "Ready", Health::Ok, vec![])],
        );
        let good_pool =
            node("InferencePool", "llm-d", "a", "v1 targetPorts 8000", Health::Ok, vec![epp("a-epp"), good_pods]);
        let mut bad_pool = node(
            "InferencePool",
            "llm-d",
            "b",
            "v1 targetPorts 8000",
            Health::Broken,
            vec![
                epp("b-epp"),
                node(
                    "Pods",
                    "llm-d",
                    "app=b",
                    "0/1 model-server pods ready",
                    Health::Broken,
                    vec![node("Pod", "llm-d", "b-0", "not Ready", Health::Ok, vec![])],
                ),
            ],
        );
        bad_pool.findings.push(Finding {
            code: "LLMD-POD-002".into(),
            severity: Severity::Error,
            category: Category::ModelServers,
            object: bad_pool.object.clone(),
            message: "no ready model servers".into(),
            hint: "h".into(),
            fixable: false,
            repair: None,
        });
        let route = |name: &str, pool: Node| node("HTTPRoute", "llm-d", name, "rule 0", pool.health, vec![pool]);
        let status = |name: &str, tree: Vec<Node>, status: &str| PoolStatus {
            namespace: "llm-d".into(),
            name: name.into(),
            api: "v1".into(),
            gateways: Count::default(),
            routes: Count::default(),
            epp_service: String::new(),
            epp: Count::default(),
            endpoints: Count::default(),
            status: status.into(),
            selector: String::new(),
            target_ports: vec![],
            failure_mode: String::new(),
            epp_port: None,
            app_protocol: String::new(),
            needs_migration: false,
            tree,
        };
        let mut a_route = route("route-a", good_pool);
        a_route.health = Health::Ok;
        let mut b_route = route("route-b", bad_pool);
        b_route.health = Health::Ok;
        vec![
            status("a", vec![class(gw(a_route.clone()))], "Ready"),
            status("b", vec![class(gw(b_route))], "no ready model servers (LLMD-POD-002)"),
        ]
    }

    #[test]
    fn shared_objects_are_one_node_and_broken_links_are_marked() {
        let dot = render_dot(&pools());
        assert_eq!(dot.matches("GatewayClass istio").count(), 1, "{dot}");
        assert_eq!(dot.matches("Gateway llm-d/inference-gateway").count(), 1, "{dot}");
        let broken_links: Vec<&str> = dot.lines().filter(|l| l.contains("style=dashed")).collect();
        assert_eq!(broken_links.len(), 2, "{dot}");
        assert!(broken_links[0].contains("✖ LLMD-POD-002"), "{dot}");
        insta::assert_snapshot!("graph_dot", dot);
        let mermaid = render_mermaid(&pools());
        assert!(mermaid.contains("-.->|\"✖ LLMD-POD-002\"|"), "{mermaid}");
        insta::assert_snapshot!("graph_mermaid", mermaid);
    }

    #[test]
    fn labels_are_escaped_and_no_pools_is_an_empty_graph() {
        let mut p = pools();
        p[0].tree[0].detail = "say \"hi\" <now> #1".into();
        assert!(render_dot(&p).contains(r#"say \"hi\" <now> #1"#));
        assert!(render_mermaid(&p).contains("say #quot;hi#quot; #lt;now#gt; #35;1"));
        assert_eq!(render_dot(&[]), "digraph routing {\n  rankdir=LR;\n  node [shape=box, style=rounded, fontname=\"Helvetica\", fontsize=11];\n  edge [fontname=\"Helvetica\", fontsize=10];\n}\n");
        assert_eq!(render_mermaid(&[]), "flowchart LR\n");
    }
}
