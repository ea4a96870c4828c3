//! Acyclic AND/OR hypergraphs: the shape a structured hidden variable (a parse tree, a
//! dependency tree, a segmentation) takes on one data line once the story's procedures have
//! run with memoisation. A node is one call (a procedure with its argument values); each of
//! its incoming hyperedges is one way the call can expand (one branch of a choice), with the
//! nodes that expansion calls as its tails and the parameter entries it draws as its weight.
//!
//! The layout is flat and topologically ordered, so a line's hypergraph is built once and
//! re-weighted every iteration without chasing pointers: nodes are numbered so that every
//! tail comes before its head, a node's hyperedges are contiguous, and the last node is the
//! goal (the story's top call). [`inside`] runs inside-outside and Viterbi over it.
//!
//! This module depends on no other part of emc: weights come in as log-probabilities per
//! hyperedge, posteriors go out per hyperedge, and the caller maps them onto parameters
//! (`Hypergraph::entries` holds the parameter indices a hyperedge draws, in the same
//! contract as factor entries: posterior mass on a hyperedge is an expected count of each of
//! its events).

pub mod binary;
pub mod inside;
pub mod lanes;

#[cfg(test)]
mod tests;

/// A node of a [`Hypergraph`]; nodes are numbered in topological order.
pub type NodeId = u32;

/// An acyclic hypergraph in topological order (see the module documentation).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Hypergraph {
    /// Hyperedges into node `v` are `node_edges[v]..node_edges[v + 1]`.
    node_edges: Vec<u32>,
    /// Tails of hyperedge `e` are `tails[edge_tails[e]..edge_tails[e + 1]]`.
    edge_tails: Vec<u32>,
    tails: Vec<NodeId>,
    /// Parameter indices drawn by hyperedge `e`: `entries[edge_entries[e]..edge_entries[e + 1]]`
    /// (repeats allowed: an entry drawn twice counts twice).
    edge_entries: Vec<u32>,
    entries: Vec<u32>,
    /// A constant log-weight per hyperedge, for what is not a parameter (a uniform choice
    /// among the positions of this line, a fixed table).
    log_const: Vec<f64>,
    /// Normalisers hyperedge `e` divides by: `norms[edge_norms[e]..edge_norms[e + 1]]`, each
    /// the id of an allowed set S of parameter indices (a row restricted to the outcomes this
    /// line allows), so the hyperedge's weight is `prod theta[entries] / prod Z_S` with
    /// `Z_S = sum_{k in S} theta[k]`. The sets live with whoever built the graph (ids local to
    /// the line, renumbered by `map_norms`). Empty (no offsets at all) when no hyperedge has
    /// one, so graphs without restricted rows carry nothing extra.
    edge_norms: Vec<u32>,
    norms: Vec<u32>,
}

