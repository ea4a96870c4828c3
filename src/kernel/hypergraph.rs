//! The E-step of a structured story: each data line's hypergraph, built once when the
//! kernel is compiled (`structured::execute`) and re-weighted every iteration by
//! inside-outside (`hypergraph::linear`: probability space, log space when a line needs
//! it), counted in fixed units of lines summed in order through the one scheduler
//! (`kernel::ordered`), so the counts are the same bits for any thread count.
//!
//! A unit's lines draw a small part of the parameters (a lexicon of 175k substrings, of
//! which 64 utterances use a few thousand), so each unit's hypergraphs are renumbered at
//! compile time into a dense local table of the parameters they use: an iteration gathers
//! the unit's parameters, counts into a local vector that stays in cache, and adds it into
//! the whole once, instead of clearing and summing a parameter-sized vector per unit.

use rayon::prelude::*;

use super::{ordered, ZeroPolicy};
use crate::data::Dataset;
use crate::error::Error;
use crate::hypergraph::binary::{count_line, Binary, Line, Workspace};
use crate::hypergraph::inside::viterbi;
use crate::hypergraph::Hypergraph;
use crate::infer::{CountStore, InferError};
use crate::program::Program;
use crate::structured::{execute, Budget};

/// Lines per unit of work: fixed by the data, never by the thread count.
const UNIT: usize = 64;

/// Every line's hypergraph, in data order, in binary form with its entries renumbered into
/// its unit's local table.
pub struct HypergraphKernel {
    graphs: Vec<Binary>,
    /// `globals[u]`: the parameter index of each local entry of unit `u`, ascending; the
    /// local entry after the last is the one whose value is 1.
    globals: Vec<Vec<u32>>,
    /// Nodes and hyperedges of each line's hypergraph as the story made it (before the
    /// binary form), for reports.
    sizes: Vec<(usize, usize)>,
    weights: Vec<f64>,
    lines: Vec<usize>,
}

/// One unit's counts, indexed by its local table.
struct UnitCounts {
    expected: Vec<f64>,
    log_likelihood: f64,
    /// Lines of the whole data without a derivation.
    zero: Vec<usize>,
    unit: usize,
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
        // Unit by unit, so that a unit's hypergraphs in the story's form are dropped once
        // its binary form is made: peak memory is the binary forms plus a unit per thread.
        type Built = (Vec<u32>, Vec<Binary>, Vec<(usize, usize)>);
        let units: Vec<Result<Built, Error>> = pool.install(|| {
            data.instances
                .par_chunks(UNIT)
                .map(|unit| {
                    let graphs = unit
                        .iter()
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
                        .collect::<Result<Vec<Hypergraph>, Error>>()?;
                    let sizes = graphs.iter().map(|g| (g.nodes(), g.edges())).collect();
                    let (globals, binary) = localise(&graphs);
                    Ok((globals, binary, sizes))
                })
                .collect()
        });
        let (mut globals, mut graphs, mut sizes) = (Vec::new(), Vec::new(), Vec::new());
        for unit in units {
            let (g, b, s) = unit?;
            globals.push(g);
            graphs.extend(b);
            sizes.extend(s);
        }
        Ok(HypergraphKernel {
            sizes,
            graphs,
            globals,
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
        let mut store = CountStore {
            expected: vec![0.0; theta.len()],
            log_likelihood: 0.0,
            instances: 0,
            skipped: Vec::new(),
        };
        let mut zero = Vec::new();
        let counted = ordered::map_merge_in_order(
            pool,
            self.globals.len(),
            || (Workspace::default(), Vec::new()),
            |u, (ws, local_theta): &mut (Workspace, Vec<f64>), spare: Option<UnitCounts>| {
                let globals = &self.globals[u];
                local_theta.clear();
                local_theta.extend(globals.iter().map(|k| theta[*k as usize]));
                local_theta.push(1.0);
                let mut c = spare.unwrap_or(UnitCounts {
                    expected: Vec::new(),
                    log_likelihood: 0.0,
                    zero: Vec::new(),
                    unit: u,
                });
                let lines = u * UNIT..((u + 1) * UNIT).min(self.graphs.len());
                // Lines whose probability-space pass overflowed: the unit is counted again
                // from the start with them in log space, so its sums are the same bits
                // whichever thread counts it.
                let mut in_log_space: Vec<usize> = Vec::new();
                'count: loop {
                    c.expected.clear();
                    c.expected.resize(globals.len() + 1, 0.0);
                    c.log_likelihood = 0.0;
                    c.zero.clear();
                    c.unit = u;
                    for i in lines.clone() {
                        let w = self.weights[i];
                        let g = &self.graphs[i];
                        let log = in_log_space.contains(&i);
                        match count_line(g, local_theta, w, ws, &mut c.expected, log) {
                            Line::Counted { log_z, .. } => c.log_likelihood += w * log_z,
                            Line::Zero => c.zero.push(i),
                            Line::Overflow => {
                                in_log_space.push(i);
                                continue 'count;
                            }
                        }
                    }
                    break;
                }
                Ok::<_, std::convert::Infallible>(c)
            },
            |c| {
                for (k, e) in self.globals[c.unit].iter().zip(&c.expected) {
                    store.expected[*k as usize] += e;
                }
                store.log_likelihood += c.log_likelihood;
                zero.extend_from_slice(&c.zero);
                Some(c)
            },
        );
        if let Err(never) = counted {
            match never {}
        }
        if let (Some(first), ZeroPolicy::Stop) = (zero.first(), on_zero) {
            return Err(Error::Infer(InferError::ZeroProbability {
                line: self.lines[*first],
            }));
        }
        store.instances = self.graphs.len() - zero.len();
        store.skipped = zero.iter().map(|k| self.lines[*k]).collect();
        Ok(store)
    }

    /// Nodes and hyperedges in total, and the line with the most hyperedges with its figures.
    pub fn size(&self) -> (usize, usize, Option<(usize, usize, usize)>) {
        let nodes = self.sizes.iter().map(|s| s.0).sum();
        let edges = self.sizes.iter().map(|s| s.1).sum();
        let largest = self
            .sizes
            .iter()
            .zip(&self.lines)
            .max_by_key(|((_, edges), l)| (*edges, std::cmp::Reverse(**l)))
            .map(|((nodes, edges), l)| (*l, *nodes, *edges));
        (nodes, edges, largest)
    }
}

/// The best derivation of one line's hypergraph: its hyperedges in the order
/// `hypergraph::inside::viterbi` gives, or `None` when the line has none.
pub fn best(g: &Hypergraph, theta: &[f64]) -> Option<Vec<usize>> {
    viterbi(g, &g.log_weights(theta)).map(|(_, edges)| edges)
}

/// One unit's hypergraphs in binary form, renumbered into a dense local table, and the
/// table: the parameter index of each local entry, ascending.
fn localise(unit: &[Hypergraph]) -> (Vec<u32>, Vec<Binary>) {
    let mut globals: Vec<u32> = unit
        .iter()
        .flat_map(|g| (0..g.edges()).flat_map(|e| g.entries(e).iter().copied()))
        .collect();
    globals.sort_unstable();
    globals.dedup();
    let one = globals.len() as u32;
    let local = |k: u32| {
        globals
            .binary_search(&k)
            .expect("every entry of the unit is in its table") as u32
    };
    let binary = unit.iter().map(|g| Binary::new(g, local, one)).collect();
    (globals, binary)
}
