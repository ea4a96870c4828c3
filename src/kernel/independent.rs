//! The kernel for plans whose factors each depend on at most one hidden variable (mixtures,
//! IBM Model 1 alignments), whatever the variables' sizes: a variable's posterior is the
//! normalised product of its factors' tables. Every entry is an index into the parameters
//! followed by the fixed weights the model uses, so the E-step is gathers and products.
//! Posteriors are written per variable or per entry; each parameter's count then sums its
//! entries in data order (each thread scanning every entry for its own parameters), so counts
//! are the same bits for any thread count, without a count vector per unit of work or an
//! index kept to find a parameter's entries.

use std::borrow::Cow;
use std::ops::Range;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Mutex;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::chain::{Unfit, Zero};
use super::ordered::map_merge_in_order;
use super::prefetch::prefetch_indexed;
use super::runs::Run;
use super::units::UnitCounts;
use crate::graph::{unplaced_entry, Decoded, Entry, InstanceGraph, UnplacedGraph, UNPLACED};
use crate::infer::CountStore;

/// How far ahead of the entries being read their parameters are fetched.
const ENTRIES_AHEAD: usize = 64;

/// Entries per unit of work of the E-step.
const CHUNK_ENTRIES: usize = 1 << 16;

/// Below this, a running product of factor values is rescaled so it cannot underflow.
const TINY: f64 = 1e-250;

struct Instance {
    line: usize,
    weight: f64,
    /// Its variables in `IndependentKernel::vars`: the hidden ones, then one stand-in of size
    /// one per factor over no hidden variable (an observed event).
    vars: Range<usize>,
    /// How many of `vars` are hidden variables of the instance graph, in graph order.
    hidden: usize,
    /// Those variables' origins and domains: runs of `IndependentKernel::decoding`.
    decoding: Range<usize>,
    /// Its entries in `IndependentKernel::index`.
    entries: Range<usize>,
    /// The log of the factors whose tables are one weight throughout (uniform draws).
    log_constant: f64,
}

/// A variable: its size and how many tables its factors have. The tables are back to back in
/// `index`, and so are the variables, in order: where a variable's tables start is the sum
/// of the sizes before it, counted as the variables are visited, not stored (IBM Model 1 on
/// the Hansards has 586k variables).
#[derive(Clone)]
struct Var {
    card: u32,
    factors: u32,
}

impl Var {
    /// Entries of all its tables.
    fn len(&self) -> usize {
        self.card as usize * self.factors as usize
    }
}

pub struct IndependentKernel {
    /// Length of the parameter vector.
    params: usize,
    instances: Vec<Instance>,
    vars: Vec<Var>,
    /// Per entry, a parameter index, or `params + i` for fixed weight `fixed[i]` (while
    /// building, a [`Building`] entry).
    index: Vec<u32>,
    fixed: Vec<f64>,
    /// The first parameter of each of `PARTS` parts with about as many entries each (and
    /// `params` last): the count scan splits the parameters among threads there.
    parts: Vec<usize>,
    handoff: Handoff,
    /// Consecutive instances counted as one unit of work.
    chunks: Vec<Range<usize>>,
    /// What decoding prints for each hidden variable, as runs.
    decoding: Vec<Run>,
}

/// How an E-step hands the posteriors to the counts. Either array holds `f64` bits, written
/// in parallel (each element by one unit of work) and read afterwards; it is kept between
/// E-steps and locked during one.
enum Handoff {
    /// Every variable has one table, so an entry's posterior is its parameter times its
    /// variable's `weight / z`: only that is written, per variable.
    PerVariable(Mutex<Vec<AtomicU64>>),
    /// Posteriors written per entry (a fixed weight's too, never read).
    PerEntry(Mutex<Vec<AtomicU64>>),
}

/// Parts the parameters are cut into for the count scan: threads take whole runs of them.
const PARTS: usize = 64;

