//! The kernel's counts onto the parameters they belong to, once per E-step: each unary
//! product's state masses to its tables' entries, each pair product's edge masses (the sums
//! the batches kept, times the product) to its pair tables'. A word's emission parameters
//! lie a vocabulary apart and products come in the data's order of words, so the writes
//! are fetched ahead; and on two threads this is the E-step's serial tail, so each thread
//! takes a range of the parameters (every parameter's masses still added in product order:
//! the same bits for any split).

use std::ops::Range;

use super::tables::Run;
use super::{Acc, ChainKernel, Values};
use crate::graph::Entry;
use crate::infer::CountStore;
use crate::kernel::prefetch::{prefetch, PARAMS_AHEAD};

fn add_mass(expected: &mut [f64], entries: &[Entry], mass: &[f64]) {
    for (e, m) in entries.iter().zip(mass) {
        if let Entry::Param(p) = e {
            expected[*p as usize] += m;
        }
    }
}

/// The entries of `table` that name parameters in `range`: (entry, index in the range).
fn in_range(table: &[Entry], range: Range<usize>) -> impl Iterator<Item = (usize, usize)> + '_ {
    table.iter().enumerate().filter_map(move |(j, e)| match e {
        Entry::Param(q) if range.contains(&(*q as usize)) => Some((j, *q as usize - range.start)),
        _ => None,
    })
}

impl ChainKernel {
    /// The unary products' masses that fall on parameters `first..first + out.len()`, added
    /// into `out` product by product.
    fn scatter_unary(&self, mass: &[f64], first: usize, out: &mut [f64]) {
        let (k, range) = (self.k, first..first + out.len());
        let unary = &self.unary_products.members;
        // A table that is a run of the parameters (nearly all) is added without reading its
        // entries, which are larger than the masses (`tables`).
        let in_run = |r: Run| {
            let range = range.clone();
            (0..k)
                .map(move |j| (j, r.at(j)))
                .filter(move |(_, i)| range.contains(i))
        };
        for (p, members) in unary.iter().enumerate() {
            // Only what this range writes: the other threads fetch the rest.
            for t in unary.get(p + PARAMS_AHEAD).into_iter().flatten() {
                match self.rows.run(*t as usize) {
                    Some(r) => in_run(r).for_each(|(_, i)| prefetch(&out[i - first])),
                    None => in_range(self.rows.table(*t as usize), range.clone())
                        .for_each(|(_, i)| prefetch(&out[i])),
                }
            }
            let mass = &mass[p * k..(p + 1) * k];
            for t in members {
                match self.rows.run(*t as usize) {
                    Some(r) => in_run(r).for_each(|(j, i)| out[i - first] += mass[j]),
                    None => in_range(self.rows.table(*t as usize), range.clone())
                        .for_each(|(j, i)| out[i] += mass[j]),
                }
            }
        }
    }

    /// Scatters the kernel's counts onto the parameters they belong to.
    pub(super) fn scatter_counts(
        &self,
        acc: Acc,
        values: &Values,
        params: usize,
        pool: Option<&rayon::ThreadPool>,
    ) -> CountStore {
        let k = self.k;
        let mut store = CountStore::new(params);
        // Each thread takes a range of the parameters and adds every product's masses that
        // fall in it, in product order: the same sums for any split.
        let threads = pool.map_or(1, |p| p.current_num_threads()).max(1);
        let part = params.div_ceil(threads).max(1);
        let unary = |(i, out): (usize, &mut [f64])| self.scatter_unary(&acc.unary, i * part, out);
        match pool {
            Some(pool) if threads > 1 => pool.install(|| {
                use rayon::prelude::*;
                store
                    .expected
                    .par_chunks_mut(part)
                    .enumerate()
                    .for_each(unary)
            }),
            _ => unary((0, &mut store.expected)),
        }
        for (p, members) in self.pair_products.members.iter().enumerate() {
            let range = p * k * k..(p + 1) * k * k;
            let mass: Vec<f64> = acc.pair[range.clone()]
                .iter()
                .zip(&values.pair[range])
                .map(|(m, v)| m * v)
                .collect();
            for t in members {
                add_mass(
                    &mut store.expected,
                    self.pair_tables.table(*t as usize),
                    &mass,
                );
            }
        }
        for (p, w) in acc.constants {
            store.expected[p as usize] += w;
        }
        for (e, s) in store.expected.iter_mut().zip(&acc.stats) {
            *e += s;
        }
        store.log_likelihood = acc.log_likelihood;
        store.instances = acc.instances;
        store.skipped = acc.skipped;
        store.skipped.sort_unstable();
        store
    }
}