/// Why a hypergraph could not be built.
#[derive(Clone, Debug, PartialEq, thiserror::Error)]
pub enum BuildError {
    #[error("a hyperedge of node {head} uses node {tail}, which is not finished before it")]
    NotTopological { head: NodeId, tail: NodeId },
    #[error("the hypergraph has no nodes")]
    Empty,
    #[error("the hypergraph would have more than {limit} {what}")]
    TooLarge { what: &'static str, limit: usize },
}

/// Limit on nodes, hyperedges, tails and entries of one line's hypergraph: their indices are
/// `u32`. Callers set tighter memory budgets of their own before building.
pub const MAX_ITEMS: usize = u32::MAX as usize - 1;

/// Builds a [`Hypergraph`] node by node, in topological order: a node is opened, its
/// hyperedges are added (their tails must be finished nodes), and it is finished, which gives
/// its id. Memoised execution of a story finishes a call after all the calls it makes, so it
/// builds in this order naturally.
#[derive(Clone, Debug)]
pub struct Builder {
    graph: Hypergraph,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder::new()
    }
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            graph: Hypergraph {
                node_edges: vec![0],
                edge_tails: vec![0],
                edge_entries: vec![0],
                ..Hypergraph::default()
            },
        }
    }

    /// The id the node under construction will get.
    pub fn next_node(&self) -> NodeId {
        (self.graph.node_edges.len() - 1) as NodeId
    }

    /// Adds a hyperedge into the node under construction.
    pub fn edge(
        &mut self,
        tails: &[NodeId],
        entries: &[u32],
        log_const: f64,
    ) -> Result<(), BuildError> {
        self.edge_normed(tails, entries, &[], log_const)
    }

    /// Adds a hyperedge that also divides by the normalisers `norms` (set ids, see
    /// `Hypergraph::norms`).
    pub fn edge_normed(
        &mut self,
        tails: &[NodeId],
        entries: &[u32],
        norms: &[u32],
        log_const: f64,
    ) -> Result<(), BuildError> {
        let g = &mut self.graph;
        if !norms.is_empty() && g.edge_norms.is_empty() {
            // The first normalised hyperedge: every earlier one divides by nothing.
            g.edge_norms = vec![0; g.log_const.len() + 1];
        }
        if norms.len() + g.norms.len() > MAX_ITEMS {
            return Err(BuildError::TooLarge {
                what: "normalisers",
                limit: MAX_ITEMS,
            });
        }
        let head = (g.node_edges.len() - 1) as NodeId;
        if let Some(&tail) = tails.iter().find(|t| **t >= head) {
            return Err(BuildError::NotTopological { head, tail });
        }
        for (what, len, add) in [
            ("hyperedges", g.log_const.len(), 1),
            ("tails", g.tails.len(), tails.len()),
            ("entries", g.entries.len(), entries.len()),
        ] {
            if len + add > MAX_ITEMS {
                return Err(BuildError::TooLarge {
                    what,
                    limit: MAX_ITEMS,
                });
            }
        }
        g.tails.extend_from_slice(tails);
        g.edge_tails.push(g.tails.len() as u32);
        g.entries.extend_from_slice(entries);
        g.edge_entries.push(g.entries.len() as u32);
        g.log_const.push(log_const);
        if !g.edge_norms.is_empty() {
            g.norms.extend_from_slice(norms);
            g.edge_norms.push(g.norms.len() as u32);
        }
        Ok(())
    }

    /// Finishes the node under construction (with the hyperedges added since the last
    /// finish) and returns its id. A node without hyperedges has no derivation: inside it is
    /// zero, and hyperedges that use it carry no mass.
    pub fn finish_node(&mut self) -> Result<NodeId, BuildError> {
        let g = &mut self.graph;
        if g.node_edges.len() > MAX_ITEMS {
            return Err(BuildError::TooLarge {
                what: "nodes",
                limit: MAX_ITEMS,
            });
        }
        let id = (g.node_edges.len() - 1) as NodeId;
        g.node_edges.push(g.log_const.len() as u32);
        Ok(id)
    }

    /// The finished hypergraph; its goal is the last node finished.
    pub fn build(self) -> Result<Hypergraph, BuildError> {
        if self.graph.nodes() == 0 {
            return Err(BuildError::Empty);
        }
        Ok(self.graph)
    }
}

impl Hypergraph {
    pub fn nodes(&self) -> usize {
        self.node_edges.len() - 1
    }

    pub fn edges(&self) -> usize {
        self.log_const.len()
    }

    /// The goal node: the story's top call, whose inside value is the line's probability.
    pub fn goal(&self) -> NodeId {
        (self.nodes() - 1) as NodeId
    }

    /// The hyperedges into node `v`.
    pub fn edges_into(&self, v: NodeId) -> std::ops::Range<usize> {
        self.node_edges[v as usize] as usize..self.node_edges[v as usize + 1] as usize
    }

    pub fn tails(&self, e: usize) -> &[NodeId] {
        &self.tails[self.edge_tails[e] as usize..self.edge_tails[e + 1] as usize]
    }

    /// The parameter indices hyperedge `e` draws.
    pub fn entries(&self, e: usize) -> &[u32] {
        &self.entries[self.edge_entries[e] as usize..self.edge_entries[e + 1] as usize]
    }

    pub fn log_const(&self, e: usize) -> f64 {
        self.log_const[e]
    }

    /// The normaliser (set) ids hyperedge `e` divides by.
    pub fn norms(&self, e: usize) -> &[u32] {
        if self.edge_norms.is_empty() {
            return &[];
        }
        &self.norms[self.edge_norms[e] as usize..self.edge_norms[e + 1] as usize]
    }