/// An entry of `index` while building: a parameter, a fixed weight whose number the kernel
/// is not finished enough to know the place of, or a sparse entry not placed yet.
/// The index holds one number per posterior the E-step writes (hundreds of millions for IBM
/// Model 1 on a large corpus), so the building entries share its `u32`s, told apart by tag
/// bits above any parameter index (parameters stay below 2^28); `kind` reads them.
enum Building {
    Param,
    /// Number `i` of the builder's fixed weights.
    Fixed(u32),
    /// Discovered entry `n` ([`unplaced_entry`]): of the discovering shard, and once
    /// renumbered, of the whole data.
    Unplaced(u32),
}

/// Marks a fixed weight's number among the building entries.
const FIXED: u32 = 1 << 30;

impl Building {
    fn fixed(i: u32) -> u32 {
        FIXED | i
    }

    fn kind(i: u32) -> Building {
        match unplaced_entry(i) {
            Some(n) => Building::Unplaced(n),
            None if i & FIXED != 0 => Building::Fixed(i & !FIXED),
            None => Building::Param,
        }
    }
}

/// Compiles instance graphs in data order; shards compiled apart are absorbed in order.
pub struct Builder {
    kernel: IndependentKernel,
    fixed_ids: HashMap<u64, u32>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            kernel: IndependentKernel {
                params: 0,
                instances: Vec::new(),
                vars: Vec::new(),
                index: Vec::new(),
                fixed: Vec::new(),
                parts: Vec::new(),
                handoff: Handoff::PerEntry(Mutex::new(Vec::new())),
                chunks: Vec::new(),
                decoding: Vec::new(),
            },
            fixed_ids: HashMap::default(),
        }
    }

    pub fn add(&mut self, g: &InstanceGraph) -> Result<(), Unfit> {
        // (variable, factor) for the factors over one variable, by variable, in graph order.
        let mut unary: Vec<(u32, u32)> = Vec::with_capacity(g.factors.len());
        let mut observed: Vec<&[Entry]> = Vec::new();
        let mut log_constant = 0.0;
        for (i, f) in g.factors.iter().enumerate() {
            let entries: &[Entry] = &f.entries;
            if entries.iter().any(|e| matches!(e, Entry::Density { .. })) {
                return Err(Unfit);
            }
            match f.scope.as_slice() {
                [] => observed.push(entries),
                [v] => match constant(entries) {
                    Some(w) => log_constant += w.ln(),
                    None => unary.push((*v, i as u32)),
                },
                _ => return Err(Unfit),
            }
        }
        unary.sort_by_key(|(v, _)| *v);
        let first_var = self.kernel.vars.len();
        let first_entry = self.kernel.index.len();
        let mut next = unary.iter().peekable();
        for (v, var) in g.vars.iter().enumerate() {
            let mut factors = 0;
            while let Some((_, f)) = next.next_if(|(w, _)| *w as usize == v) {
                self.push_table(&g.factors[*f as usize].entries);
                factors += 1;
            }
            // A variable whose tables are all 1 (it has no factor but its uniform draw) still
            // gets one table, so that its posterior and decoding are defined.
            if factors == 0 {
                let one = self.entry_index(Entry::Fixed(1.0));
                let card = var.card as usize;
                self.kernel.index.extend(std::iter::repeat_n(one, card));
                factors = 1;
            }
            self.kernel.vars.push(Var {
                card: var.card,
                factors,
            });
        }
        for table in observed {
            self.push_table(table);
            self.kernel.vars.push(Var {
                card: 1,
                factors: 1,
            });
        }
        let kern = &mut self.kernel;
        let first_decoded = kern.decoding.len();
        for v in &g.vars {
            match kern.decoding[first_decoded..].last_mut() {
                Some(run) if run.extends_to(v.origin, v.domain) => run.len += 1,
                _ => kern.decoding.push(Run {
                    origin: v.origin,
                    domain: v.domain,
                    len: 1,
                }),
            }
        }
        kern.instances.push(Instance {
            line: g.line,
            weight: g.weight,
            vars: first_var..kern.vars.len(),
            hidden: g.vars.len(),
            decoding: first_decoded..kern.decoding.len(),
            entries: first_entry..kern.index.len(),
            log_constant,
        });
        Ok(())
    }

    fn push_table(&mut self, table: &[Entry]) {
        for e in table {
            let i = self.entry_index(*e);
            self.kernel.index.push(i);
        }
    }

    fn entry_index(&mut self, e: Entry) -> u32 {
        match e {
            Entry::Param(k) => k,
            Entry::Fixed(w) => {
                let kern = &mut self.kernel;
                let id = *self.fixed_ids.entry(w.to_bits()).or_insert_with(|| {
                    kern.fixed.push(w);
                    kern.fixed.len() as u32 - 1
                });
                Building::fixed(id)
            }
            Entry::Density { .. } => unreachable!("densities are refused in `add`"),
        }
    }

    /// Appends what another builder compiled (the data after this builder's). Unplaced
    /// entries are taken as they are: both builders must number discovered entries alike.
    pub fn absorb(&mut self, other: Builder) {
        let o = other.kernel;
        let fixed: Vec<u32> = o
            .fixed
            .iter()
            .map(|w| self.entry_index(Entry::Fixed(*w)))
            .collect();
        let kern = &mut self.kernel;
        let (base_var, base_entry, base_decoded) =
            (kern.vars.len(), kern.index.len(), kern.decoding.len());
        kern.decoding.extend(o.decoding);
        kern.index
            .extend(o.index.iter().map(|i| match Building::kind(*i) {
                Building::Fixed(n) => fixed[n as usize],
                Building::Param | Building::Unplaced(_) => *i,
            }));
        kern.vars.extend(o.vars);
        kern.instances
            .extend(o.instances.into_iter().map(|i| Instance {
                vars: i.vars.start + base_var..i.vars.end + base_var,
                entries: i.entries.start + base_entry..i.entries.end + base_entry,
                decoding: i.decoding.start + base_decoded..i.decoding.end + base_decoded,
                ..i
            }));
    }

    /// The kernel over a parameter vector of `params` entries.
    pub fn finish(self, params: usize) -> IndependentKernel {
        let mut kern = self.kernel;
        kern.params = params;
        for i in &mut kern.index {
            match Building::kind(*i) {
                Building::Param => {}
                Building::Fixed(n) => *i = params as u32 + n,
                // Only an `UnplacedBuilder` is fed unplaced entries, and it becomes a
                // `Builder` by placing them.
                Building::Unplaced(_) => unreachable!("every entry is placed before `finish`"),
            }
        }
        let mut start = 0;
        for (i, inst) in kern.instances.iter().enumerate() {
            if inst.entries.end - kern.instances[start].entries.start >= CHUNK_ENTRIES {
                kern.chunks.push(start..i + 1);
                start = i + 1;
            }
        }
        if start < kern.instances.len() {
            kern.chunks.push(start..kern.instances.len());
        }
        let mut uses = vec![0u32; kern.params];
        for i in &kern.index {
            if let Some(n) = uses.get_mut(*i as usize) {
                *n += 1;
            }
        }
        let total: u64 = uses.iter().map(|n| *n as u64).sum();
        kern.parts = vec![0; PARTS + 1];
        let (mut part, mut seen) = (1, 0u64);
        for (k, n) in uses.iter().enumerate() {
            while part < PARTS && seen >= total * part as u64 / PARTS as u64 {
                kern.parts[part] = k;
                part += 1;
            }
            seen += *n as u64;
        }
        for p in &mut kern.parts[part..] {
            *p = kern.params;
        }
        let zeros = |n: usize| Mutex::new((0..n).map(|_| AtomicU64::new(0)).collect());
        kern.handoff = if kern.vars.iter().all(|v| v.factors == 1) {
            Handoff::PerVariable(zeros(kern.vars.len()))
        } else {
            Handoff::PerEntry(zeros(kern.index.len()))
        };
        kern
    }
}

