//! The E-step of a structured story: each data line's hypergraph, built once when the
//! kernel is compiled (`structured::execute`) and re-weighted every iteration by
//! inside-outside (`hypergraph::binary`: probability space, log space when a line needs
//! it), counted in fixed units of lines summed in order through the one scheduler
//! (`kernel::ordered`), so the counts are the same bits for any thread count.
//!
//! Lines whose hypergraphs have the same shape (every sentence of one length, for the DMV)
//! are counted eight at a time in SIMD lanes (`hypergraph::lanes`): the kernel groups lines by
//! shape when it is compiled, and a unit of work is a run of such batches (and of lines left
//! alone), in the order of each shape's first line, then data order. The grouping depends on
//! the data only, so units, and the bits, are the same for any thread count.
//!
//! A unit's lines draw a small part of the parameters (a lexicon of 175k substrings, of
//! which 64 utterances use a few thousand), so each unit's hypergraphs are renumbered at
//! compile time into a dense local table of the parameters they use: an iteration gathers
//! the unit's parameters, counts into a local vector that stays in cache, and adds it into
//! the whole once, instead of clearing and summing a parameter-sized vector per unit.

use std::sync::Arc;

use rayon::prelude::*;
use rustc_hash::FxHashMap as HashMap;

use super::units::UnitCounts;
use super::{ordered, ZeroPolicy};
use crate::data::Dataset;
use crate::density;
use crate::error::Error;
use crate::hypergraph::binary::{count_line, Binary, Line, Workspace};
use crate::hypergraph::inv_norms;
use crate::hypergraph::lanes::{count_batch, Batch, Lane, LaneWorkspace, Shape, LANES, MAX_TABLE};
use crate::infer::{CountStore, InferError};
use crate::program::Program;
use crate::structured::execute_line;

/// Hyperedges per unit of work (at least; a unit ends with a whole batch): fixed by the data,
/// never by the thread count. Units are cut by work, not by lines, because lines of one
/// shape are counted together and shapes differ by orders of magnitude in cost (a
/// two-phoneme utterance against a thirty-phoneme one), and a unit's fixed costs (its local
/// table's gather, clear and merge, the scheduler's lock) should be small against its work.
/// Once the lanes got faster, 4,096 left those costs at about a sixth of the segmentation's
/// iteration (the merge runs on one thread at a time); 16,384 is 5-10% faster on one thread
/// and two for the segmentation and the DMV, and still cuts Brent into some 36 units.
const UNIT_EDGES: usize = 16_384;

/// Lines built per parallel task: enough to amortise a task, few enough that the story's
/// form of a chunk per thread (dropped once its binary form is made) stays small.
const BUILD_CHUNK: usize = 64;

/// Slots of value 1 at the end of a unit's local table (see `Binary::spread_one`).
const ONES: u32 = 16;

/// The entry whose value is 1, before a unit's renumbering: above every parameter,
/// normaliser and density, so it sorts last in a unit's table.
const RAW_ONE: u32 = u32::MAX;

/// Where densities start before a unit's renumbering (density `d` is `DENSITY_BASE + d`):
/// above every parameter (at most 2^28) and normaliser, so a unit's table sorts into
/// parameters, normalisers, densities.
const DENSITY_BASE: u32 = 1 << 31;

/// Most densities (and normalisers) the data may have in all: their entries stay below
/// `RAW_ONE` (and `DENSITY_BASE`).
const MAX_DENSITIES: usize = (1 << 31) - 2;

/// Every line's hypergraph in binary form, grouped into units of work, each with its
/// entries renumbered into the unit's local table.
pub struct HypergraphKernel {
    units: Vec<Unit>,
    /// The allowed sets (restricted rows) lines divide by, interned in data order, so their
    /// ids are the same for any thread count.
    norm_sets: Arc<Vec<Vec<u32>>>,
    /// Nodes and hyperedges of each line's hypergraph as the story made it (before the
    /// binary form), in data order, for reports.
    sizes: Vec<(usize, usize)>,
    weights: Vec<f64>,
    lines: Vec<usize>,
    densities: DensityTable,
}

