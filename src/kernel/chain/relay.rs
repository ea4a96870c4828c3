//! A process's share of a distributed E-step, counted for the relay of the running sum
//! (`Kernel::count_for_relay`): the first process folds its units as one process does,
//! while counting them; a later one keeps its units' tables, since it can add them only
//! onto the sum of every unit before them, which arrives once the processes before it are
//! done. Keeping the tables themselves, not `UnitCounts`, spares a conversion per unit and
//! lets the fold add whole tables.

use std::ops::Range;

use super::{Acc, ChainKernel, UnitCounts, Zero};

/// Units counted for the relay.
pub struct Relayed {
    /// Folded already: the first process's units (there is nothing to add them onto).
    folded: Option<Acc>,
    /// Else each unit's tables, in unit order.
    units: Vec<Acc>,
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
        let values = self.values(theta);
        if first {
            let mut total = self.empty_acc(params);
            self.count(&values, theta, params, pool, skip, units, |acc| {
                total.merge(acc)
            })?;
            return Ok(Relayed {
                folded: Some(total),
                units: Vec::new(),
            });
        }
        let mut kept = Vec::with_capacity(units.len());
        self.count_owned(&values, theta, params, pool, skip, units, |acc| {
            kept.push(acc);
            None
        })?;
        Ok(Relayed {
            folded: None,
            units: kept,
        })
    }

    /// The running sum through these units: `prefix` (the sum through the units before
    /// them) with their tables added in unit order, as `e_step` merges. Adding the prefix
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
            None => {
                let mut total = self.empty_acc(params);
                prefix.into_iter().for_each(|p| total.add_unit(p));
                total
            }
        };
        relayed.units.iter().for_each(|u| total.merge(u));
        let unit = total.to_unit();
        let mut kept = self.kept.lock().unwrap_or_else(|e| e.into_inner());
        kept.extend(relayed.units);
        unit
    }
}
