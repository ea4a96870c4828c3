//! E-step kernels: what the compiler emits for a plan. A chain plan gets a compiled, batched
//! forward-backward over interned tables (`chain`); an enumeration plan gets that too when
//! its variables all have one size, else products per variable over gathered entries
//! (`independent`: IBM Model 1's alignments have as many values as their sentence pair has
//! words); every other plan runs the general engines of `infer` on each instance unrolled
//! afresh (`generic`). All count in fixed units of work summed in order, so the counts are
//! the same bits for any thread count.

mod chain;
mod densities;
mod gemm;
mod generic;
mod independent;

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
    Independent(Box<independent::IndependentKernel>),
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
        // A mixture is a chain of length one, and independent variables of one size are a
        // chain without edges: both run on the compiled kernel when every instance fits.
        let independent = match program.plan.engine {
            Engine::Chain => false,
            Engine::Enumerate => true,
            _ => return Ok(Kernel::Generic),
        };
        // Shards are compiled in parallel and absorbed in data order, so the kernel (and the
        // first error reported) is the same for any thread count.
        let shards: Vec<Result<Shard, Error>> = pool.install(|| {
            data.instances
                .par_chunks(BUILD_SHARD)
                .map(|shard| build_shard(program, shard, independent))
                .collect()
        });
        let mut chain = Some(chain::Builder::new());
        let mut indep = independent.then(|| independent::Builder::new(program.layout.total));
        for shard in shards {
            let shard = shard?;
            chain = match (chain, shard.chain) {
                (Some(mut whole), Some(part)) => whole.absorb(part).is_ok().then_some(whole),
                _ => None,
            };
            indep = match (indep, shard.independent) {
                (Some(mut whole), Some(part)) => {
                    whole.absorb(part);
                    Some(whole)
                }
                _ => None,
            };
        }
        Ok(match (chain, indep) {
            (Some(c), _) => Kernel::Chain(Box::new(c.finish())),
            (None, Some(i)) => Kernel::Independent(Box::new(i.finish())),
            (None, None) => Kernel::Generic,
        })
    }

    /// The most probable value of every hidden variable per instance, in instance-graph
    /// order, when the kernel can decode without unrolling the instances again.
    pub fn map(
        &self,
        params: &Params,
        pool: &rayon::ThreadPool,
    ) -> Option<Vec<Vec<crate::decode::Decoded>>> {
        match self {
            Kernel::Independent(k) => Some(k.map(&params.theta, pool)),
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
                .map_err(|chain::Zero(line)| Error::Infer(InferError::ZeroProbability { line })),
            Kernel::Independent(k) => k
                .e_step(&params.theta, pool, on_zero == ZeroPolicy::Skip)
                .map_err(|chain::Zero(line)| Error::Infer(InferError::ZeroProbability { line })),
            Kernel::Generic => generic::e_step(program, data, params, pool, on_zero),
        }
    }
}

/// Compiles one shard into each kernel that its instances fit. Every instance is still
/// unrolled, so that the generic path's errors are reported up front either way.
fn build_shard(program: &Program, shard: &[Instance], independent: bool) -> Result<Shard, Error> {
    let mut chain = Some(chain::Builder::new());
    let mut indep = independent.then(|| independent::Builder::new(program.layout.total));
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