/// Every line's densities (Gaussian draws of its real values), numbered in data order.
#[derive(Default)]
struct DensityTable {
    /// Per density: where its Gaussian row starts in the parameters, and its observation.
    densities: Vec<(u32, u32)>,
    /// Per observation: the real vector, and the line (index in the data) it is on.
    observations: Vec<(Vec<f64>, usize)>,
}

/// A unit of work: its items, and its local table: the parameter index of each local entry
/// (`globals`, ascending), then the id in `norm_sets` of each normaliser it uses (`norms`),
/// then the densities it scores (`densities`, ids in the kernel's table), then [`ONES`]
/// entries whose value is 1.
struct Unit {
    items: Vec<Item>,
    globals: Vec<u32>,
    norms: Vec<u32>,
    densities: Vec<u32>,
    /// Per density of the unit: the index of its observation in `observations`.
    density_obs: Vec<u32>,
    /// The observations the unit's densities score (ids in the kernel's table, ascending:
    /// so grouped by line), and per line that has some, their range in it.
    observations: Vec<u32>,
    scaled_lines: Vec<(usize, std::ops::Range<usize>)>,
}

enum Item {
    /// A line counted alone (`line`: its index in the data).
    Line { line: usize, graph: Binary },
    /// Up to [`LANES`] lines of one shape, counted in lanes.
    Lanes {
        lines: [usize; LANES],
        n: usize,
        shape: Arc<Shape>,
        batch: Batch,
    },
}

/// One unit's counts, indexed by its local table.
struct LocalCounts {
    expected: Vec<f64>,
    log_likelihood: f64,
    /// Lines of the whole data without a derivation.
    zero: Vec<usize>,
    unit: usize,
}

impl HypergraphKernel {
    /// Runs the story on every line and plans the units. Lines are built in parallel and
    /// kept in data order, so the kernel (and the first error reported, the earliest
    /// line's) is the same for any thread count.
    pub fn build(
        program: &Program,
        data: &Dataset,
        pool: &rayon::ThreadPool,
    ) -> Result<HypergraphKernel, Error> {
        // Parameters keep their indices and a line's normaliser s becomes entry
        // `first_norm + s` until the sets are named globally; each unit renumbers later.
        let first_norm = program.layout.total as u32;
        // Chunk by chunk, so that a chunk's hypergraphs in the story's form are dropped
        // once its binary form is made: peak memory is the binary forms plus a chunk per
        // thread.
        let chunks: Vec<Result<Vec<Built>, Error>> = pool.install(|| {
            data.instances
                .par_chunks(BUILD_CHUNK)
                .map(|chunk| {
                    chunk
                        .iter()
                        .map(|inst| {
                            let lg = execute_line(program, inst, false)?;
                            let g = &lg.graph;
                            // Densities come after the parameters (`Densities::first`).
                            let entry = |k: u32| match k.checked_sub(first_norm) {
                                Some(d) => DENSITY_BASE + d,
                                None => k,
                            };
                            Ok(Built {
                                size: (g.nodes(), g.edges()),
                                graph: Binary::new(g, entry, |s| first_norm + s, RAW_ONE),
                                sets: lg.sets,
                                densities: lg.densities,
                                line: inst.line,
                            })
                        })
                        .collect()
                })
                .collect()
        });
        let (mut graphs, mut sizes) = (Vec::new(), Vec::new());
        let mut ids: HashMap<Vec<u32>, u32> = HashMap::default();
        let mut norm_sets = Vec::new();
        let mut table = DensityTable::default();
        for chunk in chunks {
            for built in chunk? {
                let mut graph = built.graph;
                let global: Vec<u32> = (built.sets.into_iter())
                    .map(|set| {
                        *ids.entry(set).or_insert_with_key(|set| {
                            norm_sets.push(set.clone());
                            (norm_sets.len() - 1) as u32
                        })
                    })
                    .collect();
                let (first_density, first_obs) = (
                    table.densities.len() as u32,
                    table.observations.len() as u32,
                );
                let dens = built.densities;
                if first_norm as usize + norm_sets.len() >= DENSITY_BASE as usize
                    || table.densities.len() + dens.densities.len() > MAX_DENSITIES
                {
                    return Err(Error::Unroll(crate::graph::UnrollError {
                        kind: crate::graph::UnrollErrorKind::Budget {
                            what: "densities and allowed sets over the data",
                            limit: MAX_DENSITIES,
                            estimate: table.densities.len() + dens.densities.len(),
                        },
                        span: Default::default(),
                        line: built.line,
                    }));
                }
                let line = graphs.len();
                (table.densities).extend(dens.densities.iter().map(|(r, o)| (*r, first_obs + o)));
                (table.observations).extend(dens.observations.into_iter().map(|(_, x)| (x, line)));
                if !global.is_empty() || first_density > 0 {
                    graph.rename_entries(|k| match k {
                        RAW_ONE => RAW_ONE,
                        k if k >= DENSITY_BASE => k + first_density,
                        k if k >= first_norm => first_norm + global[(k - first_norm) as usize],
                        k => k,
                    });
                }
                graphs.push(graph);
                sizes.push(built.size);
            }
        }
        let plans = plan_units(&graphs, pool);
        let units = pool.install(|| {
            plans
                .into_par_iter()
                .map(|plan| localise(plan, &graphs, first_norm, &table))
                .collect()
        });
        Ok(HypergraphKernel {
            units,
            sizes,
            norm_sets: Arc::new(norm_sets),
            weights: data.instances.iter().map(|i| i.weight).collect(),
            lines: data.instances.iter().map(|i| i.line).collect(),
            densities: table,
        })
    }

