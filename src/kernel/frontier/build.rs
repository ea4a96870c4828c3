//! Building the frontier kernel: each shard of the data is unrolled and scheduled in parallel
//! into shard-local shapes and tables (`Part`), and the parts are absorbed in data order into
//! one kernel, so that its numbering (and the batches and units cut from it) is the same for
//! any thread count.

use std::rc::Rc;

use super::schedule::{schedule, Kind, StepSpec};
use super::*;
use crate::graph::InstanceGraph;
use crate::kernel::chain::table_key;

/// One shard compiled with its own numbering of shapes and tables.
#[derive(Default)]
pub struct Part {
    shape_ids: HashMap<Vec<StepSpec>, u32>,
    shapes: Vec<Vec<StepSpec>>,
    table_ids: HashMap<Vec<u64>, u32>,
    tables: Vec<(Vec<u64>, Vec<Entry>)>,
    instances: Vec<PartInst>,
}

/// A part's tables met before, by address: the unroller shares one table among the factors
/// that have it, so each is hashed once per shard, not once per position. Holding them keeps
/// their addresses from being reused.
#[derive(Default)]
pub struct Seen(HashMap<TableAddress, (Rc<[Entry]>, u32)>);

/// Where a shared table lives and how long it is.
type TableAddress = (usize, usize);

struct PartInst {
    index: u32,
    weight: f64,
    shape: u32,
    tables: Vec<u32>,
    constants: Vec<Entry>,
}

impl Part {
    /// Adds the instance at `index` of the data, or says it does not fit.
    pub fn add(&mut self, seen: &mut Seen, index: usize, g: &InstanceGraph) -> Result<(), Unfit> {
        let s = schedule(g)?;
        let next = self.shapes.len() as u32;
        let shape = match self.shape_ids.get(&s.steps) {
            Some(id) => *id,
            None => {
                self.shape_ids.insert(s.steps.clone(), next);
                self.shapes.push(s.steps);
                next
            }
        };
        let tables = s
            .factors
            .iter()
            .map(|f| self.intern(seen, &g.factors[*f].entries))
            .collect();
        self.instances.push(PartInst {
            index: index as u32,
            weight: g.weight,
            shape,
            tables,
            constants: s.constants,
        });
        Ok(())
    }

    fn intern(&mut self, seen: &mut Seen, entries: &Rc<[Entry]>) -> u32 {
        let address = (Rc::as_ptr(entries) as *const Entry as usize, entries.len());
        if let Some((_, id)) = seen.0.get(&address) {
            return *id;
        }
        let key = table_key(entries);
        let next = self.tables.len() as u32;
        let id = *self.table_ids.entry(key.clone()).or_insert_with(|| {
            self.tables.push((key, entries.to_vec()));
            next
        });
        seen.0.insert(address, (entries.clone(), id));
        id
    }
}

/// Absorbs parts in data order into one kernel.
pub struct Builder {
    kernel: FrontierKernel,
    shape_ids: HashMap<Vec<StepSpec>, u32>,
    /// Per shape and contraction, its table factors' projections.
    t_projections: Vec<Vec<Vec<u32>>>,
    table_ids: HashMap<Vec<u64>, u32>,
    projection_ids: HashMap<(Vec<u32>, Vec<u32>), u32>,
    product_ids: HashMap<Vec<u32>, u32>,
    groups: Groups,
}

impl Default for Builder {
    fn default() -> Builder {
        Builder {
            kernel: FrontierKernel {
                shapes: Vec::new(),
                projections: Vec::new(),
                identity: Vec::new(),
                entries: Vec::new(),
                table_start: vec![0],
                products: Vec::new(),
                instances: Vec::new(),
                slots: Vec::new(),
                constants: Vec::new(),
                batches: Vec::new(),
                units: Vec::new(),
            },
            shape_ids: HashMap::default(),
            t_projections: Vec::new(),
            table_ids: HashMap::default(),
            projection_ids: HashMap::default(),
            product_ids: HashMap::default(),
            groups: Groups::default(),
        }
    }
}

