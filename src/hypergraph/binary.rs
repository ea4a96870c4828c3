//! The E-step's form of a line's hypergraph: every hyperedge with exactly two tails and two
//! entries, and inside-outside over it in probability space, with log space as the fallback
//! for a line whose probability leaves the safe range.
//!
//! Why binary: the general layout reaches a hyperedge's tails and entries through two offset
//! arrays each, and most of an E-step's time went into those lookups and the loops over
//! slices of one or two items. Here a hyperedge is one fixed-size record, and a missing tail
//! or entry points at a slot whose value is 1 (node 0, whose inside value is 1, and the entry
//! the caller puts after its parameters, whose value is 1), so a hyperedge costs the same
//! few multiplications whatever its shape, without a branch. A hyperedge with more tails or
//! entries is split into a tree of intermediate nodes, each with a single hyperedge: the mass
//! of such a node's hyperedge is the mass of the hyperedge it came from, so inside values and
//! every entry's count are unchanged.
//!
//! Why probability space: the log-space pass ([`super::inside`]) pays an `exp` and a `ln`
//! per hyperedge; here a hyperedge costs multiplications and adds. What that gives up is
//! range, so a line is run in probability space first and its probability Z checked: within
//! [`LOW`, `HIGH`] a node's inside value flushed towards zero loses under 2^-1022 absolute,
//! under 1e-100 relative to Z; outside that range, or when any posterior comes out not
//! finite (an outside value overflowed), the line is counted again in log space, which has no
//! range limit. Which road a line takes depends on the line and the parameters only, never on
//! the thread that runs it, so the bits stay the same for any thread count.
//!
//! The outside pass keeps `outside(v) / Z`, so a hyperedge's posterior mass is
//! `outside(head) / Z * w(e) * inside(tail 0) * inside(tail 1)` with no division.

use super::inside::log_sum_exp;
use super::Hypergraph;

/// The smallest line probability counted in probability space (see the module notes).
pub const LOW: f64 = 1e-200;
/// The largest: beyond it, sums of unnormalised weights (an unweighted disjunction over
/// exponentially many derivations) could overflow somewhere below the goal.
pub const HIGH: f64 = 1e200;

/// Node 0: no hyperedges, inside value 1; the tail of a hyperedge with fewer than two.
pub(super) const ONE: u32 = 0;

#[derive(Clone, Copy, Debug, PartialEq)]
pub(super) struct Edge {
    pub(super) tails: [u32; 2],
    pub(super) entries: [u32; 2],
    /// `exp(log_const)` of the hyperedge it came from (1 for an intermediate one).
    pub(super) weight: f64,
}

/// A line's hypergraph in binary form (see the module notes); its entries are whatever
/// indices it was built with (a kernel's local renumbering), plus `one_entry`.
#[derive(Clone, Debug, PartialEq)]
pub struct Binary {
    /// Hyperedges into node `v` are `node_edges[v]..node_edges[v + 1]`.
    pub(super) node_edges: Vec<u32>,
    pub(super) edges: Vec<Edge>,
    /// Each hyperedge's log-weight constant, for the log-space pass (kept apart: `weight`
    /// may have underflowed where the log has not); empty when all are 0.
    pub(super) log_const: Vec<f64>,
    /// The largest entry index used: tables passed in must be longer.
    pub(super) max_entry: u32,
}