    pub fn e_step(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        let mut store = self.empty_store(theta.len());
        let mut zero = Vec::new();
        self.count(theta, pool, 0..self.units(), |c| {
            let unit = &self.units[c.unit];
            for (k, e) in unit.globals.iter().zip(&c.expected) {
                store.expected[*k as usize] += e;
            }
            for (s, e) in unit.norms.iter().zip(&c.expected[unit.globals.len()..]) {
                store.norm_uses[*s as usize] += e;
            }
            let first = unit.globals.len() + unit.norms.len();
            for (d, mass) in unit.densities.iter().zip(&c.expected[first..]) {
                self.densities
                    .add_stats(*d, *mass, theta, &mut store.expected);
            }
            store.log_likelihood += c.log_likelihood;
            zero.extend_from_slice(&c.zero);
        });
        self.close(store, zero, on_zero)
    }

    /// The allowed sets the lines divide by, interned in data order: what `norm_uses` of
    /// this kernel's counts index, so other counts of the same data can index them too.
    pub fn norm_sets(&self) -> &Arc<Vec<Vec<u32>>> {
        &self.norm_sets
    }

    /// Units of work, fixed by the data.
    pub fn units(&self) -> usize {
        self.units.len()
    }

    /// Coordinates of a unit's counts: the parameters, then the allowed sets (their uses),
    /// then the densities (their posterior mass, which `finish` turns into statistics).
    pub fn coordinates(&self, params: usize) -> usize {
        params + self.norm_sets.len() + self.densities.densities.len()
    }

    /// Instances: a unit's `lines` are numbers below it.
    pub fn instances(&self) -> usize {
        self.lines.len()
    }

