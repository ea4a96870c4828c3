//! A process's share of a distributed E-step, counted for the relay of the running sum
//! (`Kernel::count_for_relay`): the first process folds its units as one process does,
//! while counting them; a later one can add its units only onto the sum of every unit
//! before them, which arrives once the processes before it are done, so it keeps each
//! unit's counts until then. It keeps them as `UnitCounts` (the non-zero numbers), counting
//! every unit in one reused table as the first process does: keeping the tables themselves,
//! megabytes each, made its counting a fifth slower than the first process's on W1.

use std::ops::Range;

use super::{Acc, ChainKernel, UnitCounts, Zero};

/// Units counted for the relay.
pub struct Relayed {
    /// Folded already: the first process's units (there is nothing to add them onto).
    folded: Option<Acc>,
    /// Else each unit's counts, in unit order.
    units: Vec<UnitCounts>,
}

impl ChainKernel {
    pub fn count_relayed(
        &self,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
        first: bool,
    ) -> Result<Relayed, Zero> {
        if !first {
            let units = self.count_units(theta, params, pool, skip, units)?;
            return Ok(Relayed {
                folded: None,
                units,
            });
        }
        let values = self.values(theta);
        let mut total = self.empty_acc(params);
        self.count(&values, theta, params, pool, skip, units, |acc| {
            total.merge(acc)
        })?;
        Ok(Relayed {
            folded: Some(total),
            units: Vec::new(),
        })
    }

    /// The running sum through these units: `prefix` (the sum through the units before
    /// them) with their counts added in unit order, as `e_step` merges. Adding the prefix
    /// onto zeros is exact, so the sum is one process's, bit for bit.
    pub fn fold_relayed(
        &self,
        params: usize,
        prefix: Option<&UnitCounts>,
        relayed: Relayed,
    ) -> UnitCounts {
        let mut total = match relayed.folded {
            Some(folded) => {
                assert!(
                    prefix.is_none(),
                    "the first process has no units before its own"
                );
                folded
            }
            None => self.empty_acc(params),
        };
        prefix
            .into_iter()
            .chain(&relayed.units)
            .for_each(|u| total.add_unit(u));
        total.to_unit()
    }
}
