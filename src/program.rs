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
}