    /// Each unit's counts of `units`, unmerged, in the whole's coordinates. A line with
    /// probability zero stops the shard (under `ZeroPolicy::Stop`) naming the earliest.
    pub fn count_units(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        on_zero: ZeroPolicy,
        units: std::ops::Range<usize>,
    ) -> Result<Vec<UnitCounts>, Error> {
        let mut out = Vec::with_capacity(units.len());
        let params = theta.len();
        self.count(theta, pool, units, |c| {
            let unit = &self.units[c.unit];
            // In the order the merge adds them: parameters, set uses, densities.
            let globals = unit.globals.iter().map(|k| *k as usize);
            let norms = unit.norms.iter().map(|s| params + *s as usize);
            let first_density = params + self.norm_sets.len();
            let densities = unit.densities.iter().map(|d| first_density + *d as usize);
            let values = (globals.chain(norms).chain(densities))
                .zip(c.expected.iter())
                .filter(|(_, e)| **e != 0.0)
                .map(|(k, e)| (k as u64, *e));
            out.push(UnitCounts {
                values: values.collect(),
                log_likelihood: c.log_likelihood,
                lines: c.zero.iter().map(|i| *i as u64).collect(),
                ..UnitCounts::default()
            });
        });
        if on_zero == ZeroPolicy::Stop {
            let first = out.iter().flat_map(|u| u.lines.iter().copied()).min();
            if let Some(i) = first {
                return Err(Error::Infer(InferError::ZeroProbability {
                    line: self.lines[i as usize],
                }));
            }
        }
        Ok(out)
    }

    /// Merges every unit's counts (all of them, in unit order) as `e_step` merges its own.
    pub fn finish(
        &self,
        theta: &[f64],
        units: &[UnitCounts],
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        let params = theta.len();
        let first_density = params + self.norm_sets.len();
        let mut store = self.empty_store(params);
        let mut zero = Vec::new();
        for unit in units {
            for (k, e) in unit.entries() {
                let k = k as usize;
                if k >= first_density {
                    let d = k - first_density;
                    if d < self.densities.densities.len() {
                        self.densities
                            .add_stats(d as u32, e, theta, &mut store.expected);
                    }
                    continue;
                }
                let at = match k.checked_sub(params) {
                    None => store.expected.get_mut(k),
                    Some(s) => store.norm_uses.get_mut(s),
                };
                if let Some(a) = at {
                    *a += e;
                }
            }
            store.log_likelihood += unit.log_likelihood;
            let lines = unit.lines.iter().map(|i| *i as usize);
            zero.extend(lines.filter(|i| *i < self.lines.len()));
        }
        self.close(store, zero, on_zero)
    }

    fn empty_store(&self, params: usize) -> CountStore {
        CountStore {
            expected: vec![0.0; params],
            norm_sets: self.norm_sets.clone(),
            norm_uses: vec![0.0; self.norm_sets.len()],
            ..CountStore::new(0)
        }
    }

    /// The counts once every unit is merged: the lines without a derivation stop the run
    /// or are reported.
    fn close(
        &self,
        mut store: CountStore,
        mut zero: Vec<usize>,
        on_zero: ZeroPolicy,
    ) -> Result<CountStore, Error> {
        // Units follow shapes, not data order: the first line reported is the earliest.
        zero.sort_unstable();
        if let (Some(first), ZeroPolicy::Stop) = (zero.first(), on_zero) {
            return Err(Error::Infer(InferError::ZeroProbability {
                line: self.lines[*first],
            }));
        }
        // A line reported twice (by a damaged accumulator file) is still one line.
        zero.dedup();
        store.instances = self.weights.len() - zero.len();
        store.skipped = zero.iter().map(|k| self.lines[*k]).collect();
        Ok(store)
    }