impl Builder {
    pub fn absorb(&mut self, part: Part) {
        let shapes: Vec<u32> = part
            .shapes
            .into_iter()
            .map(|specs| self.shape(specs))
            .collect();
        let tables: Vec<u32> = part
            .tables
            .into_iter()
            .map(|(key, entries)| self.table(key, entries))
            .collect();
        for inst in part.instances {
            let shape = shapes[inst.shape as usize];
            let mut at = 0;
            let mut products = Vec::new();
            let slots_start = self.kernel.slots.len() as u32;
            let steps = &self.kernel.shapes[shape as usize].steps;
            let mut contract = 0;
            for st in steps {
                for t in &inst.tables[at..at + st.unary.len()] {
                    self.kernel.slots.push(tables[*t as usize]);
                }
                at += st.unary.len();
                if st.kind == Kind::Contract {
                    let projs = &self.t_projections[shape as usize][contract];
                    contract += 1;
                    let ts: Vec<u32> = (inst.tables[at..at + projs.len()].iter())
                        .map(|t| tables[*t as usize])
                        .collect();
                    at += projs.len();
                    let mut key = projs.clone();
                    key.extend(&ts);
                    let next = self.kernel.products.len() as u32;
                    let id = *self.product_ids.entry(key).or_insert(next);
                    if id == next {
                        self.kernel.products.push(Product {
                            size: st.groups_table_size(),
                            block: (st.u_card, st.v_card),
                            factors: ts.into_iter().zip(projs.iter().copied()).collect(),
                        });
                    }
                    products.push(id);
                }
            }
            let kern = &mut self.kernel;
            let c0 = kern.constants.len() as u32;
            kern.constants.extend(inst.constants);
            let id = kern.instances.len() as u32;
            kern.instances.push(Inst {
                index: inst.index,
                weight: inst.weight,
                slots: slots_start..kern.slots.len() as u32,
                constants: c0..kern.constants.len() as u32,
            });
            let key = (shape, products);
            let g = &mut self.groups;
            let next = g.keys.len();
            let group = *g.ids.entry(key.clone()).or_insert_with(|| {
                g.keys.push(key);
                g.members.push(Vec::new());
                next
            });
            g.members[group].push(id);
        }
    }

    fn table(&mut self, key: Vec<u64>, entries: Vec<Entry>) -> u32 {
        let kern = &mut self.kernel;
        let next = (kern.table_start.len() - 1) as u32;
        *self.table_ids.entry(key).or_insert_with(|| {
            kern.entries.extend(entries);
            kern.table_start.push(kern.entries.len());
            next
        })
    }

    fn projection(&mut self, dims: Vec<u32>, axes: Vec<u32>) -> u32 {
        let next = self.kernel.projections.len() as u32;
        let key = (dims, axes);
        if let Some(id) = self.projection_ids.get(&key) {
            return *id;
        }
        let proj = projection(&key.0, &key.1);
        let identity = (proj.iter().enumerate()).all(|(x, e)| *e as usize == x);
        self.kernel.identity.push(identity);
        self.kernel.projections.push(proj);
        self.projection_ids.insert(key, next);
        next
    }

    fn shape(&mut self, specs: Vec<StepSpec>) -> u32 {
        if let Some(id) = self.shape_ids.get(&specs) {
            return *id;
        }
        let (mut offset, mut slot, mut widest) = (0, 0, 1);
        let mut steps = Vec::with_capacity(specs.len());
        let mut t_projections = Vec::new();
        for spec in &specs {
            let in_size: usize = spec.in_cards.iter().map(|c| *c as usize).product();
            let out_cards = spec.out_cards();
            let out_size: usize = out_cards.iter().map(|c| *c as usize).product();
            let unary: Vec<u32> = (spec.u_factors.iter())
                .map(|axes| self.projection(out_cards.clone(), axes.clone()))
                .collect();
            if spec.kind == Kind::Contract {
                let dims = spec.t_dims();
                t_projections.push(
                    (spec.t_factors.iter())
                        .map(|axes| self.projection(dims.clone(), axes.clone()))
                        .collect(),
                );
            }
            let axis = spec.axis as usize;
            let summed = spec.kind != Kind::Broadcast;
            steps.push(Step {
                kind: spec.kind,
                in_size,
                out_size,
                u_card: if summed {
                    spec.in_cards[axis] as usize
                } else {
                    0
                },
                v_card: spec.v_card as usize,
                u_stride: (spec.in_cards.iter().skip(axis + 1))
                    .map(|c| *c as usize)
                    .product(),
                groups: if summed { groups(spec) } else { Vec::new() },
                slot,
                offset,
                unary,
                rescale: true,
                in_place: false,
            });
            offset += out_size;
            slot += spec.u_factors.len();
            widest = widest.max(in_size).max(out_size);
        }
        rescaled(&mut steps, &specs);
        let mut in_place = Vec::with_capacity(slot);
        for st in &mut steps {
            let identity = |p: &u32| self.kernel.identity[*p as usize];
            // The reverse sweep counts a whole-output factor in place only (`pass::backward`).
            debug_assert!(
                st.unary.is_empty() || st.rescale,
                "a step with factors scales"
            );
            st.in_place = st.rescale && st.unary.len() == 1 && identity(&st.unary[0]);
            in_place.extend(st.unary.iter().map(|_| st.in_place));
        }
        let id = self.kernel.shapes.len() as u32;
        self.kernel.shapes.push(Shape {
            steps,
            tape: offset,
            widest,
            lanes: lanes(offset),
            slots: slot,
            in_place,
        });
        self.t_projections.push(t_projections);
        self.shape_ids.insert(specs, id);
        id
    }

