//! The compiled kernel for chain plans (HMMs and their relatives). Every instance is unrolled
//! once, when the kernel is built, into a few integer ids per position: which product of unary
//! tables its state is scored by, and which product of pair tables links it to the previous
//! position. Tables are interned by content, so an HMM's emission tables become one per word
//! type. Each iteration then turns the parameters into dense per-table values once, and runs
//! forward-backward over batches of instances with equal length and equal pair tables, so that
//! each step is one matrix-matrix product (`gemm`) rather than one matrix-vector product per
//! instance.

use rustc_hash::FxHashMap as HashMap;
use std::borrow::Cow;
use std::ops::Range;
use std::rc::Rc;

use super::densities;
use super::gemm::{gemm_at_b_add, gemm_packed, Packed, View};
use super::ordered::map_merge_in_order;
use crate::density;
use crate::graph::{Entry, InstanceGraph};
use crate::infer::CountStore;

/// Instances per batch: enough rows for the matrix products to run near peak.
const BATCH: usize = 128;
/// Tokens per unit of parallel work, about. Units are fixed by the data, never by the thread
/// count, and their counts are summed in unit order, so results are identical for any
/// `--threads`.
const CHUNK_TOKENS: usize = 1 << 16;

/// Tables interned by content: `len` entries each, stored back to back.
struct Tables {
    len: usize,
    entries: Vec<Entry>,
    ids: HashMap<Vec<u64>, u32>,
}

impl Tables {
    fn new(len: usize) -> Tables {
        Tables {
            len,
            entries: Vec::new(),
            ids: HashMap::default(),
        }
    }

    fn intern(&mut self, entries: &[Entry]) -> u32 {
        let key = table_key(entries);
        let next = self.count() as u32;
        *self.ids.entry(key).or_insert_with(|| {
            self.entries.extend_from_slice(entries);
            next
        })
    }

    fn count(&self) -> usize {
        self.entries.len() / self.len.max(1)
    }

    fn table(&self, id: usize) -> &[Entry] {
        &self.entries[id * self.len..(id + 1) * self.len]
    }
}