    /// Counts `units` and hands each unit's local counts to `merge`, in unit order.
    fn count(
        &self,
        theta: &[f64],
        pool: &rayon::ThreadPool,
        units: std::ops::Range<usize>,
        mut merge: impl FnMut(&LocalCounts) + Send,
    ) {
        // An entry restricted to an allowed set is divided by the set's total: its
        // normaliser is an entry of value 1 / Z.
        let inv_z = inv_norms(&self.norm_sets, theta);
        let counted = ordered::map_merge_in_order(
            pool,
            units.len(),
            || (Workspace::default(), LaneWorkspace::default(), Vec::new()),
            |i, (ws, lws, local_theta): &mut (Workspace, LaneWorkspace, Vec<f64>), spare| {
                let u = units.start + i;
                let unit = &self.units[u];
                local_theta.clear();
                local_theta.extend(unit.globals.iter().map(|k| theta[*k as usize]));
                local_theta.extend(unit.norms.iter().map(|s| inv_z[*s as usize]));
                let scale = self.densities.scaled(unit, theta, local_theta);
                local_theta.extend([1.0; ONES as usize]);
                // What a line's densities were divided by, in log: its log-likelihood's part
                // that the inside pass does not see.
                let line_scale =
                    |i: usize| match unit.scaled_lines.binary_search_by_key(&i, |l| l.0) {
                        Ok(k) => scale[unit.scaled_lines[k].1.clone()].iter().sum::<f64>(),
                        Err(_) => 0.0,
                    };
                let mut c = spare.unwrap_or(LocalCounts {
                    expected: Vec::new(),
                    log_likelihood: 0.0,
                    zero: Vec::new(),
                    unit: u,
                });
                // Lines whose probability-space pass overflowed: the unit is counted again
                // from the start with them in log space, so its sums are the same bits
                // whichever thread counts it.
                let mut in_log_space: Vec<usize> = Vec::new();
                'count: loop {
                    c.expected.clear();
                    c.expected.resize(local_theta.len(), 0.0);
                    c.log_likelihood = 0.0;
                    c.zero.clear();
                    c.unit = u;
                    for item in &unit.items {
                        let mut alone = |i: usize, g: &Binary, c: &mut LocalCounts| {
                            let (w, log) = (self.weights[i], in_log_space.contains(&i));
                            match count_line(g, local_theta, w, ws, &mut c.expected, log) {
                                Line::Counted { log_z, .. } => {
                                    c.log_likelihood += w * (log_z + line_scale(i))
                                }
                                Line::Zero => c.zero.push(i),
                                Line::Overflow => return Some(i),
                            }
                            None
                        };
                        match item {
                            Item::Line { line, graph } => {
                                if let Some(i) = alone(*line, graph, &mut c) {
                                    in_log_space.push(i);
                                    continue 'count;
                                }
                            }
                            Item::Lanes {
                                lines,
                                n,
                                shape,
                                batch,
                            } => {
                                let real = |l: usize| l < *n;
                                let w = std::array::from_fn(|l| match real(l) {
                                    true => self.weights[lines[l]],
                                    false => 0.0,
                                });
                                let count = std::array::from_fn(|l| {
                                    real(l) && !in_log_space.contains(&lines[l])
                                });
                                let got = count_batch(
                                    shape,
                                    batch,
                                    local_theta,
                                    w,
                                    count,
                                    lws,
                                    &mut c.expected,
                                );
                                if got.contains(&Lane::Overflow) {
                                    (0..*n)
                                        .filter(|l| got[*l] == Lane::Overflow)
                                        .for_each(|l| in_log_space.push(lines[l]));
                                    continue 'count;
                                }
                                for l in 0..*n {
                                    match got[l] {
                                        Lane::Counted { log_z } => {
                                            c.log_likelihood +=
                                                w[l] * (log_z + line_scale(lines[l]))
                                        }
                                        // In log space, which never overflows.
                                        _ => {
                                            let g = batch.line(shape, l);
                                            if let Some(i) = alone(lines[l], &g, &mut c) {
                                                in_log_space.push(i);
                                                continue 'count;
                                            }
                                        }
                                    }
                                }
                            }
                        }
                    }
                    break;
                }
                Ok::<_, std::convert::Infallible>(c)
            },
            |c| {
                merge(&c);
                Some(c)
            },
        );
        if let Err(never) = counted {
            match never {}
        }
    }

    /// Nodes and hyperedges in total, and the line with the most hyperedges with its figures.
    pub fn size(&self) -> (usize, usize, Option<(usize, usize, usize)>) {
        let nodes = self.sizes.iter().map(|s| s.0).sum();
        let edges = self.sizes.iter().map(|s| s.1).sum();
        let largest = self
            .sizes
            .iter()
            .zip(&self.lines)
            .max_by_key(|((_, edges), l)| (*edges, std::cmp::Reverse(**l)))
            .map(|((nodes, edges), l)| (*l, *nodes, *edges));
        (nodes, edges, largest)
    }
}

