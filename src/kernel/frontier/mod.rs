//! The compiled kernel for junction-tree plans: trigram HMMs, mixtures of HMMs, factorial
//! HMMs, any story whose instances a frontier of a few variables can sweep. Each instance is
//! unrolled once, when the kernel is built, into a schedule of steps (`schedule`) shared by
//! every instance of its shape, and the tables its steps read, interned by content. Each
//! iteration then runs the forward sweep over batches of instances of one shape whose
//! contractions read the same tables, as matrix products over the batch's lanes, and the
//! backward sweep as its reverse-mode derivative: the expected count of a table entry is the
//! entry times the derivative of the likelihood in it (`pass`). The interpreted path
//! (`generic`) stays the reference, and takes any line the kernel cannot score in f64.

use rustc_hash::FxHashMap as HashMap;
use std::ops::Range;

mod build;
mod pass;
mod schedule;
mod unary;

pub use build::{Builder, Part, Seen};
pub use schedule::Unfit;

use super::generic;
use super::ordered::map_merge_in_order;
use super::units::UnitCounts;
use super::ZeroPolicy;
use crate::data::Dataset;
use crate::error::Error;
use crate::graph::{Entry, TableCache};
use crate::infer::{accumulate, posterior, CountStore, Engine, InferError};
use crate::program::Program;
use schedule::Kind;

/// Steps of instances (about positions times lanes) per unit of parallel work, at most and
/// at least (`cut_units`). Units are fixed by the data, never by the thread count, and
/// summed in unit order. Each unit's counts are as long as the parameters (W8: a million),
/// zeroed, scattered into and merged once per unit, so large data gets large units: 2^18
/// ran W8 about 7% faster than 2^17 (paired runs; its million tokens make about 15 units).
const UNIT_STEPS: usize = 1 << 18;
const MIN_UNIT_STEPS: usize = 1 << 17;
/// Joint values a batch's forward sweep may keep, over all its lanes and steps.
const TAPE_VALUES: usize = 1 << 21;
/// Lanes per batch at most: enough columns for the matrix products.
const MAX_LANES: usize = 64;

pub struct FrontierKernel {
    shapes: Vec<Shape>,
    /// Index maps from a step's joint values (or a table's) to a factor's entries, and
    /// whether each is the identity (a factor over the whole output, in its order).
    projections: Vec<Vec<u32>>,
    identity: Vec<bool>,
    /// Factor tables, interned by content, back to back.
    entries: Vec<Entry>,
    table_start: Vec<usize>,
    products: Vec<Product>,
    instances: Vec<Inst>,
    /// The unary factors' tables of each instance, in step order.
    slots: Vec<u32>,
    constants: Vec<Entry>,
    batches: Vec<Batch>,
    units: Vec<Range<usize>>,
}

/// The steps every instance of one shape runs.
struct Shape {
    steps: Vec<Step>,
    /// Joint values of all steps' outputs, per lane.
    tape: usize,
    /// The largest input or output of a step.
    widest: usize,
    lanes: usize,
    /// Unary factors per instance.
    slots: usize,
    /// Per unary slot, whether its step reads it in place (`Step::in_place`), so that no
    /// copy of its values is made.
    in_place: Vec<bool>,
}

struct Step {
    kind: Kind,
    in_size: usize,
    out_size: usize,
    u_card: usize,
    v_card: usize,
    /// How far apart (in joint values) the summed axis's values lie in the input.
    u_stride: usize,
    /// `Contract` and `SumOut`: per value of the axes kept, where its first summed value
    /// lies in the input, and (`Contract`) which block of the table it reads.
    groups: Vec<(u32, u32)>,
    /// The unary factors' projections from the output's joint values.
    unary: Vec<u32>,
    /// Where the output starts on the tape, in joint values per lane.
    offset: usize,
    /// The instance's first unary slot this step reads.
    slot: usize,
    /// Whether the output is scaled per lane (see `build::rescaled`).
    rescale: bool,
    /// Whether the step's one unary factor covers its whole output in order and is read
    /// from each lane's table where it lies (`unary`), not from a copy.
    in_place: bool,
}

