//! The kernel's counts onto the parameters they belong to, once per E-step: each unary
//! product's state masses to its tables' entries, each pair product's edge masses (the sums
//! the batches kept, times the product) to its pair tables'. A word's emission parameters
//! lie a vocabulary apart and products come in the data's order of words, so the writes
//! are fetched ahead; and on two threads this is the E-step's serial tail, so each thread
//! takes a range of the parameters (every parameter's masses still added in product order:
//! the same bits for any split).

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

impl ChainKernel {
    /// The unary products' masses that fall on parameters `first..first + out.len()`, added
    /// into `out` product by product.
    fn scatter_unary(&self, mass: &[f64], first: usize, out: &mut [f64]) {
        let k = self.k;
        let unary = &self.unary_products.members;
        for (p, members) in unary.iter().enumerate() {
            if let Some(ahead) = unary.get(p + PARAMS_AHEAD) {
                // Only what this range writes: the other threads fetch the rest.
                for t in ahead {
                    for e in self.rows.table(*t as usize) {
                        if let Entry::Param(q) = e {
                            if let Some(o) =
                                (*q as usize).checked_sub(first).and_then(|i| out.get(i))
                            {
                                prefetch(o);
                            }
                        }
                    }
                }
            }
            let mass = &mass[p * k..(p + 1) * k];
            for t in members {
                for (e, m) in self.rows.table(*t as usize).iter().zip(mass) {
                    if let Entry::Param(q) = e {
                        if let Some(o) = (*q as usize)
                            .checked_sub(first)
                            .and_then(|i| out.get_mut(i))
                        {
                            *o += m;
                        }
                    }
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
