//! Tables interned by content, the products of tables that score a position or an edge, and
//! their values at the parameters. Nearly every parameter table is a run of the parameter
//! vector with a fixed stride (a column of an emission family is one per word type), so a table
//! that is one keeps its run, and an iteration reads its values straight from the parameters
//! instead of through its entries: an HMM's emission entries alone are 16 bytes a value, more
//! than the values they name.

use rustc_hash::FxHashMap as HashMap;

use crate::graph::Entry;
use crate::kernel::prefetch::{prefetch, prefetch_params, PARAMS_AHEAD};

/// Below this, a running product of tables is rescaled so it cannot underflow.
const TINY: f64 = 1e-250;

/// Tables interned by content: `len` entries each, stored back to back.
pub(super) struct Tables {
    pub(super) len: usize,
    entries: Vec<Entry>,
    ids: HashMap<Vec<u64>, u32>,
    /// Each table's run of the parameters, where it is one.
    runs: Vec<Option<Run>>,
}

/// Entries `first + j * stride` of the parameters, `j` in `0..len`.
#[derive(Clone, Copy, PartialEq, Debug)]
pub(super) struct Run {
    pub(super) first: u32,
    pub(super) stride: i64,
}

impl Run {
    /// The parameter index of entry `j`.
    #[inline(always)]
    pub(super) fn at(self, j: usize) -> usize {
        (i64::from(self.first) + j as i64 * self.stride) as usize
    }
}

impl Tables {
    pub(super) fn new(len: usize) -> Tables {
        Tables {
            len,
            entries: Vec::new(),
            ids: HashMap::default(),
            runs: Vec::new(),
        }
    }

    pub(super) fn intern(&mut self, entries: &[Entry]) -> u32 {
        let run = run(entries);
        let key = key(run, entries);
        let next = self.count() as u32;
        *self.ids.entry(key).or_insert_with(|| {
            self.entries.extend_from_slice(entries);
            self.runs.push(run);
            next
        })
    }

    pub(super) fn count(&self) -> usize {
        self.entries.len() / self.len.max(1)
    }

    pub(super) fn table(&self, id: usize) -> &[Entry] {
        &self.entries[id * self.len..(id + 1) * self.len]
    }

    /// Asks the processor to start loading the entries of `xs` (indexed like the parameters)
    /// that table `id` names: a hint, with no effect on results.
    #[inline(always)]
    pub(super) fn prefetch(&self, id: usize, xs: &[f64]) {
        match self.runs[id] {
            Some(r) => (0..self.len).for_each(|j| prefetch(&xs[r.at(j)])),
            None => prefetch_params(self.table(id), xs),
        }
    }

    /// Table `id`'s run of the parameters, if it is one.
    #[inline(always)]
    pub(super) fn run(&self, id: usize) -> Option<Run> {
        self.runs[id]
    }
}

/// A table's identity. Parameter tables are nearly always a run of the parameter vector with
/// a fixed stride (a row or a column of a family), which three numbers name; hashing those
/// instead of every entry is what keeps building the kernel cheap.
pub(in crate::kernel) fn table_key(entries: &[Entry]) -> Vec<u64> {
    key(run(entries), entries)
}

/// `table_key` of `entries`, whose run is `run`.
fn key(run: Option<Run>, entries: &[Entry]) -> Vec<u64> {
    if let Some(r) = run {
        return vec![0, u64::from(r.first), r.stride as u64];
    }
    entries
        .iter()
        .flat_map(|e| match e {
            Entry::Param(k) => [1, u64::from(*k)],
            Entry::Fixed(w) => [2, w.to_bits()],
            Entry::Density { row, obs } => [3, u64::from(*row) << 32 | u64::from(*obs)],
        })
        .collect()
}

/// `entries` as a run of the parameters: two or more, all parameters, evenly spaced.
fn run(entries: &[Entry]) -> Option<Run> {
    let param = |e: &Entry| match e {
        Entry::Param(k) => Some(i64::from(*k)),
        Entry::Fixed(_) | Entry::Density { .. } => None,
    };
    let [a, b, ..] = entries else {
        return None;
    };
    let (first, stride) = (param(a)?, param(b)? - param(a)?);
    let mut want = first;
    for e in entries {
        (param(e)? == want).then_some(())?;
        want += stride;
    }
    Some(Run {
        first: first as u32,
        stride,
    })
}

