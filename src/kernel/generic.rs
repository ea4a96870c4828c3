//! The general path: unroll each instance and run the plan's engine on it.

use rayon::prelude::*;

use super::ZeroPolicy;
use crate::data::{Dataset, Instance};
use crate::error::Error;
use crate::graph::TableCache;
use crate::infer::{accumulate, posterior, CountStore, InferError};
use crate::params::Params;
use crate::program::Program;

/// Instances per block. Blocks are counted independently and summed in block order, so the
/// result does not depend on how many threads ran them.
const BLOCK: usize = 256;

pub fn e_step(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
) -> Result<CountStore, Error> {
    let blocks: Vec<_> = data.instances.chunks(BLOCK).collect();
    let mut total = CountStore::new(program.layout.total);
    // Count a wave of blocks at a time (one per thread) to bound memory, then sum in order.
    let wave = pool.current_num_threads().max(1);
    for group in blocks.chunks(wave) {
        let stores: Vec<Result<CountStore, Error>> = pool.install(|| {
            group
                .par_iter()
                .map(|block| count_block(program, block, params, on_zero))
                .collect()
        });
        for s in stores {
            total.merge(&s?);
        }
    }
    Ok(total)
}

fn count_block(
    program: &Program,
    block: &[Instance],
    params: &Params,
    on_zero: ZeroPolicy,
) -> Result<CountStore, Error> {
    let mut store = CountStore::new(program.layout.total);
    let mut tables = TableCache::default();
    for inst in block {
        let g = program.unroll(inst, &mut tables)?;
        match posterior(program.plan.engine, &g, &params.theta) {
            Ok(p) => accumulate(&g, &p, &mut store, &params.theta),
            Err(InferError::ZeroProbability { line }) if on_zero == ZeroPolicy::Skip => {
                store.skipped.push(line)
            }
            Err(e) => return Err(e.into()),
        }
    }
    Ok(store)
}