/// Compiles instances unrolled while discovering supports, whose sparse entries are numbered
/// as discovered; placing them gives a [`Builder`], so no kernel is finished with an entry
/// unplaced.
pub struct UnplacedBuilder(Builder);

impl UnplacedBuilder {
    pub fn new() -> UnplacedBuilder {
        UnplacedBuilder(Builder::new())
    }

    pub fn add(&mut self, g: &UnplacedGraph) -> Result<(), Unfit> {
        self.0.add(g.with_unplaced_entries())
    }

    /// Numbers discovered entry `n` as `numbers[n]` instead: from a shard's numbering to the
    /// whole data's.
    pub fn renumber(&mut self, numbers: &[u32]) {
        self.map_unplaced(|n| UNPLACED | numbers[n as usize]);
    }

    /// Appends what another builder compiled (the data after this one's), numbered alike.
    pub fn absorb(&mut self, other: UnplacedBuilder) {
        self.0.absorb(other.0);
    }

    /// Reserves room for `instances` instances in all, at this builder's sizes per instance.
    /// Growing to the whole data otherwise copies arrays of tens of megabytes, and the
    /// allocator keeps what they leave behind (IBM Model 1 on the Hansards: 7.1M entries).
    /// An estimate too large costs address space, not memory: pages never written are never
    /// backed.
    pub fn reserve_for(&mut self, instances: usize) {
        let k = &mut self.0.kernel;
        let have = k.instances.len().max(1);
        // A tenth more than the part seen predicts, for lines longer than those.
        let ratio = 1.1 * instances as f64 / have as f64;
        let more = |len: usize| ((len as f64 * ratio) as usize).saturating_sub(len);
        k.index.reserve(more(k.index.len()));
        k.vars.reserve(more(k.vars.len()));
        k.decoding.reserve(more(k.decoding.len()));
        k.instances.reserve(more(k.instances.len()));
    }