impl Default for Tables {
    fn default() -> Tables {
        Tables::new(0)
    }
}

/// Products of interned tables (the factors on one position or one edge), interned by the list
/// of their table ids.
#[derive(Default)]
pub(super) struct Products {
    pub(super) members: Vec<Vec<u32>>,
    ids: HashMap<Vec<u32>, u32>,
}

impl Products {
    pub(super) fn intern(&mut self, tables: Vec<u32>) -> u32 {
        let next = self.members.len() as u32;
        match self.ids.get(&tables) {
            Some(id) => *id,
            None => {
                self.members.push(tables.clone());
                self.ids.insert(tables, next);
                next
            }
        }
    }
}

pub(super) fn value(e: Entry, theta: &[f64]) -> f64 {
    match e {
        Entry::Param(p) => theta[p as usize],
        Entry::Fixed(w) => w,
        Entry::Density { .. } => {
            unreachable!("instances with densities do not fit the chain kernel")
        }
    }
}

/// Every product's values scaled to a maximum of 1, and the log of the scale: on `pool` in
/// tasks of `PRODUCTS_PER_TASK` when there are more (each product alone, so the same bits);
/// an HMM has a product per word type, whose values are otherwise the serial part of an
/// iteration with the counts' scatter.
pub(super) fn products(
    tables: &Tables,
    products: &Products,
    theta: &[f64],
    pool: Option<&rayon::ThreadPool>,
) -> (Vec<f64>, Vec<f64>) {
    use rayon::prelude::*;
    const PRODUCTS_PER_TASK: usize = 1024;
    let len = tables.len;
    // Zeros, which the allocator hands over untouched: each task writes its own products'
    // ones, so the pages are first touched on the pool, not before it on one thread.
    let mut vals = vec![0.0; products.members.len() * len];
    let mut logs = vec![0.0; products.members.len()];
    if len == 0 {
        return (vals, logs);
    }
    let work = |vals: &mut [f64], logs: &mut [f64], members: &[Vec<u32>]| {
        vals.fill(1.0);
        for (i, ((out, log), m)) in vals
            .chunks_exact_mut(len)
            .zip(logs)
            .zip(members)
            .enumerate()
        {
            if let Some(ahead) = members.get(i + PARAMS_AHEAD) {
                ahead
                    .iter()
                    .for_each(|t| tables.prefetch(*t as usize, theta));
            }
            *log = scale_product(tables, m, theta, out);
        }
    };
    match pool {
        Some(pool) if products.members.len() > PRODUCTS_PER_TASK => pool.install(|| {
            vals.par_chunks_mut(PRODUCTS_PER_TASK * len)
                .zip(logs.par_chunks_mut(PRODUCTS_PER_TASK))
                .zip(products.members.par_chunks(PRODUCTS_PER_TASK))
                .for_each(|((v, l), m)| work(v, l, m))
        }),
        _ => work(&mut vals, &mut logs, &products.members),
    }
    (vals, logs)
}

/// `members`' tables multiplied into `out` (all ones), scaled to a maximum of 1; returns the
/// log of the scale.
fn scale_product(tables: &Tables, members: &[u32], theta: &[f64], out: &mut [f64]) -> f64 {
    // A mixture line of many draws is one position with a product of thousands of tables
    // (0.5^1075 is already below the smallest f64): the running product is rescaled whenever
    // it gets small, which leaves every usual product's bits as they were, since it never
    // fires for them.
    let mut scale = 0.0;
    for t in members {
        let mut m = 0.0f64;
        if let Some(r) = tables.run(*t as usize) {
            for (j, o) in out.iter_mut().enumerate() {
                *o *= theta[r.at(j)];
                m = m.max(*o);
            }
        } else {
            for (o, e) in out.iter_mut().zip(tables.table(*t as usize)) {
                *o *= value(*e, theta);
                m = m.max(*o);
            }
        }
        if m > 0.0 && m < TINY {
            out.iter_mut().for_each(|o| *o /= m);
            scale += m.ln();
        }
    }
    let m = out.iter().copied().fold(0.0, f64::max);
    if m > 0.0 {
        out.iter_mut().for_each(|o| *o /= m);
    }
    m.ln() + scale
}

