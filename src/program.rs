//! A checked model with its data-dependent parts fixed: the data's vocabularies, the
//! parameter layout (with sparse supports found on the data) and the inference plan.
//! `compile` builds one; every later stage reads it.

use crate::data::Domains;
use crate::graph::{unroll_cached, InstanceGraph, TableCache, UnrollError};
use crate::model::Model;
use crate::params::Layout;
use crate::plan::Plan;

/// A checked model with its data-dependent parts fixed.
#[derive(Clone, Debug)]
pub struct Program {
    pub model: Model,
    pub domains: Domains,
    pub layout: Layout,
    pub plan: Plan,
}

impl Program {
    /// Unrolls one instance of this program's data, reusing tables built for earlier ones.
    pub fn unroll(
        &self,
        instance: &crate::data::Instance,
        tables: &mut TableCache,
    ) -> Result<InstanceGraph, UnrollError> {
        unroll_cached(&self.model, &self.domains, &self.layout, instance, tables)
    }

    /// The probability `family(outcome | condition)` in the parameter vector `theta` (as
    /// trained: `Outcome::params.theta`), by the symbols of the model and its data: one per
    /// condition of the family, in the family's order (none for an unconditional one).
    /// `None` when the family is not a table of probabilities (a Gaussian) or a name or
    /// symbol is not the model's. An entry that a sparse family does not store (no data line
    /// can reach it) is 0, which is what training leaves it.
    pub fn probability(
        &self,
        theta: &[f64],
        family: &str,
        condition: &[&str],
        outcome: &str,
    ) -> Option<f64> {
        let f = self.model.family_named(family)?;
        let fam = &self.model.families[f];
        let slot = &self.layout.families[f];
        if fam.is_gaussian() || condition.len() != fam.conditions.len() {
            return None;
        }
        let mut row = 0;
        for (k, (domain, symbol)) in fam.conditions.iter().zip(condition).enumerate() {
            row = row * slot.cond_sizes[k] + self.domains.lookup(*domain, symbol)? as usize;
        }
        let out = self.domains.lookup(fam.outcome, outcome)? as usize;
        if out >= slot.n_out {
            return None;
        }
        Some(slot.index(row * slot.n_out + out).map_or(0.0, |k| theta[k]))
    }
}
