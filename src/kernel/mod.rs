//! E-step kernels: what the compiler emits for a plan. A chain plan gets a compiled, batched
//! forward-backward over interned tables (`chain`); an enumeration plan gets that too when
//! its variables all have one size, else products per variable over gathered entries
//! (`independent`: IBM Model 1's alignments have as many values as their sentence pair has
//! words); every other plan runs the general engines of `infer` on each instance unrolled
//! afresh (`generic`). All count in fixed units of work summed in order, so the counts are
//! the same bits for any thread count.

mod bits;
mod chain;
mod densities;
mod frontier;
mod gemm;
mod generic;
pub mod hypergraph;
mod independent;
pub mod ordered;
mod placing;
mod prefetch;
mod runs;
mod stream;
mod strided;
mod units;

pub use chain::Precision;
pub use gemm::Isa;
pub use stream::{refuse as refuse_stream, scan_domains, StreamKernel};
pub use units::UnitCounts;

use crate::compile::find_supports;
use crate::error::Error;
use crate::graph::Decoded;
use crate::program::Program;
use ordered::map_merge_in_order;
use std::ops::Range;

use crate::data::{Dataset, Instance};
use crate::graph::TableCache;
use crate::infer::{CountStore, Engine, InferError};
use crate::params::{Layout, Params};

/// What to do with an instance that has probability zero under the current parameters.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ZeroPolicy {
    /// Stop with an error naming the line (the default: such a line usually means a bug in
    /// the model or the data).
    Stop,
    /// Leave the line out of this iteration's counts and report it.
    Skip,
}

/// Instances compiled per parallel task.
const BUILD_SHARD: usize = 2048;

/// What `Kernel::shard_kind` appends to the kind of a kernel whose messages are single
/// precision (`accum::assemble` reads it back).
pub const SINGLE_SUFFIX: &str = "/f32";

/// Data lines per block: the chain kernel batches and counts each block on its own, so that
/// `--stream` can hold one block at a time and still sum the same numbers in the same order.
/// A multiple of `BUILD_SHARD`, so that blocks of the whole data are shards the same way.
pub const BLOCK_LINES: usize = 1 << 16;

/// The instances of each parallel task: `BUILD_SHARD` at a time, never across a block.
fn shards(instances: usize, block_lines: usize) -> Vec<Range<usize>> {
    let block_lines = block_lines.max(1);
    let mut out = Vec::new();
    for block in (0..instances).step_by(block_lines) {
        let end = (block + block_lines).min(instances);
        for start in (block..end).step_by(BUILD_SHARD) {
            out.push(start..(start + BUILD_SHARD).min(end));
        }
    }
    out
}

pub enum Kernel {
    Chain(Box<chain::ChainKernel>),
    Independent(Box<independent::IndependentKernel>),
    /// A structured story: every line's hypergraph, built once.
    Hypergraph(Box<hypergraph::HypergraphKernel>),
    /// The chain kernel over a data file read a block at a time (`--stream`).
    Stream(Box<StreamKernel>),
    /// A junction-tree plan swept by a frontier of variables (`frontier`).
    Frontier(Box<frontier::FrontierKernel>),
    Generic,
}

/// What one shard compiled into: each builder that every instance so far fits.
struct Shard {
    chain: Option<chain::Builder>,
    independent: Option<independent::Builder>,
}

impl Kernel {
    /// Compiles the data for the program's plan. Unrolls every instance once, so a story that
    /// fails on some data line fails here, before any iteration.
    pub fn build(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
    ) -> Result<Kernel, Error> {
        Kernel::build_blocks(program, data, pool, BLOCK_LINES)
    }

