//! The compiled kernel for chain plans (HMMs and their relatives). Every instance is unrolled
//! once, when the kernel is built, into a few integer ids per position: which product of unary
//! tables its state is scored by, and which product of pair tables links it to the previous
//! position. Tables are interned by content, so an HMM's emission tables become one per word
//! type. Each iteration then turns the parameters into dense per-table values once, and runs
//! forward-backward over batches of instances with equal length and equal pair tables, so that
//! each step is one matrix-matrix product (`gemm`) rather than one matrix-vector product per
//! instance.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::ops::Range;

mod batch;
mod build;
mod precision;
mod relay;
mod rows;
mod scatter;
mod stream;
mod sums;
mod tables;

pub use build::{Builder, Seen};
pub use precision::Precision;
pub use relay::Relayed;

use batch::Ran;
use precision::{Messages, SingleTables};
pub(in crate::kernel) use tables::table_key;
use tables::{products, value, Products, Tables};

use super::densities;
use super::gemm::{Isa, Packed, View};
use super::ordered::map_merge_in_order;
use super::units::{push_leading, push_nonzero, UnitCounts};
use crate::density;
use crate::graph::Entry;
use crate::infer::CountStore;

/// Instances per batch: enough rows for the matrix products to run near peak.
const BATCH: usize = 128;
/// Tokens per unit of parallel work, at most about. Units are fixed by the data, never by
/// the thread count, and their counts are summed in unit order, so results are identical for
/// any `--threads`. Each unit's counts are as long as the parameters and merged once, so
/// fewer, longer units merge less (W1: 3% of an iteration from 2^16 to 2^17 tokens).
const CHUNK_TOKENS: usize = 1 << 17;
/// Tokens per unit at least, about: a block of up to four such units is cut as before the
/// largest were raised, so that it keeps its units for two threads (and its bits).
const MIN_CHUNK_TOKENS: usize = 1 << 16;

/// Instances of one length whose edges carry the same pair products, run together.
struct Batch {
    len: usize,
    members: Vec<u32>,
    /// The pair product on the edge into position `t`, for `t` in `1..len`.
    pairs: Vec<u32>,
    /// The unary product of every position and member, position-major, so that the steps
    /// read them in order instead of through each instance (a batch's members lie all over
    /// the data).
    ids: Vec<u32>,
    /// Each member's weight, and whether any has factors over no hidden variable.
    weights: Vec<f64>,
    constants: bool,
}

struct Instance {
    line: usize,
    weight: f64,
    /// This instance's unary product ids (one per position) in `ChainKernel::unary`.
    unary: Range<usize>,
    /// Its factors over no hidden variable, in `ChainKernel::constants`.
    constants: Range<usize>,
}

pub struct ChainKernel {
    /// States per position.
    k: usize,
    rows: Tables,
    pair_tables: Tables,
    unary_products: Products,
    pair_products: Products,
    instances: Vec<Instance>,
    unary: Vec<u32>,
    constants: Vec<Entry>,
    batches: Vec<Batch>,
    /// Consecutive batches counted as one unit of work.
    chunks: Vec<Range<usize>>,
    densities: Densities,
    /// The precision batches run in (`precision`; double for a unit one of whose batches
    /// fails the checks of single, or has Gaussian draws).
    precision: Precision,
    /// Tokens of every line compiled, kept when a block's lines are dropped (`--stream`):
    /// what `auto` weighs is the whole data.
    tokens_seen: usize,
    /// The instruction set the per-token passes are compiled for: the processor's widest,
    /// unless a test asks for narrower (every choice gives the same bits).
    isa: Option<Isa>,
    /// Whether the per-token passes run compiled for their row width where there is such a
    /// build (`batch::by_width`); off only in tests, which hold both to the same bits.
    widths: bool,
}

/// Gaussian draws per position: which rows score the state (a row set, interned like a
/// table) and which observation they score. Their values change with every M-step, so they
/// are computed as the batch runs.
#[derive(Default)]
struct Densities {
    /// Entries `Density { row, obs: 0 }` per state.
    rowsets: Tables,
    /// Per global position, its densities in `list` (`start[p]..start[p + 1]`).
    start: Vec<u32>,
    /// (row set, observation).
    list: Vec<(u32, u32)>,
    /// Observations back to back; observation `i` is `values[at[i]..at[i + 1]]`.
    values: Vec<f64>,
    at: Vec<u32>,
}

