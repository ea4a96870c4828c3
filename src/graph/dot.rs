//! The factor graph of an instance as a petgraph graph, and its Graphviz drawing.

use petgraph::graph::{NodeIndex, UnGraph};

use super::InstanceGraph;

#[derive(Clone, Debug)]
pub enum Node {
    Var { name: String, card: u32 },
    Factor { label: String },
}

/// Bipartite graph: hidden variables and factors, an edge where a factor depends on a variable.
pub fn bipartite(g: &InstanceGraph) -> UnGraph<Node, ()> {
    let mut out = UnGraph::new_undirected();
    let vars: Vec<NodeIndex> = g
        .vars
        .iter()
        .map(|v| {
            out.add_node(Node::Var {
                name: v.name.to_string(),
                card: v.card,
            })
        })
        .collect();
    for f in &g.factors {
        let n = out.add_node(Node::Factor { label: g.label(f) });
        for v in &f.scope {
            out.add_edge(n, vars[*v as usize], ());
        }
    }
    out
}

/// Graphviz DOT text: variables as ellipses, factors as boxes.
pub fn to_dot(g: &InstanceGraph) -> String {
    let graph = bipartite(g);
    let mut out = String::from("graph factors {\n  node [fontname=\"Helvetica\"];\n");
    for idx in graph.node_indices() {
        let line = match &graph[idx] {
            Node::Var { name, card } => {
                format!(
                    "  n{} [shape=ellipse, label=\"{} ({card})\"];\n",
                    idx.index(),
                    escape(name)
                )
            }
            Node::Factor { label } => format!(
                "  n{} [shape=box, style=filled, fillcolor=\"#dddddd\", label=\"{}\"];\n",
                idx.index(),
                escape(label)
            ),
        };
        out.push_str(&line);
    }
    for e in graph.edge_indices() {
        if let Some((a, b)) = graph.edge_endpoints(e) {
            out.push_str(&format!("  n{} -- n{};\n", a.index(), b.index()));
        }
    }
    out.push_str("}\n");
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"")
}
