//! The E-step of a structured story: each data line's hypergraph, built once when the
//! kernel is compiled (`structured::execute`) and re-weighted every iteration by
//! inside-outside, counted in fixed units of lines summed in order through the one scheduler
//! (`kernel::ordered`), so the counts are the same bits for any thread count.

use rayon::prelude::*;

use super::{ordered, ZeroPolicy};
use crate::data::Dataset;
use crate::error::Error;
use crate::hypergraph::inside::{count_lines, viterbi, Counts};
use crate::hypergraph::Hypergraph;
use crate::infer::{CountStore, InferError};
use crate::program::Program;
use crate::structured::{execute, Budget};

/// Lines per unit of work: fixed by the data, never by the thread count.
const UNIT: usize = 64;

/// Every line's hypergraph, in data order.
pub struct HypergraphKernel {
    pub graphs: Vec<Hypergraph>,
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
        let graphs: Vec<Result<Hypergraph, Error>> = pool.install(|| {
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
                    Ok(g.graph)
                })
                .collect()
        });
        Ok(HypergraphKernel {
            graphs: graphs.into_iter().collect::<Result<_, _>>()?,
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
        let mut c = Counts::new(theta.len());
        let counted = ordered::map_merge_in_order(
            pool,
            units,
            || (),
            |u, _, spare: Option<Counts>| {
                let mut unit = spare.unwrap_or_else(|| Counts::new(theta.len()));
                unit.expected.fill(0.0);
                unit.log_likelihood = 0.0;
                unit.zero.clear();
                let lines = u * UNIT..((u + 1) * UNIT).min(self.graphs.len());
                count_lines(
                    &self.graphs[lines.clone()],
                    &self.weights[lines.clone()],
                    theta,
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

/// The best derivation of one line's hypergraph: its hyperedges in the order
/// `hypergraph::inside::viterbi` gives, or `None` when the line has none.
pub fn best(g: &Hypergraph, theta: &[f64]) -> Option<Vec<usize>> {
    viterbi(g, &g.log_weights(theta)).map(|(_, edges)| edges)
}
