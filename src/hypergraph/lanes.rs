//! Lines of one shape counted together, one line per SIMD lane.
//!
//! Lines of the same length often have the same hypergraph up to its entries: every sentence
//! of n tokens has the same DMV chart, every utterance of n characters the same segmentation
//! lattice; only which parameters the hyperedges draw differs. Counting such lines one by
//! one repeats the walk over tails and node offsets for each, and each hyperedge's few
//! multiplications sit in a chain of dependent loads. Here up to [`LANES`] lines share one
//! [`Shape`] (offsets, tails, constant weights) and a [`Batch`] holds only their entries, so
//! the inside and outside passes do each hyperedge's arithmetic for all lanes at once, as
//! vector operations, and the shape costs memory once per group of lines instead of per
//! line. This is what a batched NumPy peer gets from its arrays over sentences of one
//! length, without its temporaries.
//!
//! The passes run over the hyperedges as one flat loop, not node by node: a node of a chart
//! has a handful of hyperedges, a different number from its neighbours, and walking nodes
//! cost a mispredicted branch or two per node (the loop's end, which kind of node comes
//! next), more than the arithmetic. In the inside pass each hyperedge adds its product to a
//! running sum that its node's first hyperedge restarts (by a mask, not a branch) and stores
//! it as the node's value; later hyperedges only read nodes whose hyperedges are all done,
//! since every tail comes before its head. The outside pass runs the hyperedges backwards,
//! and a node's outside value is complete before its first hyperedge (which is its last in
//! that order) is reached. The parameters' look-ups and the counts' additions run as flat
//! loops of their own over the hyperedges that draw something.
//!
//! Each lane computes exactly what [`super::binary::count_line`] computes for its line, in
//! the same order (no fused multiply-adds), so a lane's inside values and log-probability
//! are the same bits as the line's alone; what differs is the order in which posteriors
//! reach an entry's count, and that a node no derivation uses is not skipped (its
//! hyperedges add zeros; if an inside value under it overflowed, the lane reports an
//! overflow where the line alone would not, and is counted again in log space). Lanes out
//! of the probability-space range are masked and left to the caller, which counts them
//! alone in log space ([`Batch::line`]).

use super::binary::{Binary, Edge, HIGH, LOW, ONE};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicU64, Ordering};

/// Lines per batch: two AVX2 vectors of f64. The inside pass's running sum is a chain of
/// additions through every hyperedge, one addition's latency each; two vectors make two
/// independent chains. (Four lanes, one vector, took 40% longer on the DMV; eight lanes in
/// one AVX-512 vector, or sixteen in two, measured slower than two AVX2 vectors here.)
pub const LANES: usize = 8;

/// The flag of a hyperedge that is its head's first (see [`Shape::edges`]).
const FIRST: u32 = 1 << 31;

/// Numbers every [`Shape`], so a workspace knows whose constant weights it holds.
static SHAPES: AtomicU64 = AtomicU64::new(0);

/// What lines of one shape share: a [`Binary`] without its entries, and which of its
/// hyperedges draw something.
#[derive(Clone, Debug)]
pub struct Shape {
    id: u64,
    node_edges: Vec<u32>,
    /// Per hyperedge: its two tails, its head, and [`FIRST`] when it is its head's first
    /// hyperedge (the sum restarts there) or'd with where the outside pass puts its mass:
    /// `1 + i` for the `i`-th of `singles` then `pairs`, 0 (a slot nobody reads) for a
    /// hyperedge that draws nothing.
    edges: Vec<[u32; 4]>,
    /// Per hyperedge; compared by bits, so lines whose constants differ do not share.
    weight: Vec<f64>,
    log_const: Vec<f64>,
    /// Per node, how many of its hyperedges' two entry slots hold more than the entry of
    /// value 1 in some hyperedge (see [`kinds`]): a slot that never does costs no look-up
    /// and no count. Most hyperedges draw one parameter or none (a choice among splits, a
    /// word and the rest of the utterance).
    kind: Vec<u8>,
    /// The hyperedges whose node's kind is 1, then those whose kind is 2: a batch stores
    /// one slot for each of the first, two for each of the others, in this order.
    singles: Vec<u32>,
    pairs: Vec<u32>,
    /// Nodes without hyperedges other than node 0: no derivation, inside value 0.
    empty: Vec<u32>,
    /// The entry of value 1, which fills every slot a batch does not store.
    one: u32,
}