impl Densities {
    fn observation(&self, i: u32) -> &[f64] {
        &self.values[self.at[i as usize] as usize..self.at[i as usize + 1] as usize]
    }

    fn at_position(&self, p: usize) -> &[(u32, u32)] {
        if self.list.is_empty() {
            return &[];
        }
        &self.list[self.start[p] as usize..self.start[p + 1] as usize]
    }
}

/// Why an instance graph does not fit the kernel; the caller falls back to the generic path.
pub struct Unfit;

/// The parameters as dense values, once per iteration: each product scaled to a maximum of 1,
/// with the log of the scale kept apart, so that no table underflows.
struct Values {
    unary: Vec<f64>,
    unary_log: Vec<f64>,
    pair: Vec<f64>,
    pair_log: Vec<f64>,
    /// Each pair product and its transpose, packed for the forward and backward products.
    pair_packed: Vec<Packed>,
    pair_packed_t: Vec<Packed>,
    /// `L^{-1}` of every Gaussian row scored in batches, by the row's index in theta.
    inverses: HashMap<u32, Vec<f64>>,
    /// The unary values and pair products in single precision, when the kernel runs in it.
    single: Option<SingleTables>,
}

/// From this dimension on, a batch's densities and statistics go through matrix products
/// (below it the per-point loops are faster than the products' overhead).
const BATCHED_DIM: usize = 4;

/// One unit's counts, in the kernel's own coordinates until `ChainKernel::scatter_counts`.
struct Acc {
    /// Posterior state mass per unary product.
    unary: Vec<f64>,
    /// Per pair product, the sum of `alpha_{t-1}^T w_t`; times the table it is the edge mass.
    pair: Vec<f64>,
    constants: Vec<(u32, f64)>,
    /// Gaussian sufficient statistics, indexed like the parameters (empty without densities).
    stats: Vec<f64>,
    log_likelihood: f64,
    instances: usize,
    skipped: Vec<usize>,
}

impl Acc {
    /// Back to no counts, keeping the memory (a unit's tables are large: one row per word
    /// type for an HMM).
    fn reset(&mut self) {
        self.unary.fill(0.0);
        self.pair.fill(0.0);
        self.constants.clear();
        self.stats.fill(0.0);
        self.log_likelihood = 0.0;
        self.instances = 0;
        self.skipped.clear();
    }

    /// Adds `other`'s counts and leaves it with none, in one pass over its tables: the
    /// separate reset of every merged unit was about 3% of a W1 iteration.
    fn merge_and_clear(&mut self, other: &mut Acc) {
        let drain = |a: &mut f64, b: &mut f64| {
            *a += *b;
            *b = 0.0;
        };
        let pairs = |a: &mut Vec<f64>, b: &mut Vec<f64>| {
            a.iter_mut()
                .zip(b.iter_mut())
                .for_each(|(a, b)| drain(a, b))
        };
        pairs(&mut self.unary, &mut other.unary);
        pairs(&mut self.pair, &mut other.pair);
        pairs(&mut self.stats, &mut other.stats);
        self.constants.append(&mut other.constants);
        self.log_likelihood += std::mem::take(&mut other.log_likelihood);
        self.instances += std::mem::take(&mut other.instances);
        self.skipped.append(&mut other.skipped);
    }
}

impl Acc {
    /// This unit's counts as a value: unary, pair and Gaussian numbers back to back.
    fn to_unit(&self) -> UnitCounts {
        let mut unit = UnitCounts {
            extra: (self.constants.iter())
                .map(|(p, w)| (u64::from(*p), *w))
                .collect(),
            log_likelihood: self.log_likelihood,
            instances: self.instances as u64,
            lines: self.skipped.iter().map(|l| *l as u64).collect(),
            ..UnitCounts::default()
        };
        push_leading(&mut unit, &[&self.unary, &self.pair]);
        let stats = self.unary.len() + self.pair.len();
        push_nonzero(&mut unit.values, stats, &self.stats);
        unit
    }