impl DensityTable {
    /// Appends the values of `unit`'s densities under `theta` to its local table, each
    /// observation's divided by the largest of its densities: every derivation of a line
    /// draws each of its values once (the draw-once contract), so dividing all of a value's
    /// densities by one number divides the line's probability by it and leaves every
    /// posterior as it is, and the inside pass stays in range however many values a line
    /// has. Returns the log of each observation's divisor.
    fn scaled(&self, unit: &Unit, theta: &[f64], local: &mut Vec<f64>) -> Vec<f64> {
        let mut scale = vec![f64::NEG_INFINITY; unit.observations.len()];
        let first = local.len();
        for (d, o) in unit.densities.iter().zip(&unit.density_obs) {
            let (row, obs) = self.densities[*d as usize];
            let x = &self.observations[obs as usize].0;
            let log_d = density::log_density(&density::row(&theta[row as usize..], x.len()), x);
            scale[*o as usize] = scale[*o as usize].max(log_d);
            local.push(log_d);
        }
        // A value no row gives any density (past every mean by far) keeps its zeros: the
        // line has probability zero, which the caller reports.
        scale
            .iter_mut()
            .filter(|s| !s.is_finite())
            .for_each(|s| *s = 0.0);
        for (v, o) in local[first..].iter_mut().zip(&unit.density_obs) {
            *v = (*v - scale[*o as usize]).exp();
        }
        scale
    }

    /// Adds a density's posterior `mass` to its row's sufficient statistics.
    fn add_stats(&self, d: u32, mass: f64, theta: &[f64], expected: &mut [f64]) {
        if mass == 0.0 {
            return;
        }
        let (row, obs) = self.densities[d as usize];
        let x = &self.observations[obs as usize].0;
        let row = row as usize;
        density::add_stats(
            &density::row(&theta[row..], x.len()),
            x,
            mass,
            &mut expected[row..row + density::width(x.len())],
        );
    }
}

/// One line as built: its binary form (parameters and normalisers as global entries,
/// densities as the line's), its allowed sets and densities, and its size in the story's
/// form.
struct Built {
    graph: Binary,
    sets: Vec<Vec<u32>>,
    densities: crate::structured::Densities,
    size: (usize, usize),
    line: usize,
}

/// A unit's plan: per item, the lines it counts and, for lanes, their shape.
type Plan = Vec<(Vec<usize>, Option<Arc<Shape>>)>;

/// Groups lines by shape, each group in data order and the groups in the order of their
/// first lines, then cuts each group into batches of up to [`LANES`] (lines alone where a
/// batch would be less than half full) and the batches into units of at least
/// [`UNIT_EDGES`] hyperedges.
fn plan_units(graphs: &[Binary], pool: &rayon::ThreadPool) -> Vec<Plan> {
    let keys: Vec<u64> =
        pool.install(|| graphs.par_iter().map(|g| Shape::key(g, RAW_ONE)).collect());
    let mut by_key: HashMap<u64, Vec<usize>> = HashMap::default();
    let mut groups: Vec<(Arc<Shape>, Vec<usize>)> = Vec::new();
    for (i, g) in graphs.iter().enumerate() {
        let candidates = by_key.entry(keys[i]).or_default();
        match candidates.iter().find(|k| groups[**k].0.fits(g, RAW_ONE)) {
            Some(k) => groups[*k].1.push(i),
            None => {
                candidates.push(groups.len());
                groups.push((Arc::new(Shape::of(g, RAW_ONE)), vec![i]));
            }
        }
    }
    let mut units = Vec::new();
    let (mut unit, mut edges): (Plan, usize) = (Vec::new(), 0);
    for (shape, members) in groups {
        for batch in members.chunks(LANES) {
            // A batch costs as much as a full one: fewer than half its lanes go alone.
            let shape = (batch.len() >= LANES / 2).then(|| shape.clone());
            edges += batch.iter().map(|i| graphs[*i].edges()).sum::<usize>();
            unit.push((batch.to_vec(), shape));
            if edges >= UNIT_EDGES {
                units.push(std::mem::take(&mut unit));
                edges = 0;
            }
        }
    }
    if !unit.is_empty() {
        units.push(unit);
    }
    units
}

