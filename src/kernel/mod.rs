//! E-step kernels: what the compiler emits for a plan. A chain plan gets a compiled, batched
//! forward-backward over interned tables (`chain`); every other plan runs the general engines
//! of `infer` on each instance unrolled afresh (`generic`). Both count in fixed units of work
//! summed in order, so the counts are the same bits for any thread count.

mod chain;
mod densities;
mod gemm;
mod generic;

use crate::compile::{Error, Program};
use rayon::prelude::*;

use crate::data::{Dataset, Instance};
use crate::graph::TableCache;
use crate::infer::{CountStore, Engine, InferError};
use crate::params::Params;

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

pub enum Kernel {
    Chain(Box<chain::ChainKernel>),
    Generic,
}

impl Kernel {
    /// Compiles the data for the program's plan. Unrolls every instance once, so a story that
    /// fails on some data line fails here, before any iteration.
    pub fn build(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
    ) -> Result<Kernel, Error> {
        // A mixture is a chain of length one, and independent variables of one size are a
        // chain without edges: both run on the compiled kernel when every instance fits.
        if !matches!(program.plan.engine, Engine::Chain | Engine::Enumerate) {
            return Ok(Kernel::Generic);
        }
        // Shards are compiled in parallel and absorbed in data order, so the kernel (and the
        // first error reported) is the same for any thread count.
        let shards: Vec<Result<Option<chain::Builder>, Error>> = pool.install(|| {
            data.instances
                .par_chunks(BUILD_SHARD)
                .map(|shard| build_shard(program, shard))
                .collect()
        });
        let mut whole = chain::Builder::new();
        let mut fits = true;
        for shard in shards {
            match shard? {
                Some(b) if fits => fits = whole.absorb(b).is_ok(),
                _ => fits = false,
            }
        }
        Ok(if fits {
            Kernel::Chain(Box::new(whole.finish()))
        } else {
            Kernel::Generic
        })
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
                .map_err(|chain::Zero(line)| Error::Infer(InferError::ZeroProbability { line })),
            Kernel::Generic => generic::e_step(program, data, params, pool, on_zero),
        }
    }
}

/// Compiles one shard; `None` when some instance does not fit the chain kernel. Every instance
/// is still unrolled, so that the generic path's errors are reported up front either way.
fn build_shard(program: &Program, shard: &[Instance]) -> Result<Option<chain::Builder>, Error> {
    let mut builder = chain::Builder::new();
    let mut fits = true;
    let mut tables = TableCache::default();
    let mut seen = chain::Seen::default();
    for inst in shard {
        let g = program.unroll(inst, &mut tables)?;
        fits = fits && builder.add(&g, &mut seen).is_ok();
    }
    Ok(fits.then_some(builder))
}
