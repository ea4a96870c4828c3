//! Hard (Viterbi) EM's E-step: every line counts the events of its single most probable
//! derivation, weighted by the line's weight, instead of their posterior expectations. The
//! M-step takes these counts as it takes the soft ones, so the store is the same
//! [`CountStore`]: parameter counts, Gaussian sufficient statistics (mass = weight), uses of
//! allowed sets, and `sum_lines weight * max_z log p(x, z)` as the log-likelihood.
//!
//! The compiled kernels keep what inside-outside needs, not back-pointers, so each call goes
//! back to the story: an unrolled story's line is unrolled again and decoded by the planned
//! engine's max-product (`infer::map`), a structured story's line is executed again and
//! decoded by Viterbi on its hypergraph (`hypergraph::inside::viterbi`). Both break ties as
//! decoding does, so `emc decode` prints the derivation counted here. A call so costs about
//! what the generic E-step does for an unrolled story (an unroll and a max-product pass per
//! line), and for a structured one what compiling the kernel does (the story run per line)
//! plus a log-space Viterbi pass, unless the lines' hypergraphs were built once for the run
//! ([`line_graphs`], what training does): then a Viterbi pass per line.

use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use crate::data::{Dataset, Instance};
use crate::density;
use crate::error::Error;
use crate::graph::TableCache;
use crate::hypergraph::inside::viterbi;
use crate::infer::{count_entry, map, CountStore, Engine, InferError};
use crate::kernel::ordered::map_merge_in_order;
use crate::kernel::{Kernel, ZeroPolicy};
use crate::params::Params;
use crate::program::Program;
use crate::structured::{execute_line, LineGraph};

/// Lines per unit of work: fixed by the data, never by the thread count, so blocks (and the
/// order their sums are added in) are the same for any pool.
const BLOCK: usize = 64;

/// Counts of every line's most probable derivation (Viterbi/MAP) at `params`, weighted by
/// the line's weight: what hard EM's M-step takes. `log_likelihood` is
/// `sum_lines weight * max_z log p(x, z)`.
///
/// Ties go where decoding sends them (the first best value or hyperedge), so the counts are
/// a function of the inputs alone; blocks of lines are counted in parallel and added in
/// block order, so they are the same bits for any thread count. A line with no derivation of
/// positive probability stops the call with the E-step's error under `ZeroPolicy::Stop`, and
/// is listed in `skipped` under `Skip`. `kernel` is the program's compiled E-step: a
/// structured story's allowed sets keep the ids its soft counts give them.
pub fn viterbi_counts(
    program: &Program,
    data: &Dataset,
    params: &Params,
    kernel: &Kernel,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
) -> Result<CountStore, Error> {
    viterbi_counts_with(program, data, None, params, kernel, pool, on_zero)
}

/// A structured story's line hypergraphs, built once for the iterations of a hard EM run:
/// running the story is most of a call's cost (about 200 times a soft E-step on the DMV),
/// and the graphs do not depend on the parameters. They take the memory the kernel saves
/// by building its lines unit by unit.
pub struct Graphs(Vec<LineGraph>);

/// The line hypergraphs of a structured story (`None` for an unrolled one, whose graphs
/// share tables between lines and are unrolled again per block).
pub fn line_graphs(
    program: &Program,
    data: &Dataset,
    pool: &rayon::ThreadPool,
) -> Result<Option<Graphs>, Error> {
    if program.plan.engine != Engine::Hypergraph {
        return Ok(None);
    }
    let lines: Result<Vec<LineGraph>, Error> = pool.install(|| {
        (data.instances.par_iter())
            .map(|inst| execute_line(program, inst, false).map_err(Error::from))
            .collect()
    });
    Ok(Some(Graphs(lines?)))
}

/// [`viterbi_counts`] with the structured lines' hypergraphs built already
/// ([`line_graphs`] of the same data).
pub fn viterbi_counts_with(
    program: &Program,
    data: &Dataset,
    graphs: Option<&Graphs>,
    params: &Params,
    kernel: &Kernel,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
) -> Result<CountStore, Error> {
    let structured = program.plan.engine == Engine::Hypergraph;
    let blocks: Vec<&[Instance]> = data.instances.chunks(BLOCK).collect();
    let built: Vec<Option<&[LineGraph]>> = match graphs {
        Some(g) => g.0.chunks(BLOCK).map(Some).collect(),
        None => vec![None; blocks.len()],
    };
    let mut total = CountStore::new(program.layout.total);
    let mut sets = Sets::starting_from(kernel);
    map_merge_in_order(
        pool,
        blocks.len(),
        || (),
        |i, _, _| match structured {
            true => structured_block(program, blocks[i], built[i], params, on_zero),
            false => unrolled_block(program, blocks[i], params, on_zero),
        },
        |block| {
            total.merge(&block.store);
            sets.add(block.sets, &mut total.norm_uses);
            None
        },
    )?;
    // Data without lines merged no block, yet the sets are the kernel's.
    total.norm_uses.resize(sets.len(), 0.0);
    total.norm_sets = sets.finish();
    Ok(total)
}

/// One block's counts: the store without allowed sets, and every allowed set its lines
/// name, in line order, each with the uses the lines' derivations make of it.
struct Block {
    store: CountStore,
    sets: Vec<(Vec<u32>, f64)>,
}