    /// Gives each discovered entry `n` its parameter index `placed[n]`.
    pub fn place(self, placed: &[u32]) -> Builder {
        self.place_by(|n| placed[n as usize])
    }

    /// Gives each discovered entry `n` its parameter index `place(n)`.
    pub fn place_by(mut self, place: impl Fn(u32) -> u32) -> Builder {
        self.map_unplaced(place);
        self.0
    }

    /// The number of every discovered entry it holds, once per use.
    pub fn unplaced(&self) -> impl Iterator<Item = u32> + '_ {
        self.0
            .kernel
            .index
            .iter()
            .filter_map(|i| match Building::kind(*i) {
                Building::Unplaced(n) => Some(n),
                _ => None,
            })
    }

    fn map_unplaced(&mut self, f: impl Fn(u32) -> u32) {
        for i in &mut self.0.kernel.index {
            if let Building::Unplaced(n) = Building::kind(*i) {
                *i = f(n);
            }
        }
    }
}

/// The weight of a table that has one fixed, non-zero weight throughout.
fn constant(entries: &[Entry]) -> Option<f64> {
    match entries.first() {
        Some(Entry::Fixed(w)) if *w > 0.0 && entries.iter().all(|e| *e == Entry::Fixed(*w)) => {
            Some(*w)
        }
        _ => None,
    }
}

/// What one unit of work found besides the posteriors.
#[derive(Default)]
struct Partial {
    log_likelihood: f64,
    instances: usize,
    skipped: Vec<usize>,
}

impl IndependentKernel {
    /// Instances compiled, entries per E-step.
    pub fn size(&self) -> (usize, usize) {
        (self.instances.len(), self.index.len())
    }

    /// Expected counts and log-likelihood over all instances. `skip` leaves zero-probability
    /// instances out (reported in `skipped`) instead of failing on the first.
    pub fn e_step(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        skip: bool,
    ) -> Result<CountStore, Zero> {
        let values = self.values(theta);
        let written = self.written();
        let mut store = CountStore::new(self.params);
        self.count(&values, &written, pool, skip, 0..self.units(), |p| {
            absorb(&mut store, p.log_likelihood, p.instances, &p.skipped)
        })?;
        self.gather(&values, &written, pool, &mut store);
        Ok(store)
    }