impl Binary {
    /// The binary form of `g`, with each entry `k` renamed `rename(k)`; `one_entry` is the
    /// index of an entry whose value the caller keeps at 1 (and whose count it ignores).
    /// A hyperedge's normalisers become entries too, normaliser `s` renamed `norm(s)`: the
    /// caller gives such an entry the value `1 / Z_s`, and its count is then the expected
    /// number of uses of the normaliser.
    pub fn new(
        g: &Hypergraph,
        rename: impl Fn(u32) -> u32,
        norm: impl Fn(u32) -> u32,
        one_entry: u32,
    ) -> Binary {
        let mut b = Binary {
            node_edges: vec![0, 0],
            edges: Vec::with_capacity(g.edges()),
            log_const: Vec::with_capacity(g.edges()),
            max_entry: one_entry,
        };
        let mut node_of = Vec::with_capacity(g.nodes());
        let mut finals = Vec::new();
        for v in 0..g.nodes() {
            let edges = g.edges_into(v as u32);
            finals.clear();
            for e in edges {
                let tails: Vec<u32> = g.tails(e).iter().map(|t| node_of[*t as usize]).collect();
                let entries: Vec<u32> = (g.entries(e).iter().map(|k| rename(*k)))
                    .chain(g.norms(e).iter().map(|s| norm(*s)))
                    .collect();
                finals.push(b.split(&tails, &entries, g.log_const(e), one_entry));
            }
            match shared_entries(&mut finals, one_entry) {
                // Drawn once, over a node of the same hyperedges without them (see
                // `shared_entries`).
                Some(entries) => {
                    for (edge, log_const) in finals.drain(..) {
                        b.push(edge, log_const);
                    }
                    let inner = b.finish_node();
                    let tails = [inner, ONE];
                    b.push(
                        Edge {
                            tails,
                            entries,
                            weight: 1.0,
                        },
                        0.0,
                    );
                }
                None => {
                    for (edge, log_const) in finals.drain(..) {
                        b.push(edge, log_const);
                    }
                }
            }
            node_of.push(b.finish_node());
        }
        // Most stories have no constant weights; their lines keep no column of zeros.
        if b.log_const.iter().all(|c| *c == 0.0) {
            b.log_const = Vec::new();
        }
        b.edges.shrink_to_fit();
        b.node_edges.shrink_to_fit();
        b
    }

    /// A hyperedge with at most two tails and two entries; more are moved into intermediate
    /// nodes, which are finished here (before the node the hyperedge goes into).
    fn split(&mut self, tails: &[u32], entries: &[u32], log_const: f64, one: u32) -> (Edge, f64) {
        self.max_entry = entries.iter().fold(self.max_entry, |m, k| m.max(*k));
        let (own, rest) = entries.split_at(entries.len().min(2));
        let mut operands: Vec<u32> = tails.to_vec();
        for pair in rest.chunks(2) {
            let edge = Edge {
                tails: [ONE, ONE],
                entries: [pair[0], *pair.get(1).unwrap_or(&one)],
                weight: 1.0,
            };
            operands.push(self.single(edge));
        }
        while operands.len() > 2 {
            let edge = Edge {
                tails: [operands[0], operands[1]],
                entries: [one, one],
                weight: 1.0,
            };
            let joined = self.single(edge);
            operands.splice(0..2, [joined]);
        }
        let edge = Edge {
            tails: [
                *operands.first().unwrap_or(&ONE),
                *operands.get(1).unwrap_or(&ONE),
            ],
            entries: [*own.first().unwrap_or(&one), *own.get(1).unwrap_or(&one)],
            weight: log_const.exp(),
        };
        (edge, log_const)
    }

    fn push(&mut self, edge: Edge, log_const: f64) {
        self.edges.push(edge);
        self.log_const.push(log_const);
    }

    /// A finished node with one hyperedge.
    fn single(&mut self, edge: Edge) -> u32 {
        self.push(edge, 0.0);
        self.finish_node()
    }

    fn finish_node(&mut self) -> u32 {
        self.node_edges.push(self.edges.len() as u32);
        (self.node_edges.len() - 2) as u32
    }

    /// Renames every entry `k` to `rename(k)` (a kernel's renumbering into a local table).
    pub fn rename_entries(&mut self, rename: impl Fn(u32) -> u32) {
        self.max_entry = 0;
        for edge in &mut self.edges {
            edge.entries = edge.entries.map(&rename);
            self.max_entry = edge.entries.iter().fold(self.max_entry, |m, k| m.max(*k));
        }
    }

    /// Moves each use of entry `one` (the entry of value 1) to one of `one..one + ones` by its
    /// position, all of which the caller keeps at 1. Its counts are thrown away, but adding
    /// every hyperedge's mass into one slot makes each add wait for the one before.
    pub fn spread_one(&mut self, one: u32, ones: u32) {
        for (i, k) in self
            .edges
            .iter_mut()
            .flat_map(|e| &mut e.entries)
            .enumerate()
        {
            if *k == one {
                *k = one + i as u32 % ones;
            }
        }
        self.max_entry = self.max_entry.max(one + ones - 1);
    }

    /// Every entry of every hyperedge, repeats included.
    pub fn entries(&self) -> impl Iterator<Item = u32> + '_ {
        self.edges.iter().flat_map(|e| e.entries)
    }

    pub fn nodes(&self) -> usize {
        self.node_edges.len() - 1
    }

    pub fn edges(&self) -> usize {
        self.edges.len()
    }

    pub fn heap_bytes(&self) -> usize {
        4 * self.node_edges.len()
            + std::mem::size_of::<Edge>() * self.edges.len()
            + 8 * self.log_const.len()
    }
}