/// Allowed sets interned in data order, as the hypergraph kernel interns them, starting
/// from the kernel's own: ids then agree with the soft E-step's for the same data.
struct Sets {
    start: Arc<Vec<Vec<u32>>>,
    added: Vec<Vec<u32>>,
    ids: HashMap<Vec<u32>, usize>,
}

impl Sets {
    fn starting_from(kernel: &Kernel) -> Sets {
        let start = match kernel {
            Kernel::Hypergraph(k) => k.norm_sets().clone(),
            _ => Arc::default(),
        };
        let ids = (start.iter().enumerate())
            .map(|(i, s)| (s.clone(), i))
            .collect();
        Sets {
            start,
            added: Vec::new(),
            ids,
        }
    }

    fn len(&self) -> usize {
        self.start.len() + self.added.len()
    }

    fn add(&mut self, sets: Vec<(Vec<u32>, f64)>, uses: &mut Vec<f64>) {
        uses.resize(self.len(), 0.0);
        for (set, n) in sets {
            let id = match self.ids.get(&set) {
                Some(id) => *id,
                None => {
                    let id = self.len();
                    self.ids.insert(set.clone(), id);
                    self.added.push(set);
                    uses.push(0.0);
                    id
                }
            };
            uses[id] += n;
        }
    }

    /// The sets `norm_uses` indexes: the kernel's own when the data named no other (the
    /// same `Arc`, so the M-step can tell they are the soft counts' sets).
    fn finish(self) -> Arc<Vec<Vec<u32>>> {
        if self.added.is_empty() {
            return self.start;
        }
        let mut all = (*self.start).clone();
        all.extend(self.added);
        Arc::new(all)
    }
}

/// A line without a derivation: an error under `Stop`, else a line to report.
fn zero_line(line: usize, on_zero: ZeroPolicy, store: &mut CountStore) -> Result<(), Error> {
    match on_zero {
        ZeroPolicy::Stop => Err(InferError::ZeroProbability { line }.into()),
        ZeroPolicy::Skip => {
            store.skipped.push(line);
            Ok(())
        }
    }
}

/// Unrolled stories (enumeration, chain, junction tree): the planned engine's most probable
/// joint value, and in each factor the one entry it selects, counted as the soft E-step
/// counts an entry (`infer::count_entry`) with the line's weight as its mass.
fn unrolled_block(
    program: &Program,
    block: &[Instance],
    params: &Params,
    on_zero: ZeroPolicy,
) -> Result<Block, Error> {
    let theta = &params.theta;
    let mut store = CountStore::new(program.layout.total);
    // A fresh cache per block, as the soft E-step's generic path has: what a block unrolls
    // never depends on the blocks a thread ran before it.
    let mut tables = TableCache::default();
    for inst in block {
        let g = program.unroll(inst, &mut tables)?;
        let (assign, score) = match map(program.plan.engine, &g, theta) {
            Ok(best) => best,
            Err(InferError::ZeroProbability { line }) => {
                zero_line(line, on_zero, &mut store)?;
                continue;
            }
            Err(e) => return Err(e.into()),
        };
        let cards = g.cards();
        for f in &g.factors {
            // Row-major over the scope, the last variable fastest (`Factor::entries`).
            let at = (f.scope.iter()).fold(0, |at, v| {
                at * cards[*v as usize] + assign[*v as usize] as usize
            });
            count_entry(&g, f.entries[at], g.weight, &mut store, theta);
        }
        store.log_likelihood += g.weight * score;
        store.instances += 1;
    }
    Ok(Block {
        store,
        sets: Vec::new(),
    })
}

/// Structured stories: each line's hypergraph built again and its Viterbi derivation's
/// hyperedges counted: their parameter entries, their densities (entries past the
/// parameters, `structured::Densities`) as Gaussian statistics, and one use of each allowed
/// set they divide by.
fn structured_block(
    program: &Program,
    block: &[Instance],
    built: Option<&[LineGraph]>,
    params: &Params,
    on_zero: ZeroPolicy,
) -> Result<Block, Error> {
    let theta = &params.theta;
    let mut store = CountStore::new(program.layout.total);
    let mut sets = Vec::new();
    for (i, inst) in block.iter().enumerate() {
        let executed;
        let lg = match built {
            Some(lines) => &lines[i],
            None => {
                executed = execute_line(program, inst, false)?;
                &executed
            }
        };
        let g = &lg.graph;
        let w = inst.weight;
        let mut uses = vec![0.0; lg.sets.len()];
        match viterbi(g, &lg.log_weights(theta)) {
            Some((score, order)) => {
                let dens = &lg.densities;
                for e in order {
                    for k in g.entries(e) {
                        match (*k as usize).checked_sub(dens.first as usize) {
                            None => store.expected[*k as usize] += w,
                            Some(d) => {
                                let (row, obs) = dens.densities[d];
                                let x = &dens.observations[obs as usize].1;
                                let row = row as usize;
                                density::add_stats(
                                    &density::row(&theta[row..], x.len()),
                                    x,
                                    w,
                                    &mut store.expected[row..row + density::width(x.len())],
                                );
                            }
                        }
                    }
                    for s in g.norms(e) {
                        uses[*s as usize] += w;
                    }
                }
                store.log_likelihood += w * score;
                store.instances += 1;
            }
            None => zero_line(inst.line, on_zero, &mut store)?,
        }
        // Every set the line names, used or not, so ids follow the kernel's interning.
        sets.extend(lg.sets.iter().cloned().zip(uses));
    }
    Ok(Block { store, sets })
}
