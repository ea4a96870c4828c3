//! Inside-outside and Viterbi on a [`Hypergraph`].
//!
//! Inside values are kept as logs, so a 100-token sentence's parse forest (probabilities far
//! below f64's range) never underflows. The outside pass does not compute outside values at
//! all: it pushes posterior mass down from the goal, `mu(e) = mu(head) * w(e) * prod
//! inside(tails) / inside(head)`, and a tail's mass is the sum of the masses of the
//! hyperedges that use it. Every quantity on that pass lies in [0, uses], so it needs no
//! scaling, and each hyperedge costs one `exp` on each pass.

use super::{Hypergraph, NodeId};

/// The inside pass: `log_inside[v]` is the log of the total weight of v's derivations
/// (`-inf` for a node without any), `log_edge[e]` the log-weight of hyperedge e's
/// derivations (its weight times its tails' inside values).
#[derive(Clone, Debug, PartialEq)]
pub struct Inside {
    pub log_inside: Vec<f64>,
    pub log_edge: Vec<f64>,
}

impl Inside {
    /// The log of the goal's inside value: the line's log-probability.
    pub fn log_z(&self) -> f64 {
        *self.log_inside.last().expect("a hypergraph has a goal")
    }
}

/// `ln sum exp(values)`, given their maximum `best`. A node whose every expansion has weight
/// zero (or that has none) stays at -inf, and testing `best` first guards against inf - inf.
pub(super) fn log_sum_exp(best: f64, values: impl Iterator<Item = f64>) -> f64 {
    if best.is_finite() {
        best + values.map(|a| (a - best).exp()).sum::<f64>().ln()
    } else {
        best
    }
}

/// Inside values under hyperedge log-weights `log_w` (one per hyperedge).
pub fn inside(g: &Hypergraph, log_w: &[f64]) -> Inside {
    let mut log_inside = vec![f64::NEG_INFINITY; g.nodes()];
    let mut log_edge = vec![f64::NEG_INFINITY; g.edges()];
    for v in 0..g.nodes() {
        let edges = g.edges_into(v as NodeId);
        let mut best = f64::NEG_INFINITY;
        for e in edges.clone() {
            let a = g
                .tails(e)
                .iter()
                .fold(log_w[e], |acc, u| acc + log_inside[*u as usize]);
            log_edge[e] = a;
            best = best.max(a);
        }
        log_inside[v] = log_sum_exp(best, edges.map(|e| log_edge[e]));
    }
    Inside {
        log_inside,
        log_edge,
    }
}

/// Posterior mass of every hyperedge given the goal: the expected number of times the
/// hyperedge is used in a derivation drawn in proportion to its weight. All zero when the
/// goal has no derivation (`inside.log_z()` is `-inf`).
pub fn edge_posteriors(g: &Hypergraph, inside: &Inside) -> Vec<f64> {
    let mut node_mass = vec![0.0; g.nodes()];
    let mut edge_mass = vec![0.0; g.edges()];
    if !inside.log_z().is_finite() {
        return edge_mass;
    }
    node_mass[g.goal() as usize] = 1.0;
    for v in (0..g.nodes()).rev() {
        let mass = node_mass[v];
        if mass == 0.0 {
            continue;
        }
        let log_v = inside.log_inside[v];
        for e in g.edges_into(v as NodeId) {
            let m = mass * (inside.log_edge[e] - log_v).exp();
            edge_mass[e] = m;
            for u in g.tails(e) {
                node_mass[*u as usize] += m;
            }
        }
    }
    edge_mass
}

/// The best derivation: its log-weight and its hyperedges, goal first, then each node's
/// chosen hyperedge in depth-first order of its tails (left to right). `None` when the goal
/// has no derivation. Ties go to the first hyperedge of a node, so the result is the same
/// for any thread count or run.
pub fn viterbi(g: &Hypergraph, log_w: &[f64]) -> Option<(f64, Vec<usize>)> {
    let mut best = vec![f64::NEG_INFINITY; g.nodes()];
    let mut back = vec![usize::MAX; g.nodes()];
    for v in 0..g.nodes() {
        for e in g.edges_into(v as NodeId) {
            let a = g
                .tails(e)
                .iter()
                .fold(log_w[e], |acc, u| acc + best[*u as usize]);
            if a > best[v] {
                best[v] = a;
                back[v] = e;
            }
        }
    }
    let goal = g.goal() as usize;
    if back[goal] == usize::MAX {
        return None;
    }
    // An explicit stack: a derivation can be as deep as the line is long.
    let mut order = Vec::new();
    let mut stack = vec![goal];
    while let Some(v) = stack.pop() {
        let e = back[v];
        order.push(e);
        stack.extend(g.tails(e).iter().rev().map(|u| *u as usize));
    }
    Some((best[goal], order))
}