/// A contraction's table: the product of its factors over (shared axes, u, v).
struct Product {
    size: usize,
    /// The sizes of u and v: the table is blocks of u x v.
    block: (usize, usize),
    /// (table, projection) per factor.
    factors: Vec<(u32, u32)>,
}

struct Inst {
    /// Its index in the dataset.
    index: u32,
    weight: f64,
    slots: Range<u32>,
    constants: Range<u32>,
}

struct Batch {
    shape: u32,
    /// The product of each contraction, in step order.
    products: Vec<u32>,
    /// Its instances, the last repeated up to a multiple of 4 lanes (the products' columns
    /// come in vectors of 4): lanes from `live` on count nothing.
    members: Vec<u32>,
    live: usize,
}

/// A thread's memory for its units: the sweeps' and the masses per table entry, in the
/// kernel's own coordinates until the unit ends (a line's emission rows lie far apart among
/// the parameters, and adding into them lane by lane missed the cache on every entry). A
/// unit's lines read a part of the tables (the unary tables of the words they hold), so
/// only those are scattered to the parameters and zeroed again, in table order, as a scan
/// of all of them would add them: scanning and zeroing every table per unit took a fifth
/// of W7's E-step when its contractions had a table per word.
struct Scratch {
    work: pass::Work,
    tmass: Vec<f64>,
    umass: Vec<f64>,
    products: Touched,
    tables: Touched,
}

/// The tables (or products) a unit has written, by number.
struct Touched {
    seen: Vec<bool>,
    list: Vec<u32>,
}

impl Touched {
    fn new(n: usize) -> Touched {
        Touched {
            seen: vec![false; n],
            list: Vec::new(),
        }
    }

    fn mark(&mut self, i: u32) {
        if !std::mem::replace(&mut self.seen[i as usize], true) {
            self.list.push(i);
        }
    }

    /// The tables marked, in ascending order, and none marked afterwards.
    fn take(&mut self) -> Vec<u32> {
        let mut list = std::mem::take(&mut self.list);
        list.sort_unstable();
        list.iter().for_each(|i| self.seen[*i as usize] = false);
        list
    }
}

impl Scratch {
    fn new(k: &FrontierKernel, values: &Values) -> Scratch {
        Scratch {
            work: pass::Work::default(),
            tmass: vec![0.0; *values.product_start.last().unwrap()],
            umass: vec![0.0; k.entries.len()],
            products: Touched::new(k.products.len()),
            tables: Touched::new(k.table_start.len() - 1),
        }
    }

    /// Marks what `batch`'s sweeps write: its contractions' products and its lanes' unary
    /// tables.
    fn touch(&mut self, k: &FrontierKernel, batch: &Batch) {
        batch.products.iter().for_each(|p| self.products.mark(*p));
        for m in &batch.members {
            let slots = &k.instances[*m as usize].slots;
            for t in &k.slots[slots.start as usize..slots.end as usize] {
                self.tables.mark(*t);
            }
        }
    }

    /// The unit's masses to the parameters, the contractions' first, and every mass back
    /// to zero for the next unit. A contraction's table entry (the product's value times
    /// the derivative in it) goes to each of the factors whose product it is.
    fn scatter(&mut self, k: &FrontierKernel, values: &Values, expected: &mut [f64]) {
        for p in self.products.take() {
            let at = values.product_start[p as usize]..values.product_start[p as usize + 1];
            let (mass, vals) = (&mut self.tmass[at.clone()], &values.product[at]);
            if mass.iter().all(|m| *m == 0.0) {
                continue;
            }
            for (t, proj) in &k.products[p as usize].factors {
                let entries = &k.entries[k.table(*t)];
                for ((m, v), j) in mass.iter().zip(vals).zip(&k.projections[*proj as usize]) {
                    if let Entry::Param(e) = entries[*j as usize] {
                        expected[e as usize] += m * v;
                    }
                }
            }
            mass.fill(0.0);
        }
        for t in self.tables.take() {
            let at = k.table(t);
            for (m, e) in self.umass[at.clone()].iter_mut().zip(&k.entries[at]) {
                if let (Entry::Param(p), true) = (e, *m != 0.0) {
                    expected[*p as usize] += *m;
                }
                *m = 0.0;
            }
        }
    }
}

