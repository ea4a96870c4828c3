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
//! Each lane computes exactly what [`super::binary::count_line`] computes for its line, in
//! the same order (no fused multiply-adds), so a lane's inside values, log-probability and
//! posteriors are the same bits as the line's alone; what differs is the order in which
//! posteriors reach an entry's count (per node, for an entry every hyperedge of the node
//! draws: [`Batch`]'s `same`). Lanes out of the probability-space range are masked and
//! left to the caller, which counts them alone in log space ([`Batch::line`]).

use super::binary::{Binary, Edge, HIGH, LOW, ONE};
use std::hash::{Hash, Hasher};

/// Lines per batch: one AVX vector of f64. (Eight, as two vectors, measured slower on the
/// DMV: the compiler splits arrays of eight into odd pieces.)
pub const LANES: usize = 4;

/// What lines of one shape share: a [`Binary`] without its entries, and which of its nodes
/// draw nothing.
#[derive(Clone, Debug, PartialEq)]
pub struct Shape {
    node_edges: Vec<u32>,
    tails: Vec<[u32; 2]>,
    /// Per hyperedge; compared by bits, so lines whose constants differ do not share.
    weight: Vec<f64>,
    log_const: Vec<f64>,
    /// Per node, how many of its hyperedges' two entry slots hold more than the entry of
    /// value 1 in some hyperedge (see [`kinds`]): a slot that never does costs no gather
    /// and no count. Most hyperedges draw one parameter or none (a choice among splits, a
    /// word and the rest of the utterance).
    kind: Vec<u8>,
}

impl Shape {
    /// The shape of `g`, whose entry `one` has the value 1.
    pub fn of(g: &Binary, one: u32) -> Shape {
        Shape {
            node_edges: g.node_edges.clone(),
            tails: g.edges.iter().map(|e| e.tails).collect(),
            weight: g.edges.iter().map(|e| e.weight).collect(),
            log_const: g.log_const.clone(),
            kind: kinds(g, one).collect(),
        }
    }