impl PartialEq for Shape {
    fn eq(&self, other: &Shape) -> bool {
        (
            &self.node_edges,
            &self.edges,
            &self.log_const,
            &self.kind,
            self.one,
        ) == (
            &other.node_edges,
            &other.edges,
            &other.log_const,
            &other.kind,
            other.one,
        ) && (self.weight.iter().map(|w| w.to_bits())).eq(other.weight.iter().map(|w| w.to_bits()))
    }
}

impl Shape {
    /// The shape of `g`, whose entry `one` has the value 1.
    pub fn of(g: &Binary, one: u32) -> Shape {
        let kind: Vec<u8> = kinds(g, one).collect();
        let mut edges = Vec::with_capacity(g.edges.len());
        let (mut singles, mut pairs, mut empty) = (Vec::new(), Vec::new(), Vec::new());
        for (v, w) in g.node_edges.windows(2).enumerate() {
            if w[0] == w[1] && v != ONE as usize {
                empty.push(v as u32);
            }
            for e in w[0]..w[1] {
                let [t, u] = g.edges[e as usize].tails;
                let first = if e == w[0] { FIRST } else { 0 };
                edges.push([t, u, v as u32, first]);
                match kind[v] {
                    0 => {}
                    1 => singles.push(e),
                    _ => pairs.push(e),
                }
            }
        }
        for (i, e) in singles.iter().chain(&pairs).enumerate() {
            edges[*e as usize][3] |= 1 + i as u32;
        }
        Shape {
            id: SHAPES.fetch_add(1, Ordering::Relaxed),
            node_edges: g.node_edges.clone(),
            edges,
            weight: g.edges.iter().map(|e| e.weight).collect(),
            log_const: g.log_const.clone(),
            kind,
            singles,
            pairs,
            empty,
            one,
        }
    }

    /// Whether `g` has this shape.
    pub fn fits(&self, g: &Binary, one: u32) -> bool {
        self.node_edges == g.node_edges
            && self.log_const.len() == g.log_const.len()
            && (self.log_const.iter().zip(&g.log_const)).all(|(a, b)| a.to_bits() == b.to_bits())
            && self.edges.len() == g.edges.len()
            && (self.edges.iter().zip(&self.weight).zip(&g.edges))
                .all(|((t, w), e)| t[..2] == e.tails && w.to_bits() == e.weight.to_bits())
            && kinds(g, one).eq(self.kind.iter().copied())
    }

    /// A hash of the shape of `g`, equal for lines that [`Shape::fits`] would group.
    pub fn key(g: &Binary, one: u32) -> u64 {
        let mut h = rustc_hash::FxHasher::default();
        g.node_edges.hash(&mut h);
        for e in &g.edges {
            e.tails.hash(&mut h);
            e.weight.to_bits().hash(&mut h);
        }
        for c in &g.log_const {
            c.to_bits().hash(&mut h);
        }
        kinds(g, one).for_each(|k| k.hash(&mut h));
        h.finish()
    }

    pub fn nodes(&self) -> usize {
        self.node_edges.len() - 1
    }

    pub fn edges(&self) -> usize {
        self.edges.len()
    }

    /// The entry slots a batch of this shape stores, per lane.
    fn stored(&self) -> usize {
        self.singles.len() + 2 * self.pairs.len()
    }
}

/// Per node of `g`: 0 when its hyperedges draw only `one`, 1 when they draw something in
/// the first slot only, else 2 (`Binary::split` fills the first slot first).
fn kinds(g: &Binary, one: u32) -> impl Iterator<Item = u8> + '_ {
    g.node_edges.windows(2).map(move |w| {
        let edges = &g.edges[w[0] as usize..w[1] as usize];
        match (
            edges.iter().any(|e| e.entries[0] != one),
            edges.iter().any(|e| e.entries[1] != one),
        ) {
            (false, false) => 0,
            (true, false) => 1,
            _ => 2,
        }
    })
}

/// Up to [`LANES`] lines of one shape: the entries of the slots the shape's kinds say its
/// hyperedges draw (one for each of [`Shape::singles`], then two for each of
/// [`Shape::pairs`]), in every lane, as indices into a local table of at most 2^16 entries.
/// Lanes past the real lines repeat lane 0's entries (their counts are masked).
///
/// Why so compact: a batch's entries are the only per-line data an iteration streams from
/// memory (the shape is shared and stays in cache). For the DMV on sentences of up to 15
/// tokens, two 32-bit slots for every hyperedge were 50 MB, more than any cache; most
/// hyperedges draw nothing (a choice among splits), so storing only the slots that draw
/// something, in 16 bits, leaves a fraction of that.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    entries: Vec<[u16; LANES]>,
    max_entry: u32,
    /// The shape's entry of value 1, renamed.
    one: u16,
}