/// A table's identity. Parameter tables are nearly always a run of the parameter vector with
/// a fixed stride (a row or a column of a family), which three numbers name; hashing those
/// instead of every entry is what keeps building the kernel cheap.
fn table_key(entries: &[Entry]) -> Vec<u64> {
    let params: Option<Vec<u32>> = entries
        .iter()
        .map(|e| match e {
            Entry::Param(k) => Some(*k),
            Entry::Fixed(_) | Entry::Density { .. } => None,
        })
        .collect();
    if let Some(ps) = params {
        if let [first, second, ..] = ps[..] {
            let stride = i64::from(second) - i64::from(first);
            let affine = ps
                .windows(2)
                .all(|w| i64::from(w[1]) - i64::from(w[0]) == stride);
            if affine {
                return vec![0, u64::from(first), stride as u64];
            }
        }
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

impl Default for Tables {
    fn default() -> Tables {
        Tables::new(0)
    }
}

/// Products of interned tables (the factors on one position or one edge), interned by the list
/// of their table ids.
#[derive(Default)]
struct Products {
    members: Vec<Vec<u32>>,
    ids: HashMap<Vec<u32>, u32>,
}

impl Products {
    fn intern(&mut self, tables: Vec<u32>) -> u32 {
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

/// Instances of one length whose edges carry the same pair products, run together.
struct Batch {
    len: usize,
    members: Vec<u32>,
    /// The pair product on the edge into position `t`, for `t` in `1..len`.
    pairs: Vec<u32>,
}

struct Instance {
    line: usize,
    weight: f64,
    /// This instance's unary product ids (one per position) in `ChainKernel::unary`.
    unary: Range<usize>,
    /// Its factors over no hidden variable, in `ChainKernel::constants`.
    constants: Range<usize>,
}

pub struct ChainKernel {
    /// States per position.
    k: usize,
    rows: Tables,
    pair_tables: Tables,
    unary_products: Products,
    pair_products: Products,
    instances: Vec<Instance>,
    unary: Vec<u32>,
    constants: Vec<Entry>,
    batches: Vec<Batch>,
    /// Consecutive batches counted as one unit of work.
    chunks: Vec<Range<usize>>,
    densities: Densities,
}

/// Gaussian draws per position: which rows score the state (a row set, interned like a
/// table) and which observation they score. Their values change with every M-step, so they
/// are computed as the batch runs.
#[derive(Default)]
struct Densities {
    /// Entries `Density { row, obs: 0 }` per state.
    rowsets: Tables,
    /// Per global position, its densities in `list` (`start[p]..start[p + 1]`).
    start: Vec<u32>,
    /// (row set, observation).
    list: Vec<(u32, u32)>,
    /// Observations back to back; observation `i` is `values[at[i]..at[i + 1]]`.
    values: Vec<f64>,
    at: Vec<u32>,
}

impl Densities {
    fn observation(&self, i: u32) -> &[f64] {
        &self.values[self.at[i as usize] as usize..self.at[i as usize + 1] as usize]
    }

    fn at_position(&self, p: usize) -> &[(u32, u32)] {
        if self.list.is_empty() {
            return &[];
        }
        &self.list[self.start[p] as usize..self.start[p + 1] as usize]
    }
}

/// Tables met before while building one shard, by identity: the unroller shares a table
/// among all the factors that have it (every transition of an HMM), so interning each such
/// table once per shard, not once per position, saves hashing thousands of entries per token.
/// Holding the tables keeps their addresses from being reused.
#[derive(Default)]
pub struct Seen(HashMap<TableAddress, (Rc<[Entry]>, u32)>);

/// Where a shared table lives and how long it is.
type TableAddress = (usize, usize);

impl Seen {
    fn intern(&mut self, tables: &mut Tables, entries: &Rc<[Entry]>) -> u32 {
        // Rows and pair tables have different lengths, so the key tells them apart.
        let key = (Rc::as_ptr(entries) as *const Entry as usize, entries.len());
        if let Some((_, id)) = self.0.get(&key) {
            return *id;
        }
        let id = tables.intern(entries);
        self.0.insert(key, (entries.clone(), id));
        id
    }
}

/// Why an instance graph does not fit the kernel; the caller falls back to the generic path.
pub struct Unfit;

/// Builds the kernel from unrolled instances, in data order.
pub struct Builder {
    kernel: ChainKernel,
    groups: HashMap<(usize, Vec<u32>), usize>,
    group_members: Vec<Vec<u32>>,
    group_keys: Vec<(usize, Vec<u32>)>,
}

impl Builder {
    pub fn new() -> Builder {
        Builder {
            kernel: ChainKernel {
                k: 0,
                rows: Tables::new(0),
                pair_tables: Tables::new(0),
                unary_products: Products::default(),
                pair_products: Products::default(),
                instances: Vec::new(),
                unary: Vec::new(),
                constants: Vec::new(),
                batches: Vec::new(),
                chunks: Vec::new(),
                densities: Densities {
                    start: vec![0],
                    at: vec![0],
                    ..Densities::default()
                },
            },
            groups: HashMap::default(),
            group_members: Vec::new(),
            group_keys: Vec::new(),
        }
    }

    /// Fixes the number of states per position; every instance must agree.
    fn set_k(&mut self, k: usize) -> Result<(), Unfit> {
        let kern = &mut self.kernel;
        if kern.k == 0 {
            kern.k = k;
            kern.rows = Tables::new(k);
            kern.pair_tables = Tables::new(k * k);
            kern.densities.rowsets = Tables::new(k);
        }
        if kern.k == k {
            Ok(())
        } else {
            Err(Unfit)
        }
    }

    pub fn add(&mut self, g: &InstanceGraph, seen: &mut Seen) -> Result<(), Unfit> {
        for v in &g.vars {
            self.set_k(v.card as usize)?;
        }
        let kern = &mut self.kernel;
        let n = g.vars.len();
        let mut unary: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut pairs: Vec<Vec<u32>> = vec![Vec::new(); n];
        let mut densities: Vec<Vec<(u32, u32)>> = vec![Vec::new(); n];
        let first_constant = kern.constants.len();
        let first_observation = kern.densities.at.len() as u32 - 1;
        for f in &g.factors {
            let density = match f.entries.first() {
                Some(Entry::Density { obs, .. }) => Some(*obs),
                _ => None,
            };
            match (f.scope.as_slice(), density) {
                ([v], Some(obs)) => {
                    let rows: Vec<Entry> = f
                        .entries
                        .iter()
                        .map(|e| match e {
                            Entry::Density { row, .. } => Entry::Density { row: *row, obs: 0 },
                            other => *other,
                        })
                        .collect();
                    let set = kern.densities.rowsets.intern(&rows);
                    densities[*v as usize].push((set, first_observation + obs));
                }
                // A density over no hidden variable or over two: the general path.
                (_, Some(_)) => return Err(Unfit),
                ([], None) => kern.constants.push(f.entries[0]),
                ([v], None) => unary[*v as usize].push(seen.intern(&mut kern.rows, &f.entries)),
                ([a, b], None) if *b == *a + 1 => {
                    pairs[*b as usize].push(seen.intern(&mut kern.pair_tables, &f.entries))
                }
                _ => return Err(Unfit),
            }
        }
        let d = &mut kern.densities;
        for x in &g.observations {
            d.values.extend_from_slice(x);
            d.at.push(d.values.len() as u32);
        }
        for list in densities {
            d.list.extend(list);
            d.start.push(d.list.len() as u32);
        }
        let first_unary = kern.unary.len();
        for u in unary {
            kern.unary.push(kern.unary_products.intern(u));
        }
        let pair_ids: Vec<u32> = pairs
            .into_iter()
            .skip(1)
            .map(|p| kern.pair_products.intern(p))
            .collect();
        let id = kern.instances.len() as u32;
        kern.instances.push(Instance {
            line: g.line,
            weight: g.weight,
            unary: first_unary..kern.unary.len(),
            constants: first_constant..kern.constants.len(),
        });
        self.join_group((n, pair_ids), id);
        Ok(())
    }

    fn join_group(&mut self, key: (usize, Vec<u32>), id: u32) {
        let group = match self.groups.get(&key) {
            Some(gr) => *gr,
            None => {
                self.groups.insert(key.clone(), self.group_members.len());
                self.group_members.push(Vec::new());
                self.group_keys.push(key);
                self.group_members.len() - 1
            }
        };
        self.group_members[group].push(id);
    }

    /// Appends the instances another builder compiled (the data after this builder's), so
    /// that shards of the data can be compiled in parallel. Absorbing shards in data order
    /// gives the same kernel as adding every instance here.
    pub fn absorb(&mut self, other: Builder) -> Result<(), Unfit> {
        let o = other.kernel;
        if o.k != 0 {
            self.set_k(o.k)?;
        }
        let kern = &mut self.kernel;
        let rows: Vec<u32> = (0..o.rows.count())
            .map(|t| kern.rows.intern(o.rows.table(t)))
            .collect();
        let pair_tables: Vec<u32> = (0..o.pair_tables.count())
            .map(|t| kern.pair_tables.intern(o.pair_tables.table(t)))
            .collect();
        let remap = |products: &mut Products, members: &[Vec<u32>], tables: &[u32]| -> Vec<u32> {
            members
                .iter()
                .map(|m| products.intern(m.iter().map(|t| tables[*t as usize]).collect()))
                .collect()
        };
        let unary = remap(&mut kern.unary_products, &o.unary_products.members, &rows);
        let pairs = remap(
            &mut kern.pair_products,
            &o.pair_products.members,
            &pair_tables,
        );
        let (base_instance, base_unary, base_constant) = (
            kern.instances.len() as u32,
            kern.unary.len(),
            kern.constants.len(),
        );
        kern.unary
            .extend(o.unary.iter().map(|u| unary[*u as usize]));
        let od = o.densities;
        let sets: Vec<u32> = (0..od.rowsets.count())
            .map(|t| kern.densities.rowsets.intern(od.rowsets.table(t)))
            .collect();
        let d = &mut kern.densities;
        let (base_obs, base_list, base_values) = (
            d.at.len() as u32 - 1,
            d.list.len() as u32,
            d.values.len() as u32,
        );
        d.list.extend(
            od.list
                .iter()
                .map(|(s, x)| (sets[*s as usize], x + base_obs)),
        );
        d.start.extend(od.start[1..].iter().map(|p| p + base_list));
        d.values.extend_from_slice(&od.values);
        d.at.extend(od.at[1..].iter().map(|a| a + base_values));
        kern.constants.extend_from_slice(&o.constants);
        kern.instances
            .extend(o.instances.into_iter().map(|i| Instance {
                unary: i.unary.start + base_unary..i.unary.end + base_unary,
                constants: i.constants.start + base_constant..i.constants.end + base_constant,
                ..i
            }));
        for ((n, key), members) in other.group_keys.into_iter().zip(other.group_members) {
            let key: Vec<u32> = key.iter().map(|p| pairs[*p as usize]).collect();
            for m in members {
                self.join_group((n, key.clone()), m + base_instance);
            }
        }
        Ok(())
    }

    pub fn finish(self) -> ChainKernel {
        let mut kern = self.kernel;
        for ((len, pairs), members) in self.group_keys.into_iter().zip(self.group_members) {
            for batch in members.chunks(BATCH) {
                kern.batches.push(Batch {
                    len,
                    members: batch.to_vec(),
                    pairs: pairs.clone(),
                });
            }
        }
        // Units of about `CHUNK_TOKENS`, all of about the same size and a multiple of four of
        // them: threads take units as they come free, so a last unit much shorter than the
        // others would leave all threads but one idle at the end of every E-step.
        let tokens = |b: &Batch| b.len.max(1) * b.members.len();
        let total: usize = kern.batches.iter().map(tokens).sum();
        let mut units = total.div_ceil(CHUNK_TOKENS).max(1);
        if units > 1 {
            units = units.next_multiple_of(4);
        }
        let (mut done, mut start) = (0, 0);
        for (i, batch) in kern.batches.iter().enumerate() {
            done += tokens(batch);
            if done * units >= (kern.chunks.len() + 1) * total {
                kern.chunks.push(start..i + 1);
                start = i + 1;
            }
        }
        if start < kern.batches.len() {
            kern.chunks.push(start..kern.batches.len());
        }
        kern
    }
}

/// The parameters as dense values, once per iteration: each product scaled to a maximum of 1,
/// with the log of the scale kept apart, so that no table underflows.
struct Values {
    unary: Vec<f64>,
    unary_log: Vec<f64>,
    pair: Vec<f64>,
    pair_log: Vec<f64>,
    /// Each pair product and its transpose, packed for the forward and backward products.
    pair_packed: Vec<Packed>,
    pair_packed_t: Vec<Packed>,
    /// `L^{-1}` of every Gaussian row scored in batches, by the row's index in theta.
    inverses: HashMap<u32, Vec<f64>>,
}

/// From this dimension on, a batch's densities and statistics go through matrix products
/// (below it the per-point loops are faster than the products' overhead).
const BATCHED_DIM: usize = 4;

fn value(e: Entry, theta: &[f64]) -> f64 {
    match e {
        Entry::Param(p) => theta[p as usize],
        Entry::Fixed(w) => w,
        Entry::Density { .. } => {
            unreachable!("instances with densities do not fit the chain kernel")
        }
    }
}

fn products(tables: &Tables, products: &Products, theta: &[f64]) -> (Vec<f64>, Vec<f64>) {
    let len = tables.len;
    let mut vals = vec![1.0; products.members.len() * len];
    let mut logs = vec![0.0; products.members.len()];
    for ((out, log), members) in vals
        .chunks_exact_mut(len.max(1))
        .zip(&mut logs)
        .zip(&products.members)
    {
        for t in members {
            for (o, e) in out.iter_mut().zip(tables.table(*t as usize)) {
                *o *= value(*e, theta);
            }
        }
        let m = out.iter().copied().fold(0.0, f64::max);
        if m > 0.0 {
            out.iter_mut().for_each(|o| *o /= m);
        }
        *log = m.ln();
    }
    (vals, logs)
}

/// One unit's counts, in the kernel's own coordinates until `ChainKernel::scatter_counts`.
struct Acc {
    /// Posterior state mass per unary product.
    unary: Vec<f64>,
    /// Per pair product, the sum of `alpha_{t-1}^T w_t`; times the table it is the edge mass.
    pair: Vec<f64>,
    constants: Vec<(u32, f64)>,
    /// Gaussian sufficient statistics, indexed like the parameters (empty without densities).
    stats: Vec<f64>,
    log_likelihood: f64,
    instances: usize,
    skipped: Vec<usize>,
}

impl Acc {
    /// Back to no counts, keeping the memory (a unit's tables are large: one row per word
    /// type for an HMM).
    fn reset(&mut self) {
        self.unary.fill(0.0);
        self.pair.fill(0.0);
        self.constants.clear();
        self.stats.fill(0.0);
        self.log_likelihood = 0.0;
        self.instances = 0;
        self.skipped.clear();
    }

    fn merge(&mut self, other: &Acc) {
        self.unary
            .iter_mut()
            .zip(&other.unary)
            .for_each(|(a, b)| *a += b);
        self.pair
            .iter_mut()
            .zip(&other.pair)
            .for_each(|(a, b)| *a += b);
        self.constants.extend_from_slice(&other.constants);
        self.stats
            .iter_mut()
            .zip(&other.stats)
            .for_each(|(a, b)| *a += b);
        self.log_likelihood += other.log_likelihood;
        self.instances += other.instances;
        self.skipped.extend_from_slice(&other.skipped);
    }
}

/// An instance with probability zero, by data line.
pub struct Zero(pub usize);

/// Working memory for one batch, reused across the batches of a unit.
#[derive(Default)]
struct Scratch {
    alpha: Vec<f64>,
    /// Unary values per position and row, densities included.
    u: Vec<f64>,
    /// A batch's observations at one position (rows), their log densities and state
    /// posteriors (rows by state), and room for the products.
    x: Vec<f64>,
    ld: Vec<f64>,
    g: Vec<f64>,
    y: Vec<f64>,
    scale: Vec<f64>,
    beta: Vec<f64>,
    w: Vec<f64>,
    weighted: Vec<f64>,
    /// Per member: where its positions start in `ChainKernel::unary`, its weight and its log
    /// Z so far.
    starts: Vec<usize>,
    weights: Vec<f64>,
    log_z: Vec<f64>,
    /// The unary product of every position and member, position-major: gathered once per
    /// batch, so that the steps read them in order instead of through each instance.
    ids: Vec<u32>,
    log_density: Vec<f64>,
}

impl ChainKernel {
    pub fn tokens(&self) -> usize {
        self.unary.len()
    }

    /// Expected counts and log-likelihood over all instances. `skip` leaves zero-probability
    /// instances out (reported in `skipped`) instead of failing on the first.
    pub fn e_step(
        &self,
        theta: &[f64],
        params: usize,
        pool: &rayon::ThreadPool,
        skip: bool,
    ) -> Result<CountStore, Zero> {
        let (unary, unary_log) = products(&self.rows, &self.unary_products, theta);
        let (pair, pair_log) = products(&self.pair_tables, &self.pair_products, theta);
        let k = self.k;
        let table = |p: usize| View::new(&pair[p * k * k..(p + 1) * k * k], k, k);
        let pairs = 0..self.pair_products.members.len();
        let pair_packed = pairs.clone().map(|p| Packed::new(table(p))).collect();
        let pair_packed_t = pairs.map(|p| Packed::new(table(p).t())).collect();
        let values = Values {
            unary,
            unary_log,
            pair,
            pair_log,
            pair_packed,
            pair_packed_t,
            inverses: self.inverses(theta),
        };
        // Each unit's count tables are large (a row per word type for an HMM), so merged
        // tables go back to the scheduler to count a later unit in.
        let mut total = self.empty_acc(params);
        map_merge_in_order(
            pool,
            self.chunks.len(),
            Scratch::default,
            |unit, scratch, spare| {
                let mut acc = spare.unwrap_or_else(|| self.empty_acc(params));
                let chunk = self.chunks[unit].clone();
                self.run_chunk(chunk, &values, theta, skip, &mut acc, scratch)
                    .map(|()| acc)
            },
            |acc| {
                total.merge(&acc);
                Some(acc)
            },
        )?;
        Ok(self.scatter_counts(total, &values, params))
    }

    /// `L^{-1}` for the rows of every row set of dimension `BATCHED_DIM` or more.
    fn inverses(&self, theta: &[f64]) -> HashMap<u32, Vec<f64>> {
        let d = &self.densities;
        let mut out = HashMap::default();
        for (set, obs) in &d.list {
            let dim = d.observation(*obs).len();
            if dim < BATCHED_DIM {
                continue;
            }
            for e in d.rowsets.table(*set as usize) {
                if let Entry::Density { row, .. } = e {
                    out.entry(*row).or_insert_with(|| {
                        densities::inverse_factor(&density::row(&theta[*row as usize..], dim))
                    });
                }
            }
        }
        out
    }

    /// The row set scoring position `t` of every member, when each has exactly one density
    /// there, all from the same row set, of a dimension worth batching, with no missing
    /// coordinate.
    fn batched_set(&self, starts: &[usize], t: usize) -> Option<(u32, usize)> {
        let d = &self.densities;
        let mut found: Option<(u32, usize)> = None;
        for start in starts {
            let [(set, obs)] = d.at_position(start + t) else {
                return None;
            };
            let x = d.observation(*obs);
            if x.len() < BATCHED_DIM || x.iter().any(|v| v.is_nan()) {
                return None;
            }
            match found {
                None => found = Some((*set, x.len())),
                Some((s, _)) if s != *set => return None,
                _ => {}
            }
        }
        found
    }

    /// The members' observations at position `t`, one row each.
    fn gather(&self, starts: &[usize], t: usize, dim: usize, out: &mut Vec<f64>) {
        out.clear();
        out.reserve(starts.len() * dim);
        for start in starts {
            let (_, obs) = self.densities.at_position(start + t)[0];
            out.extend_from_slice(self.densities.observation(obs));
        }
    }

    fn empty_acc(&self, params: usize) -> Acc {
        Acc {
            unary: vec![0.0; self.unary_products.members.len() * self.k],
            pair: vec![0.0; self.pair_products.members.len() * self.k * self.k],
            constants: Vec::new(),
            stats: if self.densities.list.is_empty() {
                Vec::new()
            } else {
                vec![0.0; params]
            },
            log_likelihood: 0.0,
            instances: 0,
            skipped: Vec::new(),
        }
    }

    fn run_chunk(
        &self,
        chunk: Range<usize>,
        values: &Values,
        theta: &[f64],
        skip: bool,
        acc: &mut Acc,
        scratch: &mut Scratch,
    ) -> Result<(), Zero> {
        acc.reset();
        for batch in &self.batches[chunk] {
            let mut members = Cow::Borrowed(&batch.members[..]);
            loop {
                let dead = self.run_batch(batch, &members, values, theta, acc, scratch);
                if dead.is_empty() {
                    break;
                }
                let lines = dead.iter().map(|i| self.instances[*i as usize].line);
                if !skip {
                    return Err(Zero(lines.min().unwrap_or(0)));
                }
                acc.skipped.extend(lines);
                members.to_mut().retain(|m| !dead.contains(m));
            }
        }
        Ok(())
    }

    /// Forward-backward over `members` (all of `batch`'s shape). Returns the members with
    /// probability zero, having counted nothing, or counts them all and returns none.
    fn run_batch(
        &self,
        batch: &Batch,
        members: &[u32],
        values: &Values,
        theta: &[f64],
        acc: &mut Acc,
        s: &mut Scratch,
    ) -> Vec<u32> {
        let (k, n, rows) = (self.k, batch.len, members.len());
        let bk = rows * k;
        let Scratch {
            alpha,
            u: unary_values,
            x,
            ld,
            g,
            y,
            scale,
            beta,
            w,
            weighted,
            starts,
            weights,
            log_z,
            ids,
            log_density,
        } = s;
        starts.clear();
        weights.clear();
        log_z.clear();
        ids.resize(n * rows, 0);
        for (b, m) in members.iter().enumerate() {
            let i = &self.instances[*m as usize];
            starts.push(i.unary.start);
            weights.push(i.weight);
            log_z.push(
                self.constants[i.constants.clone()]
                    .iter()
                    .map(|e| value(*e, theta).ln())
                    .sum(),
            );
            for (t, u) in self.unary[i.unary.clone()].iter().enumerate() {
                ids[t * rows + b] = *u;
            }
        }
        // Without densities a position's unary values are its product's row of
        // `values.unary`, read in place; with them, each position gets its own copy.
        let dense = !self.densities.list.is_empty();
        alpha.resize(n * bk, 0.0);
        scale.resize(n * rows, 0.0);
        // Each position's unary values: the product of its tables, times its densities
        // scaled to a maximum of 1 (the log of the scale goes into log Z).
        if dense {
            unary_values.resize(n * bk, 0.0);
            log_density.resize(k, 0.0);
        }
        for t in 0..n {
            let ids_t = &ids[t * rows..(t + 1) * rows];
            if !dense {
                for (z, u) in log_z.iter_mut().zip(ids_t) {
                    *z += values.unary_log[*u as usize];
                }
                continue;
            }
            let batched = self.batched_set(starts, t);
            if let Some((set, dim)) = batched {
                self.gather(starts, t, dim, x);
                densities::batch_log_densities(
                    x,
                    dim,
                    self.densities.rowsets.table(set as usize),
                    theta,
                    &values.inverses,
                    ld,
                    y,
                );
            }
            for (b, u_row) in unary_values[t * bk..(t + 1) * bk]
                .chunks_exact_mut(k)
                .enumerate()
            {
                let u = ids_t[b] as usize;
                u_row.copy_from_slice(&values.unary[u * k..(u + 1) * k]);
                log_z[b] += values.unary_log[u];
                let here = self.densities.at_position(starts[b] + t);
                if here.is_empty() {
                    continue;
                }
                if batched.is_some() {
                    log_density.copy_from_slice(&ld[b * k..(b + 1) * k]);
                } else {
                    log_density.fill(0.0);
                }
                for (set, obs) in here.iter().filter(|_| batched.is_none()) {
                    let x = self.densities.observation(*obs);
                    for (l, e) in log_density
                        .iter_mut()
                        .zip(self.densities.rowsets.table(*set as usize))
                    {
                        if let Entry::Density { row, .. } = e {
                            *l += density::log_density(
                                &density::row(&theta[*row as usize..], x.len()),
                                x,
                            );
                        }
                    }
                }
                let m = log_density
                    .iter()
                    .copied()
                    .fold(f64::NEG_INFINITY, f64::max);
                log_z[b] += m;
                u_row
                    .iter_mut()
                    .zip(log_density.iter())
                    .for_each(|(v, l)| *v *= (l - m).exp());
            }
        }
        // The unary values of position `t`, member `b`.
        let unary: &[f64] = if dense { unary_values } else { &values.unary };
        let unary_at = |t: usize, b: usize| -> &[f64] {
            let at = if dense {
                t * rows + b
            } else {
                ids[t * rows + b] as usize
            };
            &unary[at * k..(at + 1) * k]
        };
        // Forward: alpha_t = (alpha_{t-1} P_t) .* u_t, each row scaled to sum 1.
        for t in 0..n {
            let (done, rest) = alpha.split_at_mut(t * bk);
            let cur = &mut rest[..bk];
            if t == 0 {
                cur.fill(1.0);
            } else {
                let p = batch.pairs[t - 1] as usize;
                let prev = View::new(&done[(t - 1) * bk..], rows, k);
                gemm_packed(prev, &values.pair_packed[p], cur);
                log_z.iter_mut().for_each(|z| *z += values.pair_log[p]);
            }
            for (b, row) in cur.chunks_exact_mut(k).enumerate() {
                if let (false, Some(id)) = (dense, ids.get(t * rows + b + AHEAD)) {
                    let id = *id as usize;
                    prefetch(&values.unary[id * k..(id + 1) * k]);
                }
                let sum = multiply_and_sum(row, unary_at(t, b));
                if sum > 0.0 {
                    let inv = 1.0 / sum;
                    row.iter_mut().for_each(|a| *a *= inv);
                }
                scale[t * rows + b] = sum;
                log_z[b] += sum.ln();
            }
        }
        let dead: Vec<u32> = members
            .iter()
            .zip(log_z.iter())
            .filter(|(_, z)| !z.is_finite())
            .map(|(m, _)| *m)
            .collect();
        if !dead.is_empty() {
            return dead;
        }
        for (m, z) in members.iter().zip(log_z.iter()) {
            let i = &self.instances[*m as usize];
            acc.log_likelihood += i.weight * z;
            acc.instances += 1;
            for e in &self.constants[i.constants.clone()] {
                if let Entry::Param(p) = e {
                    acc.constants.push((*p, i.weight));
                }
            }
        }
        // Backward: beta_{t-1} = w_t P_t^T with w_t = u_t .* beta_t / c_t; the state posterior
        // is alpha_t .* beta_t and the edge posterior alpha_{t-1}(i) P_t(i, j) w_t(j).
        beta.clear();
        beta.resize(bk, 1.0);
        w.resize(bk, 0.0);
        weighted.resize(n * bk, 0.0);
        g.resize(bk, 0.0);
        for t in (0..n).rev() {
            let batched = if dense {
                self.batched_set(starts, t)
            } else {
                None
            };
            let alpha_t = &alpha[t * bk..(t + 1) * bk];
            // One pass per row: the state posterior into the counts and, before the first
            // position, the message for the step back (plain and instance-weighted).
            for (b, (((a_row, b_row), w_row), wt_row)) in alpha_t
                .chunks_exact(k)
                .zip(beta.chunks_exact(k))
                .zip(w.chunks_exact_mut(k))
                .zip(weighted[t * bk..(t + 1) * bk].chunks_exact_mut(k))
                .enumerate()
            {
                let u = ids[t * rows + b] as usize;
                let weight = weights[b];
                // The row `AHEAD` further on in backward order: this position's, then the
                // previous position's.
                let ahead = match (b + AHEAD).checked_sub(rows) {
                    None => Some(t * rows + b + AHEAD),
                    Some(back) => (t > 0 && back < rows).then(|| (t - 1) * rows + back),
                };
                if let Some(next) = ahead {
                    let id = ids[next] as usize;
                    prefetch(&acc.unary[id * k..(id + 1) * k]);
                    if !dense {
                        prefetch(&values.unary[id * k..(id + 1) * k]);
                    }
                }
                if dense {
                    if batched.is_some() {
                        for ((g, a), be) in g[b * k..(b + 1) * k].iter_mut().zip(a_row).zip(b_row) {
                            *g = weight * a * be;
                        }
                    }
                    for (set, obs) in self
                        .densities
                        .at_position(starts[b] + t)
                        .iter()
                        .filter(|_| batched.is_none())
                    {
                        let x = self.densities.observation(*obs);
                        let width = density::width(x.len());
                        for ((e, a), be) in self
                            .densities
                            .rowsets
                            .table(*set as usize)
                            .iter()
                            .zip(a_row)
                            .zip(b_row)
                        {
                            if let Entry::Density { row, .. } = e {
                                let row = *row as usize;
                                density::add_stats(
                                    &density::row(&theta[row..], x.len()),
                                    x,
                                    weight * a * be,
                                    &mut acc.stats[row..row + width],
                                );
                            }
                        }
                    }
                }
                let out = &mut acc.unary[u * k..(u + 1) * k];
                if t == 0 {
                    for ((o, a), be) in out.iter_mut().zip(a_row).zip(b_row) {
                        *o += weight * a * be;
                    }
                    continue;
                }
                let inv = 1.0 / scale[t * rows + b];
                let x_row = unary_at(t, b);
                for (((((o, a), be), x), w), wt) in out
                    .iter_mut()
                    .zip(a_row)
                    .zip(b_row)
                    .zip(x_row)
                    .zip(w_row.iter_mut())
                    .zip(wt_row.iter_mut())
                {
                    *o += weight * a * be;
                    *w = x * be * inv;
                    *wt = weight * *w;
                }
            }
            if let Some((set, dim)) = batched {
                self.gather(starts, t, dim, x);
                densities::batch_stats(
                    x,
                    dim,
                    self.densities.rowsets.table(set as usize),
                    g,
                    &mut acc.stats,
                    y,
                );
            }
            if t == 0 {
                break;
            }
            let p = batch.pairs[t - 1] as usize;
            gemm_packed(View::new(w, rows, k), &values.pair_packed_t[p], beta);
        }
        self.edge_counts(batch, rows, alpha, weighted, &mut acc.pair);
        Vec::new()
    }

    /// Adds `alpha_{t-1}^T w_t` (w instance-weighted) for every edge to its pair product's
    /// counts: one product over all positions when they share a pair product (an HMM), so
    /// the matrix kernel runs on long operands.
    fn edge_counts(
        &self,
        batch: &Batch,
        rows: usize,
        alpha: &[f64],
        weighted: &[f64],
        out: &mut [f64],
    ) {
        let (k, n) = (self.k, batch.len);
        let bk = rows * k;
        let Some(first) = batch.pairs.first() else {
            return;
        };
        let kk = k * k;
        if batch.pairs.iter().all(|p| p == first) {
            let p = *first as usize;
            gemm_at_b_add(
                View::new(&alpha[..(n - 1) * bk], (n - 1) * rows, k),
                View::new(&weighted[bk..n * bk], (n - 1) * rows, k),
                &mut out[p * kk..(p + 1) * kk],
            );
            return;
        }
        for t in 1..n {
            let p = batch.pairs[t - 1] as usize;
            gemm_at_b_add(
                View::new(&alpha[(t - 1) * bk..t * bk], rows, k),
                View::new(&weighted[t * bk..(t + 1) * bk], rows, k),
                &mut out[p * kk..(p + 1) * kk],
            );
        }
    }

    /// Scatters the kernel's counts onto the parameters they belong to.
    fn scatter_counts(&self, acc: Acc, values: &Values, params: usize) -> CountStore {
        let k = self.k;
        let mut store = CountStore::new(params);
        for (p, members) in self.unary_products.members.iter().enumerate() {
            let mass = &acc.unary[p * k..(p + 1) * k];
            for t in members {
                add_mass(&mut store.expected, self.rows.table(*t as usize), mass);
            }
        }
        for (p, members) in self.pair_products.members.iter().enumerate() {
            let range = p * k * k..(p + 1) * k * k;
            let mass: Vec<f64> = acc.pair[range.clone()]
                .iter()
                .zip(&values.pair[range])
                .map(|(m, v)| m * v)
                .collect();
            for t in members {
                add_mass(
                    &mut store.expected,
                    self.pair_tables.table(*t as usize),
                    &mass,
                );
            }
        }
        for (p, w) in acc.constants {
            store.expected[p as usize] += w;
        }
        for (e, s) in store.expected.iter_mut().zip(&acc.stats) {
            *e += s;
        }
        store.log_likelihood = acc.log_likelihood;
        store.instances = acc.instances;
        store.skipped = acc.skipped;
        store.skipped.sort_unstable();
        store
    }
}

/// Rows ahead of the current one whose unary values and counts are fetched into cache early:
/// an HMM reads them by word, in an order no hardware prefetcher can guess.
const AHEAD: usize = 4;

/// Asks the processor to start loading `row` into cache (a hint: no effect on results).
#[inline(always)]
fn prefetch(row: &[f64]) {
    #[cfg(target_arch = "x86_64")]
    {
        use std::arch::x86_64::{_mm_prefetch, _MM_HINT_T0};
        let p = row.as_ptr().cast::<i8>();
        let bytes = std::mem::size_of_val(row);
        if bytes == 0 {
            return;
        }
        // Every cache line the row touches: one per 64 bytes from its start, and its end.
        let mut offset = 0;
        while offset < bytes + 63 {
            // SAFETY: SSE is part of the x86_64 baseline, so the instruction exists; a
            // prefetch never faults and reads nothing into the program, so any address is
            // sound (these are inside `row`, or its last byte).
            unsafe { _mm_prefetch::<_MM_HINT_T0>(p.wrapping_add(offset.min(bytes - 1))) };
            offset += 64;
        }
    }
    #[cfg(not(target_arch = "x86_64"))]
    let _ = row;
}

/// `row *= u` and the new sum, in four lanes so that the loop vectorises (a single running
/// sum would be a chain of dependent additions).
fn multiply_and_sum(row: &mut [f64], u: &[f64]) -> f64 {
    let mut lanes = [0.0; 4];
    let mut rows = row.chunks_exact_mut(4);
    let mut us = u.chunks_exact(4);
    for (r, x) in (&mut rows).zip(&mut us) {
        for i in 0..4 {
            r[i] *= x[i];
            lanes[i] += r[i];
        }
    }
    for (r, x) in rows.into_remainder().iter_mut().zip(us.remainder()) {
        *r *= x;
        lanes[0] += *r;
    }
    (lanes[0] + lanes[1]) + (lanes[2] + lanes[3])
}

fn add_mass(expected: &mut [f64], entries: &[Entry], mass: &[f64]) {
    for (e, m) in entries.iter().zip(mass) {
        if let Entry::Param(p) = e {
            expected[*p as usize] += m;
        }
    }
}