    /// `build` with the chain kernel's batches and units cut within blocks of `block_lines`
    /// instances (`BLOCK_LINES` but in tests).
    pub fn build_blocks(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
        block_lines: usize,
    ) -> Result<Kernel, Error> {
        // A mixture is a chain of length one, and independent variables of one size are a
        // chain without edges: both run on the compiled kernel when every instance fits.
        let independent = match program.plan.engine {
            Engine::Hypergraph => {
                let k = hypergraph::HypergraphKernel::build(program, data, pool)?;
                return Ok(Kernel::Hypergraph(Box::new(k)));
            }
            Engine::Chain => false,
            Engine::Enumerate => true,
            Engine::JunctionTree => return build_frontier(program, data, pool, block_lines),
            _ => return Ok(Kernel::Generic),
        };
        let mut chain = Some(chain::Builder::new(block_lines));
        let mut indep = independent.then(independent::Builder::new);
        // Shards are compiled in parallel and absorbed in data order, so the kernel (and the
        // first error reported) is the same for any thread count. Each is absorbed as soon as
        // the ones before it are: a shard's builder holds its own tables (an emission row per
        // word type it meets), and holding every shard's until the last one is done took
        // gigabytes.
        let shards = shards(data.instances.len(), block_lines);
        map_merge_in_order(
            pool,
            shards.len(),
            || (),
            |i, _, _| build_shard(program, &data.instances[shards[i].clone()], independent),
            |shard| {
                chain = match (chain.take(), shard.chain) {
                    (Some(mut whole), Some(part)) => whole.absorb(part).is_ok().then_some(whole),
                    _ => None,
                };
                indep = match (indep.take(), shard.independent) {
                    (Some(mut whole), Some(part)) => {
                        whole.absorb(part);
                        Some(whole)
                    }
                    _ => None,
                };
                None
            },
        )?;
        Ok(match (chain, indep) {
            (Some(c), _) => Kernel::Chain(Box::new(c.finish())),
            (None, Some(i)) => Kernel::Independent(Box::new(i.finish(program.layout.total))),
            (None, None) => Kernel::Generic,
        })
    }

    /// Compiles the data for a program whose sparse families have no supports yet, and finds
    /// the supports: in one pass over the data for an enumeration plan (the pass compiles
    /// with discovered entries numbered, placed once every support is known), else a pass
    /// for the supports and one for the kernel. Returns the layout with the supports.
    pub fn build_placing(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
        block_lines: usize,
    ) -> Result<(Layout, Kernel), Error> {
        if program.layout.sparse_families().is_empty() {
            let kernel = Kernel::build_blocks(program, data, pool, block_lines)?;
            return Ok((program.layout.clone(), kernel));
        }
        if program.plan.engine != Engine::Enumerate {
            let layout =
                pool.install(|| find_supports(&program.model, data, program.layout.clone()))?;
            let placed = Program {
                layout,
                ..program.clone()
            };
            let kernel = Kernel::build_blocks(&placed, data, pool, block_lines)?;
            return Ok((placed.layout, kernel));
        }
        let (layout, builder) = placing::build(program, data, pool, BUILD_SHARD)?;
        let kernel = match builder {
            Some(b) => Kernel::Independent(Box::new(b.finish(layout.total))),
            None => Kernel::Generic,
        };
        Ok((layout, kernel))
    }

    /// `line` of the most probable value of every hidden variable, per instance in data
    /// order (the variables in instance-graph order), when the kernel can decode without
    /// unrolling the instances again.
    pub fn map<R: Send>(
        &self,
        params: &Params,
        pool: &rayon::ThreadPool,
        line: impl Fn(&[Decoded]) -> R + Sync,
    ) -> Option<Vec<R>> {
        match self {
            Kernel::Independent(k) => Some(k.map(&params.theta, pool, line)),
            _ => None,
        }
    }

    /// Expected counts and log-likelihood at `params`.
    pub fn e_step(
        &self,
        program: &Program,
        data: &Dataset,
        params: &Params,
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        match self {
            Kernel::Chain(c) => c
                .e_step(
                    &params.theta,
                    program.layout.total,
                    pool,
                    on_zero == ZeroPolicy::Skip,
                )
                .map_err(zero),
            Kernel::Independent(k) => k
                .e_step(&params.theta, pool, on_zero == ZeroPolicy::Skip)
                .map_err(zero),
            Kernel::Hypergraph(k) => k.e_step(&params.theta, pool, on_zero),
            Kernel::Stream(k) => k.e_step(program, params, pool, on_zero),
            Kernel::Frontier(k) => k.e_step(program, data, &params.theta, pool, on_zero),
            Kernel::Generic => generic::e_step(program, data, params, pool, on_zero),
        }
    }
}