    /// `merge` of the unit `to_unit` made: the same additions, the zeros left out.
    fn add_unit(&mut self, unit: &UnitCounts) {
        let (pair, stats) = (self.unary.len(), self.unary.len() + self.pair.len());
        let (unary, rest) = unit.dense.split_at(unit.dense.len().min(pair));
        (self.unary.iter_mut().zip(unary)).for_each(|(a, b)| *a += b);
        (self.pair.iter_mut().zip(rest)).for_each(|(a, b)| *a += b);
        for (i, v) in &unit.values {
            let i = *i as usize;
            let at = if i < pair {
                self.unary.get_mut(i)
            } else if i < stats {
                self.pair.get_mut(i - pair)
            } else {
                self.stats.get_mut(i - stats)
            };
            if let Some(a) = at {
                *a += v;
            }
        }
        let constants = unit.extra.iter().map(|(p, w)| (*p as u32, *w));
        self.constants.extend(constants);
        self.log_likelihood += unit.log_likelihood;
        self.instances += unit.instances as usize;
        self.skipped.extend(unit.lines.iter().map(|l| *l as usize));
    }
}

/// An instance with probability zero, by data line.
pub struct Zero(pub usize);

/// Working memory for one batch, reused across the batches of a unit.
#[derive(Default)]
struct Scratch {
    /// The messages in double precision, and in single (`precision`).
    wide: Messages<f64>,
    narrow: Messages<f32>,
    /// A batch's observations at one position (rows), their log densities and state
    /// posteriors (rows by state), and room for the products.
    x: Vec<f64>,
    ld: Vec<f64>,
    g: Vec<f64>,
    y: Vec<f64>,
    /// Per member: where its positions start in `ChainKernel::unary`, its weight and its log
    /// Z so far.
    starts: Vec<usize>,
    weights: Vec<f64>,
    log_z: Vec<f64>,
    /// Per member, the product of its forward scales so far.
    scales: Vec<rows::Scales>,
    /// `Batch::ids` for a batch some of whose members have been left out.
    ids: Vec<u32>,
    log_density: Vec<f64>,
}

impl ChainKernel {
    pub fn tokens(&self) -> usize {
        self.unary.len()
    }

    pub fn set_precision(&mut self, precision: Precision) {
        self.precision = precision;
    }

    /// Compiles the per-token passes for no wider an instruction set than `isa` (`None`:
    /// the x86-64 baseline), so that tests can hold every build to the same bits.
    pub fn limit_isa(&mut self, isa: Option<Isa>) {
        self.isa = self.isa.min(isa);
    }

    /// Runs the per-token passes for any row width (`false`), not compiled for this one,
    /// so that tests can hold both to the same bits.
    pub fn set_fixed_widths(&mut self, on: bool) {
        self.widths = on;
    }

    /// Whether batches run in single precision: only where the hand-written product kernels
    /// run (x86-64 with AVX2 and FMA, where single precision was measured and tested; double
    /// elsewhere), and for `auto` from `AUTO_STATES` states and `AUTO_TOKENS` tokens on.
    /// Batches with Gaussian draws run in double whatever this says.
    pub fn single(&self) -> bool {
        crate::kernel::gemm::isa().is_some()
            && match self.precision {
                Precision::Double => false,
                Precision::Single => true,
                Precision::Auto => {
                    self.k >= precision::AUTO_STATES && self.tokens_seen >= precision::AUTO_TOKENS
                }
            }
    }

    /// Expected counts and log-likelihood over all instances. `skip` leaves zero-probability
    /// instances out (reported in `skipped`) instead of failing on the first.
    pub fn e_step(
        &self,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
    ) -> Result<CountStore, Zero> {
        let values = self.values(theta, Some(pool));
        let mut total = self.empty_acc(params);
        self.count(&values, theta, params, pool, skip, 0..self.units(), |acc| {
            total.merge_and_clear(acc)
        })?;
        Ok(self.scatter_counts(total, &values, params, Some(pool)))
    }

    /// Units of work, fixed by the data.
    pub fn units(&self) -> usize {
        self.chunks.len()
    }

    /// Coordinates of a unit's counts: posterior mass per unary product and state, per pair
    /// product and pair of states, then the Gaussian statistics (`Acc`, flattened).
    pub fn coordinates(&self, params: usize) -> usize {
        let acc = self.empty_acc(params);
        acc.unary.len() + acc.pair.len() + acc.stats.len()
    }

    /// Each unit's counts of `units`, unmerged, for `finish` to merge.
    pub fn count_units(
        &self,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
    ) -> Result<Vec<UnitCounts>, Zero> {
        let values = self.values(theta, Some(pool));
        self.count_units_at(&values, theta, params, pool, skip, units)
    }

