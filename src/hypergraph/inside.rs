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
        // A node whose every expansion has weight zero (or that has none) stays at -inf; the
        // max guards the log-sum-exp against inf - inf.
        if best.is_finite() {
            let sum: f64 = edges.map(|e| (log_edge[e] - best).exp()).sum();
            log_inside[v] = best + sum.ln();
        } else if best == f64::INFINITY {
            log_inside[v] = f64::INFINITY;
        }
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

/// What inside-outside over some lines' hypergraphs gives.
#[derive(Clone, Debug, PartialEq)]
pub struct Counts {
    /// Expected count of every parameter, indexed like `theta`.
    pub expected: Vec<f64>,
    /// Sum over lines of weight times log-probability.
    pub log_likelihood: f64,
    /// Lines (indices into the whole data) whose goal has no derivation, in order; they add
    /// nothing to the counts.
    pub zero: Vec<usize>,
    /// Expected uses of every normaliser (allowed set), indexed like `log_norm` in
    /// [`count_lines_normed`]; empty when there are none.
    pub norm_uses: Vec<f64>,
}

impl Counts {
    pub fn new(params: usize) -> Counts {
        Counts {
            expected: vec![0.0; params],
            log_likelihood: 0.0,
            zero: Vec::new(),
            norm_uses: Vec::new(),
        }
    }

    /// Counts that also track `norms` normalisers' uses.
    pub fn with_norms(params: usize, norms: usize) -> Counts {
        Counts {
            norm_uses: vec![0.0; norms],
            ..Counts::new(params)
        }
    }

    /// Adds `other` into `self`; callers add in a fixed order, so the sums are reproducible.
    pub fn add(&mut self, other: &Counts) {
        for (a, b) in self.expected.iter_mut().zip(&other.expected) {
            *a += b;
        }
        self.log_likelihood += other.log_likelihood;
        self.zero.extend_from_slice(&other.zero);
        for (a, b) in self.norm_uses.iter_mut().zip(&other.norm_uses) {
            *a += b;
        }
    }
}

/// Inside-outside over consecutive lines' hypergraphs at parameters `theta`, each line
/// weighted by its `weights` entry, added into `into` line by line in order; `first` is the
/// first line's index in the whole data (for `Counts::zero`). The caller splits the data into
/// fixed units and adds the units in order, so the sums do not depend on who counts them.
pub fn count_lines(
    graphs: &[Hypergraph],
    weights: &[f64],
    theta: &[f64],
    first: usize,
    into: &mut Counts,
) {
    count_lines_normed(graphs, weights, theta, &[], first, into)
}

/// [`count_lines`] for hypergraphs whose hyperedges divide by normalisers: `log_norm[s]` is
/// `ln Z_s` at `theta` (see `hypergraph::log_norms`), and the uses of each normaliser are
/// added into `into.norm_uses` (as long as `log_norm`).
pub fn count_lines_normed(
    graphs: &[Hypergraph],
    weights: &[f64],
    theta: &[f64],
    log_norm: &[f64],
    first: usize,
    into: &mut Counts,
) {
    for (k, (g, w)) in graphs.iter().zip(weights).enumerate() {
        let ins = inside(g, &g.log_weights_normed(theta, log_norm));
        if !ins.log_z().is_finite() {
            into.zero.push(first + k);
            continue;
        }
        into.log_likelihood += w * ins.log_z();
        let post = edge_posteriors(g, &ins);
        g.scatter(&post, *w, &mut into.expected);
        g.scatter_norms(&post, *w, &mut into.norm_uses);
    }
}