/// The entries every one of a node's hyperedges draws (other than the entry of value 1),
/// taken out of each of them: an arc's parameter, say, drawn with each of the ways to split
/// what lies under the arc, or the decision to go on drawn with each next word. The node
/// then draws them once, on a single hyperedge over a node with the hyperedges that are
/// left, so each of those costs fewer look-ups of parameters and fewer counts, and the
/// node's whole mass reaches the shared entries in one addition. Inside values and counts
/// are unchanged up to rounding: the entries multiply the sum of the products instead of
/// each product.
fn shared_entries(finals: &mut [(Edge, f64)], one: u32) -> Option<[u32; 2]> {
    if finals.len() < 2 {
        return None;
    }
    let mut shared = [one, one];
    let mut n = 0;
    for k in finals[0].0.entries {
        if k == one || finals.iter().any(|(e, _)| !e.entries.contains(&k)) {
            continue;
        }
        // Repeats of the entry (drawn twice by the first hyperedge) are taken one at a
        // time: each is shared only if every hyperedge still holds it.
        for (e, _) in finals.iter_mut() {
            let at = e
                .entries
                .iter()
                .position(|x| *x == k)
                .expect("shared by every hyperedge");
            e.entries[at] = one;
            // The first slot is filled first, as `split` does.
            if e.entries[0] == one {
                e.entries.swap(0, 1);
            }
        }
        shared[n] = k;
        n += 1;
    }
    (n > 0).then_some(shared)
}

/// Buffers reused across lines, so counting a line allocates nothing once they have grown to
/// the largest line of a run.
#[derive(Clone, Debug, Default)]
pub struct Workspace {
    inside: Vec<f64>,
    outside: Vec<f64>,
    weight: Vec<f64>,
}

/// What counting one line gave.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Line {
    /// Counted; the line's log-probability and whether it took the log-space pass.
    Counted { log_z: f64, log_space: bool },
    /// The goal has no derivation of positive weight: nothing was added.
    Zero,
    /// A posterior overflowed in probability space after part of the line's counts had been
    /// added: the caller must throw `expected` away and count again with this line in log
    /// space. (Rare: it takes an outside value past 1e308; checking first would cost a
    /// second pass over every line's hyperedges.)
    Overflow,
}

/// Adds `line_weight` times the posterior mass of each of `g`'s hyperedges to the expected
/// count of both its entries, in probability space unless `log_space` or the line's
/// probability is out of range. `theta` and `expected` are indexed by `g`'s entries,
/// including its `one_entry`, whose `theta` must be 1.
pub fn count_line(
    g: &Binary,
    theta: &[f64],
    line_weight: f64,
    ws: &mut Workspace,
    expected: &mut [f64],
    log_space: bool,
) -> Line {
    assert!(
        theta.len() > g.max_entry as usize && expected.len() > g.max_entry as usize,
        "the tables cover every entry of the line"
    );
    if log_space {
        return count_in_log_space(g, theta, line_weight, ws, expected);
    }
    let z = inside_linear(g, theta, ws);
    if !(LOW..=HIGH).contains(&z) {
        return count_in_log_space(g, theta, line_weight, ws, expected);
    }
    if !outside_linear(g, z, line_weight, ws, expected) {
        return Line::Overflow;
    }
    Line::Counted {
        log_z: z.ln(),
        log_space: false,
    }
}

// The two passes below index without bounds checks: they are the E-step's inner loops,
// and every index is valid by construction. `Binary::new` makes every tail a node finished
// before the hyperedge's head (so below it, and at least 0), every entry at most
// `max_entry`, which `count_line` checked against both tables, and the node and hyperedge
// buffers are resized to the line's sizes on entry.

/// Inside values in probability space into `ws.inside` (and each hyperedge's weight into
/// `ws.weight`); returns the goal's value, NaN or infinite when something overflowed.
fn inside_linear(g: &Binary, theta: &[f64], ws: &mut Workspace) -> f64 {
    let (inside, weight) = (&mut ws.inside, &mut ws.weight);
    inside.clear();
    inside.resize(g.nodes(), 0.0);
    weight.clear();
    weight.resize(g.edges(), 0.0);
    inside[ONE as usize] = 1.0;
    for v in 1..g.nodes() {
        let mut sum = 0.0;
        for e in g.node_edges[v] as usize..g.node_edges[v + 1] as usize {
            // SAFETY: see the note above `inside_linear`.
            unsafe {
                let edge = g.edges.get_unchecked(e);
                let w = edge.weight
                    * theta.get_unchecked(edge.entries[0] as usize)
                    * theta.get_unchecked(edge.entries[1] as usize);
                *weight.get_unchecked_mut(e) = w;
                sum += w
                    * inside.get_unchecked(edge.tails[0] as usize)
                    * inside.get_unchecked(edge.tails[1] as usize);
            }
        }
        inside[v] = sum;
    }
    inside[g.nodes() - 1]
}