    /// `count_units` at values worked out already.
    fn count_units_at(
        &self,
        values: &Values,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
    ) -> Result<Vec<UnitCounts>, Zero> {
        let mut out = Vec::with_capacity(units.len());
        self.count(values, theta, params, pool, skip, units, |acc| {
            out.push(acc.to_unit());
            acc.reset();
        })?;
        Ok(out)
    }

    /// Merges every unit's counts (all of them, in unit order) as `e_step` merges its own.
    pub fn finish(&self, theta: &[f64], params: usize, units: &[UnitCounts]) -> CountStore {
        self.finish_at(&self.values(theta, None), params, units)
    }

    /// `finish` at values worked out already.
    fn finish_at(&self, values: &Values, params: usize, units: &[UnitCounts]) -> CountStore {
        let mut total = self.empty_acc(params);
        units.iter().for_each(|u| total.add_unit(u));
        self.scatter_counts(total, values, params, None)
    }

    /// The values at `theta`, worked out on `pool` where there is one.
    fn values(&self, theta: &[f64], pool: Option<&rayon::ThreadPool>) -> Values {
        let (unary, unary_log) = products(&self.rows, &self.unary_products, theta, pool);
        let (pair, pair_log) = products(&self.pair_tables, &self.pair_products, theta, pool);
        let k = self.k;
        let table = |p: usize| View::new(&pair[p * k * k..(p + 1) * k * k], k, k);
        let pairs = 0..self.pair_products.members.len();
        let pair_packed = pairs.clone().map(|p| Packed::new(table(p))).collect();
        let pair_packed_t = pairs.map(|p| Packed::new(table(p).t())).collect();
        let single = self
            .single()
            .then(|| SingleTables::new(&unary, &pair, k, pool));
        Values {
            unary,
            unary_log,
            pair,
            pair_log,
            pair_packed,
            pair_packed_t,
            inverses: self.inverses(theta),
            single,
        }
    }

    /// Counts `units` and hands each unit's counts to `merge`, in unit order. `merge` must
    /// leave the counts it is handed at zero (`Acc::merge_and_clear`, `Acc::reset`): they go
    /// back to the scheduler, and a unit counts onto them as they are.
    #[allow(clippy::too_many_arguments)]
    fn count(
        &self,
        values: &Values,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
        mut merge: impl FnMut(&mut Acc) + Send,
    ) -> Result<(), Zero> {
        // Each unit's count tables are large (a row per word type for an HMM), so merged
        // tables go back to the scheduler to count a later unit in.
        map_merge_in_order(
            pool,
            units.len(),
            Scratch::default,
            |i, scratch, spare| {
                let mut acc = spare.unwrap_or_else(|| self.empty_acc(params));
                let chunk = self.chunks[units.start + i].clone();
                self.run_chunk(chunk, values, theta, skip, &mut acc, scratch)
                    .map(|()| acc)
            },
            |mut acc| {
                merge(&mut acc);
                Some(acc)
            },
        )
    }

    /// `L^{-1}` for the rows of every row set of dimension `BATCHED_DIM` or more.
    fn inverses(&self, theta: &[f64]) -> HashMap<u32, Vec<f64>> {
        let d = &self.densities;
        let mut out = HashMap::default();
        for (set, obs) in &d.list {
            let dim = d.observation(*obs).len();
            if dim < BATCHED_DIM {
                continue;
            }
            for e in d.rowsets.table(*set as usize) {
                if let Entry::Density { row, .. } = e {
                    out.entry(*row).or_insert_with(|| {
                        densities::inverse_factor(&density::row(&theta[*row as usize..], dim))
                    });
                }
            }
        }
        out
    }

    /// The row set scoring position `t` of every member, when each has exactly one density
    /// there, all from the same row set, of a dimension worth batching, with no missing
    /// coordinate.
    fn batched_set(&self, starts: &[usize], t: usize) -> Option<(u32, usize)> {
        let d = &self.densities;
        let mut found: Option<(u32, usize)> = None;
        for start in starts {
            let [(set, obs)] = d.at_position(start + t) else {
                return None;
            };
            let x = d.observation(*obs);
            if x.len() < BATCHED_DIM || x.iter().any(|v| v.is_nan()) {
                return None;
            }
            match found {
                None => found = Some((*set, x.len())),
                Some((s, _)) if s != *set => return None,
                _ => {}
            }
        }
        found
    }