/// A process's units counted for the relay of a distributed E-step (`Kernel::count_for_relay`).
pub struct Counted(CountedAs);

enum CountedAs {
    Chain(Box<chain::Relayed>),
    /// Taken when folded.
    Units(Option<Vec<UnitCounts>>),
}

fn units_refused() -> Error {
    refuse_stream(
        "counting units apart (`emc estep`, several processes)",
        "count them from the data in memory",
    )
}

/// A zero-probability instance of a compiled kernel as the error every path reports.
fn zero(chain::Zero(line): chain::Zero) -> Error {
    Error::Infer(InferError::ZeroProbability { line })
}

/// The E-step in units of work, for counting them apart (in other processes) and merging
/// them later: `finish_units` over `count_units` of every unit, in unit order, is `e_step`
/// bit for bit.
impl Kernel {
    /// The kernel's name: what its units' coordinates mean.
    /// What the E-step runs, for `emc check`.
    pub fn summary(&self) -> &'static str {
        match self {
            Kernel::Chain(_) => "compiled: forward-backward (a mixture is a chain of one) over batches of lines as matrix products",
            Kernel::Independent(_) => "compiled: each variable's posterior from its gathered entries",
            Kernel::Hypergraph(_) => "compiled: inside-outside over each line's hypergraph, lines of one shape in SIMD lanes",
            Kernel::Stream(_) => "compiled: forward-backward over blocks of lines read on every iteration",
            Kernel::Frontier(_) => "compiled: sweeps over a frontier of hidden variables, batches of lines as matrix products",
            Kernel::Generic => "interpreted: every line unrolled and inferred on every iteration (no compiled kernel takes this plan, or some line does not fit one)",
        }
    }

    /// Sets the precision of the chain kernel's messages (`--precision`); the other kernels
    /// run in double precision.
    pub fn set_precision(&mut self, precision: Precision) {
        match self {
            Kernel::Chain(c) => c.set_precision(precision),
            Kernel::Stream(s) => s.set_precision(precision),
            _ => {}
        }
    }

    /// Compiles the chain kernel's per-token passes for no wider an instruction set than
    /// `isa` (`None`: the x86-64 baseline). Every choice gives the same bits; this is for
    /// the tests that hold them to it.
    pub fn limit_isa(&mut self, isa: Option<Isa>) {
        if let Kernel::Chain(c) = self {
            c.limit_isa(isa);
        }
    }

    /// Runs the chain kernel's per-token passes for any row width rather than compiled for
    /// the model's (`false`). Both give the same bits; this is for the tests that hold them
    /// to it.
    pub fn set_fixed_widths(&mut self, on: bool) {
        if let Kernel::Chain(c) = self {
            c.set_fixed_widths(on);
        }
    }

    /// Whether the E-step's messages are held in single precision.
    pub fn single(&self) -> bool {
        match self {
            Kernel::Chain(c) => c.single(),
            Kernel::Stream(s) => s.single(),
            _ => false,
        }
    }

    /// The kernel's name in a shard's header: its kind, and `/f32` when its messages are
    /// single precision, since shards counted in either are not the same E-step's bits.
    pub fn shard_kind(&self) -> String {
        match self.single() {
            true => format!("{}{SINGLE_SUFFIX}", self.kind()),
            false => self.kind().to_string(),
        }
    }

    pub fn kind(&self) -> &'static str {
        match self {
            Kernel::Chain(_) => "chain",
            Kernel::Independent(_) => "independent",
            Kernel::Hypergraph(_) => "hypergraph",
            Kernel::Stream(_) => "stream",
            Kernel::Frontier(_) => "frontier",
            Kernel::Generic => "generic",
        }
    }

    /// Units of work, fixed by the data (never by the thread count).
    pub fn units(&self, data: &Dataset) -> usize {
        match self {
            Kernel::Chain(c) => c.units(),
            Kernel::Independent(k) => k.units(),
            Kernel::Hypergraph(k) => k.units(),
            // Its units are read anew on every pass: none are held to be split up.
            Kernel::Stream(_) => 0,
            Kernel::Frontier(k) => k.units(),
            Kernel::Generic => generic::units(data),
        }
    }

    /// A bound on the coordinates of a unit's `values`.
    pub fn coordinates(&self, program: &Program) -> usize {
        let params = program.layout.total;
        match self {
            Kernel::Chain(c) => c.coordinates(params),
            Kernel::Independent(k) => k.coordinates(),
            Kernel::Hypergraph(k) => k.coordinates(params),
            Kernel::Stream(_) => 0,
            Kernel::Frontier(_) | Kernel::Generic => params,
        }
    }

    /// A bound on the numbers of a unit's `lines` that index the data (the hypergraph
    /// kernel's; the others' are line numbers, only reported).
    pub fn line_bound(&self) -> Option<usize> {
        match self {
            Kernel::Hypergraph(k) => Some(k.instances()),
            _ => None,
        }
    }

    /// The counts of each unit of `units` at `params`, unmerged.
    pub fn count_units(
        &self,
        program: &Program,
        data: &Dataset,
        params: &Params,
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
        units: Range<usize>,
    ) -> Result<Vec<UnitCounts>, Error> {
        let theta = &params.theta;
        let skip = on_zero == ZeroPolicy::Skip;
        match self {
            Kernel::Chain(c) => c
                .count_units(theta, program.layout.total, pool, skip, units)
                .map_err(zero),
            Kernel::Independent(k) => k.count_units(theta, pool, skip, units).map_err(zero),
            Kernel::Hypergraph(k) => k.count_units(theta, pool, on_zero, units),
            Kernel::Stream(_) => Err(units_refused()),
            Kernel::Frontier(k) => k.count_units(program, data, theta, pool, on_zero, units),
            Kernel::Generic => generic::count_units(program, data, params, pool, on_zero, units),
        }
    }

    /// Whether the kernel's merge is a running sum in fixed coordinates, which processes
    /// can relay (`count_for_relay`, `fold_counted`): a process then hands on one sum the
    /// size of the kernel's tables instead of every unit's counts. Not the independent
    /// kernel (it writes each posterior once) nor the hypergraph kernel (its density
    /// masses become statistics through the parameters).
    pub fn folds(&self) -> bool {
        matches!(
            self,
            Kernel::Chain(_) | Kernel::Frontier(_) | Kernel::Generic
        )
    }

    /// Counts `units` for a relay of the running sum (see `folds`); `first` for the process
    /// whose units come first, which has nothing to add them onto and folds them at once.
    #[allow(clippy::too_many_arguments)]
    pub fn count_for_relay(
        &self,
        program: &Program,
        data: &Dataset,
        params: &Params,
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
        units: Range<usize>,
        first: bool,
    ) -> Result<Counted, Error> {
        let skip = on_zero == ZeroPolicy::Skip;
        Ok(Counted(match self {
            Kernel::Chain(c) => CountedAs::Chain(Box::new(
                c.count_relayed(
                    &params.theta,
                    program.layout.total,
                    pool,
                    skip,
                    units,
                    first,
                )
                .map_err(zero)?,
            )),
            _ => CountedAs::Units(Some(
                self.count_units(program, data, params, pool, on_zero, units)?,
            )),
        }))
    }

    /// The running sum through `counted`'s units: `prefix` (the sum through every unit
    /// before them; none for the first process) with them added as `e_step` adds them, as
    /// one unit. `finish_counted` of the last process's sum is `e_step`'s counts, bit for
    /// bit. `None` for a kernel that does not fold, or units folded already.
    pub fn fold_counted(
        &self,
        program: &Program,
        prefix: Option<&UnitCounts>,
        counted: &mut Counted,
    ) -> Option<UnitCounts> {
        let params = program.layout.total;
        match (self, &mut counted.0) {
            (Kernel::Chain(c), CountedAs::Chain(r)) => Some(c.fold_relayed(params, prefix, r)),
            (Kernel::Frontier(_) | Kernel::Generic, CountedAs::Units(u)) => {
                let u = u.take()?;
                Some(generic::fold(params, prefix, &u))
            }
            _ => None,
        }
    }

    /// `finish_units` of the whole E-step's sum, relayed to this process that counted
    /// `counted` (whose values it reuses).
    pub fn finish_counted(
        &self,
        program: &Program,
        params: &Params,
        pool: &rayon::ThreadPool,
        counted: &Counted,
        sum: UnitCounts,
    ) -> Result<CountStore, Error> {
        match (self, &counted.0) {
            (Kernel::Chain(c), CountedAs::Chain(r)) => {
                Ok(c.finish_relayed(program.layout.total, r, &sum))
            }
            _ => self.finish_units(program, params, pool, &[sum]),
        }
    }

    /// The counts at `params` from every unit's (in unit order), merged as `e_step` merges
    /// them. Lines the units left out are reported in `skipped`.
    pub fn finish_units(
        &self,
        program: &Program,
        params: &Params,
        pool: &rayon::ThreadPool,
        units: &[UnitCounts],
    ) -> Result<CountStore, Error> {
        let (theta, total) = (&params.theta, program.layout.total);
        Ok(match self {
            Kernel::Chain(c) => c.finish(theta, total, units),
            Kernel::Independent(k) => k.finish(theta, pool, units),
            Kernel::Hypergraph(k) => k.finish(theta, units, ZeroPolicy::Skip)?,
            Kernel::Stream(_) => return Err(units_refused()),
            Kernel::Frontier(_) => frontier::FrontierKernel::finish(total, units),
            Kernel::Generic => generic::finish(total, units),
        })
    }
}