    /// Units of work, fixed by the data.
    pub fn units(&self) -> usize {
        self.chunks.len()
    }

    /// Coordinates of a unit's counts: where its posteriors are written (per variable or per
    /// entry; see `Handoff`).
    pub fn coordinates(&self) -> usize {
        self.written().len()
    }

    /// Each unit's counts of `units`, unmerged: the posteriors it wrote, read back.
    pub fn count_units(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
    ) -> Result<Vec<UnitCounts>, Zero> {
        let values = self.values(theta);
        let written = self.written();
        let mut out = Vec::with_capacity(units.len());
        self.count(&values, &written, pool, skip, units.clone(), |p| {
            out.push(UnitCounts {
                log_likelihood: p.log_likelihood,
                instances: p.instances as u64,
                lines: p.skipped.iter().map(|l| *l as u64).collect(),
                ..UnitCounts::default()
            })
        })?;
        let read = |at: usize| {
            written
                .get(at)
                .map(|x| f64::from_bits(x.load(Ordering::Relaxed)))
        };
        for (unit, chunk) in out.iter_mut().zip(&self.chunks[units]) {
            let (first, last) = (&self.instances[chunk.start], &self.instances[chunk.end - 1]);
            let (written, per_entry) = match &self.handoff {
                Handoff::PerVariable(_) => (first.vars.start..last.vars.end, false),
                Handoff::PerEntry(_) => (first.entries.start..last.entries.end, true),
            };
            for at in written {
                // A fixed weight's posterior is written but never counted.
                if per_entry && self.index[at] as usize >= self.params {
                    continue;
                }
                if let Some(x) = read(at).filter(|x| *x != 0.0) {
                    unit.values.push((at as u64, x));
                }
            }
        }
        Ok(out)
    }

    /// Merges every unit's counts (all of them, in unit order) as `e_step` merges its own.
    pub fn finish(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        units: &[UnitCounts],
    ) -> CountStore {
        let values = self.values(theta);
        let written = self.written();
        written.iter().for_each(|x| x.store(0, Ordering::Relaxed));
        let mut store = CountStore::new(self.params);
        for unit in units {
            for (at, x) in unit.entries() {
                if let Some(p) = written.get(at as usize) {
                    p.store(x.to_bits(), Ordering::Relaxed);
                }
            }
            let skipped: Vec<usize> = unit.lines.iter().map(|l| *l as usize).collect();
            absorb(
                &mut store,
                unit.log_likelihood,
                unit.instances as usize,
                &skipped,
            );
        }
        self.gather(&values, &written, pool, &mut store);
        store
    }

    /// The array the posteriors are handed over in, held for one E-step.
    fn written(&self) -> std::sync::MutexGuard<'_, Vec<AtomicU64>> {
        match &self.handoff {
            Handoff::PerVariable(scales) => scales,
            Handoff::PerEntry(posteriors) => posteriors,
        }
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Runs `units`, writing their posteriors, and hands what else each found to `merge` in
    /// unit order.
    fn count(
        &self,
        values: &[f64],
        written: &[AtomicU64],
        pool: &rayon::ThreadPool,
        skip: bool,
        units: Range<usize>,
        mut merge: impl FnMut(&Partial) + Send,
    ) -> Result<(), Zero> {
        map_merge_in_order(
            pool,
            units.len(),
            || (),
            |i, _, _| self.run_chunk(self.chunks[units.start + i].clone(), values, written, skip),
            |p| {
                merge(&p);
                None
            },
        )
    }