    /// Whether some hyperedge divides by a normaliser.
    pub fn has_norms(&self) -> bool {
        !self.norms.is_empty()
    }

    /// Renumbers every normaliser id `s` as `map[s]` (local ids to a run's global ones).
    pub fn map_norms(&mut self, map: &[u32]) {
        for s in &mut self.norms {
            *s = map[*s as usize];
        }
    }

    /// `log_weights` with each hyperedge also divided by its normalisers: `log_norm[s]` is
    /// `ln Z_s` under the same `theta`.
    pub fn log_weights_normed(&self, theta: &[f64], log_norm: &[f64]) -> Vec<f64> {
        self.log_weights_normed_with(|k| theta[k as usize].ln(), log_norm)
    }

    /// `log_weights_normed` with each entry's log-value from `log_entry` (entries that are
    /// not parameters: a density of the line's data).
    pub fn log_weights_normed_with(
        &self,
        log_entry: impl Fn(u32) -> f64,
        log_norm: &[f64],
    ) -> Vec<f64> {
        let mut w: Vec<f64> = (0..self.edges())
            .map(|e| {
                self.entries(e)
                    .iter()
                    .fold(self.log_const[e], |acc, k| acc + log_entry(*k))
            })
            .collect();
        if self.has_norms() {
            for (e, w) in w.iter_mut().enumerate() {
                // A zero entry stays zero: its set's Z may be zero too, and -inf - -inf is NaN.
                if *w == f64::NEG_INFINITY {
                    continue;
                }
                for s in self.norms(e) {
                    *w -= log_norm[*s as usize];
                }
            }
        }
        w
    }

    /// The log-weight of every hyperedge under parameters `theta`: its constant plus the
    /// logs of the entries it draws. Summing logs, not multiplying probabilities, keeps a
    /// hyperedge that draws many small entries from underflowing.
    pub fn log_weights(&self, theta: &[f64]) -> Vec<f64> {
        (0..self.edges())
            .map(|e| {
                self.entries(e)
                    .iter()
                    .fold(self.log_const[e], |acc, k| acc + theta[*k as usize].ln())
            })
            .collect()
    }

    /// Adds `weight` times each hyperedge's posterior to the expected count of every entry it
    /// draws, in hyperedge order (so the sum is the same bits wherever it runs).
    pub fn scatter(&self, edge_posterior: &[f64], weight: f64, expected: &mut [f64]) {
        for (e, p) in edge_posterior.iter().enumerate() {
            if *p == 0.0 {
                continue;
            }
            for k in self.entries(e) {
                expected[*k as usize] += weight * p;
            }
        }
    }

    /// Bytes held, for memory budgets.
    pub fn heap_bytes(&self) -> usize {
        4 * (self.node_edges.len()
            + self.edge_tails.len()
            + self.tails.len()
            + self.edge_entries.len()
            + self.entries.len())
            + 4 * (self.edge_norms.len() + self.norms.len())
            + 8 * self.log_const.len()
    }
}

/// `1 / Z_s` for every allowed set: what the E-step's binary form multiplies by (0 for a set
/// with no mass, whose entries are then all 0 too, so a hyperedge's weight stays 0 instead of
/// 0 * inf).
pub fn inv_norms(sets: &[Vec<u32>], theta: &[f64]) -> Vec<f64> {
    sets.iter()
        .map(|s| {
            let z: f64 = s.iter().map(|k| theta[*k as usize]).sum();
            if z > 0.0 {
                1.0 / z
            } else {
                0.0
            }
        })
        .collect()
}

/// `ln Z_S` of every allowed set (parameter indices) under `theta`: the log of the sum of its
/// entries (`-inf` when they are all zero; a hyperedge drawing from such a set draws a zero
/// entry, and `log_weights_normed` keeps it at zero).
pub fn log_norms(sets: &[Vec<u32>], theta: &[f64]) -> Vec<f64> {
    sets.iter()
        .map(|s| s.iter().map(|k| theta[*k as usize]).sum::<f64>().ln())
        .collect()
}