    pub fn finish(mut self) -> FrontierKernel {
        let kern = &mut self.kernel;
        for ((shape, products), members) in self.groups.keys.iter().zip(&self.groups.members) {
            let lanes = kern.shapes[*shape as usize].lanes;
            for chunk in members.chunks(lanes) {
                let mut members = chunk.to_vec();
                members.resize(chunk.len().next_multiple_of(4), chunk[chunk.len() - 1]);
                kern.batches.push(Batch {
                    shape: *shape,
                    products: products.clone(),
                    members,
                    live: chunk.len(),
                });
            }
        }
        kern.units = cut_units(&kern.shapes, &kern.batches);
        self.kernel
    }
}

/// Which steps scale their output. A sum-out never needs to (a sum of values whose largest
/// is the scaled step's). A contraction with no unary factor whose table is the draw of the
/// variable it appends leaves its output as it is when the step after it scales: each row
/// of its table is a distribution of that variable, so its largest output is at least one
/// over the variable's size times its input's largest, and at most the summed variable's
/// size times it. A factorial HMM's first contraction of each position then
/// skips two passes over the frontier (its largest value and the scaling) and the reverse
/// sweep one. A table holding other factors (an emission that mentions the summed
/// variable) may have rows of tiny entries, so its step scales.
fn rescaled(steps: &mut [Step], specs: &[StepSpec]) {
    let mut next_scales = false;
    for (st, spec) in steps.iter_mut().zip(specs).rev() {
        st.rescale = match st.kind {
            Kind::SumOut => false,
            Kind::Contract => !(st.unary.is_empty() && spec.draws_v && next_scales),
            Kind::Broadcast => true,
        };
        next_scales = st.rescale;
    }
}

impl Step {
    /// A contraction's table: a block of u x v per value of the shared axes.
    fn groups_table_size(&self) -> usize {
        let blocks = self
            .groups
            .iter()
            .map(|(_, s)| *s as usize + 1)
            .max()
            .unwrap_or(1);
        blocks * self.u_card * self.v_card
    }
}

/// Row-major odometer over `dims`: calls `f` with each joint value's coordinates in order.
fn each_coordinate(dims: &[u32], mut f: impl FnMut(&[u32])) {
    let mut at = vec![0u32; dims.len()];
    if dims.contains(&0) {
        return;
    }
    loop {
        f(&at);
        let mut i = dims.len();
        loop {
            if i == 0 {
                return;
            }
            i -= 1;
            at[i] += 1;
            if at[i] < dims[i] {
                break;
            }
            at[i] = 0;
        }
    }
}

/// For each joint value over `dims`, the entry of a factor whose scope's variables are the
/// axes `axes` (its table row-major over its scope).
fn projection(dims: &[u32], axes: &[u32]) -> Vec<u32> {
    let mut strides = vec![0u32; axes.len()];
    let mut s = 1;
    for k in (0..axes.len()).rev() {
        strides[k] = s;
        s *= dims[axes[k] as usize];
    }
    let mut out = Vec::new();
    each_coordinate(dims, |at| {
        out.push(
            axes.iter()
                .zip(&strides)
                .map(|(a, s)| at[*a as usize] * s)
                .sum(),
        );
    });
    out
}

/// Per value of the input axes other than the summed one (row-major, in axis order): where
/// its first summed value lies in the input, and which block of the table it reads.
fn groups(spec: &StepSpec) -> Vec<(u32, u32)> {
    let cards = &spec.in_cards;
    let axis = spec.axis as usize;
    let mut strides = vec![0u32; cards.len()];
    let mut s = 1;
    for k in (0..cards.len()).rev() {
        strides[k] = s;
        s *= cards[k];
    }
    let kept: Vec<usize> = (0..cards.len()).filter(|a| *a != axis).collect();
    let dims: Vec<u32> = kept.iter().map(|a| cards[*a]).collect();
    let mut out = Vec::new();
    each_coordinate(&dims, |at| {
        let base = kept.iter().zip(at).map(|(a, x)| x * strides[*a]).sum();
        let mut block = 0;
        for a in &spec.s_axes {
            let x = at[kept.iter().position(|k| *k == *a as usize).unwrap()];
            block = block * cards[*a as usize] + x;
        }
        out.push((base, block));
    });
    out
}