/// The largest local table a batch can index.
pub const MAX_TABLE: usize = 1 << 16;

impl Batch {
    /// The lines `graphs` (1 to [`LANES`], each fitting `shape`) as one batch, each entry `k`
    /// renamed `rename(k)`, which must be below [`MAX_TABLE`].
    pub fn new(shape: &Shape, graphs: &[&Binary], rename: impl Fn(u32) -> u32) -> Batch {
        assert!(
            (1..=LANES).contains(&graphs.len()),
            "a batch is 1 to LANES lines of its shape"
        );
        let lane = |l: usize| graphs[l.min(graphs.len() - 1)];
        let local = |k: u32| u16::try_from(rename(k)).expect("local tables of batches fit 16 bits");
        let slots = (shape.singles.iter().map(|e| (*e, 0)))
            .chain(shape.pairs.iter().flat_map(|e| [(*e, 0), (*e, 1)]));
        let entries: Vec<[u16; LANES]> = slots
            .map(|(e, slot)| {
                std::array::from_fn(|l| local(lane(l).edges[e as usize].entries[slot]))
            })
            .collect();
        let one = local(shape.one);
        let max_entry =
            (entries.iter().flatten()).fold(u32::from(one), |m, k| m.max(u32::from(*k)));
        Batch {
            entries,
            max_entry,
            one,
        }
    }

    /// Lane `lane`'s line on its own (in the local numbering), for the log-space pass.
    pub fn line(&self, shape: &Shape, lane: usize) -> Binary {
        let mut edges: Vec<Edge> = (shape.edges.iter().zip(&shape.weight))
            .map(|(t, weight)| Edge {
                tails: [t[0], t[1]],
                entries: [u32::from(self.one); 2],
                weight: *weight,
            })
            .collect();
        let (singles, pairs) = self.entries.split_at(shape.singles.len());
        for (e, k) in shape.singles.iter().zip(singles) {
            edges[*e as usize].entries[0] = u32::from(k[lane]);
        }
        for (e, k) in shape.pairs.iter().zip(pairs.chunks_exact(2)) {
            edges[*e as usize].entries = [k[0][lane], k[1][lane]].map(u32::from);
        }
        Binary {
            node_edges: shape.node_edges.clone(),
            edges,
            log_const: shape.log_const.clone(),
            max_entry: self.max_entry,
        }
    }

    /// As [`Binary::spread_one`], by slot and lane; `one + ones` must be at most
    /// [`MAX_TABLE`].
    pub fn spread_one(&mut self, one: u32, ones: u32) {
        assert!((one + ones) as usize <= MAX_TABLE);
        for (i, lanes) in self.entries.iter_mut().enumerate() {
            for (l, k) in lanes.iter_mut().enumerate() {
                if u32::from(*k) == one {
                    *k = (one + (i * LANES + l) as u32 % ones) as u16;
                }
            }
        }
        self.max_entry = self.max_entry.max(one + ones - 1);
    }
}

/// Buffers reused across batches.
#[derive(Clone, Debug, Default)]
pub struct LaneWorkspace {
    inside: Vec<[f64; LANES]>,
    outside: Vec<[f64; LANES]>,
    /// Every hyperedge's weight: the shape's constant where it draws nothing (written when
    /// the shape changes), else computed per batch.
    weight: Vec<[f64; LANES]>,
    /// The shape whose constants `weight` holds.
    weights_of: Option<u64>,
    /// The masses of the hyperedges that draw something, after a slot for the others.
    mass: Vec<[f64; LANES]>,
}

/// What counting a batch gave for one lane.
#[derive(Clone, Copy, Debug, PartialEq)]
pub enum Lane {
    /// Counted in probability space: the line's log-probability.
    Counted { log_z: f64 },
    /// Not counted: masked by the caller.
    Skipped,
    /// Not counted: the line's probability is out of range; count it alone in log space.
    OutOfRange,
    /// Some of the lane's counts were added and a posterior overflowed: as
    /// [`super::binary::Line::Overflow`], the caller throws the counts away.
    Overflow,
}

