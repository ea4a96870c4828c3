//! The E-step of a structured story: each data line's hypergraph, built once when the
//! kernel is compiled (`structured::execute`) and re-weighted every iteration by
//! inside-outside, counted in fixed units of lines summed in order through the one scheduler
//! (`kernel::ordered`), so the counts are the same bits for any thread count.

use rayon::prelude::*;

use super::{ordered, ZeroPolicy};
use crate::data::Dataset;
use crate::error::Error;
use std::sync::Arc;

use rustc_hash::FxHashMap as HashMap;

use crate::hypergraph::inside::{count_lines_normed, viterbi, Counts};
use crate::hypergraph::{log_norms, Hypergraph};
use crate::infer::{CountStore, InferError};
use crate::program::Program;
use crate::structured::{execute, Budget, LineGraph};

/// Lines per unit of work: fixed by the data, never by the thread count.
const UNIT: usize = 64;

/// Every line's hypergraph, in data order.
pub struct HypergraphKernel {
    pub graphs: Vec<Hypergraph>,
    /// The allowed sets (restricted rows) every line divides by, interned in data order
    /// (each line's in its own order), so their ids are the same for any thread count; the
    /// graphs' normaliser ids index this.
    pub norm_sets: Arc<Vec<Vec<u32>>>,
    weights: Vec<f64>,
    lines: Vec<usize>,
}

impl HypergraphKernel {
    /// Runs the story on every line. Lines are built in parallel and kept in data order, so
    /// the kernel (and the first error reported, the earliest line's) is the same for any
    /// thread count.
    pub fn build(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
    ) -> Result<HypergraphKernel, Error> {
        let graphs: Vec<Result<LineGraph, Error>> = pool.install(|| {
            data.instances
                .par_iter()
                .map(|inst| {
                    let g = execute(
                        &program.model,
                        &program.domains,
                        &program.layout,
                        inst,
                        Budget::default(),
                        false,
                    )?;
                    Ok(g)
                })
                .collect()
        });
        let lines: Vec<LineGraph> = graphs.into_iter().collect::<Result<_, _>>()?;
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut norm_sets = Vec::new();
        let mut graphs = Vec::with_capacity(lines.len());
        for mut lg in lines {
            if !lg.sets.is_empty() {
                let map: Vec<u32> = lg
                    .sets
                    .drain(..)
                    .map(|s| {
                        *ids.entry(s).or_insert_with_key(|s| {
                            norm_sets.push(s.clone());
                            (norm_sets.len() - 1) as u32
                        })
                    })
                    .collect();
                lg.graph.map_norms(&map);
            }
            graphs.push(lg.graph);
        }
        Ok(HypergraphKernel {
            graphs,
            norm_sets: Arc::new(norm_sets),
            weights: data.instances.iter().map(|i| i.weight).collect(),
            lines: data.instances.iter().map(|i| i.line).collect(),
        })
    }

    pub fn e_step(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        let units = self.graphs.len().div_ceil(UNIT);
        let n_norms = self.norm_sets.len();
        let log_norm = log_norms(&self.norm_sets, theta);
        let mut c = Counts::with_norms(theta.len(), n_norms);
        let counted = ordered::map_merge_in_order(
            pool,
            units,
            || (),
            |u, _, spare: Option<Counts>| {
                let mut unit = spare.unwrap_or_else(|| Counts::with_norms(theta.len(), n_norms));
                unit.expected.fill(0.0);
                unit.norm_uses.fill(0.0);
                unit.log_likelihood = 0.0;
                unit.zero.clear();
                let lines = u * UNIT..((u + 1) * UNIT).min(self.graphs.len());
                count_lines_normed(
                    &self.graphs[lines.clone()],
                    &self.weights[lines.clone()],
                    theta,
                    &log_norm,
                    lines.start,
                    &mut unit,
                );
                Ok::<_, std::convert::Infallible>(unit)
            },
            |unit| {
                c.add(&unit);
                Some(unit)
            },
        );
        if let Err(never) = counted {
            match never {}
        }
        if let (Some(first), ZeroPolicy::Stop) = (c.zero.first(), on_zero) {
            return Err(Error::Infer(InferError::ZeroProbability {
                line: self.lines[*first],
            }));
        }
        Ok(CountStore {
            expected: c.expected,
            log_likelihood: c.log_likelihood,
            instances: self.graphs.len() - c.zero.len(),
            skipped: c.zero.iter().map(|k| self.lines[*k]).collect(),
            norm_sets: self.norm_sets.clone(),
            norm_uses: c.norm_uses,
        })
    }

    /// Nodes and hyperedges in total, and the line with the most hyperedges with its figures.
    pub fn size(&self) -> (usize, usize, Option<(usize, usize, usize)>) {
        let nodes = self.graphs.iter().map(Hypergraph::nodes).sum();
        let edges = self.graphs.iter().map(Hypergraph::edges).sum();
        let largest = self
            .graphs
            .iter()
            .zip(&self.lines)
            .max_by_key(|(g, l)| (g.edges(), std::cmp::Reverse(**l)))
            .map(|(g, l)| (*l, g.nodes(), g.edges()));
        (nodes, edges, largest)
    }
}

/// The best derivation of the kernel's line `k`: its hyperedges in the order
/// `hypergraph::inside::viterbi` gives, or `None` when the line has none.
pub fn best(kernel: &HypergraphKernel, k: usize, theta: &[f64]) -> Option<Vec<usize>> {
    let g = &kernel.graphs[k];
    let log_norm = log_norms(&kernel.norm_sets, theta);
    viterbi(g, &g.log_weights_normed(theta, &log_norm)).map(|(_, edges)| edges)
}
