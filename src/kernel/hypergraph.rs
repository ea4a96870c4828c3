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

use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::{ordered, ZeroPolicy};
use crate::data::Dataset;
use crate::error::Error;
use crate::hypergraph::binary::{count_line, Binary, Line, Workspace};
use crate::hypergraph::inv_norms;
use crate::infer::{CountStore, InferError};
use crate::program::Program;
use crate::structured::{execute, Budget, LineGraph};

/// Lines per unit of work: fixed by the data, never by the thread count.
const UNIT: usize = 64;

/// Every line's hypergraph, in data order, in binary form with its entries renumbered into
/// its unit's local table.
pub struct HypergraphKernel {
    graphs: Vec<Binary>,
    /// `globals[u]`: the parameter index of each local entry of unit `u`, ascending; after
    /// them come the unit's normalisers, `norms[u]`, then the entry whose value is 1.
    globals: Vec<Vec<u32>>,
    /// `norms[u]`: the id in `norm_sets` of each normaliser unit `u` uses.
    norms: Vec<Vec<u32>>,
    /// The allowed sets (restricted rows) lines divide by, interned in data order, so their
    /// ids are the same for any thread count.
    norm_sets: Arc<Vec<Vec<u32>>>,
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
        let units: Vec<Result<Unit, Error>> = pool.install(|| {
            data.instances
                .par_chunks(UNIT)
                .map(|unit| {
                    let lines = unit
                        .iter()
                        .map(|inst| {
                            execute(
                                &program.model,
                                &program.domains,
                                &program.layout,
                                inst,
                                Budget::default(),
                                false,
                            )
                        })
                        .collect::<Result<Vec<LineGraph>, _>>()?;
                    Ok(localise(lines))
                })
                .collect()
        });
        let (mut globals, mut norms, mut graphs, mut sizes) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut norm_sets = Vec::new();
        for unit in units {
            let unit = unit?;
            let global = unit.sets.into_iter().map(|set| {
                *ids.entry(set).or_insert_with_key(|set| {
                    norm_sets.push(set.clone());
                    (norm_sets.len() - 1) as u32
                })
            });
            norms.push(global.collect());
            globals.push(unit.globals);
            graphs.extend(unit.graphs);
            sizes.extend(unit.sizes);
        }
        Ok(HypergraphKernel {
            sizes,
            graphs,
            globals,
            norms,
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
        let mut store = CountStore {
            expected: vec![0.0; theta.len()],
            norm_sets: self.norm_sets.clone(),
            norm_uses: vec![0.0; self.norm_sets.len()],
            ..CountStore::new(0)
        };
        // An entry restricted to an allowed set is divided by the set's total: its
        // normaliser is an entry of value 1 / Z.
        let inv_z = inv_norms(&self.norm_sets, theta);
        let mut zero = Vec::new();
        let counted = ordered::map_merge_in_order(
            pool,
            self.globals.len(),
            || (Workspace::default(), Vec::new()),
            |u, (ws, local_theta): &mut (Workspace, Vec<f64>), spare: Option<UnitCounts>| {
                let (globals, norms) = (&self.globals[u], &self.norms[u]);
                local_theta.clear();
                local_theta.extend(globals.iter().map(|k| theta[*k as usize]));
                local_theta.extend(norms.iter().map(|s| inv_z[*s as usize]));
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
                    c.expected.resize(local_theta.len(), 0.0);
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
                let (globals, norms) = (&self.globals[c.unit], &self.norms[c.unit]);
                for (k, e) in globals.iter().zip(&c.expected) {
                    store.expected[*k as usize] += e;
                }
                for (s, e) in norms.iter().zip(&c.expected[globals.len()..]) {
                    store.norm_uses[*s as usize] += e;
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

/// One unit's lines, compiled.
struct Unit {
    /// The parameter index of each local entry, ascending.
    globals: Vec<u32>,
    /// The unit's allowed sets, in the order of first use; local entry `globals.len() + s`
    /// is set `s`'s normaliser.
    sets: Vec<Vec<u32>>,
    graphs: Vec<Binary>,
    sizes: Vec<(usize, usize)>,
}

/// One unit's hypergraphs in binary form, renumbered into a dense local table of the
/// parameters and normalisers they use.
fn localise(lines: Vec<LineGraph>) -> Unit {
    let mut globals: Vec<u32> = lines
        .iter()
        .flat_map(|lg| (0..lg.graph.edges()).flat_map(|e| lg.graph.entries(e).iter().copied()))
        .collect();
    globals.sort_unstable();
    globals.dedup();
    let local = |k: u32| {
        globals
            .binary_search(&k)
            .expect("every entry of the unit is in its table") as u32
    };
    // Each line's normaliser ids are its own; they are renamed into the unit's sets, which
    // the kernel then names globally, unit by unit in data order.
    let mut sets: Vec<Vec<u32>> = Vec::new();
    let mut set_ids: HashMap<Vec<u32>, u32> = HashMap::default();
    let line_sets: Vec<Vec<u32>> = lines
        .iter()
        .map(|lg| {
            lg.sets
                .iter()
                .map(|set| {
                    *set_ids.entry(set.clone()).or_insert_with(|| {
                        sets.push(set.clone());
                        (sets.len() - 1) as u32
                    })
                })
                .collect()
        })
        .collect();
    let first_norm = globals.len() as u32;
    let one = first_norm + sets.len() as u32;
    let mut graphs = Vec::with_capacity(lines.len());
    let mut sizes = Vec::with_capacity(lines.len());
    for (lg, map) in lines.iter().zip(&line_sets) {
        let g = &lg.graph;
        sizes.push((g.nodes(), g.edges()));
        graphs.push(Binary::new(g, local, |s| first_norm + map[s as usize], one));
    }
    Unit {
        globals,
        sets,
        graphs,
        sizes,
    }
}