/// Adds each counted lane's posterior mass, times its `line_weight`, to the expected count of
/// both entries of each hyperedge. `count[l]` false masks lane `l` (a padding lane, or a line
/// the caller counts in log space). `theta` and `expected` are indexed by the batch's entries.
pub fn count_batch(
    shape: &Shape,
    batch: &Batch,
    theta: &[f64],
    line_weight: [f64; LANES],
    count: [bool; LANES],
    ws: &mut LaneWorkspace,
    expected: &mut [f64],
) -> [Lane; LANES] {
    assert!(
        theta.len() > batch.max_entry as usize
            && expected.len() > batch.max_entry as usize
            && batch.entries.len() == shape.stored(),
        "the tables cover every entry of the batch"
    );
    // The inside pass writes every inside value before it is read, so that buffer is only
    // grown (clearing the buffers cost an eighth of the DMV's iteration); outside values are
    // sums, and start at zero.
    let nodes = shape.nodes();
    if ws.inside.len() < nodes {
        ws.inside.resize(nodes, [0.0; LANES]);
    }
    if ws.weights_of != Some(shape.id) {
        ws.weight.clear();
        ws.weight.extend(shape.weight.iter().map(|c| [*c; LANES]));
        ws.weights_of = Some(shape.id);
    }
    ws.outside.clear();
    ws.outside.resize(nodes, [0.0; LANES]);
    let masses = 1 + shape.singles.len() + shape.pairs.len();
    if ws.mass.len() < masses {
        ws.mass.resize(masses, [0.0; LANES]);
    }
    // SAFETY: the buffers have the shape's sizes, every tail of a `Binary` (and so of its
    // shape) comes before its head, and every entry is at most `max_entry`, checked above.
    let z = unsafe { dispatch_inside(shape, batch, theta, ws) };
    let mut start = [0.0; LANES];
    let mut out = [Lane::Skipped; LANES];
    for l in 0..LANES {
        if !count[l] {
            continue;
        }
        if (LOW..=HIGH).contains(&z[l]) {
            start[l] = line_weight[l] / z[l];
            out[l] = Lane::Counted { log_z: z[l].ln() };
        } else {
            out[l] = Lane::OutOfRange;
        }
    }
    let mask = out.map(|o| match o {
        Lane::Counted { .. } => u64::MAX,
        _ => 0,
    });
    if mask.iter().all(|m| *m == 0) {
        return out;
    }
    // SAFETY: as above.
    let finite = unsafe { dispatch_outside(shape, batch, start, mask, ws, expected) };
    for l in 0..LANES {
        if !finite[l] {
            out[l] = Lane::Overflow;
        }
    }
    out
}

/// The passes compiled for AVX2 where the processor has it (four lanes in a register),
/// else for the baseline (two lanes in a register). Neither uses fused multiply-adds, so
/// both give the same bits.
unsafe fn dispatch_inside(
    shape: &Shape,
    batch: &Batch,
    theta: &[f64],
    ws: &mut LaneWorkspace,
) -> [f64; LANES] {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        return inside_avx2(shape, batch, theta, ws);
    }
    inside(shape, batch, theta, ws)
}

