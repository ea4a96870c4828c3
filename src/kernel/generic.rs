//! The general path: unroll each instance and run the plan's engine on it.

use std::ops::Range;

use super::ordered::map_merge_in_order;
use super::units::{push_nonzero, UnitCounts};
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
    let mut total = CountStore::new(program.layout.total);
    let all = 0..units(data);
    count(program, data, params, pool, on_zero, all, |store| {
        total.merge(store)
    })?;
    Ok(total)
}

/// Units of work (blocks of instances), fixed by the data.
pub fn units(data: &Dataset) -> usize {
    data.instances.len().div_ceil(BLOCK)
}

/// Each block's counts of `units`, unmerged, in the parameters' coordinates.
pub fn count_units(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
    units: Range<usize>,
) -> Result<Vec<UnitCounts>, Error> {
    let mut out = Vec::with_capacity(units.len());
    count(program, data, params, pool, on_zero, units, |store| {
        out.push(unit_of(store))
    })?;
    Ok(out)
}

/// A unit's counts in the parameters' coordinates, zeros left out (`finish` merges them).
pub fn unit_of(store: &CountStore) -> UnitCounts {
    let mut unit = UnitCounts {
        log_likelihood: store.log_likelihood,
        instances: store.instances as u64,
        lines: store.skipped.iter().map(|l| *l as u64).collect(),
        ..UnitCounts::default()
    };
    push_nonzero(&mut unit.values, 0, &store.expected);
    unit
}

/// Merges every block's counts (all of them, in block order) as `e_step` merges its own.
/// `prefix` and `units` folded into one unit whose `finish` with the units after it is
/// that of all of them (the merge's running sum, which starts at zeros).
pub fn fold(params: usize, prefix: Option<&UnitCounts>, units: &[UnitCounts]) -> UnitCounts {
    let total = finish(params, prefix.into_iter().chain(units));
    let mut unit = UnitCounts {
        log_likelihood: total.log_likelihood,
        instances: total.instances as u64,
        lines: total.skipped.iter().map(|l| *l as u64).collect(),
        ..UnitCounts::default()
    };
    super::units::push_leading(&mut unit, &[&total.expected]);
    unit
}

pub fn finish<'a>(params: usize, units: impl IntoIterator<Item = &'a UnitCounts>) -> CountStore {
    let mut total = CountStore::new(params);
    for unit in units {
        for (k, e) in unit.entries() {
            if let Some(a) = total.expected.get_mut(k as usize) {
                *a += e;
            }
        }
        total.log_likelihood += unit.log_likelihood;
        total.instances += unit.instances as usize;
        total.skipped.extend(unit.lines.iter().map(|l| *l as usize));
    }
    total
}

/// Counts the blocks of `units` and hands each block's counts to `merge`, in block order.
fn count(
    program: &Program,
    data: &Dataset,
    params: &Params,
    pool: &rayon::ThreadPool,
    on_zero: ZeroPolicy,
    units: Range<usize>,
    mut merge: impl FnMut(&CountStore) + Send,
) -> Result<(), Error> {
    let blocks: Vec<&[Instance]> = data.instances.chunks(BLOCK).collect();
    map_merge_in_order(
        pool,
        units.len(),
        || (),
        |i, _, _| count_block(program, blocks[units.start + i], params, on_zero),
        |store| {
            merge(&store);
            None
        },
    )
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
