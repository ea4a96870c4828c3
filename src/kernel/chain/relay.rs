//! A process's share of a distributed E-step, counted for the relay of the running sum
//! (`Kernel::count_for_relay`): the first process folds its units as one process does,
//! while counting them; a later one can add its units only onto the sum of every unit
//! before them, which arrives once the processes before it are done, so it keeps each
//! unit's counts until then. It keeps them as `UnitCounts` (the non-zero numbers), counting
//! every unit in one reused table as the first process does: keeping the tables themselves,
//! megabytes each, made its counting a fifth slower than the first process's on W1.
//! The parameters' values are kept from counting to finishing: working them out again cost
//! every process 5 ms of W1's 200-ms iteration on two processes, after the relay.

use std::ops::Range;

use super::{Acc, ChainKernel, CountStore, UnitCounts, Values, Zero};

/// Units counted for the relay.
pub struct Relayed {
    /// The values they were counted at, which `finish_relayed` scatters the sum with.
    values: Values,
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
        let values = self.values(theta, Some(pool));
        if !first {
            let units = self.count_units_at(&values, theta, params, pool, skip, units)?;
            return Ok(Relayed {
                values,
                folded: None,
                units,
            });
        }
        let mut total = self.empty_acc(params);
        self.count(&values, theta, params, pool, skip, units, |acc| {
            total.merge_and_clear(acc)
        })?;
        Ok(Relayed {
            values,
            folded: Some(total),
            units: Vec::new(),
        })
    }

    /// The running sum through these units: `prefix` (the sum through the units before
    /// them) with their counts added in unit order, as `e_step` merges. Adding the prefix
    /// onto zeros is exact, so the sum is one process's, bit for bit. The units are used
    /// up; the values stay for `finish_relayed`.
    pub fn fold_relayed(
        &self,
        params: usize,
        prefix: Option<&UnitCounts>,
        relayed: &mut Relayed,
    ) -> UnitCounts {
        let mut total = match relayed.folded.take() {
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
            .chain(&std::mem::take(&mut relayed.units))
            .for_each(|u| total.add_unit(u));
        total.to_unit()
    }

    /// `finish` of the whole E-step's sum, at the values the units were counted at.
    pub fn finish_relayed(&self, params: usize, relayed: &Relayed, sum: &UnitCounts) -> CountStore {
        self.finish_at(&relayed.values, params, std::slice::from_ref(sum))
    }
}