unsafe fn dispatch_outside(
    shape: &Shape,
    batch: &Batch,
    start: [f64; LANES],
    mask: [u64; LANES],
    ws: &mut LaneWorkspace,
    expected: &mut [f64],
) -> [bool; LANES] {
    #[cfg(target_arch = "x86_64")]
    if is_x86_feature_detected!("avx2") {
        return outside_avx2(shape, batch, start, mask, ws, expected);
    }
    outside(shape, batch, start, mask, ws, expected)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn inside_avx2(
    shape: &Shape,
    batch: &Batch,
    theta: &[f64],
    ws: &mut LaneWorkspace,
) -> [f64; LANES] {
    inside(shape, batch, theta, ws)
}

#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx2")]
unsafe fn outside_avx2(
    shape: &Shape,
    batch: &Batch,
    start: [f64; LANES],
    mask: [u64; LANES],
    ws: &mut LaneWorkspace,
    expected: &mut [f64],
) -> [bool; LANES] {
    outside(shape, batch, start, mask, ws, expected)
}

/// Inside values of every lane (and each hyperedge's weight), as
/// [`super::binary::count_line`]'s probability-space pass per lane; returns the goal's.
#[inline(always)]
unsafe fn inside(
    shape: &Shape,
    batch: &Batch,
    theta: &[f64],
    ws: &mut LaneWorkspace,
) -> [f64; LANES] {
    let look = |k: &[u16; LANES]| k.map(|k| *theta.get_unchecked(usize::from(k)));
    let weight = &mut ws.weight;
    let (singles, pairs) = batch.entries.split_at(shape.singles.len());
    for (e, a) in shape.singles.iter().zip(singles) {
        let (c, a) = (*shape.weight.get_unchecked(*e as usize), look(a));
        *weight.get_unchecked_mut(*e as usize) = a.map(|a| c * a);
    }
    for (e, ab) in shape.pairs.iter().zip(pairs.chunks_exact(2)) {
        let c = *shape.weight.get_unchecked(*e as usize);
        let (a, b) = (look(&ab[0]), look(&ab[1]));
        *weight.get_unchecked_mut(*e as usize) = std::array::from_fn(|l| c * a[l] * b[l]);
    }
    let inside = &mut ws.inside[..shape.nodes()];
    for v in &shape.empty {
        *inside.get_unchecked_mut(*v as usize) = [0.0; LANES];
    }
    inside[ONE as usize] = [1.0; LANES];
    let mut sum = [0.0f64; LANES];
    for (e, &[t, u, head, first]) in shape.edges.iter().enumerate() {
        let w = *weight.get_unchecked(e);
        let (it, iu) = (
            *inside.get_unchecked(t as usize),
            *inside.get_unchecked(u as usize),
        );
        // All ones, or zero at a node's first hyperedge.
        let restart = u64::from(first >> 31).wrapping_sub(1);
        for l in 0..LANES {
            sum[l] = f64::from_bits(sum[l].to_bits() & restart);
            sum[l] += w[l] * it[l] * iu[l];
        }
        *inside.get_unchecked_mut(head as usize) = sum;
    }
    inside[shape.nodes() - 1]
}

/// `outside / Z` pushed down from the goal (`start`: each lane's weight over its Z) and each
/// hyperedge's posterior mass added to its entries, lanes whose `mask` is 0 masked out of
/// the counts; per lane, whether every mass counted was finite.
///
/// The pass over every hyperedge puts each mass where [`Shape::edges`] says (the masses of
/// hyperedges that draw nothing all in one slot nobody reads, so the loop has no branch),
/// and the counts are added from there. Only counted masses are checked: an outside value
/// that overflowed leaves a mass not finite on every hyperedge below it, so counts it
/// would spoil are caught, and a region with nothing to count spoils nothing.
#[inline(always)]
unsafe fn outside(
    shape: &Shape,
    batch: &Batch,
    start: [f64; LANES],
    mask: [u64; LANES],
    ws: &mut LaneWorkspace,
    expected: &mut [f64],
) -> [bool; LANES] {
    let (inside, weight) = (&ws.inside[..shape.nodes()], &ws.weight);
    let (outside, mass) = (&mut ws.outside, &mut ws.mass);
    outside[shape.nodes() - 1] = start;
    for (e, &[t, u, head, at]) in shape.edges.iter().enumerate().rev() {
        let (t, u) = (t as usize, u as usize);
        let o = *outside.get_unchecked(head as usize);
        let w = *weight.get_unchecked(e);
        let (it, iu) = (*inside.get_unchecked(t), *inside.get_unchecked(u));
        let b: [f64; LANES] = std::array::from_fn(|l| o[l] * w[l]);
        *mass.get_unchecked_mut((at & !FIRST) as usize) =
            std::array::from_fn(|l| b[l] * it[l] * iu[l]);
        let ot = outside.get_unchecked_mut(t);
        for l in 0..LANES {
            ot[l] += b[l] * iu[l];
        }
        let ou = outside.get_unchecked_mut(u);
        for l in 0..LANES {
            ou[l] += b[l] * it[l];
        }
    }
    let mut finite = [true; LANES];
    let mut add = |k: &[u16; LANES], p: &[f64; LANES]| {
        for l in 0..LANES {
            *expected.get_unchecked_mut(usize::from(k[l])) += p[l];
        }
    };
    let mut masses = mass[1..].iter().map(|p| {
        std::array::from_fn(|l| {
            // A masked lane's inside values may be infinite (its Z was out of range): its
            // mass is cleared by bits, since 0 times infinity is NaN.
            let p = f64::from_bits(p[l].to_bits() & mask[l]);
            finite[l] &= p < f64::INFINITY;
            p
        })
    });
    // Slots holding the entry of value 1 are not counted: nobody reads its count.
    let (singles, pairs) = batch.entries.split_at(shape.singles.len());
    for a in singles {
        add(a, &masses.next().unwrap_unchecked());
    }
    for ab in pairs.chunks_exact(2) {
        let p = masses.next().unwrap_unchecked();
        add(&ab[0], &p);
        add(&ab[1], &p);
    }
    drop(masses);
    finite
}
