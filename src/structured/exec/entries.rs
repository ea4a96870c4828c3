//! What a draw adds to its hyperedge: a parameter's index (placed in a sparse family's
//! support, or recorded while the supports are found), or the density of a real value under
//! a Gaussian row, numbered past the parameters.

use super::{Exec, Row, Val};
use crate::data::FieldValue;
use crate::graph::{DiscoveredKey, UnrollError, UnrollErrorKind};
use crate::model::*;

/// What a line's Gaussian draws score: hyperedge entry `first + d` (`first`: the parameter
/// vector's length) is the density of observation `densities[d].1` under the Gaussian row
/// starting at parameter `densities[d].0`.
#[derive(Clone, Debug, Default, PartialEq)]
pub struct Densities {
    pub first: u32,
    pub densities: Vec<(u32, u32)>,
    /// Per observation: its field and position (0 for a field of one value), and the vector
    /// (NaN where the data says `?`).
    pub observations: Vec<((FieldId, u32), Vec<f64>)>,
}

impl Exec<'_> {
    pub(in crate::structured) fn take_densities(&mut self) -> Densities {
        self.density_ids.clear();
        self.observation_ids.clear();
        Densities {
            first: self.layout.total as u32,
            densities: std::mem::take(&mut self.densities),
            observations: std::mem::take(&mut self.observations),
        }
    }

    /// The entry of a Gaussian draw `target ~ f(args)`: the density of the observed real
    /// value `target` under the row `args` picks, numbered after the parameters.
    pub(super) fn density(
        &mut self,
        f: FamilyId,
        args: &[Expr],
        target: &Expr,
        env: &[Option<Val>],
    ) -> Result<u32, UnrollError> {
        let row = self.row(f, args, env)?;
        let slot = &self.layout.families[f];
        let start = (slot.offset + row.row * slot.n_out) as u32;
        let (field, index) = match &target.kind {
            ExprKind::Field(fid) => (*fid, 0),
            ExprKind::Index(seq, i) => match seq.kind {
                ExprKind::Field(fid) => (fid, self.int(i, env)?),
                _ => unreachable!("the checker makes a Gaussian's target a real field's element"),
            },
            _ => unreachable!("the checker makes a Gaussian's target a real field"),
        };
        let x: &[f64] = match &self.inst.values[field] {
            FieldValue::Real(x) => x,
            FieldValue::RealSequence(xs) => {
                let len = xs.len();
                match usize::try_from(index).ok().and_then(|i| xs.get(i)) {
                    Some(x) => x,
                    None => {
                        return Err(self.error(UnrollErrorKind::Index { index, len }, target.span))
                    }
                }
            }
            _ => unreachable!("a Gaussian's target is a real field"),
        };
        // The index was checked against the sequence, which a line bounds far below 2^32.
        let at = (field, index as u32);
        let obs = match self.observation_ids.get(&at) {
            Some(o) => *o,
            None => {
                let o = self.observations.len() as u32;
                self.observations.push((at, x.to_vec()));
                self.observation_ids.insert(at, o);
                o
            }
        };
        let d = *self.density_ids.entry((start, obs)).or_insert_with(|| {
            self.densities.push((start, obs));
            (self.densities.len() - 1) as u32
        });
        Ok(self.layout.total as u32 + d)
    }

    /// Records the entries of sparse families the line reaches instead of placing them.
    pub(in crate::structured) fn discover(&mut self) {
        self.discovered = Some(Vec::new());
    }

    pub(in crate::structured) fn take_discovered(&mut self) -> Vec<DiscoveredKey> {
        self.discovered.take().unwrap_or_default()
    }

    /// The parameter index of outcome `out` of `row`; `None` for an entry a sparse family
    /// does not store, which has probability zero (its branch is dropped).
    pub(super) fn entry(&mut self, row: Row, out: usize) -> Option<u32> {
        let slot = &self.layout.families[row.family];
        let rel = row.row * slot.n_out + out;
        match (&mut self.discovered, &slot.support) {
            (Some(keys), Some(_)) => {
                keys.push(DiscoveredKey::new(row.family, rel));
                // Never read: a discovering run's hypergraph is thrown away.
                Some(0)
            }
            _ => slot.index(rel).map(|k| k as u32),
        }
    }
}