/// A unit's items, renumbered into a dense local table of the parameters, normalisers and
/// densities they use. Entries sort into the table's order as they are (parameters,
/// normalisers from `first_norm`, densities from [`DENSITY_BASE`], then [`RAW_ONE`]), so an
/// entry's local index is its rank.
fn localise(plan: Plan, graphs: &[Binary], first_norm: u32, table: &DensityTable) -> Unit {
    let mut all: Vec<u32> = (plan.iter().flat_map(|(lines, _)| lines))
        .flat_map(|i| graphs[*i].entries())
        .chain([RAW_ONE])
        .collect();
    all.sort_unstable();
    all.dedup();
    let local = |k: u32| {
        all.binary_search(&k)
            .expect("every entry of the unit is in its table") as u32
    };
    let one = all.len() as u32 - 1;
    // Batches index a table of 16 bits; a unit past it counts its lines one by one.
    let lanes = all.len() + ONES as usize <= MAX_TABLE;
    let items = (plan.into_iter())
        .flat_map(|(lines, shape)| match shape.filter(|_| lanes) {
            None => (lines.into_iter())
                .map(|line| {
                    let mut graph = graphs[line].clone();
                    graph.rename_entries(local);
                    graph.spread_one(one, ONES);
                    Item::Line { line, graph }
                })
                .collect::<Vec<_>>(),
            Some(shape) => {
                let members: Vec<&Binary> = lines.iter().map(|i| &graphs[*i]).collect();
                let mut batch = Batch::new(&shape, &members, local);
                batch.spread_one(one, ONES);
                vec![Item::Lanes {
                    lines: std::array::from_fn(|l| lines[l.min(lines.len() - 1)]),
                    n: lines.len(),
                    shape,
                    batch,
                }]
            }
        })
        .collect();
    let norms_at = all.partition_point(|k| *k < first_norm);
    let densities_at = all.partition_point(|k| *k < DENSITY_BASE);
    let densities: Vec<u32> = (all[densities_at..all.len() - 1].iter())
        .map(|k| k - DENSITY_BASE)
        .collect();
    let mut observations: Vec<u32> = (densities.iter())
        .map(|d| table.densities[*d as usize].1)
        .collect();
    observations.sort_unstable();
    observations.dedup();
    let density_obs = (densities.iter())
        .map(|d| {
            let obs = table.densities[*d as usize].1;
            observations
                .binary_search(&obs)
                .expect("a density's observation is the unit's") as u32
        })
        .collect();
    let mut scaled_lines: Vec<(usize, std::ops::Range<usize>)> = Vec::new();
    for (i, o) in observations.iter().enumerate() {
        let line = table.observations[*o as usize].1;
        match scaled_lines.last_mut() {
            Some((l, range)) if *l == line => range.end = i + 1,
            _ => scaled_lines.push((line, i..i + 1)),
        }
    }
    Unit {
        items,
        globals: all[..norms_at].to_vec(),
        norms: (all[norms_at..densities_at].iter())
            .map(|k| k - first_norm)
            .collect(),
        densities,
        density_obs,
        observations,
        scaled_lines,
    }
}