#[cfg(test)]
mod tests {
    use super::*;

    fn params(ps: &[u32]) -> Vec<Entry> {
        ps.iter().map(|p| Entry::Param(*p)).collect()
    }

    #[test]
    fn a_run_is_two_or_more_evenly_spaced_parameters() {
        let at = |r: Option<Run>| r.map(|r| (0..3).map(|j| r.at(j)).collect::<Vec<_>>());
        assert_eq!(at(run(&params(&[7, 17, 27]))), Some(vec![7, 17, 27]));
        assert_eq!(at(run(&params(&[27, 17, 7]))), Some(vec![27, 17, 7]));
        assert_eq!(at(run(&params(&[4, 4, 4]))), Some(vec![4, 4, 4]));
        assert_eq!(run(&params(&[7, 17, 28])), None);
        assert_eq!(run(&params(&[7])), None);
        assert_eq!(
            run(&[Entry::Param(1), Entry::Fixed(0.5), Entry::Param(3)]),
            None
        );
        // A table's key is its run where it has one, so interning is as it was.
        assert_eq!(table_key(&params(&[7, 17, 27])), vec![0, 7, 10]);
        assert_eq!(
            table_key(&params(&[27, 17, 7])),
            vec![0, 27, (-10i64) as u64]
        );
    }

    /// Products read through their runs give the bits they give read through their entries,
    /// the rescaling of a product that gets tiny included.
    #[test]
    fn products_through_runs_match_products_through_entries() {
        let k = 4;
        let theta: Vec<f64> = (0..64)
            .map(|i| 0.05 + (i as f64 * 0.37).sin().abs())
            .collect();
        let mut theta = theta;
        theta[40..44].copy_from_slice(&[1e-200, 3e-201, 2e-200, 1e-199]);
        theta[50..54].copy_from_slice(&[1e-260, 3e-261, 2e-300, 0.0]);
        let mut tables = Tables::new(k);
        let runs = [
            tables.intern(&params(&[0, 16, 32, 48])),
            tables.intern(&params(&[43, 42, 41, 40])),
            tables.intern(&params(&[5, 6, 7, 8])),
            tables.intern(&params(&[50, 51, 52, 53])),
        ];
        let fixed = tables.intern(&[
            Entry::Fixed(0.25),
            Entry::Param(9),
            Entry::Fixed(2.0),
            Entry::Param(3),
        ]);
        assert!(runs.iter().all(|t| tables.run(*t as usize).is_some()));
        assert!(tables.run(fixed as usize).is_none());
        let mut products = Products::default();
        for m in [
            vec![runs[0]],
            vec![runs[0], runs[2], fixed],
            vec![runs[1], runs[1], runs[2]],
            vec![fixed, runs[1]],
            vec![runs[3]],
            vec![runs[2]],
        ] {
            products.intern(m);
        }
        let through_runs = super::products(&tables, &products, &theta, None);
        tables.runs.iter_mut().for_each(|r| *r = None);
        let through_entries = super::products(&tables, &products, &theta, None);
        let bits = |(v, l): &(Vec<f64>, Vec<f64>)| {
            v.iter().chain(l).map(|x| x.to_bits()).collect::<Vec<_>>()
        };
        assert_eq!(bits(&through_runs), bits(&through_entries));
        // The product of two tiny tables was rescaled: its log is far below a double's range;
        // so was the tiny table alone (a largest value of 1e-260 scaled to 1).
        assert!(through_runs.1[2] < -900.0, "{}", through_runs.1[2]);
        assert!(through_runs.1[4] < -590.0, "{}", through_runs.1[4]);
        let want = [1.0, 0.3, 2e-40, 0.0];
        for (got, want) in through_runs.0[16..20].iter().zip(want) {
            assert!((got - want).abs() <= 1e-15 * want, "{got} against {want}");
        }
    }
}