/// Pushes `outside / Z` down from the goal and adds each hyperedge's posterior mass, times
/// `line_weight`, to its entries; false when some mass came out not finite.
fn outside_linear(
    g: &Binary,
    z: f64,
    line_weight: f64,
    ws: &mut Workspace,
    expected: &mut [f64],
) -> bool {
    let (inside, weight, outside) = (&ws.inside, &ws.weight, &mut ws.outside);
    outside.clear();
    outside.resize(g.nodes(), 0.0);
    outside[g.nodes() - 1] = line_weight / z;
    // Checked per hyperedge without a floating-point add, which would chain every
    // hyperedge's latency through one sum.
    let mut finite = true;
    for v in (1..g.nodes()).rev() {
        let o = outside[v];
        if o == 0.0 {
            continue;
        }
        for e in g.node_edges[v] as usize..g.node_edges[v + 1] as usize {
            // SAFETY: see the note above `inside_linear`.
            unsafe {
                let edge = g.edges.get_unchecked(e);
                let [t, u] = edge.tails.map(|t| t as usize);
                let b = o * weight.get_unchecked(e);
                let (it, iu) = (*inside.get_unchecked(t), *inside.get_unchecked(u));
                *outside.get_unchecked_mut(t) += b * iu;
                *outside.get_unchecked_mut(u) += b * it;
                let p = b * it * iu;
                *expected.get_unchecked_mut(edge.entries[0] as usize) += p;
                *expected.get_unchecked_mut(edge.entries[1] as usize) += p;
                finite &= p < f64::INFINITY;
            }
        }
    }
    finite
}

/// The same counts with inside values as logs: log-sum-exp per node, and posterior mass
/// pushed down from the goal (`mu(e) = mu(head) * exp(log_edge(e) - log_inside(head))`),
/// which lies in [0, uses] and so needs no scaling.
fn count_in_log_space(
    g: &Binary,
    theta: &[f64],
    line_weight: f64,
    ws: &mut Workspace,
    expected: &mut [f64],
) -> Line {
    let (log_inside, log_edge, mass) = (&mut ws.inside, &mut ws.weight, &mut ws.outside);
    log_inside.clear();
    log_inside.resize(g.nodes(), f64::NEG_INFINITY);
    log_edge.clear();
    log_edge.resize(g.edges(), f64::NEG_INFINITY);
    log_inside[ONE as usize] = 0.0;
    for v in 1..g.nodes() {
        let edges = g.node_edges[v] as usize..g.node_edges[v + 1] as usize;
        let mut best = f64::NEG_INFINITY;
        for e in edges.clone() {
            let edge = &g.edges[e];
            let a = g.log_const.get(e).copied().unwrap_or(0.0)
                + theta[edge.entries[0] as usize].ln()
                + theta[edge.entries[1] as usize].ln()
                + log_inside[edge.tails[0] as usize]
                + log_inside[edge.tails[1] as usize];
            log_edge[e] = a;
            best = best.max(a);
        }
        log_inside[v] = log_sum_exp(best, edges.map(|e| log_edge[e]));
    }
    let log_z = log_inside[g.nodes() - 1];
    if !log_z.is_finite() {
        return Line::Zero;
    }
    mass.clear();
    mass.resize(g.nodes(), 0.0);
    mass[g.nodes() - 1] = 1.0;
    for v in (1..g.nodes()).rev() {
        let m = mass[v];
        if m == 0.0 {
            continue;
        }
        let edges = g.node_edges[v] as usize..g.node_edges[v + 1] as usize;
        for (edge, log_e) in g.edges[edges.clone()].iter().zip(&log_edge[edges]) {
            let p = m * (log_e - log_inside[v]).exp();
            for t in edge.tails {
                mass[t as usize] += p;
            }
            expected[edge.entries[0] as usize] += line_weight * p;
            expected[edge.entries[1] as usize] += line_weight * p;
        }
    }
    Line::Counted {
        log_z,
        log_space: true,
    }
}
