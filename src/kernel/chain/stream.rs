//! The chain kernel over data read a block at a time (`--stream`): the builder keeps the
//! tables and products interned over the whole file, and holds one block's instances at a
//! time. An E-step turns the parameters into values once, counts each block's units in
//! order into one total, and scatters it as the in-memory kernel does: the same numbers
//! added in the same order, so the same bits.

use super::*;

/// An E-step under way over the blocks.
pub struct StreamCount {
    values: Values,
    total: Acc,
    params: usize,
}

impl Builder {
    /// Products interned so far (unary, pair): fixed once the whole file has been read.
    pub fn products(&self) -> (usize, usize) {
        let k = self.kernel();
        (
            k.unary_products.members.len(),
            k.pair_products.members.len(),
        )
    }

    pub fn start_count(&self, theta: &[f64], params: usize) -> StreamCount {
        let kern = self.kernel();
        StreamCount {
            values: kern.values(theta, None),
            total: kern.empty_acc(params),
            params,
        }
    }

    /// Counts the instances added since the last block into `count`, in unit order, and
    /// drops them.
    pub fn count_block(
        &mut self,
        count: &mut StreamCount,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        skip: bool,
    ) -> Result<(), Zero> {
        let kern = self.cut();
        // Gaussian rows' factors are computed for the rows the block's draws score: the
        // same factors of the same rows the whole data's kernel computes.
        count.values.inverses = kern.inverses(theta);
        let (values, total) = (&count.values, &mut count.total);
        let counted = kern.count(
            values,
            theta,
            count.params,
            pool,
            skip,
            0..kern.units(),
            |acc| total.merge_and_clear(acc),
        );
        self.clear_tokens();
        counted
    }

    pub fn finish_count(&self, count: StreamCount) -> CountStore {
        self.kernel()
            .scatter_counts(count.total, &count.values, count.params, None)
    }
}
