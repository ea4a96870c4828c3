//! A unit of work's counts as a plain value, before the merge: what a shard of the data
//! hands to whoever sums the shards (`emc estep` writes them into an accumulator file,
//! `accum`). Floating-point sums depend on their order, so shards cannot send their own
//! sums: the merge must add the very numbers each unit made, in unit order, as one process
//! does. Each kernel says what its coordinates are and merges these as it merges its own
//! units, so the counts are the same bits however the units were spread over processes.

/// One unit's counts in its kernel's coordinates (see `Kernel::coordinates`).
#[derive(Clone, Debug, Default, PartialEq)]
pub struct UnitCounts {
    /// The unit's numbers of coordinates `0..dense.len()`, zeros included, when most of
    /// them are not zero (8 bytes a number instead of 16 as pairs, and added as a run: the
    /// chain kernel's tables over a unit of 65,536 tokens are mostly filled). Adding a zero
    /// to a sum that never is -0.0 changes no bit, so the merge is the same as from pairs.
    pub dense: Vec<f64>,
    /// The unit's numbers by coordinate past `dense`, those equal to zero left out: the merge only adds
    /// them (or, for the independent kernel, writes them into slots that start at zero), and
    /// adding a zero to a sum that started at +0.0 changes no bit.
    pub values: Vec<(u64, f64)>,
    /// Counts of single parameters, in the order the unit made them (the chain kernel's
    /// factors over no hidden variable).
    pub extra: Vec<(u64, f64)>,
    pub log_likelihood: f64,
    /// Instances counted.
    pub instances: u64,
    /// Lines with probability zero, as the kernel reports them (data lines, or instance
    /// numbers for the hypergraph kernel).
    pub lines: Vec<u64>,
}

impl UnitCounts {
    /// Every non-zero number by coordinate: `dense`'s, then `values`.
    pub fn entries(&self) -> impl Iterator<Item = (u64, f64)> + '_ {
        let dense = (0u64..).zip(self.dense.iter().copied());
        (dense.filter(|(_, v)| *v != 0.0)).chain(self.values.iter().copied())
    }
}

/// The numbers of `slices` back to back from coordinate 0: as `unit.dense` when at least
/// half are not zero, else the non-zero ones as pairs. Sized before they are written: a
/// unit's tables are megabytes, and growing a vector by doubling copies them again.
pub fn push_leading(unit: &mut UnitCounts, slices: &[&[f64]]) {
    let nonzero = |s: &[f64]| s.iter().filter(|v| **v != 0.0).count();
    let count: usize = slices.iter().map(|s| nonzero(s)).sum();
    let len: usize = slices.iter().map(|s| s.len()).sum();
    if 2 * count >= len {
        unit.dense.reserve_exact(len);
        slices.iter().for_each(|s| unit.dense.extend_from_slice(s));
    } else {
        unit.values.reserve(count);
        let mut offset = 0;
        for s in slices {
            push_nonzero(&mut unit.values, offset, s);
            offset += s.len();
        }
    }
}

/// The non-zero numbers of `slice`, their coordinates from `offset`, appended to `out`.
pub fn push_nonzero(out: &mut Vec<(u64, f64)>, offset: usize, slice: &[f64]) {
    out.extend(
        (offset as u64..)
            .zip(slice.iter().copied())
            .filter(|(_, v)| *v != 0.0),
    );
}