    /// Every parameter's count from the posteriors written. Each thread scans every entry in
    /// data order and adds those of its own run of parameters, so each count sums its
    /// entries in data order whatever the thread count (and no index from parameters to
    /// entries is kept: on IBM Model 1 it would be as large as the entries themselves).
    fn gather(
        &self,
        values: &[f64],
        written: &[AtomicU64],
        pool: &rayon::ThreadPool,
        store: &mut CountStore,
    ) {
        let threads = pool.current_num_threads().clamp(1, PARTS);
        let mut rest = &mut store.expected[..self.params];
        let mut runs = Vec::with_capacity(threads);
        for t in 0..threads {
            let first = self.parts[t * PARTS / threads];
            let end = self.parts[(t + 1) * PARTS / threads];
            let (mine, after) = std::mem::take(&mut rest).split_at_mut(end - first);
            runs.push((first, mine));
            rest = after;
        }
        pool.install(|| {
            runs.into_par_iter()
                .for_each(|(first, counts)| self.gather_counts(first, values, written, counts))
        });
    }

    /// The most probable value of every hidden variable, per instance, handed to `line` as
    /// each instance is decoded: what it makes of them is kept, not the values (IBM Model 1
    /// on the Hansards decodes 586k variables).
    pub fn map<R: Send>(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        line: impl Fn(&[Decoded]) -> R + Sync,
    ) -> Vec<R> {
        let values = self.values(theta);
        pool.install(|| {
            self.instances
                .par_iter()
                .map_init(
                    || (Vec::new(), Vec::new()),
                    |(w, decoded), inst| {
                        decoded.clear();
                        let vars = self.vars_of(inst).take(inst.hidden);
                        let runs = self.decoding[inst.decoding.clone()].iter();
                        for ((_, var, start), (origin, domain)) in
                            vars.zip(runs.flat_map(Run::vars))
                        {
                            self.product(var, start, &values, w);
                            decoded.push((origin, domain, argmax(w)));
                        }
                        line(decoded)
                    },
                )
                .collect()
        })
    }