    /// Whether `g` has this shape.
    pub fn fits(&self, g: &Binary, one: u32) -> bool {
        self.node_edges == g.node_edges
            && self.log_const.len() == g.log_const.len()
            && (self.log_const.iter().zip(&g.log_const)).all(|(a, b)| a.to_bits() == b.to_bits())
            && self.tails.len() == g.edges.len()
            && (self.tails.iter().zip(&self.weight).zip(&g.edges))
                .all(|((t, w), e)| *t == e.tails && w.to_bits() == e.weight.to_bits())
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
        self.tails.len()
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

/// Up to [`LANES`] lines of one shape: per hyperedge, its two entries in every lane, as
/// indices into a local table of at most 2^16 entries. Lanes past the real lines repeat
/// lane 0's entries (their counts are masked).
///
/// Why 16 bits: a batch's entries are the only per-line data an iteration streams from
/// memory (the shape is shared and stays in cache), and for the DMV on sentences of up to
/// 15 tokens they are 50 MB at 32 bits, more than any cache; halving them halves the
/// traffic that bounds the E-step there.
#[derive(Clone, Debug, PartialEq)]
pub struct Batch {
    entries: Vec<[[u16; LANES]; 2]>,
    /// Per node: its hyperedges' first entries are one entry in each lane (an arc's
    /// parameter, drawn with each of the ways to split what is under it), so their counts
    /// are summed per node and added once.
    same: Vec<bool>,
    max_entry: u32,
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
        let mut max_entry = 0;
        let entries = (0..shape.edges())
            .map(|e| {
                [0, 1].map(|slot| {
                    std::array::from_fn(|l| {
                        let k = rename(lane(l).edges[e].entries[slot]);
                        max_entry = max_entry.max(k);
                        u16::try_from(k).expect("local tables of batches fit 16 bits")
                    })
                })
            })
            .collect::<Vec<_>>();
        let same: Vec<bool> = (shape.node_edges.windows(2))
            .map(|w| {
                let edges = &entries[w[0] as usize..w[1] as usize];
                edges.len() > 1 && edges.iter().all(|e| e[0] == edges[0][0])
            })
            .collect();
        Batch {
            entries,
            same,
            max_entry,
        }
    }

    /// Lane `lane`'s line on its own (in the local numbering), for the log-space pass.
    pub fn line(&self, shape: &Shape, lane: usize) -> Binary {
        Binary {
            node_edges: shape.node_edges.clone(),
            edges: (shape.tails.iter().zip(&shape.weight).zip(&self.entries))
                .map(|((tails, weight), entries)| Edge {
                    tails: *tails,
                    entries: entries.map(|slot| u32::from(slot[lane])),
                    weight: *weight,
                })
                .collect(),
            log_const: shape.log_const.clone(),
            max_entry: self.max_entry,
        }
    }

    /// As [`Binary::spread_one`], by hyperedge, lane and slot in the order the outside pass
    /// adds them; `one + ones` must be at most [`MAX_TABLE`].
    pub fn spread_one(&mut self, one: u32, ones: u32) {
        assert!((one + ones) as usize <= MAX_TABLE);
        for (e, slots) in self.entries.iter_mut().enumerate() {
            for (s, lanes) in slots.iter_mut().enumerate() {
                for (l, k) in lanes.iter_mut().enumerate() {
                    if u32::from(*k) == one {
                        *k = (one + ((e * LANES + l) * 2 + s) as u32 % ones) as u16;
                    }
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
    weight: Vec<[f64; LANES]>,
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
            && batch.entries.len() == shape.edges(),
        "the tables cover every entry of the batch"
    );
    ws.inside.clear();
    ws.inside.resize(shape.nodes(), [0.0; LANES]);
    ws.outside.clear();
    ws.outside.resize(shape.nodes(), [0.0; LANES]);
    ws.weight.clear();
    ws.weight.resize(shape.edges(), [0.0; LANES]);
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

/// The passes compiled for AVX2 where the processor has it (four lanes in one register),
/// else for the baseline (two registers). Neither uses fused multiply-adds, so both give the
/// same bits.
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
    let (inside, weight) = (&mut ws.inside, &mut ws.weight);
    inside[ONE as usize] = [1.0; LANES];
    for v in 1..shape.nodes() {
        let edges = shape.node_edges[v] as usize..shape.node_edges[v + 1] as usize;
        let sum = match *shape.kind.get_unchecked(v) {
            0 => inside_node::<false, false>(shape, batch, theta, edges, inside, weight),
            1 => inside_node::<true, false>(shape, batch, theta, edges, inside, weight),
            _ => inside_node::<true, true>(shape, batch, theta, edges, inside, weight),
        };
        *inside.get_unchecked_mut(v) = sum;
    }
    inside[shape.nodes() - 1]
}

/// One node's inside value; `A` / `B`: whether the hyperedges' first / second entry slots
/// hold parameters (else the entry of value 1, whose product is the same bits left out).
#[inline(always)]
unsafe fn inside_node<const A: bool, const B: bool>(
    shape: &Shape,
    batch: &Batch,
    theta: &[f64],
    edges: std::ops::Range<usize>,
    inside: &[[f64; LANES]],
    weight: &mut [[f64; LANES]],
) -> [f64; LANES] {
    let mut sum = [0.0; LANES];
    for e in edges {
        let [a, b] = batch.entries.get_unchecked(e);
        let c = *shape.weight.get_unchecked(e);
        let [t, u] = shape.tails.get_unchecked(e).map(|t| t as usize);
        let (it, iu) = (*inside.get_unchecked(t), *inside.get_unchecked(u));
        let mut w = [c; LANES];
        for l in 0..LANES {
            if A {
                w[l] *= theta.get_unchecked(usize::from(a[l]));
            }
            if B {
                w[l] *= theta.get_unchecked(usize::from(b[l]));
            }
            sum[l] += w[l] * it[l] * iu[l];
        }
        // A node drawing nothing has the constant as its weight, which the outside pass
        // reads from the shape.
        if A || B {
            *weight.get_unchecked_mut(e) = w;
        }
    }
    sum
}

/// `outside / Z` pushed down from the goal (`start`: each lane's weight over its Z) and each
/// hyperedge's posterior mass added to its entries, lanes whose `mask` is 0 masked out of
/// the counts; per lane, whether every mass counted was finite.
#[inline(always)]
unsafe fn outside(
    shape: &Shape,
    batch: &Batch,
    start: [f64; LANES],
    mask: [u64; LANES],
    ws: &mut LaneWorkspace,
    expected: &mut [f64],
) -> [bool; LANES] {
    let (inside, weight, outside) = (&ws.inside, &ws.weight, &mut ws.outside);
    outside[shape.nodes() - 1] = start;
    let mut finite = [true; LANES];
    for v in (1..shape.nodes()).rev() {
        let o = *outside.get_unchecked(v);
        if o == [0.0; LANES] {
            continue;
        }
        let edges = shape.node_edges[v] as usize..shape.node_edges[v + 1] as usize;
        let same = *batch.same.get_unchecked(v);
        let (b, ws) = ((shape, batch), (inside.as_slice(), weight.as_slice()));
        let f = match (*shape.kind.get_unchecked(v), same) {
            (0, _) => outside_node::<0, false>(b, ws, edges, o, mask, outside, expected),
            (1, false) => outside_node::<1, false>(b, ws, edges, o, mask, outside, expected),
            (1, true) => outside_node::<1, true>(b, ws, edges, o, mask, outside, expected),
            (_, false) => outside_node::<2, false>(b, ws, edges, o, mask, outside, expected),
            (_, true) => outside_node::<2, true>(b, ws, edges, o, mask, outside, expected),
        };
        for l in 0..LANES {
            finite[l] &= f[l];
        }
    }
    finite
}

/// One node's hyperedges in the outside pass: `K` entry slots hold parameters (see
/// [`Shape::kind`]); `SAME`: the first slot's entry is the same in every hyperedge, so its
/// count is summed and added once. Returns, per lane, whether every mass was finite.
#[inline(always)]
unsafe fn outside_node<const K: u8, const SAME: bool>(
    (shape, batch): (&Shape, &Batch),
    (inside, weight): (&[[f64; LANES]], &[[f64; LANES]]),
    edges: std::ops::Range<usize>,
    o: [f64; LANES],
    mask: [u64; LANES],
    outside: &mut [[f64; LANES]],
    expected: &mut [f64],
) -> [bool; LANES] {
    let first = edges.start;
    // The node's mass per lane: added once for a first slot that is the same entry, and
    // infinite or NaN when some hyperedge's was (masses are at most the line's uses of a
    // node, so a finite sum of finite masses cannot overflow).
    let mut total = [0.0; LANES];
    for e in edges {
        let [t, u] = shape.tails.get_unchecked(e).map(|t| t as usize);
        let w = match K {
            0 => [*shape.weight.get_unchecked(e); LANES],
            _ => *weight.get_unchecked(e),
        };
        let (it, iu) = (*inside.get_unchecked(t), *inside.get_unchecked(u));
        let mut b = [0.0; LANES];
        let mut p = [0.0; LANES];
        for l in 0..LANES {
            b[l] = o[l] * w[l];
            // A masked lane's inside values may be infinite (its Z was out of range): its
            // mass is cleared by bits, since 0 times infinity is NaN.
            p[l] = f64::from_bits((b[l] * it[l] * iu[l]).to_bits() & mask[l]);
            total[l] += p[l];
        }
        let ot = outside.get_unchecked_mut(t);
        for l in 0..LANES {
            ot[l] += b[l] * iu[l];
        }
        let ou = outside.get_unchecked_mut(u);
        for l in 0..LANES {
            ou[l] += b[l] * it[l];
        }
        // Slots holding the entry of value 1 are not counted: nobody reads its count.
        let [a, c] = batch.entries.get_unchecked(e);
        for l in 0..LANES {
            if K >= 1 && !SAME {
                *expected.get_unchecked_mut(usize::from(a[l])) += p[l];
            }
            if K == 2 {
                *expected.get_unchecked_mut(usize::from(c[l])) += p[l];
            }
        }
    }
    if K >= 1 && SAME {
        let a = batch.entries.get_unchecked(first)[0];
        for l in 0..LANES {
            *expected.get_unchecked_mut(usize::from(a[l])) += total[l];
        }
    }
    total.map(|t| t < f64::INFINITY)
}