    /// Whether any of these instances has a Gaussian draw: such a batch runs in double
    /// precision, its densities being worked out per position in double.
    fn has_densities(&self, members: &[u32]) -> bool {
        let d = &self.densities;
        !d.list.is_empty()
            && members.iter().any(|m| {
                let span = &self.instances[*m as usize].unary;
                d.start[span.start] != d.start[span.end]
            })
    }

    /// The members' observations at position `t`, one row each.
    fn gather(&self, starts: &[usize], t: usize, dim: usize, out: &mut Vec<f64>) {
        out.clear();
        out.reserve(starts.len() * dim);
        for start in starts {
            let (_, obs) = self.densities.at_position(start + t)[0];
            out.extend_from_slice(self.densities.observation(obs));
        }
    }

    fn empty_acc(&self, params: usize) -> Acc {
        Acc {
            unary: vec![0.0; self.unary_products.members.len() * self.k],
            pair: vec![0.0; self.pair_products.members.len() * self.k * self.k],
            constants: Vec::new(),
            // By the row sets interned, not the draws held: a streamed kernel holds no draws
            // between blocks, and its total must have room for every block's statistics.
            stats: if self.densities.rowsets.count() == 0 {
                Vec::new()
            } else {
                vec![0.0; params]
            },
            log_likelihood: 0.0,
            instances: 0,
            skipped: Vec::new(),
        }
    }

    /// Counts the chunk's batches onto `acc`, which comes in with no counts (see `count`).
    /// A unit runs in single precision or in double as a whole: where single precision
    /// cannot be trusted with a batch (`Ran::Unsound`, `Ran::Spoilt`), or a batch has
    /// Gaussian draws, the chunk is counted afresh in double precision, at most twice its
    /// work, and what it counts depends only on the data. A unit counted in single precision
    /// has its log-likelihood corrected for the rounding of the tables
    /// (`SingleTables::correction`), which takes a whole unit's counts.
    fn run_chunk(
        &self,
        chunk: Range<usize>,
        values: &Values,
        theta: &[f64],
        skip: bool,
        acc: &mut Acc,
        scratch: &mut Scratch,
    ) -> Result<(), Zero> {
        debug_assert!(acc.instances == 0 && acc.constants.is_empty() && acc.skipped.is_empty());
        let single = self.single()
            && !(self.batches[chunk.clone()].iter()).any(|b| self.has_densities(&b.members));
        if single && self.count_batches(chunk.clone(), values, theta, skip, acc, scratch, true)? {
            let tables = values.single.as_ref();
            let tables = tables.expect("a single-precision kernel works out single tables");
            acc.log_likelihood += tables.correction(&acc.unary, &acc.pair);
            return Ok(());
        }
        if single {
            acc.reset();
        }
        let done = self.count_batches(chunk, values, theta, skip, acc, scratch, false)?;
        debug_assert!(done, "double precision never spoils the counts");
        Ok(())
    }

    /// `run_chunk` with every batch in single precision or every one in double: whether
    /// the counts are sound (single precision can spoil them).
    #[allow(clippy::too_many_arguments)]
    fn count_batches(
        &self,
        chunk: Range<usize>,
        values: &Values,
        theta: &[f64],
        skip: bool,
        acc: &mut Acc,
        scratch: &mut Scratch,
        single: bool,
    ) -> Result<bool, Zero> {
        for batch in &self.batches[chunk] {
            let mut members = Cow::Borrowed(&batch.members[..]);
            loop {
                let ran = if single {
                    self.run_batch::<f32>(batch, &members, values, theta, acc, scratch)
                } else {
                    self.run_batch::<f64>(batch, &members, values, theta, acc, scratch)
                };
                let dead = match ran {
                    Ran::Counted => break,
                    Ran::Unsound | Ran::Spoilt => return Ok(false),
                    Ran::Dead(dead) => dead,
                };
                let lines = dead.iter().map(|i| self.instances[*i as usize].line);
                if !skip {
                    return Err(Zero(lines.min().unwrap_or(0)));
                }
                acc.skipped.extend(lines);
                members.to_mut().retain(|m| !dead.contains(m));
            }
        }
        Ok(true)
    }
}
