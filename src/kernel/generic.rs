//! The general path: unroll each instance and run the plan's engine on it.

use super::ordered::map_merge_in_order;
use super::ZeroPolicy;
use crate::data::{Dataset, Instance};
use crate::error::Error;
use crate::graph::TableCache;
use crate::infer::{accumulate, posterior, CountStore, InferError};
use crate::params::Params;
use crate::program::Program;

/// Instances per block: a unit of work of the scheduler, which sums blocks in block order.
const BLOCK: usize = 256;

pub fn e_step(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
) -> Result<CountStore, Error> {
    let blocks: Vec<&[Instance]> = data.instances.chunks(BLOCK).collect();
    let mut total = CountStore::new(program.layout.total);
    map_merge_in_order(
        pool,
        blocks.len(),
        || (),
        |b, _, _| count_block(program, blocks[b], params, on_zero),
        |store| {
            total.merge(&store);
            None
        },
    )?;
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
