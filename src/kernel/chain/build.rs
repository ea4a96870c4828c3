//! Building the chain kernel: each unrolled instance becomes interned table ids per position,
//! and instances of one length and one chain of pair tables are grouped into batches.

use rustc_hash::FxHashMap as HashMap;
use std::rc::Rc;

use super::*;
use crate::graph::InstanceGraph;

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

/// Builds the kernel from unrolled instances, in data order.
pub struct Builder {
    kernel: ChainKernel,
    /// Instances per block: batches and units never cross a block, so that a block read
    /// alone (`--stream`) counts in the very batches and units the whole data would.
    block_lines: usize,
    groups: HashMap<GroupKey, usize>,
    group_members: Vec<Vec<u32>>,
    group_keys: Vec<GroupKey>,
    /// Whether every line has been compiled once (`whole_data_read`): a streamed E-step
    /// compiles each block again, which must not count its tokens twice.
    whole_read: bool,
}

/// A group of instances batched together: (block, length, pair product per edge).
type GroupKey = (usize, usize, Vec<u32>);

impl Builder {
    pub fn new(block_lines: usize) -> Builder {
        Builder {
            block_lines: block_lines.max(1),
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
                precision: Precision::Auto,
                tokens_seen: 0,
                isa: crate::kernel::gemm::isa(),
                widths: true,
            },
            groups: HashMap::default(),
            group_members: Vec::new(),
            group_keys: Vec::new(),
            whole_read: false,
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
        if !self.whole_read {
            kern.tokens_seen += kern.unary.len() - first_unary;
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
        self.join_group(n, pair_ids, id);
        Ok(())
    }

    fn join_group(&mut self, len: usize, pairs: Vec<u32>, id: u32) {
        let key = (id as usize / self.block_lines, len, pairs);
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
        if !self.whole_read {
            kern.tokens_seen += o.tokens_seen;
        }
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
        // The other builder's blocks count from its own first instance: each member's block
        // is found again from its number here.
        for ((_, n, key), members) in other.group_keys.into_iter().zip(other.group_members) {
            let key: Vec<u32> = key.iter().map(|p| pairs[*p as usize]).collect();
            for m in members {
                self.join_group(n, key.clone(), m + base_instance);
            }
        }
        Ok(())
    }

    pub fn finish(mut self) -> ChainKernel {
        self.cut();
        self.kernel
    }

    /// Forms the batches and units of the instances added since the last `clear_tokens`,
    /// block by block, and returns the kernel that counts them.
    pub fn cut(&mut self) -> &ChainKernel {
        let kern = &mut self.kernel;
        kern.batches.clear();
        kern.chunks.clear();
        // Shards never span blocks and are absorbed in order, so the groups are in block
        // order already; the stable sort only makes sure of it.
        let mut order: Vec<usize> = (0..self.group_keys.len()).collect();
        order.sort_by_key(|g| self.group_keys[*g].0);
        let mut block_start = 0;
        for (at, g) in order.iter().enumerate() {
            let (block, len, pairs) = &self.group_keys[*g];
            for batch in self.group_members[*g].chunks(BATCH) {
                let rows = batch.len();
                let mut ids = vec![0; len * rows];
                for (b, m) in batch.iter().enumerate() {
                    let span = kern.instances[*m as usize].unary.clone();
                    for (t, u) in kern.unary[span].iter().enumerate() {
                        ids[t * rows + b] = *u;
                    }
                }
                let instances = batch.iter().map(|m| &kern.instances[*m as usize]);
                let weights = instances.clone().map(|i| i.weight).collect();
                let constants = instances.clone().any(|i| !i.constants.is_empty());
                kern.batches.push(Batch {
                    len: *len,
                    members: batch.to_vec(),
                    pairs: pairs.clone(),
                    ids,
                    weights,
                    constants,
                });
            }
            let last = order
                .get(at + 1)
                .is_none_or(|next| self.group_keys[*next].0 != *block);
            if last {
                cut_units(kern, block_start);
                block_start = kern.batches.len();
            }
        }
        self.groups.clear();
        self.group_members.clear();
        self.group_keys.clear();
        &self.kernel
    }

    /// Drops the instances, keeping the interned tables and products: the next instances
    /// added are numbered from zero and scored against the same tables.
    pub fn clear_tokens(&mut self) {
        let kern = &mut self.kernel;
        kern.instances.clear();
        kern.unary.clear();
        kern.constants.clear();
        kern.batches.clear();
        kern.chunks.clear();
        let d = &mut kern.densities;
        d.start.truncate(1);
        d.list.clear();
        d.values.clear();
        d.at.truncate(1);
        self.groups.clear();
        self.group_members.clear();
        self.group_keys.clear();
    }

    pub fn set_precision(&mut self, precision: Precision) {
        self.kernel.set_precision(precision);
    }

    /// Every line has been compiled once (`--stream`'s first pass): what `auto` weighs is
    /// fixed from here on.
    pub fn whole_data_read(&mut self) {
        self.whole_read = true;
    }

    pub fn kernel(&self) -> &ChainKernel {
        &self.kernel
    }
}

/// Cuts the batches from `first` on (one block's) into units of a quarter of its tokens
/// within `MIN_CHUNK_TOKENS..=CHUNK_TOKENS`, all of about the same size and a multiple of
/// four of them: threads take units as they come free, so a last unit much shorter than the
/// others would leave all threads but one idle at the end of every E-step.
fn cut_units(kern: &mut ChainKernel, first: usize) {
    let tokens = |b: &Batch| b.len.max(1) * b.members.len();
    let batches = &kern.batches[first..];
    let total: usize = batches.iter().map(tokens).sum();
    let size = (total / 4).clamp(MIN_CHUNK_TOKENS, CHUNK_TOKENS);
    let mut units = total.div_ceil(size).max(1);
    if units > 1 {
        units = units.next_multiple_of(4);
    }
    let (mut done, mut start, mut cut) = (0, 0, 0);
    for (i, batch) in batches.iter().enumerate() {
        done += tokens(batch);
        if done * units >= (cut + 1) * total {
            kern.chunks.push(first + start..first + i + 1);
            cut += 1;
            start = i + 1;
        }
    }
    if start < batches.len() {
        kern.chunks.push(first + start..first + batches.len());
    }
}