/// The frontier kernel of a junction-tree plan, or the generic path if some instance does
/// not fit it. Shards are scheduled in parallel and absorbed in data order.
fn build_frontier(
    program: &Program,
    data: &Dataset,
    pool: &rayon::ThreadPool,
    block_lines: usize,
) -> Result<Kernel, Error> {
    let mut whole = Some(frontier::Builder::default());
    let shards = shards(data.instances.len(), block_lines);
    map_merge_in_order(
        pool,
        shards.len(),
        || (),
        |i, _, _| {
            let mut part = Some(frontier::Part::default());
            let (mut tables, mut seen) = (TableCache::default(), frontier::Seen::default());
            for index in shards[i].clone() {
                let g = program.unroll(&data.instances[index], &mut tables)?;
                if part
                    .as_mut()
                    .is_some_and(|p| p.add(&mut seen, index, &g).is_err())
                {
                    part = None;
                }
            }
            Ok::<_, Error>(part)
        },
        |part| {
            whole = match (whole.take(), part) {
                (Some(mut w), Some(p)) => {
                    w.absorb(p);
                    Some(w)
                }
                _ => None,
            };
            None
        },
    )?;
    Ok(match whole {
        Some(w) => Kernel::Frontier(Box::new(w.finish())),
        None => Kernel::Generic,
    })
}

/// Compiles one shard into each kernel that its instances fit. Every instance is still
/// unrolled, so that the generic path's errors are reported up front either way.
fn build_shard(program: &Program, shard: &[Instance], independent: bool) -> Result<Shard, Error> {
    // The shard's own block numbers are not used: absorbing numbers its instances again.
    let mut chain = Some(chain::Builder::new(usize::MAX));
    let mut indep = independent.then(independent::Builder::new);
    let mut tables = TableCache::default();
    let mut seen = chain::Seen::default();
    for inst in shard {
        let g = program.unroll(inst, &mut tables)?;
        if chain
            .as_mut()
            .is_some_and(|b| b.add(&g, &mut seen).is_err())
        {
            chain = None;
        }
        if indep.as_mut().is_some_and(|b| b.add(&g).is_err()) {
            indep = None;
        }
    }
    Ok(Shard {
        chain,
        independent: indep,
    })
}