/// The parameters as dense values, once per iteration: every table and product scaled to a
/// maximum of 1, with the log of the scale kept apart, so that no table underflows.
struct Values {
    table: Vec<f64>,
    table_log: Vec<f64>,
    product: Vec<f64>,
    /// Each product with every block transposed (v x u), for the forward products.
    transposed: Vec<f64>,
    product_start: Vec<usize>,
    product_log: Vec<f64>,
}

fn value(e: Entry, theta: &[f64]) -> f64 {
    match e {
        Entry::Param(p) => theta[p as usize],
        Entry::Fixed(w) => w,
        Entry::Density { .. } => unreachable!("instances with densities do not fit"),
    }
}

/// Scales `xs` to a maximum of 1 and returns the log of the scale (0 for a zero table).
fn scale(xs: &mut [f64]) -> f64 {
    let m = xs.iter().copied().fold(0.0, f64::max);
    if m > 0.0 {
        xs.iter_mut().for_each(|x| *x /= m);
        m.ln()
    } else {
        0.0
    }
}

impl FrontierKernel {
    pub fn units(&self) -> usize {
        self.units.len()
    }

    fn table(&self, t: u32) -> Range<usize> {
        self.table_start[t as usize]..self.table_start[t as usize + 1]
    }

    fn values(&self, theta: &[f64]) -> Values {
        let mut table: Vec<f64> = self.entries.iter().map(|e| value(*e, theta)).collect();
        let table_log: Vec<f64> = (0..self.table_start.len() - 1)
            .map(|t| scale(&mut table[self.table(t as u32)]))
            .collect();
        let mut product_start = vec![0];
        for p in &self.products {
            product_start.push(product_start.last().unwrap() + p.size);
        }
        let mut product = vec![1.0; *product_start.last().unwrap()];
        let mut product_log = Vec::with_capacity(self.products.len());
        for (p, at) in self.products.iter().zip(product_start.windows(2)) {
            let out = &mut product[at[0]..at[1]];
            for (t, proj) in &p.factors {
                let vals = &table[self.table(*t)];
                for (o, j) in out.iter_mut().zip(&self.projections[*proj as usize]) {
                    *o *= vals[*j as usize];
                }
            }
            let logs: f64 = p.factors.iter().map(|(t, _)| table_log[*t as usize]).sum();
            product_log.push(logs + scale(out));
        }
        let mut transposed = vec![0.0; product.len()];
        for (p, at) in self.products.iter().zip(product_start.windows(2)) {
            let (u, v) = p.block;
            let (src, dst) = (&product[at[0]..at[1]], &mut transposed[at[0]..at[1]]);
            for (s, d) in src.chunks_exact(u * v).zip(dst.chunks_exact_mut(u * v)) {
                for i in 0..u {
                    for j in 0..v {
                        d[j * u + i] = s[i * v + j];
                    }
                }
            }
        }
        Values {
            table,
            table_log,
            product,
            transposed,
            product_start,
            product_log,
        }
    }

    /// Expected counts and log-likelihood at `theta`.
    pub fn e_step(
        &self,
        program: &Program,
        data: &Dataset,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        let mut total = CountStore::new(program.layout.total);
        self.count(program, data, theta, pool, on_zero, 0..self.units(), |s| {
            total.merge_and_clear(s)
        })?;
        // Units follow the lines' shapes, not the data's order.
        total.skipped.sort_unstable();
        Ok(total)
    }

    /// Each unit's counts of `units`, unmerged, in the parameters' coordinates (as the
    /// generic path's, which `generic::finish` and `generic::fold` merge).
    pub fn count_units(
        &self,
        program: &Program,
        data: &Dataset,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
        units: Range<usize>,
    ) -> Result<Vec<UnitCounts>, Error> {
        let mut out = Vec::with_capacity(units.len());
        self.count(program, data, theta, pool, on_zero, units, |store| {
            out.push(generic::unit_of(store));
            store.clear();
        })?;
        Ok(out)
    }