    /// The parameters, then the fixed weights: what every entry indexes.
    /// Borrowed when there is no fixed weight (IBM Model 1), rather than a copy of every
    /// parameter per E-step.
    fn values<'a>(&self, theta: &'a [f64]) -> Cow<'a, [f64]> {
        if self.fixed.is_empty() {
            return Cow::Borrowed(&theta[..self.params]);
        }
        let mut values = Vec::with_capacity(self.params + self.fixed.len());
        values.extend_from_slice(&theta[..self.params]);
        values.extend_from_slice(&self.fixed);
        Cow::Owned(values)
    }

    /// Runs instances `chunk`, writing into `written` what `handoff` says.
    fn run_chunk(
        &self,
        chunk: Range<usize>,
        values: &[f64],
        written: &[AtomicU64],
        skip: bool,
    ) -> Result<Partial, Zero> {
        let per_entry = matches!(self.handoff, Handoff::PerEntry(_));
        let write = |at: usize, x: f64| {
            if let Some(p) = written.get(at) {
                p.store(x.to_bits(), Ordering::Relaxed);
            }
        };
        let mut partial = Partial::default();
        let mut w = Vec::new();
        for inst in &self.instances[chunk] {
            let mut log_z = inst.log_constant;
            let mut zero = false;
            for (v, var, start) in self.vars_of(inst) {
                let log_scale = self.product(var, start, values, &mut w);
                let z: f64 = w.iter().sum();
                if !(z > 0.0 && z.is_finite()) {
                    zero = true;
                    break;
                }
                log_z += z.ln() + log_scale;
                let scale = inst.weight / z;
                if !per_entry {
                    write(v, scale);
                    continue;
                }
                let card = var.card as usize;
                for table in 0..var.factors as usize {
                    let first = start + table * card;
                    for (a, x) in w.iter().enumerate() {
                        write(first + a, x * scale);
                    }
                }
            }
            if zero {
                if !skip {
                    return Err(Zero(inst.line));
                }
                match per_entry {
                    false => inst.vars.clone().for_each(|v| write(v, 0.0)),
                    true => inst.entries.clone().for_each(|e| write(e, 0.0)),
                }
                partial.skipped.push(inst.line);
                continue;
            }
            partial.log_likelihood += inst.weight * log_z;
            partial.instances += 1;
        }
        Ok(partial)
    }

    /// `len` entries `ENTRIES_AHEAD` after `start` (fewer at the end): the parameters a few
    /// variables on, fetched while this one is computed. A variable's entries are scattered
    /// over the parameters (IBM Model 1: one translation row per word of the pair).
    fn ahead(&self, start: usize, len: usize) -> &[u32] {
        let from = (start + ENTRIES_AHEAD).min(self.index.len());
        &self.index[from..(from + len).min(self.index.len())]
    }

    /// An instance's variables: the number of each, the variable, and where its tables start
    /// in `index`.
    fn vars_of<'a>(
        &'a self,
        inst: &Instance,
    ) -> impl Iterator<Item = (usize, &'a Var, usize)> + 'a {
        let mut start = inst.entries.start;
        inst.vars.clone().map(move |v| {
            let var = &self.vars[v];
            start += var.len();
            (v, var, start - var.len())
        })
    }

    /// The product of a variable's tables (from `start` in `index`) into `w`, and the log of
    /// the scale divided out to keep it from underflowing.
    fn product(&self, var: &Var, start: usize, values: &[f64], w: &mut Vec<f64>) -> f64 {
        let card = var.card as usize;
        prefetch_indexed(self.ahead(start, var.len()), values.as_ptr());
        let tables = &self.index[start..start + var.len()];
        let mut tables = tables.chunks_exact(card);
        w.clear();
        if let Some(first) = tables.next() {
            w.extend(first.iter().map(|i| values[*i as usize]));
        }
        let mut log_scale = 0.0;
        for table in tables {
            let mut sum = 0.0;
            for (x, i) in w.iter_mut().zip(table) {
                *x *= values[*i as usize];
                sum += *x;
            }
            if sum > 0.0 && sum < TINY {
                w.iter_mut().for_each(|x| *x /= sum);
                log_scale += sum.ln();
            }
        }
        log_scale
    }

    /// Counts of parameters `first..first + counts.len()`, each summing its entries in data
    /// order. Fixed weights are indexed past every parameter, so never counted.
    fn gather_counts(
        &self,
        first: usize,
        values: &[f64],
        written: &[AtomicU64],
        counts: &mut [f64],
    ) {
        let read = |at: usize| f64::from_bits(written[at].load(Ordering::Relaxed));
        let n = counts.len();
        counts.fill(0.0);
        let base = counts.as_ptr().wrapping_sub(first);
        let mut add = |k: u32, x: f64| {
            if let Some(c) = counts.get_mut((k as usize).wrapping_sub(first)) {
                *c += x;
            }
        };
        match self.handoff {
            Handoff::PerVariable(_) => {
                let mut start = 0;
                for (v, var) in self.vars.iter().enumerate() {
                    let scale = read(v);
                    let card = var.card as usize;
                    prefetch_indexed(self.ahead(start, card), base);
                    let entries = &self.index[start..start + card];
                    entries.iter().for_each(|k| add(*k, scale));
                    start += var.len();
                }
                // An entry's posterior is its parameter times its variable's scale.
                for (c, theta) in counts.iter_mut().zip(&values[first..first + n]) {
                    *c *= theta;
                }
            }
            Handoff::PerEntry(_) => {
                for (e, k) in self.index.iter().enumerate() {
                    add(*k, read(e));
                }
            }
        }
    }
}

/// What a unit found besides its posteriors, added into the counts.
fn absorb(store: &mut CountStore, log_likelihood: f64, instances: usize, skipped: &[usize]) {
    store.log_likelihood += log_likelihood;
    store.instances += instances;
    store.skipped.extend_from_slice(skipped);
}

/// The first index of the largest value.
fn argmax(w: &[f64]) -> u32 {
    let mut best = 0;
    for (i, x) in w.iter().enumerate() {
        if *x > w[best] {
            best = i;
        }
    }
    best as u32
}
