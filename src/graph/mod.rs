//! One instance of the model unrolled into a factor graph: discrete hidden variables and
//! factors over them. Every factor's table is stored as entries that either point at a
//! parameter (so the engines read the current value and the count store knows which event a
//! posterior mass belongs to) or hold a fixed weight (uniform draws, deterministic tables).

mod dot;
mod unroll;

pub use dot::to_dot;
pub use unroll::{
    probe_dataset, unplaced_entry, unroll, unroll_cached, DenseNumbers, DiscoveredKey, Discovering,
    TableCache, UnplacedGraph, UnrollError, UnrollErrorKind, PROBE_LENGTH, UNPLACED,
};

use std::rc::Rc;

use crate::density;
use crate::syntax::ast::Span;

pub type VarId = u32;

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Entry {
    /// The parameter at this index of the flat parameter vector.
    Param(u32),
    /// A weight that does not change with training.
    Fixed(f64),
    /// The density of observation `obs` (of the instance graph) under the Gaussian row whose
    /// parameters start at index `row` of the parameter vector.
    Density { row: u32, obs: u32 },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Factor {
    /// Sorted, distinct hidden variables.
    pub scope: Vec<VarId>,
    /// Row-major over `scope` (the last variable varies fastest). Shared between factors
    /// whose tables are equal (every `trans` factor of an HMM), so engines can compute a
    /// table's values once per instance.
    pub entries: Rc<[Entry]>,
    /// The draw statement that made the factor.
    pub origin: Span,
    /// The family or table it draws from (`uniform` for uniform draws), for drawings.
    pub name: Rc<str>,
    /// The hidden variable this draw generates, if its left side is one.
    pub target: Option<VarId>,
}

/// A variable's name as the story writes it, `base` or `base[index]`: made into text only
/// when shown (in an error, a plan, a drawing), not for each of the variables an unroll
/// makes (IBM Model 1 on the Hansards: 586k, one per French word).
#[derive(Clone, Debug, PartialEq)]
pub struct VarName {
    base: Rc<str>,
    index: Option<usize>,
}

impl VarName {
    pub fn new(base: Rc<str>, index: Option<usize>) -> VarName {
        VarName { base, index }
    }
}

impl std::fmt::Display for VarName {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self.index {
            Some(i) => write!(f, "{}[{i}]", self.base),
            None => f.write_str(&self.base),
        }
    }
}

/// Where a hidden variable comes from.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VarOrigin {
    /// A `hidden` declaration, with the element index for arrays.
    Hidden { decl: usize, index: Option<usize> },
    /// A `?` in the data, with the element index for sequences.
    Missing { field: usize, index: Option<usize> },
}

#[derive(Clone, Debug, PartialEq)]
pub struct Var {
    pub name: VarName,
    pub card: u32,
    pub origin: VarOrigin,
    /// Symbol names of the variable's values, for decoding output.
    pub domain: VarDomain,
}

/// A decoded hidden variable: where it comes from, what its values are, its value.
pub type Decoded = (VarOrigin, VarDomain, u32);

#[derive(Clone, Copy, Debug, PartialEq)]
pub enum VarDomain {
    /// Values are symbols of this model domain.
    Symbols(usize),
    /// Values are the integers `lo..lo + card`.
    Integers(i64),
}

#[derive(Clone, Debug, PartialEq)]
pub struct InstanceGraph {
    pub vars: Vec<Var>,
    pub factors: Vec<Factor>,
    /// How many times the instance counts.
    pub weight: f64,
    /// 1-based data line, 0 for a probe instance.
    pub line: usize,
    /// The real vectors that `Entry::Density` entries score (NaN: missing).
    pub observations: Vec<Vec<f64>>,
}

impl InstanceGraph {
    /// A factor's value at each entry, in log space.
    pub fn log_values(&self, f: &Factor, theta: &[f64]) -> Vec<f64> {
        f.entries
            .iter()
            .map(|e| self.log_value(*e, theta))
            .collect()
    }

    pub fn log_value(&self, e: Entry, theta: &[f64]) -> f64 {
        match e {
            Entry::Param(k) => theta[k as usize].ln(),
            Entry::Fixed(w) => w.ln(),
            Entry::Density { row, obs } => {
                let x = &self.observations[obs as usize];
                density::log_density(&density::row(&theta[row as usize..], x.len()), x)
            }
        }
    }

    /// A short description of a factor: what it draws from and its variables. Made on demand,
    /// since unrolling a large corpus would otherwise format one per token.
    pub fn label(&self, f: &Factor) -> String {
        let vars: Vec<String> = f
            .scope
            .iter()
            .map(|v| format!("`{}`", self.vars[*v as usize].name))
            .collect();
        format!("{} {}", f.name, vars.join(", "))
    }

    pub fn cards(&self) -> Vec<usize> {
        self.vars.iter().map(|v| v.card as usize).collect()
    }
}