    pub fn finish(params: usize, units: &[UnitCounts]) -> CountStore {
        let mut total = generic::finish(params, units);
        total.skipped.sort_unstable();
        total
    }

    /// Counts `units` and hands each unit's store to `merge`, in unit order; `merge` leaves
    /// it with no counts, for a later unit to count in.
    #[allow(clippy::too_many_arguments)]
    fn count(
        &self,
        program: &Program,
        data: &Dataset,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
        units: Range<usize>,
        mut merge: impl FnMut(&mut CountStore) + Send,
    ) -> Result<(), Error> {
        let values = self.values(theta);
        let params = program.layout.total;
        map_merge_in_order(
            pool,
            units.len(),
            || Scratch::new(self, &values),
            |i, scratch, spare| {
                // A unit's store is as long as the parameters: `merge` hands it back with
                // no counts (`CountStore::merge_and_clear`, `CountStore::clear`).
                let mut store = spare.unwrap_or_else(|| CountStore::new(params));
                let mut dead = Vec::new();
                for b in self.units[units.start + i].clone() {
                    let batch = &self.batches[b];
                    scratch.touch(self, batch);
                    let mass = (&mut scratch.tmass[..], &mut scratch.umass[..]);
                    let work = &mut scratch.work;
                    pass::count_batch(self, batch, &values, theta, work, &mut store, mass);
                    dead.extend(work.dead.iter().map(|l| batch.members[*l]));
                }
                scratch.scatter(self, &values, &mut store.expected);
                self.interpret(program, data, theta, &dead, on_zero, &mut store)?;
                Ok(store)
            },
            |mut store| {
                merge(&mut store);
                Some(store)
            },
        )
    }

    /// Lines whose probability the sweep could not hold in f64 (or that have none), counted
    /// by the interpreted path in log space, in the order the unit met them.
    fn interpret(
        &self,
        program: &Program,
        data: &Dataset,
        theta: &[f64],
        dead: &[u32],
        on_zero: ZeroPolicy,
        store: &mut CountStore,
    ) -> Result<(), Error> {
        let mut tables = TableCache::default();
        for i in dead {
            let inst = &self.instances[*i as usize];
            let g = program.unroll(&data.instances[inst.index as usize], &mut tables)?;
            match posterior(Engine::JunctionTree, &g, theta) {
                Ok(p) => accumulate(&g, &p, store, theta),
                Err(InferError::ZeroProbability { line }) if on_zero == ZeroPolicy::Skip => {
                    store.skipped.push(line)
                }
                Err(e) => return Err(e.into()),
            }
        }
        Ok(())
    }
}

/// Batches' lanes for a shape whose sweep keeps `tape` joint values per lane.
fn lanes(tape: usize) -> usize {
    (TAPE_VALUES / tape.max(1)).clamp(4, MAX_LANES) / 4 * 4
}

/// Consecutive batches of about a quarter of the data's instance steps each, within
/// `MIN_UNIT_STEPS..=UNIT_STEPS`: data of up to four of the smallest units is cut as before
/// the largest were raised, so that it keeps its units for two threads (and its bits).
fn cut_units(shapes: &[Shape], batches: &[Batch]) -> Vec<Range<usize>> {
    let steps = |b: &Batch| b.members.len() * shapes[b.shape as usize].steps.len().max(1);
    let total: usize = batches.iter().map(steps).sum();
    let size = (total / 4).clamp(MIN_UNIT_STEPS, UNIT_STEPS);
    let mut units = Vec::new();
    let (mut start, mut work) = (0, 0);
    for (i, b) in batches.iter().enumerate() {
        work += steps(b);
        if work >= size {
            units.push(start..i + 1);
            (start, work) = (i + 1, 0);
        }
    }
    if start < batches.len() {
        units.push(start..batches.len());
    }
    units
}

/// Groups of instances batched together, in order of their first instance.
#[derive(Default)]
struct Groups {
    ids: HashMap<(u32, Vec<u32>), usize>,
    keys: Vec<(u32, Vec<u32>)>,
    members: Vec<Vec<u32>>,
}
